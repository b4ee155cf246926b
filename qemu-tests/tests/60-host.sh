#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The full system: the router module and two hosts with the host module
# (in-kernel PAP client, port translation, IP-in-IP both ways). Unmodified
# applications on both hosts reach one server port at once, both directions
# of data verified; the WAN shows only granted ports; both hosts using the
# same ephemeral port still work; LAN traffic is untouched; translations
# end after FIN/RST and idle timeouts; a router restart is survived without
# reloading the host module; malformed tunnel packets are dropped and
# counted.
#
# DELIVERY (61-host-direct and 63-host-mixed set it) chooses how the
# router delivers to each host (issue 19): ipip (the default) tunnels to
# both; direct binds both to their MACs (router delivery ... direct
# lladdr, host-up.sh delivery direct); mixed makes h1 direct and h2 ipip.
# What a check looks at that only one method has (the outer header, the
# module's own tunnel) is chosen per host's method, explicitly below.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
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
hstat() { n "$1" "$DNATCTL" --json host stats | jq -r ".stats.$2"; }
sptt() { n "$1" "$DNATCTL" --json host sptt; }
pcap() { tcpdump -r "$1" -n 2>/dev/null || true; }
in_block() { [ "$1" -ge "$2" ] && [ "$1" -lt $(($2 + $3)) ]; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
# host_up NS LANADDR DELIVERY: the router's binding first (direct), then
# scripts/host-up.sh.
host_up() {
	if [ "$3" = direct ]; then
		check "router delivery $2 direct lladdr ($1's MAC)" router_direct "$1" "$2"
		check "$1 set up by scripts/host-up.sh delivery direct (ports granted)" dnat_host_module "$1" delivery direct
	else
		check "$1 set up by scripts/host-up.sh (ports granted)" dnat_host_module "$1"
	fi
}
host_up h1 10.0.0.1 "$d1"
host_up h2 10.0.0.3 "$d2"
# The host counter of what h1 sends to the Internet: tunnelled or direct.
out1=out_tunnelled
[ "$d1" = ipip ] || out1=out_direct
lo1=$(wait_ports h1) || lo1=
lo2=$(wait_ports h2) || lo2=
check "h1's module obtained a port block by itself" test -n "$lo1"
check "h2's module obtained a port block by itself" test -n "$lo2"
lo1=${lo1:-0} lo2=${lo2:-0}
c1=$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports")][0].count')
c2=$(nh2 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports")][0].count')
check "the two hosts' blocks are disjoint" test $((lo1 + c1)) -le "$lo2" -o $((lo2 + c2)) -le "$lo1"
rb=$(nrouter "$DNATCTL" --json router blocks)
check "the router lists h1's block" jqe ".blocks[] | select(.host == \"10.0.0.1\" and .lowest == $lo1)" <<<"$rb" >/dev/null
check "the router lists h2's block" jqe ".blocks[] | select(.host == \"10.0.0.3\" and .lowest == $lo2)" <<<"$rb" >/dev/null
for i in $(seq 100); do
	[ "$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "spis")] | length')" -gt 0 ] && break
	sleep 0.1
done
check "h1's module holds an SPI block" jqe '[.blocks[] | select(.kind == "spis")] | length > 0' <<<"$(nh1 "$DNATCTL" --json host blocks)" >/dev/null
check "h1's host show reports the router epoch" jqe '.config.epoch > 0' <<<"$(nh1 "$DNATCTL" --json host show)" >/dev/null
# The SPTT (about 1.9 MiB) exists only where the host was configured.
check "h1's SPTT was allocated by its configuration ($(hstat h1 sptt_bytes) bytes)" test "$(hstat h1 sptt_bytes)" -gt 1000000
expect_eq "no SPTT in the router's and ext's namespaces (host module never configured there)" \
	"$(hstat router sptt_bytes) $(hstat ext sptt_bytes)" "0 0"

# Servers in ext: a TCP echo and a UDP echo.
next socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8080
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
nrouter tcpdump -U -q -n -i wan0 -w "$T/wan.pcap" 'tcp port 8080 or udp port 9090' 2>/dev/null &
tcpdump_pid=$!
sleep 1

# The outer headers h1 sends (DF clear) never repeat an IP ID on the wire:
# a GSO packet (the capture sees it whole) reserves one ID for each
# segment it becomes. A direct h1 sends no outer header at all.
nh1 tcpdump -U -n -i eth0 -w "$T/outer-ids.pcap" 'ip proto 4 and src host 10.0.0.1 and dst host 10.0.0.7' 2>/dev/null &
idcap=$!
sleep 1
head -c 300000 /dev/urandom >"$T/data"
want=$(sha256sum <"$T/data" | cut -d' ' -f1)
clients=()
for h in h1 h2; do
	n $h timeout 60 socat -t 5 - TCP:203.0.113.3:8080 <"$T/data" >"$T/$h.tcp" &
	clients+=($!)
	n $h sh -c "echo udp-from-$h | timeout 10 socat -t 3 - UDP:203.0.113.3:9090" >"$T/$h.udp" &
	clients+=($!)
done
wait "${clients[@]}" 2>/dev/null || true
for h in h1 h2; do
	expect_eq "$h: TCP echo (unmodified socat) returns identical data" "$(sha256sum <"$T/$h.tcp" | cut -d' ' -f1)" "$want"
	expect_eq "$h: UDP echo (unmodified socat)" "$(cat "$T/$h.udp")" "udp-from-$h"
done
sleep 1
kill "$idcap" 2>/dev/null || true
wait "$idcap" 2>/dev/null || true
read -r idn idgso idover < <(python3 "$TOP/qemu-tests/pcap_ids.py" "$T/outer-ids.pcap")
if [ "$d1" = ipip ]; then
	check "h1 tunnelled the transfer in GSO packets ($idn outer packets, $idgso over 1500 bytes)" test "$idn" -gt 20 -a "$idgso" -gt 0
	expect_eq "every outer GSO packet of h1 reserved an IP ID per segment (no ID used twice)" "$idover" 0
else
	expect_eq "direct: h1 sent no IP-in-IP to the router" "$idn" 0
fi

# The encapsulation comes after every other POST_ROUTING hook and, with
# conntrack used on h1 after its set-up, after conntrack's confirmation:
# a chain after source NAT and the security modules (priority 300) sees
# the inner flow, established in conntrack, and no IP-in-IP from h1.
# (Direct: nothing is encapsulated; the chain sees the same.)
modprobe -a nf_conntrack nft_ct 2>/dev/null || true
nh1 nft -f - <<'EOF'
table ip ctcheck {
	chain post {
		type filter hook postrouting priority 300;
		ip protocol 4 counter
		ip saddr 203.0.113.30 tcp dport 8080 ct state established ct original ip saddr 203.0.113.30 counter
	}
}
EOF
expect_eq "TCP from h1 with conntrack on h1" "$(echo with-ct | nh1 timeout 20 socat -t 3 - TCP:203.0.113.3:8080)" with-ct
ctpk() { nh1 nft -j list chain ip ctcheck post | jq "[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets][$1]"; }
expect_eq "a POST_ROUTING chain at priority 300 saw no IP-in-IP from h1" "$(ctpk 0)" 0
check "... and saw the inner flow, established in h1's conntrack ($(ctpk 1))" test "$(ctpk 1)" -gt 0
nh1 nft delete table ip ctcheck

# Both hosts bind the same source port explicitly: both flows work and
# leave the hosts on different granted ports.
clients=()
for h in h1 h2; do
	n $h sh -c "echo same-port-$h | timeout 10 socat -t 3 - UDP:203.0.113.3:9090,sourceport=40000" >"$T/$h.same" &
	clients+=($!)
done
wait "${clients[@]}" 2>/dev/null || true
for h in h1 h2; do
	expect_eq "$h: UDP from source port 40000 works" "$(cat "$T/$h.same")" "same-port-$h"
done
u1=$(sptt h1 | jq '[.translations[] | select(.proto == "udp" and .local_port == 40000)][0].unique_port')
u2=$(sptt h2 | jq '[.translations[] | select(.proto == "udp" and .local_port == 40000)][0].unique_port')
check "h1 translated port 40000 into its own block ($u1)" in_block "${u1//null/0}" "$lo1" "$c1"
check "h2 translated port 40000 into its own block ($u2)" in_block "${u2//null/0}" "$lo2" "$c2"

sleep 1
kill "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true
srcs=$(pcap "$T/wan.pcap" | awk '$3 ~ /^203\.0\.113\.30\./ {print $3}' | sort -u)
check "the WAN saw the public address as source" test -n "$srcs"
bad=0 seen1=0 seen2=0
for s in $srcs; do
	p=${s##*.}
	if in_block "$p" "$lo1" "$c1"; then
		seen1=1
	elif in_block "$p" "$lo2" "$c2"; then
		seen2=1
	else
		bad=1
	fi
done
expect_eq "every source port on the WAN is a granted port" "$bad" 0
expect_eq "h1's granted ports were used on the WAN" "$seen1" 1
expect_eq "h2's granted ports were used on the WAN" "$seen2" 1
check "port 40000 never appeared on the WAN" sh -c "! tcpdump -r '$T/wan.pcap' -n 2>/dev/null | grep -q '203\.0\.113\.30\.40000 '"
check "the WAN saw no LAN address" sh -c "! tcpdump -r '$T/wan.pcap' -n 2>/dev/null | grep -q ' 10\.0\.0\.'"
check "the server saw 203.0.113.30 for both hosts" test "$(pcap "$T/wan.pcap" | awk '$3 ~ /^203\.0\.113\.3\./ {print $5}' | cut -d. -f1-4 | sort -u)" = "203.0.113.30"

# LAN traffic between h1 and h2: neither translated nor tunnelled, even
# from the public address.
nh2 tcpdump -U -q -n -i eth0 -w "$T/lan.pcap" 'host 10.0.0.1' 2>/dev/null &
lanpcap=$!
sleep 1
tun0=$(hstat h1 "$out1")
nh2 python3 "$TOP/qemu-tests/udp_echo.py" 7070 &
pids+=($!)
wait_listen h2 u 7070
expect_eq "h1 -> h2 UDP on the LAN works" "$(echo lan | nh1 timeout 10 socat -t 3 - UDP:10.0.0.3:7070,sourceport=41000)" lan
sleep 1
kill "$lanpcap" 2>/dev/null || true
wait "$lanpcap" 2>/dev/null || true
check "h2 saw the LAN datagram from h1's own port, not tunnelled" sh -c "tcpdump -r '$T/lan.pcap' -n 2>/dev/null | grep -q '10\.0\.0\.1\.41000 > 10\.0\.0\.3\.7070: UDP'"
check "no IP-in-IP on the LAN between h1 and h2" sh -c "! tcpdump -r '$T/lan.pcap' -n 'ip proto 4' 2>/dev/null | grep -q ."
if [ "$d1" = ipip ]; then
	expect_eq "LAN traffic did not go through the tunnel" "$(hstat h1 out_tunnelled)" "$tun0"
else
	expect_eq "direct: LAN traffic was not counted as sent direct" "$(hstat h1 out_direct)" "$tun0"
fi

# The host caches its route to the router; a change of the routing tables
# reaches the very next packet (with a route to the router via h2, the
# tunnelled packet goes to h2, which does not forward it). Then a route to
# the Internet through another device. Both concern the module's own
# tunnel, ipip only: a direct h1's packets are routed by its stack alone.
rstat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
if [ "$d1" = ipip ]; then
	tun0=$(hstat h1 out_tunnelled); fw0=$(rstat out_forwarded)
	nh1 sh -c "echo warm | socat -u - UDP-SENDTO:203.0.113.3:9999"
	nh1 ip route add 10.0.0.7/32 via 10.0.0.3 dev eth0
	nh1 sh -c "echo diverted | socat -u - UDP-SENDTO:203.0.113.3:9999"
	nh1 ip route del 10.0.0.7/32 via 10.0.0.3 dev eth0
	nh1 sh -c "echo again | socat -u - UDP-SENDTO:203.0.113.3:9999"
	sleep 1
	expect_eq "cached route: h1 tunnelled 3 datagrams, the router got those before and after the route change" \
		"$(( $(hstat h1 out_tunnelled) - tun0 )) $(( $(rstat out_forwarded) - fw0 ))" "3 2"

	# A route to the Internet through another device (here an ipip device,
	# whose headroom has room for the outer header): the datagram is still
	# translated, tunnelled by the module and sent out of the LAN device, not
	# by that device (which would wrap it a second time).
	nh1 ip link add dnat0 type ipip local 10.0.0.1 remote 10.0.0.7 dev eth0
	nh1 ip link set dnat0 up
	nh1 ip route add 203.0.113.3/32 dev dnat0 src 203.0.113.30
	tun0=$(hstat h1 out_tunnelled); tx0=$(nh1 cat /sys/class/net/dnat0/statistics/tx_packets)
	expect_eq "route via another device: UDP echo through the module" \
		"$(echo via-dev | nh1 timeout 10 socat -t 3 - UDP:203.0.113.3:9090)" via-dev
	expect_eq "route via another device: tunnelled by the module, not by that device" \
		"$(( $(hstat h1 out_tunnelled) - tun0 )) $(( $(nh1 cat /sys/class/net/dnat0/statistics/tx_packets) - tx0 ))" "1 0"
	nh1 ip route del 203.0.113.3/32 dev dnat0
	nh1 ip link del dnat0
fi

# Translations end: TCP after FIN (closing grace), UDP after its idle
# timeout; the ports go back to the pool.
nh1 "$DNATCTL" host set udp-timeout 2
for i in $(seq 40); do
	[ "$(sptt h1 | jq '.translations | length')" = 0 ] && break
	sleep 0.5
done
expect_eq "h1's translations ended after FIN and the UDP timeout" "$(sptt h1 | jq '.translations | length')" 0
expect_eq "h1's block shows no port in use" "$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports") | .used] | add')" 0
# RST: a connection to a closed port is refused; its entry goes too.
nh1 timeout 5 socat -u - TCP:203.0.113.3:8081 </dev/null 2>/dev/null || true
expect_eq "the refused connection's translation saw the RST" "$(sptt h1 | jq '[.translations[] | select(.proto == "tcp" and (.state | index("rst")))] | length')" 1
for i in $(seq 40); do
	[ "$(sptt h1 | jq '[.translations[] | select(.proto == "tcp")] | length')" = 0 ] && break
	sleep 0.5
done
expect_eq "a refused (RST) TCP translation ended" "$(sptt h1 | jq '[.translations[] | select(.proto == "tcp")] | length')" 0

# A blind RST (RFC 5961 3.2): an Internet host forges an RST from the
# server's address and port to the granted port of h1's idle connection,
# with a sequence number h1 never acknowledged. h1 does not treat it as
# closing: the translation outlives the closing grace (10 s) and the
# connection still works.
# (The fifo lives on /dev/shm: the 9p share cannot hold one.)
fifo=$(mktemp -u /dev/shm/dnat-rst.XXXXXX)
mkfifo "$fifo"
nh1 timeout 60 socat -t 30 - TCP:203.0.113.3:8080 <"$fifo" >"$T/rst.out" &
pids+=($!)
exec 7>"$fifo"
echo before-rst >&7
for i in $(seq 50); do grep -q before-rst "$T/rst.out" && break; sleep 0.2; done
expect_eq "an idle TCP connection from h1 works" "$(cat "$T/rst.out")" before-rst
ur=$(sptt h1 | jq '[.translations[] | select(.proto == "tcp")][0].unique_port // 0')
check "its translation is listed ($ur)" in_block "$ur" "$lo1" "$c1"
n ext2 python3 "$TOP/qemu-tests/tcp_rst.py" 203.0.113.3 8080 203.0.113.30 "$ur" 0x12345678
sleep 1
expect_eq "the forged RST did not make the translation closing" \
	"$(sptt h1 | jq "[.translations[] | select(.proto == \"tcp\" and .unique_port == $ur and (.state | index(\"rst\")))] | length")" 0
sleep 12
expect_eq "the translation outlived the closing grace" \
	"$(sptt h1 | jq "[.translations[] | select(.proto == \"tcp\" and .unique_port == $ur)] | length")" 1
echo after-rst >&7
for i in $(seq 50); do grep -q after-rst "$T/rst.out" && break; sleep 0.2; done
expect_eq "the connection still works after the forged RST" "$(cat "$T/rst.out")" "before-rst
after-rst"
exec 7>&-
rm -f "$fifo"

# Malformed tunnel packets: from the router with a truncated or non-IPv4
# inner packet, and from a host that is not the router.
# Direct (below): the same checks of where a packet for the public address
# comes from, without a tunnel.
if [ "$d1" = ipip ]; then
	m0=$(hstat h1 in_malformed)
	b0=$(hstat h1 in_bad_source)
	nrouter python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.1 truncated
	nrouter python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.1 not-ipv4
	nh2 python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.1 udp 203.0.113.3 "$lo1" spoofed
	sleep 1
	# Bytes after the inner packet are trimmed off, not delivered (a raw
	# socket sees the whole packet the stack got); an inner packet longer than
	# the outer one holds is dropped.
	nh1 python3 "$TOP/qemu-tests/raw_trailer.py" 7777 >"$T/trailer" &
	rt=$!
	sleep 1
	nrouter python3 "$TOP/qemu-tests/ipip_raw.py" --trailer 50 10.0.0.1 udp 203.0.113.3 7777 trailer
	wait "$rt" || true
	expect_eq "a tunnelled datagram with 50 trailing bytes reaches h1's stack trimmed" "$(cat "$T/trailer")" 0
	nrouter python3 "$TOP/qemu-tests/ipip_raw.py" --overlong 10 10.0.0.1 udp 203.0.113.3 7777 overlong
	sleep 1
	# Decapsulated packets arrive on the LAN device: a socket bound to it
	# (SO_BINDTODEVICE) receives them and IP_PKTINFO names the device.
	nh1 python3 "$TOP/qemu-tests/udp_bound_recv.py" eth0 7778 >"$T/bound" &
	rb=$!
	wait_listen h1 u 7778
	nrouter python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.1 udp 203.0.113.3 7778 bound
	wait "$rb" || true
	expect_eq "a socket bound to eth0 receives tunnelled traffic, arrived on eth0" \
		"$(cat "$T/bound")" "bound $(nh1 cat /sys/class/net/eth0/ifindex)"
	expect_eq "truncated, non-IPv4 and overlong inner packets dropped and counted" "$(hstat h1 in_malformed)" $((m0 + 3))
	expect_eq "a tunnel packet from h2 (not the router) dropped and counted" "$(hstat h1 in_bad_source)" $((b0 + 1))
else
	# Direct: plain packets to the public address are taken only from the
	# router's MAC. h2 sends one straight to h1's MAC: dropped and
	# counted. The router's namespace sends one from the router's MAC to a
	# socket on h1 bound to eth0 (SO_BINDTODEVICE): received, and
	# IP_PKTINFO names eth0.
	m1=$(lladdr h1 eth0)
	l0=$(hstat h1 in_direct_lladdr)
	nh2 python3 "$TOP/qemu-tests/raw_eth.py" eth0 "$(lladdr h2 eth0)" "$m1" 203.0.113.3 203.0.113.30 udp 9999 "$lo1" spoofed >/dev/null
	nh1 python3 "$TOP/qemu-tests/udp_bound_recv.py" eth0 7778 >"$T/bound" &
	rb=$!
	wait_listen h1 u 7778
	nrouter python3 "$TOP/qemu-tests/raw_eth.py" lan0 "$(lladdr router lan0)" "$m1" 203.0.113.3 203.0.113.30 udp 9999 7778 bound >/dev/null
	wait "$rb" || true
	echo "    # h1: router lladdr $(nh1 "$DNATCTL" --json host show | jq -r '.config.router_lladdr // "none"') (router lan0 $(lladdr router lan0)), in_direct $(hstat h1 in_direct), in_direct_lladdr $(hstat h1 in_direct_lladdr)"
	expect_eq "direct: a socket bound to eth0 receives what the router's MAC sent, arrived on eth0" \
		"$(cat "$T/bound")" "bound $(nh1 cat /sys/class/net/eth0/ifindex)"
	expect_eq "direct: a datagram to the public address from h2's MAC (not the router's) dropped and counted" \
		"$(hstat h1 in_direct_lladdr)" $((l0 + 1))
fi

# Router restart: the router module is reloaded and configured again; it
# tells the LAN everything is invalid; the hosts ask again and new
# connections work without reloading the host module.
e0=$(nh1 "$DNATCTL" --json host show | jq .config.epoch)
rmmod dnat_router
insmod "$TOP/rust/dnat_router.ko"
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 30000-39999 spis 0x1000-0x1fff
# The reloaded router knows no binding: the administrator's again.
[ "$d1" = ipip ] || check "router delivery 10.0.0.1 direct again after the restart" router_direct h1 10.0.0.1
[ "$d2" = ipip ] || check "router delivery 10.0.0.3 direct again after the restart" router_direct h2 10.0.0.3
for i in $(seq 100); do
	n1=$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports" and .lowest >= 30000)] | length')
	n2=$(nh2 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports" and .lowest >= 30000)] | length')
	[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && break
	sleep 0.2
done
check "h1 re-acquired ports from the restarted router" test "$n1" -gt 0
check "h2 re-acquired ports from the restarted router" test "$n2" -gt 0
check "h1 saw a new router epoch" test "$(nh1 "$DNATCTL" --json host show | jq .config.epoch)" != "$e0"
expect_eq "h1: no block of the old router left" "$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports" and .lowest < 30000)] | length')" 0
for h in h1 h2; do
	expect_eq "$h: TCP works after the router restart" "$(echo again-$h | n $h timeout 20 socat -t 3 - TCP:203.0.113.3:8080)" "again-$h"
done

# Giving a block back by hand, and asking for one.
lo=$(wait_ports h1)
cnt=$(nh1 "$DNATCTL" --json host blocks | jq "[.blocks[] | select(.kind == \"ports\" and .lowest == $lo)][0].count")
check "dnatctl host release gives a block back" nh1 "$DNATCTL" host release ports "$lo" "$cnt"
for i in $(seq 50); do
	nrouter "$DNATCTL" --json router blocks | jqe ".blocks[] | select(.lowest == $lo)" >/dev/null || break
	sleep 0.2
done
rb=$(nrouter "$DNATCTL" --json router blocks)
check "the router lists blocks" jqe .blocks <<<"$rb" >/dev/null
check "the router no longer lists the released block" test -z "$(jq ".blocks[] | select(.lowest == $lo)" <<<"$rb")"
expect_errno "releasing a block not held is refused" 2 "no held block" nh1 "$DNATCTL" host release ports 1 1
check "dnatctl host request asks for more ports" nh1 "$DNATCTL" host request ports 8
for i in $(seq 50); do
	[ "$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports" and .count == 8)] | length')" -gt 0 ] && break
	sleep 0.2
done
check "the requested 8-port block is held" jqe '[.blocks[] | select(.kind == "ports" and .count == 8)] | length > 0' <<<"$(nh1 "$DNATCTL" --json host blocks)" >/dev/null
expect_usage "a request for 0 ports is refused by dnatctl" 'COUNT: "0" is out of range (1 to 255)' \
	nh1 "$DNATCTL" host request ports 0
# REQUEST (7) with BLOCK_KIND (15) ports and BLOCK_COUNT (17) 0.
expect_eq "the kernel refuses a request for 0 ports (raw REQUEST)" \
	"$(nh1 python3 "$TOP/qemu-tests/genl_raw.py" dnat_host 7 15:u8:1 17:u32:0)" \
	"errno 34 a request asks for 1 to 255 ports or 1 to 65535 SPIs"
expect_errno "an unknown mode is refused" 22 "unknown MODE" nh1 "$DNATCTL" host set mode 7

# Native mode: the module makes the granted block the ephemeral port
# range and only tunnels; back in translate mode the range is restored.
orig=$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')
nh2 "$DNATCTL" host set mode native
blk=$(nh2 "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "ports")] | max_by(.count) | "\(.lowest) \(.lowest + .count - 1)"')
expect_eq "native mode: h2's ephemeral range is its granted block" "$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" "$blk"
t0=$(hstat h2 out_translated)
expect_eq "native mode: TCP from h2 works" "$(echo native | nh2 timeout 20 socat -t 3 - TCP:203.0.113.3:8080)" native
expect_eq "native mode: nothing was translated" "$(hstat h2 out_translated)" "$t0"
nh2 "$DNATCTL" host set mode translate
expect_eq "translate mode: h2's ephemeral range is restored" "$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" "$orig"

# The range is set with the sysctl's own checks: a block below the
# namespace's ip_unprivileged_port_start is refused and counted, and the
# range stays as it was.
nh2 sysctl -qw net.ipv4.ip_local_port_range="50000 60999"
nh2 sysctl -qw net.ipv4.ip_unprivileged_port_start=40000
r0=$(hstat h2 port_range_refused)
nh2 "$DNATCTL" host set mode native
expect_eq "native mode, blocks below ip_unprivileged_port_start: the range stays" \
	"$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" "50000 60999"
check "native mode, blocks below ip_unprivileged_port_start: counted as port_range_refused" \
	test "$(hstat h2 port_range_refused)" -gt "$r0"
nh2 "$DNATCTL" host set mode translate
nh2 sysctl -qw net.ipv4.ip_unprivileged_port_start=1024
nh2 sysctl -qw net.ipv4.ip_local_port_range="$orig"

# Unloading the host module under a native-mode host: the blocks go back
# to the router (invalidate-all from each host) and the ephemeral port
# range is restored.
nh2 "$DNATCTL" host set mode native
check "h2 in native mode before the unload" test "$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" != "$orig"
rmmod dnat_host
for i in $(seq 50); do
	[ "$(nrouter "$DNATCTL" --json router blocks | jq '.blocks | length')" = 0 ] && break
	sleep 0.1
done
expect_eq "unloading dnat_host gave every block back to the router" "$(nrouter "$DNATCTL" --json router blocks | jq '.blocks | length')" 0
expect_eq "unloading dnat_host restored h2's ephemeral range" "$(nh2 sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" "$orig"
check "dnat_host loads again" insmod "$TOP/rust/dnat_host.ko"
