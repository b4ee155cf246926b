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
    /// Highest command.
    pub const MAX: u8 = GET_COUNTERS;
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
    /// Highest attribute.
    pub const MAX: u16 = PAD;
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
    /// Highest command.
    pub const MAX: u8 = GET_COUNTERS;
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
    /// Highest attribute.
    pub const MAX: u16 = PAD;
}
