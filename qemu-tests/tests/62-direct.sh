#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Direct delivery (LVS-DR style) with the host module: h1 in direct mode,
# h2 in ipip mode at once. Unmodified applications on both reach one
# server port, data verified both ways; the WAN shows only granted ports;
# on the LAN h1's traffic is plain and h2's tunnelled. Forgeries of the
# public source from the LAN (another MAC, h1's MAC on the router's second
# port, h1's MAC with a port it does not own, untunnelled from the ipip
# host) and of inbound packets to h1's MAC from another MAC are dropped
# and counted, for UDP, TCP, ICMP echo and ESP. A TCP connection survives
# switching h1 between the modes and back. Both hosts direct, using the
# same source port to one server port at once, still work.
#
#   h1 10.0.0.1 --+                              +-- ext  203.0.113.3
#   (direct)      |                              |
#   h2 10.0.0.3 --+-- [lan] --- router --- [inet] --+
#   (ipip)        |   10.0.0.7 lan0 | wan0 203.0.113.30 +-- ext2 203.0.113.66
#   h3 10.0.0.9 --+   10.0.1.7 lan1 (second port on the same segment)
#   (intruder)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
}
trap finish EXIT
topology
lan_intruder
router_second_port
T=$(mktemp -d)
rstat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
hstat() { n "$1" "$DNATCTL" --json host stats | jq -r ".stats.$2"; }
# rat NAME N / hat NS NAME N: the router's / NS's host counter NAME is at least N.
rat() { [ "$(rstat "$1")" -ge "$2" ]; }
hat() { [ "$(hstat "$1" "$2")" -ge "$3" ]; }
# rhost ADDR: "DELIVERY LLADDR" of host ADDR in router hosts ("none": no lladdr).
rhost() { nrouter "$DNATCTL" --json router hosts | jq -r ".hosts[] | select(.host == \"$1\") | \"\(.delivery) \(.lladdr // \"none\")\""; }
sptt() { n "$1" "$DNATCTL" --json host sptt; }
nh3() { n h3 "$@"; }
pcap() { tcpdump -r "$1" -n 2>/dev/null || true; }
# pcount FILE FILTER: the packets of FILE that FILTER matches.
pcount() { tcpdump -r "$1" -n "$2" 2>/dev/null | wc -l; }
in_block() { [ "$1" -ge "$2" ] && [ "$1" -lt $(($2 + $3)) ]; }
# path_mtu NS: the path MTU a UDP socket in NS has towards ext.
path_mtu() {
	n "$1" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("203.0.113.3", 9)); print(s.getsockopt(socket.IPPROTO_IP, 14))'
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

m1=$(lladdr h1 eth0) m2=$(lladdr h2 eth0) m3=$(lladdr h3 eth0)
mr=$(lladdr router lan0) mr1=$(lladdr router lan1)

# -- h1 direct (the router binds it to h1's MAC, h1's module is set to
# direct by host-up.sh), h2 ipip (the default).
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "router delivery 10.0.0.1 direct lladdr (h1's MAC)" router_direct h1 10.0.0.1
check "h1 set up by scripts/host-up.sh delivery direct (ports granted)" dnat_host_module h1 delivery direct
check "h2 set up by scripts/host-up.sh (ipip, ports granted)" dnat_host_module h2
lo1=$(wait_ports h1) || lo1=0
lo2=$(wait_ports h2) || lo2=0
c1=$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports")][0].count // 0')
c2=$(nh2 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports")][0].count // 0')
check "h1 and h2 hold disjoint port blocks ($lo1+$c1, $lo2+$c2)" \
	test "$c1" -gt 0 -a "$c2" -gt 0 -a \( $((lo1 + c1)) -le "$lo2" -o $((lo2 + c2)) -le "$lo1" \)
read -r spi1 _ < <(held_block h1 spis || echo "0 0")
read -r spi2 _ < <(held_block h2 spis || echo "0 0")
check "h1 and h2 hold SPI blocks ($spi1, $spi2)" test "$spi1" -gt 0 -a "$spi2" -gt 0
expect_eq "h1's host show: delivery direct" "$(nh1 "$DNATCTL" --json host show | jq -r .config.delivery)" direct
expect_eq "h2's host show: delivery ipip" "$(nh2 "$DNATCTL" --json host show | jq -r .config.delivery)" ipip
lladdr_learned() { [ "$(nh1 "$DNATCTL" --json host show | jq -r '.config.router_lladdr // empty')" = "$mr" ]; }
check "h1 learned the router's MAC from its PAP replies" wait_until 10 lladdr_learned
expect_eq "router hosts: h1 direct, bound to its MAC" "$(rhost 10.0.0.1)" "direct $m1"
expect_eq "router hosts: h2 ipip, no MAC" "$(rhost 10.0.0.3)" "ipip none"
check "router hosts (human): h1's line says delivery direct lladdr (its MAC)" \
	nrouter sh -c "'$DNATCTL' router hosts | grep '^10\.0\.0\.1[ :]' | grep -qF ' delivery direct lladdr $m1'"
check "router hosts (human): h2's line does not say direct" \
	nrouter sh -c "'$DNATCTL' router hosts | grep '^10\.0\.0\.3[ :]' | grep -vqF ' delivery direct'"
# No outer header in direct mode: host-up.sh leaves eth0's MTU to the
# Internet; the ipip host keeps room for the outer header.
expect_eq "h1 (direct): path MTU to ext is eth0's" "$(path_mtu h1)" 1500
expect_eq "h2 (ipip): path MTU to ext leaves room for the outer header" "$(path_mtu h2)" 1480

# -- (a) both at once: TCP (300 kB) and UDP echoes from unmodified socat
# on both hosts to one server port each.
next socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8080
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
nrouter tcpdump -U -q -n -i wan0 -w "$T/wan.pcap" 'tcp port 8080 or udp port 9090' 2>/dev/null &
wancap=$!
# The LAN as each host's bridge port sees it (both directions).
n lan tcpdump -U -n -i h1-eth0 -w "$T/lan-h1.pcap" 'ip and not icmp' 2>/dev/null &
lancap1=$!
n lan tcpdump -U -n -i h2-eth0 -w "$T/lan-h2.pcap" 'ip and not icmp' 2>/dev/null &
lancap2=$!
sleep 1
rin0=$(rstat in_direct) rout0=$(rstat out_direct)
hout0=$(hstat h1 out_direct) hin0=$(hstat h1 in_direct) htun0=$(hstat h1 out_tunnelled)
hlla0=$(hstat h1 in_direct_lladdr)
h2tun0=$(hstat h2 out_tunnelled) h2dir0=$(hstat h2 out_direct)
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
stop "$wancap"
stop "$lancap1"
stop "$lancap2"

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
expect_eq "h1's (direct) granted ports were used on the WAN" "$seen1" 1
expect_eq "h2's (ipip) granted ports were used on the WAN" "$seen2" 1
check "the WAN saw no LAN address" sh -c "! tcpdump -r '$T/wan.pcap' -n 2>/dev/null | grep -q ' 10\.0\.0\.'"

flows='(tcp port 8080 or udp port 9090)'
check "LAN: h1 sent its flows plain, from the public address, to the router's MAC ($(pcount "$T/lan-h1.pcap" "ether src $m1 and ether dst $mr and src host 203.0.113.30 and $flows"))" \
	test "$(pcount "$T/lan-h1.pcap" "ether src $m1 and ether dst $mr and src host 203.0.113.30 and $flows")" -gt 0
check "LAN: the router delivered h1's flows plain to h1's MAC ($(pcount "$T/lan-h1.pcap" "ether src $mr and ether dst $m1 and dst host 203.0.113.30 and $flows"))" \
	test "$(pcount "$T/lan-h1.pcap" "ether src $mr and ether dst $m1 and dst host 203.0.113.30 and $flows")" -gt 0
expect_eq "LAN: no IP-in-IP to or from h1" "$(pcount "$T/lan-h1.pcap" 'ip proto 4')" 0
check "LAN: h2 tunnelled to the router ($(pcount "$T/lan-h2.pcap" 'ip proto 4 and src host 10.0.0.3 and dst host 10.0.0.7'))" \
	test "$(pcount "$T/lan-h2.pcap" 'ip proto 4 and src host 10.0.0.3 and dst host 10.0.0.7')" -gt 0
check "LAN: the router tunnelled to h2 ($(pcount "$T/lan-h2.pcap" 'ip proto 4 and src host 10.0.0.7 and dst host 10.0.0.3'))" \
	test "$(pcount "$T/lan-h2.pcap" 'ip proto 4 and src host 10.0.0.7 and dst host 10.0.0.3')" -gt 0
expect_eq "LAN: nothing plain from the public address to or from h2's MAC" \
	"$(pcount "$T/lan-h2.pcap" "not ip proto 4 and ((ether src $m2 and src host 203.0.113.30) or (ether dst $m2 and dst host 203.0.113.30))")" 0

check "router: in_direct grew ($(( $(rstat in_direct) - rin0 )))" test $(( $(rstat in_direct) - rin0 )) -gt 0
check "router: out_direct grew ($(( $(rstat out_direct) - rout0 )))" test $(( $(rstat out_direct) - rout0 )) -gt 0
check "h1: out_direct grew ($(( $(hstat h1 out_direct) - hout0 )))" test $(( $(hstat h1 out_direct) - hout0 )) -gt 0
check "h1: in_direct grew ($(( $(hstat h1 in_direct) - hin0 )))" test $(( $(hstat h1 in_direct) - hin0 )) -gt 0
expect_eq "h1: nothing tunnelled, nothing refused for its MAC" \
	"$(( $(hstat h1 out_tunnelled) - htun0 )) $(( $(hstat h1 in_direct_lladdr) - hlla0 ))" "0 0"
check "h2: out_tunnelled grew ($(( $(hstat h2 out_tunnelled) - h2tun0 )))" test $(( $(hstat h2 out_tunnelled) - h2tun0 )) -gt 0
expect_eq "h2: nothing sent direct" "$(( $(hstat h2 out_direct) - h2dir0 ))" 0

# -- (b) forgeries. ext counts, before anything else sees them, what
# arrives from the public address per class (the forged frames' ports:
# UDP 9191, TCP 9192), and what arrives from 10.0.1.9 (the control through
# lan1).
next nft -f - <<'EOF'
table ip sink {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr 203.0.113.30 udp dport 9191 counter comment "udp"
		ip saddr 203.0.113.30 tcp dport 9192 counter comment "tcp"
		ip saddr 203.0.113.30 icmp type echo-request counter comment "icmp"
		ip saddr 203.0.113.30 ip protocol esp counter comment "esp"
		ip saddr 10.0.1.9 counter comment "lan1"
	}
}
EOF
sink() { next nft -j list chain ip sink pre | jq "[.nftables[] | .rule? | select(.comment? == \"$1\") | .expr[] | .counter? | select(.) | .packets] | add // 0"; }
sinks() { echo "udp $(sink udp) tcp $(sink tcp) icmp $(sink icmp) esp $(sink esp)"; }
# forge NS SRCMAC DSTMAC PORT SPI: from NS's eth0, frames with the given
# MACs from the public address to ext: UDP and TCP (SYN) from PORT, an
# ICMP echo request with identifier PORT, and ESP with SPI (none if "-").
forge() {
	local ns=$1 smac=$2 dmac=$3 port=$4 spi=$5
	raw() { n "$ns" python3 "$TOP/qemu-tests/raw_eth.py" eth0 "$smac" "$dmac" 203.0.113.30 203.0.113.3 "$@" >/dev/null; }
	raw udp "$port" 9191 forged
	raw tcp "$port" 9192
	raw icmp "$port"
	[ "$spi" = - ] || raw esp "$spi"
}
p1=$((lo1 + c1 - 1)) p2=$((lo2 + c2 - 1))

# Controls: the crafted frames pass when they are what they claim: from
# h1's MAC on lan0 with h1's port, identifier and SPI, all four reach ext
# (out_direct); a frame from h3 through lan1 with a source that is not
# the public address is forwarded by the router's stack.
d0=$(rstat out_direct)
forge h1 "$m1" "$mr" "$p1" "$spi1"
reached() { [ "$(sinks)" = "udp 1 tcp 1 icmp 1 esp 1" ]; }
wait_until 10 reached || true
expect_eq "control: h1's own frames (its MAC, port, identifier, SPI) reached ext" "$(sinks)" "udp 1 tcp 1 icmp 1 esp 1"
expect_eq "control: ... counted out_direct" "$(( $(rstat out_direct) - d0 ))" 4
nh3 python3 "$TOP/qemu-tests/raw_eth.py" eth0 "$m3" "$mr1" 10.0.1.9 203.0.113.3 udp 5000 9191 via-lan1 >/dev/null
lan1_reached() { [ "$(sink lan1)" = 1 ]; }
check "control: a frame through lan1 from another source is forwarded to ext" wait_until 10 lan1_reached

# expect_dropped DESC COUNTER N: N frames just sent are dropped, counted
# in the router's COUNTER (waits for it), and none reached ext.
expect_dropped() {
	local desc=$1 name=$2 want=$3
	wait_until 10 rat "$name" $((x0 + want)) || true
	expect_eq "$desc: dropped, counted $name" "$(( $(rstat "$name") - x0 ))" "$want"
	expect_eq "$desc: nothing reached ext" "$(sinks)" "$s0"
}
s0=$(sinks)
x0=$(rstat out_direct_lladdr)
forge h3 "$m3" "$mr" "$p1" -
expect_dropped "h3 with its own MAC, h1's port and identifier (UDP, TCP, ICMP)" out_direct_lladdr 3
# Outbound ESP proves nothing by its SPI (the peer chose it): from a MAC
# no direct host is bound to, it is untunnelled, whatever the SPI.
x0=$(rstat out_untunnelled)
n h3 python3 "$TOP/qemu-tests/raw_eth.py" eth0 "$m3" "$mr" 203.0.113.30 203.0.113.3 esp "$spi1" >/dev/null
expect_dropped "h3 with its own MAC, ESP with h1's SPI" out_untunnelled 1

x0=$(rstat out_direct_dev)
forge h3 "$m1" "$mr1" "$p1" "$spi1"
expect_dropped "h3 with h1's MAC through the router's second port lan1 (UDP, TCP, ICMP, ESP)" out_direct_dev 4

# A bound MAC with a port or identifier its host does not own (h2's): the
# host is who its MAC says, and it does not own them. (Outbound ESP is
# not checked by SPI, whose value the peer chose: from a known host it
# is forwarded, as through the tunnel.)
x0=$(rstat out_spoofed)
forge h3 "$m1" "$mr" "$p2" -
expect_dropped "h1's MAC with h2's port and identifier (UDP, TCP, ICMP)" out_spoofed 3

x0=$(rstat out_untunnelled)
forge h2 "$m2" "$mr" "$p2" "$spi2"
expect_dropped "h2 (ipip) untunnelled with its own port, identifier and SPI (UDP, TCP, ICMP, ESP)" out_untunnelled 4

# Inbound: h3 sends to h1's MAC what only the router may deliver there.
# An application on h1 with a UDP flow to ext (translated: its granted
# port is found in h1's SPTT) receives the echo and a control frame the
# router's namespace sends from the router's MAC, not the same datagram
# from h3's MAC; TCP (SYN), ICMP (echo request) and ESP from h3's MAC to
# the public address get no answer from h1. All four count in h1's
# in_direct_lladdr. The flow stays idle while h3 forges: under a debug
# kernel that can outlast the default UDP timeout (180 s), so h1 keeps
# its translations for an hour meanwhile.
nh1 "$DNATCTL" host set udp-timeout 3600
nh1 nft -f - <<'EOF'
table ip answers {
	chain out {
		type filter hook output priority -400; policy accept;
		ip daddr 198.51.100.9 counter
	}
}
EOF
answers() { nh1 nft -j list chain ip answers out | jq '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add // 0'; }
nh1 timeout 900 python3 - "$T/app.port" "$T/app.go" >"$T/app.out" <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(60)
s.connect(("203.0.113.3", 9090))
s.send(b"first")
print(s.recv(100).decode(), flush=True)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
s.send(b"last")
while True:
    d = s.recv(100).decode()
    print(d, flush=True)
    if d == "last":
        break
EOF
app=$!
pids+=("$app")
app_ready() { [ -s "$T/app.port" ]; }
wait_until 20 app_ready || true
lport=$(cat "$T/app.port" 2>/dev/null || echo 0)
uport=$(sptt h1 | jq "[.translations[] | select(.proto == \"udp\" and .local_port == $lport)][0].unique_port // 0")
check "h1's application has a translated UDP flow ($lport -> $uport)" in_block "$uport" "$lo1" "$c1"
x0=$(hstat h1 in_direct_lladdr) a0=$(answers)
fin() { nh3 python3 "$TOP/qemu-tests/raw_eth.py" eth0 "$m3" "$m1" "$1" 203.0.113.30 "${@:2}" >/dev/null; }
fin 203.0.113.3 udp 9090 "$uport" forged-inbound
fin 198.51.100.9 tcp 40404 "$p1"
fin 198.51.100.9 icmp 7
fin 198.51.100.9 esp "$spi1"
wait_until 10 hat h1 in_direct_lladdr $((x0 + 4)) || true
expect_eq "h3 to h1's MAC from the Internet (UDP, TCP, ICMP, ESP): dropped, counted in h1's in_direct_lladdr" \
	"$(( $(hstat h1 in_direct_lladdr) - x0 ))" 4
expect_eq "... and h1 answered none of them" "$(answers)" "$a0"
nrouter python3 "$TOP/qemu-tests/raw_eth.py" lan0 "$mr" "$m1" 203.0.113.3 203.0.113.30 udp 9090 "$uport" control >/dev/null
# The application reads only once told to go: wait until the control
# datagram is queued on its socket.
queued() { [ "$(nh1 ss -Hun "sport = :$lport" | awk '{print $2}' | head -1)" -gt 0 ] 2>/dev/null; }
wait_until 10 queued || true
touch "$T/app.go"
wait "$app" || true
echo "    # h1: router lladdr $(nh1 "$DNATCTL" --json host show | jq -r '.config.router_lladdr // "none"'), in_direct $(hstat h1 in_direct), in_direct_lladdr $(hstat h1 in_direct_lladdr), udp $lport: $(sptt h1 | jq -c "[.translations[] | select(.proto == \"udp\" and .local_port == $lport)]")"
expect_eq "h1's application got the echoes and the router's control, not h3's datagram" \
	"$(tr '\n' ' ' <"$T/app.out")" "first control last "
nh1 nft delete table ip answers
nh1 "$DNATCTL" host set udp-timeout 180

# -- (c) a TCP connection from h1 to ext survives switching h1 to ipip
# and back to direct, the router first each time, then the host (in
# between, the two disagree: the connection recovers by retransmission).
# After each switch a 4 kB line crosses too: segments of the MSS agreed
# in direct mode (1460) must pass in ipip mode.
fifo=$(mktemp -u /dev/shm/dnat-switch.XXXXXX)
mkfifo "$fifo"
nh1 timeout 300 socat -t 60 - TCP:203.0.113.3:8080 <"$fifo" >"$T/switch.out" &
sw=$!
pids+=("$sw")
exec 7>"$fifo"
# say LINE: sends LINE on the connection and waits (up to 30 s) for its echo.
say() {
	echo "$1" >&7
	wait_until 30 grep -qxF -- "$1" "$T/switch.out"
}
big() { echo "$1-$(head -c 3000 /dev/urandom | base64 -w 0)"; }
check "TCP from h1 (direct) echoes before the switch" say before-switch
lp=$(nh1 ss -Htn state established '( dport = :8080 )' | awk '{print $3}' | head -1)
lp=${lp##*:}
ut() { sptt h1 | jq "[.translations[] | select(.proto == \"tcp\" and .local_port == ${lp:-0})][0].unique_port // 0"; }
u0=$(ut)
check "the connection's translation is listed ($lp -> $u0)" in_block "$u0" "$lo1" "$c1"
t0=$(hstat h1 out_tunnelled)
check "router delivery 10.0.0.1 ipip" nrouter "$DNATCTL" router delivery 10.0.0.1 ipip
check "h1: host set delivery ipip" nh1 "$DNATCTL" host set delivery ipip
expect_eq "router hosts: h1 back to ipip, MAC binding cleared" "$(rhost 10.0.0.1)" "ipip none"
expect_eq "h1's host show: delivery ipip" "$(nh1 "$DNATCTL" --json host show | jq -r .config.delivery)" ipip
check "the connection echoes after the switch to ipip" say after-ipip
check "... a 4 kB line too" say "$(big after-ipip)"
check "... through the tunnel ($(( $(hstat h1 out_tunnelled) - t0 )) packets)" test $(( $(hstat h1 out_tunnelled) - t0 )) -gt 0
d0=$(hstat h1 out_direct)
check "router delivery 10.0.0.1 direct lladdr (h1's MAC) again" router_direct h1 10.0.0.1
check "h1: host set delivery direct" nh1 "$DNATCTL" host set delivery direct
expect_eq "router hosts: h1 direct again" "$(rhost 10.0.0.1)" "direct $m1"
check "the connection echoes after the switch back to direct" say after-direct
check "... a 4 kB line too" say "$(big after-direct)"
check "... sent direct ($(( $(hstat h1 out_direct) - d0 )) packets)" test $(( $(hstat h1 out_direct) - d0 )) -gt 0
expect_eq "the connection kept its granted port through both switches" "$(ut)" "$u0"
exec 7>&-
rm -f "$fifo"
stop "$sw"

# -- (d) both hosts direct: both use the same source port (UDP 40000,
# TCP 40001) to one server port at once; both work, each on its own
# granted port, and neither source port appears on the WAN.
check "router delivery 10.0.0.3 direct lladdr (h2's MAC)" router_direct h2 10.0.0.3
check "h2: host set delivery direct" nh2 "$DNATCTL" host set delivery direct
expect_eq "router hosts: h2 direct, bound to its MAC" "$(rhost 10.0.0.3)" "direct $m2"
nrouter tcpdump -U -q -n -i wan0 -w "$T/wan-d.pcap" 'tcp port 8080 or udp port 9090' 2>/dev/null &
wancap=$!
n lan tcpdump -U -n -i h2-eth0 -w "$T/lan-h2-d.pcap" 'ip proto 4' 2>/dev/null &
lancap2=$!
sleep 1
d1=$(hstat h1 out_direct) d2=$(hstat h2 out_direct) t2=$(hstat h2 out_tunnelled)
clients=()
for h in h1 h2; do
	n $h sh -c "echo same-port-$h | timeout 10 socat -t 3 - UDP:203.0.113.3:9090,sourceport=40000" >"$T/$h.same" &
	clients+=($!)
	n $h sh -c "echo same-tcp-port-$h | timeout 20 socat -t 3 - TCP:203.0.113.3:8080,sourceport=40001" >"$T/$h.same-tcp" &
	clients+=($!)
done
wait "${clients[@]}" 2>/dev/null || true
for h in h1 h2; do
	expect_eq "both direct: $h: UDP from source port 40000 works" "$(cat "$T/$h.same")" "same-port-$h"
	expect_eq "both direct: $h: TCP from source port 40001 works" "$(cat "$T/$h.same-tcp")" "same-tcp-port-$h"
done
u1=$(sptt h1 | jq '[.translations[] | select(.proto == "udp" and .local_port == 40000)][0].unique_port // 0')
u2=$(sptt h2 | jq '[.translations[] | select(.proto == "udp" and .local_port == 40000)][0].unique_port // 0')
check "both direct: h1 translated port 40000 into its own block ($u1)" in_block "$u1" "$lo1" "$c1"
check "both direct: h2 translated port 40000 into its own block ($u2)" in_block "$u2" "$lo2" "$c2"
sleep 1
stop "$wancap"
stop "$lancap2"
check "both direct: ports 40000 and 40001 never appeared on the WAN" \
	sh -c "! tcpdump -r '$T/wan-d.pcap' -n 2>/dev/null | grep -q '203\.0\.113\.30\.4000[01] '"
check "both direct: h1 sent direct ($(( $(hstat h1 out_direct) - d1 )))" test $(( $(hstat h1 out_direct) - d1 )) -gt 0
check "both direct: h2 sent direct ($(( $(hstat h2 out_direct) - d2 )))" test $(( $(hstat h2 out_direct) - d2 )) -gt 0
expect_eq "both direct: h2 tunnelled nothing, no IP-in-IP on its port" \
	"$(( $(hstat h2 out_tunnelled) - t2 )) $(pcount "$T/lan-h2-d.pcap" 'ip proto 4')" "0 0"

# -- (e) the binding learnt from PAP: without lladdr the router waits for
# h2's next PAP message sealed with h2's key and binds its Ethernet
# source. h3 forging every host message kind with h2's address (plain,
# and sealed under a key the router never gave) binds nothing: the host
# stays unbound, delivered by IP-in-IP.
# (h2's module may itself send a sealed message at any time, which binds
# its own MAC: the checks allow that, never h3's MAC.)
check "router delivery 10.0.0.3 direct without lladdr on a bound host" nrouter "$DNATCTL" router delivery 10.0.0.3 direct
expect_eq "... keeps it bound (learning again would drop its packets)" "$(rhost 10.0.0.3)" "direct $m2"
lb0=$(rstat lladdr_bound) lr0=$(rstat lladdr_refused)
check "router delivery 10.0.0.3 ipip, then direct without lladdr (learn it)" \
	nrouter sh -c "$DNATCTL router delivery 10.0.0.3 ipip && $DNATCTL router delivery 10.0.0.3 direct"
b=$(rhost 10.0.0.3)
check "router hosts: h2 direct, waiting for its address ($b)" test "$b" = "direct none" -o "$b" = "direct $m2"
sent=$(nh3 python3 "$TOP/qemu-tests/pap_forge.py" as-host 10.0.0.7 10.0.0.3 7 "$lo2" 4 4096 16 198.51.100.3)
expect_eq "h3 forged every host message kind as h2, plain and sealed" "$sent" "sent 26"
sleep 1
b=$(rhost 10.0.0.3)
check "... and bound nothing to h3's MAC ($b)" test "$b" = "direct none" -o "$b" = "direct $m2"
check "h2's module asks for more ports (a sealed PAP request)" nh2 "$DNATCTL" host request ports 8
bound() { [ "$(rhost 10.0.0.3)" = "direct $m2" ]; }
check "the router bound h2's MAC from its own sealed PAP" wait_until 10 bound
expect_eq "... counted once in lladdr_bound, nothing in lladdr_refused" \
	"$(( $(rstat lladdr_bound) - lb0 )) $(( $(rstat lladdr_refused) - lr0 ))" "1 0"

# A learnt address another host holds is refused and counted: h1 (back on
# ipip) is bound to h2's MAC by the administrator, then h2 learns.
check "h1: ipip, h2: ipip, h1: direct lladdr (h2's MAC)" nrouter sh -c \
	"$DNATCTL router delivery 10.0.0.1 ipip && $DNATCTL router delivery 10.0.0.3 ipip && $DNATCTL router delivery 10.0.0.1 direct lladdr $m2"
check "h2 direct without lladdr (learn it)" nrouter "$DNATCTL" router delivery 10.0.0.3 direct
lr0=$(rstat lladdr_refused)
check "h2's module asks for more ports again (a sealed PAP request)" nh2 "$DNATCTL" host request ports 8
refused() { [ "$(rstat lladdr_refused)" -gt "$lr0" ]; }
check "the router refused to bind h2's MAC (h1 holds it): lladdr_refused" wait_until 10 refused
expect_eq "... h2 stays direct, unbound" "$(rhost 10.0.0.3)" "direct none"
check "h1 and h2 back on ipip" nrouter sh -c \
	"$DNATCTL router delivery 10.0.0.1 ipip && $DNATCTL router delivery 10.0.0.3 ipip"
rm -rf "$T"
