// SPDX-License-Identifier: GPL-2.0

//! The router's per-packet decisions: which way a packet goes, who owns
//! it, whether the DoS control lets it through, what happens to what
//! nobody owns, and which counters say so.
//!
//! `rust/router/datapath.rs` is the kernel glue: it copies the bytes out
//! of the skb, calls these, and tunnels, decapsulates, accepts or drops
//! as told; the cost examples (`examples/classify_cost.rs`,
//! `icmp_cost.rs`) call the same functions on plain buffers. Everything is
//! read through a [`View`]: the lock-free table views, the settings, the
//! clock, and the counters. Nothing allocates, nothing panics.
//! The rules: Documentation/networking/dnat.rst, "Data path",
//! "Denial-of-service control" and "ICMP".

use core::net::Ipv4Addr;

use super::alloc_table::{Shared, Slot};
use super::checksum;
use super::classify::{self, InKey, OutRefusal, Proof, SaKey};
use super::direct::{Binding, Lladdr};
use super::ipv4::{icmp, proto, Header};
use super::out_sa::{Learnt, OutSaShared};
use super::sa_table::{DropReason, SaShared, Verdict};
use super::stat::DataStat;

/// A per-host counter the data path bumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCount {
    /// Packets the host tunnelled without owning what they use.
    Spoofed,
    /// Inbound ESP/AH to the host dropped by the SA checks.
    SaDropped,
}

/// A direction of a host's traffic, counted in packets and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// Delivered to the host.
    In,
    /// Forwarded for the host.
    Out,
}

/// What the decisions read and count. Every read is lock-free (acquire
/// loads of the tables, relaxed loads of settings); the kernel's is
/// `datapath::Ctx`, the examples' and tests' `store::StoreView`.
pub trait View {
    /// The allocation table (`None` before the first configuration).
    fn alloc(&self) -> Option<Shared<'_>>;
    /// The established-SA table and blacklists.
    fn sa(&self) -> Option<SaShared<'_>>;
    /// The table of hosts' outbound SAs.
    fn out_sa(&self) -> Option<OutSaShared<'_>>;
    /// Seconds on the outbound-SA table's clock.
    fn now(&self) -> u32;
    /// Whether the host in `slot` is revoked.
    fn is_revoked(&self, slot: Slot) -> bool;
    /// How the host in `slot` is delivered to (`direct.rs`).
    fn binding(&self, slot: Slot) -> Binding;
    /// The direct-mode host bound to Ethernet address `m`.
    fn bound_slot(&self, m: Lladdr) -> Option<Slot>;
    /// Drop inbound packets nobody owns (`true`) or leave them to the
    /// router's stack.
    fn drop_unowned(&self) -> bool;
    /// Deliver ESP/AH on the SPI alone (`true`) or only validated pairs.
    fn sa_permissive(&self) -> bool;
    /// Whether `addr` is the router's own by its routing tables (a local
    /// or broadcast address).
    fn is_local(&self, addr: Ipv4Addr) -> bool;
    /// Counts one packet in `s`.
    fn count(&self, s: DataStat);
    /// Counts one packet in the host counter `c` of `slot`.
    fn count_host(&self, c: HostCount, slot: Slot);
    /// Counts one packet of `len` bytes in the traffic `t` of `slot`.
    fn count_traffic(&self, t: Traffic, slot: Slot, len: usize);
}

/// Where a packet came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iface {
    /// The LAN interface.
    Lan,
    /// The WAN interface.
    Wan,
    /// The loopback device: what the router's own stack sends to the
    /// public address.
    Loopback,
    /// Anywhere else.
    Other,
}

/// Which decision a packet in `PRE_ROUTING` goes to ([`path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// IP-in-IP from a host to the router's LAN address: [`outbound`].
    Outbound,
    /// Not tunnelled, with the public address as source, from the LAN
    /// or any device but the WAN and `lo`: forwarded only for a
    /// direct-mode host from its bound address ([`untunnelled`]).
    Untunnelled,
    /// From the WAN to the public address: [`inbound`].
    Inbound,
    /// ICMP to the public address through `lo`: [`local_error`].
    LocalError,
    /// None of the data path's business: accepted.
    Pass,
}

/// The path of packet `h` that came in through `from`, with `public` the
/// public address (unspecified: none) and `lan_addr` the router's LAN
/// address (looked up only for IP-in-IP from the LAN).
pub fn path(
    h: &Header,
    from: Iface,
    public: Ipv4Addr,
    lan_addr: impl FnOnce() -> Option<Ipv4Addr>,
) -> Path {
    if public.is_unspecified() {
        return Path::Pass;
    }
    match from {
        Iface::Lan if h.protocol == proto::IPIP && lan_addr() == Some(h.dst) => Path::Outbound,
        Iface::Lan | Iface::Other if h.src == public => Path::Untunnelled,
        Iface::Wan if h.dst == public => Path::Inbound,
        Iface::Loopback if h.dst == public && h.protocol == proto::ICMP => Path::LocalError,
        _ => Path::Pass,
    }
}

/// A packet for a host: tunnel it to `host`, in `slot`, or send it
/// unchanged to the host's bound link-layer address (`direct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The host's slot.
    pub slot: Slot,
    /// The host's LAN address.
    pub host: Ipv4Addr,
    /// Direct delivery to this Ethernet address; `None`: IP-in-IP.
    pub lladdr: Option<Lladdr>,
    /// What else to count once it is tunnelled (an ICMP counter).
    pub then: Option<DataStat>,
}

/// What to do with an inbound packet ([`inbound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// Leave it to the router's stack.
    Accept,
    /// Drop it.
    Drop,
    /// Tunnel it to its owner, then call [`delivered`].
    Deliver(Delivery),
}

/// What to do with a packet a host tunnelled ([`outbound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbound {
    /// Drop it.
    Drop,
    /// Decapsulate it for the stack to forward, then call [`forwarded`].
    Forward {
        /// The sender's slot.
        sender: Slot,
        /// The ESP or AH SA it belongs to, for the table of outbound SAs.
        sa: Option<SaKey>,
    },
}

/// The owner of an inbound packet with key `key`: by port (TCP, UDP, ESP
/// in UDP, ICMP identifiers), by SPI, or, for an error quoting a host's
/// ESP or AH, by the table of outbound SAs (never a revoked host).
fn owner_of<V: View>(v: &V, shared: &Shared<'_>, key: InKey) -> Option<(Slot, Ipv4Addr)> {
    match key {
        InKey::Port(p) | InKey::IcmpId(p) | InKey::EspInUdp { port: p, .. } => shared.port_owner(p),
        InKey::Spi(s) => shared.spi_owner(s),
        InKey::QuotedSa(sa) => {
            let slot = v
                .out_sa()?
                .lookup(&sa, v.now())
                .filter(|&s| !v.is_revoked(s))?;
            Some((slot, shared.host_addr(slot)?))
        }
        InKey::None => None,
    }
}

/// The DoS control of ESP, AH and ESP in UDP for `slot`, their owner:
/// the counter of the drop, or `None` to deliver. The owner must have
/// validated the sender for the SPI (strict policy) and not blacklisted
/// it; ESP in UDP must also carry an SPI of the owner of its port.
fn sa_refusal<V: View>(
    v: &V,
    shared: &Shared<'_>,
    src: Ipv4Addr,
    key: InKey,
    slot: Slot,
) -> Option<DataStat> {
    let verdict = match key {
        InKey::Spi(spi) => v.sa()?.check(src, spi, slot),
        InKey::EspInUdp { spi, .. } => {
            let spi_owner = shared.spi_owner(spi).map(|(s, _)| s);
            v.sa()?.check_in_udp(src, spi, slot, spi_owner)
        }
        InKey::Port(_) | InKey::IcmpId(_) | InKey::QuotedSa(_) | InKey::None => return None,
    };
    match verdict {
        Verdict::Drop(reason) if verdict.drops(v.sa_permissive()) => Some(match reason {
            DropReason::Blacklisted => DataStat::InSaBlacklisted,
            DropReason::NotValidated => DataStat::InSaNotValidated,
            DropReason::NotSpiOwner => DataStat::InSaNotSpiOwner,
        }),
        _ => None,
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

/// An inbound packet `h` from the WAN to the public address, with `l4`
/// the first bytes of its payload (up to `classify::peek_len`; `None`:
/// they could not be read). Unreadable packets and later fragments are
/// counted unowned and left to the stack; the owner gets the rest, unless
/// the SA checks drop it; what nobody owns goes to the stack or, when
/// the router is configured so, is dropped.
pub fn inbound<V: View>(v: &V, h: &Header, l4: Option<&[u8]>, public: Ipv4Addr) -> Inbound {
    let Some(l4) = l4.filter(|_| h.frag_offset == 0) else {
        v.count(DataStat::InUnowned);
        return Inbound::Accept;
    };
    let Some(shared) = v.alloc() else {
        return Inbound::Accept;
    };
    let key = classify::inbound_key(h, l4, public);
    let owner = owner_of(v, &shared, key);
    if let Some((slot, _)) = owner {
        if let Some(stat) = sa_refusal(v, &shared, h.src, key, slot) {
            v.count(stat);
            v.count_host(HostCount::SaDropped, slot);
            return Inbound::Drop;
        }
    }
    let icmp_type = (h.protocol == proto::ICMP)
        .then(|| l4.first().copied())
        .flatten();
    let Some((slot, host)) = owner else {
        v.count(DataStat::InUnowned);
        if icmp_type.is_some_and(|t| icmp::class(t) != icmp::Class::Request) {
            v.count(DataStat::InIcmpUnowned);
        }
        return if v.drop_unowned() {
            Inbound::Drop
        } else {
            Inbound::Accept
        };
    };
    Inbound::Deliver(Delivery {
        slot,
        host,
        lladdr: v.binding(slot).lladdr(),
        then: icmp_type.map(|t| icmp_stat(t, key)),
    })
}

/// An ICMP packet `h` to the public address that came in through `lo`
/// (what the router's own stack sends there), `l4` as for [`inbound`].
/// The errors among them about a host's packet (time exceeded,
/// fragmentation needed while forwarding what a host sent) are
/// classified like inbound errors and go to that host; `None`: the
/// router's own, accepted.
pub fn local_error<V: View>(
    v: &V,
    h: &Header,
    l4: Option<&[u8]>,
    public: Ipv4Addr,
) -> Option<Delivery> {
    let l4 = l4.filter(|_| !h.is_fragment)?;
    if !l4.first().is_some_and(|&t| icmp::is_error(t)) {
        return None;
    }
    let shared = v.alloc()?;
    let key = classify::inbound_key(h, l4, public);
    let (slot, host) = owner_of(v, &shared, key)?;
    Some(Delivery {
        slot,
        host,
        lladdr: v.binding(slot).lladdr(),
        then: Some(DataStat::LocalIcmpError),
    })
}

/// After the glue tunnelled `d`, a packet of `len` bytes, to its host
/// (`sent`) or failed to (no LAN address, no route, no memory).
pub fn delivered<V: View>(v: &V, d: &Delivery, len: usize, sent: bool) {
    if !sent {
        v.count(DataStat::InEncapFailed);
        return;
    }
    v.count(DataStat::InDelivered);
    if d.lladdr.is_some() {
        v.count(DataStat::InDirect);
    }
    v.count_traffic(Traffic::In, d.slot, len);
    if let Some(s) = d.then {
        v.count(s);
    }
}

/// Rewrites the source of the IPv4 header `b` (its first 20 bytes at
/// least) from `old` to `new`, updating its checksum: an error of the
/// router's own stack goes to the host from the router's LAN address,
/// since the host's stack would take one from its own public address for
/// a martian. `false` if `b` is too short.
pub fn set_source(b: &mut [u8], old: Ipv4Addr, new: Ipv4Addr) -> bool {
    // Checksum at 10, source address at 12.
    let Some([c0, c1, a0, a1, a2, a3]) = b.get_mut(10..16) else {
        return false;
    };
    let c = checksum::update32(u16::from_be_bytes([*c0, *c1]), old.into(), new.into());
    [*a0, *a1, *a2, *a3] = new.octets();
    [*c0, *c1] = c.to_be_bytes();
    true
}

/// The counter of a refused proof.
fn refusal_stat(e: OutRefusal) -> DataStat {
    match e {
        OutRefusal::NotPublicSource => DataStat::OutNotPublicSource,
        OutRefusal::Protocol => DataStat::OutProtocol,
        OutRefusal::Truncated | OutRefusal::Fragment => DataStat::OutBadInner,
        OutRefusal::LocalDestination => DataStat::OutLocalDestination,
        OutRefusal::IcmpType => DataStat::OutIcmpType,
        OutRefusal::IcmpQuote => DataStat::OutIcmpQuote,
    }
}

/// An IP-in-IP packet `outer` from the LAN to the router's LAN address
/// (`outer.dst`), with `inner` its inner header and the first bytes of
/// the inner payload (up to `classify::peek_len`; `None`: malformed or
/// unreadable). The outer source must own what the inner packet uses
/// (`classify::outbound_proof`): the port's owner for TCP/UDP and ICMP
/// (one load), any host that is not revoked for ESP/AH (the host index);
/// the inner destination must not be the router. Anything else is
/// dropped and counted, spoofing also for the host if it is one.
pub fn outbound<V: View>(
    v: &V,
    outer: &Header,
    inner: Option<(&Header, &[u8])>,
    public: Ipv4Addr,
) -> Outbound {
    let Some((inner, l4)) = inner else {
        v.count(DataStat::OutBadInner);
        return Outbound::Drop;
    };
    let Some(shared) = v.alloc() else {
        return Outbound::Drop;
    };
    // The router's own addresses (public, LAN) and what is not unicast
    // are refused by the classification, any other of its own by its
    // routing tables.
    let proof = classify::outbound_proof(inner, l4, public, outer.dst).and_then(|p| {
        if v.is_local(inner.dst) {
            Err(OutRefusal::LocalDestination)
        } else {
            Ok(p)
        }
    });
    let sender = match proof {
        Ok(Proof::Port(p)) => shared
            .port_owner(p)
            .filter(|&(_, a)| a == outer.src)
            .map(|(s, _)| s),
        Ok(Proof::KnownHost) => shared
            .find_host(u32::from(outer.src))
            .filter(|&s| !v.is_revoked(s)),
        Err(e) => {
            v.count(refusal_stat(e));
            return Outbound::Drop;
        }
    };
    let Some(sender) = sender else {
        v.count(DataStat::OutSpoofed);
        if let Some(slot) = shared.find_host(u32::from(outer.src)) {
            v.count_host(HostCount::Spoofed, slot);
        }
        return Outbound::Drop;
    };
    Outbound::Forward {
        sender,
        sa: classify::outbound_sa(inner, l4),
    }
}

/// After the glue decapsulated (`decapped`) or failed to decapsulate a
/// packet of `sender` whose inner packet has `len` bytes: the table of
/// outbound SAs learns its SA, so that errors quoting it reach the sender.
pub fn forwarded<V: View>(v: &V, sender: Slot, sa: Option<SaKey>, len: usize, decapped: bool) {
    if !decapped {
        v.count(DataStat::OutDecapFailed);
        return;
    }
    if let (Some(sa), Some(o)) = (sa, v.out_sa()) {
        match o.learn(&sa, sender, v.now()) {
            Learnt::Full => v.count(DataStat::OutSaFull),
            Learnt::HostLimit => v.count(DataStat::OutSaHostLimit),
            Learnt::Conflict => v.count(DataStat::OutSaConflict),
            Learnt::Refreshed | Learnt::Added | Learnt::Invalid => {}
        }
    }
    v.count(DataStat::OutForwarded);
    v.count_traffic(Traffic::Out, sender, len);
}

/// A packet of [`Path::Untunnelled`] `h`, `l4` as for [`inbound`], that
/// came in through `from` with Ethernet source `lladdr` (`None`: not
/// Ethernet). Forwarded unchanged (then [`forwarded`]) only if it came in
/// on the LAN device from the address bound to a direct-mode host that
/// owns what it uses, as [`outbound`] checks a tunnelled packet; anything
/// else is dropped and counted: from the address of another direct host
/// or on another device, spoofing by that host; for an IP-in-IP host or
/// nobody, untunnelled.
pub fn untunnelled<V: View>(
    v: &V,
    h: &Header,
    l4: Option<&[u8]>,
    public: Ipv4Addr,
    from: Iface,
    lladdr: Option<Lladdr>,
) -> Outbound {
    let by_lladdr = lladdr.and_then(|m| v.bound_slot(m));
    let refuse = |stat| {
        v.count(stat);
        Outbound::Drop
    };
    if from != Iface::Lan {
        return refuse(match by_lladdr {
            Some(_) => DataStat::OutDirectDev,
            None => DataStat::OutUntunnelled,
        });
    }
    let Some(l4) = l4 else {
        return refuse(DataStat::OutBadInner);
    };
    let Some(shared) = v.alloc() else {
        return Outbound::Drop;
    };
    let proof = classify::outbound_proof(h, l4, public, public).and_then(|p| {
        if v.is_local(h.dst) {
            Err(OutRefusal::LocalDestination)
        } else {
            Ok(p)
        }
    });
    // The sender: the owner of the port whose binding is this address,
    // or, for ESP/AH, the host bound to it.
    let owner = match proof {
        Ok(Proof::Port(p)) => shared.port_owner(p).map(|(s, _)| s),
        Ok(Proof::KnownHost) => {
            by_lladdr.filter(|&s| !v.is_revoked(s) && shared.host_addr(s).is_some())
        }
        Err(e) => return refuse(refusal_stat(e)),
    };
    let bound = owner.map(|s| v.binding(s));
    match (owner, bound) {
        (Some(s), Some(Binding::Bound(m))) if Some(m) == lladdr => {
            v.count(DataStat::OutDirect);
            Outbound::Forward {
                sender: s,
                sa: classify::outbound_sa(h, l4),
            }
        }
        _ => {
            if let Some(s) = by_lladdr {
                // A direct host using what it does not own.
                v.count_host(HostCount::Spoofed, s);
                refuse(DataStat::OutSpoofed)
            } else if bound.is_some_and(Binding::is_direct) {
                refuse(DataStat::OutDirectLladdr)
            } else {
                refuse(DataStat::OutUntunnelled)
            }
        }
    }
}

#[cfg(test)]
#[path = "router_path/tests.rs"]
mod tests;
