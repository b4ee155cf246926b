// SPDX-License-Identifier: GPL-2.0

//! The word lists after the arguments of `router quota`, `router delivery`,
//! the blacklist commands and `pap`: each parsed into a type that gives the
//! attributes of its request.

use std::net::Ipv4Addr;

use dnat_core::direct::Lladdr;
use dnat_core::pap::PortClass;
use dnat_core::uapi::delivery;

use super::words::{addr, lladdr, option_value, own_quota};
use crate::limit::{LEASE, SPI};
use crate::msg::RouterAttr;

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
    /// order, each once, N within [`QUOTA`](crate::limit::QUOTA)).
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

/// A quota of `router quota`.
fn quota_value(key: &str, value: &str) -> Result<u32, String> {
    own_quota(
        key,
        value,
        "\"default\" puts the host back on the default quota",
    )
}
