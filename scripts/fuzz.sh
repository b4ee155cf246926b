#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the cargo-fuzz targets of dnat-core (rust/dnat-core/fuzz) and
# dnatctl (userspace-tool/fuzz) and runs them, one after the other, niced.
#
#   scripts/fuzz.sh [-t SECONDS | -r RUNS] [TARGET...]
#
# Each target runs for SECONDS (default 5: `make fuzz-smoke`, part of
# `make check`) or for RUNS executions. Without TARGETs, all of them. A
# target that does not build, or the first crash (a panic, an overflow, a
# failed assertion, a timeout), ends the script with non-zero status; the
# crashing input is in the crate's fuzz/artifacts/TARGET/ and the run's log
# in fuzz/target/TARGET.log, whose end is printed. For each run it prints
# libFuzzer's last line: executions, seconds, executions per second.
# Corpora stay in fuzz/corpus/TARGET (not in git).
#
# cargo-fuzz (installed by scripts/setup-host.sh into $DNAT_CACHE/bin)
# passes nightly-only flags to rustc (-Zsanitizer, sancov); the stable
# toolchain accepts them with RUSTC_BOOTSTRAP=1. dnat-core's targets are
# built without a sanitizer (the crate forbids unsafe code: ASan has
# nothing to find and makes them 3 times slower), dnatctl's with
# AddressSanitizer (its dependencies have unsafe code). Both keep
# optimisations with debug assertions and overflow checks on (cargo-fuzz's
# default).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: scripts/fuzz.sh [-t SECONDS | -r RUNS] [TARGET...]" >&2
	exit 2
}

LIMIT=(-max_total_time=5)
while getopts t:r: o; do
	case $o in
	t) [[ $OPTARG =~ ^[1-9][0-9]*$ ]] || usage; LIMIT=(-max_total_time="$OPTARG") ;;
	r) [[ $OPTARG =~ ^[1-9][0-9]*$ ]] || usage; LIMIT=(-runs="$OPTARG" -max_total_time=0) ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

CORE=rust/dnat-core/fuzz
CLI=userspace-tool/fuzz
declare -A DIR=([pap_decode]=$CORE [pap_auth]=$CORE [router_classify]=$CORE [nl_config]=$CORE
	[icmp_quote]=$CORE [nl_reply]=$CLI [ca_wire]=$CLI)
declare -A SAN=([$CORE]=none [$CLI]=address)
ALL=(pap_decode pap_auth router_classify nl_config icmp_quote nl_reply ca_wire)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
	[ -n "${DIR[$t]:-}" ] || die "unknown fuzz target $t (known: ${ALL[*]})"
done

export PATH="$DNAT_CACHE/bin:$PATH" RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null ||
	die "cargo-fuzz is not in $DNAT_CACHE/bin: run make setup (or scripts/setup-host.sh)"

cd "$DNAT_TOP"
# Build every target of each crate that has one to run.
for dir in $CORE $CLI; do
	need=0
	for t in "${TARGETS[@]}"; do
		[ "${DIR[$t]}" != "$dir" ] || need=1
	done
	[ $need = 1 ] || continue
	step "fuzz: building the targets of $dir (sanitizer: ${SAN[$dir]})"
	(cd "$dir" && nice -n 19 cargo fuzz build -s "${SAN[$dir]}") ||
		die "fuzz targets of $dir do not build"
done

for t in "${TARGETS[@]}"; do
	dir=${DIR[$t]}
	log=$dir/target/$t.log
	mkdir -p "$dir/target"
	step "fuzz: $t (${LIMIT[*]})"
	if ! (cd "$dir" && nice -n 19 cargo fuzz run -s "${SAN[$dir]}" "$t" -- \
		"${LIMIT[@]}" -print_final_stats=1) >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "fuzz target $t failed; input in $dir/artifacts/$t/, log in $log"
	fi
	grep -a -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1
	grep -a -E '^Done [0-9]+ runs' "$log" | tail -n 1
done
