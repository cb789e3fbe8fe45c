#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The real-kernel test: build the module and the test driver against
# Debian's 6.12 headers, boot Debian's own 6.12 kernel under QEMU (TCG) with
# them in an initramfs, run the test programs in the guest, and check what
# the guest printed (scripts/check_guest_log.py):
#   - every "SPR-CHECK PASS|FAIL" line of the guest's init and programs,
#   - guest_done: the guest reached SPR-DONE (no hang, no panic),
#   - guest_dmesg_clean: no kernel report in the guest's dmesg,
#   - guest_untainted: no taint flag but out-of-tree and unsigned module.
#
# Five boots: 512 MiB runs the workload, the hostile cases, a short
# stress run and the benchmark's short form (scripts/bench.sh); 256 MiB
# runs spr_workload alone, whose memory hog then leaves the shrinker far
# less room; the debug guest kernel (built from linux-source-6.12 with
# KASAN, lockdep, kmemleak and fault injection, see scripts/debug_kernel.sh)
# runs every program, fault injection included, and then a kmemleak scan;
# and two boots run binder (scripts/binder.sh): the port onto the module,
# with binder's allocator selftest, the kernel's binderfs selftests and
# tests/binder/binder_traffic, then Debian's own binder with the same
# traffic, compared by scripts/binder_compare.py, and one run of the
# benchmark alternating between the two drivers, pooled by
# scripts/binder_alternate.py.
#
# Logs: $SPR_CACHE/logs/qemu-*.log. The last line is
# "qemu: N passed, N failed"; it exits non-zero when anything failed.

set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"
source "$(dirname "${BASH_SOURCE[0]}")/debug_kernel.sh"
source "$(dirname "${BASH_SOURCE[0]}")/binder.sh"

LOGS=$SPR_CACHE/logs
# Seconds each guest program may take, and the margin of a whole boot.
PROGRAM_TIMEOUT=${SPR_QEMU_PROGRAM_TIMEOUT:-240}
# Seconds of spr_stress in each boot; longer runs by hand with -t.
STRESS_SECONDS=${SPR_STRESS_SECONDS:-20}
BOOT_MARGIN=60
passed=0
failed=0

# A set-up failure (apt, download, build) counts as one failed check, so
# that the last line still has the totals.
spr_die() {
	printf 'error: %s\n' "$*" >&2
	echo "FAIL  qemu: set-up: $*"
	echo "qemu: $passed passed, $((failed + 1)) failed"
	exit 1
}

# boot_and_check LABEL MEM PROGRAMS KERNEL_ARGS...: one boot, its checks
# added to the totals. PROGRAMS is how many may run, for the time limit.
boot_and_check() {
	local label=$1 mem=$2 programs=$3 log=$LOGS/qemu-$1.log
	local checks=$LOGS/qemu-$1-checks.log
	local limit=$((programs * PROGRAM_TIMEOUT + BOOT_MARGIN)) p f
	shift 3
	spr_log "booting the guest: $label ($mem MiB, $*)"
	spr_guest_boot "$initrd" "$log" "$limit" "$mem" \
		"spr.timeout=$PROGRAM_TIMEOUT" "$@"
	spr_log "$label: QEMU ran for $SPR_GUEST_BOOT_SECONDS s (log: $log)"
	# A hang or a crash shows as guest_done failing, with the log's end.
	# Every check goes to $checks; only the failures to the terminal.
	python3 "$SPR_REPO/scripts/check_guest_log.py" --label "$label" \
		"$log" >"$checks"
	grep -v '^PASS' "$checks" | sed '$d'
	read -r p f < <(tail -n 1 "$checks")
	if ! [[ "${p:-}" =~ ^[0-9]+$ && "${f:-}" =~ ^[0-9]+$ ]]; then
		echo "FAIL  $label: check_guest_log.py printed no counts"
		p=0 f=1
	fi
	spr_log "$label: $p checks passed, $f failed (all: $checks)"
	passed=$((passed + p))
	failed=$((failed + f))
}

# check_early_panic_retry: a guest kernel that panics before /init prints
# a line is booted once more, and still fails when it panics again. An
# initramfs whose /init cannot run makes it panic so, every time.
check_early_panic_retry() {
	local stage=$SPR_BUILD/initramfs-no-init log=$LOGS/qemu-no-init.log
	local img=$SPR_BUILD/initramfs-no-init.cpio.gz out
	rm -rf "$stage" && mkdir -p "$stage/dev" &&
		echo 'not a program' >"$stage/init" &&
		(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet |
		 gzip -1 >"$img") || spr_die "cannot make $img"
	if out=$(spr_guest_boot "$img" "$log" 60 256 2>&1); then
		echo "FAIL  no-init: guest_early_panic_retry: a guest with no init passed"
		failed=$((failed + 1))
	elif ! [ -f "$log.early-panic" ] ||
	     ! grep -q 'booting once more' <<<"$out"; then
		echo "FAIL  no-init: guest_early_panic_retry: no second boot: $(head -n 1 <<<"$out")"
		failed=$((failed + 1))
	else
		echo "PASS  no-init: guest_early_panic_retry"
		passed=$((passed + 1))
	fi
}

mkdir -p "$LOGS"
spr_guest_deps
spr_guest_kernel
check_early_panic_retry
spr_guest_modules
initrd=$SPR_BUILD/initramfs-test.cpio.gz
spr_guest_initramfs "$initrd"

boot_and_check test-512M 512 4 \
	"spr.run=spr_workload,spr_hostile,spr_stress:-t:$STRESS_SECONDS,spr_bench:-q"
# The benchmark's short form: its report must be complete; its times are
# not checked (scripts/bench.sh runs the full form).
if python3 "$SPR_REPO/scripts/bench_report.py" --json "$LOGS/bench-ci.json" \
	"$LOGS/qemu-test-512M.log" >"$LOGS/bench-ci.txt" 2>&1; then
	echo "PASS  test-512M: bench_report"
	passed=$((passed + 1))
else
	echo "FAIL  test-512M: bench_report: $(tail -n 1 "$LOGS/bench-ci.txt")"
	failed=$((failed + 1))
fi
boot_and_check pressure-256M 256 1 spr.run=spr_workload

# The same programs, and fault injection, on the debug guest kernel.
spr_debug_kernel
SPR_GUEST_VMLINUZ=$SPR_DEBUG_BZIMAGE
SPR_GUEST_KOS=("${SPR_DEBUG_KOS[@]}")
initrd=$SPR_BUILD/initramfs-debug.cpio.gz
spr_guest_initramfs "$initrd"
boot_and_check debug-512M 512 5 \
	"spr.run=spr_workload,spr_hostile,spr_faults:-n:1000:-t:90,spr_stress:-t:$STRESS_SECONDS:-p:3:-T:2,spr_bench:-q"

# binder ported onto the module (binder/*.patch, with binderfs and the
# allocator selftest built in), then Debian's own binder_linux.ko in a boot
# of its own, with binder_spr.ko beside it: the port again, in Debian's
# configuration (scripts/binder_bench.sh measures that pair). All three get
# the same traffic; binder_compare.py checks that each port behaved as
# Debian's binder did, and prints the side-by-side figures.
spr_kernel_source
SPR_GUEST_VMLINUZ=$SPR_GUEST/root/boot/vmlinuz-$SPR_GUEST_KVER
spr_binder_module
spr_binder_side_module
mapfile -t binder_programs < <(spr_binder_programs)
dev=/dev/binderfs/binder
side=$SPR_BINDER_SIDE_RUN
traffic=binder_traffic:-c:4:-T:2:-t:20:-r:-k
bench=binder_traffic:-b:-t:10
memory=binder_traffic:-M:256
SPR_GUEST_KOS=("$SPR_BUILD/guest-mod/shrinkable-page-range.ko" "$SPR_BINDER_KO")
initrd=$SPR_BUILD/initramfs-binder.cpio.gz
spr_guest_initramfs "$initrd" "${binder_programs[@]}"
# The selftest's exhaustive walk takes 80 s on 64 KiB under TCG; it is
# the same walk at any size, over more pages.
boot_and_check binder-512M 512 6 spr.keep=binder_linux,shrinkable_page_range \
	"spr.run=binder_selftest_trigger:-s:65536,binderfs_test,$traffic:-m:-d:$dev,$bench:-m:-d:$dev,$memory:-d:$dev"
initrd=$SPR_BUILD/initramfs-binder-stock.cpio.gz
spr_binder_both_initramfs "$initrd" "${binder_programs[@]}"
boot_and_check binder-stock-512M 512 7 "spr.keep=$SPR_BINDER_BOTH_KEEP" \
	"spr.run=$traffic,$bench,$memory,$traffic:-m:$side,$bench:$side,$memory:$side,$bench:-d:/dev/binder:$SPR_BINDER_SIDE_ALT"
both=$LOGS/qemu-binder-stock-512M
rm -f "$both"-{patched,stock}-*.log
spr_binder_split_log "$both.log" "$both"
stock_runs=$both-stock-1.log,$both-stock-2.log,$both-stock-3.log
side_runs=$both-patched-1.log,$both-patched-2.log,$both-patched-3.log
# count_report OUT CMD...: run a report script into OUT, show what it
# printed but its passes, and count its last line, "passed failed".
count_report() {
	local out=$1 p f
	shift
	"$@" >"$out" 2>&1
	grep -v '^PASS' "$out" | sed '$d'
	read -r p f < <(tail -n 1 "$out")
	[[ "${p:-}" =~ ^[0-9]+$ && "${f:-}" =~ ^[0-9]+$ ]] || p=0 f=1
	passed=$((passed + p))
	failed=$((failed + f))
}
# compare_binder LABEL PATCHED_LOGS: PATCHED_LOGS against the stock runs.
compare_binder() {
	count_report "$LOGS/$1.txt" python3 "$SPR_REPO/scripts/binder_compare.py" \
		--label "$1" --json "$LOGS/$1.json" "$2" "$stock_runs"
}
compare_binder binder-compare "$LOGS/qemu-binder-512M.log"
compare_binder binder-compare-side "$side_runs"
count_report "$LOGS/binder-alternate.txt" \
	python3 "$SPR_REPO/scripts/binder_alternate.py" \
	--patched "$SPR_BINDER_SIDE_DEV" --json "$LOGS/binder-alternate.json" \
	"$both.log"

echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
