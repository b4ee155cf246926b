// SPDX-License-Identifier: GPL-2.0

//! The events of `dnatctl monitor`: an `EVENT` message of the `dnat_router`
//! or `dnat_host` family (Documentation/networking/dnat-netlink.rst,
//! "Events") decoded, and its line of text or JSON.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use dnat_core::uapi::{host_event, host_mode, router_event};
use serde::Serialize;

use crate::dump::{blacklist_match, block_span, kind_name};
use crate::msg::{HostAttr, RouterAttr};

/// The names of `router_event` values (`enum dnat_router_event`), from 1.
const ROUTER_EVENTS: [&str; 15] = [
    "granted",
    "renewed",
    "released",
    "expired",
    "revoked",
    "readmitted",
    "over-quota",
    "rate-limited",
    "reset",
    "sa-validated",
    "sa-invalidated",
    "blacklist-added",
    "blacklist-removed",
    "flood",
    "overflow",
];

/// The names of `host_event` values (`enum dnat_host_event`), from 1.
const HOST_EVENTS: [&str; 15] = [
    "started",
    "stopped",
    "granted",
    "renewed",
    "lost",
    "refused",
    "router-restart",
    "sa-validated",
    "sa-invalidated",
    "blacklist-added",
    "blacklist-removed",
    "sa-refused",
    "mode-changed",
    "key-installed",
    "overflow",
];

/// The name of event type `v` in `names`, `event N` if unknown.
fn type_name(names: &[&str], v: u8) -> String {
    usize::from(v)
        .checked_sub(1)
        .and_then(|i| names.get(i))
        .map_or_else(|| format!("event {v}"), |n| (*n).to_owned())
}

/// One event, as `dnatctl --json monitor` prints it: absent attributes are
/// left out.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// `router` or `host`.
    pub family: &'static str,
    /// The event type's name (`granted`, `flood`, ...).
    pub event: String,
    /// The host (router events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<Ipv4Addr>,
    /// The router (host events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router: Option<Ipv4Addr>,
    /// `ports` or `spis`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip)]
    pub kind_num: Option<u8>,
    /// The block's first port or SPI; absent for what a request asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lowest: Option<u32>,
    /// Ports or SPIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The lease, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spi: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    /// `translate` or `native`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Drops a second (flood).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_second: Option<u64>,
    /// Events lost (overflow), or another number of an event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Events of the type suppressed by their rate limit before this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<u32>,
}

fn mode_name(m: u8) -> String {
    match m {
        host_mode::TRANSLATE => "translate".into(),
        host_mode::NATIVE => "native".into(),
        m => format!("mode {m}"),
    }
}

impl Event {
    /// Puts `EVENT_COUNT` where the type says it goes.
    fn set_count(&mut self, n: u64) {
        if self.event == "flood" {
            self.per_second = Some(n);
        } else {
            self.number = Some(n);
        }
    }

    fn set_kind(&mut self, k: u8) {
        self.kind = Some(kind_name(k));
        self.kind_num = Some(k);
    }

    /// The event of a router `EVENT` message's attributes.
    pub fn from_router(attrs: &[RouterAttr]) -> Result<Self, String> {
        let ty = attrs
            .iter()
            .find_map(|a| match a {
                RouterAttr::EventType(t) => Some(*t),
                _ => None,
            })
            .ok_or("event message without EVENT_TYPE")?;
        let mut e = Event {
            family: "router",
            event: type_name(&ROUTER_EVENTS, ty),
            ..Event::default()
        };
        for a in attrs {
            match a {
                RouterAttr::HostAddr(h) => e.host = Some(*h),
                RouterAttr::BlockKind(k) => e.set_kind(*k),
                RouterAttr::BlockLowest(v) => e.lowest = Some(*v),
                RouterAttr::BlockCount(v) => e.count = Some(*v),
                RouterAttr::BlockExpires(v) => e.lease = Some(*v),
                RouterAttr::PeerAddr(p) => e.peer = Some(*p),
                RouterAttr::Spi(s) => e.spi = Some(*s),
                RouterAttr::Epoch(v) => e.epoch = Some(*v),
                RouterAttr::EventReason(r) => e.reason = Some(r.clone()),
                RouterAttr::EventCount(n) => e.set_count(*n),
                RouterAttr::EventSuppressed(n) => e.suppressed = Some(*n),
                _ => {}
            }
        }
        Ok(e)
    }

    /// The event of a host `EVENT` message's attributes.
    pub fn from_host(attrs: &[HostAttr]) -> Result<Self, String> {
        let ty = attrs
            .iter()
            .find_map(|a| match a {
                HostAttr::EventType(t) => Some(*t),
                _ => None,
            })
            .ok_or("event message without EVENT_TYPE")?;
        let mut e = Event {
            family: "host",
            event: type_name(&HOST_EVENTS, ty),
            ..Event::default()
        };
        for a in attrs {
            match a {
                HostAttr::RouterAddr(r) => e.router = Some(*r),
                HostAttr::BlockKind(k) => e.set_kind(*k),
                HostAttr::BlockLowest(v) => e.lowest = Some(*v),
                HostAttr::BlockCount(v) => e.count = Some(*v),
                HostAttr::BlockExpires(v) => e.lease = Some(*v),
                HostAttr::PeerAddr(p) => e.peer = Some(*p),
                HostAttr::Spi(s) => e.spi = Some(*s),
                HostAttr::Epoch(v) => e.epoch = Some(*v),
                HostAttr::Mode(m) => e.mode = Some(mode_name(*m)),
                HostAttr::EventReason(r) => e.reason = Some(r.clone()),
                HostAttr::EventCount(n) => e.set_count(*n),
                _ => {}
            }
        }
        Ok(e)
    }
}

/// The text line of an event:
///
/// ```text
/// router granted host 10.0.0.1 ports 20000-20015 lease 3600s
/// router rate-limited host 10.0.0.3 asked ports 1 (8 suppressed)
/// router flood in_sa_not_validated 2304/s
/// host lost spis 0x1000-0x10ff reason router-restart
/// ```
pub fn render(e: &Event) -> String {
    let mut s = format!("{} {}", e.family, e.event);
    if e.event == "flood" {
        if let Some(r) = &e.reason {
            let _ = write!(s, " {r}");
        }
        if let Some(n) = e.per_second {
            let _ = write!(s, " {n}/s");
        }
    }
    if let Some(h) = e.host {
        let _ = write!(s, " host {h}");
    }
    if let Some(r) = e.router {
        let _ = write!(s, " router {r}");
    }
    if let (Some(kind), Some(k)) = (&e.kind, e.kind_num) {
        match (e.lowest, e.count) {
            (Some(lo), Some(n)) => {
                let _ = write!(s, " {kind} {}", block_span(k, lo, n));
            }
            (None, Some(n)) => {
                let _ = write!(s, " asked {kind} {n}");
            }
            _ => {
                let _ = write!(s, " {kind}");
            }
        }
    }
    if let Some(l) = e.lease {
        let _ = write!(s, " lease {l}s");
    }
    if e.event.starts_with("blacklist") {
        let _ = write!(s, " {}", blacklist_match(e.peer, e.spi));
    } else {
        if let Some(p) = e.peer {
            let _ = write!(s, " peer {p}");
        }
        if let Some(spi) = e.spi {
            let _ = write!(s, " spi {spi:#x}");
        }
    }
    if let Some(ep) = e.epoch {
        let _ = write!(s, " epoch {ep}");
    }
    if let Some(m) = &e.mode {
        let _ = write!(s, " mode {m}");
    }
    if e.event != "flood" {
        if let Some(r) = &e.reason {
            let _ = write!(s, " reason {r}");
        }
        if let Some(n) = e.per_second {
            let _ = write!(s, " {n}/s");
        }
    }
    if let Some(n) = e.number {
        if e.event == "overflow" {
            let _ = write!(s, " {n} events lost");
        } else {
            let _ = write!(s, " count {n}");
        }
    }
    if let Some(n) = e.suppressed {
        let _ = write!(s, " ({n} suppressed)");
    }
    s.push('\n');
    s
}

// Every type has a name (the last is overflow in both families).
const _: () = assert!(ROUTER_EVENTS.len() == router_event::OVERFLOW as usize);
const _: () = assert!(HOST_EVENTS.len() == host_event::OVERFLOW as usize);

#[cfg(test)]
mod tests {
    use super::*;
    use dnat_core::uapi::block_kind;

    fn router_event_name(v: u8) -> String {
        type_name(&ROUTER_EVENTS, v)
    }

    fn json(e: &Event) -> String {
        serde_json::to_string(e).unwrap()
    }

    #[test]
    fn names_follow_the_uapi_values() {
        assert_eq!(router_event_name(router_event::GRANTED), "granted");
        assert_eq!(router_event_name(router_event::OVER_QUOTA), "over-quota");
        assert_eq!(router_event_name(router_event::FLOOD), "flood");
        assert_eq!(router_event_name(router_event::OVERFLOW), "overflow");
        assert_eq!(router_event_name(0), "event 0");
        assert_eq!(router_event_name(99), "event 99");
        assert_eq!(type_name(&HOST_EVENTS, host_event::STARTED), "started");
        assert_eq!(
            type_name(&HOST_EVENTS, host_event::ROUTER_RESTART),
            "router-restart"
        );
        assert_eq!(
            type_name(&HOST_EVENTS, host_event::KEY_INSTALLED),
            "key-installed"
        );
        assert_eq!(type_name(&HOST_EVENTS, host_event::OVERFLOW), "overflow");
    }

    #[test]
    fn router_grant_text_and_json() {
        let attrs = [
            RouterAttr::EventType(router_event::GRANTED),
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::BlockKind(block_kind::PORTS),
            RouterAttr::BlockLowest(20000),
            RouterAttr::BlockCount(16),
            RouterAttr::BlockExpires(3600),
        ];
        let e = Event::from_router(&attrs).unwrap();
        assert_eq!(
            render(&e),
            "router granted host 10.0.0.1 ports 20000-20015 lease 3600s\n"
        );
        assert_eq!(
            json(&e),
            r#"{"family":"router","event":"granted","host":"10.0.0.1","kind":"ports","lowest":20000,"count":16,"lease":3600}"#
        );
    }

    #[test]
    fn router_refusals_floods_and_others() {
        let e = Event::from_router(&[
            RouterAttr::EventType(router_event::RATE_LIMITED),
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 3)),
            RouterAttr::BlockKind(block_kind::PORTS),
            RouterAttr::BlockCount(1),
            RouterAttr::EventSuppressed(8),
        ])
        .unwrap();
        assert_eq!(
            render(&e),
            "router rate-limited host 10.0.0.3 asked ports 1 (8 suppressed)\n"
        );
        assert!(json(&e).ends_with(r#""kind":"ports","count":1,"suppressed":8}"#));
        let f = Event::from_router(&[
            RouterAttr::EventType(router_event::FLOOD),
            RouterAttr::EventReason("in_sa_not_validated".into()),
            RouterAttr::EventCount(2304),
        ])
        .unwrap();
        assert_eq!(render(&f), "router flood in_sa_not_validated 2304/s\n");
        assert_eq!(
            json(&f),
            r#"{"family":"router","event":"flood","reason":"in_sa_not_validated","per_second":2304}"#
        );
        let r = Event::from_router(&[
            RouterAttr::EventType(router_event::RESET),
            RouterAttr::Epoch(1765000000),
        ])
        .unwrap();
        assert_eq!(render(&r), "router reset epoch 1765000000\n");
        let b = Event::from_router(&[
            RouterAttr::EventType(router_event::BLACKLIST_ADDED),
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::PeerAddr(Ipv4Addr::new(203, 0, 113, 66)),
        ])
        .unwrap();
        assert_eq!(
            render(&b),
            "router blacklist-added host 10.0.0.1 peer 203.0.113.66 spi any\n"
        );
        let s = Event::from_router(&[
            RouterAttr::EventType(router_event::SA_VALIDATED),
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::PeerAddr(Ipv4Addr::new(203, 0, 113, 3)),
            RouterAttr::Spi(0x1000),
        ])
        .unwrap();
        assert_eq!(
            render(&s),
            "router sa-validated host 10.0.0.1 peer 203.0.113.3 spi 0x1000\n"
        );
        let o = Event::from_router(&[
            RouterAttr::EventType(router_event::OVERFLOW),
            RouterAttr::EventCount(12),
        ])
        .unwrap();
        assert_eq!(render(&o), "router overflow 12 events lost\n");
        assert!(json(&o).contains(r#""number":12"#));
        let rel = Event::from_router(&[
            RouterAttr::EventType(router_event::RELEASED),
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::EventReason("all".into()),
        ])
        .unwrap();
        assert_eq!(render(&rel), "router released host 10.0.0.1 reason all\n");
        assert!(Event::from_router(&[RouterAttr::Spi(1)]).is_err());
    }

    #[test]
    fn host_events_text_and_json() {
        let e = Event::from_host(&[
            HostAttr::EventType(host_event::LOST),
            HostAttr::BlockKind(block_kind::SPIS),
            HostAttr::BlockLowest(0x1000),
            HostAttr::BlockCount(256),
            HostAttr::EventReason("router-restart".into()),
        ])
        .unwrap();
        assert_eq!(
            render(&e),
            "host lost spis 0x1000-0x10ff reason router-restart\n"
        );
        assert_eq!(
            json(&e),
            r#"{"family":"host","event":"lost","kind":"spis","lowest":4096,"count":256,"reason":"router-restart"}"#
        );
        let s = Event::from_host(&[
            HostAttr::EventType(host_event::STARTED),
            HostAttr::RouterAddr(Ipv4Addr::new(10, 0, 0, 7)),
        ])
        .unwrap();
        assert_eq!(render(&s), "host started router 10.0.0.7\n");
        let m = Event::from_host(&[
            HostAttr::EventType(host_event::MODE_CHANGED),
            HostAttr::Mode(host_mode::NATIVE),
        ])
        .unwrap();
        assert_eq!(render(&m), "host mode-changed mode native\n");
        assert_eq!(
            json(&m),
            r#"{"family":"host","event":"mode-changed","mode":"native"}"#
        );
        let r = Event::from_host(&[
            HostAttr::EventType(host_event::REFUSED),
            HostAttr::BlockKind(block_kind::PORTS),
            HostAttr::BlockCount(8),
            HostAttr::EventReason("over_quota".into()),
        ])
        .unwrap();
        assert_eq!(render(&r), "host refused asked ports 8 reason over_quota\n");
        let x = Event::from_host(&[HostAttr::EventType(200)]).unwrap();
        assert_eq!(render(&x), "host event 200\n");
    }
}
