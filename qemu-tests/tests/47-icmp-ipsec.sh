#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Path MTU discovery inside an IPsec SA (issue 16): h1 (host module,
# translate mode) negotiates a transport-mode ESP SA with strongSwan on
# srv, behind the 1280-byte link, and uploads 1 MB over TCP inside it,
# with DF and without MSS clamping. isp's fragmentation needed quotes
# h1's ESP (the SPI of h1's outbound SA, chosen by srv): the router finds
# h1 in its table of outbound SAs and tunnels the error to it, h1's module
# delivers it unchanged (ESP has no port to translate), and h1's XFRM
# (esp4_err) lowers the path MTU of the SA's route, so TCP sends smaller
# segments. The upload must arrive byte-identical within a fixed time.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   (dnat_host,   |-- [lan] --- router ---- [inet] --+-- isp 203.0.113.1
#    charon)      |    10.0.0.7  lan0 | wan0  203.0.113.30  | mtu 1280
#   h2 10.0.0.3 --+                                     gw 192.0.2.2
#                                                            |
#                                                       srv 192.0.2.10 (charon)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$TOP/qemu-tests/ike.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	cleanup_netns
}
trap finish EXIT
modprobe -a esp4 xfrm_user 2>/dev/null || true
topology
narrow_path
T=$(mktemp -d)
PUB=203.0.113.30
SRV=192.0.2.10
rstat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
hstat() { n "$1" "$DNATCTL" --json host stats | jq -r ".stats.$2"; }
# sa_bytes NS SRC DST: the bytes the ESP SA from SRC to DST in NS carried.
sa_bytes() {
	n "$1" ip -s xfrm state list src "$2" dst "$3" proto esp |
		awk '/lifetime current:/ {getline; print $1; exit}' | tr -dc '0-9'
}

nrouter "$DNATCTL" router set lan lan0 wan wan0 public $PUB ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up by scripts/host-up.sh" dnat_host_module h1
read -r plo pn < <(held_block h1 ports) || { plo=0 pn=0; }
read -r slo sn < <(held_block h1 spis) || { slo=0 sn=0; }
check "h1 holds ports and SPIs ($plo+$pn, $slo+$sn)" test "$pn" -ge 3 -a "$sn" -ge 1
app=$((plo + 2))

# The responder on srv, behind the narrow link; h1's charon as in 75-ike
# (IKE from its first port, inbound SPIs from its block, the CHILD_SA for
# its third port).
secret="h1-secret-$RANDOM$RANDOM"
mkdir -p "$T/srv" "$T/h1"
ike_fill responder-strongswan.conf "$T/srv/strongswan.conf" DIR="$T/srv" SOCK="$(ike_sock srv)"
ike_fill responder-swanctl-psk.conf "$T/srv/swanctl.conf" PEER=$SRV PEER_ID=srv.dnat.test SECRETS=
sed -i "/^secrets {/a\\
	ike-h1 {\\
		id-host = h1.dnat.test\\
		id-peer = srv.dnat.test\\
		secret = \"$secret\"\\
	}" "$T/srv/swanctl.conf"
check "srv's charon starts" ike_start srv "$T/srv"
check "srv loads its connection" ike_load srv "$T/srv"
ike_host_conf h1 "$T/h1" "$plo" "$slo" $((slo + sn - 1))
ike_fill host-swanctl-psk.conf "$T/h1/swanctl.conf" PUBLIC=$PUB PEER=$SRV \
	ID=h1.dnat.test PEER_ID=srv.dnat.test APP_PORT="$app" SECRET="$secret"
check "h1's charon starts (IKE port $plo)" ike_start h1 "$T/h1"
check "h1 loads its connection" ike_load h1 "$T/h1"
n h1 "$DNATCTL" host follow --interval 2 >"$T/follow.log" 2>&1 &
pids+=($!)
check "h1's IKE_SA and CHILD_SA with srv come up" \
	ike_ctl h1 "$T/h1" --initiate --child app --timeout 30 >"$T/init.log" 2>&1
in_spi=$(nh1 ip xfrm state list src $SRV dst $PUB | awk '$1 == "proto" && $3 == "spi" {print $4; exit}')
out_spi=$(nh1 ip xfrm state list src $PUB dst $SRV | awk '$1 == "proto" && $3 == "spi" {print $4; exit}')
check "h1's inbound SPI ${in_spi:-?} is in its block" \
	test $((${in_spi:-0})) -ge "$slo" -a $((${in_spi:-0})) -lt $((slo + sn))
has_sa() { nrouter "$DNATCTL" --json router sas | jqe ".sas[] | select(.host == \"10.0.0.1\" and .peer == \"$SRV\" and .spi == $((in_spi)))" >/dev/null; }
wait_sa() { local i; for i in $(seq 150); do has_sa && return 0; sleep 0.1; done; return 1; }
check "h1's follower validated the SA with the router" wait_sa

# The upload, from h1's SA port to srv: the first full-sized ESP packets
# (about 1480 bytes) do not fit the 1280-byte link.
head -c 1000000 /dev/urandom >"$T/up"
n srv timeout 120 socat -u TCP-LISTEN:8081,reuseaddr OPEN:"$T/up.srv",creat,trunc &
srvpid=$!
pids+=($srvpid)
wait_listen srv t 8081
# On the WAN: ICMP, and h1's ESP that is over 1280 bytes or lacks DF
# (only a few packets, so that the capture keeps up).
nrouter tcpdump -U -n -i wan0 -w "$T/wan.pcap" \
	"icmp or (esp and src $PUB and (ip[2:2] > 1280 or ip[6] & 0x40 == 0))" 2>/dev/null &
cap=$!
pids+=($cap)
sleep 1
a0=$(rstat in_icmp_error_sa) u0=$(rstat in_icmp_unowned) p0=$(hstat h1 in_quote_no_port)
o0=$(sa_bytes h1 $PUB $SRV)
t0=$(date +%s)
check "h1: 1 MB TCP upload inside the SA to srv behind the 1280-byte link within 90 s" \
	nh1 timeout 90 socat -u OPEN:"$T/up" TCP:$SRV:8081,sourceport=$app
echo "    (took $(($(date +%s) - t0)) s)"
wait "$srvpid" 2>/dev/null || true
sleep 1
kill "$cap" 2>/dev/null || true
wait "$cap" 2>/dev/null || true
expect_eq "srv received the upload byte for byte" \
	"$(sha256sum <"$T/up.srv" | cut -d' ' -f1)" "$(sha256sum <"$T/up" | cut -d' ' -f1)"
check "h1's outbound SA carried it ($(sa_bytes h1 $PUB $SRV) bytes)" \
	test $(($(sa_bytes h1 $PUB $SRV) - ${o0:-0})) -gt 1000000
check "... srv's inbound SA decrypted it" test "$(sa_bytes srv $PUB $SRV)" -gt 1000000
pcap() { tcpdump -r "$T/wan.pcap" -n -v "$@" 2>/dev/null || true; }
check "the WAN saw h1's ESP with DF set and over 1280 bytes" \
	sh -c "tcpdump -r '$T/wan.pcap' -n 'esp and src $PUB and ip[6] & 0x40 != 0 and ip[2:2] > 1280' 2>/dev/null | grep -q ."
check "no ESP of h1 left without DF" \
	sh -c "! tcpdump -r '$T/wan.pcap' -n 'esp and src $PUB and ip[6] & 0x40 == 0' 2>/dev/null | grep -q ."
# What the errors were and where they went: isp's fragmentation needed
# (MTU 1280) about h1's ESP to srv, addressed to the public address; none
# to srv.
nfrag=$(tcpdump -r "$T/wan.pcap" -n "icmp[0] == 3 and icmp[1] == 4 and src 203.0.113.1 and dst $PUB" 2>/dev/null | grep -c 'mtu 1280' || true)
check "isp sent fragmentation needed (mtu 1280) about h1's ESP: $nfrag" test "$nfrag" -gt 0
check "... quoting h1's outbound SA to srv (SPI $out_spi)" \
	grep -q "ESP(spi=$(printf 0x%08x $((out_spi)))" <(pcap "icmp[0] == 3 and icmp[1] == 4")
expect_eq "no ICMP error went to srv" \
	"$(tcpdump -r "$T/wan.pcap" -n "icmp and dst $SRV and (icmp[0] == 3 or icmp[0] == 11)" 2>/dev/null | wc -l)" 0
expect_eq "the router tunnelled each to h1 through its table of outbound SAs" \
	"$(($(rstat in_icmp_error_sa) - a0))" "$nfrag"
expect_eq "... leaving none to itself" "$(rstat in_icmp_unowned)" "$u0"
expect_eq "h1's module delivered each unchanged (ESP has no port)" "$(($(hstat h1 in_quote_no_port) - p0))" "$nfrag"
check "h1's XFRM lowered the path MTU of the SA's route to 1280" \
	grep -q 'mtu 1280' <(nh1 ip route get $SRV from $PUB)
