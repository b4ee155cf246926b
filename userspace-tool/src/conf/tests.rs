// SPDX-License-Identifier: GPL-2.0

//! Tests of the configuration files: text to configuration and back, the
//! errors and their lines, the checks of the kernel's rules, the requests
//! of `setconf`, the example files.

use std::net::Ipv4Addr;

use super::apply::{check_host, check_router, router_plan, Step};
use super::parse::{self, ConfError};
use super::*;
use crate::args::{Delivery, QuotaWords};
use crate::dump::{Host, HostQuota};

/// What `router showconf` prints for a router with every kind of setting.
const ROUTER: &str = "\
[Router]
lan = lan0
wan = wan0
public = 203.0.113.30
ports = 20000-29999
spis = 0x1000-0x1fff
unowned = drop
quota-ports = 512
quota-spis = 64
sa-policy = permissive
hook-counters = on
pap-rate = 50
pap-auth = optional

[Host 10.0.0.1]
quota-ports = 100
quota-spis = 16

[Host 10.0.0.5]
revoked = yes

[Host 10.0.0.9]
quota-ports = 1
quota-spis = 4294967295
revoked = yes
";

/// What `host showconf` prints for a host with every setting.
const HOST: &str = "\
[Host]
router = 10.0.0.7
public = 203.0.113.30
dev = eth0
mode = native
tcp-timeout = 600
udp-timeout = 30
port-block = 16
hook-counters = on
delivery = direct
";

fn addr(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn router(text: &str) -> RouterConf {
    parse::router(text).unwrap().0
}

fn host(text: &str) -> HostConf {
    parse::host(text).unwrap().0
}

#[test]
fn showconf_text_round_trips() {
    let c = router(ROUTER);
    assert_eq!(c.render(), ROUTER);
    // It names every setting: completing it changes nothing.
    assert_eq!(c.complete(), c);
    assert_eq!(
        c.settings.words().len(),
        crate::args::RouterSettings::KEYS.len()
    );
    assert_eq!(c.hosts.len(), 3);
    assert_eq!(
        c.hosts[&addr("10.0.0.9")],
        HostEntry {
            quota_ports: Some(1),
            quota_spis: Some(u32::MAX),
            revoked: true,
            delivery: None,
        }
    );
    let h = host(HOST);
    assert_eq!(h.render(), HOST);
    assert_eq!(h.complete(), h);
    assert_eq!(
        h.settings.words().len(),
        crate::args::HostSettings::KEYS.len()
    );
    assert!(check_router(&c, &parse::router(ROUTER).unwrap().1).is_ok());
    assert!(check_host(&h, &parse::host(HOST).unwrap().1).is_ok());
}

#[test]
fn layout_is_free_but_the_text_is_canonical() {
    // Comments, blank lines, blanks, CRLF, any order of keys and
    // sections, names and numbers for the same values.
    let text = "# saved\r\n\n  [Host   10.0.0.1 ]\nquota-spis=16\n\t quota-ports  =  100 \n\
                [Router]\r\n  # the pools\nspis = 4096-8191\nports = 20000-29999\n\
                sa-policy = 1\nunowned = 1\nhook-counters = 1\npap-auth = 1\n\
                public = 203.0.113.30\nwan = wan0\nlan = lan0\npap-rate = 50\n\
                quota-spis = 64\nquota-ports = 512\n[Host 10.0.0.9]\nrevoked = yes\n\
                quota-spis = 4294967295\nquota-ports = 1\n[Host 10.0.0.5]\nrevoked=yes\n";
    assert_eq!(router(text).render(), ROUTER);
    let text = "[Host]\ndelivery = 1\nhook-counters = 1\nport-block = 16\nudp-timeout = 30\n\
                tcp-timeout = 600\nmode = 1\ndev = eth0\npublic = 203.0.113.30\n\
                router = 10.0.0.7\n";
    assert_eq!(host(text).render(), HOST);
    // An interface name keeps what is not a blank: = and # too.
    let c = router("[Router]\nlan = a=b#c\n");
    assert_eq!(c.settings.lan.as_deref(), Some("a=b#c"));
}

#[test]
fn complete_gives_the_defaults_of_a_module_just_loaded() {
    let c = router(
        "[Router]\nlan = lan0\nquota-spis = 8\n[Host 10.0.0.1]\nquota-ports = 5\n\
                    [Host 10.0.0.2]\nrevoked = no\n[Host 10.0.0.3]\nquota-spis = 2\n",
    )
    .complete();
    assert_eq!(
        c.render(),
        "[Router]\nlan = lan0\nunowned = local\nquota-ports = 4096\nquota-spis = 8\n\
         sa-policy = strict\nhook-counters = off\npap-rate = 0\npap-auth = required\n\n\
         [Host 10.0.0.1]\nquota-ports = 5\nquota-spis = 8\n\n\
         [Host 10.0.0.3]\nquota-ports = 4096\nquota-spis = 2\n"
    );
    // An empty file: the settings of a module just loaded, no host.
    assert_eq!(
        router("").complete().render(),
        "[Router]\nunowned = local\nquota-ports = 4096\nquota-spis = 1024\n\
         sa-policy = strict\nhook-counters = off\npap-rate = 0\npap-auth = required\n"
    );
    assert_eq!(
        host("[Host]\ndev = eth0\n").complete().render(),
        "[Host]\ndev = eth0\nmode = translate\ntcp-timeout = 7440\nudp-timeout = 180\n\
         port-block = 64\nhook-counters = off\ndelivery = ipip\n"
    );
}

/// The error of `text` as a router's (`true`) or a host's file.
fn error(router_file: bool, text: &str) -> ConfError {
    let r = if router_file {
        parse::router(text).and_then(|(c, l)| check_router(&c.complete(), &l))
    } else {
        parse::host(text).and_then(|(c, l)| check_host(&c.complete(), &l))
    };
    r.unwrap_err()
}

#[test]
fn errors_name_their_line() {
    for (text, line, msg) in [
        (
            "lan = lan0\n",
            1,
            "lan: a setting outside a section ([Router] or [Host ADDR] comes first)",
        ),
        (
            "[Router]\n\n# x\nlann = lan0\n",
            4,
            "unknown key \"lann\" in [Router]; expected lan, wan, public",
        ),
        (
            "[Router]\nlan lan0\n",
            2,
            "\"lan lan0\" is neither [Section] nor key = value",
        ),
        ("[Router]\nlan =\n", 2, "lan: no value after ="),
        ("[Router]\n= lan0\n", 2, "no key before ="),
        ("[Router\n", 1, "a section header ends with ]"),
        (
            "[Router]\nlan = a\nwan = b\nlan = c\n",
            4,
            "lan given twice in [Router] (first on line 2)",
        ),
        (
            "[Router]\n[Host 10.0.0.1]\nrevoked = yes\n[Router]\n",
            4,
            "[Router] given twice (first on line 1)",
        ),
        (
            "[Host 10.0.0.1]\nrevoked = yes\n[Host 10.0.0.1]\n",
            3,
            "[Host 10.0.0.1] given twice",
        ),
        (
            "[Host 10.0.0.1]\nrevoked = yes\n[Host 010.0.0.1]\n",
            3,
            "is not an IPv4 address",
        ),
        (
            "[Interface]\n",
            1,
            "unknown section [Interface]; a router's file has [Router] or [Host ADDR]",
        ),
        ("[Host]\n", 1, "[Host] without an address"),
        ("[Router 1]\n", 1, "[Router] takes no argument"),
        ("[Host 10.0.0]\n", 1, "\"10.0.0\" is not an IPv4 address"),
        (
            "[Host 224.0.0.1]\nrevoked = yes\n",
            1,
            "[Host 224.0.0.1]: not a unicast address",
        ),
        (
            "[Host 10.0.0.1]\n\n[Router]\n",
            1,
            "[Host 10.0.0.1] sets nothing",
        ),
        (
            "[Host 10.0.0.1]\nquota-ports = 0\n",
            2,
            "quota-ports: \"0\" is out of range (1 to 4294967295); leave it out",
        ),
        (
            "[Host 10.0.0.1]\nquota-spis = -1\n",
            2,
            "quota-spis: \"-1\" is not a number (1 to 4294967295)",
        ),
        (
            "[Host 10.0.0.1]\nrevoked = true\n",
            2,
            "revoked: \"true\" is not yes or no",
        ),
        (
            "[Host 10.0.0.1]\nlan = lan0\n",
            2,
            "unknown key \"lan\" in [Host 10.0.0.1]; expected quota-ports, quota-spis, revoked",
        ),
        // The parsers of router set.
        (
            "[Router]\nports = 20000\n",
            2,
            "ports: \"20000\" is not a range MIN-MAX",
        ),
        (
            "[Router]\npublic = 203.0.113\n",
            2,
            "public: \"203.0.113\" is not an IPv4 address",
        ),
        (
            "[Router]\nunowned = maybe\n",
            2,
            "unowned: \"maybe\" is not local, drop or a number",
        ),
        (
            "[Router]\npap-rate = +5\n",
            2,
            "pap-rate: \"+5\" is not a number",
        ),
        // The limits of limit.rs (dnat-core's).
        (
            "[Router]\nlan = lan0\nspis = 1-100\n",
            3,
            "spis: \"1\" is out of range (256 to 4294967295)",
        ),
        (
            "[Router]\nports = 0-100\n",
            2,
            "ports: \"0\" is out of range (1 to 65535)",
        ),
        (
            "[Router]\npap-rate = 1001\n",
            2,
            "pap-rate: \"1001\" is out of range (0 to 1000)",
        ),
        (
            "[Router]\nquota-ports = 0\n",
            2,
            "quota-ports: \"0\" is out of range (1 to 4294967295)",
        ),
        // The kernel's rules (dnat-core's checks of SET_CONFIG).
        (
            "[Router]\nports = 3000-2000\n",
            2,
            "ports: inverted port range",
        ),
        (
            "[Router]\nlan = lan0\nwan = lan0\n",
            3,
            "wan: LAN and WAN must be different interfaces",
        ),
        (
            "[Router]\nlan = this-name-is-far-too-long\n",
            2,
            "lan: invalid interface name",
        ),
        ("[Router]\nwan = a/b\n", 2, "wan: invalid interface name"),
        (
            "[Router]\npublic = 224.0.0.1\n",
            2,
            "public: the public address must be a unicast address",
        ),
        (
            "[Router]\nunowned = 7\n",
            2,
            "unowned: unknown UNOWNED value (0: local, 1: drop)",
        ),
        (
            "[Router]\nsa-policy = 2\n",
            2,
            "sa-policy: unknown SA_POLICY value",
        ),
        (
            "[Router]\npap-auth = 9\n",
            2,
            "pap-auth: unknown PAP_AUTH value",
        ),
        (
            "[Router]\nhook-counters = 2\n",
            2,
            "hook-counters: a switch is 0 (off) or 1 (on)",
        ),
    ] {
        let e = error(true, text);
        assert_eq!(e.line, Some(line), "{text:?}: {e}");
        assert!(e.msg.contains(msg), "{text:?}: {e}");
    }
    for (text, line, msg) in [
        (
            "[Host]\nrouter = 10.0.0.7\n[Host]\n",
            3,
            "[Host] given twice (first on line 1)",
        ),
        (
            "[Router]\n",
            1,
            "[Router] is a router's section (dnatctl router setconf)",
        ),
        (
            "[Host 10.0.0.1]\n",
            1,
            "[Host 10.0.0.1] is a router's section",
        ),
        (
            "[Host]\nlan = eth0\n",
            2,
            "unknown key \"lan\" in [Host]; expected router, public, dev",
        ),
        (
            "mode = native\n",
            1,
            "a setting outside a section ([Host] comes first)",
        ),
        (
            "[Host]\nmode = nat\n",
            2,
            "mode: \"nat\" is not translate, native or a number",
        ),
        (
            "[Host]\nmode = 2\n",
            2,
            "mode: unknown MODE (0: translate, 1: native)",
        ),
        (
            "[Host]\ntcp-timeout = 0\n",
            2,
            "tcp-timeout: \"0\" is out of range (1 to 86400)",
        ),
        (
            "[Host]\n\nudp-timeout = 86401\n",
            3,
            "udp-timeout: \"86401\" is out of range (1 to 86400)",
        ),
        (
            "[Host]\nport-block = 256\n",
            2,
            "port-block: \"256\" is out of range (1 to 255)",
        ),
        (
            "[Host]\nrouter = 255.255.255.255\n",
            2,
            "router: the router address must be a unicast",
        ),
        (
            "[Host]\nrouter = 10.0.0.7\npublic = 10.0.0.7\n",
            3,
            "public: the router address and the public address must differ",
        ),
        ("[Host]\ndev = a:b\n", 2, "dev: invalid interface name"),
        (
            "[Host]\nhook-counters = 3\n",
            2,
            "hook-counters: a switch is 0 (off) or 1 (on)",
        ),
    ] {
        let e = error(false, text);
        assert_eq!(e.line, Some(line), "{text:?}: {e}");
        assert!(e.msg.contains(msg), "{text:?}: {e}");
    }
}

fn kernel_host(a: &str, revoked: bool, quota: Option<(u32, u32, bool)>) -> Host {
    Host {
        host: addr(a),
        revoked,
        ports: 16,
        spis: 0,
        in_packets: 1,
        out_packets: 2,
        in_bytes: Some(84),
        out_bytes: Some(168),
        spoofed: 0,
        sa_dropped: Some(0),
        quota: quota.map(|(ports, spis, own)| HostQuota { ports, spis, own }),
        auth: true,
        delivery: Some("ipip".into()),
        lladdr: None,
    }
}

#[test]
fn from_kernel_keeps_the_configuration_only() {
    let c = router(ROUTER);
    let mut attrs = c.settings.attrs();
    // What GET_CONFIG adds: the interfaces' indexes.
    attrs.push(RouterAttr::LanIfindex(3));
    attrs.push(RouterAttr::WanIfindex(4));
    let hosts = Hosts {
        hosts: vec![
            kernel_host("10.0.0.1", false, Some((100, 16, true))),
            // Holding blocks on the default quota: state, not configuration.
            kernel_host("10.0.0.3", false, Some((512, 64, false))),
            kernel_host("10.0.0.5", true, Some((512, 64, false))),
            kernel_host("10.0.0.9", true, Some((1, u32::MAX, true))),
        ],
    };
    let k = RouterConf::from_kernel(&attrs, &hosts);
    assert_eq!(k, c);
    assert_eq!(k.render(), ROUTER);
    // A module just loaded.
    let fresh = RouterConf::from_kernel(&router("").complete().settings.attrs(), &Hosts::default());
    assert_eq!(fresh, router("").complete());
    let h = host(HOST);
    let mut attrs = h.settings.attrs();
    attrs.extend([HostAttr::LanIfindex(2), HostAttr::Epoch(7)]);
    assert_eq!(HostConf::from_kernel(&attrs), h);
}

#[test]
fn setconf_requests() {
    let want = router(ROUTER);
    let h = |s: &str| addr(s);
    // From a module just loaded: the settings, then the hosts.
    let fresh = router("").complete();
    assert_eq!(
        router_plan(&fresh, &want, true),
        vec![
            Step::Config(want.settings.attrs()),
            Step::Quota(
                h("10.0.0.1"),
                QuotaWords::Own {
                    ports: Some(100),
                    spis: Some(16)
                }
            ),
            Step::Revoke(h("10.0.0.5")),
            Step::Quota(
                h("10.0.0.9"),
                QuotaWords::Own {
                    ports: Some(1),
                    spis: Some(u32::MAX)
                }
            ),
            Step::Revoke(h("10.0.0.9")),
        ]
    );
    // The same configuration: SET_CONFIG only (the interfaces looked up
    // again), or nothing.
    assert_eq!(
        router_plan(&want, &want, true),
        vec![Step::Config(want.settings.attrs())]
    );
    assert_eq!(router_plan(&want, &want, false), vec![]);
    // Hosts leave first (their slots go), then the others change.
    let next = router(
        "[Router]\nlan = lan0\nwan = wan0\npublic = 203.0.113.30\nports = 20000-29999\n\
         spis = 0x1000-0x1fff\n[Host 10.0.0.1]\nquota-ports = 100\nquota-spis = 17\n\
         [Host 10.0.0.2]\nquota-ports = 7\n[Host 10.0.0.9]\nrevoked = yes\n",
    )
    .complete();
    assert_eq!(
        router_plan(&want, &next, false),
        vec![
            Step::Config(next.settings.attrs()),
            Step::Readmit(h("10.0.0.5")),
            Step::Quota(h("10.0.0.9"), QuotaWords::Default),
            Step::Quota(
                h("10.0.0.1"),
                QuotaWords::Own {
                    ports: Some(100),
                    spis: Some(17)
                }
            ),
            Step::Quota(
                h("10.0.0.2"),
                QuotaWords::Own {
                    ports: Some(7),
                    spis: Some(1024)
                }
            ),
        ]
    );
    // And back.
    assert_eq!(
        router_plan(&next, &want, false),
        vec![
            Step::Config(want.settings.attrs()),
            Step::Quota(h("10.0.0.2"), QuotaWords::Default),
            Step::Quota(
                h("10.0.0.1"),
                QuotaWords::Own {
                    ports: Some(100),
                    spis: Some(16)
                }
            ),
            Step::Revoke(h("10.0.0.5")),
            Step::Quota(
                h("10.0.0.9"),
                QuotaWords::Own {
                    ports: Some(1),
                    spis: Some(u32::MAX)
                }
            ),
        ]
    );
}

/// A router's file with hosts in direct delivery.
const DIRECT: &str = "\
[Host 10.0.0.1]
delivery = direct
lladdr = 02:00:00:00:00:01

[Host 10.0.0.2]
quota-ports = 100
quota-spis = 16
delivery = direct
";

#[test]
fn delivery_in_the_configuration() {
    let m1 = [2, 0, 0, 0, 0, 1];
    let c = router(DIRECT);
    assert_eq!(
        c.hosts[&addr("10.0.0.1")].delivery,
        Some(Delivery::Direct(Some(m1)))
    );
    assert_eq!(
        c.hosts[&addr("10.0.0.2")].delivery,
        Some(Delivery::Direct(None))
    );
    let full = c.complete();
    assert!(full.render().ends_with(DIRECT));
    // lladdr first, hex in capitals: the same; ipip is the default, left out.
    let other = router(
        "[Host 10.0.0.1]\nlladdr = 2:0:0:0:0:1\ndelivery = direct\n\
         [Host 10.0.0.2]\nquota-ports = 100\nquota-spis = 16\ndelivery = direct\n\
         [Host 10.0.0.3]\ndelivery = ipip\n",
    );
    assert_eq!(other.complete(), full);
    // GET_HOSTS: a direct host is configuration, bound or learning.
    let mut bound = kernel_host("10.0.0.1", false, Some((4096, 1024, false)));
    bound.delivery = Some("direct".into());
    bound.lladdr = Some("02:00:00:00:00:01".into());
    let mut learning = kernel_host("10.0.0.2", false, Some((100, 16, true)));
    learning.delivery = Some("direct".into());
    let ipip = kernel_host("10.0.0.3", false, Some((4096, 1024, false)));
    let hosts = Hosts {
        hosts: vec![bound, learning, ipip],
    };
    let k = RouterConf::from_kernel(&full.settings.attrs(), &hosts);
    assert_eq!(k, full);
    // setconf: hosts that change their binding go through ipip first.
    let h = |s: &str| addr(s);
    let fresh = router("").complete();
    assert_eq!(
        router_plan(&fresh, &full, false),
        vec![
            Step::Delivery(h("10.0.0.1"), Delivery::Direct(Some(m1))),
            Step::Quota(
                h("10.0.0.2"),
                QuotaWords::Own {
                    ports: Some(100),
                    spis: Some(16)
                }
            ),
            Step::Delivery(h("10.0.0.2"), Delivery::Direct(None)),
        ]
    );
    assert_eq!(router_plan(&full, &full, false), vec![]);
    // The address moves from 10.0.0.1 to 10.0.0.2: 10.0.0.1 frees it first.
    let moved = router(
        "[Host 10.0.0.2]\nquota-ports = 100\nquota-spis = 16\ndelivery = direct\n\
         lladdr = 02:00:00:00:00:01\n",
    )
    .complete();
    assert_eq!(
        router_plan(&full, &moved, false),
        vec![
            Step::Delivery(h("10.0.0.1"), Delivery::Ipip),
            Step::Delivery(h("10.0.0.2"), Delivery::Ipip),
            Step::Delivery(h("10.0.0.2"), Delivery::Direct(Some(m1))),
        ]
    );
    // And back to nothing: ipip for both.
    assert_eq!(
        router_plan(&moved, &fresh, false),
        vec![
            Step::Quota(h("10.0.0.2"), QuotaWords::Default),
            Step::Delivery(h("10.0.0.2"), Delivery::Ipip)
        ]
    );
    for (text, line, msg) in [
        (
            "[Host 10.0.0.1]\nlladdr = 02:00:00:00:00:01\n",
            2,
            "lladdr needs delivery = direct",
        ),
        (
            "[Host 10.0.0.1]\ndelivery = ipip\nlladdr = 02:00:00:00:00:01\n",
            3,
            "lladdr is for delivery = direct only",
        ),
        (
            "[Host 10.0.0.1]\nlladdr = 02:00:00:00:00:01\ndelivery = ipip\n",
            3,
            "lladdr is for delivery = direct only",
        ),
        (
            "[Host 10.0.0.1]\ndelivery = tunnel\n",
            2,
            "delivery: \"tunnel\" is not ipip or direct",
        ),
        (
            "[Host 10.0.0.1]\ndelivery = direct\nlladdr = 02:00:00:00:01\n",
            3,
            "lladdr: \"02:00:00:00:01\" is not an Ethernet address",
        ),
        (
            "[Host 10.0.0.1]\ndelivery = direct\ndelivery = ipip\n",
            3,
            "twice",
        ),
    ] {
        let e = error(true, text);
        assert_eq!(e.line, Some(line), "{text:?}: {e}");
        assert!(e.msg.contains(msg), "{text:?}: {e}");
    }
}

/// `Documentation/networking/examples/NAME`.
fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../Documentation/networking/examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn example_files_are_accepted() {
    let text = example("router.conf");
    let (c, lines) = parse::router(&text).unwrap_or_else(|e| panic!("router.conf:{e}"));
    let c = c.complete();
    check_router(&c, &lines).unwrap_or_else(|e| panic!("router.conf:{e}"));
    // Every kind of setting is shown.
    assert_eq!(
        c.settings.words().len(),
        crate::args::RouterSettings::KEYS.len()
    );
    assert!(c.hosts.values().any(|h| h.quota_ports.is_some()));
    assert!(c.hosts.values().any(|h| h.revoked));
    assert!(c.hosts.values().any(|h| is_direct(h.delivery)));
    // What showconf would print after setconf reads the same.
    assert_eq!(router(&c.render()), c);
    let text = example("host.conf");
    let (h, lines) = parse::host(&text).unwrap_or_else(|e| panic!("host.conf:{e}"));
    let h = h.complete();
    check_host(&h, &lines).unwrap_or_else(|e| panic!("host.conf:{e}"));
    assert!(h.settings.router.is_some() && h.settings.public.is_some());
    assert!(h.settings.dev.is_some());
    assert_eq!(host(&h.render()), h);
}
