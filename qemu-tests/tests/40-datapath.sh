#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The router's data path with two hosts that use standard ipip tunnels and
# dnatctl's userspace PAP client in native mode (their ephemeral port range
# is the granted block): TCP and UDP from both hosts to one server port,
# concurrently, data verified end to end; the router's WAN shows only the
# public address with each host's own ports; a 3000-byte datagram crosses
# fragmented both ways; ESP and AH are delivered by SPI; spoofed ports are
# dropped and counted.
#
# DELIVERY (41-datapath-direct and 42-datapath-mixed set it) chooses how
# the router delivers to each host (issue 19): ipip (the default) tunnels
# to both; direct binds both to their MACs, and they send plain from the
# public address (dnat_host_direct); mixed makes h1 direct and h2 ipip.
# What a check looks at that only one method has (the tunnel device, the
# outer header) is chosen per host's method, explicitly below.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#    dnat0 ipip   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
DELIVERY=${DELIVERY:-ipip}
case $DELIVERY in
ipip) d1=ipip d2=ipip ;;
direct) d1=direct d2=direct ;;
mixed) d1=direct d2=ipip ;;
*)
	fail "DELIVERY is ipip, direct or mixed (not '$DELIVERY')"
	exit 1
	;;
esac
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
}
trap finish EXIT
topology
T=$(mktemp -d)
stat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
# test_ge NAME N: the router's counter NAME is at least N.
test_ge() { [ "$(stat "$1")" -ge "$2" ]; }
pcap() { tcpdump -r "$1" -n 2>/dev/null || true; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
# host_up NS LANADDR DELIVERY
host_up() {
	if [ "$3" = direct ]; then
		check "$1 set up for direct delivery (router bound to its MAC)" dnat_host_direct "$1" "$2"
	else
		dnat_host_ipip "$1" "$2"
	fi
}
host_up h1 10.0.0.1 "$d1"
host_up h2 10.0.0.3 "$d2"
m1=$(lladdr h1 eth0) mr=$(lladdr router lan0)
# Where h1 receives what the router delivers: its tunnel device, or eth0.
h1dev=dnat0
[ "$d1" = ipip ] || h1dev=eth0
g1=$(nh1 "$DNATCTL" --json pap request ports 64 high router 10.0.0.7 --native)
g2=$(nh2 "$DNATCTL" --json pap request ports 64 high router 10.0.0.7 --native)
lo1=$(jq .lowest <<<"$g1"); lo2=$(jq .lowest <<<"$g2")
expect_eq "h1 native port range is its block" "$(nh1 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" "$lo1 $((lo1 + 63))"
expect_eq "h2 native port range is its block" "$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" "$lo2 $((lo2 + 63))"

# Servers in ext: a TCP echo and a UDP echo, on one address and port each.
next socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8080
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
nrouter tcpdump -U -q -n -i wan0 -w "$T/wan.pcap" 'tcp port 8080 or udp port 9090' 2>/dev/null &
pids+=($!)
sleep 1

rin0=$(stat in_direct) rout0=$(stat out_direct)
head -c 200000 /dev/urandom >"$T/data"
want=$(sha256sum <"$T/data" | cut -d' ' -f1)
for h in h1 h2; do
	n $h timeout 60 socat -t 5 - TCP:203.0.113.3:8080 <"$T/data" >"$T/$h.tcp" &
	pids+=($!)
	n $h sh -c "echo udp-from-$h | timeout 10 socat -t 3 - UDP:203.0.113.3:9090" >"$T/$h.udp" &
	pids+=($!)
done
wait "${pids[@]:3}" 2>/dev/null || true
for h in h1 h2; do
	expect_eq "$h: TCP echo through the router returns identical data" "$(sha256sum <"$T/$h.tcp" | cut -d' ' -f1)" "$want"
	expect_eq "$h: UDP echo through the router" "$(cat "$T/$h.udp")" "udp-from-$h"
done
sleep 1
kill "${pids[2]}" 2>/dev/null; sleep 1
srcs=$(pcap "$T/wan.pcap" | awk '$3 ~ /^203\.0\.113\.30\./ {print $3}' | sort -u)
check "the WAN saw only the public address as source" test -n "$srcs"
bad=0
for s in $srcs; do
	p=${s##*.}
	if ! { [ "$p" -ge "$lo1" ] && [ "$p" -lt $((lo1 + 64)) ]; } && ! { [ "$p" -ge "$lo2" ] && [ "$p" -lt $((lo2 + 64)) ]; }; then bad=1; fi
done
expect_eq "every source port on the WAN is in one host's block" "$bad" 0
check "h1's block was used on the WAN" sh -c "echo '$srcs' | awk -F. '{print \$NF}' | awk '\$1 >= $lo1 && \$1 < $((lo1 + 64))' | grep -q ."
check "h2's block was used on the WAN" sh -c "echo '$srcs' | awk -F. '{print \$NF}' | awk '\$1 >= $lo2 && \$1 < $((lo2 + 64))' | grep -q ."
check "the WAN saw no LAN address" sh -c "! tcpdump -r '$T/wan.pcap' -n 2>/dev/null | grep -q ' 10\.0\.0\.'"
# The router's direct counters: they grow with a direct host, and stay
# as they were with tunnels only.
if [ "$d1" = direct ] || [ "$d2" = direct ]; then
	check "the router delivered direct ($(( $(stat in_direct) - rin0 )) packets)" test $(( $(stat in_direct) - rin0 )) -gt 0
	check "the router forwarded direct ($(( $(stat out_direct) - rout0 )) packets)" test $(( $(stat out_direct) - rout0 )) -gt 0
else
	expect_eq "ipip only: nothing delivered or forwarded direct" \
		"$(( $(stat in_direct) - rin0 )) $(( $(stat out_direct) - rout0 ))" "0 0"
fi

# A 3000-byte datagram from the server to h1: fragmented on the WAN,
# reassembled by the router, tunnelled (outer DF clear, fragmented again)
# or sent direct (fragmented again on the LAN), reassembled by h1.
port=$((lo1 + 60))
nh1 timeout 10 socat -u UDP-RECV:$port,reuseaddr OPEN:"$T/big.in",creat &
rx=$!
wait_listen h1 u $port
head -c 3000 /dev/urandom >"$T/big"
next socat -u OPEN:"$T/big" UDP-SENDTO:203.0.113.30:$port
sleep 2
kill "$rx" 2>/dev/null || true
expect_eq "a 3000-byte datagram reached h1 intact" "$(sha256sum <"$T/big.in" | cut -d' ' -f1)" "$(sha256sum <"$T/big" | cut -d' ' -f1)"
# The other way, direct only: h1 fragments a 3000-byte datagram on eth0,
# the router reassembles it before its checks (the ownership of the port
# is that of the whole datagram), forwards it, and ext reassembles it.
# (Through a tunnel a host must not fragment: inner fragments are dropped,
# out_bad_inner.)
if [ "$d1" = direct ]; then
	next timeout 10 socat -u UDP-RECV:9393,reuseaddr OPEN:"$T/big.out",creat &
	rx=$!
	wait_listen ext u 9393
	nh1 socat -u OPEN:"$T/big" UDP-SENDTO:203.0.113.3:9393
	got_big() { [ "$(command stat -c %s "$T/big.out" 2>/dev/null || echo 0)" -ge 3000 ]; }
	wait_until 10 got_big || true
	kill "$rx" 2>/dev/null || true
	expect_eq "direct: a 3000-byte datagram from h1 reached ext intact" \
		"$(sha256sum <"$T/big.out" | cut -d' ' -f1)" "$(sha256sum <"$T/big" | cut -d' ' -f1)"
fi

# The router does not touch what it delivers: the packet inside the tunnel
# at h1 (ipip), or the packet at h1's eth0 (direct: not even the TTL is
# decremented), is byte for byte the packet that arrived on the router's
# WAN.
port=$((lo1 + 61))
nrouter tcpdump -U -n -i wan0 -w "$T/in-wan.pcap" "udp port $port" 2>/dev/null &
c1=$!
if [ "$d1" = ipip ]; then
	nh1 tcpdump -U -n -i eth0 -w "$T/in-h1.pcap" 'ip proto 4' 2>/dev/null &
else
	nh1 tcpdump -U -n -i eth0 -w "$T/in-h1.pcap" "udp port $port and dst host 203.0.113.30" 2>/dev/null &
fi
c2=$!
sleep 1
for i in 1 2 3; do next sh -c "echo payload-$i | socat -u - UDP-SENDTO:203.0.113.30:$port"; done
sleep 1
kill "$c1" "$c2" 2>/dev/null; sleep 1
wan=$(python3 "$TOP/qemu-tests/pcap_inner.py" "$T/in-wan.pcap")
expect_eq "3 packets on the WAN for h1's port" "$(echo "$wan" | grep -c .)" 3
if [ "$d1" = ipip ]; then
	inner=$(python3 "$TOP/qemu-tests/pcap_inner.py" --inner "$T/in-h1.pcap" | grep -F -x -f <(echo "$wan") || true)
	expect_eq "the 3 packets inside the tunnel at h1 are byte-identical" "$inner" "$wan"
else
	expect_eq "direct: the 3 packets at h1's eth0 are byte-identical" \
		"$(python3 "$TOP/qemu-tests/pcap_inner.py" "$T/in-h1.pcap")" "$wan"
fi

# -- the router caches its route to each host; a change of the routing
# tables reaches the very next packet: with a route to h1 via h2, the
# tunnelled packet goes to h2 (which does not forward it); without, to h1.
# Direct delivery takes the same cached route (its next hop is h1's LAN
# address): the one in between goes to h2's MAC too.
port=$((lo1 + 62))
# rx1: the packets h1 received for the public address: those its tunnel
# device decapsulated (ipip), or those eth0 got (direct; counted by a
# prerouting rule before anything else sees them).
if [ "$d1" = ipip ]; then
	rx1() { nh1 cat /sys/class/net/dnat0/statistics/rx_packets; }
else
	nh1 nft -f - <<'EOF'
table ip rx {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		iifname "eth0" ip daddr 203.0.113.30 counter
	}
}
EOF
	rx1() { nh1 nft -j list chain ip rx pre | jq '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add // 0'; }
fi
d0=$(stat in_delivered)
if [ "$d1" = ipip ]; then
	nh2 tcpdump -U -n -i eth0 -w "$T/via-h2.pcap" 'ip proto 4 and dst host 10.0.0.1' 2>/dev/null &
else
	nh2 tcpdump -U -n -i eth0 -w "$T/via-h2.pcap" "udp port $port and dst host 203.0.113.30" 2>/dev/null &
fi
cap=$!
sleep 1
r0=$(rx1)
next sh -c "echo warm | socat -u - UDP-SENDTO:203.0.113.30:$port"
nrouter ip route add 10.0.0.1/32 via 10.0.0.3 dev lan0
next sh -c "echo diverted | socat -u - UDP-SENDTO:203.0.113.30:$port"
nrouter ip route del 10.0.0.1/32 via 10.0.0.3 dev lan0
next sh -c "echo again | socat -u - UDP-SENDTO:203.0.113.30:$port"
sleep 1
kill "$cap" 2>/dev/null; sleep 1
if [ "$d1" = ipip ]; then
	expect_eq "cached route: the router tunnelled all 3 packets" "$(( $(stat in_delivered) - d0 ))" 3
	expect_eq "cached route: h1 got the packets before and after the route change" "$(( $(rx1) - r0 ))" 2
	expect_eq "cached route: the one in between went via h2" "$(pcap "$T/via-h2.pcap" | grep -c 'IP 10.0.0.7 > 10.0.0.1')" 1
else
	expect_eq "direct, cached route: the router delivered all 3 packets" "$(( $(stat in_delivered) - d0 ))" 3
	expect_eq "direct, cached route: h1 got the packets before and after the route change" "$(( $(rx1) - r0 ))" 2
	expect_eq "direct, cached route: the one in between went to h2" "$(pcap "$T/via-h2.pcap" | grep -c 'IP .* > 203.0.113.30')" 1
fi

# An ICMP error from the Internet about h1's flow reaches h1: h1 sends to a
# closed port of the server, whose port unreachable quotes h1's port.
# (On eth0, direct: only errors to the public address, not h1's own.)
if [ "$d1" = ipip ]; then
	nh1 tcpdump -U -n -i dnat0 -w "$T/icmp.pcap" 'icmp[0] == 3' 2>/dev/null &
else
	nh1 tcpdump -U -n -i eth0 -w "$T/icmp.pcap" 'icmp[0] == 3 and dst host 203.0.113.30' 2>/dev/null &
fi
c3=$!
sleep 1
nh1 sh -c "echo nobody | socat -u - UDP-SENDTO:203.0.113.3:9999" || true
sleep 1
kill "$c3" 2>/dev/null; sleep 1
expect_eq "the port unreachable about h1's flow reached h1" \
	"$(pcap "$T/icmp.pcap" | grep -c 'udp port 9999 unreachable')" 1

# ESP and AH by SPI: h1's SPI block gets them, an unallocated SPI does not.
s1=$(nh1 "$DNATCTL" --json pap request spis 16 router 10.0.0.7)
spi=$(jq .lowest <<<"$s1")
# The SA peer (ext) is validated for both SPIs (DoS control: the router
# delivers ESP/AH only for validated pairs; 70-ipsec tests that part).
nh1 "$DNATCTL" pap validate 203.0.113.3 "$spi" router 10.0.0.7 >/dev/null
nh1 "$DNATCTL" pap validate 203.0.113.3 "$((spi + 1))" router 10.0.0.7 >/dev/null
nh1 tcpdump -U -q -n -i "$h1dev" -w "$T/h1-ipsec.pcap" 'ip proto 50 or ip proto 51' 2>/dev/null &
cap=$!
sleep 1
unowned0=$(stat in_unowned)
next python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$spi" 5
next python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 ah "$((spi + 1))" 3
next python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp 0x1f00 4
sleep 2
kill "$cap" 2>/dev/null; sleep 1
expect_eq "h1 received the 5 ESP packets with its SPI" \
	"$(pcap "$T/h1-ipsec.pcap" | grep -c "ESP(spi=$(printf '0x%08x' "$spi")")" 5
expect_eq "h1 received the 3 AH packets with its SPI" \
	"$(pcap "$T/h1-ipsec.pcap" | grep -c 'AH(spi=')" 3
expect_eq "ESP with an unallocated SPI was not delivered" \
	"$(pcap "$T/h1-ipsec.pcap" | grep -c 'spi=0x00001f00')" 0
expect_eq "the 4 unallocated-SPI packets were left to the router" "$(( $(stat in_unowned) - unowned0 ))" 4

# ESP in UDP (NAT traversal: from port 4500, no zero non-ESP marker) to a
# port of h1 gets the ESP checks: the SPI must be h1's, the source
# validated for it and not blacklisted. IKE (the zero marker) and NAT
# keepalives are plain UDP.
port=$((lo1 + 50))
hsad() { nrouter "$DNATCTL" --json router hosts | jq -r '.hosts[] | select(.host == "10.0.0.1") | .sa_dropped'; }
natt() { n "$1" python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 natt "$2" "$3" "$port"; sleep 1; }
r0=$(rx1) nv0=$(stat in_sa_not_validated) so0=$(stat in_sa_not_spi_owner) bl0=$(stat in_sa_blacklisted) sd0=$(hsad)
natt ext "$spi" 3
expect_eq "ESP in UDP from the validated peer reaches h1" "$(( $(rx1) - r0 ))" 3
natt ext2 "$spi" 5
expect_eq "ESP in UDP with h1's SPI from an unvalidated source is not delivered" "$(( $(rx1) - r0 ))" 3
expect_eq "... and counted in_sa_not_validated" "$(( $(stat in_sa_not_validated) - nv0 ))" 5
natt ext 0x1f00 4
expect_eq "ESP in UDP with an SPI h1 does not hold is not delivered" "$(( $(rx1) - r0 ))" 3
expect_eq "... and counted in_sa_not_spi_owner" "$(( $(stat in_sa_not_spi_owner) - so0 ))" 4
natt ext2 0 2
natt ext2 -1 1
expect_eq "IKE and a NAT keepalive from port 4500 of anybody reach h1" "$(( $(rx1) - r0 ))" 6
check "h1 blacklists the peer" nrouter "$DNATCTL" router blacklist add 10.0.0.1 peer 203.0.113.3
natt ext "$spi" 2
check "h1 removes the entry" nrouter "$DNATCTL" router blacklist del 10.0.0.1 peer 203.0.113.3
expect_eq "blacklisted ESP in UDP is not delivered" "$(( $(rx1) - r0 ))" 6
expect_eq "... and counted in_sa_blacklisted" "$(( $(stat in_sa_blacklisted) - bl0 ))" 2
expect_eq "h1's sa_dropped counts the 11 drops" "$(( $(hsad) - sd0 ))" 11

# Spoofing: h2 sends from a port of h1's block: dropped at the router
# (tunnelled, or plain from h2's bound MAC: h2 does not own the port
# either way).
spoofed0=$(stat out_spoofed)
nh2 sh -c "echo spoof | socat -t 1 - UDP:203.0.113.3:9090,sourceport=$((lo1 + 1))" >/dev/null 2>&1 || true
sleep 1
expect_eq "a port of another host is refused and counted" "$(( $(stat out_spoofed) - spoofed0 ))" 1
# Not tunnelled: h2 sends with the public address straight out of eth0,
# which would skip the ownership check: dropped and counted. A direct h2
# sends that way by design: its own port from its bound MAC is forwarded.
# (To a closed port of ext: the port unreachable ext answers ends at h2,
# whose answer to an echo would count once more.)
if [ "$d2" = ipip ]; then
	u0=$(stat out_untunnelled)
	nh2 python3 "$TOP/qemu-tests/raw_udp.py" eth0 203.0.113.30 203.0.113.3 $((lo2 + 5)) 9090 sneaky
	sleep 1
	expect_eq "an untunnelled packet with the public source is dropped and counted" "$(( $(stat out_untunnelled) - u0 ))" 1
else
	u0=$(stat out_untunnelled) f0=$(stat out_direct)
	nh2 python3 "$TOP/qemu-tests/raw_udp.py" eth0 203.0.113.30 203.0.113.3 $((lo2 + 5)) 9999 plain
	wait_until 10 test_ge out_direct $((f0 + 1)) || true
	expect_eq "direct: h2's plain datagram from its own port is forwarded, not refused (out_direct, out_untunnelled)" \
		"$(( $(stat out_direct) - f0 )) $(( $(stat out_untunnelled) - u0 ))" "1 0"
fi
# Mixed: h2 (tunnelled, its MAC bound to nothing) sends plain from a port
# of h1 (direct): not from h1's MAC, dropped and counted.
if [ "$d1" = direct ] && [ "$d2" = ipip ]; then
	x0=$(stat out_direct_lladdr)
	nh2 python3 "$TOP/qemu-tests/raw_udp.py" eth0 203.0.113.30 203.0.113.3 $((lo1 + 2)) 9999 not-my-mac
	wait_until 10 test_ge out_direct_lladdr $((x0 + 1)) || true
	expect_eq "mixed: h2 plain from h1's (direct) port is dropped and counted out_direct_lladdr" \
		"$(( $(stat out_direct_lladdr) - x0 ))" 1
fi
# A host cannot reach the router's own sockets through the tunnel: an inner
# packet to the public address, to the LAN address or to another address of
# the router is dropped and counted (lan0 has accept_local=1, so the stack
# would take it, from the public address). Nor directly: the same packets
# sent plain from h1's bound MAC to the router's MAC (h1's own routing
# would keep a packet to the public address local: a crafted frame).
nrouter ip addr add 198.51.100.77/32 dev lo
nrouter timeout 20 socat -u UDP-RECV:5555 - >"$T/local.out" &
rx=$!
wait_listen router u 5555
next sh -c "echo from-wan | socat -u - UDP-SENDTO:203.0.113.30:5555"
l0=$(stat out_local_destination)
for d in 203.0.113.30 10.0.0.7 198.51.100.77; do
	if [ "$d1" = ipip ]; then
		nh1 python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.7 from-public $((lo1 + 3)) "$d" 5555 "forged-to-$d"
	else
		nh1 python3 "$TOP/qemu-tests/raw_eth.py" eth0 "$m1" "$mr" 203.0.113.30 "$d" udp $((lo1 + 3)) 5555 "forged-to-$d" >/dev/null
	fi
done
sleep 1
kill "$rx" 2>/dev/null || true
expect_eq "the router's socket got only the datagram from the WAN" "$(cat "$T/local.out")" from-wan
if [ "$d1" = ipip ]; then
	expect_eq "tunnelled packets to the router's own addresses are counted" "$(( $(stat out_local_destination) - l0 ))" 3
else
	expect_eq "direct packets to the router's own addresses are counted out_local_destination" "$(( $(stat out_local_destination) - l0 ))" 3
fi
# Decapsulation keeps exactly the inner packet: bytes after it inside the
# outer packet are not forwarded; an inner packet longer than what the
# outer one holds is dropped and counted. Tunnel only: a direct packet's
# trailing bytes and length are the Ethernet frame's, which the stack
# trims and checks before any hook.
if [ "$d1" = ipip ]; then
	port=$((lo1 + 4))
	nrouter tcpdump -U -n -i wan0 -w "$T/trailer.pcap" "udp and src port $port" 2>/dev/null &
	cap=$!
	sleep 1
	f0=$(stat out_forwarded) bi0=$(stat out_bad_inner)
	nh1 python3 "$TOP/qemu-tests/ipip_raw.py" --trailer 50 10.0.0.7 from-public "$port" 203.0.113.3 9090 trailer
	nh1 python3 "$TOP/qemu-tests/ipip_raw.py" --overlong 10 10.0.0.7 from-public "$port" 203.0.113.3 9090 overlong
	sleep 1
	kill "$cap" 2>/dev/null; sleep 1
	# Counted on the wire, not by out_forwarded: ext echoes the datagram, h1's
	# stack (a raw socket sent it) answers with a port unreachable, and the
	# router forwards that error too.
	expect_eq "a tunnelled packet with trailing bytes was forwarded once" \
		"$(tcpdump -n -r "$T/trailer.pcap" 2>/dev/null | wc -l)" 1
	check "... counted as forwarded" test $(( $(stat out_forwarded) - f0 )) -ge 1
	expect_eq "it left without the trailing bytes" "$(python3 "$TOP/qemu-tests/pcap_inner.py" --trailing "$T/trailer.pcap")" 0
	expect_eq "an inner packet longer than the outer one is dropped and counted" "$(( $(stat out_bad_inner) - bi0 ))" 1
fi
check "forwarded and delivered packets were counted" test "$(stat out_forwarded)" -gt 0 -a "$(stat in_delivered)" -gt 0
rm -rf "$T"
