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
pcap() { tcpdump -r "$1" -n 2>/dev/null || true; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
dnat_host_ipip h1 10.0.0.1
dnat_host_ipip h2 10.0.0.3
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

# A 3000-byte datagram from the server to h1: fragmented on the WAN,
# reassembled by the router, tunnelled (outer DF clear, fragmented again),
# reassembled by h1.
port=$((lo1 + 60))
nh1 timeout 10 socat -u UDP-RECV:$port,reuseaddr OPEN:"$T/big.in",creat &
rx=$!
wait_listen h1 u $port
head -c 3000 /dev/urandom >"$T/big"
next socat -u OPEN:"$T/big" UDP-SENDTO:203.0.113.30:$port
sleep 2
kill "$rx" 2>/dev/null || true
expect_eq "a 3000-byte datagram reached h1 intact" "$(sha256sum <"$T/big.in" | cut -d' ' -f1)" "$(sha256sum <"$T/big" | cut -d' ' -f1)"

# The router does not touch what it delivers: the packet inside the tunnel
# at h1 is byte for byte the packet that arrived on the router's WAN.
port=$((lo1 + 61))
nrouter tcpdump -U -n -i wan0 -w "$T/in-wan.pcap" "udp port $port" 2>/dev/null &
c1=$!
nh1 tcpdump -U -n -i eth0 -w "$T/in-h1.pcap" 'ip proto 4' 2>/dev/null &
c2=$!
sleep 1
for i in 1 2 3; do next sh -c "echo payload-$i | socat -u - UDP-SENDTO:203.0.113.30:$port"; done
sleep 1
kill "$c1" "$c2" 2>/dev/null; sleep 1
wan=$(python3 "$TOP/qemu-tests/pcap_inner.py" "$T/in-wan.pcap")
inner=$(python3 "$TOP/qemu-tests/pcap_inner.py" --inner "$T/in-h1.pcap" | grep -F -x -f <(echo "$wan") || true)
expect_eq "3 packets on the WAN for h1's port" "$(echo "$wan" | grep -c .)" 3
expect_eq "the 3 packets inside the tunnel at h1 are byte-identical" "$inner" "$wan"

# -- the router caches its route to each host; a change of the routing
# tables reaches the very next packet: with a route to h1 via h2, the
# tunnelled packet goes to h2 (which does not forward it); without, to h1
port=$((lo1 + 62))
rx1() { nh1 cat /sys/class/net/dnat0/statistics/rx_packets; }
d0=$(stat in_delivered)
nh2 tcpdump -U -n -i eth0 -w "$T/via-h2.pcap" 'ip proto 4 and dst host 10.0.0.1' 2>/dev/null &
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
expect_eq "cached route: the router tunnelled all 3 packets" "$(( $(stat in_delivered) - d0 ))" 3
expect_eq "cached route: h1 got the packets before and after the route change" "$(( $(rx1) - r0 ))" 2
expect_eq "cached route: the one in between went via h2" "$(pcap "$T/via-h2.pcap" | grep -c 'IP 10.0.0.7 > 10.0.0.1')" 1

# An ICMP error from the Internet about h1's flow reaches h1: h1 sends to a
# closed port of the server, whose port unreachable quotes h1's port.
nh1 tcpdump -U -n -i dnat0 -w "$T/icmp.pcap" 'icmp[0] == 3' 2>/dev/null &
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
nh1 tcpdump -U -q -n -i dnat0 -w "$T/h1-ipsec.pcap" 'ip proto 50 or ip proto 51' 2>/dev/null &
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

# Spoofing: h2 sends from a port of h1's block: dropped at the router.
spoofed0=$(stat out_spoofed)
nh2 sh -c "echo spoof | socat -t 1 - UDP:203.0.113.3:9090,sourceport=$((lo1 + 1))" >/dev/null 2>&1 || true
sleep 1
expect_eq "a port of another host is refused and counted" "$(( $(stat out_spoofed) - spoofed0 ))" 1
# Not tunnelled: h2 sends with the public address straight out of eth0,
# which would skip the ownership check: dropped and counted.
u0=$(stat out_untunnelled)
nh2 python3 "$TOP/qemu-tests/raw_udp.py" eth0 203.0.113.30 203.0.113.3 $((lo2 + 5)) 9090 sneaky
sleep 1
expect_eq "an untunnelled packet with the public source is dropped and counted" "$(( $(stat out_untunnelled) - u0 ))" 1
# A host cannot reach the router's own sockets through the tunnel: an inner
# packet to the public address, to the LAN address or to another address of
# the router is dropped and counted (lan0 has accept_local=1, so the stack
# would take it, from the public address).
nrouter ip addr add 198.51.100.77/32 dev lo
nrouter timeout 20 socat -u UDP-RECV:5555 - >"$T/local.out" &
rx=$!
wait_listen router u 5555
next sh -c "echo from-wan | socat -u - UDP-SENDTO:203.0.113.30:5555"
l0=$(stat out_local_destination)
for d in 203.0.113.30 10.0.0.7 198.51.100.77; do
	nh1 python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.7 from-public $((lo1 + 3)) "$d" 5555 "forged-to-$d"
done
sleep 1
kill "$rx" 2>/dev/null || true
expect_eq "the router's socket got only the datagram from the WAN" "$(cat "$T/local.out")" from-wan
expect_eq "tunnelled packets to the router's own addresses are counted" "$(( $(stat out_local_destination) - l0 ))" 3
# Decapsulation keeps exactly the inner packet: bytes after it inside the
# outer packet are not forwarded; an inner packet longer than what the
# outer one holds is dropped and counted.
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
check "forwarded and delivered packets were counted" test "$(stat out_forwarded)" -gt 0 -a "$(stat in_delivered)" -gt 0
rm -rf "$T"
