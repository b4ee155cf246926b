// SPDX-License-Identifier: GPL-2.0

//! dnat router: the router side of distributed NAT.
//!
//! Per network namespace it keeps the router configuration (LAN and WAN
//! interfaces, the shared public address, the port and SPI pools) behind the
//! `dnat_router` generic netlink family, and hooks every IPv4 netfilter hook
//! point, counting packets. See `Documentation/networking/dnat.rst`.
//!
//! Layering: [`dnat_core`] is the kernel-independent logic (`dnat-core/src/`,
//! cargo-tested), [`ffi`] the safe wrappers over the C bindings (all the
//! `unsafe`), [`common`] the glue shared with `dnat_host`, and [`router`]
//! this module's glue: netlink, per-namespace state, hooks.

use kernel::prelude::*;

/// Kernel-independent logic, shared with `cargo test` and the CLI (there the
/// `dnat_core` crate).
#[path = "dnat-core/src"]
pub mod dnat_core {
    pub mod alloc_table;
    pub mod checksum;
    pub mod classify;
    pub mod config;
    pub mod direct;
    pub mod events;
    pub mod hooks;
    pub mod ipv4;
    pub mod out_sa;
    pub mod pap;
    pub mod pap_auth;
    pub mod pap_keys;
    pub mod pap_server;
    pub mod pap_serving;
    pub mod router_events;
    pub mod router_path;
    pub mod sa_table;
    pub mod siphash;
    pub mod stat;
    pub mod uapi;
}

// The wrappers over the C bindings (all `unsafe` is there).
pub mod ffi;

/// The glue shared by both modules.
pub mod common {
    pub mod atomic;
    pub mod counters;
    pub mod error;
    pub mod packet;
}

/// This module's glue.
pub mod router {
    pub mod datapath;
    pub mod dumps;
    pub mod hosts;
    pub mod netlink;
    pub mod notify;
    pub mod server;
    pub mod state;
    pub mod tables;
}

module! {
    type: DnatRouter,
    name: "dnat_router",
    authors: ["dnat developers"],
    description: "Distributed NAT router: per-namespace configuration and hooks",
    license: "GPL",
}

struct DnatRouter {
    // Dropped in this order: no netlink request runs once the per-namespace
    // state (and its hooks) are torn down.
    _family: ffi::genl::FamilyRegistration,
    _pernet: ffi::pernet::PernetRegistration<router::state::RouterNet>,
}

impl kernel::Module for DnatRouter {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let pernet = router::state::ROUTER.register()?;
        let family = router::netlink::FAMILY.register()?;
        pr_info!(
            "loaded (generic netlink family dnat_router v{})\n",
            dnat_core::uapi::FAMILY_VERSION
        );
        Ok(Self {
            _family: family,
            _pernet: pernet,
        })
    }
}

impl Drop for DnatRouter {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}

#[kunit_tests(dnat_router)]
mod tests {
    use super::dnat_core::config::{RouterConfig, RouterUpdate, ERANGE};
    use super::ffi::{net::init_net, pernet::Pernet};
    use super::router::state::RouterNet;
    use core::net::Ipv4Addr;

    #[test]
    fn init_net_has_state() {
        let s = Pernet::<RouterNet>::get(init_net());
        assert!(s.is_some());
    }

    #[test]
    fn route_cache_in_kernel() {
        use super::ffi::{rcu::ReadSide, route::RouteCache};
        let guard = kernel::sync::rcu::read_lock();
        let rcu = ReadSide::from_guard(&guard);
        let net = init_net();
        let lo = Ipv4Addr::LOCALHOST;
        let other = Ipv4Addr::new(127, 0, 0, 2);
        let c = RouteCache::new();
        assert!(c.cached(rcu, lo, lo, 0).is_none());
        let r = c.output(rcu, net, lo, lo, 0, 4);
        assert!(r.is_ok());
        let first = r.map(|r| r.as_ptr()).ok();
        // Cached under its key only.
        assert_eq!(c.cached(rcu, lo, lo, 0).map(|r| r.as_ptr()), first);
        assert!(c.cached(rcu, lo, other, 0).is_none());
        assert!(c.cached(rcu, lo, lo, 1).is_none());
        // Another key replaces the entry.
        assert!(c.output(rcu, net, lo, other, 0, 4).is_ok());
        assert!(c.cached(rcu, lo, lo, 0).is_none());
        assert!(c.cached(rcu, lo, other, 0).is_some());
        // (A change of the routing tables making an entry stale is tested
        // with real packets in 40-datapath.)
        // `clear` may sleep: outside the read-side section.
        drop(guard);
        c.clear();
        let guard = kernel::sync::rcu::read_lock();
        assert!(c
            .cached(ReadSide::from_guard(&guard), lo, other, 0)
            .is_none());
    }

    #[test]
    fn events_without_listeners() {
        use super::dnat_core::uapi::{router_attr as a, router_cmd, router_event};
        use super::router::netlink::{EVENTS, FAMILY};
        use kernel::error::code::{EINVAL, EMSGSIZE, ESRCH};
        // The suite runs as the module loads: nobody has joined yet.
        let net = init_net();
        assert!(!FAMILY.has_listeners(net, EVENTS));
        assert!(!FAMILY.has_listeners(net, EVENTS + 1));
        let reset = |m: &mut super::ffi::genl::Msg| {
            m.put_u8(a::EVENT_TYPE, router_event::RESET)?;
            m.put_u32(a::EPOCH, 7)
        };
        assert_eq!(
            FAMILY.notify(net, EVENTS, router_cmd::EVENT, reset),
            Err(ESRCH)
        );
        assert_eq!(
            FAMILY.notify(net, EVENTS + 1, router_cmd::EVENT, reset),
            Err(EINVAL)
        );
        // Attributes beyond the buffer: refused, nothing sent.
        let big = |m: &mut super::ffi::genl::Msg| {
            for _ in 0..64 {
                m.put_str(
                    a::EVENT_REASON,
                    &["a reason of forty bytes, or about that."],
                )?;
            }
            Ok(())
        };
        assert_eq!(
            FAMILY.notify(net, EVENTS, router_cmd::EVENT, big),
            Err(EMSGSIZE)
        );
    }

    #[test]
    fn reserved_spis_are_refused_in_kernel() {
        let u = RouterUpdate {
            spi_min: Some(1),
            spi_max: Some(0x1000),
            ..Default::default()
        };
        assert_eq!(u.check().map_err(|e| e.errno), Err(ERANGE));
    }

    #[test]
    fn config_merge_in_kernel() {
        let u = RouterUpdate {
            lan_name: Some(b"lan"),
            wan_name: Some(b"wan"),
            public_addr: Some(Ipv4Addr::new(203, 0, 113, 30)),
            port_min: Some(20000),
            port_max: Some(29999),
            ..Default::default()
        };
        let c = u.check();
        assert!(c.is_ok());
        if let Ok(c) = c {
            let cfg = RouterConfig::default().merged(&c, Some(2), Some(3));
            assert_eq!(
                cfg.ok().and_then(|c| c.ports).map(|p| p.count()),
                Some(10000)
            );
        }
    }
}
