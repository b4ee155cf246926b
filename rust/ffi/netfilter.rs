// SPDX-License-Identifier: GPL-2.0

//! IPv4 netfilter hooks.
//!
//! A module describes its hooks with a static table of [`HookOps`], each
//! bound to a type implementing [`NetHook`]; [`super::pernet::Pernet`]
//! registers the table in every network namespace.
//!
//! C header: [`include/linux/netfilter.h`].

use kernel::{bindings, prelude::*, types::Opaque};

use super::net::Net;
use super::skb::SkBuff;

/// What a hook decides for a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the packet continue (`NF_ACCEPT`).
    Accept,
    /// Free the packet (`NF_DROP`).
    Drop,
    /// The hook took the packet (`NF_STOLEN`); only returned by
    /// [`SkBuff`] operations that consume it.
    Stolen,
}

/// The context a hook runs in (`struct nf_hook_state`).
///
/// # Invariants
///
/// Wraps a valid `nf_hook_state` that lives for as long as the reference.
#[repr(transparent)]
pub struct HookState(Opaque<bindings::nf_hook_state>);

impl HookState {
    fn raw(&self) -> &bindings::nf_hook_state {
        // SAFETY: the state is valid and not written while the hook runs
        // (type invariant).
        unsafe { &*self.0.get() }
    }

    /// The hook number (`NF_INET_*`).
    pub fn hook(&self) -> u32 {
        u32::from(self.raw().hook)
    }

    /// The namespace the packet is in.
    pub fn net(&self) -> &Net {
        // SAFETY: netfilter runs hooks with `state->net` set to the live
        // namespace of the packet, which outlives the hook call.
        unsafe { Net::from_raw(self.raw().net) }
    }

    fn ifindex(dev: *mut bindings::net_device) -> Option<u32> {
        if dev.is_null() {
            return None;
        }
        // SAFETY: a non-null `in`/`out` device of a hook state is held by
        // the caller for the duration of the hook.
        u32::try_from(unsafe { (*dev).ifindex }).ok()
    }

    /// Index of the input interface (`PRE_ROUTING`, `LOCAL_IN`, `FORWARD`).
    pub fn in_ifindex(&self) -> Option<u32> {
        Self::ifindex(self.raw().in_)
    }

    /// Index of the output interface (`FORWARD`, `LOCAL_OUT`, `POST_ROUTING`).
    pub fn out_ifindex(&self) -> Option<u32> {
        Self::ifindex(self.raw().out)
    }
}

/// A netfilter hook function.
pub trait NetHook {
    /// Called for every IPv4 packet at the hook point. Runs in softirq or
    /// process context with RCU read-side protection; must not sleep.
    fn hook(skb: SkBuff<'_>, state: &HookState) -> Verdict;
}

/// Calls `H::hook` for a packet.
///
/// # Safety
///
/// Only netfilter may call it, as the hook function of a registered
/// [`HookOps`], with a packet and its hook state.
unsafe extern "C" fn hook_trampoline<H: NetHook>(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> c_uint {
    let Some(skb) = core::ptr::NonNull::new(skb) else {
        return bindings::NF_ACCEPT;
    };
    // The hook may consume the skb and return NF_STOLEN.
    // SAFETY: netfilter passes a valid skb, owned by this hook for the call,
    // network header at the IPv4 header, and a valid state outliving it.
    let (skb, state) = unsafe { (SkBuff::from_raw(skb), &*state.cast::<HookState>()) };
    match H::hook(skb, state) {
        Verdict::Accept => bindings::NF_ACCEPT,
        Verdict::Drop => bindings::NF_DROP,
        Verdict::Stolen => bindings::NF_STOLEN,
    }
}

/// One IPv4 hook registration template (`struct nf_hook_ops`), kept in a
/// static table.
///
/// # Invariants
///
/// `hook` is `hook_trampoline::<H>` for some `H: NetHook`, `pf` is
/// `NFPROTO_IPV4`, and the struct is only written by netfilter while it is
/// registered (its `list`/`rcu` fields are unused for per-namespace hooks).
#[repr(transparent)]
pub struct HookOps(Opaque<bindings::nf_hook_ops>);

// SAFETY: after construction the struct is only read: netfilter keeps a
// pointer to it while registered and reads `hook`, `priv`, `priority`; it is
// a static, so it outlives every registration.
unsafe impl Sync for HookOps {}

impl HookOps {
    /// A hook of `H` at `hooknum` (`NF_INET_*`) with `priority`.
    pub const fn new<H: NetHook>(hooknum: u32, priority: i32) -> Self {
        let mut ops: bindings::nf_hook_ops = pin_init::zeroed();
        ops.hook = Some(hook_trampoline::<H>);
        ops.pf = bindings::NFPROTO_IPV4 as u8;
        ops.hooknum = hooknum;
        ops.priority = priority;
        Self(Opaque::new(ops))
    }
}

/// A table of hooks registered in one namespace.
///
/// # Invariants
///
/// `ops` is registered in `net` (by [`NetHooks::register`]) until `drop`.
pub struct NetHooks {
    net: *mut bindings::net,
    ops: &'static [HookOps],
}

impl NetHooks {
    /// Registers `ops` in `net`.
    pub fn register(net: &Net, ops: &'static [HookOps]) -> Result<Self> {
        let n = c_uint::try_from(ops.len()).map_err(|_| EINVAL)?;
        // SAFETY: `net` is live; `ops` is a static array of valid
        // `nf_hook_ops` (transparent wrappers) that outlives the
        // registration. On failure nothing stays registered.
        kernel::error::to_result(unsafe {
            bindings::nf_register_net_hooks(net.as_ptr(), ops.as_ptr().cast(), n)
        })?;
        Ok(Self {
            net: net.as_ptr(),
            ops,
        })
    }
}

impl Drop for NetHooks {
    fn drop(&mut self) {
        // This does not wait for hooks running on other CPUs: the owner lets
        // a grace period pass before freeing what the hooks use.
        // SAFETY: registered in `self.net` (type invariant), alive: we are
        // kept in per-namespace state, dropped in its pre_exit callback or
        // by a request from a socket in the namespace, which keeps it alive.
        unsafe {
            bindings::nf_unregister_net_hooks(
                self.net,
                self.ops.as_ptr().cast(),
                self.ops.len() as c_uint,
            )
        };
    }
}

// SAFETY: `NetHooks` is only a handle used to unregister; the namespace
// pointer may be used from any thread.
unsafe impl Send for NetHooks {}
// SAFETY: `&NetHooks` exposes nothing.
unsafe impl Sync for NetHooks {}
