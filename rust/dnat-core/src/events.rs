// SPDX-License-Identifier: GPL-2.0

//! Events of the modules' `events` multicast groups (the `EVENT` message of
//! both families, `dnatctl monitor`): the event record, the queue that
//! carries events from where they happen to where they are sent, the rate
//! limit of each event type, and flood detection over drop counters.
//!
//! Events happen under locks and in softirq context (the PAP server, lease
//! expiry under the table lock, the host's PAP client); there only an
//! [`Event`], a small plain value, is built and queued. The namespace's
//! periodic work takes them off the queue and builds and sends the
//! messages, in process context, and only if somebody listens. Nothing here
//! allocates: [`Queue`] is a fixed ring, and a full queue drops the new
//! event and counts it, to be reported by an `overflow` event.
//!
//! What the router and the host report is decided in `router_events.rs` and
//! `host_events.rs`; the kernel glue is `rust/router/notify.rs` and
//! `rust/host/notify.rs`.

use core::net::Ipv4Addr;

use super::pap::Message;
use super::uapi::block_kind;

/// A block of ports or SPIs in an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// `uapi::block_kind`.
    pub kind: u8,
    /// First port or SPI; `None` for what a request asked for.
    pub lowest: Option<u32>,
    /// Ports or SPIs.
    pub count: u32,
}

/// One event: its type and the attributes that apply to it (`None`: left
/// out of the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// `uapi::router_event` or `uapi::host_event`.
    pub kind: u8,
    /// The host (router events) or the router (host events).
    pub addr: Option<Ipv4Addr>,
    /// The block.
    pub block: Option<Block>,
    /// The block's lease, seconds (0: no expiry is not reported).
    pub lease: Option<u32>,
    /// An SA peer or a blacklisted address.
    pub peer: Option<Ipv4Addr>,
    /// An SPI.
    pub spi: Option<u32>,
    /// A router epoch.
    pub epoch: Option<u32>,
    /// A host mode (`uapi::host_mode`).
    pub mode: Option<u8>,
    /// A name explaining the event.
    pub reason: Option<&'static str>,
    /// A number: drops a second, events lost.
    pub count: Option<u64>,
    /// Events of this type suppressed by the rate limit before this one.
    pub suppressed: u32,
}

impl Event {
    /// An event of type `kind` without attributes.
    pub const fn new(kind: u8) -> Self {
        Self {
            kind,
            addr: None,
            block: None,
            lease: None,
            peer: None,
            spi: None,
            epoch: None,
            mode: None,
            reason: None,
            count: None,
            suppressed: 0,
        }
    }

    /// With the host's (or router's) address.
    pub const fn addr(mut self, a: Ipv4Addr) -> Self {
        self.addr = Some(a);
        self
    }

    /// With a block.
    pub const fn block(mut self, b: Block) -> Self {
        self.block = Some(b);
        self
    }

    /// With a lease, unless it is 0 (no expiry).
    pub const fn lease(mut self, secs: u32) -> Self {
        if secs != 0 {
            self.lease = Some(secs);
        }
        self
    }

    /// With an SA peer or blacklisted address, if any.
    pub const fn peer(mut self, p: Option<Ipv4Addr>) -> Self {
        self.peer = p;
        self
    }

    /// With an SPI, if any.
    pub const fn spi(mut self, s: Option<u32>) -> Self {
        self.spi = s;
        self
    }

    /// With a router epoch.
    pub const fn epoch(mut self, e: u32) -> Self {
        self.epoch = Some(e);
        self
    }

    /// With a host mode.
    pub const fn mode(mut self, m: u8) -> Self {
        self.mode = Some(m);
        self
    }

    /// With a reason.
    pub const fn reason(mut self, r: &'static str) -> Self {
        self.reason = Some(r);
        self
    }

    /// With a count.
    pub const fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }
}

/// What a request or renewal asked for (a renewal: the block).
pub const fn asked(msg: &Message) -> Option<Block> {
    Some(match *msg {
        Message::PortRequest { count, .. } => Block {
            kind: block_kind::PORTS,
            lowest: None,
            count: count as u32,
        },
        Message::SpiRequest { count, .. } => Block {
            kind: block_kind::SPIS,
            lowest: None,
            count: count as u32,
        },
        Message::PortRenew { block, .. } => Block {
            kind: block_kind::PORTS,
            lowest: Some(block.lowest as u32),
            count: block.count as u32,
        },
        Message::SpiRenew { block, .. } => Block {
            kind: block_kind::SPIS,
            lowest: Some(block.lowest),
            count: block.count as u32,
        },
        _ => return None,
    })
}

/// Events waiting to be sent: a ring of `N`, oldest first. A push onto a
/// full ring drops the new event and counts it; once the ring has been
/// emptied, [`Queue::pop`] reports the count in one event of type
/// `overflow` (and starts counting again).
#[derive(Debug, Clone)]
pub struct Queue<const N: usize> {
    ring: [Event; N],
    head: usize,
    len: usize,
    lost: u64,
    overflow: u8,
}

impl<const N: usize> Queue<N> {
    /// An empty queue whose lost events are reported as type `overflow`.
    pub const fn new(overflow: u8) -> Self {
        Self {
            ring: [Event::new(0); N],
            head: 0,
            len: 0,
            lost: 0,
            overflow,
        }
    }

    /// Appends `e`; `false` if the queue is full (`e` is dropped and
    /// counted).
    pub fn push(&mut self, e: Event) -> bool {
        let at = (self.head + self.len) % N.max(1);
        let slot = match self.ring.get_mut(at) {
            Some(slot) if self.len < N => slot,
            _ => {
                self.lost = self.lost.saturating_add(1);
                return false;
            }
        };
        *slot = e;
        self.len += 1;
        true
    }

    /// The oldest event, or, once none is left, the `overflow` event of
    /// those that were dropped.
    pub fn pop(&mut self) -> Option<Event> {
        if self.len == 0 {
            if self.lost == 0 {
                return None;
            }
            let n = core::mem::take(&mut self.lost);
            return Some(Event::new(self.overflow).count(n));
        }
        let e = *self.ring.get(self.head)?;
        self.head = (self.head + 1) % N.max(1);
        self.len -= 1;
        Some(e)
    }

    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.lost == 0
    }

    /// Drops everything (nobody listens), the count of lost events too.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.lost = 0;
    }
}

/// The rate limit of one event type: a token bucket that gains `rate`
/// events a second (whole seconds of the caller's clock) and holds at most
/// `rate`, and the count of events it suppressed since it last let one
/// through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    tokens: u32,
    last: u64,
    suppressed: u32,
}

impl Budget {
    /// A full bucket (capped at the rate on first use).
    pub const FULL: Budget = Budget {
        tokens: u32::MAX,
        last: 0,
        suppressed: 0,
    };

    /// Lets one event through at `now` (seconds) under `rate` a second:
    /// `Some` with the number suppressed before it (then 0 again), or
    /// `None`: suppressed, and counted.
    pub fn admit(&mut self, now: u64, rate: u32) -> Option<u32> {
        let gained = now
            .saturating_sub(self.last)
            .saturating_mul(u64::from(rate));
        let tokens = u64::from(self.tokens)
            .saturating_add(gained)
            .min(u64::from(rate));
        self.tokens = u32::try_from(tokens).unwrap_or(rate);
        self.last = self.last.max(now);
        if self.tokens == 0 {
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        self.tokens -= 1;
        Some(core::mem::take(&mut self.suppressed))
    }
}

/// What [`Outbox::push`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued.
    Queued,
    /// Over its type's rate limit: counted, reported with the next one
    /// let through.
    Suppressed,
    /// The queue is full: counted, reported by an `overflow` event.
    Lost,
}

/// A [`Queue`] of `N` events with a [`Budget`] for each of the event
/// types below `K`.
#[derive(Debug, Clone)]
pub struct Outbox<const N: usize, const K: usize> {
    /// The events waiting.
    pub queue: Queue<N>,
    budgets: [Budget; K],
}

impl<const N: usize, const K: usize> Outbox<N, K> {
    /// Empty, full budgets; lost events reported as type `overflow`.
    pub const fn new(overflow: u8) -> Self {
        Self {
            queue: Queue::new(overflow),
            budgets: [Budget::FULL; K],
        }
    }

    /// Queues `e` at `now` (seconds) if its type is within `rate` events
    /// a second (`None`: no limit). An event let through after suppressed
    /// ones carries their number.
    pub fn push(&mut self, mut e: Event, now: u64, rate: Option<u32>) -> Pushed {
        if let Some(r) = rate {
            if let Some(b) = self.budgets.get_mut(usize::from(e.kind)) {
                match b.admit(now, r) {
                    Some(n) => e.suppressed = n,
                    None => return Pushed::Suppressed,
                }
            }
        }
        if self.queue.push(e) {
            Pushed::Queued
        } else {
            Pushed::Lost
        }
    }
}

/// A drop counter rising by more than this many in a second is a flood.
pub const FLOOD_THRESHOLD: u64 = 100;

/// Seconds after a flood event before the same counter may raise
/// another: a flood that lasts is reported every 10 seconds, not every
/// second.
pub const FLOOD_HOLDOFF: u64 = 10;

/// Flood detection over `N` drop counters. The counters stay as they are
/// (the packet path only increments them, as before); [`Flood::sample`],
/// called from the periodic work, compares them with the previous sample
/// of an earlier second: a counter that rose by more than
/// [`FLOOD_THRESHOLD`] per second in between is flooding, and is reported
/// unless it was less than [`FLOOD_HOLDOFF`] seconds ago.
#[derive(Debug, Clone)]
pub struct Flood<const N: usize> {
    last: [u64; N],
    quiet_until: [u64; N],
    at: Option<u64>,
}

impl<const N: usize> Flood<N> {
    /// No sample yet.
    pub const fn new() -> Self {
        Self {
            last: [0; N],
            quiet_until: [0; N],
            at: None,
        }
    }

    /// Samples `values` at `now` (seconds). The first sample, one in the
    /// same second as the last, or one from a clock that went back, only
    /// records. Calls `found(i, per_second)` for each flooding counter
    /// `i`, with its average rise a second since the last sample.
    pub fn sample(&mut self, now: u64, values: &[u64; N], mut found: impl FnMut(usize, u64)) {
        let Some(at) = self.at.filter(|&at| now > at) else {
            if self.at.is_none_or(|at| now < at) {
                self.last = *values;
                self.at = Some(now);
            }
            return;
        };
        let secs = now - at;
        let limit = FLOOD_THRESHOLD.saturating_mul(secs);
        let rows = self.last.iter_mut().zip(self.quiet_until.iter_mut());
        for (i, ((last, quiet), &v)) in rows.zip(values.iter()).enumerate() {
            let rise = v.saturating_sub(*last);
            if rise > limit && now >= *quiet {
                found(i, rise / secs);
                *quiet = now.saturating_add(FLOOD_HOLDOFF);
            }
            *last = v;
        }
        self.at = Some(now);
    }
}

impl<const N: usize> Default for Flood<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn ev(kind: u8) -> Event {
        Event::new(kind)
    }

    #[test]
    fn builders_set_what_applies() {
        let e = Event::new(3)
            .addr(Ipv4Addr::new(10, 0, 0, 1))
            .block(Block {
                kind: 1,
                lowest: Some(20000),
                count: 16,
            })
            .lease(0)
            .spi(Some(0x1000))
            .reason("all");
        assert_eq!(e.addr, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(e.lease, None, "a lease of 0 (no expiry) is left out");
        assert_eq!(Event::new(3).lease(60).lease, Some(60));
        assert_eq!(
            (e.spi, e.reason, e.peer, e.count),
            (Some(0x1000), Some("all"), None, None)
        );
    }

    #[test]
    fn queue_keeps_order_and_counts_what_did_not_fit() {
        let mut q = Queue::<3>::new(15);
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        for k in 1..=5 {
            let fit = q.push(ev(k));
            assert_eq!(fit, k <= 3, "{k}");
        }
        assert!(!q.is_empty());
        let kinds: Vec<u8> = core::iter::from_fn(|| q.pop()).map(|e| e.kind).collect();
        assert_eq!(kinds, [1, 2, 3, 15]);
        // The overflow event carries the count, once.
        let mut q = Queue::<2>::new(15);
        for k in 1..=6 {
            q.push(ev(k));
        }
        assert_eq!(q.pop().map(|e| e.kind), Some(1));
        // Room again: a new event goes behind the old ones, the count
        // stays for after them.
        assert!(q.push(ev(7)));
        let rest: Vec<Event> = core::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest.iter().map(|e| e.kind).collect::<Vec<_>>(), [2, 7, 15]);
        assert_eq!(rest[2].count, Some(4));
        assert!(q.is_empty());
        // Wrapping around the ring many times.
        let mut q = Queue::<4>::new(15);
        for k in 0..100u8 {
            assert!(q.push(ev(k)));
            assert_eq!(q.pop().map(|e| e.kind), Some(k));
        }
    }

    #[test]
    fn clear_forgets_the_lost_count_too() {
        let mut q = Queue::<1>::new(15);
        q.push(ev(1));
        q.push(ev(2));
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        assert!(q.push(ev(3)));
    }

    #[test]
    fn zero_sized_queue_only_counts() {
        let mut q = Queue::<0>::new(9);
        assert!(!q.push(ev(1)));
        assert_eq!(q.pop().map(|e| (e.kind, e.count)), Some((9, Some(1))));
    }

    #[test]
    fn budget_lets_rate_a_second_through_and_counts_the_rest() {
        let mut b = Budget::FULL;
        let got: Vec<Option<u32>> = (0..5).map(|_| b.admit(100, 3)).collect();
        assert_eq!(got, [Some(0), Some(0), Some(0), None, None]);
        // The next second: 3 more, the first carrying the 2 suppressed.
        assert_eq!(b.admit(101, 3), Some(2));
        assert_eq!(b.admit(101, 3), Some(0));
        // A long pause fills the bucket to the rate, not beyond.
        assert_eq!((0..10).filter(|_| b.admit(500, 3).is_some()).count(), 3);
        // A clock that went back neither fills nor breaks it.
        assert_eq!(b.admit(400, 3), None);
        assert_eq!(b.admit(501, 3), Some(8));
    }

    #[test]
    fn outbox_limits_per_type() {
        let mut o = Outbox::<64, 16>::new(15);
        // Type 7 at 2 a second, type 1 unlimited.
        let mut pushed = Vec::new();
        for _ in 0..4 {
            pushed.push(o.push(ev(7), 10, Some(2)));
            pushed.push(o.push(ev(1), 10, None));
        }
        assert_eq!(
            pushed.iter().filter(|&&p| p == Pushed::Suppressed).count(),
            2
        );
        assert_eq!(o.push(ev(7), 11, Some(2)), Pushed::Queued);
        let sent: Vec<Event> = core::iter::from_fn(|| o.queue.pop()).collect();
        let sevens: Vec<u32> = sent
            .iter()
            .filter(|e| e.kind == 7)
            .map(|e| e.suppressed)
            .collect();
        assert_eq!(sevens, [0, 0, 2]);
        assert_eq!(sent.iter().filter(|e| e.kind == 1).count(), 4);
        // A type beyond the budgets is not limited.
        let mut o = Outbox::<4, 2>::new(15);
        assert!((0..4).all(|_| o.push(ev(9), 0, Some(1)) == Pushed::Queued));
        assert_eq!(o.push(ev(9), 0, None), Pushed::Lost);
    }

    fn flood_run(f: &mut Flood<2>, now: u64, v: [u64; 2]) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        f.sample(now, &v, |i, r| out.push((i, r)));
        out
    }

    #[test]
    fn flood_needs_more_than_the_threshold_in_a_second() {
        let mut f = Flood::<2>::new();
        assert_eq!(
            flood_run(&mut f, 100, [5000, 7]),
            [],
            "the first sample records"
        );
        assert_eq!(
            flood_run(&mut f, 101, [5100, 7]),
            [],
            "100 in a second is not a flood"
        );
        assert_eq!(flood_run(&mut f, 102, [5201, 7]), [(0, 101)]);
        // The same second again: nothing is compared.
        assert_eq!(flood_run(&mut f, 102, [9999, 9999]), []);
        // The other counter floods too; counter 0 is held off.
        assert_eq!(flood_run(&mut f, 103, [20000, 500]), [(1, 493)]);
    }

    #[test]
    fn flood_is_reported_every_holdoff_while_it_lasts() {
        let mut f = Flood::<2>::new();
        flood_run(&mut f, 0, [0, 0]);
        let mut reports = Vec::new();
        for s in 1..=30u64 {
            for (i, r) in flood_run(&mut f, s, [s * 1000, 0]) {
                reports.push((s, i, r));
            }
        }
        assert_eq!(reports, [(1, 0, 1000), (11, 0, 1000), (21, 0, 1000)]);
    }

    #[test]
    fn flood_rate_is_averaged_over_a_longer_gap() {
        let mut f = Flood::<2>::new();
        flood_run(&mut f, 10, [0, 0]);
        // 250 drops in 3 seconds: 83 a second, not a flood.
        assert_eq!(flood_run(&mut f, 13, [250, 0]), []);
        // 700 in 2 seconds: 350 a second.
        assert_eq!(flood_run(&mut f, 15, [950, 0]), [(0, 350)]);
        // A clock that went back starts over, without a report.
        assert_eq!(flood_run(&mut f, 5, [100000, 0]), []);
        assert_eq!(flood_run(&mut f, 6, [100050, 0]), []);
        // A counter that went down (not expected) is no flood.
        assert_eq!(flood_run(&mut f, 7, [0, 0]), []);
    }
}
