#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Router administration with real traffic: per-host counters, the policy
# for packets nobody owns, revoking and readmitting a host (its traffic
# stops at the router, it is told, it is refused service), and a reset.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#    dnat0 ipip   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
}
trap finish EXIT
topology
T=$(mktemp -d)
stat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
host() { nrouter "$DNATCTL" --json router hosts | jq -r ".hosts[] | select(.host == \"$1\") | .$2"; }
pcap() { tcpdump -r "$1" -n 2>/dev/null || true; }
echo_udp() { n "$1" sh -c "echo $2 | timeout 5 socat -t 2 - UDP:203.0.113.3:9090" 2>/dev/null || true; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
dnat_host_ipip h1 10.0.0.1
dnat_host_ipip h2 10.0.0.3
g1=$(nh1 "$DNATCTL" --json pap request ports 16 high router 10.0.0.7 --native)
nh2 "$DNATCTL" --json pap request ports 16 high router 10.0.0.7 --native >/dev/null
lo1=$(jq .lowest <<<"$g1")
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
sleep 1

# -- per-host counters
expect_eq "h1 UDP echo works" "$(echo_udp h1 one)" one
expect_eq "h1: one packet forwarded out" "$(host 10.0.0.1 out)" 1
expect_eq "h1: one packet delivered in" "$(host 10.0.0.1 in)" 1
expect_eq "h1 holds its 16 ports" "$(host 10.0.0.1 ports)" 16
nh2 sh -c "echo x | socat -t 1 - UDP:203.0.113.3:9090,sourceport=$((lo1 + 3))" >/dev/null 2>&1 || true
sleep 1
expect_eq "h2's use of h1's port is counted against h2" "$(host 10.0.0.3 spoofed)" 1
expect_eq "h2 forwarded nothing" "$(host 10.0.0.3 out)" 0

# -- packets nobody owns: the router's own stack by default, or dropped
nrouter socat -u UDP-RECV:5555,reuseaddr OPEN:"$T/local.in",creat,append &
pids+=($!)
wait_listen router u 5555
next sh -c "echo to-router | socat -u - UDP-SENDTO:203.0.113.30:5555"
sleep 1
expect_eq "unowned port: the router's own service got it" "$(cat "$T/local.in")" to-router
expect_errno "unknown unowned policy refused" 22 "unknown UNOWNED value" nrouter "$DNATCTL" router set unowned 7
check "unowned policy set to drop" nrouter "$DNATCTL" router set unowned drop
expect_eq "show reports the drop policy" "$(nrouter "$DNATCTL" --json router show | jq -r .config.unowned)" drop
u0=$(stat in_unowned)
next sh -c "echo dropped | socat -u - UDP-SENDTO:203.0.113.30:5555"
sleep 1
expect_eq "unowned port with the drop policy: nothing reached the router's service" "$(cat "$T/local.in")" to-router
expect_eq "the dropped packet was counted" "$(( $(stat in_unowned) - u0 ))" 1
nrouter "$DNATCTL" router set unowned local

# -- revoke h1: told, traffic stops at the router, refused service
nh1 tcpdump -U -q -n -i eth0 -w "$T/inval.pcap" 'icmp[0] == 36' 2>/dev/null &
cap=$!
sleep 1
expect_errno "unprivileged revoke refused" 1 "" \
	nrouter setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$DNATCTL" router revoke 10.0.0.1
check "admin revokes h1" nrouter "$DNATCTL" router revoke 10.0.0.1
sleep 1
kill "$cap" 2>/dev/null; sleep 1
expect_eq "h1 was told with an invalidate-all" "$(pcap "$T/inval.pcap" | grep -c 'ICMP type-#36')" 1
expect_eq "h1 is listed as revoked, holding nothing" "$(host 10.0.0.1 revoked) $(host 10.0.0.1 ports)" "true 0"
d0=$(stat in_delivered)
expect_eq "h1's traffic no longer passes" "$(echo_udp h1 two)" ""
expect_eq "nothing was delivered to h1" "$(( $(stat in_delivered) - d0 ))" 0
rc=0; out=$(nh1 "$DNATCTL" --json pap request ports 16 high router 10.0.0.7) || rc=$?
expect_eq "revoked h1 is refused new ports" "$rc $(jq -r .refused <<<"$out")" "1 revoked"
# Over the request rate limit, a revoked host is still told "revoked"
# (stop asking), not "rate_limited" (retry later).
nrouter "$DNATCTL" router set pap-rate 1
rl0=$(stat rate_limited) rf0=$(stat refused)
nh1 python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 1 1 3
sleep 1
expect_eq "revoked h1, 3 requests at a limit of 1 a second: all refused, none rate_limited" \
	"$(( $(stat refused) - rf0 )) $(( $(stat rate_limited) - rl0 ))" "3 0"
nrouter "$DNATCTL" router set pap-rate 0
s0=$(host 10.0.0.1 spoofed)
nh1 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.3 esp 0x1000 2
sleep 1
expect_eq "revoked h1 cannot send ESP either" "$(( $(host 10.0.0.1 spoofed) - s0 ))" 2
expect_eq "h2 is unaffected" "$(echo_udp h2 three)" three
expect_errno "readmitting an unknown host refused" 2 "no such host" nrouter "$DNATCTL" router readmit 10.0.0.99
check "admin readmits h1" nrouter "$DNATCTL" router readmit 10.0.0.1
check "readmitted h1 gets ports again" nh1 "$DNATCTL" pap request ports 16 high router 10.0.0.7 --native

# -- reset: everything invalidated, a new epoch, hosts told
e1=$(jq -r .epoch <<<"$g1")
nh2 tcpdump -U -q -n -i eth0 -w "$T/reset.pcap" 'icmp[0] == 36' 2>/dev/null &
cap=$!
sleep 1
check "admin resets the router" nrouter "$DNATCTL" router reset
sleep 1
kill "$cap" 2>/dev/null; sleep 1
expect_eq "h2 was told by a broadcast" "$(pcap "$T/reset.pcap" | grep -c 'ICMP type-#36')" 1
expect_eq "no blocks after the reset" "$(nrouter "$DNATCTL" --json router blocks | jq -c .blocks)" '[]'
g3=$(nh2 "$DNATCTL" --json pap request ports 16 high router 10.0.0.7)
check "a new epoch after the reset ($e1 -> $(jq -r .epoch <<<"$g3"))" test "$(jq -r .epoch <<<"$g3")" != "$e1"
rm -rf "$T"
