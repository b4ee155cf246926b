// SPDX-License-Identifier: GPL-2.0

//! The router's per-namespace state and the registration of its hooks
//! (`datapath.rs` implements them).

use crate::common::atomic::{Atomic, Relaxed};
use kernel::prelude::*;
use kernel::{new_mutex, sync::Mutex};

use crate::common::counters::{CountHook, HasCounters, HookCounters};
use crate::dnat_core::alloc_table::AllocError;
use crate::dnat_core::config::RouterConfig;
use crate::dnat_core::direct::{BindError, Binding};
use crate::dnat_core::hooks::{FORWARD, LOCAL_IN, LOCAL_OUT, POST_ROUTING, PRE_ROUTING};
use crate::dnat_core::stat::DataStats;
use crate::ffi::defrag::Defrag;
use crate::ffi::net::Net;
use crate::ffi::netfilter::HookOps;
use crate::ffi::pernet::{Pernet, PernetData};
use crate::ffi::rcu::real_seconds;
use crate::ffi::route::{primary_ipv4, Route};
use crate::router::datapath::PreRouting;
use crate::router::hosts::{HostState, PerHost, PerHostTraffic};
use crate::router::server::PapStats;
use crate::router::tables::LazyTables;
use core::net::Ipv4Addr;

/// Hook priority: after IPv4 defragmentation (`NF_IP_PRI_CONNTRACK_DEFRAG`,
/// -400, once the data path enables it) and before connection tracking
/// (-200), so that the router needs no conntrack.
pub const PRIORITY: i32 = -350;

/// Period of the router's maintenance work (leases expire within it).
pub const TICK_MS: u32 = 1000;
/// Period while a grace period is pending (an RCU grace period takes a few
/// milliseconds to tens of milliseconds).
const GRACE_POLL_MS: u32 = 20;

/// The router's state in one network namespace.
#[pin_data]
pub struct RouterNet {
    /// The configuration; writers are netlink requests.
    #[pin]
    pub config: Mutex<RouterConfig>,
    /// The LAN interface index for the packet path (0: not configured),
    /// published by `SET_CONFIG` after the configuration.
    pub lan_ifindex: Atomic<u32>,
    /// The LAN interface's primary address when the router was configured
    /// (host order, 0: look it up per packet).
    pub lan_addr: Atomic<u32>,
    /// The WAN interface index for the packet path (0: not configured).
    pub wan_ifindex: Atomic<u32>,
    /// The public address for the packet path (host order, 0: none).
    pub public_addr: Atomic<u32>,
    /// Defragmentation, enabled once the router is configured.
    #[pin]
    pub defrag: Mutex<Option<Defrag>>,
    /// The port and SPI allocation tables, from the first configuration
    /// on.
    pub tables: LazyTables,
    /// The router epoch: changes when the module (re)starts or is reset,
    /// so that hosts notice and ask again.
    pub epoch: Atomic<u32>,
    /// Drop inbound packets nobody owns (1) or leave them to the stack (0).
    pub drop_unowned: Atomic<u32>,
    /// Deliver ESP/AH on the SPI alone (1) or only validated pairs (0).
    pub sa_permissive: Atomic<u32>,
    /// Port and SPI requests a second the PAP server takes from one host
    /// (0: no limit).
    pub pap_rate: Atomic<u32>,
    /// Serve PAP without authentication from hosts that never used a key
    /// (1) or only authenticated PAP (0, the default).
    pub pap_auth_optional: Atomic<u32>,
    /// PAP server counters.
    pub pap: PapStats,
    /// Data path counters.
    pub data: DataStats,
    /// Packets seen per hook.
    pub counters: HookCounters,
}

impl PernetData for RouterNet {
    fn pernet() -> &'static Pernet<Self> {
        &ROUTER
    }

    /// Leases and grace periods: see [`crate::router::tables::Tables::maintain`].
    /// The work runs from the first configuration on (which kicks it): a
    /// namespace without tables has nothing to maintain.
    /// Then the events: floods, and what is queued is sent
    /// ([`crate::router::notify::tick`]).
    fn tick(&self, net: &Net) -> Option<u32> {
        self.tables.get()?;
        let grace = self.tables.maintain();
        crate::router::notify::tick(self, net);
        if grace {
            Some(GRACE_POLL_MS)
        } else {
            Some(TICK_MS)
        }
    }

    fn new(_net: &Net) -> impl PinInit<Self, Error> {
        // Seconds since the epoch, never 0 (0 means "none" on the wire).
        let epoch = (real_seconds() as u32).max(1);
        try_pin_init!(RouterNet {
            config <- new_mutex!(RouterConfig::default()),
            lan_ifindex: Atomic::<u32>::new(0),
            lan_addr: Atomic::<u32>::new(0),
            wan_ifindex: Atomic::<u32>::new(0),
            public_addr: Atomic::<u32>::new(0),
            defrag <- new_mutex!(None),
            tables: LazyTables::new(),
            epoch: Atomic::<u32>::new(epoch),
            drop_unowned: Atomic::<u32>::new(0),
            sa_permissive: Atomic::<u32>::new(0),
            pap_rate: Atomic::<u32>::new(0),
            pap_auth_optional: Atomic::<u32>::new(0),
            pap: PapStats::new(),
            data: DataStats::new(),
            counters: HookCounters::new(),
        })
    }
}

impl RouterNet {
    /// The router's LAN address: the one cached at configuration, or the
    /// LAN interface's primary address now.
    pub fn lan_addr(&self, net: &Net, lan: u32) -> Option<Ipv4Addr> {
        match self.lan_addr.load(Relaxed) {
            0 => primary_ipv4(net, lan).map(|(a, _)| a),
            a => Some(Ipv4Addr::from(a)),
        }
    }

    /// Whether `addr` is on the link of the LAN device: the route to it
    /// leaves by that device with no gateway (direct delivery needs it).
    pub fn on_lan(&self, net: &Net, addr: Ipv4Addr) -> bool {
        let lan = self.lan_ifindex.load(Relaxed);
        lan != 0
            && Route::output(net, Ipv4Addr::UNSPECIFIED, addr, 0, 0).is_ok_and(|r| r.on_link(lan))
    }

    /// The per-host state, once the first configuration allocated it.
    pub fn hosts(&self) -> Option<&HostState> {
        self.tables.get().map(|t| &t.per_host)
    }

    /// Counts one packet in the per-host counter `which` of `slot`.
    pub fn count_host(&self, which: impl FnOnce(&HostState) -> &PerHost, slot: u16) {
        if let Some(h) = self.hosts() {
            HostState::count(which(h), slot);
        }
    }

    /// Counts one packet of `len` bytes in the per-host packet and byte
    /// counters `which` of `slot`.
    pub fn count_traffic(
        &self,
        which: impl FnOnce(&HostState) -> &PerHostTraffic,
        slot: u16,
        len: usize,
    ) {
        if let Some(h) = self.hosts() {
            HostState::count_traffic(which(h), slot, len);
        }
    }

    /// [`HostState::reset`].
    pub fn reset_host(&self, slot: u16) {
        if let Some(h) = self.hosts() {
            h.reset(slot);
        }
    }

    /// Sets how the host at `addr` is delivered to (`direct.rs`): a host
    /// in direct mode keeps its slot while it holds nothing, as one with
    /// its own quota does; one back on IP-in-IP lets it go once idle.
    pub fn set_delivery(&self, addr: Ipv4Addr, b: Binding) -> Result<(), DeliveryError> {
        self.tables
            .get_or_alloc()
            .map_err(|_| DeliveryError::NoMemory)?
            .write(|t, sa, _| {
                let known = t.find_host(addr);
                let Some(slot) = t.keep(addr, true).map_err(DeliveryError::Table)? else {
                    return Err(DeliveryError::Table(AllocError::HostTableFull));
                };
                if known.is_none() {
                    // A host new to the table: its slot starts clean.
                    self.reset_host(slot);
                    sa.remove_host(slot);
                    self.forget_out_sas(slot);
                }
                let hosts = self.hosts().ok_or(DeliveryError::NoMemory)?;
                let now = hosts.direct.get(slot);
                // Learning again would drop the host's untunnelled packets
                // until its next PAP message: a bound host stays bound.
                let b = if b == Binding::Learn && now.lladdr().is_some() {
                    now
                } else {
                    b
                };
                let r = hosts.direct.set(slot, b).map_err(DeliveryError::Bind);
                // The slot stays kept while the host is direct (as it was,
                // if the binding was refused); nothing else keeps it.
                let _ = t.keep(addr, hosts.direct.get(slot).is_direct());
                r
            })
            .ok_or(DeliveryError::NoMemory)?
    }

    /// Removes the outbound SAs the host in `slot` sent (see
    /// `out_sa::OutSaShared::remove_host`): wherever its established SAs
    /// go.
    pub fn forget_out_sas(&self, slot: u16) {
        if let Some(o) = self.tables.out_sa() {
            o.remove_host(slot);
        }
    }

    /// Removes every outbound SA (reset).
    pub fn clear_out_sas(&self) {
        if let Some(o) = self.tables.out_sa() {
            o.clear();
        }
    }

    /// [`HostState::forget_replies`].
    pub fn forget_replies(&self, slot: Option<u16>) {
        if let Some(h) = self.hosts() {
            h.forget_replies(slot);
        }
    }

    /// [`HostState::set_revoked`].
    pub fn set_revoked(&self, slot: u16, revoked: bool) {
        if let Some(h) = self.hosts() {
            h.set_revoked(slot, revoked);
        }
    }

    /// [`HostState::is_revoked`].
    pub fn is_revoked(&self, slot: u16) -> bool {
        self.hosts().is_some_and(|h| h.is_revoked(slot))
    }

    /// A new epoch, different from the current one and never 0.
    pub fn new_epoch(&self) -> u32 {
        let old = self.epoch.load(Relaxed);
        let e = (real_seconds() as u32).max(old.wrapping_add(1)).max(1);
        self.epoch.store(e, Relaxed);
        e
    }
}

impl HasCounters for RouterNet {
    fn counters(&self) -> &HookCounters {
        &self.counters
    }
}

/// Why [`RouterNet::set_delivery`] failed; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryError {
    /// The tables could not be allocated.
    NoMemory,
    /// The host table refused the host (full, not unicast).
    Table(AllocError),
    /// The binding was refused.
    Bind(BindError),
}

static HOOKS: [HookOps; 1] = [HookOps::new::<PreRouting>(PRE_ROUTING, PRIORITY)];

/// Hooks that only count, registered while `HOOK_COUNTERS` is on.
static COUNT_HOOKS: [HookOps; 4] = [
    HookOps::new::<CountHook<RouterNet>>(LOCAL_IN, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(FORWARD, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(LOCAL_OUT, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(POST_ROUTING, PRIORITY),
];

/// The router's state in every namespace.
pub static ROUTER: Pernet<RouterNet> = Pernet::new(&HOOKS, &COUNT_HOOKS);
