// SPDX-License-Identifier: GPL-2.0

//! The router's per-namespace state and hooks.

use crate::atomic::{Atomic, Relaxed};
use kernel::prelude::*;
use kernel::{new_mutex, new_spinlock_irq, sync::Mutex, sync::SpinLockIrq};

use crate::config::RouterConfig;
use crate::counters::{CountHook, HasCounters, HookCounters};
use crate::datapath::DataStats;
use crate::defrag::Defrag;
use crate::ffi::net::Net;
use crate::ffi::netfilter::{HookOps, HookState, NetHook, Verdict};
use crate::ffi::pernet::{Pernet, PernetData};
use crate::ffi::rcu::random_u32;
use crate::ffi::rcu::real_seconds;
use crate::ffi::route::{primary_ipv4, RouteCache};
use crate::ffi::skb::SkBuff;
use crate::hooks::{FORWARD, LOCAL_IN, LOCAL_OUT, POST_ROUTING, PRE_ROUTING};
use crate::ipv4::proto;
use crate::pap_keys::KeyTable;
use crate::pap_server::{CachedReply, RateBucket};
use crate::server::PapStats;
use crate::tables::{LazyTables, HOSTS};
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
    /// Per host slot: packets delivered to the host.
    pub host_in: [Atomic<u64>; HOSTS + 1],
    /// Per host slot: packets forwarded for the host.
    pub host_out: [Atomic<u64>; HOSTS + 1],
    /// Per host slot: packets dropped for using ports the host does not own.
    pub host_spoofed: [Atomic<u64>; HOSTS + 1],
    /// Per host slot: inbound ESP/AH dropped by the SA checks (not
    /// validated, or blacklisted).
    pub host_sa_dropped: [Atomic<u64>; HOSTS + 1],
    /// Deliver ESP/AH on the SPI alone (1) or only validated pairs (0).
    pub sa_permissive: Atomic<u32>,
    /// Port and SPI requests a second the PAP server takes from one host
    /// (0: no limit).
    pub pap_rate: Atomic<u32>,
    /// Per host slot: the route to the host, for the packets tunnelled to
    /// it.
    pub routes: [RouteCache; HOSTS + 1],
    /// Per host slot: 1 while the host is revoked (its ESP/AH is refused).
    pub host_revoked: [Atomic<u32>; HOSTS + 1],
    /// Per host slot: the last PAP reply, for retransmitted requests.
    #[pin]
    pub replies: SpinLockIrq<[CachedReply; HOSTS + 1]>,
    /// Per host slot: the address whose request budget (`pap_rate`) it
    /// is, and what is left of it. Kept when the slot is freed, so that a
    /// host that gives everything back and asks again on the same slot
    /// finds its budget as it left it.
    #[pin]
    pub budgets: SpinLockIrq<[(u32, RateBucket); HOSTS + 1]>,
    /// PAP keys: the router's secret, grants in flight, and the key and
    /// last sequence number of every authenticated host.
    #[pin]
    pub keys: SpinLockIrq<KeyTable<HOSTS>>,
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

    /// Leases and grace periods: see [`crate::tables::Tables::maintain`].
    /// The work runs from the first configuration on (which kicks it): a
    /// namespace without tables has nothing to maintain.
    fn tick(&self, _net: &Net) -> Option<u32> {
        self.tables.get()?;
        if self.tables.maintain() {
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
            host_in: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            host_out: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            host_spoofed: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            host_sa_dropped: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            sa_permissive: Atomic::<u32>::new(0),
            pap_rate: Atomic::<u32>::new(0),
            routes: [const { RouteCache::new() }; HOSTS + 1],
            host_revoked: [const { Atomic::<u32>::new(0) }; HOSTS + 1],
            replies <- new_spinlock_irq!([CachedReply::EMPTY; HOSTS + 1]),
            budgets <- new_spinlock_irq!([(0, RateBucket::FULL); HOSTS + 1]),
            keys <- new_spinlock_irq!(KeyTable::new(secret())),
            pap_auth_optional: Atomic::<u32>::new(0),
            pap: PapStats::new(),
            data: DataStats::new(),
            counters: HookCounters::new(),
        })
    }
}

/// A random 128-bit secret for the instance's PAP keys.
fn secret() -> [u8; 16] {
    let mut k = [0u8; 16];
    for c in k.chunks_mut(4) {
        c.copy_from_slice(&random_u32().to_ne_bytes());
    }
    k
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

    /// Counts one packet in a per-host counter array.
    pub fn count_host(a: &[Atomic<u64>; HOSTS + 1], slot: u16) {
        if let Some(c) = a.get(usize::from(slot)) {
            c.add(1, Relaxed);
        }
    }

    /// Zeroes the per-host counters of a slot that a new host took.
    pub fn reset_host(&self, slot: u16) {
        for a in [
            &self.host_in,
            &self.host_out,
            &self.host_spoofed,
            &self.host_sa_dropped,
        ] {
            if let Some(c) = a.get(usize::from(slot)) {
                c.store(0, Relaxed);
            }
        }
        self.set_revoked(slot, false);
        self.forget_replies(Some(slot));
    }

    /// Takes one port or SPI request of `host`, in `slot`, from its budget
    /// at `now` (a full one if the slot's budget was another address's):
    /// `false` when the host is over `pap_rate`.
    pub fn take_request(&self, slot: u16, host: Ipv4Addr, now: u64) -> bool {
        let rate = self.pap_rate.load(Relaxed);
        if rate == 0 {
            return true;
        }
        let mut b = self.budgets.lock();
        let Some((owner, bucket)) = b.get_mut(usize::from(slot)) else {
            return true;
        };
        if *owner != u32::from(host) {
            *owner = u32::from(host);
            *bucket = RateBucket::FULL;
        }
        bucket.take(now, rate)
    }

    /// Forgets the cached PAP replies of `slot`, or of every host.
    pub fn forget_replies(&self, slot: Option<u16>) {
        let mut r = self.replies.lock();
        match slot {
            Some(s) => {
                if let Some(c) = r.get_mut(usize::from(s)) {
                    *c = CachedReply::EMPTY;
                }
            }
            None => r.iter_mut().for_each(|c| *c = CachedReply::EMPTY),
        }
    }

    /// Marks the host in `slot` revoked or not, for the packet path.
    pub fn set_revoked(&self, slot: u16, revoked: bool) {
        if let Some(c) = self.host_revoked.get(usize::from(slot)) {
            c.store(u32::from(revoked), Relaxed);
        }
    }

    /// Whether the host in `slot` is revoked.
    pub fn is_revoked(&self, slot: u16) -> bool {
        self.host_revoked
            .get(usize::from(slot))
            .is_some_and(|c| c.load(Relaxed) != 0)
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

/// `PRE_ROUTING`: counts; on the LAN serves PAP and decapsulates what hosts
/// tunnel to the router; on the WAN delivers what hosts own.
pub struct PreRouting;

impl NetHook for PreRouting {
    fn hook(skb: SkBuff<'_>, state: &HookState) -> Verdict {
        let Some(st) = Pernet::<RouterNet>::get(state.net()) else {
            return Verdict::Accept;
        };
        st.counters.count(state.hook());
        let lan = st.lan_ifindex.load(Relaxed);
        if lan == 0 {
            return Verdict::Accept;
        }
        let Some(h) = crate::packet::ipv4_header(&skb) else {
            return Verdict::Accept;
        };
        let public = Ipv4Addr::from(st.public_addr.load(Relaxed));
        let from = state.in_ifindex();
        if h.protocol == proto::ICMP {
            if let Some(v) = crate::server::handle(st, &skb, state, &h) {
                return v;
            }
        }
        if public.is_unspecified() {
            return Verdict::Accept;
        }
        if from == Some(lan) {
            if h.protocol == proto::IPIP && st.lan_addr(state.net(), lan) == Some(h.dst) {
                return crate::datapath::outbound(st, skb, state, &h, public);
            }
            if h.src == public {
                return crate::datapath::untunnelled(st);
            }
        } else if from == Some(st.wan_ifindex.load(Relaxed)) && h.dst == public {
            return crate::datapath::inbound(st, skb, state, &h, lan, public);
        }
        Verdict::Accept
    }
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
