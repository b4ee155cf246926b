// SPDX-License-Identifier: GPL-2.0

//! Tests of the router's per-packet decisions (`router_path.rs`), on
//! tables outside the kernel (`store::StoreView`).

use std::vec::Vec;

use super::*;
use crate::alloc_table::Settings;
use crate::config::Range;
use crate::ipv4::{self, HEADER_LEN};
use crate::out_sa::{OutSaLayout, OutSaSettings};
use crate::sa_table::{SaLayout, Seed};
use crate::store::{AllocStore, OutSaStore, SaStore, StoreView};

const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 6);
const H3: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);
/// H1's ports start here, H2's at `H2_PORT`.
const H1_PORT: u16 = 20000;
const H2_PORT: u16 = 20016;
/// H1's SPIs start here.
const H1_SPI: u32 = 0x1000;
const HOSTS: usize = 8;

/// A router's tables: H1 holds 16 ports and 16 SPIs, H2 16 ports, H3
/// nothing but a slot.
struct Router {
    alloc: AllocStore,
    sa: SaStore,
    out: OutSaStore,
    h1: Slot,
    h2: Slot,
    h3: Slot,
}

fn router() -> Router {
    let mut alloc = AllocStore::new(HOSTS, Settings::UNLIMITED);
    let (h1, h2, h3) = {
        let mut t = alloc.table();
        t.set_pools(
            Some(Range {
                min: H1_PORT,
                max: 29999,
            }),
            Some(Range {
                min: H1_SPI,
                max: 0xffff,
            }),
            |_| {},
        );
        let h1 = t.request_ports(H1, 16, false, 0, 0).unwrap();
        assert_eq!(h1.lowest, u32::from(H1_PORT));
        let h2 = t.request_ports(H2, 16, false, 0, 0).unwrap();
        assert_eq!(h2.lowest, u32::from(H2_PORT));
        let s = t.request_spis(H1, 16, 0, 0).unwrap();
        assert_eq!(s.lowest, H1_SPI);
        let h3 = t.admit(H3).unwrap();
        while let Some(tok) = t.start_grace() {
            t.finish_grace(tok);
        }
        (h1.slot, h2.slot, h3)
    };
    Router {
        alloc,
        sa: SaStore::new(
            SaLayout {
                buckets: 64,
                hosts: HOSTS,
            },
            Seed([1, 2]),
        ),
        out: OutSaStore::new(
            OutSaLayout {
                buckets: 64,
                hosts: HOSTS,
            },
            OutSaSettings::with_seed([3, 4]),
        ),
        h1,
        h2,
        h3,
    }
}

fn view(r: &Router) -> StoreView<'_> {
    let mut v = StoreView::new(r.alloc.shared(), HOSTS);
    v.sa = Some(r.sa.shared());
    v.out_sa = Some(r.out.shared());
    v
}

/// An IPv4 packet from `src` to `dst` with payload `l4`.
fn pkt(src: Ipv4Addr, dst: Ipv4Addr, p: u8, l4: &[u8]) -> Vec<u8> {
    let mut b = ipv4::build(src, dst, p, 64, l4.len()).unwrap().to_vec();
    b.extend_from_slice(l4);
    b
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn esp(spi: u32) -> Vec<u8> {
    let mut e = spi.to_be_bytes().to_vec();
    e.extend_from_slice(&[0, 0, 0, 1]);
    e
}

/// An ICMP query of type `t` with identifier `id`.
fn query(t: u8, id: u16) -> Vec<u8> {
    let mut m = std::vec![t, 0, 0, 0, 0, 0, 0, 1];
    m[4..6].copy_from_slice(&id.to_be_bytes());
    m
}

/// An ICMP error of type `t` quoting `q` (its header and 8 bytes).
fn error(t: u8, q: &[u8]) -> Vec<u8> {
    let mut m = std::vec![t, 4, 0, 0, 0, 0, 0x05, 0x78];
    m.extend_from_slice(&q[..HEADER_LEN + 8]);
    m
}

fn decide_in(v: &StoreView<'_>, p: &[u8]) -> Inbound {
    let h = Header::parse(p, p.len()).unwrap();
    inbound(v, &h, p.get(h.header_len..), PUBLIC)
}

/// `inner` tunnelled from `from` to the router.
fn decide_out(v: &StoreView<'_>, from: Ipv4Addr, inner: &[u8]) -> Outbound {
    let outer =
        Header::parse(&pkt(from, ROUTER_LAN, proto::IPIP, inner), 20 + inner.len()).unwrap();
    let h = Header::parse(inner, inner.len()).unwrap();
    outbound(v, &outer, Some((&h, &inner[h.header_len..])), PUBLIC)
}

fn deliver(slot: Slot, host: Ipv4Addr, then: Option<DataStat>) -> Inbound {
    Inbound::Deliver(Delivery {
        slot,
        host,
        lladdr: None,
        then,
    })
}

#[test]
fn paths() {
    let p = |src, dst, pr| Header::parse(&pkt(src, dst, pr, &[0; 8]), 28).unwrap();
    let lan = || Some(ROUTER_LAN);
    let ipip = p(H1, ROUTER_LAN, proto::IPIP);
    assert_eq!(path(&ipip, Iface::Lan, PUBLIC, lan), Path::Outbound);
    // Not for the router's LAN address, or no public address.
    assert_eq!(
        path(&p(H1, H2, proto::IPIP), Iface::Lan, PUBLIC, lan),
        Path::Pass
    );
    assert_eq!(
        path(&ipip, Iface::Lan, Ipv4Addr::UNSPECIFIED, lan),
        Path::Pass
    );
    let spoof = p(PUBLIC, REMOTE, proto::UDP);
    assert_eq!(path(&spoof, Iface::Lan, PUBLIC, lan), Path::Untunnelled);
    let wan = p(REMOTE, PUBLIC, proto::UDP);
    assert_eq!(path(&wan, Iface::Wan, PUBLIC, lan), Path::Inbound);
    assert_eq!(path(&wan, Iface::Other, PUBLIC, lan), Path::Pass);
    // The public source on any device but the WAN and lo.
    assert_eq!(path(&spoof, Iface::Other, PUBLIC, lan), Path::Untunnelled);
    assert_eq!(path(&spoof, Iface::Wan, PUBLIC, lan), Path::Pass);
    let lo = p(PUBLIC, PUBLIC, proto::ICMP);
    assert_eq!(path(&lo, Iface::Loopback, PUBLIC, lan), Path::LocalError);
    assert_eq!(
        path(&p(PUBLIC, PUBLIC, proto::UDP), Iface::Loopback, PUBLIC, lan),
        Path::Pass
    );
    // The LAN address is looked up only for IP-in-IP from the LAN.
    let never = || -> Option<Ipv4Addr> { panic!("looked up") };
    assert_eq!(path(&wan, Iface::Wan, PUBLIC, never), Path::Inbound);
}

#[test]
fn inbound_by_port_and_unowned_policy() {
    let r = router();
    let mut v = view(&r);
    let owned = pkt(REMOTE, PUBLIC, proto::UDP, &udp(53, H2_PORT + 3, b"x"));
    assert_eq!(decide_in(&v, &owned), deliver(r.h2, H2, None));
    let tcp = pkt(REMOTE, PUBLIC, proto::TCP, &udp(80, H1_PORT, b""));
    assert_eq!(decide_in(&v, &tcp), deliver(r.h1, H1, None));
    // Nobody's port: the stack's, or dropped by `unowned drop`.
    let unowned = pkt(REMOTE, PUBLIC, proto::UDP, &udp(53, 40000, b"x"));
    assert_eq!(decide_in(&v, &unowned), Inbound::Accept);
    v.drop_unowned = true;
    assert_eq!(decide_in(&v, &unowned), Inbound::Drop);
    assert_eq!(v.stat(DataStat::InUnowned), 2);
    assert_eq!(v.stat(DataStat::InIcmpUnowned), 0);
    // Unreadable, or a later fragment: unowned, to the stack whatever the
    // policy.
    let h = Header::parse(&owned, owned.len()).unwrap();
    assert_eq!(inbound(&v, &h, None, PUBLIC), Inbound::Accept);
    let mut frag = owned.clone();
    frag[6..8].copy_from_slice(&0x0010u16.to_be_bytes());
    frag[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::checksum(&frag[..HEADER_LEN]);
    frag[10..12].copy_from_slice(&c.to_be_bytes());
    let h = Header::parse(&frag, frag.len()).unwrap();
    assert_eq!(inbound(&v, &h, frag.get(20..), PUBLIC), Inbound::Accept);
    assert_eq!(v.stat(DataStat::InUnowned), 4);
}

#[test]
fn inbound_icmp() {
    let r = router();
    let v = view(&r);
    let reply = pkt(
        REMOTE,
        PUBLIC,
        proto::ICMP,
        &query(icmp::ECHO_REPLY, H1_PORT + 1),
    );
    assert_eq!(
        decide_in(&v, &reply),
        deliver(r.h1, H1, Some(DataStat::InIcmpReply))
    );
    // An error quoting UDP the public address sent from H2's port.
    let sent = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H2_PORT, 53, b"12345678"));
    let err = pkt(REMOTE, PUBLIC, proto::ICMP, &error(3, &sent));
    assert_eq!(
        decide_in(&v, &err),
        deliver(r.h2, H2, Some(DataStat::InIcmpErrorPort))
    );
    // A reply nobody asked for is unowned ICMP; a request the router's.
    let stray = pkt(REMOTE, PUBLIC, proto::ICMP, &query(icmp::ECHO_REPLY, 40000));
    assert_eq!(decide_in(&v, &stray), Inbound::Accept);
    let req = pkt(REMOTE, PUBLIC, proto::ICMP, &query(icmp::ECHO, H1_PORT));
    assert_eq!(decide_in(&v, &req), Inbound::Accept);
    assert_eq!(v.stat(DataStat::InUnowned), 2);
    assert_eq!(v.stat(DataStat::InIcmpUnowned), 1);
}

#[test]
fn inbound_quoted_sa_goes_to_its_sender_unless_revoked() {
    let r = router();
    let mut v = view(&r);
    let sa = SaKey {
        peer: REMOTE,
        spi: 0x5000,
        proto: proto::ESP,
    };
    assert_eq!(r.out.shared().learn(&sa, r.h3, 1), Learnt::Added);
    let sent = pkt(PUBLIC, REMOTE, proto::ESP, &esp(0x5000));
    let err = pkt(REMOTE, PUBLIC, proto::ICMP, &error(3, &sent));
    assert_eq!(
        decide_in(&v, &err),
        deliver(r.h3, H3, Some(DataStat::InIcmpErrorSa))
    );
    v.revoked.push(r.h3);
    assert_eq!(decide_in(&v, &err), Inbound::Accept);
    assert_eq!(v.stat(DataStat::InIcmpUnowned), 1);
}

#[test]
fn inbound_esp_sa_checks() {
    let mut r = router();
    let spi = H1_SPI + 2;
    let p = pkt(REMOTE, PUBLIC, proto::ESP, &esp(spi));
    {
        let mut v = view(&r);
        // Strict: not validated, dropped and counted for the owner.
        assert_eq!(decide_in(&v, &p), Inbound::Drop);
        assert_eq!(v.stat(DataStat::InSaNotValidated), 1);
        assert_eq!(v.host_count(HostCount::SaDropped, r.h1), 1);
        // Permissive: the SPI alone.
        v.sa_permissive = true;
        assert_eq!(decide_in(&v, &p), deliver(r.h1, H1, None));
        // No SA table: nothing to check.
        v.sa_permissive = false;
        v.sa = None;
        assert_eq!(decide_in(&v, &p), deliver(r.h1, H1, None));
    }
    let h1 = r.h1;
    r.sa.table()
        .validate(h1, REMOTE, spi, None, |_, _| true)
        .unwrap();
    assert_eq!(decide_in(&view(&r), &p), deliver(r.h1, H1, None));
    r.sa.table()
        .blacklist_add(h1, Some(REMOTE), None, None, |_, _| true)
        .unwrap();
    let mut v = view(&r);
    v.sa_permissive = true;
    assert_eq!(decide_in(&v, &p), Inbound::Drop);
    assert_eq!(v.stat(DataStat::InSaBlacklisted), 1);
}

#[test]
fn inbound_esp_in_udp_needs_the_spi_of_the_port_owner() {
    let r = router();
    let mut v = view(&r);
    v.sa_permissive = true;
    // To H2's port with H1's SPI.
    let p = pkt(
        REMOTE,
        PUBLIC,
        proto::UDP,
        &udp(4500, H2_PORT, &esp(H1_SPI)),
    );
    assert_eq!(decide_in(&v, &p), Inbound::Drop);
    assert_eq!(v.stat(DataStat::InSaNotSpiOwner), 1);
    assert_eq!(v.host_count(HostCount::SaDropped, r.h2), 1);
    let p = pkt(
        REMOTE,
        PUBLIC,
        proto::UDP,
        &udp(4500, H1_PORT, &esp(H1_SPI)),
    );
    assert_eq!(decide_in(&v, &p), deliver(r.h1, H1, None));
}

#[test]
fn local_errors() {
    let r = router();
    let v = view(&r);
    let sent = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H1_PORT, 53, b"12345678"));
    let err = pkt(
        PUBLIC,
        PUBLIC,
        proto::ICMP,
        &error(icmp::TIME_EXCEEDED, &sent),
    );
    let h = Header::parse(&err, err.len()).unwrap();
    assert_eq!(
        local_error(&v, &h, err.get(20..), PUBLIC),
        Some(Delivery {
            slot: r.h1,
            host: H1,
            lladdr: None,
            then: Some(DataStat::LocalIcmpError)
        })
    );
    // Not an error, or unreadable: the router's own.
    let echo = pkt(
        PUBLIC,
        PUBLIC,
        proto::ICMP,
        &query(icmp::ECHO_REPLY, H1_PORT),
    );
    let he = Header::parse(&echo, echo.len()).unwrap();
    assert_eq!(local_error(&v, &he, echo.get(20..), PUBLIC), None);
    assert_eq!(local_error(&v, &h, None, PUBLIC), None);
}

#[test]
fn delivery_counters() {
    let r = router();
    let v = view(&r);
    let d = Delivery {
        slot: r.h1,
        host: H1,
        lladdr: None,
        then: Some(DataStat::InIcmpReply),
    };
    delivered(&v, &d, 100, true);
    delivered(&v, &d, 100, false);
    assert_eq!(v.stat(DataStat::InDelivered), 1);
    assert_eq!(v.stat(DataStat::InIcmpReply), 1);
    assert_eq!(v.stat(DataStat::InEncapFailed), 1);
    assert_eq!(v.traffic(Traffic::In, r.h1), (1, 100));
}

#[test]
fn source_rewrite_keeps_the_checksum_valid() {
    let mut b = pkt(PUBLIC, PUBLIC, proto::ICMP, &[0; 8]);
    assert!(set_source(&mut b, PUBLIC, ROUTER_LAN));
    let h = Header::parse(&b, b.len()).unwrap();
    assert_eq!(h.src, ROUTER_LAN);
    assert_eq!(checksum::checksum(&b[..HEADER_LEN]), 0);
    assert!(!set_source(&mut b[..12], PUBLIC, ROUTER_LAN));
}

#[test]
fn outbound_ownership() {
    let r = router();
    let v = view(&r);
    let own = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H1_PORT + 5, 53, b"x"));
    assert_eq!(
        decide_out(&v, H1, &own),
        Outbound::Forward {
            sender: r.h1,
            sa: None
        }
    );
    // H2 with H1's port: spoofing, counted for H2 too; an unknown sender
    // only in the total.
    assert_eq!(decide_out(&v, H2, &own), Outbound::Drop);
    assert_eq!(v.host_count(HostCount::Spoofed, r.h2), 1);
    assert_eq!(
        decide_out(&v, Ipv4Addr::new(10, 0, 0, 99), &own),
        Outbound::Drop
    );
    assert_eq!(v.stat(DataStat::OutSpoofed), 2);
    // An echo request with an identifier of H1's block.
    let echo = pkt(PUBLIC, REMOTE, proto::ICMP, &query(icmp::ECHO, H1_PORT));
    assert!(matches!(
        decide_out(&v, H1, &echo),
        Outbound::Forward { .. }
    ));
    // Malformed inner packet.
    let outer = Header::parse(&pkt(H1, ROUTER_LAN, proto::IPIP, &own), 20 + own.len()).unwrap();
    assert_eq!(outbound(&v, &outer, None, PUBLIC), Outbound::Drop);
    assert_eq!(v.stat(DataStat::OutBadInner), 1);
}

#[test]
fn outbound_esp_from_known_hosts_not_revoked() {
    let r = router();
    let mut v = view(&r);
    let p = pkt(PUBLIC, REMOTE, proto::ESP, &esp(0x7000));
    let sa = Some(SaKey {
        peer: REMOTE,
        spi: 0x7000,
        proto: proto::ESP,
    });
    // H3 holds nothing but is known.
    assert_eq!(
        decide_out(&v, H3, &p),
        Outbound::Forward { sender: r.h3, sa }
    );
    v.revoked.push(r.h3);
    assert_eq!(decide_out(&v, H3, &p), Outbound::Drop);
    assert_eq!(v.stat(DataStat::OutSpoofed), 1);
    assert_eq!(v.host_count(HostCount::Spoofed, r.h3), 1);
}

#[test]
fn outbound_refusals() {
    let r = router();
    let mut v = view(&r);
    v.local.push(Ipv4Addr::new(192, 0, 2, 1));
    let cases = [
        (
            pkt(H1, REMOTE, proto::UDP, &udp(H1_PORT, 53, b"")),
            DataStat::OutNotPublicSource,
        ),
        (
            pkt(PUBLIC, ROUTER_LAN, proto::UDP, &udp(H1_PORT, 53, b"")),
            DataStat::OutLocalDestination,
        ),
        (
            pkt(
                PUBLIC,
                Ipv4Addr::new(192, 0, 2, 1),
                proto::UDP,
                &udp(H1_PORT, 53, b""),
            ),
            DataStat::OutLocalDestination,
        ),
        (pkt(PUBLIC, REMOTE, 47, &[0; 8]), DataStat::OutProtocol),
        (
            pkt(
                PUBLIC,
                REMOTE,
                proto::ICMP,
                &query(icmp::ECHO_REPLY, H1_PORT),
            ),
            DataStat::OutIcmpType,
        ),
    ];
    for (p, stat) in &cases {
        let before = v.stat(*stat);
        assert_eq!(decide_out(&v, H1, p), Outbound::Drop, "{stat:?}");
        assert_eq!(v.stat(*stat), before + 1, "{stat:?}");
    }
    assert_eq!(v.stat(DataStat::OutSpoofed), 0);
}

#[test]
fn forwarding_learns_the_sa() {
    let r = router();
    let v = view(&r);
    let sa = SaKey {
        peer: REMOTE,
        spi: 0x7000,
        proto: proto::ESP,
    };
    forwarded(&v, r.h1, Some(sa), 60, true);
    assert_eq!(r.out.shared().lookup(&sa, 1), Some(r.h1));
    // Another host's live SA: a conflict, still forwarded.
    forwarded(&v, r.h2, Some(sa), 60, true);
    assert_eq!(v.stat(DataStat::OutSaConflict), 1);
    forwarded(&v, r.h2, None, 60, false);
    assert_eq!(v.stat(DataStat::OutDecapFailed), 1);
    assert_eq!(v.stat(DataStat::OutForwarded), 2);
    assert_eq!(v.traffic(Traffic::Out, r.h1), (1, 60));
}

#[path = "tests/direct.rs"]
mod direct;
