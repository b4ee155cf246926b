#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The PAP server in the router module, driven by dnatctl's userspace PAP
# client (raw ICMP socket) on hosts without the host module: disjoint
# grants, partial grants, releases, leases, the invalidate-all broadcast,
# and malformed or unauthorised PAP refused, counted, changing nothing.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#                 |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
capture=
finish() {
	[ -n "$capture" ] && kill "$capture" 2>/dev/null
	cleanup_netns
}
trap finish EXIT
topology
TMP=$(mktemp -d)

stat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
blocks() { nrouter "$DNATCTL" --json router blocks | jq -c '[.blocks[] | {host,kind,lowest,count}]'; }
pap() { local ns=$1; shift; n "$ns" "$DNATCTL" --json pap "$@" router 10.0.0.7; }

# The router announces invalidate-all on the LAN when it gets its LAN.
nh1 tcpdump -q -n -i eth0 -c 1 -w "$TMP/inval.pcap" 'icmp[0] == 36' 2>/dev/null &
capture=$!
sleep 1
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-20099 spis 0x1000-0x1fff
for _ in $(seq 50); do kill -0 "$capture" 2>/dev/null || break; sleep 0.1; done
capture=
expect_eq "h1 received the router's invalidate-all broadcast" \
	"$(tcpdump -r "$TMP/inval.pcap" -n 2>/dev/null | grep -c 'ICMP type-#36')" 1
expect_eq "invalidate-all counted" "$(stat invalidate_all_sent)" 1

# -- grants
g1=$(pap h1 request ports 16 high)
g2=$(pap h2 request ports 16 high)
expect_eq "h1 granted ports 20000+16" "$(jq -c '[.lowest,.count]' <<<"$g1")" '[20000,16]'
expect_eq "h2 granted the next 16, disjoint" "$(jq -c '[.lowest,.count]' <<<"$g2")" '[20016,16]'
expect_eq "grants carry the default lease" "$(jq -r .lease <<<"$g1")" 3600
s1=$(pap h1 request spis 256)
expect_eq "h1 granted SPIs 0x1000+256" "$(jq -c '[.lowest,.count]' <<<"$s1")" '[4096,256]'
expect_eq "router lists exactly the three blocks" "$(blocks)" \
	'[{"host":"10.0.0.1","kind":"ports","lowest":20000,"count":16},{"host":"10.0.0.1","kind":"spis","lowest":4096,"count":256},{"host":"10.0.0.3","kind":"ports","lowest":20016,"count":16}]'

# -- partial grant, then nothing left
g3=$(pap h2 request ports 200 high)
expect_eq "partial grant: the 68 ports left" "$(jq -c '[.lowest,.count]' <<<"$g3")" '[20032,68]'
rc=0; out=$(pap h1 request ports 8 high) || rc=$?
expect_eq "empty pool: refused with exit status 1" "$rc" 1
expect_eq "empty pool: reason no_space" "$(jq -r .refused <<<"$out")" no_space
rc=0; out=$(pap h1 request ports 8 low) || rc=$?
expect_eq "no low ports in the pool: refused" "$rc $(jq -r .refused <<<"$out")" "1 no_space"
expect_eq "grants and refusals counted" "$(stat granted) $(stat refused)" "4 2"

# -- release: only one's own
rc=0; n h1 "$DNATCTL" pap release ports 20016 16 router 10.0.0.7 >/dev/null 2>&1 || rc=$?
expect_eq "h1 cannot release h2's block" "$rc" 1
check "h2 releases its 68-port block" n h2 "$DNATCTL" pap release ports 20032 68 router 10.0.0.7
expect_eq "the released block is gone" "$(blocks | jq -c '[.[] | select(.host == "10.0.0.3") | .lowest]')" '[20016]'
expect_eq "release counters" "$(stat released) $(stat release_refused)" "1 1"

# -- malformed and unauthorised PAP: dropped, counted, nothing changes
before=$(blocks)
replied=$(stat replied)
raw() { n "$1" python3 "$TOP/qemu-tests/pap_raw.py" "${@:2}"; }
raw h1 10.0.0.7 bad-checksum
raw h1 10.0.0.7 truncated
raw h1 10.0.0.7 wrong-code
raw h1 10.0.0.7 zero-count
raw h1 10.0.0.7 too-long
n ext2 ip route add 10.0.0.7/32 via 203.0.113.30
raw ext2 10.0.0.7 request
nh1 ip addr add 10.0.9.9/32 dev eth0
raw h1 10.0.0.7 request 10.0.9.9
raw h1 10.0.0.3 request
sleep 1
expect_eq "bad checksum counted" "$(stat malformed_bad_checksum)" 1
expect_eq "truncated counted" "$(stat malformed_too_short)" 1
expect_eq "unknown code counted" "$(stat malformed_unknown_code)" 1
expect_eq "zero count counted" "$(stat malformed_zero_count)" 1
expect_eq "too long counted" "$(stat malformed_bad_length)" 1
expect_eq "PAP from the WAN side counted" "$(stat dropped_wrong_interface)" 1
expect_eq "PAP from outside the LAN prefix counted" "$(stat dropped_bad_source)" 1
expect_eq "tables unchanged by bad PAP" "$(blocks)" "$before"
expect_eq "no reply was sent for bad PAP" "$(stat replied)" "$replied"
expect_eq "PAP to another host is not the router's" "$(stat dropped_not_for_router)" 0

# -- quotas: a request is cut to what the host may still hold, then refused
check "per-host port quota set to 20" nrouter "$DNATCTL" router set quota-ports 20
expect_eq "quota shown" "$(nrouter "$DNATCTL" --json router show | jq -c .config.quota)" '{"ports":20,"spis":1024}'
expect_usage "a quota of 0 refused by dnatctl" 'quota-spis: "0" is out of range (1 to 4294967295)' \
	nrouter "$DNATCTL" router set quota-spis 0
expect_eq "the kernel refuses a quota of 0 (raw SET_CONFIG)" \
	"$(nrouter python3 "$TOP/qemu-tests/genl_raw.py" dnat_router 2 28:u32:0)" \
	"errno 22 a quota of 0 would refuse every host (revoke hosts instead)"
g6=$(pap h1 request ports 16 high)
expect_eq "h1 (holding 16) gets only 4 more under a quota of 20" "$(jq .count <<<"$g6")" 4
before=$(blocks)
rc=0; out=$(pap h1 request ports 1 high) || rc=$?
expect_eq "over quota: refused" "$rc $(jq -r .refused <<<"$out")" "1 over_quota"
expect_eq "over quota: tables unchanged" "$(blocks)" "$before"
nrouter "$DNATCTL" router set quota-ports 4096

# -- a host's own quota (SET_QUOTA): it beats the default for that host
# only, the one left out keeps its value, "default" gives the default back
quota() { nrouter "$DNATCTL" --json router hosts | jq -c ".hosts[] | select(.host == \"$1\") | [.quota_ports, .quota_spis, .quota_own]"; }
expect_eq "h2 starts on the default quota" "$(quota 10.0.0.3)" '[4096,1024,false]'
check "h2's own SPI quota set to 20" nrouter "$DNATCTL" router quota 10.0.0.3 spis 20
expect_eq "h2's own quota shown, its port quota kept" "$(quota 10.0.0.3)" '[4096,20,true]'
expect_eq "h1 keeps the default" "$(quota 10.0.0.1)" '[4096,1024,false]'
g7=$(pap h2 request spis 16)
expect_eq "h2 gets 16 SPIs under its quota of 20" "$(jq .count <<<"$g7")" 16
g8=$(pap h2 request spis 16)
expect_eq "h2's next request is cut to its quota (4)" "$(jq .count <<<"$g8")" 4
before=$(blocks)
rc=0; out=$(pap h2 request spis 1) || rc=$?
expect_eq "h2 over its own quota: refused" "$rc $(jq -r .refused <<<"$out")" "1 over_quota"
expect_eq "h2 over its own quota: tables unchanged" "$(blocks)" "$before"
g9=$(pap h1 request spis 32)
expect_eq "h1 (default quota, holding 256) still gets 32" "$(jq .count <<<"$g9")" 32
raw_quota() { nrouter python3 "$TOP/qemu-tests/genl_raw.py" dnat_router 17 "$@"; }
# HOST_ADDR (13) is a __be32: 10.0.0.3 in network order, read as a
# little-endian u32.
h2be=$((0x0300000a))
expect_eq "the kernel refuses a port quota of 0" "$(raw_quota 13:u32:$h2be 27:u32:0)" \
	"errno 22 a quota is at least 1"
expect_eq "the kernel refuses SET_QUOTA without HOST_ADDR" "$(raw_quota 27:u32:5 | cut -d' ' -f1-2)" "errno 22"
expect_eq "refusals changed nothing" "$(quota 10.0.0.3)" '[4096,20,true]'
unpriv() { nrouter setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }
expect_errno "unprivileged quota change refused" 1 "" unpriv "$DNATCTL" router quota 10.0.0.3 ports 1
expect_eq "the unprivileged attempt changed nothing" "$(quota 10.0.0.3)" '[4096,20,true]'
check "h2 back on the default quota" nrouter "$DNATCTL" router quota 10.0.0.3 default
expect_eq "h2's quota is the default again" "$(quota 10.0.0.3)" '[4096,1024,false]'
g10=$(pap h2 request spis 1)
expect_eq "h2 is granted again under the default" "$(jq .count <<<"$g10")" 1
# A host the router does not know yet keeps its quota in a slot of its own.
check "a quota for an unknown host" nrouter "$DNATCTL" router quota 10.0.0.9 ports 5 spis 6
expect_eq "the unknown host is listed with its quota" "$(quota 10.0.0.9)" '[5,6,true]'
check "its quota back to the default" nrouter "$DNATCTL" router quota 10.0.0.9 default
expect_eq "holding nothing and on the default, it leaves the host table" "$(quota 10.0.0.9)" ""
release_spis() { n "$1" "$DNATCTL" pap release spis "$(jq .lowest <<<"$2")" "$(jq .count <<<"$2")" router 10.0.0.7 >/dev/null; }
release_spis h2 "$g7"; release_spis h2 "$g8"; release_spis h2 "$g10"; release_spis h1 "$g9"

# -- a retransmitted request (same xid: its reply was lost) is answered
# again from the cache, without a second grant
nb=$(blocks | jq '[.[] | select(.host == "10.0.0.1")] | length')
rt0=$(stat retransmitted)
expect_eq "a sealed request sent twice is answered twice, sealed" \
	"$(nh1 python3 "$TOP/qemu-tests/pap_forge.py" retransmit 10.0.0.7 10.0.0.1)" 2
expect_eq "a retransmission gets no second block" "$(blocks | jq '[.[] | select(.host == "10.0.0.1")] | length')" $((nb + 1))
expect_eq "the retransmission was answered and counted" "$(stat retransmitted)" $((rt0 + 1))

# -- request rate limit (PAP_RATE): a host over it gets rate_limited, its
# tables unchanged; another host is not held back; 0 lifts the limit
expect_eq "no PAP rate limit by default" "$(nrouter "$DNATCTL" --json router show | jq .config.pap_rate)" 0
expect_usage "a PAP rate above 1000 refused by dnatctl" 'pap-rate: "1001" is out of range (0 to 1000)' \
	nrouter "$DNATCTL" router set pap-rate 1001
expect_eq "the kernel refuses a PAP rate above 1000 (raw SET_CONFIG)" \
	"$(nrouter python3 "$TOP/qemu-tests/genl_raw.py" dnat_router 2 36:u32:1001)" \
	"errno 34 the PAP rate limit is 0 (none) to 1000 requests a second"
check "PAP rate limit: 2 requests a second per host" nrouter "$DNATCTL" router set pap-rate 2
expect_eq "router show: the rate" "$(nrouter "$DNATCTL" router show | grep -c '^  pap rate: 2 requests/s per host$')" 1
h1_blocks() { blocks | jq -c '[.[] | select(.host == "10.0.0.1")]'; }
release_new() { # BEFORE: gives back h1's blocks that are not in BEFORE
	jq -r --argjson old "$1" '.[] | select(. as $b | $old | index([$b]) | not) | "\(.kind) \(.lowest) \(.count)"' <<<"$(h1_blocks)" |
		while read -r kind lowest count; do
			n h1 "$DNATCTL" pap release "$kind" "$lowest" "$count" router 10.0.0.7 >/dev/null
		done
}
answered() { echo $(( $(stat granted) + $(stat refused) + $(stat rate_limited) )); }
b0=$(h1_blocks) a0=$(answered) rl0=$(stat rate_limited) gr0=$(stat granted)
# 10 base requests of one port within about 30 ms: at most 2 + 2 fit (a
# full budget, and one more second's worth if a second begins meanwhile).
nh1 python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 1 1 10
sleep 1
expect_eq "all 10 requests answered" $(( $(answered) - a0 )) 10
limited=$(( $(stat rate_limited) - rl0 ))
check "6 to 8 of them refused as rate_limited ($limited)" test "$limited" -ge 6 -a "$limited" -le 8
expect_eq "h1 holds a block for each request granted, none for the others" \
	$(( $(h1_blocks | jq length) - $(jq length <<<"$b0") )) $(( $(stat granted) - gr0 ))
g11=$(pap h2 request ports 1 high)
expect_eq "h2 is not held back by h1's rate" "$(jq .count <<<"$g11")" 1
rl1=$(stat rate_limited)
release_new "$b0"
expect_eq "h1's releases were not rate limited" "$(h1_blocks) $(stat rate_limited)" "$b0 $rl1"
sleep 1
rc=0; out=$(pap h1 request ports 1 high) || rc=$?
expect_eq "a second later h1 is served again" "$rc $(jq .count <<<"$out")" "0 1"
release_new "$b0"
check "PAP rate limit lifted" nrouter "$DNATCTL" router set pap-rate 0
rl1=$(stat rate_limited)
nh1 python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 1 1 10
sleep 1
expect_eq "without a limit nothing is rate_limited" "$(stat rate_limited)" "$rl1"
release_new "$b0"
n h2 "$DNATCTL" pap release ports "$(jq .lowest <<<"$g11")" 1 router 10.0.0.7 >/dev/null

# -- leases: a block nobody renews expires
g4=$(pap h2 request ports 4 high lease 2)
expect_eq "short lease granted" "$(jq -r .lease <<<"$g4")" 2
sleep 3
expect_eq "expired block no longer listed" \
	"$(blocks | jq -c "[.[] | select(.lowest == $(jq .lowest <<<"$g4"))] | length")" 0

# -- a configured router restarts: new epoch, empty tables, broadcast again
epoch1=$(jq -r .epoch <<<"$g1")
rmmod dnat_router
insmod "$TOP/rust/dnat_router.ko"
sleep 1
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-20099 spis 0x1000-0x1fff
expect_eq "after a restart the tables are empty" "$(blocks)" '[]'
g5=$(pap h1 request ports 16 high)
check "after a restart the epoch differs ($epoch1 -> $(jq -r .epoch <<<"$g5"))" \
	test "$(jq -r .epoch <<<"$g5")" != "$epoch1"
rm -rf "$TMP"
