// SPDX-License-Identifier: GPL-2.0

//! dnat host: the host side of distributed NAT.
//!
//! Per network namespace, once configured (router, shared public address,
//! LAN interface) through the `dnat_host` generic netlink family, it
//! obtains ports and SPIs from the router with PAP, translates the stack's
//! ephemeral ports to granted ones (the SPTT), and tunnels traffic between
//! the shared public address and the Internet through the router in
//! IP-in-IP. See `Documentation/networking/dnat.rst`.

use kernel::prelude::*;

// Kernel-independent logic, shared with `cargo test` and the CLI.
#[path = "dnat-core/src/checksum.rs"]
pub mod checksum;
#[path = "dnat-core/src/config.rs"]
pub mod config;
#[path = "dnat-core/src/hooks.rs"]
pub mod hooks;
#[path = "dnat-core/src/ipv4.rs"]
pub mod ipv4;
#[path = "dnat-core/src/pap.rs"]
pub mod pap;
#[path = "dnat-core/src/pap_client.rs"]
pub mod pap_client;
#[path = "dnat-core/src/sptt.rs"]
pub mod sptt;
#[path = "dnat-core/src/uapi.rs"]
pub mod uapi;

// The wrappers over the C bindings (all `unsafe` is there).
#[path = "ffi/defrag.rs"]
pub mod defrag;
#[path = "ffi/mod.rs"]
pub mod ffi;

#[path = "common/counters.rs"]
pub mod counters;
#[path = "common/error.rs"]
pub mod error;

#[path = "host/client.rs"]
pub mod client;
#[path = "host/datapath.rs"]
pub mod datapath;
#[path = "host/netlink.rs"]
pub mod netlink;
#[path = "host/sptt.rs"]
pub mod sptt_glue;
#[path = "host/state.rs"]
pub mod state;

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
    _pernet: ffi::pernet::PernetRegistration<state::HostNet>,
}

impl kernel::Module for DnatHost {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let pernet = state::HOST.register()?;
        let family = netlink::FAMILY.register()?;
        pr_info!(
            "loaded (generic netlink family dnat_host v{})\n",
            uapi::FAMILY_VERSION
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
    use super::config::{HostConfig, HostUpdate, EINVAL};
    use super::ffi::{net::init_net, pernet::Pernet};
    use super::state::HostNet;
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
}
