// SPDX-License-Identifier: GPL-2.0

//! The router's data path, in `PRE_ROUTING` after defragmentation.
//!
//! - Inbound (WAN, to the public address): the owner of the destination
//!   port (TCP/UDP, ESP in UDP), of the SPI (ESP/AH), or of the source port
//!   quoted in an ICMP error gets the packet, unchanged, inside an IP-in-IP
//!   header from the router's LAN address; ESP, AH and ESP in UDP only if
//!   the DoS control lets them through. Packets nobody owns go on to the
//!   router's own stack.
//! - Outbound (LAN, IP-in-IP to the router's LAN address): the inner
//!   destination must not be the router itself, and the outer source must
//!   own the inner source port (TCP/UDP) or be a known host (ESP/AH); then
//!   the outer header is removed and the stack forwards the inner packet.
//!   Anything else is dropped.
//!
//! Lookups are lock-free loads from the allocation tables; nothing is
//! allocated per packet.

use core::net::Ipv4Addr;

use crate::atomic::{Atomic, Relaxed};

use crate::classify::{self, Key, OutError, Proof};
use crate::ffi::netfilter::{HookState, Verdict};
use crate::ffi::route;
use crate::ffi::skb::SkBuff;
use crate::ipv4::Header;
use crate::sa_table::{self, DropReason};
use crate::state::RouterNet;

/// TTL of the outer header towards a host (one LAN hop).
const OUTER_TTL: u8 = 64;

/// Data-path counters.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub enum DataStat {
    /// Inbound packets tunnelled to their owner.
    InDelivered,
    /// Inbound packets nobody owns (left to the router's stack, or dropped
    /// when the router is configured so).
    InUnowned,
    /// Inbound packets that could not be tunnelled (no route, no memory).
    InEncapFailed,
    /// Outbound packets decapsulated and forwarded.
    OutForwarded,
    /// Outbound packets whose host does not own the source port or holds
    /// nothing (spoofing).
    OutSpoofed,
    /// Outbound packets whose inner source is not the public address.
    OutNotPublicSource,
    /// Outbound inner protocols not forwarded for hosts.
    OutProtocol,
    /// Outbound packets with a malformed or truncated inner packet.
    OutBadInner,
    /// Outbound packets that could not be decapsulated.
    OutDecapFailed,
    /// Packets from the LAN with the public address as source that were not
    /// tunnelled to the router (they would skip the ownership check).
    OutUntunnelled,
    /// Inbound ESP/AH whose (source, SPI) the owner has not validated
    /// (strict SA policy).
    InSaNotValidated,
    /// Inbound ESP/AH matching a blacklist entry of the owner.
    InSaBlacklisted,
    /// Inbound ESP in UDP (NAT traversal) whose SPI the owner of the UDP
    /// destination port does not hold.
    InSaNotSpiOwner,
    /// Outbound packets whose inner destination is the router itself (an
    /// address of its own, a broadcast or multicast address).
    OutLocalDestination,
}

impl DataStat {
    /// Number of counters.
    pub const COUNT: usize = 14;
    const NAMES: [&'static str; Self::COUNT] = [
        "in_delivered",
        "in_unowned",
        "in_encap_failed",
        "out_forwarded",
        "out_spoofed",
        "out_not_public_source",
        "out_protocol",
        "out_bad_inner",
        "out_decap_failed",
        "out_untunnelled",
        "in_sa_not_validated",
        "in_sa_blacklisted",
        "in_sa_not_spi_owner",
        "out_local_destination",
    ];
}

/// The data path's counters.
pub struct DataStats([Atomic<u64>; DataStat::COUNT]);

impl DataStats {
    /// All zero.
    pub const fn new() -> Self {
        Self([const { Atomic::<u64>::new(0) }; DataStat::COUNT])
    }

    fn bump(&self, s: DataStat) {
        if let Some(c) = self.0.get(s as usize) {
            c.add(1, Relaxed);
        }
    }

    /// Counter `i`: its name and value.
    pub fn entry(&self, i: usize) -> Option<(&'static str, u64)> {
        Some((*DataStat::NAMES.get(i)?, self.0.get(i)?.load(Relaxed)))
    }
}

impl Default for DataStats {
    fn default() -> Self {
        Self::new()
    }
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
    let mut l4 = [0u8; classify::L4_PEEK];
    // Only the bytes the protocol's key needs (an ICMP error's quote is
    // the longest).
    let n = h
        .total_len
        .saturating_sub(h.header_len)
        .min(classify::peek_len(h.protocol));
    let Some(l4) = l4.get_mut(..n) else {
        return Verdict::Accept;
    };
    if h.frag_offset != 0 || skb.copy_from_network(h.header_len, l4).is_err() {
        st.data.bump(DataStat::InUnowned);
        return Verdict::Accept;
    }
    let Some(shared) = st.tables.shared() else {
        return Verdict::Accept;
    };
    let key = classify::inbound(h, l4, public);
    let owner = match key {
        Key::Port(p) | Key::EspInUdp { port: p, .. } => shared.port_owner(p),
        Key::Spi(s) => shared.spi_owner(s),
        Key::None => None,
    };
    if let Some((slot, _)) = owner {
        // DoS control: the owner must have validated the sender for this
        // SPI (strict policy) and not blacklisted it; ESP in UDP must also
        // carry an SPI of the owner of its port.
        let v = st.tables.sa_shared().and_then(|sa| match key {
            Key::Spi(spi) => Some(sa.check(h.src, spi, slot)),
            Key::EspInUdp { spi, .. } => {
                let spi_owner = shared.spi_owner(spi).map(|(s, _)| s);
                Some(sa.check_in_udp(h.src, spi, slot, spi_owner))
            }
            Key::Port(_) | Key::None => None,
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
    let Some((slot, host)) = owner else {
        st.data.bump(DataStat::InUnowned);
        return if st.drop_unowned.load(Relaxed) != 0 {
            Verdict::Drop
        } else {
            Verdict::Accept
        };
    };
    let net = hs.net();
    let Some(lan_addr) = st.lan_addr(net, lan) else {
        st.data.bump(DataStat::InEncapFailed);
        return Verdict::Drop;
    };
    let Some(route) = st.hosts().and_then(|hs| hs.routes.get(usize::from(slot))) else {
        st.data.bump(DataStat::InEncapFailed);
        return Verdict::Drop;
    };
    let v = skb.ipip_encap_send(net, route, lan_addr, host, lan, OUTER_TTL);
    if v == Verdict::Stolen {
        st.data.bump(DataStat::InDelivered);
        st.count_host(|h| &h.host_in, slot);
    } else {
        st.data.bump(DataStat::InEncapFailed);
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
    let mut l4b = [0u8; 4];
    let n = inner
        .total_len
        .saturating_sub(inner.header_len)
        .min(l4b.len());
    let ok = l4b.get_mut(..n).is_some_and(|b| {
        skb.copy_from_network(h.header_len + inner.header_len, b)
            .is_ok()
    });
    if !ok {
        st.data.bump(DataStat::OutBadInner);
        return Verdict::Drop;
    }
    let l4 = l4b.get(..n).unwrap_or(&[]);
    let Some(shared) = st.tables.shared() else {
        return Verdict::Drop;
    };
    // The sender's slot: from the port's owner for TCP/UDP (one load); from
    // the host index (two loads) for ESP/AH and on the drop path.
    // The inner destination must not be the router: its own addresses
    // (public, LAN: `h.dst`) and what is not unicast are refused by the
    // classification, any other address of its own by its routing tables.
    let proof = classify::outbound(&inner, l4, public, h.dst).and_then(|p| {
        if route::is_local_destination(hs.net(), inner.dst) {
            Err(OutError::LocalDestination)
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
                OutError::NotPublicSource => DataStat::OutNotPublicSource,
                OutError::Protocol => DataStat::OutProtocol,
                OutError::Truncated | OutError::Fragment => DataStat::OutBadInner,
                OutError::LocalDestination => DataStat::OutLocalDestination,
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
    if skb
        .ipip_decap(h.header_len, inner.header_len, inner.total_len)
        .is_err()
    {
        st.data.bump(DataStat::OutDecapFailed);
        return Verdict::Drop;
    }
    st.data.bump(DataStat::OutForwarded);
    st.count_host(|h| &h.host_out, sender);
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
