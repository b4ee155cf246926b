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

use dnat_core::alloc_table::{Quota, Settings};
use dnat_core::config::Range;
use dnat_core::out_sa::{OutSaLayout, OutSaSettings};
use dnat_core::sa_table::{SaLayout, Seed};
use dnat_core::sptt::Which;
use dnat_core::store::{AllocStore, OutSaStore, RouterStore, SaStore};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

#[path = "input.rs"]
mod input;
#[path = "router_classify/model.rs"]
mod model;
#[path = "router_classify/packet.rs"]
mod packet;
#[path = "router_classify/router.rs"]
mod router;

use input::Input;
use model::{inbound, outbound, Decision, Icmp};
use packet::{fix_headers, rewrite, shape, shape_icmp};
use router::{op, Router, HOSTS, MAX_OPS, MAX_PACKETS};

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
