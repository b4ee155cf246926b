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
use core::sync::atomic::{AtomicU16, AtomicU32};

use super::config::Range;

#[path = "alloc_table/dump.rs"]
mod dump;
#[path = "alloc_table/grace.rs"]
mod grace;
#[path = "alloc_table/grant.rs"]
mod grant;
#[path = "alloc_table/retire.rs"]
mod retire;
#[path = "alloc_table/shared.rs"]
mod shared;
#[path = "alloc_table/state.rs"]
mod state;

pub use dump::Blocks;
pub use shared::{Shared, SpiEntry};
use state::spi_window;
pub use state::{BlockRef, HostSlot, WriterState};

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
}

#[cfg(test)]
#[path = "alloc_table/tests.rs"]
mod tests;
