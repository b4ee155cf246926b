// SPDX-License-Identifier: GPL-2.0

//! Creating, translating, expiring and dumping entries, TCP state, the
//! held blocks and the bitmap helpers.

use super::*;

#[test]
fn layout_and_memory() {
    let s = Store::new();
    let (p, t, st, h, pe) = (&s.ports, &s.times, &s.states, &s.held, &s.peers);
    assert!(Shared::new(&p[1..], t, st, h, pe).is_err());
    assert!(Shared::new(p, &t[1..], st, h, pe).is_err());
    assert!(Shared::new(p, t, &st[1..], h, pe).is_err());
    assert!(Shared::new(p, t, st, &h[1..], pe).is_err());
    assert!(Shared::new(p, t, st, h, &pe[1..]).is_err());
    let mut used = vec![0u64; Layout::USED_LEN + 1];
    let mut st = WriterState::new();
    assert_eq!(
        Sptt::new(s.r(), &mut used, &mut st).unwrap_err(),
        SpttError::BadLayout
    );
    std::println!("SPTT bytes per namespace: {}", Layout::BYTES);
    const {
        assert!(core::mem::size_of::<WriterState>() < 100);
        assert!(Layout::BYTES > 1_980_000 && Layout::BYTES < 1_995_000);
    }
}

#[test]
fn protocols() {
    assert_eq!(Proto::from_ip(6), Some(Tcp));
    assert_eq!(Proto::from_ip(17), Some(Udp));
    assert_eq!(Proto::from_ip(1), None);
    assert_eq!(Proto::from_ip(50), None);
    for p in Proto::ALL {
        assert_eq!(Proto::from_ip(p.ip()), Some(p));
        assert_eq!(Proto::from_index(p.index()), Some(p));
    }
    assert_eq!(Tcp.index(), 0);
    assert_eq!(Udp.index(), 1);
    assert_eq!(Proto::from_index(2), None);
    assert_eq!(SpttError::NoFreePort.errno(), 99);
}

#[test]
fn identity_preferred_and_translation() {
    let s = Store::new();
    let mut w = Writer::new();
    let mut tb = t(&s, &mut w);
    assert_eq!(tb.set_blocks(&[blk(5000, 16)]), Ok(0));
    // Native mode: a held free port maps to itself.
    assert_eq!(tb.create(Tcp, 5003, 1), Ok(5003));
    // Another eph port gets another unique port (never 5003 again).
    let u = tb.create(Tcp, 40000, 1).unwrap();
    assert!((5000..5016).contains(&u) && u != 5003);
    let u2 = tb.create(Tcp, 40001, 1).unwrap();
    assert!((5000..5016).contains(&u2) && u2 != u && u2 != 5003);
    // A held port used as another's unique port is translated too.
    let u3 = tb.create(Tcp, u, 1).unwrap();
    assert!(u3 != u && u3 != u2 && u3 != 5003);
    // Existing entries are returned, not duplicated (two-CPU race).
    assert_eq!(tb.create(Tcp, 40000, 2), Ok(u));
    assert_eq!(tb.entries(Tcp), 4);
    // Protocols are independent: UDP 5003 and 40000 are free there.
    assert_eq!(tb.create(Udp, 5003, 1), Ok(5003));
    assert_eq!(tb.entries(Udp), 1);
    assert_eq!(tb.free_ports(Udp), 15);
    assert_eq!(tb.free_ports(Tcp), 12);
    let sh = tb.shared();
    assert_eq!(sh.lookup_out(Tcp, 40000, 7), Some(u));
    assert_eq!(sh.lookup_in(Tcp, u, 8), Some(40000));
    assert_eq!(sh.entry(Tcp, u).unwrap().last_use, 8);
    assert_eq!(sh.lookup_out(Udp, 40000, 7), None);
    assert_eq!(sh.lookup_in(Udp, u, 7), None);
    assert_eq!(sh.lookup_out(Tcp, 5003, 9), Some(5003));
    assert_eq!(sh.lookup_in(Tcp, 5003, 9), Some(5003));
    assert_eq!(sh.lookup_out(Tcp, 0, 9), None);
    assert_eq!(sh.lookup_in(Tcp, 0, 9), None);
    // Peeks give the same answers and leave the last use alone.
    assert_eq!(sh.peek_out(Tcp, 40000), Some(u));
    assert_eq!(sh.peek_in(Tcp, u), Some(40000));
    assert_eq!(sh.peek_in(Tcp, 5003), Some(5003));
    assert_eq!(sh.peek_out(Udp, 40000), None);
    assert_eq!(sh.peek_in(Udp, u), None);
    assert_eq!(sh.peek_out(Tcp, 0), None);
    assert_eq!(sh.peek_in(Tcp, 0), None);
    assert_eq!(sh.entry(Tcp, u).unwrap().last_use, 8);
    assert_eq!(tb.create(Tcp, 0, 1), Err(SpttError::ZeroPort));
    assert!(sh.held(5000) && sh.held(5015));
    assert!(!sh.held(4999) && !sh.held(5016) && !sh.held(0));
    check(&s, &mut w);
}

#[test]
fn round_robin_does_not_reuse_at_once() {
    let s = Store::new();
    let mut w = Writer::new();
    let mut tb = t(&s, &mut w);
    tb.set_blocks(&[blk(7000, 4), blk(6000, 4)]).unwrap();
    assert_eq!(tb.blocks(), &[blk(6000, 4), blk(7000, 4)]);
    let a = tb.create(Udp, 40000, 0).unwrap();
    assert_eq!(a, 6000);
    assert_eq!(tb.remove(Udp, a), Some(40000));
    assert_eq!(tb.remove(Udp, a), None);
    // The freed port is skipped until the search wraps around.
    let got: Vec<u16> = (1..=7)
        .map(|i| tb.create(Udp, 40000 + i, 0).unwrap())
        .collect();
    assert_eq!(got, [6001, 6002, 6003, 7000, 7001, 7002, 7003]);
    assert_eq!(tb.used_in(Udp, &blk(6000, 4)), 3);
    assert_eq!(tb.used_in(Udp, &blk(7000, 4)), 4);
    assert_eq!(tb.used_in(Udp, &blk(6002, 6)), 2);
    assert_eq!(tb.used_in(Tcp, &blk(6000, 4)), 0);
    assert_eq!(tb.used_in(Udp, &blk(6000, 0)), 0);
    assert_eq!(tb.create(Udp, 40100, 0), Ok(6000));
    assert_eq!(tb.create(Udp, 40101, 0), Err(SpttError::NoFreePort));
    assert_eq!(tb.used_in(Udp, &blk(6000, 4)), 4);
    check(&s, &mut w);
}

#[test]
fn exhaustion() {
    let s = Store::new();
    let mut w = Writer::new();
    let mut tb = t(&s, &mut w);
    // No pool at all.
    assert_eq!(tb.create(Tcp, 40000, 0), Err(SpttError::NoFreePort));
    tb.set_blocks(&[blk(65533, 3)]).unwrap();
    let mut got = HashSet::new();
    for e in 1..=3 {
        got.insert(tb.create(Tcp, e, 0).unwrap());
    }
    assert_eq!(got, HashSet::from([65533, 65534, 65535]));
    assert_eq!(tb.free_ports(Tcp), 0);
    assert_eq!(tb.create(Tcp, 4, 0), Err(SpttError::NoFreePort));
    // A held port that is taken is not reused by identity either.
    assert_eq!(tb.create(Tcp, 65535, 0), Err(SpttError::NoFreePort));
    assert_eq!(tb.create(Udp, 4, 0), Ok(65533));
    assert_eq!(tb.entries(Tcp), 3);
    check(&s, &mut w);
    let sh = s.r();
    for u in 65533..=65535 {
        let e = sh.lookup_in(Tcp, u, 0).unwrap();
        assert_eq!(sh.lookup_out(Tcp, e, 0), Some(u));
    }
}

#[test]
fn set_blocks_validates_and_shrinks() {
    let s = Store::new();
    let mut w = Writer::new();
    let mut tb = t(&s, &mut w);
    tb.set_blocks(&[blk(1000, 100), blk(2000, 100)]).unwrap();
    for e in 0..150 {
        tb.create(Tcp, 30000 + e, 0).unwrap();
        tb.create(Udp, 30000 + e, 0).unwrap();
    }
    // Errors change nothing.
    assert_eq!(
        tb.set_blocks(&[blk(1000, 10), blk(1005, 10)]),
        Err(SpttError::OverlappingBlocks)
    );
    assert_eq!(
        tb.set_blocks(&[blk(1000, 10), blk(1009, 1)]),
        Err(SpttError::OverlappingBlocks)
    );
    assert_eq!(tb.set_blocks(&[blk(0, 10)]), Err(SpttError::BadBlock));
    assert_eq!(tb.set_blocks(&[blk(10, 0)]), Err(SpttError::BadBlock));
    assert_eq!(tb.set_blocks(&[blk(65500, 255)]), Err(SpttError::BadBlock));
    let many: Vec<_> = (0..17).map(|i| blk(1000 + i * 10, 10)).collect();
    assert_eq!(tb.set_blocks(&many), Err(SpttError::TooManyBlocks));
    assert_eq!(tb.entries(Tcp), 150);
    assert_eq!(tb.held_ports(), 200);
    check(&s, &mut w);
    // Adjacent blocks are fine; sixteen of them too.
    let mut tb = t(&s, &mut w);
    let sixteen: Vec<_> = (0..16).map(|i| blk(1000 + i * 10, 10)).collect();
    let removed = tb.set_blocks(&sixteen).unwrap();
    // 1000..1160 stays held: entries there stay (100 + 0 per proto,
    // 1000..1099 were the first handed out), 2000..2049 go.
    assert_eq!(removed, 2 * 50);
    assert_eq!(tb.entries(Tcp), 100);
    check(&s, &mut w);
    let mut tb = t(&s, &mut w);
    // Invalidate one block: its entries go, the rest stays.
    let rest: Vec<_> = sixteen
        .iter()
        .copied()
        .filter(|b| b.lowest != 1050)
        .collect();
    assert_eq!(tb.set_blocks(&rest), Ok(20));
    let sh = tb.shared();
    assert!(!sh.held(1055));
    assert_eq!(sh.lookup_in(Tcp, 1055, 0), None);
    assert!(sh.lookup_in(Tcp, 1045, 0).is_some());
    check(&s, &mut w);
    // Invalidate everything.
    let mut tb = t(&s, &mut w);
    assert_eq!(tb.set_blocks(&[]), Ok(2 * 90));
    assert_eq!(tb.entries(Tcp) + tb.entries(Udp), 0);
    assert_eq!(tb.held_ports(), 0);
    check(&s, &mut w);
}

#[test]
fn tcp_fin_both_ways_then_closing_timeout() {
    let s = Store::new();
    let mut w = Writer::new();
    let to = Timeouts::DEFAULT;
    let mut tb = t(&s, &mut w);
    tb.set_blocks(&[blk(5000, 8)]).unwrap();
    let u = tb.create(Tcp, 40000, 100).unwrap();
    let v = tb.create(Tcp, 40001, 100).unwrap();
    let sh = tb.shared();
    sh.note_tcp(u, &Segment::flags(TCP_SYN), true, 100);
    sh.note_tcp(u, &Segment::flags(TCP_ACK | TCP_FIN), true, 101);
    assert_eq!(sh.entry(Tcp, u).unwrap().state, STATE_FIN_OUT);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    // Half closed: lives on.
    assert_eq!(tb.expire(200, &to), 0);
    assert_eq!(sh.lookup_in(Tcp, u, 200), Some(40000));
    sh.note_tcp(u, &Segment::flags(TCP_ACK | TCP_FIN), false, 200);
    let e = sh.entry(Tcp, u).unwrap();
    assert!(e.closing());
    assert_eq!(e.state, STATE_FIN_OUT | STATE_FIN_IN);
    // The final ACK refreshes it; the grace counts from there.
    assert_eq!(sh.lookup_out(Tcp, 40000, 203), Some(u));
    sh.note_tcp(u, &Segment::flags(TCP_ACK), true, 203);
    assert_eq!(tb.expire(213, &to), 0);
    assert_eq!(tb.expire(214, &to), 1);
    assert_eq!(sh.lookup_out(Tcp, 40000, 214), None);
    assert_eq!(sh.lookup_in(Tcp, u, 214), None);
    assert_eq!(sh.lookup_out(Tcp, 40001, 214), Some(v));
    // Flags on a port without entry are ignored.
    sh.note_tcp(u, &Segment::flags(TCP_RST), false, 214);
    assert_eq!(at(sh.t.tcp.state, u).load(Ordering::Relaxed) & STATE_RST, 0);
    assert_eq!(sh.entry(Tcp, u), None);
    // A SYN reopens a closing mapping (the stack reused the port).
    sh.note_tcp(v, &Segment::flags(TCP_FIN), true, 214);
    sh.note_tcp(v, &Segment::flags(TCP_FIN | TCP_ACK), false, 214);
    assert!(sh.entry(Tcp, v).unwrap().closing());
    sh.note_tcp(v, &Segment::flags(TCP_SYN), true, 215);
    assert_eq!(sh.entry(Tcp, v).unwrap().state, 0);
    assert_eq!(tb.expire(300, &to), 0);
    // A closing timeout above the idle one is capped by it.
    let odd = Timeouts {
        tcp_idle: 5,
        udp_idle: 5,
        tcp_closing: 50,
    };
    sh.note_tcp(v, &Segment::flags(TCP_RST), true, 300);
    assert_eq!(odd.for_entry(Tcp, STATE_RST), 5);
    assert_eq!(tb.expire(306, &odd), 1);
    check(&s, &mut w);
}

#[test]
fn tcp_rst() {
    let s = Store::new();
    let mut w = Writer::new();
    let to = Timeouts::DEFAULT;
    let mut tb = t(&s, &mut w);
    tb.set_blocks(&[blk(5000, 8)]).unwrap();
    let u = tb.create(Tcp, 40000, 0).unwrap();
    let sh = tb.shared();
    let peer = Ipv4Addr::new(203, 0, 113, 3);
    let sent = |flags, seq, ack| Segment {
        flags,
        seq,
        ack,
        peer,
        peer_port: 443,
    };
    let rst = |seq| Segment {
        flags: TCP_RST,
        seq,
        ack: 0,
        peer,
        peer_port: 443,
    };
    // Before the host sent anything, no inbound RST counts.
    sh.note_tcp(u, &rst(0), false, 1);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    // The host acknowledged up to 7000: only an RST with sequence
    // number 7000 from the peer counts (RFC 5961 3.2).
    sh.note_tcp(u, &sent(TCP_ACK, 100, 7000), true, 1);
    for blind in [
        rst(6999),
        rst(7001),
        Segment {
            peer: Ipv4Addr::new(203, 0, 113, 66),
            ..rst(7000)
        },
        Segment {
            peer_port: 444,
            ..rst(7000)
        },
        Segment {
            flags: TCP_RST | TCP_ACK | TCP_FIN,
            ..rst(1)
        },
    ] {
        sh.note_tcp(u, &blind, false, 1);
        assert_eq!(sh.entry(Tcp, u).unwrap().state, 0, "{blind:?}");
    }
    // Neither segments without ACK nor RSTs the host sends move the
    // number.
    sh.note_tcp(u, &sent(0, 100, 1), true, 1);
    sh.note_tcp(u, &sent(TCP_RST | TCP_ACK, 100, 1), true, 1);
    assert_eq!(sh.entry(Tcp, u).unwrap().state, STATE_RST);
    sh.note_tcp(u, &sent(TCP_ACK, 100, 7000), true, 1);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    sh.note_tcp(u, &rst(7000), false, 1);
    assert!(sh.entry(Tcp, u).unwrap().closing());
    // An inbound RST the stack ignores (it keeps sending) is forgotten.
    sh.note_tcp(u, &Segment::flags(TCP_ACK), false, 2);
    assert!(sh.entry(Tcp, u).unwrap().closing());
    sh.note_tcp(u, &sent(TCP_ACK, 100, 7000), true, 2);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    assert_eq!(tb.expire(100, &to), 0);
    // While the host's SYN is unanswered, an RST must acknowledge it.
    sh.note_tcp(u, &sent(TCP_SYN, 5000, 0), true, 100);
    sh.note_tcp(u, &rst(7000), false, 100);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    let refused = Segment {
        flags: TCP_RST | TCP_ACK,
        ack: 5002,
        ..rst(0)
    };
    sh.note_tcp(u, &refused, false, 100);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    sh.note_tcp(
        u,
        &Segment {
            ack: 5001,
            ..refused
        },
        false,
        100,
    );
    assert!(sh.entry(Tcp, u).unwrap().closing());
    sh.note_tcp(u, &sent(TCP_SYN, 5000, 0), true, 100);
    assert!(!sh.entry(Tcp, u).unwrap().closing());
    // A new entry on a port forgets the remote end (identity entries
    // come back on the same port).
    assert_eq!(tb.create(Tcp, 5007, 100), Ok(5007));
    sh.note_tcp(5007, &sent(TCP_ACK, 1, 9000), true, 100);
    assert_eq!(tb.remove(Tcp, 5007), Some(5007));
    assert_eq!(tb.create(Tcp, 5007, 100), Ok(5007));
    sh.note_tcp(5007, &rst(9000), false, 100);
    assert!(!sh.entry(Tcp, 5007).unwrap().closing());
    assert_eq!(tb.remove(Tcp, 5007), Some(5007));
    // An outbound RST ends the entry after the closing grace.
    sh.note_tcp(u, &Segment::flags(TCP_RST | TCP_ACK), true, 100);
    assert_eq!(sh.entry(Tcp, u).unwrap().state, STATE_RST);
    assert_eq!(tb.expire(110, &to), 0);
    assert_eq!(tb.expire(111, &to), 1);
    assert_eq!(tb.entries(Tcp), 0);
    assert_eq!(tb.free_ports(Tcp), 8);
    check(&s, &mut w);
}

#[test]
fn idle_expiry_per_protocol() {
    let s = Store::new();
    let mut w = Writer::new();
    let to = Timeouts::DEFAULT;
    let mut tb = t(&s, &mut w);
    tb.set_blocks(&[blk(5000, 8)]).unwrap();
    let t0 = 1_000_000;
    let ut = tb.create(Tcp, 40000, t0).unwrap();
    let uu = tb.create(Udp, 40000, t0).unwrap();
    let uu2 = tb.create(Udp, 40001, t0).unwrap();
    let sh = tb.shared();
    // UDP traffic on one entry keeps it.
    assert_eq!(sh.lookup_in(Udp, uu2, t0 + 100), Some(40001));
    assert_eq!(tb.expire(t0 + 180, &to), 0);
    assert_eq!(tb.expire(t0 + 181, &to), 1);
    assert_eq!(sh.lookup_out(Udp, 40000, t0 + 181), None);
    assert_eq!(sh.lookup_out(Udp, 40001, t0 + 181), Some(uu2));
    assert_eq!(sh.lookup_out(Tcp, 40000, t0 + 181), Some(ut));
    assert_eq!(tb.expire(t0 + 181 + 7440, &to), 1);
    assert_eq!(tb.expire(t0 + 181 + 7441, &to), 1);
    assert_eq!(tb.entries(Tcp) + tb.entries(Udp), 0);
    // A reader's later clock (another CPU) never counts as old.
    let u = tb.create(Udp, 40002, t0 + 9000).unwrap();
    assert_eq!(sh.lookup_out(Udp, 40002, t0 + 9005), Some(u));
    assert_eq!(tb.expire(t0 + 9000, &to), 0);
    // Clock wrap-around.
    let u = tb.create(Tcp, 40003, u32::MAX - 5).unwrap();
    assert_eq!(tb.expire(100, &to), 0);
    assert_eq!(tb.expire(7440 - 6, &to), 0);
    assert_eq!(tb.expire(7440 - 5, &to), 1);
    assert_eq!(sh.lookup_in(Tcp, u, 0), None);
    let _ = uu;
    assert_eq!(tb.remove_all(), 1);
    check(&s, &mut w);
}

#[test]
fn cursor_dump_covers_every_entry_once() {
    let s = Store::new();
    let mut w = Writer::new();
    let mut tb = t(&s, &mut w);
    // Blocks in both port classes, one at the very top, one at 1.
    tb.set_blocks(&[blk(1, 200), blk(9990, 20), blk(40000, 255), blk(65281, 255)])
        .unwrap();
    let mut want = HashSet::new();
    // Identity entries at the edges.
    for (p, e) in [(Tcp, 1), (Tcp, 65535), (Udp, 65535)] {
        let u = tb.create(p, e, 0).unwrap();
        assert_eq!(u, e);
        want.insert((p, e, u));
    }
    for i in 0..600u16 {
        let p = if i % 3 == 0 { Tcp } else { Udp };
        let eph = 20000 + i * 7;
        let u = tb.create(p, eph, u32::from(i)).unwrap();
        want.insert((p, eph, u));
    }
    // Remove some, to leave holes.
    for u in [2u16, 9995, 40100] {
        if let Some(e) = tb.remove(Udp, u) {
            assert!(want.remove(&(Udp, e, u)));
        }
    }
    assert_eq!(want.len(), tb.entries(Tcp) + tb.entries(Udp));
    // Dump in parts of 7, resuming from the cursor of the last part.
    let mut got = Vec::new();
    let mut c = 0;
    let mut parts = 0;
    'dump: loop {
        parts += 1;
        for _ in 0..7 {
            match tb.next_entry(c) {
                Some((e, next)) => {
                    assert!(next > c);
                    got.push((e.proto, e.eph, e.unique));
                    c = next;
                }
                None => break 'dump,
            }
        }
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(got.iter().copied().collect::<HashSet<_>>(), want);
    assert_eq!(parts, want.len() / 7 + 1);
    // TCP first, then by unique port.
    let mut sorted = got.clone();
    sorted.sort_by_key(|&(p, _, u)| (p.index(), u));
    assert_eq!(got, sorted);
    let mut each = Vec::new();
    tb.for_each(|e| each.push((e.proto, e.eph, e.unique)));
    assert_eq!(each, got);
    assert_eq!(tb.next_entry(2 << 16), None);
    assert_eq!(tb.next_entry(u32::MAX), None);
    assert_eq!(tb.next_entry(1 << 16).unwrap().0.proto, Udp);
    check(&s, &mut w);
}

#[test]
fn bitmap_helpers() {
    let mut m = [0u64; BITMAP_WORDS];
    assert_eq!(scan(&m, 0, u16::MAX, true), None);
    assert_eq!(scan(&m, 0, u16::MAX, false), Some(0));
    assert_eq!(scan(&m, 70000, u16::MAX, false), None);
    assert_eq!(scan(&m, 10, 9, false), None);
    for p in [0u16, 63, 64, 1000, 65535] {
        m[usize::from(p >> 6)] |= 1 << (p & 63);
    }
    assert_eq!(scan(&m, 0, u16::MAX, true), Some(0));
    assert_eq!(scan(&m, 1, u16::MAX, true), Some(63));
    assert_eq!(scan(&m, 64, 64, true), Some(64));
    assert_eq!(scan(&m, 65, 999, true), None);
    assert_eq!(scan(&m, 65, 1000, true), Some(1000));
    assert_eq!(scan(&m, 1001, u16::MAX, true), Some(65535));
    assert_eq!(scan(&m, 63, 64, false), None);
    assert_eq!(scan(&m, 63, 65, false), Some(65));
    assert_eq!(word_mask(0, 0, 63), !0);
    assert_eq!(word_mask(1, 0, 63), 0);
    assert_eq!(word_mask(1, 65, 66), 0b110);
    assert_eq!(word_mask(1023, 65535, 65535), 1 << 63);
    assert_eq!(last_port(&blk(65281, 255)), 65535);
    assert_eq!(age(5, 10), 0);
    assert_eq!(age(10, 5), 5);
    assert_eq!(age(3, u32::MAX), 4);
}
