#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# IPsec through the shared address and the router's DoS control: h1 (host
# module) and the server in ext set up real ESP SAs with `ip xfrm`; h1's
# inbound SPI comes from its PAP-granted SPI block. Inbound ESP reaches h1
# only once (server, SPI) is validated for h1 (PAP 34/0); the attacker in
# ext2 sending ESP with h1's SPI gets nothing through; a blacklist entry
# beats a validation; the permissive policy (the reference's SPI-only
# check) lets the attacker through; revocation empties h1's SAs; bad
# validations are refused and change nothing.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3   (SA peer)
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66 (attacker)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup_netns
}
trap finish EXIT
modprobe -a esp4 xfrm_user 2>/dev/null || true
topology
T=$(mktemp -d)
rstat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
sa_dropped() { nrouter "$DNATCTL" --json router hosts | jq -r '.hosts[] | select(.host == "10.0.0.1") | .sa_dropped'; }
# Packets h1's inbound SA decrypted ("lifetime current:" is followed by
# "N(bytes), M(packets)").
h1_esp_in() { nh1 ip -s xfrm state get src 203.0.113.3 dst 203.0.113.30 proto esp spi "$spi" | awk '/lifetime current:/ {getline; print $2; exit}' | tr -dc '0-9'; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up" dnat_host_module h1
check "h2 set up" dnat_host_module h2
for i in $(seq 100); do
	spi=$(nh1 "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "spis")][0].lowest // empty')
	[ -n "$spi" ] && break
	sleep 0.1
done
check "h1 holds an SPI block" test -n "$spi"
spi=${spi:-4096}
spi2=$(nh2 "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "spis")][0].lowest // 0')
hex=$(printf '0x%x' "$spi")

# Transport-mode ESP between h1 (as 203.0.113.30) and the server: h1's
# inbound SA uses an SPI of its block; the server's inbound SA any SPI of
# its own.
K1=0x$(printf '%064d' 1) A1=0x$(printf '%064d' 2) K2=0x$(printf '%064d' 3) A2=0x$(printf '%064d' 4)
for ns in h1 ext; do
	n $ns ip xfrm state add src 203.0.113.3 dst 203.0.113.30 proto esp spi "$hex" mode transport \
		enc 'cbc(aes)' "$K1" auth 'hmac(sha256)' "$A1"
	n $ns ip xfrm state add src 203.0.113.30 dst 203.0.113.3 proto esp spi 0x7000 mode transport \
		enc 'cbc(aes)' "$K2" auth 'hmac(sha256)' "$A2"
done
nh1 ip xfrm policy add src 203.0.113.30 dst 203.0.113.3 dir out \
	tmpl src 203.0.113.30 dst 203.0.113.3 proto esp mode transport
nh1 ip xfrm policy add src 203.0.113.3 dst 203.0.113.30 dir in \
	tmpl src 203.0.113.3 dst 203.0.113.30 proto esp mode transport
next ip xfrm policy add src 203.0.113.3 dst 203.0.113.30 dir out \
	tmpl src 203.0.113.3 dst 203.0.113.30 proto esp mode transport
next ip xfrm policy add src 203.0.113.30 dst 203.0.113.3 dir in \
	tmpl src 203.0.113.30 dst 203.0.113.3 proto esp mode transport
next python3 "$TOP/qemu-tests/udp_echo.py" 5555 &
pids+=($!)
wait_listen ext u 5555
echo_esp() { echo "$1" | nh1 timeout 10 socat -t 3 - UDP:203.0.113.3:5555 2>/dev/null || true; }

# Strict policy, nothing validated: the server's ESP answer stops at the
# router.
d0=$(sa_dropped)
expect_eq "before validation the ESP echo does not come back" "$(echo_esp before)" ""
check "the router dropped the unvalidated ESP for h1" test "$(sa_dropped)" -gt "${d0:-0}"

# h1's host module validates (server, SPI) with PAP 34/0: the echo works
# both ways.
has_sa() { nrouter "$DNATCTL" --json router sas | jqe ".sas[] | select(.host == \"10.0.0.1\" and .peer == \"203.0.113.3\" and .spi == $spi)" >/dev/null; }
check "h1's module is asked to validate its SA" nh1 "$DNATCTL" host sa validate 203.0.113.3 "$hex"
for i in $(seq 50); do has_sa && break; sleep 0.1; done
check "the router lists the SA the module validated" has_sa
expect_eq "the module counted the applied notice" "$(nh1 "$DNATCTL" --json host stats | jq -r .stats.pap_sa_notices_applied)" 1
expect_errno "the module refuses an SPI outside h1's blocks" 1 "not in an SPI block" nh1 "$DNATCTL" host sa validate 203.0.113.3 "$spi2"
expect_eq "UDP over ESP through the router, both ways" "$(echo_esp hello-esp)" hello-esp
n1=$(h1_esp_in)
check "h1's inbound SA decrypted packets" test "${n1:-0}" -gt 0

# An AH SA (transport mode, peer 203.0.113.4) and an ESP SA in tunnel mode
# (peer 203.0.113.5), each with an inbound SPI of h1's block: AH is
# classified by its SPI at offset 4, the tunnel-mode ESP like any ESP.
next ip addr add 203.0.113.4/32 dev eth0
next ip addr add 203.0.113.5/32 dev eth0
spi_ah=$((spi + 1))
spi_tun=$((spi + 2))
A3=0x$(printf '%064d' 5) A4=0x$(printf '%064d' 6) K5=0x$(printf '%064d' 7) A5=0x$(printf '%064d' 8)
K6=0x$(printf '%064d' 9) A6=0x$(printf '%064d' 10)
for ns in h1 ext; do
	n $ns ip xfrm state add src 203.0.113.4 dst 203.0.113.30 proto ah spi "$spi_ah" mode transport auth 'hmac(sha256)' "$A3"
	n $ns ip xfrm state add src 203.0.113.30 dst 203.0.113.4 proto ah spi 0x7001 mode transport auth 'hmac(sha256)' "$A4"
	n $ns ip xfrm state add src 203.0.113.5 dst 203.0.113.30 proto esp spi "$spi_tun" mode tunnel \
		enc 'cbc(aes)' "$K5" auth 'hmac(sha256)' "$A5"
	n $ns ip xfrm state add src 203.0.113.30 dst 203.0.113.5 proto esp spi 0x7002 mode tunnel \
		enc 'cbc(aes)' "$K6" auth 'hmac(sha256)' "$A6"
done
# pol NS LOCAL REMOTE PROTO MODE: the two policies of an SA pair.
pol() {
	n "$1" ip xfrm policy add src "$2" dst "$3" dir out tmpl src "$2" dst "$3" proto "$4" mode "$5"
	n "$1" ip xfrm policy add src "$3" dst "$2" dir in tmpl src "$3" dst "$2" proto "$4" mode "$5"
}
pol h1 203.0.113.30 203.0.113.4 ah transport
pol ext 203.0.113.4 203.0.113.30 ah transport
pol h1 203.0.113.30 203.0.113.5 esp tunnel
pol ext 203.0.113.5 203.0.113.30 esp tunnel
for a in 203.0.113.4 203.0.113.5; do
	next python3 "$TOP/qemu-tests/udp_echo.py" 5555 "$a" &
	pids+=($!)
done
# Both answer on port 5555 (one socket per address): wait for two.
for i in $(seq 200); do [ "$(next ss -Hlnu 'sport = :5555' | wc -l)" -ge 3 ] && break; sleep 0.1; done
echo_to() { echo "$2" | nh1 timeout 10 socat -t 3 - "UDP:$1:5555" 2>/dev/null || true; }
sa_in() { nh1 ip -s xfrm state get src "$1" dst 203.0.113.30 proto "$2" spi "$3" | awk '/lifetime current:/ {getline; print $2; exit}' | tr -dc '0-9'; }
expect_eq "AH: nothing comes back before validation" "$(echo_to 203.0.113.4 ah-before)" ""
expect_eq "tunnel-mode ESP: nothing comes back before validation" "$(echo_to 203.0.113.5 tun-before)" ""
check "h1's module validates the AH SA" nh1 "$DNATCTL" host sa validate 203.0.113.4 "$spi_ah"
check "h1's module validates the tunnel-mode SA" nh1 "$DNATCTL" host sa validate 203.0.113.5 "$spi_tun"
for i in $(seq 50); do [ "$(nh1 "$DNATCTL" --json host sas | jq '[.sas[] | select(.state == "validated")] | length')" -ge 3 ] && break; sleep 0.1; done
expect_eq "UDP over AH (transport) through the router, both ways" "$(echo_to 203.0.113.4 over-ah)" over-ah
expect_eq "UDP over ESP in tunnel mode through the router, both ways" "$(echo_to 203.0.113.5 over-tunnel)" over-tunnel
check "h1's inbound AH SA verified packets" test "$(sa_in 203.0.113.4 ah "$spi_ah")" -gt 0
check "h1's inbound tunnel-mode SA decrypted packets" test "$(sa_in 203.0.113.5 esp "$spi_tun")" -gt 0
d1=$(sa_dropped)
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 ah "$spi_ah" 50
sleep 1
expect_eq "the attacker's 50 AH packets with h1's AH SPI were dropped" "$(($(sa_dropped) - d1))" 50

# The attacker sends ESP with h1's SPI: none reaches h1.
d1=$(sa_dropped)
del0=$(rstat in_delivered)
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$spi" 200
sleep 1
expect_eq "all 200 attack packets dropped at the router" "$(($(sa_dropped) - d1))" 200
expect_eq "no attack packet was delivered" "$(rstat in_delivered)" "$del0"
expect_eq "h1's SA counters did not move" "$(h1_esp_in)" "$n1"
expect_eq "the SA still works during the attack" "$(echo_esp still-here)" still-here

# The reference's FIG. 30 under load: a sustained ESP flood with h1's SPI
# from the attacker while h1 moves a file over its SA (TCP inside ESP):
# the file arrives intact, no flood packet reaches h1's XFRM.
next socat TCP-LISTEN:8443,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8443
head -c 100000 /dev/urandom >"$T/data"
want=$(sha256sum <"$T/data" | cut -d' ' -f1)
xfrm_errors() { nh1 awk '$1 ~ /^XfrmIn/ && $1 != "XfrmInError" {s += $2} END {print s + 0}' /proc/net/xfrm_stat; }
e0=$(xfrm_errors)
d1=$(sa_dropped)
del0=$(rstat in_delivered)
n1=$(h1_esp_in)
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$spi" 3000 &
flood=$!
got=$(nh1 timeout 60 socat -t 5 - TCP:203.0.113.3:8443 <"$T/data" | sha256sum | cut -d' ' -f1)
wait "$flood" || true
sleep 1
expect_eq "file over the SA during the flood arrives intact" "$got" "$want"
check "h1's SA carried the transfer" test "$(h1_esp_in)" -gt "$n1"
expect_eq "no flood packet reached h1's XFRM (error counters unchanged)" "$(xfrm_errors)" "$e0"
check "the router dropped the flood ($(($(sa_dropped) - d1)) of 3000)" test $(($(sa_dropped) - d1)) -ge 2900
check "every packet the router delivered to h1 during the flood was the server's" \
	test $(($(rstat in_delivered) - del0)) -le $(($(h1_esp_in) - n1))

# A blacklist entry beats the validation; removing it restores service.
check "admin blacklists the server for h1" nrouter "$DNATCTL" router blacklist add 10.0.0.1 peer 203.0.113.3
expect_eq "blacklisted: the echo does not come back" "$(echo_esp blocked)" ""
check "blacklist entry removed" nrouter "$DNATCTL" router blacklist del 10.0.0.1 peer 203.0.113.3
expect_eq "unblacklisted: the echo works again" "$(echo_esp again)" again

# The reference behaviour (SPI only) lets the attacker in: the comparison.
nrouter "$DNATCTL" router set sa-policy permissive
del0=$(rstat in_delivered)
e0=$(xfrm_errors)
n ext2 python3 "$TOP/qemu-tests/ipsec_raw.py" 203.0.113.30 esp "$spi" 20
sleep 1
expect_eq "permissive policy: the attacker's 20 packets are delivered" "$(($(rstat in_delivered) - del0))" 20
check "permissive policy: h1's XFRM counted the forged packets as errors" test "$(xfrm_errors)" -gt "$e0"
nrouter "$DNATCTL" router set sa-policy strict

# Router restart (module reload): the SA table goes with the allocations.
# h1's module asks its old SPI block back first (a renewal of the lost
# block) and validates its SA again: the SA keeps its SPI and works without
# any step on h1; h2, which has no SA, waits before asking for SPIs.
hsa_state() { nh1 "$DNATCTL" --json host sas | jq -r ".sas[] | select(.peer == \"203.0.113.3\" and .spi == $spi) | .state"; }
expect_eq "h1's module records its SA as validated" "$(hsa_state)" validated
bl_h1() { nrouter "$DNATCTL" --json router blacklist | jq '[.blacklist[] | select(.host == "10.0.0.1" and .peer == "203.0.113.66")] | length'; }
check "h1's module blacklists the attacker" nh1 "$DNATCTL" host blacklist add peer 203.0.113.66
for i in $(seq 50); do [ "$(bl_h1)" = 1 ] && break; sleep 0.1; done
expect_eq "the router lists h1's blacklist entry" "$(bl_h1)" 1
rc0=$(nh1 "$DNATCTL" --json host stats | jq -r .stats.pap_reclaimed)
check "rmmod dnat_router" rmmod dnat_router
check "insmod dnat_router" insmod "$TOP/rust/dnat_router.ko"
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
for i in $(seq 150); do has_sa && break; sleep 0.1; done
check "after the restart h1's SA is validated again, same SPI" has_sa
expect_eq "h1 got its old SPI block back (one reclaim)" \
	"$(nh1 "$DNATCTL" --json host stats | jq -r .stats.pap_reclaimed)" $((rc0 + 1))
expect_eq "h1's module records the SA as validated again" "$(hsa_state)" validated
expect_eq "the SA works again after the router restart" "$(echo_esp restarted)" restarted
for i in $(seq 50); do [ "$(bl_h1)" = 1 ] && break; sleep 0.1; done
expect_eq "h1's module sent its blacklist entry again" "$(bl_h1)" 1
check "h1's module removes the entry" nh1 "$DNATCTL" host blacklist del peer 203.0.113.66
for i in $(seq 100); do
	spi2=$(nh2 "$DNATCTL" --json host blocks | jq -r '[.blocks[] | select(.kind == "spis")][0].lowest // empty')
	[ -n "$spi2" ] && break
	sleep 0.1
done
check "h2 holds an SPI block again after the restart" test -n "$spi2"
spi2=${spi2:-0}

# The follower (`dnatctl host follow`): an SA added with `ip xfrm` is
# validated with no manual step, and invalidated when deleted.
nh1 "$DNATCTL" host follow --interval 1 >"$T/follow.log" 2>&1 &
follower=$!
pids+=($follower)
spi_f=$((spi + 3))
K7=0x$(printf '%064d' 11) A7=0x$(printf '%064d' 12)
has_spi() { nrouter "$DNATCTL" --json router sas | jqe ".sas[] | select(.host == \"10.0.0.1\" and .spi == $1)" >/dev/null; }
wait_has() { local i; for i in $(seq 150); do has_spi "$1" && return 0; sleep 0.1; done; return 1; }
wait_gone() { local i; for i in $(seq 150); do has_spi "$1" || return 0; sleep 0.1; done; return 1; }
nh1 ip xfrm state add src 203.0.113.3 dst 203.0.113.30 proto esp spi "$spi_f" mode transport \
	enc 'cbc(aes)' "$K7" auth 'hmac(sha256)' "$A7"
check "the follower validated the SA added with ip xfrm" wait_has "$spi_f"
nh1 ip xfrm state delete src 203.0.113.3 dst 203.0.113.30 proto esp spi "$spi_f"
check "the follower invalidated the SA deleted with ip xfrm" wait_gone "$spi_f"
check "the follower logged both" sh -c "grep -q 'validate 203.0.113.3 spi $(printf 0x%08x "$spi_f")' '$T/follow.log' && grep -q 'invalidate 203.0.113.3 spi $(printf 0x%08x "$spi_f")' '$T/follow.log'"

# `dnatctl host spi alloc` (XFRM_MSG_ALLOCSPI): the kernel makes a larval
# state with an SPI of h1's blocks and the asked protocol, mode and reqid;
# the follower leaves it alone until `ip xfrm state update` completes it
# (XFRM_MSG_UPDSA), then validates it.
held() { nh1 "$DNATCTL" --json host blocks | jqe "[.blocks[] | select(.kind == \"spis\" and .lowest <= $1 and $1 < .lowest + .count)] | length > 0" >/dev/null; }
# (The listing is read whole first: `ip xfrm` writes a state at a time and
# would die of SIGPIPE after `grep -q` has matched.)
larval() {
	local states
	states=$(nh1 ip xfrm state list src "$1" dst 203.0.113.30)
	grep -q "proto $2 spi $3 reqid $4 mode $5" <<<"$states"
}
spi_a=$(nh1 "$DNATCTL" host spi alloc 203.0.113.3 || true)
check "host spi alloc printed an SPI" test -n "$spi_a"
spi_a=${spi_a:-0x0}
check "the allocated SPI is in h1's blocks" held $((spi_a))
check "XFRM holds the larval ESP state" larval 203.0.113.3 esp "$spi_a" 0 transport
sleep 1.5
check "the follower does not validate the larval state" sh -c "! grep -q 'spi $spi_a' '$T/follow.log'"
nh1 ip xfrm state update src 203.0.113.3 dst 203.0.113.30 proto esp spi "$spi_a" mode transport \
	enc 'cbc(aes)' "$K7" auth 'hmac(sha256)' "$A7"
check "the follower validated the completed state" wait_has $((spi_a))
nh1 ip xfrm state delete src 203.0.113.3 dst 203.0.113.30 proto esp spi "$spi_a"
check "the follower invalidated it once deleted" wait_gone $((spi_a))
ah=$(nh1 "$DNATCTL" --json host spi alloc 203.0.113.4 --proto ah --mode tunnel --reqid 7 || true)
expect_eq "host spi alloc --json names the request" "$(jq -c '[.peer, .daddr, .proto, .mode, .reqid]' <<<"$ah" 2>/dev/null)" \
	'["203.0.113.4","203.0.113.30","ah","tunnel",7]'
spi_ah2=$(jq -r '.spi // 0' <<<"$ah" 2>/dev/null || echo 0)
check "the AH SPI is in h1's blocks" held "${spi_ah2:-0}"
check "XFRM holds the larval AH state, tunnel mode, reqid 7" larval 203.0.113.4 ah "$(printf 0x%08x "${spi_ah2:-0}")" 7 tunnel

# Bad validations: refused, nothing changes.
before=$(nrouter "$DNATCTL" --json router sas | jq -c .)
expect_errno "validating h2's SPI for h1 is refused" 1 "" nrouter "$DNATCTL" router sa validate 10.0.0.1 203.0.113.3 "$spi2"
expect_errno "validating peer 0.0.0.0 is refused" 22 "" nrouter "$DNATCTL" router sa validate 10.0.0.1 0.0.0.0 "$spi"
expect_errno "validating a LAN peer is refused" 22 "" nrouter "$DNATCTL" router sa validate 10.0.0.1 10.0.0.3 "$spi"
check "h2 validating h1's SPI with PAP is refused (not_owned)" sh -c "ip netns exec h2 '$DNATCTL' pap validate 203.0.113.3 $hex router 10.0.0.7 2>&1 | grep -q 'refused: not_owned'"
expect_eq "the SA table did not change" "$(nrouter "$DNATCTL" --json router sas | jq -c .)" "$before"

# Revoking h2 stops h2 at the router and leaves h1's SA working.
check "revoke h2" nrouter "$DNATCTL" router revoke 10.0.0.3
check "h2 holds nothing at the router" test "$(nrouter "$DNATCTL" --json router blocks | jq '[.blocks[] | select(.host == "10.0.0.3")] | length')" = 0
expect_eq "h1's SA still works while h2 is revoked" "$(echo_esp h2-revoked)" h2-revoked
check "readmit h2" nrouter "$DNATCTL" router readmit 10.0.0.3

# Invalidation (PAP 35/0, here from the userspace client on a raw socket)
# and revocation empty the table.
check "h1 invalidates its SA with dnatctl's own PAP" nh1 "$DNATCTL" pap invalidate 203.0.113.3 "$hex" router 10.0.0.7
expect_eq "invalidated: the echo does not come back" "$(echo_esp gone)" ""
check "h1 validates again with dnatctl's own PAP" nh1 "$DNATCTL" pap validate 203.0.113.3 "$hex" router 10.0.0.7
check "revoke h1" nrouter "$DNATCTL" router revoke 10.0.0.1
expect_eq "revocation removed h1's SAs" "$(nrouter "$DNATCTL" --json router sas | jq '[.sas[] | select(.host == "10.0.0.1")] | length')" 0
check "readmit h1" nrouter "$DNATCTL" router readmit 10.0.0.1

# The follower survives the host module reloading: the module comes back
# empty, h1 is set up again and gets SPIs; the follower's next
# resynchronisation validates h1's live SAs again with no manual step.
check "rmmod dnat_host (the follower keeps running)" rmmod dnat_host
check "insmod dnat_host" insmod "$TOP/rust/dnat_host.ko"
check "h1 set up again" dnat_host_module h1
check "the follower validated h1's SA again after the reload" wait_has "$spi"
check "the follower is still running" kill -0 "$follower"
expect_eq "the SA works after the host module reload" "$(echo_esp reloaded)" reloaded
