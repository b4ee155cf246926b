// SPDX-License-Identifier: GPL-2.0

//! The dnat block extension: which ports and SPIs a certificate's key
//! speaks for, behind the shared public address.
//!
//! ```text
//! DnatBlocks ::= SEQUENCE SIZE (1..256) OF DnatBlock
//! DnatBlock ::= SEQUENCE {
//!     kind  ENUMERATED { ports(1), spis(2) },
//!     first INTEGER (0..4294967295),
//!     last  INTEGER (0..4294967295)
//! }
//! ```
//!
//! Ports apply to both TCP and UDP. The extension is non-critical, under
//! [`OID`]; a CSR asks for blocks by carrying it in its extensionRequest
//! attribute. DER is written and read with `yasna` (strict DER on input:
//! no indefinite lengths, minimal integers, nothing after the value).

use std::fmt;

use dnat_core::uapi::block_kind;
use serde::{Deserialize, Serialize};
use yasna::{ASN1Error, ASN1ErrorKind};

use crate::limit::{self, Limit};

/// `1.3.6.1.4.1.32473.7489.1`: under IANA's example enterprise number
/// (RFC 5612), arc 7489 (the CA's TCP port), item 1.
pub const OID: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 7489, 1];
/// [`OID`] in dotted form.
pub const OID_STR: &str = "1.3.6.1.4.1.32473.7489.1";
/// Most blocks in one extension.
pub const MAX_BLOCKS: usize = 256;

/// What a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// TCP and UDP ports (`ports(1)`, `block_kind::PORTS`).
    Ports,
    /// IPsec SPIs (`spis(2)`, `block_kind::SPIS`).
    Spis,
}

impl Kind {
    /// The ENUMERATED value, also the netlink `BLOCK_KIND`.
    pub fn number(self) -> u8 {
        match self {
            Kind::Ports => block_kind::PORTS,
            Kind::Spis => block_kind::SPIS,
        }
    }

    /// The kind of a netlink `BLOCK_KIND` or ENUMERATED value.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            n if n == i64::from(block_kind::PORTS) => Some(Kind::Ports),
            n if n == i64::from(block_kind::SPIS) => Some(Kind::Spis),
            _ => None,
        }
    }

    /// `ports` or `spis`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ports => "ports",
            Kind::Spis => "spis",
        }
    }

    /// The ports or SPIs a block may hold.
    pub fn limit(self) -> Limit {
        match self {
            Kind::Ports => limit::PORT,
            Kind::Spis => limit::SPI,
        }
    }
}

/// One block: `first` to `last`, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Block {
    pub kind: Kind,
    pub first: u32,
    pub last: u32,
}

impl Block {
    /// The block of `count` (at least 1) starting at `lowest`, if it fits
    /// in 32 bits.
    pub fn from_count(kind: Kind, lowest: u32, count: u32) -> Option<Self> {
        let last = lowest.checked_add(count.checked_sub(1)?)?;
        Some(Self {
            kind,
            first: lowest,
            last,
        })
    }

    /// Ports or SPIs in the block.
    pub fn count(&self) -> u64 {
        u64::from(self.last) - u64::from(self.first) + 1
    }

    /// Whether `other` lies inside this block (same kind).
    pub fn contains(&self, other: &Block) -> bool {
        self.kind == other.kind && self.first <= other.first && other.last <= self.last
    }

    /// Whether both blocks share a port or SPI.
    pub fn overlaps(&self, other: &Block) -> bool {
        self.kind == other.kind && self.first <= other.last && other.first <= self.last
    }

    /// Why the block cannot be held by anyone, if so: `first > last`, a
    /// port or SPI outside [`limit::PORT`] or [`limit::SPI`] (port 0,
    /// reserved SPIs).
    pub fn check(&self) -> Result<(), String> {
        if self.first > self.last {
            return Err(format!(
                "{} {}-{}: first above last",
                self.kind.name(),
                self.first,
                self.last
            ));
        }
        let l = self.kind.limit();
        if self.first < l.min || self.last > l.max {
            return Err(format!("{self}: {} are {l}", self.kind.name()));
        }
        Ok(())
    }

    /// `FIRST-LAST` (SPIs in hex).
    pub fn span(&self) -> String {
        match self.kind {
            Kind::Ports => format!("{}-{}", self.first, self.last),
            Kind::Spis => format!("{:#x}-{:#x}", self.first, self.last),
        }
    }
}

/// `ports 40000-40063`, `spis 0x1000-0x10ff`.
impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.span())
    }
}

/// `FIRST-LAST` of `kind` (numbers decimal or `0x` hex, within the kind's
/// limit), as `--ports` and `--spis` take it; checked as [`Block::check`]
/// does.
pub fn parse_span(kind: Kind, s: &str) -> Result<Block, String> {
    let l = Limit {
        hex: true,
        ..kind.limit()
    };
    let num = |t: &str| {
        let t = t.trim();
        l.read(t)
            .map_err(|why| format!("{}: \"{t}\" {why}", kind.name()))
    };
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("expected FIRST-LAST, got \"{s}\""))?;
    let block = Block {
        kind,
        first: num(a)?,
        last: num(b)?,
    };
    block.check()?;
    Ok(block)
}

/// The DER of a `DnatBlocks` (the extension's value, the extnValue OCTET
/// STRING's content).
pub fn encode(blocks: &[Block]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            for b in blocks {
                w.next().write_sequence(|w| {
                    w.next().write_enum(i64::from(b.kind.number()));
                    w.next().write_u32(b.first);
                    w.next().write_u32(b.last);
                });
            }
        })
    })
}

/// Decodes and checks a `DnatBlocks`: strict DER, 1 to [`MAX_BLOCKS`]
/// blocks, known kinds, each block possible ([`Block::check`]), no two
/// overlapping. Returned sorted by kind and first.
pub fn decode(der: &[u8]) -> Result<Vec<Block>, String> {
    let mut blocks = yasna::parse_der(der, |r| {
        r.collect_sequence_of(|r| {
            r.read_sequence(|r| {
                let kind = r.next().read_enum()?;
                let kind = Kind::from_number(kind).ok_or(ASN1Error::new(ASN1ErrorKind::Invalid))?;
                let first = r.next().read_u32()?;
                let last = r.next().read_u32()?;
                Ok(Block { kind, first, last })
            })
        })
    })
    .map_err(|e| format!("invalid DnatBlocks DER: {e}"))?;
    if blocks.is_empty() {
        return Err("DnatBlocks without a block".into());
    }
    if blocks.len() > MAX_BLOCKS {
        return Err(format!("more than {MAX_BLOCKS} blocks"));
    }
    for b in &blocks {
        b.check()?;
    }
    blocks.sort();
    if let Some(w) = blocks.windows(2).find(|w| w[0].overlaps(&w[1])) {
        return Err(format!("{} overlaps {}", w[0], w[1]));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(first: u32, last: u32) -> Block {
        Block {
            kind: Kind::Ports,
            first,
            last,
        }
    }

    fn spis(first: u32, last: u32) -> Block {
        Block {
            kind: Kind::Spis,
            first,
            last,
        }
    }

    #[test]
    fn der_bytes() {
        let der = encode(&[ports(40000, 40063), spis(0x1000, 0x10ff)]);
        let mut want = vec![0x30, 0x1c];
        want.extend_from_slice(&[0x30, 0x0d, 0x0a, 0x01, 0x01]);
        want.extend_from_slice(&[0x02, 0x03, 0x00, 0x9c, 0x40]); // 40000
        want.extend_from_slice(&[0x02, 0x03, 0x00, 0x9c, 0x7f]); // 40063
        want.extend_from_slice(&[0x30, 0x0b, 0x0a, 0x01, 0x02]);
        want.extend_from_slice(&[0x02, 0x02, 0x10, 0x00]); // 0x1000
        want.extend_from_slice(&[0x02, 0x02, 0x10, 0xff]); // 0x10ff
        assert_eq!(want.len(), 2 + 0x1c);
        assert_eq!(der, want);
        assert_eq!(
            decode(&der).unwrap(),
            vec![ports(40000, 40063), spis(0x1000, 0x10ff)]
        );
    }

    #[test]
    fn round_trip_sorted() {
        let blocks = [
            spis(0xffff_ff00, u32::MAX),
            ports(1, 1),
            ports(65535, 65535),
        ];
        let back = decode(&encode(&blocks)).unwrap();
        assert_eq!(
            back,
            vec![
                ports(1, 1),
                ports(65535, 65535),
                spis(0xffff_ff00, u32::MAX)
            ]
        );
    }

    #[test]
    fn rejects() {
        // Empty, overlapping, impossible blocks.
        for (blocks, msg) in [
            (vec![], "without a block"),
            (vec![ports(10, 20), ports(20, 30)], "overlaps"),
            (vec![ports(20, 10)], "first above last"),
            (vec![ports(0, 10)], "ports are 1 to 65535"),
            (vec![ports(65535, 65536)], "ports are 1 to 65535"),
            (vec![spis(255, 300)], "spis are 256 to 4294967295"),
        ] {
            let e = decode(&encode(&blocks)).unwrap_err();
            assert!(e.contains(msg), "{blocks:?}: {e}");
        }
        // Ports and SPIs with the same numbers do not overlap.
        assert!(decode(&encode(&[ports(300, 400), spis(300, 400)])).is_ok());
        let too_many: Vec<Block> = (0..=MAX_BLOCKS as u32)
            .map(|i| ports(i + 1, i + 1))
            .collect();
        assert!(decode(&encode(&too_many))
            .unwrap_err()
            .contains("more than"));
        let good = encode(&[ports(40000, 40063)]);
        // Unknown kind.
        let mut bad = good.clone();
        bad[6] = 3;
        assert!(decode(&bad).is_err());
        // INTEGER instead of ENUMERATED.
        let mut bad = good.clone();
        bad[4] = 0x02;
        assert!(decode(&bad).is_err());
        // Trailing byte, truncation, indefinite length (BER, not DER).
        let mut bad = good.clone();
        bad.push(0);
        assert!(decode(&bad).is_err());
        assert!(decode(&good[..good.len() - 1]).is_err());
        let mut bad = good.clone();
        bad[1] = 0x80;
        bad.extend_from_slice(&[0, 0]);
        assert!(decode(&bad).is_err());
        // A non-minimal integer (DER forbids a needless leading 0).
        let mut bad = vec![0x30, 0x0f, 0x30, 0x0d, 0x0a, 0x01, 0x01];
        bad.extend_from_slice(&[0x02, 0x02, 0x00, 0x01]);
        bad.extend_from_slice(&[0x02, 0x03, 0x00, 0x9c, 0x7f]);
        bad[3] = (bad.len() - 4) as u8;
        bad[1] = (bad.len() - 2) as u8;
        assert!(decode(&bad).is_err());
        // Negative and 33-bit numbers.
        let mut bad = vec![0x30, 0x0d, 0x30, 0x0b, 0x0a, 0x01, 0x01];
        bad.extend_from_slice(&[0x02, 0x01, 0xff]);
        bad.extend_from_slice(&[0x02, 0x02, 0x10, 0x00]);
        bad[3] = (bad.len() - 4) as u8;
        bad[1] = (bad.len() - 2) as u8;
        assert!(decode(&bad).is_err());
        let mut bad = vec![0x30, 0x00, 0x30, 0x00, 0x0a, 0x01, 0x01];
        bad.extend_from_slice(&[0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00]);
        bad.extend_from_slice(&[0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01]);
        bad[3] = (bad.len() - 4) as u8;
        bad[1] = (bad.len() - 2) as u8;
        assert!(decode(&bad).is_err());
        assert!(decode(b"").is_err());
    }

    #[test]
    fn spans() {
        assert_eq!(
            parse_span(Kind::Ports, "40000-40063").unwrap(),
            ports(40000, 40063)
        );
        assert_eq!(
            parse_span(Kind::Spis, "0x1000-0x10ff").unwrap(),
            spis(0x1000, 0x10ff)
        );
        assert_eq!(
            parse_span(Kind::Spis, "4096-4351").unwrap().to_string(),
            "spis 0x1000-0x10ff"
        );
        assert!(parse_span(Kind::Ports, "5").is_err());
        assert!(parse_span(Kind::Ports, "0-5").is_err());
        assert!(parse_span(Kind::Spis, "1-5").is_err());
        assert!(parse_span(Kind::Ports, "9-5").is_err());
        assert!(parse_span(Kind::Ports, "a-5").is_err());
        assert_eq!(
            Block::from_count(Kind::Ports, 40000, 64),
            Some(ports(40000, 40063))
        );
        assert_eq!(Block::from_count(Kind::Ports, 1, 0), None);
        assert_eq!(Block::from_count(Kind::Spis, u32::MAX, 2), None);
        assert!(ports(40000, 40063).contains(&ports(40010, 40063)));
        assert!(!ports(40000, 40063).contains(&ports(40010, 40064)));
        assert!(!spis(40000, 40063).contains(&ports(40010, 40011)));
        assert_eq!(ports(1, 10).count(), 10);
    }
}
