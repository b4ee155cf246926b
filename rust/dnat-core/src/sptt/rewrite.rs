// SPDX-License-Identifier: GPL-2.0

//! Rewriting a TCP or UDP port in place, with the checksum fixed up.

use super::super::checksum;
use super::{Proto, SpttError};

/// Which port of a transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The source port (offset 0): outbound translation.
    Src,
    /// The destination port (offset 2): inbound translation.
    Dst,
}

impl Which {
    pub(super) const fn offset(self) -> usize {
        match self {
            Which::Src => 0,
            Which::Dst => 2,
        }
    }
}

fn read16(b: &[u8], off: usize) -> Option<u16> {
    match b.get(off..off.checked_add(2)?)? {
        [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

fn write16(b: &mut [u8], off: usize, v: u16) {
    if let Some([hi, lo]) = off.checked_add(2).and_then(|e| b.get_mut(off..e)) {
        [*hi, *lo] = v.to_be_bytes();
    }
}

/// Sets a port of the TCP/UDP header `l4` (it starts with the source and
/// destination ports) to `new` and fixes the checksum incrementally
/// (RFC 1624, [`checksum::update16`]); returns the old port. A UDP
/// checksum 0 ("none") stays 0 and a computed 0 is stored as 0xffff
/// ([`checksum::udp_update16`]). Needs the header up to the checksum field
/// (TCP 18 bytes, UDP 8), else [`SpttError::Truncated`] and nothing
/// changes. The result equals a full recomputation over the pseudo-header
/// and the whole segment.
///
/// This is right for a packet whose checksum field holds the full
/// checksum (kernel `CHECKSUM_NONE` or `CHECKSUM_UNNECESSARY`). With
/// `CHECKSUM_PARTIAL` (outbound offload) the field holds only the
/// pseudo-header sum, which does not cover ports: change the port alone
/// ([`set_port`]), even for a UDP checksum 0 field. With
/// `CHECKSUM_COMPLETE` (inbound) `skb->csum` must be adjusted too. The
/// kernel's `inet_proto_csum_replace2(check, skb, old, new, false)` covers
/// every state (for UDP only when the field is nonzero or the state is
/// partial, then a resulting 0 becomes `CSUM_MANGLED_0`, as netfilter's
/// NAT does).
pub fn rewrite_port(l4: &mut [u8], proto: Proto, which: Which, new: u16) -> Result<u16, SpttError> {
    let off = which.offset();
    let coff = proto.check_offset();
    let old = read16(l4, off).ok_or(SpttError::Truncated)?;
    let check = read16(l4, coff).ok_or(SpttError::Truncated)?;
    if old == new {
        return Ok(old);
    }
    let check = match proto {
        Proto::Tcp => checksum::update16(check, old, new),
        Proto::Udp => checksum::udp_update16(check, old, new),
    };
    write16(l4, off, new);
    write16(l4, coff, check);
    Ok(old)
}

/// Sets a port of the TCP/UDP header `l4` to `new` without touching the
/// checksum (for `CHECKSUM_PARTIAL`, see [`rewrite_port`]); returns the old
/// port, or [`SpttError::Truncated`] when `l4` is shorter than 4 bytes.
pub fn set_port(l4: &mut [u8], which: Which, new: u16) -> Result<u16, SpttError> {
    let off = which.offset();
    let old = read16(l4, off).ok_or(SpttError::Truncated)?;
    write16(l4, off, new);
    Ok(old)
}
