// SPDX-License-Identifier: GPL-2.0

//! Packet classification decisions of the router's data path, independent
//! of the kernel: which key (destination port, SPI, ICMP identifier, or
//! what an ICMP error quotes) decides the owner of an inbound packet, and
//! what an outbound tunnelled packet must prove.
//!
//! [`inbound_key`] and [`outbound_proof`] know ICMP (queries by their
//! identifier, taken as a port; errors by what they quote, a host's SA
//! included). [`inbound`] and [`outbound`] are what the modules call until
//! they are wired to those two: the same decisions without ICMP queries
//! and quoted SAs inbound, and with every ICMP packet refused outbound.
//! Documentation/networking/dnat.rst, section "ICMP", has the rules.

use core::net::Ipv4Addr;

use super::config::is_unicast;
use super::ipv4::icmp::{self, Class, Quote};
use super::ipv4::{proto, Header, MAX_HEADER_LEN};

/// Bytes of the transport header the classifier may need: an ICMP error's
/// header (8), the quoted IPv4 header with the most options (60) and the
/// 8 bytes of quoted payload every error carries (ports, a quoted query's
/// identifier at 4, an ESP SPI at 0, an AH SPI at 4). Other protocols need
/// fewer: see [`peek_len`].
pub const L4_PEEK: usize = icmp::HEADER_LEN + MAX_HEADER_LEN + icmp::QUOTED_PAYLOAD;

/// Bytes of the transport header of protocol `p` that the classification
/// (and [`outbound_sa`]) reads, at most [`L4_PEEK`]: TCP 4 (ports), UDP
/// 12 (ports, length, an SPI in ESP in UDP), ESP 4, AH 8, ICMP
/// [`L4_PEEK`], anything else 0. A data path copies this much, or less
/// when the packet is shorter.
pub const fn peek_len(p: u8) -> usize {
    match p {
        proto::TCP | proto::ESP => 4,
        proto::UDP => 12,
        proto::AH => 8,
        proto::ICMP => L4_PEEK,
        _ => 0,
    }
}

/// The port IKE moves to for NAT traversal (RFC 3948): UDP from it whose
/// payload does not start with the four zero bytes of the non-ESP marker
/// is ESP.
pub const NAT_T_PORT: u16 = 4500;

/// What decides who owns a packet (the keys [`inbound`] gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A TCP or UDP port.
    Port(u16),
    /// An IPsec SPI (ESP or AH).
    Spi(u32),
    /// ESP in UDP (NAT traversal): the UDP destination port decides the
    /// owner, who must also hold the SPI (and the ESP checks apply).
    EspInUdp {
        /// The UDP destination port.
        port: u16,
        /// The SPI in the first four bytes of the UDP payload.
        spi: u32,
    },
    /// Nothing: the packet belongs to the router itself.
    None,
}

/// An IPsec SA as its packets name it: their destination, SPI and
/// protocol. For a host's outbound SA the destination is the peer and the
/// SPI the peer's choice, in no block of the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaKey {
    /// The packets' destination (the peer).
    pub peer: Ipv4Addr,
    /// The SPI.
    pub spi: u32,
    /// [`proto::ESP`] or [`proto::AH`].
    pub proto: u8,
}

/// What decides who owns an inbound packet, ICMP included (the keys
/// [`inbound_key`] gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InKey {
    /// A TCP or UDP destination port, or the source port of the TCP or
    /// UDP packet an ICMP error quotes.
    Port(u16),
    /// An IPsec SPI (ESP or AH).
    Spi(u32),
    /// ESP in UDP, as [`Key::EspInUdp`].
    EspInUdp {
        /// The UDP destination port.
        port: u16,
        /// The SPI in the first four bytes of the UDP payload.
        spi: u32,
    },
    /// An ICMP query identifier, owned by the holder of the port of that
    /// number (the identifier space is the port space, as in MAP-E, RFC
    /// 7597 section 5.2): of a query reply, or of the query request an
    /// error quotes. Delivered like [`InKey::Port`], without DoS checks.
    IcmpId(u16),
    /// An ICMP error about a host's outbound ESP or AH: the router's table
    /// of outbound SAs names the host (no block holds the peer's SPI).
    QuotedSa(SaKey),
    /// Nothing: the packet belongs to the router itself.
    None,
}

impl InKey {
    /// The port whose owner gets the packet: [`InKey::Port`],
    /// [`InKey::IcmpId`] and the port of [`InKey::EspInUdp`].
    pub const fn port(self) -> Option<u16> {
        match self {
            InKey::Port(p) | InKey::IcmpId(p) | InKey::EspInUdp { port: p, .. } => Some(p),
            InKey::Spi(_) | InKey::QuotedSa(_) | InKey::None => None,
        }
    }

    /// The key [`inbound`] gives: ICMP identifiers and quoted SAs are the
    /// router's ([`Key::None`]).
    pub const fn legacy(self) -> Key {
        match self {
            InKey::Port(p) => Key::Port(p),
            InKey::Spi(s) => Key::Spi(s),
            InKey::EspInUdp { port, spi } => Key::EspInUdp { port, spi },
            InKey::IcmpId(_) | InKey::QuotedSa(_) | InKey::None => Key::None,
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// The key of an inbound packet with header `h` addressed to the public
/// address; `l4` holds the first bytes of its payload (up to
/// [`peek_len`]`(h.protocol)`).
///
/// TCP/UDP: the destination port. ESP: the SPI at offset 0. AH: the SPI at
/// offset 4. ESP in UDP: UDP from port [`NAT_T_PORT`] whose payload (by the
/// UDP length) holds at least four bytes and does not start with four zero
/// bytes (the non-ESP marker of IKE); a 1-byte NAT keepalive and IKE are
/// plain UDP. ICMP query replies (echo, timestamp, information, address
/// mask): the identifier ([`InKey::IcmpId`]); query requests are the
/// router's. ICMP errors (types 3, 4, 5, 11, 12) about a packet that the
/// public address sent (the quote's source), so that the error reaches the
/// host that sent it: the quoted TCP/UDP source port, the identifier of a
/// quoted query request, the quoted ESP/AH SA ([`InKey::QuotedSa`]);
/// nothing for an error about an ICMP error (or any other ICMP message),
/// about a later fragment, about another protocol, or one whose quote is
/// malformed or shorter than its header and 8 bytes. Anything else, or too
/// short: [`InKey::None`].
pub fn inbound_key(h: &Header, l4: &[u8], public: Ipv4Addr) -> InKey {
    let k = match h.protocol {
        proto::UDP => esp_in_udp(l4).or_else(|| be16(l4, 2).map(InKey::Port)),
        proto::TCP => be16(l4, 2).map(InKey::Port),
        proto::ESP => be32(l4, 0).map(InKey::Spi),
        proto::AH => be32(l4, 4).map(InKey::Spi),
        proto::ICMP => icmp_inbound(l4, public),
        _ => None,
    };
    k.unwrap_or(InKey::None)
}

/// [`inbound_key`] as the modules use it until they know ICMP: the same
/// keys, but ICMP identifiers and quoted SAs go to the router
/// ([`InKey::legacy`]).
pub fn inbound(h: &Header, l4: &[u8], public: Ipv4Addr) -> Key {
    inbound_key(h, l4, public).legacy()
}

/// ESP in the UDP datagram `l4` (header first), if it is one.
fn esp_in_udp(l4: &[u8]) -> Option<InKey> {
    if be16(l4, 0)? != NAT_T_PORT || be16(l4, 4)? < 8 + 4 {
        return None;
    }
    let spi = be32(l4, 8).filter(|&s| s != 0)?;
    Some(InKey::EspInUdp {
        port: be16(l4, 2)?,
        spi,
    })
}

/// The key of the ICMP message `l4` to the public address.
fn icmp_inbound(l4: &[u8], public: Ipv4Addr) -> Option<InKey> {
    match icmp::class(*l4.first()?) {
        Class::Reply => be16(l4, icmp::ID_OFFSET).map(InKey::IcmpId),
        Class::Error => {
            let q = Quote::parse(l4.get(icmp::HEADER_LEN..)?).ok()?;
            if q.src != public || q.later_fragment {
                return None;
            }
            quoted_sent(&q)
        }
        Class::Request | Class::Other => None,
    }
}

/// The key of a packet the public address sent, quoted in an error.
fn quoted_sent(q: &Quote<'_>) -> Option<InKey> {
    let p = q.payload;
    match q.protocol {
        proto::TCP | proto::UDP => be16(p, 0).map(InKey::Port),
        proto::ICMP => match icmp::class(*p.first()?) {
            Class::Request => be16(p, icmp::ID_OFFSET).map(InKey::IcmpId),
            Class::Reply | Class::Error | Class::Other => None,
        },
        proto::ESP | proto::AH => Some(InKey::QuotedSa(sa_key(q.dst, q.protocol, p)?)),
        _ => None,
    }
}

/// The SA of an ESP or AH packet to `peer` whose header is at the start of
/// `l4`.
fn sa_key(peer: Ipv4Addr, protocol: u8, l4: &[u8]) -> Option<SaKey> {
    let spi = match protocol {
        proto::ESP => be32(l4, 0)?,
        proto::AH => be32(l4, 4)?,
        _ => return None,
    };
    Some(SaKey {
        peer,
        spi,
        proto: protocol,
    })
}

/// What an outbound tunnelled packet's outer source must own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The inner TCP/UDP source port; with [`outbound_proof`] also an ICMP
    /// query request's identifier, or the destination port (or reply
    /// identifier) of the packet a host's ICMP error quotes.
    Port(u16),
    /// Any allocation at all (ESP/AH: ports are not inspected).
    KnownHost,
}

/// Why an outbound tunnelled packet is refused (by [`outbound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutError {
    /// The inner source is not the public address.
    NotPublicSource,
    /// A protocol the router does not forward for hosts (ICMP, ...).
    Protocol,
    /// The inner packet is too short for its ports.
    Truncated,
    /// An inner fragment (ports unknown).
    Fragment,
    /// The inner destination is the router itself (its public or LAN
    /// address) or not unicast (loopback, broadcast, multicast, 0/8,
    /// 240/4): decapsulated, it would go to the router's own stack with
    /// the public address as source, not be forwarded.
    LocalDestination,
}

/// Why an outbound tunnelled packet is refused (by [`outbound_proof`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutRefusal {
    /// As [`OutError::NotPublicSource`].
    NotPublicSource,
    /// A protocol the router does not forward for hosts (not TCP, UDP,
    /// ESP, AH or ICMP).
    Protocol,
    /// Too short for its ports, identifier or quote.
    Truncated,
    /// As [`OutError::Fragment`].
    Fragment,
    /// As [`OutError::LocalDestination`].
    LocalDestination,
    /// An ICMP type that hosts do not send to the Internet: query replies
    /// (requests from the Internet reach the router, not a host, and a
    /// reply's identifier is the requester's, so no host can prove it
    /// owns one; forwarding them would let hosts send unsolicited replies
    /// from the public address), source quench (deprecated, RFC 6633) and
    /// redirect (routers' messages), and every type that is neither a
    /// query nor an error.
    IcmpType,
    /// An ICMP error that is not about a packet the host received at the
    /// public address: its quote is malformed, not to the public address,
    /// not from the error's destination, a later fragment, or of anything
    /// but TCP, UDP or an ICMP query reply (never an error about an error,
    /// RFC 1122 3.2.2; a host discards bad ESP and AH silently, RFC 4303
    /// 3.4.2).
    IcmpQuote,
}

impl OutRefusal {
    /// The error [`outbound`] gives: the ICMP refusals are
    /// [`OutError::Protocol`].
    pub const fn legacy(self) -> OutError {
        match self {
            OutRefusal::NotPublicSource => OutError::NotPublicSource,
            OutRefusal::Protocol | OutRefusal::IcmpType | OutRefusal::IcmpQuote => {
                OutError::Protocol
            }
            OutRefusal::Truncated => OutError::Truncated,
            OutRefusal::Fragment => OutError::Fragment,
            OutRefusal::LocalDestination => OutError::LocalDestination,
        }
    }
}

/// What the host that tunnelled inner packet `inner` (with `l4` the first
/// bytes of its payload, up to [`peek_len`]`(inner.protocol)`) to the
/// router's LAN address `router` must own for the router to forward it.
/// Only the addresses are checked here; the caller also refuses other
/// destinations the router's routing tables call local.
///
/// TCP/UDP: the source port. ESP/AH: a known host. ICMP query requests:
/// the identifier ([`Proof::Port`]). ICMP destination unreachable, time
/// exceeded and parameter problem about a packet the host received (the
/// quote is from the error's destination to the public address): the
/// quoted TCP/UDP destination port, or the identifier of a quoted query
/// reply. Every other ICMP message is refused ([`OutRefusal::IcmpType`],
/// [`OutRefusal::IcmpQuote`]).
pub fn outbound_proof(
    inner: &Header,
    l4: &[u8],
    public: Ipv4Addr,
    router: Ipv4Addr,
) -> Result<Proof, OutRefusal> {
    if inner.src != public {
        return Err(OutRefusal::NotPublicSource);
    }
    if inner.dst == public || inner.dst == router || !is_unicast(inner.dst) {
        return Err(OutRefusal::LocalDestination);
    }
    if inner.is_fragment {
        return Err(OutRefusal::Fragment);
    }
    match inner.protocol {
        proto::TCP | proto::UDP => be16(l4, 0).map(Proof::Port).ok_or(OutRefusal::Truncated),
        proto::ESP | proto::AH => Ok(Proof::KnownHost),
        proto::ICMP => icmp_outbound(inner, l4, public),
        _ => Err(OutRefusal::Protocol),
    }
}

/// [`outbound_proof`] as the modules use it until they know ICMP: every
/// ICMP packet that passes the address and fragment checks is refused
/// with [`OutError::Protocol`].
pub fn outbound(
    inner: &Header,
    l4: &[u8],
    public: Ipv4Addr,
    router: Ipv4Addr,
) -> Result<Proof, OutError> {
    let r = outbound_proof(inner, l4, public, router);
    if inner.protocol == proto::ICMP {
        return match r {
            Err(
                e @ (OutRefusal::NotPublicSource
                | OutRefusal::LocalDestination
                | OutRefusal::Fragment),
            ) => Err(e.legacy()),
            _ => Err(OutError::Protocol),
        };
    }
    r.map_err(OutRefusal::legacy)
}

/// The proof for the ICMP message `l4` from the public address to
/// `inner.dst`.
fn icmp_outbound(inner: &Header, l4: &[u8], public: Ipv4Addr) -> Result<Proof, OutRefusal> {
    let t = *l4.first().ok_or(OutRefusal::Truncated)?;
    match (icmp::class(t), t) {
        (Class::Request, _) => be16(l4, icmp::ID_OFFSET)
            .map(Proof::Port)
            .ok_or(OutRefusal::Truncated),
        (Class::Error, icmp::DEST_UNREACH | icmp::TIME_EXCEEDED | icmp::PARAMETER_PROBLEM) => {
            let q =
                Quote::parse(l4.get(icmp::HEADER_LEN..).unwrap_or(&[])).map_err(|e| match e {
                    icmp::BadQuote::Truncated => OutRefusal::Truncated,
                    icmp::BadQuote::Malformed => OutRefusal::IcmpQuote,
                })?;
            if q.dst != public || q.src != inner.dst || q.later_fragment {
                return Err(OutRefusal::IcmpQuote);
            }
            let p = q.payload;
            let v = match q.protocol {
                proto::TCP | proto::UDP => be16(p, 2),
                proto::ICMP if p.first().is_some_and(|&t| icmp::class(t) == Class::Reply) => {
                    be16(p, icmp::ID_OFFSET)
                }
                _ => return Err(OutRefusal::IcmpQuote),
            };
            v.map(Proof::Port).ok_or(OutRefusal::Truncated)
        }
        _ => Err(OutRefusal::IcmpType),
    }
}

/// The SA of an outbound ESP or AH packet `inner` (with `l4` the first
/// bytes of its payload): what the router's table of outbound SAs learns
/// for the sending host once [`outbound_proof`] has accepted the packet.
/// `None` for other protocols, fragments and truncated headers.
pub fn outbound_sa(inner: &Header, l4: &[u8]) -> Option<SaKey> {
    if inner.is_fragment {
        return None;
    }
    sa_key(inner.dst, inner.protocol, l4)
}

#[cfg(test)]
#[path = "classify/tests.rs"]
mod tests;
