// SPDX-License-Identifier: GPL-2.0

//! The router's established-SA table and blacklists (SPEC sections 5 and
//! 7, reference FIG. 29C): which external peers may send ESP/AH to which
//! host.
//!
//! # What is kept
//!
//! - **Established SAs**: `(external address, SPI) -> host slot` (the slot
//!   numbering of the allocation table, `alloc_table.rs`). Filled by
//!   validations (PAP 34/0 from the host, or the administrator), emptied by
//!   invalidations (35/0), by the release, expiry or revocation of the SPI
//!   block ([`SaTable::remove_spis`], [`SaTable::remove_host`]) and by a
//!   router reset ([`SaTable::clear`]). At most [`SaState::host_limit`]
//!   entries per host (default [`DEFAULT_SAS_PER_HOST`]) and half the
//!   buckets in all.
//! - **Blacklists**: per host slot, up to [`BLACKLIST_PER_HOST`] entries
//!   `(address or any, SPI or any)`, never both "any" (PAP 34/1, 35/1).
//!
//! # Packet path (readers): [`SaShared`]
//!
//! The caller has found the owner of the packet's SPI in the allocation
//! table (`Shared::spi_owner`), then calls [`SaShared::check`] with the
//! packet's source address, its SPI and that owner:
//!
//! 1. a blacklist entry of the owner matches -> [`DropReason::Blacklisted`]
//!    (the blacklist wins over a validation);
//! 2. `(source, SPI)` is validated for the owner -> [`Verdict::Deliver`];
//! 3. otherwise -> [`DropReason::NotValidated`].
//!
//! The verdict always carries the reason; whether a router drops
//! unvalidated ESP/AH is its policy ([`Verdict::drops`]: a *permissive*
//! router, the reference's behaviour of checking the SPI only, still drops
//! blacklisted packets).
//!
//! - **SA lookup**: an open-addressing hash table of [`SaBucket`]s, 16 bytes
//!   each: the key `address << 32 | SPI` in an `AtomicU64`, the value (slot
//!   and probe distance) in an `AtomicU32`. The bucket count is a power of
//!   two, [`MIN_BUCKETS`] to [`MAX_BUCKETS`]. A lookup hashes the key and
//!   probes linearly: at most [`PROBE_LIMIT`] acquire loads, stopping at the
//!   key or at an empty bucket. O(1) worst case, no lock, no allocation, no
//!   write.
//! - **Blacklist**: per slot, a word of used-entry bits and the entries
//!   (`address << 32 | SPI`, 0 for "any"), [`BlacklistSlot`]: one acquire
//!   load when the host has no blacklist, one more relaxed load per entry
//!   otherwise.
//!
//! Key encoding: SPIs below 256 are never allocated, so the low word of a
//! key is an SPI of at least 256 for a live entry, 0 for an empty bucket
//! (the whole key is 0), 1 for a *young* tombstone (the high word holds its
//! stamp, see below) and 2 for a *reusable* tombstone. A query with an SPI
//! below 256 answers "not validated" without probing.
//!
//! # Hashing (denial of service)
//!
//! The bucket of a key is SipHash-1-3 of the key under a 128-bit secret
//! [`Seed`] from the caller (the kernel's `hsiphash` on 64-bit machines is
//! the same function), so nobody who does not know the seed can choose
//! addresses and SPIs that collide. Attackers on the Internet choose the
//! source address and SPI of every packet they send, and hosts choose what
//! they validate; neither can lengthen a probe sequence on purpose, and a
//! lookup is bounded by [`PROBE_LIMIT`] anyway. The seed must stay the
//! same for the lifetime of the storage (the kernel draws it with
//! `get_random_bytes` when it creates a namespace's tables).
//!
//! # Costs on the packet path
//!
//! Measured under callgrind (x86-64, release, a non-inlined call of
//! [`SaShared::check`], call and return included; 16,384 buckets holding
//! 8,000 SAs, owners without blacklist): a validated SA 129 instructions,
//! an unvalidated source 141. The hash is about 90 of them.
//!
//! # Concurrency (the argument)
//!
//! Writers are serialised by the caller (one lock around every [`SaTable`]
//! call; it takes `&mut` storage). Readers call [`SaShared`] inside an RCU
//! read-side critical section (netfilter hooks run in one) and use the
//! answer only inside it.
//!
//! Invariant **P** (probing): every live key lies fewer than
//! [`PROBE_LIMIT`] buckets after its home bucket, and no bucket between
//! its home and its position is empty. Inserts put a key in the first free
//! bucket (empty or reusable tombstone) from its home, within the limit; a
//! removal turns the key into a tombstone and never moves anything; a
//! tombstone becomes empty only when no live key lies past it on a probe
//! sequence through it (each bucket stores its key's probe distance, so the
//! writer can tell). Every change is one atomic store, so P holds at every
//! instant a reader can observe, and a reader looking for a live key never
//! stops before reaching it.
//!
//! Rule **G** (grace): **a bucket whose key was removed is not given to
//! another key until an RCU grace period has elapsed since the removal.**
//! A removal stamps its tombstone with the current grace epoch (young);
//! [`SaTable::finish_grace`] with a token taken after the removal makes it
//! reusable (or empty). The caller proves the grace period as for the
//! allocation table:
//!
//! ```text
//! lock;   ...changes...; let tok = sa.start_grace();   unlock
//! synchronize_rcu()   (or call_rcu / poll_state_synchronize_rcu)
//! lock;   sa.finish_grace(tok);                        unlock
//! ```
//!
//! What a reader can observe, and why it is right:
//!
//! - An insert stores the value (relaxed), then the key (release); a
//!   reader acquire-loads the key and then loads the value, so a matching
//!   key comes with its own value. A value changes in place only when a key
//!   already present is validated for another slot (its SPI changed hands
//!   without [`SaTable::remove_spis`]): one store, so the reader sees the
//!   old or the new slot, each true at some instant.
//! - A reader that loaded a key before it was removed may still load the
//!   value afterwards: the value is untouched by the removal, and by G the
//!   bucket is not rewritten for another key before that reader is done. So
//!   no reader ever pairs a key with another key's slot.
//! - A packet racing with a validation or invalidation is judged as if it
//!   had arrived a moment earlier or later: it may be delivered by an entry
//!   being removed, or dropped although its entry is being added.
//! - Blacklist entries are self-contained words: an addition stores the
//!   entry, then sets its bit (release); a removal clears the bit, then the
//!   entry. A reader loads the bits (acquire), then the entries of the set
//!   bits, and matches against each entry it loads; an entry slot reused
//!   at once is harmless because every entry it can load belongs to the
//!   same host and was present at some instant.
//! - Slot reuse: entries name allocation-table slots. The caller removes a
//!   host's entries when its SPI blocks are retired and its blacklist when
//!   it holds no block any more (`pap_server::forget_block`,
//!   `pap_server::forget_idle`); the allocation table reuses a slot only a
//!   grace period after its last block was unpublished, so no reader
//!   attributes an old host's entry to a new host of the same slot.
//!
//! Tombstone stamps hold the low 32 bits of the epoch;
//! [`SaTable::start_grace`] hands out no token while 2^31 tokens are
//! outstanding (never the case with a caller that finishes its grace
//! periods), so a stamp is always unambiguous. Without finished grace
//! periods tombstones are simply never reused (inserts then fail with
//! [`SaError::TableFull`]): the rule fails safe.
//!
//! # Tombstones
//!
//! [`SaTable::finish_grace`] sweeps the buckets once (two passes over the
//! array, no hashing: O(buckets)): every tombstone old enough becomes empty
//! if no live key's probe sequence crosses it, else reusable. So the table
//! never fills with tombstones as long as grace periods finish; inserts
//! re-use reusable tombstones before empty buckets further on.
//!
//! # Writer costs
//!
//! Validate, invalidate, blacklist changes: O([`PROBE_LIMIT`]) or
//! O([`BLACKLIST_PER_HOST`]). [`SaTable::remove_spis`],
//! [`SaTable::remove_host`] and [`SaTable::clear`] scan every bucket
//! (O(buckets), 16,384 buckets are 256 KiB), but return at once when the
//! host has no entry. [`SaTable::finish_grace`]: two passes over the
//! buckets.
//!
//! # Memory
//!
//! All storage is handed in by the caller, created with `Default` values
//! and then only changed through this module. [`SaLayout`] gives every
//! slice's length and [`SaLayout::bytes`] the total: 16 bytes per bucket,
//! [`BlacklistSlot`] (136 bytes) and a `u16` per host slot, and an
//! [`SaState`]. E.g. 16,384 buckets (at most 8,192 SAs) and 256 hosts take
//! 297,512 bytes (see the unit test `memory`).
//!
//! Kernel glue, in short: per namespace allocate the reader-side slices
//! (buckets, blacklists) outside the writer lock, since hooks read them
//! under `rcu_read_lock` only, and the per-host counts and [`SaState`]
//! inside it (the allocation table's lock: the PAP server changes both
//! tables in one operation); keep the [`Seed`] next to them; build
//! [`SaShared`] in the hook and [`SaTable`] under the lock for each
//! operation (both only check lengths). Free the storage only after the
//! hooks are unregistered and a grace period has elapsed.

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

/// Proof-of-grace token, see the module documentation.
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
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::vec::Vec;

    const SEED: Seed = Seed([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);

    std::thread_local! {
        static WIDEN: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    /// Test-only: on reader threads of the concurrency test, a pause
    /// between a lookup's key and value loads, so that a writer that
    /// rewrote a bucket too early would be caught.
    pub(super) fn widen_race() {
        if WIDEN.with(|w| w.get()) {
            for _ in 0..200 {
                core::hint::spin_loop();
            }
        }
    }
    const LAN: Option<Lan> = Some(Lan {
        addr: Ipv4Addr::new(10, 0, 0, 7),
        mask: Ipv4Addr::new(255, 255, 255, 0),
    });

    struct Store {
        buckets: Vec<SaBucket>,
        bl: Vec<BlacklistSlot>,
        counts: Vec<u16>,
        st: SaState,
    }

    impl Store {
        fn new(buckets: usize, hosts: usize) -> Self {
            let l = SaLayout { buckets, hosts };
            Self {
                buckets: (0..l.buckets_len()).map(|_| SaBucket::default()).collect(),
                bl: (0..l.blacklists_len())
                    .map(|_| BlacklistSlot::default())
                    .collect(),
                counts: std::vec![0; l.counts_len()],
                st: SaState::new(),
            }
        }
        fn t(&mut self) -> SaTable<'_> {
            let sh = SaShared::new(&self.buckets, &self.bl, SEED).unwrap();
            SaTable::new(sh, &mut self.counts, &mut self.st).unwrap()
        }
    }

    fn yes(_: Slot, _: u32) -> bool {
        true
    }

    fn ext(n: u32) -> Ipv4Addr {
        // 198.51.100.0/24, 203.0.113.0/24, ...: anything outside the LAN.
        Ipv4Addr::from(0xc633_6400u32.wrapping_add(n))
    }

    fn grace(t: &mut SaTable<'_>) {
        while let Some(tok) = t.start_grace() {
            t.finish_grace(tok);
        }
    }

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Structural invariants: counters, P, every live key found.
    fn invariants(t: &SaTable<'_>) {
        let sh = t.shared();
        let n = sh.buckets.len();
        let (mut live, mut young, mut reusable) = (0u32, 0u32, 0u32);
        let mut per = std::vec![0u16; t.hosts()];
        for (i, b) in sh.buckets.iter().enumerate() {
            let k = b.key.load(Ordering::Relaxed);
            if is_live(k) {
                live += 1;
                let v = b.val.load(Ordering::Relaxed);
                let d = dist_of(v);
                assert!(d < PROBE_LIMIT);
                let home = sh.home(k);
                assert_eq!((home + d) & sh.mask, i, "distance of bucket {i}");
                for j in 0..d {
                    let kk = sh.buckets[(home + j) & sh.mask].key.load(Ordering::Relaxed);
                    assert_ne!(kk, EMPTY, "empty bucket on the probe path of {i}");
                }
                let s = slot_of(v);
                per[usize::from(s) - 1] += 1;
                let (a, spi) = (Ipv4Addr::from((k >> 32) as u32), k as u32);
                assert_eq!(sh.lookup(a, spi), Some(s));
            } else if k as u32 == TOMB_YOUNG {
                young += 1;
            } else if k == TOMB_REUSABLE {
                reusable += 1;
            } else {
                assert_eq!(k, EMPTY, "bucket {i} of {n}");
            }
        }
        assert_eq!(
            (live, young, reusable),
            (t.st.live, t.st.young, t.st.reusable)
        );
        assert_eq!(&per[..], &t.counts[..]);
        let bl: u32 = sh
            .blacklists
            .iter()
            .map(|b| b.used.load(Ordering::Relaxed).count_ones())
            .sum();
        assert_eq!(bl, t.st.blacklisted);
        for b in sh.blacklists {
            let used = b.used.load(Ordering::Relaxed);
            for (i, e) in b.entries.iter().enumerate() {
                assert_eq!(e.load(Ordering::Relaxed) != 0, used & (1 << i) != 0);
            }
        }
    }

    #[test]
    #[allow(deprecated)]
    fn siphash_matches_reference() {
        use core::hash::{Hasher, SipHasher};
        let mut rng = Rng(3);
        for _ in 0..1000 {
            let (k0, k1, m) = (rng.next(), rng.next(), rng.next());
            let mut h = SipHasher::new_with_keys(k0, k1);
            h.write(&m.to_le_bytes());
            assert_eq!(siphash::<2, 4>(Seed([k0, k1]), m), h.finish());
        }
        // The paper's vector: key 00..0f, message 00..07.
        let key = Seed::from_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        let m = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(siphash::<2, 4>(key, m), 0x93f5_f579_9a93_2462);
        // The table's hash depends on the seed.
        assert_ne!(siphash::<1, 3>(key, m), siphash::<1, 3>(SEED, m));
        assert_eq!(std::format!("{SEED:?}"), "Seed(..)");
    }

    #[test]
    fn validate_check_invalidate() {
        let mut s = Store::new(64, 4);
        let mut t = s.t();
        let peer = ext(3);
        assert_eq!(t.validate(1, peer, 0x1000, LAN, yes), Ok(true));
        assert_eq!(t.validate(1, peer, 0x1000, LAN, yes), Ok(false));
        let sh = t.shared();
        assert_eq!(sh.check(peer, 0x1000, 1), Verdict::Deliver);
        // Another owner, another source, another SPI: not validated.
        let nv = Verdict::Drop(DropReason::NotValidated);
        assert_eq!(sh.check(peer, 0x1000, 2), nv);
        assert_eq!(sh.check(ext(4), 0x1000, 1), nv);
        assert_eq!(sh.check(peer, 0x1001, 1), nv);
        assert_eq!(sh.check(peer, 0x1000, 0), nv);
        assert_eq!(sh.check(peer, 0x1000, 99), nv);
        assert_eq!(sh.check(peer, 1, 1), nv);
        assert_eq!(sh.lookup(peer, 0), None);
        assert_eq!(t.host_counts(1), (1, 0));
        assert_eq!(t.invalidate(2, peer, 0x1000), Err(SaError::NotFound));
        assert_eq!(t.invalidate(1, peer, 0x1001), Err(SaError::NotFound));
        assert_eq!(t.invalidate(1, peer, 5), Err(SaError::NotFound));
        assert_eq!(t.invalidate(1, peer, 0x1000), Ok(()));
        assert_eq!(t.invalidate(1, peer, 0x1000), Err(SaError::NotFound));
        assert_eq!(sh.check(peer, 0x1000, 1), nv);
        assert_eq!(t.host_counts(1), (0, 0));
        assert_eq!(t.stats().young_tombstones, 1);
        assert!(t.needs_grace());
        grace(&mut t);
        assert!(!t.needs_grace());
        assert_eq!(
            t.stats(),
            SaStats {
                max_entries: 32,
                ..SaStats::default()
            }
        );
        invariants(&t);
    }

    #[test]
    fn validate_refusals() {
        let mut s = Store::new(64, 4);
        let mut t = s.t();
        let p = ext(1);
        let e = |t: &mut SaTable<'_>, slot, a, spi| t.validate(slot, a, spi, LAN, yes);
        assert_eq!(e(&mut t, 0, p, 0x1000), Err(SaError::BadSlot));
        assert_eq!(e(&mut t, 5, p, 0x1000), Err(SaError::BadSlot));
        assert_eq!(e(&mut t, 1, p, 255), Err(SaError::BadSpi));
        assert_eq!(e(&mut t, 1, p, 0), Err(SaError::BadSpi));
        for bad in [
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::new(224, 0, 0, 1),
            Ipv4Addr::new(240, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 255),
        ] {
            assert_eq!(e(&mut t, 1, bad, 0x1000), Err(SaError::BadAddress), "{bad}");
        }
        // Outside the LAN prefix, or no prefix given: fine.
        assert_eq!(e(&mut t, 1, Ipv4Addr::new(10, 0, 1, 1), 0x1000), Ok(true));
        assert_eq!(
            t.validate(1, Ipv4Addr::new(10, 0, 0, 1), 0x1000, None, yes),
            Ok(true)
        );
        let mut asked = None;
        let r = t.validate(2, p, 0x2000, LAN, |s, spi| {
            asked = Some((s, spi));
            false
        });
        assert_eq!((r, asked), (Err(SaError::NotOwned), Some((2, 0x2000))));
        assert_eq!(t.stats().entries, 2);
        invariants(&t);
        for e in [
            SaError::TableFull,
            SaError::HostLimit,
            SaError::NotOwned,
            SaError::NotFound,
            SaError::BadAddress,
        ] {
            assert!(e.errno() > 0);
        }
    }

    #[test]
    fn stale_entry_moves_to_the_new_owner() {
        let mut s = Store::new(64, 4);
        let mut t = s.t();
        t.validate(1, ext(1), 0x1000, LAN, yes).unwrap();
        // The SPI went to slot 2 without remove_spis: the entry follows.
        assert_eq!(t.validate(2, ext(1), 0x1000, LAN, yes), Ok(true));
        assert_eq!(t.host_counts(1), (0, 0));
        assert_eq!(t.host_counts(2), (1, 0));
        assert_eq!(t.shared().check(ext(1), 0x1000, 2), Verdict::Deliver);
        assert_eq!(t.stats().entries, 1);
        invariants(&t);
    }

    #[test]
    fn host_limit_and_table_full() {
        let mut s = Store::new(256, 4);
        let mut t = s.t();
        t.set_host_limit(10);
        assert_eq!(t.host_limit(), 10);
        for i in 0..10 {
            assert_eq!(t.validate(1, ext(i), 0x1000, LAN, yes), Ok(true));
        }
        assert_eq!(
            t.validate(1, ext(10), 0x1000, LAN, yes),
            Err(SaError::HostLimit)
        );
        // Re-validating an existing entry is fine at the limit.
        assert_eq!(t.validate(1, ext(3), 0x1000, LAN, yes), Ok(false));
        // A stale entry cannot move to a host at its limit either.
        t.validate(2, ext(50), 0x2000, LAN, yes).unwrap();
        assert_eq!(
            t.validate(1, ext(50), 0x2000, LAN, yes),
            Err(SaError::HostLimit)
        );
        t.set_host_limit(u16::MAX);
        // Fill the table: half the buckets.
        let mut n = t.stats().entries;
        let mut i = 100;
        while n < 128 {
            match t.validate(3, ext(i), 0x3000, LAN, yes) {
                Ok(true) => n += 1,
                other => panic!("{other:?} at {n}"),
            }
            i += 1;
        }
        assert_eq!(
            t.validate(4, ext(9999), 0x4000, LAN, yes),
            Err(SaError::TableFull)
        );
        assert_eq!(t.stats().entries, 128);
        invariants(&t);
        // The limit is on live entries: a removal makes room at once (the
        // new key takes an empty bucket, not the young tombstone).
        t.invalidate(3, ext(100), 0x3000).unwrap();
        assert_eq!(t.validate(4, ext(9999), 0x4000, LAN, yes), Ok(true));
        invariants(&t);
    }

    #[test]
    fn probe_limit_bounds_clusters() {
        // Keys whose homes are all in one place: at most PROBE_LIMIT of
        // them fit there.
        let mut s = Store::new(1024, 2);
        let mut t = s.t();
        t.set_host_limit(u16::MAX);
        let sh = t.shared();
        let mut same = Vec::new();
        let mut i = 0u32;
        while same.len() < PROBE_LIMIT + 5 {
            if sh.home(key_of(ext(i), 0x1000)) == 500 {
                same.push(ext(i));
            }
            i += 1;
        }
        let mut ok = 0;
        for (n, &a) in same.iter().enumerate() {
            match t.validate(1, a, 0x1000, LAN, yes) {
                Ok(true) => ok += 1,
                Err(SaError::TableFull) => assert!(n >= PROBE_LIMIT),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(ok, PROBE_LIMIT);
        for &a in &same[..PROBE_LIMIT] {
            assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
        }
        for &a in &same[PROBE_LIMIT..] {
            assert_eq!(sh.lookup(a, 0x1000), None);
        }
        invariants(&t);
    }

    #[test]
    fn tombstones_wait_for_grace_then_are_reused_or_emptied() {
        let mut s = Store::new(64, 2);
        let mut t = s.t();
        let sh = t.shared();
        // Three keys with the same home: a cluster of three.
        let mut same = Vec::new();
        let mut i = 0u32;
        while same.len() < 3 {
            if sh.home(key_of(ext(i), 0x1000)) == 10 {
                same.push(ext(i));
            }
            i += 1;
        }
        for &a in &same {
            t.validate(1, a, 0x1000, LAN, yes).unwrap();
        }
        let key = |i: usize| sh.buckets[i].key.load(Ordering::Relaxed);
        assert!((10..13).all(|i| is_live(key(i))));
        // Remove the middle one: a young tombstone, not reused before a
        // grace period.
        t.invalidate(1, same[1], 0x1000).unwrap();
        assert_eq!(key(11) as u32, TOMB_YOUNG);
        t.validate(1, same[1], 0x1000, LAN, yes).unwrap();
        assert!(is_live(key(13)), "went past the young tombstone");
        assert_eq!(key(11) as u32, TOMB_YOUNG);
        t.invalidate(1, same[1], 0x1000).unwrap();
        assert_eq!(key(13) as u32, TOMB_YOUNG);
        assert_eq!(t.stats().young_tombstones, 2);
        // A token taken before a removal does not cover it.
        let tok = t.start_grace().unwrap();
        t.invalidate(1, same[0], 0x1000).unwrap();
        assert_eq!(t.finish_grace(tok), 2);
        // 11 is crossed by the entry at 12 (home 10): reusable; 13 is at
        // the end of the cluster: empty; 10 is still young.
        assert_eq!(key(11), TOMB_REUSABLE);
        assert_eq!(key(13), EMPTY);
        assert_eq!(key(10) as u32, TOMB_YOUNG);
        let st = t.stats();
        assert_eq!(
            (st.entries, st.young_tombstones, st.reusable_tombstones),
            (1, 1, 1)
        );
        invariants(&t);
        // Reuse: a key with home 10 goes to the first free bucket, 11.
        t.validate(1, same[1], 0x1000, LAN, yes).unwrap();
        assert_eq!(key(11), key_of(same[1], 0x1000));
        assert_eq!(t.stats().reusable_tombstones, 0);
        invariants(&t);
        // Everything gone and graced: all empty.
        t.remove_host(1);
        grace(&mut t);
        assert!((0..64).all(|i| key(i) == EMPTY));
        invariants(&t);
        // A token from the future is clamped.
        t.validate(1, same[0], 0x1000, LAN, yes).unwrap();
        t.invalidate(1, same[0], 0x1000).unwrap();
        assert_eq!(t.finish_grace(SaGraceToken::from_raw(u64::MAX)), 0);
        let tok = t.start_grace().unwrap();
        assert_eq!(SaGraceToken::from_raw(tok.raw()), tok);
        assert_eq!(t.finish_grace(tok), 1);
        assert_eq!(t.start_grace(), None);
    }

    #[test]
    fn wrapping_clusters_are_swept_correctly() {
        // Keys with home at the last bucket wrap to the first ones.
        let mut s = Store::new(64, 1);
        let mut t = s.t();
        let sh = t.shared();
        let mut same = Vec::new();
        let mut i = 0u32;
        while same.len() < 4 {
            if sh.home(key_of(ext(i), 0x1000)) == 63 {
                same.push(ext(i));
            }
            i += 1;
        }
        for &a in &same {
            t.validate(1, a, 0x1000, LAN, yes).unwrap();
        }
        let key = |i: usize| sh.buckets[i].key.load(Ordering::Relaxed);
        // At 63, 0, 1, 2. Remove the ones at 63 and 1.
        t.invalidate(1, same[0], 0x1000).unwrap();
        t.invalidate(1, same[2], 0x1000).unwrap();
        grace(&mut t);
        assert_eq!(key(63), TOMB_REUSABLE, "crossed by the entries at 0 and 2");
        assert_eq!(key(1), TOMB_REUSABLE, "crossed by the entry at 2");
        invariants(&t);
        t.invalidate(1, same[3], 0x1000).unwrap();
        grace(&mut t);
        assert_eq!((key(1), key(2)), (EMPTY, EMPTY));
        assert_eq!(key(63), TOMB_REUSABLE, "crossed by the entry at 0");
        t.invalidate(1, same[1], 0x1000).unwrap();
        grace(&mut t);
        assert!((0..64).all(|i| key(i) == EMPTY));
        invariants(&t);
    }

    #[test]
    fn stamps_survive_epoch_wrap() {
        let mut s = Store::new(64, 1);
        s.st.epoch = (1 << 32) - 2;
        s.st.done = s.st.epoch - 1;
        let mut t = s.t();
        let sh = t.shared();
        for round in 0..6u32 {
            t.validate(1, ext(round), 0x1000, LAN, yes).unwrap();
            t.invalidate(1, ext(round), 0x1000).unwrap();
            let tok = t.start_grace().unwrap();
            // A removal after the token: its stamp (past the wrap) is young.
            t.validate(1, ext(100 + round), 0x1000, LAN, yes).unwrap();
            t.invalidate(1, ext(100 + round), 0x1000).unwrap();
            t.finish_grace(tok);
            assert_eq!(t.stats().young_tombstones, 1, "round {round}");
            let tok = t.start_grace().unwrap();
            t.finish_grace(tok);
            assert_eq!(t.stats().young_tombstones, 0);
            invariants(&t);
        }
        assert!(sh
            .buckets
            .iter()
            .all(|b| b.key.load(Ordering::Relaxed) == EMPTY));
        // Outstanding tokens are bounded.
        t.st.done = 0;
        t.st.epoch = MAX_OUTSTANDING;
        t.validate(1, ext(1), 0x1000, LAN, yes).unwrap();
        t.invalidate(1, ext(1), 0x1000).unwrap();
        assert_eq!(t.start_grace(), None);
        t.st.done = 1;
        assert!(t.start_grace().is_some());
    }

    #[test]
    fn esp_in_udp_gets_the_esp_checks() {
        let mut s = Store::new(64, 4);
        let mut t = s.t();
        let (peer, other) = (ext(3), ext(66));
        t.validate(1, peer, 0x1000, LAN, yes).unwrap();
        let sh = t.shared();
        let bl = Verdict::Drop(DropReason::Blacklisted);
        let nv = Verdict::Drop(DropReason::NotValidated);
        let so = Verdict::Drop(DropReason::NotSpiOwner);
        // The port's owner holds the SPI and validated the peer.
        assert_eq!(sh.check_in_udp(peer, 0x1000, 1, Some(1)), Verdict::Deliver);
        // Anybody else with the same SPI: not validated.
        assert_eq!(sh.check_in_udp(other, 0x1000, 1, Some(1)), nv);
        // The SPI is another host's, or nobody's: dropped even when the
        // pair is validated (for the SPI's owner), under either policy.
        assert_eq!(sh.check_in_udp(peer, 0x1000, 2, Some(1)), so);
        assert_eq!(sh.check_in_udp(peer, 0x1000, 1, None), so);
        assert!(so.drops(true));
        // The port owner's blacklist wins over the validation.
        assert_eq!(t.blacklist_add(1, Some(peer), None, LAN, yes), Ok(true));
        assert_eq!(sh.check_in_udp(peer, 0x1000, 1, Some(1)), bl);
        t.blacklist_remove(1, Some(peer), None).unwrap();
        assert_eq!(sh.check_in_udp(peer, 0x1000, 1, Some(1)), Verdict::Deliver);
    }

    #[test]
    fn blacklist_rules() {
        let mut s = Store::new(64, 4);
        let mut t = s.t();
        let (a, b) = (ext(66), ext(67));
        t.validate(1, a, 0x1000, LAN, yes).unwrap();
        t.validate(1, b, 0x1001, LAN, yes).unwrap();
        let sh = t.shared();
        assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
        let bl = Verdict::Drop(DropReason::Blacklisted);
        let nv = Verdict::Drop(DropReason::NotValidated);
        // Address only: every SPI from a.
        assert_eq!(t.blacklist_add(1, Some(a), None, LAN, yes), Ok(true));
        assert_eq!(t.blacklist_add(1, Some(a), None, LAN, yes), Ok(false));
        assert_eq!(sh.check(a, 0x1000, 1), bl);
        assert_eq!(sh.check(a, 0x5555, 1), bl);
        assert_eq!(sh.check(b, 0x1001, 1), Verdict::Deliver);
        // Only the owner's blacklist counts.
        assert_eq!(sh.check(a, 0x1000, 2), nv);
        // SPI only: every source with that SPI.
        assert_eq!(t.blacklist_add(1, None, Some(0x1001), LAN, yes), Ok(true));
        assert_eq!(sh.check(b, 0x1001, 1), bl);
        assert_eq!(sh.check(ext(9), 0x1001, 1), bl);
        assert_eq!(sh.check(b, 0x1002, 1), nv);
        // Both: exactly that pair.
        t.blacklist_remove(1, Some(a), None).unwrap();
        t.blacklist_remove(1, None, Some(0x1001)).unwrap();
        assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
        assert_eq!(
            t.blacklist_add(1, Some(a), Some(0x1000), LAN, yes),
            Ok(true)
        );
        assert_eq!(sh.check(a, 0x1000, 1), bl);
        assert_eq!(sh.check(a, 0x1001, 1), nv);
        assert_eq!(sh.check(b, 0x1001, 1), Verdict::Deliver);
        // Removal is exact.
        assert_eq!(t.blacklist_remove(1, Some(a), None), Err(SaError::NotFound));
        assert_eq!(
            t.blacklist_remove(2, Some(a), Some(0x1000)),
            Err(SaError::NotFound)
        );
        assert_eq!(t.blacklist_remove(1, Some(a), Some(0x1000)), Ok(()));
        assert_eq!(sh.check(a, 0x1000, 1), Verdict::Deliver);
        // Refusals.
        assert_eq!(
            t.blacklist_add(1, None, None, LAN, yes),
            Err(SaError::EmptyEntry)
        );
        assert_eq!(
            t.blacklist_add(1, None, Some(7), LAN, yes),
            Err(SaError::BadSpi)
        );
        assert_eq!(
            t.blacklist_add(1, Some(Ipv4Addr::new(10, 0, 0, 3)), None, LAN, yes),
            Err(SaError::BadAddress)
        );
        assert_eq!(
            t.blacklist_add(1, Some(a), Some(0x9000), LAN, |_, _| false),
            Err(SaError::NotOwned)
        );
        // No SPI: ownership is not asked.
        assert_eq!(
            t.blacklist_add(1, Some(a), None, LAN, |_, _| unreachable!()),
            Ok(true)
        );
        assert_eq!(
            t.blacklist_add(0, Some(a), None, LAN, yes),
            Err(SaError::BadSlot)
        );
        assert_eq!(t.blacklist_remove(9, Some(a), None), Err(SaError::BadSlot));
        // The per-host limit.
        for i in 1..BLACKLIST_PER_HOST as u32 {
            assert_eq!(
                t.blacklist_add(1, Some(ext(100 + i)), None, LAN, yes),
                Ok(true)
            );
        }
        assert_eq!(
            t.blacklist_add(1, Some(ext(99)), None, LAN, yes),
            Err(SaError::HostLimit)
        );
        assert_eq!(t.host_counts(1), (2, BLACKLIST_PER_HOST as u8));
        assert_eq!(t.blacklist_add(2, Some(ext(99)), None, LAN, yes), Ok(true));
        assert_eq!(t.stats().blacklist, BLACKLIST_PER_HOST as u32 + 1);
        // A removed entry's place is reused.
        t.blacklist_remove(1, Some(ext(105)), None).unwrap();
        assert_eq!(t.blacklist_add(1, Some(ext(99)), None, LAN, yes), Ok(true));
        assert!(sh.blacklisted(ext(99), 1, 1));
        assert!(!sh.blacklisted(ext(105), 0x1000, 1));
        assert!(!sh.blacklisted(ext(99), 0x1000, 0));
        invariants(&t);
    }

    #[test]
    fn remove_spis_host_and_clear() {
        let mut s = Store::new(256, 4);
        let mut t = s.t();
        for slot in 1..=3u16 {
            let base = u32::from(slot) * 0x1000;
            for i in 0..20u32 {
                t.validate(slot, ext(i), base + i, LAN, yes).unwrap();
            }
            t.blacklist_add(slot, Some(ext(200)), None, LAN, yes)
                .unwrap();
            t.blacklist_add(slot, None, Some(base + 5), LAN, yes)
                .unwrap();
            t.blacklist_add(slot, None, Some(base + 15), LAN, yes)
                .unwrap();
        }
        let sh = t.shared();
        // Slot 1 releases SPIs 0x1000..0x1009: 10 SAs and one SPI entry.
        assert_eq!(t.remove_spis(1, 0x1000, 10), 11);
        assert_eq!(t.host_counts(1), (10, 2));
        assert_eq!(sh.lookup(ext(3), 0x1003), None);
        assert_eq!(sh.lookup(ext(13), 0x100d), Some(1));
        // Another slot's entries in that range stay; a zero count is nothing.
        assert_eq!(t.remove_spis(2, 0x1000, 10), 0);
        assert_eq!(t.remove_spis(2, 0x2000, 0), 0);
        assert_eq!(t.remove_spis(9, 0x2000, 10), 0);
        assert_eq!(t.remove_spis(2, u32::MAX, 10), 0);
        assert_eq!(t.host_counts(2), (20, 3));
        // Revocation of slot 2: everything of it.
        assert_eq!(t.remove_host(2), 23);
        assert_eq!(t.host_counts(2), (0, 0));
        assert_eq!(
            sh.check(ext(1), 0x2001, 2),
            Verdict::Drop(DropReason::NotValidated)
        );
        assert_eq!(t.remove_host(2), 0);
        assert_eq!(t.remove_host(0), 0);
        invariants(&t);
        let st = t.stats();
        assert_eq!((st.entries, st.blacklist), (30, 5));
        assert_eq!(t.clear(), 35);
        assert_eq!(t.stats().entries, 0);
        assert_eq!(t.stats().blacklist, 0);
        assert_eq!(t.entries_from(SaCursor::START).count(), 0);
        invariants(&t);
        grace(&mut t);
        assert_eq!(
            t.stats().young_tombstones + t.stats().reusable_tombstones,
            0
        );
    }

    #[test]
    fn dumps_resume_from_cursors() {
        let mut s = Store::new(128, 8);
        let mut t = s.t();
        let mut want = Vec::new();
        for slot in 1..=6u16 {
            for i in 0..u32::from(slot) {
                let (a, spi) = (ext(i), u32::from(slot) * 0x100 + i);
                t.validate(slot, a, spi, LAN, yes).unwrap();
                want.push(SaEntry { addr: a, spi, slot });
            }
            if slot % 2 == 0 {
                for i in 0..3 {
                    t.blacklist_add(slot, Some(ext(50 + i)), None, LAN, yes)
                        .unwrap();
                }
            }
        }
        t.blacklist_remove(4, Some(ext(51)), None).unwrap();
        let all: Vec<_> = t.entries_from(SaCursor::START).map(|(_, e)| e).collect();
        let mut sorted = all.clone();
        sorted.sort_by_key(|e| (e.slot, e.spi));
        assert_eq!(sorted, want);
        // In parts of 4, resuming from the first that did not fit.
        let mut got = Vec::new();
        let mut cur = SaCursor::START;
        loop {
            let mut next = None;
            for (n, (c, e)) in t.entries_from(cur).enumerate() {
                if n == 4 {
                    next = Some(c);
                    break;
                }
                got.push(e);
            }
            match next {
                Some(c) => cur = SaCursor::from_raw(c.raw()),
                None => break,
            }
        }
        assert_eq!(got, all);
        let bl: Vec<_> = t.blacklist_from(SaCursor::START).collect();
        assert_eq!(bl.len(), 8);
        // In windows of 7 positions (the bound a lock holder puts on one
        // scan), which together list every entry once.
        let (mut sas, mut bls) = (Vec::new(), Vec::new());
        let end = t.entries_from(SaCursor::START).end();
        for w in (0..end).step_by(7) {
            for (c, e) in t.entries_from(SaCursor::from_raw(w)).until(w + 7) {
                assert!((w..w + 7).contains(&c.raw()));
                sas.push(e);
            }
        }
        assert_eq!(sas, all);
        let end = t.blacklist_from(SaCursor::START).end();
        for w in (0..end).step_by(7) {
            bls.extend(t.blacklist_from(SaCursor::from_raw(w)).until(w + 7));
        }
        assert_eq!(bls, bl);
        let (c, e) = bl[3];
        assert_eq!(
            e,
            BlacklistEntry {
                slot: 4,
                addr: Some(ext(50)),
                spi: None
            }
        );
        let rest: Vec<_> = t.blacklist_from(c).collect();
        assert_eq!(rest, bl[3..]);
        let h4: Vec<_> = t.host_blacklist(4).map(|(_, e)| e.addr).collect();
        assert_eq!(h4, [Some(ext(50)), Some(ext(52))]);
        assert_eq!(t.host_blacklist(0).count(), 0);
        assert_eq!(t.host_blacklist(9).count(), 0);
        let spi_only = t.blacklist_add(1, None, Some(0x100), LAN, yes);
        assert_eq!(spi_only, Ok(true));
        let h1: Vec<_> = t.host_blacklist(1).map(|(_, e)| e).collect();
        assert_eq!(
            h1,
            [BlacklistEntry {
                slot: 1,
                addr: None,
                spi: Some(0x100)
            }]
        );
    }

    #[test]
    fn layouts() {
        let b = |n: usize| (0..n).map(|_| SaBucket::default()).collect::<Vec<_>>();
        let l = |n: usize| (0..n).map(|_| BlacklistSlot::default()).collect::<Vec<_>>();
        for (nb, nh) in [(0, 1), (63, 1), (96, 1), (32, 1), (64, 0)] {
            assert_eq!(
                SaShared::new(&b(nb), &l(nh), SEED).unwrap_err(),
                SaError::BadLayout,
                "{nb} {nh}"
            );
        }
        let (bs, ls) = (b(64), l(3));
        let sh = SaShared::new(&bs, &ls, SEED).unwrap();
        assert_eq!(
            sh.layout(),
            SaLayout {
                buckets: 64,
                hosts: 3
            }
        );
        assert!(std::format!("{sh:?}").contains("SaShared"));
        let mut st = SaState::default();
        assert_eq!(st.host_limit(), DEFAULT_SAS_PER_HOST);
        let mut c = std::vec![0u16; 2];
        assert_eq!(
            SaTable::new(sh, &mut c, &mut st).unwrap_err(),
            SaError::BadLayout
        );
        let mut c = std::vec![0u16; 3];
        let mut t = SaTable::new(sh, &mut c, &mut st).unwrap();
        t.set_host_limit(0);
        assert_eq!(t.host_limit(), 1);
        assert_eq!(t.hosts(), 3);
    }

    #[test]
    fn verdict_policy_and_names() {
        let nv = Verdict::Drop(DropReason::NotValidated);
        let bl = Verdict::Drop(DropReason::Blacklisted);
        let so = Verdict::Drop(DropReason::NotSpiOwner);
        assert!(!Verdict::Deliver.drops(false) && !Verdict::Deliver.drops(true));
        assert!(nv.drops(false) && !nv.drops(true));
        assert!(bl.drops(false) && bl.drops(true));
        assert!(so.drops(false) && so.drops(true));
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(!r.name().is_empty());
        }
        assert!(is_external(ext(1), LAN));
        assert!(!is_external(Ipv4Addr::new(10, 0, 0, 9), LAN));
        assert!(is_external(Ipv4Addr::new(10, 0, 0, 9), None));
    }

    #[test]
    fn memory() {
        let l = SaLayout {
            buckets: 16384,
            hosts: 256,
        };
        std::println!("SA table bytes: {}", l.bytes());
        assert_eq!(core::mem::size_of::<SaBucket>(), 16);
        assert_eq!(core::mem::size_of::<BlacklistSlot>(), 136);
        assert_eq!(l.max_entries(), 8192);
        assert_eq!(l.bytes(), 16384 * 16 + 256 * 136 + 256 * 2 + 40);
        assert_eq!(core::mem::size_of::<SaState>(), 40);
    }

    /// Random operations against a simple model; `check()` must agree with
    /// the model for every address, SPI and owner of the small universe.
    #[test]
    fn mini_fuzz_against_model() {
        const HOSTS: u16 = 6;
        const ADDRS: u32 = 24;
        const SPIS: u32 = 24;
        const LIMIT: u16 = 12;
        let mut s = Store::new(64, usize::from(HOSTS));
        let mut t = s.t();
        t.set_host_limit(LIMIT);
        let mut rng = Rng(0x5eed);
        // Who owns which SPI (changes, as blocks are released and granted).
        let mut owner: Vec<u16> = (0..SPIS)
            .map(|i| (i % u32::from(HOSTS)) as u16 + 1)
            .collect();
        let mut sas: HashMap<(u32, u32), u16> = HashMap::new();
        // A blacklist entry of the model: address and SPI indexes, or any.
        type Entry = (Option<u32>, Option<u32>);
        let mut bls: HashMap<u16, Vec<Entry>> = HashMap::new();
        let spi_of = |i: u32| 0x1000 + i;
        let (mut full, mut applied) = (0, 0);
        for step in 0..40_000u32 {
            let ai = rng.below(u64::from(ADDRS)) as u32;
            let si = rng.below(u64::from(SPIS)) as u32;
            // Mostly the SPI's owner, sometimes another host.
            let slot = if rng.below(4) == 0 {
                1 + rng.below(u64::from(HOSTS)) as u16
            } else {
                owner[si as usize]
            };
            let (a, spi) = (ext(ai), spi_of(si));
            let owns = |s: Slot, spi: u32| owner[(spi - 0x1000) as usize] == s;
            match rng.below(12) {
                0..=3 => {
                    let r = t.validate(slot, a, spi, LAN, owns);
                    let mine = owner[si as usize] == slot;
                    let held = sas.values().filter(|&&v| v == slot).count();
                    match r {
                        Ok(new) => {
                            assert!(mine);
                            let old = sas.insert((ai, si), slot);
                            assert_eq!(new, old != Some(slot), "step {step}");
                            applied += 1;
                        }
                        Err(SaError::NotOwned) => assert!(!mine),
                        Err(SaError::HostLimit) => {
                            assert!(
                                mine && held >= usize::from(LIMIT)
                                    && sas.get(&(ai, si)) != Some(&slot)
                            )
                        }
                        Err(SaError::TableFull) => {
                            assert!(mine && !sas.contains_key(&(ai, si)));
                            full += 1;
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
                4 | 5 => {
                    let r = t.invalidate(slot, a, spi);
                    if sas.get(&(ai, si)) == Some(&slot) {
                        assert_eq!(r, Ok(()));
                        sas.remove(&(ai, si));
                    } else {
                        assert_eq!(r, Err(SaError::NotFound));
                    }
                }
                6 => {
                    let addr = (rng.below(3) != 0).then_some(ai);
                    let sp = (rng.below(3) != 0).then_some(si);
                    let r = t.blacklist_add(slot, addr.map(ext), sp.map(spi_of), LAN, owns);
                    let list = bls.entry(slot).or_default();
                    match r {
                        Ok(new) => {
                            assert_eq!(new, !list.contains(&(addr, sp)));
                            if new {
                                list.push((addr, sp));
                            }
                        }
                        Err(SaError::EmptyEntry) => assert!(addr.is_none() && sp.is_none()),
                        Err(SaError::NotOwned) => {
                            assert!(sp.is_some_and(|x| owner[x as usize] != slot))
                        }
                        Err(SaError::HostLimit) => assert_eq!(list.len(), BLACKLIST_PER_HOST),
                        Err(e) => panic!("{e:?}"),
                    }
                }
                7 => {
                    let list = bls.entry(slot).or_default();
                    let pick = if list.is_empty() || rng.below(4) == 0 {
                        (Some(ai), None)
                    } else {
                        list[rng.below(list.len() as u64) as usize]
                    };
                    let r = t.blacklist_remove(slot, pick.0.map(ext), pick.1.map(spi_of));
                    match list.iter().position(|&e| e == pick) {
                        Some(p) => {
                            assert_eq!(r, Ok(()));
                            list.swap_remove(p);
                        }
                        None => assert_eq!(r, Err(SaError::NotFound)),
                    }
                }
                8 => {
                    // A block of 4 SPIs changes hands (released, granted to
                    // another host): the old owner's state for it goes.
                    let lo = si & !3;
                    let old = owner[lo as usize];
                    t.remove_spis(old, spi_of(lo), 4);
                    sas.retain(|&(_, s), &mut v| !(v == old && (lo..lo + 4).contains(&s)));
                    bls.entry(old)
                        .or_default()
                        .retain(|e| !e.1.is_some_and(|s| (lo..lo + 4).contains(&s)));
                    for o in &mut owner[lo as usize..lo as usize + 4] {
                        *o = slot;
                    }
                }
                9 => {
                    if rng.below(20) == 0 {
                        t.remove_host(slot);
                        sas.retain(|_, v| *v != slot);
                        bls.remove(&slot);
                    }
                }
                10 => {
                    if rng.below(200) == 0 {
                        t.clear();
                        sas.clear();
                        bls.clear();
                    }
                }
                _ => grace(&mut t),
            }
            if step % 97 == 0 {
                invariants(&t);
                let sh = t.shared();
                for ai in 0..ADDRS {
                    for si in 0..SPIS {
                        for o in 1..=HOSTS {
                            let blacklisted = bls.get(&o).is_some_and(|l| {
                                l.iter().any(|&(ea, es)| {
                                    ea.is_none_or(|x| x == ai) && es.is_none_or(|x| x == si)
                                })
                            });
                            let want = if blacklisted {
                                Verdict::Drop(DropReason::Blacklisted)
                            } else if sas.get(&(ai, si)) == Some(&o) {
                                Verdict::Deliver
                            } else {
                                Verdict::Drop(DropReason::NotValidated)
                            };
                            assert_eq!(sh.check(ext(ai), spi_of(si), o), want, "step {step}");
                        }
                    }
                }
            }
        }
        std::println!("applied {applied}, table full {full}");
        assert!(applied > 5000 && full > 10, "{applied} {full}");
    }

    /// Readers on other threads (each check inside a read-side section of
    /// a `RwLock` standing in for RCU) never see a torn or wrong entry:
    /// stable entries are always found, churning entries only ever with
    /// their own slot, absent ones never; the writer reuses buckets
    /// constantly.
    #[test]
    fn concurrent_readers_never_see_wrong_entries() {
        use std::sync::atomic::AtomicBool;
        use std::sync::RwLock;
        let mut s = Store::new(256, 8);
        let slot_for = |i: u32| (i % 8) as u16 + 1;
        let stable = |i: u32| (ext(1000 + i), 0x1000 + i);
        let churn = |i: u32| (ext(i % 40), 0x2000 + i % 7);
        let never = |i: u32| (ext(5000 + i), 0x3000 + i);
        {
            let mut t = s.t();
            t.set_host_limit(u16::MAX);
            for i in 0..40 {
                let (a, spi) = stable(i);
                t.validate(slot_for(i), a, spi, LAN, yes).unwrap();
            }
            t.blacklist_add(3, Some(ext(7777)), None, LAN, yes).unwrap();
        }
        let rcu = RwLock::new(());
        let stop = AtomicBool::new(false);
        let Store {
            buckets,
            bl,
            mut counts,
            mut st,
        } = s;
        std::thread::scope(|sc| {
            let mut readers = Vec::new();
            for r in 0..3u64 {
                let (buckets, bl, rcu, stop) = (&buckets, &bl, &rcu, &stop);
                readers.push(sc.spawn(move || {
                    let sh = SaShared::new(buckets, bl, SEED).unwrap();
                    WIDEN.with(|w| w.set(true));
                    let mut rng = Rng(r + 11);
                    let (mut checks, mut hits) = (0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        let _g = rcu.read().unwrap();
                        for _ in 0..64 {
                            let i = rng.next() as u32;
                            let o = 1 + (rng.below(8) as u16);
                            let (a, spi) = stable(i % 40);
                            let want = if slot_for(i % 40) == o {
                                Verdict::Deliver
                            } else {
                                Verdict::Drop(DropReason::NotValidated)
                            };
                            assert_eq!(sh.check(a, spi, o), want);
                            let (a, spi) = churn(i);
                            if let Some(got) = sh.lookup(a, spi) {
                                assert_eq!(got, slot_for(i % 40), "torn entry");
                                hits += 1;
                            }
                            let (a, spi) = never(i % 1000);
                            assert_eq!(sh.lookup(a, spi), None);
                            assert!(sh.blacklisted(ext(7777), spi, 3));
                            assert!(!sh.blacklisted(a, spi, 3));
                            checks += 4;
                        }
                    }
                    (checks, hits)
                }));
            }
            /// Stops the readers however the writer ends (a failed
            /// assertion must not leave them spinning).
            struct StopOnDrop<'s>(&'s AtomicBool);
            impl Drop for StopOnDrop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            let stopper = StopOnDrop(&stop);
            let sh = SaShared::new(&buckets, &bl, SEED).unwrap();
            let mut t = SaTable::new(sh, &mut counts, &mut st).unwrap();
            let mut rng = Rng(77);
            for step in 0..200_000u32 {
                let i = rng.next() as u32;
                let (a, spi) = churn(i);
                match rng.below(8) {
                    0..=2 => {
                        let _ = t.validate(slot_for(i % 40), a, spi, LAN, yes);
                    }
                    3..=5 => {
                        let _ = t.invalidate(slot_for(i % 40), a, spi);
                    }
                    6 => {
                        let o = slot_for(i % 40);
                        t.remove_spis(o, 0x2000, 7);
                    }
                    _ => {
                        if let Some(tok) = t.start_grace() {
                            // synchronize_rcu(): every reader that might
                            // have seen the removed keys has finished.
                            drop(rcu.write().unwrap());
                            t.finish_grace(tok);
                        }
                    }
                }
                if step % 20_000 == 0 {
                    invariants(&t);
                }
            }
            drop(stopper);
            let (mut checks, mut hits) = (0, 0);
            for r in readers {
                let (c, h) = r.join().unwrap();
                checks += c;
                hits += h;
            }
            std::println!("checks {checks}, churn hits {hits}");
            assert!(checks > 10_000 && hits > 100, "{checks} {hits}");
            invariants(&t);
        });
    }
}
