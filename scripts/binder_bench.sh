#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# binder side by side: Debian's own binder_linux.ko against binder ported
# onto the module (binder/*.patch), on Debian's 6.12 kernel under QEMU.
# Boots the two drivers in turn, ROUNDS times each, each boot running
# tests/binder/binder_traffic's benchmark (-b: ping-pong of 64 B, 4 KiB and
# 256 KiB payloads) and its memory run (-M 256: kernel memory per binder_proc
# with 4 MiB mapped), and prints the medians and the per-round ratios with
# scripts/binder_compare.py. Each round is one boot of each driver, stock
# first in odd rounds and patched first in even ones, so that a host that
# drifts over a round favours neither.
#
#   scripts/binder_bench.sh [--rounds N] [--seconds S] [--markdown]
#
# Figures: $SPR_CACHE/logs/binder-bench.json; logs:
# $SPR_CACHE/logs/binder-bench-{patched,stock}-N.log. Nothing here asserts
# a speed; it fails only when a boot or a check failed.

set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"
source "$(dirname "${BASH_SOURCE[0]}")/binder.sh"

LOGS=$SPR_CACHE/logs
rounds=3
seconds=30
compare_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--markdown) compare_args+=(--markdown) ;;
	*) spr_die "usage: scripts/binder_bench.sh [--rounds N] [--seconds S] [--markdown]" ;;
	esac
	shift
done

mkdir -p "$LOGS"
spr_guest_deps
spr_kernel_source
spr_guest_kernel
spr_guest_modules
spr_binder_module
mapfile -t programs < <(spr_binder_programs)
SPR_GUEST_KOS=("$SPR_BUILD/guest-mod/shrinkable-page-range.ko" "$SPR_BINDER_KO")
spr_guest_initramfs "$SPR_BUILD/initramfs-binder.cpio.gz" "${programs[@]}"
SPR_GUEST_KOS=("$SPR_BINDER_STOCK_KO")
spr_guest_initramfs "$SPR_BUILD/initramfs-binder-stock.cpio.gz" "${programs[@]}"

dev=/dev/binderfs/binder
patched_logs=()
stock_logs=()
status=0
for ((i = 1; i <= rounds; i++)); do
	order="stock patched"
	((i % 2)) || order="patched stock"
	for driver in $order; do
		log=$LOGS/binder-bench-$driver-$i.log
		if [ "$driver" = stock ]; then
			initrd=$SPR_BUILD/initramfs-binder-stock.cpio.gz
			run="binder_traffic:-b:-t:$seconds,binder_traffic:-M:256"
			stock_logs+=("$log")
		else
			initrd=$SPR_BUILD/initramfs-binder.cpio.gz
			# The allocator selftest runs on the first binder
			# ioctl; on a small mapping first, not inside the
			# benchmark's.
			run="binder_selftest_trigger:-s:65536,binder_traffic:-b:-t:$seconds:-m:-d:$dev,binder_traffic:-M:256:-d:$dev"
			patched_logs+=("$log")
		fi
		spr_log "round $i of $rounds: $driver binder"
		spr_guest_boot "$initrd" "$log" $((seconds * 4 + 300)) 512 \
			spr.keep=binder_linux,shrinkable_page_range "spr.run=$run" ||
			status=1
		python3 "$SPR_REPO/scripts/check_guest_log.py" --quiet \
			--label "$driver-$i" "$log" | sed '$d' || status=1
	done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "binder side by side: $(date -u +%F), host: ${cpu:-unknown CPU}, $(nproc) cores; guest: Debian $SPR_GUEST_KVER, QEMU TCG, -smp 2, 512 MiB; $rounds rounds of one boot per driver, $seconds s of benchmark each; medians, and the median of the rounds' ratios"
python3 "$SPR_REPO/scripts/binder_compare.py" "${compare_args[@]}" \
	--json "$LOGS/binder-bench.json" \
	"$(IFS=,; echo "${patched_logs[*]}")" \
	"$(IFS=,; echo "${stock_logs[*]}")" | sed '$d' || status=1
exit $status
