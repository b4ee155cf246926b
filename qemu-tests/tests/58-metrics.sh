#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Metrics: traffic of known sizes through two hosts, h1 with the host
# module and h2 with a plain ipip tunnel, against the router's per-host
# packet and byte counters and the host module's own; the human stats
# output without zeros unless --all; and the Prometheus output of
# `stats --prometheus`, read by the Prometheus Python client's parser and
# compared with --json, written to a file with --output.
#
# Bytes are IPv4 total lengths without the outer IP-in-IP header: a UDP
# datagram of N payload bytes counts 28 + N.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
#    dnat0 ipip
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
	rm -rf "$T"
}
T=$(mktemp -d)
trap finish EXIT
topology
# The Debian python3 with python3-prometheus-client (scripts/setup-host.sh).
PY=/usr/bin/python3
if ! $PY -c 'import prometheus_client.parser'; then
	fail "$PY imports prometheus_client (python3-prometheus-client)"
	exit 1
fi
rhost() { nrouter "$DNATCTL" --json router hosts | jq -r ".hosts[] | select(.host == \"$1\") | .$2"; }
hstat() { nh1 "$DNATCTL" --json host stats | jq -r ".stats.$1"; }
# udp NS COUNT SIZE PORT [--echo]: COUNT datagrams of SIZE bytes to ext.
udp() { n "$1" python3 "$TOP/qemu-tests/udp_count.py" 203.0.113.3 "$4" "$2" "$3" "${@:5}"; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up by scripts/host-up.sh (ports granted)" dnat_host_module h1
dnat_host_ipip h2 10.0.0.3
check "h2 gets ports by PAP (native)" nh2 "$DNATCTL" pap request ports 16 high router 10.0.0.7 --native
wait_ports h1 >/dev/null || true
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
# A sink: what reaches it gets no answer (no port unreachable either).
next socat -u UDP-RECV:9191,reuseaddr OPEN:"$T/sink",creat,append &
pids+=($!)
wait_listen ext u 9090
wait_listen ext u 9191

# -- per-host packets and bytes, exact
# h1: 5 echoed datagrams of 100 bytes, 2 of 50 to the sink:
#   out 7 packets, 5 * 128 + 2 * 78 = 796 bytes; in 5 packets, 640 bytes.
# h2: 3 echoed datagrams of 1000 bytes, 4 of 200 to the sink:
#   out 7 packets, 3 * 1028 + 4 * 228 = 3996 bytes; in 3, 3084 bytes.
declare -A r0
for h in 10.0.0.1 10.0.0.3; do
	for k in in out in_bytes out_bytes; do r0[$h.$k]=$(rhost $h $k); done
done
declare -A h0
for k in out_tunnelled out_tunnelled_bytes in_delivered in_delivered_bytes; do h0[$k]=$(hstat $k); done
expect_eq "h1: 5 datagrams of 100 bytes echoed" "$(udp h1 5 100 9090 --echo)" "sent 5 echoed 5"
udp h1 2 50 9191 >/dev/null
expect_eq "h2: 3 datagrams of 1000 bytes echoed" "$(udp h2 3 1000 9090 --echo)" "sent 3 echoed 3"
udp h2 4 200 9191 >/dev/null
sleep 1
expect_eq "the sink got 6 datagrams (2 * 50 + 4 * 200 bytes)" "$(stat -c %s "$T/sink")" 900
d() { echo $(($(rhost "$1" "$2") - r0[$1.$2])); }
expect_eq "router, h1: out 7 packets, 796 bytes; in 5 packets, 640 bytes" \
	"$(d 10.0.0.1 out) $(d 10.0.0.1 out_bytes) $(d 10.0.0.1 in) $(d 10.0.0.1 in_bytes)" "7 796 5 640"
expect_eq "router, h2: out 7 packets, 3996 bytes; in 3 packets, 3084 bytes" \
	"$(d 10.0.0.3 out) $(d 10.0.0.3 out_bytes) $(d 10.0.0.3 in) $(d 10.0.0.3 in_bytes)" "7 3996 3 3084"
hd() { echo $(($(hstat "$1") - h0[$1])); }
expect_eq "h1's module: tunnelled 7 packets, 796 bytes; delivered 5, 640 bytes (as the router counts them)" \
	"$(hd out_tunnelled) $(hd out_tunnelled_bytes) $(hd in_delivered) $(hd in_delivered_bytes)" "7 796 5 640"
line=$(nrouter "$DNATCTL" router hosts | grep '^10\.0\.0\.3') || line=
check "router hosts prints h2's bytes at the end of its line ($line)" \
	grep -qE " in_bytes $(rhost 10.0.0.3 in_bytes) out_bytes $(rhost 10.0.0.3 out_bytes)\$" <<<"$line"

# -- human stats: zeros only with --all; JSON always has them all
for who in router h1; do
	if [ $who = router ]; then cmd=(nrouter "$DNATCTL" router stats); else cmd=(nh1 "$DNATCTL" host stats); fi
	nz() { jq '[.stats[] | select(. != 0)] | length' <<<"$1"; }
	# A counter may leave 0 while we read (PAP renewals): read again then.
	for i in 1 2 3; do
		json=$("${cmd[@]:0:2}" --json "${cmd[@]:2}")
		out=$("${cmd[@]}")
		json2=$("${cmd[@]:0:2}" --json "${cmd[@]:2}")
		[ "$(nz "$json")" = "$(nz "$json2")" ] && break
	done
	total=$(jq '.stats | length' <<<"$json")
	nonzero=$(nz "$json")
	zero=$(jq -r '[.stats | to_entries[] | select(.value == 0) | .key][0] // empty' <<<"$json")
	check "$who stats: some counters are 0 ($zero), some are not ($nonzero of $total)" \
		test -n "$zero" -a "$nonzero" -gt 0
	expect_eq "$who stats prints the $nonzero counters that are not 0, and no 0" \
		"$(wc -l <<<"$out") $(grep -c ': 0$' <<<"$out")" "$nonzero 0"
	check "$who stats leaves $zero out" test "$(grep -c "^$zero: " <<<"$out")" = 0
	out=$("${cmd[@]}" --all)
	expect_eq "$who stats --all prints all $total counters" "$(wc -l <<<"$out")" "$total"
	check "$who stats --all prints $zero: 0" grep -qx "$zero: 0" <<<"$out"
	check "$who stats --json has $zero, 0" jqe ".stats.$zero == 0" <<<"$json" >/dev/null
done

# -- Prometheus output, through the reference parser, against --json
rjson() { nrouter "$DNATCTL" --json router "$1"; }
rjson stats >"$T/s1.json"
rjson hosts >"$T/h1.json"
nrouter "$DNATCTL" router stats --prometheus >"$T/router.prom"
rjson stats >"$T/s2.json"
rjson hosts >"$T/h2.json"
out=$($PY "$TOP/qemu-tests/prom_check.py" router "$T/router.prom" "$T/s1.json" "$T/s2.json" "$T/h1.json" "$T/h2.json" 2>&1) &&
	pass "router stats --prometheus parses and agrees with --json ($out)" ||
	fail "router stats --prometheus parses and agrees with --json: $out"
check "router: h2's bytes out are in the Prometheus output" \
	grep -qx "dnat_router_host_out_bytes_total{host=\"10.0.0.3\"} $(rhost 10.0.0.3 out_bytes)" "$T/router.prom"
check "router: # TYPE lines name counters and gauges" \
	grep -qx '# TYPE dnat_router_in_delivered_total counter' "$T/router.prom"
nh1 "$DNATCTL" --json host stats >"$T/s1.json"
nh1 "$DNATCTL" host stats --prometheus >"$T/host.prom"
nh1 "$DNATCTL" --json host stats >"$T/s2.json"
out=$($PY "$TOP/qemu-tests/prom_check.py" host "$T/host.prom" "$T/s1.json" "$T/s2.json" 2>&1) &&
	pass "host stats --prometheus parses and agrees with --json ($out)" ||
	fail "host stats --prometheus parses and agrees with --json: $out"
check "host: the bytes tunnelled are in the Prometheus output" \
	grep -qx "dnat_host_out_tunnelled_bytes_total $(hstat out_tunnelled_bytes)" "$T/host.prom"

# -- --output: an atomic write of the textfile collector's file
mkdir "$T/textfile"
check "router stats --prometheus --output writes the file" \
	nrouter "$DNATCTL" router stats --prometheus --output "$T/textfile/dnat.prom"
expect_eq "only dnat.prom is left, mode 644" "$(cd "$T/textfile" && ls -A) $(stat -c %a "$T/textfile/dnat.prom")" "dnat.prom 644"
rjson stats >"$T/s2.json"
rjson hosts >"$T/h2.json"
out=$($PY "$TOP/qemu-tests/prom_check.py" router "$T/textfile/dnat.prom" "$T/s1.json" "$T/s2.json" "$T/h1.json" "$T/h2.json" 2>&1) &&
	pass "the file parses and agrees with --json ($out)" ||
	fail "the file parses and agrees with --json: $out"
echo stale >"$T/textfile/dnat.prom"
check "a second --output replaces the file" \
	nh1 "$DNATCTL" host stats --prometheus --output "$T/textfile/dnat.prom"
check "the file now holds the host's metrics" grep -q '^dnat_host_in_delivered_bytes_total ' "$T/textfile/dnat.prom"
rc=0; err=$(nrouter "$DNATCTL" router stats --prometheus --output "$T/none/dnat.prom" 2>&1) || rc=$?
expect_eq "--output into a missing directory: exit 4, said so" \
	"$rc $(grep -c "writing $T/none/dnat.prom: " <<<"$err")" "4 1"
rc=0; nrouter "$DNATCTL" --json router stats --prometheus >/dev/null 2>&1 || rc=$?
expect_eq "--prometheus with --json: a usage error (exit 2)" "$rc" 2
