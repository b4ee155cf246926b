/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dnat: distributed NAT with IPsec and denial-of-service control.
 *
 * Generic netlink interfaces of the dnat kernel modules. The Rust side of
 * this file is rust/dnat-core/src/uapi.rs; `cargo test` checks that both
 * agree. Documentation/networking/dnat-netlink.rst describes every command.
 *
 * Two families, one per module, both per network namespace:
 *
 *   DNAT_ROUTER_GENL_NAME ("dnat_router")  on the router
 *   DNAT_HOST_GENL_NAME   ("dnat_host")    on a host
 *
 * Commands that change state (SET_*) need CAP_NET_ADMIN in the user
 * namespace that owns the caller's network namespace. All commands use
 * strict attribute validation: unknown attributes, attributes of the wrong
 * length and output-only attributes in a request are refused with EINVAL.
 * Errors carry an extended ack message and, where one attribute is at
 * fault, its offset (NLMSGERR_ATTR_OFFS).
 *
 * Router commands
 * ---------------
 * DNAT_ROUTER_CMD_GET_CONFIG (doit): replies with the configured values;
 *   unset values are left out. An interface comes with its name and the
 *   index it had when it was set.
 * DNAT_ROUTER_CMD_SET_CONFIG (doit, admin): any subset of LAN_IFNAME,
 *   WAN_IFNAME, PUBLIC_ADDR, PORT_MIN + PORT_MAX, SPI_MIN + SPI_MAX. The
 *   whole request is checked before anything changes:
 *     EINVAL  malformed interface name, LAN equal to WAN, public address not
 *             unicast, a range given by one bound only, an inverted range
 *             (MIN > MAX), an empty port range (0-0), an *_IFINDEX attribute
 *     ERANGE  a port range containing port 0, an SPI range below 256 (SPIs
 *             0..255 are reserved), a PAP_RATE above 1000
 *     ENODEV  no interface of that name in the caller's namespace
 *     EPERM   caller lacks CAP_NET_ADMIN
 * DNAT_ROUTER_CMD_GET_COUNTERS (dumpit): one message per IPv4 hook point
 *   with HOOK and PACKETS. Packets are counted while the HOOK_COUNTERS
 *   setting is 1 (SET_CONFIG; 0 by default, EINVAL for other values): the
 *   module then has hooks of its own at the points its data path does not
 *   use, each a hook call per packet, so counting is off unless asked for.
 * DNAT_ROUTER_CMD_GET_BLOCKS (dumpit): one message per allocated block
 *   (ports or SPIs) with HOST_ADDR, BLOCK_KIND, BLOCK_LOWEST, BLOCK_COUNT,
 *   BLOCK_EXPIRES (if the lease expires) and HOST_REVOKED (if revoked).
 * DNAT_ROUTER_CMD_GET_PAP_STATS (dumpit): one message per counter of the
 *   PAP server and the data path, with STAT_NAME and STAT_VALUE.
 * DNAT_ROUTER_CMD_GET_HOSTS (dumpit): one message per host with HOST_ADDR,
 *   HOST_REVOKED (flag), HOST_PORTS, HOST_SPIS, HOST_IN_PACKETS,
 *   HOST_OUT_PACKETS, HOST_SPOOFED, HOST_SA_DROPPED, QUOTA_PORTS,
 *   QUOTA_SPIS and QUOTA_OWN (flag).
 * DNAT_ROUTER_CMD_REVOKE_HOST (doit, admin): HOST_ADDR. Invalidates all the
 *   host holds, tells it so, and refuses it service (PAP, its ESP/AH) until
 *   readmitted; an unknown host is entered as revoked. EINVAL without a
 *   unicast HOST_ADDR, ENOSPC when the host table is full.
 * DNAT_ROUTER_CMD_READMIT_HOST (doit, admin): HOST_ADDR. ENOENT if unknown.
 * DNAT_ROUTER_CMD_RESET (doit, admin): invalidates every allocation, starts
 *   a new router epoch and broadcasts invalidate-all on the LAN.
 * SET_CONFIG also takes UNOWNED: what happens to inbound packets for ports
 *   and SPIs nobody owns (EINVAL for an unknown value), and QUOTA_PORTS and
 *   QUOTA_SPIS, the most a host may hold at once (EINVAL for 0); requests
 *   beyond a quota are cut to it, then refused (PAP reason over_quota).
 *   GET_CONFIG reports both quotas in effect.
 * SET_CONFIG also takes SA_POLICY (enum dnat_sa_policy; EINVAL if unknown).
 * DNAT_ROUTER_CMD_GET_SAS (dumpit): one message per established SA with
 *   HOST_ADDR, PEER_ADDR and SPI.
 * DNAT_ROUTER_CMD_SA_VALIDATE, DNAT_ROUTER_CMD_SA_INVALIDATE (doit, admin):
 *   HOST_ADDR, PEER_ADDR, SPI: what the host's PAP 34/0 and 35/0 do.
 *   ENOENT for an unknown host or (invalidate) SA, EINVAL for a peer
 *   address that is not a unicast external address, EPERM for an SPI the
 *   host does not hold, ENOSPC when the table is full, EDQUOT when the
 *   host has its most SAs (256) or blacklist entries (16).
 * DNAT_ROUTER_CMD_GET_BLACKLIST (dumpit): one message per entry with
 *   HOST_ADDR and PEER_ADDR and/or SPI (an absent one matches any).
 * DNAT_ROUTER_CMD_BLACKLIST_ADD, DNAT_ROUTER_CMD_BLACKLIST_DEL (doit,
 *   admin): HOST_ADDR with PEER_ADDR and/or SPI; errors as for SAs.
 *   Inbound ESP/AH is delivered to the SPI's owner only if (SA_POLICY
 *   strict) its (source, SPI) is validated for that owner, and never if it
 *   matches one of the owner's blacklist entries.
 * DNAT_ROUTER_CMD_PIN_BLOCK (doit, admin): HOST_ADDR, BLOCK_KIND,
 *   BLOCK_LOWEST, BLOCK_COUNT and PIN_SECS. Binds a block the host holds
 *   (the range must lie inside one of its blocks, else ENOENT; EPERM if
 *   another host holds it) for PIN_SECS seconds from now, the life of a
 *   certificate naming it: the lease does not end before the pin does,
 *   and the host cannot give the block back (its release is refused with
 *   reason "pinned") until then. PIN_SECS 0 removes the pin. The host's
 *   own invalidate-all, revoking the host or a reset drop pinned blocks.
 *   GET_BLOCKS reports PIN_SECS, the seconds a pin has left.
 * DNAT_ROUTER_CMD_SET_QUOTA (doit, admin): HOST_ADDR with QUOTA_PORTS
 *   and/or QUOTA_SPIS gives the host its own quota (the one left out keeps
 *   the value in effect for the host); HOST_ADDR alone puts the host back
 *   on the default quota of SET_CONFIG. EINVAL for a quota of 0 or without
 *   a unicast HOST_ADDR, ENOSPC when the host table is full (a host the
 *   router does not know yet takes a slot to keep its quota). Lowering a
 *   quota takes nothing back: the host's requests fail until it holds less.
 *   GET_HOSTS reports QUOTA_PORTS and QUOTA_SPIS in effect for every host,
 *   and the flag QUOTA_OWN for a host with its own.
 *
 * Host commands
 * -------------
 * DNAT_HOST_CMD_GET_CONFIG (doit): the configured values and EPOCH, the
 *   router epoch last seen (absent before the first answer).
 * DNAT_HOST_CMD_SET_CONFIG (doit, admin): any subset of ROUTER_ADDR,
 *   PUBLIC_ADDR (both unicast and different, else EINVAL), LAN_IFNAME
 *   (ENODEV if unknown), MODE (EINVAL if unknown), TCP_TIMEOUT and
 *   UDP_TIMEOUT (ERANGE outside 1..86400), PORT_BLOCK (ERANGE outside
 *   1..255), HOOK_COUNTERS (as for the router). Once ROUTER_ADDR, PUBLIC_ADDR and LAN_IFNAME are all set the
 *   host starts: it asks the router for ports and SPIs and tunnels every
 *   packet from PUBLIC_ADDR to a destination outside the LAN prefix.
 *   Changing ROUTER_ADDR, PUBLIC_ADDR or the LAN starts over.
 * DNAT_HOST_CMD_GET_COUNTERS (dumpit): as for the router.
 * DNAT_HOST_CMD_GET_STATS (dumpit): one message per data path or PAP
 *   client counter, STAT_NAME and STAT_VALUE.
 * DNAT_HOST_CMD_GET_BLOCKS (dumpit): one message per held block with
 *   BLOCK_KIND, BLOCK_LOWEST, BLOCK_COUNT, BLOCK_EXPIRES (if leased) and,
 *   for ports, BLOCK_USED.
 * DNAT_HOST_CMD_GET_SPTT (dumpit): one message per translation with PROTO,
 *   LOCAL_PORT, UNIQUE_PORT, IDLE and FLOW_STATE.
 * DNAT_HOST_CMD_REQUEST (doit, admin): BLOCK_KIND and BLOCK_COUNT; asks the
 *   router now (the answer shows in GET_BLOCKS). ENOTCONN before the host
 *   is configured, EBUSY while another request is outstanding, EINVAL for
 *   a missing or bad kind, ERANGE for a count of 0 or above 255 ports or
 *   65535 SPIs.
 * DNAT_HOST_CMD_RELEASE (doit, admin): BLOCK_KIND, BLOCK_LOWEST,
 *   BLOCK_COUNT of a held block; gives it back (translations using it
 *   end). ENOENT if no held block matches.
 * DNAT_HOST_CMD_SA_VALIDATE, DNAT_HOST_CMD_SA_INVALIDATE (doit, admin):
 *   PEER_ADDR and SPI; the module sends PAP 34/0 or 35/0 to the router
 *   (queued, one transaction at a time, retransmitted) and validates again
 *   after a router restart once the SPI is granted back. EINVAL for a
 *   peer that is not unicast or an SPI below 256, EPERM for an SPI
 *   outside the held blocks, EBUSY when 16 notices wait already, ENOSPC
 *   when 64 validated SAs are recorded, ENOTCONN before the host runs.
 * DNAT_HOST_CMD_BLACKLIST_ADD, DNAT_HOST_CMD_BLACKLIST_DEL (doit, admin):
 *   PEER_ADDR and/or SPI; PAP 34/1 or 35/1; errors as above.
 * DNAT_HOST_CMD_GET_SAS (dumpit): one message per recorded SA validation
 *   with PEER_ADDR, SPI and SA_STATE (enum dnat_sa_state): pending (not yet
 *   acknowledged by the router), validated, or stale (the router lost it in
 *   a restart, or its notice was given up; validated again once the SPI is
 *   held again: until then the SA gets no traffic).
 */

#ifndef _UAPI_LINUX_DNAT_H
#define _UAPI_LINUX_DNAT_H

#define DNAT_ROUTER_GENL_NAME "dnat_router"
#define DNAT_HOST_GENL_NAME "dnat_host"
#define DNAT_GENL_VERSION 1

/* Longest interface name, without the NUL (IFNAMSIZ - 1). */
#define DNAT_IFNAME_MAX 15

enum dnat_router_cmd {
	DNAT_ROUTER_CMD_UNSPEC = 0,
	DNAT_ROUTER_CMD_GET_CONFIG = 1,
	DNAT_ROUTER_CMD_SET_CONFIG = 2,
	DNAT_ROUTER_CMD_GET_COUNTERS = 3,
	DNAT_ROUTER_CMD_GET_BLOCKS = 4,
	DNAT_ROUTER_CMD_GET_PAP_STATS = 5,
	DNAT_ROUTER_CMD_GET_HOSTS = 6,
	DNAT_ROUTER_CMD_REVOKE_HOST = 7,
	DNAT_ROUTER_CMD_READMIT_HOST = 8,
	DNAT_ROUTER_CMD_RESET = 9,
	DNAT_ROUTER_CMD_GET_SAS = 10,
	DNAT_ROUTER_CMD_SA_VALIDATE = 11,
	DNAT_ROUTER_CMD_SA_INVALIDATE = 12,
	DNAT_ROUTER_CMD_GET_BLACKLIST = 13,
	DNAT_ROUTER_CMD_BLACKLIST_ADD = 14,
	DNAT_ROUTER_CMD_BLACKLIST_DEL = 15,
	DNAT_ROUTER_CMD_PIN_BLOCK = 16,
	DNAT_ROUTER_CMD_SET_QUOTA = 17,
	__DNAT_ROUTER_CMD_MAX
};
#define DNAT_ROUTER_CMD_MAX (__DNAT_ROUTER_CMD_MAX - 1)

enum dnat_router_attr {
	DNAT_ROUTER_A_UNSPEC = 0,
	DNAT_ROUTER_A_LAN_IFNAME = 1,	/* NUL string, at most 15 bytes */
	DNAT_ROUTER_A_WAN_IFNAME = 2,	/* NUL string, at most 15 bytes */
	DNAT_ROUTER_A_LAN_IFINDEX = 3,	/* u32, read-only */
	DNAT_ROUTER_A_WAN_IFINDEX = 4,	/* u32, read-only */
	DNAT_ROUTER_A_PUBLIC_ADDR = 5,	/* __be32, the shared public address */
	DNAT_ROUTER_A_PORT_MIN = 6,	/* u16, lowest port of the pool */
	DNAT_ROUTER_A_PORT_MAX = 7,	/* u16, highest port of the pool */
	DNAT_ROUTER_A_SPI_MIN = 8,	/* u32, lowest SPI of the pool, >= 256 */
	DNAT_ROUTER_A_SPI_MAX = 9,	/* u32, highest SPI of the pool */
	DNAT_ROUTER_A_HOOK = 10,	/* u32, NF_INET_*, output only */
	DNAT_ROUTER_A_PACKETS = 11,	/* u64, output only */
	DNAT_ROUTER_A_PAD = 12,
	DNAT_ROUTER_A_HOST_ADDR = 13,	/* __be32, a host's LAN address */
	DNAT_ROUTER_A_HOST_REVOKED = 14,	/* flag, the host is revoked */
	DNAT_ROUTER_A_BLOCK_KIND = 15,	/* u8, enum dnat_block_kind */
	DNAT_ROUTER_A_BLOCK_LOWEST = 16,	/* u32, first port or SPI */
	DNAT_ROUTER_A_BLOCK_COUNT = 17,	/* u32, ports or SPIs in the block */
	DNAT_ROUTER_A_BLOCK_EXPIRES = 18,	/* u32, seconds left; absent: never */
	DNAT_ROUTER_A_STAT_NAME = 19,	/* NUL string, a PAP counter's name */
	DNAT_ROUTER_A_STAT_VALUE = 20,	/* u64, its value */
	DNAT_ROUTER_A_HOST_PORTS = 21,	/* u32, ports a host holds */
	DNAT_ROUTER_A_HOST_SPIS = 22,	/* u32, SPIs a host holds */
	DNAT_ROUTER_A_HOST_IN_PACKETS = 23,	/* u64, delivered to the host */
	DNAT_ROUTER_A_HOST_OUT_PACKETS = 24,	/* u64, forwarded for the host */
	DNAT_ROUTER_A_HOST_SPOOFED = 25,	/* u64, dropped: ports not its own */
	DNAT_ROUTER_A_UNOWNED = 26,	/* u8, enum dnat_unowned (setting) */
	DNAT_ROUTER_A_QUOTA_PORTS = 27,	/* u32, most ports per host (setting) */
	DNAT_ROUTER_A_QUOTA_SPIS = 28,	/* u32, most SPIs per host (setting) */
	DNAT_ROUTER_A_PEER_ADDR = 29,	/* __be32, an SA peer's address */
	DNAT_ROUTER_A_SPI = 30,		/* u32, an SPI */
	DNAT_ROUTER_A_SA_POLICY = 31,	/* u8, enum dnat_sa_policy (setting) */
	DNAT_ROUTER_A_HOST_SA_DROPPED = 32,	/* u64, ESP/AH dropped by SA checks */
	DNAT_ROUTER_A_PIN_SECS = 33,	/* u32, seconds a block stays bound */
	DNAT_ROUTER_A_QUOTA_OWN = 34,	/* flag, the host has its own quota */
	DNAT_ROUTER_A_HOOK_COUNTERS = 35,	/* u8, 0/1: per-hook counters (setting) */
	DNAT_ROUTER_A_PAP_RATE = 36,	/* u32, port/SPI requests a second per host, 0: no limit (setting) */
	DNAT_ROUTER_A_PAP_AUTH = 37,	/* u8, enum dnat_pap_auth (setting) */
	DNAT_ROUTER_A_HOST_AUTH = 38,	/* flag, the host authenticates its PAP */
	__DNAT_ROUTER_A_MAX
};
#define DNAT_ROUTER_A_MAX (__DNAT_ROUTER_A_MAX - 1)

enum dnat_block_kind {
	DNAT_BLOCK_PORTS = 1,
	DNAT_BLOCK_SPIS = 2,
};

enum dnat_unowned {
	DNAT_UNOWNED_LOCAL = 0,	/* to the router's own stack (default) */
	DNAT_UNOWNED_DROP = 1,	/* dropped */
};

enum dnat_sa_policy {
	DNAT_SA_POLICY_STRICT = 0,	/* (source, SPI) must be validated (default) */
	DNAT_SA_POLICY_PERMISSIVE = 1,	/* the SPI's owner gets it (reference) */
};

enum dnat_pap_auth {
	DNAT_PAP_AUTH_REQUIRED = 0,	/* only authenticated PAP is served (default) */
	DNAT_PAP_AUTH_OPTIONAL = 1,	/* hosts without a key are served too */
};

enum dnat_host_cmd {
	DNAT_HOST_CMD_UNSPEC = 0,
	DNAT_HOST_CMD_GET_CONFIG = 1,
	DNAT_HOST_CMD_SET_CONFIG = 2,
	DNAT_HOST_CMD_GET_COUNTERS = 3,
	DNAT_HOST_CMD_GET_STATS = 4,
	DNAT_HOST_CMD_GET_BLOCKS = 5,
	DNAT_HOST_CMD_GET_SPTT = 6,
	DNAT_HOST_CMD_REQUEST = 7,
	DNAT_HOST_CMD_RELEASE = 8,
	DNAT_HOST_CMD_SA_VALIDATE = 9,
	DNAT_HOST_CMD_SA_INVALIDATE = 10,
	DNAT_HOST_CMD_BLACKLIST_ADD = 11,
	DNAT_HOST_CMD_BLACKLIST_DEL = 12,
	DNAT_HOST_CMD_GET_SAS = 13,
	__DNAT_HOST_CMD_MAX
};
#define DNAT_HOST_CMD_MAX (__DNAT_HOST_CMD_MAX - 1)

enum dnat_host_attr {
	DNAT_HOST_A_UNSPEC = 0,
	DNAT_HOST_A_ROUTER_ADDR = 1,	/* __be32, the router's LAN address */
	DNAT_HOST_A_PUBLIC_ADDR = 2,	/* __be32, the shared public address */
	DNAT_HOST_A_HOOK = 3,		/* u32, NF_INET_*, output only */
	DNAT_HOST_A_PACKETS = 4,	/* u64, output only */
	DNAT_HOST_A_PAD = 5,
	DNAT_HOST_A_LAN_IFNAME = 6,	/* NUL string, at most 15 bytes */
	DNAT_HOST_A_LAN_IFINDEX = 7,	/* u32, read-only */
	DNAT_HOST_A_MODE = 8,		/* u8, enum dnat_host_mode */
	DNAT_HOST_A_TCP_TIMEOUT = 9,	/* u32, seconds, TCP idle timeout */
	DNAT_HOST_A_UDP_TIMEOUT = 10,	/* u32, seconds, UDP idle timeout */
	DNAT_HOST_A_PORT_BLOCK = 11,	/* u32, ports per request, 1..255 */
	DNAT_HOST_A_EPOCH = 12,		/* u32, router epoch, output only */
	DNAT_HOST_A_STAT_NAME = 13,	/* NUL string, a counter's name */
	DNAT_HOST_A_STAT_VALUE = 14,	/* u64, its value */
	DNAT_HOST_A_BLOCK_KIND = 15,	/* u8, enum dnat_block_kind */
	DNAT_HOST_A_BLOCK_LOWEST = 16,	/* u32, first port or SPI */
	DNAT_HOST_A_BLOCK_COUNT = 17,	/* u32, ports or SPIs in the block */
	DNAT_HOST_A_BLOCK_EXPIRES = 18,	/* u32, seconds left; absent: never */
	DNAT_HOST_A_BLOCK_USED = 19,	/* u32, ports in use by translations */
	DNAT_HOST_A_PROTO = 20,		/* u8, IPPROTO_TCP or IPPROTO_UDP */
	DNAT_HOST_A_LOCAL_PORT = 21,	/* u16, the stack's ephemeral port */
	DNAT_HOST_A_UNIQUE_PORT = 22,	/* u16, the granted port on the wire */
	DNAT_HOST_A_IDLE = 23,		/* u32, seconds since last use */
	DNAT_HOST_A_FLOW_STATE = 24,	/* u8, enum dnat_flow_state bits */
	DNAT_HOST_A_PEER_ADDR = 25,	/* __be32, an SA peer's address */
	DNAT_HOST_A_SPI = 26,		/* u32, an SPI */
	DNAT_HOST_A_SA_STATE = 27,	/* u8, enum dnat_sa_state, output only */
	DNAT_HOST_A_HOOK_COUNTERS = 28,	/* u8, 0/1: per-hook counters (setting) */
	__DNAT_HOST_A_MAX
};
#define DNAT_HOST_A_MAX (__DNAT_HOST_A_MAX - 1)

enum dnat_host_mode {
	DNAT_HOST_MODE_TRANSLATE = 0,	/* ephemeral port <-> granted port */
	DNAT_HOST_MODE_NATIVE = 1,	/* the stack uses granted ports */
};

enum dnat_sa_state {
	DNAT_SA_PENDING = 0,	/* validation sent, not yet acknowledged */
	DNAT_SA_VALIDATED = 1,	/* the router delivers the SA's packets */
	DNAT_SA_STALE = 2,	/* the router lost it; redone when possible */
};

enum dnat_flow_state {
	DNAT_FLOW_FIN_OUT = 1,	/* TCP FIN from the host */
	DNAT_FLOW_FIN_IN = 2,	/* TCP FIN from the Internet */
	DNAT_FLOW_RST = 4,	/* TCP RST either way */
};

#endif /* _UAPI_LINUX_DNAT_H */
