// SPDX-License-Identifier: GPL-2.0

//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! PAP messages, ICMP, IPv4 headers, TCP and UDP all carry the 16-bit one's
//! complement of the one's complement sum of their 16-bit big-endian words.
//! [`checksum`] computes that value over a byte slice (an odd trailing byte
//! is padded with a zero byte), [`verify`] checks a buffer that contains its
//! own checksum field, and [`update16`]/[`update32`] fix a checksum after one
//! 16-bit word or one 32-bit value of the covered data changed, without
//! reading the rest of the data (the host rewrites TCP/UDP ports with them).
//!
//! Sums are carried as `u16` values that are already folded (end-around
//! carry applied). Nothing here can overflow or panic, whatever the input.

/// Adds two folded one's complement sums (end-around carry).
pub const fn add(a: u16, b: u16) -> u16 {
    let s = a as u32 + b as u32;
    // `s <= 0x1fffe`, so one fold is enough: `(s & 0xffff) + 1 <= 0xffff`.
    ((s & 0xffff) + (s >> 16)) as u16
}

/// Folds a 32-bit accumulator into a 16-bit one's complement sum.
pub const fn fold(sum: u32) -> u16 {
    let s = (sum & 0xffff) + (sum >> 16); // <= 0x1fffe
    ((s & 0xffff) + (s >> 16)) as u16
}

/// One's complement sum of `data` as 16-bit big-endian words, added to the
/// folded sum `initial` (0 to start).
///
/// An odd trailing byte is the high byte of a last word whose low byte is
/// zero. To sum several slices in a row (a pseudo-header, then a segment),
/// every slice but the last must have an even length.
pub fn sum(data: &[u8], initial: u16) -> u16 {
    let mut acc = initial;
    // A chunk has at most 32768 words of at most 0xffff each, so its sum
    // stays below 2^31 and fits the u32 accumulator.
    for chunk in data.chunks(1 << 16) {
        let mut s: u32 = 0;
        let mut words = chunk.chunks_exact(2);
        for w in &mut words {
            if let [hi, lo] = *w {
                s += u32::from(u16::from_be_bytes([hi, lo]));
            }
        }
        if let [last] = *words.remainder() {
            s += u32::from(last) << 8;
        }
        acc = add(acc, fold(s));
    }
    acc
}

/// The checksum of `data`: the one's complement of its sum, the value to
/// store in a checksum field that was zero while summing.
///
/// For data with at least one nonzero word the result is never 0xffff, so
/// it is the unique canonical value (see [`verify`]).
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data, 0)
}

/// Whether `data`, checksum field included, sums to 0xffff (negative zero),
/// i.e. whether its checksum is right.
///
/// Both representations of zero are accepted in the checksum field, as
/// RFC 1071 receivers do; a decoder that wants one canonical encoding (PAP
/// does) compares the field with [`checksum`] computed with the field zeroed
/// instead.
pub fn verify(data: &[u8]) -> bool {
    sum(data, 0) == 0xffff
}

/// The checksum after a 16-bit word of the covered data changed from `old`
/// to `new` (RFC 1624, equation 3: `HC' = ~(~HC + ~m + m')`).
///
/// The word must lie at an even offset of the checksummed data (TCP and UDP
/// ports, IPv4 address halves do). Given the canonical checksum of the old
/// data, the result equals a full recomputation over the new data, unless
/// the new data is all zero (then it is 0x0000 where [`checksum`] gives
/// 0xffff; both verify).
pub const fn update16(check: u16, old: u16, new: u16) -> u16 {
    !add(add(!check, !old), new)
}

/// The checksum after a 32-bit value (two adjacent words, at an even offset)
/// of the covered data changed from `old` to `new`, e.g. an IPv4 address in
/// a TCP/UDP pseudo-header.
pub const fn update32(check: u16, old: u32, new: u32) -> u16 {
    let c = update16(check, (old >> 16) as u16, (new >> 16) as u16);
    update16(c, old as u16, new as u16)
}

/// [`update16`] for a UDP checksum field: 0 means "no checksum" and stays 0,
/// and a computed 0 is sent as 0xffff (RFC 768).
pub const fn udp_update16(check: u16, old: u16, new: u16) -> u16 {
    if check == 0 {
        return 0;
    }
    match update16(check, old, new) {
        0 => 0xffff,
        c => c,
    }
}

/// [`update32`] for a UDP checksum field (see [`udp_update16`]).
pub const fn udp_update32(check: u16, old: u32, new: u32) -> u16 {
    if check == 0 {
        return 0;
    }
    match update32(check, old, new) {
        0 => 0xffff,
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// xorshift64*: deterministic, no crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Straightforward reference: u64 accumulator, fold at the end.
    fn reference_checksum(data: &[u8]) -> u16 {
        let mut s: u64 = 0;
        let mut i = 0;
        while i < data.len() {
            let hi = u64::from(data[i]);
            let lo = data.get(i + 1).copied().map_or(0, u64::from);
            s += (hi << 8) | lo;
            i += 2;
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data, 0), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(checksum(&data), 0x220d);
    }

    #[test]
    fn ipv4_header_example() {
        // A classic IPv4 header (20 bytes, checksum field at offset 10):
        // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verify(&hdr));
        hdr[10] = 0;
        hdr[11] = 0;
        assert_eq!(checksum(&hdr), 0xb861);
        assert!(!verify(&hdr));
    }

    #[test]
    fn odd_lengths() {
        // A trailing byte is the high byte of a zero-padded word.
        assert_eq!(sum(&[0xab], 0), 0xab00);
        assert_eq!(sum(&[0x12, 0x34, 0x56], 0), 0x1234 + 0x5600);
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0x00]), 0xffff);
        // Carries wrap around: ffff + 0001 = 0001 (+1 carry folded).
        assert_eq!(sum(&[0xff, 0xff, 0x00, 0x01], 0), 0x0001);
        assert_eq!(sum(&[0xff, 0xff, 0xff, 0xff], 0), 0xffff);
        assert_eq!(add(0xffff, 0x0000), 0xffff);
        assert_eq!(add(0x8000, 0x8000), 0x0001);
        assert_eq!(fold(0xffff_ffff), 0xffff);
        assert_eq!(fold(0x0001_fffe), 0xffff);
    }

    #[test]
    fn sum_chains_even_slices() {
        let data: Vec<u8> = (0..1001u32).map(|i| (i * 7 + 3) as u8).collect();
        let (a, b) = data.split_at(500);
        assert_eq!(sum(b, sum(a, 0)), sum(&data, 0));
    }

    #[test]
    fn long_buffers_match_reference() {
        // Longer than one internal chunk, with carries in every chunk.
        let data = [0xffu8; 200_001];
        assert_eq!(checksum(&data), reference_checksum(&data));
        let mut rng = Rng(7);
        let data: Vec<u8> = (0..150_001).map(|_| rng.next() as u8).collect();
        assert_eq!(checksum(&data), reference_checksum(&data));
    }

    #[test]
    fn random_buffers_match_reference_and_verify() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..5000 {
            let len = rng.below(80);
            let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            assert_eq!(checksum(&data), reference_checksum(&data));
            if len >= 4 {
                // Store the checksum in an even-offset field: it verifies.
                let off = 2 * rng.below(len / 2);
                data[off] = 0;
                data[off + 1] = 0;
                let c = checksum(&data);
                data[off..off + 2].copy_from_slice(&c.to_be_bytes());
                assert!(verify(&data));
                data[off] ^= 0x01;
                assert!(!verify(&data));
            }
        }
    }

    #[test]
    fn update_known_vectors() {
        // RFC 1624 section 4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285
        // gives HC' = 0x0000 (equation 3), not 0xffff (equation 2).
        assert_eq!(update16(0xdd2f, 0x5555, 0x3285), 0x0000);
        // UDP keeps "no checksum" and never emits 0.
        assert_eq!(udp_update16(0, 0x1234, 0x4321), 0);
        assert_eq!(udp_update16(0xdd2f, 0x5555, 0x3285), 0xffff);
        assert_eq!(udp_update32(0, 1, 2), 0);
        // IPv4 header: change the source address 192.168.0.1 -> 10.0.0.1.
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let c = update32(0xb861, 0xc0a8_0001, 0x0a00_0001);
        hdr[12..16].copy_from_slice(&[10, 0, 0, 1]);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verify(&hdr));
        hdr[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(checksum(&hdr), c);
    }

    /// Property: an incremental update equals a full recomputation.
    #[test]
    fn incremental_update_matches_recomputation() {
        let mut rng = Rng(0xdead_beef_cafe_f00d);
        for round in 0..20_000 {
            let words = 2 + rng.below(40);
            let mut data: Vec<u8> = (0..2 * words)
                .map(|_| {
                    // Bias towards 0x00 and 0xff to provoke carries and zeros.
                    match rng.below(4) {
                        0 => 0x00,
                        1 => 0xff,
                        _ => rng.next() as u8,
                    }
                })
                .collect();
            if round % 2 == 1 {
                data.push(rng.next() as u8); // odd length, word before the end
            }
            let before = checksum(&data);
            let wide = round % 3 == 0;
            let off = 2 * rng.below(words - usize::from(wide));
            let new_data = {
                let mut d = data.clone();
                let n = if wide { 4 } else { 2 };
                for b in &mut d[off..off + n] {
                    *b = if rng.below(5) == 0 {
                        0
                    } else {
                        rng.next() as u8
                    };
                }
                d
            };
            let after = if wide {
                let old =
                    u32::from_be_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]]);
                let new = u32::from_be_bytes([
                    new_data[off],
                    new_data[off + 1],
                    new_data[off + 2],
                    new_data[off + 3],
                ]);
                update32(before, old, new)
            } else {
                let old = u16::from_be_bytes([data[off], data[off + 1]]);
                let new = u16::from_be_bytes([new_data[off], new_data[off + 1]]);
                update16(before, old, new)
            };
            if new_data.iter().all(|&b| b == 0) {
                // The one documented difference: negative zero.
                assert_eq!(after, 0);
                assert_eq!(checksum(&new_data), 0xffff);
            } else {
                assert_eq!(after, checksum(&new_data), "round {round}");
            }
        }
    }
}
