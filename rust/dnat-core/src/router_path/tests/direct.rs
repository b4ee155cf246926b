// SPDX-License-Identifier: GPL-2.0

//! Direct delivery: inbound to the bound address, untunnelled outbound
//! only from it, on the LAN device, for what its host owns.

use super::*;
use crate::direct::Lladdr;

const M1: Lladdr = [0x02, 0, 0, 0, 0, 0x01];
const M2: Lladdr = [0x02, 0, 0, 0, 0, 0x02];
const EVIL: Lladdr = [0x02, 0, 0, 0, 0, 0x66];

/// H1 direct, bound to M1; H2 on IP-in-IP.
fn direct_view(r: &Router) -> StoreView<'_> {
    let v = view(r);
    v.direct.set(r.h1, Binding::Bound(M1)).unwrap();
    v
}

fn decide_direct(v: &StoreView<'_>, p: &[u8], from: Iface, m: Option<Lladdr>) -> Outbound {
    let h = Header::parse(p, p.len()).unwrap();
    untunnelled(v, &h, p.get(h.header_len..), PUBLIC, from, m)
}

fn forward(sender: Slot, sa: Option<SaKey>) -> Outbound {
    Outbound::Forward { sender, sa }
}

#[test]
fn inbound_goes_to_the_bound_address() {
    let r = router();
    let v = direct_view(&r);
    let p = pkt(REMOTE, PUBLIC, proto::UDP, &udp(53, H1_PORT, b"x"));
    let Inbound::Deliver(d) = decide_in(&v, &p) else {
        panic!("not delivered");
    };
    assert_eq!((d.slot, d.host, d.lladdr), (r.h1, H1, Some(M1)));
    delivered(&v, &d, p.len(), true);
    assert_eq!(v.stat(DataStat::InDirect), 1);
    assert_eq!(v.stat(DataStat::InDelivered), 1);
    // H2 still tunnelled; ESP by SPI and ICMP replies to H1 direct too.
    let p2 = pkt(REMOTE, PUBLIC, proto::UDP, &udp(53, H2_PORT, b"x"));
    assert_eq!(decide_in(&v, &p2), deliver(r.h2, H2, None));
    let mut pv = view(&r);
    pv.sa_permissive = true;
    pv.direct.set(r.h1, Binding::Bound(M1)).unwrap();
    let e = pkt(REMOTE, PUBLIC, proto::ESP, &esp(H1_SPI + 1));
    assert!(matches!(decide_in(&pv, &e), Inbound::Deliver(d) if d.lladdr == Some(M1)));
    // Learning: tunnelled until bound.
    v.direct.set(r.h1, Binding::Learn).unwrap();
    assert_eq!(decide_in(&v, &p), deliver(r.h1, H1, None));
}

#[test]
fn local_errors_follow_the_binding() {
    let r = router();
    let v = direct_view(&r);
    let q = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H1_PORT, 53, b"12345678"));
    let e = pkt(PUBLIC, PUBLIC, proto::ICMP, &error(icmp::TIME_EXCEEDED, &q));
    let h = Header::parse(&e, e.len()).unwrap();
    let d = local_error(&v, &h, e.get(h.header_len..), PUBLIC).unwrap();
    assert_eq!(d.lladdr, Some(M1));
}

#[test]
fn untunnelled_from_the_bound_address_is_forwarded() {
    let r = router();
    let v = direct_view(&r);
    let cases = [
        pkt(PUBLIC, REMOTE, proto::UDP, &udp(H1_PORT + 3, 53, b"x")),
        pkt(PUBLIC, REMOTE, proto::TCP, &udp(H1_PORT, 80, &[0; 12])),
        pkt(PUBLIC, REMOTE, proto::ICMP, &query(icmp::ECHO, H1_PORT + 1)),
    ];
    for p in &cases {
        assert_eq!(
            decide_direct(&v, p, Iface::Lan, Some(M1)),
            forward(r.h1, None)
        );
    }
    // ESP and AH: no port to prove, the bound address names the host.
    let e = pkt(PUBLIC, REMOTE, proto::ESP, &esp(0x7000));
    let sa = SaKey {
        peer: REMOTE,
        spi: 0x7000,
        proto: proto::ESP,
    };
    assert_eq!(
        decide_direct(&v, &e, Iface::Lan, Some(M1)),
        forward(r.h1, Some(sa))
    );
    assert_eq!(v.stat(DataStat::OutDirect), 4);
    assert_eq!(
        v.stat(DataStat::OutForwarded),
        0,
        "the glue's forwarded() counts that"
    );
}

#[test]
fn untunnelled_forgeries_are_dropped_by_class() {
    let r = router();
    let v = direct_view(&r);
    let h1_udp = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H1_PORT, 53, b"x"));
    let h1_echo = pkt(PUBLIC, REMOTE, proto::ICMP, &query(icmp::ECHO, H1_PORT));
    let h2_udp = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H2_PORT, 53, b"x"));
    let free_udp = pkt(PUBLIC, REMOTE, proto::UDP, &udp(29000, 53, b"x"));
    let esp_p = pkt(PUBLIC, REMOTE, proto::ESP, &esp(0x7000));
    let cases: [(&[u8], Iface, Option<Lladdr>, DataStat); 10] = [
        // Another address using H1's port or identifier.
        (&h1_udp, Iface::Lan, Some(EVIL), DataStat::OutDirectLladdr),
        (&h1_echo, Iface::Lan, Some(EVIL), DataStat::OutDirectLladdr),
        (&h1_udp, Iface::Lan, None, DataStat::OutDirectLladdr),
        // H1's address on another device.
        (&h1_udp, Iface::Other, Some(M1), DataStat::OutDirectDev),
        (&esp_p, Iface::Other, Some(M1), DataStat::OutDirectDev),
        // H1 using what it does not own.
        (&h2_udp, Iface::Lan, Some(M1), DataStat::OutSpoofed),
        (&free_udp, Iface::Lan, Some(M1), DataStat::OutSpoofed),
        // An IP-in-IP host's port, nobody's port, ESP from no bound host.
        (&h2_udp, Iface::Lan, Some(M2), DataStat::OutUntunnelled),
        (&free_udp, Iface::Lan, Some(EVIL), DataStat::OutUntunnelled),
        (&esp_p, Iface::Lan, Some(EVIL), DataStat::OutUntunnelled),
    ];
    for (i, (p, from, m, stat)) in cases.iter().enumerate() {
        let before = v.stat(*stat);
        assert_eq!(decide_direct(&v, p, *from, *m), Outbound::Drop, "case {i}");
        assert_eq!(v.stat(*stat), before + 1, "case {i}: {stat:?}");
    }
    assert_eq!(v.host_count(HostCount::Spoofed, r.h1), 2);
    assert_eq!(v.stat(DataStat::OutDirect), 0);
    // Refusals of the proof are counted as for tunnelled packets.
    let to_router = pkt(PUBLIC, PUBLIC, proto::UDP, &udp(H1_PORT, 53, b"x"));
    assert_eq!(
        decide_direct(&v, &to_router, Iface::Lan, Some(M1)),
        Outbound::Drop
    );
    assert_eq!(v.stat(DataStat::OutLocalDestination), 1);
    let gre = pkt(PUBLIC, REMOTE, 47, &[0; 8]);
    assert_eq!(
        decide_direct(&v, &gre, Iface::Lan, Some(M1)),
        Outbound::Drop
    );
    assert_eq!(v.stat(DataStat::OutProtocol), 1);
    let h = Header::parse(&h1_udp, h1_udp.len()).unwrap();
    assert_eq!(
        untunnelled(&v, &h, None, PUBLIC, Iface::Lan, Some(M1)),
        Outbound::Drop
    );
    assert_eq!(v.stat(DataStat::OutBadInner), 1);
}

#[test]
fn revoked_or_unbound_hosts_are_not_forwarded() {
    let r = router();
    let mut v = direct_view(&r);
    v.revoked.push(r.h1);
    let e = pkt(PUBLIC, REMOTE, proto::ESP, &esp(0x7000));
    assert_eq!(decide_direct(&v, &e, Iface::Lan, Some(M1)), Outbound::Drop);
    let v = view(&r);
    v.direct.set(r.h1, Binding::Learn).unwrap();
    let p = pkt(PUBLIC, REMOTE, proto::UDP, &udp(H1_PORT, 53, b"x"));
    assert_eq!(decide_direct(&v, &p, Iface::Lan, Some(M1)), Outbound::Drop);
    assert_eq!(v.stat(DataStat::OutDirectLladdr), 1);
    v.direct.set(r.h1, Binding::Ipip).unwrap();
    assert_eq!(decide_direct(&v, &p, Iface::Lan, Some(M1)), Outbound::Drop);
    assert_eq!(v.stat(DataStat::OutUntunnelled), 1);
    // A binding left on a slot no host holds proves nothing.
    v.direct.set(7, Binding::Bound(M2)).unwrap();
    let e = pkt(PUBLIC, REMOTE, proto::ESP, &esp(0x7000));
    assert_eq!(decide_direct(&v, &e, Iface::Lan, Some(M2)), Outbound::Drop);
    assert_eq!(v.stat(DataStat::OutDirect), 0);
}
