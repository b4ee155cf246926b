// SPDX-License-Identifier: GPL-2.0

//! Kernel glue of the host's events (`dnat-core/src/events.rs`,
//! `host_events.rs`): the holdings last reported and the queue, allocated
//! by the namespace's first configuration, and the sending.
//!
//! The PAP client's glue (`client.rs`) reports under its lock, through
//! [`update`] (the events lock nests inside the client's); [`soon`], after
//! the locks, pulls the periodic work in if somebody listens, or empties
//! the queue if nobody does. The work ([`tick`]) sends what is queued as
//! `EVENT` messages to the `events` group of the namespace, in process
//! context. Nothing is queued per data packet.

use kernel::new_spinlock_irq;
use kernel::prelude::*;
use kernel::sync::{SetOnce, SpinLockIrq};

use crate::dnat_core::events::{Event, Queue};
use crate::dnat_core::host_events::{Holdings, QUEUE};
use crate::dnat_core::uapi::{host_attr as a, host_cmd as cmd, host_event};
use crate::ffi::genl::Msg;
use crate::ffi::net::Net;
use crate::ffi::pernet::Pernet;
use crate::host::netlink::{EVENTS, FAMILY};
use crate::host::state::HostNet;

/// Events sent per run of the work at most; more wait for the next run,
/// which comes at once.
const SEND_MAX: usize = QUEUE + 1;

struct State {
    holdings: Holdings,
    queue: Queue<QUEUE>,
}

/// The events of one namespace.
#[pin_data]
pub struct HostEvents {
    #[pin]
    state: SpinLockIrq<State>,
}

impl HostEvents {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_spinlock_irq!(State {
                holdings: Holdings::new(),
                queue: Queue::new(host_event::OVERFLOW),
            }),
        })
    }
}

/// The events, from the namespace's first configuration on (a namespace
/// never configured as a host does not pay for them).
///
/// # Invariants
///
/// Once set, they stay until the namespace goes.
pub struct LazyEvents(SetOnce<Pin<KBox<HostEvents>>>);

impl LazyEvents {
    /// Not allocated yet.
    pub const fn new() -> Self {
        Self(SetOnce::new())
    }

    fn get(&self) -> Option<&HostEvents> {
        self.0.as_ref().map(|e| &**e)
    }

    /// Allocates them if they are not yet. Process context; callers
    /// serialise (the configuration lock).
    pub fn alloc(&self) -> Result {
        if self.get().is_none() {
            self.0
                .populate(KBox::pin_init(HostEvents::new(), GFP_KERNEL_ACCOUNT)?);
        }
        Ok(())
    }
}

impl Default for LazyEvents {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `f` on the holdings last reported and the queue, under the
/// events lock (nothing before the first configuration).
pub fn update(st: &HostNet, f: impl FnOnce(&mut Holdings, &mut Queue<QUEUE>)) {
    if let Some(e) = st.events.get() {
        let mut s = e.state.lock();
        let State { holdings, queue } = &mut *s;
        f(holdings, queue);
    }
}

/// Queues `e`.
pub fn push(st: &HostNet, e: Event) {
    update(st, |_, q| {
        q.push(e);
    });
}

/// After reporting, outside the locks: the work sends the queue now if
/// somebody listens; if nobody does, the queue is emptied.
pub fn soon(st: &HostNet, net: &Net) {
    let Some(e) = st.events.get() else {
        return;
    };
    if e.state.lock().queue.is_empty() {
        return;
    }
    if FAMILY.has_listeners(net, EVENTS) {
        Pernet::<HostNet>::kick(net, 0);
    } else {
        e.state.lock().queue.clear();
    }
}

/// The periodic work's part (process context): sends what is queued.
pub fn tick(st: &HostNet, net: &Net) {
    let Some(ev) = st.events.get() else {
        return;
    };
    if !FAMILY.has_listeners(net, EVENTS) {
        ev.state.lock().queue.clear();
        return;
    }
    for _ in 0..SEND_MAX {
        let Some(e) = ev.state.lock().queue.pop() else {
            return;
        };
        // Lost if it cannot be sent (no memory, a listener's full queue:
        // the listener sees ENOBUFS).
        let _ = FAMILY.notify(net, EVENTS, cmd::EVENT, |m| fill(m, &e));
    }
    if !ev.state.lock().queue.is_empty() {
        Pernet::<HostNet>::kick(net, 0);
    }
}

/// The attributes of `e`.
fn fill(m: &mut Msg, e: &Event) -> Result {
    m.put_u8(a::EVENT_TYPE, e.kind)?;
    if let Some(r) = e.addr {
        m.put_be32(a::ROUTER_ADDR, r.octets())?;
    }
    if let Some(b) = e.block {
        m.put_u8(a::BLOCK_KIND, b.kind)?;
        if let Some(l) = b.lowest {
            m.put_u32(a::BLOCK_LOWEST, l)?;
        }
        m.put_u32(a::BLOCK_COUNT, b.count)?;
    }
    if let Some(l) = e.lease {
        m.put_u32(a::BLOCK_EXPIRES, l)?;
    }
    if let Some(p) = e.peer {
        m.put_be32(a::PEER_ADDR, p.octets())?;
    }
    if let Some(s) = e.spi {
        m.put_u32(a::SPI, s)?;
    }
    if let Some(ep) = e.epoch {
        m.put_u32(a::EPOCH, ep)?;
    }
    if let Some(md) = e.mode {
        m.put_u8(a::MODE, md)?;
    }
    if let Some(r) = e.reason {
        m.put_str(a::EVENT_REASON, &[r])?;
    }
    if let Some(n) = e.count {
        m.put_u64(a::EVENT_COUNT, n, a::PAD)?;
    }
    Ok(())
}
