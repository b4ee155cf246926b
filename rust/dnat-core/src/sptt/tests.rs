// SPDX-License-Identifier: GPL-2.0

use super::map::{age, at, scan};
use super::*;
use crate::checksum;
use core::sync::atomic::Ordering;
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

#[path = "tests/entries.rs"]
mod entries;
#[path = "tests/random.rs"]
mod random;
#[path = "tests/rewrite.rs"]
mod rewrite;
