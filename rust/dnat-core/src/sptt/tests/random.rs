// SPDX-License-Identifier: GPL-2.0

//! Random operations against a model, and readers racing the writer.

use super::*;

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
