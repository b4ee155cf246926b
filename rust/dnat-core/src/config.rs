// SPDX-License-Identifier: GPL-2.0

//! Router and host configuration: the values, the partial updates that the
//! `SET_CONFIG` commands carry, and their validation.
//!
//! Validation is all here, independent of the kernel, so that the modules,
//! `cargo test` and the CLI agree on what is accepted. The only check left to
//! the kernel is whether a named interface exists in the caller's namespace.
//! An update is checked as a whole before anything is applied: a rejected
//! update changes nothing.

use core::ffi::CStr;
use core::net::Ipv4Addr;

use super::uapi::{
    host_attr, host_mode, pap_auth_mode, router_attr, sa_policy, unowned, IFNAME_MAX,
};

/// `EINVAL`: malformed or contradictory value.
pub const EINVAL: i32 = 22;
/// `ERANGE`: a value outside what may be allocated.
pub const ERANGE: i32 = 34;
/// `ENODEV`: no such interface.
pub const ENODEV: i32 = 19;

/// Lowest SPI that may be allocated; 1..255 are reserved by IANA and 0 means
/// "no SA" (RFC 4303 section 2.1).
pub const SPI_FIRST_ALLOCATABLE: u32 = 256;

/// Why a configuration was refused: errno, a message for the netlink extended
/// ack, and the attribute at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError {
    /// Positive errno value (`EINVAL`, `ERANGE`, `ENODEV`).
    pub errno: i32,
    /// Static message for the extended ack.
    pub msg: &'static CStr,
    /// The attribute that caused the error, if one did.
    pub attr: Option<u16>,
}

impl ConfigError {
    /// The named interface does not exist in the caller's namespace.
    pub const fn unknown_interface(attr: u16) -> Self {
        Self::new(ENODEV, c"no such interface in this network namespace", attr)
    }

    const fn new(errno: i32, msg: &'static CStr, attr: u16) -> Self {
        Self {
            errno,
            msg,
            attr: Some(attr),
        }
    }
}

/// An inclusive range `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range<T> {
    /// Lowest value.
    pub min: T,
    /// Highest value (inclusive).
    pub max: T,
}

impl Range<u16> {
    /// Number of values in the range (0 if inverted).
    pub fn count(&self) -> u32 {
        if self.max < self.min {
            return 0;
        }
        u32::from(self.max) - u32::from(self.min) + 1
    }
}

impl Range<u32> {
    /// Number of values in the range (0 if inverted).
    pub fn count(&self) -> u64 {
        if self.max < self.min {
            return 0;
        }
        u64::from(self.max) - u64::from(self.min) + 1
    }
}

/// An interface name as the kernel accepts it (`dev_valid_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfName {
    bytes: [u8; IFNAME_MAX + 1],
    len: u8,
}

impl IfName {
    /// Checks and copies a name (without NUL).
    pub fn new(name: &[u8]) -> Option<Self> {
        if name.is_empty() || name.len() > IFNAME_MAX || name == b"." || name == b".." {
            return None;
        }
        if name
            .iter()
            .any(|&c| c == b'/' || c == b':' || c == 0 || c == 0x0b || c.is_ascii_whitespace())
        {
            return None;
        }
        let mut bytes = [0u8; IFNAME_MAX + 1];
        bytes[..name.len()].copy_from_slice(name);
        Some(Self {
            bytes,
            len: name.len() as u8,
        })
    }

    /// The name without NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The name with its NUL terminator.
    pub fn as_bytes_with_nul(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len) + 1]
    }
}

/// An interface the configuration refers to: its name and the index it had
/// when the configuration was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iface {
    /// Interface name.
    pub name: IfName,
    /// Interface index at configuration time.
    pub ifindex: u32,
}

/// The router's configuration. `None` means "not configured yet".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterConfig {
    /// The interface towards the hosts.
    pub lan: Option<Iface>,
    /// The interface towards the Internet.
    pub wan: Option<Iface>,
    /// The shared public address.
    pub public_addr: Option<Ipv4Addr>,
    /// Ports that may be allocated to hosts.
    pub ports: Option<Range<u16>>,
    /// SPIs that may be allocated to hosts.
    pub spis: Option<Range<u32>>,
    /// Drop inbound packets for ports and SPIs nobody owns (instead of
    /// leaving them to the router's own stack).
    pub drop_unowned: bool,
    /// Deliver ESP/AH on the SPI alone (the reference's behaviour), not
    /// only for validated (source, SPI) pairs.
    pub sa_permissive: bool,
    /// Count packets at every IPv4 hook point (`GET_COUNTERS`): hooks of
    /// their own at the points the data path does not use. Off by default,
    /// as conntrack's accounting is: each costs a hook call per packet.
    pub hook_counters: bool,
    /// Port and SPI requests a second the PAP server takes from one host
    /// (0: no limit; the default).
    pub pap_rate: u32,
    /// Serve PAP from hosts without a key too (`pap-auth optional`);
    /// `false`, the default, requires authentication.
    pub pap_auth_optional: bool,
}

/// Highest `PAP_RATE`.
pub const PAP_RATE_MAX: u32 = 1000;

/// A `SET_CONFIG` request to the router, as parsed from netlink attributes,
/// before validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterUpdate<'a> {
    /// `LAN_IFNAME` (without NUL).
    pub lan_name: Option<&'a [u8]>,
    /// `WAN_IFNAME` (without NUL).
    pub wan_name: Option<&'a [u8]>,
    /// `LAN_IFINDEX` or `WAN_IFINDEX` was present (they are read-only).
    pub read_only: Option<u16>,
    /// `PUBLIC_ADDR`.
    pub public_addr: Option<Ipv4Addr>,
    /// `PORT_MIN`.
    pub port_min: Option<u16>,
    /// `PORT_MAX`.
    pub port_max: Option<u16>,
    /// `SPI_MIN`.
    pub spi_min: Option<u32>,
    /// `SPI_MAX`.
    pub spi_max: Option<u32>,
    /// `UNOWNED`.
    pub unowned: Option<u8>,
    /// `QUOTA_PORTS`.
    pub quota_ports: Option<u32>,
    /// `QUOTA_SPIS`.
    pub quota_spis: Option<u32>,
    /// `SA_POLICY`.
    pub sa_policy: Option<u8>,
    /// `HOOK_COUNTERS`.
    pub hook_counters: Option<u8>,
    /// `PAP_RATE`.
    pub pap_rate: Option<u32>,
    /// `PAP_AUTH`.
    pub pap_auth: Option<u8>,
}

/// A router update whose values are all well formed; only the interface
/// names still have to be resolved in the caller's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedRouterUpdate {
    /// New LAN interface name.
    pub lan_name: Option<IfName>,
    /// New WAN interface name.
    pub wan_name: Option<IfName>,
    /// New public address.
    pub public_addr: Option<Ipv4Addr>,
    /// New port pool.
    pub ports: Option<Range<u16>>,
    /// New SPI pool.
    pub spis: Option<Range<u32>>,
    /// New unowned-packet policy (`true`: drop).
    pub drop_unowned: Option<bool>,
    /// New per-host port quota.
    pub quota_ports: Option<u32>,
    /// New per-host SPI quota.
    pub quota_spis: Option<u32>,
    /// New SA policy (`true`: permissive).
    pub sa_permissive: Option<bool>,
    /// Count packets at every hook point, or not.
    pub hook_counters: Option<bool>,
    /// New request rate limit per host.
    pub pap_rate: Option<u32>,
    /// New PAP authentication mode (`true`: optional).
    pub pap_auth_optional: Option<bool>,
}

/// Whether `a` may be used as a unicast host or router address.
pub fn is_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
        && a.octets()[0] < 240
}

/// A 0/1 setting (`u8`), or why it is refused.
pub fn switch(v: Option<u8>, attr: u16) -> Result<Option<bool>, ConfigError> {
    match v {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(_) => Err(ConfigError::new(
            EINVAL,
            c"a switch is 0 (off) or 1 (on)",
            attr,
        )),
    }
}

fn range_pair<T: Copy>(
    min: Option<T>,
    max: Option<T>,
    min_attr: u16,
    max_attr: u16,
) -> Result<Option<Range<T>>, ConfigError> {
    match (min, max) {
        (None, None) => Ok(None),
        (Some(min), Some(max)) => Ok(Some(Range { min, max })),
        (Some(_), None) => Err(ConfigError::new(
            EINVAL,
            c"a range needs both its minimum and its maximum",
            min_attr,
        )),
        (None, Some(_)) => Err(ConfigError::new(
            EINVAL,
            c"a range needs both its minimum and its maximum",
            max_attr,
        )),
    }
}

impl RouterUpdate<'_> {
    /// Checks every value of the update on its own.
    pub fn check(&self) -> Result<CheckedRouterUpdate, ConfigError> {
        if let Some(attr) = self.read_only {
            return Err(ConfigError::new(
                EINVAL,
                c"interface indexes are read-only; set interfaces by name",
                attr,
            ));
        }
        let name = |n: Option<&[u8]>, attr| match n {
            None => Ok(None),
            Some(n) => IfName::new(n).map(Some).ok_or(ConfigError::new(
                EINVAL,
                c"invalid interface name",
                attr,
            )),
        };
        let lan_name = name(self.lan_name, router_attr::LAN_IFNAME)?;
        let wan_name = name(self.wan_name, router_attr::WAN_IFNAME)?;
        if let Some(a) = self.public_addr {
            if !is_unicast(a) {
                return Err(ConfigError::new(
                    EINVAL,
                    c"the public address must be a unicast address",
                    router_attr::PUBLIC_ADDR,
                ));
            }
        }
        let ports = range_pair(
            self.port_min,
            self.port_max,
            router_attr::PORT_MIN,
            router_attr::PORT_MAX,
        )?;
        if let Some(r) = ports {
            if r.min > r.max {
                return Err(ConfigError::new(
                    EINVAL,
                    c"inverted port range: minimum above maximum",
                    router_attr::PORT_MIN,
                ));
            }
            if r.max == 0 {
                return Err(ConfigError::new(
                    EINVAL,
                    c"empty port range: no allocatable port",
                    router_attr::PORT_MAX,
                ));
            }
            if r.min == 0 {
                return Err(ConfigError::new(
                    ERANGE,
                    c"port 0 cannot be allocated",
                    router_attr::PORT_MIN,
                ));
            }
        }
        let spis = range_pair(
            self.spi_min,
            self.spi_max,
            router_attr::SPI_MIN,
            router_attr::SPI_MAX,
        )?;
        if let Some(r) = spis {
            if r.min > r.max {
                return Err(ConfigError::new(
                    EINVAL,
                    c"inverted SPI range: minimum above maximum",
                    router_attr::SPI_MIN,
                ));
            }
            if r.min < SPI_FIRST_ALLOCATABLE {
                return Err(ConfigError::new(
                    ERANGE,
                    c"SPIs 0 to 255 are reserved",
                    router_attr::SPI_MIN,
                ));
            }
        }
        if let (Some(l), Some(w)) = (lan_name, wan_name) {
            if l == w {
                return Err(ConfigError::new(
                    EINVAL,
                    c"LAN and WAN must be different interfaces",
                    router_attr::WAN_IFNAME,
                ));
            }
        }
        let drop_unowned = match self.unowned {
            None => None,
            Some(unowned::LOCAL) => Some(false),
            Some(unowned::DROP) => Some(true),
            Some(_) => {
                return Err(ConfigError::new(
                    EINVAL,
                    c"unknown UNOWNED value (0: local, 1: drop)",
                    router_attr::UNOWNED,
                ))
            }
        };
        let sa_permissive = match self.sa_policy {
            None => None,
            Some(sa_policy::STRICT) => Some(false),
            Some(sa_policy::PERMISSIVE) => Some(true),
            Some(_) => {
                return Err(ConfigError::new(
                    EINVAL,
                    c"unknown SA_POLICY value (0: strict, 1: permissive)",
                    router_attr::SA_POLICY,
                ))
            }
        };
        let hook_counters = switch(self.hook_counters, router_attr::HOOK_COUNTERS)?;
        let pap_auth_optional = match self.pap_auth {
            None => None,
            Some(pap_auth_mode::REQUIRED) => Some(false),
            Some(pap_auth_mode::OPTIONAL) => Some(true),
            Some(_) => {
                return Err(ConfigError::new(
                    EINVAL,
                    c"unknown PAP_AUTH value (0: required, 1: optional)",
                    router_attr::PAP_AUTH,
                ))
            }
        };
        if self.pap_rate.is_some_and(|r| r > PAP_RATE_MAX) {
            return Err(ConfigError::new(
                ERANGE,
                c"the PAP rate limit is 0 (none) to 1000 requests a second",
                router_attr::PAP_RATE,
            ));
        }
        for (q, attr) in [
            (self.quota_ports, router_attr::QUOTA_PORTS),
            (self.quota_spis, router_attr::QUOTA_SPIS),
        ] {
            if q == Some(0) {
                return Err(ConfigError::new(
                    EINVAL,
                    c"a quota of 0 would refuse every host (revoke hosts instead)",
                    attr,
                ));
            }
        }
        Ok(CheckedRouterUpdate {
            lan_name,
            wan_name,
            public_addr: self.public_addr,
            ports,
            spis,
            drop_unowned,
            quota_ports: self.quota_ports,
            quota_spis: self.quota_spis,
            sa_permissive,
            hook_counters,
            pap_rate: self.pap_rate,
            pap_auth_optional,
        })
    }
}

impl RouterConfig {
    /// The configuration after `update`, whose interface names resolved to
    /// `lan_ifindex`/`wan_ifindex` (given when the name is in the update).
    ///
    /// Checks what only the merged result shows (LAN and WAN must differ).
    pub fn merged(
        &self,
        update: &CheckedRouterUpdate,
        lan_ifindex: Option<u32>,
        wan_ifindex: Option<u32>,
    ) -> Result<RouterConfig, ConfigError> {
        let mut next = *self;
        if let (Some(name), Some(ifindex)) = (update.lan_name, lan_ifindex) {
            next.lan = Some(Iface { name, ifindex });
        }
        if let (Some(name), Some(ifindex)) = (update.wan_name, wan_ifindex) {
            next.wan = Some(Iface { name, ifindex });
        }
        if let Some(a) = update.public_addr {
            next.public_addr = Some(a);
        }
        if let Some(r) = update.ports {
            next.ports = Some(r);
        }
        if let Some(r) = update.spis {
            next.spis = Some(r);
        }
        if let Some(d) = update.drop_unowned {
            next.drop_unowned = d;
        }
        if let Some(p) = update.sa_permissive {
            next.sa_permissive = p;
        }
        if let Some(c) = update.hook_counters {
            next.hook_counters = c;
        }
        if let Some(r) = update.pap_rate {
            next.pap_rate = r;
        }
        if let Some(o) = update.pap_auth_optional {
            next.pap_auth_optional = o;
        }
        if let (Some(l), Some(w)) = (next.lan, next.wan) {
            if l.ifindex == w.ifindex {
                let attr = if update.wan_name.is_some() {
                    router_attr::WAN_IFNAME
                } else {
                    router_attr::LAN_IFNAME
                };
                return Err(ConfigError::new(
                    EINVAL,
                    c"LAN and WAN must be different interfaces",
                    attr,
                ));
            }
        }
        Ok(next)
    }
}

/// How a host makes its traffic use the ports it was granted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostMode {
    /// The module translates each ephemeral source port to a granted port
    /// (the SPTT) and back.
    #[default]
    Translate,
    /// The stack's own ephemeral range is the granted block: the module
    /// only tunnels (`ip_local_port_range` set by the tool).
    Native,
}

/// Idle timeouts of translation entries, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostTimeouts {
    /// A TCP entry with no packet for this long ends.
    pub tcp: u32,
    /// A UDP entry with no packet for this long ends.
    pub udp: u32,
}

impl HostTimeouts {
    /// Defaults: TCP 7440 s (RFC 5382's 2 h 4 min), UDP 180 s (longer
    /// than RFC 4787's 2 min minimum).
    pub const DEFAULT: Self = Self {
        tcp: 7440,
        udp: 180,
    };
    /// Longest accepted timeout (a day).
    pub const MAX: u32 = 86_400;
}

impl Default for HostTimeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Ports a host asks for per request by default.
pub const HOST_PORT_BLOCK_DEFAULT: u8 = 64;

/// A host's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostConfig {
    /// The router's LAN address (PAP server, tunnel peer).
    pub router_addr: Option<Ipv4Addr>,
    /// The shared public address the host sends from.
    pub public_addr: Option<Ipv4Addr>,
    /// The interface towards the router.
    pub lan: Option<Iface>,
    /// Translation or native ports.
    pub mode: HostMode,
    /// Idle timeouts of translation entries.
    pub timeouts: HostTimeouts,
    /// Ports asked for per PAP request (1..=255).
    pub port_block: u8,
    /// Count packets at every IPv4 hook point (off by default; see
    /// [`RouterConfig::hook_counters`]).
    pub hook_counters: bool,
    /// Direct delivery: send to the router's link-layer address, no
    /// tunnel (off by default).
    pub direct: bool,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            router_addr: None,
            public_addr: None,
            lan: None,
            mode: HostMode::Translate,
            timeouts: HostTimeouts::DEFAULT,
            port_block: HOST_PORT_BLOCK_DEFAULT,
            hook_counters: false,
            direct: false,
        }
    }
}

/// A `SET_CONFIG` request to a host, as parsed from netlink attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostUpdate<'a> {
    /// `ROUTER_ADDR`.
    pub router_addr: Option<Ipv4Addr>,
    /// `PUBLIC_ADDR`.
    pub public_addr: Option<Ipv4Addr>,
    /// `LAN_IFNAME` (without NUL).
    pub lan_name: Option<&'a [u8]>,
    /// `LAN_IFINDEX` was present (it is read-only).
    pub read_only: bool,
    /// `MODE`.
    pub mode: Option<u8>,
    /// `TCP_TIMEOUT`.
    pub tcp_timeout: Option<u32>,
    /// `UDP_TIMEOUT`.
    pub udp_timeout: Option<u32>,
    /// `PORT_BLOCK`.
    pub port_block: Option<u32>,
    /// `HOOK_COUNTERS`.
    pub hook_counters: Option<u8>,
    /// `DELIVERY`.
    pub delivery: Option<u8>,
}

impl HostUpdate<'_> {
    /// The checked LAN interface name, if the update names one.
    pub fn lan_name(&self) -> Result<Option<IfName>, ConfigError> {
        match self.lan_name {
            None => Ok(None),
            Some(n) => IfName::new(n).map(Some).ok_or(ConfigError::new(
                EINVAL,
                c"invalid interface name",
                host_attr::LAN_IFNAME,
            )),
        }
    }
}

impl HostConfig {
    /// Whether the host has all it needs to run: router, public address
    /// and LAN interface.
    pub fn complete(&self) -> bool {
        self.router_addr.is_some() && self.public_addr.is_some() && self.lan.is_some()
    }

    /// The configuration after `update`, whose LAN interface name (if any)
    /// resolved to `lan_ifindex`, or why the update is refused.
    pub fn merged(
        &self,
        update: &HostUpdate<'_>,
        lan_ifindex: Option<u32>,
    ) -> Result<HostConfig, ConfigError> {
        if update.read_only {
            return Err(ConfigError::new(
                EINVAL,
                c"the interface index is read-only; set the interface by name",
                host_attr::LAN_IFINDEX,
            ));
        }
        for (a, attr, msg) in [
            (
                update.router_addr,
                host_attr::ROUTER_ADDR,
                c"the router address must be a unicast address",
            ),
            (
                update.public_addr,
                host_attr::PUBLIC_ADDR,
                c"the public address must be a unicast address",
            ),
        ] {
            if let Some(a) = a {
                if !is_unicast(a) {
                    return Err(ConfigError::new(EINVAL, msg, attr));
                }
            }
        }
        let mut next = *self;
        next.router_addr = update.router_addr.or(self.router_addr);
        next.public_addr = update.public_addr.or(self.public_addr);
        if let (Some(name), Some(ifindex)) = (update.lan_name()?, lan_ifindex) {
            next.lan = Some(Iface { name, ifindex });
        }
        match update.mode {
            None => {}
            Some(host_mode::TRANSLATE) => next.mode = HostMode::Translate,
            Some(host_mode::NATIVE) => next.mode = HostMode::Native,
            Some(_) => {
                return Err(ConfigError::new(
                    EINVAL,
                    c"unknown MODE (0: translate, 1: native)",
                    host_attr::MODE,
                ))
            }
        }
        for (t, attr, slot) in [
            (
                update.tcp_timeout,
                host_attr::TCP_TIMEOUT,
                &mut next.timeouts.tcp,
            ),
            (
                update.udp_timeout,
                host_attr::UDP_TIMEOUT,
                &mut next.timeouts.udp,
            ),
        ] {
            if let Some(t) = t {
                if t == 0 || t > HostTimeouts::MAX {
                    return Err(ConfigError::new(
                        ERANGE,
                        c"timeouts are 1 to 86400 seconds",
                        attr,
                    ));
                }
                *slot = t;
            }
        }
        if let Some(b) = update.port_block {
            next.port_block = match u8::try_from(b) {
                Ok(b) if b > 0 => b,
                _ => {
                    return Err(ConfigError::new(
                        ERANGE,
                        c"a PAP request asks for 1 to 255 ports",
                        host_attr::PORT_BLOCK,
                    ))
                }
            };
        }
        if let Some(c) = switch(update.hook_counters, host_attr::HOOK_COUNTERS)? {
            next.hook_counters = c;
        }
        if let Some(d) = update.delivery {
            next.direct = match d {
                0 => false,
                1 => true,
                _ => {
                    return Err(ConfigError::new(
                        EINVAL,
                        c"unknown DELIVERY (0: ipip, 1: direct)",
                        host_attr::DELIVERY,
                    ))
                }
            };
        }
        if next.router_addr.is_some() && next.router_addr == next.public_addr {
            return Err(ConfigError::new(
                EINVAL,
                c"the router address and the public address must differ",
                host_attr::PUBLIC_ADDR,
            ));
        }
        Ok(next)
    }
}

#[cfg(test)]
#[path = "config/tests.rs"]
mod tests;
