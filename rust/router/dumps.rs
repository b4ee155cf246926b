// SPDX-License-Identifier: GPL-2.0

//! The table dumps (`GET_BLOCKS`, `GET_HOSTS`, `GET_SAS`, `GET_BLACKLIST`).
//!
//! The tables' lock disables interrupts and serialises every PAP request
//! and every SA validation, so a dump never builds messages under it: each
//! hold scans at most [`SCAN`] positions and copies out at most [`BATCH`]
//! entries, and the messages are built after the lock is dropped. Like any
//! netlink dump, a listing taken while the tables change may miss or
//! repeat entries that moved.

use core::net::Ipv4Addr;

use kernel::prelude::*;

use crate::dnat_core::alloc_table::{BlockInfo, Blocks, Cursor, HostInfo, Kind};
use crate::dnat_core::sa_table::{BlacklistEntries, BlacklistEntry, SaCursor, SaEntries, SaEntry};
use crate::dnat_core::uapi::{block_kind, delivery};
use crate::dnat_core::uapi::{router_attr as a, router_cmd as cmd};
use crate::ffi::genl::{Dump, DumpIt, Msg};
use crate::router::hosts::{HostState, PerHost};
use crate::router::netlink::state;
use crate::router::tables::LazyTables;

/// Table positions scanned per hold of the lock.
const SCAN: u32 = 256;
/// Entries copied out per hold of the lock.
const BATCH: usize = 16;

/// Entries copied out under the lock, each with its position.
struct Batch<T> {
    items: [Option<(u32, T)>; BATCH],
    len: usize,
}

impl<T: Copy> Batch<T> {
    const fn new() -> Self {
        Self {
            items: [None; BATCH],
            len: 0,
        }
    }

    /// Copies the entries of `scan` (positions, ascending, none at or
    /// beyond `stop`, the end of the scan's window or of the table) until
    /// the batch is full. Returns where the next scan starts, or `None`
    /// when `stop` is the end of the table (`table_end`).
    fn take(
        &mut self,
        scan: impl Iterator<Item = (u32, T)>,
        stop: u32,
        table_end: bool,
    ) -> Option<u32> {
        for (pos, item) in scan {
            let Some(slot) = self.items.get_mut(self.len) else {
                return Some(pos);
            };
            *slot = Some((pos, item));
            self.len += 1;
        }
        (!table_end).then_some(stop)
    }
}

/// Runs a dump from its cursor: `scan(from, batch)`, under the tables'
/// lock, copies the entries from position `from` into `batch` (with
/// [`Batch::take`]); `fill` adds one entry's attributes, outside the lock.
/// The cursor is left on the first entry not sent.
fn run<T: Copy>(
    dump: &mut Dump<'_>,
    tables: &LazyTables,
    cmd: u8,
    mut scan: impl FnMut(
        &mut crate::dnat_core::alloc_table::AllocTable<'_>,
        &mut crate::dnat_core::sa_table::SaTable<'_>,
        u64,
        u32,
        &mut Batch<T>,
    ) -> Option<u32>,
    mut fill: impl FnMut(&mut Msg, &T, u64) -> Result,
) -> Result {
    if tables.get().is_none() {
        // Not configured yet: nothing allocated, nothing to list.
        return Ok(());
    }
    let mut from = u32::try_from(dump.cursor()).unwrap_or(u32::MAX);
    while from != u32::MAX {
        let mut batch = Batch::new();
        let (next, now) = tables
            .write(|t, sa, now| (scan(t, sa, now, from, &mut batch), now))
            .ok_or(ENOMEM)?;
        for (pos, item) in batch.items.iter().take(batch.len).flatten() {
            if !dump.entry(cmd, |m| fill(m, item, now))? {
                dump.set_cursor(*pos as usize);
                return Ok(());
            }
        }
        from = next.unwrap_or(u32::MAX);
    }
    // Done: park the cursor past the end so that the next call adds
    // nothing and ends the dump.
    dump.set_cursor(usize::MAX);
    Ok(())
}

/// A table scan that can be cut short at a position.
trait Window: Iterator + Sized {
    /// Stops the scan before position `end`.
    fn until(self, end: u32) -> Self;
    /// Where the scan ends.
    fn end(&self) -> u32;
}

macro_rules! window {
    ($($t:ident),*) => {$(
        impl Window for $t<'_> {
            fn until(self, end: u32) -> Self {
                $t::until(self, end)
            }
            fn end(&self) -> u32 {
                $t::end(self)
            }
        }
    )*};
}
window!(Blocks, SaEntries, BlacklistEntries);

/// Copies into `batch` what `keep` makes of the entries of `scan` (a scan
/// from position `from` to the end of its table) in the window of
/// [`SCAN`] positions from `from`; returns where the next window starts
/// ([`Batch::take`]).
fn take_window<I: Window, T: Copy>(
    batch: &mut Batch<T>,
    from: u32,
    scan: I,
    keep: impl FnMut(I::Item) -> Option<(u32, T)>,
) -> Option<u32> {
    let table_end = scan.end();
    let scan = scan.until(from.saturating_add(SCAN));
    let stop = scan.end();
    batch.take(scan.filter_map(keep), stop, stop >= table_end)
}

pub(crate) struct GetBlocks;

impl DumpIt for GetBlocks {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        run(
            dump,
            &st.tables,
            cmd::GET_BLOCKS,
            |t, _, _, from, batch| {
                let t = &*t;
                let scan = t.blocks_from(Cursor::from_raw(from));
                take_window(batch, from, scan, |(c, b)| {
                    let revoked = t.host_info(b.slot).is_some_and(|h| h.revoked);
                    (!b.retiring).then_some((c.raw(), (b, revoked)))
                })
            },
            |m, &(b, revoked): &(BlockInfo, bool), now| {
                m.put_be32(a::HOST_ADDR, b.host.octets())?;
                if revoked {
                    m.put_flag(a::HOST_REVOKED)?;
                }
                let kind = match b.kind {
                    Kind::Port => block_kind::PORTS,
                    Kind::Spi => block_kind::SPIS,
                };
                m.put_u8(a::BLOCK_KIND, kind)?;
                m.put_u32(a::BLOCK_LOWEST, b.lowest)?;
                m.put_u32(a::BLOCK_COUNT, b.count)?;
                if let Some(e) = b.expires {
                    let left = u32::try_from(e.saturating_sub(now)).unwrap_or(u32::MAX);
                    m.put_u32(a::BLOCK_EXPIRES, left)?;
                }
                if let Some(p) = b.pinned.filter(|&p| p > now) {
                    let left = u32::try_from(p - now).unwrap_or(u32::MAX);
                    m.put_u32(a::PIN_SECS, left)?;
                }
                Ok(())
            },
        )
    }
}

pub(crate) struct GetHosts;

impl DumpIt for GetHosts {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        run(
            dump,
            &st.tables,
            cmd::GET_HOSTS,
            |t, _, _, from, batch| {
                // Slots count from 1; the position is the slot.
                let end = u32::from(t.host_slots()) + 1;
                let from = from.max(1);
                let stop = from.saturating_add(SCAN).min(end);
                let hosts = (from..stop).filter_map(|s| {
                    let h = t.host_info(u16::try_from(s).ok()?)?;
                    Some((s, h))
                });
                batch.take(hosts, stop, stop >= end)
            },
            |m, h: &HostInfo, _| match st.hosts() {
                Some(hs) => fill_host(m, hs, h),
                None => Err(ENOENT),
            },
        )
    }
}

fn fill_host(m: &mut Msg, st: &HostState, h: &HostInfo) -> Result {
    let get = |a: &PerHost| HostState::get(a, h.slot);
    m.put_be32(a::HOST_ADDR, h.addr.octets())?;
    if h.revoked {
        m.put_flag(a::HOST_REVOKED)?;
    }
    m.put_u32(a::HOST_PORTS, h.ports)?;
    m.put_u32(a::HOST_SPIS, h.spis)?;
    let (in_packets, in_bytes) = HostState::traffic(&st.host_in, h.slot);
    let (out_packets, out_bytes) = HostState::traffic(&st.host_out, h.slot);
    m.put_u64(a::HOST_IN_PACKETS, in_packets, a::PAD)?;
    m.put_u64(a::HOST_OUT_PACKETS, out_packets, a::PAD)?;
    m.put_u64(a::HOST_SPOOFED, get(&st.host_spoofed), a::PAD)?;
    m.put_u64(a::HOST_SA_DROPPED, get(&st.host_sa_dropped), a::PAD)?;
    m.put_u32(a::QUOTA_PORTS, h.quota.ports)?;
    m.put_u32(a::QUOTA_SPIS, h.quota.spis)?;
    if h.custom_quota {
        m.put_flag(a::QUOTA_OWN)?;
    }
    if st.serving.lock().is_keyed(h.addr) {
        m.put_flag(a::HOST_AUTH)?;
    }
    m.put_u64(a::HOST_IN_BYTES, in_bytes, a::PAD)?;
    m.put_u64(a::HOST_OUT_BYTES, out_bytes, a::PAD)?;
    let b = st.direct.get(h.slot);
    let d = if b.is_direct() {
        delivery::DIRECT
    } else {
        delivery::IPIP
    };
    m.put_u8(a::DELIVERY, d)?;
    match b.lladdr() {
        Some(mac) => m.put_binary(a::LLADDR, &mac),
        None => Ok(()),
    }
}

pub(crate) struct GetSas;

impl DumpIt for GetSas {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        run(
            dump,
            &st.tables,
            cmd::GET_SAS,
            |t, sa, _, from, batch| {
                let t = &*t;
                let scan = sa.entries_from(SaCursor::from_raw(from));
                take_window(batch, from, scan, |(c, e)| {
                    Some((c.raw(), (t.host_info(e.slot)?.addr, e)))
                })
            },
            |m, &(host, e): &(Ipv4Addr, SaEntry), _| {
                m.put_be32(a::HOST_ADDR, host.octets())?;
                m.put_be32(a::PEER_ADDR, e.addr.octets())?;
                m.put_u32(a::SPI, e.spi)
            },
        )
    }
}

pub(crate) struct GetBlacklist;

impl DumpIt for GetBlacklist {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        run(
            dump,
            &st.tables,
            cmd::GET_BLACKLIST,
            |t, sa, _, from, batch| {
                let t = &*t;
                let scan = sa.blacklist_from(SaCursor::from_raw(from));
                take_window(batch, from, scan, |(c, e)| {
                    Some((c.raw(), (t.host_info(e.slot)?.addr, e)))
                })
            },
            |m, &(host, e): &(Ipv4Addr, BlacklistEntry), _| {
                m.put_be32(a::HOST_ADDR, host.octets())?;
                if let Some(p) = e.addr {
                    m.put_be32(a::PEER_ADDR, p.octets())?;
                }
                if let Some(s) = e.spi {
                    m.put_u32(a::SPI, s)?;
                }
                Ok(())
            },
        )
    }
}
