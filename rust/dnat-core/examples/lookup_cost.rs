// SPDX-License-Identifier: GPL-2.0

//! Cost of the packet-path lookups of the allocation tables, meant to be run
//! under callgrind for a stable instruction count.
//!
//! `lookup_cost MODE BLOCKS N` builds a table with `BLOCKS` SPI blocks of 16
//! SPIs (and the port pool 1024..=65535 in blocks of 16), then does `N`
//! lookups of pseudo-random keys inside the allocated range. Modes: `port`
//! (port -> slot), `port-owner` (port -> slot and address), `spi` (SPI ->
//! slot), `spi-owner` (SPI -> slot and address), `spi-miss` (SPIs above
//! every block), `base` (an identity "lookup": the call overhead alone).
//!
//! Each lookup is a non-inlined function (`lookup_port`, `lookup_spi`, ...),
//! so its instructions per call, call and return included, are its
//! callgrind self cost divided by `N`:
//!
//! ```text
//! cargo build --release --example lookup_cost
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     target/release/examples/lookup_cost spi 65536 1000000
//! callgrind_annotate /tmp/cg.out | grep lookup_
//! ```
//!
//! The wall-clock time it prints is only indicative (no callgrind).

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

use dnat_core::alloc_table::*;
use dnat_core::config::Range;
use dnat_core::store::AllocStore;

const SPI_BLOCK: u32 = 16;
const SPI_MIN: u32 = 0x1000;

/// Fills a table with `blocks` SPI blocks of 16 and the whole port pool
/// 1024..=65535 with port blocks of 16; returns it.
fn build(blocks: usize) -> AllocStore {
    let hosts = blocks.div_ceil(SPI_BLOCKS_PER_HOST).max(256);
    let mut s = AllocStore::new(hosts, Settings::UNLIMITED);
    let mut t = s.table();
    t.set_pools(
        Some(Range {
            min: 1024,
            max: 65535,
        }),
        Some(Range {
            min: SPI_MIN,
            max: u32::MAX,
        }),
        |_| {},
    );
    for b in 0..blocks {
        let host = Ipv4Addr::from(0x0a00_0001u32 + (b / SPI_BLOCKS_PER_HOST) as u32);
        t.request_spis(host, SPI_BLOCK, 0, 0).expect("spi grant");
    }
    for b in 0..hosts * PORT_BLOCKS_PER_HOST {
        let host = Ipv4Addr::from(0x0a00_0001u32 + (b / PORT_BLOCKS_PER_HOST) as u32);
        let below = t.request_ports(host, 16, true, 0, 0);
        if below.is_err() && t.request_ports(host, 16, false, 0, 0).is_err() {
            break;
        }
    }
    while let Some(tok) = t.start_grace() {
        t.finish_grace(tok);
    }
    s
}

/// `n` lookups of `lo + (pseudo-random % span)` through `f`. Every mode
/// runs this same loop, so `base` (an identity "lookup") measures the loop,
/// key generation and `black_box` overhead to subtract.
/// `n` lookups of `lo + (pseudo-random % span)` through `f`.
#[inline(always)]
fn run(n: u64, lo: u32, span: u32, f: impl Fn(u32) -> Option<u16>) -> u64 {
    let mut x = 1u32;
    let mut acc = 0u64;
    for _ in 0..n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let key = black_box(lo + (x >> 8) % span);
        acc += u64::from(black_box(f(key)).unwrap_or(0));
    }
    acc
}

// The lookups, each in its own non-inlined function so that callgrind
// reports their cost alone.

#[inline(never)]
fn lookup_none(_: &Shared<'_>, k: u32) -> Option<u16> {
    Some(k as u16)
}

#[inline(never)]
fn lookup_port(sh: &Shared<'_>, k: u32) -> Option<u16> {
    sh.owner_of_port(k as u16)
}

#[inline(never)]
fn lookup_port_owner(sh: &Shared<'_>, k: u32) -> Option<u16> {
    sh.port_owner(k as u16)
        .map(|(s, a)| s.wrapping_add(u16::from(a.octets()[3])))
}

#[inline(never)]
fn lookup_spi(sh: &Shared<'_>, k: u32) -> Option<u16> {
    sh.owner_of_spi(k)
}

#[inline(never)]
fn lookup_spi_owner(sh: &Shared<'_>, k: u32) -> Option<u16> {
    sh.spi_owner(k)
        .map(|(s, a)| s.wrapping_add(u16::from(a.octets()[3])))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("spi", |s| s.as_str());
    let blocks: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let n: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let s = build(blocks);
    let sh = s.shared();
    let spis = blocks as u32 * SPI_BLOCK;
    let t0 = Instant::now();
    let acc = match mode {
        "base" => run(n, SPI_MIN, spis, |k| lookup_none(&sh, k)),
        "port" => run(n, 1024, 64512, |k| lookup_port(&sh, k)),
        "port-owner" => run(n, 1024, 64512, |k| lookup_port_owner(&sh, k)),
        "spi" => run(n, SPI_MIN, spis, |k| lookup_spi(&sh, k)),
        "spi-owner" => run(n, SPI_MIN, spis, |k| lookup_spi_owner(&sh, k)),
        "spi-miss" => run(n, SPI_MIN + spis, spis, |k| lookup_spi(&sh, k)),
        _ => {
            eprintln!("usage: lookup_cost base|port|port-owner|spi|spi-owner|spi-miss BLOCKS N");
            std::process::exit(2);
        }
    };
    let dt = t0.elapsed();
    println!(
        "{mode} blocks={blocks} n={n} acc={acc} {:.1} ns/lookup (wall, not callgrind) table={} bytes",
        dt.as_nanos() as f64 / n.max(1) as f64,
        table_bytes(s.hosts.len())
    );
}
