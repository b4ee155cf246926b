// SPDX-License-Identifier: GPL-2.0

//! Network namespaces (`struct net`) and interface lookup.
//!
//! C headers: [`include/net/net_namespace.h`], [`include/linux/netdevice.h`].

use core::ffi::c_int;

use kernel::{bindings, error::to_result, prelude::*, sync::rcu, types::Opaque};

/// The index of the loopback device, the same in every namespace
/// (`LOOPBACK_IFINDEX`): what the stack sends to its own addresses comes
/// back in through it.
pub const LOOPBACK_IFINDEX: u32 = bindings::LOOPBACK_IFINDEX;

/// A network namespace.
///
/// # Invariants
///
/// A `&Net` always refers to a live `struct net`: whoever creates the
/// reference guarantees that the namespace outlives it (a netfilter hook runs
/// inside the namespace, a netlink request holds its socket's reference, and
/// pernet `init`/`exit` callbacks run while it exists).
#[repr(transparent)]
pub struct Net(Opaque<bindings::net>);

impl Net {
    /// Borrows a `struct net`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `struct net` that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `bindings::net`, and the
        // caller guarantees that `ptr` is valid for `'a`.
        unsafe { &*ptr.cast::<Net>() }
    }

    /// The raw pointer, for calls into C.
    pub fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// The namespace's generic netlink socket (`net->genl_sock`), valid
    /// while the namespace lives: generic netlink creates it before any
    /// module's per-namespace state and releases it after.
    pub fn genl_sock(&self) -> *mut bindings::sock {
        // SAFETY: live namespace (type invariant); a plain field read.
        unsafe { (*self.as_ptr()).genl_sock }
    }

    /// The index of the interface called `name` (with NUL) in this
    /// namespace, or `None` if there is none.
    pub fn ifindex_by_name(&self, name_with_nul: &[u8]) -> Option<u32> {
        if name_with_nul.last() != Some(&0) {
            return None;
        }
        let _guard = rcu::read_lock();
        // SAFETY: live namespace (type invariant), NUL-terminated name, and
        // the RCU read lock held for the lookup and the read below.
        let dev =
            unsafe { bindings::dev_get_by_name_rcu(self.as_ptr(), name_with_nul.as_ptr().cast()) };
        if dev.is_null() {
            return None;
        }
        // SAFETY: `dev` is non-null and, under the RCU read lock, points to a
        // net_device that is not freed before the guard is dropped.
        let ifindex = unsafe { (*dev).ifindex };
        u32::try_from(ifindex).ok()
    }

    /// The namespace's ephemeral port range
    /// (`net.ipv4.ip_local_port_range`): lowest and highest port.
    pub fn local_port_range(&self) -> (u16, u16) {
        let (mut low, mut high): (c_int, c_int) = (0, 0);
        // SAFETY: live namespace (type invariant); the pointers are to
        // locals.
        unsafe { bindings::inet_get_local_port_range(self.as_ptr(), &mut low, &mut high) };
        // The kernel keeps each half in 16 bits.
        (low as u16, high as u16)
    }

    /// Sets the ephemeral port range with the sysctl's checks
    /// (`inet_set_local_port_range`): `EINVAL`, and nothing changed, if
    /// `low` is 0, above `high`, or below the namespace's
    /// `ip_unprivileged_port_start`.
    pub fn set_local_port_range(&self, low: u16, high: u16) -> Result {
        // SAFETY: live namespace (type invariant).
        to_result(unsafe {
            bindings::inet_set_local_port_range(self.as_ptr(), c_int::from(low), c_int::from(high))
        })
    }
}

/// The initial network namespace.
pub fn init_net() -> &'static Net {
    // SAFETY: `init_net` is a static that lives as long as the kernel.
    unsafe { Net::from_raw(&raw mut bindings::init_net) }
}
