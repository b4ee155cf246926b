// SPDX-License-Identifier: GPL-2.0

//! Port Allocation Protocol (PAP): the wire codec.
//!
//! PAP messages are ICMP-format messages (IPv4 protocol 1) between a host and
//! the router's LAN address: `type u8, code u8, checksum u16`, then a body of
//! one or two 32-bit words, all in network byte order. The checksum is the
//! Internet checksum over the whole PAP message. This module handles only
//! that ICMP-format payload, not the IPv4 header around it.
//!
//! Base layouts (from the reference) and the extensions are documented byte
//! by byte in `Documentation/networking/dnat-pap.rst`. In short:
//!
//! - Every base message keeps its length and layout. A message may carry an
//!   optional 12-byte [`Trailer`] (`xid u32, epoch u32, lease u32`) after the
//!   base body: it is present iff the message is exactly 12 bytes longer
//!   than its base length; any other length is an error.
//! - New codes: block invalidate (32/3, 33/3), renew (32/4, 33/4), blacklist
//!   add and remove (34/1, 35/1), and a new type 36: invalidate all (36/0)
//!   and the acknowledgement of host notices (36/1 done, 36/2 refused).
//! - Failure responses carry a [`Reason`] in the base layout's last unused
//!   byte (zero, "unspecified", in base messages).
//!
//! Type 32 and 33 codes 0 and 1 mean "request" towards the router and
//! "failure"/"success" towards a host, so [`decode`] takes the
//! [`Direction`]. Decoding is strict (see [`PapError`]): every unused field
//! must be zero and the checksum must be the canonical one, so an accepted
//! buffer re-encodes to the same bytes, and [`encode`] refuses every message
//! that [`decode`] would reject. Nothing here allocates or panics.

use core::fmt;
use core::net::Ipv4Addr;

use super::checksum;
use super::config::{is_unicast, SPI_FIRST_ALLOCATABLE};

/// IPv4 protocol number of PAP (ICMP format).
pub const IPPROTO_ICMP: u8 = 1;
/// Length of `type, code, checksum`.
pub const HEADER_LEN: usize = 4;
/// Length of the optional extension trailer.
pub const TRAILER_LEN: usize = 12;
/// Shortest PAP message.
pub const MIN_LEN: usize = 8;
/// Longest PAP message (12-byte base body plus trailer).
pub const MAX_LEN: usize = 24;
/// Ports below this value are "low" ports (type 32 code 0 requests).
pub const PORT_CLASS_BOUNDARY: u16 = 10_000;
/// The ICMP types that carry PAP ([`msg_type`]: 32 to 36).
pub const TYPES: core::ops::RangeInclusive<u8> = msg_type::PORT..=msg_type::CONTROL;
/// TTL of the PAP messages dnat sends: they stay on the LAN.
pub const TTL: u8 = 1;

const MAX_WORDS: usize = MAX_LEN / 4;

/// PAP message types.
pub mod msg_type {
    /// Ports: request, response, invalidate, block invalidate, renew.
    pub const PORT: u8 = 32;
    /// SPIs: request, response, invalidate, block invalidate, renew.
    pub const SPI: u8 = 33;
    /// External address validate (SA established), blacklist add.
    pub const VALIDATE: u8 = 34;
    /// External address invalidate (SA ended), blacklist remove.
    pub const INVALIDATE: u8 = 35;
    /// Extension: invalidate all, acknowledgements.
    pub const CONTROL: u8 = 36;
}

/// PAP codes, per type (see the table in the documentation).
pub mod code {
    /// Type 32 to the router: request ports below 10000.
    pub const REQUEST_LOW: u8 = 0;
    /// Type 32 to the router: request ports 10000 and above.
    pub const REQUEST_HIGH: u8 = 1;
    /// Type 33 to the router: request SPIs.
    pub const REQUEST: u8 = 0;
    /// Types 32 and 33 to a host: failure response.
    pub const FAILURE: u8 = 0;
    /// Types 32 and 33 to a host: success response.
    pub const SUCCESS: u8 = 1;
    /// Types 32 and 33, both ways: invalidate one port or SPI.
    pub const INVALIDATE: u8 = 2;
    /// Types 32 and 33, both ways: invalidate a block (extension).
    pub const INVALIDATE_BLOCK: u8 = 3;
    /// Types 32 and 33 to the router: renew a block's lease (extension).
    pub const RENEW: u8 = 4;
    /// Types 34 and 35: the base SA validate / invalidate.
    pub const SA: u8 = 0;
    /// Types 34 and 35: blacklist add / remove (extension).
    pub const BLACKLIST: u8 = 1;
    /// Type 36, both ways: invalidate all (extension).
    pub const INVALIDATE_ALL: u8 = 0;
    /// Type 36 to a host: the acknowledged notice was applied (extension).
    pub const DONE: u8 = 1;
    /// Type 36 to a host: the acknowledged notice was refused (extension).
    pub const REFUSED: u8 = 2;
    /// Type 36: key request (to the router) and key grant (to a host),
    /// `pap_auth.rs`.
    pub const KEY: u8 = 3;
}

/// Scope bits of an invalidate-all message.
pub mod scope {
    /// Every port block.
    pub const PORTS: u8 = 0x01;
    /// Every SPI block.
    pub const SPIS: u8 = 0x02;
    /// Every established-SA entry and blacklist entry.
    pub const SA: u8 = 0x04;
    /// Everything.
    pub const ALL: u8 = PORTS | SPIS | SA;
}

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a host to the router.
    ToRouter,
    /// From the router to a host (or broadcast to the LAN).
    ToHost,
}

impl Direction {
    /// The other direction.
    pub const fn reverse(self) -> Self {
        match self {
            Self::ToRouter => Self::ToHost,
            Self::ToHost => Self::ToRouter,
        }
    }
}

/// The optional extension trailer (12 bytes after the base body).
///
/// - `xid`: transaction id. Nonzero in every message to the router and in
///   every reply (responses, acknowledgements), which echo it; zero in the
///   router's unsolicited invalidations.
/// - `epoch`: to the router, the router epoch the host last saw (0: none
///   yet); to a host, the router's current epoch, never 0.
/// - `lease`: seconds. Requested lease in requests and renewals (0: router
///   default), granted lease in success responses (0: no expiry), 0 in
///   every other message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Transaction id.
    pub xid: u32,
    /// Router epoch.
    pub epoch: u32,
    /// Lease in seconds.
    pub lease: u32,
}

/// The port range a type 32 request asks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortClass {
    /// Code 0: ports 1 to 9999.
    Low,
    /// Code 1: ports 10000 to 65535.
    High,
}

impl PortClass {
    /// Whether `port` belongs to this class.
    pub const fn contains(self, port: u16) -> bool {
        match self {
            Self::Low => port != 0 && port < PORT_CLASS_BOUNDARY,
            Self::High => port >= PORT_CLASS_BOUNDARY,
        }
    }
}

/// A block of consecutive ports: `lowest .. lowest + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortBlock {
    /// Lowest port, never 0.
    pub lowest: u16,
    /// Number of ports, 1 to 255.
    pub count: u8,
}

impl PortBlock {
    /// Checks the block as [`decode`] does.
    pub fn check(&self) -> Result<(), PapError> {
        if self.lowest == 0 {
            return Err(PapError::ZeroPort);
        }
        if self.count == 0 {
            return Err(PapError::ZeroCount);
        }
        if u32::from(self.lowest) + u32::from(self.count) > 0x1_0000 {
            return Err(PapError::PortRangeOverflow);
        }
        Ok(())
    }

    /// Whether `port` is in the block.
    pub fn contains(&self, port: u16) -> bool {
        port >= self.lowest && u32::from(port) < u32::from(self.lowest) + u32::from(self.count)
    }
}

/// A block of consecutive SPIs: `lowest .. lowest + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiBlock {
    /// Lowest SPI, at least 256.
    pub lowest: u32,
    /// Number of SPIs, 1 to 65535.
    pub count: u16,
}

impl SpiBlock {
    /// Checks the block as [`decode`] does.
    pub fn check(&self) -> Result<(), PapError> {
        check_spi(self.lowest)?;
        if self.count == 0 {
            return Err(PapError::ZeroCount);
        }
        if u64::from(self.lowest) + u64::from(self.count) > 0x1_0000_0000 {
            return Err(PapError::SpiRangeOverflow);
        }
        Ok(())
    }

    /// Whether `spi` is in the block.
    pub fn contains(&self, spi: u32) -> bool {
        spi >= self.lowest && u64::from(spi) < u64::from(self.lowest) + u64::from(self.count)
    }
}

/// Why the router refused a request or a notice (failure responses, 36/2).
///
/// Carried in the last byte of the base layout, which the reference leaves
/// unused (zero, i.e. [`Reason::Unspecified`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Reason {
    /// No reason given (the base protocol's failure).
    Unspecified = 0,
    /// No free block of that size or class, or a full table.
    NoSpace = 1,
    /// The host already holds its quota.
    OverQuota = 2,
    /// The host sends requests too fast.
    RateLimited = 3,
    /// The router has no pool for this resource (not configured).
    NotConfigured = 4,
    /// The host's resources were revoked; the router refuses to serve it.
    Revoked = 5,
    /// The port, SPI or block named is not allocated to this host.
    NotOwned = 6,
    /// The block is named in a valid certificate: the host cannot give it
    /// back before the certificate ends or is revoked.
    Pinned = 7,
    /// The message was not authenticated with a key the router accepts
    /// (`pap_auth.rs`): the host gets a key (36/3) and sends it again.
    Unauthenticated = 8,
}

impl Reason {
    /// Every reason, in wire order.
    pub const ALL: [Reason; 9] = [
        Reason::Unspecified,
        Reason::NoSpace,
        Reason::OverQuota,
        Reason::RateLimited,
        Reason::NotConfigured,
        Reason::Revoked,
        Reason::NotOwned,
        Reason::Pinned,
        Reason::Unauthenticated,
    ];

    /// The reason with wire value `v`.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Unspecified,
            1 => Self::NoSpace,
            2 => Self::OverQuota,
            3 => Self::RateLimited,
            4 => Self::NotConfigured,
            5 => Self::Revoked,
            6 => Self::NotOwned,
            7 => Self::Pinned,
            8 => Self::Unauthenticated,
            _ => return None,
        })
    }

    /// Short name for logs and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::NoSpace => "no_space",
            Self::OverQuota => "over_quota",
            Self::RateLimited => "rate_limited",
            Self::NotConfigured => "not_configured",
            Self::Revoked => "revoked",
            Self::NotOwned => "not_owned",
            Self::Pinned => "pinned",
            Self::Unauthenticated => "unauthenticated",
        }
    }
}

/// A host notice that the router acknowledges with type 36 code 1 or 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// 32/2.
    PortInvalidate,
    /// 32/3.
    PortBlockInvalidate,
    /// 33/2.
    SpiInvalidate,
    /// 33/3.
    SpiBlockInvalidate,
    /// 34/0.
    SaValidate,
    /// 34/1.
    BlacklistAdd,
    /// 35/0.
    SaInvalidate,
    /// 35/1.
    BlacklistRemove,
    /// 36/0.
    InvalidateAll,
}

impl Acked {
    /// Type and code of the acknowledged message.
    pub const fn type_code(self) -> (u8, u8) {
        match self {
            Self::PortInvalidate => (msg_type::PORT, code::INVALIDATE),
            Self::PortBlockInvalidate => (msg_type::PORT, code::INVALIDATE_BLOCK),
            Self::SpiInvalidate => (msg_type::SPI, code::INVALIDATE),
            Self::SpiBlockInvalidate => (msg_type::SPI, code::INVALIDATE_BLOCK),
            Self::SaValidate => (msg_type::VALIDATE, code::SA),
            Self::BlacklistAdd => (msg_type::VALIDATE, code::BLACKLIST),
            Self::SaInvalidate => (msg_type::INVALIDATE, code::SA),
            Self::BlacklistRemove => (msg_type::INVALIDATE, code::BLACKLIST),
            Self::InvalidateAll => (msg_type::CONTROL, code::INVALIDATE_ALL),
        }
    }

    /// The acknowledged message with this type and code, if it is one.
    pub const fn from_type_code(ty: u8, code: u8) -> Option<Self> {
        Some(match (ty, code) {
            (msg_type::PORT, code::INVALIDATE) => Self::PortInvalidate,
            (msg_type::PORT, code::INVALIDATE_BLOCK) => Self::PortBlockInvalidate,
            (msg_type::SPI, code::INVALIDATE) => Self::SpiInvalidate,
            (msg_type::SPI, code::INVALIDATE_BLOCK) => Self::SpiBlockInvalidate,
            (msg_type::VALIDATE, code::SA) => Self::SaValidate,
            (msg_type::VALIDATE, code::BLACKLIST) => Self::BlacklistAdd,
            (msg_type::INVALIDATE, code::SA) => Self::SaInvalidate,
            (msg_type::INVALIDATE, code::BLACKLIST) => Self::BlacklistRemove,
            (msg_type::CONTROL, code::INVALIDATE_ALL) => Self::InvalidateAll,
            _ => return None,
        })
    }
}

/// A PAP message. See the module documentation for the wire layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 32/0 (low) or 32/1 (high), to the router: asks for `count` ports.
    PortRequest {
        /// Which range.
        class: PortClass,
        /// Ports asked for, at least 1.
        count: u8,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 32/1 (success) or 32/0 (failure), to a host.
    PortResponse {
        /// The granted block, or why nothing was granted.
        result: Result<PortBlock, Reason>,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 32/2, both ways: a host gives back a port, or the router revokes it.
    PortInvalidate {
        /// Who sends it.
        dir: Direction,
        /// The port, never 0.
        port: u16,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 32/3, both ways (extension): a whole block of ports.
    PortBlockInvalidate {
        /// Who sends it.
        dir: Direction,
        /// The block.
        block: PortBlock,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 32/4, to the router (extension): renews the lease of a port block.
    PortRenew {
        /// The block, as granted.
        block: PortBlock,
        /// Mandatory trailer (`lease`: requested lease).
        ext: Trailer,
    },
    /// 33/0, to the router: asks for `count` SPIs.
    SpiRequest {
        /// SPIs asked for, at least 1.
        count: u16,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 33/1 (success) or 33/0 (failure), to a host.
    SpiResponse {
        /// The granted block, or why nothing was granted.
        result: Result<SpiBlock, Reason>,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 33/2, both ways: a host gives back an SPI, or the router revokes it.
    SpiInvalidate {
        /// Who sends it.
        dir: Direction,
        /// The SPI, at least 256.
        spi: u32,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 33/3, both ways (extension): a whole block of SPIs.
    SpiBlockInvalidate {
        /// Who sends it.
        dir: Direction,
        /// The block.
        block: SpiBlock,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 33/4, to the router (extension): renews the lease of an SPI block.
    SpiRenew {
        /// The block, as granted.
        block: SpiBlock,
        /// Mandatory trailer (`lease`: requested lease).
        ext: Trailer,
    },
    /// 34/0, to the router: an SA with `addr` using inbound `spi` exists.
    SaValidate {
        /// The SA peer's external address (unicast).
        addr: Ipv4Addr,
        /// The SA's inbound SPI, at least 256.
        spi: u32,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 35/0, to the router: that SA ended.
    SaInvalidate {
        /// The SA peer's external address (unicast).
        addr: Ipv4Addr,
        /// The SA's inbound SPI, at least 256.
        spi: u32,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 34/1, to the router (extension): drop ESP/AH for this host from
    /// `addr` and/or with `spi` (`None`: any; not both `None`).
    BlacklistAdd {
        /// External source address, `None` for any (0.0.0.0 on the wire).
        addr: Option<Ipv4Addr>,
        /// SPI, `None` for any (0 on the wire).
        spi: Option<u32>,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 35/1, to the router (extension): removes a blacklist entry.
    BlacklistRemove {
        /// External source address, `None` for any (0.0.0.0 on the wire).
        addr: Option<Ipv4Addr>,
        /// SPI, `None` for any (0 on the wire).
        spi: Option<u32>,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 36/0, both ways (extension): a host gives back, or the router
    /// revokes, everything in `scope` (bits of [`scope`]).
    InvalidateAll {
        /// Who sends it.
        dir: Direction,
        /// Nonzero set of [`scope`] bits.
        scope: u8,
        /// Extension trailer.
        ext: Option<Trailer>,
    },
    /// 36/1 (`Ok`) or 36/2 (`Err`), to a host (extension): the router
    /// applied or refused the host notice with the same `xid`.
    Ack {
        /// Which notice.
        acked: Acked,
        /// Applied, or refused and why.
        result: Result<(), Reason>,
        /// Mandatory trailer.
        ext: Trailer,
    },
}

/// Why a buffer was not a valid PAP message, or a message cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PapError {
    /// Shorter than the header or the base layout of its type and code.
    TooShort,
    /// Neither the base length nor the base length plus the trailer.
    BadLength,
    /// The message kind requires the extension trailer.
    MissingTrailer,
    /// The checksum is not the Internet checksum of the message.
    BadChecksum,
    /// Not a PAP type (32 to 36).
    UnknownType,
    /// No such code for this type.
    UnknownCode,
    /// The type and code exist only in the other direction.
    WrongDirection,
    /// An unused or reserved field is not zero.
    NonzeroUnused,
    /// A failure response carries a block (lowest/total not zero).
    FailureWithBlock,
    /// Unknown failure reason.
    UnknownReason,
    /// An acknowledgement names a message that is not acknowledged.
    BadAcked,
    /// A count of zero ports or SPIs.
    ZeroCount,
    /// Port 0.
    ZeroPort,
    /// A port block goes past 65535.
    PortRangeOverflow,
    /// SPI 0.
    ZeroSpi,
    /// SPI 1 to 255 (reserved).
    ReservedSpi,
    /// An SPI block goes past 2^32 - 1.
    SpiRangeOverflow,
    /// An external address that is not unicast.
    BadAddress,
    /// A blacklist entry with neither an address nor an SPI.
    EmptyBlacklistEntry,
    /// An invalidate-all scope of zero or with unknown bits.
    BadScope,
    /// Transaction id 0 where one is required.
    ZeroXid,
    /// Transaction id in an unsolicited router message.
    NonzeroXid,
    /// Router epoch 0 in a message from the router.
    ZeroEpoch,
    /// A lease in a message that has none.
    NonzeroLease,
    /// The output buffer is too small (encoding only).
    BufferTooSmall,
    /// An auth block or key grant with key id 0 (`pap_auth.rs`).
    ZeroKeyId,
    /// A key grant whose auth block names another key, or a sequence
    /// number (`pap_auth.rs`).
    BadKeyGrant,
}

impl PapError {
    /// Number of variants (size of a per-reason counter array).
    pub const COUNT: usize = 27;

    /// Every variant, in [`PapError::index`] order.
    pub const ALL: [PapError; Self::COUNT] = [
        PapError::TooShort,
        PapError::BadLength,
        PapError::MissingTrailer,
        PapError::BadChecksum,
        PapError::UnknownType,
        PapError::UnknownCode,
        PapError::WrongDirection,
        PapError::NonzeroUnused,
        PapError::FailureWithBlock,
        PapError::UnknownReason,
        PapError::BadAcked,
        PapError::ZeroCount,
        PapError::ZeroPort,
        PapError::PortRangeOverflow,
        PapError::ZeroSpi,
        PapError::ReservedSpi,
        PapError::SpiRangeOverflow,
        PapError::BadAddress,
        PapError::EmptyBlacklistEntry,
        PapError::BadScope,
        PapError::ZeroXid,
        PapError::NonzeroXid,
        PapError::ZeroEpoch,
        PapError::NonzeroLease,
        PapError::BufferTooSmall,
        PapError::ZeroKeyId,
        PapError::BadKeyGrant,
    ];

    /// Index in `0..COUNT`, for per-reason counters.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Short identifier for counters and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::BadLength => "bad_length",
            Self::MissingTrailer => "missing_trailer",
            Self::BadChecksum => "bad_checksum",
            Self::UnknownType => "unknown_type",
            Self::UnknownCode => "unknown_code",
            Self::WrongDirection => "wrong_direction",
            Self::NonzeroUnused => "nonzero_unused",
            Self::FailureWithBlock => "failure_with_block",
            Self::UnknownReason => "unknown_reason",
            Self::BadAcked => "bad_acked",
            Self::ZeroCount => "zero_count",
            Self::ZeroPort => "zero_port",
            Self::PortRangeOverflow => "port_range_overflow",
            Self::ZeroSpi => "zero_spi",
            Self::ReservedSpi => "reserved_spi",
            Self::SpiRangeOverflow => "spi_range_overflow",
            Self::BadAddress => "bad_address",
            Self::EmptyBlacklistEntry => "empty_blacklist_entry",
            Self::BadScope => "bad_scope",
            Self::ZeroXid => "zero_xid",
            Self::NonzeroXid => "nonzero_xid",
            Self::ZeroEpoch => "zero_epoch",
            Self::NonzeroLease => "nonzero_lease",
            Self::BufferTooSmall => "buffer_too_small",
            Self::ZeroKeyId => "zero_key_id",
            Self::BadKeyGrant => "bad_key_grant",
        }
    }

    /// Human-readable message.
    pub const fn message(self) -> &'static str {
        match self {
            Self::TooShort => "message shorter than its layout",
            Self::BadLength => "length is neither the base length nor base plus trailer",
            Self::MissingTrailer => "this message requires the extension trailer",
            Self::BadChecksum => "bad checksum",
            Self::UnknownType => "not a PAP message type",
            Self::UnknownCode => "unknown code for this type",
            Self::WrongDirection => "message kind not valid in this direction",
            Self::NonzeroUnused => "unused field is not zero",
            Self::FailureWithBlock => "failure response carries a block",
            Self::UnknownReason => "unknown failure reason",
            Self::BadAcked => "acknowledgement names a message that is not acknowledged",
            Self::ZeroCount => "count is zero",
            Self::ZeroPort => "port 0",
            Self::PortRangeOverflow => "port block goes past 65535",
            Self::ZeroSpi => "SPI 0",
            Self::ReservedSpi => "SPIs 1 to 255 are reserved",
            Self::SpiRangeOverflow => "SPI block goes past 4294967295",
            Self::BadAddress => "external address is not unicast",
            Self::EmptyBlacklistEntry => "blacklist entry with neither address nor SPI",
            Self::BadScope => "invalidate-all scope is zero or has unknown bits",
            Self::ZeroXid => "transaction id 0 where one is required",
            Self::NonzeroXid => "transaction id in an unsolicited message",
            Self::ZeroEpoch => "router epoch 0",
            Self::NonzeroLease => "lease in a message that has none",
            Self::BufferTooSmall => "output buffer too small",
            Self::ZeroKeyId => "key id 0",
            Self::BadKeyGrant => "key grant sealed with another key or a sequence number",
        }
    }
}

impl fmt::Display for PapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// The kind of a message: type, code and direction resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PortRequest(PortClass),
    PortResponse(bool),
    PortInvalidate,
    PortBlockInvalidate,
    PortRenew,
    SpiRequest,
    SpiResponse(bool),
    SpiInvalidate,
    SpiBlockInvalidate,
    SpiRenew,
    SaValidate,
    BlacklistAdd,
    SaInvalidate,
    BlacklistRemove,
    InvalidateAll,
    Ack(bool),
}

impl Kind {
    fn lookup(ty: u8, code: u8, dir: Direction) -> Option<Self> {
        use Direction::{ToHost, ToRouter};
        Some(match (ty, code, dir) {
            (msg_type::PORT, code::REQUEST_LOW, ToRouter) => Self::PortRequest(PortClass::Low),
            (msg_type::PORT, code::REQUEST_HIGH, ToRouter) => Self::PortRequest(PortClass::High),
            (msg_type::PORT, code::FAILURE, ToHost) => Self::PortResponse(false),
            (msg_type::PORT, code::SUCCESS, ToHost) => Self::PortResponse(true),
            (msg_type::PORT, code::INVALIDATE, _) => Self::PortInvalidate,
            (msg_type::PORT, code::INVALIDATE_BLOCK, _) => Self::PortBlockInvalidate,
            (msg_type::PORT, code::RENEW, ToRouter) => Self::PortRenew,
            (msg_type::SPI, code::REQUEST, ToRouter) => Self::SpiRequest,
            (msg_type::SPI, code::FAILURE, ToHost) => Self::SpiResponse(false),
            (msg_type::SPI, code::SUCCESS, ToHost) => Self::SpiResponse(true),
            (msg_type::SPI, code::INVALIDATE, _) => Self::SpiInvalidate,
            (msg_type::SPI, code::INVALIDATE_BLOCK, _) => Self::SpiBlockInvalidate,
            (msg_type::SPI, code::RENEW, ToRouter) => Self::SpiRenew,
            (msg_type::VALIDATE, code::SA, ToRouter) => Self::SaValidate,
            (msg_type::VALIDATE, code::BLACKLIST, ToRouter) => Self::BlacklistAdd,
            (msg_type::INVALIDATE, code::SA, ToRouter) => Self::SaInvalidate,
            (msg_type::INVALIDATE, code::BLACKLIST, ToRouter) => Self::BlacklistRemove,
            (msg_type::CONTROL, code::INVALIDATE_ALL, _) => Self::InvalidateAll,
            (msg_type::CONTROL, code::DONE, ToHost) => Self::Ack(true),
            (msg_type::CONTROL, code::REFUSED, ToHost) => Self::Ack(false),
            _ => return None,
        })
    }

    fn parse(ty: u8, code: u8, dir: Direction) -> Result<Self, PapError> {
        if let Some(kind) = Self::lookup(ty, code, dir) {
            return Ok(kind);
        }
        if !TYPES.contains(&ty) {
            return Err(PapError::UnknownType);
        }
        if Self::lookup(ty, code, dir.reverse()).is_some() {
            return Err(PapError::WrongDirection);
        }
        Err(PapError::UnknownCode)
    }

    const fn type_code(self) -> (u8, u8) {
        match self {
            Self::PortRequest(PortClass::Low) => (msg_type::PORT, code::REQUEST_LOW),
            Self::PortRequest(PortClass::High) => (msg_type::PORT, code::REQUEST_HIGH),
            Self::PortResponse(false) => (msg_type::PORT, code::FAILURE),
            Self::PortResponse(true) => (msg_type::PORT, code::SUCCESS),
            Self::PortInvalidate => (msg_type::PORT, code::INVALIDATE),
            Self::PortBlockInvalidate => (msg_type::PORT, code::INVALIDATE_BLOCK),
            Self::PortRenew => (msg_type::PORT, code::RENEW),
            Self::SpiRequest => (msg_type::SPI, code::REQUEST),
            Self::SpiResponse(false) => (msg_type::SPI, code::FAILURE),
            Self::SpiResponse(true) => (msg_type::SPI, code::SUCCESS),
            Self::SpiInvalidate => (msg_type::SPI, code::INVALIDATE),
            Self::SpiBlockInvalidate => (msg_type::SPI, code::INVALIDATE_BLOCK),
            Self::SpiRenew => (msg_type::SPI, code::RENEW),
            Self::SaValidate => (msg_type::VALIDATE, code::SA),
            Self::BlacklistAdd => (msg_type::VALIDATE, code::BLACKLIST),
            Self::SaInvalidate => (msg_type::INVALIDATE, code::SA),
            Self::BlacklistRemove => (msg_type::INVALIDATE, code::BLACKLIST),
            Self::InvalidateAll => (msg_type::CONTROL, code::INVALIDATE_ALL),
            Self::Ack(true) => (msg_type::CONTROL, code::DONE),
            Self::Ack(false) => (msg_type::CONTROL, code::REFUSED),
        }
    }

    /// Body length in 32-bit words (1: 8-byte base, 2: 12-byte base).
    const fn body_words(self) -> usize {
        match self {
            Self::SpiResponse(_)
            | Self::SpiBlockInvalidate
            | Self::SpiRenew
            | Self::SaValidate
            | Self::BlacklistAdd
            | Self::SaInvalidate
            | Self::BlacklistRemove => 2,
            _ => 1,
        }
    }

    const fn base_len(self) -> usize {
        HEADER_LEN + 4 * self.body_words()
    }

    const fn trailer_required(self) -> bool {
        matches!(self, Self::PortRenew | Self::SpiRenew | Self::Ack(_))
    }
}

/// What the trailer of a message must look like.
#[derive(Clone, Copy)]
enum Role {
    /// To the router, expecting a response: xid != 0, any lease.
    Request,
    /// To the router, expecting an acknowledgement: xid != 0, lease 0.
    Notice,
    /// To a host, answering `xid`: xid != 0, epoch != 0; lease allowed?
    Reply(bool),
    /// To a host, unsolicited: xid 0, epoch != 0, lease 0.
    Unsolicited,
}

impl Role {
    const fn invalidate(dir: Direction) -> Self {
        match dir {
            Direction::ToRouter => Self::Notice,
            Direction::ToHost => Self::Unsolicited,
        }
    }
}

fn check_trailer(t: &Trailer, role: Role) -> Result<(), PapError> {
    // (xid: nonzero, else zero), (epoch: nonzero, else any), (lease allowed)
    let (xid, epoch, lease) = match role {
        Role::Request => (true, false, true),
        Role::Notice => (true, false, false),
        Role::Reply(lease) => (true, true, lease),
        Role::Unsolicited => (false, true, false),
    };
    if xid && t.xid == 0 {
        return Err(PapError::ZeroXid);
    }
    if !xid && t.xid != 0 {
        return Err(PapError::NonzeroXid);
    }
    if epoch && t.epoch == 0 {
        return Err(PapError::ZeroEpoch);
    }
    if !lease && t.lease != 0 {
        return Err(PapError::NonzeroLease);
    }
    Ok(())
}

fn check_ext(ext: &Option<Trailer>, role: Role) -> Result<(), PapError> {
    match ext {
        Some(t) => check_trailer(t, role),
        None => Ok(()),
    }
}

fn check_spi(spi: u32) -> Result<(), PapError> {
    match spi {
        0 => Err(PapError::ZeroSpi),
        s if s < SPI_FIRST_ALLOCATABLE => Err(PapError::ReservedSpi),
        _ => Ok(()),
    }
}

fn check_addr(addr: Ipv4Addr) -> Result<(), PapError> {
    if is_unicast(addr) {
        Ok(())
    } else {
        Err(PapError::BadAddress)
    }
}

fn check_blacklist(addr: Option<Ipv4Addr>, spi: Option<u32>) -> Result<(), PapError> {
    if addr.is_none() && spi.is_none() {
        return Err(PapError::EmptyBlacklistEntry);
    }
    if let Some(a) = addr {
        check_addr(a)?;
    }
    if let Some(s) = spi {
        check_spi(s)?;
    }
    Ok(())
}

const fn port_word(b: PortBlock) -> u32 {
    (b.lowest as u32) << 16 | (b.count as u32) << 8
}

const fn spi_words(b: SpiBlock) -> (u32, u32) {
    ((b.count as u32) << 16, b.lowest)
}

fn ok_if(cond: bool, err: PapError) -> Result<(), PapError> {
    if cond {
        Ok(())
    } else {
        Err(err)
    }
}

impl Message {
    fn kind(&self) -> Kind {
        match *self {
            Self::PortRequest { class, .. } => Kind::PortRequest(class),
            Self::PortResponse { result, .. } => Kind::PortResponse(result.is_ok()),
            Self::PortInvalidate { .. } => Kind::PortInvalidate,
            Self::PortBlockInvalidate { .. } => Kind::PortBlockInvalidate,
            Self::PortRenew { .. } => Kind::PortRenew,
            Self::SpiRequest { .. } => Kind::SpiRequest,
            Self::SpiResponse { result, .. } => Kind::SpiResponse(result.is_ok()),
            Self::SpiInvalidate { .. } => Kind::SpiInvalidate,
            Self::SpiBlockInvalidate { .. } => Kind::SpiBlockInvalidate,
            Self::SpiRenew { .. } => Kind::SpiRenew,
            Self::SaValidate { .. } => Kind::SaValidate,
            Self::SaInvalidate { .. } => Kind::SaInvalidate,
            Self::BlacklistAdd { .. } => Kind::BlacklistAdd,
            Self::BlacklistRemove { .. } => Kind::BlacklistRemove,
            Self::InvalidateAll { .. } => Kind::InvalidateAll,
            Self::Ack { result, .. } => Kind::Ack(result.is_ok()),
        }
    }

    /// The wire type and code.
    pub fn type_code(&self) -> (u8, u8) {
        self.kind().type_code()
    }

    /// Which way the message travels.
    pub fn direction(&self) -> Direction {
        match *self {
            Self::PortInvalidate { dir, .. }
            | Self::PortBlockInvalidate { dir, .. }
            | Self::SpiInvalidate { dir, .. }
            | Self::SpiBlockInvalidate { dir, .. }
            | Self::InvalidateAll { dir, .. } => dir,
            Self::PortResponse { .. } | Self::SpiResponse { .. } | Self::Ack { .. } => {
                Direction::ToHost
            }
            Self::PortRequest { .. }
            | Self::PortRenew { .. }
            | Self::SpiRequest { .. }
            | Self::SpiRenew { .. }
            | Self::SaValidate { .. }
            | Self::SaInvalidate { .. }
            | Self::BlacklistAdd { .. }
            | Self::BlacklistRemove { .. } => Direction::ToRouter,
        }
    }

    /// The extension trailer, if the message has one.
    pub fn ext(&self) -> Option<Trailer> {
        match *self {
            Self::PortRequest { ext, .. }
            | Self::PortResponse { ext, .. }
            | Self::PortInvalidate { ext, .. }
            | Self::PortBlockInvalidate { ext, .. }
            | Self::SpiRequest { ext, .. }
            | Self::SpiResponse { ext, .. }
            | Self::SpiInvalidate { ext, .. }
            | Self::SpiBlockInvalidate { ext, .. }
            | Self::SaValidate { ext, .. }
            | Self::SaInvalidate { ext, .. }
            | Self::BlacklistAdd { ext, .. }
            | Self::BlacklistRemove { ext, .. }
            | Self::InvalidateAll { ext, .. } => ext,
            Self::PortRenew { ext, .. } | Self::SpiRenew { ext, .. } | Self::Ack { ext, .. } => {
                Some(ext)
            }
        }
    }

    /// The acknowledgement kind that answers this message when it is a host
    /// notice carrying a trailer (the router then replies with
    /// [`Message::Ack`]); `None` for requests, renewals and messages to hosts.
    pub fn acked_as(&self) -> Option<Acked> {
        if self.direction() != Direction::ToRouter || self.ext().is_none() {
            return None;
        }
        let (ty, code) = self.type_code();
        Acked::from_type_code(ty, code)
    }

    /// Length on the wire.
    pub fn wire_len(&self) -> usize {
        let trailer = if self.ext().is_some() { TRAILER_LEN } else { 0 };
        self.kind().base_len() + trailer
    }

    /// Checks every field as [`decode`] does; [`encode`] refuses a message
    /// for which this fails.
    pub fn validate(&self) -> Result<(), PapError> {
        match self {
            Self::PortRequest { count, ext, .. } => {
                ok_if(*count != 0, PapError::ZeroCount)?;
                check_ext(ext, Role::Request)
            }
            Self::PortResponse { result, ext } => match result {
                Ok(block) => {
                    block.check()?;
                    check_ext(ext, Role::Reply(true))
                }
                Err(_) => check_ext(ext, Role::Reply(false)),
            },
            Self::PortInvalidate { dir, port, ext } => {
                ok_if(*port != 0, PapError::ZeroPort)?;
                check_ext(ext, Role::invalidate(*dir))
            }
            Self::PortBlockInvalidate { dir, block, ext } => {
                block.check()?;
                check_ext(ext, Role::invalidate(*dir))
            }
            Self::PortRenew { block, ext } => {
                block.check()?;
                check_trailer(ext, Role::Request)
            }
            Self::SpiRequest { count, ext } => {
                ok_if(*count != 0, PapError::ZeroCount)?;
                check_ext(ext, Role::Request)
            }
            Self::SpiResponse { result, ext } => match result {
                Ok(block) => {
                    block.check()?;
                    check_ext(ext, Role::Reply(true))
                }
                Err(_) => check_ext(ext, Role::Reply(false)),
            },
            Self::SpiInvalidate { dir, spi, ext } => {
                check_spi(*spi)?;
                check_ext(ext, Role::invalidate(*dir))
            }
            Self::SpiBlockInvalidate { dir, block, ext } => {
                block.check()?;
                check_ext(ext, Role::invalidate(*dir))
            }
            Self::SpiRenew { block, ext } => {
                block.check()?;
                check_trailer(ext, Role::Request)
            }
            Self::SaValidate { addr, spi, ext } | Self::SaInvalidate { addr, spi, ext } => {
                check_addr(*addr)?;
                check_spi(*spi)?;
                check_ext(ext, Role::Notice)
            }
            Self::BlacklistAdd { addr, spi, ext } | Self::BlacklistRemove { addr, spi, ext } => {
                check_blacklist(*addr, *spi)?;
                check_ext(ext, Role::Notice)
            }
            Self::InvalidateAll { dir, scope, ext } => {
                ok_if(*scope != 0 && *scope & !scope::ALL == 0, PapError::BadScope)?;
                check_ext(ext, Role::invalidate(*dir))
            }
            Self::Ack { ext, .. } => check_trailer(ext, Role::Reply(false)),
        }
    }

    /// The body words (the second is ignored for 8-byte base layouts).
    fn body(&self) -> (u32, u32) {
        match *self {
            Self::PortRequest { count, .. } => (u32::from(count) << 24, 0),
            Self::PortResponse { result, .. } => match result {
                Ok(b) => (port_word(b), 0),
                Err(r) => (u32::from(r as u8), 0),
            },
            Self::PortInvalidate { port, .. } => (u32::from(port) << 16, 0),
            Self::PortBlockInvalidate { block, .. } | Self::PortRenew { block, .. } => {
                (port_word(block), 0)
            }
            Self::SpiRequest { count, .. } => (u32::from(count) << 16, 0),
            Self::SpiResponse { result, .. } => match result {
                Ok(b) => spi_words(b),
                Err(r) => (u32::from(r as u8), 0),
            },
            Self::SpiInvalidate { spi, .. } => (spi, 0),
            Self::SpiBlockInvalidate { block, .. } | Self::SpiRenew { block, .. } => {
                spi_words(block)
            }
            Self::SaValidate { addr, spi, .. } | Self::SaInvalidate { addr, spi, .. } => {
                (u32::from(addr), spi)
            }
            Self::BlacklistAdd { addr, spi, .. } | Self::BlacklistRemove { addr, spi, .. } => {
                (addr.map_or(0, u32::from), spi.unwrap_or(0))
            }
            Self::InvalidateAll { scope, .. } => (u32::from(scope) << 24, 0),
            Self::Ack { acked, result, .. } => {
                let (ty, code) = acked.type_code();
                let reason = match result {
                    Ok(()) => 0,
                    Err(r) => r as u8,
                };
                (
                    u32::from(ty) << 24 | u32::from(code) << 16 | u32::from(reason),
                    0,
                )
            }
        }
    }

    /// Builds the message of `kind` from its body words, checking the
    /// fields that only the wire has (unused bits, reason and acked codes).
    fn from_body(
        kind: Kind,
        dir: Direction,
        w1: u32,
        w2: u32,
        ext: Option<Trailer>,
    ) -> Result<Self, PapError> {
        let port_block = |w: u32| {
            ok_if(w & 0xff == 0, PapError::NonzeroUnused)?;
            Ok(PortBlock {
                lowest: (w >> 16) as u16,
                count: (w >> 8) as u8,
            })
        };
        let spi_block = |w1: u32, w2: u32| {
            ok_if(w1 & 0xffff == 0, PapError::NonzeroUnused)?;
            Ok(SpiBlock {
                lowest: w2,
                count: (w1 >> 16) as u16,
            })
        };
        let reason = |v: u32| Reason::from_u8(v as u8).ok_or(PapError::UnknownReason);
        let required = ext.ok_or(PapError::MissingTrailer);
        Ok(match kind {
            Kind::PortRequest(class) => {
                ok_if(w1 & 0x00ff_ffff == 0, PapError::NonzeroUnused)?;
                Self::PortRequest {
                    class,
                    count: (w1 >> 24) as u8,
                    ext,
                }
            }
            Kind::PortResponse(true) => Self::PortResponse {
                result: Ok(port_block(w1)?),
                ext,
            },
            Kind::PortResponse(false) => {
                ok_if(w1 >> 8 == 0, PapError::FailureWithBlock)?;
                Self::PortResponse {
                    result: Err(reason(w1)?),
                    ext,
                }
            }
            Kind::PortInvalidate => {
                ok_if(w1 & 0xffff == 0, PapError::NonzeroUnused)?;
                Self::PortInvalidate {
                    dir,
                    port: (w1 >> 16) as u16,
                    ext,
                }
            }
            Kind::PortBlockInvalidate => Self::PortBlockInvalidate {
                dir,
                block: port_block(w1)?,
                ext,
            },
            Kind::PortRenew => Self::PortRenew {
                block: port_block(w1)?,
                ext: required?,
            },
            Kind::SpiRequest => {
                ok_if(w1 & 0xffff == 0, PapError::NonzeroUnused)?;
                Self::SpiRequest {
                    count: (w1 >> 16) as u16,
                    ext,
                }
            }
            Kind::SpiResponse(true) => Self::SpiResponse {
                result: Ok(spi_block(w1, w2)?),
                ext,
            },
            Kind::SpiResponse(false) => {
                ok_if(w1 >> 16 == 0 && w2 == 0, PapError::FailureWithBlock)?;
                ok_if(w1 & 0xff00 == 0, PapError::NonzeroUnused)?;
                Self::SpiResponse {
                    result: Err(reason(w1)?),
                    ext,
                }
            }
            Kind::SpiInvalidate => Self::SpiInvalidate { dir, spi: w1, ext },
            Kind::SpiBlockInvalidate => Self::SpiBlockInvalidate {
                dir,
                block: spi_block(w1, w2)?,
                ext,
            },
            Kind::SpiRenew => Self::SpiRenew {
                block: spi_block(w1, w2)?,
                ext: required?,
            },
            Kind::SaValidate => Self::SaValidate {
                addr: Ipv4Addr::from(w1),
                spi: w2,
                ext,
            },
            Kind::SaInvalidate => Self::SaInvalidate {
                addr: Ipv4Addr::from(w1),
                spi: w2,
                ext,
            },
            Kind::BlacklistAdd => Self::BlacklistAdd {
                addr: (w1 != 0).then(|| Ipv4Addr::from(w1)),
                spi: (w2 != 0).then_some(w2),
                ext,
            },
            Kind::BlacklistRemove => Self::BlacklistRemove {
                addr: (w1 != 0).then(|| Ipv4Addr::from(w1)),
                spi: (w2 != 0).then_some(w2),
                ext,
            },
            Kind::InvalidateAll => {
                ok_if(w1 & 0x00ff_ffff == 0, PapError::NonzeroUnused)?;
                Self::InvalidateAll {
                    dir,
                    scope: (w1 >> 24) as u8,
                    ext,
                }
            }
            Kind::Ack(done) => {
                ok_if(w1 & 0xff00 == 0, PapError::NonzeroUnused)?;
                let acked = Acked::from_type_code((w1 >> 24) as u8, (w1 >> 16) as u8)
                    .ok_or(PapError::BadAcked)?;
                let result = if done {
                    ok_if(w1 & 0xff == 0, PapError::NonzeroUnused)?;
                    Ok(())
                } else {
                    Err(reason(w1)?)
                };
                Self::Ack {
                    acked,
                    result,
                    ext: required?,
                }
            }
        })
    }
}

/// The base length of the message with `ty` and `code` travelling in
/// direction `dir` (`None`: no such message in this codec).
pub fn base_len(ty: u8, code: u8, dir: Direction) -> Option<usize> {
    Kind::lookup(ty, code, dir).map(Kind::base_len)
}

/// Decodes the ICMP-format payload `buf` (exactly one PAP message) that
/// travels in direction `dir`.
///
/// Checks, in this order: at least the 4-byte header ([`PapError::TooShort`]),
/// the checksum, the type, the code for `dir`, the length, the unused
/// fields, then every value ([`Message::validate`]).
pub fn decode(buf: &[u8], dir: Direction) -> Result<Message, PapError> {
    let &[ty, code, ck_hi, ck_lo, ref rest @ ..] = buf else {
        return Err(PapError::TooShort);
    };
    // The canonical checksum, computed with the field zeroed, must match
    // exactly: the other representation of zero (0xffff for 0x0000) is
    // refused so that every accepted buffer re-encodes to itself.
    let computed = !checksum::sum(rest, checksum::sum(&[ty, code], 0));
    if computed != u16::from_be_bytes([ck_hi, ck_lo]) {
        return Err(PapError::BadChecksum);
    }
    let kind = Kind::parse(ty, code, dir)?;
    let base = kind.base_len();
    let has_trailer = match buf.len() {
        n if n < base => return Err(PapError::TooShort),
        n if n == base => false,
        n if n == base + TRAILER_LEN => true,
        _ => return Err(PapError::BadLength),
    };
    if !has_trailer && kind.trailer_required() {
        return Err(PapError::MissingTrailer);
    }
    let mut words = [0u32; MAX_WORDS];
    for (w, chunk) in words.iter_mut().zip(buf.chunks_exact(4)) {
        if let &[a, b, c, d] = chunk {
            *w = u32::from_be_bytes([a, b, c, d]);
        }
    }
    let [_, w1, w2, w3, w4, w5] = words;
    let (w2, [xid, epoch, lease]) = if kind.body_words() == 2 {
        (w2, [w3, w4, w5])
    } else {
        (0, [w2, w3, w4])
    };
    let ext = has_trailer.then_some(Trailer { xid, epoch, lease });
    let msg = Message::from_body(kind, dir, w1, w2, ext)?;
    msg.validate()?;
    Ok(msg)
}

/// Encodes `msg` into the start of `out`, checksum included, and returns
/// its length ([`Message::wire_len`]).
///
/// Fails on a message that [`decode`] would reject, or when `out` is too
/// short ([`PapError::BufferTooSmall`]); `out` is unchanged then.
pub fn encode(msg: &Message, out: &mut [u8]) -> Result<usize, PapError> {
    msg.validate()?;
    let kind = msg.kind();
    let len = msg.wire_len();
    let dst = out.get_mut(..len).ok_or(PapError::BufferTooSmall)?;
    let (ty, code) = kind.type_code();
    let head = u32::from(ty) << 24 | u32::from(code) << 16;
    let (w1, w2) = msg.body();
    let words: [u32; MAX_WORDS] = match (kind.body_words(), msg.ext()) {
        (1, None) => [head, w1, 0, 0, 0, 0],
        (1, Some(t)) => [head, w1, t.xid, t.epoch, t.lease, 0],
        (_, None) => [head, w1, w2, 0, 0, 0],
        (_, Some(t)) => [head, w1, w2, t.xid, t.epoch, t.lease],
    };
    for (c, w) in dst.chunks_exact_mut(4).zip(words) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    let ck = checksum::checksum(dst);
    if let Some(field) = dst.get_mut(2..4) {
        field.copy_from_slice(&ck.to_be_bytes());
    }
    Ok(len)
}

#[cfg(test)]
#[path = "pap/tests.rs"]
mod tests;
