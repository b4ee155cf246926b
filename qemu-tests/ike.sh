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

# ike_host_conf NS DIR IKE_PORT SPI_MIN SPI_MAX: DIR/strongswan.conf of a
# host whose IKE runs from IKE_PORT (its NAT-T port the next one) and whose
# inbound SPIs come from SPI_MIN..SPI_MAX (decimal).
ike_host_conf() {
	ike_fill host-strongswan.conf "$2/strongswan.conf" DIR="$2" SOCK="$(ike_sock "$1")" IKE_PORT="$3" \
		IKE_PORT_NATT=$(($3 + 1)) SPI_MIN="$(printf 0x%x "$4")" SPI_MAX="$(printf 0x%x "$5")"
}

# ike_host_cert NS DIR CERTS IKE_PORT SPI_MIN SPI_MAX APP_PORT PSK: a host
# authenticating with the certificate in CERTS (cert.pem, key.pem, ca.pem
# from `dnatctl cert request --out CERTS`) to the responder, which proves
# itself with PSK; its CHILD_SA covers APP_PORT. Starts its charon and
# loads everything; fails if either step does.
ike_host_cert() {
	local ns=$1 dir=$2 certs=$3
	mkdir -p "$dir/x509" "$dir/x509ca" "$dir/pkcs8"
	cp "$certs/cert.pem" "$dir/x509/cert.pem"
	cp "$certs/ca.pem" "$dir/x509ca/ca.pem"
	cp "$certs/key.pem" "$dir/pkcs8/key.pem"
	ike_host_conf "$ns" "$dir" "$4" "$5" "$6"
	ike_fill host-swanctl-cert.conf "$dir/swanctl.conf" PUBLIC=203.0.113.30 PEER=203.0.113.3 \
		PEER_ID=ext.dnat.test APP_PORT="$7" SECRET="$8"
	ike_start "$ns" "$dir" && ike_load "$ns" "$dir"
}
