// SPDX-License-Identifier: GPL-2.0

//! The host's Source Port Translation Table (SPTT, reference FIG. 11):
//! ephemeral port <-> locally unique port, per protocol.
//!
//! A host sends to the Internet from the shared public address, so the
//! source port of its outbound TCP/UDP must be one of the *unique* ports the
//! router granted it (PAP port blocks). The host module translates the
//! ports its stack picks: outbound the source port `eph -> unique`, inbound
//! the destination port `unique -> eph`, fixing the checksum both ways
//! ([`rewrite_port`]). The mapping is endpoint-independent: keyed by the
//! [`Proto`] and the stack's own port only.
//!
//! - [`Shared`]: the packet path ([`Shared::lookup_out`],
//!   [`Shared::lookup_in`], [`Shared::note_tcp`], [`Shared::held`]); O(1),
//!   lock-free, no allocation, on every CPU at once and with one writer.
//! - [`Sptt`]: the writer ([`Sptt::create`] after a lookup miss,
//!   [`Sptt::set_blocks`] when the held [`PortBlock`]s change,
//!   [`Sptt::expire`] from a timer), serialised by the caller's lock (it
//!   takes the writer storage by `&mut`).
//! - [`Layout`], [`WriterState`]: the caller-provided storage, direct arrays
//!   over the 65,536 ports ([`Layout::BYTES`], about 1.9 MiB), zero at the
//!   start and then changed only through this module.
//!
//! A creation publishes `out[eph]` last and a removal clears it first, so
//! no reader uses a half-made entry; the storage lives as long as the
//! namespace, so no grace period is needed. A new entry keeps `eph` when it
//! is held and free, else takes the next free held port round robin; idle
//! and closing entries end ([`Timeouts`], [`is_closing`]).
//!
//! Arrays, concurrency argument, invariants, allocation, entry lifetime and
//! costs: Documentation/networking/dnat.rst, section "The SPTT".

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

use super::checksum;
use super::ipv4::proto;
use super::pap::PortBlock;
use super::uapi::flow_state;

/// Number of TCP/UDP port values (the length of every per-port array).
pub const PORT_SPACE: usize = 1 << 16;
/// Words of a bitmap over every port.
pub const BITMAP_WORDS: usize = PORT_SPACE / 64;
/// Most port blocks the pool may hold (as many as the router grants a host).
pub const MAX_BLOCKS: usize = 16;

/// TCP header flag FIN (in the flags byte, offset 13).
pub const TCP_FIN: u8 = 0x01;
/// TCP header flag SYN.
pub const TCP_SYN: u8 = 0x02;
/// TCP header flag RST.
pub const TCP_RST: u8 = 0x04;
/// TCP header flag ACK.
pub const TCP_ACK: u8 = 0x10;

/// Entry state bit: a FIN was sent (outbound). The state bits are the
/// netlink `FLOW_STATE` bits ([`flow_state`]).
pub const STATE_FIN_OUT: u8 = flow_state::FIN_OUT;
/// Entry state bit: a FIN was received (inbound).
pub const STATE_FIN_IN: u8 = flow_state::FIN_IN;
/// Entry state bit: an RST was seen (either way).
pub const STATE_RST: u8 = flow_state::RST;

/// Whether a TCP entry with these state bits is closing: FIN seen both ways,
/// or an RST. Closing entries end [`Timeouts::tcp_closing`] after their last
/// packet.
pub const fn is_closing(state: u8) -> bool {
    const BOTH: u8 = STATE_FIN_OUT | STATE_FIN_IN;
    state & STATE_RST != 0 || state & BOTH == BOTH
}

/// What [`Shared::note_tcp`] needs of a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The flags byte (header offset 13).
    pub flags: u8,
    /// The sequence number.
    pub seq: u32,
    /// The acknowledgement number.
    pub ack: u32,
    /// The remote end's address: the destination of an outbound segment,
    /// the source of an inbound one.
    pub peer: Ipv4Addr,
    /// The remote end's port.
    pub peer_port: u16,
}

impl Segment {
    /// A segment with `flags` and nothing else (zero numbers, no peer).
    pub const fn flags(flags: u8) -> Self {
        Self {
            flags,
            seq: 0,
            ack: 0,
            peer: Ipv4Addr::UNSPECIFIED,
            peer_port: 0,
        }
    }
}

/// `peers` word: a remote end is recorded.
const PEER_VALID: u64 = 1 << 48;
/// `peers` word: the host sent a SYN and has acknowledged nothing yet (an
/// RST must then acknowledge the SYN).
const PEER_SYN_SENT: u64 = 1 << 49;

/// The `peers` word of a remote end (without the flags).
const fn peer_key(addr: Ipv4Addr, port: u16) -> u64 {
    (u32::from_be_bytes(addr.octets()) as u64) << 16 | port as u64
}

/// The translated protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP, index 0.
    Tcp = 0,
    /// UDP, index 1.
    Udp = 1,
}

impl Proto {
    /// Both protocols, in index order.
    pub const ALL: [Proto; 2] = [Proto::Tcp, Proto::Udp];

    /// 0 for TCP, 1 for UDP.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The protocol with this [`Proto::index`].
    pub const fn from_index(i: usize) -> Option<Proto> {
        match i {
            0 => Some(Proto::Tcp),
            1 => Some(Proto::Udp),
            _ => None,
        }
    }

    /// The protocol of an IPv4 protocol number, if it is translated.
    pub const fn from_ip(p: u8) -> Option<Proto> {
        match p {
            proto::TCP => Some(Proto::Tcp),
            proto::UDP => Some(Proto::Udp),
            _ => None,
        }
    }

    /// The IPv4 protocol number.
    pub const fn ip(self) -> u8 {
        match self {
            Proto::Tcp => proto::TCP,
            Proto::Udp => proto::UDP,
        }
    }

    /// Offset of the checksum field in the transport header.
    const fn check_offset(self) -> usize {
        match self {
            Proto::Tcp => 16,
            Proto::Udp => 6,
        }
    }
}

/// Why an SPTT operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpttError {
    /// Storage slices of the wrong length.
    BadLayout,
    /// Port 0 cannot be translated.
    ZeroPort,
    /// Every held port is in use in that protocol (or no block is held):
    /// the caller counts it and drops the packet.
    NoFreePort,
    /// More than [`MAX_BLOCKS`] blocks.
    TooManyBlocks,
    /// A block with port 0, no port, or past port 65535.
    BadBlock,
    /// Two blocks share a port.
    OverlappingBlocks,
    /// The transport header is too short for the port or checksum field.
    Truncated,
}

impl SpttError {
    /// A positive errno for netlink replies.
    pub const fn errno(self) -> i32 {
        match self {
            Self::BadLayout
            | Self::ZeroPort
            | Self::BadBlock
            | Self::OverlappingBlocks
            | Self::Truncated => 22, // EINVAL
            Self::NoFreePort => 99,    // EADDRNOTAVAIL
            Self::TooManyBlocks => 28, // ENOSPC
        }
    }
}

/// Idle timeouts in seconds, on the caller's clock. An entry is removed
/// when its age (`now - last_use`) is strictly greater than its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP entries that are not closing. 7,440 s (2 h 4 min, RFC 5382
    /// REQ-5's minimum for established connections) by default.
    pub tcp_idle: u32,
    /// UDP entries. 180 s by default (Linux conntrack's UDP stream
    /// timeout; RFC 4787 REQ-5 asks for at least 120 s).
    pub udp_idle: u32,
    /// Closing TCP entries (FIN both ways or RST, see [`is_closing`]):
    /// 10 s by default (Linux conntrack's `CLOSE`).
    pub tcp_closing: u32,
}

impl Timeouts {
    /// 7,440 s TCP, 180 s UDP, 10 s closing TCP.
    pub const DEFAULT: Timeouts = Timeouts {
        tcp_idle: 7440,
        udp_idle: 180,
        tcp_closing: 10,
    };

    /// The idle timeout of `proto` for an entry with `state` bits.
    pub const fn for_entry(&self, proto: Proto, state: u8) -> u32 {
        match proto {
            Proto::Tcp if is_closing(state) => {
                if self.tcp_closing < self.tcp_idle {
                    self.tcp_closing
                } else {
                    self.tcp_idle
                }
            }
            Proto::Tcp => self.tcp_idle,
            Proto::Udp => self.udp_idle,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Lengths of the caller-provided storage slices, and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout;

impl Layout {
    /// `ports`: `AtomicU16`, TCP out, TCP back, UDP out, UDP back, each
    /// [`PORT_SPACE`] long.
    pub const PORTS_LEN: usize = 4 * PORT_SPACE;
    /// `times`: `AtomicU32`, by unique port: TCP last use, UDP last use,
    /// then TCP's acceptable RST value (see [`Shared::note_tcp`]).
    pub const TIMES_LEN: usize = 3 * PORT_SPACE;
    /// `peers`: `AtomicU64`, TCP's remote end by unique port (see
    /// [`Shared::note_tcp`]).
    pub const PEERS_LEN: usize = PORT_SPACE;
    /// `states`: `AtomicU8`, TCP then UDP, by unique port (UDP's unused).
    pub const STATES_LEN: usize = 2 * PORT_SPACE;
    /// `held`: `AtomicU64` bitmap over ports.
    pub const HELD_LEN: usize = BITMAP_WORDS;
    /// `used` (writer side): `u64` bitmaps, TCP then UDP.
    pub const USED_LEN: usize = 2 * BITMAP_WORDS;
    /// Bytes of everything, reader and writer side (about 1.9 MiB).
    pub const BYTES: usize = Self::PORTS_LEN * core::mem::size_of::<AtomicU16>()
        + Self::TIMES_LEN * core::mem::size_of::<AtomicU32>()
        + Self::PEERS_LEN * core::mem::size_of::<AtomicU64>()
        + Self::STATES_LEN * core::mem::size_of::<AtomicU8>()
        + Self::HELD_LEN * core::mem::size_of::<AtomicU64>()
        + Self::USED_LEN * core::mem::size_of::<u64>()
        + core::mem::size_of::<WriterState>();
}

type PortMap = [AtomicU16; PORT_SPACE];
type TimeMap = [AtomicU32; PORT_SPACE];
type StateMap = [AtomicU8; PORT_SPACE];
type PeerMap = [AtomicU64; PORT_SPACE];
type HeldMap = [AtomicU64; BITMAP_WORDS];
type Bitmap = [u64; BITMAP_WORDS];

/// `a[port]`: cannot fail, a `u16` is below every array's length.
#[inline(always)]
fn at<T>(a: &[T; PORT_SPACE], port: u16) -> &T {
    &a[usize::from(port)]
}

/// Index of `port`'s word in a bitmap (at most 1,023) and its bit.
#[inline(always)]
fn bit(port: u16) -> (usize, u64) {
    (usize::from(port >> 6), 1u64 << (port & 63))
}

/// Stores `now` unless already there (one store per second per entry).
#[inline(always)]
fn touch(t: &AtomicU32, now: u32) {
    if t.load(Ordering::Relaxed) != now {
        t.store(now, Ordering::Relaxed);
    }
}

/// `now - then` in seconds; 0 when `then` is ahead (a reader on another
/// CPU stored a later `now`), ages of 2^31 s or more are not expected.
const fn age(now: u32, then: u32) -> u32 {
    let a = now.wrapping_sub(then);
    if a > i32::MAX as u32 {
        0
    } else {
        a
    }
}

/// Highest port of a checked block.
fn last_port(b: &PortBlock) -> u16 {
    let last = u32::from(b.lowest) + u32::from(b.count.max(1)) - 1;
    u16::try_from(last).unwrap_or(u16::MAX)
}

/// The first port in `from..=hi` whose bit in `map` equals `set`: a scan
/// of at most `(hi - from) / 64 + 1` words.
fn scan(map: &Bitmap, from: u32, hi: u16, set: bool) -> Option<u16> {
    let hi = u32::from(hi);
    if from > hi {
        return None;
    }
    let last = (hi >> 6) as usize;
    let mut i = (from >> 6) as usize;
    let mut low = !0u64 << (from & 63);
    while i <= last {
        let w = *map.get(i)?;
        let mut m = (if set { w } else { !w }) & low;
        if i == last {
            m &= !0u64 >> (63 - (hi & 63));
        }
        if m != 0 {
            return u16::try_from(i * 64 + m.trailing_zeros() as usize).ok();
        }
        low = !0;
        i += 1;
    }
    None
}

/// The bits of word `i` for ports `lo..=hi`.
fn word_mask(i: usize, lo: u16, hi: u16) -> u64 {
    let base = i * 64;
    let (lo, hi) = (usize::from(lo), usize::from(hi));
    if hi < base || lo > base + 63 {
        return 0;
    }
    let s = lo.saturating_sub(base);
    let e = hi.min(base + 63) - base;
    (!0u64 << s) & (!0u64 >> (63 - e))
}

/// A value per protocol.
#[derive(Debug, Clone, Copy, Default)]
struct PerProto<T> {
    tcp: T,
    udp: T,
}

impl<T> PerProto<T> {
    fn get(&self, p: Proto) -> &T {
        match p {
            Proto::Tcp => &self.tcp,
            Proto::Udp => &self.udp,
        }
    }
    fn get_mut(&mut self, p: Proto) -> &mut T {
        match p {
            Proto::Tcp => &mut self.tcp,
            Proto::Udp => &mut self.udp,
        }
    }
}

/// One protocol's reader-side arrays.
#[derive(Clone, Copy)]
struct Tables<'a> {
    out: &'a PortMap,
    back: &'a PortMap,
    last_use: &'a TimeMap,
    state: &'a StateMap,
}

/// An entry as seen by dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Protocol.
    pub proto: Proto,
    /// The stack's own (ephemeral) port.
    pub eph: u16,
    /// The locally unique port it is translated to (equal to `eph` for an
    /// identity entry).
    pub unique: u16,
    /// Last use, seconds on the caller's clock.
    pub last_use: u32,
    /// State bits (`STATE_*`; always 0 for UDP).
    pub state: u8,
}

impl Entry {
    /// A TCP entry with FIN both ways or an RST ([`is_closing`]).
    pub const fn closing(&self) -> bool {
        matches!(self.proto, Proto::Tcp) && is_closing(self.state)
    }
}

/// The reader-side table: lock-free lookups for the packet path. Cheap to
/// copy (a few references).
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    t: PerProto<Tables<'a>>,
    held: &'a HeldMap,
    /// TCP: the value an inbound RST must carry, by unique port.
    tcp_rst: &'a TimeMap,
    /// TCP: the remote end ([`peer_key`] and flags), by unique port.
    tcp_peer: &'a PeerMap,
}

impl core::fmt::Debug for Shared<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// Splits `s` into two arrays of `N`.
fn halves<T, const N: usize>(s: &[T]) -> Option<(&[T; N], &[T; N])> {
    let (a, b) = s.split_at_checked(N)?;
    Some((a.try_into().ok()?, b.try_into().ok()?))
}

impl<'a> Shared<'a> {
    /// Views caller-provided storage with the lengths of [`Layout`]:
    /// `ports` [`Layout::PORTS_LEN`], `times` [`Layout::TIMES_LEN`],
    /// `states` [`Layout::STATES_LEN`], `held` [`Layout::HELD_LEN`],
    /// `peers` [`Layout::PEERS_LEN`]. All of it starts zeroed. Cheap:
    /// checks lengths only.
    pub fn new(
        ports: &'a [AtomicU16],
        times: &'a [AtomicU32],
        states: &'a [AtomicU8],
        held: &'a [AtomicU64],
        peers: &'a [AtomicU64],
    ) -> Result<Self, SpttError> {
        let bad = SpttError::BadLayout;
        if ports.len() != Layout::PORTS_LEN
            || times.len() != Layout::TIMES_LEN
            || states.len() != Layout::STATES_LEN
        {
            return Err(bad);
        }
        let (tcp, udp) = ports.split_at_checked(2 * PORT_SPACE).ok_or(bad)?;
        let (tcp_out, tcp_back) = halves::<_, PORT_SPACE>(tcp).ok_or(bad)?;
        let (udp_out, udp_back) = halves::<_, PORT_SPACE>(udp).ok_or(bad)?;
        let (times, tcp_rst) = times.split_at_checked(2 * PORT_SPACE).ok_or(bad)?;
        let (tcp_time, udp_time) = halves::<_, PORT_SPACE>(times).ok_or(bad)?;
        let (tcp_state, udp_state) = halves::<_, PORT_SPACE>(states).ok_or(bad)?;
        Ok(Self {
            t: PerProto {
                tcp: Tables {
                    out: tcp_out,
                    back: tcp_back,
                    last_use: tcp_time,
                    state: tcp_state,
                },
                udp: Tables {
                    out: udp_out,
                    back: udp_back,
                    last_use: udp_time,
                    state: udp_state,
                },
            },
            held: held.try_into().map_err(|_| bad)?,
            tcp_rst: tcp_rst.try_into().map_err(|_| bad)?,
            tcp_peer: peers.try_into().map_err(|_| bad)?,
        })
    }

    /// Outbound: the unique port of the stack's port `eph`, and marks the
    /// entry used at `now`. Two acquire loads, at most one relaxed store.
    /// `None`: no entry (or one being made or removed): create one under
    /// the writer lock.
    #[inline]
    pub fn lookup_out(&self, proto: Proto, eph: u16, now: u32) -> Option<u16> {
        let t = self.t.get(proto);
        let u = at(t.out, eph).load(Ordering::Acquire);
        if u == 0 || at(t.back, u).load(Ordering::Acquire) != eph {
            return None;
        }
        touch(at(t.last_use, u), now);
        Some(u)
    }

    /// Inbound: the stack's port behind the unique port `unique`, and marks
    /// the entry used at `now`. Two acquire loads, at most one relaxed
    /// store. `None`: no entry: deliver the packet unchanged.
    #[inline]
    pub fn lookup_in(&self, proto: Proto, unique: u16, now: u32) -> Option<u16> {
        let t = self.t.get(proto);
        let e = at(t.back, unique).load(Ordering::Acquire);
        if e == 0 || at(t.out, e).load(Ordering::Acquire) != unique {
            return None;
        }
        touch(at(t.last_use, unique), now);
        Some(e)
    }

    /// [`Shared::lookup_out`] without marking the entry used: for the
    /// packet that an ICMP error quotes, since an error must not keep a
    /// translation alive (RFC 5508 REQ-6). Two acquire loads, no store.
    #[inline]
    pub fn peek_out(&self, proto: Proto, eph: u16) -> Option<u16> {
        let t = self.t.get(proto);
        let u = at(t.out, eph).load(Ordering::Acquire);
        (u != 0 && at(t.back, u).load(Ordering::Acquire) == eph).then_some(u)
    }

    /// [`Shared::lookup_in`] without marking the entry used (see
    /// [`Shared::peek_out`]). Two acquire loads, no store.
    #[inline]
    pub fn peek_in(&self, proto: Proto, unique: u16) -> Option<u16> {
        let t = self.t.get(proto);
        let e = at(t.back, unique).load(Ordering::Acquire);
        (e != 0 && at(t.out, e).load(Ordering::Acquire) == unique).then_some(e)
    }

    /// Records TCP segment `seg` of the entry of unique port `unique`, sent
    /// (`outbound`) or received. Call it for every TCP segment after the
    /// lookup.
    ///
    /// FIN sets [`STATE_FIN_OUT`] or [`STATE_FIN_IN`], RST sets
    /// [`STATE_RST`]; a SYN without FIN or RST clears the state (a new
    /// connection on this port); an outbound segment without RST clears
    /// [`STATE_RST`] (the stack did not accept the RST). Ports without an
    /// entry are ignored.
    ///
    /// Blind resets (RFC 5961 section 3.2): an inbound RST counts only if
    /// it comes from the remote end of the last segment the host sent with
    /// ACK (or SYN) on this port and its sequence number is exactly the
    /// acknowledgement number the host sent last (or, while the host's SYN
    /// is unanswered, it acknowledges that SYN). Any other RST is ignored
    /// here, whatever its other flags: the packet is delivered and the
    /// host's stack answers it with a challenge ACK, but the entry does not
    /// become closing, so a sweep of forged RSTs over the public ports does
    /// not end idle translations. Each outbound segment with ACK or SYN
    /// records its remote end and number (a load of each, a store when
    /// they changed); a segment without FIN, SYN, RST or (outbound) ACK
    /// costs one byte load.
    #[inline]
    pub fn note_tcp(&self, unique: u16, seg: &Segment, outbound: bool, now: u32) {
        let t = &self.t.tcp;
        let flags = seg.flags;
        if outbound {
            self.note_sent(unique, seg);
        } else if flags & TCP_RST != 0 && !self.rst_acceptable(unique, seg) {
            return;
        }
        let st = at(t.state, unique);
        let s = st.load(Ordering::Relaxed);
        if flags & (TCP_FIN | TCP_SYN | TCP_RST) == 0 {
            if outbound && s & STATE_RST != 0 {
                st.fetch_and(!STATE_RST, Ordering::Relaxed);
            }
            return;
        }
        if at(t.back, unique).load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut add = 0;
        if flags & TCP_RST != 0 {
            add |= STATE_RST;
        }
        if flags & TCP_FIN != 0 {
            add |= if outbound {
                STATE_FIN_OUT
            } else {
                STATE_FIN_IN
            };
        }
        if add == 0 {
            // A SYN alone: a connection starts (again) on this mapping.
            if s != 0 {
                st.store(0, Ordering::Relaxed);
            }
        } else if s & add != add {
            st.fetch_or(add, Ordering::Relaxed);
        }
        touch(at(t.last_use, unique), now);
    }

    /// Records the remote end of outbound segment `seg` and the value an
    /// inbound RST must then carry: the acknowledgement number of a segment
    /// with ACK; for a SYN without ACK, its sequence number + 1 (which the
    /// RST must acknowledge). Segments with RST or without either flag
    /// change nothing.
    #[inline]
    fn note_sent(&self, unique: u16, seg: &Segment) {
        let (peer, want) = match seg.flags & (TCP_SYN | TCP_ACK | TCP_RST) {
            f if f & TCP_RST != 0 => return,
            TCP_SYN => (PEER_SYN_SENT, seg.seq.wrapping_add(1)),
            f if f & TCP_ACK != 0 => (0, seg.ack),
            _ => return,
        };
        let peer = peer | PEER_VALID | peer_key(seg.peer, seg.peer_port);
        let p = at(self.tcp_peer, unique);
        if p.load(Ordering::Relaxed) != peer {
            p.store(peer, Ordering::Relaxed);
        }
        let r = at(self.tcp_rst, unique);
        if r.load(Ordering::Relaxed) != want {
            r.store(want, Ordering::Relaxed);
        }
    }

    /// Whether inbound RST `seg` may close the entry of `unique`: from the
    /// recorded remote end, with the sequence number the host acknowledged
    /// last (or acknowledging the host's unanswered SYN).
    #[inline]
    fn rst_acceptable(&self, unique: u16, seg: &Segment) -> bool {
        let p = at(self.tcp_peer, unique).load(Ordering::Relaxed);
        let want = at(self.tcp_rst, unique).load(Ordering::Relaxed);
        let key = PEER_VALID | peer_key(seg.peer, seg.peer_port);
        if p & !PEER_SYN_SENT != key {
            return false;
        }
        if p & PEER_SYN_SENT != 0 {
            seg.flags & TCP_ACK != 0 && seg.ack == want
        } else {
            seg.seq == want
        }
    }

    /// Whether `port` is in the granted pool (one relaxed load). An inbound
    /// packet to a held port without an entry is delivered unchanged.
    #[inline]
    pub fn held(&self, port: u16) -> bool {
        let (w, b) = bit(port);
        self.held
            .get(w)
            .is_some_and(|x| x.load(Ordering::Relaxed) & b != 0)
    }

    /// The entry of unique port `unique`, if complete (lock-free; under the
    /// writer lock always consistent).
    pub fn entry(&self, proto: Proto, unique: u16) -> Option<Entry> {
        let t = self.t.get(proto);
        let eph = at(t.back, unique).load(Ordering::Acquire);
        if eph == 0 || at(t.out, eph).load(Ordering::Acquire) != unique {
            return None;
        }
        Some(Entry {
            proto,
            eph,
            unique,
            last_use: at(t.last_use, unique).load(Ordering::Relaxed),
            state: at(t.state, unique).load(Ordering::Relaxed),
        })
    }
}

/// Writer-side state besides the slices (fields private). Small (under
/// 100 bytes), so it may live inside the lock.
#[derive(Debug, Clone)]
pub struct WriterState {
    blocks: [PortBlock; MAX_BLOCKS],
    nblocks: usize,
    held_ports: u32,
    entries: PerProto<u32>,
    /// Round-robin position: the next search starts at this port.
    next: PerProto<u32>,
}

const NO_BLOCK: PortBlock = PortBlock {
    lowest: 0,
    count: 0,
};

impl WriterState {
    /// A fresh state: no blocks, no entries.
    pub const fn new() -> Self {
        Self {
            blocks: [NO_BLOCK; MAX_BLOCKS],
            nblocks: 0,
            held_ports: 0,
            entries: PerProto { tcp: 0, udp: 0 },
            next: PerProto { tcp: 0, udp: 0 },
        }
    }
}

impl Default for WriterState {
    fn default() -> Self {
        Self::new()
    }
}

/// The writer's view: every change goes through here, under the caller's
/// lock.
pub struct Sptt<'a> {
    sh: Shared<'a>,
    used: PerProto<&'a mut Bitmap>,
    st: &'a mut WriterState,
}

impl core::fmt::Debug for Sptt<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sptt")
            .field("st", &self.st)
            .finish_non_exhaustive()
    }
}

impl<'a> Sptt<'a> {
    /// Views the writer-side storage (`used`: [`Layout::USED_LEN`] words,
    /// zero at the start) with the reader-side one. Cheap: checks lengths
    /// only; build it anew under the lock for every operation.
    pub fn new(
        shared: Shared<'a>,
        used: &'a mut [u64],
        st: &'a mut WriterState,
    ) -> Result<Self, SpttError> {
        if used.len() != Layout::USED_LEN {
            return Err(SpttError::BadLayout);
        }
        let (tcp, udp) = used
            .split_at_mut_checked(BITMAP_WORDS)
            .ok_or(SpttError::BadLayout)?;
        Ok(Self {
            sh: shared,
            used: PerProto {
                tcp: tcp.try_into().map_err(|_| SpttError::BadLayout)?,
                udp: udp.try_into().map_err(|_| SpttError::BadLayout)?,
            },
            st,
        })
    }

    /// The reader-side view.
    pub fn shared(&self) -> Shared<'a> {
        self.sh
    }

    /// The current blocks, sorted by lowest port.
    pub fn blocks(&self) -> &[PortBlock] {
        self.st.blocks.get(..self.st.nblocks).unwrap_or(&[])
    }

    /// Ports in the current blocks.
    pub fn held_ports(&self) -> usize {
        self.st.held_ports as usize
    }

    /// Entries of `proto`.
    pub fn entries(&self, proto: Proto) -> usize {
        *self.st.entries.get(proto) as usize
    }

    /// Held ports not in use in `proto`: how many more flows it can take.
    pub fn free_ports(&self, proto: Proto) -> usize {
        self.held_ports().saturating_sub(self.entries(proto))
    }

    /// Entries of `proto` whose unique port is in `block` (for block
    /// dumps): O(words of the block).
    pub fn used_in(&self, proto: Proto, block: &PortBlock) -> usize {
        if block.count == 0 {
            return 0;
        }
        let (lo, hi) = (block.lowest, last_port(block));
        let used = self.used.get(proto);
        (usize::from(lo >> 6)..=usize::from(hi >> 6))
            .filter_map(|i| Some((used.get(i)? & word_mask(i, lo, hi)).count_ones() as usize))
            .sum()
    }

    fn is_used(&self, proto: Proto, port: u16) -> bool {
        let (w, b) = bit(port);
        self.used.get(proto).get(w).is_some_and(|x| x & b != 0)
    }

    fn set_used(&mut self, proto: Proto, port: u16, on: bool) {
        let (w, b) = bit(port);
        if let Some(x) = self.used.get_mut(proto).get_mut(w) {
            if on {
                *x |= b;
            } else {
                *x &= !b;
            }
        }
    }

    /// Replaces the pool with `blocks` (any order; valid and disjoint),
    /// e.g. after a grant, a renewal, the invalidation of a block or of
    /// everything (`&[]`). Removes the entries whose unique port is no
    /// longer held and returns how many. On error nothing changes.
    /// Cost: O(blocks * words) plus one removal per entry removed.
    pub fn set_blocks(&mut self, blocks: &[PortBlock]) -> Result<usize, SpttError> {
        if blocks.len() > MAX_BLOCKS {
            return Err(SpttError::TooManyBlocks);
        }
        let mut new = [NO_BLOCK; MAX_BLOCKS];
        for (d, b) in new.iter_mut().zip(blocks) {
            b.check().map_err(|_| SpttError::BadBlock)?;
            *d = *b;
        }
        let new = new.get_mut(..blocks.len()).unwrap_or(&mut []);
        // Insertion sort: at most 16 blocks, and no panicking path for the
        // kernel build (core's slice sorts bring in ones objtool flags).
        for i in 1..new.len() {
            let mut j = i;
            while j > 0 && new.get(j - 1).map(|b| b.lowest) > new.get(j).map(|b| b.lowest) {
                new.swap(j - 1, j);
                j -= 1;
            }
        }
        for w in new.windows(2) {
            if let [a, b] = w {
                if u32::from(a.lowest) + u32::from(a.count) > u32::from(b.lowest) {
                    return Err(SpttError::OverlappingBlocks);
                }
            }
        }
        let new: &[PortBlock] = new;
        let removed = self.remove_where(|e| !new.iter().any(|b| b.contains(e.unique)));
        // Publish the new held bitmap: every word under an old or a new
        // block gets the new blocks' bits.
        let old = self.st.blocks;
        let nold = self.st.nblocks;
        for b in old.iter().take(nold).chain(new) {
            let (lo, hi) = (b.lowest, last_port(b));
            for i in usize::from(lo >> 6)..=usize::from(hi >> 6) {
                let v = new
                    .iter()
                    .fold(0, |m, n| m | word_mask(i, n.lowest, last_port(n)));
                if let Some(w) = self.sh.held.get(i) {
                    w.store(v, Ordering::Release);
                }
            }
        }
        self.st.blocks = [NO_BLOCK; MAX_BLOCKS];
        for (d, b) in self.st.blocks.iter_mut().zip(new) {
            *d = *b;
        }
        self.st.nblocks = new.len();
        self.st.held_ports = new.iter().map(|b| u32::from(b.count)).sum();
        Ok(removed)
    }

    /// The first free held port of `proto` at or after `from`.
    fn free_from(&self, proto: Proto, from: u32) -> Option<u16> {
        let used = self.used.get(proto);
        self.blocks().iter().find_map(|b| {
            let lo = u32::from(b.lowest).max(from);
            scan(used, lo, last_port(b), false)
        })
    }

    /// The unique port of `eph` in `proto`, creating the entry (used at
    /// `now`) if there is none: call it under the writer lock after a
    /// lookup miss. If another CPU created it meanwhile, that entry is
    /// returned. A new entry maps `eph` to itself when `eph` is held and
    /// free, else to the first free held port in round-robin order (see
    /// Documentation/networking/dnat.rst, "The SPTT"). Errors:
    /// [`SpttError::ZeroPort`], [`SpttError::NoFreePort`].
    pub fn create(&mut self, proto: Proto, eph: u16, now: u32) -> Result<u16, SpttError> {
        if eph == 0 {
            return Err(SpttError::ZeroPort);
        }
        let t = *self.sh.t.get(proto);
        let u = at(t.out, eph).load(Ordering::Relaxed);
        if u != 0 {
            return Ok(u);
        }
        let u = if self.sh.held(eph) && !self.is_used(proto, eph) {
            eph
        } else {
            let from = *self.st.next.get(proto);
            let u = self
                .free_from(proto, from)
                .or_else(|| self.free_from(proto, 0))
                .ok_or(SpttError::NoFreePort)?;
            *self.st.next.get_mut(proto) = u32::from(u) + 1;
            u
        };
        at(t.state, u).store(0, Ordering::Relaxed);
        at(t.last_use, u).store(now, Ordering::Relaxed);
        if proto == Proto::Tcp {
            // No remote end yet: no inbound RST closes the entry before
            // the host sends.
            at(self.sh.tcp_peer, u).store(0, Ordering::Relaxed);
        }
        at(t.back, u).store(eph, Ordering::Release);
        at(t.out, eph).store(u, Ordering::Release);
        self.set_used(proto, u, true);
        let n = self.st.entries.get_mut(proto);
        *n = n.saturating_add(1);
        Ok(u)
    }

    /// Removes the entry of unique port `unique` (clears `out` first, then
    /// `back`) and returns its ephemeral port.
    pub fn remove(&mut self, proto: Proto, unique: u16) -> Option<u16> {
        let t = *self.sh.t.get(proto);
        let eph = at(t.back, unique).load(Ordering::Relaxed);
        if eph != 0 {
            let out = at(t.out, eph);
            if out.load(Ordering::Relaxed) == unique {
                out.store(0, Ordering::Release);
            }
            at(t.back, unique).store(0, Ordering::Release);
        }
        if self.is_used(proto, unique) {
            self.set_used(proto, unique, false);
            let n = self.st.entries.get_mut(proto);
            *n = n.saturating_sub(1);
        }
        (eph != 0).then_some(eph)
    }

    /// Removes every entry (of both protocols, inside the current blocks)
    /// for which `f` is true; returns how many.
    fn remove_where(&mut self, mut f: impl FnMut(&Entry) -> bool) -> usize {
        let mut n = 0;
        for proto in Proto::ALL {
            for bi in 0..self.st.nblocks {
                let Some(b) = self.st.blocks.get(bi).copied() else {
                    break;
                };
                let hi = last_port(&b);
                let mut from = u32::from(b.lowest);
                while let Some(u) = scan(self.used.get(proto), from, hi, true) {
                    let gone = self.sh.entry(proto, u).is_none_or(|e| f(&e));
                    if gone {
                        self.remove(proto, u);
                        n += 1;
                    }
                    from = u32::from(u) + 1;
                }
            }
        }
        n
    }

    /// Removes the entries idle for longer than their timeout at `now`
    /// ([`Timeouts::for_entry`]: closing TCP entries after `tcp_closing`);
    /// their unique ports become free. Returns how many. Cost: the used
    /// bitmap words inside the blocks plus one check per entry.
    pub fn expire(&mut self, now: u32, timeouts: &Timeouts) -> usize {
        self.remove_where(|e| age(now, e.last_use) > timeouts.for_entry(e.proto, e.state))
    }

    /// Removes every entry; returns how many. The blocks stay.
    pub fn remove_all(&mut self) -> usize {
        self.remove_where(|_| true)
    }

    /// The first entry at or after `cursor`, with the cursor to resume
    /// from (multi-part netlink dumps). Cursors are `proto index * 65536 +
    /// unique port`, 0 is the start; a table changed between parts may
    /// make a dump skip or repeat entries, as netlink dumps do. Cost: the
    /// used bitmap words between the two cursors.
    pub fn next_entry(&self, cursor: u32) -> Option<(Entry, u32)> {
        let mut c = cursor;
        loop {
            let proto = Proto::from_index((c >> 16) as usize)?;
            let base = (proto.index() as u32) << 16;
            match scan(self.used.get(proto), c & 0xffff, u16::MAX, true) {
                Some(u) => {
                    let pos = base | u32::from(u);
                    if let Some(e) = self.sh.entry(proto, u) {
                        return Some((e, pos + 1));
                    }
                    c = pos + 1;
                }
                None => c = base + (1 << 16),
            }
        }
    }

    /// Calls `f` for every entry, TCP then UDP, by unique port.
    pub fn for_each(&self, mut f: impl FnMut(Entry)) {
        let mut c = 0;
        while let Some((e, next)) = self.next_entry(c) {
            f(e);
            c = next;
        }
    }
}

/// Which port of a transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The source port (offset 0): outbound translation.
    Src,
    /// The destination port (offset 2): inbound translation.
    Dst,
}

impl Which {
    const fn offset(self) -> usize {
        match self {
            Which::Src => 0,
            Which::Dst => 2,
        }
    }
}

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

/// Sets a port of the TCP/UDP header `l4` (it starts with the source and
/// destination ports) to `new` and fixes the checksum incrementally
/// (RFC 1624, [`checksum::update16`]); returns the old port. A UDP
/// checksum 0 ("none") stays 0 and a computed 0 is stored as 0xffff
/// ([`checksum::udp_update16`]). Needs the header up to the checksum field
/// (TCP 18 bytes, UDP 8), else [`SpttError::Truncated`] and nothing
/// changes. The result equals a full recomputation over the pseudo-header
/// and the whole segment.
///
/// This is right for a packet whose checksum field holds the full
/// checksum (kernel `CHECKSUM_NONE` or `CHECKSUM_UNNECESSARY`). With
/// `CHECKSUM_PARTIAL` (outbound offload) the field holds only the
/// pseudo-header sum, which does not cover ports: change the port alone
/// ([`set_port`]), even for a UDP checksum 0 field. With
/// `CHECKSUM_COMPLETE` (inbound) `skb->csum` must be adjusted too. The
/// kernel's `inet_proto_csum_replace2(check, skb, old, new, false)` covers
/// every state (for UDP only when the field is nonzero or the state is
/// partial, then a resulting 0 becomes `CSUM_MANGLED_0`, as netfilter's
/// NAT does).
pub fn rewrite_port(l4: &mut [u8], proto: Proto, which: Which, new: u16) -> Result<u16, SpttError> {
    let off = which.offset();
    let coff = proto.check_offset();
    let old = read16(l4, off).ok_or(SpttError::Truncated)?;
    let check = read16(l4, coff).ok_or(SpttError::Truncated)?;
    if old == new {
        return Ok(old);
    }
    let check = match proto {
        Proto::Tcp => checksum::update16(check, old, new),
        Proto::Udp => checksum::udp_update16(check, old, new),
    };
    write16(l4, off, new);
    write16(l4, coff, check);
    Ok(old)
}

/// Sets a port of the TCP/UDP header `l4` to `new` without touching the
/// checksum (for `CHECKSUM_PARTIAL`, see [`rewrite_port`]); returns the old
/// port, or [`SpttError::Truncated`] when `l4` is shorter than 4 bytes.
pub fn set_port(l4: &mut [u8], which: Which, new: u16) -> Result<u16, SpttError> {
    let off = which.offset();
    let old = read16(l4, off).ok_or(SpttError::Truncated)?;
    write16(l4, off, new);
    Ok(old)
}

#[cfg(test)]
#[path = "sptt/tests.rs"]
mod tests;
