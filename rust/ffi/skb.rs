// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`) as netfilter hooks see them.
//!
//! C headers: [`include/linux/skbuff.h`], [`include/net/ip_tunnels.h`].

use core::marker::PhantomData;
use core::net::Ipv4Addr;
use core::ptr::NonNull;

use kernel::{bindings, prelude::*};

use super::helpers;
use super::net::Net;
use super::netfilter::Verdict;
use super::rcu::ReadSide;
use super::route::{Route, RouteCache};

/// A packet handed to a hook, by value: operations that consume the packet
/// (sending it elsewhere) take `self`, so nothing can touch it afterwards.
///
/// # Invariants
///
/// `ptr` is a valid `sk_buff` that the hook owns for `'a`, with its network
/// header at the start of an IPv4 header.
pub struct SkBuff<'a> {
    ptr: NonNull<bindings::sk_buff>,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

/// Length of an IPv4 header without options.
const IPV4_HLEN: usize = 20;

/// Headroom kept for the link-layer header in front of an outer header:
/// an Ethernet header rounded up (`HH_DATA_MOD`, as `LL_RESERVED_SPACE`
/// does). Asking for more than the packet has makes `skb_cow_head` copy
/// the packet, so this stays small: a device that needs more headroom gets
/// it from the output path.
const LL_HEADROOM: usize = 16;

impl SkBuff<'_> {
    /// Takes the packet a hook was called with.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` owned by the caller (a hook
    /// invocation) for `'a`, with its network header set.
    pub unsafe fn from_raw<'a>(ptr: NonNull<bindings::sk_buff>) -> SkBuff<'a> {
        SkBuff {
            ptr,
            _p: PhantomData,
        }
    }

    fn raw(&self) -> *mut bindings::sk_buff {
        self.ptr.as_ptr()
    }

    /// Length of the packet from its current data pointer (for an IPv4 hook:
    /// from the IP header), linear and paged parts together.
    pub fn len(&self) -> u32 {
        // SAFETY: the skb is valid (type invariant); `len` is a plain field.
        unsafe { (*self.raw()).len }
    }

    /// Whether the packet has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `buf.len()` bytes of the packet, from `offset` bytes after the
    /// network (IPv4) header's start, into `buf`, whether they are in the
    /// linear part or in fragments. Fails if the packet is shorter.
    pub fn copy_from_network(&self, offset: usize, buf: &mut [u8]) -> Result {
        let skb = self.raw();
        let off = isize::try_from(offset).map_err(|_| EINVAL)?;
        let len = c_int::try_from(buf.len()).map_err(|_| EINVAL)?;
        let start = self.network_offset().checked_add(off).ok_or(EINVAL)?;
        // SAFETY: the skb is valid (type invariant); `len`, `data_len` and
        // `data` are plain fields.
        let (total, data_len, data) = unsafe { ((*skb).len, (*skb).data_len, (*skb).data) };
        let headlen = total.saturating_sub(data_len) as usize;
        if let Ok(s) = usize::try_from(start) {
            if s.checked_add(buf.len()).is_some_and(|e| e <= headlen) {
                // The bytes are in the linear part: copy them from there
                // (the common case, without a call into C).
                // SAFETY: `data..data + headlen` is the linear data of the
                // skb; `s + buf.len() <= headlen` was checked; `buf` does
                // not overlap the packet.
                unsafe { core::ptr::copy_nonoverlapping(data.add(s), buf.as_mut_ptr(), buf.len()) };
                return Ok(());
            }
        }
        let start = c_int::try_from(start).map_err(|_| EINVAL)?;
        // SAFETY: `buf` is writable for `len` bytes; `skb_header_pointer`
        // checks the bounds against the packet and returns null, a pointer
        // into the packet's linear data, or `buf` after copying into it.
        let p = unsafe { bindings::skb_header_pointer(skb, start, len, buf.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(EINVAL);
        }
        if p.cast::<u8>() != buf.as_mut_ptr() {
            // SAFETY: `p` points to `len` readable bytes of linear data that
            // do not overlap `buf`.
            unsafe { core::ptr::copy_nonoverlapping(p.cast::<u8>(), buf.as_mut_ptr(), buf.len()) };
        }
        Ok(())
    }

    /// `skb->skb_iif`: the index of the device the packet arrived on.
    fn iif(&self) -> c_int {
        // SAFETY: the skb is valid (type invariant).
        unsafe { helpers::dnat_skb_iif(self.raw()) }
    }

    /// Sets `skb->skb_iif`.
    fn set_iif(&mut self, iif: c_int) {
        // SAFETY: the skb is ours (type invariant); `skb_iif` is plain data.
        unsafe { helpers::dnat_skb_set_iif(self.raw(), iif) };
    }

    /// `skb_network_offset`: bytes from the data pointer to the network
    /// header (negative once the data pointer moved past it).
    fn network_offset(&self) -> isize {
        // SAFETY: the skb is valid (type invariant).
        let off = unsafe { bindings::skb_network_offset(self.raw()) };
        // A `c_int` always fits an `isize` on the targets Linux supports.
        off as isize
    }

    /// Takes the route to `dst` out of `oif` (from `cache`, or looked up
    /// and cached) and makes the packet ready for an outer header:
    /// `skb_cow_head` makes room for it and the link-layer header and
    /// unshares them, `iptunnel_handle_offloads` marks GSO packets IPXIP4
    /// and records the inner headers, and the inner protocol is set to
    /// IP in IP (`skb_set_inner_ipproto`), as `ipip_tunnel_xmit` does, for
    /// the devices and GSO code that look at it. Returns the route and the
    /// outer header. On error the packet's data is unchanged.
    fn prepare_outer(
        &mut self,
        net: &Net,
        cache: &RouteCache,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: u32,
        ttl: u8,
    ) -> Result<(Route, [u8; IPV4_HLEN])> {
        let hdr = outer_header(src, dst, ttl, self.len()).ok_or(EMSGSIZE)?;
        // SAFETY: a hook owns the packet for the call (type invariant), and
        // hooks run inside an RCU read-side critical section (`nf_hook`);
        // the proof lives no longer than this borrow of the packet.
        let rcu = unsafe { ReadSide::assume() };
        let rt = cache.output(rcu, net, src, dst, oif, bindings::IPPROTO_IPIP as u8)?;
        let skb = self.raw();
        // SAFETY: the skb is ours (type invariant); neither call changes
        // the packet's data.
        let prepared = unsafe {
            bindings::skb_cow_head(skb, (IPV4_HLEN + LL_HEADROOM) as c_uint) == 0
                && bindings::iptunnel_handle_offloads(skb, bindings::SKB_GSO_IPXIP4 as c_int) == 0
        };
        if !prepared {
            return Err(ENOMEM);
        }
        // SAFETY: the skb is ours (type invariant); this sets two header
        // fields that describe the payload, not the data.
        unsafe { bindings::skb_set_inner_ipproto(skb, bindings::IPPROTO_IPIP as u8) };
        Ok((rt, hdr))
    }

    /// `skb_shinfo(skb)->gso_segs`, or 1 for a packet that is not GSO: the
    /// number of packets the packet becomes on the wire.
    fn gso_segs(&self) -> u16 {
        // SAFETY: the skb is valid (type invariant), and so is its shared
        // info, which lives as long as its data; `gso_segs` is a plain field
        // of it.
        let segs = unsafe { (*bindings::skb_shinfo(self.raw())).gso_segs };
        segs.max(1)
    }

    /// Pushes `hdr` in front of the packet as its network header, with an
    /// IP ID and checksum as `iptunnel_xmit` gives them (one ID for each
    /// segment a GSO packet becomes, `ip_select_ident_segs` with the
    /// packet's `gso_segs`: the outer DF is clear, so IDs must not repeat
    /// between segments of consecutive packets), clears the
    /// control block (IPCB) as `iptunnel_xmit` does, and gives the packet
    /// route `rt` (taking over its reference) instead of the one it had.
    ///
    /// # Safety
    ///
    /// [`SkBuff::prepare_outer`] returned `rt` and `hdr` for this packet
    /// (so the headroom is there), and nothing changed the packet since.
    unsafe fn push_outer(&mut self, net: &Net, rt: Route, hdr: &[u8; IPV4_HLEN]) {
        let skb = self.raw();
        let rt = rt.into_raw();
        let segs = c_int::from(self.gso_segs());
        // SAFETY: the skb is ours (type invariant), and `skb_cow_head` made
        // `IPV4_HLEN` bytes of private headroom for it (caller).
        let p = unsafe { bindings::skb_push(skb, IPV4_HLEN as c_uint) }.cast::<u8>();
        // SAFETY: `p` points to the `IPV4_HLEN` bytes just pushed, which
        // nothing else references; `hdr` is a distinct Rust array.
        unsafe { core::ptr::copy_nonoverlapping(hdr.as_ptr(), p, IPV4_HLEN) };
        // SAFETY: the skb is ours; its data now starts at the new header.
        unsafe { bindings::skb_reset_network_header(skb) };
        // SAFETY: `p` is the complete IPv4 header (copied above), `net` is
        // the live namespace the packet is in (`Net` invariant).
        unsafe { bindings::__ip_select_ident(net.as_ptr(), p.cast(), segs) };
        // SAFETY: `p` is the complete IPv4 header, 20 bytes (ihl 5).
        unsafe { bindings::ip_send_check(p.cast()) };
        // SAFETY: the skb is ours, and its `cb` is at least as long as an
        // `inet_skb_parm` (the kernel's static assertion in `ip.h`).
        unsafe {
            core::ptr::write_bytes(
                (*skb).cb.as_mut_ptr().cast::<u8>(),
                0,
                core::mem::size_of::<bindings::inet_skb_parm>(),
            )
        };
        // SAFETY: the skb is ours; dropping its reference to the old route
        // is what `skb_dst_drop` is for.
        unsafe { bindings::skb_dst_drop(skb) };
        // SAFETY: `rt` is a route with a reference the caller handed over
        // (`Route::into_raw`); the skb takes that reference.
        unsafe { bindings::skb_dst_set(skb, &raw mut (*rt).dst) };
        // The packet leaves by the new route's device: `ip_output` set
        // `skb->dev` from the old route before `POST_ROUTING`, and the rest
        // of the output path transmits on `skb->dev`. `dst->dev` is
        // rewritten with `WRITE_ONCE` when its device goes, hence
        // `dst_dev` (`READ_ONCE`).
        // SAFETY: `rt` is live (the skb holds its reference since the line
        // above), so its `dst.dev` may be read.
        let dev = unsafe { helpers::dnat_dst_dev(&raw const (*rt).dst) };
        // SAFETY: the skb is ours; `dev` is a device the route holds, which
        // is what the output path expects in `skb->dev`.
        unsafe { helpers::dnat_skb_set_dev(skb, dev) };
    }

    /// Prepends an IPv4 header `src` -> `dst`, protocol 4 (IP in IP), DF
    /// clear (the outer packet is fragmented rather than dropped when too
    /// big), a fresh IP ID, TTL `ttl`, and sends it by a route to `dst`
    /// out of `oif`, through the route's output as a forwarded packet goes
    /// (`POST_ROUTING` hooks apply, `LOCAL_OUT` ones do not). The packet
    /// itself is not changed.
    ///
    /// Consumes the packet: returns [`Verdict::Stolen`] when it was handed
    /// to the output path (even if that then dropped it), or
    /// [`Verdict::Drop`] when it could not be encapsulated (netfilter frees
    /// it).
    pub fn ipip_encap_send(
        mut self,
        net: &Net,
        cache: &RouteCache,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: u32,
        ttl: u8,
    ) -> Verdict {
        let Ok((rt, hdr)) = self.prepare_outer(net, cache, src, dst, oif, ttl) else {
            return Verdict::Drop;
        };
        let skb = self.raw();
        // `skb_scrub_packet` clears the ingress state (conntrack, dst,
        // socket; not the mark, within one namespace) and changes no data.
        // SAFETY: the skb is ours (type invariant).
        unsafe { bindings::skb_scrub_packet(skb, false) };
        // The receive timestamp is no departure time (as `ip_forward` and
        // IPVS clear it): `fq` would take it for one beyond its horizon.
        // SAFETY: the skb is ours (type invariant); this changes a field.
        unsafe { helpers::dnat_skb_clear_tstamp(skb) };
        // SAFETY: `rt` and `hdr` come from `prepare_outer` for this skb,
        // and scrubbing changed no data.
        unsafe { self.push_outer(net, rt, &hdr) };
        // The route's output (`ip_output`) consumes the packet whatever it
        // returns.
        // SAFETY: the skb is ours and holds the route `push_outer` set.
        unsafe { bindings::dst_output(net.as_ptr(), core::ptr::null_mut(), skb) };
        Verdict::Stolen
    }

    /// Sends the packet, unchanged, out of `oif` to the neighbour of `via`
    /// (a host on that link), through the output path (`POST_ROUTING`,
    /// fragmentation to the device's MTU, the neighbour's link-layer
    /// address): direct delivery, the way IPVS direct routing sends to a
    /// real server. `src` is the router's address on `oif`, for the route
    /// lookup only. The route comes from `cache` (one per host).
    pub fn direct_send(
        self,
        net: &Net,
        cache: &RouteCache,
        src: Ipv4Addr,
        via: Ipv4Addr,
        oif: u32,
    ) -> Verdict {
        // SAFETY: a hook owns the packet for the call (type invariant), and
        // hooks run inside an RCU read-side critical section (`nf_hook`);
        // the proof lives no longer than this borrow of the packet.
        let rcu = unsafe { ReadSide::assume() };
        let Ok(rt) = cache.output_via(rcu, net, src, via, oif) else {
            return Verdict::Drop;
        };
        let skb = self.raw();
        // `skb_scrub_packet` clears the ingress state (conntrack, dst,
        // socket; not the mark, within one namespace) and changes no data.
        // SAFETY: the skb is ours (type invariant).
        unsafe { bindings::skb_scrub_packet(skb, false) };
        // The receive timestamp is no departure time (as `ip_forward` and
        // IPVS clear it): `fq` would take it for one beyond its horizon.
        // SAFETY: the skb is ours (type invariant); this changes a field.
        unsafe { helpers::dnat_skb_clear_tstamp(skb) };
        // SAFETY: the skb is ours (type invariant); this changes a flag.
        unsafe { helpers::dnat_skb_forward_csum(skb) };
        // `dst` is the first member of `struct rtable`.
        let dst = rt.into_raw().cast::<bindings::dst_entry>();
        // SAFETY: the skb is ours and holds no route since the scrub; it
        // takes over the reference on `dst`, a valid route, that
        // `into_raw` gave up.
        unsafe { bindings::skb_dst_set(skb, dst) };
        // The route's output (`ip_output`) consumes the packet whatever it
        // returns.
        // SAFETY: the skb is ours and holds a route.
        unsafe { bindings::dst_output(net.as_ptr(), core::ptr::null_mut(), skb) };
        Verdict::Stolen
    }

    /// The Ethernet source address of a received packet; `None` if it
    /// did not come in through an Ethernet device.
    pub fn eth_src(&self) -> Option<[u8; 6]> {
        let mut m = [0u8; 6];
        // SAFETY: the skb is valid (type invariant) and `m` has the 6
        // bytes the helper writes.
        let ok = unsafe { helpers::dnat_skb_eth_src(self.raw(), m.as_mut_ptr()) };
        ok.then_some(m)
    }

    /// Prepends an IPv4 header `src` -> `dst`, protocol 4, DF clear, a
    /// fresh IP ID, TTL `ttl`, in place, for a packet in `POST_ROUTING`:
    /// the packet takes the route to `dst` out of `oif` and goes on through
    /// the rest of the output path (fragmentation, neighbour, device) when
    /// the hook accepts it. Unlike [`SkBuff::ipip_encap_send`] the outer
    /// packet does not go through the output hooks a second time. On error
    /// the packet is unchanged.
    pub fn ipip_encap_in_place(
        &mut self,
        net: &Net,
        cache: &RouteCache,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        oif: u32,
        ttl: u8,
    ) -> Result {
        let (rt, hdr) = self.prepare_outer(net, cache, src, dst, oif, ttl)?;
        // SAFETY: `rt` and `hdr` come from `prepare_outer` for this packet,
        // unchanged since.
        unsafe { self.push_outer(net, rt, &hdr) };
        Ok(())
    }

    /// Removes the outer IPv4 header (`outer_len` bytes) of a tunnelled
    /// packet in place, as the IP-in-IP receive path does, so that the
    /// stack goes on with the inner packet, whose header is `inner_len`
    /// bytes long, and trims what follows the inner packet's `inner_total`
    /// bytes, as `ip_rcv` does for a received packet (`pskb_trim_rcsum`:
    /// a `CHECKSUM_COMPLETE` sum is corrected), so that no trailing bytes
    /// are forwarded or taken for payload. The inner packet keeps the
    /// ingress device index of the outer one (`skb_iif`, which
    /// `__iptunnel_pull_header` clears), so that it looks as if it arrived
    /// on the device it came in on: sockets bound to that device
    /// (`SO_BINDTODEVICE`) receive it and `IP_PKTINFO` names it. Its IPv4
    /// control block starts afresh, as `ip_rcv` gives a received packet: a
    /// reassembled outer packet's `frag_max_size` would otherwise make
    /// the router's output refuse a forwarded inner packet with DF set
    /// (`ip_fragment`: "fragmentation needed" at the very MTU it fits).
    /// Fails,
    /// with the packet unchanged, if the packet holds fewer than
    /// `outer_len + inner_total` bytes; on a later failure the caller
    /// drops the packet.
    pub fn ipip_decap(&mut self, outer_len: usize, inner_len: usize, inner_total: usize) -> Result {
        let len = c_int::try_from(outer_len).map_err(|_| EINVAL)?;
        let ilen = c_int::try_from(inner_len).map_err(|_| EINVAL)?;
        let total = c_uint::try_from(inner_total).map_err(|_| EINVAL)?;
        let have = usize::try_from(self.len()).map_err(|_| EINVAL)?;
        if inner_len > inner_total || outer_len.checked_add(inner_total).is_none_or(|n| n > have) {
            return Err(EINVAL);
        }
        let iif = self.iif();
        // SAFETY: the skb is ours (type invariant); `__iptunnel_pull_header`
        // checks that `len` bytes are there, pulls them, resets the network
        // header to the inner packet and clears tunnel offload state.
        let r = unsafe {
            bindings::__iptunnel_pull_header(
                self.raw(),
                len,
                (bindings::ETH_P_IP as u16).to_be(),
                false,
                false,
            )
        };
        kernel::error::to_result(r)?;
        self.set_iif(iif);
        // SAFETY: the skb is ours (type invariant); this resets its IPv4
        // control block, which only the stack's IPv4 layer reads, to what
        // `ip_rcv_core` gives a received packet (the `skb_iif` set above).
        unsafe { helpers::dnat_skb_reset_ipcb(self.raw()) };
        if total < self.len() {
            // Trimming may reallocate the data, which nothing here points
            // into.
            // SAFETY: the skb is ours (type invariant).
            let r = unsafe { bindings::pskb_trim_rcsum(self.raw(), total) };
            kernel::error::to_result(r)?;
        }
        // SAFETY: the skb is ours (type invariant); the data now starts at
        // the inner IPv4 header, which becomes the network header.
        unsafe { bindings::skb_reset_network_header(self.raw()) };
        // SAFETY: the skb is ours; the transport header follows the inner
        // header's `ilen` bytes, which the caller checked are in the packet.
        unsafe { bindings::skb_set_transport_header(self.raw(), ilen) };
        Ok(())
    }
}

/// A port field of a TCP or UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortField {
    /// The source port (bytes 0 and 1).
    Src,
    /// The destination port (bytes 2 and 3).
    Dst,
}

impl SkBuff<'_> {
    /// The packet's checksum state (`skb->ip_summed`, `CHECKSUM_*`).
    fn ip_summed(&self) -> u32 {
        // SAFETY: the skb is valid (type invariant).
        u32::from(unsafe { bindings::skb_ip_summed(self.raw()) })
    }

    /// Whether the packet's route hands it to XFRM (an IPsec policy
    /// matched): the transformed packet comes back through the output path.
    pub fn xfrm_pending(&self) -> bool {
        // SAFETY: the skb is valid (type invariant); `skb_dst` returns its
        // route or null, and a route a packet holds stays valid while the
        // packet is ours; `xfrm` is a plain field of it.
        unsafe {
            let dst = bindings::skb_dst(self.raw());
            !dst.is_null() && !(*dst).xfrm.is_null()
        }
    }

    /// Whether the packet's transport checksum is left to the device
    /// (`CHECKSUM_PARTIAL`): the checksum field then holds only a partial
    /// sum, which a rewrite must not adjust as a full one.
    pub fn checksum_partial(&self) -> bool {
        self.ip_summed() == bindings::CHECKSUM_PARTIAL
    }

    /// Runs `f` on the first `len` bytes of the packet from the network
    /// (IPv4) header on, made linear and unshared first
    /// (`skb_ensure_writable`), so that `f` may change them in place.
    /// Fails, with nothing changed, if the packet is shorter or memory
    /// runs out. `f` must keep every checksum that covers what it changes
    /// right (incremental updates keep a `CHECKSUM_COMPLETE` sum right as
    /// long as the covered sum does not change, as when a field and the
    /// checksum covering it change by opposite amounts).
    pub fn with_network_mut<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        let skb = self.raw();
        // SAFETY: the skb is valid (type invariant).
        let nh = unsafe { bindings::skb_network_offset(skb) };
        let need = usize::try_from(nh)
            .ok()
            .and_then(|n| n.checked_add(len))
            .and_then(|n| c_uint::try_from(n).ok())
            .ok_or(EINVAL)?;
        // SAFETY: the skb is ours; `skb_ensure_writable` checks `need`
        // against the packet and makes the first `need` bytes (up to the
        // end of the network header's `len` bytes) linear and unshared.
        kernel::error::to_result(unsafe { bindings::skb_ensure_writable(skb, need) })?;
        // SAFETY: the skb is valid; after `skb_ensure_writable` the network
        // header is at a valid position of the (possibly new) linear data.
        let start = unsafe { bindings::skb_network_header(skb) };
        // SAFETY: `start..start + len` lies in the linear, unshared data
        // (above), which nothing else references while the hook owns the
        // packet; the slice does not outlive this call.
        let bytes = unsafe { core::slice::from_raw_parts_mut(start, len) };
        Ok(f(bytes))
    }

    /// Rewrites a port of the TCP (`proto` 6) or UDP (17) header that
    /// follows the packet's `ihl`-byte IPv4 header, and fixes the transport
    /// checksum for the packet's checksum state as the kernel's own NAT
    /// does (`inet_proto_csum_replace2`: with `CHECKSUM_PARTIAL` the field
    /// holds only the pseudo-header sum, which ports are not part of; a UDP
    /// checksum of 0, "none", stays 0). Unshares the header first if it is
    /// cloned. Returns the old port.
    pub fn set_l4_port(
        &mut self,
        ihl: usize,
        proto: u8,
        field: PortField,
        new: u16,
    ) -> Result<u16> {
        let (check_off, udp) = match proto {
            6 => (16usize, false),
            17 => (6usize, true),
            _ => return Err(EINVAL),
        };
        let port_off = match field {
            PortField::Src => 0usize,
            PortField::Dst => 2usize,
        };
        let skb = self.raw();
        // SAFETY: the skb is valid (type invariant).
        let nh = unsafe { bindings::skb_network_offset(skb) };
        let need = usize::try_from(nh)
            .ok()
            .and_then(|n| n.checked_add(ihl)?.checked_add(check_off + 2))
            .and_then(|n| c_uint::try_from(n).ok())
            .ok_or(EINVAL)?;
        // SAFETY: the skb is ours; `skb_ensure_writable` checks the length
        // against the packet and makes the first `need` bytes linear and
        // unshared.
        kernel::error::to_result(unsafe { bindings::skb_ensure_writable(skb, need) })?;
        let partial = self.ip_summed() == bindings::CHECKSUM_PARTIAL;
        // `need` covers the network header offset, `ihl`, the port and the
        // checksum field (checked above), and those bytes are linear and
        // writable: every pointer below stays inside them. `__sum16` is
        // 2-aligned there since `ihl`, the offsets and the network header
        // (at least 2-aligned) are.
        // SAFETY: the skb is ours; its network header is set.
        let l4 = unsafe { bindings::skb_network_header(skb).add(ihl) };
        // SAFETY: `port_off + 2 <= check_off + 2` bytes into the transport
        // header are within the first `need` bytes (above).
        let port = unsafe { l4.add(port_off) };
        // SAFETY: `port` and `port + 1` are within the first `need` bytes.
        let old = u16::from_be_bytes(unsafe { [*port, *port.add(1)] });
        let raw_old = u16::from_ne_bytes(old.to_be_bytes());
        let raw_new = u16::from_ne_bytes(new.to_be_bytes());
        // SAFETY: the 2 bytes at `port` are writable and do not overlap the
        // local array.
        unsafe { core::ptr::copy_nonoverlapping(new.to_be_bytes().as_ptr(), port, 2) };
        // SAFETY: the checksum field at `check_off` is within the first
        // `need` bytes.
        let check = unsafe { l4.add(check_off) }.cast::<bindings::__sum16>();
        // SAFETY: `check` is a readable, aligned `__sum16` (above).
        if !udp || partial || unsafe { *check } != 0 {
            // SAFETY: `check` is the writable, aligned checksum field of
            // this skb's transport header; the skb is ours.
            unsafe {
                bindings::inet_proto_csum_replace4(
                    check,
                    skb,
                    u32::from(raw_old),
                    u32::from(raw_new),
                    false,
                )
            };
            // SAFETY: `check` is a readable, aligned `__sum16` (above).
            if udp && !partial && unsafe { *check } == 0 {
                // 0 means "no checksum" in UDP: send its other form.
                // SAFETY: `check` is writable (above).
                unsafe { *check = 0xffff };
            }
        }
        Ok(old)
    }
}

/// The outer header: DF clear, ID 0 (set by the caller), checksum left for
/// `ip_local_out` or the caller. `None` if the outer packet would exceed
/// the 65,535 bytes an IPv4 length can say.
fn outer_header(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, inner_len: u32) -> Option<[u8; IPV4_HLEN]> {
    let total = u16::try_from(usize::try_from(inner_len).ok()? + IPV4_HLEN).ok()?;
    let mut h = [0u8; IPV4_HLEN];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[8] = ttl;
    h[9] = bindings::IPPROTO_IPIP as u8;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    Some(h)
}
