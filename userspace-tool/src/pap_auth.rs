// SPDX-License-Identifier: GPL-2.0

//! Authentication for `dnatctl pap` (`dnat-core/src/pap_session.rs`): the
//! key file kept per (host address, router) and the transaction loop that
//! gets a key when it has none and seals every message.
//!
//! The key file is `DIR/HOST-ROUTER.key`, mode 0600 in a 0700 directory
//! (`DIR`: `$DNAT_PAP_KEYS`, default [`KEY_DIR`]), three lines
//! `key_id=N`, `key=32 hex digits`, `seq=N`; a run holds an exclusive
//! lock on `DIR/HOST-ROUTER.lock`, so that two runs never use one
//! sequence number.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dnat_core::pap_session::{Opened, Session};

use crate::pap_client::{match_message, pap_payload, Op, Outcome, TransactError, Transport};

/// Where keys are kept unless `$DNAT_PAP_KEYS` says otherwise.
pub const KEY_DIR: &str = "/var/lib/dnat/pap";

/// Key exchanges one transaction may go through (a new key, or the
/// router asking for one) before it gives up.
const MAX_KEY_EVENTS: usize = 4;

/// The key directory in use.
pub fn key_dir() -> PathBuf {
    std::env::var_os("DNAT_PAP_KEYS").map_or_else(|| PathBuf::from(KEY_DIR), PathBuf::from)
}

/// Whether `$DNAT_PAP_AUTH` turns authentication off (`off`), for a
/// router with `pap-auth optional`.
pub fn disabled() -> bool {
    std::env::var("DNAT_PAP_AUTH").is_ok_and(|v| v == "off")
}

/// The address this host sends to `router` from.
pub fn local_addr(router: Ipv4Addr) -> io::Result<Ipv4Addr> {
    let s = UdpSocket::bind("0.0.0.0:0")?;
    s.connect(SocketAddrV4::new(router, 9))?;
    match s.local_addr()? {
        std::net::SocketAddr::V4(a) => Ok(*a.ip()),
        std::net::SocketAddr::V6(_) => Err(io::Error::other("not an IPv4 address")),
    }
}

/// One host's key for one router, on disk, locked while it is used.
pub struct KeyFile {
    path: PathBuf,
    _lock: File,
}

fn bad(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

impl KeyFile {
    /// Opens (and locks) the key file of `host` for `router` in `dir`,
    /// creating `dir` (0700) if needed. It must not be a symbolic link.
    pub fn open(dir: &Path, host: Ipv4Addr, router: Ipv4Addr) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(bad(dir, "not a directory"));
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc_o_nofollow())
            .open(dir.join(format!("{host}-{router}.lock")))?;
        lock.lock()?;
        Ok(Self {
            path: dir.join(format!("{host}-{router}.key")),
            _lock: lock,
        })
    }

    /// The saved session, or a new one without a key.
    pub fn load(&self, host: Ipv4Addr) -> io::Result<Session> {
        let mut text = String::new();
        match OpenOptions::new()
            .read(true)
            .custom_flags(libc_o_nofollow())
            .open(&self.path)
        {
            Ok(mut f) => f.read_to_string(&mut text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Session::new(host)),
            Err(e) => return Err(e),
        };
        parse_key_file(&text, host).ok_or_else(|| bad(&self.path, "not a dnat PAP key file"))
    }

    /// Saves `s` (its key and last sequence number; nothing without a
    /// key): written to a temporary file (0600), then renamed.
    pub fn save(&self, s: &Session) -> io::Result<()> {
        let Some((id, key, seq)) = s.key() else {
            return match fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        };
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = self.path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(format!("key_id={id}\nkey={hex}\nseq={seq}\n").as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &self.path)
    }
}

const fn libc_o_nofollow() -> i32 {
    0o400000 // O_NOFOLLOW on Linux
}

/// A session from the text of a key file.
pub fn parse_key_file(text: &str, host: Ipv4Addr) -> Option<Session> {
    let (mut id, mut key, mut seq) = (None, None, None);
    for line in text.lines() {
        let (k, v) = line.split_once('=')?;
        match k {
            "key_id" => id = Some(v.parse::<u32>().ok().filter(|&i| i != 0)?),
            "key" => {
                if v.len() != 32 {
                    return None;
                }
                let mut b = [0u8; 16];
                for (i, o) in b.iter_mut().enumerate() {
                    *o = u8::from_str_radix(v.get(2 * i..2 * i + 2)?, 16).ok()?;
                }
                key = Some(b);
            }
            "seq" => seq = Some(v.parse::<u32>().ok()?),
            _ => return None,
        }
    }
    Some(Session::resume(host, id?, key?, seq?))
}

/// Twenty random bytes from `/dev/urandom`.
pub fn entropy() -> io::Result<[u8; 20]> {
    let mut b = [0u8; 20];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

/// A session and where it is saved (every time a sequence number is
/// spent or a key changes).
pub struct Keys<'a> {
    /// The session.
    pub session: Session,
    file: Option<&'a KeyFile>,
    /// The first error saving it.
    pub error: Option<io::Error>,
}

impl<'a> Keys<'a> {
    /// `session`, saved to `file` (`None`: not saved, for tests).
    pub fn new(session: Session, file: Option<&'a KeyFile>) -> Self {
        Self {
            session,
            file,
            error: None,
        }
    }

    fn save(&mut self) {
        if let Some(Err(e)) = self.file.map(|f| f.save(&self.session)) {
            self.error.get_or_insert(e);
        }
    }
}

/// [`crate::pap_client::transact`] with authentication: every
/// transmission of `msg` goes through the session of `keys` (sealed, or a
/// key request while there is no key); replies are opened by the session
/// and only authenticated ones are matched. A new key, or the router's
/// request for one, sends again at once (at most [`MAX_KEY_EVENTS`]
/// times).
pub fn transact<T: Transport>(
    t: &mut T,
    op: &Op,
    xid: u32,
    msg: &[u8],
    router: Ipv4Addr,
    waits: &[Duration],
    keys: &mut Keys<'_>,
) -> Result<Outcome, TransactError> {
    let io = |what: &'static str| move |err| TransactError::Io { what, err };
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut wire = [0u8; dnat_core::pap_auth::MAX_WIRE];
    let (mut i, mut key_events) = (0, 0);
    while let Some(wait) = waits.get(i) {
        let rand = entropy().map_err(io("reading /dev/urandom"))?;
        let n = keys
            .session
            .outgoing(msg, xid, 0, || rand, &mut wire)
            .map_err(|e| TransactError::Io {
                what: "sealing the PAP message",
                err: io::Error::other(e.to_string()),
            })?;
        // The sequence number is spent once sent: saved before.
        keys.save();
        t.send(&wire[..n]).map_err(io("sending the PAP message"))?;
        let deadline = Instant::now() + *wait;
        let mut again = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < Duration::from_millis(1) {
                break;
            }
            let got = match t.recv(&mut buf, left) {
                Ok(None) => break,
                Ok(Some(got)) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(TransactError::Io {
                        what: "receiving the reply",
                        err,
                    })
                }
            };
            let Some(payload) = pap_payload(router, &buf[..got.min(buf.len())]) else {
                continue;
            };
            match keys.session.incoming(payload, start.elapsed().as_secs()) {
                Opened::Message(m) => {
                    if let Some(o) = match_message(op, xid, m) {
                        return Ok(o);
                    }
                }
                Opened::KeyInstalled | Opened::Rekey if key_events < MAX_KEY_EVENTS => {
                    key_events += 1;
                    keys.save();
                    again = true;
                    break;
                }
                _ => {}
            }
        }
        if !again {
            i += 1;
        }
    }
    Err(TransactError::NoAnswer {
        transmissions: waits.len(),
        waited: waits.iter().sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnat_core::ipv4;
    use dnat_core::pap::{self, Direction, Message, PortBlock, PortClass, Reason, Trailer};
    use dnat_core::pap_auth::{parse, seal, Frame, MAX_WIRE};
    use dnat_core::pap_keys::{Admit, KeyTable, Mode};
    use std::collections::VecDeque;

    const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);

    /// A router that serves port requests from its key table: a grant of
    /// 20000+8 to sealed requests, `unauthenticated` to anything else.
    struct Router {
        keys: KeyTable<4>,
        rx: VecDeque<Vec<u8>>,
        sent: Vec<Vec<u8>>,
    }

    impl Router {
        fn reply(&mut self, payload: &[u8]) {
            let mut datagram = ipv4::build(ROUTER, HOST, 1, 64, payload.len())
                .unwrap()
                .to_vec();
            datagram.extend_from_slice(payload);
            self.rx.push_back(datagram);
        }
    }

    impl Transport for Router {
        fn send(&mut self, msg: &[u8]) -> io::Result<()> {
            self.sent.push(msg.to_vec());
            let mut out = [0u8; MAX_WIRE];
            let n = match parse(msg, Direction::ToRouter).unwrap() {
                Frame::KeyRequest(r) => self.keys.grant(HOST, &r, 9, 1, &mut out).unwrap().unwrap(),
                f @ (Frame::Plain(m) | Frame::Sealed(m, _)) => {
                    let xid = m.ext().unwrap().xid;
                    let ext = Some(Trailer {
                        xid,
                        epoch: 9,
                        lease: 0,
                    });
                    match self.keys.admit(Mode::Required, HOST, &f, msg, 1) {
                        Ok(Admit::Fresh(tag, key)) => {
                            let r = Message::PortResponse {
                                result: Ok(PortBlock {
                                    lowest: 20000,
                                    count: 8,
                                }),
                                ext,
                            };
                            let n = pap::encode(&r, &mut out).unwrap();
                            self.keys.accept(HOST, tag, 1);
                            seal(&mut out, n, &key, tag, Direction::ToHost, HOST).unwrap()
                        }
                        _ => {
                            let r = Message::PortResponse {
                                result: Err(Reason::Unauthenticated),
                                ext,
                            };
                            pap::encode(&r, &mut out).unwrap()
                        }
                    }
                }
                Frame::KeyGrant(..) => unreachable!(),
            };
            let reply = out[..n].to_vec();
            self.reply(&reply);
            Ok(())
        }

        fn recv(&mut self, buf: &mut [u8], _: Duration) -> io::Result<Option<usize>> {
            Ok(self.rx.pop_front().map(|d| {
                buf[..d.len()].copy_from_slice(&d);
                d.len()
            }))
        }
    }

    fn request(
        router: &mut Router,
        keys: &mut Keys<'_>,
        xid: u32,
    ) -> Result<Outcome, TransactError> {
        let op = Op::RequestPorts {
            class: PortClass::High,
            count: 8,
            lease: 0,
        };
        let msg = op.encode(xid).unwrap();
        let waits = [Duration::from_millis(5); 2];
        transact(router, &op, xid, &msg, ROUTER, &waits, keys)
    }

    #[test]
    fn gets_a_key_then_reuses_it_and_renews_it_when_refused() {
        let mut r = Router {
            keys: KeyTable::new([3; 16]),
            rx: VecDeque::new(),
            sent: vec![],
        };
        let mut keys = Keys::new(Session::new(HOST), None);
        let o = request(&mut r, &mut keys, 100).unwrap();
        assert!(matches!(o, Outcome::Ports { .. }), "{o:?}");
        // A key request, then the sealed request.
        assert_eq!(r.sent.len(), 2);
        assert_eq!(r.sent[0].len(), dnat_core::pap_auth::KEY_MSG_LEN);
        let (id, _, seq) = keys.session.key().unwrap();
        assert_eq!(seq, 1);
        // The next run goes straight to a sealed request.
        request(&mut r, &mut keys, 101).unwrap();
        assert_eq!(r.sent.len(), 3);
        assert_eq!(keys.session.key().map(|k| (k.0, k.2)), Some((id, 2)));
        // A router that restarted (new secret): refused, new key, served.
        r.keys = KeyTable::new([4; 16]);
        let o = request(&mut r, &mut keys, 102).unwrap();
        assert!(matches!(o, Outcome::Ports { .. }), "{o:?}");
        assert_eq!(r.sent.len(), 6);
        // A router that never answers: no answer, the same bytes each time.
        let mut keys = Keys::new(Session::resume(HOST, 77, [1; 16], 5), None);
        let op = Op::RequestPorts {
            class: PortClass::High,
            count: 8,
            lease: 0,
        };
        struct Deaf(Vec<Vec<u8>>);
        impl Transport for Deaf {
            fn send(&mut self, msg: &[u8]) -> io::Result<()> {
                self.0.push(msg.to_vec());
                Ok(())
            }
            fn recv(&mut self, _: &mut [u8], _: Duration) -> io::Result<Option<usize>> {
                Ok(None)
            }
        }
        let mut deaf = Deaf(vec![]);
        let msg = op.encode(5).unwrap();
        let e = transact(
            &mut deaf,
            &op,
            5,
            &msg,
            ROUTER,
            &[Duration::from_millis(2); 3],
            &mut keys,
        );
        assert!(matches!(e, Err(TransactError::NoAnswer { .. })));
        // Retransmissions keep their sequence number.
        assert_eq!(deaf.0.len(), 3);
        assert!(deaf.0.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(keys.session.key().map(|k| k.2), Some(6));
    }

    #[test]
    fn key_file_round_trip_and_mode() {
        let dir = std::env::temp_dir().join(format!("dnat-pap-keys-{}", std::process::id()));
        let f = KeyFile::open(&dir, HOST, Ipv4Addr::new(10, 0, 0, 7)).unwrap();
        let s = f.load(HOST).unwrap();
        assert!(s.key().is_none());
        let s = Session::resume(HOST, 42, [0xab; 16], 9);
        f.save(&s).unwrap();
        let back = f.load(HOST).unwrap();
        assert_eq!(back.key(), Some((42, [0xab; 16], 9)));
        let meta = fs::metadata(dir.join("10.0.0.1-10.0.0.7.key")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // Without a key the file goes.
        f.save(&Session::new(HOST)).unwrap();
        assert!(f.load(HOST).unwrap().key().is_none());
        drop(f);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_file_text() {
        let ok = "key_id=7\nkey=000102030405060708090a0b0c0d0e0f\nseq=3\n";
        let s = parse_key_file(ok, HOST).unwrap();
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(s.key(), Some((7, key, 3)));
        for bad in [
            "key_id=0\nkey=000102030405060708090a0b0c0d0e0f\nseq=3\n",
            "key_id=7\nkey=0001\nseq=3\n",
            "key_id=7\nkey=zz0102030405060708090a0b0c0d0e0f\nseq=3\n",
            "key_id=7\nseq=3\n",
            "key_id=7\nkey=000102030405060708090a0b0c0d0e0f\nseq=3\nmore=1\n",
            "",
        ] {
            assert!(parse_key_file(bad, HOST).is_none(), "{bad}");
        }
    }
}
