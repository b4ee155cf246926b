// SPDX-License-Identifier: GPL-2.0

//! clap's parse of the `host` command words.

use std::net::Ipv4Addr;

use clap::error::ErrorKind;

use super::*;

#[test]
fn host_dump_and_block_command_words() {
    let stats = |c: &HostCmd| matches!(c, HostCmd::Stats(StatsArgs { all: false, .. }));
    let all = |c: &HostCmd| matches!(c, HostCmd::Stats(StatsArgs { all: true, .. }));
    let blocks = |c: &HostCmd| matches!(c, HostCmd::Blocks);
    let sptt = |c: &HostCmd| matches!(c, HostCmd::Sptt);
    for (input, json, is) in [
        ("host stats", false, &stats as &dyn Fn(&HostCmd) -> bool),
        ("--json host stats", true, &stats),
        ("host stats --all", false, &all),
        ("host stats -a -j", true, &all),
        ("host blocks -j", true, &blocks),
        ("host sptt", false, &sptt),
        ("host translations --json", true, &sptt),
    ] {
        let c = cli(input).unwrap();
        assert_eq!(c.json, json, "{input}");
        match c.object {
            Object::Host { cmd: Some(cmd) } => assert!(is(&cmd), "{input}: {cmd:?}"),
            o => panic!("{input}: {o:?}"),
        }
    }
    for (input, want) in [
        ("host request ports 16", HostRequest::Ports { count: 16 }),
        ("host request spis 256", HostRequest::Spis { count: 256 }),
        // The ends of what one PAP request asks for.
        ("host request ports 255", HostRequest::Ports { count: 255 }),
        (
            "host request spis 65535",
            HostRequest::Spis { count: 65535 },
        ),
    ] {
        match cli(input).unwrap().object {
            Object::Host {
                cmd: Some(HostCmd::Request { what }),
            } => assert_eq!(what, want, "{input}"),
            o => panic!("{input}: {o:?}"),
        }
    }
    for (input, want) in [
        (
            "host release ports 20000 64",
            HostRelease::Ports {
                lowest: 20000,
                count: 64,
            },
        ),
        (
            "host release spis 0x1000 256",
            HostRelease::Spis {
                lowest: 0x1000,
                count: 256,
            },
        ),
        (
            "host release spis 4096 1",
            HostRelease::Spis {
                lowest: 4096,
                count: 1,
            },
        ),
        (
            "host release ports 65535 1",
            HostRelease::Ports {
                lowest: 65535,
                count: 1,
            },
        ),
    ] {
        match cli(input).unwrap().object {
            Object::Host {
                cmd: Some(HostCmd::Release { what }),
            } => assert_eq!(what, want, "{input}"),
            o => panic!("{input}: {o:?}"),
        }
    }
}

#[test]
fn host_sa_and_blacklist_command_words() {
    let sa = HostSaArgs {
        peer: Ipv4Addr::new(203, 0, 113, 3),
        spi: 0x1000,
    };
    for (input, json, want) in [
        (
            "host sa validate 203.0.113.3 0x1000",
            false,
            HostSa::Validate(sa),
        ),
        (
            "host sa validate 203.0.113.3 4096 -j",
            true,
            HostSa::Validate(sa),
        ),
        (
            "host sa invalidate 203.0.113.3 0X1000",
            false,
            HostSa::Invalidate(sa),
        ),
        // The kernel judges addresses, and whose an SPI is.
        (
            "host sa validate 10.0.0.2 256",
            false,
            HostSa::Validate(HostSaArgs {
                peer: Ipv4Addr::new(10, 0, 0, 2),
                spi: 256,
            }),
        ),
    ] {
        let c = cli(input).unwrap();
        assert_eq!(c.json, json, "{input}");
        match c.object {
            Object::Host {
                cmd: Some(HostCmd::Sa { what }),
            } => assert_eq!(what, want, "{input}"),
            o => panic!("{input}: {o:?}"),
        }
    }
    let c = cli("host blacklist add peer 203.0.113.66 spi 0x1000").unwrap();
    match c.object {
        Object::Host {
            cmd:
                Some(HostCmd::Blacklist {
                    what: HostBlacklist::Add { words },
                }),
        } => assert_eq!(words, args("peer 203.0.113.66 spi 0x1000")),
        o => panic!("{o:?}"),
    }
    let c = cli("host blacklist del spi 4096").unwrap();
    match c.object {
        Object::Host {
            cmd:
                Some(HostCmd::Blacklist {
                    what: HostBlacklist::Del { words },
                }),
        } => assert_eq!(words, args("spi 4096")),
        o => panic!("{o:?}"),
    }
    for input in [
        "host sa",
        "host sa validate",
        "host sa validate 203.0.113.3",
        "host sa validate 203.0.113.3 0x",
        "host sa validate 203.0.113.3 4294967296",
        "host sa validate 203.0.113.3 -1",
        "host sa validate 203.0.113 4096",
        "host sa validate 10.0.0.1 203.0.113.3 4096",
        "host sa validate 203.0.113.3 4096 router 10.0.0.7",
        "host sa add 203.0.113.3 4096",
        "host blacklist",
        "host blacklist show",
        "host blacklist remove peer 203.0.113.66",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}

#[test]
fn bad_host_command_words() {
    for input in [
        "host stats now",
        "host blocks ports",
        "host sptt tcp",
        "host request",
        "host request ports",
        "host request ports x",
        "host request ports -1",
        "host request ports 4294967296",
        "host request ports 0",
        "host request ports 256",
        "host request spis 0",
        "host request spis 65536",
        "host request ports 16 low",
        "host request blocks 16",
        "host request spis 0x10",
        "host release ports 20000",
        "host release ports 0x4e20 64",
        "host release ports 20000 64 router 10.0.0.7",
        "host release spis 0x 16",
        "host release spis 4096 0x10",
        "host release spis 255 1",
        "host release ports 0 1",
        "host release ports 65536 1",
        "host release ports 20000 0",
        "host release",
        "host list",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
    assert_eq!(
        cli("host request ports many").unwrap_err().kind(),
        ErrorKind::ValueValidation
    );
}

#[test]
fn host_command_words() {
    let c = cli("--json router hosts").unwrap();
    assert!(c.json);
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Hosts)
        }
    ));
    let c = cli("router hosts -j").unwrap();
    assert!(c.json);
    let c = cli("router revoke 10.0.0.3").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Revoke { addr })
        } if addr == Ipv4Addr::new(10, 0, 0, 3)
    ));
    let c = cli("router readmit 10.0.0.3").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Readmit { addr })
        } if addr == Ipv4Addr::new(10, 0, 0, 3)
    ));
    let c = cli("router reset").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Reset)
        }
    ));
    for input in [
        "router revoke",
        "router revoke 10.0.0",
        "router revoke 10.0.0.3/32",
        "router revoke host 10.0.0.3",
        "router revoke 10.0.0.3 10.0.0.4",
        "router readmit",
        "router readmit ::1",
        "router reset now",
        "router hosts 10.0.0.1",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}
