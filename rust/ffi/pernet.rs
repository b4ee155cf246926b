// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state (`struct pernet_operations`).
//!
//! A module keeps one [`Pernet<T>`] in a static. Once registered, every
//! network namespace (existing and future) gets its own `T`, built in place
//! in the memory the kernel allocates for the namespace, and, after `T` is
//! built, the module's netfilter hooks. When a namespace goes away, or the
//! module unregisters, the hooks are removed in the `pre_exit` callback and
//! `T` is dropped in `exit`; the kernel runs an RCU grace period between the
//! two (`ops_undo_list`), so no hook still runs when `T` is dropped.
//! (`nf_unregister_net_hooks` itself does not wait: it frees the old hook
//! array with `call_rcu`.)
//!
//! C header: [`include/net/net_namespace.h`], [`include/net/netns/generic.h`].

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::{bindings, prelude::*, types::Opaque};

use super::net::Net;
use super::netfilter::{HookOps, NetHooks};

/// State a module keeps in every network namespace.
pub trait PernetData: Sized + Send + Sync + 'static {
    /// The static that registers this type.
    fn pernet() -> &'static Pernet<Self>;

    /// Builds the state of a new namespace.
    fn new(net: &Net) -> impl PinInit<Self, Error>;
}

/// A `T` and the hook registration of its namespace, in the per-namespace
/// memory the kernel allocates.
#[pin_data]
struct Slot<T> {
    // Taken and dropped in `pre_exit`, a grace period before `data` is
    // dropped in `exit`.
    hooks: Option<NetHooks>,
    #[pin]
    data: T,
}

/// Per-namespace registration of a `T`.
///
/// # Invariants
///
/// While `registered` is true, `ops` is registered with the kernel, `*id` is
/// the id the kernel assigned, and every live namespace holds an initialised
/// `Slot<T>` at `net_generic(net, *id)` from the end of its `init` callback
/// to the start of its `exit` callback.
pub struct Pernet<T: PernetData> {
    ops: Opaque<bindings::pernet_operations>,
    id: Opaque<c_uint>,
    hooks: &'static [HookOps],
    registered: AtomicBool,
    _t: PhantomData<T>,
}

// SAFETY: the kernel writes `ops` and `id` only inside
// `register_pernet_subsys`/`unregister_pernet_subsys`, which serialise on
// `pernet_ops_rwsem`, and `registered` guards against concurrent
// registration; readers only read `id` after registration.
unsafe impl<T: PernetData> Sync for Pernet<T> {}

// kmalloc guarantees at least this alignment for the per-namespace memory.
const PERNET_ALIGN: usize = 8;

impl<T: PernetData> Pernet<T> {
    /// A registration template for `T` with `hooks` in every namespace.
    pub const fn new(hooks: &'static [HookOps]) -> Self {
        assert!(core::mem::align_of::<Slot<T>>() <= PERNET_ALIGN);
        let mut ops: bindings::pernet_operations = pin_init::zeroed();
        ops.init = Some(Self::init_callback);
        ops.pre_exit = Some(Self::pre_exit_callback);
        ops.exit = Some(Self::exit_callback);
        ops.size = core::mem::size_of::<Slot<T>>();
        Self {
            ops: Opaque::new(ops),
            id: Opaque::new(0),
            hooks,
            registered: AtomicBool::new(false),
            _t: PhantomData,
        }
    }

    fn slot(net: &Net) -> *mut Slot<T> {
        let p = T::pernet();
        // SAFETY: `id` was written by `register_pernet_subsys` before any
        // callback or reader runs (type invariant) and is constant after.
        let id = unsafe { *p.id.get() };
        // SAFETY: `net` is live and `id` is a registered pernet id.
        unsafe { bindings::net_generic(net.as_ptr(), id) }.cast::<Slot<T>>()
    }

    /// Builds the state of a new namespace and registers its hooks.
    ///
    /// # Safety
    ///
    /// Only the kernel may call it, as the `init` of the registered `ops`.
    unsafe extern "C" fn init_callback(net: *mut bindings::net) -> c_int {
        // SAFETY: the kernel calls `init` with a live namespace.
        let net = unsafe { Net::from_raw(net) };
        let slot = Self::slot(net);
        let init = try_pin_init!(Slot::<T> {
            hooks: None,
            data <- T::new(net),
        });
        // The slot is never moved: the kernel frees it after `exit_callback`.
        // SAFETY: `slot` is `size_of::<Slot<T>>()` zeroed bytes, aligned to
        // `PERNET_ALIGN` (checked in `new`), ours until this returns.
        if let Err(e) = unsafe { init.__init(slot) } {
            return e.to_errno();
        }
        let ops = T::pernet().hooks;
        if ops.is_empty() {
            return 0;
        }
        match NetHooks::register(net, ops) {
            Ok(h) => {
                // SAFETY: `slot` was initialised above and no hook of this
                // namespace runs yet, so nothing else accesses `hooks`.
                unsafe { (*slot).hooks = Some(h) };
                0
            }
            Err(e) => {
                // SAFETY: `slot` is initialised and unused; dropping it here
                // leaves the memory as the kernel will free it.
                unsafe { core::ptr::drop_in_place(slot) };
                e.to_errno()
            }
        }
    }

    /// Unregisters a dying namespace's hooks.
    ///
    /// # Safety
    ///
    /// Only the kernel may call it, as the `pre_exit` of the registered `ops`.
    unsafe extern "C" fn pre_exit_callback(net: *mut bindings::net) {
        // SAFETY: the kernel calls `pre_exit` with the namespace still live.
        let net = unsafe { Net::from_raw(net) };
        // SAFETY: `init_callback` succeeded for this namespace (the kernel
        // calls `pre_exit` only then), so the slot is initialised. Hooks
        // read only `data`; nothing else touches `hooks` now.
        let hooks = unsafe { (*Self::slot(net)).hooks.take() };
        // Unregisters; hooks already running may finish during the grace
        // period the kernel runs before `exit`.
        drop(hooks);
    }

    /// Drops a dying namespace's state.
    ///
    /// # Safety
    ///
    /// Only the kernel may call it, as the `exit` of the registered `ops`,
    /// after `pre_exit` and a grace period.
    unsafe extern "C" fn exit_callback(net: *mut bindings::net) {
        // SAFETY: the kernel calls `exit` with the namespace still live.
        let net = unsafe { Net::from_raw(net) };
        // Its hooks went in `pre_exit`, a grace period ago: no hook uses it.
        // SAFETY: `init_callback` succeeded (the kernel calls `exit` only
        // then), so the slot is initialised; dropped exactly once, here.
        unsafe { core::ptr::drop_in_place(Self::slot(net)) };
    }

    /// Registers `T` in every namespace. Fails with `EBUSY` if already
    /// registered.
    pub fn register(&'static self) -> Result<PernetRegistration<T>> {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: not registered, so nothing else reads or writes `ops`.
        unsafe { (*self.ops.get()).id = self.id.get() };
        // SAFETY: `ops` is a static, valid `pernet_operations` with `id`
        // pointing to static storage; it outlives the registration.
        let ret = unsafe { bindings::register_pernet_subsys(self.ops.get()) };
        if let Err(e) = kernel::error::to_result(ret) {
            self.registered.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(PernetRegistration { pernet: self })
    }

    /// The state of `net`, or `None` while `T` is not registered.
    ///
    /// A live namespace reached from a hook, from a netlink handler of a
    /// family registered after `T` (and unregistered before it), or from a
    /// test run while the module is loaded, always has its state.
    pub fn get(net: &Net) -> Option<&T> {
        if !T::pernet().registered.load(Ordering::Acquire) {
            return None;
        }
        // `exit` runs only when the namespace dies or `T` is unregistered,
        // which the module does only after its hooks and family are gone.
        // SAFETY: `T` is registered and `net` live, so (type invariant) its
        // slot is initialised and stays so while `net` is borrowed.
        Some(unsafe { &(*Self::slot(net)).data })
    }
}

/// `T` registered in every namespace; dropping it unregisters (running the
/// exit callback, hooks first, in every namespace).
pub struct PernetRegistration<T: PernetData> {
    pernet: &'static Pernet<T>,
}

impl<T: PernetData> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: `ops` is registered (we hold the registration).
        unsafe { bindings::unregister_pernet_subsys(self.pernet.ops.get()) };
        self.pernet.registered.store(false, Ordering::Release);
    }
}
