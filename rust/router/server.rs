// SPDX-License-Identifier: GPL-2.0

//! The PAP server's packet side: recognise PAP (ICMP types 32 to 36) in
//! `PRE_ROUTING`, check where it comes from, serve it under the table lock
//! (`dnat-core/src/pap_serving.rs`, `pap_server.rs`) and send the reply. PAP never reaches the
//! stack's ICMP handler: every PAP packet is consumed here, and counted.

use core::net::Ipv4Addr;

use crate::common::atomic::{Atomic, Relaxed};
use kernel::prelude::*;

use crate::dnat_core::config::is_unicast;
use crate::dnat_core::direct::{Binding, Lladdr};
use crate::dnat_core::ipv4::{self, proto, Header};
use crate::dnat_core::pap::{self, Direction, Message, PapError};
use crate::dnat_core::pap_auth::{self, seal, Frame, Tag};
use crate::dnat_core::pap_keys::Mode;
use crate::dnat_core::pap_server::{Stat, Stats};
use crate::dnat_core::pap_serving::{Policy, Served};
use crate::dnat_core::sa_table::Lan;
use crate::ffi::net::Net;
use crate::ffi::netfilter::{HookState, Verdict};
use crate::ffi::rcu::monotonic_seconds;
use crate::ffi::route::{primary_ipv4, OwnedPacket};
use crate::ffi::skb::SkBuff;
use crate::router::hosts::HostState;
use crate::router::state::RouterNet;

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
            (per_host.serving.lock()).grant_key(h.src, &r, epoch, now, &mut out)
        }
        Frame::Plain(_) | Frame::Sealed(..) => {
            let policy = Policy {
                mode: if st.pap_auth_optional.load(Relaxed) != 0 {
                    Mode::Optional
                } else {
                    Mode::Required
                },
                rate: st.pap_rate.load(Relaxed),
                epoch,
                lan: Lan {
                    addr: lan_addr,
                    mask,
                },
            };
            let sender = (h.src, skb.eth_src());
            serve_message(st, per_host, &policy, sender, &frame, buf, &mut out)
        }
        Frame::KeyGrant(..) => None,
    };
    let Some(Served {
        len: n,
        stat,
        event,
        ..
    }) = served
    else {
        return Err(Stat::NotConfigured);
    };
    st.pap.bump(stat);
    if let Some(e) = event {
        crate::router::notify::push(st, e);
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
        crate::router::notify::soon(st, net);
    }
    Ok(())
}

/// Serves `frame` (parsed from `buf`) from `host` under the table lock
/// and, inside it, the serving state's (`dnat-core/src/pap_serving.rs`
/// decides: authentication, reply cache, request budget, tables). A host
/// new to its slot also loses what the module keeps for the slot's
/// previous host elsewhere: counters, revoked flag, outbound SAs. A
/// direct-mode host waiting for its address to be bound gets the
/// Ethernet source `lladdr` of its first authenticated message.
fn serve_message(
    st: &RouterNet,
    per_host: &HostState,
    policy: &Policy,
    (host, lladdr): (Ipv4Addr, Option<Lladdr>),
    frame: &Frame,
    buf: &[u8],
    out: &mut [u8; pap_auth::MAX_WIRE],
) -> Option<Served> {
    st.tables
        .write(|t, sa, now| {
            let served =
                (per_host.serving.lock()).serve(t, sa, policy, host, frame, buf, now, out)?;
            if let Some(s) = served.new_slot {
                per_host.reset_counters(s);
                st.forget_out_sas(s);
            }
            let slot = t.find_host(host).filter(|_| served.authenticated);
            if let (Some(s), Some(m)) = (slot, lladdr) {
                if per_host.direct.get(s) == Binding::Learn {
                    // Refused (in use by another host, multicast): the
                    // host stays unbound, delivered by IP-in-IP.
                    st.pap
                        .bump(match per_host.direct.set(s, Binding::Bound(m)) {
                            Ok(()) => Stat::LladdrBound,
                            Err(_) => Stat::LladdrRefused,
                        });
                }
            }
            Some(served)
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
    let key = st.hosts().and_then(|h| h.serving.lock().key_of(dst));
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
