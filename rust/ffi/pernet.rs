// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state (`struct pernet_operations`).
//!
//! A module keeps one [`Pernet<T>`] in a static. Once registered, every
//! network namespace (existing and future) gets its own `T`, built in place
//! in the memory the kernel allocates for the namespace. The module's
//! netfilter hooks are registered in a namespace only when the module asks
//! ([`Pernet::enable_hooks`], on its first configuration there), as
//! connection tracking does: a namespace where the module is not used pays
//! nothing per packet. A second set of hooks, for counting only, is
//! registered and unregistered on request ([`Pernet::enable_hooks`] with
//! `counting`, [`Pernet::drop_counting_hooks`]). When a namespace goes
//! away, or the module unregisters, the hooks are removed in the `pre_exit`
//! callback and `T` is dropped in `exit`; the kernel runs an RCU grace
//! period between the two (`ops_undo_list`), so no hook still runs when `T`
//! is dropped.
//! (`nf_unregister_net_hooks` itself does not wait: it frees the old hook
//! array with `call_rcu`.)
//!
//! Each namespace also has a delayed work item that calls
//! [`PernetData::tick`] in process context (timers: leases, retransmission,
//! idle entries). It is first armed [`PernetData::FIRST_TICK_MS`] after the
//! namespace's state is built, re-armed with the delay `tick` returns, and
//! can be pulled in with [`Pernet::kick`]. It stops in `pre_exit` and is
//! cancelled (waiting for a running `tick`) in `exit`, before `T` is dropped.
//!
//! C header: [`include/net/net_namespace.h`], [`include/net/netns/generic.h`].

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::{
    bindings, c_str, new_mutex, prelude::*, static_lock_class, sync::Mutex, time::msecs_to_jiffies,
    types::Opaque,
};

use super::net::Net;
use super::netfilter::{HookOps, NetHooks};

/// State a module keeps in every network namespace.
pub trait PernetData: Sized + Send + Sync + 'static {
    /// The static that registers this type.
    fn pernet() -> &'static Pernet<Self>;

    /// Builds the state of a new namespace.
    fn new(net: &Net) -> impl PinInit<Self, Error>;

    /// Milliseconds from building the state to the first [`tick`], or `None`
    /// for no tick until [`Pernet::kick`].
    ///
    /// [`tick`]: PernetData::tick
    const FIRST_TICK_MS: Option<u32> = None;

    /// Periodic work, in process context (it may sleep), never concurrently
    /// with itself. Returns the milliseconds until the next call, or `None`
    /// to wait for [`Pernet::kick`].
    fn tick(&self, _net: &Net) -> Option<u32> {
        None
    }

    /// Undoes what the state changed outside itself in its namespace
    /// (e.g. sysctls), when the namespace goes away or the module is
    /// unloaded: in `pre_exit`, after the hooks are gone.
    fn stop(&self, _net: &Net) {}
}

/// A `T` and the hook registration of its namespace, in the per-namespace
/// memory the kernel allocates.
///
/// # Invariants
///
/// `ns` is the namespace the slot belongs to; `work` is an initialised
/// `delayed_work` whose function is [`Pernet::work_callback`] for `T`. While
/// `live` is true the work may be queued; once it is false nothing queues
/// it again except a `tick` already running, which sees `live` first.
/// `hooks` holds registrations only while `live` is true (both change
/// under its lock).
#[pin_data]
struct Slot<T> {
    // Set by `enable_hooks`; taken and dropped in `pre_exit`, a grace
    // period before `data` is dropped in `exit`.
    #[pin]
    hooks: Mutex<Registered>,
    ns: *mut bindings::net,
    live: AtomicBool,
    #[pin]
    work: Opaque<bindings::delayed_work>,
    #[pin]
    data: T,
}

/// The hook registrations of one namespace.
struct Registered {
    /// The module's hooks.
    main: Option<NetHooks>,
    /// The hooks that only count.
    counting: Option<NetHooks>,
}

/// Initialises a `delayed_work` that runs `func` (`INIT_DELAYED_WORK`).
fn init_delayed_work(
    func: unsafe extern "C" fn(*mut bindings::work_struct),
) -> impl PinInit<Opaque<bindings::delayed_work>> {
    Opaque::ffi_init(move |slot: *mut bindings::delayed_work| {
        // SAFETY: `slot` is valid for writes and pinned; `func` is a valid
        // work function; the name and lock class are static.
        unsafe {
            bindings::init_work_with_key(
                &raw mut (*slot).work,
                Some(func),
                false,
                c_str!("dnat_tick").as_char_ptr(),
                static_lock_class!().as_ptr(),
            )
        };
        // SAFETY: `slot` is valid for writes and pinned; the timer function
        // is the kernel's own for a `delayed_work` (`INIT_DELAYED_WORK`);
        // the name and lock class are static.
        unsafe {
            bindings::timer_init_key(
                &raw mut (*slot).timer,
                Some(bindings::delayed_work_timer_fn),
                bindings::TIMER_IRQSAFE,
                c_str!("dnat_tick_timer").as_char_ptr(),
                static_lock_class!().as_ptr(),
            )
        };
    })
}

/// Queues `work` (re-queues it with the new delay if already queued).
///
/// # Safety
///
/// `work` must be an initialised `delayed_work` that stays valid until it
/// is cancelled.
unsafe fn queue(work: *mut bindings::delayed_work, ms: u32) {
    // SAFETY: `system_wq` is a valid workqueue for the kernel's lifetime;
    // `work` is valid (caller).
    unsafe {
        bindings::mod_delayed_work_on(
            bindings::wq_misc_consts_WORK_CPU_UNBOUND as c_int,
            bindings::system_wq,
            work,
            msecs_to_jiffies(ms),
        );
    }
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
    count_hooks: &'static [HookOps],
    registered: AtomicBool,
    _t: PhantomData<T>,
}

// SAFETY: the kernel writes `ops` and `id` only inside
// (un)register_pernet_subsys, serialised on `pernet_ops_rwsem`, and
// `registered` (an atomic) keeps two registrations from racing; every other
// reader reads `id` only after registration returned, when nothing writes
// it any more.
unsafe impl<T: PernetData> Sync for Pernet<T> {}

// kmalloc guarantees at least this alignment for the per-namespace memory.
const PERNET_ALIGN: usize = 8;

impl<T: PernetData> Pernet<T> {
    /// A registration template for `T` with `hooks` in every namespace
    /// where the module is used, and `count_hooks` where it counts.
    pub const fn new(hooks: &'static [HookOps], count_hooks: &'static [HookOps]) -> Self {
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
            count_hooks,
            registered: AtomicBool::new(false),
            _t: PhantomData,
        }
    }

    /// Bytes the kernel allocates for `T` in every namespace (the
    /// `net_generic` slot), whether the module is used there or not.
    pub const fn slot_bytes() -> usize {
        core::mem::size_of::<Slot<T>>()
    }

    fn slot(net: &Net) -> *mut Slot<T> {
        let p = T::pernet();
        // SAFETY: `id` was written by `register_pernet_subsys` before any
        // callback or reader runs (type invariant) and is constant after.
        let id = unsafe { *p.id.get() };
        // SAFETY: `net` is live and `id` is a registered pernet id.
        unsafe { bindings::net_generic(net.as_ptr(), id) }.cast::<Slot<T>>()
    }

    /// Builds the state of a new namespace.
    ///
    /// # Safety
    ///
    /// Only the kernel may call it, as the `init` of the registered `ops`.
    unsafe extern "C" fn init_callback(net: *mut bindings::net) -> c_int {
        // SAFETY: the kernel calls `init` with a live namespace.
        let net = unsafe { Net::from_raw(net) };
        let slot = Self::slot(net);
        let init = try_pin_init!(Slot::<T> {
            hooks <- new_mutex!(Registered {
                main: None,
                counting: None,
            }),
            ns: net.as_ptr(),
            live: AtomicBool::new(true),
            work <- init_delayed_work(Self::work_callback),
            data <- T::new(net),
        });
        // The slot is never moved: the kernel frees it after `exit_callback`.
        // SAFETY: `slot` is `size_of::<Slot<T>>()` zeroed bytes, aligned to
        // `PERNET_ALIGN` (checked in `new`), ours until this returns.
        if let Err(e) = unsafe { init.__init(slot) } {
            return e.to_errno();
        }
        if let Some(ms) = T::FIRST_TICK_MS {
            // SAFETY: `slot` and its work were initialised above; the work
            // stays valid until `exit_callback`.
            unsafe { queue((*slot).work.get(), ms) };
        }
        0
    }

    /// Registers the module's hooks in `net` if they are not registered
    /// there yet, and its counting hooks too if `counting`. From process
    /// context (it may sleep), for a namespace the caller keeps alive (a
    /// netlink request from a socket in it). On error nothing changed.
    pub fn enable_hooks(net: &Net, counting: bool) -> Result {
        let p = T::pernet();
        if !p.registered.load(Ordering::Acquire) {
            return Err(ENODEV);
        }
        // SAFETY: `T` is registered and `net` live, so the slot is
        // initialised (type invariant) and stays so while `net` is
        // borrowed.
        let slot = unsafe { &*Self::slot(net) };
        let mut hooks = slot.hooks.lock();
        // A namespace on its way out (`pre_exit` ran) gets none.
        if !slot.live.load(Ordering::Acquire) {
            return Err(ENODEV);
        }
        let main = match (&hooks.main, p.hooks.is_empty()) {
            (None, false) => Some(NetHooks::register(net, p.hooks)?),
            _ => None,
        };
        if counting && hooks.counting.is_none() && !p.count_hooks.is_empty() {
            // On failure `main` (if new) is dropped: unregistered again.
            hooks.counting = Some(NetHooks::register(net, p.count_hooks)?);
        }
        if main.is_some() {
            hooks.main = main;
        }
        Ok(())
    }

    /// Unregisters the counting hooks of `net`, if registered. From
    /// process context, for a namespace the caller keeps alive. A counting
    /// hook already running may still finish (its state lives until the
    /// namespace's `exit`).
    pub fn drop_counting_hooks(net: &Net) {
        if !T::pernet().registered.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: `T` is registered (checked above) and `net` live (the
        // caller keeps it alive), so the slot is initialised (type
        // invariant) and stays so while `net` is borrowed.
        let slot = unsafe { &*Self::slot(net) };
        let counting = slot.hooks.lock().counting.take();
        drop(counting);
    }

    /// Unregisters a dying namespace's hooks.
    ///
    /// # Safety
    ///
    /// Only the kernel may call it, as the `pre_exit` of the registered `ops`.
    unsafe extern "C" fn pre_exit_callback(net: *mut bindings::net) {
        // SAFETY: the kernel calls `pre_exit` with the namespace still live.
        let net = unsafe { Net::from_raw(net) };
        let slot = Self::slot(net);
        // SAFETY: `init_callback` succeeded for this namespace (the kernel
        // calls `pre_exit` only then), so the slot is initialised.
        let s = unsafe { &*slot };
        let hooks = {
            let mut h = s.hooks.lock();
            s.live.store(false, Ordering::Release);
            (h.main.take(), h.counting.take())
        };
        // Unregisters; hooks already running may finish during the grace
        // period the kernel runs before `exit`.
        drop(hooks);
        // SAFETY: `init_callback` succeeded for this namespace (the kernel
        // calls `pre_exit` only then), and `exit`, the only place that drops
        // the slot, runs after `pre_exit` returned: `data` is initialised.
        unsafe { (*slot).data.stop(net) };
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
        let slot = Self::slot(net);
        // Its hooks went in `pre_exit`, a grace period ago: no hook uses it,
        // and no hook can queue the work any more. A running `tick` sees
        // `live` false and does not re-arm; `cancel_delayed_work_sync`
        // waits for it and removes a pending one.
        // SAFETY: `init_callback` succeeded (the kernel calls `exit` only
        // then), so the slot and its work are initialised.
        unsafe { bindings::cancel_delayed_work_sync((*slot).work.get()) };
        // The hooks left a grace period ago and the work was cancelled just
        // now, so nothing uses the slot; the kernel calls `exit` once per
        // namespace, and only after `init_callback` succeeded.
        // SAFETY: the slot is initialised, unused, and dropped only here.
        unsafe { core::ptr::drop_in_place(slot) };
    }

    /// Runs [`PernetData::tick`] and re-arms the work.
    ///
    /// # Safety
    ///
    /// Only the workqueue may call it, with the `work` of a `Slot<T>`
    /// (the function `init_delayed_work` installed).
    unsafe extern "C" fn work_callback(work: *mut bindings::work_struct) {
        let off = core::mem::offset_of!(Slot<T>, work);
        // `work` is the first field of the `delayed_work` in a `Slot<T>`'s
        // `work` field (caller): stepping back by that offset gives the slot.
        // The workqueue passes the `work` that `init_callback` installed in
        // a `Slot<T>` (caller contract), at offset `off` in it; the slot
        // lives until `exit_callback` has cancelled this work and waited.
        // SAFETY: so the pointer stepped back is a live slot.
        let slot = unsafe { &*work.cast::<u8>().sub(off).cast::<Slot<T>>() };
        if !slot.live.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: `slot.ns` is the slot's namespace (type invariant),
        // alive while its slot is.
        let net = unsafe { Net::from_raw(slot.ns) };
        if let Some(ms) = slot.data.tick(net) {
            if slot.live.load(Ordering::Acquire) {
                // SAFETY: the work is initialised and is cancelled before
                // the slot is freed.
                unsafe { queue(slot.work.get(), ms) };
            }
        }
    }

    /// Runs the namespace's [`PernetData::tick`] in `ms` milliseconds
    /// (sooner or later than it was due), unless the namespace is going
    /// away.
    pub fn kick(net: &Net, ms: u32) {
        if !T::pernet().registered.load(Ordering::Acquire) {
            return;
        }
        let slot = Self::slot(net);
        // SAFETY: `T` is registered and `net` live, so the slot is
        // initialised (type invariant); its work is cancelled in `exit`,
        // which cannot run while `net` is borrowed live by the caller.
        unsafe {
            if (*slot).live.load(Ordering::Acquire) {
                queue((*slot).work.get(), ms);
            }
        }
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
        // The state may have queued RCU callbacks (route caches give up
        // references after a grace period); they run module code, so they
        // must all have run before the module goes.
        // SAFETY: process context (module unload); no lock held.
        unsafe { bindings::rcu_barrier() };
    }
}
