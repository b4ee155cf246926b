// SPDX-License-Identifier: GPL-2.0

//! Random operations against a model, and readers racing a writer.

use super::*;

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
