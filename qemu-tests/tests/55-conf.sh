#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Saved configurations (Documentation/networking/dnat-conf.rst): every
# kind of router and host setting made with set commands, printed by
# showconf, applied by setconf to modules loaded again (the text read back
# is the same); a bad line named and nothing changed; setconf replacing
# (hosts and settings the file leaves out go back to the defaults) and
# leaving blocks, SAs and blacklist entries alone; a refusal midway (the
# host table full) undone; direct delivery bindings saved and restored.
#
#   h1 10.0.0.1 --+                         +-- ext  203.0.113.3
#   dnat_host     |-- [lan] --- router ---- [inet] --|
#   h2 10.0.0.3 --+    10.0.0.7  lan0 | wan0  203.0.113.30  +-- ext2 203.0.113.66
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap cleanup_netns EXIT
topology
T=$(mktemp -d)
R() { nrouter "$DNATCTL" "$@"; }
H() { nh1 "$DNATCTL" "$@"; }
blocks() { R --json router blocks | jq -c '[.blocks[] | {host,kind,lowest,count}]'; }
got_ports() { wait_ports "$1" >/dev/null; }

# same DESC FILE1 FILE2: the two files are byte for byte the same.
same() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1: $(diff "$2" "$3" | tr '\n' '|')"
	fi
}

# conf_error DESC STATUS PREFIX CMD...: CMD exits with STATUS and its error
# line is "dnatctl: router setconf: " (or host) then PREFIX (FILE:LINE:
# reason).
conf_error() {
	local desc=$1 want=$2 prefix=$3 rc=0 err
	shift 3
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$desc (exit status $rc, expected $want: $err)"
	elif [[ $err != "dnatctl: "@(router|host)" setconf: $prefix"* ]]; then
		fail "$desc (expected 'dnatctl: ... setconf: $prefix...': $err)"
	else
		pass "$desc"
	fi
}

# -- every kind of setting, through the set commands
R router set lan lan0 wan wan0 public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff \
	unowned drop quota-ports 512 quota-spis 64 sa-policy permissive hook-counters on \
	pap-rate 50 pap-auth optional
R router quota 10.0.0.1 ports 100 spis 32
R router quota 10.0.0.9 spis 8
R router revoke 10.0.0.5
R router revoke 10.0.0.9
R router delivery 10.0.0.21 direct lladdr 02:00:00:00:00:21
R router delivery 10.0.0.22 direct
nh1 ip addr add 203.0.113.30/32 dev lo
H host set mode native tcp-timeout 600 udp-timeout 30 port-block 16 hook-counters on
H host set router 10.0.0.7 public 203.0.113.30 dev eth0

cat >"$T/router.want" <<'EOF'
[Router]
lan = lan0
wan = wan0
public = 203.0.113.30
ports = 20000-29999
spis = 0x1000-0x1fff
unowned = drop
quota-ports = 512
quota-spis = 64
sa-policy = permissive
hook-counters = on
pap-rate = 50
pap-auth = optional

[Host 10.0.0.1]
quota-ports = 100
quota-spis = 32

[Host 10.0.0.5]
revoked = yes

[Host 10.0.0.9]
quota-ports = 512
quota-spis = 8
revoked = yes

[Host 10.0.0.21]
delivery = direct
lladdr = 02:00:00:00:00:21

[Host 10.0.0.22]
delivery = direct
EOF
cat >"$T/host.want" <<'EOF'
[Host]
router = 10.0.0.7
public = 203.0.113.30
dev = eth0
mode = native
tcp-timeout = 600
udp-timeout = 30
port-block = 16
hook-counters = on
delivery = ipip
EOF
R router showconf >"$T/router.conf"
H host showconf >"$T/host.conf"
same "router showconf: every setting, the hosts' quotas, revocations and delivery" "$T/router.conf" "$T/router.want"
same "host showconf: every setting" "$T/host.conf" "$T/host.want"

# -- state is not configuration: blocks, an SA, a blacklist entry
check "h1 got ports" got_ports h1
for _ in $(seq 50); do H host request spis 16 2>/dev/null && break; sleep 0.2; done
read -r spi _ < <(held_block h1 spis)
check "admin validates an SA of h1" R router sa validate 10.0.0.1 203.0.113.3 "$spi"
check "admin blacklists a peer for h1" R router blacklist add 10.0.0.1 peer 203.0.113.66
R router showconf >"$T/router.now"
same "showconf leaves out blocks, SAs and blacklist entries" "$T/router.now" "$T/router.want"
b0=$(blocks) s0=$(R router sas) l0=$(R router blacklist)
check "setconf of the same file on the running router" R router setconf "$T/router.conf"
check "showconf | setconf - (the same text through a pipe)" \
	nrouter sh -c "$DNATCTL router showconf | $DNATCTL router setconf -"
R router showconf >"$T/router.now"
same "showconf after setconf prints the same text" "$T/router.now" "$T/router.want"
expect_eq "setconf left the blocks alone" "$(blocks)" "$b0"
expect_eq "setconf left the SA alone" "$(R router sas)" "$s0"
expect_eq "setconf left the blacklist alone" "$(R router blacklist)" "$l0"
check "host setconf of the same file through a pipe" \
	nh1 sh -c "$DNATCTL host showconf | $DNATCTL host setconf -"
H host showconf >"$T/host.now"
same "host showconf after setconf prints the same text" "$T/host.now" "$T/host.want"

# -- a bad line: named, exit status 2, nothing changes
f=$T/bad.conf
unchanged() {
	R router showconf >"$T/router.now"
	same "$1: router configuration unchanged" "$T/router.now" "$T/router.want"
}
# bad N TEXT: the router's file with line N replaced by TEXT.
bad() { awk -v n="$1" -v t="$2" 'NR == n {print t; next} {print}' "$T/router.conf" >"$f"; }
bad 5 "ports = 20000"
conf_error "syntax of a value: line 5 named" 2 "$f:5: ports: \"20000\" is not a range MIN-MAX" \
	R router setconf "$f"
unchanged "bad value"
bad 6 "spis = 1-100"
conf_error "a number outside its limit: line 6 named" 2 "$f:6: spis: \"1\" is out of range (256 to 4294967295)" \
	R router setconf "$f"
unchanged "reserved SPIs"
bad 6 "spis = 0x2000-0x1000"
conf_error "the kernel's rules, checked first: line 6 named" 2 "$f:6: spis: inverted SPI range" \
	R router setconf "$f"
unchanged "inverted SPIs"
bad 3 "wan = nosuch0"
conf_error "an interface that does not exist: line 3 named" 2 "$f:3: wan: no interface nosuch0" \
	R router setconf "$f"
unchanged "missing interface"
bad 17 "quota-spis = 0"
conf_error "a host's quota of 0: line 17 named" 2 "$f:17: quota-spis: \"0\" is out of range (1 to 4294967295)" \
	R router setconf "$f"
unchanged "quota 0"
bad 20 "revoked = maybe"
conf_error "a bad revocation: line 20 named" 2 "$f:20: revoked:" R router setconf "$f"
bad 28 "# delivery left out"
conf_error "lladdr without delivery = direct: line 29 named" 2 "$f:29: lladdr needs delivery = direct" \
	R router setconf "$f"
bad 29 "lladdr = 02:00:00:00:21"
conf_error "a bad lladdr: line 29 named" 2 "$f:29: lladdr: \"02:00:00:00:21\" is not an Ethernet address" \
	R router setconf "$f"
bad 14 "[Hots 10.0.0.1]"
conf_error "an unknown section: line 14 named" 2 "$f:14: unknown section [Hots]" R router setconf "$f"
conf_error "the same through stdin: <stdin>:14" 2 "<stdin>:14: unknown section" \
	nrouter "$DNATCTL" router setconf - <"$f"
bad 4 "# no public address"
conf_error "a setting the kernel cannot unset" 2 "$f:1: [Router] has no public: the module has public 203.0.113.30" \
	R router setconf "$f"
unchanged "public left out"
sed 's/^mode = native/mode = nat/' "$T/host.conf" >"$f"
conf_error "host: a bad mode: line 5 named" 2 "$f:5: mode: \"nat\" is not translate, native" \
	H host setconf "$f"
sed 's/^udp-timeout = 30/udp-timeout = 0/' "$T/host.conf" >"$f"
conf_error "host: a timeout outside its limit: line 7 named" 2 "$f:7: udp-timeout: \"0\" is out of range (1 to 86400)" \
	H host setconf "$f"
grep -v '^dev' "$T/host.conf" >"$f"
conf_error "host: dev left out" 2 "$f:1: [Host] has no dev" H host setconf "$f"
H host showconf >"$T/host.now"
same "host configuration unchanged" "$T/host.now" "$T/host.want"

# -- the kernel refuses midway (the host table is full): undone
{
	sed -e 's/^pap-rate = 50/pap-rate = 7/' -e 's/^unowned = drop/unowned = local/' \
		-e 's/^quota-ports = 100/quota-ports = 99/' "$T/router.conf" |
		awk '/^\[Host 10.0.0.5\]/ {skip = 1; next} /^\[/ {skip = 0} !skip'
	for i in $(seq 300); do
		printf '\n[Host 10.1.%d.%d]\nquota-ports = 10\n' $((i / 200)) $((i % 200 + 1))
	done
} >"$f"
rc=0
err=$(R router setconf "$f" 2>&1 >/dev/null) || rc=$?
expect_eq "a full host table midway: exit status 1" "$rc" 1
check "... the kernel's reason is printed ($err)" grep -q "the host table is full" <<<"$err"
check "... and that the configuration is as it was" grep -q "the configuration is as it was before setconf" <<<"$err"
line=$(sed -n 's/^dnatctl: router setconf: [^:]*:\([0-9]*\): .*/\1/p' <<<"$err")
check "... naming the section of the host refused (line $line)" \
	grep -q '^\[Host 10\.1\.' < <(sed -n "${line:-0}p" "$f")
unchanged "refused midway (settings, a readmission, a quota put back)"
expect_eq "10.0.0.5 is revoked again" "$(R --json router hosts | jq -r '.hosts[] | select(.host == "10.0.0.5") | .revoked')" true

# -- setconf replaces: what the file leaves out goes back to the defaults
cat >"$f" <<'EOF'
# h1 back on the default quota, 10.0.0.5 and 10.0.0.9 readmitted, a new
# host with its own quota; the settings left out at their defaults.
[Router]
lan = lan0
wan = wan0
public = 203.0.113.30
ports = 20000-29999
spis = 0x1000-0x1fff
quota-spis = 48

[Host 10.0.0.3]
quota-ports = 20
EOF
cat >"$T/replaced.want" <<'EOF'
[Router]
lan = lan0
wan = wan0
public = 203.0.113.30
ports = 20000-29999
spis = 0x1000-0x1fff
unowned = local
quota-ports = 4096
quota-spis = 48
sa-policy = strict
hook-counters = off
pap-rate = 0
pap-auth = required

[Host 10.0.0.3]
quota-ports = 20
quota-spis = 48
EOF
check "setconf of a smaller file" R router setconf "$f"
R router showconf >"$T/router.now"
same "the router has exactly the file's configuration" "$T/router.now" "$T/replaced.want"
hosts=$(R --json router hosts)
expect_eq "h1 is back on the default quota" \
	"$(jq -c '.hosts[] | select(.host == "10.0.0.1") | [.quota_own, .quota_ports, .quota_spis]' <<<"$hosts")" \
	"[false,4096,48]"
expect_eq "no host is revoked any more" "$(jq '[.hosts[] | select(.revoked)] | length' <<<"$hosts")" 0
expect_eq "the SA of h1 stayed" "$(R router sas)" "$s0"
check "setconf of the saved file again" R router setconf "$T/router.conf"
R router showconf >"$T/router.now"
same "... and the saved configuration is back" "$T/router.now" "$T/router.want"
printf '[Host]\nrouter = 10.0.0.7\npublic = 203.0.113.30\ndev = eth0\n' >"$f"
check "host setconf of a smaller file" H host setconf "$f"
expect_eq "the host's other settings are at their defaults" "$(H host showconf)" \
	"$(printf '[Host]\nrouter = 10.0.0.7\npublic = 203.0.113.30\ndev = eth0\nmode = translate\ntcp-timeout = 7440\nudp-timeout = 180\nport-block = 64\nhook-counters = off\ndelivery = ipip')"
check "host setconf of the saved file again" H host setconf "$T/host.conf"

# -- modules loaded again: setconf of the saved files gives the same text
check "rmmod dnat_host" rmmod dnat_host
check "rmmod dnat_router" rmmod dnat_router
check "insmod dnat_router" insmod "$TOP/rust/dnat_router.ko"
check "insmod dnat_host" insmod "$TOP/rust/dnat_host.ko"
expect_eq "a router module just loaded: the defaults setconf uses" "$(R router showconf)" \
	"$(printf '[Router]\nunowned = local\nquota-ports = 4096\nquota-spis = 1024\nsa-policy = strict\nhook-counters = off\npap-rate = 0\npap-auth = required')"
expect_eq "a host module just loaded: the defaults setconf uses" "$(H host showconf)" \
	"$(printf '[Host]\nmode = translate\ntcp-timeout = 7440\nudp-timeout = 180\nport-block = 64\nhook-counters = off\ndelivery = ipip')"
check "router setconf of the saved file" R router setconf "$T/router.conf"
check "host setconf of the saved file" H host setconf "$T/host.conf"
R router showconf >"$T/router.now"
H host showconf >"$T/host.now"
same "router: showconf after setconf on a fresh module is the saved text" "$T/router.now" "$T/router.want"
same "host: showconf after setconf on a fresh module is the saved text" "$T/host.now" "$T/host.want"
check "h1 gets ports from the restored router" got_ports h1
expect_eq "the revoked hosts are revoked again" \
	"$(R --json router hosts | jq -c '[.hosts[] | select(.revoked) | .host]')" '["10.0.0.5","10.0.0.9"]'
expect_eq "the direct hosts are direct again, bound or learning" \
	"$(R --json router hosts | jq -c '[.hosts[] | select(.delivery == "direct") | [.host, .lladdr]]')" \
	'[["10.0.0.21","02:00:00:00:00:21"],["10.0.0.22",null]]'
