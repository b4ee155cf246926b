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
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8};

use super::ipv4::proto;
use super::pap::PortBlock;
use super::uapi::flow_state;

#[path = "sptt/map.rs"]
mod map;
#[path = "sptt/rewrite.rs"]
mod rewrite;
#[path = "sptt/shared.rs"]
mod shared;
#[path = "sptt/writer.rs"]
mod writer;

use map::{last_port, word_mask, PerProto};
pub use rewrite::{rewrite_port, set_port, Which};
pub use shared::Shared;

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
}

#[cfg(test)]
#[path = "sptt/tests.rs"]
mod tests;
