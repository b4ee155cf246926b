// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`) as netfilter hooks see them.
//!
//! C header: [`include/linux/skbuff.h`].

use kernel::{bindings, prelude::*, types::Opaque};

/// A packet borrowed by a hook.
///
/// # Invariants
///
/// Wraps a valid `sk_buff` that the caller owns for as long as the reference
/// lives.
#[repr(transparent)]
pub struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// Borrows a packet.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` that is not freed, and not
    /// accessed in a conflicting way, for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a SkBuff {
        // SAFETY: transparent wrapper; validity is the caller's guarantee.
        unsafe { &*ptr.cast::<SkBuff>() }
    }

    /// Length of the packet from its current data pointer (for an IPv4 hook:
    /// from the IP header), linear and paged parts together.
    pub fn len(&self) -> u32 {
        // SAFETY: the skb is valid (type invariant); `len` is a plain field.
        unsafe { (*self.0.get()).len }
    }

    /// Copies `buf.len()` bytes of the packet, from `offset` bytes after the
    /// network (IPv4) header's start, into `buf`, whether they are in the
    /// linear part or in fragments. Fails if the packet is shorter.
    pub fn copy_from_network(&self, offset: usize, buf: &mut [u8]) -> Result {
        let skb = self.0.get();
        // SAFETY: the skb is valid (type invariant).
        let nh = unsafe { bindings::skb_network_offset(skb) };
        let off = c_int::try_from(offset).map_err(|_| EINVAL)?;
        let len = c_int::try_from(buf.len()).map_err(|_| EINVAL)?;
        let start = nh.checked_add(off).ok_or(EINVAL)?;
        // SAFETY: `buf` is writable for `len` bytes; `skb_header_pointer`
        // checks the bounds against the packet and returns null, a pointer
        // into the packet's linear data, or `buf` after copying into it.
        let p = unsafe { bindings::skb_header_pointer(skb, start, len, buf.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(EINVAL);
        }
        if p.cast::<u8>() != buf.as_mut_ptr() {
            // SAFETY: `p` points to `len` readable bytes of linear data that
            // do not overlap `buf`.
            unsafe { core::ptr::copy_nonoverlapping(p.cast::<u8>(), buf.as_mut_ptr(), buf.len()) };
        }
        Ok(())
    }

    /// Whether the packet has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
