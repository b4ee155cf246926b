// SPDX-License-Identifier: GPL-2.0

//! Kernel glue for the source port translation table
//! (`dnat-core/src/sptt.rs`) and, beside it, the ICMP identifier
//! translations (`dnat-core/src/icmp.rs`): the per-namespace storage and
//! the writer lock they share.
//!
//! Readers (the packet path) look up without a lock; the first packet of a
//! flow, block changes (PAP, in softirq or process context) and expiry (the
//! periodic work) take an IRQ-disabling spinlock, so every context may.

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8};

use kernel::prelude::*;

use crate::common::packet::filled;
use kernel::{
    new_spinlock_irq,
    sync::{SetOnce, SpinLockIrq},
};

use crate::dnat_core::config::HostTimeouts;
use crate::dnat_core::icmp::{self, IdError, IdLayout, IdShared, IdTable, IdWriter};
use crate::dnat_core::pap::PortBlock;
use crate::dnat_core::sptt::{Layout, Proto, Segment, Shared, Sptt, Timeouts, WriterState};

/// Free ports below which the PAP client asks for another block.
pub const LOW_WATER: u32 = 8;

struct Writer {
    used: KVVec<u64>,
    st: WriterState,
    ids: IdWriter,
}

/// Dump cursors from here on are the identifier table's (its `back`
/// index), after the SPTT's (`proto index * 65536 + port`).
const ID_CURSOR: usize = (Proto::ALL.len()) << 16;

/// A translation, for dumps.
pub struct Translation {
    /// IP protocol (6 or 17; 1 for an ICMP identifier).
    pub proto: u8,
    /// The stack's own port (or ICMP identifier).
    pub local: u16,
    /// The granted port (or identifier) it is translated to.
    pub unique: u16,
    /// Seconds since last use.
    pub idle: u32,
    /// `flow_state` bits (0 for ICMP).
    pub state: u8,
}

/// One namespace's SPTT, allocated when the namespace's host is first
/// configured: the tables take about 1.9 MiB, which namespaces that never
/// use the host module do not pay. Once there, they stay until the
/// namespace goes (the state that holds them is dropped after its hooks).
pub struct LazySptt(SetOnce<Pin<KBox<SpttTables>>>);

impl LazySptt {
    /// Not allocated yet.
    pub const fn new() -> Self {
        Self(SetOnce::new())
    }

    /// The tables, once allocated (one acquire load).
    pub fn get(&self) -> Option<&SpttTables> {
        self.0.as_ref().map(|t| &**t)
    }

    /// The tables, allocated now if they are not yet. Process context;
    /// callers serialise (the configuration lock), so that two do not
    /// both allocate (the loser's tables would only be freed again).
    pub fn get_or_alloc(&self) -> Result<&SpttTables> {
        if let Some(t) = self.get() {
            return Ok(t);
        }
        let t = KBox::pin_init(SpttTables::new(), GFP_KERNEL)?;
        self.0.populate(t);
        self.get().ok_or(ENOMEM)
    }

    /// Ends idle translations (none without tables).
    pub fn expire(&self, now: u32, timeouts: &HostTimeouts) {
        if let Some(t) = self.get() {
            t.expire(now, timeouts);
        }
    }

    /// Ends every translation and forgets the pool.
    pub fn clear(&self) {
        if let Some(t) = self.get() {
            t.clear();
        }
    }

    /// Replaces the pool with the held `blocks`.
    pub fn set_blocks(&self, blocks: &[PortBlock]) {
        if let Some(t) = self.get() {
            t.set_blocks(blocks);
        }
    }

    /// Translations in use (both protocols).
    pub fn in_use(&self) -> u32 {
        self.get().map_or(0, SpttTables::in_use)
    }

    /// ICMP identifier translations in use.
    pub fn ids_in_use(&self) -> u32 {
        self.get().map_or(0, SpttTables::ids_in_use)
    }

    /// Ports of `lowest..lowest+count` in use by translations.
    pub fn used_in(&self, lowest: u32, count: u32) -> u32 {
        self.get().map_or(0, |t| t.used_in(lowest, count))
    }

    /// The translation at `cursor` or after it, and the next cursor.
    pub fn entry(&self, cursor: usize, now: u32) -> Option<(Translation, usize)> {
        self.get()?.entry(cursor, now)
    }
}

impl Default for LazySptt {
    fn default() -> Self {
        Self::new()
    }
}

/// One namespace's SPTT.
#[pin_data]
pub struct SpttTables {
    ports: KVVec<AtomicU16>,
    times: KVVec<AtomicU32>,
    states: KVVec<AtomicU8>,
    held: KVVec<AtomicU64>,
    peers: KVVec<AtomicU64>,
    id_out: KVVec<AtomicU32>,
    id_back: KVVec<AtomicU32>,
    id_times: KVVec<AtomicU32>,
    /// Free ports (minimum over both protocols), for the packet path.
    free: AtomicU32,
    #[pin]
    writer: SpinLockIrq<Writer>,
}

impl SpttTables {
    /// An empty table (about 1.9 MiB, `Layout::BYTES`, and 12 KiB of
    /// identifier translations, `IdLayout::BYTES`).
    pub fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ports: filled(Layout::PORTS_LEN, || AtomicU16::new(0))?,
            times: filled(Layout::TIMES_LEN, || AtomicU32::new(0))?,
            states: filled(Layout::STATES_LEN, || AtomicU8::new(0))?,
            held: filled(Layout::HELD_LEN, || AtomicU64::new(0))?,
            peers: filled(Layout::PEERS_LEN, || AtomicU64::new(0))?,
            id_out: filled(IdLayout::OUT_LEN, || AtomicU32::new(0))?,
            id_back: filled(IdLayout::BACK_LEN, || AtomicU32::new(0))?,
            id_times: filled(IdLayout::TIMES_LEN, || AtomicU32::new(0))?,
            free: AtomicU32::new(0),
            writer <- new_spinlock_irq!(Writer {
                used: filled(Layout::USED_LEN, || 0u64)?,
                st: WriterState::new(),
                ids: IdWriter::new(),
            }),
        })
    }

    fn shared(&self) -> Option<Shared<'_>> {
        Shared::new(
            &self.ports,
            &self.times,
            &self.states,
            &self.held,
            &self.peers,
        )
        .ok()
    }

    fn ids(&self) -> Option<IdShared<'_>> {
        IdShared::new(&self.id_out, &self.id_back, &self.id_times).ok()
    }

    /// Runs `f` on the writer views of both tables under the lock, then
    /// refreshes the free-port count.
    fn write<R>(&self, f: impl FnOnce(&mut Sptt<'_>, &mut IdTable<'_>) -> R) -> Option<R> {
        let shared = self.shared()?;
        let id_shared = self.ids()?;
        let mut g = self.writer.lock();
        let Writer { used, st, ids } = &mut *g;
        let mut t = Sptt::new(shared, used, st).ok()?;
        let mut ids = IdTable::new(id_shared, ids);
        let r = f(&mut t, &mut ids);
        let free = Proto::ALL
            .iter()
            .map(|&p| t.free_ports(p))
            .min()
            .unwrap_or(0);
        self.free.store(
            u32::try_from(free).unwrap_or(u32::MAX),
            core::sync::atomic::Ordering::Relaxed,
        );
        Some(r)
    }

    /// The granted port for `port` of `proto` (6 or 17), creating the
    /// translation on a flow's first packet: `(unique, created)`, or `None`
    /// when no granted port is free.
    pub fn out(&self, proto: u8, port: u16, now: u32) -> Option<(u16, bool)> {
        let p = Proto::from_ip(proto)?;
        if let Some(u) = self.shared()?.lookup_out(p, port, now) {
            return Some((u, false));
        }
        self.write(|t, _| t.create(p, port, now).ok().map(|u| (u, true)))?
    }

    /// The granted identifier for the stack's ICMP query identifier `id`,
    /// creating the translation (a held port's number, the identity when
    /// `id` is held and free) on the first request: `(unique, created)`.
    pub fn id_out(&self, id: u16, now: u32) -> Result<(u16, bool), IdError> {
        let ids = self.ids().ok_or(IdError::BadLayout)?;
        if let Some(u) = ids.lookup_out(id, now) {
            return Ok((u, false));
        }
        self.write(|t, ids| ids.create(id, now, t.blocks()).map(|u| (u, true)))
            .ok_or(IdError::BadLayout)?
    }

    /// The stack's identifier behind granted identifier `unique` (a query
    /// reply), marked used at `now`.
    pub fn id_back(&self, unique: u16, now: u32) -> Option<u16> {
        self.ids()?.lookup_in(unique, now)
    }

    /// What an ICMP error about a packet the host sent quotes, back from
    /// granted to the stack's (peek: the translation's last use stays).
    /// `ports`: whether TCP and UDP ports are translated (translate mode).
    pub fn quote_in(&self, quoted: icmp::Quoted, v: u16, ports: bool) -> Option<u16> {
        match quoted {
            icmp::Quoted::Icmp => self.ids()?.peek_in(v),
            icmp::Quoted::Tcp if ports => self.shared()?.peek_in(Proto::Tcp, v),
            icmp::Quoted::Udp if ports => self.shared()?.peek_in(Proto::Udp, v),
            // Native mode: the stack's ports are the wire's.
            icmp::Quoted::Tcp | icmp::Quoted::Udp => Some(v),
        }
    }

    /// What an ICMP error about a packet the host received quotes, from the
    /// stack's to granted (peek).
    pub fn quote_out(&self, quoted: icmp::Quoted, v: u16, ports: bool) -> Option<u16> {
        match quoted {
            icmp::Quoted::Icmp => self.ids()?.peek_out(v),
            icmp::Quoted::Tcp if ports => self.shared()?.peek_out(Proto::Tcp, v),
            icmp::Quoted::Udp if ports => self.shared()?.peek_out(Proto::Udp, v),
            icmp::Quoted::Tcp | icmp::Quoted::Udp => Some(v),
        }
    }

    /// The stack's port for granted port `port` of `proto`, if translated.
    pub fn back(&self, proto: u8, port: u16, now: u32) -> Option<u16> {
        self.shared()?.lookup_in(Proto::from_ip(proto)?, port, now)
    }

    /// Records TCP segment `seg` of the flow on granted `port` (its flags;
    /// whether an inbound RST may close the entry, see
    /// `Shared::note_tcp`).
    pub fn note_tcp(&self, port: u16, seg: &Segment, outbound: bool, now: u32) {
        if let Some(s) = self.shared() {
            s.note_tcp(port, seg, outbound, now);
        }
    }

    /// Whether free ports ran low (time to ask for another block).
    pub fn low(&self) -> bool {
        self.free.load(core::sync::atomic::Ordering::Relaxed) < LOW_WATER
    }

    /// Replaces the pool with the held `blocks`.
    pub fn set_blocks(&self, blocks: &[PortBlock]) {
        self.write(|t, ids| {
            if t.set_blocks(blocks).is_err() {
                // Not expected (the client holds at most as many blocks,
                // disjoint): keep nothing rather than a wrong pool.
                let _ = t.set_blocks(&[]);
            }
            // Identifier translations end with their port's block.
            ids.retain_held(t.blocks());
        });
    }

    /// Ends idle translations.
    pub fn expire(&self, now: u32, timeouts: &HostTimeouts) {
        let t = Timeouts {
            tcp_idle: timeouts.tcp,
            udp_idle: timeouts.udp,
            ..Timeouts::DEFAULT
        };
        self.write(|s, ids| {
            s.expire(now, &t);
            ids.expire(now, icmp::DEFAULT_IDLE);
        });
    }

    /// Ends every translation and forgets the pool.
    pub fn clear(&self) {
        self.write(|t, ids| {
            t.remove_all();
            let _ = t.set_blocks(&[]);
            ids.remove_all();
        });
    }

    /// Translations in use (both protocols).
    pub fn in_use(&self) -> u32 {
        self.write(|t, _| t.entries(Proto::Tcp) + t.entries(Proto::Udp))
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// ICMP identifier translations in use.
    pub fn ids_in_use(&self) -> u32 {
        self.write(|_, ids| ids.entries())
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Ports of `lowest..lowest+count` in use by translations (either
    /// protocol).
    pub fn used_in(&self, lowest: u32, count: u32) -> u32 {
        let (Ok(lowest), Ok(count)) = (u16::try_from(lowest), u8::try_from(count)) else {
            return 0;
        };
        let b = PortBlock { lowest, count };
        self.write(|t, _| Proto::ALL.iter().map(|&p| t.used_in(p, &b)).sum::<usize>())
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The translation at `cursor` or after it, and the next cursor.
    /// Port translations (TCP, then UDP) come first, then the ICMP
    /// identifier translations.
    pub fn entry(&self, cursor: usize, now: u32) -> Option<(Translation, usize)> {
        if cursor < ID_CURSOR {
            let c = u32::try_from(cursor).ok()?;
            if let Some(r) = self.port_entry(c, now) {
                return Some(r);
            }
        }
        let c = u32::try_from(cursor.max(ID_CURSOR) - ID_CURSOR).ok()?;
        let (e, next) = self.write(|_, ids| ids.next_entry(c))??;
        Some((
            Translation {
                proto: crate::dnat_core::ipv4::proto::ICMP,
                local: e.eph,
                unique: e.unique,
                idle: now.saturating_sub(e.last_use),
                state: 0,
            },
            ID_CURSOR + next as usize,
        ))
    }

    /// The port translation at `cursor` or after it, and the next cursor.
    fn port_entry(&self, c: u32, now: u32) -> Option<(Translation, usize)> {
        let (e, next) = self.write(|t, _| t.next_entry(c))??;
        Some((
            Translation {
                proto: e.proto.ip(),
                local: e.eph,
                unique: e.unique,
                idle: now.saturating_sub(e.last_use),
                state: e.state,
            },
            next as usize,
        ))
    }
}
