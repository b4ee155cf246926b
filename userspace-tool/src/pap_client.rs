// SPDX-License-Identifier: GPL-2.0

//! A userspace PAP client: asks the router for a block of ports or SPIs,
//! gives one back, or sends an SA or blacklist notice (34/0, 35/0, 34/1,
//! 35/1), over a raw IPv4 ICMP socket, so that a host without the
//! `dnat_host` module can take part (SPEC section 9).
//!
//! One transaction per run: the message carries the extension trailer (a
//! random nonzero xid, epoch 0, the wanted lease or 0), is retransmitted
//! with the same xid while no reply arrives ([`WAITS`]), and ends with the
//! first datagram that [`match_reply`] accepts: a response to a request, an
//! acknowledgement (36/1, 36/2) naming the message to a release or notice. The matching and the retransmission
//! loop work on byte buffers and a [`Transport`], so that they are tested
//! without a network; [`RawSocket`] is the real transport.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, Instant};

use dnat_core::ipv4::{self, Header};
use dnat_core::pap::{
    self, Acked, Direction, Message, PapError, PortBlock, PortClass, Reason, SpiBlock, Trailer,
};
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use dnat_core::uapi::block_kind::{PORTS, SPIS};

use crate::dump::{blacklist_match, block_range, kind_name, lease};

/// How long to wait for a reply after each transmission: the first one,
/// then up to 3 retransmissions after 1, 2 and 4 seconds without a reply.
pub const WAITS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// Where native mode writes the port block.
pub const PORT_RANGE_SYSCTL: &str = "/proc/sys/net/ipv4/ip_local_port_range";

/// What to ask the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// 32/0 or 32/1: `count` ports; `lease` seconds, 0 for the router's default.
    RequestPorts {
        class: PortClass,
        count: u8,
        lease: u32,
    },
    /// 33/0: `count` SPIs.
    RequestSpis { count: u16, lease: u32 },
    /// 32/3 to the router: gives a port block back.
    ReleasePorts(PortBlock),
    /// 33/3 to the router: gives an SPI block back.
    ReleaseSpis(SpiBlock),
    /// 34/0, 35/0, 34/1 or 35/1 to the router.
    Notice(Notice),
}

/// An SA or blacklist notice, acknowledged by the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// 34/0: an SA with `peer` using inbound `spi` exists.
    SaValidate { peer: Ipv4Addr, spi: u32 },
    /// 35/0: that SA ended.
    SaInvalidate { peer: Ipv4Addr, spi: u32 },
    /// 34/1: drop ESP/AH for this host from `peer` and/or with `spi`
    /// (`None`: any).
    BlacklistAdd {
        peer: Option<Ipv4Addr>,
        spi: Option<u32>,
    },
    /// 35/1: remove that blacklist entry.
    BlacklistRemove {
        peer: Option<Ipv4Addr>,
        spi: Option<u32>,
    },
}

impl Notice {
    /// The message with trailer `ext`.
    fn message(self, ext: Option<Trailer>) -> Message {
        match self {
            Notice::SaValidate { peer, spi } => Message::SaValidate {
                addr: peer,
                spi,
                ext,
            },
            Notice::SaInvalidate { peer, spi } => Message::SaInvalidate {
                addr: peer,
                spi,
                ext,
            },
            Notice::BlacklistAdd { peer, spi } => Message::BlacklistAdd {
                addr: peer,
                spi,
                ext,
            },
            Notice::BlacklistRemove { peer, spi } => Message::BlacklistRemove {
                addr: peer,
                spi,
                ext,
            },
        }
    }

    /// What the router's acknowledgement names.
    pub fn acked(self) -> Acked {
        match self {
            Notice::SaValidate { .. } => Acked::SaValidate,
            Notice::SaInvalidate { .. } => Acked::SaInvalidate,
            Notice::BlacklistAdd { .. } => Acked::BlacklistAdd,
            Notice::BlacklistRemove { .. } => Acked::BlacklistRemove,
        }
    }

    /// The verb of the output: `validated`, `invalidated`, `blacklisted`,
    /// `unblacklisted`.
    pub fn done(self) -> &'static str {
        match self {
            Notice::SaValidate { .. } => "validated",
            Notice::SaInvalidate { .. } => "invalidated",
            Notice::BlacklistAdd { .. } => "blacklisted",
            Notice::BlacklistRemove { .. } => "unblacklisted",
        }
    }

    /// The peer and the SPI (`None`: any).
    pub fn entry(self) -> (Option<Ipv4Addr>, Option<u32>) {
        match self {
            Notice::SaValidate { peer, spi } | Notice::SaInvalidate { peer, spi } => {
                (Some(peer), Some(spi))
            }
            Notice::BlacklistAdd { peer, spi } | Notice::BlacklistRemove { peer, spi } => {
                (peer, spi)
            }
        }
    }
}

impl Op {
    /// The message of transaction `xid` (epoch 0: this client has seen none).
    pub fn message(&self, xid: u32) -> Message {
        let ext = |lease| Trailer {
            xid,
            epoch: 0,
            lease,
        };
        match *self {
            Op::RequestPorts {
                class,
                count,
                lease,
            } => Message::PortRequest {
                class,
                count,
                ext: Some(ext(lease)),
            },
            Op::RequestSpis { count, lease } => Message::SpiRequest {
                count,
                ext: Some(ext(lease)),
            },
            Op::ReleasePorts(block) => Message::PortBlockInvalidate {
                dir: Direction::ToRouter,
                block,
                ext: Some(ext(0)),
            },
            Op::ReleaseSpis(block) => Message::SpiBlockInvalidate {
                dir: Direction::ToRouter,
                block,
                ext: Some(ext(0)),
            },
            Op::Notice(n) => n.message(Some(ext(0))),
        }
    }

    /// What the message is about, for errors: `block`, `SA` or
    /// `blacklist entry`.
    pub fn subject(&self) -> &'static str {
        match self {
            Op::Notice(Notice::SaValidate { .. } | Notice::SaInvalidate { .. }) => "SA",
            Op::Notice(_) => "blacklist entry",
            _ => "block",
        }
    }

    /// The wire bytes of [`Op::message`]; an error for a message the codec
    /// refuses (a block past 65535, a reserved SPI, a zero xid).
    pub fn encode(&self, xid: u32) -> Result<Vec<u8>, PapError> {
        let mut buf = [0u8; pap::MAX_LEN];
        let n = pap::encode(&self.message(xid), &mut buf)?;
        Ok(buf[..n].to_vec())
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ports granted; `lease` 0: no expiry.
    Ports {
        block: PortBlock,
        lease: u32,
        epoch: u32,
    },
    /// SPIs granted.
    Spis {
        block: SpiBlock,
        lease: u32,
        epoch: u32,
    },
    /// The release of a block (`kind`: `block_kind`) was acknowledged
    /// ("done").
    Released {
        kind: u8,
        lowest: u32,
        count: u32,
        epoch: u32,
    },
    /// An SA or blacklist notice was acknowledged ("done").
    Applied { notice: Notice, epoch: u32 },
    /// A failure response or a refused acknowledgement.
    Refused(Reason),
}

fn lease_opt(l: u32) -> Option<u32> {
    (l != 0).then_some(l)
}

impl Outcome {
    /// Human output, one line.
    pub fn render(&self) -> String {
        match *self {
            Outcome::Ports {
                block,
                lease: l,
                epoch,
            } => format!(
                "ports {} {} epoch {epoch:#010x}\n",
                block_range(PORTS, block.lowest.into(), block.count.into()),
                lease(lease_opt(l))
            ),
            Outcome::Spis {
                block,
                lease: l,
                epoch,
            } => format!(
                "spis {} {} epoch {epoch:#010x}\n",
                block_range(SPIS, block.lowest, block.count.into()),
                lease(lease_opt(l))
            ),
            Outcome::Released {
                kind,
                lowest,
                count,
                epoch,
            } => format!(
                "released {} {} epoch {epoch:#010x}\n",
                kind_name(kind),
                block_range(kind, lowest, count)
            ),
            Outcome::Applied { notice, .. } => match notice {
                Notice::SaValidate { peer, spi } | Notice::SaInvalidate { peer, spi } => {
                    format!("{} {peer} spi {spi:#x}\n", notice.done())
                }
                Notice::BlacklistAdd { peer, spi } | Notice::BlacklistRemove { peer, spi } => {
                    format!("{} {}\n", notice.done(), blacklist_match(peer, spi))
                }
            },
            Outcome::Refused(r) => format!("refused: {}\n", r.name()),
        }
    }

    /// JSON output (fields in the documented order).
    pub fn report(self) -> Report {
        let granted = |kind, lowest, count, lease, epoch| Report::Granted {
            kind,
            lowest,
            count,
            lease,
            epoch,
            ip_local_port_range: None,
        };
        match self {
            Outcome::Ports {
                block,
                lease,
                epoch,
            } => granted(
                "ports",
                block.lowest.into(),
                block.count.into(),
                lease,
                epoch,
            ),
            Outcome::Spis {
                block,
                lease,
                epoch,
            } => granted("spis", block.lowest, block.count.into(), lease, epoch),
            Outcome::Released {
                kind,
                lowest,
                count,
                epoch,
            } => Report::Released {
                kind: kind_name(kind),
                lowest,
                count,
                released: true,
                epoch,
            },
            Outcome::Applied { notice, epoch } => Report::Applied(Applied { notice, epoch }),
            Outcome::Refused(r) => Report::Refused { refused: r.name() },
        }
    }
}

/// The JSON object of an applied notice:
/// `{"peer":"203.0.113.3","spi":4096,"validated":true,"epoch":N}`, the
/// verb being `validated`, `invalidated`, `blacklisted` or `unblacklisted`
/// (for the blacklist, `null` for what the entry leaves out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub notice: Notice,
    pub epoch: u32,
}

impl Serialize for Applied {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (peer, spi) = self.notice.entry();
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("peer", &peer)?;
        m.serialize_entry("spi", &spi)?;
        m.serialize_entry(self.notice.done(), &true)?;
        m.serialize_entry("epoch", &self.epoch)?;
        m.end()
    }
}

/// The JSON object of an [`Outcome`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Report {
    Granted {
        kind: &'static str,
        lowest: u32,
        count: u32,
        /// Seconds, 0: no expiry.
        lease: u32,
        epoch: u32,
        /// What native mode set, `[lowest, last]`.
        #[serde(skip_serializing_if = "Option::is_none")]
        ip_local_port_range: Option<[u16; 2]>,
    },
    Released {
        kind: String,
        lowest: u32,
        count: u32,
        released: bool,
        epoch: u32,
    },
    Applied(Applied),
    Refused {
        refused: &'static str,
    },
}

/// The answer to transaction `xid` of `op`, if `datagram` (as a raw socket
/// returns it: IPv4 header first) is one. Anything else is ignored
/// (`None`): a datagram that is not IPv4/ICMP with a valid header, not from
/// `router`, not a PAP type, not a valid PAP message to a host, without the
/// trailer or with another xid, or not the reply `op` expects (a response of
/// the right type for a request, an acknowledgement naming the right
/// message for a release or a notice).
pub fn match_reply(op: &Op, xid: u32, router: Ipv4Addr, datagram: &[u8]) -> Option<Outcome> {
    let payload = pap_payload(router, datagram)?;
    let msg = pap::decode(payload, Direction::ToHost).ok()?;
    match_message(op, xid, msg)
}

/// The PAP message in `datagram` (IPv4 header first) if it is one from
/// `router`: an unfragmented IPv4/ICMP datagram of a PAP type.
pub fn pap_payload(router: Ipv4Addr, datagram: &[u8]) -> Option<&[u8]> {
    let h = Header::parse(datagram, datagram.len()).ok()?;
    if h.protocol != ipv4::proto::ICMP || h.is_fragment || h.src != router {
        return None;
    }
    let payload = datagram.get(h.header_len..h.total_len)?;
    let ty = *payload.first()?;
    pap::TYPES.contains(&ty).then_some(payload)
}

/// The answer to transaction `xid` of `op`, if `msg` (decoded, and
/// authenticated if the transaction is) is one.
pub fn match_message(op: &Op, xid: u32, msg: Message) -> Option<Outcome> {
    let ext = msg.ext()?;
    if ext.xid != xid {
        return None;
    }
    let epoch = ext.epoch;
    match (op, msg) {
        (Op::RequestPorts { .. }, Message::PortResponse { result, .. }) => Some(match result {
            Ok(block) => Outcome::Ports {
                block,
                lease: ext.lease,
                epoch,
            },
            Err(r) => Outcome::Refused(r),
        }),
        (Op::RequestSpis { .. }, Message::SpiResponse { result, .. }) => Some(match result {
            Ok(block) => Outcome::Spis {
                block,
                lease: ext.lease,
                epoch,
            },
            Err(r) => Outcome::Refused(r),
        }),
        (
            Op::ReleasePorts(b),
            Message::Ack {
                acked: Acked::PortBlockInvalidate,
                result,
                ..
            },
        ) => Some(ack(PORTS, b.lowest.into(), b.count.into(), result, epoch)),
        (
            Op::ReleaseSpis(b),
            Message::Ack {
                acked: Acked::SpiBlockInvalidate,
                result,
                ..
            },
        ) => Some(ack(SPIS, b.lowest, b.count.into(), result, epoch)),
        (Op::Notice(n), Message::Ack { acked, result, .. }) if acked == n.acked() => {
            Some(match result {
                Ok(()) => Outcome::Applied { notice: *n, epoch },
                Err(r) => Outcome::Refused(r),
            })
        }
        _ => None,
    }
}

fn ack(kind: u8, lowest: u32, count: u32, result: Result<(), Reason>, epoch: u32) -> Outcome {
    match result {
        Ok(()) => Outcome::Released {
            kind,
            lowest,
            count,
            epoch,
        },
        Err(r) => Outcome::Refused(r),
    }
}

/// Sends PAP messages to the router and receives datagrams.
pub trait Transport {
    /// Sends one PAP message (the ICMP-format payload).
    fn send(&mut self, msg: &[u8]) -> io::Result<()>;
    /// Receives one datagram, IPv4 header included, waiting at most
    /// `timeout` (more than zero); `Ok(None)` when none came.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>>;
}

/// Why a transaction failed.
#[derive(Debug)]
pub enum TransactError {
    /// No matching reply after every transmission.
    NoAnswer {
        transmissions: usize,
        waited: Duration,
    },
    /// A socket call failed.
    Io { what: &'static str, err: io::Error },
}

/// Runs transaction `xid` of `op` with the router: sends `msg` (the encoded
/// [`Op::message`]), waits `waits[i]` after transmission `i` for a reply
/// that [`match_reply`] accepts, retransmits the same bytes after each wait
/// but the last.
pub fn transact<T: Transport>(
    t: &mut T,
    op: &Op,
    xid: u32,
    msg: &[u8],
    router: Ipv4Addr,
    waits: &[Duration],
) -> Result<Outcome, TransactError> {
    let mut buf = [0u8; 2048];
    for wait in waits {
        t.send(msg).map_err(|err| TransactError::Io {
            what: "sending the PAP message",
            err,
        })?;
        let deadline = Instant::now() + *wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < Duration::from_millis(1) {
                break;
            }
            match t.recv(&mut buf, left) {
                Ok(None) => break,
                Ok(Some(n)) => {
                    if let Some(o) = match_reply(op, xid, router, &buf[..n.min(buf.len())]) {
                        return Ok(o);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    return Err(TransactError::Io {
                        what: "receiving the reply",
                        err,
                    })
                }
            }
        }
    }
    Err(TransactError::NoAnswer {
        transmissions: waits.len(),
        waited: waits.iter().sum(),
    })
}

/// A nonzero transaction id from `/dev/urandom`.
pub fn random_xid() -> io::Result<u32> {
    let mut f = File::open("/dev/urandom")?;
    loop {
        let mut b = [0u8; 4];
        f.read_exact(&mut b)?;
        let x = u32::from_ne_bytes(b);
        if x != 0 {
            return Ok(x);
        }
    }
}

/// A raw IPv4 ICMP socket sending to the router (TTL `pap::TTL`: PAP
/// stays on the LAN). Needs `CAP_NET_RAW`.
pub struct RawSocket {
    sock: Socket,
    router: SockAddr,
}

impl RawSocket {
    pub fn open(router: Ipv4Addr) -> io::Result<Self> {
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
        sock.set_ttl_v4(u32::from(pap::TTL))?;
        Ok(Self {
            sock,
            router: SockAddr::from(SocketAddrV4::new(router, 0)),
        })
    }
}

impl Transport for RawSocket {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.sock.send_to(msg, &self.router).map(drop)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        self.sock.set_read_timeout(Some(timeout))?;
        match (&self.sock).read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Native mode: makes `block` the namespace's ephemeral port range by
/// writing `"LOWEST LAST"` to `path` ([`PORT_RANGE_SYSCTL`]). Returns what
/// was written, without the newline.
pub fn set_port_range(path: &Path, block: PortBlock) -> io::Result<(u16, u16)> {
    let (lowest, last) = port_range(block);
    let mut f = File::options().write(true).truncate(true).open(path)?;
    f.write_all(format!("{lowest} {last}\n").as_bytes())?;
    Ok((lowest, last))
}

/// First and last port of `block`.
pub fn port_range(block: PortBlock) -> (u16, u16) {
    let last = block
        .lowest
        .saturating_add(u16::from(block.count).saturating_sub(1));
    (block.lowest, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);
    const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const XID: u32 = 0x1234_abcd;
    const EPOCH: u32 = 0x5eed_0001;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// A datagram as a raw socket returns it: header, then `payload`.
    fn from(src: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
        let mut d = ipv4::build(src, HOST, ipv4::proto::ICMP, 1, payload.len())
            .unwrap()
            .to_vec();
        d.extend_from_slice(payload);
        d
    }

    fn reply(m: &Message) -> Vec<u8> {
        let mut b = [0u8; pap::MAX_LEN];
        let n = pap::encode(m, &mut b).unwrap();
        from(ROUTER, &b[..n])
    }

    fn t(xid: u32, lease: u32) -> Trailer {
        Trailer {
            xid,
            epoch: EPOCH,
            lease,
        }
    }

    const PORTS16: Op = Op::RequestPorts {
        class: PortClass::High,
        count: 16,
        lease: 3600,
    };

    fn granted(xid: u32) -> Vec<u8> {
        reply(&Message::PortResponse {
            result: Ok(PortBlock {
                lowest: 20000,
                count: 16,
            }),
            ext: Some(t(xid, 3600)),
        })
    }

    #[test]
    fn request_bytes() {
        // The documented example: 32/1, count 32, xid 0x1234abcd, epoch 0,
        // lease 3600.
        let op = Op::RequestPorts {
            class: PortClass::High,
            count: 32,
            lease: 3600,
        };
        assert_eq!(
            op.encode(XID).unwrap(),
            hex("20 01 f3 ec  20 00 00 00  12 34 ab cd  00 00 00 00  00 00 0e 10")
        );
        let b = Op::RequestPorts {
            class: PortClass::Low,
            count: 1,
            lease: 0,
        }
        .encode(1)
        .unwrap();
        assert_eq!(&b[..2], &[32, 0]);
        assert_eq!(b.len(), 20);
        assert_eq!(&b[8..], &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = Op::RequestSpis {
            count: 0x100,
            lease: 60,
        }
        .encode(7)
        .unwrap();
        assert_eq!(&b[..2], &[33, 0]);
        assert_eq!(&b[4..8], &[1, 0, 0, 0]);
        assert_eq!(&b[16..], &[0, 0, 0, 60]);
        // Releases: block invalidate to the router, lease 0.
        let b = Op::ReleasePorts(PortBlock {
            lowest: 20000,
            count: 16,
        })
        .encode(9)
        .unwrap();
        assert_eq!(&b[..2], &[32, 3]);
        assert_eq!(&b[4..8], &[0x4e, 0x20, 16, 0]);
        assert_eq!(&b[8..], &[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = Op::ReleaseSpis(SpiBlock {
            lowest: 0x1000,
            count: 256,
        })
        .encode(9)
        .unwrap();
        assert_eq!(b.len(), 24);
        assert_eq!(&b[..2], &[33, 3]);
        assert_eq!(&b[4..12], &[1, 0, 0, 0, 0, 0, 0x10, 0]);
        // Every built message decodes to itself, towards the router.
        for op in [PORTS16, Op::RequestSpis { count: 1, lease: 0 }] {
            let m = op.message(5);
            assert_eq!(
                pap::decode(&op.encode(5).unwrap(), Direction::ToRouter),
                Ok(m)
            );
        }
    }

    const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);

    #[test]
    fn notice_bytes() {
        // The documented 34/0 and 34/1 examples, with epoch 0 (this client
        // has seen none) instead of 0x5eed0001, hence the checksums.
        let v = Op::Notice(Notice::SaValidate {
            peer: PEER,
            spi: 4096,
        });
        assert_eq!(
            v.encode(0x1234_abcf).unwrap(),
            hex("22 00 e5 c4  c6 33 64 03  00 00 10 00  12 34 ab cf  00 00 00 00  00 00 00 00")
        );
        let b = Op::Notice(Notice::BlacklistAdd {
            peer: Some(Ipv4Addr::new(192, 0, 2, 66)),
            spi: None,
        });
        assert_eq!(
            b.encode(0x1234_abd0).unwrap(),
            hex("22 01 5d b7  c0 00 02 42  00 00 00 00  12 34 ab d0  00 00 00 00  00 00 00 00")
        );
        // 35/0: type 35 code 0, address, SPI, then the trailer (lease 0).
        let i = Op::Notice(Notice::SaInvalidate {
            peer: Ipv4Addr::new(203, 0, 113, 3),
            spi: 0x1000,
        });
        assert_eq!(
            i.encode(9).unwrap(),
            hex("23 00 90 f2  cb 00 71 03  00 00 10 00  00 00 00 09  00 00 00 00  00 00 00 00")
        );
        // 35/1 with an SPI only: address 0.0.0.0 (any).
        let r = Op::Notice(Notice::BlacklistRemove {
            peer: None,
            spi: Some(0x1000),
        })
        .encode(9)
        .unwrap();
        assert_eq!(r.len(), 24);
        assert_eq!(&r[..2], &[35, 1]);
        assert_eq!(&r[4..12], &[0, 0, 0, 0, 0, 0, 0x10, 0]);
        assert_eq!(&r[12..], &[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
        // Every notice decodes to itself towards the router, and is
        // acknowledged as itself.
        for (n, acked) in [
            (
                Notice::SaValidate {
                    peer: PEER,
                    spi: 256,
                },
                Acked::SaValidate,
            ),
            (
                Notice::SaInvalidate {
                    peer: PEER,
                    spi: u32::MAX,
                },
                Acked::SaInvalidate,
            ),
            (
                Notice::BlacklistAdd {
                    peer: Some(PEER),
                    spi: Some(4096),
                },
                Acked::BlacklistAdd,
            ),
            (
                Notice::BlacklistRemove {
                    peer: Some(PEER),
                    spi: None,
                },
                Acked::BlacklistRemove,
            ),
        ] {
            let op = Op::Notice(n);
            let m = op.message(5);
            assert_eq!(m.ext().unwrap().lease, 0);
            assert_eq!(m.acked_as(), Some(acked));
            assert_eq!(n.acked(), acked);
            assert_eq!(
                pap::decode(&op.encode(5).unwrap(), Direction::ToRouter),
                Ok(m)
            );
        }
        // What the codec refuses.
        let bad = |n| Op::Notice(n).encode(1).unwrap_err();
        assert_eq!(
            bad(Notice::SaValidate {
                peer: Ipv4Addr::BROADCAST,
                spi: 4096
            }),
            PapError::BadAddress
        );
        assert_eq!(
            bad(Notice::SaInvalidate {
                peer: PEER,
                spi: 255
            }),
            PapError::ReservedSpi
        );
        assert_eq!(
            bad(Notice::BlacklistAdd {
                peer: None,
                spi: None
            }),
            PapError::EmptyBlacklistEntry
        );
        assert_eq!(
            Op::Notice(Notice::SaValidate {
                peer: PEER,
                spi: 4096
            })
            .encode(0),
            Err(PapError::ZeroXid)
        );
        assert_eq!(
            Op::Notice(Notice::BlacklistAdd {
                peer: None,
                spi: Some(1)
            })
            .subject(),
            "blacklist entry"
        );
        assert_eq!(PORTS16.subject(), "block");
    }

    fn acked(acked: Acked, result: Result<(), Reason>, xid: u32) -> Vec<u8> {
        reply(&Message::Ack {
            acked,
            result,
            ext: t(xid, 0),
        })
    }

    #[test]
    fn matches_notice_acks() {
        let v = Op::Notice(Notice::SaValidate {
            peer: PEER,
            spi: 4096,
        });
        // The documented 36/1 for 34/0, xid 0x1234abcf.
        let done = from(
            ROUTER,
            &hex("24 01 9d 0c  22 00 00 00  12 34 ab cf  5e ed 00 01  00 00 00 00"),
        );
        assert_eq!(
            match_reply(&v, 0x1234_abcf, ROUTER, &done),
            Some(Outcome::Applied {
                notice: Notice::SaValidate {
                    peer: PEER,
                    spi: 4096
                },
                epoch: EPOCH
            })
        );
        // Another xid, or from another address: not ours.
        assert_eq!(match_reply(&v, 0x1234_abd0, ROUTER, &done), None);
        assert_eq!(
            match_reply(&v, 0x1234_abcf, Ipv4Addr::new(10, 0, 0, 8), &done),
            None
        );
        // Refused, with the reason.
        for r in [
            Reason::NotOwned,
            Reason::Revoked,
            Reason::NoSpace,
            Reason::OverQuota,
            Reason::Unspecified,
        ] {
            let d = acked(Acked::SaValidate, Err(r), XID);
            assert_eq!(match_reply(&v, XID, ROUTER, &d), Some(Outcome::Refused(r)));
            assert_eq!(match_reply(&v, XID ^ 1, ROUTER, &d), None);
        }
        // An acknowledgement of another message does not end it.
        for other in [
            Acked::SaInvalidate,
            Acked::BlacklistAdd,
            Acked::BlacklistRemove,
            Acked::SpiBlockInvalidate,
            Acked::InvalidateAll,
        ] {
            assert_eq!(
                match_reply(&v, XID, ROUTER, &acked(other, Ok(()), XID)),
                None,
                "{other:?}"
            );
        }
        // Nor does a response with the same xid.
        assert_eq!(match_reply(&v, XID, ROUTER, &granted(XID)), None);
        // Our own notice looped back is not a reply.
        let own = from(ROUTER, &v.encode(XID).unwrap());
        assert_eq!(match_reply(&v, XID, ROUTER, &own), None);
        // The documented 36/1 for 34/1 ends a blacklist add, not a remove.
        let add = Op::Notice(Notice::BlacklistAdd {
            peer: Some(Ipv4Addr::new(192, 0, 2, 66)),
            spi: None,
        });
        let del = Op::Notice(Notice::BlacklistRemove {
            peer: Some(Ipv4Addr::new(192, 0, 2, 66)),
            spi: None,
        });
        let done = from(
            ROUTER,
            &hex("24 01 9d 0a  22 01 00 00  12 34 ab d0  5e ed 00 01  00 00 00 00"),
        );
        assert!(matches!(
            match_reply(&add, 0x1234_abd0, ROUTER, &done),
            Some(Outcome::Applied { epoch: EPOCH, .. })
        ));
        assert_eq!(match_reply(&del, 0x1234_abd0, ROUTER, &done), None);
        let refused = acked(Acked::BlacklistRemove, Err(Reason::Revoked), XID);
        assert_eq!(
            match_reply(&del, XID, ROUTER, &refused),
            Some(Outcome::Refused(Reason::Revoked))
        );
        // An SA invalidate is acknowledged as 35/0.
        let inv = Op::Notice(Notice::SaInvalidate {
            peer: PEER,
            spi: 4096,
        });
        assert!(matches!(
            match_reply(&inv, XID, ROUTER, &acked(Acked::SaInvalidate, Ok(()), XID)),
            Some(Outcome::Applied { .. })
        ));
        assert_eq!(
            match_reply(&inv, XID, ROUTER, &acked(Acked::SaValidate, Ok(()), XID)),
            None
        );
    }

    #[test]
    fn retransmits_a_notice_until_its_ack() {
        let op = Op::Notice(Notice::SaValidate {
            peer: PEER,
            spi: 4096,
        });
        let msg = op.encode(XID).unwrap();
        let mut s = Script {
            rx: VecDeque::from([
                acked(Acked::SaValidate, Ok(()), XID + 1),
                vec![],
                acked(Acked::SaInvalidate, Ok(()), XID),
                vec![],
                acked(Acked::SaValidate, Err(Reason::NotOwned), XID),
            ]),
            ..Script::default()
        };
        let o = transact(&mut s, &op, XID, &msg, ROUTER, &FAST).unwrap();
        assert_eq!(o, Outcome::Refused(Reason::NotOwned));
        assert_eq!(s.sent, vec![msg.clone(), msg.clone(), msg.clone()]);
    }

    #[test]
    fn renders_notice_outcomes() {
        let peer = Ipv4Addr::new(203, 0, 113, 3);
        let js = |o: Outcome| serde_json::to_string(&o.report()).unwrap();
        for (notice, text, json) in [
            (
                Notice::SaValidate { peer, spi: 0x1000 },
                "validated 203.0.113.3 spi 0x1000\n",
                r#"{"peer":"203.0.113.3","spi":4096,"validated":true,"epoch":2}"#,
            ),
            (
                Notice::SaInvalidate { peer, spi: 0x1000 },
                "invalidated 203.0.113.3 spi 0x1000\n",
                r#"{"peer":"203.0.113.3","spi":4096,"invalidated":true,"epoch":2}"#,
            ),
            (
                Notice::BlacklistAdd {
                    peer: Some(peer),
                    spi: None,
                },
                "blacklisted peer 203.0.113.3 spi any\n",
                r#"{"peer":"203.0.113.3","spi":null,"blacklisted":true,"epoch":2}"#,
            ),
            (
                Notice::BlacklistRemove {
                    peer: None,
                    spi: Some(0x1000),
                },
                "unblacklisted peer any spi 0x1000\n",
                r#"{"peer":null,"spi":4096,"unblacklisted":true,"epoch":2}"#,
            ),
        ] {
            let o = Outcome::Applied { notice, epoch: 2 };
            assert_eq!(o.render(), text);
            assert_eq!(js(o), json);
        }
        let f = Outcome::Refused(Reason::NotOwned);
        assert_eq!(f.render(), "refused: not_owned\n");
        assert_eq!(js(f), r#"{"refused":"not_owned"}"#);
    }

    #[test]
    fn codec_refusals_surface() {
        let e = Op::ReleasePorts(PortBlock {
            lowest: 65535,
            count: 2,
        })
        .encode(1);
        assert_eq!(e, Err(PapError::PortRangeOverflow));
        let e = Op::ReleaseSpis(SpiBlock {
            lowest: 255,
            count: 1,
        })
        .encode(1);
        assert_eq!(e, Err(PapError::ReservedSpi));
        assert_eq!(PORTS16.encode(0), Err(PapError::ZeroXid));
    }

    #[test]
    fn matches_a_grant() {
        assert_eq!(
            match_reply(&PORTS16, XID, ROUTER, &granted(XID)),
            Some(Outcome::Ports {
                block: PortBlock {
                    lowest: 20000,
                    count: 16
                },
                lease: 3600,
                epoch: EPOCH
            })
        );
        // The documented SPI success, xid 0x1234abce.
        let d = from(
            ROUTER,
            &hex("21 01 aa f5  00 10 00 00  00 00 10 00  12 34 ab ce  5e ed 00 01  00 00 07 08"),
        );
        let op = Op::RequestSpis {
            count: 16,
            lease: 3600,
        };
        assert_eq!(
            match_reply(&op, 0x1234_abce, ROUTER, &d),
            Some(Outcome::Spis {
                block: SpiBlock {
                    lowest: 4096,
                    count: 16
                },
                lease: 1800,
                epoch: EPOCH
            })
        );
    }

    #[test]
    fn matches_failures_and_acks() {
        let fail = reply(&Message::PortResponse {
            result: Err(Reason::NoSpace),
            ext: Some(t(XID, 0)),
        });
        assert_eq!(
            match_reply(&PORTS16, XID, ROUTER, &fail),
            Some(Outcome::Refused(Reason::NoSpace))
        );
        let rel = Op::ReleasePorts(PortBlock {
            lowest: 20000,
            count: 16,
        });
        let done = reply(&Message::Ack {
            acked: Acked::PortBlockInvalidate,
            result: Ok(()),
            ext: t(XID, 0),
        });
        assert_eq!(
            match_reply(&rel, XID, ROUTER, &done),
            Some(Outcome::Released {
                kind: PORTS,
                lowest: 20000,
                count: 16,
                epoch: EPOCH
            })
        );
        let refused = reply(&Message::Ack {
            acked: Acked::PortBlockInvalidate,
            result: Err(Reason::NotOwned),
            ext: t(XID, 0),
        });
        assert_eq!(
            match_reply(&rel, XID, ROUTER, &refused),
            Some(Outcome::Refused(Reason::NotOwned))
        );
        // An ack of another message, or a response, does not end a release.
        let other = reply(&Message::Ack {
            acked: Acked::SpiBlockInvalidate,
            result: Ok(()),
            ext: t(XID, 0),
        });
        assert_eq!(match_reply(&rel, XID, ROUTER, &other), None);
        assert_eq!(match_reply(&rel, XID, ROUTER, &granted(XID)), None);
        let srel = Op::ReleaseSpis(SpiBlock {
            lowest: 0x1000,
            count: 1,
        });
        assert!(matches!(
            match_reply(&srel, XID, ROUTER, &other),
            Some(Outcome::Released { .. })
        ));
    }

    #[test]
    fn ignores_what_is_not_the_reply() {
        let good = granted(XID);
        // Wrong xid.
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &granted(XID + 1)), None);
        // Another source address.
        let mut other = good.clone();
        other[12..16].copy_from_slice(&[10, 0, 0, 3]);
        let c = dnat_core::checksum::checksum(&{
            let mut h = other[..20].to_vec();
            h[10..12].fill(0);
            h
        });
        other[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(Header::parse(&other, other.len()).is_ok());
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &other), None);
        assert_eq!(
            match_reply(&PORTS16, XID, Ipv4Addr::new(10, 0, 0, 3), &other),
            match_reply(&PORTS16, XID, ROUTER, &good)
        );
        // Truncated: every shorter prefix is ignored.
        for n in 0..good.len() {
            assert_eq!(match_reply(&PORTS16, XID, ROUTER, &good[..n]), None, "{n}");
        }
        // Truncated PAP payload with a consistent IPv4 header.
        assert_eq!(
            match_reply(&PORTS16, XID, ROUTER, &from(ROUTER, &good[20..36])),
            None
        );
        // Corrupted PAP checksum.
        let mut bad = good.clone();
        bad[30] ^= 1;
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &bad), None);
        // Not a PAP type: an echo reply.
        let echo = from(ROUTER, &hex("00 00 ff fe  00 00 00 01"));
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &echo), None);
        // Not ICMP.
        let mut udp = ipv4::build(ROUTER, HOST, ipv4::proto::UDP, 1, 24)
            .unwrap()
            .to_vec();
        udp.extend_from_slice(&good[20..]);
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &udp), None);
        // Base format (no trailer, so no xid).
        let base = reply(&Message::PortResponse {
            result: Ok(PortBlock {
                lowest: 20000,
                count: 16,
            }),
            ext: None,
        });
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &base), None);
        // Our own request looped back does not decode towards a host.
        let own = from(ROUTER, &PORTS16.encode(XID).unwrap());
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &own), None);
        // A response of the other type.
        let spi = reply(&Message::SpiResponse {
            result: Err(Reason::NoSpace),
            ext: Some(t(XID, 0)),
        });
        assert_eq!(match_reply(&PORTS16, XID, ROUTER, &spi), None);
        // An unsolicited invalidation (xid 0).
        let inv = reply(&Message::InvalidateAll {
            dir: Direction::ToHost,
            scope: pap::scope::ALL,
            ext: Some(t(0, 0)),
        });
        assert_eq!(match_reply(&PORTS16, 0, ROUTER, &inv), None);
        // The header options are skipped (IHL 6).
        let mut opt = good[..20].to_vec();
        opt[0] = 0x46;
        opt[2..4].copy_from_slice(&((good.len() + 4) as u16).to_be_bytes());
        opt[10..12].fill(0);
        opt.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        let c = dnat_core::checksum::checksum(&opt);
        opt[10..12].copy_from_slice(&c.to_be_bytes());
        opt.extend_from_slice(&good[20..]);
        assert!(match_reply(&PORTS16, XID, ROUTER, &opt).is_some());
    }

    /// A scripted transport: each `recv` pops the next datagram; an empty
    /// entry or the end of the script is a timeout.
    #[derive(Default)]
    struct Script {
        sent: Vec<Vec<u8>>,
        rx: VecDeque<Vec<u8>>,
        fail_send: bool,
    }

    impl Transport for Script {
        fn send(&mut self, msg: &[u8]) -> io::Result<()> {
            if self.fail_send {
                return Err(io::Error::from_raw_os_error(113));
            }
            self.sent.push(msg.to_vec());
            Ok(())
        }

        fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
            assert!(timeout > Duration::ZERO);
            match self.rx.pop_front() {
                Some(d) if !d.is_empty() => {
                    buf[..d.len()].copy_from_slice(&d);
                    Ok(Some(d.len()))
                }
                _ => Ok(None),
            }
        }
    }

    const FAST: [Duration; 4] = [Duration::from_secs(60); 4];

    #[test]
    fn retransmits_until_the_reply() {
        let msg = PORTS16.encode(XID).unwrap();
        // First wait: junk then a timeout; second: a wrong xid, then the
        // reply.
        let mut s = Script {
            rx: VecDeque::from([
                from(ROUTER, &hex("00 00 ff fe  00 00 00 01")),
                vec![],
                granted(XID ^ 1),
                granted(XID),
            ]),
            ..Script::default()
        };
        let o = transact(&mut s, &PORTS16, XID, &msg, ROUTER, &FAST).unwrap();
        assert!(matches!(o, Outcome::Ports { lease: 3600, .. }));
        // Sent twice, the same bytes (same xid).
        assert_eq!(s.sent, vec![msg.clone(), msg.clone()]);
    }

    #[test]
    fn gives_up_after_four_transmissions() {
        let msg = PORTS16.encode(XID).unwrap();
        let mut s = Script {
            rx: VecDeque::from([granted(XID + 1), vec![], from(HOST, &msg)]),
            ..Script::default()
        };
        match transact(&mut s, &PORTS16, XID, &msg, ROUTER, &FAST) {
            Err(TransactError::NoAnswer {
                transmissions: 4,
                waited,
            }) => assert_eq!(waited, Duration::from_secs(240)),
            r => panic!("{r:?}"),
        }
        assert_eq!(s.sent.len(), 4);
        assert_eq!(WAITS.iter().sum::<Duration>(), Duration::from_secs(15));
        // A send error ends it at once.
        let mut s = Script {
            fail_send: true,
            ..Script::default()
        };
        match transact(&mut s, &PORTS16, XID, &msg, ROUTER, &FAST) {
            Err(TransactError::Io { err, .. }) => assert_eq!(err.raw_os_error(), Some(113)),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn renders_outcomes() {
        let p = Outcome::Ports {
            block: PortBlock {
                lowest: 20000,
                count: 16,
            },
            lease: 3600,
            epoch: EPOCH,
        };
        assert_eq!(
            p.render(),
            "ports 20000-20015 (16) lease 3600s epoch 0x5eed0001\n"
        );
        let js = |o: Outcome| serde_json::to_string(&o.report()).unwrap();
        assert_eq!(
            js(p),
            r#"{"kind":"ports","lowest":20000,"count":16,"lease":3600,"epoch":1592590337}"#
        );
        let mut r = p.report();
        if let Report::Granted {
            ip_local_port_range,
            ..
        } = &mut r
        {
            *ip_local_port_range = Some([20000, 20015]);
        }
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"kind":"ports","lowest":20000,"count":16,"lease":3600,"epoch":1592590337,"#
                .to_owned()
                + r#""ip_local_port_range":[20000,20015]}"#
        );
        let s = Outcome::Spis {
            block: SpiBlock {
                lowest: 0x1000,
                count: 256,
            },
            lease: 0,
            epoch: 2,
        };
        assert_eq!(
            s.render(),
            "spis 0x1000-0x10ff (256) no expiry epoch 0x00000002\n"
        );
        assert_eq!(
            js(s),
            r#"{"kind":"spis","lowest":4096,"count":256,"lease":0,"epoch":2}"#
        );
        let r = Outcome::Released {
            kind: PORTS,
            lowest: 20000,
            count: 16,
            epoch: 2,
        };
        assert_eq!(
            r.render(),
            "released ports 20000-20015 (16) epoch 0x00000002\n"
        );
        assert_eq!(
            js(r),
            r#"{"kind":"ports","lowest":20000,"count":16,"released":true,"epoch":2}"#
        );
        let f = Outcome::Refused(Reason::NoSpace);
        assert_eq!(f.render(), "refused: no_space\n");
        assert_eq!(js(f), r#"{"refused":"no_space"}"#);
    }

    #[test]
    fn xids_are_nonzero_and_vary() {
        let a = random_xid().unwrap();
        let b = random_xid().unwrap();
        assert!(a != 0 && b != 0);
        assert!(a != b || random_xid().unwrap() != a);
    }

    #[test]
    fn native_writes_the_block() {
        let path = std::env::temp_dir().join(format!("dnatctl-range-{}", std::process::id()));
        std::fs::write(&path, "32768 60999\n").unwrap();
        let r = set_port_range(
            &path,
            PortBlock {
                lowest: 20000,
                count: 16,
            },
        );
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(r.unwrap(), (20000, 20015));
        assert_eq!(text, "20000 20015\n");
        let missing = Path::new("/nonexistent/dnatctl/ip_local_port_range");
        let b = PortBlock {
            lowest: 1,
            count: 1,
        };
        assert!(set_port_range(missing, b).is_err());
    }
}
