// SPDX-License-Identifier: GPL-2.0

//! The plain reading of a packet and a linear scan of the tables: the
//! decisions every verdict is checked against.

use std::net::Ipv4Addr;

use dnat_core::alloc_table::{AllocTable, Kind, Shared, Slot};
use dnat_core::classify::{
    self, InKey, Key, OutError, OutRefusal, Proof, SaKey, L4_PEEK, NAT_T_PORT,
};
use dnat_core::config::is_unicast;
use dnat_core::ipv4::{proto, Header, HEADER_LEN};
use dnat_core::out_sa::{Learnt, OutSaShared};
use dnat_core::sa_table::{DropReason, SaCursor, SaShared, SaTable, Verdict};
use std::collections::{HashMap, HashSet};

use super::router::{blocks, holder, PUBLIC, ROUTER_LAN};

pub(super) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// The inbound key as the protocol documentation states it, written
/// independently of `classify`: TCP/UDP destination port, ESP SPI, AH SPI
/// (after next header, length and reserved), or for an ICMP error
/// (types 3, 4, 5, 11, 12) the source port of the quoted TCP/UDP packet
/// that the public address sent (a first fragment, quoted with at least 8
/// bytes of payload).
fn expected_key(protocol: u8, l4: &[u8]) -> Key {
    // ESP in UDP: from port 4500, a UDP length with room for an SPI, and
    // an SPI that is not the non-ESP marker (0).
    let esp_in_udp = || {
        let spi = be32(l4, 8).filter(|&s| s != 0)?;
        let long = be16(l4, 4).is_some_and(|len| len >= 12);
        (be16(l4, 0) == Some(NAT_T_PORT) && long).then_some(())?;
        Some(Key::EspInUdp {
            port: be16(l4, 2)?,
            spi,
        })
    };
    let k = match protocol {
        proto::UDP => esp_in_udp().or_else(|| be16(l4, 2).map(Key::Port)),
        proto::TCP => be16(l4, 2).map(Key::Port),
        proto::ESP => be32(l4, 0).map(Key::Spi),
        proto::AH => be32(l4, 4).map(Key::Spi),
        proto::ICMP if matches!(l4.first(), Some(3 | 4 | 5 | 11 | 12)) => {
            let q = l4.get(8..).unwrap_or_default();
            match q.first() {
                Some(&v) if v >> 4 == 4 && usize::from(v & 15) * 4 >= HEADER_LEN => {
                    let hl = usize::from(v & 15) * 4;
                    let src = q.get(12..16).map(|s| Ipv4Addr::new(s[0], s[1], s[2], s[3]));
                    let p = q.get(9).copied();
                    // The quote holds its header and 8 bytes, and is not a
                    // later fragment.
                    let whole = q.len() >= hl + 8;
                    let first = be16(q, 6).is_some_and(|f| f & 0x1fff == 0);
                    if src == Some(PUBLIC)
                        && whole
                        && first
                        && matches!(p, Some(proto::TCP | proto::UDP))
                    {
                        be16(q, hl).map(Key::Port)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        }
        _ => None,
    };
    k.unwrap_or(Key::None)
}

/// An IPv4 address at `at` of `b`.
pub(super) fn addr(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let a = b.get(at..at + 4)?;
    Some(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
}

/// The quote of an ICMP error `l4`: (protocol, source, destination, first
/// fragment, payload after the header), or why not: `Err(true)` when
/// truncated (shorter than its header and 8 bytes), `Err(false)` when not
/// IPv4 or a header length below 20.
#[allow(clippy::type_complexity)]
fn quote_of(l4: &[u8]) -> Result<(u8, Ipv4Addr, Ipv4Addr, bool, &[u8]), bool> {
    let q = l4.get(8..).unwrap_or_default();
    let v = *q.first().ok_or(true)?;
    let hl = usize::from(v & 15) * 4;
    if v >> 4 != 4 || hl < HEADER_LEN {
        return Err(false);
    }
    if q.len() < hl + 8 {
        return Err(true);
    }
    let first = be16(q, 6).is_some_and(|f| f & 0x1fff == 0);
    let (src, dst) = (addr(q, 12).ok_or(true)?, addr(q, 16).ok_or(true)?);
    Ok((q[9], src, dst, first, &q[hl..]))
}

/// The ICMP-aware inbound key as the documentation states it: as
/// `expected_key`, plus ICMP query replies (0, 14, 16, 18) by their
/// identifier, and errors about a packet of the public address by its
/// TCP/UDP source port, the identifier of a quoted query request (8, 13,
/// 15, 17) or its ESP/AH SA.
fn expected_in_key(protocol: u8, l4: &[u8]) -> InKey {
    if protocol != proto::ICMP {
        return match expected_key(protocol, l4) {
            Key::Port(p) => InKey::Port(p),
            Key::Spi(s) => InKey::Spi(s),
            Key::EspInUdp { port, spi } => InKey::EspInUdp { port, spi },
            Key::None => InKey::None,
        };
    }
    let k = match l4.first() {
        Some(0 | 14 | 16 | 18) => be16(l4, 4).map(InKey::IcmpId),
        Some(3 | 4 | 5 | 11 | 12) => match quote_of(l4) {
            Ok((p, src, dst, true, pl)) if src == PUBLIC => match p {
                proto::TCP | proto::UDP => be16(pl, 0).map(InKey::Port),
                proto::ICMP if matches!(pl[0], 8 | 13 | 15 | 17) => be16(pl, 4).map(InKey::IcmpId),
                proto::ESP | proto::AH => {
                    let spi = be32(pl, if p == proto::ESP { 0 } else { 4 });
                    spi.map(|spi| {
                        InKey::QuotedSa(SaKey {
                            peer: dst,
                            spi,
                            proto: p,
                        })
                    })
                }
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    k.unwrap_or(InKey::None)
}

/// The ICMP-aware proof as the documentation states it, after the address
/// and fragment checks: requests prove their identifier; destination
/// unreachable, time exceeded and parameter problem about a packet from
/// the error's destination to the public address prove its TCP/UDP
/// destination port or query reply identifier; nothing else is proof.
fn expected_icmp_proof(inner: &Header, l4: &[u8]) -> Result<Proof, OutRefusal> {
    match l4.first() {
        None => Err(OutRefusal::Truncated),
        Some(8 | 13 | 15 | 17) => be16(l4, 4).map(Proof::Port).ok_or(OutRefusal::Truncated),
        Some(3 | 11 | 12) => match quote_of(l4) {
            Err(true) => Err(OutRefusal::Truncated),
            Err(false) => Err(OutRefusal::IcmpQuote),
            Ok((p, src, dst, first, pl)) => {
                if dst != PUBLIC || src != inner.dst || !first {
                    return Err(OutRefusal::IcmpQuote);
                }
                match p {
                    proto::TCP | proto::UDP => {
                        Ok(Proof::Port(be16(pl, 2).ok_or(OutRefusal::Truncated)?))
                    }
                    proto::ICMP if matches!(pl[0], 0 | 14 | 16 | 18) => {
                        Ok(Proof::Port(be16(pl, 4).ok_or(OutRefusal::Truncated)?))
                    }
                    _ => Err(OutRefusal::IcmpQuote),
                }
            }
        },
        Some(_) => Err(OutRefusal::IcmpType),
    }
}

/// What the router does with a packet.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decision {
    /// Not for the data path (or accepted unchanged).
    Pass,
    /// Inbound: tunnelled to this host.
    Deliver(Slot, Ipv4Addr),
    /// Outbound: decapsulated and forwarded for this host.
    Forward(Slot),
    /// Dropped.
    Drop,
}

/// The SA verdict from a scan of the writer's SAs and blacklist.
fn scan_verdict(sa: &SaTable<'_>, src: Ipv4Addr, spi: u32, owner: Slot) -> Verdict {
    let black = sa.blacklist_from(SaCursor::START).any(|(_, e)| {
        e.slot == owner && e.addr.is_none_or(|a| a == src) && e.spi.is_none_or(|s| s == spi)
    });
    if black {
        return Verdict::Drop(DropReason::Blacklisted);
    }
    let valid = sa
        .entries_from(SaCursor::START)
        .any(|(_, e)| e.slot == owner && e.addr == src && e.spi == spi);
    if valid {
        Verdict::Deliver
    } else {
        Verdict::Drop(DropReason::NotValidated)
    }
}

/// What an ICMP-aware data path has besides the tables: the outbound-SA
/// table, the clock and who learnt what.
pub(super) struct Icmp<'a> {
    pub(super) aware: bool,
    pub(super) out: OutSaShared<'a>,
    pub(super) now: u32,
    pub(super) learnt: &'a mut HashMap<SaKey, HashSet<(Slot, Ipv4Addr)>>,
}

/// `datapath::inbound` on `pkt` (already past `ip_rcv`: a full IPv4
/// packet of `pkt.len()` bytes), checking each step.
pub(super) fn inbound(
    t: &AllocTable<'_>,
    sa: &SaTable<'_>,
    settled: bool,
    permissive: bool,
    pkt: &[u8],
    ic: &mut Icmp<'_>,
) -> Decision {
    let Ok(h) = Header::parse_checked_by_stack(pkt, pkt.len()) else {
        return Decision::Pass;
    };
    if h.dst != PUBLIC {
        return Decision::Pass;
    }
    let n = h.total_len.saturating_sub(h.header_len).min(L4_PEEK);
    let l4 = &pkt[h.header_len..h.header_len + n];
    if h.frag_offset != 0 {
        return Decision::Pass;
    }
    let legacy = classify::inbound(&h, l4, PUBLIC);
    assert_eq!(legacy, expected_key(h.protocol, l4), "{h:?} {l4:02x?}");
    let ikey = classify::inbound_key(&h, l4, PUBLIC);
    assert_eq!(ikey, expected_in_key(h.protocol, l4), "{h:?} {l4:02x?}");
    assert_eq!(ikey.legacy(), legacy);
    let shared: Shared<'_> = t.shared();
    // An ICMP-aware data path delivers identifiers as ports, and errors
    // about SAs to the host the outbound-SA table names.
    let key = match (ic.aware, ikey) {
        (true, InKey::IcmpId(p)) => Key::Port(p),
        (true, InKey::QuotedSa(q)) => {
            let Some(slot) = ic.out.lookup(&q, ic.now) else {
                return Decision::Pass;
            };
            let Some(a) = shared.host_addr(slot) else {
                return Decision::Pass;
            };
            assert!(
                ic.learnt.get(&q).is_some_and(|v| v.contains(&(slot, a))),
                "{q:?} delivered to slot {slot} ({a}), which did not send it"
            );
            return Decision::Deliver(slot, a);
        }
        _ => legacy,
    };
    let all = blocks(t);
    let (owner, truth) = match key {
        Key::Port(p) | Key::EspInUdp { port: p, .. } => {
            (shared.port_owner(p), holder(&all, Kind::Port, u32::from(p)))
        }
        Key::Spi(s) => (shared.spi_owner(s), holder(&all, Kind::Spi, s)),
        Key::None => (None, None),
    };
    // Ports are unpublished when their block retires; SPI changes are
    // published when a grace period allows.
    let exact = settled || matches!(key, Key::Port(_) | Key::EspInUdp { .. });
    match (owner, truth) {
        (Some((slot, addr)), Some(b)) => {
            assert_eq!(
                (slot, addr),
                (b.slot, b.host),
                "{key:?}: owner is not the holder"
            );
            assert!(
                !exact || !b.retiring,
                "{key:?}: retired block still delivers"
            );
        }
        (Some(o), None) => panic!("{key:?} delivered to {o:?}, no block holds it"),
        (None, Some(b)) => {
            assert!(
                !exact || b.retiring,
                "{key:?}: active block {b:?} not published"
            );
        }
        (None, None) => {}
    }
    if let (Key::Spi(spi), Some((slot, _))) = (key, owner) {
        let sa_shared: SaShared<'_> = sa.shared();
        let v = sa_shared.check(h.src, spi, slot);
        assert_eq!(
            v,
            scan_verdict(sa, h.src, spi, slot),
            "{key:?} from {}",
            h.src
        );
        if v.drops(permissive) {
            return Decision::Drop;
        }
    }
    if let (Key::EspInUdp { spi, .. }, Some((slot, _))) = (key, owner) {
        // The SPI must be the port owner's, then the ESP checks apply.
        let spi_owner = shared.spi_owner(spi).map(|(s, _)| s);
        let v = sa.shared().check_in_udp(h.src, spi, slot, spi_owner);
        if spi_owner != Some(slot) {
            assert_eq!(v, Verdict::Drop(DropReason::NotSpiOwner), "{key:?}");
        } else {
            assert_eq!(
                v,
                scan_verdict(sa, h.src, spi, slot),
                "{key:?} from {}",
                h.src
            );
        }
        if v.drops(permissive) {
            return Decision::Drop;
        }
    }
    match owner {
        Some((slot, addr)) => Decision::Deliver(slot, addr),
        None => Decision::Pass,
    }
}

/// `datapath::outbound` on `pkt`, an IP-in-IP packet to the router's LAN
/// address, checking each step.
pub(super) fn outbound(t: &AllocTable<'_>, pkt: &[u8], ic: &mut Icmp<'_>) -> Decision {
    let Ok(h) = Header::parse_checked_by_stack(pkt, pkt.len()) else {
        return Decision::Pass;
    };
    if h.protocol != proto::IPIP || h.dst != ROUTER_LAN {
        return Decision::Pass;
    }
    // The skb holds `h.total_len` bytes; the inner header is copied into a
    // 60-byte buffer, first 20 bytes, then all of a longer header.
    let skb = &pkt[..h.total_len];
    let inner_len = h.total_len - h.header_len;
    let mut ib = [0u8; 60];
    let Some(first) = skb.get(h.header_len..h.header_len + HEADER_LEN) else {
        return Decision::Drop;
    };
    ib[..HEADER_LEN].copy_from_slice(first);
    let ihl = usize::from(ib[0] & 0x0f) * 4;
    if ihl > HEADER_LEN {
        let Some(all) = skb.get(h.header_len..h.header_len + ihl) else {
            return Decision::Drop;
        };
        ib[..ihl].copy_from_slice(all);
    }
    let Ok(inner) = Header::parse(&ib, inner_len) else {
        return Decision::Drop;
    };
    // Today's data path copies 4 bytes; an ICMP-aware one what
    // `peek_len` says.
    let want = if ic.aware {
        classify::peek_len(inner.protocol)
    } else {
        4
    };
    let n = inner.total_len.saturating_sub(inner.header_len).min(want);
    let at = h.header_len + inner.header_len;
    let Some(l4) = skb.get(at..at + n) else {
        return Decision::Drop;
    };
    let proof = classify::outbound(&inner, l4, PUBLIC, ROUTER_LAN);
    // The proof as the documentation states it.
    let expected = if inner.src != PUBLIC {
        Err(OutError::NotPublicSource)
    } else if inner.dst == PUBLIC || inner.dst == ROUTER_LAN || !is_unicast(inner.dst) {
        Err(OutError::LocalDestination)
    } else if inner.is_fragment {
        Err(OutError::Fragment)
    } else {
        match inner.protocol {
            proto::TCP | proto::UDP => be16(l4, 0).map(Proof::Port).ok_or(OutError::Truncated),
            proto::ESP | proto::AH => Ok(Proof::KnownHost),
            _ => Err(OutError::Protocol),
        }
    };
    assert_eq!(proof, expected, "{inner:?} {l4:02x?}");
    let aware = classify::outbound_proof(&inner, l4, PUBLIC, ROUTER_LAN);
    let expected_aware = match expected {
        _ if inner.protocol == proto::ICMP
            && !matches!(
                expected,
                Err(OutError::NotPublicSource | OutError::LocalDestination | OutError::Fragment)
            ) =>
        {
            expected_icmp_proof(&inner, l4)
        }
        Ok(p) => Ok(p),
        Err(e) => Err(match e {
            OutError::NotPublicSource => OutRefusal::NotPublicSource,
            OutError::Protocol => OutRefusal::Protocol,
            OutError::Truncated => OutRefusal::Truncated,
            OutError::Fragment => OutRefusal::Fragment,
            OutError::LocalDestination => OutRefusal::LocalDestination,
        }),
    };
    assert_eq!(aware, expected_aware, "{inner:?} {l4:02x?}");
    let proof = if ic.aware {
        aware.map_err(|e| e.legacy())
    } else {
        proof
    };
    let shared = t.shared();
    let all = blocks(t);
    let sender = match proof {
        Ok(Proof::Port(p)) => {
            let s = shared
                .port_owner(p)
                .filter(|&(_, a)| a == h.src)
                .map(|(s, _)| s);
            let truth = holder(&all, Kind::Port, u32::from(p));
            if let Some(s) = s {
                let b = truth.expect("forwarded for a port no block holds");
                assert_eq!((b.slot, b.host), (s, h.src), "forwarded for a non-owner");
                assert!(!b.retiring, "forwarded for a retired block");
            } else if let Some(b) = truth.filter(|b| !b.retiring && b.host == h.src) {
                panic!("owner {} of {b:?} not forwarded", h.src);
            }
            s
        }
        Ok(Proof::KnownHost) => {
            let s = shared
                .find_host(u32::from(h.src))
                .filter(|&s| !t.host_info(s).is_some_and(|i| i.revoked));
            let truth = t.hosts_from(1).find(|i| i.addr == h.src);
            assert_eq!(
                s,
                truth.filter(|i| !i.revoked).map(|i| i.slot),
                "known-host check of {}",
                h.src
            );
            s
        }
        Err(_) => return Decision::Drop,
    };
    let Some(s) = sender else {
        return Decision::Drop;
    };
    if let (true, Some(q)) = (ic.aware, classify::outbound_sa(&inner, l4)) {
        match ic.out.learn(&q, s, ic.now) {
            Learnt::Added | Learnt::Refreshed => {
                ic.learnt.entry(q).or_default().insert((s, h.src));
                assert_eq!(ic.out.lookup(&q, ic.now), Some(s));
            }
            Learnt::Conflict => assert!(ic.out.lookup(&q, ic.now).is_some_and(|o| o != s)),
            Learnt::Invalid => assert!(q.spi < 256, "{q:?}"),
            Learnt::HostLimit => assert!(ic.out.host_entries(s) >= 6),
            Learnt::Full => {}
        }
    }
    Decision::Forward(s)
}
