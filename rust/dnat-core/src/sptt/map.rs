// SPDX-License-Identifier: GPL-2.0

//! The port-indexed arrays and bitmaps: element access, timestamps and
//! ages, scans for a set or clear bit, and the per-protocol tables.

use core::sync::atomic::{AtomicU32, Ordering};

use super::super::pap::PortBlock;
use super::{Bitmap, PortMap, Proto, StateMap, TimeMap, PORT_SPACE};

/// `a[port]`: cannot fail, a `u16` is below every array's length.
#[inline(always)]
pub(super) fn at<T>(a: &[T; PORT_SPACE], port: u16) -> &T {
    &a[usize::from(port)]
}

/// Index of `port`'s word in a bitmap (at most 1,023) and its bit.
#[inline(always)]
pub(super) fn bit(port: u16) -> (usize, u64) {
    (usize::from(port >> 6), 1u64 << (port & 63))
}

/// Stores `now` unless already there (one store per second per entry).
#[inline(always)]
pub(super) fn touch(t: &AtomicU32, now: u32) {
    if t.load(Ordering::Relaxed) != now {
        t.store(now, Ordering::Relaxed);
    }
}

/// `now - then` in seconds; 0 when `then` is ahead (a reader on another
/// CPU stored a later `now`), ages of 2^31 s or more are not expected.
pub(super) const fn age(now: u32, then: u32) -> u32 {
    let a = now.wrapping_sub(then);
    if a > i32::MAX as u32 {
        0
    } else {
        a
    }
}

/// Highest port of a checked block.
pub(super) fn last_port(b: &PortBlock) -> u16 {
    let last = u32::from(b.lowest) + u32::from(b.count.max(1)) - 1;
    u16::try_from(last).unwrap_or(u16::MAX)
}

/// The first port in `from..=hi` whose bit in `map` equals `set`: a scan
/// of at most `(hi - from) / 64 + 1` words.
pub(super) fn scan(map: &Bitmap, from: u32, hi: u16, set: bool) -> Option<u16> {
    let hi = u32::from(hi);
    if from > hi {
        return None;
    }
    let last = (hi >> 6) as usize;
    let mut i = (from >> 6) as usize;
    let mut low = !0u64 << (from & 63);
    while i <= last {
        let w = *map.get(i)?;
        let mut m = (if set { w } else { !w }) & low;
        if i == last {
            m &= !0u64 >> (63 - (hi & 63));
        }
        if m != 0 {
            return u16::try_from(i * 64 + m.trailing_zeros() as usize).ok();
        }
        low = !0;
        i += 1;
    }
    None
}

/// The bits of word `i` for ports `lo..=hi`.
pub(super) fn word_mask(i: usize, lo: u16, hi: u16) -> u64 {
    let base = i * 64;
    let (lo, hi) = (usize::from(lo), usize::from(hi));
    if hi < base || lo > base + 63 {
        return 0;
    }
    let s = lo.saturating_sub(base);
    let e = hi.min(base + 63) - base;
    (!0u64 << s) & (!0u64 >> (63 - e))
}

/// A value per protocol.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PerProto<T> {
    pub(super) tcp: T,
    pub(super) udp: T,
}

impl<T> PerProto<T> {
    pub(super) fn get(&self, p: Proto) -> &T {
        match p {
            Proto::Tcp => &self.tcp,
            Proto::Udp => &self.udp,
        }
    }
    pub(super) fn get_mut(&mut self, p: Proto) -> &mut T {
        match p {
            Proto::Tcp => &mut self.tcp,
            Proto::Udp => &mut self.udp,
        }
    }
}

/// One protocol's reader-side arrays.
#[derive(Clone, Copy)]
pub(super) struct Tables<'a> {
    pub(super) out: &'a PortMap,
    pub(super) back: &'a PortMap,
    pub(super) last_use: &'a TimeMap,
    pub(super) state: &'a StateMap,
}
