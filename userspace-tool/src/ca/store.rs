// SPDX-License-Identifier: GPL-2.0

//! The CA's state directory.
//!
//! ```text
//! DIR/            0700
//!   ca-key.pem    0600  the CA's ECDSA P-256 key, PKCS#8 PEM
//!   ca.pem        0600  the self-signed CA certificate
//!   index.json    0600  public address, next serial, CRL number, every
//!                       certificate issued (blocks, validity, revocation)
//!   certs/N.pem   0600  certificate N (decimal serial)
//!   crl.der       0600  the CRL, DER and PEM, rewritten at each revocation
//!   crl.pem       0600    and before the previous one is half-way to its
//!                         nextUpdate
//!   stats.json    0600  the daemon's counters
//!   lock          0600  flock(2)ed around every read-modify-write
//! ```
//!
//! Every file is written whole to a temporary name and renamed, so a
//! reader sees the old or the new file, never a part. Every change of the
//! index or the CRL happens under the exclusive lock of `lock`, after
//! reading the index again from the disk: `cert revoke` and a running
//! `ca serve` never overwrite each other's changes.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ext::Block;
use super::CaError;

pub const KEY: &str = "ca-key.pem";
pub const CERT: &str = "ca.pem";
pub const INDEX: &str = "index.json";
pub const CERTS: &str = "certs";
pub const CRL_DER: &str = "crl.der";
pub const CRL_PEM: &str = "crl.pem";
pub const STATS: &str = "stats.json";
pub const LOCK: &str = "lock";

/// Life of the CA certificate: 10 years.
pub const CA_SECS: i64 = 3650 * 86400;
/// A CRL's nextUpdate: one day after its thisUpdate.
pub const CRL_SECS: i64 = 86400;
/// notBefore of everything: this long before now, for clocks a little
/// behind.
pub const BACKDATE_SECS: i64 = 60;
/// Version of `index.json`.
pub const INDEX_VERSION: u32 = 1;
/// Most valid certificates of one host: issuing another revokes the
/// oldest (reason superseded).
pub const MAX_VALID_PER_HOST: usize = 4;
/// Certificates that ended (expired) this long ago leave the index (and
/// the CRL) when it is next rewritten: 7 days.
pub const PRUNE_AFTER_SECS: i64 = 7 * 86400;

/// Why a certificate was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// `dnatctl cert revoke` (no reasonCode in the CRL: unspecified).
    Admin,
    /// The administrator revoked the host in the router
    /// (privilegeWithdrawn).
    HostRevoked,
    /// The router no longer gives the host a certified block
    /// (cessationOfOperation).
    BlocksLost,
    /// The host got a newer certificate while it held
    /// [`MAX_VALID_PER_HOST`] valid ones: its oldest goes (superseded).
    Superseded,
}

impl Reason {
    fn crl_reason(self) -> Option<RevocationReason> {
        match self {
            Reason::Admin => None,
            Reason::HostRevoked => Some(RevocationReason::PrivilegeWithdrawn),
            Reason::BlocksLost => Some(RevocationReason::CessationOfOperation),
            Reason::Superseded => Some(RevocationReason::Superseded),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Reason::Admin => "admin",
            Reason::HostRevoked => "host-revoked",
            Reason::BlocksLost => "blocks-lost",
            Reason::Superseded => "superseded",
        }
    }
}

/// A revocation: when and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Unix seconds.
    pub at: i64,
    pub reason: Reason,
}

/// One certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub serial: u64,
    /// The host's LAN address.
    pub host: Ipv4Addr,
    /// The shared public address in its subjectAltName.
    pub public: Ipv4Addr,
    /// The certified blocks, sorted.
    pub blocks: Vec<Block>,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// SHA-256 of the certificate's DER, hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

/// What a certificate is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Valid,
    Revoked,
    Expired,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
        }
    }
}

impl Issued {
    /// Its status at `now`.
    pub fn status(&self, now: i64) -> Status {
        if self.revoked.is_some() {
            Status::Revoked
        } else if self.not_after <= now {
            Status::Expired
        } else {
            Status::Valid
        }
    }

    /// Seconds of life left at `now`, if valid.
    pub fn secs_left(&self, now: i64) -> Option<u32> {
        (self.status(now) == Status::Valid)
            .then(|| u32::try_from(self.not_after - now).unwrap_or(u32::MAX))
    }
}

/// `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub version: u32,
    /// The shared public address the CA was made for.
    pub public: Ipv4Addr,
    /// The serial of the next certificate.
    pub next_serial: u64,
    /// The cRLNumber of the last CRL written.
    pub crl_number: u64,
    /// thisUpdate of the last CRL written (Unix seconds).
    pub crl_updated: i64,
    /// Certificates pruned from `certs` (ended more than
    /// [`PRUNE_AFTER_SECS`] ago); their serials are never used again
    /// (`next_serial` only grows).
    #[serde(default)]
    pub pruned: u64,
    /// In serial order.
    pub certs: Vec<Issued>,
}

impl Index {
    pub fn get(&self, serial: u64) -> Option<&Issued> {
        self.certs.iter().find(|c| c.serial == serial)
    }

    /// Drops the certificates whose notAfter is [`PRUNE_AFTER_SECS`] or
    /// more before `now` (revoked or not: an expired certificate is
    /// invalid anyway), counting them in `pruned`; returns their serials.
    pub fn prune(&mut self, now: i64) -> Vec<u64> {
        let mut gone = Vec::new();
        self.certs.retain(|c| {
            let keep = c.not_after + PRUNE_AFTER_SECS > now;
            if !keep {
                gone.push(c.serial);
            }
            keep
        });
        self.pruned += gone.len() as u64;
        gone
    }

    #[cfg(test)]
    pub fn revoked_count(&self) -> usize {
        self.certs.iter().filter(|c| c.revoked.is_some()).count()
    }
}

/// The daemon's counters, `stats.json`: outcome name to count.
pub type Counters = BTreeMap<String, u64>;

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> CaError {
    let what = what.into();
    move |err| CaError::Io { what, err }
}

/// Writes `data` to `dir/name` through a temporary file and a rename,
/// mode 0600.
pub fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<(), CaError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let what = format!("writing {}", path.display());
    let r = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    })();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r.map_err(io_err(what))
}

/// The process's effective uid (from `/proc/self/status`: the crate
/// forbids `unsafe`, and std has no `geteuid`).
pub fn euid() -> Result<u32, CaError> {
    let path = "/proc/self/status";
    let text = fs::read_to_string(path)
        .map_err(io_err(format!("reading {path} (for the effective uid)")))?;
    // "Uid:\treal\teffective\tsaved\tfs"
    text.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| CaError::Invalid {
            what: format!("reading {path}"),
            detail: "no effective uid in its Uid: line".into(),
        })
}

/// Refuses a path that is a symbolic link, that another user owns, or
/// whose mode lets the group or others in. `meta` is its
/// `symlink_metadata`.
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), CaError> {
    if meta.file_type().is_symlink() {
        return Err(CaError::Refused(format!(
            "{} is a symbolic link; the CA keeps its key there: give the real path",
            path.display()
        )));
    }
    let me = euid()?;
    if meta.uid() != me {
        return Err(CaError::Refused(format!(
            "{} is owned by uid {}, not by this process's uid {me}; the CA keeps its key \
             there: chown it, or run as its owner",
            path.display(),
            meta.uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CaError::Refused(format!(
            "{} is accessible to group or others (mode {mode:04o}); the CA keeps its key \
             there: chmod go= it",
            path.display()
        )));
    }
    Ok(())
}

/// Unix seconds to a time for rcgen.
pub fn datetime(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2025-01-31T12:00:00Z`.
pub fn rfc3339(secs: i64) -> String {
    datetime(secs)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| secs.to_string())
}

/// Now, Unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// SHA-256 of `der`, lowercase hex.
pub fn sha256_hex(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `AB:CD:...`, as `openssl x509 -fingerprint -sha256` prints it.
pub fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// PEM of `der` with `tag` (`CERTIFICATE`, `X509 CRL`).
pub fn to_pem(tag: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// An opened CA: its key and certificate.
pub struct Ca {
    pub dir: PathBuf,
    key: KeyPair,
    /// The CA certificate, DER.
    pub cert_der: Vec<u8>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").field("dir", &self.dir).finish()
    }
}

/// The CA's distinguished name for `public`.
pub fn ca_name(public: Ipv4Addr) -> String {
    format!("dnat local CA {public}")
}

impl Ca {
    /// Makes a new CA in `dir` (created 0700 if missing; refused if it is
    /// a symbolic link, another user's, open to group or others, or holds
    /// a CA already).
    pub fn init(dir: &Path, public: Ipv4Addr, now: i64) -> Result<Self, CaError> {
        match fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => check_private(dir, &m)?,
            Ok(m) if !m.is_dir() => {
                return Err(CaError::Refused(format!(
                    "{} exists and is not a directory",
                    dir.display()
                )))
            }
            Ok(m) => check_private(dir, &m)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(io_err(format!("creating {}", dir.display())))?;
                // The mode of a new directory is masked by the umask: set it.
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                    .map_err(io_err(format!("chmod 0700 {}", dir.display())))?;
            }
            Err(e) => return Err(io_err(format!("reading {}", dir.display()))(e)),
        }
        for name in [KEY, CERT, INDEX, CRL_DER, CRL_PEM, CERTS] {
            let p = dir.join(name);
            if fs::symlink_metadata(&p).is_ok() {
                return Err(CaError::Refused(format!(
                    "{} exists: {} holds a CA already (remove the directory to start over)",
                    p.display(),
                    dir.display()
                )));
            }
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| CaError::Crypto(format!("generating the CA key: {e}")))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, ca_name(public));
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = KeyIdMethod::Sha256;
        params.not_before = datetime(now - BACKDATE_SECS);
        params.not_after = datetime(now + CA_SECS);
        // Issued certificates count up from 1: the CA's own serial is a
        // large random number that never meets them.
        let mut serial = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
            .map_err(|_| CaError::Crypto("no random numbers".into()))?;
        serial[0] = (serial[0] & 0x7f) | 0x40;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let cert = params
            .self_signed(&key)
            .map_err(|e| CaError::Crypto(format!("signing the CA certificate: {e}")))?;
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.join(CERTS))
            .map_err(io_err(format!("creating {}", dir.join(CERTS).display())))?;
        write_atomic(dir, KEY, key.serialize_pem().as_bytes())?;
        write_atomic(dir, CERT, cert.pem().as_bytes())?;
        let ca = Self {
            dir: dir.to_owned(),
            key,
            cert_der: cert.der().to_vec(),
        };
        let lock = ca.lock()?;
        let mut index = Index {
            version: INDEX_VERSION,
            public,
            next_serial: 1,
            crl_number: 0,
            crl_updated: 0,
            pruned: 0,
            certs: Vec::new(),
        };
        lock.write_crl(&mut index, now)?;
        drop(lock);
        Ok(ca)
    }

    /// Opens the CA in `dir`; refused if `dir` or the key is a symbolic
    /// link, another user's, or open to group or others.
    pub fn open(dir: &Path) -> Result<Self, CaError> {
        let meta = match fs::symlink_metadata(dir) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CaError::Refused(format!(
                    "{} does not exist (dnatctl ca init --dir {} makes a CA)",
                    dir.display(),
                    dir.display()
                )))
            }
            Err(e) => return Err(io_err(format!("reading {}", dir.display()))(e)),
        };
        check_private(dir, &meta)?;
        if !meta.is_dir() {
            return Err(CaError::Refused(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        let key_path = dir.join(KEY);
        let meta = match fs::symlink_metadata(&key_path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CaError::Refused(format!(
                    "{} holds no CA (no {KEY}; dnatctl ca init makes one)",
                    dir.display()
                )))
            }
            Err(e) => return Err(io_err(format!("reading {}", key_path.display()))(e)),
        };
        check_private(&key_path, &meta)?;
        let read_key = || -> io::Result<(String, fs::Metadata)> {
            let mut f = File::open(&key_path)?;
            let opened = f.metadata()?;
            let mut s = String::new();
            io::Read::read_to_string(&mut f, &mut s)?;
            Ok((s, opened))
        };
        let (key_pem, opened) =
            read_key().map_err(io_err(format!("reading {}", key_path.display())))?;
        // The file read is the one checked (not swapped for a link since).
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(CaError::Refused(format!(
                "{} changed while it was opened",
                key_path.display()
            )));
        }
        let key = KeyPair::from_pem(&key_pem).map_err(|e| CaError::Invalid {
            what: format!("reading {}", key_path.display()),
            detail: e.to_string(),
        })?;
        let cert_path = dir.join(CERT);
        let cert_pem = fs::read_to_string(&cert_path)
            .map_err(io_err(format!("reading {}", cert_path.display())))?;
        let cert_der = pem::parse(&cert_pem)
            .map_err(|e| CaError::Invalid {
                what: format!("reading {}", cert_path.display()),
                detail: e.to_string(),
            })?
            .into_contents();
        Ok(Self {
            dir: dir.to_owned(),
            key,
            cert_der,
        })
    }

    /// The CA as an issuer of certificates and CRLs.
    pub fn issuer(&self) -> Result<Issuer<'static, &KeyPair>, CaError> {
        Issuer::from_ca_cert_der(&self.cert_der.as_slice().into(), &self.key)
            .map_err(|e| CaError::Crypto(format!("reading the CA certificate: {e}")))
    }

    /// Takes the exclusive lock of the directory (waits for it).
    pub fn lock(&self) -> Result<Locked<'_>, CaError> {
        let path = self.dir.join(LOCK);
        let what = format!("locking {}", path.display());
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(what.clone()))?;
        file.lock().map_err(io_err(what))?;
        Ok(Locked {
            ca: self,
            _file: file,
        })
    }

    /// The daemon's counters (empty if none were written).
    pub fn counters(&self) -> Result<Counters, CaError> {
        let path = self.dir.join(STATS);
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| CaError::Invalid {
                what: format!("reading {}", path.display()),
                detail: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Counters::new()),
            Err(e) => Err(io_err(format!("reading {}", path.display()))(e)),
        }
    }

    /// Writes the daemon's counters.
    pub fn save_counters(&self, c: &Counters) -> Result<(), CaError> {
        let mut s = serde_json::to_string_pretty(c).unwrap_or_default();
        s.push('\n');
        write_atomic(&self.dir, STATS, s.as_bytes())
    }

    /// The current CRL, DER.
    pub fn crl_der(&self) -> Result<Vec<u8>, CaError> {
        let path = self.dir.join(CRL_DER);
        fs::read(&path).map_err(io_err(format!("reading {}", path.display())))
    }
}

/// The directory, locked: the only way to read and change the index.
pub struct Locked<'a> {
    pub ca: &'a Ca,
    _file: File,
}

impl Locked<'_> {
    /// Reads `index.json` from the disk.
    pub fn index(&self) -> Result<Index, CaError> {
        let path = self.ca.dir.join(INDEX);
        let b = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
        let index: Index = serde_json::from_slice(&b).map_err(|e| CaError::Invalid {
            what: format!("reading {}", path.display()),
            detail: e.to_string(),
        })?;
        if index.version != INDEX_VERSION {
            return Err(CaError::Invalid {
                what: format!("reading {}", path.display()),
                detail: format!(
                    "version {} (this dnatctl knows {INDEX_VERSION})",
                    index.version
                ),
            });
        }
        Ok(index)
    }

    /// Writes `index.json`.
    pub fn save_index(&self, index: &Index) -> Result<(), CaError> {
        let mut s = serde_json::to_string_pretty(index).unwrap_or_default();
        s.push('\n');
        write_atomic(&self.ca.dir, INDEX, s.as_bytes())
    }

    /// Writes certificate `serial` (DER) as `certs/SERIAL.pem`.
    pub fn save_cert(&self, serial: u64, der: &[u8]) -> Result<(), CaError> {
        let dir = self.ca.dir.join(CERTS);
        write_atomic(
            &dir,
            &format!("{serial}.pem"),
            to_pem("CERTIFICATE", der).as_bytes(),
        )
    }

    /// Prunes the index ([`Index::prune`]) and removes the pruned
    /// certificates' files; called before the index is rewritten.
    pub fn prune(&self, index: &mut Index, now: i64) {
        for serial in index.prune(now) {
            let _ = fs::remove_file(self.ca.dir.join(CERTS).join(format!("{serial}.pem")));
        }
    }

    /// Certificate `serial`, PEM.
    pub fn cert_pem(&self, serial: u64) -> Result<String, CaError> {
        let path = self.ca.dir.join(CERTS).join(format!("{serial}.pem"));
        fs::read_to_string(&path).map_err(io_err(format!("reading {}", path.display())))
    }

    /// Prunes the index, then signs a new CRL (next cRLNumber, thisUpdate
    /// `now`) listing every revoked certificate left, writes `crl.der` and `crl.pem`, then the
    /// index (with the new number).
    pub fn write_crl(&self, index: &mut Index, now: i64) -> Result<(), CaError> {
        self.prune(index, now);
        let number = index.crl_number + 1;
        let params = CertificateRevocationListParams {
            this_update: datetime(now),
            next_update: datetime(now + CRL_SECS),
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: index
                .certs
                .iter()
                .filter_map(|c| {
                    c.revoked.map(|r| RevokedCertParams {
                        serial_number: SerialNumber::from(c.serial),
                        revocation_time: datetime(r.at),
                        reason_code: r.reason.crl_reason(),
                        invalidity_date: None,
                    })
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let issuer = self.ca.issuer()?;
        let crl = params
            .signed_by(&issuer)
            .map_err(|e| CaError::Crypto(format!("signing the CRL: {e}")))?;
        write_atomic(&self.ca.dir, CRL_DER, crl.der())?;
        write_atomic(
            &self.ca.dir,
            CRL_PEM,
            to_pem("X509 CRL", crl.der()).as_bytes(),
        )?;
        index.crl_number = number;
        index.crl_updated = now;
        self.save_index(index)
    }

    /// Marks certificate `serial` revoked at `now` for `reason` and writes
    /// a new CRL. `Ok(None)` if it was revoked already (nothing written);
    /// else the certificate as revoked.
    pub fn revoke(
        &self,
        index: &mut Index,
        serial: u64,
        reason: Reason,
        now: i64,
    ) -> Result<Option<Issued>, CaError> {
        let Some(c) = index.certs.iter_mut().find(|c| c.serial == serial) else {
            return Err(CaError::Refused(format!(
                "no certificate with serial {serial}"
            )));
        };
        if c.revoked.is_some() {
            return Ok(None);
        }
        c.revoked = Some(Revocation { at: now, reason });
        let c = c.clone();
        self.write_crl(index, now)?;
        Ok(Some(c))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh directory under the target's tmp dir (removed at drop).
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "dnatctl-ca-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&p)
                .unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
            Self(p)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    pub const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 30);
    pub const T0: i64 = 1_750_000_000;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn init_modes_and_refusals() {
        let t = TempDir::new("init");
        let dir = t.path().join("ca");
        let ca = Ca::init(&dir, PUBLIC, T0).unwrap();
        assert_eq!(mode(&dir), 0o700);
        for f in [KEY, CERT, INDEX, CRL_DER, CRL_PEM, LOCK] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
        assert_eq!(mode(&dir.join(CERTS)), 0o700);
        // No temporary file left behind.
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        let index = ca.lock().unwrap().index().unwrap();
        assert_eq!(
            (
                index.public,
                index.next_serial,
                index.crl_number,
                index.crl_updated
            ),
            (PUBLIC, 1, 1, T0)
        );
        assert!(index.certs.is_empty());
        // A second init refuses and leaves the key alone.
        let key = fs::read(dir.join(KEY)).unwrap();
        let e = Ca::init(&dir, PUBLIC, T0).unwrap_err();
        assert!(e.to_string().contains("holds a CA already"), "{e}");
        assert_eq!(e.exit_code(), 1);
        assert_eq!(fs::read(dir.join(KEY)).unwrap(), key);
        // Re-opening gives the same key and certificate.
        let again = Ca::open(&dir).unwrap();
        assert_eq!(again.cert_der, ca.cert_der);
        assert_eq!(again.key.serialize_der(), ca.key.serialize_der());

        // An open directory is refused, for init and open.
        let open = t.path().join("open");
        fs::DirBuilder::new().mode(0o755).create(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        let e = Ca::init(&open, PUBLIC, T0).unwrap_err();
        assert!(e.to_string().contains("mode 0755"), "{e}");
        assert!(fs::read_dir(&open).unwrap().next().is_none());
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
        assert!(Ca::open(&dir)
            .unwrap_err()
            .to_string()
            .contains("group or others"));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::set_permissions(dir.join(KEY), fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Ca::open(&dir).unwrap_err().to_string().contains(KEY));
        fs::set_permissions(dir.join(KEY), fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Ca::open(&dir).is_ok());
        // Nothing there.
        let e = Ca::open(&t.path().join("none")).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        fs::set_permissions(&open, fs::Permissions::from_mode(0o700)).unwrap();
        let e = Ca::open(&open).unwrap_err();
        assert!(e.to_string().contains("holds no CA"), "{e}");
    }

    #[test]
    fn links_and_other_owners_refused() {
        use std::os::unix::fs::symlink;
        let t = TempDir::new("owner");
        let dir = t.path().join("ca");
        Ca::init(&dir, PUBLIC, T0).unwrap();
        assert_eq!(euid().unwrap(), fs::metadata(&dir).unwrap().uid());
        // A link to the directory, for open and init.
        let link = t.path().join("link");
        symlink(&dir, &link).unwrap();
        let e = Ca::open(&link).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(e.exit_code(), 1);
        let e = Ca::init(&link, PUBLIC, T0).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        // The key a link (to a private copy): refused.
        let copy = t.path().join("key-copy.pem");
        fs::copy(dir.join(KEY), &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o600)).unwrap();
        fs::rename(dir.join(KEY), t.path().join("key-orig.pem")).unwrap();
        symlink(&copy, dir.join(KEY)).unwrap();
        let e = Ca::open(&dir).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} is a symbolic link; the CA keeps its key there: give the real path",
                dir.join(KEY).display()
            )
        );
        fs::remove_file(dir.join(KEY)).unwrap();
        fs::rename(t.path().join("key-orig.pem"), dir.join(KEY)).unwrap();
        assert!(Ca::open(&dir).is_ok());
        // Another user's directory or key (as root: chown; else skipped).
        let other = if euid().unwrap() == 0 { 65534 } else { 0 };
        let chown = |p: &Path, uid| std::os::unix::fs::chown(p, Some(uid), None);
        if chown(&dir, other).is_err() {
            eprintln!("links_and_other_owners_refused: owner part skipped (not root)");
            return;
        }
        let e = Ca::open(&dir).unwrap_err();
        assert!(
            e.to_string().contains(&format!(
                "is owned by uid {other}, not by this process's uid"
            )),
            "{e}"
        );
        let me = euid().unwrap();
        chown(&dir, me).unwrap();
        chown(&dir.join(KEY), other).unwrap();
        let e = Ca::open(&dir).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&dir.join(KEY).display().to_string()),
            "{e}"
        );
        assert!(e.to_string().contains("chown it"), "{e}");
        chown(&dir.join(KEY), me).unwrap();
        assert!(Ca::open(&dir).is_ok());
        // init into another user's empty directory.
        let empty = t.path().join("empty");
        fs::DirBuilder::new().mode(0o700).create(&empty).unwrap();
        chown(&empty, other).unwrap();
        assert!(Ca::init(&empty, PUBLIC, T0)
            .unwrap_err()
            .to_string()
            .contains("is owned by uid"));
    }

    #[test]
    fn ca_certificate() {
        let t = TempDir::new("cacert");
        let ca = Ca::init(t.path(), PUBLIC, T0).unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(&ca.cert_der).unwrap();
        assert_eq!(x.subject().to_string(), "CN=dnat local CA 203.0.113.30");
        assert_eq!(x.issuer(), x.subject());
        let bc = x.basic_constraints().unwrap().unwrap();
        assert!(bc.value.ca);
        let ku = x.key_usage().unwrap().unwrap();
        assert!(ku.value.key_cert_sign() && ku.value.crl_sign());
        assert_eq!(x.validity().not_before.timestamp(), T0 - 60);
        assert_eq!(x.validity().not_after.timestamp(), T0 + CA_SECS);
        x.verify_signature(None).unwrap();
    }

    #[test]
    fn index_and_crl_survive_reopening() {
        let t = TempDir::new("reopen");
        let ca = Ca::init(t.path(), PUBLIC, T0).unwrap();
        {
            let lock = ca.lock().unwrap();
            let mut index = lock.index().unwrap();
            for serial in 1..=3 {
                index.certs.push(Issued {
                    serial,
                    host: Ipv4Addr::new(10, 0, 0, serial as u8),
                    public: PUBLIC,
                    blocks: vec![],
                    not_before: T0,
                    not_after: T0 + 100,
                    sha256: String::new(),
                    revoked: None,
                });
            }
            index.next_serial = 4;
            lock.save_index(&index).unwrap();
            let r = lock.revoke(&mut index, 2, Reason::Admin, T0 + 5).unwrap();
            assert_eq!(r.unwrap().serial, 2);
            // Revoking again writes nothing.
            assert_eq!(
                lock.revoke(&mut index, 2, Reason::Admin, T0 + 6).unwrap(),
                None
            );
            assert!(lock.revoke(&mut index, 9, Reason::Admin, T0).is_err());
        }
        let ca = Ca::open(t.path()).unwrap();
        let index = ca.lock().unwrap().index().unwrap();
        assert_eq!((index.next_serial, index.crl_number), (4, 2));
        assert_eq!(index.revoked_count(), 1);
        assert_eq!(index.get(2).unwrap().status(T0 + 10), Status::Revoked);
        assert_eq!(index.get(1).unwrap().status(T0 + 10), Status::Valid);
        assert_eq!(index.get(1).unwrap().status(T0 + 100), Status::Expired);
        assert_eq!(index.get(1).unwrap().secs_left(T0 + 10), Some(90));
        // The CRL lists serial 2, signed by the CA.
        let der = ca.crl_der().unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&der).unwrap();
        let serials: Vec<u64> = crl
            .iter_revoked_certificates()
            .map(|r| {
                r.raw_serial()
                    .iter()
                    .fold(0u64, |a, b| a << 8 | u64::from(*b))
            })
            .collect();
        assert_eq!(serials, vec![2]);
        assert_eq!(crl.crl_number().map(|n| n.to_string()), Some("2".into()));
        let (_, cacert) = x509_parser::parse_x509_certificate(&ca.cert_der).unwrap();
        crl.verify_signature(cacert.public_key()).unwrap();
        let pem = fs::read_to_string(t.path().join(CRL_PEM)).unwrap();
        assert!(pem.starts_with("-----BEGIN X509 CRL-----\n"));
    }

    #[test]
    fn lock_excludes_other_openers() {
        let t = TempDir::new("lock");
        let ca = Ca::init(t.path(), PUBLIC, T0).unwrap();
        let held = ca.lock().unwrap();
        let f = OpenOptions::new()
            .write(true)
            .open(t.path().join(LOCK))
            .unwrap();
        assert!(f.try_lock().is_err());
        drop(held);
        assert!(f.try_lock().is_ok());
    }

    #[test]
    fn helpers() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(colon_hex("ab01"), "AB:01");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
