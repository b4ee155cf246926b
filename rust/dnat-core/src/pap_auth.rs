// SPDX-License-Identifier: GPL-2.0

//! PAP authentication: per-host keys, the 16-byte auth block that seals a
//! message, the key exchange (36/3), the router's key table and the host's
//! session. The construction and the threat model are in
//! `Documentation/networking/dnat-pap.rst`, "Authentication"; everything
//! here is independent of the kernel and never allocates.

use core::net::Ipv4Addr;

use super::checksum;
use super::pap::{self, code, msg_type, Direction, Message, PapError, Trailer};
use super::siphash::{siphash, Key};

/// Length of the auth block: key id, sequence number, MAC.
pub const AUTH_LEN: usize = 16;
/// Length of the MAC at the end of the auth block.
pub const MAC_LEN: usize = 8;
/// Length of a key exchange message (36/3) without the auth block.
pub const KEY_MSG_LEN: usize = 36;
/// The longest PAP message on the wire: a sealed key grant.
pub const MAX_WIRE: usize = KEY_MSG_LEN + AUTH_LEN;
/// Seconds within which a granted key must be used first.
pub const KEY_FRESH: u64 = 60;
/// Key grants waiting for their first use (router).
pub const PENDING_KEYS: usize = 64;
/// Key grants a second the router makes, in all (a token bucket).
pub const KEY_GRANTS_PER_SEC: u32 = 100;
/// Seconds between two holdings checks a host makes on an unverifiable
/// hint (an invalidation it cannot trust).
pub const HINT_INTERVAL: u64 = 5;

/// The auth block of a sealed message (the MAC aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The key, as the router numbered it in the grant; never 0.
    pub key_id: u32,
    /// The host's transaction counter under this key (a reply echoes the
    /// request's; 0 in the router's unsolicited messages).
    pub seq: u32,
}

/// 36/3 to the router: a host asks for a key, with its half of the secret
/// that wraps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRequest {
    /// Random, chosen for this request.
    pub half: Key,
    /// xid (nonzero), last epoch seen, lease 0.
    pub ext: Trailer,
}

/// 36/3 to a host: the key, wrapped with the host's half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyGrant {
    /// The key's number, never 0.
    pub key_id: u32,
    /// The key XOR the pad of the host's half.
    pub wrapped: Key,
    /// The request's xid, the router's epoch, lease 0.
    pub ext: Trailer,
}

/// What a PAP buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A message without auth block.
    Plain(Message),
    /// A message with auth block (not verified yet: see [`verify`]).
    Sealed(Message, Tag),
    /// A key request (to the router; never sealed).
    KeyRequest(KeyRequest),
    /// A key grant (to a host; sealed with the key it carries).
    KeyGrant(KeyGrant, Tag),
}

impl Frame {
    /// The transaction id the frame carries, 0 if none.
    pub fn xid(&self) -> u32 {
        match self {
            Self::Plain(m) | Self::Sealed(m, _) => m.ext().map_or(0, |e| e.xid),
            Self::KeyRequest(r) => r.ext.xid,
            Self::KeyGrant(g, _) => g.ext.xid,
        }
    }
}

const fn dir_byte(dir: Direction) -> u8 {
    match dir {
        Direction::ToRouter => 1,
        Direction::ToHost => 2,
    }
}

fn two_words(k: &Key, d: u8, host: Ipv4Addr, key_id: u32) -> Key {
    let (a, i) = (host.octets(), key_id.to_be_bytes());
    let lo = siphash(k, &[&[d], &a, &i]).to_le_bytes();
    let hi = siphash(k, &[&[d.wrapping_add(1)], &a, &i]).to_le_bytes();
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(lo.iter().chain(hi.iter())) {
        *o = *b;
    }
    out
}

/// The key `key_id` of `host` under the router's `secret`.
pub fn derive_key(secret: &Key, host: Ipv4Addr, key_id: u32) -> Key {
    two_words(secret, 0x10, host, key_id)
}

/// Wraps (or unwraps) `key` with the pad of the host's `half`.
pub fn wrap(key: &Key, half: &Key, host: Ipv4Addr, key_id: u32) -> Key {
    let pad = two_words(half, 0x12, host, key_id);
    let mut out = *key;
    for (o, p) in out.iter_mut().zip(pad.iter()) {
        *o ^= p;
    }
    out
}

/// The MAC of a sealed message: SipHash-2-4 under `key` of the direction
/// byte, the host's address and the message up to the MAC, with the
/// checksum field taken as zero.
fn mac(key: &Key, dir: Direction, host: Ipv4Addr, msg: &[u8]) -> Option<u64> {
    let upto = msg.len().checked_sub(MAC_LEN)?;
    let head = msg.get(..2)?;
    let rest = msg.get(4..upto)?;
    Some(siphash(
        key,
        &[&[dir_byte(dir)], &host.octets(), head, &[0, 0], rest],
    ))
}

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[x, y, z, w]) => u32::from_be_bytes([x, y, z, w]),
        _ => 0,
    }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    if let Some(d) = b.get_mut(at..at + 4) {
        d.copy_from_slice(&v.to_be_bytes());
    }
}

fn key_at(b: &[u8], at: usize) -> Key {
    let mut k = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        k.copy_from_slice(s);
    }
    k
}

fn set_checksum(b: &mut [u8]) {
    if let Some(c) = b.get_mut(2..4) {
        c.copy_from_slice(&[0, 0]);
    }
    let ck = checksum::checksum(b);
    if let Some(c) = b.get_mut(2..4) {
        c.copy_from_slice(&ck.to_be_bytes());
    }
}

fn checksum_ok(b: &[u8]) -> bool {
    let (Some(head), Some(rest)) = (b.get(..2), b.get(4..)) else {
        return false;
    };
    let computed = !checksum::sum(rest, checksum::sum(head, 0));
    b.get(2..4) == Some(&computed.to_be_bytes()[..])
}

fn tag_at(b: &[u8], at: usize) -> Result<Tag, PapError> {
    let t = Tag {
        key_id: be32(b, at),
        seq: be32(b, at + 4),
    };
    if t.key_id == 0 {
        return Err(PapError::ZeroKeyId);
    }
    Ok(t)
}

fn trailer_at(b: &[u8], at: usize) -> Trailer {
    Trailer {
        xid: be32(b, at),
        epoch: be32(b, at + 4),
        lease: be32(b, at + 8),
    }
}

/// Parses the ICMP-format payload `buf` travelling in direction `dir`:
/// the checksum over all of it, then the message (`pap::decode` rules), a
/// key exchange message, or a message followed by an auth block. The MAC
/// is not checked here ([`verify`]).
pub fn parse(buf: &[u8], dir: Direction) -> Result<Frame, PapError> {
    let &[ty, c, ..] = buf else {
        return Err(PapError::TooShort);
    };
    if buf.len() > MAX_WIRE {
        return Err(PapError::BadLength);
    }
    if (ty, c) == (msg_type::CONTROL, code::KEY) {
        return parse_key(buf, dir);
    }
    let sealed =
        pap::base_len(ty, c, dir).is_some_and(|b| buf.len() == b + pap::TRAILER_LEN + AUTH_LEN);
    if !sealed {
        return pap::decode(buf, dir).map(Frame::Plain);
    }
    if !checksum_ok(buf) {
        return Err(PapError::BadChecksum);
    }
    let n = buf.len() - AUTH_LEN;
    let mut inner = [0u8; pap::MAX_LEN];
    let dst = inner.get_mut(..n).ok_or(PapError::BadLength)?;
    dst.copy_from_slice(buf.get(..n).ok_or(PapError::TooShort)?);
    set_checksum(dst);
    let msg = pap::decode(dst, dir)?;
    Ok(Frame::Sealed(msg, tag_at(buf, n)?))
}

fn parse_key(buf: &[u8], dir: Direction) -> Result<Frame, PapError> {
    let want = match dir {
        Direction::ToRouter => KEY_MSG_LEN,
        Direction::ToHost => KEY_MSG_LEN + AUTH_LEN,
    };
    if buf.len() < KEY_MSG_LEN {
        return Err(PapError::TooShort);
    }
    if !checksum_ok(buf) {
        return Err(PapError::BadChecksum);
    }
    if buf.len() != want {
        return Err(PapError::BadLength);
    }
    let ext = trailer_at(buf, 24);
    if ext.xid == 0 {
        return Err(PapError::ZeroXid);
    }
    if ext.lease != 0 {
        return Err(PapError::NonzeroLease);
    }
    match dir {
        Direction::ToRouter => {
            if be32(buf, 4) != 0 {
                return Err(PapError::NonzeroUnused);
            }
            Ok(Frame::KeyRequest(KeyRequest {
                half: key_at(buf, 8),
                ext,
            }))
        }
        Direction::ToHost => {
            if ext.epoch == 0 {
                return Err(PapError::ZeroEpoch);
            }
            let key_id = be32(buf, 4);
            let tag = tag_at(buf, KEY_MSG_LEN)?;
            if key_id != tag.key_id || tag.seq != 0 {
                return Err(PapError::BadKeyGrant);
            }
            let grant = KeyGrant {
                key_id,
                wrapped: key_at(buf, 8),
                ext,
            };
            Ok(Frame::KeyGrant(grant, tag))
        }
    }
}

/// Whether the MAC of the sealed buffer `buf` (a [`Frame::Sealed`] or
/// [`Frame::KeyGrant`]) is right under `key`, for `host`'s messages in
/// direction `dir`. Compares in constant time.
pub fn verify(buf: &[u8], key: &Key, dir: Direction, host: Ipv4Addr) -> bool {
    let Some(m) = mac(key, dir, host, buf) else {
        return false;
    };
    let got = buf.get(buf.len().saturating_sub(MAC_LEN)..).unwrap_or(&[]);
    if got.len() != MAC_LEN {
        return false;
    }
    got.iter()
        .zip(m.to_le_bytes().iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Appends the auth block for `tag` to the message in `out[..len]` (a
/// plain encoding with trailer), under `key`, and fixes the checksum;
/// returns the new length.
pub fn seal(
    out: &mut [u8],
    len: usize,
    key: &Key,
    tag: Tag,
    dir: Direction,
    host: Ipv4Addr,
) -> Result<usize, PapError> {
    let n = len + AUTH_LEN;
    let b = out.get_mut(..n).ok_or(PapError::BufferTooSmall)?;
    put32(b, len, tag.key_id);
    put32(b, len + 4, tag.seq);
    let m = mac(key, dir, host, b).ok_or(PapError::BufferTooSmall)?;
    if let Some(d) = b.get_mut(n - MAC_LEN..) {
        d.copy_from_slice(&m.to_le_bytes());
    }
    set_checksum(b);
    Ok(n)
}

/// Encodes a key request into `out`; returns its length.
pub fn encode_key_request(r: &KeyRequest, out: &mut [u8]) -> Result<usize, PapError> {
    if r.ext.xid == 0 {
        return Err(PapError::ZeroXid);
    }
    if r.ext.lease != 0 {
        return Err(PapError::NonzeroLease);
    }
    let b = out.get_mut(..KEY_MSG_LEN).ok_or(PapError::BufferTooSmall)?;
    b.fill(0);
    b[0] = msg_type::CONTROL;
    b[1] = code::KEY;
    if let Some(d) = b.get_mut(8..24) {
        d.copy_from_slice(&r.half);
    }
    put32(b, 24, r.ext.xid);
    put32(b, 28, r.ext.epoch);
    set_checksum(b);
    Ok(KEY_MSG_LEN)
}

/// Encodes a key grant, sealed with `key` (the key it carries), into
/// `out`; returns its length.
pub fn encode_key_grant(
    g: &KeyGrant,
    key: &Key,
    host: Ipv4Addr,
    out: &mut [u8],
) -> Result<usize, PapError> {
    if g.key_id == 0 {
        return Err(PapError::ZeroKeyId);
    }
    if g.ext.xid == 0 {
        return Err(PapError::ZeroXid);
    }
    if g.ext.epoch == 0 {
        return Err(PapError::ZeroEpoch);
    }
    let b = out.get_mut(..KEY_MSG_LEN).ok_or(PapError::BufferTooSmall)?;
    b.fill(0);
    b[0] = msg_type::CONTROL;
    b[1] = code::KEY;
    put32(b, 4, g.key_id);
    if let Some(d) = b.get_mut(8..24) {
        d.copy_from_slice(&g.wrapped);
    }
    put32(b, 24, g.ext.xid);
    put32(b, 28, g.ext.epoch);
    let tag = Tag {
        key_id: g.key_id,
        seq: 0,
    };
    seal(out, KEY_MSG_LEN, key, tag, Direction::ToHost, host)
}

#[cfg(test)]
#[path = "pap_auth/tests.rs"]
mod tests;
