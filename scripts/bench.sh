#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark: build the module and tests/spr_bench.c against Debian's
# 6.12 headers, boot Debian's own 6.12 kernel under QEMU (TCG, -smp 2,
# 512 MiB) with them, run tests/user/spr_bench in the guest, and print the
# table of scripts/bench_report.py: each path of the module against its
# floor measured in the same run, page-at-a-time against batched, and the
# metadata of a 4 MiB range. Every figure, ratios included, goes to
# $SPR_CACHE/logs/bench.json; the guest's log is $SPR_CACHE/logs/bench.log.
#
#   scripts/bench.sh [--quick] [--rounds N] [--markdown]
#
# --quick is the short form that scripts/qemu_test.sh also runs (3 rounds).
# Nothing here asserts anything about time; the run fails only when the
# guest or a case failed.

set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"

LOGS=$SPR_CACHE/logs
LOG=$LOGS/bench.log
JSON=$LOGS/bench.json
MEM=512
rounds=15
report_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=3 ;;
	--rounds) rounds=$2; shift ;;
	--markdown) report_args+=(--markdown) ;;
	*) spr_die "usage: scripts/bench.sh [--quick] [--rounds N] [--markdown]" ;;
	esac
	shift
done

mkdir -p "$LOGS"
spr_guest_deps
spr_guest_kernel
spr_guest_modules
initrd=$SPR_BUILD/initramfs-bench.cpio.gz
spr_guest_initramfs "$initrd"
spr_log "booting Debian's $SPR_GUEST_KVER under QEMU: spr_bench, $rounds rounds"
spr_guest_boot "$initrd" "$LOG" 900 "$MEM" spr.timeout=840 \
	"spr.run=spr_bench:-r:$rounds"
boot_status=$?
checks=$(python3 "$SPR_REPO/scripts/check_guest_log.py" --quiet \
	--label bench "$LOG")
check_status=$?

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine="$(date -u +%F), host: ${cpu:-unknown CPU}, $(nproc) cores; guest: Debian $SPR_GUEST_KVER, QEMU TCG (no KVM), -smp 2, $MEM MiB; $rounds rounds per case, median"
echo "spr_bench: $machine"
python3 "$SPR_REPO/scripts/bench_report.py" --json "$JSON" \
	--machine "$machine" "${report_args[@]}" "$LOG"
report_status=$?
printf '%s\n' "$checks" | sed '$d'
read -r passed failed <<<"$(printf '%s\n' "$checks" | tail -n 1)"
echo "checks: ${passed:-0} passed, ${failed:-0} failed (log: $LOG, figures: $JSON)"
[ "$boot_status" -eq 0 ] && [ "$check_status" -eq 0 ] &&
	[ "$report_status" -eq 0 ]
