// SPDX-License-Identifier: GPL-2.0

//! clap's parse of the command words: the global ones and `router`.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::error::ErrorKind;

use super::*;

#[test]
fn quota_command_words() {
    for (input, json, words) in [
        (
            "router quota 10.0.0.1 ports 100 spis 16",
            false,
            "ports 100 spis 16",
        ),
        ("-j router quota 10.0.0.1 default", true, "default"),
        ("router quota 10.0.0.1 spis 0x10 --json", true, "spis 0x10"),
        // The words are judged by QuotaWords::parse, not by clap.
        ("router quota 10.0.0.1", false, ""),
        ("router quota 10.0.0.1 ports 0", false, "ports 0"),
    ] {
        let c = cli(input).unwrap();
        assert_eq!(c.json, json, "{input}");
        match c.object {
            Object::Router {
                cmd: Some(RouterCmd::Quota { addr, words: w }),
            } => {
                assert_eq!(addr, Ipv4Addr::new(10, 0, 0, 1), "{input}");
                assert_eq!(w, args(words), "{input}");
            }
            o => panic!("{input}: {o:?}"),
        }
    }
    for input in [
        "router quota",
        "router quota ports 100",
        "router quota 10.0.0 ports 100",
        "router quota 10.0.0.1/32 default",
        "router quotas 10.0.0.1 default",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}

#[test]
fn sa_command_words() {
    let sa = SaArgs {
        host: Ipv4Addr::new(10, 0, 0, 1),
        peer: Ipv4Addr::new(203, 0, 113, 3),
        spi: 0x1000,
    };
    for (input, json, want) in [
        (
            "router sa validate 10.0.0.1 203.0.113.3 0x1000",
            false,
            RouterSa::Validate(sa),
        ),
        (
            "router sa validate 10.0.0.1 203.0.113.3 4096 -j",
            true,
            RouterSa::Validate(sa),
        ),
        (
            "router sa invalidate 10.0.0.1 203.0.113.3 0X1000",
            false,
            RouterSa::Invalidate(sa),
        ),
        // The kernel judges addresses, and whose an SPI is.
        (
            "router sa validate 10.0.0.1 10.0.0.2 0xffffffff",
            false,
            RouterSa::Validate(SaArgs {
                peer: Ipv4Addr::new(10, 0, 0, 2),
                spi: u32::MAX,
                ..sa
            }),
        ),
    ] {
        let c = cli(input).unwrap();
        assert_eq!(c.json, json, "{input}");
        match c.object {
            Object::Router {
                cmd: Some(RouterCmd::Sa { what }),
            } => assert_eq!(what, want, "{input}"),
            o => panic!("{input}: {o:?}"),
        }
    }
    let c = cli("--json router sas").unwrap();
    assert!(c.json);
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Sas)
        }
    ));
    for input in [
        "router sa",
        "router sa validate",
        "router sa validate 10.0.0.1",
        "router sa validate 10.0.0.1 203.0.113.3",
        "router sa validate 10.0.0.1 203.0.113.3 0x",
        "router sa validate 10.0.0.1 203.0.113.3 4294967296",
        "router sa validate 10.0.0.1 203.0.113.3 -1",
        "router sa validate 10.0.0.1 203.0.113 4096",
        "router sa validate host 10.0.0.1 203.0.113.3 4096",
        "router sa validate 10.0.0.1 203.0.113.3 4096 extra",
        "router sa add 10.0.0.1 203.0.113.3 4096",
        "router sas 10.0.0.1",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}

#[test]
fn blacklist_command_words() {
    for input in [
        "router blacklist",
        "router blacklist show",
        "-j router blacklist",
    ] {
        let c = cli(input).unwrap();
        assert!(
            matches!(
                c.object,
                Object::Router {
                    cmd: Some(RouterCmd::Blacklist {
                        cmd: None | Some(RouterBlacklist::Show)
                    })
                }
            ),
            "{input}"
        );
    }
    let c = cli("router blacklist add 10.0.0.1 peer 203.0.113.66 spi 0x1000").unwrap();
    match c.object {
        Object::Router {
            cmd:
                Some(RouterCmd::Blacklist {
                    cmd: Some(RouterBlacklist::Add { host, words }),
                }),
        } => {
            assert_eq!(host, Ipv4Addr::new(10, 0, 0, 1));
            assert_eq!(words, args("peer 203.0.113.66 spi 0x1000"));
        }
        o => panic!("{o:?}"),
    }
    let c = cli("router blacklist del 10.0.0.1 spi 4096").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Blacklist {
                cmd: Some(RouterBlacklist::Del { .. })
            })
        }
    ));
    for input in [
        "router blacklist add",
        "router blacklist add peer 203.0.113.66",
        "router blacklist add 10.0.0 peer 203.0.113.66",
        "router blacklist remove 10.0.0.1 peer 203.0.113.66",
        "router blacklist show 10.0.0.1",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}

#[test]
fn command_words() {
    let c = cli("--json router show").unwrap();
    assert!(c.json);
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Show)
        }
    ));
    let c = cli("host show -j").unwrap();
    assert!(c.json);
    assert!(matches!(
        c.object,
        Object::Host {
            cmd: Some(HostCmd::Show)
        }
    ));
    let c = cli("router").unwrap();
    assert!(!c.json);
    assert!(matches!(c.object, Object::Router { cmd: None }));
    let c = cli("router set lan veth0 ports 20000-29999").unwrap();
    match c.object {
        Object::Router {
            cmd: Some(RouterCmd::Set { settings }),
        } => assert_eq!(settings, args("lan veth0 ports 20000-29999")),
        o => panic!("{o:?}"),
    }
    let c = cli("host set").unwrap();
    assert!(
        matches!(c.object, Object::Host { cmd: Some(HostCmd::Set { settings }) } if settings.is_empty())
    );
}

#[test]
fn conf_command_words() {
    for (input, json) in [("router showconf", false), ("-j router showconf", true)] {
        let c = cli(input).unwrap();
        assert_eq!(c.json, json);
        assert!(matches!(
            c.object,
            Object::Router {
                cmd: Some(RouterCmd::Showconf)
            }
        ));
    }
    let c = cli("host showconf").unwrap();
    assert!(matches!(
        c.object,
        Object::Host {
            cmd: Some(HostCmd::Showconf)
        }
    ));
    for (input, path) in [
        (
            "router setconf /etc/dnat/router.conf",
            "/etc/dnat/router.conf",
        ),
        ("router setconf -", "-"),
    ] {
        match cli(input).unwrap().object {
            Object::Router {
                cmd: Some(RouterCmd::Setconf { file }),
            } => assert_eq!(file, PathBuf::from(path)),
            o => panic!("{input}: {o:?}"),
        }
    }
    match cli("host setconf host.conf").unwrap().object {
        Object::Host {
            cmd: Some(HostCmd::Setconf { file }),
        } => assert_eq!(file, PathBuf::from("host.conf")),
        o => panic!("{o:?}"),
    }
    for input in [
        "router setconf",
        "router setconf a b",
        "router showconf x",
        "host setconf",
        "host showconf x",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
    let help = cli("router setconf --help").unwrap_err().to_string();
    for word in [
        "\"dnatctl: router setconf: FILE:LINE:",
        "READMIT_HOST",
        "put back",
        "SAs and blacklist",
    ] {
        assert!(help.contains(word), "{help}");
    }
    let help = cli("host showconf --help").unwrap_err().to_string();
    assert!(help.contains("dnat-conf.rst"), "{help}");
}

#[test]
fn bad_command_words() {
    assert_eq!(
        cli("").unwrap_err().kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    assert_eq!(
        cli("switch show").unwrap_err().kind(),
        ErrorKind::InvalidSubcommand
    );
    assert_eq!(
        cli("router list").unwrap_err().kind(),
        ErrorKind::InvalidSubcommand
    );
    assert_eq!(
        cli("--frob router show").unwrap_err().kind(),
        ErrorKind::UnknownArgument
    );
    // Usage errors exit with 2.
    assert_eq!(cli("router list").unwrap_err().exit_code(), 2);
}

#[test]
fn stats_output_words() {
    for (input, want) in [
        ("router stats", StatsArgs::default()),
        (
            "router stats --prometheus",
            StatsArgs {
                prometheus: true,
                ..StatsArgs::default()
            },
        ),
        (
            "router stats --prometheus --output /var/lib/x/dnat.prom",
            StatsArgs {
                prometheus: true,
                output: Some("/var/lib/x/dnat.prom".into()),
                ..StatsArgs::default()
            },
        ),
        (
            "host stats -o d.prom --prometheus -a",
            StatsArgs {
                all: true,
                prometheus: true,
                output: Some("d.prom".into()),
            },
        ),
    ] {
        let got = match cli(input).unwrap().object {
            Object::Router {
                cmd: Some(RouterCmd::Stats(a)),
            }
            | Object::Host {
                cmd: Some(HostCmd::Stats(a)),
            } => a,
            o => panic!("{input}: {o:?}"),
        };
        assert_eq!(got, want, "{input}");
        assert_eq!(got.check(false), Ok(()));
    }
    for input in [
        "--json router stats --prometheus",
        "host stats --prometheus -j",
    ] {
        let c = cli(input).unwrap();
        let a = match c.object {
            Object::Router {
                cmd: Some(RouterCmd::Stats(a)),
            }
            | Object::Host {
                cmd: Some(HostCmd::Stats(a)),
            } => a,
            o => panic!("{input}: {o:?}"),
        };
        let e = a.check(c.json).unwrap_err();
        assert_eq!(e, "--prometheus and --json exclude each other");
    }
    let json_all = StatsArgs {
        all: true,
        ..StatsArgs::default()
    };
    assert_eq!(json_all.check(true), Ok(()));
    // --output needs --prometheus (clap: usage errors, exit 2;
    // --prometheus with --json is refused by `StatsArgs::check`).
    for input in [
        "router stats --output x.prom",
        "host stats -o x.prom",
        "router stats --prometheus --output",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input}: {e}");
    }
}
