// SPDX-License-Identifier: GPL-2.0

//! RCU grace-period polling, the kernel clocks the tables use, and random
//! numbers.
//!
//! C headers: [`include/linux/rcupdate.h`], [`include/linux/timekeeping.h`].

use core::marker::PhantomData;

use kernel::{bindings, sync::rcu::Guard};

/// Proof that the holder is inside an RCU read-side critical section for
/// `'a`: taken from a [`Guard`], or, without a call, where the context
/// guarantees one (a netfilter hook runs inside one: `nf_hook` holds
/// `rcu_read_lock` around the hook functions).
#[derive(Clone, Copy)]
pub struct ReadSide<'a>(PhantomData<&'a ()>);

impl<'a> ReadSide<'a> {
    /// The section a guard holds.
    pub fn from_guard(_guard: &'a Guard) -> Self {
        Self(PhantomData)
    }

    /// The section the caller is in.
    ///
    /// # Safety
    ///
    /// The caller is inside an RCU read-side critical section for all of
    /// `'a`.
    pub unsafe fn assume() -> Self {
        Self(PhantomData)
    }
}

/// A point in RCU time: [`GraceCookie::elapsed`] tells, without blocking,
/// whether a full grace period has passed since it was taken
/// (`get_state_synchronize_rcu` / `poll_state_synchronize_rcu`).
#[derive(Debug, Clone, Copy)]
pub struct GraceCookie(kernel::ffi::c_ulong);

impl GraceCookie {
    /// Takes a cookie now. Callable from any context.
    pub fn now() -> Self {
        // SAFETY: no preconditions.
        Self(unsafe { bindings::get_state_synchronize_rcu() })
    }

    /// Whether a grace period has elapsed since the cookie was taken.
    pub fn elapsed(&self) -> bool {
        // SAFETY: no preconditions; the cookie came from
        // `get_state_synchronize_rcu`.
        unsafe { bindings::poll_state_synchronize_rcu(self.0) }
    }
}

/// Seconds on the monotonic clock (`ktime_get_seconds`).
pub fn monotonic_seconds() -> u64 {
    // SAFETY: no preconditions.
    u64::try_from(unsafe { bindings::ktime_get_seconds() }).unwrap_or(0)
}

/// Seconds since the epoch (`ktime_get_real_seconds`).
pub fn real_seconds() -> u64 {
    // SAFETY: no preconditions.
    u64::try_from(unsafe { bindings::ktime_get_real_seconds() }).unwrap_or(0)
}

/// A random 32-bit value from the kernel's CRNG (`get_random_u32`), e.g.
/// to seed transaction ids.
pub fn random_u32() -> u32 {
    // SAFETY: no preconditions; callable from any context.
    unsafe { bindings::get_random_u32() }
}
