// SPDX-License-Identifier: GPL-2.0

use super::*;

fn ok_update() -> RouterUpdate<'static> {
    RouterUpdate {
        lan_name: Some(b"lan0"),
        wan_name: Some(b"wan0"),
        public_addr: Some(Ipv4Addr::new(203, 0, 113, 30)),
        port_min: Some(20000),
        port_max: Some(29999),
        spi_min: Some(0x1000),
        spi_max: Some(0xffff),
        ..Default::default()
    }
}

fn err(u: RouterUpdate<'_>) -> (i32, Option<u16>) {
    let e = u.check().unwrap_err();
    (e.errno, e.attr)
}

#[test]
fn accepts_a_full_config_and_merges_it() {
    let c = ok_update().check().unwrap();
    let cfg = RouterConfig::default()
        .merged(&c, Some(2), Some(3))
        .unwrap();
    assert_eq!(cfg.lan.unwrap().name.as_bytes(), b"lan0");
    assert_eq!(cfg.wan.unwrap().ifindex, 3);
    assert_eq!(
        cfg.ports,
        Some(Range {
            min: 20000,
            max: 29999
        })
    );
    assert_eq!(cfg.ports.unwrap().count(), 10000);
    assert_eq!(cfg.spis.unwrap().count(), 0xf000);
    assert_eq!(Range { min: 5u16, max: 4 }.count(), 0);
    assert_eq!(Range { min: 5u32, max: 4 }.count(), 0);
}

#[test]
fn partial_update_keeps_the_rest() {
    let c = ok_update().check().unwrap();
    let cfg = RouterConfig::default()
        .merged(&c, Some(2), Some(3))
        .unwrap();
    let u = RouterUpdate {
        port_min: Some(1024),
        port_max: Some(2047),
        ..Default::default()
    };
    let next = cfg.merged(&u.check().unwrap(), None, None).unwrap();
    assert_eq!(
        next.ports,
        Some(Range {
            min: 1024,
            max: 2047
        })
    );
    assert_eq!(next.spis, cfg.spis);
    assert_eq!(next.lan, cfg.lan);
}

#[test]
fn rejects_reserved_spis() {
    for min in [0, 1, 255] {
        let u = RouterUpdate {
            spi_min: Some(min),
            ..ok_update()
        };
        assert_eq!(err(u), (ERANGE, Some(router_attr::SPI_MIN)));
    }
    let u = RouterUpdate {
        spi_min: Some(256),
        ..ok_update()
    };
    assert!(u.check().is_ok());
}

#[test]
fn rejects_inverted_empty_and_half_ranges() {
    let u = RouterUpdate {
        port_min: Some(3000),
        port_max: Some(2999),
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::PORT_MIN)));
    let u = RouterUpdate {
        spi_min: Some(0x2000),
        spi_max: Some(0x1fff),
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::SPI_MIN)));
    let u = RouterUpdate {
        port_min: Some(0),
        port_max: Some(0),
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::PORT_MAX)));
    let u = RouterUpdate {
        port_min: Some(0),
        port_max: Some(10),
        ..ok_update()
    };
    assert_eq!(err(u), (ERANGE, Some(router_attr::PORT_MIN)));
    let u = RouterUpdate {
        port_max: None,
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::PORT_MIN)));
    let u = RouterUpdate {
        spi_min: None,
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::SPI_MAX)));
    // A one-value range is fine.
    let u = RouterUpdate {
        port_min: Some(7),
        port_max: Some(7),
        ..ok_update()
    };
    assert_eq!(u.check().unwrap().ports.unwrap().count(), 1);
}

#[test]
fn rejects_bad_names_addresses_and_read_only() {
    for n in [
        &b""[..],
        b"a/b",
        b"a b",
        b"a:1",
        b".",
        b"..",
        b"sixteen-chars-xx",
    ] {
        let u = RouterUpdate {
            lan_name: Some(n),
            ..ok_update()
        };
        assert_eq!(err(u), (EINVAL, Some(router_attr::LAN_IFNAME)), "{n:?}");
    }
    assert!(IfName::new(b"fifteen-chars-x").is_some());
    for a in [
        [0, 0, 0, 0],
        [255, 255, 255, 255],
        [224, 0, 0, 1],
        [127, 0, 0, 1],
        [240, 0, 0, 1],
    ] {
        let u = RouterUpdate {
            public_addr: Some(a.into()),
            ..ok_update()
        };
        assert_eq!(err(u), (EINVAL, Some(router_attr::PUBLIC_ADDR)));
    }
    let u = RouterUpdate {
        read_only: Some(router_attr::LAN_IFINDEX),
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::LAN_IFINDEX)));
    let u = RouterUpdate {
        wan_name: Some(b"lan0"),
        ..ok_update()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::WAN_IFNAME)));
}

#[test]
fn unowned_policy() {
    let u = RouterUpdate {
        unowned: Some(1),
        ..Default::default()
    };
    let cfg = RouterConfig::default()
        .merged(&u.check().unwrap(), None, None)
        .unwrap();
    assert!(cfg.drop_unowned);
    let u = RouterUpdate {
        unowned: Some(0),
        ..Default::default()
    };
    assert!(
        !cfg.merged(&u.check().unwrap(), None, None)
            .unwrap()
            .drop_unowned
    );
    let u = RouterUpdate {
        unowned: Some(2),
        ..Default::default()
    };
    assert_eq!(err(u), (EINVAL, Some(router_attr::UNOWNED)));
}

#[test]
fn sa_policy() {
    assert!(!RouterConfig::default().sa_permissive);
    let set = |p: u8| RouterUpdate {
        sa_policy: Some(p),
        ..Default::default()
    };
    let cfg = RouterConfig::default()
        .merged(&set(sa_policy::PERMISSIVE).check().unwrap(), None, None)
        .unwrap();
    assert!(cfg.sa_permissive);
    let back = cfg
        .merged(&set(sa_policy::STRICT).check().unwrap(), None, None)
        .unwrap();
    assert!(!back.sa_permissive);
    // Absent: unchanged.
    let same = cfg
        .merged(&RouterUpdate::default().check().unwrap(), None, None)
        .unwrap();
    assert!(same.sa_permissive);
    assert_eq!(err(set(2)), (EINVAL, Some(router_attr::SA_POLICY)));
}

#[test]
fn pap_auth_setting() {
    // Required by default.
    assert!(!RouterConfig::default().pap_auth_optional);
    let set = |p: u8| RouterUpdate {
        pap_auth: Some(p),
        ..Default::default()
    };
    let cfg = RouterConfig::default()
        .merged(&set(pap_auth_mode::OPTIONAL).check().unwrap(), None, None)
        .unwrap();
    assert!(cfg.pap_auth_optional);
    let same = cfg
        .merged(&RouterUpdate::default().check().unwrap(), None, None)
        .unwrap();
    assert!(same.pap_auth_optional);
    let back = cfg
        .merged(&set(pap_auth_mode::REQUIRED).check().unwrap(), None, None)
        .unwrap();
    assert!(!back.pap_auth_optional);
    assert_eq!(err(set(2)), (EINVAL, Some(router_attr::PAP_AUTH)));
}

#[test]
fn pap_rate_setting() {
    assert_eq!(RouterConfig::default().pap_rate, 0);
    let set = |v| {
        RouterUpdate {
            pap_rate: Some(v),
            ..RouterUpdate::default()
        }
        .check()
    };
    for v in [0, 1, PAP_RATE_MAX] {
        let u = set(v).unwrap();
        assert_eq!(
            RouterConfig::default()
                .merged(&u, None, None)
                .unwrap()
                .pap_rate,
            v
        );
    }
    let e = set(PAP_RATE_MAX + 1).unwrap_err();
    assert_eq!((e.errno, e.attr), (ERANGE, Some(router_attr::PAP_RATE)));
    // Left out: unchanged.
    let on = RouterConfig {
        pap_rate: 5,
        ..RouterConfig::default()
    };
    let u = RouterUpdate::default().check().unwrap();
    assert_eq!(on.merged(&u, None, None).unwrap().pap_rate, 5);
}

#[test]
fn hook_counters_switch() {
    assert!(!RouterConfig::default().hook_counters);
    assert!(!HostConfig::default().hook_counters);
    let set = |v: u8| RouterUpdate {
        hook_counters: Some(v),
        ..Default::default()
    };
    let on = RouterConfig::default()
        .merged(&set(1).check().unwrap(), None, None)
        .unwrap();
    assert!(on.hook_counters);
    let same = on
        .merged(&RouterUpdate::default().check().unwrap(), None, None)
        .unwrap();
    assert!(same.hook_counters);
    let off = on.merged(&set(0).check().unwrap(), None, None).unwrap();
    assert!(!off.hook_counters);
    assert_eq!(err(set(2)), (EINVAL, Some(router_attr::HOOK_COUNTERS)));
    let host = |v: u8| {
        HostConfig::default().merged(
            &HostUpdate {
                hook_counters: Some(v),
                ..Default::default()
            },
            None,
        )
    };
    assert!(host(1).unwrap().hook_counters);
    assert!(!host(0).unwrap().hook_counters);
    let e = host(7).unwrap_err();
    assert_eq!((e.errno, e.attr), (EINVAL, Some(host_attr::HOOK_COUNTERS)));
}

#[test]
fn merged_rejects_same_interface_and_changes_nothing() {
    let c = ok_update().check().unwrap();
    let cfg = RouterConfig::default()
        .merged(&c, Some(2), Some(3))
        .unwrap();
    let u = RouterUpdate {
        wan_name: Some(b"alias"),
        ..Default::default()
    };
    let e = cfg.merged(&u.check().unwrap(), None, Some(2)).unwrap_err();
    assert_eq!((e.errno, e.attr), (EINVAL, Some(router_attr::WAN_IFNAME)));
    assert_eq!(cfg.wan.unwrap().ifindex, 3);
}

#[test]
fn host_config() {
    let r = Ipv4Addr::new(10, 0, 0, 7);
    let p = Ipv4Addr::new(203, 0, 113, 30);
    let c = HostConfig::default()
        .merged(
            &HostUpdate {
                router_addr: Some(r),
                public_addr: Some(p),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    assert_eq!((c.router_addr, c.public_addr), (Some(r), Some(p)));
    assert!(!c.complete());
    let e = |u: HostUpdate<'_>| c.merged(&u, Some(2)).unwrap_err();
    let e1 = e(HostUpdate {
        public_addr: Some(r),
        ..Default::default()
    });
    assert_eq!((e1.errno, e1.attr), (EINVAL, Some(host_attr::PUBLIC_ADDR)));
    let e2 = e(HostUpdate {
        router_addr: Some(Ipv4Addr::UNSPECIFIED),
        ..Default::default()
    });
    assert_eq!((e2.errno, e2.attr), (EINVAL, Some(host_attr::ROUTER_ADDR)));
    for (u, errno, attr) in [
        (
            HostUpdate {
                lan_name: Some(b"a/b"),
                ..Default::default()
            },
            EINVAL,
            host_attr::LAN_IFNAME,
        ),
        (
            HostUpdate {
                read_only: true,
                ..Default::default()
            },
            EINVAL,
            host_attr::LAN_IFINDEX,
        ),
        (
            HostUpdate {
                mode: Some(2),
                ..Default::default()
            },
            EINVAL,
            host_attr::MODE,
        ),
        (
            HostUpdate {
                tcp_timeout: Some(0),
                ..Default::default()
            },
            ERANGE,
            host_attr::TCP_TIMEOUT,
        ),
        (
            HostUpdate {
                udp_timeout: Some(86_401),
                ..Default::default()
            },
            ERANGE,
            host_attr::UDP_TIMEOUT,
        ),
        (
            HostUpdate {
                port_block: Some(256),
                ..Default::default()
            },
            ERANGE,
            host_attr::PORT_BLOCK,
        ),
    ] {
        let got = e(u);
        assert_eq!((got.errno, got.attr), (errno, Some(attr)));
    }
    let full = c
        .merged(
            &HostUpdate {
                lan_name: Some(b"eth0"),
                mode: Some(host_mode::NATIVE),
                udp_timeout: Some(30),
                port_block: Some(16),
                ..Default::default()
            },
            Some(2),
        )
        .unwrap();
    assert!(full.complete());
    assert_eq!(full.lan.map(|i| i.ifindex), Some(2));
    assert_eq!(full.mode, HostMode::Native);
    assert_eq!(full.timeouts, HostTimeouts { tcp: 7440, udp: 30 });
    assert_eq!(full.port_block, 16);
}

#[test]
fn ifname_round_trip() {
    let n = IfName::new(b"veth-lan").unwrap();
    assert_eq!(n.as_bytes(), b"veth-lan");
    assert_eq!(n.as_bytes_with_nul(), b"veth-lan\0");
}

#[test]
fn host_delivery_setting() {
    let set = |v: u8| {
        HostConfig::default().merged(
            &HostUpdate {
                delivery: Some(v),
                ..Default::default()
            },
            None,
        )
    };
    assert!(!HostConfig::default().direct);
    assert!(set(1).unwrap().direct);
    assert!(!set(0).unwrap().direct);
    for bad in [2, 255] {
        let e = set(bad).unwrap_err();
        assert_eq!((e.errno, e.attr), (EINVAL, Some(host_attr::DELIVERY)));
    }
}
