#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: build the module and the test driver against Debian's 6.12
# headers, boot Debian's own 6.12 kernel under QEMU with them, run
# spr_workload's demo in the guest, and print a short report of what the
# guest measured: pages used, made available, reclaimed under memory
# pressure, bytes verified, the time taken, and the module's debugfs view.
#
# On a fresh Debian 12 machine it installs what it needs with apt-get;
# everything it downloads or builds is cached under $SPR_CACHE. The guest's
# serial log is $SPR_CACHE/logs/qemu-demo.log. Exits non-zero when the
# guest did not finish cleanly or any check failed.

set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"

LOGS=$SPR_CACHE/logs
LOG=$LOGS/qemu-demo.log
MEM=512
# The report's figures: a label and the SPR-METRIC key of spr_workload
# (tests/user/spr_workload.c) that holds it.
FIGURES=(
	"pages used (made resident)|workload_pages_used"
	"pages made available (stopped)|workload_pages_made_available"
	"reclaimed by drop_caches|workload_p1_pages_reclaimed"
	"reclaimed under memory pressure|workload_p2_pages_reclaimed"
	"memory hog that caused it (MiB)|workload_hog_mib"
	"bytes verified|workload_bytes_verified"
	"guest elapsed (ms)|workload_elapsed_ms"
)

# The last value of SPR-METRIC $1 in the log, or "n/a".
metric() {
	local value
	value=$(sed -n "s/.*SPR-METRIC $1 \(-\{0,1\}[0-9][0-9]*\).*/\1/p" \
		"$LOG" | tail -n 1)
	echo "${value:-n/a}"
}

report() {
	local f key value host=$1 boot=$2
	printf '\nshrinkable_page_range on Debian %s (QEMU TCG, 2 vCPUs, %s MiB)\n' \
		"$SPR_GUEST_KVER" "$MEM"
	grep -ao 'SPR-RUN .*' "$LOG" | sed 's/^SPR-RUN /  ran: /'
	for f in "${FIGURES[@]}"; do
		key=${f#*|}
		value=$(metric "$key")
		case $key in
		*bytes*) [ "$value" = n/a ] || value=$(awk -v b="$value" \
			'BEGIN { printf "%d (%.1f MiB)", b, b / 1048576 }') ;;
		esac
		printf '  %-34s %s\n' "${f%%|*}:" "$value"
	done
	printf '  %-34s %s s (QEMU: %s s, of which boot %s ms)\n' \
		"host wall time:" "$host" "$boot" "$(metric guest_boot_ms)"
	echo "debugfs (/sys/kernel/debug/shrinkable_page_range/) at the end:"
	grep -ao 'SPR-DEBUGFS.*' "$LOG" | sed 's/^SPR-DEBUGFS /  /' |
		grep . || echo "  (the guest printed no SPR-DEBUGFS line)"
	echo "every figure: grep SPR-METRIC $LOG"
}

start=$(date +%s.%N)
mkdir -p "$LOGS"
spr_guest_deps
spr_guest_kernel
spr_guest_modules
initrd=$SPR_BUILD/initramfs-demo.cpio.gz
spr_guest_initramfs "$initrd"
spr_log "booting Debian's $SPR_GUEST_KVER under QEMU (demo)"
spr_guest_boot "$initrd" "$LOG" 300 "$MEM" spr.mode=demo
boot_status=$?
checks=$(python3 "$SPR_REPO/scripts/check_guest_log.py" --quiet \
	--label demo "$LOG")
check_status=$?
host=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
report "$host" "$SPR_GUEST_BOOT_SECONDS"
# The failures, with their context; the counts close the report.
printf '%s\n' "$checks" | sed '$d'
read -r passed failed <<<"$(printf '%s\n' "$checks" | tail -n 1)"
echo "checks: ${passed:-0} passed, ${failed:-0} failed (log: $LOG)"
[ "$boot_status" -eq 0 ] && [ "$check_status" -eq 0 ]
