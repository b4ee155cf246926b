// SPDX-License-Identifier: GPL-2.0

//! The reader side: the packet path's lock-free lookups of a port's, an
//! SPI's or an address's host slot, and the SPI directory they search.

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU16, AtomicU32, Ordering};

use super::{AllocError, Layout, Slot, HOST_COLLIDED, HOST_INDEX_LEN, MAX_HOSTS, PORT_SPACE};
use super::{SPI_BUF_SHIFT, SPI_DIR_HEAD, SPI_LEN_MASK};

/// One published SPI block (reader-side; fields private).
#[derive(Debug, Default)]
pub struct SpiEntry {
    pub(super) lowest: AtomicU32,
    pub(super) last: AtomicU32,
    pub(super) slot: AtomicU32,
}

/// The reader-side tables: lock-free lookups for the packet path. Cheap to
/// copy (a few references).
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    pub(super) ports: &'a [AtomicU16; PORT_SPACE],
    pub(super) hosts: &'a [AtomicU32],
    pub(super) host_index: &'a [AtomicU32],
    pub(super) spi: [&'a [SpiEntry]; 2],
    pub(super) spi_dir: [&'a [AtomicU32]; 2],
    pub(super) spi_ctl: &'a AtomicU32,
}

impl core::fmt::Debug for Shared<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("capacity", &self.capacity())
            .field("spi_ctl", &self.spi_ctl)
            .finish_non_exhaustive()
    }
}

impl<'a> Shared<'a> {
    /// Views caller-provided storage with the lengths of a [`Layout`]:
    /// `ports` [`PORT_SPACE`], `hosts` capacity + 1, `host_index`
    /// [`HOST_INDEX_LEN`], `spi_index` twice capacity *
    /// [`SPI_BLOCKS_PER_HOST`], `spi_dir` [`Layout::spi_dir_len`]. All of it
    /// starts zeroed (`Default`).
    ///
    /// [`SPI_BLOCKS_PER_HOST`]: super::SPI_BLOCKS_PER_HOST
    pub fn new(
        ports: &'a [AtomicU16],
        hosts: &'a [AtomicU32],
        host_index: &'a [AtomicU32],
        spi_index: &'a [SpiEntry],
        spi_dir: &'a [AtomicU32],
        spi_ctl: &'a AtomicU32,
    ) -> Result<Self, AllocError> {
        let ports =
            <&[AtomicU16; PORT_SPACE]>::try_from(ports).map_err(|_| AllocError::BadLayout)?;
        let cap = hosts.len().checked_sub(1).ok_or(AllocError::BadLayout)?;
        let l = Layout { hosts: cap };
        if cap == 0
            || cap > MAX_HOSTS
            || spi_index.len() != l.spi_index_len()
            || spi_dir.len() != l.spi_dir_len()
            || host_index.len() != l.host_index_len()
        {
            return Err(AllocError::BadLayout);
        }
        let (a, b) = spi_index
            .split_at_checked(l.spi_list_len())
            .ok_or(AllocError::BadLayout)?;
        let (da, db) = spi_dir
            .split_at_checked(l.spi_dir_len() / 2)
            .ok_or(AllocError::BadLayout)?;
        Ok(Self {
            ports,
            hosts,
            host_index,
            spi: [a, b],
            spi_dir: [da, db],
            spi_ctl,
        })
    }

    /// Host capacity.
    pub fn capacity(&self) -> usize {
        self.hosts.len().saturating_sub(1)
    }

    /// The slot owning `port`: one acquire load.
    #[inline]
    pub fn owner_of_port(&self, port: u16) -> Option<Slot> {
        let s = self.ports.get(usize::from(port))?.load(Ordering::Acquire);
        (s != 0).then_some(s)
    }

    /// The slot owning `spi`: one acquire load, the chunk of `spi` in the
    /// published directory, and a search of the blocks that start in that
    /// chunk (usually one or two; see Documentation/networking/dnat.rst,
    /// "The SPI directory").
    #[inline]
    pub fn owner_of_spi(&self, spi: u32) -> Option<Slot> {
        let w = self.spi_ctl.load(Ordering::Acquire);
        let (buf, dir) = if w >> SPI_BUF_SHIFT == 0 {
            (self.spi[0], self.spi_dir[0])
        } else {
            (self.spi[1], self.spi_dir[1])
        };
        let n = (w & SPI_LEN_MASK) as usize;
        let all = buf.get(..n)?;
        let (head, chunks) = dir.split_at_checked(SPI_DIR_HEAD)?;
        let base = head.first()?.load(Ordering::Relaxed);
        let shift = head.get(1)?.load(Ordering::Relaxed);
        let off = spi.checked_sub(base)?;
        let c = off.checked_shr(shift).unwrap_or(0) as usize;
        // Blocks `lo..hi` start inside chunk `c`; block `lo - 1` is the last
        // one starting at or below the chunk's first SPI (the directory
        // starts at the first block, so `lo >= 1`). Past the last chunk
        // only the last block can hold `spi`.
        let (lo, hi) = match chunks.get(c) {
            Some(d) => (
                d.load(Ordering::Relaxed) as usize,
                chunks
                    .get(c + 1)
                    .map_or(n, |e| e.load(Ordering::Relaxed) as usize),
            ),
            None => (n, n),
        };
        let mut s = all.get(lo.checked_sub(1)?..hi.min(n))?;
        // The last entry with `lowest <= spi` (the first one has): halve
        // the slice, keeping the upper half iff its first entry starts at
        // or below `spi`.
        while s.len() > 1 {
            let (lo, hi) = s.split_at_checked(s.len() / 2)?;
            let up = hi
                .first()
                .is_some_and(|e| e.lowest.load(Ordering::Relaxed) <= spi);
            s = if up { hi } else { lo };
        }
        let e = s.first()?;
        let (lo, hi) = (
            e.lowest.load(Ordering::Relaxed),
            e.last.load(Ordering::Relaxed),
        );
        if (lo..=hi).contains(&spi) {
            u16::try_from(e.slot.load(Ordering::Relaxed))
                .ok()
                .filter(|&s| s != 0)
        } else {
            None
        }
    }

    /// The address of the host in `slot`: one acquire load.
    #[inline]
    pub fn host_addr(&self, slot: Slot) -> Option<Ipv4Addr> {
        let a = self.hosts.get(usize::from(slot))?.load(Ordering::Acquire);
        (a != 0).then(|| Ipv4Addr::from(a))
    }

    /// Owner of `port` and its address (inbound delivery, outbound check).
    #[inline]
    pub fn port_owner(&self, port: u16) -> Option<(Slot, Ipv4Addr)> {
        let s = self.owner_of_port(port)?;
        Some((s, self.host_addr(s)?))
    }

    /// Owner of `spi` and its address.
    #[inline]
    pub fn spi_owner(&self, spi: u32) -> Option<(Slot, Ipv4Addr)> {
        let s = self.owner_of_spi(spi)?;
        Some((s, self.host_addr(s)?))
    }

    pub(super) fn set_port(&self, port: u32, slot: Slot) {
        if let Some(p) = usize::try_from(port).ok().and_then(|p| self.ports.get(p)) {
            p.store(slot, Ordering::Release);
        }
    }

    /// Gives `slot` the address `addr` (0: frees it) and keeps the host
    /// index right: the address first, then the index entry (admit); the
    /// entry recomputed from the remaining hosts (leave).
    pub(super) fn set_host(&self, slot: Slot, addr: u32) {
        let Some(h) = self.hosts.get(usize::from(slot)) else {
            return;
        };
        let old = h.load(Ordering::Relaxed);
        h.store(addr, Ordering::Release);
        if old != 0 {
            self.reindex(old);
        }
        if addr != 0 {
            if let Some(e) = self.host_index.get(host_bits(addr)) {
                let v = if e.load(Ordering::Relaxed) == 0 {
                    u32::from(slot)
                } else {
                    HOST_COLLIDED
                };
                e.store(v, Ordering::Release);
            }
        }
    }

    /// Recomputes the index entry of the low bits of `addr` from the host
    /// addresses: none, the one host with those bits, or collided.
    fn reindex(&self, addr: u32) {
        let bits = host_bits(addr);
        let Some(e) = self.host_index.get(bits) else {
            return;
        };
        let mut v = 0u32;
        for (i, h) in self.hosts.iter().enumerate().skip(1) {
            let a = h.load(Ordering::Relaxed);
            if a != 0 && host_bits(a) == bits {
                v = if v == 0 { i as u32 } else { HOST_COLLIDED };
            }
        }
        e.store(v, Ordering::Release);
    }

    /// The slot of the host with address `addr` (a `u32` in host order):
    /// its entry in the host index and a check of the slot's address, O(1),
    /// lock-free; a scan of the host addresses only when several hosts
    /// share the address's low bits.
    #[inline]
    pub fn find_host(&self, addr: u32) -> Option<Slot> {
        if addr == 0 {
            return None;
        }
        match self
            .host_index
            .get(host_bits(addr))?
            .load(Ordering::Acquire)
        {
            0 => None,
            HOST_COLLIDED => self.scan_host(addr),
            s => {
                let s = u16::try_from(s).ok()?;
                (self.host_addr(s) == Some(Ipv4Addr::from(addr))).then_some(s)
            }
        }
    }

    /// [`Shared::find_host`] by a scan of the host addresses, O(capacity).
    fn scan_host(&self, addr: u32) -> Option<Slot> {
        let i = self
            .hosts
            .iter()
            .skip(1)
            .position(|h| h.load(Ordering::Acquire) == addr)?;
        u16::try_from(i + 1).ok()
    }
}

/// The host index entry of address `addr`: its low 12 bits.
pub(super) fn host_bits(addr: u32) -> usize {
    (addr as usize) & (HOST_INDEX_LEN - 1)
}

/// Fills the directory `dir` (`base`, `shift`, chunk counts) of the sorted
/// SPI blocks `entries`: the smallest `shift` that puts the last block's
/// start in the last chunk, and per chunk the number of blocks starting at
/// or below its first SPI. `O(entries + chunks)`.
pub(super) fn index_spis(entries: &[SpiEntry], dir: &[AtomicU32]) {
    let Some((head, chunks)) = dir.split_at_checked(SPI_DIR_HEAD) else {
        return;
    };
    let start = |e: &SpiEntry| e.lowest.load(Ordering::Relaxed);
    let base = entries.first().map_or(0, start);
    let span = entries.last().map_or(0, |e| start(e).saturating_sub(base));
    let d = chunks.len().max(1) as u64;
    let mut shift = 0u32;
    while shift < 32 && u64::from(span) >> shift >= d {
        shift += 1;
    }
    let mut i = 0usize;
    for (c, slot) in chunks.iter().enumerate() {
        let first = u64::from(base) + ((c as u64) << shift);
        while entries.get(i).is_some_and(|e| u64::from(start(e)) <= first) {
            i += 1;
        }
        slot.store(i as u32, Ordering::Relaxed);
    }
    if let [b, s, ..] = head {
        b.store(base, Ordering::Relaxed);
        s.store(shift, Ordering::Relaxed);
    }
}
