// SPDX-License-Identifier: GPL-2.0

//! The host's per-namespace state and the registration of its hooks
//! (`datapath.rs` implements them).

use core::net::Ipv4Addr;

use crate::common::atomic::{Atomic, Relaxed};
use kernel::prelude::*;
use kernel::{new_mutex, new_spinlock_irq, sync::Mutex, sync::SpinLockIrq};

use crate::common::counters::{CountHook, HasCounters, HookCounters};
use crate::dnat_core::config::{HostConfig, HostMode};
use crate::dnat_core::hooks::{FORWARD, LOCAL_IN, LOCAL_OUT, POST_ROUTING, PRE_ROUTING};
use crate::dnat_core::host_events::mode_changed;
use crate::dnat_core::pap::PortBlock;
use crate::dnat_core::stat::{HostStat, HostStats};
use crate::dnat_core::uapi::{block_kind, host_mode};
use crate::ffi::defrag::Defrag;
use crate::ffi::net::Net;
use crate::ffi::netfilter::HookOps;
use crate::ffi::pernet::{Pernet, PernetData};
use crate::ffi::route::{primary_ipv4, RouteCache};
use crate::host::client::PapClient;
use crate::host::datapath::now;
use crate::host::datapath::{PostRouting, PreRouting};
use crate::host::notify::LazyEvents;
use crate::host::sptt::{LazySptt, Translation};

/// Hook priority: after defragmentation, before connection tracking.
pub const PRIORITY: i32 = -350;

/// `POST_ROUTING` priority of the tunnel hook: `NF_IP_PRI_LAST`, after
/// source NAT (100), the security modules (225) and every other hook, so
/// that they all see the inner packet. Conntrack's confirmation (with the
/// helpers and sequence adjustment it runs, which read the transport header
/// at `ip_hdrlen`) has the same priority, `INT_MAX`; netfilter runs hooks
/// of equal priority in the reverse order of their registration, so the
/// encapsulation follows the confirmation when conntrack's hooks were
/// registered in the namespace after the host's (the kernel offers no
/// priority after `INT_MAX`), and otherwise directly precedes it.
pub const POST_PRIORITY: i32 = i32::MAX;

/// Period of the host's work (PAP client, translation expiry).
const TICK_MS: u32 = 1000;

/// The host's state in one network namespace.
#[pin_data]
pub struct HostNet {
    /// The configuration; writers are netlink requests.
    #[pin]
    pub config: Mutex<HostConfig>,
    /// 1 while the host is configured and running.
    pub active: Atomic<u32>,
    /// The LAN interface (0: none).
    pub lan_ifindex: Atomic<u32>,
    /// Our LAN address, the outer source (host order, 0: none).
    pub lan_addr: Atomic<u32>,
    /// The LAN prefix mask (host order).
    pub lan_mask: Atomic<u32>,
    /// The router's LAN address (host order, 0: none).
    pub router: Atomic<u32>,
    /// The shared public address (host order, 0: none).
    pub public: Atomic<u32>,
    /// 1 in native mode (no translation).
    pub native: Atomic<u32>,
    /// 1 in direct delivery (no tunnel to the router).
    pub direct: Atomic<u32>,
    /// The router's link-layer address as learnt from its PAP answers:
    /// [`LLADDR_KNOWN`] and the 48-bit address; 0 until learnt.
    router_lladdr: Atomic<u64>,
    /// The route to the router, for the packets tunnelled to it.
    pub route: RouteCache,
    /// Defragmentation, enabled once the host is configured.
    #[pin]
    pub defrag: Mutex<Option<Defrag>>,
    /// The source port translation table (allocated by the first complete
    /// configuration).
    pub sptt: LazySptt,
    /// The PAP client.
    #[pin]
    pub pap: PapClient,
    /// The namespace's ephemeral port range as it was before native mode
    /// changed it.
    #[pin]
    pub range: SpinLockIrq<SavedRange>,
    /// Data path counters.
    pub data: HostStats,
    /// Packets seen per hook.
    pub counters: HookCounters,
    /// Events (`notify.rs`), from the first configuration on.
    pub events: LazyEvents,
}

/// The ephemeral port range native mode replaced.
pub struct SavedRange {
    /// The range before (lowest, highest), if replaced.
    saved: Option<(u16, u16)>,
    /// The namespace or the module is going away: change nothing more.
    stopped: bool,
}

/// A held block, for dumps.
pub struct BlockInfo {
    /// [`block_kind`].
    pub kind: u8,
    /// First port or SPI.
    pub lowest: u32,
    /// Ports or SPIs.
    pub count: u32,
    /// Seconds left on the lease, `None` if it does not expire.
    pub expires: Option<u32>,
    /// Ports in use by translations.
    pub used: u32,
}

impl PernetData for HostNet {
    fn pernet() -> &'static Pernet<Self> {
        &HOST
    }

    fn new(_net: &Net) -> impl PinInit<Self, Error> {
        try_pin_init!(HostNet {
            config <- new_mutex!(HostConfig::default()),
            active: Atomic::<u32>::new(0),
            lan_ifindex: Atomic::<u32>::new(0),
            lan_addr: Atomic::<u32>::new(0),
            lan_mask: Atomic::<u32>::new(0),
            router: Atomic::<u32>::new(0),
            public: Atomic::<u32>::new(0),
            native: Atomic::<u32>::new(0),
            direct: Atomic::<u32>::new(0),
            router_lladdr: Atomic::<u64>::new(0),
            route: RouteCache::new(),
            defrag <- new_mutex!(None),
            sptt: LazySptt::new(),
            pap <- PapClient::new(),
            range <- new_spinlock_irq!(SavedRange {
                saved: None,
                stopped: false,
            }),
            data: HostStats::new(),
            counters: HookCounters::new(),
            events: LazyEvents::new(),
        })
    }

    /// Runs the PAP client (requests, retransmissions, renewals) and ends
    /// idle translations; then sends the events ([`crate::host::notify::tick`]).
    fn tick(&self, net: &Net) -> Option<u32> {
        if self.active.load(Relaxed) == 0 {
            crate::host::notify::tick(self, net);
            return None;
        }
        let t = now();
        let timeouts = self.config.lock().timeouts;
        self.sptt.expire(t, &timeouts);
        self.pap.run(self, net, t);
        crate::host::notify::tick(self, net);
        Some(TICK_MS)
    }

    /// Gives the blocks back to the router and puts the ephemeral port
    /// range back.
    fn stop(&self, net: &Net) {
        self.pap.shutdown(self, net);
        self.active.store(0, Relaxed);
        let mut r = self.range.lock();
        r.stopped = true;
        if let Some((low, high)) = r.saved.take() {
            // The range was the namespace's before; if the administrator
            // raised `ip_unprivileged_port_start` above it since, the
            // block's range stays, as a sysctl write would have to.
            let _ = net.set_local_port_range(low, high);
        }
    }
}

impl HostNet {
    /// Applies a configuration change computed by `f` from the current
    /// one; (re)starts the host when it is complete.
    pub fn configure(
        &self,
        net: &Net,
        f: impl FnOnce(&HostConfig) -> Result<HostConfig>,
    ) -> Result {
        let mut cfg = self.config.lock();
        let next = f(&cfg)?;
        // The events, from the first configuration on, before anything
        // changes.
        self.events.alloc()?;
        // The hooks, from the first configuration in this namespace on
        // (and the counting hooks if asked for), before the configuration
        // changes: if they cannot be registered nothing changes. The main
        // hooks stay if a later step fails (they only act on what is
        // configured).
        Pernet::<HostNet>::enable_hooks(net, next.hook_counters)?;
        let lan = next.lan.map_or(0, |i| i.ifindex);
        let (lan_addr, mask) = match primary_ipv4(net, lan) {
            Some(am) if lan != 0 => am,
            _ => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        };
        if next.complete() {
            // The SPTT, and reassembly before the hooks (tunnelled packets
            // arrive as fragments when the outer header made them too big):
            // both before the configuration changes, so a failure leaves
            // it as it was (counting hooks this request added go again; an
            // SPTT allocated before `Defrag::enable` failed stays, empty,
            // for the next attempt).
            let undo = |e: Error| {
                if !cfg.hook_counters {
                    Pernet::<HostNet>::drop_counting_hooks(net);
                }
                e
            };
            self.sptt.get_or_alloc().map_err(undo)?;
            let mut d = self.defrag.lock();
            if d.is_none() {
                *d = Some(Defrag::enable(net).map_err(undo)?);
            }
        }
        let old = *cfg;
        *cfg = next;
        let restart = (old.router_addr, old.public_addr, old.lan)
            != (next.router_addr, next.public_addr, next.lan)
            || u32::from(lan_addr) != self.lan_addr.load(Relaxed);
        if restart {
            // Everything held was granted to (and tunnelled for) the old
            // set-up: start over.
            self.active.store(0, Relaxed);
            self.sptt.clear();
            let router = next.router_addr.unwrap_or(Ipv4Addr::UNSPECIFIED);
            self.pap.reset(net, self, next.complete(), lan_addr, router);
        }
        let was_native = self.native.load(Relaxed) != 0;
        self.native
            .store(u32::from(next.mode == HostMode::Native), Relaxed);
        if old.mode != next.mode {
            let m = match next.mode {
                HostMode::Translate => host_mode::TRANSLATE,
                HostMode::Native => host_mode::NATIVE,
            };
            crate::host::notify::push(self, mode_changed(m));
        }
        if was_native != (next.mode == HostMode::Native) {
            self.pap.sync_blocks(self, net);
        }
        self.pap.set_block_size(next.port_block);
        self.lan_ifindex.store(lan, Relaxed);
        self.counters.set_enabled(next.hook_counters);
        if !next.hook_counters {
            Pernet::<HostNet>::drop_counting_hooks(net);
        }
        self.lan_addr.store(u32::from(lan_addr), Relaxed);
        self.lan_mask.store(u32::from(mask), Relaxed);
        self.router
            .store(next.router_addr.map_or(0, u32::from), Relaxed);
        self.public
            .store(next.public_addr.map_or(0, u32::from), Relaxed);
        self.direct.store(u32::from(next.direct), Relaxed);
        if restart {
            // Learnt again from the (new) router's answers.
            self.router_lladdr.store(0, Relaxed);
        }
        // The cached route was for the old set-up (its key tells anyway);
        // its reference goes.
        self.route.clear();
        let ready = next.complete() && !lan_addr.is_unspecified();
        self.active.store(u32::from(ready), Relaxed);
        if ready {
            Pernet::<HostNet>::kick(net, 0);
        }
        crate::host::notify::soon(self, net);
        Ok(())
    }

    /// In native mode, makes `block` the namespace's ephemeral port range
    /// (keeping the range it replaces); in translate mode, puts that range
    /// back.
    pub fn apply_port_range(&self, net: &Net, block: Option<PortBlock>) {
        let mut r = self.range.lock();
        if r.stopped {
            return;
        }
        if self.native.load(Relaxed) == 0 {
            if let Some((low, high)) = r.saved.take() {
                // As in `stop`.
                let _ = net.set_local_port_range(low, high);
            }
            return;
        }
        let Some(b) = block.filter(|b| b.count > 0) else {
            return;
        };
        if r.saved.is_none() {
            r.saved = Some(net.local_port_range());
        }
        let high = u32::from(b.lowest) + u32::from(b.count) - 1;
        let high = u16::try_from(high).unwrap_or(u16::MAX);
        if net.set_local_port_range(b.lowest, high).is_err() {
            // A block below `ip_unprivileged_port_start`: the sysctl's
            // checks refuse it, and the stack keeps choosing from its own
            // range (whose ports the router drops outbound).
            self.data.bump(HostStat::PortRangeRefused);
        }
    }

    /// The router epoch last seen (0: none yet).
    pub fn epoch(&self) -> u32 {
        self.pap.epoch()
    }

    /// The router's link-layer address, once learnt.
    pub fn router_lladdr(&self) -> Option<[u8; 6]> {
        let w = self.router_lladdr.load(Relaxed);
        let b = w.to_be_bytes();
        (w & LLADDR_KNOWN != 0).then_some([b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// Learns the router's link-layer address from one of its PAP answers.
    pub fn learn_router_lladdr(&self, m: [u8; 6]) {
        let w = m.iter().fold(0, |w, &b| (w << 8) | u64::from(b));
        self.router_lladdr.store(LLADDR_KNOWN | w, Relaxed);
    }

    /// Counter `i` of the data path, then of the PAP client: a name prefix,
    /// a name and the value.
    pub fn stat(&self, i: usize) -> Option<(&'static str, &'static str, u64)> {
        if let Some((n, v)) = self.data.entry(i) {
            return Some(("", n, v));
        }
        let j = i.checked_sub(HostStat::COUNT)?;
        match j {
            0 => Some(("", "translations", u64::from(self.sptt.in_use()))),
            1 => Some(("", "icmp_translations", u64::from(self.sptt.ids_in_use()))),
            2 => {
                let bytes = self.sptt.get().map_or(0, |_| {
                    crate::dnat_core::sptt::Layout::BYTES + crate::dnat_core::icmp::IdLayout::BYTES
                });
                Some(("", "sptt_bytes", bytes as u64))
            }
            3 => {
                let slot = Pernet::<HostNet>::slot_bytes();
                Some(("", "netns_bytes", slot as u64))
            }
            _ => self.pap.stat(j - 4),
        }
    }

    /// Held block `i` (ports first, then SPIs).
    pub fn block(&self, i: usize) -> Option<BlockInfo> {
        let t = now();
        let (kind, lowest, count, expiry) = self.pap.block(i)?;
        let used = if kind == block_kind::PORTS {
            self.sptt.used_in(lowest, count)
        } else {
            0
        };
        Some(BlockInfo {
            kind,
            lowest,
            count,
            expires: expiry.map(|e| e.saturating_sub(t)),
            used,
        })
    }

    /// The translation at `cursor` or after it, and the next cursor.
    pub fn translation(&self, cursor: usize) -> Option<(Translation, usize)> {
        self.sptt.entry(cursor, now())
    }

    /// Asks the router for `n` ports or SPIs now.
    pub fn request_now(&self, net: &Net, kind: u8, n: u32) -> Result {
        if self.active.load(Relaxed) == 0 {
            return Err(ENOTCONN);
        }
        self.pap.request(kind, n)?;
        Pernet::<HostNet>::kick(net, 0);
        Ok(())
    }

    /// Gives a held block back to the router.
    pub fn release(&self, net: &Net, kind: u8, lowest: u32, n: u32) -> Result {
        self.pap.release(self, kind, lowest, n)?;
        self.pap.sync_blocks(self, net);
        Pernet::<HostNet>::kick(net, 0);
        Ok(())
    }
}

impl HasCounters for HostNet {
    fn counters(&self) -> &HookCounters {
        &self.counters
    }
}

/// The flag of a learnt router link-layer address.
const LLADDR_KNOWN: u64 = 1 << 63;

static HOOKS: [HookOps; 2] = [
    HookOps::new::<PreRouting>(PRE_ROUTING, PRIORITY),
    HookOps::new::<PostRouting>(POST_ROUTING, POST_PRIORITY),
];

/// Hooks that only count, registered while `HOOK_COUNTERS` is on.
static COUNT_HOOKS: [HookOps; 3] = [
    HookOps::new::<CountHook<HostNet>>(LOCAL_IN, PRIORITY),
    HookOps::new::<CountHook<HostNet>>(FORWARD, PRIORITY),
    HookOps::new::<CountHook<HostNet>>(LOCAL_OUT, PRIORITY),
];

/// The host's state in every namespace.
pub static HOST: Pernet<HostNet> = Pernet::new(&HOOKS, &COUNT_HOOKS);
