// SPDX-License-Identifier: GPL-2.0

//! The `dnat_router` generic netlink family.

use core::net::Ipv4Addr;

use kernel::prelude::*;

use crate::common::atomic::Relaxed;
use crate::common::counters::{dump_counters, CounterAttrs};
use crate::common::error::reject;
use crate::dnat_core::alloc_table::{AllocError, Kind, Quota, Settings};
use crate::dnat_core::config::{ConfigError, RouterConfig, RouterUpdate};
use crate::dnat_core::direct::{BindError, Binding};
use crate::dnat_core::pap_server::{forget_block, forget_idle, owns_spi};
use crate::dnat_core::router_events as events;
use crate::dnat_core::sa_table::{Lan, SaError};
use crate::dnat_core::stat::DataStat;
use crate::dnat_core::uapi::ROUTER_MCGRP_EVENTS;
use crate::dnat_core::uapi::{
    block_kind, delivery, pap_auth_mode, router_event, sa_policy, unowned,
};
use crate::dnat_core::uapi::{
    router_attr as a, router_cmd as cmd, FAMILY_VERSION, IFNAME_MAX, ROUTER_FAMILY,
};
use crate::ffi::defrag::Defrag;
use crate::ffi::genl::{
    AttrType, DoIt, Dump, DumpIt, Family, McastGroup, Msg, Op, PolicyEntry, Request,
};
use crate::ffi::pernet::Pernet;
use crate::ffi::route::{primary_ipv4, RouteCache};
use crate::router::dumps::{GetBlacklist, GetBlocks, GetHosts, GetSas};
use crate::router::notify;
use crate::router::server::{broadcast_invalidate_all, tell_invalidate_all, PapStats};
use crate::router::state::{DeliveryError, RouterNet, TICK_MS};

const IFNAME: AttrType = AttrType::NulString(IFNAME_MAX as u16);
const LLADDR: AttrType = AttrType::Exact(6);

static POLICY: [PolicyEntry; a::MAX as usize + 1] = [
    PolicyEntry::new(AttrType::Reject), // UNSPEC
    PolicyEntry::new(IFNAME),           // LAN_IFNAME
    PolicyEntry::new(IFNAME),           // WAN_IFNAME
    PolicyEntry::new(AttrType::U32),    // LAN_IFINDEX (refused in SET_CONFIG)
    PolicyEntry::new(AttrType::U32),    // WAN_IFINDEX (refused in SET_CONFIG)
    PolicyEntry::new(AttrType::Be32),   // PUBLIC_ADDR
    PolicyEntry::new(AttrType::U16),    // PORT_MIN
    PolicyEntry::new(AttrType::U16),    // PORT_MAX
    PolicyEntry::new(AttrType::U32),    // SPI_MIN
    PolicyEntry::new(AttrType::U32),    // SPI_MAX
    PolicyEntry::new(AttrType::Reject), // HOOK (output only)
    PolicyEntry::new(AttrType::Reject), // PACKETS (output only)
    PolicyEntry::new(AttrType::Reject), // PAD
    PolicyEntry::new(AttrType::Be32),   // HOST_ADDR (REVOKE_HOST, READMIT_HOST)
    PolicyEntry::new(AttrType::Reject), // HOST_REVOKED (output only)
    PolicyEntry::new(AttrType::U8),     // BLOCK_KIND (PIN_BLOCK)
    PolicyEntry::new(AttrType::U32),    // BLOCK_LOWEST (PIN_BLOCK)
    PolicyEntry::new(AttrType::U32),    // BLOCK_COUNT (PIN_BLOCK)
    PolicyEntry::new(AttrType::Reject), // BLOCK_EXPIRES (output only)
    PolicyEntry::new(AttrType::Reject), // STAT_NAME (output only)
    PolicyEntry::new(AttrType::Reject), // STAT_VALUE (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_PORTS (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_SPIS (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_IN_PACKETS (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_OUT_PACKETS (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_SPOOFED (output only)
    PolicyEntry::new(AttrType::U8),     // UNOWNED
    PolicyEntry::new(AttrType::U32),    // QUOTA_PORTS
    PolicyEntry::new(AttrType::U32),    // QUOTA_SPIS
    PolicyEntry::new(AttrType::Be32),   // PEER_ADDR
    PolicyEntry::new(AttrType::U32),    // SPI
    PolicyEntry::new(AttrType::U8),     // SA_POLICY
    PolicyEntry::new(AttrType::Reject), // HOST_SA_DROPPED (output only)
    PolicyEntry::new(AttrType::U32),    // PIN_SECS
    PolicyEntry::new(AttrType::Reject), // QUOTA_OWN (output only)
    PolicyEntry::new(AttrType::U8),     // HOOK_COUNTERS
    PolicyEntry::new(AttrType::U32),    // PAP_RATE
    PolicyEntry::new(AttrType::U8),     // PAP_AUTH
    PolicyEntry::new(AttrType::Reject), // HOST_AUTH (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_IN_BYTES (output only)
    PolicyEntry::new(AttrType::Reject), // HOST_OUT_BYTES (output only)
    PolicyEntry::new(AttrType::Reject), // EVENT_TYPE (events only)
    PolicyEntry::new(AttrType::Reject), // EVENT_REASON (events only)
    PolicyEntry::new(AttrType::Reject), // EVENT_COUNT (events only)
    PolicyEntry::new(AttrType::Reject), // EVENT_SUPPRESSED (events only)
    PolicyEntry::new(AttrType::Reject), // EPOCH (events only)
    PolicyEntry::new(AttrType::U8),     // DELIVERY (SET_DELIVERY)
    PolicyEntry::new(LLADDR),           // LLADDR (SET_DELIVERY)
];

static OPS: [Op; 18] = [
    Op::doit::<GetConfig>(cmd::GET_CONFIG, false),
    Op::doit::<SetConfig>(cmd::SET_CONFIG, true),
    Op::dumpit::<GetCounters>(cmd::GET_COUNTERS, false),
    Op::dumpit::<GetBlocks>(cmd::GET_BLOCKS, true),
    Op::dumpit::<GetPapStats>(cmd::GET_PAP_STATS, false),
    Op::dumpit::<GetHosts>(cmd::GET_HOSTS, true),
    Op::doit::<RevokeHost>(cmd::REVOKE_HOST, true),
    Op::doit::<ReadmitHost>(cmd::READMIT_HOST, true),
    Op::doit::<Reset>(cmd::RESET, true),
    Op::dumpit::<GetSas>(cmd::GET_SAS, true),
    Op::doit::<SaChange<true>>(cmd::SA_VALIDATE, true),
    Op::doit::<SaChange<false>>(cmd::SA_INVALIDATE, true),
    Op::dumpit::<GetBlacklist>(cmd::GET_BLACKLIST, true),
    Op::doit::<BlacklistChange<true>>(cmd::BLACKLIST_ADD, true),
    Op::doit::<BlacklistChange<false>>(cmd::BLACKLIST_DEL, true),
    Op::doit::<PinBlock>(cmd::PIN_BLOCK, true),
    Op::doit::<SetQuota>(cmd::SET_QUOTA, true),
    Op::doit::<SetDelivery>(cmd::SET_DELIVERY, true),
];

/// The multicast groups: `events` (`EVENT` messages, `notify.rs`), which
/// only `CAP_NET_ADMIN` may join, as only it may dump the hosts.
static MCGRPS: [McastGroup; 1] = [McastGroup::new(ROUTER_MCGRP_EVENTS, true)];

/// The number of the `events` group in [`MCGRPS`].
pub const EVENTS: u8 = 0;

/// The family, registered by the module after the per-namespace state.
pub static FAMILY: Family = Family::new(
    kernel::module::this_module::<crate::LocalModule>(),
    ROUTER_FAMILY,
    FAMILY_VERSION,
    &POLICY,
    &OPS,
    &MCGRPS,
);

pub(crate) fn state<'a>(net: &'a crate::ffi::net::Net) -> Result<&'a RouterNet> {
    Pernet::<RouterNet>::get(net).ok_or(ENODEV)
}

fn put_config(m: &mut Msg, c: &RouterConfig) -> Result {
    if let Some(i) = c.lan {
        m.put_string_with_nul(a::LAN_IFNAME, i.name.as_bytes_with_nul())?;
        m.put_u32(a::LAN_IFINDEX, i.ifindex)?;
    }
    if let Some(i) = c.wan {
        m.put_string_with_nul(a::WAN_IFNAME, i.name.as_bytes_with_nul())?;
        m.put_u32(a::WAN_IFINDEX, i.ifindex)?;
    }
    if let Some(addr) = c.public_addr {
        m.put_be32(a::PUBLIC_ADDR, addr.octets())?;
    }
    if let Some(r) = c.ports {
        m.put_u16(a::PORT_MIN, r.min)?;
        m.put_u16(a::PORT_MAX, r.max)?;
    }
    if let Some(r) = c.spis {
        m.put_u32(a::SPI_MIN, r.min)?;
        m.put_u32(a::SPI_MAX, r.max)?;
    }
    m.put_u8(
        a::UNOWNED,
        if c.drop_unowned {
            unowned::DROP
        } else {
            unowned::LOCAL
        },
    )?;
    m.put_u8(
        a::SA_POLICY,
        if c.sa_permissive {
            sa_policy::PERMISSIVE
        } else {
            sa_policy::STRICT
        },
    )?;
    m.put_u8(a::HOOK_COUNTERS, u8::from(c.hook_counters))?;
    m.put_u32(a::PAP_RATE, c.pap_rate)?;
    m.put_u8(
        a::PAP_AUTH,
        if c.pap_auth_optional {
            pap_auth_mode::OPTIONAL
        } else {
            pap_auth_mode::REQUIRED
        },
    )?;
    Ok(())
}

struct GetConfig;

impl DoIt for GetConfig {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let cfg = *st.config.lock();
        let quota = st
            .tables
            .write(|t, _, _| t.settings().default_quota)
            .or(Some(Settings::DEFAULT.default_quota));
        req.reply(cmd::GET_CONFIG, |m| {
            put_config(m, &cfg)?;
            if let Some(q) = quota {
                m.put_u32(a::QUOTA_PORTS, q.ports)?;
                m.put_u32(a::QUOTA_SPIS, q.spis)?;
            }
            Ok(())
        })
    }
}

struct SetConfig;

impl DoIt for SetConfig {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let update = RouterUpdate {
            lan_name: req.string(a::LAN_IFNAME),
            wan_name: req.string(a::WAN_IFNAME),
            read_only: [a::LAN_IFINDEX, a::WAN_IFINDEX]
                .into_iter()
                .find(|&t| req.attr(t).is_some()),
            public_addr: req.be32(a::PUBLIC_ADDR).map(Ipv4Addr::from),
            port_min: req.u16(a::PORT_MIN),
            port_max: req.u16(a::PORT_MAX),
            spi_min: req.u32(a::SPI_MIN),
            spi_max: req.u32(a::SPI_MAX),
            unowned: req.u8(a::UNOWNED),
            quota_ports: req.u32(a::QUOTA_PORTS),
            quota_spis: req.u32(a::QUOTA_SPIS),
            sa_policy: req.u8(a::SA_POLICY),
            hook_counters: req.u8(a::HOOK_COUNTERS),
            pap_rate: req.u32(a::PAP_RATE),
            pap_auth: req.u8(a::PAP_AUTH),
        };
        let checked = update.check().map_err(|e| reject(req, e))?;
        let resolve = |name: Option<crate::dnat_core::config::IfName>, attr| match name {
            None => Ok(None),
            Some(n) => req
                .net()
                .ifindex_by_name(n.as_bytes_with_nul())
                .map(Some)
                .ok_or_else(|| reject(req, ConfigError::unknown_interface(attr))),
        };
        let lan = resolve(checked.lan_name, a::LAN_IFNAME)?;
        let wan = resolve(checked.wan_name, a::WAN_IFNAME)?;
        let mut cfg = st.config.lock();
        let next = cfg.merged(&checked, lan, wan).map_err(|e| reject(req, e))?;
        // The tables, from the first configuration on (charged to the
        // caller's memory cgroup), before anything changes.
        st.tables.get_or_alloc()?;
        // The hooks, from the first configuration in this namespace on
        // (and the counting hooks if asked for), before the configuration
        // changes: if they cannot be registered nothing changes. The main
        // hooks stay if a later step fails (they only act on what is
        // configured); counting hooks this request added go again.
        Pernet::<RouterNet>::enable_hooks(req.net(), next.hook_counters)?;
        let undo_counting = || {
            if !cfg.hook_counters {
                Pernet::<RouterNet>::drop_counting_hooks(req.net());
            }
        };
        if next.lan.is_some() {
            // Reassembly before the hooks, from the first configuration
            // on; enabled before anything changes, so a failure changes
            // nothing.
            let mut d = st.defrag.lock();
            if d.is_none() {
                *d = Some(Defrag::enable(req.net()).inspect_err(|_| undo_counting())?);
            }
        }
        let (old, new) = (*cfg, next);
        *cfg = next;
        if checked.quota_ports.is_some() || checked.quota_spis.is_some() {
            st.tables.get_or_alloc()?.write(|t, _, _| {
                let mut s = t.settings();
                if let Some(q) = checked.quota_ports {
                    s.default_quota.ports = q;
                }
                if let Some(q) = checked.quota_spis {
                    s.default_quota.spis = q;
                }
                t.set_settings(s);
            });
        }
        if (old.ports, old.spis) != (new.ports, new.spis) {
            // Blocks outside the new pools are retired.
            st.tables.get_or_alloc()?.write(|t, sa, _| {
                t.set_pools(new.ports, new.spis, |b| {
                    forget_block(sa, b);
                });
                forget_idle(sa, t);
            });
        }
        let lan = new.lan.map_or(0, |i| i.ifindex);
        st.drop_unowned.store(u32::from(new.drop_unowned), Relaxed);
        st.sa_permissive
            .store(u32::from(new.sa_permissive), Relaxed);
        st.pap_rate.store(new.pap_rate, Relaxed);
        st.pap_auth_optional
            .store(u32::from(new.pap_auth_optional), Relaxed);
        st.wan_ifindex
            .store(new.wan.map_or(0, |i| i.ifindex), Relaxed);
        st.public_addr
            .store(new.public_addr.map_or(0, u32::from), Relaxed);
        let lan_addr = primary_ipv4(req.net(), lan).map_or(0, |(a, _)| u32::from(a));
        st.lan_addr
            .store(if lan == 0 { 0 } else { lan_addr }, Relaxed);
        st.lan_ifindex.store(lan, Relaxed);
        // The cached routes were looked up for the old configuration (their
        // keys tell anyway); their references go.
        if let Some(h) = st.hosts() {
            RouteCache::clear_all(&h.routes);
            RouteCache::clear_all(&h.direct_routes);
        }
        st.counters.set_enabled(next.hook_counters);
        if !next.hook_counters {
            Pernet::<RouterNet>::drop_counting_hooks(req.net());
        }
        // Leases and grace periods are kept from now on.
        Pernet::<RouterNet>::kick(req.net(), TICK_MS);
        if lan != 0 && old.lan.map(|i| i.ifindex) != Some(lan) {
            // A (new) LAN: hosts there may hold blocks of an earlier
            // instance; tell them everything is invalid.
            let _ = broadcast_invalidate_all(st, req.net(), lan);
        }
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

struct GetPapStats;

impl DumpIt for GetPapStats {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        let entry = |i: usize| {
            st.pap.entry(i).or_else(|| {
                let j = i.checked_sub(PapStats::LEN)?;
                if j == DataStat::COUNT {
                    return Some(("", "table_bytes", st.tables.bytes() as u64));
                }
                if j == DataStat::COUNT + 1 {
                    let slot = Pernet::<RouterNet>::slot_bytes();
                    return Some(("", "netns_bytes", slot as u64));
                }
                let (n, v) = st.data.entry(j)?;
                Some(("", n, v))
            })
        };
        dump.indexed(cmd::GET_PAP_STATS, entry, |m, (prefix, name, value)| {
            m.put_str(a::STAT_NAME, &[prefix, name])?;
            m.put_u64(a::STAT_VALUE, value, a::PAD)
        })
    }
}

fn host_addr(req: &Request<'_>) -> Result<Ipv4Addr> {
    match req.be32(a::HOST_ADDR).map(Ipv4Addr::from) {
        Some(h) if crate::dnat_core::config::is_unicast(h) => Ok(h),
        _ => {
            req.set_error(
                c"HOST_ADDR (a unicast address) is required",
                Some(a::HOST_ADDR),
            );
            Err(EINVAL)
        }
    }
}

/// `PIN_BLOCK`: binds a block a host holds for `PIN_SECS` seconds (the
/// local CA pins the blocks a certificate names).
struct PinBlock;

impl DoIt for PinBlock {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let kind = match req.u8(a::BLOCK_KIND) {
            Some(block_kind::PORTS) => Kind::Port,
            Some(block_kind::SPIS) => Kind::Spi,
            _ => {
                req.set_error(
                    c"BLOCK_KIND (1: ports, 2: SPIs) is required",
                    Some(a::BLOCK_KIND),
                );
                return Err(EINVAL);
            }
        };
        let (Some(lowest), Some(count), Some(secs)) = (
            req.u32(a::BLOCK_LOWEST),
            req.u32(a::BLOCK_COUNT),
            req.u32(a::PIN_SECS),
        ) else {
            req.set_error(c"BLOCK_LOWEST, BLOCK_COUNT and PIN_SECS are required", None);
            return Err(EINVAL);
        };
        st.tables
            .get_or_alloc()?
            .write(|t, _, now| t.pin(host, kind, lowest, count, secs, now).map(|_| ()))
            .ok_or(ENOMEM)?
            .map_err(|e| {
                req.set_error(
                    match e {
                        AllocError::NotOwner => c"another host holds that block",
                        _ => c"the host holds no block containing that range",
                    },
                    None,
                );
                Error::from_errno(-e.errno())
            })?;
        // The lease may have moved: let the tick look again.
        Pernet::<RouterNet>::kick(req.net(), 0);
        Ok(())
    }
}

/// `SET_QUOTA`: a host's own quota, or the default again.
struct SetQuota;

impl DoIt for SetQuota {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let (ports, spis) = (req.u32(a::QUOTA_PORTS), req.u32(a::QUOTA_SPIS));
        for (v, attr) in [(ports, a::QUOTA_PORTS), (spis, a::QUOTA_SPIS)] {
            if v == Some(0) {
                req.set_error(c"a quota is at least 1", Some(attr));
                return Err(EINVAL);
            }
        }
        st.tables
            .get_or_alloc()?
            .write(|t, sa, _| {
                let known = t.find_host(host);
                let quota = if ports.is_none() && spis.is_none() {
                    None
                } else {
                    // The one left out keeps the value in effect.
                    let now = known
                        .and_then(|s| t.host_info(s))
                        .map_or(t.settings().default_quota, |h| h.quota);
                    Some(Quota {
                        ports: ports.unwrap_or(now.ports),
                        spis: spis.unwrap_or(now.spis),
                    })
                };
                t.set_quota(host, quota)?;
                if let (None, Some(s)) = (known, t.find_host(host)) {
                    // A host new to the table: its slot starts clean.
                    st.reset_host(s);
                    sa.remove_host(s);
                    st.forget_out_sas(s);
                }
                Ok(())
            })
            .ok_or(ENOMEM)?
            .map_err(|e: AllocError| {
                req.set_error(c"the host table is full", None);
                Error::from_errno(-e.errno())
            })
    }
}

/// `SET_DELIVERY`: how the router delivers to a host (`direct.rs`).
struct SetDelivery;

impl DoIt for SetDelivery {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let lladdr = req.exact::<6>(a::LLADDR);
        let b = match (req.u8(a::DELIVERY), lladdr) {
            (Some(delivery::IPIP), None) => Binding::Ipip,
            (Some(delivery::IPIP), Some(_)) => {
                req.set_error(c"LLADDR is for direct delivery only", Some(a::LLADDR));
                return Err(EINVAL);
            }
            (Some(delivery::DIRECT), Some(m)) => Binding::Bound(m),
            (Some(delivery::DIRECT), None) => Binding::Learn,
            (v, _) => {
                let msg = c"DELIVERY (0: ipip, 1: direct) is required";
                req.set_error(msg, v.map(|_| a::DELIVERY));
                return Err(EINVAL);
            }
        };
        if b != Binding::Ipip && !st.on_lan(req.net(), host) {
            let msg = c"direct delivery needs HOST_ADDR on the LAN device's link";
            req.set_error(msg, Some(a::HOST_ADDR));
            return Err(EINVAL);
        }
        st.set_delivery(host, b).map_err(|e| {
            let (msg, attr, errno) = match e {
                DeliveryError::Table(t) => {
                    let msg = match t {
                        AllocError::HostTableFull => c"the host table is full",
                        AllocError::BadHost => c"HOST_ADDR cannot be a host",
                        _ => c"the host table refused the host",
                    };
                    (msg, None, Error::from_errno(-t.errno()))
                }
                DeliveryError::Bind(BindError::Lladdr) => {
                    (c"not a unicast link-layer address", Some(a::LLADDR), EINVAL)
                }
                DeliveryError::Bind(BindError::InUse) => (
                    c"another host is bound to that link-layer address",
                    Some(a::LLADDR),
                    EADDRINUSE,
                ),
                DeliveryError::Bind(BindError::Full) => (
                    c"no room for that link-layer address in the index",
                    Some(a::LLADDR),
                    ENOSPC,
                ),
                DeliveryError::Bind(BindError::Slot) => (
                    c"the host's slot is outside the binding table",
                    None,
                    ERANGE,
                ),
                DeliveryError::NoMemory => (c"out of memory", None, ENOMEM),
            };
            req.set_error(msg, attr);
            errno
        })
    }
}

struct RevokeHost;

impl DoIt for RevokeHost {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let slot = st
            .tables
            .get_or_alloc()?
            .write(|t, sa, _| {
                let known = t.find_host(host).is_some();
                t.revoke_host(host, |b| {
                    forget_block(sa, b);
                })?;
                if let Some(s) = t.find_host(host) {
                    // Its SAs and blacklist go with everything else.
                    sa.remove_host(s);
                    st.forget_out_sas(s);
                }
                let slot = t.find_host(host);
                if let (false, Some(s)) = (known, slot) {
                    // A host new to the table: its slot starts clean.
                    st.reset_host(s);
                    sa.remove_host(s);
                    st.forget_out_sas(s);
                }
                Ok(slot)
            })
            .ok_or(ENOMEM)?
            .map_err(|e: crate::dnat_core::alloc_table::AllocError| {
                req.set_error(c"the host table is full", None);
                Error::from_errno(-e.errno())
            })?;
        if let Some(s) = slot {
            st.set_revoked(s, true);
            st.forget_replies(Some(s));
        }
        notify::push(st, events::host(router_event::REVOKED, host));
        let lan = st.lan_ifindex.load(Relaxed);
        if lan != 0 {
            // Best effort: the host may be gone; the revocation stands.
            let _ = tell_invalidate_all(st, req.net(), lan, host);
        }
        notify::soon(st, req.net());
        Ok(())
    }
}

struct ReadmitHost;

impl DoIt for ReadmitHost {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let slot = st
            .tables
            .get_or_alloc()?
            .write(|t, _, _| t.readmit_host(host).map(|()| t.find_host(host)))
            .ok_or(ENOMEM)?
            .map_err(|_| {
                req.set_error(c"no such host", Some(a::HOST_ADDR));
                ENOENT
            })?;
        if let Some(s) = slot {
            st.set_revoked(s, false);
        }
        notify::push(st, events::host(router_event::READMITTED, host));
        notify::soon(st, req.net());
        Ok(())
    }
}

struct Reset;

impl DoIt for Reset {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        st.tables
            .get_or_alloc()?
            .write(|t, sa, _| {
                t.invalidate_all(None, |_| {});
                sa.clear();
                st.clear_out_sas();
            })
            .ok_or(ENOMEM)?;
        st.forget_replies(None);
        let epoch = st.new_epoch();
        notify::push(st, events::reset(epoch));
        let lan = st.lan_ifindex.load(Relaxed);
        if lan != 0 {
            let _ = broadcast_invalidate_all(st, req.net(), lan);
        }
        notify::soon(st, req.net());
        Ok(())
    }
}

/// `PEER_ADDR` and `SPI` of an SA request.
fn peer_spi(req: &Request<'_>) -> Result<(Ipv4Addr, u32)> {
    match (req.be32(a::PEER_ADDR), req.u32(a::SPI)) {
        (Some(p), Some(s)) => Ok((Ipv4Addr::from(p), s)),
        _ => {
            req.set_error(c"PEER_ADDR and SPI are required", None);
            Err(EINVAL)
        }
    }
}

/// The LAN prefix, for the check that SA peers are external.
fn lan_prefix(st: &RouterNet, net: &crate::ffi::net::Net) -> Option<Lan> {
    let lan = st.lan_ifindex.load(Relaxed);
    primary_ipv4(net, lan).map(|(addr, mask)| Lan { addr, mask })
}

/// Reports an SA table refusal.
fn sa_error(req: &Request<'_>, e: SaError) -> Error {
    let (msg, attr): (&'static core::ffi::CStr, _) = match e {
        SaError::NotOwned => (c"the host does not hold that SPI", Some(a::SPI)),
        SaError::BadAddress => (
            c"the peer must be a unicast address outside the LAN",
            Some(a::PEER_ADDR),
        ),
        SaError::BadSpi => (c"SPIs 0 to 255 are reserved", Some(a::SPI)),
        SaError::NotFound => (c"no such entry", None),
        SaError::TableFull | SaError::HostLimit => (c"the table or the host's share is full", None),
        _ => (c"refused", None),
    };
    req.set_error(msg, attr);
    Error::from_errno(-e.errno())
}

/// `SA_VALIDATE` (`true`) and `SA_INVALIDATE` (`false`).
struct SaChange<const ADD: bool>;

impl<const ADD: bool> DoIt for SaChange<ADD> {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let (peer, spi) = peer_spi(req)?;
        let lan = lan_prefix(st, req.net());
        st.tables
            .get_or_alloc()?
            .write(|t, sa, _| {
                let Some(slot) = t.find_host(host) else {
                    req.set_error(c"no such host", Some(a::HOST_ADDR));
                    return Err(ENOENT);
                };
                let r = if ADD {
                    sa.validate(slot, peer, spi, lan, |s, x| owns_spi(t, s, x))
                        .map(|_| ())
                } else {
                    sa.invalidate(slot, peer, spi)
                };
                r.map_err(|e| sa_error(req, e))
            })
            .ok_or(ENOMEM)??;
        let kind = if ADD {
            router_event::SA_VALIDATED
        } else {
            router_event::SA_INVALIDATED
        };
        notify::push(st, events::sa(kind, host, Some(peer), Some(spi)));
        notify::soon(st, req.net());
        Ok(())
    }
}

/// `BLACKLIST_ADD` (`true`) and `BLACKLIST_DEL` (`false`).
struct BlacklistChange<const ADD: bool>;

impl<const ADD: bool> DoIt for BlacklistChange<ADD> {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let host = host_addr(req)?;
        let peer = req.be32(a::PEER_ADDR).map(Ipv4Addr::from);
        let spi = req.u32(a::SPI);
        if peer.is_none() && spi.is_none() {
            req.set_error(c"PEER_ADDR and/or SPI is required", None);
            return Err(EINVAL);
        }
        let lan = lan_prefix(st, req.net());
        st.tables
            .get_or_alloc()?
            .write(|t, sa, _| {
                let Some(slot) = t.find_host(host) else {
                    req.set_error(c"no such host", Some(a::HOST_ADDR));
                    return Err(ENOENT);
                };
                let r = if ADD {
                    sa.blacklist_add(slot, peer, spi, lan, |s, x| owns_spi(t, s, x))
                        .map(|_| ())
                } else {
                    sa.blacklist_remove(slot, peer, spi)
                };
                r.map_err(|e| sa_error(req, e))
            })
            .ok_or(ENOMEM)??;
        let kind = if ADD {
            router_event::BLACKLIST_ADDED
        } else {
            router_event::BLACKLIST_REMOVED
        };
        notify::push(st, events::sa(kind, host, peer, spi));
        notify::soon(st, req.net());
        Ok(())
    }
}
