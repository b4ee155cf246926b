// SPDX-License-Identifier: GPL-2.0

//! The host's per-namespace state and hooks.

use kernel::prelude::*;
use kernel::{new_mutex, sync::Mutex};

use crate::config::HostConfig;
use crate::counters::{CountHook, HasCounters, HookCounters};
use crate::ffi::net::Net;
use crate::ffi::netfilter::HookOps;
use crate::ffi::pernet::{Pernet, PernetData};
use crate::hooks::{FORWARD, LOCAL_IN, LOCAL_OUT, POST_ROUTING, PRE_ROUTING};

/// Hook priority: after defragmentation, before connection tracking.
pub const PRIORITY: i32 = -350;

/// The host's state in one network namespace.
#[pin_data]
pub struct HostNet {
    /// The configuration; writers are netlink requests.
    #[pin]
    pub config: Mutex<HostConfig>,
    /// Packets seen per hook.
    pub counters: HookCounters,
}

impl PernetData for HostNet {
    fn pernet() -> &'static Pernet<Self> {
        &HOST
    }

    fn new(_net: &Net) -> impl PinInit<Self, Error> {
        try_pin_init!(HostNet {
            config <- new_mutex!(HostConfig::default()),
            counters: HookCounters::new(),
        })
    }
}

impl HasCounters for HostNet {
    fn counters(&self) -> &HookCounters {
        &self.counters
    }
}

static HOOKS: [HookOps; 5] = [
    HookOps::new::<CountHook<HostNet>>(PRE_ROUTING, PRIORITY),
    HookOps::new::<CountHook<HostNet>>(LOCAL_IN, PRIORITY),
    HookOps::new::<CountHook<HostNet>>(FORWARD, PRIORITY),
    HookOps::new::<CountHook<HostNet>>(LOCAL_OUT, PRIORITY),
    HookOps::new::<CountHook<HostNet>>(POST_ROUTING, PRIORITY),
];

/// The host's state in every namespace.
pub static HOST: Pernet<HostNet> = Pernet::new(&HOOKS);
