// SPDX-License-Identifier: GPL-2.0

//! Getting and keeping blocks: grants, renewals, retransmissions, router
//! restarts and refusals.

use super::*;

#[test]
fn request_grant_renew_expiry() {
    let mut n = Net::new(cfg());
    n.tick();
    // Ports first, then SPIs, each granted at once.
    assert!(is_port_request(&n.sent[0].1));
    match n.sent[0].1 {
        Message::PortRequest {
            class: PortClass::High,
            count: 32,
            ext: Some(e),
        } => assert_eq!((e.epoch, e.lease), (0, 0)),
        ref m => panic!("{m:?}"),
    }
    assert!(matches!(
        n.sent[1].1,
        Message::SpiRequest {
            count: 256,
            ext: Some(Trailer { epoch: EPOCH, .. })
        }
    ));
    assert_eq!(n.c.epoch(), EPOCH);
    let p = n.ports();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].block, pb(20000, 32));
    assert_eq!(
        (p[0].lease, p[0].expires_at, p[0].renew_at),
        (LEASE, Some(1060), Some(1030))
    );
    assert_eq!(p[0].expires_in(1001), Some(59));
    let s = n.spis();
    assert_eq!(
        (s[0].block.lowest, s[0].block.count, s[0].expires_at),
        (0x1000, 256, Some(1060))
    );
    assert!(n.c.owns_port(20031) && !n.c.owns_port(20032));
    assert!(n.c.owns_spi(0x1000) && !n.c.owns_spi(0x1100));
    assert_eq!(n.c.stat(Stat::Granted), 2);
    assert_eq!(n.changes.len(), 2);
    assert_eq!(n.c.next_timeout(), Some(30));

    // Renewal at half the lease, with the block as granted.
    n.run(29);
    assert_eq!(n.sent.len(), 2);
    n.run(1);
    assert_eq!(n.sent.len(), 4);
    assert!(matches!(n.sent[2].1, Message::PortRenew { block, .. } if block == pb(20000, 32)));
    assert!(matches!(n.sent[3].1, Message::SpiRenew { .. }));
    assert_eq!(n.c.stat(Stat::Renewed), 2);
    assert_eq!(n.ports()[0].expires_at, Some(1090));
    assert_eq!(n.spis()[0].expires_at, Some(1090));
    assert_eq!(n.changes.len(), 2, "a renewal changes no table");

    // The router goes away: renewals are retried until the lease ends,
    // then the blocks are dropped, the router drops them too.
    n.down = true;
    n.run(59);
    assert_eq!(n.ports().len(), 1);
    assert!(n.count(|m| matches!(m, Message::PortRenew { .. })) > 3);
    n.run(1);
    assert!(n.ports().is_empty() && n.spis().is_empty());
    assert_eq!(n.c.stat(Stat::Expired), 2);
    assert_eq!(
        n.changes.last(),
        Some(&Changes {
            ports: true,
            spis: true,
            ..Changes::NONE
        })
    );
    n.r.s.t().expire(u64::from(n.now), |_| {});
    assert_eq!((n.r.host_ports(), n.r.host_spis()), (0, 0));

    // It comes back: found again within one silent interval.
    n.down = false;
    n.run(21);
    assert_eq!(n.ports().len(), 1);
    assert_eq!(n.spis().len(), 1);
}

#[test]
fn lost_reply_is_retransmitted_with_the_same_xid_and_granted_once() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.lose_replies = 1;
    n.tick();
    assert!(n.ports().is_empty());
    assert_eq!(n.r.host_ports(), 32);
    n.run(1);
    assert_eq!(n.sent.len(), 2);
    assert_eq!(xid(&n.sent[0].1), xid(&n.sent[1].1));
    assert_eq!(n.ports().len(), 1);
    // The router answered from its reply cache: still one block.
    assert_eq!(n.r.host_ports(), 32);
    assert_eq!(n.c.stat(Stat::Retransmits), 1);
    // The lease counts from the first transmission.
    assert_eq!(n.ports()[0].expires_at, Some(1000 + LEASE));
    // A late duplicate of that reply matches nothing.
    let dup = Message::PortResponse {
        result: Ok(pb(20000, 32)),
        ext: Some(Trailer {
            xid: xid(&n.sent[0].1),
            epoch: EPOCH,
            lease: LEASE,
        }),
    };
    assert_eq!(n.deliver(&dup), Event::Ignored(Ignored::Unmatched));
    assert_eq!(n.c.stat(Stat::Granted), 1);
}

#[test]
fn backoff_then_silent_router_is_still_found() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.down = true;
    n.tick();
    n.run(200);
    let times: Vec<u32> = n.sent.iter().map(|(t, _)| *t).collect();
    let gaps: Vec<u32> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // 1, 2, 4 +-1, 8 +-2, then 16 +-4 (the last wait of the first
    // transaction, then one transmission per silent transaction).
    assert_eq!(&gaps[..2], &[1, 2]);
    assert!((3..=5).contains(&gaps[2]), "{gaps:?}");
    assert!((6..=10).contains(&gaps[3]), "{gaps:?}");
    assert!(gaps[4..].iter().all(|g| (12..=20).contains(g)), "{gaps:?}");
    assert!(gaps.len() > 10);
    // The same transaction for up to XID_REUSE_MAX seconds, then a
    // new one.
    let x0 = xid(&n.sent[0].1);
    for (t, m) in &n.sent {
        assert_eq!(xid(m) == x0, *t < 1000 + XID_REUSE_MAX, "{t}");
    }
    assert!(n.c.stat(Stat::GivenUp) >= 2);
    assert_eq!(
        n.c.outstanding().map(|m| xid(&m)),
        Some(xid(&n.sent.last().unwrap().1))
    );
    n.down = false;
    n.run(20);
    assert_eq!(n.ports().len(), 1);
    assert_eq!(n.r.host_ports(), 32);
    // A fresh lease.
    assert!(n.ports()[0].expires_in(n.now).unwrap() > LEASE - 21);
    // Heard from the router: the back-off starts at 1 s again.
    let before = n.sent.len();
    n.in_use = 30;
    n.down = true;
    n.run(4);
    assert_eq!(n.sent.len() - before, 3, "{:?}", &n.sent[before..]);
}

#[test]
fn router_restart_broadcast_then_request_again() {
    let mut n = Net::new(cfg());
    n.tick();
    assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
    let b = n.r.restart(0x77c1_0002);
    let ev = n.deliver(&b);
    assert_eq!(
        ev,
        Event::Changed(Changes {
            ports: true,
            spis: true,
            sas: true,
            epoch: true
        })
    );
    assert!(n.ports().is_empty() && n.spis().is_empty());
    assert_eq!(n.c.epoch(), 0x77c1_0002);
    assert_eq!(n.c.stat(Stat::EpochChanges), 1);
    // Ports at once; SPIs after the grace left to hosts that ask their
    // old SPI blocks back.
    n.run(1);
    assert_eq!((n.ports().len(), n.spis().len()), (1, 0));
    n.run(RECLAIM_GRACE);
    assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
    assert_eq!(n.sent[2].1.ext().unwrap().epoch, 0x77c1_0002);
    // The same broadcast again changes nothing more.
    assert!(matches!(
        n.deliver(&b),
        Event::Changed(Changes {
            epoch: false,
            ports: true,
            ..
        })
    ));
}

#[test]
fn missed_restart_is_noticed_in_the_next_reply() {
    let mut n = Net::new(cfg());
    n.tick();
    let _ = n.r.restart(0x77c1_0002); // broadcast lost
    n.run(30);
    // The renewal is refused (not_owned) with the new epoch: the client
    // drops everything and asks again at once (SPIs after the grace).
    n.run(RECLAIM_GRACE);
    assert_eq!(n.c.stat(Stat::EpochChanges), 1);
    assert!(n
        .events
        .iter()
        .any(|e| matches!(e, Event::Changed(Changes { epoch: true, .. }))));
    assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
    assert_eq!(n.c.epoch(), 0x77c1_0002);
    assert_eq!((n.r.host_ports(), n.r.host_spis()), (32, 256));
}

#[test]
fn restart_while_a_request_is_outstanding_rekeys_it() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.tick();
    n.in_use = 30;
    n.lose_requests = 1;
    n.run(1);
    let first = n.c.outstanding().unwrap();
    assert!(is_port_request(&first));
    let b = n.r.restart(0x77c1_0002);
    n.deliver(&b);
    let again = n.c.outstanding().unwrap();
    assert!(is_port_request(&again));
    assert_ne!(xid(&first), xid(&again));
    // Sent at the next poll, without waiting for the back-off.
    n.in_use = 0;
    n.tick();
    assert_eq!(n.ports().len(), 1);
    assert_eq!(n.r.host_ports(), 32);
}

#[test]
fn low_water_asks_for_more_up_to_the_maximum() {
    let mut n = Net::new(Config {
        port_block: 16,
        low_water: 8,
        max_port_blocks: 3,
        want_spis: false,
        ..cfg()
    });
    n.tick();
    assert_eq!(n.c.ports_held(), 16);
    n.in_use = 8;
    n.run(5);
    assert_eq!(n.c.ports_held(), 16, "8 free is not below 8");
    n.in_use = 9;
    n.run(1);
    assert_eq!(n.c.ports_held(), 32);
    n.run(5);
    assert_eq!(n.c.ports_held(), 32);
    n.in_use = 30;
    n.run(1);
    assert_eq!(n.c.ports_held(), 48);
    n.in_use = 48;
    n.run(20);
    assert_eq!(n.c.ports_held(), 48, "at most 3 blocks");
    assert_eq!(n.count(is_port_request), 3);
    assert_eq!(n.r.host_ports(), 48);
}

#[test]
fn over_quota_stops_asking_until_a_block_is_given_back() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.r.s
        .t()
        .set_quota(H1, Some(Quota { ports: 32, spis: 0 }))
        .unwrap();
    n.tick();
    n.in_use = 30;
    n.run(1);
    assert_eq!(n.events.last(), Some(&Event::Refused(Reason::OverQuota)));
    assert_eq!(n.c.last_refusal(), Some(Reason::OverQuota));
    n.run(600);
    assert_eq!(n.count(is_port_request), 2, "no hammering");
    assert_eq!(n.c.stat(Stat::RefusedOverQuota), 1);
    assert_eq!(n.ports().len(), 1, "renewed meanwhile");
    // Giving the block back lifts the hold; with nothing held the
    // client asks again, after the release.
    let b = n.ports()[0].block;
    assert!(n.c.release_ports(b));
    assert!(!n.c.release_ports(b));
    n.in_use = 0;
    n.run(1);
    let tail: Vec<_> = n.sent.iter().rev().take(2).map(|(_, m)| *m).collect();
    assert!(is_port_request(&tail[0]));
    assert!(matches!(tail[1], Message::PortBlockInvalidate { block, .. } if block == b));
    assert_eq!(n.c.stat(Stat::Released), 1);
    assert_eq!(n.ports().len(), 1);
    assert_eq!(n.r.host_ports(), 32);
}

#[test]
fn no_space_backs_off_and_asks_for_less() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    // Another host holds all but 10 ports... then all of them.
    for _ in 0..3 {
        serve(
            &mut n.r.s.t(),
            H2,
            &Message::PortRequest {
                class: PortClass::High,
                count: 30,
                ext: None,
            },
            1000,
            EPOCH,
        );
    }
    serve(
        &mut n.r.s.t(),
        H2,
        &Message::PortRequest {
            class: PortClass::High,
            count: 10,
            ext: None,
        },
        1000,
        EPOCH,
    );
    n.tick();
    assert_eq!(n.events.last(), Some(&Event::Refused(Reason::NoSpace)));
    n.run(200);
    let asks: Vec<(u32, u8)> = n
        .sent
        .iter()
        .filter_map(|(t, m)| match m {
            Message::PortRequest { count, .. } => Some((*t, *count)),
            _ => None,
        })
        .collect();
    assert_eq!(
        asks,
        vec![(1000, 32), (1016, 16), (1048, 8), (1112, 4)],
        "16, 32, 64 s apart, half the count each time"
    );
    assert!(n.ports().is_empty());
}

#[test]
fn revoked_host_stops_asking() {
    let mut n = Net::new(cfg());
    n.tick();
    n.r.s.t().revoke_host(H1, |_| {}).unwrap();
    n.r.grace();
    let m = n.r.unsolicited_all();
    assert!(matches!(
        n.deliver(&m),
        Event::Changed(Changes {
            ports: true,
            spis: true,
            sas: true,
            epoch: false
        })
    ));
    n.run(600);
    assert_eq!(n.count(is_port_request), 2);
    assert_eq!(n.c.stat(Stat::RefusedRevoked), 1);
    assert!(n.ports().is_empty());
    n.r.s.t().readmit_host(H1).unwrap();
    n.c.retry_now();
    n.run(1);
    assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
}
