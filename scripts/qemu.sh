# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Boot Debian's own 6.12 kernel under QEMU with the module and the test
# programs in an initramfs. Source it after lib.sh; do not run it.
#
# Nothing is installed on this machine but Debian's headers (to build the
# module against the exact kernel the guest runs) and the tools: the kernel
# image package is only downloaded and unpacked under $SPR_CACHE/guest.

SPR_GUEST=$SPR_CACHE/guest
SPR_GUEST_META=linux-headers-6.12-amd64
# The user-space test programs, built static by tests/user/Makefile.
SPR_GUEST_PROGRAMS=(spr_workload spr_hostile spr_faults spr_stress spr_bench)
# Filled in by spr_guest_modules: the .ko files, in load order.
SPR_GUEST_KOS=()
# Module parameters for insmod, by .ko file name ("binder_spr.ko").
declare -A SPR_GUEST_KO_ARGS=()
# More arguments for qemu-system-x86_64, such as scripts/binder_bench.sh's
# -icount.
SPR_GUEST_QEMU_ARGS=()

# The host tools the guest pipeline needs.
spr_guest_deps() {
	spr_build_deps busybox-static qemu-system-x86 gzip "$@"
}

# The <ver>-amd64 that the headers meta package points at, from its
# dependency on linux-headers-<ver>-amd64.
spr_guest_resolve_kver() {
	dpkg-query -W -f='${Depends}\n' "$SPR_GUEST_META" 2>/dev/null |
		tr ',' '\n' |
		sed -n 's/^ *linux-headers-\([0-9][^ ]*-amd64\)\( .*\)\{0,1\}$/\1/p' |
		head -n 1
}

# Download linux-image-$1 at version $2 into $SPR_GUEST and print the .deb.
spr_guest_download_image() {
	local kver=$1 version=$2 deb
	rm -f "$SPR_GUEST"/linux-image-*.deb
	# As root, apt-get download warns that _apt cannot write here; the
	# download itself is fine.
	(cd "$SPR_GUEST" && apt-get download -qq \
		"linux-image-$kver=$version") >"$SPR_GUEST/download.log" 2>&1 ||
		return 1
	deb=$(ls "$SPR_GUEST"/linux-image-"$kver"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] && printf '%s\n' "$deb"
}

# Install Debian's 6.12 headers, and download and unpack the matching
# kernel image (not installed). Exports SPR_GUEST_KVER, SPR_GUEST_VMLINUZ
# and SPR_GUEST_KDIR. Does nothing more when that version is unpacked.
spr_guest_kernel() {
	spr_apt_install "$SPR_GUEST_META"
	local kver version stamp=$SPR_GUEST/.spr-unpacked deb build
	kver=$(spr_guest_resolve_kver)
	[ -n "$kver" ] || spr_die "cannot tell which kernel $SPR_GUEST_META is for"
	version=$(dpkg-query -W -f='${Version}' "linux-headers-$kver") ||
		spr_die "linux-headers-$kver is not installed"
	mkdir -p "$SPR_GUEST"
	if ! [ -f "$stamp" ] ||
	   [ "$(cat "$stamp")" != "linux-image-$kver $version" ] ||
	   ! [ -f "$SPR_GUEST/root/boot/vmlinuz-$kver" ]; then
		spr_log "downloading linux-image-$kver $version (not installed)"
		if ! deb=$(spr_guest_download_image "$kver" "$version"); then
			# The package lists may be older than the headers.
			apt-get update -qq >/dev/null 2>&1
			deb=$(spr_guest_download_image "$kver" "$version") || {
				cat "$SPR_GUEST/download.log" >&2
				spr_die "cannot download linux-image-$kver=$version; if apt has a newer 6.12, run: apt-get install $SPR_GUEST_META"
			}
		fi
		rm -rf "$SPR_GUEST/root" "$stamp"
		dpkg-deb -x "$deb" "$SPR_GUEST/root" ||
			spr_die "cannot unpack $deb"
		rm -f "$deb"
		echo "linux-image-$kver $version" >"$stamp"
	fi
	# The package leaves modules.dep to its postinst; make it here.
	if ! [ -f "$SPR_GUEST/root/lib/modules/$kver/modules.dep" ]; then
		depmod -b "$SPR_GUEST/root" "$kver" ||
			spr_die "depmod failed on the guest's modules"
	fi
	SPR_GUEST_KVER=$kver
	SPR_GUEST_VMLINUZ=$SPR_GUEST/root/boot/vmlinuz-$kver
	[ -f "$SPR_GUEST_VMLINUZ" ] || spr_die "no $SPR_GUEST_VMLINUZ in the image"
	# The headers package points /lib/modules/<ver>/build at its tree.
	build=$(readlink -f "/lib/modules/$kver/build" 2>/dev/null)
	[ -n "$build" ] && [ -d "$build" ] || build=/usr/src/linux-headers-$kver
	[ -f "$build/Makefile" ] && [ -f "$build/Module.symvers" ] ||
		spr_die "$build has no Makefile or Module.symvers"
	SPR_GUEST_KDIR=$build
	export SPR_GUEST_KVER SPR_GUEST_VMLINUZ SPR_GUEST_KDIR
}

# Build the module, the test driver and the benchmark driver against the
# guest's kernel. Sets SPR_GUEST_KOS to the .ko files in load order.
spr_guest_modules() {
	[ -n "${SPR_GUEST_KDIR:-}" ] || spr_die "call spr_guest_kernel first"
	local mod=$SPR_BUILD/guest-mod log=$SPR_BUILD/guest-mod.log ko
	spr_copy_module "$mod"
	spr_log "building the module against $SPR_GUEST_KDIR"
	# From clean, so that modpost runs and checks the symbols every time
	# (a few seconds).
	make -C "$mod" KDIR="$SPR_GUEST_KDIR" clean >/dev/null 2>&1
	if ! make -C "$mod" KDIR="$SPR_GUEST_KDIR" W=1 -j"$SPR_JOBS" \
		>"$log" 2>&1; then
		cat "$log" >&2
		spr_die "the guest module build failed (log: $log)"
	fi
	# Debian's Module.symvers resolves every kernel symbol: an
	# unresolved one is a real bug, not a missing vmlinux.
	if grep -E 'undefined!|^(WARNING|ERROR): modpost' "$log" >&2; then
		spr_die "modpost found unresolved symbols (log: $log)"
	fi
	# The compiler's warnings fail scripts/test.sh; here they are shown.
	grep -E 'warning:' "$log" >&2
	SPR_GUEST_KOS=("$mod/shrinkable-page-range.ko"
		       "$mod/tests/spr_test_driver.ko" "$mod/tests/spr_bench.ko")
	for ko in "${SPR_GUEST_KOS[@]}"; do
		[ -f "$ko" ] || { cat "$log" >&2; spr_die "the build made no $ko"; }
	done
}

# The modules of the guest's kernel that $@ need and that are not among
# $@, in load order, as paths under the unpacked image.
spr_guest_module_deps() {
	local moddir=$SPR_GUEST/root/lib/modules/$SPR_GUEST_KVER ko dep
	local -A ours=() seen=()
	local -a order=()
	for ko in "$@"; do
		ko=${ko##*/}
		ko=${ko%%.ko*}
		ours[${ko//-/_}]=1
	done
	# modules.dep lists, for each module, all it needs, the last to be
	# loaded first.
	_spr_guest_dep() {
		local name=${1//-/_} line path need i
		[ -n "${ours[$name]:-}" ] || [ -n "${seen[$name]:-}" ] && return 0
		seen[$name]=1
		line=$(awk -v n="$name" '{ m = $1; sub(/:$/, "", m);
			sub(/.*\//, "", m); sub(/\.ko(\..*)?$/, "", m);
			gsub(/-/, "_", m) } m == n { print; exit }' \
			"$moddir/modules.dep")
		[ -n "$line" ] || spr_die "module $name is not in the guest's kernel"
		path=${line%%:*}
		read -r -a need <<<"${line#*:}"
		for ((i = ${#need[@]} - 1; i >= 0; i--)); do
			need[i]=${need[i]##*/}
			_spr_guest_dep "${need[i]%%.ko*}"
		done
		order+=("$moddir/$path")
	}
	for ko in "$@"; do
		for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
			_spr_guest_dep "$dep"
		done
	done
	unset -f _spr_guest_dep
	[ ${#order[@]} -eq 0 ] || printf '%s\n' "${order[@]}"
}

# Copy $1 into the initramfs tree $2 at $3, decompressing a .ko.xz: the
# guest's busybox insmod wants a plain .ko.
spr_guest_stage_ko() {
	local src=$1 dest=$2/$3
	case $src in
	*.xz) xz -dc "$src" >"$dest" ;;
	*.zst) zstd -qdc "$src" >"$dest" ;;
	*) cp "$src" "$dest" ;;
	esac || spr_die "cannot stage $src"
}

# Build tests/user's static programs when their Makefile exists, and print
# the ones that were built. They are built in a copy of tests/ (and of the
# top-level headers, for relative includes) so that the repository stays
# clean; rsync -a keeps the times, so make rebuilds only what changed.
spr_guest_user_programs() {
	local src=$SPR_BUILD/guest-user dir=$SPR_BUILD/guest-user/tests/user p
	[ -f "$SPR_REPO/tests/user/Makefile" ] || return 0
	mkdir -p "$src"
	(cd "$SPR_REPO" && rsync -a --relative tests ./*.h "$src/") ||
		spr_die "cannot copy tests/ to $src"
	spr_log "building the user-space test programs"
	make -C "$dir" >"$SPR_BUILD/guest-user.log" 2>&1 || {
		cat "$SPR_BUILD/guest-user.log" >&2
		spr_die "make -C tests/user failed (log: $SPR_BUILD/guest-user.log)"
	}
	for p in "${SPR_GUEST_PROGRAMS[@]}"; do
		[ -x "$dir/$p" ] && printf '%s\n' "$dir/$p"
	done
}

# spr_guest_initramfs OUT [FILE[:DEST]...]: a gzip'ed newc cpio with
# busybox, the modules of SPR_GUEST_KOS and what they need (loaded with
# the parameters of SPR_GUEST_KO_ARGS), the test
# programs and tests/qemu/init as /init. Extra files go to /bin/<name>, or
# to DEST (an absolute path in the guest; "x:/init" replaces the init).
spr_guest_initramfs() {
	local out=$1 stage=$SPR_BUILD/initramfs ko f src dest
	shift
	[ ${#SPR_GUEST_KOS[@]} -gt 0 ] || spr_die "call spr_guest_modules first"
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,etc,lib/modules/spr} ||
		spr_die "cannot make $stage"
	cp /bin/busybox "$stage/bin/busybox" &&
		ln -s busybox "$stage/bin/sh" ||
		spr_die "no static busybox (package busybox-static)"
	# The kernel opens /dev/console for init before devtmpfs is mounted.
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null ||
		spr_log "cannot mknod /dev/console; init reopens it from devtmpfs"
	: >"$stage/etc/spr-modules"
	while read -r ko; do
		[ -n "$ko" ] || continue
		f=${ko##*/}
		f=${f%%.ko*}.ko
		spr_guest_stage_ko "$ko" "$stage" "lib/modules/spr/$f"
		echo "/lib/modules/spr/$f ${SPR_GUEST_KO_ARGS[$f]:-}" \
			>>"$stage/etc/spr-modules"
	done < <(spr_guest_module_deps "${SPR_GUEST_KOS[@]}"; \
		 printf '%s\n' "${SPR_GUEST_KOS[@]}")
	while read -r f; do
		[ -n "$f" ] && cp "$f" "$stage/bin/" || spr_die "cannot stage $f"
	done < <(spr_guest_user_programs)
	cp "$SPR_REPO/tests/qemu/init" "$stage/init" ||
		spr_die "cannot stage tests/qemu/init"
	for f in "$@"; do
		src=${f%%:*}
		dest=/bin/${src##*/}
		[ "$src" = "$f" ] || dest=${f#*:}
		mkdir -p "$stage/${dest%/*}" && cp "$src" "$stage$dest" ||
			spr_die "cannot stage $src as $dest"
	done
	chmod 755 "$stage/init"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$out.tmp") &&
		mv "$out.tmp" "$out" || spr_die "cannot write $out"
}

# spr_guest_qemu INITRAMFS LOG TIMEOUT_S MEM [KERNEL_ARGS...]: one run of
# QEMU, its serial console in LOG; QEMU's status. No KVM here: TCG with two
# vCPU threads. panic=-1 reboots at once on a panic and -no-reboot turns
# that into QEMU's exit; an oops is left non-fatal so that the log shows it
# and the test carries on. loglevel=4 keeps the console to errors, so that
# kernel lines do not cut the programs' lines; init prints the whole dmesg
# at the end.
spr_guest_qemu() {
	local initrd=$1 log=$2 limit=$3 mem=$4
	shift 4
	timeout -k 10 "$limit" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m "$mem" "${SPR_GUEST_QEMU_ARGS[@]}" \
		-nodefaults -nographic -no-reboot -no-user-config \
		-serial "file:$log" -monitor none \
		-kernel "$SPR_GUEST_VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4 $*" \
		</dev/null >"$log.qemu" 2>&1
}

# spr_guest_boot INITRAMFS LOG TIMEOUT_S MEM [KERNEL_ARGS...]: boot the
# guest with its serial console in LOG. Fails when QEMU fails, when the
# guest does not power off within TIMEOUT_S (a hang), or when it stops
# without printing SPR-DONE (a panic or an init that died). Sets
# SPR_GUEST_BOOT_SECONDS to the host's wall time.
spr_guest_boot() {
	local initrd=$1 log=$2 limit=$3 mem=$4 start status
	shift 4
	[ -n "${SPR_GUEST_VMLINUZ:-}" ] || spr_die "call spr_guest_kernel first"
	rm -f "$log" "$log.early-panic"
	start=$(date +%s.%N)
	spr_guest_qemu "$initrd" "$log" "$limit" "$mem" "$@"
	status=$?
	# A guest kernel that panicked before /init printed a line ran none
	# of the module's code, nor any test: under TCG the kernel now and
	# then dies in early boot (an int3 oops in sched_clock_cpu(), from
	# text patching across vCPUs). Boot once more, and say so; the first
	# log is kept. A hang, or anything after /init started, is not retried.
	if [ "$status" -eq 0 ] && ! grep -q 'SPR-' "$log" 2>/dev/null &&
	   grep -q 'Kernel panic' "$log" 2>/dev/null; then
		mv "$log" "$log.early-panic"
		printf 'qemu: the guest kernel panicked before /init ran; booting once more (first log: %s)\n' \
			"$log.early-panic" >&2
		spr_guest_qemu "$initrd" "$log" "$limit" "$mem" "$@"
		status=$?
	fi
	# shellcheck disable=SC2034 # for the caller
	SPR_GUEST_BOOT_SECONDS=$(awk -v s="$start" -v e="$(date +%s.%N)" \
				 'BEGIN { printf "%.1f", e - s }')
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		printf 'qemu: the guest hung: no power-off within %s s (log: %s)\n' \
			"$limit" "$log" >&2
		tail -n 20 "$log" 2>/dev/null | sed 's/^/      /' >&2
		return 124
	fi
	if [ "$status" -ne 0 ]; then
		printf 'qemu: qemu-system-x86_64 failed with status %s:\n' \
			"$status" >&2
		sed 's/^/      /' "$log.qemu" >&2
		return "$status"
	fi
	if ! grep -q 'SPR-DONE' "$log" 2>/dev/null; then
		printf 'qemu: the guest stopped without SPR-DONE (panic or init died; log: %s)\n' \
			"$log" >&2
		tail -n 40 "$log" 2>/dev/null | sed 's/^/      /' >&2
		return 1
	fi
	return 0
}
