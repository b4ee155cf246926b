// SPDX-License-Identifier: GPL-2.0

//! The PAP server's packet side: recognise PAP (ICMP types 32 to 36) in
//! `PRE_ROUTING`, check where it comes from, serve it under the table lock
//! (`dnat-core/src/pap_server.rs`) and send the reply. PAP never reaches the
//! stack's ICMP handler: every PAP packet is consumed here, and counted.

use core::net::Ipv4Addr;

use crate::atomic::{Atomic, Relaxed};
use kernel::prelude::*;

use crate::config::is_unicast;
use crate::events::Event;
use crate::ffi::net::Net;
use crate::ffi::netfilter::{HookState, Verdict};
use crate::ffi::rcu::monotonic_seconds;
use crate::ffi::route::{primary_ipv4, OwnedPacket};
use crate::ffi::skb::SkBuff;
use crate::ipv4::{self, proto, Header};
use crate::pap::{self, Direction, Message, PapError, Reason};
use crate::pap_auth::{self, seal, Frame, Tag};
use crate::pap_keys::{Admit, Deny, Mode};
use crate::pap_server::{rate_limited, refusal, serve_with_sa, Stat, Stats};
use crate::router_events::{of_pap, released_block};
use crate::sa_table::Lan;
use crate::state::RouterNet;

/// The server's counters: one per [`Stat`], one per malformed-message
/// reason ([`PapError`]).
pub struct PapStats {
    stats: Stats,
    malformed: [Atomic<u64>; PapError::COUNT],
}

impl PapStats {
    /// All zero.
    pub const fn new() -> Self {
        Self {
            stats: Stats::new(),
            malformed: [const { Atomic::<u64>::new(0) }; PapError::COUNT],
        }
    }

    fn bump(&self, s: Stat) {
        self.stats.bump(s);
    }

    fn bump_malformed(&self, e: PapError) {
        if let Some(c) = self.malformed.get(e.index()) {
            c.add(1, Relaxed);
        }
    }

    /// Counter `s`.
    pub fn get(&self, s: Stat) -> u64 {
        self.stats.get(s)
    }

    /// All the malformed-message counters together.
    pub fn malformed_total(&self) -> u64 {
        self.malformed
            .iter()
            .fold(0, |n, c| n.saturating_add(c.load(Relaxed)))
    }

    /// Number of counters, for dumps.
    pub const LEN: usize = Stat::COUNT + PapError::COUNT;

    /// Counter `i` (0..[`Self::LEN`]): a name prefix, a name and the value.
    pub fn entry(&self, i: usize) -> Option<(&'static str, &'static str, u64)> {
        if let Some((name, v)) = self.stats.entry(i) {
            return Some(("", name, v));
        }
        let j = i.checked_sub(Stat::COUNT)?;
        let e = PapError::ALL.get(j)?;
        Some(("malformed_", e.name(), self.malformed.get(j)?.load(Relaxed)))
    }
}

impl Default for PapStats {
    fn default() -> Self {
        Self::new()
    }
}

/// Handles `skb` (with header `h`) if it is PAP; `None` if it is not (the
/// caller goes on).
pub fn handle(st: &RouterNet, skb: &SkBuff<'_>, hs: &HookState, h: &Header) -> Option<Verdict> {
    if h.protocol != proto::ICMP || h.frag_offset != 0 {
        return None;
    }
    let mut ty = [0u8; 1];
    skb.copy_from_network(h.header_len, &mut ty).ok()?;
    if !pap::TYPES.contains(&ty[0]) {
        return None;
    }
    if let Err(s) = serve_packet(st, skb, hs, h) {
        st.pap.bump(s);
    }
    Some(Verdict::Drop)
}

fn serve_packet(st: &RouterNet, skb: &SkBuff<'_>, hs: &HookState, h: &Header) -> Result<(), Stat> {
    let lan = st.lan_ifindex.load(Relaxed);
    if lan == 0 {
        return Err(Stat::NotConfigured);
    }
    let per_host = st.hosts().ok_or(Stat::NotConfigured)?;
    if hs.in_ifindex() != Some(lan) {
        return Err(Stat::WrongInterface);
    }
    if h.is_fragment {
        return Err(Stat::Fragment);
    }
    let net = hs.net();
    let (lan_addr, mask) = primary_ipv4(net, lan).ok_or(Stat::NotConfigured)?;
    if h.src == lan_addr {
        // Our own invalidate-all broadcast, looped back to the stack.
        return Ok(());
    }
    if h.dst != lan_addr {
        return Err(Stat::NotForRouter);
    }
    let bcast = Ipv4Addr::from(u32::from(lan_addr) | !u32::from(mask));
    if !ipv4::in_prefix(h.src, lan_addr, mask)
        || !is_unicast(h.src)
        || h.src == lan_addr
        || h.src == bcast
    {
        return Err(Stat::BadSource);
    }
    let len = h.total_len.saturating_sub(h.header_len);
    if len > pap_auth::MAX_WIRE {
        st.pap.bump_malformed(PapError::BadLength);
        return Ok(());
    }
    let mut buf = [0u8; pap_auth::MAX_WIRE];
    let buf = buf.get_mut(..len).ok_or(Stat::NotConfigured)?;
    if skb.copy_from_network(h.header_len, buf).is_err() {
        st.pap.bump_malformed(PapError::TooShort);
        return Ok(());
    }
    let frame = match pap_auth::parse(buf, Direction::ToRouter) {
        Ok(f) => f,
        Err(e) => {
            st.pap.bump_malformed(e);
            return Ok(());
        }
    };
    let epoch = st.epoch.load(Relaxed);
    let mut out = [0u8; pap_auth::MAX_WIRE];
    let served = match frame {
        Frame::KeyRequest(r) => {
            let now = monotonic_seconds();
            match per_host.keys.lock().grant(h.src, &r, epoch, now, &mut out) {
                Some(Ok(n)) => Some((n, Stat::KeyGranted, None)),
                Some(Err(_)) => None,
                None => Some((0, Stat::KeyRateLimited, None)),
            }
        }
        Frame::Plain(msg) | Frame::Sealed(msg, _) => {
            let lan_prefix = Lan {
                addr: lan_addr,
                mask,
            };
            serve_message(st, h.src, lan_prefix, &frame, &msg, buf, epoch, &mut out)
        }
        Frame::KeyGrant(..) => None,
    };
    let Some((n, stat, event)) = served else {
        return Err(Stat::NotConfigured);
    };
    st.pap.bump(stat);
    if let Some(e) = event {
        crate::notify::push(st, e);
    }
    if n > 0 {
        let r = out
            .get(..n)
            .map_or(Err(EINVAL), |b| send_bytes(net, lan_addr, h.src, lan, b));
        st.pap.bump(if r.is_ok() {
            Stat::Replied
        } else {
            Stat::SendFailed
        });
    }
    if event.is_some() {
        crate::notify::soon(st, net);
    }
    Ok(())
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

/// Serves `msg` (parsed from `buf` as `frame`) from `host` under the table
/// lock: authentication (`pap_keys.rs`), the reply cache, the rate limit,
/// then the tables (`pap_server.rs`). Writes the reply, sealed when the
/// message was, into `out`: its length, what to count and the event to
/// report (`router_events.rs`).
#[allow(clippy::too_many_arguments)]
fn serve_message(
    st: &RouterNet,
    host: Ipv4Addr,
    lan_prefix: Lan,
    frame: &Frame,
    msg: &Message,
    buf: &[u8],
    epoch: u32,
    out: &mut [u8; pap_auth::MAX_WIRE],
) -> Option<(usize, Stat, Option<Event>)> {
    let mode = if st.pap_auth_optional.load(Relaxed) != 0 {
        Mode::Optional
    } else {
        Mode::Required
    };
    let per_host = st.hosts()?;
    st.tables
        .write(|t, sa, now| {
            let admit = per_host.keys.lock().admit(mode, host, frame, buf, now);
            let auth = match admit {
                Err(Deny::Replayed) => return Some((0, Stat::AuthReplayed, None)),
                Err(d) => {
                    // Plain, so that a host that lost its key learns it.
                    let n = match refusal(msg, epoch, Reason::Unauthenticated) {
                        Some(r) => pap::encode(&r, out).ok()?,
                        None => 0,
                    };
                    return Some((n, denied(d), None));
                }
                Ok(Admit::Plain) => None,
                Ok(Admit::Fresh(tag, key)) => Some((tag, key, false)),
                Ok(Admit::Retransmit(tag, key)) => Some((tag, key, true)),
            };
            let seal_reply = |out: &mut [u8; pap_auth::MAX_WIRE], n: usize| match auth {
                Some((tag, key, _)) => seal(out, n, &key, tag, Direction::ToHost, host).ok(),
                None => Some(n),
            };
            let known = t.find_host(host);
            // A retransmission (its reply was lost): the same answer again.
            if let Some(s) = known {
                let cache = per_host.replies.lock();
                if let Some(bytes) = cache.get(usize::from(s)).and_then(|c| c.replay(msg)) {
                    let n = bytes.len();
                    out.get_mut(..n)?.copy_from_slice(bytes);
                    drop(cache);
                    return Some((seal_reply(out, n)?, Stat::Retransmitted, None));
                }
            }
            if auth.is_some_and(|(_, _, again)| again) {
                // The last sequence number again, without its reply cached.
                return Some((0, Stat::AuthReplayed, None));
            }
            // A port or SPI request of a known host over its request rate
            // gets `rate_limited` (a revoked host gets `revoked`, from the
            // tables: it must stop, not retry).
            let limit = rate_limited(msg, epoch);
            let limited = known
                .filter(|&s| !st.is_revoked(s))
                .zip(limit)
                .filter(|&(s, _)| !st.take_request(s, host, now))
                .map(|(_, r)| r);
            let (reply, stat, released) = match limited {
                Some(r) => (Some(r), Stat::RateLimited, None),
                None => {
                    let released = released_block(t, host, msg);
                    let (reply, stat) = serve_with_sa(t, sa, lan_prefix, host, msg, now, epoch);
                    (reply, stat, released)
                }
            };
            let event = of_pap(host, msg, reply.as_ref(), stat, released);
            let slot = t.find_host(host);
            if let (None, Some(s)) = (known, slot) {
                // A host new to the table: its slot's state starts clean,
                // SAs and blacklist included.
                st.reset_host(s);
                sa.remove_host(s);
                st.forget_out_sas(s);
                if limit.is_some() {
                    // The request that made the host known counts too.
                    st.take_request(s, host, now);
                }
            }
            let n = match reply {
                Some(r) => pap::encode(&r, out).ok()?,
                None => 0,
            };
            if let (Some(s), Some(bytes)) = (slot, out.get(..n)) {
                if let Some(c) = per_host.replies.lock().get_mut(usize::from(s)) {
                    c.remember(msg, bytes);
                }
            }
            if let Some((tag, _, _)) = auth {
                per_host.keys.lock().accept(host, tag, now);
            }
            if n == 0 {
                return Some((0, stat, event));
            }
            Some((seal_reply(out, n)?, stat, event))
        })
        .flatten()
}

/// Sends PAP message `m` from the router's LAN address to `dst` out of the
/// LAN interface.
pub fn send(net: &Net, src: Ipv4Addr, dst: Ipv4Addr, lan: u32, m: &Message) -> Result {
    let mut out = [0u8; pap::MAX_LEN];
    let n = pap::encode(m, &mut out).map_err(|_| EINVAL)?;
    send_bytes(net, src, dst, lan, out.get(..n).ok_or(EINVAL)?)
}

/// Sends an encoded PAP message.
fn send_bytes(net: &Net, src: Ipv4Addr, dst: Ipv4Addr, lan: u32, payload: &[u8]) -> Result {
    let hdr = ipv4::build(src, dst, proto::ICMP, pap::TTL, payload.len()).ok_or(EINVAL)?;
    OwnedPacket::ipv4(&hdr, payload)?.send(net, src, dst, Some(lan), proto::ICMP)
}

/// Tells `host` that everything it held was invalidated (revocation).
pub fn tell_invalidate_all(st: &RouterNet, net: &Net, lan: u32, host: Ipv4Addr) -> Result {
    send_invalidate_all(st, net, lan, host)
}

/// Tells every host on the LAN that everything was invalidated (router
/// start, reconfiguration, reset): an invalidate-all to the limited
/// broadcast address out of the LAN interface.
pub fn broadcast_invalidate_all(st: &RouterNet, net: &Net, lan: u32) -> Result {
    send_invalidate_all(st, net, lan, Ipv4Addr::BROADCAST)
}

fn send_invalidate_all(st: &RouterNet, net: &Net, lan: u32, dst: Ipv4Addr) -> Result {
    let (lan_addr, _) = primary_ipv4(net, lan).ok_or(EADDRNOTAVAIL)?;
    let m = Message::InvalidateAll {
        dir: Direction::ToHost,
        scope: pap::scope::ALL,
        ext: Some(pap::Trailer {
            xid: 0,
            epoch: st.epoch.load(Relaxed),
            lease: 0,
        }),
    };
    // To an authenticated host, sealed with its key (sequence number 0:
    // unsolicited); the broadcast cannot be, and hosts only check on it.
    let key = st.hosts().and_then(|h| h.keys.lock().key_of(dst));
    let mut out = [0u8; pap_auth::MAX_WIRE];
    let r = pap::encode(&m, &mut out)
        .and_then(|n| match key {
            Some((key_id, k)) => {
                let tag = Tag { key_id, seq: 0 };
                seal(&mut out, n, &k, tag, Direction::ToHost, dst)
            }
            None => Ok(n),
        })
        .map_err(|_| EINVAL)
        .and_then(|n| send_bytes(net, lan_addr, dst, lan, out.get(..n).ok_or(EINVAL)?));
    st.pap.bump(if r.is_ok() {
        Stat::InvalidateAllSent
    } else {
        Stat::SendFailed
    });
    r
}
