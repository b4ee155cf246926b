// SPDX-License-Identifier: GPL-2.0

//! Heap-owned storage for the router's tables, outside the kernel.
//!
//! The tables ([`alloc_table`](super::alloc_table),
//! [`sa_table`](super::sa_table)) work on caller-provided slices so that the
//! kernel can allocate them its own way (`rust/router/tables.rs`). Unit
//! tests, the cost examples and the fuzz targets need the same storage on
//! the heap; this is the one place that builds it. It is not compiled into
//! the kernel modules.

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU16, AtomicU32};

use super::alloc_table::{
    AllocTable, BlockRef, HostSlot, Layout, Settings, Shared, SpiEntry, WriterState,
};
use super::out_sa::{OutSaBucket, OutSaLayout, OutSaSettings, OutSaShared};
use super::sa_table::{BlacklistSlot, SaBucket, SaLayout, SaShared, SaState, SaTable, Seed};

/// Storage of an allocation table for `hosts` slots, all zeroed, and its
/// writer state. Fields are public so that tests can hand [`Shared::new`]
/// slices of the wrong length.
#[derive(Debug)]
pub struct AllocStore {
    /// Port map.
    pub ports: Vec<AtomicU16>,
    /// Host addresses.
    pub addrs: Vec<AtomicU32>,
    /// Host index.
    pub host_index: Vec<AtomicU32>,
    /// Both SPI buffers.
    pub spi: Vec<SpiEntry>,
    /// Both SPI directories.
    pub spi_dir: Vec<AtomicU32>,
    /// SPI control word.
    pub ctl: AtomicU32,
    /// Host slots.
    pub hosts: Vec<HostSlot>,
    /// Sorted port block list.
    pub port_list: Vec<BlockRef>,
    /// Sorted SPI block list.
    pub spi_list: Vec<BlockRef>,
    /// Writer state.
    pub st: WriterState,
}

impl AllocStore {
    /// Empty storage for `hosts` slots with `settings`.
    pub fn new(hosts: usize, settings: Settings) -> Self {
        let l = Layout { hosts };
        Self {
            ports: (0..l.port_map_len()).map(|_| AtomicU16::new(0)).collect(),
            addrs: (0..l.host_addrs_len()).map(|_| AtomicU32::new(0)).collect(),
            host_index: (0..l.host_index_len()).map(|_| AtomicU32::new(0)).collect(),
            spi: (0..l.spi_index_len())
                .map(|_| SpiEntry::default())
                .collect(),
            spi_dir: (0..l.spi_dir_len()).map(|_| AtomicU32::new(0)).collect(),
            ctl: AtomicU32::new(0),
            hosts: vec![HostSlot::EMPTY; l.host_slots_len()],
            port_list: vec![BlockRef::default(); l.port_list_len()],
            spi_list: vec![BlockRef::default(); l.spi_list_len()],
            st: WriterState::new(settings),
        }
    }

    /// The packet path's view. `None` only if a test shortened a field.
    pub fn try_shared(&self) -> Option<Shared<'_>> {
        Shared::new(
            &self.ports,
            &self.addrs,
            &self.host_index,
            &self.spi,
            &self.spi_dir,
            &self.ctl,
        )
        .ok()
    }

    /// The packet path's view.
    ///
    /// # Panics
    ///
    /// If a field no longer has its [`Layout`] length.
    pub fn shared(&self) -> Shared<'_> {
        self.try_shared().expect("allocation table layout")
    }

    /// The writer's view.
    ///
    /// # Panics
    ///
    /// If a field no longer has its [`Layout`] length.
    pub fn table(&mut self) -> AllocTable<'_> {
        let sh = Shared::new(
            &self.ports,
            &self.addrs,
            &self.host_index,
            &self.spi,
            &self.spi_dir,
            &self.ctl,
        )
        .expect("allocation table layout");
        AllocTable::new(
            sh,
            &mut self.hosts,
            &mut self.port_list,
            &mut self.spi_list,
            &mut self.st,
        )
        .expect("allocation table layout")
    }
}

/// Storage of an established-SA table with its blacklists.
#[derive(Debug)]
pub struct SaStore {
    /// Buckets.
    pub buckets: Vec<SaBucket>,
    /// Blacklists, one per host slot.
    pub blacklists: Vec<BlacklistSlot>,
    /// SAs per host slot.
    pub counts: Vec<u16>,
    /// Writer state.
    pub st: SaState,
    /// Hash seed.
    pub seed: Seed,
}

impl SaStore {
    /// Empty storage with the lengths of `layout`.
    pub fn new(layout: SaLayout, seed: Seed) -> Self {
        Self {
            buckets: (0..layout.buckets_len())
                .map(|_| SaBucket::default())
                .collect(),
            blacklists: (0..layout.blacklists_len())
                .map(|_| BlacklistSlot::default())
                .collect(),
            counts: vec![0; layout.counts_len()],
            st: SaState::new(),
            seed,
        }
    }

    /// The packet path's view.
    ///
    /// # Panics
    ///
    /// If a field no longer has its [`SaLayout`] length.
    pub fn shared(&self) -> SaShared<'_> {
        SaShared::new(&self.buckets, &self.blacklists, self.seed).expect("SA table layout")
    }

    /// The writer's view.
    ///
    /// # Panics
    ///
    /// If a field no longer has its [`SaLayout`] length.
    pub fn table(&mut self) -> SaTable<'_> {
        let sh =
            SaShared::new(&self.buckets, &self.blacklists, self.seed).expect("SA table layout");
        SaTable::new(sh, &mut self.counts, &mut self.st).expect("SA table layout")
    }
}

/// Storage of a table of hosts' outbound SAs.
#[derive(Debug)]
pub struct OutSaStore {
    /// Buckets.
    pub buckets: Vec<OutSaBucket>,
    /// Entries per host slot.
    pub counts: Vec<AtomicU32>,
    /// Seed, timeout and per-host limit.
    pub settings: OutSaSettings,
}

impl OutSaStore {
    /// Empty storage with the lengths of `layout`.
    pub fn new(layout: OutSaLayout, settings: OutSaSettings) -> Self {
        Self {
            buckets: (0..layout.buckets_len())
                .map(|_| OutSaBucket::default())
                .collect(),
            counts: (0..layout.counts_len())
                .map(|_| AtomicU32::new(0))
                .collect(),
            settings,
        }
    }

    /// The table's view (the packet path's and the writer's).
    ///
    /// # Panics
    ///
    /// If a field no longer has its [`OutSaLayout`] length, or the
    /// settings are out of range.
    pub fn shared(&self) -> OutSaShared<'_> {
        OutSaShared::new(&self.buckets, &self.counts, self.settings).expect("outbound SA layout")
    }
}

/// Both tables, as the router keeps them.
#[derive(Debug)]
pub struct RouterStore {
    /// The allocation table.
    pub alloc: AllocStore,
    /// The established-SA table.
    pub sa: SaStore,
}

impl RouterStore {
    /// Both writer views, as the kernel builds them under its lock.
    pub fn both(&mut self) -> (AllocTable<'_>, SaTable<'_>) {
        (self.alloc.table(), self.sa.table())
    }
}
