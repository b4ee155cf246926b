// SPDX-License-Identifier: GPL-2.0

//! Byte-exact layouts, the documented exchange, round trips of every
//! variant, acknowledgements, blocks and port classes.

use super::*;

#[test]
fn base_layouts_byte_exact() {
    for (msg, bytes) in base_vectors() {
        let want = hex(bytes);
        assert_eq!(enc(&msg), want, "{msg:?}");
        assert_eq!(decode(&want, msg.direction()), Ok(msg), "{bytes}");
        assert!(checksum::verify(&want));
        assert_eq!(msg.ext(), None);
    }
}

#[test]
fn extension_layouts_byte_exact() {
    for (msg, bytes) in ext_vectors() {
        let want = hex(bytes);
        assert_eq!(enc(&msg), want, "{msg:?}");
        assert_eq!(decode(&want, msg.direction()), Ok(msg), "{bytes}");
        assert!(checksum::verify(&want));
    }
}

/// The example exchange of `Documentation/networking/dnat-pap.rst`.
#[test]
fn documented_example_exchange() {
    use Message::*;
    const E: u32 = 0x5eed_0001;
    let tr = |xid, epoch, lease| Trailer { xid, epoch, lease };
    let pb = PortBlock {
        lowest: 20000,
        count: 32,
    };
    let cases = [
        (
            "20 01 f3 ec  20 00 00 00  12 34 ab cd  00 00 00 00  00 00 0e 10",
            PortRequest {
                class: PortClass::High,
                count: 32,
                ext: Some(tr(0x1234_abcd, 0, 3600)),
            },
        ),
        (
            "20 01 4d e6  4e 20 20 00  12 34 ab cd  5e ed 00 01  00 00 07 08",
            PortResponse {
                result: Ok(pb),
                ext: Some(tr(0x1234_abcd, E, 1800)),
            },
        ),
        (
            "21 00 b3 ee  00 10 00 00  12 34 ab ce  5e ed 00 01  00 00 0e 10",
            SpiRequest {
                count: 16,
                ext: Some(tr(0x1234_abce, E, 3600)),
            },
        ),
        (
            "21 01 aa f5  00 10 00 00  00 00 10 00  12 34 ab ce  5e ed 00 01  00 00 07 08",
            SpiResponse {
                result: Ok(SpiBlock {
                    lowest: 4096,
                    count: 16,
                }),
                ext: Some(tr(0x1234_abce, E, 1800)),
            },
        ),
        (
            "22 00 86 d6  c6 33 64 03  00 00 10 00  12 34 ab cf  5e ed 00 01  00 00 00 00",
            SaValidate {
                addr: ADDR,
                spi: 4096,
                ext: Some(tr(0x1234_abcf, E, 0)),
            },
        ),
        (
            "24 01 9d 0c  22 00 00 00  12 34 ab cf  5e ed 00 01  00 00 00 00",
            Ack {
                acked: Acked::SaValidate,
                result: Ok(()),
                ext: tr(0x1234_abcf, E, 0),
            },
        ),
        (
            "22 01 fe c8  c0 00 02 42  00 00 00 00  12 34 ab d0  5e ed 00 01  00 00 00 00",
            BlacklistAdd {
                addr: Some(Ipv4Addr::new(192, 0, 2, 66)),
                spi: None,
                ext: Some(tr(0x1234_abd0, E, 0)),
            },
        ),
        (
            "24 01 9d 0a  22 01 00 00  12 34 ab d0  5e ed 00 01  00 00 00 00",
            Ack {
                acked: Acked::BlacklistAdd,
                result: Ok(()),
                ext: tr(0x1234_abd0, E, 0),
            },
        ),
        (
            "20 04 46 d7  4e 20 20 00  12 34 ab d1  5e ed 00 01  00 00 0e 10",
            PortRenew {
                block: pb,
                ext: tr(0x1234_abd1, E, 3600),
            },
        ),
        (
            "20 01 4d e2  4e 20 20 00  12 34 ab d1  5e ed 00 01  00 00 07 08",
            PortResponse {
                result: Ok(pb),
                ext: Some(tr(0x1234_abd1, E, 1800)),
            },
        ),
        (
            "24 00 5d 3c  07 00 00 00  00 00 00 00  77 c1 00 02  00 00 00 00",
            InvalidateAll {
                dir: TO_H,
                scope: scope::ALL,
                ext: Some(tr(0, 0x77c1_0002, 0)),
            },
        ),
        (
            "20 00 cf ff  10 00 00 00",
            PortRequest {
                class: PortClass::Low,
                count: 16,
                ext: None,
            },
        ),
        (
            "20 00 df fe  00 00 00 01",
            PortResponse {
                result: Err(Reason::NoSpace),
                ext: None,
            },
        ),
    ];
    for (bytes, msg) in cases {
        let want = hex(bytes);
        assert_eq!(decode(&want, msg.direction()), Ok(msg), "{bytes}");
        assert_eq!(enc(&msg), want, "{msg:?}");
    }
}

#[test]
fn base_lengths() {
    for (msg, bytes) in base_vectors() {
        let len = hex(bytes).len();
        assert!(len == 8 || len == 12);
        assert_eq!(msg.wire_len(), len);
    }
}

/// A sample of every variant (every code), valid, without a trailer.
fn samples() -> Vec<Message> {
    use Message::*;
    let pb = PortBlock {
        lowest: 65535,
        count: 1,
    };
    let sb = SpiBlock {
        lowest: u32::MAX - 65534,
        count: 65535,
    };
    let mut v = std::vec![
        PortRequest {
            class: PortClass::Low,
            count: 255,
            ext: None
        },
        PortRequest {
            class: PortClass::High,
            count: 1,
            ext: None
        },
        PortResponse {
            result: Ok(pb),
            ext: None
        },
        PortInvalidate {
            dir: TO_R,
            port: 1,
            ext: None
        },
        PortInvalidate {
            dir: TO_H,
            port: 65535,
            ext: None
        },
        PortBlockInvalidate {
            dir: TO_R,
            block: pb,
            ext: None
        },
        PortBlockInvalidate {
            dir: TO_H,
            block: PortBlock {
                lowest: 1,
                count: 255
            },
            ext: None
        },
        SpiRequest {
            count: 65535,
            ext: None
        },
        SpiResponse {
            result: Ok(sb),
            ext: None
        },
        SpiInvalidate {
            dir: TO_R,
            spi: 256,
            ext: None
        },
        SpiInvalidate {
            dir: TO_H,
            spi: u32::MAX,
            ext: None
        },
        SpiBlockInvalidate {
            dir: TO_R,
            block: sb,
            ext: None
        },
        SpiBlockInvalidate {
            dir: TO_H,
            block: SpiBlock {
                lowest: 256,
                count: 1
            },
            ext: None
        },
        SaValidate {
            addr: ADDR,
            spi: 256,
            ext: None
        },
        SaInvalidate {
            addr: Ipv4Addr::new(1, 2, 3, 4),
            spi: u32::MAX,
            ext: None
        },
        BlacklistAdd {
            addr: Some(ADDR),
            spi: Some(257),
            ext: None
        },
        BlacklistAdd {
            addr: None,
            spi: Some(257),
            ext: None
        },
        BlacklistRemove {
            addr: Some(ADDR),
            spi: None,
            ext: None
        },
        InvalidateAll {
            dir: TO_R,
            scope: scope::PORTS,
            ext: None
        },
        InvalidateAll {
            dir: TO_H,
            scope: scope::ALL,
            ext: None
        },
    ];
    for r in Reason::ALL {
        v.push(PortResponse {
            result: Err(r),
            ext: None,
        });
        v.push(SpiResponse {
            result: Err(r),
            ext: None,
        });
    }
    v
}

/// Gives a message a valid trailer for its role.
fn with_trailer(m: Message) -> Message {
    use Message::*;
    let to_host = m.direction() == TO_H;
    let reply = matches!(m, PortResponse { .. } | SpiResponse { .. } | Ack { .. });
    let lease_ok = matches!(
        m,
        PortRequest { .. }
            | SpiRequest { .. }
            | PortRenew { .. }
            | SpiRenew { .. }
            | PortResponse { result: Ok(_), .. }
            | SpiResponse { result: Ok(_), .. }
    );
    let tr = Trailer {
        xid: if to_host && !reply { 0 } else { 0xfeed_0001 },
        epoch: if to_host { 0x8000_0001 } else { 0 },
        lease: if lease_ok { 3600 } else { 0 },
    };
    match m {
        PortRequest { class, count, .. } => PortRequest {
            class,
            count,
            ext: Some(tr),
        },
        PortResponse { result, .. } => PortResponse {
            result,
            ext: Some(tr),
        },
        PortInvalidate { dir, port, .. } => PortInvalidate {
            dir,
            port,
            ext: Some(tr),
        },
        PortBlockInvalidate { dir, block, .. } => PortBlockInvalidate {
            dir,
            block,
            ext: Some(tr),
        },
        PortRenew { block, .. } => PortRenew { block, ext: tr },
        SpiRequest { count, .. } => SpiRequest {
            count,
            ext: Some(tr),
        },
        SpiResponse { result, .. } => SpiResponse {
            result,
            ext: Some(tr),
        },
        SpiInvalidate { dir, spi, .. } => SpiInvalidate {
            dir,
            spi,
            ext: Some(tr),
        },
        SpiBlockInvalidate { dir, block, .. } => SpiBlockInvalidate {
            dir,
            block,
            ext: Some(tr),
        },
        SpiRenew { block, .. } => SpiRenew { block, ext: tr },
        SaValidate { addr, spi, .. } => SaValidate {
            addr,
            spi,
            ext: Some(tr),
        },
        SaInvalidate { addr, spi, .. } => SaInvalidate {
            addr,
            spi,
            ext: Some(tr),
        },
        BlacklistAdd { addr, spi, .. } => BlacklistAdd {
            addr,
            spi,
            ext: Some(tr),
        },
        BlacklistRemove { addr, spi, .. } => BlacklistRemove {
            addr,
            spi,
            ext: Some(tr),
        },
        InvalidateAll { dir, scope, .. } => InvalidateAll {
            dir,
            scope,
            ext: Some(tr),
        },
        Ack { acked, result, .. } => Ack {
            acked,
            result,
            ext: tr,
        },
    }
}

/// Messages that exist only with a trailer.
fn trailer_only() -> Vec<Message> {
    use Message::*;
    let tr = Trailer {
        xid: 1,
        epoch: 1,
        lease: 0,
    };
    let mut v = std::vec![
        PortRenew {
            block: PortBlock {
                lowest: 10000,
                count: 32
            },
            ext: tr
        },
        SpiRenew {
            block: SpiBlock {
                lowest: 4096,
                count: 64
            },
            ext: tr
        },
    ];
    let all_acked = [
        Acked::PortInvalidate,
        Acked::PortBlockInvalidate,
        Acked::SpiInvalidate,
        Acked::SpiBlockInvalidate,
        Acked::SaValidate,
        Acked::BlacklistAdd,
        Acked::SaInvalidate,
        Acked::BlacklistRemove,
        Acked::InvalidateAll,
    ];
    for acked in all_acked {
        let (ty, code) = acked.type_code();
        assert_eq!(Acked::from_type_code(ty, code), Some(acked));
        v.push(Ack {
            acked,
            result: Ok(()),
            ext: tr,
        });
        for r in Reason::ALL {
            v.push(Ack {
                acked,
                result: Err(r),
                ext: tr,
            });
        }
    }
    v
}

#[test]
fn round_trip_every_variant() {
    let mut variants = std::collections::BTreeSet::new();
    let mut all: Vec<Message> = samples();
    all.extend(samples().into_iter().map(with_trailer));
    all.extend(trailer_only().into_iter().map(with_trailer));
    for m in all {
        variants.insert(
            std::format!("{m:?}")
                .split([' ', '{'])
                .next()
                .unwrap()
                .to_string(),
        );
        m.validate().unwrap();
        let bytes = enc(&m);
        assert_eq!(bytes.len(), m.wire_len());
        let base = m.kind().base_len();
        assert_eq!(
            bytes.len(),
            base + if m.ext().is_some() { TRAILER_LEN } else { 0 }
        );
        let dir = m.direction();
        assert_eq!(decode(&bytes, dir), Ok(m), "{m:?}");
        assert_eq!((bytes[0], bytes[1]), m.type_code());
        // The other direction either rejects it or reads another kind.
        if let Ok(other) = decode(&bytes, dir.reverse()) {
            assert_eq!(other.direction(), dir.reverse());
            assert_eq!(enc(&other), bytes);
        }
    }
    assert_eq!(variants.len(), 16, "{variants:?}");
}

#[test]
fn acked_as() {
    let tr = t(4, 0, 0);
    let m = Message::SaValidate {
        addr: ADDR,
        spi: 300,
        ext: tr,
    };
    assert_eq!(m.acked_as(), Some(Acked::SaValidate));
    let m = Message::SaValidate {
        addr: ADDR,
        spi: 300,
        ext: None,
    };
    assert_eq!(m.acked_as(), None);
    let m = Message::PortRequest {
        class: PortClass::Low,
        count: 1,
        ext: tr,
    };
    assert_eq!(m.acked_as(), None);
    let m = Message::InvalidateAll {
        dir: TO_R,
        scope: scope::ALL,
        ext: tr,
    };
    assert_eq!(m.acked_as(), Some(Acked::InvalidateAll));
    let m = Message::InvalidateAll {
        dir: TO_H,
        scope: scope::ALL,
        ext: t(0, 1, 0),
    };
    assert_eq!(m.acked_as(), None);
}

#[test]
fn blocks_and_classes() {
    let b = PortBlock {
        lowest: 65530,
        count: 6,
    };
    assert_eq!(b.check(), Ok(()));
    assert!(b.contains(65535) && b.contains(65530) && !b.contains(65529));
    assert_eq!(
        PortBlock {
            lowest: 65530,
            count: 7
        }
        .check(),
        Err(PapError::PortRangeOverflow)
    );
    let s = SpiBlock {
        lowest: u32::MAX,
        count: 1,
    };
    assert_eq!(s.check(), Ok(()));
    assert!(s.contains(u32::MAX) && !s.contains(u32::MAX - 1));
    assert_eq!(
        SpiBlock {
            lowest: u32::MAX,
            count: 2
        }
        .check(),
        Err(PapError::SpiRangeOverflow)
    );
    assert!(PortClass::Low.contains(9999) && !PortClass::Low.contains(0));
    assert!(PortClass::High.contains(10000) && !PortClass::High.contains(9999));
}
