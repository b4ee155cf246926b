// SPDX-License-Identifier: GPL-2.0

//! What `show` prints: the configuration and counters decoded from the
//! replies, rendered for humans or serialized as JSON. Unset values are
//! `None` ("(none)", JSON `null`).

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;

use dnat_core::uapi::{host_mode, pap_auth_mode, sa_policy, unowned};
use dnat_core::{config, hooks};
use serde::{Serialize, Serializer};

use crate::msg::{HostAttr, RouterAttr};

/// An interface of the router configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Iface {
    pub name: String,
    pub ifindex: Option<u32>,
}

/// An inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
}

/// The `UNOWNED` setting: what happens to inbound packets for ports and
/// SPIs nobody owns. Shown as `local` or `drop`, or as the number when this
/// tool does not know it (JSON: the string, or the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unowned(pub u8);

impl Unowned {
    /// `local`, `drop`, or `None` for a value this tool does not know.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            unowned::LOCAL => Some("local"),
            unowned::DROP => Some("drop"),
            _ => None,
        }
    }
}

impl fmt::Display for Unowned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for Unowned {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.0),
        }
    }
}

/// The `SA_POLICY` setting: whether inbound ESP/AH needs a validated SA.
/// Shown as `strict` or `permissive`, or as the number when this tool does
/// not know it (JSON: the string, or the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaPolicy(pub u8);

impl SaPolicy {
    /// `strict`, `permissive`, or `None` for a value this tool does not know.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            sa_policy::STRICT => Some("strict"),
            sa_policy::PERMISSIVE => Some("permissive"),
            _ => None,
        }
    }
}

impl fmt::Display for SaPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for SaPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.0),
        }
    }
}

/// The `PAP_AUTH` setting: whether the PAP server requires
/// authentication. Shown as `required` or `optional`, or as the number
/// when this tool does not know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PapAuth(pub u8);

impl PapAuth {
    /// `required`, `optional`, or `None` for a value this tool does not know.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            pap_auth_mode::REQUIRED => Some("required"),
            pap_auth_mode::OPTIONAL => Some("optional"),
            _ => None,
        }
    }
}

impl fmt::Display for PapAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for PapAuth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.0),
        }
    }
}

/// The host's `MODE`: how its traffic uses the granted ports. Shown as
/// `translate` or `native`, or as the number when this tool does not know
/// it (JSON: the string, or the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMode(pub u8);

impl HostMode {
    /// `translate`, `native`, or `None` for a value this tool does not know.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            host_mode::TRANSLATE => Some("translate"),
            host_mode::NATIVE => Some("native"),
            _ => None,
        }
    }
}

impl fmt::Display for HostMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for HostMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.0),
        }
    }
}

/// The router configuration (reply to `GET_CONFIG`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RouterConfig {
    pub lan: Option<Iface>,
    pub wan: Option<Iface>,
    pub public_addr: Option<Ipv4Addr>,
    pub ports: Option<Range<u16>>,
    pub spis: Option<Range<u32>>,
    /// `None`: the module did not send `UNOWNED`.
    pub unowned: Option<Unowned>,
    /// `None`: the module did not send `SA_POLICY` (a module without it).
    pub sa_policy: Option<SaPolicy>,
    /// Per-host quotas in effect; `None` if the module did not send them.
    pub quota: Option<Quota>,
    /// Whether packets are counted at every hook point; `None`: the
    /// module did not send `HOOK_COUNTERS`.
    pub hook_counters: Option<bool>,
    /// Port and SPI requests a second per host (0: no limit); `None`: the
    /// module did not send `PAP_RATE`.
    pub pap_rate: Option<u32>,
    /// `required` or `optional` (JSON: the string, or the number this tool
    /// does not know); `None`: the module did not send `PAP_AUTH`.
    pub pap_auth: Option<PapAuth>,
}

/// Most ports and SPIs a host may hold at once.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub ports: u32,
    pub spis: u32,
}

/// The host configuration (reply to `GET_CONFIG`). `None`: the module did
/// not send the attribute (unset, or a module without it).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct HostConfig {
    pub router_addr: Option<Ipv4Addr>,
    pub public_addr: Option<Ipv4Addr>,
    /// The LAN interface (`LAN_IFNAME`, `LAN_IFINDEX`).
    pub dev: Option<Iface>,
    pub mode: Option<HostMode>,
    /// Seconds.
    pub tcp_timeout: Option<u32>,
    /// Seconds.
    pub udp_timeout: Option<u32>,
    /// Ports asked for per PAP request.
    pub port_block: Option<u32>,
    /// The router epoch last seen; `None` before the router's first answer.
    pub epoch: Option<u32>,
    /// Whether packets are counted at every hook point.
    pub hook_counters: Option<bool>,
    /// `ipip` or `direct` (a number this tool does not know as it is).
    pub delivery: Option<String>,
    /// The router's link-layer address, once the module learnt it.
    pub router_lladdr: Option<String>,
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn lladdr(m: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = m;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// The packet counter of one hook (one message of `GET_COUNTERS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// The hook's `nft` name, or `hook N` for a number this tool does not know.
    pub hook: String,
    #[serde(skip)]
    pub hook_num: u32,
    pub packets: u64,
}

/// Everything `show` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Show<C> {
    pub config: C,
    pub counters: Vec<Counter>,
}

fn range<T>(min: Option<T>, max: Option<T>) -> Option<Range<T>> {
    Some(Range {
        min: min?,
        max: max?,
    })
}

impl RouterConfig {
    pub fn from_attrs(attrs: &[RouterAttr]) -> Self {
        let (mut lan, mut wan, mut lan_idx, mut wan_idx) = (None, None, None, None);
        let (mut pmin, mut pmax, mut smin, mut smax) = (None, None, None, None);
        let mut c = Self::default();
        for a in attrs {
            match a {
                RouterAttr::LanIfname(n) => lan = Some(n.clone()),
                RouterAttr::WanIfname(n) => wan = Some(n.clone()),
                RouterAttr::LanIfindex(i) => lan_idx = Some(*i),
                RouterAttr::WanIfindex(i) => wan_idx = Some(*i),
                RouterAttr::PublicAddr(a) => c.public_addr = Some(*a),
                RouterAttr::PortMin(v) => pmin = Some(*v),
                RouterAttr::PortMax(v) => pmax = Some(*v),
                RouterAttr::SpiMin(v) => smin = Some(*v),
                RouterAttr::SpiMax(v) => smax = Some(*v),
                RouterAttr::Unowned(v) => c.unowned = Some(Unowned(*v)),
                RouterAttr::SaPolicy(v) => c.sa_policy = Some(SaPolicy(*v)),
                RouterAttr::HookCounters(v) => c.hook_counters = Some(*v != 0),
                RouterAttr::PapRate(v) => c.pap_rate = Some(*v),
                RouterAttr::PapAuth(v) => c.pap_auth = Some(PapAuth(*v)),
                RouterAttr::QuotaPorts(v) => c.quota.get_or_insert_with(Quota::default).ports = *v,
                RouterAttr::QuotaSpis(v) => c.quota.get_or_insert_with(Quota::default).spis = *v,
                RouterAttr::Hook(_)
                | RouterAttr::Packets(_)
                | RouterAttr::HostAddr(_)
                | RouterAttr::HostRevoked
                | RouterAttr::BlockKind(_)
                | RouterAttr::BlockLowest(_)
                | RouterAttr::BlockCount(_)
                | RouterAttr::BlockExpires(_)
                | RouterAttr::StatName(_)
                | RouterAttr::StatValue(_)
                | RouterAttr::HostPorts(_)
                | RouterAttr::HostSpis(_)
                | RouterAttr::HostInPackets(_)
                | RouterAttr::HostOutPackets(_)
                | RouterAttr::HostSpoofed(_)
                | RouterAttr::PeerAddr(_)
                | RouterAttr::Spi(_)
                | RouterAttr::HostSaDropped(_)
                | RouterAttr::PinSecs(_)
                | RouterAttr::QuotaOwn
                | RouterAttr::HostAuth
                | RouterAttr::HostInBytes(_)
                | RouterAttr::HostOutBytes(_)
                | RouterAttr::EventType(_)
                | RouterAttr::EventReason(_)
                | RouterAttr::EventCount(_)
                | RouterAttr::EventSuppressed(_)
                | RouterAttr::Epoch(_)
                | RouterAttr::Delivery(_)
                | RouterAttr::Lladdr(_)
                | RouterAttr::Other(_) => {}
            }
        }
        c.lan = lan.map(|name| Iface {
            name,
            ifindex: lan_idx,
        });
        c.wan = wan.map(|name| Iface {
            name,
            ifindex: wan_idx,
        });
        c.ports = range(pmin, pmax);
        c.spis = range(smin, smax);
        c
    }
}

impl HostConfig {
    pub fn from_attrs(attrs: &[HostAttr]) -> Self {
        let (mut dev, mut dev_idx) = (None, None);
        let mut c = Self::default();
        for a in attrs {
            match a {
                HostAttr::RouterAddr(a) => c.router_addr = Some(*a),
                HostAttr::PublicAddr(a) => c.public_addr = Some(*a),
                HostAttr::LanIfname(n) => dev = Some(n.clone()),
                HostAttr::LanIfindex(i) => dev_idx = Some(*i),
                HostAttr::Mode(m) => c.mode = Some(HostMode(*m)),
                HostAttr::TcpTimeout(t) => c.tcp_timeout = Some(*t),
                HostAttr::UdpTimeout(t) => c.udp_timeout = Some(*t),
                HostAttr::PortBlock(n) => c.port_block = Some(*n),
                HostAttr::Epoch(e) => c.epoch = Some(*e),
                HostAttr::HookCounters(v) => c.hook_counters = Some(*v != 0),
                HostAttr::Delivery(v) => {
                    c.delivery = Some(match v {
                        0 => "ipip".to_owned(),
                        1 => "direct".to_owned(),
                        v => v.to_string(),
                    })
                }
                HostAttr::RouterLladdr(m) => c.router_lladdr = Some(lladdr(m)),
                HostAttr::Hook(_)
                | HostAttr::Packets(_)
                | HostAttr::StatName(_)
                | HostAttr::StatValue(_)
                | HostAttr::BlockKind(_)
                | HostAttr::BlockLowest(_)
                | HostAttr::BlockCount(_)
                | HostAttr::BlockExpires(_)
                | HostAttr::BlockUsed(_)
                | HostAttr::Proto(_)
                | HostAttr::LocalPort(_)
                | HostAttr::UniquePort(_)
                | HostAttr::Idle(_)
                | HostAttr::FlowState(_)
                | HostAttr::PeerAddr(_)
                | HostAttr::Spi(_)
                | HostAttr::SaState(_)
                | HostAttr::EventType(_)
                | HostAttr::EventReason(_)
                | HostAttr::EventCount(_)
                | HostAttr::Other(_) => {}
            }
        }
        c.dev = dev.map(|name| Iface {
            name,
            ifindex: dev_idx,
        });
        c
    }
}

impl Counter {
    fn new(hook: u32, packets: u64) -> Self {
        Self {
            hook: hooks::name(hook).map_or_else(|| format!("hook {hook}"), str::to_owned),
            hook_num: hook,
            packets,
        }
    }

    /// The counters of a dump, one message each, sorted by hook number.
    /// A message without `HOOK` or `PACKETS` is an error.
    pub fn from_dump<'a, A: 'a>(
        msgs: impl IntoIterator<Item = &'a [A]>,
        get: impl Fn(&A) -> (Option<u32>, Option<u64>),
    ) -> Result<Vec<Self>, String> {
        let mut v = Vec::new();
        for attrs in msgs {
            let (mut hook, mut packets) = (None, None);
            for a in attrs {
                match get(a) {
                    (Some(h), _) => hook = Some(h),
                    (_, Some(p)) => packets = Some(p),
                    _ => {}
                }
            }
            match (hook, packets) {
                (Some(h), Some(p)) => v.push(Self::new(h, p)),
                _ => return Err("counter message without HOOK or PACKETS".into()),
            }
        }
        v.sort_by_key(|c| c.hook_num);
        Ok(v)
    }
}

/// The hook and packets of a router counter attribute.
pub fn router_counter(a: &RouterAttr) -> (Option<u32>, Option<u64>) {
    match a {
        RouterAttr::Hook(h) => (Some(*h), None),
        RouterAttr::Packets(p) => (None, Some(*p)),
        _ => (None, None),
    }
}

/// The hook and packets of a host counter attribute.
pub fn host_counter(a: &HostAttr) -> (Option<u32>, Option<u64>) {
    match a {
        HostAttr::Hook(h) => (Some(*h), None),
        HostAttr::Packets(p) => (None, Some(*p)),
        _ => (None, None),
    }
}

const NONE: &str = "(none)";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| NONE.to_owned(), |v| v.to_string())
}

fn iface(i: &Option<Iface>) -> String {
    match i {
        None => NONE.to_owned(),
        Some(Iface {
            name,
            ifindex: Some(idx),
        }) => format!("{name} (ifindex {idx})"),
        Some(Iface {
            name,
            ifindex: None,
        }) => name.clone(),
    }
}

fn ports(r: &Option<Range<u16>>) -> String {
    match r {
        None => NONE.to_owned(),
        Some(r) if r.min <= r.max => {
            let len = config::Range {
                min: r.min,
                max: r.max,
            }
            .count();
            format!("{}-{} ({len})", r.min, r.max)
        }
        Some(r) => format!("{}-{}", r.min, r.max),
    }
}

fn spis(r: &Option<Range<u32>>) -> String {
    match r {
        None => NONE.to_owned(),
        Some(r) if r.min <= r.max => {
            let len = config::Range {
                min: r.min,
                max: r.max,
            }
            .count();
            format!("{:#x}-{:#x} ({len})", r.min, r.max)
        }
        Some(r) => format!("{:#x}-{:#x}", r.min, r.max),
    }
}

fn hook_counters(out: &mut String, on: Option<bool>) {
    if let Some(on) = on {
        let _ = writeln!(out, "  hook counters: {}", if on { "on" } else { "off" });
    }
}

fn counters(out: &mut String, counters: &[Counter]) {
    out.push_str("counters:\n");
    if counters.is_empty() {
        let _ = writeln!(out, "  {NONE}");
    }
    for c in counters {
        let _ = writeln!(out, "  {}: {} packets", c.hook, c.packets);
    }
}

/// Human output of `router show`.
pub fn render_router(s: &Show<RouterConfig>) -> String {
    let c = &s.config;
    let mut out = String::from("router:\n");
    let _ = writeln!(out, "  lan: {}", iface(&c.lan));
    let _ = writeln!(out, "  wan: {}", iface(&c.wan));
    let _ = writeln!(out, "  public address: {}", opt(c.public_addr));
    let _ = writeln!(out, "  ports: {}", ports(&c.ports));
    let _ = writeln!(out, "  spis: {}", spis(&c.spis));
    let _ = writeln!(out, "  unowned: {}", opt(c.unowned));
    if let Some(p) = c.sa_policy {
        let _ = writeln!(out, "  sa policy: {p}");
    }
    if let Some(q) = c.quota {
        let _ = writeln!(out, "  quota per host: {} ports, {} spis", q.ports, q.spis);
    }
    match c.pap_rate {
        Some(0) => out.push_str("  pap rate: no limit\n"),
        Some(r) => {
            let _ = writeln!(out, "  pap rate: {r} requests/s per host");
        }
        None => {}
    }
    if let Some(p) = c.pap_auth {
        let _ = writeln!(out, "  pap auth: {p}");
    }
    hook_counters(&mut out, c.hook_counters);
    counters(&mut out, &s.counters);
    out
}

/// Human output of `host show`. The addresses and the interface are always
/// shown (`(none)` when unset); the other settings and the epoch only when
/// the module sends them.
pub fn render_host(s: &Show<HostConfig>) -> String {
    let c = &s.config;
    let mut out = String::from("host:\n");
    let _ = writeln!(out, "  router address: {}", opt(c.router_addr));
    let _ = writeln!(out, "  public address: {}", opt(c.public_addr));
    let _ = writeln!(out, "  dev: {}", iface(&c.dev));
    if let Some(m) = c.mode {
        let _ = writeln!(out, "  mode: {m}");
    }
    if let Some(t) = c.tcp_timeout {
        let _ = writeln!(out, "  tcp timeout: {t}s");
    }
    if let Some(t) = c.udp_timeout {
        let _ = writeln!(out, "  udp timeout: {t}s");
    }
    if let Some(n) = c.port_block {
        let _ = writeln!(out, "  port block: {n}");
    }
    if let Some(e) = c.epoch {
        let _ = writeln!(out, "  epoch: {e:#010x}");
    }
    if let Some(d) = &c.delivery {
        let _ = writeln!(out, "  delivery: {d}");
    }
    if let Some(m) = &c.router_lladdr {
        let _ = writeln!(out, "  router lladdr: {m}");
    }
    hook_counters(&mut out, c.hook_counters);
    counters(&mut out, &s.counters);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Msg;
    use dnat_core::uapi::{host_attr, host_cmd, router_attr, router_cmd};
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_MULTIPART};
    use netlink_packet_generic::GenlMessage;
    use serde_json::json;

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    /// A whole netlink message of family `id`, as the kernel would send it.
    fn nlmsg(id: u16, flags: u16, cmd: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = attrs.concat();
        let len = 16 + 4 + body.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&id.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&3u32.to_ne_bytes());
        v.extend_from_slice(&4242u32.to_ne_bytes());
        v.extend_from_slice(&[cmd, 1, 0, 0]);
        v.extend_from_slice(&body);
        v
    }

    fn parse<A: crate::msg::Attr>(buf: &[u8]) -> Msg<A> {
        let m = NetlinkMessage::<GenlMessage<Msg<A>>>::deserialize(buf).unwrap();
        assert_eq!(m.header.message_type, 0x1e);
        match m.payload {
            NetlinkPayload::InnerMessage(g) => g.payload,
            p => panic!("{p:?}"),
        }
    }

    fn router_reply() -> Vec<u8> {
        nlmsg(
            0x1e,
            0,
            router_cmd::GET_CONFIG,
            &[
                tlv(router_attr::LAN_IFNAME, b"veth-lan\0"),
                tlv(router_attr::WAN_IFNAME, b"veth-wan\0"),
                tlv(router_attr::LAN_IFINDEX, &3u32.to_ne_bytes()),
                tlv(router_attr::WAN_IFINDEX, &4u32.to_ne_bytes()),
                tlv(router_attr::PUBLIC_ADDR, &[203, 0, 113, 30]),
                tlv(router_attr::PORT_MIN, &20000u16.to_ne_bytes()),
                tlv(router_attr::PORT_MAX, &29999u16.to_ne_bytes()),
                tlv(router_attr::SPI_MIN, &0x1000u32.to_ne_bytes()),
                tlv(router_attr::SPI_MAX, &0x1fffu32.to_ne_bytes()),
                tlv(router_attr::UNOWNED, &[1]),
                tlv(router_attr::SA_POLICY, &[sa_policy::STRICT]),
                tlv(200, b"future"),
            ],
        )
    }

    fn counter_reply(hook: u32, packets: u64) -> Vec<u8> {
        nlmsg(
            0x1e,
            NLM_F_MULTIPART,
            router_cmd::GET_COUNTERS,
            &[
                tlv(router_attr::HOOK, &hook.to_ne_bytes()),
                tlv(router_attr::PAD, &[]),
                tlv(router_attr::PACKETS, &packets.to_ne_bytes()),
            ],
        )
    }

    fn router_show() -> Show<RouterConfig> {
        let cfg = parse::<RouterAttr>(&router_reply());
        assert_eq!(cfg.cmd, router_cmd::GET_CONFIG);
        let dump: Vec<Msg<RouterAttr>> = [(4, 7), (0, 12), (2, u64::MAX)]
            .iter()
            .map(|&(h, p)| parse(&counter_reply(h, p)))
            .collect();
        Show {
            config: RouterConfig::from_attrs(&cfg.attrs),
            counters: Counter::from_dump(dump.iter().map(|m| &m.attrs[..]), router_counter)
                .unwrap(),
        }
    }

    #[test]
    fn decodes_router_reply() {
        let s = router_show();
        assert_eq!(
            s.config,
            RouterConfig {
                lan: Some(Iface {
                    name: "veth-lan".into(),
                    ifindex: Some(3)
                }),
                wan: Some(Iface {
                    name: "veth-wan".into(),
                    ifindex: Some(4)
                }),
                public_addr: Some(Ipv4Addr::new(203, 0, 113, 30)),
                ports: Some(Range {
                    min: 20000,
                    max: 29999
                }),
                spis: Some(Range {
                    min: 0x1000,
                    max: 0x1fff
                }),
                unowned: Some(Unowned(1)),
                sa_policy: Some(SaPolicy(0)),
                quota: None,
                hook_counters: None,
                pap_rate: None,
                pap_auth: None,
            }
        );
        let c: Vec<_> = s
            .counters
            .iter()
            .map(|c| (c.hook.as_str(), c.packets))
            .collect();
        assert_eq!(
            c,
            [
                ("prerouting", 12),
                ("forward", u64::MAX),
                ("postrouting", 7)
            ]
        );
    }

    #[test]
    fn renders_router() {
        assert_eq!(
            render_router(&router_show()),
            "router:\n\
             \x20 lan: veth-lan (ifindex 3)\n\
             \x20 wan: veth-wan (ifindex 4)\n\
             \x20 public address: 203.0.113.30\n\
             \x20 ports: 20000-29999 (10000)\n\
             \x20 spis: 0x1000-0x1fff (4096)\n\
             \x20 unowned: drop\n\
             \x20 sa policy: strict\n\
             counters:\n\
             \x20 prerouting: 12 packets\n\
             \x20 forward: 18446744073709551615 packets\n\
             \x20 postrouting: 7 packets\n"
        );
    }

    #[test]
    fn router_json_shape() {
        let v = serde_json::to_value(router_show()).unwrap();
        assert_eq!(
            v,
            json!({
                "config": {
                    "lan": {"name": "veth-lan", "ifindex": 3},
                    "wan": {"name": "veth-wan", "ifindex": 4},
                    "public_addr": "203.0.113.30",
                    "ports": {"min": 20000, "max": 29999},
                    "spis": {"min": 4096, "max": 8191},
                    "unowned": "drop",
                    "sa_policy": "strict",
                    "quota": null,
                    "hook_counters": null,
                    "pap_rate": null,
                    "pap_auth": null,
                },
                "counters": [
                    {"hook": "prerouting", "packets": 12},
                    {"hook": "forward", "packets": u64::MAX},
                    {"hook": "postrouting", "packets": 7},
                ],
            })
        );
    }

    #[test]
    fn renders_pap_rate() {
        for (rate, line) in [
            (0, "  pap rate: no limit\n"),
            (5, "  pap rate: 5 requests/s per host\n"),
        ] {
            let s = Show {
                config: RouterConfig::from_attrs(&[RouterAttr::PapRate(rate)]),
                counters: vec![],
            };
            assert_eq!(s.config.pap_rate, Some(rate));
            assert!(render_router(&s).contains(line), "{rate}");
            assert_eq!(
                serde_json::to_value(&s).unwrap()["config"]["pap_rate"],
                json!(rate)
            );
        }
    }

    #[test]
    fn unset_router_config() {
        let cfg = parse::<RouterAttr>(&nlmsg(0x1e, 0, router_cmd::GET_CONFIG, &[]));
        // A lone PORT_MIN is not a range.
        let mut attrs = cfg.attrs;
        attrs.push(RouterAttr::PortMin(5));
        let s = Show {
            config: RouterConfig::from_attrs(&attrs),
            counters: vec![],
        };
        assert_eq!(
            render_router(&s),
            "router:\n  lan: (none)\n  wan: (none)\n  public address: (none)\n  \
             ports: (none)\n  spis: (none)\n  unowned: (none)\ncounters:\n  (none)\n"
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "config": {"lan": null, "wan": null, "public_addr": null, "ports": null, "spis": null,
                           "unowned": null, "sa_policy": null, "quota": null,
                           "hook_counters": null, "pap_rate": null, "pap_auth": null},
                "counters": [],
            })
        );
    }

    #[test]
    fn host_reply_json_and_text() {
        // What an older module sends: the addresses only.
        let m = parse::<HostAttr>(&nlmsg(
            0x1e,
            0,
            host_cmd::GET_CONFIG,
            &[
                tlv(host_attr::ROUTER_ADDR, &[10, 0, 0, 7]),
                tlv(host_attr::PUBLIC_ADDR, &[203, 0, 113, 30]),
            ],
        ));
        let dump = [
            vec![HostAttr::Hook(3), HostAttr::Packets(5)],
            vec![HostAttr::Packets(1), HostAttr::Hook(9)],
        ];
        let s = Show {
            config: HostConfig::from_attrs(&m.attrs),
            counters: Counter::from_dump(dump.iter().map(|v| &v[..]), host_counter).unwrap(),
        };
        assert_eq!(
            render_host(&s),
            "host:\n  router address: 10.0.0.7\n  public address: 203.0.113.30\n  dev: (none)\n\
             counters:\n  output: 5 packets\n  hook 9: 1 packets\n"
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "config": {"router_addr": "10.0.0.7", "public_addr": "203.0.113.30", "dev": null,
                           "mode": null, "tcp_timeout": null, "udp_timeout": null,
                           "port_block": null, "epoch": null, "hook_counters": null,
                           "delivery": null, "router_lladdr": null},
                "counters": [{"hook": "output", "packets": 5}, {"hook": "hook 9", "packets": 1}],
            })
        );
        let s = Show {
            config: HostConfig::default(),
            counters: vec![],
        };
        assert_eq!(
            render_host(&s),
            "host:\n  router address: (none)\n  public address: (none)\n  dev: (none)\n\
             counters:\n  (none)\n"
        );
    }

    fn host_config_reply() -> Vec<u8> {
        nlmsg(
            0x1e,
            0,
            host_cmd::GET_CONFIG,
            &[
                tlv(host_attr::ROUTER_ADDR, &[10, 0, 0, 7]),
                tlv(host_attr::PUBLIC_ADDR, &[203, 0, 113, 30]),
                tlv(host_attr::LAN_IFNAME, b"eth0\0"),
                tlv(host_attr::LAN_IFINDEX, &2u32.to_ne_bytes()),
                tlv(host_attr::MODE, &[host_mode::TRANSLATE]),
                tlv(host_attr::TCP_TIMEOUT, &7440u32.to_ne_bytes()),
                tlv(host_attr::UDP_TIMEOUT, &180u32.to_ne_bytes()),
                tlv(host_attr::PORT_BLOCK, &64u32.to_ne_bytes()),
                tlv(host_attr::EPOCH, &0x5eed0001u32.to_ne_bytes()),
                // From a newer module: skipped.
                tlv(200, b"future"),
            ],
        )
    }

    #[test]
    fn full_host_config() {
        let m = parse::<HostAttr>(&host_config_reply());
        assert_eq!(m.attrs[2], HostAttr::LanIfname("eth0".into()));
        assert!(matches!(m.attrs[9], HostAttr::Other(_)));
        let s = Show {
            config: HostConfig::from_attrs(&m.attrs),
            counters: vec![],
        };
        assert_eq!(
            s.config,
            HostConfig {
                router_addr: Some(Ipv4Addr::new(10, 0, 0, 7)),
                public_addr: Some(Ipv4Addr::new(203, 0, 113, 30)),
                dev: Some(Iface {
                    name: "eth0".into(),
                    ifindex: Some(2)
                }),
                mode: Some(HostMode(0)),
                tcp_timeout: Some(7440),
                udp_timeout: Some(180),
                port_block: Some(64),
                epoch: Some(0x5eed0001),
                hook_counters: None,
                delivery: None,
                router_lladdr: None,
            }
        );
        assert_eq!(
            render_host(&s),
            "host:\n\
             \x20 router address: 10.0.0.7\n\
             \x20 public address: 203.0.113.30\n\
             \x20 dev: eth0 (ifindex 2)\n\
             \x20 mode: translate\n\
             \x20 tcp timeout: 7440s\n\
             \x20 udp timeout: 180s\n\
             \x20 port block: 64\n\
             \x20 epoch: 0x5eed0001\n\
             counters:\n\
             \x20 (none)\n"
        );
        // Key order as documented.
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"config":{"router_addr":"10.0.0.7","public_addr":"203.0.113.30","dev":{"name":"eth0","ifindex":2},"mode":"translate","tcp_timeout":7440,"udp_timeout":180,"port_block":64,"epoch":1592590337,"hook_counters":null,"delivery":null,"router_lladdr":null},"counters":[]}"#
        );
    }

    #[test]
    fn host_without_epoch_and_interface_index() {
        // Before the router's first answer there is no EPOCH; an interface
        // without its index is shown by name.
        let attrs = [
            HostAttr::LanIfname("lan0".into()),
            HostAttr::Mode(host_mode::NATIVE),
        ];
        let s = Show {
            config: HostConfig::from_attrs(&attrs),
            counters: vec![],
        };
        let text = render_host(&s);
        assert!(
            text.contains("\n  dev: lan0\n  mode: native\ncounters:"),
            "{text}"
        );
        assert!(!text.contains("epoch"), "{text}");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["config"]["dev"], json!({"name": "lan0", "ifindex": null}));
        assert_eq!(v["config"]["epoch"], json!(null));
        // A lone LAN_IFINDEX is no interface.
        let c = HostConfig::from_attrs(&[HostAttr::LanIfindex(3)]);
        assert_eq!(c.dev, None);
    }

    #[test]
    fn host_mode_values() {
        for (value, text, json) in [
            (0u8, "translate", json!("translate")),
            (1, "native", json!("native")),
            (7, "7", json!(7)),
        ] {
            let m = parse::<HostAttr>(&nlmsg(
                0x1e,
                0,
                host_cmd::GET_CONFIG,
                &[tlv(host_attr::MODE, &[value])],
            ));
            let s = Show {
                config: HostConfig::from_attrs(&m.attrs),
                counters: vec![],
            };
            assert_eq!(s.config.mode, Some(HostMode(value)));
            assert!(
                render_host(&s).contains(&format!("\n  mode: {text}\n")),
                "{value}"
            );
            assert_eq!(serde_json::to_value(&s).unwrap()["config"]["mode"], json);
        }
    }

    #[test]
    fn unowned_values() {
        for (value, text, json) in [
            (0u8, "local", json!("local")),
            (1, "drop", json!("drop")),
            (7, "7", json!(7)),
            (255, "255", json!(255)),
        ] {
            let m = parse::<RouterAttr>(&nlmsg(
                0x1e,
                0,
                router_cmd::GET_CONFIG,
                &[tlv(router_attr::UNOWNED, &[value])],
            ));
            let s = Show {
                config: RouterConfig::from_attrs(&m.attrs),
                counters: vec![],
            };
            assert_eq!(s.config.unowned, Some(Unowned(value)));
            assert!(
                render_router(&s).contains(&format!("\n  unowned: {text}\n")),
                "{value}"
            );
            assert_eq!(serde_json::to_value(&s).unwrap()["config"]["unowned"], json);
        }
    }

    #[test]
    fn sa_policy_values() {
        for (value, text, json) in [
            (0u8, "strict", json!("strict")),
            (1, "permissive", json!("permissive")),
            (2, "2", json!(2)),
            (255, "255", json!(255)),
        ] {
            let m = parse::<RouterAttr>(&nlmsg(
                0x1e,
                0,
                router_cmd::GET_CONFIG,
                &[
                    tlv(router_attr::SA_POLICY, &[value]),
                    tlv(router_attr::QUOTA_PORTS, &4096u32.to_ne_bytes()),
                    tlv(router_attr::QUOTA_SPIS, &1024u32.to_ne_bytes()),
                ],
            ));
            assert_eq!(m.attrs[0], RouterAttr::SaPolicy(value));
            let s = Show {
                config: RouterConfig::from_attrs(&m.attrs),
                counters: vec![],
            };
            assert_eq!(s.config.sa_policy, Some(SaPolicy(value)));
            // After unowned, before the quotas.
            assert!(
                render_router(&s).contains(&format!(
                    "\n  unowned: (none)\n  sa policy: {text}\n  quota per host: 4096 ports, \
                     1024 spis\n"
                )),
                "{value}"
            );
            let v = serde_json::to_value(&s).unwrap();
            assert_eq!(v["config"]["sa_policy"], json, "{value}");
        }
        // Key order: after unowned.
        let s = Show {
            config: RouterConfig::from_attrs(&[RouterAttr::SaPolicy(1), RouterAttr::Unowned(0)]),
            counters: vec![],
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"config":{"lan":null,"wan":null,"public_addr":null,"ports":null,"spis":null,"unowned":"local","sa_policy":"permissive","quota":null,"hook_counters":null,"pap_rate":null,"pap_auth":null},"counters":[]}"#
        );
        // A module without SA_POLICY: no line, JSON null.
        let s = Show {
            config: RouterConfig::from_attrs(&[RouterAttr::Unowned(0)]),
            counters: vec![],
        };
        assert!(!render_router(&s).contains("sa policy"));
        assert_eq!(
            serde_json::to_value(&s).unwrap()["config"]["sa_policy"],
            json!(null)
        );
    }

    #[test]
    fn incomplete_counter_is_an_error() {
        let dump = [vec![HostAttr::Hook(3)]];
        assert!(Counter::from_dump(dump.iter().map(|v| &v[..]), host_counter).is_err());
    }

    #[test]
    fn inverted_ranges_print_without_count() {
        assert_eq!(ports(&Some(Range { min: 9, max: 1 })), "9-1");
        assert_eq!(
            spis(&Some(Range {
                min: 0x100,
                max: 0x100
            })),
            "0x100-0x100 (1)"
        );
    }
}
