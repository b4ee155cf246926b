// SPDX-License-Identifier: GPL-2.0

//! The settings of `router set` and `host set`: parse, words, attributes,
//! and the values left for the kernel to judge.

use std::net::Ipv4Addr;

use dnat_core::config::Range;

use super::*;
use crate::msg::{HostAttr, RouterAttr};

#[test]
fn pap_auth_setting() {
    for (input, value) in [
        ("pap-auth required", 0),
        ("pap-auth optional", 1),
        ("pap-auth 7", 7),
    ] {
        let s = RouterSettings::parse(&args(input)).unwrap();
        assert_eq!(s.attrs(), vec![RouterAttr::PapAuth(value)], "{input}");
    }
    let e = RouterSettings::parse(&args("pap-auth maybe")).unwrap_err();
    assert!(e.contains("not required, optional"), "{e}");
}

#[test]
fn words_give_the_settings_back() {
    let input = "pap-auth optional pap-rate 9 hook-counters on sa-policy 7 quota-spis 6 \
                 quota-ports 5 unowned drop spis 256-0x1fff ports 1-2 public 203.0.113.30 \
                 wan b lan a";
    let r = RouterSettings::parse(&args(input)).unwrap();
    let words = r.words();
    let keys: Vec<&str> = words.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, RouterSettings::KEYS);
    let flat: Vec<String> = words
        .into_iter()
        .flat_map(|(k, v)| [k.to_owned(), v])
        .collect();
    assert_eq!(
        flat.join(" "),
        "lan a wan b public 203.0.113.30 ports 1-2 spis 0x100-0x1fff unowned drop \
         quota-ports 5 quota-spis 6 sa-policy 7 hook-counters on pap-rate 9 pap-auth optional"
    );
    assert_eq!(RouterSettings::parse(&flat).unwrap(), r);
    let h = HostSettings::parse(&args(
        "hook-counters 3 port-block 1 udp-timeout 30 tcp-timeout 7440 mode native dev eth0 \
         public 203.0.113.30 router 10.0.0.7",
    ))
    .unwrap();
    let flat: Vec<String> = h
        .words()
        .into_iter()
        .flat_map(|(k, v)| [k.to_owned(), v])
        .collect();
    assert_eq!(
        flat.join(" "),
        "router 10.0.0.7 public 203.0.113.30 dev eth0 mode native tcp-timeout 7440 \
         udp-timeout 30 port-block 1 hook-counters 3"
    );
    assert_eq!(HostSettings::parse(&flat).unwrap(), h);
    assert!(RouterSettings::default().words().is_empty());
    assert!(HostSettings::default().words().is_empty());
    let mut r = RouterSettings::default();
    let e = r.set("mtu", "1500").unwrap_err();
    assert!(e.starts_with("unknown setting \"mtu\""), "{e}");
}

#[test]
fn pap_rate_setting() {
    let s = RouterSettings::parse(&args("pap-rate 5")).unwrap();
    assert_eq!(s.attrs(), vec![RouterAttr::PapRate(5)]);
    // 0 to PAP_RATE_MAX, as dnat-core (the kernel) takes it.
    let s = RouterSettings::parse(&args("pap-rate 1000")).unwrap();
    assert_eq!(s.attrs(), vec![RouterAttr::PapRate(1000)]);
    let e = RouterSettings::parse(&args("pap-rate 4294967296")).unwrap_err();
    assert_eq!(e, "pap-rate: \"4294967296\" is out of range (0 to 1000)");
    // Digits only, as for every number of set.
    for bad in [
        "pap-rate x",
        "pap-rate -1",
        "pap-rate +5",
        "quota-ports +1",
        "quota-spis 0x10",
    ] {
        let e = RouterSettings::parse(&args(bad)).unwrap_err();
        assert!(e.contains("is not a number"), "{bad}: {e}");
    }
}

#[test]
fn full_router_settings() {
    let s = RouterSettings::parse(&args(
        "spis 0x1000-0x1fff unowned drop lan veth-lan ports 20000-29999 wan veth-wan \
         public 203.0.113.30",
    ))
    .unwrap();
    assert_eq!(
        s,
        RouterSettings {
            lan: Some("veth-lan".into()),
            wan: Some("veth-wan".into()),
            public: Some(Ipv4Addr::new(203, 0, 113, 30)),
            ports: Some(Range {
                min: 20000,
                max: 29999
            }),
            spis: Some(Range {
                min: 0x1000,
                max: 0x1fff
            }),
            unowned: Some(1),
            quota_ports: None,
            quota_spis: None,
            sa_policy: None,
            hook_counters: None,
            pap_rate: None,
            pap_auth: None,
        }
    );
    assert_eq!(
        s.attrs(),
        vec![
            RouterAttr::LanIfname("veth-lan".into()),
            RouterAttr::WanIfname("veth-wan".into()),
            RouterAttr::PublicAddr(Ipv4Addr::new(203, 0, 113, 30)),
            RouterAttr::PortMin(20000),
            RouterAttr::PortMax(29999),
            RouterAttr::SpiMin(0x1000),
            RouterAttr::SpiMax(0x1fff),
            RouterAttr::Unowned(1),
        ]
    );
}

#[test]
fn quota_settings() {
    let s = RouterSettings::parse(&args("quota-ports 64 quota-spis 256")).unwrap();
    assert_eq!(
        s.attrs(),
        vec![RouterAttr::QuotaPorts(64), RouterAttr::QuotaSpis(256)]
    );
    assert!(RouterSettings::parse(&args("quota-ports many")).is_err());
    assert!(RouterSettings::parse(&args("quota-ports -1")).is_err());
}

#[test]
fn unowned_setting() {
    for (input, value) in [
        ("unowned local", 0),
        ("unowned drop", 1),
        ("unowned 0", 0),
        ("unowned 1", 1),
        // Unknown values are the kernel's to refuse.
        ("unowned 2", 2),
        ("unowned 255", 255),
        ("unowned 007", 7),
    ] {
        let s = RouterSettings::parse(&args(input)).unwrap();
        assert_eq!(s.unowned, Some(value), "{input}");
        assert_eq!(s.attrs(), vec![RouterAttr::Unowned(value)], "{input}");
    }
    for (input, msg) in [
        ("unowned", "setting \"unowned\" needs a value"),
        (
            "unowned accept",
            "unowned: \"accept\" is not local, drop or a number (0 to 255)",
        ),
        ("unowned LOCAL", "\"LOCAL\" is not local, drop or a number"),
        ("unowned -1", "\"-1\" is not local, drop or a number"),
        ("unowned 0x1", "\"0x1\" is not local, drop or a number"),
        ("unowned 256", "unowned: \"256\" is out of range (0 to 255)"),
        (
            "unowned local unowned drop",
            "setting \"unowned\" given twice",
        ),
    ] {
        let e = RouterSettings::parse(&args(input)).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
}

#[test]
fn sa_policy_setting() {
    for (input, value) in [
        ("sa-policy strict", 0),
        ("sa-policy permissive", 1),
        ("sa-policy 0", 0),
        // Unknown values are the kernel's to refuse.
        ("sa-policy 2", 2),
        ("sa-policy 255", 255),
    ] {
        let s = RouterSettings::parse(&args(input)).unwrap();
        assert_eq!(s.sa_policy, Some(value), "{input}");
        assert_eq!(s.attrs(), vec![RouterAttr::SaPolicy(value)], "{input}");
    }
    for (input, msg) in [
        ("sa-policy", "setting \"sa-policy\" needs a value"),
        (
            "sa-policy loose",
            "sa-policy: \"loose\" is not strict, permissive or a number (0 to 255)",
        ),
        ("sa-policy Strict", "\"Strict\" is not strict, permissive"),
        ("sa-policy -1", "\"-1\" is not strict, permissive"),
        (
            "sa-policy 256",
            "sa-policy: \"256\" is out of range (0 to 255)",
        ),
        (
            "sa-policy strict sa-policy permissive",
            "setting \"sa-policy\" given twice",
        ),
        ("sa_policy strict", "unknown setting \"sa_policy\""),
        ("sa-policy strict mtu 1", "sa-policy strict|permissive"),
    ] {
        let e = RouterSettings::parse(&args(input)).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
}

#[test]
fn values_are_not_judged_here() {
    // The kernel rejects these (inverted ranges, addresses, names);
    // the tool must send them.
    let s = RouterSettings::parse(&args("spis 0x2000-0x1000 ports 30000-20000 public 0.0.0.0"))
        .unwrap();
    assert_eq!(
        s.spis,
        Some(Range {
            min: 0x2000,
            max: 0x1000
        })
    );
    assert_eq!(
        s.ports,
        Some(Range {
            min: 30000,
            max: 20000
        })
    );
    assert_eq!(s.public, Some(Ipv4Addr::UNSPECIFIED));
    let s = RouterSettings::parse(&args(
        "ports 65535-65535 lan this-name-is-far-too-long wan x:y",
    ))
    .unwrap();
    assert_eq!(
        s.ports,
        Some(Range {
            min: 65535,
            max: 65535
        })
    );
    assert_eq!(s.lan.as_deref(), Some("this-name-is-far-too-long"));
    let s = RouterSettings::parse(&args("spis 0XFFFFFFFF-4294967295")).unwrap();
    assert_eq!(
        s.spis,
        Some(Range {
            min: u32::MAX,
            max: u32::MAX
        })
    );
    let s = HostSettings::parse(&args("public 10.0.0.7 router 10.0.0.7")).unwrap();
    assert_eq!(
        s.attrs(),
        vec![
            HostAttr::RouterAddr(Ipv4Addr::new(10, 0, 0, 7)),
            HostAttr::PublicAddr(Ipv4Addr::new(10, 0, 0, 7)),
        ]
    );
}

#[test]
fn bad_router_settings() {
    for (input, msg) in [
        ("", "at least one setting is required"),
        ("lan", "setting \"lan\" needs a value"),
        ("lan a wan", "setting \"wan\" needs a value"),
        ("mtu 1500", "unknown setting \"mtu\""),
        ("LAN eth0", "unknown setting \"LAN\""),
        ("lan a lan b", "setting \"lan\" given twice"),
        (
            "public 203.0.113",
            "public: \"203.0.113\" is not an IPv4 address",
        ),
        ("public 203.0.113.30/24", "is not an IPv4 address"),
        ("ports 20000", "ports: \"20000\" is not a range MIN-MAX"),
        ("ports 20000-", "ports: \"\" is not a port number"),
        ("ports -1-5", "ports: \"\" is not a port number"),
        (
            "ports 1-65536",
            "ports: \"65536\" is out of range (1 to 65535)",
        ),
        ("ports 0-100", "ports: \"0\" is out of range (1 to 65535)"),
        ("ports +1-5", "ports: \"+1\" is not a port number"),
        ("ports 0x10-0x20", "ports: \"0x10\" is not a port number"),
        ("spis 256-0x", "spis: \"0x\" is not an SPI"),
        (
            "spis 256-4294967296",
            "spis: \"4294967296\" is out of range (256 to 4294967295)",
        ),
        (
            "spis 1-1000",
            "spis: \"1\" is out of range (256 to 4294967295)",
        ),
        ("spis 0xff-0x1000", "spis: \"0xff\" is out of range"),
        ("spis 0x1000-0x1fffg", "spis: \"0x1fffg\" is not an SPI"),
        ("spis 256-2-3", "spis: \"2-3\" is not an SPI"),
        (
            "pap-rate 1001",
            "pap-rate: \"1001\" is out of range (0 to 1000)",
        ),
        (
            "quota-ports 0",
            "quota-ports: \"0\" is out of range (1 to 4294967295)",
        ),
        (
            "quota-spis 0",
            "quota-spis: \"0\" is out of range (1 to 4294967295)",
        ),
    ] {
        let e = RouterSettings::parse(&args(input)).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
}

#[test]
fn bad_host_settings() {
    for (input, msg) in [
        ("", "at least one setting is required"),
        ("router", "needs a value"),
        ("lan eth0", "unknown setting \"lan\""),
        ("router 10.0.0.256", "is not an IPv4 address"),
        ("public a.b.c.d", "is not an IPv4 address"),
        ("dev", "setting \"dev\" needs a value"),
        ("dev eth0 mode", "setting \"mode\" needs a value"),
        ("dev eth0 dev eth1", "setting \"dev\" given twice"),
        ("timeout 30", "unknown setting \"timeout\""),
        ("port-blocks 16", "unknown setting \"port-blocks\""),
        (
            "mode nat",
            "mode: \"nat\" is not translate, native or a number (0 to 255)",
        ),
        (
            "mode Native",
            "\"Native\" is not translate, native or a number",
        ),
        ("mode 256", "mode: \"256\" is out of range (0 to 255)"),
        ("mode -1", "\"-1\" is not translate, native or a number"),
        (
            "tcp-timeout 2h",
            "tcp-timeout: \"2h\" is not a number of seconds (1 to 86400)",
        ),
        (
            "udp-timeout -1",
            "udp-timeout: \"-1\" is not a number of seconds (1 to 86400)",
        ),
        ("udp-timeout +5", "udp-timeout: \"+5\" is not a number"),
        ("tcp-timeout 0x10", "tcp-timeout: \"0x10\" is not a number"),
        (
            "tcp-timeout 0",
            "tcp-timeout: \"0\" is out of range (1 to 86400)",
        ),
        (
            "port-block 4294967296",
            "port-block: \"4294967296\" is out of range (1 to 255)",
        ),
        (
            "port-block 256",
            "port-block: \"256\" is out of range (1 to 255)",
        ),
        ("port-block", "setting \"port-block\" needs a value"),
        ("port-block 1.5", "port-block: \"1.5\" is not a number"),
        (
            "tcp-timeout 1 tcp-timeout 2",
            "setting \"tcp-timeout\" given twice",
        ),
    ] {
        let e = HostSettings::parse(&args(input)).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
    let e = HostSettings::parse(&args("mtu 1500")).unwrap_err();
    assert_eq!(
        e,
        "unknown setting \"mtu\"; expected router ADDR, public ADDR, dev IFNAME, \
         mode translate|native, tcp-timeout SECS, udp-timeout SECS, port-block N, \
         hook-counters on|off or delivery ipip|direct"
    );
}

#[test]
fn full_host_settings() {
    let s = HostSettings::parse(&args(
        "hook-counters on port-block 16 udp-timeout 30 tcp-timeout 7440 mode native \
         dev eth0 public 203.0.113.30 router 10.0.0.7",
    ))
    .unwrap();
    assert_eq!(
        s,
        HostSettings {
            router: Some(Ipv4Addr::new(10, 0, 0, 7)),
            public: Some(Ipv4Addr::new(203, 0, 113, 30)),
            dev: Some("eth0".into()),
            mode: Some(1),
            tcp_timeout: Some(7440),
            udp_timeout: Some(30),
            port_block: Some(16),
            hook_counters: Some(1),
            delivery: None,
        }
    );
    // In attribute number order, whatever the order of the words.
    assert_eq!(
        s.attrs(),
        vec![
            HostAttr::RouterAddr(Ipv4Addr::new(10, 0, 0, 7)),
            HostAttr::PublicAddr(Ipv4Addr::new(203, 0, 113, 30)),
            HostAttr::LanIfname("eth0".into()),
            HostAttr::Mode(1),
            HostAttr::TcpTimeout(7440),
            HostAttr::UdpTimeout(30),
            HostAttr::PortBlock(16),
            HostAttr::HookCounters(1),
        ]
    );
    for (input, value) in [
        ("hook-counters off", 0),
        ("hook-counters on", 1),
        // Unknown values are the kernel's to refuse.
        ("hook-counters 2", 2),
    ] {
        let r = RouterSettings::parse(&args(input)).unwrap();
        assert_eq!(r.attrs(), vec![RouterAttr::HookCounters(value)], "{input}");
        let h = HostSettings::parse(&args(input)).unwrap();
        assert_eq!(h.attrs(), vec![HostAttr::HookCounters(value)], "{input}");
    }
    let e = HostSettings::parse(&args("hook-counters yes")).unwrap_err();
    assert!(e.contains("\"yes\" is not off, on or a number"), "{e}");
    for (input, value) in [
        ("delivery ipip", 0),
        ("delivery direct", 1),
        ("delivery 7", 7),
    ] {
        let h = HostSettings::parse(&args(input)).unwrap();
        assert_eq!(h.attrs(), vec![HostAttr::Delivery(value)], "{input}");
        assert_eq!(h.words()[0].0, "delivery");
    }
    let e = HostSettings::parse(&args("delivery lan")).unwrap_err();
    assert!(e.contains("\"lan\" is not ipip, direct or a number"), "{e}");
    let s = HostSettings::parse(&args("dev lan0")).unwrap();
    assert_eq!(s.attrs(), vec![HostAttr::LanIfname("lan0".into())]);
    for (input, value) in [
        ("mode translate", 0),
        ("mode native", 1),
        ("mode 0", 0),
        // Unknown values are the kernel's to refuse.
        ("mode 2", 2),
        ("mode 255", 255),
    ] {
        let s = HostSettings::parse(&args(input)).unwrap();
        assert_eq!(s.attrs(), vec![HostAttr::Mode(value)], "{input}");
    }
}

#[test]
fn host_values_are_not_judged_here() {
    // The kernel refuses these (bad names, the numbers given for
    // names); the tool sends them.
    let s = HostSettings::parse(&args(
        "tcp-timeout 1 udp-timeout 86400 port-block 255 dev this-name-is-far-too-long mode 9",
    ))
    .unwrap();
    assert_eq!(
        s.attrs(),
        vec![
            HostAttr::LanIfname("this-name-is-far-too-long".into()),
            HostAttr::Mode(9),
            HostAttr::TcpTimeout(1),
            HostAttr::UdpTimeout(86400),
            HostAttr::PortBlock(255),
        ]
    );
    let s = HostSettings::parse(&args("port-block 1 dev a/b")).unwrap();
    assert_eq!(s.port_block, Some(1));
    assert_eq!(s.dev.as_deref(), Some("a/b"));
}
