// SPDX-License-Identifier: GPL-2.0

//! clap's parse of the `pap` command words.

use std::net::Ipv4Addr;

use dnat_core::pap::PortClass;

use super::*;

#[test]
fn pap_sa_and_blacklist_words() {
    let c = cli("--json pap validate 203.0.113.3 0x1000 router 10.0.0.7").unwrap();
    assert!(c.json);
    match c.object {
        Object::Pap {
            cmd:
                PapCmd::Validate {
                    peer,
                    spi: 0x1000,
                    options,
                },
        } => {
            assert_eq!(peer, Ipv4Addr::new(203, 0, 113, 3));
            assert_eq!(options, args("router 10.0.0.7"));
        }
        o => panic!("{o:?}"),
    }
    assert!(matches!(
        cli("pap invalidate 203.0.113.3 4096").unwrap().object,
        Object::Pap {
            cmd: PapCmd::Invalidate { spi: 4096, ref options, .. }
        } if options.is_empty()
    ));
    match cli("pap blacklist add peer 203.0.113.66 router 10.0.0.7")
        .unwrap()
        .object
    {
        Object::Pap {
            cmd:
                PapCmd::Blacklist {
                    what: PapBlacklist::Add { options },
                },
        } => assert_eq!(options, args("peer 203.0.113.66 router 10.0.0.7")),
        o => panic!("{o:?}"),
    }
    assert!(matches!(
        cli("pap blacklist del spi 0x1000 -j").unwrap().object,
        Object::Pap {
            cmd: PapCmd::Blacklist {
                what: PapBlacklist::Del { .. }
            }
        }
    ));
    for input in [
        "pap validate",
        "pap validate 203.0.113.3",
        "pap validate 203.0.113.3 0x",
        "pap validate 203.0.113.3 4294967296",
        "pap validate peer 203.0.113.3 4096",
        "pap invalidate 203.0.113 4096",
        "pap blacklist",
        "pap blacklist list",
        "pap blacklist add --native",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}

#[test]
fn pap_command_words() {
    let c = cli("--json pap request ports 16 router 10.0.0.7 --native lease 3600 low").unwrap();
    assert!(c.json);
    match c.object {
        Object::Pap {
            cmd:
                PapCmd::Request {
                    what:
                        PapRequest::Ports {
                            count: 16,
                            native: true,
                            options,
                        },
                },
        } => {
            assert_eq!(options, args("router 10.0.0.7 lease 3600 low"));
            assert_eq!(
                PapOptions::parse(&options, true, true).unwrap(),
                PapOptions {
                    class: Some(PortClass::Low),
                    router: Some(Ipv4Addr::new(10, 0, 0, 7)),
                    lease: Some(3600),
                }
            );
        }
        o => panic!("{o:?}"),
    }
    let c = cli("pap request spis 65535 -j").unwrap();
    assert!(c.json);
    assert!(matches!(
        c.object,
        Object::Pap {
            cmd: PapCmd::Request {
                what: PapRequest::Spis { count: 65535, ref options },
            },
        } if options.is_empty()
    ));
    let c = cli("pap release spis 0x1000 256 router 10.0.0.7").unwrap();
    assert!(matches!(
        c.object,
        Object::Pap {
            cmd: PapCmd::Release {
                what: PapRelease::Spis {
                    lowest: 0x1000,
                    count: 256,
                    ..
                },
            },
        }
    ));
    let c = cli("pap release ports 20000 16").unwrap();
    assert!(matches!(
        c.object,
        Object::Pap {
            cmd: PapCmd::Release {
                what: PapRelease::Ports {
                    lowest: 20000,
                    count: 16,
                    ..
                },
            },
        }
    ));
    let c = cli("router blocks").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Blocks)
        }
    ));
    let c = cli("--json router stats").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Stats(StatsArgs { all: false, .. }))
        }
    ));
    let c = cli("router stats --all").unwrap();
    assert!(matches!(
        c.object,
        Object::Router {
            cmd: Some(RouterCmd::Stats(StatsArgs { all: true, .. }))
        }
    ));
}

#[test]
fn bad_pap_command_words() {
    for input in [
        "pap request ports 0",
        "pap request ports 256",
        "pap request ports",
        "pap request ports x",
        "pap request spis 0",
        "pap request spis 65536",
        "pap request spis 16 --native",
        "pap release ports 0 16",
        "pap release ports 20000 0",
        "pap release ports 20000",
        "pap release spis 0x 16",
        "pap release spis 4096 --native 16",
        "pap request blocks 16",
        "pap show",
    ] {
        let e = cli(input).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
    }
}
