// SPDX-License-Identifier: GPL-2.0

//! Instruction cost of the router's per-packet decision, meant to be run
//! under callgrind (`scripts/callgrind.sh` does it and prints a table).
//!
//! `classify_cost SCENARIO N` builds allocation tables and 4,096 packets,
//! then decides `N` packets, cycling over them, each through one
//! non-inlined function ([`inbound_packet`], [`outbound_packet`]) that
//! parses the header and calls the kernel's own decisions
//! (`dnat_core::router_path`: `path`, then `inbound` and `delivered`, or
//! `outbound` and `forwarded`, counters included) on a
//! `store::StoreView` of the tables, minus the skb copies. The SA policy
//! is permissive, so inbound ESP is checked against the established-SA
//! table and delivered. Neither the tables nor the packets depend on `N`,
//! so (instructions(2N) - instructions(N)) / N is the cost of one packet.
//! Every packet must find its owner; the program exits with 1 otherwise.
//!
//! The scenarios, what each function does, and the results:
//! Documentation/testing.rst, section "Benchmarks".

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

use dnat_core::alloc_table::*;
use dnat_core::classify;
use dnat_core::config::Range;
use dnat_core::ipv4::{self, proto, Header, HEADER_LEN};
use dnat_core::out_sa::{OutSaLayout, OutSaSettings, DEFAULT_BUCKETS};
use dnat_core::router_path::{self, Iface, Inbound, Outbound, Path};
use dnat_core::sa_table::{SaLayout, Seed};
use dnat_core::store::{AllocStore, OutSaStore, SaStore, StoreView};

/// Host slots of every table (enough for 65,536 SPI blocks of 16 per host).
const HOSTS: usize = 4096;
const PORT_MIN: u16 = 1024;
const PORT_MAX: u16 = 65535;
const PORT_BLOCK: u32 = 255;
/// Blocks of 255 (or fewer, at the end of a side) that hold the pool:
/// 1024..=9999 and 10000..=65535 are allocated separately.
const PORT_BLOCKS_64K: usize = (LOW_PORT_LIMIT - PORT_MIN).div_ceil(PORT_BLOCK as u16) as usize
    + (PORT_MAX - LOW_PORT_LIMIT + 1).div_ceil(PORT_BLOCK as u16) as usize;
const SPI_MIN: u32 = 0x1000;
const SPI_BLOCK: u32 = 16;
/// Prebuilt packets (a power of two), cycled over.
const PACKETS: usize = 4096;
/// Transport bytes after the 20-byte header.
const L4_LEN: usize = 32;
const INNER_LEN: usize = HEADER_LEN + L4_LEN;
const OUTER_LEN: usize = HEADER_LEN + INNER_LEN;

const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// A table for `cap` hosts with no quota or lease limits and the pools
/// `PORT_MIN..=PORT_MAX` and `SPI_MIN..`.
fn new_store(cap: usize) -> AllocStore {
    let mut s = AllocStore::new(cap, Settings::UNLIMITED);
    s.table().set_pools(
        Some(Range {
            min: PORT_MIN,
            max: PORT_MAX,
        }),
        Some(Range {
            min: SPI_MIN,
            max: u32::MAX,
        }),
        |_| {},
    );
    s
}

/// Publishes everything (grace periods elapse at once here).
fn settle(s: &mut AllocStore) {
    let mut t = s.table();
    while let Some(tok) = t.start_grace() {
        t.finish_grace(tok);
    }
}

/// Host number `n` (0-based): 10.1.0.1 and up.
fn host(n: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a01_0001u32 + n as u32)
}

/// Grants port blocks of 255, one per host starting with host `first`,
/// below 10000 first, until the pool is exhausted or `blocks` are granted;
/// returns the number of ports granted.
fn grant_ports(s: &mut AllocStore, first: usize, blocks: usize) -> u64 {
    let mut t = s.table();
    let mut n = 0;
    for b in 0..blocks {
        let a = host(first + b);
        let g = t
            .request_ports(a, PORT_BLOCK, true, 0, 0)
            .or_else(|_| t.request_ports(a, PORT_BLOCK, false, 0, 0));
        match g {
            Ok(g) => n += u64::from(g.count),
            Err(_) => break,
        }
    }
    n
}

/// Grants `blocks` SPI blocks of 16, 16 blocks per host.
fn grant_spis(s: &mut AllocStore, blocks: usize) -> u64 {
    let mut t = s.table();
    for b in 0..blocks {
        t.request_spis(host(b / SPI_BLOCKS_PER_HOST), SPI_BLOCK, 0, 0)
            .expect("spi grant");
    }
    blocks as u64 * u64::from(SPI_BLOCK)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// A packet from `src` to `dst` with 32 bytes of transport: UDP (ports,
/// length, zero checksum) or ESP (SPI, sequence number), then filler.
fn packet(src: Ipv4Addr, dst: Ipv4Addr, p: u8, key: u32, sport: u16) -> [u8; INNER_LEN] {
    let mut b = [0u8; INNER_LEN];
    b[..HEADER_LEN].copy_from_slice(&ipv4::build(src, dst, p, 64, L4_LEN).expect("header"));
    let l4 = &mut b[HEADER_LEN..];
    if p == proto::ESP {
        l4[0..4].copy_from_slice(&key.to_be_bytes());
        l4[4..8].copy_from_slice(&1u32.to_be_bytes());
    } else {
        l4[0..2].copy_from_slice(&sport.to_be_bytes());
        l4[2..4].copy_from_slice(&(key as u16).to_be_bytes());
        l4[4..6].copy_from_slice(&(L4_LEN as u16).to_be_bytes());
    }
    for (i, x) in l4[8..].iter_mut().enumerate() {
        *x = i as u8;
    }
    b
}

/// Inbound packets from a remote peer to the public address: UDP to random
/// ports of `lo..lo + span`, or ESP with random SPIs of it.
fn inbound_packets(p: u8, lo: u32, span: u32) -> Vec<[u8; OUTER_LEN]> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..PACKETS)
        .map(|_| {
            let key = lo + rng.below(u64::from(span)) as u32;
            let mut b = [0u8; OUTER_LEN];
            b[..INNER_LEN].copy_from_slice(&packet(REMOTE, PUBLIC, p, key, 53));
            b
        })
        .collect()
}

/// Outbound packets: IP-in-IP from the owner of a random allocated port to
/// the router, around a UDP packet from the public address and that port
/// or, with `esp`, an ESP packet of the owner's SA (one per host).
fn outbound_packets(sh: &Shared<'_>, esp: bool) -> Vec<[u8; OUTER_LEN]> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    (0..PACKETS)
        .map(|_| {
            let port = PORT_MIN + rng.below(u64::from(PORT_MAX - PORT_MIN) + 1) as u16;
            let (_, owner) = sh.port_owner(port).expect("allocated port");
            let mut b = [0u8; OUTER_LEN];
            b[..HEADER_LEN].copy_from_slice(
                &ipv4::build(owner, ROUTER_LAN, proto::IPIP, 64, INNER_LEN).expect("header"),
            );
            let inner = if esp {
                let spi = 0x1_0000 | (u32::from(owner) & 0xffff);
                packet(PUBLIC, REMOTE, proto::ESP, spi, 0)
            } else {
                packet(PUBLIC, REMOTE, proto::UDP, 53, port)
            };
            b[HEADER_LEN..].copy_from_slice(&inner);
            b
        })
        .collect()
}

/// A per-packet decision.
type Decide = fn(&StoreView<'_>, &[u8]) -> u32;

// The per-packet decisions, each in its own non-inlined function. They
// return nonzero when the packet has an owner (inbound: its address plus
// its slot) or is forwarded (outbound), 0 for "not owned / drop".

/// The loop's own cost: a non-inlined call that reads one byte.
#[inline(never)]
fn base_packet(_: &StoreView<'_>, pkt: &[u8]) -> u32 {
    pkt.first().map_or(0, |&b| u32::from(b) | 1)
}

/// An inbound packet on the WAN: parse, path, the decision (classify,
/// owner, SA check), the delivery's counters.
#[inline(never)]
fn inbound_packet(v: &StoreView<'_>, pkt: &[u8]) -> u32 {
    let Ok(h) = Header::parse(pkt, pkt.len()) else {
        return 0;
    };
    if router_path::path(&h, Iface::Wan, PUBLIC, || Some(ROUTER_LAN)) != Path::Inbound {
        return 0;
    }
    let end = h
        .total_len
        .min(h.header_len + classify::peek_len(h.protocol));
    match router_path::inbound(v, &h, pkt.get(h.header_len..end), PUBLIC) {
        Inbound::Deliver(d) => {
            router_path::delivered(v, &d, h.total_len, true);
            u32::from(d.host).wrapping_add(u32::from(d.slot))
        }
        Inbound::Accept | Inbound::Drop => 0,
    }
}

/// An IP-in-IP packet from the LAN: parse both headers, path, the
/// decision (the inner packet's proof, the sender), the forwarding's
/// counters and, for ESP, the outbound SA's refresh.
#[inline(never)]
fn outbound_packet(v: &StoreView<'_>, pkt: &[u8]) -> u32 {
    let Ok(h) = Header::parse(pkt, pkt.len()) else {
        return 0;
    };
    if router_path::path(&h, Iface::Lan, PUBLIC, || Some(ROUTER_LAN)) != Path::Outbound {
        return 0;
    }
    let inner_pkt = pkt.get(h.header_len..h.total_len).unwrap_or(&[]);
    let inner = Header::parse(inner_pkt, inner_pkt.len()).ok();
    let inner = inner.as_ref().map(|i| {
        let end = i
            .total_len
            .min(i.header_len + classify::peek_len(i.protocol));
        (i, inner_pkt.get(i.header_len..end).unwrap_or(&[]))
    });
    match router_path::outbound(v, &h, inner, PUBLIC) {
        Outbound::Forward { sender, sa } => {
            router_path::forwarded(v, sender, sa, inner_pkt.len(), true);
            1
        }
        Outbound::Drop => 0,
    }
}

/// `n` packets, cycling over `pkts`, through `f`; how many were owned.
#[inline(always)]
fn run(n: u64, v: &StoreView<'_>, pkts: &[[u8; OUTER_LEN]], len: usize, f: Decide) -> u64 {
    let mut owned = 0;
    for i in 0..n {
        let p = &pkts[i as usize & (PACKETS - 1)][..len];
        owned += u64::from(black_box(f(v, black_box(p))) != 0);
    }
    owned
}

const SCENARIOS: &str = "base inbound_port_1 inbound_port_64k inbound_spi_1 inbound_spi_1m \
                         outbound outbound_find_host outbound_find_host_4k";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = args.get(1).map_or("", |s| s.as_str());
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let all_ports = u32::from(PORT_MAX - PORT_MIN) + 1;
    let mut s = new_store(HOSTS);
    let (granted, pkts, len, f): (u64, _, _, Decide) = match scenario {
        "base" => (
            grant_ports(&mut s, 0, 1),
            inbound_packets(proto::UDP, PORT_MIN.into(), PORT_BLOCK),
            INNER_LEN,
            base_packet,
        ),
        "inbound_port_1" => (
            grant_ports(&mut s, 0, 1),
            inbound_packets(proto::UDP, PORT_MIN.into(), PORT_BLOCK),
            INNER_LEN,
            inbound_packet,
        ),
        "inbound_port_64k" => (
            grant_ports(&mut s, 0, HOSTS),
            inbound_packets(proto::UDP, PORT_MIN.into(), all_ports),
            INNER_LEN,
            inbound_packet,
        ),
        "inbound_spi_1" => (
            grant_spis(&mut s, 1),
            inbound_packets(proto::ESP, SPI_MIN, SPI_BLOCK),
            INNER_LEN,
            inbound_packet,
        ),
        "inbound_spi_1m" => {
            let blocks = HOSTS * SPI_BLOCKS_PER_HOST;
            (
                grant_spis(&mut s, blocks),
                inbound_packets(proto::ESP, SPI_MIN, blocks as u32 * SPI_BLOCK),
                INNER_LEN,
                inbound_packet,
            )
        }
        "outbound" | "outbound_find_host" | "outbound_find_host_4k" => {
            let mut first = 0;
            if scenario == "outbound_find_host_4k" {
                // Fill the host table so that port owners sit at its end.
                first = HOSTS - PORT_BLOCKS_64K;
                let mut t = s.table();
                for k in 0..first {
                    t.admit(host(HOSTS + k)).expect("admit");
                }
            }
            let granted = grant_ports(&mut s, first, HOSTS);
            settle(&mut s);
            // ESP: the sender is found by its address (the host index).
            let pkts = outbound_packets(&s.shared(), scenario != "outbound");
            (granted, pkts, OUTER_LEN, outbound_packet as Decide)
        }
        _ => {
            eprintln!("usage: classify_cost SCENARIO [N]\nscenarios: {SCENARIOS}");
            std::process::exit(2);
        }
    };
    let full = scenario.contains("64k") || scenario.starts_with("outbound");
    if full && granted != u64::from(all_ports) {
        eprintln!("classify_cost: only {granted} ports granted");
        std::process::exit(1);
    }
    settle(&mut s);
    let hosts = s.table().stats().hosts;
    // The tables the kernel has beside the allocation table.
    let sa = SaStore::new(
        SaLayout {
            buckets: 16384,
            hosts: HOSTS,
        },
        Seed([0x1234, 0x5678]),
    );
    let out = OutSaStore::new(
        OutSaLayout {
            buckets: DEFAULT_BUCKETS,
            hosts: HOSTS,
        },
        OutSaSettings::with_seed([0x9abc, 0xdef0]),
    );
    let mut v = StoreView::new(s.shared(), HOSTS);
    v.sa = Some(sa.shared());
    v.out_sa = Some(out.shared());
    v.sa_permissive = true;
    let t0 = Instant::now();
    let owned = run(n, &v, &pkts, len, f);
    let dt = t0.elapsed();
    println!(
        "{scenario} n={n} owned={owned} granted={granted} hosts={} {:.1} ns/packet (wall, not callgrind)",
        hosts,
        dt.as_nanos() as f64 / n.max(1) as f64,
    );
    if owned != n {
        eprintln!("classify_cost: {} packets of {n} not owned", n - owned);
        std::process::exit(1);
    }
}
