// SPDX-License-Identifier: GPL-2.0

//! The host's ICMP translation: query identifiers taken as ports, and the
//! packets that ICMP errors quote.
//!
//! - [`rewrite_id`]: a query's identifier (stack's -> granted outbound in
//!   requests, back in replies), with the ICMP checksum fixed
//!   incrementally (RFC 1624).
//! - [`rewrite_quote`]: the port or identifier of the packet an error
//!   quotes, with every checksum that covers it; what it leaves alone it
//!   says why ([`QuoteSkip`]).
//! - [`IdShared`], [`IdTable`]: the identifier translations, a small
//!   set-associative table beside the SPTT (12 KiB, lock-free lookups).
//!
//! Details: Documentation/networking/dnat.rst, section "ICMP".

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU32, Ordering};

use super::checksum;
use super::ipv4::icmp::{self, BadQuote, Class, Quote};
use super::ipv4::proto;
use super::pap::PortBlock;

/// Sets of the identifier table.
pub const SETS: usize = 128;
/// Entries per set.
pub const WAYS: usize = 8;
/// Most identifier translations (1,024).
pub const ENTRIES: usize = SETS * WAYS;
/// Seconds an identifier translation lives without a packet: RFC 5508
/// REQ-2 asks for at least 60 (Linux conntrack keeps ICMP for 30).
pub const DEFAULT_IDLE: u32 = 60;
/// Most held ports [`IdTable::create`] tries before giving up.
pub const MAX_SCAN: usize = 512;

fn read16(b: &[u8], off: usize) -> Option<u16> {
    match b.get(off..off.checked_add(2)?)? {
        [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

fn write16(b: &mut [u8], off: usize, v: u16) {
    if let Some([hi, lo]) = off.checked_add(2).and_then(|e| b.get_mut(off..e)) {
        [*hi, *lo] = v.to_be_bytes();
    }
}

/// Sets the word at `off` of `msg` to `new` and returns the checksum
/// `check` fixed for it (RFC 1624).
fn swap16(msg: &mut [u8], off: usize, new: u16, check: u16) -> u16 {
    let old = read16(msg, off).unwrap_or(new);
    write16(msg, off, new);
    checksum::update16(check, old, new)
}

/// Why [`rewrite_id`] changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSkip {
    /// Shorter than the 8-byte ICMP header.
    Truncated,
    /// Not a query request or reply.
    NotQuery,
}

/// The identifier of the ICMP query `msg` (an ICMP message, header first).
pub fn query_id(msg: &[u8]) -> Result<u16, IdSkip> {
    let t = *msg.first().ok_or(IdSkip::Truncated)?;
    if !matches!(icmp::class(t), Class::Request | Class::Reply) {
        return Err(IdSkip::NotQuery);
    }
    if msg.len() < icmp::HEADER_LEN {
        return Err(IdSkip::Truncated);
    }
    read16(msg, icmp::ID_OFFSET).ok_or(IdSkip::Truncated)
}

/// Sets the identifier of the ICMP query `msg` (a request outbound, a
/// reply inbound) to `new`, fixes the ICMP checksum incrementally and
/// returns the old identifier; nothing changes on an error. The checksum
/// covers the ICMP message only (no pseudo-header), and Linux always sends
/// ICMP with a complete checksum (never `CHECKSUM_PARTIAL`); a received
/// packet's `CHECKSUM_COMPLETE` sum stays right, since the identifier and
/// the checksum change by opposite amounts. The one message an incremental
/// update gets wrong (RFC 1624 section 3; the kernel's
/// `inet_proto_csum_replace2`, which netfilter's NAT uses, does the same)
/// is one that becomes all zero: an echo reply with identifier 0, sequence
/// number 0 and no data gets the checksum 0x0000 where 0xffff is due.
pub fn rewrite_id(msg: &mut [u8], new: u16) -> Result<u16, IdSkip> {
    let old = query_id(msg)?;
    if old != new {
        let c = read16(msg, icmp::CHECKSUM_OFFSET).unwrap_or(0);
        let c = swap16(msg, icmp::ID_OFFSET, new, c);
        write16(msg, icmp::CHECKSUM_OFFSET, c);
    }
    Ok(old)
}

/// What an error quotes that the host translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoted {
    /// A TCP port.
    Tcp,
    /// A UDP port.
    Udp,
    /// An ICMP query identifier.
    Icmp,
}

/// Which packet of the host an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    /// One the host sent: an error from the Internet. The quote is from
    /// the public address; its source port, or the identifier of a quoted
    /// query request, goes back from granted to the stack's (inbound).
    Sent,
    /// One the host received: an error the host's stack sends (port
    /// unreachable...). The quote is to the public address; its
    /// destination port, or the identifier of a quoted query reply, goes
    /// from the stack's to granted (outbound), as the router expects.
    Received,
}

/// A quoted port or identifier, found by [`quote_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteKey {
    /// What it is.
    pub quoted: Quoted,
    /// Its value.
    pub value: u16,
}

/// What [`rewrite_quote`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    /// What was translated.
    pub quoted: Quoted,
    /// The value before.
    pub old: u16,
    /// The value after (equal to `old` for an identity translation: then
    /// nothing changed).
    pub new: u16,
}

/// Why [`rewrite_quote`] left an ICMP message alone (the data path counts
/// them; the message goes on unchanged or is dropped, as it decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum QuoteSkip {
    /// Not an error (a query, or a type without a quote).
    NotError,
    /// Shorter than the ICMP header, the quoted IPv4 header and 8 bytes.
    Truncated,
    /// The quoted header is not IPv4, too short or fails its checksum
    /// (RFC 5508 REQ-3a).
    BadQuote,
    /// Not about a packet of this host in that direction: the quote is
    /// not from (or to) the public address, or quotes a query reply the
    /// host would have sent (or a request it would have received).
    NotOurs,
    /// The quote is a later fragment: no transport header.
    Fragment,
    /// An error about an ICMP error, or about an ICMP message without an
    /// identifier (never translated).
    AboutError,
    /// The quoted protocol has no ports (ESP, AH, GRE...): nothing to
    /// translate (the stack finds an SA by its SPI itself).
    NoPort,
    /// No translation for the quoted port or identifier.
    NoMapping,
}

impl QuoteSkip {
    /// Number of reasons.
    pub const COUNT: usize = 8;
    /// Every reason, in index order.
    pub const ALL: [QuoteSkip; Self::COUNT] = [
        QuoteSkip::NotError,
        QuoteSkip::Truncated,
        QuoteSkip::BadQuote,
        QuoteSkip::NotOurs,
        QuoteSkip::Fragment,
        QuoteSkip::AboutError,
        QuoteSkip::NoPort,
        QuoteSkip::NoMapping,
    ];

    /// The reason's counter slot.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The reason's counter name.
    pub const fn name(self) -> &'static str {
        match self {
            QuoteSkip::NotError => "not_error",
            QuoteSkip::Truncated => "truncated",
            QuoteSkip::BadQuote => "bad_quote",
            QuoteSkip::NotOurs => "not_ours",
            QuoteSkip::Fragment => "fragment",
            QuoteSkip::AboutError => "about_error",
            QuoteSkip::NoPort => "no_port",
            QuoteSkip::NoMapping => "no_mapping",
        }
    }
}

/// Where the translated word is, in the ICMP message.
#[derive(Clone, Copy)]
struct Found {
    key: QuoteKey,
    /// Offset of the port or identifier.
    at: usize,
    /// Offset of the quoted checksum that covers it, if the quote holds
    /// it (TCP: only a quote of 18 bytes or more).
    check: Option<usize>,
}

fn find(msg: &[u8], public: Ipv4Addr, about: About) -> Result<Found, QuoteSkip> {
    let t = *msg.first().ok_or(QuoteSkip::Truncated)?;
    if !icmp::is_error(t) {
        return Err(QuoteSkip::NotError);
    }
    let q = Quote::parse(msg.get(icmp::HEADER_LEN..).ok_or(QuoteSkip::Truncated)?).map_err(
        |e| match e {
            BadQuote::Truncated => QuoteSkip::Truncated,
            BadQuote::Malformed => QuoteSkip::BadQuote,
        },
    )?;
    if !checksum::verify(q.header) {
        return Err(QuoteSkip::BadQuote);
    }
    let ours = match about {
        About::Sent => q.src == public,
        About::Received => q.dst == public,
    };
    if !ours {
        return Err(QuoteSkip::NotOurs);
    }
    if q.later_fragment {
        return Err(QuoteSkip::Fragment);
    }
    let base = icmp::HEADER_LEN + q.header.len();
    let (quoted, off, check) = match q.protocol {
        proto::TCP | proto::UDP => {
            let off = match about {
                About::Sent => 0,
                About::Received => 2,
            };
            if q.protocol == proto::TCP {
                let check = (q.payload.len() >= 18).then_some(16);
                (Quoted::Tcp, off, check)
            } else {
                (Quoted::Udp, off, Some(6))
            }
        }
        proto::ICMP => {
            let want = match about {
                About::Sent => Class::Request,
                About::Received => Class::Reply,
            };
            match q.payload.first().map(|&t| icmp::class(t)) {
                Some(c) if c == want => {
                    (Quoted::Icmp, icmp::ID_OFFSET, Some(icmp::CHECKSUM_OFFSET))
                }
                Some(Class::Request | Class::Reply) => return Err(QuoteSkip::NotOurs),
                _ => return Err(QuoteSkip::AboutError),
            }
        }
        _ => return Err(QuoteSkip::NoPort),
    };
    let value = read16(q.payload, off).ok_or(QuoteSkip::Truncated)?;
    Ok(Found {
        key: QuoteKey { quoted, value },
        at: base + off,
        check: check.map(|c| base + c),
    })
}

/// The port or identifier of the packet that the ICMP error `msg` quotes
/// (an ICMP message, header first, then the quoted IPv4 header with its
/// options and at least 8 bytes of its payload), if it is a packet of the
/// host ([`About`]). Reads only; see [`rewrite_quote`].
pub fn quote_key(msg: &[u8], public: Ipv4Addr, about: About) -> Result<QuoteKey, QuoteSkip> {
    find(msg, public, about).map(|f| f.key)
}

/// Translates the port or identifier of the packet that the ICMP error
/// `msg` quotes ([`quote_key`]) with `map` (for errors about packets the
/// host sent: the SPTT's or the identifier table's `peek_in`; about
/// packets it received: `peek_out`), and fixes every checksum that covers
/// it: the quoted UDP checksum unless it is 0 ("none"; a computed 0 is
/// stored as 0xffff), the quoted TCP checksum if the quote holds it, the
/// quoted ICMP checksum, and the error's own ICMP checksum, which covers
/// the whole message. The quoted IPv4 header (and its checksum) holds no
/// port and stays as it is. Checksums are fixed incrementally (RFC 1624),
/// whatever their value: a bad one stays bad, and the stack drops the
/// error (RFC 5508 REQ-3); a transport checksum is never verified (REQ-3c:
/// the quote is truncated anyway). `msg` may end anywhere after the 8
/// quoted bytes: the outer checksum is right for the whole message.
/// Nothing changes when it returns an error, or an identity translation.
pub fn rewrite_quote(
    msg: &mut [u8],
    public: Ipv4Addr,
    about: About,
    map: impl FnOnce(Quoted, u16) -> Option<u16>,
) -> Result<Rewritten, QuoteSkip> {
    let f = find(msg, public, about)?;
    let QuoteKey { quoted, value: old } = f.key;
    let new = map(quoted, old).ok_or(QuoteSkip::NoMapping)?;
    if new != old {
        let mut outer = read16(msg, icmp::CHECKSUM_OFFSET).unwrap_or(0);
        outer = swap16(msg, f.at, new, outer);
        if let Some(c) = f.check {
            let qc = read16(msg, c).unwrap_or(0);
            let fixed = match quoted {
                Quoted::Udp => checksum::udp_update16(qc, old, new),
                Quoted::Tcp | Quoted::Icmp => checksum::update16(qc, old, new),
            };
            outer = swap16(msg, c, fixed, outer);
        }
        write16(msg, icmp::CHECKSUM_OFFSET, outer);
    }
    Ok(Rewritten { quoted, old, new })
}

/// Lengths of the identifier table's slices, and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdLayout;

impl IdLayout {
    /// `out`: `AtomicU32`, by the stack's identifier.
    pub const OUT_LEN: usize = ENTRIES;
    /// `back`: `AtomicU32`, by the granted identifier.
    pub const BACK_LEN: usize = ENTRIES;
    /// `times`: `AtomicU32`, last use, beside `back`.
    pub const TIMES_LEN: usize = ENTRIES;
    /// Bytes of everything, reader and writer side (12 KiB and a few).
    pub const BYTES: usize = (Self::OUT_LEN + Self::BACK_LEN + Self::TIMES_LEN)
        * core::mem::size_of::<AtomicU32>()
        + core::mem::size_of::<IdWriter>();
}

/// Why an identifier-table operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// Storage slices of the wrong length.
    BadLayout,
    /// The set of the stack's identifier is full ([`WAYS`] translations
    /// whose identifiers hash alike): the caller counts and drops.
    NoRoom,
    /// No held port is free as an identifier (within [`MAX_SCAN`] held
    /// ports, or no block held): the caller counts and drops, and asks
    /// for more ports.
    NoFreeId,
}

type Words = [AtomicU32; ENTRIES];

/// `out` word: stack's identifier low, granted high (never 0: granted
/// identifiers are held ports, never 0).
const fn out_word(eph: u16, unique: u16) -> u32 {
    eph as u32 | (unique as u32) << 16
}

/// `back` word: granted low, stack's high.
const fn back_word(unique: u16, eph: u16) -> u32 {
    unique as u32 | (eph as u32) << 16
}

/// First index of the `out` set of the stack's identifier `eph`
/// (Fibonacci hashing: the stack's identifiers are often consecutive).
const fn out_set(eph: u16) -> usize {
    ((eph as u32).wrapping_mul(0x9e37_79b1) >> (32 - SETS.trailing_zeros())) as usize * WAYS
}

/// First index of the `back` set of granted identifier `unique`: the
/// granted identifiers are chosen by [`IdTable::create`], which takes one
/// whose set has room.
const fn back_set(unique: u16) -> usize {
    (unique as usize & (SETS - 1)) * WAYS
}

fn set(w: &Words, first: usize) -> &[AtomicU32] {
    w.get(first..first + WAYS).unwrap_or(&[])
}

/// `now - then`; 0 when `then` is ahead.
const fn age(now: u32, then: u32) -> u32 {
    let a = now.wrapping_sub(then);
    if a > i32::MAX as u32 {
        0
    } else {
        a
    }
}

/// An identifier translation, as dumps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdEntry {
    /// The stack's identifier.
    pub eph: u16,
    /// The granted one (a held port's number).
    pub unique: u16,
    /// Last use, seconds on the caller's clock.
    pub last_use: u32,
}

/// The reader side: lock-free lookups for the packet path. Cheap to copy.
#[derive(Clone, Copy)]
pub struct IdShared<'a> {
    out: &'a Words,
    back: &'a Words,
    times: &'a Words,
}

impl core::fmt::Debug for IdShared<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IdShared").finish_non_exhaustive()
    }
}

impl<'a> IdShared<'a> {
    /// Views caller-provided storage, all zero at the start, with the
    /// lengths of [`IdLayout`]. Cheap: checks lengths only.
    pub fn new(
        out: &'a [AtomicU32],
        back: &'a [AtomicU32],
        times: &'a [AtomicU32],
    ) -> Result<Self, IdError> {
        Ok(Self {
            out: out.try_into().map_err(|_| IdError::BadLayout)?,
            back: back.try_into().map_err(|_| IdError::BadLayout)?,
            times: times.try_into().map_err(|_| IdError::BadLayout)?,
        })
    }

    /// Whether `out` holds the pair.
    fn out_has(&self, eph: u16, unique: u16) -> bool {
        let w = out_word(eph, unique);
        set(self.out, out_set(eph))
            .iter()
            .any(|x| x.load(Ordering::Acquire) == w)
    }

    /// The index in `back` (and `times`) of the pair.
    fn back_index(&self, unique: u16, eph: u16) -> Option<usize> {
        let w = back_word(unique, eph);
        let first = back_set(unique);
        set(self.back, first)
            .iter()
            .position(|x| x.load(Ordering::Acquire) == w)
            .map(|i| first + i)
    }

    fn touch(&self, i: usize, now: u32) {
        if let Some(t) = self.times.get(i) {
            if t.load(Ordering::Relaxed) != now {
                t.store(now, Ordering::Relaxed);
            }
        }
    }

    /// The granted identifier of the stack's `eph`, and its index.
    fn find_out(&self, eph: u16) -> Option<(u16, usize)> {
        set(self.out, out_set(eph)).iter().find_map(|x| {
            let v = x.load(Ordering::Acquire);
            if v == 0 || v as u16 != eph {
                return None;
            }
            let u = (v >> 16) as u16;
            Some((u, self.back_index(u, eph)?))
        })
    }

    /// The stack's identifier behind granted `unique`, and its index.
    fn find_in(&self, unique: u16) -> Option<(u16, usize)> {
        let first = back_set(unique);
        set(self.back, first).iter().enumerate().find_map(|(i, x)| {
            let v = x.load(Ordering::Acquire);
            if v == 0 || v as u16 != unique {
                return None;
            }
            let e = (v >> 16) as u16;
            self.out_has(e, unique).then_some((e, first + i))
        })
    }

    /// Outbound query request: the granted identifier of the stack's
    /// `eph`, and marks the translation used at `now`. At most 16 acquire
    /// loads and one relaxed store. `None`: create one under the writer
    /// lock.
    #[inline]
    pub fn lookup_out(&self, eph: u16, now: u32) -> Option<u16> {
        let (u, i) = self.find_out(eph)?;
        self.touch(i, now);
        Some(u)
    }

    /// Inbound query reply: the stack's identifier behind granted
    /// `unique`, and marks the translation used at `now`. At most 16
    /// acquire loads and one relaxed store. `None`: deliver unchanged.
    #[inline]
    pub fn lookup_in(&self, unique: u16, now: u32) -> Option<u16> {
        let (e, i) = self.find_in(unique)?;
        self.touch(i, now);
        Some(e)
    }

    /// [`IdShared::lookup_out`] without marking the translation used (for
    /// quotes: an error does not keep a translation alive).
    #[inline]
    pub fn peek_out(&self, eph: u16) -> Option<u16> {
        self.find_out(eph).map(|(u, _)| u)
    }

    /// [`IdShared::lookup_in`] without marking the translation used.
    #[inline]
    pub fn peek_in(&self, unique: u16) -> Option<u16> {
        self.find_in(unique).map(|(e, _)| e)
    }

    /// The translation at `back` index `i`, if whole.
    fn entry_at(&self, i: usize) -> Option<IdEntry> {
        let v = self.back.get(i)?.load(Ordering::Acquire);
        let (unique, eph) = (v as u16, (v >> 16) as u16);
        (v != 0 && self.out_has(eph, unique)).then(|| IdEntry {
            eph,
            unique,
            last_use: self.times.get(i).map_or(0, |t| t.load(Ordering::Relaxed)),
        })
    }
}

/// Writer-side state besides the slices (fields private).
#[derive(Debug, Clone, Default)]
pub struct IdWriter {
    /// Round-robin position: the next search starts at this port.
    next: u32,
    entries: u32,
}

impl IdWriter {
    /// No translations.
    pub const fn new() -> Self {
        Self {
            next: 0,
            entries: 0,
        }
    }
}

/// The writer's view: every change goes through here, under the caller's
/// lock (the SPTT's writer lock does).
pub struct IdTable<'a> {
    sh: IdShared<'a>,
    st: &'a mut IdWriter,
}

impl core::fmt::Debug for IdTable<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IdTable")
            .field("st", &self.st)
            .finish_non_exhaustive()
    }
}

/// Whether `p` lies in one of `blocks`.
fn held(blocks: &[PortBlock], p: u16) -> bool {
    blocks.iter().any(|b| b.contains(p))
}

/// Held ports (`blocks` sorted by lowest port, as `Sptt::blocks` gives
/// them) from `from` on, then from the lowest up to `from`.
fn held_from(blocks: &[PortBlock], from: u32) -> impl Iterator<Item = u16> + '_ {
    let ports = |b: &PortBlock| {
        let lo = u32::from(b.lowest);
        lo..lo + u32::from(b.count)
    };
    let after = blocks.iter().flat_map(move |b| {
        let r = ports(b);
        r.start.max(from)..r.end
    });
    let before = blocks.iter().flat_map(move |b| {
        let r = ports(b);
        r.start..r.end.min(from)
    });
    after.chain(before).filter_map(|p| u16::try_from(p).ok())
}

impl<'a> IdTable<'a> {
    /// The writer's view of `shared` with its state.
    pub fn new(shared: IdShared<'a>, st: &'a mut IdWriter) -> Self {
        Self { sh: shared, st }
    }

    /// The reader-side view.
    pub fn shared(&self) -> IdShared<'a> {
        self.sh
    }

    /// Translations in the table.
    pub fn entries(&self) -> usize {
        self.st.entries as usize
    }

    /// Whether `unique` may be taken: not granted already, and its set has
    /// room; the free index.
    fn free_unique(&self, unique: u16) -> Option<usize> {
        let first = back_set(unique);
        let mut free = None;
        for (i, x) in set(self.sh.back, first).iter().enumerate() {
            let v = x.load(Ordering::Relaxed);
            if v == 0 {
                free = free.or(Some(first + i));
            } else if v as u16 == unique {
                return None;
            }
        }
        free
    }

    /// The granted identifier of the stack's `eph`, creating the
    /// translation (used at `now`) if there is none: call it under the
    /// writer lock after a lookup miss. `blocks` are the held port blocks
    /// (`Sptt::blocks`). The translation is the identity when `eph` is
    /// held and free (so an application that binds its ping socket to a
    /// granted port's number is not rewritten), else the first free held
    /// port after the one handed out last (round robin). Cost: at most
    /// [`MAX_SCAN`] held ports of 8 loads each.
    pub fn create(&mut self, eph: u16, now: u32, blocks: &[PortBlock]) -> Result<u16, IdError> {
        if let Some(u) = self.sh.peek_out(eph) {
            return Ok(u);
        }
        let first = out_set(eph);
        let oi = set(self.sh.out, first)
            .iter()
            .position(|x| x.load(Ordering::Relaxed) == 0)
            .map(|i| first + i)
            .ok_or(IdError::NoRoom)?;
        let identity = held(blocks, eph)
            .then(|| self.free_unique(eph).map(|bi| (eph, bi)))
            .flatten();
        let (u, bi) = match identity {
            Some(x) => x,
            None => {
                let x = held_from(blocks, self.st.next)
                    .take(MAX_SCAN)
                    .find_map(|p| self.free_unique(p).map(|bi| (p, bi)))
                    .ok_or(IdError::NoFreeId)?;
                self.st.next = u32::from(x.0) + 1;
                x
            }
        };
        let (Some(t), Some(b), Some(o)) = (
            self.sh.times.get(bi),
            self.sh.back.get(bi),
            self.sh.out.get(oi),
        ) else {
            return Err(IdError::BadLayout);
        };
        t.store(now, Ordering::Relaxed);
        b.store(back_word(u, eph), Ordering::Release);
        o.store(out_word(eph, u), Ordering::Release);
        self.st.entries += 1;
        Ok(u)
    }

    /// Removes the translation of granted `unique` (clears `out` first,
    /// then `back`) and returns the stack's identifier.
    pub fn remove(&mut self, unique: u16) -> Option<u16> {
        let first = back_set(unique);
        let (bi, v) = set(self.sh.back, first)
            .iter()
            .enumerate()
            .map(|(i, x)| (first + i, x.load(Ordering::Relaxed)))
            .find(|&(_, v)| v != 0 && v as u16 == unique)?;
        let eph = (v >> 16) as u16;
        let w = out_word(eph, unique);
        if let Some(o) = set(self.sh.out, out_set(eph))
            .iter()
            .find(|x| x.load(Ordering::Relaxed) == w)
        {
            o.store(0, Ordering::Release);
        }
        if let Some(b) = self.sh.back.get(bi) {
            b.store(0, Ordering::Release);
        }
        self.st.entries = self.st.entries.saturating_sub(1);
        Some(eph)
    }

    /// Removes every translation for which `f` holds; returns how many.
    /// One pass over the 1,024 `back` words.
    fn remove_where(&mut self, mut f: impl FnMut(&IdEntry) -> bool) -> usize {
        let mut n = 0;
        for i in 0..ENTRIES {
            if let Some(e) = self.sh.entry_at(i) {
                if f(&e) && self.remove(e.unique).is_some() {
                    n += 1;
                }
            }
        }
        n
    }

    /// After the held blocks changed (`Sptt::set_blocks`): removes the
    /// translations whose granted identifier is no longer held.
    pub fn retain_held(&mut self, blocks: &[PortBlock]) -> usize {
        self.remove_where(|e| !held(blocks, e.unique))
    }

    /// Removes the translations idle for longer than `idle` seconds at
    /// `now` ([`DEFAULT_IDLE`]); returns how many.
    pub fn expire(&mut self, now: u32, idle: u32) -> usize {
        self.remove_where(|e| age(now, e.last_use) > idle)
    }

    /// Removes every translation.
    pub fn remove_all(&mut self) -> usize {
        self.remove_where(|_| true)
    }

    /// The first translation at `back` index `cursor` or after it, with
    /// the cursor to resume from (multi-part netlink dumps; 0 is the
    /// start, [`ENTRIES`] the end). A table changed between parts may make
    /// a dump skip or repeat entries, as netlink dumps do. Cost: the
    /// `back` words between the two cursors.
    pub fn next_entry(&self, cursor: u32) -> Option<(IdEntry, u32)> {
        (cursor as usize..ENTRIES).find_map(|i| {
            let next = u32::try_from(i + 1).ok()?;
            self.sh.entry_at(i).map(|e| (e, next))
        })
    }

    /// Calls `f` for every translation, in `back` order.
    pub fn for_each(&self, mut f: impl FnMut(IdEntry)) {
        (0..ENTRIES)
            .filter_map(|i| self.sh.entry_at(i))
            .for_each(&mut f);
    }
}

#[cfg(test)]
#[path = "icmp/tests.rs"]
mod tests;
