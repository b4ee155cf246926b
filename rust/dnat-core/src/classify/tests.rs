// SPDX-License-Identifier: GPL-2.0

use super::*;
use crate::ipv4::{self, HEADER_LEN};
use std::vec::Vec;

const PUB: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
const EXT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
const LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);

fn hdr(src: Ipv4Addr, dst: Ipv4Addr, p: u8, len: usize) -> Header {
    let b = ipv4::build(src, dst, p, 64, len).unwrap();
    Header::parse(&b, HEADER_LEN + len).unwrap()
}

/// A quoted packet: a header of `words` 32-bit words (options 0x01),
/// the fragment field `frag`, then `payload`.
fn quote(src: Ipv4Addr, dst: Ipv4Addr, p: u8, words: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    let hl = usize::from(words) * 4;
    let mut q = ipv4::build(src, dst, p, 1, 100).unwrap().to_vec();
    q[0] = 0x40 | words;
    q[6..8].copy_from_slice(&frag.to_be_bytes());
    q.resize(hl, 1);
    q.extend_from_slice(payload);
    q
}

/// An ICMP message of type `t` with `word` after the checksum.
fn icmp_msg(t: u8, word: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = std::vec![t, 0, 0, 0];
    m.extend_from_slice(&word);
    m.extend_from_slice(body);
    m
}

/// UDP 20001 -> 53 (8 bytes).
const UDP_OUT: [u8; 8] = [0x4e, 0x21, 0, 53, 0, 8, 0x12, 0x34];
/// An echo request, identifier 20002 (8 bytes).
const ECHO_OUT: [u8; 8] = [8, 0, 0xab, 0xcd, 0x4e, 0x22, 0, 1];
/// ESP, SPI 0x12345678 (8 bytes).
const ESP_OUT: [u8; 8] = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 9];
/// AH, SPI 0x9abcdef0 at offset 4 (8 bytes).
const AH_OUT: [u8; 8] = [50, 4, 0, 0, 0x9a, 0xbc, 0xde, 0xf0];

#[test]
fn inbound_keys() {
    let tcp = hdr(EXT, PUB, proto::TCP, 20);
    assert_eq!(
        inbound(&tcp, &[0x00, 0x50, 0x4e, 0x20], PUB),
        Key::Port(20000)
    );
    let udp = hdr(EXT, PUB, proto::UDP, 8);
    assert_eq!(
        inbound(&udp, &[0, 53, 0x75, 0x30, 0, 8, 0, 0], PUB),
        Key::Port(30000)
    );
    let esp = hdr(EXT, PUB, proto::ESP, 16);
    assert_eq!(
        inbound(&esp, &[0, 0, 0x10, 0x01, 0, 0, 0, 1], PUB),
        Key::Spi(0x1001)
    );
    let ah = hdr(EXT, PUB, proto::AH, 24);
    assert_eq!(
        inbound(&ah, &[4, 4, 0, 0, 0, 0, 0x10, 0x02], PUB),
        Key::Spi(0x1002)
    );
    assert_eq!(inbound(&tcp, &[0, 80, 1], PUB), Key::None);
    let gre = hdr(EXT, PUB, 47, 8);
    assert_eq!(inbound(&gre, &[0; 8], PUB), Key::None);
    // The ICMP-aware keys agree on everything but ICMP.
    assert_eq!(
        inbound_key(&tcp, &[0x00, 0x50, 0x4e, 0x20], PUB),
        InKey::Port(20000)
    );
    assert_eq!(
        inbound_key(&ah, &[4, 4, 0, 0, 0, 0, 0x10, 0x02], PUB),
        InKey::Spi(0x1002)
    );
    assert_eq!(inbound_key(&gre, &[0; 8], PUB), InKey::None);
}

#[test]
fn esp_in_udp_is_told_by_its_marker() {
    let udp = hdr(EXT, PUB, proto::UDP, 16);
    // From 4500 to 20001, SPI 0x1001, sequence 1.
    let esp = [
        0x11, 0x94, 0x4e, 0x21, 0, 16, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1,
    ];
    assert_eq!(
        inbound(&udp, &esp, PUB),
        Key::EspInUdp {
            port: 20001,
            spi: 0x1001
        }
    );
    // The non-ESP marker: IKE, delivered by port.
    let mut ike = esp;
    ike[8..12].copy_from_slice(&[0; 4]);
    assert_eq!(inbound(&udp, &ike, PUB), Key::Port(20001));
    // A NAT keepalive (one byte 0xff), and a payload shorter than an
    // SPI by the UDP length whatever follows: plain UDP.
    let ka = hdr(EXT, PUB, proto::UDP, 9);
    assert_eq!(
        inbound(&ka, &[0x11, 0x94, 0x4e, 0x21, 0, 9, 0, 0, 0xff], PUB),
        Key::Port(20001)
    );
    let mut short = esp;
    short[5] = 11;
    assert_eq!(inbound(&udp, &short, PUB), Key::Port(20001));
    // From another port: UDP.
    let mut other = esp;
    other[1] = 0x95;
    assert_eq!(inbound(&udp, &other, PUB), Key::Port(20001));
    // TCP from 4500 is TCP.
    let tcp = hdr(EXT, PUB, proto::TCP, 20);
    assert_eq!(inbound(&tcp, &esp, PUB), Key::Port(20001));
}

#[test]
fn inbound_icmp_queries_by_type() {
    let icmp = hdr(EXT, PUB, proto::ICMP, 8);
    let mut classes = [0usize; 4];
    for t in 0..=u8::MAX {
        let m = icmp_msg(t, [0x4e, 0x21, 0, 7], &[]);
        let k = inbound_key(&icmp, &m, PUB);
        let want = match icmp::class(t) {
            Class::Reply => InKey::IcmpId(20001),
            // Requests are the router's; errors without a quote, and
            // everything else, are nobody's.
            Class::Request | Class::Error | Class::Other => InKey::None,
        };
        assert_eq!(k, want, "type {t}");
        assert_eq!(k.port(), (want != InKey::None).then_some(20001));
        // The modules' classification leaves all of it to the router.
        assert_eq!(inbound(&icmp, &m, PUB), Key::None, "type {t}");
        classes[icmp::class(t) as usize] += 1;
    }
    assert_eq!(classes[Class::Reply as usize], 4);
    // A reply too short for its identifier.
    for n in 0..6 {
        let m = icmp_msg(0, [0x4e, 0x21, 0, 7], &[]);
        assert_eq!(inbound_key(&icmp, &m[..n], PUB), InKey::None, "{n}");
    }
    let m = icmp_msg(0, [0x4e, 0x21, 0, 7], &[]);
    assert_eq!(inbound_key(&icmp, &m[..6], PUB), InKey::IcmpId(20001));
}

/// The key of error type `t` quoting `q`.
fn err_key(t: u8, q: &[u8]) -> InKey {
    let l4 = icmp_msg(t, [0, 0, 0x05, 0xdc], q);
    let h = hdr(EXT, PUB, proto::ICMP, l4.len());
    let k = inbound_key(&h, &l4, PUB);
    // The modules' classification: quoted ports only.
    assert_eq!(inbound(&h, &l4, PUB), k.legacy());
    k
}

#[test]
fn inbound_icmp_errors_by_what_they_quote() {
    let sa = |spi, proto| {
        InKey::QuotedSa(SaKey {
            peer: EXT,
            spi,
            proto,
        })
    };
    let cases: [(u8, &[u8], InKey); 5] = [
        (proto::UDP, &UDP_OUT, InKey::Port(20001)),
        (proto::TCP, &UDP_OUT, InKey::Port(20001)),
        (proto::ICMP, &ECHO_OUT, InKey::IcmpId(20002)),
        (proto::ESP, &ESP_OUT, sa(0x1234_5678, proto::ESP)),
        (proto::AH, &AH_OUT, sa(0x9abc_def0, proto::AH)),
    ];
    for t in 0..=u8::MAX {
        for (p, payload, want) in cases {
            let q = quote(PUB, EXT, p, 5, 0x4000, payload);
            let want = match icmp::class(t) {
                Class::Error => want,
                // A reply's identifier is the word after the checksum.
                Class::Reply => InKey::IcmpId(0),
                Class::Request | Class::Other => InKey::None,
            };
            assert_eq!(err_key(t, &q), want, "type {t} quoting {p}");
        }
    }
    for t in [3, 4, 5, 11, 12] {
        for (p, payload, want) in cases {
            // Options are skipped, whatever their length.
            for words in 5..=15 {
                let q = quote(PUB, EXT, p, words, 0, payload);
                assert_eq!(err_key(t, &q), want, "{words} words");
                // Truncated anywhere before the 8 payload bytes: nothing.
                let l4 = icmp_msg(t, [0; 4], &q);
                let h = hdr(EXT, PUB, proto::ICMP, l4.len());
                for n in 0..l4.len() {
                    assert_eq!(inbound_key(&h, &l4[..n], PUB), InKey::None, "{p} {n}");
                }
            }
            // About somebody else's packet: the router's.
            let q = quote(EXT, PUB, p, 5, 0, payload);
            assert_eq!(err_key(t, &q), InKey::None);
            let q = quote(LAN, EXT, p, 5, 0, payload);
            assert_eq!(err_key(t, &q), InKey::None);
            // A first fragment has ports; a later one has none.
            let q = quote(PUB, EXT, p, 5, 0x2000, payload);
            assert_eq!(err_key(t, &q), want);
            for frag in [1, 0x2001, 0x1fff, 0x4010] {
                let q = quote(PUB, EXT, p, 5, frag, payload);
                assert_eq!(err_key(t, &q), InKey::None, "fragment {frag:#x}");
            }
            // A malformed quote.
            for b0 in [0x65u8, 0x44, 0x00] {
                let mut q = quote(PUB, EXT, p, 5, 0, payload);
                q[0] = b0;
                assert_eq!(err_key(t, &q), InKey::None, "{b0:#x}");
            }
        }
        // Never an error about an error, nor about anything but a
        // query request the public address sent.
        for qt in 0..=u8::MAX {
            let mut body = ECHO_OUT;
            body[0] = qt;
            let q = quote(PUB, EXT, proto::ICMP, 5, 0, &body);
            let want = match icmp::class(qt) {
                Class::Request => InKey::IcmpId(20002),
                _ => InKey::None,
            };
            assert_eq!(err_key(t, &q), want, "error {t} quoting ICMP {qt}");
        }
        // Other protocols have no ports.
        for p in [0, 4, 41, 47, 132, 136, 255] {
            let q = quote(PUB, EXT, p, 5, 0, &UDP_OUT);
            assert_eq!(err_key(t, &q), InKey::None, "protocol {p}");
        }
    }
}

#[test]
fn l4_peek_covers_the_longest_quote() {
    assert_eq!(L4_PEEK, 76);
    let q = quote(PUB, EXT, proto::AH, 15, 0, &AH_OUT);
    let l4 = icmp_msg(3, [0, 0, 0, 0], &q);
    assert_eq!(l4.len(), L4_PEEK);
    let h = hdr(EXT, PUB, proto::ICMP, l4.len());
    assert!(matches!(inbound_key(&h, &l4, PUB), InKey::QuotedSa(_)));
    assert_eq!(inbound_key(&h, &l4[..L4_PEEK - 1], PUB), InKey::None);
    assert_eq!(peek_len(proto::ICMP), L4_PEEK);
    assert_eq!(peek_len(proto::TCP), 4);
    assert_eq!(peek_len(proto::UDP), 12);
    assert_eq!(peek_len(proto::ESP), 4);
    assert_eq!(peek_len(proto::AH), 8);
    assert_eq!(peek_len(47), 0);
    for p in 0..=u8::MAX {
        assert!(peek_len(p) <= L4_PEEK);
    }
    // Each protocol's key fits in its peek.
    let esp_in_udp = [
        0x11, 0x94, 0x4e, 0x21, 0, 16, 0, 0, 0, 0, 0x10, 0x01, 0xff, 0xff,
    ];
    for (p, l4) in [
        (proto::TCP, &[0, 80, 0x4e, 0x20, 9, 9][..]),
        (proto::UDP, &esp_in_udp[..]),
        (proto::ESP, &ESP_OUT[..]),
        (proto::AH, &AH_OUT[..]),
    ] {
        let h = hdr(EXT, PUB, p, 64);
        let k = inbound_key(&h, l4, PUB);
        assert_ne!(k, InKey::None, "{p}");
        assert_eq!(inbound_key(&h, &l4[..peek_len(p)], PUB), k, "{p}");
    }
}

#[test]
fn outbound_proofs() {
    let tcp = hdr(PUB, EXT, proto::TCP, 20);
    assert_eq!(
        outbound(&tcp, &[0x4e, 0x20, 0, 80], PUB, LAN),
        Ok(Proof::Port(20000))
    );
    let esp = hdr(PUB, EXT, proto::ESP, 16);
    assert_eq!(outbound(&esp, &[0; 8], PUB, LAN), Ok(Proof::KnownHost));
    let spoof = hdr(Ipv4Addr::new(10, 0, 0, 1), EXT, proto::TCP, 20);
    assert_eq!(
        outbound(&spoof, &[0; 4], PUB, LAN),
        Err(OutError::NotPublicSource)
    );
    assert_eq!(
        outbound_proof(&spoof, &[0; 4], PUB, LAN),
        Err(OutRefusal::NotPublicSource)
    );
    // An echo request: its identifier must be owned; the modules'
    // classification refuses ICMP until they are wired.
    let icmp = hdr(PUB, EXT, proto::ICMP, 8);
    assert_eq!(
        outbound_proof(&icmp, &ECHO_OUT, PUB, LAN),
        Ok(Proof::Port(20002))
    );
    assert_eq!(
        outbound(&icmp, &ECHO_OUT, PUB, LAN),
        Err(OutError::Protocol)
    );
    assert_eq!(
        outbound_proof(&icmp, &[8, 0, 0, 0], PUB, LAN),
        Err(OutRefusal::Truncated)
    );
    assert_eq!(
        outbound(&icmp, &[8, 0, 0, 0], PUB, LAN),
        Err(OutError::Protocol)
    );
    assert_eq!(outbound(&tcp, &[0x4e], PUB, LAN), Err(OutError::Truncated));
    let gre = hdr(PUB, EXT, 47, 8);
    assert_eq!(
        outbound_proof(&gre, &[0; 8], PUB, LAN),
        Err(OutRefusal::Protocol)
    );
    // Nothing for the router itself or not unicast.
    for dst in [
        PUB,
        LAN,
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::BROADCAST,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(240, 0, 0, 1),
    ] {
        for (p, l4) in [(proto::UDP, &UDP_OUT), (proto::ICMP, &ECHO_OUT)] {
            let local = hdr(PUB, dst, p, 8);
            assert_eq!(
                outbound(&local, l4, PUB, LAN),
                Err(OutError::LocalDestination),
                "{dst}"
            );
            assert_eq!(
                outbound_proof(&local, l4, PUB, LAN),
                Err(OutRefusal::LocalDestination),
                "{dst}"
            );
        }
    }
    // Fragments, ICMP too.
    let mut b = ipv4::build(PUB, EXT, proto::ICMP, 64, 8).unwrap();
    b[6] = 0x20;
    b[10..12].copy_from_slice(&[0, 0]);
    let c = crate::checksum::checksum(&b);
    b[10..12].copy_from_slice(&c.to_be_bytes());
    let frag = Header::parse(&b, 28).unwrap();
    assert_eq!(
        outbound_proof(&frag, &ECHO_OUT, PUB, LAN),
        Err(OutRefusal::Fragment)
    );
    assert_eq!(
        outbound(&frag, &ECHO_OUT, PUB, LAN),
        Err(OutError::Fragment)
    );
}

#[test]
fn outbound_icmp_by_type() {
    let icmp = hdr(PUB, EXT, proto::ICMP, 8);
    for t in 0..=u8::MAX {
        let m = icmp_msg(t, [0x4e, 0x23, 0, 1], &[]);
        let want = match icmp::class(t) {
            Class::Request => Ok(Proof::Port(20003)),
            // Errors without a quote: truncated; source quench and
            // redirect are refused whatever they carry.
            Class::Error if t != 4 && t != 5 => Err(OutRefusal::Truncated),
            Class::Reply | Class::Error | Class::Other => Err(OutRefusal::IcmpType),
        };
        assert_eq!(outbound_proof(&icmp, &m, PUB, LAN), want, "type {t}");
        assert_eq!(
            outbound(&icmp, &m, PUB, LAN),
            Err(OutError::Protocol),
            "type {t}"
        );
        for n in 0..6 {
            let r = outbound_proof(&icmp, &m[..n], PUB, LAN);
            if icmp::class(t) == Class::Request || n == 0 {
                assert_eq!(r, Err(OutRefusal::Truncated), "type {t}, {n} bytes");
            }
        }
    }
}

#[test]
fn outbound_icmp_errors_prove_the_quoted_destination() {
    // The host received UDP EXT:53 -> PUB:20001 (quoted ports reversed)
    // and an echo reply with identifier 20002.
    let udp_in = [0, 53, 0x4e, 0x21, 0, 8, 0x12, 0x34];
    let reply_in = [0, 0, 0xab, 0xcd, 0x4e, 0x22, 0, 1];
    let proof = |t: u8, q: &[u8], dst: Ipv4Addr| {
        let l4 = icmp_msg(t, [0; 4], q);
        let h = hdr(PUB, dst, proto::ICMP, l4.len());
        assert_eq!(outbound(&h, &l4, PUB, LAN), Err(OutError::Protocol));
        outbound_proof(&h, &l4, PUB, LAN)
    };
    for t in [3, 11, 12] {
        for words in [5, 6, 15] {
            let q = quote(EXT, PUB, proto::UDP, words, 0, &udp_in);
            assert_eq!(proof(t, &q, EXT), Ok(Proof::Port(20001)));
            let q = quote(EXT, PUB, proto::TCP, words, 0x2000, &udp_in);
            assert_eq!(proof(t, &q, EXT), Ok(Proof::Port(20001)));
            for qt in 0..=u8::MAX {
                let mut body = reply_in;
                body[0] = qt;
                let q = quote(EXT, PUB, proto::ICMP, words, 0, &body);
                let want = match icmp::class(qt) {
                    Class::Reply => Ok(Proof::Port(20002)),
                    _ => Err(OutRefusal::IcmpQuote),
                };
                assert_eq!(proof(t, &q, EXT), want, "error {t} quoting {qt}");
            }
            // Truncated anywhere: refused as such.
            let q = quote(EXT, PUB, proto::UDP, words, 0, &udp_in);
            let l4 = icmp_msg(t, [0; 4], &q);
            let h = hdr(PUB, EXT, proto::ICMP, l4.len());
            for n in 1..l4.len() {
                assert_eq!(
                    outbound_proof(&h, &l4[..n], PUB, LAN),
                    Err(OutRefusal::Truncated),
                    "{n}"
                );
            }
        }
        // Not about a packet the host received from the error's
        // destination at the public address.
        let cases = [
            quote(EXT, LAN, proto::UDP, 5, 0, &udp_in),
            quote(PUB, EXT, proto::UDP, 5, 0, &udp_in),
            quote(LAN, PUB, proto::UDP, 5, 0, &udp_in),
            quote(EXT, PUB, proto::UDP, 5, 1, &udp_in),
            quote(EXT, PUB, proto::UDP, 5, 0x2010, &udp_in),
            quote(EXT, PUB, proto::ESP, 5, 0, &ESP_OUT),
            quote(EXT, PUB, proto::AH, 5, 0, &AH_OUT),
            quote(EXT, PUB, 47, 5, 0, &udp_in),
        ];
        for q in &cases {
            assert_eq!(proof(t, q, EXT), Err(OutRefusal::IcmpQuote), "{q:02x?}");
        }
        let mut bad = quote(EXT, PUB, proto::UDP, 5, 0, &udp_in);
        bad[0] = 0x65;
        assert_eq!(proof(t, &bad, EXT), Err(OutRefusal::IcmpQuote));
        bad[0] = 0x43;
        assert_eq!(proof(t, &bad, EXT), Err(OutRefusal::IcmpQuote));
    }
    // Source quench and redirect, even about a valid quote.
    for t in [4, 5] {
        let q = quote(EXT, PUB, proto::UDP, 5, 0, &udp_in);
        assert_eq!(proof(t, &q, EXT), Err(OutRefusal::IcmpType));
    }
}

#[test]
fn outbound_sas() {
    let esp = hdr(PUB, EXT, proto::ESP, 16);
    assert_eq!(
        outbound_sa(&esp, &ESP_OUT),
        Some(SaKey {
            peer: EXT,
            spi: 0x1234_5678,
            proto: proto::ESP
        })
    );
    assert_eq!(outbound_sa(&esp, &ESP_OUT[..3]), None);
    let ah = hdr(PUB, EXT, proto::AH, 16);
    assert_eq!(
        outbound_sa(&ah, &AH_OUT),
        Some(SaKey {
            peer: EXT,
            spi: 0x9abc_def0,
            proto: proto::AH
        })
    );
    assert_eq!(outbound_sa(&ah, &AH_OUT[..7]), None);
    assert_eq!(outbound_sa(&hdr(PUB, EXT, proto::UDP, 8), &UDP_OUT), None);
    let mut b = ipv4::build(PUB, EXT, proto::ESP, 64, 8).unwrap();
    b[7] = 1;
    b[10..12].copy_from_slice(&[0, 0]);
    let c = crate::checksum::checksum(&b);
    b[10..12].copy_from_slice(&c.to_be_bytes());
    let frag = Header::parse(&b, 28).unwrap();
    assert_eq!(outbound_sa(&frag, &ESP_OUT), None);
}

#[test]
fn legacy_mappings() {
    let sa = SaKey {
        peer: EXT,
        spi: 7,
        proto: proto::ESP,
    };
    assert_eq!(InKey::Port(1).legacy(), Key::Port(1));
    assert_eq!(InKey::Spi(2).legacy(), Key::Spi(2));
    assert_eq!(
        InKey::EspInUdp { port: 3, spi: 4 }.legacy(),
        Key::EspInUdp { port: 3, spi: 4 }
    );
    assert_eq!(InKey::IcmpId(5).legacy(), Key::None);
    assert_eq!(InKey::QuotedSa(sa).legacy(), Key::None);
    assert_eq!(InKey::None.legacy(), Key::None);
    assert_eq!(InKey::QuotedSa(sa).port(), None);
    assert_eq!(InKey::Spi(2).port(), None);
    assert_eq!(InKey::EspInUdp { port: 3, spi: 4 }.port(), Some(3));
    for (r, e) in [
        (OutRefusal::NotPublicSource, OutError::NotPublicSource),
        (OutRefusal::Protocol, OutError::Protocol),
        (OutRefusal::Truncated, OutError::Truncated),
        (OutRefusal::Fragment, OutError::Fragment),
        (OutRefusal::LocalDestination, OutError::LocalDestination),
        (OutRefusal::IcmpType, OutError::Protocol),
        (OutRefusal::IcmpQuote, OutError::Protocol),
    ] {
        assert_eq!(r.legacy(), e);
    }
}
