// SPDX-License-Identifier: GPL-2.0

//! The host side: `dnatctl cert request` and `dnatctl cert crl`.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use dnat_core::uapi::host_cmd;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, KeyPair, PublicKeyData,
    PKCS_ECDSA_P256_SHA256,
};
use serde::Serialize;

use super::ext::{self, Block, Kind};
use super::store::{self, write_atomic};
use super::wire::{self, op, Code};
use super::CaError;
use crate::msg::{Attr, HostAttr, Msg};
use crate::nl::{genl, Conn};

/// A random port of [`wire::CLIENT_PORTS`].
fn random_port() -> u16 {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let span = wire::CLIENT_PORTS.end() - wire::CLIENT_PORTS.start() + 1;
    wire::CLIENT_PORTS.start() + u16::from_be_bytes(b) % span
}

/// Whether `err` is "permission denied" (binding a privileged port
/// without the right to).
pub fn is_denied(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(13 /* EACCES */) | Some(1 /* EPERM */)
    )
}

/// A TCP connection to the CA at `addr` from a privileged source port (a
/// random one of [`wire::CLIENT_PORTS`], tried until one is free), of
/// `from` (unspecified: the kernel's choice of address). The CA refuses
/// unprivileged ports: binding needs root or CAP_NET_BIND_SERVICE.
pub fn connect(addr: SocketAddrV4, from: Ipv4Addr) -> Result<TcpStream, CaError> {
    use socket2::{Domain, Socket, Type};
    let io = |what: String| move |err| CaError::Io { what, err };
    let mut last = None;
    for _ in 0..64 {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None)
            .map_err(io("making a TCP socket".into()))?;
        let port = random_port();
        match s.bind(&SocketAddrV4::new(from, port).into()) {
            Ok(()) => {}
            Err(e) if is_denied(&e) => {
                return Err(CaError::Io {
                    what: format!(
                        "binding source port {port} (the CA answers only privileged ports, \
                         600-1023: run as root or with CAP_NET_BIND_SERVICE)"
                    ),
                    err: e,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(io(format!("binding source port {port}"))(e)),
        }
        match s.connect_timeout(&SocketAddr::V4(addr).into(), wire::TIMEOUT) {
            Ok(()) => return Ok(s.into()),
            // That port and the CA's make a pair still in use (TIME_WAIT):
            // another port.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable
                ) =>
            {
                last = Some(e);
            }
            Err(e) => return Err(io(format!("connecting to the CA at {addr}"))(e)),
        }
    }
    Err(CaError::Io {
        what: format!("finding a free source port (600-1023) to reach the CA at {addr}"),
        err: last.unwrap_or_else(|| io::ErrorKind::AddrInUse.into()),
    })
}

/// Sends one request to the CA at `addr` (from a privileged port:
/// [`connect`]) and returns the payload of an "ok" answer; a refusal is
/// [`CaError::CaRefused`].
pub fn exchange(addr: SocketAddrV4, opcode: u8, payload: &[u8]) -> Result<Vec<u8>, CaError> {
    let io = |what: &str| {
        let what = format!("{what} {addr}");
        move |err| CaError::Io { what, err }
    };
    let mut s = connect(addr, Ipv4Addr::UNSPECIFIED)?;
    s.set_read_timeout(Some(wire::TIMEOUT))
        .and_then(|()| s.set_write_timeout(Some(wire::TIMEOUT)))
        .map_err(io("setting timeouts for"))?;
    wire::write_frame(&mut s, opcode, payload).map_err(io("sending the request to"))?;
    let (status, body) = wire::read_frame(&mut s, wire::MAX_RESPONSE).map_err(|e| match e {
        wire::FrameError::Io(err) => CaError::Io {
            what: format!("reading the answer of {addr}"),
            err,
        },
        e => CaError::Invalid {
            what: format!("reading the answer of {addr}"),
            detail: e.to_string(),
        },
    })?;
    if status == Code::Ok as u8 {
        Ok(body)
    } else {
        Err(CaError::CaRefused {
            code: status,
            message: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The blocks the `dnat_host` module holds, if it is loaded here.
pub fn host_module_blocks() -> Option<Vec<Block>> {
    let mut conn = Conn::open().ok()?;
    let id = conn.resolve(HostAttr::FAMILY).ok()?;
    let msgs = conn
        .dump(
            genl(Msg::<HostAttr>::new(host_cmd::GET_BLOCKS), id),
            "reading the dnat_host blocks",
        )
        .ok()?;
    let mut out = Vec::new();
    for m in msgs {
        let (mut kind, mut lowest, mut count) = (None, None, None);
        for a in &m.attrs {
            match a {
                HostAttr::BlockKind(k) => kind = Kind::from_number(i64::from(*k)),
                HostAttr::BlockLowest(v) => lowest = Some(*v),
                HostAttr::BlockCount(v) => count = Some(*v),
                _ => {}
            }
        }
        if let (Some(k), Some(l), Some(c)) = (kind, lowest, count) {
            out.extend(Block::from_count(k, l, c));
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The CSR of `key`: CN "dnat host", and `claims` (if any) in the dnat
/// block extension of its extensionRequest.
pub fn make_csr(key: &KeyPair, claims: &[Block]) -> Result<Vec<u8>, CaError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "dnat host");
    p.distinguished_name = dn;
    if !claims.is_empty() {
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            ext::OID,
            ext::encode(claims),
        )];
    }
    p.serialize_request(key)
        .map(|c| c.der().to_vec())
        .map_err(|e| CaError::Crypto(format!("making the CSR: {e}")))
}

/// `DIR/key.pem`, made (ECDSA P-256, PKCS#8, mode 0600) if missing.
fn load_or_make_key(dir: &Path) -> Result<(KeyPair, bool), CaError> {
    let path = dir.join("key.pem");
    match fs::read_to_string(&path) {
        Ok(pem) => {
            let key = KeyPair::from_pem(&pem).map_err(|e| CaError::Invalid {
                what: format!("reading {}", path.display()),
                detail: e.to_string(),
            })?;
            if key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
                return Err(CaError::Refused(format!(
                    "{} is not an ECDSA P-256 key",
                    path.display()
                )));
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
                .map_err(|e| CaError::Crypto(format!("generating a key: {e}")))?;
            write_atomic(dir, "key.pem", key.serialize_pem().as_bytes())?;
            Ok((key, true))
        }
        Err(err) => Err(CaError::Io {
            what: format!("reading {}", path.display()),
            err,
        }),
    }
}

/// What `cert request` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Granted {
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub public: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub blocks: Vec<Block>,
    pub cert: PathBuf,
    pub ca: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// The key was made by this request.
    pub new_key: bool,
}

/// Serial of a certificate: decimal when it fits 64 bits, else hex.
fn serial_text(raw: &[u8]) -> String {
    if raw.len() <= 8 {
        raw.iter()
            .fold(0u64, |a, b| a << 8 | u64::from(*b))
            .to_string()
    } else {
        raw.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Reads an issued certificate: checks it is signed by `ca` and (with
/// `key`) certifies `key`.
pub fn read_cert(der: &[u8], ca: &[u8], key: Option<&KeyPair>) -> Result<Granted, CaError> {
    let bad = |detail: String| CaError::Invalid {
        what: "reading the certificate from the CA".into(),
        detail,
    };
    let (_, x) = x509_parser::parse_x509_certificate(der).map_err(|e| bad(e.to_string()))?;
    let (_, cax) = x509_parser::parse_x509_certificate(ca).map_err(|e| CaError::Invalid {
        what: "reading the CA certificate".into(),
        detail: e.to_string(),
    })?;
    x.verify_signature(Some(cax.public_key()))
        .map_err(|e| bad(format!("not signed by the CA: {e}")))?;
    if let Some(k) = key {
        if x.public_key().raw != k.subject_public_key_info().as_slice() {
            return Err(bad("it certifies another key".into()));
        }
    }
    let blocks = match x
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == ext::OID_STR)
    {
        Some(e) => ext::decode(e.value).map_err(|e| bad(format!("dnat block extension: {e}")))?,
        None => Vec::new(),
    };
    let public = x
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::IPAddress(b) if b.len() == 4 => {
                        Some(format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Granted {
        serial: serial_text(x.raw_serial()),
        subject: x.subject().to_string(),
        issuer: x.issuer().to_string(),
        public,
        not_before: store::rfc3339(x.validity().not_before.timestamp()),
        not_after: store::rfc3339(x.validity().not_after.timestamp()),
        blocks,
        cert: PathBuf::new(),
        ca: PathBuf::new(),
        key: None,
        new_key: false,
    })
}

/// Human output of `cert request`.
pub fn render_granted(g: &Granted) -> String {
    let mut out = format!(
        "serial {}\nsubject {}\npublic {}\nvalid {} to {}\n",
        g.serial,
        g.subject,
        g.public.join(", "),
        g.not_before,
        g.not_after
    );
    for b in &g.blocks {
        out.push_str(&format!("{b}\n"));
    }
    out
}

/// Makes `dir` (mode 0700) if missing.
fn make_dir(dir: &Path) -> Result<(), CaError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| fs::set_permissions(dir, fs::Permissions::from_mode(0o700)))
        .map_err(|err| CaError::Io {
            what: format!("creating {}", dir.display()),
            err,
        })
}

/// `cert request`: a key (kept in `out/key.pem`), a CSR claiming `claims`
/// (none: the dnat_host module's blocks, if loaded), or the bytes of
/// `raw_csr` as they are; stores `out/cert.pem` and `out/ca.pem`.
pub fn request(
    router: SocketAddrV4,
    out: &Path,
    claims: Option<Vec<Block>>,
    raw_csr: Option<&Path>,
) -> Result<Granted, CaError> {
    make_dir(out)?;
    let (payload, key, new_key) = match raw_csr {
        Some(p) => {
            let b = fs::read(p).map_err(|err| CaError::Io {
                what: format!("reading {}", p.display()),
                err,
            })?;
            (b, None, false)
        }
        None => {
            let (key, new_key) = load_or_make_key(out)?;
            let claims = claims.or_else(host_module_blocks).unwrap_or_default();
            (make_csr(&key, &claims)?, Some(key), new_key)
        }
    };
    let der = exchange(router, op::ISSUE, &payload)?;
    let ca = exchange(router, op::GET_CA, b"")?;
    let mut g = read_cert(&der, &ca, key.as_ref())?;
    write_atomic(
        out,
        "cert.pem",
        store::to_pem("CERTIFICATE", &der).as_bytes(),
    )?;
    write_atomic(out, "ca.pem", store::to_pem("CERTIFICATE", &ca).as_bytes())?;
    g.cert = out.join("cert.pem");
    g.ca = out.join("ca.pem");
    g.key = key.map(|_| out.join("key.pem"));
    g.new_key = new_key;
    Ok(g)
}

/// What `cert crl` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CrlInfo {
    pub issuer: String,
    pub crl_number: Option<String>,
    pub this_update: String,
    pub next_update: Option<String>,
    /// Revoked serials.
    pub revoked: Vec<String>,
    pub file: PathBuf,
}

/// Reads a DER CRL.
pub fn read_crl(der: &[u8]) -> Result<CrlInfo, CaError> {
    let (_, crl) = x509_parser::parse_x509_crl(der).map_err(|e| CaError::Invalid {
        what: "reading the CRL".into(),
        detail: e.to_string(),
    })?;
    Ok(CrlInfo {
        issuer: crl.issuer().to_string(),
        crl_number: crl.crl_number().map(|n| n.to_string()),
        this_update: store::rfc3339(crl.last_update().timestamp()),
        next_update: crl.next_update().map(|t| store::rfc3339(t.timestamp())),
        revoked: crl
            .iter_revoked_certificates()
            .map(|r| serial_text(r.raw_serial()))
            .collect(),
        file: PathBuf::new(),
    })
}

/// Human output of `cert crl`.
pub fn render_crl(c: &CrlInfo) -> String {
    let revoked = if c.revoked.is_empty() {
        "none".to_owned()
    } else {
        c.revoked.join(", ")
    };
    format!(
        "crl number {}, updated {}, next {}\nrevoked: {revoked}\n",
        c.crl_number.as_deref().unwrap_or("(none)"),
        c.this_update,
        c.next_update.as_deref().unwrap_or("(none)")
    )
}

/// `cert crl`: fetches the CRL into `file` (PEM if its name ends in
/// `.pem`, else DER).
pub fn crl(router: SocketAddrV4, file: &Path) -> Result<CrlInfo, CaError> {
    let der = exchange(router, op::GET_CRL, b"")?;
    let mut info = read_crl(&der)?;
    let data = if file.extension().is_some_and(|e| e == "pem") {
        store::to_pem("X509 CRL", &der).into_bytes()
    } else {
        der
    };
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CaError::Usage {
            cmd: "cert crl",
            msg: format!("--out {}: not a file name", file.display()),
        })?;
    write_atomic(&dir, name, &data)?;
    info.file = file.to_owned();
    Ok(info)
}
