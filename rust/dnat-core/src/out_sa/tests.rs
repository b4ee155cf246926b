// SPDX-License-Identifier: GPL-2.0

use super::*;
use crate::store::OutSaStore;
use std::collections::{HashMap, HashSet};
use std::vec::Vec;

const SEED: [u64; 2] = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];

fn sa(peer: u8, spi: u32) -> SaKey {
    SaKey {
        peer: Ipv4Addr::new(198, 51, 100, peer),
        spi,
        proto: proto::ESP,
    }
}

fn store(buckets: usize, hosts: usize, per_host: u32) -> OutSaStore {
    OutSaStore::new(
        OutSaLayout { buckets, hosts },
        OutSaSettings {
            seed: SEED,
            idle: 120,
            per_host,
        },
    )
}

/// Per-host counts equal the live entries a dump shows, and every
/// dumped entry lies in its own set with its own tag.
fn check(t: &OutSaShared<'_>) -> Vec<OutSaEntry> {
    let all: Vec<OutSaEntry> = t.entries_from(0).map(|(_, e)| e).collect();
    let mut per = HashMap::new();
    for e in &all {
        *per.entry(e.slot).or_insert(0u32) += 1;
    }
    for s in 1..=t.layout().hosts as Slot {
        assert_eq!(
            t.host_entries(s),
            per.get(&s).copied().unwrap_or(0),
            "slot {s}"
        );
    }
    assert_eq!(t.entries(), all.len());
    all
}

#[test]
fn layout_and_memory() {
    let l = OutSaLayout {
        buckets: DEFAULT_BUCKETS,
        hosts: 256,
    };
    assert_eq!(core::mem::size_of::<OutSaBucket>(), 16);
    assert_eq!(l.bytes(), 16_384 * 16 + 256 * 4);
    let s = store(64, 4, 8);
    let ok = OutSaSettings::with_seed(SEED);
    assert!(OutSaShared::new(&s.buckets, &s.counts, ok).is_ok());
    assert!(OutSaShared::new(&s.buckets[..63], &s.counts, ok).is_err());
    assert!(OutSaShared::new(&s.buckets[..32], &s.counts, ok).is_err());
    assert!(OutSaShared::new(&s.buckets, &s.counts[..0], ok).is_err());
    for bad in [
        OutSaSettings { idle: 0, ..ok },
        OutSaSettings { per_host: 0, ..ok },
        OutSaSettings {
            per_host: 65_536,
            ..ok
        },
    ] {
        assert_eq!(
            OutSaShared::new(&s.buckets, &s.counts, bad).unwrap_err(),
            OutSaError::BadLayout
        );
    }
    assert_eq!(ok.idle, DEFAULT_IDLE);
    assert_eq!(ok.per_host, DEFAULT_PER_HOST);
}

#[test]
fn learn_lookup_refresh_and_idle() {
    let s = store(1024, 4, 8);
    let t = s.shared();
    let a = sa(7, 0x1234_5678);
    assert_eq!(t.lookup(&a, 100), None);
    assert_eq!(t.learn(&a, 1, 100), Learnt::Added);
    assert_eq!(t.lookup(&a, 100), Some(1));
    assert_eq!(t.learn(&a, 1, 150), Learnt::Refreshed);
    // Idle for exactly the timeout: still there; one second more: gone.
    assert_eq!(t.lookup(&a, 270), Some(1));
    assert_eq!(t.lookup(&a, 271), None);
    // A lookup does not keep it alive; a packet does.
    assert_eq!(t.learn(&a, 1, 260), Learnt::Refreshed);
    assert_eq!(t.lookup(&a, 380), Some(1));
    // Another SPI, peer or protocol is another SA.
    assert_eq!(t.lookup(&sa(7, 0x1234_5679), 260), None);
    assert_eq!(t.lookup(&sa(8, 0x1234_5678), 260), None);
    let ah = SaKey {
        proto: proto::AH,
        ..a
    };
    assert_eq!(t.lookup(&ah, 260), None);
    assert_eq!(t.learn(&ah, 2, 260), Learnt::Added);
    assert_eq!(t.lookup(&ah, 260), Some(2));
    assert_eq!(t.lookup(&a, 260), Some(1));
    let udp = SaKey {
        proto: proto::UDP,
        ..a
    };
    assert_eq!(t.lookup(&udp, 260), None);
    // A clock that another CPU moved ahead counts as no age.
    assert_eq!(t.lookup(&a, 250), Some(1));
    let all = check(&t);
    assert_eq!(all.len(), 2);
    assert!(all.contains(&OutSaEntry {
        sa: a,
        slot: 1,
        last_use: 260
    }));
}

#[test]
fn first_sender_keeps_the_sa_until_idle() {
    let s = store(1024, 4, 8);
    let t = s.shared();
    let a = sa(9, 0x4000);
    assert_eq!(t.learn(&a, 1, 10), Learnt::Added);
    assert_eq!(t.learn(&a, 2, 20), Learnt::Conflict);
    assert_eq!(t.lookup(&a, 20), Some(1));
    assert_eq!(t.learn(&a, 2, 130), Learnt::Conflict);
    // Host 1 stopped sending at 10: at 131 host 2 takes it over.
    assert_eq!(t.learn(&a, 2, 131), Learnt::Added);
    assert_eq!(t.lookup(&a, 131), Some(2));
    assert_eq!((t.host_entries(1), t.host_entries(2)), (0, 1));
    assert_eq!(t.learn(&a, 1, 132), Learnt::Conflict);
    check(&t);
}

#[test]
fn invalid_sas() {
    let s = store(64, 4, 8);
    let t = s.shared();
    let a = sa(1, 0x1000);
    assert_eq!(t.learn(&a, 0, 1), Learnt::Invalid);
    assert_eq!(t.learn(&a, 5, 1), Learnt::Invalid);
    assert_eq!(t.learn(&sa(1, 255), 1, 1), Learnt::Invalid);
    assert_eq!(t.learn(&sa(1, 0), 1, 1), Learnt::Invalid);
    assert_eq!(t.learn(&sa(1, 256), 1, 1), Learnt::Added);
    for peer in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 5),
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(240, 1, 2, 3),
    ] {
        assert_eq!(t.learn(&SaKey { peer, ..a }, 1, 1), Learnt::Invalid);
    }
    for p in [proto::UDP, proto::TCP, proto::ICMP, 0] {
        assert_eq!(t.learn(&SaKey { proto: p, ..a }, 1, 1), Learnt::Invalid);
        assert_eq!(t.lookup(&SaKey { proto: p, ..a }, 1), None);
    }
    assert_eq!(check(&t).len(), 1);
}

#[test]
fn host_limit_and_full_sets() {
    let s = store(1024, 4, 3);
    let t = s.shared();
    for i in 0..3 {
        assert_eq!(t.learn(&sa(1, 0x1000 + i), 1, 5), Learnt::Added);
    }
    assert_eq!(t.learn(&sa(1, 0x2000), 1, 5), Learnt::HostLimit);
    assert_eq!(t.learn(&sa(1, 0x1001), 1, 6), Learnt::Refreshed);
    assert_eq!(t.learn(&sa(1, 0x2000), 2, 5), Learnt::Added);
    assert_eq!(t.host_entries(1), 3);
    check(&t);
    // 64 buckets: 8 sets of 8. Fill until both sets of an SA are full.
    let s = store(64, 2, 1000);
    let t = s.shared();
    let mut full = 0;
    for i in 0..200u32 {
        let x = sa(2, 0x1_0000 + i);
        match t.learn(&x, 1, 50) {
            Learnt::Added => assert_eq!(t.lookup(&x, 50), Some(1)),
            Learnt::Full => {
                full += 1;
                for set in t.place(&x).sets {
                    let end = (set + WAYS) as u32;
                    let live = t.entries_from(set as u32).until(end).count();
                    assert_eq!(live, WAYS);
                }
                assert_eq!(t.lookup(&x, 50), None);
            }
            r => panic!("{r:?}"),
        }
    }
    assert_eq!(t.entries(), 64);
    assert_eq!(full, 200 - 64);
    // Idle entries make room without a sweep.
    let x = sa(3, 0x9999);
    assert_eq!(t.learn(&x, 2, 171), Learnt::Added);
    assert_eq!(t.lookup(&x, 171), Some(2));
    assert_eq!((t.host_entries(1), t.host_entries(2)), (63, 1));
    check(&t);
    assert_eq!(t.expire(171, |_| true), 63);
    assert_eq!(check(&t).len(), 1);
}

/// Two sets per SA: a router's table takes as many SAs as the
/// established-SA table holds (8,192, half its buckets) without a full
/// set, and most of a table's buckets before the first.
#[test]
fn default_table_fills_evenly() {
    let s = store(DEFAULT_BUCKETS, 64, 256);
    let t = s.shared();
    let mut first_full = None;
    for i in 0..DEFAULT_BUCKETS as u32 {
        let x = SaKey {
            peer: Ipv4Addr::from(0xc000_0200 + i / 50),
            spi: 0x100 + i.wrapping_mul(2_654_435_761) % 0x7fff_0000,
            proto: proto::ESP,
        };
        match t.learn(&x, (i % 64 + 1) as Slot, 1) {
            Learnt::Added => {}
            Learnt::Full => {
                first_full = first_full.or(Some(i));
            }
            r => panic!("{r:?}"),
        }
    }
    let first_full = first_full.unwrap_or(u32::MAX);
    assert!(first_full > DEFAULT_BUCKETS as u32 * 3 / 4, "{first_full}");
    assert!(t.entries() > DEFAULT_BUCKETS * 95 / 100, "{}", t.entries());
    check(&t);
}

#[test]
fn removal_expiry_and_clear() {
    let s = store(256, 4, 100);
    let t = s.shared();
    for i in 0..40u32 {
        let slot = (i % 4 + 1) as Slot;
        assert_eq!(t.learn(&sa(10, 0x5000 + i), slot, i), Learnt::Added);
    }
    assert_eq!(t.remove_host(2), 10);
    assert_eq!(t.remove_host(2), 0);
    assert_eq!(t.lookup(&sa(10, 0x5001), 40), None);
    assert_eq!(t.lookup(&sa(10, 0x5000), 40), Some(1));
    check(&t);
    // Idle past 120 s at 150: learnt before 30; and every entry of
    // slot 3 by the predicate.
    let gone = t.expire(150, |s| s != 3);
    let left: HashSet<u32> = check(&t).iter().map(|e| e.sa.spi - 0x5000).collect();
    let want: HashSet<u32> = (30..40).filter(|i| i % 4 != 1 && i % 4 != 2).collect();
    assert_eq!(left, want);
    assert_eq!(gone, 30 - want.len());
    assert_eq!(t.clear(), want.len());
    assert_eq!(check(&t).len(), 0);
    assert_eq!(t.entries(), 0);
}

#[test]
fn dumps_resume_and_stop() {
    let s = store(256, 2, 100);
    let t = s.shared();
    let mut want = HashSet::new();
    for i in 0..50u32 {
        let x = SaKey {
            proto: if i % 3 == 0 { proto::AH } else { proto::ESP },
            ..sa((i % 7) as u8 + 1, 0x7000 + i)
        };
        assert_eq!(t.learn(&x, (i % 2 + 1) as Slot, 3), Learnt::Added);
        want.insert((x, (i % 2 + 1) as Slot));
    }
    let got: HashSet<(SaKey, Slot)> = t.entries_from(0).map(|(_, e)| (e.sa, e.slot)).collect();
    assert_eq!(got, want);
    // In windows of 10 buckets, resuming from cursors.
    let mut parts = HashSet::new();
    for w in (0..256u32).step_by(10) {
        for (c, e) in t.entries_from(w).until(w + 10) {
            assert!((w..w + 10).contains(&c));
            parts.insert((e.sa, e.slot));
        }
    }
    assert_eq!(parts, want);
    assert_eq!(t.entries_from(300).count(), 0);
}

/// Single-threaded random operations: lookups answer only what was
/// learnt for that host and is not idle, and the counts stay exact.
#[test]
fn random_operations() {
    let s = store(64, 6, 30);
    let t = s.shared();
    let mut x = 0x9e37_79b9u64;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    // (sa, slot) -> last packet.
    let mut sent: HashMap<(SaKey, Slot), u32> = HashMap::new();
    let mut now = 1000u32;
    let mut seen: HashMap<Learnt, u32> = HashMap::new();
    for step in 0..50_000 {
        let a = SaKey {
            proto: if rnd(5) == 0 { proto::AH } else { proto::ESP },
            ..sa(rnd(4) as u8 + 1, 0x100 + rnd(40) as u32)
        };
        // Mostly the SA's own host, sometimes another one.
        let slot = if rnd(8) == 0 {
            rnd(6) as Slot + 1
        } else {
            (a.spi % 6) as Slot + 1
        };
        match rnd(20) {
            0..=11 => {
                let before = t.lookup(&a, now);
                let r = t.learn(&a, slot, now);
                *seen.entry(r).or_default() += 1;
                match r {
                    Learnt::Added | Learnt::Refreshed => {
                        assert_eq!(t.lookup(&a, now), Some(slot), "{step}");
                        if r == Learnt::Refreshed {
                            // The host's entry, perhaps idle until now.
                            assert!(before.is_none_or(|b| b == slot), "{step}");
                        }
                        sent.insert((a, slot), now);
                    }
                    Learnt::Conflict => {
                        let o = t.lookup(&a, now).unwrap();
                        assert_ne!(o, slot);
                        assert_eq!(before, Some(o));
                    }
                    Learnt::HostLimit => assert_eq!(t.host_entries(slot), 30),
                    Learnt::Full => {
                        for set in t.place(&a).sets {
                            let set = set as u32;
                            let live = t
                                .entries_from(set)
                                .until(set + WAYS as u32)
                                .filter(|(_, e)| age(now, e.last_use) <= 120)
                                .count();
                            assert_eq!(live, WAYS, "{step}");
                        }
                    }
                    Learnt::Invalid => panic!("{a:?}"),
                }
            }
            12..=15 => {
                if let Some(o) = t.lookup(&a, now) {
                    let last = sent.get(&(a, o)).copied();
                    assert!(last.is_some_and(|l| age(now, l) <= 120), "{a:?} {o}");
                }
            }
            16 => now += rnd(8) as u32,
            17 => {
                t.remove_host(slot);
                assert_eq!(t.host_entries(slot), 0);
                sent.retain(|k, _| k.1 != slot);
            }
            18 => {
                t.expire(now, |s| s != 6);
                assert_eq!(t.host_entries(6), 0);
                for e in check(&t) {
                    assert!(age(now, e.last_use) <= 120);
                }
            }
            _ => {
                if rnd(100) == 0 {
                    t.clear();
                    sent.clear();
                }
            }
        }
        if step % 1000 == 0 {
            check(&t);
        }
    }
    check(&t);
    for r in [
        Learnt::Refreshed,
        Learnt::Added,
        Learnt::Conflict,
        Learnt::HostLimit,
        Learnt::Full,
    ] {
        assert!(seen.get(&r).copied().unwrap_or(0) > 50, "{r:?}: {seen:?}");
    }
}

/// Packet paths on several CPUs learn and look up while a writer
/// removes and expires: a lookup only ever names a host that sent that
/// SA, and once everything stops the counts equal the entries.
#[test]
fn concurrent_learners_and_writer() {
    use std::sync::atomic::AtomicBool;
    let s = store(256, 8, 64);
    let t = s.shared();
    let stop = AtomicBool::new(false);
    // SA i is sent by hosts i % 8 + 1 and, for i % 5 == 0, also by
    // host (i + 3) % 8 + 1 (conflicts).
    let senders = |spi: u32| {
        let i = spi - 0x1000;
        let a = (i % 8 + 1) as Slot;
        let b = ((i + 3) % 8 + 1) as Slot;
        (a, if i.is_multiple_of(5) { b } else { a })
    };
    std::thread::scope(|sc| {
        let mut hs = Vec::new();
        for cpu in 0..3u64 {
            let (t, stop) = (&t, &stop);
            hs.push(sc.spawn(move || {
                let mut x = cpu * 7919 + 1;
                let (mut hits, mut now) = (0u64, 1u32);
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let spi = 0x1000 + (x % 300) as u32;
                    let a = sa((x % 3) as u8 + 1, spi);
                    let (s1, s2) = senders(spi);
                    let slot = if x & 64 == 0 { s1 } else { s2 };
                    t.learn(&a, slot, now);
                    if let Some(o) = t.lookup(&a, now) {
                        assert!(o == s1 || o == s2, "{a:?} -> {o}");
                        hits += 1;
                    }
                    if x % 1000 == 0 {
                        now += 1;
                    }
                }
                hits
            }));
        }
        for i in 0..20_000u32 {
            match i % 100 {
                0 => {
                    t.remove_host((i / 100 % 8 + 1) as Slot);
                }
                1 => {
                    t.expire(i / 50, |s| s != 8 || i % 3 != 0);
                }
                _ => {
                    let a = sa(1, 0x1000 + i % 300);
                    if let Some(o) = t.lookup(&a, 1) {
                        let (s1, s2) = senders(a.spi);
                        assert!(o == s1 || o == s2);
                    }
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let hits: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
        assert!(hits > 1000, "{hits}");
    });
    let all = check(&t);
    for e in all {
        let (s1, s2) = senders(e.sa.spi);
        assert!(e.slot == s1 || e.slot == s2);
    }
}
