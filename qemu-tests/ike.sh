# SPDX-License-Identifier: GPL-2.0
#
# strongSwan helpers for the netns scenarios (sourced after lib.sh). Each
# charon runs in its own network namespace with a private directory for
# its configuration, vici socket and log, and a private /run (charon's pid
# file is fixed at /run/charon.pid). The configurations are the documented
# examples in Documentation/networking/examples/strongswan, filled in.

IKE_EXAMPLES="$TOP/Documentation/networking/examples/strongswan"
CHARON=/usr/lib/ipsec/charon

# ike_sock NS: the vici socket of NS's charon, on a guest-local file
# system (a socket cannot live on the 9p share that holds $T).
ike_sock() { echo "/dev/shm/dnat-ike-$1.vici"; }

# ike_fill TEMPLATE OUT KEY=VALUE...: OUT is TEMPLATE with every @KEY@
# replaced by VALUE.
ike_fill() {
	local tmpl=$1 out=$2 kv expr=()
	shift 2
	for kv in "$@"; do
		expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${expr[@]}" "$IKE_EXAMPLES/$tmpl" >"$out"
	! grep -n '@[A-Z_]*@' "$out"
}

# ike_start NS DIR: starts charon in NS with DIR/strongswan.conf and waits
# (up to 20 s) until its vici socket answers.
ike_start() {
	local ns=$1 dir=$2 i
	n "$ns" unshare -m sh -c "mount -t tmpfs none /run && \
		STRONGSWAN_CONF=$dir/strongswan.conf exec $CHARON" >"$dir/stdout" 2>&1 &
	pids+=($!)
	for i in $(seq 200); do
		ike_ctl "$ns" "$dir" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ike_ctl NS DIR ARGS...: swanctl against DIR's charon.
ike_ctl() {
	local ns=$1 dir=$2
	shift 2
	n "$ns" env STRONGSWAN_CONF="$dir/strongswan.conf" swanctl "$@"
}

# ike_load NS DIR: loads DIR/swanctl.conf (connections, secrets, and the
# credentials in DIR's x509*, pkcs8 directories).
ike_load() {
	ike_ctl "$1" "$2" --load-all --file "$2/swanctl.conf" >"$2/load.log" 2>&1 || {
		cat "$2/load.log"
		return 1
	}
}
