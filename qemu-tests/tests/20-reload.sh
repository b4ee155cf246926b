#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Module unload and reload while the hooks see traffic: h1 pings ext through
# the router at a high rate, h2 asks for ports over and over, and both
# modules are removed, loaded and configured again 20 times (h1's host
# module starting its PAP each time). Unloading must succeed under traffic, traffic must keep
# flowing, a reloaded module starts from a clean state in namespaces that
# existed before it was loaded, and the kernel log stays clean (checked by
# the runner at the end).
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#                 |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
KO=$TOP/rust
pinger=
papper=
finish() {
	[ -z "$pinger" ] || kill "$pinger" 2>/dev/null || true
	[ -z "$papper" ] || kill "$papper" 2>/dev/null || true
	cleanup_netns
	# Leave the modules loaded for the scenarios that follow.
	grep -q '^dnat_router ' /proc/modules || insmod "$KO/dnat_router.ko"
	grep -q '^dnat_host ' /proc/modules || insmod "$KO/dnat_host.ko"
}
trap finish EXIT
topology

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 hook-counters on
nh1 "$DNATCTL" host set router 10.0.0.7 public 203.0.113.30 hook-counters on

# Traffic through every hook of the router and the host module.
nh1 ping -q -i 0.002 -W 1 203.0.113.3 >/dev/null 2>&1 &
pinger=$!
sleep 1
fwd=$(hook_packets router router forward)
check "traffic flows through the router before the reloads ($fwd forwarded)" test "$fwd" -gt 20
# The counting hooks come and go under traffic too.
for i in 1 2 3; do
	check "router: hook counters off and on under traffic (round $i)" sh -c \
		"ip netns exec router '$DNATCTL' router set hook-counters off && ip netns exec router '$DNATCTL' router set hook-counters on"
	check "host: hook counters off and on under traffic (round $i)" sh -c \
		"ip netns exec h1 '$DNATCTL' host set hook-counters off && ip netns exec h1 '$DNATCTL' host set hook-counters on"
done

# PAP in flight all along: h2 asks for ports again and again (its key is
# renewed whenever the router was reloaded), and h1's host module starts
# with a key exchange and an invalidate-all after each reload.
rm -f "$TMPDIR/pap-granted"
(
	set +e
	while :; do
		nh2 "$DNATCTL" pap request ports 1 router 10.0.0.7 >/dev/null 2>&1 && echo >>"$TMPDIR/pap-granted"
	done
) &
papper=$!
# 20 rounds: both modules out and back under traffic and PAP.
unloaded=0 loaded=0
for i in $(seq 20); do
	rmmod dnat_router && rmmod dnat_host && unloaded=$((unloaded + 1))
	if [ "$i" = 1 ]; then
		expect_eq "dnatctl reports the missing family with exit status 3" \
			"$(nrouter "$DNATCTL" router show >/dev/null 2>&1; echo $?)" 3
	fi
	insmod "$KO/dnat_router.ko" && insmod "$KO/dnat_host.ko" && loaded=$((loaded + 1))
	[ "$i" = 20 ] && break
	nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 >/dev/null
	nh1 "$DNATCTL" host set router 10.0.0.7 public 203.0.113.30 >/dev/null
	sleep 0.2
done
expect_eq "20 unloads of both modules under traffic and PAP" "$unloaded" 20
expect_eq "20 loads of both modules under traffic and PAP" "$loaded" 20
check "the PAP loop was still running at the end" kill "$papper"
check "h2 was granted ports between the reloads ($(wc -l <"$TMPDIR/pap-granted" 2>/dev/null || echo 0) times)" \
	test -s "$TMPDIR/pap-granted"
papper=

# A fresh module has a fresh state in the namespaces that already existed.
expect_eq "reloaded router starts unconfigured" "$(nrouter "$DNATCTL" --json router show | jq -c .config.ports)" null
expect_eq "reloaded host starts unconfigured" "$(nh1 "$DNATCTL" --json host show | jq -c .config.router_addr)" null
expect_eq "reloaded router: no hooks before it is configured again" "$(hook_packets router router forward)" 0
nrouter "$DNATCTL" router set lan lan0 wan wan0 hook-counters on
a=$(hook_packets router router forward)
sleep 1
b=$(hook_packets router router forward)
check "reconfigured, its hooks count the ongoing traffic in an existing namespace ($a -> $b)" test "$b" -gt "$a"
check "the ping survived the reloads" kill -0 "$pinger"

# New namespaces get the state too, and leaving one cleans it up.
ip netns add late
expect_eq "a namespace created after loading has its own state" \
	"$(n late "$DNATCTL" --json router show | jq -c .config)" \
	'{"lan":null,"wan":null,"public_addr":null,"ports":null,"spis":null,"unowned":"local","sa_policy":"strict","quota":{"ports":4096,"spis":1024},"hook_counters":false,"pap_rate":0,"pap_auth":"required"}'
expect_eq "a namespace never configured as a router has no router tables" \
	"$(n late "$DNATCTL" --json router stats | jq .stats.table_bytes)" 0
rb=$(n late "$DNATCTL" --json router stats | jq .stats.netns_bytes)
check "every namespace pays the router module only a small slot ($rb bytes)" test "$rb" -lt 4096
hb=$(n late "$DNATCTL" --json host stats | jq .stats.netns_bytes)
# The host's slot holds its PAP client (held blocks, pending requests,
# key); the SPTT (1.9 MiB) comes with the first configuration.
check "every namespace pays the host module only a small slot ($hb bytes)" test "$hb" -lt 8192
expect_eq "an unconfigured router's dumps are empty" \
	"$(n late "$DNATCTL" --json router blocks | jq -c .blocks)" '[]'
check "a configured router has its tables ($(nrouter "$DNATCTL" --json router stats | jq .stats.table_bytes) bytes)" \
	test "$(nrouter "$DNATCTL" --json router stats | jq .stats.table_bytes)" -gt 500000
ip netns del late
kill "$pinger"
pinger=
check "rmmod dnat_router after namespaces came and went" rmmod dnat_router
check "rmmod dnat_host after namespaces came and went" rmmod dnat_host
