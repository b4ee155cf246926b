#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the QEMU guest (started by qemu-tests/run.sh):
#   guest.sh check OUT [SCENARIO...]   KUnit suites + scenarios, results in OUT/results
#   guest.sh demo OUT                  the demo
set -uo pipefail
mode=$1 out=$2
shift 2
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP DNAT_RESULTS=$out/results DNATCTL=$out/bin/dnatctl
: >"$DNAT_RESULTS"
cd "$TOP"
SCENARIO=guest
. "$TOP/qemu-tests/lib.sh"

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mkdir -p /run/netns
# The guest sees the host root read-only (and the checkout may live under
# /tmp): scratch space for the scenarios is in the shared output directory.
export TMPDIR=$out/tmp
mkdir -p "$TMPDIR"
# dnatctl pap keeps its PAP keys there (one file per host address).
export DNAT_PAP_KEYS=$out/pap-keys
# The kernel source (its YNL CLI, for 52-ynl), as run.sh found it.
DNAT_KSRC=$(cat "$out/kernel-src" 2>/dev/null || true)
export DNAT_KSRC
echo "guest: $(uname -r), $(nproc) CPUs"

if [ "$mode" = demo ]; then
	exec bash "$TOP/qemu-tests/demo.sh"
fi
if [ "$mode" = bench ]; then
	exec bash "$TOP/qemu-tests/bench.sh" "$@"
fi

# The guest must have no way out: only the loopback device exists.
expect_eq "guest has no network device but lo" "$(ls /sys/class/net | tr '\n' ' ')" "lo "

# The router module uses nf_defrag_ipv4 (reassembly before its hooks);
# hosts without the host module use the kernel's ipip tunnels.
check "modprobe nf_defrag_ipv4 and ipip" modprobe -a nf_defrag_ipv4 ipip

# Load the modules: their KUnit suites run at load time.
check "insmod dnat_router.ko" insmod "$TOP/rust/dnat_router.ko"
check "insmod dnat_host.ko" insmod "$TOP/rust/dnat_host.ko"

# KUnit: every test case of both suites must be "ok".
for suite in dnat_router dnat_host; do
	f=/sys/kernel/debug/kunit/$suite/results
	if [ ! -r "$f" ]; then
		fail "kunit suite $suite ran (no $f)"
		continue
	fi
	cases=$(grep -cE '^\s+ok [0-9]+ ' "$f" || true)
	bad=$(grep -E '^\s+not ok [0-9]+ ' "$f" || true)
	if [ -n "$bad" ] || [ "$cases" = 0 ]; then
		fail "kunit suite $suite: $cases ok; failures: $bad"
		cat "$f"
	else
		pass "kunit suite $suite: all $cases test cases ok"
	fi
	check "kunit suite $suite summary line is ok" grep -qE "^ok [0-9]+ $suite" "$f"
done

# Scenarios: each runs in its own shell; a scenario that aborts (set -e)
# counts as a failure.
scenarios=("$@")
if [ ${#scenarios[@]} = 0 ]; then
	scenarios=("$TOP"/qemu-tests/tests/*.sh)
fi
for t in "${scenarios[@]}"; do
	[ -f "$t" ] || t=$TOP/qemu-tests/tests/$t.sh
	name=$(basename "$t" .sh)
	echo "== scenario $name"
	rm -rf "$DNAT_PAP_KEYS"
	if ! SCENARIO=$name bash "$t"; then
		fail "scenario $name ran to completion"
	fi
done

# With the debug kernel, a kmemleak scan after everything was unloaded.
if [ -w /sys/kernel/debug/kmemleak ]; then
	rmmod dnat_host dnat_router 2>/dev/null || true
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(cat /sys/kernel/debug/kmemleak)
	expect_eq "kmemleak finds no leaked object" "$(grep -c 'unreferenced object' <<<"$leaks")" 0
	[ -z "$leaks" ] || echo "$leaks" | head -40
fi

# Nothing in the kernel log that reports a bug: lockdep, KASAN, UBSAN, RCU
# stalls, WARN, BUG, Oops, kmemleak (scripts/kernel-log-check.sh says what
# counts; the debug kernel's boot banners do not).
dmesg >"$out/dmesg"
rc=0
"$TOP/scripts/kernel-log-check.sh" "$out/dmesg" >"$out/dmesg-bad" || rc=$?
case $rc in
0) pass "kernel log free of BUG/WARNING/Oops/sanitizer reports" ;;
1)
	fail "kernel log free of BUG/WARNING/Oops/sanitizer reports"
	cat "$out/dmesg-bad"
	;;
*) fail "kernel log check ran (status $rc)" ;;
esac
echo "guest: $(grep -c '^ok ' "$DNAT_RESULTS") passed, $(grep -c '^not ok ' "$DNAT_RESULTS") failed"
