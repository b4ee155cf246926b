// SPDX-License-Identifier: GPL-2.0

//! Tests of the PAP serving rules (`pap_serving.rs`): the reply cache,
//! the request budgets, a host new to its slot, revoked hosts, and the
//! order of authentication, cache, budget and tables.

use std::vec;
use std::vec::Vec;

use super::*;
use crate::alloc_table::Settings;
use crate::config::Range;
use crate::pap::{scope, Message, PortBlock, PortClass, Trailer};
use crate::pap_auth::{parse, wrap, Tag};
use crate::sa_table::{SaLayout, Seed};
use crate::store::{AllocStore, RouterStore, SaStore};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 6);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const EPOCH: u32 = 0x5eed;
const HALF: Key = [9; 16];
const HOSTS: usize = 4;
const LAN: Lan = Lan {
    addr: Ipv4Addr::new(10, 0, 0, 1),
    mask: Ipv4Addr::new(255, 255, 255, 0),
};

/// A router's tables and serving state.
struct Router {
    store: RouterStore,
    st: ServingState<Vec<HostServing>, HOSTS>,
    policy: Policy,
}

/// What one message got: its counter, the new slot and the reply.
struct Got {
    served: Served,
    reply: Option<Message>,
}

impl Router {
    fn new(mode: Mode, rate: u32) -> Self {
        let mut alloc = AllocStore::new(HOSTS, Settings::UNLIMITED);
        alloc.table().set_pools(
            Some(Range {
                min: 20000,
                max: 20999,
            }),
            Some(Range {
                min: 0x1000,
                max: 0x1fff,
            }),
            |_| {},
        );
        Self {
            store: RouterStore {
                alloc,
                sa: SaStore::new(
                    SaLayout {
                        buckets: 64,
                        hosts: HOSTS,
                    },
                    Seed([1, 2]),
                ),
            },
            st: ServingState::new(vec![HostServing::EMPTY; HOSTS + 1], [7; 16]),
            policy: Policy {
                mode,
                rate,
                epoch: EPOCH,
                lan: LAN,
            },
        }
    }

    /// Serves the wire bytes `b` from `host` at `now`.
    fn serve(&mut self, host: Ipv4Addr, b: &[u8], now: u64) -> Got {
        let frame = parse(b, Direction::ToRouter).unwrap();
        let mut out = [0u8; MAX_WIRE];
        let (mut t, mut sa) = self.store.both();
        let served = self
            .st
            .serve(
                &mut t,
                &mut sa,
                &self.policy,
                host,
                &frame,
                b,
                now,
                &mut out,
            )
            .unwrap();
        let reply = (served.len > 0).then(|| match parse(&out[..served.len], Direction::ToHost) {
            Ok(Frame::Plain(m) | Frame::Sealed(m, _)) => m,
            f => panic!("not a reply: {f:?}"),
        });
        Got { served, reply }
    }

    /// Serves the plain message `m` from `host` at `now`.
    fn plain(&mut self, host: Ipv4Addr, m: &Message, now: u64) -> Got {
        self.serve(host, &wire(m, None, host), now)
    }

    /// A key for `host`, granted at `now`.
    fn key(&mut self, host: Ipv4Addr, now: u64) -> (u32, Key) {
        let req = KeyRequest {
            half: HALF,
            ext: Trailer {
                xid: 1,
                epoch: 0,
                lease: 0,
            },
        };
        let mut out = [0u8; MAX_WIRE];
        let s = self.st.grant_key(host, &req, EPOCH, now, &mut out).unwrap();
        assert_eq!(s.stat, Stat::KeyGranted);
        let Ok(Frame::KeyGrant(g, _)) = parse(&out[..s.len], Direction::ToHost) else {
            panic!("not a grant");
        };
        (g.key_id, wrap(&g.wrapped, &HALF, host, g.key_id))
    }

    /// Lets every grace period elapse (freed slots become free).
    fn settle(&mut self) {
        let (mut t, mut sa) = self.store.both();
        while let Some(tok) = t.start_grace() {
            t.finish_grace(tok);
        }
        while let Some(tok) = sa.start_grace() {
            sa.finish_grace(tok);
        }
    }

    fn slot(&mut self, host: Ipv4Addr) -> Option<Slot> {
        self.store.alloc.table().find_host(host)
    }
}

/// `m` encoded, sealed with `key` and `tag` if given.
fn wire(m: &Message, key: Option<(&Key, Tag)>, host: Ipv4Addr) -> Vec<u8> {
    let mut out = [0u8; MAX_WIRE];
    let mut n = pap::encode(m, &mut out).unwrap();
    if let Some((k, tag)) = key {
        n = seal(&mut out, n, k, tag, Direction::ToRouter, host).unwrap();
    }
    out[..n].to_vec()
}

fn ext(xid: u32) -> Option<Trailer> {
    Some(Trailer {
        xid,
        epoch: EPOCH,
        lease: 0,
    })
}

fn request(xid: u32) -> Message {
    Message::PortRequest {
        class: PortClass::High,
        count: 4,
        ext: ext(xid),
    }
}

fn release_all(xid: u32) -> Message {
    Message::InvalidateAll {
        dir: Direction::ToRouter,
        scope: scope::ALL,
        ext: ext(xid),
    }
}

/// The block a port response grants.
fn granted(g: &Got) -> Option<PortBlock> {
    match g.reply {
        Some(Message::PortResponse { result, .. }) => result.ok(),
        _ => None,
    }
}

fn refused(g: &Got) -> Option<Reason> {
    match g.reply {
        Some(Message::PortResponse { result, .. }) => result.err(),
        _ => None,
    }
}

// The reply cache.

#[test]
fn retransmission_gets_the_cached_reply_and_changes_nothing() {
    let mut r = Router::new(Mode::Optional, 0);
    let first = r.plain(A, &request(11), 1);
    assert_eq!(first.served.stat, Stat::Granted);
    let again = r.plain(A, &request(11), 2);
    assert_eq!(again.served.stat, Stat::Retransmitted);
    assert_eq!(again.reply, first.reply);
    assert_eq!(again.served.event, None);
    let held = r.store.alloc.table().host(A).unwrap().ports;
    assert_eq!(held, 4, "the retransmission granted nothing more");
    // A new xid is served anew.
    let next = r.plain(A, &request(12), 3);
    assert_eq!(next.served.stat, Stat::Granted);
    assert_ne!(granted(&next), granted(&first));
}

#[test]
fn base_messages_are_never_cached() {
    let mut r = Router::new(Mode::Optional, 0);
    let base = Message::PortRequest {
        class: PortClass::High,
        count: 4,
        ext: None,
    };
    let a = r.plain(A, &base, 1);
    let b = r.plain(A, &base, 1);
    assert_eq!(
        (a.served.stat, b.served.stat),
        (Stat::Granted, Stat::Granted)
    );
    assert_ne!(granted(&a), granted(&b));
}

#[test]
fn forgotten_replies_are_served_anew() {
    let mut r = Router::new(Mode::Optional, 0);
    r.plain(A, &request(11), 1);
    let s = r.slot(A).unwrap();
    r.st.forget_reply(s);
    assert_eq!(r.plain(A, &request(11), 2).served.stat, Stat::Granted);
    r.st.forget_replies();
    assert_eq!(r.plain(A, &request(11), 3).served.stat, Stat::Granted);
    assert_eq!(r.store.alloc.table().host(A).unwrap().ports, 12);
}

// The request budget.

#[test]
fn request_budget_runs_out_then_refills() {
    let mut r = Router::new(Mode::Optional, 2);
    // The request that makes A known counts: one more this second.
    assert_eq!(r.plain(A, &request(1), 10).served.stat, Stat::Granted);
    assert_eq!(r.plain(A, &request(2), 10).served.stat, Stat::Granted);
    let limited = r.plain(A, &request(3), 10);
    assert_eq!(limited.served.stat, Stat::RateLimited);
    assert_eq!(refused(&limited), Some(Reason::RateLimited));
    assert_eq!(r.store.alloc.table().host(A).unwrap().ports, 8);
    // Renewals and releases do not draw from it.
    let renew = Message::PortRenew {
        block: granted(&r.plain(A, &request(3), 10)).unwrap_or(PortBlock {
            lowest: 20000,
            count: 4,
        }),
        ext: Trailer {
            xid: 4,
            epoch: EPOCH,
            lease: 0,
        },
    };
    assert_eq!(r.plain(A, &renew, 10).served.stat, Stat::Renewed);
    // A second later, `rate` more.
    assert_eq!(r.plain(A, &request(5), 11).served.stat, Stat::Granted);
    assert_eq!(r.plain(A, &request(6), 11).served.stat, Stat::Granted);
    assert_eq!(r.plain(A, &request(7), 11).served.stat, Stat::RateLimited);
}

#[test]
fn no_rate_no_limit() {
    let mut r = Router::new(Mode::Optional, 0);
    for x in 1..=10 {
        assert_eq!(r.plain(A, &request(x), 1).served.stat, Stat::Granted);
    }
}

#[test]
fn budget_primitives() {
    let mut r = Router::new(Mode::Optional, 0);
    assert!(r.st.take_request(1, A, 1, 5));
    assert!(!r.st.take_request(1, A, 1, 5));
    // Another address in the slot starts with a full budget.
    assert!(r.st.take_request(1, B, 1, 5));
    // Slots out of range are not limited.
    assert!(r.st.take_request(99, A, 1, 5));
}

// A host new to its slot.

#[test]
fn a_new_host_in_a_slot_starts_clean() {
    let mut r = Router::new(Mode::Optional, 1);
    let a = r.plain(A, &request(11), 1);
    let s = a.served.new_slot.expect("A is new");
    assert_eq!(r.plain(A, &request(12), 1).served.stat, Stat::RateLimited);
    // A gives everything back; its slot is freed after the grace period,
    // with state left in the SA table (as a lease expiry racing a
    // validation could leave it).
    assert_eq!(r.plain(A, &release_all(13), 2).served.stat, Stat::Released);
    r.settle();
    assert_eq!(r.slot(A), None);
    r.store
        .sa
        .table()
        .validate(s, PEER, 0x1000, None, |_, _| true)
        .unwrap();
    // B takes the slot: A's cached reply, budget and SAs are not B's.
    let b = r.plain(B, &request(11), 2);
    assert_eq!(b.served.new_slot, Some(s));
    assert_eq!(b.served.stat, Stat::Granted, "not A's cached reply");
    assert_eq!(r.store.sa.table().host_counts(s), (0, 0));
    assert_eq!(r.plain(B, &request(14), 2).served.stat, Stat::RateLimited);
    // Known hosts report no new slot.
    assert_eq!(r.plain(B, &request(15), 9).served.new_slot, None);
}

#[test]
fn a_host_back_in_its_slot_keeps_its_budget() {
    let mut r = Router::new(Mode::Optional, 1);
    r.plain(A, &request(11), 1);
    r.plain(A, &release_all(12), 1);
    r.settle();
    // Still the same second: the budget A left with is empty.
    let back = r.plain(A, &request(13), 1);
    assert!(back.served.new_slot.is_some());
    assert_eq!(back.served.stat, Stat::Granted, "the table serves it");
    assert_eq!(r.plain(A, &request(14), 1).served.stat, Stat::RateLimited);
}

#[test]
fn new_host_forgets_only_the_reply() {
    let mut r = Router::new(Mode::Optional, 0);
    r.plain(A, &request(11), 1);
    let s = r.slot(A).unwrap();
    r.st.new_host(s);
    assert_eq!(r.plain(A, &request(11), 1).served.stat, Stat::Granted);
}

// Revoked hosts.

#[test]
fn revoked_hosts_get_revoked_not_rate_limited_nor_cached() {
    let mut r = Router::new(Mode::Optional, 1);
    let first = r.plain(A, &request(11), 1);
    r.store.alloc.table().revoke_host(A, |_| {}).unwrap();
    let s = r.slot(A).unwrap();
    r.st.revoked(s);
    // The retransmission is answered by the tables, not the cache.
    let again = r.plain(A, &request(11), 1);
    assert_ne!(again.reply, first.reply);
    assert_eq!(refused(&again), Some(Reason::Revoked));
    // Over its budget, still `revoked`: it must stop, not retry.
    let more = r.plain(A, &request(12), 1);
    assert_eq!(more.served.stat, Stat::Refused);
    assert_eq!(refused(&more), Some(Reason::Revoked));
}

// Authentication, in its place before everything else.

#[test]
fn required_mode_refuses_plain_messages_before_the_tables() {
    let mut r = Router::new(Mode::Required, 0);
    let g = r.plain(A, &request(11), 1);
    assert_eq!(g.served.stat, Stat::AuthMissing);
    assert_eq!(refused(&g), Some(Reason::Unauthenticated));
    assert_eq!(r.slot(A), None, "the tables were not touched");
    // A base notice is not answered.
    let notice = Message::InvalidateAll {
        dir: Direction::ToRouter,
        scope: scope::ALL,
        ext: None,
    };
    let n = r.plain(A, &notice, 1);
    assert_eq!((n.served.stat, n.reply), (Stat::AuthMissing, None));
}

#[test]
fn sealed_messages_are_served_and_sealed_back() {
    let mut r = Router::new(Mode::Required, 0);
    let (id, key) = r.key(A, 1);
    let tag = Tag { key_id: id, seq: 1 };
    let b = wire(&request(11), Some((&key, tag)), A);
    let g = r.serve(A, &b, 2);
    assert_eq!(g.served.stat, Stat::Granted);
    let mut out = [0u8; MAX_WIRE];
    let frame = {
        let (mut t, mut sa) = r.store.both();
        let f = parse(&b, Direction::ToRouter).unwrap();
        let s =
            r.st.serve(&mut t, &mut sa, &r.policy, A, &f, &b, 2, &mut out)
                .unwrap();
        // The same sequence number again: answered from the cache, sealed.
        assert_eq!(s.stat, Stat::Retransmitted);
        parse(&out[..s.len], Direction::ToHost).unwrap()
    };
    assert!(matches!(frame, Frame::Sealed(_, t) if t == tag));
    assert!(r.st.is_keyed(A));
    assert_eq!(r.st.key_of(A).map(|(i, _)| i), Some(id));
}

#[test]
fn keyed_hosts_must_stay_sealed_even_when_optional() {
    let mut r = Router::new(Mode::Optional, 0);
    assert_eq!(r.plain(B, &request(1), 1).served.stat, Stat::Granted);
    let (id, key) = r.key(A, 1);
    let tag = Tag { key_id: id, seq: 1 };
    let sealed = r.serve(A, &wire(&request(2), Some((&key, tag)), A), 1);
    assert_eq!(sealed.served.stat, Stat::Granted);
    let plain = r.plain(A, &request(3), 1);
    assert_eq!(plain.served.stat, Stat::AuthMissing);
}

#[test]
fn replays_and_bad_keys_are_refused_in_order() {
    let mut r = Router::new(Mode::Required, 0);
    let (id, key) = r.key(A, 1);
    let seal_with =
        |seq: u32, xid: u32| wire(&request(xid), Some((&key, Tag { key_id: id, seq })), A);
    assert_eq!(r.serve(A, &seal_with(5, 50), 1).served.stat, Stat::Granted);
    // An older sequence number: dropped, no reply.
    let old = r.serve(A, &seal_with(4, 51), 1);
    assert_eq!((old.served.stat, old.served.len), (Stat::AuthReplayed, 0));
    // The last sequence number with another xid: no cached reply for it,
    // a replay.
    let same = r.serve(A, &seal_with(5, 52), 1);
    assert_eq!(same.served.stat, Stat::AuthReplayed);
    // A wrong MAC, an unknown key: answered `unauthenticated`.
    let wrong = [0x55; 16];
    let bad = wire(&request(53), Some((&wrong, Tag { key_id: id, seq: 6 })), A);
    let g = r.serve(A, &bad, 1);
    assert_eq!(g.served.stat, Stat::AuthBadMac);
    assert_eq!(refused(&g), Some(Reason::Unauthenticated));
    let other = wire(
        &request(54),
        Some((
            &key,
            Tag {
                key_id: id + 7,
                seq: 9,
            },
        )),
        A,
    );
    assert_eq!(r.serve(A, &other, 1).served.stat, Stat::AuthUnknownKey);
    assert_eq!(r.store.alloc.table().host(A).unwrap().ports, 4);
}

#[test]
fn key_grants_are_rate_limited() {
    let mut r = Router::new(Mode::Required, 0);
    let req = KeyRequest {
        half: HALF,
        ext: Trailer {
            xid: 1,
            epoch: 0,
            lease: 0,
        },
    };
    let mut out = [0u8; MAX_WIRE];
    let stats: Vec<Stat> = (0..=crate::pap_auth::KEY_GRANTS_PER_SEC)
        .map(|_| r.st.grant_key(A, &req, EPOCH, 3, &mut out).unwrap().stat)
        .collect();
    assert!(stats[..stats.len() - 1]
        .iter()
        .all(|&s| s == Stat::KeyGranted));
    assert_eq!(stats.last(), Some(&Stat::KeyRateLimited));
    assert_eq!(
        r.st.grant_key(A, &req, EPOCH, 4, &mut out).unwrap().stat,
        Stat::KeyGranted
    );
}

#[test]
fn key_frames_are_not_served_as_messages() {
    let mut r = Router::new(Mode::Optional, 0);
    let req = Frame::KeyRequest(KeyRequest {
        half: HALF,
        ext: Trailer {
            xid: 1,
            epoch: 0,
            lease: 0,
        },
    });
    let mut out = [0u8; MAX_WIRE];
    let (mut t, mut sa) = r.store.both();
    assert_eq!(
        r.st.serve(&mut t, &mut sa, &r.policy, A, &req, &[], 1, &mut out),
        None
    );
}
