// SPDX-License-Identifier: GPL-2.0

use super::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::vec;
use std::vec::Vec;

/// The reader-side storage, as the kernel allocates it.
struct Store {
    ports: Vec<AtomicU16>,
    times: Vec<AtomicU32>,
    states: Vec<AtomicU8>,
    held: Vec<AtomicU64>,
    peers: Vec<AtomicU64>,
}

/// The writer-side storage (inside the lock in the kernel).
struct Writer {
    used: Vec<u64>,
    st: WriterState,
}

impl Store {
    fn new() -> Self {
        Self {
            ports: (0..Layout::PORTS_LEN).map(|_| AtomicU16::new(0)).collect(),
            times: (0..Layout::TIMES_LEN).map(|_| AtomicU32::new(0)).collect(),
            states: (0..Layout::STATES_LEN).map(|_| AtomicU8::new(0)).collect(),
            held: (0..Layout::HELD_LEN).map(|_| AtomicU64::new(0)).collect(),
            peers: (0..Layout::PEERS_LEN).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn r(&self) -> Shared<'_> {
        Shared::new(
            &self.ports,
            &self.times,
            &self.states,
            &self.held,
            &self.peers,
        )
        .unwrap()
    }
}

impl Writer {
    fn new() -> Self {
        Self {
            used: vec![0; Layout::USED_LEN],
            st: WriterState::new(),
        }
    }
}

fn t<'a>(s: &'a Store, w: &'a mut Writer) -> Sptt<'a> {
    Sptt::new(s.r(), &mut w.used, &mut w.st).unwrap()
}

fn blk(lowest: u16, count: u8) -> PortBlock {
    PortBlock { lowest, count }
}

use Proto::{Tcp, Udp};

/// Checks every invariant of the SPTT (Documentation/networking/dnat.rst,
/// "The SPTT", "Invariants").
fn check(s: &Store, w: &mut Writer) {
    let t = t(s, w);
    let sh = t.shared();
    let mut held = [0u64; BITMAP_WORDS];
    for b in t.blocks() {
        b.check().unwrap();
        for p in b.lowest..=last_port(b) {
            held[usize::from(p >> 6)] |= 1 << (p & 63);
        }
    }
    for w in t.blocks().windows(2) {
        assert!(u32::from(w[0].lowest) + u32::from(w[0].count) <= u32::from(w[1].lowest));
    }
    for (i, h) in held.iter().enumerate() {
        assert_eq!(
            sh.held.get(i).unwrap().load(Ordering::Relaxed),
            *h,
            "word {i}"
        );
    }
    let held_ports: u32 = t.blocks().iter().map(|b| u32::from(b.count)).sum();
    assert_eq!(t.held_ports(), held_ports as usize);
    for proto in Proto::ALL {
        let tb = sh.t.get(proto);
        let mut n = 0;
        for p in 0..=u16::MAX {
            let u = at(tb.out, p).load(Ordering::Relaxed);
            if u != 0 {
                assert_eq!(at(tb.back, u).load(Ordering::Relaxed), p);
            }
            let e = at(tb.back, p).load(Ordering::Relaxed);
            assert_eq!(e != 0, t.is_used(proto, p), "{proto:?} {p}");
            if e != 0 {
                assert_eq!(at(tb.out, e).load(Ordering::Relaxed), p);
                assert!(sh.held(p));
                n += 1;
            }
        }
        assert_eq!(t.entries(proto), n);
        let bits: u32 = t.used.get(proto).iter().map(|w| w.count_ones()).sum();
        assert_eq!(bits as usize, n);
    }
}

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

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random operations against a model (a map per protocol).
#[test]
fn randomized_against_model() {
    let s = Store::new();
    let mut w = Writer::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let to = Timeouts {
        tcp_idle: 40,
        udp_idle: 20,
        tcp_closing: 3,
    };
    // model: proto -> eph -> unique
    let mut model: [HashMap<u16, u16>; 2] = [HashMap::new(), HashMap::new()];
    let mut now = 0u32;
    let mut blocks: Vec<PortBlock> = vec![blk(5000, 30)];
    t(&s, &mut w).set_blocks(&blocks).unwrap();
    let mut exhausted = 0;
    for step in 0..20_000 {
        now += rng.below(2) as u32;
        let p = if rng.below(2) == 0 { Tcp } else { Udp };
        let pi = p.index();
        let mut tb = t(&s, &mut w);
        let sh = tb.shared();
        // Ephemeral ports, some of them inside the pools.
        let eph = if rng.below(4) == 0 {
            4990 + rng.below(120) as u16
        } else {
            40000 + rng.below(300) as u16
        };
        match rng.below(20) {
            0..=7 => {
                let had = model[pi].get(&eph).copied();
                match tb.create(p, eph, now) {
                    Ok(u) => {
                        if let Some(h) = had {
                            assert_eq!(u, h);
                        } else {
                            assert!(!model[pi].values().any(|&x| x == u));
                            // Identity whenever possible.
                            if sh.held(eph) && !model[pi].values().any(|&x| x == eph) {
                                assert_eq!(u, eph);
                            }
                            model[pi].insert(eph, u);
                        }
                    }
                    Err(SpttError::NoFreePort) => {
                        assert!(had.is_none());
                        assert_eq!(model[pi].len(), tb.held_ports());
                        exhausted += 1;
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            8..=11 => {
                let r = sh.lookup_out(p, eph, now);
                assert_eq!(r, model[pi].get(&eph).copied());
                if let Some(u) = r {
                    assert_eq!(sh.lookup_in(p, u, now), Some(eph));
                    if p == Tcp {
                        let f = [TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN][rng.below(4) as usize];
                        sh.note_tcp(u, &Segment::flags(f), rng.below(2) == 0, now);
                    }
                }
            }
            12 => {
                if let Some((&e, &u)) = model[pi].iter().next() {
                    assert_eq!(tb.remove(p, u), Some(e));
                    model[pi].remove(&e);
                }
            }
            13..=15 => {
                // The model of expiry: read the entries' times first.
                let mut gone = 0;
                for proto in Proto::ALL {
                    model[proto.index()].retain(|_, u| {
                        let e = sh.entry(proto, *u).unwrap();
                        let keep = age(now, e.last_use) <= to.for_entry(proto, e.state);
                        gone += usize::from(!keep);
                        keep
                    });
                }
                assert_eq!(tb.expire(now, &to), gone);
            }
            16 => {
                // Grant, renew or invalidate blocks.
                match rng.below(4) {
                    0 if blocks.len() < MAX_BLOCKS => {
                        let lo = 5000 + 40 * rng.below(3) as u16;
                        let b = blk(lo, 1 + rng.below(39) as u8);
                        if !blocks.iter().any(|x| x.lowest == lo) {
                            blocks.push(b);
                        }
                    }
                    1 if !blocks.is_empty() => {
                        blocks.remove(rng.below(blocks.len() as u64) as usize);
                    }
                    2 => blocks.clear(),
                    _ => {}
                }
                let removed = tb.set_blocks(&blocks).unwrap();
                let mut gone = 0;
                for m in &mut model {
                    m.retain(|_, u| {
                        let keep = blocks.iter().any(|b| b.contains(*u));
                        gone += usize::from(!keep);
                        keep
                    });
                }
                assert_eq!(removed, gone);
            }
            17 => {
                // Inbound to a port nobody maps: not translated.
                let u = 4990 + rng.below(200) as u16;
                let m = model[pi].iter().find(|&(_, &x)| x == u).map(|(&e, _)| e);
                assert_eq!(sh.lookup_in(p, u, now), m);
            }
            _ => {
                if rng.below(50) == 0 {
                    let n: usize = model.iter().map(|m| m.len()).sum();
                    assert_eq!(tb.remove_all(), n);
                    model.iter_mut().for_each(|m| m.clear());
                }
            }
        }
        for proto in Proto::ALL {
            assert_eq!(tb.entries(proto), model[proto.index()].len());
        }
        if step % 500 == 0 {
            check(&s, &mut w);
        }
    }
    check(&s, &mut w);
    assert!(exhausted > 10, "{exhausted}");
}

/// Readers on other threads never see a half-made entry, and see a
/// disagreeing pair only while a removal runs.
#[test]
fn concurrent_readers_and_writer() {
    let s = Store::new();
    let mut w = Writer::new();
    t(&s, &mut w)
        .set_blocks(&[blk(5000, 64), blk(6000, 8)])
        .unwrap();
    let stop = AtomicBool::new(false);
    // Removals started and finished: equal when none runs.
    let started = AtomicU64::new(0);
    let finished = AtomicU64::new(0);
    const EPH: core::ops::Range<u16> = 40000..40100;
    let ok = |u: u16| (5000..5064).contains(&u) || (6000..6008).contains(&u);
    let eph_ok = |e: u16| EPH.contains(&e) || ok(e);
    std::thread::scope(|sc| {
        let mut readers = Vec::new();
        for r in 0..3u64 {
            let (s, stop, started, finished) = (&s, &stop, &started, &finished);
            readers.push(sc.spawn(move || {
                let sh = s.r();
                let mut rng = Rng(r + 1);
                let (mut checked, mut hits, mut racing) = (0u64, 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let p = if rng.below(2) == 0 { Tcp } else { Udp };
                    let e = if rng.below(8) == 0 {
                        5000 + rng.below(64) as u16
                    } else {
                        EPH.start + rng.below(100) as u16
                    };
                    let tb = sh.t.get(p);
                    // The raw pair.
                    let f0 = finished.load(Ordering::SeqCst);
                    let u = at(tb.out, e).load(Ordering::Acquire);
                    if u != 0 {
                        let b = at(tb.back, u).load(Ordering::Acquire);
                        let s1 = started.load(Ordering::SeqCst);
                        if s1 == f0 {
                            assert_eq!(b, e, "out[{e}] = {u} but back[{u}] = {b}");
                            checked += 1;
                        } else if b != e {
                            racing += 1;
                        }
                        assert!(ok(u), "{u}");
                    }
                    // The lookups.
                    if let Some(u) = sh.lookup_out(p, e, 1) {
                        assert!(ok(u));
                        hits += 1;
                        if let Some(x) = sh.lookup_in(p, u, 1) {
                            assert!(eph_ok(x));
                        }
                        if p == Tcp {
                            sh.note_tcp(u, &Segment::flags(TCP_FIN), true, 1);
                        }
                    }
                }
                (checked, hits, racing)
            }));
        }
        let mut rng = Rng(99);
        for i in 0..200_000u32 {
            let mut tb = t(&s, &mut w);
            let p = if rng.below(2) == 0 { Tcp } else { Udp };
            let e = if rng.below(8) == 0 {
                5000 + rng.below(64) as u16
            } else {
                EPH.start + rng.below(100) as u16
            };
            if rng.below(3) != 0 {
                let _ = tb.create(p, e, i);
            } else {
                started.fetch_add(1, Ordering::SeqCst);
                match rng.below(40) {
                    0 => {
                        tb.expire(i, &Timeouts::DEFAULT);
                    }
                    1 => {
                        tb.set_blocks(&[blk(5000, 64)]).unwrap();
                        tb.set_blocks(&[blk(5000, 64), blk(6000, 8)]).unwrap();
                    }
                    _ => {
                        if let Some(u) = tb.shared().lookup_out(p, e, i) {
                            tb.remove(p, u);
                        }
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
            }
        }
        stop.store(true, Ordering::Relaxed);
        let mut total = (0, 0, 0);
        for r in readers {
            let (c, h, x) = r.join().unwrap();
            total = (total.0 + c, total.1 + h, total.2 + x);
        }
        std::println!("checked {} hits {} racing {}", total.0, total.1, total.2);
        assert!(total.0 > 1000 && total.1 > 1000, "{total:?}");
    });
    check(&s, &mut w);
}

// --- Port rewriting and checksums ---

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
