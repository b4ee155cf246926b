// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`) as netfilter hooks see them.
//!
//! C header: [`include/linux/skbuff.h`].

use kernel::{bindings, types::Opaque};

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

    /// Whether the packet has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
