#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The router's local CA (Documentation/networking/dnat-ca.rst): `dnatctl ca
# serve` in the router's namespace issues h1 and h2 certificates that bind
# their keys to the shared address 203.0.113.30 and to the ports and SPIs
# each holds; claims of another host's blocks, malformed CSRs and bad
# signatures are refused and counted. strongSwan on both hosts
# authenticates with these certificates to the responder in ext, which
# trusts the CA and checks its CRL; revoking h1's certificate shuts h1 out
# and leaves h2 alone. A certified block stays its host's: the host cannot
# give it back and another host's PAP request does not get it. The CA keeps
# its key, serials and revocations across a restart.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3   (responder)
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
#                     (dnatctl ca serve)
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
CA=$T/ca
# expect_refused DESC REASON CMD...: CMD exits 1 and names REASON.
expect_refused() {
	local desc=$1 reason=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$reason" <<<"$err"; then
		pass "$desc"
	else
		fail "$desc (exit status $rc, expected 1 and '$reason': $err)"
	fi
}

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up" dnat_host_module h1
check "h2 set up" dnat_host_module h2
declare -A plo pn slo sn
for h in h1 h2; do
	read -r plo[$h] pn[$h] <<<"$(held_block $h ports)"
	read -r slo[$h] sn[$h] <<<"$(held_block $h spis)"
done

# The CA: refuses an open directory, then starts.
mkdir -m 755 "$T/open"
expect_refused "ca init refuses a group/world-accessible directory" "accessible to group or others" nrouter "$DNATCTL" ca init --dir "$T/open"
check "ca init makes the CA key and certificate" nrouter "$DNATCTL" ca init --dir "$CA"
check "CA files are private (0600)" sh -c "[ \$(find '$CA' -type f -perm /077 | wc -l) = 0 ]"
# serve [ARGS]: starts the CA daemon (its pid in $ca_pid) and waits until
# it listens.
serve() {
	ip netns exec router "$DNATCTL" ca serve --dir "$CA" --listen 10.0.0.7 "$@" 2>>"$T/ca.log" &
	ca_pid=$!
	pids+=($ca_pid)
	wait_listen router t 7489
}
check "the CA serves on 10.0.0.7:7489" serve

# Certificates for both hosts, of the blocks each holds.
for h in h1 h2; do
	check "$h gets a certificate" n $h "$DNATCTL" cert request --router 10.0.0.7 --out "$T/$h" >"$T/$h.req" 2>&1
	check "openssl verify accepts $h's certificate" openssl verify -CAfile "$T/$h/ca.pem" "$T/$h/cert.pem"
	openssl x509 -in "$T/$h/cert.pem" -noout -text >"$T/$h.txt"
	check "$h's certificate names the shared address" grep -q "IP Address:203.0.113.30" "$T/$h.txt"
	check "$h's certificate carries the dnat blocks extension" grep -q "1.3.6.1.4.1.32473.7489.1" "$T/$h.txt"
	span="ports ${plo[$h]}-$((plo[$h] + pn[$h] - 1)), spis $(printf 0x%x "${slo[$h]}")-$(printf 0x%x $((slo[$h] + sn[$h] - 1)))"
	check "openssl x509 -text shows $h's own blocks ($span)" grep -qF "$span" "$T/$h.txt"
done
serial() { nrouter "$DNATCTL" --json cert list --dir "$CA" | jq -r ".certs[] | select(.host == \"$1\" and .status == \"valid\") | .serial" | tail -1; }
cert_blocks() { nrouter "$DNATCTL" --json cert show "$(serial "$1")" --dir "$CA" | jq -c '[.blocks[] | [.kind, .first, .last]] | sort'; }
for h in h1 h2; do
	a=10.0.0.1
	[ $h = h2 ] && a=10.0.0.3
	want=$(jq -nc "[[\"ports\", ${plo[$h]}, $((plo[$h] + pn[$h] - 1))], [\"spis\", ${slo[$h]}, $((slo[$h] + sn[$h] - 1))]] | sort")
	expect_eq "$h's certificate names exactly its own blocks" "$(cert_blocks $a)" "$want"
done
check "the two hosts' certified ports do not overlap" test $((plo[h1] + pn[h1])) -le "${plo[h2]}" -o $((plo[h2] + pn[h2])) -le "${plo[h1]}"
check "the two hosts' certified SPIs do not overlap" test $((slo[h1] + sn[h1])) -le "${slo[h2]}" -o $((slo[h2] + sn[h2])) -le "${slo[h1]}"
pinned() { nrouter "$DNATCTL" --json router blocks | jq -r ".blocks[] | select(.host == \"$1\" and .kind == \"$2\") | .pinned // 0" | head -1; }
check "the router pins h1's certified port block" test "$(pinned 10.0.0.1 ports)" -gt 0
check "the router pins h2's certified SPI block" test "$(pinned 10.0.0.3 spis)" -gt 0

# Refusals: counted, nothing issued.
count() { jq -r ".$1 // 0" "$CA/stats.json"; }
# counted NAME WANT: the CA's counter NAME once it reaches WANT (it writes
# its counters at most once a second), else its value after 5 s.
counted() { local i; for i in $(seq 50); do [ "$(count "$1")" = "$2" ] && break; sleep 0.1; done; count "$1"; }
issued0=$(nrouter "$DNATCTL" --json cert list --dir "$CA" | jq '.certs | length')
r0=$(count refused_blocks_not_held)
expect_refused "h2 claiming h1's ports is refused" "blocks_not_held" \
	n h2 "$DNATCTL" cert request --router 10.0.0.7 --out "$T/h2bad" --ports "${plo[h1]}-$((plo[h1] + 3))"
expect_eq "the refusal is counted" "$(counted refused_blocks_not_held $((r0 + 1)))" $((r0 + 1))
head -c 300 /dev/urandom >"$T/junk.der"
expect_refused "a malformed CSR is refused" "malformed" \
	n h2 "$DNATCTL" cert request --router 10.0.0.7 --out "$T/h2bad" --raw-csr "$T/junk.der"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k.pem" \
	-subj "/CN=dnat host" -outform DER -out "$T/good.der" 2>/dev/null
python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[-1] ^= 1; open(sys.argv[2], 'wb').write(b)" "$T/good.der" "$T/bad.der"
expect_refused "a CSR with a bad signature is refused" "bad_signature" \
	n h2 "$DNATCTL" cert request --router 10.0.0.7 --out "$T/h2bad" --raw-csr "$T/bad.der"
expect_eq "malformed and bad-signature requests are counted" \
	"$(counted refused_malformed 1) $(counted refused_bad_signature 1)" "1 1"
expect_eq "nothing was issued" "$(nrouter "$DNATCTL" --json cert list --dir "$CA" | jq '.certs | length')" "$issued0"

# IKE with the certificates: the responder trusts the CA and its CRL.
PSK="peer-$RANDOM$RANDOM"
mkdir -p "$T/ext/x509ca" "$T/ext/x509crl"
cp "$CA/ca.pem" "$T/ext/x509ca/ca.pem"
check "the responder fetches the CRL" cp "$CA/crl.pem" "$T/ext/x509crl/crl.pem"
ike_fill responder-strongswan.conf "$T/ext/strongswan.conf" DIR="$T/ext" SOCK="$(ike_sock ext)"
ike_fill responder-swanctl-cert.conf "$T/ext/swanctl.conf" PEER=203.0.113.3 PEER_ID=ext.dnat.test SECRET="$PSK"
check "the responder's charon starts" ike_start ext "$T/ext"
check "the responder loads the CA, the CRL and its connection" ike_load ext "$T/ext"
declare -A app
for h in h1 h2; do
	app[$h]=$((plo[$h] + 2))
	check "$h's charon starts with its certificate, key and connection" ike_host_cert $h "$T/ike-$h" "$T/$h" \
		"${plo[$h]}" "${slo[$h]}" $((slo[$h] + sn[$h] - 1)) "${app[$h]}" "$PSK"
	n $h "$DNATCTL" host follow --interval 2 >"$T/follow-$h.log" 2>&1 &
	pids+=($!)
done
ike_ctl h1 "$T/ike-h1" --initiate --child app --timeout 30 >"$T/init-h1.log" 2>&1 &
i1=$!
ike_ctl h2 "$T/ike-h2" --initiate --child app --timeout 30 >"$T/init-h2.log" 2>&1 &
i2=$!
check "h1 authenticates with its certificate, SAs up" wait $i1
check "h2 authenticates with its certificate, SAs up, concurrently" wait $i2
check "the responder authenticated h1 by its certificate" grep -q "CN=dnat host 10.0.0.1" "$T/ext/charon.log"
next python3 "$TOP/qemu-tests/udp_echo.py" 7777 &
pids+=($!)
wait_listen ext u 7777
echo_from() { echo "$2" | n "$1" timeout 10 socat -t 3 - "UDP:203.0.113.3:7777,sourceport=${app[$1]}" 2>/dev/null || true; }
has_sas() { [ "$(nrouter "$DNATCTL" --json router sas | jq '[.sas[] | select(.peer == "203.0.113.3")] | length')" -ge 2 ]; }
for i in $(seq 100); do has_sas && break; sleep 0.1; done
expect_eq "data flows through h1's SA" "$(echo_from h1 via-h1)" via-h1
expect_eq "data flows through h2's SA" "$(echo_from h2 via-h2)" via-h2

# Revoke h1's certificate: new CRL; h1's next negotiation fails at the
# responder, h2 is unaffected; h1's blocks are no longer pinned.
s1=$(serial 10.0.0.1)
check "revoke h1's certificate" nrouter "$DNATCTL" cert revoke "$s1" --dir "$CA"
check "openssl sees the revocation in the CRL" sh -c "openssl crl -in '$CA/crl.pem' -noout -text | grep -q 'Serial Number: 0*$(printf %X "$s1")'"
check "the router no longer pins h1's blocks" test "$(pinned 10.0.0.1 ports)" = 0
cp "$CA/crl.pem" "$T/ext/x509crl/crl.pem"
check "the responder loads the new CRL" ike_load ext "$T/ext"
# charon caches the CRLs it used: drop them so that the new one is used.
check "the responder drops its cached CRLs" ike_ctl ext "$T/ext" --flush-certs --type x509_crl
ike_ctl h1 "$T/ike-h1" --terminate --ike dnat --timeout 20 >/dev/null 2>&1 || true
ike_ctl h2 "$T/ike-h2" --terminate --ike dnat --timeout 20 >/dev/null 2>&1 || true
check "h1's new negotiation fails (revoked)" sh -c "! ip netns exec h1 env STRONGSWAN_CONF='$T/ike-h1/strongswan.conf' swanctl --initiate --child app --timeout 30 >'$T/init2-h1.log' 2>&1"
check "the responder refused h1's certificate as revoked" grep -q "revoked" "$T/ext/charon.log"
check "h2 negotiates again (unaffected)" ike_ctl h2 "$T/ike-h2" --initiate --child app --timeout 30
for i in $(seq 100); do has_sas && break; sleep 0.1; done
expect_eq "data flows through h2's new SA" "$(echo_from h2 via-h2-again)" via-h2-again

# A certified block stays its host's: h2 cannot give its port block back,
# and h1's PAP request for more ports does not get it.
rp0=$(nh2 "$DNATCTL" --json host stats | jq -r .stats.pap_refused_pinned)
nh2 "$DNATCTL" host release ports "${plo[h2]}" "${pn[h2]}"
for i in $(seq 50); do [ "$(nh2 "$DNATCTL" --json host stats | jq -r .stats.pap_refused_pinned)" != "$rp0" ] && break; sleep 0.1; done
expect_eq "the router refused h2's release (reason pinned)" \
	"$(nh2 "$DNATCTL" --json host stats | jq -r .stats.pap_refused_pinned)" $((rp0 + 1))
holds() { nrouter "$DNATCTL" --json router blocks | jqe ".blocks[] | select(.host == \"$1\" and .kind == \"ports\" and .lowest == $2)" >/dev/null; }
check "the router still holds h2's certified block for h2" holds 10.0.0.3 "${plo[h2]}"
h2_has() { nh2 "$DNATCTL" --json host blocks | jqe ".blocks[] | select(.kind == \"ports\" and .lowest == ${plo[h2]})" >/dev/null; }
for i in $(seq 50); do h2_has && break; sleep 0.1; done
check "h2's module took the certified block back" h2_has
check "h1 asks the router for more ports" nh1 "$DNATCTL" host request ports 64
for i in $(seq 50); do [ "$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports")] | length')" -ge 2 ] && break; sleep 0.1; done
check "h1 got a second port block" test "$(nh1 "$DNATCTL" --json host blocks | jq '[.blocks[] | select(.kind == "ports")] | length')" -ge 2

# The CA daemon restarts, now serving only h1's address as its LAN: same
# CA, serials continue, revocation kept; h2 is refused as not on the LAN.
kill "$ca_pid"
wait "$ca_pid" 2>/dev/null || true
closed() { local i; for i in $(seq 50); do nrouter ss -Hlnt 'sport = :7489' | grep -q . || return 0; sleep 0.1; done; return 1; }
check "the CA daemon stopped" closed
sha0=$(nrouter "$DNATCTL" --json ca show --dir "$CA" | jq -r .sha256)
next0=$(nrouter "$DNATCTL" --json ca show --dir "$CA" | jq -r .next_serial)
check "the CA serves again after a restart" serve --lan 10.0.0.1/32
expect_eq "same CA key and certificate" "$(nrouter "$DNATCTL" --json ca show --dir "$CA" | jq -r .sha256)" "$sha0"
expect_eq "h1's certificate is still revoked" \
	"$(nrouter "$DNATCTL" --json cert list --dir "$CA" | jq -r ".certs[] | select(.serial == $s1) | .status")" revoked
check "h1 gets a new certificate" n h1 "$DNATCTL" cert request --router 10.0.0.7 --out "$T/h1new"
expect_eq "its serial continues the sequence" "$(serial 10.0.0.1)" "$next0"
r0=$(count refused_not_lan_host)
expect_refused "h2, outside the CA's LAN now, is refused" "not_lan_host" \
	n h2 "$DNATCTL" cert request --router 10.0.0.7 --out "$T/h2new"
expect_eq "the refusal is counted" "$(counted refused_not_lan_host $((r0 + 1)))" $((r0 + 1))
