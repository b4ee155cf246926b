// SPDX-License-Identifier: GPL-2.0

//! Removal of what goes with retired SPI blocks and hosts, and the grace
//! periods before a removed key's bucket is reused.

use core::sync::atomic::Ordering;

use super::super::alloc_table::Slot;
use super::key::{dist_of, is_live, slot_of};
use super::{SaGraceToken, SaTable, EMPTY, MAX_OUTSTANDING, TOMB_REUSABLE, TOMB_YOUNG};

impl SaTable<'_> {
    /// Removes every live entry for which `pred(slot, spi)` holds; returns
    /// how many.
    fn remove_where(&mut self, pred: impl Fn(Slot, u32) -> bool) -> usize {
        let mut n = 0;
        for i in 0..self.shared.buckets.len() {
            let hit = self.shared.buckets.get(i).is_some_and(|b| {
                let k = b.key.load(Ordering::Relaxed);
                is_live(k) && pred(slot_of(b.val.load(Ordering::Relaxed)), k as u32)
            });
            if hit {
                self.remove_at(i);
                n += 1;
            }
        }
        n
    }

    /// Removes the SAs of the host in `slot` whose SPI is in `lowest ..
    /// lowest + count` (the block was released, expired or revoked), and its
    /// blacklist entries naming those SPIs. Returns how many entries went.
    /// O(buckets) if the host has SAs, else O(1).
    pub fn remove_spis(&mut self, slot: Slot, lowest: u32, count: u32) -> usize {
        let Ok(si) = self.check_slot(slot) else {
            return 0;
        };
        let Some(last) = count.checked_sub(1).map(|c| lowest.saturating_add(c)) else {
            return 0;
        };
        let in_range = move |spi: u32| lowest <= spi && spi <= last;
        let mut n = 0;
        if self.counts.get(si).is_some_and(|&c| c > 0) {
            n += self.remove_where(|s, spi| s == slot && in_range(spi));
        }
        n + self.bl_remove_where(si, |e| e as u32 != 0 && in_range(e as u32))
    }

    /// Removes every SA and blacklist entry of the host in `slot`
    /// (revocation; a host that holds no block any more). Returns how many.
    pub fn remove_host(&mut self, slot: Slot) -> usize {
        let Ok(si) = self.check_slot(slot) else {
            return 0;
        };
        let mut n = 0;
        if self.counts.get(si).is_some_and(|&c| c > 0) {
            n += self.remove_where(|s, _| s == slot);
        }
        n + self.bl_remove_where(si, |_| true)
    }

    /// Removes everything (router reset or restart). Returns how many
    /// entries went.
    pub fn clear(&mut self) -> usize {
        let mut n = 0;
        if self.st.live > 0 {
            n += self.remove_where(|_, _| true);
        }
        if self.st.blacklisted > 0 {
            for si in 0..self.shared.blacklists.len() {
                n += self.bl_remove_where(si, |_| true);
            }
        }
        n
    }

    /// Whether removed entries wait for a grace period before their buckets
    /// can be reused.
    pub fn needs_grace(&self) -> bool {
        self.st.young > 0
    }

    /// Starts a grace period: returns the token to hand to
    /// [`SaTable::finish_grace`] once an RCU grace period has elapsed
    /// *after this call*, or `None` if nothing waits (or 2^31 tokens are
    /// outstanding).
    pub fn start_grace(&mut self) -> Option<SaGraceToken> {
        if !self.needs_grace() || self.st.epoch.saturating_sub(self.st.done) >= MAX_OUTSTANDING {
            return None;
        }
        let t = self.st.epoch;
        self.st.epoch = self.st.epoch.saturating_add(1);
        Some(SaGraceToken(t))
    }

    /// Ends a grace period: every tombstone made before the token was taken
    /// becomes empty, or reusable if a live entry's probe sequence crosses
    /// it. Returns how many tombstones changed.
    pub fn finish_grace(&mut self, token: SaGraceToken) -> usize {
        let t = token.0.min(self.st.epoch.saturating_sub(1));
        self.st.done = self.st.done.max(t);
        if self.st.young == 0 && self.st.reusable == 0 {
            return 0;
        }
        self.sweep()
    }

    /// One backward pass over the buckets twice (the second time round
    /// covers probe sequences that wrap): `min_home` is the lowest home
    /// position of the live entries past the current position, so a
    /// tombstone at `x` is crossed iff `min_home <= x`.
    fn sweep(&mut self) -> usize {
        let n = self.shared.buckets.len();
        let done = self.st.done;
        let mut min_home = i64::MAX;
        let mut changed = 0;
        for x in (0..2 * n).rev() {
            let Some(b) = self.shared.buckets.get(x & self.shared.mask) else {
                continue;
            };
            let k = b.key.load(Ordering::Relaxed);
            if is_live(k) {
                let d = dist_of(b.val.load(Ordering::Relaxed)) as i64;
                min_home = min_home.min(x as i64 - d);
                continue;
            }
            if x >= n || k == EMPTY {
                continue;
            }
            let young = k as u32 == TOMB_YOUNG;
            if young && self.st.stamp_epoch((k >> 32) as u32) > done {
                continue;
            }
            if min_home > x as i64 {
                b.key.store(EMPTY, Ordering::Release);
                if young {
                    self.st.young = self.st.young.saturating_sub(1);
                } else {
                    self.st.reusable = self.st.reusable.saturating_sub(1);
                }
                changed += 1;
            } else if young {
                b.key.store(TOMB_REUSABLE, Ordering::Release);
                self.st.young = self.st.young.saturating_sub(1);
                self.st.reusable += 1;
                changed += 1;
            }
        }
        changed
    }
}
