// SPDX-License-Identifier: GPL-2.0

//! What dumps and counters see: totals, hosts, and every block in cursor
//! order.

use core::net::Ipv4Addr;

use super::state::{slot_index, Block, HostSlot, State};
use super::{AllocTable, BlockInfo, Cursor, HostInfo, Kind, Slot, Stats};
use super::{BLOCKS_PER_HOST, NO_EXPIRY, PORT_BLOCKS_PER_HOST};

/// Iterator over blocks in cursor order, yielding each block's cursor.
#[derive(Debug, Clone)]
pub struct Blocks<'t> {
    hosts: &'t [HostSlot],
    pos: u32,
    end: u32,
}

impl Blocks<'_> {
    /// Stops the scan before position `end` (a [`Cursor::raw`] value), so
    /// that a caller holding a lock bounds the work done under it.
    pub fn until(mut self, end: u32) -> Self {
        self.end = self.end.min(end);
        self
    }

    /// The position where the scan ends.
    pub fn end(&self) -> u32 {
        self.end
    }
}

impl Iterator for Blocks<'_> {
    type Item = (Cursor, BlockInfo);

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.end {
            let pos = self.pos;
            self.pos += 1;
            let hi = (pos as usize) / BLOCKS_PER_HOST;
            let bi = (pos as usize) % BLOCKS_PER_HOST;
            let Some(h) = self.hosts.get(hi) else {
                self.pos = self.end;
                return None;
            };
            if h.addr == 0 {
                // Skip the whole empty slot.
                self.pos = pos - bi as u32 + BLOCKS_PER_HOST as u32;
                continue;
            }
            let (kind, i) = if bi < PORT_BLOCKS_PER_HOST {
                (Kind::Port, bi)
            } else {
                (Kind::Spi, bi - PORT_BLOCKS_PER_HOST)
            };
            let Some(b) = h.blocks(kind).get(i) else {
                continue;
            };
            if b.state == State::Free {
                continue;
            }
            let slot = u16::try_from(hi + 1).unwrap_or(0);
            return Some((Cursor(pos), info(h, slot, kind, b)));
        }
        None
    }
}

pub(super) fn info(h: &HostSlot, slot: Slot, kind: Kind, b: &Block) -> BlockInfo {
    let active = b.state == State::Active;
    BlockInfo {
        slot,
        host: Ipv4Addr::from(h.addr),
        kind,
        lowest: b.lowest,
        count: b.count,
        expires: (active && b.when != NO_EXPIRY).then_some(b.when),
        retiring: !active,
        pinned: (active && b.pin != 0).then_some(b.pin),
    }
}

impl AllocTable<'_> {
    /// Totals.
    pub fn stats(&self) -> Stats {
        Stats {
            hosts: self.st.hosts_used,
            port_blocks: self.st.active.port,
            spi_blocks: self.st.active.spi,
            ports: self.st.held.port,
            spis: self.st.held.spi,
            retiring: self.st.retiring.port + self.st.retiring.spi,
            spi_publish_pending: self.st.spi_dirty,
        }
    }

    /// The slot of `addr`, if it has one.
    pub fn find_host(&self, addr: Ipv4Addr) -> Option<Slot> {
        self.shared.find_host(u32::from(addr))
    }

    /// The host in `addr`'s slot, as dumps show it.
    pub fn host(&self, addr: Ipv4Addr) -> Option<HostInfo> {
        let slot = self.find_host(addr)?;
        self.host_info(slot)
    }

    /// The host in `slot`.
    pub fn host_info(&self, slot: Slot) -> Option<HostInfo> {
        let h = self.hosts.get(slot_index(slot)?)?;
        if h.addr == 0 {
            return None;
        }
        let count = |k: Kind, s: State| h.blocks(k).iter().filter(|b| b.state == s).count() as u8;
        Some(HostInfo {
            slot,
            addr: Ipv4Addr::from(h.addr),
            revoked: h.revoked,
            quota: self.quota_of(h),
            custom_quota: h.custom_quota,
            ports: h.held(Kind::Port),
            spis: h.held(Kind::Spi),
            port_blocks: count(Kind::Port, State::Active),
            spi_blocks: count(Kind::Spi, State::Active),
            retiring: count(Kind::Port, State::Retiring) + count(Kind::Spi, State::Retiring),
        })
    }

    /// Hosts in slot order from `slot` on (for a multi-part host dump, resume
    /// from the slot of the first host that did not fit).
    pub fn hosts_from(&self, slot: Slot) -> impl Iterator<Item = HostInfo> + '_ {
        let start = usize::from(slot.max(1));
        (start..=self.hosts.len()).filter_map(move |s| self.host_info(u16::try_from(s).ok()?))
    }

    /// The number of host slots (slots count from 1 to this).
    pub fn host_slots(&self) -> u16 {
        u16::try_from(self.hosts.len()).unwrap_or(u16::MAX)
    }

    /// Every block of the host in `slot` (active and retiring).
    pub fn host_blocks(&self, slot: Slot) -> Blocks<'_> {
        let (pos, end) = match slot_index(slot) {
            Some(i) if i < self.hosts.len() => {
                let p = (i * BLOCKS_PER_HOST) as u32;
                (p, p + BLOCKS_PER_HOST as u32)
            }
            _ => (0, 0),
        };
        Blocks {
            hosts: self.hosts,
            pos,
            end,
        }
    }

    /// Every block of every host from `cursor` on, each with its cursor.
    pub fn blocks_from(&self, cursor: Cursor) -> Blocks<'_> {
        Blocks {
            hosts: self.hosts,
            pos: cursor.0,
            end: (self.hosts.len() * BLOCKS_PER_HOST) as u32,
        }
    }
}
