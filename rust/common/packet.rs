// SPDX-License-Identifier: GPL-2.0

//! Helpers both modules use on packets and tables.

use kernel::prelude::*;

use crate::dnat_core::ipv4::{self, Header};
use crate::ffi::skb::SkBuff;

/// Reads the IPv4 header of `skb`, which the stack has already validated
/// (in `PRE_ROUTING` by `ip_rcv`; in the output hooks it built it).
pub fn ipv4_header(skb: &SkBuff<'_>) -> Option<Header> {
    let len = usize::try_from(skb.len()).ok()?;
    let mut b = [0u8; 60];
    skb.copy_from_network(0, b.get_mut(..ipv4::HEADER_LEN)?)
        .ok()?;
    let hl = usize::from(b[0] & 0x0f) * 4;
    if hl > ipv4::HEADER_LEN {
        skb.copy_from_network(0, b.get_mut(..hl)?).ok()?;
    }
    Header::parse_checked_by_stack(&b, len).ok()
}

/// A `KVVec` of `n` elements made by `f` (table storage, allocated when a
/// namespace's state is built).
pub fn filled<T>(n: usize, f: impl Fn() -> T) -> Result<KVVec<T>> {
    // Charged to the memory cgroup of the process that configures.
    let mut v = KVVec::with_capacity(n, GFP_KERNEL_ACCOUNT)?;
    for _ in 0..n {
        v.push(f(), GFP_KERNEL_ACCOUNT)?;
    }
    Ok(v)
}
