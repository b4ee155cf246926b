#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configuration through the dnat_router and dnat_host generic netlink
# families: round trip, per-namespace isolation, rejection of bad input with
# the right errno and extended ack (nothing changes), privilege checks, and
# the per-hook packet counters seen with real traffic.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#                 |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap cleanup_netns EXIT
topology

# -- router configuration round trip
out=$(nrouter "$DNATCTL" --json router show)
expect_eq "fresh namespace: no LAN interface" "$(jq -c .config.lan <<<"$out")" null
expect_eq "fresh namespace: no port pool" "$(jq -c .config.ports <<<"$out")" null

check "router set: full configuration accepted" nrouter "$DNATCTL" router set lan lan0 wan wan0 \
	public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
good=$(nrouter "$DNATCTL" --json router show | jq -c .config)
lan_idx=$(nrouter cat /sys/class/net/lan0/ifindex)
wan_idx=$(nrouter cat /sys/class/net/wan0/ifindex)
expect_eq "read back: LAN interface and index" "$(jq -c .lan <<<"$good")" "{\"name\":\"lan0\",\"ifindex\":$lan_idx}"
expect_eq "read back: WAN interface and index" "$(jq -c .wan <<<"$good")" "{\"name\":\"wan0\",\"ifindex\":$wan_idx}"
expect_eq "read back: public address" "$(jq -r .public_addr <<<"$good")" 203.0.113.30
expect_eq "read back: port pool" "$(jq -c .ports <<<"$good")" '{"min":20000,"max":29999}'
expect_eq "read back: SPI pool" "$(jq -c .spis <<<"$good")" '{"min":4096,"max":8191}'
check "human output names the pool" sh -c "ip netns exec router $DNATCTL router show | grep -q 'ports: 20000-29999'"

check "partial update: new port pool only" nrouter "$DNATCTL" router set ports 40000-40999
now=$(nrouter "$DNATCTL" --json router show | jq -c .config)
expect_eq "partial update changed the ports" "$(jq -c .ports <<<"$now")" '{"min":40000,"max":40999}'
expect_eq "partial update kept the rest" "$(jq -c '[.lan,.wan,.public_addr,.spis]' <<<"$now")" \
	"$(jq -c '[.lan,.wan,.public_addr,.spis]' <<<"$good")"
nrouter "$DNATCTL" router set ports 20000-29999
good=$(nrouter "$DNATCTL" --json router show | jq -c .config)

# -- bad configuration: precise errno and message, nothing changes
unchanged() {
	expect_eq "$1: configuration unchanged" "$(nrouter "$DNATCTL" --json router show | jq -c .config)" "$good"
}
expect_usage "reserved SPIs 1-255 refused by dnatctl" 'spis: "1" is out of range (256 to 4294967295)' \
	nrouter "$DNATCTL" router set spis 1-1000
unchanged "reserved SPIs"
expect_errno "inverted port range refused" 22 "inverted port range" \
	nrouter "$DNATCTL" router set ports 3000-2000
unchanged "inverted ports"
expect_errno "inverted SPI range refused" 22 "inverted SPI range" \
	nrouter "$DNATCTL" router set spis 0x2000-0x1000
unchanged "inverted SPIs"
expect_usage "port 0 refused by dnatctl" 'ports: "0" is out of range (1 to 65535)' \
	nrouter "$DNATCTL" router set ports 0-100
unchanged "port 0"
expect_errno "unknown LAN interface refused" 19 "no such interface" \
	nrouter "$DNATCTL" router set lan nosuch0
unchanged "unknown interface"
expect_errno "interface of another namespace refused" 19 "no such interface" \
	nrouter "$DNATCTL" router set wan eth0
expect_errno "LAN equal to WAN refused" 22 "LAN and WAN must be different" \
	nrouter "$DNATCTL" router set wan lan0
unchanged "LAN equal to WAN"
expect_errno "multicast public address refused" 22 "unicast" \
	nrouter "$DNATCTL" router set public 224.0.0.1
expect_errno "invalid interface name refused" 22 "invalid interface name" \
	nrouter "$DNATCTL" router set lan 'a/b'
unchanged "bad names and addresses"

# Raw netlink: what the CLI cannot send, or refuses itself (the numbers
# outside its limits), for the kernel's own checks of them.
raw() { nrouter python3 "$TOP/qemu-tests/genl_raw.py" "$@"; }
errno_of() { cut -d' ' -f1-2 <<<"$1"; }
r=$(raw dnat_router 2 8:u32:1 9:u32:1000)
expect_eq "the kernel refuses reserved SPIs: $r" "$r" "errno 34 SPIs 0 to 255 are reserved"
r=$(raw dnat_router 2 6:u16:0 7:u16:0)
expect_eq "the kernel refuses an empty port range: $r" "$r" "errno 22 empty port range: no allocatable port"
r=$(raw dnat_router 2 6:u16:0 7:u16:100)
expect_eq "the kernel refuses port 0: $r" "$r" "errno 34 port 0 cannot be allocated"
r=$(raw dnat_router 2 99:u32:1)
expect_eq "unknown attribute type refused (strict policy): $r" "$(errno_of "$r")" "errno 22"
r=$(raw dnat_router 2 6:u32:1000)
expect_eq "wrong attribute length refused: $r" "$(errno_of "$r")" "errno 22"
r=$(raw dnat_router 2 11:u64:5)
expect_eq "output-only attribute refused: $r" "$(errno_of "$r")" "errno 22"
r=$(raw dnat_router 2 3:u32:1)
expect_eq "read-only ifindex refused: $r" "$r" "errno 22 interface indexes are read-only; set interfaces by name"
r=$(raw dnat_router 2 6:u16:1000)
expect_eq "half a range refused: $r" "$r" "errno 22 a range needs both its minimum and its maximum"
r=$(raw dnat_router 2 1:str:lan0 2:str:wan0 8:u32:0x100 9:u32:0xff)
expect_eq "inverted SPI range in a multi-attribute request refused: $r" "$(errno_of "$r")" "errno 22"
expect_eq "unknown command refused" "$(raw dnat_router 77)" "errno 95"
expect_eq "a request with no attributes is a no-op" "$(raw dnat_router 2)" "ok"
unchanged "raw netlink"

# -- privileges: reading is open, changing needs CAP_NET_ADMIN
unpriv() { nrouter setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }
expect_errno "unprivileged set refused" 1 "" unpriv "$DNATCTL" router set ports 1000-2000
unchanged "unprivileged set"
check "unprivileged show allowed" unpriv "$DNATCTL" router show

# -- one instance per namespace
expect_eq "h1 does not see the router's configuration" "$(nh1 "$DNATCTL" --json router show | jq -c .config.ports)" null

# -- host family
check "host set: router and public address" nh1 "$DNATCTL" host set router 10.0.0.7 public 203.0.113.30
h=$(nh1 "$DNATCTL" --json host show | jq -c .config)
expect_eq "host read back" "$(jq -c '[.router_addr,.public_addr]' <<<"$h")" '["10.0.0.7","203.0.113.30"]'
expect_eq "h2 host config is separate" "$(nh2 "$DNATCTL" --json host show | jq -c .config.router_addr)" null
expect_eq "no SPTT while the host's configuration is incomplete (no device yet)" \
	"$(nh1 "$DNATCTL" --json host stats | jq .stats.sptt_bytes)" 0
expect_errno "host: router address equal to public address refused" 22 "must differ" \
	nh1 "$DNATCTL" host set public 10.0.0.7
expect_errno "host: broadcast router address refused" 22 "unicast" \
	nh1 "$DNATCTL" host set router 255.255.255.255
expect_eq "host config unchanged after refusals" "$(nh1 "$DNATCTL" --json host show | jq -c .config)" "$h"
expect_errno "host: unprivileged set refused" 1 "" \
	nh1 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$DNATCTL" host set router 10.0.0.8

# -- per-hook counters are off by default (each hook the data path does not
# need costs a call per packet), and count only while switched on
expect_eq "hook counters off by default" "$(nrouter "$DNATCTL" --json router show | jq -c .config.hook_counters)" false
p0=$(hook_packets router router prerouting)
nh1 ping -q -c 2 -i 0.2 -W 2 10.0.0.7 >/dev/null
expect_eq "hook counters off: the router's pings were not counted" "$(hook_packets router router prerouting)" "$p0"
expect_errno "router: hook-counters 2 refused" 22 "0 (off) or 1 (on)" \
	nrouter "$DNATCTL" router set hook-counters 2
check "router: hook counters on" nrouter "$DNATCTL" router set hook-counters on
expect_eq "router show: hook counters on" "$(nrouter "$DNATCTL" router show | grep -c '^  hook counters: on$')" 1

# -- per-hook counters with real packets (IPv4 only; ARP is not counted)
declare -A before
for hk in prerouting input forward output postrouting; do
	before[$hk]=$(hook_packets router router $hk)
done
h2_input=$(hook_packets h2 host input)
nh1 ping -q -c 5 -i 0.2 -W 2 10.0.0.7 >/dev/null
nh1 ping -q -c 3 -i 0.2 -W 2 203.0.113.3 >/dev/null
delta() { echo $(( $(hook_packets router router "$1") - before[$1] )); }
expect_eq "router prerouting counted 5 echo requests + 3 forwarded each way" "$(delta prerouting)" 11
expect_eq "router input counted the 5 echo requests to itself" "$(delta input)" 5
expect_eq "router forward counted 3 requests + 3 replies" "$(delta forward)" 6
expect_eq "router output counted its 5 echo replies" "$(delta output)" 5
expect_eq "router postrouting counted 5 replies + 6 forwarded" "$(delta postrouting)" 11
expect_eq "h2 saw none of it at input" "$(( $(hook_packets h2 host input) - h2_input ))" 0
check "router: hook counters off again" nrouter "$DNATCTL" router set hook-counters off
f0=$(hook_packets router router forward)
nh1 ping -q -c 2 -i 0.2 -W 2 203.0.113.3 >/dev/null
expect_eq "hook counters off: the forward count stays where it was" "$(hook_packets router router forward)" "$f0"
check "the forward count kept its value ($f0)" test "$f0" -gt 0

# -- the hooks exist only where a module is configured: h2's host module
# never was, so h2's own packets pass no dnat hook; its first "host set"
# registers them, and from then on they count
nh2 ping -q -c 2 -i 0.2 -W 2 10.0.0.7 >/dev/null
expect_eq "h2 (host module never configured): its pings passed no host hook" \
	"$(hook_packets h2 host output) $(hook_packets h2 host postrouting)" "0 0"
check "h2's first host set, with hook counters" nh2 "$DNATCTL" host set tcp-timeout 600 hook-counters on
nh2 ping -q -c 2 -i 0.2 -W 2 10.0.0.7 >/dev/null
expect_eq "h2's hooks count from its first configuration on" \
	"$(hook_packets h2 host output) $(hook_packets h2 host postrouting)" "2 2"

# -- one argument style and one error format, against the module: -j and
# --help are options wherever they stand (also among the words of set,
# quota, blacklist and pap), --help is never a value, and a number outside
# its limit is a usage error (exit 2) found before anything is sent
conf() { nrouter "$DNATCTL" router showconf; nrouter "$DNATCTL" router blacklist -j; }
check "router set, -j after its words" nrouter "$DNATCTL" router set pap-rate 5 -j
expect_eq "... -j was the option: the rate is set" "$(nrouter "$DNATCTL" router show -j | jq .config.pap_rate)" 5
check "router quota, --json after its words" nrouter "$DNATCTL" router quota 10.0.0.1 ports 64 --json
expect_eq "... the quota is set" \
	"$(nrouter "$DNATCTL" router hosts --json | jq -c '.hosts[] | select(.host == "10.0.0.1") | [.quota_ports, .quota_own]')" \
	"[64,true]"
out=$(nh1 "$DNATCTL" pap request ports 4 router 10.0.0.7 -j)
expect_eq "pap request, -j after its words: JSON" "$(jq -c '[.kind, .count]' <<<"$out")" '["ports",4]'
out=$(nh1 "$DNATCTL" pap release ports "$(jq .lowest <<<"$out")" 4 router 10.0.0.7 --json)
expect_eq "pap release, --json after its words: JSON" "$(jq -c '[.kind, .released]' <<<"$out")" '["ports",true]'
before=$(conf)
for l in "router set:router set pap-rate --help" "router set:router set pap-rate 7 -h" \
	"router set:router set -- pap-rate --help" "router quota:router quota 10.0.0.1 ports --help" \
	"router blacklist add:router blacklist add 10.0.0.1 peer --help"; do
	words=${l%%:*} line=${l#*:}
	rc=0
	# shellcheck disable=SC2086 # the words of $line
	out=$(nrouter "$DNATCTL" $line) || rc=$?
	expect_eq "'$line' prints the help of $words" "$rc $(grep -c "^Usage: dnatctl $words " <<<"$out")" "0 1"
done
expect_eq "--help among the words changed nothing" "$(conf)" "$before"
expect_usage "a PAP rate above its limit: a usage error" 'router set: pap-rate: "1001" is out of range (0 to 1000)' \
	nrouter "$DNATCTL" router set pap-rate 1001 -j
expect_usage "a quota of 0: a usage error" 'router quota: ports: "0" is out of range (1 to 4294967295)' \
	nrouter "$DNATCTL" router quota 10.0.0.1 ports 0
expect_usage "a reserved SPI: a usage error (clap's, in the same format)" \
	'router sa validate: SPI: "255" is out of range (256 to 4294967295)' \
	nrouter "$DNATCTL" router sa validate 10.0.0.1 203.0.113.3 255
expect_usage "an unknown command word: a usage error of the words before it" \
	"router: unrecognized subcommand 'sett'" nrouter "$DNATCTL" router sett pap-rate 5
expect_eq "the usage errors changed nothing" "$(conf)" "$before"
nrouter "$DNATCTL" router quota 10.0.0.1 default
nrouter "$DNATCTL" router set pap-rate 0
