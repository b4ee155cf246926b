// SPDX-License-Identifier: GPL-2.0

//! The `dnat_host` generic netlink family.

use core::net::Ipv4Addr;

use kernel::prelude::*;

use crate::common::counters::{dump_counters, CounterAttrs};
use crate::common::error::reject;
use crate::dnat_core::config::{ConfigError, HostConfig, HostMode, HostUpdate};
use crate::dnat_core::pap_client::{SaNoticeError, SaRecordState};
use crate::dnat_core::uapi::HOST_MCGRP_EVENTS;
use crate::dnat_core::uapi::{block_kind, host_mode, sa_state};
use crate::dnat_core::uapi::{
    host_attr as a, host_cmd as cmd, FAMILY_VERSION, HOST_FAMILY, IFNAME_MAX,
};
use crate::ffi::genl::{
    AttrType, DoIt, Dump, DumpIt, Family, McastGroup, Msg, Op, PolicyEntry, Request,
};
use crate::ffi::pernet::Pernet;
use crate::host::client::SaNotice;
use crate::host::state::HostNet;

const IFNAME: AttrType = AttrType::NulString(IFNAME_MAX as u16);

static POLICY: [PolicyEntry; a::MAX as usize + 1] = [
    PolicyEntry::new(AttrType::Reject), // UNSPEC
    PolicyEntry::new(AttrType::Be32),   // ROUTER_ADDR
    PolicyEntry::new(AttrType::Be32),   // PUBLIC_ADDR
    PolicyEntry::new(AttrType::Reject), // HOOK (output only)
    PolicyEntry::new(AttrType::Reject), // PACKETS (output only)
    PolicyEntry::new(AttrType::Reject), // PAD
    PolicyEntry::new(IFNAME),           // LAN_IFNAME
    PolicyEntry::new(AttrType::U32),    // LAN_IFINDEX (refused in SET_CONFIG)
    PolicyEntry::new(AttrType::U8),     // MODE
    PolicyEntry::new(AttrType::U32),    // TCP_TIMEOUT
    PolicyEntry::new(AttrType::U32),    // UDP_TIMEOUT
    PolicyEntry::new(AttrType::U32),    // PORT_BLOCK
    PolicyEntry::new(AttrType::Reject), // EPOCH (output only)
    PolicyEntry::new(AttrType::Reject), // STAT_NAME (output only)
    PolicyEntry::new(AttrType::Reject), // STAT_VALUE (output only)
    PolicyEntry::new(AttrType::U8),     // BLOCK_KIND (REQUEST, RELEASE)
    PolicyEntry::new(AttrType::U32),    // BLOCK_LOWEST (RELEASE)
    PolicyEntry::new(AttrType::U32),    // BLOCK_COUNT (REQUEST, RELEASE)
    PolicyEntry::new(AttrType::Reject), // BLOCK_EXPIRES (output only)
    PolicyEntry::new(AttrType::Reject), // BLOCK_USED (output only)
    PolicyEntry::new(AttrType::Reject), // PROTO (output only)
    PolicyEntry::new(AttrType::Reject), // LOCAL_PORT (output only)
    PolicyEntry::new(AttrType::Reject), // UNIQUE_PORT (output only)
    PolicyEntry::new(AttrType::Reject), // IDLE (output only)
    PolicyEntry::new(AttrType::Reject), // FLOW_STATE (output only)
    PolicyEntry::new(AttrType::Be32),   // PEER_ADDR
    PolicyEntry::new(AttrType::U32),    // SPI
    PolicyEntry::new(AttrType::Reject), // SA_STATE (output only)
    PolicyEntry::new(AttrType::U8),     // HOOK_COUNTERS
    PolicyEntry::new(AttrType::Reject), // EVENT_TYPE (events only)
    PolicyEntry::new(AttrType::Reject), // EVENT_REASON (events only)
    PolicyEntry::new(AttrType::Reject), // EVENT_COUNT (events only)
    PolicyEntry::new(AttrType::U8),     // DELIVERY
    PolicyEntry::new(AttrType::Reject), // ROUTER_LLADDR (output only)
];

static OPS: [Op; 13] = [
    Op::doit::<GetConfig>(cmd::GET_CONFIG, false),
    Op::doit::<SetConfig>(cmd::SET_CONFIG, true),
    Op::dumpit::<GetCounters>(cmd::GET_COUNTERS, false),
    Op::dumpit::<GetStats>(cmd::GET_STATS, false),
    Op::dumpit::<GetBlocks>(cmd::GET_BLOCKS, false),
    Op::dumpit::<GetSptt>(cmd::GET_SPTT, false),
    Op::doit::<RequestBlock>(cmd::REQUEST, true),
    Op::doit::<ReleaseBlock>(cmd::RELEASE, true),
    Op::doit::<SaCmd<{ cmd::SA_VALIDATE }>>(cmd::SA_VALIDATE, true),
    Op::doit::<SaCmd<{ cmd::SA_INVALIDATE }>>(cmd::SA_INVALIDATE, true),
    Op::doit::<SaCmd<{ cmd::BLACKLIST_ADD }>>(cmd::BLACKLIST_ADD, true),
    Op::doit::<SaCmd<{ cmd::BLACKLIST_DEL }>>(cmd::BLACKLIST_DEL, true),
    Op::dumpit::<GetSas>(cmd::GET_SAS, false),
];

/// The multicast groups: `events` (`EVENT` messages, `notify.rs`), which
/// only `CAP_NET_ADMIN` may join.
static MCGRPS: [McastGroup; 1] = [McastGroup::new(HOST_MCGRP_EVENTS, true)];

/// The number of the `events` group in [`MCGRPS`].
pub const EVENTS: u8 = 0;

/// The family, registered by the module after the per-namespace state.
pub static FAMILY: Family = Family::new(
    kernel::module::this_module::<crate::LocalModule>(),
    HOST_FAMILY,
    FAMILY_VERSION,
    &POLICY,
    &OPS,
    &MCGRPS,
);

fn state<'a>(net: &'a crate::ffi::net::Net) -> Result<&'a HostNet> {
    Pernet::<HostNet>::get(net).ok_or(ENODEV)
}

fn put_config(m: &mut Msg, c: &HostConfig, epoch: u32, router_lladdr: Option<[u8; 6]>) -> Result {
    if let Some(addr) = c.router_addr {
        m.put_be32(a::ROUTER_ADDR, addr.octets())?;
    }
    if let Some(addr) = c.public_addr {
        m.put_be32(a::PUBLIC_ADDR, addr.octets())?;
    }
    if let Some(i) = c.lan {
        m.put_string_with_nul(a::LAN_IFNAME, i.name.as_bytes_with_nul())?;
        m.put_u32(a::LAN_IFINDEX, i.ifindex)?;
    }
    m.put_u8(
        a::MODE,
        match c.mode {
            HostMode::Translate => host_mode::TRANSLATE,
            HostMode::Native => host_mode::NATIVE,
        },
    )?;
    m.put_u32(a::TCP_TIMEOUT, c.timeouts.tcp)?;
    m.put_u32(a::UDP_TIMEOUT, c.timeouts.udp)?;
    m.put_u32(a::PORT_BLOCK, u32::from(c.port_block))?;
    m.put_u8(a::HOOK_COUNTERS, u8::from(c.hook_counters))?;
    if epoch != 0 {
        m.put_u32(a::EPOCH, epoch)?;
    }
    m.put_u8(a::DELIVERY, u8::from(c.direct))?;
    if let Some(mac) = router_lladdr {
        m.put_binary(a::ROUTER_LLADDR, &mac)?;
    }
    Ok(())
}

struct GetConfig;

impl DoIt for GetConfig {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let cfg = *st.config.lock();
        let epoch = st.epoch();
        let lladdr = st.router_lladdr();
        req.reply(cmd::GET_CONFIG, |m| put_config(m, &cfg, epoch, lladdr))
    }
}

struct SetConfig;

impl DoIt for SetConfig {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let update = HostUpdate {
            router_addr: req.be32(a::ROUTER_ADDR).map(Ipv4Addr::from),
            public_addr: req.be32(a::PUBLIC_ADDR).map(Ipv4Addr::from),
            lan_name: req.string(a::LAN_IFNAME),
            read_only: req.attr(a::LAN_IFINDEX).is_some(),
            mode: req.u8(a::MODE),
            tcp_timeout: req.u32(a::TCP_TIMEOUT),
            udp_timeout: req.u32(a::UDP_TIMEOUT),
            port_block: req.u32(a::PORT_BLOCK),
            hook_counters: req.u8(a::HOOK_COUNTERS),
            delivery: req.u8(a::DELIVERY),
        };
        let lan = match update.lan_name().map_err(|e| reject(req, e))? {
            None => None,
            Some(n) => Some(
                req.net()
                    .ifindex_by_name(n.as_bytes_with_nul())
                    .ok_or_else(|| reject(req, ConfigError::unknown_interface(a::LAN_IFNAME)))?,
            ),
        };
        st.configure(req.net(), |cfg| {
            cfg.merged(&update, lan).map_err(|e| reject(req, e))
        })
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

struct GetStats;

impl DumpIt for GetStats {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        dump.indexed(
            cmd::GET_STATS,
            |i| st.stat(i),
            |m, (prefix, name, value)| {
                m.put_str(a::STAT_NAME, &[prefix, name])?;
                m.put_u64(a::STAT_VALUE, value, a::PAD)
            },
        )
    }
}

struct GetBlocks;

impl DumpIt for GetBlocks {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        dump.indexed(
            cmd::GET_BLOCKS,
            |i| st.block(i),
            |m, b| {
                m.put_u8(a::BLOCK_KIND, b.kind)?;
                m.put_u32(a::BLOCK_LOWEST, b.lowest)?;
                m.put_u32(a::BLOCK_COUNT, b.count)?;
                if let Some(e) = b.expires {
                    m.put_u32(a::BLOCK_EXPIRES, e)?;
                }
                if b.kind == block_kind::PORTS {
                    m.put_u32(a::BLOCK_USED, b.used)?;
                }
                Ok(())
            },
        )
    }
}

struct GetSptt;

impl DumpIt for GetSptt {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        let mut cursor = dump.cursor();
        while let Some((e, next)) = st.translation(cursor) {
            let added = dump.entry(cmd::GET_SPTT, |m| {
                m.put_u8(a::PROTO, e.proto)?;
                m.put_u16(a::LOCAL_PORT, e.local)?;
                m.put_u16(a::UNIQUE_PORT, e.unique)?;
                m.put_u32(a::IDLE, e.idle)?;
                m.put_u8(a::FLOW_STATE, e.state)
            })?;
            if !added {
                break;
            }
            cursor = next;
        }
        dump.set_cursor(cursor);
        Ok(())
    }
}

struct GetSas;

impl DumpIt for GetSas {
    fn dumpit(dump: &mut Dump<'_>) -> Result {
        let st = state(dump.net())?;
        dump.indexed(
            cmd::GET_SAS,
            |i| st.pap.sa_record(i),
            |m, r| {
                m.put_be32(a::PEER_ADDR, r.addr.octets())?;
                m.put_u32(a::SPI, r.spi)?;
                m.put_u8(
                    a::SA_STATE,
                    match r.state {
                        SaRecordState::Pending => sa_state::PENDING,
                        SaRecordState::Validated => sa_state::VALIDATED,
                        SaRecordState::Stale => sa_state::STALE,
                    },
                )
            },
        )
    }
}

fn kind(req: &Request<'_>) -> Result<u8> {
    match req.u8(a::BLOCK_KIND) {
        Some(k @ (block_kind::PORTS | block_kind::SPIS)) => Ok(k),
        Some(_) => {
            req.set_error(
                c"unknown BLOCK_KIND (1: ports, 2: SPIs)",
                Some(a::BLOCK_KIND),
            );
            Err(EINVAL)
        }
        None => {
            req.set_error(c"BLOCK_KIND is required", None);
            Err(EINVAL)
        }
    }
}

fn count(req: &Request<'_>) -> Result<u32> {
    req.u32(a::BLOCK_COUNT).ok_or_else(|| {
        req.set_error(c"BLOCK_COUNT is required", None);
        EINVAL
    })
}

struct RequestBlock;

impl DoIt for RequestBlock {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let kind = kind(req)?;
        let n = count(req)?;
        let max = if kind == block_kind::PORTS {
            255
        } else {
            65535
        };
        if n == 0 || n > max {
            req.set_error(
                c"a request asks for 1 to 255 ports or 1 to 65535 SPIs",
                Some(a::BLOCK_COUNT),
            );
            return Err(ERANGE);
        }
        st.request_now(req.net(), kind, n).inspect_err(|e| {
            if *e == ENOTCONN {
                req.set_error(c"the host is not configured yet", None);
            } else if *e == EBUSY {
                req.set_error(
                    c"another request is outstanding or the most blocks are held",
                    None,
                );
            }
        })
    }
}

struct ReleaseBlock;

impl DoIt for ReleaseBlock {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let kind = kind(req)?;
        let n = count(req)?;
        let Some(lowest) = req.u32(a::BLOCK_LOWEST) else {
            req.set_error(c"BLOCK_LOWEST is required", None);
            return Err(EINVAL);
        };
        st.release(req.net(), kind, lowest, n).inspect_err(|e| {
            if *e == ENOENT {
                req.set_error(c"no held block matches", Some(a::BLOCK_LOWEST));
            }
        })
    }
}

/// `SA_VALIDATE`, `SA_INVALIDATE`, `BLACKLIST_ADD`, `BLACKLIST_DEL`: the
/// module sends the PAP notice (queued, one transaction at a time).
struct SaCmd<const CMD: u8>;

impl<const CMD: u8> DoIt for SaCmd<CMD> {
    fn doit(req: &Request<'_>) -> Result {
        let st = state(req.net())?;
        let peer = req.be32(a::PEER_ADDR).map(Ipv4Addr::from);
        let spi = req.u32(a::SPI);
        let notice = match (CMD, peer, spi) {
            (cmd::SA_VALIDATE, Some(p), Some(s)) => SaNotice::Validate(p, s),
            (cmd::SA_INVALIDATE, Some(p), Some(s)) => SaNotice::Invalidate(p, s),
            (cmd::BLACKLIST_ADD, p, s) if p.is_some() || s.is_some() => {
                SaNotice::BlacklistAdd(p, s)
            }
            (cmd::BLACKLIST_DEL, p, s) if p.is_some() || s.is_some() => {
                SaNotice::BlacklistRemove(p, s)
            }
            (cmd::SA_VALIDATE | cmd::SA_INVALIDATE, _, _) => {
                req.set_error(c"PEER_ADDR and SPI are required", None);
                return Err(EINVAL);
            }
            _ => {
                req.set_error(c"PEER_ADDR and/or SPI is required", None);
                return Err(EINVAL);
            }
        };
        if st.active.load(crate::common::atomic::Relaxed) == 0 {
            req.set_error(c"the host is not configured yet", None);
            return Err(ENOTCONN);
        }
        st.pap.sa_notice(notice).map_err(|e| {
            let msg = match e {
                SaNoticeError::Stopped => c"the PAP client is stopped",
                SaNoticeError::Invalid => {
                    c"not a unicast address, an SPI below 256, or an empty blacklist entry"
                }
                SaNoticeError::NotHeld => c"the SPI is not in an SPI block the host holds",
                SaNoticeError::QueueFull => c"too many SA notices are waiting",
                SaNoticeError::RecordsFull => c"too many SA validations are recorded",
            };
            req.set_error(msg, None);
            Error::from_errno(-e.errno())
        })?;
        crate::ffi::pernet::Pernet::<HostNet>::kick(req.net(), 0);
        Ok(())
    }
}
