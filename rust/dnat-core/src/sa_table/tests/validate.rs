// SPDX-License-Identifier: GPL-2.0

//! The hash, validations and invalidations, limits, probing, tombstones
//! and their grace periods.

use super::*;

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
