// SPDX-License-Identifier: GPL-2.0

//! Renewals, pins, leases, invalidations, revocation, pools and dumps.

use super::*;

#[test]
fn renewal_of_a_lost_spi_block_grants_it_back() {
    let mut s = with_pools(4, big(), (1000, 2000), (256, 10000));
    let mut t = s.table();
    t.request_spis(h(2), 16, 0, 1000).unwrap(); // 256..=271
                                                // Free and in the pool: granted exactly, as a new block.
    let g = t.renew(h(1), Kind::Spi, 0x1000, Some(16), 0, 1000).unwrap();
    assert_eq!((g.lowest, g.count), (0x1000, 16));
    assert_eq!(t.shared().owner_of_spi(0x100f), None); // published later
    t.renew(h(2), Kind::Spi, 0x2000, Some(16), 0, 1000).unwrap();
    // Another host's: not its owner.
    assert_eq!(
        t.renew(h(3), Kind::Spi, 260, Some(16), 0, 1000)
            .unwrap_err(),
        AllocError::NotOwner
    );
    // Partly taken, outside the pool, or without a count: refused.
    for (lowest, count) in [(0x1ff8, 16), (9990, 16), (100, 16)] {
        assert_eq!(
            t.renew(h(3), Kind::Spi, lowest, Some(count), 0, 1000)
                .unwrap_err(),
            AllocError::NotAllocated,
            "{lowest}+{count}"
        );
    }
    assert_eq!(
        t.renew(h(3), Kind::Spi, 0x2100, None, 0, 1000).unwrap_err(),
        AllocError::NotAllocated
    );
    // Ports are never granted by a renewal.
    assert_eq!(
        t.renew(h(3), Kind::Port, 1500, Some(10), 0, 1000)
            .unwrap_err(),
        AllocError::NotAllocated
    );
    // All of it or nothing: beyond the quota, refused without debris.
    let mut q = with_pools(
        4,
        Settings {
            default_quota: Quota {
                ports: 1000,
                spis: 8,
            },
            ..big()
        },
        (1000, 2000),
        (256, 10000),
    );
    let mut tq = q.table();
    assert_eq!(
        tq.renew(h(1), Kind::Spi, 0x1000, Some(16), 0, 1000)
            .unwrap_err(),
        AllocError::OverQuota
    );
    assert_eq!((tq.stats().retiring, tq.stats().spi_blocks), (0, 0));
    // A revoked host gets nothing.
    t.revoke_host(h(4), |_| {}).unwrap();
    assert_eq!(
        t.renew(h(4), Kind::Spi, 0x2400, Some(16), 0, 1000)
            .unwrap_err(),
        AllocError::Revoked
    );
}

#[test]
fn a_pin_ends_even_without_a_lease() {
    let settings = Settings {
        default_lease: 0,
        max_lease: 0,
        ..big()
    };
    let mut s = with_pools(4, settings, (1000, 2000), (256, 10000));
    let mut t = s.table();
    let p = t.request_ports(h(1), 10, true, 0, 1000).unwrap();
    assert_eq!(t.next_expiry(), None);
    t.pin(h(1), Kind::Port, p.lowest, 10, 60, 1000).unwrap();
    assert_eq!(t.next_expiry(), Some(1060));
    assert_eq!(
        t.invalidate_port(Some(h(1)), p.lowest as u16).unwrap_err(),
        AllocError::Pinned
    );
    assert_eq!(t.expire(1060, |_| panic!()), 0);
    assert_eq!(t.next_expiry(), None);
    t.invalidate_port(Some(h(1)), p.lowest as u16).unwrap();
}

#[test]
fn pins() {
    let settings = Settings {
        default_lease: 100,
        max_lease: 1000,
        ..big()
    };
    let mut s = with_pools(4, settings, (1000, 2000), (256, 10000));
    let mut t = s.table();
    let p = t.request_ports(h(1), 10, true, 0, 1000).unwrap();
    let q = t.request_spis(h(1), 16, 0, 1000).unwrap();
    // Only the holder, only inside one of its blocks.
    assert_eq!(
        t.pin(h(2), Kind::Port, p.lowest, 4, 500, 1000).unwrap_err(),
        AllocError::NotOwner
    );
    assert_eq!(
        t.pin(h(1), Kind::Port, p.lowest + 5, 6, 500, 1000)
            .unwrap_err(),
        AllocError::NotAllocated
    );
    assert_eq!(
        t.pin(h(1), Kind::Port, 5000, 1, 500, 1000).unwrap_err(),
        AllocError::NotAllocated
    );
    assert_eq!(
        t.pin(h(1), Kind::Port, p.lowest, 0, 500, 1000).unwrap_err(),
        AllocError::NotAllocated
    );
    // A pin past the lease extends it; renewals never shorten it.
    let i = t.pin(h(1), Kind::Port, p.lowest + 2, 8, 500, 1000).unwrap();
    assert_eq!((i.pinned, i.expires), (Some(1500), Some(1500)));
    let r = t.renew(h(1), Kind::Port, p.lowest, None, 0, 1100).unwrap();
    assert_eq!(r.expires, Some(1500));
    t.pin(h(1), Kind::Spi, q.lowest, 16, 50, 1000).unwrap();
    // The host cannot give pinned blocks back, one by one or all at once.
    assert_eq!(
        t.invalidate_block(Some(h(1)), Kind::Port, p.lowest, Some(10))
            .unwrap_err(),
        AllocError::Pinned
    );
    assert_eq!(
        t.invalidate_port(Some(h(1)), p.lowest as u16).unwrap_err(),
        AllocError::Pinned
    );
    // The SPI pin runs out at 1050: the lease (1100) ends the block.
    assert_eq!(t.expire(1099, |_| panic!()), 0);
    assert_eq!(t.expire(1100, |_| {}), 1);
    // The port block outlives its lease until the pin ends.
    assert_eq!(t.expire(1499, |_| panic!()), 0);
    assert_eq!(t.shared().owner_of_port(p.lowest as u16), t.find_host(h(1)));
    // A pin's end is an expiry event: the tick clears it then, even
    // when no lease ends.
    assert_eq!(t.next_expiry(), Some(1500));
    // Unpinned, the host may give it back.
    let i = t.pin(h(1), Kind::Port, p.lowest, 10, 0, 1200).unwrap();
    assert_eq!(i.pinned, None);
    t.invalidate_block(Some(h(1)), Kind::Port, p.lowest, Some(10))
        .unwrap();
    // The host's own invalidate-all gives up pinned blocks too.
    let p3 = t.request_ports(h(2), 10, true, 0, 1200).unwrap();
    t.pin(h(2), Kind::Port, p3.lowest, 10, 500, 1200).unwrap();
    assert_eq!(t.invalidate_host(h(2), None, |_| {}).unwrap(), 1);
    // The administrator's revocation drops pinned blocks.
    let p = t.request_ports(h(3), 10, true, 0, 2000).unwrap();
    t.pin(h(3), Kind::Port, p.lowest, 10, 500, 2000).unwrap();
    assert_eq!(t.revoke_host(h(3), |_| {}).unwrap(), 1);
    // A grant of a block that was pinned starts unpinned.
    t.readmit_host(h(3)).unwrap();
    let p2 = t.request_ports(h(3), 10, true, 0, 2000).unwrap();
    let b = t
        .host_blocks(t.find_host(h(3)).unwrap())
        .find(|(_, b)| b.lowest == p2.lowest)
        .unwrap();
    assert_eq!(b.1.pinned, None);
}

#[test]
fn leases() {
    let settings = Settings {
        default_lease: 100,
        max_lease: 1000,
        ..big()
    };
    assert_eq!(settings.lease_for(0), 100);
    assert_eq!(settings.lease_for(50), 50);
    assert_eq!(settings.lease_for(5000), 1000);
    let none = Settings {
        default_lease: 0,
        max_lease: 0,
        ..big()
    };
    assert_eq!(none.lease_for(0), 0);
    assert_eq!(none.lease_for(7), 7);
    let capped = Settings {
        default_lease: 0,
        max_lease: 60,
        ..big()
    };
    assert_eq!(capped.lease_for(0), 60);

    let mut s = with_pools(4, settings, (1000, 2000), (256, 10000));
    let mut t = s.table();
    let a = t.request_ports(h(1), 10, true, 0, 1000).unwrap();
    assert_eq!((a.lease, a.expires), (100, Some(1100)));
    let b = t.request_spis(h(2), 10, 500, 1000).unwrap();
    assert_eq!((b.lease, b.expires), (500, Some(1500)));
    let c = t.request_ports(h(2), 10, true, 30, 1000).unwrap();
    assert_eq!(c.expires, Some(1030));
    assert_eq!(t.next_expiry(), Some(1030));
    assert_eq!(t.expire(1029, |_| panic!()), 0);
    let mut seen = Vec::new();
    assert_eq!(t.expire(1030, |b| seen.push(*b)), 1);
    assert_eq!(seen[0].lowest, c.lowest);
    assert!(seen[0].retiring);
    assert_eq!(t.shared().owner_of_port(c.lowest as u16), None);
    // Renew one block, then all of a host.
    let r = t.renew(h(1), Kind::Port, 1000, Some(10), 0, 1090).unwrap();
    assert_eq!(r.expires, Some(1190));
    assert_eq!(
        t.renew(h(2), Kind::Port, 1000, None, 0, 1090).unwrap_err(),
        AllocError::NotOwner
    );
    assert_eq!(
        t.renew(h(1), Kind::Port, 1000, Some(9), 0, 1090)
            .unwrap_err(),
        AllocError::NotAllocated
    );
    assert_eq!(
        t.renew(h(1), Kind::Port, 1001, None, 0, 1090).unwrap_err(),
        AllocError::NotAllocated
    );
    assert_eq!(
        t.renew(h(2), Kind::Port, c.lowest, None, 0, 1090)
            .unwrap_err(),
        AllocError::NotAllocated,
        "an expired block cannot be renewed"
    );
    assert_eq!(t.renew_host(h(2), 2000, 1100).unwrap(), 1);
    assert_eq!(t.next_expiry(), Some(1190));
    assert_eq!(t.expire(1190, |_| {}), 1);
    assert_eq!(t.next_expiry(), Some(2100));
    assert_eq!(t.expire(u64::MAX - 1, |_| {}), 1);
    assert_eq!(t.next_expiry(), None);
    grace(&mut t);
    assert_eq!(t.stats(), Stats::default());
    // No expiry at all.
    t.set_settings(none);
    let d = t.request_ports(h(1), 1, true, 0, 5).unwrap();
    assert_eq!((d.lease, d.expires), (0, None));
    assert_eq!(t.expire(u64::MAX, |_| {}), 0);
    check(&mut s);
}

#[test]
fn every_invalidate_kind() {
    let mut s = with_pools(4, big(), (1000, 2000), (256, 10000));
    let mut t = s.table();
    let p1 = t.request_ports(h(1), 10, true, 0, 0).unwrap();
    let p2 = t.request_ports(h(2), 10, true, 0, 0).unwrap();
    let s1 = t.request_spis(h(1), 10, 0, 0).unwrap();
    let s2 = t.request_spis(h(2), 10, 0, 0).unwrap();
    grace(&mut t);
    let sh = t.shared();
    assert_eq!(sh.spi_owner(s1.lowest + 9), Some((1, h(1))));
    assert_eq!(sh.spi_owner(s2.lowest), Some((2, h(2))));
    assert_eq!(sh.spi_owner(s2.lowest + 10), None);
    assert_eq!(sh.spi_owner(255), None);

    // One port: the owner or the administrator, not another host.
    assert_eq!(
        t.invalidate_port(Some(h(2)), 1005).unwrap_err(),
        AllocError::NotOwner
    );
    assert_eq!(
        t.invalidate_port(Some(h(9)), 1005).unwrap_err(),
        AllocError::NotOwner
    );
    assert_eq!(
        t.invalidate_port(None, 999).unwrap_err(),
        AllocError::NotAllocated
    );
    let i = t.invalidate_port(Some(h(1)), 1005).unwrap();
    assert_eq!((i.lowest, i.count, i.host), (p1.lowest, 10, h(1)));
    assert_eq!(
        t.invalidate_port(Some(h(1)), 1005).unwrap_err(),
        AllocError::NotAllocated
    );
    for p in 1000..1010 {
        assert_eq!(sh.owner_of_port(p), None);
    }
    assert_eq!(sh.owner_of_port(1010), Some(2));

    // One SPI.
    assert_eq!(
        t.invalidate_spi(Some(h(1)), s2.lowest + 3).unwrap_err(),
        AllocError::NotOwner
    );
    let i = t.invalidate_spi(Some(h(2)), s2.lowest + 3).unwrap();
    assert_eq!((i.kind, i.lowest), (Kind::Spi, s2.lowest));
    grace(&mut t);
    assert_eq!(sh.owner_of_spi(s2.lowest), None);
    assert_eq!(sh.owner_of_spi(s1.lowest), Some(1));

    // A block: exact lowest and count.
    assert_eq!(
        t.invalidate_block(None, Kind::Port, p2.lowest + 1, None)
            .unwrap_err(),
        AllocError::NotAllocated
    );
    assert_eq!(
        t.invalidate_block(None, Kind::Port, p2.lowest, Some(11))
            .unwrap_err(),
        AllocError::NotAllocated
    );
    t.invalidate_block(Some(h(2)), Kind::Port, p2.lowest, Some(10))
        .unwrap();
    assert_eq!(sh.owner_of_port(p2.lowest as u16), None);

    // All of a host, by scope.
    t.request_ports(h(1), 5, true, 0, 0).unwrap();
    assert_eq!(t.invalidate_host(h(1), Some(Kind::Spi), |_| {}), Ok(1));
    assert_eq!(t.host(h(1)).unwrap().port_blocks, 1);
    assert_eq!(t.invalidate_host(h(1), None, |_| {}), Ok(1));
    assert_eq!(
        t.invalidate_host(h(7), None, |_| {}),
        Err(AllocError::UnknownHost)
    );
    grace(&mut t);
    assert_eq!(t.stats(), Stats::default());

    // Everything.
    for n in 1..=4 {
        t.request_ports(h(n), 7, n % 2 == 0, 0, 0)
            .unwrap_or_else(|_| t.request_ports(h(n), 7, true, 0, 0).unwrap());
        t.request_spis(h(n), 7, 0, 0).unwrap();
    }
    grace(&mut t);
    let mut n = 0;
    assert_eq!(t.invalidate_all(Some(Kind::Port), |_| n += 1), 4);
    assert_eq!(n, 4);
    assert_eq!(t.stats().port_blocks, 0);
    assert_eq!(t.stats().spi_blocks, 4);
    assert_eq!(t.invalidate_all(None, |_| {}), 4);
    grace(&mut t);
    assert_eq!(t.stats(), Stats::default());
    for p in 0..=u16::MAX {
        assert_eq!(sh.owner_of_port(p), None);
    }
    check(&mut s);
}

#[test]
fn revoke_and_readmit() {
    let mut s = with_pools(4, big(), (1000, 2000), (256, 10000));
    let mut t = s.table();
    t.request_ports(h(1), 10, true, 0, 0).unwrap();
    t.request_ports(h(1), 10, true, 0, 0).unwrap();
    t.request_spis(h(1), 10, 0, 0).unwrap();
    let mut got = Vec::new();
    assert_eq!(t.revoke_host(h(1), |b| got.push(b.kind)), Ok(3));
    assert_eq!(got, [Kind::Port, Kind::Port, Kind::Spi]);
    assert_eq!(t.shared().owner_of_port(1000), None);
    assert_eq!(
        t.request_ports(h(1), 1, true, 0, 0).unwrap_err(),
        AllocError::Revoked
    );
    assert_eq!(
        t.request_spis(h(1), 1, 0, 0).unwrap_err(),
        AllocError::Revoked
    );
    grace(&mut t);
    // The revocation survives the reclaim (the slot stays).
    assert!(t.host(h(1)).unwrap().revoked);
    assert_eq!(
        t.request_ports(h(1), 1, true, 0, 0).unwrap_err(),
        AllocError::Revoked
    );
    // An unknown host can be revoked beforehand.
    assert_eq!(t.revoke_host(h(2), |_| {}), Ok(0));
    assert_eq!(
        t.request_spis(h(2), 1, 0, 0).unwrap_err(),
        AllocError::Revoked
    );
    t.readmit_host(h(1)).unwrap();
    assert_eq!(t.find_host(h(1)), None, "idle readmitted host freed");
    assert_eq!(t.request_ports(h(1), 1, true, 0, 0).unwrap().lowest, 1000);
    assert_eq!(t.readmit_host(h(9)), Err(AllocError::UnknownHost));
    t.readmit_host(h(2)).unwrap();
    assert_eq!(t.stats().hosts, 1);
    check(&mut s);
}

#[test]
fn set_pools_retires_outside() {
    let mut s = with_pools(4, big(), (1000, 2000), (256, 10000));
    let mut t = s.table();
    t.request_ports(h(1), 100, true, 0, 0).unwrap();
    t.request_ports(h(1), 100, true, 0, 0).unwrap();
    t.request_spis(h(1), 100, 0, 0).unwrap();
    let n = t.set_pools(
        Some(Range {
            min: 1050,
            max: 2000,
        }),
        Some(Range {
            min: 256,
            max: 10000,
        }),
        |b| assert_eq!(b.lowest, 1000),
    );
    assert_eq!(n, 1);
    grace(&mut t);
    let g = t.request_ports(h(2), 100, true, 0, 0).unwrap();
    assert_eq!(g.lowest, 1200);
    assert_eq!(t.set_pools(None, None, |_| {}), 3);
    assert_eq!(t.pools(), (None, None));
    check(&mut s);
}

#[test]
fn dump_cursor_resumes() {
    let mut s = with_pools(8, big(), (1000, 5000), (256, 10000));
    let mut t = s.table();
    for n in 1..=6u8 {
        for _ in 0..n {
            t.request_ports(h(n), 3, true, 0, 0).unwrap();
        }
        t.request_spis(h(n), 5, 0, 0).unwrap();
    }
    t.invalidate_host(h(3), None, |_| {}).unwrap();
    grace(&mut t);
    t.invalidate_port(None, 1000).unwrap(); // one retiring block shows
    let all: Vec<_> = t.blocks_from(Cursor::START).map(|(_, b)| b).collect();
    assert_eq!(all.len(), 21 + 6 - 3 - 1);
    assert_eq!(all.iter().filter(|b| b.retiring).count(), 1);
    // Dump in parts of 4 entries, resuming from the first that did not fit.
    let mut got = Vec::new();
    let mut cur = Cursor::START;
    let mut parts = 0;
    loop {
        parts += 1;
        let mut room = 4;
        let mut next = None;
        for (c, b) in t.blocks_from(Cursor::from_raw(cur.raw())) {
            if room == 0 {
                next = Some(c);
                break;
            }
            got.push(b);
            room -= 1;
        }
        match next {
            Some(c) => cur = c,
            None => break,
        }
    }
    assert_eq!(got, all);
    assert_eq!(parts, all.len().div_ceil(4));
    // In windows of 5 positions (the bound a lock holder puts on one
    // scan), which together list every block once.
    let end = t.blocks_from(Cursor::START).end();
    let mut windows = Vec::new();
    for w in (0..end).step_by(5) {
        let part = t.blocks_from(Cursor::from_raw(w)).until(w + 5);
        assert!(part.end() <= w + 5);
        for (c, b) in part {
            assert!((w..w + 5).contains(&c.raw()));
            windows.push(b);
        }
    }
    assert_eq!(windows, all);
    assert_eq!(t.blocks_from(Cursor::from_raw(3)).until(3).count(), 0);
    // One host's blocks and the host list.
    let s5 = t.find_host(h(5)).unwrap();
    let b5: Vec<_> = t.host_blocks(s5).map(|(_, b)| b).collect();
    assert_eq!(b5.len(), 6);
    assert!(b5.iter().all(|b| b.host == h(5)));
    assert_eq!(t.host_blocks(0).count(), 0);
    assert_eq!(t.host_blocks(99).count(), 0);
    let hosts: Vec<_> = t.hosts_from(0).map(|i| i.addr).collect();
    assert_eq!(hosts, [h(1), h(2), h(4), h(5), h(6)]);
    let later: Vec<_> = t.hosts_from(4).map(|i| i.addr).collect();
    assert_eq!(later, [h(4), h(5), h(6)]);
    check(&mut s);
}
