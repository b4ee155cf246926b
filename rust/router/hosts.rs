// SPDX-License-Identifier: GPL-2.0

//! Per-host state kept beside the allocation tables, and allocated with
//! them at a namespace's first router configuration: packet and byte
//! counters, the route to each host, the revoked flags, and what the PAP
//! server keeps (the last reply and the request budget of each slot, the
//! keys: `dnat-core/src/pap_serving.rs`) under one lock.

use kernel::new_spinlock_irq;
use kernel::prelude::*;
use kernel::sync::SpinLockIrq;

use crate::common::atomic::{Atomic, Relaxed};
use crate::common::packet::filled;
use crate::dnat_core::direct::{self, Binding, Direct};
use crate::dnat_core::pap_serving::{HostServing, ServingState};
use crate::ffi::rcu::random_u32;
use crate::ffi::route::RouteCache;
use crate::router::tables::HOSTS;

/// What the PAP server keeps besides the tables: per slot in a vector
/// (about 14 KiB for 256 hosts, too much for the stack it would be built
/// on), the keys inline.
pub type Serving = ServingState<KVVec<HostServing>, HOSTS>;

/// A counter per host slot (slot 0 unused).
pub type PerHost = [Atomic<u64>; HOSTS + 1];

/// Packets and bytes of one host in one direction, side by side: the
/// packet path updates both in one cache line (16-byte aligned, so the
/// pair never straddles two).
#[repr(C, align(16))]
pub struct Traffic {
    packets: Atomic<u64>,
    bytes: Atomic<u64>,
}

impl Traffic {
    /// Nothing counted.
    const fn new() -> Self {
        Self {
            packets: Atomic::<u64>::new(0),
            bytes: Atomic::<u64>::new(0),
        }
    }

    /// Packets and bytes counted.
    pub fn get(&self) -> (u64, u64) {
        (self.packets.load(Relaxed), self.bytes.load(Relaxed))
    }

    fn clear(&self) {
        self.packets.store(0, Relaxed);
        self.bytes.store(0, Relaxed);
    }
}

/// A packet and byte counter pair per host slot (slot 0 unused).
pub type PerHostTraffic = [Traffic; HOSTS + 1];

/// The per-host state of one namespace.
#[pin_data]
pub struct HostState {
    /// Packets delivered to the host, and their bytes (IPv4 total
    /// length, as received on the WAN).
    pub host_in: PerHostTraffic,
    /// Packets forwarded for the host, and their bytes (IPv4 total length
    /// of the decapsulated packet, as sent on the WAN).
    pub host_out: PerHostTraffic,
    /// Packets dropped for using ports the host does not own.
    pub host_spoofed: PerHost,
    /// Inbound ESP/AH dropped by the SA checks (not validated, or
    /// blacklisted).
    pub host_sa_dropped: PerHost,
    /// The route to the host, for the packets tunnelled to it.
    pub routes: [RouteCache; HOSTS + 1],
    /// The route through the host (next hop: its LAN address), for the
    /// packets delivered to it directly.
    pub direct_routes: [RouteCache; HOSTS + 1],
    /// How each host is delivered to (`dnat-core/src/direct.rs`); written
    /// under the table lock.
    pub direct: Direct<{ HOSTS + 1 }, { direct::INDEX }>,
    /// 1 while the host is revoked (its ESP/AH is refused).
    revoked: [Atomic<u32>; HOSTS + 1],
    /// The PAP server's reply cache, request budgets and keys; taken
    /// inside the table lock when both are.
    #[pin]
    pub serving: SpinLockIrq<Serving>,
}

impl HostState {
    /// Nothing counted, no routes, a new random PAP key secret.
    pub fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            host_in: [const { Traffic::new() }; HOSTS + 1],
            host_out: [const { Traffic::new() }; HOSTS + 1],
            host_spoofed: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            host_sa_dropped: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            routes: [const { RouteCache::new() }; HOSTS + 1],
            direct_routes: [const { RouteCache::new() }; HOSTS + 1],
            direct: Direct::new(),
            revoked: [const { Atomic::<u32>::new(0) }; HOSTS + 1],
            serving <- new_spinlock_irq!(ServingState::new(
                filled(HOSTS + 1, || HostServing::EMPTY)?,
                secret()
            )),
        })
    }

    /// Counts one packet of the host in `slot`.
    pub fn count(a: &PerHost, slot: u16) {
        if let Some(c) = a.get(usize::from(slot)) {
            c.add(1, Relaxed);
        }
    }

    /// Counts one packet of `len` bytes of the host in `slot`.
    pub fn count_traffic(a: &PerHostTraffic, slot: u16, len: usize) {
        if let Some(t) = a.get(usize::from(slot)) {
            t.packets.add(1, Relaxed);
            t.bytes.add(len as u64, Relaxed);
        }
    }

    /// Counter `a` of the host in `slot`.
    pub fn get(a: &PerHost, slot: u16) -> u64 {
        a.get(usize::from(slot)).map_or(0, |c| c.load(Relaxed))
    }

    /// Packets and bytes `a` of the host in `slot`.
    pub fn traffic(a: &PerHostTraffic, slot: u16) -> (u64, u64) {
        a.get(usize::from(slot)).map_or((0, 0), Traffic::get)
    }

    /// Clears the counters and the revoked flag of a slot that a new host
    /// took (the PAP server's state is `ServingState::new_host`'s).
    pub fn reset_counters(&self, slot: u16) {
        for a in [&self.host_spoofed, &self.host_sa_dropped] {
            if let Some(c) = a.get(usize::from(slot)) {
                c.store(0, Relaxed);
            }
        }
        for a in [&self.host_in, &self.host_out] {
            if let Some(t) = a.get(usize::from(slot)) {
                t.clear();
            }
        }
        self.set_revoked(slot, false);
        // A new host starts on IP-in-IP; a slot is never 0 here, so this
        // cannot fail.
        let _ = self.direct.set(slot, Binding::Ipip);
    }

    /// Clears what belonged to the previous user of a slot that a new
    /// host took: counters, the revoked flag, the cached reply.
    pub fn reset(&self, slot: u16) {
        self.reset_counters(slot);
        self.serving.lock().new_host(slot);
    }

    /// Forgets the cached PAP replies of `slot`, or of every host.
    pub fn forget_replies(&self, slot: Option<u16>) {
        let mut s = self.serving.lock();
        match slot {
            Some(slot) => s.forget_reply(slot),
            None => s.forget_replies(),
        }
    }

    /// Marks the host in `slot` revoked or not, for the packet path.
    pub fn set_revoked(&self, slot: u16, revoked: bool) {
        if let Some(c) = self.revoked.get(usize::from(slot)) {
            c.store(u32::from(revoked), Relaxed);
        }
    }

    /// Whether the host in `slot` is revoked.
    pub fn is_revoked(&self, slot: u16) -> bool {
        self.revoked
            .get(usize::from(slot))
            .is_some_and(|c| c.load(Relaxed) != 0)
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
