// SPDX-License-Identifier: GPL-2.0

//! `host follow`: a daemon that keeps the router's established-SA table in
//! step with this host's inbound IPsec SAs, through the `dnat_host`
//! module.
//!
//! An *inbound SA of ours* is a complete XFRM state (it has an algorithm:
//! not the larval state of `XFRM_MSG_ALLOCSPI`) of family `AF_INET`,
//! protocol ESP or AH, whose destination is the module's `PUBLIC_ADDR` and
//! whose SPI lies in one of the SPI blocks the module holds; its peer is
//! the state's source. The daemon
//!
//! - listens to the XFRM multicast groups `XFRMNLGRP_SA` and
//!   `XFRMNLGRP_EXPIRE` of the caller's network namespace;
//! - resynchronises at start, every `--interval` seconds, after each burst
//!   of notifications about SAs to the public address (`XFRM_MSG_NEWSA`,
//!   `UPDSA`, `DELSA`, hard `EXPIRE`, `FLUSHSA`) and after the socket lost
//!   notifications (`ENOBUFS`): it dumps the XFRM states and the module's
//!   recorded validations (`GET_SAS`) and
//!   - validates (`SA_VALIDATE`) every inbound SA of ours without a record,
//!     or with a stale one (the SPI is held again);
//!   - invalidates (`SA_INVALIDATE`) every record without an inbound SA of
//!     ours whose SPI is held, if the daemon follows it (it validated it,
//!     or saw it recorded while the SA existed) or a notification in the
//!     burst deleted or expired that SA.
//!
//! The decision is [`plan`], a pure function of what the two dumps say;
//! the notifications only wake the daemon up and name the reasons. So a
//! lost notification, a module unloaded and loaded again (its records are
//! gone: they are validated again) or a router restart (the module
//! re-validates by itself; stale records are validated again once their SPI
//! is held) are all repaired at the next resynchronisation.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnat_core::uapi::{block_kind, host_cmd};
use netlink_packet_xfrm::{IPPROTO_AH, IPPROTO_ESP};

use crate::dump::HostBlocks;
use crate::host_sas::{HostSa, HostSas};
use crate::limit::INTERVAL;
use crate::log::{self, Level, Style};
use crate::msg::{Attr, HostAttr, Msg};
use crate::nl::{exit, genl, strerror, Conn, Error};
use crate::show::HostConfig;
use crate::spi::holds;
use crate::xfrm::{self, Event, Monitor, Received, Sa, Xfrm};

/// `EPERM`: the SPI of a request is not in a held block.
const EPERM: i32 = 1;
/// `ENOENT`: also what generic netlink answers for a family id that is
/// gone (the module was unloaded).
const ENOENT: i32 = 2;
/// `ENOTCONN`.
const ENOTCONN: i32 = 107;

/// How long a burst of notifications is gathered before resynchronising.
const BURST: Duration = Duration::from_millis(20);
/// Most datagrams gathered into one burst.
const BURST_MAX: usize = 256;
/// Longest wait without looking at the signal flag.
const TICK: Duration = Duration::from_secs(1);

pub const HELP: &str = "\
Follows the kernel's IPsec SAs in this network namespace and has the dnat_host
module validate and invalidate them with the router (SA_VALIDATE,
SA_INVALIDATE), so that the router delivers the inbound ESP/AH of each SA to
this host. An inbound SA of this host is an XFRM state of family inet, proto
esp or ah, to the module's public address, with an SPI of a held SPI block
(\"dnatctl host blocks\"); its peer is the state's source. Larval states
(\"dnatctl host spi alloc\") count once completed.

At start, every --interval seconds, and at once after XFRM notifications
(new, updated, deleted, expired SAs, flushes) or lost notifications, it
compares the XFRM states with the module's records (\"dnatctl host sas\"): an
SA without a record, or with a stale one, is validated; a record the daemon
follows whose SA is gone is invalidated. Records it did not make or see while
their SA existed are left alone. A missing module is retried every interval.

One line per action on standard output, e.g.:
  validate 203.0.113.3 spi 0x00001004 (new SA)
  invalidate 203.0.113.3 spi 0x00001004 (SA deleted)
  host module absent, retrying in 5 s

Runs until SIGTERM or SIGINT (exit 0). With --once: one resynchronisation,
exit 0 if it succeeded (else the exit code of its first error). Needs
CAP_NET_ADMIN (XFRM).";

/// The arguments of `host follow`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct FollowArgs {
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          allow_negative_numbers = true, value_parser = INTERVAL.arg::<u32>(),
          help = INTERVAL.help("Seconds between resynchronisations"))]
    pub interval: u32,
    /// Resynchronise once and exit.
    #[arg(long)]
    pub once: bool,
    /// Testing aid: no host module; PUBLIC,MIN-MAX[,MIN-MAX...] stand for
    /// its public address and SPI blocks, and what would be sent is logged.
    #[arg(long, hide = true, value_name = "PUBLIC,MIN-MAX")]
    pub dry_run: Option<String>,
}

/// (peer, SPI).
pub type Key = (Ipv4Addr, u32);

/// What the module says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostView {
    /// `PUBLIC_ADDR`.
    pub public: Option<Ipv4Addr>,
    /// The held SPI blocks: (lowest, count).
    pub spis: Vec<(u32, u32)>,
    /// The recorded validations.
    pub records: Vec<HostSa>,
}

/// `SA_VALIDATE` or `SA_INVALIDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Validate,
    Invalidate,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Validate => "validate",
            Op::Invalidate => "invalidate",
        }
    }
}

/// A request to the module, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub op: Op,
    pub peer: Ipv4Addr,
    pub spi: u32,
    pub reason: &'static str,
}

impl Action {
    /// `validate 203.0.113.3 spi 0x00001004 (new SA)`.
    pub fn line(&self) -> String {
        format!(
            "{} {} spi {:#010x} ({})",
            self.op.verb(),
            self.peer,
            self.spi,
            self.reason
        )
    }
}

/// What the notifications of a burst said, for the reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub new: BTreeSet<Key>,
    pub updated: BTreeSet<Key>,
    pub deleted: BTreeSet<Key>,
    pub expired: BTreeSet<Key>,
    pub flushed: bool,
}

impl Hints {
    /// Notes `e`; whether it is about an SA to `public` (any SA when the
    /// public address is not known yet) and so worth a resynchronisation.
    pub fn note(&mut self, e: &Event, public: Option<Ipv4Addr>) -> bool {
        let (set, sa) = match e {
            Event::Flushed => {
                self.flushed = true;
                return true;
            }
            // A larval state carries no traffic: nothing to validate yet.
            Event::New(sa) | Event::Updated(sa) if !sa.complete => return false,
            Event::New(sa) => (&mut self.new, sa),
            Event::Updated(sa) => (&mut self.updated, sa),
            Event::Deleted(sa) => (&mut self.deleted, sa),
            Event::Expired(sa) => (&mut self.expired, sa),
        };
        if public.is_some_and(|p| p != sa.daddr) || !is_ipsec(sa.proto) {
            return false;
        }
        set.insert((sa.saddr, sa.spi));
        true
    }
}

fn is_ipsec(proto: u8) -> bool {
    proto == IPPROTO_ESP || proto == IPPROTO_AH
}

/// Whether `sa` is an inbound SA of ours (`complete` aside).
pub fn is_ours(sa: &Sa, public: Ipv4Addr, spis: &[(u32, u32)]) -> bool {
    is_ipsec(sa.proto) && sa.daddr == public && holds(spis, sa.spi)
}

/// What a resynchronisation does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In order: validations by (peer, SPI), then invalidations.
    pub actions: Vec<Action>,
    /// Records to follow from now on (their SA exists).
    pub adopt: Vec<Key>,
    /// Followed pairs with neither record nor SA: forgotten.
    pub forget: Vec<Key>,
    /// Inbound SAs of ours.
    pub live: usize,
}

/// Compares the XFRM `states` with the module's view (`public` known);
/// `mine` are the records the daemon follows.
pub fn plan(
    public: Ipv4Addr,
    view: &HostView,
    states: &[Sa],
    mine: &BTreeSet<Key>,
    hints: &Hints,
) -> Plan {
    let live: BTreeSet<Key> = states
        .iter()
        .filter(|s| s.complete && is_ours(s, public, &view.spis))
        .map(|s| (s.saddr, s.spi))
        .collect();
    let records: BTreeMap<Key, &HostSa> =
        view.records.iter().map(|r| ((r.peer, r.spi), r)).collect();
    let mut p = Plan {
        live: live.len(),
        ..Plan::default()
    };
    for &(peer, spi) in &live {
        let reason = match records.get(&(peer, spi)) {
            None if hints.new.contains(&(peer, spi)) => "new SA",
            None if hints.updated.contains(&(peer, spi)) => "SA updated",
            None => "no record",
            Some(r) if r.is_stale() => "stale record, SPI held again",
            Some(_) => {
                if !mine.contains(&(peer, spi)) {
                    p.adopt.push((peer, spi));
                }
                continue;
            }
        };
        p.actions.push(Action {
            op: Op::Validate,
            peer,
            spi,
            reason,
        });
    }
    for (&key, r) in &records {
        // A record whose SPI is not held is left alone, unless it is stale
        // (its SPI was lost in a router restart): then the module forgets
        // it when asked (and answers EPERM), so that it does not stay for
        // ever once its SA is gone.
        if live.contains(&key) || (!holds(&view.spis, key.1) && !r.is_stale()) {
            continue;
        }
        let reason = if hints.deleted.contains(&key) {
            "SA deleted"
        } else if hints.expired.contains(&key) {
            "SA expired"
        } else if !mine.contains(&key) {
            continue;
        } else if hints.flushed {
            "SAs flushed"
        } else {
            "SA gone"
        };
        p.actions.push(Action {
            op: Op::Invalidate,
            peer: key.0,
            spi: key.1,
            reason,
        });
    }
    p.forget = mine
        .iter()
        .filter(|k| !live.contains(k) && !records.contains_key(k))
        .copied()
        .collect();
    p
}

/// The module, as the daemon uses it.
pub trait HostModule {
    /// Its public address, SPI blocks and records.
    fn view(&mut self) -> Result<HostView, Error>;
    /// `SA_VALIDATE` or `SA_INVALIDATE`.
    fn send(&mut self, op: Op, peer: Ipv4Addr, spi: u32) -> Result<(), Error>;
    /// The first log line.
    fn describe(&self) -> String;
}

/// The XFRM states, as the daemon reads them.
pub trait States {
    fn states(&mut self) -> Result<Vec<Sa>, Error>;
}

impl States for Xfrm {
    fn states(&mut self) -> Result<Vec<Sa>, Error> {
        Xfrm::states(self)
    }
}

/// The `dnat_host` family; the family id is resolved again after a
/// failure.
#[derive(Default)]
pub struct Genl {
    conn: Option<(Conn, u16)>,
}

impl Genl {
    fn conn(&mut self) -> Result<&mut (Conn, u16), Error> {
        if self.conn.is_none() {
            let mut c = Conn::open()?;
            let id = c.resolve(HostAttr::FAMILY)?;
            self.conn = Some((c, id));
        }
        self.conn.as_mut().ok_or_else(|| Error::Malformed {
            what: "opening the dnat_host family".into(),
            detail: "no connection".into(),
        })
    }

    fn dump(&mut self, cmd: u8, what: &str) -> Result<Vec<Vec<HostAttr>>, Error> {
        let (c, id) = self.conn()?;
        let msgs = c.dump(genl(Msg::<HostAttr>::new(cmd), *id), what)?;
        Ok(msgs.into_iter().map(|m| m.attrs).collect())
    }

    fn try_view(&mut self) -> Result<HostView, Error> {
        let what = "reading the dnat_host configuration";
        let (c, id) = self.conn()?;
        let config = c.doit(genl(Msg::<HostAttr>::new(host_cmd::GET_CONFIG), *id), what)?;
        let public = config
            .first()
            .and_then(|m| HostConfig::from_attrs(&m.attrs).public_addr);
        let what = "reading the dnat_host blocks";
        let d = self.dump(host_cmd::GET_BLOCKS, what)?;
        let malformed = |what: &str| {
            let what = what.to_owned();
            move |detail| Error::Malformed { what, detail }
        };
        let blocks = HostBlocks::from_dump(d.iter().map(|v| &v[..])).map_err(malformed(what))?;
        let what = "reading the dnat_host SAs";
        let d = self.dump(host_cmd::GET_SAS, what)?;
        let records = HostSas::from_dump(d.iter().map(|v| &v[..])).map_err(malformed(what))?;
        Ok(HostView {
            public,
            spis: blocks
                .blocks
                .iter()
                .filter(|b| b.kind_num == block_kind::SPIS)
                .map(|b| (b.lowest, b.count))
                .collect(),
            records: records.sas,
        })
    }
}

impl HostModule for Genl {
    fn view(&mut self) -> Result<HostView, Error> {
        let v = self.try_view();
        if v.is_err() {
            self.conn = None;
        }
        v
    }

    fn send(&mut self, op: Op, peer: Ipv4Addr, spi: u32) -> Result<(), Error> {
        let (cmd, verb) = match op {
            Op::Validate => (host_cmd::SA_VALIDATE, "validating"),
            Op::Invalidate => (host_cmd::SA_INVALIDATE, "invalidating"),
        };
        let msg = Msg {
            cmd,
            attrs: vec![HostAttr::PeerAddr(peer), HostAttr::Spi(spi)],
        };
        let what = format!("{verb} the SA with peer {peer} spi {spi:#x}");
        let r = self
            .conn()
            .and_then(|(c, id)| c.doit(genl(msg, *id), &what).map(drop));
        // Not one of the module's answers: the family may be gone.
        if matches!(r, Err(ref e) if !matches!(e, Error::Kernel { errno, .. } if *errno != ENOENT))
        {
            self.conn = None;
        }
        r
    }

    fn describe(&self) -> String {
        "through the dnat_host module".into()
    }
}

/// `--dry-run`: a module that only records what it is sent.
pub struct DryRun {
    view: HostView,
}

impl DryRun {
    /// Parses `PUBLIC,MIN-MAX[,MIN-MAX...]` (SPIs decimal or `0x` hex).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = s.split(',');
        let public = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("--dry-run: \"{s}\" does not start with an IPv4 address"))?;
        let num = |v: &str| match v.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).ok(),
            None => v.parse().ok(),
        };
        let mut spis = Vec::new();
        for r in parts {
            let (lo, hi) = r
                .split_once('-')
                .and_then(|(a, b)| Some((num(a)?, num(b)?)))
                .filter(|(a, b)| a <= b && b - a < u32::MAX)
                .ok_or_else(|| format!("--dry-run: \"{r}\" is not an SPI range MIN-MAX"))?;
            spis.push((lo, hi - lo + 1));
        }
        Ok(Self {
            view: HostView {
                public: Some(public),
                spis,
                records: Vec::new(),
            },
        })
    }
}

impl HostModule for DryRun {
    fn view(&mut self) -> Result<HostView, Error> {
        Ok(self.view.clone())
    }

    fn send(&mut self, op: Op, peer: Ipv4Addr, spi: u32) -> Result<(), Error> {
        let recs = &mut self.view.records;
        recs.retain(|r| (r.peer, r.spi) != (peer, spi));
        if op == Op::Validate {
            recs.push(HostSa {
                peer,
                spi,
                state: crate::host_sas::state_name(dnat_core::uapi::sa_state::VALIDATED),
                state_num: dnat_core::uapi::sa_state::VALIDATED,
            });
        }
        Ok(())
    }

    fn describe(&self) -> String {
        let spis: Vec<String> = self
            .view
            .spis
            .iter()
            .map(|&(lo, n)| crate::dump::block_span(block_kind::SPIS, lo, n))
            .collect();
        format!(
            "(dry run: no host module; public {}, spis {})",
            self.view.public.unwrap_or(Ipv4Addr::UNSPECIFIED),
            spis.join(",")
        )
    }
}

/// The daemon's state.
pub struct Follower<H, X, W> {
    pub host: H,
    pub xfrm: X,
    out: W,
    /// How log lines are prefixed ([`Style::Bare`] unless set).
    pub style: Style,
    interval: u32,
    /// Records the daemon follows.
    pub mine: BTreeSet<Key>,
    /// The last failure logged per (peer, SPI), not logged again.
    failures: BTreeMap<Key, String>,
    /// The last problem logged that stopped a resynchronisation.
    problem: Option<String>,
    /// The public address of the last view.
    pub public: Option<Ipv4Addr>,
}

impl<H: HostModule, X: States, W: Write> Follower<H, X, W> {
    pub fn new(host: H, xfrm: X, out: W, interval: u32) -> Self {
        Self {
            host,
            xfrm,
            out,
            style: Style::Bare,
            interval,
            mine: BTreeSet::new(),
            failures: BTreeMap::new(),
            problem: None,
            public: None,
        }
    }

    /// Writes one line and flushes it (the log is read while it grows).
    pub fn log(&mut self, level: Level, line: &str) {
        let line = log::line(self.style, level, line);
        let _ = writeln!(self.out, "{line}").and_then(|()| self.out.flush());
    }

    /// Logs a problem that stops this resynchronisation, unless it was the
    /// last one logged.
    fn trouble(&mut self, msg: String) {
        if self.problem.as_deref() != Some(msg.as_str()) {
            self.log(
                Level::Warning,
                &format!("{msg}, retrying in {} s", self.interval),
            );
            self.problem = Some(msg);
        }
    }

    /// One resynchronisation; `why` (start, lost notifications) adds a
    /// summary line. The error is the first that stopped it or that the
    /// module gave to a request.
    pub fn resync(&mut self, hints: &Hints, why: Option<&str>) -> Result<(), Error> {
        let view = match self.host.view() {
            Ok(v) => v,
            Err(e) => {
                let msg = match &e {
                    Error::NoFamily { .. } => "host module absent".to_owned(),
                    Error::Kernel { errno: ENOENT, .. } => "host module absent".to_owned(),
                    e => format!("reading the host module failed: {e}"),
                };
                self.trouble(msg);
                return Err(e);
            }
        };
        let Some(public) = view.public else {
            self.trouble("host module has no public address".into());
            return Err(Error::Kernel {
                what: "reading the dnat_host configuration".into(),
                errno: ENOTCONN,
                extack: Some("the module has no public address".into()),
            });
        };
        self.public = Some(public);
        let states = match self.xfrm.states() {
            Ok(s) => s,
            Err(e) => {
                self.trouble(format!("XFRM dump failed: {e}"));
                return Err(e);
            }
        };
        if let Some(p) = self.problem.take() {
            let back = if p == "host module absent" {
                "host module present"
            } else {
                "resynchronised again"
            };
            self.log(Level::Notice, back);
        }
        let p = plan(public, &view, &states, &self.mine, hints);
        self.mine.extend(p.adopt.iter().copied());
        for k in &p.forget {
            self.mine.remove(k);
        }
        let acted: BTreeSet<Key> = p.actions.iter().map(|a| (a.peer, a.spi)).collect();
        self.failures.retain(|k, _| acted.contains(k));
        let mut first_err = None;
        for a in &p.actions {
            let key = (a.peer, a.spi);
            let sent = match self.host.send(a.op, a.peer, a.spi) {
                // The SPI is not held: the module forgot the record
                // anyway, which is all an invalidation of a stale record
                // can do.
                Err(Error::Kernel { errno: EPERM, .. }) if a.op == Op::Invalidate => Ok(()),
                r => r,
            };
            match sent {
                Ok(()) => {
                    self.log(Level::Info, &a.line());
                    self.failures.remove(&key);
                    match a.op {
                        Op::Validate => self.mine.insert(key),
                        Op::Invalidate => self.mine.remove(&key),
                    };
                }
                Err(e) => {
                    let why = failure(&e);
                    let line = format!("{} failed: {why}", a.line());
                    if self.failures.get(&key) != Some(&line) {
                        self.log(Level::Warning, &line);
                        self.failures.insert(key, line);
                    }
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(why) = why {
            let line = format!(
                "resync ({why}): {} inbound SAs, {} records, {} requests",
                p.live,
                view.records.len(),
                p.actions.len()
            );
            self.log(Level::Info, &line);
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// The errno and message of a refused request, shortly.
fn failure(e: &Error) -> String {
    match e {
        Error::Kernel { errno, extack, .. } => {
            let mut s = format!("{} (errno {errno})", strerror(*errno));
            if let Some(m) = extack {
                s.push_str(": ");
                s.push_str(m);
            }
            s
        }
        e => e.to_string(),
    }
}

/// Reads a burst of notifications, `first` and what follows within
/// [`BURST`] of each other: what they say and whether a resynchronisation
/// is needed.
fn burst(mon: &Monitor, first: Vec<xfrm::XfrmMsg>, public: Option<Ipv4Addr>) -> Burst {
    let mut b = Burst::default();
    let mut dgram = Some(first);
    let mut n = 0;
    while let Some(msgs) = dgram.take() {
        for m in msgs {
            match xfrm::parse_event(m.ty, &m.body) {
                Ok(Some(e)) => b.relevant |= b.hints.note(&e, public),
                Ok(None) => {}
                Err(detail) => {
                    b.relevant = true;
                    b.malformed.get_or_insert(detail);
                }
            }
        }
        n += 1;
        if n >= BURST_MAX {
            break;
        }
        match mon.recv(BURST) {
            Ok(Received::Messages(m)) => dgram = Some(m),
            Ok(Received::Nothing) => {}
            Ok(Received::Overrun) => b.lost = true,
            Err(e) => b.error = Some(e),
        }
    }
    b
}

#[derive(Default)]
struct Burst {
    hints: Hints,
    relevant: bool,
    lost: bool,
    malformed: Option<String>,
    error: Option<Error>,
}

/// `host follow`.
pub fn run(args: &FollowArgs) -> Result<i32, Error> {
    match &args.dry_run {
        Some(spec) => {
            let host = DryRun::parse(spec).map_err(|msg| Error::Usage {
                cmd: "host follow",
                msg,
            })?;
            follow(host, args)
        }
        None => follow(Genl::default(), args),
    }
}

fn follow<H: HostModule>(host: H, args: &FollowArgs) -> Result<i32, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    // Subscribe before the first dump, so that nothing falls in between.
    let mon = if args.once {
        None
    } else {
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(|err| Error::Io {
                what: format!("installing a handler for signal {sig}"),
                err,
            })?;
        }
        Some(Monitor::open()?)
    };
    let xfrm = Xfrm::open()?;
    let mut f = Follower::new(host, xfrm, io::stdout(), args.interval);
    f.style = Style::of(io::stdout(), Style::Stamped);
    let how = f.host.describe();
    f.log(
        Level::Notice,
        &format!(
            "following the XFRM SAs of this network namespace {how}, resync every {} s",
            args.interval
        ),
    );
    let first = f.resync(&Hints::default(), Some("start"));
    let Some(mon) = mon else {
        return first.map(|()| exit::OK);
    };
    let interval = Duration::from_secs(u64::from(args.interval));
    let mut next = Instant::now() + interval;
    loop {
        if stop.load(Ordering::Relaxed) {
            f.log(Level::Notice, "stopping");
            return Ok(exit::OK);
        }
        let now = Instant::now();
        if now >= next {
            let _ = f.resync(&Hints::default(), None);
            next = Instant::now() + interval;
            continue;
        }
        match mon.recv((next - now).min(TICK))? {
            Received::Nothing => {}
            Received::Overrun => {
                f.log(
                    Level::Warning,
                    "XFRM notifications lost (ENOBUFS), resynchronising",
                );
                let _ = f.resync(&Hints::default(), Some("notifications lost"));
            }
            Received::Messages(msgs) => {
                let b = burst(&mon, msgs, f.public);
                if let Some(detail) = &b.malformed {
                    f.log(
                        Level::Warning,
                        &format!("malformed XFRM notification ({detail}), resynchronising"),
                    );
                }
                if b.lost {
                    f.log(
                        Level::Warning,
                        "XFRM notifications lost (ENOBUFS), resynchronising",
                    );
                }
                if b.relevant || b.lost {
                    let why = b.lost.then_some("notifications lost");
                    let _ = f.resync(&b.hints, why);
                }
                if let Some(e) = b.error {
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnat_core::uapi::sa_state;

    const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
    const PEER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
    const PEER2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
    const SPIS: [(u32, u32); 1] = [(0x1000, 256)];

    fn sa(peer: Ipv4Addr, spi: u32) -> Sa {
        Sa {
            daddr: PUBLIC,
            saddr: peer,
            spi,
            proto: IPPROTO_ESP,
            complete: true,
        }
    }

    fn rec(peer: Ipv4Addr, spi: u32, state: u8) -> HostSa {
        HostSa {
            peer,
            spi,
            state: crate::host_sas::state_name(state),
            state_num: state,
        }
    }

    fn view(records: Vec<HostSa>) -> HostView {
        HostView {
            public: Some(PUBLIC),
            spis: SPIS.to_vec(),
            records,
        }
    }

    fn lines(p: &Plan) -> Vec<String> {
        p.actions.iter().map(Action::line).collect()
    }

    #[test]
    fn only_inbound_sas_of_ours_count() {
        let mut outbound = sa(PEER, 0x1001);
        (outbound.daddr, outbound.saddr) = (PEER, PUBLIC);
        let larval = Sa {
            complete: false,
            ..sa(PEER, 0x1002)
        };
        let comp = Sa {
            proto: 108,
            ..sa(PEER, 0x1003)
        };
        let ah = Sa {
            proto: IPPROTO_AH,
            ..sa(PEER2, 0x1004)
        };
        let states = [
            outbound,
            larval,
            comp,
            ah,
            sa(PEER, 0x2000), // not a held SPI
            sa(PEER, 0x10ff),
        ];
        let p = plan(
            PUBLIC,
            &view(vec![]),
            &states,
            &BTreeSet::new(),
            &Hints::default(),
        );
        assert_eq!(
            lines(&p),
            [
                "validate 198.51.100.7 spi 0x00001004 (no record)",
                "validate 203.0.113.3 spi 0x000010ff (no record)",
            ]
        );
        assert_eq!(p.live, 2);
        assert!(is_ours(&sa(PEER, 0x1000), PUBLIC, &SPIS));
        assert!(!is_ours(&sa(PEER, 0x1100), PUBLIC, &SPIS));
    }

    #[test]
    fn records_decide() {
        let states = [sa(PEER, 0x1000), sa(PEER, 0x1001), sa(PEER2, 0x1002)];
        let v = view(vec![
            rec(PEER, 0x1000, sa_state::VALIDATED),
            rec(PEER, 0x1001, sa_state::STALE),
            rec(PEER2, 0x1002, sa_state::PENDING),
            // SAs gone: followed, not followed, deleted, outside the blocks
            // (stale: lost in a router restart; validated: left alone).
            rec(PEER, 0x1010, sa_state::VALIDATED),
            rec(PEER, 0x1011, sa_state::VALIDATED),
            rec(PEER, 0x1012, sa_state::STALE),
            rec(PEER, 0x9000, sa_state::STALE),
            rec(PEER, 0x9001, sa_state::VALIDATED),
        ]);
        let mine: BTreeSet<Key> = [(PEER, 0x1010), (PEER, 0x9000), (PEER2, 0x3000)].into();
        let hints = Hints {
            deleted: [(PEER, 0x1012)].into(),
            ..Hints::default()
        };
        let p = plan(PUBLIC, &v, &states, &mine, &hints);
        assert_eq!(
            lines(&p),
            [
                "validate 203.0.113.3 spi 0x00001001 (stale record, SPI held again)",
                "invalidate 203.0.113.3 spi 0x00001010 (SA gone)",
                "invalidate 203.0.113.3 spi 0x00001012 (SA deleted)",
                "invalidate 203.0.113.3 spi 0x00009000 (SA gone)",
            ]
        );
        // The pending and validated records of live SAs are followed.
        assert_eq!(p.adopt, [(PEER2, 0x1002), (PEER, 0x1000)]);
        // A followed pair with neither SA nor record is forgotten; one
        // whose record remains is kept until its invalidation went.
        assert_eq!(p.forget, [(PEER2, 0x3000)]);
    }

    #[test]
    fn reasons_come_from_the_notifications() {
        let states = [sa(PEER, 0x1000), sa(PEER, 0x1001)];
        let v = view(vec![
            rec(PEER, 0x1010, sa_state::VALIDATED),
            rec(PEER, 0x1011, sa_state::VALIDATED),
        ]);
        let mut h = Hints::default();
        assert!(h.note(&Event::New(sa(PEER, 0x1000)), Some(PUBLIC)));
        assert!(h.note(&Event::Updated(sa(PEER, 0x1001)), Some(PUBLIC)));
        assert!(h.note(&Event::Expired(sa(PEER, 0x1011)), Some(PUBLIC)));
        let mine: BTreeSet<Key> = [(PEER, 0x1010)].into();
        h.flushed = true;
        let p = plan(PUBLIC, &v, &states, &mine, &h);
        assert_eq!(
            lines(&p),
            [
                "validate 203.0.113.3 spi 0x00001000 (new SA)",
                "validate 203.0.113.3 spi 0x00001001 (SA updated)",
                "invalidate 203.0.113.3 spi 0x00001010 (SAs flushed)",
                "invalidate 203.0.113.3 spi 0x00001011 (SA expired)",
            ]
        );
    }

    #[test]
    fn which_notifications_matter() {
        let mut h = Hints::default();
        // A larval state, an outbound SA, another protocol.
        let larval = Sa {
            complete: false,
            ..sa(PEER, 0x1000)
        };
        assert!(!h.note(&Event::New(larval), Some(PUBLIC)));
        assert!(!h.note(&Event::Updated(larval), Some(PUBLIC)));
        let mut out = sa(PEER, 0x1000);
        out.daddr = PEER;
        assert!(!h.note(&Event::New(out), Some(PUBLIC)));
        assert!(!h.note(&Event::Deleted(out), Some(PUBLIC)));
        let comp = Sa {
            proto: 108,
            ..sa(PEER, 0x1000)
        };
        assert!(!h.note(&Event::Deleted(comp), Some(PUBLIC)));
        assert_eq!(h, Hints::default());
        // A larval state's deletion or expiry does (a record may name it).
        assert!(h.note(&Event::Deleted(larval), Some(PUBLIC)));
        assert!(h.note(&Event::Expired(larval), Some(PUBLIC)));
        // Before the public address is known, everything does.
        assert!(h.note(&Event::New(out), None));
        assert!(h.note(&Event::Flushed, Some(PUBLIC)));
        assert!(h.flushed);
    }

    /// A module whose answers are scripted.
    #[derive(Default)]
    struct FakeHost {
        view: Option<HostView>,
        /// `NoFamily` while true.
        absent: bool,
        /// Errno per (peer, SPI).
        refuse: BTreeMap<Key, i32>,
        sent: Vec<(Op, Ipv4Addr, u32)>,
    }

    impl HostModule for FakeHost {
        fn view(&mut self) -> Result<HostView, Error> {
            if self.absent {
                return Err(Error::NoFamily {
                    family: "dnat_host".into(),
                    errno: 2,
                    extack: None,
                });
            }
            Ok(self.view.clone().unwrap_or_default())
        }

        fn send(&mut self, op: Op, peer: Ipv4Addr, spi: u32) -> Result<(), Error> {
            if let Some(&errno) = self.refuse.get(&(peer, spi)) {
                return Err(Error::Kernel {
                    what: "x".into(),
                    errno,
                    extack: Some("queue full".into()),
                });
            }
            self.sent.push((op, peer, spi));
            let v = self.view.get_or_insert_with(HostView::default);
            v.records.retain(|r| (r.peer, r.spi) != (peer, spi));
            if op == Op::Validate {
                v.records.push(rec(peer, spi, sa_state::PENDING));
            }
            Ok(())
        }

        fn describe(&self) -> String {
            "fake".into()
        }
    }

    struct FakeXfrm(Result<Vec<Sa>, i32>);

    impl States for FakeXfrm {
        fn states(&mut self) -> Result<Vec<Sa>, Error> {
            self.0.clone().map_err(|errno| Error::Kernel {
                what: "dumping the XFRM states".into(),
                errno,
                extack: None,
            })
        }
    }

    fn follower(states: Vec<Sa>) -> Follower<FakeHost, FakeXfrm, Vec<u8>> {
        let host = FakeHost {
            view: Some(view(vec![])),
            ..FakeHost::default()
        };
        Follower::new(host, FakeXfrm(Ok(states)), Vec::new(), 5)
    }

    fn log(f: &mut Follower<FakeHost, FakeXfrm, Vec<u8>>) -> String {
        String::from_utf8(std::mem::take(&mut f.out)).unwrap()
    }

    #[test]
    fn module_reload_and_sa_deletion() {
        let mut f = follower(vec![sa(PEER, 0x1004)]);
        f.resync(&Hints::default(), Some("start")).unwrap();
        assert_eq!(
            log(&mut f),
            "validate 203.0.113.3 spi 0x00001004 (no record)\n\
             resync (start): 1 inbound SAs, 0 records, 1 requests\n"
        );
        // In step: nothing is sent, nothing logged.
        f.resync(&Hints::default(), None).unwrap();
        assert_eq!(log(&mut f), "");
        assert_eq!(f.host.sent.len(), 1);
        // The module goes away: logged once.
        f.host.absent = true;
        assert_eq!(
            f.resync(&Hints::default(), None).unwrap_err().exit_code(),
            3
        );
        assert!(f.resync(&Hints::default(), None).is_err());
        assert_eq!(log(&mut f), "host module absent, retrying in 5 s\n");
        // It comes back without records: the SA is validated again.
        f.host.absent = false;
        f.host.view = Some(view(vec![]));
        f.resync(&Hints::default(), None).unwrap();
        assert_eq!(
            log(&mut f),
            "host module present\nvalidate 203.0.113.3 spi 0x00001004 (no record)\n"
        );
        // The SA is deleted.
        f.xfrm = FakeXfrm(Ok(vec![]));
        let mut h = Hints::default();
        h.note(&Event::Deleted(sa(PEER, 0x1004)), f.public);
        f.resync(&h, None).unwrap();
        assert_eq!(
            log(&mut f),
            "invalidate 203.0.113.3 spi 0x00001004 (SA deleted)\n"
        );
        assert!(f.mine.is_empty());
        assert_eq!(
            f.host.sent,
            [
                (Op::Validate, PEER, 0x1004),
                (Op::Validate, PEER, 0x1004),
                (Op::Invalidate, PEER, 0x1004)
            ]
        );
    }

    #[test]
    fn levels_in_the_journal() {
        let mut f = follower(vec![sa(PEER, 0x1004), sa(PEER2, 0x1005)]);
        f.style = Style::Journal;
        f.host.refuse.insert((PEER, 0x1004), 16);
        assert!(f.resync(&Hints::default(), Some("start")).is_err());
        f.host.absent = true;
        assert!(f.resync(&Hints::default(), None).is_err());
        f.host.absent = false;
        f.host.refuse.clear();
        f.resync(&Hints::default(), None).unwrap();
        assert_eq!(
            log(&mut f),
            "<6>validate 198.51.100.7 spi 0x00001005 (no record)\n\
             <4>validate 203.0.113.3 spi 0x00001004 (no record) failed: \
             Device or resource busy (errno 16): queue full\n\
             <6>resync (start): 2 inbound SAs, 0 records, 2 requests\n\
             <4>host module absent, retrying in 5 s\n\
             <5>host module present\n\
             <6>validate 203.0.113.3 spi 0x00001004 (no record)\n"
        );
    }

    #[test]
    fn refusals_are_logged_once_and_retried() {
        let mut f = follower(vec![sa(PEER, 0x1004), sa(PEER2, 0x1005)]);
        f.host.refuse.insert((PEER, 0x1004), 16);
        let e = f.resync(&Hints::default(), None).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            log(&mut f),
            "validate 198.51.100.7 spi 0x00001005 (no record)\n\
             validate 203.0.113.3 spi 0x00001004 (no record) failed: \
             Device or resource busy (errno 16): queue full\n"
        );
        assert!(f.resync(&Hints::default(), None).is_err());
        assert_eq!(log(&mut f), "");
        f.host.refuse.clear();
        f.resync(&Hints::default(), None).unwrap();
        assert_eq!(
            log(&mut f),
            "validate 203.0.113.3 spi 0x00001004 (no record)\n"
        );
        assert_eq!(f.mine.len(), 2);
    }

    #[test]
    fn other_troubles() {
        let mut f = follower(vec![]);
        f.host.view = Some(HostView::default());
        let e = f.resync(&Hints::default(), None).unwrap_err();
        assert!(matches!(e, Error::Kernel { errno: 107, .. }));
        f.host.view = Some(view(vec![]));
        f.xfrm = FakeXfrm(Err(1));
        assert!(f.resync(&Hints::default(), None).is_err());
        assert!(f.resync(&Hints::default(), None).is_err());
        f.xfrm = FakeXfrm(Ok(vec![]));
        f.resync(&Hints::default(), None).unwrap();
        assert_eq!(
            log(&mut f),
            "host module has no public address, retrying in 5 s\n\
             XFRM dump failed: dumping the XFRM states: Operation not permitted (errno 1), \
             retrying in 5 s\n\
             resynchronised again\n"
        );
    }

    #[test]
    fn dry_run_spec() {
        let d = DryRun::parse("203.0.113.30,0x1000-0x10ff,8192-8207").unwrap();
        assert_eq!(d.view.public, Some(PUBLIC));
        assert_eq!(d.view.spis, [(0x1000, 256), (0x2000, 16)]);
        assert_eq!(
            d.describe(),
            "(dry run: no host module; public 203.0.113.30, spis 0x1000-0x10ff,0x2000-0x200f)"
        );
        for bad in [
            "",
            "203.0.113",
            "203.0.113.30,5",
            "203.0.113.30,9-1",
            "1.2.3.4,0x-1",
        ] {
            assert!(DryRun::parse(bad).is_err(), "{bad}");
        }
        let mut d = DryRun::parse("203.0.113.30,0x1000-0x10ff").unwrap();
        d.send(Op::Validate, PEER, 0x1000).unwrap();
        assert_eq!(d.view().unwrap().records.len(), 1);
        d.send(Op::Invalidate, PEER, 0x1000).unwrap();
        assert!(d.view().unwrap().records.is_empty());
    }

    #[test]
    fn follow_arguments() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: FollowArgs,
        }
        let parse = |s: &str| {
            T::try_parse_from(std::iter::once("t").chain(s.split_whitespace())).map(|t| t.a)
        };
        let a = parse("").unwrap();
        assert_eq!((a.interval, a.once, a.dry_run), (5, false, None));
        let a = parse("--interval 1 --once").unwrap();
        assert_eq!((a.interval, a.once), (1, true));
        for bad in ["--interval 0", "--interval x", "--interval 86401", "extra"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
