// SPDX-License-Identifier: GPL-2.0

//! Transactions: what the client asks of the router next, its message,
//! its (re)transmissions, giving it up, and which reply answers it.

use core::net::Ipv4Addr;

use super::super::pap::{
    self, scope, Acked, Direction, Message, PortBlock, PortClass, Reason, SpiBlock, Trailer,
    MAX_LEN,
};
use super::held::{blocks, held, Res};
use super::{Client, Ignored, SaNotice, SaNoticeKind, Stat, MAX_BLOCKS, MAX_SA_RECORDS};
use super::{MAX_TRANSMISSIONS, REFUSAL_DELAY_MIN, RETRANSMIT, XID_REUSE_MAX};

/// A PAP message to send to the router: the message and its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Out {
    msg: Message,
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl Out {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.msg
    }

    /// Its encoding: the ICMP-format payload to send.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    RequestPorts(u8),
    RequestSpis(u16),
    RenewPorts(PortBlock),
    RenewSpis(SpiBlock),
    /// A renewal of an SPI block lost in a router restart, to get it back.
    ReclaimSpis(SpiBlock),
    ReleasePorts(PortBlock),
    ReleaseSpis(SpiBlock),
    ReleaseAll,
    SaValidate(Ipv4Addr, u32),
    SaInvalidate(Ipv4Addr, u32),
    BlacklistAdd(Option<Ipv4Addr>, Option<u32>),
    BlacklistRemove(Option<Ipv4Addr>, Option<u32>),
}

/// What an SA notice is about: an SA (`false`) or a blacklist entry
/// (`true`), its address and SPI.
pub(super) type Subject = (bool, Option<Ipv4Addr>, Option<u32>);

impl Op {
    pub(super) const fn is_request(self) -> bool {
        matches!(self, Op::RequestPorts(_) | Op::RequestSpis(_))
    }

    const fn is_notice(self) -> bool {
        matches!(
            self,
            Op::ReleasePorts(_) | Op::ReleaseSpis(_) | Op::ReleaseAll
        )
    }

    pub(super) const fn is_sa(self) -> bool {
        matches!(
            self,
            Op::SaValidate(..)
                | Op::SaInvalidate(..)
                | Op::BlacklistAdd(..)
                | Op::BlacklistRemove(..)
        )
    }

    const fn acked(self) -> Option<Acked> {
        match self {
            Op::ReleasePorts(_) => Some(Acked::PortBlockInvalidate),
            Op::ReleaseSpis(_) => Some(Acked::SpiBlockInvalidate),
            Op::ReleaseAll => Some(Acked::InvalidateAll),
            _ => match self.sa_notice() {
                Some(n) => Some(n.kind.acked()),
                None => None,
            },
        }
    }

    /// The SA notice this transaction sends.
    pub(super) const fn sa_notice(self) -> Option<SaNotice> {
        let (kind, addr, spi) = match self {
            Op::SaValidate(a, s) => (SaNoticeKind::Validate, Some(a), Some(s)),
            Op::SaInvalidate(a, s) => (SaNoticeKind::Invalidate, Some(a), Some(s)),
            Op::BlacklistAdd(a, s) => (SaNoticeKind::BlacklistAdd, a, s),
            Op::BlacklistRemove(a, s) => (SaNoticeKind::BlacklistRemove, a, s),
            _ => return None,
        };
        Some(SaNotice { kind, addr, spi })
    }

    /// The SA or blacklist entry an SA notice is about.
    pub(super) fn subject(self) -> Option<Subject> {
        let n = self.sa_notice()?;
        let blacklist = matches!(
            n.kind,
            SaNoticeKind::BlacklistAdd | SaNoticeKind::BlacklistRemove
        );
        Some((blacklist, n.addr, n.spi))
    }

    /// Whether `msg` (a reply with this transaction's xid, or without
    /// trailer) is the answer this transaction expects.
    fn answered_by(self, msg: &Message) -> bool {
        match (self, msg) {
            (Op::RequestPorts(_), Message::PortResponse { .. }) => true,
            (Op::RequestSpis(_), Message::SpiResponse { .. }) => true,
            (Op::RenewPorts(b), Message::PortResponse { result, .. }) => match result {
                Ok(g) => *g == b,
                Err(_) => true,
            },
            (Op::RenewSpis(b) | Op::ReclaimSpis(b), Message::SpiResponse { result, .. }) => {
                match result {
                    Ok(g) => *g == b,
                    Err(_) => true,
                }
            }
            (op, Message::Ack { acked, .. }) => op.acked() == Some(*acked),
            _ => false,
        }
    }

    /// The message of this transaction.
    pub(super) fn message(self, xid: u32, epoch: u32, lease: u32, class: PortClass) -> Message {
        let t = |lease| Trailer { xid, epoch, lease };
        let dir = Direction::ToRouter;
        match self {
            Op::RequestPorts(count) => Message::PortRequest {
                class,
                count,
                ext: Some(t(lease)),
            },
            Op::RequestSpis(count) => Message::SpiRequest {
                count,
                ext: Some(t(lease)),
            },
            Op::RenewPorts(block) => Message::PortRenew {
                block,
                ext: t(lease),
            },
            Op::RenewSpis(block) | Op::ReclaimSpis(block) => Message::SpiRenew {
                block,
                ext: t(lease),
            },
            Op::ReleasePorts(block) => Message::PortBlockInvalidate {
                dir,
                block,
                ext: Some(t(0)),
            },
            Op::ReleaseSpis(block) => Message::SpiBlockInvalidate {
                dir,
                block,
                ext: Some(t(0)),
            },
            Op::ReleaseAll => Message::InvalidateAll {
                dir,
                scope: scope::ALL,
                ext: Some(t(0)),
            },
            Op::SaValidate(addr, spi) => Message::SaValidate {
                addr,
                spi,
                ext: Some(t(0)),
            },
            Op::SaInvalidate(addr, spi) => Message::SaInvalidate {
                addr,
                spi,
                ext: Some(t(0)),
            },
            Op::BlacklistAdd(addr, spi) => Message::BlacklistAdd {
                addr,
                spi,
                ext: Some(t(0)),
            },
            Op::BlacklistRemove(addr, spi) => Message::BlacklistRemove {
                addr,
                spi,
                ext: Some(t(0)),
            },
        }
    }
}

/// Takes the oldest entry out of a queue.
pub(super) fn q_pop<const N: usize>(q: &mut [Option<Op>; N]) -> Option<Op> {
    let first = q.first().copied().flatten()?;
    q.rotate_left(1);
    if let Some(last) = q.last_mut() {
        *last = None;
    }
    Some(first)
}

/// Appends `op` to a queue; `false` if it is full.
pub(super) fn q_push<const N: usize>(q: &mut [Option<Op>; N], op: Op) -> bool {
    match q.iter_mut().find(|n| n.is_none()) {
        Some(slot) => {
            *slot = Some(op);
            true
        }
        None => false,
    }
}

/// Keeps the entries of a queue for which `keep` holds, in order; returns
/// how many went.
pub(super) fn q_retain<const N: usize>(
    q: &mut [Option<Op>; N],
    mut keep: impl FnMut(Op) -> bool,
) -> u64 {
    let mut kept = [None; N];
    let mut slots = kept.iter_mut();
    let mut gone = 0u64;
    for op in q.iter().flatten() {
        if keep(*op) {
            if let Some(s) = slots.next() {
                *s = Some(*op);
            }
        } else {
            gone = gone.saturating_add(1);
        }
    }
    *q = kept;
    gone
}

/// A transaction: its xid, when it was first sent, when it is due again,
/// and which wait of [`RETRANSMIT`] follows its next transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Txn {
    pub(super) op: Op,
    pub(super) xid: u32,
    pub(super) started: u64,
    pub(super) next: u64,
    pub(super) step: u8,
    pub(super) sent: u8,
}

/// The state of asking for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Want {
    /// Count asked for next.
    pub(super) ask: u16,
    /// Do not ask before this time.
    pub(super) hold_until: u64,
    /// Wait after the next refusal.
    pub(super) delay: u32,
    /// Do not ask at all (`over_quota`, `revoked`).
    pub(super) stuck: Option<Reason>,
}

impl Want {
    pub(super) const fn new(ask: u16) -> Self {
        Self {
            ask,
            hold_until: 0,
            delay: REFUSAL_DELAY_MIN,
            stuck: None,
        }
    }
}

impl Client {
    pub(super) fn message(&self, txn: &Txn) -> Message {
        let lease = if txn.op.is_notice() || txn.op.is_sa() {
            0
        } else {
            self.cfg.lease
        };
        txn.op
            .message(txn.xid, self.epoch, lease, self.cfg.port_class)
    }

    pub(super) fn want(&mut self, r: Res) -> &mut Want {
        match r {
            Res::Ports => &mut self.want_ports,
            Res::Spis => &mut self.want_spis,
        }
    }

    pub(super) fn queue_notice(&mut self, op: Op) {
        if !q_push(&mut self.notices, op) {
            self.bump(Stat::NoticesDropped);
        }
    }

    /// Forgets queued and outstanding releases for which `f` holds.
    pub(super) fn drop_releases(&mut self, mut f: impl FnMut(Op) -> bool) {
        q_retain(&mut self.notices, |op| !f(op));
        if self.txn.is_some_and(|t| t.op.is_notice() && f(t.op)) {
            self.txn = None;
        }
    }
    fn may_ask(w: &Want, t: u64) -> bool {
        w.stuck.is_none() && w.hold_until <= t
    }

    /// The next transaction to start at `t`, if any.
    pub(super) fn next_op(&mut self, t: u64) -> Option<Op> {
        if let Some(op) = q_pop(&mut self.notices) {
            return Some(op);
        }
        if self.stopped {
            return None;
        }
        let due = |r: Option<u64>| r.filter(|&x| x <= t);
        let port = held(&self.ports)
            .filter_map(|e| due(e.lease.renew_at).map(|x| (x, e.block)))
            .min_by_key(|&(x, _)| x);
        let spi = held(&self.spis)
            .filter_map(|e| due(e.lease.renew_at).map(|x| (x, e.block)))
            .min_by_key(|&(x, _)| x);
        match (port, spi) {
            (Some((p, b)), Some((s, _))) if p <= s => return Some(Op::RenewPorts(b)),
            (Some((_, b)), None) => return Some(Op::RenewPorts(b)),
            (_, Some((_, b))) => return Some(Op::RenewSpis(b)),
            (None, None) => {}
        }
        if blocks(&self.spis) < MAX_BLOCKS {
            if let Some(b) = self.reclaim.iter_mut().find_map(Option::take) {
                return Some(Op::ReclaimSpis(b));
            }
        }
        if !self.silent {
            self.requeue_stale(MAX_SA_RECORDS);
            self.requeue_blacklist();
        }
        if let Some(op) = q_pop(&mut self.sa_queue) {
            return Some(op);
        }
        if let Some(n) = self.asked_ports {
            if blocks(&self.ports) < MAX_BLOCKS {
                return Some(Op::RequestPorts(n));
            }
            self.asked_ports = None;
        }
        if let Some(n) = self.asked_spis {
            if blocks(&self.spis) < MAX_BLOCKS {
                return Some(Op::RequestSpis(n));
            }
            self.asked_spis = None;
        }
        if self.needs_ports() && Self::may_ask(&self.want_ports, t) {
            let count = u8::try_from(self.want_ports.ask)
                .unwrap_or(self.cfg.port_block)
                .max(1);
            return Some(Op::RequestPorts(count));
        }
        if self.needs_spis() && Self::may_ask(&self.want_spis, t) {
            return Some(Op::RequestSpis(self.want_spis.ask.max(1)));
        }
        // A silent router is probed by whatever is due; by a stale
        // validation (one at a time) only when nothing else is.
        self.requeue_stale(1);
        q_pop(&mut self.sa_queue)
    }

    pub(super) fn start(&mut self, op: Op, t: u64) {
        let (xid, started, sent) = match self.given_up {
            Some(g) if g.op == op && t.saturating_sub(g.started) < u64::from(XID_REUSE_MAX) => {
                self.given_up = None;
                (g.xid, g.started, g.sent)
            }
            _ => (self.rand(), t, 0),
        };
        let step = if self.silent {
            MAX_TRANSMISSIONS.saturating_sub(1)
        } else {
            0
        };
        self.txn = Some(Txn {
            op,
            xid,
            started,
            next: t,
            step,
            sent,
        });
        self.bump(match op {
            Op::RequestPorts(_) | Op::RequestSpis(_) => Stat::Requests,
            Op::RenewPorts(_) | Op::RenewSpis(_) | Op::ReclaimSpis(_) => Stat::Renewals,
            Op::ReleasePorts(_) | Op::ReleaseSpis(_) | Op::ReleaseAll => Stat::Notices,
            Op::SaValidate(..)
            | Op::SaInvalidate(..)
            | Op::BlacklistAdd(..)
            | Op::BlacklistRemove(..) => Stat::SaNoticesSent,
        });
    }

    /// Sends the outstanding transaction (again) and schedules the next
    /// transmission.
    pub(super) fn transmit(&mut self, t: u64) -> Option<Out> {
        let mut txn = self.txn?;
        let msg = self.message(&txn);
        let mut bytes = [0u8; MAX_LEN];
        let len = match pap::encode(&msg, &mut bytes)
            .ok()
            .and_then(|n| u8::try_from(n).ok())
        {
            Some(n) => n,
            None => {
                self.txn = None;
                self.bump(Stat::Unsendable);
                return None;
            }
        };
        self.bump(Stat::Sent);
        if txn.sent > 0 {
            self.bump(Stat::Retransmits);
        }
        let last = RETRANSMIT.len().saturating_sub(1);
        let wait = RETRANSMIT
            .get(usize::from(txn.step).min(last))
            .copied()
            .unwrap_or(1);
        txn.next = t.saturating_add(u64::from(self.jittered(wait).max(1)));
        txn.step = txn.step.saturating_add(1);
        txn.sent = txn.sent.saturating_add(1);
        self.txn = Some(txn);
        Some(Out { msg, len, bytes })
    }

    pub(super) fn give_up(&mut self, txn: Txn) {
        self.txn = None;
        self.silent = true;
        self.bump(Stat::GivenUp);
        if let Op::ReclaimSpis(b) = txn.op {
            // Asked back again when the router answers again.
            if let Some(slot) = self.reclaim.iter_mut().find(|r| r.is_none()) {
                *slot = Some(b);
            }
        } else if txn.op.is_sa() {
            self.sa_given_up(txn.op);
        } else if !txn.op.is_notice() {
            self.given_up = Some(txn);
        }
    }

    /// The transaction `msg` (a reply) answers, taken out.
    pub(super) fn match_reply(&mut self, msg: &Message) -> Result<Txn, Ignored> {
        let xid = msg.ext().map(|e| e.xid);
        let mut wrong = false;
        for late in [false, true] {
            let Some(txn) = (if late { self.given_up } else { self.txn }) else {
                continue;
            };
            match xid {
                Some(x) if x != txn.xid => continue,
                None if !txn.op.is_request() => continue,
                _ => {}
            }
            if txn.op.answered_by(msg) {
                if late {
                    self.given_up = None;
                } else {
                    self.txn = None;
                }
                return Ok(txn);
            }
            wrong |= xid.is_some();
        }
        Err(if wrong {
            Ignored::WrongReply
        } else {
            Ignored::Unmatched
        })
    }
}
