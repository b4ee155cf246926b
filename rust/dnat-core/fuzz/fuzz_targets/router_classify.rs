// SPDX-License-Identifier: GPL-2.0

//! The router's per-packet decision on arbitrary packets, against tables
//! built from the same input.
//!
//! The input is first a list of operations on a router's allocation and SA
//! tables: PAP messages served by `pap_server::serve_with_sa`, the
//! administrator's commands as `rust/router/netlink.rs` does them, the
//! clock and grace periods as `rust/router/tables.rs` moves them. The rest
//! is packets, decided inbound or outbound as `rust/router/datapath.rs`
//! does, with or without the ICMP lookups. Besides "no panic", it checks
//! the tables' invariants after every operation, and every verdict against
//! a plain reading of the packet and a linear scan of the tables.
//!
//! What is built and what is checked: Documentation/testing.rst, section
//! "Fuzzing", `router_classify`.

#![no_main]

use std::net::Ipv4Addr;

use dnat_core::alloc_table::{
    AllocTable, BlockInfo, Cursor, GraceToken, Kind, Quota, Settings, Shared, Slot,
};
use dnat_core::checksum;
use dnat_core::classify::{
    self, InKey, Key, OutError, OutRefusal, Proof, SaKey, L4_PEEK, NAT_T_PORT,
};
use dnat_core::config::{is_unicast, Range};
use dnat_core::ipv4::{proto, Header, HEADER_LEN};
use dnat_core::out_sa::{Learnt, OutSaLayout, OutSaSettings, OutSaShared};
use dnat_core::pap::{self, scope, Direction, Message, PortBlock, PortClass, SpiBlock, Trailer};
use dnat_core::pap_server::{forget_block, forget_idle, owns_spi, serve_with_sa};
use dnat_core::sa_table::{
    DropReason, Lan, SaCursor, SaEntry, SaGraceToken, SaLayout, SaShared, SaTable, Seed, Verdict,
};
use dnat_core::sptt::{rewrite_port, Proto, Which};
use dnat_core::store::{AllocStore, OutSaStore, RouterStore, SaStore};
use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, HashSet};

#[path = "input.rs"]
mod input;
use input::Input;

/// Host slots of the allocation table (fewer than candidate hosts, so the
/// table fills).
const HOSTS: usize = 8;
/// The shared public address.
const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
/// The router's LAN address and prefix.
const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);
const LAN: Lan = Lan {
    addr: ROUTER_LAN,
    mask: Ipv4Addr::new(255, 255, 0, 0),
};
/// Most operations taken from one input.
const MAX_OPS: usize = 64;
/// Most packets decided per input.
const MAX_PACKETS: usize = 8;

/// Candidate host `i % 16`: 10.0.0.1-4, 10.0.16.1-4, ...: pairs share the
/// low 12 bits, so the host index has collisions.
fn host(i: u8) -> Ipv4Addr {
    let i = i % 16;
    Ipv4Addr::new(10, 0, (i >> 2) * 16, 1 + (i & 3))
}

/// An SA peer or packet source: mostly external addresses, sometimes one
/// the SA table refuses (LAN, unspecified, broadcast, the public address).
fn peer(b: u8) -> Ipv4Addr {
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
struct Router {
    store: RouterStore,
    now: u64,
    epoch: u32,
    /// A grace period in progress (both tables' tokens).
    grace: Option<(Option<GraceToken>, Option<SaGraceToken>)>,
    /// Port and SPI pools, as configured.
    ports: Option<Range<u16>>,
    spis: Option<Range<u32>>,
    /// The hosts' outbound SAs, as the glue would keep them.
    out: OutSaStore,
    /// Who learnt each SA: (slot, host) pairs, less what the glue removed.
    learnt: HashMap<SaKey, HashSet<(Slot, Ipv4Addr)>>,
    /// The host of each slot (and whether revoked) after the last
    /// operation, to tell when a slot changes hands.
    slots: [Option<(Ipv4Addr, bool)>; HOSTS + 1],
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
    fn write<R>(
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
    fn settle(&mut self) {
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
fn blocks(t: &AllocTable<'_>) -> Vec<BlockInfo> {
    t.blocks_from(Cursor::START).map(|(_, b)| b).collect()
}

/// The block of `kind` holding `v`, if any (at most one may).
fn holder(all: &[BlockInfo], kind: Kind, v: u32) -> Option<BlockInfo> {
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
fn op(r: &mut Router, inp: &mut Input<'_>) -> bool {
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

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// The inbound key as the protocol documentation states it, written
/// independently of `classify`: TCP/UDP destination port, ESP SPI, AH SPI
/// (after next header, length and reserved), or for an ICMP error
/// (types 3, 4, 5, 11, 12) the source port of the quoted TCP/UDP packet
/// that the public address sent (a first fragment, quoted with at least 8
/// bytes of payload).
fn expected_key(protocol: u8, l4: &[u8]) -> Key {
    // ESP in UDP: from port 4500, a UDP length with room for an SPI, and
    // an SPI that is not the non-ESP marker (0).
    let esp_in_udp = || {
        let spi = be32(l4, 8).filter(|&s| s != 0)?;
        let long = be16(l4, 4).is_some_and(|len| len >= 12);
        (be16(l4, 0) == Some(NAT_T_PORT) && long).then_some(())?;
        Some(Key::EspInUdp {
            port: be16(l4, 2)?,
            spi,
        })
    };
    let k = match protocol {
        proto::UDP => esp_in_udp().or_else(|| be16(l4, 2).map(Key::Port)),
        proto::TCP => be16(l4, 2).map(Key::Port),
        proto::ESP => be32(l4, 0).map(Key::Spi),
        proto::AH => be32(l4, 4).map(Key::Spi),
        proto::ICMP if matches!(l4.first(), Some(3 | 4 | 5 | 11 | 12)) => {
            let q = l4.get(8..).unwrap_or_default();
            match q.first() {
                Some(&v) if v >> 4 == 4 && usize::from(v & 15) * 4 >= HEADER_LEN => {
                    let hl = usize::from(v & 15) * 4;
                    let src = q.get(12..16).map(|s| Ipv4Addr::new(s[0], s[1], s[2], s[3]));
                    let p = q.get(9).copied();
                    // The quote holds its header and 8 bytes, and is not a
                    // later fragment.
                    let whole = q.len() >= hl + 8;
                    let first = be16(q, 6).is_some_and(|f| f & 0x1fff == 0);
                    if src == Some(PUBLIC)
                        && whole
                        && first
                        && matches!(p, Some(proto::TCP | proto::UDP))
                    {
                        be16(q, hl).map(Key::Port)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        }
        _ => None,
    };
    k.unwrap_or(Key::None)
}

/// An IPv4 address at `at` of `b`.
fn addr(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let a = b.get(at..at + 4)?;
    Some(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
}

/// The quote of an ICMP error `l4`: (protocol, source, destination, first
/// fragment, payload after the header), or why not: `Err(true)` when
/// truncated (shorter than its header and 8 bytes), `Err(false)` when not
/// IPv4 or a header length below 20.
#[allow(clippy::type_complexity)]
fn quote_of(l4: &[u8]) -> Result<(u8, Ipv4Addr, Ipv4Addr, bool, &[u8]), bool> {
    let q = l4.get(8..).unwrap_or_default();
    let v = *q.first().ok_or(true)?;
    let hl = usize::from(v & 15) * 4;
    if v >> 4 != 4 || hl < HEADER_LEN {
        return Err(false);
    }
    if q.len() < hl + 8 {
        return Err(true);
    }
    let first = be16(q, 6).is_some_and(|f| f & 0x1fff == 0);
    let (src, dst) = (addr(q, 12).ok_or(true)?, addr(q, 16).ok_or(true)?);
    Ok((q[9], src, dst, first, &q[hl..]))
}

/// The ICMP-aware inbound key as the documentation states it: as
/// `expected_key`, plus ICMP query replies (0, 14, 16, 18) by their
/// identifier, and errors about a packet of the public address by its
/// TCP/UDP source port, the identifier of a quoted query request (8, 13,
/// 15, 17) or its ESP/AH SA.
fn expected_in_key(protocol: u8, l4: &[u8]) -> InKey {
    if protocol != proto::ICMP {
        return match expected_key(protocol, l4) {
            Key::Port(p) => InKey::Port(p),
            Key::Spi(s) => InKey::Spi(s),
            Key::EspInUdp { port, spi } => InKey::EspInUdp { port, spi },
            Key::None => InKey::None,
        };
    }
    let k = match l4.first() {
        Some(0 | 14 | 16 | 18) => be16(l4, 4).map(InKey::IcmpId),
        Some(3 | 4 | 5 | 11 | 12) => match quote_of(l4) {
            Ok((p, src, dst, true, pl)) if src == PUBLIC => match p {
                proto::TCP | proto::UDP => be16(pl, 0).map(InKey::Port),
                proto::ICMP if matches!(pl[0], 8 | 13 | 15 | 17) => be16(pl, 4).map(InKey::IcmpId),
                proto::ESP | proto::AH => {
                    let spi = be32(pl, if p == proto::ESP { 0 } else { 4 });
                    spi.map(|spi| {
                        InKey::QuotedSa(SaKey {
                            peer: dst,
                            spi,
                            proto: p,
                        })
                    })
                }
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    k.unwrap_or(InKey::None)
}

/// The ICMP-aware proof as the documentation states it, after the address
/// and fragment checks: requests prove their identifier; destination
/// unreachable, time exceeded and parameter problem about a packet from
/// the error's destination to the public address prove its TCP/UDP
/// destination port or query reply identifier; nothing else is proof.
fn expected_icmp_proof(inner: &Header, l4: &[u8]) -> Result<Proof, OutRefusal> {
    match l4.first() {
        None => Err(OutRefusal::Truncated),
        Some(8 | 13 | 15 | 17) => be16(l4, 4).map(Proof::Port).ok_or(OutRefusal::Truncated),
        Some(3 | 11 | 12) => match quote_of(l4) {
            Err(true) => Err(OutRefusal::Truncated),
            Err(false) => Err(OutRefusal::IcmpQuote),
            Ok((p, src, dst, first, pl)) => {
                if dst != PUBLIC || src != inner.dst || !first {
                    return Err(OutRefusal::IcmpQuote);
                }
                match p {
                    proto::TCP | proto::UDP => {
                        Ok(Proof::Port(be16(pl, 2).ok_or(OutRefusal::Truncated)?))
                    }
                    proto::ICMP if matches!(pl[0], 0 | 14 | 16 | 18) => {
                        Ok(Proof::Port(be16(pl, 4).ok_or(OutRefusal::Truncated)?))
                    }
                    _ => Err(OutRefusal::IcmpQuote),
                }
            }
        },
        Some(_) => Err(OutRefusal::IcmpType),
    }
}

/// What the router does with a packet.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Not for the data path (or accepted unchanged).
    Pass,
    /// Inbound: tunnelled to this host.
    Deliver(Slot, Ipv4Addr),
    /// Outbound: decapsulated and forwarded for this host.
    Forward(Slot),
    /// Dropped.
    Drop,
}

/// The SA verdict from a scan of the writer's SAs and blacklist.
fn scan_verdict(sa: &SaTable<'_>, src: Ipv4Addr, spi: u32, owner: Slot) -> Verdict {
    let black = sa.blacklist_from(SaCursor::START).any(|(_, e)| {
        e.slot == owner && e.addr.is_none_or(|a| a == src) && e.spi.is_none_or(|s| s == spi)
    });
    if black {
        return Verdict::Drop(DropReason::Blacklisted);
    }
    let valid = sa
        .entries_from(SaCursor::START)
        .any(|(_, e)| e.slot == owner && e.addr == src && e.spi == spi);
    if valid {
        Verdict::Deliver
    } else {
        Verdict::Drop(DropReason::NotValidated)
    }
}

/// What an ICMP-aware data path has besides the tables: the outbound-SA
/// table, the clock and who learnt what.
struct Icmp<'a> {
    aware: bool,
    out: OutSaShared<'a>,
    now: u32,
    learnt: &'a mut HashMap<SaKey, HashSet<(Slot, Ipv4Addr)>>,
}

/// `datapath::inbound` on `pkt` (already past `ip_rcv`: a full IPv4
/// packet of `pkt.len()` bytes), checking each step.
fn inbound(
    t: &AllocTable<'_>,
    sa: &SaTable<'_>,
    settled: bool,
    permissive: bool,
    pkt: &[u8],
    ic: &mut Icmp<'_>,
) -> Decision {
    let Ok(h) = Header::parse_checked_by_stack(pkt, pkt.len()) else {
        return Decision::Pass;
    };
    if h.dst != PUBLIC {
        return Decision::Pass;
    }
    let n = h.total_len.saturating_sub(h.header_len).min(L4_PEEK);
    let l4 = &pkt[h.header_len..h.header_len + n];
    if h.frag_offset != 0 {
        return Decision::Pass;
    }
    let legacy = classify::inbound(&h, l4, PUBLIC);
    assert_eq!(legacy, expected_key(h.protocol, l4), "{h:?} {l4:02x?}");
    let ikey = classify::inbound_key(&h, l4, PUBLIC);
    assert_eq!(ikey, expected_in_key(h.protocol, l4), "{h:?} {l4:02x?}");
    assert_eq!(ikey.legacy(), legacy);
    let shared: Shared<'_> = t.shared();
    // An ICMP-aware data path delivers identifiers as ports, and errors
    // about SAs to the host the outbound-SA table names.
    let key = match (ic.aware, ikey) {
        (true, InKey::IcmpId(p)) => Key::Port(p),
        (true, InKey::QuotedSa(q)) => {
            let Some(slot) = ic.out.lookup(&q, ic.now) else {
                return Decision::Pass;
            };
            let Some(a) = shared.host_addr(slot) else {
                return Decision::Pass;
            };
            assert!(
                ic.learnt.get(&q).is_some_and(|v| v.contains(&(slot, a))),
                "{q:?} delivered to slot {slot} ({a}), which did not send it"
            );
            return Decision::Deliver(slot, a);
        }
        _ => legacy,
    };
    let all = blocks(t);
    let (owner, truth) = match key {
        Key::Port(p) | Key::EspInUdp { port: p, .. } => {
            (shared.port_owner(p), holder(&all, Kind::Port, u32::from(p)))
        }
        Key::Spi(s) => (shared.spi_owner(s), holder(&all, Kind::Spi, s)),
        Key::None => (None, None),
    };
    // Ports are unpublished when their block retires; SPI changes are
    // published when a grace period allows.
    let exact = settled || matches!(key, Key::Port(_) | Key::EspInUdp { .. });
    match (owner, truth) {
        (Some((slot, addr)), Some(b)) => {
            assert_eq!(
                (slot, addr),
                (b.slot, b.host),
                "{key:?}: owner is not the holder"
            );
            assert!(
                !exact || !b.retiring,
                "{key:?}: retired block still delivers"
            );
        }
        (Some(o), None) => panic!("{key:?} delivered to {o:?}, no block holds it"),
        (None, Some(b)) => {
            assert!(
                !exact || b.retiring,
                "{key:?}: active block {b:?} not published"
            );
        }
        (None, None) => {}
    }
    if let (Key::Spi(spi), Some((slot, _))) = (key, owner) {
        let sa_shared: SaShared<'_> = sa.shared();
        let v = sa_shared.check(h.src, spi, slot);
        assert_eq!(
            v,
            scan_verdict(sa, h.src, spi, slot),
            "{key:?} from {}",
            h.src
        );
        if v.drops(permissive) {
            return Decision::Drop;
        }
    }
    if let (Key::EspInUdp { spi, .. }, Some((slot, _))) = (key, owner) {
        // The SPI must be the port owner's, then the ESP checks apply.
        let spi_owner = shared.spi_owner(spi).map(|(s, _)| s);
        let v = sa.shared().check_in_udp(h.src, spi, slot, spi_owner);
        if spi_owner != Some(slot) {
            assert_eq!(v, Verdict::Drop(DropReason::NotSpiOwner), "{key:?}");
        } else {
            assert_eq!(
                v,
                scan_verdict(sa, h.src, spi, slot),
                "{key:?} from {}",
                h.src
            );
        }
        if v.drops(permissive) {
            return Decision::Drop;
        }
    }
    match owner {
        Some((slot, addr)) => Decision::Deliver(slot, addr),
        None => Decision::Pass,
    }
}

/// `datapath::outbound` on `pkt`, an IP-in-IP packet to the router's LAN
/// address, checking each step.
fn outbound(t: &AllocTable<'_>, pkt: &[u8], ic: &mut Icmp<'_>) -> Decision {
    let Ok(h) = Header::parse_checked_by_stack(pkt, pkt.len()) else {
        return Decision::Pass;
    };
    if h.protocol != proto::IPIP || h.dst != ROUTER_LAN {
        return Decision::Pass;
    }
    // The skb holds `h.total_len` bytes; the inner header is copied into a
    // 60-byte buffer, first 20 bytes, then all of a longer header.
    let skb = &pkt[..h.total_len];
    let inner_len = h.total_len - h.header_len;
    let mut ib = [0u8; 60];
    let Some(first) = skb.get(h.header_len..h.header_len + HEADER_LEN) else {
        return Decision::Drop;
    };
    ib[..HEADER_LEN].copy_from_slice(first);
    let ihl = usize::from(ib[0] & 0x0f) * 4;
    if ihl > HEADER_LEN {
        let Some(all) = skb.get(h.header_len..h.header_len + ihl) else {
            return Decision::Drop;
        };
        ib[..ihl].copy_from_slice(all);
    }
    let Ok(inner) = Header::parse(&ib, inner_len) else {
        return Decision::Drop;
    };
    // Today's data path copies 4 bytes; an ICMP-aware one what
    // `peek_len` says.
    let want = if ic.aware {
        classify::peek_len(inner.protocol)
    } else {
        4
    };
    let n = inner.total_len.saturating_sub(inner.header_len).min(want);
    let at = h.header_len + inner.header_len;
    let Some(l4) = skb.get(at..at + n) else {
        return Decision::Drop;
    };
    let proof = classify::outbound(&inner, l4, PUBLIC, ROUTER_LAN);
    // The proof as the documentation states it.
    let expected = if inner.src != PUBLIC {
        Err(OutError::NotPublicSource)
    } else if inner.dst == PUBLIC || inner.dst == ROUTER_LAN || !is_unicast(inner.dst) {
        Err(OutError::LocalDestination)
    } else if inner.is_fragment {
        Err(OutError::Fragment)
    } else {
        match inner.protocol {
            proto::TCP | proto::UDP => be16(l4, 0).map(Proof::Port).ok_or(OutError::Truncated),
            proto::ESP | proto::AH => Ok(Proof::KnownHost),
            _ => Err(OutError::Protocol),
        }
    };
    assert_eq!(proof, expected, "{inner:?} {l4:02x?}");
    let aware = classify::outbound_proof(&inner, l4, PUBLIC, ROUTER_LAN);
    let expected_aware = match expected {
        _ if inner.protocol == proto::ICMP
            && !matches!(
                expected,
                Err(OutError::NotPublicSource | OutError::LocalDestination | OutError::Fragment)
            ) =>
        {
            expected_icmp_proof(&inner, l4)
        }
        Ok(p) => Ok(p),
        Err(e) => Err(match e {
            OutError::NotPublicSource => OutRefusal::NotPublicSource,
            OutError::Protocol => OutRefusal::Protocol,
            OutError::Truncated => OutRefusal::Truncated,
            OutError::Fragment => OutRefusal::Fragment,
            OutError::LocalDestination => OutRefusal::LocalDestination,
        }),
    };
    assert_eq!(aware, expected_aware, "{inner:?} {l4:02x?}");
    let proof = if ic.aware {
        aware.map_err(|e| e.legacy())
    } else {
        proof
    };
    let shared = t.shared();
    let all = blocks(t);
    let sender = match proof {
        Ok(Proof::Port(p)) => {
            let s = shared
                .port_owner(p)
                .filter(|&(_, a)| a == h.src)
                .map(|(s, _)| s);
            let truth = holder(&all, Kind::Port, u32::from(p));
            if let Some(s) = s {
                let b = truth.expect("forwarded for a port no block holds");
                assert_eq!((b.slot, b.host), (s, h.src), "forwarded for a non-owner");
                assert!(!b.retiring, "forwarded for a retired block");
            } else if let Some(b) = truth.filter(|b| !b.retiring && b.host == h.src) {
                panic!("owner {} of {b:?} not forwarded", h.src);
            }
            s
        }
        Ok(Proof::KnownHost) => {
            let s = shared
                .find_host(u32::from(h.src))
                .filter(|&s| !t.host_info(s).is_some_and(|i| i.revoked));
            let truth = t.hosts_from(1).find(|i| i.addr == h.src);
            assert_eq!(
                s,
                truth.filter(|i| !i.revoked).map(|i| i.slot),
                "known-host check of {}",
                h.src
            );
            s
        }
        Err(_) => return Decision::Drop,
    };
    let Some(s) = sender else {
        return Decision::Drop;
    };
    if let (true, Some(q)) = (ic.aware, classify::outbound_sa(&inner, l4)) {
        match ic.out.learn(&q, s, ic.now) {
            Learnt::Added | Learnt::Refreshed => {
                ic.learnt.entry(q).or_default().insert((s, h.src));
                assert_eq!(ic.out.lookup(&q, ic.now), Some(s));
            }
            Learnt::Conflict => assert!(ic.out.lookup(&q, ic.now).is_some_and(|o| o != s)),
            Learnt::Invalid => assert!(q.spi < 256, "{q:?}"),
            Learnt::HostLimit => assert!(ic.out.host_entries(s) >= 6),
            Learnt::Full => {}
        }
    }
    Decision::Forward(s)
}

/// Sets the IPv4 header checksum of `hdr` (its first `ihl` bytes).
fn fix_header(hdr: &mut [u8]) {
    let Some(&v) = hdr.first() else {
        return;
    };
    let hl = usize::from(v & 0x0f) * 4;
    if hl < HEADER_LEN || hdr.len() < hl {
        return;
    }
    hdr[10] = 0;
    hdr[11] = 0;
    let c = checksum::checksum(&hdr[..hl]);
    hdr[10..12].copy_from_slice(&c.to_be_bytes());
}

/// The TCP/UDP checksum over the pseudo-header and `seg`, with the
/// checksum field as it is (`verify`) or zeroed (`canonical`).
fn l4_sum(src: [u8; 4], dst: [u8; 4], p: u8, seg: &[u8]) -> u16 {
    let len = seg.len() as u16;
    let mut ph = [0u8; 12];
    ph[..4].copy_from_slice(&src);
    ph[4..8].copy_from_slice(&dst);
    ph[9] = p;
    ph[10..12].copy_from_slice(&len.to_be_bytes());
    checksum::sum(seg, checksum::sum(&ph, 0))
}

/// The host's port rewrite on the transport header of `pkt`: a checksum
/// that verified still does, a canonical one stays canonical, a UDP 0
/// stays 0, and only the port and the checksum change.
fn rewrite(pkt: &[u8], which: Which, new: u16) {
    let Ok(h) = Header::parse_checked_by_stack(pkt, pkt.len()) else {
        return;
    };
    let p = match h.protocol {
        proto::TCP => Proto::Tcp,
        proto::UDP => Proto::Udp,
        _ => return,
    };
    if h.is_fragment {
        return;
    }
    let (src, dst) = (h.src.octets(), h.dst.octets());
    let mut seg = pkt[h.header_len..h.total_len].to_vec();
    let coff = if p == Proto::Tcp { 16 } else { 6 };
    if seg.len() > 0xffff - 12 {
        return;
    }
    let canonical = |seg: &[u8]| {
        let mut z = seg.to_vec();
        let old = be16(&z, coff);
        if let Some(c) = z.get_mut(coff..coff + 2) {
            c.copy_from_slice(&[0, 0]);
        }
        let c = !l4_sum(src, dst, h.protocol, &z);
        let c = if p == Proto::Udp && c == 0 { 0xffff } else { c };
        old == Some(c)
    };
    let verifies = |seg: &[u8]| l4_sum(src, dst, h.protocol, seg) == 0xffff;
    let before = seg.clone();
    let (ok_before, canon_before) = (verifies(&seg), canonical(&seg));
    let zero_udp = p == Proto::Udp && be16(&seg, 6) == Some(0);
    let at = if which == Which::Src { 0 } else { 2 };
    match rewrite_port(&mut seg, p, which, new) {
        Ok(old) => {
            assert_eq!(be16(&before, at), Some(old));
            assert_eq!(be16(&seg, at), Some(new));
            for (i, (a, b)) in before.iter().zip(&seg).enumerate() {
                if !(at..at + 2).contains(&i) && !(coff..coff + 2).contains(&i) {
                    assert_eq!(a, b, "byte {i} changed");
                }
            }
            if zero_udp {
                assert_eq!(be16(&seg, 6), Some(0), "UDP checksum 0 changed");
            } else {
                assert!(
                    !ok_before || verifies(&seg),
                    "checksum broken: {before:02x?}"
                );
                assert!(
                    !canon_before || canonical(&seg),
                    "not canonical: {before:02x?}"
                );
            }
        }
        Err(_) => {
            assert!(seg.len() < coff + 2, "refused a full header");
            assert_eq!(seg, before, "a refused rewrite changed bytes");
        }
    }
}

/// Makes the packet in `b` reach the interesting paths, as the flags say:
/// the addresses and protocol the router looks for, a key the tables hold,
/// valid checksums and lengths.
fn shape(t: &AllocTable<'_>, sa: &SaTable<'_>, flags: u8, k: u8, off: u8, b: &mut [u8]) {
    let out = flags & 1 != 0;
    if b.len() < HEADER_LEN {
        return;
    }
    let ohl = (usize::from(b[0] & 0x0f) * 4).max(HEADER_LEN);
    if flags & 0x40 != 0 {
        b[0] = 0x40 | (b[0] & 0x0f).max(5);
        let len = b.len().min(0xffff) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b[6] &= 0x40;
        b[7] = 0;
    }
    if flags & 2 != 0 {
        let dst = if out { ROUTER_LAN } else { PUBLIC };
        b[16..20].copy_from_slice(&dst.octets());
        if out {
            b[9] = proto::IPIP;
        }
    }
    if flags & 4 != 0 {
        let src = if out { host(k) } else { peer(k) };
        b[12..16].copy_from_slice(&src.octets());
    }
    let inner = ohl;
    if out && flags & 0x40 != 0 && b.len() >= inner + HEADER_LEN {
        let i = &mut b[inner..];
        i[0] = 0x40 | (i[0] & 0x0f).max(5);
        let len = i.len().min(0xffff) as u16;
        i[2..4].copy_from_slice(&len.to_be_bytes());
        i[6] &= 0x40;
        i[7] = 0;
    }
    if out && flags & 0x10 != 0 && b.len() >= inner + HEADER_LEN {
        b[inner + 12..inner + 16].copy_from_slice(&PUBLIC.octets());
    }
    if flags & 0x80 != 0 {
        // A key from a block the tables hold (and its owner as the outer
        // source of an outbound packet), or inbound, the source and SPI of
        // an established SA.
        let all = blocks(t);
        let sas: Vec<SaEntry> = sa.entries_from(SaCursor::START).map(|(_, e)| e).collect();
        let from_sa = (!out && k & 0x20 != 0)
            .then(|| sas.get(usize::from(off) % sas.len().max(1)))
            .flatten();
        let picked = match from_sa {
            Some(e) => holder(&all, Kind::Spi, e.spi).map(|b| (b, e.spi)),
            None => all
                .get(usize::from(k) % all.len().max(1))
                .map(|b| (*b, b.lowest + u32::from(off) % b.count)),
        };
        if let Some(e) = from_sa {
            b[12..16].copy_from_slice(&e.addr.octets());
        }
        if let Some((blk, v)) = picked {
            let hl = if out { inner } else { 0 };
            if b.len() >= hl + HEADER_LEN {
                let ihl = (usize::from(b[hl] & 0x0f) * 4).max(HEADER_LEN);
                let l4 = hl + ihl;
                let (p, at, bytes): (u8, usize, Vec<u8>) = match (blk.kind, out, k & 0x40 != 0) {
                    (Kind::Port, false, tcp) => (
                        if tcp { proto::TCP } else { proto::UDP },
                        2,
                        (v as u16).to_be_bytes().to_vec(),
                    ),
                    (Kind::Port, true, tcp) => (
                        if tcp { proto::TCP } else { proto::UDP },
                        0,
                        (v as u16).to_be_bytes().to_vec(),
                    ),
                    (Kind::Spi, _, ah) => (
                        if ah { proto::AH } else { proto::ESP },
                        if ah { 4 } else { 0 },
                        v.to_be_bytes().to_vec(),
                    ),
                };
                b[hl + 9] = p;
                if let Some(d) = b.get_mut(l4 + at..l4 + at + bytes.len()) {
                    d.copy_from_slice(&bytes);
                }
                if out {
                    b[12..16].copy_from_slice(&blk.host.octets());
                }
            }
        }
    }
    if flags & 8 != 0 {
        fix_headers(b, out);
    }
}

/// Sets the checksums of the outer header and, outbound, the inner one.
fn fix_headers(b: &mut [u8], out: bool) {
    let Some(&v) = b.first() else {
        return;
    };
    let ohl = usize::from(v & 0x0f) * 4;
    fix_header(b);
    if out && ohl >= HEADER_LEN && b.len() > ohl {
        fix_header(&mut b[ohl..]);
    }
}

/// Makes the packet in `b` an ICMP message that names what the tables
/// hold: a query with a held port as its identifier, or an error quoting
/// a packet of the public address (inbound: from it, with a held port, a
/// query request or an SA that a host sent; outbound: to it, from the
/// error's destination, with a held port or a reply), the outer source the
/// port's holder. `ity` picks the type and the quoted protocol; `ic` bits:
/// 0x08 keeps the quoted header's first bytes (version, fragment), 0x10
/// its addresses, 0x20 quotes an SA a host sent (inbound), 0x80 keeps the
/// inner source (outbound).
fn shape_icmp(
    t: &AllocTable<'_>,
    learnt: &HashMap<SaKey, HashSet<(Slot, Ipv4Addr)>>,
    out: bool,
    (ic, ity): (u8, u8),
    k: u8,
    off: u8,
    b: &mut [u8],
) {
    let Some(&b0) = b.first() else {
        return;
    };
    let base = if out {
        (usize::from(b0 & 0x0f) * 4).max(HEADER_LEN)
    } else {
        0
    };
    let Some(&v) = b.get(base) else {
        return;
    };
    let l4 = base + (usize::from(v & 0x0f) * 4).max(HEADER_LEN);
    if b.len() < l4 + 8 {
        return;
    }
    let ports: Vec<BlockInfo> = blocks(t)
        .into_iter()
        .filter(|b| b.kind == Kind::Port)
        .collect();
    let (id, holder) = match ports.get(usize::from(k) % ports.len().max(1)) {
        Some(bl) => (
            (bl.lowest + u32::from(off) % bl.count) as u16,
            Some(bl.host),
        ),
        None => (u16::from_be_bytes([k, off]), None),
    };
    b[base + 9] = proto::ICMP;
    if out {
        if let Some(h) = holder {
            b[12..16].copy_from_slice(&h.octets());
        }
        if ic & 0x80 == 0 {
            b[base + 12..base + 16].copy_from_slice(&PUBLIC.octets());
        }
    }
    let types: [u8; 10] = if out {
        [8, 13, 0, 3, 11, 12, 4, 5, 10, 17]
    } else {
        [0, 14, 8, 3, 11, 12, 4, 5, 9, 18]
    };
    let ty = types[usize::from(ity) % types.len()];
    let inner_dst = addr(b, base + 16).unwrap_or(Ipv4Addr::UNSPECIFIED);
    let m = &mut b[l4..];
    m[0] = ty;
    if !matches!(ty, 3 | 4 | 5 | 11 | 12) {
        m[4..6].copy_from_slice(&id.to_be_bytes());
        return;
    }
    if m.len() < 8 + HEADER_LEN + 8 {
        return;
    }
    let q = &mut m[8..];
    if ic & 0x08 == 0 {
        q[0] = 0x45;
        q[6..8].copy_from_slice(&[0x40, 0]);
    }
    let qhl = (usize::from(q[0] & 0x0f) * 4).max(HEADER_LEN);
    let qp =
        [proto::TCP, proto::UDP, proto::ICMP, proto::ESP, proto::AH][usize::from(ity >> 4) % 5];
    q[9] = qp;
    let (src, dst) = if out {
        (inner_dst, PUBLIC)
    } else {
        (PUBLIC, peer(off))
    };
    if ic & 0x10 == 0 {
        q[12..16].copy_from_slice(&src.octets());
        q[16..20].copy_from_slice(&dst.octets());
    }
    // An SA a host sent, in a reproducible order.
    let mut sas: Vec<&SaKey> = learnt.keys().collect();
    sas.sort_by_key(|s| (s.peer, s.spi, s.proto));
    let sa = sas.get(usize::from(off) % sas.len().max(1)).copied();
    let Some(p) = q.get_mut(qhl..qhl + 8) else {
        return;
    };
    let qp = if ic & 0x20 != 0 && !out && sa.is_some() {
        proto::ESP
    } else {
        qp
    };
    match (qp, out) {
        (proto::TCP | proto::UDP, false) => p[0..2].copy_from_slice(&id.to_be_bytes()),
        (proto::TCP | proto::UDP, true) => p[2..4].copy_from_slice(&id.to_be_bytes()),
        (proto::ICMP, _) => {
            p[0] = if out { 0 } else { 8 };
            p[4..6].copy_from_slice(&id.to_be_bytes());
        }
        (_, false) => {
            if let Some(sa) = sa {
                let at = if sa.proto == proto::ESP { 0 } else { 4 };
                p[at..at + 4].copy_from_slice(&sa.spi.to_be_bytes());
                q[9] = sa.proto;
                q[16..20].copy_from_slice(&sa.peer.octets());
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    // The set-up: settings, SA table size and seed, pools.
    // Values are XORed with defaults, so that zero bytes make a useful
    // router: quotas of 4096 ports and SPIs, pools of 256 ports from 20000
    // and 4096 SPIs from 0x1000, 16 operations.
    let settings = Settings {
        default_quota: Quota {
            ports: u32::from(inp.u16() ^ 4096),
            spis: u32::from(inp.u16() ^ 4096),
        },
        default_lease: u32::from(inp.u8() % 32),
        max_lease: u32::from(inp.u8() % 64),
    };
    let seed = Seed([u64::from(inp.u32()), u64::from(inp.u32())]);
    let mut r = Router {
        store: RouterStore {
            alloc: AllocStore::new(HOSTS, settings),
            sa: SaStore::new(
                SaLayout {
                    buckets: 64,
                    hosts: HOSTS,
                },
                seed,
            ),
        },
        now: 1000,
        epoch: 1,
        grace: None,
        ports: None,
        spis: None,
        out: OutSaStore::new(
            OutSaLayout {
                buckets: 64,
                hosts: HOSTS,
            },
            OutSaSettings {
                seed: [seed.0[0].rotate_left(7), seed.0[1] ^ 1],
                idle: 40,
                per_host: 6,
            },
        ),
        learnt: HashMap::new(),
        slots: [None; HOSTS + 1],
    };
    let pmin = (inp.u16() ^ 20000).max(1);
    let ports = Range {
        min: pmin,
        max: pmin.saturating_add((u16::from(inp.u8() ^ 32) * 8).saturating_sub(1)),
    };
    let smin = (inp.u32() ^ 0x1000).max(256);
    let spis = Range {
        min: smin,
        max: smin.saturating_add(u32::from(inp.u16() ^ 0x1000)),
    };
    r.ports = Some(ports);
    r.spis = Some(spis);
    r.write(false, |t, _, _| {
        t.set_pools(Some(ports), Some(spis), |_| {});
    });
    // Operations: how many, and the bytes they read.
    let nops = usize::from(inp.u8() ^ 16) % (MAX_OPS + 1);
    let ops_len = usize::from(inp.u8() ^ 32) * 2;
    let ops = inp.take(ops_len);
    let mut opin = Input(ops);
    for _ in 0..nops {
        if !op(&mut r, &mut opin) {
            break;
        }
    }
    // Packets: flags, selector, offset, ICMP byte, length, bytes. Those
    // before `settle_at` see the tables as they are (grace periods may be
    // running), the rest see them after every grace period ended, unless
    // an operation runs between packets (ICMP byte bit 2), which makes
    // them unsettled again.
    let settle_at = usize::from(inp.u8()) % (MAX_PACKETS + 1);
    let mut settled = false;
    for i in 0..MAX_PACKETS {
        if i == settle_at {
            r.settle();
            settled = true;
        }
        if inp.is_empty() {
            break;
        }
        // Shaping is on unless a flag bit turns it off.
        let (flags, k, off) = (!inp.u8(), inp.u8(), inp.u8());
        // ICMP bytes: `ic` bit 0 an ICMP-aware data path, bit 1 shape an
        // ICMP message, bit 2 an operation first, the rest how (see
        // `shape_icmp`); `ity` the type and the quoted protocol.
        let (ic, ity) = (inp.u8(), inp.u8());
        let len = usize::from(inp.u8()) + 20;
        let mut pkt = inp.take(len).to_vec();
        if ic & 4 != 0 && op(&mut r, &mut opin) {
            settled = false;
        }
        let (t, sa) = r.store.both();
        shape(&t, &sa, flags, k, off, &mut pkt);
        if ic & 2 != 0 {
            shape_icmp(&t, &r.learnt, flags & 1 != 0, (ic, ity), k, off, &mut pkt);
            if flags & 8 != 0 {
                fix_headers(&mut pkt, flags & 1 != 0);
            }
        }
        let permissive = flags & 0x20 != 0;
        let mut icx = Icmp {
            aware: ic & 1 != 0,
            out: r.out.shared(),
            now: r.now as u32,
            learnt: &mut r.learnt,
        };
        let d = if flags & 1 == 0 {
            inbound(&t, &sa, settled, permissive, &pkt, &mut icx)
        } else {
            outbound(&t, &pkt, &mut icx)
        };
        match d {
            Decision::Deliver(s, a) => {
                assert_eq!(t.shared().host_addr(s), Some(a));
                // The host translates the destination port back.
                rewrite(&pkt, Which::Dst, u16::from_be_bytes([k, off]));
            }
            Decision::Forward(s) => {
                assert!(t.host_info(s).is_some_and(|h| !h.revoked));
            }
            Decision::Pass | Decision::Drop => {
                rewrite(&pkt, Which::Src, u16::from_be_bytes([off, k]));
            }
        }
    }
});
