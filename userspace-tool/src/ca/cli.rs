// SPDX-License-Identifier: GPL-2.0

//! The `ca` and `cert` commands: their words (clap) and what they do.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde::Serialize;

use super::client::{self, CrlInfo, Granted};
use super::ext::{self, Block, Kind};
use super::issue::{self, Policy, MAX_VALIDITY};
use super::router::{NetlinkRouter, Prefix, Router, RouterError};
use super::server::{self, Deadlines, Server};
use super::store::{self, Ca, Counters, Issued, Revocation, Status};
use super::wire;
use super::CaError;
use crate::limit::VALIDITY;
use crate::log::{self, Level, Style};
use crate::nl::{self, exit};

const CA_HELP: &str = "\
The CA lives in DIR (mode 0700): ca-key.pem, ca.pem, index.json, certs/,
crl.der, crl.pem, stats.json. \"ca serve\" answers LAN hosts over TCP (port
7489); \"dnatctl cert request\" on a host asks it for a certificate of the
ports and SPIs the host holds. See Documentation/networking/dnat-ca.rst.";

const SERVE_HELP: &str = "\
Run in the router's network namespace, with the dnat_router module loaded:
the CA asks it which blocks a host holds (GET_BLOCKS), which hosts are
revoked (GET_HOSTS), and pins the certified blocks (PIN_BLOCK). Requests from
outside the LAN prefixes (the LAN interface's IPv4 prefixes, or --lan) are
refused. Logs one line per request on stderr; runs until killed.

Example: dnatctl ca serve --dir /var/lib/dnat-ca --listen 10.0.0.7";

const REQUEST_HELP: &str = "\
Makes OUT/key.pem (ECDSA P-256, PKCS#8, mode 0600) unless it exists, sends a
CSR claiming the blocks of --ports and --spis (without them: the blocks the
dnat_host module holds, if it is loaded here, else none, and the CA certifies
every block the router gives this host), stores OUT/cert.pem and OUT/ca.pem,
and prints the serial, the validity and the certified blocks.

Exit codes:
  0  certificate stored
  1  refused by the CA (its reason is printed)
  2  usage error
  4  no answer, connection or file error";

/// `dnatctl ca ...` (on the router).
#[derive(Debug, Subcommand)]
#[command(after_help = CA_HELP)]
pub enum CaCmd {
    /// Make a CA in DIR: ECDSA P-256 key, self-signed certificate, empty index and CRL.
    Init {
        /// The CA's directory (made 0700; refused if open to group or others).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The shared public address (default: the dnat_router module's).
        #[arg(long, value_name = "ADDR", value_parser = crate::args::addr_arg)]
        public: Option<Ipv4Addr>,
    },
    /// Print the CA: subject, key type, fingerprint, next serial, certificates, counters.
    Show {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Serve certificates to the LAN hosts over TCP.
    #[command(after_help = SERVE_HELP)]
    Serve {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The router's LAN address to listen on, port 7489 by default.
        #[arg(long, value_name = "ADDR[:PORT]")]
        listen: String,
        #[arg(long, value_name = "SECS", default_value_t = MAX_VALIDITY,
              allow_negative_numbers = true, value_parser = VALIDITY.arg::<u32>(),
              help = VALIDITY.help("Most seconds a certificate lives (less if a lease ends sooner)"))]
        max_validity: u32,
        /// LAN prefix (repeatable), instead of the LAN interface's addresses.
        #[arg(long, value_name = "PREFIX")]
        lan: Vec<String>,
    },
}

/// `dnatctl cert ...`.
#[derive(Debug, Subcommand)]
pub enum CertCmd {
    /// Ask the router's CA for a certificate of this host's ports and SPIs (on a host).
    #[command(after_help = REQUEST_HELP)]
    Request {
        /// The CA: the router's LAN address, port 7489 by default.
        #[arg(long, value_name = "ADDR[:PORT]")]
        router: String,
        /// Directory for key.pem, cert.pem, ca.pem (made 0700 if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Claim these ports (repeatable).
        #[arg(long, value_name = "FIRST-LAST")]
        ports: Vec<String>,
        /// Claim these SPIs (repeatable; decimal or 0x hex).
        #[arg(long, value_name = "FIRST-LAST")]
        spis: Vec<String>,
        /// Send FILE's bytes as the CSR (tests: malformed or forged requests).
        #[arg(long, value_name = "FILE", hide = true)]
        raw_csr: Option<PathBuf>,
    },
    /// Fetch the CA's CRL into FILE (PEM if FILE ends in .pem, else DER).
    Crl {
        #[arg(long, value_name = "ADDR[:PORT]")]
        router: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// List the certificates the CA issued (on the router).
    List {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print one certificate the CA issued (on the router).
    Show {
        /// Serial number (decimal or 0x hex).
        #[arg(value_name = "SERIAL")]
        serial: String,
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Revoke a certificate: new CRL, its blocks unpinned (on the router).
    Revoke {
        /// Serial number (decimal or 0x hex).
        #[arg(value_name = "SERIAL")]
        serial: String,
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

fn print<T: Serialize>(
    v: &T,
    json: bool,
    render: impl FnOnce(&T) -> String,
) -> Result<(), CaError> {
    let text = if json {
        let mut s = serde_json::to_string(v).unwrap_or_default();
        s.push('\n');
        s
    } else {
        render(v)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|err| CaError::Io {
            what: "writing the output".into(),
            err,
        })
}

/// Serial numbers: decimal or `0x` hex.
fn parse_serial(cmd: &'static str, s: &str) -> Result<u64, CaError> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|_| CaError::Usage {
        cmd,
        msg: format!("invalid serial number \"{s}\""),
    })
}

/// The blocks of `--ports` and `--spis`; `None` if neither was given.
fn claims(ports: &[String], spis: &[String]) -> Result<Option<Vec<Block>>, CaError> {
    if ports.is_empty() && spis.is_empty() {
        return Ok(None);
    }
    let mut v = Vec::new();
    for (kind, list) in [(Kind::Ports, ports), (Kind::Spis, spis)] {
        for s in list {
            v.push(ext::parse_span(kind, s).map_err(|msg| CaError::Usage {
                cmd: "cert request",
                msg,
            })?);
        }
    }
    // What the CA would refuse as malformed is a usage error here.
    ext::decode(&ext::encode(&v)).map_err(|msg| CaError::Usage {
        cmd: "cert request",
        msg,
    })?;
    v.sort();
    Ok(Some(v))
}

fn endpoint(cmd: &'static str, s: &str) -> Result<std::net::SocketAddrV4, CaError> {
    wire::parse_endpoint(s).map_err(|msg| CaError::Usage { cmd, msg })
}

/// What `ca show` prints.
#[derive(Debug, Serialize)]
pub struct CaShow {
    pub dir: PathBuf,
    pub subject: String,
    pub key: &'static str,
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
    pub public: Ipv4Addr,
    pub next_serial: u64,
    pub issued: usize,
    pub valid: usize,
    pub revoked: usize,
    pub expired: usize,
    pub crl_number: u64,
    pub crl_updated: String,
    pub counters: Counters,
}

fn render_ca(s: &CaShow) -> String {
    let mut out = format!(
        "subject: {}\nkey: ECDSA P-256\nsha256: {}\nvalid: {} to {}\npublic: {}\n\
         next serial: {}\ncertificates: {} issued, {} valid, {} revoked, {} expired\n\
         crl: number {}, updated {}\n",
        s.subject,
        store::colon_hex(&s.sha256),
        s.not_before,
        s.not_after,
        s.public,
        s.next_serial,
        s.issued,
        s.valid,
        s.revoked,
        s.expired,
        s.crl_number,
        s.crl_updated
    );
    if s.counters.is_empty() {
        out.push_str("counters: (none)\n");
    } else {
        let c: Vec<String> = s.counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
        out.push_str(&format!("counters: {}\n", c.join(", ")));
    }
    out
}

fn ca_show(dir: &Path, now: i64) -> Result<CaShow, CaError> {
    let ca = Ca::open(dir)?;
    let index = ca.lock()?.index()?;
    let (_, x) =
        x509_parser::parse_x509_certificate(&ca.cert_der).map_err(|e| CaError::Invalid {
            what: format!("reading {}", dir.join(store::CERT).display()),
            detail: e.to_string(),
        })?;
    let census = issue::census(&index, now);
    let n = |s: Status| census.get(s.name()).copied().unwrap_or(0);
    Ok(CaShow {
        dir: dir.to_owned(),
        subject: x.subject().to_string(),
        key: "ecdsa-p256",
        sha256: store::sha256_hex(&ca.cert_der),
        not_before: store::rfc3339(x.validity().not_before.timestamp()),
        not_after: store::rfc3339(x.validity().not_after.timestamp()),
        public: index.public,
        next_serial: index.next_serial,
        issued: usize::try_from(index.next_serial.saturating_sub(1)).unwrap_or(usize::MAX),
        valid: n(Status::Valid),
        revoked: n(Status::Revoked),
        expired: n(Status::Expired),
        crl_number: index.crl_number,
        crl_updated: store::rfc3339(index.crl_updated),
        counters: ca.counters()?,
    })
}

/// One certificate as `cert list` and `cert show` print it.
#[derive(Debug, Serialize)]
pub struct CertView {
    pub serial: u64,
    pub host: Ipv4Addr,
    pub public: Ipv4Addr,
    pub status: Status,
    pub not_before: String,
    pub not_after: String,
    pub blocks: Vec<Block>,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
}

impl CertView {
    fn new(c: &Issued, now: i64) -> Self {
        Self {
            serial: c.serial,
            host: c.host,
            public: c.public,
            status: c.status(now),
            not_before: store::rfc3339(c.not_before),
            not_after: store::rfc3339(c.not_after),
            blocks: c.blocks.clone(),
            sha256: c.sha256.clone(),
            revoked_at: c.revoked.map(|Revocation { at, .. }| store::rfc3339(at)),
            revoked_reason: c.revoked.map(|r| r.reason.name()),
            pem: None,
        }
    }

    fn blocks_text(&self) -> String {
        let b: Vec<String> = self.blocks.iter().map(|b| b.to_string()).collect();
        b.join(", ")
    }
}

/// Everything `cert list` prints: `{"certs":[...]}`.
#[derive(Debug, Serialize)]
pub struct CertList {
    pub certs: Vec<CertView>,
}

fn render_list(l: &CertList) -> String {
    if l.certs.is_empty() {
        return "(no certificates)\n".into();
    }
    l.certs
        .iter()
        .map(|c| {
            format!(
                "{} host {} {} until {}: {}\n",
                c.serial,
                c.host,
                c.status.name(),
                c.not_after,
                c.blocks_text()
            )
        })
        .collect()
}

fn render_cert(c: &CertView) -> String {
    let mut out = format!(
        "serial: {}\nhost: {}\npublic: {}\nstatus: {}\nvalid: {} to {}\nblocks: {}\nsha256: {}\n",
        c.serial,
        c.host,
        c.public,
        c.status.name(),
        c.not_before,
        c.not_after,
        c.blocks_text(),
        store::colon_hex(&c.sha256)
    );
    if let (Some(at), Some(why)) = (&c.revoked_at, c.revoked_reason) {
        out.push_str(&format!("revoked: {at} ({why})\n"));
    }
    if let Some(p) = &c.pem {
        out.push_str(p);
    }
    out
}

fn ca_init(dir: &Path, public: Option<Ipv4Addr>, json: bool) -> Result<i32, CaError> {
    let public = match public {
        Some(p) => p,
        None => NetlinkRouter::default()
            .public_addr()
            .map_err(|e| match e {
                RouterError::NoFamily(m) => {
                    RouterError::NoFamily(format!("{m} (or give --public)"))
                }
                e => RouterError::Other(format!("{e} (give --public)")),
            })?,
    };
    Ca::init(dir, public, store::now())?;
    let s = ca_show(dir, store::now())?;
    print(&s, json, render_ca)?;
    Ok(exit::OK)
}

fn ca_serve(dir: &Path, listen: &str, max_validity: u32, lan: &[String]) -> Result<i32, CaError> {
    let listen = wire::parse_endpoint(listen).map_err(|msg| CaError::Usage {
        cmd: "ca serve",
        msg,
    })?;
    let lan = if lan.is_empty() {
        None
    } else {
        Some(
            lan.iter()
                .map(|s| Prefix::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|msg| CaError::Usage {
                    cmd: "ca serve",
                    msg,
                })?,
        )
    };
    let ca = Ca::open(dir)?;
    let index_public = ca.lock()?.index()?.public;
    let router = NetlinkRouter { lan };
    // The router module must be there: its public address and LAN.
    let public = router.public_addr()?;
    let prefixes = router.lan_prefixes()?;
    let style = Style::of(std::io::stderr(), Style::Stamped);
    if public != index_public {
        eprintln!(
            "{}",
            log::line(
                style,
                Level::Warning,
                &format!(
                    "ca: the router's public address is {public}, the CA was made for \
                     {index_public}; certificates name {public}"
                )
            )
        );
    }
    let mut server = Server::new(
        ca,
        Box::new(router),
        Policy { max_validity },
        Deadlines::default(),
    )?;
    server.log = Some(style);
    let lan: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
    server::run(server, listen, |addr| {
        eprintln!(
            "{}",
            log::line(
                style,
                Level::Notice,
                &format!(
                    "ca: serving on {addr} for {} (public {public})",
                    lan.join(", ")
                )
            )
        );
    })?;
    Ok(exit::OK)
}

/// `dnatctl ca ...`.
pub fn run_ca(cmd: CaCmd, json: bool) -> Result<i32, CaError> {
    match cmd {
        CaCmd::Init { dir, public } => ca_init(&dir, public, json),
        CaCmd::Show { dir } => {
            let s = ca_show(&dir, store::now())?;
            print(&s, json, render_ca).map(|()| exit::OK)
        }
        CaCmd::Serve {
            dir,
            listen,
            max_validity,
            lan,
        } => ca_serve(&dir, &listen, max_validity, &lan),
    }
}

/// The JSON of a refusal by the CA: `{"refused":{...}}`.
#[derive(Serialize)]
struct RefusedJson<'a> {
    refused: RefusedBody<'a>,
}

#[derive(Serialize)]
struct RefusedBody<'a> {
    code: u8,
    reason: &'a str,
    message: &'a str,
}

/// `dnatctl cert ...`.
pub fn run_cert(cmd: CertCmd, json: bool) -> Result<i32, CaError> {
    let now = store::now();
    match cmd {
        CertCmd::Request {
            router,
            out,
            ports,
            spis,
            raw_csr,
        } => {
            let addr = endpoint("cert request", &router)?;
            let claims = claims(&ports, &spis)?;
            match client::request(addr, &out, claims, raw_csr.as_deref()) {
                Ok(g) => print::<Granted>(&g, json, client::render_granted).map(|()| exit::OK),
                Err(CaError::CaRefused { code, message }) if json => {
                    let reason = wire::Code::from_u8(code).map_or("unknown", |c| c.name());
                    let body = RefusedJson {
                        refused: RefusedBody {
                            code,
                            reason,
                            message: &message,
                        },
                    };
                    print(&body, true, |_| String::new())?;
                    Err(CaError::CaRefused { code, message })
                }
                Err(e) => Err(e),
            }
        }
        CertCmd::Crl { router, out } => {
            let addr = endpoint("cert crl", &router)?;
            let info = client::crl(addr, &out)?;
            print::<CrlInfo>(&info, json, client::render_crl).map(|()| exit::OK)
        }
        CertCmd::List { dir } => {
            let ca = Ca::open(&dir)?;
            let index = ca.lock()?.index()?;
            let l = CertList {
                certs: index.certs.iter().map(|c| CertView::new(c, now)).collect(),
            };
            print(&l, json, render_list).map(|()| exit::OK)
        }
        CertCmd::Show { serial, dir } => {
            let serial = parse_serial("cert show", &serial)?;
            let ca = Ca::open(&dir)?;
            let lock = ca.lock()?;
            let index = lock.index()?;
            let c = index
                .get(serial)
                .ok_or_else(|| CaError::Refused(format!("no certificate with serial {serial}")))?;
            let mut v = CertView::new(c, now);
            v.pem = Some(lock.cert_pem(serial)?);
            print(&v, json, render_cert).map(|()| exit::OK)
        }
        CertCmd::Revoke { serial, dir } => {
            let serial = parse_serial("cert revoke", &serial)?;
            let ca = Ca::open(&dir)?;
            let (c, err) = issue::revoke(&ca, &NetlinkRouter::default(), serial, now)?;
            if c.is_none() {
                eprintln!("dnatctl: certificate {serial} was revoked already");
            }
            if let Some(e) = err {
                eprintln!("dnatctl: warning: certificate {serial} is revoked, but: {e}");
            }
            Ok(exit::OK)
        }
    }
}

/// Runs a CA command for `main`: errors are printed here (except usage
/// errors, which `main` prints with its hint) and become the exit code.
pub fn main_result(r: Result<i32, CaError>) -> Result<i32, nl::Error> {
    match r {
        Ok(code) => Ok(code),
        Err(CaError::Usage { cmd, msg }) => Err(nl::Error::Usage { cmd, msg }),
        Err(e) => {
            log::error(&format!("dnatctl: {e}"));
            Ok(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_side_commands() {
        use crate::ca::issue::tests::{csr, p256, setup, H1};
        let (t, ca, r) = setup("cli");
        // A second CA in the same directory: refused.
        let init = CaCmd::Init {
            dir: t.path().to_owned(),
            public: Some(Ipv4Addr::new(203, 0, 113, 30)),
        };
        assert_eq!(run_ca(init, false).unwrap_err().exit_code(), 1);
        let c = issue::issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), None, &[]),
            &Policy::default(),
            store::now(),
        )
        .unwrap();
        assert_eq!(c.issued.serial, 1);
        let dir = t.path().to_owned();
        let s = ca_show(&dir, store::now()).unwrap();
        assert_eq!((s.issued, s.valid, s.next_serial), (1, 1, 2));
        assert!(render_ca(&s).contains("certificates: 1 issued, 1 valid, 0 revoked, 0 expired\n"));
        assert_eq!(run_ca(CaCmd::Show { dir: dir.clone() }, true).unwrap(), 0);
        assert_eq!(
            run_cert(CertCmd::List { dir: dir.clone() }, false).unwrap(),
            0
        );
        let show = |serial: &str| CertCmd::Show {
            serial: serial.into(),
            dir: dir.clone(),
        };
        assert_eq!(run_cert(show("0x1"), false).unwrap(), 0);
        assert_eq!(run_cert(show("2"), false).unwrap_err().exit_code(), 1);
        let revoke = |serial: &str| CertCmd::Revoke {
            serial: serial.into(),
            dir: dir.clone(),
        };
        assert_eq!(run_cert(revoke("1"), false).unwrap(), 0);
        assert_eq!(run_cert(revoke("1"), false).unwrap(), 0);
        assert_eq!(run_cert(revoke("7"), false).unwrap_err().exit_code(), 1);
        let index = ca.lock().unwrap().index().unwrap();
        let v = CertView::new(index.get(1).unwrap(), store::now());
        assert_eq!(v.status, Status::Revoked);
        assert_eq!(v.revoked_reason, Some("admin"));
        let line = render_list(&CertList { certs: vec![v] });
        assert!(
            line.starts_with("1 host 10.0.0.1 revoked until ")
                && line.ends_with(": ports 40000-40063, spis 0x1000-0x10ff\n"),
            "{line}"
        );
    }

    #[test]
    fn serials_and_claims() {
        assert_eq!(parse_serial("x", "12").unwrap(), 12);
        assert_eq!(parse_serial("x", "0x1f").unwrap(), 31);
        assert_eq!(parse_serial("x", "z").unwrap_err().exit_code(), 2);
        assert!(claims(&[], &[]).unwrap().is_none());
        let c = claims(&["40000-40063".into()], &["0x1000-0x10ff".into()])
            .unwrap()
            .unwrap();
        assert_eq!(c.len(), 2);
        for (p, s) in [
            (vec!["1-5".to_string(), "5-9".into()], vec![]),
            (vec!["0-5".into()], vec![]),
            (vec![], vec!["1-300".into()]),
            (vec!["x".into()], vec![]),
        ] {
            assert_eq!(claims(&p, &s).unwrap_err().exit_code(), 2, "{p:?} {s:?}");
        }
    }
}
