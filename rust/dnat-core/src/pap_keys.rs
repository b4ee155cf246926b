// SPDX-License-Identifier: GPL-2.0

//! The router's side of PAP authentication (`pap_auth.rs`): the key
//! grants waiting for their first use, the key and last sequence number
//! of every authenticated host, and the decision on each message: serve
//! it, answer it from the reply cache, or refuse it.
//!
//! Keys are not stored: key `id` of host `a` is derived from the router's
//! secret, so a table entry is 24 bytes. A grant can be taken into use
//! once, within [`KEY_FRESH`] seconds; a host's messages under its key
//! must carry increasing sequence numbers.

use core::net::Ipv4Addr;

use super::pap::{Direction, PapError, Trailer};
use super::pap_auth::{
    derive_key, encode_key_grant, verify, wrap, Frame, KeyGrant, KeyRequest, Tag, KEY_FRESH,
    KEY_GRANTS_PER_SEC, PENDING_KEYS,
};
use super::siphash::Key;

/// Whether the router serves unauthenticated PAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only sealed messages (and key requests) are served.
    Required,
    /// Unauthenticated messages are served too, from hosts that have never
    /// used a key (a host that has one must use it).
    Optional,
}

/// An authenticated host: its key and the last sequence number served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostKey {
    /// The host's LAN address (0.0.0.0: the entry is free).
    pub addr: Ipv4Addr,
    /// Its key.
    pub key_id: u32,
    /// The highest sequence number served under it.
    pub seq: u32,
    /// When it was last used (the table's clock, low 32 bits).
    pub used: u32,
}

impl HostKey {
    const FREE: HostKey = HostKey {
        addr: Ipv4Addr::UNSPECIFIED,
        key_id: 0,
        seq: 0,
        used: 0,
    };

    fn is_free(&self) -> bool {
        self.addr.is_unspecified()
    }
}

/// A grant not used yet (key id 0: free).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    addr: Ipv4Addr,
    key_id: u32,
    issued: u32,
}

impl Pending {
    const FREE: Pending = Pending {
        addr: Ipv4Addr::UNSPECIFIED,
        key_id: 0,
        issued: 0,
    };
}

/// What to do with a message that passed [`KeyTable::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Unauthenticated, and allowed: serve it, reply without auth block.
    Plain,
    /// Authenticated and new: serve it, seal the reply with `key` and
    /// `tag`, then [`KeyTable::accept`].
    Fresh(Tag, Key),
    /// Authenticated, the last message again: the cached reply if it
    /// answers this xid, else drop it as a replay.
    Retransmit(Tag, Key),
}

/// Why a message is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deny {
    /// No auth block where one is required (answered `unauthenticated`).
    Unauthenticated,
    /// The key is neither the host's nor a fresh grant for it (answered
    /// `unauthenticated`: the host gets a new key).
    UnknownKey,
    /// The MAC is wrong (answered `unauthenticated`).
    BadMac,
    /// A sequence number already used (dropped).
    Replayed,
}

/// The router's keys: secret, grants and hosts, for up to `N` hosts.
///
/// # Invariants
///
/// An address has at most one entry in `hosts`; `pending` holds grants
/// not yet used, each usable once. About 16 bytes a host: the keys
/// themselves are derived from `secret` when needed.
#[derive(Debug, Clone)]
pub struct KeyTable<const N: usize> {
    secret: Key,
    next_id: u32,
    hosts: [HostKey; N],
    pending: [Pending; PENDING_KEYS],
    next_pending: usize,
    tokens: u32,
    last_refill: u64,
}

impl<const N: usize> KeyTable<N> {
    /// An empty table under `secret` (random, one per router instance).
    pub const fn new(secret: Key) -> Self {
        Self {
            secret,
            next_id: 1,
            hosts: [HostKey::FREE; N],
            pending: [Pending::FREE; PENDING_KEYS],
            next_pending: 0,
            tokens: KEY_GRANTS_PER_SEC,
            last_refill: 0,
        }
    }

    /// The entry of `addr`.
    pub fn host(&self, addr: Ipv4Addr) -> Option<&HostKey> {
        if addr.is_unspecified() {
            return None;
        }
        self.hosts.iter().find(|h| h.addr == addr)
    }

    /// Whether `addr` has authenticated (and must go on doing so).
    pub fn is_keyed(&self, addr: Ipv4Addr) -> bool {
        self.host(addr).is_some()
    }

    /// The current key of `addr`, to seal unsolicited messages with.
    pub fn key_of(&self, addr: Ipv4Addr) -> Option<(u32, Key)> {
        let h = self.host(addr)?;
        Some((h.key_id, derive_key(&self.secret, addr, h.key_id)))
    }

    /// Forgets `addr` (an administrator's `router auth forget`): its next
    /// message needs a new key, and in optional mode may be plain again.
    pub fn forget(&mut self, addr: Ipv4Addr) -> bool {
        let mut found = false;
        for e in self.hosts.iter_mut() {
            if !e.is_free() && e.addr == addr {
                *e = HostKey::FREE;
                found = true;
            }
        }
        found
    }

    /// Number of authenticated hosts.
    pub fn hosts(&self) -> usize {
        self.hosts.iter().filter(|h| !h.is_free()).count()
    }

    fn take_token(&mut self, now: u64) -> bool {
        if now > self.last_refill {
            self.tokens = KEY_GRANTS_PER_SEC;
            self.last_refill = now;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// Grants a key for `req` from `host` at `now` (seconds) in `epoch`,
    /// and encodes the sealed grant into `out`; `None` over
    /// [`KEY_GRANTS_PER_SEC`] (nothing is granted).
    pub fn grant(
        &mut self,
        host: Ipv4Addr,
        req: &KeyRequest,
        epoch: u32,
        now: u64,
        out: &mut [u8],
    ) -> Option<Result<usize, PapError>> {
        if !self.take_token(now) {
            return None;
        }
        let key_id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let key = derive_key(&self.secret, host, key_id);
        let slot = self.next_pending % PENDING_KEYS;
        self.next_pending = (slot + 1) % PENDING_KEYS;
        if let Some(p) = self.pending.get_mut(slot) {
            *p = Pending {
                addr: host,
                key_id,
                issued: now as u32,
            };
        }
        let g = KeyGrant {
            key_id,
            wrapped: wrap(&key, &req.half, host, key_id),
            ext: Trailer {
                xid: req.ext.xid,
                epoch,
                lease: 0,
            },
        };
        Some(encode_key_grant(&g, &key, host, out))
    }

    fn pending_fresh(&self, host: Ipv4Addr, key_id: u32, now: u64) -> bool {
        let now = now as u32;
        self.pending.iter().any(|p| {
            p.key_id != 0
                && p.addr == host
                && p.key_id == key_id
                && u64::from(now.wrapping_sub(p.issued)) <= KEY_FRESH
        })
    }

    /// Decides on `frame` (parsed from `buf`) from `host` at `now`, under
    /// `mode`. Key requests are not for this: see [`KeyTable::grant`].
    pub fn admit(
        &self,
        mode: Mode,
        host: Ipv4Addr,
        frame: &Frame,
        buf: &[u8],
        now: u64,
    ) -> Result<Admit, Deny> {
        let tag = match frame {
            Frame::Sealed(_, tag) => *tag,
            _ => {
                if mode == Mode::Required || self.is_keyed(host) {
                    return Err(Deny::Unauthenticated);
                }
                return Ok(Admit::Plain);
            }
        };
        let current = self.host(host).filter(|h| h.key_id == tag.key_id);
        if current.is_none() && !self.pending_fresh(host, tag.key_id, now) {
            return Err(Deny::UnknownKey);
        }
        let key = derive_key(&self.secret, host, tag.key_id);
        if !verify(buf, &key, Direction::ToRouter, host) {
            return Err(Deny::BadMac);
        }
        match current {
            Some(h) if tag.seq < h.seq => Err(Deny::Replayed),
            Some(h) if tag.seq == h.seq => Ok(Admit::Retransmit(tag, key)),
            _ => Ok(Admit::Fresh(tag, key)),
        }
    }

    /// Records that the message of `host` sealed with `tag` was served at
    /// `now`: its key becomes the host's (a grant is used up), `tag.seq`
    /// its last sequence number. A full table gives up the entry used
    /// least recently.
    pub fn accept(&mut self, host: Ipv4Addr, tag: Tag, now: u64) {
        if host.is_unspecified() {
            return;
        }
        for p in self.pending.iter_mut() {
            if p.key_id == tag.key_id && p.addr == host {
                *p = Pending::FREE;
            }
        }
        let now = now as u32;
        let entry = HostKey {
            addr: host,
            key_id: tag.key_id,
            seq: tag.seq,
            used: now,
        };
        let slot = match self.hosts.iter().position(|h| h.addr == host) {
            Some(i) => Some(i),
            None => match self.hosts.iter().position(HostKey::is_free) {
                Some(i) => Some(i),
                None => self
                    .hosts
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, h)| now.wrapping_sub(h.used))
                    .map(|(i, _)| i),
            },
        };
        if let Some(e) = slot.and_then(|i| self.hosts.get_mut(i)) {
            *e = entry;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pap::{self, Message, PortClass};
    use crate::pap_auth::{parse, seal, MAX_WIRE};

    const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
    const SECRET: Key = [7; 16];
    const HALF: Key = [9; 16];

    fn req(xid: u32) -> KeyRequest {
        KeyRequest {
            half: HALF,
            ext: Trailer {
                xid,
                epoch: 0,
                lease: 0,
            },
        }
    }

    fn granted(t: &mut KeyTable<4>, host: Ipv4Addr, now: u64) -> (u32, Key) {
        let mut out = [0u8; MAX_WIRE];
        let n = t.grant(host, &req(5), 77, now, &mut out).unwrap().unwrap();
        let Ok(Frame::KeyGrant(g, _)) = parse(&out[..n], Direction::ToHost) else {
            panic!("not a grant");
        };
        (g.key_id, wrap(&g.wrapped, &HALF, host, g.key_id))
    }

    fn request(xid: u32, key: Option<(&Key, Tag)>, host: Ipv4Addr) -> ([u8; MAX_WIRE], usize) {
        let m = Message::PortRequest {
            class: PortClass::High,
            count: 8,
            ext: Some(Trailer {
                xid,
                epoch: 0,
                lease: 0,
            }),
        };
        let mut out = [0u8; MAX_WIRE];
        let mut n = pap::encode(&m, &mut out).unwrap();
        if let Some((k, tag)) = key {
            n = seal(&mut out, n, k, tag, Direction::ToRouter, host).unwrap();
        }
        (out, n)
    }

    fn admit(
        t: &KeyTable<4>,
        mode: Mode,
        host: Ipv4Addr,
        b: &[u8],
        now: u64,
    ) -> Result<Admit, Deny> {
        let f = parse(b, Direction::ToRouter).unwrap();
        t.admit(mode, host, &f, b, now)
    }

    #[test]
    fn grant_then_sequence() {
        let mut t = KeyTable::<4>::new(SECRET);
        let (id, key) = granted(&mut t, H1, 100);
        assert_eq!(key, derive_key(&SECRET, H1, id));
        let tag = Tag { key_id: id, seq: 1 };
        let (b, n) = request(11, Some((&key, tag)), H1);
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 101),
            Ok(Admit::Fresh(tag, key))
        );
        t.accept(H1, tag, 101);
        assert!(t.is_keyed(H1));
        // The same message again: a retransmission (or a replay).
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 102),
            Ok(Admit::Retransmit(tag, key))
        );
        // An older sequence number: a replay.
        t.accept(H1, Tag { key_id: id, seq: 3 }, 103);
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 104),
            Err(Deny::Replayed)
        );
        let next = Tag { key_id: id, seq: 4 };
        let (b, n) = request(12, Some((&key, next)), H1);
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 104),
            Ok(Admit::Fresh(next, key))
        );
    }

    #[test]
    fn another_host_cannot_use_a_key() {
        let mut t = KeyTable::<4>::new(SECRET);
        let (id, key) = granted(&mut t, H2, 100);
        // H2 seals a message as H1 with its own key: the key is not H1's.
        let tag = Tag { key_id: id, seq: 1 };
        let (b, n) = request(11, Some((&key, tag)), H1);
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 100),
            Err(Deny::UnknownKey)
        );
        // H1 has a grant with the same id: H2's key still does not fit.
        let (id1, _) = granted(&mut t, H1, 100);
        let (b, n) = request(
            11,
            Some((
                &key,
                Tag {
                    key_id: id1,
                    seq: 1,
                },
            )),
            H1,
        );
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 100),
            Err(Deny::BadMac)
        );
    }

    #[test]
    fn grants_are_fresh_and_used_once() {
        let mut t = KeyTable::<4>::new(SECRET);
        let (id, key) = granted(&mut t, H1, 100);
        let tag = Tag { key_id: id, seq: 1 };
        let (b, n) = request(11, Some((&key, tag)), H1);
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 100 + KEY_FRESH + 1),
            Err(Deny::UnknownKey)
        );
        assert!(admit(&t, Mode::Required, H1, &b[..n], 100 + KEY_FRESH).is_ok());
        // Used, then replaced by a newer key: the old one is dead.
        t.accept(H1, tag, 101);
        let (id2, key2) = granted(&mut t, H1, 102);
        let tag2 = Tag {
            key_id: id2,
            seq: 9,
        };
        let (b2, n2) = request(12, Some((&key2, tag2)), H1);
        assert!(admit(&t, Mode::Required, H1, &b2[..n2], 102).is_ok());
        t.accept(H1, tag2, 102);
        let (b, n) = request(
            13,
            Some((
                &key,
                Tag {
                    key_id: id,
                    seq: 50,
                },
            )),
            H1,
        );
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 103),
            Err(Deny::UnknownKey)
        );
    }

    #[test]
    fn plain_messages_by_mode() {
        let mut t = KeyTable::<4>::new(SECRET);
        let (b, n) = request(11, None, H1);
        assert_eq!(
            admit(&t, Mode::Required, H1, &b[..n], 1),
            Err(Deny::Unauthenticated)
        );
        assert_eq!(admit(&t, Mode::Optional, H1, &b[..n], 1), Ok(Admit::Plain));
        // Once keyed, a host must stay authenticated, in optional mode too.
        let (id, _) = granted(&mut t, H1, 1);
        t.accept(H1, Tag { key_id: id, seq: 1 }, 1);
        assert_eq!(
            admit(&t, Mode::Optional, H1, &b[..n], 2),
            Err(Deny::Unauthenticated)
        );
        assert!(t.forget(H1));
        assert_eq!(admit(&t, Mode::Optional, H1, &b[..n], 2), Ok(Admit::Plain));
    }

    #[test]
    fn tampering_is_caught() {
        let mut t = KeyTable::<4>::new(SECRET);
        let (id, key) = granted(&mut t, H1, 1);
        let tag = Tag { key_id: id, seq: 1 };
        let (b, n) = request(11, Some((&key, tag)), H1);
        // Every single-bit change outside the checksum, checksum fixed up:
        // refused by the parser or the MAC.
        for i in (0..n).filter(|i| !(2..4).contains(i)) {
            for bit in 0..8 {
                let mut c = b;
                c[i] ^= 1 << bit;
                c[2] = 0;
                c[3] = 0;
                let ck = crate::checksum::checksum(&c[..n]).to_be_bytes();
                c[2..4].copy_from_slice(&ck);
                if let Ok(f) = parse(&c[..n], Direction::ToRouter) {
                    assert!(
                        t.admit(Mode::Required, H1, &f, &c[..n], 1).is_err(),
                        "{i}/{bit}"
                    );
                }
            }
        }
    }

    #[test]
    fn grant_rate_and_table_size() {
        let mut t = KeyTable::<4>::new(SECRET);
        let mut out = [0u8; MAX_WIRE];
        let granted = (0..KEY_GRANTS_PER_SEC + 10)
            .filter(|_| t.grant(H1, &req(1), 1, 5, &mut out).is_some())
            .count();
        assert_eq!(granted, KEY_GRANTS_PER_SEC as usize);
        assert!(t.grant(H1, &req(1), 1, 6, &mut out).is_some());
        // Five hosts in four entries: the least recently used goes.
        for i in 0..5u8 {
            t.accept(
                Ipv4Addr::new(10, 0, 0, 10 + i),
                Tag { key_id: 1, seq: 1 },
                u64::from(i),
            );
        }
        assert_eq!(t.hosts(), 4);
        assert!(!t.is_keyed(Ipv4Addr::new(10, 0, 0, 10)));
        assert!(t.is_keyed(Ipv4Addr::new(10, 0, 0, 14)));
    }
}
