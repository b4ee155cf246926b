// SPDX-License-Identifier: GPL-2.0

//! Tests of `pap_auth.rs`, `pap_keys.rs` and `pap_session.rs` together:
//! the wire format, and a host session against the router's key table.

use super::*;
use crate::pap::{self, scope, Acked, Message, PortBlock, PortClass, Reason};
use crate::pap_keys::{Admit, Deny, KeyTable, Mode};
use crate::pap_session::{Opened, Session, SessionDrop};

const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const SECRET: Key = [0x5a; 16];
const EPOCH: u32 = 0x5eed_0001;

fn trailer(xid: u32, epoch: u32) -> Trailer {
    Trailer {
        xid,
        epoch,
        lease: 0,
    }
}

fn port_request(xid: u32) -> ([u8; MAX_WIRE], usize) {
    let m = Message::PortRequest {
        class: PortClass::High,
        count: 32,
        ext: Some(trailer(xid, 0)),
    };
    let mut b = [0u8; MAX_WIRE];
    let n = pap::encode(&m, &mut b).unwrap();
    (b, n)
}

fn entropy() -> [u8; 20] {
    core::array::from_fn(|i| i as u8 + 1)
}

/// The router's side of one exchange: parse, admit, serve with `reply`
/// (sealed like the router does), accept.
fn serve(
    t: &mut KeyTable<8>,
    host: Ipv4Addr,
    buf: &[u8],
    now: u64,
    reply: Message,
) -> Result<([u8; MAX_WIRE], usize), Deny> {
    let frame = parse(buf, Direction::ToRouter).unwrap();
    let mut out = [0u8; MAX_WIRE];
    if let Frame::KeyRequest(r) = frame {
        let n = t.grant(host, &r, EPOCH, now, &mut out).unwrap().unwrap();
        return Ok((out, n));
    }
    let admit = t.admit(Mode::Required, host, &frame, buf, now)?;
    let mut n = pap::encode(&reply, &mut out).unwrap();
    match admit {
        Admit::Fresh(tag, key) | Admit::Retransmit(tag, key) => {
            n = seal(&mut out, n, &key, tag, Direction::ToHost, host).unwrap();
            t.accept(host, tag, now);
        }
        Admit::Plain => {}
    }
    Ok((out, n))
}

fn grant_reply(xid: u32) -> Message {
    Message::PortResponse {
        result: Ok(PortBlock {
            lowest: 20000,
            count: 32,
        }),
        ext: Some(Trailer {
            xid,
            epoch: EPOCH,
            lease: 1800,
        }),
    }
}

#[test]
fn key_messages_round_trip_and_reject_damage() {
    let r = KeyRequest {
        half: [3; 16],
        ext: trailer(0x1234_abcd, 0),
    };
    let mut b = [0u8; MAX_WIRE];
    let n = encode_key_request(&r, &mut b).unwrap();
    assert_eq!(n, KEY_MSG_LEN);
    assert_eq!(
        parse(&b[..n], Direction::ToRouter),
        Ok(Frame::KeyRequest(r))
    );
    // The other direction wants a sealed grant.
    assert_eq!(parse(&b[..n], Direction::ToHost), Err(PapError::BadLength));
    let mut bad = b;
    bad[30] ^= 1;
    assert_eq!(
        parse(&bad[..n], Direction::ToRouter),
        Err(PapError::BadChecksum)
    );
    assert_eq!(
        parse(&b[..n - 1], Direction::ToRouter),
        Err(PapError::TooShort)
    );
    // Unused bytes, xid 0 and a lease are refused.
    for (at, e) in [(5, PapError::NonzeroUnused), (35, PapError::NonzeroLease)] {
        let mut c = b;
        c[at] = 1;
        set_checksum(&mut c[..n]);
        assert_eq!(parse(&c[..n], Direction::ToRouter), Err(e));
    }
    let zero = KeyRequest {
        ext: trailer(0, 0),
        ..r
    };
    assert_eq!(encode_key_request(&zero, &mut b), Err(PapError::ZeroXid));

    let key = derive_key(&SECRET, H1, 9);
    let g = KeyGrant {
        key_id: 9,
        wrapped: wrap(&key, &r.half, H1, 9),
        ext: trailer(r.ext.xid, EPOCH),
    };
    let n = encode_key_grant(&g, &key, H1, &mut b).unwrap();
    assert_eq!(n, MAX_WIRE);
    let tag = Tag { key_id: 9, seq: 0 };
    assert_eq!(
        parse(&b[..n], Direction::ToHost),
        Ok(Frame::KeyGrant(g, tag))
    );
    assert!(verify(&b[..n], &key, Direction::ToHost, H1));
    assert!(!verify(&b[..n], &key, Direction::ToHost, H2));
    assert!(!verify(&b[..n], &key, Direction::ToRouter, H1));
    assert_eq!(wrap(&g.wrapped, &r.half, H1, 9), key);
    assert_ne!(wrap(&g.wrapped, &[4; 16], H1, 9), key);
}

#[test]
fn sealed_messages_parse_to_the_plain_message() {
    let (mut b, n) = port_request(77);
    let plain = pap::decode(&b[..n], Direction::ToRouter).unwrap();
    let key = derive_key(&SECRET, H1, 1);
    let tag = Tag { key_id: 1, seq: 5 };
    let m = seal(&mut b, n, &key, tag, Direction::ToRouter, H1).unwrap();
    assert_eq!(m, n + AUTH_LEN);
    assert_eq!(
        parse(&b[..m], Direction::ToRouter),
        Ok(Frame::Sealed(plain, tag))
    );
    assert!(verify(&b[..m], &key, Direction::ToRouter, H1));
    // The plain encoding parses as plain; an auth block after a message
    // without trailer is refused by length.
    let (p, pn) = port_request(77);
    assert_eq!(
        parse(&p[..pn], Direction::ToRouter),
        Ok(Frame::Plain(plain))
    );
    let mut short = [0u8; MAX_WIRE];
    short[..8].copy_from_slice(&p[..8]);
    short[8..24].copy_from_slice(&b[n..m]);
    set_checksum(&mut short[..24]);
    assert_eq!(
        parse(&short[..24], Direction::ToRouter),
        Err(PapError::BadLength)
    );
    let mut z = b;
    z[n..n + 4].copy_from_slice(&[0; 4]);
    set_checksum(&mut z[..m]);
    assert_eq!(
        parse(&z[..m], Direction::ToRouter),
        Err(PapError::ZeroKeyId)
    );
}

#[test]
fn host_and_router_exchange() {
    let mut t = KeyTable::<8>::new(SECRET);
    let mut s = Session::new(H1);
    let (req, n) = port_request(100);
    let mut wire = [0u8; MAX_WIRE];
    // No key yet: the first message out is a key request.
    let k = s.outgoing(&req[..n], 100, 0, entropy, &mut wire).unwrap();
    assert_eq!(k, KEY_MSG_LEN);
    let (grant, gn) = serve(&mut t, H1, &wire[..k], 10, grant_reply(100)).unwrap();
    assert_eq!(s.incoming(&grant[..gn], 10), Opened::KeyInstalled);
    // A second copy of the grant matches nothing any more.
    assert_eq!(
        s.incoming(&grant[..gn], 10),
        Opened::Dropped(SessionDrop::Unmatched)
    );
    let m = s.outgoing(&req[..n], 100, 0, entropy, &mut wire).unwrap();
    assert_eq!(m, n + AUTH_LEN);
    let (reply, rn) = serve(&mut t, H1, &wire[..m], 11, grant_reply(100)).unwrap();
    assert_eq!(
        s.incoming(&reply[..rn], 11),
        Opened::Message(grant_reply(100))
    );
    // A captured request played again later: a retransmission at best.
    let f = parse(&wire[..m], Direction::ToRouter).unwrap();
    assert!(matches!(
        t.admit(Mode::Required, H1, &f, &wire[..m], 12),
        Ok(Admit::Retransmit(..))
    ));
    // The next transaction moves on; the old one is then a replay.
    let (req2, n2) = port_request(101);
    let mut wire2 = [0u8; MAX_WIRE];
    let m2 = s
        .outgoing(&req2[..n2], 101, 0, entropy, &mut wire2)
        .unwrap();
    serve(&mut t, H1, &wire2[..m2], 13, grant_reply(101)).unwrap();
    assert_eq!(
        serve(&mut t, H1, &wire[..m], 14, grant_reply(100)).err(),
        Some(Deny::Replayed)
    );
    // A reply to a forged copy of h1's message, sealed for h2, is not h1's.
    let (_, saved, seq) = s.key().unwrap();
    let _ = (saved, seq);
    let mut other = Session::new(H2);
    assert_eq!(
        other.incoming(&reply[..rn], 15),
        Opened::Dropped(SessionDrop::ForeignKey)
    );
}

#[test]
fn forged_router_messages_are_hints_at_most() {
    let mut s = Session::resume(H1, 3, derive_key(&SECRET, H1, 3), 7);
    let inval = |xid, epoch| Message::InvalidateAll {
        dir: Direction::ToHost,
        scope: scope::ALL,
        ext: Some(trailer(xid, epoch)),
    };
    let mut b = [0u8; MAX_WIRE];
    let n = pap::encode(&inval(0, 99), &mut b).unwrap();
    // Unsealed invalidate-all (the restart broadcast, or a forgery): a
    // hint, at most one per HINT_INTERVAL.
    assert_eq!(s.incoming(&b[..n], 100), Opened::Hint);
    assert_eq!(
        s.incoming(&b[..n], 101),
        Opened::Dropped(SessionDrop::HintLimited)
    );
    assert_eq!(s.incoming(&b[..n], 100 + HINT_INTERVAL), Opened::Hint);
    // An unsealed reply (a forged grant, a new epoch): dropped.
    let g = pap::encode(&grant_reply(55), &mut b).unwrap();
    assert_eq!(
        s.incoming(&b[..g], 200),
        Opened::Dropped(SessionDrop::Unauthenticated)
    );
    // Sealed with a wrong key: dropped.
    let bad = derive_key(&SECRET, H1, 4);
    let g = seal(
        &mut b,
        g,
        &bad,
        Tag { key_id: 3, seq: 7 },
        Direction::ToHost,
        H1,
    )
    .unwrap();
    assert_eq!(
        s.incoming(&b[..g], 200),
        Opened::Dropped(SessionDrop::BadMac)
    );
    // An unauthenticated refusal of another xid than ours: dropped.
    let refusal = Message::Ack {
        acked: Acked::InvalidateAll,
        result: Err(Reason::Unauthenticated),
        ext: trailer(1234, EPOCH),
    };
    let r = pap::encode(&refusal, &mut b).unwrap();
    assert_eq!(
        s.incoming(&b[..r], 200),
        Opened::Dropped(SessionDrop::Unauthenticated)
    );
}

#[test]
fn unknown_key_leads_to_a_new_key() {
    // The router restarted (new secret): h1's key means nothing to it.
    let mut old = KeyTable::<8>::new([1; 16]);
    let mut s = Session::new(H1);
    let (req, n) = port_request(500);
    let mut w = [0u8; MAX_WIRE];
    let k = s.outgoing(&req[..n], 500, 0, entropy, &mut w).unwrap();
    let (g, gn) = serve(&mut old, H1, &w[..k], 1, grant_reply(500)).unwrap();
    assert_eq!(s.incoming(&g[..gn], 1), Opened::KeyInstalled);
    let mut new = KeyTable::<8>::new([2; 16]);
    let m = s.outgoing(&req[..n], 500, 0, entropy, &mut w).unwrap();
    let f = parse(&w[..m], Direction::ToRouter).unwrap();
    assert_eq!(
        new.admit(Mode::Required, H1, &f, &w[..m], 2),
        Err(Deny::UnknownKey)
    );
    // The router's plain refusal, with the request's xid.
    let refusal = Message::PortResponse {
        result: Err(Reason::Unauthenticated),
        ext: Some(trailer(500, EPOCH + 1)),
    };
    let mut b = [0u8; MAX_WIRE];
    let r = pap::encode(&refusal, &mut b).unwrap();
    assert_eq!(s.incoming(&b[..r], 2), Opened::Rekey);
    assert!(s.key().is_none());
    let k = s.outgoing(&req[..n], 500, 0, entropy, &mut w).unwrap();
    assert_eq!(k, KEY_MSG_LEN);
    let (g, gn) = serve(&mut new, H1, &w[..k], 3, grant_reply(500)).unwrap();
    assert_eq!(s.incoming(&g[..gn], 3), Opened::KeyInstalled);
    let m = s.outgoing(&req[..n], 500, 0, entropy, &mut w).unwrap();
    assert!(serve(&mut new, H1, &w[..m], 3, grant_reply(500)).is_ok());
}

/// Arbitrary bytes never panic the parser or the session.
#[test]
fn arbitrary_bytes() {
    let mut s = Session::resume(H1, 3, [1; 16], 7);
    let t = KeyTable::<8>::new(SECRET);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..20_000 {
        let mut b = [0u8; MAX_WIRE + 4];
        for v in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *v = x as u8;
        }
        b[0] = 32 + (b[0] % 5);
        let len = (x as usize) % b.len();
        set_checksum(&mut b[..len.max(4)]);
        let _ = s.incoming(&b[..len], 1);
        if let Ok(f) = parse(&b[..len], Direction::ToRouter) {
            let _ = t.admit(Mode::Optional, H1, &f, &b[..len], 1);
        }
    }
}

/// The sealed example of `dnat-pap.rst` ("Authentication"), which the
/// guest's Python client (`qemu-tests/pap_auth.py`) computes alike.
#[test]
fn documented_example() {
    let m = Message::PortRequest {
        class: PortClass::High,
        count: 32,
        ext: Some(trailer(0x1234_abcd, 0)),
    };
    let mut b = [0u8; MAX_WIRE];
    let n = pap::encode(&m, &mut b).unwrap();
    let tag = Tag { key_id: 1, seq: 5 };
    let n = seal(&mut b, n, &[0x5a; 16], tag, Direction::ToRouter, H1).unwrap();
    let hex: std::string::String = b[..n].iter().map(|x| std::format!("{x:02x}")).collect();
    assert_eq!(
        hex,
        "200120b7200000001234abcd0000000000000000000000010000000590cf789493954446"
    );
}
