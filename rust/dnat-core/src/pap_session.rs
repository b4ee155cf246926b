// SPDX-License-Identifier: GPL-2.0

//! The host's side of PAP authentication (`pap_auth.rs`): gets a key,
//! seals what the PAP client sends, and sorts what the router sends into
//! messages to act on and hints to check.
//!
//! The host acts only on replies sealed with its key (and matched by xid
//! by the client). An invalidation, sealed or not, is only a hint: the
//! host renews everything it holds and the authenticated answers decide
//! (the rule PCP uses for ANNOUNCE). A plain `unauthenticated` refusal of
//! the transaction in flight makes it get a new key and send again.

use core::net::Ipv4Addr;

use super::pap::{Direction, Message, PapError, Reason, Trailer};
use super::pap_auth::{
    encode_key_request, parse, seal, verify, wrap, Frame, KeyRequest, Tag, HINT_INTERVAL,
};
use super::siphash::Key;
use super::stat::counter_enum;

/// Random bytes the session may need for one message: a key request's
/// half (16) and xid (4).
pub type Entropy = [u8; 20];

counter_enum! {
    /// Why [`Session::incoming`] dropped a message (the names are the
    /// host's counters).
    pub enum SessionDrop in SessionDrops {
        /// Not a valid PAP message to a host.
        Malformed = "auth_malformed",
        /// A key grant that answers no key request of ours.
        Unmatched = "auth_unmatched",
        /// Sealed with another key (maybe another client's on this host).
        ForeignKey = "auth_foreign_key",
        /// The MAC is wrong.
        BadMac = "auth_bad_mac",
        /// Not sealed, and not something a host may act on unsealed.
        Unauthenticated = "auth_unauthenticated",
        /// A hint within [`HINT_INTERVAL`] of the last one.
        HintLimited = "auth_hint_limited",
    }
}

/// What a message from the router means ([`Session::incoming`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// An authenticated reply: hand it to the PAP client.
    Message(Message),
    /// A key was installed: send the transaction in flight again now.
    KeyInstalled,
    /// The router does not accept our key: the next message gets a new
    /// one; send the transaction in flight again now.
    Rekey,
    /// The router may have taken something back: renew everything held.
    Hint,
    /// Nothing to do.
    Dropped(SessionDrop),
}

/// One host's authentication state towards one router.
///
/// # Invariants
///
/// `seq` never decreases while the session lives (a new key continues
/// it); `pending` is the key request in flight, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    host: Ipv4Addr,
    key: Option<(u32, Key)>,
    seq: u32,
    last_xid: u32,
    pending: Option<(u32, Key)>,
    last_hint: Option<u64>,
}

impl Session {
    /// A session without a key for the host with LAN address `host`.
    pub const fn new(host: Ipv4Addr) -> Self {
        Self {
            host,
            key: None,
            seq: 0,
            last_xid: 0,
            pending: None,
            last_hint: None,
        }
    }

    /// A session that goes on with a saved key (a userspace client's
    /// state file): key `key_id`, last sequence number `seq`.
    pub const fn resume(host: Ipv4Addr, key_id: u32, key: Key, seq: u32) -> Self {
        let mut s = Self::new(host);
        s.key = Some((key_id, key));
        s.seq = seq;
        s
    }

    /// The key and last sequence number, to save.
    pub fn key(&self) -> Option<(u32, Key, u32)> {
        self.key.map(|(id, k)| (id, k, self.seq))
    }

    /// The host address the session authenticates.
    pub fn host(&self) -> Ipv4Addr {
        self.host
    }

    /// The bytes to send for the PAP client's message `plain` (encoded,
    /// with trailer xid `xid`) into `out`: sealed with the key, or, while
    /// there is none, the key request (the same one until it is answered;
    /// `entropy` is drawn only for a new one). A new xid takes the next
    /// sequence number, a retransmission keeps its own.
    pub fn outgoing(
        &mut self,
        plain: &[u8],
        xid: u32,
        epoch: u32,
        entropy: impl FnOnce() -> Entropy,
        out: &mut [u8],
    ) -> Result<usize, PapError> {
        let Some((key_id, key)) = self.key else {
            let (rxid, half) = match self.pending {
                Some(p) => p,
                None => {
                    let e = entropy();
                    let mut half = [0u8; 16];
                    half.copy_from_slice(e.get(..16).unwrap_or(&[0; 16]));
                    let x = match e.get(16..20) {
                        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
                        _ => 0,
                    };
                    let p = (x.max(1), half);
                    self.pending = Some(p);
                    p
                }
            };
            let r = KeyRequest {
                half,
                ext: Trailer {
                    xid: rxid,
                    epoch,
                    lease: 0,
                },
            };
            return encode_key_request(&r, out);
        };
        if xid != self.last_xid || self.seq == 0 {
            self.seq = self.seq.wrapping_add(1).max(1);
            self.last_xid = xid;
        }
        let n = plain.len();
        out.get_mut(..n)
            .ok_or(PapError::BufferTooSmall)?
            .copy_from_slice(plain);
        let tag = Tag {
            key_id,
            seq: self.seq,
        };
        seal(out, n, &key, tag, Direction::ToRouter, self.host)
    }

    /// Sorts `buf`, a PAP message from the router's address, received at
    /// `now` (seconds).
    pub fn incoming(&mut self, buf: &[u8], now: u64) -> Opened {
        let frame = match parse(buf, Direction::ToHost) {
            Ok(f) => f,
            Err(_) => return Opened::Dropped(SessionDrop::Malformed),
        };
        match frame {
            Frame::KeyGrant(g, _) => {
                let Some((_, half)) = self.pending.filter(|p| p.0 == g.ext.xid) else {
                    return Opened::Dropped(SessionDrop::Unmatched);
                };
                let key = wrap(&g.wrapped, &half, self.host, g.key_id);
                if !verify(buf, &key, Direction::ToHost, self.host) {
                    return Opened::Dropped(SessionDrop::BadMac);
                }
                self.pending = None;
                self.key = Some((g.key_id, key));
                Opened::KeyInstalled
            }
            Frame::Sealed(msg, tag) => {
                let Some((_, key)) = self.key.filter(|k| k.0 == tag.key_id) else {
                    return Opened::Dropped(SessionDrop::ForeignKey);
                };
                if !verify(buf, &key, Direction::ToHost, self.host) {
                    return Opened::Dropped(SessionDrop::BadMac);
                }
                if msg.ext().map_or(0, |e| e.xid) == 0 {
                    return self.hint(now);
                }
                Opened::Message(msg)
            }
            Frame::Plain(msg) => {
                let xid = msg.ext().map_or(0, |e| e.xid);
                if xid == 0 && matches!(msg, Message::InvalidateAll { .. }) {
                    return self.hint(now);
                }
                if xid != 0 && xid == self.last_xid && refused_unauthenticated(&msg) {
                    self.key = None;
                    return Opened::Rekey;
                }
                Opened::Dropped(SessionDrop::Unauthenticated)
            }
            Frame::KeyRequest(_) => Opened::Dropped(SessionDrop::Malformed),
        }
    }

    fn hint(&mut self, now: u64) -> Opened {
        if self
            .last_hint
            .is_some_and(|t| now.saturating_sub(t) < HINT_INTERVAL)
        {
            return Opened::Dropped(SessionDrop::HintLimited);
        }
        self.last_hint = Some(now);
        Opened::Hint
    }
}

fn refused_unauthenticated(m: &Message) -> bool {
    let u = Err(Reason::Unauthenticated);
    match m {
        Message::PortResponse { result, .. } => result.map(drop) == u,
        Message::SpiResponse { result, .. } => result.map(drop) == u,
        Message::Ack { result, .. } => *result == u,
        _ => false,
    }
}
