// SPDX-License-Identifier: GPL-2.0

//! What the router's messages do: a new epoch, the answer to the
//! outstanding transaction, and unsolicited invalidations.

use super::super::pap::{scope, Message, PortBlock, Reason, SpiBlock};
use super::held::{
    blocks, find_mut, held, insert, overlaps, remove_where, Entry, Lease, Res, Span,
};
use super::txn::{q_retain, Op, Txn, Want};
use super::{
    Changes, Client, Stat, MAX_BLOCKS, MAX_NOTICES, RECLAIM_GRACE, REFUSAL_DELAY_MAX, RENEW_RETRY,
};

impl Client {
    /// Notes the epoch of an accepted router message; a new one (not the
    /// first) means the router restarted.
    pub(super) fn see_epoch(&mut self, epoch: u32, t: u64) -> Changes {
        if epoch == 0 || epoch == self.epoch {
            return Changes::NONE;
        }
        let first = self.epoch == 0;
        self.epoch = epoch;
        if first {
            return Changes::NONE;
        }
        self.bump(Stat::EpochChanges);
        let ch = Changes {
            ports: blocks(&self.ports) > 0,
            spis: blocks(&self.spis) > 0,
            sas: true,
            epoch: true,
        };
        // SPI blocks that recorded SAs use: asked back first, so that the
        // SAs keep their SPIs if the new router still has them free.
        self.reclaim = [None; MAX_BLOCKS];
        let mut k = 0;
        for b in held(&self.spis).map(|e| e.block) {
            let used = self.records.iter().flatten().any(|r| b.contains(r.spi));
            if let (true, Some(slot)) = (used, self.reclaim.get_mut(k)) {
                *slot = Some(b);
                k += 1;
            }
        }
        self.ports = [None; MAX_BLOCKS];
        self.spis = [None; MAX_BLOCKS];
        self.notices = [None; MAX_NOTICES];
        // The new router knows none of the SAs: the records wait for SPIs
        // (the blacklist is re-sent too), queued notices go.
        self.records_stale();
        let mut gone = q_retain(&mut self.sa_queue, |_| false);
        if self.txn.is_some_and(|t| t.op.is_sa()) {
            gone = gone.saturating_add(1);
        }
        self.bump_by(Stat::SaNoticesDropped, gone);
        self.given_up = None;
        self.txn = match self.txn {
            // The new router has no reply cache to protect, and a new xid
            // keeps a late reply of the old router from matching.
            Some(txn) if txn.op.is_request() => Some(Txn {
                xid: self.rand(),
                started: t,
                next: t,
                step: 0,
                sent: 0,
                ..txn
            }),
            _ => None,
        };
        self.retry_now();
        if k == 0 {
            self.want_spis.hold_until = t.saturating_add(u64::from(RECLAIM_GRACE));
        }
        self.last_refusal = None;
        ch
    }

    /// Applies `msg`, the answer to `txn`; returns the refusal, if any.
    pub(super) fn apply_reply(
        &mut self,
        txn: Txn,
        msg: &Message,
        t: u64,
        ch: &mut Changes,
    ) -> Option<Reason> {
        let lease = msg.ext().map_or(0, |e| e.lease);
        match txn.op {
            Op::RequestPorts(n) if self.asked_ports == Some(n) => self.asked_ports = None,
            Op::RequestSpis(n) if self.asked_spis == Some(n) => self.asked_spis = None,
            _ => {}
        }
        let refused = match (txn.op, *msg) {
            (Op::RequestPorts(_), Message::PortResponse { result, .. }) => match result {
                Ok(b) => {
                    self.granted_ports(b, Lease::new(txn.started, lease), ch);
                    None
                }
                Err(r) => Some(r),
            },
            (Op::RequestSpis(_), Message::SpiResponse { result, .. }) => match result {
                Ok(b) => {
                    self.granted_spis(b, Lease::new(txn.started, lease), ch);
                    None
                }
                Err(r) => Some(r),
            },
            (Op::RenewPorts(b), Message::PortResponse { result, .. }) => match result {
                Ok(_) => {
                    self.bump(Stat::Renewed);
                    if let Some(e) = find_mut(&mut self.ports, b) {
                        e.lease = Lease::new(txn.started, lease);
                    }
                    None
                }
                Err(r) => Some(r),
            },
            (Op::ReclaimSpis(_), Message::SpiResponse { result, .. }) => match result {
                Ok(b) => {
                    self.bump(Stat::Reclaimed);
                    self.granted_spis(b, Lease::new(txn.started, lease), ch);
                    None
                }
                Err(r) => Some(r),
            },
            (Op::RenewSpis(b), Message::SpiResponse { result, .. }) => match result {
                Ok(_) => {
                    self.bump(Stat::Renewed);
                    if let Some(e) = find_mut(&mut self.spis, b) {
                        e.lease = Lease::new(txn.started, lease);
                    }
                    None
                }
                Err(r) => Some(r),
            },
            (op, Message::Ack { result, .. }) if op.is_sa() => {
                self.bump(if result.is_ok() {
                    Stat::SaNoticesApplied
                } else {
                    Stat::SaNoticesRefused
                });
                self.sa_answered(op, result.is_ok());
                result.err()
            }
            (_, Message::Ack { result, .. }) => match result {
                Ok(()) => {
                    self.bump(Stat::Released);
                    None
                }
                Err(r) => Some(r),
            },
            _ => None,
        };
        let r = refused?;
        self.bump(Stat::refused(r));
        self.last_refusal = Some(r);
        match txn.op {
            Op::RequestPorts(_) => self.request_refused(Res::Ports, r, t),
            Op::RequestSpis(_) => self.request_refused(Res::Spis, r, t),
            Op::RenewPorts(b) => {
                if matches!(r, Reason::NotOwned | Reason::Revoked) {
                    if remove_where(&mut self.ports, |e| e.block == b) > 0 {
                        ch.ports = true;
                        self.unstick_quota(Res::Ports);
                    }
                } else if let Some(e) = find_mut(&mut self.ports, b) {
                    e.lease.renew_at = Some(t.saturating_add(u64::from(RENEW_RETRY)));
                }
                self.renewal_refused(r);
            }
            Op::RenewSpis(b) => {
                if matches!(r, Reason::NotOwned | Reason::Revoked) {
                    if remove_where(&mut self.spis, |e| e.block == b) > 0 {
                        ch.spis = true;
                        self.unstick_quota(Res::Spis);
                        self.spis_changed();
                    }
                } else if let Some(e) = find_mut(&mut self.spis, b) {
                    e.lease.renew_at = Some(t.saturating_add(u64::from(RENEW_RETRY)));
                }
                self.renewal_refused(r);
            }
            // A certified block cannot be given back: the router keeps it
            // for this host, so the host takes it back too and renews it
            // at once (the renewal brings its lease).
            Op::ReleasePorts(b) if r == Reason::Pinned => {
                if insert(&mut self.ports, Entry::readopted(b, t)) {
                    ch.ports = true;
                }
            }
            Op::ReleaseSpis(b) if r == Reason::Pinned => {
                if insert(&mut self.spis, Entry::readopted(b, t)) {
                    ch.spis = true;
                }
            }
            // Not given back: the records stay stale and a new block is
            // requested as usual.
            Op::ReclaimSpis(_)
            | Op::ReleasePorts(_)
            | Op::ReleaseSpis(_)
            | Op::ReleaseAll
            | Op::SaValidate(..)
            | Op::SaInvalidate(..)
            | Op::BlacklistAdd(..)
            | Op::BlacklistRemove(..) => {}
        }
        Some(r)
    }

    fn renewal_refused(&mut self, r: Reason) {
        if r == Reason::Revoked {
            self.want_ports.stuck = Some(r);
            self.want_spis.stuck = Some(r);
        }
    }

    fn request_refused(&mut self, res: Res, r: Reason, t: u64) {
        match r {
            Reason::OverQuota => self.want(res).stuck = Some(r),
            Reason::Revoked => {
                self.want_ports.stuck = Some(r);
                self.want_spis.stuck = Some(r);
            }
            _ => {
                let w = self.want(res);
                if r == Reason::NoSpace {
                    w.ask = (w.ask / 2).max(1);
                }
                w.hold_until = t.saturating_add(u64::from(w.delay));
                w.delay = w.delay.saturating_mul(2).min(REFUSAL_DELAY_MAX);
            }
        }
    }

    fn granted_ports(&mut self, b: PortBlock, lease: Lease, ch: &mut Changes) {
        self.bump(Stat::Granted);
        self.want_ports = Want::new(u16::from(self.cfg.port_block));
        let (lo, hi) = b.range();
        let n = remove_where(&mut self.ports, |e| overlaps(&e.block, lo, hi));
        self.bump_by(Stat::Overlaps, u64::from(n));
        self.prune();
        if insert(
            &mut self.ports,
            Entry {
                block: b,
                lease,
                kept: false,
            },
        ) {
            ch.ports = true;
        } else {
            ch.ports |= n > 0;
            self.bump(Stat::Surplus);
            self.queue_notice(Op::ReleasePorts(b));
        }
    }

    fn granted_spis(&mut self, b: SpiBlock, lease: Lease, ch: &mut Changes) {
        self.bump(Stat::Granted);
        self.want_spis = Want::new(self.cfg.spi_block);
        let (lo, hi) = b.range();
        let n = remove_where(&mut self.spis, |e| overlaps(&e.block, lo, hi));
        self.bump_by(Stat::Overlaps, u64::from(n));
        self.prune();
        if insert(
            &mut self.spis,
            Entry {
                block: b,
                lease,
                kept: false,
            },
        ) {
            ch.spis = true;
        } else {
            ch.spis |= n > 0;
            self.bump(Stat::Surplus);
            self.queue_notice(Op::ReleaseSpis(b));
        }
        // Also where SPIs are re-acquired after a restart (stale records
        // stay, flagged, until their SPI is held again or invalidated).
        self.spis_changed();
    }

    /// Applies a router invalidation (unsolicited, xid 0).
    pub(super) fn apply_invalidation(&mut self, msg: &Message, ch: &mut Changes) {
        self.bump(Stat::Invalidations);
        match *msg {
            Message::PortInvalidate { port, .. } => {
                let lo = u64::from(port);
                self.drop_blocks(Res::Ports, lo, lo.saturating_add(1), ch);
            }
            Message::PortBlockInvalidate { block, .. } => {
                let (lo, hi) = block.range();
                self.drop_blocks(Res::Ports, lo, hi, ch);
            }
            Message::SpiInvalidate { spi, .. } => {
                let lo = u64::from(spi);
                self.drop_blocks(Res::Spis, lo, lo.saturating_add(1), ch);
            }
            Message::SpiBlockInvalidate { block, .. } => {
                let (lo, hi) = block.range();
                self.drop_blocks(Res::Spis, lo, hi, ch);
            }
            Message::InvalidateAll { scope: s, .. } => {
                if s & scope::PORTS != 0 {
                    self.drop_blocks(Res::Ports, 0, u64::MAX, ch);
                }
                if s & scope::SPIS != 0 {
                    self.drop_blocks(Res::Spis, 0, u64::MAX, ch);
                }
                if s & scope::SA != 0 {
                    ch.sas = true;
                    self.records_stale();
                }
            }
            _ => {}
        }
    }

    /// Drops every held block of `res` overlapping `lo..hi`, and the
    /// releases of such blocks not yet acknowledged.
    fn drop_blocks(&mut self, res: Res, lo: u64, hi: u64, ch: &mut Changes) {
        let n = match res {
            Res::Ports => remove_where(&mut self.ports, |e| overlaps(&e.block, lo, hi)),
            Res::Spis => remove_where(&mut self.spis, |e| overlaps(&e.block, lo, hi)),
        };
        self.drop_releases(|op| match (res, op) {
            (Res::Ports, Op::ReleasePorts(b)) => overlaps(&b, lo, hi),
            (Res::Spis, Op::ReleaseSpis(b)) => overlaps(&b, lo, hi),
            _ => false,
        });
        self.prune();
        if n > 0 {
            match res {
                Res::Ports => ch.ports = true,
                Res::Spis => {
                    ch.spis = true;
                    self.spis_changed();
                }
            }
            self.unstick_quota(res);
        }
    }
}
