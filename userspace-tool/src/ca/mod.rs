// SPDX-License-Identifier: GPL-2.0

//! The local certificate authority (issue 7): `dnatctl ca` on the router
//! keeps a CA and serves certificates to LAN hosts for the ports and SPIs
//! they hold; `dnatctl cert` asks for one (on a host) or lists and revokes
//! them (on the router). See `Documentation/networking/dnat-ca.rst`.

pub mod cli;
pub mod client;
pub mod ext;
pub mod issue;
#[cfg(test)]
mod openssl_tests;
pub mod router;
pub mod server;
pub mod store;
pub mod wire;

use std::fmt;
use std::io;

use crate::nl::{exit, strerror};
use router::RouterError;
use wire::Code;

/// What went wrong in a CA command.
#[derive(Debug)]
pub enum CaError {
    /// Bad arguments (exit 2).
    Usage { cmd: &'static str, msg: String },
    /// Refused: unsafe or missing state, unknown serial (exit 1).
    Refused(String),
    /// The CA refused the request (exit 1): its status code ([`Code`])
    /// and text.
    CaRefused { code: u8, message: String },
    /// The router module (exit 3 if not loaded, else 4).
    Router(RouterError),
    /// A file or socket operation failed (exit 4).
    Io { what: String, err: io::Error },
    /// A file or reply could not be understood (exit 4).
    Invalid { what: String, detail: String },
    /// Key generation or signing failed (exit 4).
    Crypto(String),
}

impl CaError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CaError::Usage { .. } => exit::USAGE,
            CaError::Refused(_) | CaError::CaRefused { .. } => exit::REFUSED,
            CaError::Router(RouterError::NoFamily(_)) => exit::NO_FAMILY,
            CaError::Router(RouterError::NotHeld(_)) => exit::REFUSED,
            CaError::Router(_)
            | CaError::Io { .. }
            | CaError::Invalid { .. }
            | CaError::Crypto(_) => exit::IO,
        }
    }
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaError::Usage { cmd, msg } => write!(f, "{cmd}: {msg}"),
            CaError::Refused(m) | CaError::Crypto(m) => f.write_str(m),
            CaError::CaRefused { code, message } => match Code::from_u8(*code) {
                Some(c) => write!(f, "refused by the CA ({c}): {message}"),
                None => write!(f, "refused by the CA (status {code}): {message}"),
            },
            CaError::Router(e) => write!(f, "{e}"),
            CaError::Io { what, err } => match err.raw_os_error() {
                Some(errno) => write!(f, "{what}: {} (errno {errno})", strerror(errno)),
                None => write!(f, "{what}: {err}"),
            },
            CaError::Invalid { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

impl From<RouterError> for CaError {
    fn from(e: RouterError) -> Self {
        CaError::Router(e)
    }
}
