// SPDX-License-Identifier: GPL-2.0

use super::*;
use crate::checksum;
use std::string::ToString;
use std::vec::Vec;

const TO_R: Direction = Direction::ToRouter;
const TO_H: Direction = Direction::ToHost;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn enc(msg: &Message) -> Vec<u8> {
    let mut out = [0u8; MAX_LEN];
    let n = encode(msg, &mut out).unwrap();
    assert_eq!(n, msg.wire_len());
    out[..n].to_vec()
}

/// Sets the checksum field of a hand-made buffer.
fn fix(mut b: Vec<u8>) -> Vec<u8> {
    if b.len() >= 4 {
        b[2] = 0;
        b[3] = 0;
        let c = checksum::checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
    }
    b
}

fn t(xid: u32, epoch: u32, lease: u32) -> Option<Trailer> {
    Some(Trailer { xid, epoch, lease })
}

const ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);

/// One valid base message of every kind, with its hand-written bytes.
/// Checksums were computed by hand (one's complement sum of the words).
fn base_vectors() -> Vec<(Message, &'static str)> {
    use Message::*;
    std::vec![
        // 32/0: 2000 + 1000 = 3000 -> cfff.
        (
            PortRequest {
                class: PortClass::Low,
                count: 16,
                ext: None
            },
            "20 00 cf ff  10 00 00 00",
        ),
        // 32/1: 2001 + 2000 = 4001 -> bffe.
        (
            PortRequest {
                class: PortClass::High,
                count: 32,
                ext: None
            },
            "20 01 bf fe  20 00 00 00",
        ),
        // 32/1 to host: 2001 + 2710 + 1000 = 5711 -> a8ee.
        (
            PortResponse {
                result: Ok(PortBlock {
                    lowest: 10000,
                    count: 16
                }),
                ext: None,
            },
            "20 01 a8 ee  27 10 10 00",
        ),
        // 32/0 to host: 2000 -> dfff.
        (
            PortResponse {
                result: Err(Reason::Unspecified),
                ext: None
            },
            "20 00 df ff  00 00 00 00",
        ),
        // 32/2 to router: 2002 + 2715 = 4717 -> b8e8.
        (
            PortInvalidate {
                dir: TO_R,
                port: 10005,
                ext: None
            },
            "20 02 b8 e8  27 15 00 00",
        ),
        // 32/2 to host: the same bytes.
        (
            PortInvalidate {
                dir: TO_H,
                port: 10005,
                ext: None
            },
            "20 02 b8 e8  27 15 00 00",
        ),
        // 33/0: 2100 + 0008 = 2108 -> def7.
        (
            SpiRequest {
                count: 8,
                ext: None
            },
            "21 00 de f7  00 08 00 00"
        ),
        // 33/1: 2101 + 0008 + 0118 = 2221 -> ddde.
        (
            SpiResponse {
                result: Ok(SpiBlock {
                    lowest: 280,
                    count: 8
                }),
                ext: None,
            },
            "21 01 dd de  00 08 00 00  00 00 01 18",
        ),
        // 33/0 to host: 2100 -> deff.
        (
            SpiResponse {
                result: Err(Reason::Unspecified),
                ext: None
            },
            "21 00 de ff  00 00 00 00  00 00 00 00",
        ),
        // 33/2: 2102 + 0118 = 221a -> dde5.
        (
            SpiInvalidate {
                dir: TO_R,
                spi: 280,
                ext: None
            },
            "21 02 dd e5  00 00 01 18",
        ),
        // 34/0: 2200 + c633 + 6403 + 0118 = 14d4e -> 4d4f -> b2b0.
        (
            SaValidate {
                addr: ADDR,
                spi: 280,
                ext: None
            },
            "22 00 b2 b0  c6 33 64 03  00 00 01 18",
        ),
        // 35/0: 2300 + c633 + 6403 + 0118 = 14e4e -> 4e4f -> b1b0.
        (
            SaInvalidate {
                addr: ADDR,
                spi: 280,
                ext: None
            },
            "23 00 b1 b0  c6 33 64 03  00 00 01 18",
        ),
    ]
}

/// Extension messages with hand-written bytes.
fn ext_vectors() -> Vec<(Message, &'static str)> {
    use Message::*;
    std::vec![
        // 32/0 + trailer xid 1, epoch 0, lease 600 (0258):
        // 2000 + 1000 + 0001 + 0258 = 3259 -> cda6.
        (
            PortRequest {
                class: PortClass::Low,
                count: 16,
                ext: t(1, 0, 600)
            },
            "20 00 cd a6  10 00 00 00  00 00 00 01  00 00 00 00  00 00 02 58",
        ),
        // 32/1 + xid 1, epoch 0x0a0b0c0d, lease 600:
        // 2001 + 2710 + 1000 + 0001 + 0a0b + 0c0d + 0258 = 6f82 -> 907d.
        (
            PortResponse {
                result: Ok(PortBlock {
                    lowest: 10000,
                    count: 16
                }),
                ext: t(1, 0x0a0b_0c0d, 600),
            },
            "20 01 90 7d  27 10 10 00  00 00 00 01  0a 0b 0c 0d  00 00 02 58",
        ),
        // 32/0 failure, reason 2 (over quota), no trailer: 2002 -> dffd.
        (
            PortResponse {
                result: Err(Reason::OverQuota),
                ext: None
            },
            "20 00 df fd  00 00 00 02",
        ),
        // 33/0 failure, reason 1: 2101 -> defe (reason in the low byte
        // of the unused u16).
        (
            SpiResponse {
                result: Err(Reason::NoSpace),
                ext: None
            },
            "21 00 de fe  00 00 00 01  00 00 00 00",
        ),
        // 32/3 block 10000+16: 2003 + 2710 + 1000 = 5713 -> a8ec.
        (
            PortBlockInvalidate {
                dir: TO_R,
                block: PortBlock {
                    lowest: 10000,
                    count: 16
                },
                ext: None,
            },
            "20 03 a8 ec  27 10 10 00",
        ),
        // 33/3 block 280+8: 2103 + 0008 + 0118 = 2223 -> dddc.
        (
            SpiBlockInvalidate {
                dir: TO_H,
                block: SpiBlock {
                    lowest: 280,
                    count: 8
                },
                ext: None,
            },
            "21 03 dd dc  00 08 00 00  00 00 01 18",
        ),
        // 32/4 renew, xid 2, epoch 7, lease 600:
        // 2004 + 2710 + 1000 + 0002 + 0007 + 0258 = 5975 -> a68a.
        (
            PortRenew {
                block: PortBlock {
                    lowest: 10000,
                    count: 16
                },
                ext: Trailer {
                    xid: 2,
                    epoch: 7,
                    lease: 600
                },
            },
            "20 04 a6 8a  27 10 10 00  00 00 00 02  00 00 00 07  00 00 02 58",
        ),
        // 33/4 renew, xid 3, epoch 7, lease 0:
        // 2104 + 0008 + 0118 + 0003 + 0007 = 222e -> ddd1.
        (
            SpiRenew {
                block: SpiBlock {
                    lowest: 280,
                    count: 8
                },
                ext: Trailer {
                    xid: 3,
                    epoch: 7,
                    lease: 0
                },
            },
            "21 04 dd d1  00 08 00 00  00 00 01 18  00 00 00 03  00 00 00 07  00 00 00 00",
        ),
        // 34/1 blacklist 192.0.2.66, any SPI:
        // 2201 + c000 + 0242 = e443 -> 1bbc.
        (
            BlacklistAdd {
                addr: Some(Ipv4Addr::new(192, 0, 2, 66)),
                spi: None,
                ext: None,
            },
            "22 01 1b bc  c0 00 02 42  00 00 00 00",
        ),
        // 35/1 blacklist any address, SPI 300 (012c):
        // 2301 + 012c = 242d -> dbd2.
        (
            BlacklistRemove {
                addr: None,
                spi: Some(300),
                ext: None
            },
            "23 01 db d2  00 00 00 00  00 00 01 2c",
        ),
        // 36/0 everything, unsolicited, epoch 9:
        // 2400 + 0700 + 0009 = 2b09 -> d4f6.
        (
            InvalidateAll {
                dir: TO_H,
                scope: scope::ALL,
                ext: t(0, 9, 0)
            },
            "24 00 d4 f6  07 00 00 00  00 00 00 00  00 00 00 09  00 00 00 00",
        ),
        // 36/1 done for 34/0, xid 5, epoch 9:
        // 2401 + 2200 + 0005 + 0009 = 460f -> b9f0.
        (
            Ack {
                acked: Acked::SaValidate,
                result: Ok(()),
                ext: Trailer {
                    xid: 5,
                    epoch: 9,
                    lease: 0
                }
            },
            "24 01 b9 f0  22 00 00 00  00 00 00 05  00 00 00 09  00 00 00 00",
        ),
        // 36/2 refused 33/2 not owned (6), xid 5, epoch 9:
        // 2402 + 2102 + 0006 + 0005 + 0009 = 4518 -> bae7.
        (
            Ack {
                acked: Acked::SpiInvalidate,
                result: Err(Reason::NotOwned),
                ext: Trailer {
                    xid: 5,
                    epoch: 9,
                    lease: 0
                },
            },
            "24 02 ba e7  21 02 00 06  00 00 00 05  00 00 00 09  00 00 00 00",
        ),
    ]
}

#[path = "tests/errors.rs"]
mod errors;
#[path = "tests/fuzz.rs"]
mod fuzz;
#[path = "tests/layouts.rs"]
mod layouts;
