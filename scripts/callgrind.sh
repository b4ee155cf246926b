#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Instructions per packet of the router's per-packet decision (parse the
# IPv4 header, classify, look the owner up in the allocation tables), as
# host-side pure code: rust/dnat-core/examples/classify_cost.rs, run under
# callgrind. Instruction counts are deterministic and do not depend on the
# machine's load, unlike times measured in a guest under QEMU/TCG (the
# kernel benchmarks), so they can be compared from commit to commit.
#
# Each scenario runs twice, with N and 2N packets; the example's setup
# (tables, prebuilt packets) does not depend on N, so
# (instructions(2N) - instructions(N)) / N is the cost of one packet: the
# decision, its non-inlined call and the loop around it (the `base`
# scenario shows that last part alone). No symbol names needed.
#
# Prints a table "scenario instructions/packet" and, on the last line,
# classify_inbound_port=NN classify_inbound_spi_1m=NN classify_outbound=NN
# (ports: the whole pool allocated; SPIs: 65,536 blocks of 16).
# The two runs of a scenario go side by side (two processes); the whole
# takes about half a minute, most of it building 65,536 SPI blocks.
# Usage: scripts/callgrind.sh [N]   (N packets, default 20000)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=${1:-20000}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
VALGRIND=${VALGRIND:-/usr/bin/valgrind}
[[ -x $VALGRIND ]] || die "valgrind not found at $VALGRIND"

SCENARIOS=(base inbound_port_1 inbound_port_64k inbound_spi_1 inbound_spi_1m
	outbound outbound_find_host outbound_find_host_4k)

step "building the classify_cost example (release)"
cd "$DNAT_TOP"
cargo build --quiet --release --example classify_cost \
	--manifest-path rust/dnat-core/Cargo.toml
BIN=${CARGO_TARGET_DIR:-rust/dnat-core/target}/release/examples/classify_cost
[[ -x $BIN ]] || die "$BIN not built"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Total instructions of `classify_cost SCENARIO PACKETS` under callgrind.
instructions() {
	local out=$TMP/$1.$2
	"$VALGRIND" --tool=callgrind --callgrind-out-file="$out" \
		"$BIN" "$1" "$2" >"$out.stdout" 2>"$out.stderr" ||
		die "$1 $2 failed: $(cat "$out.stdout" "$out.stderr")"
	awk '$1 == "summary:" || $1 == "totals:" { print $2; exit }' "$out"
}

declare -A PER
step "running ${#SCENARIOS[@]} scenarios under callgrind, $N and $((2 * N)) packets"
for s in "${SCENARIOS[@]}"; do
	instructions "$s" "$N" >"$TMP/a" &
	instructions "$s" "$((2 * N))" >"$TMP/b" ||
		die "$s $((2 * N)) failed"
	wait $! || die "$s $N failed"
	a=$(<"$TMP/a") b=$(<"$TMP/b")
	[[ -n $a && -n $b ]] || die "no instruction total for $s"
	PER[$s]=$(awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
done

printf '%-24s %s\n' scenario instructions/packet
for s in "${SCENARIOS[@]}"; do
	printf '%-24s %s\n' "$s" "${PER[$s]}"
done
round() { printf '%.0f' "$1"; }
echo "classify_inbound_port=$(round "${PER[inbound_port_64k]}")" \
	"classify_inbound_spi_1m=$(round "${PER[inbound_spi_1m]}")" \
	"classify_outbound=$(round "${PER[outbound]}")"
