/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/dnat_host.yaml */
/* YNL-GEN uapi header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _UAPI_LINUX_DNAT_HOST_H
#define _UAPI_LINUX_DNAT_HOST_H

#define DNAT_HOST_GENL_NAME	"dnat_host"
#define DNAT_HOST_GENL_VERSION	1

/**
 * enum dnat_host_mode - How the host's TCP and UDP traffic gets granted ports.
 * @DNAT_HOST_MODE_TRANSLATE: The module translates each ephemeral source port
 *   to a granted port and back (the default).
 * @DNAT_HOST_MODE_NATIVE: The stack uses the granted ports itself; the module
 *   tunnels only.
 */
enum dnat_host_mode {
	DNAT_HOST_MODE_TRANSLATE,
	DNAT_HOST_MODE_NATIVE,
};

/**
 * enum dnat_sa_state - The state of an SA validation the module has recorded.
 * @DNAT_SA_PENDING: Sent, not yet acknowledged by the router.
 * @DNAT_SA_VALIDATED: Acknowledged; the router delivers the SA's packets.
 * @DNAT_SA_STALE: The router lost it (a restart, an invalidate-all with the SA
 *   bit, or the notice was given up); validated again once its SPI is held
 *   again.
 */
enum dnat_sa_state {
	DNAT_SA_PENDING,
	DNAT_SA_VALIDATED,
	DNAT_SA_STALE,
};

/**
 * enum dnat_flow_state - What a port translation has seen of its TCP
 *   connection.
 * @DNAT_FLOW_FIN_OUT: TCP FIN from the host.
 * @DNAT_FLOW_FIN_IN: TCP FIN from the Internet.
 * @DNAT_FLOW_RST: TCP RST either way.
 */
enum dnat_flow_state {
	DNAT_FLOW_FIN_OUT = 1,
	DNAT_FLOW_FIN_IN = 2,
	DNAT_FLOW_RST = 4,
};

/**
 * enum dnat_host_event - What an event message of the events multicast group
 *   reports (event-type); Documentation/networking/dnat-netlink.rst lists the
 *   attributes of each.
 * @DNAT_HOST_EVENT_STARTED: The PAP client started (the configuration became
 *   complete).
 * @DNAT_HOST_EVENT_STOPPED: The PAP client stopped (deconfigured, or started
 *   over); what it held is lost.
 * @DNAT_HOST_EVENT_GRANTED: The router granted the host a block.
 * @DNAT_HOST_EVENT_RENEWED: The router renewed the lease of a held block.
 * @DNAT_HOST_EVENT_LOST: A held block is gone; event-reason says why:
 *   released, expired, invalidated, refused, router-restart or stopped.
 * @DNAT_HOST_EVENT_REFUSED: The router refused a request, a renewal or a
 *   release; event-reason is the PAP reason.
 * @DNAT_HOST_EVENT_ROUTER_RESTART: The router's epoch changed (it restarted or
 *   was reset).
 * @DNAT_HOST_EVENT_SA_VALIDATED: The router applied an SA validation (34/0) of
 *   the host.
 * @DNAT_HOST_EVENT_SA_INVALIDATED: The router applied an SA invalidation
 *   (35/0).
 * @DNAT_HOST_EVENT_BLACKLIST_ADDED: The router applied a blacklist addition
 *   (34/1).
 * @DNAT_HOST_EVENT_BLACKLIST_REMOVED: The router applied a blacklist removal
 *   (35/1).
 * @DNAT_HOST_EVENT_SA_REFUSED: The router refused an SA or blacklist notice;
 *   event-reason is the PAP reason.
 * @DNAT_HOST_EVENT_MODE_CHANGED: The host mode changed (set-config).
 * @DNAT_HOST_EVENT_KEY_INSTALLED: The PAP client got a key from the router;
 *   event-reason: installed, or rekey when the router asked for a new one.
 * @DNAT_HOST_EVENT_OVERFLOW: Events were lost (event-count of them): the queue
 *   of events waiting to be sent was full.
 */
enum dnat_host_event {
	DNAT_HOST_EVENT_STARTED = 1,
	DNAT_HOST_EVENT_STOPPED,
	DNAT_HOST_EVENT_GRANTED,
	DNAT_HOST_EVENT_RENEWED,
	DNAT_HOST_EVENT_LOST,
	DNAT_HOST_EVENT_REFUSED,
	DNAT_HOST_EVENT_ROUTER_RESTART,
	DNAT_HOST_EVENT_SA_VALIDATED,
	DNAT_HOST_EVENT_SA_INVALIDATED,
	DNAT_HOST_EVENT_BLACKLIST_ADDED,
	DNAT_HOST_EVENT_BLACKLIST_REMOVED,
	DNAT_HOST_EVENT_SA_REFUSED,
	DNAT_HOST_EVENT_MODE_CHANGED,
	DNAT_HOST_EVENT_KEY_INSTALLED,
	DNAT_HOST_EVENT_OVERFLOW,
};

enum dnat_host_attr {
	DNAT_HOST_A_UNSPEC,
	DNAT_HOST_A_ROUTER_ADDR,
	DNAT_HOST_A_PUBLIC_ADDR,
	DNAT_HOST_A_HOOK,
	DNAT_HOST_A_PACKETS,
	DNAT_HOST_A_PAD,
	DNAT_HOST_A_LAN_IFNAME,
	DNAT_HOST_A_LAN_IFINDEX,
	DNAT_HOST_A_MODE,
	DNAT_HOST_A_TCP_TIMEOUT,
	DNAT_HOST_A_UDP_TIMEOUT,
	DNAT_HOST_A_PORT_BLOCK,
	DNAT_HOST_A_EPOCH,
	DNAT_HOST_A_STAT_NAME,
	DNAT_HOST_A_STAT_VALUE,
	DNAT_HOST_A_BLOCK_KIND,
	DNAT_HOST_A_BLOCK_LOWEST,
	DNAT_HOST_A_BLOCK_COUNT,
	DNAT_HOST_A_BLOCK_EXPIRES,
	DNAT_HOST_A_BLOCK_USED,
	DNAT_HOST_A_PROTO,
	DNAT_HOST_A_LOCAL_PORT,
	DNAT_HOST_A_UNIQUE_PORT,
	DNAT_HOST_A_IDLE,
	DNAT_HOST_A_FLOW_STATE,
	DNAT_HOST_A_PEER_ADDR,
	DNAT_HOST_A_SPI,
	DNAT_HOST_A_SA_STATE,
	DNAT_HOST_A_HOOK_COUNTERS,
	DNAT_HOST_A_EVENT_TYPE,
	DNAT_HOST_A_EVENT_REASON,
	DNAT_HOST_A_EVENT_COUNT,
	DNAT_HOST_A_DELIVERY,
	DNAT_HOST_A_ROUTER_LLADDR,

	__DNAT_HOST_A_MAX
};
#define DNAT_HOST_A_MAX (__DNAT_HOST_A_MAX - 1)

enum dnat_host_cmd {
	DNAT_HOST_CMD_UNSPEC,
	DNAT_HOST_CMD_GET_CONFIG,
	DNAT_HOST_CMD_SET_CONFIG,
	DNAT_HOST_CMD_GET_COUNTERS,
	DNAT_HOST_CMD_GET_STATS,
	DNAT_HOST_CMD_GET_BLOCKS,
	DNAT_HOST_CMD_GET_SPTT,
	DNAT_HOST_CMD_REQUEST,
	DNAT_HOST_CMD_RELEASE,
	DNAT_HOST_CMD_SA_VALIDATE,
	DNAT_HOST_CMD_SA_INVALIDATE,
	DNAT_HOST_CMD_BLACKLIST_ADD,
	DNAT_HOST_CMD_BLACKLIST_DEL,
	DNAT_HOST_CMD_GET_SAS,
	DNAT_HOST_CMD_EVENT,

	__DNAT_HOST_CMD_MAX
};
#define DNAT_HOST_CMD_MAX (__DNAT_HOST_CMD_MAX - 1)

#define DNAT_HOST_MCGRP_EVENTS	"events"

#endif /* _UAPI_LINUX_DNAT_HOST_H */
