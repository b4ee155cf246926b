// SPDX-License-Identifier: GPL-2.0

//! Why a PAP message is refused: its error codes, names and messages.

use core::fmt;

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
