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
mod tests {
    use super::*;
    use crate::store::OutSaStore;
    use std::collections::{HashMap, HashSet};
    use std::vec::Vec;

    const SEED: [u64; 2] = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];

    fn sa(peer: u8, spi: u32) -> SaKey {
        SaKey {
            peer: Ipv4Addr::new(198, 51, 100, peer),
            spi,
            proto: proto::ESP,
        }
    }

    fn store(buckets: usize, hosts: usize, per_host: u32) -> OutSaStore {
        OutSaStore::new(
            OutSaLayout { buckets, hosts },
            OutSaSettings {
                seed: SEED,
                idle: 120,
                per_host,
            },
        )
    }

    /// Per-host counts equal the live entries a dump shows, and every
    /// dumped entry lies in its own set with its own tag.
    fn check(t: &OutSaShared<'_>) -> Vec<OutSaEntry> {
        let all: Vec<OutSaEntry> = t.entries_from(0).map(|(_, e)| e).collect();
        let mut per = HashMap::new();
        for e in &all {
            *per.entry(e.slot).or_insert(0u32) += 1;
        }
        for s in 1..=t.layout().hosts as Slot {
            assert_eq!(
                t.host_entries(s),
                per.get(&s).copied().unwrap_or(0),
                "slot {s}"
            );
        }
        assert_eq!(t.entries(), all.len());
        all
    }

    #[test]
    fn layout_and_memory() {
        let l = OutSaLayout {
            buckets: DEFAULT_BUCKETS,
            hosts: 256,
        };
        assert_eq!(core::mem::size_of::<OutSaBucket>(), 16);
        assert_eq!(l.bytes(), 16_384 * 16 + 256 * 4);
        let s = store(64, 4, 8);
        let ok = OutSaSettings::with_seed(SEED);
        assert!(OutSaShared::new(&s.buckets, &s.counts, ok).is_ok());
        assert!(OutSaShared::new(&s.buckets[..63], &s.counts, ok).is_err());
        assert!(OutSaShared::new(&s.buckets[..32], &s.counts, ok).is_err());
        assert!(OutSaShared::new(&s.buckets, &s.counts[..0], ok).is_err());
        for bad in [
            OutSaSettings { idle: 0, ..ok },
            OutSaSettings { per_host: 0, ..ok },
            OutSaSettings {
                per_host: 65_536,
                ..ok
            },
        ] {
            assert_eq!(
                OutSaShared::new(&s.buckets, &s.counts, bad).unwrap_err(),
                OutSaError::BadLayout
            );
        }
        assert_eq!(ok.idle, DEFAULT_IDLE);
        assert_eq!(ok.per_host, DEFAULT_PER_HOST);
    }

    #[test]
    fn learn_lookup_refresh_and_idle() {
        let s = store(1024, 4, 8);
        let t = s.shared();
        let a = sa(7, 0x1234_5678);
        assert_eq!(t.lookup(&a, 100), None);
        assert_eq!(t.learn(&a, 1, 100), Learnt::Added);
        assert_eq!(t.lookup(&a, 100), Some(1));
        assert_eq!(t.learn(&a, 1, 150), Learnt::Refreshed);
        // Idle for exactly the timeout: still there; one second more: gone.
        assert_eq!(t.lookup(&a, 270), Some(1));
        assert_eq!(t.lookup(&a, 271), None);
        // A lookup does not keep it alive; a packet does.
        assert_eq!(t.learn(&a, 1, 260), Learnt::Refreshed);
        assert_eq!(t.lookup(&a, 380), Some(1));
        // Another SPI, peer or protocol is another SA.
        assert_eq!(t.lookup(&sa(7, 0x1234_5679), 260), None);
        assert_eq!(t.lookup(&sa(8, 0x1234_5678), 260), None);
        let ah = SaKey {
            proto: proto::AH,
            ..a
        };
        assert_eq!(t.lookup(&ah, 260), None);
        assert_eq!(t.learn(&ah, 2, 260), Learnt::Added);
        assert_eq!(t.lookup(&ah, 260), Some(2));
        assert_eq!(t.lookup(&a, 260), Some(1));
        let udp = SaKey {
            proto: proto::UDP,
            ..a
        };
        assert_eq!(t.lookup(&udp, 260), None);
        // A clock that another CPU moved ahead counts as no age.
        assert_eq!(t.lookup(&a, 250), Some(1));
        let all = check(&t);
        assert_eq!(all.len(), 2);
        assert!(all.contains(&OutSaEntry {
            sa: a,
            slot: 1,
            last_use: 260
        }));
    }

    #[test]
    fn first_sender_keeps_the_sa_until_idle() {
        let s = store(1024, 4, 8);
        let t = s.shared();
        let a = sa(9, 0x4000);
        assert_eq!(t.learn(&a, 1, 10), Learnt::Added);
        assert_eq!(t.learn(&a, 2, 20), Learnt::Conflict);
        assert_eq!(t.lookup(&a, 20), Some(1));
        assert_eq!(t.learn(&a, 2, 130), Learnt::Conflict);
        // Host 1 stopped sending at 10: at 131 host 2 takes it over.
        assert_eq!(t.learn(&a, 2, 131), Learnt::Added);
        assert_eq!(t.lookup(&a, 131), Some(2));
        assert_eq!((t.host_entries(1), t.host_entries(2)), (0, 1));
        assert_eq!(t.learn(&a, 1, 132), Learnt::Conflict);
        check(&t);
    }

    #[test]
    fn invalid_sas() {
        let s = store(64, 4, 8);
        let t = s.shared();
        let a = sa(1, 0x1000);
        assert_eq!(t.learn(&a, 0, 1), Learnt::Invalid);
        assert_eq!(t.learn(&a, 5, 1), Learnt::Invalid);
        assert_eq!(t.learn(&sa(1, 255), 1, 1), Learnt::Invalid);
        assert_eq!(t.learn(&sa(1, 0), 1, 1), Learnt::Invalid);
        assert_eq!(t.learn(&sa(1, 256), 1, 1), Learnt::Added);
        for peer in [
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(224, 0, 0, 5),
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(240, 1, 2, 3),
        ] {
            assert_eq!(t.learn(&SaKey { peer, ..a }, 1, 1), Learnt::Invalid);
        }
        for p in [proto::UDP, proto::TCP, proto::ICMP, 0] {
            assert_eq!(t.learn(&SaKey { proto: p, ..a }, 1, 1), Learnt::Invalid);
            assert_eq!(t.lookup(&SaKey { proto: p, ..a }, 1), None);
        }
        assert_eq!(check(&t).len(), 1);
    }

    #[test]
    fn host_limit_and_full_sets() {
        let s = store(1024, 4, 3);
        let t = s.shared();
        for i in 0..3 {
            assert_eq!(t.learn(&sa(1, 0x1000 + i), 1, 5), Learnt::Added);
        }
        assert_eq!(t.learn(&sa(1, 0x2000), 1, 5), Learnt::HostLimit);
        assert_eq!(t.learn(&sa(1, 0x1001), 1, 6), Learnt::Refreshed);
        assert_eq!(t.learn(&sa(1, 0x2000), 2, 5), Learnt::Added);
        assert_eq!(t.host_entries(1), 3);
        check(&t);
        // 64 buckets: 8 sets of 8. Fill until both sets of an SA are full.
        let s = store(64, 2, 1000);
        let t = s.shared();
        let mut full = 0;
        for i in 0..200u32 {
            let x = sa(2, 0x1_0000 + i);
            match t.learn(&x, 1, 50) {
                Learnt::Added => assert_eq!(t.lookup(&x, 50), Some(1)),
                Learnt::Full => {
                    full += 1;
                    for set in t.place(&x).sets {
                        let end = (set + WAYS) as u32;
                        let live = t.entries_from(set as u32).until(end).count();
                        assert_eq!(live, WAYS);
                    }
                    assert_eq!(t.lookup(&x, 50), None);
                }
                r => panic!("{r:?}"),
            }
        }
        assert_eq!(t.entries(), 64);
        assert_eq!(full, 200 - 64);
        // Idle entries make room without a sweep.
        let x = sa(3, 0x9999);
        assert_eq!(t.learn(&x, 2, 171), Learnt::Added);
        assert_eq!(t.lookup(&x, 171), Some(2));
        assert_eq!((t.host_entries(1), t.host_entries(2)), (63, 1));
        check(&t);
        assert_eq!(t.expire(171, |_| true), 63);
        assert_eq!(check(&t).len(), 1);
    }

    /// Two sets per SA: a router's table takes as many SAs as the
    /// established-SA table holds (8,192, half its buckets) without a full
    /// set, and most of a table's buckets before the first.
    #[test]
    fn default_table_fills_evenly() {
        let s = store(DEFAULT_BUCKETS, 64, 256);
        let t = s.shared();
        let mut first_full = None;
        for i in 0..DEFAULT_BUCKETS as u32 {
            let x = SaKey {
                peer: Ipv4Addr::from(0xc000_0200 + i / 50),
                spi: 0x100 + i.wrapping_mul(2_654_435_761) % 0x7fff_0000,
                proto: proto::ESP,
            };
            match t.learn(&x, (i % 64 + 1) as Slot, 1) {
                Learnt::Added => {}
                Learnt::Full => {
                    first_full = first_full.or(Some(i));
                }
                r => panic!("{r:?}"),
            }
        }
        let first_full = first_full.unwrap_or(u32::MAX);
        assert!(first_full > DEFAULT_BUCKETS as u32 * 3 / 4, "{first_full}");
        assert!(t.entries() > DEFAULT_BUCKETS * 95 / 100, "{}", t.entries());
        check(&t);
    }

    #[test]
    fn removal_expiry_and_clear() {
        let s = store(256, 4, 100);
        let t = s.shared();
        for i in 0..40u32 {
            let slot = (i % 4 + 1) as Slot;
            assert_eq!(t.learn(&sa(10, 0x5000 + i), slot, i), Learnt::Added);
        }
        assert_eq!(t.remove_host(2), 10);
        assert_eq!(t.remove_host(2), 0);
        assert_eq!(t.lookup(&sa(10, 0x5001), 40), None);
        assert_eq!(t.lookup(&sa(10, 0x5000), 40), Some(1));
        check(&t);
        // Idle past 120 s at 150: learnt before 30; and every entry of
        // slot 3 by the predicate.
        let gone = t.expire(150, |s| s != 3);
        let left: HashSet<u32> = check(&t).iter().map(|e| e.sa.spi - 0x5000).collect();
        let want: HashSet<u32> = (30..40).filter(|i| i % 4 != 1 && i % 4 != 2).collect();
        assert_eq!(left, want);
        assert_eq!(gone, 30 - want.len());
        assert_eq!(t.clear(), want.len());
        assert_eq!(check(&t).len(), 0);
        assert_eq!(t.entries(), 0);
    }

    #[test]
    fn dumps_resume_and_stop() {
        let s = store(256, 2, 100);
        let t = s.shared();
        let mut want = HashSet::new();
        for i in 0..50u32 {
            let x = SaKey {
                proto: if i % 3 == 0 { proto::AH } else { proto::ESP },
                ..sa((i % 7) as u8 + 1, 0x7000 + i)
            };
            assert_eq!(t.learn(&x, (i % 2 + 1) as Slot, 3), Learnt::Added);
            want.insert((x, (i % 2 + 1) as Slot));
        }
        let got: HashSet<(SaKey, Slot)> = t.entries_from(0).map(|(_, e)| (e.sa, e.slot)).collect();
        assert_eq!(got, want);
        // In windows of 10 buckets, resuming from cursors.
        let mut parts = HashSet::new();
        for w in (0..256u32).step_by(10) {
            for (c, e) in t.entries_from(w).until(w + 10) {
                assert!((w..w + 10).contains(&c));
                parts.insert((e.sa, e.slot));
            }
        }
        assert_eq!(parts, want);
        assert_eq!(t.entries_from(300).count(), 0);
    }

    /// Single-threaded random operations: lookups answer only what was
    /// learnt for that host and is not idle, and the counts stay exact.
    #[test]
    fn random_operations() {
        let s = store(64, 6, 30);
        let t = s.shared();
        let mut x = 0x9e37_79b9u64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        // (sa, slot) -> last packet.
        let mut sent: HashMap<(SaKey, Slot), u32> = HashMap::new();
        let mut now = 1000u32;
        let mut seen: HashMap<Learnt, u32> = HashMap::new();
        for step in 0..50_000 {
            let a = SaKey {
                proto: if rnd(5) == 0 { proto::AH } else { proto::ESP },
                ..sa(rnd(4) as u8 + 1, 0x100 + rnd(40) as u32)
            };
            // Mostly the SA's own host, sometimes another one.
            let slot = if rnd(8) == 0 {
                rnd(6) as Slot + 1
            } else {
                (a.spi % 6) as Slot + 1
            };
            match rnd(20) {
                0..=11 => {
                    let before = t.lookup(&a, now);
                    let r = t.learn(&a, slot, now);
                    *seen.entry(r).or_default() += 1;
                    match r {
                        Learnt::Added | Learnt::Refreshed => {
                            assert_eq!(t.lookup(&a, now), Some(slot), "{step}");
                            if r == Learnt::Refreshed {
                                // The host's entry, perhaps idle until now.
                                assert!(before.is_none_or(|b| b == slot), "{step}");
                            }
                            sent.insert((a, slot), now);
                        }
                        Learnt::Conflict => {
                            let o = t.lookup(&a, now).unwrap();
                            assert_ne!(o, slot);
                            assert_eq!(before, Some(o));
                        }
                        Learnt::HostLimit => assert_eq!(t.host_entries(slot), 30),
                        Learnt::Full => {
                            for set in t.place(&a).sets {
                                let set = set as u32;
                                let live = t
                                    .entries_from(set)
                                    .until(set + WAYS as u32)
                                    .filter(|(_, e)| age(now, e.last_use) <= 120)
                                    .count();
                                assert_eq!(live, WAYS, "{step}");
                            }
                        }
                        Learnt::Invalid => panic!("{a:?}"),
                    }
                }
                12..=15 => {
                    if let Some(o) = t.lookup(&a, now) {
                        let last = sent.get(&(a, o)).copied();
                        assert!(last.is_some_and(|l| age(now, l) <= 120), "{a:?} {o}");
                    }
                }
                16 => now += rnd(8) as u32,
                17 => {
                    t.remove_host(slot);
                    assert_eq!(t.host_entries(slot), 0);
                    sent.retain(|k, _| k.1 != slot);
                }
                18 => {
                    t.expire(now, |s| s != 6);
                    assert_eq!(t.host_entries(6), 0);
                    for e in check(&t) {
                        assert!(age(now, e.last_use) <= 120);
                    }
                }
                _ => {
                    if rnd(100) == 0 {
                        t.clear();
                        sent.clear();
                    }
                }
            }
            if step % 1000 == 0 {
                check(&t);
            }
        }
        check(&t);
        for r in [
            Learnt::Refreshed,
            Learnt::Added,
            Learnt::Conflict,
            Learnt::HostLimit,
            Learnt::Full,
        ] {
            assert!(seen.get(&r).copied().unwrap_or(0) > 50, "{r:?}: {seen:?}");
        }
    }

    /// Packet paths on several CPUs learn and look up while a writer
    /// removes and expires: a lookup only ever names a host that sent that
    /// SA, and once everything stops the counts equal the entries.
    #[test]
    fn concurrent_learners_and_writer() {
        use std::sync::atomic::AtomicBool;
        let s = store(256, 8, 64);
        let t = s.shared();
        let stop = AtomicBool::new(false);
        // SA i is sent by hosts i % 8 + 1 and, for i % 5 == 0, also by
        // host (i + 3) % 8 + 1 (conflicts).
        let senders = |spi: u32| {
            let i = spi - 0x1000;
            let a = (i % 8 + 1) as Slot;
            let b = ((i + 3) % 8 + 1) as Slot;
            (a, if i.is_multiple_of(5) { b } else { a })
        };
        std::thread::scope(|sc| {
            let mut hs = Vec::new();
            for cpu in 0..3u64 {
                let (t, stop) = (&t, &stop);
                hs.push(sc.spawn(move || {
                    let mut x = cpu * 7919 + 1;
                    let (mut hits, mut now) = (0u64, 1u32);
                    while !stop.load(Ordering::Relaxed) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let spi = 0x1000 + (x % 300) as u32;
                        let a = sa((x % 3) as u8 + 1, spi);
                        let (s1, s2) = senders(spi);
                        let slot = if x & 64 == 0 { s1 } else { s2 };
                        t.learn(&a, slot, now);
                        if let Some(o) = t.lookup(&a, now) {
                            assert!(o == s1 || o == s2, "{a:?} -> {o}");
                            hits += 1;
                        }
                        if x % 1000 == 0 {
                            now += 1;
                        }
                    }
                    hits
                }));
            }
            for i in 0..20_000u32 {
                match i % 100 {
                    0 => {
                        t.remove_host((i / 100 % 8 + 1) as Slot);
                    }
                    1 => {
                        t.expire(i / 50, |s| s != 8 || i % 3 != 0);
                    }
                    _ => {
                        let a = sa(1, 0x1000 + i % 300);
                        if let Some(o) = t.lookup(&a, 1) {
                            let (s1, s2) = senders(a.spi);
                            assert!(o == s1 || o == s2);
                        }
                    }
                }
            }
            stop.store(true, Ordering::Relaxed);
            let hits: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
            assert!(hits > 1000, "{hits}");
        });
        let all = check(&t);
        for e in all {
            let (s1, s2) = senders(e.sa.spi);
            assert!(e.slot == s1 || e.slot == s2);
        }
    }
}
