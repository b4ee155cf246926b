// SPDX-License-Identifier: GPL-2.0

//! The CA's output read by another implementation: the `openssl` binary
//! (skipped, with a note, where it is not installed).

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use super::ext;
use super::issue::tests::{csr, p256, ports, setup, spis, H1};
use super::issue::{self, parse_csr, Policy};
use super::store::{self, tests::T0};

fn openssl(args: &[&str], dir: &Path) -> Option<(bool, String)> {
    let out = match Command::new("openssl").args(args).current_dir(dir).output() {
        Ok(o) => o,
        Err(_) => {
            eprintln!("openssl not installed: skipped");
            return None;
        }
    };
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), text))
}

#[test]
fn openssl_verifies_certificate_and_crl() {
    let (t, ca, r) = setup("openssl");
    let dir = t.path();
    // Issued now, so that openssl's clock finds it valid.
    let now = store::now();
    let c = issue::issue(
        &ca,
        &r,
        H1,
        &csr(&p256(), None, &[]),
        &Policy::default(),
        now,
    )
    .unwrap();
    std::fs::write(dir.join("cert.pem"), store::to_pem("CERTIFICATE", &c.der)).unwrap();
    let Some((ok, text)) = openssl(&["verify", "-CAfile", "ca.pem", "cert.pem"], dir) else {
        return;
    };
    assert!(ok, "{text}");
    assert!(text.contains("cert.pem: OK"), "{text}");
    let (ok, text) = openssl(&["x509", "-in", "cert.pem", "-noout", "-text"], dir).unwrap();
    assert!(ok, "{text}");
    for want in [
        "Issuer: CN = dnat local CA 203.0.113.30",
        "Subject: CN = dnat host 10.0.0.1",
        "IP Address:203.0.113.30",
        "X509v3 Key Usage: critical",
        "Digital Signature",
        "TLS Web Server Authentication",
        "TLS Web Client Authentication",
        "ipsec Internet Key Exchange",
        "1.3.6.1.4.1.32473.7489.1:",
        "CA:FALSE",
        "X509v3 Authority Key Identifier",
        "ASN1 OID: prime256v1",
        "Signature Algorithm: ecdsa-with-SHA256",
    ] {
        assert!(text.contains(want), "no \"{want}\" in\n{text}");
    }
    let (ok, text) = openssl(&["x509", "-in", "ca.pem", "-noout", "-text"], dir).unwrap();
    assert!(ok, "{text}");
    for want in [
        "CA:TRUE, pathlen:0",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(text.contains(want), "no \"{want}\" in\n{text}");
    }

    // Revoked: the CRL lists it, and a CRL check fails.
    let (rc, err) = issue::revoke(&ca, &r, c.issued.serial, now).unwrap();
    assert!(rc.is_some() && err.is_none());
    let (ok, text) = openssl(
        &["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"],
        dir,
    )
    .unwrap();
    assert!(ok, "{text}");
    assert!(text.contains("Serial Number: 01"), "{text}");
    assert!(text.contains("X509v3 CRL Number"), "{text}");
    let (ok, text) = openssl(
        &["crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout"],
        dir,
    )
    .unwrap();
    assert!(ok && text.contains("verify OK"), "{text}");
    let (ok, text) = openssl(
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            "ca.pem",
            "-CRLfile",
            "crl.pem",
            "cert.pem",
        ],
        dir,
    )
    .unwrap();
    assert!(!ok, "{text}");
    assert!(text.contains("certificate revoked"), "{text}");
}

#[test]
fn openssl_reads_the_extension_der() {
    let t = super::store::tests::TempDir::new("asn1");
    let der = ext::encode(&[ports(40000, 40063), spis(0x1000, 0x10ff)]);
    std::fs::write(t.path().join("ext.der"), &der).unwrap();
    let Some((ok, text)) = openssl(&["asn1parse", "-inform", "DER", "-in", "ext.der"], t.path())
    else {
        return;
    };
    assert!(ok, "{text}");
    let lines: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let at = l.find("cons:").or_else(|| l.find("prim:"))?;
            Some(l[at..].split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "cons: SEQUENCE",
            "cons: SEQUENCE",
            "prim: ENUMERATED :01",
            "prim: INTEGER :9C40",
            "prim: INTEGER :9C7F",
            "cons: SEQUENCE",
            "prim: ENUMERATED :02",
            "prim: INTEGER :1000",
            "prim: INTEGER :10FF",
        ],
        "{text}"
    );
}

#[test]
fn openssl_made_csr_is_understood() {
    let t = super::store::tests::TempDir::new("req");
    let dir = t.path();
    let ext_hex: String = ext::encode(&[ports(40000, 40015)])
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let Some((ok, text)) = openssl(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "k.pem",
        ],
        dir,
    ) else {
        return;
    };
    assert!(ok, "{text}");
    let addext = format!("{}=DER:{ext_hex}", ext::OID_STR);
    let (ok, text) = openssl(
        &[
            "req",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/CN=dnat host",
            "-addext",
            &addext,
            "-addext",
            "subjectAltName=IP:203.0.113.30",
            "-outform",
            "DER",
            "-out",
            "req.der",
        ],
        dir,
    )
    .unwrap();
    assert!(ok, "{text}");
    let der = std::fs::read(dir.join("req.der")).unwrap();
    let c = parse_csr(&der).unwrap();
    assert_eq!(c.claims, Some(vec![ports(40000, 40015)]));
    assert_eq!(
        c.ips,
        vec![std::net::IpAddr::V4(Ipv4Addr::new(203, 0, 113, 30))]
    );
    // And a whole issue from it.
    let (_t2, ca, r) = setup("req-issue");
    let got = issue::issue(&ca, &r, H1, &der, &Policy::default(), T0).unwrap();
    assert_eq!(got.issued.blocks, vec![ports(40000, 40015)]);
}
