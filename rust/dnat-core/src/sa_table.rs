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
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::alloc_table::{Slot, MAX_HOSTS};
use super::config::{is_unicast, SPI_FIRST_ALLOCATABLE};
use super::ipv4::in_prefix;

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

#[inline(always)]
fn sip_round(v: &mut (u64, u64, u64, u64)) {
    v.0 = v.0.wrapping_add(v.1);
    v.1 = v.1.rotate_left(13) ^ v.0;
    v.0 = v.0.rotate_left(32);
    v.2 = v.2.wrapping_add(v.3);
    v.3 = v.3.rotate_left(16) ^ v.2;
    v.0 = v.0.wrapping_add(v.3);
    v.3 = v.3.rotate_left(21) ^ v.0;
    v.2 = v.2.wrapping_add(v.1);
    v.1 = v.1.rotate_left(17) ^ v.2;
    v.2 = v.2.rotate_left(32);
}

/// SipHash-C-D of the 8-byte message `m` (its little-endian bytes) under
/// `key`.
#[inline(always)]
fn siphash<const C: usize, const D: usize>(key: Seed, m: u64) -> u64 {
    let [k0, k1] = key.0;
    let mut v = (
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    );
    for w in [m, 8u64 << 56] {
        v.3 ^= w;
        for _ in 0..C {
            sip_round(&mut v);
        }
        v.0 ^= w;
    }
    v.2 ^= 0xff;
    for _ in 0..D {
        sip_round(&mut v);
    }
    v.0 ^ v.1 ^ v.2 ^ v.3
}

#[inline(always)]
fn key_of(addr: Ipv4Addr, spi: u32) -> u64 {
    (u64::from(u32::from(addr)) << 32) | u64::from(spi)
}

#[inline(always)]
fn is_live(k: u64) -> bool {
    k as u32 >= SPI_FIRST_ALLOCATABLE
}

fn slot_of(v: u32) -> Slot {
    (v & SLOT_MASK) as u16
}

fn dist_of(v: u32) -> usize {
    ((v >> DIST_SHIFT) & 0xff) as usize
}

fn value(slot: Slot, dist: usize) -> u32 {
    u32::from(slot) | (((dist & 0xff) as u32) << DIST_SHIFT)
}

fn slot_index(slot: Slot) -> Option<usize> {
    usize::from(slot).checked_sub(1)
}

/// One bucket of the SA hash table (reader-side; fields private).
#[derive(Debug, Default)]
pub struct SaBucket {
    key: AtomicU64,
    val: AtomicU32,
}

/// One host slot's blacklist (reader-side; fields private).
#[derive(Debug, Default)]
pub struct BlacklistSlot {
    used: AtomicU32,
    entries: [AtomicU64; BLACKLIST_PER_HOST],
}

fn bl_word(addr: Option<Ipv4Addr>, spi: Option<u32>) -> u64 {
    (u64::from(addr.map_or(0, u32::from)) << 32) | u64::from(spi.unwrap_or(0))
}

fn bl_matches(e: u64, src: u32, spi: u32) -> bool {
    let (ea, es) = ((e >> 32) as u32, e as u32);
    e != 0 && (ea == 0 || ea == src) && (es == 0 || es == spi)
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

/// The reader-side tables: lock-free checks for the packet path. Cheap to
/// copy (two slices and the seed).
#[derive(Clone, Copy)]
pub struct SaShared<'a> {
    buckets: &'a [SaBucket],
    blacklists: &'a [BlacklistSlot],
    seed: Seed,
    mask: usize,
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
    fn home(&self, k: u64) -> usize {
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
                tests::widen_race();
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

/// Where a key is, or where it would go.
struct Probe {
    found: Option<usize>,
    free: Option<(usize, usize)>,
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

    fn max_live(&self) -> u32 {
        u32::try_from(self.shared.layout().max_entries()).unwrap_or(u32::MAX)
    }

    fn check_slot(&self, slot: Slot) -> Result<usize, SaError> {
        slot_index(slot)
            .filter(|&i| i < self.counts.len())
            .ok_or(SaError::BadSlot)
    }

    fn probe(&self, k: u64) -> Probe {
        let mut p = Probe {
            found: None,
            free: None,
        };
        let mut i = self.shared.home(k);
        for d in 0..PROBE_LIMIT {
            let Some(b) = self.shared.buckets.get(i) else {
                break;
            };
            let found = b.key.load(Ordering::Relaxed);
            if found == k {
                p.found = Some(i);
                return p;
            }
            if (found == EMPTY || found == TOMB_REUSABLE) && p.free.is_none() {
                p.free = Some((i, d));
            }
            if found == EMPTY {
                break;
            }
            i = (i + 1) & self.shared.mask;
        }
        p
    }

    fn count_mut(&mut self, slot: Slot) -> Option<&mut u16> {
        slot_index(slot).and_then(|i| self.counts.get_mut(i))
    }

    /// Turns the live entry in bucket `i` into a young tombstone.
    fn remove_at(&mut self, i: usize) {
        let Some(b) = self.shared.buckets.get(i) else {
            return;
        };
        let slot = slot_of(b.val.load(Ordering::Relaxed));
        let stamp = u64::from(self.st.epoch as u32) << 32;
        b.key
            .store(stamp | u64::from(TOMB_YOUNG), Ordering::Release);
        self.st.live = self.st.live.saturating_sub(1);
        self.st.young += 1;
        if let Some(c) = self.count_mut(slot) {
            *c = c.saturating_sub(1);
        }
    }

    /// Records that `(addr, spi)` is an established SA of the host in
    /// `slot`: the host's SA peer at `addr` sends with inbound SPI `spi`.
    /// `owns_spi(slot, spi)` tells whether the allocation table gives `spi`
    /// to `slot` now (an active block; the writer-side truth, not the
    /// published index, which lags). Returns whether the entry is new
    /// (validating an entry again changes nothing).
    pub fn validate(
        &mut self,
        slot: Slot,
        addr: Ipv4Addr,
        spi: u32,
        lan: Option<Lan>,
        owns_spi: impl FnOnce(Slot, u32) -> bool,
    ) -> Result<bool, SaError> {
        let si = self.check_slot(slot)?;
        if spi < SPI_FIRST_ALLOCATABLE {
            return Err(SaError::BadSpi);
        }
        if !is_external(addr, lan) {
            return Err(SaError::BadAddress);
        }
        if !owns_spi(slot, spi) {
            return Err(SaError::NotOwned);
        }
        let k = key_of(addr, spi);
        let p = self.probe(k);
        let held = self.counts.get(si).copied().unwrap_or(u16::MAX);
        if let Some(i) = p.found {
            let Some(b) = self.shared.buckets.get(i) else {
                return Err(SaError::TableFull);
            };
            let v = b.val.load(Ordering::Relaxed);
            let old = slot_of(v);
            if old == slot {
                return Ok(false);
            }
            // A stale entry of the SPI's previous owner: hand it over.
            if held >= self.st.host_limit {
                return Err(SaError::HostLimit);
            }
            b.val.store(value(slot, dist_of(v)), Ordering::Release);
            if let Some(c) = self.count_mut(old) {
                *c = c.saturating_sub(1);
            }
            if let Some(c) = self.counts.get_mut(si) {
                *c = c.saturating_add(1);
            }
            return Ok(true);
        }
        if held >= self.st.host_limit {
            return Err(SaError::HostLimit);
        }
        if self.st.live >= self.max_live() {
            return Err(SaError::TableFull);
        }
        let Some((i, d)) = p.free else {
            return Err(SaError::TableFull);
        };
        let Some(b) = self.shared.buckets.get(i) else {
            return Err(SaError::TableFull);
        };
        if b.key.load(Ordering::Relaxed) == TOMB_REUSABLE {
            self.st.reusable = self.st.reusable.saturating_sub(1);
        }
        b.val.store(value(slot, d), Ordering::Relaxed);
        b.key.store(k, Ordering::Release);
        self.st.live += 1;
        if let Some(c) = self.counts.get_mut(si) {
            *c = c.saturating_add(1);
        }
        Ok(true)
    }

    /// Removes the SA `(addr, spi)` of the host in `slot` (an entry of
    /// another host stays: [`SaError::NotFound`]).
    pub fn invalidate(&mut self, slot: Slot, addr: Ipv4Addr, spi: u32) -> Result<(), SaError> {
        self.check_slot(slot)?;
        if spi < SPI_FIRST_ALLOCATABLE {
            return Err(SaError::NotFound);
        }
        let i = self
            .probe(key_of(addr, spi))
            .found
            .ok_or(SaError::NotFound)?;
        let owner = self
            .shared
            .buckets
            .get(i)
            .map(|b| slot_of(b.val.load(Ordering::Relaxed)));
        if owner != Some(slot) {
            return Err(SaError::NotFound);
        }
        self.remove_at(i);
        Ok(())
    }

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
    fn bl_remove_where(&mut self, si: usize, pred: impl Fn(u64) -> bool) -> usize {
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

    /// Removes every live entry for which `pred(slot, spi)` holds; returns
    /// how many.
    fn remove_where(&mut self, pred: impl Fn(Slot, u32) -> bool) -> usize {
        let mut n = 0;
        for i in 0..self.shared.buckets.len() {
            let hit = self.shared.buckets.get(i).is_some_and(|b| {
                let k = b.key.load(Ordering::Relaxed);
                is_live(k) && pred(slot_of(b.val.load(Ordering::Relaxed)), k as u32)
            });
            if hit {
                self.remove_at(i);
                n += 1;
            }
        }
        n
    }

    /// Removes the SAs of the host in `slot` whose SPI is in `lowest ..
    /// lowest + count` (the block was released, expired or revoked), and its
    /// blacklist entries naming those SPIs. Returns how many entries went.
    /// O(buckets) if the host has SAs, else O(1).
    pub fn remove_spis(&mut self, slot: Slot, lowest: u32, count: u32) -> usize {
        let Ok(si) = self.check_slot(slot) else {
            return 0;
        };
        let Some(last) = count.checked_sub(1).map(|c| lowest.saturating_add(c)) else {
            return 0;
        };
        let in_range = move |spi: u32| lowest <= spi && spi <= last;
        let mut n = 0;
        if self.counts.get(si).is_some_and(|&c| c > 0) {
            n += self.remove_where(|s, spi| s == slot && in_range(spi));
        }
        n + self.bl_remove_where(si, |e| e as u32 != 0 && in_range(e as u32))
    }

    /// Removes every SA and blacklist entry of the host in `slot`
    /// (revocation; a host that holds no block any more). Returns how many.
    pub fn remove_host(&mut self, slot: Slot) -> usize {
        let Ok(si) = self.check_slot(slot) else {
            return 0;
        };
        let mut n = 0;
        if self.counts.get(si).is_some_and(|&c| c > 0) {
            n += self.remove_where(|s, _| s == slot);
        }
        n + self.bl_remove_where(si, |_| true)
    }

    /// Removes everything (router reset or restart). Returns how many
    /// entries went.
    pub fn clear(&mut self) -> usize {
        let mut n = 0;
        if self.st.live > 0 {
            n += self.remove_where(|_, _| true);
        }
        if self.st.blacklisted > 0 {
            for si in 0..self.shared.blacklists.len() {
                n += self.bl_remove_where(si, |_| true);
            }
        }
        n
    }

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

    /// Whether removed entries wait for a grace period before their buckets
    /// can be reused.
    pub fn needs_grace(&self) -> bool {
        self.st.young > 0
    }

    /// Starts a grace period: returns the token to hand to
    /// [`SaTable::finish_grace`] once an RCU grace period has elapsed
    /// *after this call*, or `None` if nothing waits (or 2^31 tokens are
    /// outstanding).
    pub fn start_grace(&mut self) -> Option<SaGraceToken> {
        if !self.needs_grace() || self.st.epoch.saturating_sub(self.st.done) >= MAX_OUTSTANDING {
            return None;
        }
        let t = self.st.epoch;
        self.st.epoch = self.st.epoch.saturating_add(1);
        Some(SaGraceToken(t))
    }

    /// Ends a grace period: every tombstone made before the token was taken
    /// becomes empty, or reusable if a live entry's probe sequence crosses
    /// it. Returns how many tombstones changed.
    pub fn finish_grace(&mut self, token: SaGraceToken) -> usize {
        let t = token.0.min(self.st.epoch.saturating_sub(1));
        self.st.done = self.st.done.max(t);
        if self.st.young == 0 && self.st.reusable == 0 {
            return 0;
        }
        self.sweep()
    }

    /// One backward pass over the buckets twice (the second time round
    /// covers probe sequences that wrap): `min_home` is the lowest home
    /// position of the live entries past the current position, so a
    /// tombstone at `x` is crossed iff `min_home <= x`.
    fn sweep(&mut self) -> usize {
        let n = self.shared.buckets.len();
        let done = self.st.done;
        let mut min_home = i64::MAX;
        let mut changed = 0;
        for x in (0..2 * n).rev() {
            let Some(b) = self.shared.buckets.get(x & self.shared.mask) else {
                continue;
            };
            let k = b.key.load(Ordering::Relaxed);
            if is_live(k) {
                let d = dist_of(b.val.load(Ordering::Relaxed)) as i64;
                min_home = min_home.min(x as i64 - d);
                continue;
            }
            if x >= n || k == EMPTY {
                continue;
            }
            let young = k as u32 == TOMB_YOUNG;
            if young && self.st.stamp_epoch((k >> 32) as u32) > done {
                continue;
            }
            if min_home > x as i64 {
                b.key.store(EMPTY, Ordering::Release);
                if young {
                    self.st.young = self.st.young.saturating_sub(1);
                } else {
                    self.st.reusable = self.st.reusable.saturating_sub(1);
                }
                changed += 1;
            } else if young {
                b.key.store(TOMB_REUSABLE, Ordering::Release);
                self.st.young = self.st.young.saturating_sub(1);
                self.st.reusable += 1;
                changed += 1;
            }
        }
        changed
    }
}

fn bl_find(b: &BlacklistSlot, used: u32, w: u64) -> Option<usize> {
    let mut m = used;
    while m != 0 {
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        if b.entries.get(i)?.load(Ordering::Relaxed) == w {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
#[path = "sa_table/tests.rs"]
mod tests;
