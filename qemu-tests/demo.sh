#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The dnat demo, run inside the QEMU guest by `make demo`.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3   (server, IKE peer)
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66 (attacker)
#                 (dnat_router, local CA)
#
# Two hosts share the public address 203.0.113.30: each host module gets
# its own ports and SPIs from the router with PAP, translates its stack's
# ephemeral ports to them and tunnels to the router, and the router
# forwards without rewriting anything; inbound traffic goes to the owner of
# the port or SPI. The router's CA certifies each host's key with its
# blocks; strongSwan on each host negotiates IPsec with the server using
# that certificate; `dnatctl host follow` validates the SAs with the
# router. Both hosts ping the server with one ICMP identifier, which each
# host module translates into a port of its own block. An attacker floods
# ESP with h1's SPI while h1 moves a file over its SA, floods UDP, and h2
# spoofs h1's ports: none of it reaches a host; h2's burst of PAP requests
# meets the router's request rate limit.
# The last line is the verdict.
set -uo pipefail
SCENARIO=demo
DNAT_RESULTS=${DNAT_RESULTS:-/dev/null}
. "$(dirname "$0")/lib.sh"
. "$TOP/qemu-tests/ike.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	cleanup_netns
}
trap finish EXIT
T=$(mktemp -d)
legit_ok=yes

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '%s# %s\n' "${NS:+[$NS] }" "$*"; if [ -n "${NS:-}" ]; then n "$NS" "$@"; else "$@"; fi; }
# same WHAT GOT WANT: prints the comparison; a mismatch spoils the verdict.
same() {
	if [ "$2" = "$3" ]; then
		echo "    $1: ok ($2)"
	else
		echo "    $1: MISMATCH (got '$2', want '$3')"
		legit_ok=no
	fi
}
tables() {
	NS=router run "$DNATCTL" router blocks
	NS=router run "$DNATCTL" router hosts
	NS=router run "$DNATCTL" router sas
	NS=router run "$DNATCTL" router stats
}

say "Loading the modules (their KUnit suites run at load)"
run modprobe -a nf_defrag_ipv4 ipip esp4 xfrm_user
run insmod "$TOP/rust/dnat_router.ko"
run insmod "$TOP/rust/dnat_host.ko"
grep -h -E '^\s*(ok|not ok) ' /sys/kernel/debug/kunit/dnat_*/results | sed 's/^/    kunit: /'

say "Building the reference topology in network namespaces (no way out of the guest)"
topology
ip netns list | sed 's/^/    /'

say "Configuring the router"
NS=router run "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff unowned drop hook-counters on
NS=router run "$DNATCTL" router show

say "Bad input is refused with a precise error and changes nothing"
NS=router run "$DNATCTL" router set spis 1-1000 || echo "    (exit status $?)"
NS=router run "$DNATCTL" router set lan nosuch0 || echo "    (exit status $?)"

say "The router's local CA, serving the LAN"
NS=router run "$DNATCTL" ca init --dir "$T/ca"
nrouter "$DNATCTL" ca serve --dir "$T/ca" --listen 10.0.0.7 2>"$T/ca.log" &
pids+=($!)
wait_listen router t 7489

say "Hosts: the host module gets ports and SPIs from the router with PAP by itself"
for h in h1 h2; do
	NS=$h run "$TOP/scripts/host-up.sh" 10.0.0.7 203.0.113.30 eth0
done
say "Tables before any traffic"
tables

say "TCP and UDP from unmodified applications on both hosts to one server port, at once"
next socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8080
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
nrouter timeout 30 tcpdump -l -q -n -i wan0 -c 8 'tcp port 8080 and tcp[13] & 2 != 0 or udp port 9090' 2>/dev/null | sed 's/^/    router wan0: /' &
pids+=($!)
sleep 1
head -c 100000 /dev/urandom >"$T/demo.data"
want=$(sha256sum <"$T/demo.data" | cut -d' ' -f1)
for h in h1 h2; do
	(n $h socat -t 5 - TCP:203.0.113.3:8080 <"$T/demo.data" | sha256sum | cut -d' ' -f1 >"$T/tcp-$h") &
	(echo "hello from $h" | n $h socat -t 2 - UDP:203.0.113.3:9090,sourceport=40000 >"$T/udp-$h") &
done
wait_clients() { local p; for p in $(jobs -p); do case " ${pids[*]} " in *" $p "*) ;; *) wait "$p" ;; esac; done; }
wait_clients
for h in h1 h2; do
	same "$h TCP echo of 100 kB" "$(cat "$T/tcp-$h")" "$want"
	same "$h UDP echo" "$(cat "$T/udp-$h")" "hello from $h"
done
sleep 1
say "Both hosts sent UDP from port 40000: each host translated it to a port of its own"
for h in h1 h2; do NS=$h run "$DNATCTL" host sptt; done

say "ICMP: both hosts ping the server at once, with the same identifier (ping -e 4242)"
for h in h1 h2; do
	(n $h ping -c 3 -i 0.2 -W 3 -e 4242 203.0.113.3 >"$T/ping-$h" 2>&1) &
done
wait_clients
for h in h1 h2; do
	grep -E 'bytes from|packets transmitted' "$T/ping-$h" | sed "s/^/    [$h] /"
	same "$h ping replies" "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping-$h")" 3
done
echo "    each host module translated identifier 4242 into a port of its own block:"
for h in h1 h2; do
	n $h "$DNATCTL" host sptt | grep '^icmp' | sed "s/^/    [$h] /"
done

say "Certificates from the router's CA: each binds a host's key to 203.0.113.30 and its own blocks"
declare -A plo slo shi
for h in h1 h2; do
	NS=$h run "$DNATCTL" cert request --router 10.0.0.7 --out "$T/$h"
	plo[$h]=$(n $h "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "ports")][0].lowest')
	slo[$h]=$(n $h "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "spis")][0].lowest')
	shi[$h]=$(n $h "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "spis")][0] | .lowest + .count - 1')
done
openssl x509 -in "$T/h1/cert.pem" -noout -text | grep -E -A1 'Subject:|Alternative Name|32473' | sed 's/^/    h1 cert: /'
NS=router run "$DNATCTL" cert list --dir "$T/ca"
run openssl verify -CAfile "$T/h1/ca.pem" "$T/h1/cert.pem" "$T/h2/cert.pem"
echo "    h2 asks for a certificate of h1's ports:"
NS=h2 run "$DNATCTL" cert request --router 10.0.0.7 --out "$T/h2bad" --ports "${plo[h1]}-$((plo[h1] + 3))" || echo "    (exit status $?)"

say "IPsec: strongSwan on both hosts (IKE from their own ports, SPIs from their own blocks, certificates)"
PSK="demo-$RANDOM$RANDOM"
mkdir -p "$T/ext/x509ca" "$T/ext/x509crl"
cp "$T/ca/ca.pem" "$T/ext/x509ca/"
cp "$T/ca/crl.pem" "$T/ext/x509crl/"
ike_fill responder-strongswan.conf "$T/ext/strongswan.conf" DIR="$T/ext" SOCK="$(ike_sock ext)"
ike_fill responder-swanctl-cert.conf "$T/ext/swanctl.conf" PEER=203.0.113.3 PEER_ID=ext.dnat.test SECRET="$PSK"
ike_start ext "$T/ext" && ike_load ext "$T/ext"
declare -A app
for h in h1 h2; do
	app[$h]=$((plo[$h] + 2))
	ike_host_cert $h "$T/ike-$h" "$T/$h" "${plo[$h]}" "${slo[$h]}" "${shi[$h]}" "${app[$h]}" "$PSK"
	n $h "$DNATCTL" host follow --interval 2 >"$T/follow-$h.log" 2>&1 &
	pids+=($!)
done
for h in h1 h2; do
	ike_ctl $h "$T/ike-$h" --initiate --child app --timeout 30 2>&1 | grep -E 'established|installed|failed' | sed "s/^/    $h: /" &
done
wait_clients
for i in $(seq 100); do
	[ "$(nrouter "$DNATCTL" --json router sas | jq '.sas | length')" -ge 2 ] && break
	sleep 0.1
done
echo "    the followers validated the SAs with the router:"
sed 's/^/    h1 follow: /' "$T/follow-h1.log"
sed 's/^/    h2 follow: /' "$T/follow-h2.log"
NS=router run "$DNATCTL" router sas
for h in h1 h2; do
	got=$(echo "ipsec from $h" | n $h timeout 10 socat -t 3 - "UDP:203.0.113.3:9090,sourceport=${app[$h]}" 2>/dev/null)
	same "$h UDP echo inside its IKE SA" "$got" "ipsec from $h"
done

say "Attack: ESP flood with h1's SPI during h1's transfer over its SA, a UDP flood, h2 spoofing h1's ports and flooding PAP"
for h in h1 h2; do
	n $h nft add table ip demo
	n $h nft add chain ip demo in '{ type filter hook input priority 0; }'
	n $h nft add rule ip demo in ip saddr 203.0.113.66 counter
done
spi=$(nh1 ip xfrm state list src 203.0.113.3 dst 203.0.113.30 | awk '$1 == "proto" && $3 == "spi" {print $4; exit}')
echo "    h1's inbound SA from the server: SPI $spi (from h1's block ${slo[h1]}-${shi[h1]})"
nh1 ip -s xfrm state list src 203.0.113.3 dst 203.0.113.30 | grep -A1 'lifetime current' | sed 's/^/    h1 SA before: /'
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$((spi))" 2000 &
flood=$!
n ext2 python3 -c "
import socket, random
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b'x' * 32, ('203.0.113.30', random.randint(40000, 60000)))
" &
flood2=$!
got=$(nh1 timeout 60 socat -t 5 - "TCP:203.0.113.3:8080,sourceport=${app[h1]}" <"$T/demo.data" | sha256sum | cut -d' ' -f1)
wait $flood $flood2
NS=h2 run python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.7 from-public "${plo[h1]}" 203.0.113.3 9090 spoof
# A LAN host that asks for ports too fast: 50 PAP requests in a burst from
# h2's address against a limit of 2 requests a second per host.
NS=router run "$DNATCTL" router set pap-rate 2
rl0=$(nrouter "$DNATCTL" --json router stats | jq .stats.rate_limited)
NS=h2 run python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 3 3 50
sleep 1
rl=$(( $(nrouter "$DNATCTL" --json router stats | jq .stats.rate_limited) - rl0 ))
echo "    PAP requests from h2 refused as rate_limited: $rl of 50 (at most 4 fit in the burst)"
[ "$rl" -ge 46 ] || { echo "    MISMATCH: expected at least 46"; legit_ok=no; }
sleep 1
same "h1's 100 kB over its SA during the flood" "$got" "$want"
nh1 ip -s xfrm state list src 203.0.113.3 dst 203.0.113.30 | grep -A1 'lifetime current' | sed 's/^/    h1 SA after: /'
delivered=0
for h in h1 h2; do
	c=$(n $h nft -j list chain ip demo in | jq '[.nftables[].rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add // 0')
	echo "    attacker packets that reached $h: $c"
	delivered=$((delivered + c))
done

say "Tables and counters after"
tables
for h in h1 h2; do
	NS=$h run "$DNATCTL" host blocks
	NS=$h run "$DNATCTL" host sas
	NS=$h run "$DNATCTL" host stats
done
NS=router run "$DNATCTL" ca show --dir "$T/ca"

verdict=ok
[ "$delivered" = 0 ] && [ "$legit_ok" = yes ] || verdict=FAIL
echo
echo "verdict: $verdict attack_packets_delivered=$delivered legit_bytes_ok=$legit_ok"
[ "$verdict" = ok ]
