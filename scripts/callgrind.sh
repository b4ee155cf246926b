#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Instructions per packet of the router's per-packet decision (parse the
# IPv4 header, then the module's own decisions of
# rust/dnat-core/src/router_path.rs: path, owner, SA check, counters), as
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
# (ports: the whole pool allocated; SPIs: 65,536 blocks of 16)
# host_translate_out=NN host_translate_in=NN host_translate_udp=NN (the host's
# SPTT lookup + TCP flag tracking + port rewrite with checksum fix-up,
# rust/dnat-core/examples/sptt_cost.rs, 4,080 entries per protocol).
# ICMP beside UDP (rust/dnat-core/examples/icmp_cost.rs, one harness for
# both: the ICMP-aware classification, one host with 255 ports): the line
# before the last gives every scenario, and the last line goes on with
# icmp_echo_in=NN icmp_udp_in=NN (an echo reply and a UDP datagram to a
# host) icmp_echo_out=NN icmp_udp_out=NN (IP-in-IP from a host, an echo
# request and a UDP datagram inside).
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

HOST_SCENARIOS=(base out-rewrite in-rewrite udp-out-rewrite)

# PAP: one renewal served and answered, plain or authenticated
# (rust/dnat-core/examples/pap_cost.rs).
PAP_SCENARIOS=(base plain auth)

# ICMP and UDP through the same harness (rust/dnat-core/examples/icmp_cost.rs).
ICMP_SCENARIOS=(base udp_in echo_in error_in quoted_sa_in udp_out echo_out esp_learn
	host_echo_out host_error_in)

step "building the classify_cost, sptt_cost, pap_cost and icmp_cost examples (release)"
cd "$DNAT_TOP"
cargo build --quiet --release --example classify_cost --example sptt_cost \
	--example pap_cost --example icmp_cost --manifest-path rust/dnat-core/Cargo.toml
EX=${CARGO_TARGET_DIR:-rust/dnat-core/target}/release/examples
for b in classify_cost sptt_cost pap_cost icmp_cost; do
	[[ -x $EX/$b ]] || die "$EX/$b not built"
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Total instructions of `EXAMPLE SCENARIO PACKETS` under callgrind.
instructions() {
	local out=$TMP/$1.$2.$3
	"$VALGRIND" --tool=callgrind --callgrind-out-file="$out" \
		"$EX/$1" "$2" "$3" >"$out.stdout" 2>"$out.stderr" ||
		die "$1 $2 $3 failed: $(cat "$out.stdout" "$out.stderr")"
	awk '$1 == "summary:" || $1 == "totals:" { print $2; exit }' "$out"
}

declare -A PER
# measure EXAMPLE SCENARIO...: instructions per packet into PER[EXAMPLE:SCENARIO].
measure() {
	local ex=$1 s a b
	shift
	step "running $# $ex scenarios under callgrind, $N and $((2 * N)) packets"
	for s in "$@"; do
		instructions "$ex" "$s" "$N" >"$TMP/a" &
		instructions "$ex" "$s" "$((2 * N))" >"$TMP/b" ||
			die "$ex $s $((2 * N)) failed"
		wait $! || die "$ex $s $N failed"
		a=$(<"$TMP/a") b=$(<"$TMP/b")
		[[ -n $a && -n $b ]] || die "no instruction total for $ex $s"
		PER[$ex:$s]=$(awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
	done
}
measure classify_cost "${SCENARIOS[@]}"
measure sptt_cost "${HOST_SCENARIOS[@]}"
measure pap_cost "${PAP_SCENARIOS[@]}"
measure icmp_cost "${ICMP_SCENARIOS[@]}"

printf '%-32s %s\n' scenario instructions/packet
for s in "${SCENARIOS[@]}"; do
	printf '%-32s %s\n' "router $s" "${PER[classify_cost:$s]}"
done
for s in "${HOST_SCENARIOS[@]}"; do
	printf '%-32s %s\n' "host $s" "${PER[sptt_cost:$s]}"
done
for s in "${PAP_SCENARIOS[@]}"; do
	printf '%-32s %s\n' "pap renewal $s (per message)" "${PER[pap_cost:$s]}"
done
for s in "${ICMP_SCENARIOS[@]}"; do
	printf '%-32s %s\n' "icmp_cost $s" "${PER[icmp_cost:$s]}"
done
# Both ends of one PAP exchange, the loop taken out.
pap() { awk -v a="${PER[pap_cost:$1]}" -v b="${PER[pap_cost:base]}" 'BEGIN { printf "%.0f", a - b }'; }
echo "pap_plain=$(pap plain) pap_auth=$(pap auth) (instructions per renewal served and answered)"
round() { printf '%.0f' "$1"; }
icmp=""
for s in "${ICMP_SCENARIOS[@]}"; do
	icmp+="${icmp:+ }$s=$(round "${PER[icmp_cost:$s]}")"
done
echo "icmp_cost: $icmp (instructions per packet, loop included)"
echo "classify_inbound_port=$(round "${PER[classify_cost:inbound_port_64k]}")" \
	"classify_inbound_spi_1m=$(round "${PER[classify_cost:inbound_spi_1m]}")" \
	"classify_outbound=$(round "${PER[classify_cost:outbound]}")" \
	"host_translate_out=$(round "${PER[sptt_cost:out-rewrite]}")" \
	"host_translate_in=$(round "${PER[sptt_cost:in-rewrite]}")" \
	"host_translate_udp=$(round "${PER[sptt_cost:udp-out-rewrite]}")" \
	"icmp_echo_in=$(round "${PER[icmp_cost:echo_in]}")" \
	"icmp_udp_in=$(round "${PER[icmp_cost:udp_in]}")" \
	"icmp_echo_out=$(round "${PER[icmp_cost:echo_out]}")" \
	"icmp_udp_out=$(round "${PER[icmp_cost:udp_out]}")"
