// SPDX-License-Identifier: GPL-2.0

//! `dnatctl`: the command-line tool of dnat. It talks to the `dnat_router`
//! and `dnat_host` generic netlink families of the caller's network
//! namespace.

mod args;
mod ca;
mod conf;
mod dump;
mod event;
mod follow;
#[cfg(test)]
mod gen;
mod host_sas;
mod limit;
mod log;
mod metrics;
mod monitor;
mod msg;
mod nl;
mod pap_auth;
mod pap_client;
mod prom;
mod show;
mod spi;
mod usage;
mod xfrm;

use std::ffi::OsString;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::ExitCode;

use dnat_core::pap::{PortBlock, PortClass, SpiBlock};
use dnat_core::uapi::{block_kind, host_cmd, router_cmd};
use serde::Serialize;

use args::{
    BlacklistWords, Cli, Delivery, HostBlacklist, HostCmd, HostRelease, HostRequest, HostSa,
    HostSaArgs, HostSettings, Object, PapBlacklist, PapCmd, PapOptions, PapRelease, PapRequest,
    QuotaWords, RouterBlacklist, RouterCmd, RouterSa, RouterSettings, SaArgs, StatsArgs,
};
use dump::{Blacklist, Blocks, HostBlocks, Hosts, Sas, Stats, Translations};
use msg::{family_name, Attr, HostAttr, Msg, RouterAttr};
use nl::{exit, genl, Conn, Error};
use pap_client::{Notice, Op, Outcome, RawSocket, Report, TransactError};
use show::{Counter, HostConfig, RouterConfig, Show};

/// `GET_CONFIG` then `GET_COUNTERS` on `A`'s family.
fn fetch<A: Attr>(get_config: u8, get_counters: u8) -> Result<(Vec<A>, Vec<Vec<A>>), Error> {
    let mut conn = Conn::open()?;
    let id = conn.resolve(A::FAMILY)?;
    let family = family_name::<A>();
    let what = format!("reading the {family} configuration");
    let config = conn
        .doit(genl(Msg::<A>::new(get_config), id), &what)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Malformed {
            what,
            detail: "no configuration message".into(),
        })?;
    let counters = conn.dump(
        genl(Msg::<A>::new(get_counters), id),
        &format!("reading the {family} counters"),
    )?;
    Ok((
        config.attrs,
        counters.into_iter().map(|m| m.attrs).collect(),
    ))
}

/// A `doit` request with `NLM_F_ACK` on `A`'s family, whose reply is only
/// the acknowledgement; `what` says what it does, for errors.
fn request<A: Attr>(msg: Msg<A>, what: &str) -> Result<(), Error> {
    let mut conn = Conn::open()?;
    let id = conn.resolve(A::FAMILY)?;
    conn.doit(genl(msg, id), what)?;
    Ok(())
}

/// `SET_CONFIG` with `attrs` on `A`'s family.
fn set<A: Attr>(set_config: u8, attrs: Vec<A>) -> Result<(), Error> {
    let msg = Msg {
        cmd: set_config,
        attrs,
    };
    request(
        msg,
        &format!("setting the {} configuration", family_name::<A>()),
    )
}

/// `REVOKE_HOST` or `READMIT_HOST` for `addr`, and what it does.
fn host_request(cmd: u8, addr: Ipv4Addr) -> (Msg<RouterAttr>, String) {
    let verb = if cmd == router_cmd::REVOKE_HOST {
        "revoking"
    } else {
        "readmitting"
    };
    let msg = Msg {
        cmd,
        attrs: vec![RouterAttr::HostAddr(addr)],
    };
    (msg, format!("{verb} host {addr}"))
}

/// `SA_VALIDATE` or `SA_INVALIDATE` of `sa`, and what it does.
fn sa_request(what: RouterSa) -> (Msg<RouterAttr>, String) {
    let (cmd, verb, sa) = match what {
        RouterSa::Validate(sa) => (router_cmd::SA_VALIDATE, "validating", sa),
        RouterSa::Invalidate(sa) => (router_cmd::SA_INVALIDATE, "invalidating", sa),
    };
    let SaArgs { host, peer, spi } = sa;
    let msg = Msg {
        cmd,
        attrs: vec![
            RouterAttr::HostAddr(host),
            RouterAttr::PeerAddr(peer),
            RouterAttr::Spi(spi),
        ],
    };
    (
        msg,
        format!("{verb} the SA of host {host} with peer {peer} spi {spi:#x}"),
    )
}

/// `BLACKLIST_ADD` (`add`) or `BLACKLIST_DEL` of an entry of `host`, and
/// what it does.
fn blacklist_request(add: bool, host: Ipv4Addr, w: BlacklistWords) -> (Msg<RouterAttr>, String) {
    let (cmd, verb, prep) = if add {
        (router_cmd::BLACKLIST_ADD, "adding", "to")
    } else {
        (router_cmd::BLACKLIST_DEL, "removing", "from")
    };
    let mut attrs = vec![RouterAttr::HostAddr(host)];
    attrs.extend(w.peer.map(RouterAttr::PeerAddr));
    attrs.extend(w.spi.map(RouterAttr::Spi));
    let entry = dump::blacklist_match(w.peer, w.spi);
    (
        Msg { cmd, attrs },
        format!("{verb} {entry} {prep} the blacklist of host {host}"),
    )
}

/// `router blacklist add|del HOST WORDS...` (command `name`).
fn blacklist_change(
    name: &'static str,
    add: bool,
    host: Ipv4Addr,
    words: &[String],
) -> Result<i32, Error> {
    let w = BlacklistWords::parse(words, false).map_err(|msg| Error::Usage { cmd: name, msg })?;
    let (msg, what) = blacklist_request(add, host, w);
    request(msg, &what).map(|()| exit::OK)
}

/// `SET_QUOTA` for `host`, and what it does.
fn quota_request(host: Ipv4Addr, q: QuotaWords) -> (Msg<RouterAttr>, String) {
    let mut attrs = vec![RouterAttr::HostAddr(host)];
    attrs.extend(q.attrs());
    let what = match q {
        QuotaWords::Default => format!("putting host {host} back on the default quota"),
        QuotaWords::Own { ports, spis } => {
            let values: Vec<String> = [("ports", ports), ("spis", spis)]
                .into_iter()
                .filter_map(|(name, v)| v.map(|v| format!("{name} {v}")))
                .collect();
            format!("setting the quota of host {host} to {}", values.join(" "))
        }
    };
    (
        Msg {
            cmd: router_cmd::SET_QUOTA,
            attrs,
        },
        what,
    )
}

/// `router quota HOST WORDS...`.
fn quota_change(host: Ipv4Addr, words: &[String]) -> Result<i32, Error> {
    let q = QuotaWords::parse(words).map_err(|msg| Error::Usage {
        cmd: "router quota",
        msg,
    })?;
    let (msg, what) = quota_request(host, q);
    request(msg, &what).map(|()| exit::OK)
}

/// `SET_DELIVERY` for `host`, and what it does.
fn delivery_request(host: Ipv4Addr, d: Delivery) -> (Msg<RouterAttr>, String) {
    let mut attrs = vec![RouterAttr::HostAddr(host)];
    attrs.extend(d.attrs());
    let what = match d {
        Delivery::Ipip => format!("setting the delivery of host {host} to ipip"),
        Delivery::Direct(None) => format!("setting the delivery of host {host} to direct"),
        Delivery::Direct(Some(m)) => format!(
            "setting the delivery of host {host} to direct lladdr {}",
            args::lladdr_text(&m)
        ),
    };
    (
        Msg {
            cmd: router_cmd::SET_DELIVERY,
            attrs,
        },
        what,
    )
}

/// `router delivery HOST WORDS...`.
fn delivery_change(host: Ipv4Addr, words: &[String]) -> Result<i32, Error> {
    let d = Delivery::parse(words).map_err(|msg| Error::Usage {
        cmd: "router delivery",
        msg,
    })?;
    let (msg, what) = delivery_request(host, d);
    request(msg, &what).map(|()| exit::OK)
}

/// `RESET`, and what it does.
fn reset_request() -> (Msg<RouterAttr>, String) {
    (
        Msg::new(router_cmd::RESET),
        format!("resetting the {}", family_name::<RouterAttr>()),
    )
}

fn counters<A>(
    dump: &[Vec<A>],
    get: impl Fn(&A) -> (Option<u32>, Option<u64>),
    family: &str,
) -> Result<Vec<Counter>, Error> {
    Counter::from_dump(dump.iter().map(|v| &v[..]), get).map_err(|detail| Error::Malformed {
        what: format!("reading the {family} counters"),
        detail,
    })
}

/// A dump of `A`'s family (router `GET_BLOCKS`, `GET_PAP_STATS`,
/// `GET_HOSTS`, `GET_SAS`, `GET_BLACKLIST`; host `GET_STATS`, `GET_BLOCKS`,
/// `GET_SPTT`), then `decode`
/// on its messages' attributes.
fn family_dump<A: Attr, T>(
    cmd: u8,
    what: &str,
    decode: impl FnOnce(&[Vec<A>]) -> Result<T, String>,
) -> Result<T, Error> {
    let mut conn = Conn::open()?;
    let id = conn.resolve(A::FAMILY)?;
    let what = format!("reading the {} {what}", family_name::<A>());
    let dump = conn.dump(genl(Msg::<A>::new(cmd), id), &what)?;
    let attrs: Vec<Vec<A>> = dump.into_iter().map(|m| m.attrs).collect();
    decode(&attrs).map_err(|detail| Error::Malformed { what, detail })
}

/// The host's `REQUEST` for a block, and what it does.
fn block_request(what: HostRequest) -> (Msg<HostAttr>, String) {
    let (kind, count, name) = match what {
        HostRequest::Ports { count } => (block_kind::PORTS, count, "ports"),
        HostRequest::Spis { count } => (block_kind::SPIS, count, "spis"),
    };
    let msg = Msg {
        cmd: host_cmd::REQUEST,
        attrs: vec![HostAttr::BlockKind(kind), HostAttr::BlockCount(count)],
    };
    (msg, format!("asking the router for {count} {name}"))
}

/// The host's `RELEASE` of a block, and what it does.
fn block_release(what: HostRelease) -> (Msg<HostAttr>, String) {
    let (kind, lowest, count) = match what {
        HostRelease::Ports { lowest, count } => (block_kind::PORTS, lowest, count),
        HostRelease::Spis { lowest, count } => (block_kind::SPIS, lowest, count),
    };
    let msg = Msg {
        cmd: host_cmd::RELEASE,
        attrs: vec![
            HostAttr::BlockKind(kind),
            HostAttr::BlockLowest(lowest),
            HostAttr::BlockCount(count),
        ],
    };
    let block = dump::block_range(kind, lowest, count);
    (msg, format!("releasing {} {block}", dump::kind_name(kind)))
}

/// The host's `SA_VALIDATE` or `SA_INVALIDATE`, and what it does.
fn host_sa_request(what: HostSa) -> (Msg<HostAttr>, String) {
    let (cmd, verb, sa) = match what {
        HostSa::Validate(sa) => (host_cmd::SA_VALIDATE, "validating", sa),
        HostSa::Invalidate(sa) => (host_cmd::SA_INVALIDATE, "invalidating", sa),
    };
    let HostSaArgs { peer, spi } = sa;
    let msg = Msg {
        cmd,
        attrs: vec![HostAttr::PeerAddr(peer), HostAttr::Spi(spi)],
    };
    (msg, format!("{verb} the SA with peer {peer} spi {spi:#x}"))
}

/// The host's `BLACKLIST_ADD` (`add`) or `BLACKLIST_DEL`, and what it does.
fn host_blacklist_request(add: bool, w: BlacklistWords) -> (Msg<HostAttr>, String) {
    let (cmd, verb, prep) = if add {
        (host_cmd::BLACKLIST_ADD, "adding", "to")
    } else {
        (host_cmd::BLACKLIST_DEL, "removing", "from")
    };
    let mut attrs = Vec::new();
    attrs.extend(w.peer.map(HostAttr::PeerAddr));
    attrs.extend(w.spi.map(HostAttr::Spi));
    let entry = dump::blacklist_match(w.peer, w.spi);
    (
        Msg { cmd, attrs },
        format!("{verb} {entry} {prep} the blacklist"),
    )
}

/// `host blacklist add|del WORDS...`.
fn host_blacklist_change(what: HostBlacklist) -> Result<i32, Error> {
    let (name, add, words) = match what {
        HostBlacklist::Add { words } => ("host blacklist add", true, words),
        HostBlacklist::Del { words } => ("host blacklist del", false, words),
    };
    let w = BlacklistWords::parse(&words, false).map_err(|msg| Error::Usage { cmd: name, msg })?;
    let (msg, what) = host_blacklist_request(add, w);
    request(msg, &what).map(|()| exit::OK)
}

fn print<T: Serialize>(v: &T, json: bool, render: impl FnOnce(&T) -> String) -> Result<(), Error> {
    let text = if json {
        let mut s = serde_json::to_string(v).map_err(|e| Error::Io {
            what: "formatting JSON".into(),
            err: e.into(),
        })?;
        s.push('\n');
        s
    } else {
        render(v)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|err| Error::Io {
            what: "writing the output".into(),
            err,
        })
}

/// The Prometheus text of `stats --prometheus`: printed, or written to
/// the `--output` file atomically.
fn prometheus(text: &str, a: &StatsArgs) -> Result<i32, Error> {
    let r = match &a.output {
        Some(path) => prom::write_atomic(path, text).map_err(|err| Error::Io {
            what: format!("writing {}", path.display()),
            err,
        }),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|err| Error::Io {
                    what: "writing the output".into(),
                    err,
                })
        }
    };
    r.map(|()| exit::OK)
}

/// The router address of the `dnat_host` module, if it is loaded here and
/// has one.
fn host_router_addr() -> Option<Ipv4Addr> {
    let mut conn = Conn::open().ok()?;
    let id = conn.resolve(HostAttr::FAMILY).ok()?;
    let msg = genl(Msg::<HostAttr>::new(host_cmd::GET_CONFIG), id);
    let config = conn.doit(msg, "reading the dnat_host configuration").ok()?;
    HostConfig::from_attrs(&config.first()?.attrs).router_addr
}

/// The router address given as `router ADDR` (only that word allowed).
fn pap_router(name: &'static str, words: &[String]) -> Result<PapOptions, Error> {
    PapOptions::parse(words, false, false).map_err(|msg| Error::Usage { cmd: name, msg })
}

/// The `pap blacklist` notice and its router address.
fn pap_blacklist(what: PapBlacklist) -> Result<(&'static str, Op, PapOptions), Error> {
    let (name, add, words) = match what {
        PapBlacklist::Add { options } => ("pap blacklist add", true, options),
        PapBlacklist::Del { options } => ("pap blacklist del", false, options),
    };
    let w = BlacklistWords::parse(&words, true).map_err(|msg| Error::Usage { cmd: name, msg })?;
    let (peer, spi) = (w.peer, w.spi);
    let notice = if add {
        Notice::BlacklistAdd { peer, spi }
    } else {
        Notice::BlacklistRemove { peer, spi }
    };
    let options = PapOptions {
        router: w.router,
        ..PapOptions::default()
    };
    Ok((name, Op::Notice(notice), options))
}

/// The command name, operation, options and `--native` of a `pap` command;
/// usage errors for bad options and for blocks, SAs and blacklist entries
/// the codec refuses.
fn pap_op(cmd: PapCmd) -> Result<(&'static str, Op, PapOptions, bool), Error> {
    let (name, op, options, native) = match cmd {
        PapCmd::Request {
            what:
                PapRequest::Ports {
                    count,
                    native,
                    options,
                },
        } => {
            let name = "pap request ports";
            let o = PapOptions::parse(&options, true, true)
                .map_err(|msg| Error::Usage { cmd: name, msg })?;
            let op = Op::RequestPorts {
                class: o.class.unwrap_or(PortClass::High),
                count,
                lease: o.lease.unwrap_or(0),
            };
            (name, op, o, native)
        }
        PapCmd::Request {
            what: PapRequest::Spis { count, options },
        } => {
            let name = "pap request spis";
            let o = PapOptions::parse(&options, false, true)
                .map_err(|msg| Error::Usage { cmd: name, msg })?;
            let op = Op::RequestSpis {
                count,
                lease: o.lease.unwrap_or(0),
            };
            (name, op, o, false)
        }
        PapCmd::Release {
            what:
                PapRelease::Ports {
                    lowest,
                    count,
                    options,
                },
        } => {
            let name = "pap release ports";
            let o = PapOptions::parse(&options, false, false)
                .map_err(|msg| Error::Usage { cmd: name, msg })?;
            (
                name,
                Op::ReleasePorts(PortBlock { lowest, count }),
                o,
                false,
            )
        }
        PapCmd::Release {
            what:
                PapRelease::Spis {
                    lowest,
                    count,
                    options,
                },
        } => {
            let name = "pap release spis";
            let o = PapOptions::parse(&options, false, false)
                .map_err(|msg| Error::Usage { cmd: name, msg })?;
            (name, Op::ReleaseSpis(SpiBlock { lowest, count }), o, false)
        }
        PapCmd::Validate { peer, spi, options } => {
            let name = "pap validate";
            let o = pap_router(name, &options)?;
            (name, Op::Notice(Notice::SaValidate { peer, spi }), o, false)
        }
        PapCmd::Invalidate { peer, spi, options } => {
            let name = "pap invalidate";
            let o = pap_router(name, &options)?;
            (
                name,
                Op::Notice(Notice::SaInvalidate { peer, spi }),
                o,
                false,
            )
        }
        PapCmd::Blacklist { what } => {
            let (name, op, o) = pap_blacklist(what)?;
            (name, op, o, false)
        }
    };
    // A block past the end of its space, reserved SPIs, a peer that is not
    // unicast.
    op.message(1).validate().map_err(|e| Error::Usage {
        cmd: name,
        msg: format!("invalid {}: {e}", op.subject()),
    })?;
    Ok((name, op, options, native))
}

/// `pap request`, `pap release`, `pap validate`, `pap invalidate` and `pap
/// blacklist`: one PAP transaction with the router.
fn pap(cmd: PapCmd, json: bool) -> Result<i32, Error> {
    let (name, op, options, native) = pap_op(cmd)?;
    let router = match options.router {
        Some(a) => a,
        None => host_router_addr().ok_or_else(|| Error::Usage {
            cmd: name,
            msg: "no router address: give \"router ADDR\" (the dnat_host module is not \
                  loaded here or has no router address)"
                .into(),
        })?,
    };
    let xid = pap_client::random_xid().map_err(|err| Error::Io {
        what: "reading /dev/urandom".into(),
        err,
    })?;
    let msg = op.encode(xid).map_err(|e| Error::Usage {
        cmd: name,
        msg: e.to_string(),
    })?;
    let what = "opening a raw ICMP socket".to_owned();
    let mut sock = RawSocket::open(router).map_err(|err| {
        if err.kind() == io::ErrorKind::PermissionDenied {
            Error::NoPermission { what, err }
        } else {
            Error::Io { what, err }
        }
    })?;
    let waits = &pap_client::WAITS;
    let outcome = if pap_auth::disabled() {
        pap_client::transact(&mut sock, &op, xid, &msg, router, waits)
    } else {
        let keys = pap_auth::key_dir();
        let host = pap_auth::local_addr(router).map_err(|err| Error::Io {
            what: format!("{name}: finding the address towards {router}"),
            err,
        })?;
        let file = pap_auth::KeyFile::open(&keys, host, router).map_err(|err| Error::Io {
            what: format!("{name}: opening the key file in {}", keys.display()),
            err,
        })?;
        let session = file.load(host).map_err(|err| Error::Io {
            what: format!("{name}: reading the key file"),
            err,
        })?;
        let mut keys = pap_auth::Keys::new(session, Some(&file));
        let r = pap_auth::transact(&mut sock, &op, xid, &msg, router, waits, &mut keys);
        if let Some(err) = keys.error {
            return Err(Error::Io {
                what: format!("{name}: saving the key file"),
                err,
            });
        }
        r
    }
    .map_err(|e| match e {
        TransactError::NoAnswer {
            transmissions,
            waited,
        } => Error::NoAnswer {
            what: name.into(),
            router,
            transmissions,
            secs: waited.as_secs(),
        },
        TransactError::Io { what, err } => Error::Io {
            what: format!("{name}: {what}"),
            err,
        },
    })?;
    let mut text = outcome.render();
    let mut report = outcome.report();
    let mut failed = None;
    if let (true, Outcome::Ports { block, .. }) = (native, outcome) {
        let path = Path::new(pap_client::PORT_RANGE_SYSCTL);
        match pap_client::set_port_range(path, block) {
            Ok((lo, hi)) => {
                text.push_str(&format!("net.ipv4.ip_local_port_range = {lo} {hi}\n"));
                if let Report::Granted {
                    ip_local_port_range,
                    ..
                } = &mut report
                {
                    *ip_local_port_range = Some([lo, hi]);
                }
            }
            Err(err) => {
                let (lo, hi) = pap_client::port_range(block);
                let what = format!(
                    "setting net.ipv4.ip_local_port_range to \"{lo} {hi}\" (the ports stay \
                     granted; \"dnatctl pap release ports {lo} {}\" gives them back)",
                    block.count
                );
                failed = Some(match err.raw_os_error() {
                    Some(errno) => Error::Kernel {
                        what,
                        errno,
                        extack: None,
                    },
                    None => Error::Io { what, err },
                });
            }
        }
    }
    print(&report, json, |_| text)?;
    match (failed, outcome) {
        (Some(e), _) => Err(e),
        (None, Outcome::Refused(_)) => Ok(exit::REFUSED),
        (None, _) => Ok(exit::OK),
    }
}

/// `router showconf` or `host showconf` (command `name`): the text
/// `read` makes of the module's configuration; there is no JSON.
fn showconf(
    name: &'static str,
    json: bool,
    read: impl FnOnce() -> Result<String, Error>,
) -> Result<i32, Error> {
    if json {
        return Err(Error::Usage {
            cmd: name,
            msg: "no JSON output: the configuration file format is the output (\"show\" has \
                  JSON)"
                .into(),
        });
    }
    let text = read()?;
    print(&(), false, |_| text).map(|()| exit::OK)
}

fn run(cli: Cli) -> Result<i32, Error> {
    match cli.object {
        Object::Router {
            cmd: None | Some(RouterCmd::Show),
        } => {
            let (config, dump) =
                fetch::<RouterAttr>(router_cmd::GET_CONFIG, router_cmd::GET_COUNTERS)?;
            let show = Show {
                config: RouterConfig::from_attrs(&config),
                counters: counters(&dump, show::router_counter, family_name::<RouterAttr>())?,
            };
            print(&show, cli.json, show::render_router).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Set { settings }),
        } => {
            let s = RouterSettings::parse(&settings).map_err(|msg| Error::Usage {
                cmd: "router set",
                msg,
            })?;
            set(router_cmd::SET_CONFIG, s.attrs()).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Showconf),
        } => showconf("router showconf", cli.json, conf::apply::router_showconf),
        Object::Router {
            cmd: Some(RouterCmd::Setconf { file }),
        } => {
            let (name, text) = conf::apply::read(&file)?;
            conf::apply::router_setconf(&name, &text).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Blocks),
        } => {
            let b = family_dump::<RouterAttr, _>(router_cmd::GET_BLOCKS, "blocks", |d| {
                Blocks::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&b, cli.json, dump::render_blocks).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Stats(a)),
        } => {
            a.check(cli.json).map_err(|msg| Error::Usage {
                cmd: "router stats",
                msg,
            })?;
            let s = family_dump(router_cmd::GET_PAP_STATS, "PAP counters", |d| {
                Stats::from_dump(d.iter().map(|v| &v[..]), dump::router_stat)
            })?;
            if a.prometheus {
                let h = family_dump::<RouterAttr, _>(router_cmd::GET_HOSTS, "hosts", |d| {
                    Hosts::from_dump(d.iter().map(|v| &v[..]))
                })?;
                return prometheus(&metrics::router(&s, &h), &a);
            }
            print(&s, cli.json, |s| dump::render_stats(s, a.all)).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Hosts),
        } => {
            let h = family_dump::<RouterAttr, _>(router_cmd::GET_HOSTS, "hosts", |d| {
                Hosts::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&h, cli.json, dump::render_hosts).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Revoke { addr }),
        } => {
            let (msg, what) = host_request(router_cmd::REVOKE_HOST, addr);
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Readmit { addr }),
        } => {
            let (msg, what) = host_request(router_cmd::READMIT_HOST, addr);
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Quota { addr, words }),
        } => quota_change(addr, &words),
        Object::Router {
            cmd: Some(RouterCmd::Delivery { addr, words }),
        } => delivery_change(addr, &words),
        Object::Router {
            cmd: Some(RouterCmd::Reset),
        } => {
            let (msg, what) = reset_request();
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Sas),
        } => {
            let s = family_dump::<RouterAttr, _>(router_cmd::GET_SAS, "SAs", |d| {
                Sas::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&s, cli.json, dump::render_sas).map(|()| exit::OK)
        }
        Object::Router {
            cmd: Some(RouterCmd::Sa { what }),
        } => {
            let (msg, what) = sa_request(what);
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Router {
            cmd:
                Some(RouterCmd::Blacklist {
                    cmd: None | Some(RouterBlacklist::Show),
                }),
        } => {
            let b = family_dump::<RouterAttr, _>(router_cmd::GET_BLACKLIST, "blacklist", |d| {
                Blacklist::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&b, cli.json, dump::render_blacklist).map(|()| exit::OK)
        }
        Object::Router {
            cmd:
                Some(RouterCmd::Blacklist {
                    cmd: Some(RouterBlacklist::Add { host, words }),
                }),
        } => blacklist_change("router blacklist add", true, host, &words),
        Object::Router {
            cmd:
                Some(RouterCmd::Blacklist {
                    cmd: Some(RouterBlacklist::Del { host, words }),
                }),
        } => blacklist_change("router blacklist del", false, host, &words),
        Object::Host {
            cmd: None | Some(HostCmd::Show),
        } => {
            let (config, dump) = fetch::<HostAttr>(host_cmd::GET_CONFIG, host_cmd::GET_COUNTERS)?;
            let show = Show {
                config: HostConfig::from_attrs(&config),
                counters: counters(&dump, show::host_counter, family_name::<HostAttr>())?,
            };
            print(&show, cli.json, show::render_host).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Set { settings }),
        } => {
            let s = HostSettings::parse(&settings).map_err(|msg| Error::Usage {
                cmd: "host set",
                msg,
            })?;
            set(host_cmd::SET_CONFIG, s.attrs()).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Showconf),
        } => showconf("host showconf", cli.json, conf::apply::host_showconf),
        Object::Host {
            cmd: Some(HostCmd::Setconf { file }),
        } => {
            let (name, text) = conf::apply::read(&file)?;
            conf::apply::host_setconf(&name, &text).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Stats(a)),
        } => {
            a.check(cli.json).map_err(|msg| Error::Usage {
                cmd: "host stats",
                msg,
            })?;
            let s = family_dump(host_cmd::GET_STATS, "statistics", |d| {
                Stats::from_dump(d.iter().map(|v| &v[..]), dump::host_stat)
            })?;
            if a.prometheus {
                return prometheus(&metrics::host(&s), &a);
            }
            print(&s, cli.json, |s| dump::render_stats(s, a.all)).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Blocks),
        } => {
            let b = family_dump::<HostAttr, _>(host_cmd::GET_BLOCKS, "blocks", |d| {
                HostBlocks::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&b, cli.json, dump::render_host_blocks).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Sptt),
        } => {
            let t = family_dump::<HostAttr, _>(host_cmd::GET_SPTT, "translations", |d| {
                Translations::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&t, cli.json, dump::render_translations).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Request { what }),
        } => {
            let (msg, what) = block_request(what);
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Release { what }),
        } => {
            let (msg, what) = block_release(what);
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Sa { what }),
        } => {
            let (msg, what) = host_sa_request(what);
            request(msg, &what).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Blacklist { what }),
        } => host_blacklist_change(what),
        Object::Host {
            cmd: Some(HostCmd::Sas),
        } => {
            let s = family_dump::<HostAttr, _>(host_cmd::GET_SAS, "SAs", |d| {
                host_sas::HostSas::from_dump(d.iter().map(|v| &v[..]))
            })?;
            print(&s, cli.json, host_sas::render_host_sas).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Spi {
                what: spi::HostSpi::Alloc(a),
            }),
        } => {
            let got = spi::alloc(&a)?;
            print(&got, cli.json, spi::render).map(|()| exit::OK)
        }
        Object::Host {
            cmd: Some(HostCmd::Follow(a)),
        } => follow::run(&a),
        Object::Pap { cmd } => pap(cmd, cli.json),
        Object::Ca { cmd } => ca::cli::main_result(ca::cli::run_ca(cmd, cli.json)),
        Object::Cert { cmd } => ca::cli::main_result(ca::cli::run_cert(cmd, cli.json)),
        Object::Monitor { which } => monitor::run(which, cli.json),
    }
}

fn main() -> ExitCode {
    // Help and version: clap prints them (exit 0; the help where a
    // command is missing, exit 2). Every error: one format (usage.rs).
    let argv: Vec<OsString> = std::env::args_os().collect();
    let words = usage::command_words(&argv).join(" ");
    let cli = match usage::parse(&argv) {
        Ok(usage::Parsed::Run(cli)) => cli,
        Ok(usage::Parsed::Help(e)) => e.exit(),
        Err(e) => {
            log::error(&usage::usage_lines(&words, &usage::clap_reason(&e)));
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            log::error(&usage::error_text(&e, &words));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use dnat_core::uapi::{host_attr, router_attr};
    use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    fn request(family: u16, cmd: u8, seq: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
        let body = attrs.concat();
        let mut v = ((16 + 4 + body.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&family.to_ne_bytes());
        v.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&[cmd, 1, 0, 0]);
        v.extend_from_slice(&body);
        v
    }

    #[test]
    fn router_set_config_bytes() {
        let s = RouterSettings::parse(&words(
            "ports 20000-29999 spis 0x1000-0x1fff public 203.0.113.30 wan veth-wan lan veth-lan",
        ))
        .unwrap();
        let msg = Msg {
            cmd: router_cmd::SET_CONFIG,
            attrs: s.attrs(),
        };
        let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 2);
        let want = request(
            0x21,
            router_cmd::SET_CONFIG,
            2,
            &[
                attr(router_attr::LAN_IFNAME, b"veth-lan\0"),
                attr(router_attr::WAN_IFNAME, b"veth-wan\0"),
                attr(router_attr::PUBLIC_ADDR, &[203, 0, 113, 30]),
                attr(router_attr::PORT_MIN, &20000u16.to_ne_bytes()),
                attr(router_attr::PORT_MAX, &29999u16.to_ne_bytes()),
                attr(router_attr::SPI_MIN, &0x1000u32.to_ne_bytes()),
                attr(router_attr::SPI_MAX, &0x1fffu32.to_ne_bytes()),
            ],
        );
        assert_eq!(got, want);
        // Spelled out once, for a little-endian machine.
        if cfg!(target_endian = "little") {
            assert_eq!(
                &got[..36],
                &[
                    92, 0, 0, 0, 0x21, 0, 5, 0, 2, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr
                    2, 1, 0, 0, // genlmsghdr: SET_CONFIG, version 1
                    13, 0, 1, 0, b'v', b'e', b't', b'h', b'-', b'l', b'a', b'n', 0, 0, 0,
                    0, // LAN_IFNAME
                ][..]
            );
            assert_eq!(
                &got[52..68],
                &[8, 0, 5, 0, 203, 0, 113, 30, 6, 0, 6, 0, 0x20, 0x4e, 0, 0]
            );
        }
    }

    #[test]
    fn out_of_policy_values_are_encoded_as_given() {
        // An inverted range is the kernel's to refuse.
        let s = RouterSettings::parse(&words("spis 0x2000-256")).unwrap();
        let msg = Msg {
            cmd: router_cmd::SET_CONFIG,
            attrs: s.attrs(),
        };
        let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 1);
        let want = request(
            0x21,
            router_cmd::SET_CONFIG,
            1,
            &[
                attr(router_attr::SPI_MIN, &0x2000u32.to_ne_bytes()),
                attr(router_attr::SPI_MAX, &256u32.to_ne_bytes()),
            ],
        );
        assert_eq!(got, want);
    }

    #[test]
    fn host_set_config_bytes() {
        let s = HostSettings::parse(&words("public 203.0.113.30 router 10.0.0.7")).unwrap();
        let msg = Msg {
            cmd: host_cmd::SET_CONFIG,
            attrs: s.attrs(),
        };
        let got = nl::encode(genl(msg, 0x22), NLM_F_REQUEST | NLM_F_ACK, 9);
        let want = request(
            0x22,
            host_cmd::SET_CONFIG,
            9,
            &[
                attr(host_attr::ROUTER_ADDR, &[10, 0, 0, 7]),
                attr(host_attr::PUBLIC_ADDR, &[203, 0, 113, 30]),
            ],
        );
        assert_eq!(got, want);
    }

    #[test]
    fn host_set_config_all_settings_bytes() {
        let s = HostSettings::parse(&words(
            "port-block 16 udp-timeout 30 tcp-timeout 7440 mode native dev eth0 \
             public 203.0.113.30 router 10.0.0.7",
        ))
        .unwrap();
        let msg = Msg {
            cmd: host_cmd::SET_CONFIG,
            attrs: s.attrs(),
        };
        let got = nl::encode(genl(msg, 0x22), NLM_F_REQUEST | NLM_F_ACK, 9);
        let want = request(
            0x22,
            host_cmd::SET_CONFIG,
            9,
            &[
                attr(host_attr::ROUTER_ADDR, &[10, 0, 0, 7]),
                attr(host_attr::PUBLIC_ADDR, &[203, 0, 113, 30]),
                attr(host_attr::LAN_IFNAME, b"eth0\0"),
                attr(host_attr::MODE, &[1]),
                attr(host_attr::TCP_TIMEOUT, &7440u32.to_ne_bytes()),
                attr(host_attr::UDP_TIMEOUT, &30u32.to_ne_bytes()),
                attr(host_attr::PORT_BLOCK, &16u32.to_ne_bytes()),
            ],
        );
        assert_eq!(got, want);
        // Spelled out once, for a little-endian machine: the NUL string
        // (length 9, padded to 12), the u8 (length 5, padded to 8), the u32s.
        if cfg!(target_endian = "little") {
            assert_eq!(
                &got[36..],
                &[
                    9, 0, 6, 0, b'e', b't', b'h', b'0', 0, 0, 0, 0, // LAN_IFNAME
                    5, 0, 8, 0, 1, 0, 0, 0, // MODE
                    8, 0, 9, 0, 0x10, 0x1d, 0, 0, // TCP_TIMEOUT 7440
                    8, 0, 10, 0, 30, 0, 0, 0, // UDP_TIMEOUT
                    8, 0, 11, 0, 16, 0, 0, 0, // PORT_BLOCK
                ][..]
            );
        }
    }

    #[test]
    fn host_request_and_release_bytes() {
        for (what, kind, count, text) in [
            (
                HostRequest::Ports { count: 16 },
                1u8,
                16u32,
                "asking the router for 16 ports",
            ),
            (
                HostRequest::Spis { count: 65536 },
                2,
                65536,
                "asking the router for 65536 spis",
            ),
        ] {
            let (msg, got_what) = block_request(what);
            assert_eq!(got_what, text);
            let got = nl::encode(genl(msg, 0x22), NLM_F_REQUEST | NLM_F_ACK, 6);
            let want = request(
                0x22,
                host_cmd::REQUEST,
                6,
                &[
                    attr(host_attr::BLOCK_KIND, &[kind]),
                    attr(host_attr::BLOCK_COUNT, &count.to_ne_bytes()),
                ],
            );
            assert_eq!(got, want);
            assert_eq!(&got[16..28], &[7, 1, 0, 0, 5, 0, 15, 0, kind, 0, 0, 0]);
        }
        for (what, kind, lowest, count, text) in [
            (
                HostRelease::Ports {
                    lowest: 20000,
                    count: 64,
                },
                1u8,
                20000u32,
                64u32,
                "releasing ports 20000-20063 (64)",
            ),
            (
                HostRelease::Spis {
                    lowest: 0x1000,
                    count: 256,
                },
                2,
                0x1000,
                256,
                "releasing spis 0x1000-0x10ff (256)",
            ),
        ] {
            let (msg, got_what) = block_release(what);
            assert_eq!(got_what, text);
            let got = nl::encode(genl(msg, 0x22), NLM_F_REQUEST | NLM_F_ACK, 8);
            let want = request(
                0x22,
                host_cmd::RELEASE,
                8,
                &[
                    attr(host_attr::BLOCK_KIND, &[kind]),
                    attr(host_attr::BLOCK_LOWEST, &lowest.to_ne_bytes()),
                    attr(host_attr::BLOCK_COUNT, &count.to_ne_bytes()),
                ],
            );
            assert_eq!(got, want);
            assert_eq!(got[16], 8);
        }
        assert_eq!((host_cmd::REQUEST, host_cmd::RELEASE), (7, 8));
    }

    #[test]
    fn host_sa_request_bytes() {
        let sa = HostSaArgs {
            peer: Ipv4Addr::new(203, 0, 113, 3),
            spi: 0x1000,
        };
        for (what, cmd, text) in [
            (
                HostSa::Validate(sa),
                9u8,
                "validating the SA with peer 203.0.113.3 spi 0x1000",
            ),
            (
                HostSa::Invalidate(sa),
                10,
                "invalidating the SA with peer 203.0.113.3 spi 0x1000",
            ),
        ] {
            let (msg, got_what) = host_sa_request(what);
            assert_eq!(got_what, text);
            let got = nl::encode(genl(msg, 0x22), NLM_F_REQUEST | NLM_F_ACK, 6);
            let want = request(
                0x22,
                cmd,
                6,
                &[
                    attr(host_attr::PEER_ADDR, &[203, 0, 113, 3]),
                    attr(host_attr::SPI, &0x1000u32.to_ne_bytes()),
                ],
            );
            assert_eq!(got, want);
            // The address in network byte order, the SPI in host byte order.
            assert_eq!(
                &got[16..32],
                &[
                    cmd, 1, 0, 0, // genlmsghdr
                    8, 0, 25, 0, 203, 0, 113, 3, // PEER_ADDR
                    8, 0, 26, 0, // SPI
                ][..]
            );
            assert_eq!(got.len(), 36);
        }
        assert_eq!((host_cmd::SA_VALIDATE, host_cmd::SA_INVALIDATE), (9, 10));
    }

    #[test]
    fn host_blacklist_request_bytes() {
        let peer = Ipv4Addr::new(203, 0, 113, 66);
        for (add, cmd, w, attrs, text) in [
            (
                true,
                11u8,
                BlacklistWords {
                    peer: Some(peer),
                    ..BlacklistWords::default()
                },
                vec![attr(host_attr::PEER_ADDR, &[203, 0, 113, 66])],
                "adding peer 203.0.113.66 spi any to the blacklist",
            ),
            (
                false,
                12,
                BlacklistWords {
                    spi: Some(0x1000),
                    ..BlacklistWords::default()
                },
                vec![attr(host_attr::SPI, &0x1000u32.to_ne_bytes())],
                "removing peer any spi 0x1000 from the blacklist",
            ),
            (
                true,
                11,
                BlacklistWords {
                    peer: Some(peer),
                    spi: Some(u32::MAX),
                    router: None,
                },
                vec![
                    attr(host_attr::PEER_ADDR, &[203, 0, 113, 66]),
                    attr(host_attr::SPI, &u32::MAX.to_ne_bytes()),
                ],
                "adding peer 203.0.113.66 spi 0xffffffff to the blacklist",
            ),
        ] {
            let (msg, got_what) = host_blacklist_request(add, w);
            assert_eq!(got_what, text);
            let got = nl::encode(genl(msg, 0x22), NLM_F_REQUEST | NLM_F_ACK, 7);
            assert_eq!(got, request(0x22, cmd, 7, &attrs), "{text}");
            assert_eq!(&got[16..20], &[cmd, 1, 0, 0]);
        }
        // Words that name no entry are a usage error before any socket.
        for (what, name) in [
            (HostBlacklist::Add { words: vec![] }, "host blacklist add"),
            (
                HostBlacklist::Del {
                    words: words("router 10.0.0.7"),
                },
                "host blacklist del",
            ),
        ] {
            match host_blacklist_change(what) {
                Err(Error::Usage { cmd, .. }) => assert_eq!(cmd, name),
                r => panic!("{name}: {r:?}"),
            }
        }
        assert_eq!((host_cmd::BLACKLIST_ADD, host_cmd::BLACKLIST_DEL), (11, 12));
    }

    /// A bad word of every command with a word list (a word no command
    /// takes, or a number outside its limit) is a usage error naming the
    /// command's words, found before any socket is opened, printed in the
    /// one format.
    #[test]
    fn bad_words_of_every_command_in_the_one_format() {
        use usage::tests::{argv, assert_usage_format, WORD_LISTS};
        for (head, words) in WORD_LISTS {
            for bad in ["frob", "lease 4294967296", "spi 255", "pap-rate 1001"] {
                let line = format!("{head} {words} {bad}");
                let cli = match usage::parse(&argv(&line)) {
                    Ok(usage::Parsed::Run(cli)) => cli,
                    r => panic!("{line}: {r:?}"),
                };
                let cmd = usage::command_words(&argv(&line)).join(" ");
                match run(cli) {
                    Err(e @ Error::Usage { .. }) => {
                        let text = usage::error_text(&e, &cmd);
                        assert_usage_format(&text, &cmd);
                        let Error::Usage { cmd: named, .. } = e else {
                            unreachable!()
                        };
                        assert_eq!(named, cmd, "{line}");
                    }
                    r => panic!("{line}: {r:?}"),
                }
            }
        }
    }

    #[test]
    fn showconf_has_no_json() {
        match showconf("router showconf", true, || panic!("no request")) {
            Err(e @ Error::Usage { .. }) => {
                assert_eq!(e.exit_code(), 2);
                assert!(
                    e.to_string().starts_with("router showconf: no JSON output"),
                    "{e}"
                );
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn revoke_readmit_reset_bytes() {
        let addr = Ipv4Addr::new(10, 0, 0, 3);
        for (cmd, text) in [
            (router_cmd::REVOKE_HOST, "revoking host 10.0.0.3"),
            (router_cmd::READMIT_HOST, "readmitting host 10.0.0.3"),
        ] {
            let (msg, what) = host_request(cmd, addr);
            assert_eq!(what, text);
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 4);
            // HOST_ADDR in network byte order, whatever the host's.
            let want = request(
                0x21,
                cmd,
                4,
                &[attr(router_attr::HOST_ADDR, &[10, 0, 0, 3])],
            );
            assert_eq!(got, want);
            assert_eq!(&got[16..28], &[cmd, 1, 0, 0, 8, 0, 13, 0, 10, 0, 0, 3]);
        }
        let (msg, what) = reset_request();
        assert_eq!(what, "resetting the dnat_router");
        let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 5);
        assert_eq!(got, request(0x21, router_cmd::RESET, 5, &[]));
        assert_eq!(got.len(), 20);
        assert_eq!(router_cmd::RESET, 9);
    }

    #[test]
    fn quota_request_bytes() {
        let host = Ipv4Addr::new(10, 0, 0, 1);
        for (input, attrs, text) in [
            (
                "spis 16 ports 100",
                vec![
                    attr(router_attr::QUOTA_PORTS, &100u32.to_ne_bytes()),
                    attr(router_attr::QUOTA_SPIS, &16u32.to_ne_bytes()),
                ],
                "setting the quota of host 10.0.0.1 to ports 100 spis 16",
            ),
            (
                "ports 4294967295",
                vec![attr(router_attr::QUOTA_PORTS, &u32::MAX.to_ne_bytes())],
                "setting the quota of host 10.0.0.1 to ports 4294967295",
            ),
            (
                "spis 1",
                vec![attr(router_attr::QUOTA_SPIS, &1u32.to_ne_bytes())],
                "setting the quota of host 10.0.0.1 to spis 1",
            ),
            // HOST_ADDR alone: back on the default quota.
            (
                "default",
                vec![],
                "putting host 10.0.0.1 back on the default quota",
            ),
        ] {
            let q = QuotaWords::parse(&words(input)).unwrap();
            let (msg, what) = quota_request(host, q);
            assert_eq!(what, text);
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 8);
            let mut all = vec![attr(router_attr::HOST_ADDR, &[10, 0, 0, 1])];
            all.extend(attrs);
            assert_eq!(got, request(0x21, router_cmd::SET_QUOTA, 8, &all), "{text}");
            // SET_QUOTA 17, version 1, HOST_ADDR in network byte order.
            assert_eq!(&got[16..28], &[17, 1, 0, 0, 8, 0, 13, 0, 10, 0, 0, 1]);
        }
        // Spelled out once, for a little-endian machine.
        if cfg!(target_endian = "little") {
            let q = QuotaWords::parse(&words("ports 100 spis 16")).unwrap();
            let got = nl::encode(genl(quota_request(host, q).0, 0x21), NLM_F_REQUEST, 8);
            assert_eq!(
                &got[28..],
                &[
                    8, 0, 27, 0, 100, 0, 0, 0, // QUOTA_PORTS
                    8, 0, 28, 0, 16, 0, 0, 0, // QUOTA_SPIS
                ][..]
            );
        }
        // Words the parser refuses are a usage error (exit 2) before any
        // socket.
        for input in ["", "ports 0", "default spis 16", "spis 1 spis 2", "all"] {
            match quota_change(host, &words(input)) {
                Err(
                    e @ Error::Usage {
                        cmd: "router quota",
                        ..
                    },
                ) => {
                    assert_eq!(e.exit_code(), 2, "{input:?}")
                }
                r => panic!("{input:?}: {r:?}"),
            }
        }
        let e = quota_change(host, &words("ports 0")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "router quota: ports: \"0\" is out of range (1 to 4294967295); \"default\" puts the \
             host back on the default quota"
        );
    }

    #[test]
    fn sa_policy_set_config_bytes() {
        for (words_in, value) in [
            ("sa-policy strict", 0u8),
            ("sa-policy permissive", 1),
            ("sa-policy 9", 9),
        ] {
            let s = RouterSettings::parse(&words(words_in)).unwrap();
            let msg = Msg {
                cmd: router_cmd::SET_CONFIG,
                attrs: s.attrs(),
            };
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 3);
            let want = request(
                0x21,
                router_cmd::SET_CONFIG,
                3,
                &[attr(router_attr::SA_POLICY, &[value])],
            );
            assert_eq!(got, want);
            // A u8 attribute number 31: length 5, padded to 8.
            assert_eq!(&got[20..], &[5, 0, 31, 0, value, 0, 0, 0]);
        }
        // Last, in attribute number order.
        let s = RouterSettings::parse(&words("sa-policy permissive quota-spis 8 unowned drop"))
            .unwrap();
        assert_eq!(
            s.attrs(),
            vec![
                RouterAttr::Unowned(1),
                RouterAttr::QuotaSpis(8),
                RouterAttr::SaPolicy(1)
            ]
        );
    }

    #[test]
    fn sa_request_bytes() {
        let sa = SaArgs {
            host: Ipv4Addr::new(10, 0, 0, 1),
            peer: Ipv4Addr::new(203, 0, 113, 3),
            spi: 0x1000,
        };
        for (what, cmd, text) in [
            (
                RouterSa::Validate(sa),
                11u8,
                "validating the SA of host 10.0.0.1 with peer 203.0.113.3 spi 0x1000",
            ),
            (
                RouterSa::Invalidate(sa),
                12,
                "invalidating the SA of host 10.0.0.1 with peer 203.0.113.3 spi 0x1000",
            ),
        ] {
            let (msg, got_what) = sa_request(what);
            assert_eq!(got_what, text);
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 6);
            let want = request(
                0x21,
                cmd,
                6,
                &[
                    attr(router_attr::HOST_ADDR, &[10, 0, 0, 1]),
                    attr(router_attr::PEER_ADDR, &[203, 0, 113, 3]),
                    attr(router_attr::SPI, &0x1000u32.to_ne_bytes()),
                ],
            );
            assert_eq!(got, want);
            // Addresses in network byte order, the SPI in host byte order.
            assert_eq!(
                &got[16..40],
                &[
                    cmd, 1, 0, 0, // genlmsghdr
                    8, 0, 13, 0, 10, 0, 0, 1, // HOST_ADDR
                    8, 0, 29, 0, 203, 0, 113, 3, // PEER_ADDR
                    8, 0, 30, 0, // SPI
                ][..]
            );
            assert_eq!(got.len(), 44);
        }
        assert_eq!(
            (router_cmd::SA_VALIDATE, router_cmd::SA_INVALIDATE),
            (11, 12)
        );
    }

    #[test]
    fn blacklist_request_bytes() {
        let host = Ipv4Addr::new(10, 0, 0, 1);
        let peer = Ipv4Addr::new(203, 0, 113, 66);
        for (add, cmd, w, attrs, text) in [
            (
                true,
                14u8,
                BlacklistWords {
                    peer: Some(peer),
                    ..BlacklistWords::default()
                },
                vec![attr(router_attr::PEER_ADDR, &[203, 0, 113, 66])],
                "adding peer 203.0.113.66 spi any to the blacklist of host 10.0.0.1",
            ),
            (
                false,
                15,
                BlacklistWords {
                    spi: Some(0x1000),
                    ..BlacklistWords::default()
                },
                vec![attr(router_attr::SPI, &0x1000u32.to_ne_bytes())],
                "removing peer any spi 0x1000 from the blacklist of host 10.0.0.1",
            ),
            (
                true,
                14,
                BlacklistWords {
                    peer: Some(peer),
                    spi: Some(u32::MAX),
                    router: None,
                },
                vec![
                    attr(router_attr::PEER_ADDR, &[203, 0, 113, 66]),
                    attr(router_attr::SPI, &u32::MAX.to_ne_bytes()),
                ],
                "adding peer 203.0.113.66 spi 0xffffffff to the blacklist of host 10.0.0.1",
            ),
        ] {
            let (msg, got_what) = blacklist_request(add, host, w);
            assert_eq!(got_what, text);
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 7);
            let mut all = vec![attr(router_attr::HOST_ADDR, &[10, 0, 0, 1])];
            all.extend(attrs);
            assert_eq!(got, request(0x21, cmd, 7, &all), "{text}");
            assert_eq!(&got[16..28], &[cmd, 1, 0, 0, 8, 0, 13, 0, 10, 0, 0, 1]);
        }
        assert_eq!(
            (
                router_cmd::GET_SAS,
                router_cmd::GET_BLACKLIST,
                router_cmd::BLACKLIST_ADD,
                router_cmd::BLACKLIST_DEL
            ),
            (10, 13, 14, 15)
        );
    }

    #[test]
    fn sas_and_blacklist_dump_requests() {
        // A dump request has no attribute: what family_dump sends.
        for cmd in [router_cmd::GET_SAS, router_cmd::GET_BLACKLIST] {
            let msg = Msg::<RouterAttr>::new(cmd);
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_DUMP, 2);
            assert_eq!(got.len(), 20);
            assert_eq!(&got[16..], &[cmd, 1, 0, 0]);
        }
    }

    #[test]
    fn pap_sa_and_blacklist_ops() {
        let router = Ipv4Addr::new(10, 0, 0, 7);
        let peer = Ipv4Addr::new(203, 0, 113, 3);
        let cmd = |s: &str| match Cli::try_parse_from(
            std::iter::once("dnatctl").chain(s.split_whitespace()),
        )
        .unwrap()
        .object
        {
            Object::Pap { cmd } => cmd,
            o => panic!("{o:?}"),
        };
        let (name, op, o, native) =
            pap_op(cmd("pap validate 203.0.113.3 0x1000 router 10.0.0.7")).unwrap();
        assert_eq!(name, "pap validate");
        assert_eq!(op, Op::Notice(Notice::SaValidate { peer, spi: 0x1000 }));
        assert_eq!(o.router, Some(router));
        assert!(!native);
        let (name, op, o, _) = pap_op(cmd("pap invalidate 203.0.113.3 4096")).unwrap();
        assert_eq!(name, "pap invalidate");
        assert_eq!(op, Op::Notice(Notice::SaInvalidate { peer, spi: 4096 }));
        assert_eq!(o.router, None);
        let (name, op, o, _) =
            pap_op(cmd("pap blacklist add router 10.0.0.7 peer 203.0.113.3")).unwrap();
        assert_eq!(name, "pap blacklist add");
        assert_eq!(
            op,
            Op::Notice(Notice::BlacklistAdd {
                peer: Some(peer),
                spi: None
            })
        );
        assert_eq!(o.router, Some(router));
        let (name, op, _, _) = pap_op(cmd("pap blacklist del spi 0x1000")).unwrap();
        assert_eq!(name, "pap blacklist del");
        assert_eq!(
            op,
            Op::Notice(Notice::BlacklistRemove {
                peer: None,
                spi: Some(0x1000)
            })
        );
        // What the codec refuses is a usage error (exit 2).
        for (input, msg) in [
            (
                "pap invalidate 224.0.0.1 0x1000",
                "pap invalidate: invalid SA: external address is not unicast",
            ),
            (
                "pap validate 0.0.0.0 0x1000",
                "external address is not unicast",
            ),
            (
                "pap blacklist del peer 255.255.255.255",
                "invalid blacklist entry: external address is not unicast",
            ),
            (
                "pap blacklist add router 10.0.0.7",
                "pap blacklist add: give peer ADDR, spi SPI or both",
            ),
            (
                "pap validate 203.0.113.3 0x1000 lease 5",
                "unknown option \"lease\"; expected router ADDR",
            ),
            (
                "pap validate 203.0.113.3 0x1000 peer 192.0.2.1",
                "unknown option \"peer\"",
            ),
            // The block messages keep their wording.
            (
                "pap release ports 65535 2",
                "pap release ports: invalid block: port block goes past 65535",
            ),
            (
                "pap blacklist add spi 255",
                "pap blacklist add: spi: \"255\" is out of range (256 to 4294967295)",
            ),
        ] {
            let e = pap_op(cmd(input)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{input}");
            assert!(e.to_string().contains(msg), "{input}: {e}");
        }
        // Reserved SPIs are refused with the other limits, before the codec.
        for input in [
            "pap validate 203.0.113.3 255",
            "pap validate 203.0.113.3 0",
            "pap release spis 255 1",
        ] {
            let e = Cli::try_parse_from(std::iter::once("dnatctl").chain(input.split(' ')))
                .unwrap_err();
            assert_eq!(e.exit_code(), 2, "{input}");
        }
    }

    #[test]
    fn unowned_set_config_bytes() {
        for (words_in, value) in [
            ("unowned local", 0u8),
            ("unowned drop", 1),
            ("unowned 200", 200),
        ] {
            let s = RouterSettings::parse(&words(words_in)).unwrap();
            let msg = Msg {
                cmd: router_cmd::SET_CONFIG,
                attrs: s.attrs(),
            };
            let got = nl::encode(genl(msg, 0x21), NLM_F_REQUEST | NLM_F_ACK, 3);
            let want = request(
                0x21,
                router_cmd::SET_CONFIG,
                3,
                &[attr(router_attr::UNOWNED, &[value])],
            );
            assert_eq!(got, want);
            // A u8 attribute: length 5, padded to 8.
            assert_eq!(&got[20..], &[5, 0, 26, 0, value, 0, 0, 0]);
        }
        // After the other settings, in attribute number order.
        let s = RouterSettings::parse(&words("unowned drop ports 1-2")).unwrap();
        assert_eq!(
            s.attrs(),
            vec![
                RouterAttr::PortMin(1),
                RouterAttr::PortMax(2),
                RouterAttr::Unowned(1)
            ]
        );
    }
}
