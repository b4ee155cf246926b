#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Real IKE through the shared address: strongSwan's charon on h1 and h2
# (IKEv2 initiators, pre-shared keys) and on ext (responder). Each host's
# IKE runs from a port of its own PAP port block and its inbound SPIs come
# from its own PAP SPI block (charon.port, charon.spi_min/spi_max), so two
# hosts behind one public address negotiate SAs with the same peer at the
# same time without NAT-T. `dnatctl host follow` on each host watches XFRM
# and has the host module validate (and, when the SA goes, invalidate) each
# inbound SA with the router: no manual step. Then the reference's FIG. 30
# attack: the attacker's ESP with h1's SPI stops at the router.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3   (responder)
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66 (attacker)
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
T=$(mktemp -d)

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up" dnat_host_module h1
check "h2 set up" dnat_host_module h2

# The responder.
mkdir -p "$T/ext"
ike_fill responder-strongswan.conf "$T/ext/strongswan.conf" DIR="$T/ext" SOCK="$(ike_sock ext)"
secrets=""
for h in h1 h2; do
	secrets+="	ike-$h {
		id-host = $h.dnat.test
		id-peer = ext.dnat.test
		secret = \"$h-secret-$RANDOM$RANDOM\"
	}
"
done
printf '%s' "$secrets" >"$T/secrets"
ike_fill responder-swanctl-psk.conf "$T/ext/swanctl.conf" PEER=203.0.113.3 PEER_ID=ext.dnat.test SECRETS=
# The responder's secrets block holds both hosts' keys.
sed -i "/^secrets {/r $T/secrets" "$T/ext/swanctl.conf"
check "the responder's charon starts" ike_start ext "$T/ext"
check "the responder loads its connection" ike_load ext "$T/ext"

# Each host: IKE port = its first granted port, NAT-T port the next, the
# application port the one after; inbound SPIs = its SPI block.
declare -A app spilo spihi ikeport
for h in h1 h2; do
	read -r plo pn <<<"$(held_block $h ports)"
	read -r slo sn <<<"$(held_block $h spis)"
	check "$h holds ports and SPIs ($plo+$pn, $slo+$sn)" test "$pn" -ge 3 -a "$sn" -ge 1
	app[$h]=$((plo + 2))
	ikeport[$h]=$plo
	spilo[$h]=$slo
	spihi[$h]=$((slo + sn - 1))
	mkdir -p "$T/$h"
	ike_host_conf $h "$T/$h" "$plo" "$slo" "${spihi[$h]}"
	secret=$(awk -v h="ike-$h" '$1 == h {f = 1} f && $1 == "secret" {print $3; exit}' "$T/secrets" | tr -d '"')
	ike_fill host-swanctl-psk.conf "$T/$h/swanctl.conf" PUBLIC=203.0.113.30 PEER=203.0.113.3 \
		ID="$h.dnat.test" PEER_ID=ext.dnat.test APP_PORT="${app[$h]}" SECRET="$secret"
	check "$h's charon starts (IKE port $plo)" ike_start $h "$T/$h"
	check "$h loads its connection" ike_load $h "$T/$h"
done

# h1's follower runs before its SA exists (it sees the new SA); h2's
# starts after (its first resynchronisation finds the SA).
n h1 "$DNATCTL" host follow --interval 2 >"$T/follow-h1.log" 2>&1 &
pids+=($!)

# Both hosts negotiate with the same peer at the same time.
ike_ctl h1 "$T/h1" --initiate --child app --timeout 30 >"$T/init-h1.log" 2>&1 &
i1=$!
ike_ctl h2 "$T/h2" --initiate --child app --timeout 30 >"$T/init-h2.log" 2>&1 &
i2=$!
check "h1's IKE_SA and CHILD_SA come up" wait $i1
check "h2's IKE_SA and CHILD_SA come up, concurrently" wait $i2
expect_eq "the responder holds two IKE_SAs from 203.0.113.30" \
	"$(ike_ctl ext "$T/ext" --list-sas --raw 2>/dev/null | grep -o 'remote-host=203.0.113.30' | wc -l)" 2

# in_spi NS: the SPI of NS's inbound SA from the peer.
in_spi() { n "$1" ip xfrm state list src 203.0.113.3 dst 203.0.113.30 | awk '$1 == "proto" && $2 == "esp" && $3 == "spi" {print $4; exit}'; }
s1=$(in_spi h1)
s2=$(in_spi h2)
check "h1's inbound SPI $s1 is in its PAP block" test $((s1)) -ge "${spilo[h1]}" -a $((s1)) -le "${spihi[h1]}"
check "h2's inbound SPI $s2 is in its PAP block" test $((s2)) -ge "${spilo[h2]}" -a $((s2)) -le "${spihi[h2]}"
for h in h1 h2; do
	check "the responder saw $h's IKE from its own port ${ikeport[$h]}" \
		grep -q "received packet: from 203.0.113.30\[${ikeport[$h]}\]" "$T/ext/charon.log"
done
check "no NAT was detected (no NAT-T, no UDP encapsulation)" sh -c "! grep -q 'behind NAT' '$T/ext/charon.log'"

n h2 "$DNATCTL" host follow --interval 2 >"$T/follow-h2.log" 2>&1 &
pids+=($!)
# has_sa HOST SPI: the router lists (ext, SPI) as validated for HOST.
has_sa() { nrouter "$DNATCTL" --json router sas | jqe ".sas[] | select(.host == \"$1\" and .peer == \"203.0.113.3\" and .spi == $(($2)))" >/dev/null; }
wait_sa() { local i; for i in $(seq 150); do has_sa "$1" "$2" && return 0; sleep 0.1; done; return 1; }
check "h1's follower validated its new SA with the router" wait_sa 10.0.0.1 "$s1"
check "h2's follower validated its existing SA at start" wait_sa 10.0.0.3 "$s2"
check "h1's follower logged the validation" grep -q "validate 203.0.113.3 spi $(printf 0x%08x $((s1)))" "$T/follow-h1.log"

# Data over both SAs at once, from each host's application port.
next python3 "$TOP/qemu-tests/udp_echo.py" 7777 &
pids+=($!)
wait_listen ext u 7777
esp_in() { n "$1" ip -s xfrm state get src 203.0.113.3 dst 203.0.113.30 proto esp spi "$2" | awk '/lifetime current:/ {getline; print $2; exit}' | tr -dc '0-9'; }
echo_from() { echo "$2" | n "$1" timeout 10 socat -t 3 - "UDP:203.0.113.3:7777,sourceport=${app[$1]}" 2>/dev/null || true; }
a1=$(esp_in h1 "$s1")
a2=$(esp_in h2 "$s2")
echo_from h1 from-h1 >"$T/r1" &
e1=$!
echo_from h2 from-h2 >"$T/r2" &
e2=$!
wait $e1 $e2 || true
expect_eq "h1's datagram went out and came back through its SA" "$(cat "$T/r1")" from-h1
expect_eq "h2's datagram went out and came back through its SA" "$(cat "$T/r2")" from-h2
check "h1's inbound SA decrypted the echo" test "$(esp_in h1 "$s1")" -gt "${a1:-0}"
check "h2's inbound SA decrypted the echo" test "$(esp_in h2 "$s2")" -gt "${a2:-0}"

# FIG. 30: the attacker floods ESP with h1's SPI while h1 moves a file over
# TCP inside its IKE-negotiated SA: the file arrives intact, the router
# drops the whole flood, h1's XFRM sees none of it.
sa_dropped() { nrouter "$DNATCTL" --json router hosts | jq -r '.hosts[] | select(.host == "10.0.0.1") | .sa_dropped'; }
xfrm_errors() { nh1 awk '$1 ~ /^XfrmIn/ && $1 != "XfrmInError" {s += $2} END {print s + 0}' /proc/net/xfrm_stat; }
next socat TCP-LISTEN:8443,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8443
head -c 100000 /dev/urandom >"$T/data"
want=$(sha256sum <"$T/data" | cut -d' ' -f1)
d0=$(sa_dropped)
e0=$(xfrm_errors)
a1=$(esp_in h1 "$s1")
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$((s1))" 1000 &
flood=$!
got=$(nh1 timeout 60 socat -t 5 - "TCP:203.0.113.3:8443,sourceport=${app[h1]}" <"$T/data" | sha256sum | cut -d' ' -f1)
wait "$flood" || true
sleep 1
expect_eq "h1's file over its SA during the flood arrives intact" "$got" "$want"
check "h1's SA carried the transfer" test "$(esp_in h1 "$s1")" -gt "${a1:-0}"
expect_eq "the attacker's 1000 ESP packets with h1's SPI were dropped" "$(($(sa_dropped) - d0))" 1000
expect_eq "no flood packet reached h1's XFRM (error counters unchanged)" "$(xfrm_errors)" "$e0"
expect_eq "h1's SA still works" "$(echo_from h1 after-attack)" after-attack

# h1 tears its IKE_SA down: the follower invalidates the SA at the router.
check "h1 terminates its IKE_SA" ike_ctl h1 "$T/h1" --terminate --ike dnat --timeout 20
# Gone: the list was read and has no such SA (jq -e: 4, no match), not
# just that reading it failed.
gone() {
	local i rc
	for i in $(seq 150); do
		rc=0
		has_sa 10.0.0.1 "$s1" || rc=$?
		[ "$rc" = 4 ] && return 0
		sleep 0.1
	done
	return 1
}
check "h1's follower invalidated the SA at the router" gone
check "h1's follower logged the invalidation" grep -q "invalidate 203.0.113.3 spi $(printf 0x%08x $((s1)))" "$T/follow-h1.log"
check "h2's SA is untouched" has_sa 10.0.0.3 "$s2"
expect_eq "h2's SA still carries data" "$(echo_from h2 still-h2)" still-h2
