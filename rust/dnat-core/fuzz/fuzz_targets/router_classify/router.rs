// SPDX-License-Identifier: GPL-2.0

//! The router under test: its tables, the operations the input drives on
//! them, and the checks of the tables' invariants.

use std::net::Ipv4Addr;

use dnat_core::alloc_table::{AllocTable, BlockInfo, Cursor, GraceToken, Kind, Quota, Slot};
use dnat_core::classify::SaKey;
use dnat_core::config::Range;
use dnat_core::pap::{self, scope, Direction, Message, PortBlock, PortClass, SpiBlock, Trailer};
use dnat_core::pap_server::{forget_block, forget_idle, owns_spi, serve_with_sa};
use dnat_core::sa_table::{Lan, SaCursor, SaGraceToken, SaTable};
use dnat_core::store::{OutSaStore, RouterStore};
use std::collections::{HashMap, HashSet};

use super::input::Input;

/// Host slots of the allocation table (fewer than candidate hosts, so the
/// table fills).
pub(super) const HOSTS: usize = 8;
/// The shared public address.
pub(super) const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
/// The router's LAN address and prefix.
pub(super) const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);
const LAN: Lan = Lan {
    addr: ROUTER_LAN,
    mask: Ipv4Addr::new(255, 255, 0, 0),
};
/// Most operations taken from one input.
pub(super) const MAX_OPS: usize = 64;
/// Most packets decided per input.
pub(super) const MAX_PACKETS: usize = 8;

/// Candidate host `i % 16`: 10.0.0.1-4, 10.0.16.1-4, ...: pairs share the
/// low 12 bits, so the host index has collisions.
pub(super) fn host(i: u8) -> Ipv4Addr {
    let i = i % 16;
    Ipv4Addr::new(10, 0, (i >> 2) * 16, 1 + (i & 3))
}

/// An SA peer or packet source: mostly external addresses, sometimes one
/// the SA table refuses (LAN, unspecified, broadcast, the public address).
pub(super) fn peer(b: u8) -> Ipv4Addr {
    match b % 16 {
        12 => Ipv4Addr::new(10, 0, 0, 9),
        13 => PUBLIC,
        14 => Ipv4Addr::UNSPECIFIED,
        15 => Ipv4Addr::BROADCAST,
        n => Ipv4Addr::new(198, 51, 100, 1 + n),
    }
}

/// An optional trailer.
fn trailer(inp: &mut Input<'_>) -> Option<Trailer> {
    let b = inp.u8();
    (b & 1 != 0).then(|| Trailer {
        xid: u32::from(b >> 1),
        epoch: 0,
        lease: u32::from(inp.u8() % 16),
    })
}

/// The router's tables and what its glue keeps beside them.
pub(super) struct Router {
    pub(super) store: RouterStore,
    pub(super) now: u64,
    pub(super) epoch: u32,
    /// A grace period in progress (both tables' tokens).
    pub(super) grace: Option<(Option<GraceToken>, Option<SaGraceToken>)>,
    /// Port and SPI pools, as configured.
    pub(super) ports: Option<Range<u16>>,
    pub(super) spis: Option<Range<u32>>,
    /// The hosts' outbound SAs, as the glue would keep them.
    pub(super) out: OutSaStore,
    /// Who learnt each SA: (slot, host) pairs, less what the glue removed.
    pub(super) learnt: HashMap<SaKey, HashSet<(Slot, Ipv4Addr)>>,
    /// The host of each slot (and whether revoked) after the last
    /// operation, to tell when a slot changes hands.
    pub(super) slots: [Option<(Ipv4Addr, bool)>; HOSTS + 1],
}

impl Router {
    /// The glue's upkeep of the outbound-SA table: a reset clears it; a
    /// slot whose host changed, went or was revoked loses its entries;
    /// idle entries and those of such slots expire.
    fn reconcile_out_sa(&mut self, reset: bool) {
        let out = self.out.shared();
        if reset {
            out.clear();
            self.learnt.clear();
        }
        let (t, _) = self.store.both();
        for s in 1..=HOSTS as Slot {
            let now = t.host_info(s).map(|h| (h.addr, h.revoked));
            let before = self.slots[usize::from(s)];
            let gone = before.is_some() && before.map(|b| b.0) != now.map(|n| n.0);
            if gone || now.is_some_and(|(_, revoked)| revoked) {
                out.remove_host(s);
                assert_eq!(out.host_entries(s), 0);
                for v in self.learnt.values_mut() {
                    v.retain(|&(slot, _)| slot != s);
                }
            }
            self.slots[usize::from(s)] = now;
        }
        let alive = |s: Slot| t.host_info(s).is_some_and(|h| !h.revoked);
        out.expire(self.now as u32, alive);
        let total: usize = (1..=HOSTS as Slot)
            .map(|s| out.host_entries(s) as usize)
            .sum();
        assert_eq!(total, out.entries_from(0).count(), "outbound SA counts");
    }

    /// Runs `f` on both writer views as `RouterTables::write` does: an
    /// elapsed grace period ends first (`elapsed`), due leases expire with
    /// their SA state, and a new grace period starts if none is running.
    pub(super) fn write<R>(
        &mut self,
        elapsed: bool,
        f: impl FnOnce(&mut AllocTable<'_>, &mut SaTable<'_>, u64) -> R,
    ) -> R {
        let now = self.now;
        let (mut t, mut sa) = self.store.both();
        if elapsed {
            if let Some((a, s)) = self.grace.take() {
                if let Some(a) = a {
                    t.finish_grace(a);
                }
                if let Some(s) = s {
                    sa.finish_grace(s);
                }
            }
        }
        if t.next_expiry().is_some_and(|e| e <= now) {
            t.expire(now, |b| {
                forget_block(&mut sa, b);
            });
            forget_idle(&mut sa, &t);
        }
        let r = f(&mut t, &mut sa, now);
        if self.grace.is_none() {
            let (a, s) = (t.start_grace(), sa.start_grace());
            if a.is_some() || s.is_some() {
                self.grace = Some((a, s));
            }
        }
        r
    }

    /// Ends grace periods until none is needed: everything retired is
    /// reclaimed and the SPI index is published.
    pub(super) fn settle(&mut self) {
        for _ in 0..8 {
            self.write(true, |_, _, _| ());
            if self.grace.is_none() {
                let (t, _) = self.store.both();
                let s = t.stats();
                assert_eq!(s.retiring, 0, "settled table with retiring blocks");
                assert!(
                    !s.spi_publish_pending,
                    "settled table with SPI changes unpublished"
                );
                return;
            }
        }
        panic!("grace periods do not settle");
    }

    /// Serves a PAP message from `from`, as the router's PAP server does
    /// with a message that decoded.
    fn pap(&mut self, from: Ipv4Addr, msg: &Message) {
        if msg.direction() != Direction::ToRouter || msg.validate().is_err() {
            return;
        }
        let epoch = self.epoch;
        let (reply, _) = self.write(false, |t, sa, now| {
            let r = serve_with_sa(t, sa, LAN, from, msg, now, epoch);
            if let Some(reply) = &r.0 {
                check_grant(t, from, reply);
            }
            r
        });
        if let Some(reply) = reply {
            assert_eq!(reply.direction(), Direction::ToHost, "{msg:?} -> {reply:?}");
            assert_eq!(reply.validate(), Ok(()), "{msg:?} -> {reply:?}");
            let mut buf = [0u8; pap::MAX_LEN];
            let n = pap::encode(&reply, &mut buf).expect("a reply encodes");
            assert_eq!(pap::decode(&buf[..n], Direction::ToHost), Ok(reply));
        }
    }
}

/// A grant in `reply` names an active block that `host` holds.
fn check_grant(t: &AllocTable<'_>, host: Ipv4Addr, reply: &Message) {
    let (kind, lowest, count) = match *reply {
        Message::PortResponse { result: Ok(b), .. } => {
            (Kind::Port, u32::from(b.lowest), u32::from(b.count))
        }
        Message::SpiResponse { result: Ok(b), .. } => (Kind::Spi, b.lowest, u32::from(b.count)),
        _ => return,
    };
    let held = t.blocks_from(Cursor::START).any(|(_, b)| {
        b.host == host && b.kind == kind && b.lowest == lowest && b.count == count && !b.retiring
    });
    assert!(held, "grant {reply:?} to {host} is not its active block");
}

/// Every block (active and retiring).
pub(super) fn blocks(t: &AllocTable<'_>) -> Vec<BlockInfo> {
    t.blocks_from(Cursor::START).map(|(_, b)| b).collect()
}

/// The block of `kind` holding `v`, if any (at most one may).
pub(super) fn holder(all: &[BlockInfo], kind: Kind, v: u32) -> Option<BlockInfo> {
    let mut it = all
        .iter()
        .filter(|b| b.kind == kind && b.lowest <= v && v <= b.last());
    let b = it.next().copied();
    assert!(it.next().is_none(), "two blocks hold {kind:?} {v}");
    b
}

/// The table-wide invariants.
fn check_tables(r: &mut Router) {
    let (t, sa) = r.store.both();
    let mut all = blocks(&t);
    all.sort_by_key(|b| (b.kind as u8, b.lowest));
    for w in all.windows(2) {
        if w[0].kind == w[1].kind {
            assert!(w[0].last() < w[1].lowest, "overlapping blocks {w:?}");
        }
    }
    for b in &all {
        assert!(b.count > 0, "empty block {b:?}");
        assert!(u64::from(b.lowest) + u64::from(b.count) - 1 <= u64::from(u32::MAX));
        match b.kind {
            Kind::Port => assert!(b.lowest >= 1 && b.last() <= 65535, "{b:?}"),
            Kind::Spi => assert!(b.lowest >= 256, "{b:?}"),
        }
        assert_eq!(
            t.find_host(b.host),
            Some(b.slot),
            "block of an unknown host {b:?}"
        );
    }
    let mut per_slot = [(0usize, 0usize); HOSTS + 1];
    for (_, e) in sa.entries_from(SaCursor::START) {
        assert!(
            owns_spi(&t, e.slot, e.spi),
            "SA without its SPI block: {e:?}"
        );
        per_slot[usize::from(e.slot)].0 += 1;
    }
    for (_, e) in sa.blacklist_from(SaCursor::START) {
        if let Some(spi) = e.spi {
            assert!(
                owns_spi(&t, e.slot, spi),
                "blacklist entry without its SPI block: {e:?}"
            );
        }
        assert!(
            e.addr.is_some() || e.spi.is_some(),
            "empty blacklist entry {e:?}"
        );
        per_slot[usize::from(e.slot)].1 += 1;
    }
    for s in 1..=HOSTS as Slot {
        let (n, b) = sa.host_counts(s);
        assert_eq!(
            (usize::from(n), usize::from(b)),
            per_slot[usize::from(s)],
            "SA counts of slot {s}"
        );
    }
    for h in t.hosts_from(1) {
        assert_eq!(t.find_host(h.addr), Some(h.slot), "host index misses {h:?}");
        assert_eq!(t.shared().host_addr(h.slot), Some(h.addr));
    }
    for i in 0..16 {
        if let Some(s) = t.find_host(host(i)) {
            assert_eq!(t.host_info(s).map(|h| h.addr), Some(host(i)));
        }
    }
}

/// A value of `kind` to name in a message: inside a block the table
/// holds (`sel` picks it) or, if there is none or `raw`, `off` itself.
fn value(t: &AllocTable<'_>, kind: Kind, sel: u8, off: u32, raw: bool) -> u32 {
    let all: Vec<BlockInfo> = blocks(t).into_iter().filter(|b| b.kind == kind).collect();
    if raw || all.is_empty() {
        return off;
    }
    let b = all[usize::from(sel) % all.len()];
    b.lowest + off % b.count
}

/// One operation; false when the input is used up.
pub(super) fn op(r: &mut Router, inp: &mut Input<'_>) -> bool {
    if inp.is_empty() {
        return false;
    }
    let code = inp.u8();
    let from = host(inp.u8());
    let dir = Direction::ToRouter;
    match code % 24 {
        // Requests: the most common operations.
        0..=3 => {
            let class = if code & 0x80 != 0 {
                PortClass::Low
            } else {
                PortClass::High
            };
            let count = inp.u8() ^ 16;
            let ext = trailer(inp);
            r.pap(from, &Message::PortRequest { class, count, ext });
        }
        4..=5 => {
            let count = (inp.u16() ^ 16) % 512;
            let ext = trailer(inp);
            r.pap(from, &Message::SpiRequest { count, ext });
        }
        6 | 7 => {
            // A validation (or its removal) of a peer for an SPI.
            let (sel, off, raw, p) = (inp.u8(), inp.u32(), code & 0x80 != 0, peer(inp.u8()));
            let spi = r.write(false, |t, _, _| value(t, Kind::Spi, sel, off, raw));
            let ext = trailer(inp);
            let msg = if code % 24 == 6 {
                Message::SaValidate { addr: p, spi, ext }
            } else {
                Message::SaInvalidate { addr: p, spi, ext }
            };
            r.pap(from, &msg);
        }
        8 | 9 => {
            let (sel, off, raw) = (inp.u8(), inp.u32(), code & 0x80 != 0);
            let spi = r.write(false, |t, _, _| value(t, Kind::Spi, sel, off, raw));
            let b = inp.u8();
            let addr = (b & 1 != 0).then(|| peer(b >> 1));
            let spi = (b & 0x80 == 0 || addr.is_none()).then_some(spi);
            let ext = trailer(inp);
            let msg = if code % 24 == 8 {
                Message::BlacklistAdd { addr, spi, ext }
            } else {
                Message::BlacklistRemove { addr, spi, ext }
            };
            r.pap(from, &msg);
        }
        10 => {
            // A host gives a port or SPI, or a block, back, or renews one.
            let (sel, off, raw, what) = (inp.u8(), inp.u32(), code & 0x80 != 0, inp.u8());
            let kind = if what & 1 == 0 { Kind::Port } else { Kind::Spi };
            let (v, count) = r.write(false, |t, _, _| {
                let v = value(t, kind, sel, off, raw);
                let count = blocks(t)
                    .iter()
                    .find(|b| b.kind == kind && b.lowest == v)
                    .map_or(u32::from(what >> 3).max(1), |b| b.count);
                (v, count)
            });
            let ext = trailer(inp);
            let full = Trailer {
                xid: 7,
                epoch: r.epoch,
                lease: u32::from(what >> 4),
            };
            let msg = match (kind, what >> 1 & 3) {
                (Kind::Port, 0) => Message::PortInvalidate {
                    dir,
                    port: v as u16,
                    ext,
                },
                (Kind::Port, 1) => Message::PortBlockInvalidate {
                    dir,
                    block: PortBlock {
                        lowest: v as u16,
                        count: count as u8,
                    },
                    ext,
                },
                (Kind::Port, _) => Message::PortRenew {
                    block: PortBlock {
                        lowest: v as u16,
                        count: count as u8,
                    },
                    ext: full,
                },
                (Kind::Spi, 0) => Message::SpiInvalidate { dir, spi: v, ext },
                (Kind::Spi, 1) => Message::SpiBlockInvalidate {
                    dir,
                    block: SpiBlock {
                        lowest: v,
                        count: count as u16,
                    },
                    ext,
                },
                (Kind::Spi, _) => Message::SpiRenew {
                    block: SpiBlock {
                        lowest: v,
                        count: count as u16,
                    },
                    ext: full,
                },
            };
            r.pap(from, &msg);
        }
        11 => {
            let s = inp.u8() & scope::ALL;
            let ext = trailer(inp);
            r.pap(from, &Message::InvalidateAll { dir, scope: s, ext });
        }
        12 => {
            // Raw bytes: whatever decodes is served.
            let n = usize::from(inp.u8() % 32);
            let bytes = inp.take(n);
            if let Ok(msg) = pap::decode(bytes, Direction::ToRouter) {
                r.pap(from, &msg);
            }
        }
        13 => {
            // REVOKE_HOST, as the router's netlink handler does it.
            r.write(false, |t, sa, _| {
                let known = t.find_host(from).is_some();
                if t.revoke_host(from, |b| {
                    forget_block(sa, b);
                })
                .is_err()
                {
                    return;
                }
                if let Some(s) = t.find_host(from) {
                    sa.remove_host(s);
                    if !known {
                        sa.remove_host(s);
                    }
                }
            });
        }
        14 => {
            r.write(false, |t, _, _| {
                let _ = t.readmit_host(from);
            });
        }
        15 => {
            // RESET.
            r.write(false, |t, sa, _| {
                t.invalidate_all(None, |_| {});
                sa.clear();
            });
            r.epoch = r.epoch.wrapping_add(1);
        }
        16 => {
            // SET_CONFIG with new pools (valid ones, as config checks them).
            let f = inp.u8();
            let pmin = inp.u16().max(1);
            let pmax = pmin.saturating_add(u16::from(inp.u8()) * 16);
            let smin = inp.u32().max(256);
            let smax = smin.saturating_add(u32::from(inp.u16()) * 16);
            let ports = (f & 1 == 0).then_some(Range {
                min: pmin,
                max: pmax,
            });
            let spis = (f & 2 == 0).then_some(Range {
                min: smin,
                max: smax,
            });
            if (ports, spis) != (r.ports, r.spis) {
                r.ports = ports;
                r.spis = spis;
                r.write(false, |t, sa, _| {
                    t.set_pools(ports, spis, |b| {
                        forget_block(sa, b);
                    });
                    forget_idle(sa, t);
                });
            }
        }
        17 => {
            // SET_QUOTA.
            let q = (code & 0x80 == 0).then(|| Quota {
                ports: u32::from(inp.u16()),
                spis: u32::from(inp.u16()),
            });
            r.write(false, |t, sa, _| {
                let known = t.find_host(from);
                if t.set_quota(from, q).is_ok() {
                    if let (None, Some(s)) = (known, t.find_host(from)) {
                        sa.remove_host(s);
                    }
                }
            });
        }
        18 => {
            // PIN_BLOCK.
            let (sel, off, raw, what) = (inp.u8(), inp.u32(), code & 0x80 != 0, inp.u8());
            let kind = if what & 1 == 0 { Kind::Port } else { Kind::Spi };
            let (count, secs) = (u32::from(inp.u8()), u32::from(inp.u8()));
            r.write(false, |t, _, now| {
                let v = value(t, kind, sel, off, raw);
                let _ = t.pin(from, kind, v, count, secs, now);
            });
        }
        19 | 20 => {
            // SA_VALIDATE / SA_INVALIDATE / BLACKLIST_ADD / BLACKLIST_DEL
            // by the administrator.
            let (sel, off, raw, b) = (inp.u8(), inp.u32(), code & 0x80 != 0, inp.u8());
            let p = peer(inp.u8());
            let add = code & 0x40 != 0;
            r.write(false, |t, sa, _| {
                let spi = value(t, Kind::Spi, sel, off, raw);
                let Some(slot) = t.find_host(from) else {
                    return;
                };
                let owns = |s: Slot, x: u32| owns_spi(t, s, x);
                let _ = match (code % 24 == 19, add) {
                    (true, true) => sa.validate(slot, p, spi, Some(LAN), owns).map(|_| ()),
                    (true, false) => sa.invalidate(slot, p, spi),
                    (false, add) => {
                        let addr = (b & 1 != 0).then_some(p);
                        let spi = (b & 2 != 0).then_some(spi);
                        if addr.is_none() && spi.is_none() {
                            return;
                        }
                        if add {
                            sa.blacklist_add(slot, addr, spi, Some(LAN), owns)
                                .map(|_| ())
                        } else {
                            sa.blacklist_remove(slot, addr, spi)
                        }
                    }
                };
            });
        }
        21 => {
            // Time passes; leases end on the next write.
            r.now += u64::from(inp.u8());
            r.write(false, |_, _, _| ());
        }
        22 => {
            // The grace period's callback: the period elapsed.
            r.write(true, |_, _, _| ());
        }
        _ => {
            let n = inp.u8() % 16 + 1;
            r.write(false, |_, sa, _| sa.set_host_limit(u16::from(n)));
        }
    }
    check_tables(r);
    r.reconcile_out_sa(code % 24 == 15);
    true
}
