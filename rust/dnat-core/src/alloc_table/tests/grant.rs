// SPDX-License-Identifier: GPL-2.0

//! Requests, grants, quotas and the grace protocol.

use super::*;

#[test]
fn first_fit_and_partial_grants() {
    let mut s = with_pools(8, big(), (1024, 1099), (256, 1000));
    let mut t = s.table();
    let a = t.request_ports(h(1), 16, true, 0, 0).unwrap();
    assert_eq!((a.lowest, a.count, a.slot), (1024, 16, 1));
    let b = t.request_ports(h(2), 16, true, 0, 0).unwrap();
    assert_eq!((b.lowest, b.count, b.slot), (1040, 16, 2));
    let c = t.request_ports(h(1), 16, true, 0, 0).unwrap();
    assert_eq!(c.lowest, 1056);
    // Free the middle block: first fit reuses the hole for what fits.
    t.invalidate_block(None, Kind::Port, 1040, Some(16))
        .unwrap();
    grace(&mut t);
    let d = t.request_ports(h(3), 8, true, 0, 0).unwrap();
    assert_eq!((d.lowest, d.count), (1040, 8));
    // Host 2 held nothing more: its slot was freed and reused.
    assert_eq!((t.find_host(h(2)), d.slot), (None, 2));
    // 1072..=1099 (28) is the largest run; 1048..=1055 (8) is first.
    let e = t.request_ports(h(3), 20, true, 0, 0).unwrap();
    assert_eq!((e.lowest, e.count), (1072, 20));
    let f = t.request_ports(h(3), 20, true, 0, 0).unwrap();
    assert_eq!((f.lowest, f.count), (1048, 8), "partial: largest run");
    let g = t.request_ports(h(3), 20, true, 0, 0).unwrap();
    assert_eq!((g.lowest, g.count), (1092, 8));
    assert_eq!(
        t.request_ports(h(4), 1, true, 0, 0).unwrap_err(),
        AllocError::NoSpace
    );
    // The failed request of an unknown host leaves no slot behind.
    assert_eq!(t.find_host(h(4)), None);
    assert_eq!(t.shared().port_owner(1050), Some((2, h(3))));
    assert_eq!(t.shared().port_owner(1024), Some((1, h(1))));
    assert_eq!(t.shared().owner_of_port(1100), None);
    // SPIs too.
    let x = t.request_spis(h(1), 100, 0, 0).unwrap();
    assert_eq!((x.lowest, x.count), (256, 100));
    let y = t.request_spis(h(2), 1000, 0, 0).unwrap();
    assert_eq!((y.lowest, y.count), (356, 645), "partial SPI grant");
    check(&mut s);
}

#[test]
fn request_errors() {
    let mut s = Store::new(2, Settings::DEFAULT);
    let mut t = s.table();
    assert_eq!(
        t.request_ports(h(1), 1, false, 0, 0).unwrap_err(),
        AllocError::NotConfigured
    );
    assert_eq!(
        t.request_spis(h(1), 1, 0, 0).unwrap_err(),
        AllocError::NotConfigured
    );
    t.set_pools(
        Some(Range {
            min: 20000,
            max: 20100,
        }),
        Some(Range { min: 256, max: 300 }),
        |_| {},
    );
    assert_eq!(
        t.request_ports(h(1), 0, false, 0, 0).unwrap_err(),
        AllocError::ZeroCount
    );
    assert_eq!(
        t.request_spis(h(1), 0, 0, 0).unwrap_err(),
        AllocError::ZeroCount
    );
    assert_eq!(
        t.request_ports(h(1), 1, true, 0, 0).unwrap_err(),
        AllocError::PoolSideEmpty
    );
    assert_eq!(
        t.request_ports(Ipv4Addr::UNSPECIFIED, 1, false, 0, 0)
            .unwrap_err(),
        AllocError::BadHost
    );
    t.request_ports(h(1), 1, false, 0, 0).unwrap();
    t.request_ports(h(2), 1, false, 0, 0).unwrap();
    assert_eq!(
        t.request_ports(h(3), 1, false, 0, 0).unwrap_err(),
        AllocError::HostTableFull
    );
    assert_eq!(AllocError::OverQuota.errno(), 122);
    assert_eq!(AllocError::NoSpace.errno(), 28);
    check(&mut s);
}

#[test]
fn below_and_above_10000() {
    let mut s = with_pools(4, big(), (9990, 10009), (256, 511));
    let mut t = s.table();
    let lo = t.request_ports(h(1), 4, true, 0, 0).unwrap();
    assert_eq!((lo.lowest, lo.count), (9990, 4));
    let hi = t.request_ports(h(1), 4, false, 0, 0).unwrap();
    assert_eq!((hi.lowest, hi.count), (10000, 4));
    // Partial on the low side never crosses 10000.
    let lo2 = t.request_ports(h(2), 50, true, 0, 0).unwrap();
    assert_eq!((lo2.lowest, lo2.count), (9994, 6));
    assert_eq!(
        t.request_ports(h(2), 1, true, 0, 0).unwrap_err(),
        AllocError::NoSpace
    );
    let hi2 = t.request_ports(h(2), 50, false, 0, 0).unwrap();
    assert_eq!((hi2.lowest, hi2.count), (10004, 6));
    assert_eq!(
        t.request_ports(h(2), 1, false, 0, 0).unwrap_err(),
        AllocError::NoSpace
    );
    // Retiring ports on the high side: a low request has no space, a
    // high one is told to retry after the grace period.
    t.invalidate_port(None, 10001).unwrap();
    assert_eq!(
        t.request_ports(h(2), 1, true, 0, 0).unwrap_err(),
        AllocError::NoSpace
    );
    assert_eq!(
        t.request_ports(h(2), 1, false, 0, 0).unwrap_err(),
        AllocError::ReclaimPending
    );
    grace(&mut t);
    assert_eq!(t.request_ports(h(2), 9, false, 0, 0).unwrap().lowest, 10000);
    // Port 0 is never granted even if the pool says so.
    t.set_pools(Some(Range { min: 0, max: 3 }), None, |_| {});
    let z = t.request_ports(h(3), 10, true, 0, 0).unwrap();
    assert_eq!((z.lowest, z.count), (1, 3));
    assert_eq!(
        t.request_ports(h(3), 10, false, 0, 0).unwrap_err(),
        AllocError::PoolSideEmpty
    );
    check(&mut s);
}

#[test]
fn quotas() {
    let settings = Settings {
        default_quota: Quota { ports: 20, spis: 5 },
        ..Settings::DEFAULT
    };
    let mut s = with_pools(4, settings, (1000, 2000), (256, 10000));
    let mut t = s.table();
    assert_eq!(t.request_ports(h(1), 16, true, 0, 0).unwrap().count, 16);
    assert_eq!(t.request_ports(h(1), 16, true, 0, 0).unwrap().count, 4);
    assert_eq!(
        t.request_ports(h(1), 1, true, 0, 0).unwrap_err(),
        AllocError::OverQuota
    );
    assert_eq!(t.request_spis(h(1), 9, 0, 0).unwrap().count, 5);
    assert_eq!(
        t.request_spis(h(1), 1, 0, 0).unwrap_err(),
        AllocError::OverQuota
    );
    // Own quota, then back to the default.
    t.set_quota(h(1), Some(Quota { ports: 30, spis: 0 }))
        .unwrap();
    assert_eq!(t.request_ports(h(1), 16, true, 0, 0).unwrap().count, 10);
    let i = t.host(h(1)).unwrap();
    assert_eq!((i.ports, i.spis, i.custom_quota), (30, 5, true));
    assert_eq!(i.quota, Quota { ports: 30, spis: 0 });
    t.set_quota(h(1), None).unwrap();
    assert_eq!(t.host(h(1)).unwrap().quota, settings.default_quota);
    // A quota for an unknown host admits it; clearing it frees the slot.
    t.set_quota(h(2), Some(Quota { ports: 1, spis: 1 }))
        .unwrap();
    assert_eq!(t.find_host(h(2)), Some(2));
    assert_eq!(t.request_ports(h(2), 5, true, 0, 0).unwrap().count, 1);
    t.set_quota(h(3), Some(Quota { ports: 1, spis: 1 }))
        .unwrap();
    t.set_quota(h(3), None).unwrap();
    assert_eq!(t.find_host(h(3)), None);
    assert_eq!(t.stats().hosts, 2);
    check(&mut s);
}

#[test]
fn kept_slots_outlive_idleness() {
    let mut s = with_pools(2, big(), (1000, 2000), (256, 10000));
    let mut t = s.table();
    // Kept: admitted, and not freed when its last block goes.
    assert_eq!(t.keep(h(1), true), Ok(Some(1)));
    let g = t.request_ports(h(1), 4, true, 0, 0).unwrap();
    t.invalidate_block(None, Kind::Port, g.lowest, Some(4))
        .unwrap();
    grace(&mut t);
    assert_eq!(t.find_host(h(1)), Some(1));
    // Let go: the idle slot is freed at once; unknown hosts are no-ops.
    assert_eq!(t.keep(h(1), false), Ok(None));
    assert_eq!(t.find_host(h(1)), None);
    assert_eq!(t.keep(h(2), false), Ok(None));
    // A kept slot that still holds something stays when let go.
    t.keep(h(2), true).unwrap();
    t.request_ports(h(2), 4, true, 0, 0).unwrap();
    assert_eq!(t.keep(h(2), false), Ok(Some(1)));
    // A full table refuses a new kept host.
    t.keep(h(3), true).unwrap();
    assert_eq!(t.keep(h(4), true), Err(AllocError::HostTableFull));
    assert_eq!(t.keep(h(5), true).unwrap_err(), AllocError::HostTableFull);
    check(&mut s);
}

#[test]
fn too_many_blocks_then_reclaim() {
    let mut s = with_pools(2, big(), (1000, 3000), (256, 10000));
    let mut t = s.table();
    for i in 0..PORT_BLOCKS_PER_HOST as u32 {
        let g = t.request_ports(h(1), 2, true, 0, 0).unwrap();
        assert_eq!(g.lowest, 1000 + 2 * i);
    }
    assert_eq!(
        t.request_ports(h(1), 2, true, 0, 0).unwrap_err(),
        AllocError::TooManyBlocks
    );
    t.invalidate_port(Some(h(1)), 1001).unwrap();
    assert_eq!(t.shared().owner_of_port(1000), None);
    assert_eq!(
        t.request_ports(h(1), 2, true, 0, 0).unwrap_err(),
        AllocError::ReclaimPending
    );
    assert_eq!(t.host(h(1)).unwrap().retiring, 1);
    assert_eq!(grace(&mut t), 1);
    let g = t.request_ports(h(1), 2, true, 0, 0).unwrap();
    assert_eq!(g.lowest, 1000);
    check(&mut s);
}

#[test]
fn grace_protocol() {
    let mut s = with_pools(4, big(), (1000, 1007), (256, 259));
    let mut t = s.table();
    assert!(t.start_grace().is_none());
    t.request_ports(h(1), 4, true, 0, 0).unwrap();
    t.request_ports(h(2), 4, true, 0, 0).unwrap();
    // The first SPI grant is published at once (flip 1).
    t.request_spis(h(1), 4, 0, 0).unwrap();
    assert_eq!(t.shared().owner_of_spi(256), Some(1));
    assert!(!t.stats().spi_publish_pending);
    t.invalidate_host(h(1), None, |_| {}).unwrap();
    // Ports are unpublished at once...
    assert_eq!(t.shared().owner_of_port(1000), None);
    // ...the SPI block at the next publication: the inactive buffer may
    // still be read, so readers keep seeing the old owner.
    assert!(t.stats().spi_publish_pending);
    assert_eq!(t.shared().spi_owner(257), Some((1, h(1))));
    let tok = t.start_grace().unwrap();
    // A retirement after the token is not covered by it.
    t.invalidate_port(Some(h(2)), 1004).unwrap();
    assert_eq!(t.finish_grace(tok), 1);
    assert_eq!(t.request_ports(h(3), 8, true, 0, 0).unwrap().lowest, 1000);
    assert_eq!(
        t.request_ports(h(3), 1, true, 0, 0).unwrap_err(),
        AllocError::ReclaimPending
    );
    // The SPI publication happened; the SPI block itself now waits.
    assert_eq!(t.shared().owner_of_spi(257), None);
    assert_eq!(
        t.request_spis(h(3), 1, 0, 0).unwrap_err(),
        AllocError::ReclaimPending
    );
    // Host 1 keeps its slot (and address) until its last block is freed.
    assert_eq!(t.find_host(h(1)), Some(1));
    assert_eq!(t.shared().host_addr(1), Some(h(1)));
    assert_eq!(grace(&mut t), 2);
    assert_eq!(t.find_host(h(1)), None);
    assert_eq!(t.shared().host_addr(1), None);
    assert_eq!(t.find_host(h(2)), None);
    assert_eq!(t.request_spis(h(3), 1, 0, 0).unwrap().lowest, 256);
    // The grant was published right away (the buffer was free).
    assert_eq!(t.shared().owner_of_spi(256), Some(3));
    // A second grant waits for the next grace period to be routable.
    t.request_spis(h(3), 1, 0, 0).unwrap();
    assert_eq!(t.shared().owner_of_spi(257), None);
    assert!(t.needs_grace());
    grace(&mut t);
    assert_eq!(t.shared().owner_of_spi(257), Some(3));
    // A forged token from the future is clamped to the last one issued.
    t.invalidate_port(None, 1000).unwrap();
    assert_eq!(t.finish_grace(GraceToken::from_raw(u64::MAX)), 0);
    assert_eq!(t.stats().retiring, 1);
    assert_eq!(GraceToken::from_raw(5).raw(), 5);
    check(&mut s);
}
