// SPDX-License-Identifier: GPL-2.0

//! Instruction cost of the ICMP decisions and rewrites, meant to be run
//! under callgrind as `classify_cost` and `sptt_cost` are: the instructions
//! of a run with `2N` packets minus those with `N`, divided by `N`, are the
//! cost of one packet (the tables and packets do not depend on `N`).
//!
//! `icmp_cost SCENARIO N`. The router's scenarios parse the 20-byte
//! header and call the kernel's decisions (`dnat_core::router_path`:
//! `path`, then `inbound` and `delivered`, or `outbound` and `forwarded`),
//! as `classify_cost` does; the table holds one host with a block of 255
//! ports (the cost of `port_owner` does not depend on the table's size).
//!
//! | scenario | per packet |
//! |---|---|
//! | `base` | the loop and a trivial non-inlined call only |
//! | `udp_in` | inbound UDP to a random port of the block |
//! | `echo_in` | inbound echo reply to a random identifier of the block |
//! | `error_in` | inbound port unreachable quoting UDP from a random port of the block |
//! | `quoted_sa_in` | inbound fragmentation needed quoting ESP; 8,000 SAs of 32 hosts learnt in a 16,384-bucket table |
//! | `udp_out` | outbound IP-in-IP, inner UDP from a port of the block |
//! | `echo_out` | outbound IP-in-IP, inner echo request with an identifier of the block |
//! | `esp_learn` | `OutSaShared::learn` of one of the 8,000 SAs (refresh) |
//! | `host_echo_out` | the host: `IdShared::lookup_out` and `rewrite_id` of an echo request (255 translations) |
//! | `host_error_in` | the host: `rewrite_quote` of a port unreachable quoting UDP, SPTT `peek_in` |
//!
//! Every packet must be owned (or translated); the program exits with 1
//! otherwise. The wall-clock time it prints is only indicative.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8};
use std::time::Instant;

use dnat_core::alloc_table::Settings;
use dnat_core::checksum;
use dnat_core::classify::{self, SaKey};
use dnat_core::config::Range;
use dnat_core::icmp::{self, About, IdShared, IdTable, IdWriter};
use dnat_core::ipv4::{self, proto, Header, HEADER_LEN};
use dnat_core::out_sa::{OutSaLayout, OutSaSettings, OutSaShared, DEFAULT_BUCKETS};
use dnat_core::pap::PortBlock;
use dnat_core::router_path::{self, Iface, Inbound, Outbound, Path};
use dnat_core::sptt::{self, Proto};
use dnat_core::store::{AllocStore, OutSaStore, StoreView};

const PACKETS: usize = 4096;
const LEN: usize = 100;
const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);
const SAS: u32 = 8000;

type Pkt = [u8; LEN];

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// An IPv4 packet of `LEN` bytes (header and `l4`, zero padded).
fn packet(src: Ipv4Addr, dst: Ipv4Addr, p: u8, l4: &[u8]) -> Pkt {
    let mut b = [0u8; LEN];
    b[..HEADER_LEN]
        .copy_from_slice(&ipv4::build(src, dst, p, 64, LEN - HEADER_LEN).expect("header"));
    b[HEADER_LEN..HEADER_LEN + l4.len()].copy_from_slice(l4);
    b
}

/// `inner` in IP-in-IP from the host to the router (the inner packet cut
/// to fit).
fn tunnelled(inner: &Pkt) -> Pkt {
    let mut b = [0u8; LEN];
    let n = LEN - HEADER_LEN;
    b[..HEADER_LEN]
        .copy_from_slice(&ipv4::build(HOST, ROUTER_LAN, proto::IPIP, 64, n).expect("header"));
    let mut i = *inner;
    i[2..4].copy_from_slice(&(n as u16).to_be_bytes());
    i[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::checksum(&i[..HEADER_LEN]);
    i[10..12].copy_from_slice(&c.to_be_bytes());
    b[HEADER_LEN..].copy_from_slice(&i[..n]);
    b
}

/// A UDP header from `sp` to `dp`.
fn udp(sp: u16, dp: u16) -> [u8; 8] {
    let mut u = [0u8; 8];
    u[0..2].copy_from_slice(&sp.to_be_bytes());
    u[2..4].copy_from_slice(&dp.to_be_bytes());
    u[4..6].copy_from_slice(&((LEN - HEADER_LEN) as u16).to_be_bytes());
    u
}

/// An ICMP query of type `t` with identifier `id`, checksum over 8 bytes.
fn query(t: u8, id: u16) -> [u8; 8] {
    let mut m = [t, 0, 0, 0, 0, 0, 0, 1];
    m[4..6].copy_from_slice(&id.to_be_bytes());
    let c = checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An ICMP error of type `t` quoting `q` (header and 8 bytes), with its
/// checksum over those bytes.
fn error(t: u8, q: &[u8]) -> Vec<u8> {
    let mut m = vec![t, 4, 0, 0, 0, 0, 0x05, 0x78];
    m.extend_from_slice(q);
    let c = checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// Host slots of the router's tables (the SAs are spread over them).
const HOSTS: u16 = 32;

/// The router's tables: one host with ports 20000..=20254, and 31 others
/// (the outbound SAs are spread over all of them).
fn router() -> AllocStore {
    let mut s = AllocStore::new(usize::from(HOSTS), Settings::UNLIMITED);
    let mut t = s.table();
    t.set_pools(
        Some(Range {
            min: 20000,
            max: 20254,
        }),
        Some(Range {
            min: 0x1000,
            max: 0xffff,
        }),
        |_| {},
    );
    t.request_ports(HOST, 255, false, 0, 0).expect("ports");
    for h in 2..=HOSTS {
        t.admit(Ipv4Addr::new(10, 0, 1, h as u8)).expect("admit");
    }
    while let Some(tok) = t.start_grace() {
        t.finish_grace(tok);
    }
    s
}

/// The SA of packet number `i`.
fn sa(i: u32) -> SaKey {
    SaKey {
        peer: Ipv4Addr::from(0xc633_6400 + (i % 200)),
        spi: 0x1_0000 + i,
        proto: proto::ESP,
    }
}

/// What each scenario's function sees.
struct Ctx<'a> {
    /// The router's data path view (allocation and outbound-SA tables).
    view: StoreView<'a>,
    out: OutSaShared<'a>,
    ids: IdShared<'a>,
    sptt: sptt::Shared<'a>,
}

type Decide = fn(&Ctx<'_>, &mut Pkt) -> u32;

#[inline(never)]
fn base(_: &Ctx<'_>, p: &mut Pkt) -> u32 {
    u32::from(p[0]) | 1
}

/// An inbound packet: parse, path, the decision (ICMP-aware classify,
/// owner), the delivery's counters.
#[inline(never)]
fn inbound(c: &Ctx<'_>, p: &mut Pkt) -> u32 {
    let Ok(h) = Header::parse(&p[..], LEN) else {
        return 0;
    };
    if router_path::path(&h, Iface::Wan, PUBLIC, || Some(ROUTER_LAN)) != Path::Inbound {
        return 0;
    }
    let end = h
        .total_len
        .min(h.header_len + classify::peek_len(h.protocol));
    match router_path::inbound(&c.view, &h, p.get(h.header_len..end), PUBLIC) {
        Inbound::Deliver(d) => {
            router_path::delivered(&c.view, &d, h.total_len, true);
            u32::from(d.host).wrapping_add(u32::from(d.slot))
        }
        Inbound::Accept | Inbound::Drop => 0,
    }
}

/// An outbound IP-in-IP packet: both headers, path, the decision
/// (ICMP-aware proof, owner), the forwarding's counters.
#[inline(never)]
fn outbound(c: &Ctx<'_>, p: &mut Pkt) -> u32 {
    let Ok(h) = Header::parse(&p[..], LEN) else {
        return 0;
    };
    if router_path::path(&h, Iface::Lan, PUBLIC, || Some(ROUTER_LAN)) != Path::Outbound {
        return 0;
    }
    let inner_pkt = p.get(h.header_len..h.total_len).unwrap_or(&[]);
    let inner = Header::parse(inner_pkt, inner_pkt.len()).ok();
    let inner = inner.as_ref().map(|i| {
        let end = i
            .total_len
            .min(i.header_len + classify::peek_len(i.protocol));
        (i, inner_pkt.get(i.header_len..end).unwrap_or(&[]))
    });
    match router_path::outbound(&c.view, &h, inner, PUBLIC) {
        Outbound::Forward { sender, sa } => {
            router_path::forwarded(&c.view, sender, sa, inner_pkt.len(), true);
            1
        }
        Outbound::Drop => 0,
    }
}

/// Learning the SA of the first 8 bytes: peer and SPI.
#[inline(never)]
fn esp_learn(c: &Ctx<'_>, p: &mut Pkt) -> u32 {
    let i = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    u32::from(c.out.learn(&sa(i), 1, 1) == dnat_core::out_sa::Learnt::Refreshed)
}

/// The host: an outbound echo request's identifier (on a copy of its 8
/// bytes, so that the packet is the same next round).
#[inline(never)]
fn host_echo_out(c: &Ctx<'_>, p: &mut Pkt) -> u32 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[HEADER_LEN..HEADER_LEN + 8]);
    let m = &mut b[..];
    let Ok(eph) = icmp::query_id(m) else {
        return 0;
    };
    let Some(u) = c.ids.lookup_out(eph, 1) else {
        return 0;
    };
    u32::from(icmp::rewrite_id(m, u).is_ok())
}

/// The host: the quote of an inbound port unreachable (on a copy of its
/// 36 bytes, so that the packet is the same next round).
#[inline(never)]
fn host_error_in(c: &Ctx<'_>, p: &mut Pkt) -> u32 {
    let mut b = [0u8; 36];
    b.copy_from_slice(&p[HEADER_LEN..HEADER_LEN + 36]);
    let r = icmp::rewrite_quote(&mut b, PUBLIC, About::Sent, |q, v| match q {
        icmp::Quoted::Udp => c.sptt.peek_in(Proto::Udp, v),
        icmp::Quoted::Tcp => c.sptt.peek_in(Proto::Tcp, v),
        icmp::Quoted::Icmp => c.ids.peek_in(v),
    });
    u32::from(r.is_ok_and(|r| r.new != r.old))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = args.get(1).map_or("", |s| s.as_str());
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let store = router();
    let out = OutSaStore::new(
        OutSaLayout {
            buckets: DEFAULT_BUCKETS,
            hosts: usize::from(HOSTS),
        },
        OutSaSettings::with_seed([0x1234, 0x5678]),
    );
    let out_sh = out.shared();
    let mut learnt = 0;
    for i in 0..SAS {
        // Each host may have 256: spread over the slots.
        let slot = (i % u32::from(HOSTS) + 1) as u16;
        learnt += u32::from(out_sh.learn(&sa(i), slot, 1) == dnat_core::out_sa::Learnt::Added);
    }
    // The host's tables: SPTT (UDP 40000.. -> 20000..) and identifiers.
    let z16 = |n| (0..n).map(|_| AtomicU16::new(0)).collect::<Vec<_>>();
    let z32 = |n| (0..n).map(|_| AtomicU32::new(0)).collect::<Vec<_>>();
    let z64 = |n| (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
    let (ports, times, states, held, peers) = (
        z16(sptt::Layout::PORTS_LEN),
        z32(sptt::Layout::TIMES_LEN),
        (0..sptt::Layout::STATES_LEN)
            .map(|_| AtomicU8::new(0))
            .collect::<Vec<_>>(),
        z64(sptt::Layout::HELD_LEN),
        z64(sptt::Layout::PEERS_LEN),
    );
    let sptt_sh = sptt::Shared::new(&ports, &times, &states, &held, &peers).expect("sptt");
    let mut used = vec![0u64; sptt::Layout::USED_LEN];
    let mut wst = sptt::WriterState::new();
    let blocks = [PortBlock {
        lowest: 20000,
        count: 255,
    }];
    {
        let mut t = sptt::Sptt::new(sptt_sh, &mut used, &mut wst).expect("sptt");
        t.set_blocks(&blocks).expect("blocks");
        for e in 0..255 {
            t.create(Proto::Udp, 40000 + e, 1).expect("entry");
        }
    }
    let (io, ib, it) = (
        z32(icmp::IdLayout::OUT_LEN),
        z32(icmp::IdLayout::BACK_LEN),
        z32(icmp::IdLayout::TIMES_LEN),
    );
    let ids = IdShared::new(&io, &ib, &it).expect("ids");
    let mut iw = IdWriter::new();
    {
        let mut t = IdTable::new(ids, &mut iw);
        for e in 0..255 {
            t.create(1000 + e, 1, &blocks).expect("identifier");
        }
    }
    let mut view = StoreView::new(store.shared(), usize::from(HOSTS));
    view.out_sa = Some(out_sh);
    let ctx = Ctx {
        view,
        out: out_sh,
        ids,
        sptt: sptt_sh,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut port = || 20000 + rng.below(255) as u16;
    let mut pkts: Vec<Pkt> = Vec::with_capacity(PACKETS);
    let f: Decide = match scenario {
        "base" | "udp_in" => {
            for _ in 0..PACKETS {
                pkts.push(packet(REMOTE, PUBLIC, proto::UDP, &udp(53, port())));
            }
            if scenario == "base" {
                base
            } else {
                inbound
            }
        }
        "echo_in" => {
            for _ in 0..PACKETS {
                pkts.push(packet(REMOTE, PUBLIC, proto::ICMP, &query(0, port())));
            }
            inbound
        }
        "error_in" | "host_error_in" => {
            for _ in 0..PACKETS {
                let q = packet(PUBLIC, REMOTE, proto::UDP, &udp(port(), 53));
                let m = error(3, &q[..HEADER_LEN + 8]);
                pkts.push(packet(REMOTE, PUBLIC, proto::ICMP, &m));
            }
            if scenario == "error_in" {
                inbound
            } else {
                host_error_in
            }
        }
        "quoted_sa_in" => {
            for i in 0..PACKETS as u32 {
                let s = sa(i * 7 % SAS);
                let mut esp = [0u8; 8];
                esp[0..4].copy_from_slice(&s.spi.to_be_bytes());
                let q = packet(PUBLIC, s.peer, proto::ESP, &esp);
                let m = error(3, &q[..HEADER_LEN + 8]);
                pkts.push(packet(REMOTE, PUBLIC, proto::ICMP, &m));
            }
            inbound
        }
        "udp_out" | "echo_out" => {
            for _ in 0..PACKETS {
                let l4 = if scenario == "udp_out" {
                    udp(port(), 53)
                } else {
                    query(8, port())
                };
                let p = if scenario == "udp_out" {
                    proto::UDP
                } else {
                    proto::ICMP
                };
                pkts.push(tunnelled(&packet(PUBLIC, REMOTE, p, &l4)));
            }
            outbound
        }
        "esp_learn" => {
            for i in 0..PACKETS as u32 {
                let mut b = [0u8; LEN];
                // Slot 1 learnt the SAs i with i % 32 == 0.
                b[0..4].copy_from_slice(&(i * u32::from(HOSTS) % SAS).to_be_bytes());
                pkts.push(b);
            }
            esp_learn
        }
        "host_echo_out" => {
            for i in 0..PACKETS {
                pkts.push(packet(
                    PUBLIC,
                    REMOTE,
                    proto::ICMP,
                    &query(8, 1000 + (i % 255) as u16),
                ));
            }
            host_echo_out
        }
        _ => {
            eprintln!(
                "usage: icmp_cost SCENARIO [N]\nscenarios: base udp_in echo_in error_in \
                 quoted_sa_in udp_out echo_out esp_learn host_echo_out host_error_in"
            );
            std::process::exit(2);
        }
    };
    let t0 = Instant::now();
    let mut owned = 0u64;
    for i in 0..n {
        let p = &mut pkts[i as usize & (PACKETS - 1)];
        owned += u64::from(black_box(f(&ctx, black_box(p))) != 0);
    }
    let dt = t0.elapsed();
    println!(
        "{scenario} n={n} owned={owned} sas={learnt} {:.1} ns/packet (wall, not callgrind)",
        dt.as_nanos() as f64 / n.max(1) as f64
    );
    if owned != n {
        eprintln!("icmp_cost: {} packets of {n} not owned", n - owned);
        std::process::exit(1);
    }
}
