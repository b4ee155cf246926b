// SPDX-License-Identifier: GPL-2.0
/*
 * The accessors of helpers.h. Included by router_helpers.c and
 * host_helpers.c, one object per module (Kbuild warns about an object
 * linked into two modules).
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <net/dst.h>
#include <net/ip.h>

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

/*
 * The Ethernet source of a received packet: false if the packet did not
 * come in through an Ethernet device or has no complete link-layer
 * header before its network header.
 */
bool dnat_skb_eth_src(const struct sk_buff *skb, u8 *out)
{
	if (!skb->dev || skb->dev->type != ARPHRD_ETHER ||
	    !skb_mac_header_was_set(skb) ||
	    skb_network_offset(skb) - skb_mac_offset(skb) < ETH_HLEN)
		return false;
	ether_addr_copy(out, eth_hdr(skb)->h_source);
	return true;
}

/*
 * A decapsulated packet starts its IPv4 control block afresh, as
 * ip_rcv_core() gives every received packet (zeroed, then the ingress
 * device): what reassembly of the outer packet left there (frag_max_size,
 * which would make the output path refragment the inner packet or refuse
 * it with DF set) and the outer header's options are not the inner
 * packet's.
 */
void dnat_skb_reset_ipcb(struct sk_buff *skb)
{
	memset(IPCB(skb), 0, sizeof(struct inet_skb_parm));
	IPCB(skb)->iif = skb->skb_iif;
}

/* skb_clear_tstamp(): a receive time is no departure time (fq, EDT). */
void dnat_skb_clear_tstamp(struct sk_buff *skb)
{
	skb_clear_tstamp(skb);
}

/* skb_forward_csum(): a received checksum state is not one to send with. */
void dnat_skb_forward_csum(struct sk_buff *skb)
{
	skb_forward_csum(skb);
}
