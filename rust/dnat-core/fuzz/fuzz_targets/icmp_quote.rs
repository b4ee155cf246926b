// SPDX-License-Identifier: GPL-2.0

//! The host's ICMP rewrites on arbitrary ICMP messages: `icmp::rewrite_quote`
//! (the port or identifier an error quotes, in both directions) and
//! `icmp::rewrite_id` (a query's identifier).
//!
//! The input is a few control bytes, then the message. With the shaping
//! bit, the message is made an error (of a type the input picks) whose
//! quote is an IPv4 header from or to the public address with a valid
//! checksum, a protocol the input picks and (mostly) the first fragment,
//! so that most inputs reach the rewrite; without it the bytes go in as
//! they are.
//!
//! Checked, besides "no panic": a refused rewrite changes nothing; a done
//! one changes only the outer checksum, the translated word and the quoted
//! checksum, puts the new value where `quote_key` finds it, keeps a valid
//! outer checksum valid (and an invalid one invalid), and the inverse
//! rewrite gives the bytes back (a checksum word may come back as the
//! other zero, 0x0000 for 0xffff or the reverse). The same for
//! `rewrite_id`, but for a query that becomes all zero (see its
//! documentation).

#![no_main]

use std::net::Ipv4Addr;

use dnat_core::checksum;
use dnat_core::icmp::{self, About, QuoteKey};
use dnat_core::ipv4::proto;
use libfuzzer_sys::fuzz_target;

#[path = "input.rs"]
mod input;
use input::Input;

const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);

fn word(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b.get(i + 1).copied().unwrap_or(0)])
}

/// `after` equals `before` except at the even offsets in `may` (whole
/// words); returns whether the words at `may` are equal up to the two
/// zeros of one's complement.
fn same_but(before: &[u8], after: &[u8], may: &[usize]) -> bool {
    assert_eq!(before.len(), after.len());
    let mut zeros_only = true;
    for i in (0..before.len()).step_by(2) {
        let (a, b) = (word(before, i), word(after, i));
        if a == b {
            continue;
        }
        assert!(may.contains(&i), "word {i} changed: {a:#06x} -> {b:#06x}");
        zeros_only &= a ^ b == 0xffff && (a == 0 || b == 0);
    }
    zeros_only
}

/// Makes `m` an ICMP error of type `t` quoting a packet of protocol `p`
/// from (`sent`) or to the public address, with a header of `words`
/// words and a valid header checksum, the first fragment unless
/// `keep_frag`.
fn shape(m: &mut [u8], t: u8, p: u8, words: u8, sent: bool, keep_frag: bool) {
    let hl = usize::from(words) * 4;
    if m.len() < 8 + hl {
        return;
    }
    m[0] = t;
    let q = &mut m[8..8 + hl];
    q[0] = 0x40 | words;
    if !keep_frag {
        q[6] &= 0x40;
        q[7] = 0;
    }
    q[9] = p;
    let at = if sent { 12 } else { 16 };
    q[at..at + 4].copy_from_slice(&PUBLIC.octets());
    q[10] = 0;
    q[11] = 0;
    let c = checksum::checksum(q);
    q[10..12].copy_from_slice(&c.to_be_bytes());
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let ctl = inp.u8();
    let new = inp.u16();
    let sel = inp.u8();
    let mut m = inp.take(usize::MAX).to_vec();
    let about = if ctl & 1 == 0 {
        About::Sent
    } else {
        About::Received
    };
    if ctl & 2 == 0 {
        let t = [3, 11, 12, 4, 5, 0, 8][usize::from(sel & 7) % 7];
        let p = [proto::UDP, proto::TCP, proto::ICMP, proto::ESP][usize::from(sel >> 3) % 4];
        let words = 5 + (sel >> 5) % 4 * 3;
        shape(&mut m, t, p, words, about == About::Sent, ctl & 0x10 != 0);
        if ctl & 4 == 0 && m.len() >= 4 {
            // A valid outer checksum.
            m[2] = 0;
            m[3] = 0;
            let c = checksum::checksum(&m);
            m[2..4].copy_from_slice(&c.to_be_bytes());
        }
    }

    let before = m.clone();
    let valid = checksum::verify(&m);
    let key = icmp::quote_key(&m, PUBLIC, about);
    let mut seen = None;
    match icmp::rewrite_quote(&mut m, PUBLIC, about, |q, v| {
        seen = Some(QuoteKey {
            quoted: q,
            value: v,
        });
        Some(new)
    }) {
        Err(e) => {
            assert_eq!(m, before, "refused ({e:?}) but changed");
            assert_eq!(key, Err(e));
        }
        Ok(r) => {
            let k = key.expect("rewritten without a key");
            assert_eq!(seen, Some(k));
            assert_eq!((r.quoted, r.old, r.new), (k.quoted, k.value, new));
            assert_eq!(valid, checksum::verify(&m), "outer checksum validity");
            let hl = usize::from(m[8] & 0x0f) * 4;
            let base = 8 + hl;
            let (at, qc) = match (k.quoted, about) {
                (icmp::Quoted::Icmp, _) => (base + 4, base + 2),
                (icmp::Quoted::Tcp, About::Sent) => (base, base + 16),
                (icmp::Quoted::Tcp, About::Received) => (base + 2, base + 16),
                (icmp::Quoted::Udp, About::Sent) => (base, base + 6),
                (icmp::Quoted::Udp, About::Received) => (base + 2, base + 6),
            };
            assert_eq!(word(&m, at), new);
            same_but(&before, &m, &[2, at, qc]);
            assert_eq!(icmp::quote_key(&m, PUBLIC, about).map(|k| k.value), Ok(new));
            // The inverse.
            let back = icmp::rewrite_quote(&mut m, PUBLIC, about, |_, v| {
                assert_eq!(v, new);
                Some(r.old)
            });
            assert_eq!(back.map(|b| b.new), Ok(r.old));
            assert!(
                same_but(&before, &m, &[2, qc]),
                "the inverse did not restore the bytes"
            );
        }
    }

    // The identifier of a query (whatever the type; most are refused).
    let mut q = before.clone();
    if ctl & 8 != 0 && !q.is_empty() {
        q[0] = [0, 8, 13, 14, 15, 16, 17, 18][usize::from(sel) % 8];
    }
    let qb = q.clone();
    let valid = checksum::verify(&q);
    match icmp::rewrite_id(&mut q, new) {
        Err(_) => assert_eq!(q, qb),
        Ok(old) => {
            assert_eq!(icmp::query_id(&q), Ok(new));
            // A valid checksum stays valid, except for a message that
            // becomes all zero (RFC 1624: an incremental update then gives
            // 0x0000 for 0xffff). Not the reverse either: an all-zero
            // message, whose sum is the other zero, becomes valid.
            let zero = q
                .iter()
                .enumerate()
                .all(|(i, &b)| i == 2 || i == 3 || b == 0);
            assert!(!valid || checksum::verify(&q) || zero, "checksum broken");
            same_but(&qb, &q, &[2, 4]);
            assert_eq!(icmp::rewrite_id(&mut q, old), Ok(new));
            assert!(same_but(&qb, &q, &[2]), "identifier not restored");
        }
    }
});
