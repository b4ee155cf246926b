// SPDX-License-Identifier: GPL-2.0

use super::shared::host_bits;
use super::state::{port_window, State};
use super::*;
use core::sync::atomic::Ordering;
use std::vec::Vec;

use crate::store::AllocStore as Store;

fn with_pools(cap: usize, settings: Settings, ports: (u16, u16), spis: (u32, u32)) -> Store {
    let mut s = Store::new(cap, settings);
    s.table().set_pools(
        Some(Range {
            min: ports.0,
            max: ports.1,
        }),
        Some(Range {
            min: spis.0,
            max: spis.1,
        }),
        |_| {},
    );
    s
}

fn h(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

fn grace(t: &mut AllocTable<'_>) -> usize {
    let mut n = 0;
    for _ in 0..3 {
        match t.start_grace() {
            Some(tok) => n += t.finish_grace(tok),
            None => return n,
        }
    }
    panic!("grace did not converge");
}

fn big() -> Settings {
    Settings::UNLIMITED
}

/// Checks every structural invariant, and the published SPI index when
/// nothing is pending.
fn check(s: &mut Store) {
    let t = s.table();
    let sh = t.shared();
    let mut used = 0;
    let mut nonfree = [0usize; 2];
    let mut active = [0u32; 2];
    let mut held = [0u64; 2];
    let mut retiring = [0u32; 2];
    for (i, hs) in t.hosts.iter().enumerate() {
        let slot = (i + 1) as u16;
        assert_eq!(sh.hosts[i + 1].load(Ordering::Relaxed), hs.addr);
        if hs.addr == 0 {
            assert!(hs.blocks(Kind::Port).iter().all(|b| b.state == State::Free));
            assert!(hs.blocks(Kind::Spi).iter().all(|b| b.state == State::Free));
            continue;
        }
        used += 1;
        assert!(!hs.idle(), "idle host kept in slot {slot}");
        for (k, kind) in Kind::ALL.into_iter().enumerate() {
            let mut sum = 0;
            for b in hs.blocks(kind) {
                match b.state {
                    State::Free => continue,
                    State::Active => {
                        sum += b.count;
                        active[k] += 1;
                    }
                    State::Retiring => retiring[k] += 1,
                }
                nonfree[k] += 1;
                assert!(b.count > 0);
                if kind == Kind::Port {
                    for p in b.lowest..=b.last() {
                        let want = if b.state == State::Active { slot } else { 0 };
                        assert_eq!(sh.ports[p as usize].load(Ordering::Relaxed), want);
                    }
                }
            }
            assert_eq!(hs.held(kind), sum);
            held[k] += u64::from(sum);
        }
    }
    assert_eq!(used, t.st.hosts_used);
    assert_eq!(active, [t.st.active.port, t.st.active.spi]);
    assert_eq!(retiring, [t.st.retiring.port, t.st.retiring.spi]);
    assert_eq!(held, [t.st.held.port, t.st.held.spi]);
    // Port map: every owned port is in an active block of its owner.
    for p in 0..PORT_SPACE {
        let o = sh.ports[p].load(Ordering::Relaxed);
        if o != 0 {
            let hs = &t.hosts[usize::from(o) - 1];
            let n = hs
                .ports
                .iter()
                .filter(|b| b.state == State::Active && (b.lowest..=b.last()).contains(&(p as u32)))
                .count();
            assert_eq!(n, 1, "port {p}");
        }
    }
    // Lists: sorted, disjoint, one entry per non-free block.
    for (k, kind) in Kind::ALL.into_iter().enumerate() {
        let list = t.list(kind);
        assert_eq!(list.len(), nonfree[k]);
        for w in list.windows(2) {
            assert!(w[0].last < w[1].lowest, "overlap {:?}", w);
        }
        for e in list {
            let b = t.hosts[usize::from(e.slot) - 1].blocks(kind)[usize::from(e.index)];
            assert_ne!(b.state, State::Free);
            assert_eq!((b.lowest, b.last()), (e.lowest, e.last));
        }
    }
    // The host index names, for every low-bits value, the one host with
    // those bits, or says collided, and finds every host.
    for (bits, e) in sh.host_index.iter().enumerate() {
        let with: Vec<u32> = (1..sh.hosts.len())
            .filter(|&i| {
                let a = sh.hosts[i].load(Ordering::Relaxed);
                a != 0 && host_bits(a) == bits
            })
            .map(|i| i as u32)
            .collect();
        let want = match with.len() {
            0 => 0,
            1 => with[0],
            _ => HOST_COLLIDED,
        };
        assert_eq!(
            e.load(Ordering::Relaxed),
            want,
            "host index entry {bits:#x}"
        );
    }
    for (i, h) in t.hosts.iter().enumerate() {
        if h.addr != 0 {
            assert_eq!(sh.find_host(h.addr), Some(i as u16 + 1));
        }
    }
    // Published SPI index equals the active SPI blocks.
    if !t.st.spi_dirty {
        let w = sh.spi_ctl.load(Ordering::Relaxed);
        let buf = sh.spi[(w >> 31) as usize];
        let pubd: Vec<_> = buf[..(w & SPI_LEN_MASK) as usize]
            .iter()
            .map(|e| {
                (
                    e.lowest.load(Ordering::Relaxed),
                    e.last.load(Ordering::Relaxed),
                    e.slot.load(Ordering::Relaxed) as u16,
                )
            })
            .collect();
        let want: Vec<_> = t
            .list(Kind::Spi)
            .iter()
            .filter(|e| {
                t.hosts[usize::from(e.slot) - 1].spis[usize::from(e.index)].state == State::Active
            })
            .map(|e| (e.lowest, e.last, e.slot))
            .collect();
        assert_eq!(pubd, want);
    }
    // Hints never claim a free value.
    for kind in Kind::ALL {
        for hint in t.st.hints(kind) {
            let mut v = hint.base;
            while v < hint.next {
                let l = t.list(kind);
                let i = l.partition_point(|e| u64::from(e.last) < v);
                let e = l.get(i).expect("hint over a free value");
                assert!(u64::from(e.lowest) <= v, "hint over free value {v}");
                v = u64::from(e.last) + 1;
            }
        }
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

#[path = "tests/grant.rs"]
mod grant;
#[path = "tests/lookup.rs"]
mod lookup;
#[path = "tests/random.rs"]
mod random;
#[path = "tests/retire.rs"]
mod retire;
