// SPDX-License-Identifier: GPL-2.0

//! Per-host state kept beside the allocation tables, and allocated with
//! them at a namespace's first router configuration: packet and byte
//! counters, the route to each host, the revoked flags, and what the PAP server keeps
//! per host (the last reply, the request budget, the keys).

use core::net::Ipv4Addr;

use kernel::new_spinlock_irq;
use kernel::prelude::*;
use kernel::sync::SpinLockIrq;

use crate::atomic::{Atomic, Relaxed};
use crate::ffi::rcu::random_u32;
use crate::ffi::route::RouteCache;
use crate::pap_keys::KeyTable;
use crate::pap_server::{CachedReply, RateBucket};
use crate::tables::HOSTS;

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
    /// 1 while the host is revoked (its ESP/AH is refused).
    revoked: [Atomic<u32>; HOSTS + 1],
    /// The last PAP reply, for retransmitted requests.
    #[pin]
    pub replies: SpinLockIrq<[CachedReply; HOSTS + 1]>,
    /// The address whose request budget (`pap_rate`) the slot holds, and
    /// what is left of it. Kept when the slot is freed, so that a host
    /// that gives everything back and asks again on the same slot finds
    /// its budget as it left it.
    #[pin]
    budgets: SpinLockIrq<[(u32, RateBucket); HOSTS + 1]>,
    /// PAP keys: the router's secret, grants in flight, and the key and
    /// last sequence number of every authenticated host.
    #[pin]
    pub keys: SpinLockIrq<KeyTable<HOSTS>>,
}

impl HostState {
    /// Nothing counted, no routes, a new random PAP key secret.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            host_in: [const { Traffic::new() }; HOSTS + 1],
            host_out: [const { Traffic::new() }; HOSTS + 1],
            host_spoofed: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            host_sa_dropped: [const { Atomic::<u64>::new(0) }; HOSTS + 1],
            routes: [const { RouteCache::new() }; HOSTS + 1],
            revoked: [const { Atomic::<u32>::new(0) }; HOSTS + 1],
            replies <- new_spinlock_irq!([CachedReply::EMPTY; HOSTS + 1]),
            budgets <- new_spinlock_irq!([(0, RateBucket::FULL); HOSTS + 1]),
            keys <- new_spinlock_irq!(KeyTable::new(secret())),
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

    /// Clears what belonged to the previous user of a slot that a new
    /// host took: counters, the revoked flag, the cached reply.
    pub fn reset(&self, slot: u16) {
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
        self.forget_replies(Some(slot));
    }

    /// Takes one port or SPI request of `host`, in `slot`, from its budget
    /// of `rate` a second at `now` (a full one if the slot's budget was
    /// another address's): `false` when the host is over it.
    pub fn take_request(&self, slot: u16, host: Ipv4Addr, rate: u32, now: u64) -> bool {
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
