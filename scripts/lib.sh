# SPDX-License-Identifier: GPL-2.0
# Shared set-up for the project's commands. Source it; do not run it.
#
# Everything that is downloaded, unpacked or built lives under $SPR_CACHE,
# outside the repository, so that a second run is fast.

SPR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPR_CACHE=${SPR_CACHE:-$HOME/.cache/shrinkable_page_range}
SPR_KPKG=linux-source-6.12
SPR_KSRC=$SPR_CACHE/$SPR_KPKG
SPR_BUILD=$SPR_CACHE/build
SPR_JOBS=${SPR_JOBS:-$(nproc)}
# The files that make up the module, as kbuild sees them.
SPR_MODULE_FILES=(Makefile Kconfig shrinker.c shrinker.h
		  shrinkable_page_range.c shrinkable_page_range.h internal.h
		  spr_trace.h tests/shrinkable_page_range_kunit.c
		  tests/spr_test_driver.c tests/spr_test_uapi.h
		  tests/spr_bench.c tests/spr_bench_uapi.h)

spr_log() { printf '==> %s\n' "$*" >&2; }
spr_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install Debian packages that are missing; a no-op when all are there.
spr_apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	spr_log "apt-get install ${missing[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq || spr_die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		spr_die "apt-get install ${missing[*]} failed"
}

# The build tools every command needs.
spr_build_deps() {
	spr_apt_install build-essential bc bison flex libelf-dev libssl-dev \
		python3 rsync xz-utils kmod cpio "$@"
}

# Unpack Debian's linux-source-6.12 once, and again only if apt upgraded it.
spr_kernel_source() {
	spr_apt_install "$SPR_KPKG"
	local version stamp=$SPR_KSRC/.spr-unpacked
	version=$(dpkg-query -W -f='${Version}' "$SPR_KPKG")
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
		return 0
	fi
	spr_log "unpacking $SPR_KPKG $version into $SPR_CACHE"
	rm -rf "$SPR_KSRC" "$SPR_BUILD"
	mkdir -p "$SPR_CACHE"
	tar -xf "/usr/src/$SPR_KPKG.tar.xz" -C "$SPR_CACHE" ||
		spr_die "cannot unpack /usr/src/$SPR_KPKG.tar.xz"
	echo "$version" >"$stamp"
}

# Copy the module's files to $1, touching only the files that changed, so
# that kbuild rebuilds only what it must.
spr_copy_module() {
	local dest=$1
	mkdir -p "$dest"
	(cd "$SPR_REPO" && rsync -rc --delete-after --relative \
		"${SPR_MODULE_FILES[@]}" "$dest/") ||
		spr_die "cannot copy the module to $dest"
}

# drivers/android/ of a fresh $SPR_KPKG with the patch series binder/*.patch
# applied, in $1: the series hooks the module into drivers/android/Kconfig
# and Makefile and ports binder's allocator onto it. Fails when a patch
# does not apply cleanly.
spr_patched_android() {
	local stage=$1 p
	rm -rf "$stage"
	mkdir -p "$stage"
	tar -xf "/usr/src/$SPR_KPKG.tar.xz" -C "$stage" --strip-components=1 \
		"$SPR_KPKG/drivers/android" ||
		spr_die "cannot unpack drivers/android from /usr/src/$SPR_KPKG.tar.xz"
	for p in "$SPR_REPO"/binder/*.patch; do
		patch -d "$stage" -p1 -s -F 0 --no-backup-if-mismatch <"$p" ||
			spr_die "${p#"$SPR_REPO"/} does not apply cleanly to $SPR_KPKG"
	done
}

# Make drivers/android/ of the unpacked tree a fresh one with binder/*.patch
# applied, and place the module at drivers/android/shrinkable_page_range/.
# Only files that changed are touched, so that kbuild rebuilds only what it
# must; the series is re-applied only when it changed. Idempotent.
spr_install_in_tree() {
	local dir=$SPR_KSRC/drivers/android stage=$SPR_BUILD/android-patched
	local stamp=$SPR_KSRC/.spr-binder-series sum
	sum=$(cat "$SPR_REPO"/binder/*.patch | sha256sum | cut -d' ' -f1)
	if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
		spr_log "applying binder/*.patch to a fresh drivers/android"
		spr_patched_android "$stage"
		rsync -rc "$stage/drivers/android/" "$dir/" ||
			spr_die "cannot update $dir"
		echo "$sum" >"$stamp"
	fi
	spr_copy_module "$dir/shrinkable_page_range"
}
