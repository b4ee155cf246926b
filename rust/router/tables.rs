// SPDX-License-Identifier: GPL-2.0

//! Kernel glue for the allocation tables (`dnat-core/src/alloc_table.rs`):
//! the per-namespace storage, the writer lock, grace periods and leases.
//!
//! Readers (the packet path) use [`Tables::shared`] without a lock. Writers
//! (the PAP server in softirq context, netlink in process context) go
//! through [`Tables::write`], which holds an IRQ-disabling spinlock (so both
//! contexts may take it) and, before the operation:
//!
//! - finishes the pending grace period if RCU says it has elapsed
//!   (`poll_state_synchronize_rcu`), freeing what was retired before it;
//! - expires leases that are due.
//!
//! and after it starts a new grace period if something was retired. Nothing
//! blocks: retired ports and SPIs are reusable at the first write after a
//! grace period. The namespace's periodic work calls [`Tables::maintain`]
//! so that this also happens when nobody writes: leases expire on time and
//! a new SPI index is published within a tick of its grace period.

use core::sync::atomic::{AtomicU16, AtomicU32};

use kernel::prelude::*;

use crate::common::packet::filled;
use kernel::{
    new_spinlock_irq,
    sync::{SetOnce, SpinLockIrq},
};

use crate::dnat_core::alloc_table::{
    AllocTable, BlockRef, GraceToken, HostSlot, Layout, Settings, Shared, SpiEntry, WriterState,
};
use crate::dnat_core::out_sa::{OutSaBucket, OutSaLayout, OutSaSettings, OutSaShared};
use crate::dnat_core::pap_server::{forget_block, forget_idle};
use crate::dnat_core::pap_serving::HostServing;
use crate::dnat_core::router_events::expired;
use crate::dnat_core::sa_table::{
    BlacklistSlot, SaBucket, SaGraceToken, SaLayout, SaShared, SaState, SaTable, Seed,
};
use crate::ffi::rcu::{monotonic_seconds, random_u32, GraceCookie};
use crate::router::hosts::HostState;
use crate::router::notify::RouterEvents;

/// Hosts a namespace's tables hold (about 0.5 MiB of tables).
pub const HOSTS: usize = 256;

/// Buckets of the established-SA table (up to half as many SAs; 256 KiB).
pub const SA_BUCKETS: usize = 16384;

const SA_LAYOUT: SaLayout = SaLayout {
    buckets: SA_BUCKETS,
    hosts: HOSTS,
};

/// The table of hosts' outbound SAs (for ICMP errors quoting them): as
/// many buckets as the established-SA table, 256 KiB and 1 KiB of counts.
const OUT_SA_LAYOUT: OutSaLayout = OutSaLayout {
    buckets: crate::dnat_core::out_sa::DEFAULT_BUCKETS,
    hosts: HOSTS,
};

/// A namespace's tables and per-host state, allocated by its first router
/// configuration: about 1.1 MiB that a namespace never configured as a
/// router (every
/// namespace of a host with the module loaded, an unprivileged user's
/// among them) does not pay for.
///
/// # Invariants
///
/// Once set, the tables stay until the namespace goes.
pub struct LazyTables(SetOnce<Pin<KBox<Tables>>>);

impl LazyTables {
    /// Not allocated yet.
    pub const fn new() -> Self {
        Self(SetOnce::new())
    }

    /// The tables, once allocated (one acquire load).
    pub fn get(&self) -> Option<&Tables> {
        self.0.as_ref().map(|t| &**t)
    }

    /// The tables, allocated now if they are not yet. Process context;
    /// callers serialise (the configuration lock), so that two do not
    /// both allocate (the loser's tables would only be freed again).
    pub fn get_or_alloc(&self) -> Result<&Tables> {
        if let Some(t) = self.get() {
            return Ok(t);
        }
        let t = KBox::pin_init(Tables::new(), GFP_KERNEL_ACCOUNT)?;
        self.0.populate(t);
        self.get().ok_or(ENOMEM)
    }

    /// [`Tables::shared`]; `None` before the first configuration.
    pub fn shared(&self) -> Option<Shared<'_>> {
        self.get()?.shared()
    }

    /// [`Tables::sa_shared`]; `None` before the first configuration.
    pub fn sa_shared(&self) -> Option<SaShared<'_>> {
        self.get()?.sa_shared()
    }

    /// [`Tables::out_sa`]; `None` before the first configuration.
    pub fn out_sa(&self) -> Option<OutSaShared<'_>> {
        self.get()?.out_sa()
    }

    /// [`Tables::write`]; `None` before the first configuration.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut AllocTable<'_>, &mut SaTable<'_>, u64) -> R,
    ) -> Option<R> {
        self.get()?.write(f)
    }

    /// [`Tables::maintain`]; nothing to do without tables.
    pub fn maintain(&self) -> bool {
        self.get().is_some_and(Tables::maintain)
    }

    /// Bytes of table memory (0 before the first configuration).
    pub fn bytes(&self) -> usize {
        self.get().map_or(0, Tables::bytes)
    }
}

impl Default for LazyTables {
    fn default() -> Self {
        Self::new()
    }
}

/// What a pending grace period will let go of, in both tables.
struct Grace {
    alloc: Option<GraceToken>,
    sa: Option<SaGraceToken>,
    cookie: GraceCookie,
}

struct Writer {
    host_slots: KVVec<HostSlot>,
    port_list: KVVec<BlockRef>,
    spi_list: KVVec<BlockRef>,
    st: WriterState,
    sa_counts: KVVec<u16>,
    sa_st: SaState,
    grace: Option<Grace>,
}

/// One namespace's allocation tables.
#[pin_data]
pub struct Tables {
    ports: KVVec<AtomicU16>,
    hosts: KVVec<AtomicU32>,
    host_index: KVVec<AtomicU32>,
    spi_index: KVVec<SpiEntry>,
    spi_dir: KVVec<AtomicU32>,
    spi_ctl: AtomicU32,
    sa_buckets: KVVec<SaBucket>,
    sa_blacklists: KVVec<BlacklistSlot>,
    sa_seed: Seed,
    out_sa_buckets: KVVec<OutSaBucket>,
    out_sa_counts: KVVec<AtomicU32>,
    out_sa_settings: OutSaSettings,
    /// The second of the last sweep of the outbound-SA table.
    out_sa_swept: AtomicU32,
    #[pin]
    writer: SpinLockIrq<Writer>,
    /// The per-host state beside the tables.
    #[pin]
    pub per_host: HostState,
    /// Events waiting to be sent (`notify.rs`).
    #[pin]
    pub events: RouterEvents,
}

impl Tables {
    /// Empty tables for [`HOSTS`] hosts.
    pub fn new() -> impl PinInit<Self, Error> {
        let l = Layout { hosts: HOSTS };
        try_pin_init!(Self {
            ports: filled(l.port_map_len(), || AtomicU16::new(0))?,
            hosts: filled(l.host_addrs_len(), || AtomicU32::new(0))?,
            host_index: filled(l.host_index_len(), || AtomicU32::new(0))?,
            spi_index: filled(l.spi_index_len(), SpiEntry::default)?,
            spi_dir: filled(l.spi_dir_len(), || AtomicU32::new(0))?,
            spi_ctl: AtomicU32::new(0),
            sa_buckets: filled(SA_LAYOUT.buckets_len(), SaBucket::default)?,
            sa_blacklists: filled(SA_LAYOUT.blacklists_len(), BlacklistSlot::default)?,
            // A secret per namespace: Internet hosts choose source
            // addresses and SPIs, and must not choose colliding ones.
            sa_seed: Seed([
                u64::from(random_u32()) << 32 | u64::from(random_u32()),
                u64::from(random_u32()) << 32 | u64::from(random_u32()),
            ]),
            out_sa_buckets: filled(OUT_SA_LAYOUT.buckets_len(), OutSaBucket::default)?,
            out_sa_counts: filled(OUT_SA_LAYOUT.counts_len(), || AtomicU32::new(0))?,
            // Secret as well: Internet hosts choose what errors quote, LAN
            // hosts what they send, and neither may aim at a set.
            out_sa_settings: OutSaSettings::with_seed([
                u64::from(random_u32()) << 32 | u64::from(random_u32()),
                u64::from(random_u32()) << 32 | u64::from(random_u32()),
            ]),
            out_sa_swept: AtomicU32::new(0),
            writer <- new_spinlock_irq!(Writer {
                host_slots: filled(l.host_slots_len(), || HostSlot::EMPTY)?,
                port_list: filled(l.port_list_len(), BlockRef::default)?,
                spi_list: filled(l.spi_list_len(), BlockRef::default)?,
                st: WriterState::new(Settings::DEFAULT),
                sa_counts: filled(SA_LAYOUT.counts_len(), || 0u16)?,
                sa_st: SaState::new(),
                grace: None,
            }),
            per_host <- HostState::new(),
            events <- RouterEvents::new(),
        })
    }

    /// The lock-free reader view.
    pub fn shared(&self) -> Option<Shared<'_>> {
        Shared::new(
            &self.ports,
            &self.hosts,
            &self.host_index,
            &self.spi_index,
            &self.spi_dir,
            &self.spi_ctl,
        )
        .ok()
    }

    /// The lock-free reader view of the established-SA table.
    pub fn sa_shared(&self) -> Option<SaShared<'_>> {
        SaShared::new(&self.sa_buckets, &self.sa_blacklists, self.sa_seed).ok()
    }

    /// The table of hosts' outbound SAs: lock-free for the packet path
    /// and for writers alike (see `dnat-core/src/out_sa.rs`).
    pub fn out_sa(&self) -> Option<OutSaShared<'_>> {
        OutSaShared::new(
            &self.out_sa_buckets,
            &self.out_sa_counts,
            self.out_sa_settings,
        )
        .ok()
    }

    /// Runs `f` on the writer views of both tables, under the lock, with
    /// the current time. SA entries of SPI blocks that leases end are
    /// removed with them, and each such block is reported (an `expired`
    /// event); callers that retire blocks themselves pass [`forget_block`]
    /// as the retire callback.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut AllocTable<'_>, &mut SaTable<'_>, u64) -> R,
    ) -> Option<R> {
        let shared = self.shared()?;
        let sa_shared = self.sa_shared()?;
        let mut guard = self.writer.lock();
        let Writer {
            host_slots,
            port_list,
            spi_list,
            st,
            sa_counts,
            sa_st,
            grace,
        } = &mut *guard;
        let mut t = AllocTable::new(shared, host_slots, port_list, spi_list, st).ok()?;
        let mut sa = SaTable::new(sa_shared, sa_counts, sa_st).ok()?;
        let now = monotonic_seconds();
        if let Some(g) = grace.as_ref() {
            if g.cookie.elapsed() {
                if let Some(tok) = g.alloc {
                    t.finish_grace(tok);
                }
                if let Some(tok) = g.sa {
                    sa.finish_grace(tok);
                }
                *grace = None;
            }
        }
        if t.next_expiry().is_some_and(|e| e <= now) {
            t.expire(now, |b| {
                forget_block(&mut sa, b);
                self.events.push_at(expired(b), now);
            });
            forget_idle(&mut sa, &t);
        }
        let r = f(&mut t, &mut sa, now);
        if grace.is_none() {
            let (alloc, sa_tok) = (t.start_grace(), sa.start_grace());
            if alloc.is_some() || sa_tok.is_some() {
                *grace = Some(Grace {
                    alloc,
                    sa: sa_tok,
                    cookie: GraceCookie::now(),
                });
            }
        }
        Some(r)
    }

    /// Finishes an elapsed grace period and expires due leases (an empty
    /// write). Returns whether a grace period is still pending, so that the
    /// caller can come back soon.
    /// Once a second it also sweeps the outbound-SA table: entries idle
    /// for longer than its timeout, and those of slots without a host or
    /// with a revoked one.
    pub fn maintain(&self) -> bool {
        let now = monotonic_seconds() as u32;
        let swept = self
            .out_sa_swept
            .load(core::sync::atomic::Ordering::Relaxed);
        if swept != now {
            self.out_sa_swept
                .store(now, core::sync::atomic::Ordering::Relaxed);
            if let (Some(o), Some(sh)) = (self.out_sa(), self.shared()) {
                o.expire(now, |s| {
                    sh.host_addr(s).is_some() && !self.per_host.is_revoked(s)
                });
            }
        }
        self.write(|_, _, _| ()).is_some() && self.writer.lock().grace.is_some()
    }

    /// Bytes of table memory (the PAP server's per-slot state included).
    pub fn bytes(&self) -> usize {
        Layout { hosts: HOSTS }.bytes()
            + SA_LAYOUT.bytes()
            + OUT_SA_LAYOUT.bytes()
            + (HOSTS + 1) * core::mem::size_of::<HostServing>()
            + core::mem::size_of::<Self>()
    }
}
