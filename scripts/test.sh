#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test of shrinkable_page_range:
#   - checkpatch --strict on every C source and header, and on binder/,
#   - tests/binder_compare_test.py and tests/binder_alternate_test.py: the
#     side-by-side reports' pairing and pooling of rounds, on made-up logs,
#     and tests/kunit_results_test.py: which kernel reports fail a KUnit run,
#   - W=1 builds with sparse (C=2) against x86_64 with gcc, and W=1 with
#     clang (LLVM=1), both out of tree with "make KDIR=...", and a W=1
#     build in the kernel tree of binder, ported onto the module by
#     binder/*.patch, with binderfs, its selftest and the module,
#   - the KUnit suite in-tree on UML, with lockdep, KASAN and the other
#     debug options of tests/.kunitconfig, and on x86_64 under QEMU (two
#     CPUs) once with KASAN and once with KCSAN; a kernel report in a log
#     fails the run even when every case passes,
#   - the real-kernel test (scripts/qemu_test.sh): the module and the test
#     driver in Debian's own 6.12 kernel under QEMU, driven by the programs
#     of tests/user/, with the guest's kernel log checked.
#
# On a fresh Debian machine it installs what it needs with apt-get, and it
# caches the kernel tree and the builds under $SPR_CACHE
# (~/.cache/shrinkable_page_range). It prints "kunit: N passed, N failed"
# and "qemu: N passed, N failed", and last the sum with the static checks,
# "all: N passed, N failed"; it exits non-zero when anything failed.

set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOGS=$SPR_CACHE/logs
mkdir -p "$LOGS"
static_passed=0
static_failed=0

# Record the result of one static check; $2 is its log.
static_result() {
	local name=$1 log=$2 status=$3
	if [ "$status" -eq 0 ]; then
		static_passed=$((static_passed + 1))
		printf 'PASS  %s\n' "$name"
	else
		static_failed=$((static_failed + 1))
		printf 'FAIL  %s (log: %s)\n' "$name" "$log"
		sed -n '1,40p' "$log" | sed 's/^/      /'
	fi
}

check_checkpatch() {
	local log=$LOGS/checkpatch.log files
	mapfile -t files < <(cd "$SPR_REPO" &&
		{ git ls-files --cached --others --exclude-standard '*.c' '*.h' ||
		  find . -name '*.[ch]' -printf '%P\n'; } 2>/dev/null)
	(cd "$SPR_REPO" && perl "$SPR_KSRC/scripts/checkpatch.pl" --strict \
		--no-tree --terse --show-types -f "${files[@]}") >"$log" 2>&1
	! grep -qE 'ERROR|WARNING|CHECK' "$log"
	static_result "checkpatch --strict (${#files[@]} files)" "$log" $?
}

# The binder series must be clean too; checkpatch reads a patch from the
# top of a kernel tree.
check_checkpatch_series() {
	local log=$LOGS/checkpatch-series.log patches
	patches=("$SPR_REPO"/binder/*.patch)
	(cd "$SPR_KSRC" && perl scripts/checkpatch.pl --strict --terse \
		--show-types "${patches[@]}") >"$log" 2>&1
	! grep -qE 'ERROR|WARNING|CHECK' "$log"
	static_result "checkpatch --strict (${#patches[@]} patches of binder/)" \
		"$log" $?
}

# A configured x86_64 tree in $1 that external modules can build against.
prepare_x86_tree() {
	local out=$1
	shift
	[ -f "$out/.spr-prepared" ] && return 0
	spr_log "preparing an x86_64 kernel tree in $out ($*)"
	mkdir -p "$out"
	make -C "$SPR_KSRC" O="$out" ARCH=x86_64 "$@" defconfig >/dev/null &&
	"$SPR_KSRC/scripts/config" --file "$out/.config" \
		-m KUNIT -e DEBUG_FS -e FAULT_INJECTION \
		-e FAULT_INJECTION_DEBUG_FS -e FAILSLAB -e FAIL_PAGE_ALLOC &&
	make -C "$SPR_KSRC" O="$out" ARCH=x86_64 "$@" olddefconfig >/dev/null &&
	make -C "$SPR_KSRC" O="$out" ARCH=x86_64 "$@" -j"$SPR_JOBS" \
		modules_prepare >"$out/prepare.log" 2>&1 &&
	touch "$out/.spr-prepared"
}

# check_report_script NAME: scripts/NAME.py's figures on logs whose
# answers are known (tests/NAME_test.py).
check_report_script() {
	local log=$LOGS/$1-test.log
	python3 "$SPR_REPO/tests/$1_test.py" >"$log" 2>&1
	static_result "$1.py on made-up logs" "$log" $?
}

# Build the module out of tree against $2, with the make options after it.
check_build() {
	local name=$1 tree=$2 log=$LOGS/build-$1.log mod=$SPR_BUILD/extmod-$1
	shift 2
	if ! prepare_x86_tree "$tree" "$@"; then
		echo "cannot prepare $tree; see $tree/prepare.log" >"$log"
		static_result "W=1 build ($name)" "$log" 1
		return
	fi
	spr_copy_module "$mod"
	# Force a full rebuild so that every warning is seen again.
	make -C "$mod" KDIR="$tree" "$@" clean >/dev/null 2>&1
	# A modules_prepare tree has no vmlinux symbols to resolve against;
	# that is checked against Debian's headers instead.
	make -C "$mod" KDIR="$tree" ARCH=x86_64 W=1 KBUILD_MODPOST_WARN=1 \
		"$@" -j"$SPR_JOBS" >"$log" 2>&1
	local status=$?
	if [ $status -eq 0 ] && grep -qE 'warning:|error:' "$log"; then
		status=1
	fi
	local ko
	for ko in shrinkable-page-range.ko tests/spr_test_driver.ko \
		  tests/spr_bench.ko \
		  tests/shrinkable_page_range_kunit.ko; do
		[ -f "$mod/$ko" ] || { echo "no $ko" >>"$log"; status=1; }
	done
	static_result "W=1 build, out of tree ($name $*)" "$log" $status
}

# The patched binder (binder/*.patch), binderfs, the allocator selftest and
# the module, built together in-tree with W=1, in the gcc tree.
check_in_tree_build() {
	local tree=$SPR_BUILD/x86-gcc log=$LOGS/build-in-tree.log status
	local opt
	{
		for opt in ANDROID_BINDER_IPC SHRINKABLE_PAGE_RANGE \
			   SHRINKABLE_PAGE_RANGE_TEST_DRIVER \
			   SHRINKABLE_PAGE_RANGE_BENCH \
			   SHRINKABLE_PAGE_RANGE_KUNIT_TEST; do
			"$SPR_KSRC/scripts/config" --file "$tree/.config" -m "$opt"
		done
		"$SPR_KSRC/scripts/config" --file "$tree/.config" \
			-e ANDROID_BINDERFS -e ANDROID_BINDER_IPC_SELFTEST
		make -C "$SPR_KSRC" O="$tree" ARCH=x86_64 olddefconfig &&
		grep -qx 'CONFIG_ANDROID_BINDER_IPC_SELFTEST=y' "$tree/.config" &&
		# Every object again, so that every warning is seen again.
		rm -rf "$tree/drivers/android" &&
		make -C "$SPR_KSRC" O="$tree" ARCH=x86_64 W=1 -j"$SPR_JOBS" \
			drivers/android/
	} >"$log" 2>&1
	status=$?
	if [ $status -eq 0 ] && grep -qE 'warning:|error:' "$log"; then
		status=1
	fi
	for opt in binder.o binder_alloc.o binderfs.o binder_alloc_selftest.o \
		   shrinkable_page_range/shrinkable_page_range.o; do
		[ -f "$tree/drivers/android/$opt" ] ||
			{ echo "no $opt" >>"$log"; status=1; }
	done
	static_result "W=1 build, in tree (binder + binderfs + selftest + module)" \
		"$log" $status
}

# Build and run the KUnit suite in configuration $1 with kunitconfig $2
# (kunit.py arguments follow), and add its results to the totals.
run_kunit() {
	local name=$1 config=$2 build=$SPR_BUILD/kunit-$1
	local json=$LOGS/kunit-$1.json log=$LOGS/kunit-$1.log
	local counts passed failed skipped
	shift 2
	mkdir -p "$build"
	rm -f "$json"
	spr_log "KUnit, $name (build and run; a first build takes minutes)"
	(cd "$SPR_KSRC" && python3 tools/testing/kunit/kunit.py run \
		--kunitconfig="$config" "$@" \
		--build_dir="$build" --jobs="$SPR_JOBS" --timeout=1800 \
		--json="$json") >"$log" 2>&1
	local kunit_status=$?
	grep -E '^\[..:..:..\] \[(PASSED|FAILED|SKIPPED)\]' "$log" |
		sed "s/^\[..:..:..\] /  $name: /"
	# kunit.py shows the suite's own figures only for failed cases.
	grep -E '# spr_test_[a-z_]+: [a-z_]+( check)?:' "$build/test.log" |
		sed "s/^ *# /  $name: /"
	counts=$(python3 "$SPR_REPO/scripts/kunit_results.py" "$json" \
		 "$build/test.log" | tee "$LOGS/kunit-$name-check.log" |
		 tail -n 1)
	local check_status=$?
	sed '$d' "$LOGS/kunit-$name-check.log"
	read -r passed failed skipped <<<"$counts"
	if [ "$kunit_status" -ne 0 ] || [ "$check_status" -ne 0 ]; then
		# A clean log is part of passing: count a report as a failure.
		if [ "${failed:-0}" -eq 0 ]; then
			failed=1
			echo "kunit ($name): the run failed although no case did; see $log"
			tail -n 20 "$log" | sed 's/^/      /'
		fi
	fi
	kunit_passed=$((kunit_passed + ${passed:-0}))
	kunit_failed=$((kunit_failed + ${failed:-0}))
	kunit_skipped=$((kunit_skipped + ${skipped:-0}))
}

# kunit.py boots the x86_64 KUnit kernels with qemu-system-x86_64 itself.
spr_build_deps sparse clang lld llvm qemu-system-x86
spr_kernel_source
spr_install_in_tree

kunit_passed=0
kunit_failed=0
kunit_skipped=0
check_checkpatch
check_checkpatch_series
check_report_script binder_compare
check_report_script binder_alternate
check_report_script kunit_results
check_build gcc "$SPR_BUILD/x86-gcc" C=2
check_build clang "$SPR_BUILD/x86-clang" LLVM=1
check_in_tree_build
base=$SPR_REPO/tests/.kunitconfig
run_kunit uml "$base"
run_kunit x86_64-kasan "$base" --arch=x86_64 --qemu_args='-smp 2' \
	--kunitconfig="$SPR_REPO/tests/x86_64.kunitconfig"
grep -v 'CONFIG_KASAN' "$base" >"$SPR_BUILD/kcsan-base.kunitconfig"
run_kunit x86_64-kcsan "$SPR_BUILD/kcsan-base.kunitconfig" --arch=x86_64 \
	--qemu_args='-smp 2' --kunitconfig="$SPR_REPO/tests/x86_64.kunitconfig" \
	--kunitconfig="$SPR_REPO/tests/kcsan.kunitconfig"

# The QEMU test prints its own failures; its last line has its counts.
spr_log "the real-kernel test: Debian's 6.12 kernel under QEMU"
qemu_out=$LOGS/qemu-test.out
bash "$SPR_REPO/scripts/qemu_test.sh" >"$qemu_out" 2>&1
sed '$d' "$qemu_out" | grep -Ev '^==> |^PASS' | sed 's/^/  /'
read -r qemu_passed qemu_failed < <(tail -n 1 "$qemu_out" |
	sed -n 's/^qemu: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
if [ -z "${qemu_failed:-}" ]; then
	echo "qemu: no result line; see $qemu_out"
	qemu_passed=0
	qemu_failed=1
fi

echo "static checks: $static_passed passed, $static_failed failed"
[ "$kunit_skipped" -eq 0 ] || echo "kunit: $kunit_skipped skipped"
echo "kunit: $kunit_passed passed, $kunit_failed failed"
echo "qemu: $qemu_passed passed, $qemu_failed failed"
echo "all: $((static_passed + kunit_passed + qemu_passed)) passed, $((static_failed + kunit_failed + qemu_failed)) failed"
[ "$static_failed" -eq 0 ] && [ "$kunit_failed" -eq 0 ] &&
	[ "$qemu_failed" -eq 0 ]
