// SPDX-License-Identifier: GPL-2.0

//! The router's data path, in `PRE_ROUTING` after defragmentation: the
//! kernel glue of `dnat-core/src/router_path.rs`, which decides.
//!
//! - Inbound (WAN, to the public address): the owner of the destination
//!   port, SPI, ICMP identifier or of what an ICMP error quotes gets the
//!   packet, unchanged, inside an IP-in-IP header from the router's LAN
//!   address, if the DoS control lets it through; what nobody owns goes
//!   on to the router's own stack (or is dropped, as configured).
//! - Errors the router's own stack sends about a host's packets reach the
//!   public address through `lo`; they are tunnelled to the host too.
//! - Outbound (LAN, IP-in-IP to the router's LAN address): if the outer
//!   source owns what the inner packet uses, the outer header is removed
//!   and the stack forwards the inner packet; anything else is dropped.
//! - Direct delivery (hosts in direct mode): inbound packets go unchanged
//!   to the host's neighbour entry; the host's untunnelled packets are
//!   forwarded as they are if they come from its bound Ethernet address
//!   on the LAN device and use what it owns.
//!
//! Here: the bytes the decisions need are copied out of the skb, the
//! decisions read the namespace through [`Ctx`], and the skb is
//! tunnelled, decapsulated, accepted or dropped as they say. Lookups are
//! lock-free loads; nothing is allocated per packet.

use core::net::Ipv4Addr;

use crate::common::atomic::Relaxed;
use crate::dnat_core::alloc_table::{Shared, Slot};
use crate::dnat_core::classify;
use crate::dnat_core::direct::{Binding, Lladdr};
use crate::dnat_core::ipv4::{proto, Header};
use crate::dnat_core::out_sa::OutSaShared;
use crate::dnat_core::router_path::{
    self, Delivery, HostCount, Iface, Inbound, Outbound, Path, Traffic, View,
};
use crate::dnat_core::sa_table::SaShared;
use crate::dnat_core::stat::DataStat;
use crate::ffi::net::{Net, LOOPBACK_IFINDEX};
use crate::ffi::netfilter::{HookState, NetHook, Verdict};
use crate::ffi::pernet::Pernet;
use crate::ffi::rcu::monotonic_seconds;
use crate::ffi::route;
use crate::ffi::skb::SkBuff;
use crate::router::state::RouterNet;

/// TTL of the outer header towards a host (one LAN hop).
const OUTER_TTL: u8 = 64;

/// What the decisions read and count: the namespace's state.
pub struct Ctx<'a> {
    st: &'a RouterNet,
    net: &'a Net,
}

impl<'a> Ctx<'a> {
    /// The data path's view of `st`, in `net`.
    pub fn new(st: &'a RouterNet, net: &'a Net) -> Self {
        Self { st, net }
    }
}

impl View for Ctx<'_> {
    fn alloc(&self) -> Option<Shared<'_>> {
        self.st.tables.shared()
    }

    fn sa(&self) -> Option<SaShared<'_>> {
        self.st.tables.sa_shared()
    }

    fn out_sa(&self) -> Option<OutSaShared<'_>> {
        self.st.tables.out_sa()
    }

    fn now(&self) -> u32 {
        monotonic_seconds() as u32
    }

    fn is_revoked(&self, slot: Slot) -> bool {
        self.st.is_revoked(slot)
    }

    fn binding(&self, slot: Slot) -> Binding {
        self.st
            .hosts()
            .map_or(Binding::Ipip, |h| h.direct.get(slot))
    }

    fn bound_slot(&self, m: Lladdr) -> Option<Slot> {
        self.st.hosts()?.direct.slot_of(m)
    }

    fn drop_unowned(&self) -> bool {
        self.st.drop_unowned.load(Relaxed) != 0
    }

    fn sa_permissive(&self) -> bool {
        self.st.sa_permissive.load(Relaxed) != 0
    }

    fn is_local(&self, addr: Ipv4Addr) -> bool {
        route::is_local_destination(self.net, addr)
    }

    fn count(&self, s: DataStat) {
        self.st.data.bump(s);
    }

    fn count_host(&self, c: HostCount, slot: Slot) {
        match c {
            HostCount::Spoofed => self.st.count_host(|h| &h.host_spoofed, slot),
            HostCount::SaDropped => self.st.count_host(|h| &h.host_sa_dropped, slot),
        }
    }

    fn count_traffic(&self, t: Traffic, slot: Slot, len: usize) {
        match t {
            Traffic::In => self.st.count_traffic(|h| &h.host_in, slot, len),
            Traffic::Out => self.st.count_traffic(|h| &h.host_out, slot, len),
        }
    }
}

/// The first bytes of the transport header after `h` (at `at`) that the
/// classification of protocol `h.protocol` needs, copied into `buf`:
/// `None` if they cannot be read.
fn peek<'b>(skb: &SkBuff<'_>, h: &Header, at: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let n = h
        .total_len
        .saturating_sub(h.header_len)
        .min(classify::peek_len(h.protocol));
    let b = buf.get_mut(..n)?;
    skb.copy_from_network(at, b).ok()?;
    Some(b)
}

/// Tunnels `skb` (IPv4 total length `len`) to the host of `d`: an outer
/// IPv4 header from the router's LAN address `lan_addr`, out of the LAN
/// interface `lan`; or, for a direct-mode host, sends it unchanged to the
/// host's neighbour entry out of `lan`.
fn deliver(
    cx: &Ctx<'_>,
    skb: SkBuff<'_>,
    len: usize,
    (lan, lan_addr): (u32, Option<Ipv4Addr>),
    d: &Delivery,
) -> Verdict {
    let hosts = cx.st.hosts();
    let route = hosts.and_then(|hs| match d.lladdr {
        Some(_) => hs.direct_routes.get(usize::from(d.slot)),
        None => hs.routes.get(usize::from(d.slot)),
    });
    let (Some(lan_addr), Some(route)) = (lan_addr, route) else {
        router_path::delivered(cx, d, len, false);
        return Verdict::Drop;
    };
    let v = match d.lladdr {
        Some(_) => skb.direct_send(cx.net, route, lan_addr, d.host, lan),
        None => skb.ipip_encap_send(cx.net, route, lan_addr, d.host, lan, OUTER_TTL),
    };
    router_path::delivered(cx, d, len, v == Verdict::Stolen);
    v
}

/// An inbound packet `h` on the WAN for the public address.
pub fn inbound(
    st: &RouterNet,
    skb: SkBuff<'_>,
    hs: &HookState,
    h: &Header,
    lan: u32,
    public: Ipv4Addr,
) -> Verdict {
    let cx = Ctx::new(st, hs.net());
    let mut buf = [0u8; classify::L4_PEEK];
    // Only the bytes the protocol's key needs (an ICMP error's quote is
    // the longest).
    let l4 = if h.frag_offset == 0 {
        peek(&skb, h, h.header_len, &mut buf)
    } else {
        None
    };
    match router_path::inbound(&cx, h, l4, public) {
        Inbound::Accept => Verdict::Accept,
        Inbound::Drop => Verdict::Drop,
        Inbound::Deliver(d) => {
            let lan_addr = st.lan_addr(cx.net, lan);
            deliver(&cx, skb, h.total_len, (lan, lan_addr), &d)
        }
    }
}

/// An ICMP packet `h` to the public address that came in through the
/// loopback device (`router_path::local_error`): tunnelled to the host
/// it is about, from the router's LAN address.
pub fn local_error(
    st: &RouterNet,
    mut skb: SkBuff<'_>,
    hs: &HookState,
    h: &Header,
    lan: u32,
    public: Ipv4Addr,
) -> Verdict {
    let cx = Ctx::new(st, hs.net());
    let mut buf = [0u8; classify::L4_PEEK];
    let l4 = peek(&skb, h, h.header_len, &mut buf);
    let Some(d) = router_path::local_error(&cx, h, l4, public) else {
        return Verdict::Accept;
    };
    let lan_addr = st.lan_addr(cx.net, lan);
    if h.src == public {
        // From the LAN address instead (the ICMP checksum does not cover
        // addresses).
        let rewritten = lan_addr.is_some_and(|a| {
            skb.with_network_mut(crate::dnat_core::ipv4::HEADER_LEN, |b| {
                router_path::set_source(b, public, a)
            }) == Ok(true)
        });
        if !rewritten {
            router_path::delivered(&cx, &d, h.total_len, false);
            return Verdict::Drop;
        }
    }
    deliver(&cx, skb, h.total_len, (lan, lan_addr), &d)
}

/// The inner header of the IP-in-IP packet `h` (copied into `ib`) and the
/// first bytes of its payload (into `buf`); `None` if either cannot be
/// read or the header is malformed.
fn inner<'b>(
    skb: &SkBuff<'_>,
    h: &Header,
    ib: &mut [u8; 60],
    buf: &'b mut [u8; classify::L4_PEEK],
) -> Option<(Header, &'b [u8])> {
    let inner_len = h.total_len.saturating_sub(h.header_len);
    let first = ib.get_mut(..crate::dnat_core::ipv4::HEADER_LEN)?;
    skb.copy_from_network(h.header_len, first).ok()?;
    let ihl = usize::from(ib[0] & 0x0f) * 4;
    if ihl > crate::dnat_core::ipv4::HEADER_LEN {
        skb.copy_from_network(h.header_len, ib.get_mut(..ihl)?)
            .ok()?;
    }
    let inner = Header::parse(ib, inner_len).ok()?;
    // Only what the inner protocol's proof needs (ICMP errors: the quote).
    let l4 = peek(skb, &inner, h.header_len + inner.header_len, buf)?;
    Some((inner, l4))
}

/// An IP-in-IP packet `h` from the LAN to the router's LAN address.
pub fn outbound(
    st: &RouterNet,
    mut skb: SkBuff<'_>,
    hs: &HookState,
    h: &Header,
    public: Ipv4Addr,
) -> Verdict {
    let cx = Ctx::new(st, hs.net());
    let (mut ib, mut buf) = ([0u8; 60], [0u8; classify::L4_PEEK]);
    let inner = inner(&skb, h, &mut ib, &mut buf);
    let Outbound::Forward { sender, sa } =
        router_path::outbound(&cx, h, inner.as_ref().map(|(i, l4)| (i, *l4)), public)
    else {
        return Verdict::Drop;
    };
    // `outbound` forwards only what it could read.
    let Some((inner, _)) = inner else {
        return Verdict::Drop;
    };
    let decapped = skb
        .ipip_decap(h.header_len, inner.header_len, inner.total_len)
        .is_ok();
    router_path::forwarded(&cx, sender, sa, inner.total_len, decapped);
    if decapped {
        Verdict::Accept
    } else {
        Verdict::Drop
    }
}

/// A packet that is not tunnelled to the router but claims the public
/// address as its source, from the LAN or another device but the WAN
/// (`router_path::Path::Untunnelled`): forwarded as it is for a
/// direct-mode host from its bound address, else dropped.
pub fn untunnelled(
    st: &RouterNet,
    skb: &SkBuff<'_>,
    hs: &HookState,
    h: &Header,
    from: Iface,
    public: Ipv4Addr,
) -> Verdict {
    let cx = Ctx::new(st, hs.net());
    let mut buf = [0u8; classify::L4_PEEK];
    let l4 = peek(skb, h, h.header_len, &mut buf);
    match router_path::untunnelled(&cx, h, l4, public, from, skb.eth_src()) {
        Outbound::Forward { sender, sa } => {
            router_path::forwarded(&cx, sender, sa, h.total_len, true);
            Verdict::Accept
        }
        Outbound::Drop => Verdict::Drop,
    }
}

/// `PRE_ROUTING`: counts; on the LAN serves PAP and decapsulates what hosts
/// tunnel to the router; on the WAN delivers what hosts own.
pub struct PreRouting;

impl NetHook for PreRouting {
    fn hook(skb: SkBuff<'_>, state: &HookState) -> Verdict {
        let Some(st) = Pernet::<RouterNet>::get(state.net()) else {
            return Verdict::Accept;
        };
        st.counters.count(state.hook());
        let lan = st.lan_ifindex.load(Relaxed);
        if lan == 0 {
            return Verdict::Accept;
        }
        let Some(h) = crate::common::packet::ipv4_header(&skb) else {
            return Verdict::Accept;
        };
        let public = Ipv4Addr::from(st.public_addr.load(Relaxed));
        if h.protocol == proto::ICMP {
            if let Some(v) = crate::router::server::handle(st, &skb, state, &h) {
                return v;
            }
        }
        let from = match state.in_ifindex() {
            Some(i) if i == lan => Iface::Lan,
            Some(i) if i == st.wan_ifindex.load(Relaxed) => Iface::Wan,
            Some(LOOPBACK_IFINDEX) => Iface::Loopback,
            _ => Iface::Other,
        };
        let net = state.net();
        match router_path::path(&h, from, public, || st.lan_addr(net, lan)) {
            Path::Outbound => outbound(st, skb, state, &h, public),
            Path::Untunnelled => untunnelled(st, &skb, state, &h, from, public),
            Path::Inbound => inbound(st, skb, state, &h, lan, public),
            Path::LocalError => local_error(st, skb, state, &h, lan, public),
            Path::Pass => Verdict::Accept,
        }
    }
}
