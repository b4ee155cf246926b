// SPDX-License-Identifier: GPL-2.0

//! Saved configurations: `router showconf|setconf` and `host
//! showconf|setconf`, in a line-oriented INI format
//! (Documentation/networking/dnat-conf.rst). A router's file has
//! `[Router]`, with the keys and values of `router set`, and a `[Host
//! ADDR]` for each host with its own quota, revoked or in direct
//! delivery; a host's file has
//! `[Host]`, with those of `host set`. Here: the contents and their text;
//! `parse.rs` reads a file (errors name the line), `apply.rs` checks it as
//! the kernel will and applies it.

pub mod apply;
mod link;
pub mod parse;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use dnat_core::alloc_table::Settings;
use dnat_core::config::{self, HostMode, Range};
use dnat_core::uapi::{host_mode, pap_auth_mode, sa_policy, unowned};

use crate::args::{lladdr, lladdr_text, own_quota, Delivery, HostSettings, RouterSettings};
use crate::dump::Hosts;
use crate::msg::{HostAttr, RouterAttr};

/// What a router's file says of one host (`[Host ADDR]`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HostEntry {
    /// `quota-ports N`: its own port quota.
    pub quota_ports: Option<u32>,
    /// `quota-spis N`: its own SPI quota.
    pub quota_spis: Option<u32>,
    /// `revoked = yes`.
    pub revoked: bool,
    /// `delivery = ipip|direct` and `lladdr = MAC`: how the router
    /// delivers to it (`None`: ipip, the default).
    pub delivery: Option<Delivery>,
}

impl HostEntry {
    /// The keys of a `[Host ADDR]` section.
    pub const KEYS: [&'static str; 5] =
        ["quota-ports", "quota-spis", "revoked", "delivery", "lladdr"];

    /// Sets `key` (one of [`HostEntry::KEYS`]) to `value`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let default = "leave it out for the default quota";
        match key {
            "quota-ports" => self.quota_ports = Some(own_quota(key, value, default)?),
            "quota-spis" => self.quota_spis = Some(own_quota(key, value, default)?),
            "revoked" => {
                self.revoked = match value {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(format!("revoked: \"{value}\" is not yes or no")),
                }
            }
            // lladdr (in either order) makes the delivery direct; parse.rs
            // checks that the section says so.
            "delivery" => {
                let m = match self.delivery {
                    Some(Delivery::Direct(m)) => m,
                    _ => None,
                };
                self.delivery = Some(match value {
                    "ipip" if m.is_some() => return Err(IPIP_LLADDR.into()),
                    "ipip" => Delivery::Ipip,
                    "direct" => Delivery::Direct(m),
                    _ => return Err(format!("delivery: \"{value}\" is not ipip or direct")),
                });
            }
            "lladdr" => {
                let m = lladdr(key, value)?;
                if self.delivery == Some(Delivery::Ipip) {
                    return Err(IPIP_LLADDR.into());
                }
                self.delivery = Some(Delivery::Direct(Some(m)));
            }
            _ => return Err(format!("unknown key \"{key}\"")),
        }
        Ok(())
    }

    /// The keys and values given, in the order of [`HostEntry::KEYS`]
    /// (`revoked` only when it is, `delivery` only when direct).
    pub fn words(&self) -> Vec<(&'static str, String)> {
        let [ports, spis, revoked, delivery, lladdr] = Self::KEYS;
        let direct = match self.delivery {
            Some(Delivery::Direct(m)) => Some(m),
            _ => None,
        };
        [
            (ports, self.quota_ports.map(|v| v.to_string())),
            (spis, self.quota_spis.map(|v| v.to_string())),
            (revoked, self.revoked.then(|| "yes".to_owned())),
            (delivery, direct.map(|_| "direct".to_owned())),
            (lladdr, direct.flatten().map(|m| lladdr_text(&m))),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }
}

/// What `lladdr` with `delivery = ipip` is told.
const IPIP_LLADDR: &str = "lladdr is for delivery = direct only (ipip has no address)";

/// Whether `d` is direct delivery.
pub fn is_direct(d: Option<Delivery>) -> bool {
    matches!(d, Some(Delivery::Direct(_)))
}

/// A router's configuration: the settings and the hosts with their own
/// quota, revoked or in direct delivery, by address.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RouterConf {
    pub settings: RouterSettings,
    pub hosts: BTreeMap<Ipv4Addr, HostEntry>,
}

/// A host's configuration.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HostConf {
    pub settings: HostSettings,
}

/// The default quota of a module just loaded.
fn default_quota() -> (u32, u32) {
    let q = Settings::DEFAULT.default_quota;
    (q.ports, q.spis)
}

/// Appends `[header]` and its `key = value` lines, after a blank line if
/// something came before.
fn section(out: &mut String, header: &str, words: &[(&str, String)]) {
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "[{header}]");
    for (k, v) in words {
        let _ = writeln!(out, "{k} = {v}");
    }
}

impl RouterConf {
    /// The text of `showconf`: `[Router]`, then the hosts by address.
    pub fn render(&self) -> String {
        let mut out = String::new();
        section(&mut out, "Router", &self.settings.words());
        for (addr, h) in &self.hosts {
            section(&mut out, &format!("Host {addr}"), &h.words());
        }
        out
    }

    /// The configuration a file stands for: every setting it leaves out
    /// at the value of a module just loaded, every host's quota whole (the
    /// one left out is the file's default quota), ipip left out (the
    /// default), the hosts with neither quota, revocation nor direct
    /// delivery left out.
    pub fn complete(&self) -> RouterConf {
        let d = config::RouterConfig::default();
        let (ports, spis) = default_quota();
        let mut s = self.settings.clone();
        s.unowned.get_or_insert(if d.drop_unowned {
            unowned::DROP
        } else {
            unowned::LOCAL
        });
        let quota_ports = *s.quota_ports.get_or_insert(ports);
        let quota_spis = *s.quota_spis.get_or_insert(spis);
        s.sa_policy.get_or_insert(if d.sa_permissive {
            sa_policy::PERMISSIVE
        } else {
            sa_policy::STRICT
        });
        s.hook_counters.get_or_insert(u8::from(d.hook_counters));
        s.pap_rate.get_or_insert(d.pap_rate);
        s.pap_auth.get_or_insert(if d.pap_auth_optional {
            pap_auth_mode::OPTIONAL
        } else {
            pap_auth_mode::REQUIRED
        });
        let hosts = self
            .hosts
            .iter()
            .filter_map(|(&addr, h)| {
                let own = h.quota_ports.is_some() || h.quota_spis.is_some();
                let direct = is_direct(h.delivery);
                let h = HostEntry {
                    quota_ports: own.then(|| h.quota_ports.unwrap_or(quota_ports)),
                    quota_spis: own.then(|| h.quota_spis.unwrap_or(quota_spis)),
                    revoked: h.revoked,
                    delivery: h.delivery.filter(|_| direct),
                };
                (own || h.revoked || direct).then_some((addr, h))
            })
            .collect();
        RouterConf { settings: s, hosts }
    }

    /// The configuration of a module: its `GET_CONFIG` reply and its
    /// `GET_HOSTS` dump (the hosts with their own quota, revoked or in
    /// direct delivery, with the address it is bound to, learned or set).
    pub fn from_kernel(config: &[RouterAttr], hosts: &Hosts) -> RouterConf {
        let mut s = RouterSettings::default();
        let (mut pmin, mut pmax, mut smin, mut smax) = (None, None, None, None);
        for a in config {
            match a {
                RouterAttr::LanIfname(n) => s.lan = Some(n.clone()),
                RouterAttr::WanIfname(n) => s.wan = Some(n.clone()),
                RouterAttr::PublicAddr(a) => s.public = Some(*a),
                RouterAttr::PortMin(v) => pmin = Some(*v),
                RouterAttr::PortMax(v) => pmax = Some(*v),
                RouterAttr::SpiMin(v) => smin = Some(*v),
                RouterAttr::SpiMax(v) => smax = Some(*v),
                RouterAttr::Unowned(v) => s.unowned = Some(*v),
                RouterAttr::QuotaPorts(v) => s.quota_ports = Some(*v),
                RouterAttr::QuotaSpis(v) => s.quota_spis = Some(*v),
                RouterAttr::SaPolicy(v) => s.sa_policy = Some(*v),
                RouterAttr::HookCounters(v) => s.hook_counters = Some(*v),
                RouterAttr::PapRate(v) => s.pap_rate = Some(*v),
                RouterAttr::PapAuth(v) => s.pap_auth = Some(*v),
                _ => {}
            }
        }
        s.ports = pmin.zip(pmax).map(|(min, max)| Range { min, max });
        s.spis = smin.zip(smax).map(|(min, max)| Range { min, max });
        let hosts = hosts
            .hosts
            .iter()
            .filter_map(|h| {
                let own = h.quota.filter(|q| q.own);
                let direct = h.delivery.as_deref() == Some("direct");
                let m = h
                    .lladdr
                    .as_deref()
                    .and_then(dnat_core::direct::parse_lladdr);
                let e = HostEntry {
                    quota_ports: own.map(|q| q.ports),
                    quota_spis: own.map(|q| q.spis),
                    revoked: h.revoked,
                    delivery: direct.then_some(Delivery::Direct(m)),
                };
                (own.is_some() || h.revoked || direct).then_some((h.host, e))
            })
            .collect();
        RouterConf { settings: s, hosts }
    }
}

impl HostConf {
    /// The text of `showconf`: `[Host]`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        section(&mut out, "Host", &self.settings.words());
        out
    }

    /// The configuration a file stands for: every setting it leaves out
    /// at the value of a module just loaded.
    pub fn complete(&self) -> HostConf {
        let d = config::HostConfig::default();
        let mut s = self.settings.clone();
        s.mode.get_or_insert(match d.mode {
            HostMode::Translate => host_mode::TRANSLATE,
            HostMode::Native => host_mode::NATIVE,
        });
        s.tcp_timeout.get_or_insert(d.timeouts.tcp);
        s.udp_timeout.get_or_insert(d.timeouts.udp);
        s.port_block.get_or_insert(u32::from(d.port_block));
        s.hook_counters.get_or_insert(u8::from(d.hook_counters));
        s.delivery.get_or_insert(u8::from(d.direct));
        HostConf { settings: s }
    }

    /// The configuration of a module: its `GET_CONFIG` reply.
    pub fn from_kernel(config: &[HostAttr]) -> HostConf {
        let mut s = HostSettings::default();
        for a in config {
            match a {
                HostAttr::RouterAddr(a) => s.router = Some(*a),
                HostAttr::PublicAddr(a) => s.public = Some(*a),
                HostAttr::LanIfname(n) => s.dev = Some(n.clone()),
                HostAttr::Mode(v) => s.mode = Some(*v),
                HostAttr::TcpTimeout(v) => s.tcp_timeout = Some(*v),
                HostAttr::UdpTimeout(v) => s.udp_timeout = Some(*v),
                HostAttr::PortBlock(v) => s.port_block = Some(*v),
                HostAttr::HookCounters(v) => s.hook_counters = Some(*v),
                HostAttr::Delivery(v) => s.delivery = Some(*v),
                _ => {}
            }
        }
        HostConf { settings: s }
    }
}

#[cfg(test)]
mod tests;
