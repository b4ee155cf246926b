// SPDX-License-Identifier: GPL-2.0

//! The generic netlink interfaces of the dnat modules.
//!
//! This is the Rust side of `include/uapi/linux/dnat.h`; a unit test checks
//! that both agree. See `Documentation/networking/dnat-netlink.rst` for the
//! meaning of every command and attribute.
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
    /// `HOST_OUT_PACKETS`, `HOST_SPOOFED`.
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
    /// Highest command.
    pub const MAX: u8 = SET_QUOTA;
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
    /// Highest attribute.
    pub const MAX: u16 = HOST_AUTH;
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
    /// Highest command.
    pub const MAX: u8 = GET_SAS;
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
    /// IP protocol of a translation (u8: 6 TCP, 17 UDP).
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
    /// Highest attribute.
    pub const MAX: u16 = HOOK_COUNTERS;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    const HEADER: &str = include_str!("../../../include/uapi/linux/dnat.h");

    /// `NAME = value` pairs of the header's enums and the `MAX` macros.
    fn header_values() -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let mut last_max: Option<String> = None;
        for line in HEADER.lines() {
            let code = line.split("/*").next().unwrap_or("").trim();
            if let Some((name, value)) = code.trim_end_matches(',').split_once(" = ") {
                out.push((name.trim().into(), value.trim().parse().unwrap()));
            } else if let Some(rest) = code.strip_prefix("__") {
                last_max = Some(String::from(rest.trim_end_matches(',')));
            } else if code.starts_with("};") {
                if let (Some(m), Some((_, v))) = (last_max.take(), out.last().cloned()) {
                    out.push((m, v));
                }
            }
        }
        out
    }

    fn value(name: &str) -> i64 {
        header_values()
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not in dnat.h"))
            .1
    }

    #[test]
    fn header_matches_rust_constants() {
        let cmds = [
            ("DNAT_ROUTER_CMD_GET_CONFIG", router_cmd::GET_CONFIG),
            ("DNAT_ROUTER_CMD_SET_CONFIG", router_cmd::SET_CONFIG),
            ("DNAT_ROUTER_CMD_GET_COUNTERS", router_cmd::GET_COUNTERS),
            ("DNAT_ROUTER_CMD_GET_BLOCKS", router_cmd::GET_BLOCKS),
            ("DNAT_ROUTER_CMD_GET_PAP_STATS", router_cmd::GET_PAP_STATS),
            ("DNAT_ROUTER_CMD_GET_HOSTS", router_cmd::GET_HOSTS),
            ("DNAT_ROUTER_CMD_REVOKE_HOST", router_cmd::REVOKE_HOST),
            ("DNAT_ROUTER_CMD_READMIT_HOST", router_cmd::READMIT_HOST),
            ("DNAT_ROUTER_CMD_RESET", router_cmd::RESET),
            ("DNAT_ROUTER_CMD_GET_SAS", router_cmd::GET_SAS),
            ("DNAT_ROUTER_CMD_SA_VALIDATE", router_cmd::SA_VALIDATE),
            ("DNAT_ROUTER_CMD_SA_INVALIDATE", router_cmd::SA_INVALIDATE),
            ("DNAT_ROUTER_CMD_GET_BLACKLIST", router_cmd::GET_BLACKLIST),
            ("DNAT_ROUTER_CMD_BLACKLIST_ADD", router_cmd::BLACKLIST_ADD),
            ("DNAT_ROUTER_CMD_BLACKLIST_DEL", router_cmd::BLACKLIST_DEL),
            ("DNAT_ROUTER_CMD_PIN_BLOCK", router_cmd::PIN_BLOCK),
            ("DNAT_ROUTER_CMD_SET_QUOTA", router_cmd::SET_QUOTA),
            ("DNAT_ROUTER_CMD_MAX", router_cmd::MAX),
            ("DNAT_HOST_CMD_GET_CONFIG", host_cmd::GET_CONFIG),
            ("DNAT_HOST_CMD_SET_CONFIG", host_cmd::SET_CONFIG),
            ("DNAT_HOST_CMD_GET_COUNTERS", host_cmd::GET_COUNTERS),
            ("DNAT_HOST_CMD_GET_STATS", host_cmd::GET_STATS),
            ("DNAT_HOST_CMD_GET_BLOCKS", host_cmd::GET_BLOCKS),
            ("DNAT_HOST_CMD_GET_SPTT", host_cmd::GET_SPTT),
            ("DNAT_HOST_CMD_REQUEST", host_cmd::REQUEST),
            ("DNAT_HOST_CMD_RELEASE", host_cmd::RELEASE),
            ("DNAT_HOST_CMD_SA_VALIDATE", host_cmd::SA_VALIDATE),
            ("DNAT_HOST_CMD_SA_INVALIDATE", host_cmd::SA_INVALIDATE),
            ("DNAT_HOST_CMD_BLACKLIST_ADD", host_cmd::BLACKLIST_ADD),
            ("DNAT_HOST_CMD_BLACKLIST_DEL", host_cmd::BLACKLIST_DEL),
            ("DNAT_HOST_CMD_GET_SAS", host_cmd::GET_SAS),
            ("DNAT_HOST_CMD_MAX", host_cmd::MAX),
        ];
        for (n, v) in cmds {
            assert_eq!(value(n), i64::from(v), "{n}");
        }
        let attrs = [
            ("DNAT_ROUTER_A_LAN_IFNAME", router_attr::LAN_IFNAME),
            ("DNAT_ROUTER_A_WAN_IFNAME", router_attr::WAN_IFNAME),
            ("DNAT_ROUTER_A_LAN_IFINDEX", router_attr::LAN_IFINDEX),
            ("DNAT_ROUTER_A_WAN_IFINDEX", router_attr::WAN_IFINDEX),
            ("DNAT_ROUTER_A_PUBLIC_ADDR", router_attr::PUBLIC_ADDR),
            ("DNAT_ROUTER_A_PORT_MIN", router_attr::PORT_MIN),
            ("DNAT_ROUTER_A_PORT_MAX", router_attr::PORT_MAX),
            ("DNAT_ROUTER_A_SPI_MIN", router_attr::SPI_MIN),
            ("DNAT_ROUTER_A_SPI_MAX", router_attr::SPI_MAX),
            ("DNAT_ROUTER_A_HOOK", router_attr::HOOK),
            ("DNAT_ROUTER_A_PACKETS", router_attr::PACKETS),
            ("DNAT_ROUTER_A_PAD", router_attr::PAD),
            ("DNAT_ROUTER_A_HOST_ADDR", router_attr::HOST_ADDR),
            ("DNAT_ROUTER_A_HOST_REVOKED", router_attr::HOST_REVOKED),
            ("DNAT_ROUTER_A_BLOCK_KIND", router_attr::BLOCK_KIND),
            ("DNAT_ROUTER_A_BLOCK_LOWEST", router_attr::BLOCK_LOWEST),
            ("DNAT_ROUTER_A_BLOCK_COUNT", router_attr::BLOCK_COUNT),
            ("DNAT_ROUTER_A_BLOCK_EXPIRES", router_attr::BLOCK_EXPIRES),
            ("DNAT_ROUTER_A_STAT_NAME", router_attr::STAT_NAME),
            ("DNAT_ROUTER_A_STAT_VALUE", router_attr::STAT_VALUE),
            ("DNAT_ROUTER_A_HOST_PORTS", router_attr::HOST_PORTS),
            ("DNAT_ROUTER_A_HOST_SPIS", router_attr::HOST_SPIS),
            (
                "DNAT_ROUTER_A_HOST_IN_PACKETS",
                router_attr::HOST_IN_PACKETS,
            ),
            (
                "DNAT_ROUTER_A_HOST_OUT_PACKETS",
                router_attr::HOST_OUT_PACKETS,
            ),
            ("DNAT_ROUTER_A_HOST_SPOOFED", router_attr::HOST_SPOOFED),
            ("DNAT_ROUTER_A_UNOWNED", router_attr::UNOWNED),
            ("DNAT_ROUTER_A_QUOTA_PORTS", router_attr::QUOTA_PORTS),
            ("DNAT_ROUTER_A_QUOTA_SPIS", router_attr::QUOTA_SPIS),
            ("DNAT_ROUTER_A_PEER_ADDR", router_attr::PEER_ADDR),
            ("DNAT_ROUTER_A_SPI", router_attr::SPI),
            ("DNAT_ROUTER_A_SA_POLICY", router_attr::SA_POLICY),
            (
                "DNAT_ROUTER_A_HOST_SA_DROPPED",
                router_attr::HOST_SA_DROPPED,
            ),
            ("DNAT_ROUTER_A_PIN_SECS", router_attr::PIN_SECS),
            ("DNAT_ROUTER_A_QUOTA_OWN", router_attr::QUOTA_OWN),
            ("DNAT_ROUTER_A_HOOK_COUNTERS", router_attr::HOOK_COUNTERS),
            ("DNAT_ROUTER_A_PAP_RATE", router_attr::PAP_RATE),
            ("DNAT_ROUTER_A_PAP_AUTH", router_attr::PAP_AUTH),
            ("DNAT_ROUTER_A_HOST_AUTH", router_attr::HOST_AUTH),
            ("DNAT_ROUTER_A_MAX", router_attr::MAX),
            ("DNAT_HOST_A_ROUTER_ADDR", host_attr::ROUTER_ADDR),
            ("DNAT_HOST_A_PUBLIC_ADDR", host_attr::PUBLIC_ADDR),
            ("DNAT_HOST_A_HOOK", host_attr::HOOK),
            ("DNAT_HOST_A_PACKETS", host_attr::PACKETS),
            ("DNAT_HOST_A_PAD", host_attr::PAD),
            ("DNAT_HOST_A_LAN_IFNAME", host_attr::LAN_IFNAME),
            ("DNAT_HOST_A_LAN_IFINDEX", host_attr::LAN_IFINDEX),
            ("DNAT_HOST_A_MODE", host_attr::MODE),
            ("DNAT_HOST_A_TCP_TIMEOUT", host_attr::TCP_TIMEOUT),
            ("DNAT_HOST_A_UDP_TIMEOUT", host_attr::UDP_TIMEOUT),
            ("DNAT_HOST_A_PORT_BLOCK", host_attr::PORT_BLOCK),
            ("DNAT_HOST_A_EPOCH", host_attr::EPOCH),
            ("DNAT_HOST_A_STAT_NAME", host_attr::STAT_NAME),
            ("DNAT_HOST_A_STAT_VALUE", host_attr::STAT_VALUE),
            ("DNAT_HOST_A_BLOCK_KIND", host_attr::BLOCK_KIND),
            ("DNAT_HOST_A_BLOCK_LOWEST", host_attr::BLOCK_LOWEST),
            ("DNAT_HOST_A_BLOCK_COUNT", host_attr::BLOCK_COUNT),
            ("DNAT_HOST_A_BLOCK_EXPIRES", host_attr::BLOCK_EXPIRES),
            ("DNAT_HOST_A_BLOCK_USED", host_attr::BLOCK_USED),
            ("DNAT_HOST_A_PROTO", host_attr::PROTO),
            ("DNAT_HOST_A_LOCAL_PORT", host_attr::LOCAL_PORT),
            ("DNAT_HOST_A_UNIQUE_PORT", host_attr::UNIQUE_PORT),
            ("DNAT_HOST_A_IDLE", host_attr::IDLE),
            ("DNAT_HOST_A_FLOW_STATE", host_attr::FLOW_STATE),
            ("DNAT_HOST_A_PEER_ADDR", host_attr::PEER_ADDR),
            ("DNAT_HOST_A_SPI", host_attr::SPI),
            ("DNAT_HOST_A_SA_STATE", host_attr::SA_STATE),
            ("DNAT_HOST_A_HOOK_COUNTERS", host_attr::HOOK_COUNTERS),
            ("DNAT_HOST_A_MAX", host_attr::MAX),
        ];
        for (n, v) in attrs {
            assert_eq!(value(n), i64::from(v), "{n}");
        }
        for (n, v) in [
            ("DNAT_PAP_AUTH_REQUIRED", pap_auth_mode::REQUIRED),
            ("DNAT_PAP_AUTH_OPTIONAL", pap_auth_mode::OPTIONAL),
        ] {
            assert_eq!(value(n), i64::from(v), "{n}");
        }
        // Every enum value in the header is checked above (plus UNSPECs and
        // the small enums: block kinds, unowned, SA policies, PAP auth
        // modes, host modes, SA states, flow states).
        let listed = cmds.len() + attrs.len() + 4 + 2 + 2 + 2 + 2 + 2 + 3 + 3;
        assert_eq!(header_values().len(), listed);
    }

    #[test]
    fn header_names_and_version() {
        assert!(HEADER.contains("#define DNAT_ROUTER_GENL_NAME \"dnat_router\""));
        assert!(HEADER.contains("#define DNAT_HOST_GENL_NAME \"dnat_host\""));
        assert_eq!(ROUTER_FAMILY.to_bytes(), b"dnat_router");
        assert_eq!(HOST_FAMILY.to_bytes(), b"dnat_host");
        assert!(HEADER.contains(&std::format!(
            "#define DNAT_GENL_VERSION {FAMILY_VERSION}\n"
        )));
        assert!(HEADER.contains(&std::format!("#define DNAT_IFNAME_MAX {IFNAME_MAX}\n")));
        assert_eq!(value("DNAT_BLOCK_PORTS"), i64::from(block_kind::PORTS));
        assert_eq!(value("DNAT_BLOCK_SPIS"), i64::from(block_kind::SPIS));
        assert_eq!(value("DNAT_UNOWNED_LOCAL"), i64::from(unowned::LOCAL));
        assert_eq!(value("DNAT_UNOWNED_DROP"), i64::from(unowned::DROP));
        assert_eq!(
            value("DNAT_HOST_MODE_TRANSLATE"),
            i64::from(host_mode::TRANSLATE)
        );
        assert_eq!(value("DNAT_HOST_MODE_NATIVE"), i64::from(host_mode::NATIVE));
        assert_eq!(value("DNAT_FLOW_FIN_OUT"), i64::from(flow_state::FIN_OUT));
        assert_eq!(value("DNAT_FLOW_FIN_IN"), i64::from(flow_state::FIN_IN));
        assert_eq!(value("DNAT_FLOW_RST"), i64::from(flow_state::RST));
        assert_eq!(value("DNAT_SA_PENDING"), i64::from(sa_state::PENDING));
        assert_eq!(value("DNAT_SA_VALIDATED"), i64::from(sa_state::VALIDATED));
        assert_eq!(value("DNAT_SA_STALE"), i64::from(sa_state::STALE));
    }
}
