// SPDX-License-Identifier: GPL-2.0

//! Every error of the decoder, and the encoder refusing what the decoder
//! rejects.

use super::*;

#[test]
fn error_table() {
    assert_eq!(PapError::ALL.len(), PapError::COUNT);
    let mut names = std::collections::BTreeSet::new();
    for (i, e) in PapError::ALL.iter().enumerate() {
        assert_eq!(e.index(), i);
        assert!(!e.message().is_empty());
        assert!(names.insert(e.name()));
        assert_eq!(std::format!("{e}"), e.message());
    }
    for (i, r) in Reason::ALL.iter().enumerate() {
        assert_eq!(*r as usize, i);
        assert_eq!(Reason::from_u8(i as u8), Some(*r));
    }
    assert_eq!(Reason::from_u8(9), None);
}

/// Decode errors seen by `rejects` (bit per `PapError::index`).
static SEEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Decodes `b` (checksum fixed) in `dir` and expects `e`.
fn rejects(b: &str, dir: Direction, e: PapError) {
    let buf = fix(hex(b));
    assert_eq!(decode(&buf, dir), Err(e), "{b}");
    SEEN.fetch_or(1 << e.index(), std::sync::atomic::Ordering::Relaxed);
}

const X: &str = "00 00 00 01  00 00 00 01  00 00 00 00"; // xid 1, epoch 1

#[test]
fn rejects_each_error() {
    use PapError::*;
    // TooShort: no header, or shorter than the base layout.
    assert_eq!(decode(&[], TO_R), Err(TooShort));
    assert_eq!(decode(&[0x20, 0x00, 0xdf], TO_R), Err(TooShort));
    rejects("21 01 00 00  00 08 00 00", TO_H, TooShort); // 33/1 is 12 bytes
    rejects("20 00 00 00", TO_R, TooShort);
    // BadLength: neither base nor base + 12.
    rejects("20 00 00 00  10 00 00 00  00", TO_R, BadLength);
    rejects(
        "20 00 00 00  10 00 00 00  00 00 00 01  00 00 00 00",
        TO_R,
        BadLength,
    );
    rejects(
        "20 00 00 00  10 00 00 00  00 00 00 01  00 00 00 00  00 00 00 00  00",
        TO_R,
        BadLength,
    );
    // MissingTrailer: renew and acknowledgements.
    rejects("20 04 00 00  27 10 10 00", TO_R, MissingTrailer);
    rejects(
        "21 04 00 00  00 08 00 00  00 00 01 18",
        TO_R,
        MissingTrailer,
    );
    rejects("24 01 00 00  22 00 00 00", TO_H, MissingTrailer);
    // BadChecksum: wrong value, and the non-canonical 0xffff for 0x0000.
    assert_eq!(
        decode(&hex("20 00 cf fe  10 00 00 00"), TO_R),
        Err(BadChecksum)
    );
    // 2000 + dfff = ffff: the canonical checksum of these bytes is 0000.
    let canon = hex("20 00 00 00  df ff 00 00");
    assert!(checksum::verify(&canon) && checksum::checksum(&canon) == 0);
    let negzero = hex("20 00 ff ff  df ff 00 00");
    assert!(checksum::verify(&negzero));
    assert_eq!(decode(&negzero, TO_R), Err(BadChecksum));
    SEEN.fetch_or(
        1 << BadChecksum.index(),
        std::sync::atomic::Ordering::Relaxed,
    );
    assert_eq!(decode(&canon, TO_R), Err(NonzeroUnused));
    // UnknownType.
    rejects("1f 00 00 00  10 00 00 00", TO_R, UnknownType);
    rejects("25 00 00 00  10 00 00 00", TO_H, UnknownType);
    rejects("08 00 00 00  00 00 00 00", TO_R, UnknownType);
    // UnknownCode.
    rejects("20 05 00 00  27 10 10 00", TO_R, UnknownCode);
    rejects("21 05 00 00  00 08 00 00", TO_R, UnknownCode);
    rejects("22 02 00 00  c6 33 64 03  00 00 01 18", TO_R, UnknownCode);
    rejects("24 03 00 00  07 00 00 00", TO_H, UnknownCode);
    // WrongDirection.
    rejects("20 04 00 00  27 10 10 00", TO_H, WrongDirection);
    rejects("21 01 00 00  00 08 00 00", TO_R, WrongDirection); // 33/1 is a response
    rejects(
        "22 00 00 00  c6 33 64 03  00 00 01 18",
        TO_H,
        WrongDirection,
    );
    rejects("24 01 00 00  22 00 00 00", TO_R, WrongDirection);
    // NonzeroUnused, one per unused field.
    rejects("20 00 00 00  10 00 00 01", TO_R, NonzeroUnused);
    rejects("20 01 00 00  10 01 00 00", TO_R, NonzeroUnused);
    rejects("20 01 00 00  27 10 10 01", TO_H, NonzeroUnused); // reason in success
    rejects("20 02 00 00  27 10 00 01", TO_R, NonzeroUnused);
    rejects("20 03 00 00  27 10 10 01", TO_H, NonzeroUnused);
    rejects("21 00 00 00  00 08 00 01", TO_R, NonzeroUnused);
    rejects("21 01 00 00  00 08 01 00  00 00 01 18", TO_H, NonzeroUnused);
    rejects("21 00 00 00  00 00 01 00  00 00 00 00", TO_H, NonzeroUnused);
    rejects("24 00 00 00  07 00 00 01", TO_R, NonzeroUnused);
    rejects(
        &std::format!("24 01 00 00  22 00 00 01 {X}"),
        TO_H,
        NonzeroUnused,
    );
    rejects(
        &std::format!("24 02 00 00  22 00 01 00 {X}"),
        TO_H,
        NonzeroUnused,
    );
    // FailureWithBlock.
    rejects("20 00 00 00  27 10 00 00", TO_H, FailureWithBlock);
    rejects("20 00 00 00  00 00 10 00", TO_H, FailureWithBlock);
    rejects(
        "21 00 00 00  00 08 00 00  00 00 00 00",
        TO_H,
        FailureWithBlock,
    );
    rejects(
        "21 00 00 00  00 00 00 00  00 00 01 18",
        TO_H,
        FailureWithBlock,
    );
    // UnknownReason.
    rejects("20 00 00 00  00 00 00 09", TO_H, UnknownReason);
    rejects("21 00 00 00  00 00 00 ff  00 00 00 00", TO_H, UnknownReason);
    rejects(
        &std::format!("24 02 00 00  22 00 00 09 {X}"),
        TO_H,
        UnknownReason,
    );
    // BadAcked: requests, responses, unknown pairs.
    rejects(
        &std::format!("24 01 00 00  20 00 00 00 {X}"),
        TO_H,
        BadAcked,
    );
    rejects(
        &std::format!("24 01 00 00  24 01 00 00 {X}"),
        TO_H,
        BadAcked,
    );
    rejects(
        &std::format!("24 02 00 00  20 04 00 00 {X}"),
        TO_H,
        BadAcked,
    );
    // ZeroCount.
    rejects("20 00 00 00  00 00 00 00", TO_R, ZeroCount);
    rejects("21 00 00 00  00 00 00 00", TO_R, ZeroCount);
    rejects("20 01 00 00  27 10 00 00", TO_H, ZeroCount);
    rejects("21 01 00 00  00 00 00 00  00 00 01 18", TO_H, ZeroCount);
    rejects("20 03 00 00  27 10 00 00", TO_R, ZeroCount);
    // ZeroPort.
    rejects("20 02 00 00  00 00 00 00", TO_R, ZeroPort);
    rejects("20 01 00 00  00 00 10 00", TO_H, ZeroPort);
    rejects(
        &std::format!("20 04 00 00  00 00 10 00 {X}"),
        TO_R,
        ZeroPort,
    );
    // PortRangeOverflow: 65535 + 2 ports, 65290 + 255.
    rejects("20 01 00 00  ff ff 02 00", TO_H, PortRangeOverflow);
    rejects("20 03 00 00  ff 0a ff 00", TO_R, PortRangeOverflow);
    // ZeroSpi.
    rejects("21 02 00 00  00 00 00 00", TO_R, ZeroSpi);
    rejects("21 01 00 00  00 08 00 00  00 00 00 00", TO_H, ZeroSpi);
    rejects("22 00 00 00  c6 33 64 03  00 00 00 00", TO_R, ZeroSpi);
    // ReservedSpi, in every SPI field.
    rejects("21 02 00 00  00 00 00 ff", TO_H, ReservedSpi);
    rejects("21 01 00 00  00 08 00 00  00 00 00 01", TO_H, ReservedSpi);
    rejects("21 03 00 00  00 08 00 00  00 00 00 80", TO_R, ReservedSpi);
    rejects("22 00 00 00  c6 33 64 03  00 00 00 ff", TO_R, ReservedSpi);
    rejects("23 00 00 00  c6 33 64 03  00 00 00 01", TO_R, ReservedSpi);
    rejects("22 01 00 00  00 00 00 00  00 00 00 10", TO_R, ReservedSpi);
    rejects("23 01 00 00  c6 33 64 03  00 00 00 10", TO_R, ReservedSpi);
    rejects(
        &std::format!("21 04 00 00  00 08 00 00  00 00 00 10 {X}"),
        TO_R,
        ReservedSpi,
    );
    // SpiRangeOverflow: 0xffffffff + 2 SPIs.
    rejects(
        "21 01 00 00  00 02 00 00  ff ff ff ff",
        TO_H,
        SpiRangeOverflow,
    );
    rejects(
        "21 03 00 00  ff ff 00 00  ff ff 00 02",
        TO_H,
        SpiRangeOverflow,
    );
    // BadAddress: 0.0.0.0 outside blacklists, multicast, broadcast,
    // loopback, class E.
    rejects("22 00 00 00  00 00 00 00  00 00 01 18", TO_R, BadAddress);
    rejects("23 00 00 00  e0 00 00 01  00 00 01 18", TO_R, BadAddress);
    rejects("22 00 00 00  ff ff ff ff  00 00 01 18", TO_R, BadAddress);
    rejects("22 01 00 00  7f 00 00 01  00 00 00 00", TO_R, BadAddress);
    rejects("23 01 00 00  f0 00 00 01  00 00 01 18", TO_R, BadAddress);
    // EmptyBlacklistEntry.
    rejects(
        "22 01 00 00  00 00 00 00  00 00 00 00",
        TO_R,
        EmptyBlacklistEntry,
    );
    rejects(
        "23 01 00 00  00 00 00 00  00 00 00 00",
        TO_R,
        EmptyBlacklistEntry,
    );
    // BadScope.
    rejects("24 00 00 00  00 00 00 00", TO_R, BadScope);
    rejects("24 00 00 00  08 00 00 00", TO_H, BadScope);
    rejects("24 00 00 00  ff 00 00 00", TO_H, BadScope);
    // ZeroXid: to the router, and replies.
    let z = "00 00 00 00  00 00 00 01  00 00 00 00";
    rejects(&std::format!("20 00 00 00  10 00 00 00 {z}"), TO_R, ZeroXid);
    rejects(&std::format!("20 02 00 00  27 10 00 00 {z}"), TO_R, ZeroXid);
    rejects(&std::format!("20 01 00 00  27 10 10 00 {z}"), TO_H, ZeroXid);
    rejects(&std::format!("24 01 00 00  22 00 00 00 {z}"), TO_H, ZeroXid);
    rejects(
        &std::format!("22 01 00 00  c6 33 64 03  00 00 00 00 {z}"),
        TO_R,
        ZeroXid,
    );
    // NonzeroXid: the router's unsolicited invalidations.
    rejects(
        &std::format!("20 02 00 00  27 10 00 00 {X}"),
        TO_H,
        NonzeroXid,
    );
    rejects(
        &std::format!("24 00 00 00  07 00 00 00 {X}"),
        TO_H,
        NonzeroXid,
    );
    // ZeroEpoch: every message from the router.
    let e0 = "00 00 00 01  00 00 00 00  00 00 00 00";
    rejects(
        &std::format!("20 01 00 00  27 10 10 00 {e0}"),
        TO_H,
        ZeroEpoch,
    );
    rejects(
        &std::format!("24 02 00 00  22 00 00 00 {e0}"),
        TO_H,
        ZeroEpoch,
    );
    rejects(
        "24 00 00 00  07 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00",
        TO_H,
        ZeroEpoch,
    );
    // ... but epoch 0 is fine to the router (no epoch known yet).
    let ok = fix(hex(&std::format!("20 00 00 00  10 00 00 00 {e0}")));
    assert!(decode(&ok, TO_R).is_ok());
    // NonzeroLease: where a lease means nothing.
    let l = "00 00 00 01  00 00 00 01  00 00 00 3c";
    rejects(
        &std::format!("20 00 00 00  00 00 00 01 {l}"),
        TO_H,
        NonzeroLease,
    );
    rejects(
        &std::format!("20 02 00 00  27 10 00 00 {l}"),
        TO_R,
        NonzeroLease,
    );
    rejects(
        &std::format!("22 00 00 00  c6 33 64 03  00 00 01 18 {l}"),
        TO_R,
        NonzeroLease,
    );
    rejects(
        &std::format!("24 01 00 00  22 00 00 00 {l}"),
        TO_H,
        NonzeroLease,
    );
    let l0 = "00 00 00 00  00 00 00 01  00 00 00 3c";
    rejects(
        &std::format!("21 02 00 00  00 00 01 18 {l0}"),
        TO_H,
        NonzeroLease,
    );
    // ... but allowed in requests, renewals and success responses.
    for b in [
        std::format!("20 00 00 00  10 00 00 00 {l}"),
        std::format!("20 04 00 00  27 10 10 00 {l}"),
        std::format!("21 01 00 00  00 08 00 00  00 00 01 18 {l}"),
    ] {
        let buf = fix(hex(&b));
        let dir = if buf[1] == 1 { TO_H } else { TO_R };
        assert!(decode(&buf, dir).is_ok(), "{b}");
    }
    // Every decode error has its rejection case (BufferTooSmall is an
    // encoding error, tested below; the auth block's errors come from
    // `pap_auth::parse`, tested there).
    let seen = SEEN.load(std::sync::atomic::Ordering::Relaxed);
    for e in PapError::ALL {
        let decoder = !matches!(
            e,
            BufferTooSmall | PapError::ZeroKeyId | PapError::BadKeyGrant
        );
        assert_eq!(seen & (1 << e.index()) != 0, decoder, "{e:?}");
    }
}

#[test]
fn encode_refuses_what_decode_rejects() {
    use Message::*;
    use PapError::*;
    let mut out = [0u8; MAX_LEN];
    let mut bad = |m: Message, e: PapError| {
        out.fill(0xaa);
        assert_eq!(encode(&m, &mut out), Err(e), "{m:?}");
        assert!(out.iter().all(|&b| b == 0xaa), "output touched");
    };
    bad(
        PortRequest {
            class: PortClass::Low,
            count: 0,
            ext: None,
        },
        ZeroCount,
    );
    bad(
        SpiRequest {
            count: 0,
            ext: None,
        },
        ZeroCount,
    );
    bad(
        PortInvalidate {
            dir: TO_R,
            port: 0,
            ext: None,
        },
        ZeroPort,
    );
    bad(
        PortResponse {
            result: Ok(PortBlock {
                lowest: 65535,
                count: 2,
            }),
            ext: None,
        },
        PortRangeOverflow,
    );
    bad(
        SpiInvalidate {
            dir: TO_H,
            spi: 0,
            ext: None,
        },
        ZeroSpi,
    );
    bad(
        SpiInvalidate {
            dir: TO_H,
            spi: 255,
            ext: None,
        },
        ReservedSpi,
    );
    bad(
        SpiResponse {
            result: Ok(SpiBlock {
                lowest: u32::MAX,
                count: 2,
            }),
            ext: None,
        },
        SpiRangeOverflow,
    );
    bad(
        SaValidate {
            addr: Ipv4Addr::UNSPECIFIED,
            spi: 300,
            ext: None,
        },
        BadAddress,
    );
    // The wildcard is `None`, not 0.0.0.0 or SPI 0: one encoding only.
    bad(
        BlacklistAdd {
            addr: Some(Ipv4Addr::UNSPECIFIED),
            spi: Some(300),
            ext: None,
        },
        BadAddress,
    );
    bad(
        BlacklistAdd {
            addr: Some(ADDR),
            spi: Some(0),
            ext: None,
        },
        ZeroSpi,
    );
    bad(
        BlacklistRemove {
            addr: None,
            spi: None,
            ext: None,
        },
        EmptyBlacklistEntry,
    );
    bad(
        InvalidateAll {
            dir: TO_R,
            scope: 0,
            ext: None,
        },
        BadScope,
    );
    bad(
        InvalidateAll {
            dir: TO_R,
            scope: 0x10,
            ext: None,
        },
        BadScope,
    );
    bad(
        SpiRequest {
            count: 1,
            ext: t(0, 0, 0),
        },
        ZeroXid,
    );
    bad(
        PortInvalidate {
            dir: TO_H,
            port: 1,
            ext: t(1, 1, 0),
        },
        NonzeroXid,
    );
    bad(
        PortResponse {
            result: Err(Reason::NoSpace),
            ext: t(1, 0, 0),
        },
        ZeroEpoch,
    );
    bad(
        PortResponse {
            result: Err(Reason::NoSpace),
            ext: t(1, 1, 1),
        },
        NonzeroLease,
    );
    bad(
        Ack {
            acked: Acked::BlacklistAdd,
            result: Ok(()),
            ext: Trailer {
                xid: 0,
                epoch: 1,
                lease: 0,
            },
        },
        ZeroXid,
    );
    // BufferTooSmall.
    let m = SaValidate {
        addr: ADDR,
        spi: 300,
        ext: t(1, 0, 0),
    };
    let mut small = [0u8; 23];
    assert_eq!(encode(&m, &mut small), Err(BufferTooSmall));
    assert!(small.iter().all(|&b| b == 0));
    let mut big = [0u8; 64];
    assert_eq!(encode(&m, &mut big), Ok(24));
    assert!(big[24..].iter().all(|&b| b == 0));
}
