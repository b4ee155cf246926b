// SPDX-License-Identifier: GPL-2.0

//! The host's PAP client: which PAP messages a host sends to the router to
//! obtain, keep and give back its ports and SPIs, and what the router's
//! messages do to what it holds.
//!
//! [`Client`] is a pure state machine driven by the caller's clock (seconds,
//! a `u32` that may wrap; a step backwards counts as no time). It never
//! reads a clock, never sends and never allocates; every call is bounded by
//! the fixed tables ([`MAX_BLOCKS`], [`MAX_SA_RECORDS`], [`MAX_SA_NOTICES`]).
//!
//! - [`Client::poll`] with the time and the held ports in use, again until
//!   `None`: each [`Action::Send`] goes to the router, an
//!   [`Action::Changed`] (leases that ran out) updates the caller's tables.
//! - [`Client::receive`] takes a message from the router (decoded with
//!   `Direction::ToHost`, its source checked) and returns an [`Event`].
//! - [`Client::request_ports`], [`Client::release_ports`],
//!   [`Client::release_all`] and the like change what is held;
//!   [`Client::validate`], [`Client::invalidate`], [`Client::blacklist_add`]
//!   and [`Client::blacklist_remove`] queue SA notices (34/x, 35/x) or
//!   refuse them with a [`SaNoticeError`].
//!
//! One transaction is outstanding at a time (the router caches one reply
//! per host), retransmitted after [`RETRANSMIT`] seconds. Leases count from
//! a transaction's first transmission and are renewed at half-life. A new
//! router epoch drops everything held; the SPI blocks of recorded
//! validations are then asked back. Which SAs exist, which peers to
//! blacklist, and the translations, are the caller's.
//!
//! Every rule, with its reason: Documentation/networking/dnat.rst, "The PAP
//! client"; the protocol: Documentation/networking/dnat-pap.rst; the router
//! side: `pap_server.rs`.

use core::net::Ipv4Addr;

use super::pap::{Direction, Message, PortBlock, PortClass, Reason, SpiBlock};

#[path = "pap_client/held.rs"]
mod held;
#[path = "pap_client/reply.rs"]
mod reply;
#[path = "pap_client/sa_notice.rs"]
mod sa_notice;
#[path = "pap_client/stat.rs"]
mod stat;
#[path = "pap_client/txn.rs"]
mod txn;

pub use held::Held;
use held::{blocks, held, holds, remove_where, Entry, Res, Span, Table};
pub use sa_notice::{SaNotice, SaNoticeError, SaNoticeKind, SaRecord, SaRecordState};
pub use stat::{Ignored, Stat};
pub use txn::Out;
use txn::{Op, Txn, Want};

/// Most port blocks, and most SPI blocks, held at once (the router's
/// per-host limit too).
pub const MAX_BLOCKS: usize = 16;
/// Release notices waiting for their turn; more are dropped (counted
/// [`Stat::NoticesDropped`]) and the router frees those blocks at the end
/// of their lease.
pub const MAX_NOTICES: usize = 8;
/// SA notices (34/x, 35/x) waiting for their turn; more are refused
/// ([`SaNoticeError::QueueFull`]).
pub const MAX_SA_NOTICES: usize = 16;
/// SA validations recorded for re-validation after the router forgot
/// them; a validation of a new pair beyond that is refused
/// ([`SaNoticeError::RecordsFull`]).
pub const MAX_SA_RECORDS: usize = 64;
/// Most blacklist entries recorded (as many as the router keeps per host).
pub const MAX_BLACKLIST: usize = 16;
/// Seconds to wait for a reply after the first, second, ... transmission of
/// a transaction (before the +-25 % jitter).
pub const RETRANSMIT: [u32; 5] = [1, 2, 4, 8, 16];
/// Transmissions of a transaction before it is given up.
pub const MAX_TRANSMISSIONS: u8 = RETRANSMIT.len() as u8;
/// Seconds before asking again after the first refusal of a request.
pub const REFUSAL_DELAY_MIN: u32 = 16;
/// Longest wait before asking again after refusals in a row.
pub const REFUSAL_DELAY_MAX: u32 = 256;
/// Seconds before retrying a renewal refused for a passing reason.
pub const RENEW_RETRY: u32 = 16;
/// Seconds a host without SPI blocks to ask back waits, after a router
/// restart, before it requests SPIs: the hosts whose SAs use SPIs get
/// their old blocks back first (first fit would hand them out again).
pub const RECLAIM_GRACE: u32 = 3;
/// A given-up request or renewal started again within this many seconds
/// of its first transmission keeps its xid (and start time); later it
/// becomes a new transaction.
pub const XID_REUSE_MAX: u32 = 64;

/// Seed used when the caller passes 0 (xorshift32 needs a nonzero state).
const DEFAULT_SEED: u32 = 0x9e37_79b9;
/// A clock step of this many seconds or more is taken as a step backwards.
const BACKWARDS: u32 = 1 << 31;

/// The client's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Ports asked for per request, 1 to 255 (e.g. 32).
    pub port_block: u8,
    /// Which port range to ask from (code 0: 1-9999, code 1: 10000+).
    pub port_class: PortClass,
    /// SPIs asked for per request (e.g. 256); at least 1 if `want_spis`.
    pub spi_block: u16,
    /// Lease asked for, seconds; 0: the router's default.
    pub lease: u32,
    /// Ask for another port block when fewer held ports than this are free.
    pub low_water: u16,
    /// Most port blocks to ask for, 1 to [`MAX_BLOCKS`].
    pub max_port_blocks: usize,
    /// Keep one SPI block.
    pub want_spis: bool,
    /// Give back everything a previous run left before the first request.
    pub flush_on_start: bool,
}

impl Config {
    /// 32 ports above 10000 at a time, up to 4 blocks, another block when
    /// fewer than 8 are free; 256 SPIs; the router's default lease; flush
    /// on start.
    pub const DEFAULT: Config = Config {
        port_block: 32,
        port_class: PortClass::High,
        spi_block: 256,
        lease: 0,
        low_water: 8,
        max_port_blocks: 4,
        want_spis: true,
        flush_on_start: true,
    };

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.port_block == 0 {
            return Err(ConfigError::ZeroPortBlock);
        }
        if self.want_spis && self.spi_block == 0 {
            return Err(ConfigError::ZeroSpiBlock);
        }
        if self.max_port_blocks == 0 || self.max_port_blocks > MAX_BLOCKS {
            return Err(ConfigError::MaxPortBlocks);
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a [`Config`] is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// `port_block` is 0.
    ZeroPortBlock,
    /// `spi_block` is 0 while `want_spis` is set.
    ZeroSpiBlock,
    /// `max_port_blocks` is 0 or above [`MAX_BLOCKS`].
    MaxPortBlocks,
}

impl ConfigError {
    /// A message for logs and netlink extended acks.
    pub const fn message(self) -> &'static str {
        match self {
            Self::ZeroPortBlock => "the port block size must be at least 1",
            Self::ZeroSpiBlock => "the SPI block size must be at least 1",
            Self::MaxPortBlocks => "the number of port blocks must be 1 to 16",
        }
    }
}

/// What changed in what the client holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    /// The set of held ports changed (grant, release, invalidation, expiry).
    pub ports: bool,
    /// The set of held SPIs changed.
    pub spis: bool,
    /// The router dropped the host's SA validations and blacklist entries
    /// (invalidate-all with the SA scope bit, or a restart). The client
    /// re-sends the validations and blacklist entries it recorded.
    pub sas: bool,
    /// The router restarted (new epoch): everything held before is gone.
    pub epoch: bool,
}

impl Changes {
    /// Nothing changed.
    pub const NONE: Changes = Changes {
        ports: false,
        spis: false,
        sas: false,
        epoch: false,
    };

    /// Whether anything changed.
    pub const fn any(&self) -> bool {
        self.ports || self.spis || self.sas || self.epoch
    }
}

/// What a message from the router did ([`Client::receive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Accepted; nothing the caller mirrors changed (a renewal, an
    /// acknowledgement, an invalidation of something not held).
    Nothing,
    /// Accepted; held resources changed.
    Changed(Changes),
    /// Accepted; the router refused a request, renewal or release notice,
    /// and nothing changed (a refusal that drops a block is `Changed`).
    Refused(Reason),
    /// Accepted; the router acknowledged an SA notice: applied (`Ok`) or
    /// refused. (Reported as `Changed` instead if the acknowledgement
    /// carried a new epoch.)
    SaNotice {
        /// Which notice.
        kind: SaNoticeKind,
        /// Its address (`None`: a blacklist entry for any address).
        addr: Option<Ipv4Addr>,
        /// Its SPI (`None`: a blacklist entry for any SPI).
        spi: Option<u32>,
        /// Applied, or why not.
        result: Result<(), Reason>,
    },
    /// Not acted on.
    Ignored(Ignored),
}

/// What [`Client::poll`] asks the caller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send this message to the router.
    Send(Out),
    /// Leases ran out: these held resources changed.
    Changed(Changes),
}

/// The host's PAP client. See the module documentation and
/// Documentation/networking/dnat.rst, "The PAP client".
#[derive(Debug, Clone)]
pub struct Client {
    cfg: Config,
    rng: u32,
    /// The caller's clock at the last call, `None` before the first.
    last_now: Option<u32>,
    /// The client's monotonic clock, seconds since the first call.
    mono: u64,
    /// `ports_in_use` of the last poll.
    in_use: u32,
    epoch: u32,
    ports: Table<PortBlock>,
    spis: Table<SpiBlock>,
    txn: Option<Txn>,
    /// The last request or renewal given up, until it is answered late,
    /// started again or superseded.
    given_up: Option<Txn>,
    /// Release notices not started yet, oldest first.
    notices: [Option<Op>; MAX_NOTICES],
    /// SA notices not started yet, oldest first.
    sa_queue: [Option<Op>; MAX_SA_NOTICES],
    /// Recorded SA validations.
    records: [Option<SaRecord>; MAX_SA_RECORDS],
    /// SPI blocks lost in a router restart that recorded SAs use: asked
    /// back (a renewal) before anything new.
    reclaim: [Option<SpiBlock>; MAX_BLOCKS],
    /// Blacklist entries added (and not removed), re-sent when the router
    /// forgets them.
    blacklist: [Option<(Option<Ipv4Addr>, Option<u32>)>; MAX_BLACKLIST],
    /// The router forgot the blacklist: re-send it once a block is held,
    /// from entry `bl_next` on (the SA queue may fill up on the way).
    bl_resend: bool,
    bl_next: usize,
    silent: bool,
    stopped: bool,
    want_ports: Want,
    want_spis: Want,
    /// Requests asked for by [`Client::request_ports`] and
    /// [`Client::request_spis`], until answered.
    asked_ports: Option<u8>,
    asked_spis: Option<u16>,
    last_refusal: Option<Reason>,
    stats: [u64; Stat::COUNT],
}

impl Client {
    /// A client that holds nothing yet. `seed`: a random value for the
    /// xids (0 is replaced by a constant).
    pub fn new(cfg: Config, seed: u32) -> Result<Client, ConfigError> {
        cfg.validate()?;
        let mut c = Client {
            cfg,
            rng: if seed == 0 { DEFAULT_SEED } else { seed },
            last_now: None,
            mono: 0,
            in_use: 0,
            epoch: 0,
            ports: [None; MAX_BLOCKS],
            spis: [None; MAX_BLOCKS],
            txn: None,
            given_up: None,
            notices: [None; MAX_NOTICES],
            sa_queue: [None; MAX_SA_NOTICES],
            records: [None; MAX_SA_RECORDS],
            reclaim: [None; MAX_BLOCKS],
            blacklist: [None; MAX_BLACKLIST],
            bl_resend: false,
            bl_next: 0,
            silent: false,
            stopped: false,
            want_ports: Want::new(u16::from(cfg.port_block)),
            want_spis: Want::new(cfg.spi_block),
            asked_ports: None,
            asked_spis: None,
            last_refusal: None,
            stats: [0; Stat::COUNT],
        };
        if cfg.flush_on_start {
            c.queue_notice(Op::ReleaseAll);
        }
        Ok(c)
    }

    // ----- Driving -----

    /// Advances the client to `now` (seconds, the caller's clock) and
    /// returns the next thing to do, `None` when nothing is due: call it
    /// again until `None`. `ports_in_use`: how many held ports the host
    /// uses (for [`Config::low_water`]).
    pub fn poll(&mut self, now: u32, ports_in_use: u32) -> Option<Action> {
        let t = self.advance(now);
        self.in_use = ports_in_use;
        let ch = self.expire(t);
        if ch.any() {
            return Some(Action::Changed(ch));
        }
        // Every round either returns or ends a transaction; a few rounds
        // cover a give-up followed by the start of the next transaction.
        for _ in 0..4 {
            if let Some(txn) = self.txn {
                if txn.next > t {
                    return None;
                }
                if usize::from(txn.step) >= RETRANSMIT.len() {
                    self.give_up(txn);
                    continue;
                }
            } else {
                let op = self.next_op(t)?;
                self.start(op, t);
            }
            if let Some(out) = self.transmit(t) {
                return Some(Action::Send(out));
            }
        }
        None
    }

    /// Handles `msg`, a message from the router (decoded with
    /// `Direction::ToHost`, from the router's address), received at `now`.
    pub fn receive(&mut self, msg: &Message, now: u32) -> Event {
        let t = self.advance(now);
        if msg.validate().is_err() {
            return self.ignore(Ignored::Invalid);
        }
        if msg.direction() != Direction::ToHost {
            return self.ignore(Ignored::NotForHost);
        }
        let is_reply = matches!(
            msg,
            Message::PortResponse { .. } | Message::SpiResponse { .. } | Message::Ack { .. }
        );
        let matched = if is_reply {
            match self.match_reply(msg) {
                Ok(txn) => Some(txn),
                Err(why) => return self.ignore(why),
            }
        } else {
            None
        };
        self.silent = false;
        let mut ch = match msg.ext() {
            Some(e) => self.see_epoch(e.epoch, t),
            None => Changes::NONE,
        };
        let (refused, sa) = match matched {
            Some(txn) => (self.apply_reply(txn, msg, t, &mut ch), txn.op.sa_notice()),
            None => {
                self.apply_invalidation(msg, &mut ch);
                (None, None)
            }
        };
        if ch.any() {
            Event::Changed(ch)
        } else if let Some(n) = sa {
            Event::SaNotice {
                kind: n.kind,
                addr: n.addr,
                spi: n.spi,
                result: refused.map_or(Ok(()), Err),
            }
        } else if let Some(r) = refused {
            Event::Refused(r)
        } else {
            Event::Nothing
        }
    }

    /// Gives back `block`, a held port block: it is dropped at once (the
    /// caller has stopped using it) and a release (32/3) is queued. `false`
    /// if the block is not held exactly so.
    pub fn release_ports(&mut self, block: PortBlock) -> bool {
        if remove_where(&mut self.ports, |e| e.block == block) == 0 {
            return false;
        }
        self.unstick_quota(Res::Ports);
        self.prune();
        self.queue_notice(Op::ReleasePorts(block));
        true
    }

    /// As [`Client::release_ports`], for a block the caller found unused:
    /// `false` for a block the router refused to take back before (it is
    /// pinned: asking again would only be refused again).
    pub fn release_unused_ports(&mut self, block: PortBlock) -> bool {
        if held(&self.ports).any(|e| e.block == block && e.kept) {
            return false;
        }
        self.release_ports(block)
    }

    /// Gives back `block`, a held SPI block (33/3), as
    /// [`Client::release_ports`].
    pub fn release_spis(&mut self, block: SpiBlock) -> bool {
        if remove_where(&mut self.spis, |e| e.block == block) == 0 {
            return false;
        }
        self.unstick_quota(Res::Spis);
        self.prune();
        self.spis_changed();
        self.queue_notice(Op::ReleaseSpis(block));
        true
    }
    /// Asks for a block of `count` ports now (an administrator's request),
    /// whatever [`Config::low_water`] and [`Config::max_port_blocks`] say,
    /// lifting a refusal hold on ports. It is the next request sent, and is
    /// retransmitted and retried like the others until the router answers
    /// (a refusal is not retried). `false` if the client is stopped,
    /// `count` is 0, [`MAX_BLOCKS`] port blocks are held, or such a request
    /// is already pending.
    pub fn request_ports(&mut self, count: u8) -> bool {
        if self.stopped
            || count == 0
            || blocks(&self.ports) >= MAX_BLOCKS
            || self.asked_ports.is_some()
        {
            return false;
        }
        self.asked_ports = Some(count);
        self.want_ports = Want::new(u16::from(self.cfg.port_block));
        true
    }

    /// Asks for a block of `count` SPIs now, as [`Client::request_ports`]
    /// (whatever [`Config::want_spis`] says).
    pub fn request_spis(&mut self, count: u16) -> bool {
        if self.stopped
            || count == 0
            || blocks(&self.spis) >= MAX_BLOCKS
            || self.asked_spis.is_some()
        {
            return false;
        }
        self.asked_spis = Some(count);
        self.want_spis = Want::new(self.cfg.spi_block);
        true
    }

    /// Deconfiguration: drops everything, forgets every transaction, queues
    /// one invalidate-all (36/0, scope 0x07) and stops asking for anything.
    /// Returns what was dropped.
    pub fn release_all(&mut self) -> Changes {
        let ch = Changes {
            ports: blocks(&self.ports) > 0,
            spis: blocks(&self.spis) > 0,
            sas: false,
            epoch: false,
        };
        self.ports = [None; MAX_BLOCKS];
        self.spis = [None; MAX_BLOCKS];
        self.txn = None;
        self.given_up = None;
        self.notices = [None; MAX_NOTICES];
        self.sa_queue = [None; MAX_SA_NOTICES];
        self.records = [None; MAX_SA_RECORDS];
        self.asked_ports = None;
        self.asked_spis = None;
        self.stopped = true;
        self.queue_notice(Op::ReleaseAll);
        ch
    }

    /// Lifts every refusal hold (`over_quota`, `revoked`, back-off) and
    /// restores the configured counts: for an administrator who knows that
    /// the router would now grant.
    pub fn retry_now(&mut self) {
        self.want_ports = Want::new(u16::from(self.cfg.port_block));
        self.want_spis = Want::new(self.cfg.spi_block);
    }

    /// The router may have taken blocks back (an invalidation the host
    /// cannot trust, `pap_session.rs`): every held block is renewed now,
    /// and the authenticated answers decide what stays.
    pub fn check_holdings(&mut self) {
        let t = self.mono;
        for e in self.ports.iter_mut().flatten() {
            e.lease.renew_at = Some(t);
        }
        for e in self.spis.iter_mut().flatten() {
            e.lease.renew_at = Some(t);
        }
    }

    /// Sends the transaction in flight again at the next [`Client::poll`],
    /// with a fresh retransmission schedule (a key was installed, or the
    /// router asked for a new one).
    pub fn resend_now(&mut self) {
        let t = self.mono;
        if let Some(txn) = self.txn.as_mut() {
            txn.next = t;
            txn.step = 0;
        }
    }

    // ----- Accessors -----

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The router epoch last seen, 0 before any.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The held port blocks.
    pub fn port_blocks(&self) -> impl Iterator<Item = Held<PortBlock>> + '_ {
        held(&self.ports).map(move |e| self.show(e))
    }

    /// The held SPI blocks.
    pub fn spi_blocks(&self) -> impl Iterator<Item = Held<SpiBlock>> + '_ {
        held(&self.spis).map(move |e| self.show(e))
    }

    /// Number of held ports.
    pub fn ports_held(&self) -> u32 {
        held(&self.ports).fold(0u32, |n, e| n.saturating_add(e.block.size()))
    }

    /// Whether `port` is in a held block.
    pub fn owns_port(&self, port: u16) -> bool {
        held(&self.ports).any(|e| e.block.contains(port))
    }

    /// Whether `spi` is in a held block.
    pub fn owns_spi(&self, spi: u32) -> bool {
        holds(&self.spis, spi)
    }

    /// The recorded SA validations.
    pub fn sa_records(&self) -> impl Iterator<Item = SaRecord> + '_ {
        self.records.iter().flatten().copied()
    }

    /// The SA notices waiting for their turn, oldest first (the one being
    /// sent is [`Client::outstanding`]).
    pub fn sa_notices(&self) -> impl Iterator<Item = SaNotice> + '_ {
        self.sa_queue
            .iter()
            .flatten()
            .filter_map(|op| op.sa_notice())
    }

    /// Counter `s`.
    pub fn stat(&self, s: Stat) -> u64 {
        self.stats.get(s.index()).copied().unwrap_or(0)
    }

    /// The outstanding transaction's message, as last sent (or about to be
    /// sent).
    pub fn outstanding(&self) -> Option<Message> {
        self.txn.map(|t| self.message(&t))
    }

    /// The last refusal of the router.
    pub fn last_refusal(&self) -> Option<Reason> {
        self.last_refusal
    }

    /// Whether [`Client::release_all`] stopped the client.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether no transaction is outstanding or queued (after
    /// [`Client::release_all`]: the invalidate-all is done or given up).
    pub fn is_idle(&self) -> bool {
        self.txn.is_none()
            && self.notices.iter().all(|n| n.is_none())
            && self.sa_queue.iter().all(|n| n.is_none())
    }

    /// Seconds from the last `now` until [`Client::poll`] has something to
    /// do (a transmission, a renewal, a lease end, the end of a hold), as
    /// far as the client knows (a change of `ports_in_use` may need a poll
    /// sooner); `None` if nothing is scheduled. Polling earlier is harmless.
    pub fn next_timeout(&self) -> Option<u32> {
        let t = self.mono;
        let mut best: Option<u64> = None;
        let mut at = |x: u64| best = Some(best.map_or(x, |b| b.min(x)));
        for x in held(&self.ports).filter_map(|e| e.lease.expires) {
            at(x);
        }
        for x in held(&self.spis).filter_map(|e| e.lease.expires) {
            at(x);
        }
        match self.txn {
            Some(txn) => at(txn.next),
            None => {
                if self.notices.iter().any(|n| n.is_some()) {
                    at(t);
                }
                if !self.stopped && (self.asked_ports.is_some() || self.asked_spis.is_some()) {
                    at(t);
                }
                if !self.stopped && (self.sa_queue.iter().any(|n| n.is_some()) || self.stale_due())
                {
                    at(t);
                }
                if !self.stopped {
                    for r in held(&self.ports).filter_map(|e| e.lease.renew_at) {
                        at(r);
                    }
                    for r in held(&self.spis).filter_map(|e| e.lease.renew_at) {
                        at(r);
                    }
                    if self.needs_ports() && self.want_ports.stuck.is_none() {
                        at(self.want_ports.hold_until.max(t));
                    }
                    if self.needs_spis() && self.want_spis.stuck.is_none() {
                        at(self.want_spis.hold_until.max(t));
                    }
                }
            }
        }
        best.map(|b| u32::try_from(b.saturating_sub(t)).unwrap_or(u32::MAX))
    }

    // ----- Internals -----

    fn bump(&mut self, s: Stat) {
        self.bump_by(s, 1);
    }

    fn bump_by(&mut self, s: Stat, n: u64) {
        if let Some(c) = self.stats.get_mut(s.index()) {
            *c = c.saturating_add(n);
        }
    }

    fn ignore(&mut self, why: Ignored) -> Event {
        self.bump(why.stat());
        Event::Ignored(why)
    }

    fn rand(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// `secs` +-25 % (in whole seconds).
    fn jittered(&mut self, secs: u32) -> u32 {
        let q = secs / 4;
        if q == 0 {
            return secs;
        }
        let span = q.saturating_mul(2).saturating_add(1);
        let r = self.rand().checked_rem(span).unwrap_or(0);
        secs.saturating_sub(q).saturating_add(r)
    }

    fn advance(&mut self, now: u32) -> u64 {
        if let Some(last) = self.last_now {
            let d = now.wrapping_sub(last);
            if d < BACKWARDS {
                self.mono = self.mono.saturating_add(u64::from(d));
            }
        }
        self.last_now = Some(now);
        self.mono
    }

    /// A monotonic time on the caller's clock.
    fn caller_time(&self, t: u64) -> u32 {
        let d = u32::try_from(t.saturating_sub(self.mono)).unwrap_or(u32::MAX);
        self.last_now.unwrap_or(0).wrapping_add(d)
    }

    fn show<B: Span>(&self, e: &Entry<B>) -> Held<B> {
        Held {
            block: e.block,
            lease: e.lease.secs,
            expires_at: e.lease.expires.map(|x| self.caller_time(x)),
            renew_at: e.lease.renew_at.map(|x| self.caller_time(x)),
        }
    }
}

#[cfg(test)]
#[path = "pap_client/tests.rs"]
mod tests;
