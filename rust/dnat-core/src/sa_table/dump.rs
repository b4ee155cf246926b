// SPDX-License-Identifier: GPL-2.0

//! What dumps see: the established SAs and the blacklist entries in
//! cursor order.

use core::net::Ipv4Addr;
use core::sync::atomic::Ordering;

use super::super::alloc_table::Slot;
use super::key::{is_live, slot_of, BlacklistSlot, SaBucket};
use super::{BlacklistEntry, SaCursor, SaEntry, SaTable, BLACKLIST_PER_HOST};

/// Iterator over established SAs in bucket order, with their cursors.
#[derive(Debug, Clone)]
pub struct SaEntries<'t> {
    buckets: &'t [SaBucket],
    pos: usize,
    end: usize,
}

impl SaEntries<'_> {
    /// Stops the scan before position `end` (a [`SaCursor::raw`] value), so
    /// that a caller holding a lock bounds the work done under it.
    pub fn until(mut self, end: u32) -> Self {
        self.end = self.end.min(end as usize);
        self
    }

    /// The position where the scan ends.
    pub fn end(&self) -> u32 {
        self.end as u32
    }
}

impl Iterator for SaEntries<'_> {
    type Item = (SaCursor, SaEntry);

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.end {
            let Some(b) = self.buckets.get(self.pos) else {
                break;
            };
            let pos = self.pos;
            self.pos += 1;
            let k = b.key.load(Ordering::Relaxed);
            if is_live(k) {
                let e = SaEntry {
                    addr: Ipv4Addr::from((k >> 32) as u32),
                    spi: k as u32,
                    slot: slot_of(b.val.load(Ordering::Relaxed)),
                };
                return Some((SaCursor(pos as u32), e));
            }
        }
        None
    }
}

/// Iterator over blacklist entries in slot order, with their cursors.
#[derive(Debug, Clone)]
pub struct BlacklistEntries<'t> {
    slots: &'t [BlacklistSlot],
    pos: usize,
    end: usize,
}

impl BlacklistEntries<'_> {
    /// Stops the scan before position `end` (a [`SaCursor::raw`] value), so
    /// that a caller holding a lock bounds the work done under it.
    pub fn until(mut self, end: u32) -> Self {
        self.end = self.end.min(end as usize);
        self
    }

    /// The position where the scan ends.
    pub fn end(&self) -> u32 {
        self.end as u32
    }
}

impl Iterator for BlacklistEntries<'_> {
    type Item = (SaCursor, BlacklistEntry);

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.end {
            let pos = self.pos;
            self.pos += 1;
            let (si, i) = (pos / BLACKLIST_PER_HOST, pos % BLACKLIST_PER_HOST);
            let Some(b) = self.slots.get(si) else {
                self.pos = self.end;
                return None;
            };
            let used = b.used.load(Ordering::Relaxed);
            if used >> i == 0 {
                // Nothing more in this slot.
                self.pos = (si + 1) * BLACKLIST_PER_HOST;
                continue;
            }
            if used & (1 << i) == 0 {
                continue;
            }
            let Some(e) = b.entries.get(i).map(|e| e.load(Ordering::Relaxed)) else {
                continue;
            };
            let (a, s) = ((e >> 32) as u32, e as u32);
            let entry = BlacklistEntry {
                slot: u16::try_from(si + 1).unwrap_or(0),
                addr: (a != 0).then(|| Ipv4Addr::from(a)),
                spi: (s != 0).then_some(s),
            };
            return Some((SaCursor(pos as u32), entry));
        }
        None
    }
}

impl SaTable<'_> {
    /// Established SAs from `cursor` on (bucket order), each with its
    /// cursor.
    pub fn entries_from(&self, cursor: SaCursor) -> SaEntries<'_> {
        SaEntries {
            buckets: self.shared.buckets,
            pos: cursor.0 as usize,
            end: self.shared.buckets.len(),
        }
    }

    /// Blacklist entries from `cursor` on (slot order), each with its
    /// cursor.
    pub fn blacklist_from(&self, cursor: SaCursor) -> BlacklistEntries<'_> {
        BlacklistEntries {
            slots: self.shared.blacklists,
            pos: cursor.0 as usize,
            end: self.shared.blacklists.len() * BLACKLIST_PER_HOST,
        }
    }

    /// The blacklist entries of the host in `slot`.
    pub fn host_blacklist(&self, slot: Slot) -> BlacklistEntries<'_> {
        let (pos, end) = match self.check_slot(slot) {
            Ok(si) => (si * BLACKLIST_PER_HOST, (si + 1) * BLACKLIST_PER_HOST),
            Err(_) => (0, 0),
        };
        BlacklistEntries {
            slots: self.shared.blacklists,
            pos,
            end,
        }
    }
}
