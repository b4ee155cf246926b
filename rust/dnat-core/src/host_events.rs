// SPDX-License-Identifier: GPL-2.0

//! Which events the host module reports (`uapi::host_event`) about its PAP
//! client (`pap_client.rs`).
//!
//! The client reports changes coarsely ([`Changes`]: "the held ports
//! changed"); the events name blocks. [`Holdings`] keeps the blocks last
//! reported and, after each call that may change them, compares them with
//! what the client holds: a block gone is `lost` (with the reason the call
//! implies, [`Lost`]), a block whose lease end moved `renewed`, a new one
//! `granted`. [`on_receive`] adds what a message from the router tells
//! (a router restart, a refusal, an SA notice's acknowledgement).
//! `events.rs` has the queue; `rust/host/notify.rs` the kernel glue.

use core::net::Ipv4Addr;

use super::events::{Block, Event};
use super::pap::Message;
use super::pap_client::{Client, Event as ClientEvent, SaNoticeKind, MAX_BLOCKS};
use super::uapi::{block_kind, host_event as ev};

/// Events waiting to be sent per namespace.
pub const QUEUE: usize = 32;

/// Why held blocks were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The host gave it back (an administrator's release, or unused).
    Released,
    /// Its lease ended.
    Expired,
    /// The router invalidated it.
    Invalidated,
    /// The router refused its renewal (not the host's any more, or the
    /// host is revoked).
    Refused,
    /// The router restarted (a new epoch): nothing held before is valid.
    RouterRestart,
    /// The client stopped.
    Stopped,
}

impl Lost {
    /// The reason's name in `lost` events.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Invalidated => "invalidated",
            Self::Refused => "refused",
            Self::RouterRestart => "router-restart",
            Self::Stopped => "stopped",
        }
    }
}

/// A held block as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    block: Block,
    lease: u32,
    expires_at: Option<u32>,
}

/// What `c` holds now, port blocks first.
fn held_now(c: &Client) -> impl Iterator<Item = Held> + '_ {
    let ports = c.port_blocks().map(|h| Held {
        block: Block {
            kind: block_kind::PORTS,
            lowest: Some(u32::from(h.block.lowest)),
            count: u32::from(h.block.count),
        },
        lease: h.lease,
        expires_at: h.expires_at,
    });
    let spis = c.spi_blocks().map(|h| Held {
        block: Block {
            kind: block_kind::SPIS,
            lowest: Some(h.block.lowest),
            count: u32::from(h.block.count),
        },
        lease: h.lease,
        expires_at: h.expires_at,
    });
    ports.chain(spis)
}

/// The blocks last reported held.
#[derive(Debug, Clone)]
pub struct Holdings {
    held: [Option<Held>; 2 * MAX_BLOCKS],
}

impl Holdings {
    /// Nothing held.
    pub const fn new() -> Self {
        Self {
            held: [None; 2 * MAX_BLOCKS],
        }
    }

    /// Reports how what `client` holds (nothing, if `None`) differs from
    /// what was last reported, and remembers it: `lost` (reason `why`) for
    /// each block gone, `renewed` for each whose lease end moved, then
    /// `granted` for each new one. With `restart` every block reported
    /// before is lost, even one held again (granted anew by a restarted
    /// router).
    pub fn update(
        &mut self,
        client: Option<&Client>,
        why: Lost,
        restart: bool,
        mut emit: impl FnMut(Event),
    ) {
        for slot in self.held.iter_mut() {
            let Some(old) = *slot else {
                continue;
            };
            let now = client
                .filter(|_| !restart)
                .and_then(|c| held_now(c).find(|h| h.block == old.block));
            match now {
                None => {
                    emit(Event::new(ev::LOST).block(old.block).reason(why.name()));
                    *slot = None;
                }
                Some(h) if h.expires_at != old.expires_at => {
                    emit(Event::new(ev::RENEWED).block(h.block).lease(h.lease));
                    *slot = Some(h);
                }
                Some(_) => {}
            }
        }
        let Some(c) = client else {
            return;
        };
        for h in held_now(c) {
            if self.held.iter().flatten().any(|o| o.block == h.block) {
                continue;
            }
            if let Some(free) = self.held.iter_mut().find(|s| s.is_none()) {
                *free = Some(h);
                emit(Event::new(ev::GRANTED).block(h.block).lease(h.lease));
            }
        }
    }
}

impl Default for Holdings {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a message from the router that changed the holdings (`Changed`)
/// took blocks away: a reply (a refused renewal), or an invalidation.
pub const fn lost_reason(msg: &Message) -> Lost {
    match msg {
        Message::PortResponse { .. } | Message::SpiResponse { .. } | Message::Ack { .. } => {
            Lost::Refused
        }
        _ => Lost::Invalidated,
    }
}

/// The events of `msg`, a message from the router that `c` answered with
/// `what` (`Client::receive`); `asked`: what the transaction outstanding
/// before it asked for (`events::asked` of `Client::outstanding`). In
/// order: the router's restart, the changes of the holdings, then a
/// refusal or an SA notice's outcome.
pub fn on_receive(
    h: &mut Holdings,
    c: &Client,
    msg: &Message,
    what: &ClientEvent,
    asked: Option<Block>,
    mut emit: impl FnMut(Event),
) {
    match *what {
        ClientEvent::Changed(ch) => {
            if ch.epoch {
                emit(Event::new(ev::ROUTER_RESTART).epoch(c.epoch()));
            }
            let why = if ch.epoch {
                Lost::RouterRestart
            } else {
                lost_reason(msg)
            };
            h.update(Some(c), why, ch.epoch, emit);
        }
        ClientEvent::Refused(r) => {
            let e = Event::new(ev::REFUSED).reason(r.name());
            emit(match asked {
                Some(b) => e.block(b),
                None => e,
            });
            // A refusal changes nothing held; a renewal's answer may have.
            h.update(Some(c), Lost::Refused, false, emit);
        }
        ClientEvent::SaNotice {
            kind,
            addr,
            spi,
            result,
        } => {
            let k = match (result, kind) {
                (Err(_), _) => ev::SA_REFUSED,
                (Ok(()), SaNoticeKind::Validate) => ev::SA_VALIDATED,
                (Ok(()), SaNoticeKind::Invalidate) => ev::SA_INVALIDATED,
                (Ok(()), SaNoticeKind::BlacklistAdd) => ev::BLACKLIST_ADDED,
                (Ok(()), SaNoticeKind::BlacklistRemove) => ev::BLACKLIST_REMOVED,
            };
            let e = Event::new(k).peer(addr).spi(spi);
            emit(match result {
                Err(r) => e.reason(r.name()),
                Ok(()) => e,
            });
        }
        // Renewals are answered with `Nothing`: their new lease ends show
        // in the holdings.
        ClientEvent::Nothing => h.update(Some(c), Lost::Invalidated, false, emit),
        ClientEvent::Ignored(_) => {}
    }
}

/// The client in a namespace was replaced: `had` a client before (it
/// stopped: what it held is lost), `router`: the router of the new one, if
/// it started.
pub fn on_restart(
    h: &mut Holdings,
    had: bool,
    router: Option<Ipv4Addr>,
    mut emit: impl FnMut(Event),
) {
    if had {
        emit(Event::new(ev::STOPPED));
    }
    h.update(None, Lost::Stopped, false, &mut emit);
    if let Some(r) = router {
        emit(Event::new(ev::STARTED).addr(r));
    }
}

/// The host mode changed to `mode` (`uapi::host_mode`).
pub const fn mode_changed(mode: u8) -> Event {
    Event::new(ev::MODE_CHANGED).mode(mode)
}

/// The PAP client got a key.
pub const fn key_installed() -> Event {
    Event::new(ev::KEY_INSTALLED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_table::Settings;
    use crate::config::Range;
    use crate::events::asked;
    use crate::pap::{decode, scope, Direction, PortBlock, Reason, Trailer};
    use crate::pap_client::{Action, Config};
    use crate::pap_server::serve_with_sa;
    use crate::sa_table::{Lan, SaLayout, Seed};
    use crate::store::{AllocStore, RouterStore, SaStore};
    use crate::uapi::host_mode;
    use std::vec::Vec;

    const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const PEER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
    const LAN: Lan = Lan {
        addr: Ipv4Addr::new(10, 0, 0, 7),
        mask: Ipv4Addr::new(255, 255, 255, 0),
    };

    /// A router with a 60 s default lease, a client of H1 and its
    /// holdings, and the events reported so far.
    struct Net {
        r: RouterStore,
        epoch: u32,
        c: Client,
        h: Holdings,
        events: Vec<Event>,
        now: u32,
    }

    impl Net {
        fn new() -> Self {
            let settings = Settings {
                default_lease: 60,
                ..Settings::DEFAULT
            };
            let mut r = RouterStore {
                alloc: AllocStore::new(4, settings),
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
            let cfg = Config {
                port_block: 16,
                flush_on_start: false,
                ..Config::DEFAULT
            };
            let mut n = Self {
                r,
                epoch: 7,
                c: Client::new(cfg, 1).unwrap(),
                h: Holdings::new(),
                events: Vec::new(),
                now: 1000,
            };
            let ev = &mut n.events;
            on_restart(&mut n.h, false, Some(LAN.addr), |e| ev.push(e));
            n
        }

        /// Polls and serves until nothing is due, as the module's work
        /// and hook do.
        fn run(&mut self) {
            for _ in 0..32 {
                match self.c.poll(self.now, 0) {
                    Some(Action::Send(out)) => {
                        let msg = decode(out.bytes(), Direction::ToRouter).unwrap();
                        let (reply, _) = {
                            let (mut t, mut sa) = self.r.both();
                            serve_with_sa(
                                &mut t,
                                &mut sa,
                                LAN,
                                H1,
                                &msg,
                                u64::from(self.now),
                                self.epoch,
                            )
                        };
                        if let Some(reply) = reply {
                            self.deliver(&reply);
                        }
                    }
                    Some(Action::Changed(_)) => {
                        let ev = &mut self.events;
                        self.h
                            .update(Some(&self.c), Lost::Expired, false, |e| ev.push(e));
                    }
                    None => return,
                }
            }
        }

        fn deliver(&mut self, msg: &Message) {
            let asked = self.c.outstanding().and_then(|m| asked(&m));
            let what = self.c.receive(msg, self.now);
            let ev = &mut self.events;
            on_receive(&mut self.h, &self.c, msg, &what, asked, |e| ev.push(e));
        }

        fn take(&mut self) -> Vec<(u8, Option<Block>, Option<&'static str>)> {
            self.events
                .drain(..)
                .map(|e| (e.kind, e.block, e.reason))
                .collect()
        }
    }

    fn ports(lowest: u32, count: u32) -> Option<Block> {
        Some(Block {
            kind: block_kind::PORTS,
            lowest: Some(lowest),
            count,
        })
    }

    fn spis(lowest: u32, count: u32) -> Option<Block> {
        Some(Block {
            kind: block_kind::SPIS,
            lowest: Some(lowest),
            count,
        })
    }

    #[test]
    fn start_grants_renewals_expiry() {
        let mut n = Net::new();
        assert_eq!(n.events.len(), 1);
        assert_eq!(
            (n.events[0].kind, n.events[0].addr),
            (ev::STARTED, Some(LAN.addr))
        );
        n.events.clear();
        n.run();
        let got = n.events.clone();
        assert_eq!(
            n.take(),
            [
                (ev::GRANTED, ports(20000, 16), None),
                (ev::GRANTED, spis(0x1000, 256), None)
            ]
        );
        assert!(got.iter().all(|e| e.lease == Some(60)));
        // Half the lease later both are renewed.
        n.now += 31;
        n.run();
        assert_eq!(
            n.take(),
            [
                (ev::RENEWED, ports(20000, 16), None),
                (ev::RENEWED, spis(0x1000, 256), None)
            ]
        );
        // The router goes silent: the leases end.
        n.now += 200;
        let mut t = 0;
        while t < 200 {
            // Poll without answers (the router is gone).
            while let Some(a) = n.c.poll(n.now + t, 0) {
                if let Action::Changed(_) = a {
                    let ev = &mut n.events;
                    n.h.update(Some(&n.c), Lost::Expired, false, |e| ev.push(e));
                }
            }
            t += 1;
        }
        let lost = n.take();
        assert_eq!(
            lost,
            [
                (ev::LOST, ports(20000, 16), Some("expired")),
                (ev::LOST, spis(0x1000, 256), Some("expired"))
            ]
        );
    }

    #[test]
    fn release_invalidation_and_restart() {
        let mut n = Net::new();
        n.run();
        n.events.clear();
        assert!(n.c.release_ports(PortBlock {
            lowest: 20000,
            count: 16
        }));
        let ev = &mut n.events;
        n.h.update(Some(&n.c), Lost::Released, false, |e| ev.push(e));
        assert_eq!(n.take(), [(ev::LOST, ports(20000, 16), Some("released"))]);
        // The release goes out; the low-water mark asks for ports again
        // (the released block waits for a grace period at the router).
        n.run();
        assert_eq!(n.take(), [(ev::GRANTED, ports(20016, 16), None)]);
        // The router invalidates the SPI block (33/3, xid 0).
        let inval = Message::SpiBlockInvalidate {
            dir: Direction::ToHost,
            block: crate::pap::SpiBlock {
                lowest: 0x1000,
                count: 256,
            },
            ext: Some(Trailer {
                xid: 0,
                epoch: n.epoch,
                lease: 0,
            }),
        };
        n.deliver(&inval);
        assert_eq!(
            n.take(),
            [(ev::LOST, spis(0x1000, 256), Some("invalidated"))]
        );
        // A router restart: the broadcast with the new epoch.
        {
            let (mut t, mut sa) = n.r.both();
            t.invalidate_all(None, |_| {});
            sa.clear();
        }
        n.epoch = 8;
        let all = Message::InvalidateAll {
            dir: Direction::ToHost,
            scope: scope::ALL,
            ext: Some(Trailer {
                xid: 0,
                epoch: 8,
                lease: 0,
            }),
        };
        n.deliver(&all);
        let got = n.events.clone();
        assert_eq!(got[0].kind, ev::ROUTER_RESTART);
        assert_eq!(got[0].epoch, Some(8));
        assert_eq!(
            n.take()[1..],
            [(ev::LOST, ports(20016, 16), Some("router-restart"))]
        );
        // Stopping: everything held is lost.
        n.run();
        n.take();
        let ev = &mut n.events;
        on_restart(&mut n.h, true, None, |e| ev.push(e));
        let got = n.take();
        assert_eq!(got[0].0, ev::STOPPED);
        assert!(got[1..]
            .iter()
            .all(|e| e.0 == ev::LOST && e.2 == Some("stopped")));
        // Ports only: after a restart SPIs wait for RECLAIM_GRACE.
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn refusals_and_sa_notices() {
        let mut n = Net::new();
        n.run();
        n.events.clear();
        // Over quota: the router's answer to an extra request.
        {
            let mut s = n.r.both().0.settings();
            s.default_quota.ports = 16;
            n.r.both().0.set_settings(s);
        }
        assert!(n.c.request_ports(8));
        n.run();
        let got = n.events.clone();
        assert_eq!(
            n.take(),
            [(
                ev::REFUSED,
                Some(Block {
                    kind: block_kind::PORTS,
                    lowest: None,
                    count: 8
                }),
                Some("over_quota")
            )]
        );
        assert_eq!(got[0].reason, Some(Reason::OverQuota.name()));
        // SA notices: applied and refused.
        n.c.validate(PEER, 0x1000).unwrap();
        n.run();
        let e = n.events.clone();
        assert_eq!(
            (e[0].kind, e[0].peer, e[0].spi),
            (ev::SA_VALIDATED, Some(PEER), Some(0x1000))
        );
        n.events.clear();
        n.c.blacklist_add(Some(PEER), None).unwrap();
        n.run();
        n.c.blacklist_remove(Some(PEER), None).unwrap();
        n.run();
        n.c.invalidate(PEER, 0x1000).unwrap();
        n.run();
        let kinds: Vec<u8> = n.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ev::BLACKLIST_ADDED,
                ev::BLACKLIST_REMOVED,
                ev::SA_INVALIDATED
            ]
        );
        n.events.clear();
        // A peer inside the router's LAN prefix: the router refuses.
        n.c.validate(Ipv4Addr::new(10, 0, 0, 9), 0x1001).unwrap();
        n.run();
        let e = n.events.clone();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].kind, e[0].reason),
            (ev::SA_REFUSED, Some("unspecified"))
        );
    }

    #[test]
    fn other_events() {
        assert_eq!(
            mode_changed(host_mode::NATIVE).mode,
            Some(host_mode::NATIVE)
        );
        assert_eq!(key_installed().kind, ev::KEY_INSTALLED);
        assert_eq!(Lost::RouterRestart.name(), "router-restart");
        let ack = Message::Ack {
            acked: crate::pap::Acked::PortBlockInvalidate,
            result: Err(Reason::NotOwned),
            ext: Trailer {
                xid: 1,
                epoch: 1,
                lease: 0,
            },
        };
        assert_eq!(lost_reason(&ack), Lost::Refused);
        // A client never started, stopped: nothing but the stop.
        let mut h = Holdings::new();
        let mut v = Vec::new();
        on_restart(&mut h, true, None, |e| v.push(e.kind));
        assert_eq!(v, [ev::STOPPED]);
    }
}
