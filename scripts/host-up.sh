#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Sets a host up to use the shared public address through dnat_host, in the
# current network namespace:
#
#   scripts/host-up.sh ROUTER PUBLIC DEV [MTU] [KEY VALUE]...
#
# 1. PUBLIC becomes a local address (on lo), so that applications can send
#    from it and the stack accepts what is tunnelled to it;
# 2. the default route goes via ROUTER out of DEV with PUBLIC as preferred
#    source and MTU (default 1480: DEV's MTU minus the 20-byte outer
#    header, as a tunnel device would have; DEV's MTU with "delivery
#    direct", which adds no header), so that unmodified
#    applications use the public address for the Internet and TCP picks an
#    MSS that fits the tunnel; LAN prefixes keep their own routes and
#    source addresses and are never tunnelled;
# 3. dnat_host (it must be loaded) is given the further "dnatctl host set"
#    settings, if any (mode native, port-block N, ...), then ROUTER, PUBLIC
#    and DEV, which start it (so that port-block applies to this start),
#    and the script waits until the router granted ports (up to 30 s),
#    then prints the blocks.
# With "delivery direct", DEV also answers ARP only for its own addresses
# and asks from its LAN address (arp_ignore 1, arp_announce 2, as for an
# IPVS direct-routing real server): PUBLIC is the router's too.
#
# dnat-host.service runs it, installed as PREFIX/lib/dnat/host-up.
#
# Undo: ip route replace default via ROUTER dev DEV; ip addr del PUBLIC/32
# dev lo; dnat_host stops tunnelling when unloaded.
set -euo pipefail
usage() { echo "usage: $0 ROUTER PUBLIC DEV [MTU] [KEY VALUE]..." >&2; exit 2; }
[ $# -ge 3 ] && [ -n "$1" ] && [ -n "$2" ] && [ -n "$3" ] || usage
router=$1 public=$2 dev=$3
shift 3
mtu=
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
	mtu=$1
	shift
fi
direct= hdr=20
for ((i = 1; i < $#; i++)); do
	j=$((i + 1))
	if [ "${!i}" = delivery ] && { [ "${!j}" = direct ] || [ "${!j}" = 1 ]; }; then
		direct=1 hdr=0
	fi
done
mtu=${mtu:-$(($(cat "/sys/class/net/$dev/mtu") - hdr))}
if [ -n "$direct" ]; then
	sysctl -qw "net.ipv4.conf.$dev.arp_ignore=1" "net.ipv4.conf.$dev.arp_announce=2"
fi
DNATCTL=${DNATCTL:-$(command -v dnatctl || echo "$(dirname "$0")/../userspace-tool/target/release/dnatctl")}

ip addr replace "$public/32" dev lo
ip route replace default via "$router" dev "$dev" src "$public" mtu "$mtu"
if [ $# -gt 0 ]; then
	"$DNATCTL" host set "$@"
fi
"$DNATCTL" host set router "$router" public "$public" dev "$dev"
for _ in $(seq 300); do
	if "$DNATCTL" --json host blocks | jq -e '[.blocks[] | select(.kind == "ports")] | length > 0' >/dev/null; then
		"$DNATCTL" host blocks
		exit 0
	fi
	sleep 0.1
done
echo "$0: no ports granted by $router within 30 s (see: dnatctl host stats)" >&2
exit 1
