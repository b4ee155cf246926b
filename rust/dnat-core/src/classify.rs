// SPDX-License-Identifier: GPL-2.0

//! Packet classification decisions of the router's data path, independent
//! of the kernel: which key (destination port, SPI, or the source port
//! quoted in an ICMP error) decides the owner of an inbound packet, and what
//! an outbound tunnelled packet must prove.

use core::net::Ipv4Addr;

use super::config::is_unicast;
use super::ipv4::{proto, Header, HEADER_LEN};

/// Bytes of the transport header the classifier needs: enough for the
/// ports (TCP/UDP), the SPI (ESP at 0, AH at 4) and an ICMP error's quoted
/// IPv4 header (8 + 20) with the quoted ports (+4).
pub const L4_PEEK: usize = 8 + HEADER_LEN + 4;

/// The port IKE moves to for NAT traversal (RFC 3948): UDP from it whose
/// payload does not start with the four zero bytes of the non-ESP marker
/// is ESP.
pub const NAT_T_PORT: u16 = 4500;

/// What decides who owns a packet.
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

/// ICMP error types that quote the packet that caused them.
fn is_icmp_error(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
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
/// address; `l4` holds the first bytes of its payload (up to [`L4_PEEK`]).
///
/// TCP/UDP: the destination port. ESP: the SPI at offset 0. AH: the SPI at
/// offset 4. ESP in UDP: UDP from port [`NAT_T_PORT`] whose payload (by the
/// UDP length) holds at least four bytes and does not start with four zero
/// bytes (the non-ESP marker of IKE); a 1-byte NAT keepalive and IKE are
/// plain UDP. ICMP errors: the *source* port of the quoted TCP/UDP packet,
/// which a host sent from the public address, so that the error reaches
/// that host. Anything else, or too short: [`Key::None`].
pub fn inbound(h: &Header, l4: &[u8], public: Ipv4Addr) -> Key {
    let k = match h.protocol {
        proto::UDP => esp_in_udp(l4).or_else(|| be16(l4, 2).map(Key::Port)),
        proto::TCP => be16(l4, 2).map(Key::Port),
        proto::ESP => be32(l4, 0).map(Key::Spi),
        proto::AH => be32(l4, 4).map(Key::Spi),
        proto::ICMP if l4.first().is_some_and(|&t| is_icmp_error(t)) => {
            quoted(l4.get(8..).unwrap_or(&[]), public)
        }
        _ => None,
    };
    k.unwrap_or(Key::None)
}

/// ESP in the UDP datagram `l4` (header first), if it is one.
fn esp_in_udp(l4: &[u8]) -> Option<Key> {
    if be16(l4, 0)? != NAT_T_PORT || be16(l4, 4)? < 8 + 4 {
        return None;
    }
    let spi = be32(l4, 8).filter(|&s| s != 0)?;
    Some(Key::EspInUdp {
        port: be16(l4, 2)?,
        spi,
    })
}

fn quoted(q: &[u8], public: Ipv4Addr) -> Option<Key> {
    let b0 = *q.first()?;
    if b0 >> 4 != 4 {
        return None;
    }
    let hl = usize::from(b0 & 0x0f) * 4;
    let src = Ipv4Addr::new(*q.get(12)?, *q.get(13)?, *q.get(14)?, *q.get(15)?);
    if hl < HEADER_LEN || src != public {
        return None;
    }
    match *q.get(9)? {
        proto::TCP | proto::UDP => be16(q, hl).map(Key::Port),
        _ => None,
    }
}

/// What an outbound tunnelled packet's outer source must own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The inner TCP/UDP source port.
    Port(u16),
    /// Any allocation at all (ESP/AH: ports are not inspected).
    KnownHost,
}

/// Why an outbound tunnelled packet is refused.
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

/// What the host that tunnelled inner packet `inner` (with `l4` the first
/// bytes of its payload) to the router's LAN address `router` must own for
/// the router to forward it. Only the addresses are checked here; the
/// caller also refuses other destinations the router's routing tables call
/// local.
pub fn outbound(
    inner: &Header,
    l4: &[u8],
    public: Ipv4Addr,
    router: Ipv4Addr,
) -> Result<Proof, OutError> {
    if inner.src != public {
        return Err(OutError::NotPublicSource);
    }
    if inner.dst == public || inner.dst == router || !is_unicast(inner.dst) {
        return Err(OutError::LocalDestination);
    }
    if inner.is_fragment {
        return Err(OutError::Fragment);
    }
    match inner.protocol {
        proto::TCP | proto::UDP => be16(l4, 0).map(Proof::Port).ok_or(OutError::Truncated),
        proto::ESP | proto::AH => Ok(Proof::KnownHost),
        _ => Err(OutError::Protocol),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv4;

    const PUB: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
    const EXT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
    const LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);

    fn hdr(src: Ipv4Addr, dst: Ipv4Addr, p: u8, len: usize) -> Header {
        let b = ipv4::build(src, dst, p, 64, len).unwrap();
        Header::parse(&b, HEADER_LEN + len).unwrap()
    }

    #[test]
    fn inbound_keys() {
        let tcp = hdr(EXT, PUB, proto::TCP, 20);
        assert_eq!(
            inbound(&tcp, &[0x00, 0x50, 0x4e, 0x20], PUB),
            Key::Port(20000)
        );
        let udp = hdr(EXT, PUB, proto::UDP, 8);
        assert_eq!(
            inbound(&udp, &[0, 53, 0x75, 0x30, 0, 8, 0, 0], PUB),
            Key::Port(30000)
        );
        let esp = hdr(EXT, PUB, proto::ESP, 16);
        assert_eq!(
            inbound(&esp, &[0, 0, 0x10, 0x01, 0, 0, 0, 1], PUB),
            Key::Spi(0x1001)
        );
        let ah = hdr(EXT, PUB, proto::AH, 24);
        assert_eq!(
            inbound(&ah, &[4, 4, 0, 0, 0, 0, 0x10, 0x02], PUB),
            Key::Spi(0x1002)
        );
        assert_eq!(inbound(&tcp, &[0, 80, 1], PUB), Key::None);
        let gre = hdr(EXT, PUB, 47, 8);
        assert_eq!(inbound(&gre, &[0; 8], PUB), Key::None);
    }

    #[test]
    fn esp_in_udp_is_told_by_its_marker() {
        let udp = hdr(EXT, PUB, proto::UDP, 16);
        // From 4500 to 20001, SPI 0x1001, sequence 1.
        let esp = [
            0x11, 0x94, 0x4e, 0x21, 0, 16, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1,
        ];
        assert_eq!(
            inbound(&udp, &esp, PUB),
            Key::EspInUdp {
                port: 20001,
                spi: 0x1001
            }
        );
        // The non-ESP marker: IKE, delivered by port.
        let mut ike = esp;
        ike[8..12].copy_from_slice(&[0; 4]);
        assert_eq!(inbound(&udp, &ike, PUB), Key::Port(20001));
        // A NAT keepalive (one byte 0xff), and a payload shorter than an
        // SPI by the UDP length whatever follows: plain UDP.
        let ka = hdr(EXT, PUB, proto::UDP, 9);
        assert_eq!(
            inbound(&ka, &[0x11, 0x94, 0x4e, 0x21, 0, 9, 0, 0, 0xff], PUB),
            Key::Port(20001)
        );
        let mut short = esp;
        short[5] = 11;
        assert_eq!(inbound(&udp, &short, PUB), Key::Port(20001));
        // From another port: UDP.
        let mut other = esp;
        other[1] = 0x95;
        assert_eq!(inbound(&udp, &other, PUB), Key::Port(20001));
        // TCP from 4500 is TCP.
        let tcp = hdr(EXT, PUB, proto::TCP, 20);
        assert_eq!(inbound(&tcp, &esp, PUB), Key::Port(20001));
    }

    #[test]
    fn icmp_errors_go_to_the_quoted_source_port() {
        let icmp = hdr(EXT, PUB, proto::ICMP, 36);
        let q = ipv4::build(PUB, EXT, proto::UDP, 1, 8).unwrap();
        let mut l4 = std::vec![3u8, 3, 0, 0, 0, 0, 0, 0];
        l4.extend_from_slice(&q);
        l4.extend_from_slice(&[0x4e, 0x21, 0, 53]);
        assert_eq!(inbound(&icmp, &l4, PUB), Key::Port(20001));
        // Quoting someone else's packet, or an echo reply: the router's.
        let other = ipv4::build(EXT, PUB, proto::UDP, 1, 8).unwrap();
        let mut l4b = std::vec![3u8, 3, 0, 0, 0, 0, 0, 0];
        l4b.extend_from_slice(&other);
        l4b.extend_from_slice(&[0x4e, 0x21, 0, 53]);
        assert_eq!(inbound(&icmp, &l4b, PUB), Key::None);
        assert_eq!(inbound(&icmp, &[0u8, 0, 0, 0, 0, 0, 0, 0], PUB), Key::None);
        assert_eq!(inbound(&icmp, &l4[..20], PUB), Key::None);
    }

    #[test]
    fn outbound_proofs() {
        let tcp = hdr(PUB, EXT, proto::TCP, 20);
        assert_eq!(
            outbound(&tcp, &[0x4e, 0x20, 0, 80], PUB, LAN),
            Ok(Proof::Port(20000))
        );
        let esp = hdr(PUB, EXT, proto::ESP, 16);
        assert_eq!(outbound(&esp, &[0; 8], PUB, LAN), Ok(Proof::KnownHost));
        let spoof = hdr(Ipv4Addr::new(10, 0, 0, 1), EXT, proto::TCP, 20);
        assert_eq!(
            outbound(&spoof, &[0; 4], PUB, LAN),
            Err(OutError::NotPublicSource)
        );
        let icmp = hdr(PUB, EXT, proto::ICMP, 8);
        assert_eq!(
            outbound(&icmp, &[8, 0, 0, 0], PUB, LAN),
            Err(OutError::Protocol)
        );
        assert_eq!(outbound(&tcp, &[0x4e], PUB, LAN), Err(OutError::Truncated));
        // Nothing for the router itself or not unicast.
        for dst in [
            PUB,
            LAN,
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(224, 0, 0, 1),
            Ipv4Addr::BROADCAST,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(240, 0, 0, 1),
        ] {
            let local = hdr(PUB, dst, proto::UDP, 8);
            assert_eq!(
                outbound(&local, &[0x4e, 0x20, 0, 53], PUB, LAN),
                Err(OutError::LocalDestination),
                "{dst}"
            );
        }
    }
}
