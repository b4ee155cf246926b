// SPDX-License-Identifier: GPL-2.0

//! The fuzz property (whatever decodes re-encodes to the same bytes) on
//! random messages and buffers.

use super::*;

/// xorshift64*: deterministic, no crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Values biased to the edges.
    fn word(&mut self) -> u32 {
        match self.below(8) {
            0 => 0,
            1 => 1,
            2 => u32::MAX,
            3 => 255 + self.below(3) as u32,
            4 => self.below(0x1_0000) as u32,
            5 => u32::MAX - self.below(0x1_0000) as u32,
            _ => self.next() as u32,
        }
    }

    fn trailer(&mut self) -> Option<Trailer> {
        (self.below(2) == 0).then(|| Trailer {
            xid: self.word(),
            epoch: self.word(),
            lease: self.word(),
        })
    }

    fn dir(&mut self) -> Direction {
        if self.below(2) == 0 {
            TO_R
        } else {
            TO_H
        }
    }

    fn reason(&mut self) -> Reason {
        Reason::ALL[self.below(Reason::ALL.len() as u64) as usize]
    }

    /// A random message, valid or not.
    fn message(&mut self) -> Message {
        use Message::*;
        let pb = PortBlock {
            lowest: self.word() as u16,
            count: self.word() as u8,
        };
        let sb = SpiBlock {
            lowest: self.word(),
            count: self.word() as u16,
        };
        let ext = self.trailer();
        let req = Trailer {
            xid: self.word(),
            epoch: self.word(),
            lease: self.word(),
        };
        let addr = Ipv4Addr::from(self.word());
        let oaddr = (self.below(3) != 0).then_some(addr);
        let spi = self.word();
        let ospi = (self.below(3) != 0).then_some(spi);
        let dir = self.dir();
        match self.below(16) {
            0 => PortRequest {
                class: if self.below(2) == 0 {
                    PortClass::Low
                } else {
                    PortClass::High
                },
                count: pb.count,
                ext,
            },
            1 => PortResponse {
                result: if self.below(2) == 0 {
                    Ok(pb)
                } else {
                    Err(self.reason())
                },
                ext,
            },
            2 => PortInvalidate {
                dir,
                port: pb.lowest,
                ext,
            },
            3 => PortBlockInvalidate {
                dir,
                block: pb,
                ext,
            },
            4 => PortRenew {
                block: pb,
                ext: req,
            },
            5 => SpiRequest {
                count: sb.count,
                ext,
            },
            6 => SpiResponse {
                result: if self.below(2) == 0 {
                    Ok(sb)
                } else {
                    Err(self.reason())
                },
                ext,
            },
            7 => SpiInvalidate { dir, spi, ext },
            8 => SpiBlockInvalidate {
                dir,
                block: sb,
                ext,
            },
            9 => SpiRenew {
                block: sb,
                ext: req,
            },
            10 => SaValidate { addr, spi, ext },
            11 => SaInvalidate { addr, spi, ext },
            12 => BlacklistAdd {
                addr: oaddr,
                spi: ospi,
                ext,
            },
            13 => BlacklistRemove {
                addr: oaddr,
                spi: ospi,
                ext,
            },
            14 => InvalidateAll {
                dir,
                scope: self.word() as u8 & 0x0f,
                ext,
            },
            _ => {
                let acked = [
                    Acked::PortInvalidate,
                    Acked::PortBlockInvalidate,
                    Acked::SpiInvalidate,
                    Acked::SpiBlockInvalidate,
                    Acked::SaValidate,
                    Acked::BlacklistAdd,
                    Acked::SaInvalidate,
                    Acked::BlacklistRemove,
                    Acked::InvalidateAll,
                ][self.below(9) as usize];
                Ack {
                    acked,
                    result: if self.below(2) == 0 {
                        Ok(())
                    } else {
                        Err(self.reason())
                    },
                    ext: req,
                }
            }
        }
    }
}

/// The fuzz property: whatever decodes re-encodes to the same bytes.
fn check_buffer(buf: &[u8]) -> usize {
    let mut accepted = 0;
    for dir in [TO_R, TO_H] {
        if let Ok(m) = decode(buf, dir) {
            accepted += 1;
            assert_eq!(m.direction(), dir);
            assert_eq!(m.wire_len(), buf.len());
            let mut out = [0u8; MAX_LEN];
            let n = encode(&m, &mut out).expect("decoded message must encode");
            assert_eq!(&out[..n], buf, "{m:?}");
        }
    }
    accepted
}

/// Deterministic mini-fuzz: the same property as
/// `fuzz/fuzz_targets/pap_decode.rs`, over random, structured and
/// mutated-valid buffers, plus random messages through encode.
#[test]
fn mini_fuzz() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0usize;
    let mut valid_msgs = 0usize;
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for (m, _) in base_vectors().into_iter().chain(ext_vectors()) {
        seeds.push(enc(&m));
    }
    for i in 0..200_000u32 {
        // 1. A random message: encode succeeds iff it validates, and
        //    then decodes back to itself.
        let m = rng.message();
        let mut out = [0u8; MAX_LEN];
        match encode(&m, &mut out) {
            Ok(n) => {
                valid_msgs += 1;
                assert_eq!(m.validate(), Ok(()));
                assert_eq!(decode(&out[..n], m.direction()), Ok(m));
                if seeds.len() < 4096 && i % 16 == 0 {
                    seeds.push(out[..n].to_vec());
                }
            }
            Err(e) => assert_eq!(m.validate(), Err(e)),
        }
        // 2. A buffer: random, structured or a mutated valid one.
        let mut buf: Vec<u8> = match i % 4 {
            0 => (0..rng.below(30)).map(|_| rng.next() as u8).collect(),
            1 => {
                let len = [4, 8, 12, 20, 24][rng.below(5) as usize];
                let mut b: Vec<u8> = (0..len).map(|_| rng.word() as u8).collect();
                b[0] = 32 + rng.below(5) as u8;
                b[1] = rng.below(6) as u8;
                b
            }
            _ => {
                let mut b = seeds[rng.below(seeds.len() as u64) as usize].clone();
                for _ in 0..=rng.below(3) {
                    match rng.below(6) {
                        0 if !b.is_empty() => {
                            let at = rng.below(b.len() as u64) as usize;
                            b[at] ^= 1 << rng.below(8);
                        }
                        1 if !b.is_empty() => {
                            let at = rng.below(b.len() as u64) as usize;
                            b[at] = rng.word() as u8;
                        }
                        2 => b.truncate(rng.below(b.len() as u64 + 1) as usize),
                        3 => b.extend((0..rng.below(13)).map(|_| rng.below(3) as u8)),
                        4 if b.len() >= 2 => b[1] = rng.below(6) as u8,
                        _ => {}
                    }
                }
                b
            }
        };
        if rng.below(4) != 0 {
            buf = fix(buf);
        }
        accepted += check_buffer(&buf);
    }
    // The generators reach both sides of the property.
    assert!(valid_msgs > 20_000, "{valid_msgs}");
    assert!(accepted > 20_000, "{accepted}");
}
