# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the in-guest scenarios, sourced by qemu-tests/tests/*.sh.
# Every assertion appends one line, "ok DESC" or "not ok DESC", to
# $DNAT_RESULTS; the runner counts them.

: "${DNAT_RESULTS:?run the scenarios through qemu-tests/guest.sh}"
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
DNATCTL=${DNATCTL:-$TOP/userspace-tool/target/release/dnatctl}
SCENARIO=${SCENARIO:-$(basename "$0" .sh)}

# Namespaced commands, as in WireGuard's netns.sh.
n() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
nrouter() { n router "$@"; }
nh1() { n h1 "$@"; }
nh2() { n h2 "$@"; }
next() { n ext "$@"; }
dnatctl() { "$DNATCTL" "$@"; }

pass() {
	printf 'ok %s: %s\n' "$SCENARIO" "$*" >>"$DNAT_RESULTS"
	printf '    ok      %s\n' "$*"
}

fail() {
	printf 'not ok %s: %s\n' "$SCENARIO" "$*" >>"$DNAT_RESULTS"
	printf '    NOT OK  %s\n' "$*"
}

# check DESC CMD...: passes if CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# jqe FILTER...: `jq -e` on standard input, except that empty input fails
# (jq 1.6 exits 0 on it, so a command that printed nothing would pass).
jqe() {
	local in
	in=$(cat)
	[ -n "$in" ] || return 5
	jq -e "$@" <<<"$in"
}

# expect_eq DESC ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1 (got '$2', expected '$3')"
	fi
}

# expect_errno DESC ERRNO MESSAGE-SUBSTRING CMD...: CMD must fail with exit
# status 1 (the kernel refused), report errno ERRNO, and print an extended
# ack containing MESSAGE-SUBSTRING (if not empty).
expect_errno() {
	local desc=$1 errno=$2 msg=$3 rc=0 err
	shift 3
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" != 1 ]; then
		fail "$desc (exit status $rc, expected 1: $err)"
	elif ! grep -q "(errno $errno)" <<<"$err"; then
		fail "$desc (expected errno $errno: $err)"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" <<<"$err"; then
		fail "$desc (expected message '$msg': $err)"
	else
		pass "$desc"
	fi
}

# expect_usage DESC MESSAGE-SUBSTRING CMD...: CMD (a dnatctl command) must
# fail with exit status 2, a usage error dnatctl finds before it sends
# anything, printed as "dnatctl: WORDS: REASON" with REASON containing
# MESSAGE-SUBSTRING, then "Try 'dnatctl WORDS --help' for more
# information.".
expect_usage() {
	local desc=$1 msg=$2 rc=0 err first words
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	first=${err%%$'\n'*}
	words=$(sed -n 's/^dnatctl: \([a-z ]*\): .*/\1/p' <<<"$first")
	if [ "$rc" != 2 ]; then
		fail "$desc (exit status $rc, expected 2: $err)"
	elif [ -z "$words" ] || ! grep -qF -- "$msg" <<<"$first"; then
		fail "$desc (expected 'dnatctl: WORDS: ...$msg...': $err)"
	elif [ "${err#*$'\n'}" != "Try 'dnatctl $words --help' for more information." ]; then
		fail "$desc (expected \"Try 'dnatctl $words --help' ...\" after: $err)"
	else
		pass "$desc"
	fi
}

# The packets counted at HOOK by the module family FAMILY (router|host) in NS.
hook_packets() {
	local ns=$1 family=$2 hook=$3
	n "$ns" "$DNATCTL" --json "$family" show | jq -r ".counters[] | select(.hook == \"$hook\") | .packets"
}

# Kills everything in the scenario's namespaces and deletes them.
cleanup_netns() {
	local ns
	for ns in $(ip netns list | awk '{print $1}'); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
}

# attach NS IF SWITCH ADDR: a veth from NS (named IF) to SWITCH's bridge
# br0; the bridge's end is named NS-IF in SWITCH.
attach() {
	local ns=$1 ifname=$2 sw=$3 addr=$4 peer="$1-$2"
	ip link add "$ifname" netns "$ns" type veth peer name "$peer" netns "$sw"
	n "$sw" ip link set "$peer" master br0 up
	n "$ns" ip addr add "$addr" dev "$ifname"
	n "$ns" ip link set "$ifname" up
}

# The reference topology (Documentation/networking/dnat.rst, "Reference topology"):
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#                 |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
#
# "lan" and "inet" are namespaces holding one bridge each (the LAN segment
# and the Internet segment). Hosts route everything via the router; the
# router forwards; ext routes the LAN prefix via the router's WAN address.
topology() {
	local ns
	for ns in lan inet router h1 h2 ext ext2; do
		ip netns add "$ns"
		n "$ns" ip link set lo up
	done
	n lan ip link add br0 type bridge
	n inet ip link add br0 type bridge
	n lan ip link set br0 up
	n inet ip link set br0 up

	attach router lan0 lan 10.0.0.7/24
	attach router wan0 inet 203.0.113.30/24
	attach h1 eth0 lan 10.0.0.1/24
	attach h2 eth0 lan 10.0.0.3/24
	attach ext eth0 inet 203.0.113.3/24
	attach ext2 eth0 inet 203.0.113.66/24
	n router sysctl -qw net.ipv4.ip_forward=1
	# Hosts send from the shared public address, which is also the
	# router's own WAN address: the router must accept it on the LAN.
	n router sysctl -qw net.ipv4.conf.lan0.accept_local=1
	nh1 ip route add default via 10.0.0.7
	nh2 ip route add default via 10.0.0.7
	next ip route add 10.0.0.0/24 via 203.0.113.30
	n ext2 ip route add 10.0.0.0/24 via 203.0.113.30
}

# dnat_host_ipip NS LANADDR: a host without the host module: a standard ipip
# tunnel to the router carrying the shared public address, and a route to
# the Internet segment through it.
dnat_host_ipip() {
	local ns=$1 lanaddr=$2
	n "$ns" ip link add dnat0 type ipip local "$lanaddr" remote 10.0.0.7
	n "$ns" ip link set dnat0 up
	n "$ns" ip addr add 203.0.113.30/32 dev dnat0
	n "$ns" ip route add 203.0.113.0/24 dev dnat0 src 203.0.113.30
}

# lladdr NS IF: the link-layer (MAC) address of IF in NS.
lladdr() {
	n "$1" cat "/sys/class/net/$2/address"
}

# router_direct NS LANADDR: the router delivers host LANADDR directly
# (issue 19), bound to the MAC of NS's eth0. The router must be configured
# (router set) first.
router_direct() {
	nrouter "$DNATCTL" router delivery "$2" direct lladdr "$(lladdr "$1" eth0)"
}

# dnat_host_direct NS LANADDR: a host without the host module in direct
# delivery: the shared public address on lo (the stack accepts what the
# router delivers to its MAC), a route to the Internet segment via the
# router out of eth0 from that address, and the router's binding of
# LANADDR to NS's MAC (router_direct). As on the real servers of LVS
# direct routing, eth0 answers ARP only for its own addresses and asks
# from its LAN address, never from the public one (arp_ignore 1,
# arp_announce 2).
dnat_host_direct() {
	local ns=$1 lanaddr=$2
	n "$ns" sysctl -qw "net.ipv4.conf.eth0.arp_ignore=1" "net.ipv4.conf.eth0.arp_announce=2"
	n "$ns" ip addr add 203.0.113.30/32 dev lo
	n "$ns" ip route add 203.0.113.0/24 via 10.0.0.7 dev eth0 src 203.0.113.30
	router_direct "$ns" "$lanaddr"
}

# lan_intruder: a third namespace h3 (10.0.0.9, default route via the
# router) on the LAN segment of `topology`, for forgeries. The bridge does
# not learn addresses from h3's port: a frame h3 sends with another host's
# MAC as source does not divert that host's traffic to h3 (on a real
# switch it would, which is not what the scenarios test).
lan_intruder() {
	ip netns add h3
	n h3 ip link set lo up
	attach h3 eth0 lan 10.0.0.9/24
	n lan ip link set h3-eth0 type bridge_slave learning off
	n h3 ip route add default via 10.0.0.7
}

# router_second_port: a second router interface lan1 on the LAN segment's
# bridge, so that a frame can reach the router on another interface than
# its LAN device (lan0). lan1 has 10.0.1.7/24, a prefix nobody else uses;
# it does not answer ARP for lan0's address (arp_ignore 1), so the hosts
# keep reaching the router through lan0; with accept_local and no reverse
# path filter, the stack alone would forward a packet from the public
# address arriving there: whatever stops it is the router module.
router_second_port() {
	attach router lan1 lan 10.0.1.7/24
	nrouter sysctl -qw net.ipv4.conf.lan1.arp_ignore=1 net.ipv4.conf.lan1.accept_local=1 \
		net.ipv4.conf.lan1.rp_filter=0
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds or
# SECONDS have passed; returns CMD's last status. (Its locals have names
# no condition uses: a condition sees them, bash's scope being dynamic.)
wait_until() {
	local wait_try wait_tries=$(($1 * 10))
	shift
	for ((wait_try = 0; wait_try < wait_tries; wait_try++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# narrow_path: beyond the Internet segment of `topology`, a router isp, a
# 1280-byte link to gw and a server srv behind gw on a 1500-byte link (so
# that srv announces a full MSS and only path MTU discovery makes TCP to it
# fit); the router routes 192.0.2.0/24 via isp. isp, gw and srv do not
# rate-limit their ICMP errors (icmp_ratelimit 0): a burst of probes
# (traceroute) gets every answer.
#
#   [inet] -- isp 203.0.113.1
#               | 192.0.2.1, mtu 1280
#              gw 192.0.2.2
#               | 192.0.2.9
#              srv 192.0.2.10
narrow_path() {
	local ns
	for ns in isp gw srv; do
		ip netns add "$ns"
		n "$ns" ip link set lo up
		n "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
	done
	ip link add eth0 netns isp type veth peer name isp-eth0 netns inet
	n inet ip link set isp-eth0 master br0 up
	n isp ip addr add 203.0.113.1/24 dev eth0
	n isp ip link set eth0 up
	ip link add eth1 netns isp type veth peer name eth0 netns gw
	n isp ip addr add 192.0.2.1/30 dev eth1
	n gw ip addr add 192.0.2.2/30 dev eth0
	n isp ip link set eth1 mtu 1280 up
	n gw ip link set eth0 mtu 1280 up
	ip link add eth1 netns gw type veth peer name eth0 netns srv
	n gw ip addr add 192.0.2.9/29 dev eth1
	n srv ip addr add 192.0.2.10/29 dev eth0
	n gw ip link set eth1 up
	n srv ip link set eth0 up
	n isp sysctl -qw net.ipv4.ip_forward=1
	n gw sysctl -qw net.ipv4.ip_forward=1
	n isp ip route add 192.0.2.8/29 via 192.0.2.2
	n gw ip route add default via 192.0.2.1
	n srv ip route add default via 192.0.2.9
	nrouter ip route add 192.0.2.0/24 via 203.0.113.1
}

# wait_listen NS u|t PORT: waits (up to 20 s) until a UDP (u) or TCP (t)
# socket listens on PORT in NS; servers take a while to start under TCG.
wait_listen() {
	local ns=$1 proto=$2 port=$3 i
	for i in $(seq 200); do
		n "$ns" ss -Hln -"$proto" "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# dnat_host_module NS [KEY VALUE]...: a host with the host module, set up
# by scripts/host-up.sh (the shared public address as a local address,
# external destinations routed via the router from that address with room
# for the outer header, the module configured, ports granted); KEY VALUE
# pairs are further "dnatctl host set" settings (delivery direct: no room
# for an outer header, no tunnel).
dnat_host_module() {
	local ns=$1
	shift
	n "$ns" env DNATCTL="$DNATCTL" "$TOP/scripts/host-up.sh" 10.0.0.7 203.0.113.30 eth0 "$@" >/dev/null
}

# held_block NS KIND: "lowest count" of the first block of KIND (ports,
# spis) that the host module in NS holds; waits up to 10 s for one.
held_block() {
	local i b
	for i in $(seq 100); do
		b=$(n "$1" "$DNATCTL" --json host blocks | jq -r "[.blocks[] | select(.kind == \"$2\")][0] | select(.) | \"\(.lowest) \(.count)\"")
		[ -n "$b" ] && { echo "$b"; return 0; }
		sleep 0.1
	done
	return 1
}

# wait_ports NS: waits (up to 30 s) until the host module in NS holds a
# port block; prints its first port.
wait_ports() {
	local ns=$1 i lo
	for i in $(seq 300); do
		lo=$(n "$ns" "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "ports")][0].lowest // empty')
		if [ -n "$lo" ]; then
			echo "$lo"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
