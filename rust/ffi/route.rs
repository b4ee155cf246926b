// SPDX-License-Identifier: GPL-2.0

//! Sending IPv4 packets the module builds itself (PAP replies and
//! invalidations), and the IPv4 addresses of an interface.
//!
//! C headers: [`include/net/route.h`], [`include/net/ip.h`],
//! [`include/linux/inetdevice.h`].

use core::net::Ipv4Addr;

use kernel::{bindings, error::from_err_ptr, prelude::*, sync::rcu};

use super::net::Net;

/// Headroom reserved for link-layer headers in packets we build.
const LL_HEADROOM: usize = 128;

/// The first (primary) IPv4 address and netmask of interface `ifindex`.
pub fn primary_ipv4(net: &Net, ifindex: u32) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let idx = c_int::try_from(ifindex).ok()?;
    let _guard = rcu::read_lock();
    // SAFETY: `net` is live; the RCU read lock is held, as
    // `inetdev_by_index` requires, until `_guard` is dropped after the last
    // use of the result.
    let in_dev = unsafe { bindings::inetdev_by_index(net.as_ptr(), idx) };
    if in_dev.is_null() {
        return None;
    }
    // SAFETY: `in_dev` is valid under the RCU read lock; `ifa_list` is an
    // RCU-protected pointer read once, and the entry it points to stays
    // valid until the guard is dropped.
    let ifa = unsafe { core::ptr::read_volatile(&raw const (*in_dev).ifa_list) };
    if ifa.is_null() {
        return None;
    }
    // SAFETY: as above, `ifa` is valid under the RCU read lock.
    let (local, mask) = unsafe { ((*ifa).ifa_local, (*ifa).ifa_mask) };
    Some((
        Ipv4Addr::from(local.to_ne_bytes()),
        Ipv4Addr::from(mask.to_ne_bytes()),
    ))
}

/// A packet we build and own until it is sent.
///
/// # Invariants
///
/// `skb` is a valid `sk_buff` from `alloc_skb` that we own, with its network
/// header set at the start of its data.
pub struct OwnedPacket {
    skb: *mut bindings::sk_buff,
}

// SAFETY: an owned skb may be sent or freed from any context.
unsafe impl Send for OwnedPacket {}

impl OwnedPacket {
    /// A packet holding `header` followed by `payload` (an IPv4 header
    /// built by the caller, with its checksum). Allocates atomically, so it
    /// may be called from a hook.
    pub fn ipv4(header: &[u8], payload: &[u8]) -> Result<Self> {
        let len = header.len().checked_add(payload.len()).ok_or(EINVAL)?;
        let size = c_uint::try_from(LL_HEADROOM + len).map_err(|_| EINVAL)?;
        // SAFETY: plain allocation.
        let skb = unsafe { bindings::alloc_skb(size, bindings::GFP_ATOMIC) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        let p = Self { skb };
        // SAFETY: `skb` is a fresh buffer of `LL_HEADROOM + len` bytes:
        // reserving the headroom and putting `len` bytes stays within it;
        // `skb_put` returns a pointer to `len` writable bytes.
        unsafe {
            bindings::skb_reserve(skb, LL_HEADROOM as c_int);
            bindings::skb_reset_network_header(skb);
            let data = bindings::skb_put(skb, len as c_uint).cast::<u8>();
            core::ptr::copy_nonoverlapping(header.as_ptr(), data, header.len());
            core::ptr::copy_nonoverlapping(payload.as_ptr(), data.add(header.len()), payload.len());
        }
        Ok(p)
    }

    /// Routes the packet to `dst` (from `src`, out of `oif` if given) in
    /// `net` and sends it through the local output path (`LOCAL_OUT` and
    /// `POST_ROUTING` hooks apply).
    pub fn send(
        self,
        net: &Net,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: Option<u32>,
        proto: u8,
    ) -> Result {
        let mut fl4: bindings::flowi4 = pin_init::zeroed();
        fl4.__fl_common.flowic_oif = oif.and_then(|i| c_int::try_from(i).ok()).unwrap_or(0);
        fl4.__fl_common.flowic_iif = 1; // LOOPBACK_IFINDEX: an output route
        fl4.__fl_common.flowic_proto = proto;
        fl4.saddr = u32::from_ne_bytes(src.octets());
        fl4.daddr = u32::from_ne_bytes(dst.octets());
        // SAFETY: `net` is live and `fl4` a valid flow key; the result is a
        // route with a reference or an ERR_PTR.
        let rt = from_err_ptr(unsafe { bindings::ip_route_output_key(net.as_ptr(), &mut fl4) })?;
        let skb = self.skb;
        core::mem::forget(self);
        // SAFETY: `rt` is a valid route whose reference `skb_dst_set` takes
        // over; `skb` is ours (type invariant) and `ip_local_out` consumes it
        // whatever it returns.
        let ret = unsafe {
            bindings::skb_dst_set(skb, &raw mut (*rt).dst);
            bindings::ip_local_out(net.as_ptr(), core::ptr::null_mut(), skb)
        };
        // Positive values are congestion notices (NET_XMIT_CN), not errors.
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }
}

impl Drop for OwnedPacket {
    fn drop(&mut self) {
        // SAFETY: we own the buffer (type invariant).
        unsafe { bindings::kfree_skb(self.skb) };
    }
}
