// SPDX-License-Identifier: GPL-2.0

//! The messages the codec knows, by type, code and direction, with their
//! lengths; and the checks of the trailer and of the body's fields.

use core::net::Ipv4Addr;

use super::super::config::{is_unicast, SPI_FIRST_ALLOCATABLE};
use super::error::PapError;
use super::{code, msg_type, Direction, PortBlock, PortClass, SpiBlock, Trailer, HEADER_LEN};

/// The kind of a message: type, code and direction resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
    pub(super) fn lookup(ty: u8, code: u8, dir: Direction) -> Option<Self> {
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

    pub(super) fn parse(ty: u8, code: u8, dir: Direction) -> Result<Self, PapError> {
        if let Some(kind) = Self::lookup(ty, code, dir) {
            return Ok(kind);
        }
        if !super::TYPES.contains(&ty) {
            return Err(PapError::UnknownType);
        }
        if Self::lookup(ty, code, dir.reverse()).is_some() {
            return Err(PapError::WrongDirection);
        }
        Err(PapError::UnknownCode)
    }

    pub(super) const fn type_code(self) -> (u8, u8) {
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
    pub(super) const fn body_words(self) -> usize {
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

    pub(super) const fn base_len(self) -> usize {
        HEADER_LEN + 4 * self.body_words()
    }

    pub(super) const fn trailer_required(self) -> bool {
        matches!(self, Self::PortRenew | Self::SpiRenew | Self::Ack(_))
    }
}

/// What the trailer of a message must look like.
#[derive(Clone, Copy)]
pub(super) enum Role {
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
    pub(super) const fn invalidate(dir: Direction) -> Self {
        match dir {
            Direction::ToRouter => Self::Notice,
            Direction::ToHost => Self::Unsolicited,
        }
    }
}

pub(super) fn check_trailer(t: &Trailer, role: Role) -> Result<(), PapError> {
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

pub(super) fn check_ext(ext: &Option<Trailer>, role: Role) -> Result<(), PapError> {
    match ext {
        Some(t) => check_trailer(t, role),
        None => Ok(()),
    }
}

pub(super) fn check_spi(spi: u32) -> Result<(), PapError> {
    match spi {
        0 => Err(PapError::ZeroSpi),
        s if s < SPI_FIRST_ALLOCATABLE => Err(PapError::ReservedSpi),
        _ => Ok(()),
    }
}

pub(super) fn check_addr(addr: Ipv4Addr) -> Result<(), PapError> {
    if is_unicast(addr) {
        Ok(())
    } else {
        Err(PapError::BadAddress)
    }
}

pub(super) fn check_blacklist(addr: Option<Ipv4Addr>, spi: Option<u32>) -> Result<(), PapError> {
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

pub(super) const fn port_word(b: PortBlock) -> u32 {
    (b.lowest as u32) << 16 | (b.count as u32) << 8
}

pub(super) const fn spi_words(b: SpiBlock) -> (u32, u32) {
    ((b.count as u32) << 16, b.lowest)
}

pub(super) fn ok_if(cond: bool, err: PapError) -> Result<(), PapError> {
    if cond {
        Ok(())
    } else {
        Err(err)
    }
}
