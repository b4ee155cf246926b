#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the dnat kernel in QEMU (virtme-ng, TCG, no network device), and runs
# qemu-tests/guest.sh inside: KUnit suites of the modules, then every
# scenario in qemu-tests/tests/ (or the demo with --demo).
# Prints "N passed, M failed" and exits non-zero on any failure.
#
#   qemu-tests/run.sh [--demo|--bench] [SCENARIO...]
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

mode=check
case "${1:-}" in
--demo) mode=demo; shift ;;
--bench) mode=bench; shift ;;
esac
variant=current
# The whole guest run's time limit, in seconds: the full check took about
# 2,000 s on 2 cores before 46-icmp-ipip and 47-icmp-ipsec added about
# 400 s. The debug kernel (KASAN, lockdep, kmemleak) is about three
# times slower: KUnit and the scenarios up to 52-ynl took 108 minutes on
# 2 cores, so its full check needs about three hours. The five
# direct-delivery scenarios (41, 42, 61, 62, 63) add about 20 minutes.
limit=5400
if [ "${DNAT_DEBUG:-0}" = 1 ]; then
	variant=current-debug
	limit=18000
fi
KDIR=${KDIR:-$DNAT_CACHE/kernel/$variant}
[ -f "$KDIR/arch/x86/boot/bzImage" ] || die "no built kernel in $KDIR (run make setup)"
for m in rust/dnat_router.ko rust/dnat_host.ko userspace-tool/target/release/dnatctl; do
	[ -e "$DNAT_TOP/$m" ] || die "$m is not built (run make)"
done

OUT=$DNAT_TOP/qemu-tests/out
rm -rf "$OUT"
mkdir -p "$OUT/bin"
# The guest runs a copy of dnatctl: a rebuild on the host during a run
# must not replace the binary under it.
cp "$DNAT_TOP/userspace-tool/target/release/dnatctl" "$OUT/bin/dnatctl"
# The pristine kernel source, whose YNL CLI the 52-ynl scenario runs; the
# guest reads its path from $OUT/kernel-src (it sees the host's files
# read-only). Without it that scenario fails, the others run.
if ksrc=$("$DNAT_TOP/scripts/build-kernel.sh" --source); then
	echo "$ksrc" >"$OUT/kernel-src"
else
	step "qemu: no kernel source (scripts/build-kernel.sh --source failed); 52-ynl will fail"
fi
step "qemu: booting $(cat "$KDIR/.dnat-version" 2>/dev/null) under TCG ($mode, at most $limit s)"
set +e
timeout --foreground "$limit" vng --disable-kvm --run "$KDIR" --cpus 2 --memory 2G \
	--rwdir "$OUT" --cwd "$DNAT_TOP" \
	--exec "$DNAT_TOP/qemu-tests/guest.sh $mode $OUT $*" 2>&1 | tee "$OUT/console.log"
rc=${PIPESTATUS[0]}
set -e
step "qemu: guest exited with status $rc"
[ "$rc" != 124 ] || step "qemu: the guest was stopped at its time limit of $limit s"
if [ "$mode" = bench ]; then
	# The ratios, last (also when only a part ran: --bench host, icmp).
	grep -a -E '^(router|host)_[a-z_]+=[0-9]' "$OUT/console.log" | tail -1 | tr -d '\r'
fi
if [ "$mode" = demo ]; then
	# The verdict, last; the demo fails without an ok one.
	verdict=$(grep -a '^verdict: ' "$OUT/console.log" | tail -1 | tr -d '\r')
	echo "${verdict:-verdict: FAIL attack_packets_delivered=? legit_bytes_ok=no}"
	case $verdict in
	"verdict: ok "*) ;;
	*) [ "$rc" != 0 ] || rc=1 ;;
	esac
fi
if [ "$mode" != check ]; then
	exit "$rc"
fi
if [ ! -s "$OUT/results" ]; then
	echo "0 passed, 1 failed (the guest produced no results)"
	exit 1
fi
passed=$(grep -c '^ok ' "$OUT/results" || true)
failed=$(grep -c '^not ok ' "$OUT/results" || true)
if [ "$rc" = 124 ]; then
	echo "not ok guest stopped at its time limit of $limit s (status 124)" >>"$OUT/results"
	failed=$((failed + 1))
elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	echo "not ok guest exited with status $rc" >>"$OUT/results"
	failed=1
fi
grep '^not ok ' "$OUT/results" || true
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
