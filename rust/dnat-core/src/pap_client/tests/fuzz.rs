// SPDX-License-Identifier: GPL-2.0

//! Random router messages and clock steps against a client.

use super::super::held::{overlaps, Span};
use super::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn port_block(&mut self, c: &Client) -> PortBlock {
        match (self.below(3), c.port_blocks().next()) {
            (0, Some(h)) => h.block,
            (1, _) => pb(self.next() as u16, self.next() as u8),
            _ => pb(20000 + self.below(100) as u16, self.below(40) as u8),
        }
    }

    fn spi_block(&mut self, c: &Client) -> SpiBlock {
        match (self.below(3), c.spi_blocks().next()) {
            (0, Some(h)) => h.block,
            (1, _) => SpiBlock {
                lowest: self.next() as u32,
                count: self.next() as u16,
            },
            _ => SpiBlock {
                lowest: 0x1000 + self.below(0x1000) as u32,
                count: self.below(300) as u16,
            },
        }
    }

    fn reason(&mut self) -> Reason {
        Reason::ALL[self.below(7) as usize]
    }

    /// A router-to-host message, often one the client is waiting for.
    fn router_message(&mut self, c: &Client) -> Message {
        let out = c.outstanding();
        let xid = match (self.below(4), out) {
            (0 | 1, Some(m)) => m.ext().map_or(0, |e| e.xid),
            (2, _) => 0,
            _ => self.next() as u32,
        };
        let epoch = match self.below(8) {
            0 => self.next() as u32,
            1 => 0,
            _ => c.epoch().max(EPOCH),
        };
        let lease = match self.below(3) {
            0 => 0,
            _ => self.below(200) as u32,
        };
        let t = Trailer { xid, epoch, lease };
        let ext = (self.below(10) != 0).then_some(t);
        let result = |rng: &mut Self| {
            if rng.below(3) == 0 {
                Err(rng.reason())
            } else {
                Ok(())
            }
        };
        let dir = if self.below(30) == 0 {
            Direction::ToRouter
        } else {
            Direction::ToHost
        };
        match self.below(9) {
            0 | 1 => Message::PortResponse {
                result: result(self).map(|()| self.port_block(c)),
                ext,
            },
            2 => Message::SpiResponse {
                result: result(self).map(|()| self.spi_block(c)),
                ext,
            },
            3 => Message::PortInvalidate {
                dir,
                port: 20000 + self.below(100) as u16,
                ext,
            },
            4 => Message::PortBlockInvalidate {
                dir,
                block: self.port_block(c),
                ext,
            },
            5 => Message::SpiInvalidate {
                dir,
                spi: 0x1000 + self.below(0x1000) as u32,
                ext,
            },
            6 => Message::SpiBlockInvalidate {
                dir,
                block: self.spi_block(c),
                ext,
            },
            7 => Message::InvalidateAll {
                dir,
                scope: self.below(9) as u8,
                ext,
            },
            _ => {
                let acked = match out.and_then(|m| m.acked_as()) {
                    Some(a) if self.below(2) == 0 => a,
                    _ => Acked::from_type_code(32 + self.below(5) as u8, self.below(4) as u8)
                        .unwrap_or(Acked::InvalidateAll),
                };
                Message::Ack {
                    acked,
                    result: result(self),
                    ext: t,
                }
            }
        }
    }
}

/// Random router messages (decoded from random, checksummed bytes,
/// often carrying the outstanding xid, the current epoch, a held
/// block) and random clock steps never panic and keep the tables sane.
#[test]
fn mini_fuzz() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0usize;
    let mut events = std::collections::BTreeMap::new();
    for round in 0..40u32 {
        let mut c = Client::new(
            Config {
                port_block: 1 + rng.below(255) as u8,
                low_water: rng.below(64) as u16,
                max_port_blocks: 1 + rng.below(MAX_BLOCKS as u64) as usize,
                lease: rng.below(3) as u32 * 30,
                flush_on_start: round % 2 == 0,
                ..Config::DEFAULT
            },
            rng.next() as u32,
        )
        .unwrap();
        let mut now = rng.next() as u32;
        for _ in 0..5_000 {
            match rng.below(8) {
                0 => now = now.wrapping_add(rng.below(100) as u32),
                1 => now = now.wrapping_sub(rng.below(10) as u32),
                2 if rng.below(50) == 0 => now = rng.next() as u32,
                3 if rng.below(200) == 0 => {
                    c.release_all();
                }
                4 => {
                    let first = c.port_blocks().next();
                    if let Some(h) = first {
                        assert!(c.release_ports(h.block));
                    }
                }
                5 if rng.below(20) == 0 => {
                    let _ = c.request_ports(rng.next() as u8);
                    let _ = c.request_spis(rng.next() as u16);
                }
                6 | 7 => {
                    let spi = match (rng.below(3), c.spi_blocks().next()) {
                        (0 | 1, Some(h)) => {
                            let i = rng.below(u64::from(h.block.count.max(1))) as u32;
                            h.block.lowest.wrapping_add(i)
                        }
                        _ => rng.below(0x2000) as u32,
                    };
                    let addr = match rng.below(8) {
                        0 => Ipv4Addr::from(rng.next() as u32),
                        r => Ipv4Addr::new(198, 51, 100, r as u8),
                    };
                    let a = (rng.below(4) != 0).then_some(addr);
                    let s = (rng.below(4) != 0).then_some(spi);
                    let _ = match rng.below(6) {
                        0 | 1 => c.validate(addr, spi),
                        2 => c.invalidate(addr, spi),
                        3 => c.blacklist_add(a, s),
                        4 => c.blacklist_remove(a, s),
                        _ => {
                            let first = c.spi_blocks().next();
                            if let Some(h) = first {
                                assert!(c.release_spis(h.block));
                            }
                            Ok(())
                        }
                    };
                }
                _ => {}
            }
            for _ in 0..16 {
                match c.poll(now, rng.below(600) as u32) {
                    None => break,
                    Some(Action::Send(o)) => {
                        assert_eq!(decode(o.bytes(), Direction::ToRouter), Ok(*o.message()));
                    }
                    Some(Action::Changed(_)) => {}
                }
            }
            // A router message: structured random words, then fixed up.
            let ty = 32 + rng.below(5) as u8;
            let code = rng.below(5) as u8;
            let len = [8usize, 12, 20, 24][rng.below(4) as usize];
            let mut b = [0u8; MAX_LEN];
            for w in b.chunks_exact_mut(4) {
                let v = match rng.below(4) {
                    0 => rng.next() as u32,
                    1 => rng.below(300) as u32,
                    2 => (20000 + rng.below(100) as u32) << 16 | (rng.below(64) as u32) << 8,
                    _ => 0x1000 + rng.below(0x1000) as u32,
                };
                w.copy_from_slice(&v.to_be_bytes());
            }
            b[0] = ty;
            b[1] = code;
            if len >= 20 && rng.below(2) == 0 {
                let tr = len - crate::pap::TRAILER_LEN;
                let xid = match (rng.below(3), c.outstanding()) {
                    (0, Some(m)) => m.ext().map_or(0, |e| e.xid),
                    (1, _) => 0,
                    _ => rng.next() as u32,
                };
                let epoch = if rng.below(4) == 0 {
                    rng.next() as u32
                } else {
                    c.epoch().max(1)
                };
                b[tr..tr + 4].copy_from_slice(&xid.to_be_bytes());
                b[tr + 4..tr + 8].copy_from_slice(&epoch.to_be_bytes());
                let lease = rng.below(100) as u32;
                b[tr + 8..tr + 12].copy_from_slice(&lease.to_be_bytes());
            }
            b[2] = 0;
            b[3] = 0;
            let ck = crate::checksum::checksum(&b[..len]);
            b[2..4].copy_from_slice(&ck.to_be_bytes());
            if let Ok(m) = decode(&b[..len], Direction::ToHost) {
                accepted += 1;
                let _ = c.receive(&m, now);
            }
            // And a structured Message that need not be valid: the
            // client ignores it as invalid exactly when the codec
            // would refuse it.
            let m = rng.router_message(&c);
            let mut out = [0u8; MAX_LEN];
            match encode(&m, &mut out) {
                Ok(n) => {
                    assert_eq!(decode(&out[..n], m.direction()), Ok(m));
                    accepted += 1;
                    let ev = c.receive(&m, now);
                    assert_ne!(ev, Event::Ignored(Ignored::Invalid));
                    assert_eq!(
                        ev == Event::Ignored(Ignored::NotForHost),
                        m.direction() == Direction::ToRouter
                    );
                    *events.entry(std::format!("{ev:?}")).or_insert(0usize) += 1;
                }
                Err(_) => {
                    assert_eq!(c.receive(&m, now), Event::Ignored(Ignored::Invalid));
                }
            }
            // Invariants.
            let ports: Vec<_> = c.port_blocks().collect();
            assert!(ports.len() <= MAX_BLOCKS);
            for (i, a) in ports.iter().enumerate() {
                for b in &ports[i + 1..] {
                    let (lo, hi) = b.block.range();
                    assert!(!overlaps(&a.block, lo, hi), "{a:?} {b:?}");
                }
            }
            let _ = c.next_timeout();
            let _ = c.spi_blocks().count();
            // Only stale records (waiting for SPIs after a restart) and
            // blacklist removals may name SPIs not held.
            for r in c.sa_records() {
                assert!(
                    r.state == SaRecordState::Stale || c.owns_spi(r.spi),
                    "{r:?}"
                );
            }
            for x in c.sa_notices() {
                if matches!(x.kind, SaNoticeKind::Validate | SaNoticeKind::Invalidate) {
                    assert!(c.owns_spi(x.spi.unwrap_or(0)), "{x:?}");
                }
            }
            assert!(c.sa_notices().count() <= MAX_SA_NOTICES);
        }
    }
    assert!(accepted > 50_000, "{accepted}");
    // Every kind of outcome was reached.
    for want in [
        "Changed",
        "Refused",
        "Nothing",
        "Unmatched",
        "WrongReply",
        "SaNotice { kind: Validate",
        "SaNotice { kind: Blacklist",
    ] {
        assert!(
            events.keys().any(|k| k.contains(want)),
            "{want}: {events:?}"
        );
    }
}
