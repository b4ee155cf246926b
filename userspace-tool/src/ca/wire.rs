// SPDX-License-Identifier: GPL-2.0

//! The CA's request channel on the LAN: one request and one response per
//! TCP connection, each an 8-byte header and a payload.
//!
//! ```text
//! request:  op(1) 0(3) length(4, big-endian, at most 16384) payload
//! response: status(1) 0(3) length(4, big-endian) payload
//! ```
//!
//! Ops: 1 issue (payload: a DER CSR), 2 get the CRL, 3 get the CA
//! certificate (both with an empty payload). A response's payload is the
//! DER certificate, CRL or CA certificate when the status is 0, else a
//! UTF-8 text saying why ([`Code`]).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// The CA's TCP port (the channel's registered number in the
/// documentation's example arc as well).
pub const PORT: u16 = 7489;
/// Size of a request or response header.
pub const HEADER_LEN: usize = 8;
/// Most bytes of a request payload.
pub const MAX_REQUEST: u32 = 16 * 1024;
/// Most bytes of a response payload the client takes.
pub const MAX_RESPONSE: u32 = 1024 * 1024;
/// How long either side waits for the other's bytes.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The source ports a client binds (privileged: below 1024); the server
/// refuses ports from 1024 up.
pub const CLIENT_PORTS: std::ops::RangeInclusive<u16> = 600..=1023;
/// The lowest unprivileged port.
pub const FIRST_UNPRIVILEGED: u16 = 1024;

/// Request operations.
pub mod op {
    /// Issue a certificate for the DER CSR in the payload.
    pub const ISSUE: u8 = 1;
    /// Send the current CRL (DER).
    pub const GET_CRL: u8 = 2;
    /// Send the CA certificate (DER).
    pub const GET_CA: u8 = 3;
}

/// Response status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// Done; the payload is the DER asked for.
    Ok = 0,
    /// Bad header (non-zero reserved bytes, length above 16384), payload
    /// not a CSR, a malformed block extension, or a payload for an op that
    /// takes none.
    Malformed = 1,
    /// An op other than 1, 2, 3.
    UnknownOp = 2,
    /// The CSR's signature does not verify with its own key.
    BadSignature = 3,
    /// The TCP source address is outside the router's LAN prefixes.
    NotLanHost = 4,
    /// The administrator revoked the host in the router.
    HostRevoked = 5,
    /// The host holds no block.
    NoBlocks = 6,
    /// The CSR claims a block the host does not hold now (or whose lease
    /// ends within a minute).
    BlocksNotHeld = 7,
    /// The CSR's subjectAltName names an IP address other than the shared
    /// public address.
    WrongPublicAddress = 8,
    /// The CSR's key is not an ECDSA P-256 key.
    UnsupportedKey = 9,
    /// Too many requests at once; try again.
    Busy = 10,
    /// The CA could not do it (router module unreachable, state files).
    Internal = 11,
    /// The TCP source port is 1024 or above: only a privileged process
    /// (root, CAP_NET_BIND_SERVICE) of a LAN host may ask.
    UnprivilegedPort = 12,
}

impl Code {
    pub const ALL: [Code; 13] = [
        Code::Ok,
        Code::Malformed,
        Code::UnknownOp,
        Code::BadSignature,
        Code::NotLanHost,
        Code::HostRevoked,
        Code::NoBlocks,
        Code::BlocksNotHeld,
        Code::WrongPublicAddress,
        Code::UnsupportedKey,
        Code::Busy,
        Code::Internal,
        Code::UnprivilegedPort,
    ];

    pub fn from_u8(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|c| *c as u8 == b)
    }

    /// `malformed`, `blocks_not_held`, ...
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::Malformed => "malformed",
            Code::UnknownOp => "unknown_op",
            Code::BadSignature => "bad_signature",
            Code::NotLanHost => "not_lan_host",
            Code::HostRevoked => "host_revoked",
            Code::NoBlocks => "no_blocks",
            Code::BlocksNotHeld => "blocks_not_held",
            Code::WrongPublicAddress => "wrong_public_address",
            Code::UnsupportedKey => "unsupported_key",
            Code::Busy => "busy",
            Code::Internal => "internal",
            Code::UnprivilegedPort => "unprivileged_port",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A header and its payload, as sent.
pub fn encode(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + payload.len());
    v.push(first);
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Why a message could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The socket failed or timed out, or the peer closed early.
    Io(io::Error),
    /// Bytes 1 to 3 of the header are not zero.
    Reserved([u8; 3]),
    /// The length is above the limit.
    TooLong { len: u32, max: u32 },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                f.write_str("connection closed in the middle of a message")
            }
            FrameError::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                write!(f, "no complete message within {} s", TIMEOUT.as_secs())
            }
            FrameError::Io(e) => write!(f, "{e}"),
            FrameError::Reserved(r) => write!(f, "header bytes 1-3 are {r:02x?}, not zero"),
            FrameError::TooLong { len, max } => {
                write!(f, "length {len} above the limit of {max} bytes")
            }
        }
    }
}

/// Reads one header and its payload (at most `max` bytes): the op or
/// status, and the payload.
pub fn read_frame(r: &mut impl Read, max: u32) -> Result<(u8, Vec<u8>), FrameError> {
    let mut h = [0u8; HEADER_LEN];
    r.read_exact(&mut h).map_err(FrameError::Io)?;
    if h[1..4] != [0, 0, 0] {
        return Err(FrameError::Reserved([h[1], h[2], h[3]]));
    }
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    if len > max {
        return Err(FrameError::TooLong { len, max });
    }
    let mut payload = vec![0; len as usize];
    r.read_exact(&mut payload).map_err(FrameError::Io)?;
    Ok((h[0], payload))
}

/// Writes one message.
pub fn write_frame(w: &mut impl Write, first: u8, payload: &[u8]) -> io::Result<()> {
    w.write_all(&encode(first, payload))?;
    w.flush()
}

/// `ADDR` or `ADDR:PORT` (default port [`PORT`]).
pub fn parse_endpoint(s: &str) -> Result<SocketAddrV4, String> {
    if let Ok(a) = s.parse::<SocketAddrV4>() {
        return Ok(a);
    }
    s.parse::<Ipv4Addr>()
        .map(|a| SocketAddrV4::new(a, PORT))
        .map_err(|_| format!("expected ADDR or ADDR:PORT (IPv4), got \"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let m = encode(op::ISSUE, b"abc");
        assert_eq!(m, [1, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c']);
        let (first, p) = read_frame(&mut &m[..], MAX_REQUEST).unwrap();
        assert_eq!((first, &p[..]), (1, &b"abc"[..]));
        assert_eq!(encode(op::GET_CRL, b""), [2, 0, 0, 0, 0, 0, 0, 0]);
        let big = encode(Code::Ok as u8, &vec![7; 0x10203]);
        assert_eq!(&big[..8], &[0, 0, 0, 0, 0, 1, 2, 3]);
        // Limits and reserved bytes.
        let m = [1, 0, 0, 0, 0, 0, 0x40, 0x01];
        match read_frame(&mut &m[..], MAX_REQUEST) {
            Err(e @ FrameError::TooLong { len: 16385, .. }) => {
                assert_eq!(e.to_string(), "length 16385 above the limit of 16384 bytes")
            }
            r => panic!("{r:?}"),
        }
        let m = [1, 0, 0, 0, 0, 0, 0x40, 0x00];
        assert!(matches!(
            read_frame(&mut &m[..], MAX_REQUEST),
            Err(FrameError::Io(_))
        ));
        let m = [1, 0, 1, 0, 0, 0, 0, 0];
        assert!(matches!(
            read_frame(&mut &m[..], MAX_REQUEST),
            Err(FrameError::Reserved([0, 1, 0]))
        ));
        // Short header, short payload.
        let e = read_frame(&mut &[1u8, 0, 0][..], MAX_REQUEST).unwrap_err();
        assert_eq!(
            e.to_string(),
            "connection closed in the middle of a message"
        );
        assert!(read_frame(&mut &[1u8, 0, 0, 0, 0, 0, 0, 2, 9][..], MAX_REQUEST).is_err());
    }

    #[test]
    fn codes() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(Code::from_u8(i as u8), Some(*c));
        }
        assert_eq!(Code::from_u8(12), Some(Code::UnprivilegedPort));
        assert_eq!(Code::UnprivilegedPort.name(), "unprivileged_port");
        assert_eq!(Code::from_u8(13), None);
        assert_eq!(Code::BlocksNotHeld.to_string(), "blocks_not_held");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("10.0.0.7").unwrap(),
            "10.0.0.7:7489".parse().unwrap()
        );
        assert_eq!(
            parse_endpoint("10.0.0.7:99").unwrap(),
            "10.0.0.7:99".parse().unwrap()
        );
        assert!(parse_endpoint("10.0.0.7:").is_err());
        assert!(parse_endpoint("host").is_err());
        assert!(parse_endpoint("[::1]:5").is_err());
    }
}
