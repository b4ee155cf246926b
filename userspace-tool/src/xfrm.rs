// SPDX-License-Identifier: GPL-2.0

//! The parts of XFRM netlink (`NETLINK_XFRM`, `linux/xfrm.h`) that
//! `host follow` and `host spi alloc` use: the `xfrm_usersa_info`,
//! `xfrm_usersa_id`, `xfrm_user_expire` and `xfrm_userspi_info` layouts,
//! the SA notifications of the `XFRMNLGRP_SA` and `XFRMNLGRP_EXPIRE`
//! multicast groups, the `XFRM_MSG_GETSA` dump and `XFRM_MSG_ALLOCSPI`.
//!
//! Only IPv4 SAs are of interest: messages about other families are
//! skipped. In the XFRM structures SPIs are in network byte order and
//! addresses are `xfrm_address_t` (16 bytes, an IPv4 address in the first
//! 4); the other integers are in host byte order. Every request needs
//! `CAP_NET_ADMIN`, and so does joining the multicast groups.

use std::fmt::Debug;
use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NlasIterator, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_xfrm::{
    AF_INET, XFRMA_ALG_AEAD, XFRMA_ALG_AUTH, XFRMA_ALG_AUTH_TRUNC, XFRMA_ALG_COMP, XFRMA_ALG_CRYPT,
    XFRMA_SA, XFRMA_SRCADDR, XFRMNLGRP_EXPIRE, XFRMNLGRP_SA, XFRM_MSG_ALLOCSPI, XFRM_MSG_DELSA,
    XFRM_MSG_EXPIRE, XFRM_MSG_FLUSHSA, XFRM_MSG_GETSA, XFRM_MSG_NEWSA, XFRM_MSG_UPDSA,
};
use netlink_sys::{protocols::NETLINK_XFRM, Socket, SocketAddr};

use crate::nl::{self, Error, Reply, ReplyError};

/// `sizeof(struct xfrm_usersa_info)`: selector (56), id (24), saddr (16),
/// lifetime cfg (64), cur (32), stats (12), seq, reqid, family, mode,
/// replay_window, flags, 7 bytes of padding.
pub const USERSA_INFO_LEN: usize = 224;
/// `sizeof(struct xfrm_usersa_id)`: daddr (16), spi, family, proto, pad.
pub const USERSA_ID_LEN: usize = 24;
/// `sizeof(struct xfrm_user_expire)`: `xfrm_usersa_info`, `u8 hard`, pad.
pub const USER_EXPIRE_LEN: usize = 232;
/// `sizeof(struct xfrm_userspi_info)`: `xfrm_usersa_info`, `u32 min`,
/// `u32 max`.
pub const USERSPI_INFO_LEN: usize = 232;

/// Offsets in `struct xfrm_usersa_info`.
mod info {
    /// `id.daddr`.
    pub const DADDR: usize = 56;
    /// `id.spi` (network byte order).
    pub const SPI: usize = 72;
    /// `id.proto`.
    pub const PROTO: usize = 76;
    /// `saddr`.
    pub const SADDR: usize = 80;
    /// `lft`: `struct xfrm_lifetime_cfg`, 8 `u64`.
    pub const LFT: usize = 96;
    /// `reqid`.
    pub const REQID: usize = 208;
    /// `family`.
    pub const FAMILY: usize = 212;
    /// `mode`.
    pub const MODE: usize = 214;
}

/// Offsets in `struct xfrm_usersa_id`.
mod id {
    pub const DADDR: usize = 0;
    pub const SPI: usize = 16;
    pub const FAMILY: usize = 20;
    pub const PROTO: usize = 22;
}

/// `xfrm_user_expire.hard`.
const EXPIRE_HARD: usize = 224;

/// An IPv4 XFRM state, as far as dnat cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sa {
    /// Destination (`id.daddr`): for an inbound SA, this host's address.
    pub daddr: Ipv4Addr,
    /// Source (`saddr`): for an inbound SA, the peer.
    pub saddr: Ipv4Addr,
    /// `id.spi`, in host byte order.
    pub spi: u32,
    /// `id.proto`: `IPPROTO_ESP`, `IPPROTO_AH`, ...
    pub proto: u8,
    /// Whether the message had an algorithm (`XFRMA_ALG_*`): false for the
    /// larval state `XFRM_MSG_ALLOCSPI` makes, which carries no traffic,
    /// and in messages that never carry algorithms (`XFRM_MSG_EXPIRE`).
    pub complete: bool,
}

/// An SA notification (`XFRMNLGRP_SA`, `XFRMNLGRP_EXPIRE`) about an IPv4
/// SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `XFRM_MSG_NEWSA`: an SA was added.
    New(Sa),
    /// `XFRM_MSG_UPDSA`: an SA was updated (or a larval state completed).
    Updated(Sa),
    /// `XFRM_MSG_DELSA`: an SA was deleted (`complete` is false when the
    /// notification had no algorithm).
    Deleted(Sa),
    /// `XFRM_MSG_EXPIRE` with `hard` set: the SA reached its hard limit
    /// and is gone.
    Expired(Sa),
    /// `XFRM_MSG_FLUSHSA`: every SA of a protocol (0: all) was deleted, with
    /// no message per SA.
    Flushed,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn spi_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn v4_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// Whether `attrs` (the attributes after a message's fixed part) hold an
/// algorithm.
fn has_algorithm(attrs: &[u8]) -> Result<bool, String> {
    for nla in NlasIterator::new(attrs) {
        let nla = nla.map_err(|e| format!("bad attribute: {e}"))?;
        if matches!(
            nla.kind(),
            XFRMA_ALG_AUTH
                | XFRMA_ALG_CRYPT
                | XFRMA_ALG_COMP
                | XFRMA_ALG_AEAD
                | XFRMA_ALG_AUTH_TRUNC
        ) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The fixed part of a message: `len` bytes, or an error naming `what`.
fn fixed<'a>(body: &'a [u8], len: usize, what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    if body.len() < len {
        return Err(format!(
            "{what}: {} bytes, shorter than its {len}-byte header",
            body.len()
        ));
    }
    Ok(body.split_at(len))
}

/// The IPv4 state an `xfrm_usersa_info` (at least [`USERSA_INFO_LEN`]
/// bytes) describes, `None` for another family; `complete` false.
fn usersa_info(p: &[u8]) -> Option<Sa> {
    if u16_at(p, info::FAMILY) != AF_INET {
        return None;
    }
    Some(Sa {
        daddr: v4_at(p, info::DADDR),
        saddr: v4_at(p, info::SADDR),
        spi: spi_at(p, info::SPI),
        proto: p[info::PROTO],
        complete: false,
    })
}

/// Parses an `XFRM_MSG_NEWSA` or `XFRM_MSG_UPDSA` body (a notification or
/// a dump entry): `xfrm_usersa_info` and attributes. `Ok(None)` for
/// another family than IPv4.
pub fn parse_state(body: &[u8]) -> Result<Option<Sa>, String> {
    let (p, attrs) = fixed(body, USERSA_INFO_LEN, "xfrm_usersa_info")?;
    let Some(mut sa) = usersa_info(p) else {
        return Ok(None);
    };
    sa.complete = has_algorithm(attrs)?;
    Ok(Some(sa))
}

/// Parses an `XFRM_MSG_DELSA` notification: `xfrm_usersa_id`, then the
/// whole state in `XFRMA_SA` (or, as in a request, only the source address
/// in `XFRMA_SRCADDR`) and the state's other attributes.
pub fn parse_delsa(body: &[u8]) -> Result<Option<Sa>, String> {
    let (p, attrs) = fixed(body, USERSA_ID_LEN, "xfrm_usersa_id")?;
    if u16_at(p, id::FAMILY) != AF_INET {
        return Ok(None);
    }
    let mut saddr = None;
    let mut complete = false;
    for nla in NlasIterator::new(attrs) {
        let nla = nla.map_err(|e| format!("bad attribute: {e}"))?;
        let v = nla.value();
        match nla.kind() {
            XFRMA_SA => {
                let (sa, _) = fixed(v, USERSA_INFO_LEN, "XFRMA_SA")?;
                if u16_at(sa, info::FAMILY) == AF_INET {
                    saddr = Some(v4_at(sa, info::SADDR));
                }
            }
            XFRMA_SRCADDR if saddr.is_none() => {
                let (a, _) = fixed(v, 16, "XFRMA_SRCADDR")?;
                saddr = Some(v4_at(a, 0));
            }
            XFRMA_ALG_AUTH | XFRMA_ALG_CRYPT | XFRMA_ALG_COMP | XFRMA_ALG_AEAD
            | XFRMA_ALG_AUTH_TRUNC => complete = true,
            _ => {}
        }
    }
    let saddr = saddr.ok_or("XFRM_MSG_DELSA without XFRMA_SA or XFRMA_SRCADDR")?;
    Ok(Some(Sa {
        daddr: v4_at(p, id::DADDR),
        saddr,
        spi: spi_at(p, id::SPI),
        proto: p[id::PROTO],
        complete,
    }))
}

/// Parses an `XFRM_MSG_EXPIRE` notification (`xfrm_user_expire`): the
/// state and whether the hard limit was reached.
pub fn parse_expire(body: &[u8]) -> Result<Option<(Sa, bool)>, String> {
    let (p, _) = fixed(body, USER_EXPIRE_LEN, "xfrm_user_expire")?;
    Ok(usersa_info(p).map(|sa| (sa, p[EXPIRE_HARD] != 0)))
}

/// Parses a notification of the SA and expire groups: `Ok(None)` for
/// messages that do not matter (other types, other families, soft
/// expiries); an error for a truncated or malformed one.
pub fn parse_event(ty: u16, body: &[u8]) -> Result<Option<Event>, String> {
    Ok(match ty {
        XFRM_MSG_NEWSA => parse_state(body)?.map(Event::New),
        XFRM_MSG_UPDSA => parse_state(body)?.map(Event::Updated),
        XFRM_MSG_DELSA => parse_delsa(body)?.map(Event::Deleted),
        XFRM_MSG_EXPIRE => match parse_expire(body)? {
            Some((sa, true)) => Some(Event::Expired(sa)),
            _ => None,
        },
        XFRM_MSG_FLUSHSA => Some(Event::Flushed),
        _ => None,
    })
}

/// What `XFRM_MSG_ALLOCSPI` asks for: a larval inbound state from `peer` to
/// `daddr` reserving an SPI in `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocSpi {
    /// This host's address the SA is to (`id.daddr`).
    pub daddr: Ipv4Addr,
    /// The peer (`saddr`).
    pub peer: Ipv4Addr,
    /// `IPPROTO_ESP` or `IPPROTO_AH`.
    pub proto: u8,
    /// `XFRM_MODE_TRANSPORT` or `XFRM_MODE_TUNNEL`.
    pub mode: u8,
    pub reqid: u32,
    /// Lowest SPI wanted.
    pub min: u32,
    /// Highest SPI wanted.
    pub max: u32,
}

impl AllocSpi {
    /// The `xfrm_userspi_info` body: `seq` 0 (so the kernel finds or makes
    /// the larval state by addresses, mode and reqid), family `AF_INET`,
    /// infinite lifetimes as `ip xfrm` sends them, `min` and `max` in host
    /// byte order.
    pub fn body(&self) -> Vec<u8> {
        let mut b = vec![0u8; USERSPI_INFO_LEN];
        b[info::DADDR..info::DADDR + 4].copy_from_slice(&self.daddr.octets());
        b[info::PROTO] = self.proto;
        b[info::SADDR..info::SADDR + 4].copy_from_slice(&self.peer.octets());
        for i in 0..8 {
            let at = info::LFT + 8 * i;
            b[at..at + 8].copy_from_slice(&u64::MAX.to_ne_bytes());
        }
        b[info::REQID..info::REQID + 4].copy_from_slice(&self.reqid.to_ne_bytes());
        b[info::FAMILY..info::FAMILY + 2].copy_from_slice(&AF_INET.to_ne_bytes());
        b[info::MODE] = self.mode;
        b[USERSA_INFO_LEN..USERSA_INFO_LEN + 4].copy_from_slice(&self.min.to_ne_bytes());
        b[USERSA_INFO_LEN + 4..].copy_from_slice(&self.max.to_ne_bytes());
        b
    }
}

/// A netlink message of the XFRM family: its type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfrmMsg {
    pub ty: u16,
    pub body: Vec<u8>,
}

impl NetlinkSerializable for XfrmMsg {
    fn message_type(&self) -> u16 {
        self.ty
    }

    fn buffer_len(&self) -> usize {
        self.body.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer[..self.body.len()].copy_from_slice(&self.body);
    }
}

impl NetlinkDeserializable for XfrmMsg {
    type Error = std::convert::Infallible;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, Self::Error> {
        Ok(Self {
            ty: header.message_type,
            body: payload.to_vec(),
        })
    }
}

impl From<XfrmMsg> for NetlinkPayload<XfrmMsg> {
    fn from(m: XfrmMsg) -> Self {
        NetlinkPayload::InnerMessage(m)
    }
}

/// Serializes an XFRM request.
pub fn encode(msg: XfrmMsg, flags: u16, seq: u32) -> Vec<u8> {
    let mut nl = NetlinkMessage::from(msg);
    nl.header.flags = flags;
    nl.header.sequence_number = seq;
    nl.finalize();
    let mut buf = vec![0; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |err| Error::Io { what, err }
}

/// An XFRM netlink socket for requests.
pub struct Xfrm {
    sock: Socket,
    seq: u32,
}

impl Xfrm {
    /// Opens and binds a socket with extended acks.
    pub fn open() -> Result<Self, Error> {
        let mut sock = Socket::new(NETLINK_XFRM).map_err(io_err("opening an XFRM socket"))?;
        let _ = sock.set_ext_ack(true);
        sock.bind_auto()
            .map_err(io_err("binding the XFRM socket"))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(io_err("connecting the XFRM socket"))?;
        Ok(Self { sock, seq: 0 })
    }

    /// Sends `msg` and returns the replies until the ACK (`dump` false) or
    /// `NLMSG_DONE`.
    fn transact(&mut self, msg: XfrmMsg, dump: bool, what: &str) -> Result<Vec<XfrmMsg>, Error> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { NLM_F_ACK };
        self.sock
            .send(&encode(msg, flags, seq), 0)
            .map_err(io_err(format!("{what}: sending the request")))?;
        let mut out = Vec::new();
        loop {
            let (buf, _) = self
                .sock
                .recv_from_full()
                .map_err(io_err(format!("{what}: receiving the reply")))?;
            let msgs = nl::split(&buf).map_err(|detail| Error::Malformed {
                what: what.to_owned(),
                detail,
            })?;
            for bytes in msgs {
                match nl::classify::<XfrmMsg>(bytes, seq) {
                    Ok(Reply::Data(m)) => out.push(m),
                    Ok(Reply::Skip) => {}
                    Ok(Reply::Ack | Reply::Done) => return Ok(out),
                    Err(ReplyError::Nack(n)) => {
                        return Err(Error::Kernel {
                            what: what.to_owned(),
                            errno: n.errno,
                            extack: n.extack,
                        })
                    }
                    Err(ReplyError::Malformed(detail)) => {
                        return Err(Error::Malformed {
                            what: what.to_owned(),
                            detail,
                        })
                    }
                }
            }
        }
    }

    /// Every IPv4 state (`XFRM_MSG_GETSA` dump), larval ones included.
    pub fn states(&mut self) -> Result<Vec<Sa>, Error> {
        let what = "dumping the XFRM states";
        let req = XfrmMsg {
            ty: XFRM_MSG_GETSA,
            body: Vec::new(),
        };
        let mut out = Vec::new();
        for m in self.transact(req, true, what)? {
            if m.ty != XFRM_MSG_NEWSA {
                continue;
            }
            let sa = parse_state(&m.body).map_err(|detail| Error::Malformed {
                what: what.into(),
                detail,
            })?;
            out.extend(sa);
        }
        Ok(out)
    }

    /// `XFRM_MSG_ALLOCSPI`: the SPI of the larval state the kernel made, in
    /// host byte order. (With `seq` 0 the kernel reuses only a larval state
    /// of the same addresses, protocol, mode and reqid that has no SPI yet,
    /// the leftover of an attempt that found none.)
    pub fn alloc_spi(&mut self, req: &AllocSpi, what: &str) -> Result<u32, Error> {
        let msg = XfrmMsg {
            ty: XFRM_MSG_ALLOCSPI,
            body: req.body(),
        };
        // The reply is the state (XFRM_MSG_NEWSA), then the ACK.
        let replies = self.transact(msg, false, what)?;
        let malformed = |detail: String| Error::Malformed {
            what: what.to_owned(),
            detail,
        };
        let state = replies
            .iter()
            .find(|m| m.ty == XFRM_MSG_NEWSA)
            .ok_or_else(|| malformed("no state in the reply".into()))?;
        parse_state(&state.body)
            .map_err(malformed)?
            .map(|sa| sa.spi)
            .ok_or_else(|| malformed("the state is not IPv4".into()))
    }
}

/// A socket in the `XFRMNLGRP_SA` and `XFRMNLGRP_EXPIRE` multicast groups
/// of the caller's network namespace.
pub struct Monitor {
    sock: Socket,
}

/// What [`Monitor::recv`] got.
#[derive(Debug)]
pub enum Received {
    /// One datagram: its messages' types and bodies.
    Messages(Vec<XfrmMsg>),
    /// Nothing before the timeout (or a signal interrupted the wait).
    Nothing,
    /// The socket's receive queue overflowed: notifications were lost.
    Overrun,
}

impl Monitor {
    /// Opens the socket and joins the groups (needs `CAP_NET_ADMIN`).
    pub fn open() -> Result<Self, Error> {
        let mut sock = Socket::new(NETLINK_XFRM).map_err(io_err("opening an XFRM socket"))?;
        sock.bind_auto()
            .map_err(io_err("binding the XFRM monitor socket"))?;
        for g in [XFRMNLGRP_SA, XFRMNLGRP_EXPIRE] {
            sock.add_membership(g)
                .map_err(io_err(format!("joining XFRM multicast group {g}")))?;
        }
        // A burst of SAs (an IKE daemon starting) should fit; the kernel
        // caps it at net.core.rmem_max.
        let _ = socket2::SockRef::from(&sock).set_recv_buffer_size(1 << 20);
        Ok(Self { sock })
    }

    /// Waits at most `timeout` for a datagram.
    pub fn recv(&self, timeout: Duration) -> Result<Received, Error> {
        let what = "receiving XFRM notifications";
        // A zero timeout would mean "forever".
        let timeout = timeout.max(Duration::from_millis(1));
        socket2::SockRef::from(&self.sock)
            .set_read_timeout(Some(timeout))
            .map_err(io_err(what))?;
        let buf = match self.sock.recv_from_full() {
            Ok((buf, _)) => buf,
            Err(e) => {
                return match e.kind() {
                    io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted => Ok(Received::Nothing),
                    _ if e.raw_os_error() == Some(ENOBUFS) => Ok(Received::Overrun),
                    _ => Err(Error::Io {
                        what: what.into(),
                        err: e,
                    }),
                }
            }
        };
        Ok(Received::Messages(split_datagram(&buf).map_err(
            |detail| Error::Malformed {
                what: what.into(),
                detail,
            },
        )?))
    }
}

/// `ENOBUFS`.
pub const ENOBUFS: i32 = 105;

/// The messages of a notification datagram.
pub fn split_datagram(buf: &[u8]) -> Result<Vec<XfrmMsg>, String> {
    let mut out = Vec::new();
    for bytes in nl::split(buf)? {
        let m = NetlinkMessage::<XfrmMsg>::deserialize(bytes).map_err(|e| e.to_string())?;
        if let NetlinkPayload::InnerMessage(x) = m.payload {
            out.push(x);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use netlink_packet_xfrm::{
        AF_INET6, IPPROTO_AH, IPPROTO_ESP, XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL,
    };

    use super::*;

    /// An `xfrm_usersa_info` as the kernel fills it.
    pub fn usersa_info(
        family: u16,
        daddr: [u8; 4],
        saddr: [u8; 4],
        spi: u32,
        proto: u8,
    ) -> Vec<u8> {
        let mut b = vec![0u8; USERSA_INFO_LEN];
        // Selector: daddr, saddr, family, prefix lengths.
        b[0..4].copy_from_slice(&daddr);
        b[16..20].copy_from_slice(&saddr);
        b[40..42].copy_from_slice(&family.to_ne_bytes());
        b[42] = 32;
        b[43] = 32;
        b[56..60].copy_from_slice(&daddr);
        b[72..76].copy_from_slice(&spi.to_be_bytes());
        b[76] = proto;
        b[80..84].copy_from_slice(&saddr);
        for i in 0..8 {
            b[96 + 8 * i..104 + 8 * i].copy_from_slice(&u64::MAX.to_ne_bytes());
        }
        b[208..212].copy_from_slice(&7u32.to_ne_bytes()); // reqid
        b[212..214].copy_from_slice(&family.to_ne_bytes());
        b[214] = XFRM_MODE_TRANSPORT;
        b[215] = 32; // replay window
        b
    }

    pub fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    /// `XFRMA_ALG_CRYPT` and `XFRMA_ALG_AUTH_TRUNC` as for `cbc(aes)` and
    /// `hmac(sha256)`.
    pub fn algorithms() -> Vec<u8> {
        let mut crypt = vec![0u8; 64];
        crypt[..8].copy_from_slice(b"cbc(aes)");
        crypt.extend_from_slice(&128u32.to_ne_bytes());
        crypt.extend_from_slice(&[0x11; 16]);
        let mut auth = vec![0u8; 64];
        auth[..12].copy_from_slice(b"hmac(sha256)");
        auth.extend_from_slice(&256u32.to_ne_bytes());
        auth.extend_from_slice(&128u32.to_ne_bytes());
        auth.extend_from_slice(&[0x22; 32]);
        let mut v = nla(XFRMA_ALG_CRYPT, &crypt);
        v.extend(nla(XFRMA_ALG_AUTH_TRUNC, &auth));
        v
    }

    /// A NEWSA/UPDSA body of a complete (or, without algorithms, larval)
    /// state.
    pub fn state_body(saddr: [u8; 4], daddr: [u8; 4], spi: u32, proto: u8, algs: bool) -> Vec<u8> {
        let mut b = usersa_info(AF_INET, daddr, saddr, spi, proto);
        // XFRMA_REPLAY_VAL, then the algorithms.
        b.extend(nla(10, &[0; 12]));
        if algs {
            b.extend(algorithms());
        }
        b
    }

    /// A DELSA notification body as `xfrm_notify_sa` builds it.
    pub fn delsa_body(saddr: [u8; 4], daddr: [u8; 4], spi: u32, proto: u8) -> Vec<u8> {
        let mut b = vec![0u8; USERSA_ID_LEN];
        b[0..4].copy_from_slice(&daddr);
        b[16..20].copy_from_slice(&spi.to_be_bytes());
        b[20..22].copy_from_slice(&AF_INET.to_ne_bytes());
        b[22] = proto;
        b.extend(nla(
            XFRMA_SA,
            &usersa_info(AF_INET, daddr, saddr, spi, proto),
        ));
        b.extend(algorithms());
        b
    }

    /// An EXPIRE notification body.
    pub fn expire_body(saddr: [u8; 4], daddr: [u8; 4], spi: u32, hard: bool) -> Vec<u8> {
        let mut b = usersa_info(AF_INET, daddr, saddr, spi, IPPROTO_ESP);
        b.push(u8::from(hard));
        b.resize(USER_EXPIRE_LEN, 0);
        b
    }

    const PEER: [u8; 4] = [203, 0, 113, 3];
    const PUBLIC: [u8; 4] = [203, 0, 113, 30];

    fn sa(spi: u32, proto: u8, complete: bool) -> Sa {
        Sa {
            daddr: Ipv4Addr::from(PUBLIC),
            saddr: Ipv4Addr::from(PEER),
            spi,
            proto,
            complete,
        }
    }

    #[test]
    fn layouts() {
        assert_eq!(
            USERSA_INFO_LEN,
            56 + 24 + 16 + 64 + 32 + 12 + 4 + 4 + 2 + 1 + 1 + 1 + 7
        );
        assert_eq!(USERSA_ID_LEN, 16 + 4 + 2 + 1 + 1);
        assert_eq!(info::DADDR, 56);
        assert_eq!(info::SPI, 56 + 16);
        assert_eq!(info::PROTO, 56 + 20);
        assert_eq!(info::SADDR, 56 + 24);
        assert_eq!(info::LFT, 80 + 16);
        assert_eq!(info::REQID, 96 + 64 + 32 + 12 + 4);
        assert_eq!(info::FAMILY, info::REQID + 4);
        assert_eq!(info::MODE, info::FAMILY + 2);
        assert_eq!(USER_EXPIRE_LEN, (USERSA_INFO_LEN + 1).next_multiple_of(8));
        assert_eq!(USERSPI_INFO_LEN, USERSA_INFO_LEN + 8);
    }

    #[test]
    fn parses_states() {
        let b = state_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP, true);
        assert_eq!(parse_state(&b), Ok(Some(sa(0x1004, IPPROTO_ESP, true))));
        // A larval state (ALLOCSPI) has no algorithm.
        let b = state_body(PEER, PUBLIC, 0x1005, IPPROTO_AH, false);
        assert_eq!(parse_state(&b), Ok(Some(sa(0x1005, IPPROTO_AH, false))));
        // SPIs are big-endian on the wire.
        let b = state_body(PEER, PUBLIC, 0x0102_0304, IPPROTO_ESP, true);
        assert_eq!(&b[72..76], &[1, 2, 3, 4]);
        assert_eq!(parse_state(&b).unwrap().unwrap().spi, 0x0102_0304);
        // IPv6 and other families are skipped.
        for family in [AF_INET6, 0, 1] {
            let mut b = usersa_info(family, PUBLIC, PEER, 0x1004, IPPROTO_ESP);
            b.extend(algorithms());
            assert_eq!(parse_state(&b), Ok(None), "{family}");
        }
    }

    #[test]
    fn truncated_and_malformed() {
        let b = state_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP, true);
        let e = parse_state(&b[..223]).unwrap_err();
        assert_eq!(
            e,
            "xfrm_usersa_info: 223 bytes, shorter than its 224-byte header"
        );
        assert!(parse_state(&[]).is_err());
        // An attribute whose length runs past the end.
        let mut bad = usersa_info(AF_INET, PUBLIC, PEER, 0x1004, IPPROTO_ESP);
        bad.extend_from_slice(&[200, 0, 2, 0, 1, 2, 3, 4]);
        assert!(parse_state(&bad).unwrap_err().starts_with("bad attribute"));
        let d = delsa_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP);
        assert!(parse_delsa(&d[..23]).is_err());
        // XFRMA_SA cut short.
        let mut short = d[..USERSA_ID_LEN].to_vec();
        short.extend(nla(XFRMA_SA, &[0; 100]));
        assert_eq!(
            parse_delsa(&short).unwrap_err(),
            "XFRMA_SA: 100 bytes, shorter than its 224-byte header"
        );
        let e = expire_body(PEER, PUBLIC, 0x1004, true);
        assert!(parse_expire(&e[..231]).is_err());
        assert!(parse_event(XFRM_MSG_EXPIRE, &e[..200]).is_err());
    }

    #[test]
    fn parses_delsa() {
        let d = delsa_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP);
        assert_eq!(parse_delsa(&d), Ok(Some(sa(0x1004, IPPROTO_ESP, true))));
        // The source address as a request gives it.
        let mut r = d[..USERSA_ID_LEN].to_vec();
        let mut addr = [0u8; 16];
        addr[..4].copy_from_slice(&PEER);
        r.extend(nla(XFRMA_SRCADDR, &addr));
        assert_eq!(parse_delsa(&r), Ok(Some(sa(0x1004, IPPROTO_ESP, false))));
        // Without either it cannot name the SA.
        assert_eq!(
            parse_delsa(&d[..USERSA_ID_LEN]).unwrap_err(),
            "XFRM_MSG_DELSA without XFRMA_SA or XFRMA_SRCADDR"
        );
        // IPv6.
        let mut v6 = d.clone();
        v6[20..22].copy_from_slice(&AF_INET6.to_ne_bytes());
        assert_eq!(parse_delsa(&v6), Ok(None));
    }

    /// A DELSA and an EXPIRE captured from Linux 6.18 (`ip xfrm state
    /// allocspi`, then `ip xfrm state delete`, and a larval state expiring).
    #[test]
    fn parses_captured_notifications() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut delsa = hex(
            "cb00711e0000000000000000000000000000100002003300e4000600cb00711e\
             000000000000000000000000cb00710400000000000000000000000000000000\
             0000000000002020000000000000000000000000cb00711e0000000000000000\
             000000000000100033000000cb007104000000000000000000000000ffffffff\
             ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000\
             000000001e000000000000000000000000000000000000000000000000000000\
             000000000000000000000000b219076b00000000000000000000000000000000\
             0000000000000000000000000700000002000100000000000000000010000a00\
             000000000000000000000000",
        );
        if cfg!(target_endian = "big") {
            // Captured on a little-endian machine.
            return;
        }
        let got = parse_event(XFRM_MSG_DELSA, &delsa).unwrap().unwrap();
        assert_eq!(
            got,
            Event::Deleted(Sa {
                daddr: Ipv4Addr::new(203, 0, 113, 30),
                saddr: Ipv4Addr::new(203, 0, 113, 4),
                spi: 0x1000,
                proto: IPPROTO_AH,
                complete: false,
            })
        );
        delsa.truncate(100);
        assert!(parse_event(XFRM_MSG_DELSA, &delsa).is_err());
        let expire = hex(
            "cb00711e000000000000000000000000cb007103000000000000000000000000\
             000000000000000000002020000000000000000000000000cb00711e00000000\
             0000000000000000000010ad32000000cb007103000000000000000000000000\
             ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
             0000000000000000020000000000000000000000000000000000000000000000\
             00000000000000000000000000000000bc19076b000000000000000000000000\
             0000000000000000000000000000000000000000020000000000000000000000\
             0100000000000000",
        );
        assert_eq!(expire.len(), USER_EXPIRE_LEN);
        assert_eq!(
            parse_event(XFRM_MSG_EXPIRE, &expire),
            Ok(Some(Event::Expired(Sa {
                daddr: Ipv4Addr::new(203, 0, 113, 30),
                saddr: Ipv4Addr::new(203, 0, 113, 3),
                spi: 0x10ad,
                proto: IPPROTO_ESP,
                complete: false,
            })))
        );
    }

    #[test]
    fn parses_events() {
        let new = state_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP, true);
        assert_eq!(
            parse_event(XFRM_MSG_NEWSA, &new),
            Ok(Some(Event::New(sa(0x1004, IPPROTO_ESP, true))))
        );
        assert_eq!(
            parse_event(XFRM_MSG_UPDSA, &new),
            Ok(Some(Event::Updated(sa(0x1004, IPPROTO_ESP, true))))
        );
        let del = delsa_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP);
        assert_eq!(
            parse_event(XFRM_MSG_DELSA, &del),
            Ok(Some(Event::Deleted(sa(0x1004, IPPROTO_ESP, true))))
        );
        let hard = expire_body(PEER, PUBLIC, 0x1004, true);
        assert_eq!(
            parse_event(XFRM_MSG_EXPIRE, &hard),
            Ok(Some(Event::Expired(sa(0x1004, IPPROTO_ESP, false))))
        );
        // A soft expiry changes nothing.
        let soft = expire_body(PEER, PUBLIC, 0x1004, false);
        assert_eq!(parse_event(XFRM_MSG_EXPIRE, &soft), Ok(None));
        // xfrm_usersa_flush: one byte, the protocol.
        assert_eq!(
            parse_event(XFRM_MSG_FLUSHSA, &[0, 0, 0, 0]),
            Ok(Some(Event::Flushed))
        );
        // Policies and other messages do not matter.
        assert_eq!(parse_event(19, &[0; 8]), Ok(None));
        // An IPv6 expiry.
        let mut v6 = usersa_info(AF_INET6, PUBLIC, PEER, 1, IPPROTO_ESP);
        v6.push(1);
        v6.resize(USER_EXPIRE_LEN, 0);
        assert_eq!(parse_event(XFRM_MSG_EXPIRE, &v6), Ok(None));
    }

    #[test]
    fn allocspi_request_bytes() {
        let req = AllocSpi {
            daddr: Ipv4Addr::from(PUBLIC),
            peer: Ipv4Addr::from(PEER),
            proto: IPPROTO_ESP,
            mode: XFRM_MODE_TUNNEL,
            reqid: 9,
            min: 0x1000,
            max: 0x10ff,
        };
        let body = req.body();
        assert_eq!(body.len(), USERSPI_INFO_LEN);
        assert_eq!(&body[..56], &[0; 56][..]); // selector: the kernel sets it
        assert_eq!(&body[56..60], &PUBLIC);
        assert_eq!(&body[72..76], &[0; 4]); // no SPI yet
        assert_eq!(body[76], 50);
        assert_eq!(&body[80..84], &PEER);
        assert_eq!(&body[96..104], &[0xff; 8]);
        assert_eq!(&body[204..208], &[0; 4]); // seq 0
        assert_eq!(&body[208..212], &9u32.to_ne_bytes());
        assert_eq!(&body[212..214], &2u16.to_ne_bytes());
        assert_eq!(body[214], 1);
        assert_eq!(&body[224..228], &0x1000u32.to_ne_bytes());
        assert_eq!(&body[228..232], &0x10ffu32.to_ne_bytes());
        let wire = encode(
            XfrmMsg {
                ty: XFRM_MSG_ALLOCSPI,
                body,
            },
            NLM_F_REQUEST,
            3,
        );
        assert_eq!(wire.len(), 16 + 232);
        assert_eq!(&wire[..4], &248u32.to_ne_bytes());
        assert_eq!(&wire[4..6], &22u16.to_ne_bytes());
        assert_eq!(&wire[6..8], &1u16.to_ne_bytes());
        assert_eq!(&wire[8..12], &3u32.to_ne_bytes());
        // The dump request is a bare header.
        let dump = encode(
            XfrmMsg {
                ty: XFRM_MSG_GETSA,
                body: vec![],
            },
            NLM_F_REQUEST | NLM_F_DUMP,
            4,
        );
        assert_eq!(dump.len(), 16);
        assert_eq!(&dump[4..8], &[18, 0, 1, 3]);
    }

    #[test]
    fn splits_notification_datagrams() {
        let mut dgram = Vec::new();
        for (ty, body) in [
            (
                XFRM_MSG_NEWSA,
                state_body(PEER, PUBLIC, 0x1004, IPPROTO_ESP, true),
            ),
            (XFRM_MSG_FLUSHSA, vec![0, 0, 0, 0]),
        ] {
            dgram.extend(encode(XfrmMsg { ty, body }, 0, 0));
        }
        let msgs = split_datagram(&dgram).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].ty, XFRM_MSG_NEWSA);
        assert_eq!(
            msgs[1],
            XfrmMsg {
                ty: 28,
                body: vec![0; 4]
            }
        );
        assert!(split_datagram(&dgram[..40]).is_err());
    }
}
