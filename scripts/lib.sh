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

# Insert $2 into file $1 before its last line matching $3, or append it
# when $3 is empty; nothing happens if the line is there already.
spr_hook_line() {
	local file=$1 line=$2 before=$3
	grep -qxF "$line" "$file" && return 0
	awk -v line="$line" -v pat="$before" '
		{ lines[NR] = $0 } pat != "" && $0 ~ pat { at = NR }
		END { if (!at) at = NR + 1
		      for (i = 1; i <= NR + 1; i++) {
			if (i == at) print line
			if (i <= NR) print lines[i] } }' \
		"$file" >"$file.spr" && mv "$file.spr" "$file"
	grep -qxF "$line" "$file" || spr_die "cannot hook $file"
}

# Place the module at drivers/android/shrinkable_page_range/ and hook it
# into drivers/android/Kconfig and Makefile. Idempotent.
spr_install_in_tree() {
	local dir=$SPR_KSRC/drivers/android
	spr_copy_module "$dir/shrinkable_page_range"
	spr_hook_line "$dir/Kconfig" \
		'source "drivers/android/shrinkable_page_range/Kconfig"' \
		'^endmenu'
	spr_hook_line "$dir/Makefile" \
		'obj-$(CONFIG_SHRINKABLE_PAGE_RANGE)	+= shrinkable_page_range/' ''
}
