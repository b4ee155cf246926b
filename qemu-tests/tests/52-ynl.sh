#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The YNL specs (Documentation/netlink/specs/dnat_router.yaml and
# dnat_host.yaml) against the running modules, with a client nobody here
# wrote: the kernel's own YNL CLI, tools/net/ynl/pyynl/cli.py of the kernel
# source (qemu-tests/run.sh passes its path in as DNAT_KSRC). What it reads
# must be what dnatctl reads, what it sets dnatctl must see, and an error
# must come back with the module's extended ack. Then qemu-tests/ynl_policy.py
# (the same YNL library) compares the commands, the policy and the
# permissions generic netlink reports for each family with its spec.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   (dnat_host)   |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap cleanup_netns EXIT

# The YNL library needs PyYAML and jsonschema: Debian's python3 with
# python3-yaml and python3-jsonschema (scripts/setup-host.sh).
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
SPECS=$TOP/Documentation/netlink/specs
if [ -z "${DNAT_KSRC:-}" ] || [ ! -f "$DNAT_KSRC/tools/net/ynl/pyynl/cli.py" ]; then
	fail "the kernel source with tools/net/ynl is readable (DNAT_KSRC='${DNAT_KSRC:-}', set by qemu-tests/run.sh)"
	exit 1
fi
if ! $PY -c 'import yaml, jsonschema'; then
	fail "$PY imports yaml and jsonschema (python3-yaml, python3-jsonschema)"
	exit 1
fi
CLI=$DNAT_KSRC/tools/net/ynl/pyynl/cli.py
SCHEMA=$DNAT_KSRC/Documentation/netlink/$(sed -n 's/^protocol: //p' "$SPECS/dnat_router.yaml").yaml

# ynl NS FAMILY ARGS...: the kernel's YNL CLI on FAMILY's spec in NS, JSON
# out. The specs are validated once, below: each call skipping the schema
# saves seconds under TCG.
ynl() {
	local ns=$1 fam=$2
	shift 2
	n "$ns" "$PY" "$CLI" --spec "$SPECS/dnat_$fam.yaml" --no-schema --output-json "$@"
}

# expect_same DESC CMD1 CMD2: both commands print the same JSON (compared in
# canonical form). Tried up to three times a second apart: a host module
# may be renewing a block between the two reads.
expect_same() {
	local desc=$1 a b i
	for i in 1 2 3; do
		a=$(eval "$2" | jq -S -c .) || a="(failed)"
		b=$(eval "$3" | jq -S -c .) || b="(failed)"
		[ -n "$a" ] || a="(no output)"
		[ -n "$b" ] || b="(no output either)"
		[ "$a" = "$b" ] && break
		sleep 1
	done
	expect_eq "$desc" "$a" "$b"
}

for fam in router host; do
	check "the $fam spec validates against the kernel's schema (cli.py --validate)" \
		"$PY" "$CLI" --spec "$SPECS/dnat_$fam.yaml" --schema "$SCHEMA" --validate
done

topology
nrouter "$DNATCTL" router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff
check "h1 set up by scripts/host-up.sh (ports granted)" dnat_host_module h1
read -r slo _ < <(held_block h1 spis) || slo=
check "h1's module holds an SPI block" test -n "$slo"
slo=${slo:-4096}
# A translation for GET_SPTT: one UDP datagram from h1 to the Internet.
nh1 sh -c "echo x | socat -u - UDP-SENDTO:203.0.113.3:9999,sourceport=40123" 2>/dev/null || true

# -- dnat_router: reads
expect_same "router get-config (ynl --do) is dnatctl router show" \
	"ynl router router --do get-config | jq '{lan: {name: .\"lan-ifname\", ifindex: .\"lan-ifindex\"},
		wan: {name: .\"wan-ifname\", ifindex: .\"wan-ifindex\"}, public_addr: .\"public-addr\",
		ports: {min: .\"port-min\", max: .\"port-max\"}, spis: {min: .\"spi-min\", max: .\"spi-max\"},
		unowned, sa_policy: .\"sa-policy\", quota: {ports: .\"quota-ports\", spis: .\"quota-spis\"},
		hook_counters: (.\"hook-counters\" == 1), pap_rate: .\"pap-rate\", pap_auth: .\"pap-auth\"}'" \
	"nrouter \"\$DNATCTL\" --json router show | jq .config"
HOSTS_YNL='map({host: ."host-addr", revoked: (."host-revoked" // false), ports: ."host-ports",
	spis: ."host-spis", in: ."host-in-packets", out: ."host-out-packets", spoofed: ."host-spoofed",
	sa_dropped: ."host-sa-dropped", quota_ports: ."quota-ports", quota_spis: ."quota-spis",
	quota_own: (."quota-own" // false), auth: (."host-auth" // false),
	in_bytes: ."host-in-bytes", out_bytes: ."host-out-bytes", delivery}
	+ (if .lladdr then {lladdr} else {} end)) | sort_by(.host)'
expect_same "router get-hosts (ynl --dump) is dnatctl router hosts" \
	"ynl router router --dump get-hosts | jq '$HOSTS_YNL'" \
	"nrouter \"\$DNATCTL\" --json router hosts | jq '.hosts | sort_by(.host)'"
# (jq -e succeeds on empty input: what it reads is never empty here.)
out=$(ynl router router --dump get-hosts) || out=
check "get-hosts lists h1, authenticated" \
	jq -e '.[] | select(."host-addr" == "10.0.0.1" and ."host-auth" == true)' <<<"${out:-null}" >/dev/null
expect_same "router get-blocks (ynl --dump) is dnatctl router blocks" \
	"ynl router router --dump get-blocks | jq 'map({host: .\"host-addr\", kind: .\"block-kind\",
		lowest: .\"block-lowest\", count: .\"block-count\", expires: (.\"block-expires\" != null),
		pinned: .\"pin-secs\"}) | sort_by(.host, .kind, .lowest)'" \
	"nrouter \"\$DNATCTL\" --json router blocks | jq '.blocks | map({host, kind, lowest, count,
		expires: (.expires != null), pinned}) | sort_by(.host, .kind, .lowest)'"
expect_same "router get-pap-stats (ynl --dump) names the counters of dnatctl router stats, in order" \
	"ynl router router --dump get-pap-stats | jq 'map(.\"stat-name\")'" \
	"nrouter \"\$DNATCTL\" --json router stats | jq '.stats | keys_unsorted'"
expect_same "router get-counters (ynl --dump) is dnatctl router show's counters" \
	"ynl router router --dump get-counters | jq 'map({hook: ([\"prerouting\", \"input\", \"forward\",
		\"output\", \"postrouting\"][.hook] // \"hook \\(.hook)\"), packets})'" \
	"nrouter \"\$DNATCTL\" --json router show | jq .counters"

# -- dnat_router: set-config with a JSON argument, seen by dnatctl
check "ynl --do set-config with a JSON argument" ynl router router --do set-config --json \
	'{"unowned": "drop", "sa-policy": "permissive", "pap-rate": 7, "quota-ports": 100, "quota-spis": 64, "pap-auth": "optional", "public-addr": "203.0.113.30"}'
expect_eq "dnatctl router show sees what ynl set" \
	"$(nrouter "$DNATCTL" --json router show | jq -c '.config | [.unowned, .sa_policy, .pap_rate, .quota.ports, .quota.spis, .pap_auth, .public_addr]')" \
	'["drop","permissive",7,100,64,"optional","203.0.113.30"]'
check "ynl --do set-config puts the defaults back" ynl router router --do set-config --json \
	'{"unowned": "local", "sa-policy": "strict", "pap-rate": 0, "quota-ports": 4096, "quota-spis": 1024, "pap-auth": "required"}'
rc=0
out=$(ynl router router --do set-config --json '{"pap-rate": 5000}' 2>&1) || rc=$?
expect_eq "ynl set-config pap-rate 5000: refused, ERANGE and the module's extended ack" \
	"$rc $(grep -c 'the PAP rate limit is 0 (none) to 1000 requests a second' <<<"$out") $(grep -c 'Numerical result out of range' <<<"$out")" \
	"1 1 1"
expect_eq "the refused request changed nothing" "$(nrouter "$DNATCTL" --json router show | jq .config.pap_rate)" 0

# -- dnat_router: SAs, blacklist and quotas through ynl
check "ynl --do sa-validate (h1, peer ext, its SPI $slo)" ynl router router --do sa-validate --json \
	"{\"host-addr\": \"10.0.0.1\", \"peer-addr\": \"203.0.113.3\", \"spi\": $slo}"
expect_eq "dnatctl router sas lists the SA ynl validated" \
	"$(nrouter "$DNATCTL" --json router sas | jq -c .sas)" "[{\"host\":\"10.0.0.1\",\"peer\":\"203.0.113.3\",\"spi\":$slo}]"
expect_same "router get-sas (ynl --dump) is dnatctl router sas" \
	"ynl router router --dump get-sas | jq 'map({host: .\"host-addr\", peer: .\"peer-addr\", spi})'" \
	"nrouter \"\$DNATCTL\" --json router sas | jq .sas"
check "ynl --do sa-invalidate" ynl router router --do sa-invalidate --json \
	"{\"host-addr\": \"10.0.0.1\", \"peer-addr\": \"203.0.113.3\", \"spi\": $slo}"
expect_eq "the SA is gone for dnatctl" "$(nrouter "$DNATCTL" --json router sas | jq -c .sas)" "[]"
check "ynl --do blacklist-add (h1, peer ext2, any SPI)" ynl router router --do blacklist-add --json \
	'{"host-addr": "10.0.0.1", "peer-addr": "203.0.113.66"}'
expect_same "router get-blacklist (ynl --dump) is dnatctl router blacklist" \
	"ynl router router --dump get-blacklist | jq 'map({host: .\"host-addr\", peer: .\"peer-addr\", spi})'" \
	"nrouter \"\$DNATCTL\" --json router blacklist | jq .blacklist"
expect_eq "dnatctl lists the entry ynl added" "$(nrouter "$DNATCTL" --json router blacklist | jq -c .blacklist)" \
	'[{"host":"10.0.0.1","peer":"203.0.113.66","spi":null}]'
check "ynl --do blacklist-del" ynl router router --do blacklist-del --json \
	'{"host-addr": "10.0.0.1", "peer-addr": "203.0.113.66"}'
check "ynl --do set-quota (h1, 100 ports)" ynl router router --do set-quota --json \
	'{"host-addr": "10.0.0.1", "quota-ports": 100}'
expect_eq "dnatctl router hosts shows h1's own quota" \
	"$(nrouter "$DNATCTL" --json router hosts | jq -c '.hosts[] | select(.host == "10.0.0.1") | [.quota_ports, .quota_spis, .quota_own]')" \
	'[100,1024,true]'
check "ynl --do set-quota with host-addr alone (back to the default)" ynl router router --do set-quota --json \
	'{"host-addr": "10.0.0.1"}'
expect_same "router get-hosts after the quota changes (ynl --dump) is dnatctl router hosts" \
	"ynl router router --dump get-hosts | jq '$HOSTS_YNL'" \
	"nrouter \"\$DNATCTL\" --json router hosts | jq '.hosts | sort_by(.host)'"

# -- dnat_host, in h1
expect_same "host get-config (ynl --do) is dnatctl host show" \
	"ynl h1 host --do get-config | jq '{router_addr: .\"router-addr\", public_addr: .\"public-addr\",
		dev: {name: .\"lan-ifname\", ifindex: .\"lan-ifindex\"}, mode, tcp_timeout: .\"tcp-timeout\",
		udp_timeout: .\"udp-timeout\", port_block: .\"port-block\", epoch,
		hook_counters: (.\"hook-counters\" == 1),
		delivery,
		router_lladdr: .\"router-lladdr\"}'" \
	"nh1 \"\$DNATCTL\" --json host show | jq .config"
expect_same "host get-blocks (ynl --dump) is dnatctl host blocks" \
	"ynl h1 host --dump get-blocks | jq 'map({kind: .\"block-kind\", lowest: .\"block-lowest\",
		count: .\"block-count\", expires: (.\"block-expires\" != null), used: .\"block-used\"})
		| sort_by(.kind, .lowest)'" \
	"nh1 \"\$DNATCTL\" --json host blocks | jq '.blocks | map({kind, lowest, count,
		expires: (.expires != null), used}) | sort_by(.kind, .lowest)'"
out=$(ynl h1 host --dump get-blocks) || out=
check "host get-blocks has a port and an SPI block" \
	jq -e 'map(."block-kind") | index("ports") != null and index("spis") != null' <<<"${out:-null}" >/dev/null
expect_same "host get-sptt (ynl --dump) is dnatctl host sptt" \
	"ynl h1 host --dump get-sptt | jq 'map({proto: (if .proto == 6 then \"tcp\" elif .proto == 17 then \"udp\" elif .proto == 1 then \"icmp\" else .proto end),
		local_port: .\"local-port\", unique_port: .\"unique-port\", state: ((.\"flow-state\" // []) | sort)})
		| sort_by(.proto, .local_port)'" \
	"nh1 \"\$DNATCTL\" --json host sptt | jq '.translations | map({proto, local_port, unique_port,
		state: (.state | sort)}) | sort_by(.proto, .local_port)'"
# Sent again just before the dump: under a loaded TCG guest the reads
# above can outlast the translation's idle timeout.
nh1 sh -c "echo x | socat -u - UDP-SENDTO:203.0.113.3:9999,sourceport=40123" 2>/dev/null || true
out=$(ynl h1 host --dump get-sptt) || out=
check "get-sptt has the UDP translation of port 40123" \
	jq -e '.[] | select(.proto == 17 and ."local-port" == 40123)' <<<"${out:-null}" >/dev/null
expect_same "host get-stats (ynl --dump) names the counters of dnatctl host stats, in order" \
	"ynl h1 host --dump get-stats | jq 'map(.\"stat-name\")'" \
	"nh1 \"\$DNATCTL\" --json host stats | jq '.stats | keys_unsorted'"
check "ynl --do set-config on the host (tcp-timeout 600)" ynl h1 host --do set-config --json '{"tcp-timeout": 600}'
expect_eq "dnatctl host show sees it" "$(nh1 "$DNATCTL" --json host show | jq .config.tcp_timeout)" 600
check "ynl --do set-config on the host (tcp-timeout back to 7440)" ynl h1 host --do set-config --json '{"tcp-timeout": 7440}'
check "ynl --do set-config on the host (delivery by its enum name, direct)" \
	ynl h1 host --do set-config --json '{"delivery": "direct"}'
expect_eq "dnatctl host show sees delivery direct" "$(nh1 "$DNATCTL" --json host show | jq -r .config.delivery)" direct
check "ynl --do set-config on the host (delivery back to ipip)" ynl h1 host --do set-config --json '{"delivery": "ipip"}'
expect_eq "dnatctl host show sees delivery ipip" "$(nh1 "$DNATCTL" --json host show | jq -r .config.delivery)" ipip

# -- what generic netlink reports: commands, policy, permissions
for fam in router host; do
	ns=router
	[ "$fam" = host ] && ns=h1
	check "$fam: the commands, policy and attributes the module registers are the spec's (ynl_policy.py)" \
		n "$ns" "$PY" "$TOP/qemu-tests/ynl_policy.py" "$DNAT_KSRC" "$SPECS/dnat_$fam.yaml"
	check "$fam: without CAP_NET_ADMIN exactly the spec's uns-admin-perm commands fail with EPERM" \
		n "$ns" setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
		"$PY" "$TOP/qemu-tests/ynl_policy.py" "$DNAT_KSRC" "$SPECS/dnat_$fam.yaml" --unprivileged
done
