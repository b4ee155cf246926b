/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Accessors for the fields the dnat modules reach inside anonymous unions
 * and struct groups. bindgen names those by position (__bindgen_anon_N),
 * which a kernel update can renumber silently; C names them by field.
 * Each module links its own copy (router_helpers.c, host_helpers.c).
 */
#ifndef _DNAT_FFI_HELPERS_H
#define _DNAT_FFI_HELPERS_H

#include <linux/types.h>

struct sk_buff;
struct dst_entry;
struct net_device;
struct netlink_callback;

int dnat_skb_iif(const struct sk_buff *skb);
void dnat_skb_set_iif(struct sk_buff *skb, int iif);
void dnat_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
struct net_device *dnat_dst_dev(const struct dst_entry *dst);
long dnat_cb_cursor(const struct netlink_callback *cb);
void dnat_cb_set_cursor(struct netlink_callback *cb, long v);
bool dnat_skb_eth_src(const struct sk_buff *skb, u8 *out);
void dnat_skb_forward_csum(struct sk_buff *skb);
void dnat_skb_clear_tstamp(struct sk_buff *skb);
void dnat_skb_reset_ipcb(struct sk_buff *skb);

#endif
