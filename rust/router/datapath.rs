// SPDX-License-Identifier: GPL-2.0

//! The router's data path, in `PRE_ROUTING` after defragmentation.
//!
//! - Inbound (WAN, to the public address): the owner of the destination
//!   port (TCP/UDP, ESP in UDP), of the SPI (ESP/AH), of an ICMP query
//!   reply's identifier, or of what an ICMP error quotes (a source port, a
//!   query identifier, an outbound SA of the host) gets the packet,
//!   unchanged, inside an IP-in-IP header from the router's LAN address;
//!   ESP, AH and ESP in UDP only if the DoS control lets them through.
//!   Packets nobody owns go on to the router's own stack.
//! - Errors the router's own stack sends about a host's packets reach the
//!   public address through `lo`; they are tunnelled to the host too.
//! - Outbound (LAN, IP-in-IP to the router's LAN address): the inner
//!   destination must not be the router itself, and the outer source must
//!   own the inner source port (TCP/UDP), the ICMP query identifier or the
//!   port an ICMP error quotes, or be a known host (ESP/AH, whose SA the
//!   router then learns); the outer header is removed and the stack
//!   forwards the inner packet. Anything else is dropped.
//!
//! Lookups are lock-free loads from the allocation tables; nothing is
//! allocated per packet.

use core::net::Ipv4Addr;

use crate::atomic::Relaxed;

use crate::alloc_table::Shared;
use crate::checksum;
use crate::classify::{self, InKey, OutRefusal, Proof};
use crate::ffi::netfilter::{HookState, Verdict};
use crate::ffi::rcu::monotonic_seconds;
use crate::ffi::route;
use crate::ffi::skb::SkBuff;
use crate::ipv4::{icmp, proto, Header};
use crate::out_sa::Learnt;
use crate::sa_table::{self, DropReason};
use crate::stat::DataStat;
use crate::state::RouterNet;

/// TTL of the outer header towards a host (one LAN hop).
const OUTER_TTL: u8 = 64;

/// Seconds on the clock of the table of outbound SAs.
fn now() -> u32 {
    monotonic_seconds() as u32
}

/// The owner of an inbound packet with key `key`: by port (TCP, UDP, ESP
/// in UDP, ICMP identifiers), by SPI, or, for an error quoting a host's
/// ESP or AH, by the table of outbound SAs.
fn owner_of(st: &RouterNet, shared: &Shared<'_>, key: InKey) -> Option<(u16, Ipv4Addr)> {
    match key {
        InKey::Port(p) | InKey::IcmpId(p) | InKey::EspInUdp { port: p, .. } => shared.port_owner(p),
        InKey::Spi(s) => shared.spi_owner(s),
        InKey::QuotedSa(sa) => {
            let slot = st
                .tables
                .out_sa()?
                .lookup(&sa, now())
                .filter(|&s| !st.is_revoked(s))?;
            Some((slot, shared.host_addr(slot)?))
        }
        InKey::None => None,
    }
}

/// The counter of an ICMP message of type `t` delivered by `key`.
fn icmp_stat(t: u8, key: InKey) -> DataStat {
    match (icmp::class(t), key) {
        (icmp::Class::Reply, _) => DataStat::InIcmpReply,
        (_, InKey::QuotedSa(_)) => DataStat::InIcmpErrorSa,
        _ => DataStat::InIcmpErrorPort,
    }
}

/// The first bytes of the transport header after `h` that the
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

/// Tunnels `skb`, a packet of `len` bytes (IPv4 total length) owned by
/// the host in `slot` at `host`, to it: an outer IPv4 header from the
/// router's LAN address, out of the LAN interface.
fn deliver(
    st: &RouterNet,
    skb: SkBuff<'_>,
    len: usize,
    hs: &HookState,
    lan: u32,
    lan_addr: Ipv4Addr,
    (slot, host): (u16, Ipv4Addr),
) -> Verdict {
    let Some(route) = st.hosts().and_then(|hs| hs.routes.get(usize::from(slot))) else {
        st.data.bump(DataStat::InEncapFailed);
        return Verdict::Drop;
    };
    let v = skb.ipip_encap_send(hs.net(), route, lan_addr, host, lan, OUTER_TTL);
    if v == Verdict::Stolen {
        st.data.bump(DataStat::InDelivered);
        st.count_traffic(|h| &h.host_in, slot, len);
    } else {
        st.data.bump(DataStat::InEncapFailed);
    }
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
    let mut buf = [0u8; classify::L4_PEEK];
    // Only the bytes the protocol's key needs (an ICMP error's quote is
    // the longest).
    let l4 = if h.frag_offset == 0 {
        peek(&skb, h, h.header_len, &mut buf)
    } else {
        None
    };
    let Some(l4) = l4 else {
        st.data.bump(DataStat::InUnowned);
        return Verdict::Accept;
    };
    let Some(shared) = st.tables.shared() else {
        return Verdict::Accept;
    };
    let key = classify::inbound_key(h, l4, public);
    let owner = owner_of(st, &shared, key);
    if let Some((slot, _)) = owner {
        // DoS control: the owner must have validated the sender for this
        // SPI (strict policy) and not blacklisted it; ESP in UDP must also
        // carry an SPI of the owner of its port.
        let v = st.tables.sa_shared().and_then(|sa| match key {
            InKey::Spi(spi) => Some(sa.check(h.src, spi, slot)),
            InKey::EspInUdp { spi, .. } => {
                let spi_owner = shared.spi_owner(spi).map(|(s, _)| s);
                Some(sa.check_in_udp(h.src, spi, slot, spi_owner))
            }
            InKey::Port(_) | InKey::IcmpId(_) | InKey::QuotedSa(_) | InKey::None => None,
        });
        let permissive = st.sa_permissive.load(Relaxed) != 0;
        if let Some(sa_table::Verdict::Drop(reason)) = v.filter(|v| v.drops(permissive)) {
            st.data.bump(match reason {
                DropReason::Blacklisted => DataStat::InSaBlacklisted,
                DropReason::NotValidated => DataStat::InSaNotValidated,
                DropReason::NotSpiOwner => DataStat::InSaNotSpiOwner,
            });
            st.count_host(|h| &h.host_sa_dropped, slot);
            return Verdict::Drop;
        }
    }
    let icmp_type = (h.protocol == proto::ICMP)
        .then(|| l4.first().copied())
        .flatten();
    let Some(owner) = owner else {
        st.data.bump(DataStat::InUnowned);
        if icmp_type.is_some_and(|t| icmp::class(t) != icmp::Class::Request) {
            st.data.bump(DataStat::InIcmpUnowned);
        }
        return if st.drop_unowned.load(Relaxed) != 0 {
            Verdict::Drop
        } else {
            Verdict::Accept
        };
    };
    let Some(lan_addr) = st.lan_addr(hs.net(), lan) else {
        st.data.bump(DataStat::InEncapFailed);
        return Verdict::Drop;
    };
    let v = deliver(st, skb, h.total_len, hs, lan, lan_addr, owner);
    if let (Some(t), Verdict::Stolen) = (icmp_type, v) {
        st.data.bump(icmp_stat(t, key));
    }
    v
}

/// An ICMP packet `h` to the public address that came in through the
/// loopback device: what the router's own stack sends to the public
/// address. The errors among them that are about a host's packet (time
/// exceeded, fragmentation needed while forwarding what a host sent:
/// `icmp_send` addresses them to the quoted source, the public address,
/// which is local, so they go out through `LOCAL_OUT` and `lo` and come
/// back in here) are classified like inbound errors and tunnelled to that
/// host, from the router's LAN address: the host's stack would take an
/// error from its own public address for a martian. Everything else is the
/// router's own.
pub fn local_error(
    st: &RouterNet,
    mut skb: SkBuff<'_>,
    hs: &HookState,
    h: &Header,
    lan: u32,
    public: Ipv4Addr,
) -> Verdict {
    let mut buf = [0u8; classify::L4_PEEK];
    let Some(l4) = peek(&skb, h, h.header_len, &mut buf).filter(|_| !h.is_fragment) else {
        return Verdict::Accept;
    };
    if !l4.first().is_some_and(|&t| icmp::is_error(t)) {
        return Verdict::Accept;
    }
    let Some(shared) = st.tables.shared() else {
        return Verdict::Accept;
    };
    let key = classify::inbound_key(h, l4, public);
    let Some(owner) = owner_of(st, &shared, key) else {
        return Verdict::Accept;
    };
    let Some(lan_addr) = st.lan_addr(hs.net(), lan) else {
        st.data.bump(DataStat::InEncapFailed);
        return Verdict::Drop;
    };
    if h.src == public {
        // From the LAN address instead; the IPv4 checksum follows (the
        // ICMP checksum does not cover addresses).
        let (old, new) = (u32::from(public), u32::from(lan_addr));
        let r = skb.with_network_mut(crate::ipv4::HEADER_LEN, |b| {
            // Checksum at 10, source address at 12.
            let Some([c0, c1, a0, a1, a2, a3]) = b.get_mut(10..16) else {
                return false;
            };
            let c = checksum::update32(u16::from_be_bytes([*c0, *c1]), old, new);
            [*a0, *a1, *a2, *a3] = lan_addr.octets();
            [*c0, *c1] = c.to_be_bytes();
            true
        });
        if r != Ok(true) {
            st.data.bump(DataStat::InEncapFailed);
            return Verdict::Drop;
        }
    }
    let v = deliver(st, skb, h.total_len, hs, lan, lan_addr, owner);
    if v == Verdict::Stolen {
        st.data.bump(DataStat::LocalIcmpError);
    }
    v
}

/// An IP-in-IP packet `h` from the LAN to the router's LAN address.
pub fn outbound(
    st: &RouterNet,
    mut skb: SkBuff<'_>,
    hs: &HookState,
    h: &Header,
    public: Ipv4Addr,
) -> Verdict {
    let mut ib = [0u8; 60];
    let inner_len = h.total_len.saturating_sub(h.header_len);
    let Some(first) = ib.get_mut(..crate::ipv4::HEADER_LEN) else {
        return Verdict::Drop;
    };
    if skb.copy_from_network(h.header_len, first).is_err() {
        st.data.bump(DataStat::OutBadInner);
        return Verdict::Drop;
    }
    let ihl = usize::from(ib[0] & 0x0f) * 4;
    if ihl > crate::ipv4::HEADER_LEN {
        let ok = ib
            .get_mut(..ihl)
            .is_some_and(|b| skb.copy_from_network(h.header_len, b).is_ok());
        if !ok {
            st.data.bump(DataStat::OutBadInner);
            return Verdict::Drop;
        }
    }
    let Ok(inner) = Header::parse(&ib, inner_len) else {
        st.data.bump(DataStat::OutBadInner);
        return Verdict::Drop;
    };
    // Only what the inner protocol's proof needs (ICMP errors: the quote).
    let mut buf = [0u8; classify::L4_PEEK];
    let Some(l4) = peek(&skb, &inner, h.header_len + inner.header_len, &mut buf) else {
        st.data.bump(DataStat::OutBadInner);
        return Verdict::Drop;
    };
    let Some(shared) = st.tables.shared() else {
        return Verdict::Drop;
    };
    // The sender's slot: from the port's owner for TCP/UDP and ICMP (one
    // load); from the host index (two loads) for ESP/AH and on the drop
    // path. The inner destination must not be the router: its own
    // addresses (public, LAN: `h.dst`) and what is not unicast are refused
    // by the classification, any other address of its own by its routing
    // tables.
    let proof = classify::outbound_proof(&inner, l4, public, h.dst).and_then(|p| {
        if route::is_local_destination(hs.net(), inner.dst) {
            Err(OutRefusal::LocalDestination)
        } else {
            Ok(p)
        }
    });
    let sender = match proof {
        Ok(Proof::Port(p)) => shared
            .port_owner(p)
            .filter(|&(_, a)| a == h.src)
            .map(|(s, _)| s),
        Ok(Proof::KnownHost) => shared
            .find_host(u32::from(h.src))
            .filter(|&s| !st.is_revoked(s)),
        Err(e) => {
            st.data.bump(match e {
                OutRefusal::NotPublicSource => DataStat::OutNotPublicSource,
                OutRefusal::Protocol => DataStat::OutProtocol,
                OutRefusal::Truncated | OutRefusal::Fragment => DataStat::OutBadInner,
                OutRefusal::LocalDestination => DataStat::OutLocalDestination,
                OutRefusal::IcmpType => DataStat::OutIcmpType,
                OutRefusal::IcmpQuote => DataStat::OutIcmpQuote,
            });
            return Verdict::Drop;
        }
    };
    let Some(sender) = sender else {
        st.data.bump(DataStat::OutSpoofed);
        if let Some(slot) = shared.find_host(u32::from(h.src)) {
            st.count_host(|h| &h.host_spoofed, slot);
        }
        return Verdict::Drop;
    };
    // The SA of an ESP/AH packet, so that errors quoting it reach the
    // sender (before the decapsulation, which may move the bytes `l4`
    // was copied from; `l4` is a copy).
    let sa = classify::outbound_sa(&inner, l4);
    if skb
        .ipip_decap(h.header_len, inner.header_len, inner.total_len)
        .is_err()
    {
        st.data.bump(DataStat::OutDecapFailed);
        return Verdict::Drop;
    }
    if let (Some(sa), Some(o)) = (sa, st.tables.out_sa()) {
        match o.learn(&sa, sender, now()) {
            Learnt::Full => st.data.bump(DataStat::OutSaFull),
            Learnt::HostLimit => st.data.bump(DataStat::OutSaHostLimit),
            Learnt::Conflict => st.data.bump(DataStat::OutSaConflict),
            Learnt::Refreshed | Learnt::Added | Learnt::Invalid => {}
        }
    }
    st.data.bump(DataStat::OutForwarded);
    st.count_traffic(|h| &h.host_out, sender, inner.total_len);
    Verdict::Accept
}

/// A packet from the LAN that is not tunnelled to the router but claims the
/// public address as its source: dropped, it would bypass the ownership
/// check (the router accepts its own address from the LAN only so that it
/// can forward what it decapsulates).
pub fn untunnelled(st: &RouterNet) -> Verdict {
    st.data.bump(DataStat::OutUntunnelled);
    Verdict::Drop
}
