// SPDX-License-Identifier: GPL-2.0

//! Decodes arbitrary bytes as a PAP message in both directions; whatever is
//! accepted must re-encode to exactly the same bytes and decode again to
//! the same message. `pap::tests::mini_fuzz` checks the same property
//! deterministically under `cargo test`.

#![no_main]

use dnat_core::pap::{decode, encode, Direction, MAX_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for dir in [Direction::ToRouter, Direction::ToHost] {
        let Ok(msg) = decode(data, dir) else {
            continue;
        };
        assert_eq!(msg.direction(), dir);
        assert_eq!(msg.wire_len(), data.len());
        assert_eq!(msg.validate(), Ok(()));
        let mut out = [0u8; MAX_LEN];
        let n = encode(&msg, &mut out).expect("an accepted message must encode");
        assert_eq!(&out[..n], data, "{msg:?}");
        assert_eq!(decode(&out[..n], dir), Ok(msg));
    }
});
