#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The dnat demo, run inside the QEMU guest by `make demo`.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3   (server)
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66 (attacker)
#
# Two hosts share the public address 203.0.113.30: each host module gets
# its own ports and SPIs from the router with PAP, translates its stack's
# ephemeral ports to them and tunnels to the router, and the router
# forwards without rewriting anything; inbound traffic goes to the owner of
# the port or SPI; an attacker's flood and a spoofing host are dropped.
set -euo pipefail
SCENARIO=demo
DNAT_RESULTS=${DNAT_RESULTS:-/dev/null}
. "$(dirname "$0")/lib.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
}
trap finish EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '%s# %s\n' "${NS:+[$NS] }" "$*"; if [ -n "${NS:-}" ]; then n "$NS" "$@"; else "$@"; fi; }

say "Loading the modules (their KUnit suites run at load)"
run modprobe -a nf_defrag_ipv4 ipip
run insmod "$TOP/rust/dnat_router.ko"
run insmod "$TOP/rust/dnat_host.ko"
grep -h -E '^\s*(ok|not ok) ' /sys/kernel/debug/kunit/dnat_*/results | sed 's/^/    kunit: /'

say "Building the SPEC.md topology in network namespaces (no way out of the guest)"
topology
ip netns list | sed 's/^/    /'

say "Configuring the router"
NS=router run "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff unowned drop
NS=router run "$DNATCTL" router show

say "Bad input is refused with a precise error and changes nothing"
NS=router run "$DNATCTL" router set spis 1-1000 || echo "    (exit status $?)"
NS=router run "$DNATCTL" router set lan nosuch0 || echo "    (exit status $?)"

say "Hosts: the host module gets ports and SPIs from the router with PAP by itself"
for h in h1 h2; do
	NS=$h run "$TOP/scripts/host-up.sh" 10.0.0.7 203.0.113.30 eth0
done
NS=router run "$DNATCTL" router blocks

say "TCP and UDP from unmodified applications on both hosts to one server port, at once"
next socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8080
next python3 "$TOP/qemu-tests/udp_echo.py" 9090 &
pids+=($!)
wait_listen ext u 9090
nrouter tcpdump -l -q -n -i wan0 -c 8 'tcp port 8080 and tcp[13] & 2 != 0 or udp port 9090' 2>/dev/null | sed 's/^/    router wan0: /' &
pids+=($!)
sleep 1
head -c 100000 /dev/urandom >"$TMPDIR/demo.data"
cl=()
for h in h1 h2; do
	(n $h socat -t 5 - TCP:203.0.113.3:8080 <"$TMPDIR/demo.data" | sha256sum | sed "s/ .*/ ($h TCP echo)/; s/^/    /") &
	cl+=($!)
	(echo "hello from $h" | n $h socat -t 2 - UDP:203.0.113.3:9090,sourceport=40000 | sed 's/^/    UDP echo: /') &
	cl+=($!)
done
wait "${cl[@]}" 2>/dev/null || true
echo "    $(sha256sum <"$TMPDIR/demo.data" | cut -d' ' -f1) (what was sent)"
sleep 1
say "Both hosts sent UDP from port 40000: each host translated it to a port of its own"
for h in h1 h2; do NS=$h run "$DNATCTL" host sptt; done

say "IPsec by SPI: h1 validates its SA peer with PAP; ESP for h1's SPI reaches h1, untouched"
spi=$(nrouter "$DNATCTL" --json router blocks | jq -r '[.blocks[] | select(.host == "10.0.0.1" and .kind == "spis")][0].lowest')
NS=h1 run "$DNATCTL" pap validate 203.0.113.3 "$spi" router 10.0.0.7
NS=router run "$DNATCTL" router sas
nh1 tcpdump -l -q -n -i eth0 -c 3 'ip proto 4' 2>/dev/null | sed 's/^/    h1 eth0: /' &
pids+=($!)
sleep 1
run next python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$spi" 3
sleep 2

say "DoS: the attacker sends 500 ESP packets with h1's SPI: the router drops them all"
run n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$spi" 500
sleep 1
NS=router run sh -c "$DNATCTL router stats | grep in_sa_"

say "An attacker floods the shared address: nobody owns those ports, the router drops them"
run n ext2 python3 -c "
import socket, random
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b'x' * 32, ('203.0.113.30', random.randint(40000, 60000)))
"
say "h2 tunnels a datagram from one of h1's ports: dropped and counted at the router"
lo1=$(nrouter "$DNATCTL" --json router blocks | jq -r '[.blocks[] | select(.host == "10.0.0.1" and .kind == "ports")][0].lowest')
NS=h2 run python3 "$TOP/qemu-tests/ipip_raw.py" 10.0.0.7 from-public "$lo1" 203.0.113.3 9090 spoof
sleep 1

say "Tables and counters"
NS=h1 run "$DNATCTL" host show
NS=h1 run "$DNATCTL" host blocks
NS=h1 run sh -c "$DNATCTL host stats | grep -v ': 0$'"
NS=router run "$DNATCTL" router hosts
NS=router run sh -c "$DNATCTL router stats | grep -v ': 0$'"
NS=router run "$DNATCTL" router show
NS=router run "$DNATCTL" --json router hosts
