// SPDX-License-Identifier: GPL-2.0

//! Heap-owned storage for the router's tables, outside the kernel.
//!
//! The tables ([`alloc_table`](super::alloc_table),
//! [`sa_table`](super::sa_table)) work on caller-provided slices so that the
//! kernel can allocate them its own way (`rust/router/tables.rs`). Unit
//! tests, the cost examples and the fuzz targets need the same storage on
//! the heap; this is the one place that builds it, with [`StoreView`], the
//! data path's view of it (`router_path::View`). It is not compiled into
//! the kernel modules.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};

use super::alloc_table::{
    AllocTable, BlockRef, HostSlot, Layout, Settings, Shared, SpiEntry, WriterState,
};
use super::direct::{self, Binding, Direct, Lladdr};
use super::out_sa::{OutSaBucket, OutSaLayout, OutSaSettings, OutSaShared};
use super::router_path::{HostCount, Traffic, View};
use super::sa_table::{BlacklistSlot, SaBucket, SaLayout, SaShared, SaState, SaTable, Seed};
use super::stat::{DataStat, DataStats};

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

/// Per-host counters of a [`StoreView`], in this order.
const SPOOFED: usize = 0;
const SA_DROPPED: usize = 1;
const IN_PACKETS: usize = 2;
const IN_BYTES: usize = 3;
const OUT_PACKETS: usize = 4;
const OUT_BYTES: usize = 5;

/// The data path's view of tables outside the kernel: what
/// `rust/router/datapath.rs` reads from its namespace, here in plain
/// fields, with the counters the decisions bump.
pub struct StoreView<'a> {
    /// The allocation table.
    pub alloc: Shared<'a>,
    /// The established-SA table, if any.
    pub sa: Option<SaShared<'a>>,
    /// The table of outbound SAs, if any.
    pub out_sa: Option<OutSaShared<'a>>,
    /// The clock of the outbound-SA table.
    pub now: u32,
    /// Revoked slots.
    pub revoked: Vec<u16>,
    /// Other local addresses of the router (its routing tables).
    pub local: Vec<Ipv4Addr>,
    /// The `unowned drop` setting.
    pub drop_unowned: bool,
    /// The `sa-policy permissive` setting.
    pub sa_permissive: bool,
    /// The data path counters.
    pub stats: DataStats,
    /// Per host slot: spoofed, SA drops, packets and bytes in, out.
    pub hosts: Vec<[AtomicU64; 6]>,
    /// Delivery methods (slots 1 to 256).
    pub direct: Box<Direct<257, { direct::INDEX }>>,
}

impl<'a> StoreView<'a> {
    /// A view of `alloc` with room for counters of `hosts` slots, no SA
    /// tables, the default settings and the clock at 1.
    pub fn new(alloc: Shared<'a>, hosts: usize) -> Self {
        Self {
            alloc,
            sa: None,
            out_sa: None,
            now: 1,
            revoked: Vec::new(),
            local: Vec::new(),
            drop_unowned: false,
            sa_permissive: false,
            stats: DataStats::new(),
            hosts: (0..=hosts).map(|_| Default::default()).collect(),
            direct: Box::new(Direct::new()),
        }
    }

    /// Counter `s`.
    pub fn stat(&self, s: DataStat) -> u64 {
        self.stats.get(s)
    }

    fn host(&self, slot: u16, i: usize) -> Option<&AtomicU64> {
        self.hosts.get(usize::from(slot))?.get(i)
    }

    fn add(&self, slot: u16, i: usize, n: u64) {
        if let Some(c) = self.host(slot, i) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn read(&self, slot: u16, i: usize) -> u64 {
        self.host(slot, i).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Host counter `c` of `slot`.
    pub fn host_count(&self, c: HostCount, slot: u16) -> u64 {
        self.read(
            slot,
            match c {
                HostCount::Spoofed => SPOOFED,
                HostCount::SaDropped => SA_DROPPED,
            },
        )
    }

    /// Packets and bytes of traffic `t` of `slot`.
    pub fn traffic(&self, t: Traffic, slot: u16) -> (u64, u64) {
        match t {
            Traffic::In => (self.read(slot, IN_PACKETS), self.read(slot, IN_BYTES)),
            Traffic::Out => (self.read(slot, OUT_PACKETS), self.read(slot, OUT_BYTES)),
        }
    }
}

impl View for StoreView<'_> {
    fn alloc(&self) -> Option<Shared<'_>> {
        Some(self.alloc)
    }

    fn sa(&self) -> Option<SaShared<'_>> {
        self.sa
    }

    fn out_sa(&self) -> Option<OutSaShared<'_>> {
        self.out_sa
    }

    fn now(&self) -> u32 {
        self.now
    }

    fn is_revoked(&self, slot: u16) -> bool {
        self.revoked.contains(&slot)
    }

    fn binding(&self, slot: u16) -> Binding {
        self.direct.get(slot)
    }

    fn bound_slot(&self, m: Lladdr) -> Option<u16> {
        self.direct.slot_of(m)
    }

    fn drop_unowned(&self) -> bool {
        self.drop_unowned
    }

    fn sa_permissive(&self) -> bool {
        self.sa_permissive
    }

    fn is_local(&self, addr: Ipv4Addr) -> bool {
        self.local.contains(&addr)
    }

    fn count(&self, s: DataStat) {
        self.stats.bump(s);
    }

    fn count_host(&self, c: HostCount, slot: u16) {
        let i = match c {
            HostCount::Spoofed => SPOOFED,
            HostCount::SaDropped => SA_DROPPED,
        };
        self.add(slot, i, 1);
    }

    fn count_traffic(&self, t: Traffic, slot: u16, len: usize) {
        let (p, b) = match t {
            Traffic::In => (IN_PACKETS, IN_BYTES),
            Traffic::Out => (OUT_PACKETS, OUT_BYTES),
        };
        self.add(slot, p, 1);
        self.add(slot, b, len as u64);
    }
}
