// SPDX-License-Identifier: GPL-2.0

//! The keys: SipHash of `(address, SPI)`, the encoding of a bucket's key
//! and value and of a blacklist entry, and the buckets themselves.

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::super::alloc_table::Slot;
use super::super::config::SPI_FIRST_ALLOCATABLE;
use super::{Seed, BLACKLIST_PER_HOST, DIST_SHIFT, SLOT_MASK};

#[inline(always)]
fn sip_round(v: &mut (u64, u64, u64, u64)) {
    v.0 = v.0.wrapping_add(v.1);
    v.1 = v.1.rotate_left(13) ^ v.0;
    v.0 = v.0.rotate_left(32);
    v.2 = v.2.wrapping_add(v.3);
    v.3 = v.3.rotate_left(16) ^ v.2;
    v.0 = v.0.wrapping_add(v.3);
    v.3 = v.3.rotate_left(21) ^ v.0;
    v.2 = v.2.wrapping_add(v.1);
    v.1 = v.1.rotate_left(17) ^ v.2;
    v.2 = v.2.rotate_left(32);
}

/// SipHash-C-D of the 8-byte message `m` (its little-endian bytes) under
/// `key`.
#[inline(always)]
pub(super) fn siphash<const C: usize, const D: usize>(key: Seed, m: u64) -> u64 {
    let [k0, k1] = key.0;
    let mut v = (
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    );
    for w in [m, 8u64 << 56] {
        v.3 ^= w;
        for _ in 0..C {
            sip_round(&mut v);
        }
        v.0 ^= w;
    }
    v.2 ^= 0xff;
    for _ in 0..D {
        sip_round(&mut v);
    }
    v.0 ^ v.1 ^ v.2 ^ v.3
}

#[inline(always)]
pub(super) fn key_of(addr: Ipv4Addr, spi: u32) -> u64 {
    (u64::from(u32::from(addr)) << 32) | u64::from(spi)
}

#[inline(always)]
pub(super) fn is_live(k: u64) -> bool {
    k as u32 >= SPI_FIRST_ALLOCATABLE
}

pub(super) fn slot_of(v: u32) -> Slot {
    (v & SLOT_MASK) as u16
}

pub(super) fn dist_of(v: u32) -> usize {
    ((v >> DIST_SHIFT) & 0xff) as usize
}

pub(super) fn value(slot: Slot, dist: usize) -> u32 {
    u32::from(slot) | (((dist & 0xff) as u32) << DIST_SHIFT)
}

pub(super) fn slot_index(slot: Slot) -> Option<usize> {
    usize::from(slot).checked_sub(1)
}

/// One bucket of the SA hash table (reader-side; fields private).
#[derive(Debug, Default)]
pub struct SaBucket {
    pub(super) key: AtomicU64,
    pub(super) val: AtomicU32,
}

/// One host slot's blacklist (reader-side; fields private).
#[derive(Debug, Default)]
pub struct BlacklistSlot {
    pub(super) used: AtomicU32,
    pub(super) entries: [AtomicU64; BLACKLIST_PER_HOST],
}

pub(super) fn bl_word(addr: Option<Ipv4Addr>, spi: Option<u32>) -> u64 {
    (u64::from(addr.map_or(0, u32::from)) << 32) | u64::from(spi.unwrap_or(0))
}

pub(super) fn bl_matches(e: u64, src: u32, spi: u32) -> bool {
    let (ea, es) = ((e >> 32) as u32, e as u32);
    e != 0 && (ea == 0 || ea == src) && (es == 0 || es == spi)
}

pub(super) fn bl_find(b: &BlacklistSlot, used: u32, w: u64) -> Option<usize> {
    let mut m = used;
    while m != 0 {
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        if b.entries.get(i)?.load(Ordering::Relaxed) == w {
            return Some(i);
        }
    }
    None
}
