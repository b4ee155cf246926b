// SPDX-License-Identifier: GPL-2.0

//! dnatctl's netlink reply decoder on arbitrary bytes.
//!
//! The input (after a first byte that picks the family and the sequence
//! number) is what one `recv` of the generic netlink socket gave: it goes
//! through `nl::split`, then each message through `nl::classify` as a
//! message of the `dnat_router` or `dnat_host` family and as the
//! controller's (`nlctrl`) reply to `CTRL_CMD_GETFAMILY`; the attributes of the family's messages through
//! every decoder of `dump.rs` and `show.rs` that the tool runs on a dump or
//! a `GET_CONFIG` reply, and `event.rs` on an event, their text, their
//! JSON and (stats, hosts) their Prometheus text (`metrics.rs`). The
//! extended ack
//! readers (`error_extack`, `tlv_message`) read the same bytes.
//!
//! Checked, besides "no panic": `split` cuts the bytes into messages of at
//! least a header each that cover the input; a refusal carries a
//! non-negative errno; attributes that decoded encode to bytes that decode
//! to as many attributes and encode to the same bytes again; the JSON of
//! every decoded dump serializes.

#![no_main]
#![allow(dead_code)]

#[path = "../../src/dump.rs"]
mod dump;
#[path = "../../src/event.rs"]
mod event;
#[path = "../../src/metrics.rs"]
mod metrics;
#[path = "../../src/msg.rs"]
mod msg;
#[path = "../../src/nl.rs"]
mod nl;
#[path = "../../src/prom.rs"]
mod prom;
#[path = "../../src/show.rs"]
mod show;

use libfuzzer_sys::fuzz_target;
use netlink_packet_core::{Emitable, ParseableParametrized};
use netlink_packet_generic::{GenlHeader, GenlMessage};

use msg::{Attr, CtrlAttr, HostAttr, Msg, RouterAttr};
use nl::{Reply, ReplyError};

/// The attributes' bytes as the tool would send them.
fn emit<A: Attr + Clone>(cmd: u8, attrs: &[A]) -> Vec<u8> {
    let m = Msg {
        cmd,
        attrs: attrs.to_vec(),
    };
    let mut buf = vec![0u8; m.buffer_len()];
    m.emit(&mut buf);
    buf
}

/// Decoded attributes encode to bytes that decode to as many attributes,
/// which encode to the same bytes again. (Not to the same attributes: an
/// unknown attribute's `NLA_F_NET_BYTEORDER` flag is not encoded again by
/// netlink-packet-core's `DefaultNla`.)
fn round_trip<A: Attr + Clone + PartialEq>(cmd: u8, attrs: &[A]) {
    let b1 = emit(cmd, attrs);
    let header = GenlHeader { cmd, version: 1 };
    let m1 = Msg::<A>::parse_with_param(&b1, header).expect("emitted attributes decode");
    assert_eq!(m1.attrs.len(), attrs.len());
    let b2 = emit(cmd, &m1.attrs);
    assert_eq!(b1, b2, "{attrs:?} -> {:?}", m1.attrs);
    let m2 = Msg::<A>::parse_with_param(&b2, header).expect("emitted attributes decode");
    assert!(m2.attrs == m1.attrs, "{:?} -> {:?}", m1.attrs, m2.attrs);
}

/// JSON of a decoded value.
fn json<T: serde::Serialize>(v: &T) {
    serde_json::to_string(v).expect("JSON of a decoded dump");
}

/// The family's messages of one reply, as `Conn::transact` collects them.
fn messages<A>(msgs: &[&[u8]], seq: u32) -> Vec<Msg<A>>
where
    A: Attr + Clone + PartialEq,
    Msg<A>: std::fmt::Debug,
{
    let mut out = Vec::new();
    for bytes in msgs {
        match nl::classify::<GenlMessage<Msg<A>>>(bytes, seq) {
            Ok(Reply::Data(m)) => {
                round_trip(m.payload.cmd, &m.payload.attrs);
                out.push(m.payload);
            }
            Ok(_) => {}
            Err(ReplyError::Nack(n)) => {
                assert!(n.errno >= 0, "{n:?}");
                let _ = nl::strerror(n.errno);
            }
            Err(ReplyError::Malformed(e)) => assert!(!e.is_empty()),
        }
        // The controller's reply, as `Conn::resolve` reads it.
        if let Ok(Reply::Data(m)) = nl::classify::<GenlMessage<Msg<CtrlAttr>>>(bytes, seq) {
            round_trip(m.payload.cmd, &m.payload.attrs);
            let _ = nl::family_id([&m.payload]);
        }
    }
    out
}

fn router(msgs: &[&[u8]], seq: u32) {
    let ms = messages::<RouterAttr>(msgs, seq);
    let attrs: Vec<&[RouterAttr]> = ms.iter().map(|m| m.attrs.as_slice()).collect();
    if let Ok(b) = dump::Blocks::from_dump(attrs.iter().copied()) {
        dump::render_blocks(&b);
        json(&b);
    }
    let hosts = dump::Hosts::from_dump(attrs.iter().copied());
    if let Ok(h) = &hosts {
        dump::render_hosts(h);
        json(h);
    }
    if let Ok(s) = dump::Sas::from_dump(attrs.iter().copied()) {
        dump::render_sas(&s);
        json(&s);
    }
    if let Ok(b) = dump::Blacklist::from_dump(attrs.iter().copied()) {
        dump::render_blacklist(&b);
        json(&b);
    }
    if let Ok(s) = dump::Stats::from_dump(attrs.iter().copied(), dump::router_stat) {
        dump::render_stats(&s, false);
        dump::render_stats(&s, true);
        json(&s);
        metrics::router(&s, &hosts.unwrap_or_default());
    }
    for a in &attrs {
        if let Ok(e) = event::Event::from_router(a) {
            event::render(&e);
            json(&e);
        }
    }
    let counters = show::Counter::from_dump(attrs.iter().copied(), show::router_counter);
    for a in &attrs {
        let s = show::Show {
            config: show::RouterConfig::from_attrs(a),
            counters: counters.clone().unwrap_or_default(),
        };
        show::render_router(&s);
        json(&s);
    }
}

fn host(msgs: &[&[u8]], seq: u32) {
    let ms = messages::<HostAttr>(msgs, seq);
    let attrs: Vec<&[HostAttr]> = ms.iter().map(|m| m.attrs.as_slice()).collect();
    if let Ok(b) = dump::HostBlocks::from_dump(attrs.iter().copied()) {
        dump::render_host_blocks(&b);
        json(&b);
    }
    if let Ok(t) = dump::Translations::from_dump(attrs.iter().copied()) {
        dump::render_translations(&t);
        json(&t);
    }
    if let Ok(s) = dump::Stats::from_dump(attrs.iter().copied(), dump::host_stat) {
        dump::render_stats(&s, false);
        dump::render_stats(&s, true);
        json(&s);
        metrics::host(&s);
    }
    for a in &attrs {
        if let Ok(e) = event::Event::from_host(a) {
            event::render(&e);
            json(&e);
        }
    }
    let counters = show::Counter::from_dump(attrs.iter().copied(), show::host_counter);
    for a in &attrs {
        let s = show::Show {
            config: show::HostConfig::from_attrs(a),
            counters: counters.clone().unwrap_or_default(),
        };
        show::render_host(&s);
        json(&s);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let seq = u32::from(sel >> 2);
    let flags = u16::from(sel) << 8 | u16::from(sel);
    let _ = nl::error_extack(flags, bytes);
    let _ = nl::tlv_message(bytes);
    let msgs = match nl::split(bytes) {
        Ok(m) => m,
        Err(e) => {
            assert!(!e.is_empty());
            return;
        }
    };
    // The messages cover the input, each at its 4-byte aligned offset.
    let mut at = 0;
    for m in &msgs {
        assert!(m.len() >= 16, "a message shorter than its header");
        assert_eq!(m.as_ptr(), bytes[at..].as_ptr());
        at += (m.len() + 3) & !3;
    }
    assert!(at >= bytes.len() && at < bytes.len() + 4);
    if sel & 1 == 0 {
        router(&msgs, seq);
    } else {
        host(&msgs, seq);
    }
});
