// SPDX-License-Identifier: GPL-2.0

//! Every number of the command line at the ends of its limit.

use super::*;
use crate::ca::ext::{parse_span, Kind};
use crate::limit::{
    Limit, LEASE, PAP_RATE, PORT, PORT_COUNT, QUOTA, RAW_U8, SPI, SPI_COUNT, TIMEOUT,
};

/// Every number of the command line and the limit it is checked
/// against: the line, with `{}` for the number.
const NUMBERS: [(&str, Limit); 45] = [
    ("router set ports {}-{}", PORT),
    ("router set spis {}-{}", SPI),
    ("router set quota-ports {}", QUOTA),
    ("router set quota-spis {}", QUOTA),
    ("router set pap-rate {}", PAP_RATE),
    ("router set unowned {}", RAW_U8),
    ("router set sa-policy {}", RAW_U8),
    ("router set hook-counters {}", RAW_U8),
    ("router set pap-auth {}", RAW_U8),
    ("router quota 10.0.0.1 ports {}", QUOTA),
    ("router quota 10.0.0.1 spis {}", QUOTA),
    ("router sa validate 10.0.0.1 203.0.113.3 {}", SPI),
    ("router sa invalidate 10.0.0.1 203.0.113.3 {}", SPI),
    ("router blacklist add 10.0.0.1 spi {}", SPI),
    ("router blacklist del 10.0.0.1 spi {}", SPI),
    ("host set tcp-timeout {}", TIMEOUT),
    ("host set udp-timeout {}", TIMEOUT),
    ("host set port-block {}", PORT_COUNT),
    ("host set mode {}", RAW_U8),
    ("host set hook-counters {}", RAW_U8),
    ("host request ports {}", PORT_COUNT),
    ("host request spis {}", SPI_COUNT),
    ("host release ports {} 1", PORT),
    ("host release ports 20000 {}", PORT_COUNT),
    ("host release spis {} 1", SPI),
    ("host release spis 4096 {}", SPI_COUNT),
    ("host sa validate 203.0.113.3 {}", SPI),
    ("host sa invalidate 203.0.113.3 {}", SPI),
    ("host blacklist add spi {}", SPI),
    ("host blacklist del spi {}", SPI),
    ("pap request ports {}", PORT_COUNT),
    ("pap request spis {}", SPI_COUNT),
    ("pap request ports 16 lease {}", LEASE),
    ("pap request spis 16 lease {}", LEASE),
    ("pap release ports {} 1", PORT),
    ("pap release ports 20000 {}", PORT_COUNT),
    ("pap release spis {} 1", SPI),
    ("pap release spis 4096 {}", SPI_COUNT),
    ("pap validate 203.0.113.3 {}", SPI),
    ("pap invalidate 203.0.113.3 {}", SPI),
    ("pap blacklist add spi {}", SPI),
    ("pap blacklist del spi {}", SPI),
    ("host follow --interval {}", crate::limit::INTERVAL),
    ("host spi alloc 203.0.113.3 --reqid {}", crate::limit::REQID),
    (
        "ca serve --dir d --listen 10.0.0.7 --max-validity {}",
        crate::limit::VALIDITY,
    ),
];

/// What the command line makes of `line`: clap's parse, then the
/// parse of its words (as `main` does before it sends anything).
fn judge(line: &str) -> Result<(), String> {
    let c = cli(line).map_err(|e| e.to_string())?;
    let Some(words) = c.words() else {
        return Ok(());
    };
    match &c.object {
        Object::Router {
            cmd: Some(RouterCmd::Set { .. }),
        } => RouterSettings::parse(words).map(drop),
        Object::Host {
            cmd: Some(HostCmd::Set { .. }),
        } => HostSettings::parse(words).map(drop),
        Object::Router {
            cmd: Some(RouterCmd::Quota { .. }),
        } => QuotaWords::parse(words).map(drop),
        Object::Router { .. } | Object::Host { .. } => {
            BlacklistWords::parse(words, false).map(drop)
        }
        Object::Pap {
            cmd: PapCmd::Blacklist { .. },
        } => BlacklistWords::parse(words, true).map(drop),
        Object::Pap { .. } => PapOptions::parse(words, true, true).map(drop),
        o => panic!("{line}: {o:?}"),
    }
}

/// Each number of the command line at its limit's ends: min - 1 and
/// max + 1 refused with the limit in the message, min and max taken.
#[test]
fn every_number_at_its_limits() {
    for (line, l) in NUMBERS {
        let at = |v: u64| line.replace("{}", &v.to_string());
        for v in [l.min, l.max].map(u64::from) {
            assert_eq!(judge(&at(v)), Ok(()), "{}", at(v));
        }
        let mut out = vec![u64::from(l.max) + 1];
        if l.min > 0 {
            out.push(u64::from(l.min) - 1);
        }
        for v in out {
            let e = judge(&at(v)).unwrap_err();
            let want = format!("\"{v}\" is out of range ({l})");
            let clap = format!("invalid value '{v}' for");
            assert!(
                e.contains(&want) || e.contains(&clap) && e.contains(&format!("({l})")),
                "{}: {e}",
                at(v)
            );
        }
        let e = judge(&line.replace("{}", "x")).unwrap_err();
        assert!(e.contains("is not "), "{line}: {e}");
    }
    // The blocks of cert request (--ports, --spis).
    for (kind, l) in [(Kind::Ports, PORT), (Kind::Spis, SPI)] {
        for v in [l.min, l.max] {
            assert!(parse_span(kind, &format!("{v}-{v}")).is_ok(), "{v}");
        }
        for v in [u64::from(l.min) - 1, u64::from(l.max) + 1] {
            let e = parse_span(kind, &format!("{v}-{v}")).unwrap_err();
            assert!(e.contains(&format!("is out of range ({l})")), "{v}: {e}");
        }
    }
}
