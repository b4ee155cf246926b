// SPDX-License-Identifier: GPL-2.0

//! The command line: clap for the command words, and `ip`-style
//! "key value" lists for the settings of `set`.
//!
//! Checked here: the syntax (addresses parse, ranges are `MIN-MAX`) and
//! every number against its limit, from `limit.rs` (those of dnat-core,
//! which the kernel applies), as the help texts give them: out of range is
//! a usage error. The rest is for the kernel to judge: whether a range is
//! inverted, an interface exists, an address is unicast, the number given
//! for a name (`unowned 7`) is one it knows.

mod cli;
mod help;

use std::net::Ipv4Addr;

use dnat_core::config::Range;
use dnat_core::direct::{parse_lladdr, Lladdr};
use dnat_core::pap::PortClass;
use dnat_core::uapi::{delivery, host_mode, pap_auth_mode, sa_policy, unowned};

use crate::limit::{Limit, LEASE, PAP_RATE, PORT, PORT_COUNT, QUOTA, RAW_U8, SPI, TIMEOUT};
use crate::msg::{HostAttr, RouterAttr};

pub use cli::{
    Cli, HostBlacklist, HostCmd, HostRelease, HostRequest, HostSa, HostSaArgs, Object,
    PapBlacklist, PapCmd, PapRelease, PapRequest, RouterBlacklist, RouterCmd, RouterSa, SaArgs,
    StatsArgs,
};

/// The words after the numbers of a `pap` command.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PapOptions {
    /// `low` or `high` (port requests only).
    pub class: Option<PortClass>,
    /// `router ADDR`.
    pub router: Option<Ipv4Addr>,
    /// `lease SECONDS` (requests only).
    pub lease: Option<u32>,
}

impl PapOptions {
    /// Parses `args`; `class` and `lease` say whether those are allowed.
    pub fn parse(args: &[String], class: bool, lease: bool) -> Result<Self, String> {
        let usage = match (class, lease) {
            (true, _) => "low, high, router ADDR or lease SECONDS",
            (false, true) => "router ADDR or lease SECONDS",
            (false, false) => "router ADDR",
        };
        let mut o = Self::default();
        let mut it = args.iter();
        while let Some(word) = it.next() {
            let key = word.as_str();
            let twice = || format!("option \"{key}\" given twice");
            match key {
                "low" | "high" if class => {
                    if o.class.is_some() {
                        return Err("low and high: give one, once".into());
                    }
                    o.class = Some(if key == "low" {
                        PortClass::Low
                    } else {
                        PortClass::High
                    });
                }
                "router" => {
                    let value = option_value(&mut it, key)?;
                    if o.router.replace(addr(key, value)?).is_some() {
                        return Err(twice());
                    }
                }
                "lease" if lease => {
                    let value = option_value(&mut it, key)?;
                    if o.lease.replace(LEASE.parse(key, value)?).is_some() {
                        return Err(twice());
                    }
                }
                _ => return Err(format!("unknown option \"{key}\"; expected {usage}")),
            }
        }
        Ok(o)
    }
}

/// The words of a blacklist entry: `peer ADDR`, `spi SPI` (at least one),
/// and, for `pap blacklist`, `router ADDR`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BlacklistWords {
    /// `peer ADDR`; `None`: any address.
    pub peer: Option<Ipv4Addr>,
    /// `spi SPI`; `None`: any SPI.
    pub spi: Option<u32>,
    /// `router ADDR` (PAP only).
    pub router: Option<Ipv4Addr>,
}

impl BlacklistWords {
    /// Parses `args`; `router` says whether `router ADDR` is allowed.
    pub fn parse(args: &[String], router: bool) -> Result<Self, String> {
        let usage = if router {
            "peer ADDR, spi SPI or router ADDR"
        } else {
            "peer ADDR or spi SPI"
        };
        let mut w = Self::default();
        let mut it = args.iter();
        while let Some(word) = it.next() {
            let key = word.as_str();
            let twice = || format!("option \"{key}\" given twice");
            let slot = match key {
                "peer" => &mut w.peer,
                "router" if router => &mut w.router,
                "spi" => {
                    let value = option_value(&mut it, key)?;
                    if w.spi.replace(SPI.parse(key, value)?).is_some() {
                        return Err(twice());
                    }
                    continue;
                }
                _ => return Err(format!("unknown option \"{key}\"; expected {usage}")),
            };
            let value = option_value(&mut it, key)?;
            if slot.replace(addr(key, value)?).is_some() {
                return Err(twice());
            }
        }
        if w.peer.is_none() && w.spi.is_none() {
            return Err("give peer ADDR, spi SPI or both".into());
        }
        Ok(w)
    }
}

/// The words of `router quota`: `ports N` and/or `spis N`, or `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaWords {
    /// `default`: the host goes back on the default quota (`SET_QUOTA`
    /// with `HOST_ADDR` alone).
    Default,
    /// `ports N` and/or `spis N` (at least one, each at least 1): the
    /// host's own quota; `None` keeps the value in effect for the host.
    Own {
        ports: Option<u32>,
        spis: Option<u32>,
    },
}

impl QuotaWords {
    const USAGE: &'static str = "ports N, spis N or default";

    /// Parses `args`: `default` alone, or `ports N` and/or `spis N` (any
    /// order, each once, N within [`QUOTA`]).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let (mut ports, mut spis, mut default) = (None, None, false);
        let mut it = args.iter();
        while let Some(word) = it.next() {
            let key = word.as_str();
            let twice = || format!("option \"{key}\" given twice");
            let slot = match key {
                "ports" => &mut ports,
                "spis" => &mut spis,
                "default" => {
                    if default {
                        return Err(twice());
                    }
                    default = true;
                    continue;
                }
                _ => {
                    return Err(format!(
                        "unknown option \"{key}\"; expected {}",
                        Self::USAGE
                    ))
                }
            };
            let value = option_value(&mut it, key)?;
            if slot.replace(quota_value(key, value)?).is_some() {
                return Err(twice());
            }
        }
        match (default, ports, spis) {
            (true, None, None) => Ok(Self::Default),
            (true, _, _) => Err(
                "default cannot be combined with ports or spis (it puts the host back on \
                 the default quota)"
                    .into(),
            ),
            (false, None, None) => Err("give ports N, spis N or both, or default".into()),
            (false, ports, spis) => Ok(Self::Own { ports, spis }),
        }
    }

    /// The `SET_QUOTA` attributes after `HOST_ADDR`, in attribute number
    /// order: none for `default`.
    pub fn attrs(&self) -> Vec<RouterAttr> {
        match *self {
            Self::Default => Vec::new(),
            Self::Own { ports, spis } => ports
                .map(RouterAttr::QuotaPorts)
                .into_iter()
                .chain(spis.map(RouterAttr::QuotaSpis))
                .collect(),
        }
    }
}

/// How the router delivers to a host: the words of `router delivery`,
/// `delivery` and `lladdr` of a `[Host ADDR]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// `ipip`.
    Ipip,
    /// `direct`, bound to the address given, or to the one learned.
    Direct(Option<Lladdr>),
}

impl Delivery {
    const USAGE: &'static str = "ipip, or direct [lladdr MAC]";

    /// Parses `args`: `ipip`, or `direct` and then, optionally, `lladdr
    /// MAC`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut it = args.iter().map(String::as_str);
        let d = match it.next() {
            Some("ipip") => Self::Ipip,
            Some("direct") => Self::Direct(None),
            Some(w) => return Err(format!("unknown mode \"{w}\"; expected {}", Self::USAGE)),
            None => return Err(format!("give the mode: {}", Self::USAGE)),
        };
        match (d, it.next()) {
            (_, None) => return Ok(d),
            (Self::Ipip, Some("lladdr")) => {
                return Err("lladdr is for direct delivery only (ipip has no address)".into())
            }
            (Self::Direct(_), Some("lladdr")) => {}
            (_, Some(w)) => {
                return Err(format!("unknown option \"{w}\"; expected {}", Self::USAGE))
            }
        }
        let m = it.next().ok_or("option \"lladdr\" needs a value")?;
        let d = Self::Direct(Some(lladdr("lladdr", m)?));
        match it.next() {
            None => Ok(d),
            Some(w) => Err(format!("unknown option \"{w}\"; expected {}", Self::USAGE)),
        }
    }

    /// The `SET_DELIVERY` attributes after `HOST_ADDR`.
    pub fn attrs(&self) -> Vec<RouterAttr> {
        match *self {
            Self::Ipip => vec![RouterAttr::Delivery(delivery::IPIP)],
            Self::Direct(m) => std::iter::once(RouterAttr::Delivery(delivery::DIRECT))
                .chain(m.map(RouterAttr::Lladdr))
                .collect(),
        }
    }
}

/// An Ethernet address `aa:bb:cc:dd:ee:ff` (whether it is unicast is for
/// the kernel to say).
pub fn lladdr(key: &str, value: &str) -> Result<Lladdr, String> {
    parse_lladdr(value).ok_or_else(|| {
        format!("{key}: \"{value}\" is not an Ethernet address (like 02:00:00:00:00:01)")
    })
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn lladdr_text(m: &Lladdr) -> String {
    let h: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
    h.join(":")
}

/// A quota of `router quota`.
fn quota_value(key: &str, value: &str) -> Result<u32, String> {
    own_quota(
        key,
        value,
        "\"default\" puts the host back on the default quota",
    )
}

/// A host's own quota (`router quota`, a `[Host ADDR]` section of a
/// router's configuration file), within [`QUOTA`]; `default` says how to
/// have none, for a quota of 0.
pub fn own_quota(key: &str, value: &str, default: &str) -> Result<u32, String> {
    QUOTA.parse(key, value).map_err(|e| {
        if QUOTA.read(value).is_err() && value.bytes().all(|b| b == b'0') && !value.is_empty() {
            format!("{e}; {default}")
        } else {
            e
        }
    })
}

fn option_value<'a>(
    it: &mut impl Iterator<Item = &'a String>,
    key: &str,
) -> Result<&'a str, String> {
    it.next()
        .map(String::as_str)
        .ok_or_else(|| format!("option \"{key}\" needs a value"))
}

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

/// Splits `args` into (key, value) pairs, checking that every key is one of
/// `keys` and is given once.
fn pairs<'a>(
    args: &'a [String],
    keys: &[&str],
    usage: &str,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    if args.is_empty() {
        return Err(format!("at least one setting is required: {usage}"));
    }
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut it = args.iter();
    while let Some(key) = it.next() {
        if !keys.contains(&key.as_str()) {
            return Err(format!("unknown setting \"{key}\"; expected {usage}"));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("setting \"{key}\" given twice"));
        }
        let Some(value) = it.next() else {
            return Err(format!("setting \"{key}\" needs a value"));
        };
        out.push((key, value));
    }
    Ok(out)
}

fn addr(key: &str, value: &str) -> Result<Ipv4Addr, String> {
    addr_arg(value).map_err(|why| format!("{key}: \"{value}\" {why}"))
}

/// An IPv4 address, for clap arguments and the words alike.
pub fn addr_arg(s: &str) -> Result<Ipv4Addr, String> {
    s.parse()
        .map_err(|_| "is not an IPv4 address (like 203.0.113.30)".into())
}

/// `MIN-MAX`, each end within `limit` (whether MIN is above MAX is for
/// the kernel to say).
fn range<T: TryFrom<u32>>(key: &str, value: &str, limit: Limit) -> Result<Range<T>, String> {
    let Some((min, max)) = value.split_once('-') else {
        return Err(format!("{key}: \"{value}\" is not a range MIN-MAX"));
    };
    let n = |s: &str| limit.arg::<T>()(s).map_err(|why| format!("{key}: \"{s}\" {why}"));
    Ok(Range {
        min: n(min)?,
        max: n(max)?,
    })
}

/// The names of a `u8` setting's values, as the words of `set` give them.
type Names = [(&'static str, u8); 2];

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

/// One of the two `names` (with their values), or a number within
/// [`RAW_U8`] (sent as is, for the kernel to judge).
fn named_u8(key: &str, value: &str, names: Names) -> Result<u8, String> {
    if let Some(&(_, v)) = names.iter().find(|(n, _)| *n == value) {
        return Ok(v);
    }
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return RAW_U8.arg::<u8>()(value).map_err(|why| format!("{key}: \"{value}\" {why}"));
    }
    let [(a, _), (b, _)] = names;
    Err(format!(
        "{key}: \"{value}\" is not {a}, {b} or a number ({RAW_U8})"
    ))
}

/// The word [`named_u8`] takes back for `v`: its name, or the number.
fn u8_word(v: u8, names: Names) -> String {
    names
        .iter()
        .find(|(_, n)| *n == v)
        .map_or_else(|| v.to_string(), |(name, _)| (*name).to_owned())
}

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

#[cfg(test)]
mod tests;
