#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Router administration with real traffic: per-host counters, the policy
# for packets nobody owns, revoking and readmitting a host (its traffic
# stops at the router, it is told, it is refused service), a reset, and
# setting a host's delivery method (SET_DELIVERY) and its errors.
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

# -- delivery: direct with a bound address, its refusals, learning, ipip
raw() { nrouter python3 "$TOP/qemu-tests/genl_raw.py" dnat_router "$@"; }
delivery() { nrouter "$DNATCTL" --json router hosts | jq -c ".hosts[] | select(.host == \"$1\") | [.delivery, .lladdr]"; }
mac1=$(nh1 cat /sys/class/net/eth0/address)
expect_eq "h2 starts on ipip, no lladdr" "$(delivery 10.0.0.3)" '["ipip",null]'
check "h1 set to direct, bound to its MAC $mac1" nrouter "$DNATCTL" router delivery 10.0.0.1 direct lladdr "$mac1"
expect_eq "router hosts --json: h1 direct with its lladdr" "$(delivery 10.0.0.1)" "[\"direct\",\"$mac1\"]"
expect_eq "router hosts: h1's line ends with its delivery" \
	"$(nrouter "$DNATCTL" router hosts | grep '^10.0.0.1' | grep -o 'delivery.*')" "delivery direct lladdr $mac1"
expect_eq "router hosts: h2's (ipip) line is as before" \
	"$(nrouter "$DNATCTL" router hosts | grep '^10.0.0.3' | grep -c delivery)" 0
expect_errno "h2 bound to h1's MAC: EADDRINUSE" 98 "another host is bound to that link-layer address" \
	nrouter "$DNATCTL" router delivery 10.0.0.3 direct lladdr "$mac1"
expect_eq "... h2 unchanged" "$(delivery 10.0.0.3)" '["ipip",null]'
expect_errno "a multicast MAC: EINVAL" 22 "not a unicast link-layer address" \
	nrouter "$DNATCTL" router delivery 10.0.0.3 direct lladdr 01:00:5e:00:00:01
expect_errno "the broadcast MAC: EINVAL" 22 "not a unicast link-layer address" \
	nrouter "$DNATCTL" router delivery 10.0.0.3 direct lladdr ff:ff:ff:ff:ff:ff
# Direct delivery needs one segment: the route to the host must leave by
# the LAN device without a gateway.
for off in 10.0.1.5 203.0.113.3; do
	expect_errno "direct to $off (not on the LAN device's link): EINVAL" 22 \
		"direct delivery needs HOST_ADDR on the LAN device's link" \
		nrouter "$DNATCTL" router delivery "$off" direct lladdr 02:00:00:00:00:09
	expect_errno "... nor to learn its address" 22 "on the LAN device's link" \
		nrouter "$DNATCTL" router delivery "$off" direct
	expect_eq "... $off is not listed" "$(delivery "$off")" ""
done
expect_eq "raw SET_DELIVERY, multicast LLADDR: EINVAL with its message" \
	"$(raw 19 13:u32:0x0300000a 46:u8:1 47:hex:01005e000001)" "errno 22 not a unicast link-layer address"
# The policy's exact length is a range (NLA_POLICY_EXACT_LEN): ERANGE.
expect_eq "raw SET_DELIVERY, LLADDR of 5 bytes: refused by the policy" \
	"$(raw 19 13:u32:0x0300000a 46:u8:1 47:hex:0200000000 | cut -d' ' -f1-2)" "errno 34"
expect_eq "raw SET_DELIVERY, LLADDR of 7 bytes: refused by the policy" \
	"$(raw 19 13:u32:0x0300000a 46:u8:1 47:hex:02000000000300 | cut -d' ' -f1-2)" "errno 34"
expect_eq "raw SET_DELIVERY, ipip with LLADDR: EINVAL" \
	"$(raw 19 13:u32:0x0300000a 46:u8:0 47:hex:020000000003)" "errno 22 LLADDR is for direct delivery only"
expect_eq "raw SET_DELIVERY, DELIVERY 2: EINVAL" \
	"$(raw 19 13:u32:0x0300000a 46:u8:2)" "errno 22 DELIVERY (0: ipip, 1: direct) is required"
expect_eq "raw SET_DELIVERY, no DELIVERY: EINVAL" \
	"$(raw 19 13:u32:0x0300000a)" "errno 22 DELIVERY (0: ipip, 1: direct) is required"
expect_errno "unprivileged SET_DELIVERY refused" 1 "" \
	nrouter setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$DNATCTL" router delivery 10.0.0.3 ipip
expect_eq "... h2 still unchanged" "$(delivery 10.0.0.3)" '["ipip",null]'
expect_usage "a bad MAC: a usage error" 'router delivery: lladdr: "02:00:00:00:01" is not an Ethernet address' \
	nrouter "$DNATCTL" router delivery 10.0.0.3 direct lladdr 02:00:00:00:01
expect_usage "lladdr with ipip: a usage error" "lladdr is for direct delivery only" \
	nrouter "$DNATCTL" router delivery 10.0.0.3 ipip lladdr "$mac1"
expect_usage "no mode: a usage error" "give the mode: ipip, or direct [lladdr MAC]" \
	nrouter "$DNATCTL" router delivery 10.0.0.3
check "h1 back on ipip" nrouter "$DNATCTL" router delivery 10.0.0.1 ipip
# Holding nothing since the reset, h1 may have lost its slot: not listed.
expect_eq "h1 no longer direct, its binding gone" \
	"$(nrouter "$DNATCTL" --json router hosts | jq -c '[.hosts[] | select(.host == "10.0.0.1") | select(.delivery != "ipip" or .lladdr != null)]')" '[]'
check "h1's MAC is free again: h2 may bind it" nrouter "$DNATCTL" router delivery 10.0.0.3 direct lladdr "$mac1"
check "h2 back on ipip" nrouter "$DNATCTL" router delivery 10.0.0.3 ipip
check "h1 direct without lladdr: waits to learn it" nrouter "$DNATCTL" router delivery 10.0.0.1 direct
expect_eq "router hosts --json: h1 direct, no lladdr yet" "$(delivery 10.0.0.1)" '["direct",null]'
expect_eq "router hosts: h1 shown learning" \
	"$(nrouter "$DNATCTL" router hosts | grep '^10.0.0.1' | grep -o 'delivery.*')" "delivery direct (learning)"
check "h1 back on ipip" nrouter "$DNATCTL" router delivery 10.0.0.1 ipip
# A host the router does not know gets a slot while direct, loses it on ipip.
check "unknown 10.0.0.9 set to direct" nrouter "$DNATCTL" router delivery 10.0.0.9 direct lladdr 02:00:00:00:00:09
expect_eq "10.0.0.9 is listed, holding nothing" "$(host 10.0.0.9 ports) $(delivery 10.0.0.9)" '0 ["direct","02:00:00:00:00:09"]'
check "10.0.0.9 back on ipip" nrouter "$DNATCTL" router delivery 10.0.0.9 ipip
expect_eq "10.0.0.9 is no longer listed" "$(delivery 10.0.0.9)" ""
rm -rf "$T"
