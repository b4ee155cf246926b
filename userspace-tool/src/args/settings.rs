// SPDX-License-Identifier: GPL-2.0

//! The settings of `router set` and `host set` (and of the `[Router]` and
//! `[Host]` sections of a configuration file): their words, in and out, and
//! the `SET_CONFIG` attributes.

use std::net::Ipv4Addr;

use dnat_core::config::Range;
use dnat_core::uapi::{host_mode, pap_auth_mode, sa_policy, unowned};

use super::words::{addr, named_u8, pairs, range, u8_word, Names};
use crate::limit::{PAP_RATE, PORT, PORT_COUNT, QUOTA, SPI, TIMEOUT};
use crate::msg::{HostAttr, RouterAttr};

/// The settings of `router set`, and of the `[Router]` section of a
/// router's configuration file (`conf.rs`): the same keys and values.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RouterSettings {
    pub lan: Option<String>,
    pub wan: Option<String>,
    pub public: Option<Ipv4Addr>,
    pub ports: Option<Range<u16>>,
    pub spis: Option<Range<u32>>,
    /// `unowned`: `local`, `drop` or a raw number.
    pub unowned: Option<u8>,
    /// `quota-ports N`.
    pub quota_ports: Option<u32>,
    /// `quota-spis N`.
    pub quota_spis: Option<u32>,
    /// `sa-policy`: `strict`, `permissive` or a raw number.
    pub sa_policy: Option<u8>,
    /// `hook-counters`: `on`, `off` or a raw number.
    pub hook_counters: Option<u8>,
    /// `pap-rate N`.
    pub pap_rate: Option<u32>,
    /// `pap-auth`: `required`, `optional` or a raw number.
    pub pap_auth: Option<u8>,
}

/// The settings of `host set`, and of the `[Host]` section of a host's
/// configuration file (`conf.rs`): the same keys and values.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HostSettings {
    pub router: Option<Ipv4Addr>,
    pub public: Option<Ipv4Addr>,
    /// `dev IFNAME`: the LAN interface.
    pub dev: Option<String>,
    /// `mode`: `translate`, `native` or a raw number.
    pub mode: Option<u8>,
    /// `tcp-timeout SECS`.
    pub tcp_timeout: Option<u32>,
    /// `udp-timeout SECS`.
    pub udp_timeout: Option<u32>,
    /// `port-block N`.
    pub port_block: Option<u32>,
    /// `hook-counters`: `on`, `off` or a raw number.
    pub hook_counters: Option<u8>,
    /// `delivery`: `ipip`, `direct` or a raw number.
    pub delivery: Option<u8>,
}

const UNOWNED_NAMES: Names = [("local", unowned::LOCAL), ("drop", unowned::DROP)];
const MODE_NAMES: Names = [
    ("translate", host_mode::TRANSLATE),
    ("native", host_mode::NATIVE),
];
const SA_POLICY_NAMES: Names = [
    ("strict", sa_policy::STRICT),
    ("permissive", sa_policy::PERMISSIVE),
];
const PAP_AUTH_NAMES: Names = [
    ("required", pap_auth_mode::REQUIRED),
    ("optional", pap_auth_mode::OPTIONAL),
];
const SWITCH_NAMES: Names = [("off", 0), ("on", 1)];
const DELIVERY_NAMES: Names = [("ipip", 0), ("direct", 1)];

impl RouterSettings {
    const USAGE: &'static str =
        "lan IFNAME, wan IFNAME, public ADDR, ports MIN-MAX, spis MIN-MAX, unowned local|drop, quota-ports N, quota-spis N, sa-policy strict|permissive, hook-counters on|off, pap-rate N or pap-auth required|optional";

    /// The keys, in the order [`RouterSettings::words`] gives them.
    pub const KEYS: [&'static str; 12] = [
        "lan",
        "wan",
        "public",
        "ports",
        "spis",
        "unowned",
        "quota-ports",
        "quota-spis",
        "sa-policy",
        "hook-counters",
        "pap-rate",
        "pap-auth",
    ];

    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut s = Self::default();
        for (key, value) in pairs(args, &Self::KEYS, Self::USAGE)? {
            s.set(key, value)?;
        }
        Ok(s)
    }

    /// Sets `key` (one of [`RouterSettings::KEYS`]) to `value`, as the
    /// words `key value` of `router set` do.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "lan" => self.lan = Some(value.to_owned()),
            "wan" => self.wan = Some(value.to_owned()),
            "public" => self.public = Some(addr(key, value)?),
            "ports" => self.ports = Some(range(key, value, PORT)?),
            "spis" => self.spis = Some(range(key, value, SPI)?),
            "unowned" => self.unowned = Some(named_u8(key, value, UNOWNED_NAMES)?),
            "quota-ports" => self.quota_ports = Some(QUOTA.parse(key, value)?),
            "quota-spis" => self.quota_spis = Some(QUOTA.parse(key, value)?),
            "sa-policy" => self.sa_policy = Some(named_u8(key, value, SA_POLICY_NAMES)?),
            "hook-counters" => self.hook_counters = Some(named_u8(key, value, SWITCH_NAMES)?),
            "pap-rate" => self.pap_rate = Some(PAP_RATE.parse(key, value)?),
            "pap-auth" => self.pap_auth = Some(named_u8(key, value, PAP_AUTH_NAMES)?),
            _ => {
                return Err(format!(
                    "unknown setting \"{key}\"; expected {}",
                    Self::USAGE
                ))
            }
        }
        Ok(())
    }

    /// The settings given, as the `(key, value)` words that
    /// [`RouterSettings::set`] takes back, in the order of
    /// [`RouterSettings::KEYS`]: names where a value has one, SPIs in hex.
    pub fn words(&self) -> Vec<(&'static str, String)> {
        let [lan, wan, public, ports, spis, unowned, qp, qs, sa, hooks, rate, auth] = Self::KEYS;
        [
            (lan, self.lan.clone()),
            (wan, self.wan.clone()),
            (public, self.public.map(|a| a.to_string())),
            (ports, self.ports.map(|r| format!("{}-{}", r.min, r.max))),
            (
                spis,
                self.spis.map(|r| format!("{:#x}-{:#x}", r.min, r.max)),
            ),
            (unowned, self.unowned.map(|v| u8_word(v, UNOWNED_NAMES))),
            (qp, self.quota_ports.map(|v| v.to_string())),
            (qs, self.quota_spis.map(|v| v.to_string())),
            (sa, self.sa_policy.map(|v| u8_word(v, SA_POLICY_NAMES))),
            (hooks, self.hook_counters.map(|v| u8_word(v, SWITCH_NAMES))),
            (rate, self.pap_rate.map(|v| v.to_string())),
            (auth, self.pap_auth.map(|v| u8_word(v, PAP_AUTH_NAMES))),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }

    /// The `SET_CONFIG` attributes, in attribute number order.
    pub fn attrs(&self) -> Vec<RouterAttr> {
        let mut v = Vec::new();
        if let Some(n) = &self.lan {
            v.push(RouterAttr::LanIfname(n.clone()));
        }
        if let Some(n) = &self.wan {
            v.push(RouterAttr::WanIfname(n.clone()));
        }
        if let Some(a) = self.public {
            v.push(RouterAttr::PublicAddr(a));
        }
        if let Some(r) = self.ports {
            v.push(RouterAttr::PortMin(r.min));
            v.push(RouterAttr::PortMax(r.max));
        }
        if let Some(r) = self.spis {
            v.push(RouterAttr::SpiMin(r.min));
            v.push(RouterAttr::SpiMax(r.max));
        }
        if let Some(u) = self.unowned {
            v.push(RouterAttr::Unowned(u));
        }
        if let Some(q) = self.quota_ports {
            v.push(RouterAttr::QuotaPorts(q));
        }
        if let Some(q) = self.quota_spis {
            v.push(RouterAttr::QuotaSpis(q));
        }
        if let Some(p) = self.sa_policy {
            v.push(RouterAttr::SaPolicy(p));
        }
        if let Some(c) = self.hook_counters {
            v.push(RouterAttr::HookCounters(c));
        }
        if let Some(r) = self.pap_rate {
            v.push(RouterAttr::PapRate(r));
        }
        if let Some(p) = self.pap_auth {
            v.push(RouterAttr::PapAuth(p));
        }
        v
    }
}

impl HostSettings {
    const USAGE: &'static str = "router ADDR, public ADDR, dev IFNAME, mode translate|native, \
                                 tcp-timeout SECS, udp-timeout SECS, port-block N, \
                                 hook-counters on|off or delivery ipip|direct";

    /// The keys, in the order [`HostSettings::words`] gives them.
    pub const KEYS: [&'static str; 9] = [
        "router",
        "public",
        "dev",
        "mode",
        "tcp-timeout",
        "udp-timeout",
        "port-block",
        "hook-counters",
        "delivery",
    ];

    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut s = Self::default();
        for (key, value) in pairs(args, &Self::KEYS, Self::USAGE)? {
            s.set(key, value)?;
        }
        Ok(s)
    }

    /// Sets `key` (one of [`HostSettings::KEYS`]) to `value`, as the words
    /// `key value` of `host set` do.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "router" => self.router = Some(addr(key, value)?),
            "public" => self.public = Some(addr(key, value)?),
            "dev" => self.dev = Some(value.to_owned()),
            "mode" => self.mode = Some(named_u8(key, value, MODE_NAMES)?),
            "tcp-timeout" => self.tcp_timeout = Some(TIMEOUT.parse(key, value)?),
            "udp-timeout" => self.udp_timeout = Some(TIMEOUT.parse(key, value)?),
            "port-block" => self.port_block = Some(PORT_COUNT.parse(key, value)?),
            "hook-counters" => self.hook_counters = Some(named_u8(key, value, SWITCH_NAMES)?),
            "delivery" => self.delivery = Some(named_u8(key, value, DELIVERY_NAMES)?),
            _ => {
                return Err(format!(
                    "unknown setting \"{key}\"; expected {}",
                    Self::USAGE
                ))
            }
        }
        Ok(())
    }

    /// The settings given, as the `(key, value)` words that
    /// [`HostSettings::set`] takes back, in the order of
    /// [`HostSettings::KEYS`].
    pub fn words(&self) -> Vec<(&'static str, String)> {
        let [router, public, dev, mode, tcp, udp, block, hooks, delivery] = Self::KEYS;
        [
            (router, self.router.map(|a| a.to_string())),
            (public, self.public.map(|a| a.to_string())),
            (dev, self.dev.clone()),
            (mode, self.mode.map(|v| u8_word(v, MODE_NAMES))),
            (tcp, self.tcp_timeout.map(|v| v.to_string())),
            (udp, self.udp_timeout.map(|v| v.to_string())),
            (block, self.port_block.map(|v| v.to_string())),
            (hooks, self.hook_counters.map(|v| u8_word(v, SWITCH_NAMES))),
            (delivery, self.delivery.map(|v| u8_word(v, DELIVERY_NAMES))),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }

    /// The `SET_CONFIG` attributes, in attribute number order.
    pub fn attrs(&self) -> Vec<HostAttr> {
        let mut v = Vec::new();
        if let Some(a) = self.router {
            v.push(HostAttr::RouterAddr(a));
        }
        if let Some(a) = self.public {
            v.push(HostAttr::PublicAddr(a));
        }
        if let Some(n) = &self.dev {
            v.push(HostAttr::LanIfname(n.clone()));
        }
        if let Some(m) = self.mode {
            v.push(HostAttr::Mode(m));
        }
        if let Some(t) = self.tcp_timeout {
            v.push(HostAttr::TcpTimeout(t));
        }
        if let Some(t) = self.udp_timeout {
            v.push(HostAttr::UdpTimeout(t));
        }
        if let Some(n) = self.port_block {
            v.push(HostAttr::PortBlock(n));
        }
        if let Some(c) = self.hook_counters {
            v.push(HostAttr::HookCounters(c));
        }
        if let Some(d) = self.delivery {
            v.push(HostAttr::Delivery(d));
        }
        v
    }
}
