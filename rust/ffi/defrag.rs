// SPDX-License-Identifier: GPL-2.0

//! IPv4 defragmentation before the hooks (`nf_defrag_ipv4`).
//!
//! C header: [`include/net/netfilter/ipv4/nf_defrag_ipv4.h`].

use kernel::{bindings, prelude::*};

use crate::ffi::net::Net;

/// Defragmentation enabled in one namespace: netfilter reassembles IPv4
/// fragments at priority -400, before the dnat hooks (-350).
///
/// # Invariants
///
/// `nf_defrag_ipv4_enable` succeeded for `net`; it is undone exactly once,
/// on drop. The owner keeps it in the namespace's state, dropped while the
/// namespace is alive.
pub struct Defrag {
    net: *mut bindings::net,
}

// SAFETY: a handle to undo a per-namespace setting; usable from any thread.
unsafe impl Send for Defrag {}
// SAFETY: `&Defrag` exposes nothing.
unsafe impl Sync for Defrag {}

impl Defrag {
    /// Enables defragmentation in `net` (reference counted by netfilter).
    pub fn enable(net: &Net) -> Result<Self> {
        // SAFETY: `net` is live; may sleep (process context: netlink).
        kernel::error::to_result(unsafe { bindings::nf_defrag_ipv4_enable(net.as_ptr()) })?;
        Ok(Self { net: net.as_ptr() })
    }
}

impl Drop for Defrag {
    fn drop(&mut self) {
        // SAFETY: enabled for `self.net`, which is alive (type invariant).
        unsafe { bindings::nf_defrag_ipv4_disable(self.net) };
    }
}
