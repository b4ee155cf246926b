/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dnat: distributed NAT with IPsec and denial-of-service control.
 *
 * The generic netlink interfaces of the dnat kernel modules, one family
 * per module, both per network namespace:
 *
 *   DNAT_ROUTER_GENL_NAME ("dnat_router")  on the router, <linux/dnat_router.h>
 *   DNAT_HOST_GENL_NAME   ("dnat_host")    on a host,     <linux/dnat_host.h>
 *
 * Both headers are generated from the YNL specs, the contract:
 * Documentation/netlink/specs/dnat_router.yaml and dnat_host.yaml
 * (scripts/ynl-check.sh --write runs the kernel's ynl_gen_c.py). The host
 * family uses the block kinds and DNAT_IFNAME_MAX of the router's header.
 * Documentation/networking/dnat-netlink.rst describes every command.
 */

#ifndef _UAPI_LINUX_DNAT_H
#define _UAPI_LINUX_DNAT_H

#include <linux/dnat_router.h>
#include <linux/dnat_host.h>

#endif /* _UAPI_LINUX_DNAT_H */
