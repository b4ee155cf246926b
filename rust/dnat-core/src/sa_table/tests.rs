// SPDX-License-Identifier: GPL-2.0

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

#[test]
#[allow(deprecated)]
fn siphash_matches_reference() {
    use core::hash::{Hasher, SipHasher};
    let mut rng = Rng(3);
    for _ in 0..1000 {
        let (k0, k1, m) = (rng.next(), rng.next(), rng.next());
        let mut h = SipHasher::new_with_keys(k0, k1);
        h.write(&m.to_le_bytes());
        assert_eq!(siphash::<2, 4>(Seed([k0, k1]), m), h.finish());
    }
    // The paper's vector: key 00..0f, message 00..07.
    let key = Seed::from_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    let m = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(siphash::<2, 4>(key, m), 0x93f5_f579_9a93_2462);
    // The table's hash depends on the seed.
    assert_ne!(siphash::<1, 3>(key, m), siphash::<1, 3>(SEED, m));
    assert_eq!(std::format!("{SEED:?}"), "Seed(..)");
}

#[test]
fn validate_check_invalidate() {
    let mut s = Store::new(64, 4);
    let mut t = s.t();
    let peer = ext(3);
    assert_eq!(t.validate(1, peer, 0x1000, LAN, yes), Ok(true));
    assert_eq!(t.validate(1, peer, 0x1000, LAN, yes), Ok(false));
    let sh = t.shared();
    assert_eq!(sh.check(peer, 0x1000, 1), Verdict::Deliver);
    // Another owner, another source, another SPI: not validated.
    let nv = Verdict::Drop(DropReason::NotValidated);
    assert_eq!(sh.check(peer, 0x1000, 2), nv);
    assert_eq!(sh.check(ext(4), 0x1000, 1), nv);
    assert_eq!(sh.check(peer, 0x1001, 1), nv);
    assert_eq!(sh.check(peer, 0x1000, 0), nv);
    assert_eq!(sh.check(peer, 0x1000, 99), nv);
    assert_eq!(sh.check(peer, 1, 1), nv);
    assert_eq!(sh.lookup(peer, 0), None);
    assert_eq!(t.host_counts(1), (1, 0));
    assert_eq!(t.invalidate(2, peer, 0x1000), Err(SaError::NotFound));
    assert_eq!(t.invalidate(1, peer, 0x1001), Err(SaError::NotFound));
    assert_eq!(t.invalidate(1, peer, 5), Err(SaError::NotFound));
    assert_eq!(t.invalidate(1, peer, 0x1000), Ok(()));
    assert_eq!(t.invalidate(1, peer, 0x1000), Err(SaError::NotFound));
    assert_eq!(sh.check(peer, 0x1000, 1), nv);
    assert_eq!(t.host_counts(1), (0, 0));
    assert_eq!(t.stats().young_tombstones, 1);
    assert!(t.needs_grace());
    grace(&mut t);
    assert!(!t.needs_grace());
    assert_eq!(
        t.stats(),
        SaStats {
            max_entries: 32,
            ..SaStats::default()
        }
    );
    invariants(&t);
}

#[test]
fn validate_refusals() {
    let mut s = Store::new(64, 4);
    let mut t = s.t();
    let p = ext(1);
    let e = |t: &mut SaTable<'_>, slot, a, spi| t.validate(slot, a, spi, LAN, yes);
    assert_eq!(e(&mut t, 0, p, 0x1000), Err(SaError::BadSlot));
    assert_eq!(e(&mut t, 5, p, 0x1000), Err(SaError::BadSlot));
    assert_eq!(e(&mut t, 1, p, 255), Err(SaError::BadSpi));
    assert_eq!(e(&mut t, 1, p, 0), Err(SaError::BadSpi));
    for bad in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::LOCALHOST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(240, 0, 0, 1),
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(10, 0, 0, 255),
    ] {
        assert_eq!(e(&mut t, 1, bad, 0x1000), Err(SaError::BadAddress), "{bad}");
    }
    // Outside the LAN prefix, or no prefix given: fine.
    assert_eq!(e(&mut t, 1, Ipv4Addr::new(10, 0, 1, 1), 0x1000), Ok(true));
    assert_eq!(
        t.validate(1, Ipv4Addr::new(10, 0, 0, 1), 0x1000, None, yes),
        Ok(true)
    );
    let mut asked = None;
    let r = t.validate(2, p, 0x2000, LAN, |s, spi| {
        asked = Some((s, spi));
        false
    });
    assert_eq!((r, asked), (Err(SaError::NotOwned), Some((2, 0x2000))));
    assert_eq!(t.stats().entries, 2);
    invariants(&t);
    for e in [
        SaError::TableFull,
        SaError::HostLimit,
        SaError::NotOwned,
        SaError::NotFound,
        SaError::BadAddress,
    ] {
        assert!(e.errno() > 0);
    }
}

#[test]
fn stale_entry_moves_to_the_new_owner() {
    let mut s = Store::new(64, 4);
    let mut t = s.t();
    t.validate(1, ext(1), 0x1000, LAN, yes).unwrap();
    // The SPI went to slot 2 without remove_spis: the entry follows.
    assert_eq!(t.validate(2, ext(1), 0x1000, LAN, yes), Ok(true));
    assert_eq!(t.host_counts(1), (0, 0));
    assert_eq!(t.host_counts(2), (1, 0));
    assert_eq!(t.shared().check(ext(1), 0x1000, 2), Verdict::Deliver);
    assert_eq!(t.stats().entries, 1);
    invariants(&t);
}

#[test]
fn host_limit_and_table_full() {
    let mut s = Store::new(256, 4);
    let mut t = s.t();
    t.set_host_limit(10);
    assert_eq!(t.host_limit(), 10);
    for i in 0..10 {
        assert_eq!(t.validate(1, ext(i), 0x1000, LAN, yes), Ok(true));
    }
    assert_eq!(
        t.validate(1, ext(10), 0x1000, LAN, yes),
        Err(SaError::HostLimit)
    );
    // Re-validating an existing entry is fine at the limit.
    assert_eq!(t.validate(1, ext(3), 0x1000, LAN, yes), Ok(false));
    // A stale entry cannot move to a host at its limit either.
    t.validate(2, ext(50), 0x2000, LAN, yes).unwrap();
    assert_eq!(
        t.validate(1, ext(50), 0x2000, LAN, yes),
        Err(SaError::HostLimit)
    );
    t.set_host_limit(u16::MAX);
    // Fill the table: half the buckets.
    let mut n = t.stats().entries;
    let mut i = 100;
    while n < 128 {
        match t.validate(3, ext(i), 0x3000, LAN, yes) {
            Ok(true) => n += 1,
            other => panic!("{other:?} at {n}"),
        }
        i += 1;
    }
    assert_eq!(
        t.validate(4, ext(9999), 0x4000, LAN, yes),
        Err(SaError::TableFull)
    );
    assert_eq!(t.stats().entries, 128);
    invariants(&t);
    // The limit is on live entries: a removal makes room at once (the
    // new key takes an empty bucket, not the young tombstone).
    t.invalidate(3, ext(100), 0x3000).unwrap();
    assert_eq!(t.validate(4, ext(9999), 0x4000, LAN, yes), Ok(true));
    invariants(&t);
}

#[test]
fn probe_limit_bounds_clusters() {
    // Keys whose homes are all in one place: at most PROBE_LIMIT of
    // them fit there.
    let mut s = Store::new(1024, 2);
    let mut t = s.t();
    t.set_host_limit(u16::MAX);
    let sh = t.shared();
    let mut same = Vec::new();
    let mut i = 0u32;
    while same.len() < PROBE_LIMIT + 5 {
        if sh.home(key_of(ext(i), 0x1000)) == 500 {
            same.push(ext(i));
        }
        i += 1;
    }
    let mut ok = 0;
    for (n, &a) in same.iter().enumerate() {
        match t.validate(1, a, 0x1000, LAN, yes) {
            Ok(true) => ok += 1,
            Err(SaError::TableFull) => assert!(n >= PROBE_LIMIT),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, PROBE_LIMIT);
    for &a in &same[..PROBE_LIMIT] {
        assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
    }
    for &a in &same[PROBE_LIMIT..] {
        assert_eq!(sh.lookup(a, 0x1000), None);
    }
    invariants(&t);
}

#[test]
fn tombstones_wait_for_grace_then_are_reused_or_emptied() {
    let mut s = Store::new(64, 2);
    let mut t = s.t();
    let sh = t.shared();
    // Three keys with the same home: a cluster of three.
    let mut same = Vec::new();
    let mut i = 0u32;
    while same.len() < 3 {
        if sh.home(key_of(ext(i), 0x1000)) == 10 {
            same.push(ext(i));
        }
        i += 1;
    }
    for &a in &same {
        t.validate(1, a, 0x1000, LAN, yes).unwrap();
    }
    let key = |i: usize| sh.buckets[i].key.load(Ordering::Relaxed);
    assert!((10..13).all(|i| is_live(key(i))));
    // Remove the middle one: a young tombstone, not reused before a
    // grace period.
    t.invalidate(1, same[1], 0x1000).unwrap();
    assert_eq!(key(11) as u32, TOMB_YOUNG);
    t.validate(1, same[1], 0x1000, LAN, yes).unwrap();
    assert!(is_live(key(13)), "went past the young tombstone");
    assert_eq!(key(11) as u32, TOMB_YOUNG);
    t.invalidate(1, same[1], 0x1000).unwrap();
    assert_eq!(key(13) as u32, TOMB_YOUNG);
    assert_eq!(t.stats().young_tombstones, 2);
    // A token taken before a removal does not cover it.
    let tok = t.start_grace().unwrap();
    t.invalidate(1, same[0], 0x1000).unwrap();
    assert_eq!(t.finish_grace(tok), 2);
    // 11 is crossed by the entry at 12 (home 10): reusable; 13 is at
    // the end of the cluster: empty; 10 is still young.
    assert_eq!(key(11), TOMB_REUSABLE);
    assert_eq!(key(13), EMPTY);
    assert_eq!(key(10) as u32, TOMB_YOUNG);
    let st = t.stats();
    assert_eq!(
        (st.entries, st.young_tombstones, st.reusable_tombstones),
        (1, 1, 1)
    );
    invariants(&t);
    // Reuse: a key with home 10 goes to the first free bucket, 11.
    t.validate(1, same[1], 0x1000, LAN, yes).unwrap();
    assert_eq!(key(11), key_of(same[1], 0x1000));
    assert_eq!(t.stats().reusable_tombstones, 0);
    invariants(&t);
    // Everything gone and graced: all empty.
    t.remove_host(1);
    grace(&mut t);
    assert!((0..64).all(|i| key(i) == EMPTY));
    invariants(&t);
    // A token from the future is clamped.
    t.validate(1, same[0], 0x1000, LAN, yes).unwrap();
    t.invalidate(1, same[0], 0x1000).unwrap();
    assert_eq!(t.finish_grace(SaGraceToken::from_raw(u64::MAX)), 0);
    let tok = t.start_grace().unwrap();
    assert_eq!(SaGraceToken::from_raw(tok.raw()), tok);
    assert_eq!(t.finish_grace(tok), 1);
    assert_eq!(t.start_grace(), None);
}

#[test]
fn wrapping_clusters_are_swept_correctly() {
    // Keys with home at the last bucket wrap to the first ones.
    let mut s = Store::new(64, 1);
    let mut t = s.t();
    let sh = t.shared();
    let mut same = Vec::new();
    let mut i = 0u32;
    while same.len() < 4 {
        if sh.home(key_of(ext(i), 0x1000)) == 63 {
            same.push(ext(i));
        }
        i += 1;
    }
    for &a in &same {
        t.validate(1, a, 0x1000, LAN, yes).unwrap();
    }
    let key = |i: usize| sh.buckets[i].key.load(Ordering::Relaxed);
    // At 63, 0, 1, 2. Remove the ones at 63 and 1.
    t.invalidate(1, same[0], 0x1000).unwrap();
    t.invalidate(1, same[2], 0x1000).unwrap();
    grace(&mut t);
    assert_eq!(key(63), TOMB_REUSABLE, "crossed by the entries at 0 and 2");
    assert_eq!(key(1), TOMB_REUSABLE, "crossed by the entry at 2");
    invariants(&t);
    t.invalidate(1, same[3], 0x1000).unwrap();
    grace(&mut t);
    assert_eq!((key(1), key(2)), (EMPTY, EMPTY));
    assert_eq!(key(63), TOMB_REUSABLE, "crossed by the entry at 0");
    t.invalidate(1, same[1], 0x1000).unwrap();
    grace(&mut t);
    assert!((0..64).all(|i| key(i) == EMPTY));
    invariants(&t);
}

#[test]
fn stamps_survive_epoch_wrap() {
    let mut s = Store::new(64, 1);
    s.st.epoch = (1 << 32) - 2;
    s.st.done = s.st.epoch - 1;
    let mut t = s.t();
    let sh = t.shared();
    for round in 0..6u32 {
        t.validate(1, ext(round), 0x1000, LAN, yes).unwrap();
        t.invalidate(1, ext(round), 0x1000).unwrap();
        let tok = t.start_grace().unwrap();
        // A removal after the token: its stamp (past the wrap) is young.
        t.validate(1, ext(100 + round), 0x1000, LAN, yes).unwrap();
        t.invalidate(1, ext(100 + round), 0x1000).unwrap();
        t.finish_grace(tok);
        assert_eq!(t.stats().young_tombstones, 1, "round {round}");
        let tok = t.start_grace().unwrap();
        t.finish_grace(tok);
        assert_eq!(t.stats().young_tombstones, 0);
        invariants(&t);
    }
    assert!(sh
        .buckets
        .iter()
        .all(|b| b.key.load(Ordering::Relaxed) == EMPTY));
    // Outstanding tokens are bounded.
    t.st.done = 0;
    t.st.epoch = MAX_OUTSTANDING;
    t.validate(1, ext(1), 0x1000, LAN, yes).unwrap();
    t.invalidate(1, ext(1), 0x1000).unwrap();
    assert_eq!(t.start_grace(), None);
    t.st.done = 1;
    assert!(t.start_grace().is_some());
}

#[test]
fn esp_in_udp_gets_the_esp_checks() {
    let mut s = Store::new(64, 4);
    let mut t = s.t();
    let (peer, other) = (ext(3), ext(66));
    t.validate(1, peer, 0x1000, LAN, yes).unwrap();
    let sh = t.shared();
    let bl = Verdict::Drop(DropReason::Blacklisted);
    let nv = Verdict::Drop(DropReason::NotValidated);
    let so = Verdict::Drop(DropReason::NotSpiOwner);
    // The port's owner holds the SPI and validated the peer.
    assert_eq!(sh.check_in_udp(peer, 0x1000, 1, Some(1)), Verdict::Deliver);
    // Anybody else with the same SPI: not validated.
    assert_eq!(sh.check_in_udp(other, 0x1000, 1, Some(1)), nv);
    // The SPI is another host's, or nobody's: dropped even when the
    // pair is validated (for the SPI's owner), under either policy.
    assert_eq!(sh.check_in_udp(peer, 0x1000, 2, Some(1)), so);
    assert_eq!(sh.check_in_udp(peer, 0x1000, 1, None), so);
    assert!(so.drops(true));
    // The port owner's blacklist wins over the validation.
    assert_eq!(t.blacklist_add(1, Some(peer), None, LAN, yes), Ok(true));
    assert_eq!(sh.check_in_udp(peer, 0x1000, 1, Some(1)), bl);
    t.blacklist_remove(1, Some(peer), None).unwrap();
    assert_eq!(sh.check_in_udp(peer, 0x1000, 1, Some(1)), Verdict::Deliver);
}

#[test]
fn blacklist_rules() {
    let mut s = Store::new(64, 4);
    let mut t = s.t();
    let (a, b) = (ext(66), ext(67));
    t.validate(1, a, 0x1000, LAN, yes).unwrap();
    t.validate(1, b, 0x1001, LAN, yes).unwrap();
    let sh = t.shared();
    assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
    let bl = Verdict::Drop(DropReason::Blacklisted);
    let nv = Verdict::Drop(DropReason::NotValidated);
    // Address only: every SPI from a.
    assert_eq!(t.blacklist_add(1, Some(a), None, LAN, yes), Ok(true));
    assert_eq!(t.blacklist_add(1, Some(a), None, LAN, yes), Ok(false));
    assert_eq!(sh.check(a, 0x1000, 1), bl);
    assert_eq!(sh.check(a, 0x5555, 1), bl);
    assert_eq!(sh.check(b, 0x1001, 1), Verdict::Deliver);
    // Only the owner's blacklist counts.
    assert_eq!(sh.check(a, 0x1000, 2), nv);
    // SPI only: every source with that SPI.
    assert_eq!(t.blacklist_add(1, None, Some(0x1001), LAN, yes), Ok(true));
    assert_eq!(sh.check(b, 0x1001, 1), bl);
    assert_eq!(sh.check(ext(9), 0x1001, 1), bl);
    assert_eq!(sh.check(b, 0x1002, 1), nv);
    // Both: exactly that pair.
    t.blacklist_remove(1, Some(a), None).unwrap();
    t.blacklist_remove(1, None, Some(0x1001)).unwrap();
    assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
    assert_eq!(
        t.blacklist_add(1, Some(a), Some(0x1000), LAN, yes),
        Ok(true)
    );
    assert_eq!(sh.check(a, 0x1000, 1), bl);
    assert_eq!(sh.check(a, 0x1001, 1), nv);
    assert_eq!(sh.check(b, 0x1001, 1), Verdict::Deliver);
    // Removal is exact.
    assert_eq!(t.blacklist_remove(1, Some(a), None), Err(SaError::NotFound));
    assert_eq!(
        t.blacklist_remove(2, Some(a), Some(0x1000)),
        Err(SaError::NotFound)
    );
    assert_eq!(t.blacklist_remove(1, Some(a), Some(0x1000)), Ok(()));
    assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
    // Refusals.
    assert_eq!(
        t.blacklist_add(1, None, None, LAN, yes),
        Err(SaError::EmptyEntry)
    );
    assert_eq!(
        t.blacklist_add(1, None, Some(7), LAN, yes),
        Err(SaError::BadSpi)
    );
    assert_eq!(
        t.blacklist_add(1, Some(Ipv4Addr::new(10, 0, 0, 3)), None, LAN, yes),
        Err(SaError::BadAddress)
    );
    assert_eq!(
        t.blacklist_add(1, Some(a), Some(0x9000), LAN, |_, _| false),
        Err(SaError::NotOwned)
    );
    // No SPI: ownership is not asked.
    assert_eq!(
        t.blacklist_add(1, Some(a), None, LAN, |_, _| unreachable!()),
        Ok(true)
    );
    assert_eq!(
        t.blacklist_add(0, Some(a), None, LAN, yes),
        Err(SaError::BadSlot)
    );
    assert_eq!(t.blacklist_remove(9, Some(a), None), Err(SaError::BadSlot));
    // The per-host limit.
    for i in 1..BLACKLIST_PER_HOST as u32 {
        assert_eq!(
            t.blacklist_add(1, Some(ext(100 + i)), None, LAN, yes),
            Ok(true)
        );
    }
    assert_eq!(
        t.blacklist_add(1, Some(ext(99)), None, LAN, yes),
        Err(SaError::HostLimit)
    );
    assert_eq!(t.host_counts(1), (2, BLACKLIST_PER_HOST as u8));
    assert_eq!(t.blacklist_add(2, Some(ext(99)), None, LAN, yes), Ok(true));
    assert_eq!(t.stats().blacklist, BLACKLIST_PER_HOST as u32 + 1);
    // A removed entry's place is reused.
    t.blacklist_remove(1, Some(ext(105)), None).unwrap();
    assert_eq!(t.blacklist_add(1, Some(ext(99)), None, LAN, yes), Ok(true));
    assert!(sh.blacklisted(ext(99), 1, 1));
    assert!(!sh.blacklisted(ext(105), 0x1000, 1));
    assert!(!sh.blacklisted(ext(99), 0x1000, 0));
    invariants(&t);
}

#[test]
fn remove_spis_host_and_clear() {
    let mut s = Store::new(256, 4);
    let mut t = s.t();
    for slot in 1..=3u16 {
        let base = u32::from(slot) * 0x1000;
        for i in 0..20u32 {
            t.validate(slot, ext(i), base + i, LAN, yes).unwrap();
        }
        t.blacklist_add(slot, Some(ext(200)), None, LAN, yes)
            .unwrap();
        t.blacklist_add(slot, None, Some(base + 5), LAN, yes)
            .unwrap();
        t.blacklist_add(slot, None, Some(base + 15), LAN, yes)
            .unwrap();
    }
    let sh = t.shared();
    // Slot 1 releases SPIs 0x1000..0x1009: 10 SAs and one SPI entry.
    assert_eq!(t.remove_spis(1, 0x1000, 10), 11);
    assert_eq!(t.host_counts(1), (10, 2));
    assert_eq!(sh.lookup(ext(3), 0x1003), None);
    assert_eq!(sh.lookup(ext(13), 0x100d), Some(1));
    // Another slot's entries in that range stay; a zero count is nothing.
    assert_eq!(t.remove_spis(2, 0x1000, 10), 0);
    assert_eq!(t.remove_spis(2, 0x2000, 0), 0);
    assert_eq!(t.remove_spis(9, 0x2000, 10), 0);
    assert_eq!(t.remove_spis(2, u32::MAX, 10), 0);
    assert_eq!(t.host_counts(2), (20, 3));
    // Revocation of slot 2: everything of it.
    assert_eq!(t.remove_host(2), 23);
    assert_eq!(t.host_counts(2), (0, 0));
    assert_eq!(
        sh.check(ext(1), 0x2001, 2),
        Verdict::Drop(DropReason::NotValidated)
    );
    assert_eq!(t.remove_host(2), 0);
    assert_eq!(t.remove_host(0), 0);
    invariants(&t);
    let st = t.stats();
    assert_eq!((st.entries, st.blacklist), (30, 5));
    assert_eq!(t.clear(), 35);
    assert_eq!(t.stats().entries, 0);
    assert_eq!(t.stats().blacklist, 0);
    assert_eq!(t.entries_from(SaCursor::START).count(), 0);
    invariants(&t);
    grace(&mut t);
    assert_eq!(
        t.stats().young_tombstones + t.stats().reusable_tombstones,
        0
    );
}

#[test]
fn dumps_resume_from_cursors() {
    let mut s = Store::new(128, 8);
    let mut t = s.t();
    let mut want = Vec::new();
    for slot in 1..=6u16 {
        for i in 0..u32::from(slot) {
            let (a, spi) = (ext(i), u32::from(slot) * 0x100 + i);
            t.validate(slot, a, spi, LAN, yes).unwrap();
            want.push(SaEntry { addr: a, spi, slot });
        }
        if slot % 2 == 0 {
            for i in 0..3 {
                t.blacklist_add(slot, Some(ext(50 + i)), None, LAN, yes)
                    .unwrap();
            }
        }
    }
    t.blacklist_remove(4, Some(ext(51)), None).unwrap();
    let all: Vec<_> = t.entries_from(SaCursor::START).map(|(_, e)| e).collect();
    let mut sorted = all.clone();
    sorted.sort_by_key(|e| (e.slot, e.spi));
    assert_eq!(sorted, want);
    // In parts of 4, resuming from the first that did not fit.
    let mut got = Vec::new();
    let mut cur = SaCursor::START;
    loop {
        let mut next = None;
        for (n, (c, e)) in t.entries_from(cur).enumerate() {
            if n == 4 {
                next = Some(c);
                break;
            }
            got.push(e);
        }
        match next {
            Some(c) => cur = SaCursor::from_raw(c.raw()),
            None => break,
        }
    }
    assert_eq!(got, all);
    let bl: Vec<_> = t.blacklist_from(SaCursor::START).collect();
    assert_eq!(bl.len(), 8);
    // In windows of 7 positions (the bound a lock holder puts on one
    // scan), which together list every entry once.
    let (mut sas, mut bls) = (Vec::new(), Vec::new());
    let end = t.entries_from(SaCursor::START).end();
    for w in (0..end).step_by(7) {
        for (c, e) in t.entries_from(SaCursor::from_raw(w)).until(w + 7) {
            assert!((w..w + 7).contains(&c.raw()));
            sas.push(e);
        }
    }
    assert_eq!(sas, all);
    let end = t.blacklist_from(SaCursor::START).end();
    for w in (0..end).step_by(7) {
        bls.extend(t.blacklist_from(SaCursor::from_raw(w)).until(w + 7));
    }
    assert_eq!(bls, bl);
    let (c, e) = bl[3];
    assert_eq!(
        e,
        BlacklistEntry {
            slot: 4,
            addr: Some(ext(50)),
            spi: None
        }
    );
    let rest: Vec<_> = t.blacklist_from(c).collect();
    assert_eq!(rest, bl[3..]);
    let h4: Vec<_> = t.host_blacklist(4).map(|(_, e)| e.addr).collect();
    assert_eq!(h4, [Some(ext(50)), Some(ext(52))]);
    assert_eq!(t.host_blacklist(0).count(), 0);
    assert_eq!(t.host_blacklist(9).count(), 0);
    let spi_only = t.blacklist_add(1, None, Some(0x100), LAN, yes);
    assert_eq!(spi_only, Ok(true));
    let h1: Vec<_> = t.host_blacklist(1).map(|(_, e)| e).collect();
    assert_eq!(
        h1,
        [BlacklistEntry {
            slot: 1,
            addr: None,
            spi: Some(0x100)
        }]
    );
}

#[test]
fn layouts() {
    let b = |n: usize| (0..n).map(|_| SaBucket::default()).collect::<Vec<_>>();
    let l = |n: usize| (0..n).map(|_| BlacklistSlot::default()).collect::<Vec<_>>();
    for (nb, nh) in [(0, 1), (63, 1), (96, 1), (32, 1), (64, 0)] {
        assert_eq!(
            SaShared::new(&b(nb), &l(nh), SEED).unwrap_err(),
            SaError::BadLayout,
            "{nb} {nh}"
        );
    }
    let (bs, ls) = (b(64), l(3));
    let sh = SaShared::new(&bs, &ls, SEED).unwrap();
    assert_eq!(
        sh.layout(),
        SaLayout {
            buckets: 64,
            hosts: 3
        }
    );
    assert!(std::format!("{sh:?}").contains("SaShared"));
    let mut st = SaState::default();
    assert_eq!(st.host_limit(), DEFAULT_SAS_PER_HOST);
    let mut c = std::vec![0u16; 2];
    assert_eq!(
        SaTable::new(sh, &mut c, &mut st).unwrap_err(),
        SaError::BadLayout
    );
    let mut c = std::vec![0u16; 3];
    let mut t = SaTable::new(sh, &mut c, &mut st).unwrap();
    t.set_host_limit(0);
    assert_eq!(t.host_limit(), 1);
    assert_eq!(t.hosts(), 3);
}

#[test]
fn verdict_policy_and_names() {
    let nv = Verdict::Drop(DropReason::NotValidated);
    let bl = Verdict::Drop(DropReason::Blacklisted);
    let so = Verdict::Drop(DropReason::NotSpiOwner);
    assert!(!Verdict::Deliver.drops(false) && !Verdict::Deliver.drops(true));
    assert!(nv.drops(false) && !nv.drops(true));
    assert!(bl.drops(false) && bl.drops(true));
    assert!(so.drops(false) && so.drops(true));
    for (i, r) in DropReason::ALL.iter().enumerate() {
        assert_eq!(r.index(), i);
        assert!(!r.name().is_empty());
    }
    assert!(is_external(ext(1), LAN));
    assert!(!is_external(Ipv4Addr::new(10, 0, 0, 9), LAN));
    assert!(is_external(Ipv4Addr::new(10, 0, 0, 9), None));
}

#[test]
fn memory() {
    let l = SaLayout {
        buckets: 16384,
        hosts: 256,
    };
    std::println!("SA table bytes: {}", l.bytes());
    assert_eq!(core::mem::size_of::<SaBucket>(), 16);
    assert_eq!(core::mem::size_of::<BlacklistSlot>(), 136);
    assert_eq!(l.max_entries(), 8192);
    assert_eq!(l.bytes(), 16384 * 16 + 256 * 136 + 256 * 2 + 40);
    assert_eq!(core::mem::size_of::<SaState>(), 40);
}

/// Random operations against a simple model; `check()` must agree with
/// the model for every address, SPI and owner of the small universe.
#[test]
fn mini_fuzz_against_model() {
    const HOSTS: u16 = 6;
    const ADDRS: u32 = 24;
    const SPIS: u32 = 24;
    const LIMIT: u16 = 12;
    let mut s = Store::new(64, usize::from(HOSTS));
    let mut t = s.t();
    t.set_host_limit(LIMIT);
    let mut rng = Rng(0x5eed);
    // Who owns which SPI (changes, as blocks are released and granted).
    let mut owner: Vec<u16> = (0..SPIS)
        .map(|i| (i % u32::from(HOSTS)) as u16 + 1)
        .collect();
    let mut sas: HashMap<(u32, u32), u16> = HashMap::new();
    // A blacklist entry of the model: address and SPI indexes, or any.
    type Entry = (Option<u32>, Option<u32>);
    let mut bls: HashMap<u16, Vec<Entry>> = HashMap::new();
    let spi_of = |i: u32| 0x1000 + i;
    let (mut full, mut applied) = (0, 0);
    for step in 0..40_000u32 {
        let ai = rng.below(u64::from(ADDRS)) as u32;
        let si = rng.below(u64::from(SPIS)) as u32;
        // Mostly the SPI's owner, sometimes another host.
        let slot = if rng.below(4) == 0 {
            1 + rng.below(u64::from(HOSTS)) as u16
        } else {
            owner[si as usize]
        };
        let (a, spi) = (ext(ai), spi_of(si));
        let owns = |s: Slot, spi: u32| owner[(spi - 0x1000) as usize] == s;
        match rng.below(12) {
            0..=3 => {
                let r = t.validate(slot, a, spi, LAN, owns);
                let mine = owner[si as usize] == slot;
                let held = sas.values().filter(|&&v| v == slot).count();
                match r {
                    Ok(new) => {
                        assert!(mine);
                        let old = sas.insert((ai, si), slot);
                        assert_eq!(new, old != Some(slot), "step {step}");
                        applied += 1;
                    }
                    Err(SaError::NotOwned) => assert!(!mine),
                    Err(SaError::HostLimit) => {
                        assert!(
                            mine && held >= usize::from(LIMIT) && sas.get(&(ai, si)) != Some(&slot)
                        )
                    }
                    Err(SaError::TableFull) => {
                        assert!(mine && !sas.contains_key(&(ai, si)));
                        full += 1;
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            4 | 5 => {
                let r = t.invalidate(slot, a, spi);
                if sas.get(&(ai, si)) == Some(&slot) {
                    assert_eq!(r, Ok(()));
                    sas.remove(&(ai, si));
                } else {
                    assert_eq!(r, Err(SaError::NotFound));
                }
            }
            6 => {
                let addr = (rng.below(3) != 0).then_some(ai);
                let sp = (rng.below(3) != 0).then_some(si);
                let r = t.blacklist_add(slot, addr.map(ext), sp.map(spi_of), LAN, owns);
                let list = bls.entry(slot).or_default();
                match r {
                    Ok(new) => {
                        assert_eq!(new, !list.contains(&(addr, sp)));
                        if new {
                            list.push((addr, sp));
                        }
                    }
                    Err(SaError::EmptyEntry) => assert!(addr.is_none() && sp.is_none()),
                    Err(SaError::NotOwned) => {
                        assert!(sp.is_some_and(|x| owner[x as usize] != slot))
                    }
                    Err(SaError::HostLimit) => assert_eq!(list.len(), BLACKLIST_PER_HOST),
                    Err(e) => panic!("{e:?}"),
                }
            }
            7 => {
                let list = bls.entry(slot).or_default();
                let pick = if list.is_empty() || rng.below(4) == 0 {
                    (Some(ai), None)
                } else {
                    list[rng.below(list.len() as u64) as usize]
                };
                let r = t.blacklist_remove(slot, pick.0.map(ext), pick.1.map(spi_of));
                match list.iter().position(|&e| e == pick) {
                    Some(p) => {
                        assert_eq!(r, Ok(()));
                        list.swap_remove(p);
                    }
                    None => assert_eq!(r, Err(SaError::NotFound)),
                }
            }
            8 => {
                // A block of 4 SPIs changes hands (released, granted to
                // another host): the old owner's state for it goes.
                let lo = si & !3;
                let old = owner[lo as usize];
                t.remove_spis(old, spi_of(lo), 4);
                sas.retain(|&(_, s), &mut v| !(v == old && (lo..lo + 4).contains(&s)));
                bls.entry(old)
                    .or_default()
                    .retain(|e| !e.1.is_some_and(|s| (lo..lo + 4).contains(&s)));
                for o in &mut owner[lo as usize..lo as usize + 4] {
                    *o = slot;
                }
            }
            9 => {
                if rng.below(20) == 0 {
                    t.remove_host(slot);
                    sas.retain(|_, v| *v != slot);
                    bls.remove(&slot);
                }
            }
            10 => {
                if rng.below(200) == 0 {
                    t.clear();
                    sas.clear();
                    bls.clear();
                }
            }
            _ => grace(&mut t),
        }
        if step % 97 == 0 {
            invariants(&t);
            let sh = t.shared();
            for ai in 0..ADDRS {
                for si in 0..SPIS {
                    for o in 1..=HOSTS {
                        let blacklisted = bls.get(&o).is_some_and(|l| {
                            l.iter().any(|&(ea, es)| {
                                ea.is_none_or(|x| x == ai) && es.is_none_or(|x| x == si)
                            })
                        });
                        let want = if blacklisted {
                            Verdict::Drop(DropReason::Blacklisted)
                        } else if sas.get(&(ai, si)) == Some(&o) {
                            Verdict::Deliver
                        } else {
                            Verdict::Drop(DropReason::NotValidated)
                        };
                        assert_eq!(sh.check(ext(ai), spi_of(si), o), want, "step {step}");
                    }
                }
            }
        }
    }
    std::println!("applied {applied}, table full {full}");
    assert!(applied > 5000 && full > 10, "{applied} {full}");
}

/// Readers on other threads (each check inside a read-side section of
/// a `RwLock` standing in for RCU) never see a torn or wrong entry:
/// stable entries are always found, churning entries only ever with
/// their own slot, absent ones never; the writer reuses buckets
/// constantly.
#[test]
fn concurrent_readers_never_see_wrong_entries() {
    use std::sync::atomic::AtomicBool;
    use std::sync::RwLock;
    let mut s = Store::new(256, 8);
    let slot_for = |i: u32| (i % 8) as u16 + 1;
    let stable = |i: u32| (ext(1000 + i), 0x1000 + i);
    let churn = |i: u32| (ext(i % 40), 0x2000 + i % 7);
    let never = |i: u32| (ext(5000 + i), 0x3000 + i);
    {
        let mut t = s.t();
        t.set_host_limit(u16::MAX);
        for i in 0..40 {
            let (a, spi) = stable(i);
            t.validate(slot_for(i), a, spi, LAN, yes).unwrap();
        }
        t.blacklist_add(3, Some(ext(7777)), None, LAN, yes).unwrap();
    }
    let rcu = RwLock::new(());
    let stop = AtomicBool::new(false);
    let Store {
        buckets,
        bl,
        mut counts,
        mut st,
    } = s;
    std::thread::scope(|sc| {
        let mut readers = Vec::new();
        for r in 0..3u64 {
            let (buckets, bl, rcu, stop) = (&buckets, &bl, &rcu, &stop);
            readers.push(sc.spawn(move || {
                let sh = SaShared::new(buckets, bl, SEED).unwrap();
                WIDEN.with(|w| w.set(true));
                let mut rng = Rng(r + 11);
                let (mut checks, mut hits) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let _g = rcu.read().unwrap();
                    for _ in 0..64 {
                        let i = rng.next() as u32;
                        let o = 1 + (rng.below(8) as u16);
                        let (a, spi) = stable(i % 40);
                        let want = if slot_for(i % 40) == o {
                            Verdict::Deliver
                        } else {
                            Verdict::Drop(DropReason::NotValidated)
                        };
                        assert_eq!(sh.check(a, spi, o), want);
                        let (a, spi) = churn(i);
                        if let Some(got) = sh.lookup(a, spi) {
                            assert_eq!(got, slot_for(i % 40), "torn entry");
                            hits += 1;
                        }
                        let (a, spi) = never(i % 1000);
                        assert_eq!(sh.lookup(a, spi), None);
                        assert!(sh.blacklisted(ext(7777), spi, 3));
                        assert!(!sh.blacklisted(a, spi, 3));
                        checks += 4;
                    }
                }
                (checks, hits)
            }));
        }
        /// Stops the readers however the writer ends (a failed
        /// assertion must not leave them spinning).
        struct StopOnDrop<'s>(&'s AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let stopper = StopOnDrop(&stop);
        let sh = SaShared::new(&buckets, &bl, SEED).unwrap();
        let mut t = SaTable::new(sh, &mut counts, &mut st).unwrap();
        let mut rng = Rng(77);
        for step in 0..200_000u32 {
            let i = rng.next() as u32;
            let (a, spi) = churn(i);
            match rng.below(8) {
                0..=2 => {
                    let _ = t.validate(slot_for(i % 40), a, spi, LAN, yes);
                }
                3..=5 => {
                    let _ = t.invalidate(slot_for(i % 40), a, spi);
                }
                6 => {
                    let o = slot_for(i % 40);
                    t.remove_spis(o, 0x2000, 7);
                }
                _ => {
                    if let Some(tok) = t.start_grace() {
                        // synchronize_rcu(): every reader that might
                        // have seen the removed keys has finished.
                        drop(rcu.write().unwrap());
                        t.finish_grace(tok);
                    }
                }
            }
            if step % 20_000 == 0 {
                invariants(&t);
            }
        }
        drop(stopper);
        let (mut checks, mut hits) = (0, 0);
        for r in readers {
            let (c, h) = r.join().unwrap();
            checks += c;
            hits += h;
        }
        std::println!("checks {checks}, churn hits {hits}");
        assert!(checks > 10_000 && hits > 100, "{checks} {hits}");
        invariants(&t);
    });
}
