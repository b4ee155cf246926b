#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP for hosts without the host module (issue 16): a standard ipip
# tunnel and dnatctl's userspace PAP client with the block as the
# ephemeral port range (--native), as in 40-datapath. Nothing translates
# ICMP identifiers there (Documentation/networking/dnat.rst, "What ping
# does"): both hosts ping one Internet address at once, each with an
# identifier of its own block (ping -e; raw and ping sockets), and get
# all replies; an identifier outside the block, another host's or the one
# an unmodified ping's socket gets from the kernel's counter, is refused
# by the router and counted as spoofed. Errors reach the tunnel's
# applications untranslated: time exceeded from isp and from the router
# itself, port unreachable (ECONNREFUSED), and path MTU discovery for a
# 1 MB TCP upload behind a 1280-byte link.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#    dnat0 ipip   |-- [lan] --- router ---- [inet] --+-- isp 203.0.113.1
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  | mtu 1280
#    dnat0 ipip                                         gw 192.0.2.2
#                                                            |
#                                                       srv 192.0.2.10
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
}
trap finish EXIT
topology
narrow_path
T=$(mktemp -d)
PUB=203.0.113.30
rstat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
rhost() { nrouter "$DNATCTL" --json router hosts | jq -r ".hosts[] | select(.host == \"$1\") | .$2"; }
in_block() { [ "$1" -ge "$2" ] && [ "$1" -lt $(($2 + $3)) ]; }
received() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public $PUB ports 20000-29999 spis 0x1000-0x1fff
dnat_host_ipip h1 10.0.0.1
dnat_host_ipip h2 10.0.0.3
for h in h1 h2; do n $h ip route add 192.0.2.0/24 dev dnat0 src $PUB; done
g1=$(nh1 "$DNATCTL" --json pap request ports 64 high router 10.0.0.7 --native)
g2=$(nh2 "$DNATCTL" --json pap request ports 64 high router 10.0.0.7 --native)
lo1=$(jq .lowest <<<"$g1") lo2=$(jq .lowest <<<"$g2")
expect_eq "h1 holds 64 ports" "$(jq .count <<<"$g1")" 64
expect_eq "h2 holds 64 ports" "$(jq .count <<<"$g2")" 64

# -- Both hosts ping srv at the same time, each with an identifier of its
# own block: raw sockets first (a namespace's ping_group_range refuses
# ping sockets by default, so root's ping falls back to a raw socket and
# puts the identifier in the header), then ping sockets (ping -e binds
# the socket to the identifier).
id1=$((lo1 + 5)) id2=$((lo2 + 5))
ping_pair() {
	local tag=$1 cpids=()
	nh1 ping -q -c 5 -i 0.2 -W 3 -e "$id1" 192.0.2.10 >"$T/h1.$tag" 2>&1 &
	cpids+=($!)
	nh2 ping -q -c 5 -i 0.2 -W 3 -e "$id2" 192.0.2.10 >"$T/h2.$tag" 2>&1 &
	cpids+=($!)
	wait "${cpids[@]}" || true
}
r0=$(rstat in_icmp_reply) s0=$(rstat out_spoofed)
ping_pair raw
expect_eq "raw sockets: h1 got all 5 replies with identifier $id1 (its block)" "$(received "$T/h1.raw")" 5
expect_eq "raw sockets: h2 got all 5 replies with identifier $id2 (its block)" "$(received "$T/h2.raw")" 5
for h in h1 h2; do n $h sysctl -qw net.ipv4.ping_group_range="0 2147483647"; done
ping_pair sock
expect_eq "ping sockets: h1 got all 5 replies with identifier $id1" "$(received "$T/h1.sock")" 5
expect_eq "ping sockets: h2 got all 5 replies with identifier $id2" "$(received "$T/h2.sock")" 5
expect_eq "the router delivered the 20 replies by identifier" "$(($(rstat in_icmp_reply) - r0))" 20
expect_eq "the router refused no request as spoofed" "$(rstat out_spoofed)" "$s0"

# -- An identifier outside the block: h1 pings with one of h2's. The
# router refuses every request (out_spoofed, and h1's own count); h2 gets
# nothing.
s0=$(rstat out_spoofed) hs0=$(rhost 10.0.0.1 spoofed) in2=$(rhost 10.0.0.3 in)
nh1 ping -q -c 3 -i 0.2 -W 2 -e "$id2" 192.0.2.10 >"$T/h1.foreign" 2>&1 || true
expect_eq "h1's ping with h2's identifier $id2 got no reply" "$(received "$T/h1.foreign")" 0
expect_eq "... its 3 requests were refused as spoofed" "$(($(rstat out_spoofed) - s0))" 3
expect_eq "... counted against h1" "$(($(rhost 10.0.0.1 spoofed) - hs0))" 3
expect_eq "... and nothing reached h2" "$(rhost 10.0.0.3 in)" "$in2"

# -- An unmodified ping (a ping socket, which takes its identifier from a
# per-namespace counter over 1..65535, not from ip_local_port_range): it
# works only if that identifier happens to be in the block (64 of 65,535),
# else the router refuses each request as spoofed. The identifier is read
# off h1's tunnel device.
nh1 tcpdump -U -n -i dnat0 -c 1 -w "$T/plain.pcap" 'icmp[0] == 8' 2>/dev/null &
cap=$!
pids+=($cap)
sleep 1
s0=$(rstat out_spoofed)
nh1 ping -q -c 3 -i 0.2 -W 2 192.0.2.10 >"$T/h1.plain" 2>&1 || true
wait "$cap" 2>/dev/null || true
pid=$(tcpdump -r "$T/plain.pcap" -n -v 2>/dev/null | sed -n 's/.*echo request, id \([0-9]*\),.*/\1/p' | head -1)
check "an unmodified ping on h1 sent identifier ${pid:-?}" test -n "$pid"
if in_block "${pid:-0}" "$lo1" 64; then
	expect_eq "... in h1's block: all 3 replies" "$(received "$T/h1.plain") $(($(rstat out_spoofed) - s0))" "3 0"
else
	expect_eq "... outside h1's block: no reply, 3 requests refused as spoofed" \
		"$(received "$T/h1.plain") $(($(rstat out_spoofed) - s0))" "0 3"
fi

# -- Errors, untranslated: time exceeded from isp (ping -t 2) and from the
# router itself (ping -t 1, its stack's error through lo, from its LAN
# address), delivered by the quoted identifier.
e0=$(rstat in_icmp_error_port) l0=$(rstat local_icmp_error)
nh1 ping -c 1 -W 3 -t 2 -e "$id1" 192.0.2.10 >"$T/ttl2" 2>&1 || true
check "h1: ping -t 2 reports time exceeded from isp" grep -q 'From 203.0.113.1.*Time to live exceeded' "$T/ttl2"
expect_eq "... delivered by the quoted identifier" "$(($(rstat in_icmp_error_port) - e0))" 1
nh1 ping -c 1 -W 3 -t 1 -e "$id1" 192.0.2.10 >"$T/ttl1" 2>&1 || true
check "h1: ping -t 1 reports time exceeded from the router's LAN address" \
	grep -q 'From 10.0.0.7.*Time to live exceeded' "$T/ttl1"
expect_eq "... the router's own error, tunnelled to h1" "$(($(rstat local_icmp_error) - l0))" 1

# Port unreachable: the quoted source port is h1's own (native range).
e0=$(rstat in_icmp_error_port)
expect_eq "h1: UDP to a closed port of srv is refused (ECONNREFUSED)" \
	"$(nh1 python3 "$TOP/qemu-tests/udp_probe.py" refused 192.0.2.10 9999)" refused
expect_eq "... the router delivered the port unreachable by the quoted port" "$(($(rstat in_icmp_error_port) - e0))" 1

# -- Path MTU discovery: a 1 MB TCP upload from h1 to srv (DF, no MSS
# clamping: h1's dnat0 allows 1480 bytes, srv announces 1460) completes
# only if isp's fragmentation needed reaches h1's TCP socket.
head -c 1000000 /dev/urandom >"$T/up"
n srv timeout 90 socat -u TCP-LISTEN:8081,reuseaddr OPEN:"$T/up.srv",creat,trunc &
srvpid=$!
pids+=($srvpid)
wait_listen srv t 8081
e0=$(rstat in_icmp_error_port)
check "h1: 1 MB TCP upload to srv behind the 1280-byte link within 60 s" \
	nh1 timeout 60 socat -u OPEN:"$T/up" TCP:192.0.2.10:8081
wait "$srvpid" 2>/dev/null || true
expect_eq "srv received the upload byte for byte" \
	"$(sha256sum <"$T/up.srv" | cut -d' ' -f1)" "$(sha256sum <"$T/up" | cut -d' ' -f1)"
check "isp's fragmentation needed was delivered by the quoted port" test "$(rstat in_icmp_error_port)" -gt "$e0"
check "h1's route to srv has the path MTU 1280" grep -q 'mtu 1280' <(nh1 ip route get 192.0.2.10)
