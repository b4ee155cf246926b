// SPDX-License-Identifier: GPL-2.0

//! The reader side: the packet path's lock-free checks of an ESP/AH
//! packet against the established SAs and the blacklists.

use core::net::Ipv4Addr;
use core::sync::atomic::Ordering;

use super::super::alloc_table::Slot;
use super::super::config::SPI_FIRST_ALLOCATABLE;
use super::key::{bl_matches, key_of, siphash, slot_index, slot_of, BlacklistSlot, SaBucket};
use super::{DropReason, SaError, SaLayout, Seed, Verdict, EMPTY, PROBE_LIMIT};

/// The reader-side tables: lock-free checks for the packet path. Cheap to
/// copy (two slices and the seed).
#[derive(Clone, Copy)]
pub struct SaShared<'a> {
    pub(super) buckets: &'a [SaBucket],
    pub(super) blacklists: &'a [BlacklistSlot],
    seed: Seed,
    pub(super) mask: usize,
}

impl core::fmt::Debug for SaShared<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaShared")
            .field("buckets", &self.buckets.len())
            .field("hosts", &self.blacklists.len())
            .finish_non_exhaustive()
    }
}

impl<'a> SaShared<'a> {
    /// Views caller-provided storage with the lengths of an [`SaLayout`]
    /// (the hosts are `blacklists.len()`), all of it created `Default`.
    /// `seed` must be the same for every view of this storage.
    pub fn new(
        buckets: &'a [SaBucket],
        blacklists: &'a [BlacklistSlot],
        seed: Seed,
    ) -> Result<Self, SaError> {
        let l = SaLayout {
            buckets: buckets.len(),
            hosts: blacklists.len(),
        };
        if !l.valid() {
            return Err(SaError::BadLayout);
        }
        Ok(Self {
            buckets,
            blacklists,
            seed,
            mask: buckets.len() - 1,
        })
    }

    /// The layout of the storage.
    pub fn layout(&self) -> SaLayout {
        SaLayout {
            buckets: self.buckets.len(),
            hosts: self.blacklists.len(),
        }
    }

    #[inline]
    pub(super) fn home(&self, k: u64) -> usize {
        siphash::<1, 3>(self.seed, k) as usize & self.mask
    }

    /// The verdict on an ESP/AH packet from `src` with `spi`, whose SPI the
    /// allocation table gives to `owner`. Lock-free: a hash, at most
    /// [`PROBE_LIMIT`] acquire loads, and the owner's blacklist.
    #[inline]
    pub fn check(&self, src: Ipv4Addr, spi: u32, owner: Slot) -> Verdict {
        if self.blacklisted(src, spi, owner) {
            return Verdict::Drop(DropReason::Blacklisted);
        }
        match self.lookup(src, spi) {
            Some(s) if s == owner => Verdict::Deliver,
            _ => Verdict::Drop(DropReason::NotValidated),
        }
    }

    /// The verdict on ESP in UDP (NAT traversal, RFC 3948) from `src` with
    /// `spi`, whose UDP destination port the allocation table gives to
    /// `port_owner` and whose SPI to `spi_owner`: the SPI must be the port
    /// owner's ([`DropReason::NotSpiOwner`] otherwise, whatever the
    /// policy), then the checks of [`SaShared::check`] apply, so that
    /// wrapping ESP in UDP gets past none of them.
    #[inline]
    pub fn check_in_udp(
        &self,
        src: Ipv4Addr,
        spi: u32,
        port_owner: Slot,
        spi_owner: Option<Slot>,
    ) -> Verdict {
        if spi_owner != Some(port_owner) {
            return Verdict::Drop(DropReason::NotSpiOwner);
        }
        self.check(src, spi, port_owner)
    }

    /// The slot `(src, spi)` is validated for.
    #[inline]
    pub fn lookup(&self, src: Ipv4Addr, spi: u32) -> Option<Slot> {
        if spi < SPI_FIRST_ALLOCATABLE {
            return None;
        }
        let k = key_of(src, spi);
        let mut i = self.home(k);
        for _ in 0..PROBE_LIMIT {
            let b = self.buckets.get(i)?;
            let found = b.key.load(Ordering::Acquire);
            if found == k {
                #[cfg(test)]
                super::tests::widen_race();
                let s = slot_of(b.val.load(Ordering::Relaxed));
                return (s != 0).then_some(s);
            }
            if found == EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
        None
    }

    /// Whether a blacklist entry of `owner` matches `(src, spi)`.
    #[inline]
    pub fn blacklisted(&self, src: Ipv4Addr, spi: u32, owner: Slot) -> bool {
        let Some(b) = slot_index(owner).and_then(|i| self.blacklists.get(i)) else {
            return false;
        };
        let mut used = b.used.load(Ordering::Acquire);
        let src = u32::from(src);
        while used != 0 {
            let i = used.trailing_zeros() as usize;
            used &= used - 1;
            if b.entries
                .get(i)
                .is_some_and(|e| bl_matches(e.load(Ordering::Relaxed), src, spi))
            {
                return true;
            }
        }
        false
    }
}
