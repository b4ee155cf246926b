// SPDX-License-Identifier: GPL-2.0

//! The issuing rules, the pins, and the upkeep of the issued certificates.
//!
//! A host's CSR is honoured if its signature verifies with its own key (an
//! ECDSA P-256 key), the host is not revoked in the router and holds at
//! least one block, every block the CSR claims (in the dnat block
//! extension of its extensionRequest) lies inside a block of the same kind
//! the host holds now, and any IP address in its subjectAltName is the
//! shared public address. Without a claim, every block the host holds is
//! certified. The certificate lives until the earliest end of the leases
//! of its blocks, at most `max_validity` seconds.
//!
//! Each certified block is pinned in the router for the certificate's
//! life (`PIN_BLOCK`): its lease does not end before, and the host cannot
//! give it back. Revoking the certificate removes the pins. The upkeep
//! ([`sweep`]) revokes the certificates of hosts the administrator
//! revoked in the router and of blocks the router no longer gives their
//! host, puts back pins the router lost, and keeps the CRL fresh.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyIdMethod, KeyUsagePurpose, SanType, SerialNumber, SubjectPublicKeyInfo,
    PKCS_ECDSA_P256_SHA256,
};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::ext::{self, Block};
use super::router::{Held, Router, RouterError};
use super::store::{
    self, Ca, Index, Issued, Reason, Revocation, Status, BACKDATE_SECS, CRL_SECS,
    MAX_VALID_PER_HOST,
};
use super::wire::Code;
use super::CaError;

/// `id-kp-ipsecIKE` (RFC 4945).
pub const EKU_IPSEC_IKE: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 17];
/// Default and most seconds a certificate lives.
pub const MAX_VALIDITY: u32 = 86400;
/// A certificate is not issued for less than this (the least
/// `--max-validity`).
pub const MIN_VALIDITY: u32 = crate::limit::VALIDITY.min;
/// Seconds a pin may differ from its certificate's end without being set
/// again (the router and the CA count seconds each on its own).
pub const PIN_SLACK: u32 = 2;

/// Serialises, within the process, every operation that reads the
/// router's blocks and changes pins or the index ([`issue`], [`sweep`],
/// [`revoke`]): the periodic upkeep and the requests' run in different
/// threads, and a sweep working from a dump taken before an issue must
/// not undo that issue's pins. Taken before the directory's lock (which
/// also excludes `cert revoke` in other processes).
static WORK: Mutex<()> = Mutex::new(());

fn work() -> MutexGuard<'static, ()> {
    WORK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a request is refused: the status and the text sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
}

impl Refusal {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(Code::Internal, e.to_string())
}

/// What a CSR asks for, once checked.
#[derive(Debug)]
pub struct Csr {
    pub key: SubjectPublicKeyInfo,
    /// The blocks claimed; `None`: all the host holds.
    pub claims: Option<Vec<Block>>,
    /// IP addresses of its subjectAltName.
    pub ips: Vec<IpAddr>,
}

/// Parses a DER CSR, checks its key type and signature, and reads what it
/// claims.
pub fn parse_csr(der: &[u8]) -> Result<Csr, Refusal> {
    let malformed = |m: &str| Refusal::new(Code::Malformed, m);
    let (rest, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| malformed(&format!("not a DER PKCS#10 certification request: {e}")))?;
    if !rest.is_empty() {
        return Err(malformed("bytes after the certification request"));
    }
    let info = &csr.certification_request_info;
    let key = SubjectPublicKeyInfo::from_der(info.subject_pki.raw).map_err(|_| {
        Refusal::new(
            Code::UnsupportedKey,
            format!(
                "the key ({}) is not an ECDSA P-256 key",
                info.subject_pki.algorithm.algorithm.to_id_string()
            ),
        )
    })?;
    if rcgen::PublicKeyData::algorithm(&key) != &PKCS_ECDSA_P256_SHA256 {
        return Err(Refusal::new(
            Code::UnsupportedKey,
            "the key is not an ECDSA P-256 key",
        ));
    }
    csr.verify_signature().map_err(|e| {
        Refusal::new(
            Code::BadSignature,
            format!("the request's signature does not verify with its key: {e}"),
        )
    })?;
    let mut claims = None;
    let mut ips = Vec::new();
    for attr in info.iter_attributes() {
        let ParsedCriAttribute::ExtensionRequest(req) = attr.parsed_attribute() else {
            continue;
        };
        for e in &req.extensions {
            if e.oid.to_id_string() == ext::OID_STR {
                if claims.is_some() {
                    return Err(malformed("two dnat block extensions"));
                }
                let blocks = ext::decode(e.value)
                    .map_err(|m| malformed(&format!("dnat block extension: {m}")))?;
                claims = Some(blocks);
            } else if let ParsedExtension::SubjectAlternativeName(san) = e.parsed_extension() {
                for n in &san.general_names {
                    if let GeneralName::IPAddress(b) = n {
                        let ip = match b.len() {
                            4 => IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default()),
                            16 => IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default()),
                            _ => return Err(malformed("an IP address of a bad length")),
                        };
                        ips.push(ip);
                    }
                }
            }
        }
    }
    Ok(Csr { key, claims, ips })
}

/// Refuses `host` if it is outside the router's LAN prefixes.
pub fn check_lan(router: &dyn Router, host: Ipv4Addr) -> Result<(), Refusal> {
    let lan = router.lan_prefixes().map_err(internal)?;
    if lan.iter().any(|p| p.contains(host)) {
        Ok(())
    } else {
        let list: Vec<String> = lan.iter().map(|p| p.to_string()).collect();
        Err(Refusal::new(
            Code::NotLanHost,
            format!("{host} is not on the LAN ({})", list.join(", ")),
        ))
    }
}

/// The issuing policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Most seconds a certificate lives.
    pub max_validity: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_validity: MAX_VALIDITY,
        }
    }
}

/// Longest organizationalUnitName (X.520 ub-organizational-unit-name).
const OU_MAX: usize = 64;

/// The blocks in words for the subject's OU, so that `openssl x509 -text`
/// shows them (the extension is the binding; this is for people):
/// `ports 40000-40063, spis 0x1000-0x10ff`, cut to [`OU_MAX`] with `...`.
fn blocks_summary(blocks: &[Block]) -> String {
    let all = blocks
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() <= OU_MAX {
        return all;
    }
    let mut cut = String::new();
    for part in all.split(", ") {
        let sep = if cut.is_empty() { "" } else { ", " };
        if cut.len() + sep.len() + part.len() + ", ...".len() > OU_MAX {
            break;
        }
        cut.push_str(sep);
        cut.push_str(part);
    }
    cut.push_str(", ...");
    cut
}

/// The certificate of `host` with `key` for `blocks`.
#[allow(clippy::too_many_arguments)]
fn host_params(
    host: Ipv4Addr,
    public: Ipv4Addr,
    blocks: &[Block],
    serial: u64,
    not_before: i64,
    not_after: i64,
) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("dnat host {host}"));
    dn.push(DnType::OrganizationalUnitName, blocks_summary(blocks));
    p.distinguished_name = dn;
    p.subject_alt_names = vec![SanType::IpAddress(IpAddr::V4(public))];
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::Other(EKU_IPSEC_IKE.to_vec()),
    ];
    p.custom_extensions = vec![CustomExtension::from_oid_content(
        ext::OID,
        ext::encode(blocks),
    )];
    p.use_authority_key_identifier_extension = true;
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = store::datetime(not_before);
    p.not_after = store::datetime(not_after);
    p
}

/// The held block of `host` containing `b`.
fn holder<'a>(held: &'a [Held], host: Ipv4Addr, b: &Block) -> Option<&'a Held> {
    held.iter().find(|h| h.host == host && h.block.contains(b))
}

/// A certificate issued: its index entry and DER.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub issued: Issued,
    pub der: Vec<u8>,
    /// The host's older certificates revoked to keep it within
    /// [`MAX_VALID_PER_HOST`] (reason superseded).
    pub superseded: Vec<u64>,
}

/// Issues a certificate to `host` (a LAN host: see [`check_lan`]) for the
/// DER CSR `csr`, pins its blocks, and records it.
pub fn issue(
    ca: &Ca,
    router: &dyn Router,
    host: Ipv4Addr,
    csr: &[u8],
    policy: &Policy,
    now: i64,
) -> Result<IssuedCert, Refusal> {
    let csr = parse_csr(csr)?;
    // From the router's dump to the last pin, nothing else in the process
    // sweeps or issues, and no other process changes the index.
    let _work = work();
    let lock = ca.lock().map_err(internal)?;
    if router.revoked_hosts().map_err(internal)?.contains(&host) {
        return Err(Refusal::new(
            Code::HostRevoked,
            format!("host {host} is revoked in the router"),
        ));
    }
    let held: Vec<Held> = router
        .blocks()
        .map_err(internal)?
        .into_iter()
        .filter(|h| h.host == host)
        .collect();
    if held.is_empty() {
        return Err(Refusal::new(
            Code::NoBlocks,
            format!("host {host} holds no ports or SPIs"),
        ));
    }
    let blocks = match &csr.claims {
        Some(claims) => {
            for c in claims {
                if holder(&held, host, c).is_none() {
                    return Err(Refusal::new(
                        Code::BlocksNotHeld,
                        format!("host {host} does not hold {c}"),
                    ));
                }
            }
            claims.clone()
        }
        None => {
            let mut all: Vec<Block> = held.iter().map(|h| h.block).collect();
            all.sort();
            all.dedup();
            all
        }
    };
    let mut validity = policy.max_validity;
    for b in &blocks {
        if let Some(left) = holder(&held, host, b).and_then(|h| h.expires) {
            if left < MIN_VALIDITY {
                return Err(Refusal::new(
                    Code::BlocksNotHeld,
                    format!("the lease of {b} ends in {left} s: renew it first"),
                ));
            }
            validity = validity.min(left);
        }
    }
    let public = router.public_addr().map_err(internal)?;
    if let Some(ip) = csr.ips.iter().find(|ip| **ip != IpAddr::V4(public)) {
        return Err(Refusal::new(
            Code::WrongPublicAddress,
            format!("{ip} is not the shared public address {public}"),
        ));
    }
    let not_before = now - BACKDATE_SECS;
    let not_after = now + i64::from(validity);

    let mut index = lock.index().map_err(internal)?;
    // Pin first: a block given back since the dump is refused here.
    let mut pinned = Vec::new();
    for b in &blocks {
        match router.pin(host, b, validity) {
            Ok(()) => pinned.push(*b),
            Err(e) => {
                for p in &pinned {
                    let _ = router.pin(host, p, 0);
                }
                let _ = apply_pins(router, &index, host, now);
                return Err(match e {
                    RouterError::NotHeld(_) => Refusal::new(
                        Code::BlocksNotHeld,
                        format!("host {host} does not hold {b} any more"),
                    ),
                    e => internal(format!("pinning {b}: {e}")),
                });
            }
        }
    }
    // At most MAX_VALID_PER_HOST valid certificates per host: the oldest
    // beyond go, superseded by this one.
    let mut valid: Vec<u64> = index
        .certs
        .iter()
        .filter(|c| c.host == host && c.status(now) == Status::Valid)
        .map(|c| c.serial)
        .collect();
    valid.sort_unstable();
    let excess = (valid.len() + 1).saturating_sub(MAX_VALID_PER_HOST);
    let superseded: Vec<u64> = valid[..excess].to_vec();
    for c in index.certs.iter_mut() {
        if superseded.contains(&c.serial) {
            c.revoked = Some(Revocation {
                at: now,
                reason: Reason::Superseded,
            });
        }
    }
    let serial = index.next_serial;
    let params = host_params(host, public, &blocks, serial, not_before, not_after);
    let signed = ca
        .issuer()
        .and_then(|issuer| {
            params
                .signed_by(&csr.key, &issuer)
                .map_err(|e| CaError::Crypto(format!("signing the certificate: {e}")))
        })
        .map_err(internal)?;
    let der = signed.der().to_vec();
    let issued = Issued {
        serial,
        host,
        public,
        blocks,
        not_before,
        not_after,
        sha256: store::sha256_hex(&der),
        revoked: None,
    };
    index.next_serial += 1;
    index.certs.push(issued.clone());
    lock.save_cert(serial, &der).map_err(internal)?;
    if superseded.is_empty() {
        lock.prune(&mut index, now);
        lock.save_index(&index).map_err(internal)?;
    } else {
        // Prunes too, and saves the index.
        lock.write_crl(&mut index, now).map_err(internal)?;
    }
    // The superseded certificates' blocks are unpinned unless a valid
    // certificate (this one) names them; longer-lived certificates of the
    // host keep their pins.
    for s in &superseded {
        if let Some(c) = index.get(*s) {
            let _ = unpin(router, &index, c, now);
        }
    }
    let _ = apply_pins(router, &index, host, now);
    Ok(IssuedCert {
        issued,
        der,
        superseded,
    })
}

/// Pins the blocks of every valid certificate of `host` for the rest of
/// its life, shortest-lived first (so that where two certificates name one
/// block the later end stays, whether the router keeps the last pin or the
/// longest).
pub fn apply_pins(
    router: &dyn Router,
    index: &Index,
    host: Ipv4Addr,
    now: i64,
) -> Result<(), (u64, RouterError)> {
    let mut certs: Vec<(&Issued, u32)> = index
        .certs
        .iter()
        .filter(|c| c.host == host)
        .filter_map(|c| c.secs_left(now).map(|s| (c, s)))
        .collect();
    certs.sort_by_key(|(c, s)| (*s, c.serial));
    let mut first_err = None;
    for (c, secs) in certs {
        for b in &c.blocks {
            if let Err(e) = router.pin(host, b, secs) {
                first_err.get_or_insert((c.serial, e));
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// Removes the pins of `cert`'s blocks, then pins again those of the
/// host's other valid certificates. Errors other than "not held" (the
/// router dropped the blocks already) and "no module" are returned.
pub fn unpin(router: &dyn Router, index: &Index, cert: &Issued, now: i64) -> Result<(), String> {
    let mut errors = Vec::new();
    for b in &cert.blocks {
        match router.pin(cert.host, b, 0) {
            Ok(()) | Err(RouterError::NotHeld(_)) => {}
            // No module, no pins.
            Err(RouterError::NoFamily(_)) => return Ok(()),
            Err(e) => errors.push(format!("unpinning {b} of host {}: {e}", cert.host)),
        }
    }
    if let Err((serial, e)) = apply_pins(router, index, cert.host, now) {
        if !matches!(e, RouterError::NotHeld(_) | RouterError::NoFamily(_)) {
            errors.push(format!("pinning the blocks of certificate {serial}: {e}"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// What [`sweep`] checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Check that the router still gives every certified block to its
    /// host, and put back lost pins (else only revoked hosts are checked).
    pub blocks: bool,
    /// Pin every valid certificate's blocks again (at start: a router
    /// restart loses pins).
    pub repin_all: bool,
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Certificates revoked, and why.
    pub revoked: Vec<(u64, Reason)>,
    /// Hosts whose pins were put back.
    pub repinned: Vec<Ipv4Addr>,
    /// Held blocks unpinned: no valid certificate names them.
    pub unpinned: Vec<(Ipv4Addr, Block)>,
    /// A new CRL was written.
    pub crl_written: bool,
    /// What failed (the rest was done).
    pub errors: Vec<String>,
}

/// The upkeep: revokes the certificates of hosts revoked in the router
/// and (with `what.blocks`) of blocks their host no longer holds, and
/// makes every held block's pin end with the last valid certificate naming
/// it (pins put back, set again, removed); rewrites the CRL when half its
/// life is gone.
///
/// The whole sweep, from the router's dumps to the last pin, runs under
/// the process's work lock and the directory's lock: an issue or a `cert
/// revoke` happens wholly before or after it, so no pin is judged from a
/// dump older than the index.
pub fn sweep(ca: &Ca, router: &dyn Router, what: Sweep, now: i64) -> Result<SweepReport, CaError> {
    let _work = work();
    let lock = ca.lock()?;
    let mut report = SweepReport::default();
    let revoked_hosts: BTreeSet<Ipv4Addr> = match router.revoked_hosts() {
        Ok(v) => v.into_iter().collect(),
        Err(e) => {
            report
                .errors
                .push(format!("reading the revoked hosts: {e}"));
            return Ok(report);
        }
    };
    let held = if what.blocks {
        match router.blocks() {
            Ok(h) => Some(h),
            Err(e) => {
                report.errors.push(format!("reading the blocks: {e}"));
                None
            }
        }
    } else {
        None
    };
    let mut index = lock.index()?;
    let mut repin: BTreeSet<Ipv4Addr> = BTreeSet::new();
    for c in index.certs.iter_mut() {
        if c.status(now) != Status::Valid {
            continue;
        }
        let lost = held
            .as_ref()
            .is_some_and(|h| c.blocks.iter().any(|b| holder(h, c.host, b).is_none()));
        let reason = if revoked_hosts.contains(&c.host) {
            Some(Reason::HostRevoked)
        } else if lost {
            Some(Reason::BlocksLost)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                c.revoked = Some(Revocation { at: now, reason });
                report.revoked.push((c.serial, reason));
            }
            None if what.repin_all => {
                repin.insert(c.host);
            }
            None => {}
        }
    }
    if !report.revoked.is_empty() || index.crl_updated + CRL_SECS / 2 <= now {
        lock.write_crl(&mut index, now)?;
        report.crl_written = true;
    }
    match &held {
        Some(held) => {
            // Each held block's pin should end with the last valid
            // certificate naming it: unpin blocks no valid certificate
            // names (revoked just now, or left by a race), pin again
            // hosts whose pins are missing or wrong.
            for h in held {
                let want = index
                    .certs
                    .iter()
                    .filter(|c| c.host == h.host && c.blocks.iter().any(|b| h.block.contains(b)))
                    .filter_map(|c| c.secs_left(now))
                    .max();
                match (want, h.pinned) {
                    (None, Some(_)) => match router.pin(h.host, &h.block, 0) {
                        Ok(()) | Err(RouterError::NotHeld(_)) => {
                            report.unpinned.push((h.host, h.block))
                        }
                        Err(e) => report
                            .errors
                            .push(format!("unpinning {} of host {}: {e}", h.block, h.host)),
                    },
                    (Some(_), None) => {
                        repin.insert(h.host);
                    }
                    (Some(w), Some(p)) if w.abs_diff(p) > PIN_SLACK => {
                        repin.insert(h.host);
                    }
                    _ => {}
                }
            }
        }
        None => {
            for (serial, _) in &report.revoked {
                if let Some(c) = index.get(*serial) {
                    if let Err(e) = unpin(router, &index, c, now) {
                        report.errors.push(e);
                    }
                }
            }
        }
    }
    let mut lost = Vec::new();
    for host in repin {
        match apply_pins(router, &index, host, now) {
            Ok(()) => report.repinned.push(host),
            Err((serial, RouterError::NotHeld(_))) => lost.push(serial),
            Err((serial, e)) => report
                .errors
                .push(format!("pinning the blocks of certificate {serial}: {e}")),
        }
    }
    if !lost.is_empty() {
        // Given back between the dump and the pin: revoke those too.
        let mut any = false;
        for serial in lost {
            if let Some(c) = index.certs.iter_mut().find(|c| c.serial == serial) {
                if c.status(now) == Status::Valid {
                    c.revoked = Some(Revocation {
                        at: now,
                        reason: Reason::BlocksLost,
                    });
                    report.revoked.push((serial, Reason::BlocksLost));
                    any = true;
                }
            }
        }
        if any {
            lock.write_crl(&mut index, now)?;
            report.crl_written = true;
        }
    }
    Ok(report)
}

/// `cert revoke`: revokes certificate `serial` and removes its pins.
/// Returns the certificate (`None` if it was revoked already) and the
/// unpinning error, if any (the revocation stands).
pub fn revoke(
    ca: &Ca,
    router: &dyn Router,
    serial: u64,
    now: i64,
) -> Result<(Option<Issued>, Option<String>), CaError> {
    let _work = work();
    let lock = ca.lock()?;
    let mut index = lock.index()?;
    let Some(c) = lock.revoke(&mut index, serial, Reason::Admin, now)? else {
        return Ok((None, None));
    };
    // Unpinned under the lock: a sweep or an issue sees the index and the
    // pins agree.
    let err = if c.not_after > now {
        unpin(router, &index, &c, now).err()
    } else {
        None
    };
    Ok((Some(c), err))
}

/// Counts of the certificates by status.
pub fn census(index: &Index, now: i64) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for c in &index.certs {
        *m.entry(c.status(now).name()).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::ca::ext::Kind;
    use crate::ca::router::fake::FakeRouter;
    use crate::ca::store::tests::{TempDir, PUBLIC, T0};
    use rcgen::KeyPair;

    pub const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    pub const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

    pub fn ports(first: u32, last: u32) -> Block {
        Block {
            kind: Kind::Ports,
            first,
            last,
        }
    }

    pub fn spis(first: u32, last: u32) -> Block {
        Block {
            kind: Kind::Spis,
            first,
            last,
        }
    }

    /// A P-256 CSR claiming `claims` (none: no extension), with `sans`.
    pub fn csr(key: &KeyPair, claims: Option<&[Block]>, sans: &[IpAddr]) -> Vec<u8> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "dnat host");
        p.distinguished_name = dn;
        p.subject_alt_names = sans.iter().map(|ip| SanType::IpAddress(*ip)).collect();
        if let Some(c) = claims {
            p.custom_extensions = vec![CustomExtension::from_oid_content(ext::OID, ext::encode(c))];
        }
        p.serialize_request(key).unwrap().der().to_vec()
    }

    pub fn p256() -> KeyPair {
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap()
    }

    /// A CA, and a router where H1 holds ports 40000-40063 (lease 3600 s)
    /// and SPIs 0x1000-0x10ff (no expiry), H2 ports 40064-40127.
    pub fn setup(tag: &str) -> (TempDir, Ca, FakeRouter) {
        let t = TempDir::new(tag);
        let ca = Ca::init(t.path(), PUBLIC, T0).unwrap();
        let r = FakeRouter::new("10.0.0.0/24");
        r.hold(H1, ports(40000, 40063), Some(3600));
        r.hold(H1, spis(0x1000, 0x10ff), None);
        r.hold(H2, ports(40064, 40127), Some(7200));
        (t, ca, r)
    }

    fn ext_blocks(der: &[u8]) -> Vec<Block> {
        let (_, x) = x509_parser::parse_x509_certificate(der).unwrap();
        let e = x
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == ext::OID_STR)
            .unwrap();
        assert!(!e.critical);
        ext::decode(e.value).unwrap()
    }

    #[test]
    fn issues_all_held_blocks_without_a_claim() {
        let (_t, ca, r) = setup("all");
        let key = p256();
        let c = issue(&ca, &r, H1, &csr(&key, None, &[]), &Policy::default(), T0).unwrap();
        let all = vec![ports(40000, 40063), spis(0x1000, 0x10ff)];
        assert_eq!(c.issued.serial, 1);
        assert_eq!(c.issued.blocks, all);
        assert_eq!(ext_blocks(&c.der), all);
        // The lease of the ports (3600 s) bounds the life.
        assert_eq!(c.issued.not_before, T0 - 60);
        assert_eq!(c.issued.not_after, T0 + 3600);
        let (_, x) = x509_parser::parse_x509_certificate(&c.der).unwrap();
        assert_eq!(
            x.subject().to_string(),
            "CN=dnat host 10.0.0.1, OU=ports 40000-40063, spis 0x1000-0x10ff"
        );
        let many: Vec<Block> = (0..8)
            .map(|i| ports(40000 + i * 100, 40000 + i * 100 + 9))
            .collect();
        let ou = blocks_summary(&many);
        assert!(ou.len() <= OU_MAX && ou.ends_with(", ..."), "{ou}");
        assert_eq!(x.issuer().to_string(), "CN=dnat local CA 203.0.113.30");
        assert_eq!(x.validity().not_after.timestamp(), T0 + 3600);
        assert_eq!(x.raw_serial(), &[1]);
        let san = x.subject_alternative_name().unwrap().unwrap().value;
        assert_eq!(
            san.general_names,
            vec![GeneralName::IPAddress(&[203, 0, 113, 30])]
        );
        let ku = x.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.digital_signature());
        assert!(!ku.value.key_cert_sign());
        let eku = x.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth);
        assert_eq!(eku.other.len(), 1);
        assert_eq!(eku.other[0].to_id_string(), "1.3.6.1.5.5.7.3.17");
        assert!(!x.basic_constraints().unwrap().unwrap().value.ca);
        // The key is the CSR's; the CA signed it.
        assert_eq!(
            x.public_key().raw,
            rcgen::PublicKeyData::subject_public_key_info(&key).as_slice()
        );
        let (_, cax) = x509_parser::parse_x509_certificate(&ca.cert_der).unwrap();
        x.verify_signature(Some(cax.public_key())).unwrap();
        // Pinned for the certificate's life.
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), Some(3600));
        assert_eq!(r.pin_of(H1, &spis(0x1000, 0x10ff)), Some(3600));
        // Recorded.
        let lock = ca.lock().unwrap();
        let index = lock.index().unwrap();
        assert_eq!(index.next_serial, 2);
        assert_eq!(index.get(1).unwrap(), &c.issued);
        let pem = lock.cert_pem(1).unwrap();
        assert_eq!(pem::parse(pem).unwrap().contents(), &c.der[..]);
    }

    #[test]
    fn issues_a_claim_inside_held_blocks() {
        let (_t, ca, r) = setup("claim");
        let claim = [spis(0x1010, 0x101f), ports(40000, 40031)];
        let policy = Policy { max_validity: 600 };
        let c = issue(&ca, &r, H1, &csr(&p256(), Some(&claim), &[]), &policy, T0).unwrap();
        assert_eq!(
            c.issued.blocks,
            vec![ports(40000, 40031), spis(0x1010, 0x101f)]
        );
        assert_eq!(ext_blocks(&c.der), c.issued.blocks);
        assert_eq!(c.issued.not_after, T0 + 600);
        assert_eq!(r.pin_of(H1, &ports(40000, 40031)), Some(600));
        // Only the SPIs: no lease, so the most.
        let c = issue(
            &ca,
            &r,
            H1,
            &csr(
                &p256(),
                Some(&[spis(0x1000, 0x10ff)]),
                &[IpAddr::V4(PUBLIC)],
            ),
            &Policy::default(),
            T0,
        )
        .unwrap();
        assert_eq!(c.issued.serial, 2);
        assert_eq!(c.issued.not_after, T0 + 86400);
    }

    #[test]
    fn refusals() {
        let (_t, ca, r) = setup("refuse");
        let key = p256();
        let p = Policy::default();
        let code = |host, der: &[u8]| issue(&ca, &r, host, der, &p, T0).unwrap_err();
        // H2's ports, part outside, another kind.
        for claim in [
            vec![ports(40064, 40065)],
            vec![ports(40000, 40064)],
            vec![ports(40000, 40001), spis(0x2000, 0x2000)],
            vec![spis(40000, 40001)],
        ] {
            let e = code(H1, &csr(&key, Some(&claim), &[]));
            assert_eq!(e.code, Code::BlocksNotHeld, "{claim:?}: {e:?}");
        }
        let e = code(H1, &csr(&key, Some(&[ports(40064, 40127)]), &[]));
        assert_eq!(e.message, "host 10.0.0.1 does not hold ports 40064-40127");
        // Malformed: garbage, truncated, trailing bytes.
        let good = csr(&key, None, &[]);
        assert_eq!(code(H1, b"hello").code, Code::Malformed);
        assert_eq!(code(H1, &good[..good.len() - 3]).code, Code::Malformed);
        let mut long = good.clone();
        long.push(0);
        assert_eq!(code(H1, &long).code, Code::Malformed);
        // Corrupted signature (last byte of the BIT STRING).
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 1] ^= 0x01;
        assert_eq!(code(H1, &bad).code, Code::BadSignature);
        // A changed subject: the signature no longer covers it.
        let mut bad = good.clone();
        let at = bad.windows(9).position(|w| w == b"dnat host").unwrap();
        bad[at] = b'D';
        assert_eq!(code(H1, &bad).code, Code::BadSignature);
        // Another public address in the SAN.
        let e = code(
            H1,
            &csr(&key, None, &[IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]),
        );
        assert_eq!(e.code, Code::WrongPublicAddress);
        // A P-384 key.
        let k384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        assert_eq!(code(H1, &csr(&k384, None, &[])).code, Code::UnsupportedKey);
        // A malformed claim.
        let mut p = CertificateParams::default();
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            ext::OID,
            vec![0x30, 0x00],
        )];
        let der = p.serialize_request(&key).unwrap().der().to_vec();
        let e = code(H1, &der);
        assert_eq!(e.code, Code::Malformed);
        assert!(e.message.contains("dnat block extension"), "{e:?}");
        // No blocks; revoked.
        assert_eq!(code(Ipv4Addr::new(10, 0, 0, 9), &good).code, Code::NoBlocks);
        r.revoke(H2);
        assert_eq!(code(H2, &good).code, Code::HostRevoked);
        // A lease about to end.
        r.hold(Ipv4Addr::new(10, 0, 0, 4), ports(50000, 50001), Some(30));
        assert_eq!(
            code(Ipv4Addr::new(10, 0, 0, 4), &good).code,
            Code::BlocksNotHeld
        );
        // The router down.
        r.0.lock().unwrap().down = Some(RouterError::NoFamily("no dnat_router".into()));
        assert_eq!(code(H1, &good).code, Code::Internal);
        // Nothing issued, nothing pinned.
        assert!(r.pins().is_empty());
        let index = ca.lock().unwrap().index().unwrap();
        assert!(index.certs.is_empty());
        assert_eq!(index.next_serial, 1);
    }

    #[test]
    fn lan_check() {
        let r = FakeRouter::new("10.0.0.0/24");
        assert!(check_lan(&r, H1).is_ok());
        let e = check_lan(&r, Ipv4Addr::new(127, 0, 0, 1)).unwrap_err();
        assert_eq!(e.code, Code::NotLanHost);
        assert_eq!(e.message, "127.0.0.1 is not on the LAN (10.0.0.0/24)");
    }

    #[test]
    fn pin_race_refuses() {
        let (_t, ca, r) = setup("race");
        // A router whose pin says "not held" although the dump showed it.
        struct Racy<'a>(&'a FakeRouter);
        impl Router for Racy<'_> {
            fn public_addr(&self) -> Result<Ipv4Addr, RouterError> {
                self.0.public_addr()
            }
            fn lan_prefixes(&self) -> Result<Vec<super::super::router::Prefix>, RouterError> {
                self.0.lan_prefixes()
            }
            fn revoked_hosts(&self) -> Result<Vec<Ipv4Addr>, RouterError> {
                self.0.revoked_hosts()
            }
            fn blocks(&self) -> Result<Vec<Held>, RouterError> {
                self.0.blocks()
            }
            fn pin(&self, host: Ipv4Addr, b: &Block, secs: u32) -> Result<(), RouterError> {
                if b.kind == Kind::Spis && secs != 0 {
                    return Err(RouterError::NotHeld("gone".into()));
                }
                self.0.pin(host, b, secs)
            }
        }
        let e = issue(
            &ca,
            &Racy(&r),
            H1,
            &csr(&p256(), None, &[]),
            &Policy::default(),
            T0,
        )
        .unwrap_err();
        assert_eq!(e.code, Code::BlocksNotHeld);
        // The ports pinned on the way were unpinned.
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), None);
        assert!(ca.lock().unwrap().index().unwrap().certs.is_empty());
    }

    /// A router that records, at each dump of the blocks and each pin,
    /// whether the CA's directory was locked.
    struct LockWatch<'a> {
        r: &'a FakeRouter,
        lock: std::path::PathBuf,
        unlocked: Mutex<Vec<&'static str>>,
    }

    impl LockWatch<'_> {
        fn check(&self, what: &'static str) {
            let f = std::fs::File::open(&self.lock).unwrap();
            if f.try_lock().is_ok() {
                self.unlocked.lock().unwrap().push(what);
            }
        }
    }

    impl Router for LockWatch<'_> {
        fn public_addr(&self) -> Result<Ipv4Addr, RouterError> {
            self.r.public_addr()
        }
        fn lan_prefixes(&self) -> Result<Vec<super::super::router::Prefix>, RouterError> {
            self.r.lan_prefixes()
        }
        fn revoked_hosts(&self) -> Result<Vec<Ipv4Addr>, RouterError> {
            self.check("revoked_hosts");
            self.r.revoked_hosts()
        }
        fn blocks(&self) -> Result<Vec<Held>, RouterError> {
            self.check("blocks");
            self.r.blocks()
        }
        fn pin(&self, host: Ipv4Addr, b: &Block, secs: u32) -> Result<(), RouterError> {
            self.check("pin");
            self.r.pin(host, b, secs)
        }
    }

    #[test]
    fn dumps_and_pins_under_the_directory_lock() {
        let (_t, ca, r) = setup("locked");
        let w = LockWatch {
            r: &r,
            lock: ca.dir.join(store::LOCK),
            unlocked: Mutex::new(Vec::new()),
        };
        let c = issue(
            &ca,
            &w,
            H1,
            &csr(&p256(), None, &[]),
            &Policy::default(),
            T0,
        )
        .unwrap();
        for h in r.0.lock().unwrap().blocks.iter_mut() {
            h.pinned = None;
        }
        let full = Sweep {
            blocks: true,
            repin_all: true,
        };
        let rep = sweep(&ca, &w, full, T0 + 10).unwrap();
        assert_eq!(rep.repinned, vec![H1]);
        r.pin(H2, &ports(40064, 40127), 500).unwrap();
        let rep = sweep(&ca, &w, full, T0 + 10).unwrap();
        assert_eq!(rep.unpinned, vec![(H2, ports(40064, 40127))]);
        revoke(&ca, &w, c.issued.serial, T0 + 20).unwrap();
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), None);
        assert_eq!(*w.unlocked.lock().unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn sweeps_and_issues_at_once_keep_fresh_pins() {
        // Requests issue while the upkeep sweeps in other threads: every
        // valid certificate's blocks stay pinned.
        let (_t, ca, r) = setup("concurrent");
        let full = Sweep {
            blocks: true,
            repin_all: false,
        };
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..20 {
                    sweep(&ca, &r, full, T0 + 1).unwrap();
                }
            });
            for _ in 0..3 {
                s.spawn(|| {
                    let key = p256();
                    let der = csr(&key, Some(&[ports(40000, 40015)]), &[]);
                    issue(&ca, &r, H1, &der, &Policy::default(), T0).unwrap();
                });
            }
        });
        sweep(&ca, &r, full, T0 + 1).unwrap();
        assert!(r.pin_of(H1, &ports(40000, 40063)).is_some());
        assert_eq!(ca.lock().unwrap().index().unwrap().certs.len(), 3);
    }

    #[test]
    fn per_host_cap_supersedes_the_oldest() {
        let (_t, ca, r) = setup("cap");
        let p = Policy::default();
        let first = issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), Some(&[ports(40000, 40015)]), &[]),
            &p,
            T0,
        )
        .unwrap();
        let other = issue(&ca, &r, H2, &csr(&p256(), None, &[]), &p, T0).unwrap();
        for i in 1..MAX_VALID_PER_HOST {
            let c = issue(
                &ca,
                &r,
                H1,
                &csr(&p256(), Some(&[spis(0x1000, 0x100f)]), &[]),
                &p,
                T0 + i as i64,
            )
            .unwrap();
            assert!(c.superseded.is_empty());
        }
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), Some(3600 - 3));
        // The fifth: the oldest of H1 goes, and with it the pin of the
        // ports (no valid certificate names them now).
        let c = issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), Some(&[spis(0x1000, 0x100f)]), &[]),
            &p,
            T0 + 10,
        )
        .unwrap();
        assert_eq!(c.superseded, vec![first.issued.serial]);
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), None);
        assert!(r.pin_of(H1, &spis(0x1000, 0x10ff)).is_some());
        let index = ca.lock().unwrap().index().unwrap();
        let r1 = index.get(first.issued.serial).unwrap().revoked.unwrap();
        assert_eq!((r1.at, r1.reason), (T0 + 10, Reason::Superseded));
        assert_eq!(index.get(other.issued.serial).unwrap().revoked, None);
        let valid = |h| {
            index
                .certs
                .iter()
                .filter(|c| c.host == h && c.status(T0 + 10) == Status::Valid)
                .count()
        };
        assert_eq!((valid(H1), valid(H2)), (MAX_VALID_PER_HOST, 1));
        // On the CRL, reason superseded.
        let der = ca.crl_der().unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&der).unwrap();
        let listed: Vec<_> = crl
            .iter_revoked_certificates()
            .map(|c| (c.raw_serial().to_vec(), c.reason_code().map(|r| r.1 .0)))
            .collect();
        assert_eq!(listed, vec![(vec![1u8], Some(4))]);
    }

    #[test]
    fn old_certificates_leave_the_index() {
        let (t, ca, r) = setup("prune");
        let p = Policy::default();
        let a = issue(&ca, &r, H1, &csr(&p256(), None, &[]), &p, T0).unwrap();
        assert!(t.path().join("certs/1.pem").exists());
        // Expired (T0 + 3600) for less than 7 days: kept.
        let late = T0 + 3600 + store::PRUNE_AFTER_SECS;
        sweep(&ca, &r, Sweep::default(), late - 1).unwrap();
        assert_eq!(ca.lock().unwrap().index().unwrap().certs.len(), 1);
        // 7 days after: gone at the next rewrite (the CRL's renewal), its
        // serial counted and never used again.
        r.0.lock().unwrap().blocks.iter_mut().for_each(|h| {
            h.expires = None;
            h.pinned = None;
        });
        let rep = sweep(&ca, &r, Sweep::default(), late + CRL_SECS).unwrap();
        assert!(rep.crl_written);
        let index = ca.lock().unwrap().index().unwrap();
        assert!(index.get(a.issued.serial).is_none());
        assert_eq!((index.pruned, index.next_serial), (1, 2));
        assert!(!t.path().join("certs/1.pem").exists());
        let b = issue(&ca, &r, H1, &csr(&p256(), None, &[]), &p, late + CRL_SECS).unwrap();
        assert_eq!(b.issued.serial, 2);
    }

    #[test]
    fn revoke_unpins_and_keeps_other_pins() {
        let (_t, ca, r) = setup("revoke");
        let a = issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), Some(&[ports(40000, 40063)]), &[]),
            &Policy { max_validity: 1000 },
            T0,
        )
        .unwrap();
        let b = issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), Some(&[ports(40000, 40063)]), &[]),
            &Policy { max_validity: 500 },
            T0,
        )
        .unwrap();
        // The longer pin stays in force after the shorter certificate.
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), Some(1000));
        let (c, err) = revoke(&ca, &r, a.issued.serial, T0 + 100).unwrap();
        assert_eq!(c.unwrap().revoked.unwrap().reason, Reason::Admin);
        assert_eq!(err, None);
        // b still needs the block: pinned again for its 400 s left.
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), Some(400));
        let (c, _) = revoke(&ca, &r, b.issued.serial, T0 + 100).unwrap();
        assert!(c.is_some());
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), None);
        // Again: nothing to do.
        assert_eq!(
            revoke(&ca, &r, b.issued.serial, T0 + 100).unwrap(),
            (None, None)
        );
        assert!(revoke(&ca, &r, 99, T0).is_err());
        // The CRL lists both.
        let der = ca.crl_der().unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&der).unwrap();
        let serials: Vec<&[u8]> = crl
            .iter_revoked_certificates()
            .map(|c| c.raw_serial())
            .collect();
        assert_eq!(serials, vec![&[1u8][..], &[2u8][..]]);
    }

    #[test]
    fn sweep_revokes_and_repins() {
        let (_t, ca, r) = setup("sweep");
        let p = Policy::default();
        let c1 = issue(&ca, &r, H1, &csr(&p256(), None, &[]), &p, T0).unwrap();
        let c2 = issue(&ca, &r, H2, &csr(&p256(), None, &[]), &p, T0).unwrap();
        assert_eq!(c2.issued.not_after, T0 + 7200);
        // Nothing to do.
        let rep = sweep(
            &ca,
            &r,
            Sweep {
                blocks: true,
                repin_all: false,
            },
            T0 + 1,
        )
        .unwrap();
        assert_eq!(rep, SweepReport::default());
        // The router lost H1's pins (a restart): put back, for the time left.
        for h in r.0.lock().unwrap().blocks.iter_mut() {
            h.pinned = None;
        }
        let rep = sweep(
            &ca,
            &r,
            Sweep {
                blocks: true,
                repin_all: false,
            },
            T0 + 100,
        )
        .unwrap();
        assert_eq!(rep.repinned, vec![H1, H2]);
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), Some(3500));
        // The admin revokes H2 in the router: its certificate goes, even in
        // the light per-request sweep.
        r.revoke(H2);
        let rep = sweep(&ca, &r, Sweep::default(), T0 + 200).unwrap();
        assert_eq!(rep.revoked, vec![(c2.issued.serial, Reason::HostRevoked)]);
        assert!(rep.crl_written);
        // H1 loses its SPIs (a reset): revoked when the blocks are checked.
        r.0.lock()
            .unwrap()
            .blocks
            .retain(|h| h.block.kind == Kind::Ports);
        let rep = sweep(&ca, &r, Sweep::default(), T0 + 300).unwrap();
        assert!(rep.revoked.is_empty());
        let rep = sweep(
            &ca,
            &r,
            Sweep {
                blocks: true,
                repin_all: false,
            },
            T0 + 300,
        )
        .unwrap();
        assert_eq!(rep.revoked, vec![(c1.issued.serial, Reason::BlocksLost)]);
        // Its remaining ports are unpinned.
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), None);
        let index = ca.lock().unwrap().index().unwrap();
        assert_eq!(index.revoked_count(), 2);
        assert_eq!(census(&index, T0 + 300).get("revoked"), Some(&2));
        // The CRL is rewritten when half its life is gone.
        let n = index.crl_number;
        let rep = sweep(&ca, &r, Sweep::default(), index.crl_updated + CRL_SECS / 2).unwrap();
        assert!(rep.crl_written);
        assert_eq!(ca.lock().unwrap().index().unwrap().crl_number, n + 1);
        // The router down: nothing changes, the error is reported.
        r.0.lock().unwrap().down = Some(RouterError::Other("down".into()));
        let rep = sweep(
            &ca,
            &r,
            Sweep {
                blocks: true,
                repin_all: true,
            },
            T0 + 400,
        )
        .unwrap();
        assert_eq!(rep.errors.len(), 1);
        assert!(rep.revoked.is_empty());
    }

    #[test]
    fn sweep_reconciles_pins() {
        let (_t, ca, r) = setup("reconcile");
        let claim = [ports(40000, 40015)];
        issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), Some(&claim), &[]),
            &Policy { max_validity: 900 },
            T0,
        )
        .unwrap();
        let full = Sweep {
            blocks: true,
            repin_all: false,
        };
        // A pin no certificate asks for (H1's SPIs, H2's ports), a pin
        // longer than the certificate's end.
        r.pin(H1, &spis(0x1000, 0x10ff), 5000).unwrap();
        r.pin(H2, &ports(40064, 40127), 5000).unwrap();
        r.pin(H1, &ports(40000, 40063), 5000).unwrap();
        let rep = sweep(&ca, &r, full, T0 + 100).unwrap();
        assert_eq!(
            rep.unpinned,
            vec![(H1, spis(0x1000, 0x10ff)), (H2, ports(40064, 40127))]
        );
        assert_eq!(rep.repinned, vec![H1]);
        assert_eq!(r.pin_of(H1, &ports(40000, 40063)), Some(800));
        assert_eq!(r.pin_of(H1, &spis(0x1000, 0x10ff)), None);
        assert_eq!(r.pin_of(H2, &ports(40064, 40127)), None);
        // Within the slack: left alone.
        r.pin(H1, &ports(40000, 40063), 802).unwrap();
        let rep = sweep(&ca, &r, full, T0 + 100).unwrap();
        assert_eq!(rep, SweepReport::default());
    }

    #[test]
    fn repin_all_at_start() {
        let (_t, ca, r) = setup("start");
        issue(
            &ca,
            &r,
            H1,
            &csr(&p256(), None, &[]),
            &Policy::default(),
            T0,
        )
        .unwrap();
        let before = r.pins().len();
        let rep = sweep(
            &ca,
            &r,
            Sweep {
                blocks: true,
                repin_all: true,
            },
            T0 + 10,
        )
        .unwrap();
        assert_eq!(rep.repinned, vec![H1]);
        assert_eq!(r.pins().len(), before + 2);
        assert_eq!(r.pin_of(H1, &spis(0x1000, 0x10ff)), Some(3590));
        // Expired certificates are left alone.
        let rep = sweep(
            &ca,
            &r,
            Sweep {
                blocks: true,
                repin_all: true,
            },
            T0 + 3600,
        )
        .unwrap();
        assert!(rep.repinned.is_empty() && rep.revoked.is_empty());
    }
}
