// SPDX-License-Identifier: GPL-2.0

//! `SET_CONFIG` of both generic netlink families on arbitrary attributes.
//!
//! Each input is a family and a few requests, each a run of netlink
//! attributes. They are parsed as the kernel parses a request of a family
//! with strict validation (`nla_parse` against the family's policy, as
//! `rust/router/netlink.rs` and `rust/host/netlink.rs` declare it: exact
//! lengths of integers, an interface name of at most 16 bytes with a NUL
//! among them, unknown, reserved and output-only types refused, trailing bytes
//! refused, the last of repeated attributes taken); what passes is read as
//! the `SET_CONFIG` handlers read it and goes through the pure validation
//! they call (`RouterUpdate::check`, `RouterConfig::merged`,
//! `HostConfig::merged`), on the configuration left by the requests
//! before. Interface names resolve in a made-up namespace where some are
//! missing and different names may share an index.
//!
//! Checked: no panic; a refusal has errno `EINVAL` or `ERANGE`, a message,
//! and names an attribute of the request (with one documented exception);
//! acceptance agrees with the rules of Documentation/networking/
//! dnat-netlink.rst, written here again independently; an accepted
//! configuration holds only valid values, takes every value of the request
//! and keeps the others.

#![no_main]

use std::net::Ipv4Addr;

use dnat_core::config::{
    is_unicast, HostConfig, HostMode, HostTimeouts, HostUpdate, IfName, RouterConfig, RouterUpdate,
    EINVAL, ERANGE, PAP_RATE_MAX, SPI_FIRST_ALLOCATABLE,
};
use dnat_core::uapi::{host_attr, router_attr, IFNAME_MAX};
use libfuzzer_sys::fuzz_target;

#[path = "input.rs"]
mod input;
use input::Input;

/// An attribute policy (`rust/ffi/genl.rs` `AttrType`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Reject,
    U8,
    U16,
    U32,
    Be32,
    IfName,
    /// `NLA_POLICY_EXACT_LEN(6)`: an Ethernet address.
    Lladdr,
}

/// The router family's policy (`rust/router/netlink.rs` `POLICY`).
fn router_policy(t: u16) -> Ty {
    use router_attr as a;
    match t {
        a::LAN_IFNAME | a::WAN_IFNAME => Ty::IfName,
        a::LAN_IFINDEX | a::WAN_IFINDEX | a::SPI_MIN | a::SPI_MAX => Ty::U32,
        a::PUBLIC_ADDR | a::HOST_ADDR | a::PEER_ADDR => Ty::Be32,
        a::PORT_MIN | a::PORT_MAX => Ty::U16,
        a::BLOCK_KIND | a::UNOWNED | a::SA_POLICY | a::HOOK_COUNTERS | a::PAP_AUTH => Ty::U8,
        a::DELIVERY => Ty::U8,
        a::LLADDR => Ty::Lladdr,
        a::BLOCK_LOWEST | a::BLOCK_COUNT | a::QUOTA_PORTS | a::QUOTA_SPIS | a::SPI => Ty::U32,
        a::PIN_SECS | a::PAP_RATE => Ty::U32,
        _ => Ty::Reject,
    }
}

/// The host family's policy (`rust/host/netlink.rs` `POLICY`).
fn host_policy(t: u16) -> Ty {
    use host_attr as a;
    match t {
        a::ROUTER_ADDR | a::PUBLIC_ADDR | a::PEER_ADDR => Ty::Be32,
        a::LAN_IFNAME => Ty::IfName,
        a::MODE | a::BLOCK_KIND | a::HOOK_COUNTERS | a::DELIVERY => Ty::U8,
        a::LAN_IFINDEX | a::TCP_TIMEOUT | a::UDP_TIMEOUT | a::PORT_BLOCK => Ty::U32,
        a::BLOCK_LOWEST | a::BLOCK_COUNT | a::SPI => Ty::U32,
        _ => Ty::Reject,
    }
}

/// Attributes by type, as `nla_parse` with strict validation leaves them;
/// `None` if the kernel refuses the request.
fn parse(mut buf: &[u8], max: u16, policy: fn(u16) -> Ty) -> Option<Vec<Option<&[u8]>>> {
    let mut tb = vec![None; usize::from(max) + 1];
    while !buf.is_empty() {
        let hdr = buf.get(..4)?;
        let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
        let raw = u16::from_ne_bytes([hdr[2], hdr[3]]);
        if len < 4 || len > buf.len() {
            return None;
        }
        // NLA_F_NESTED on a non-nested attribute is refused; the byte-order
        // flag is ignored.
        if raw & 0x8000 != 0 {
            return None;
        }
        let t = raw & 0x3fff;
        if t > max {
            return None;
        }
        let v = &buf[4..len];
        let ok = match policy(t) {
            Ty::Reject => false,
            Ty::U8 => v.len() == 1,
            Ty::U16 => v.len() == 2,
            Ty::U32 | Ty::Be32 => v.len() == 4,
            Ty::Lladdr => v.len() == 6,
            // NLA_NUL_STRING: a NUL within the first IFNAME_MAX + 1
            // bytes, and at most IFNAME_MAX bytes besides a final NUL.
            Ty::IfName => {
                v.iter().take(IFNAME_MAX + 1).any(|&c| c == 0)
                    && v.len() - usize::from(v.last() == Some(&0)) <= IFNAME_MAX
            }
        };
        if !ok {
            return None;
        }
        tb[usize::from(t)] = Some(v);
        buf = buf.get((len + 3) & !3..).unwrap_or_default();
    }
    Some(tb)
}

/// `Request::string`: up to the first NUL.
fn string(v: Option<&[u8]>) -> Option<&[u8]> {
    let v = v?;
    Some(&v[..v.iter().position(|&c| c == 0).unwrap_or(v.len())])
}

fn u8a(v: Option<&[u8]>) -> Option<u8> {
    v.and_then(|v| v.try_into().ok()).map(u8::from_ne_bytes)
}

fn u16a(v: Option<&[u8]>) -> Option<u16> {
    v.and_then(|v| v.try_into().ok()).map(u16::from_ne_bytes)
}

fn u32a(v: Option<&[u8]>) -> Option<u32> {
    v.and_then(|v| v.try_into().ok()).map(u32::from_ne_bytes)
}

fn addr(v: Option<&[u8]>) -> Option<Ipv4Addr> {
    v.and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(Ipv4Addr::from)
}

/// The index of interface `name` in the made-up namespace, if it exists.
fn ifindex(name: &[u8]) -> Option<u32> {
    let s: u32 = name.iter().map(|&c| u32::from(c)).sum();
    (!s.is_multiple_of(5)).then_some(s % 3 + 1)
}

/// Whether the kernel accepts `name` (`dev_valid_name`), as documented.
fn valid_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() <= IFNAME_MAX
        && n != b"."
        && n != b".."
        && n.iter()
            .all(|&c| c != b'/' && c != b':' && c != 0 && !c.is_ascii_whitespace() && c != 0x0b)
}

/// A refusal's errno and attribute.
fn check_refusal(e: &dnat_core::config::ConfigError, tb: &[Option<&[u8]>]) {
    assert!(e.errno == EINVAL || e.errno == ERANGE, "{e:?}");
    assert!(!e.msg.to_bytes().is_empty(), "{e:?}");
    let a = e.attr.expect("a refusal names its attribute");
    assert!(
        tb.get(usize::from(a)).is_some_and(|v| v.is_some()),
        "{e:?} names an attribute the request lacks"
    );
}

fn router(tb: &[Option<&[u8]>], cfg: &mut RouterConfig) {
    use router_attr as a;
    let at = |t: u16| tb[usize::from(t)];
    let u = RouterUpdate {
        lan_name: string(at(a::LAN_IFNAME)),
        wan_name: string(at(a::WAN_IFNAME)),
        read_only: [a::LAN_IFINDEX, a::WAN_IFINDEX]
            .into_iter()
            .find(|&t| at(t).is_some()),
        public_addr: addr(at(a::PUBLIC_ADDR)),
        port_min: u16a(at(a::PORT_MIN)),
        port_max: u16a(at(a::PORT_MAX)),
        spi_min: u32a(at(a::SPI_MIN)),
        spi_max: u32a(at(a::SPI_MAX)),
        unowned: u8a(at(a::UNOWNED)),
        quota_ports: u32a(at(a::QUOTA_PORTS)),
        quota_spis: u32a(at(a::QUOTA_SPIS)),
        sa_policy: u8a(at(a::SA_POLICY)),
        hook_counters: u8a(at(a::HOOK_COUNTERS)),
        pap_rate: u32a(at(a::PAP_RATE)),
        pap_auth: u8a(at(a::PAP_AUTH)),
    };
    // The documented rules.
    let both = |x: bool, y: bool| x == y;
    let expect_ok = u.read_only.is_none()
        && u.lan_name.is_none_or(valid_name)
        && u.wan_name.is_none_or(valid_name)
        && u.public_addr.is_none_or(is_unicast)
        && both(u.port_min.is_some(), u.port_max.is_some())
        && u.port_min
            .zip(u.port_max)
            .is_none_or(|(lo, hi)| 1 <= lo && lo <= hi)
        && both(u.spi_min.is_some(), u.spi_max.is_some())
        && u.spi_min
            .zip(u.spi_max)
            .is_none_or(|(lo, hi)| SPI_FIRST_ALLOCATABLE <= lo && lo <= hi)
        && !(u.lan_name.is_some() && u.lan_name == u.wan_name)
        && u.unowned.is_none_or(|v| v <= 1)
        && u.sa_policy.is_none_or(|v| v <= 1)
        && u.hook_counters.is_none_or(|v| v <= 1)
        && u.pap_rate.is_none_or(|r| r <= PAP_RATE_MAX)
        && u.pap_auth.is_none_or(|v| v <= 1)
        && u.quota_ports != Some(0)
        && u.quota_spis != Some(0);
    let c = match u.check() {
        Ok(c) => c,
        Err(e) => {
            assert!(!expect_ok, "{u:?} refused: {e:?}");
            check_refusal(&e, tb);
            return;
        }
    };
    assert!(expect_ok, "{u:?} accepted");
    assert_eq!(
        c.lan_name.map(|n| n.as_bytes().to_vec()),
        u.lan_name.map(<[u8]>::to_vec)
    );
    assert_eq!(
        c.wan_name.map(|n| n.as_bytes().to_vec()),
        u.wan_name.map(<[u8]>::to_vec)
    );
    assert_eq!(c.drop_unowned, u.unowned.map(|v| v == 1));
    assert_eq!(c.sa_permissive, u.sa_policy.map(|v| v == 1));
    assert_eq!(c.hook_counters, u.hook_counters.map(|v| v == 1));
    // The handler resolves the names; an unknown one ends the request.
    let (lan, wan) = (
        c.lan_name.map(|n| ifindex(n.as_bytes())),
        c.wan_name.map(|n| ifindex(n.as_bytes())),
    );
    if lan == Some(None) || wan == Some(None) {
        return;
    }
    let (lan, wan) = (lan.flatten(), wan.flatten());
    match cfg.merged(&c, lan, wan) {
        Ok(next) => {
            if let (Some(l), Some(w)) = (next.lan, next.wan) {
                assert_ne!(l.ifindex, w.ifindex, "{next:?}");
            }
            if let Some(n) = c.lan_name {
                assert_eq!(
                    next.lan.map(|i| (i.name, i.ifindex)),
                    Some((n, lan.unwrap()))
                );
            } else {
                assert_eq!(next.lan, cfg.lan);
            }
            if let Some(n) = c.wan_name {
                assert_eq!(
                    next.wan.map(|i| (i.name, i.ifindex)),
                    Some((n, wan.unwrap()))
                );
            } else {
                assert_eq!(next.wan, cfg.wan);
            }
            assert_eq!(next.public_addr, c.public_addr.or(cfg.public_addr));
            assert_eq!(next.ports, c.ports.or(cfg.ports));
            assert_eq!(next.spis, c.spis.or(cfg.spis));
            assert_eq!(next.pap_rate, c.pap_rate.unwrap_or(cfg.pap_rate));
            assert_eq!(
                next.pap_auth_optional,
                c.pap_auth_optional.unwrap_or(cfg.pap_auth_optional)
            );
            assert_eq!(
                next.drop_unowned,
                c.drop_unowned.unwrap_or(cfg.drop_unowned)
            );
            if let Some(r) = next.ports {
                assert!(1 <= r.min && r.min <= r.max, "{next:?}");
            }
            if let Some(r) = next.spis {
                assert!(SPI_FIRST_ALLOCATABLE <= r.min && r.min <= r.max, "{next:?}");
            }
            assert!(next.pap_rate <= PAP_RATE_MAX);
            *cfg = next;
        }
        Err(e) => {
            // Only the merged interfaces can clash.
            let l = lan.or(cfg.lan.map(|i| i.ifindex));
            let w = wan.or(cfg.wan.map(|i| i.ifindex));
            assert!(l.is_some() && l == w, "{c:?} on {cfg:?}: {e:?}");
            assert_eq!(e.errno, EINVAL);
            check_refusal(&e, tb);
        }
    }
}

fn host(tb: &[Option<&[u8]>], cfg: &mut HostConfig) {
    use host_attr as a;
    let at = |t: u16| tb[usize::from(t)];
    let u = HostUpdate {
        router_addr: addr(at(a::ROUTER_ADDR)),
        public_addr: addr(at(a::PUBLIC_ADDR)),
        lan_name: string(at(a::LAN_IFNAME)),
        read_only: at(a::LAN_IFINDEX).is_some(),
        mode: u8a(at(a::MODE)),
        tcp_timeout: u32a(at(a::TCP_TIMEOUT)),
        udp_timeout: u32a(at(a::UDP_TIMEOUT)),
        port_block: u32a(at(a::PORT_BLOCK)),
        hook_counters: u8a(at(a::HOOK_COUNTERS)),
        delivery: u8a(at(a::DELIVERY)),
    };
    // The handler checks and resolves the name first.
    let lan = match u.lan_name() {
        Ok(None) => None,
        Ok(Some(n)) => {
            assert!(valid_name(n.as_bytes()));
            assert_eq!(Some(n.as_bytes()), u.lan_name);
            assert_eq!(n.as_bytes_with_nul().last(), Some(&0));
            match ifindex(n.as_bytes()) {
                Some(i) => Some(i),
                None => return,
            }
        }
        Err(e) => {
            assert!(!u.lan_name.is_some_and(valid_name), "{u:?}");
            check_refusal(&e, tb);
            return;
        }
    };
    let router = u.router_addr.or(cfg.router_addr);
    let public = u.public_addr.or(cfg.public_addr);
    let expect_ok = !u.read_only
        && u.router_addr.is_none_or(is_unicast)
        && u.public_addr.is_none_or(is_unicast)
        && u.mode.is_none_or(|m| m <= 1)
        && u.tcp_timeout
            .is_none_or(|t| (1..=HostTimeouts::MAX).contains(&t))
        && u.udp_timeout
            .is_none_or(|t| (1..=HostTimeouts::MAX).contains(&t))
        && u.port_block.is_none_or(|b| (1..=255).contains(&b))
        && u.hook_counters.is_none_or(|v| v <= 1)
        && u.delivery.is_none_or(|v| v <= 1)
        && !(router.is_some() && router == public);
    match cfg.merged(&u, lan) {
        Ok(next) => {
            assert!(expect_ok, "{u:?} accepted on {cfg:?}");
            assert_eq!(next.router_addr, router);
            assert_eq!(next.public_addr, public);
            assert_eq!(
                next.lan.map(|i| i.ifindex),
                lan.or(cfg.lan.map(|i| i.ifindex))
            );
            let mode = match u.mode {
                Some(1) => HostMode::Native,
                Some(_) => HostMode::Translate,
                None => cfg.mode,
            };
            assert_eq!(next.mode, mode);
            assert_eq!(next.timeouts.tcp, u.tcp_timeout.unwrap_or(cfg.timeouts.tcp));
            assert_eq!(next.timeouts.udp, u.udp_timeout.unwrap_or(cfg.timeouts.udp));
            assert_eq!(
                u32::from(next.port_block),
                u.port_block.unwrap_or(u32::from(cfg.port_block))
            );
            assert!(next.port_block >= 1);
            assert_eq!(next.direct, u.delivery.map_or(cfg.direct, |d| d == 1));
            *cfg = next;
        }
        Err(e) => {
            assert!(!expect_ok, "{u:?} refused on {cfg:?}: {e:?}");
            assert!(e.errno == EINVAL || e.errno == ERANGE, "{e:?}");
            // A new router address equal to the public address already
            // set is refused naming PUBLIC_ADDR, which the request may
            // lack (the extended ack then points at no attribute).
            if e.attr == Some(a::PUBLIC_ADDR) && router.is_some() && router == public {
                return;
            }
            check_refusal(&e, tb);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let first = inp.u8();
    let mut rcfg = RouterConfig::default();
    let mut hcfg = HostConfig::default();
    // Up to four requests, each a length and that many attribute bytes.
    for _ in 0..=(first >> 1) % 4 {
        let n = usize::from(inp.u8());
        let attrs = inp.take(n);
        if first & 1 == 0 {
            if let Some(tb) = parse(attrs, router_attr::MAX, router_policy) {
                router(&tb, &mut rcfg);
            }
        } else if let Some(tb) = parse(attrs, host_attr::MAX, host_policy) {
            host(&tb, &mut hcfg);
        }
    }
    // Interface names on their own.
    if let Some(n) = IfName::new(inp.0) {
        assert!(valid_name(inp.0));
        assert_eq!(n.as_bytes(), inp.0);
    } else {
        assert!(!valid_name(inp.0));
    }
});
