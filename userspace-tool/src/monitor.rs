// SPDX-License-Identifier: GPL-2.0

//! `dnatctl monitor [router|host]`: joins the `events` multicast group of
//! the `dnat_router` and/or `dnat_host` family in the caller's network
//! namespace and prints each event as it comes, one line of text or one
//! JSON object per line (`event.rs`), like `ip monitor`. It also joins the
//! controller's `notify` group, so that a module unloaded and loaded again
//! is followed on (`unloaded`, `loaded`). It runs until SIGINT or SIGTERM,
//! or until its output is closed (EPIPE), and exits 0 then.

use std::ffi::CStr;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use dnat_core::uapi::{host_cmd, router_cmd, HOST_MCGRP_EVENTS, ROUTER_MCGRP_EVENTS};
use netlink_packet_core::{NetlinkBuffer, NetlinkDeserializable, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

use crate::event::{render, Event};
use crate::log;
use crate::msg::{Attr, CtrlAttr, HostAttr, Msg, RouterAttr};
use crate::nl::{exit, split, Conn, Error};

/// `EPERM`.
const EPERM: i32 = 1;
/// `ENOBUFS`: the socket's receive queue overflowed, events were lost.
const ENOBUFS: i32 = 105;
/// Longest wait without looking at the signal flag.
const TICK: Duration = Duration::from_secs(1);
/// `GENL_ID_CTRL`: the generic netlink controller's family id.
const GENL_ID_CTRL: u16 = 0x10;
/// `CTRL_CMD_NEWFAMILY`, `CTRL_CMD_DELFAMILY`.
const CTRL_CMD_NEWFAMILY: u8 = 1;
const CTRL_CMD_DELFAMILY: u8 = 2;

pub const HELP: &str = "\
Prints the events of the dnat_router and/or dnat_host module of this network
namespace as they happen, one line each, or with --json one JSON object per
line, until interrupted (SIGINT, SIGTERM) or until the output is closed; exit
status 0 then. Without an argument it follows both modules, or the one that is
loaded. Joining the events group needs CAP_NET_ADMIN.

Router events: granted, renewed, released, expired (host, block, lease),
revoked, readmitted (host), over-quota, rate-limited (host, what was asked),
reset (the new epoch), sa-validated, sa-invalidated, blacklist-added,
blacklist-removed (host, peer, SPI), flood (a drop counter rising by more than
100 a second: its name and rate). Host events: started (router), stopped,
granted, renewed, lost (block, reason), refused (reason), router-restart
(epoch), sa-validated, sa-invalidated, blacklist-added, blacklist-removed,
sa-refused, mode-changed, key-installed. overflow says how many events the
module could not queue; \"(N suppressed)\" how many of that type its rate limit
held back. unloaded and loaded come from the generic netlink controller, not
from the module: the monitor follows a module that is unloaded and loaded
again. Documentation/networking/dnat-netlink.rst (\"Events\") lists every
event and its attributes.

Example:
  router granted host 10.0.0.1 ports 20000-20063 lease 3600s
  router flood in_sa_not_validated 2304/s
  host lost spis 0x1000-0x10ff reason router-restart";

/// Which module's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// The dnat_router module's.
    Router,
    /// The dnat_host module's.
    Host,
}

/// A family followed: its name and events group, how its events decode,
/// and its id while it is registered.
struct Followed {
    family: &'static str,
    name: &'static CStr,
    group: &'static CStr,
    decode: fn(&[u8]) -> Option<Result<Event, String>>,
    id: Option<u16>,
}

/// What a controller notification says about a family.
#[derive(Debug, PartialEq, Eq)]
enum CtrlNews {
    /// Registered with this id and these multicast groups.
    New(String, u16, Vec<(String, u32)>),
    /// Unregistered.
    Del(String),
}

/// The controller's `NEWFAMILY` or `DELFAMILY` notification in `bytes`;
/// `None` for anything else (other commands, malformed messages).
fn ctrl_news(bytes: &[u8]) -> Option<CtrlNews> {
    let msg = NetlinkMessage::<GenlMessage<Msg<CtrlAttr>>>::deserialize(bytes).ok()?;
    let NetlinkPayload::InnerMessage(m) = msg.payload else {
        return None;
    };
    let attrs = &m.payload.attrs;
    let name = attrs.iter().find_map(|a| match a {
        CtrlAttr::FamilyName(n) => Some(n.clone()),
        _ => None,
    })?;
    match m.payload.cmd {
        CTRL_CMD_NEWFAMILY => {
            let id = crate::nl::family_id([&m.payload])?;
            Some(CtrlNews::New(
                name,
                id,
                crate::nl::family_groups([&m.payload]),
            ))
        }
        CTRL_CMD_DELFAMILY => Some(CtrlNews::Del(name)),
        _ => None,
    }
}

/// The monitor's own event about `family`: `unloaded` or `loaded`.
fn module_event(family: &'static str, event: &str) -> Event {
    Event {
        family,
        event: event.into(),
        ..Event::default()
    }
}

/// The event in `bytes`, a message of `A`'s family: `None` if it is not an
/// `EVENT` message.
fn decode<A: Attr>(
    bytes: &[u8],
    event_cmd: u8,
    of: fn(&[A]) -> Result<Event, String>,
) -> Option<Result<Event, String>>
where
    GenlMessage<Msg<A>>: NetlinkDeserializable,
{
    let msg = match NetlinkMessage::<GenlMessage<Msg<A>>>::deserialize(bytes) {
        Ok(m) => m,
        Err(e) => return Some(Err(e.to_string())),
    };
    match msg.payload {
        NetlinkPayload::InnerMessage(m) if m.payload.cmd == event_cmd => Some(of(&m.payload.attrs)),
        _ => None,
    }
}

fn decode_router(bytes: &[u8]) -> Option<Result<Event, String>> {
    decode::<RouterAttr>(bytes, router_cmd::EVENT, Event::from_router)
}

fn decode_host(bytes: &[u8]) -> Option<Result<Event, String>> {
    decode::<HostAttr>(bytes, host_cmd::EVENT, Event::from_host)
}

/// Joins `family`'s `group`; `None` if the family is not registered and
/// `optional`.
fn follow(
    conn: &mut Conn,
    family: &CStr,
    group: &CStr,
    optional: bool,
) -> Result<Option<u16>, Error> {
    let (id, groups) = match conn.family(family) {
        Ok(f) => f,
        Err(Error::NoFamily { .. }) if optional => return Ok(None),
        Err(e) => return Err(e),
    };
    join_group(conn, family, group, &groups)?;
    Ok(Some(id))
}

/// Joins `family`'s `group`, found in `groups` (name, number).
fn join_group(
    conn: &mut Conn,
    family: &CStr,
    group: &CStr,
    groups: &[(String, u32)],
) -> Result<(), Error> {
    let name = group.to_string_lossy();
    let Some(&(_, number)) = groups.iter().find(|(n, _)| *n == name) else {
        return Err(Error::Malformed {
            what: format!(
                "resolving generic netlink family {}",
                family.to_string_lossy()
            ),
            detail: format!("no multicast group {name} (a module without events?)"),
        });
    };
    conn.join(number).map_err(|e| match e {
        Error::Io { err, .. } if err.raw_os_error() == Some(EPERM) => Error::Kernel {
            what: format!("joining the {name} group of {}", family.to_string_lossy()),
            errno: EPERM,
            extack: Some("joining needs CAP_NET_ADMIN".into()),
        },
        e => e,
    })
}

/// Waits at most `timeout` (not zero) for a datagram; `Ok(None)` on a
/// timeout or a signal.
fn recv(conn: &Conn, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
    let sock = conn.socket();
    socket2::SockRef::from(sock).set_read_timeout(Some(timeout))?;
    match sock.recv_from_full() {
        Ok((buf, _)) => Ok(Some(buf)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Prints `e`; `false` when the output is closed.
fn print(out: &mut impl Write, e: &Event, json: bool) -> Result<bool, Error> {
    let line = if json {
        let mut s = serde_json::to_string(e).map_err(|err| Error::Io {
            what: "formatting JSON".into(),
            err: err.into(),
        })?;
        s.push('\n');
        s
    } else {
        render(e)
    };
    match out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(err) => Err(Error::Io {
            what: "writing the output".into(),
            err,
        }),
    }
}

/// Runs the monitor.
pub fn run(which: Option<Which>, json: bool) -> Result<i32, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(|err| Error::Io {
            what: format!("installing a handler for signal {sig}"),
            err,
        })?;
    }
    let mut conn = Conn::open()?;
    let optional = which.is_none();
    let mut followed = Vec::new();
    if which != Some(Which::Host) {
        followed.push(Followed {
            family: "router",
            name: RouterAttr::FAMILY,
            group: ROUTER_MCGRP_EVENTS,
            decode: decode_router,
            id: follow(&mut conn, RouterAttr::FAMILY, ROUTER_MCGRP_EVENTS, optional)?,
        });
    }
    if which != Some(Which::Router) {
        followed.push(Followed {
            family: "host",
            name: HostAttr::FAMILY,
            group: HOST_MCGRP_EVENTS,
            decode: decode_host,
            id: follow(&mut conn, HostAttr::FAMILY, HOST_MCGRP_EVENTS, optional)?,
        });
    }
    if followed.iter().all(|f| f.id.is_none()) {
        return Err(Error::NoFamily {
            family: "dnat_router or dnat_host".into(),
            errno: 2,
            extack: Some("neither family is registered; is a dnat module loaded?".into()),
        });
    }
    // The controller's notifications: a module unloaded and loaded again.
    let (_, ctrl_groups) = conn.family(CtrlAttr::FAMILY)?;
    join_group(&mut conn, CtrlAttr::FAMILY, c"notify", &ctrl_groups)?;
    // A burst (a reset, many hosts) should fit; the kernel caps it.
    let _ = socket2::SockRef::from(conn.socket()).set_recv_buffer_size(1 << 20);
    let mut out = io::stdout().lock();
    while !stop.load(Ordering::Relaxed) {
        let buf = match recv(&conn, TICK) {
            Ok(Some(buf)) => buf,
            Ok(None) => continue,
            Err(e) if e.raw_os_error() == Some(ENOBUFS) => {
                log::error("dnatctl: monitor: events lost (the socket's receive queue overflowed)");
                continue;
            }
            Err(err) => {
                return Err(Error::Io {
                    what: "receiving events".into(),
                    err,
                })
            }
        };
        let msgs = split(&buf).map_err(|detail| Error::Malformed {
            what: "receiving events".into(),
            detail,
        })?;
        for bytes in msgs {
            let Ok(hdr) = NetlinkBuffer::new_checked(bytes) else {
                continue;
            };
            let ty = hdr.message_type();
            let open = if ty == GENL_ID_CTRL {
                match ctrl_news(bytes) {
                    Some(news) => module_news(&mut conn, &mut followed, news, &mut out, json)?,
                    None => true,
                }
            } else {
                let Some(f) = followed.iter().find(|f| f.id == Some(ty)) else {
                    continue;
                };
                match (f.decode)(bytes) {
                    None => true,
                    Some(Ok(e)) => print(&mut out, &e, json)?,
                    Some(Err(detail)) => {
                        log::error(&format!("dnatctl: monitor: malformed event: {detail}"));
                        true
                    }
                }
            };
            if !open {
                return Ok(exit::OK);
            }
        }
    }
    Ok(exit::OK)
}

/// Acts on a controller notification: a followed family unregistered is
/// reported, one registered again is joined and reported. `false` when the
/// output is closed.
fn module_news(
    conn: &mut Conn,
    followed: &mut [Followed],
    news: CtrlNews,
    out: &mut impl Write,
    json: bool,
) -> Result<bool, Error> {
    let name = match &news {
        CtrlNews::New(n, ..) | CtrlNews::Del(n) => n.as_str(),
    };
    let Some(f) = followed
        .iter_mut()
        .find(|f| f.name.to_bytes() == name.as_bytes())
    else {
        return Ok(true);
    };
    match news {
        CtrlNews::Del(_) if f.id.is_some() => {
            f.id = None;
            print(out, &module_event(f.family, "unloaded"), json)
        }
        CtrlNews::New(_, id, groups) => {
            join_group(conn, f.name, f.group, &groups)?;
            f.id = Some(id);
            print(out, &module_event(f.family, "loaded"), json)
        }
        CtrlNews::Del(_) => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::{encode, genl};
    use dnat_core::uapi::router_event;
    use std::net::Ipv4Addr;

    #[test]
    fn decodes_only_event_messages() {
        let ev = Msg {
            cmd: router_cmd::EVENT,
            attrs: vec![
                RouterAttr::EventType(router_event::REVOKED),
                RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            ],
        };
        let bytes = encode(genl(ev, 0x20), 0, 0);
        let e = decode_router(&bytes).unwrap().unwrap();
        assert_eq!(
            (e.event.as_str(), e.host),
            ("revoked", Some(Ipv4Addr::new(10, 0, 0, 1)))
        );
        let other = encode(
            genl(Msg::<RouterAttr>::new(router_cmd::GET_CONFIG), 0x20),
            0,
            0,
        );
        assert!(decode_router(&other).is_none());
        let bad = Msg {
            cmd: router_cmd::EVENT,
            attrs: vec![RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1))],
        };
        assert!(decode_router(&encode(genl(bad, 0x20), 0, 0))
            .unwrap()
            .is_err());
        assert!(decode_host(&bytes[..10]).unwrap().is_err());
    }

    #[test]
    fn reads_family_news_of_the_controller() {
        let news = |cmd, attrs| encode(genl(Msg::<CtrlAttr> { cmd, attrs }, GENL_ID_CTRL), 0, 0);
        let name = CtrlAttr::FamilyName("dnat_router".into());
        let groups = CtrlAttr::McastGroups(vec![("events".into(), 9)]);
        let new = news(
            CTRL_CMD_NEWFAMILY,
            vec![CtrlAttr::FamilyId(0x21), name.clone(), groups.clone()],
        );
        assert_eq!(
            ctrl_news(&new),
            Some(CtrlNews::New(
                "dnat_router".into(),
                0x21,
                vec![("events".into(), 9)]
            ))
        );
        let del = news(
            CTRL_CMD_DELFAMILY,
            vec![CtrlAttr::FamilyId(0x21), name.clone()],
        );
        assert_eq!(ctrl_news(&del), Some(CtrlNews::Del("dnat_router".into())));
        // No name, no id in a NEWFAMILY, another command, a cut message.
        assert_eq!(
            ctrl_news(&news(CTRL_CMD_DELFAMILY, vec![CtrlAttr::FamilyId(0x21)])),
            None
        );
        assert_eq!(
            ctrl_news(&news(CTRL_CMD_NEWFAMILY, vec![name.clone(), groups])),
            None
        );
        assert_eq!(
            ctrl_news(&news(7, vec![CtrlAttr::FamilyId(0x21), name])),
            None
        );
        assert_eq!(ctrl_news(&new[..new.len() - 4]), None);
        assert_eq!(ctrl_news(&new[..10]), None);
    }

    #[test]
    fn module_events_render() {
        let e = module_event("host", "unloaded");
        assert_eq!(render(&e), "host unloaded\n");
        assert_eq!(
            serde_json::to_string(&module_event("router", "loaded")).unwrap(),
            "{\"family\":\"router\",\"event\":\"loaded\"}"
        );
    }

    #[test]
    fn a_closed_output_ends_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e = Event::from_router(&[RouterAttr::EventType(router_event::RESET)]).unwrap();
        assert!(!print(&mut Closed, &e, false).unwrap());
        let mut v = Vec::new();
        assert!(print(&mut v, &e, true).unwrap());
        assert_eq!(v, b"{\"family\":\"router\",\"event\":\"reset\"}\n");
    }
}
