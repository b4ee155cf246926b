// SPDX-License-Identifier: GPL-2.0

//! dnat host: the host side of distributed NAT.
//!
//! Per network namespace, once configured (router, shared public address,
//! LAN interface) through the `dnat_host` generic netlink family, it
//! obtains ports and SPIs from the router with PAP, translates the stack's
//! ephemeral ports to granted ones (the SPTT), and tunnels traffic between
//! the shared public address and the Internet through the router in
//! IP-in-IP. See `Documentation/networking/dnat.rst`.
//!
//! Layering: [`dnat_core`] is the kernel-independent logic (`dnat-core/src/`,
//! cargo-tested), [`ffi`] the safe wrappers over the C bindings (all the
//! `unsafe`), [`common`] the glue shared with `dnat_router`, and [`host`]
//! this module's glue: netlink, per-namespace state, hooks.

use kernel::prelude::*;

/// Kernel-independent logic, shared with `cargo test` and the CLI (there the
/// `dnat_core` crate).
#[path = "dnat-core/src"]
pub mod dnat_core {
    pub mod checksum;
    pub mod config;
    pub mod events;
    pub mod hooks;
    pub mod host_events;
    pub mod icmp;
    pub mod ipv4;
    pub mod pap;
    pub mod pap_auth;
    pub mod pap_client;
    pub mod pap_session;
    pub mod siphash;
    pub mod sptt;
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
pub mod host {
    pub mod client;
    pub mod datapath;
    pub mod netlink;
    pub mod notify;
    pub mod sptt;
    pub mod state;
}

module! {
    type: DnatHost,
    name: "dnat_host",
    authors: ["dnat developers"],
    description: "Distributed NAT host: per-namespace configuration and hooks",
    license: "GPL",
}

struct DnatHost {
    // Dropped in this order, see `dnat_router`.
    _family: ffi::genl::FamilyRegistration,
    _pernet: ffi::pernet::PernetRegistration<host::state::HostNet>,
}

impl kernel::Module for DnatHost {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let pernet = host::state::HOST.register()?;
        let family = host::netlink::FAMILY.register()?;
        pr_info!(
            "loaded (generic netlink family dnat_host v{})\n",
            dnat_core::uapi::FAMILY_VERSION
        );
        Ok(Self {
            _family: family,
            _pernet: pernet,
        })
    }
}

impl Drop for DnatHost {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}

#[kunit_tests(dnat_host)]
mod tests {
    use super::dnat_core::config::{HostConfig, HostUpdate, EINVAL};
    use super::ffi::{net::init_net, pernet::Pernet};
    use super::host::state::HostNet;
    use core::net::Ipv4Addr;

    #[test]
    fn init_net_has_state() {
        assert!(Pernet::<HostNet>::get(init_net()).is_some());
    }

    #[test]
    fn host_config_in_kernel() {
        let r = Ipv4Addr::new(10, 0, 0, 7);
        let ok = HostConfig::default().merged(
            &HostUpdate {
                router_addr: Some(r),
                public_addr: Some(Ipv4Addr::new(203, 0, 113, 30)),
                ..Default::default()
            },
            None,
        );
        assert!(ok.is_ok());
        let same = HostConfig::default().merged(
            &HostUpdate {
                router_addr: Some(r),
                public_addr: Some(r),
                ..Default::default()
            },
            None,
        );
        assert_eq!(same.map_err(|e| e.errno), Err(EINVAL));
    }

    #[test]
    fn sptt_in_kernel_memory() {
        use super::dnat_core::config::HostTimeouts;
        use super::dnat_core::pap::PortBlock;
        use super::host::sptt::SpttTables;
        use kernel::prelude::*;

        let Ok(t) = KBox::pin_init(SpttTables::new(), GFP_KERNEL) else {
            // No memory for the test: nothing to check.
            return;
        };
        // No pool: nothing can be translated.
        assert_eq!(t.out(6, 40000, 100), None);
        t.set_blocks(&[PortBlock {
            lowest: 20000,
            count: 4,
        }]);
        // A port of the pool maps to itself; others to a free pool port.
        assert_eq!(t.out(17, 20001, 100), Some((20001, true)));
        assert_eq!(t.out(17, 20001, 101), Some((20001, false)));
        let (u, created) = t.out(17, 40000, 100).unwrap_or((0, false));
        assert!(created && (20000..20004).contains(&u) && u != 20001);
        assert_eq!(t.back(17, u, 102), Some(40000));
        assert_eq!(t.back(6, u, 102), None);
        assert_eq!(t.in_use(), 2);
        assert_eq!(t.used_in(20000, 4), 2);
        // UDP idle timeout: gone after it, and the port is free again.
        let short = HostTimeouts { tcp: 60, udp: 5 };
        t.expire(104, &short);
        assert_eq!(t.in_use(), 2);
        t.expire(200, &short);
        assert_eq!(t.in_use(), 0);
        assert_eq!(t.back(17, u, 200), None);
        // Pool exhausted: the fifth flow gets nothing.
        for p in 0..4u16 {
            assert!(t.out(6, 41000 + p, 300).is_some());
        }
        assert_eq!(t.out(6, 41004, 300), None);
        assert!(t.low());
        t.clear();
        assert_eq!(t.in_use(), 0);
    }

    #[test]
    fn icmp_ids_beside_the_sptt_in_kernel() {
        use super::dnat_core::icmp::{IdError, Quoted, DEFAULT_IDLE};
        use super::dnat_core::pap::PortBlock;
        use super::host::sptt::SpttTables;
        use kernel::prelude::*;

        let Ok(t) = KBox::pin_init(SpttTables::new(), GFP_KERNEL) else {
            return;
        };
        // No pool: no identifier.
        assert_eq!(t.id_out(4242, 10), Err(IdError::NoFreeId));
        t.set_blocks(&[PortBlock {
            lowest: 20000,
            count: 4,
        }]);
        // A held identifier is its own; another gets a held port, which
        // a UDP translation may share.
        assert_eq!(t.id_out(20003, 10), Ok((20003, true)));
        let (u, created) = t.id_out(4242, 10).unwrap_or((0, false));
        assert!(created && (20000..20003).contains(&u));
        assert_eq!(t.id_out(4242, 11), Ok((u, false)));
        assert_eq!(t.id_back(u, 12), Some(4242));
        assert_eq!(t.quote_in(Quoted::Icmp, u, true), Some(4242));
        assert_eq!(t.quote_out(Quoted::Icmp, 4242, true), Some(u));
        // Native mode leaves quoted ports alone.
        assert_eq!(t.quote_in(Quoted::Udp, 20001, false), Some(20001));
        assert_eq!(t.quote_in(Quoted::Udp, 20001, true), None);
        assert_eq!(t.ids_in_use(), 2);
        // The dump: port translations first, then identifiers (protocol 1).
        assert!(t.out(17, 40000, 12).is_some());
        let (mut cursor, mut n, mut icmp) = (0, 0, 0);
        while let Some((e, next)) = t.entry(cursor, 12) {
            assert!(next > cursor);
            if e.proto == 1 {
                icmp += 1;
            } else {
                assert_eq!(icmp, 0);
            }
            n += 1;
            cursor = next;
        }
        assert_eq!((n, icmp), (3, 2));
        // Idle translations end, and so do those of a block given back.
        t.expire(
            12 + DEFAULT_IDLE + 1,
            &super::dnat_core::config::HostTimeouts {
                tcp: 7440,
                udp: 7440,
            },
        );
        assert_eq!(t.ids_in_use(), 0);
        // Round robin: the next held port after the one handed out last.
        let (u2, created) = t.id_out(4242, 100).unwrap_or((0, false));
        assert!(created && u2 == u + 1);
        t.set_blocks(&[PortBlock {
            lowest: 30000,
            count: 4,
        }]);
        assert_eq!(t.ids_in_use(), 0);
        assert_eq!(t.id_back(u2, 101), None);
        t.clear();
    }
}
