#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Authenticated PAP. h2 forges every kind of host message as h1 (source
# 10.0.0.1, plain and sealed under a guessed key), replays h1's captured
# messages, and forges router messages towards h1's host module: all
# dropped or refused and counted, h1's blocks, SAs and traffic unchanged.
# pap-auth optional serves a client without a key and marks it; the
# router's dumps of what hosts hold need CAP_NET_ADMIN.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#                 |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
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
stat() { nrouter "$DNATCTL" --json router stats | jq -r ".stats.$1"; }
blocks() { nrouter "$DNATCTL" --json router blocks | jq -c '[.blocks[] | {host,kind,lowest,count}]'; }
pap() { local ns=$1; shift; n "$ns" "$DNATCTL" --json pap "$@" router 10.0.0.7; }
forge() { nh2 python3 "$TOP/qemu-tests/pap_forge.py" "$@"; }
auth_counts() { echo "$(stat auth_missing) $(stat auth_unknown_key) $(stat auth_bad_mac) $(stat dropped_auth_replayed)"; }

nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-20999 spis 0x1000-0x1fff
expect_eq "PAP authentication is required by default" \
	"$(nrouter "$DNATCTL" --json router show | jq -r .config.pap_auth)" required

# -- h1 (dnatctl pap, a key of its own) gets ports and SPIs and validates
# an SA; its key file is private.
nh1 tcpdump -U -q -n -i eth0 -w "$T/h1.pcap" 'icmp and dst host 10.0.0.7' 2>/dev/null &
pids+=($!)
sleep 1
g=$(pap h1 request ports 16 high)
s=$(pap h1 request spis 16)
port=$(jq .lowest <<<"$g") spi=$(jq .lowest <<<"$s")
check "h1 validates an SA with 198.51.100.3" pap h1 validate 198.51.100.3 "$spi" >/dev/null
check "h1 blacklists 192.0.2.66" pap h1 blacklist add peer 192.0.2.66 >/dev/null
expect_eq "one key granted to h1" "$(stat key_granted)" 1
kf=$DNAT_PAP_KEYS/10.0.0.1-10.0.0.7.key
expect_eq "h1's key file is mode 0600" "$(command stat -c %a "$kf")" 600
key_id=$(sed -n 's/^key_id=//p' "$kf")
expect_eq "router hosts: h1 is authenticated" \
	"$(nrouter "$DNATCTL" --json router hosts | jq -c '[.hosts[] | select(.host == "10.0.0.1") | .auth]')" '[true]'
sleep 1
kill "${pids[-1]}" 2>/dev/null || true

before_blocks=$(blocks)
before_sas=$(nrouter "$DNATCTL" --json router sas | jq -c .)
before_bl=$(nrouter "$DNATCTL" --json router blacklist | jq -c .)

# -- h2 forges as h1: every host message type, plain and sealed under
# h1's key id with a key it does not have.
a0=$(auth_counts)
sent=$(forge as-host 10.0.0.7 10.0.0.1 "$key_id" "$port" 16 "$spi" 16 198.51.100.3)
expect_eq "h2 sent 13 message kinds twice as h1" "$sent" "sent 26"
sleep 1
read -r m0 u0 b0 r0 <<<"$a0"
expect_eq "plain forgeries refused as unauthenticated (13), sealed ones by their MAC (13)" \
	"$(auth_counts)" "$((m0 + 13)) $u0 $((b0 + 13)) $r0"
expect_eq "h1's blocks unchanged by the forgeries" "$(blocks)" "$before_blocks"
expect_eq "h1's SAs unchanged by the forgeries" "$(nrouter "$DNATCTL" --json router sas | jq -c .)" "$before_sas"
expect_eq "h1's blacklist unchanged by the forgeries" "$(nrouter "$DNATCTL" --json router blacklist | jq -c .)" "$before_bl"
expect_eq "the forgeries were refused before the rate limit and quotas: nothing granted" \
	"$(stat granted)" 2

# -- h2 forges as h1 sealed with its own key (a key is bound to its host)
g2=$(pap h2 request ports 4 high)
k2=$(sed -n 's/^key_id=//p' "$DNAT_PAP_KEYS/10.0.0.3-10.0.0.7.key")
a0=$(auth_counts)
forge as-host 10.0.0.7 10.0.0.1 "$k2" "$port" 16 "$spi" 16 198.51.100.3 >/dev/null
sleep 1
read -r m0 u0 b0 r0 <<<"$a0"
expect_eq "h2's key id on h1's address: unknown key (13)" \
	"$(auth_counts)" "$((m0 + 13)) $((u0 + 13)) $b0 $r0"
expect_eq "h1's blocks still unchanged" "$(blocks | jq -c '[.[] | select(.host == "10.0.0.1")]')" \
	"$(jq -c '[.[] | select(.host == "10.0.0.1")]' <<<"$before_blocks")"

# -- replay: h1's captured messages (key request, requests, validation,
# blacklist) sent again change nothing.
a0=$(auth_counts) g0=$(stat key_granted) gr0=$(stat granted) rt0=$(stat retransmitted)
sent=$(forge replay "$T/h1.pcap" 10.0.0.7)
check "h1's captured PAP was replayed ($sent)" test "${sent#sent }" -ge 5
sleep 1
read -r m0 u0 b0 r0 <<<"$a0"
replayed=$(( $(stat dropped_auth_replayed) - r0 + $(stat retransmitted) - rt0 ))
check "every replayed sealed message dropped as a replay or answered from the cache ($replayed)" \
	test "$replayed" -eq $(( ${sent#sent } - 1 ))
expect_eq "a replayed key request gets a new key, never a used one" "$(stat key_granted)" $((g0 + 1))
expect_eq "nothing granted by the replay" "$(stat granted)" "$gr0"
expect_eq "h1's blocks unchanged by the replay" "$(blocks | jq -c '[.[] | select(.host == "10.0.0.1")]')" \
	"$(jq -c '[.[] | select(.host == "10.0.0.1")]' <<<"$before_blocks")"
# h1 goes on with its key after all this.
g3=$(pap h1 request ports 4 high)
expect_eq "h1 is still served with its key" "$(jq .count <<<"$g3")" 4

# -- a client without a key: refused under "required", served under
# "optional" and marked unauthenticated; once keyed, plain is refused.
rc=0; out=$(DNAT_PAP_AUTH=off pap h2 request ports 4 high) || rc=$?
expect_eq "h2 (keyed) without its key: refused unauthenticated" "$rc $(jq -r .refused <<<"$out")" "1 unauthenticated"
nh2 ip addr add 10.0.0.5/24 dev eth0
check "pap-auth optional can be set" nrouter "$DNATCTL" router set pap-auth optional
expect_eq "router show: pap auth optional" "$(nrouter "$DNATCTL" router show | grep -c '^  pap auth: optional$')" 1
# A host that never used a key: 10.0.0.5 on h2.
nh2 python3 - <<'EOF' >"$T/plain.out"
import os, socket, struct, sys
sys.path.insert(0, os.environ["TOP"] + "/qemu-tests")
from pap_auth import with_checksum
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.bind(("10.0.0.5", 0))
s.settimeout(3)
s.sendto(with_checksum(struct.pack("!BBHB3xIII", 32, 1, 0, 4, 0x4242, 0, 0)), ("10.0.0.7", 0))
while True:
    d = s.recv(2048)
    hl = (d[0] & 15) * 4
    if d[16:20] == socket.inet_aton("10.0.0.5") and d[hl] == 32:
        print(d[hl + 1], len(d) - hl)
        break
EOF
expect_eq "optional: a plain request from a new host is granted, unsealed (code 1, 20 bytes)" "$(cat "$T/plain.out")" "1 20"
expect_eq "router hosts marks 10.0.0.5 unauthenticated" \
	"$(nrouter "$DNATCTL" router hosts | grep -c '^10\.0\.0\.5 (unauthenticated): ')" 1
rc=0; out=$(DNAT_PAP_AUTH=off pap h2 request ports 4 high) || rc=$?
expect_eq "optional: a keyed host (h2) must still authenticate" "$rc $(jq -r .refused <<<"$out")" "1 unauthenticated"
check "pap-auth required again" nrouter "$DNATCTL" router set pap-auth required
expect_errno "an unknown pap-auth value is refused" 22 "PAP_AUTH" nrouter "$DNATCTL" router set pap-auth 5

# -- the dumps of what hosts hold need CAP_NET_ADMIN
unpriv() { nrouter setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }
for what in blocks hosts sas blacklist; do
	expect_errno "unprivileged router $what refused" 1 "" unpriv "$DNATCTL" router "$what"
done
check "unprivileged router show still works" unpriv "$DNATCTL" router show

# -- h1 with the host module: h2 forges router messages towards it (plain
# unicast and broadcast invalidate-all, a grant and a refusal with a new
# epoch, a block revocation, a sealed invalidate-all under a random key).
check "h1 set up with the host module" dnat_host_module h1
lo1=$(wait_ports h1) || lo1=
check "h1's module holds a port block" test -n "$lo1"
hstat() { nh1 "$DNATCTL" --json host stats | jq -r ".stats.$1"; }
hb() { nh1 "$DNATCTL" --json host blocks | jq -c '[.blocks[] | {kind,lowest,count}]'; }
e0=$(nh1 "$DNATCTL" --json host show | jq .config.epoch)
held=$(hb)
next socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
pids+=($!)
wait_listen ext t 8080
sealed_drops() { echo $(( $(hstat pap_auth_foreign_key) + $(hstat pap_auth_bad_mac) )); }
h0=$(hstat pap_auth_hints) u0=$(hstat pap_auth_unauthenticated) f0=$(sealed_drops)
expect_eq "h2 forged 6 router messages" "$(forge as-router 10.0.0.7 10.0.0.1)" "sent 6"
sleep 3
check "h1 took the invalidate-alls only as hints ($(( $(hstat pap_auth_hints) - h0 )))" \
	test $(( $(hstat pap_auth_hints) - h0 )) -le 2
check "the forged replies and revocation were dropped ($(( $(hstat pap_auth_unauthenticated) - u0 )))" \
	test $(( $(hstat pap_auth_unauthenticated) - u0 )) -ge 3
check "the sealed forgery was dropped ($(( $(sealed_drops) - f0 )))" \
	test $(( $(sealed_drops) - f0 )) -ge 1
expect_eq "h1 keeps its blocks after the forged router messages" "$(hb)" "$held"
expect_eq "h1 keeps the router epoch" "$(nh1 "$DNATCTL" --json host show | jq .config.epoch)" "$e0"
expect_eq "h1's TCP through the router still works" "$(echo after-forgery | nh1 timeout 20 socat -t 3 - TCP:203.0.113.3:8080)" after-forgery
rb=$(nrouter "$DNATCTL" --json router blocks)
check "the router still lists h1's block" jqe ".blocks[] | select(.host == \"10.0.0.1\" and .lowest == $lo1)" <<<"$rb" >/dev/null
rm -rf "$T"
