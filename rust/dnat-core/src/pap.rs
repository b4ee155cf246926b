// SPDX-License-Identifier: GPL-2.0

//! Port Allocation Protocol (PAP): the wire codec.
//!
//! [`decode`] reads the ICMP-format payload of one PAP message (not the
//! IPv4 header around it), given the [`Direction`] it travels in, into a
//! [`Message`]; [`encode`] writes one. Decoding is strict ([`PapError`]):
//! an accepted buffer re-encodes to the same bytes, and [`encode`] refuses
//! every message that [`decode`] would reject. Nothing here allocates or
//! panics.
//!
//! The messages byte by byte, the optional [`Trailer`], the [`Reason`]s
//! and every decoding rule: Documentation/networking/dnat-pap.rst.

use core::net::Ipv4Addr;

#[path = "pap/codec.rs"]
mod codec;
#[path = "pap/error.rs"]
mod error;
#[path = "pap/kind.rs"]
mod kind;
#[path = "pap/message.rs"]
mod message;

pub use codec::{base_len, decode, encode};
pub use error::PapError;
use kind::check_spi;

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

#[cfg(test)]
#[path = "pap/tests.rs"]
mod tests;
