// SPDX-License-Identifier: GPL-2.0

//! Per-hook packet counters, the hook that counts, and their netlink dump.

use core::marker::PhantomData;

use crate::common::atomic::{Atomic, Relaxed};
use kernel::prelude::*;

use crate::dnat_core::hooks::{of, Hook, HookPackets, NUM_HOOKS};
use crate::ffi::genl::Dump;
use crate::ffi::netfilter::{HookState, NetHook, Verdict};
use crate::ffi::pernet::{Pernet, PernetData};
use crate::ffi::skb::SkBuff;

/// Packets seen at each IPv4 hook point of one namespace, counted while
/// enabled (the `HOOK_COUNTERS` setting).
pub struct HookCounters {
    packets: HookPackets,
    enabled: Atomic<u32>,
}

impl HookCounters {
    /// All zero.
    pub const fn new() -> Self {
        Self {
            packets: HookPackets::new(),
            enabled: Atomic::<u32>::new(0),
        }
    }

    /// Starts or stops counting (the counts so far stay).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(u32::from(on), Relaxed);
    }

    /// Counts one packet at `hook` if counting is enabled; other numbers
    /// are ignored.
    pub fn count(&self, hook: u32) {
        if self.enabled.load(Relaxed) == 0 {
            return;
        }
        if let Some(h) = of(hook) {
            self.packets.bump(h);
        }
    }

    /// Packets counted at hook slot `i` (0 for a slot out of range).
    pub fn packets(&self, i: usize) -> u64 {
        Hook::ALL.get(i).map_or(0, |&h| self.packets.get(h))
    }
}

impl Default for HookCounters {
    fn default() -> Self {
        Self::new()
    }
}

/// Per-namespace state that has hook counters.
pub trait HasCounters: PernetData {
    /// The namespace's counters.
    fn counters(&self) -> &HookCounters;
}

/// A hook that counts every IPv4 packet and lets it pass (registered only
/// while counting is enabled).
pub struct CountHook<T>(PhantomData<T>);

impl<T: HasCounters> NetHook for CountHook<T> {
    fn hook(_skb: SkBuff<'_>, state: &HookState) -> Verdict {
        if let Some(s) = Pernet::<T>::get(state.net()) {
            s.counters().count(state.hook());
        }
        Verdict::Accept
    }
}

/// Attribute numbers of a family's counter dump.
pub struct CounterAttrs {
    /// The dump command.
    pub cmd: u8,
    /// Hook number attribute (u32).
    pub hook: u16,
    /// Packet count attribute (u64).
    pub packets: u16,
    /// Padding attribute.
    pub pad: u16,
}

/// Dumps `counters` as one message per hook, resuming at the cursor.
pub fn dump_counters(dump: &mut Dump<'_>, counters: &HookCounters, a: &CounterAttrs) -> Result {
    dump.indexed(
        a.cmd,
        |i| Some((u32::try_from(i).ok()?, counters.packets(i))).filter(|_| i < NUM_HOOKS),
        |m, (hook, packets)| {
            m.put_u32(a.hook, hook)?;
            m.put_u64(a.packets, packets, a.pad)
        },
    )
}
