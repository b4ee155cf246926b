// SPDX-License-Identifier: GPL-2.0

//! Authenticated PAP on arbitrary bytes (`pap_auth.rs`, `pap_keys.rs`,
//! `pap_session.rs`): the parser in both directions, the router's key
//! table deciding on what parses, and a host session opening it. A frame
//! that parses must carry a valid message; nothing that was not sealed
//! with the right key may be admitted as authenticated or opened as a
//! message, and a forged key grant must not install a key.

#![no_main]

use std::net::Ipv4Addr;

use dnat_core::pap::Direction;
use dnat_core::pap_auth::{parse, Frame};
use dnat_core::pap_keys::{Admit, KeyTable, Mode};
use dnat_core::pap_session::{Opened, Session};
use libfuzzer_sys::fuzz_target;

const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fuzz_target!(|raw: &[u8]| {
    // The bytes as they are, and with the checksum they need (so that the
    // fuzzer reaches what lies behind it).
    let mut fixed = raw.to_vec();
    if fixed.len() >= 4 {
        fixed[2] = 0;
        fixed[3] = 0;
        let ck = dnat_core::checksum::checksum(&fixed);
        fixed[2..4].copy_from_slice(&ck.to_be_bytes());
    }
    for data in [raw, &fixed[..]] {
        one(data);
    }
});

fn one(data: &[u8]) {
    // The router: a secret the input cannot know, one host keyed.
    let mut keys = KeyTable::<4>::new([0x3c; 16]);
    keys.accept(HOST, dnat_core::pap_auth::Tag { key_id: 5, seq: 9 }, 1);
    if let Ok(f) = parse(data, Direction::ToRouter) {
        if let Frame::Plain(m) | Frame::Sealed(m, _) = f {
            assert_eq!(m.validate(), Ok(()));
            assert_eq!(m.direction(), Direction::ToRouter);
        }
        for mode in [Mode::Required, Mode::Optional] {
            match keys.admit(mode, HOST, &f, data, 1) {
                Ok(Admit::Fresh(..) | Admit::Retransmit(..)) => {
                    panic!("a forged message was authenticated: {f:?}")
                }
                Ok(Admit::Plain) => panic!("a keyed host was served plain"),
                Err(_) => {}
            }
            // An unkeyed host: plain only under optional.
            let other = Ipv4Addr::new(10, 0, 0, 2);
            if let Ok(a) = keys.admit(mode, other, &f, data, 1) {
                assert!(a == Admit::Plain && mode == Mode::Optional, "{a:?}");
            }
        }
    }
    // A host with a key and a key request in flight.
    let mut s = Session::resume(HOST, 5, [0x77; 16], 3);
    let before = s.key();
    match s.incoming(data, 100) {
        Opened::Message(m) => panic!("a forged message was opened: {m:?}"),
        Opened::KeyInstalled => panic!("a forged grant installed a key"),
        Opened::Rekey => {}
        Opened::Hint | Opened::Dropped(_) => assert_eq!(s.key(), before),
    }
}
