// SPDX-License-Identifier: GPL-2.0

//! The local CA's wire protocol on arbitrary bytes (`src/ca/wire.rs`), and
//! the DER of the dnat block extension that requests and certificates
//! carry (`src/ca/ext.rs`).
//!
//! The input is read as the server reads a request (`read_frame` with the
//! request limit, then the op and payload checks of `Server::answer`),
//! and as the client reads a response (`read_frame` with the response
//! limit, then the status); the same bytes are decoded as a `DnatBlocks`
//! extension, and as a `--ca ADDR[:PORT]` argument.
//!
//! Checked, besides "no panic": a frame that reads has a zero reserved
//! field and a payload within the limit, and `encode` gives back exactly
//! the bytes read; a refused frame's error explains itself; a status maps
//! to a `Code` only for 0 to 12, and back; decoded blocks are possible,
//! sorted, disjoint, 1 to 256 of them, and encode to DER of the input's
//! length that decodes to the same blocks (the input itself for one block);
//! an endpoint that parses prints as what was parsed.

#![no_main]
#![allow(dead_code)]

#[path = "../../src/ca/ext.rs"]
mod ext;
#[path = "../../src/limit.rs"]
mod limit;
#[path = "../../src/ca/wire.rs"]
mod wire;

use libfuzzer_sys::fuzz_target;
use wire::{op, Code, FrameError};

/// `read_frame` with `max`: whatever it returns must agree with the bytes.
fn frame(data: &[u8], max: u32) -> Option<(u8, Vec<u8>)> {
    let mut r = data;
    match wire::read_frame(&mut r, max) {
        Ok((first, payload)) => {
            assert!(payload.len() <= max as usize);
            let n = wire::HEADER_LEN + payload.len();
            assert_eq!(wire::encode(first, &payload), data[..n]);
            assert_eq!(r, &data[n..], "read past the frame");
            Some((first, payload))
        }
        Err(e) => {
            match &e {
                FrameError::Reserved(b) => {
                    assert_ne!(*b, [0, 0, 0]);
                    assert_eq!(&data[1..4], b);
                }
                FrameError::TooLong { len, max: m } => {
                    assert!(len > m);
                    assert_eq!(*m, max);
                }
                FrameError::Io(_) => {
                    // Short: the header, or the payload it announced.
                    let len = data
                        .get(4..8)
                        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    assert!(len.is_none_or(|l| data.len() < wire::HEADER_LEN + l));
                }
            }
            assert!(!e.to_string().is_empty());
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The server's side: a request, and what `Server::answer` checks
    // before it does anything.
    if let Some((opcode, payload)) = frame(data, wire::MAX_REQUEST) {
        let known = matches!(opcode, op::ISSUE | op::GET_CRL | op::GET_CA);
        let refused = !known || (opcode != op::ISSUE && !payload.is_empty());
        let code = match (known, refused) {
            (false, _) => Some(Code::UnknownOp),
            (true, true) => Some(Code::Malformed),
            _ => None,
        };
        if let Some(c) = code {
            // The refusal the server sends back reads as that code.
            let reply = wire::encode(c as u8, format!("{c}").as_bytes());
            let (status, text) = frame(&reply, wire::MAX_RESPONSE).expect("a reply reads");
            assert_eq!(Code::from_u8(status), Some(c));
            assert_eq!(text, c.name().as_bytes());
        }
    }
    // The client's side: a response.
    if let Some((status, body)) = frame(data, wire::MAX_RESPONSE) {
        match Code::from_u8(status) {
            Some(c) => {
                assert_eq!(c as u8, status);
                assert!(!c.name().is_empty());
            }
            None => assert!(status > 12),
        }
        if status != Code::Ok as u8 {
            let _ = String::from_utf8_lossy(&body);
        }
    }
    // The block extension.
    if let Ok(blocks) = ext::decode(data) {
        assert!((1..=ext::MAX_BLOCKS).contains(&blocks.len()));
        for b in &blocks {
            assert_eq!(b.check(), Ok(()));
            assert!(b.count() >= 1);
            assert_eq!(ext::parse_span(b.kind, &b.span()), Ok(*b));
        }
        for w in blocks.windows(2) {
            assert!(w[0] < w[1] && !w[0].overlaps(&w[1]), "{w:?}");
        }
        // Strict DER has one encoding of each block, so the input holds
        // the same blocks' encodings, perhaps in another order.
        let der = ext::encode(&blocks);
        assert_eq!(ext::decode(&der).as_ref(), Ok(&blocks));
        assert_eq!(der.len(), data.len(), "{data:02x?}");
        if blocks.len() == 1 {
            assert_eq!(der, data);
        }
    }
    // An endpoint argument.
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(a) = wire::parse_endpoint(s) {
            assert_eq!(wire::parse_endpoint(&a.to_string()), Ok(a));
        }
    }
});
