// SPDX-License-Identifier: GPL-2.0

//! Cost of serving PAP with and without authentication: one grant per
//! round, served by what `router/server.rs` calls under its locks
//! (`pap_serving::ServingState::serve`: admit, reply cache, budget,
//! tables, event, encode, cache, accept, seal) after parsing, and the host
//! opens the answer.
//!
//! `pap_cost MODE N`: `auth` (a host session seals each message, the
//! router checks it, the reply is sealed and opened), `plain` (the same
//! messages and replies without auth block, from a host that has no key),
//! `base` (the loop alone). Each round is a renewal of one granted block (32/4, answered
//! with a grant of the same block), so that the tables stay the same.
//! Prints the rate in grants a second (wall clock, indicative); under
//! callgrind, `(instructions(2N) - instructions(N)) / N` is the cost of a
//! round (`scripts/callgrind.sh`).

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

use dnat_core::alloc_table::Settings;
use dnat_core::config::Range;
use dnat_core::pap::{self, Direction, Message, PortBlock, PortClass, Trailer};
use dnat_core::pap_auth::{parse, Frame, MAX_WIRE};
use dnat_core::pap_keys::Mode;
use dnat_core::pap_serving::{HostServing, Policy, ServingState};
use dnat_core::pap_session::{Opened, Session};
use dnat_core::sa_table::{Lan, SaLayout, Seed};
use dnat_core::store::{AllocStore, RouterStore, SaStore};

const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const EPOCH: u32 = 0x5eed_0001;

fn request(xid: u32) -> ([u8; MAX_WIRE], usize) {
    let m = Message::PortRequest {
        class: PortClass::High,
        count: 1,
        ext: Some(Trailer {
            xid,
            epoch: EPOCH,
            lease: 0,
        }),
    };
    let mut b = [0u8; MAX_WIRE];
    let n = pap::encode(&m, &mut b).unwrap_or(0);
    (b, n)
}

fn renewal(xid: u32) -> ([u8; MAX_WIRE], usize) {
    let m = Message::PortRenew {
        block: PortBlock {
            lowest: 20000,
            count: 1,
        },
        ext: Trailer {
            xid,
            epoch: EPOCH,
            lease: 0,
        },
    };
    let mut b = [0u8; MAX_WIRE];
    let n = pap::encode(&m, &mut b).unwrap_or(0);
    (b, n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("auth", String::as_str);
    let n: u32 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let mut alloc = AllocStore::new(8, Settings::UNLIMITED);
    alloc.table().set_pools(
        Some(Range {
            min: 20000,
            max: 29999,
        }),
        None,
        |_| {},
    );
    let mut store = RouterStore {
        alloc,
        sa: SaStore::new(
            SaLayout {
                buckets: 64,
                hosts: 8,
            },
            Seed([1, 2]),
        ),
    };
    let mut serving = ServingState::<_, 256>::new(vec![HostServing::EMPTY; 9], [0x42; 16]);
    let policy = Policy {
        mode: Mode::Optional,
        rate: 0,
        epoch: EPOCH,
        lan: Lan {
            addr: Ipv4Addr::new(10, 0, 0, 7),
            mask: Ipv4Addr::new(255, 255, 255, 0),
        },
    };
    let mut session = Session::new(HOST);
    let mut wire = [0u8; MAX_WIRE];
    let mut out = [0u8; MAX_WIRE];
    if mode == "auth" {
        // The key exchange, once.
        let (r0, n0) = request(1);
        let k = session
            .outgoing(&r0[..n0], 1, 0, || [7; 20], &mut wire)
            .unwrap_or(0);
        if let Ok(Frame::KeyRequest(r)) = parse(&wire[..k], Direction::ToRouter) {
            if let Some(g) = serving.grant_key(HOST, &r, EPOCH, 1, &mut out) {
                assert_eq!(session.incoming(&out[..g.len], 1), Opened::KeyInstalled);
            }
        }
    }
    // The block every round renews, granted plain (the host has no key
    // yet in plain mode; in auth mode the grant is sealed).
    let (m, mn) = request(1);
    let len = if mode == "auth" {
        session
            .outgoing(&m[..mn], 1, EPOCH, || [7; 20], &mut wire)
            .unwrap_or(0)
    } else {
        wire[..mn].copy_from_slice(&m[..mn]);
        mn
    };
    if let Ok(frame) = parse(&wire[..len], Direction::ToRouter) {
        let (mut t, mut sa) = store.both();
        let _ = serving.serve(
            &mut t,
            &mut sa,
            &policy,
            HOST,
            &frame,
            &wire[..len],
            1,
            &mut out,
        );
    }
    let start = Instant::now();
    let mut granted = 0u32;
    for i in 0..n {
        let xid = i.wrapping_add(2);
        let (req, rn) = renewal(xid);
        if mode == "base" {
            black_box(&req[..rn]);
            continue;
        }
        let len = if mode == "auth" {
            session
                .outgoing(&req[..rn], xid, EPOCH, || [7; 20], &mut wire)
                .unwrap_or(0)
        } else {
            wire[..rn].copy_from_slice(&req[..rn]);
            rn
        };
        let buf = black_box(&wire[..len]);
        // The router.
        let Ok(frame) = parse(buf, Direction::ToRouter) else {
            continue;
        };
        let (mut t, mut sa) = store.both();
        let on = serving
            .serve(&mut t, &mut sa, &policy, HOST, &frame, buf, 1, &mut out)
            .map_or(0, |s| s.len);
        // The host.
        let got = if mode == "auth" {
            match session.incoming(black_box(&out[..on]), 1) {
                Opened::Message(m) => Some(m),
                _ => None,
            }
        } else {
            pap::decode(black_box(&out[..on]), Direction::ToHost).ok()
        };
        if let Some(Message::PortResponse { result: Ok(_), .. }) = got {
            granted += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{mode}: {granted} grants of {n} in {secs:.3} s, {:.0} grants/s",
        f64::from(granted) / secs.max(1e-9)
    );
}
