// SPDX-License-Identifier: GPL-2.0

//! SA notices: validations, invalidations, the blacklist, and resending
//! them after the router forgot them.

use super::*;

const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);
const PEER2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 4);
const PEER3: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 5);
const ATTACKER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

fn rec(addr: Ipv4Addr, spi: u32, state: SaRecordState) -> SaRecord {
    SaRecord { addr, spi, state }
}

fn sa_ev(kind: SaNoticeKind, addr: Ipv4Addr, spi: u32, result: Result<(), Reason>) -> Event {
    Event::SaNotice {
        kind,
        addr: Some(addr),
        spi: Some(spi),
        result,
    }
}

fn is_sa_message(m: &Message) -> bool {
    matches!(
        m,
        Message::SaValidate { .. }
            | Message::SaInvalidate { .. }
            | Message::BlacklistAdd { .. }
            | Message::BlacklistRemove { .. }
    )
}

fn is_validation(m: &Message, a: Ipv4Addr, s: u32) -> bool {
    matches!(*m, Message::SaValidate { addr, spi, .. } if addr == a && spi == s)
}

impl Net {
    fn records(&self) -> Vec<SaRecord> {
        self.c.sa_records().collect()
    }

    fn states(&self) -> Vec<SaRecordState> {
        self.c.sa_records().map(|r| r.state).collect()
    }
}

#[test]
fn validation_is_applied_recorded_and_invalidated() {
    let mut n = Net::new(cfg());
    n.tick();
    let spi = n.spis()[0].block.lowest;
    assert_eq!(spi, 0x1000);
    assert_eq!(n.c.validate(PEER, spi), Ok(()));
    assert_eq!(
        n.c.sa_notices().collect::<Vec<_>>(),
        vec![SaNotice {
            kind: SaNoticeKind::Validate,
            addr: Some(PEER),
            spi: Some(spi),
        }]
    );
    assert_eq!(n.records(), vec![rec(PEER, spi, SaRecordState::Pending)]);
    assert_eq!(n.c.next_timeout(), Some(0));
    assert!(!n.c.is_idle());
    let from = n.sent.len();
    n.tick();
    let sent = n.sent_since(from);
    assert_eq!(sent.len(), 1);
    match sent[0] {
        Message::SaValidate {
            addr,
            spi: s,
            ext: Some(e),
        } => assert_eq!((addr, s, e.epoch, e.lease), (PEER, spi, EPOCH, 0)),
        ref m => panic!("{m:?}"),
    }
    assert_eq!(
        n.events.last(),
        Some(&sa_ev(SaNoticeKind::Validate, PEER, spi, Ok(())))
    );
    assert!(n.r.validated(PEER, spi));
    assert!(!n.r.validated(PEER2, spi));
    assert_eq!(n.records(), vec![rec(PEER, spi, SaRecordState::Validated)]);
    assert_eq!(n.c.sa_notices().count(), 0);
    assert!(n.c.is_idle());
    assert_eq!(
        (
            n.c.stat(Stat::SaNoticesSent),
            n.c.stat(Stat::SaNoticesApplied)
        ),
        (1, 1)
    );
    assert_eq!((n.c.stat(Stat::Notices), n.c.stat(Stat::Released)), (0, 0));

    // The SA ends: the record goes at once, the router drops the SA.
    assert_eq!(n.c.invalidate(PEER, spi), Ok(()));
    assert!(n.records().is_empty());
    n.tick();
    assert!(matches!(
        n.sent.last().unwrap().1,
        Message::SaInvalidate {
            addr: PEER,
            spi: 0x1000,
            ext: Some(_)
        }
    ));
    assert_eq!(
        n.events.last(),
        Some(&sa_ev(SaNoticeKind::Invalidate, PEER, spi, Ok(())))
    );
    assert!(!n.r.validated(PEER, spi));
    assert_eq!(n.r.sas(), 0);
    // Invalidating it again is "done" at the router.
    n.c.invalidate(PEER, spi).unwrap();
    n.tick();
    assert_eq!(
        n.events.last(),
        Some(&sa_ev(SaNoticeKind::Invalidate, PEER, spi, Ok(())))
    );
    assert_eq!(
        (
            n.c.stat(Stat::SaNoticesSent),
            n.c.stat(Stat::SaNoticesApplied)
        ),
        (3, 3)
    );
}

#[test]
fn sa_notices_refused_locally() {
    use SaNoticeError::*;
    let mut n = Net::new(cfg());
    // Nothing held yet.
    assert_eq!(n.c.validate(PEER, 0x1000), Err(NotHeld));
    assert_eq!(n.c.blacklist_add(Some(ATTACKER), None), Err(NotHeld));
    n.tick();
    assert_eq!(
        n.c.validate(PEER, 0x1100),
        Err(NotHeld),
        "not in 0x1000-0x10ff"
    );
    assert_eq!(n.c.validate(PEER, 0x0fff), Err(NotHeld));
    assert_eq!(n.c.validate(PEER, 255), Err(Invalid));
    for a in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(240, 0, 0, 1),
    ] {
        assert_eq!(n.c.validate(a, 0x1000), Err(Invalid), "{a}");
        assert_eq!(n.c.blacklist_add(Some(a), None), Err(Invalid), "{a}");
    }
    assert_eq!(n.c.blacklist_add(None, None), Err(Invalid));
    assert_eq!(n.c.blacklist_remove(None, None), Err(Invalid));
    assert_eq!(n.c.blacklist_remove(None, Some(7)), Err(Invalid));
    assert_eq!(
        n.c.blacklist_add(Some(ATTACKER), Some(0x1100)),
        Err(NotHeld)
    );
    assert_eq!(n.c.invalidate(PEER, 0x1100), Err(NotHeld));
    assert_eq!(n.c.sa_notices().count(), 0);
    assert!(n.records().is_empty());
    let sent = n.sent.len();
    n.run(5);
    assert_eq!(n.sent.len(), sent, "nothing sent");
    n.c.release_all();
    assert_eq!(n.c.validate(PEER, 0x1000), Err(Stopped));
    assert_eq!(n.c.blacklist_remove(Some(ATTACKER), None), Err(Stopped));
    for e in [Stopped, Invalid, NotHeld, QueueFull, RecordsFull] {
        assert!(e.errno() > 0 && !e.message().is_empty());
    }
}

#[test]
fn router_refusals_surface_in_the_event() {
    let mut n = Net::new(cfg());
    n.tick();
    // A peer inside the router's LAN prefix.
    let lan_peer = Ipv4Addr::new(10, 0, 0, 9);
    n.c.validate(lan_peer, 0x1000).unwrap();
    n.tick();
    assert_eq!(
        n.events.last(),
        Some(&sa_ev(
            SaNoticeKind::Validate,
            lan_peer,
            0x1000,
            Err(Reason::Unspecified)
        ))
    );
    assert!(n.records().is_empty(), "a refused validation is not kept");
    assert_eq!(n.c.stat(Stat::SaNoticesRefused), 1);
    assert_eq!(n.c.stat(Stat::RefusedUnspecified), 1);
    assert_eq!(n.c.last_refusal(), Some(Reason::Unspecified));
    // The router retires the SPI block without telling: `not_owned`.
    n.r.s
        .t()
        .invalidate_block(None, Kind::Spi, 0x1000, Some(256))
        .unwrap();
    n.r.grace();
    n.c.validate(PEER, 0x1001).unwrap();
    n.tick();
    assert_eq!(
        n.events.last(),
        Some(&sa_ev(
            SaNoticeKind::Validate,
            PEER,
            0x1001,
            Err(Reason::NotOwned)
        ))
    );
    assert!(n.records().is_empty());
    assert_eq!(n.c.stat(Stat::SaNoticesRefused), 2);
    assert_eq!(n.spis().len(), 1, "the block goes at its renewal");
}

#[test]
fn lost_ack_is_retransmitted_with_the_same_xid_and_answered_from_the_cache() {
    let mut n = Net::new(cfg());
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.lose_replies = 1;
    let from = n.sent.len();
    n.tick();
    assert!(n.r.validated(PEER, 0x1000), "applied, the ack lost");
    assert_eq!(n.states(), vec![SaRecordState::Pending]);
    n.run(1);
    let sent = n.sent_since(from);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|m| is_validation(m, PEER, 0x1000)));
    assert_eq!(xid(&sent[0]), xid(&sent[1]));
    assert_eq!(n.r.replayed, 1);
    assert_eq!(
        n.events.last(),
        Some(&sa_ev(SaNoticeKind::Validate, PEER, 0x1000, Ok(())))
    );
    assert_eq!(n.states(), vec![SaRecordState::Validated]);
    assert_eq!(n.c.stat(Stat::Retransmits), 1);
    assert_eq!(
        (
            n.c.stat(Stat::SaNoticesSent),
            n.c.stat(Stat::SaNoticesApplied)
        ),
        (1, 1)
    );
    // A late duplicate of the ack matches nothing.
    let dup = Message::Ack {
        acked: Acked::SaValidate,
        result: Ok(()),
        ext: Trailer {
            xid: xid(&sent[0]),
            epoch: EPOCH,
            lease: 0,
        },
    };
    assert_eq!(n.deliver(&dup), Event::Ignored(Ignored::Unmatched));
    // An ack naming another notice, with the outstanding xid, is not
    // the answer.
    n.c.validate(PEER2, 0x1000).unwrap();
    n.down = true;
    n.tick();
    let out = n.c.outstanding().unwrap();
    let wrong = Message::Ack {
        acked: Acked::SaInvalidate,
        result: Ok(()),
        ext: out.ext().unwrap(),
    };
    assert_eq!(n.deliver(&wrong), Event::Ignored(Ignored::WrongReply));
    assert_eq!(n.c.outstanding(), Some(out));
}

#[test]
fn sa_notices_come_after_releases_and_renewals_before_requests_one_at_a_time() {
    let mut n = Net::new(cfg());
    n.tick();
    // Fewer than low_water ports free: a port request is due; SPIs are
    // asked for; SA notices are queued.
    n.in_use = 30;
    n.c.validate(PEER, 0x1000).unwrap();
    n.c.blacklist_add(Some(ATTACKER), None).unwrap();
    assert!(n.c.request_spis(16));
    n.c.validate(PEER2, 0x1001).unwrap();
    let from = n.sent.len();
    n.down = true;
    n.tick();
    // One transaction at a time: the validation is alone on the wire
    // (same xid) until it is given up.
    assert_eq!(n.sent_since(from).len(), 1);
    assert!(is_validation(&n.sent_since(from)[0], PEER, 0x1000));
    n.run(40);
    let sent = n.sent_since(from);
    assert_eq!(&sent[..5], &[sent[0]; 5], "{sent:?}");
    assert!(!is_validation(&sent[5], PEER, 0x1000));
    assert!(n.c.stat(Stat::SaNoticesDropped) >= 1);
    // The router comes back: everything gets through.
    n.down = false;
    n.run(40);
    assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1001));
    assert!(n.r.blacklisted(ATTACKER, 0x1000));
    assert_eq!(n.ports().len(), 2);

    // The order, the router up.
    let mut n = Net::new(cfg());
    n.tick();
    n.in_use = 30;
    n.c.validate(PEER, 0x1000).unwrap();
    n.c.blacklist_add(Some(ATTACKER), None).unwrap();
    assert!(n.c.request_spis(16));
    n.now += LEASE / 2; // both renewals due
                        // A release queued last still goes first.
    n.c.release_spis(n.spis()[0].block);
    let from = n.sent.len();
    n.tick();
    let kinds: Vec<(u8, u8)> = n.sent_since(from).iter().map(|m| m.type_code()).collect();
    assert_eq!(
        kinds,
        vec![
            (33, 3), // the release
            (32, 4), // the renewal (the SPI block is gone)
            (34, 1), // the blacklist entry (the validation went with the block)
            (33, 0), // the requested SPIs
            (32, 1), // the port request (the requested SPIs are held)
        ]
    );
    assert_eq!(n.c.stat(Stat::SaNoticesDropped), 1);
}

#[test]
fn router_restart_revalidates_after_the_spis_are_granted_again() {
    let mut n = Net::new(cfg());
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.c.validate(PEER2, 0x1010).unwrap();
    n.c.blacklist_add(Some(ATTACKER), None).unwrap();
    n.tick();
    assert_eq!(n.r.sas(), 2);
    assert!(n.r.blacklisted(ATTACKER, 0x1000));
    // A notice still queued when the router restarts goes.
    n.c.validate(PEER3, 0x1020).unwrap();
    let old = n.spis()[0].block;
    let b = n.r.restart(EPOCH + 1);
    n.now += 1;
    assert_eq!(
        n.deliver(&b),
        Event::Changed(Changes {
            ports: true,
            spis: true,
            sas: true,
            epoch: true,
        })
    );
    assert_eq!(
        n.records(),
        vec![
            rec(PEER, 0x1000, SaRecordState::Stale),
            rec(PEER2, 0x1010, SaRecordState::Stale),
            rec(PEER3, 0x1020, SaRecordState::Stale),
        ]
    );
    assert_eq!(n.c.sa_notices().count(), 0);
    assert_eq!(n.c.stat(Stat::SaNoticesDropped), 1);
    assert_eq!(n.r.sas(), 0);
    // The old SPI block first (a renewal: the new router still has it
    // free and grants it back), the validations in record order, the
    // blacklist entry, then ports.
    let from = n.sent.len();
    n.tick();
    let sent = n.sent_since(from);
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert!(matches!(sent[0], Message::SpiRenew { block, .. } if block == old));
    assert!(is_validation(&sent[1], PEER, 0x1000));
    assert!(is_validation(&sent[2], PEER2, 0x1010));
    assert!(is_validation(&sent[3], PEER3, 0x1020));
    assert!(
        matches!(sent[4], Message::BlacklistAdd { addr: Some(a), spi: None, .. } if a == ATTACKER)
    );
    assert!(is_port_request(&sent[5]));
    assert_eq!(n.spis()[0].block, old);
    assert_eq!(n.c.stat(Stat::Reclaimed), 1);
    assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1010));
    assert!(n.r.validated(PEER3, 0x1020));
    assert!(n.states().iter().all(|&s| s == SaRecordState::Validated));
    // The blacklist entry was sent again once a block backed it.
    assert!(n.r.blacklisted(ATTACKER, 0x1000));
    assert_eq!(n.c.stat(Stat::SaNoticesSent), 7);
    // Removed, it is not sent after the next restart.
    n.c.blacklist_remove(Some(ATTACKER), None).unwrap();
    n.tick();
    assert!(!n.r.blacklisted(ATTACKER, 0x1000));

    // Again, but this time another host gets those SPIs first: the
    // renewal is refused, the host gets another block, and the records
    // stay stale (flagged: their SAs get no traffic) until invalidated.
    let b = n.r.restart(EPOCH + 2);
    n.r.s
        .t()
        .request_spis(H2, 256, 0, u64::from(n.now))
        .unwrap();
    n.deliver(&b);
    let from = n.sent.len();
    n.tick();
    assert_eq!(n.spis()[0].block.lowest, 0x1100);
    assert_eq!(n.c.stat(Stat::Reclaimed), 1);
    assert!(n.states().iter().all(|&s| s == SaRecordState::Stale));
    assert_eq!(n.records().len(), 3);
    assert!(!n.sent_since(from).iter().any(is_sa_message));
    n.c.invalidate(PEER, 0x1000).unwrap_err();
}

#[test]
fn restart_noticed_in_an_ack_keeps_the_record_for_later() {
    let mut n = Net::new(cfg());
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.tick();
    // The router restarts; the broadcast is lost; the next notice's
    // ack (refused: the SPI is nobody's) carries the new epoch.
    n.r.restart(EPOCH + 1);
    n.c.validate(PEER2, 0x1001).unwrap();
    let from = n.sent.len();
    let ev = n.events.len();
    n.tick();
    assert_eq!(
        n.events[ev],
        Event::Changed(Changes {
            ports: true,
            spis: true,
            sas: true,
            epoch: true,
        }),
        "the ack's refusal is not the event"
    );
    assert_eq!(n.c.stat(Stat::SaNoticesRefused), 1);
    let sent = n.sent_since(from);
    assert!(is_validation(&sent[0], PEER2, 0x1001));
    assert!(matches!(sent[1], Message::SpiRenew { .. }));
    assert!(is_validation(&sent[2], PEER, 0x1000));
    assert!(is_validation(&sent[3], PEER2, 0x1001));
    assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1001));
    assert_eq!(
        n.states(),
        vec![SaRecordState::Validated, SaRecordState::Validated]
    );
}

#[test]
fn sa_scope_invalidate_all_revalidates_at_once() {
    let mut n = Net::new(cfg());
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.tick();
    // The administrator flushes H1's SAs at the router.
    let h1 = n.r.s.t().find_host(H1).unwrap();
    n.r.s.both().1.remove_host(h1);
    assert!(!n.r.validated(PEER, 0x1000));
    let m = Message::InvalidateAll {
        dir: Direction::ToHost,
        scope: scope::SA,
        ext: Some(n.r.unsolicited()),
    };
    assert_eq!(
        n.deliver(&m),
        Event::Changed(Changes {
            sas: true,
            ..Changes::NONE
        })
    );
    assert_eq!(n.states(), vec![SaRecordState::Stale]);
    assert_eq!(n.c.next_timeout(), Some(0));
    n.tick();
    assert!(n.r.validated(PEER, 0x1000));
    assert_eq!(n.states(), vec![SaRecordState::Validated]);
    // A flush racing with a validation: the ack of the validation sent
    // before the flush does not count, it is sent again.
    n.c.validate(PEER2, 0x1001).unwrap();
    n.lose_replies = 1;
    n.tick();
    n.r.s.both().1.remove_host(h1);
    n.deliver(&m);
    n.run(1); // the retransmission's cached ack, then both again
    assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1001));
    assert_eq!(
        n.states(),
        vec![SaRecordState::Validated, SaRecordState::Validated]
    );
}

#[test]
fn losing_an_spi_block_drops_its_records_and_notices() {
    let mut n = Net::new(cfg());
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.tick();
    n.c.validate(PEER2, 0x1001).unwrap();
    n.c.blacklist_add(Some(ATTACKER), Some(0x1002)).unwrap();
    n.c.blacklist_add(Some(ATTACKER), None).unwrap();
    n.c.blacklist_remove(None, Some(0x1003)).unwrap();
    // The router takes the block back.
    let m = Message::SpiBlockInvalidate {
        dir: Direction::ToHost,
        block: n.spis()[0].block,
        ext: Some(n.r.unsolicited()),
    };
    assert!(matches!(
        n.deliver(&m),
        Event::Changed(Changes { spis: true, .. })
    ));
    assert!(n.records().is_empty());
    assert_eq!(
        n.c.sa_notices().collect::<Vec<_>>(),
        vec![SaNotice {
            kind: SaNoticeKind::BlacklistAdd,
            addr: Some(ATTACKER),
            spi: None,
        }]
    );
    assert_eq!(n.c.stat(Stat::SaNoticesDropped), 3);
    // Granted again (the same SPIs): nothing to validate.
    n.r.s
        .t()
        .invalidate_block(None, Kind::Spi, 0x1000, Some(256))
        .unwrap();
    n.r.grace();
    let from = n.sent.len();
    n.tick();
    let sent = n.sent_since(from);
    assert_eq!(sent.len(), 2);
    assert!(matches!(sent[0], Message::BlacklistAdd { spi: None, .. }));
    assert!(matches!(sent[1], Message::SpiRequest { .. }));
    assert!(n.records().is_empty());
    // Expiry drops them too.
    n.c.validate(PEER, 0x1000).unwrap();
    n.tick();
    n.down = true;
    n.run(LEASE);
    assert!(n.spis().is_empty());
    assert!(n.records().is_empty());
}

#[test]
fn given_up_validation_probes_a_silent_router_when_nothing_else_is_due() {
    let mut n = Net::new(cfg());
    n.r = Router::with(Settings {
        default_lease: 600,
        ..Settings::DEFAULT
    });
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.down = true;
    n.run(20);
    let validations = |n: &Net| -> Vec<u32> {
        n.sent
            .iter()
            .filter(|(_, m)| is_validation(m, PEER, 0x1000))
            .map(|(t, _)| *t)
            .collect()
    };
    assert_eq!(validations(&n).len(), usize::from(MAX_TRANSMISSIONS));
    n.run(20);
    assert_eq!(n.c.stat(Stat::GivenUp), 1);
    assert!(n.c.stat(Stat::SaNoticesDropped) >= 1);
    // Given up: stale, and sent again once per silent interval (no
    // renewal or request is due to find the router).
    n.run(60);
    let v = validations(&n);
    assert!(v.len() > usize::from(MAX_TRANSMISSIONS) + 2, "{v:?}");
    let probes = &v[usize::from(MAX_TRANSMISSIONS) - 1..];
    assert!(
        probes
            .windows(2)
            .all(|w| (12..=20).contains(&(w[1] - w[0]))),
        "{v:?}"
    );
    assert!(n.r.sas() == 0);
    n.down = false;
    n.run(20);
    assert!(n.r.validated(PEER, 0x1000));
    assert_eq!(n.states(), vec![SaRecordState::Validated]);
    let sent = n.sent.len();
    n.run(20);
    assert_eq!(n.sent.len(), sent, "quiet again");
}

#[test]
fn stale_validation_does_not_hold_up_requests_while_the_router_is_silent() {
    let mut n = Net::new(cfg());
    n.r = Router::with(Settings {
        default_lease: 600,
        ..Settings::DEFAULT
    });
    n.tick();
    n.c.validate(PEER, 0x1000).unwrap();
    n.c.validate(PEER2, 0x1000).unwrap();
    n.down = true;
    n.run(40); // the first given up: stale, the router deemed silent
    n.run(20); // the second too
               // (One of them is probing the router.)
    assert!(n.states().contains(&SaRecordState::Stale));
    assert!(!n.states().contains(&SaRecordState::Validated));
    n.in_use = 30; // a port request is due
    let from = n.sent.len();
    n.run(64);
    let sent = n.sent_since(from);
    assert!(sent.len() >= 3, "{sent:?}");
    assert!(sent.iter().all(is_port_request), "{sent:?}");
    n.down = false;
    n.run(40);
    assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1000));
    assert_eq!(n.ports().len(), 2);
}

#[test]
fn sa_queue_full_duplicates_and_records_full() {
    use SaNoticeKind::*;
    let mut n = Net::new(cfg());
    n.tick();
    assert_eq!(n.c.validate(PEER, 0x1000), Ok(()));
    assert_eq!(n.c.validate(PEER, 0x1000), Ok(()), "deduplicated");
    assert_eq!(n.c.sa_notices().count(), 1);
    // In order, nothing cancelled.
    n.c.invalidate(PEER, 0x1000).unwrap();
    n.c.invalidate(PEER, 0x1000).unwrap();
    n.c.validate(PEER, 0x1000).unwrap();
    let kinds: Vec<_> = n.c.sa_notices().map(|x| x.kind).collect();
    assert_eq!(kinds, vec![Validate, Invalidate, Validate]);
    for i in 0..MAX_SA_NOTICES as u32 - 3 {
        assert_eq!(n.c.validate(PEER2, 0x1010 + i), Ok(()));
    }
    assert_eq!(n.c.validate(PEER2, 0x10f0), Err(SaNoticeError::QueueFull));
    assert_eq!(
        n.c.blacklist_add(Some(ATTACKER), None),
        Err(SaNoticeError::QueueFull)
    );
    assert_eq!(n.c.validate(PEER2, 0x101c), Ok(()), "the last again");
    assert_eq!(n.records().len(), 14);
    let from = n.sent.len();
    n.tick();
    let sent = n.sent_since(from);
    assert_eq!(sent.len(), MAX_SA_NOTICES);
    assert!(is_validation(&sent[0], PEER, 0x1000));
    assert!(matches!(sent[1], Message::SaInvalidate { .. }));
    assert!(is_validation(&sent[2], PEER, 0x1000));
    assert!(n.r.validated(PEER, 0x1000));
    assert_eq!(n.r.sas(), 14);
    assert!(n.states().iter().all(|&s| s == SaRecordState::Validated));
    // Fill the records.
    for i in 0..(MAX_SA_RECORDS - 14) as u32 {
        assert_eq!(n.c.validate(PEER3, 0x1020 + i), Ok(()));
        if i % 8 == 7 {
            n.tick();
        }
    }
    n.tick();
    assert_eq!(n.records().len(), MAX_SA_RECORDS);
    assert_eq!(n.r.sas(), MAX_SA_RECORDS);
    assert_eq!(n.c.validate(PEER3, 0x10f0), Err(SaNoticeError::RecordsFull));
    assert_eq!(n.c.validate(PEER3, 0x1020), Ok(()), "a recorded pair");
    // An invalidation makes room.
    n.c.invalidate(PEER3, 0x1021).unwrap();
    assert_eq!(n.c.validate(PEER3, 0x10f0), Ok(()));
    n.tick();
    assert_eq!(n.r.sas(), MAX_SA_RECORDS);
}

#[test]
fn blacklist_add_and_remove() {
    let mut n = Net::new(cfg());
    n.tick();
    n.c.blacklist_add(Some(ATTACKER), None).unwrap();
    n.c.blacklist_add(None, Some(0x1001)).unwrap();
    n.tick();
    assert!(n.r.blacklisted(ATTACKER, 0x1000));
    assert!(n.r.blacklisted(PEER, 0x1001));
    assert!(!n.r.blacklisted(PEER, 0x1000));
    let evs: Vec<Event> = n.events[n.events.len() - 2..].to_vec();
    assert_eq!(
        evs,
        vec![
            Event::SaNotice {
                kind: SaNoticeKind::BlacklistAdd,
                addr: Some(ATTACKER),
                spi: None,
                result: Ok(()),
            },
            Event::SaNotice {
                kind: SaNoticeKind::BlacklistAdd,
                addr: None,
                spi: Some(0x1001),
                result: Ok(()),
            },
        ]
    );
    // The kinds match the wire's acknowledgements.
    for (_, m) in n.sent.iter().filter(|(_, m)| is_sa_message(m)) {
        let (ty, code) = m.type_code();
        assert_eq!(m.acked_as(), Acked::from_type_code(ty, code));
    }
    n.c.blacklist_remove(Some(ATTACKER), None).unwrap();
    n.tick();
    assert!(!n.r.blacklisted(ATTACKER, 0x1000));
    assert!(n.r.blacklisted(PEER, 0x1001));
    assert!(n.records().is_empty(), "blacklists are not recorded");
    assert_eq!(n.c.stat(Stat::SaNoticesApplied), 3);
}

#[test]
fn the_blacklist_is_resent_even_behind_many_validations() {
    let mut n = Net::new(cfg());
    n.tick();
    for i in 0..20 {
        n.c.validate(PEER, 0x1000 + i).unwrap();
        n.tick();
    }
    n.c.blacklist_add(Some(ATTACKER), None).unwrap();
    n.tick();
    assert!(n.r.blacklisted(ATTACKER, 0x1000));
    let b = n.r.restart(EPOCH + 1);
    n.deliver(&b);
    // More stale validations than the SA queue holds: the blacklist
    // entry waits its turn instead of being forgotten.
    for _ in 0..5 {
        n.tick();
    }
    assert!(n.r.validated(PEER, 0x1000 + 19));
    assert!(n.r.blacklisted(ATTACKER, 0x1000));
}
