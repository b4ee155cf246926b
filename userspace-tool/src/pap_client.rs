// SPDX-License-Identifier: GPL-2.0

//! A userspace PAP client: asks the router for a block of ports or SPIs, or
//! gives one back, over a raw IPv4 ICMP socket, so that a host without the
//! `dnat_host` module can take part (SPEC section 9).
//!
//! One transaction per run: the message carries the extension trailer (a
//! random nonzero xid, epoch 0, the wanted lease), is retransmitted with the
//! same xid while no reply arrives ([`WAITS`]), and ends with the first
//! datagram that [`match_reply`] accepts. The matching and the retransmission
//! loop work on byte buffers and a [`Transport`], so that they are tested
//! without a network; [`RawSocket`] is the real transport.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, Instant};

use dnat_core::ipv4::{self, Header};
use dnat_core::pap::{
    self, msg_type, Acked, Direction, Message, PapError, PortBlock, PortClass, Reason, SpiBlock,
    Trailer,
};
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use dnat_core::uapi::block_kind::{PORTS, SPIS};

use crate::dump::{block_range, kind_name, lease};

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
            Outcome::Refused(r) => Report::Refused { refused: r.name() },
        }
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
/// message for a release).
pub fn match_reply(op: &Op, xid: u32, router: Ipv4Addr, datagram: &[u8]) -> Option<Outcome> {
    let h = Header::parse(datagram, datagram.len()).ok()?;
    if h.protocol != ipv4::proto::ICMP || h.is_fragment || h.src != router {
        return None;
    }
    let payload = datagram.get(h.header_len..h.total_len)?;
    let ty = *payload.first()?;
    if !(msg_type::PORT..=msg_type::CONTROL).contains(&ty) {
        return None;
    }
    let msg = pap::decode(payload, Direction::ToHost).ok()?;
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

/// A raw IPv4 ICMP socket sending to the router (TTL 1: PAP stays on the
/// LAN). Needs `CAP_NET_RAW`.
pub struct RawSocket {
    sock: Socket,
    router: SockAddr,
}

impl RawSocket {
    pub fn open(router: Ipv4Addr) -> io::Result<Self> {
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
        sock.set_ttl_v4(1)?;
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
