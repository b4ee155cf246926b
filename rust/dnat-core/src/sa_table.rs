// SPDX-License-Identifier: GPL-2.0

//! The router's established-SA table and blacklists (SPEC sections 5 and
//! 7, reference FIG. 29C): which external peers may send ESP/AH to which
//! host.
//!
//! - Established SAs, `(external address, SPI) -> host slot` (the slots of
//!   `alloc_table.rs`): an open-addressing table of [`SaBucket`]s, homed by
//!   SipHash-1-3 under a secret [`Seed`], probed linearly at most
//!   [`PROBE_LIMIT`] buckets; at most [`SaState::host_limit`] entries a
//!   host and half the buckets in all.
//! - Blacklists: per host slot, up to [`BLACKLIST_PER_HOST`] entries
//!   `(address or any, SPI or any)`, never both "any" ([`BlacklistSlot`]).
//! - [`SaShared::check`]: the packet path's [`Verdict`] for ESP/AH whose SPI
//!   owner is known (blacklisted, validated, or not; dropping the
//!   unvalidated is the router's policy). O(1), lock-free, inside an RCU
//!   read-side critical section; no allocation, no write.
//! - [`SaTable`]: validations, invalidations, blacklist changes and the
//!   removal of what goes with retired blocks, under the caller's lock (the
//!   allocation table's). [`SaLayout`] gives the caller-provided storage.
//!
//! A removed key leaves a tombstone that no other key gets before an RCU
//! grace period has elapsed ([`SaTable::start_grace`],
//! [`SaTable::finish_grace`]), so no reader pairs a key with another key's
//! slot.
//!
//! Hashing, key encoding, concurrency argument, costs and memory:
//! Documentation/networking/dnat.rst, section "Denial-of-service control",
//! subsections "Hashing, limits and memory" and "Reading the SA table
//! without a lock".

use core::net::Ipv4Addr;
use core::sync::atomic::Ordering;

use super::alloc_table::{Slot, MAX_HOSTS};
use super::config::is_unicast;
use super::ipv4::in_prefix;

#[path = "sa_table/blacklist.rs"]
mod blacklist;
#[path = "sa_table/dump.rs"]
mod dump;
#[path = "sa_table/key.rs"]
mod key;
#[path = "sa_table/remove.rs"]
mod remove;
#[path = "sa_table/shared.rs"]
mod shared;
#[path = "sa_table/validate.rs"]
mod validate;

pub use dump::{BlacklistEntries, SaEntries};
use key::slot_index;
pub use key::{BlacklistSlot, SaBucket};
pub use shared::SaShared;

/// Most buckets a lookup probes (and the farthest an entry lies from its
/// home bucket).
pub const PROBE_LIMIT: usize = 32;
/// Fewest buckets a table may have.
pub const MIN_BUCKETS: usize = 64;
/// Most buckets a table may have (2^24, 256 MiB).
pub const MAX_BUCKETS: usize = 1 << 24;
/// Blacklist entries a host may have.
pub const BLACKLIST_PER_HOST: usize = 16;
/// Established SAs a host may have unless configured otherwise.
pub const DEFAULT_SAS_PER_HOST: u16 = 256;

/// Key of an empty bucket.
const EMPTY: u64 = 0;
/// Low word of a young tombstone (high word: its stamp).
const TOMB_YOUNG: u32 = 1;
/// Key of a reusable tombstone.
const TOMB_REUSABLE: u64 = 2;
const SLOT_MASK: u32 = 0xffff;
const DIST_SHIFT: u32 = 16;
/// Tokens that may be outstanding before `start_grace` refuses.
const MAX_OUTSTANDING: u64 = 1 << 31;

/// Why an SA-table operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaError {
    /// No room: half the buckets hold entries, or no free bucket within
    /// [`PROBE_LIMIT`] of the key's home.
    TableFull,
    /// The host already has its most SAs or blacklist entries.
    HostLimit,
    /// The SPI is not allocated to the host.
    NotOwned,
    /// Not a unicast external address (0.0.0.0, broadcast, multicast,
    /// loopback, 240.0.0.0/4, or inside the LAN prefix).
    BadAddress,
    /// An SPI below 256 (reserved, never allocated).
    BadSpi,
    /// A slot outside `1..=hosts`.
    BadSlot,
    /// No such entry (for that host).
    NotFound,
    /// A blacklist entry with neither an address nor an SPI.
    EmptyEntry,
    /// Storage slices of the wrong length.
    BadLayout,
}

impl SaError {
    /// A positive errno for netlink replies.
    pub const fn errno(self) -> i32 {
        match self {
            Self::TableFull => 28,  // ENOSPC
            Self::HostLimit => 122, // EDQUOT
            Self::NotOwned => 1,    // EPERM
            Self::NotFound => 2,    // ENOENT
            Self::BadAddress
            | Self::BadSpi
            | Self::BadSlot
            | Self::EmptyEntry
            | Self::BadLayout => 22, // EINVAL
        }
    }
}

/// Why an ESP/AH packet is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum DropReason {
    /// The source address is not validated for this SPI and host.
    NotValidated,
    /// A blacklist entry of the host matches.
    Blacklisted,
    /// ESP in UDP (NAT traversal) whose SPI the owner of the UDP
    /// destination port does not hold.
    NotSpiOwner,
}

impl DropReason {
    /// Number of reasons.
    pub const COUNT: usize = 3;
    /// Every reason, in index order.
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::NotValidated,
        DropReason::Blacklisted,
        DropReason::NotSpiOwner,
    ];

    /// The reason's counter slot.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The reason's counter name.
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::NotValidated => "not_validated",
            DropReason::Blacklisted => "blacklisted",
            DropReason::NotSpiOwner => "not_spi_owner",
        }
    }
}

/// What [`SaShared::check`] says about an ESP/AH packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Validated for the owner and not blacklisted.
    Deliver,
    /// Drop, and why.
    Drop(DropReason),
}

impl Verdict {
    /// Whether a router drops the packet: an enforcing router drops both
    /// reasons, a `permissive` one (the reference's behaviour: the SPI
    /// check only) drops only blacklisted packets, which a host asked for,
    /// and ESP in UDP to a host that does not hold its SPI.
    pub const fn drops(self, permissive: bool) -> bool {
        match self {
            Verdict::Deliver => false,
            Verdict::Drop(DropReason::Blacklisted | DropReason::NotSpiOwner) => true,
            Verdict::Drop(DropReason::NotValidated) => !permissive,
        }
    }
}

/// The router's LAN prefix: external addresses lie outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lan {
    /// An address inside the prefix (the router's LAN address).
    pub addr: Ipv4Addr,
    /// The prefix's netmask.
    pub mask: Ipv4Addr,
}

impl Lan {
    /// Whether `a` lies inside the prefix.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        in_prefix(a, self.addr, self.mask)
    }
}

/// Whether `a` may be an SA peer or a blacklisted source: unicast (not
/// 0.0.0.0, broadcast, multicast, loopback or 240.0.0.0/4) and outside the
/// LAN prefix, if one is given.
pub fn is_external(a: Ipv4Addr, lan: Option<Lan>) -> bool {
    is_unicast(a) && !lan.is_some_and(|l| l.contains(a))
}

/// The secret key of the bucket hash (128 bits). Draw it at random when
/// the storage is created and keep it as long as the storage lives.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Seed(pub [u64; 2]);

impl Seed {
    /// From 16 random bytes.
    pub const fn from_bytes(b: [u8; 16]) -> Self {
        let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = b;
        Self([
            u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        ])
    }
}

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // A secret: never printed.
        f.write_str("Seed(..)")
    }
}

/// Lengths of the storage slices, and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaLayout {
    /// Buckets of the SA hash table: a power of two, [`MIN_BUCKETS`] to
    /// [`MAX_BUCKETS`]; at most half of them hold SAs.
    pub buckets: usize,
    /// Host slots, as in the allocation table's `Layout`.
    pub hosts: usize,
}

impl SaLayout {
    /// Bucket slice length.
    pub const fn buckets_len(&self) -> usize {
        self.buckets
    }
    /// Blacklist slice length (one per host slot; slot `s` at `s - 1`).
    pub const fn blacklists_len(&self) -> usize {
        self.hosts
    }
    /// Per-host count slice length.
    pub const fn counts_len(&self) -> usize {
        self.hosts
    }
    /// Most SAs the table holds.
    pub const fn max_entries(&self) -> usize {
        self.buckets / 2
    }
    /// Bytes of everything (reader-side slices, counts, state).
    pub const fn bytes(&self) -> usize {
        self.buckets * core::mem::size_of::<SaBucket>()
            + self.hosts * core::mem::size_of::<BlacklistSlot>()
            + self.hosts * core::mem::size_of::<u16>()
            + core::mem::size_of::<SaState>()
    }
    fn valid(&self) -> bool {
        self.buckets.is_power_of_two()
            && (MIN_BUCKETS..=MAX_BUCKETS).contains(&self.buckets)
            && (1..=MAX_HOSTS).contains(&self.hosts)
    }
}

/// Writer-side state besides the slices (fields private).
#[derive(Debug, Clone)]
pub struct SaState {
    host_limit: u16,
    /// Stamp of removals made now; the next token.
    epoch: u64,
    /// Highest finished grace token.
    done: u64,
    live: u32,
    young: u32,
    reusable: u32,
    blacklisted: u32,
}

impl SaState {
    /// A fresh state: empty tables, [`DEFAULT_SAS_PER_HOST`].
    pub const fn new() -> Self {
        Self {
            host_limit: DEFAULT_SAS_PER_HOST,
            epoch: 1,
            done: 0,
            live: 0,
            young: 0,
            reusable: 0,
            blacklisted: 0,
        }
    }

    /// Most SAs a host may have.
    pub const fn host_limit(&self) -> u16 {
        self.host_limit
    }

    /// The epoch a young tombstone's 32-bit stamp stands for: the only one
    /// in `(epoch - 2^32, epoch]`, where every young stamp lies (see
    /// `MAX_OUTSTANDING`).
    fn stamp_epoch(&self, stamp: u32) -> u64 {
        self.epoch
            .wrapping_sub(u64::from((self.epoch as u32).wrapping_sub(stamp)))
    }
}

impl Default for SaState {
    fn default() -> Self {
        Self::new()
    }
}

/// Proof-of-grace token: see [`SaTable::start_grace`] and
/// Documentation/networking/dnat.rst, "Reading the SA table without a lock".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct SaGraceToken(u64);

impl SaGraceToken {
    /// The raw value (to carry it through a callback).
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// From [`SaGraceToken::raw`].
    pub const fn from_raw(v: u64) -> Self {
        Self(v)
    }
}

/// An established SA, as dumps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaEntry {
    /// The peer's external address.
    pub addr: Ipv4Addr,
    /// The SA's inbound SPI.
    pub spi: u32,
    /// The host's slot.
    pub slot: Slot,
}

/// A blacklist entry, as dumps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlacklistEntry {
    /// The host's slot.
    pub slot: Slot,
    /// External source address, `None`: any.
    pub addr: Option<Ipv4Addr>,
    /// SPI, `None`: any.
    pub spi: Option<u32>,
}

/// Totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaStats {
    /// Established SAs.
    pub entries: u32,
    /// Most SAs the table holds (half the buckets).
    pub max_entries: u32,
    /// Tombstones waiting for a grace period.
    pub young_tombstones: u32,
    /// Reusable tombstones (crossed by a live entry's probe sequence).
    pub reusable_tombstones: u32,
    /// Blacklist entries of all hosts.
    pub blacklist: u32,
}

/// Position in a dump: resume a multi-part dump from the cursor of the
/// first item that did not fit. SA dumps count buckets, blacklist dumps
/// `(slot - 1) * BLACKLIST_PER_HOST + index`; a table changed between parts
/// may make a dump skip or repeat items, as netlink dumps do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaCursor(u32);

impl SaCursor {
    /// The beginning.
    pub const START: SaCursor = SaCursor(0);
    /// The raw value (for `netlink_callback::args`).
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// From [`SaCursor::raw`].
    pub const fn from_raw(v: u32) -> Self {
        Self(v)
    }
}

/// The writer's view of the tables: every change goes through here, under
/// the caller's lock.
#[derive(Debug)]
pub struct SaTable<'a> {
    shared: SaShared<'a>,
    counts: &'a mut [u16],
    st: &'a mut SaState,
}

impl<'a> SaTable<'a> {
    /// Views the writer-side storage (`counts`: one per host slot, created
    /// 0) together with the reader-side one. Cheap: checks lengths only;
    /// build it anew under the lock for every operation.
    pub fn new(
        shared: SaShared<'a>,
        counts: &'a mut [u16],
        st: &'a mut SaState,
    ) -> Result<Self, SaError> {
        if counts.len() != shared.layout().counts_len() {
            return Err(SaError::BadLayout);
        }
        Ok(Self { shared, counts, st })
    }

    /// The reader-side view.
    pub fn shared(&self) -> SaShared<'a> {
        self.shared
    }

    /// Host slots (`1..=hosts`).
    pub fn hosts(&self) -> usize {
        self.counts.len()
    }

    /// Sets the most SAs a host may have (1 to `u16::MAX`); hosts above a
    /// lowered limit keep what they have.
    pub fn set_host_limit(&mut self, n: u16) {
        self.st.host_limit = n.max(1);
    }

    /// Most SAs a host may have.
    pub fn host_limit(&self) -> u16 {
        self.st.host_limit
    }

    /// Totals.
    pub fn stats(&self) -> SaStats {
        SaStats {
            entries: self.st.live,
            max_entries: self.max_live(),
            young_tombstones: self.st.young,
            reusable_tombstones: self.st.reusable,
            blacklist: self.st.blacklisted,
        }
    }

    /// SAs and blacklist entries of the host in `slot`.
    pub fn host_counts(&self, slot: Slot) -> (u16, u8) {
        let i = slot_index(slot);
        let sas = i.and_then(|i| self.counts.get(i)).copied().unwrap_or(0);
        let bl = i
            .and_then(|i| self.shared.blacklists.get(i))
            .map_or(0, |b| b.used.load(Ordering::Relaxed).count_ones() as u8);
        (sas, bl)
    }
}

#[cfg(test)]
#[path = "sa_table/tests.rs"]
mod tests;
