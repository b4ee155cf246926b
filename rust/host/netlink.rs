// SPDX-License-Identifier: GPL-2.0

//! The `dnat_host` generic netlink family.

use core::net::Ipv4Addr;

use kernel::prelude::*;

use crate::config::{HostConfig, HostUpdate};
use crate::counters::{dump_counters, CounterAttrs};
use crate::error::reject;
use crate::ffi::genl::{AttrType, DoIt, Dump, DumpIt, Family, Msg, Op, PolicyEntry, Request};
use crate::ffi::pernet::Pernet;
use crate::state::HostNet;
use crate::uapi::{host_attr as a, host_cmd as cmd, FAMILY_VERSION, HOST_FAMILY};

static POLICY: [PolicyEntry; a::MAX as usize + 1] = [
    PolicyEntry::new(AttrType::Reject), // UNSPEC
    PolicyEntry::new(AttrType::Be32),   // ROUTER_ADDR
    PolicyEntry::new(AttrType::Be32),   // PUBLIC_ADDR
    PolicyEntry::new(AttrType::Reject), // HOOK (output only)
    PolicyEntry::new(AttrType::Reject), // PACKETS (output only)
    PolicyEntry::new(AttrType::Reject), // PAD
];

static OPS: [Op; 3] = [
    Op::doit::<GetConfig>(cmd::GET_CONFIG, false),
    Op::doit::<SetConfig>(cmd::SET_CONFIG, true),
    Op::dumpit::<GetCounters>(cmd::GET_COUNTERS, false),
];

/// The family, registered by the module after the per-namespace state.
pub static FAMILY: Family = Family::new(
    kernel::module::this_module::<crate::LocalModule>(),
    HOST_FAMILY,
    FAMILY_VERSION,
    &POLICY,
    &OPS,
);

fn state<'a>(net: &'a crate::ffi::net::Net) -> Result<&'a HostNet> {
    Pernet::<HostNet>::get(net).ok_or(ENODEV)
}

fn put_config(m: &mut Msg, c: &HostConfig) -> Result {
    if let Some(addr) = c.router_addr {
        m.put_be32(a::ROUTER_ADDR, addr.octets())?;
    }
    if let Some(addr) = c.public_addr {
        m.put_be32(a::PUBLIC_ADDR, addr.octets())?;
    }
    Ok(())
}

struct GetConfig;

impl DoIt for GetConfig {
    fn doit(req: &Request<'_>) -> Result {
        let cfg = *state(req.net())?.config.lock();
        req.reply(cmd::GET_CONFIG, |m| put_config(m, &cfg))
    }
}

struct SetConfig;

impl DoIt for SetConfig {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let update = HostUpdate {
            router_addr: req.be32(a::ROUTER_ADDR).map(Ipv4Addr::from),
            public_addr: req.be32(a::PUBLIC_ADDR).map(Ipv4Addr::from),
        };
        let mut cfg = st.config.lock();
        *cfg = cfg.merged(&update).map_err(|e| reject(req, e))?;
        Ok(())
    }
}

struct GetCounters;

impl DumpIt for GetCounters {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        dump_counters(
            dump,
            &st.counters,
            &CounterAttrs {
                cmd: cmd::GET_COUNTERS,
                hook: a::HOOK,
                packets: a::PACKETS,
                pad: a::PAD,
            },
        )
    }
}
