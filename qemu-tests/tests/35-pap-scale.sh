#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Thousands of table entries: 150 hosts (addresses of h1) ask for 16
# one-port blocks each; the router's block and host dumps (multi-part
# netlink dumps) list all 2,400 blocks and 150 hosts, disjoint.
#
#   h1 10.0.0.1, 10.0.0.100-249 --+
#                                 |-- [lan] --- router 10.0.0.7
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap cleanup_netns EXIT
topology
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
for a in $(seq 100 249); do nh1 ip addr add 10.0.0.$a/24 dev eth0; done
nh1 python3 "$TOP/qemu-tests/pap_flood.py" 10.0.0.7 100 249 16
sleep 2
b=$(nrouter "$DNATCTL" --json router blocks)
expect_eq "2400 blocks listed by a multi-part dump" "$(jq '.blocks | length' <<<"$b")" 2400
expect_eq "150 hosts with 16 blocks each" \
	"$(jq -c '[.blocks | group_by(.host)[] | length] | unique' <<<"$b")" '[16]'
expect_eq "150 hosts listed" "$(nrouter "$DNATCTL" --json router hosts | jq '.hosts | length')" 150
expect_eq "2400 distinct ports, all in the pool" \
	"$(jq '[.blocks[] | select(.lowest >= 20000 and .lowest <= 29999) | .lowest] | unique | length' <<<"$b")" 2400
expect_eq "the PAP server granted 2400 times" \
	"$(nrouter "$DNATCTL" --json router stats | jq .stats.granted)" 2400
