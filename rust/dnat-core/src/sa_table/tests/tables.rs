// SPDX-License-Identifier: GPL-2.0

//! Blacklists, removals, dumps, layouts, verdicts and memory.

use super::*;

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
