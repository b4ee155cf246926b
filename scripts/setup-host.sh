#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs what building and testing dnat needs on a Debian bookworm host.
# Idempotent: each step checks first and does nothing when already done.
# Only the machine's own bookworm apt sources are used for packages.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BINDGEN_VERSION=0.73.2
CARGO_FUZZ_VERSION=0.13.2
VIRTME_NG_VERSION=1.42

PKGS=(
	# kernel build
	clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc libelf-dev
	libssl-dev cpio kmod make rsync xz-utils
	# Rust for the kernel (with core/alloc sources)
	rustc-web rust-web-src rust-web-clippy
	# guest: QEMU, virtme-ng needs udev on the host for its console links
	qemu-system-x86 udev
	# tools used inside the guest (the guest sees the host's root fs)
	iproute2 iputils-ping traceroute socat iperf3 tcpdump nftables ethtool procps
	strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
	openssl jq util-linux
	# the kernel tree's YNL tools (scripts/ynl-check.sh, the 52-ynl scenario)
	python3-yaml python3-jsonschema
	# virtme-ng goes into a virtual environment (bookworm's Python is
	# externally managed: no pip install into the system)
	python3-venv
	# the 58-metrics scenario parses dnatctl's Prometheus output with it
	python3-prometheus-client
	# make bench: instruction counts on the host
	valgrind
	# make units-check: systemd-analyze verify looks the units' man pages up
	man-db
)

# dnatctl, dnat-core and the formatting use a rustup toolchain; bindgen
# and cargo-fuzz are built with it below.
command -v cargo >/dev/null && command -v rustfmt >/dev/null ||
	die "a rustup toolchain is required in ~/.cargo/bin (cargo, rustfmt, clippy): https://rustup.rs"

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "apt: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	step "apt: all ${#PKGS[@]} packages present"
fi

mkdir -p "$DNAT_CACHE/bin" /lib/modules
if ! "$DNAT_CACHE/bin/bindgen" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	step "cargo: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --quiet --locked --root "$DNAT_CACHE/cargo" bindgen-cli --version "$BINDGEN_VERSION"
	ln -sf "$DNAT_CACHE/cargo/bin/bindgen" "$DNAT_CACHE/bin/bindgen"
else
	step "bindgen $BINDGEN_VERSION present"
fi

# make fuzz-smoke: cargo-fuzz (scripts/fuzz.sh runs it with the stable
# toolchain and RUSTC_BOOTSTRAP=1).
if ! "$DNAT_CACHE/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
	step "cargo: installing cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install --quiet --locked --root "$DNAT_CACHE/cargo" cargo-fuzz --version "$CARGO_FUZZ_VERSION"
	ln -sf "$DNAT_CACHE/cargo/bin/cargo-fuzz" "$DNAT_CACHE/bin/cargo-fuzz"
else
	step "cargo-fuzz $CARGO_FUZZ_VERSION present"
fi

# virtme-ng in a virtual environment of Debian's python3 under the cache;
# $DNAT_CACHE/bin/vng is the one the scripts run (lib.sh puts it first).
VENV=$DNAT_CACHE/venv
if ! "$DNAT_CACHE/bin/vng" --version 2>/dev/null | grep -q "$VIRTME_NG_VERSION"; then
	step "pip: installing virtme-ng $VIRTME_NG_VERSION into $VENV"
	rm -rf "$VENV"
	/usr/bin/python3 -m venv "$VENV"
	PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
		"$VENV/bin/pip" install --quiet --no-warn-script-location \
		"virtme-ng==$VIRTME_NG_VERSION"
	ln -sf "$VENV/bin/vng" "$DNAT_CACHE/bin/vng"
else
	step "virtme-ng $VIRTME_NG_VERSION present"
fi
step "host set-up done"
