# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the dnat set-up and test scripts. Sourced, not run.

DNAT_CACHE=${DNAT_CACHE:-$HOME/.cache/dnat}
DNAT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DNAT_START=${DNAT_START:-$(date +%s)}
export DNAT_START

# Toolchain: the kernel needs Debian's rustc (with rust-src); rustup's comes
# first in PATH and has no rust-src. The cache's bin (bindgen, cargo-fuzz,
# vng from its virtual environment) comes before everything; python3 is
# Debian's, whose packages (python3-yaml, ...) set-up installs.
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH="$DNAT_CACHE/bin:$HOME/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
KMAKE_VARS="LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN=$DNAT_CACHE/bin/bindgen"

# Progress goes to stderr, so that scripts can print results on stdout.
step() {
	printf '[dnat %4ss] %s\n' "$(( $(date +%s) - DNAT_START ))" "$*" >&2
}

die() {
	printf 'dnat: error: %s\n' "$*" >&2
	exit 1
}
