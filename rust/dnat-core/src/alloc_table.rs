// SPDX-License-Identifier: GPL-2.0

//! The router's allocation tables: which host owns which ports and SPIs.
//!
//! Hosts (IPv4 LAN addresses) live in slots `1..=capacity` (0 is "nobody"),
//! each with up to [`PORT_BLOCKS_PER_HOST`] port blocks and
//! [`SPI_BLOCKS_PER_HOST`] SPI blocks, a quota and a revoked flag. A block
//! has a lease expiry, in seconds on the caller's clock (this code never
//! reads a clock), and is active or *retiring*: unpublished, and not handed
//! to anybody else yet.
//!
//! - [`Shared`]: the packet path's lookups (port, SPI or host address to
//!   slot, slot to address); O(1), lock-free, used inside an RCU read-side
//!   critical section. Nothing on that path allocates, locks or writes.
//! - [`AllocTable`]: every change (grants, renewals, releases, revocation,
//!   pools, quotas, leases); a refusal is an [`AllocError`]. The caller
//!   serialises writers with one lock (it takes the writer storage by
//!   `&mut`).
//! - [`Layout`], [`table_bytes`], [`WriterState`]: the storage, which the
//!   caller allocates and which only this module changes.
//!
//! Rule: a port, SPI or host slot that stops being published is not handed
//! to anybody else before an RCU grace period has elapsed since; the caller
//! proves the grace period with [`AllocTable::start_grace`] and
//! [`AllocTable::finish_grace`].
//!
//! Layout, SPI directory, concurrency argument, allocation, costs, errors
//! and memory: Documentation/networking/dnat.rst, section "Allocation
//! tables" and its subsections.

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU16, AtomicU32, Ordering};

use super::config::{is_unicast, Range, SPI_FIRST_ALLOCATABLE};

/// Number of TCP/UDP port values (the length of the port map).
pub const PORT_SPACE: usize = 1 << 16;
/// Port blocks a host may hold at once.
pub const PORT_BLOCKS_PER_HOST: usize = 16;
/// SPI blocks a host may hold at once.
pub const SPI_BLOCKS_PER_HOST: usize = 16;
/// Most host slots a table may have (slots are `u16`, 0 is "none").
pub const MAX_HOSTS: usize = u16::MAX as usize;
/// Ports below this are "low" ports (PAP request code 0).
pub const LOW_PORT_LIMIT: u16 = 10_000;
/// `Block::when` of an active block without expiry.
const NO_EXPIRY: u64 = u64::MAX;
/// `Block::when` of a retiring SPI block not yet unpublished.
const PENDING: u64 = u64::MAX;
const BLOCKS_PER_HOST: usize = PORT_BLOCKS_PER_HOST + SPI_BLOCKS_PER_HOST;
const SPI_BUF_SHIFT: u32 = 31;
const SPI_LEN_MASK: u32 = (1 << SPI_BUF_SHIFT) - 1;
/// Words before the chunk counts in each half of the SPI directory: the
/// lowest published block start (`base`) and the chunk size's `shift`.
const SPI_DIR_HEAD: usize = 2;
/// Entries of the host index (the low 12 bits of an address).
pub const HOST_INDEX_LEN: usize = 1 << 12;
/// A host index entry for bits that several hosts share.
pub const HOST_COLLIDED: u32 = u32::MAX;

/// A host slot, `1..=capacity`; 0 never names a host.
pub type Slot = u16;

/// The two allocated resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TCP/UDP ports.
    Port,
    /// IPsec SPIs.
    Spi,
}

impl Kind {
    /// Both kinds, ports first.
    pub const ALL: [Kind; 2] = [Kind::Port, Kind::Spi];

    fn matches(self, scope: Option<Kind>) -> bool {
        scope.is_none_or(|k| k == self)
    }
}

/// Why an allocation-table operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// No pool configured for this resource.
    NotConfigured,
    /// The pool has no port on the requested side of 10000.
    PoolSideEmpty,
    /// A request for zero ports or SPIs.
    ZeroCount,
    /// No free value left in the pool (or its side).
    NoSpace,
    /// Nothing free now, but retiring blocks will be freed after the next
    /// grace period: retry then.
    ReclaimPending,
    /// The host already holds its quota.
    OverQuota,
    /// The host already holds the most blocks it may.
    TooManyBlocks,
    /// The block, port or SPI belongs to another host.
    NotOwner,
    /// No active block holds that port or SPI (or starts there).
    NotAllocated,
    /// The host has no slot.
    UnknownHost,
    /// Every host slot is taken.
    HostTableFull,
    /// The host was revoked; it gets nothing until readmitted.
    Revoked,
    /// The address cannot be a host (unspecified, broadcast, ...).
    BadHost,
    /// The block is pinned ([`AllocTable::pin`]): its host cannot give it
    /// back before the pin ends.
    Pinned,
    /// Storage slices of the wrong length.
    BadLayout,
}

impl AllocError {
    /// A positive errno for netlink replies.
    pub const fn errno(self) -> i32 {
        match self {
            Self::NotConfigured => 61,                               // ENODATA
            Self::ZeroCount | Self::BadHost | Self::BadLayout => 22, // EINVAL
            Self::PoolSideEmpty | Self::NoSpace | Self::TooManyBlocks | Self::HostTableFull => 28, // ENOSPC
            Self::ReclaimPending => 11,                  // EAGAIN
            Self::OverQuota => 122,                      // EDQUOT
            Self::NotOwner => 1,                         // EPERM
            Self::NotAllocated | Self::UnknownHost => 2, // ENOENT
            Self::Revoked => 13,                         // EACCES
            Self::Pinned => 16,                          // EBUSY
        }
    }
}

/// Most ports and SPIs a host may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// Ports.
    pub ports: u32,
    /// SPIs.
    pub spis: u32,
}

impl Quota {
    fn of(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Port => self.ports,
            Kind::Spi => self.spis,
        }
    }
}

/// Table-wide policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Quota of hosts without their own.
    pub default_quota: Quota,
    /// Lease (seconds) when a request asks for none; 0: no expiry.
    pub default_lease: u32,
    /// Longest lease (seconds) granted; 0: no limit.
    pub max_lease: u32,
}

impl Settings {
    /// 4096 ports and 1024 SPIs per host, one-hour leases, at most a day.
    pub const DEFAULT: Settings = Settings {
        default_quota: Quota {
            ports: 4096,
            spis: 1024,
        },
        default_lease: 3600,
        max_lease: 86400,
    };

    /// No quota to speak of (65,535 ports, every SPI) and leases that
    /// never end: for tests and benchmarks that fill the tables.
    pub const UNLIMITED: Settings = Settings {
        default_quota: Quota {
            ports: 65535,
            spis: u32::MAX,
        },
        default_lease: 0,
        max_lease: 0,
    };

    /// The lease granted for a requested one (0: the default). 0 in the
    /// result means no expiry, which happens only when neither a default
    /// nor a maximum is set.
    pub const fn lease_for(&self, requested: u32) -> u32 {
        let l = if requested == 0 {
            self.default_lease
        } else {
            requested
        };
        if self.max_lease != 0 && (l == 0 || l > self.max_lease) {
            self.max_lease
        } else {
            l
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Lengths of the storage slices for a table of `hosts` slots, and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Host capacity, `1..=MAX_HOSTS`.
    pub hosts: usize,
}

impl Layout {
    /// Port map length ([`PORT_SPACE`]).
    pub const fn port_map_len(&self) -> usize {
        PORT_SPACE
    }
    /// Host address array length (slot 0 is unused).
    pub const fn host_addrs_len(&self) -> usize {
        self.hosts + 1
    }
    /// SPI index length (both buffers).
    pub const fn spi_index_len(&self) -> usize {
        2 * self.spi_list_len()
    }
    /// SPI directory length (both buffers): per buffer, `base`, `shift` and
    /// one chunk count per possible SPI block.
    pub const fn spi_dir_len(&self) -> usize {
        2 * (SPI_DIR_HEAD + self.spi_list_len())
    }
    /// Host index length ([`HOST_INDEX_LEN`]).
    pub const fn host_index_len(&self) -> usize {
        HOST_INDEX_LEN
    }
    /// Host slot array length.
    pub const fn host_slots_len(&self) -> usize {
        self.hosts
    }
    /// Sorted port block list length.
    pub const fn port_list_len(&self) -> usize {
        self.hosts * PORT_BLOCKS_PER_HOST
    }
    /// Sorted SPI block list length.
    pub const fn spi_list_len(&self) -> usize {
        self.hosts * SPI_BLOCKS_PER_HOST
    }
    /// Bytes of everything (shared and writer-side).
    pub const fn bytes(&self) -> usize {
        table_bytes(self.hosts)
    }
}

/// Bytes used by a table of `hosts` slots: the reader-side arrays (port map,
/// host addresses and index, both SPI buffers and directories, control word) and the writer-side ones
/// (host slots, two sorted block lists, state).
pub const fn table_bytes(hosts: usize) -> usize {
    let l = Layout { hosts };
    l.port_map_len() * core::mem::size_of::<AtomicU16>()
        + (l.host_addrs_len() + l.host_index_len()) * core::mem::size_of::<AtomicU32>()
        + l.spi_index_len() * core::mem::size_of::<SpiEntry>()
        + (l.spi_dir_len() + 1) * core::mem::size_of::<AtomicU32>()
        + l.host_slots_len() * core::mem::size_of::<HostSlot>()
        + (l.port_list_len() + l.spi_list_len()) * core::mem::size_of::<BlockRef>()
        + core::mem::size_of::<WriterState>()
}

/// One published SPI block (reader-side; fields private).
#[derive(Debug, Default)]
pub struct SpiEntry {
    lowest: AtomicU32,
    last: AtomicU32,
    slot: AtomicU32,
}

/// The reader-side tables: lock-free lookups for the packet path. Cheap to
/// copy (a few references).
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    ports: &'a [AtomicU16; PORT_SPACE],
    hosts: &'a [AtomicU32],
    host_index: &'a [AtomicU32],
    spi: [&'a [SpiEntry]; 2],
    spi_dir: [&'a [AtomicU32]; 2],
    spi_ctl: &'a AtomicU32,
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

    fn set_port(&self, port: u32, slot: Slot) {
        if let Some(p) = usize::try_from(port).ok().and_then(|p| self.ports.get(p)) {
            p.store(slot, Ordering::Release);
        }
    }

    /// Gives `slot` the address `addr` (0: frees it) and keeps the host
    /// index right: the address first, then the index entry (admit); the
    /// entry recomputed from the remaining hosts (leave).
    fn set_host(&self, slot: Slot, addr: u32) {
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
fn host_bits(addr: u32) -> usize {
    (addr as usize) & (HOST_INDEX_LEN - 1)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Free,
    Active,
    Retiring,
}

/// A block in a host slot. `when`: expiry when active ([`NO_EXPIRY`]: none),
/// retirement stamp when retiring ([`PENDING`]: SPI not unpublished yet).
/// `pin`: end of a pin ([`AllocTable::pin`]), 0: none.
#[derive(Debug, Clone, Copy, Default)]
struct Block {
    lowest: u32,
    count: u32,
    when: u64,
    pin: u64,
    state: State,
}

impl Block {
    const FREE: Block = Block {
        lowest: 0,
        count: 0,
        when: 0,
        pin: 0,
        state: State::Free,
    };

    fn last(&self) -> u32 {
        self.lowest.saturating_add(self.count.saturating_sub(1))
    }
}

/// A host slot (writer-side; fields private). Storage starts as
/// [`HostSlot::EMPTY`].
#[derive(Debug, Clone, Copy)]
pub struct HostSlot {
    addr: u32,
    revoked: bool,
    custom_quota: bool,
    quota: Quota,
    held: [u32; 2],
    ports: [Block; PORT_BLOCKS_PER_HOST],
    spis: [Block; SPI_BLOCKS_PER_HOST],
}

impl HostSlot {
    /// An unused slot.
    pub const EMPTY: HostSlot = HostSlot {
        addr: 0,
        revoked: false,
        custom_quota: false,
        quota: Quota { ports: 0, spis: 0 },
        held: [0; 2],
        ports: [Block::FREE; PORT_BLOCKS_PER_HOST],
        spis: [Block::FREE; SPI_BLOCKS_PER_HOST],
    };

    fn blocks(&self, kind: Kind) -> &[Block] {
        match kind {
            Kind::Port => &self.ports,
            Kind::Spi => &self.spis,
        }
    }

    fn blocks_mut(&mut self, kind: Kind) -> &mut [Block] {
        match kind {
            Kind::Port => &mut self.ports,
            Kind::Spi => &mut self.spis,
        }
    }

    fn held_mut(&mut self, kind: Kind) -> &mut u32 {
        match kind {
            Kind::Port => &mut self.held[0],
            Kind::Spi => &mut self.held[1],
        }
    }

    fn held(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Port => self.held[0],
            Kind::Spi => self.held[1],
        }
    }

    fn idle(&self) -> bool {
        !self.revoked
            && !self.custom_quota
            && self
                .ports
                .iter()
                .chain(self.spis.iter())
                .all(|b| b.state == State::Free)
    }
}

impl Default for HostSlot {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// An entry of a sorted block list (writer-side; fields private).
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockRef {
    lowest: u32,
    last: u32,
    slot: Slot,
    index: u8,
}

/// "Every value in `base..next` is taken" (active or retiring).
#[derive(Debug, Clone, Copy, Default)]
struct Hint {
    base: u64,
    next: u64,
}

impl Hint {
    fn at(base: u64) -> Self {
        Self { base, next: base }
    }
    fn taken(&mut self, lo: u64, hi: u64) {
        if lo <= self.next && hi >= self.next {
            self.next = hi + 1;
        }
    }
    fn freed(&mut self, lo: u64, hi: u64) {
        if hi >= self.base && lo < self.next {
            self.next = lo.max(self.base);
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct PerKind<T> {
    port: T,
    spi: T,
}

impl<T> PerKind<T> {
    fn get(&self, kind: Kind) -> &T {
        match kind {
            Kind::Port => &self.port,
            Kind::Spi => &self.spi,
        }
    }
    fn get_mut(&mut self, kind: Kind) -> &mut T {
        match kind {
            Kind::Port => &mut self.port,
            Kind::Spi => &mut self.spi,
        }
    }
}

/// Writer-side state besides the slices (fields private).
#[derive(Debug, Clone)]
pub struct WriterState {
    settings: Settings,
    ports: Option<Range<u16>>,
    spis: Option<Range<u32>>,
    /// Stamp of retirements and flips made now; the next token.
    epoch: u64,
    /// Highest finished grace token.
    done: u64,
    /// Epoch of the last SPI buffer flip.
    flip: u64,
    spi_dirty: bool,
    len: PerKind<usize>,
    /// Ports: low side, high side. SPIs: one.
    port_hints: [Hint; 2],
    spi_hints: [Hint; 1],
    active: PerKind<u32>,
    retiring: PerKind<u32>,
    held: PerKind<u64>,
    hosts_used: u32,
}

impl WriterState {
    /// A fresh state, no pools configured.
    pub const fn new(settings: Settings) -> Self {
        Self {
            settings,
            ports: None,
            spis: None,
            epoch: 1,
            done: 0,
            flip: 0,
            spi_dirty: false,
            len: PerKind { port: 0, spi: 0 },
            port_hints: [Hint { base: 0, next: 0 }; 2],
            spi_hints: [Hint { base: 0, next: 0 }],
            active: PerKind { port: 0, spi: 0 },
            retiring: PerKind { port: 0, spi: 0 },
            held: PerKind { port: 0, spi: 0 },
            hosts_used: 0,
        }
    }

    fn hints_mut(&mut self, kind: Kind) -> &mut [Hint] {
        match kind {
            Kind::Port => &mut self.port_hints,
            Kind::Spi => &mut self.spi_hints,
        }
    }

    fn hints(&self, kind: Kind) -> &[Hint] {
        match kind {
            Kind::Port => &self.port_hints,
            Kind::Spi => &self.spi_hints,
        }
    }

    fn reset_hints(&mut self) {
        let (lo, hi) = port_bounds(self.ports);
        self.port_hints = [Hint::at(lo), Hint::at(hi)];
        self.spi_hints = [Hint::at(spi_window(self.spis).map_or(0, |w| w.0))];
    }
}

impl Default for WriterState {
    fn default() -> Self {
        Self::new(Settings::DEFAULT)
    }
}

/// Proof-of-grace token: see [`AllocTable::start_grace`] and
/// Documentation/networking/dnat.rst, "Why the readers need no lock".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct GraceToken(u64);

impl GraceToken {
    /// The raw value (to carry it through a callback).
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// From [`GraceToken::raw`].
    pub const fn from_raw(v: u64) -> Self {
        Self(v)
    }
}

/// A granted block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The host's slot.
    pub slot: Slot,
    /// First port or SPI.
    pub lowest: u32,
    /// How many (at most what was asked).
    pub count: u32,
    /// Granted lease in seconds, 0: no expiry.
    pub lease: u32,
    /// Expiry on the caller's clock, `None`: never.
    pub expires: Option<u64>,
}

/// A block as seen by dumps and callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// The host's slot.
    pub slot: Slot,
    /// The host's address.
    pub host: Ipv4Addr,
    /// Ports or SPIs.
    pub kind: Kind,
    /// First value.
    pub lowest: u32,
    /// Number of values.
    pub count: u32,
    /// Expiry of an active block, `None`: never or retiring.
    pub expires: Option<u64>,
    /// Unpublished, waiting for a grace period before reuse.
    pub retiring: bool,
    /// End of the block's pin, `None`: not pinned.
    pub pinned: Option<u64>,
}

impl BlockInfo {
    /// Last value (inclusive).
    pub fn last(&self) -> u32 {
        self.lowest.saturating_add(self.count.saturating_sub(1))
    }
}

/// A host as seen by dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostInfo {
    /// Slot.
    pub slot: Slot,
    /// Address.
    pub addr: Ipv4Addr,
    /// Revoked: gets nothing until readmitted.
    pub revoked: bool,
    /// Effective quota.
    pub quota: Quota,
    /// The quota is the host's own, not the default.
    pub custom_quota: bool,
    /// Ports held in active blocks.
    pub ports: u32,
    /// SPIs held in active blocks.
    pub spis: u32,
    /// Active port blocks.
    pub port_blocks: u8,
    /// Active SPI blocks.
    pub spi_blocks: u8,
    /// Retiring blocks.
    pub retiring: u8,
}

/// Totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Host slots in use.
    pub hosts: u32,
    /// Active port blocks.
    pub port_blocks: u32,
    /// Active SPI blocks.
    pub spi_blocks: u32,
    /// Ports in active blocks.
    pub ports: u64,
    /// SPIs in active blocks.
    pub spis: u64,
    /// Retiring blocks.
    pub retiring: u32,
    /// SPI changes wait for the next grace period to be published.
    pub spi_publish_pending: bool,
}

/// Position in a dump of every host's blocks: resume a multi-part dump
/// from the cursor of the first block that did not fit. Positions are
/// `(slot - 1) * 32 + index` (ports 0..16, SPIs 16..32); a table changed
/// between parts may make a dump skip or repeat blocks, as netlink dumps do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor(u32);

impl Cursor {
    /// The beginning.
    pub const START: Cursor = Cursor(0);
    /// The raw value (for `netlink_callback::args`).
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// From [`Cursor::raw`].
    pub const fn from_raw(v: u32) -> Self {
        Self(v)
    }
}

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

fn info(h: &HostSlot, slot: Slot, kind: Kind, b: &Block) -> BlockInfo {
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

fn slot_index(slot: Slot) -> Option<usize> {
    usize::from(slot).checked_sub(1)
}

/// `(low side start, high side start)` of the port pool, for the hints.
fn port_bounds(pool: Option<Range<u16>>) -> (u64, u64) {
    match pool {
        None => (0, 0),
        Some(p) => {
            let lo = u64::from(p.min.max(1));
            (lo, lo.max(u64::from(LOW_PORT_LIMIT)))
        }
    }
}

fn port_window(pool: Option<Range<u16>>, below: bool) -> Result<(u64, u64), AllocError> {
    let p = pool.ok_or(AllocError::NotConfigured)?;
    let (lo, hi) = (u64::from(p.min.max(1)), u64::from(p.max));
    let limit = u64::from(LOW_PORT_LIMIT);
    let (lo, hi) = if below {
        (lo, hi.min(limit - 1))
    } else {
        (lo.max(limit), hi)
    };
    if lo > hi {
        return Err(AllocError::PoolSideEmpty);
    }
    Ok((lo, hi))
}

fn spi_window(pool: Option<Range<u32>>) -> Option<(u64, u64)> {
    let p = pool?;
    let lo = u64::from(p.min.max(SPI_FIRST_ALLOCATABLE));
    let hi = u64::from(p.max);
    (lo <= hi).then_some((lo, hi))
}

/// The writer's view of the tables: every change goes through here, under
/// the caller's lock.
#[derive(Debug)]
pub struct AllocTable<'a> {
    shared: Shared<'a>,
    hosts: &'a mut [HostSlot],
    port_list: &'a mut [BlockRef],
    spi_list: &'a mut [BlockRef],
    st: &'a mut WriterState,
}

impl<'a> AllocTable<'a> {
    /// Views the writer-side storage (`hosts` capacity, each list capacity *
    /// 16 long) together with the reader-side one. Cheap: checks lengths
    /// only; build it anew under the lock for every operation.
    pub fn new(
        shared: Shared<'a>,
        hosts: &'a mut [HostSlot],
        port_list: &'a mut [BlockRef],
        spi_list: &'a mut [BlockRef],
        st: &'a mut WriterState,
    ) -> Result<Self, AllocError> {
        let l = Layout {
            hosts: shared.capacity(),
        };
        if hosts.len() != l.host_slots_len()
            || port_list.len() != l.port_list_len()
            || spi_list.len() != l.spi_list_len()
        {
            return Err(AllocError::BadLayout);
        }
        Ok(Self {
            shared,
            hosts,
            port_list,
            spi_list,
            st,
        })
    }

    /// The reader-side view.
    pub fn shared(&self) -> Shared<'a> {
        self.shared
    }

    /// Current settings.
    pub fn settings(&self) -> Settings {
        self.st.settings
    }

    /// Changes the settings; quotas and leases already granted stay.
    pub fn set_settings(&mut self, s: Settings) {
        self.st.settings = s;
    }

    /// The configured pools.
    pub fn pools(&self) -> (Option<Range<u16>>, Option<Range<u32>>) {
        (self.st.ports, self.st.spis)
    }

    /// Sets the pools; retires every active block not wholly inside its new
    /// pool (calling `on_retire` for each) and returns how many.
    pub fn set_pools(
        &mut self,
        ports: Option<Range<u16>>,
        spis: Option<Range<u32>>,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> usize {
        self.st.ports = ports;
        self.st.spis = spis;
        self.st.reset_hints();
        let pw = ports.map(|p| (u32::from(p.min.max(1)), u32::from(p.max)));
        let sw = spi_window(spis).map(|(lo, hi)| (lo as u32, hi as u32));
        let mut n = 0;
        for kind in Kind::ALL {
            let w = match kind {
                Kind::Port => pw,
                Kind::Spi => sw,
            };
            n += self.retire_where(
                kind,
                |_, b| w.is_none_or(|(lo, hi)| b.lowest < lo || b.last() > hi),
                &mut on_retire,
            );
        }
        self.try_publish();
        n
    }

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

    fn quota_of(&self, h: &HostSlot) -> Quota {
        if h.custom_quota {
            h.quota
        } else {
            self.st.settings.default_quota
        }
    }

    /// The slot of `addr`, given one if it has none.
    pub fn admit(&mut self, addr: Ipv4Addr) -> Result<Slot, AllocError> {
        if !is_unicast(addr) {
            return Err(AllocError::BadHost);
        }
        let a = u32::from(addr);
        if let Some(s) = self.shared.find_host(a) {
            return Ok(s);
        }
        if self.st.hosts_used as usize >= self.hosts.len() {
            return Err(AllocError::HostTableFull);
        }
        let i = self
            .hosts
            .iter()
            .position(|h| h.addr == 0)
            .ok_or(AllocError::HostTableFull)?;
        let slot = u16::try_from(i + 1).map_err(|_| AllocError::HostTableFull)?;
        let h = self.hosts.get_mut(i).ok_or(AllocError::HostTableFull)?;
        *h = HostSlot {
            addr: a,
            ..HostSlot::EMPTY
        };
        self.shared.set_host(slot, a);
        self.st.hosts_used += 1;
        Ok(slot)
    }

    /// Frees `slot` if it holds nothing and carries no policy (revocation,
    /// own quota). Safe without a grace period: its last block was freed
    /// only after one.
    fn release_if_idle(&mut self, slot: Slot) {
        release_if_idle(self.hosts, &self.shared, self.st, slot);
    }

    /// Sets (`Some`) or clears (`None`: back to the default) `addr`'s own
    /// quota. Lowering a quota below what the host holds takes nothing
    /// back; its next requests fail until it is under the quota.
    pub fn set_quota(&mut self, addr: Ipv4Addr, quota: Option<Quota>) -> Result<(), AllocError> {
        match quota {
            Some(q) => {
                let slot = self.admit(addr)?;
                if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
                    h.quota = q;
                    h.custom_quota = true;
                }
            }
            None => {
                let Some(slot) = self.find_host(addr) else {
                    return Ok(());
                };
                if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
                    h.custom_quota = false;
                    h.quota = Quota::default();
                }
                self.release_if_idle(slot);
            }
        }
        Ok(())
    }

    /// Grants `addr` up to `count` ports from the pool's side below 10000
    /// (`below_10000`, PAP code 0) or from 10000 up (code 1). `lease`:
    /// requested seconds, 0 for the default; `now`: the caller's clock.
    pub fn request_ports(
        &mut self,
        addr: Ipv4Addr,
        count: u32,
        below_10000: bool,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        if count == 0 {
            return Err(AllocError::ZeroCount);
        }
        let w = port_window(self.st.ports, below_10000)?;
        self.request(addr, Kind::Port, w, count, lease, now)
    }

    /// Grants `addr` up to `count` SPIs from the SPI pool.
    pub fn request_spis(
        &mut self,
        addr: Ipv4Addr,
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        if count == 0 {
            return Err(AllocError::ZeroCount);
        }
        let w = spi_window(self.st.spis).ok_or(AllocError::NotConfigured)?;
        self.request(addr, Kind::Spi, w, count, lease, now)
    }

    fn request(
        &mut self,
        addr: Ipv4Addr,
        kind: Kind,
        window: (u64, u64),
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let existing = self.find_host(addr);
        let slot = match existing {
            Some(s) => s,
            None => self.admit(addr)?,
        };
        let r = self.grant(slot, kind, window, count, lease, now);
        if r.is_err() && existing.is_none() {
            self.release_if_idle(slot);
        }
        self.try_publish();
        r
    }

    fn grant(
        &mut self,
        slot: Slot,
        kind: Kind,
        window: (u64, u64),
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let hi = slot_index(slot).ok_or(AllocError::UnknownHost)?;
        let h = self.hosts.get(hi).ok_or(AllocError::UnknownHost)?;
        if h.revoked {
            return Err(AllocError::Revoked);
        }
        let remaining = self.quota_of(h).of(kind).saturating_sub(h.held(kind));
        if remaining == 0 {
            return Err(AllocError::OverQuota);
        }
        let want = u64::from(count.min(remaining));
        let Some(index) = h.blocks(kind).iter().position(|b| b.state == State::Free) else {
            return Err(
                if h.blocks(kind).iter().any(|b| b.state == State::Retiring) {
                    AllocError::ReclaimPending
                } else {
                    AllocError::TooManyBlocks
                },
            );
        };
        let (found, first_free) = self.search(kind, window, want);
        for hint in self.st.hints_mut(kind) {
            if hint.base == window.0 {
                hint.next = hint.next.max(first_free);
            }
        }
        let Some((lo, n)) = found else {
            return Err(if self.retiring_in(kind, window) {
                AllocError::ReclaimPending
            } else {
                AllocError::NoSpace
            });
        };
        let (Ok(lowest), Ok(count), Ok(index)) =
            (u32::try_from(lo), u32::try_from(n), u8::try_from(index))
        else {
            return Err(AllocError::NoSpace);
        };
        let last = lowest.saturating_add(count.saturating_sub(1));
        self.insert(
            kind,
            BlockRef {
                lowest,
                last,
                slot,
                index,
            },
        )?;
        let lease = self.st.settings.lease_for(lease);
        let expires = expiry(lease, now);
        let h = self.hosts.get_mut(hi).ok_or(AllocError::UnknownHost)?;
        if let Some(b) = h.blocks_mut(kind).get_mut(usize::from(index)) {
            *b = Block {
                lowest,
                count,
                when: expires,
                pin: 0,
                state: State::Active,
            };
        }
        *h.held_mut(kind) += count;
        *self.st.active.get_mut(kind) += 1;
        *self.st.held.get_mut(kind) += u64::from(count);
        for hint in self.st.hints_mut(kind) {
            hint.taken(u64::from(lowest), u64::from(last));
        }
        match kind {
            Kind::Port => {
                for p in lowest..=last {
                    self.shared.set_port(p, slot);
                }
            }
            Kind::Spi => self.st.spi_dirty = true,
        }
        Ok(Grant {
            slot,
            lowest,
            count,
            lease,
            expires: (expires != NO_EXPIRY).then_some(expires),
        })
    }

    fn list(&self, kind: Kind) -> &[BlockRef] {
        let l = match kind {
            Kind::Port => &*self.port_list,
            Kind::Spi => &*self.spi_list,
        };
        l.get(..*self.st.len.get(kind)).unwrap_or(&[])
    }

    /// First fit of `want` values in `lo..=hi`, else the largest free run;
    /// and the first free value at or above the start of the search (all
    /// of `lo..first_free` is taken).
    fn search(&self, kind: Kind, (lo, hi): (u64, u64), want: u64) -> (Option<(u64, u64)>, u64) {
        let list = self.list(kind);
        let mut cur = lo;
        for h in self.st.hints(kind) {
            if h.base <= lo {
                cur = cur.max(h.next);
            }
        }
        let start = list.partition_point(|e| u64::from(e.last) < cur);
        let mut best = (0u64, 0u64);
        let mut first_free = None;
        let mut consider = |at: u64, len: u64, best: &mut (u64, u64)| {
            if first_free.is_none() {
                first_free = Some(at);
            }
            if len > best.1 {
                *best = (at, len);
            }
            len >= want
        };
        for e in list.get(start..).unwrap_or(&[]) {
            if cur > hi {
                break;
            }
            let (elo, ehi) = (u64::from(e.lowest), u64::from(e.last));
            if elo > hi {
                break;
            }
            if elo > cur && consider(cur, elo - cur, &mut best) {
                return (Some((cur, want)), first_free.unwrap_or(cur));
            }
            cur = cur.max(ehi + 1);
        }
        if cur <= hi && consider(cur, hi - cur + 1, &mut best) {
            return (Some((cur, want)), first_free.unwrap_or(cur));
        }
        let ff = first_free.unwrap_or(hi + 1);
        ((best.1 > 0).then_some(best), ff)
    }

    /// Whether a retiring block of `kind` lies in `lo..=hi`.
    fn retiring_in(&self, kind: Kind, (lo, hi): (u64, u64)) -> bool {
        if *self.st.retiring.get(kind) == 0 {
            return false;
        }
        let list = self.list(kind);
        let start = list.partition_point(|e| u64::from(e.last) < lo);
        list.get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|e| u64::from(e.lowest) <= hi)
            .any(|e| {
                slot_index(e.slot)
                    .and_then(|i| self.hosts.get(i))
                    .and_then(|h| h.blocks(kind).get(usize::from(e.index)))
                    .is_some_and(|b| b.state == State::Retiring)
            })
    }

    fn insert(&mut self, kind: Kind, r: BlockRef) -> Result<(), AllocError> {
        let len = *self.st.len.get(kind);
        let list = match kind {
            Kind::Port => &mut *self.port_list,
            Kind::Spi => &mut *self.spi_list,
        };
        if len >= list.len() {
            return Err(AllocError::NoSpace);
        }
        let pos = list
            .get(..len)
            .map_or(len, |l| l.partition_point(|e| e.lowest < r.lowest));
        list.copy_within(pos..len, pos + 1);
        if let Some(e) = list.get_mut(pos) {
            *e = r;
        }
        *self.st.len.get_mut(kind) = len + 1;
        Ok(())
    }

    /// Retires the active block `index` of `slot`: unpublishes it now (ports)
    /// or at the next publication (SPIs).
    fn retire(&mut self, slot: Slot, kind: Kind, index: usize) -> Option<BlockInfo> {
        let h = self.hosts.get_mut(slot_index(slot)?)?;
        let b = h.blocks_mut(kind).get_mut(index)?;
        if b.state != State::Active {
            return None;
        }
        b.state = State::Retiring;
        b.when = match kind {
            Kind::Port => self.st.epoch,
            Kind::Spi => PENDING,
        };
        let b = *b;
        let held = h.held_mut(kind);
        *held = held.saturating_sub(b.count);
        let i = info(h, slot, kind, &b);
        let a = self.st.active.get_mut(kind);
        *a = a.saturating_sub(1);
        let held = self.st.held.get_mut(kind);
        *held = held.saturating_sub(u64::from(b.count));
        *self.st.retiring.get_mut(kind) += 1;
        match kind {
            Kind::Port => {
                for p in b.lowest..=b.last() {
                    self.shared.set_port(p, 0);
                }
            }
            Kind::Spi => self.st.spi_dirty = true,
        }
        Some(BlockInfo {
            expires: None,
            retiring: true,
            ..i
        })
    }

    /// Retires every active block of `kind` for which `pred(host, block)`.
    fn retire_where(
        &mut self,
        kind: Kind,
        mut pred: impl FnMut(&HostSlot, &BlockInfo) -> bool,
        on_retire: &mut impl FnMut(&BlockInfo),
    ) -> usize {
        let mut n = 0;
        for hi in 0..self.hosts.len() {
            let Some(h) = self.hosts.get(hi) else { break };
            if h.addr == 0 || h.blocks(kind).iter().all(|b| b.state != State::Active) {
                continue;
            }
            let slot = u16::try_from(hi + 1).unwrap_or(0);
            for bi in 0..h.blocks(kind).len() {
                let Some(h) = self.hosts.get(hi) else { break };
                let hit = h
                    .blocks(kind)
                    .get(bi)
                    .is_some_and(|b| b.state == State::Active && pred(h, &info(h, slot, kind, b)));
                if hit {
                    if let Some(i) = self.retire(slot, kind, bi) {
                        on_retire(&i);
                        n += 1;
                    }
                }
            }
        }
        n
    }

    /// The active block of `kind` holding `value`: (slot, index).
    fn locate(&self, kind: Kind, value: u32) -> Option<(Slot, usize)> {
        let list = self.list(kind);
        let i = list.partition_point(|e| e.last < value);
        let e = list.get(i)?;
        if e.lowest > value {
            return None;
        }
        let b = self
            .hosts
            .get(slot_index(e.slot)?)?
            .blocks(kind)
            .get(usize::from(e.index))?;
        (b.state == State::Active).then_some((e.slot, usize::from(e.index)))
    }

    fn check_owner(&self, slot: Slot, by: Option<Ipv4Addr>) -> Result<(), AllocError> {
        match by {
            Some(a) if self.shared.find_host(u32::from(a)) != Some(slot) => {
                Err(AllocError::NotOwner)
            }
            _ => Ok(()),
        }
    }

    fn invalidate_value(
        &mut self,
        by: Option<Ipv4Addr>,
        kind: Kind,
        value: u32,
        exact: Option<Option<u32>>,
    ) -> Result<BlockInfo, AllocError> {
        let (slot, index) = self.locate(kind, value).ok_or(AllocError::NotAllocated)?;
        if let Some(count) = exact {
            let b = slot_index(slot)
                .and_then(|i| self.hosts.get(i))
                .and_then(|h| h.blocks(kind).get(index))
                .ok_or(AllocError::NotAllocated)?;
            if b.lowest != value || count.is_some_and(|c| c != b.count) {
                return Err(AllocError::NotAllocated);
            }
        }
        self.check_owner(slot, by)?;
        let pinned = slot_index(slot)
            .and_then(|i| self.hosts.get(i))
            .and_then(|h| h.blocks(kind).get(index))
            .is_some_and(|b| b.pin != 0);
        if pinned && by.is_some() {
            return Err(AllocError::Pinned);
        }
        let i = self
            .retire(slot, kind, index)
            .ok_or(AllocError::NotAllocated)?;
        self.try_publish();
        Ok(i)
    }

    /// Pins the block of `kind` that `host` holds and that contains
    /// `lowest..lowest + count` for `secs` seconds from `now` (0: unpins;
    /// the lease stays as the pin made it): until then the host cannot give
    /// it back ([`AllocError::Pinned`]) and its lease does not end before
    /// the pin. The host's own invalidate-all (it gives up everything), the
    /// administrator's invalidations, revocation and resets still retire
    /// it (the CA then revokes the certificate). Used for blocks named in a
    /// certificate.
    pub fn pin(
        &mut self,
        host: Ipv4Addr,
        kind: Kind,
        lowest: u32,
        count: u32,
        secs: u32,
        now: u64,
    ) -> Result<BlockInfo, AllocError> {
        let (slot, index) = self.locate(kind, lowest).ok_or(AllocError::NotAllocated)?;
        self.check_owner(slot, Some(host))?;
        let h = slot_index(slot)
            .and_then(|i| self.hosts.get_mut(i))
            .ok_or(AllocError::NotAllocated)?;
        let b = h
            .blocks_mut(kind)
            .get_mut(index)
            .ok_or(AllocError::NotAllocated)?;
        let end = u64::from(lowest) + u64::from(count);
        if count == 0 || end > u64::from(b.last()) + 1 {
            return Err(AllocError::NotAllocated);
        }
        b.pin = if secs == 0 {
            0
        } else {
            now.saturating_add(u64::from(secs)).min(NO_EXPIRY - 1)
        };
        if b.when != NO_EXPIRY && b.pin > b.when {
            b.when = b.pin;
        }
        let b = *b;
        Ok(info(h, slot, kind, &b))
    }

    /// Retires the block holding `port`. `by`: the host asking (must own
    /// it), `None` for the administrator.
    pub fn invalidate_port(
        &mut self,
        by: Option<Ipv4Addr>,
        port: u16,
    ) -> Result<BlockInfo, AllocError> {
        self.invalidate_value(by, Kind::Port, u32::from(port), None)
    }

    /// Retires the block holding `spi`.
    pub fn invalidate_spi(
        &mut self,
        by: Option<Ipv4Addr>,
        spi: u32,
    ) -> Result<BlockInfo, AllocError> {
        self.invalidate_value(by, Kind::Spi, spi, None)
    }

    /// Retires the block starting at `lowest` (and of `count` values, if
    /// given).
    pub fn invalidate_block(
        &mut self,
        by: Option<Ipv4Addr>,
        kind: Kind,
        lowest: u32,
        count: Option<u32>,
    ) -> Result<BlockInfo, AllocError> {
        self.invalidate_value(by, kind, lowest, Some(count))
    }

    /// Retires every block of `addr` of `scope` (`None`: ports and SPIs);
    /// the host keeps its slot policy (quota, revocation).
    pub fn invalidate_host(
        &mut self,
        addr: Ipv4Addr,
        scope: Option<Kind>,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> Result<usize, AllocError> {
        let slot = self.find_host(addr).ok_or(AllocError::UnknownHost)?;
        let n = self.retire_host(slot, scope, &mut on_retire);
        self.try_publish();
        Ok(n)
    }

    /// Retires `slot`'s blocks of `scope`, pinned ones too.
    fn retire_host(
        &mut self,
        slot: Slot,
        scope: Option<Kind>,
        on_retire: &mut impl FnMut(&BlockInfo),
    ) -> usize {
        let mut n = 0;
        for kind in Kind::ALL {
            if !kind.matches(scope) {
                continue;
            }
            for bi in 0..PORT_BLOCKS_PER_HOST.max(SPI_BLOCKS_PER_HOST) {
                if let Some(i) = self.retire(slot, kind, bi) {
                    on_retire(&i);
                    n += 1;
                }
            }
        }
        n
    }

    /// Revokes `addr`: retires all its blocks and refuses it everything
    /// until [`AllocTable::readmit_host`]. An unknown host gets a slot so
    /// that the refusal sticks.
    pub fn revoke_host(
        &mut self,
        addr: Ipv4Addr,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> Result<usize, AllocError> {
        let slot = self.admit(addr)?;
        if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
            h.revoked = true;
        }
        let n = self.retire_host(slot, None, &mut on_retire);
        self.try_publish();
        Ok(n)
    }

    /// Lifts a revocation.
    pub fn readmit_host(&mut self, addr: Ipv4Addr) -> Result<(), AllocError> {
        let slot = self.find_host(addr).ok_or(AllocError::UnknownHost)?;
        if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
            h.revoked = false;
        }
        self.release_if_idle(slot);
        Ok(())
    }

    /// Retires every block of `scope` (`None`: everything) of every host,
    /// as on a router reset. Revocations and quotas stay.
    pub fn invalidate_all(
        &mut self,
        scope: Option<Kind>,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> usize {
        let mut n = 0;
        for kind in Kind::ALL {
            if kind.matches(scope) {
                n += self.retire_where(kind, |_, _| true, &mut on_retire);
            }
        }
        self.try_publish();
        n
    }

    /// Renews the lease of `by`'s block of `kind` starting at `lowest` (and
    /// of `count` values, if given): expiry becomes `now + lease_for(lease)`.
    pub fn renew(
        &mut self,
        by: Ipv4Addr,
        kind: Kind,
        lowest: u32,
        count: Option<u32>,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let Some((slot, index)) = self.locate(kind, lowest) else {
            return match (kind, count) {
                (Kind::Spi, Some(count)) => self.regrant(by, lowest, count, lease, now),
                _ => Err(AllocError::NotAllocated),
            };
        };
        self.check_owner(slot, Some(by))?;
        let lease = self.st.settings.lease_for(lease);
        let expires = expiry(lease, now);
        let b = slot_index(slot)
            .and_then(|i| self.hosts.get_mut(i))
            .and_then(|h| h.blocks_mut(kind).get_mut(index))
            .ok_or(AllocError::NotAllocated)?;
        if b.lowest != lowest || count.is_some_and(|c| c != b.count) {
            return Err(AllocError::NotAllocated);
        }
        b.when = pinned_expiry(expires, b.pin);
        Ok(Grant {
            slot,
            lowest,
            count: b.count,
            lease,
            expires: (b.when != NO_EXPIRY).then_some(b.when),
        })
    }

    /// A renewal of an SPI block nobody holds (the router restarted and
    /// the host asks for its old block back, so that its SAs keep their
    /// SPIs): granted to `by` exactly as it was if all of it is free and in
    /// the pool, else [`AllocError::NotAllocated`], as before.
    fn regrant(
        &mut self,
        by: Ipv4Addr,
        lowest: u32,
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let pool = self.st.spis.ok_or(AllocError::NotAllocated)?;
        let last = u64::from(lowest) + u64::from(count);
        if count == 0 || lowest < pool.min || last > u64::from(pool.max) + 1 {
            return Err(AllocError::NotAllocated);
        }
        let window = (u64::from(lowest), last - 1);
        // All of it or nothing: a grant cut to the quota would not be the
        // block asked back.
        let (quota, held) = match self.find_host(by).and_then(slot_index) {
            Some(i) => self
                .hosts
                .get(i)
                .map_or((0, 0), |h| (self.quota_of(h).spis, h.held(Kind::Spi))),
            None => (self.st.settings.default_quota.spis, 0),
        };
        if count > quota.saturating_sub(held) {
            return Err(AllocError::OverQuota);
        }
        match self.search(Kind::Spi, window, u64::from(count)).0 {
            Some((lo, n)) if lo == u64::from(lowest) && n == u64::from(count) => {}
            _ => return Err(AllocError::NotAllocated),
        }
        let g = self.request(by, Kind::Spi, window, count, lease, now)?;
        if g.lowest != lowest || g.count != count {
            // Not expected after the search; never hand out a different
            // block under the old name.
            let _ = self.invalidate_block(None, Kind::Spi, g.lowest, Some(g.count));
            return Err(AllocError::NotAllocated);
        }
        Ok(g)
    }

    /// Renews every active block of `by`; returns how many.
    pub fn renew_host(&mut self, by: Ipv4Addr, lease: u32, now: u64) -> Result<usize, AllocError> {
        let slot = self.find_host(by).ok_or(AllocError::UnknownHost)?;
        let expires = expiry(self.st.settings.lease_for(lease), now);
        let h = slot_index(slot)
            .and_then(|i| self.hosts.get_mut(i))
            .ok_or(AllocError::UnknownHost)?;
        let mut n = 0;
        for b in h.ports.iter_mut().chain(h.spis.iter_mut()) {
            if b.state == State::Active {
                b.when = pinned_expiry(expires, b.pin);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Retires every block whose lease expired at `now` (O(blocks)); calls
    /// `on_retire` for each, returns how many.
    pub fn expire(&mut self, now: u64, mut on_retire: impl FnMut(&BlockInfo)) -> usize {
        for h in self.hosts.iter_mut().filter(|h| h.addr != 0) {
            for b in h.ports.iter_mut().chain(h.spis.iter_mut()) {
                if b.pin != 0 && b.pin <= now {
                    b.pin = 0;
                }
            }
        }
        let mut n = 0;
        for kind in Kind::ALL {
            n += self.retire_where(
                kind,
                |_, b| b.pinned.is_none() && b.expires.is_some_and(|e| e <= now),
                &mut on_retire,
            );
        }
        self.try_publish();
        n
    }

    /// The earliest lease expiry of an active block.
    pub fn next_expiry(&self) -> Option<u64> {
        let active = self
            .hosts
            .iter()
            .filter(|h| h.addr != 0)
            .flat_map(|h| h.ports.iter().chain(h.spis.iter()))
            .filter(|b| b.state == State::Active);
        // The end of a pin counts too: `expire` clears it then.
        active
            .flat_map(|b| [b.when, if b.pin == 0 { NO_EXPIRY } else { b.pin }])
            .filter(|&w| w != NO_EXPIRY)
            .min()
    }

    /// Whether something waits for a grace period (retiring blocks, an SPI
    /// publication).
    pub fn needs_grace(&self) -> bool {
        self.st.retiring.port > 0 || self.st.retiring.spi > 0 || self.st.spi_dirty
    }

    /// Starts a grace period: returns the token to hand to
    /// [`AllocTable::finish_grace`] once an RCU grace period has elapsed
    /// *after this call*, or `None` if nothing waits.
    pub fn start_grace(&mut self) -> Option<GraceToken> {
        if !self.needs_grace() {
            return None;
        }
        let t = self.st.epoch;
        self.st.epoch += 1;
        Some(GraceToken(t))
    }

    /// Ends a grace period: frees every resource unpublished before the
    /// token was taken, releases idle host slots, and publishes pending SPI
    /// changes. Returns how many blocks were freed.
    pub fn finish_grace(&mut self, token: GraceToken) -> usize {
        let t = token.0.min(self.st.epoch.saturating_sub(1));
        self.st.done = self.st.done.max(t);
        let mut n = 0;
        for kind in Kind::ALL {
            if *self.st.retiring.get(kind) > 0 {
                n += self.reclaim(kind);
            }
        }
        self.try_publish();
        n
    }

    fn reclaim(&mut self, kind: Kind) -> usize {
        let done = self.st.done;
        let len = *self.st.len.get(kind);
        let list = match kind {
            Kind::Port => &mut *self.port_list,
            Kind::Spi => &mut *self.spi_list,
        };
        let mut kept = 0;
        let mut freed = 0;
        for r in 0..len {
            let Some(e) = list.get(r).copied() else { break };
            let b = slot_index(e.slot)
                .and_then(|i| self.hosts.get_mut(i))
                .and_then(|h| h.blocks_mut(kind).get_mut(usize::from(e.index)));
            match b {
                Some(b) if b.state == State::Retiring && b.when <= done => {
                    *b = Block::FREE;
                    freed += 1;
                    let hints = match kind {
                        Kind::Port => &mut self.st.port_hints[..],
                        Kind::Spi => &mut self.st.spi_hints[..],
                    };
                    for h in hints {
                        h.freed(u64::from(e.lowest), u64::from(e.last));
                    }
                    let rt = self.st.retiring.get_mut(kind);
                    *rt = rt.saturating_sub(1);
                    release_if_idle(self.hosts, &self.shared, self.st, e.slot);
                }
                _ => {
                    if let Some(d) = list.get_mut(kept) {
                        *d = e;
                    }
                    kept += 1;
                }
            }
        }
        *self.st.len.get_mut(kind) = kept;
        freed
    }

    /// Publishes the active SPI blocks into the inactive buffer and flips,
    /// if something changed and the inactive buffer is no longer read.
    fn try_publish(&mut self) {
        if !self.st.spi_dirty || self.st.flip > self.st.done {
            return;
        }
        let w = self.shared.spi_ctl.load(Ordering::Relaxed);
        let next = (w >> SPI_BUF_SHIFT) ^ 1;
        let buf = if next == 0 {
            self.shared.spi[0]
        } else {
            self.shared.spi[1]
        };
        let epoch = self.st.epoch;
        let mut n = 0usize;
        let len = self.st.len.spi;
        for e in self.spi_list.iter().take(len) {
            let b = slot_index(e.slot)
                .and_then(|i| self.hosts.get_mut(i))
                .and_then(|h| h.spis.get_mut(usize::from(e.index)));
            match b {
                Some(b) if b.state == State::Active => {
                    if let Some(d) = buf.get(n) {
                        d.lowest.store(e.lowest, Ordering::Relaxed);
                        d.last.store(e.last, Ordering::Relaxed);
                        d.slot.store(u32::from(e.slot), Ordering::Relaxed);
                        n += 1;
                    }
                }
                Some(b) if b.state == State::Retiring && b.when == PENDING => b.when = epoch,
                _ => {}
            }
        }
        let dir = if next == 0 {
            self.shared.spi_dir[0]
        } else {
            self.shared.spi_dir[1]
        };
        index_spis(buf.get(..n).unwrap_or_default(), dir);
        let n = (n as u32) & SPI_LEN_MASK;
        self.shared
            .spi_ctl
            .store((next << SPI_BUF_SHIFT) | n, Ordering::Release);
        self.st.flip = epoch;
        self.st.spi_dirty = false;
    }
}

/// Fills the directory `dir` (`base`, `shift`, chunk counts) of the sorted
/// SPI blocks `entries`: the smallest `shift` that puts the last block's
/// start in the last chunk, and per chunk the number of blocks starting at
/// or below its first SPI. `O(entries + chunks)`.
fn index_spis(entries: &[SpiEntry], dir: &[AtomicU32]) {
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

/// A lease expiry that does not end before the block's pin (0: none).
fn pinned_expiry(expires: u64, pin: u64) -> u64 {
    if expires == NO_EXPIRY {
        expires
    } else {
        expires.max(pin)
    }
}

fn expiry(lease: u32, now: u64) -> u64 {
    if lease == 0 {
        NO_EXPIRY
    } else {
        now.saturating_add(u64::from(lease)).min(NO_EXPIRY - 1)
    }
}

fn release_if_idle(hosts: &mut [HostSlot], shared: &Shared<'_>, st: &mut WriterState, slot: Slot) {
    let Some(h) = slot_index(slot).and_then(|i| hosts.get_mut(i)) else {
        return;
    };
    if h.addr != 0 && h.idle() {
        *h = HostSlot::EMPTY;
        shared.set_host(slot, 0);
        st.hosts_used = st.hosts_used.saturating_sub(1);
    }
}

#[cfg(test)]
#[path = "alloc_table/tests.rs"]
mod tests;
