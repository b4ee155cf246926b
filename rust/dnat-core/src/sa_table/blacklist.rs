// SPDX-License-Identifier: GPL-2.0

//! Blacklist changes: adding and removing a host's entries.

use core::net::Ipv4Addr;
use core::sync::atomic::Ordering;

use super::super::alloc_table::Slot;
use super::super::config::SPI_FIRST_ALLOCATABLE;
use super::key::{bl_find, bl_word};
use super::{is_external, Lan, SaError, SaTable, BLACKLIST_PER_HOST};

impl SaTable<'_> {
    /// Adds a blacklist entry for the host in `slot`: drop its ESP/AH from
    /// `addr` (`None`: any address) with `spi` (`None`: any SPI), not both
    /// `None`. An SPI must be the host's (`owns_spi`, as for
    /// [`SaTable::validate`]), an address external. Returns whether the
    /// entry is new.
    pub fn blacklist_add(
        &mut self,
        slot: Slot,
        addr: Option<Ipv4Addr>,
        spi: Option<u32>,
        lan: Option<Lan>,
        owns_spi: impl FnOnce(Slot, u32) -> bool,
    ) -> Result<bool, SaError> {
        let si = self.check_slot(slot)?;
        if addr.is_none() && spi.is_none() {
            return Err(SaError::EmptyEntry);
        }
        if spi.is_some_and(|s| s < SPI_FIRST_ALLOCATABLE) {
            return Err(SaError::BadSpi);
        }
        if addr.is_some_and(|a| !is_external(a, lan)) {
            return Err(SaError::BadAddress);
        }
        if spi.is_some_and(|s| !owns_spi(slot, s)) {
            return Err(SaError::NotOwned);
        }
        let w = bl_word(addr, spi);
        let b = self.shared.blacklists.get(si).ok_or(SaError::BadSlot)?;
        let used = b.used.load(Ordering::Relaxed);
        if bl_find(b, used, w).is_some() {
            return Ok(false);
        }
        let i = (!used).trailing_zeros() as usize;
        let e = b.entries.get(i).ok_or(SaError::HostLimit)?;
        e.store(w, Ordering::Relaxed);
        b.used.store(used | (1 << i), Ordering::Release);
        self.st.blacklisted += 1;
        Ok(true)
    }

    /// Removes exactly that blacklist entry of the host in `slot`.
    pub fn blacklist_remove(
        &mut self,
        slot: Slot,
        addr: Option<Ipv4Addr>,
        spi: Option<u32>,
    ) -> Result<(), SaError> {
        let si = self.check_slot(slot)?;
        let w = bl_word(addr, spi);
        let b = self.shared.blacklists.get(si).ok_or(SaError::BadSlot)?;
        let used = b.used.load(Ordering::Relaxed);
        let i = bl_find(b, used, w).ok_or(SaError::NotFound)?;
        self.bl_remove_at(si, i);
        Ok(())
    }

    fn bl_remove_at(&mut self, si: usize, i: usize) {
        let Some(b) = self.shared.blacklists.get(si) else {
            return;
        };
        let used = b.used.load(Ordering::Relaxed);
        if i >= BLACKLIST_PER_HOST || used & (1 << i) == 0 {
            return;
        }
        b.used.store(used & !(1 << i), Ordering::Release);
        if let Some(e) = b.entries.get(i) {
            e.store(0, Ordering::Relaxed);
        }
        self.st.blacklisted = self.st.blacklisted.saturating_sub(1);
    }

    /// Removes the blacklist entries of slot index `si` for which `pred`
    /// holds; returns how many.
    pub(super) fn bl_remove_where(&mut self, si: usize, pred: impl Fn(u64) -> bool) -> usize {
        let Some(b) = self.shared.blacklists.get(si) else {
            return 0;
        };
        let mut used = b.used.load(Ordering::Relaxed);
        let mut n = 0;
        while used != 0 {
            let i = used.trailing_zeros() as usize;
            used &= used - 1;
            let hit = self
                .shared
                .blacklists
                .get(si)
                .and_then(|b| b.entries.get(i))
                .is_some_and(|e| pred(e.load(Ordering::Relaxed)));
            if hit {
                self.bl_remove_at(si, i);
                n += 1;
            }
        }
        n
    }
}
