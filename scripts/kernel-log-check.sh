#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The test run's kernel-log check: prints the lines of a kernel log that
# report a bug, and exits 1 if there is one, 0 if there is none.
#
#   scripts/kernel-log-check.sh [FILE]      the log (default: standard input)
#   scripts/kernel-log-check.sh --self-test
#
# Exit status 2: the log could not be read.
#
# A report is a lockdep or RCU-lockdep splat, a KASAN, KFENCE or UBSAN
# report, an RCU stall, a WARN (both the "WARNING: CPU: N PID: N at" and
# the "WARNING: FILE:LINE at FUNC, CPU#N: COMM/PID" formats), a BUG, an
# Oops, a kernel panic (a Rust panic included), a hung task, or a kmemleak
# object report. The debug kernel's boot banners ("rcu: RCU lockdep
# checking is enabled.", "Lock dependency validator: ...", "kasan:
# KernelAddressSanitizer initialized", "kmemleak: Kernel memory leak
# detector initialized", ...) and other lines that only look like reports
# ("WARNING: CPU does not support IBPB.") are not. --self-test feeds both
# kinds of lines through the check and fails if any is misjudged; make
# host-test runs it. Documentation/testing.rst lists what is matched.
set -uo pipefail

# Extended regular expressions, matched case-sensitively anywhere in a line.
REPORTS=(
	# lockdep (older kernels said "INFO:" for some)
	'(WARNING|INFO): (possible circular locking dependency|possible recursive locking|inconsistent lock state|possible irq lock inversion|[A-Z]+-safe -> [A-Z]+-unsafe lock order|suspicious RCU usage|bad unlock balance|held lock freed|lock held when returning to user space|[Nn]ested lock was not taken|bad contention detected|chain_key collision)'
	'WARNING: .* still has locks held'
	'INFO: trying to register non-static key'
	'Disabling lock debugging due to kernel taint'
	# BUG: KASAN, KFENCE, sleeping function called from invalid context,
	# scheduling while atomic, Invalid wait context, soft lockup, NULL
	# pointer dereference, lockdep's "MAX_... too low", ...
	'(^|[^[:alnum:]_])BUG: '
	'kernel BUG at '
	'UBSAN: '
	# WARN(): up to 6.x, and from 7.x
	'WARNING: CPU: [0-9]+ PID: '
	'WARNING: (.+ )?at .+, CPU#[0-9]+: '
	# Oops, and the die counter of an oops or fault ("0000 [#1]")
	'(^|[^[:alnum:]_])Oops([^[:alnum:]_]|$)'
	': [0-9a-f]{4} \[#[0-9]+\]'
	'general protection fault'
	'Kernel panic - not syncing'
	'rust_kernel: panicked at '
	# RCU stalls (normal, expedited, tasks), hung tasks
	'rcu_[a-z_]+ (self-detected stall|detected (expedited )?stall)'
	'INFO: task .* blocked.* for more than [0-9]+ seconds'
	# kmemleak's report of an object (in the log when kmemleak is verbose)
	'unreferenced object'
)

# The log on stdin: prints the reports; grep's status (0: some, 1: none,
# 2: an error).
reports() {
	local args=() p
	for p in "${REPORTS[@]}"; do
		args+=(-e "$p")
	done
	LC_ALL=C grep -a -E "${args[@]}"
}

# Boot and test lines of the debug kernel that must not count (most as
# the kernel prints them; the "lockdep: ... classes" line stands for any
# informational line naming lockdep).
BENIGN=(
	$'[    0.000000] rcu: \tRCU lockdep checking is enabled.'
	'[    0.000000] rcu: RCU lockdep checking is enabled.'
	'[    0.000000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar'
	'[    0.000000] ... MAX_LOCKDEP_SUBCLASSES:  8'
	'[    0.000000] ... MAX_LOCK_DEPTH:          48'
	'[    0.000000] ... MAX_LOCKDEP_KEYS:        8192'
	'[    0.000000] ... CLASSHASH_SIZE:          4096'
	'[    0.000000] ... MAX_LOCKDEP_CHAINS:      65536'
	'[    0.000000]  memory used by lock dependency info: 6429 kB'
	'[    0.000000]  per task-struct memory footprint: 1920 bytes'
	'[    0.001000] lockdep: 1530 lock classes registered, class hash 4096'
	$'[    0.002000] rcu: \tTasks-RCU CPU stall warnings timeout set to 120000 (rcu_task_stall_timeout).'
	'[    0.002000] Running RCU synchronous self tests'
	'[    0.003000] kasan: KernelAddressSanitizer initialized (generic)'
	'[    0.450000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15732)'
	'[    0.450100] kmemleak: Automatic memory scanning thread started'
	'[    0.010000] WARNING: CPU does not support IBPB.'
	'[    0.010000] WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!'
	'[    0.020000] Good, all 261 testcases passed! |'
	'[    3.100000] dnat_router: loading out-of-tree module taints kernel.'
	'[    3.200000]     # Subtest: dnat_router'
	'[    3.300000]     ok 1 init_net_has_state'
	'[  200.000000] kmemleak: Automatic memory scanning thread ended'
	# The periodic scan's summary is left to guest.sh's own scan after
	# the modules are unloaded, which lists what is still unreferenced:
	# an object reported earlier and freed since was no leak.
	'[   60.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
)

# Report lines, one of each kind.
BAD=(
	'[  100.000001] WARNING: possible circular locking dependency detected'
	'[  100.000002] WARNING: possible recursive locking detected'
	'[  100.000003] WARNING: inconsistent lock state'
	'[  100.000004] WARNING: suspicious RCU usage'
	'[  100.000005] WARNING: possible irq lock inversion dependency detected'
	'[  100.000006] INFO: possible irq lock inversion dependency detected'
	'[  100.000007] WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected'
	'[  100.000008] WARNING: bad unlock balance detected!'
	'[  100.000009] WARNING: held lock freed!'
	'[  100.000010] WARNING: kworker/0:1/23 still has locks held!'
	'[  100.000011] INFO: trying to register non-static key.'
	'[  100.000012] Disabling lock debugging due to kernel taint'
	'[  100.000013] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580'
	'[  100.000014] BUG: scheduling while atomic: ip/123/0x00000002'
	'[  100.000015] BUG: Invalid wait context'
	'[  100.000016] BUG: KASAN: slab-out-of-bounds in pap_decode+0x1a/0x80 [dnat_router]'
	'[  100.000017] BUG: KFENCE: use-after-free read in nf_hook_slow+0x9c/0x100'
	'[  100.000018] BUG: MAX_LOCKDEP_KEYS too low!'
	'[  100.000019] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [ip:123]'
	'[  100.000020] BUG: kernel NULL pointer dereference, address: 0000000000000008'
	'[  100.000021] kernel BUG at rust/helpers/bug.c:7!'
	'[  100.000022] UBSAN: array-index-out-of-bounds in rust/dnat_router.rs:120:5'
	'[  100.000023] WARNING: CPU: 1 PID: 345 at net/netfilter/core.c:123 nf_hook_slow+0x9c/0x100'
	'[  100.000024] WARNING: net/netfilter/core.c:123 at nf_hook_slow+0x9c/0x100, CPU#1: ip/345'
	'[  100.000025] WARNING: at nf_hook_slow+0x9c/0x100, CPU#0: swapper/0/0'
	'[  100.000026] Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI'
	'[  100.000027] Oops: 0002 [#1] SMP'
	'[  100.000028] invalid opcode: 0000 [#1] PREEMPT SMP'
	'[  100.000029] general protection fault: 0000 [#2] SMP'
	'[  100.000030] Kernel panic - not syncing: Fatal exception in interrupt'
	'[  100.000031] rust_kernel: panicked at rust/dnat_router.rs:42:9:'
	'[  100.000032] rcu: INFO: rcu_preempt self-detected stall on CPU'
	'[  100.000033] INFO: rcu_sched self-detected stall on CPU'
	'[  100.000034] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:'
	'[  100.000035] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21 jiffies s: 553 root: 0x2/.'
	'[  100.000036] INFO: rcu_tasks detected stalls on tasks:'
	'[  100.000037] INFO: task ip:123 blocked for more than 120 seconds.'
	'unreferenced object 0xffff888012345678 (size 64):'
)

self_test() {
	local line bad=0 log got want rc
	for line in "${BENIGN[@]}"; do
		rc=0
		reports <<<"$line" >/dev/null || rc=$?
		if [ "$rc" != 1 ]; then
			echo "kernel-log-check: benign line judged a report (status $rc): $line" >&2
			bad=1
		fi
	done
	for line in "${BAD[@]}"; do
		rc=0
		reports <<<"$line" >/dev/null || rc=$?
		if [ "$rc" != 0 ]; then
			echo "kernel-log-check: report missed (status $rc): $line" >&2
			bad=1
		fi
	done
	# A whole log: exactly the reports come out, in order, and the exit
	# status says whether there was one.
	log=$(printf '%s\n' "${BENIGN[@]:0:12}" "${BAD[0]}" "${BENIGN[@]:12}" "${BAD[22]}")
	got=$(main <<<"$log")
	want=$(printf '%s\n' "${BAD[0]}" "${BAD[22]}")
	if [ "$got" != "$want" ]; then
		printf 'kernel-log-check: from a whole log, got:\n%s\nexpected:\n%s\n' "$got" "$want" >&2
		bad=1
	fi
	rc=0
	main <<<"$log" >/dev/null || rc=$?
	if [ "$rc" != 1 ]; then
		echo "kernel-log-check: a log with reports: status $rc, expected 1" >&2
		bad=1
	fi
	rc=0
	printf '%s\n' "${BENIGN[@]}" | main >/dev/null || rc=$?
	if [ "$rc" != 0 ]; then
		echo "kernel-log-check: a log of benign lines: status $rc, expected 0" >&2
		bad=1
	fi
	if [ "$bad" = 0 ]; then
		echo "kernel-log-check: ${#BENIGN[@]} benign lines pass, ${#BAD[@]} reports caught"
	fi
	return "$bad"
}

# The log on stdin: prints the reports; 1 if any, 0 if none, 2 if the
# log could not be read.
main() {
	local rc=0
	reports || rc=$?
	case $rc in
	0) return 1 ;;
	1) return 0 ;;
	*) return 2 ;;
	esac
}

case "${1:-}" in
--self-test)
	self_test
	;;
-h | --help)
	sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//'
	;;
'')
	main
	;;
*)
	[ -r "$1" ] || { echo "kernel-log-check: cannot read $1" >&2; exit 2; }
	main <"$1"
	;;
esac
