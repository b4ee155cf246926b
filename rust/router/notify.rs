// SPDX-License-Identifier: GPL-2.0

//! Kernel glue of the router's events (`dnat-core/src/events.rs`,
//! `router_events.rs`): the queue beside the tables, and the sending.
//!
//! Whoever sees an event ([`push`]: the PAP server in softirq context, the
//! lease expiry under the table lock, netlink handlers) queues a plain
//! `Event` under the queue's own lock, innermost of all, and nothing else;
//! [`soon`], outside every lock, pulls the periodic work in if somebody
//! listens (and empties the queue if nobody does). The work ([`tick`])
//! samples the drop counters for floods and sends what is queued as
//! `EVENT` messages to the `events` group of the namespace, in process
//! context; with no listener it builds nothing and empties the queue. The packet path never queues anything: floods are
//! found by sampling its counters.

use kernel::new_spinlock_irq;
use kernel::prelude::*;
use kernel::sync::SpinLockIrq;

use crate::dnat_core::events::{Event, Flood, Outbox};
use crate::dnat_core::pap_server::Stat;
use crate::dnat_core::router_events::{flood, rate, KINDS, QUEUE};
use crate::dnat_core::stat::DataStat;
use crate::dnat_core::uapi::{router_attr as a, router_cmd as cmd, router_event};
use crate::ffi::genl::Msg;
use crate::ffi::net::Net;
use crate::ffi::pernet::Pernet;
use crate::ffi::rcu::monotonic_seconds;
use crate::router::netlink::{EVENTS, FAMILY};
use crate::router::state::RouterNet;

/// The drop counters of the data path watched for floods.
const DATA_DROPS: [DataStat; 12] = [
    DataStat::OutSpoofed,
    DataStat::OutNotPublicSource,
    DataStat::OutProtocol,
    DataStat::OutBadInner,
    DataStat::OutDecapFailed,
    DataStat::OutUntunnelled,
    DataStat::InSaNotValidated,
    DataStat::InSaBlacklisted,
    DataStat::InSaNotSpiOwner,
    DataStat::OutLocalDestination,
    DataStat::OutIcmpType,
    DataStat::OutIcmpQuote,
];

/// The drop counters of the PAP server watched for floods; then all the
/// `malformed_*` counters together, as `malformed`.
const PAP_DROPS: [Stat; 9] = [
    Stat::WrongInterface,
    Stat::Fragment,
    Stat::NotForRouter,
    Stat::BadSource,
    Stat::KeyRateLimited,
    Stat::AuthMissing,
    Stat::AuthUnknownKey,
    Stat::AuthBadMac,
    Stat::AuthReplayed,
];

/// Counters watched for floods.
const WATCHED: usize = DATA_DROPS.len() + PAP_DROPS.len() + 1;

/// Events sent per run of the work at most (the queue and its overflow
/// event); more wait for the next run, which comes at once.
const SEND_MAX: usize = QUEUE + 1;

struct State {
    out: Outbox<QUEUE, KINDS>,
    flood: Flood<WATCHED>,
}

/// The events of one namespace, kept with its tables.
#[pin_data]
pub struct RouterEvents {
    #[pin]
    state: SpinLockIrq<State>,
}

impl RouterEvents {
    /// Nothing queued.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_spinlock_irq!(State {
                out: Outbox::new(router_event::OVERFLOW),
                flood: Flood::new(),
            }),
        })
    }

    /// Queues `e` at `now` (seconds, the table clock), within its type's
    /// rate limit. Any context; takes only the queue's lock.
    pub fn push_at(&self, e: Event, now: u64) {
        self.state.lock().out.push(e, now, rate(e.kind));
    }

    fn pop(&self) -> Option<Event> {
        self.state.lock().out.queue.pop()
    }

    fn pending(&self) -> bool {
        !self.state.lock().out.queue.is_empty()
    }
}

/// Queues `e` in `st`'s namespace (nothing before its tables exist).
pub fn push(st: &RouterNet, e: Event) {
    if let Some(t) = st.tables.get() {
        t.events.push_at(e, monotonic_seconds());
    }
}

/// After queuing, outside every lock: has the periodic work send the
/// queue now if somebody listens; if nobody does, empties it.
pub fn soon(st: &RouterNet, net: &Net) {
    let Some(t) = st.tables.get().filter(|t| t.events.pending()) else {
        return;
    };
    if FAMILY.has_listeners(net, EVENTS) {
        Pernet::<RouterNet>::kick(net, 0);
    } else {
        t.events.state.lock().out.queue.clear();
    }
}

/// The watched counters now, and their names.
fn watched(st: &RouterNet) -> [(&'static str, u64); WATCHED] {
    let mut out = [("malformed", st.pap.malformed_total()); WATCHED];
    let (data, pap) = out.split_at_mut(DATA_DROPS.len());
    for (slot, &s) in data.iter_mut().zip(DATA_DROPS.iter()) {
        *slot = st.data.entry(s as usize).unwrap_or(("", 0));
    }
    for (slot, &s) in pap.iter_mut().zip(PAP_DROPS.iter()) {
        *slot = (s.name(), st.pap.get(s));
    }
    out
}

/// The periodic work's part (process context): floods, then the queue.
pub fn tick(st: &RouterNet, net: &Net) {
    let Some(t) = st.tables.get() else {
        return;
    };
    let counters = watched(st);
    let mut values = [0u64; WATCHED];
    for (v, (_, c)) in values.iter_mut().zip(counters.iter()) {
        *v = *c;
    }
    let now = monotonic_seconds();
    {
        let mut s = t.events.state.lock();
        let State { out, flood: f } = &mut *s;
        f.sample(now, &values, |i, per_second| {
            let name = counters.get(i).map_or("", |c| c.0);
            out.push(flood(name, per_second), now, rate(router_event::FLOOD));
        });
    }
    if !FAMILY.has_listeners(net, EVENTS) {
        t.events.state.lock().out.queue.clear();
        return;
    }
    for _ in 0..SEND_MAX {
        let Some(e) = t.events.pop() else {
            return;
        };
        // Lost if it cannot be sent (no memory, a listener's full queue:
        // the listener sees ENOBUFS).
        let _ = FAMILY.notify(net, EVENTS, cmd::EVENT, |m| fill(m, &e));
    }
    if t.events.pending() {
        Pernet::<RouterNet>::kick(net, 0);
    }
}

/// The attributes of `e`.
fn fill(m: &mut Msg, e: &Event) -> Result {
    m.put_u8(a::EVENT_TYPE, e.kind)?;
    if let Some(h) = e.addr {
        m.put_be32(a::HOST_ADDR, h.octets())?;
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
    if let Some(r) = e.reason {
        m.put_str(a::EVENT_REASON, &[r])?;
    }
    if let Some(n) = e.count {
        m.put_u64(a::EVENT_COUNT, n, a::PAD)?;
    }
    if e.suppressed != 0 {
        m.put_u32(a::EVENT_SUPPRESSED, e.suppressed)?;
    }
    Ok(())
}
