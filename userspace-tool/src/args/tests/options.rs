// SPDX-License-Identifier: GPL-2.0

//! The word lists of `router quota`, `router delivery`, the blacklists
//! and `pap`.

use std::net::Ipv4Addr;

use dnat_core::pap::PortClass;

use super::*;
use crate::msg::RouterAttr;

#[test]
fn delivery_words() {
    let m = [0x02, 0, 0, 0, 0xab, 0x01];
    for (input, want) in [
        ("ipip", Delivery::Ipip),
        ("direct", Delivery::Direct(None)),
        ("direct lladdr 02:00:00:00:ab:01", Delivery::Direct(Some(m))),
        ("direct lladdr 2:0:0:0:AB:1", Delivery::Direct(Some(m))),
    ] {
        assert_eq!(Delivery::parse(&args(input)), Ok(want), "{input}");
    }
    assert_eq!(
        Delivery::Direct(Some(m)).attrs(),
        vec![RouterAttr::Delivery(1), RouterAttr::Lladdr(m)]
    );
    assert_eq!(
        Delivery::Direct(None).attrs(),
        vec![RouterAttr::Delivery(1)]
    );
    assert_eq!(Delivery::Ipip.attrs(), vec![RouterAttr::Delivery(0)]);
    for (input, msg) in [
        ("", "give the mode: ipip, or direct [lladdr MAC]"),
        ("tunnel", "unknown mode \"tunnel\""),
        (
            "ipip lladdr 02:00:00:00:ab:01",
            "lladdr is for direct delivery only",
        ),
        ("direct lladdr", "option \"lladdr\" needs a value"),
        (
            "direct lladdr 02:00:00:00:ab",
            "lladdr: \"02:00:00:00:ab\" is not an Ethernet address",
        ),
        (
            "direct lladdr 02:00:00:00:ab:01:02",
            "is not an Ethernet address",
        ),
        (
            "direct lladdr 02-00-00-00-ab-01",
            "is not an Ethernet address",
        ),
        (
            "direct lladdr 002:00:00:00:ab:01",
            "is not an Ethernet address",
        ),
        ("direct mac 02:00:00:00:ab:01", "unknown option \"mac\""),
        ("direct lladdr 02:00:00:00:ab:01 x", "unknown option \"x\""),
        ("ipip ipip", "unknown option \"ipip\""),
    ] {
        let e = Delivery::parse(&args(input)).unwrap_err();
        assert!(e.contains(msg), "{input}: {e}");
    }
    // The words go to Delivery::parse; -j among them is an option.
    let c = cli("router delivery 10.0.0.1 direct -j").unwrap();
    assert!(c.json);
    match c.object {
        Object::Router {
            cmd: Some(RouterCmd::Delivery { addr, words }),
        } => {
            assert_eq!(addr, Ipv4Addr::new(10, 0, 0, 1));
            assert_eq!(words, args("direct"));
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(lladdr_text(&m), "02:00:00:00:ab:01");
}

#[test]
fn quota_words() {
    for (input, want, attrs) in [
        (
            "ports 100 spis 16",
            QuotaWords::Own {
                ports: Some(100),
                spis: Some(16),
            },
            vec![RouterAttr::QuotaPorts(100), RouterAttr::QuotaSpis(16)],
        ),
        // In attribute number order, whatever the order of the words.
        (
            "spis 16 ports 100",
            QuotaWords::Own {
                ports: Some(100),
                spis: Some(16),
            },
            vec![RouterAttr::QuotaPorts(100), RouterAttr::QuotaSpis(16)],
        ),
        (
            "ports 1",
            QuotaWords::Own {
                ports: Some(1),
                spis: None,
            },
            vec![RouterAttr::QuotaPorts(1)],
        ),
        (
            "spis 4294967295",
            QuotaWords::Own {
                ports: None,
                spis: Some(u32::MAX),
            },
            vec![RouterAttr::QuotaSpis(u32::MAX)],
        ),
        ("default", QuotaWords::Default, vec![]),
    ] {
        let q = QuotaWords::parse(&args(input)).unwrap();
        assert_eq!(q, want, "{input}");
        assert_eq!(q.attrs(), attrs, "{input}");
    }
    for (input, msg) in [
        ("", "give ports N, spis N or both, or default"),
        (
            "ports 0",
            "ports: \"0\" is out of range (1 to 4294967295); \"default\" puts the host back \
             on the default quota",
        ),
        (
            "spis 0",
            "spis: \"0\" is out of range (1 to 4294967295); \"default\"",
        ),
        ("ports 100 spis 000", "spis: \"000\" is out of range"),
        (
            "ports 4294967296",
            "ports: \"4294967296\" is out of range (1 to 4294967295)",
        ),
        (
            "ports many",
            "ports: \"many\" is not a number (1 to 4294967295)",
        ),
        ("ports +5", "ports: \"+5\" is not a number"),
        ("ports -1", "ports: \"-1\" is not a number"),
        ("spis 0x10", "spis: \"0x10\" is not a number"),
        ("ports 1.5", "ports: \"1.5\" is not a number"),
        ("ports", "option \"ports\" needs a value"),
        ("ports 100 spis", "option \"spis\" needs a value"),
        ("ports 1 ports 2", "option \"ports\" given twice"),
        ("spis 1 ports 2 spis 1", "option \"spis\" given twice"),
        ("default default", "option \"default\" given twice"),
        (
            "default ports 100",
            "default cannot be combined with ports or spis",
        ),
        (
            "spis 16 default",
            "default cannot be combined with ports or spis (it puts the host back on the \
             default quota)",
        ),
        (
            "quota-ports 100",
            "unknown option \"quota-ports\"; expected ports N, spis N or default",
        ),
        ("PORTS 100", "unknown option \"PORTS\""),
        ("100", "unknown option \"100\""),
    ] {
        let e = QuotaWords::parse(&args(input)).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
}

#[test]
fn blacklist_words() {
    let peer = Ipv4Addr::new(203, 0, 113, 66);
    for (input, router, want) in [
        (
            "peer 203.0.113.66",
            false,
            BlacklistWords {
                peer: Some(peer),
                ..BlacklistWords::default()
            },
        ),
        (
            "spi 0x1000",
            false,
            BlacklistWords {
                spi: Some(0x1000),
                ..BlacklistWords::default()
            },
        ),
        (
            "spi 4096 peer 203.0.113.66 router 10.0.0.7",
            true,
            BlacklistWords {
                peer: Some(peer),
                spi: Some(4096),
                router: Some(Ipv4Addr::new(10, 0, 0, 7)),
            },
        ),
        // The kernel (or the PAP codec) judges addresses.
        (
            "peer 0.0.0.0 spi 256",
            false,
            BlacklistWords {
                peer: Some(Ipv4Addr::UNSPECIFIED),
                spi: Some(256),
                router: None,
            },
        ),
    ] {
        assert_eq!(
            BlacklistWords::parse(&args(input), router).unwrap(),
            want,
            "{input}"
        );
    }
    for (input, router, msg) in [
        ("", false, "give peer ADDR, spi SPI or both"),
        ("router 10.0.0.7", true, "give peer ADDR, spi SPI or both"),
        (
            "router 10.0.0.7 peer 203.0.113.66",
            false,
            "unknown option \"router\"; expected peer ADDR or spi SPI",
        ),
        (
            "any",
            true,
            "unknown option \"any\"; expected peer ADDR, spi SPI or router ADDR",
        ),
        ("peer", false, "option \"peer\" needs a value"),
        ("spi", false, "option \"spi\" needs a value"),
        ("peer any", false, "peer: \"any\" is not an IPv4 address"),
        (
            "spi any",
            false,
            "spi: \"any\" is not an SPI (256 to 4294967295, decimal or 0x hex)",
        ),
        ("spi 0x", false, "spi: \"0x\" is not an SPI"),
        (
            "spi 4294967296",
            false,
            "is out of range (256 to 4294967295)",
        ),
        (
            "peer 1.2.3.4 peer 1.2.3.5",
            false,
            "option \"peer\" given twice",
        ),
        ("spi 256 spi 256", false, "option \"spi\" given twice"),
        (
            "spi 255",
            false,
            "spi: \"255\" is out of range (256 to 4294967295)",
        ),
        (
            "spi 4096 router 10.0.0.7 router 10.0.0.8",
            true,
            "option \"router\" given twice",
        ),
    ] {
        let e = BlacklistWords::parse(&args(input), router).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
}

#[test]
fn pap_options() {
    let o = PapOptions::parse(&args("lease 0 high"), true, true).unwrap();
    assert_eq!(o.class, Some(PortClass::High));
    assert_eq!(o.lease, Some(0));
    assert_eq!(o.router, None);
    assert_eq!(
        PapOptions::parse(&[], false, false).unwrap(),
        PapOptions::default()
    );
    for (input, class, lease, msg) in [
        ("low high", true, true, "low and high: give one, once"),
        (
            "low",
            false,
            true,
            "unknown option \"low\"; expected router ADDR or lease",
        ),
        (
            "lease 60",
            false,
            false,
            "unknown option \"lease\"; expected router ADDR",
        ),
        ("router", true, true, "option \"router\" needs a value"),
        ("lease", true, true, "option \"lease\" needs a value"),
        (
            "router 10.0.0.7 router 10.0.0.8",
            false,
            false,
            "\"router\" given twice",
        ),
        ("lease 1 lease 2", true, true, "\"lease\" given twice"),
        (
            "router 10.0.0",
            true,
            true,
            "router: \"10.0.0\" is not an IPv4 address",
        ),
        (
            "lease 4294967296",
            true,
            true,
            "lease: \"4294967296\" is out of range (0 to 4294967295)",
        ),
        (
            "lease -1",
            true,
            true,
            "lease: \"-1\" is not a number of seconds",
        ),
        (
            "lease 1h",
            true,
            true,
            "lease: \"1h\" is not a number of seconds",
        ),
        ("native", true, true, "unknown option \"native\""),
    ] {
        let e = PapOptions::parse(&args(input), class, lease).unwrap_err();
        assert!(e.contains(msg), "{input:?}: {e}");
    }
}
