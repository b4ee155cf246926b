#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP through the router and two hosts with the host module (issue 16;
# Documentation/networking/dnat.rst, section "ICMP"): both hosts ping one
# Internet address at once with the same identifier, in translate and in
# native mode, and get all their replies; an echo reply nothing asked for
# is dropped; port unreachable reaches a connected UDP socket both ways;
# time exceeded from an Internet router and from the router itself
# reaches ping; traceroute (UDP and ICMP probes) shows every hop; path
# MTU discovery works behind a 1280-byte link (TCP, no MSS clamping) and
# at the router's own WAN; an error quoting a host's ESP reaches it
# through the table of outbound SAs; malformed and foreign ICMP is
# dropped or left to the router, and counted.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   (dnat_host)   |-- [lan] --- router ---- [inet] --+-- ext2 203.0.113.66
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30
#                                                    +-- isp 203.0.113.1
#                                                         | mtu 1280
#                                                        gw 192.0.2.2
#                                                         |
#                                                        srv 192.0.2.10
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
PUB=203.0.113.30
rstat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
hstat() { n "$1" "$DNATCTL" --json host stats | jq -r ".stats.$2"; }
# The ICMP identifier translation of the stack's identifier $2 in $1.
icmp_unique() {
	n "$1" "$DNATCTL" --json host sptt |
		jq -r "[.translations[] | select(.proto == \"icmp\" and .local_port == $2)][0].unique_port // 0"
}
in_block() { [ "$1" -ge "$2" ] && [ "$1" -lt $(($2 + $3)) ]; }
received() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }
raw() { n "$1" python3 "$TOP/qemu-tests/icmp_raw.py" "${@:2}"; }

# Beyond the Internet segment: isp, a 1280-byte link to gw, srv behind it.
narrow_path

nrouter "$DNATCTL" router set lan lan0 wan wan0 public $PUB ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up by scripts/host-up.sh" dnat_host_module h1
check "h2 set up by scripts/host-up.sh" dnat_host_module h2
read -r lo1 c1 < <(held_block h1 ports) || { lo1=0 c1=0; }
read -r lo2 c2 < <(held_block h2 ports) || { lo2=0 c2=0; }
check "both hosts hold a port block ($lo1+$c1, $lo2+$c2)" test "$c1" -ge 8 -a "$c2" -ge 8
# The router's own ping from the public address, with an identifier
# outside the port pool (one inside would be a host's): the path is up.
check "the router pings srv behind the 1280-byte link" nrouter ping -q -c 1 -W 5 -e 1 192.0.2.10

# -- Both hosts ping srv at the same time with the same identifier
# (translate mode; root's ping uses a raw socket, ping -e sets the
# identifier): each host translates it into a port of its own block, and
# the router gives each reply to the holder of that port.
echo_pair() {
	local id=$1 tag=$2 h
	for h in h1 h2; do
		n $h ping -q -c 5 -i 0.2 -W 3 -e "$id" 192.0.2.10 >"$T/$h.$tag" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]: -2}" || true
}
r0=$(rstat in_icmp_reply) s0=$(rstat out_spoofed)
echo_pair 4242 translate
for h in h1 h2; do
	expect_eq "translate: $h got all 5 replies with identifier 4242" "$(received "$T/$h.translate")" 5
done
u1=$(icmp_unique h1 4242) u2=$(icmp_unique h2 4242)
check "translate: h1 sent identifier 4242 as $u1, a port of its block" in_block "$u1" "$lo1" "$c1"
check "translate: h2 sent identifier 4242 as $u2, a port of its block" in_block "$u2" "$lo2" "$c2"
check "the router delivered the 10 replies by identifier" test $(($(rstat in_icmp_reply) - r0)) -ge 10
expect_eq "the router refused no request as spoofed" "$(rstat out_spoofed)" "$s0"
check "dnatctl host sptt shows the identifier translation" \
	grep -q "^icmp 4242 -> $u1 idle" <(nh1 "$DNATCTL" host sptt)

# -- The same in native mode, where Linux takes ping identifiers from a
# per-namespace counter and not from the port range: the host module
# translates them all the same. With ping sockets allowed, ping uses them
# (it tries them first; a namespace's ping_group_range refuses them by
# default, hence raw sockets above): ping -e binds the socket to the
# identifier, plain ping lets the kernel pick one.
for h in h1 h2; do
	n $h "$DNATCTL" host set mode native
	n $h sysctl -qw net.ipv4.ping_group_range="0 2147483647"
done
echo_pair 4343 native
for h in h1 h2; do
	expect_eq "native: $h got all 5 replies with identifier 4343" "$(received "$T/$h.native")" 5
done
u1=$(icmp_unique h1 4343) u2=$(icmp_unique h2 4343)
check "native: h1 sent identifier 4343 as $u1, in its block" in_block "$u1" "$lo1" "$c1"
check "native: h2 sent identifier 4343 as $u2, in its block" in_block "$u2" "$lo2" "$c2"
for h in h1 h2; do
	n $h ping -q -c 3 -i 0.2 -W 3 192.0.2.10 >"$T/$h.sock" 2>&1 &
	pids+=($!)
done
wait "${pids[@]: -2}" || true
for h in h1 h2; do
	expect_eq "native: $h's plain ping (ping socket, kernel's identifier) got all 3 replies" "$(received "$T/$h.sock")" 3
done
# An identifier the host holds is its own translation.
own=$((lo1 + c1 - 1))
nh1 ping -q -c 2 -i 0.2 -W 3 -e "$own" 192.0.2.10 >"$T/h1.own" 2>&1 || true
expect_eq "native: ping -e $own (a held port) got its 2 replies" "$(received "$T/h1.own")" 2
expect_eq "native: ... untranslated (identity translation)" "$(icmp_unique h1 $own)" "$own"
for h in h1 h2; do n $h "$DNATCTL" host set mode translate; done

# -- An echo reply from the Internet that nothing asked for: the router
# gives it to the holder of the identifier, whose host module drops it.
free=$((lo1 + c1 - 2))
expect_eq "h1 has no translation to identifier $free" \
	"$(nh1 "$DNATCTL" --json host sptt | jq "[.translations[] | select(.unique_port == $free)] | length")" 0
r0=$(rstat in_icmp_reply) x1=$(hstat h1 in_icmp_unsolicited) x2=$(hstat h2 in_icmp_unsolicited)
t2=$(hstat h2 in_delivered)
raw ext reply $PUB "$free"
sleep 1
expect_eq "the forged reply went to h1, the holder of $free" "$(($(rstat in_icmp_reply) - r0))" 1
expect_eq "h1 dropped it as unsolicited" "$(($(hstat h1 in_icmp_unsolicited) - x1))" 1
expect_eq "h2 saw nothing" "$(hstat h2 in_icmp_unsolicited) $(hstat h2 in_delivered)" "$x2 $t2"

# -- Port unreachable. From srv to a translating h1: the quoted source
# port goes back to the socket's, so a connected UDP socket gets
# ECONNREFUSED. From h1 to ext: h1's stack quotes the port ext sent to,
# which the router checks.
e0=$(rstat in_icmp_error_port) i0=$(hstat h1 in_icmp_translated)
expect_eq "h1: UDP to a closed port of srv is refused (ECONNREFUSED)" \
	"$(nh1 python3 "$TOP/qemu-tests/udp_probe.py" refused 192.0.2.10 9999)" refused
check "the router delivered the port unreachable by the quoted port" test "$(rstat in_icmp_error_port)" -gt "$e0"
check "h1 translated the quoted port back" test "$(hstat h1 in_icmp_translated)" -gt "$i0"
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
expect_eq "h1: a UDP exchange from port 41234" \
	"$(echo flow | nh1 timeout 10 socat -t 2 - UDP:203.0.113.3:9090,sourceport=41234)" flow
u=$(nh1 "$DNATCTL" --json host sptt | jq '[.translations[] | select(.proto == "udp" and .local_port == 41234)][0].unique_port // 0')
check "... translated to $u" in_block "$u" "$lo1" "$c1"
o0=$(hstat h1 out_icmp_translated)
expect_eq "ext: UDP to h1's $u after the socket closed is refused (quote translated to $u)" \
	"$(next python3 "$TOP/qemu-tests/udp_probe.py" refused $PUB "$u")" refused
check "h1 translated the quoted port of its port unreachable" test "$(hstat h1 out_icmp_translated)" -gt "$o0"
closed=$((lo1 + c1 - 3))
expect_eq "ext: UDP to h1's held port $closed, never translated, is refused" \
	"$(next python3 "$TOP/qemu-tests/udp_probe.py" refused $PUB "$closed")" refused

# -- Time exceeded: from isp (ping -t 2; the router forwards with TTL 1)
# and from the router itself (ping -t 1: its stack sends the error to the
# public address, through lo, and the router tunnels it to h1).
e0=$(rstat in_icmp_error_port) l0=$(rstat local_icmp_error)
nh1 ping -c 1 -W 3 -t 2 192.0.2.10 >"$T/ttl2" 2>&1 || true
check "h1: ping -t 2 reports time exceeded from isp" grep -q 'From 203.0.113.1.*Time to live exceeded' "$T/ttl2"
check "... delivered by the quoted identifier" test "$(rstat in_icmp_error_port)" -gt "$e0"
nh1 ping -c 1 -W 3 -t 1 192.0.2.10 >"$T/ttl1" 2>&1 || true
check "h1: ping -t 1 reports time exceeded from the router's LAN address" \
	grep -q 'From 10.0.0.7.*Time to live exceeded' "$T/ttl1"
expect_eq "... one error of the router's own stack tunnelled to h1" "$(($(rstat local_icmp_error) - l0))" 1

# -- traceroute from h1 (translate mode), with UDP probes (a socket and
# a port for each, translated; the errors quote the granted ports) and
# with ICMP probes (-I: echo requests from a raw socket, the identifier
# translated): each hop is named, the router's LAN address first (its own
# time exceeded, through lo), then isp, gw and srv (port unreachable or
# echo reply), every probe answered.
hops() {
	awk 'NR > 1 {
		a = "*"
		for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) { a = $i; break }
		printf "%s%s", (NR > 2 ? " " : ""), a
	}' "$1"
}
for mode in udp icmp; do
	flag=
	[ $mode = icmp ] && flag=-I
	l0=$(rstat local_icmp_error) e0=$(rstat in_icmp_error_port) r0=$(rstat in_icmp_reply)
	i0=$(hstat h1 in_icmp_translated)
	nh1 timeout 90 traceroute -n $flag -w 3 -m 8 192.0.2.10 >"$T/tr.$mode" 2>&1 || true
	sed 's/^/    /' "$T/tr.$mode"
	expect_eq "traceroute ($mode) from h1: the router's LAN address, isp, gw, srv" \
		"$(hops "$T/tr.$mode")" "10.0.0.7 203.0.113.1 192.0.2.2 192.0.2.10"
	check "... every probe answered" sh -c "! tail -n +2 '$T/tr.$mode' | grep -q '[*]'"
	check "... the router tunnelled its 3 own time exceeded to h1" test $(($(rstat local_icmp_error) - l0)) -ge 3
	if [ $mode = udp ]; then
		check "... the router delivered the 9 errors of isp, gw and srv by the quoted port" \
			test $(($(rstat in_icmp_error_port) - e0)) -ge 9
		check "... h1 translated the 12 quoted ports back" test $(($(hstat h1 in_icmp_translated) - i0)) -ge 12
	else
		check "... the router delivered the 6 time exceeded by the quoted identifier" \
			test $(($(rstat in_icmp_error_port) - e0)) -ge 6
		check "... and srv's 3 echo replies by identifier" test $(($(rstat in_icmp_reply) - r0)) -ge 3
	fi
done

# -- Path MTU discovery at the router's own WAN: a 1400-byte datagram with
# DF from h1 does not fit a 1280-byte wan0; the router's fragmentation
# needed reaches h1, whose socket then knows the path MTU.
nrouter ip link set wan0 mtu 1280
l0=$(rstat local_icmp_error)
read -r mtu big < <(nh1 python3 "$TOP/qemu-tests/udp_probe.py" pmtu 203.0.113.3 9090 1400) || true
expect_eq "h1 learnt the router's WAN MTU from the router's own error" "${mtu:-} ${big:-}" "1280 emsgsize"
check "... which the router tunnelled to h1" test "$(rstat local_icmp_error)" -gt "$l0"
nrouter ip link set wan0 mtu 1500

# -- Path MTU discovery behind isp: a 1 MB TCP upload from h1 to srv
# (translate mode, DF, no MSS clamping: srv announces 1460) completes
# only if isp's fragmentation needed reaches the TCP socket.
head -c 1000000 /dev/urandom >"$T/up"
n srv timeout 90 socat -u TCP-LISTEN:8081,reuseaddr OPEN:"$T/up.srv",creat,trunc &
srvpid=$!
pids+=($srvpid)
wait_listen srv t 8081
e0=$(rstat in_icmp_error_port) i0=$(hstat h1 in_icmp_translated)
check "h1: 1 MB TCP upload to srv behind the 1280-byte link within 60 s" \
	nh1 timeout 60 socat -u OPEN:"$T/up" TCP:192.0.2.10:8081
wait "$srvpid" 2>/dev/null || true
expect_eq "srv received the upload byte for byte" \
	"$(sha256sum <"$T/up.srv" | cut -d' ' -f1)" "$(sha256sum <"$T/up" | cut -d' ' -f1)"
check "isp's fragmentation needed was delivered by the quoted port" test "$(rstat in_icmp_error_port)" -gt "$e0"
check "... and translated back on h1" test "$(hstat h1 in_icmp_translated)" -gt "$i0"
check "h1's route to srv has the path MTU 1280" grep -q 'mtu 1280' <(nh1 ip route get 192.0.2.10)

# -- Errors about a host's ESP: the router learns which host sends which
# SA, and an error quoting one goes to its sender; another host sending
# the same SA is a conflict.
a0=$(rstat in_icmp_error_sa) p0=$(hstat h1 in_quote_no_port)
raw h1 esp 192.0.2.10 0x5000 --ttl 2 --src $PUB
sleep 1
expect_eq "isp's time exceeded about h1's ESP went to h1 (outbound SA)" "$(($(rstat in_icmp_error_sa) - a0))" 1
expect_eq "h1 delivered it unchanged (ESP has no port)" "$(($(hstat h1 in_quote_no_port) - p0))" 1
k0=$(rstat out_sa_conflict)
raw h2 esp 192.0.2.10 0x5000 --ttl 64 --src $PUB
sleep 1
expect_eq "h2 sending h1's live SA is a conflict (h1 keeps it)" "$(($(rstat out_sa_conflict) - k0))" 1

# -- Malformed and foreign ICMP.
n0=$(rstat in_icmp_unowned)
# From the Internet: a truncated quote (4 bytes of the quoted echo), an
# error about an error, an error about an SA nobody sent.
raw ext error $PUB 11 0 $PUB 192.0.2.10 icmp 8 "$u1" --quoted-len 4
raw ext error $PUB 3 3 $PUB 203.0.113.3 icmp 3 0
raw ext error $PUB 3 3 $PUB 192.0.2.10 esp 0x7777 1
sleep 1
expect_eq "3 malformed or foreign errors from the Internet are nobody's (router's own)" \
	"$(($(rstat in_icmp_unowned) - n0))" 3
# From the Internet, about h1's port but with a bad quoted header checksum:
# the router delivers by port (it does not verify quotes), h1 leaves it
# untranslated (RFC 5508 REQ-3a).
b0=$(hstat h1 in_quote_bad_quote)
raw ext error $PUB 3 3 $PUB 203.0.113.3 udp "$u" 9090 --bad-checksum
sleep 1
expect_eq "h1 counted the error with a bad quoted checksum" "$(($(hstat h1 in_quote_bad_quote) - b0))" 1
# From h1: an error quoting h2's port (the router refuses it as spoofed)
# and an error about an error (h1's module drops it).
s0=$(rstat out_spoofed) q0=$(hstat h1 out_icmp_quote)
raw h1 error 203.0.113.3 3 3 203.0.113.3 $PUB udp 9090 "$lo2" --src $PUB
raw h1 error 203.0.113.3 3 3 203.0.113.3 $PUB icmp 3 0 --src $PUB --dropped
sleep 1
expect_eq "h1's error quoting h2's port was refused by the router" "$(($(rstat out_spoofed) - s0))" 1
expect_eq "h1's error about an error was dropped by its module" "$(($(hstat h1 out_icmp_quote) - q0))" 1
# An echo reply from h1 (nothing a host may send): dropped by its module.
x0=$(hstat h1 out_protocol)
raw h1 reply 203.0.113.3 "$lo1" --src $PUB --dropped
sleep 1
expect_eq "h1's echo reply was dropped by its module" "$(($(hstat h1 out_protocol) - x0))" 1
