#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The modules' events (the events multicast groups, dnatctl monitor):
# every event class of the router and of the host, provoked for real and
# seen by `dnatctl --json monitor` with its fields (host, block, reason,
# ...); events stay in their namespace; the rate limit of rate-limited
# events and the hold-off of floods; the text output; the monitor's exit
# on SIGINT and on a closed output, and its refusal without CAP_NET_ADMIN;
# the kernel's own YNL CLI subscribed to the group; and the monitors
# following the router module through an unload and a load.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
#   (dnatctl pap)
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
R=$T/router.ev H=$T/h1.ev

# ev FILE FILTER: the events of FILE (JSON lines) that the jq FILTER
# selects, one per line (a line being written is left out).
ev() { jq -c "select($2)" "$1" 2>/dev/null || true; }
# has FILE FILTER: waits up to 15 s for such an event.
has() {
	local i
	for i in $(seq 150); do
		[ -n "$(ev "$1" "$2" | head -1)" ] && return 0
		sleep 0.1
	done
	return 1
}
# first FILE FILTER FIELD: the field of the first such event.
first() { ev "$1" "$2" | head -1 | jq -r ".$3"; }
count() { ev "$1" "$2" | wc -l; }
# has_lines FILE RE...: waits up to 15 s for a line matching each RE.
has_lines() {
	local f=$1 i re ok
	shift
	for i in $(seq 150); do
		ok=1
		for re; do grep -qE "$re" "$f" || ok=; done
		[ -n "$ok" ] && return 0
		sleep 0.1
	done
	return 1
}
# more FILE FILTER N: waits up to 15 s for more than N such events.
more() {
	local i
	for i in $(seq 150); do
		[ "$(count "$1" "$2")" -gt "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
stat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
pap() { local ns=$1; shift; n "$ns" "$DNATCTL" --json pap "$@" router 10.0.0.7; }
router_ev() { check "router event: $1" has "$R" "$2"; }
host_ev() { check "h1 event: $1" has "$H" "$2"; }
# Hints (unauthenticated invalidate-alls) count once per 5 s at a host:
# the last one's time, to space the steps that rely on one.
hint_at=0
hint_gap() { local d=$((hint_at + 6 - SECONDS)); [ "$d" -le 0 ] || sleep "$d"; hint_at=$SECONDS; }

# -- the monitors, before anything happens
expect_errno "an unprivileged monitor is refused" 1 "CAP_NET_ADMIN" \
	nrouter setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$DNATCTL" monitor router
# (ip netns exec execs dnatctl: $! is its PID, for the SIGINT below.)
ip netns exec router "$DNATCTL" --json monitor router >"$R" 2>"$T/router.err" &
rmon=$!
pids+=($rmon)
nh1 "$DNATCTL" --json monitor host >"$H" 2>"$T/h1.err" &
pids+=($!)
# Both families, text: the router's namespace has no host events.
ip netns exec router "$DNATCTL" monitor >"$T/router.txt" &
tmon=$!
pids+=($tmon)
sleep 3

# -- started, key, grants
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up by scripts/host-up.sh" dnat_host_module h1
read -r plo pcount < <(held_block h1 ports) || plo=
read -r slo scount < <(held_block h1 spis) || slo=
check "h1 holds a port and an SPI block ($plo+$pcount, $slo+$scount)" test -n "$plo" -a -n "$slo"
plo=${plo:-0} pcount=${pcount:-0} slo=${slo:-4096} scount=${scount:-0}
host_ev "started, with the router" '.event == "started" and .router == "10.0.0.7"'
host_ev "key-installed" '.event == "key-installed"'
host_ev "granted the port block, with its lease" \
	".event == \"granted\" and .kind == \"ports\" and .lowest == $plo and .count == $pcount and .lease == 3600"
host_ev "granted the SPI block" ".event == \"granted\" and .kind == \"spis\" and .lowest == $slo and .count == $scount"
router_ev "granted h1 its port block, with its lease" \
	".event == \"granted\" and .host == \"10.0.0.1\" and .kind == \"ports\" and .lowest == $plo and .count == $pcount and .lease == 3600"
router_ev "granted h1 its SPI block" \
	".event == \"granted\" and .host == \"10.0.0.1\" and .kind == \"spis\" and .lowest == $slo and .count == $scount"
check "text: router granted host 10.0.0.1 ports $plo-... lease 3600s" \
	grep -q "^router granted host 10.0.0.1 ports $plo-$((plo + pcount - 1)) lease 3600s$" "$T/router.txt"

# -- renewed: a forged (unauthenticated) invalidate-all makes h1 renew
# everything it holds now, and the router renews it
hint_gap
expect_eq "the router's address forged to h1" "$(nrouter python3 "$TOP/qemu-tests/pap_forge.py" as-router 10.0.0.7 10.0.0.1)" "sent 6"
host_ev "renewed the port block" ".event == \"renewed\" and .kind == \"ports\" and .lowest == $plo and .lease == 3600"
host_ev "renewed the SPI block" ".event == \"renewed\" and .kind == \"spis\" and .lowest == $slo"
router_ev "renewed h1's port block" \
	".event == \"renewed\" and .host == \"10.0.0.1\" and .kind == \"ports\" and .lowest == $plo and .count == $pcount"

# -- SAs and blacklists, through h1's module (PAP) and by the administrator
check "h1 validates an SA" nh1 "$DNATCTL" host sa validate 203.0.113.3 "$slo"
router_ev "sa-validated (PAP)" ".event == \"sa-validated\" and .host == \"10.0.0.1\" and .peer == \"203.0.113.3\" and .spi == $slo"
host_ev "sa-validated" ".event == \"sa-validated\" and .peer == \"203.0.113.3\" and .spi == $slo"
check "h1 invalidates it" nh1 "$DNATCTL" host sa invalidate 203.0.113.3 "$slo"
router_ev "sa-invalidated (PAP)" ".event == \"sa-invalidated\" and .host == \"10.0.0.1\" and .peer == \"203.0.113.3\" and .spi == $slo"
host_ev "sa-invalidated" ".event == \"sa-invalidated\" and .spi == $slo"
check "h1 blacklists a peer" nh1 "$DNATCTL" host blacklist add peer 203.0.113.66
router_ev "blacklist-added (PAP)" '.event == "blacklist-added" and .host == "10.0.0.1" and .peer == "203.0.113.66" and .spi == null'
host_ev "blacklist-added" '.event == "blacklist-added" and .peer == "203.0.113.66"'
check "h1 removes it" nh1 "$DNATCTL" host blacklist del peer 203.0.113.66
router_ev "blacklist-removed (PAP)" '.event == "blacklist-removed" and .host == "10.0.0.1" and .peer == "203.0.113.66"'
host_ev "blacklist-removed" '.event == "blacklist-removed" and .peer == "203.0.113.66"'
check "h1 asks to validate an SA the router refuses (a LAN peer)" nh1 "$DNATCTL" host sa validate 10.0.0.9 "$slo"
host_ev "sa-refused, with the reason" ".event == \"sa-refused\" and .peer == \"10.0.0.9\" and .spi == $slo and .reason == \"unspecified\""
s2=$((slo + 1))
check "admin validates an SA" nrouter "$DNATCTL" router sa validate 10.0.0.1 203.0.113.4 "$s2"
router_ev "sa-validated (admin)" ".event == \"sa-validated\" and .host == \"10.0.0.1\" and .peer == \"203.0.113.4\" and .spi == $s2"
check "admin invalidates it" nrouter "$DNATCTL" router sa invalidate 10.0.0.1 203.0.113.4 "$s2"
router_ev "sa-invalidated (admin)" ".event == \"sa-invalidated\" and .peer == \"203.0.113.4\" and .spi == $s2"
check "admin blacklists an SPI" nrouter "$DNATCTL" router blacklist add 10.0.0.1 spi "$s2"
router_ev "blacklist-added (admin)" ".event == \"blacklist-added\" and .host == \"10.0.0.1\" and .spi == $s2 and .peer == null"
check "admin removes it" nrouter "$DNATCTL" router blacklist del 10.0.0.1 spi "$s2"
router_ev "blacklist-removed (admin)" ".event == \"blacklist-removed\" and .spi == $s2"

# -- flood: ESP from ext2 with h1's SPI, not validated: dropped, more than
# 100 a second; reported once, then held off while it goes on
d0=$(stat in_sa_not_validated) t0=$SECONDS
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$slo" 6000
secs=$((SECONDS - t0 + 1))
router_ev "flood of in_sa_not_validated, over 100 a second" \
	'.event == "flood" and .reason == "in_sa_not_validated" and .per_second > 100'
check "the flood was real ($(( $(stat in_sa_not_validated) - d0 )) drops in $secs s)" \
	test $(( $(stat in_sa_not_validated) - d0 )) -ge 5900
sleep 3
floods=$(count "$R" '.event == "flood" and .reason == "in_sa_not_validated"')
check "a flood of $secs s raised $floods event(s): one per 10 s at most" \
	test "$floods" -ge 1 -a "$floods" -le $((1 + secs / 10))
check "text: router flood in_sa_not_validated N/s" grep -qE '^router flood in_sa_not_validated [0-9]+/s$' "$T/router.txt"

# -- released: h1 gives its port block back
check "h1 releases its port block" nh1 "$DNATCTL" host release ports "$plo" "$pcount"
host_ev "lost the port block, released" ".event == \"lost\" and .kind == \"ports\" and .lowest == $plo and .reason == \"released\""
router_ev "h1 released its port block" \
	".event == \"released\" and .host == \"10.0.0.1\" and .kind == \"ports\" and .lowest == $plo and .count == $pcount"

# -- expired: h2 (dnatctl's own PAP) asks for a 2 s lease
g=$(pap h2 request ports 4 high lease 2)
glo=$(jq .lowest <<<"$g")
router_ev "granted h2 a short lease" ".event == \"granted\" and .host == \"10.0.0.3\" and .lowest == $glo and .lease == 2"
router_ev "h2's block expired" ".event == \"expired\" and .host == \"10.0.0.3\" and .kind == \"ports\" and .lowest == $glo and .count == 4"

# -- over-quota: at the router for h2, and as h1 sees it
check "h2's own quota: 4 ports" nrouter "$DNATCTL" router quota 10.0.0.3 ports 4
g=$(pap h2 request ports 4 high)
rc=0; out=$(pap h2 request ports 1 high) || rc=$?
expect_eq "h2 over its quota is refused" "$rc $(jq -r .refused <<<"$out")" "1 over_quota"
router_ev "over-quota, with what was asked" \
	'.event == "over-quota" and .host == "10.0.0.3" and .kind == "ports" and .count == 1 and .lowest == null'
n h2 "$DNATCTL" pap release ports "$(jq .lowest <<<"$g")" 4 router 10.0.0.7 >/dev/null
nrouter "$DNATCTL" router quota 10.0.0.3 default
h1ports=$(nrouter "$DNATCTL" --json router hosts | jq '.hosts[] | select(.host == "10.0.0.1") | .ports')
check "h1's own quota: the $h1ports ports it holds" nrouter "$DNATCTL" router quota 10.0.0.1 ports "$h1ports"
check "h1 asks for 8 more ports" nh1 "$DNATCTL" host request ports 8
host_ev "refused over_quota, with what was asked" \
	'.event == "refused" and .reason == "over_quota" and .kind == "ports" and .count == 8'
nrouter "$DNATCTL" router quota 10.0.0.1 default

# -- rate-limited: h2 floods the PAP server over its rate; the events are
# limited to 10 a second, the next one says how many were held back, and
# none is lost: events plus suppressed make every refusal
check "PAP rate 1 a second" nrouter "$DNATCTL" router set pap-rate 1
rl0=$(stat rate_limited)
nh2 python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 3 3 40
sleep 3
nh2 python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 3 3 3
sleep 3
refused=$(( $(stat rate_limited) - rl0 ))
sel='.event == "rate-limited" and .host == "10.0.0.3" and .kind == "ports" and .count == 1'
events=$(count "$R" "$sel")
check "rate-limited events ($events) fewer than the refusals ($refused)" test "$events" -ge 1 -a "$events" -lt "$refused"
check "a later rate-limited event carries the suppressed ones" has "$R" "$sel and .suppressed > 0"
expect_eq "events plus suppressed account for every refusal" \
	"$(ev "$R" "$sel" | jq -s 'map(1 + (.suppressed // 0)) | add')" "$refused"
check "text: rate-limited ... (N suppressed)" \
	grep -qE '^router rate-limited host 10.0.0.3 asked ports 1 \([0-9]+ suppressed\)$' "$T/router.txt"
nrouter "$DNATCTL" router set pap-rate 0

# -- mode changes
check "h1 to native mode" nh1 "$DNATCTL" host set mode native
host_ev "mode-changed to native" '.event == "mode-changed" and .mode == "native"'
check "h1 back to translate mode" nh1 "$DNATCTL" host set mode translate
host_ev "mode-changed to translate" '.event == "mode-changed" and .mode == "translate"'

# -- revoked and readmitted; the kernel's YNL CLI subscribed meanwhile
if [ -n "${DNAT_KSRC:-}" ] && [ -f "$DNAT_KSRC/tools/net/ynl/pyynl/cli.py" ]; then
	nrouter env PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 /usr/bin/python3 \
		"$DNAT_KSRC/tools/net/ynl/pyynl/cli.py" \
		--spec "$TOP/Documentation/netlink/specs/dnat_router.yaml" --no-schema --output-json \
		--subscribe events --sleep 180 >"$T/ynl.out" 2>&1 &
	ynl=$!
	pids+=($ynl)
	sleep 8
else
	fail "the kernel source with tools/net/ynl is readable (DNAT_KSRC='${DNAT_KSRC:-}')"
	ynl=
fi
(nrouter "$DNATCTL" monitor router | head -n 1 >"$T/head.txt"; echo "${PIPESTATUS[0]}" >"$T/head.rc") &
sleep 3
check "admin revokes h2" nrouter "$DNATCTL" router revoke 10.0.0.3
router_ev "revoked" '.event == "revoked" and .host == "10.0.0.3"'
check "admin readmits h2" nrouter "$DNATCTL" router readmit 10.0.0.3
router_ev "readmitted" '.event == "readmitted" and .host == "10.0.0.3"'
for _ in $(seq 50); do [ -s "$T/head.rc" ] && break; sleep 0.1; done
expect_eq "a monitor whose output closed exits 0" "$(cat "$T/head.rc" 2>/dev/null)" 0
expect_eq "... after printing the first event" "$(cat "$T/head.txt")" "router revoked host 10.0.0.3"
# The CLI subscribes only once it has read the spec, which takes longer
# than the 8 s above under a debug kernel: until it reports a revocation
# (at most 90 s), h2 is revoked and readmitted again every 5 s.
ynl_got() {
	grep -q '"event-type": "revoked".*"host-addr": "10.0.0.3"\|"host-addr": "10.0.0.3".*"event-type": "revoked"' "$T/ynl.out"
}
if [ -n "$ynl" ]; then
	for _ in $(seq 18); do
		ynl_got && break
		sleep 5
		ynl_got && break
		nrouter "$DNATCTL" router revoke 10.0.0.3 && nrouter "$DNATCTL" router readmit 10.0.0.3
	done
	check "the kernel's YNL CLI got the revoked event" ynl_got
	pkill -f 'pyynl/cli.py .*--subscribe events' || true
	wait "$ynl" 2>/dev/null || true
fi

# -- reset: a new epoch; h1 takes the broadcast as a hint, renews, and
# learns of the restart from the answers
hint_gap
granted_ports='.event == "granted" and .kind == "ports"'
g0=$(count "$H" "$granted_ports")
check "admin resets the router" nrouter "$DNATCTL" router reset
router_ev "reset, with the new epoch" '.event == "reset" and .epoch > 0'
epoch=$(first "$R" '.event == "reset"' epoch)
host_ev "router-restart, the reset's epoch" ".event == \"router-restart\" and .epoch == $epoch"
host_ev "lost its SPI block, router-restart" ".event == \"lost\" and .kind == \"spis\" and .reason == \"router-restart\""
check "h1 event: granted ports again" more "$H" "$granted_ports" "$g0"

# -- stopped and started again: a new router address starts over
check "h1 pointed at another router" nh1 "$DNATCTL" host set router 10.0.0.8
host_ev "stopped" '.event == "stopped"'
host_ev "lost its blocks, stopped" '.event == "lost" and .reason == "stopped"'
host_ev "started with the new router" '.event == "started" and .router == "10.0.0.8"'
nh1 "$DNATCTL" host set router 10.0.0.7

# -- events stay in their namespace; every class was seen
expect_eq "h1's monitor saw only host events" "$(ev "$H" '.family != "host"' | wc -l)" 0
expect_eq "the router's monitor saw only router events" "$(ev "$R" '.family != "router"' | wc -l)" 0
expect_eq "the router's text monitor printed only router lines" "$(grep -vc '^router ' "$T/router.txt" || true)" 0
for e in granted renewed released expired revoked readmitted over-quota rate-limited reset \
	sa-validated sa-invalidated blacklist-added blacklist-removed flood; do
	check "router event class $e seen" has "$R" ".event == \"$e\""
done
for e in started stopped granted renewed lost refused router-restart sa-validated sa-invalidated \
	blacklist-added blacklist-removed sa-refused mode-changed key-installed; do
	check "h1 event class $e seen" has "$H" ".event == \"$e\""
done
expect_eq "no event was lost (no overflow)" "$(count "$R" '.event == "overflow"') $(count "$H" '.event == "overflow"')" "0 0"

# -- the router module unloaded and loaded again: the monitors follow it
nrouter "$DNATCTL" router showconf >"$T/router.conf"
r0=$(count "$R" '.event == "reset"')
check "rmmod dnat_router" rmmod dnat_router
router_ev "unloaded (from the controller)" '.event == "unloaded"'
check "insmod dnat_router" insmod "$TOP/rust/dnat_router.ko"
router_ev "loaded" '.event == "loaded"'
check "the saved settings applied to the new module" nrouter "$DNATCTL" router setconf "$T/router.conf"
check "admin resets the new module" nrouter "$DNATCTL" router reset
check "router event: the new module's reset, through the joined group" more "$R" '.event == "reset"' "$r0"
check "text: router unloaded, router loaded" has_lines "$T/router.txt" '^router unloaded$' '^router loaded$'
expect_eq "h1's monitor (host only) saw neither" "$(count "$H" '.event == "unloaded" or .event == "loaded"')" 0

# -- SIGINT ends a monitor cleanly
# stop_mon PID DESC: SIGINT; the monitor must exit 0 within 5 s.
stop_mon() {
	local pid=$1 i rc=0
	kill -INT "$pid"
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		fail "$2 (still running 5 s after SIGINT)"
		return
	fi
	wait "$pid" || rc=$?
	expect_eq "$2" "$rc" 0
}
stop_mon "$rmon" "the monitor exits 0 on SIGINT"
stop_mon "$tmon" "the text monitor exits 0 on SIGINT"
expect_eq "the monitors wrote no error" "$(cat "$T/router.err" "$T/h1.err")" ""
rm -rf "$T"
