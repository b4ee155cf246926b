// SPDX-License-Identifier: GPL-2.0

//! SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed PRF that
//! authenticates PAP (`pap_auth.rs`): a 128-bit key, any input, a 64-bit
//! output. The input may be given in pieces; the result is that of their
//! concatenation. The same function as the kernel's `siphash()` and the
//! reference implementation (tested against its vectors).

/// A SipHash-2-4 key: 16 bytes, read as two little-endian words.
pub type Key = [u8; 16];

/// SipHash-2-4 state over a stream of bytes.
///
/// # Invariants
///
/// `tail` holds the `len % 8` bytes not yet compressed, in its low bytes.
#[derive(Clone, Copy)]
pub struct SipHasher {
    v: [u64; 4],
    tail: u64,
    len: u64,
}

const fn word(k: &Key, at: usize) -> u64 {
    u64::from_le_bytes([
        k[at],
        k[at + 1],
        k[at + 2],
        k[at + 3],
        k[at + 4],
        k[at + 5],
        k[at + 6],
        k[at + 7],
    ])
}

impl SipHasher {
    /// A hasher under `key`.
    pub const fn new(key: &Key) -> Self {
        let (k0, k1) = (word(key, 0), word(key, 8));
        Self {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            len: 0,
        }
    }

    fn round(&mut self) {
        let [v0, v1, v2, v3] = &mut self.v;
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.round();
        self.v[0] ^= m;
    }

    /// Adds `data` to the input.
    pub fn write(&mut self, data: &[u8]) {
        for &b in data {
            let fill = (self.len % 8) as u32;
            self.tail |= u64::from(b) << (8 * fill);
            self.len = self.len.wrapping_add(1);
            if fill == 7 {
                let m = self.tail;
                self.tail = 0;
                self.compress(m);
            }
        }
    }

    /// The 64-bit result.
    pub fn finish(mut self) -> u64 {
        let m = self.tail | (self.len & 0xff) << 56;
        self.compress(m);
        self.v[2] ^= 0xff;
        for _ in 0..4 {
            self.round();
        }
        let [v0, v1, v2, v3] = self.v;
        v0 ^ v1 ^ v2 ^ v3
    }
}

/// SipHash-2-4 of the concatenation of `parts` under `key`.
pub fn siphash(key: &Key, parts: &[&[u8]]) -> u64 {
    let mut h = SipHasher::new(key);
    for p in parts {
        h.write(p);
    }
    h.finish()
}

/// SipHash-C-D of the 8-byte message `m` (its little-endian bytes) under
/// the key words `k`.
#[inline(always)]
const fn sip_word<const C: usize, const D: usize>(k: [u64; 2], m: u64) -> u64 {
    const fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let mut v = [
        k[0] ^ 0x736f_6d65_7073_6575,
        k[1] ^ 0x646f_7261_6e64_6f6d,
        k[0] ^ 0x6c79_6765_6e65_7261,
        k[1] ^ 0x7465_6462_7974_6573,
    ];
    let blocks = [m, 8u64 << 56];
    let mut b = 0;
    while b < blocks.len() {
        v[3] ^= blocks[b];
        let mut i = 0;
        while i < C {
            round(&mut v);
            i += 1;
        }
        v[0] ^= blocks[b];
        b += 1;
    }
    v[2] ^= 0xff;
    let mut i = 0;
    while i < D {
        round(&mut v);
        i += 1;
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// SipHash-1-3 of one 64-bit word `m` (as its 8 little-endian bytes) under
/// the key words `k`: the bucket hash of the router's tables, keyed by a
/// secret drawn per namespace. On 64-bit machines the kernel's `hsiphash`
/// of the same 8 bytes is this value's low 32 bits. Not for
/// authentication (PAP uses [`siphash`], SipHash-2-4).
pub const fn siphash13_word(k: [u64; 2], m: u64) -> u64 {
    sip_word::<1, 3>(k, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Key = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    /// The first vectors of the reference implementation's `vectors.h`
    /// (key 00..0f, input 00 01 .. n-1), as little-endian bytes.
    const VECTORS: [[u8; 8]; 9] = [
        [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72],
        [0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74],
        [0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d],
        [0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85],
        [0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf],
        [0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18],
        [0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb],
        [0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab],
        [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93],
    ];

    #[test]
    fn reference_vectors() {
        let input: [u8; 64] = core::array::from_fn(|i| i as u8);
        for (n, want) in VECTORS.iter().enumerate() {
            assert_eq!(
                siphash(&KEY, &[&input[..n]]),
                u64::from_le_bytes(*want),
                "len {n}"
            );
        }
    }

    /// `core::hash::SipHasher` is SipHash-2-4 too: every length up to 64,
    /// written in one piece or split anywhere, gives its result.
    #[test]
    #[allow(deprecated)]
    fn matches_core_siphasher_in_pieces() {
        use core::hash::Hasher;
        let input: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(37));
        for n in 0..=64 {
            let mut c = core::hash::SipHasher::new_with_keys(word(&KEY, 0), word(&KEY, 8));
            c.write(&input[..n]);
            let want = c.finish();
            for split in 0..=n {
                let (a, b) = input[..n].split_at(split);
                assert_eq!(siphash(&KEY, &[a, b]), want, "len {n} split {split}");
            }
        }
    }

    #[test]
    fn one_word_hashes() {
        // The word routine is SipHash: with 2-4 rounds it is `siphash` of
        // the word's 8 bytes.
        let mut x = 0x0123_4567_89ab_cdefu64;
        for _ in 0..1000 {
            x = x.rotate_left(7).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x55;
            let k = [x.rotate_left(13), !x];
            let mut kb = [0u8; 16];
            kb[..8].copy_from_slice(&k[0].to_le_bytes());
            kb[8..].copy_from_slice(&k[1].to_le_bytes());
            assert_eq!(sip_word::<2, 4>(k, x), siphash(&kb, &[&x.to_le_bytes()]));
        }
        // With 1-3 rounds it is the kernel's 64-bit hsiphash
        // (lib/tests/siphash_kunit.c: key 00..0f, input 00..07).
        let k = [word(&KEY, 0), word(&KEY, 8)];
        let m = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(siphash13_word(k, m) as u32, 0x8d29_9a8e);
        assert_ne!(siphash13_word(k, m), siphash13_word(k, m ^ 1));
        assert_ne!(siphash13_word(k, m), siphash13_word([k[0], k[1] ^ 1], m));
    }

    #[test]
    fn key_matters() {
        let mut k = KEY;
        k[15] ^= 1;
        assert_ne!(siphash(&KEY, &[b"pap"]), siphash(&k, &[b"pap"]));
    }
}
