#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# binder side by side: Debian's own binder_linux.ko against binder ported
# onto the module (binder/*.patch), on Debian's 6.12 kernel under QEMU, in
# the same boot. The port is built in Debian's own configuration (no
# binderfs, no allocator selftest) as binder_spr.ko, whose device is
# /dev/binder_spr, and is loaded beside Debian's module, whose device is
# /dev/binder. So the two drivers differ only in the allocator, and they
# share the boot, the memory and the host.
#
# Each boot runs PAIRS pairs of tests/binder/binder_traffic's benchmark
# (-b: ping-pong of 64 B, 4 KiB and 256 KiB payloads, a third of S seconds
# each), one on each device, stock first in odd pairs and patched first in
# even ones, so that a host that drifts over a pair favours neither. Then
# its memory run (-M 256: kernel memory per binder_proc with 4 MiB mapped)
# on each. A pair is a round of scripts/binder_compare.py, which prints the
# medians and the median of the rounds' own ratios.
#
# With --alternate, each run alternates between the two drivers instead
# (binder_traffic -b -A): two servers, one client thread, and each size's
# third cut into rounds of a 100 ms slice on each device, the first
# slice's driver swapped from round to round; -d is stock in odd runs and
# patched in even ones. scripts/binder_alternate.py pools the rounds'
# ratios of every boot. A host stall or drift longer than a slice then
# costs both drivers alike, where a pair's runs are seconds apart.
#
# With --icount, QEMU runs with -icount shift=0,sleep=off: the guest's clock
# advances 1 ns per instruction executed and skips idle time, so a rate per
# guest second measures the instructions that a transaction costs, whatever
# the host's speed. Without it, rates are in real time.
#
#   scripts/binder_bench.sh [--boots N (4)] [--pairs K (8)] [--seconds S (15)]
#                           [--alternate] [--icount] [--markdown]
#
# With --alternate, K is the number of runs in a boot.
#
# Figures: $SPR_CACHE/logs/binder-bench.json; logs:
# $SPR_CACHE/logs/binder-bench-N.log, split into one file a run,
# binder-bench-N-{patched,stock}-M.log. Nothing here asserts a speed; it
# fails only when a boot or a check failed.

set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"
source "$(dirname "${BASH_SOURCE[0]}")/binder.sh"

LOGS=$SPR_CACHE/logs
usage="usage: scripts/binder_bench.sh [--boots N] [--pairs K (1-12)] [--seconds S] [--alternate] [--icount] [--markdown]"
boots=4
pairs=8
seconds=15
alternate=
compare_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--boots) boots=$2; shift ;;
	--pairs) pairs=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--markdown) compare_args+=(--markdown) ;;
	--alternate) alternate=1 ;;
	--icount) SPR_GUEST_QEMU_ARGS=(-icount shift=0,sleep=off) ;;
	*) spr_die "$usage" ;;
	esac
	shift
done
# The runs go on the kernel command line, which holds 2047 bytes.
[[ $boots =~ ^[1-9][0-9]*$ && $pairs =~ ^([1-9]|1[0-2])$ &&
   $seconds =~ ^[1-9][0-9]*$ ]] || spr_die "$usage"

mkdir -p "$LOGS"
spr_guest_deps
spr_kernel_source
spr_guest_kernel
spr_guest_modules
spr_binder_module
spr_binder_side_module
mapfile -t programs < <(spr_binder_programs)
initrd=$SPR_BUILD/initramfs-binder-bench.cpio.gz
spr_binder_both_initramfs "$initrd" "${programs[@]}"

bench=binder_traffic:-b:-t:$seconds:
memory=binder_traffic:-M:256:
boot_logs=()
what="pairs of runs"
[ -z "$alternate" ] || what="alternating runs"
patched_logs=()
stock_logs=()
status=0
rm -f "$LOGS"/binder-bench-*.log
for ((b = 1, p = 1; b <= boots; b++)); do
	run=
	for ((i = 1; i <= pairs; i++, p++)); do
		order="-d:/dev/binder $SPR_BINDER_SIDE_RUN"
		((p % 2)) || order="$SPR_BINDER_SIDE_RUN -d:/dev/binder"
		if [ -n "$alternate" ]; then
			order=-d:/dev/binder:$SPR_BINDER_SIDE_ALT
			((p % 2)) || order=$SPR_BINDER_SIDE_RUN:$SPR_BINDER_STOCK_ALT
		fi
		for args in $order; do
			run+=${run:+,}$bench$args
		done
	done
	run+=,$memory-d:/dev/binder,$memory$SPR_BINDER_SIDE_RUN
	log=$LOGS/binder-bench-$b.log
	boot_logs+=("$log")
	spr_log "boot $b of $boots: $pairs $what of stock and patched binder"
	spr_guest_boot "$initrd" "$log" $((pairs * 2 * (seconds + 60) + 300)) \
		512 "spr.keep=$SPR_BINDER_BOTH_KEEP" \
		"spr.run=$run" || status=1
	python3 "$SPR_REPO/scripts/check_guest_log.py" --quiet \
		--label "bench-$b" "$log" | sed '$d' || status=1
	[ -n "$alternate" ] && continue
	spr_binder_split_log "$log" "${log%.log}"
	# A boot that died has fewer runs; binder_compare.py pairs what there is.
	for ((i = 1; i <= pairs + 1; i++)); do
		f=${log%.log}-patched-$i.log
		[ -f "$f" ] && patched_logs+=("$f")
		f=${log%.log}-stock-$i.log
		[ -f "$f" ] && stock_logs+=("$f")
	done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
setup="$(date -u +%F), host: ${cpu:-unknown CPU}, $(nproc) cores; guest: Debian $SPR_GUEST_KVER, QEMU TCG${SPR_GUEST_QEMU_ARGS[*]:+ ${SPR_GUEST_QEMU_ARGS[*]}}, -smp 2, 512 MiB"
if [ -n "$alternate" ]; then
	echo "binder alternating: $setup; $boots boots, each with both drivers and $pairs alternating runs of $seconds s; the rounds' ratios, pooled"
	python3 "$SPR_REPO/scripts/binder_alternate.py" "${compare_args[@]}" \
		--patched "$SPR_BINDER_SIDE_DEV" \
		--json "$LOGS/binder-alternate.json" "${boot_logs[@]}" |
		grep -v '^PASS' | sed '$d' || status=1
	exit $status
fi
echo "binder side by side: $setup; $boots boots, each with both drivers and $pairs pairs of runs of $seconds s; medians, and the median of the pairs' ratios"
python3 "$SPR_REPO/scripts/binder_compare.py" "${compare_args[@]}" \
	--json "$LOGS/binder-bench.json" \
	"$(IFS=,; echo "${patched_logs[*]}")" \
	"$(IFS=,; echo "${stock_logs[*]}")" | sed '$d' || status=1
exit $status
