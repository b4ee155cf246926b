// SPDX-License-Identifier: GPL-2.0

//! IPv4 headers: parsing what the packet path needs, and building the
//! headers of packets the modules send (PAP replies, tunnel headers).

use core::net::Ipv4Addr;

use super::checksum;

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Length of a header with the most options (header length field 15).
pub const MAX_HEADER_LEN: usize = 60;
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

/// ICMP message types (RFC 792, RFC 950) and their classes, as the
/// router's classification and the host's translation see them.
pub mod icmp {
    use core::net::Ipv4Addr;

    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 3;
    /// Source quench (deprecated, RFC 6633).
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
    /// Information request (obsolete).
    pub const INFO_REQUEST: u8 = 15;
    /// Information reply (obsolete).
    pub const INFO_REPLY: u8 = 16;
    /// Address mask request (RFC 950).
    pub const ADDRESS: u8 = 17;
    /// Address mask reply (RFC 950).
    pub const ADDRESS_REPLY: u8 = 18;

    /// The ICMP header: type, code, checksum, then four bytes (a query's
    /// identifier and sequence number; an error's unused word, pointer or
    /// next-hop MTU). An error quotes the packet that caused it after it.
    pub const HEADER_LEN: usize = 8;
    /// Offset of the checksum, which covers the whole ICMP message.
    pub const CHECKSUM_OFFSET: usize = 2;
    /// Offset of a query's identifier.
    pub const ID_OFFSET: usize = 4;
    /// Bytes of the quoted packet's payload that every error carries
    /// after its IPv4 header (RFC 792; RFC 1812 routers quote more).
    pub const QUOTED_PAYLOAD: usize = 8;

    /// What an ICMP type is to NAT (RFC 5508 section 2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Class {
        /// A query request with an identifier: echo, timestamp,
        /// information, address mask.
        Request,
        /// The reply to one, with the request's identifier.
        Reply,
        /// An error that quotes the packet that caused it: destination
        /// unreachable, source quench, redirect, time exceeded,
        /// parameter problem.
        Error,
        /// Anything else (router advertisement and solicitation, PAP's
        /// types 32 to 36, unassigned types): no identifier, no quote.
        Other,
    }

    /// The class of ICMP type `t`.
    pub const fn class(t: u8) -> Class {
        match t {
            ECHO | TIMESTAMP | INFO_REQUEST | ADDRESS => Class::Request,
            ECHO_REPLY | TIMESTAMP_REPLY | INFO_REPLY | ADDRESS_REPLY => Class::Reply,
            DEST_UNREACH | SOURCE_QUENCH | REDIRECT | TIME_EXCEEDED | PARAMETER_PROBLEM => {
                Class::Error
            }
            _ => Class::Other,
        }
    }

    /// Whether type `t` is an error that quotes a packet.
    pub const fn is_error(t: u8) -> bool {
        matches!(class(t), Class::Error)
    }

    /// Why the quote of an ICMP error cannot be read.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum BadQuote {
        /// Shorter than its IPv4 header and [`QUOTED_PAYLOAD`] bytes.
        Truncated,
        /// Not IPv4, or a header length below 20 bytes.
        Malformed,
    }

    /// The packet an ICMP error quotes: its IPv4 header, whose options are
    /// skipped (RFC 5508 REQ-3b), and what the error holds of its payload.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Quote<'a> {
        /// The quoted header (20 to 60 bytes). Its checksum is not
        /// checked here; its total length is the original packet's.
        pub header: &'a [u8],
        /// The quoted packet's protocol.
        pub protocol: u8,
        /// Its source address.
        pub src: Ipv4Addr,
        /// Its destination address.
        pub dst: Ipv4Addr,
        /// A fragment other than the first (nonzero offset): the payload
        /// holds no transport header.
        pub later_fragment: bool,
        /// The quoted payload: at least [`QUOTED_PAYLOAD`] bytes.
        pub payload: &'a [u8],
    }

    impl<'a> Quote<'a> {
        /// Reads the quote `q`: the bytes of an ICMP error after its
        /// [`HEADER_LEN`]-byte header.
        pub fn parse(q: &'a [u8]) -> Result<Self, BadQuote> {
            let b0 = *q.first().ok_or(BadQuote::Truncated)?;
            let hl = usize::from(b0 & 0x0f) * 4;
            if b0 >> 4 != 4 || hl < super::HEADER_LEN {
                return Err(BadQuote::Malformed);
            }
            let (header, payload) = q.split_at_checked(hl).ok_or(BadQuote::Truncated)?;
            let f: &[u8; super::HEADER_LEN] = header
                .get(..super::HEADER_LEN)
                .and_then(|f| f.try_into().ok())
                .ok_or(BadQuote::Truncated)?;
            if payload.len() < QUOTED_PAYLOAD {
                return Err(BadQuote::Truncated);
            }
            Ok(Self {
                header,
                protocol: f[9],
                src: Ipv4Addr::new(f[12], f[13], f[14], f[15]),
                dst: Ipv4Addr::new(f[16], f[17], f[18], f[19]),
                later_fragment: u16::from_be_bytes([f[6], f[7]]) & 0x1fff != 0,
                payload,
            })
        }
    }
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
    fn icmp_classes() {
        use icmp::Class;
        let mut seen = [0usize; 4];
        for t in 0..=u8::MAX {
            let c = icmp::class(t);
            let want = match t {
                8 | 13 | 15 | 17 => Class::Request,
                0 | 14 | 16 | 18 => Class::Reply,
                3 | 4 | 5 | 11 | 12 => Class::Error,
                _ => Class::Other,
            };
            assert_eq!(c, want, "type {t}");
            assert_eq!(icmp::is_error(t), want == Class::Error, "type {t}");
            seen[c as usize] += 1;
        }
        assert_eq!(seen, [4, 4, 5, 256 - 13]);
        // PAP's types are nothing to NAT.
        for t in crate::pap::TYPES {
            assert_eq!(icmp::class(t), Class::Other);
        }
    }

    #[test]
    fn icmp_quotes() {
        use icmp::{BadQuote, Quote};
        let s = Ipv4Addr::new(203, 0, 113, 30);
        let d = Ipv4Addr::new(198, 51, 100, 3);
        let mut q = build(s, d, proto::UDP, 1, 8).unwrap().to_vec();
        q.extend_from_slice(&[0x4e, 0x21, 0, 53, 0, 8, 0xab, 0xcd, 0xee]);
        let p = Quote::parse(&q).unwrap();
        assert_eq!((p.src, p.dst, p.protocol), (s, d, proto::UDP));
        assert!(!p.later_fragment);
        assert_eq!(p.header, &q[..20]);
        assert_eq!(p.payload, &q[20..]);
        // Every prefix shorter than header + 8 is truncated.
        for n in 0..28 {
            assert_eq!(Quote::parse(&q[..n]), Err(BadQuote::Truncated), "{n}");
        }
        assert_eq!(Quote::parse(&q[..28]).unwrap().payload.len(), 8);
        // Options are skipped: header length 24 to 60.
        for words in 6..=15u8 {
            let mut o = q.clone();
            o[0] = 0x40 | words;
            let hl = usize::from(words) * 4;
            o.splice(20..20, core::iter::repeat_n(1u8, hl - 20));
            let p = Quote::parse(&o).unwrap();
            assert_eq!(p.header.len(), hl);
            assert_eq!(p.payload[..2], [0x4e, 0x21]);
            assert_eq!(Quote::parse(&o[..hl + 7]), Err(BadQuote::Truncated));
        }
        // Not IPv4, or a header length below 20.
        for b0 in [0x65, 0x44, 0x40, 0x05] {
            let mut m = q.clone();
            m[0] = b0;
            assert_eq!(Quote::parse(&m), Err(BadQuote::Malformed), "{b0:#x}");
        }
        // Fragments: the first (MF, offset 0) has ports, later ones not.
        let mut f = q.clone();
        f[6] = 0x20;
        assert!(!Quote::parse(&f).unwrap().later_fragment);
        f[7] = 1;
        assert!(Quote::parse(&f).unwrap().later_fragment);
        f[6] = 0x40; // DF with an offset: still a later fragment
        assert!(Quote::parse(&f).unwrap().later_fragment);
    }

    #[test]
    fn prefixes() {
        let m = Ipv4Addr::new(255, 255, 255, 0);
        let n = Ipv4Addr::new(10, 0, 0, 7);
        assert!(in_prefix(Ipv4Addr::new(10, 0, 0, 1), n, m));
        assert!(!in_prefix(Ipv4Addr::new(10, 0, 1, 1), n, m));
    }
}
