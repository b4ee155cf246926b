// SPDX-License-Identifier: GPL-2.0

//! Cost of serving PAP with and without authentication: one grant per
//! round, the way `router/server.rs` serves it (parse, admit, serve,
//! encode, seal, accept) and the host opens the answer.
//!
//! `pap_cost MODE N`: `auth` (a host session seals each message, the
//! router's key table checks it, the reply is sealed and opened), `plain`
//! (the same messages and replies without auth block), `base` (the loop
//! alone). Each round is a renewal of one granted block (32/4, answered
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
use dnat_core::pap_auth::{parse, seal, Frame, MAX_WIRE};
use dnat_core::pap_keys::{Admit, KeyTable, Mode};
use dnat_core::pap_server::serve;
use dnat_core::pap_session::{Opened, Session};
use dnat_core::store::AllocStore;

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
    let mut store = AllocStore::new(8, Settings::UNLIMITED);
    store.table().set_pools(
        Some(Range {
            min: 20000,
            max: 29999,
        }),
        None,
        |_| {},
    );
    let mut keys = KeyTable::<256>::new([0x42; 16]);
    let mut session = Session::new(HOST);
    // The key exchange, once.
    let mut wire = [0u8; MAX_WIRE];
    let (r0, n0) = request(1);
    let k = session
        .outgoing(&r0[..n0], 1, 0, || [7; 20], &mut wire)
        .unwrap_or(0);
    if let Ok(Frame::KeyRequest(r)) = parse(&wire[..k], Direction::ToRouter) {
        let mut g = [0u8; MAX_WIRE];
        if let Some(Ok(gn)) = keys.grant(HOST, &r, EPOCH, 1, &mut g) {
            assert_eq!(session.incoming(&g[..gn], 1), Opened::KeyInstalled);
        }
    }
    // The block every round renews.
    let (m, _) = request(1);
    if let Ok(msg) = pap::decode(&m[..20], Direction::ToRouter) {
        let _ = serve(&mut store.table(), HOST, &msg, 1, EPOCH);
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
        let admit = keys.admit(Mode::Optional, HOST, &frame, buf, 1);
        let (Frame::Plain(msg) | Frame::Sealed(msg, _)) = frame else {
            continue;
        };
        let mut t = store.table();
        let (reply, _) = serve(&mut t, HOST, &msg, 1, EPOCH);
        let mut out = [0u8; MAX_WIRE];
        let mut on = reply
            .and_then(|r| pap::encode(&r, &mut out).ok())
            .unwrap_or(0);
        if let Ok(Admit::Fresh(tag, key)) = admit {
            on = seal(&mut out, on, &key, tag, Direction::ToHost, HOST).unwrap_or(0);
            keys.accept(HOST, tag, 1);
        }
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
