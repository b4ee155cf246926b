// SPDX-License-Identifier: GPL-2.0

//! Kernel glue for the host's PAP client (`dnat-core/src/pap_client.rs`):
//! the periodic work polls it and sends what it asks for; the
//! `PRE_ROUTING` hook hands it PAP messages from the router; what it holds
//! is mirrored into the SPTT's pool.
//!
//! The client sits behind an IRQ-disabling spinlock (the hook runs in
//! softirq context, the work and netlink in process context); nothing is
//! sent while the lock is held. After each call that may change what it
//! holds, the events (`host_events.rs`, `notify.rs`) are reported under
//! it.

use core::net::Ipv4Addr;

use crate::common::atomic::Relaxed;
use kernel::prelude::*;
use kernel::{new_spinlock_irq, sync::SpinLockIrq};

use crate::dnat_core::config::HOST_PORT_BLOCK_DEFAULT;
use crate::dnat_core::events::asked;
use crate::dnat_core::host_events::{key_installed, on_receive, on_restart, Lost};
use crate::dnat_core::ipv4::{self, proto, Header};
use crate::dnat_core::pap::{self, PortBlock, SpiBlock};
use crate::dnat_core::pap_auth::MAX_WIRE;
use crate::dnat_core::pap_client::{
    Action, Client, Config, Event, Ignored, Out, SaNoticeError, SaRecord, Stat, MAX_BLOCKS,
};
use crate::dnat_core::pap_session::{Entropy, Opened, Session, SessionDrop, SessionDrops};
use crate::dnat_core::stat::{RxStat, RxStats};
use crate::dnat_core::uapi::block_kind;
use crate::ffi::net::Net;
use crate::ffi::netfilter::Verdict;
use crate::ffi::pernet::Pernet;
use crate::ffi::rcu::random_u32;
use crate::ffi::route::OwnedPacket;
use crate::ffi::skb::SkBuff;
use crate::host::sptt::LOW_WATER;
use crate::host::state::HostNet;

/// Most messages sent per tick (the client sends one transaction at a
/// time; this only bounds a misbehaving loop).
const MAX_SENDS: usize = 8;

/// An SA notice the host asks the module to send.
#[derive(Clone, Copy)]
pub enum SaNotice {
    /// PAP 34/0.
    Validate(Ipv4Addr, u32),
    /// PAP 35/0.
    Invalidate(Ipv4Addr, u32),
    /// PAP 34/1.
    BlacklistAdd(Option<Ipv4Addr>, Option<u32>),
    /// PAP 35/1.
    BlacklistRemove(Option<Ipv4Addr>, Option<u32>),
}

struct Inner {
    client: Option<Client>,
    /// Authentication towards the router (a new one, without key, with
    /// every new client).
    session: Session,
    port_block: u8,
    /// Held port blocks no translation used at the last tick, and since
    /// when (the client's clock).
    unused: [(PortBlock, u32); MAX_BLOCKS],
}

/// A port block unused for this long (seconds) is given back, if the
/// other blocks keep enough free ports.
const RELEASE_IDLE: u32 = 120;

const NO_BLOCK: PortBlock = PortBlock {
    lowest: 0,
    count: 0,
};

/// The PAP client of one namespace.
#[pin_data]
pub struct PapClient {
    #[pin]
    inner: SpinLockIrq<Inner>,
    rx: RxStats,
    drops: SessionDrops,
}

/// Fresh random bytes for a key request.
fn entropy() -> Entropy {
    let mut e = [0u8; 20];
    for c in e.chunks_mut(4) {
        c.copy_from_slice(&random_u32().to_ne_bytes());
    }
    e
}

/// A PAP message ready to send: the client's message, sealed (or a key
/// request in its place).
struct Wire {
    len: usize,
    bytes: [u8; MAX_WIRE],
}

impl Wire {
    fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl Inner {
    /// What goes on the wire for `out`, `None` if it cannot be sealed.
    fn wire(&mut self, out: &Out) -> Option<Wire> {
        let ext = out.message().ext()?;
        let mut w = Wire {
            len: 0,
            bytes: [0; MAX_WIRE],
        };
        w.len = self
            .session
            .outgoing(out.bytes(), ext.xid, ext.epoch, entropy, &mut w.bytes)
            .ok()?;
        Some(w)
    }
}

impl PapClient {
    /// A stopped client.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- new_spinlock_irq!(Inner {
                client: None,
                session: Session::new(Ipv4Addr::UNSPECIFIED),
                port_block: HOST_PORT_BLOCK_DEFAULT,
                unused: [(NO_BLOCK, 0); MAX_BLOCKS],
            }),
            rx: RxStats::new(),
            drops: SessionDrops::new(),
        })
    }

    fn bump(&self, s: RxStat) {
        self.rx.bump(s);
    }

    fn bump_drop(&self, d: SessionDrop) {
        self.drops.bump(d);
    }

    /// Sets the ports asked for per request (from the next start on).
    pub fn set_block_size(&self, n: u8) {
        self.inner.lock().port_block = n;
    }

    /// Stops the client and, if `start`, starts a new one (which first
    /// gives back whatever an earlier run left at the router), for the
    /// host's LAN address `lan_addr` (its PAP key is bound to it) and the
    /// router `router`. Forgets every block, and the key.
    pub fn reset(
        &self,
        net: &Net,
        st: &HostNet,
        start: bool,
        lan_addr: Ipv4Addr,
        router: Ipv4Addr,
    ) {
        {
            let mut g = self.inner.lock();
            let had = g.client.is_some();
            g.client = if start {
                let cfg = Config {
                    port_block: g.port_block,
                    ..Config::DEFAULT
                };
                Client::new(cfg, random_u32()).ok()
            } else {
                None
            };
            g.session = Session::new(lan_addr);
            let started = g.client.is_some().then_some(router);
            crate::host::notify::update(st, |h, q| {
                on_restart(h, had, started, |e| {
                    q.push(e);
                })
            });
        }
        self.sync_blocks(st, net);
        crate::host::notify::soon(st, net);
    }

    /// Reports how what the client holds changed (`why`: what the
    /// caller did), under the client's lock.
    fn report(st: &HostNet, client: Option<&Client>, why: Lost) {
        crate::host::notify::update(st, |h, q| {
            h.update(client, why, false, |e| {
                q.push(e);
            })
        });
    }

    /// Gives everything back to the router (one invalidate-all) and stops:
    /// the namespace or the module is going away.
    pub fn shutdown(&self, st: &HostNet, net: &Net) {
        let out = {
            let mut g = self.inner.lock();
            let Some(c) = g.client.as_mut() else {
                return;
            };
            c.release_all();
            // The notice goes out at once; nobody waits for its ack.
            let out = match c.poll(crate::host::datapath::now(), 0) {
                Some(Action::Send(out)) => Some(out),
                _ => None,
            };
            g.client = None;
            // Without a key it cannot be sent: the router frees the blocks
            // when their leases end.
            out.and_then(|o| g.session.key().and(g.wire(&o)))
        };
        if let Some(out) = out {
            if st.active.load(Relaxed) != 0 {
                self.send(st, net, out.bytes());
            }
        }
    }

    /// The router epoch last seen, 0 if none.
    pub fn epoch(&self) -> u32 {
        self.inner.lock().client.as_ref().map_or(0, |c| c.epoch())
    }

    /// A copy of the held port blocks (the first `n`), taken under the
    /// lock so that the SPTT, whose lock is separate, can be updated after.
    fn port_blocks(&self) -> ([PortBlock; MAX_BLOCKS], usize) {
        let mut blocks = [NO_BLOCK; MAX_BLOCKS];
        let mut n = 0;
        if let Some(c) = self.inner.lock().client.as_ref() {
            for (slot, h) in blocks.iter_mut().zip(c.port_blocks()) {
                *slot = h.block;
                n += 1;
            }
        }
        (blocks, n)
    }

    /// Copies the held port blocks into the SPTT's pool (and, in native
    /// mode, the largest into the ephemeral port range).
    pub fn sync_blocks(&self, st: &HostNet, net: &Net) {
        let (blocks, n) = self.port_blocks();
        let held = blocks.get(..n).unwrap_or(&[]);
        st.sptt.set_blocks(held);
        st.apply_port_range(net, held.iter().max_by_key(|b| b.count).copied());
    }

    /// Gives back one port block that no translation has used for
    /// [`RELEASE_IDLE`] seconds, when the other blocks keep at least twice
    /// the low-water mark free (so that the client does not ask again at
    /// once): the host returns what it no longer needs.
    fn release_unneeded(&self, st: &HostNet, net: &Net, now: u32) {
        let (blocks, n) = self.port_blocks();
        let held = blocks.get(..n).unwrap_or(&[]);
        let total: u32 = held.iter().map(|b| u32::from(b.count)).sum();
        let free = total.saturating_sub(st.sptt.in_use());
        // Which blocks are unused now (the SPTT lock, not ours, is taken).
        let mut unused = [false; MAX_BLOCKS];
        for (u, b) in unused.iter_mut().zip(held) {
            *u = st.sptt.used_in(u32::from(b.lowest), u32::from(b.count)) == 0;
        }
        let mut victim = None;
        {
            let mut g = self.inner.lock();
            let mut next = [(NO_BLOCK, 0); MAX_BLOCKS];
            for ((slot, b), &u) in next.iter_mut().zip(held).zip(unused.iter()) {
                if !u {
                    continue;
                }
                let since = g
                    .unused
                    .iter()
                    .find(|(ub, _)| ub == b)
                    .map_or(now, |&(_, t)| t);
                *slot = (*b, since);
                let spare = free.saturating_sub(u32::from(b.count));
                if victim.is_none()
                    && held.len() > 1
                    && now.saturating_sub(since) >= RELEASE_IDLE
                    && spare >= 2 * LOW_WATER
                {
                    victim = Some(*b);
                }
            }
            g.unused = next;
            if let Some(b) = victim {
                let released = g.client.as_mut().is_some_and(|c| c.release_unused_ports(b));
                if !released {
                    victim = None;
                } else {
                    Self::report(st, g.client.as_ref(), Lost::Released);
                }
            }
        }
        if victim.is_some() {
            self.sync_blocks(st, net);
        }
    }

    /// Polls the client and sends what it asks for (the periodic work).
    pub fn run(&self, st: &HostNet, net: &Net, now: u32) {
        self.release_unneeded(st, net, now);
        let in_use = st.sptt.in_use();
        for _ in 0..MAX_SENDS {
            let (action, wire) = {
                let mut g = self.inner.lock();
                let action = match g.client.as_mut() {
                    Some(c) => c.poll(now, in_use),
                    None => None,
                };
                let wire = match &action {
                    Some(Action::Send(out)) => g.wire(out),
                    _ => None,
                };
                if let Some(Action::Changed(_)) = action {
                    Self::report(st, g.client.as_ref(), Lost::Expired);
                }
                (action, wire)
            };
            match action {
                Some(Action::Send(_)) => {
                    if let Some(w) = wire {
                        self.send(st, net, w.bytes());
                    }
                }
                Some(Action::Changed(ch)) => {
                    if ch.ports {
                        self.sync_blocks(st, net);
                    }
                }
                None => break,
            }
        }
    }

    fn send(&self, st: &HostNet, net: &Net, payload: &[u8]) {
        let src = Ipv4Addr::from(st.lan_addr.load(Relaxed));
        let dst = Ipv4Addr::from(st.router.load(Relaxed));
        let lan = st.lan_ifindex.load(Relaxed);
        let sent = ipv4::build(src, dst, proto::ICMP, pap::TTL, payload.len())
            .ok_or(EINVAL)
            .and_then(|hdr| OwnedPacket::ipv4(&hdr, payload))
            .and_then(|p| p.send(net, src, dst, Some(lan), proto::ICMP));
        if sent.is_err() {
            self.bump(RxStat::SendFailed);
        }
    }

    /// Handles `skb` (header `h`, ICMP, on the LAN interface) if it is PAP:
    /// `None` if it is not. PAP for the module is consumed; a reply it did
    /// not ask for goes on to the stack (a userspace PAP client on a raw
    /// socket may be waiting for it); anything else is dropped.
    pub fn receive(
        &self,
        st: &HostNet,
        net: &Net,
        skb: &SkBuff<'_>,
        h: &Header,
    ) -> Option<Verdict> {
        if h.frag_offset != 0 {
            return None;
        }
        let mut ty = [0u8; 1];
        skb.copy_from_network(h.header_len, &mut ty).ok()?;
        if !pap::TYPES.contains(&ty[0]) {
            return None;
        }
        self.bump(RxStat::Received);
        let lan_addr = st.lan_addr.load(Relaxed);
        let bcast = lan_addr | !st.lan_mask.load(Relaxed);
        let to_us = [lan_addr, bcast, u32::MAX].contains(&u32::from(h.dst));
        if u32::from(h.src) != st.router.load(Relaxed) || !to_us || h.is_fragment {
            self.bump(RxStat::Foreign);
            return Some(Verdict::Drop);
        }
        let mut buf = [0u8; MAX_WIRE];
        let len = h.total_len.saturating_sub(h.header_len);
        let Some(b) = buf.get_mut(..len) else {
            self.bump(RxStat::Malformed);
            return Some(Verdict::Drop);
        };
        if skb.copy_from_network(h.header_len, b).is_err() {
            self.bump(RxStat::Malformed);
            return Some(Verdict::Drop);
        }
        let now = crate::host::datapath::now();
        let ev = {
            let mut g = self.inner.lock();
            let Inner {
                client, session, ..
            } = &mut *g;
            let Some(c) = client.as_mut() else {
                return Some(Verdict::Drop);
            };
            match session.incoming(b, u64::from(now)) {
                Opened::Message(msg) => {
                    let before = c.outstanding();
                    let wanted = before.and_then(|m| asked(&m));
                    let what = c.receive(&msg, now);
                    crate::host::notify::update(st, |h, q| {
                        on_receive(h, c, &msg, &what, wanted, |e| {
                            q.push(e);
                        })
                    });
                    // It ended the transaction that was outstanding: an
                    // answer to this host's own request, which a replay of
                    // an older router message cannot be.
                    Ok((what, before.is_some() && c.outstanding() != before))
                }
                Opened::KeyInstalled => {
                    c.resend_now();
                    crate::host::notify::push(st, key_installed());
                    Err(Some(RxStat::KeyInstalled))
                }
                Opened::Rekey => {
                    c.resend_now();
                    Err(Some(RxStat::Rekey))
                }
                Opened::Hint => {
                    c.check_holdings();
                    Err(Some(RxStat::Hint))
                }
                Opened::Dropped(d) => {
                    self.bump_drop(d);
                    Err(None)
                }
            }
        };
        let (ev, answered) = match ev {
            Ok(ev) => ev,
            Err(Some(s)) => {
                self.bump(s);
                Pernet::<HostNet>::kick(net, 0);
                return Some(Verdict::Drop);
            }
            // Sealed with another key, or not sealed: maybe for a
            // userspace PAP client of this host, which checks it itself.
            Err(None) => return Some(Verdict::Accept),
        };
        match ev {
            Event::Changed(ch) => {
                if ch.ports || ch.epoch {
                    self.sync_blocks(st, net);
                }
            }
            // Not an answer to the module: maybe to a userspace PAP client
            // of this host (`dnatctl pap ...` on a raw socket), which gets
            // it from the stack.
            Event::Ignored(Ignored::Unmatched) => return Some(Verdict::Accept),
            Event::Ignored(_) => return Some(Verdict::Drop),
            // Counted by the client (`sa_notices_applied`/`_refused`).
            Event::Nothing | Event::Refused(_) | Event::SaNotice { .. } => {}
        }
        // An answer of the router to this host's request: where direct
        // deliveries come from.
        if let Some(m) = skb.eth_src().filter(|_| answered) {
            st.learn_router_lladdr(m);
        }
        // A transaction ended: the next one (or what was lost) goes out now.
        Pernet::<HostNet>::kick(net, 0);
        Some(Verdict::Drop)
    }

    /// Held block `i`, ports first: kind, lowest, count and the end of its
    /// lease on the client's clock.
    pub fn block(&self, i: usize) -> Option<(u8, u32, u32, Option<u32>)> {
        let g = self.inner.lock();
        let c = g.client.as_ref()?;
        let nports = c.port_blocks().count();
        if let Some(h) = c.port_blocks().nth(i) {
            return Some((
                block_kind::PORTS,
                u32::from(h.block.lowest),
                u32::from(h.block.count),
                h.expires_at,
            ));
        }
        let h = c.spi_blocks().nth(i.checked_sub(nports)?)?;
        Some((
            block_kind::SPIS,
            h.block.lowest,
            u32::from(h.block.count),
            h.expires_at,
        ))
    }

    /// Recorded SA validation `i`: peer, SPI and its state.
    pub fn sa_record(&self, i: usize) -> Option<SaRecord> {
        self.inner.lock().client.as_ref()?.sa_records().nth(i)
    }

    /// Counter `j` of the client, then of the receive side.
    pub fn stat(&self, j: usize) -> Option<(&'static str, &'static str, u64)> {
        if let Some(&s) = Stat::ALL.get(j) {
            let v = self.inner.lock().client.as_ref().map_or(0, |c| c.stat(s));
            return Some(("pap_", s.name(), v));
        }
        let k = j.checked_sub(Stat::COUNT)?;
        let (name, v) = match self.rx.entry(k) {
            Some(e) => e,
            None => self.drops.entry(k.checked_sub(RxStat::COUNT)?)?,
        };
        Some(("pap_", name, v))
    }

    /// Asks for `n` ports or SPIs now.
    pub fn request(&self, kind: u8, n: u32) -> Result {
        let mut g = self.inner.lock();
        let c = g.client.as_mut().ok_or(ENOTCONN)?;
        let started = if kind == block_kind::PORTS {
            c.request_ports(u8::try_from(n).map_err(|_| ERANGE)?)
        } else {
            c.request_spis(u16::try_from(n).map_err(|_| ERANGE)?)
        };
        if started {
            Ok(())
        } else {
            Err(EBUSY)
        }
    }

    /// Queues an SA notice for the router: validate (34/0) or invalidate
    /// (35/0) `(addr, spi)`, add (34/1) or remove (35/1) a blacklist entry.
    pub fn sa_notice(&self, notice: SaNotice) -> core::result::Result<(), SaNoticeError> {
        let mut g = self.inner.lock();
        let c = g.client.as_mut().ok_or(SaNoticeError::Stopped)?;
        match notice {
            SaNotice::Validate(a, s) => c.validate(a, s),
            SaNotice::Invalidate(a, s) => c.invalidate(a, s),
            SaNotice::BlacklistAdd(a, s) => c.blacklist_add(a, s),
            SaNotice::BlacklistRemove(a, s) => c.blacklist_remove(a, s),
        }
    }

    /// Gives back the held block `lowest`, `n` of `kind`.
    pub fn release(&self, st: &HostNet, kind: u8, lowest: u32, n: u32) -> Result {
        let mut g = self.inner.lock();
        let c = g.client.as_mut().ok_or(ENOENT)?;
        let done = if kind == block_kind::PORTS {
            match (u16::try_from(lowest), u8::try_from(n)) {
                (Ok(lowest), Ok(count)) => c.release_ports(PortBlock { lowest, count }),
                _ => false,
            }
        } else {
            match u16::try_from(n) {
                Ok(count) => c.release_spis(SpiBlock { lowest, count }),
                Err(_) => false,
            }
        };
        if done {
            Self::report(st, g.client.as_ref(), Lost::Released);
            Ok(())
        } else {
            Err(ENOENT)
        }
    }
}
