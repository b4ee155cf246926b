// SPDX-License-Identifier: GPL-2.0

use super::key::{dist_of, is_live, key_of, siphash, slot_of};
use super::*;
use std::collections::HashMap;
use std::vec::Vec;

const SEED: Seed = Seed([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);

std::thread_local! {
    static WIDEN: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Test-only: on reader threads of the concurrency test, a pause
/// between a lookup's key and value loads, so that a writer that
/// rewrote a bucket too early would be caught.
pub(super) fn widen_race() {
    if WIDEN.with(|w| w.get()) {
        for _ in 0..200 {
            core::hint::spin_loop();
        }
    }
}
const LAN: Option<Lan> = Some(Lan {
    addr: Ipv4Addr::new(10, 0, 0, 7),
    mask: Ipv4Addr::new(255, 255, 255, 0),
});

struct Store {
    buckets: Vec<SaBucket>,
    bl: Vec<BlacklistSlot>,
    counts: Vec<u16>,
    st: SaState,
}

impl Store {
    fn new(buckets: usize, hosts: usize) -> Self {
        let l = SaLayout { buckets, hosts };
        Self {
            buckets: (0..l.buckets_len()).map(|_| SaBucket::default()).collect(),
            bl: (0..l.blacklists_len())
                .map(|_| BlacklistSlot::default())
                .collect(),
            counts: std::vec![0; l.counts_len()],
            st: SaState::new(),
        }
    }
    fn t(&mut self) -> SaTable<'_> {
        let sh = SaShared::new(&self.buckets, &self.bl, SEED).unwrap();
        SaTable::new(sh, &mut self.counts, &mut self.st).unwrap()
    }
}

fn yes(_: Slot, _: u32) -> bool {
    true
}

fn ext(n: u32) -> Ipv4Addr {
    // 198.51.100.0/24, 203.0.113.0/24, ...: anything outside the LAN.
    Ipv4Addr::from(0xc633_6400u32.wrapping_add(n))
}

fn grace(t: &mut SaTable<'_>) {
    while let Some(tok) = t.start_grace() {
        t.finish_grace(tok);
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

/// Structural invariants: counters, P, every live key found.
fn invariants(t: &SaTable<'_>) {
    let sh = t.shared();
    let n = sh.buckets.len();
    let (mut live, mut young, mut reusable) = (0u32, 0u32, 0u32);
    let mut per = std::vec![0u16; t.hosts()];
    for (i, b) in sh.buckets.iter().enumerate() {
        let k = b.key.load(Ordering::Relaxed);
        if is_live(k) {
            live += 1;
            let v = b.val.load(Ordering::Relaxed);
            let d = dist_of(v);
            assert!(d < PROBE_LIMIT);
            let home = sh.home(k);
            assert_eq!((home + d) & sh.mask, i, "distance of bucket {i}");
            for j in 0..d {
                let kk = sh.buckets[(home + j) & sh.mask].key.load(Ordering::Relaxed);
                assert_ne!(kk, EMPTY, "empty bucket on the probe path of {i}");
            }
            let s = slot_of(v);
            per[usize::from(s) - 1] += 1;
            let (a, spi) = (Ipv4Addr::from((k >> 32) as u32), k as u32);
            assert_eq!(sh.lookup(a, spi), Some(s));
        } else if k as u32 == TOMB_YOUNG {
            young += 1;
        } else if k == TOMB_REUSABLE {
            reusable += 1;
        } else {
            assert_eq!(k, EMPTY, "bucket {i} of {n}");
        }
    }
    assert_eq!(
        (live, young, reusable),
        (t.st.live, t.st.young, t.st.reusable)
    );
    assert_eq!(&per[..], &t.counts[..]);
    let bl: u32 = sh
        .blacklists
        .iter()
        .map(|b| b.used.load(Ordering::Relaxed).count_ones())
        .sum();
    assert_eq!(bl, t.st.blacklisted);
    for b in sh.blacklists {
        let used = b.used.load(Ordering::Relaxed);
        for (i, e) in b.entries.iter().enumerate() {
            assert_eq!(e.load(Ordering::Relaxed) != 0, used & (1 << i) != 0);
        }
    }
}

#[path = "tests/random.rs"]
mod random;
#[path = "tests/tables.rs"]
mod tables;
#[path = "tests/validate.rs"]
mod validate;
