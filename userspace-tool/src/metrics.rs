// SPDX-License-Identifier: GPL-2.0

//! dnat's metrics for Prometheus (`router stats --prometheus`, `host stats
//! --prometheus`): every counter of `GET_PAP_STATS` or `GET_STATS` as
//! `dnat_router_NAME_total` or `dnat_host_NAME_total` (the memory and the
//! translations in use as gauges, without `_total`), and for the router the
//! hosts of `GET_HOSTS` as `dnat_router_host_*` labelled by address. A
//! counter this tool does not know (a newer module) is exported untyped,
//! under its own name.

use dnat_core::pap::PapError;
use dnat_core::pap_client::Stat as ClientStat;
use dnat_core::pap_server::Stat as ServerStat;
use dnat_core::pap_session::SessionDrop;
#[cfg(test)]
use dnat_core::stat::{DataStat, HostStat, RxStat};

use crate::dump::{Hosts, Stats};
use crate::prom::{metric_name, Family, Type};

/// The router's data path counters (`DataStat` in dnat-core's stat.rs).
const ROUTER_DATA: [(&str, &str); 28] = [
    ("in_delivered", "Inbound packets delivered to the host that owns them (tunnelled, or sent unchanged to a direct host)."),
    ("in_unowned", "Inbound packets nobody owns (left to the router's stack, or dropped by unowned drop)."),
    ("in_encap_failed", "Inbound packets that could not be tunnelled (no LAN address, no route, no memory); dropped."),
    ("out_forwarded", "Packets hosts tunnelled, decapsulated and forwarded."),
    ("out_spoofed", "Tunnelled packets from a host that does not own their port, ICMP identifier or quoted port, or is unknown; dropped."),
    ("out_not_public_source", "Tunnelled packets whose inner source is not the public address; dropped."),
    ("out_protocol", "Tunnelled packets of a protocol not forwarded for hosts; dropped."),
    ("out_bad_inner", "Tunnelled packets whose inner packet is malformed, truncated or a fragment; dropped."),
    ("out_decap_failed", "Tunnelled packets that could not be decapsulated; dropped."),
    ("out_untunnelled", "Packets with the public source address not tunnelled to the router and not from a direct host; dropped."),
    ("in_sa_not_validated", "Inbound ESP/AH whose (source, SPI) the owner has not validated; dropped."),
    ("in_sa_blacklisted", "Inbound ESP/AH matching a blacklist entry of the owner; dropped."),
    ("in_sa_not_spi_owner", "Inbound ESP in UDP whose SPI the owner of its UDP port does not hold; dropped."),
    ("out_local_destination", "Tunnelled packets whose inner destination is the router itself; dropped."),
    ("in_icmp_reply", "Inbound ICMP query replies tunnelled to the owner of their identifier."),
    ("in_icmp_error_port", "Inbound ICMP errors tunnelled to the owner of the port or identifier they quote."),
    ("in_icmp_error_sa", "Inbound ICMP errors tunnelled to the host that sends the ESP/AH SA they quote."),
    ("in_icmp_unowned", "Inbound ICMP replies and errors nobody owns (also in in_unowned)."),
    ("local_icmp_error", "ICMP errors of the router's own stack about a host's packet, tunnelled to that host."),
    ("out_icmp_type", "Tunnelled ICMP of a type hosts do not send; dropped."),
    ("out_icmp_quote", "Tunnelled ICMP errors not about a packet the host received at the public address; dropped."),
    ("out_sa_full", "Outbound ESP/AH SAs the table of outbound SAs could not learn: both sets full."),
    ("out_sa_host_limit", "Outbound ESP/AH SAs not learnt: the host has as many as it may."),
    ("out_sa_conflict", "Outbound ESP/AH SAs not learnt: a live entry belongs to another host."),
    ("in_direct", "Inbound packets sent unchanged to a direct host's link-layer address (also in in_delivered)."),
    ("out_direct", "Untunnelled packets of a direct host from its bound address on the LAN device, forwarded (also in out_forwarded)."),
    ("out_direct_lladdr", "Untunnelled packets with the public source using what a direct host owns, from another link-layer address; dropped."),
    ("out_direct_dev", "Packets with the public source from a direct host's bound address on another device than the LAN; dropped."),
];

/// The router's gauges of `GET_PAP_STATS` (rust/router/netlink.rs).
const ROUTER_GAUGES: [(&str, &str); 2] = [
    ("table_bytes", "Memory of the namespace's allocation, SA and outbound-SA tables and per-host state, in bytes."),
    ("netns_bytes", "Memory the router module takes in every network namespace, in bytes."),
];

/// The host's data path counters (`HostStat` in dnat-core's stat.rs).
const HOST_DATA: [(&str, &str); 33] = [
    ("out_tunnelled", "Outbound packets tunnelled to the router."),
    ("out_tunnelled_bytes", "Bytes of the packets tunnelled to the router (IPv4 total lengths, outer header not included)."),
    ("out_translated", "Outbound packets whose source port was translated."),
    ("out_new_flow", "Outbound translations created (first packet of a flow)."),
    ("out_lan", "Packets from the public address to the LAN, left untouched."),
    ("out_not_ready", "Outbound packets dropped: the host is not started."),
    ("out_no_port", "Outbound packets dropped: no granted port free for a new flow."),
    ("out_fragment", "Outbound TCP/UDP fragments, dropped."),
    ("out_protocol", "Outbound packets of a protocol not carried for hosts, dropped."),
    ("out_failed", "Outbound packets that could not be translated or tunnelled, dropped."),
    ("in_delivered", "Tunnelled packets delivered to the stack."),
    ("in_delivered_bytes", "Bytes of the tunnelled packets delivered to the stack (IPv4 total lengths once decapsulated)."),
    ("in_translated", "Inbound packets whose destination port was translated back."),
    ("in_bad_source", "Tunnelled packets from another address than the router, dropped."),
    ("in_malformed", "Tunnelled packets that are fragments or whose inner packet is malformed or not to the public address, dropped."),
    ("in_failed", "Tunnelled packets that could not be decapsulated or translated back, dropped."),
    ("port_range_refused", "Native mode: granted blocks the kernel refused as the ephemeral port range."),
    ("out_icmp_new", "Outbound ICMP query requests that created an identifier translation."),
    ("out_icmp_translated", "Outbound ICMP whose identifier, or quoted port or identifier, was translated."),
    ("out_icmp_quote", "Outbound ICMP errors not about a packet received at the public address, dropped."),
    ("in_icmp_translated", "Inbound ICMP whose identifier, or quoted port or identifier, was translated back."),
    ("in_icmp_unsolicited", "Inbound ICMP query replies without a translation, dropped."),
    ("in_quote_not_error", "Inbound ICMP delivered unchanged: not an error."),
    ("in_quote_truncated", "Inbound ICMP errors delivered unchanged: truncated."),
    ("in_quote_bad_quote", "Inbound ICMP errors delivered unchanged: the quoted header is malformed."),
    ("in_quote_not_ours", "Inbound ICMP errors delivered unchanged: not about a packet the host sent."),
    ("in_quote_fragment", "Inbound ICMP errors delivered unchanged: about a later fragment."),
    ("in_quote_about_error", "Inbound ICMP errors delivered unchanged: about an ICMP error."),
    ("in_quote_no_port", "Inbound ICMP errors delivered unchanged: about a protocol without ports."),
    ("in_quote_no_mapping", "Inbound ICMP errors delivered unchanged: no translation for what they quote."),
    ("out_direct", "Direct delivery: outbound packets sent to the router untunnelled."),
    ("in_direct", "Direct delivery: inbound packets to the public address from the router's link-layer address, delivered to the stack."),
    ("in_direct_lladdr", "Direct delivery: inbound untunnelled packets to the public address from another link-layer address than the router's, dropped."),
];

/// The host's gauges of `GET_STATS` (rust/host/state.rs).
const HOST_GAUGES: [(&str, &str); 4] = [
    ("translations", "TCP and UDP translations in use."),
    ("icmp_translations", "ICMP identifier translations in use."),
    (
        "sptt_bytes",
        "Memory of the namespace's SPTT and identifier table, in bytes.",
    ),
    (
        "netns_bytes",
        "Memory the host module takes in every network namespace, in bytes.",
    ),
];

/// The receive side's counters of the host's PAP client (`RxStat` in
/// dnat-core's stat.rs), `pap_` prepended; then one per `SessionDrop`.
const HOST_RX: [(&str, &str); 7] = [
    ("rx", "PAP messages from the router taken by the host."),
    (
        "rx_malformed",
        "PAP messages from the router that did not decode.",
    ),
    (
        "rx_foreign",
        "PAP messages not from the configured router or not to the host, or fragmented.",
    ),
    ("send_failed", "PAP messages the host could not send."),
    ("auth_keys_installed", "PAP keys installed."),
    (
        "auth_rekeys",
        "PAP keys the router did not accept (a new one asked for).",
    ),
    (
        "auth_hints",
        "Hints from the router acted on (everything held renewed).",
    ),
];

fn server_help(s: ServerStat) -> &'static str {
    match s {
        ServerStat::Granted => "PAP port and SPI requests granted, fully or partly.",
        ServerStat::Refused => "PAP requests and renewals refused.",
        ServerStat::Released => "Releases and invalidate-alls from hosts that were applied.",
        ServerStat::ReleaseRefused => "Releases and invalidate-alls from hosts that were refused.",
        ServerStat::Renewed => "PAP renewals granted.",
        ServerStat::Unsupported => "PAP messages that could not be served.",
        ServerStat::Replied => "PAP replies sent.",
        ServerStat::SendFailed => "PAP replies and invalidate-alls that could not be sent.",
        ServerStat::WrongInterface => "PAP dropped: arrived on another interface than the LAN.",
        ServerStat::Fragment => "PAP dropped: fragmented.",
        ServerStat::NotForRouter => "PAP dropped: not addressed to the router's LAN address.",
        ServerStat::BadSource => "PAP dropped: source outside the LAN prefix or not unicast.",
        ServerStat::NotConfigured => "PAP dropped: the router is not configured.",
        ServerStat::InvalidateAllSent => {
            "Invalidate-alls sent (LAN broadcasts, notices to revoked hosts)."
        }
        ServerStat::Retransmitted => "Retransmitted PAP answered with the cached reply.",
        ServerStat::SaValidated => "SA validations (34/0) applied.",
        ServerStat::SaInvalidated => "SA invalidations (35/0) applied.",
        ServerStat::SaRefused => "SA validations and invalidations refused.",
        ServerStat::BlacklistAdded => "Blacklist additions (34/1) applied.",
        ServerStat::BlacklistRemoved => "Blacklist removals (35/1) applied.",
        ServerStat::BlacklistRefused => "Blacklist additions and removals refused.",
        ServerStat::RateLimited => "Port and SPI requests refused: the host was over the PAP rate.",
        ServerStat::KeyGranted => "PAP keys granted (36/3).",
        ServerStat::KeyRateLimited => "PAP key requests over the router's grant rate, dropped.",
        ServerStat::AuthMissing => "PAP without an auth block where one is required, refused.",
        ServerStat::AuthUnknownKey => "PAP sealed with an unknown key, refused.",
        ServerStat::AuthBadMac => "PAP with a wrong MAC, refused.",
        ServerStat::AuthReplayed => "Sealed PAP with a sequence number used already, dropped.",
        ServerStat::LladdrBound => {
            "Direct hosts' link-layer addresses bound from their authenticated PAP."
        }
        ServerStat::LladdrRefused => {
            "Link-layer addresses learnt from PAP that could not be bound; the host stays unbound."
        }
    }
}

fn client_help(s: ClientStat) -> &'static str {
    match s {
        ClientStat::Sent => "PAP messages sent, retransmissions included.",
        ClientStat::Requests => "PAP request transactions started.",
        ClientStat::Renewals => "PAP renewal transactions started.",
        ClientStat::Notices => "PAP release notice transactions started.",
        ClientStat::Retransmits => "PAP retransmissions.",
        ClientStat::GivenUp => "PAP transactions given up without a reply.",
        ClientStat::Granted => "Blocks granted.",
        ClientStat::Renewed => "Leases renewed.",
        ClientStat::Reclaimed => "SPI blocks got back after a router restart.",
        ClientStat::Released => "Releases acknowledged.",
        ClientStat::RefusedUnspecified => "PAP refusals: unspecified.",
        ClientStat::RefusedNoSpace => "PAP refusals: no_space.",
        ClientStat::RefusedOverQuota => "PAP refusals: over_quota.",
        ClientStat::RefusedRateLimited => "PAP refusals: rate_limited.",
        ClientStat::RefusedNotConfigured => "PAP refusals: not_configured.",
        ClientStat::RefusedRevoked => "PAP refusals: revoked.",
        ClientStat::RefusedNotOwned => "PAP refusals: not_owned.",
        ClientStat::RefusedPinned => "PAP refusals: pinned (a release of a certified block).",
        ClientStat::RefusedUnauthenticated => "PAP refusals: unauthenticated.",
        ClientStat::Invalidations => "Invalidations received from the router.",
        ClientStat::EpochChanges => "Router restarts noticed (a new epoch).",
        ClientStat::Expired => "Blocks dropped at the end of their lease.",
        ClientStat::Overlaps => "Held blocks dropped because a grant overlapped them.",
        ClientStat::Surplus => "Grants given back for want of room.",
        ClientStat::NoticesDropped => "Release notices not sent: the queue was full.",
        ClientStat::SaNoticesSent => "SA notice transactions started.",
        ClientStat::SaNoticesApplied => "SA notices the router applied (36/1).",
        ClientStat::SaNoticesRefused => "SA notices the router refused (36/2).",
        ClientStat::SaNoticesDropped => "SA notices forgotten without an answer.",
        ClientStat::Unsendable => "PAP transactions that could not be encoded.",
        ClientStat::IgnoredInvalid => "PAP messages ignored: not valid.",
        ClientStat::IgnoredNotForHost => "PAP messages ignored: addressed to the router.",
        ClientStat::IgnoredUnmatched => "PAP replies ignored: no outstanding transaction.",
        ClientStat::IgnoredWrongReply => "PAP replies ignored: not the expected answer.",
    }
}

fn session_help(d: SessionDrop) -> &'static str {
    match d {
        SessionDrop::Malformed => "PAP auth blocks that did not decode, dropped.",
        SessionDrop::Unmatched => "PAP key grants answering no key request, dropped.",
        SessionDrop::ForeignKey => "PAP sealed with another key, dropped.",
        SessionDrop::BadMac => "PAP with a wrong MAC, dropped.",
        SessionDrop::Unauthenticated => "Unsealed PAP the host may not act on, dropped.",
        SessionDrop::HintLimited => "Hints within 5 s of the last one, dropped.",
    }
}

fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).map(|&(_, h)| h)
}

/// The type and help of the router's counter `name`, if known.
fn router_known(name: &str) -> Option<(Type, String)> {
    if let Some(h) = lookup(&ROUTER_GAUGES, name) {
        return Some((Type::Gauge, h.into()));
    }
    let help = lookup(&ROUTER_DATA, name)
        .map(String::from)
        .or_else(|| {
            let s = ServerStat::ALL.iter().find(|s| s.name() == name)?;
            Some(server_help(*s).into())
        })
        .or_else(|| {
            let r = name.strip_prefix("malformed_")?;
            let e = PapError::ALL.iter().find(|e| e.name() == r)?;
            Some(format!("PAP dropped as malformed: {}.", e.name()))
        })?;
    Some((Type::Counter, help))
}

/// The type and help of the host's counter `name`, if known.
fn host_known(name: &str) -> Option<(Type, String)> {
    if let Some(h) = lookup(&HOST_GAUGES, name) {
        return Some((Type::Gauge, h.into()));
    }
    let help = lookup(&HOST_DATA, name).map(String::from).or_else(|| {
        let p = name.strip_prefix("pap_")?;
        let help = lookup(&HOST_RX, p)
            .or_else(|| {
                Some(client_help(
                    *ClientStat::ALL.iter().find(|s| s.name() == p)?,
                ))
            })
            .or_else(|| {
                Some(session_help(
                    *SessionDrop::ALL.iter().find(|d| d.name() == p)?,
                ))
            })?;
        Some(help.into())
    })?;
    Some((Type::Counter, help))
}

/// One family per counter of `stats`, in the kernel's order, named
/// `PREFIX_NAME_total` (counters) or `PREFIX_NAME` (gauges, and counters
/// `known` does not know, untyped).
fn stat_families(
    prefix: &str,
    stats: &Stats,
    known: fn(&str) -> Option<(Type, String)>,
) -> Vec<Family> {
    stats
        .0
        .iter()
        .map(|(name, value)| {
            let (kind, help) = known(name).unwrap_or_else(|| {
                let help = format!("{prefix} counter {name} (not known to this dnatctl).");
                (Type::Untyped, help)
            });
            let suffix = if kind == Type::Counter { "_total" } else { "" };
            let metric = metric_name(&format!("{prefix}_{name}{suffix}"));
            Family::single(metric, kind, help, *value)
        })
        .collect()
}

/// The per-host families of `router hosts`, one sample per host labelled
/// `host="ADDR"`, and the number of hosts.
fn host_families(hosts: &Hosts) -> Vec<Family> {
    type Get = fn(&crate::dump::Host) -> Option<u64>;
    let per_host: [(&str, Type, &str, Get); 12] = [
        ("host_in_packets_total", Type::Counter, "Packets delivered to the host from the Internet.", |h| Some(h.in_packets)),
        ("host_out_packets_total", Type::Counter, "Packets the host sent to the Internet through the router.", |h| Some(h.out_packets)),
        ("host_in_bytes_total", Type::Counter, "Bytes of the packets delivered to the host (IPv4 total lengths, outer header not included).", |h| h.in_bytes),
        ("host_out_bytes_total", Type::Counter, "Bytes of the packets the host sent (IPv4 total lengths once decapsulated).", |h| h.out_bytes),
        ("host_spoofed_packets_total", Type::Counter, "Packets of the host dropped for a source port, identifier or SA it does not own.", |h| Some(h.spoofed)),
        ("host_sa_dropped_packets_total", Type::Counter, "Inbound ESP/AH for the host dropped by the SA checks.", |h| h.sa_dropped),
        ("host_ports", Type::Gauge, "Ports the host holds in active blocks.", |h| Some(h.ports.into())),
        ("host_spis", Type::Gauge, "SPIs the host holds in active blocks.", |h| Some(h.spis.into())),
        ("host_quota_ports", Type::Gauge, "Most ports the host may hold at once.", |h| h.quota.map(|q| q.ports.into())),
        ("host_quota_spis", Type::Gauge, "Most SPIs the host may hold at once.", |h| h.quota.map(|q| q.spis.into())),
        ("host_revoked", Type::Gauge, "1 while the host is revoked.", |h| Some(h.revoked.into())),
        ("host_authenticated", Type::Gauge, "1 if the host authenticates its PAP (it has a key).", |h| Some(h.auth.into())),
    ];
    let mut out = vec![Family::single(
        "dnat_router_hosts".into(),
        Type::Gauge,
        "Hosts the router's tables know.",
        hosts.hosts.len() as u64,
    )];
    for (name, kind, help, get) in per_host {
        let mut f = Family::new(format!("dnat_router_{name}"), kind, help);
        for h in &hosts.hosts {
            if let Some(v) = get(h) {
                f.samples.push((vec![("host", h.host.to_string())], v));
            }
        }
        out.push(f);
    }
    out
}

/// `router stats --prometheus`: the counters, then the hosts.
pub fn router(stats: &Stats, hosts: &Hosts) -> String {
    let mut f = stat_families("dnat_router", stats, router_known);
    f.extend(host_families(hosts));
    crate::prom::render(&f)
}

/// `host stats --prometheus`.
pub fn host(stats: &Stats) -> String {
    crate::prom::render(&stat_families("dnat_host", stats, host_known))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::{Host, HostQuota};
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    /// Every name the modules send, in their order (`GET_PAP_STATS`,
    /// `GET_STATS`), as their sources spell them.
    fn router_names() -> Vec<String> {
        let data = DataStat::NAMES.map(String::from);
        let mut v: Vec<String> = ServerStat::ALL.iter().map(|s| s.name().into()).collect();
        v.extend(
            PapError::ALL
                .iter()
                .map(|e| format!("malformed_{}", e.name())),
        );
        v.extend(data);
        let netlink = include_str!("../../rust/router/netlink.rs");
        for g in ["table_bytes", "netns_bytes"] {
            assert!(netlink.contains(&format!("\"{g}\"")), "{g}");
            v.push(g.into());
        }
        v
    }

    fn host_names() -> Vec<String> {
        let mut v: Vec<String> = HostStat::NAMES.map(String::from).into();
        let state = include_str!("../../rust/host/state.rs");
        for g in [
            "translations",
            "icmp_translations",
            "sptt_bytes",
            "netns_bytes",
        ] {
            assert!(state.contains(&format!("\"{g}\"")), "{g}");
            v.push(g.into());
        }
        v.extend(ClientStat::ALL.iter().map(|s| format!("pap_{}", s.name())));
        v.extend(RxStat::NAMES.iter().map(|n| format!("pap_{n}")));
        v.extend(SessionDrop::ALL.iter().map(|d| format!("pap_{}", d.name())));
        v
    }

    #[test]
    fn every_counter_of_the_modules_is_known() {
        let r = router_names();
        assert_eq!(
            r.len(),
            ServerStat::COUNT + PapError::COUNT + ROUTER_DATA.len() + 2
        );
        for n in &r {
            assert!(router_known(n).is_some(), "router counter {n} unknown");
        }
        let h = host_names();
        for n in &h {
            assert!(host_known(n).is_some(), "host counter {n} unknown");
        }
        // The tables hold nothing the modules do not send.
        for (n, _) in ROUTER_DATA.iter().chain(&ROUTER_GAUGES) {
            assert!(r.iter().any(|x| x == n), "{n} is not a router counter");
        }
        for (n, _) in HOST_DATA.iter().chain(&HOST_GAUGES) {
            assert!(h.iter().any(|x| x == n), "{n} is not a host counter");
        }
        for (n, _) in HOST_RX {
            assert!(
                h.contains(&format!("pap_{n}")),
                "pap_{n} is not a host counter"
            );
        }
        // The data path tables are in the modules' order.
        let data: Vec<&str> = ROUTER_DATA.iter().map(|(n, _)| *n).collect();
        assert_eq!(data, DataStat::NAMES);
        let data: Vec<&str> = HOST_DATA.iter().map(|(n, _)| *n).collect();
        assert_eq!(data, HostStat::NAMES);
    }

    fn sample_host(addr: [u8; 4], v: u64) -> Host {
        Host {
            host: Ipv4Addr::from(addr),
            revoked: v == 0,
            ports: 16,
            spis: 0,
            in_packets: v,
            out_packets: v + 1,
            spoofed: 0,
            sa_dropped: Some(2),
            quota: Some(HostQuota {
                ports: 4096,
                spis: 1024,
                own: false,
            }),
            auth: true,
            in_bytes: Some(v * 128),
            out_bytes: Some((v + 1) * 128),
            delivery: Some("ipip".into()),
            lladdr: None,
        }
    }

    #[test]
    fn metric_names_are_distinct_and_valid() {
        let all =
            |names: Vec<String>, value| Stats(names.into_iter().map(|n| (n, value)).collect());
        let hosts = Hosts {
            hosts: vec![sample_host([10, 0, 0, 1], 5)],
        };
        let mut f = stat_families("dnat_router", &all(router_names(), 1), router_known);
        f.extend(host_families(&hosts));
        f.extend(stat_families(
            "dnat_host",
            &all(host_names(), 1),
            host_known,
        ));
        let mut seen = HashSet::new();
        for f in &f {
            assert!(seen.insert(f.name.clone()), "{} twice", f.name);
            assert_eq!(metric_name(&f.name), f.name);
            assert_ne!(f.kind, Type::Untyped, "{}", f.name);
            assert_eq!(
                f.kind == Type::Counter,
                f.name.ends_with("_total"),
                "{}",
                f.name
            );
            assert!(
                f.help.ends_with('.') && !f.help.contains('\n'),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn router_output() {
        let stats = Stats(vec![
            ("granted".into(), 3),
            ("malformed_bad_checksum".into(), 0),
            ("in_delivered".into(), 5),
            ("table_bytes".into(), 1024),
            ("brand_new".into(), 9),
        ]);
        let hosts = Hosts {
            hosts: vec![sample_host([10, 0, 0, 1], 5), sample_host([10, 0, 0, 3], 0)],
        };
        let text = router(&stats, &hosts);
        let want_start = "\
# HELP dnat_router_granted_total PAP port and SPI requests granted, fully or partly.
# TYPE dnat_router_granted_total counter
dnat_router_granted_total 3
# HELP dnat_router_malformed_bad_checksum_total PAP dropped as malformed: bad_checksum.
# TYPE dnat_router_malformed_bad_checksum_total counter
dnat_router_malformed_bad_checksum_total 0
# HELP dnat_router_in_delivered_total Inbound packets delivered to the host that owns them (tunnelled, or sent unchanged to a direct host).
# TYPE dnat_router_in_delivered_total counter
dnat_router_in_delivered_total 5
# HELP dnat_router_table_bytes Memory of the namespace's allocation, SA and outbound-SA tables and per-host state, in bytes.
# TYPE dnat_router_table_bytes gauge
dnat_router_table_bytes 1024
# HELP dnat_router_brand_new dnat_router counter brand_new (not known to this dnatctl).
# TYPE dnat_router_brand_new untyped
dnat_router_brand_new 9
# HELP dnat_router_hosts Hosts the router's tables know.
# TYPE dnat_router_hosts gauge
dnat_router_hosts 2
# HELP dnat_router_host_in_packets_total Packets delivered to the host from the Internet.
# TYPE dnat_router_host_in_packets_total counter
dnat_router_host_in_packets_total{host=\"10.0.0.1\"} 5
dnat_router_host_in_packets_total{host=\"10.0.0.3\"} 0
";
        assert!(text.starts_with(want_start), "{text}");
        for line in [
            "dnat_router_host_in_bytes_total{host=\"10.0.0.1\"} 640\n",
            "dnat_router_host_out_bytes_total{host=\"10.0.0.1\"} 768\n",
            "dnat_router_host_out_bytes_total{host=\"10.0.0.3\"} 128\n",
            "dnat_router_host_revoked{host=\"10.0.0.3\"} 1\n",
            "dnat_router_host_authenticated{host=\"10.0.0.1\"} 1\n",
            "dnat_router_host_quota_spis{host=\"10.0.0.1\"} 1024\n",
        ] {
            assert!(text.contains(line), "{line}");
        }
        // An older module without the byte counters: no samples, so no
        // family.
        let mut old = sample_host([10, 0, 0, 1], 5);
        (old.in_bytes, old.out_bytes, old.sa_dropped, old.quota) = (None, None, None, None);
        let text = router(&Stats::default(), &Hosts { hosts: vec![old] });
        assert!(!text.contains("bytes"), "{text}");
        assert!(!text.contains("quota"), "{text}");
        assert!(text.contains("dnat_router_host_in_packets_total{host=\"10.0.0.1\"} 5\n"));
        // No hosts: the count alone.
        let text = router(&Stats::default(), &Hosts::default());
        assert_eq!(
            text,
            "# HELP dnat_router_hosts Hosts the router's tables know.\n\
             # TYPE dnat_router_hosts gauge\n\
             dnat_router_hosts 0\n"
        );
    }

    #[test]
    fn host_output() {
        let stats = Stats(vec![
            ("out_tunnelled".into(), 4),
            ("out_tunnelled_bytes".into(), 512),
            ("translations".into(), 2),
            ("pap_granted".into(), 1),
            ("pap_rx".into(), 6),
            ("pap_auth_bad_mac".into(), 0),
        ]);
        assert_eq!(
            host(&stats),
            "# HELP dnat_host_out_tunnelled_total Outbound packets tunnelled to the router.\n\
             # TYPE dnat_host_out_tunnelled_total counter\n\
             dnat_host_out_tunnelled_total 4\n\
             # HELP dnat_host_out_tunnelled_bytes_total Bytes of the packets tunnelled to the \
             router (IPv4 total lengths, outer header not included).\n\
             # TYPE dnat_host_out_tunnelled_bytes_total counter\n\
             dnat_host_out_tunnelled_bytes_total 512\n\
             # HELP dnat_host_translations TCP and UDP translations in use.\n\
             # TYPE dnat_host_translations gauge\n\
             dnat_host_translations 2\n\
             # HELP dnat_host_pap_granted_total Blocks granted.\n\
             # TYPE dnat_host_pap_granted_total counter\n\
             dnat_host_pap_granted_total 1\n\
             # HELP dnat_host_pap_rx_total PAP messages from the router taken by the host.\n\
             # TYPE dnat_host_pap_rx_total counter\n\
             dnat_host_pap_rx_total 6\n\
             # HELP dnat_host_pap_auth_bad_mac_total PAP with a wrong MAC, dropped.\n\
             # TYPE dnat_host_pap_auth_bad_mac_total counter\n\
             dnat_host_pap_auth_bad_mac_total 0\n"
        );
    }
}
