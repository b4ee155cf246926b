// SPDX-License-Identifier: GPL-2.0

//! What the PAP server keeps besides the tables, and the rules around
//! serving one message: the authentication (`pap_keys.rs`), the reply
//! cache, the request budgets, the state of a host new to its slot, then
//! the tables (`pap_server.rs`).
//!
//! [`ServingState`] holds, per host slot, the last reply and the request
//! budget, and the key table (per address). The module keeps it under one
//! lock taken inside the table lock (`rust/router/hosts.rs`) and calls
//! [`ServingState::serve`] with the tables' writer views, or
//! [`ServingState::grant_key`] for a key request, which needs no table.
//! Documentation/networking/dnat-pap.rst, "What the router implements",
//! has the rules.

use core::net::Ipv4Addr;
use core::ops::DerefMut;

use super::alloc_table::{AllocTable, Slot};
use super::events::Event;
use super::pap::{self, Direction, Reason};
use super::pap_auth::{seal, Frame, KeyRequest, MAX_WIRE};
use super::pap_keys::{Admit, Deny, KeyTable, Mode};
use super::pap_server::{rate_limited, refusal, serve_with_sa, CachedReply, RateBucket, Stat};
use super::router_events::{of_pap, released_block};
use super::sa_table::{Lan, SaTable};
use super::siphash::Key;

/// What the server keeps for one host slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostServing {
    /// The last reply, for a retransmitted request.
    reply: CachedReply,
    /// The address whose budget the slot holds (0: none), and the budget.
    /// Kept when the slot is freed, so that a host that gives everything
    /// back and asks again on the same slot finds its budget as it left
    /// it; another address starts with a full one.
    owner: u32,
    budget: RateBucket,
}

impl HostServing {
    /// Nothing cached, no budget used.
    pub const EMPTY: HostServing = HostServing {
        reply: CachedReply::EMPTY,
        owner: 0,
        budget: RateBucket::FULL,
    };
}

/// The settings a message is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether unauthenticated PAP is served.
    pub mode: Mode,
    /// Port and SPI requests a second a host may make (0: no limit).
    pub rate: u32,
    /// The router epoch, for the replies' trailers.
    pub epoch: u32,
    /// The LAN prefix (SA peers must lie outside it).
    pub lan: Lan,
}

/// What serving a message gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// Bytes of the reply written to `out` (0: no reply).
    pub len: usize,
    /// What to count.
    pub stat: Stat,
    /// The event to report.
    pub event: Option<Event>,
    /// A slot the message gave to a host new to the table. Its serving
    /// state and SA-table entries are reset already; the caller resets
    /// what it keeps per slot elsewhere (counters, the revoked flag, the
    /// outbound SAs), under the table lock.
    pub new_slot: Option<Slot>,
    /// The message was sealed with the host's key, fresh, and served: it
    /// proves who sent it (a direct-mode host's address may be learnt
    /// from it).
    pub authenticated: bool,
}

impl Served {
    const fn only(len: usize, stat: Stat) -> Self {
        Self {
            len,
            stat,
            event: None,
            new_slot: None,
            authenticated: false,
        }
    }
}

/// The counter of a refused authentication.
fn denied(d: Deny) -> Stat {
    match d {
        Deny::Unauthenticated => Stat::AuthMissing,
        Deny::UnknownKey => Stat::AuthUnknownKey,
        Deny::BadMac => Stat::AuthBadMac,
        Deny::Replayed => Stat::AuthReplayed,
    }
}

/// The PAP server's state besides the tables: per host slot (`slots`,
/// indexed by slot, slot 0 unused) the reply cache and the request
/// budget; the keys of up to `N` authenticated hosts, by address (a host
/// keeps its key across slots: it still holds it).
///
/// # Invariants
///
/// A slot's cached reply is one the host now in the slot was sent: it is
/// emptied when a new host takes the slot ([`ServingState::new_host`]),
/// when the host is revoked, and by a reset.
#[derive(Debug)]
pub struct ServingState<S, const N: usize> {
    slots: S,
    keys: KeyTable<N>,
}

impl<S: DerefMut<Target = [HostServing]>, const N: usize> ServingState<S, N> {
    /// Empty state over `slots` (one per host slot and slot 0; emptied
    /// here), with `secret` for the keys.
    pub fn new(mut slots: S, secret: Key) -> Self {
        slots.iter_mut().for_each(|s| *s = HostServing::EMPTY);
        Self {
            slots,
            keys: KeyTable::new(secret),
        }
    }

    /// The keys.
    pub fn keys(&self) -> &KeyTable<N> {
        &self.keys
    }

    /// Whether `addr` has authenticated.
    pub fn is_keyed(&self, addr: Ipv4Addr) -> bool {
        self.keys.is_keyed(addr)
    }

    /// The current key of `addr`, to seal unsolicited messages with.
    pub fn key_of(&self, addr: Ipv4Addr) -> Option<(u32, Key)> {
        self.keys.key_of(addr)
    }

    fn slot(&mut self, slot: Slot) -> Option<&mut HostServing> {
        self.slots.get_mut(usize::from(slot))
    }

    /// A host new to the table took `slot`: the previous host's cached
    /// reply goes. Its budget stays with its address (the next request
    /// of another address starts with a full one).
    pub fn new_host(&mut self, slot: Slot) {
        self.forget_reply(slot);
    }

    /// The host in `slot` was revoked: its cached reply goes, so that a
    /// retransmission is answered by the tables (`revoked`).
    pub fn revoked(&mut self, slot: Slot) {
        self.forget_reply(slot);
    }

    /// Forgets the cached reply of `slot`.
    pub fn forget_reply(&mut self, slot: Slot) {
        if let Some(s) = self.slot(slot) {
            s.reply = CachedReply::EMPTY;
        }
    }

    /// Forgets every cached reply (a reset: everything was invalidated).
    pub fn forget_replies(&mut self) {
        self.slots
            .iter_mut()
            .for_each(|s| s.reply = CachedReply::EMPTY);
    }

    /// Takes one port or SPI request of `host`, in `slot`, from its
    /// budget of `rate` a second at `now` (a full one if the slot's
    /// budget was another address's): `false` when the host is over it.
    pub fn take_request(&mut self, slot: Slot, host: Ipv4Addr, rate: u32, now: u64) -> bool {
        if rate == 0 {
            return true;
        }
        let Some(s) = self.slot(slot) else {
            return true;
        };
        if s.owner != u32::from(host) {
            s.owner = u32::from(host);
            s.budget = RateBucket::FULL;
        }
        s.budget.take(now, rate)
    }

    /// A key request `req` from `host` at `now`: the sealed grant in
    /// `out`, or nothing over the grant rate.
    pub fn grant_key(
        &mut self,
        host: Ipv4Addr,
        req: &KeyRequest,
        epoch: u32,
        now: u64,
        out: &mut [u8; MAX_WIRE],
    ) -> Option<Served> {
        match self.keys.grant(host, req, epoch, now, out) {
            Some(Ok(n)) => Some(Served::only(n, Stat::KeyGranted)),
            Some(Err(_)) => None,
            None => Some(Served::only(0, Stat::KeyRateLimited)),
        }
    }

    /// Serves `frame` (a plain or sealed message, parsed from `buf`) from
    /// `host` at `now`, on the tables `t` and `sa` (under the caller's
    /// lock), and writes the reply, sealed when the message was, into
    /// `out`. In order:
    ///
    /// 1. authentication: a replayed sequence number is dropped; any
    ///    other refusal is answered `unauthenticated`, plain, so that a
    ///    host that lost its key learns it;
    /// 2. the reply cache: a retransmission (same non-zero xid as the
    ///    host's last) of a known host gets the same reply again, and
    ///    nothing is done again; the last sequence number again without
    ///    its reply cached is a replay;
    /// 3. the request budget: a port or SPI request of a known host that
    ///    is not revoked (a revoked one gets `revoked` from the tables: it
    ///    must stop, not retry) over its rate gets `rate_limited`;
    /// 4. the tables (`pap_server::serve_with_sa`); a host new to the
    ///    table starts clean ([`ServingState::new_host`], its SAs and
    ///    blacklist), and its first request counts against its budget;
    /// 5. the reply is cached, a sealed message's sequence number becomes
    ///    the host's last.
    ///
    /// `None`: the message is not one to serve here (a key request or
    /// grant) or the reply did not fit; nothing was sent.
    #[allow(clippy::too_many_arguments)]
    pub fn serve(
        &mut self,
        t: &mut AllocTable<'_>,
        sa: &mut SaTable<'_>,
        p: &Policy,
        host: Ipv4Addr,
        frame: &Frame,
        buf: &[u8],
        now: u64,
        out: &mut [u8; MAX_WIRE],
    ) -> Option<Served> {
        let (Frame::Plain(msg) | Frame::Sealed(msg, _)) = frame else {
            return None;
        };
        let auth = match self.keys.admit(p.mode, host, frame, buf, now) {
            Err(Deny::Replayed) => return Some(Served::only(0, Stat::AuthReplayed)),
            Err(d) => {
                let n = match refusal(msg, p.epoch, Reason::Unauthenticated) {
                    Some(r) => pap::encode(&r, out).ok()?,
                    None => 0,
                };
                return Some(Served::only(n, denied(d)));
            }
            Ok(Admit::Plain) => None,
            Ok(Admit::Fresh(tag, key)) => Some((tag, key, false)),
            Ok(Admit::Retransmit(tag, key)) => Some((tag, key, true)),
        };
        let seal_reply = |out: &mut [u8; MAX_WIRE], n: usize| match auth {
            Some((tag, key, _)) => seal(out, n, &key, tag, Direction::ToHost, host).ok(),
            None => Some(n),
        };
        let known = t.find_host(host);
        if let Some(bytes) = known
            .and_then(|s| self.slots.get(usize::from(s)))
            .and_then(|s| s.reply.replay(msg))
        {
            let n = bytes.len();
            out.get_mut(..n)?.copy_from_slice(bytes);
            return Some(Served::only(seal_reply(out, n)?, Stat::Retransmitted));
        }
        if auth.is_some_and(|(_, _, again)| again) {
            return Some(Served::only(0, Stat::AuthReplayed));
        }
        let limit = rate_limited(msg, p.epoch);
        let limited = limit.zip(known).and_then(|(r, s)| {
            let revoked = t.host_info(s).is_some_and(|h| h.revoked);
            (!revoked && !self.take_request(s, host, p.rate, now)).then_some(r)
        });
        let (reply, stat, released) = match limited {
            Some(r) => (Some(r), Stat::RateLimited, None),
            None => {
                let released = released_block(t, host, msg);
                let (reply, stat) = serve_with_sa(t, sa, p.lan, host, msg, now, p.epoch);
                (reply, stat, released)
            }
        };
        let event = of_pap(host, msg, reply.as_ref(), stat, released);
        let slot = t.find_host(host);
        let new_slot = slot.filter(|_| known.is_none());
        if let Some(s) = new_slot {
            self.new_host(s);
            sa.remove_host(s);
            if limit.is_some() {
                // The request that made the host known counts too.
                self.take_request(s, host, p.rate, now);
            }
        }
        let n = match reply {
            Some(r) => pap::encode(&r, out).ok()?,
            None => 0,
        };
        if let (Some(s), Some(bytes)) = (slot, out.get(..n)) {
            if let Some(c) = self.slots.get_mut(usize::from(s)) {
                c.reply.remember(msg, bytes);
            }
        }
        if let Some((tag, _, _)) = auth {
            self.keys.accept(host, tag, now);
        }
        let len = if n == 0 { 0 } else { seal_reply(out, n)? };
        Some(Served {
            len,
            stat,
            event,
            new_slot,
            authenticated: auth.is_some(),
        })
    }
}

#[cfg(test)]
#[path = "pap_serving/tests.rs"]
mod tests;
