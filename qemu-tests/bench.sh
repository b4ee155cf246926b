#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Router and host benchmarks, run inside the QEMU guest by `make bench`.
#
#   gen 203.0.113.3 --- wan0 [router] lan0 --- sink 10.0.0.1
#                    203.0.113.30    10.0.0.7
#
# pktgen in gen sends 64-byte packets through the router to the sink; the
# rate is the sink's received packets over wall time. Two kinds of traffic:
#   udp  UDP with random source ports (many flows) to the sink's ports
#   esp  ESP (transport mode, null cipher: pktgen's IPSEC mode with an
#        `ecb(cipher_null)` SA, so the generator pays no crypto) with an SPI
#        of the sink's block, from a peer the sink validated
# and three configurations, interleaved in one boot:
#   forwarding  no dnat hooks (module unloaded), packets to 10.0.0.1
#   router      dnat_router configured, packets to 203.0.113.30 on ports
#               (SPIs) owned by the sink, tunnelled to it
#   conntrack   conntrack + nftables DNAT 203.0.113.30 -> 10.0.0.1
#   rdirect     dnat_router as router, the sink in direct delivery (bound
#               to its MAC): the same packets sent on unchanged
# router_vs_forwarding and router_vs_conntrack are the lower of the UDP and
# ESP ratios, router_direct_vs_forwarding that of rdirect.
# In the same rounds, a ping flood from the sink to gen (echo request and
# reply, 16 in flight), echo replies per second at the sink:
#   forwarding  from 10.0.0.1, module unloaded
#   router      from 203.0.113.30 through a kernel ipip device to the
#               router module (the sink as a host with the userspace PAP
#               client: an identifier of its port block), which checks
#               the request's identifier and tunnels the reply by it
#   conntrack   from 10.0.0.1, conntrack + nftables SNAT to 203.0.113.30
#   ipip        (reference) the module unloaded, kernel ipip devices on
#               the router and the sink, from 198.51.100.30: the same
#               tunnel without the module
# router_icmp_vs_forwarding is the ICMP router/forwarding ratio.
# The guest runs under TCG: absolute rates mean nothing, ratios measured
# side by side do.
set -euo pipefail
DNAT_RESULTS=${DNAT_RESULTS:-/dev/null}
SCENARIO=bench
. "$(dirname "$0")/lib.sh"
# Parts to run (default both; `qemu-tests/run.sh --bench host` for one).
PARTS=" ${*:-router host} "
part() { [[ $PARTS == *" $1 "* ]]; }
# The router benchmark's kinds of traffic: all, or with `--bench icmp`
# the ping flood alone.
TRAFFIC="udp esp icmp"
if part icmp && ! part router; then
	TRAFFIC=icmp
	PARTS+="router "
fi
RUNS=${DNAT_BENCH_RUNS:-5}
COUNT=${DNAT_BENCH_COUNT:-150000}
trap cleanup_netns EXIT

router_bench() {
for ns in gen router sink; do
	ip netns add $ns
	n $ns ip link set lo up
done
ip link add wan0 netns router type veth peer name eth0 netns gen
ip link add lan0 netns router type veth peer name eth0 netns sink
n gen ip addr add 203.0.113.3/24 dev eth0
n router ip addr add 203.0.113.30/24 dev wan0
n router ip addr add 10.0.0.7/24 dev lan0
n sink ip addr add 10.0.0.1/24 dev eth0
for d in "gen eth0" "router wan0" "router lan0" "sink eth0"; do n ${d% *} ip link set ${d#* } up; done
n router sysctl -qw net.ipv4.ip_forward=1
n router sysctl -qw net.ipv4.conf.lan0.accept_local=1
n gen ip route add 10.0.0.0/24 via 203.0.113.30
n sink ip route add default via 10.0.0.7
n gen ping -c 1 -W 2 203.0.113.30 >/dev/null
n router ping -c 1 -W 2 10.0.0.1 >/dev/null || true
mac=$(n router cat /sys/class/net/wan0/address)

pg() { n gen sh -c "echo '$2' > /proc/net/pktgen/$1"; }
# The sink's SPI (the first of its block) and the gen's SA with it: pktgen
# finds the SA by SPI and, in transport mode, keeps each packet's addresses,
# so the same SA serves packets to 10.0.0.1 and to 203.0.113.30.
SPI=
pktgen_setup() { # TRAFFIC DST DPORT_MIN DPORT_MAX
	pg kpktgend_0 rem_device_all
	pg kpktgend_0 "add_device eth0"
	for c in "count $COUNT" "pkt_size 64" "delay 0" "clone_skb 0" "dst $2" "dst_mac $mac" \
		"udp_src_min 1024" "udp_src_max 65535" "flag UDPSRC_RND" "udp_dst_min $3" "udp_dst_max $4" "flag UDPDST_RND"; do
		pg eth0 "$c"
	done
	if [ "$1" = esp ]; then
		pg eth0 "flag IPSEC"
		pg eth0 "spi $SPI"
	fi
}

router_on() {
	local s
	insmod "$TOP/rust/dnat_router.ko"
	n router "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-20255 spis 0x1000-0x1fff
	n sink "$DNATCTL" pap request ports 255 high router 10.0.0.7 >/dev/null ||
		{ echo "bench: the sink got no ports; the router run would measure nothing" >&2; exit 1; }
	s=$(n sink "$DNATCTL" --json pap request spis 16 router 10.0.0.7 | jq -r .lowest)
	[ "$s" = "$SPI" ] ||
		{ echo "bench: the sink got SPI $s, not $SPI; the ESP run would measure nothing" >&2; exit 1; }
	# Strict SA policy: the sink validates the generator as its peer.
	n sink "$DNATCTL" pap validate 203.0.113.3 "$SPI" router 10.0.0.7 >/dev/null
}
router_off() {
	# The router configuration must have tunnelled (rdirect: sent) the
	# packets to the sink (not left them to its own stack as unowned).
	local d
	d=$(n router "$DNATCTL" --json router stats | jq -r ".stats.${1:-in_delivered}")
	rmmod dnat_router
	[ "$d" -gt $((COUNT / 10)) ] ||
		{ echo "bench: the router delivered only $d packets to the sink" >&2; exit 1; }
}
ct_on() {
	n router nft -f - <<'NFT'
table ip bench {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr 203.0.113.30 udp dport 20000-20254 dnat to 10.0.0.1
		ip daddr 203.0.113.30 ip protocol esp dnat to 10.0.0.1
	}
}
NFT
}
ct_off() { n router nft delete table ip bench; }

# The sink counts what its device receives and drops the test traffic at
# once (UDP or ESP, or either inside IP-in-IP), in every configuration alike, so that
# its own work does not weigh on one of them. PAP (ICMP) gets through.
# The table is off while ICMP runs (the tunnelled replies are IP-in-IP).
sink_drop() {
	if [ "$1" = on ]; then
		n sink nft -f - <<'NFT'
table ip sink {
	chain pre {
		type filter hook prerouting priority -500;
		ip protocol { 4, 17, 50 } drop
	}
}
NFT
	else
		n sink nft delete table ip sink
	fi
}
ICMP_SECONDS=${DNAT_BENCH_ICMP_SECONDS:-3}
# icmp_on|icmp_off CONFIG: the sink's route to gen and what CONFIG needs.
icmp_on() {
	sink_drop off
	case $1 in
	router)
		router_on
		n sink ip route add 203.0.113.3/32 dev dnat0 src 203.0.113.30
		;;
	conntrack)
		n router nft -f - <<'NFT'
table ip bench {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "wan0" ip saddr 10.0.0.1 snat to 203.0.113.30
	}
}
NFT
		;;
	ipip)
		n router ip link add t0 type ipip local 10.0.0.7 remote 10.0.0.1
		n router ip link set t0 up
		n router ip route add 198.51.100.30/32 dev t0
		n sink ip route add 203.0.113.3/32 dev dnat0 src 198.51.100.30
		;;
	esac
}
icmp_off() {
	local d s
	case $1 in
	router)
		n sink ip route del 203.0.113.3/32 dev dnat0
		d=$(n router "$DNATCTL" --json router stats | jq -r '.stats.in_icmp_reply')
		s=$(n router "$DNATCTL" --json router stats | jq -r '.stats.out_spoofed')
		rmmod dnat_router
		[ "$d" -gt 100 ] && [ "$s" = 0 ] ||
			{ echo "bench: the router delivered $d echo replies, refused $s requests" >&2; exit 1; }
		;;
	conntrack) ct_off ;;
	ipip)
		n sink ip route del 203.0.113.3/32 dev dnat0
		n router ip link del t0
		;;
	esac
	sink_drop on
}
icmp_run() { # CONFIG -> echo replies per second at the sink
	local out got ms
	icmp_on "$1"
	# A raw socket (no ping sockets in a new namespace): -e sets the
	# identifier, a port of the sink's block.
	out=$(n sink ping -q -f -l 16 -w "$ICMP_SECONDS" -e 20100 203.0.113.3 2>&1) || true
	icmp_off "$1"
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
	ms=$(sed -n 's/.* received.* time \([0-9]*\)ms.*/\1/p' <<<"$out")
	[ "${got:-0}" -gt 100 ] && [ "${ms:-0}" -gt 0 ] ||
		{ echo "bench: ping flood ($1) gave no figure: $out" >&2; exit 1; }
	awk -v g="$got" -v ms="$ms" 'BEGIN { printf "%.0f\n", g * 1000 / ms }'
}

rx() { n sink cat /sys/class/net/eth0/statistics/rx_packets; }
run() { # CONFIG TRAFFIC -> packets per second at the sink
	local a b t0 t1
	case $1 in
	forwarding) pktgen_setup "$2" 10.0.0.1 20000 20254 ;;
	router) router_on; pktgen_setup "$2" 203.0.113.30 20000 20254 ;;
	rdirect)
		router_on
		n router "$DNATCTL" router delivery 10.0.0.1 direct lladdr "$(n sink cat /sys/class/net/eth0/address)"
		pktgen_setup "$2" 203.0.113.30 20000 20254
		;;
	conntrack) ct_on; pktgen_setup "$2" 203.0.113.30 20000 20254 ;;
	esac
	a=$(rx); t0=$(date +%s.%N)
	n gen sh -c 'echo start > /proc/net/pktgen/pgctrl'
	sleep 0.5
	t1=$(date +%s.%N); b=$(rx)
	case $1 in
	router) router_off ;;
	rdirect) router_off in_direct ;;
	conntrack) ct_off ;;
	esac
	awk -v p=$((b - a)) -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", p / (t1 - t0 - 0.5) }'
}

rmmod dnat_router 2>/dev/null || true
modprobe -a nf_conntrack nf_nat nft_nat nf_defrag_ipv4 ipip pktgen esp4
sink_drop on
# The sink's tunnel to the router (ICMP runs), and gen's route back to the
# ipip reference's address.
n sink ip link add dnat0 type ipip local 10.0.0.1 remote 10.0.0.7
n sink ip link set dnat0 up
n sink ip addr add 203.0.113.30/32 dev dnat0
n sink ip addr add 198.51.100.30/32 dev dnat0
n gen ip route add 198.51.100.30/32 via 203.0.113.30
# The first SPI of the pool: the sink's block, asked for first, starts there.
SPI=$((0x1000))
n gen ip xfrm state add src 203.0.113.3 dst 203.0.113.30 proto esp spi "$SPI" mode transport \
	enc 'ecb(cipher_null)' ''
echo "bench: $RUNS runs of $COUNT 64-byte packets per configuration and traffic (UDP, random source ports; ESP, one SA)" \
	"and of a ${ICMP_SECONDS}s ping flood (ICMP), interleaved"
for i in $(seq "$RUNS"); do
	for t in $TRAFFIC; do
		cs="forwarding router conntrack"
		if [ $t = icmp ]; then cs+=" ipip"; else cs+=" rdirect"; fi
		for c in $cs; do
			# ICMP: set -e inside the substitution too, so that a
			# failed step ends the benchmark rather than filing
			# another set-up's figure under this one.
			if [ $t = icmp ]; then r=$(set -e; icmp_run $c); else r=$(run $c $t); fi
			[[ $r =~ ^[0-9]+$ ]] || { echo "bench: run $i $t $c gave no figure" >&2; exit 1; }
			res[$c-$t]+="$r "
			printf '  run %d %-4s %-10s %8d pps\n' "$i" "$t" "$c" "$r"
		done
	done
done
for t in $TRAFFIC; do
	cs="forwarding router conntrack"
	if [ $t = icmp ]; then cs+=" ipip"; else cs+=" rdirect"; fi
	for c in $cs; do
		printf '%-4s %-10s median %8d pps  spread %s\n' "$t" "$c" "$(median <<<"${res[$c-$t]}")" "$(spread <<<"${res[$c-$t]}")"
	done
	f=$(median <<<"${res[forwarding-$t]}"); r=$(median <<<"${res[router-$t]}"); ct=$(median <<<"${res[conntrack-$t]}")
	rf[$t]=$(awk -v r="$r" -v f="$f" 'BEGIN { printf "%.2f", r / f }')
	rc[$t]=$(awk -v r="$r" -v c="$ct" 'BEGIN { printf "%.2f", r / c }')
	if [ $t = icmp ]; then
		ri=$(awk -v r="$r" -v i="$(median <<<"${res[ipip-icmp]}")" 'BEGIN { printf "%.2f", r / i }')
		echo "$t: router ${rf[$t]} x forwarding, ${rc[$t]} x conntrack, $ri x kernel ipip tunnel (reference)"
	else
		rd[$t]=$(awk -v r="$(median <<<"${res[rdirect-$t]}")" -v f="$f" 'BEGIN { printf "%.2f", r / f }')
		echo "$t: router ${rf[$t]} x forwarding, ${rc[$t]} x conntrack; direct delivery ${rd[$t]} x forwarding"
	fi
done
n gen ip xfrm state flush
insmod "$TOP/rust/dnat_router.ko"
# The tables are allocated by the first configuration.
n router "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-20255 spis 0x1000-0x1fff
echo "table memory: $(n router "$DNATCTL" --json router stats | jq -r '.stats.table_bytes') bytes (256 hosts)"
rmmod dnat_router
}

# --- Host benchmark ---------------------------------------------------------
#
#   h 10.0.0.1 --- lan0 [router] wan0 --- ext 203.0.113.3 (iperf3 server)
#                  10.0.0.7    203.0.113.30
#
# The same host talks to the same server, interleaved:
#   direct  no dnat modules; h sends from 10.0.0.1, the router forwards
#   dnat    dnat_router and dnat_host configured; h sends from
#           203.0.113.30 through the host module (port translation +
#           IP-in-IP) and the router (ownership check, decapsulation;
#           replies classified by port and tunnelled back)
# TCP: iperf3 throughput (h -> ext). UDP: iperf3 64-byte datagrams at full
# speed, datagrams received by the server per second.
# Direct delivery, and four references, UDP only, in the same rounds
# (they do not enter host_vs_direct): what the IP-in-IP hop itself costs.
#   ddirect dnat as above in direct delivery: no IP-in-IP either way, the
#           router checks h's MAC and sends the replies on unchanged
#           (host_direct_mode_vs_direct, the lower of TCP and UDP)
#   native  dnat as above in native mode: the ephemeral port range is the
#           granted block and the host module only tunnels (no translation)
#   dnative ddirect in native mode: the host module neither tunnels nor
#           translates; what is left is the hooks and the router's check
#   pubsrc  no dnat modules; h sends from 198.51.100.30 on its lo, the
#           router forwards it as in direct and routes the address back to
#           h: plain forwarding from an address that is not the device's
#   ipip    no dnat modules; the kernel's own IP-in-IP tunnel devices on h
#           and the router carry h's traffic from 198.51.100.30 (a second
#           documentation address: the router holds 203.0.113.30)
host_bench() {
modprobe -a nf_defrag_ipv4
cleanup_netns
for ns in h router ext; do
	ip netns add $ns
	n $ns ip link set lo up
done
ip link add lan0 netns router type veth peer name eth0 netns h
ip link add wan0 netns router type veth peer name eth0 netns ext
n h ip addr add 10.0.0.1/24 dev eth0
n router ip addr add 10.0.0.7/24 dev lan0
n router ip addr add 203.0.113.30/24 dev wan0
n ext ip addr add 203.0.113.3/24 dev eth0
for d in "h eth0" "router lan0" "router wan0" "ext eth0"; do n ${d% *} ip link set ${d#* } up; done
n router sysctl -qw net.ipv4.ip_forward=1
n router sysctl -qw net.ipv4.conf.lan0.accept_local=1
n ext ip route add 10.0.0.0/24 via 203.0.113.30
n ext ip route add 198.51.100.30/32 via 203.0.113.30
n h ip route add default via 10.0.0.7
# iperf3 needs a writable TMPDIR that supports shared mmap: the guest's
# /tmp is read-only and the shared output directory (9p) will not do.
export TMPDIR=/dev/shm
n ext iperf3 -s -D >/dev/null
sleep 1

mode_on() {
	case $1 in
	dnat | native | ddirect | dnative)
		insmod "$TOP/rust/dnat_router.ko"
		insmod "$TOP/rust/dnat_host.ko"
		n router "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
		if [ "$1" = ddirect ] || [ "$1" = dnative ]; then
			n router "$DNATCTL" router delivery 10.0.0.1 direct lladdr "$(n h cat /sys/class/net/eth0/address)"
			n h env DNATCTL="$DNATCTL" "$TOP/scripts/host-up.sh" 10.0.0.7 203.0.113.30 eth0 delivery direct >/dev/null
		else
			n h env DNATCTL="$DNATCTL" "$TOP/scripts/host-up.sh" 10.0.0.7 203.0.113.30 eth0 >/dev/null
		fi
		if [ "$1" = native ] || [ "$1" = dnative ]; then
			n h "$DNATCTL" host set mode native
			n h sysctl -qw net.ipv4.ip_local_port_range="$(n h "$DNATCTL" --json host blocks |
				jq -r '[.blocks[] | select(.kind == "ports")][0] | "\(.lowest) \(.lowest + .count - 1)"')"
		fi
		;;
	pubsrc)
		n h ip addr add 198.51.100.30/32 dev lo
		n h ip route replace default via 10.0.0.7 dev eth0 src 198.51.100.30
		n router ip route add 198.51.100.30/32 via 10.0.0.1 dev lan0
		;;
	ipip)
		n h ip link add t0 type ipip local 10.0.0.1 remote 10.0.0.7
		n router ip link add t0 type ipip local 10.0.0.7 remote 10.0.0.1
		n h ip link set t0 up
		n router ip link set t0 up
		n h ip addr add 198.51.100.30/32 dev lo
		n h ip route replace default dev t0 src 198.51.100.30
		n router ip route add 198.51.100.30/32 dev t0
		;;
	esac
}
mode_off() {
	case $1 in
	dnat | native | ddirect | dnative)
		if [ "$1" = ddirect ] || [ "$1" = dnative ]; then
			# The router must have sent h's packets on unchanged.
			local d
			d=$(n router "$DNATCTL" --json router stats | jq -r '.stats.out_direct')
			[ "$d" -gt 100 ] || { echo "host bench: the router forwarded $d direct packets" >&2; exit 1; }
		fi
		n h ip route replace default via 10.0.0.7 dev eth0
		n h ip addr del 203.0.113.30/32 dev lo
		n h sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
		rmmod dnat_host dnat_router
		;;
	pubsrc)
		n h ip route replace default via 10.0.0.7 dev eth0
		n h ip addr del 198.51.100.30/32 dev lo
		n router ip route del 198.51.100.30/32
		;;
	ipip)
		n h ip route replace default via 10.0.0.7 dev eth0
		n h ip addr del 198.51.100.30/32 dev lo
		n h ip link del t0
		n router ip link del t0
		;;
	esac
}
HT=${DNAT_BENCH_SECONDS:-3}
host_run() { # MODE PROTO -> bits/s (tcp) or datagrams/s received (udp)
	local j
	mode_on "$1"
	if [ "$2" = tcp ]; then
		j=$(n h iperf3 -c 203.0.113.3 -t "$HT" -J)
		jq -r '.end.sum_received.bits_per_second | floor' <<<"$j"
	else
		j=$(n h iperf3 -c 203.0.113.3 -u -b 0 -l 64 -t "$HT" -J)
		jq -r '.end.sum | ((.packets - .lost_packets) / .seconds) | floor' <<<"$j"
	fi
	mode_off "$1"
	return 0
}
rmmod dnat_host dnat_router 2>/dev/null || true
modprobe ipip
echo "host bench: $RUNS runs of ${HT}s iperf3 TCP and 64-byte UDP per mode, interleaved"
for i in $(seq "$RUNS"); do
	for m in direct dnat ddirect native dnative pubsrc ipip; do
		for p in tcp udp; do
			case $m-$p in native-tcp | dnative-tcp | pubsrc-tcp | ipip-tcp) continue ;; esac
			# A step that fails ends the benchmark (set -e inside the
			# substitution too), rather than filing another set-up's
			# figure under this mode.
			r=$(set -e; host_run $m $p)
			[[ $r =~ ^[0-9]+$ ]] || { echo "host bench: run $i $m $p gave no figure" >&2; exit 1; }
			res[$m-$p]+="$r "
			printf '  run %d %-6s %s %12d %s\n' "$i" "$m" "$p" "$r" "$([ $p = tcp ] && echo bit/s || echo datagrams/s)"
		done
	done
done
for k in direct-tcp dnat-tcp ddirect-tcp direct-udp dnat-udp ddirect-udp native-udp dnative-udp pubsrc-udp ipip-udp; do
	printf '%-10s median %12d  spread %s\n' "$k" "$(median <<<"${res[$k]}")" "$(spread <<<"${res[$k]}")"
done
dt=$(median <<<"${res[direct-tcp]}"); ht=$(median <<<"${res[dnat-tcp]}")
du=$(median <<<"${res[direct-udp]}"); hu=$(median <<<"${res[dnat-udp]}")
nu=$(median <<<"${res[native-udp]}"); iu=$(median <<<"${res[ipip-udp]}")
xt=$(median <<<"${res[ddirect-tcp]}"); xu=$(median <<<"${res[ddirect-udp]}")
awk -v a="$ht" -v b="$dt" -v c="$hu" -v d="$du" 'BEGIN { printf "host: tcp %.2f x direct, udp %.2f x direct\n", a / b, c / d }'
awk -v a="$xt" -v b="$dt" -v c="$xu" -v d="$du" 'BEGIN { printf "host, direct delivery: tcp %.2f x direct, udp %.2f x direct\n", a / b, c / d }'
hdd=$(awk -v a="$xt" -v b="$dt" -v c="$xu" -v d="$du" 'BEGIN { x = a / b; y = c / d; printf "%.2f", (x < y ? x : y) }')
awk -v n="$nu" -v i="$iu" -v d="$du" -v h="$hu" \
	'BEGIN { if (n <= 0 || i <= 0 || d <= 0) { print "host references (udp): no datagrams in a mode"; exit } printf "host references (udp): native mode %.2f x direct, kernel ipip tunnel %.2f x direct; dnat %.2f x kernel ipip\n", n / d, i / d, h / i }'
pu=$(median <<<"${res[pubsrc-udp]}"); yu=$(median <<<"${res[dnative-udp]}")
awk -v p="$pu" -v d="$du" -v y="$yu" \
	'BEGIN { if (p <= 0 || d <= 0) { print "host references (udp): no datagrams in a mode"; exit } printf "host references (udp): direct delivery in native mode %.2f x direct; forwarding from an address on lo %.2f x direct\n", y / d, p / d }'
hvd=$(awk -v a="$ht" -v b="$dt" -v c="$hu" -v d="$du" 'BEGIN { x = a / b; y = c / d; printf "%.2f", (x < y ? x : y) }')
}

declare -A res rf rc rd
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.1f%%", (a[NR]-a[1])*100/a[int((NR+1)/2)]}'; }
part router && router_bench
part host && host_bench
echo "(QEMU/TCG: only the ratios are meaningful; router_vs_* and host_vs_direct are the lower of two ratios: UDP and ESP, TCP and UDP)"
line=
if [ "$TRAFFIC" = icmp ]; then
	line="router_icmp_vs_forwarding=${rf[icmp]}"
elif part router; then
	line=$(awk -v a="${rf[udp]}" -v b="${rf[esp]}" -v c="${rc[udp]}" -v d="${rc[esp]}" \
		'BEGIN { printf "router_vs_forwarding=%.2f router_vs_conntrack=%.2f", (a < b ? a : b), (c < d ? c : d) }')
	line+=" router_icmp_vs_forwarding=${rf[icmp]}"
	line+=" $(awk -v a="${rd[udp]}" -v b="${rd[esp]}" 'BEGIN { printf "router_direct_vs_forwarding=%.2f", (a < b ? a : b) }')"
fi
part host && line="${line:+$line }host_vs_direct=$hvd host_direct_mode_vs_direct=$hdd"
echo "$line"
