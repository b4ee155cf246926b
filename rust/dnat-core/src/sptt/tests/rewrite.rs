// SPDX-License-Identifier: GPL-2.0

//! Port rewriting and checksums.

use super::*;

const SRC: [u8; 4] = [203, 0, 113, 30];
const DST: [u8; 4] = [198, 51, 100, 3];

/// Pseudo-header + segment (checksum field as is).
fn with_pseudo(proto: Proto, seg: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&SRC);
    v.extend_from_slice(&DST);
    v.push(0);
    v.push(proto.ip());
    v.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    v.extend_from_slice(seg);
    v
}

/// The checksum a sender computes: field zeroed, full sum; UDP sends a
/// computed 0 as 0xffff.
fn full_checksum(proto: Proto, seg: &[u8]) -> u16 {
    let mut s = seg.to_vec();
    let c = proto.check_offset();
    s[c] = 0;
    s[c + 1] = 0;
    match (proto, checksum::checksum(&with_pseudo(proto, &s))) {
        (Proto::Udp, 0) => 0xffff,
        (_, c) => c,
    }
}

fn tcp_segment(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&0x1234_5678u32.to_be_bytes()); // seq
    s.extend_from_slice(&0x9abc_def0u32.to_be_bytes()); // ack
    s.push(5 << 4); // data offset
    s.push(TCP_ACK | 0x08); // PSH ACK
    s.extend_from_slice(&64240u16.to_be_bytes()); // window
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
    s.extend_from_slice(payload);
    let c = full_checksum(Tcp, &s);
    s[16..18].copy_from_slice(&c.to_be_bytes());
    s
}

fn udp_datagram(sport: u16, dport: u16, payload: &[u8], with_check: bool) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    if with_check {
        let c = full_checksum(Udp, &s);
        s[6..8].copy_from_slice(&c.to_be_bytes());
    }
    s
}

fn field(s: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([s[off], s[off + 1]])
}

#[test]
fn rewrite_known_packets() {
    // A DNS query 203.0.113.30:40000 -> 198.51.100.3:53 and a TCP
    // segment to port 80; translate the source, then back.
    let payload =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let mut u = udp_datagram(40000, 53, payload, true);
    assert!(checksum::verify(&with_pseudo(Udp, &u)));
    let orig = u.clone();
    assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 5001), Ok(40000));
    assert_eq!(field(&u, 0), 5001);
    assert_eq!(field(&u, 2), 53);
    assert!(checksum::verify(&with_pseudo(Udp, &u)));
    assert_eq!(field(&u, 6), full_checksum(Udp, &u));
    assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 40000), Ok(5001));
    assert_eq!(u, orig);
    let mut t = tcp_segment(40000, 80, b"GET / HTTP/1.0\r\n\r\n");
    let orig = t.clone();
    assert_eq!(rewrite_port(&mut t, Tcp, Which::Src, 5001), Ok(40000));
    assert!(checksum::verify(&with_pseudo(Tcp, &t)));
    assert_eq!(field(&t, 16), full_checksum(Tcp, &t));
    // Inbound reply: destination port.
    let mut r = tcp_segment(80, 5001, b"HTTP/1.0 200 OK\r\n");
    assert_eq!(rewrite_port(&mut r, Tcp, Which::Dst, 40000), Ok(5001));
    assert_eq!(field(&r, 2), 40000);
    assert_eq!(field(&r, 16), full_checksum(Tcp, &r));
    // Same port: nothing changes.
    let mut same = orig.clone();
    assert_eq!(rewrite_port(&mut same, Tcp, Which::Src, 40000), Ok(40000));
    assert_eq!(same, orig);
}

#[test]
fn udp_zero_checksum_stays_zero_and_zero_becomes_ffff() {
    let mut u = udp_datagram(40000, 53, b"hello", false);
    assert_eq!(field(&u, 6), 0);
    assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 5001), Ok(40000));
    assert_eq!(field(&u, 0), 5001);
    assert_eq!(field(&u, 6), 0);
    // Craft a datagram whose checksum after the rewrite computes to 0:
    // choose the last payload word so that the new sum is 0xffff.
    let mut u = udp_datagram(5001, 53, &[0xab, 0xcd, 0, 0], false);
    let sum = checksum::sum(&with_pseudo(Udp, &u), 0);
    let adj = !sum;
    u[10..12].copy_from_slice(&adj.to_be_bytes());
    assert_eq!(checksum::checksum(&with_pseudo(Udp, &u)), 0);
    // That is the datagram after translation; build the one before.
    u[0..2].copy_from_slice(&40000u16.to_be_bytes());
    let c = full_checksum(Udp, &u);
    assert_ne!(c, 0);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 5001), Ok(40000));
    assert_eq!(field(&u, 6), 0xffff);
    assert!(checksum::verify(&with_pseudo(Udp, &u)));
}

#[test]
fn rewrite_random_packets_match_recomputation() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..20_000 {
        let len = rng.below(60) as usize;
        let payload: Vec<u8> = (0..len)
            .map(|_| match rng.below(4) {
                0 => 0,
                1 => 0xff,
                _ => rng.next() as u8,
            })
            .collect();
        let (sp, dp) = (rng.next() as u16, rng.next() as u16);
        let proto = if round % 2 == 0 { Tcp } else { Udp };
        let zero_udp = proto == Udp && rng.below(5) == 0;
        let mut seg = match proto {
            Tcp => tcp_segment(sp, dp, &payload),
            Udp => udp_datagram(sp, dp, &payload, !zero_udp),
        };
        let which = if rng.below(2) == 0 {
            Which::Src
        } else {
            Which::Dst
        };
        let new = match rng.below(4) {
            0 => 0,
            1 => 0xffff,
            _ => rng.next() as u16,
        };
        let old = rewrite_port(&mut seg, proto, which, new).unwrap();
        assert_eq!(old, if which == Which::Src { sp } else { dp });
        assert_eq!(field(&seg, which.offset()), new);
        let c = field(&seg, proto.check_offset());
        if zero_udp {
            assert_eq!(c, 0);
        } else {
            assert_eq!(c, full_checksum(proto, &seg), "round {round}");
            assert!(checksum::verify(&with_pseudo(proto, &seg)));
        }
    }
}

#[test]
fn rewrite_truncated_headers() {
    let mut t = tcp_segment(1, 2, b"");
    let mut short = t[..17].to_vec();
    let before = short.clone();
    assert_eq!(
        rewrite_port(&mut short, Tcp, Which::Src, 9),
        Err(SpttError::Truncated)
    );
    assert_eq!(short, before);
    assert_eq!(rewrite_port(&mut t[..18], Tcp, Which::Src, 9), Ok(1));
    let mut u = udp_datagram(1, 2, b"", true);
    assert_eq!(
        rewrite_port(&mut u[..7], Udp, Which::Dst, 9),
        Err(SpttError::Truncated)
    );
    assert_eq!(rewrite_port(&mut u[..8], Udp, Which::Dst, 9), Ok(2));
    assert_eq!(
        rewrite_port(&mut [], Udp, Which::Dst, 9),
        Err(SpttError::Truncated)
    );
    // set_port: the port only (CHECKSUM_PARTIAL).
    let mut p = [0x9c, 0x40, 0x00, 0x35, 0xaa, 0xbb];
    assert_eq!(set_port(&mut p, Which::Src, 5001), Ok(40000));
    assert_eq!(p, [0x13, 0x89, 0x00, 0x35, 0xaa, 0xbb]);
    assert_eq!(
        set_port(&mut p[..3], Which::Dst, 1),
        Err(SpttError::Truncated)
    );
}
