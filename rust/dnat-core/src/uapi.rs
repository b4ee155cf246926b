// SPDX-License-Identifier: GPL-2.0

//! The generic netlink interfaces of the dnat modules.
//!
//! The contract is the YNL specs `Documentation/netlink/specs/dnat_router.yaml`
//! and `dnat_host.yaml`; `include/uapi/linux/dnat_router.h` and `dnat_host.h`
//! are generated from them. This is the Rust side: `scripts/ynl-check.sh`
//! checks every name and value here against the specs (spec names in upper
//! case), and a unit test against the generated headers. See
//! `Documentation/networking/dnat-netlink.rst` for the meaning of every
//! command and attribute.
//!
//! Two families, one per module, both per network namespace (`netnsok`):
//!
//! * [`ROUTER_FAMILY`] (`dnat_router`) on the router,
//! * [`HOST_FAMILY`] (`dnat_host`) on a host.
//!
//! Commands that change state need `CAP_NET_ADMIN` in the user namespace that
//! owns the network namespace (`GENL_UNS_ADMIN_PERM`). Unknown attributes are
//! rejected (strict validation).

/// Name of the router family, NUL-terminated for the kernel.
pub const ROUTER_FAMILY: &core::ffi::CStr = c"dnat_router";
/// Name of the host family, NUL-terminated for the kernel.
pub const HOST_FAMILY: &core::ffi::CStr = c"dnat_host";
/// Version of both families.
pub const FAMILY_VERSION: u8 = 1;

/// Maximum length of an interface name, without the NUL (`IFNAMSIZ - 1`).
pub const IFNAME_MAX: usize = 15;

/// The router family's multicast group of events (`router_cmd::EVENT`
/// messages), NUL-terminated.
pub const ROUTER_MCGRP_EVENTS: &core::ffi::CStr = c"events";
/// The host family's multicast group of events (`host_cmd::EVENT`).
pub const HOST_MCGRP_EVENTS: &core::ffi::CStr = c"events";

/// Router family commands (`enum dnat_router_cmd`).
pub mod router_cmd {
    /// Reserved.
    pub const UNSPEC: u8 = 0;
    /// Read the configuration (doit). Reply carries the `router_attr` config attributes.
    pub const GET_CONFIG: u8 = 1;
    /// Change the configuration (doit, admin). Any subset of the settable attributes.
    pub const SET_CONFIG: u8 = 2;
    /// Dump the per-hook packet counters (dumpit), one message per hook.
    pub const GET_COUNTERS: u8 = 3;
    /// Dump the allocated blocks (dumpit), one message per block, with
    /// `HOST_ADDR`, `BLOCK_KIND`, `BLOCK_LOWEST`, `BLOCK_COUNT`,
    /// `BLOCK_EXPIRES`, and `HOST_REVOKED` (flag) for revoked hosts.
    pub const GET_BLOCKS: u8 = 4;
    /// Dump the PAP server's counters (dumpit), one message per counter,
    /// with `STAT_NAME` and `STAT_VALUE`.
    pub const GET_PAP_STATS: u8 = 5;
    /// Dump the hosts (dumpit), one message per host, with `HOST_ADDR`,
    /// `HOST_REVOKED` (flag), `HOST_PORTS`, `HOST_SPIS`, `HOST_IN_PACKETS`,
    /// `HOST_OUT_PACKETS`, `HOST_SPOOFED`, ..., `HOST_IN_BYTES`,
    /// `HOST_OUT_BYTES`.
    pub const GET_HOSTS: u8 = 6;
    /// Revoke a host (doit, admin): `HOST_ADDR`. Everything it holds is
    /// invalidated, it is told so, and it gets nothing until readmitted.
    pub const REVOKE_HOST: u8 = 7;
    /// Readmit a revoked host (doit, admin): `HOST_ADDR`.
    pub const READMIT_HOST: u8 = 8;
    /// Reset (doit, admin): invalidate every allocation, start a new epoch
    /// and broadcast invalidate-all on the LAN.
    pub const RESET: u8 = 9;
    /// Dump the established-SA table (dumpit), one message per SA, with
    /// `HOST_ADDR`, `PEER_ADDR`, `SPI`.
    pub const GET_SAS: u8 = 10;
    /// Validate an SA by hand (doit, admin): `HOST_ADDR`, `PEER_ADDR`,
    /// `SPI`, as the host's PAP 34/0 does.
    pub const SA_VALIDATE: u8 = 11;
    /// Invalidate an SA by hand (doit, admin): as `SA_VALIDATE`.
    pub const SA_INVALIDATE: u8 = 12;
    /// Dump the blacklist (dumpit), one message per entry, with
    /// `HOST_ADDR` and `PEER_ADDR` and/or `SPI` (absent: any).
    pub const GET_BLACKLIST: u8 = 13;
    /// Add a blacklist entry (doit, admin): `HOST_ADDR`, `PEER_ADDR`
    /// and/or `SPI`.
    pub const BLACKLIST_ADD: u8 = 14;
    /// Remove a blacklist entry (doit, admin): as `BLACKLIST_ADD`.
    pub const BLACKLIST_DEL: u8 = 15;
    /// Bind a block a host holds for `PIN_SECS` seconds (doit, admin):
    /// `HOST_ADDR`, `BLOCK_KIND`, `BLOCK_LOWEST`, `BLOCK_COUNT`,
    /// `PIN_SECS` (0 unpins). Used by the local CA for certified blocks.
    pub const PIN_BLOCK: u8 = 16;
    /// Give a host its own quota (doit, admin): `HOST_ADDR` with
    /// `QUOTA_PORTS` and/or `QUOTA_SPIS`; `HOST_ADDR` alone restores the
    /// default.
    pub const SET_QUOTA: u8 = 17;
    /// An event, multicast to the events group (never a request):
    /// `EVENT_TYPE` ([`super::router_event`]) and the attributes of that
    /// event.
    pub const EVENT: u8 = 18;
    /// Set how the router delivers to a host (doit, admin): `HOST_ADDR`,
    /// `DELIVERY` ([`super::delivery`]) and, for direct, `LLADDR` to bind
    /// (absent: learned from the host's next accepted PAP message).
    pub const SET_DELIVERY: u8 = 19;
    /// Highest command.
    pub const MAX: u8 = SET_DELIVERY;
}

/// `EVENT_TYPE` values of the router family (`enum dnat_router_event`).
pub mod router_event {
    /// A host was granted a block.
    pub const GRANTED: u8 = 1;
    /// A host renewed a block's lease.
    pub const RENEWED: u8 = 2;
    /// A host gave back a block, or everything.
    pub const RELEASED: u8 = 3;
    /// A block's lease ended.
    pub const EXPIRED: u8 = 4;
    /// A host was revoked.
    pub const REVOKED: u8 = 5;
    /// A host was readmitted.
    pub const READMITTED: u8 = 6;
    /// A request was refused with `over_quota`.
    pub const OVER_QUOTA: u8 = 7;
    /// A request was refused with `rate_limited`.
    pub const RATE_LIMITED: u8 = 8;
    /// The router was reset: a new epoch.
    pub const RESET: u8 = 9;
    /// An SA was validated.
    pub const SA_VALIDATED: u8 = 10;
    /// An SA was invalidated.
    pub const SA_INVALIDATED: u8 = 11;
    /// A blacklist entry was added.
    pub const BLACKLIST_ADDED: u8 = 12;
    /// A blacklist entry was removed.
    pub const BLACKLIST_REMOVED: u8 = 13;
    /// A drop counter rose fast.
    pub const FLOOD: u8 = 14;
    /// Events were lost: the queue was full.
    pub const OVERFLOW: u8 = 15;
}

/// `DELIVERY` values (`enum dnat_delivery`).
pub mod delivery {
    /// IP-in-IP from the router's LAN address; the default.
    pub const IPIP: u8 = 0;
    /// The unchanged packet to the host's link-layer address on the LAN
    /// device (IP-in-IP until one is bound).
    pub const DIRECT: u8 = 1;
}

/// `PAP_AUTH` values (`enum dnat_pap_auth`).
pub mod pap_auth_mode {
    /// Only authenticated PAP (and key requests) is served; the default.
    pub const REQUIRED: u8 = 0;
    /// Hosts that have never used a key are served without one.
    pub const OPTIONAL: u8 = 1;
}

/// `SA_POLICY` values.
pub mod sa_policy {
    /// Inbound ESP/AH is delivered only if its (source, SPI) was validated
    /// by the owning host; the default.
    pub const STRICT: u8 = 0;
    /// The reference behaviour: the SPI's owner gets it, whatever the
    /// source (blacklists still apply).
    pub const PERMISSIVE: u8 = 1;
}

/// `UNOWNED` values.
pub mod unowned {
    /// The router's own stack gets them (its own services); the default.
    pub const LOCAL: u8 = 0;
    /// They are dropped.
    pub const DROP: u8 = 1;
}

/// `BLOCK_KIND` values.
pub mod block_kind {
    /// TCP/UDP ports.
    pub const PORTS: u8 = 1;
    /// IPsec SPIs.
    pub const SPIS: u8 = 2;
}

/// Router family attributes (`enum dnat_router_attr`).
pub mod router_attr {
    /// Reserved.
    pub const UNSPEC: u16 = 0;
    /// LAN interface name (NUL-terminated string, at most 15 characters).
    pub const LAN_IFNAME: u16 = 1;
    /// WAN interface name (NUL-terminated string, at most 15 characters).
    pub const WAN_IFNAME: u16 = 2;
    /// LAN interface index (u32, read-only).
    pub const LAN_IFINDEX: u16 = 3;
    /// WAN interface index (u32, read-only).
    pub const WAN_IFINDEX: u16 = 4;
    /// Shared public IPv4 address (u32, network byte order).
    pub const PUBLIC_ADDR: u16 = 5;
    /// Lowest port of the port pool (u16).
    pub const PORT_MIN: u16 = 6;
    /// Highest port of the port pool (u16, inclusive).
    pub const PORT_MAX: u16 = 7;
    /// Lowest SPI of the SPI pool (u32, at least 256).
    pub const SPI_MIN: u16 = 8;
    /// Highest SPI of the SPI pool (u32, inclusive).
    pub const SPI_MAX: u16 = 9;
    /// Netfilter hook number (u32, `NF_INET_*`), in counter dumps.
    pub const HOOK: u16 = 10;
    /// Packets seen by a hook (u64), in counter dumps.
    pub const PACKETS: u16 = 11;
    /// Padding for 64-bit attributes.
    pub const PAD: u16 = 12;
    /// A host's LAN address (u32, network byte order), in block dumps.
    pub const HOST_ADDR: u16 = 13;
    /// Flag: the host is revoked, in block dumps.
    pub const HOST_REVOKED: u16 = 14;
    /// `block_kind` (u8), in block dumps.
    pub const BLOCK_KIND: u16 = 15;
    /// First port or SPI of a block (u32), in block dumps.
    pub const BLOCK_LOWEST: u16 = 16;
    /// Number of ports or SPIs of a block (u32), in block dumps.
    pub const BLOCK_COUNT: u16 = 17;
    /// Seconds until the block's lease expires (u32; absent: no expiry).
    pub const BLOCK_EXPIRES: u16 = 18;
    /// Name of a PAP counter (NUL-terminated string), in PAP stats dumps.
    pub const STAT_NAME: u16 = 19;
    /// Value of a PAP counter (u64), in PAP stats dumps.
    pub const STAT_VALUE: u16 = 20;
    /// Ports a host holds (u32), in host dumps.
    pub const HOST_PORTS: u16 = 21;
    /// SPIs a host holds (u32), in host dumps.
    pub const HOST_SPIS: u16 = 22;
    /// Packets delivered to a host from the Internet (u64), in host dumps.
    pub const HOST_IN_PACKETS: u16 = 23;
    /// Packets a host sent to the Internet (u64), in host dumps.
    pub const HOST_OUT_PACKETS: u16 = 24;
    /// Packets a host sent from ports it does not own (u64), in host dumps.
    pub const HOST_SPOOFED: u16 = 25;
    /// What happens to inbound packets nobody owns (u8, `unowned`): a
    /// configuration setting.
    pub const UNOWNED: u16 = 26;
    /// Most ports a host may hold at once (u32, at least 1): a setting.
    pub const QUOTA_PORTS: u16 = 27;
    /// Most SPIs a host may hold at once (u32, at least 1): a setting.
    pub const QUOTA_SPIS: u16 = 28;
    /// An SA peer's external address (u32, network byte order).
    pub const PEER_ADDR: u16 = 29;
    /// An SPI (u32).
    pub const SPI: u16 = 30;
    /// [`super::sa_policy`] (u8): a setting.
    pub const SA_POLICY: u16 = 31;
    /// Inbound ESP/AH for a host dropped by the SA checks (u64), in host
    /// dumps.
    pub const HOST_SA_DROPPED: u16 = 32;
    /// Seconds a block stays bound (u32): input of `PIN_BLOCK`, and in
    /// block dumps the seconds a pin has left.
    pub const PIN_SECS: u16 = 33;
    /// The host has its own quota (flag), in host dumps.
    pub const QUOTA_OWN: u16 = 34;
    /// Count packets at every hook point (u8 0/1, setting).
    pub const HOOK_COUNTERS: u16 = 35;
    /// Port and SPI requests a second the PAP server takes from one host
    /// (u32, setting; 0: no limit, at most 1000).
    pub const PAP_RATE: u16 = 36;
    /// [`super::pap_auth_mode`] (u8): a setting.
    pub const PAP_AUTH: u16 = 37;
    /// The host authenticates its PAP (flag), in host dumps.
    pub const HOST_AUTH: u16 = 38;
    /// Bytes delivered to a host (u64, the IPv4 total lengths of the
    /// packets of `HOST_IN_PACKETS`), in host dumps.
    pub const HOST_IN_BYTES: u16 = 39;
    /// Bytes a host sent to the Internet (u64, the IPv4 total lengths of
    /// the decapsulated packets of `HOST_OUT_PACKETS`), in host dumps.
    pub const HOST_OUT_BYTES: u16 = 40;
    /// What an event reports (u8, [`super::router_event`]).
    pub const EVENT_TYPE: u16 = 41;
    /// A name explaining an event (NUL-terminated string).
    pub const EVENT_REASON: u16 = 42;
    /// A number of an event (u64): drops a second, events lost.
    pub const EVENT_COUNT: u16 = 43;
    /// Events of the type not sent since the last one (u32).
    pub const EVENT_SUPPRESSED: u16 = 44;
    /// The router epoch (u32), in reset events.
    pub const EPOCH: u16 = 45;
    /// How the router delivers to a host (u8, [`super::delivery`]): input
    /// of `SET_DELIVERY`, in host dumps.
    pub const DELIVERY: u16 = 46;
    /// A host's Ethernet address (6 bytes): the one to bind in
    /// `SET_DELIVERY`, the bound one in host dumps.
    pub const LLADDR: u16 = 47;
    /// Highest attribute.
    pub const MAX: u16 = LLADDR;
}

/// Host family commands (`enum dnat_host_cmd`).
pub mod host_cmd {
    /// Reserved.
    pub const UNSPEC: u8 = 0;
    /// Read the configuration (doit).
    pub const GET_CONFIG: u8 = 1;
    /// Change the configuration (doit, admin).
    pub const SET_CONFIG: u8 = 2;
    /// Dump the per-hook packet counters (dumpit), one message per hook.
    pub const GET_COUNTERS: u8 = 3;
    /// Dump the data path and PAP client counters (dumpit), one message
    /// per counter with `STAT_NAME` and `STAT_VALUE`.
    pub const GET_STATS: u8 = 4;
    /// Dump the held blocks (dumpit): `BLOCK_KIND`, `BLOCK_LOWEST`,
    /// `BLOCK_COUNT`, `BLOCK_EXPIRES` (if leased), `BLOCK_USED`.
    pub const GET_BLOCKS: u8 = 5;
    /// Dump the translation table (dumpit): `PROTO`, `LOCAL_PORT`,
    /// `UNIQUE_PORT`, `IDLE`, `FLOW_STATE`.
    pub const GET_SPTT: u8 = 6;
    /// Ask the router for a block now (doit, admin): `BLOCK_KIND` and
    /// `BLOCK_COUNT`.
    pub const REQUEST: u8 = 7;
    /// Give a held block back (doit, admin): `BLOCK_KIND`, `BLOCK_LOWEST`,
    /// `BLOCK_COUNT`.
    pub const RELEASE: u8 = 8;
    /// Have the module validate an SA with the router (doit, admin):
    /// `PEER_ADDR`, `SPI` (an SPI of a held block). Queued; the module
    /// sends PAP 34/0 and re-validates after a router restart.
    pub const SA_VALIDATE: u8 = 9;
    /// Have the module invalidate an SA (doit, admin): as `SA_VALIDATE`,
    /// PAP 35/0.
    pub const SA_INVALIDATE: u8 = 10;
    /// Have the module blacklist a peer and/or SPI (doit, admin):
    /// `PEER_ADDR` and/or `SPI`, PAP 34/1.
    pub const BLACKLIST_ADD: u8 = 11;
    /// Have the module remove a blacklist entry (doit, admin): PAP 35/1.
    pub const BLACKLIST_DEL: u8 = 12;
    /// Dump the recorded SA validations (dumpit): `PEER_ADDR`, `SPI`,
    /// `SA_STATE`.
    pub const GET_SAS: u8 = 13;
    /// An event, multicast to the events group (never a request):
    /// `EVENT_TYPE` ([`super::host_event`]) and the attributes of that
    /// event.
    pub const EVENT: u8 = 14;
    /// Highest command.
    pub const MAX: u8 = EVENT;
}

/// `EVENT_TYPE` values of the host family (`enum dnat_host_event`).
pub mod host_event {
    /// The PAP client started.
    pub const STARTED: u8 = 1;
    /// The PAP client stopped.
    pub const STOPPED: u8 = 2;
    /// The router granted a block.
    pub const GRANTED: u8 = 3;
    /// The router renewed a held block's lease.
    pub const RENEWED: u8 = 4;
    /// A held block is gone (`EVENT_REASON` says why).
    pub const LOST: u8 = 5;
    /// The router refused a request, renewal or release.
    pub const REFUSED: u8 = 6;
    /// The router's epoch changed.
    pub const ROUTER_RESTART: u8 = 7;
    /// The router applied an SA validation.
    pub const SA_VALIDATED: u8 = 8;
    /// The router applied an SA invalidation.
    pub const SA_INVALIDATED: u8 = 9;
    /// The router applied a blacklist addition.
    pub const BLACKLIST_ADDED: u8 = 10;
    /// The router applied a blacklist removal.
    pub const BLACKLIST_REMOVED: u8 = 11;
    /// The router refused an SA or blacklist notice.
    pub const SA_REFUSED: u8 = 12;
    /// The host mode changed.
    pub const MODE_CHANGED: u8 = 13;
    /// The PAP client got a key.
    pub const KEY_INSTALLED: u8 = 14;
    /// Events were lost: the queue was full.
    pub const OVERFLOW: u8 = 15;
}

/// Host modes (`enum dnat_host_mode`), the `MODE` attribute.
pub mod host_mode {
    /// Translate ephemeral ports to granted ports (default).
    pub const TRANSLATE: u8 = 0;
    /// The stack uses granted ports itself; tunnel only.
    pub const NATIVE: u8 = 1;
}

/// States of recorded SA validations (`enum dnat_sa_state`).
pub mod sa_state {
    /// Validation sent, not yet acknowledged.
    pub const PENDING: u8 = 0;
    /// The router delivers the SA's packets.
    pub const VALIDATED: u8 = 1;
    /// The SPI was lost in a router restart.
    pub const STALE: u8 = 2;
}

/// Flow states in SPTT dumps (`FLOW_STATE` bits, `enum dnat_flow_state`).
pub mod flow_state {
    /// TCP FIN seen from the host.
    pub const FIN_OUT: u8 = 1;
    /// TCP FIN seen from the Internet.
    pub const FIN_IN: u8 = 2;
    /// TCP RST seen.
    pub const RST: u8 = 4;
}

/// Host family attributes (`enum dnat_host_attr`).
pub mod host_attr {
    /// Reserved.
    pub const UNSPEC: u16 = 0;
    /// The router's LAN address (u32, network byte order).
    pub const ROUTER_ADDR: u16 = 1;
    /// The shared public address (u32, network byte order).
    pub const PUBLIC_ADDR: u16 = 2;
    /// Netfilter hook number (u32), in counter dumps.
    pub const HOOK: u16 = 3;
    /// Packets seen by a hook (u64), in counter dumps.
    pub const PACKETS: u16 = 4;
    /// Padding for 64-bit attributes.
    pub const PAD: u16 = 5;
    /// The interface towards the router (NUL string, at most 15 bytes).
    pub const LAN_IFNAME: u16 = 6;
    /// Its index when it was set (u32, read-only).
    pub const LAN_IFINDEX: u16 = 7;
    /// [`super::host_mode`] (u8).
    pub const MODE: u16 = 8;
    /// Idle timeout of TCP translations, seconds (u32, 1..=86400).
    pub const TCP_TIMEOUT: u16 = 9;
    /// Idle timeout of UDP translations, seconds (u32, 1..=86400).
    pub const UDP_TIMEOUT: u16 = 10;
    /// Ports asked for per request (u32, 1..=255).
    pub const PORT_BLOCK: u16 = 11;
    /// The router epoch last seen (u32, output only).
    pub const EPOCH: u16 = 12;
    /// A counter's name (NUL string), in stats dumps.
    pub const STAT_NAME: u16 = 13;
    /// Its value (u64).
    pub const STAT_VALUE: u16 = 14;
    /// [`super::block_kind`] (u8).
    pub const BLOCK_KIND: u16 = 15;
    /// First port or SPI of a block (u32).
    pub const BLOCK_LOWEST: u16 = 16;
    /// Ports or SPIs in a block (u32).
    pub const BLOCK_COUNT: u16 = 17;
    /// Seconds left on a block's lease (u32, output only; absent: never).
    pub const BLOCK_EXPIRES: u16 = 18;
    /// Ports of a block in use by translations (u32, output only).
    pub const BLOCK_USED: u16 = 19;
    /// IP protocol of a translation (u8: 6 TCP, 17 UDP, 1 an ICMP query
    /// identifier).
    pub const PROTO: u16 = 20;
    /// The stack's own (ephemeral) port (u16).
    pub const LOCAL_PORT: u16 = 21;
    /// The granted port it is translated to (u16).
    pub const UNIQUE_PORT: u16 = 22;
    /// Seconds since the translation was last used (u32).
    pub const IDLE: u16 = 23;
    /// [`super::flow_state`] bits (u8).
    pub const FLOW_STATE: u16 = 24;
    /// An SA peer's external address (u32, network byte order).
    pub const PEER_ADDR: u16 = 25;
    /// An SPI (u32).
    pub const SPI: u16 = 26;
    /// [`super::sa_state`] of a recorded validation (u8, output only).
    pub const SA_STATE: u16 = 27;
    /// Count packets at every hook point (u8 0/1, setting).
    pub const HOOK_COUNTERS: u16 = 28;
    /// What an event reports (u8, [`super::host_event`]).
    pub const EVENT_TYPE: u16 = 29;
    /// A name explaining an event (NUL-terminated string).
    pub const EVENT_REASON: u16 = 30;
    /// A number of an event (u64): events lost.
    pub const EVENT_COUNT: u16 = 31;
    /// Delivery method (u8: 0 IP-in-IP, 1 direct; setting).
    pub const DELIVERY: u16 = 32;
    /// The router's link-layer address (6 bytes, output only).
    pub const ROUTER_LLADDR: u16 = 33;
    /// Highest attribute.
    pub const MAX: u16 = ROUTER_LLADDR;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::string::String;
    use std::vec::Vec;

    /// The uAPI headers, generated from the YNL specs.
    const HEADERS: [&str; 2] = [
        include_str!("../../../include/uapi/linux/dnat_router.h"),
        include_str!("../../../include/uapi/linux/dnat_host.h"),
    ];

    /// Every enum entry of the headers with its value (an entry without
    /// `= N` is one more than the one before, the first 0, as in C), and the
    /// `#define`s: numbers, `(__X - 1)` and strings (with their quotes).
    /// The `__*_MAX` counters are left out.
    fn header_values() -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut enums: BTreeMap<String, i64> = BTreeMap::new();
        for header in HEADERS {
            let mut next: Option<i64> = None;
            for line in header.lines() {
                let code = line.split("/*").next().unwrap_or("").trim();
                if code.starts_with("enum ") && code.ends_with('{') {
                    next = Some(0);
                } else if code.starts_with("};") {
                    next = None;
                } else if let Some(n) = next {
                    let entry = code.trim_end_matches(',');
                    if entry.is_empty() {
                        continue;
                    }
                    let (name, value) = match entry.split_once(" = ") {
                        Some((name, v)) => (name.trim(), v.trim().parse().unwrap()),
                        None => (entry, n),
                    };
                    next = Some(value + 1);
                    enums.insert(name.into(), value);
                } else if let Some(rest) = code.strip_prefix("#define ") {
                    // The include guard has no value.
                    let Some((name, value)) = rest.split_once(char::is_whitespace) else {
                        continue;
                    };
                    let value = value.trim();
                    let value = match value
                        .strip_prefix('(')
                        .and_then(|v| v.strip_suffix(" - 1)"))
                    {
                        Some(count) => std::format!("{}", enums[count] - 1),
                        None => value.into(),
                    };
                    out.insert(name.into(), value);
                }
            }
        }
        for (name, value) in enums {
            if !name.starts_with("__") {
                out.insert(name, std::format!("{value}"));
            }
        }
        out
    }

    #[test]
    fn headers_match_rust_constants() {
        let mut want: BTreeMap<String, String> = BTreeMap::new();
        let mut put = |name: &str, v: u64| {
            assert!(
                want.insert(name.into(), std::format!("{v}")).is_none(),
                "{name} twice"
            );
        };
        for (n, v) in [
            ("UNSPEC", router_cmd::UNSPEC),
            ("GET_CONFIG", router_cmd::GET_CONFIG),
            ("SET_CONFIG", router_cmd::SET_CONFIG),
            ("GET_COUNTERS", router_cmd::GET_COUNTERS),
            ("GET_BLOCKS", router_cmd::GET_BLOCKS),
            ("GET_PAP_STATS", router_cmd::GET_PAP_STATS),
            ("GET_HOSTS", router_cmd::GET_HOSTS),
            ("REVOKE_HOST", router_cmd::REVOKE_HOST),
            ("READMIT_HOST", router_cmd::READMIT_HOST),
            ("RESET", router_cmd::RESET),
            ("GET_SAS", router_cmd::GET_SAS),
            ("SA_VALIDATE", router_cmd::SA_VALIDATE),
            ("SA_INVALIDATE", router_cmd::SA_INVALIDATE),
            ("GET_BLACKLIST", router_cmd::GET_BLACKLIST),
            ("BLACKLIST_ADD", router_cmd::BLACKLIST_ADD),
            ("BLACKLIST_DEL", router_cmd::BLACKLIST_DEL),
            ("PIN_BLOCK", router_cmd::PIN_BLOCK),
            ("SET_QUOTA", router_cmd::SET_QUOTA),
            ("EVENT", router_cmd::EVENT),
            ("SET_DELIVERY", router_cmd::SET_DELIVERY),
            ("MAX", router_cmd::MAX),
        ] {
            put(&std::format!("DNAT_ROUTER_CMD_{n}"), v.into());
        }
        for (n, v) in [
            ("UNSPEC", host_cmd::UNSPEC),
            ("GET_CONFIG", host_cmd::GET_CONFIG),
            ("SET_CONFIG", host_cmd::SET_CONFIG),
            ("GET_COUNTERS", host_cmd::GET_COUNTERS),
            ("GET_STATS", host_cmd::GET_STATS),
            ("GET_BLOCKS", host_cmd::GET_BLOCKS),
            ("GET_SPTT", host_cmd::GET_SPTT),
            ("REQUEST", host_cmd::REQUEST),
            ("RELEASE", host_cmd::RELEASE),
            ("SA_VALIDATE", host_cmd::SA_VALIDATE),
            ("SA_INVALIDATE", host_cmd::SA_INVALIDATE),
            ("BLACKLIST_ADD", host_cmd::BLACKLIST_ADD),
            ("BLACKLIST_DEL", host_cmd::BLACKLIST_DEL),
            ("GET_SAS", host_cmd::GET_SAS),
            ("EVENT", host_cmd::EVENT),
            ("MAX", host_cmd::MAX),
        ] {
            put(&std::format!("DNAT_HOST_CMD_{n}"), v.into());
        }
        for (n, v) in [
            ("UNSPEC", router_attr::UNSPEC),
            ("LAN_IFNAME", router_attr::LAN_IFNAME),
            ("WAN_IFNAME", router_attr::WAN_IFNAME),
            ("LAN_IFINDEX", router_attr::LAN_IFINDEX),
            ("WAN_IFINDEX", router_attr::WAN_IFINDEX),
            ("PUBLIC_ADDR", router_attr::PUBLIC_ADDR),
            ("PORT_MIN", router_attr::PORT_MIN),
            ("PORT_MAX", router_attr::PORT_MAX),
            ("SPI_MIN", router_attr::SPI_MIN),
            ("SPI_MAX", router_attr::SPI_MAX),
            ("HOOK", router_attr::HOOK),
            ("PACKETS", router_attr::PACKETS),
            ("PAD", router_attr::PAD),
            ("HOST_ADDR", router_attr::HOST_ADDR),
            ("HOST_REVOKED", router_attr::HOST_REVOKED),
            ("BLOCK_KIND", router_attr::BLOCK_KIND),
            ("BLOCK_LOWEST", router_attr::BLOCK_LOWEST),
            ("BLOCK_COUNT", router_attr::BLOCK_COUNT),
            ("BLOCK_EXPIRES", router_attr::BLOCK_EXPIRES),
            ("STAT_NAME", router_attr::STAT_NAME),
            ("STAT_VALUE", router_attr::STAT_VALUE),
            ("HOST_PORTS", router_attr::HOST_PORTS),
            ("HOST_SPIS", router_attr::HOST_SPIS),
            ("HOST_IN_PACKETS", router_attr::HOST_IN_PACKETS),
            ("HOST_OUT_PACKETS", router_attr::HOST_OUT_PACKETS),
            ("HOST_SPOOFED", router_attr::HOST_SPOOFED),
            ("UNOWNED", router_attr::UNOWNED),
            ("QUOTA_PORTS", router_attr::QUOTA_PORTS),
            ("QUOTA_SPIS", router_attr::QUOTA_SPIS),
            ("PEER_ADDR", router_attr::PEER_ADDR),
            ("SPI", router_attr::SPI),
            ("SA_POLICY", router_attr::SA_POLICY),
            ("HOST_SA_DROPPED", router_attr::HOST_SA_DROPPED),
            ("PIN_SECS", router_attr::PIN_SECS),
            ("QUOTA_OWN", router_attr::QUOTA_OWN),
            ("HOOK_COUNTERS", router_attr::HOOK_COUNTERS),
            ("PAP_RATE", router_attr::PAP_RATE),
            ("PAP_AUTH", router_attr::PAP_AUTH),
            ("HOST_AUTH", router_attr::HOST_AUTH),
            ("HOST_IN_BYTES", router_attr::HOST_IN_BYTES),
            ("HOST_OUT_BYTES", router_attr::HOST_OUT_BYTES),
            ("EVENT_TYPE", router_attr::EVENT_TYPE),
            ("EVENT_REASON", router_attr::EVENT_REASON),
            ("EVENT_COUNT", router_attr::EVENT_COUNT),
            ("EVENT_SUPPRESSED", router_attr::EVENT_SUPPRESSED),
            ("EPOCH", router_attr::EPOCH),
            ("DELIVERY", router_attr::DELIVERY),
            ("LLADDR", router_attr::LLADDR),
            ("MAX", router_attr::MAX),
        ] {
            put(&std::format!("DNAT_ROUTER_A_{n}"), v.into());
        }
        for (n, v) in [
            ("UNSPEC", host_attr::UNSPEC),
            ("ROUTER_ADDR", host_attr::ROUTER_ADDR),
            ("PUBLIC_ADDR", host_attr::PUBLIC_ADDR),
            ("HOOK", host_attr::HOOK),
            ("PACKETS", host_attr::PACKETS),
            ("PAD", host_attr::PAD),
            ("LAN_IFNAME", host_attr::LAN_IFNAME),
            ("LAN_IFINDEX", host_attr::LAN_IFINDEX),
            ("MODE", host_attr::MODE),
            ("TCP_TIMEOUT", host_attr::TCP_TIMEOUT),
            ("UDP_TIMEOUT", host_attr::UDP_TIMEOUT),
            ("PORT_BLOCK", host_attr::PORT_BLOCK),
            ("EPOCH", host_attr::EPOCH),
            ("STAT_NAME", host_attr::STAT_NAME),
            ("STAT_VALUE", host_attr::STAT_VALUE),
            ("BLOCK_KIND", host_attr::BLOCK_KIND),
            ("BLOCK_LOWEST", host_attr::BLOCK_LOWEST),
            ("BLOCK_COUNT", host_attr::BLOCK_COUNT),
            ("BLOCK_EXPIRES", host_attr::BLOCK_EXPIRES),
            ("BLOCK_USED", host_attr::BLOCK_USED),
            ("PROTO", host_attr::PROTO),
            ("LOCAL_PORT", host_attr::LOCAL_PORT),
            ("UNIQUE_PORT", host_attr::UNIQUE_PORT),
            ("IDLE", host_attr::IDLE),
            ("FLOW_STATE", host_attr::FLOW_STATE),
            ("PEER_ADDR", host_attr::PEER_ADDR),
            ("SPI", host_attr::SPI),
            ("SA_STATE", host_attr::SA_STATE),
            ("HOOK_COUNTERS", host_attr::HOOK_COUNTERS),
            ("EVENT_TYPE", host_attr::EVENT_TYPE),
            ("EVENT_REASON", host_attr::EVENT_REASON),
            ("EVENT_COUNT", host_attr::EVENT_COUNT),
            ("DELIVERY", host_attr::DELIVERY),
            ("ROUTER_LLADDR", host_attr::ROUTER_LLADDR),
            ("MAX", host_attr::MAX),
        ] {
            put(&std::format!("DNAT_HOST_A_{n}"), v.into());
        }
        for (n, v) in [
            ("DNAT_BLOCK_PORTS", block_kind::PORTS),
            ("DNAT_BLOCK_SPIS", block_kind::SPIS),
            ("DNAT_UNOWNED_LOCAL", unowned::LOCAL),
            ("DNAT_UNOWNED_DROP", unowned::DROP),
            ("DNAT_SA_POLICY_STRICT", sa_policy::STRICT),
            ("DNAT_SA_POLICY_PERMISSIVE", sa_policy::PERMISSIVE),
            ("DNAT_PAP_AUTH_REQUIRED", pap_auth_mode::REQUIRED),
            ("DNAT_PAP_AUTH_OPTIONAL", pap_auth_mode::OPTIONAL),
            ("DNAT_DELIVERY_IPIP", delivery::IPIP),
            ("DNAT_DELIVERY_DIRECT", delivery::DIRECT),
            ("DNAT_HOST_MODE_TRANSLATE", host_mode::TRANSLATE),
            ("DNAT_HOST_MODE_NATIVE", host_mode::NATIVE),
            ("DNAT_SA_PENDING", sa_state::PENDING),
            ("DNAT_SA_VALIDATED", sa_state::VALIDATED),
            ("DNAT_SA_STALE", sa_state::STALE),
            ("DNAT_FLOW_FIN_OUT", flow_state::FIN_OUT),
            ("DNAT_FLOW_FIN_IN", flow_state::FIN_IN),
            ("DNAT_FLOW_RST", flow_state::RST),
            ("DNAT_ROUTER_EVENT_GRANTED", router_event::GRANTED),
            ("DNAT_ROUTER_EVENT_RENEWED", router_event::RENEWED),
            ("DNAT_ROUTER_EVENT_RELEASED", router_event::RELEASED),
            ("DNAT_ROUTER_EVENT_EXPIRED", router_event::EXPIRED),
            ("DNAT_ROUTER_EVENT_REVOKED", router_event::REVOKED),
            ("DNAT_ROUTER_EVENT_READMITTED", router_event::READMITTED),
            ("DNAT_ROUTER_EVENT_OVER_QUOTA", router_event::OVER_QUOTA),
            ("DNAT_ROUTER_EVENT_RATE_LIMITED", router_event::RATE_LIMITED),
            ("DNAT_ROUTER_EVENT_RESET", router_event::RESET),
            ("DNAT_ROUTER_EVENT_SA_VALIDATED", router_event::SA_VALIDATED),
            (
                "DNAT_ROUTER_EVENT_SA_INVALIDATED",
                router_event::SA_INVALIDATED,
            ),
            (
                "DNAT_ROUTER_EVENT_BLACKLIST_ADDED",
                router_event::BLACKLIST_ADDED,
            ),
            (
                "DNAT_ROUTER_EVENT_BLACKLIST_REMOVED",
                router_event::BLACKLIST_REMOVED,
            ),
            ("DNAT_ROUTER_EVENT_FLOOD", router_event::FLOOD),
            ("DNAT_ROUTER_EVENT_OVERFLOW", router_event::OVERFLOW),
            ("DNAT_HOST_EVENT_STARTED", host_event::STARTED),
            ("DNAT_HOST_EVENT_STOPPED", host_event::STOPPED),
            ("DNAT_HOST_EVENT_GRANTED", host_event::GRANTED),
            ("DNAT_HOST_EVENT_RENEWED", host_event::RENEWED),
            ("DNAT_HOST_EVENT_LOST", host_event::LOST),
            ("DNAT_HOST_EVENT_REFUSED", host_event::REFUSED),
            ("DNAT_HOST_EVENT_ROUTER_RESTART", host_event::ROUTER_RESTART),
            ("DNAT_HOST_EVENT_SA_VALIDATED", host_event::SA_VALIDATED),
            ("DNAT_HOST_EVENT_SA_INVALIDATED", host_event::SA_INVALIDATED),
            (
                "DNAT_HOST_EVENT_BLACKLIST_ADDED",
                host_event::BLACKLIST_ADDED,
            ),
            (
                "DNAT_HOST_EVENT_BLACKLIST_REMOVED",
                host_event::BLACKLIST_REMOVED,
            ),
            ("DNAT_HOST_EVENT_SA_REFUSED", host_event::SA_REFUSED),
            ("DNAT_HOST_EVENT_MODE_CHANGED", host_event::MODE_CHANGED),
            ("DNAT_HOST_EVENT_KEY_INSTALLED", host_event::KEY_INSTALLED),
            ("DNAT_HOST_EVENT_OVERFLOW", host_event::OVERFLOW),
            ("DNAT_ROUTER_GENL_VERSION", FAMILY_VERSION),
            ("DNAT_HOST_GENL_VERSION", FAMILY_VERSION),
        ] {
            put(n, v.into());
        }
        put("DNAT_IFNAME_MAX", IFNAME_MAX as u64);
        let names = [
            ("DNAT_ROUTER_GENL_NAME", ROUTER_FAMILY),
            ("DNAT_HOST_GENL_NAME", HOST_FAMILY),
            ("DNAT_ROUTER_MCGRP_EVENTS", ROUTER_MCGRP_EVENTS),
            ("DNAT_HOST_MCGRP_EVENTS", HOST_MCGRP_EVENTS),
        ];
        for (n, family) in names {
            let quoted = std::format!("\"{}\"", family.to_str().unwrap());
            want.insert(n.into(), quoted);
        }
        // Every value of the headers, and nothing else.
        let have = header_values();
        for (name, v) in &want {
            assert_eq!(have.get(name), Some(v), "{name}");
        }
        let extra: Vec<&String> = have.keys().filter(|n| !want.contains_key(*n)).collect();
        assert!(extra.is_empty(), "not checked here: {extra:?}");
        assert_eq!(ROUTER_FAMILY.to_bytes(), b"dnat_router");
        assert_eq!(HOST_FAMILY.to_bytes(), b"dnat_host");
    }

    #[test]
    fn implicit_enum_values_count_up() {
        // The generator writes "= N" only where a value does not follow
        // the one before: the parser must count like C.
        let v = header_values();
        assert_eq!(v["DNAT_ROUTER_A_UNSPEC"], "0");
        assert_eq!(v["DNAT_ROUTER_A_LAN_IFNAME"], "1");
        assert_eq!(v["DNAT_BLOCK_SPIS"], "2");
        assert_eq!(v["DNAT_FLOW_RST"], "4");
    }
}
