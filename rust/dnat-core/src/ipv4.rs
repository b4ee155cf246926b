// SPDX-License-Identifier: GPL-2.0

//! IPv4 headers: parsing what the packet path needs, and building the
//! headers of packets the modules send (PAP replies, tunnel headers).

use core::net::Ipv4Addr;

use super::checksum;

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// IP protocol numbers the modules look at.
pub mod proto {
    /// ICMP (and PAP).
    pub const ICMP: u8 = 1;
    /// IP in IP (RFC 2003).
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ESP.
    pub const ESP: u8 = 50;
    /// AH.
    pub const AH: u8 = 51;
}

/// Why a header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer bytes than the header says.
    Truncated,
    /// Version is not 4.
    NotIpv4,
    /// Header length below 20 bytes.
    BadHeaderLength,
    /// Total length smaller than the header, or larger than the packet.
    BadTotalLength,
    /// Header checksum does not verify.
    BadChecksum,
}

/// The fields of an IPv4 header that the modules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Header length in bytes (20..=60).
    pub header_len: usize,
    /// Total length in bytes.
    pub total_len: usize,
    /// More-fragments flag or nonzero fragment offset.
    pub is_fragment: bool,
    /// Fragment offset in bytes (0 for the first or only fragment).
    pub frag_offset: usize,
    /// Time to live.
    pub ttl: u8,
    /// Protocol.
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
}

impl Header {
    /// Parses and checks the header at the start of `buf`, a packet of
    /// `packet_len` bytes (`buf` may hold only the first bytes of it, but at
    /// least the whole header).
    pub fn parse(buf: &[u8], packet_len: usize) -> Result<Self, HeaderError> {
        let h = Self::parse_checked_by_stack(buf, packet_len)?;
        let full = buf.get(..h.header_len).ok_or(HeaderError::Truncated)?;
        if !checksum::verify(full) {
            return Err(HeaderError::BadChecksum);
        }
        Ok(h)
    }

    /// Like [`Header::parse`] but without verifying the header checksum:
    /// for headers the stack has already checked (`ip_rcv` verifies the
    /// version, lengths and checksum before `PRE_ROUTING`).
    pub fn parse_checked_by_stack(buf: &[u8], packet_len: usize) -> Result<Self, HeaderError> {
        let b: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(HeaderError::Truncated)?;
        if b[0] >> 4 != 4 {
            return Err(HeaderError::NotIpv4);
        }
        let header_len = usize::from(b[0] & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(HeaderError::BadHeaderLength);
        }
        if buf.len() < header_len {
            return Err(HeaderError::Truncated);
        }
        let total_len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if total_len < header_len || total_len > packet_len {
            return Err(HeaderError::BadTotalLength);
        }
        Self::fields(b, header_len, total_len)
    }

    fn fields(
        b: &[u8; HEADER_LEN],
        header_len: usize,
        total_len: usize,
    ) -> Result<Self, HeaderError> {
        let frag = u16::from_be_bytes([b[6], b[7]]);
        Ok(Self {
            header_len,
            total_len,
            is_fragment: frag & 0x3fff != 0,
            frag_offset: usize::from(frag & 0x1fff) * 8,
            ttl: b[8],
            protocol: b[9],
            src: Ipv4Addr::new(b[12], b[13], b[14], b[15]),
            dst: Ipv4Addr::new(b[16], b[17], b[18], b[19]),
        })
    }
}

/// Builds a 20-byte header (no options, DF set, ID 0 as RFC 6864 allows
/// for atomic datagrams) with a valid checksum.
pub fn build(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ttl: u8,
    payload_len: usize,
) -> Option<[u8; HEADER_LEN]> {
    let total = u16::try_from(HEADER_LEN + payload_len).ok()?;
    let mut h = [0u8; HEADER_LEN];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[6] = 0x40; // DF
    h[8] = ttl;
    h[9] = protocol;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum::checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    Some(h)
}

/// Whether `a` is in `net`/`mask`.
pub fn in_prefix(a: Ipv4Addr, net: Ipv4Addr, mask: Ipv4Addr) -> bool {
    u32::from(a) & u32::from(mask) == u32::from(net) & u32::from(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_then_parse() {
        let s = Ipv4Addr::new(10, 0, 0, 7);
        let d = Ipv4Addr::new(10, 0, 0, 1);
        let h = build(s, d, proto::ICMP, 64, 8).unwrap();
        let p = Header::parse(&h, 28).unwrap();
        assert_eq!(
            (p.src, p.dst, p.protocol, p.ttl, p.total_len),
            (s, d, 1, 64, 28)
        );
        assert!(!p.is_fragment);
        assert_eq!(build(s, d, 1, 64, 65_516), None);
    }

    #[test]
    fn rejects_bad_headers() {
        let h = build(
            Ipv4Addr::new(1, 2, 3, 4),
            Ipv4Addr::new(5, 6, 7, 8),
            17,
            9,
            10,
        )
        .unwrap();
        assert_eq!(Header::parse(&h[..19], 30), Err(HeaderError::Truncated));
        assert_eq!(Header::parse(&h, 29), Err(HeaderError::BadTotalLength));
        let mut v6 = h;
        v6[0] = 0x65;
        assert_eq!(Header::parse(&v6, 30), Err(HeaderError::NotIpv4));
        let mut short = h;
        short[0] = 0x44;
        assert_eq!(Header::parse(&short, 30), Err(HeaderError::BadHeaderLength));
        let mut opts = h;
        opts[0] = 0x46;
        assert_eq!(Header::parse(&opts, 30), Err(HeaderError::Truncated));
        let mut bad = h;
        bad[8] ^= 1;
        assert_eq!(Header::parse(&bad, 30), Err(HeaderError::BadChecksum));
        let mut frag = h;
        frag[6] = 0x20; // MF
        let c = checksum::checksum(&{
            let mut z = frag;
            z[10] = 0;
            z[11] = 0;
            z
        });
        frag[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(Header::parse(&frag, 30).unwrap().is_fragment);
        // The stack-checked variant skips only the checksum.
        assert_eq!(
            Header::parse_checked_by_stack(&bad, 30).map(|h| h.ttl),
            Ok(bad[8])
        );
        assert_eq!(
            Header::parse_checked_by_stack(&h, 29),
            Err(HeaderError::BadTotalLength)
        );
        assert_eq!(
            Header::parse_checked_by_stack(&v6, 30),
            Err(HeaderError::NotIpv4)
        );
    }

    #[test]
    fn prefixes() {
        let m = Ipv4Addr::new(255, 255, 255, 0);
        let n = Ipv4Addr::new(10, 0, 0, 7);
        assert!(in_prefix(Ipv4Addr::new(10, 0, 0, 1), n, m));
        assert!(!in_prefix(Ipv4Addr::new(10, 0, 1, 1), n, m));
    }
}
