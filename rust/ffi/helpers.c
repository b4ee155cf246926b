// SPDX-License-Identifier: GPL-2.0
/*
 * The accessors of helpers.h. Included by router_helpers.c and
 * host_helpers.c, one object per module (Kbuild warns about an object
 * linked into two modules).
 */
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <net/dst.h>

#include "helpers.h"

int dnat_skb_iif(const struct sk_buff *skb)
{
	return skb->skb_iif;
}

void dnat_skb_set_iif(struct sk_buff *skb, int iif)
{
	skb->skb_iif = iif;
}

void dnat_skb_set_dev(struct sk_buff *skb, struct net_device *dev)
{
	skb->dev = dev;
}

/* dst->dev is rewritten with WRITE_ONCE() when its device goes. */
struct net_device *dnat_dst_dev(const struct dst_entry *dst)
{
	return dst_dev(dst);
}

long dnat_cb_cursor(const struct netlink_callback *cb)
{
	return cb->args[0];
}

void dnat_cb_set_cursor(struct netlink_callback *cb, long v)
{
	cb->args[0] = v;
}
