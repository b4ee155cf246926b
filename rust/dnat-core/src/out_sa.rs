// SPDX-License-Identifier: GPL-2.0

//! The router's table of hosts' outbound SAs: `(peer, SPI, ESP or AH) ->
//! host slot`, learnt from the ESP and AH that hosts send, so that an ICMP
//! error quoting one of them ([`InKey::QuotedSa`]) reaches its sender.
//!
//! Not the established-SA table (`sa_table.rs`): that one is keyed by the
//! host's *inbound* SPI, from the host's block, while an error quotes an
//! *outbound* SPI, which the peer chose and nobody tells the router; the
//! peer's address alone names no host when several hosts talk to one peer,
//! and that table has no lookup by address. So the router learns each
//! host's outbound SAs from their packets.
//!
//! Set-associative (an SA may live in two sets of [`WAYS`] buckets, chosen
//! by SipHash-1-3 under a secret seed), bounded, O(1), lock-free for
//! readers and for writers on the packet path (CAS, no allocation); entries
//! idle for longer than a timeout are ignored at once and swept by
//! [`OutSaShared::expire`]. Design, concurrency argument, sizes and costs:
//! Documentation/networking/dnat.rst, section "ICMP".
//!
//! [`InKey::QuotedSa`]: super::classify::InKey::QuotedSa

use core::net::Ipv4Addr;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

use super::alloc_table::{Slot, MAX_HOSTS};
use super::classify::SaKey;
use super::config::{is_unicast, SPI_FIRST_ALLOCATABLE};
use super::ipv4::proto;
use super::siphash::siphash13_word;

/// Buckets per set: 8 buckets of 16 bytes, two cache lines.
pub const WAYS: usize = 8;
/// Fewest buckets a table may have.
pub const MIN_BUCKETS: usize = 64;
/// Most buckets a table may have (2^20, 16 MiB).
pub const MAX_BUCKETS: usize = 1 << 20;
/// Buckets for a router: as many as the established-SA table's, 256 KiB.
pub const DEFAULT_BUCKETS: usize = 16_384;
/// Seconds an entry lives without a packet of its SA: an error comes
/// within a round trip of the packet it quotes, so this is generous.
pub const DEFAULT_IDLE: u32 = 120;
/// Entries a host may have, as its established SAs.
pub const DEFAULT_PER_HOST: u32 = 256;

/// Tag of an empty bucket.
const EMPTY: u32 = 0;
/// Tag of a bucket an insert has taken and not yet published (slot 0, so
/// never live).
const RESERVED: u32 = 0xffff_0000;
/// Tag bits: the slot.
const SLOT_MASK: u32 = 0xffff;
/// Tag bit: the SA is AH (else ESP).
const AH_BIT: u32 = 1 << 16;
/// Tag bits: a 15-bit fingerprint of the key, so that a scan compares
/// keys only where it is likely to match.
const FP_SHIFT: u32 = 17;

/// Why a table could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutSaError {
    /// Storage slices of the wrong length, or settings out of range.
    BadLayout,
}

/// Lengths of the storage slices, and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSaLayout {
    /// Buckets: a power of two, [`MIN_BUCKETS`] to [`MAX_BUCKETS`].
    pub buckets: usize,
    /// Host slots, as in the allocation table's `Layout`.
    pub hosts: usize,
}

impl OutSaLayout {
    /// Bucket slice length.
    pub const fn buckets_len(&self) -> usize {
        self.buckets
    }
    /// Per-host count slice length (slot `s` at `s - 1`).
    pub const fn counts_len(&self) -> usize {
        self.hosts
    }
    /// Bytes of everything: 16 per bucket, 4 per host slot.
    pub const fn bytes(&self) -> usize {
        self.buckets * core::mem::size_of::<OutSaBucket>()
            + self.hosts * core::mem::size_of::<AtomicU32>()
    }
    const fn valid(&self) -> bool {
        self.buckets.is_power_of_two()
            && self.buckets >= MIN_BUCKETS
            && self.buckets <= MAX_BUCKETS
            && self.hosts >= 1
            && self.hosts <= MAX_HOSTS
    }
}

/// Settings of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSaSettings {
    /// The secret seed of the bucket hash: drawn at random when the
    /// storage is created, the same for every view of it.
    pub seed: [u64; 2],
    /// Seconds without a packet after which an entry is gone (1 or more).
    pub idle: u32,
    /// Entries a host may have (1 to 65,535).
    pub per_host: u32,
}

impl OutSaSettings {
    /// [`DEFAULT_IDLE`] and [`DEFAULT_PER_HOST`] with `seed`.
    pub const fn with_seed(seed: [u64; 2]) -> Self {
        Self {
            seed,
            idle: DEFAULT_IDLE,
            per_host: DEFAULT_PER_HOST,
        }
    }
}

/// One bucket (fields private): the tag (fingerprint, AH bit, slot), the
/// last use in seconds and the key `peer << 32 | SPI`.
#[derive(Debug, Default)]
pub struct OutSaBucket {
    tag: AtomicU32,
    last: AtomicU32,
    key: AtomicU64,
}

/// What [`OutSaShared::learn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Learnt {
    /// The entry was the host's already; its last use is now.
    Refreshed,
    /// A new entry (in an empty bucket or one whose entry had idled out).
    Added,
    /// A live entry names another host: the first sender keeps the SA
    /// until it idles out, so that a host cannot take another's errors
    /// by sending one forged packet.
    Conflict,
    /// The host has its [`OutSaSettings::per_host`] entries.
    HostLimit,
    /// Every bucket of both sets holds a live entry (or was taken by a
    /// concurrent insert).
    Full,
    /// Not an SA of a host: a slot outside `1..=hosts`, an SPI below 256,
    /// a peer that is not unicast, a protocol other than ESP and AH.
    Invalid,
}

/// An entry, as dumps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSaEntry {
    /// The SA.
    pub sa: SaKey,
    /// The host's slot.
    pub slot: Slot,
    /// Last use, seconds on the caller's clock.
    pub last_use: u32,
}

/// `now - then` in seconds; 0 when `then` is ahead (another CPU stored a
/// later `now`).
const fn age(now: u32, then: u32) -> u32 {
    let a = now.wrapping_sub(then);
    if a > i32::MAX as u32 {
        0
    } else {
        a
    }
}

const fn is_live(tag: u32) -> bool {
    tag & SLOT_MASK != 0
}

const fn key_of(sa: &SaKey) -> u64 {
    (u32::from_be_bytes(sa.peer.octets()) as u64) << 32 | sa.spi as u64
}

/// Where an SA may live: the first buckets of its two sets (equal when
/// both hashes pick one set), and its tag without the slot.
#[derive(Clone, Copy)]
struct Place {
    sets: [usize; 2],
    tag: u32,
    key: u64,
}

/// The table, on caller-provided storage: every operation is lock-free
/// (see the documentation), so the packet path and the writer share this
/// one view. Cheap to copy.
#[derive(Clone, Copy)]
pub struct OutSaShared<'a> {
    buckets: &'a [OutSaBucket],
    counts: &'a [AtomicU32],
    settings: OutSaSettings,
    sets_mask: usize,
}

impl core::fmt::Debug for OutSaShared<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OutSaShared")
            .field("buckets", &self.buckets.len())
            .field("hosts", &self.counts.len())
            .finish_non_exhaustive()
    }
}

/// Iterator over the entries, in bucket order, with their cursors (a
/// bucket index): resume a dump from the cursor of the first entry that
/// did not fit. Entries changed during a dump may be skipped or repeated.
#[derive(Debug, Clone)]
pub struct OutSaEntries<'t> {
    table: OutSaShared<'t>,
    pos: usize,
    end: usize,
}

impl OutSaEntries<'_> {
    /// Stops the scan before bucket `end`, so that a caller holding a lock
    /// bounds the work done under it.
    pub fn until(mut self, end: u32) -> Self {
        self.end = self.end.min(end as usize);
        self
    }
}

impl Iterator for OutSaEntries<'_> {
    type Item = (u32, OutSaEntry);

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.end {
            let i = self.pos;
            self.pos += 1;
            if let Some(e) = self.table.entry_at(i) {
                return Some((u32::try_from(i).unwrap_or(u32::MAX), e));
            }
        }
        None
    }
}

impl<'a> OutSaShared<'a> {
    /// Views caller-provided storage (all of it created `Default`) with
    /// the lengths of an [`OutSaLayout`] (the hosts are `counts.len()`).
    pub fn new(
        buckets: &'a [OutSaBucket],
        counts: &'a [AtomicU32],
        settings: OutSaSettings,
    ) -> Result<Self, OutSaError> {
        let l = OutSaLayout {
            buckets: buckets.len(),
            hosts: counts.len(),
        };
        if !l.valid()
            || settings.idle == 0
            || !(1..=u32::from(u16::MAX)).contains(&settings.per_host)
        {
            return Err(OutSaError::BadLayout);
        }
        Ok(Self {
            buckets,
            counts,
            settings,
            sets_mask: buckets.len() / WAYS - 1,
        })
    }

    /// The layout of the storage.
    pub fn layout(&self) -> OutSaLayout {
        OutSaLayout {
            buckets: self.buckets.len(),
            hosts: self.counts.len(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> OutSaSettings {
        self.settings
    }

    #[inline]
    fn place(&self, sa: &SaKey) -> Place {
        let [k0, k1] = self.settings.seed;
        let key = key_of(sa);
        let h = siphash13_word([k0, k1 ^ u64::from(sa.proto)], key);
        let ah = if sa.proto == proto::AH { AH_BIT } else { 0 };
        Place {
            sets: [
                (h as usize & self.sets_mask) * WAYS,
                ((h >> 24) as usize & self.sets_mask) * WAYS,
            ],
            tag: ((h >> 49) as u32) << FP_SHIFT | ah,
            key,
        }
    }

    /// The buckets of the SA's sets, the first set's then the second's
    /// (once if they are one), each with the number of its set (0 or 1).
    fn buckets_of(&self, p: &Place) -> impl Iterator<Item = (usize, &'a OutSaBucket)> + 'a {
        let [a, b] = p.sets;
        let second = if a == b { 0 } else { WAYS };
        let first = self.buckets.get(a..a + WAYS).unwrap_or(&[]);
        let other = self.buckets.get(b..b + second).unwrap_or(&[]);
        first
            .iter()
            .map(|x| (0, x))
            .chain(other.iter().map(|x| (1, x)))
    }

    fn count(&self, slot: Slot) -> Option<&AtomicU32> {
        usize::from(slot)
            .checked_sub(1)
            .and_then(|i| self.counts.get(i))
    }

    fn expired(&self, b: &OutSaBucket, now: u32) -> bool {
        age(now, b.last.load(Ordering::Relaxed)) > self.settings.idle
    }

    /// Whether bucket `b`, whose tag was `tag` (acquire-loaded), holds
    /// `key`: its key matches and the tag did not change meanwhile (so the
    /// key was the one published with that tag).
    #[inline]
    fn holds(b: &OutSaBucket, tag: u32, key: u64) -> bool {
        let k = b.key.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        k == key && b.tag.load(Ordering::Relaxed) == tag
    }

    /// The host that sent `sa` and still sends it (not idle for longer
    /// than the timeout at `now`). Lock-free: a hash and at most two sets
    /// of [`WAYS`] buckets; it changes nothing (an error does not keep an
    /// entry alive).
    #[inline]
    pub fn lookup(&self, sa: &SaKey, now: u32) -> Option<Slot> {
        if sa.proto != proto::ESP && sa.proto != proto::AH {
            return None;
        }
        let p = self.place(sa);
        self.buckets_of(&p).find_map(|(_, b)| {
            let t = b.tag.load(Ordering::Acquire);
            let hit = is_live(t)
                && t & !SLOT_MASK == p.tag
                && Self::holds(b, t, p.key)
                && !self.expired(b, now);
            hit.then_some((t & SLOT_MASK) as Slot)
        })
    }

    /// Records that the host in `slot` sends `sa` at `now`: call it for
    /// each outbound ESP/AH packet the router forwards for that host (the
    /// SA from `classify::outbound_sa`). Lock-free, for the packet path: a
    /// hash and at most two sets of [`WAYS`] buckets; an entry already
    /// there costs one store a second (its last use), a new one a CAS and
    /// three stores. A new entry goes to the set with more empty buckets.
    pub fn learn(&self, sa: &SaKey, slot: Slot, now: u32) -> Learnt {
        let valid = (sa.proto == proto::ESP || sa.proto == proto::AH)
            && sa.spi >= SPI_FIRST_ALLOCATABLE
            && is_unicast(sa.peer)
            && slot != 0;
        let Some(count) = self.count(slot).filter(|_| valid) else {
            return Learnt::Invalid;
        };
        let p = self.place(sa);
        // The entry of this SA if there is one; else where a new one may
        // go: the same SA's idle entry of another host, an empty bucket of
        // the set with more of them, or an idle entry, in that order.
        let mut same: Option<(&OutSaBucket, u32)> = None;
        let mut empty: [Option<&OutSaBucket>; 2] = [None, None];
        let mut empties = [0u32; 2];
        let mut idle: Option<(&OutSaBucket, u32)> = None;
        for (which, b) in self.buckets_of(&p) {
            let t = b.tag.load(Ordering::Acquire);
            if t == EMPTY {
                if let (Some(e), Some(n)) = (empty.get_mut(which), empties.get_mut(which)) {
                    *e = e.or(Some(b));
                    *n += 1;
                }
                continue;
            }
            if !is_live(t) {
                continue;
            }
            let expired = self.expired(b, now);
            if t & !SLOT_MASK == p.tag && Self::holds(b, t, p.key) {
                if t & SLOT_MASK == u32::from(slot) {
                    if b.last.load(Ordering::Relaxed) != now {
                        b.last.store(now, Ordering::Relaxed);
                    }
                    return Learnt::Refreshed;
                }
                if !expired {
                    return Learnt::Conflict;
                }
                same = same.or(Some((b, t)));
            } else if expired {
                idle = idle.or(Some((b, t)));
            }
        }
        if count.fetch_add(1, Ordering::Relaxed) >= self.settings.per_host {
            count.fetch_sub(1, Ordering::Relaxed);
            return Learnt::HostLimit;
        }
        let [ea, eb] = empty;
        let (e1, e2) = if empties[1] > empties[0] {
            (eb, ea)
        } else {
            (ea, eb)
        };
        let candidates = [same, e1.map(|b| (b, EMPTY)), e2.map(|b| (b, EMPTY)), idle];
        for (b, old) in candidates.into_iter().flatten() {
            if b.tag
                .compare_exchange(old, RESERVED, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            if old != EMPTY {
                // An idle entry taken over: unless its host sent again
                // since the scan, its host loses it.
                if !self.expired(b, now) {
                    b.tag.store(old, Ordering::Release);
                    continue;
                }
                if let Some(c) = self.count((old & SLOT_MASK) as Slot) {
                    c.fetch_sub(1, Ordering::Relaxed);
                }
            }
            // Readers that load the new key must see the bucket reserved
            // when they load the tag again (see `holds`).
            fence(Ordering::Release);
            b.last.store(now, Ordering::Relaxed);
            b.key.store(p.key, Ordering::Relaxed);
            b.tag.store(p.tag | u32::from(slot), Ordering::Release);
            return Learnt::Added;
        }
        count.fetch_sub(1, Ordering::Relaxed);
        Learnt::Full
    }

    /// Removes the entry in bucket `b` if its tag is still `tag`.
    fn remove_at(&self, b: &OutSaBucket, tag: u32) -> bool {
        if b.tag
            .compare_exchange(tag, EMPTY, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        if let Some(c) = self.count((tag & SLOT_MASK) as Slot) {
            c.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    /// Removes every live entry for which `pred(slot, bucket)` holds;
    /// returns how many. One pass over the buckets.
    fn remove_where(&self, pred: impl Fn(Slot, &OutSaBucket) -> bool) -> usize {
        let mut n = 0;
        for b in self.buckets {
            let t = b.tag.load(Ordering::Acquire);
            if is_live(t) && pred((t & SLOT_MASK) as Slot, b) && self.remove_at(b, t) {
                n += 1;
            }
        }
        n
    }

    /// Removes the entries of the host in `slot`: call it wherever the
    /// router removes the host's established SAs (revocation, no block
    /// left, reset) and when the slot goes to a new host. O(buckets), or
    /// O(1) when the host has no entry. Returns how many went.
    pub fn remove_host(&self, slot: Slot) -> usize {
        if self.host_entries(slot) == 0 {
            return 0;
        }
        self.remove_where(|s, _| s == slot)
    }

    /// Removes the entries idle for longer than the timeout at `now`, and
    /// those whose host `keep` refuses (a slot without a host, or revoked);
    /// their counts go down. Call it from the periodic work. O(buckets).
    pub fn expire(&self, now: u32, keep: impl Fn(Slot) -> bool) -> usize {
        self.remove_where(|s, b| self.expired(b, now) || !keep(s))
    }

    /// Removes every entry (router reset). O(buckets).
    pub fn clear(&self) -> usize {
        self.remove_where(|_, _| true)
    }

    /// Entries of the host in `slot`.
    pub fn host_entries(&self, slot: Slot) -> u32 {
        self.count(slot).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Entries of all hosts (O(hosts)).
    pub fn entries(&self) -> usize {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed) as usize)
            .sum()
    }

    /// The live entry of bucket `i` (idle ones included), if its key is
    /// the one its tag was made for.
    fn entry_at(&self, i: usize) -> Option<OutSaEntry> {
        let b = self.buckets.get(i)?;
        let t = b.tag.load(Ordering::Acquire);
        if !is_live(t) {
            return None;
        }
        let k = b.key.load(Ordering::Relaxed);
        let last_use = b.last.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if b.tag.load(Ordering::Relaxed) != t {
            return None;
        }
        let sa = SaKey {
            peer: Ipv4Addr::from((k >> 32) as u32),
            spi: k as u32,
            proto: if t & AH_BIT != 0 {
                proto::AH
            } else {
                proto::ESP
            },
        };
        let p = self.place(&sa);
        (p.sets.contains(&(i / WAYS * WAYS)) && p.tag == t & !SLOT_MASK).then_some(OutSaEntry {
            sa,
            slot: (t & SLOT_MASK) as Slot,
            last_use,
        })
    }

    /// The entries from bucket `cursor` on, each with its bucket index.
    pub fn entries_from(&self, cursor: u32) -> OutSaEntries<'a> {
        OutSaEntries {
            table: *self,
            pos: cursor as usize,
            end: self.buckets.len(),
        }
    }
}

#[cfg(test)]
#[path = "out_sa/tests.rs"]
mod tests;
