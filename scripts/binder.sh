# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# binder on the module: the binder_linux.ko of Debian's linux-source-6.12
# with binder/*.patch applied (binderfs and the allocator selftest built
# in), built against Debian's 6.12 headers, and the programs of
# tests/binder/. Source it after lib.sh and qemu.sh; do not run it.

SPR_BINDER_BUILD=$SPR_BUILD/binder
# Debian's own binder_linux.ko, for the side-by-side runs.
SPR_BINDER_STOCK_KO=
# The name of the port built to load beside Debian's binder
# (spr_binder_side_module), and what follows from it: its insmod argument,
# its device, and binder_traffic's arguments (colon-separated, for spr.run)
# for its device and its debugfs directory (binder/Makefile).
SPR_BINDER_SIDE=binder_spr
SPR_BINDER_SIDE_ARGS=devices=$SPR_BINDER_SIDE
SPR_BINDER_SIDE_DEV=/dev/$SPR_BINDER_SIDE
SPR_BINDER_SIDE_RUN=-d:$SPR_BINDER_SIDE_DEV:-B:/sys/kernel/debug/$SPR_BINDER_SIDE
# The same for the second driver of an alternating benchmark (-b -A), and
# Debian's binder as that driver.
SPR_BINDER_SIDE_ALT=-A:$SPR_BINDER_SIDE_DEV:-E:/sys/kernel/debug/$SPR_BINDER_SIDE
SPR_BINDER_STOCK_ALT=-A:/dev/binder:-E:/sys/kernel/debug/binder

# spr_binder_build DIR NAME TESTS: build the patched binder in DIR as
# NAME.ko against the guest's kernel, linked to the module that
# spr_guest_modules built, with binderfs and the selftest when TESTS is y
# (binder/Kbuild). Sets SPR_BINDER_BUILT_KO to the .ko; not a command
# substitution, so that spr_die's report reaches the caller's output.
spr_binder_build() {
	local dir=$1 name=$2 tests=$3 log=$1/build.log mod=$SPR_BUILD/guest-mod
	[ -f "$mod/Module.symvers" ] || spr_die "call spr_guest_modules first"
	mkdir -p "$dir"
	spr_log "building the patched $name.ko against $SPR_GUEST_KDIR"
	make -C "$SPR_REPO/binder" BUILD="$dir" SPR_MOD="$mod" \
		KDIR="$SPR_GUEST_KDIR" SPR_BINDER_NAME="$name" \
		SPR_BINDER_TESTS="$tests" -j"$SPR_JOBS" >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		spr_die "the patched $name.ko failed to build (log: $log)"
	}
	if grep -E 'warning:|undefined!|^(WARNING|ERROR): modpost' "$log" >&2; then
		spr_die "the patched $name.ko build warned (log: $log)"
	fi
	SPR_BINDER_BUILT_KO=$dir/src/drivers/android/$name.ko
	[ -f "$SPR_BINDER_BUILT_KO" ] ||
		spr_die "the build made no $SPR_BINDER_BUILT_KO"
}

# Build the patched binder_linux.ko, with binderfs and the allocator
# selftest, and find Debian's own. Sets SPR_BINDER_KO and
# SPR_BINDER_STOCK_KO.
spr_binder_module() {
	spr_binder_build "$SPR_BINDER_BUILD" binder_linux y
	SPR_BINDER_KO=$SPR_BINDER_BUILT_KO
	SPR_BINDER_STOCK_KO=$(find "$SPR_GUEST/root/lib/modules/$SPR_GUEST_KVER" \
		-name 'binder_linux.ko*' | head -n 1)
	[ -n "$SPR_BINDER_STOCK_KO" ] ||
		spr_die "Debian's kernel has no binder_linux.ko"
}

# Build the patched binder as binder_spr.ko in Debian's own configuration
# (no binderfs, no selftest), to be loaded beside Debian's binder_linux.ko
# with its device named /dev/binder_spr. Sets SPR_BINDER_SIDE_KO.
spr_binder_side_module() {
	spr_binder_build "$SPR_BINDER_BUILD-side" "$SPR_BINDER_SIDE" n
	SPR_BINDER_SIDE_KO=$SPR_BINDER_BUILT_KO
}

# spr_binder_both_initramfs OUT [FILE...]: an initramfs that loads Debian's
# binder_linux.ko, the module and binder_spr.ko, with FILE... as in
# spr_guest_initramfs. Boot it with spr.keep=$SPR_BINDER_BOTH_KEEP.
SPR_BINDER_BOTH_KEEP=binder_linux,$SPR_BINDER_SIDE,shrinkable_page_range
spr_binder_both_initramfs() {
	[ -n "${SPR_BINDER_SIDE_KO:-}" ] || spr_die "call spr_binder_side_module first"
	SPR_GUEST_KOS=("$SPR_BINDER_STOCK_KO"
		       "$SPR_BUILD/guest-mod/shrinkable-page-range.ko"
		       "$SPR_BINDER_SIDE_KO")
	SPR_GUEST_KO_ARGS["$SPR_BINDER_SIDE.ko"]=$SPR_BINDER_SIDE_ARGS
	spr_guest_initramfs "$@"
}

# spr_binder_split_log LOG PREFIX: each binder_traffic run of a boot with
# both Debian's binder and binder_spr.ko in its own file,
# PREFIX-{patched,stock}-M.log for the M-th run on that driver's device,
# for scripts/binder_compare.py. A run on $SPR_BINDER_SIDE_DEV is patched.
spr_binder_split_log() {
	awk -v prefix="$2" -v dev="$SPR_BINDER_SIDE_DEV" '
		/SPR-RUN [^ ]*binder_traffic/ {
			side = $0 ~ ("-d " dev "( |$)") ? "patched" : "stock"
			if (out)
				close(out)
			out = prefix "-" side "-" (++n[side]) ".log"
		}
		/SPR-RUN / && !/binder_traffic/ { out = "" }
		out { print > out }' "$1"
}

# Build the static programs of tests/binder/ in a copy of tests/ (they
# include ../user/spr_util.h), the kernel's binderfs selftest among them,
# and print their paths.
spr_binder_programs() {
	local src=$SPR_BINDER_BUILD/programs log=$SPR_BINDER_BUILD/programs.log
	local dir=$src/tests/binder p
	mkdir -p "$src"
	(cd "$SPR_REPO" && rsync -a --relative tests/binder tests/user "$src/") ||
		spr_die "cannot copy tests/binder and tests/user to $src"
	make -C "$dir" KSRC="$SPR_KSRC" >"$log" 2>&1 || {
		cat "$log" >&2
		spr_die "make -C tests/binder failed (log: $log)"
	}
	for p in binder_selftest_trigger binderfs_test binder_traffic; do
		[ -x "$dir/$p" ] || spr_die "tests/binder built no $p"
		printf '%s\n' "$dir/$p"
	done
}
