// SPDX-License-Identifier: GPL-2.0

//! Validations and invalidations: probing for a key, inserting and
//! removing it, and the per-host counts.

use core::net::Ipv4Addr;
use core::sync::atomic::Ordering;

use super::super::alloc_table::Slot;
use super::super::config::SPI_FIRST_ALLOCATABLE;
use super::key::{dist_of, key_of, slot_index, slot_of, value};
use super::{is_external, Lan, SaError, SaTable, EMPTY, PROBE_LIMIT, TOMB_REUSABLE, TOMB_YOUNG};

/// Where a key is, or where it would go.
struct Probe {
    found: Option<usize>,
    free: Option<(usize, usize)>,
}

impl SaTable<'_> {
    pub(super) fn max_live(&self) -> u32 {
        u32::try_from(self.shared.layout().max_entries()).unwrap_or(u32::MAX)
    }

    pub(super) fn check_slot(&self, slot: Slot) -> Result<usize, SaError> {
        slot_index(slot)
            .filter(|&i| i < self.counts.len())
            .ok_or(SaError::BadSlot)
    }

    fn probe(&self, k: u64) -> Probe {
        let mut p = Probe {
            found: None,
            free: None,
        };
        let mut i = self.shared.home(k);
        for d in 0..PROBE_LIMIT {
            let Some(b) = self.shared.buckets.get(i) else {
                break;
            };
            let found = b.key.load(Ordering::Relaxed);
            if found == k {
                p.found = Some(i);
                return p;
            }
            if (found == EMPTY || found == TOMB_REUSABLE) && p.free.is_none() {
                p.free = Some((i, d));
            }
            if found == EMPTY {
                break;
            }
            i = (i + 1) & self.shared.mask;
        }
        p
    }

    fn count_mut(&mut self, slot: Slot) -> Option<&mut u16> {
        slot_index(slot).and_then(|i| self.counts.get_mut(i))
    }

    /// Turns the live entry in bucket `i` into a young tombstone.
    pub(super) fn remove_at(&mut self, i: usize) {
        let Some(b) = self.shared.buckets.get(i) else {
            return;
        };
        let slot = slot_of(b.val.load(Ordering::Relaxed));
        let stamp = u64::from(self.st.epoch as u32) << 32;
        b.key
            .store(stamp | u64::from(TOMB_YOUNG), Ordering::Release);
        self.st.live = self.st.live.saturating_sub(1);
        self.st.young += 1;
        if let Some(c) = self.count_mut(slot) {
            *c = c.saturating_sub(1);
        }
    }

    /// Records that `(addr, spi)` is an established SA of the host in
    /// `slot`: the host's SA peer at `addr` sends with inbound SPI `spi`.
    /// `owns_spi(slot, spi)` tells whether the allocation table gives `spi`
    /// to `slot` now (an active block; the writer-side truth, not the
    /// published index, which lags). Returns whether the entry is new
    /// (validating an entry again changes nothing).
    pub fn validate(
        &mut self,
        slot: Slot,
        addr: Ipv4Addr,
        spi: u32,
        lan: Option<Lan>,
        owns_spi: impl FnOnce(Slot, u32) -> bool,
    ) -> Result<bool, SaError> {
        let si = self.check_slot(slot)?;
        if spi < SPI_FIRST_ALLOCATABLE {
            return Err(SaError::BadSpi);
        }
        if !is_external(addr, lan) {
            return Err(SaError::BadAddress);
        }
        if !owns_spi(slot, spi) {
            return Err(SaError::NotOwned);
        }
        let k = key_of(addr, spi);
        let p = self.probe(k);
        let held = self.counts.get(si).copied().unwrap_or(u16::MAX);
        if let Some(i) = p.found {
            let Some(b) = self.shared.buckets.get(i) else {
                return Err(SaError::TableFull);
            };
            let v = b.val.load(Ordering::Relaxed);
            let old = slot_of(v);
            if old == slot {
                return Ok(false);
            }
            // A stale entry of the SPI's previous owner: hand it over.
            if held >= self.st.host_limit {
                return Err(SaError::HostLimit);
            }
            b.val.store(value(slot, dist_of(v)), Ordering::Release);
            if let Some(c) = self.count_mut(old) {
                *c = c.saturating_sub(1);
            }
            if let Some(c) = self.counts.get_mut(si) {
                *c = c.saturating_add(1);
            }
            return Ok(true);
        }
        if held >= self.st.host_limit {
            return Err(SaError::HostLimit);
        }
        if self.st.live >= self.max_live() {
            return Err(SaError::TableFull);
        }
        let Some((i, d)) = p.free else {
            return Err(SaError::TableFull);
        };
        let Some(b) = self.shared.buckets.get(i) else {
            return Err(SaError::TableFull);
        };
        if b.key.load(Ordering::Relaxed) == TOMB_REUSABLE {
            self.st.reusable = self.st.reusable.saturating_sub(1);
        }
        b.val.store(value(slot, d), Ordering::Relaxed);
        b.key.store(k, Ordering::Release);
        self.st.live += 1;
        if let Some(c) = self.counts.get_mut(si) {
            *c = c.saturating_add(1);
        }
        Ok(true)
    }

    /// Removes the SA `(addr, spi)` of the host in `slot` (an entry of
    /// another host stays: [`SaError::NotFound`]).
    pub fn invalidate(&mut self, slot: Slot, addr: Ipv4Addr, spi: u32) -> Result<(), SaError> {
        self.check_slot(slot)?;
        if spi < SPI_FIRST_ALLOCATABLE {
            return Err(SaError::NotFound);
        }
        let i = self
            .probe(key_of(addr, spi))
            .found
            .ok_or(SaError::NotFound)?;
        let owner = self
            .shared
            .buckets
            .get(i)
            .map(|b| slot_of(b.val.load(Ordering::Relaxed)));
        if owner != Some(slot) {
            return Err(SaError::NotFound);
        }
        self.remove_at(i);
        Ok(())
    }
}
