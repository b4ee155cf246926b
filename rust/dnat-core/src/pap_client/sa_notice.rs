// SPDX-License-Identifier: GPL-2.0

//! SA notices (34/x, 35/x): validations, invalidations and blacklist
//! entries queued for the router, the validations recorded to be sent
//! again when the router forgets them, and what their answers do.

use core::net::Ipv4Addr;

use super::super::config::{is_unicast, SPI_FIRST_ALLOCATABLE};
use super::super::pap::Acked;
use super::held::{blocks, holds};
use super::txn::{q_push, q_retain, Op, Subject};
use super::{Client, Stat};

/// What an SA notice asks of the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaNoticeKind {
    /// 34/0: an SA with the peer `addr` on the inbound `spi` exists.
    Validate,
    /// 35/0: that SA ended.
    Invalidate,
    /// 34/1: drop ESP/AH for this host from `addr` and/or with `spi`.
    BlacklistAdd,
    /// 35/1: remove exactly that blacklist entry.
    BlacklistRemove,
}

impl SaNoticeKind {
    /// A name for logs and dumps.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Invalidate => "invalidate",
            Self::BlacklistAdd => "blacklist_add",
            Self::BlacklistRemove => "blacklist_remove",
        }
    }

    /// The acknowledgement that answers it.
    pub const fn acked(self) -> Acked {
        match self {
            Self::Validate => Acked::SaValidate,
            Self::Invalidate => Acked::SaInvalidate,
            Self::BlacklistAdd => Acked::BlacklistAdd,
            Self::BlacklistRemove => Acked::BlacklistRemove,
        }
    }
}

/// An SA notice, as [`Client::sa_notices`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaNotice {
    /// Which notice.
    pub kind: SaNoticeKind,
    /// The peer's address; always set for validations and invalidations,
    /// `None` for a blacklist entry for any address.
    pub addr: Option<Ipv4Addr>,
    /// The SPI; always set for validations and invalidations, `None` for a
    /// blacklist entry for any SPI.
    pub spi: Option<u32>,
}

/// Why an SA notice was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaNoticeError {
    /// [`Client::release_all`] stopped the client.
    Stopped,
    /// The address is not unicast, an SPI is below 256, or a blacklist
    /// entry has neither address nor SPI.
    Invalid,
    /// The SPI is not in a held SPI block (for a blacklist entry without
    /// SPI: no block at all is held).
    NotHeld,
    /// [`MAX_SA_NOTICES`](super::MAX_SA_NOTICES) notices are queued.
    QueueFull,
    /// A validation of a new pair while
    /// [`MAX_SA_RECORDS`](super::MAX_SA_RECORDS) are recorded.
    RecordsFull,
}

impl SaNoticeError {
    /// A positive errno for netlink replies.
    pub const fn errno(self) -> i32 {
        match self {
            Self::Stopped => 107,    // ENOTCONN
            Self::Invalid => 22,     // EINVAL
            Self::NotHeld => 1,      // EPERM
            Self::QueueFull => 16,   // EBUSY
            Self::RecordsFull => 28, // ENOSPC
        }
    }

    /// A message for logs and netlink extended acks.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Stopped => "the PAP client is stopped",
            Self::Invalid => "not a unicast address, an SPI below 256, or an empty blacklist entry",
            Self::NotHeld => "the SPI is not in an SPI block the host holds",
            Self::QueueFull => "too many SA notices are waiting",
            Self::RecordsFull => "too many SA validations are recorded",
        }
    }
}

/// Where a recorded validation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaRecordState {
    /// Queued or sent, not acknowledged yet.
    Pending,
    /// Acknowledged as applied.
    Validated,
    /// The router forgot it (restart, invalidate-all with the SA bit) or
    /// its notice was given up: validated again when possible.
    Stale,
}

/// A recorded SA validation ([`Client::sa_records`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaRecord {
    /// The peer's external address.
    pub addr: Ipv4Addr,
    /// The SA's inbound SPI.
    pub spi: u32,
    /// Where it stands.
    pub state: SaRecordState,
}

impl Client {
    /// Queues a validation (34/0): the host established an SA with the peer
    /// `addr` whose inbound SPI is `spi`, in a held SPI block. The pair is
    /// recorded (`Pending`) and validated again whenever the router forgets
    /// it. See Documentation/networking/dnat.rst, "The PAP client", "SA
    /// notices".
    pub fn validate(&mut self, addr: Ipv4Addr, spi: u32) -> Result<(), SaNoticeError> {
        self.check_notice(Some(addr), Some(spi))?;
        if !self.owns_spi(spi) {
            return Err(SaNoticeError::NotHeld);
        }
        let slot = match self.record_index(addr, spi) {
            Some(i) => i,
            None => self
                .records
                .iter()
                .position(Option::is_none)
                .ok_or(SaNoticeError::RecordsFull)?,
        };
        self.queue_sa(Op::SaValidate(addr, spi))?;
        if let Some(r) = self.records.get_mut(slot) {
            *r = Some(SaRecord {
                addr,
                spi,
                state: SaRecordState::Pending,
            });
        }
        Ok(())
    }

    /// Queues an invalidation (35/0): that SA ended. Its record goes at
    /// once, even when the SPI is not held any more (then nothing is sent
    /// and the answer is [`SaNoticeError::NotHeld`]: the router forgot the
    /// SA with the block).
    pub fn invalidate(&mut self, addr: Ipv4Addr, spi: u32) -> Result<(), SaNoticeError> {
        self.check_notice(Some(addr), Some(spi))?;
        if !self.owns_spi(spi) {
            self.forget_record(addr, spi);
            return Err(SaNoticeError::NotHeld);
        }
        self.queue_sa(Op::SaInvalidate(addr, spi))?;
        self.forget_record(addr, spi);
        Ok(())
    }

    /// Queues a blacklist addition (34/1): the router is to drop ESP/AH for
    /// this host from `addr` (`None`: any address) with `spi` (`None`: any
    /// SPI), not both `None`. An SPI must be in a held SPI block; without
    /// one, some block must be held (the router keeps a blacklist only for
    /// a host holding a block). Recorded (at most
    /// [`MAX_BLACKLIST`](super::MAX_BLACKLIST)) and sent again when the
    /// router forgets it ([`Changes::sas`](super::Changes::sas)).
    pub fn blacklist_add(
        &mut self,
        addr: Option<Ipv4Addr>,
        spi: Option<u32>,
    ) -> Result<(), SaNoticeError> {
        self.check_notice(addr, spi)?;
        let backed = match spi {
            Some(s) => self.owns_spi(s),
            None => blocks(&self.ports) > 0 || blocks(&self.spis) > 0,
        };
        if !backed {
            return Err(SaNoticeError::NotHeld);
        }
        self.queue_sa(Op::BlacklistAdd(addr, spi))?;
        let entry = Some((addr, spi));
        if !self.blacklist.contains(&entry) {
            if let Some(slot) = self.blacklist.iter_mut().find(|e| e.is_none()) {
                *slot = entry;
            }
        }
        Ok(())
    }

    /// Queues a blacklist removal (35/1) of exactly that entry.
    pub fn blacklist_remove(
        &mut self,
        addr: Option<Ipv4Addr>,
        spi: Option<u32>,
    ) -> Result<(), SaNoticeError> {
        self.check_notice(addr, spi)?;
        self.queue_sa(Op::BlacklistRemove(addr, spi))?;
        for e in self.blacklist.iter_mut() {
            if *e == Some((addr, spi)) {
                *e = None;
            }
        }
        Ok(())
    }

    /// Checks the client and the arguments of an SA notice.
    fn check_notice(&self, addr: Option<Ipv4Addr>, spi: Option<u32>) -> Result<(), SaNoticeError> {
        if self.stopped {
            return Err(SaNoticeError::Stopped);
        }
        if (addr.is_none() && spi.is_none())
            || addr.is_some_and(|a| !is_unicast(a))
            || spi.is_some_and(|s| s < SPI_FIRST_ALLOCATABLE)
        {
            return Err(SaNoticeError::Invalid);
        }
        Ok(())
    }

    /// The last queued SA notice about `subject`.
    fn last_queued(&self, subject: Subject) -> Option<Op> {
        self.sa_queue
            .iter()
            .rev()
            .flatten()
            .find(|op| op.subject() == Some(subject))
            .copied()
    }

    /// Queues SA notice `op`, unless the last one queued about the same
    /// subject is identical.
    fn queue_sa(&mut self, op: Op) -> Result<(), SaNoticeError> {
        if let Some(subject) = op.subject() {
            if self.last_queued(subject) == Some(op) {
                return Ok(());
            }
        }
        if q_push(&mut self.sa_queue, op) {
            Ok(())
        } else {
            Err(SaNoticeError::QueueFull)
        }
    }

    /// Whether a validation of the pair is queued.
    fn validation_queued(&self, addr: Ipv4Addr, spi: u32) -> bool {
        self.sa_queue
            .iter()
            .flatten()
            .any(|op| *op == Op::SaValidate(addr, spi))
    }

    fn record_index(&self, addr: Ipv4Addr, spi: u32) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.is_some_and(|r| r.addr == addr && r.spi == spi))
    }

    fn forget_record(&mut self, addr: Ipv4Addr, spi: u32) {
        for r in self.records.iter_mut() {
            if r.is_some_and(|r| r.addr == addr && r.spi == spi) {
                *r = None;
            }
        }
    }

    /// The router forgot every validation and blacklist entry.
    pub(super) fn records_stale(&mut self) {
        for r in self.records.iter_mut().flatten() {
            r.state = SaRecordState::Stale;
        }
        self.bl_resend = self.blacklist.iter().any(Option::is_some);
        self.bl_next = 0;
    }

    /// Queues the recorded blacklist entries again once a block backs
    /// them; an entry whose SPI is not held any more is forgotten.
    pub(super) fn requeue_blacklist(&mut self) {
        if !self.bl_resend || (blocks(&self.ports) == 0 && blocks(&self.spis) == 0) {
            return;
        }
        for i in self.bl_next..self.blacklist.len() {
            let Some(Some((a, s))) = self.blacklist.get(i).copied() else {
                continue;
            };
            if !s.is_none_or(|s| holds(&self.spis, s)) {
                if let Some(e) = self.blacklist.get_mut(i) {
                    *e = None;
                }
            } else if !q_push(&mut self.sa_queue, Op::BlacklistAdd(a, s)) {
                // The queue is full: go on from here at the next poll.
                self.bl_next = i;
                return;
            }
        }
        self.bl_resend = false;
        self.bl_next = 0;
    }

    /// Whether a stale record can be validated again now.
    pub(super) fn stale_due(&self) -> bool {
        self.records
            .iter()
            .flatten()
            .any(|r| r.state == SaRecordState::Stale && holds(&self.spis, r.spi))
    }

    /// Queues a validation for each stale record whose SPI is held, at
    /// most `max`, while the queue has room.
    pub(super) fn requeue_stale(&mut self, max: usize) {
        if self.stopped {
            return;
        }
        let mut left = max;
        for i in 0..self.records.len() {
            if left == 0 {
                return;
            }
            let Some(r) = self.records.get(i).copied().flatten() else {
                continue;
            };
            if r.state != SaRecordState::Stale || !holds(&self.spis, r.spi) {
                continue;
            }
            if !self.validation_queued(r.addr, r.spi)
                && !q_push(&mut self.sa_queue, Op::SaValidate(r.addr, r.spi))
            {
                return;
            }
            if let Some(Some(r)) = self.records.get_mut(i) {
                r.state = SaRecordState::Pending;
            }
            left = left.saturating_sub(1);
        }
    }

    /// The router answered SA notice `op` (`applied` or refused).
    pub(super) fn sa_answered(&mut self, op: Op, applied: bool) {
        match op {
            // A validation queued behind this one decides.
            Op::SaValidate(a, s) if !self.validation_queued(a, s) => {
                let i = self.record_index(a, s);
                let Some(slot) = i.and_then(|i| self.records.get_mut(i)) else {
                    return;
                };
                match slot.map(|r| r.state) {
                    // Forgotten by the router since it was sent (or
                    // invalidated): it is sent again (or not at all).
                    Some(SaRecordState::Stale) | None => {}
                    Some(_) if applied => {
                        if let Some(r) = slot {
                            r.state = SaRecordState::Validated;
                        }
                    }
                    Some(_) => *slot = None,
                }
            }
            Op::SaInvalidate(a, s) if !self.validation_queued(a, s) => self.forget_record(a, s),
            _ => {}
        }
    }

    /// SA notice `op` was given up.
    pub(super) fn sa_given_up(&mut self, op: Op) {
        self.bump(Stat::SaNoticesDropped);
        if let Op::SaValidate(a, s) = op {
            if self.validation_queued(a, s) {
                return;
            }
            if let Some(Some(r)) = self
                .record_index(a, s)
                .and_then(|i| self.records.get_mut(i))
            {
                r.state = SaRecordState::Stale;
            }
        }
    }

    /// The held SPI blocks changed (not by a restart): records and queued
    /// SA notices on SPIs no longer held go.
    pub(super) fn spis_changed(&mut self) {
        let spis = &self.spis;
        // Stale records stay (flagged) until the SPI comes back or the
        // caller invalidates them: their SA lost its SPI in a router
        // restart and gets no traffic.
        for r in self.records.iter_mut() {
            if r.is_some_and(|r| r.state != SaRecordState::Stale && !holds(spis, r.spi)) {
                *r = None;
            }
        }
        let gone = q_retain(&mut self.sa_queue, |op| {
            let spi = match op {
                Op::SaValidate(_, s) | Op::SaInvalidate(_, s) => Some(s),
                Op::BlacklistAdd(_, s) | Op::BlacklistRemove(_, s) => s,
                _ => None,
            };
            spi.is_none_or(|s| holds(spis, s))
        });
        self.bump_by(Stat::SaNoticesDropped, gone);
    }
}
