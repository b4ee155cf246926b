// SPDX-License-Identifier: GPL-2.0

//! `dnatctl monitor [router|host]`: joins the `events` multicast group of
//! the `dnat_router` and/or `dnat_host` family in the caller's network
//! namespace and prints each event as it comes, one line of text or one
//! JSON object per line (`event.rs`), like `ip monitor`. It runs until
//! SIGINT or SIGTERM, or until its output is closed (EPIPE), and exits 0
//! then.

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
use crate::msg::{Attr, HostAttr, Msg, RouterAttr};
use crate::nl::{exit, split, Conn, Error};

/// `EPERM`.
const EPERM: i32 = 1;
/// `ENOBUFS`: the socket's receive queue overflowed, events were lost.
const ENOBUFS: i32 = 105;
/// Longest wait without looking at the signal flag.
const TICK: Duration = Duration::from_secs(1);

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
held back. Documentation/networking/dnat-netlink.rst (\"Events\") lists every
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

/// A family followed: its id, and how its events decode.
struct Followed {
    id: u16,
    decode: fn(&[u8]) -> Option<Result<Event, String>>,
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
    })?;
    Ok(Some(id))
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
        if let Some(id) = follow(&mut conn, RouterAttr::FAMILY, ROUTER_MCGRP_EVENTS, optional)? {
            followed.push(Followed {
                id,
                decode: decode_router,
            });
        }
    }
    if which != Some(Which::Router) {
        if let Some(id) = follow(&mut conn, HostAttr::FAMILY, HOST_MCGRP_EVENTS, optional)? {
            followed.push(Followed {
                id,
                decode: decode_host,
            });
        }
    }
    if followed.is_empty() {
        return Err(Error::NoFamily {
            family: "dnat_router or dnat_host".into(),
            errno: 2,
            extack: Some("neither family is registered; is a dnat module loaded?".into()),
        });
    }
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
            let Some(f) = followed.iter().find(|f| f.id == ty) else {
                continue;
            };
            let open = match (f.decode)(bytes) {
                None => true,
                Some(Ok(e)) => print(&mut out, &e, json)?,
                Some(Err(detail)) => {
                    log::error(&format!("dnatctl: monitor: malformed event: {detail}"));
                    true
                }
            };
            if !open {
                return Ok(exit::OK);
            }
        }
    }
    Ok(exit::OK)
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
