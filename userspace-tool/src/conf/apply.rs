// SPDX-License-Identifier: GPL-2.0

//! `showconf` and `setconf`. A file is read and checked whole before
//! anything changes: its syntax and values (`parse.rs`), then its settings
//! by dnat-core's rules for `SET_CONFIG` (those of the kernel), then, against
//! the module's configuration, that it keeps every setting the kernel cannot
//! unset and that its interfaces exist. Then the requests that make the
//! module's configuration the file's: the router's `SET_CONFIG` with every
//! setting, then `SET_QUOTA`, `READMIT_HOST`, `REVOKE_HOST` and
//! `SET_DELIVERY` for the hosts whose entry differs (first those that lose
//! a quota, a revocation or a direct binding, freeing host slots and
//! addresses); the host's one `SET_CONFIG`. If the
//! kernel refuses a request midway, the configuration read before is put
//! back (best effort: what the changes ended, blocks of a revoked host or
//! outside a new pool, stays ended).

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::Path;

use dnat_core::config::{ConfigError, HostConfig, HostUpdate, RouterUpdate};
use dnat_core::uapi::{host_attr, host_cmd, router_attr, router_cmd};

use super::is_direct;
use super::parse::{self, ConfError, Lines};
use super::{link, HostConf, RouterConf};
use crate::args::{Delivery, QuotaWords};
use crate::dump::Hosts;
use crate::msg::{family_name, Attr, HostAttr, Msg, RouterAttr};
use crate::nl::{exit, genl, Conn, Error};

/// Reads `path` (`-`: standard input); returns the name errors use for it
/// and its text.
pub fn read(path: &Path) -> Result<(String, String), Error> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|err| Error::Io {
                what: "reading the standard input".into(),
                err,
            })?;
        ("<stdin>".to_owned(), b)
    } else {
        let name = path.display().to_string();
        let b = std::fs::read(path).map_err(|err| Error::Io {
            what: format!("reading {name}"),
            err,
        })?;
        (name, b)
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok((name, text)),
        Err(e) => {
            let ok = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = ok.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(file_error(&name, ConfError::at(line, "not UTF-8 text")))
        }
    }
}

/// The error of file `name`: usage (exit 2).
fn file_error(name: &str, e: ConfError) -> Error {
    Error::Conf {
        at: position(name, e.line),
        msg: e.msg,
        code: exit::USAGE,
    }
}

fn position(name: &str, line: Option<usize>) -> String {
    match line {
        Some(n) => format!("{name}:{n}"),
        None => name.to_owned(),
    }
}

/// The key of file section `section` for a `ConfigError` about `attr`.
fn config_error(
    e: ConfigError,
    key: fn(u16) -> Option<&'static str>,
    section: &str,
    lines: &Lines,
) -> ConfError {
    let msg = e.msg.to_string_lossy();
    match e.attr.and_then(key) {
        Some(k) => ConfError {
            line: lines.key(section, k),
            msg: format!("{k}: {msg}"),
        },
        None => ConfError {
            line: lines.section(section),
            msg: msg.into_owned(),
        },
    }
}

fn router_key(attr: u16) -> Option<&'static str> {
    use router_attr as a;
    Some(match attr {
        a::LAN_IFNAME => "lan",
        a::WAN_IFNAME => "wan",
        a::PUBLIC_ADDR => "public",
        a::PORT_MIN | a::PORT_MAX => "ports",
        a::SPI_MIN | a::SPI_MAX => "spis",
        a::UNOWNED => "unowned",
        a::QUOTA_PORTS => "quota-ports",
        a::QUOTA_SPIS => "quota-spis",
        a::SA_POLICY => "sa-policy",
        a::HOOK_COUNTERS => "hook-counters",
        a::PAP_RATE => "pap-rate",
        a::PAP_AUTH => "pap-auth",
        _ => return None,
    })
}

fn host_key(attr: u16) -> Option<&'static str> {
    use host_attr as a;
    Some(match attr {
        a::ROUTER_ADDR => "router",
        a::PUBLIC_ADDR => "public",
        a::LAN_IFNAME => "dev",
        a::MODE => "mode",
        a::TCP_TIMEOUT => "tcp-timeout",
        a::UDP_TIMEOUT => "udp-timeout",
        a::PORT_BLOCK => "port-block",
        a::HOOK_COUNTERS => "hook-counters",
        a::DELIVERY => "delivery",
        _ => return None,
    })
}

/// Checks a complete router configuration as `SET_CONFIG` does (the host
/// addresses and quotas were checked as they were read).
pub fn check_router(c: &RouterConf, lines: &Lines) -> Result<(), ConfError> {
    let s = &c.settings;
    let u = RouterUpdate {
        lan_name: s.lan.as_deref().map(str::as_bytes),
        wan_name: s.wan.as_deref().map(str::as_bytes),
        read_only: None,
        public_addr: s.public,
        port_min: s.ports.map(|r| r.min),
        port_max: s.ports.map(|r| r.max),
        spi_min: s.spis.map(|r| r.min),
        spi_max: s.spis.map(|r| r.max),
        unowned: s.unowned,
        quota_ports: s.quota_ports,
        quota_spis: s.quota_spis,
        sa_policy: s.sa_policy,
        hook_counters: s.hook_counters,
        pap_rate: s.pap_rate,
        pap_auth: s.pap_auth,
    };
    u.check()
        .map(|_| ())
        .map_err(|e| config_error(e, router_key, "Router", lines))
}

/// Checks a complete host configuration as `SET_CONFIG` does.
pub fn check_host(c: &HostConf, lines: &Lines) -> Result<(), ConfError> {
    let s = &c.settings;
    let u = HostUpdate {
        router_addr: s.router,
        public_addr: s.public,
        lan_name: s.dev.as_deref().map(str::as_bytes),
        read_only: false,
        mode: s.mode,
        tcp_timeout: s.tcp_timeout,
        udp_timeout: s.udp_timeout,
        port_block: s.port_block,
        hook_counters: s.hook_counters,
        delivery: s.delivery,
    };
    HostConfig::default()
        .merged(&u, None)
        .map(|_| ())
        .map_err(|e| config_error(e, host_key, "Host", lines))
}

/// A setting the module has and `want` leaves out, which the kernel
/// cannot unset: its key and the module's value. `want` is complete: only
/// the interfaces, the public address and the pools can be missing.
fn unsettable(
    now: &[(&'static str, String)],
    want: &[(&'static str, String)],
) -> Option<(&'static str, String)> {
    now.iter()
        .find(|(k, _)| !want.iter().any(|(w, _)| w == k))
        .cloned()
}

fn unset_error(name: &str, line: Option<usize>, section: &str, key: &str, value: &str) -> Error {
    file_error(
        name,
        ConfError {
            line,
            msg: format!(
                "[{section}] has no {key}: the module has {key} {value} and cannot unset it \
                 (a module loaded again starts without one)"
            ),
        },
    )
}

/// Checks that the interfaces named in section `section` exist here.
fn check_links(
    name: &str,
    section: &str,
    lines: &Lines,
    links: &[(&str, Option<&String>)],
) -> Result<(), Error> {
    for &(key, ifname) in links {
        if let Some(n) = ifname {
            if !link::exists(n)? {
                let e = ConfError {
                    line: lines.key(section, key),
                    msg: format!("{key}: no interface {n} in this network namespace"),
                };
                return Err(file_error(name, e));
            }
        }
    }
    Ok(())
}

/// One request of a router's `setconf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `SET_CONFIG` with these settings.
    Config(Vec<RouterAttr>),
    Quota(Ipv4Addr, QuotaWords),
    Revoke(Ipv4Addr),
    Readmit(Ipv4Addr),
    Delivery(Ipv4Addr, Delivery),
}

impl Step {
    /// The request and what it does.
    fn request(&self) -> (Msg<RouterAttr>, String) {
        match self {
            Step::Config(attrs) => (
                Msg {
                    cmd: router_cmd::SET_CONFIG,
                    attrs: attrs.clone(),
                },
                format!("setting the {} configuration", family_name::<RouterAttr>()),
            ),
            Step::Quota(host, q) => crate::quota_request(*host, *q),
            Step::Revoke(host) => crate::host_request(router_cmd::REVOKE_HOST, *host),
            Step::Readmit(host) => crate::host_request(router_cmd::READMIT_HOST, *host),
            Step::Delivery(host, d) => crate::delivery_request(*host, *d),
        }
    }

    /// The file section a step applies.
    fn section(&self) -> String {
        match self {
            Step::Config(_) => "Router".into(),
            Step::Quota(h, _) | Step::Revoke(h) | Step::Readmit(h) | Step::Delivery(h, _) => {
                format!("Host {h}")
            }
        }
    }
}

/// The requests that make `now` `want` (both complete): `SET_CONFIG`
/// (with `always`, even if the settings are the same: it also looks the
/// interfaces up again), then the hosts that lose their own quota, their
/// revocation or their direct delivery (a host whose binding changes goes
/// back to ipip first, so that no two hosts need the same address at
/// once), then those that get or change them.
pub fn router_plan(now: &RouterConf, want: &RouterConf, always: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if always || now.settings != want.settings {
        steps.push(Step::Config(want.settings.attrs()));
    }
    for (&addr, n) in &now.hosts {
        let w = want.hosts.get(&addr).copied().unwrap_or_default();
        if n.revoked && !w.revoked {
            steps.push(Step::Readmit(addr));
        }
        if n.quota_ports.is_some() && w.quota_ports.is_none() {
            steps.push(Step::Quota(addr, QuotaWords::Default));
        }
        if is_direct(n.delivery) && n.delivery != w.delivery {
            steps.push(Step::Delivery(addr, Delivery::Ipip));
        }
    }
    for (&addr, w) in &want.hosts {
        let n = now.hosts.get(&addr).copied().unwrap_or_default();
        let quota = (w.quota_ports, w.quota_spis);
        if quota.0.is_some() && quota != (n.quota_ports, n.quota_spis) {
            let (ports, spis) = quota;
            steps.push(Step::Quota(addr, QuotaWords::Own { ports, spis }));
        }
        if w.revoked && !n.revoked {
            steps.push(Step::Revoke(addr));
        }
        if let Some(d) = w.delivery.filter(|_| w.delivery != n.delivery) {
            steps.push(Step::Delivery(addr, d));
        }
    }
    steps
}

/// A connection to family `A`, and its id.
fn connect<A: Attr>() -> Result<(Conn, u16), Error> {
    let mut conn = Conn::open()?;
    let id = conn.resolve(A::FAMILY)?;
    Ok((conn, id))
}

/// The router module's configuration (`GET_CONFIG`, `GET_HOSTS`).
fn read_router(conn: &mut Conn, id: u16) -> Result<RouterConf, Error> {
    let what = "reading the dnat_router configuration";
    let config = conn
        .doit(
            genl(Msg::<RouterAttr>::new(router_cmd::GET_CONFIG), id),
            what,
        )?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Malformed {
            what: what.into(),
            detail: "no configuration message".into(),
        })?;
    let what = "reading the dnat_router hosts";
    let dump = conn.dump(
        genl(Msg::<RouterAttr>::new(router_cmd::GET_HOSTS), id),
        what,
    )?;
    let hosts =
        Hosts::from_dump(dump.iter().map(|m| &m.attrs[..])).map_err(|detail| Error::Malformed {
            what: what.into(),
            detail,
        })?;
    Ok(RouterConf::from_kernel(&config.attrs, &hosts))
}

/// The host module's configuration (`GET_CONFIG`).
fn read_host(conn: &mut Conn, id: u16) -> Result<HostConf, Error> {
    let what = "reading the dnat_host configuration";
    let config = conn
        .doit(genl(Msg::<HostAttr>::new(host_cmd::GET_CONFIG), id), what)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Malformed {
            what: what.into(),
            detail: "no configuration message".into(),
        })?;
    Ok(HostConf::from_kernel(&config.attrs))
}

/// `router showconf`.
pub fn router_showconf() -> Result<String, Error> {
    let (mut conn, id) = connect::<RouterAttr>()?;
    read_router(&mut conn, id).map(|c| c.render())
}

/// `host showconf`.
pub fn host_showconf() -> Result<String, Error> {
    let (mut conn, id) = connect::<HostAttr>()?;
    read_host(&mut conn, id).map(|c| c.render())
}

fn run(conn: &mut Conn, id: u16, step: &Step) -> Result<(), Error> {
    let (msg, what) = step.request();
    conn.doit(genl(msg, id), &what).map(|_| ())
}

/// Puts `before` back, as far as the kernel lets it; the refusals, if any.
fn restore(conn: &mut Conn, id: u16, before: &RouterConf) -> Result<(), String> {
    let now = read_router(conn, id).map_err(|e| e.to_string())?;
    let errs: Vec<String> = router_plan(&now, before, false)
        .iter()
        .filter_map(|s| run(conn, id, s).err())
        .map(|e| e.to_string())
        .collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// `router setconf`: file `name` with `text`.
pub fn router_setconf(name: &str, text: &str) -> Result<(), Error> {
    let (conf, lines) = parse::router(text).map_err(|e| file_error(name, e))?;
    let want = conf.complete();
    check_router(&want, &lines).map_err(|e| file_error(name, e))?;
    let (mut conn, id) = connect::<RouterAttr>()?;
    let now = read_router(&mut conn, id)?;
    if let Some((key, value)) = unsettable(&now.settings.words(), &want.settings.words()) {
        let line = lines.section("Router");
        return Err(unset_error(name, line, "Router", key, &value));
    }
    let s = &want.settings;
    check_links(
        name,
        "Router",
        &lines,
        &[("lan", s.lan.as_ref()), ("wan", s.wan.as_ref())],
    )?;
    for step in router_plan(&now, &want, true) {
        if let Err(e) = run(&mut conn, id, &step) {
            let note = match restore(&mut conn, id, &now) {
                Ok(()) => "the configuration is as it was before setconf".to_owned(),
                Err(r) => format!("putting the configuration before setconf back failed: {r}"),
            };
            return Err(Error::Conf {
                at: position(name, lines.section(&step.section())),
                msg: format!("{e}; {note}"),
                code: e.exit_code(),
            });
        }
    }
    Ok(())
}

/// `host setconf`: file `name` with `text`. One `SET_CONFIG`, which the
/// kernel applies whole or not at all.
pub fn host_setconf(name: &str, text: &str) -> Result<(), Error> {
    let (conf, lines) = parse::host(text).map_err(|e| file_error(name, e))?;
    let want = conf.complete();
    check_host(&want, &lines).map_err(|e| file_error(name, e))?;
    let (mut conn, id) = connect::<HostAttr>()?;
    let now = read_host(&mut conn, id)?;
    if let Some((key, value)) = unsettable(&now.settings.words(), &want.settings.words()) {
        return Err(unset_error(
            name,
            lines.section("Host"),
            "Host",
            key,
            &value,
        ));
    }
    check_links(name, "Host", &lines, &[("dev", want.settings.dev.as_ref())])?;
    let msg = Msg {
        cmd: host_cmd::SET_CONFIG,
        attrs: want.settings.attrs(),
    };
    let what = format!("setting the {} configuration", family_name::<HostAttr>());
    conn.doit(genl(msg, id), &what)
        .map(|_| ())
        .map_err(|e| Error::Conf {
            at: position(name, lines.section("Host")),
            msg: format!("{e}; nothing changed"),
            code: e.exit_code(),
        })
}
