// SPDX-License-Identifier: GPL-2.0

//! The wire format: a message's body words, and decoding and encoding a
//! whole message with its checksum.

use core::net::Ipv4Addr;

use super::super::checksum;
use super::error::PapError;
use super::kind::{ok_if, port_word, spi_words, Kind};
use super::{
    Acked, Direction, Message, PortBlock, Reason, SpiBlock, Trailer, MAX_WORDS, TRAILER_LEN,
};

impl Message {
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
