#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The dnat demo, run inside the QEMU guest by `make demo`.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#                 |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
#
# Loads both modules, builds the topology, configures the router and both
# hosts through dnatctl, sends traffic, and shows tables and counters.
set -euo pipefail
SCENARIO=demo
DNAT_RESULTS=${DNAT_RESULTS:-/dev/null}
. "$(dirname "$0")/lib.sh"
trap cleanup_netns EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '%s# %s\n' "${NS:+[$NS] }" "$*"; if [ -n "${NS:-}" ]; then n "$NS" "$@"; else "$@"; fi; }

say "Loading the modules (their KUnit suites run at load)"
run modprobe -a nf_defrag_ipv4 ipip
run insmod "$TOP/rust/dnat_router.ko"
run insmod "$TOP/rust/dnat_host.ko"
grep -h -E '^\s*(ok|not ok) ' /sys/kernel/debug/kunit/dnat_*/results | sed 's/^/    kunit: /'

say "Building the SPEC.md topology in network namespaces"
topology
ip netns list | sed 's/^/    /'

say "Configuring the router (namespace router)"
NS=router run "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
NS=router run "$DNATCTL" router show

say "Configuring the hosts"
NS=h1 run "$DNATCTL" host set router 10.0.0.7 public 203.0.113.30
NS=h2 run "$DNATCTL" host set router 10.0.0.7 public 203.0.113.30
NS=h1 run "$DNATCTL" host show

say "Bad input is refused with a precise error and changes nothing"
NS=router run "$DNATCTL" router set spis 1-1000 || echo "    (exit status $?)"
NS=router run "$DNATCTL" router set lan nosuch0 || echo "    (exit status $?)"
NS=router run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$DNATCTL" router set ports 1-2 || echo "    (exit status $?)"

say "Traffic: h1 and h2 ping the server in ext through the router"
NS=h1 run ping -c 3 -i 0.2 203.0.113.3 | tail -2
NS=h2 run ping -c 3 -i 0.2 203.0.113.3 | tail -2

say "The router's hooks counted it"
NS=router run "$DNATCTL" router show
NS=router run "$DNATCTL" --json router show
