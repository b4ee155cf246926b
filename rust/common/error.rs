// SPDX-License-Identifier: GPL-2.0

//! Turning a configuration error into a netlink error with extended ack.

use kernel::prelude::*;

use crate::dnat_core::config::ConfigError;
use crate::ffi::genl::Request;

/// Reports `e` on `req` (message and offending attribute) and returns the
/// errno to fail the request with.
pub fn reject(req: &Request<'_>, e: ConfigError) -> Error {
    req.set_error(e.msg, e.attr);
    Error::from_errno(-e.errno)
}
