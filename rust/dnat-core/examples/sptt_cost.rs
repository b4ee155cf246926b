// SPDX-License-Identifier: GPL-2.0

//! Instruction cost of the host's per-packet port translation (the SPTT
//! lookups and the port rewrite with its checksum fix-up), meant to be run
//! under callgrind for a stable instruction count.
//!
//! `sptt_cost MODE N` fills the pool with 16 blocks of 255 ports (4,080,
//! the most a host holds), creates an entry for each of them in TCP and in
//! UDP (ephemeral ports 20000..=24079), then handles `N` packets of
//! pseudo-random flows of them. The table does not depend on `N`, so the
//! instructions of a run with `2N` packets minus those of a run with `N`,
//! divided by `N`, are the cost of one packet, setup cancelled:
//!
//! | mode | per packet |
//! |---|---|
//! | `base` | the loop and a trivial non-inlined call only |
//! | `out` | `Shared::lookup_out` (TCP) |
//! | `in` | `Shared::lookup_in` (TCP) |
//! | `out-rewrite` | `lookup_out`, `note_tcp` (ACK), `rewrite_port` of the source port of a 20-byte TCP header |
//! | `in-rewrite` | `lookup_in`, `note_tcp` (ACK), `rewrite_port` of the destination port of a TCP header |
//! | `udp-out-rewrite` | `lookup_out` (UDP) and `rewrite_port` of an 8-byte UDP header |
//! | `miss` | `lookup_out` of ports without entry |
//!
//! ```text
//! cargo build --release --example sptt_cost
//! for n in 100000 200000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//!     target/release/examples/sptt_cost out-rewrite $n 2>&1 | grep refs
//! done
//! ```
//!
//! The wall-clock time it prints is only indicative (no callgrind).

use std::hint::black_box;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8};
use std::time::Instant;

use dnat_core::pap::PortBlock;
use dnat_core::sptt::*;

const EPH: u16 = 20000;
const BLOCKS: usize = MAX_BLOCKS;
const PER_BLOCK: u8 = 255;
const ENTRIES: u32 = BLOCKS as u32 * PER_BLOCK as u32;

struct Store {
    ports: Vec<AtomicU16>,
    times: Vec<AtomicU32>,
    states: Vec<AtomicU8>,
    held: Vec<AtomicU64>,
    peers: Vec<AtomicU64>,
    used: Vec<u64>,
    st: WriterState,
}

impl Store {
    fn new() -> Self {
        Self {
            ports: (0..Layout::PORTS_LEN).map(|_| AtomicU16::new(0)).collect(),
            times: (0..Layout::TIMES_LEN).map(|_| AtomicU32::new(0)).collect(),
            states: (0..Layout::STATES_LEN).map(|_| AtomicU8::new(0)).collect(),
            held: (0..Layout::HELD_LEN).map(|_| AtomicU64::new(0)).collect(),
            peers: (0..Layout::PEERS_LEN).map(|_| AtomicU64::new(0)).collect(),
            used: vec![0; Layout::USED_LEN],
            st: WriterState::new(),
        }
    }

    fn shared(&self) -> Shared<'_> {
        Shared::new(
            &self.ports,
            &self.times,
            &self.states,
            &self.held,
            &self.peers,
        )
        .expect("layout")
    }

    fn table(&mut self) -> Sptt<'_> {
        let sh = Shared::new(
            &self.ports,
            &self.times,
            &self.states,
            &self.held,
            &self.peers,
        )
        .expect("layout");
        Sptt::new(sh, &mut self.used, &mut self.st).expect("layout")
    }
}

/// 16 blocks of 255 ports from 30000 up, an entry per port and protocol.
fn build() -> Store {
    let mut s = Store::new();
    let mut t = s.table();
    let blocks: Vec<PortBlock> = (0..BLOCKS)
        .map(|i| PortBlock {
            lowest: 30000 + 256 * i as u16,
            count: PER_BLOCK,
        })
        .collect();
    t.set_blocks(&blocks).expect("blocks");
    for p in [Proto::Tcp, Proto::Udp] {
        for i in 0..ENTRIES {
            t.create(p, EPH + i as u16, 0).expect("create");
        }
    }
    s
}

/// The unique port of every ephemeral port, for the inbound modes.
fn uniques(sh: &Shared<'_>) -> Vec<u16> {
    (0..ENTRIES)
        .map(|i| sh.lookup_out(Proto::Tcp, EPH + i as u16, 0).expect("entry"))
        .collect()
}

/// `n` packets with keys `pseudo-random % ENTRIES` through `f`. Every mode
/// runs this same loop, so `base` measures the loop, key generation and
/// `black_box` overhead to subtract.
#[inline(always)]
fn run(n: u64, mut f: impl FnMut(u32) -> Option<u16>) -> u64 {
    let mut x = 1u32;
    let mut acc = 0u64;
    for _ in 0..n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let key = black_box((x >> 8) % ENTRIES);
        acc += u64::from(black_box(f(key)).unwrap_or(0));
    }
    acc
}

// The per-packet work, each in its own non-inlined function so that
// callgrind can report it alone.

#[inline(never)]
fn none(_: &Shared<'_>, k: u16) -> Option<u16> {
    Some(k)
}

#[inline(never)]
fn out(sh: &Shared<'_>, eph: u16) -> Option<u16> {
    sh.lookup_out(Proto::Tcp, eph, 1)
}

#[inline(never)]
fn inbound(sh: &Shared<'_>, unique: u16) -> Option<u16> {
    sh.lookup_in(Proto::Tcp, unique, 1)
}

/// What `note_tcp` needs of TCP header `l4` (the remote end fixed).
#[inline(always)]
fn segment(l4: &[u8]) -> Option<Segment> {
    let be32 = |at: usize| Some(u32::from_be_bytes(l4.get(at..at + 4)?.try_into().ok()?));
    Some(Segment {
        flags: *l4.get(13)?,
        seq: be32(4)?,
        ack: be32(8)?,
        peer: core::net::Ipv4Addr::new(203, 0, 113, 3),
        peer_port: 443,
    })
}

/// Outbound TCP: the stack's source port is `eph`.
#[inline(never)]
fn out_rewrite(sh: &Shared<'_>, l4: &mut [u8], eph: u16) -> Option<u16> {
    let u = sh.lookup_out(Proto::Tcp, eph, 1)?;
    sh.note_tcp(u, &segment(l4)?, true, 1);
    rewrite_port(l4, Proto::Tcp, Which::Src, u).ok()
}

/// Inbound TCP to unique port `unique`.
#[inline(never)]
fn in_rewrite(sh: &Shared<'_>, l4: &mut [u8], unique: u16) -> Option<u16> {
    let e = sh.lookup_in(Proto::Tcp, unique, 1)?;
    sh.note_tcp(unique, &segment(l4)?, false, 1);
    rewrite_port(l4, Proto::Tcp, Which::Dst, e).ok()
}

#[inline(never)]
fn udp_out_rewrite(sh: &Shared<'_>, l4: &mut [u8], eph: u16) -> Option<u16> {
    let u = sh.lookup_out(Proto::Udp, eph, 1)?;
    rewrite_port(l4, Proto::Udp, Which::Src, u).ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("out-rewrite", |s| s.as_str());
    let n: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let s = build();
    let sh = s.shared();
    let uniq = uniques(&sh);
    let unique = |k: u32| uniq[k as usize];
    let eph = |k: u32| EPH + k as u16;
    // A TCP header (ACK) and a UDP header with nonzero checksums, rewritten
    // in place packet after packet (the port field holds the previous
    // packet's port, which is all `rewrite_port` reads).
    let mut tcp = [
        0x4e, 0x20, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10, 0xfa, 0xf0, 0x12, 0x34, 0, 0,
    ];
    let mut udp = [0x4e, 0x20, 0x00, 0x35, 0x00, 0x1c, 0x56, 0x78];
    let t0 = Instant::now();
    let acc = match mode {
        "base" => run(n, |k| none(&sh, eph(k))),
        "out" => run(n, |k| out(&sh, eph(k))),
        "in" => run(n, |k| inbound(&sh, unique(k))),
        "out-rewrite" => run(n, |k| out_rewrite(&sh, &mut tcp, eph(k))),
        "in-rewrite" => run(n, |k| in_rewrite(&sh, &mut tcp, unique(k))),
        "udp-out-rewrite" => run(n, |k| udp_out_rewrite(&sh, &mut udp, eph(k))),
        "miss" => run(n, |k| out(&sh, 40000 + k as u16)),
        _ => {
            eprintln!("usage: sptt_cost base|out|in|out-rewrite|in-rewrite|udp-out-rewrite|miss N");
            std::process::exit(2);
        }
    };
    let dt = t0.elapsed();
    if mode != "miss" && mode != "base" && acc == 0 {
        eprintln!("no packet was translated");
        std::process::exit(1);
    }
    println!(
        "{mode} n={n} acc={acc} {:.1} ns/packet (wall, not callgrind) table={} bytes",
        dt.as_nanos() as f64 / n.max(1) as f64,
        Layout::BYTES
    );
}
