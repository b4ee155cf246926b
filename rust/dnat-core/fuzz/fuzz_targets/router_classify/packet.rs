// SPDX-License-Identifier: GPL-2.0

//! Shaping fuzzed bytes into packets that reach the tables: valid
//! headers and checksums, ports, SPIs and ICMP quotes that are held.

use std::net::Ipv4Addr;

use dnat_core::alloc_table::{AllocTable, BlockInfo, Kind, Slot};
use dnat_core::checksum;
use dnat_core::classify::SaKey;
use dnat_core::ipv4::{proto, Header, HEADER_LEN};
use dnat_core::sa_table::{SaCursor, SaEntry, SaTable};
use dnat_core::sptt::{rewrite_port, Proto, Which};
use std::collections::{HashMap, HashSet};

use super::model::{addr, be16};
use super::router::{blocks, holder, host, peer, PUBLIC, ROUTER_LAN};

/// Sets the IPv4 header checksum of `hdr` (its first `ihl` bytes).
fn fix_header(hdr: &mut [u8]) {
    let Some(&v) = hdr.first() else {
        return;
    };
    let hl = usize::from(v & 0x0f) * 4;
    if hl < HEADER_LEN || hdr.len() < hl {
        return;
    }
    hdr[10] = 0;
    hdr[11] = 0;
    let c = checksum::checksum(&hdr[..hl]);
    hdr[10..12].copy_from_slice(&c.to_be_bytes());
}

/// The TCP/UDP checksum over the pseudo-header and `seg`, with the
/// checksum field as it is (`verify`) or zeroed (`canonical`).
fn l4_sum(src: [u8; 4], dst: [u8; 4], p: u8, seg: &[u8]) -> u16 {
    let len = seg.len() as u16;
    let mut ph = [0u8; 12];
    ph[..4].copy_from_slice(&src);
    ph[4..8].copy_from_slice(&dst);
    ph[9] = p;
    ph[10..12].copy_from_slice(&len.to_be_bytes());
    checksum::sum(seg, checksum::sum(&ph, 0))
}

/// The host's port rewrite on the transport header of `pkt`: a checksum
/// that verified still does, a canonical one stays canonical, a UDP 0
/// stays 0, and only the port and the checksum change.
pub(super) fn rewrite(pkt: &[u8], which: Which, new: u16) {
    let Ok(h) = Header::parse_checked_by_stack(pkt, pkt.len()) else {
        return;
    };
    let p = match h.protocol {
        proto::TCP => Proto::Tcp,
        proto::UDP => Proto::Udp,
        _ => return,
    };
    if h.is_fragment {
        return;
    }
    let (src, dst) = (h.src.octets(), h.dst.octets());
    let mut seg = pkt[h.header_len..h.total_len].to_vec();
    let coff = if p == Proto::Tcp { 16 } else { 6 };
    if seg.len() > 0xffff - 12 {
        return;
    }
    let canonical = |seg: &[u8]| {
        let mut z = seg.to_vec();
        let old = be16(&z, coff);
        if let Some(c) = z.get_mut(coff..coff + 2) {
            c.copy_from_slice(&[0, 0]);
        }
        let c = !l4_sum(src, dst, h.protocol, &z);
        let c = if p == Proto::Udp && c == 0 { 0xffff } else { c };
        old == Some(c)
    };
    let verifies = |seg: &[u8]| l4_sum(src, dst, h.protocol, seg) == 0xffff;
    let before = seg.clone();
    let (ok_before, canon_before) = (verifies(&seg), canonical(&seg));
    let zero_udp = p == Proto::Udp && be16(&seg, 6) == Some(0);
    let at = if which == Which::Src { 0 } else { 2 };
    match rewrite_port(&mut seg, p, which, new) {
        Ok(old) => {
            assert_eq!(be16(&before, at), Some(old));
            assert_eq!(be16(&seg, at), Some(new));
            for (i, (a, b)) in before.iter().zip(&seg).enumerate() {
                if !(at..at + 2).contains(&i) && !(coff..coff + 2).contains(&i) {
                    assert_eq!(a, b, "byte {i} changed");
                }
            }
            if zero_udp {
                assert_eq!(be16(&seg, 6), Some(0), "UDP checksum 0 changed");
            } else {
                assert!(
                    !ok_before || verifies(&seg),
                    "checksum broken: {before:02x?}"
                );
                assert!(
                    !canon_before || canonical(&seg),
                    "not canonical: {before:02x?}"
                );
            }
        }
        Err(_) => {
            assert!(seg.len() < coff + 2, "refused a full header");
            assert_eq!(seg, before, "a refused rewrite changed bytes");
        }
    }
}

/// Makes the packet in `b` reach the interesting paths, as the flags say:
/// the addresses and protocol the router looks for, a key the tables hold,
/// valid checksums and lengths.
pub(super) fn shape(t: &AllocTable<'_>, sa: &SaTable<'_>, flags: u8, k: u8, off: u8, b: &mut [u8]) {
    let out = flags & 1 != 0;
    if b.len() < HEADER_LEN {
        return;
    }
    let ohl = (usize::from(b[0] & 0x0f) * 4).max(HEADER_LEN);
    if flags & 0x40 != 0 {
        b[0] = 0x40 | (b[0] & 0x0f).max(5);
        let len = b.len().min(0xffff) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b[6] &= 0x40;
        b[7] = 0;
    }
    if flags & 2 != 0 {
        let dst = if out { ROUTER_LAN } else { PUBLIC };
        b[16..20].copy_from_slice(&dst.octets());
        if out {
            b[9] = proto::IPIP;
        }
    }
    if flags & 4 != 0 {
        let src = if out { host(k) } else { peer(k) };
        b[12..16].copy_from_slice(&src.octets());
    }
    let inner = ohl;
    if out && flags & 0x40 != 0 && b.len() >= inner + HEADER_LEN {
        let i = &mut b[inner..];
        i[0] = 0x40 | (i[0] & 0x0f).max(5);
        let len = i.len().min(0xffff) as u16;
        i[2..4].copy_from_slice(&len.to_be_bytes());
        i[6] &= 0x40;
        i[7] = 0;
    }
    if out && flags & 0x10 != 0 && b.len() >= inner + HEADER_LEN {
        b[inner + 12..inner + 16].copy_from_slice(&PUBLIC.octets());
    }
    if flags & 0x80 != 0 {
        // A key from a block the tables hold (and its owner as the outer
        // source of an outbound packet), or inbound, the source and SPI of
        // an established SA.
        let all = blocks(t);
        let sas: Vec<SaEntry> = sa.entries_from(SaCursor::START).map(|(_, e)| e).collect();
        let from_sa = (!out && k & 0x20 != 0)
            .then(|| sas.get(usize::from(off) % sas.len().max(1)))
            .flatten();
        let picked = match from_sa {
            Some(e) => holder(&all, Kind::Spi, e.spi).map(|b| (b, e.spi)),
            None => all
                .get(usize::from(k) % all.len().max(1))
                .map(|b| (*b, b.lowest + u32::from(off) % b.count)),
        };
        if let Some(e) = from_sa {
            b[12..16].copy_from_slice(&e.addr.octets());
        }
        if let Some((blk, v)) = picked {
            let hl = if out { inner } else { 0 };
            if b.len() >= hl + HEADER_LEN {
                let ihl = (usize::from(b[hl] & 0x0f) * 4).max(HEADER_LEN);
                let l4 = hl + ihl;
                let (p, at, bytes): (u8, usize, Vec<u8>) = match (blk.kind, out, k & 0x40 != 0) {
                    (Kind::Port, false, tcp) => (
                        if tcp { proto::TCP } else { proto::UDP },
                        2,
                        (v as u16).to_be_bytes().to_vec(),
                    ),
                    (Kind::Port, true, tcp) => (
                        if tcp { proto::TCP } else { proto::UDP },
                        0,
                        (v as u16).to_be_bytes().to_vec(),
                    ),
                    (Kind::Spi, _, ah) => (
                        if ah { proto::AH } else { proto::ESP },
                        if ah { 4 } else { 0 },
                        v.to_be_bytes().to_vec(),
                    ),
                };
                b[hl + 9] = p;
                if let Some(d) = b.get_mut(l4 + at..l4 + at + bytes.len()) {
                    d.copy_from_slice(&bytes);
                }
                if out {
                    b[12..16].copy_from_slice(&blk.host.octets());
                }
            }
        }
    }
    if flags & 8 != 0 {
        fix_headers(b, out);
    }
}

/// Sets the checksums of the outer header and, outbound, the inner one.
pub(super) fn fix_headers(b: &mut [u8], out: bool) {
    let Some(&v) = b.first() else {
        return;
    };
    let ohl = usize::from(v & 0x0f) * 4;
    fix_header(b);
    if out && ohl >= HEADER_LEN && b.len() > ohl {
        fix_header(&mut b[ohl..]);
    }
}

/// Makes the packet in `b` an ICMP message that names what the tables
/// hold: a query with a held port as its identifier, or an error quoting
/// a packet of the public address (inbound: from it, with a held port, a
/// query request or an SA that a host sent; outbound: to it, from the
/// error's destination, with a held port or a reply), the outer source the
/// port's holder. `ity` picks the type and the quoted protocol; `ic` bits:
/// 0x08 keeps the quoted header's first bytes (version, fragment), 0x10
/// its addresses, 0x20 quotes an SA a host sent (inbound), 0x80 keeps the
/// inner source (outbound).
pub(super) fn shape_icmp(
    t: &AllocTable<'_>,
    learnt: &HashMap<SaKey, HashSet<(Slot, Ipv4Addr)>>,
    out: bool,
    (ic, ity): (u8, u8),
    k: u8,
    off: u8,
    b: &mut [u8],
) {
    let Some(&b0) = b.first() else {
        return;
    };
    let base = if out {
        (usize::from(b0 & 0x0f) * 4).max(HEADER_LEN)
    } else {
        0
    };
    let Some(&v) = b.get(base) else {
        return;
    };
    let l4 = base + (usize::from(v & 0x0f) * 4).max(HEADER_LEN);
    if b.len() < l4 + 8 {
        return;
    }
    let ports: Vec<BlockInfo> = blocks(t)
        .into_iter()
        .filter(|b| b.kind == Kind::Port)
        .collect();
    let (id, holder) = match ports.get(usize::from(k) % ports.len().max(1)) {
        Some(bl) => (
            (bl.lowest + u32::from(off) % bl.count) as u16,
            Some(bl.host),
        ),
        None => (u16::from_be_bytes([k, off]), None),
    };
    b[base + 9] = proto::ICMP;
    if out {
        if let Some(h) = holder {
            b[12..16].copy_from_slice(&h.octets());
        }
        if ic & 0x80 == 0 {
            b[base + 12..base + 16].copy_from_slice(&PUBLIC.octets());
        }
    }
    let types: [u8; 10] = if out {
        [8, 13, 0, 3, 11, 12, 4, 5, 10, 17]
    } else {
        [0, 14, 8, 3, 11, 12, 4, 5, 9, 18]
    };
    let ty = types[usize::from(ity) % types.len()];
    let inner_dst = addr(b, base + 16).unwrap_or(Ipv4Addr::UNSPECIFIED);
    let m = &mut b[l4..];
    m[0] = ty;
    if !matches!(ty, 3 | 4 | 5 | 11 | 12) {
        m[4..6].copy_from_slice(&id.to_be_bytes());
        return;
    }
    if m.len() < 8 + HEADER_LEN + 8 {
        return;
    }
    let q = &mut m[8..];
    if ic & 0x08 == 0 {
        q[0] = 0x45;
        q[6..8].copy_from_slice(&[0x40, 0]);
    }
    let qhl = (usize::from(q[0] & 0x0f) * 4).max(HEADER_LEN);
    let qp =
        [proto::TCP, proto::UDP, proto::ICMP, proto::ESP, proto::AH][usize::from(ity >> 4) % 5];
    q[9] = qp;
    let (src, dst) = if out {
        (inner_dst, PUBLIC)
    } else {
        (PUBLIC, peer(off))
    };
    if ic & 0x10 == 0 {
        q[12..16].copy_from_slice(&src.octets());
        q[16..20].copy_from_slice(&dst.octets());
    }
    // An SA a host sent, in a reproducible order.
    let mut sas: Vec<&SaKey> = learnt.keys().collect();
    sas.sort_by_key(|s| (s.peer, s.spi, s.proto));
    let sa = sas.get(usize::from(off) % sas.len().max(1)).copied();
    let Some(p) = q.get_mut(qhl..qhl + 8) else {
        return;
    };
    let qp = if ic & 0x20 != 0 && !out && sa.is_some() {
        proto::ESP
    } else {
        qp
    };
    match (qp, out) {
        (proto::TCP | proto::UDP, false) => p[0..2].copy_from_slice(&id.to_be_bytes()),
        (proto::TCP | proto::UDP, true) => p[2..4].copy_from_slice(&id.to_be_bytes()),
        (proto::ICMP, _) => {
            p[0] = if out { 0 } else { 8 };
            p[4..6].copy_from_slice(&id.to_be_bytes());
        }
        (_, false) => {
            if let Some(sa) = sa {
                let at = if sa.proto == proto::ESP { 0 } else { 4 };
                p[at..at + 4].copy_from_slice(&sa.spi.to_be_bytes());
                q[9] = sa.proto;
                q[16..20].copy_from_slice(&sa.peer.octets());
            }
        }
        _ => {}
    }
}
