// SPDX-License-Identifier: GPL-2.0

//! Sending IPv4 packets the module builds itself (PAP replies and
//! invalidations), and the IPv4 addresses of an interface.
//!
//! C headers: [`include/net/route.h`], [`include/net/ip.h`],
//! [`include/linux/inetdevice.h`].

use core::net::Ipv4Addr;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicPtr, AtomicU32, Ordering};

use kernel::{alloc::flags, bindings, error::from_err_ptr, prelude::*, sync::rcu};

use super::helpers;
use super::net::Net;
use super::rcu::ReadSide;

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
    // SAFETY: `ifa` is a non-null entry of the RCU-protected `ifa_list`,
    // read under the RCU read lock this function's guard holds, so it stays
    // valid until the guard is dropped.
    let (local, mask) = unsafe { ((*ifa).ifa_local, (*ifa).ifa_mask) };
    Some((
        Ipv4Addr::from(local.to_ne_bytes()),
        Ipv4Addr::from(mask.to_ne_bytes()),
    ))
}

/// Whether the routing tables of `net` make `addr` anything but a unicast
/// destination elsewhere (`inet_addr_type` is not `RTN_UNICAST`): an
/// address of this namespace (`RTN_LOCAL`), a broadcast address
/// (`RTN_BROADCAST`, also 0.0.0.0 and 255.255.255.255) or multicast. One
/// lookup in the local routing table, without lock or allocation.
pub fn is_local_destination(net: &Net, addr: Ipv4Addr) -> bool {
    // SAFETY: `net` is live; `inet_addr_type` takes the RCU read lock
    // itself for its lookup and keeps no reference.
    let t = unsafe { bindings::inet_addr_type(net.as_ptr(), u32::from_ne_bytes(addr.octets())) };
    t != bindings::RTN_UNICAST
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
        // SAFETY: `skb` is a fresh, empty buffer of `LL_HEADROOM + len`
        // bytes: reserving the headroom stays within it.
        unsafe { bindings::skb_reserve(skb, LL_HEADROOM as c_int) };
        // SAFETY: `skb` is ours; its data starts where the header will be.
        unsafe { bindings::skb_reset_network_header(skb) };
        // SAFETY: `len` bytes remain after the headroom; `skb_put` returns
        // a pointer to `len` writable bytes.
        let data = unsafe { bindings::skb_put(skb, len as c_uint) }.cast::<u8>();
        // SAFETY: `data` has `len = header.len() + payload.len()` writable
        // bytes that nothing else references; the source is a Rust slice.
        unsafe { core::ptr::copy_nonoverlapping(header.as_ptr(), data, header.len()) };
        // SAFETY: the `payload.len()` bytes after the header are within
        // `data`'s `len` bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(payload.as_ptr(), data.add(header.len()), payload.len())
        };
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
        let rt = Route::output(net, src, dst, oif.unwrap_or(0), proto)?.into_raw();
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

/// An output route with a reference we own (`struct rtable`), dropped
/// with `ip_rt_put`.
///
/// # Invariants
///
/// `rt` is a valid route on which this value holds one reference.
pub struct Route {
    rt: NonNull<bindings::rtable>,
}

// SAFETY: a route reference may be used and dropped from any context.
unsafe impl Send for Route {}

impl Route {
    /// `ip_route_output_key`: the route from `src` to `dst` (out of `oif`,
    /// if not 0) for protocol `proto`, as for a packet the module sends.
    pub fn output(net: &Net, src: Ipv4Addr, dst: Ipv4Addr, oif: u32, proto: u8) -> Result<Self> {
        Self::lookup(net, src, dst, oif, proto, 0)
    }

    /// The route out of `oif` whose next hop is `via` itself, whatever the
    /// destination of the packets sent with it (`FLOWI_FLAG_KNOWN_NH`, as
    /// IPVS direct routing does): the neighbour of `via` gets them.
    pub fn output_via(net: &Net, src: Ipv4Addr, via: Ipv4Addr, oif: u32) -> Result<Self> {
        Self::lookup(net, src, via, oif, 0, bindings::FLOWI_FLAG_KNOWN_NH as u8)
    }

    fn lookup(
        net: &Net,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: u32,
        proto: u8,
        flags: u8,
    ) -> Result<Self> {
        let mut fl4: bindings::flowi4 = pin_init::zeroed();
        fl4.__fl_common.flowic_flags = flags;
        fl4.__fl_common.flowic_oif = c_int::try_from(oif).unwrap_or(0);
        fl4.__fl_common.flowic_iif = 1; // LOOPBACK_IFINDEX: an output route
        fl4.__fl_common.flowic_proto = proto;
        fl4.saddr = u32::from_ne_bytes(src.octets());
        fl4.daddr = u32::from_ne_bytes(dst.octets());
        // SAFETY: `net` is live and `fl4` a valid flow key; the result is a
        // route with a reference, or an ERR_PTR.
        let rt = from_err_ptr(unsafe { bindings::ip_route_output_key(net.as_ptr(), &mut fl4) })?;
        let rt = NonNull::new(rt).ok_or(EHOSTUNREACH)?;
        // INVARIANT: `ip_route_output_key` gave us a reference on `rt`.
        Ok(Self { rt })
    }

    /// A new reference on `rt` if it is still alive and valid: its
    /// reference count is not dead (`dst_hold_safe`) and the routing
    /// tables did not change since it was looked up (`dst_check`, which
    /// for IPv4 compares the route's generation).
    ///
    /// # Safety
    ///
    /// `rt` points to a route on which a reference is held for the whole
    /// call (by the caller, or by a [`RouteCache`] that the caller read it
    /// from inside an RCU read-side critical section it is still in: the
    /// cache gives a reference up only a grace period after it stopped
    /// publishing the route).
    unsafe fn hold_valid(rt: NonNull<bindings::rtable>) -> Option<Self> {
        let dst = rt.as_ptr().cast::<bindings::dst_entry>();
        // SAFETY: `dst` is valid (caller); `dst` is the first member of
        // `rtable`.
        if !unsafe { bindings::dst_hold_safe(dst) } {
            return None;
        }
        // INVARIANT: we now hold a reference on `rt`.
        let route = Self { rt };
        // `dst_check`: an obsolete route asks its family's `check`, which
        // returns the route if it may still be used, else null.
        // SAFETY: we hold a reference, so `dst` and its `ops` are valid.
        let ok = !unsafe { bindings::dst_check(dst, 0) }.is_null();
        ok.then_some(route)
    }

    /// Whether the route leaves by device `ifindex` with no gateway: its
    /// destination is on that device's link (`rt_gw_family` 0).
    pub fn on_link(&self, ifindex: u32) -> bool {
        let rt = self.rt.as_ptr();
        // SAFETY: we hold a reference on `rt` (type invariant), so its
        // fields may be read.
        let gw = unsafe { (*rt).rt_gw_family };
        // SAFETY: we hold a reference on `rt`, so its member `dst` is valid
        // to read; `dst_dev` reads its device with `READ_ONCE`.
        let dev = unsafe { helpers::dnat_dst_dev(&raw const (*rt).dst) };
        if gw != 0 || dev.is_null() {
            return false;
        }
        // SAFETY: `dev` is the device the route holds a reference to; it
        // stays valid while we hold the route.
        let index = unsafe { (*dev).ifindex };
        u32::try_from(index) == Ok(ifindex)
    }

    /// The route's `struct rtable`; the reference stays with `self`.
    pub fn as_ptr(&self) -> *mut bindings::rtable {
        self.rt.as_ptr()
    }

    /// Gives the reference up to the caller.
    pub fn into_raw(self) -> *mut bindings::rtable {
        let rt = self.rt.as_ptr();
        core::mem::forget(self);
        rt
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        // SAFETY: we hold a reference on `rt` (type invariant).
        unsafe { bindings::ip_rt_put(self.rt.as_ptr()) };
    }
}

/// A cache of one output route, for the module's own packets that go to the
/// same destination again and again (the router's to a host, a host's to
/// its router), so that each of them takes a reference instead of a FIB
/// lookup. Entries stay valid while the routing tables do not change
/// (the route's generation is checked on every use) and are replaced when
/// the key (source, destination, interface) differs.
///
/// Readers take no lock: a sequence count, odd while a writer changes the
/// entry, tells them whether the key and the route they read belong
/// together (as a seqlock does), and they take their own reference on the
/// route. Writers are packets that missed; one that finds another at work
/// leaves the cache as it is.
///
/// A reader may still hold the pointer to a route the cache has just
/// replaced. The cache's reference on it is therefore given up only an RCU
/// grace period later (`call_rcu`): the last other reference may go at any
/// time, and some (the routes a FIB nexthop caches) are freed at once when
/// they go (`dst_release_immediate`), not a grace period later.
///
/// # Invariants
///
/// Whenever `seq` is even, `rt` is null or a route on which the cache holds
/// one reference, looked up for the source, destination and output
/// interface in `key`. A reference the cache held on a route it published
/// is given up only after a grace period has passed since it stopped
/// publishing it.
pub struct RouteCache {
    seq: AtomicU32,
    key: [AtomicU32; 3],
    rt: AtomicPtr<bindings::rtable>,
}

/// A route reference to give up after a grace period.
#[repr(C)]
struct Retired {
    head: bindings::callback_head,
    rt: *mut bindings::rtable,
}

/// Gives up a [`Retired`] route reference (`call_rcu` callback).
///
/// # Safety
///
/// `head` is the `head` of a `Retired` from `KBox::into_raw`, passed to
/// `call_rcu` once.
unsafe extern "C" fn release_retired(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the first field of a `#[repr(C)]` `Retired` that
    // `KBox::into_raw` gave (caller): the same pointer, owned again here.
    let r = unsafe { KBox::from_raw(head.cast::<Retired>()) };
    RouteCache::release(r.rt);
}

impl RouteCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            key: [const { AtomicU32::new(0) }; 3],
            rt: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The route from `src` to `dst` out of `oif` for protocol `proto`: the
    /// cached one when it is still valid, else a fresh lookup, which is
    /// then cached. From any context (atomic included).
    pub fn output(
        &self,
        rcu: ReadSide<'_>,
        net: &Net,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: u32,
        proto: u8,
    ) -> Result<Route> {
        let key = [u32::from(src), u32::from(dst), oif];
        if let Some(r) = self.get(rcu, key) {
            return Ok(r);
        }
        let r = Route::output(net, src, dst, oif, proto)?;
        self.put(key, &r);
        Ok(r)
    }

    /// [`Route::output_via`], cached as [`RouteCache::output`] caches
    /// (a cache holds routes of one kind only).
    pub fn output_via(
        &self,
        rcu: ReadSide<'_>,
        net: &Net,
        src: Ipv4Addr,
        via: Ipv4Addr,
        oif: u32,
    ) -> Result<Route> {
        let key = [u32::from(src), u32::from(via), oif];
        if let Some(r) = self.get(rcu, key) {
            return Ok(r);
        }
        let r = Route::output_via(net, src, via, oif)?;
        self.put(key, &r);
        Ok(r)
    }

    /// The cached route from `src` to `dst` out of `oif`, if there is one
    /// and it is still valid.
    pub fn cached(
        &self,
        rcu: ReadSide<'_>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: u32,
    ) -> Option<Route> {
        self.get(rcu, [u32::from(src), u32::from(dst), oif])
    }

    fn get(&self, _rcu: ReadSide<'_>, key: [u32; 3]) -> Option<Route> {
        let s = self.seq.load(Ordering::Acquire);
        if s & 1 != 0 {
            return None;
        }
        let k = [0, 1, 2].map(|i| self.key[i].load(Ordering::Relaxed));
        let rt = self.rt.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if self.seq.load(Ordering::Relaxed) != s || k != key {
            return None;
        }
        let rt = NonNull::new(rt)?;
        // The cache held a reference on `rt` while `seq` was `s` (type
        // invariant), and this read-side critical section (`_rcu`) began
        // before it stopped publishing `rt`: the cache gives that reference
        // up only after this section ends.
        // SAFETY: so `rt` is valid for `hold_valid` to take its own.
        unsafe { Route::hold_valid(rt) }
    }

    /// Makes `r` (looked up for `key`) the cached route, unless another
    /// writer is at work or there is no memory to retire the old one.
    fn put(&self, key: [u32; 3], r: &Route) {
        let Ok(node) = Self::retired_node(flags::GFP_ATOMIC) else {
            return;
        };
        let Some(s) = self.begin_write() else {
            return;
        };
        // SAFETY: `r` holds a reference, so the route is valid.
        let Some(held) = (unsafe { Route::hold_valid(r.rt) }) else {
            self.seq.store(s.wrapping_add(2), Ordering::Release);
            return;
        };
        for (a, v) in self.key.iter().zip(key) {
            a.store(v, Ordering::Relaxed);
        }
        let old = self.rt.swap(held.into_raw(), Ordering::Relaxed);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
        Self::retire(old, node);
    }

    /// Empties the cache (for example when the module's configuration
    /// changes). From process context (it may sleep).
    pub fn clear(&self) {
        Self::clear_all(core::slice::from_ref(self));
    }

    /// Empties every cache of `caches`. From process context (it may
    /// sleep: for a grace period per cache when there is no memory to give
    /// the references up later).
    pub fn clear_all(caches: &[RouteCache]) {
        for c in caches {
            if c.rt.load(Ordering::Relaxed).is_null() {
                continue;
            }
            let node = Self::retired_node(flags::GFP_KERNEL);
            let s = loop {
                if let Some(s) = c.begin_write() {
                    break s;
                }
                // A packet is filling the entry; it may have been preempted.
                // SAFETY: process context (caller).
                unsafe { bindings::msleep(1) };
            };
            let old = c.rt.swap(core::ptr::null_mut(), Ordering::Relaxed);
            c.seq.store(s.wrapping_add(2), Ordering::Release);
            match node {
                Ok(node) => Self::retire(old, node),
                Err(_) => {
                    // No memory for `call_rcu`: wait for the readers here.
                    // SAFETY: process context (caller); no lock is held that
                    // an RCU reader would need.
                    unsafe { bindings::synchronize_rcu() };
                    // INVARIANT: a grace period passed since `old` was
                    // published last.
                    Self::release(old);
                }
            }
        }
    }

    fn retired_node(gfp: kernel::alloc::Flags) -> Result<KBox<Retired>> {
        let node = KBox::new(
            Retired {
                head: bindings::callback_head {
                    next: core::ptr::null_mut(),
                    func: None,
                },
                rt: core::ptr::null_mut(),
            },
            gfp,
        )?;
        Ok(node)
    }

    /// Gives up the cache's reference on `old`, which it no longer
    /// publishes, after a grace period.
    fn retire(old: *mut bindings::rtable, mut node: KBox<Retired>) {
        if old.is_null() {
            return;
        }
        node.rt = old;
        let node = KBox::into_raw(node);
        // The module waits for its callbacks before it goes
        // (`rcu_barrier` in `PernetRegistration::drop`).
        // SAFETY: `node` is a valid `Retired` handed to `call_rcu` once;
        // the callback takes it back.
        unsafe { bindings::call_rcu(&raw mut (*node).head, Some(release_retired)) };
    }

    /// Makes `seq` odd if no writer is at work; returns its even value.
    fn begin_write(&self) -> Option<u32> {
        let s = self.seq.load(Ordering::Relaxed);
        if s & 1 != 0 {
            return None;
        }
        self.seq
            .compare_exchange(s, s.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // The entry's stores must not be seen before `seq` is odd.
        fence(Ordering::Release);
        Some(s)
    }

    fn release(rt: *mut bindings::rtable) {
        if let Some(rt) = NonNull::new(rt) {
            // INVARIANT: the reference the cache held on `rt` is handed to
            // this `Route`, which drops it.
            drop(Route { rt });
        }
    }
}

impl Default for RouteCache {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RouteCache {
    fn drop(&mut self) {
        // INVARIANT: nothing reads a cache being dropped (its owner is
        // dropped a grace period after its last reader, as a namespace's
        // state is).
        Self::release(*self.rt.get_mut());
    }
}
