// SPDX-License-Identifier: GPL-2.0

use super::*;
use crate::alloc_table::{AllocTable, Kind, Quota, Settings};
use crate::config::Range;
use crate::pap::{decode, encode, scope, Acked, Trailer, MAX_LEN};
use crate::pap_server::{serve, serve_with_sa, CachedReply};
use crate::sa_table::{Lan, SaLayout, SaShared, SaTable, Seed};
use crate::store::{AllocStore, RouterStore, SaStore};
use std::vec;
use std::vec::Vec;

const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const EPOCH: u32 = 0x5eed_0001;
const LEASE: u32 = 60;

const SEED: Seed = Seed([1, 2]);
/// The router's LAN prefix (H1 and H2 are inside).
const LAN: Lan = Lan {
    addr: Ipv4Addr::new(10, 0, 0, 7),
    mask: Ipv4Addr::new(255, 255, 255, 0),
};

/// The router's tables (as in `pap_server`'s tests).
struct Store(RouterStore);

impl Store {
    fn new(settings: Settings) -> Self {
        let mut s = Self(RouterStore {
            alloc: AllocStore::new(8, settings),
            sa: SaStore::new(
                SaLayout {
                    buckets: 256,
                    hosts: 8,
                },
                SEED,
            ),
        });
        let ports = Some(Range {
            min: 20000,
            max: 20099,
        });
        let spis = Some(Range {
            min: 0x1000,
            max: 0x1fff,
        });
        s.t().set_pools(ports, spis, |_| {});
        s
    }

    fn t(&mut self) -> AllocTable<'_> {
        self.both().0
    }

    /// Both writer views, as the kernel builds them under its lock.
    fn both(&mut self) -> (AllocTable<'_>, SaTable<'_>) {
        self.0.both()
    }

    /// The packet path's view of the SA table.
    fn sa(&self) -> SaShared<'_> {
        self.0.sa.shared()
    }
}

/// The router as `router/server.rs` runs it: reply cache, then
/// `serve_with_sa`.
struct Router {
    s: Store,
    epoch: u32,
    cache: CachedReply,
    /// Messages answered from the reply cache.
    replayed: usize,
}

impl Router {
    fn new() -> Self {
        Self::with(Settings {
            default_lease: LEASE,
            ..Settings::DEFAULT
        })
    }

    fn with(settings: Settings) -> Self {
        Self {
            s: Store::new(settings),
            epoch: EPOCH,
            cache: CachedReply::EMPTY,
            replayed: 0,
        }
    }

    fn grace(&mut self) {
        while let Some(tok) = self.s.t().start_grace() {
            self.s.t().finish_grace(tok);
        }
        let (_, mut sa) = self.s.both();
        while let Some(tok) = sa.start_grace() {
            sa.finish_grace(tok);
        }
    }

    /// Serves `bytes` from H1 at `now`; the encoded reply, if any.
    fn handle(&mut self, bytes: &[u8], now: u64) -> Option<Vec<u8>> {
        let msg = decode(bytes, Direction::ToRouter).expect("the client sends valid PAP");
        if self.s.t().find_host(H1).is_some() {
            if let Some(b) = self.cache.replay(&msg) {
                self.replayed += 1;
                return Some(b.to_vec());
            }
        } else {
            self.cache = CachedReply::EMPTY;
        }
        let (reply, _) = {
            let (mut t, mut sa) = self.s.both();
            serve_with_sa(&mut t, &mut sa, LAN, H1, &msg, now, self.epoch)
        };
        self.grace();
        let mut out = [0u8; MAX_LEN];
        let n = encode(&reply?, &mut out).unwrap();
        self.cache.remember(&msg, &out[..n]);
        Some(out[..n].to_vec())
    }

    /// A restart: everything dropped, a new epoch; the broadcast.
    fn restart(&mut self, epoch: u32) -> Message {
        self.s.t().invalidate_all(None, |_| {});
        self.s.both().1.clear();
        self.grace();
        self.epoch = epoch;
        self.cache = CachedReply::EMPTY;
        self.unsolicited_all()
    }

    fn unsolicited_all(&self) -> Message {
        Message::InvalidateAll {
            dir: Direction::ToHost,
            scope: scope::ALL,
            ext: Some(self.unsolicited()),
        }
    }

    fn unsolicited(&self) -> Trailer {
        Trailer {
            xid: 0,
            epoch: self.epoch,
            lease: 0,
        }
    }

    fn host_ports(&mut self) -> u32 {
        self.s.t().host(H1).map_or(0, |h| h.ports)
    }

    fn host_spis(&mut self) -> u32 {
        self.s.t().host(H1).map_or(0, |h| h.spis)
    }

    /// Whether the router delivers ESP from `addr` on `spi` to H1.
    fn validated(&mut self, addr: Ipv4Addr, spi: u32) -> bool {
        let h1 = self.s.t().find_host(H1);
        h1.is_some() && self.s.sa().lookup(addr, spi) == h1
    }

    /// Whether H1's blacklist drops ESP from `addr` on `spi`.
    fn blacklisted(&mut self, addr: Ipv4Addr, spi: u32) -> bool {
        match self.s.t().find_host(H1) {
            Some(h1) => self.s.sa().blacklisted(addr, spi, h1),
            None => false,
        }
    }

    /// H1's SAs at the router.
    fn sas(&mut self) -> usize {
        match self.s.t().find_host(H1) {
            Some(h1) => usize::from(self.s.both().1.host_counts(h1).0),
            None => 0,
        }
    }
}

/// A client, a router and the LAN between them (same clock).
struct Net {
    c: Client,
    r: Router,
    now: u32,
    in_use: u32,
    /// Client messages lost: the next n, or all while `down`.
    lose_requests: usize,
    down: bool,
    /// Router replies lost (the router did serve the message).
    lose_replies: usize,
    /// Every message the client sent, with the time.
    sent: Vec<(u32, Message)>,
    events: Vec<Event>,
    changes: Vec<Changes>,
}

fn cfg() -> Config {
    Config {
        flush_on_start: false,
        ..Config::DEFAULT
    }
}

impl Net {
    fn new(c: Config) -> Self {
        Self::start_at(c, 1000)
    }

    fn start_at(c: Config, now: u32) -> Self {
        Self {
            c: Client::new(c, 0x1234_5678).unwrap(),
            r: Router::new(),
            now,
            in_use: 0,
            lose_requests: 0,
            down: false,
            lose_replies: 0,
            sent: Vec::new(),
            events: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// Polls until nothing is left, delivering at once.
    fn tick(&mut self) {
        for _ in 0..64 {
            match self.c.poll(self.now, self.in_use) {
                None => return,
                Some(Action::Changed(ch)) => self.changes.push(ch),
                Some(Action::Send(out)) => {
                    let m = decode(out.bytes(), Direction::ToRouter).unwrap();
                    assert_eq!(&m, out.message());
                    self.sent.push((self.now, m));
                    if self.down {
                        continue;
                    }
                    if self.lose_requests > 0 {
                        self.lose_requests -= 1;
                        continue;
                    }
                    let Some(reply) = self.r.handle(out.bytes(), u64::from(self.now)) else {
                        continue;
                    };
                    if self.lose_replies > 0 {
                        self.lose_replies -= 1;
                        continue;
                    }
                    self.deliver(&decode(&reply, Direction::ToHost).unwrap());
                }
            }
        }
        panic!("poll does not settle");
    }

    fn deliver(&mut self, m: &Message) -> Event {
        let ev = self.c.receive(m, self.now);
        self.events.push(ev);
        if let Event::Changed(ch) = ev {
            self.changes.push(ch);
        }
        ev
    }

    /// `secs` seconds, one tick each.
    fn run(&mut self, secs: u32) {
        for _ in 0..secs {
            self.now = self.now.wrapping_add(1);
            self.tick();
        }
    }

    fn ports(&self) -> Vec<Held<PortBlock>> {
        self.c.port_blocks().collect()
    }

    fn spis(&self) -> Vec<Held<SpiBlock>> {
        self.c.spi_blocks().collect()
    }

    fn count(&self, f: impl Fn(&Message) -> bool) -> usize {
        self.sent.iter().filter(|(_, m)| f(m)).count()
    }

    /// The messages sent from index `from` on.
    fn sent_since(&self, from: usize) -> Vec<Message> {
        self.sent[from..].iter().map(|(_, m)| *m).collect()
    }
}

fn is_port_request(m: &Message) -> bool {
    matches!(m, Message::PortRequest { .. })
}

fn xid(m: &Message) -> u32 {
    m.ext().unwrap().xid
}

fn pb(lowest: u16, count: u8) -> PortBlock {
    PortBlock { lowest, count }
}

#[path = "tests/fuzz.rs"]
mod fuzz;
#[path = "tests/leases.rs"]
mod leases;
#[path = "tests/replies.rs"]
mod replies;
#[path = "tests/sa_notices.rs"]
mod sa_notices;
