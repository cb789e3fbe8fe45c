# SPDX-License-Identifier: GPL-2.0
# The debug guest kernel, built from linux-source-6.12 with the module
# in-tree. Source it after lib.sh; do not run it.

SPR_DEBUG_BUILD=$SPR_BUILD/debug-guest
SPR_DEBUG_CONFIG=$SPR_REPO/tests/qemu/debug-guest.config

# Configure and build the kernel and its modules (incrementally when the
# configuration has not changed), then check that every option of the
# fragment took. Exports SPR_DEBUG_BZIMAGE and SPR_DEBUG_KOS.
spr_debug_kernel() {
	local out=$SPR_DEBUG_BUILD log=$SPR_DEBUG_BUILD/build.log opt
	spr_build_deps
	spr_kernel_source
	spr_install_in_tree
	mkdir -p "$out"
	if ! cmp -s "$SPR_DEBUG_CONFIG" "$out/fragment.config"; then
		spr_log "configuring the debug guest kernel in $out"
		grep '^CONFIG_' "$SPR_DEBUG_CONFIG" >"$out/.config"
		make -C "$SPR_KSRC" O="$out" ARCH=x86_64 olddefconfig \
			>"$log" 2>&1 || spr_die "cannot configure; see $log"
		cp "$SPR_DEBUG_CONFIG" "$out/fragment.config"
	fi
	while read -r opt; do
		grep -qxF "$opt" "$out/.config" ||
			spr_die "the debug kernel lacks $opt"
	done < <(grep '^CONFIG_' "$SPR_DEBUG_CONFIG")
	spr_log "building the debug guest kernel (a first build takes minutes)"
	make -C "$SPR_KSRC" O="$out" ARCH=x86_64 -j"$SPR_JOBS" bzImage \
		modules >"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; spr_die "the debug kernel failed to build; see $log"; }
	SPR_DEBUG_BZIMAGE=$out/arch/x86/boot/bzImage
	SPR_DEBUG_KOS=("$out/drivers/android/shrinkable_page_range/shrinkable-page-range.ko"
		       "$out/drivers/android/shrinkable_page_range/tests/spr_test_driver.ko"
		       "$out/drivers/android/shrinkable_page_range/tests/spr_bench.ko")
}
