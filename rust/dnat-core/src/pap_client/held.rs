// SPDX-License-Identifier: GPL-2.0

//! What the client holds: its tables of port and SPI blocks, their
//! leases, and the blocks it still needs.

use super::super::pap::{PortBlock, Reason, SpiBlock};
use super::txn::{Op, Txn};
use super::{Changes, Client, Stat, BACKWARDS, MAX_BLOCKS};

/// A held block, as dumps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<B> {
    /// The block, as granted.
    pub block: B,
    /// The lease last granted, seconds; 0: no expiry.
    pub lease: u32,
    /// When the block is dropped, on the caller's clock; `None`: never.
    pub expires_at: Option<u32>,
    /// When it is (next) renewed, on the caller's clock.
    pub renew_at: Option<u32>,
}

impl<B> Held<B> {
    /// Seconds from `now` (the caller's clock) to the end of the lease.
    pub fn expires_in(&self, now: u32) -> Option<u32> {
        self.expires_at.map(|e| {
            let d = e.wrapping_sub(now);
            if d >= BACKWARDS {
                0
            } else {
                d
            }
        })
    }
}

/// A block of ports or SPIs, as a half-open range of values.
pub(super) trait Span: Copy + PartialEq {
    fn range(&self) -> (u64, u64);
    fn size(&self) -> u32;
}

impl Span for PortBlock {
    fn range(&self) -> (u64, u64) {
        let lo = u64::from(self.lowest);
        (lo, lo.saturating_add(u64::from(self.count)))
    }
    fn size(&self) -> u32 {
        u32::from(self.count)
    }
}

impl Span for SpiBlock {
    fn range(&self) -> (u64, u64) {
        let lo = u64::from(self.lowest);
        (lo, lo.saturating_add(u64::from(self.count)))
    }
    fn size(&self) -> u32 {
        u32::from(self.count)
    }
}

pub(super) fn overlaps<B: Span>(b: &B, lo: u64, hi: u64) -> bool {
    let (blo, bhi) = b.range();
    blo < hi && lo < bhi
}

/// A lease on the client's monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lease {
    pub(super) secs: u32,
    pub(super) expires: Option<u64>,
    pub(super) renew_at: Option<u64>,
}

impl Lease {
    /// A lease of `secs` (0: none) counted from `start`; renewed at half.
    pub(super) fn new(start: u64, secs: u32) -> Self {
        if secs == 0 {
            return Self {
                secs,
                expires: None,
                renew_at: None,
            };
        }
        Self {
            secs,
            expires: Some(start.saturating_add(u64::from(secs))),
            renew_at: Some(start.saturating_add(u64::from((secs / 2).max(1)))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry<B> {
    pub(super) block: B,
    pub(super) lease: Lease,
    /// The router refused to take it back (pinned): not given back again
    /// for being unused ([`Client::release_unused_ports`]).
    pub(super) kept: bool,
}

impl<B> Entry<B> {
    /// A block the router refused to take back (pinned): held again, its
    /// lease unknown until the renewal due at `t`.
    pub(super) fn readopted(block: B, t: u64) -> Self {
        Self {
            block,
            lease: Lease {
                secs: 0,
                expires: None,
                renew_at: Some(t),
            },
            kept: true,
        }
    }
}

pub(super) type Table<B> = [Option<Entry<B>>; MAX_BLOCKS];

pub(super) fn held<B: Span>(t: &Table<B>) -> impl Iterator<Item = &Entry<B>> + '_ {
    t.iter().flatten()
}

pub(super) fn blocks<B: Span>(t: &Table<B>) -> usize {
    held(t).count()
}

pub(super) fn find_mut<B: Span>(t: &mut Table<B>, b: B) -> Option<&mut Entry<B>> {
    t.iter_mut().flatten().find(|e| e.block == b)
}

/// Removes the entries for which `f` holds; returns how many.
pub(super) fn remove_where<B: Span>(t: &mut Table<B>, mut f: impl FnMut(&Entry<B>) -> bool) -> u32 {
    let mut n = 0u32;
    for slot in t.iter_mut() {
        if slot.as_ref().is_some_and(&mut f) {
            *slot = None;
            n = n.saturating_add(1);
        }
    }
    n
}

pub(super) fn insert<B: Span>(t: &mut Table<B>, e: Entry<B>) -> bool {
    match t.iter_mut().find(|s| s.is_none()) {
        Some(slot) => {
            *slot = Some(e);
            true
        }
        None => false,
    }
}

/// Ports or SPIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Res {
    Ports,
    Spis,
}

/// Whether `spi` is in a block of `t`.
pub(super) fn holds(t: &Table<SpiBlock>, spi: u32) -> bool {
    held(t).any(|e| e.block.contains(spi))
}

impl Client {
    /// Forgets renewals of blocks no longer held.
    pub(super) fn prune(&mut self) {
        let gone = |c: &Client, txn: Option<Txn>| match txn.map(|t| t.op) {
            Some(Op::RenewPorts(b)) => !held(&c.ports).any(|e| e.block == b),
            Some(Op::RenewSpis(b)) => !held(&c.spis).any(|e| e.block == b),
            _ => false,
        };
        if gone(self, self.txn) {
            self.txn = None;
        }
        if gone(self, self.given_up) {
            self.given_up = None;
        }
    }

    pub(super) fn unstick_quota(&mut self, r: Res) {
        let w = self.want(r);
        if w.stuck == Some(Reason::OverQuota) {
            w.stuck = None;
        }
    }

    /// Drops the blocks whose lease ended at `t`.
    pub(super) fn expire(&mut self, t: u64) -> Changes {
        let ended = |l: &Lease| l.expires.is_some_and(|x| x <= t);
        let np = remove_where(&mut self.ports, |e| ended(&e.lease));
        let ns = remove_where(&mut self.spis, |e| ended(&e.lease));
        self.bump_by(Stat::Expired, u64::from(np.saturating_add(ns)));
        if np > 0 {
            self.unstick_quota(Res::Ports);
        }
        if ns > 0 {
            self.unstick_quota(Res::Spis);
            self.spis_changed();
        }
        self.prune();
        Changes {
            ports: np > 0,
            spis: ns > 0,
            ..Changes::NONE
        }
    }

    pub(super) fn needs_ports(&self) -> bool {
        let n = blocks(&self.ports);
        if n == 0 {
            return true;
        }
        if n >= self.cfg.max_port_blocks {
            return false;
        }
        let free = self.ports_held().saturating_sub(self.in_use);
        free < u32::from(self.cfg.low_water)
    }

    pub(super) fn needs_spis(&self) -> bool {
        self.cfg.want_spis && blocks(&self.spis) == 0
    }
}
