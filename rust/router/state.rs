// SPDX-License-Identifier: GPL-2.0

//! The router's per-namespace state and hooks.

use kernel::prelude::*;
use kernel::{new_mutex, sync::Mutex};

use crate::config::RouterConfig;
use crate::counters::{CountHook, HasCounters, HookCounters};
use crate::ffi::net::Net;
use crate::ffi::netfilter::HookOps;
use crate::ffi::pernet::{Pernet, PernetData};
use crate::hooks::{FORWARD, LOCAL_IN, LOCAL_OUT, POST_ROUTING, PRE_ROUTING};

/// Hook priority: after IPv4 defragmentation (`NF_IP_PRI_CONNTRACK_DEFRAG`,
/// -400, once the data path enables it) and before connection tracking
/// (-200), so that the router needs no conntrack.
pub const PRIORITY: i32 = -350;

/// The router's state in one network namespace.
#[pin_data]
pub struct RouterNet {
    /// The configuration; writers are netlink requests.
    #[pin]
    pub config: Mutex<RouterConfig>,
    /// Packets seen per hook.
    pub counters: HookCounters,
}

impl PernetData for RouterNet {
    fn pernet() -> &'static Pernet<Self> {
        &ROUTER
    }

    fn new(_net: &Net) -> impl PinInit<Self, Error> {
        try_pin_init!(RouterNet {
            config <- new_mutex!(RouterConfig::default()),
            counters: HookCounters::new(),
        })
    }
}

impl HasCounters for RouterNet {
    fn counters(&self) -> &HookCounters {
        &self.counters
    }
}

static HOOKS: [HookOps; 5] = [
    HookOps::new::<CountHook<RouterNet>>(PRE_ROUTING, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(LOCAL_IN, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(FORWARD, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(LOCAL_OUT, PRIORITY),
    HookOps::new::<CountHook<RouterNet>>(POST_ROUTING, PRIORITY),
];

/// The router's state in every namespace.
pub static ROUTER: Pernet<RouterNet> = Pernet::new(&HOOKS);
