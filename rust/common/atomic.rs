// SPDX-License-Identifier: GPL-2.0

//! The atomics of the modules' own state (settings read on the packet path,
//! counters), over `core::sync::atomic`.
//!
//! `kernel::sync::atomic` implements every operation by calling a C helper
//! (`atomic_read`, `atomic64_add`, ...), which is not inlined into a module:
//! a profile of the host benchmark showed those calls among the costs of
//! each packet. These are the same operations as single instructions (on
//! x86-64: a plain load or store, `lock xadd`). Only relaxed operations
//! are offered: the values are independent words (settings, counters)
//! whose readers need no ordering with other memory; what needs ordering
//! (the tables) uses acquire/release in `dnat-core`.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

pub use core::sync::atomic::Ordering::Relaxed;

/// The `core` atomic type of a primitive.
pub trait Prim {
    /// The atomic type.
    type Repr;
}

impl Prim for u32 {
    type Repr = AtomicU32;
}

impl Prim for u64 {
    type Repr = AtomicU64;
}

/// An atomic `u32` or `u64`.
#[repr(transparent)]
pub struct Atomic<T: Prim>(T::Repr);

macro_rules! impl_atomic {
    ($t:ty, $a:ty) => {
        impl Atomic<$t> {
            /// A new atomic holding `v`.
            pub const fn new(v: $t) -> Self {
                Self(<$a>::new(v))
            }

            /// Loads the value.
            #[inline]
            pub fn load(&self, o: Ordering) -> $t {
                self.0.load(o)
            }

            /// Stores `v`.
            #[inline]
            pub fn store(&self, v: $t, o: Ordering) {
                self.0.store(v, o)
            }

            /// Adds `v` (wrapping).
            #[inline]
            pub fn add(&self, v: $t, o: Ordering) {
                self.0.fetch_add(v, o);
            }
        }
    };
}

impl_atomic!(u32, AtomicU32);
impl_atomic!(u64, AtomicU64);
