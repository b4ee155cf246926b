// SPDX-License-Identifier: GPL-2.0

//! Which events the router module reports (`uapi::router_event`), from
//! what: a PAP message served ([`of_pap`], with [`released_block`] looked
//! up before serving), a lease that ended ([`expired`]), an administrator's
//! command, a flooding drop counter ([`flood`]); and the rate limit of each
//! type ([`rate`]). `events.rs` has the queue, the budgets and the flood
//! detection; `rust/router/notify.rs` the kernel glue.
//!
//! Revocations and resets report one event, not one per block they retire;
//! blocks retired by a change of the pools are not reported.

use core::net::Ipv4Addr;

use super::alloc_table::{AllocTable, BlockInfo, Kind};
use super::events::{asked, Block, Event};
use super::pap::{scope, Message, Reason};
use super::pap_server::Stat;
use super::uapi::{block_kind, router_event as ev};

/// Events waiting to be sent per namespace.
pub const QUEUE: usize = 64;
/// Event types with a budget (`uapi::router_event` values below it).
pub const KINDS: usize = 16;

/// Refusals a second of each type ([`ev::OVER_QUOTA`],
/// [`ev::RATE_LIMITED`]) sent at most: a host that floods the PAP server
/// does not flood the listeners too.
pub const REFUSAL_RATE: u32 = 10;
/// Other events a host's PAP drives (grants, renewals, releases, expiries,
/// SA and blacklist changes), a second of each type, at most.
pub const PAP_RATE: u32 = 100;

/// The rate limit of events of type `kind`, a second; `None`: none
/// (administrators' commands, floods, which have their own hold-off, and
/// overflows).
pub const fn rate(kind: u8) -> Option<u32> {
    match kind {
        ev::OVER_QUOTA | ev::RATE_LIMITED => Some(REFUSAL_RATE),
        ev::GRANTED
        | ev::RENEWED
        | ev::RELEASED
        | ev::EXPIRED
        | ev::SA_VALIDATED
        | ev::SA_INVALIDATED
        | ev::BLACKLIST_ADDED
        | ev::BLACKLIST_REMOVED => Some(PAP_RATE),
        _ => None,
    }
}

const fn kind_of(k: Kind) -> u8 {
    match k {
        Kind::Port => block_kind::PORTS,
        Kind::Spi => block_kind::SPIS,
    }
}

/// A block of the tables, as events carry it.
pub const fn block_of(b: &BlockInfo) -> Block {
    Block {
        kind: kind_of(b.kind),
        lowest: Some(b.lowest),
        count: b.count,
    }
}

/// The lease of block `b` ended.
pub const fn expired(b: &BlockInfo) -> Event {
    Event::new(ev::EXPIRED).addr(b.host).block(block_of(b))
}

/// `kind` ([`ev::REVOKED`], [`ev::READMITTED`]) about `host`.
pub const fn host(kind: u8, host: Ipv4Addr) -> Event {
    Event::new(kind).addr(host)
}

/// A reset, with the new epoch.
pub const fn reset(epoch: u32) -> Event {
    Event::new(ev::RESET).epoch(epoch)
}

/// An SA or blacklist change ([`ev::SA_VALIDATED`], ...) of `host`.
pub const fn sa(kind: u8, host: Ipv4Addr, peer: Option<Ipv4Addr>, spi: Option<u32>) -> Event {
    Event::new(kind).addr(host).peer(peer).spi(spi)
}

/// The drop counter `reason` rose by `per_second` a second.
pub const fn flood(reason: &'static str, per_second: u64) -> Event {
    Event::new(ev::FLOOD).reason(reason).count(per_second)
}

/// The active block of `host` that the release notice `msg` names (the
/// whole block holding a port or SPI for 32/2 and 33/2, as the table
/// retires it), looked up before the message is served.
pub fn released_block(t: &AllocTable<'_>, host: Ipv4Addr, msg: &Message) -> Option<Block> {
    let (kind, value) = match *msg {
        Message::PortInvalidate { port, .. } => (Kind::Port, u32::from(port)),
        Message::PortBlockInvalidate { block, .. } => (Kind::Port, u32::from(block.lowest)),
        Message::SpiInvalidate { spi, .. } => (Kind::Spi, spi),
        Message::SpiBlockInvalidate { block, .. } => (Kind::Spi, block.lowest),
        _ => return None,
    };
    let slot = t.find_host(host)?;
    t.host_blocks(slot)
        .map(|(_, b)| b)
        .find(|b| b.kind == kind && !b.retiring && b.lowest <= value && value <= b.last())
        .map(|b| block_of(&b))
}

/// What an invalidate-all from a host gave back.
const fn scope_name(s: u8) -> &'static str {
    match (s & scope::PORTS != 0, s & scope::SPIS != 0) {
        (true, true) => "all",
        (true, false) => "all-ports",
        (false, true) => "all-spis",
        (false, false) => "sas",
    }
}

/// The event of PAP message `msg` from `host`, served with `reply` and
/// counted as `stat` (`pap_server::serve_with_sa`, or the rate limit);
/// `released` is what [`released_block`] found before. `None`: nothing to
/// report (a refusal for another reason than the quota, a retransmission,
/// an authentication failure, ...).
pub fn of_pap(
    host: Ipv4Addr,
    msg: &Message,
    reply: Option<&Message>,
    stat: Stat,
    released: Option<Block>,
) -> Option<Event> {
    let e = |kind| Event::new(kind).addr(host);
    match stat {
        Stat::Granted | Stat::Renewed => {
            let kind = if stat == Stat::Granted {
                ev::GRANTED
            } else {
                ev::RENEWED
            };
            let (block, ext) = match *reply? {
                Message::PortResponse { result: Ok(b), ext } => (
                    Block {
                        kind: block_kind::PORTS,
                        lowest: Some(u32::from(b.lowest)),
                        count: u32::from(b.count),
                    },
                    ext,
                ),
                Message::SpiResponse { result: Ok(b), ext } => (
                    Block {
                        kind: block_kind::SPIS,
                        lowest: Some(b.lowest),
                        count: u32::from(b.count),
                    },
                    ext,
                ),
                _ => return None,
            };
            Some(e(kind).block(block).lease(ext.map_or(0, |x| x.lease)))
        }
        Stat::Released => Some(match *msg {
            Message::InvalidateAll { scope: s, .. } => e(ev::RELEASED).reason(scope_name(s)),
            _ => {
                let r = e(ev::RELEASED);
                match released {
                    Some(b) => r.block(b),
                    None => r,
                }
            }
        }),
        Stat::Refused => {
            let over_quota = matches!(
                *reply?,
                Message::PortResponse {
                    result: Err(Reason::OverQuota),
                    ..
                } | Message::SpiResponse {
                    result: Err(Reason::OverQuota),
                    ..
                }
            );
            let b = asked(msg)?;
            over_quota.then(|| e(ev::OVER_QUOTA).block(b))
        }
        Stat::RateLimited => Some(e(ev::RATE_LIMITED).block(asked(msg)?)),
        Stat::SaValidated | Stat::SaInvalidated | Stat::BlacklistAdded | Stat::BlacklistRemoved => {
            let (kind, peer, spi) = match *msg {
                Message::SaValidate { addr, spi, .. } => (ev::SA_VALIDATED, Some(addr), Some(spi)),
                Message::SaInvalidate { addr, spi, .. } => {
                    (ev::SA_INVALIDATED, Some(addr), Some(spi))
                }
                Message::BlacklistAdd { addr, spi, .. } => (ev::BLACKLIST_ADDED, addr, spi),
                Message::BlacklistRemove { addr, spi, .. } => (ev::BLACKLIST_REMOVED, addr, spi),
                _ => return None,
            };
            Some(sa(kind, host, peer, spi))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_table::Settings;
    use crate::config::Range;
    use crate::pap::{Acked, Direction, PortBlock, PortClass, Trailer};
    use crate::pap_server::{rate_limited, serve_with_sa};
    use crate::sa_table::{Lan, SaLayout, Seed};
    use crate::store::{AllocStore, RouterStore, SaStore};

    const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const PEER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
    const LAN: Lan = Lan {
        addr: Ipv4Addr::new(10, 0, 0, 7),
        mask: Ipv4Addr::new(255, 255, 255, 0),
    };

    fn ext(lease: u32) -> Option<Trailer> {
        Some(Trailer {
            xid: 9,
            epoch: 0,
            lease,
        })
    }

    /// A router with pools (4 hosts).
    fn router() -> RouterStore {
        let mut r = RouterStore {
            alloc: AllocStore::new(4, Settings::DEFAULT),
            sa: SaStore::new(
                SaLayout {
                    buckets: 64,
                    hosts: 4,
                },
                Seed([1, 2]),
            ),
        };
        let ports = Some(Range {
            min: 20000,
            max: 20999,
        });
        let spis = Some(Range {
            min: 0x1000,
            max: 0x1fff,
        });
        r.both().0.set_pools(ports, spis, |_| {});
        r
    }

    /// Serves `msg` from H1 the way the module does: the release looked up
    /// first, then the message served, then its event.
    fn serve(r: &mut RouterStore, msg: Message, now: u64) -> Option<Event> {
        let (mut t, mut sa) = r.both();
        let released = released_block(&t, H1, &msg);
        let (reply, stat) = serve_with_sa(&mut t, &mut sa, LAN, H1, &msg, now, 5);
        of_pap(H1, &msg, reply.as_ref(), stat, released)
    }

    fn ports(lowest: u32, count: u32) -> Block {
        Block {
            kind: block_kind::PORTS,
            lowest: Some(lowest),
            count,
        }
    }

    #[test]
    fn grants_renewals_and_releases() {
        let mut r = router();
        let req = Message::PortRequest {
            class: PortClass::High,
            count: 16,
            ext: ext(600),
        };
        let g = serve(&mut r, req, 100).unwrap();
        assert_eq!(g.kind, ev::GRANTED);
        assert_eq!(g.addr, Some(H1));
        assert_eq!(g.block, Some(ports(20000, 16)));
        assert_eq!(g.lease, Some(600));
        let renew = Message::PortRenew {
            block: PortBlock {
                lowest: 20000,
                count: 16,
            },
            ext: Trailer {
                xid: 10,
                epoch: 5,
                lease: 300,
            },
        };
        let n = serve(&mut r, renew, 200).unwrap();
        assert_eq!(
            (n.kind, n.block, n.lease),
            (ev::RENEWED, Some(ports(20000, 16)), Some(300))
        );
        // A single port names the whole block it lies in.
        let rel = Message::PortInvalidate {
            dir: Direction::ToRouter,
            port: 20005,
            ext: ext(0),
        };
        let e = serve(&mut r, rel, 201).unwrap();
        assert_eq!((e.kind, e.block), (ev::RELEASED, Some(ports(20000, 16))));
        // Releasing it again is refused: nothing to report.
        assert_eq!(serve(&mut r, rel, 202), None);
        // Without trailer: the lease is not known.
        let base = Message::SpiRequest {
            count: 16,
            ext: None,
        };
        let g = serve(&mut r, base, 203).unwrap();
        assert_eq!((g.kind, g.lease), (ev::GRANTED, None));
        assert_eq!(
            g.block.map(|b| (b.kind, b.count)),
            Some((block_kind::SPIS, 16))
        );
        let all = Message::InvalidateAll {
            dir: Direction::ToRouter,
            scope: scope::ALL,
            ext: ext(0),
        };
        let e = serve(&mut r, all, 204).unwrap();
        assert_eq!(
            (e.kind, e.reason, e.block),
            (ev::RELEASED, Some("all"), None)
        );
        assert_eq!(scope_name(scope::SPIS), "all-spis");
    }

    #[test]
    fn refusals_over_quota_are_reported_others_not() {
        let mut r = router();
        let mut set = r.both().0.settings();
        set.default_quota.ports = 8;
        r.both().0.set_settings(set);
        let req = |count| Message::PortRequest {
            class: PortClass::High,
            count,
            ext: ext(0),
        };
        assert_eq!(serve(&mut r, req(8), 1).map(|e| e.kind), Some(ev::GRANTED));
        let e = serve(&mut r, req(4), 2).unwrap();
        assert_eq!(e.kind, ev::OVER_QUOTA);
        assert_eq!(
            e.block,
            Some(Block {
                kind: block_kind::PORTS,
                lowest: None,
                count: 4
            })
        );
        // No low ports in the pool: refused with no_space, not reported.
        let low = Message::PortRequest {
            class: PortClass::Low,
            count: 1,
            ext: ext(0),
        };
        assert_eq!(serve(&mut r, low, 3), None);
        // The rate limit's refusal.
        let spi = Message::SpiRequest {
            count: 32,
            ext: ext(0),
        };
        let reply = rate_limited(&spi, 5);
        let e = of_pap(H1, &spi, reply.as_ref(), Stat::RateLimited, None).unwrap();
        assert_eq!(e.kind, ev::RATE_LIMITED);
        assert_eq!(
            e.block.map(|b| (b.kind, b.lowest, b.count)),
            Some((block_kind::SPIS, None, 32))
        );
    }

    #[test]
    fn sa_and_blacklist_notices() {
        let mut r = router();
        let g = serve(
            &mut r,
            Message::SpiRequest {
                count: 256,
                ext: ext(0),
            },
            1,
        )
        .unwrap();
        let spi = g.block.and_then(|b| b.lowest).unwrap();
        let v = serve(
            &mut r,
            Message::SaValidate {
                addr: PEER,
                spi,
                ext: ext(0),
            },
            2,
        )
        .unwrap();
        assert_eq!(
            (v.kind, v.addr, v.peer, v.spi),
            (ev::SA_VALIDATED, Some(H1), Some(PEER), Some(spi))
        );
        let b = serve(
            &mut r,
            Message::BlacklistAdd {
                addr: None,
                spi: Some(spi + 1),
                ext: ext(0),
            },
            3,
        )
        .unwrap();
        assert_eq!(
            (b.kind, b.peer, b.spi),
            (ev::BLACKLIST_ADDED, None, Some(spi + 1))
        );
        let b = serve(
            &mut r,
            Message::BlacklistRemove {
                addr: None,
                spi: Some(spi + 1),
                ext: ext(0),
            },
            4,
        )
        .unwrap();
        assert_eq!(b.kind, ev::BLACKLIST_REMOVED);
        let i = serve(
            &mut r,
            Message::SaInvalidate {
                addr: PEER,
                spi,
                ext: ext(0),
            },
            5,
        )
        .unwrap();
        assert_eq!(i.kind, ev::SA_INVALIDATED);
        // A validation of an SPI the host does not hold is refused.
        let refused = Message::SaValidate {
            addr: PEER,
            spi: 0x1f00,
            ext: ext(0),
        };
        assert_eq!(serve(&mut r, refused, 6), None);
        // The acknowledgement itself never reaches the router's server.
        let ack = Message::Ack {
            acked: Acked::SaValidate,
            result: Ok(()),
            ext: Trailer {
                xid: 1,
                epoch: 1,
                lease: 0,
            },
        };
        assert_eq!(of_pap(H1, &ack, None, Stat::Unsupported, None), None);
    }

    #[test]
    fn expiry_and_admin_events() {
        let mut r = router();
        let (mut t, _) = r.both();
        let g = t.request_spis(H1, 16, 2, 100).unwrap();
        let mut seen = None;
        t.expire(103, |b| seen = Some(expired(b)));
        let e = seen.unwrap();
        assert_eq!(e.kind, ev::EXPIRED);
        assert_eq!(e.addr, Some(H1));
        assert_eq!(
            e.block,
            Some(Block {
                kind: block_kind::SPIS,
                lowest: Some(g.lowest),
                count: 16
            })
        );
        assert_eq!(host(ev::REVOKED, H1).addr, Some(H1));
        assert_eq!(reset(77).epoch, Some(77));
        let f = flood("out_spoofed", 250);
        assert_eq!(
            (f.kind, f.reason, f.count),
            (ev::FLOOD, Some("out_spoofed"), Some(250))
        );
    }

    #[test]
    fn rates() {
        assert_eq!(rate(ev::RATE_LIMITED), Some(REFUSAL_RATE));
        assert_eq!(rate(ev::OVER_QUOTA), Some(REFUSAL_RATE));
        assert_eq!(rate(ev::GRANTED), Some(PAP_RATE));
        for k in [
            ev::REVOKED,
            ev::READMITTED,
            ev::RESET,
            ev::FLOOD,
            ev::OVERFLOW,
        ] {
            assert_eq!(rate(k), None, "{k}");
        }
        assert!(usize::from(ev::OVERFLOW) < KINDS);
    }
}
