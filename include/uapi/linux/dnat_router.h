/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/dnat_router.yaml */
/* YNL-GEN uapi header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _UAPI_LINUX_DNAT_ROUTER_H
#define _UAPI_LINUX_DNAT_ROUTER_H

#define DNAT_ROUTER_GENL_NAME		"dnat_router"
#define DNAT_ROUTER_GENL_VERSION	1

#define DNAT_IFNAME_MAX	15

/**
 * enum dnat_block_kind - What a block of the allocation tables holds (also
 *   dnat_host).
 * @DNAT_BLOCK_PORTS: TCP and UDP ports.
 * @DNAT_BLOCK_SPIS: IPsec SPIs.
 */
enum dnat_block_kind {
	DNAT_BLOCK_PORTS = 1,
	DNAT_BLOCK_SPIS,
};

/**
 * enum dnat_unowned - What happens to inbound packets for ports and SPIs
 *   nobody owns.
 * @DNAT_UNOWNED_LOCAL: To the router's own stack (the default).
 * @DNAT_UNOWNED_DROP: Dropped.
 */
enum dnat_unowned {
	DNAT_UNOWNED_LOCAL,
	DNAT_UNOWNED_DROP,
};

/**
 * enum dnat_sa_policy - Which inbound ESP/AH reaches the owner of its SPI.
 * @DNAT_SA_POLICY_STRICT: Only from a (source, SPI) the owner validated (the
 *   default).
 * @DNAT_SA_POLICY_PERMISSIVE: From any source, on the SPI alone (the
 *   reference's behaviour); blacklists apply either way.
 */
enum dnat_sa_policy {
	DNAT_SA_POLICY_STRICT,
	DNAT_SA_POLICY_PERMISSIVE,
};

/**
 * enum dnat_pap_auth - Which PAP messages the PAP server serves.
 * @DNAT_PAP_AUTH_REQUIRED: Only authenticated PAP, and key requests (the
 *   default).
 * @DNAT_PAP_AUTH_OPTIONAL: Also hosts that have never used a key; a host that
 *   has used one must go on using it.
 */
enum dnat_pap_auth {
	DNAT_PAP_AUTH_REQUIRED,
	DNAT_PAP_AUTH_OPTIONAL,
};

/**
 * enum dnat_delivery - How the router delivers to a host
 *   (Documentation/networking/dnat.rst, "Delivery methods").
 * @DNAT_DELIVERY_IPIP: IP-in-IP from the router's LAN address (the default);
 *   the host's untunnelled packets with the public source are refused.
 * @DNAT_DELIVERY_DIRECT: The unchanged packet to the host's link-layer address
 *   on the LAN device, and the host's untunnelled packets from that address
 *   accepted; until an address is bound (lladdr), IP-in-IP.
 */
enum dnat_delivery {
	DNAT_DELIVERY_IPIP,
	DNAT_DELIVERY_DIRECT,
};

/**
 * enum dnat_router_event - What an event message of the events multicast group
 *   reports (event-type); Documentation/networking/dnat-netlink.rst lists the
 *   attributes of each.
 * @DNAT_ROUTER_EVENT_GRANTED: A host was granted a block (PAP port or SPI
 *   request).
 * @DNAT_ROUTER_EVENT_RENEWED: A host renewed the lease of a block.
 * @DNAT_ROUTER_EVENT_RELEASED: A host gave back a block, or everything (PAP
 *   release notices).
 * @DNAT_ROUTER_EVENT_EXPIRED: The lease of a block ended; the block was
 *   retired.
 * @DNAT_ROUTER_EVENT_REVOKED: An administrator revoked a host (revoke-host).
 * @DNAT_ROUTER_EVENT_READMITTED: An administrator readmitted a host
 *   (readmit-host).
 * @DNAT_ROUTER_EVENT_OVER_QUOTA: A request of a host was refused with
 *   over_quota.
 * @DNAT_ROUTER_EVENT_RATE_LIMITED: A request of a host was refused with
 *   rate_limited (pap-rate).
 * @DNAT_ROUTER_EVENT_RESET: The router was reset (reset); a new epoch began.
 * @DNAT_ROUTER_EVENT_SA_VALIDATED: An SA was validated for a host (PAP 34/0 or
 *   sa-validate).
 * @DNAT_ROUTER_EVENT_SA_INVALIDATED: An SA was invalidated (PAP 35/0 or
 *   sa-invalidate).
 * @DNAT_ROUTER_EVENT_BLACKLIST_ADDED: A blacklist entry was added (PAP 34/1 or
 *   blacklist-add).
 * @DNAT_ROUTER_EVENT_BLACKLIST_REMOVED: A blacklist entry was removed (PAP
 *   35/1 or blacklist-del).
 * @DNAT_ROUTER_EVENT_FLOOD: A drop counter (event-reason, its name) rose by
 *   more than 100 in a second; event-count, the drops a second.
 * @DNAT_ROUTER_EVENT_OVERFLOW: Events were lost (event-count of them): the
 *   queue of events waiting to be sent was full.
 */
enum dnat_router_event {
	DNAT_ROUTER_EVENT_GRANTED = 1,
	DNAT_ROUTER_EVENT_RENEWED,
	DNAT_ROUTER_EVENT_RELEASED,
	DNAT_ROUTER_EVENT_EXPIRED,
	DNAT_ROUTER_EVENT_REVOKED,
	DNAT_ROUTER_EVENT_READMITTED,
	DNAT_ROUTER_EVENT_OVER_QUOTA,
	DNAT_ROUTER_EVENT_RATE_LIMITED,
	DNAT_ROUTER_EVENT_RESET,
	DNAT_ROUTER_EVENT_SA_VALIDATED,
	DNAT_ROUTER_EVENT_SA_INVALIDATED,
	DNAT_ROUTER_EVENT_BLACKLIST_ADDED,
	DNAT_ROUTER_EVENT_BLACKLIST_REMOVED,
	DNAT_ROUTER_EVENT_FLOOD,
	DNAT_ROUTER_EVENT_OVERFLOW,
};

enum dnat_router_attr {
	DNAT_ROUTER_A_UNSPEC,
	DNAT_ROUTER_A_LAN_IFNAME,
	DNAT_ROUTER_A_WAN_IFNAME,
	DNAT_ROUTER_A_LAN_IFINDEX,
	DNAT_ROUTER_A_WAN_IFINDEX,
	DNAT_ROUTER_A_PUBLIC_ADDR,
	DNAT_ROUTER_A_PORT_MIN,
	DNAT_ROUTER_A_PORT_MAX,
	DNAT_ROUTER_A_SPI_MIN,
	DNAT_ROUTER_A_SPI_MAX,
	DNAT_ROUTER_A_HOOK,
	DNAT_ROUTER_A_PACKETS,
	DNAT_ROUTER_A_PAD,
	DNAT_ROUTER_A_HOST_ADDR,
	DNAT_ROUTER_A_HOST_REVOKED,
	DNAT_ROUTER_A_BLOCK_KIND,
	DNAT_ROUTER_A_BLOCK_LOWEST,
	DNAT_ROUTER_A_BLOCK_COUNT,
	DNAT_ROUTER_A_BLOCK_EXPIRES,
	DNAT_ROUTER_A_STAT_NAME,
	DNAT_ROUTER_A_STAT_VALUE,
	DNAT_ROUTER_A_HOST_PORTS,
	DNAT_ROUTER_A_HOST_SPIS,
	DNAT_ROUTER_A_HOST_IN_PACKETS,
	DNAT_ROUTER_A_HOST_OUT_PACKETS,
	DNAT_ROUTER_A_HOST_SPOOFED,
	DNAT_ROUTER_A_UNOWNED,
	DNAT_ROUTER_A_QUOTA_PORTS,
	DNAT_ROUTER_A_QUOTA_SPIS,
	DNAT_ROUTER_A_PEER_ADDR,
	DNAT_ROUTER_A_SPI,
	DNAT_ROUTER_A_SA_POLICY,
	DNAT_ROUTER_A_HOST_SA_DROPPED,
	DNAT_ROUTER_A_PIN_SECS,
	DNAT_ROUTER_A_QUOTA_OWN,
	DNAT_ROUTER_A_HOOK_COUNTERS,
	DNAT_ROUTER_A_PAP_RATE,
	DNAT_ROUTER_A_PAP_AUTH,
	DNAT_ROUTER_A_HOST_AUTH,
	DNAT_ROUTER_A_HOST_IN_BYTES,
	DNAT_ROUTER_A_HOST_OUT_BYTES,
	DNAT_ROUTER_A_EVENT_TYPE,
	DNAT_ROUTER_A_EVENT_REASON,
	DNAT_ROUTER_A_EVENT_COUNT,
	DNAT_ROUTER_A_EVENT_SUPPRESSED,
	DNAT_ROUTER_A_EPOCH,
	DNAT_ROUTER_A_DELIVERY,
	DNAT_ROUTER_A_LLADDR,

	__DNAT_ROUTER_A_MAX
};
#define DNAT_ROUTER_A_MAX (__DNAT_ROUTER_A_MAX - 1)

enum dnat_router_cmd {
	DNAT_ROUTER_CMD_UNSPEC,
	DNAT_ROUTER_CMD_GET_CONFIG,
	DNAT_ROUTER_CMD_SET_CONFIG,
	DNAT_ROUTER_CMD_GET_COUNTERS,
	DNAT_ROUTER_CMD_GET_BLOCKS,
	DNAT_ROUTER_CMD_GET_PAP_STATS,
	DNAT_ROUTER_CMD_GET_HOSTS,
	DNAT_ROUTER_CMD_REVOKE_HOST,
	DNAT_ROUTER_CMD_READMIT_HOST,
	DNAT_ROUTER_CMD_RESET,
	DNAT_ROUTER_CMD_GET_SAS,
	DNAT_ROUTER_CMD_SA_VALIDATE,
	DNAT_ROUTER_CMD_SA_INVALIDATE,
	DNAT_ROUTER_CMD_GET_BLACKLIST,
	DNAT_ROUTER_CMD_BLACKLIST_ADD,
	DNAT_ROUTER_CMD_BLACKLIST_DEL,
	DNAT_ROUTER_CMD_PIN_BLOCK,
	DNAT_ROUTER_CMD_SET_QUOTA,
	DNAT_ROUTER_CMD_EVENT,
	DNAT_ROUTER_CMD_SET_DELIVERY,

	__DNAT_ROUTER_CMD_MAX
};
#define DNAT_ROUTER_CMD_MAX (__DNAT_ROUTER_CMD_MAX - 1)

#define DNAT_ROUTER_MCGRP_EVENTS	"events"

#endif /* _UAPI_LINUX_DNAT_ROUTER_H */
