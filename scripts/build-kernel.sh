#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches Debian's linux-source-7.3 (trixie-backports) through a private apt
# configuration (the system's apt sources are not touched), unpacks it into
# the cache, applies kernel/patches/*.patch, configures it from allnoconfig
# plus kernel/config/dnat.config (and kernel/config/debug.config when
# DNAT_DEBUG=1), and builds bzImage and modules.
#
# The tree lives in $DNAT_CACHE/kernel/<key>, where <key> is a hash of the
# source package version, the fragments and the patches: a second run with the
# same inputs reuses it; a change to any of them builds a fresh tree.
# Prints the kernel tree path on the last line of stdout.
#
#   scripts/build-kernel.sh --source   only downloads and unpacks the
#                                      pristine source (shared by all trees,
#                                      never modified) and prints its path
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKG=linux-source-7.3
DEBUG=${DNAT_DEBUG:-0}
JOBS=${DNAT_JOBS:-3}
APTDIR=$DNAT_CACHE/apt

# 1. The source package, downloaded once (any 7.3.x; the version is recorded).
deb=$(ls "$DNAT_CACHE"/src/${PKG}_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	step "kernel: downloading $PKG from trixie-backports (private apt config)"
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$DNAT_CACHE/src"
	uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	uri=${uri:-http://deb.debian.org/debian}
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main" >"$APTDIR/sources.list"
	O=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
	   -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache")
	apt-get "${O[@]}" -qq -o APT::Sandbox::User=root update
	(cd "$DNAT_CACHE/src" && apt-get "${O[@]}" -qq -o APT::Sandbox::User=root download "$PKG")
	deb=$(ls "$DNAT_CACHE"/src/${PKG}_*.deb | tail -1)
fi
version=$(dpkg-deb -f "$deb" Version)

# The pristine source, unpacked once per package version and shared by all
# trees (they are copies); nothing writes to it afterwards.
pristine=$DNAT_CACHE/src/$version
if [ ! -f "$pristine/.dnat-unpacked" ]; then
	step "kernel: unpacking $PKG $version"
	rm -rf "$pristine" "$pristine.x"
	mkdir -p "$pristine.x"
	dpkg-deb -x "$deb" "$pristine.x"
	mkdir -p "$pristine"
	tar -xf "$pristine.x"/usr/src/linux-source-7.3.tar.xz -C "$pristine" --strip-components=1
	rm -rf "$pristine.x"
	touch "$pristine/.dnat-unpacked"
fi
if [ "${1:-}" = --source ]; then
	echo "$pristine"
	exit 0
fi

# 2. The cache key: package version + fragments + patches + debug switch.
frags=("$DNAT_TOP/kernel/config/dnat.config")
[ "$DEBUG" = 1 ] && frags+=("$DNAT_TOP/kernel/config/debug.config")
key=$( { echo "$version debug=$DEBUG"; cat "${frags[@]}" "$DNAT_TOP"/kernel/patches/*.patch; } | sha256sum | cut -c1-16)
tree=$DNAT_CACHE/kernel/$key
link=$DNAT_CACHE/kernel/current
[ "$DEBUG" = 1 ] && link=$DNAT_CACHE/kernel/current-debug

# Keeps the trees that current and current-debug point to, removes others.
prune() {
	local keep1 keep2 d
	keep1=$(readlink -f "$DNAT_CACHE/kernel/current" 2>/dev/null || true)
	keep2=$(readlink -f "$DNAT_CACHE/kernel/current-debug" 2>/dev/null || true)
	for d in "$DNAT_CACHE"/kernel/*/; do
		d=${d%/}
		[ -L "$d" ] && continue
		[ "$d" = "$keep1" ] || [ "$d" = "$keep2" ] || { step "kernel: removing stale tree $d"; rm -rf "$d"; }
	done
}

if [ -f "$tree/.dnat-built" ]; then
	step "kernel: reusing $tree ($(cat "$tree/.dnat-version"), key $key)"
	ln -sfn "$tree" "$link"
	echo "$tree"
	exit 0
fi

# 3. Copy the pristine source and patch.
step "kernel: preparing tree $tree"
rm -rf "$tree"
mkdir -p "$DNAT_CACHE/kernel"
cp -a "$pristine" "$tree"
for p in "$DNAT_TOP"/kernel/patches/*.patch; do
	step "kernel: applying $(basename "$p")"
	patch -d "$tree" -p1 --quiet --forward <"$p"
done

# 4. Configure: allnoconfig + fragments, then check every fragment option
#    survived olddefconfig (it silently drops options with missing deps).
cd "$tree"
step "kernel: configuring (allnoconfig + ${frags[*]##*/})"
make -s $KMAKE_VARS allnoconfig >/dev/null
scripts/kconfig/merge_config.sh -m .config "${frags[@]}" >/dev/null
make -s $KMAKE_VARS olddefconfig >/dev/null
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		grep -qxF "$line" .config || { echo "dnat: config option lost: $line" >&2; bad=1; }
	done <"$f"
done
[ $bad = 0 ] || die "kernel config fragment not satisfied (see above)"
make -s $KMAKE_VARS rustavailable >/dev/null || die "Rust is not available for this kernel"

# 5. Build, with a heartbeat so a long build is not silence.
step "kernel: building bzImage and modules (-j$JOBS); log in $tree/build.log"
( while sleep 60; do step "kernel: still building ($(grep -c '' build.log 2>/dev/null || echo 0) log lines)"; done ) >&2 &
hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
if ! make $KMAKE_VARS -j"$JOBS" bzImage modules >build.log 2>&1; then
	tail -40 build.log >&2
	die "kernel build failed (full log: $tree/build.log)"
fi
if grep -E -i '(^|[^a-z])warning:' build.log >&2; then
	step "kernel: note: the build printed warnings (above)"
fi
echo "$PKG $version" >.dnat-version
touch .dnat-built
ln -sfn "$tree" "$link"
prune
step "kernel: built $PKG $version in $tree"
echo "$tree"
