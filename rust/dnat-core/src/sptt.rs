// SPDX-License-Identifier: GPL-2.0

//! The host's Source Port Translation Table (SPTT, reference FIG. 11):
//! ephemeral port <-> locally unique port, per protocol.
//!
//! A host sends to the Internet with the shared public address, so the
//! source port of every outbound TCP/UDP packet must be one of the *unique*
//! ports the router granted it (PAP port blocks). Its stack picks ephemeral
//! ports of its own, so the host module translates them: outbound, the
//! source port `eph -> unique`; inbound, the destination port
//! `unique -> eph`, fixing the TCP/UDP checksum both ways
//! ([`rewrite_port`]).
//!
//! # What is kept
//!
//! - **The pool**: the granted port blocks ([`PortBlock`], at most
//!   [`MAX_BLOCKS`]) and a bitmap of the ports they hold (`held`, shared by
//!   both protocols, readable by the packet path: an inbound packet to a
//!   held port without an entry is delivered unchanged).
//! - **Entries**, per protocol ([`Proto`]): the mapping is
//!   *endpoint-independent*: it is keyed by the protocol and the stack's own
//!   source port only, whatever the destination, so every flow of one
//!   socket uses one unique port and inbound packets to that port reach the
//!   socket whoever sends them. Per protocol, four direct arrays of 65,536:
//!   `out[eph] = unique`, `back[unique] = eph` (0: none; port 0 is never
//!   mapped), `last_use[unique]` (seconds on the caller's clock, this code
//!   never reads a clock) and `state[unique]` (TCP flags seen: FIN outbound,
//!   FIN inbound, RST; see [`is_closing`]).
//! - **Writer side**: per protocol a bitmap of the unique ports in use
//!   (`used`), plus the blocks, counters and the round-robin position in
//!   [`WriterState`].
//!
//! # Packet path (readers): [`Shared`]
//!
//! [`Shared::lookup_out`], [`Shared::lookup_in`], [`Shared::note_tcp`] and
//! [`Shared::held`] take `&self`, never lock, never allocate and are O(1):
//! a lookup is two acquire loads and at most one relaxed store, `held` one
//! relaxed load, `note_tcp` one relaxed byte load for an inbound segment
//! without FIN, SYN or RST (an outbound one with ACK adds two loads and
//! the stores of a changed acknowledgement number or remote end). They may run concurrently on every CPU, with each
//! other and with one writer.
//! `last_use` is stored only when it differs from `now`, so a busy entry
//! costs one store per second, not one per packet.
//!
//! Measured with `examples/sptt_cost.rs` under callgrind (x86-64, release,
//! 4,080 entries per protocol; instructions per packet, call and return
//! included, the example's loop subtracted): `lookup_out` 19, a miss 11,
//! `lookup_in` 21; `lookup_out` + `note_tcp` + [`rewrite_port`] of a TCP
//! header 84, the same inbound 84, `lookup_out` + `rewrite_port` of a UDP
//! header 84.
//!
//! # Changes (the writer): [`Sptt`]
//!
//! The caller serialises writers (one lock around every [`Sptt`]: it takes
//! the writer-side storage by `&mut`). [`Sptt::create`] runs on the first
//! packet of a flow (a lookup miss), [`Sptt::set_blocks`] after every grant,
//! renewal or invalidation of a block, [`Sptt::expire`] from a timer.
//!
//! # Concurrency (the argument)
//!
//! All shared storage is atomics, so a race can never be memory-unsafe; the
//! question is only which mapping a packet gets.
//!
//! - **Creation** stores `state[u]` and `last_use[u]` (relaxed), then
//!   `back[u] = e` (release), then `out[e] = u` (release). A reader
//!   acquire-loads `out[e]` and then `back[u]` and accepts the pair only if
//!   `back[u] == e` ([`Shared::lookup_out`]); [`Shared::lookup_in`] loads
//!   `back[u]`, then `out[e]`, and accepts only if `out[e] == u`. So no
//!   reader ever uses a half-made entry: `out[e]` is published last and
//!   seeing it makes the earlier stores visible; a reader that sees
//!   `back[u]` before `out[e]` is published gets `None`, as if it had come
//!   a moment earlier. A reader's `last_use` store cannot be lost to the
//!   creator's initial one, which is ordered before `out[e]`.
//! - **Removal** clears `out[e]` first, then `back[u]` (both release).
//!   A reader racing with it either sees the entry whole (its packet is
//!   translated with the mapping that was valid a moment ago, as if it had
//!   arrived just before the removal) or sees the two halves disagree or
//!   missing (`None`: the caller creates a new entry under the writer lock
//!   or, inbound, delivers the packet unchanged). That is the worst case:
//!   one packet translated with a stale mapping, or not translated. A
//!   removed unique port is reused only when the round-robin search comes
//!   back to it (below), so a stale reader racing with a *reuse* needs a
//!   nearly exhausted pool; even then it at worst bumps `last_use` or sets a
//!   TCP flag of the new entry (making it close early or live longer) and
//!   sends one packet of the old flow from the reused port.
//! - **The pool**: `held` bits are set (grant) after nothing and cleared
//!   (invalidation) after the entries of the port were removed; readers use
//!   them only to decide what to do with a packet that has no entry.
//!
//! Nothing is ever freed while readers run: the storage lives as long as
//! the namespace, so no grace period is needed (unlike the router's
//! allocation tables, a wrong answer here is a translation of one packet
//! of the host's own flows, not a delivery to another host).
//!
//! # Invariants
//!
//! Between writer calls (checked by the unit tests after every operation):
//!
//! - per protocol, `out[e] == u != 0` iff `back[u] == e != 0`;
//! - `back[u] != 0` iff bit `u` of that protocol's `used` is set, and every
//!   used port is held (inside a current block);
//! - `held` is exactly the union of the current blocks, which are sorted,
//!   valid ([`PortBlock::check`]) and disjoint;
//! - the entry counters equal the number of used bits.
//!
//! # Allocation
//!
//! [`Sptt::create`] prefers the identity mapping (`unique = eph`) when
//! `eph` is itself held and not in use in that protocol: a stack that
//! already sends from granted ports ("native mode", e.g. with
//! `ip_local_port_range` set to a granted block) needs no rewriting and its
//! entries only track use. Otherwise it takes the first free held port at
//! or after a round-robin position (just after the last port it handed
//! out), wrapping around once: O(blocks + bitmap words in the blocks),
//! at most 16 blocks of 255 ports, i.e. 16 * 5 words. Round robin rather
//! than lowest-first so that a port is not reused for a new flow right
//! after its previous flow ended (a peer may still hold that flow in
//! `TIME_WAIT` and refuse or confuse the new one).
//!
//! A service listening on a held port receives inbound packets unchanged
//! while the port has no entry (its replies create an identity entry); a
//! translated flow that was handed that port first shadows it until its
//! entry ends. Keep listening services out of the granted blocks, or let
//! them send first.
//!
//! # Entry lifetime
//!
//! [`Sptt::expire`] removes an entry idle (no lookup) for longer than the
//! protocol's idle timeout, and a *closing* TCP entry (FIN seen both ways,
//! or an RST) idle for longer than [`Timeouts::tcp_closing`]; the grace
//! counts from the last packet, so the final ACK and retransmissions still
//! pass. [`Shared::note_tcp`] records the flags; a SYN clears them (the
//! stack may reuse an ephemeral port for a new connection right away), and
//! so does an outbound segment without RST after an RST: the stack sending
//! on means that it did not accept the RST. An inbound RST counts at all
//! only if it is not blind (RFC 5961 section 3.2): from the remote end the
//! host last sent to on the port, with the sequence number the host last
//! acknowledged there (see [`Shared::note_tcp`]); otherwise a sweep of
//! forged RSTs would end every idle translation `tcp_closing` later, since
//! the host's stack drops an out-of-window RST silently and sends nothing
//! that would clear the flag. The remote end and number are per entry, not
//! per connection: with several connections on one port only the RST of
//! the one that sent last counts, the others end by FIN or idle timeout.
//! Because the table is keyed by port only, one entry serves every
//! connection of the port: when the stack shares one ephemeral port between
//! connections to different destinations (Linux does when `connect()` finds
//! the 4-tuple unique), the close of one of them ends the entry of all once
//! they are idle for `tcp_closing`; a connection silent for longer then
//! gets a new unique port and breaks. Expiry cost: one pass over the used
//! bitmap words inside the blocks (at most 2 * 80 words) plus one check per
//! entry (at most 2 * 4,080).
//!
//! # Memory
//!
//! Caller-provided slices, lengths in [`Layout`], all zero at the start
//! (`Default` atomics, `0u64`), then changed only through this module:
//!
//! | slice | type | length | bytes |
//! |---|---|---|---|
//! | `ports` (out, back per protocol) | `AtomicU16` | 4 * 65,536 | 512 KiB |
//! | `times` (`last_use`, TCP's RST value) | `AtomicU32` | 3 * 65,536 | 768 KiB |
//! | `peers` (TCP's remote end) | `AtomicU64` | 65,536 | 512 KiB |
//! | `states` | `AtomicU8` | 2 * 65,536 | 128 KiB |
//! | `held` | `AtomicU64` | 1,024 | 8 KiB |
//! | `used` (writer) | `u64` | 2 * 1,024 | 16 KiB |
//! | [`WriterState`] (writer) | | 1 | < 100 bytes |
//!
//! About 1.9 MiB per network namespace ([`Layout::BYTES`]), in exchange for
//! O(1) lookups with no hashing; allocate it when the host side is enabled
//! in a namespace, not for every namespace.
//!
//! # Kernel glue, in short
//!
//! Per namespace allocate `ports`, `times`, `states`, `held` (`KVVec`
//! filled with `Default`, or `kvzalloc`) outside any lock: hooks build a
//! [`Shared`] from them (it only checks lengths) and call the lookups under
//! `rcu_read_lock` (netfilter hooks hold it), which is what keeps the
//! storage alive: free it only after the hooks are unregistered and a grace
//! period has elapsed. Put `used` and the [`WriterState`] inside the writer
//! lock and build an [`Sptt`] under it for every operation. Since
//! [`Sptt::create`] runs in the packet path (softirq), the lock must be a
//! spinlock taken with bottom halves disabled from process context
//! (netlink, the expiry work); every writer call is bounded (see above), so
//! holding it is short. Packet path per outbound TCP/UDP packet:
//! `lookup_out` or, on a miss, `create` under the lock (count and drop on
//! [`SpttError::NoFreePort`]), `note_tcp`, then rewrite the source port if
//! `unique != eph`; inbound: `lookup_in` on the destination port, `note_tcp`,
//! rewrite the destination port; no entry: deliver unchanged. See
//! [`rewrite_port`] for the checksum offload states.

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
    /// free, else to the first free held port in round-robin order (see the
    /// module documentation). Errors: [`SpttError::ZeroPort`],
    /// [`SpttError::NoFreePort`].
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
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::sync::atomic::AtomicBool;
    use std::vec;
    use std::vec::Vec;

    /// The reader-side storage, as the kernel allocates it.
    struct Store {
        ports: Vec<AtomicU16>,
        times: Vec<AtomicU32>,
        states: Vec<AtomicU8>,
        held: Vec<AtomicU64>,
        peers: Vec<AtomicU64>,
    }

    /// The writer-side storage (inside the lock in the kernel).
    struct Writer {
        used: Vec<u64>,
        st: WriterState,
    }

    impl Store {
        fn new() -> Self {
            Self {
                ports: (0..Layout::PORTS_LEN).map(|_| AtomicU16::new(0)).collect(),
                times: (0..Layout::TIMES_LEN).map(|_| AtomicU32::new(0)).collect(),
                states: (0..Layout::STATES_LEN).map(|_| AtomicU8::new(0)).collect(),
                held: (0..Layout::HELD_LEN).map(|_| AtomicU64::new(0)).collect(),
                peers: (0..Layout::PEERS_LEN).map(|_| AtomicU64::new(0)).collect(),
            }
        }

        fn r(&self) -> Shared<'_> {
            Shared::new(
                &self.ports,
                &self.times,
                &self.states,
                &self.held,
                &self.peers,
            )
            .unwrap()
        }
    }

    impl Writer {
        fn new() -> Self {
            Self {
                used: vec![0; Layout::USED_LEN],
                st: WriterState::new(),
            }
        }
    }

    fn t<'a>(s: &'a Store, w: &'a mut Writer) -> Sptt<'a> {
        Sptt::new(s.r(), &mut w.used, &mut w.st).unwrap()
    }

    fn blk(lowest: u16, count: u8) -> PortBlock {
        PortBlock { lowest, count }
    }

    use Proto::{Tcp, Udp};

    /// Checks every invariant of the module documentation.
    fn check(s: &Store, w: &mut Writer) {
        let t = t(s, w);
        let sh = t.shared();
        let mut held = [0u64; BITMAP_WORDS];
        for b in t.blocks() {
            b.check().unwrap();
            for p in b.lowest..=last_port(b) {
                held[usize::from(p >> 6)] |= 1 << (p & 63);
            }
        }
        for w in t.blocks().windows(2) {
            assert!(u32::from(w[0].lowest) + u32::from(w[0].count) <= u32::from(w[1].lowest));
        }
        for (i, h) in held.iter().enumerate() {
            assert_eq!(
                sh.held.get(i).unwrap().load(Ordering::Relaxed),
                *h,
                "word {i}"
            );
        }
        let held_ports: u32 = t.blocks().iter().map(|b| u32::from(b.count)).sum();
        assert_eq!(t.held_ports(), held_ports as usize);
        for proto in Proto::ALL {
            let tb = sh.t.get(proto);
            let mut n = 0;
            for p in 0..=u16::MAX {
                let u = at(tb.out, p).load(Ordering::Relaxed);
                if u != 0 {
                    assert_eq!(at(tb.back, u).load(Ordering::Relaxed), p);
                }
                let e = at(tb.back, p).load(Ordering::Relaxed);
                assert_eq!(e != 0, t.is_used(proto, p), "{proto:?} {p}");
                if e != 0 {
                    assert_eq!(at(tb.out, e).load(Ordering::Relaxed), p);
                    assert!(sh.held(p));
                    n += 1;
                }
            }
            assert_eq!(t.entries(proto), n);
            let bits: u32 = t.used.get(proto).iter().map(|w| w.count_ones()).sum();
            assert_eq!(bits as usize, n);
        }
    }

    #[test]
    fn layout_and_memory() {
        let s = Store::new();
        let (p, t, st, h, pe) = (&s.ports, &s.times, &s.states, &s.held, &s.peers);
        assert!(Shared::new(&p[1..], t, st, h, pe).is_err());
        assert!(Shared::new(p, &t[1..], st, h, pe).is_err());
        assert!(Shared::new(p, t, &st[1..], h, pe).is_err());
        assert!(Shared::new(p, t, st, &h[1..], pe).is_err());
        assert!(Shared::new(p, t, st, h, &pe[1..]).is_err());
        let mut used = vec![0u64; Layout::USED_LEN + 1];
        let mut st = WriterState::new();
        assert_eq!(
            Sptt::new(s.r(), &mut used, &mut st).unwrap_err(),
            SpttError::BadLayout
        );
        std::println!("SPTT bytes per namespace: {}", Layout::BYTES);
        const {
            assert!(core::mem::size_of::<WriterState>() < 100);
            assert!(Layout::BYTES > 1_980_000 && Layout::BYTES < 1_995_000);
        }
    }

    #[test]
    fn protocols() {
        assert_eq!(Proto::from_ip(6), Some(Tcp));
        assert_eq!(Proto::from_ip(17), Some(Udp));
        assert_eq!(Proto::from_ip(1), None);
        assert_eq!(Proto::from_ip(50), None);
        for p in Proto::ALL {
            assert_eq!(Proto::from_ip(p.ip()), Some(p));
            assert_eq!(Proto::from_index(p.index()), Some(p));
        }
        assert_eq!(Tcp.index(), 0);
        assert_eq!(Udp.index(), 1);
        assert_eq!(Proto::from_index(2), None);
        assert_eq!(SpttError::NoFreePort.errno(), 99);
    }

    #[test]
    fn identity_preferred_and_translation() {
        let s = Store::new();
        let mut w = Writer::new();
        let mut tb = t(&s, &mut w);
        assert_eq!(tb.set_blocks(&[blk(5000, 16)]), Ok(0));
        // Native mode: a held free port maps to itself.
        assert_eq!(tb.create(Tcp, 5003, 1), Ok(5003));
        // Another eph port gets another unique port (never 5003 again).
        let u = tb.create(Tcp, 40000, 1).unwrap();
        assert!((5000..5016).contains(&u) && u != 5003);
        let u2 = tb.create(Tcp, 40001, 1).unwrap();
        assert!((5000..5016).contains(&u2) && u2 != u && u2 != 5003);
        // A held port used as another's unique port is translated too.
        let u3 = tb.create(Tcp, u, 1).unwrap();
        assert!(u3 != u && u3 != u2 && u3 != 5003);
        // Existing entries are returned, not duplicated (two-CPU race).
        assert_eq!(tb.create(Tcp, 40000, 2), Ok(u));
        assert_eq!(tb.entries(Tcp), 4);
        // Protocols are independent: UDP 5003 and 40000 are free there.
        assert_eq!(tb.create(Udp, 5003, 1), Ok(5003));
        assert_eq!(tb.entries(Udp), 1);
        assert_eq!(tb.free_ports(Udp), 15);
        assert_eq!(tb.free_ports(Tcp), 12);
        let sh = tb.shared();
        assert_eq!(sh.lookup_out(Tcp, 40000, 7), Some(u));
        assert_eq!(sh.lookup_in(Tcp, u, 8), Some(40000));
        assert_eq!(sh.entry(Tcp, u).unwrap().last_use, 8);
        assert_eq!(sh.lookup_out(Udp, 40000, 7), None);
        assert_eq!(sh.lookup_in(Udp, u, 7), None);
        assert_eq!(sh.lookup_out(Tcp, 5003, 9), Some(5003));
        assert_eq!(sh.lookup_in(Tcp, 5003, 9), Some(5003));
        assert_eq!(sh.lookup_out(Tcp, 0, 9), None);
        assert_eq!(sh.lookup_in(Tcp, 0, 9), None);
        // Peeks give the same answers and leave the last use alone.
        assert_eq!(sh.peek_out(Tcp, 40000), Some(u));
        assert_eq!(sh.peek_in(Tcp, u), Some(40000));
        assert_eq!(sh.peek_in(Tcp, 5003), Some(5003));
        assert_eq!(sh.peek_out(Udp, 40000), None);
        assert_eq!(sh.peek_in(Udp, u), None);
        assert_eq!(sh.peek_out(Tcp, 0), None);
        assert_eq!(sh.peek_in(Tcp, 0), None);
        assert_eq!(sh.entry(Tcp, u).unwrap().last_use, 8);
        assert_eq!(tb.create(Tcp, 0, 1), Err(SpttError::ZeroPort));
        assert!(sh.held(5000) && sh.held(5015));
        assert!(!sh.held(4999) && !sh.held(5016) && !sh.held(0));
        check(&s, &mut w);
    }

    #[test]
    fn round_robin_does_not_reuse_at_once() {
        let s = Store::new();
        let mut w = Writer::new();
        let mut tb = t(&s, &mut w);
        tb.set_blocks(&[blk(7000, 4), blk(6000, 4)]).unwrap();
        assert_eq!(tb.blocks(), &[blk(6000, 4), blk(7000, 4)]);
        let a = tb.create(Udp, 40000, 0).unwrap();
        assert_eq!(a, 6000);
        assert_eq!(tb.remove(Udp, a), Some(40000));
        assert_eq!(tb.remove(Udp, a), None);
        // The freed port is skipped until the search wraps around.
        let got: Vec<u16> = (1..=7)
            .map(|i| tb.create(Udp, 40000 + i, 0).unwrap())
            .collect();
        assert_eq!(got, [6001, 6002, 6003, 7000, 7001, 7002, 7003]);
        assert_eq!(tb.used_in(Udp, &blk(6000, 4)), 3);
        assert_eq!(tb.used_in(Udp, &blk(7000, 4)), 4);
        assert_eq!(tb.used_in(Udp, &blk(6002, 6)), 2);
        assert_eq!(tb.used_in(Tcp, &blk(6000, 4)), 0);
        assert_eq!(tb.used_in(Udp, &blk(6000, 0)), 0);
        assert_eq!(tb.create(Udp, 40100, 0), Ok(6000));
        assert_eq!(tb.create(Udp, 40101, 0), Err(SpttError::NoFreePort));
        assert_eq!(tb.used_in(Udp, &blk(6000, 4)), 4);
        check(&s, &mut w);
    }

    #[test]
    fn exhaustion() {
        let s = Store::new();
        let mut w = Writer::new();
        let mut tb = t(&s, &mut w);
        // No pool at all.
        assert_eq!(tb.create(Tcp, 40000, 0), Err(SpttError::NoFreePort));
        tb.set_blocks(&[blk(65533, 3)]).unwrap();
        let mut got = HashSet::new();
        for e in 1..=3 {
            got.insert(tb.create(Tcp, e, 0).unwrap());
        }
        assert_eq!(got, HashSet::from([65533, 65534, 65535]));
        assert_eq!(tb.free_ports(Tcp), 0);
        assert_eq!(tb.create(Tcp, 4, 0), Err(SpttError::NoFreePort));
        // A held port that is taken is not reused by identity either.
        assert_eq!(tb.create(Tcp, 65535, 0), Err(SpttError::NoFreePort));
        assert_eq!(tb.create(Udp, 4, 0), Ok(65533));
        assert_eq!(tb.entries(Tcp), 3);
        check(&s, &mut w);
        let sh = s.r();
        for u in 65533..=65535 {
            let e = sh.lookup_in(Tcp, u, 0).unwrap();
            assert_eq!(sh.lookup_out(Tcp, e, 0), Some(u));
        }
    }

    #[test]
    fn set_blocks_validates_and_shrinks() {
        let s = Store::new();
        let mut w = Writer::new();
        let mut tb = t(&s, &mut w);
        tb.set_blocks(&[blk(1000, 100), blk(2000, 100)]).unwrap();
        for e in 0..150 {
            tb.create(Tcp, 30000 + e, 0).unwrap();
            tb.create(Udp, 30000 + e, 0).unwrap();
        }
        // Errors change nothing.
        assert_eq!(
            tb.set_blocks(&[blk(1000, 10), blk(1005, 10)]),
            Err(SpttError::OverlappingBlocks)
        );
        assert_eq!(
            tb.set_blocks(&[blk(1000, 10), blk(1009, 1)]),
            Err(SpttError::OverlappingBlocks)
        );
        assert_eq!(tb.set_blocks(&[blk(0, 10)]), Err(SpttError::BadBlock));
        assert_eq!(tb.set_blocks(&[blk(10, 0)]), Err(SpttError::BadBlock));
        assert_eq!(tb.set_blocks(&[blk(65500, 255)]), Err(SpttError::BadBlock));
        let many: Vec<_> = (0..17).map(|i| blk(1000 + i * 10, 10)).collect();
        assert_eq!(tb.set_blocks(&many), Err(SpttError::TooManyBlocks));
        assert_eq!(tb.entries(Tcp), 150);
        assert_eq!(tb.held_ports(), 200);
        check(&s, &mut w);
        // Adjacent blocks are fine; sixteen of them too.
        let mut tb = t(&s, &mut w);
        let sixteen: Vec<_> = (0..16).map(|i| blk(1000 + i * 10, 10)).collect();
        let removed = tb.set_blocks(&sixteen).unwrap();
        // 1000..1160 stays held: entries there stay (100 + 0 per proto,
        // 1000..1099 were the first handed out), 2000..2049 go.
        assert_eq!(removed, 2 * 50);
        assert_eq!(tb.entries(Tcp), 100);
        check(&s, &mut w);
        let mut tb = t(&s, &mut w);
        // Invalidate one block: its entries go, the rest stays.
        let rest: Vec<_> = sixteen
            .iter()
            .copied()
            .filter(|b| b.lowest != 1050)
            .collect();
        assert_eq!(tb.set_blocks(&rest), Ok(20));
        let sh = tb.shared();
        assert!(!sh.held(1055));
        assert_eq!(sh.lookup_in(Tcp, 1055, 0), None);
        assert!(sh.lookup_in(Tcp, 1045, 0).is_some());
        check(&s, &mut w);
        // Invalidate everything.
        let mut tb = t(&s, &mut w);
        assert_eq!(tb.set_blocks(&[]), Ok(2 * 90));
        assert_eq!(tb.entries(Tcp) + tb.entries(Udp), 0);
        assert_eq!(tb.held_ports(), 0);
        check(&s, &mut w);
    }

    #[test]
    fn tcp_fin_both_ways_then_closing_timeout() {
        let s = Store::new();
        let mut w = Writer::new();
        let to = Timeouts::DEFAULT;
        let mut tb = t(&s, &mut w);
        tb.set_blocks(&[blk(5000, 8)]).unwrap();
        let u = tb.create(Tcp, 40000, 100).unwrap();
        let v = tb.create(Tcp, 40001, 100).unwrap();
        let sh = tb.shared();
        sh.note_tcp(u, &Segment::flags(TCP_SYN), true, 100);
        sh.note_tcp(u, &Segment::flags(TCP_ACK | TCP_FIN), true, 101);
        assert_eq!(sh.entry(Tcp, u).unwrap().state, STATE_FIN_OUT);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        // Half closed: lives on.
        assert_eq!(tb.expire(200, &to), 0);
        assert_eq!(sh.lookup_in(Tcp, u, 200), Some(40000));
        sh.note_tcp(u, &Segment::flags(TCP_ACK | TCP_FIN), false, 200);
        let e = sh.entry(Tcp, u).unwrap();
        assert!(e.closing());
        assert_eq!(e.state, STATE_FIN_OUT | STATE_FIN_IN);
        // The final ACK refreshes it; the grace counts from there.
        assert_eq!(sh.lookup_out(Tcp, 40000, 203), Some(u));
        sh.note_tcp(u, &Segment::flags(TCP_ACK), true, 203);
        assert_eq!(tb.expire(213, &to), 0);
        assert_eq!(tb.expire(214, &to), 1);
        assert_eq!(sh.lookup_out(Tcp, 40000, 214), None);
        assert_eq!(sh.lookup_in(Tcp, u, 214), None);
        assert_eq!(sh.lookup_out(Tcp, 40001, 214), Some(v));
        // Flags on a port without entry are ignored.
        sh.note_tcp(u, &Segment::flags(TCP_RST), false, 214);
        assert_eq!(at(sh.t.tcp.state, u).load(Ordering::Relaxed) & STATE_RST, 0);
        assert_eq!(sh.entry(Tcp, u), None);
        // A SYN reopens a closing mapping (the stack reused the port).
        sh.note_tcp(v, &Segment::flags(TCP_FIN), true, 214);
        sh.note_tcp(v, &Segment::flags(TCP_FIN | TCP_ACK), false, 214);
        assert!(sh.entry(Tcp, v).unwrap().closing());
        sh.note_tcp(v, &Segment::flags(TCP_SYN), true, 215);
        assert_eq!(sh.entry(Tcp, v).unwrap().state, 0);
        assert_eq!(tb.expire(300, &to), 0);
        // A closing timeout above the idle one is capped by it.
        let odd = Timeouts {
            tcp_idle: 5,
            udp_idle: 5,
            tcp_closing: 50,
        };
        sh.note_tcp(v, &Segment::flags(TCP_RST), true, 300);
        assert_eq!(odd.for_entry(Tcp, STATE_RST), 5);
        assert_eq!(tb.expire(306, &odd), 1);
        check(&s, &mut w);
    }

    #[test]
    fn tcp_rst() {
        let s = Store::new();
        let mut w = Writer::new();
        let to = Timeouts::DEFAULT;
        let mut tb = t(&s, &mut w);
        tb.set_blocks(&[blk(5000, 8)]).unwrap();
        let u = tb.create(Tcp, 40000, 0).unwrap();
        let sh = tb.shared();
        let peer = Ipv4Addr::new(203, 0, 113, 3);
        let sent = |flags, seq, ack| Segment {
            flags,
            seq,
            ack,
            peer,
            peer_port: 443,
        };
        let rst = |seq| Segment {
            flags: TCP_RST,
            seq,
            ack: 0,
            peer,
            peer_port: 443,
        };
        // Before the host sent anything, no inbound RST counts.
        sh.note_tcp(u, &rst(0), false, 1);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        // The host acknowledged up to 7000: only an RST with sequence
        // number 7000 from the peer counts (RFC 5961 3.2).
        sh.note_tcp(u, &sent(TCP_ACK, 100, 7000), true, 1);
        for blind in [
            rst(6999),
            rst(7001),
            Segment {
                peer: Ipv4Addr::new(203, 0, 113, 66),
                ..rst(7000)
            },
            Segment {
                peer_port: 444,
                ..rst(7000)
            },
            Segment {
                flags: TCP_RST | TCP_ACK | TCP_FIN,
                ..rst(1)
            },
        ] {
            sh.note_tcp(u, &blind, false, 1);
            assert_eq!(sh.entry(Tcp, u).unwrap().state, 0, "{blind:?}");
        }
        // Neither segments without ACK nor RSTs the host sends move the
        // number.
        sh.note_tcp(u, &sent(0, 100, 1), true, 1);
        sh.note_tcp(u, &sent(TCP_RST | TCP_ACK, 100, 1), true, 1);
        assert_eq!(sh.entry(Tcp, u).unwrap().state, STATE_RST);
        sh.note_tcp(u, &sent(TCP_ACK, 100, 7000), true, 1);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        sh.note_tcp(u, &rst(7000), false, 1);
        assert!(sh.entry(Tcp, u).unwrap().closing());
        // An inbound RST the stack ignores (it keeps sending) is forgotten.
        sh.note_tcp(u, &Segment::flags(TCP_ACK), false, 2);
        assert!(sh.entry(Tcp, u).unwrap().closing());
        sh.note_tcp(u, &sent(TCP_ACK, 100, 7000), true, 2);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        assert_eq!(tb.expire(100, &to), 0);
        // While the host's SYN is unanswered, an RST must acknowledge it.
        sh.note_tcp(u, &sent(TCP_SYN, 5000, 0), true, 100);
        sh.note_tcp(u, &rst(7000), false, 100);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        let refused = Segment {
            flags: TCP_RST | TCP_ACK,
            ack: 5002,
            ..rst(0)
        };
        sh.note_tcp(u, &refused, false, 100);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        sh.note_tcp(
            u,
            &Segment {
                ack: 5001,
                ..refused
            },
            false,
            100,
        );
        assert!(sh.entry(Tcp, u).unwrap().closing());
        sh.note_tcp(u, &sent(TCP_SYN, 5000, 0), true, 100);
        assert!(!sh.entry(Tcp, u).unwrap().closing());
        // A new entry on a port forgets the remote end (identity entries
        // come back on the same port).
        assert_eq!(tb.create(Tcp, 5007, 100), Ok(5007));
        sh.note_tcp(5007, &sent(TCP_ACK, 1, 9000), true, 100);
        assert_eq!(tb.remove(Tcp, 5007), Some(5007));
        assert_eq!(tb.create(Tcp, 5007, 100), Ok(5007));
        sh.note_tcp(5007, &rst(9000), false, 100);
        assert!(!sh.entry(Tcp, 5007).unwrap().closing());
        assert_eq!(tb.remove(Tcp, 5007), Some(5007));
        // An outbound RST ends the entry after the closing grace.
        sh.note_tcp(u, &Segment::flags(TCP_RST | TCP_ACK), true, 100);
        assert_eq!(sh.entry(Tcp, u).unwrap().state, STATE_RST);
        assert_eq!(tb.expire(110, &to), 0);
        assert_eq!(tb.expire(111, &to), 1);
        assert_eq!(tb.entries(Tcp), 0);
        assert_eq!(tb.free_ports(Tcp), 8);
        check(&s, &mut w);
    }

    #[test]
    fn idle_expiry_per_protocol() {
        let s = Store::new();
        let mut w = Writer::new();
        let to = Timeouts::DEFAULT;
        let mut tb = t(&s, &mut w);
        tb.set_blocks(&[blk(5000, 8)]).unwrap();
        let t0 = 1_000_000;
        let ut = tb.create(Tcp, 40000, t0).unwrap();
        let uu = tb.create(Udp, 40000, t0).unwrap();
        let uu2 = tb.create(Udp, 40001, t0).unwrap();
        let sh = tb.shared();
        // UDP traffic on one entry keeps it.
        assert_eq!(sh.lookup_in(Udp, uu2, t0 + 100), Some(40001));
        assert_eq!(tb.expire(t0 + 180, &to), 0);
        assert_eq!(tb.expire(t0 + 181, &to), 1);
        assert_eq!(sh.lookup_out(Udp, 40000, t0 + 181), None);
        assert_eq!(sh.lookup_out(Udp, 40001, t0 + 181), Some(uu2));
        assert_eq!(sh.lookup_out(Tcp, 40000, t0 + 181), Some(ut));
        assert_eq!(tb.expire(t0 + 181 + 7440, &to), 1);
        assert_eq!(tb.expire(t0 + 181 + 7441, &to), 1);
        assert_eq!(tb.entries(Tcp) + tb.entries(Udp), 0);
        // A reader's later clock (another CPU) never counts as old.
        let u = tb.create(Udp, 40002, t0 + 9000).unwrap();
        assert_eq!(sh.lookup_out(Udp, 40002, t0 + 9005), Some(u));
        assert_eq!(tb.expire(t0 + 9000, &to), 0);
        // Clock wrap-around.
        let u = tb.create(Tcp, 40003, u32::MAX - 5).unwrap();
        assert_eq!(tb.expire(100, &to), 0);
        assert_eq!(tb.expire(7440 - 6, &to), 0);
        assert_eq!(tb.expire(7440 - 5, &to), 1);
        assert_eq!(sh.lookup_in(Tcp, u, 0), None);
        let _ = uu;
        assert_eq!(tb.remove_all(), 1);
        check(&s, &mut w);
    }

    #[test]
    fn cursor_dump_covers_every_entry_once() {
        let s = Store::new();
        let mut w = Writer::new();
        let mut tb = t(&s, &mut w);
        // Blocks in both port classes, one at the very top, one at 1.
        tb.set_blocks(&[blk(1, 200), blk(9990, 20), blk(40000, 255), blk(65281, 255)])
            .unwrap();
        let mut want = HashSet::new();
        // Identity entries at the edges.
        for (p, e) in [(Tcp, 1), (Tcp, 65535), (Udp, 65535)] {
            let u = tb.create(p, e, 0).unwrap();
            assert_eq!(u, e);
            want.insert((p, e, u));
        }
        for i in 0..600u16 {
            let p = if i % 3 == 0 { Tcp } else { Udp };
            let eph = 20000 + i * 7;
            let u = tb.create(p, eph, u32::from(i)).unwrap();
            want.insert((p, eph, u));
        }
        // Remove some, to leave holes.
        for u in [2u16, 9995, 40100] {
            if let Some(e) = tb.remove(Udp, u) {
                assert!(want.remove(&(Udp, e, u)));
            }
        }
        assert_eq!(want.len(), tb.entries(Tcp) + tb.entries(Udp));
        // Dump in parts of 7, resuming from the cursor of the last part.
        let mut got = Vec::new();
        let mut c = 0;
        let mut parts = 0;
        'dump: loop {
            parts += 1;
            for _ in 0..7 {
                match tb.next_entry(c) {
                    Some((e, next)) => {
                        assert!(next > c);
                        got.push((e.proto, e.eph, e.unique));
                        c = next;
                    }
                    None => break 'dump,
                }
            }
        }
        assert_eq!(got.len(), want.len());
        assert_eq!(got.iter().copied().collect::<HashSet<_>>(), want);
        assert_eq!(parts, want.len() / 7 + 1);
        // TCP first, then by unique port.
        let mut sorted = got.clone();
        sorted.sort_by_key(|&(p, _, u)| (p.index(), u));
        assert_eq!(got, sorted);
        let mut each = Vec::new();
        tb.for_each(|e| each.push((e.proto, e.eph, e.unique)));
        assert_eq!(each, got);
        assert_eq!(tb.next_entry(2 << 16), None);
        assert_eq!(tb.next_entry(u32::MAX), None);
        assert_eq!(tb.next_entry(1 << 16).unwrap().0.proto, Udp);
        check(&s, &mut w);
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

    /// Random operations against a model (a map per protocol).
    #[test]
    fn randomized_against_model() {
        let s = Store::new();
        let mut w = Writer::new();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let to = Timeouts {
            tcp_idle: 40,
            udp_idle: 20,
            tcp_closing: 3,
        };
        // model: proto -> eph -> unique
        let mut model: [HashMap<u16, u16>; 2] = [HashMap::new(), HashMap::new()];
        let mut now = 0u32;
        let mut blocks: Vec<PortBlock> = vec![blk(5000, 30)];
        t(&s, &mut w).set_blocks(&blocks).unwrap();
        let mut exhausted = 0;
        for step in 0..20_000 {
            now += rng.below(2) as u32;
            let p = if rng.below(2) == 0 { Tcp } else { Udp };
            let pi = p.index();
            let mut tb = t(&s, &mut w);
            let sh = tb.shared();
            // Ephemeral ports, some of them inside the pools.
            let eph = if rng.below(4) == 0 {
                4990 + rng.below(120) as u16
            } else {
                40000 + rng.below(300) as u16
            };
            match rng.below(20) {
                0..=7 => {
                    let had = model[pi].get(&eph).copied();
                    match tb.create(p, eph, now) {
                        Ok(u) => {
                            if let Some(h) = had {
                                assert_eq!(u, h);
                            } else {
                                assert!(!model[pi].values().any(|&x| x == u));
                                // Identity whenever possible.
                                if sh.held(eph) && !model[pi].values().any(|&x| x == eph) {
                                    assert_eq!(u, eph);
                                }
                                model[pi].insert(eph, u);
                            }
                        }
                        Err(SpttError::NoFreePort) => {
                            assert!(had.is_none());
                            assert_eq!(model[pi].len(), tb.held_ports());
                            exhausted += 1;
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
                8..=11 => {
                    let r = sh.lookup_out(p, eph, now);
                    assert_eq!(r, model[pi].get(&eph).copied());
                    if let Some(u) = r {
                        assert_eq!(sh.lookup_in(p, u, now), Some(eph));
                        if p == Tcp {
                            let f = [TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN][rng.below(4) as usize];
                            sh.note_tcp(u, &Segment::flags(f), rng.below(2) == 0, now);
                        }
                    }
                }
                12 => {
                    if let Some((&e, &u)) = model[pi].iter().next() {
                        assert_eq!(tb.remove(p, u), Some(e));
                        model[pi].remove(&e);
                    }
                }
                13..=15 => {
                    // The model of expiry: read the entries' times first.
                    let mut gone = 0;
                    for proto in Proto::ALL {
                        model[proto.index()].retain(|_, u| {
                            let e = sh.entry(proto, *u).unwrap();
                            let keep = age(now, e.last_use) <= to.for_entry(proto, e.state);
                            gone += usize::from(!keep);
                            keep
                        });
                    }
                    assert_eq!(tb.expire(now, &to), gone);
                }
                16 => {
                    // Grant, renew or invalidate blocks.
                    match rng.below(4) {
                        0 if blocks.len() < MAX_BLOCKS => {
                            let lo = 5000 + 40 * rng.below(3) as u16;
                            let b = blk(lo, 1 + rng.below(39) as u8);
                            if !blocks.iter().any(|x| x.lowest == lo) {
                                blocks.push(b);
                            }
                        }
                        1 if !blocks.is_empty() => {
                            blocks.remove(rng.below(blocks.len() as u64) as usize);
                        }
                        2 => blocks.clear(),
                        _ => {}
                    }
                    let removed = tb.set_blocks(&blocks).unwrap();
                    let mut gone = 0;
                    for m in &mut model {
                        m.retain(|_, u| {
                            let keep = blocks.iter().any(|b| b.contains(*u));
                            gone += usize::from(!keep);
                            keep
                        });
                    }
                    assert_eq!(removed, gone);
                }
                17 => {
                    // Inbound to a port nobody maps: not translated.
                    let u = 4990 + rng.below(200) as u16;
                    let m = model[pi].iter().find(|&(_, &x)| x == u).map(|(&e, _)| e);
                    assert_eq!(sh.lookup_in(p, u, now), m);
                }
                _ => {
                    if rng.below(50) == 0 {
                        let n: usize = model.iter().map(|m| m.len()).sum();
                        assert_eq!(tb.remove_all(), n);
                        model.iter_mut().for_each(|m| m.clear());
                    }
                }
            }
            for proto in Proto::ALL {
                assert_eq!(tb.entries(proto), model[proto.index()].len());
            }
            if step % 500 == 0 {
                check(&s, &mut w);
            }
        }
        check(&s, &mut w);
        assert!(exhausted > 10, "{exhausted}");
    }

    /// Readers on other threads never see a half-made entry, and see a
    /// disagreeing pair only while a removal runs.
    #[test]
    fn concurrent_readers_and_writer() {
        let s = Store::new();
        let mut w = Writer::new();
        t(&s, &mut w)
            .set_blocks(&[blk(5000, 64), blk(6000, 8)])
            .unwrap();
        let stop = AtomicBool::new(false);
        // Removals started and finished: equal when none runs.
        let started = AtomicU64::new(0);
        let finished = AtomicU64::new(0);
        const EPH: core::ops::Range<u16> = 40000..40100;
        let ok = |u: u16| (5000..5064).contains(&u) || (6000..6008).contains(&u);
        let eph_ok = |e: u16| EPH.contains(&e) || ok(e);
        std::thread::scope(|sc| {
            let mut readers = Vec::new();
            for r in 0..3u64 {
                let (s, stop, started, finished) = (&s, &stop, &started, &finished);
                readers.push(sc.spawn(move || {
                    let sh = s.r();
                    let mut rng = Rng(r + 1);
                    let (mut checked, mut hits, mut racing) = (0u64, 0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        let p = if rng.below(2) == 0 { Tcp } else { Udp };
                        let e = if rng.below(8) == 0 {
                            5000 + rng.below(64) as u16
                        } else {
                            EPH.start + rng.below(100) as u16
                        };
                        let tb = sh.t.get(p);
                        // The raw pair.
                        let f0 = finished.load(Ordering::SeqCst);
                        let u = at(tb.out, e).load(Ordering::Acquire);
                        if u != 0 {
                            let b = at(tb.back, u).load(Ordering::Acquire);
                            let s1 = started.load(Ordering::SeqCst);
                            if s1 == f0 {
                                assert_eq!(b, e, "out[{e}] = {u} but back[{u}] = {b}");
                                checked += 1;
                            } else if b != e {
                                racing += 1;
                            }
                            assert!(ok(u), "{u}");
                        }
                        // The lookups.
                        if let Some(u) = sh.lookup_out(p, e, 1) {
                            assert!(ok(u));
                            hits += 1;
                            if let Some(x) = sh.lookup_in(p, u, 1) {
                                assert!(eph_ok(x));
                            }
                            if p == Tcp {
                                sh.note_tcp(u, &Segment::flags(TCP_FIN), true, 1);
                            }
                        }
                    }
                    (checked, hits, racing)
                }));
            }
            let mut rng = Rng(99);
            for i in 0..200_000u32 {
                let mut tb = t(&s, &mut w);
                let p = if rng.below(2) == 0 { Tcp } else { Udp };
                let e = if rng.below(8) == 0 {
                    5000 + rng.below(64) as u16
                } else {
                    EPH.start + rng.below(100) as u16
                };
                if rng.below(3) != 0 {
                    let _ = tb.create(p, e, i);
                } else {
                    started.fetch_add(1, Ordering::SeqCst);
                    match rng.below(40) {
                        0 => {
                            tb.expire(i, &Timeouts::DEFAULT);
                        }
                        1 => {
                            tb.set_blocks(&[blk(5000, 64)]).unwrap();
                            tb.set_blocks(&[blk(5000, 64), blk(6000, 8)]).unwrap();
                        }
                        _ => {
                            if let Some(u) = tb.shared().lookup_out(p, e, i) {
                                tb.remove(p, u);
                            }
                        }
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            }
            stop.store(true, Ordering::Relaxed);
            let mut total = (0, 0, 0);
            for r in readers {
                let (c, h, x) = r.join().unwrap();
                total = (total.0 + c, total.1 + h, total.2 + x);
            }
            std::println!("checked {} hits {} racing {}", total.0, total.1, total.2);
            assert!(total.0 > 1000 && total.1 > 1000, "{total:?}");
        });
        check(&s, &mut w);
    }

    // --- Port rewriting and checksums ---

    const SRC: [u8; 4] = [203, 0, 113, 30];
    const DST: [u8; 4] = [198, 51, 100, 3];

    /// Pseudo-header + segment (checksum field as is).
    fn with_pseudo(proto: Proto, seg: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&SRC);
        v.extend_from_slice(&DST);
        v.push(0);
        v.push(proto.ip());
        v.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        v.extend_from_slice(seg);
        v
    }

    /// The checksum a sender computes: field zeroed, full sum; UDP sends a
    /// computed 0 as 0xffff.
    fn full_checksum(proto: Proto, seg: &[u8]) -> u16 {
        let mut s = seg.to_vec();
        let c = proto.check_offset();
        s[c] = 0;
        s[c + 1] = 0;
        match (proto, checksum::checksum(&with_pseudo(proto, &s))) {
            (Proto::Udp, 0) => 0xffff,
            (_, c) => c,
        }
    }

    fn tcp_segment(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut s = Vec::new();
        s.extend_from_slice(&sport.to_be_bytes());
        s.extend_from_slice(&dport.to_be_bytes());
        s.extend_from_slice(&0x1234_5678u32.to_be_bytes()); // seq
        s.extend_from_slice(&0x9abc_def0u32.to_be_bytes()); // ack
        s.push(5 << 4); // data offset
        s.push(TCP_ACK | 0x08); // PSH ACK
        s.extend_from_slice(&64240u16.to_be_bytes()); // window
        s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
        s.extend_from_slice(payload);
        let c = full_checksum(Tcp, &s);
        s[16..18].copy_from_slice(&c.to_be_bytes());
        s
    }

    fn udp_datagram(sport: u16, dport: u16, payload: &[u8], with_check: bool) -> Vec<u8> {
        let mut s = Vec::new();
        s.extend_from_slice(&sport.to_be_bytes());
        s.extend_from_slice(&dport.to_be_bytes());
        s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(payload);
        if with_check {
            let c = full_checksum(Udp, &s);
            s[6..8].copy_from_slice(&c.to_be_bytes());
        }
        s
    }

    fn field(s: &[u8], off: usize) -> u16 {
        u16::from_be_bytes([s[off], s[off + 1]])
    }

    #[test]
    fn rewrite_known_packets() {
        // A DNS query 203.0.113.30:40000 -> 198.51.100.3:53 and a TCP
        // segment to port 80; translate the source, then back.
        let payload = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        let mut u = udp_datagram(40000, 53, payload, true);
        assert!(checksum::verify(&with_pseudo(Udp, &u)));
        let orig = u.clone();
        assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 5001), Ok(40000));
        assert_eq!(field(&u, 0), 5001);
        assert_eq!(field(&u, 2), 53);
        assert!(checksum::verify(&with_pseudo(Udp, &u)));
        assert_eq!(field(&u, 6), full_checksum(Udp, &u));
        assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 40000), Ok(5001));
        assert_eq!(u, orig);
        let mut t = tcp_segment(40000, 80, b"GET / HTTP/1.0\r\n\r\n");
        let orig = t.clone();
        assert_eq!(rewrite_port(&mut t, Tcp, Which::Src, 5001), Ok(40000));
        assert!(checksum::verify(&with_pseudo(Tcp, &t)));
        assert_eq!(field(&t, 16), full_checksum(Tcp, &t));
        // Inbound reply: destination port.
        let mut r = tcp_segment(80, 5001, b"HTTP/1.0 200 OK\r\n");
        assert_eq!(rewrite_port(&mut r, Tcp, Which::Dst, 40000), Ok(5001));
        assert_eq!(field(&r, 2), 40000);
        assert_eq!(field(&r, 16), full_checksum(Tcp, &r));
        // Same port: nothing changes.
        let mut same = orig.clone();
        assert_eq!(rewrite_port(&mut same, Tcp, Which::Src, 40000), Ok(40000));
        assert_eq!(same, orig);
    }

    #[test]
    fn udp_zero_checksum_stays_zero_and_zero_becomes_ffff() {
        let mut u = udp_datagram(40000, 53, b"hello", false);
        assert_eq!(field(&u, 6), 0);
        assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 5001), Ok(40000));
        assert_eq!(field(&u, 0), 5001);
        assert_eq!(field(&u, 6), 0);
        // Craft a datagram whose checksum after the rewrite computes to 0:
        // choose the last payload word so that the new sum is 0xffff.
        let mut u = udp_datagram(5001, 53, &[0xab, 0xcd, 0, 0], false);
        let sum = checksum::sum(&with_pseudo(Udp, &u), 0);
        let adj = !sum;
        u[10..12].copy_from_slice(&adj.to_be_bytes());
        assert_eq!(checksum::checksum(&with_pseudo(Udp, &u)), 0);
        // That is the datagram after translation; build the one before.
        u[0..2].copy_from_slice(&40000u16.to_be_bytes());
        let c = full_checksum(Udp, &u);
        assert_ne!(c, 0);
        u[6..8].copy_from_slice(&c.to_be_bytes());
        assert_eq!(rewrite_port(&mut u, Udp, Which::Src, 5001), Ok(40000));
        assert_eq!(field(&u, 6), 0xffff);
        assert!(checksum::verify(&with_pseudo(Udp, &u)));
    }

    #[test]
    fn rewrite_random_packets_match_recomputation() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..20_000 {
            let len = rng.below(60) as usize;
            let payload: Vec<u8> = (0..len)
                .map(|_| match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    _ => rng.next() as u8,
                })
                .collect();
            let (sp, dp) = (rng.next() as u16, rng.next() as u16);
            let proto = if round % 2 == 0 { Tcp } else { Udp };
            let zero_udp = proto == Udp && rng.below(5) == 0;
            let mut seg = match proto {
                Tcp => tcp_segment(sp, dp, &payload),
                Udp => udp_datagram(sp, dp, &payload, !zero_udp),
            };
            let which = if rng.below(2) == 0 {
                Which::Src
            } else {
                Which::Dst
            };
            let new = match rng.below(4) {
                0 => 0,
                1 => 0xffff,
                _ => rng.next() as u16,
            };
            let old = rewrite_port(&mut seg, proto, which, new).unwrap();
            assert_eq!(old, if which == Which::Src { sp } else { dp });
            assert_eq!(field(&seg, which.offset()), new);
            let c = field(&seg, proto.check_offset());
            if zero_udp {
                assert_eq!(c, 0);
            } else {
                assert_eq!(c, full_checksum(proto, &seg), "round {round}");
                assert!(checksum::verify(&with_pseudo(proto, &seg)));
            }
        }
    }

    #[test]
    fn rewrite_truncated_headers() {
        let mut t = tcp_segment(1, 2, b"");
        let mut short = t[..17].to_vec();
        let before = short.clone();
        assert_eq!(
            rewrite_port(&mut short, Tcp, Which::Src, 9),
            Err(SpttError::Truncated)
        );
        assert_eq!(short, before);
        assert_eq!(rewrite_port(&mut t[..18], Tcp, Which::Src, 9), Ok(1));
        let mut u = udp_datagram(1, 2, b"", true);
        assert_eq!(
            rewrite_port(&mut u[..7], Udp, Which::Dst, 9),
            Err(SpttError::Truncated)
        );
        assert_eq!(rewrite_port(&mut u[..8], Udp, Which::Dst, 9), Ok(2));
        assert_eq!(
            rewrite_port(&mut [], Udp, Which::Dst, 9),
            Err(SpttError::Truncated)
        );
        // set_port: the port only (CHECKSUM_PARTIAL).
        let mut p = [0x9c, 0x40, 0x00, 0x35, 0xaa, 0xbb];
        assert_eq!(set_port(&mut p, Which::Src, 5001), Ok(40000));
        assert_eq!(p, [0x13, 0x89, 0x00, 0x35, 0xaa, 0xbb]);
        assert_eq!(
            set_port(&mut p[..3], Which::Dst, 1),
            Err(SpttError::Truncated)
        );
    }

    #[test]
    fn bitmap_helpers() {
        let mut m = [0u64; BITMAP_WORDS];
        assert_eq!(scan(&m, 0, u16::MAX, true), None);
        assert_eq!(scan(&m, 0, u16::MAX, false), Some(0));
        assert_eq!(scan(&m, 70000, u16::MAX, false), None);
        assert_eq!(scan(&m, 10, 9, false), None);
        for p in [0u16, 63, 64, 1000, 65535] {
            m[usize::from(p >> 6)] |= 1 << (p & 63);
        }
        assert_eq!(scan(&m, 0, u16::MAX, true), Some(0));
        assert_eq!(scan(&m, 1, u16::MAX, true), Some(63));
        assert_eq!(scan(&m, 64, 64, true), Some(64));
        assert_eq!(scan(&m, 65, 999, true), None);
        assert_eq!(scan(&m, 65, 1000, true), Some(1000));
        assert_eq!(scan(&m, 1001, u16::MAX, true), Some(65535));
        assert_eq!(scan(&m, 63, 64, false), None);
        assert_eq!(scan(&m, 63, 65, false), Some(65));
        assert_eq!(word_mask(0, 0, 63), !0);
        assert_eq!(word_mask(1, 0, 63), 0);
        assert_eq!(word_mask(1, 65, 66), 0b110);
        assert_eq!(word_mask(1023, 65535, 65535), 1 << 63);
        assert_eq!(last_port(&blk(65281, 255)), 65535);
        assert_eq!(age(5, 10), 0);
        assert_eq!(age(10, 5), 5);
        assert_eq!(age(3, u32::MAX), 4);
    }
}
