// SPDX-License-Identifier: GPL-2.0

//! The router's invalidations and other replies, releases, the clock, the
//! configuration and the counters.

use super::*;

#[test]
fn router_invalidations_drop_what_they_name() {
    let mut n = Net::new(Config {
        port_block: 16,
        low_water: 20,
        max_port_blocks: 2,
        ..cfg()
    });
    n.tick();
    assert_eq!(n.c.ports_held(), 32);
    let ext = Some(n.r.unsolicited());
    // One port: the router retires the whole block, so does the host.
    n.r.s.t().invalidate_port(None, 20005).unwrap();
    let m = Message::PortInvalidate {
        dir: Direction::ToHost,
        port: 20005,
        ext,
    };
    assert!(matches!(
        n.deliver(&m),
        Event::Changed(Changes {
            ports: true,
            spis: false,
            ..
        })
    ));
    assert_eq!(n.ports().len(), 1);
    assert!(!n.c.owns_port(20000) && n.c.owns_port(20016));
    assert_eq!(n.r.host_ports(), 16);
    // Something not held: nothing happens.
    assert_eq!(n.deliver(&m), Event::Nothing);
    // A block.
    let m = Message::PortBlockInvalidate {
        dir: Direction::ToHost,
        block: pb(20016, 16),
        ext,
    };
    assert!(matches!(
        n.deliver(&m),
        Event::Changed(Changes { ports: true, .. })
    ));
    assert!(n.ports().is_empty());
    // An SPI block, and an SPI.
    let s = n.spis()[0].block;
    let m = Message::SpiInvalidate {
        dir: Direction::ToHost,
        spi: s.lowest + 7,
        ext,
    };
    assert!(matches!(
        n.deliver(&m),
        Event::Changed(Changes {
            spis: true,
            ports: false,
            ..
        })
    ));
    assert!(n.spis().is_empty());
    n.r.s.t().invalidate_all(None, |_| {});
    n.r.grace();
    n.run(1);
    assert_eq!((n.c.ports_held(), n.spis().len()), (32, 1));
    let s = n.spis()[0].block;
    let m = Message::SpiBlockInvalidate {
        dir: Direction::ToHost,
        block: s,
        ext,
    };
    assert!(matches!(
        n.deliver(&m),
        Event::Changed(Changes { spis: true, .. })
    ));
    assert!(n.spis().is_empty() && n.c.ports_held() == 32);
    assert_eq!(n.c.stat(Stat::Invalidations), 5);
    // Base-format invalidations (no trailer) are applied too.
    let m = Message::InvalidateAll {
        dir: Direction::ToHost,
        scope: scope::PORTS,
        ext: None,
    };
    assert_eq!(
        n.deliver(&m),
        Event::Changed(Changes {
            ports: true,
            ..Changes::NONE
        })
    );
}
#[test]
fn a_pinned_block_the_router_keeps_is_held_again() {
    let mut n = Net::new(cfg());
    n.tick();
    let b = n.ports()[0].block;
    // The router's CA pinned the block (a certificate names it).
    n.r.s
        .t()
        .pin(
            H1,
            crate::alloc_table::Kind::Port,
            u32::from(b.lowest),
            u32::from(b.count),
            600,
            u64::from(n.now),
        )
        .unwrap();
    assert!(n.c.release_ports(b));
    assert!(n.ports().is_empty());
    let from = n.sent.len();
    n.tick();
    let sent = n.sent_since(from);
    // Refused (pinned): held again and renewed at once.
    assert_eq!(n.c.stat(Stat::RefusedPinned), 1);
    assert!(matches!(sent[0], Message::PortBlockInvalidate { .. }));
    assert!(matches!(sent[1], Message::PortRenew { block, .. } if block == b));
    assert_eq!(n.ports()[0].block, b);
    assert!(n.ports()[0].expires_at.is_some());
    assert_eq!(n.r.host_ports(), u32::from(b.count));
    // Not given back again for being unused (it would only be refused).
    assert!(!n.c.release_unused_ports(b));
    assert_eq!(n.ports()[0].block, b);
}

#[test]
fn invalidation_forgets_a_pending_release_of_that_block() {
    let mut n = Net::new(Config {
        want_spis: false,
        port_block: 16,
        low_water: 20,
        max_port_blocks: 2,
        ..cfg()
    });
    n.tick();
    n.down = true;
    assert!(n.c.release_ports(pb(20000, 16)));
    n.tick();
    assert!(matches!(
        n.c.outstanding(),
        Some(Message::PortBlockInvalidate { .. })
    ));
    let m = Message::PortBlockInvalidate {
        dir: Direction::ToHost,
        block: pb(20000, 16),
        ext: Some(n.r.unsolicited()),
    };
    assert_eq!(n.deliver(&m), Event::Nothing);
    assert!(!matches!(
        n.c.outstanding(),
        Some(Message::PortBlockInvalidate { .. })
    ));
}

#[test]
fn unsolicited_duplicate_and_foreign_replies_are_ignored() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.tick();
    let granted = n.c.stat(Stat::Granted);
    let t = |xid, epoch| {
        Some(Trailer {
            xid,
            epoch,
            lease: 0,
        })
    };
    // A grant nobody asked for.
    let m = Message::PortResponse {
        result: Ok(pb(20040, 8)),
        ext: t(0xdead, EPOCH),
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Unmatched));
    // Not even with another epoch: no spurious restart.
    let m = Message::PortResponse {
        result: Ok(pb(20040, 8)),
        ext: t(0xdead, 0x0bad),
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Unmatched));
    assert_eq!(n.c.epoch(), EPOCH);
    // A base-format grant with no request outstanding.
    let m = Message::PortResponse {
        result: Ok(pb(20040, 8)),
        ext: None,
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Unmatched));
    // The right xid, the wrong answer: the request stays outstanding.
    n.in_use = 30;
    n.lose_requests = 1;
    n.run(1);
    let req = n.c.outstanding().unwrap();
    let m = Message::SpiResponse {
        result: Err(Reason::NoSpace),
        ext: t(xid(&req), EPOCH),
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::WrongReply));
    let m = Message::Ack {
        acked: Acked::PortBlockInvalidate,
        result: Ok(()),
        ext: Trailer {
            xid: xid(&req),
            epoch: EPOCH,
            lease: 0,
        },
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::WrongReply));
    assert_eq!(n.c.outstanding(), Some(req));
    // Messages to the router, invalid messages.
    assert_eq!(n.deliver(&req), Event::Ignored(Ignored::NotForHost));
    let m = Message::PortResponse {
        result: Ok(pb(0, 8)),
        ext: t(xid(&req), EPOCH),
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Invalid));
    let m = Message::InvalidateAll {
        dir: Direction::ToHost,
        scope: scope::ALL,
        ext: t(xid(&req), EPOCH),
    };
    assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Invalid));
    assert_eq!(n.c.stat(Stat::Granted), granted);
    assert_eq!(n.ports().len(), 1);
    assert_eq!(n.c.stat(Stat::IgnoredUnmatched), 3);
    assert_eq!(n.c.stat(Stat::IgnoredWrongReply), 2);
    // The real answer still works.
    n.run(2);
    assert_eq!(n.ports().len(), 2);
}

#[test]
fn base_format_router_reply_is_matched_by_type() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.down = true;
    n.tick();
    let m = Message::PortResponse {
        result: Ok(pb(30000, 32)),
        ext: None,
    };
    assert!(matches!(n.deliver(&m), Event::Changed(_)));
    let p = n.ports();
    assert_eq!(
        (p[0].block, p[0].lease, p[0].expires_at),
        (pb(30000, 32), 0, None)
    );
    assert_eq!(n.c.epoch(), 0);
    assert_eq!(n.c.outstanding(), None);
    n.run(10_000);
    assert_eq!(n.sent.len(), 1, "no lease, nothing to renew");
}

#[test]
fn release_all_sends_one_invalidate_all_and_stops() {
    let mut n = Net::new(cfg());
    n.tick();
    let ch = n.c.release_all();
    assert_eq!(
        ch,
        Changes {
            ports: true,
            spis: true,
            ..Changes::NONE
        }
    );
    assert!(n.c.is_stopped() && !n.c.is_idle());
    assert!(n.ports().is_empty() && n.spis().is_empty());
    n.tick();
    match n.sent.last().unwrap().1 {
        Message::InvalidateAll {
            dir: Direction::ToRouter,
            scope: scope::ALL,
            ext: Some(e),
        } => {
            assert_ne!(e.xid, 0);
            assert_eq!((e.epoch, e.lease), (EPOCH, 0));
        }
        ref m => panic!("{m:?}"),
    }
    assert!(n.c.is_idle());
    assert_eq!(n.c.stat(Stat::Released), 1);
    assert_eq!((n.r.host_ports(), n.r.host_spis()), (0, 0));
    let sent = n.sent.len();
    n.run(1000);
    assert_eq!(n.sent.len(), sent);
}

#[test]
fn release_all_is_given_up_after_five_transmissions() {
    let mut n = Net::new(cfg());
    n.tick();
    n.down = true;
    n.c.release_all();
    n.run(100);
    assert_eq!(n.sent.len(), 2 + usize::from(MAX_TRANSMISSIONS));
    assert!(n.c.is_idle());
    assert_eq!(n.c.stat(Stat::GivenUp), 1);
}

#[test]
fn flush_on_start_comes_first() {
    let mut n = Net::new(Config {
        flush_on_start: true,
        ..Config::DEFAULT
    });
    n.tick();
    assert!(matches!(
        n.sent[0].1,
        Message::InvalidateAll {
            scope: scope::ALL,
            ..
        }
    ));
    // The router does not know the host yet: refused, and that is fine.
    assert_eq!(n.events[0], Event::Refused(Reason::NotOwned));
    assert!(is_port_request(&n.sent[1].1));
    assert_eq!((n.ports().len(), n.spis().len()), (1, 1));

    // Without a router: requests wait until the flush is given up.
    let mut n = Net::new(Config {
        flush_on_start: true,
        ..Config::DEFAULT
    });
    n.down = true;
    n.run(60);
    let first_request = n.sent.iter().position(|(_, m)| is_port_request(m));
    assert_eq!(first_request, Some(usize::from(MAX_TRANSMISSIONS)));
}

#[test]
fn renewal_refused_not_owned_drops_the_block() {
    let mut n = Net::new(Config {
        want_spis: false,
        ..cfg()
    });
    n.tick();
    // The router retires the block without telling (e.g. a pool change).
    n.r.s
        .t()
        .invalidate_block(None, Kind::Port, 20000, Some(32))
        .unwrap();
    n.r.grace();
    n.run(30);
    assert!(n
        .events
        .iter()
        .any(|e| matches!(e, Event::Changed(Changes { ports: true, .. }))));
    assert_eq!(n.c.stat(Stat::RefusedNotOwned), 1);
    // ... and a new one was requested at once.
    assert_eq!(n.ports().len(), 1);
    assert_eq!(n.r.host_ports(), 32);
}

#[test]
fn clock_wraps_and_goes_backwards() {
    let mut n = Net::start_at(
        Config {
            want_spis: false,
            ..cfg()
        },
        u32::MAX - 10,
    );
    // The router's clock is u64; keep it consistent in the test only
    // until the wrap by not letting it expire anything.
    n.tick();
    let p = n.ports()[0];
    assert_eq!(p.expires_at, Some((u32::MAX - 10).wrapping_add(LEASE)));
    assert_eq!(p.expires_in(u32::MAX - 10), Some(LEASE));
    n.run(40); // across the wrap: renewed at half the lease
    assert_eq!(n.c.stat(Stat::Renewed), 1);
    let p = n.ports()[0];
    assert_eq!(p.expires_at, Some((u32::MAX - 10).wrapping_add(30 + LEASE)));
    // Backwards by an hour: time stands still, nothing expires early,
    // nothing is sent.
    let sent = n.sent.len();
    n.now = n.now.wrapping_sub(3600);
    n.tick();
    assert_eq!(n.sent.len(), sent);
    assert_eq!(n.ports().len(), 1);
    assert_eq!(p.expires_in(n.now.wrapping_add(3600 + 100)), Some(0));
}

#[test]
fn requests_on_demand() {
    let mut n = Net::new(Config {
        max_port_blocks: 1,
        ..cfg()
    });
    n.tick();
    assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
    assert!(n.c.request_ports(8));
    assert!(!n.c.request_ports(8), "one at a time");
    assert!(!n.c.request_spis(0));
    assert!(n.c.request_spis(16));
    assert_eq!(n.c.next_timeout(), Some(0));
    n.tick();
    assert_eq!(n.c.ports_held(), 40, "beyond max_port_blocks");
    let s: Vec<u16> = n.spis().iter().map(|h| h.block.count).collect();
    assert_eq!(s, vec![256, 16]);
    // Refused: not retried.
    n.r.s
        .t()
        .set_quota(H1, Some(Quota { ports: 40, spis: 0 }))
        .unwrap();
    assert!(n.c.request_ports(8));
    n.run(100);
    assert_eq!(n.count(is_port_request), 3);
    assert_eq!(n.c.stat(Stat::RefusedOverQuota), 1);
    n.c.release_all();
    assert!(!n.c.request_ports(8));
}

#[test]
fn config_is_validated() {
    assert!(Client::new(Config::DEFAULT, 0).is_ok());
    let bad = |c: Config| Client::new(c, 1).unwrap_err();
    assert_eq!(
        bad(Config {
            port_block: 0,
            ..Config::DEFAULT
        }),
        ConfigError::ZeroPortBlock
    );
    assert_eq!(
        bad(Config {
            spi_block: 0,
            ..Config::DEFAULT
        }),
        ConfigError::ZeroSpiBlock
    );
    assert!(Client::new(
        Config {
            spi_block: 0,
            want_spis: false,
            ..Config::DEFAULT
        },
        1
    )
    .is_ok());
    for m in [0, MAX_BLOCKS + 1] {
        assert_eq!(
            bad(Config {
                max_port_blocks: m,
                ..Config::DEFAULT
            }),
            ConfigError::MaxPortBlocks
        );
    }
}

#[test]
fn xids_are_nonzero_and_do_not_repeat_soon() {
    let mut c = Client::new(cfg(), 0).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100_000 {
        let x = c.rand();
        assert_ne!(x, 0);
        assert!(seen.insert(x));
    }
}

#[test]
fn stat_names_are_unique_and_indexed() {
    for (i, s) in Stat::ALL.iter().enumerate() {
        assert_eq!(s.index(), i);
        assert!(Stat::ALL.iter().filter(|o| o.name() == s.name()).count() == 1);
    }
    for r in Reason::ALL {
        assert!(Stat::refused(r).name().ends_with(r.name()));
    }
}
