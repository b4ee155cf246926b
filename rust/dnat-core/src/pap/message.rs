// SPDX-License-Identifier: GPL-2.0

//! What a decoded message says: its type and code, direction, trailer and
//! acknowledgement, and whether it is valid.

use super::error::PapError;
use super::kind::{
    check_addr, check_blacklist, check_ext, check_spi, check_trailer, ok_if, Kind, Role,
};
use super::{scope, Acked, Direction, Message, Trailer, TRAILER_LEN};

impl Message {
    pub(super) fn kind(&self) -> Kind {
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
    ///
    /// [`decode`]: super::decode
    /// [`encode`]: super::encode
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
}
