// SPDX-License-Identifier: GPL-2.0

//! `dnatctl ca serve`: the CA's TCP service on the LAN (one request per
//! connection, [`super::wire`]), and its upkeep every 10 s.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::issue::{self, Policy, Refusal, Sweep, SweepReport};
use super::router::Router;
use super::store::{self, Ca, Counters};
use super::wire::{self, op, Code, FrameError};
use super::CaError;
use crate::log::{self, Level, Style};

/// Most connections served at once; more are answered "busy".
pub const MAX_ACTIVE: usize = 16;
/// Most connections from one source address served at once (each from
/// accept to close); more are answered "busy". A quarter of
/// [`MAX_ACTIVE`]: one host cannot take every slot, and a host's next
/// request may overlap the close of its previous connection.
pub const MAX_PER_SOURCE: usize = 4;
/// From accept to a complete request.
pub const REQUEST_DEADLINE: Duration = wire::TIMEOUT;
/// From accept to close: the request, the answer, and the wait for the
/// client's close. A client is cut off then, however it paces its bytes.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(8);
/// Refusals waiting to be written (by one thread); beyond, a refused
/// connection is closed without an answer (counted `dropped`).
const REFUSE_QUEUE: usize = 64;
/// The refusing thread's time for one connection: its answer and the wait
/// for its close.
const REFUSE_DEADLINE: Duration = Duration::from_millis(200);
/// Most bytes read and dropped after an answer while waiting for the
/// client's close.
const DRAIN_MAX: usize = 64 * 1024;
/// `stats.json` is written at most this often.
const SAVE_EVERY: Duration = Duration::from_secs(1);
/// The upkeep's period.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// How long a connection may take, from accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// To a complete request ([`REQUEST_DEADLINE`]); later, it is
    /// answered `malformed`.
    pub request: Duration,
    /// To close ([`CONNECTION_DEADLINE`]); later, it is closed whatever
    /// is left (counted `timed_out`).
    pub connection: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            request: REQUEST_DEADLINE,
            connection: CONNECTION_DEADLINE,
        }
    }
}

/// The service: the CA, the router, the counters.
pub struct Server {
    pub ca: Ca,
    pub router: Box<dyn Router>,
    pub policy: Policy,
    deadlines: Deadlines,
    counters: Mutex<Stats>,
    active: AtomicUsize,
    /// Connections being served, by source address.
    per_source: Mutex<HashMap<Ipv4Addr, usize>>,
    /// Log one line per request and sweep action to stderr, in this
    /// style; `None`: no log.
    pub log: Option<Style>,
}

/// The counters, and when they were last written.
#[derive(Default)]
struct Stats {
    counters: Counters,
    /// Changed since written.
    dirty: bool,
    saved: Option<Instant>,
}

/// A connection being served: its place in the limits (in all and of its
/// source), held from accept to close and given back when dropped.
struct Slot {
    server: Arc<Server>,
    peer: Ipv4Addr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.server.per_source.lock() {
            if let Some(n) = m.get_mut(&self.peer) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.peer);
                }
            }
        }
        self.server.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection refused at accept time, for the refusing thread.
struct Refused {
    stream: TcpStream,
    peer: Ipv4Addr,
    refusal: Refusal,
}

/// One response: status, payload, and what to log.
struct Answer {
    code: Code,
    payload: Vec<u8>,
    log: String,
}

impl Answer {
    /// Served: info; refused: warning.
    fn level(&self) -> Level {
        if self.code == Code::Ok {
            Level::Info
        } else {
            Level::Warning
        }
    }

    fn refused(what: &str, r: Refusal) -> Self {
        Self {
            log: format!("{what} refused ({}): {}", r.code, r.message),
            code: r.code,
            payload: r.message.into_bytes(),
        }
    }
}

/// The counter of an answer to `op`.
fn counter_name(op: u8, code: Code) -> String {
    match (code, op) {
        (Code::Ok, op::ISSUE) => "issued".into(),
        (Code::Ok, op::GET_CRL) => "crl_sent".into(),
        (Code::Ok, _) => "ca_sent".into(),
        (c, _) => format!("refused_{c}"),
    }
}

impl Server {
    /// The service of `ca` with `router`, its connections limited by
    /// `deadlines` ([`Deadlines::default`] but in tests); the counters go
    /// on from `stats.json`.
    pub fn new(
        ca: Ca,
        router: Box<dyn Router>,
        policy: Policy,
        deadlines: Deadlines,
    ) -> Result<Self, CaError> {
        let counters = ca.counters()?;
        Ok(Self {
            ca,
            router,
            policy,
            deadlines,
            counters: Mutex::new(Stats {
                counters,
                ..Stats::default()
            }),
            active: AtomicUsize::new(0),
            per_source: Mutex::new(HashMap::new()),
            log: None,
        })
    }

    fn log(&self, level: Level, line: &str) {
        if let Some(style) = self.log {
            eprintln!("{}", log::line(style, level, &format!("ca: {line}")));
        }
    }

    /// The counters now.
    #[cfg(test)]
    pub fn counters(&self) -> Counters {
        self.counters
            .lock()
            .map(|c| c.counters.clone())
            .unwrap_or_default()
    }

    /// Counts `names`; `stats.json` is written if it was not within
    /// [`SAVE_EVERY`] (else by [`Self::save_counters`] later).
    fn count(&self, names: &[String]) {
        let Ok(mut c) = self.counters.lock() else {
            return;
        };
        for n in names {
            *c.counters.entry(n.clone()).or_insert(0) += 1;
        }
        c.dirty = true;
        drop(c);
        self.save_counters(false);
    }

    /// Writes `stats.json` if the counters changed since, and (unless
    /// `force`) it was not written within [`SAVE_EVERY`].
    fn save_counters(&self, force: bool) {
        let Ok(mut c) = self.counters.lock() else {
            return;
        };
        let due = force || c.saved.is_none_or(|t| t.elapsed() >= SAVE_EVERY);
        if !c.dirty || !due {
            return;
        }
        c.dirty = false;
        c.saved = Some(Instant::now());
        if let Err(e) = self.ca.save_counters(&c.counters) {
            self.log(Level::Error, &format!("{e}"));
        }
    }

    /// The upkeep ([`issue::sweep`]), logged and counted.
    pub fn sweep(&self, what: Sweep) -> SweepReport {
        let now = store::now();
        let report = match issue::sweep(&self.ca, self.router.as_ref(), what, now) {
            Ok(r) => r,
            Err(e) => SweepReport {
                errors: vec![e.to_string()],
                ..SweepReport::default()
            },
        };
        let mut names = Vec::new();
        for (serial, reason) in &report.revoked {
            self.log(
                Level::Notice,
                &format!("revoked certificate {serial} ({})", reason.name()),
            );
            names.push(format!("revoked_{}", reason.name().replace('-', "_")));
        }
        for (host, block) in &report.unpinned {
            self.log(
                Level::Notice,
                &format!("unpinned {block} of host {host}: no valid certificate names it"),
            );
        }
        for e in &report.errors {
            self.log(Level::Error, e);
        }
        if !names.is_empty() {
            self.count(&names);
        }
        report
    }

    /// The answer to `op` with `payload` from `peer`.
    fn answer(&self, peer: Ipv4Addr, opcode: u8, payload: &[u8]) -> Answer {
        let what = match opcode {
            op::ISSUE => "issue",
            op::GET_CRL => "crl",
            op::GET_CA => "ca",
            _ => {
                return Answer::refused(
                    "request",
                    Refusal::new(Code::UnknownOp, format!("unknown op {opcode}")),
                )
            }
        };
        if opcode != op::ISSUE && !payload.is_empty() {
            return Answer::refused(
                what,
                Refusal::new(Code::Malformed, format!("op {opcode} takes no payload")),
            );
        }
        // Hosts the administrator revoked lose their certificates before
        // anything is issued or the CRL is sent.
        self.sweep(Sweep::default());
        match opcode {
            op::ISSUE => {
                let now = store::now();
                match issue::issue(
                    &self.ca,
                    self.router.as_ref(),
                    peer,
                    payload,
                    &self.policy,
                    now,
                ) {
                    Ok(c) => {
                        let blocks: Vec<String> =
                            c.issued.blocks.iter().map(|b| b.to_string()).collect();
                        for serial in &c.superseded {
                            self.log(
                                Level::Notice,
                                &format!("revoked certificate {serial} (superseded)"),
                            );
                        }
                        if !c.superseded.is_empty() {
                            self.count(&vec!["revoked_superseded".into(); c.superseded.len()]);
                        }
                        Answer {
                            code: Code::Ok,
                            log: format!(
                                "issue: serial {} {} until {}",
                                c.issued.serial,
                                blocks.join(", "),
                                store::rfc3339(c.issued.not_after)
                            ),
                            payload: c.der,
                        }
                    }
                    Err(r) => Answer::refused(what, r),
                }
            }
            op::GET_CRL => match self.ca.crl_der() {
                Ok(der) => Answer {
                    code: Code::Ok,
                    payload: der,
                    log: "crl sent".into(),
                },
                Err(e) => Answer::refused(what, Refusal::new(Code::Internal, e.to_string())),
            },
            _ => Answer {
                code: Code::Ok,
                payload: self.ca.cert_der.clone(),
                log: "ca certificate sent".into(),
            },
        }
    }

    /// Serves one admitted connection, accepted at `accepted`: reads a
    /// request, answers it, counts it, closes, all within the
    /// [`Deadlines`]. The slot is given back once the connection is
    /// closed.
    fn handle(&self, stream: TcpStream, slot: Slot, accepted: Instant) {
        let peer = slot.peer;
        let request = self.deadlines.request.min(self.deadlines.connection);
        let mut conn = Timed {
            stream: &stream,
            until: accepted + request,
            got: 0,
        };
        let (opcode, answer) = match wire::read_frame(&mut conn, wire::MAX_REQUEST) {
            Ok((opcode, payload)) => (opcode, self.answer(peer, opcode, &payload)),
            Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof && conn.got == 0 => {
                // Connected and closed without a byte: nothing to answer.
                return;
            }
            Err(FrameError::Io(e)) if timed_out(&e) => (
                0,
                Answer::refused(
                    "request",
                    Refusal::new(
                        Code::Malformed,
                        format!("no complete message within {} s", request.as_secs_f64()),
                    ),
                ),
            ),
            Err(e) => (
                0,
                Answer::refused("request", Refusal::new(Code::Malformed, e.to_string())),
            ),
        };
        self.log(answer.level(), &format!("{peer} {}", answer.log));
        self.count(&[counter_name(opcode, answer.code)]);
        conn.until = accepted + self.deadlines.connection;
        let cut_off = match wire::write_frame(&mut conn, answer.code as u8, &answer.payload) {
            Ok(()) => finish(&stream, conn.until),
            Err(e) => timed_out(&e),
        };
        drop(stream);
        if cut_off {
            self.log(
                Level::Warning,
                &format!(
                    "{peer} cut off: {} s since accept",
                    self.deadlines.connection.as_secs_f64()
                ),
            );
            self.count(&["timed_out".into()]);
        }
        drop(slot);
    }

    /// Admits a connection from `peer` (before a byte of it is read):
    /// a LAN host, from a privileged port, with fewer than
    /// [`MAX_PER_SOURCE`] connections open, and fewer than [`MAX_ACTIVE`]
    /// in all.
    fn admit(self: &Arc<Self>, peer: Ipv4Addr, port: u16) -> Result<Slot, Refusal> {
        issue::check_lan(self.router.as_ref(), peer)?;
        if port >= wire::FIRST_UNPRIVILEGED {
            return Err(Refusal::new(
                Code::UnprivilegedPort,
                format!(
                    "source port {port} is not privileged: only root (or \
                     CAP_NET_BIND_SERVICE) on {peer} may ask, from a port below 1024"
                ),
            ));
        }
        let mut m = self
            .per_source
            .lock()
            .map_err(|_| Refusal::new(Code::Internal, "poisoned lock"))?;
        let n = m.entry(peer).or_insert(0);
        if *n >= MAX_PER_SOURCE {
            if *n == 0 {
                m.remove(&peer);
            }
            return Err(Refusal::new(
                Code::Busy,
                format!("too many requests from {peer} at once; try again"),
            ));
        }
        if self.active.fetch_add(1, Ordering::AcqRel) >= MAX_ACTIVE {
            self.active.fetch_sub(1, Ordering::AcqRel);
            if *n == 0 {
                m.remove(&peer);
            }
            return Err(Refusal::new(
                Code::Busy,
                "too many requests at once; try again",
            ));
        }
        *n += 1;
        Ok(Slot {
            server: Arc::clone(self),
            peer,
        })
    }

    /// Accepts connections on `listener` until `stop` is set (and a
    /// connection wakes the loop). Each admitted connection ([`Self::admit`])
    /// is served in its own thread; refused ones are answered by one
    /// refusing thread, so the loop never waits on a client.
    pub fn serve(self: &Arc<Self>, listener: &TcpListener, stop: &AtomicBool) {
        let (tx, rx) = mpsc::sync_channel::<Refused>(REFUSE_QUEUE);
        let me = Arc::clone(self);
        let refuser = thread::Builder::new()
            .name("ca-refuse".into())
            .spawn(move || {
                for r in rx {
                    me.refuse(r);
                }
            })
            .ok();
        for conn in listener.incoming() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let Ok(stream) = conn else {
                continue;
            };
            let accepted = Instant::now();
            let (peer, port) = match stream.peer_addr() {
                Ok(SocketAddr::V4(a)) => (*a.ip(), a.port()),
                Ok(SocketAddr::V6(a)) => match a.ip().to_ipv4_mapped() {
                    Some(v4) => (v4, a.port()),
                    None => continue,
                },
                Err(_) => continue,
            };
            match self.admit(peer, port) {
                Ok(slot) => {
                    let _ = thread::Builder::new()
                        .name("ca-conn".into())
                        .spawn(move || {
                            let server = Arc::clone(&slot.server);
                            server.handle(stream, slot, accepted);
                        });
                }
                Err(refusal) => self.queue_refusal(
                    &tx,
                    Refused {
                        stream,
                        peer,
                        refusal,
                    },
                ),
            }
        }
        drop(tx);
        if let Some(h) = refuser {
            let _ = h.join();
        }
        self.save_counters(true);
    }

    fn queue_refusal(&self, tx: &SyncSender<Refused>, r: Refused) {
        if let Err(mpsc::TrySendError::Full(r) | mpsc::TrySendError::Disconnected(r)) =
            tx.try_send(r)
        {
            self.log(
                Level::Warning,
                &format!("{} closed: too many refusals queued", r.peer),
            );
            self.count(&["dropped".into()]);
        }
    }

    /// Answers a connection refused at accept time (without reading its
    /// request), counts it, closes it, within [`REFUSE_DEADLINE`].
    fn refuse(&self, r: Refused) {
        let Refused {
            stream,
            peer,
            refusal,
        } = r;
        let answer = Answer::refused("request", refusal);
        self.log(answer.level(), &format!("{peer} {}", answer.log));
        self.count(&[counter_name(0, answer.code)]);
        let mut conn = Timed {
            stream: &stream,
            until: Instant::now() + REFUSE_DEADLINE,
            got: 0,
        };
        if wire::write_frame(&mut conn, answer.code as u8, &answer.payload).is_ok() {
            finish(&stream, conn.until);
        }
    }

    /// The upkeep every [`SWEEP_EVERY`] until `stop` is set.
    pub fn sweep_loop(&self, stop: &AtomicBool) {
        let step = Duration::from_millis(250);
        let mut next = Instant::now() + SWEEP_EVERY;
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(step);
            if Instant::now() >= next {
                self.sweep(Sweep {
                    blocks: true,
                    repin_all: false,
                });
                next = Instant::now() + SWEEP_EVERY;
            }
            self.save_counters(false);
        }
    }
}

/// A stream whose reads and writes end at a deadline: each waits at most
/// the time left (its socket timeout set to that first), none is tried
/// once it has passed. A peer cannot stretch a connection past it,
/// however it paces its bytes.
struct Timed<'a> {
    stream: &'a TcpStream,
    until: Instant,
    /// Bytes read so far.
    got: usize,
}

impl Timed<'_> {
    /// The time left, or a time-out error if none is.
    fn left(&self) -> io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            Ok(left)
        }
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        let mut s = self.stream;
        let n = s.read(buf)?;
        self.got += n;
        Ok(n)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        let mut s = self.stream;
        s.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether `e` is a socket time-out (`EAGAIN` on Linux) or a passed
/// deadline.
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Closes a connection after the answer: no more writes, then what the
/// client still sends is read and dropped until it closes, [`DRAIN_MAX`]
/// bytes came, or `until` (a close with unread bytes would reset the
/// connection and could lose the answer). Whether `until` ended it.
fn finish(stream: &TcpStream, until: Instant) -> bool {
    let _ = stream.shutdown(Shutdown::Write);
    let mut conn = Timed {
        stream,
        until,
        got: 0,
    };
    let mut sink = [0u8; 4096];
    while conn.got < DRAIN_MAX {
        match conn.read(&mut sink) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return timed_out(&e),
        }
    }
    false
}

/// `ca serve`: binds `listen`, puts back the pins, then serves and keeps
/// up the certificates until the process ends. `ready` is told the bound
/// address.
pub fn run(
    server: Server,
    listen: std::net::SocketAddrV4,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), CaError> {
    let listener = TcpListener::bind(listen).map_err(|err| CaError::Io {
        what: format!("listening on {listen}"),
        err,
    })?;
    let local = listener.local_addr().map_err(|err| CaError::Io {
        what: "reading the listening address".into(),
        err,
    })?;
    let server = Arc::new(server);
    server.sweep(Sweep {
        blocks: true,
        repin_all: true,
    });
    ready(local);
    let stop = Arc::new(AtomicBool::new(false));
    let (s2, stop2) = (Arc::clone(&server), Arc::clone(&stop));
    thread::Builder::new()
        .name("ca-sweep".into())
        .spawn(move || s2.sweep_loop(&stop2))
        .map_err(|err| CaError::Io {
            what: "starting the upkeep thread".into(),
            err,
        })?;
    server.serve(&listener, &stop);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::client;
    use crate::ca::issue::tests::{csr, p256, ports, setup, spis};
    use crate::ca::router::fake::FakeRouter;
    use std::net::SocketAddrV4;

    /// A running server: its state directory, itself, its address, its
    /// stop flag and its accepting thread.
    type Running = (
        crate::ca::store::tests::TempDir,
        Arc<Server>,
        SocketAddrV4,
        Arc<AtomicBool>,
        thread::JoinHandle<()>,
    );

    /// A server on 127.0.0.1 (port chosen by the kernel) whose LAN is
    /// 127.0.0.0/8 (or `lan`), where 127.0.0.1 holds the blocks of
    /// `setup`'s H1.
    fn start(tag: &str, lan: &str) -> Running {
        start_with(tag, lan, Deadlines::default())
    }

    /// [`start`] with `deadlines`.
    fn start_with(tag: &str, lan: &str, deadlines: Deadlines) -> Running {
        let (t, _, _) = setup(tag);
        let ca = Ca::open(t.path()).unwrap();
        let r = FakeRouter::new(lan);
        let me = Ipv4Addr::LOCALHOST;
        r.hold(me, ports(40000, 40063), Some(3600));
        r.hold(me, spis(0x1000, 0x10ff), None);
        r.hold(Ipv4Addr::new(127, 0, 0, 2), ports(40064, 40127), None);
        let server = Arc::new(Server::new(ca, Box::new(r), Policy::default(), deadlines).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let SocketAddr::V4(addr) = listener.local_addr().unwrap() else {
            unreachable!()
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, stop2) = (Arc::clone(&server), Arc::clone(&stop));
        let h = thread::spawn(move || s2.serve(&listener, &stop2));
        (t, server, addr, stop, h)
    }

    fn stop(addr: SocketAddrV4, stop: &AtomicBool, h: thread::JoinHandle<()>) {
        stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(addr);
        h.join().unwrap();
    }

    /// Whether this process may bind privileged ports (the CA answers
    /// only those). Tests run as root; elsewhere their network part is
    /// skipped, with a note.
    pub fn privileged(test: &str) -> bool {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        for port in wire::CLIENT_PORTS {
            match s.bind(&SocketAddrV4::new(Ipv4Addr::LOCALHOST, port).into()) {
                Ok(()) => return true,
                Err(e) if client::is_denied(&e) => {
                    eprintln!(
                        "{test}: skipped: binding a port below 1024 is not allowed here (not root)"
                    );
                    return false;
                }
                Err(_) => continue,
            }
        }
        true
    }

    fn raw(addr: SocketAddrV4, bytes: &[u8]) -> (u8, Vec<u8>) {
        let mut s = client::connect(addr, Ipv4Addr::LOCALHOST).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(bytes).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        wire::read_frame(&mut s, wire::MAX_RESPONSE).unwrap()
    }

    #[test]
    fn end_to_end_over_tcp() {
        if !privileged("end_to_end_over_tcp") {
            return;
        }
        let (t, server, addr, flag, h) = start("tcp", "127.0.0.0/8");
        // The client's source port is privileged.
        let s = client::connect(addr, Ipv4Addr::LOCALHOST).unwrap();
        assert!(wire::CLIENT_PORTS.contains(&s.local_addr().unwrap().port()));
        drop(s);
        // The CA certificate and the empty CRL.
        let ca_der = client::exchange(addr, op::GET_CA, b"").unwrap();
        assert_eq!(ca_der, server.ca.cert_der);
        let crl = client::exchange(addr, op::GET_CRL, b"").unwrap();
        assert_eq!(crl, server.ca.crl_der().unwrap());
        // Issue for a claim.
        let key = p256();
        let der = client::exchange(
            addr,
            op::ISSUE,
            &csr(&key, Some(&[ports(40000, 40015)]), &[]),
        )
        .unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(
            x.subject().to_string(),
            "CN=dnat host 127.0.0.1, OU=ports 40000-40015"
        );
        // A claim of another host's ports: refused, nothing issued.
        let e = client::exchange(
            addr,
            op::ISSUE,
            &csr(&key, Some(&[ports(40064, 40065)]), &[]),
        )
        .unwrap_err();
        match &e {
            CaError::CaRefused { code, message } => {
                assert_eq!(*code, Code::BlocksNotHeld as u8);
                assert_eq!(message, "host 127.0.0.1 does not hold ports 40064-40065");
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(e.exit_code(), 1);
        // Malformed and corrupted CSRs.
        let e = client::exchange(addr, op::ISSUE, b"not a csr").unwrap_err();
        assert!(matches!(e, CaError::CaRefused { code: 1, .. }), "{e:?}");
        let mut bad = csr(&key, None, &[]);
        let n = bad.len();
        bad[n - 1] ^= 0x80;
        let e = client::exchange(addr, op::ISSUE, &bad).unwrap_err();
        assert!(matches!(e, CaError::CaRefused { code: 3, .. }), "{e:?}");
        // Bad frames: unknown op, payload for op 2, reserved bytes, too
        // long (answered without reading the payload), cut short.
        assert_eq!(raw(addr, &wire::encode(9, b"")).0, Code::UnknownOp as u8);
        assert_eq!(
            raw(addr, &wire::encode(op::GET_CRL, b"x")).0,
            Code::Malformed as u8
        );
        assert_eq!(
            raw(addr, &[3, 0, 0, 1, 0, 0, 0, 0]).0,
            Code::Malformed as u8
        );
        let mut big = wire::encode(op::ISSUE, &vec![0x30; 20000]);
        big[4..8].copy_from_slice(&20000u32.to_be_bytes());
        let (code, text) = raw(addr, &big);
        assert_eq!(code, Code::Malformed as u8);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "length 20000 above the limit of 16384 bytes"
        );
        let (code, text) = raw(addr, &[1, 0, 0, 0, 0, 0, 0, 9, 1]);
        assert_eq!(code, Code::Malformed as u8);
        assert!(String::from_utf8_lossy(&text).contains("closed in the middle"));
        // Counted, and written to stats.json.
        let c = server.counters();
        assert_eq!(c.get("issued"), Some(&1));
        assert_eq!(c.get("ca_sent"), Some(&1));
        assert_eq!(c.get("crl_sent"), Some(&1));
        assert_eq!(c.get("refused_blocks_not_held"), Some(&1));
        assert_eq!(c.get("refused_malformed"), Some(&5));
        assert_eq!(c.get("refused_bad_signature"), Some(&1));
        assert_eq!(c.get("refused_unknown_op"), Some(&1));
        stop(addr, &flag, h);
        let on_disk: Counters =
            serde_json::from_slice(&std::fs::read(t.path().join(store::STATS)).unwrap()).unwrap();
        assert_eq!(on_disk, server.counters());
    }

    #[test]
    fn cert_request_and_crl_clients() {
        if !privileged("cert_request_and_crl_clients") {
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let (t, server, addr, flag, h) = start("client", "127.0.0.0/8");
        let out = t.path().join("host");
        // No claim (and no dnat_host module here): every held block.
        let g = client::request(addr, &out, None, None).unwrap();
        assert_eq!(g.serial, "1");
        assert!(g.new_key);
        assert_eq!(
            g.subject,
            "CN=dnat host 127.0.0.1, OU=ports 40000-40063, spis 0x1000-0x10ff"
        );
        assert_eq!(g.public, vec!["203.0.113.30".to_string()]);
        assert_eq!(g.blocks, vec![ports(40000, 40063), spis(0x1000, 0x10ff)]);
        let mode = |f: &str| std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("key.pem"), 0o600);
        assert_eq!(mode(""), 0o700);
        let key = std::fs::read(out.join("key.pem")).unwrap();
        assert!(key.starts_with(b"-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(
            std::fs::read_to_string(out.join("ca.pem")).unwrap(),
            store::to_pem("CERTIFICATE", &server.ca.cert_der)
        );
        // Again with a claim: the same key, the next serial.
        let g = client::request(addr, &out, Some(vec![spis(0x1000, 0x100f)]), None).unwrap();
        assert_eq!((g.serial.as_str(), g.new_key), ("2", false));
        assert_eq!(std::fs::read(out.join("key.pem")).unwrap(), key);
        assert_eq!(g.blocks, vec![spis(0x1000, 0x100f)]);
        // A raw CSR from a file.
        let raw = t.path().join("raw.der");
        std::fs::write(&raw, b"\x30\x03\x02\x01\x00").unwrap();
        let e = client::request(addr, &out, None, Some(&raw)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("refused by the CA (malformed): not a DER PKCS#10"),
            "{e}"
        );
        // Revoked: the CRL says so.
        let (c, _) = issue::revoke(&server.ca, server.router.as_ref(), 1, store::now()).unwrap();
        assert!(c.is_some());
        let crl = client::crl(addr, &t.path().join("crl.pem")).unwrap();
        assert_eq!(crl.revoked, vec!["1".to_string()]);
        // Init (at T0, long ago: the upkeep renewed that stale CRL at the
        // first request), then the revocation.
        assert_eq!(crl.crl_number.as_deref(), Some("3"));
        assert!(client::render_crl(&crl).contains("revoked: 1\n"));
        let pem = std::fs::read_to_string(t.path().join("crl.pem")).unwrap();
        assert!(pem.starts_with("-----BEGIN X509 CRL-----"));
        let info = client::crl(addr, &t.path().join("crl.der")).unwrap();
        assert_eq!(info.revoked, vec!["1".to_string()]);
        stop(addr, &flag, h);
    }

    #[test]
    fn slow_client_times_out() {
        if !privileged("slow_client_times_out") {
            return;
        }
        let (_t, server, addr, flag, h) = start("slow", "127.0.0.0/8");
        let mut s = client::connect(addr, Ipv4Addr::LOCALHOST).unwrap();
        s.write_all(&[op::GET_CA, 0, 0]).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let t0 = Instant::now();
        let (code, text) = wire::read_frame(&mut s, wire::MAX_RESPONSE).unwrap();
        assert!(t0.elapsed() >= Duration::from_secs(4), "{:?}", t0.elapsed());
        assert_eq!(code, Code::Malformed as u8);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "no complete message within 5 s"
        );
        assert_eq!(server.counters().get("refused_malformed"), Some(&1));
        stop(addr, &flag, h);
    }

    /// A connection to `addr` from `from` (port chosen by the kernel).
    fn connect_from(from: Ipv4Addr, addr: SocketAddrV4) -> TcpStream {
        client::connect(addr, from).unwrap()
    }

    #[test]
    fn busy_beyond_the_limit() {
        if !privileged("busy_beyond_the_limit") {
            return;
        }
        let (_t, server, addr, flag, h) = start("busy", "127.0.0.0/8");
        // MAX_PER_SOURCE slow clients of 127.0.0.2 hold its share: one
        // more from there is busy at once, while others are served.
        let two: Vec<TcpStream> = (0..MAX_PER_SOURCE)
            .map(|_| {
                let mut s = connect_from(Ipv4Addr::new(127, 0, 0, 2), addr);
                s.write_all(&[op::GET_CA]).unwrap();
                s
            })
            .collect();
        let t0 = Instant::now();
        while server.active.load(Ordering::Acquire) < MAX_PER_SOURCE {
            assert!(t0.elapsed() < Duration::from_secs(3));
            thread::sleep(Duration::from_millis(10));
        }
        let mut third = connect_from(Ipv4Addr::new(127, 0, 0, 2), addr);
        third
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        // It sends nothing and does not close: answered all the same.
        let (code, text) = wire::read_frame(&mut third, wire::MAX_RESPONSE).unwrap();
        assert_eq!(code, Code::Busy as u8);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "too many requests from 127.0.0.2 at once; try again"
        );
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        assert_eq!(
            client::exchange(addr, op::GET_CA, b"").unwrap(),
            server.ca.cert_der
        );
        drop(two);
        drop(third);
        // MAX_ACTIVE slow clients (of as many addresses) hold every slot
        // (until their request's 5 s end).
        let t0 = Instant::now();
        while server.active.load(Ordering::Acquire) > 0 {
            assert!(t0.elapsed() < Duration::from_secs(8));
            thread::sleep(Duration::from_millis(10));
        }
        let slow: Vec<TcpStream> = (0..MAX_ACTIVE)
            .map(|i| {
                let mut s = connect_from(Ipv4Addr::new(127, 0, 1, i as u8 + 1), addr);
                s.write_all(&[op::GET_CA]).unwrap();
                s
            })
            .collect();
        let t0 = Instant::now();
        while server.active.load(Ordering::Acquire) < MAX_ACTIVE {
            assert!(t0.elapsed() < Duration::from_secs(3));
            thread::sleep(Duration::from_millis(10));
        }
        let e = client::exchange(addr, op::GET_CA, b"").unwrap_err();
        assert!(matches!(e, CaError::CaRefused { code: 10, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "refused by the CA (busy): too many requests at once; try again"
        );
        assert_eq!(server.counters().get("refused_busy"), Some(&2));
        drop(slow);
        stop(addr, &flag, h);
    }

    #[test]
    fn unprivileged_source_port() {
        // Needs no privilege: a plain connect() has a port above 1023.
        let (_t, server, addr, flag, h) = start("port", "127.0.0.0/8");
        let mut s = TcpStream::connect(addr).unwrap();
        let port = s.local_addr().unwrap().port();
        assert!(port >= 1024);
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // Answered before it sends anything.
        let (code, text) = wire::read_frame(&mut s, wire::MAX_RESPONSE).unwrap();
        assert_eq!(code, Code::UnprivilegedPort as u8);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            format!(
                "source port {port} is not privileged: only root (or \
                 CAP_NET_BIND_SERVICE) on 127.0.0.1 may ask, from a port below 1024"
            )
        );
        drop(s);
        let t0 = Instant::now();
        while server.counters().get("refused_unprivileged_port") != Some(&1) {
            assert!(t0.elapsed() < Duration::from_secs(3));
            thread::sleep(Duration::from_millis(10));
        }
        assert!(server.ca.lock().unwrap().index().unwrap().certs.is_empty());
        stop(addr, &flag, h);
    }

    #[test]
    fn requester_outside_the_lan() {
        if !privileged("requester_outside_the_lan") {
            return;
        }
        let (_t, server, addr, flag, h) = start("lan", "10.0.0.0/24");
        for opcode in [op::ISSUE, op::GET_CRL, op::GET_CA] {
            let payload = if opcode == op::ISSUE {
                csr(&p256(), None, &[])
            } else {
                vec![]
            };
            match client::exchange(addr, opcode, &payload) {
                Err(CaError::CaRefused { code, message }) => {
                    assert_eq!(code, Code::NotLanHost as u8);
                    assert_eq!(message, "127.0.0.1 is not on the LAN (10.0.0.0/24)");
                }
                r => panic!("{r:?}"),
            }
        }
        assert_eq!(server.counters().get("refused_not_lan_host"), Some(&3));
        let index = server.ca.lock().unwrap().index().unwrap();
        assert!(index.certs.is_empty());
        stop(addr, &flag, h);
    }

    /// Waits (at most `within` after `t0`) until no connection is served;
    /// when that was, after `t0`.
    fn all_closed(server: &Server, t0: Instant, within: Duration) -> Duration {
        loop {
            let t = t0.elapsed();
            if server.active.load(Ordering::Acquire) == 0 {
                return t;
            }
            assert!(t < within, "a connection is still served after {t:?}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// One request from `from`: the status and payload of the answer.
    fn exchange_from(from: Ipv4Addr, addr: SocketAddrV4, opcode: u8) -> (u8, Vec<u8>) {
        let mut s = connect_from(from, addr);
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        wire::write_frame(&mut s, opcode, b"").unwrap();
        wire::read_frame(&mut s, wire::MAX_RESPONSE).unwrap()
    }

    #[test]
    fn slow_drip_cut_off_at_the_deadline() {
        if !privileged("slow_drip_cut_off_at_the_deadline") {
            return;
        }
        let deadlines = Deadlines {
            request: Duration::from_secs(1),
            connection: Duration::from_secs(2),
        };
        let (_t, server, addr, flag, h) = start_with("drip", "127.0.0.0/8", deadlines);
        let mut s = connect_from(Ipv4Addr::LOCALHOST, addr);
        let t0 = Instant::now();
        // One byte every 300 ms, of an issue request of 16384 bytes (over
        // an hour at that pace), for as long as the connection takes them:
        // when the first write fails, after t0.
        let mut w = s.try_clone().unwrap();
        let dripper = thread::spawn(move || {
            let mut bytes = wire::encode(op::ISSUE, &[0x30; 16384]).into_iter();
            loop {
                let b = bytes.next().unwrap();
                if w.write_all(&[b]).is_err() {
                    return t0.elapsed();
                }
                assert!(t0.elapsed() < Duration::from_secs(10), "never cut off");
                thread::sleep(Duration::from_millis(300));
            }
        });
        // Answered at the request's deadline, cut off at the connection's.
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let (code, text) = wire::read_frame(&mut s, wire::MAX_RESPONSE).unwrap();
        assert!(
            t0.elapsed() >= Duration::from_millis(900),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(code, Code::Malformed as u8);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "no complete message within 1 s"
        );
        let closed = all_closed(&server, t0, Duration::from_secs(3));
        assert!(closed >= Duration::from_millis(1900), "{closed:?}");
        let refused = dripper.join().unwrap();
        assert!(refused < Duration::from_millis(3500), "{refused:?}");
        let c = server.counters();
        assert_eq!(c.get("refused_malformed"), Some(&1));
        assert_eq!(c.get("timed_out"), Some(&1));
        stop(addr, &flag, h);
    }

    #[test]
    fn per_source_limit_holds_to_the_close() {
        if !privileged("per_source_limit_holds_to_the_close") {
            return;
        }
        let deadlines = Deadlines {
            request: Duration::from_secs(1),
            connection: Duration::from_secs(3),
        };
        let (_t, server, addr, flag, h) = start_with("share", "127.0.0.0/8", deadlines);
        let me = Ipv4Addr::LOCALHOST;
        let t0 = Instant::now();
        // MAX_PER_SOURCE clients of 127.0.0.1 are answered and do not
        // close: they keep their share until their deadline.
        let held: Vec<TcpStream> = (0..MAX_PER_SOURCE)
            .map(|_| {
                let mut s = connect_from(me, addr);
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                wire::write_frame(&mut s, op::GET_CA, b"").unwrap();
                let (code, der) = wire::read_frame(&mut s, wire::MAX_RESPONSE).unwrap();
                assert_eq!((code, der), (Code::Ok as u8, server.ca.cert_der.clone()));
                s
            })
            .collect();
        assert_eq!(server.active.load(Ordering::Acquire), MAX_PER_SOURCE);
        // More from 127.0.0.1: busy and closed at once, unread.
        for _ in 0..2 {
            let mut extra = connect_from(me, addr);
            extra
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let (code, text) = wire::read_frame(&mut extra, wire::MAX_RESPONSE).unwrap();
            assert_eq!(code, Code::Busy as u8);
            assert_eq!(
                String::from_utf8(text).unwrap(),
                "too many requests from 127.0.0.1 at once; try again"
            );
            assert_eq!(extra.read(&mut [0u8; 1]).unwrap(), 0);
        }
        // Another address is served meanwhile.
        let (code, der) = exchange_from(Ipv4Addr::new(127, 0, 0, 2), addr, op::GET_CA);
        assert_eq!((code, der), (Code::Ok as u8, server.ca.cert_der.clone()));
        assert_eq!(server.counters().get("refused_busy"), Some(&2));
        // At the deadline the holders are cut off, and 127.0.0.1 is
        // served again.
        all_closed(&server, t0, Duration::from_millis(4500));
        assert_eq!(
            server.counters().get("timed_out"),
            Some(&(MAX_PER_SOURCE as u64))
        );
        let (code, _) = exchange_from(me, addr, op::GET_CA);
        assert_eq!(code, Code::Ok as u8);
        drop(held);
        stop(addr, &flag, h);
    }

    #[test]
    fn timed_write_ends_at_the_deadline() {
        // Needs no privilege: no server, a plain pair of sockets.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut peer, _) = l.accept().unwrap();
        // Small buffers, so that the kernel does not take it all at once.
        socket2::SockRef::from(&ours)
            .set_send_buffer_size(64 * 1024)
            .unwrap();
        socket2::SockRef::from(&peer)
            .set_recv_buffer_size(64 * 1024)
            .unwrap();
        // The peer reads 16 KiB every 20 ms: every write makes progress,
        // and the 16 MiB would take 20 s.
        let reader = thread::spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            let mut n = 0;
            loop {
                match peer.read(&mut buf) {
                    Ok(0) | Err(_) => return n,
                    Ok(k) => n += k,
                }
                thread::sleep(Duration::from_millis(20));
            }
        });
        let t0 = Instant::now();
        let mut w = Timed {
            stream: &ours,
            until: t0 + Duration::from_millis(500),
            got: 0,
        };
        let e = w.write_all(&vec![0u8; 16 << 20]).unwrap_err();
        let took = t0.elapsed();
        assert!(timed_out(&e), "{e:?}");
        assert!(took >= Duration::from_millis(490), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
        // Nothing is tried once the deadline passed.
        assert!(timed_out(&w.write(b"x").unwrap_err()));
        let mut r = Timed {
            stream: &ours,
            until: t0,
            got: 0,
        };
        assert!(timed_out(&r.read(&mut [0u8; 1]).unwrap_err()));
        drop(ours);
        let n = reader.join().unwrap();
        assert!(n > 0 && n < 16 << 20, "{n}");
    }
}
