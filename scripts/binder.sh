# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# binder on the module: the binder_linux.ko of Debian's linux-source-6.12
# with binder/*.patch applied (binderfs and the allocator selftest built
# in), built against Debian's 6.12 headers, and the programs of
# tests/binder/. Source it after lib.sh and qemu.sh; do not run it.

SPR_BINDER_BUILD=$SPR_BUILD/binder
# Debian's own binder_linux.ko, for the side-by-side runs.
SPR_BINDER_STOCK_KO=

# Build the patched binder_linux.ko against the guest's kernel, linked to
# the module that spr_guest_modules built. Sets SPR_BINDER_KO and
# SPR_BINDER_STOCK_KO.
spr_binder_module() {
	local log=$SPR_BINDER_BUILD/build.log mod=$SPR_BUILD/guest-mod
	[ -f "$mod/Module.symvers" ] || spr_die "call spr_guest_modules first"
	mkdir -p "$SPR_BINDER_BUILD"
	spr_log "building the patched binder_linux.ko against $SPR_GUEST_KDIR"
	make -C "$SPR_REPO/binder" BUILD="$SPR_BINDER_BUILD" SPR_MOD="$mod" \
		KDIR="$SPR_GUEST_KDIR" -j"$SPR_JOBS" >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		spr_die "the patched binder_linux.ko failed to build (log: $log)"
	}
	if grep -E 'warning:|undefined!|^(WARNING|ERROR): modpost' "$log" >&2; then
		spr_die "the patched binder_linux.ko build warned (log: $log)"
	fi
	SPR_BINDER_KO=$SPR_BINDER_BUILD/src/drivers/android/binder_linux.ko
	[ -f "$SPR_BINDER_KO" ] || spr_die "the build made no $SPR_BINDER_KO"
	SPR_BINDER_STOCK_KO=$(find "$SPR_GUEST/root/lib/modules/$SPR_GUEST_KVER" \
		-name 'binder_linux.ko*' | head -n 1)
	[ -n "$SPR_BINDER_STOCK_KO" ] ||
		spr_die "Debian's kernel has no binder_linux.ko"
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
