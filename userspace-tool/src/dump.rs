// SPDX-License-Identifier: GPL-2.0

//! What `router blocks`, `router stats`, `router hosts`, `router sas` and
//! `router blacklist` print: the messages of the `GET_BLOCKS`,
//! `GET_PAP_STATS`, `GET_HOSTS`, `GET_SAS` and `GET_BLACKLIST` dumps of the
//! router family; and what `host stats`, `host blocks` and `host sptt`
//! print: the `GET_STATS`, `GET_BLOCKS` and `GET_SPTT` dumps of the host
//! family. Decoded, rendered for humans or serialized as JSON. Attributes
//! this tool does not know are skipped.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use dnat_core::uapi::{block_kind, delivery, flow_state};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::msg::{HostAttr, RouterAttr};
use crate::show::lladdr as lladdr_text;

/// One allocated block (one message of `GET_BLOCKS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub host: Ipv4Addr,
    /// `ports`, `spis`, or `kind N` for a kind this tool does not know.
    pub kind: String,
    #[serde(skip)]
    pub kind_num: u8,
    pub lowest: u32,
    pub count: u32,
    /// Seconds left on the lease; `None`: no expiry.
    pub expires: Option<u32>,
    /// Seconds left on a pin (a certificate names the block); `None`: not
    /// pinned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<u32>,
    pub revoked: bool,
}

/// A host named by a `GET_BLOCKS` message without block attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BareHost {
    pub host: Ipv4Addr,
    pub revoked: bool,
}

/// Everything `router blocks` prints.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Blocks {
    /// Sorted by host address, kind, lowest.
    pub blocks: Vec<Block>,
    /// Hosts the router listed without a block (a revoked host whose
    /// blocks are gone, say). Left out of the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts_without_blocks: Vec<BareHost>,
}

/// `ports`, `spis`, or `kind N`.
pub fn kind_name(kind: u8) -> String {
    match kind {
        block_kind::PORTS => "ports".into(),
        block_kind::SPIS => "spis".into(),
        k => format!("kind {k}"),
    }
}

/// `"WHAT message without A, B"`, naming the attributes that are absent.
fn missing(what: &str, attrs: &[(&str, bool)]) -> String {
    let names: Vec<&str> = attrs
        .iter()
        .filter_map(|&(name, absent)| absent.then_some(name))
        .collect();
    format!("{what} message without {}", names.join(", "))
}

impl Blocks {
    /// Decodes a dump, one message's attributes each. A message needs
    /// `HOST_ADDR`, and either all of `BLOCK_KIND`, `BLOCK_LOWEST`,
    /// `BLOCK_COUNT` or none of them.
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [RouterAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut host, mut revoked, mut kind) = (None, false, None);
            let (mut lowest, mut count, mut expires, mut pinned) = (None, None, None, None);
            for a in attrs {
                match a {
                    RouterAttr::HostAddr(h) => host = Some(*h),
                    RouterAttr::HostRevoked => revoked = true,
                    RouterAttr::BlockKind(k) => kind = Some(*k),
                    RouterAttr::BlockLowest(v) => lowest = Some(*v),
                    RouterAttr::BlockCount(v) => count = Some(*v),
                    RouterAttr::BlockExpires(v) => expires = Some(*v),
                    RouterAttr::PinSecs(v) => pinned = Some(*v),
                    _ => {}
                }
            }
            let host = host.ok_or("block message without HOST_ADDR")?;
            match (kind, lowest, count) {
                (Some(k), Some(lowest), Some(count)) => out.blocks.push(Block {
                    host,
                    kind: kind_name(k),
                    kind_num: k,
                    lowest,
                    count,
                    expires,
                    pinned,
                    revoked,
                }),
                (None, None, None) => out.hosts_without_blocks.push(BareHost { host, revoked }),
                _ => {
                    return Err(
                        "block message without all of BLOCK_KIND, BLOCK_LOWEST, BLOCK_COUNT".into(),
                    )
                }
            }
        }
        out.blocks.sort_by_key(|b| (b.host, b.kind_num, b.lowest));
        out.hosts_without_blocks.sort_by_key(|h| h.host);
        Ok(out)
    }
}

/// `FIRST-LAST`, SPIs in hex (a block of 0 is shown as `FIRST-FIRST`).
pub fn block_span(kind: u8, lowest: u32, count: u32) -> String {
    let last = u64::from(lowest) + u64::from(count) - u64::from(count != 0);
    if kind == block_kind::SPIS {
        format!("{lowest:#x}-{last:#x}")
    } else {
        format!("{lowest}-{last}")
    }
}

/// `FIRST-LAST (COUNT)`, SPIs in hex.
pub fn block_range(kind: u8, lowest: u32, count: u32) -> String {
    format!("{} ({count})", block_span(kind, lowest, count))
}

/// `lease Ns`, or `no expiry`.
pub fn lease(secs: Option<u32>) -> String {
    match secs {
        Some(s) => format!("lease {s}s"),
        None => "no expiry".into(),
    }
}

/// Human output of `router blocks`: grouped by host, in address order.
pub fn render_blocks(b: &Blocks) -> String {
    let mut hosts: Vec<(Ipv4Addr, bool)> = b
        .blocks
        .iter()
        .map(|b| (b.host, b.revoked))
        .chain(b.hosts_without_blocks.iter().map(|h| (h.host, h.revoked)))
        .collect();
    hosts.sort();
    // One entry per host, revoked if any message said so.
    hosts.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 |= next.1;
        }
        same
    });
    if hosts.is_empty() {
        return "(no blocks)\n".into();
    }
    let mut out = String::new();
    for (host, revoked) in hosts {
        let mark = if revoked { " (revoked)" } else { "" };
        let _ = writeln!(out, "host {host}{mark}:");
        for blk in b.blocks.iter().filter(|blk| blk.host == host) {
            let pin = blk
                .pinned
                .map_or(String::new(), |s| format!(", pinned {s}s"));
            let _ = writeln!(
                out,
                "  {} {} {}{pin}",
                blk.kind,
                block_range(blk.kind_num, blk.lowest, blk.count),
                lease(blk.expires)
            );
        }
    }
    out
}

/// The PAP server's counters (the `GET_PAP_STATS` dump), in kernel order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats(pub Vec<(String, u64)>);

/// JSON: `{"stats":{"name":value,...}}`, in kernel order.
impl Serialize for Stats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Map<'a>(&'a [(String, u64)]);
        impl Serialize for Map<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("stats", &Map(&self.0))?;
        m.end()
    }
}

/// A `STAT_NAME` or `STAT_VALUE` attribute, of either family.
pub enum Stat<'a> {
    Name(&'a str),
    Value(u64),
}

/// The stat of a router attribute (`GET_PAP_STATS`).
pub fn router_stat(a: &RouterAttr) -> Option<Stat<'_>> {
    match a {
        RouterAttr::StatName(n) => Some(Stat::Name(n)),
        RouterAttr::StatValue(v) => Some(Stat::Value(*v)),
        _ => None,
    }
}

/// The stat of a host attribute (`GET_STATS`).
pub fn host_stat(a: &HostAttr) -> Option<Stat<'_>> {
    match a {
        HostAttr::StatName(n) => Some(Stat::Name(n)),
        HostAttr::StatValue(v) => Some(Stat::Value(*v)),
        _ => None,
    }
}

impl Stats {
    /// Decodes a dump of either family (`get` picks the stat attributes);
    /// every message needs `STAT_NAME` and `STAT_VALUE`.
    pub fn from_dump<'a, A: 'a>(
        msgs: impl IntoIterator<Item = &'a [A]>,
        get: impl Fn(&'a A) -> Option<Stat<'a>>,
    ) -> Result<Self, String> {
        let mut v = Vec::new();
        for attrs in msgs {
            let (mut name, mut value) = (None, None);
            for a in attrs {
                match get(a) {
                    Some(Stat::Name(n)) => name = Some(n.to_owned()),
                    Some(Stat::Value(x)) => value = Some(x),
                    None => {}
                }
            }
            match (name, value) {
                (Some(n), Some(x)) => v.push((n, x)),
                _ => return Err("stats message without STAT_NAME or STAT_VALUE".into()),
            }
        }
        Ok(Self(v))
    }
}

/// Human output of `router stats` and `host stats`: `name: value` lines,
/// only those that are not 0 unless `all`.
pub fn render_stats(s: &Stats, all: bool) -> String {
    if s.0.is_empty() {
        return "(no counters)\n".into();
    }
    let mut out = String::new();
    for (k, v) in s.0.iter().filter(|&&(_, v)| all || v != 0) {
        let _ = writeln!(out, "{k}: {v}");
    }
    if out.is_empty() {
        let _ = writeln!(out, "(all {} counters are 0; --all prints them)", s.0.len());
    }
    out
}

/// One host (one message of `GET_HOSTS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub host: Ipv4Addr,
    pub revoked: bool,
    /// Ports it holds.
    pub ports: u32,
    /// SPIs it holds.
    pub spis: u32,
    /// Packets delivered to it from the Internet.
    #[serde(rename = "in")]
    pub in_packets: u64,
    /// Packets it sent to the Internet.
    #[serde(rename = "out")]
    pub out_packets: u64,
    /// Packets it sent from ports it does not own (dropped).
    pub spoofed: u64,
    /// Inbound ESP/AH for it dropped by the SA checks (not validated,
    /// blacklisted); `None` (left out of the JSON) when the module does not
    /// send `HOST_SA_DROPPED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sa_dropped: Option<u64>,
    /// The quota in effect for it; `None` (left out of the JSON) when the
    /// module does not send `QUOTA_PORTS` and `QUOTA_SPIS`.
    #[serde(flatten)]
    pub quota: Option<HostQuota>,
    /// The host authenticates its PAP (`HOST_AUTH`).
    pub auth: bool,
    /// Bytes of the packets of `in` (`HOST_IN_BYTES`: IPv4 total
    /// lengths); `None` (left out of the JSON) when the module does not
    /// send it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_bytes: Option<u64>,
    /// Bytes of the packets of `out` (`HOST_OUT_BYTES`), as `in_bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_bytes: Option<u64>,
    /// How the router delivers to it (`DELIVERY`): `ipip`, `direct` (or
    /// the number of a value this tool does not know); `None` (left out
    /// of the JSON) when the module does not send it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// The Ethernet address a direct host is bound to (`LLADDR`),
    /// `aa:bb:cc:dd:ee:ff`; `None` (left out) while there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lladdr: Option<String>,
}

/// The name of a `DELIVERY` value (the number of one this tool does not
/// know).
pub fn delivery_name(v: u8) -> String {
    match v {
        delivery::IPIP => "ipip".into(),
        delivery::DIRECT => "direct".into(),
        v => v.to_string(),
    }
}

/// The quota in effect for a host (`QUOTA_PORTS`, `QUOTA_SPIS` and the
/// flag `QUOTA_OWN` of a `GET_HOSTS` message). JSON: `"quota_ports"`,
/// `"quota_spis"`, `"quota_own"` in the host's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HostQuota {
    /// Most ports it may hold at once.
    #[serde(rename = "quota_ports")]
    pub ports: u32,
    /// Most SPIs it may hold at once.
    #[serde(rename = "quota_spis")]
    pub spis: u32,
    /// The quota is its own (`dnatctl router quota`), not the default.
    #[serde(rename = "quota_own")]
    pub own: bool,
}

/// Everything `router hosts` prints: `{"hosts":[...]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Hosts {
    /// Sorted by address.
    pub hosts: Vec<Host>,
}

impl Hosts {
    /// Decodes a dump, one message's attributes each. Every message needs
    /// `HOST_ADDR`, `HOST_PORTS`, `HOST_SPIS`, `HOST_IN_PACKETS`,
    /// `HOST_OUT_PACKETS` and `HOST_SPOOFED`; `HOST_REVOKED` is a flag,
    /// `HOST_SA_DROPPED` optional. `QUOTA_PORTS` and `QUOTA_SPIS` are
    /// optional (a module without per-host quotas) but come together, and
    /// the flag `QUOTA_OWN` only with them; so do `HOST_IN_BYTES` and
    /// `HOST_OUT_BYTES` (a module without byte counters).
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [RouterAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut host, mut revoked, mut ports, mut spis) = (None, false, None, None);
            let (mut in_packets, mut out_packets, mut spoofed) = (None, None, None);
            let mut sa_dropped = None;
            let (mut quota_ports, mut quota_spis, mut quota_own) = (None, None, false);
            let mut auth = false;
            let (mut in_bytes, mut out_bytes) = (None, None);
            let (mut delivery, mut lladdr) = (None, None);
            for a in attrs {
                match a {
                    RouterAttr::HostAddr(h) => host = Some(*h),
                    RouterAttr::HostRevoked => revoked = true,
                    RouterAttr::HostPorts(v) => ports = Some(*v),
                    RouterAttr::HostSpis(v) => spis = Some(*v),
                    RouterAttr::HostInPackets(v) => in_packets = Some(*v),
                    RouterAttr::HostOutPackets(v) => out_packets = Some(*v),
                    RouterAttr::HostSpoofed(v) => spoofed = Some(*v),
                    RouterAttr::HostSaDropped(v) => sa_dropped = Some(*v),
                    RouterAttr::QuotaPorts(v) => quota_ports = Some(*v),
                    RouterAttr::QuotaSpis(v) => quota_spis = Some(*v),
                    RouterAttr::QuotaOwn => quota_own = true,
                    RouterAttr::HostAuth => auth = true,
                    RouterAttr::HostInBytes(v) => in_bytes = Some(*v),
                    RouterAttr::HostOutBytes(v) => out_bytes = Some(*v),
                    RouterAttr::Delivery(v) => delivery = Some(delivery_name(*v)),
                    RouterAttr::Lladdr(m) => lladdr = Some(lladdr_text(m)),
                    _ => {}
                }
            }
            let (Some(host), Some(ports), Some(spis), Some(i), Some(o), Some(spoofed)) =
                (host, ports, spis, in_packets, out_packets, spoofed)
            else {
                return Err(missing(
                    "host",
                    &[
                        ("HOST_ADDR", host.is_none()),
                        ("HOST_PORTS", ports.is_none()),
                        ("HOST_SPIS", spis.is_none()),
                        ("HOST_IN_PACKETS", in_packets.is_none()),
                        ("HOST_OUT_PACKETS", out_packets.is_none()),
                        ("HOST_SPOOFED", spoofed.is_none()),
                    ],
                ));
            };
            // All of the quota or none of it (an older module).
            let quota = match (quota_ports, quota_spis, quota_own) {
                (None, None, false) => None,
                (Some(ports), Some(spis), own) => Some(HostQuota { ports, spis, own }),
                _ => {
                    return Err(missing(
                        "host",
                        &[
                            ("QUOTA_PORTS", quota_ports.is_none()),
                            ("QUOTA_SPIS", quota_spis.is_none()),
                        ],
                    ))
                }
            };
            if in_bytes.is_some() != out_bytes.is_some() {
                return Err(missing(
                    "host",
                    &[
                        ("HOST_IN_BYTES", in_bytes.is_none()),
                        ("HOST_OUT_BYTES", out_bytes.is_none()),
                    ],
                ));
            }
            out.hosts.push(Host {
                host,
                revoked,
                ports,
                spis,
                in_packets: i,
                out_packets: o,
                spoofed,
                sa_dropped,
                quota,
                auth,
                in_bytes,
                out_bytes,
                delivery,
                lladdr,
            });
        }
        out.hosts.sort_by_key(|h| h.host);
        Ok(out)
    }
}

/// Human output of `router hosts`: one line per host, in address order;
/// `quota PORTS/SPIS` (with `(own)` for a host's own) after the SPIs,
/// `sa_dropped N` and then `in_bytes N out_bytes N` at the end when the
/// module sends them, and last, for a host in direct delivery, `delivery
/// direct lladdr MAC` (`delivery direct (learning)` until it is bound).
pub fn render_hosts(h: &Hosts) -> String {
    if h.hosts.is_empty() {
        return "(no hosts)\n".into();
    }
    let mut out = String::new();
    for h in &h.hosts {
        let mark = match (h.revoked, h.auth) {
            (true, _) => " (revoked)",
            (false, false) => " (unauthenticated)",
            (false, true) => "",
        };
        let _ = write!(out, "{}{mark}: ports {} spis {}", h.host, h.ports, h.spis);
        if let Some(q) = h.quota {
            let own = if q.own { " (own)" } else { "" };
            let _ = write!(out, " quota {}/{}{own}", q.ports, q.spis);
        }
        let _ = write!(
            out,
            " in {} out {} spoofed {}",
            h.in_packets, h.out_packets, h.spoofed
        );
        if let Some(d) = h.sa_dropped {
            let _ = write!(out, " sa_dropped {d}");
        }
        if let (Some(i), Some(o)) = (h.in_bytes, h.out_bytes) {
            let _ = write!(out, " in_bytes {i} out_bytes {o}");
        }
        // Nothing for ipip, the default (and for a module without it).
        match (h.delivery.as_deref(), &h.lladdr) {
            (None | Some("ipip"), _) => {}
            (Some(d), Some(m)) => {
                let _ = write!(out, " delivery {d} lladdr {m}");
            }
            (Some(d), None) => {
                let _ = write!(out, " delivery {d} (learning)");
            }
        }
        out.push('\n');
    }
    out
}

/// One established SA (one message of `GET_SAS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sa {
    /// The host the SA's packets go to.
    pub host: Ipv4Addr,
    /// The SA peer's external address.
    pub peer: Ipv4Addr,
    /// The SA's inbound SPI.
    pub spi: u32,
}

/// Everything `router sas` prints: `{"sas":[...]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Sas {
    /// Sorted by host, peer, SPI.
    pub sas: Vec<Sa>,
}

impl Sas {
    /// Decodes a dump, one message's attributes each. Every message needs
    /// `HOST_ADDR`, `PEER_ADDR` and `SPI`.
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [RouterAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut host, mut peer, mut spi) = (None, None, None);
            for a in attrs {
                match a {
                    RouterAttr::HostAddr(h) => host = Some(*h),
                    RouterAttr::PeerAddr(p) => peer = Some(*p),
                    RouterAttr::Spi(s) => spi = Some(*s),
                    _ => {}
                }
            }
            let (Some(host), Some(peer), Some(spi)) = (host, peer, spi) else {
                return Err(missing(
                    "sa",
                    &[
                        ("HOST_ADDR", host.is_none()),
                        ("PEER_ADDR", peer.is_none()),
                        ("SPI", spi.is_none()),
                    ],
                ));
            };
            out.sas.push(Sa { host, peer, spi });
        }
        out.sas.sort_by_key(|s| (s.host, s.peer, s.spi));
        Ok(out)
    }
}

/// Human output of `router sas`: one line per SA,
/// `10.0.0.1 peer 203.0.113.3 spi 0x1000`.
pub fn render_sas(s: &Sas) -> String {
    if s.sas.is_empty() {
        return "(no SAs)\n".into();
    }
    let mut out = String::new();
    for sa in &s.sas {
        let _ = writeln!(out, "{} peer {} spi {:#x}", sa.host, sa.peer, sa.spi);
    }
    out
}

/// One blacklist entry (one message of `GET_BLACKLIST`); `None`: any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlacklistEntry {
    /// The host whose inbound ESP/AH the entry drops.
    pub host: Ipv4Addr,
    /// The source address; `None`: any.
    pub peer: Option<Ipv4Addr>,
    /// The SPI; `None`: any.
    pub spi: Option<u32>,
}

/// Everything `router blacklist` prints: `{"blacklist":[...]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Blacklist {
    /// Sorted by host, peer (any first), SPI (any first).
    pub blacklist: Vec<BlacklistEntry>,
}

impl Blacklist {
    /// Decodes a dump, one message's attributes each. Every message needs
    /// `HOST_ADDR` and at least one of `PEER_ADDR` and `SPI`.
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [RouterAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut host, mut peer, mut spi) = (None, None, None);
            for a in attrs {
                match a {
                    RouterAttr::HostAddr(h) => host = Some(*h),
                    RouterAttr::PeerAddr(p) => peer = Some(*p),
                    RouterAttr::Spi(s) => spi = Some(*s),
                    _ => {}
                }
            }
            let Some(host) = host else {
                return Err("blacklist message without HOST_ADDR".into());
            };
            if peer.is_none() && spi.is_none() {
                return Err("blacklist message without PEER_ADDR or SPI".into());
            }
            out.blacklist.push(BlacklistEntry { host, peer, spi });
        }
        out.blacklist.sort_by_key(|e| (e.host, e.peer, e.spi));
        Ok(out)
    }
}

/// `peer ADDR spi SPI` of a blacklist entry, `any` for what it leaves out.
pub fn blacklist_match(peer: Option<Ipv4Addr>, spi: Option<u32>) -> String {
    let peer = peer.map_or_else(|| "any".into(), |p| p.to_string());
    let spi = spi.map_or_else(|| "any".into(), |s| format!("{s:#x}"));
    format!("peer {peer} spi {spi}")
}

/// Human output of `router blacklist`: one line per entry,
/// `10.0.0.1 peer 203.0.113.66 spi any`.
pub fn render_blacklist(b: &Blacklist) -> String {
    if b.blacklist.is_empty() {
        return "(no blacklist entries)\n".into();
    }
    let mut out = String::new();
    for e in &b.blacklist {
        let _ = writeln!(out, "{} {}", e.host, blacklist_match(e.peer, e.spi));
    }
    out
}

/// One block the host holds (one message of the host's `GET_BLOCKS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostBlock {
    /// `ports`, `spis`, or `kind N` for a kind this tool does not know.
    pub kind: String,
    #[serde(skip)]
    pub kind_num: u8,
    pub lowest: u32,
    pub count: u32,
    /// Seconds left on the lease; `None`: never.
    pub expires: Option<u32>,
    /// Ports in use by translations; `None` for SPI blocks.
    pub used: Option<u32>,
}

/// Everything `host blocks` prints: `{"blocks":[...]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct HostBlocks {
    /// Sorted by kind (ports first), then lowest.
    pub blocks: Vec<HostBlock>,
}

impl HostBlocks {
    /// Decodes a dump, one message's attributes each. Every message needs
    /// `BLOCK_KIND`, `BLOCK_LOWEST` and `BLOCK_COUNT`; `BLOCK_EXPIRES` and
    /// `BLOCK_USED` are optional.
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [HostAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut kind, mut lowest, mut count) = (None, None, None);
            let (mut expires, mut used) = (None, None);
            for a in attrs {
                match a {
                    HostAttr::BlockKind(k) => kind = Some(*k),
                    HostAttr::BlockLowest(v) => lowest = Some(*v),
                    HostAttr::BlockCount(v) => count = Some(*v),
                    HostAttr::BlockExpires(v) => expires = Some(*v),
                    HostAttr::BlockUsed(v) => used = Some(*v),
                    _ => {}
                }
            }
            let (Some(k), Some(lowest), Some(count)) = (kind, lowest, count) else {
                return Err(missing(
                    "block",
                    &[
                        ("BLOCK_KIND", kind.is_none()),
                        ("BLOCK_LOWEST", lowest.is_none()),
                        ("BLOCK_COUNT", count.is_none()),
                    ],
                ));
            };
            out.blocks.push(HostBlock {
                kind: kind_name(k),
                kind_num: k,
                lowest,
                count,
                expires,
                used,
            });
        }
        out.blocks.sort_by_key(|b| (b.kind_num, b.lowest));
        Ok(out)
    }
}

/// Human output of `host blocks`: one line per block,
/// `ports 20000-20063 used 3 expires 287s`.
pub fn render_host_blocks(b: &HostBlocks) -> String {
    if b.blocks.is_empty() {
        return "(no blocks)\n".into();
    }
    let mut out = String::new();
    for blk in &b.blocks {
        let _ = write!(
            out,
            "{} {}",
            blk.kind,
            block_span(blk.kind_num, blk.lowest, blk.count)
        );
        if let Some(u) = blk.used {
            let _ = write!(out, " used {u}");
        }
        match blk.expires {
            Some(s) => {
                let _ = writeln!(out, " expires {s}s");
            }
            None => out.push_str(" expires never\n"),
        }
    }
    out
}

/// `IPPROTO_ICMP` (an ICMP query identifier translation).
const IPPROTO_ICMP: u8 = 1;
/// `IPPROTO_TCP`.
const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
const IPPROTO_UDP: u8 = 17;

/// `tcp`, `udp`, `icmp`, or `proto N`.
pub fn proto_name(proto: u8) -> String {
    match proto {
        IPPROTO_ICMP => "icmp".into(),
        IPPROTO_TCP => "tcp".into(),
        IPPROTO_UDP => "udp".into(),
        p => format!("proto {p}"),
    }
}

/// The names of the `FLOW_STATE` bits that are set, lowest bit first:
/// `fin-out`, `fin-in`, `rst`, and `0xN` for a bit this tool does not know.
pub fn flow_state_names(state: u8) -> Vec<String> {
    (0..8)
        .map(|i| 1u8 << i)
        .filter(|bit| state & bit != 0)
        .map(|bit| match bit {
            flow_state::FIN_OUT => "fin-out".into(),
            flow_state::FIN_IN => "fin-in".into(),
            flow_state::RST => "rst".into(),
            b => format!("{b:#x}"),
        })
        .collect()
}

/// One port translation (one message of `GET_SPTT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Translation {
    /// `tcp`, `udp`, `icmp` (an identifier translation), or `proto N`.
    pub proto: String,
    #[serde(skip)]
    pub proto_num: u8,
    /// The stack's own (ephemeral) port.
    pub local_port: u16,
    /// The granted port on the wire.
    pub unique_port: u16,
    /// Seconds since last used.
    pub idle: u32,
    /// Names of the `FLOW_STATE` bits set (see [`flow_state_names`]).
    pub state: Vec<String>,
}

/// Everything `host sptt` prints: `{"translations":[...]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Translations {
    /// Sorted by protocol, local port, unique port.
    pub translations: Vec<Translation>,
}

impl Translations {
    /// Decodes a dump, one message's attributes each. Every message needs
    /// `PROTO`, `LOCAL_PORT`, `UNIQUE_PORT` and `IDLE`; without
    /// `FLOW_STATE` no bit is set.
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [HostAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut proto, mut local, mut unique) = (None, None, None);
            let (mut idle, mut state) = (None, 0);
            for a in attrs {
                match a {
                    HostAttr::Proto(p) => proto = Some(*p),
                    HostAttr::LocalPort(p) => local = Some(*p),
                    HostAttr::UniquePort(p) => unique = Some(*p),
                    HostAttr::Idle(s) => idle = Some(*s),
                    HostAttr::FlowState(s) => state = *s,
                    _ => {}
                }
            }
            let (Some(p), Some(local_port), Some(unique_port), Some(idle)) =
                (proto, local, unique, idle)
            else {
                return Err(missing(
                    "translation",
                    &[
                        ("PROTO", proto.is_none()),
                        ("LOCAL_PORT", local.is_none()),
                        ("UNIQUE_PORT", unique.is_none()),
                        ("IDLE", idle.is_none()),
                    ],
                ));
            };
            out.translations.push(Translation {
                proto: proto_name(p),
                proto_num: p,
                local_port,
                unique_port,
                idle,
                state: flow_state_names(state),
            });
        }
        out.translations
            .sort_by_key(|t| (t.proto_num, t.local_port, t.unique_port));
        Ok(out)
    }
}

/// Human output of `host sptt`: one line per translation,
/// `tcp 40312 -> 20001 idle 3s fin-out,fin-in`.
pub fn render_translations(t: &Translations) -> String {
    if t.translations.is_empty() {
        return "(no translations)\n".into();
    }
    let mut out = String::new();
    for t in &t.translations {
        let _ = write!(
            out,
            "{} {} -> {} idle {}s",
            t.proto, t.local_port, t.unique_port, t.idle
        );
        if !t.state.is_empty() {
            let _ = write!(out, " {}", t.state.join(","));
        }
        out.push('\n');
    }
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
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    /// One dump message as the kernel sends it, parsed like `Conn::dump`.
    fn parse(cmd: u8, attrs: &[Vec<u8>]) -> Vec<RouterAttr> {
        parse_as(cmd, attrs)
    }

    /// The same, for the host family.
    fn parse_host(cmd: u8, attrs: &[Vec<u8>]) -> Vec<HostAttr> {
        parse_as(cmd, attrs)
    }

    fn parse_as<A: crate::msg::Attr>(cmd: u8, attrs: &[Vec<u8>]) -> Vec<A> {
        let body = attrs.concat();
        let mut v = ((20 + body.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&0x1eu16.to_ne_bytes());
        v.extend_from_slice(&NLM_F_MULTIPART.to_ne_bytes());
        v.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&[cmd, 1, 0, 0]);
        v.extend_from_slice(&body);
        let m = NetlinkMessage::<GenlMessage<Msg<A>>>::deserialize(&v).unwrap();
        match m.payload {
            NetlinkPayload::InnerMessage(g) => {
                assert_eq!(g.payload.cmd, cmd);
                g.payload.attrs
            }
            p => panic!("{p:?}"),
        }
    }

    fn block(host: [u8; 4], kind: u8, lowest: u32, count: u32, expires: Option<u32>) -> Vec<u8> {
        let mut a = vec![
            tlv(router_attr::HOST_ADDR, &host),
            tlv(router_attr::BLOCK_KIND, &[kind]),
            tlv(router_attr::BLOCK_LOWEST, &lowest.to_ne_bytes()),
            tlv(router_attr::BLOCK_COUNT, &count.to_ne_bytes()),
        ];
        if let Some(e) = expires {
            a.push(tlv(router_attr::BLOCK_EXPIRES, &e.to_ne_bytes()));
        }
        a.concat()
    }

    fn dump() -> Vec<Vec<RouterAttr>> {
        let revoked = tlv(router_attr::HOST_REVOKED, &[]);
        [
            vec![block([10, 0, 0, 1], 2, 0x1000, 256, Some(3597))],
            vec![block([10, 0, 0, 3], 1, 30000, 8, None), revoked.clone()],
            vec![
                tlv(router_attr::PAD, &[]),
                block([10, 0, 0, 1], 1, 20000, 16, Some(3597)),
                tlv(99, b"future"),
            ],
            vec![tlv(router_attr::HOST_ADDR, &[10, 0, 0, 9]), revoked],
        ]
        .iter()
        .map(|a| parse(router_cmd::GET_BLOCKS, a))
        .collect()
    }

    #[test]
    fn decodes_blocks() {
        let d = dump();
        assert_eq!(d[1][4], RouterAttr::HostRevoked);
        assert_eq!(d[0][1], RouterAttr::BlockKind(2));
        let b = Blocks::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_blocks(&b),
            "host 10.0.0.1:\n\
             \x20 ports 20000-20015 (16) lease 3597s\n\
             \x20 spis 0x1000-0x10ff (256) lease 3597s\n\
             host 10.0.0.3 (revoked):\n\
             \x20 ports 30000-30007 (8) no expiry\n\
             host 10.0.0.9 (revoked):\n"
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({
                "blocks": [
                    {"host": "10.0.0.1", "kind": "ports", "lowest": 20000, "count": 16,
                     "expires": 3597, "revoked": false},
                    {"host": "10.0.0.1", "kind": "spis", "lowest": 4096, "count": 256,
                     "expires": 3597, "revoked": false},
                    {"host": "10.0.0.3", "kind": "ports", "lowest": 30000, "count": 8,
                     "expires": null, "revoked": true},
                ],
                "hosts_without_blocks": [{"host": "10.0.0.9", "revoked": true}],
            })
        );
    }

    #[test]
    fn empty_and_odd_blocks() {
        let b = Blocks::default();
        assert_eq!(render_blocks(&b), "(no blocks)\n");
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"blocks":[]}"#);
        let d = [parse(
            router_cmd::GET_BLOCKS,
            &[block([10, 0, 0, 2], 7, 5, 0, Some(0))],
        )];
        let b = Blocks::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(b.blocks[0].kind, "kind 7");
        assert_eq!(
            render_blocks(&b),
            "host 10.0.0.2:\n  kind 7 5-5 (0) lease 0s\n"
        );
    }

    #[test]
    fn bad_block_messages() {
        let no_host = [RouterAttr::BlockKind(1)];
        assert!(Blocks::from_dump([&no_host[..]]).is_err());
        let partial = [
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::BlockKind(1),
            RouterAttr::BlockLowest(1),
        ];
        assert!(Blocks::from_dump([&partial[..]]).is_err());
    }

    #[test]
    fn wrong_attribute_lengths_are_errors() {
        use netlink_packet_core::ParseableParametrized;
        use netlink_packet_generic::GenlHeader;
        let h = GenlHeader { cmd: 4, version: 1 };
        // BLOCK_KIND is a u8: a u32 payload is refused.
        let buf = tlv(router_attr::BLOCK_KIND, &1u32.to_ne_bytes());
        assert!(Msg::<RouterAttr>::parse_with_param(&buf, h).is_err());
        // HOST_REVOKED is a flag: no payload.
        let buf = tlv(router_attr::HOST_REVOKED, &[1, 0, 0, 0]);
        assert!(Msg::<RouterAttr>::parse_with_param(&buf, h).is_err());
        let buf = tlv(router_attr::HOST_ADDR, &[10, 0, 0]);
        assert!(Msg::<RouterAttr>::parse_with_param(&buf, h).is_err());
    }

    #[test]
    fn stats_keep_kernel_order() {
        let d: Vec<_> = [
            ("rx_port_request", 12u64),
            ("drop_bad_checksum", 3),
            ("acks", 0),
        ]
        .iter()
        .enumerate()
        .map(|(i, (name, v))| {
            let mut a = vec![tlv(router_attr::STAT_NAME, format!("{name}\0").as_bytes())];
            if i % 2 == 0 {
                a.push(tlv(router_attr::PAD, &[]));
            }
            a.push(tlv(router_attr::STAT_VALUE, &v.to_ne_bytes()));
            parse(router_cmd::GET_PAP_STATS, &a)
        })
        .collect();
        let s = Stats::from_dump(d.iter().map(|v| &v[..]), router_stat).unwrap();
        assert_eq!(
            render_stats(&s, true),
            "rx_port_request: 12\ndrop_bad_checksum: 3\nacks: 0\n"
        );
        // Without --all, the zeros are left out; JSON keeps them.
        assert_eq!(
            render_stats(&s, false),
            "rx_port_request: 12\ndrop_bad_checksum: 3\n"
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"stats":{"rx_port_request":12,"drop_bad_checksum":3,"acks":0}}"#
        );
        let zeros = Stats(vec![("a".into(), 0), ("b".into(), 0)]);
        assert_eq!(
            render_stats(&zeros, false),
            "(all 2 counters are 0; --all prints them)\n"
        );
        assert_eq!(render_stats(&zeros, true), "a: 0\nb: 0\n");
        let e = Stats::default();
        assert_eq!(render_stats(&e, false), "(no counters)\n");
        assert_eq!(render_stats(&e, true), "(no counters)\n");
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"stats":{}}"#);
        let half = [RouterAttr::StatName("x".into())];
        assert!(Stats::from_dump([&half[..]], router_stat).is_err());
    }

    fn host_msg(addr: [u8; 4], revoked: bool, v: [u64; 5]) -> Vec<RouterAttr> {
        let mut a = vec![tlv(router_attr::HOST_ADDR, &addr)];
        if revoked {
            a.push(tlv(router_attr::HOST_REVOKED, &[]));
        }
        a.push(tlv(router_attr::HOST_PORTS, &(v[0] as u32).to_ne_bytes()));
        a.push(tlv(router_attr::HOST_SPIS, &(v[1] as u32).to_ne_bytes()));
        a.push(tlv(router_attr::PAD, &[]));
        a.push(tlv(router_attr::HOST_IN_PACKETS, &v[2].to_ne_bytes()));
        a.push(tlv(router_attr::PAD, &[]));
        a.push(tlv(router_attr::HOST_OUT_PACKETS, &v[3].to_ne_bytes()));
        a.push(tlv(router_attr::PAD, &[]));
        a.push(tlv(router_attr::HOST_SPOOFED, &v[4].to_ne_bytes()));
        a.push(tlv(99, b"future"));
        parse(router_cmd::GET_HOSTS, &a)
    }

    #[test]
    fn decodes_hosts() {
        let d = [
            host_msg([10, 0, 0, 3], true, [0, 0, 0, 0, 3]),
            host_msg([10, 0, 0, 1], false, [16, 256, 1234, 1200, 0]),
            host_msg([10, 0, 0, 20], false, [u32::MAX.into(), 1, 2, u64::MAX, 4]),
        ];
        assert_eq!(d[0][0], RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 3)));
        assert_eq!(d[0][1], RouterAttr::HostRevoked);
        assert_eq!(d[1][1], RouterAttr::HostPorts(16));
        assert_eq!(d[1][6], RouterAttr::HostOutPackets(1200));
        let h = Hosts::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_hosts(&h),
            "10.0.0.1 (unauthenticated): ports 16 spis 256 in 1234 out 1200 spoofed 0\n\
             10.0.0.3 (revoked): ports 0 spis 0 in 0 out 0 spoofed 3\n\
             10.0.0.20 (unauthenticated): ports 4294967295 spis 1 in 2 out 18446744073709551615 spoofed 4\n"
        );
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"hosts": [
                {"host": "10.0.0.1", "auth": false, "revoked": false, "ports": 16, "spis": 256,
                 "in": 1234, "out": 1200, "spoofed": 0},
                {"host": "10.0.0.3", "auth": false, "revoked": true, "ports": 0, "spis": 0,
                 "in": 0, "out": 0, "spoofed": 3},
                {"host": "10.0.0.20", "auth": false, "revoked": false, "ports": u32::MAX, "spis": 1,
                 "in": 2, "out": u64::MAX, "spoofed": 4},
            ]})
        );
        // Key order as documented.
        assert!(serde_json::to_string(&h).unwrap().starts_with(
            r#"{"hosts":[{"host":"10.0.0.1","revoked":false,"ports":16,"spis":256,"in":1234,"out":1200,"spoofed":0,"auth":false},"#
        ));
    }

    #[test]
    fn hosts_with_sa_dropped() {
        let mut with = host_msg([10, 0, 0, 1], false, [16, 256, 1234, 1200, 0]);
        let mut a = vec![
            tlv(router_attr::HOST_ADDR, &[10, 0, 0, 3]),
            tlv(router_attr::HOST_PORTS, &0u32.to_ne_bytes()),
            tlv(router_attr::HOST_SPIS, &16u32.to_ne_bytes()),
            tlv(router_attr::PAD, &[]),
        ];
        for kind in [
            router_attr::HOST_IN_PACKETS,
            router_attr::HOST_OUT_PACKETS,
            router_attr::HOST_SPOOFED,
        ] {
            a.push(tlv(kind, &0u64.to_ne_bytes()));
        }
        a.push(tlv(router_attr::PAD, &[]));
        a.push(tlv(router_attr::HOST_SA_DROPPED, &u64::MAX.to_ne_bytes()));
        let dropped = parse(router_cmd::GET_HOSTS, &a);
        assert_eq!(dropped[8], RouterAttr::HostSaDropped(u64::MAX));
        with.push(RouterAttr::HostSaDropped(7));
        // Without HOST_SA_DROPPED (an older module): no field.
        let without = host_msg([10, 0, 0, 2], true, [1, 0, 2, 3, 4]);
        let h = Hosts::from_dump([&dropped[..], &with[..], &without[..]]).unwrap();
        assert_eq!(
            render_hosts(&h),
            "10.0.0.1 (unauthenticated): ports 16 spis 256 in 1234 out 1200 spoofed 0 sa_dropped 7\n\
             10.0.0.2 (revoked): ports 1 spis 0 in 2 out 3 spoofed 4\n\
             10.0.0.3 (unauthenticated): ports 0 spis 16 in 0 out 0 spoofed 0 sa_dropped 18446744073709551615\n"
        );
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"hosts": [
                {"host": "10.0.0.1", "auth": false, "revoked": false, "ports": 16, "spis": 256,
                 "in": 1234, "out": 1200, "spoofed": 0, "sa_dropped": 7},
                {"host": "10.0.0.2", "auth": false, "revoked": true, "ports": 1, "spis": 0,
                 "in": 2, "out": 3, "spoofed": 4},
                {"host": "10.0.0.3", "auth": false, "revoked": false, "ports": 0, "spis": 16,
                 "in": 0, "out": 0, "spoofed": 0, "sa_dropped": u64::MAX},
            ]})
        );
        assert!(serde_json::to_string(&h).unwrap().starts_with(
            r#"{"hosts":[{"host":"10.0.0.1","revoked":false,"ports":16,"spis":256,"in":1234,"out":1200,"spoofed":0,"sa_dropped":7,"auth":false},"#
        ));
        // HOST_SA_DROPPED is a u64.
        use netlink_packet_core::ParseableParametrized;
        use netlink_packet_generic::GenlHeader;
        let buf = tlv(router_attr::HOST_SA_DROPPED, &1u32.to_ne_bytes());
        let h = GenlHeader { cmd: 6, version: 1 };
        assert!(Msg::<RouterAttr>::parse_with_param(&buf, h).is_err());
    }

    #[test]
    fn hosts_with_bytes() {
        let mut with = host_msg([10, 0, 0, 1], false, [16, 0, 5, 7, 0]);
        with.push(RouterAttr::HostSaDropped(0));
        with.push(RouterAttr::HostInBytes(5 * 128));
        with.push(RouterAttr::HostOutBytes(u64::MAX));
        // Without them (an older module): no fields.
        let without = host_msg([10, 0, 0, 2], false, [1, 0, 2, 3, 4]);
        let h = Hosts::from_dump([&with[..], &without[..]]).unwrap();
        assert_eq!(
            render_hosts(&h),
            "10.0.0.1 (unauthenticated): ports 16 spis 0 in 5 out 7 spoofed 0 sa_dropped 0 \
             in_bytes 640 out_bytes 18446744073709551615\n\
             10.0.0.2 (unauthenticated): ports 1 spis 0 in 2 out 3 spoofed 4\n"
        );
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"hosts": [
                {"host": "10.0.0.1", "auth": false, "revoked": false, "ports": 16, "spis": 0,
                 "in": 5, "out": 7, "spoofed": 0, "sa_dropped": 0, "in_bytes": 640,
                 "out_bytes": u64::MAX},
                {"host": "10.0.0.2", "auth": false, "revoked": false, "ports": 1, "spis": 0,
                 "in": 2, "out": 3, "spoofed": 4},
            ]})
        );
        // One without the other is a malformed message.
        let mut half = host_msg([10, 0, 0, 3], false, [0; 5]);
        half.push(RouterAttr::HostOutBytes(1));
        assert_eq!(
            Hosts::from_dump([&half[..]]).unwrap_err(),
            "host message without HOST_IN_BYTES"
        );
        // A u32 where the u64 belongs is an error.
        use netlink_packet_core::ParseableParametrized;
        use netlink_packet_generic::GenlHeader;
        let buf = tlv(router_attr::HOST_OUT_BYTES, &1u32.to_ne_bytes());
        let h = GenlHeader { cmd: 6, version: 1 };
        assert!(Msg::<RouterAttr>::parse_with_param(&buf, h).is_err());
    }

    /// A `GET_HOSTS` message as a module with per-host quotas sends it:
    /// `host_msg`'s attributes, `HOST_SA_DROPPED`, `QUOTA_PORTS`,
    /// `QUOTA_SPIS` and, for a host's own quota, `QUOTA_OWN`.
    fn quota_host_msg(addr: [u8; 4], v: [u64; 5], quota: (u32, u32), own: bool) -> Vec<RouterAttr> {
        let mut a = vec![
            tlv(router_attr::HOST_ADDR, &addr),
            tlv(router_attr::HOST_PORTS, &(v[0] as u32).to_ne_bytes()),
            tlv(router_attr::HOST_SPIS, &(v[1] as u32).to_ne_bytes()),
        ];
        for (kind, value) in [
            (router_attr::HOST_IN_PACKETS, v[2]),
            (router_attr::HOST_OUT_PACKETS, v[3]),
            (router_attr::HOST_SPOOFED, v[4]),
            (router_attr::HOST_SA_DROPPED, 0),
        ] {
            a.push(tlv(router_attr::PAD, &[]));
            a.push(tlv(kind, &value.to_ne_bytes()));
        }
        a.push(tlv(router_attr::QUOTA_PORTS, &quota.0.to_ne_bytes()));
        a.push(tlv(router_attr::QUOTA_SPIS, &quota.1.to_ne_bytes()));
        if own {
            a.push(tlv(router_attr::QUOTA_OWN, &[]));
        }
        a.push(tlv(99, b"future"));
        parse(router_cmd::GET_HOSTS, &a)
    }

    #[test]
    fn hosts_with_quota() {
        let d = [
            quota_host_msg([10, 0, 0, 3], [0, 0, 0, 0, 0], (4096, 1024), false),
            quota_host_msg([10, 0, 0, 1], [16, 256, 1234, 1200, 0], (100, 16), true),
            quota_host_msg([10, 0, 0, 2], [1, 2, 3, 4, 5], (u32::MAX, 1), true),
        ];
        assert_eq!(d[1][11], RouterAttr::QuotaPorts(100));
        assert_eq!(d[1][12], RouterAttr::QuotaSpis(16));
        assert_eq!(d[1][13], RouterAttr::QuotaOwn);
        assert!(matches!(d[1][14], RouterAttr::Other(_)));
        assert!(!d[0].contains(&RouterAttr::QuotaOwn));
        // An older module's message (no quota) decodes alongside.
        let old = host_msg([10, 0, 0, 4], true, [0, 0, 0, 0, 3]);
        let h = Hosts::from_dump(d.iter().chain([&old]).map(|v| &v[..])).unwrap();
        assert_eq!(
            h.hosts[0].quota,
            Some(HostQuota {
                ports: 100,
                spis: 16,
                own: true
            })
        );
        assert_eq!(h.hosts[3].quota, None);
        assert_eq!(
            render_hosts(&h),
            "10.0.0.1 (unauthenticated): ports 16 spis 256 quota 100/16 (own) in 1234 out 1200 spoofed 0 \
             sa_dropped 0\n\
             10.0.0.2 (unauthenticated): ports 1 spis 2 quota 4294967295/1 (own) in 3 out 4 spoofed 5 \
             sa_dropped 0\n\
             10.0.0.3 (unauthenticated): ports 0 spis 0 quota 4096/1024 in 0 out 0 spoofed 0 sa_dropped 0\n\
             10.0.0.4 (revoked): ports 0 spis 0 in 0 out 0 spoofed 3\n"
        );
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"hosts": [
                {"host": "10.0.0.1", "auth": false, "revoked": false, "ports": 16, "spis": 256,
                 "in": 1234, "out": 1200, "spoofed": 0, "sa_dropped": 0,
                 "quota_ports": 100, "quota_spis": 16, "quota_own": true},
                {"host": "10.0.0.2", "auth": false, "revoked": false, "ports": 1, "spis": 2,
                 "in": 3, "out": 4, "spoofed": 5, "sa_dropped": 0,
                 "quota_ports": u32::MAX, "quota_spis": 1, "quota_own": true},
                {"host": "10.0.0.3", "auth": false, "revoked": false, "ports": 0, "spis": 0,
                 "in": 0, "out": 0, "spoofed": 0, "sa_dropped": 0,
                 "quota_ports": 4096, "quota_spis": 1024, "quota_own": false},
                {"host": "10.0.0.4", "auth": false, "revoked": true, "ports": 0, "spis": 0,
                 "in": 0, "out": 0, "spoofed": 3},
            ]})
        );
        // The quota after the other keys.
        assert!(serde_json::to_string(&h).unwrap().starts_with(
            r#"{"hosts":[{"host":"10.0.0.1","revoked":false,"ports":16,"spis":256,"in":1234,"out":1200,"spoofed":0,"sa_dropped":0,"quota_ports":100,"quota_spis":16,"quota_own":true,"auth":false},"#
        ));
    }

    #[test]
    fn hosts_with_delivery() {
        let mut direct = host_msg([10, 0, 0, 1], false, [1, 0, 2, 3, 0]);
        direct.extend(parse(
            router_cmd::GET_HOSTS,
            &[
                tlv(router_attr::DELIVERY, &[1]),
                tlv(router_attr::LLADDR, &[0x02, 0, 0, 0, 0xab, 0x01]),
            ],
        ));
        let mut learning = host_msg([10, 0, 0, 2], false, [0, 0, 0, 0, 0]);
        learning.extend(parse(
            router_cmd::GET_HOSTS,
            &[tlv(router_attr::DELIVERY, &[1])],
        ));
        let mut ipip = host_msg([10, 0, 0, 3], false, [0, 0, 0, 0, 0]);
        ipip.extend(parse(
            router_cmd::GET_HOSTS,
            &[tlv(router_attr::DELIVERY, &[0])],
        ));
        let h = Hosts::from_dump([&direct[..], &learning[..], &ipip[..]]).unwrap();
        // Nothing more for ipip: the line is as before.
        assert_eq!(
            render_hosts(&h),
            "10.0.0.1 (unauthenticated): ports 1 spis 0 in 2 out 3 spoofed 0 \
             delivery direct lladdr 02:00:00:00:ab:01\n\
             10.0.0.2 (unauthenticated): ports 0 spis 0 in 0 out 0 spoofed 0 \
             delivery direct (learning)\n\
             10.0.0.3 (unauthenticated): ports 0 spis 0 in 0 out 0 spoofed 0\n"
        );
        let j = serde_json::to_value(&h).unwrap();
        assert_eq!(j["hosts"][0]["delivery"], "direct");
        assert_eq!(j["hosts"][0]["lladdr"], "02:00:00:00:ab:01");
        assert_eq!(j["hosts"][1]["delivery"], "direct");
        assert!(j["hosts"][1].get("lladdr").is_none());
        assert_eq!(j["hosts"][2]["delivery"], "ipip");
        // A module without DELIVERY: no field.
        let old = host_msg([10, 0, 0, 4], false, [0, 0, 0, 0, 0]);
        let j = serde_json::to_value(Hosts::from_dump([&old[..]]).unwrap()).unwrap();
        assert!(j["hosts"][0].get("delivery").is_none());
    }

    #[test]
    fn bad_host_quota_messages() {
        let full = quota_host_msg([10, 0, 0, 1], [1, 2, 3, 4, 5], (100, 16), true);
        let without = |f: &dyn Fn(&RouterAttr) -> bool| -> Vec<RouterAttr> {
            full.iter().filter(|a| !f(a)).cloned().collect()
        };
        // QUOTA_PORTS and QUOTA_SPIS come together; QUOTA_OWN only with them.
        for (attrs, e) in [
            (
                without(&|a| matches!(a, RouterAttr::QuotaSpis(_))),
                "host message without QUOTA_SPIS",
            ),
            (
                without(&|a| matches!(a, RouterAttr::QuotaPorts(_))),
                "host message without QUOTA_PORTS",
            ),
            (
                without(&|a| matches!(a, RouterAttr::QuotaPorts(_) | RouterAttr::QuotaSpis(_))),
                "host message without QUOTA_PORTS, QUOTA_SPIS",
            ),
            // The quota does not make up for the other attributes.
            (
                without(&|a| matches!(a, RouterAttr::HostSpoofed(_))),
                "host message without HOST_SPOOFED",
            ),
            (
                without(&|a| matches!(a, RouterAttr::HostAddr(_))),
                "host message without HOST_ADDR",
            ),
        ] {
            assert_eq!(Hosts::from_dump([&attrs[..]]).unwrap_err(), e);
        }
        // Without QUOTA_OWN: the default quota.
        let default = without(&|a| matches!(a, RouterAttr::QuotaOwn));
        let h = Hosts::from_dump([&default[..]]).unwrap();
        assert_eq!(
            h.hosts[0].quota,
            Some(HostQuota {
                ports: 100,
                spis: 16,
                own: false
            })
        );
        // QUOTA_PORTS and QUOTA_SPIS are u32s, QUOTA_OWN a flag.
        use netlink_packet_core::ParseableParametrized;
        use netlink_packet_generic::GenlHeader;
        let h = GenlHeader { cmd: 6, version: 1 };
        for buf in [
            tlv(router_attr::QUOTA_PORTS, &[1, 0]),
            tlv(router_attr::QUOTA_SPIS, &1u64.to_ne_bytes()),
            tlv(router_attr::QUOTA_OWN, &[1]),
        ] {
            assert!(
                Msg::<RouterAttr>::parse_with_param(&buf, h).is_err(),
                "{buf:?}"
            );
        }
    }

    fn sa_msg(host: [u8; 4], peer: [u8; 4], spi: u32) -> Vec<RouterAttr> {
        parse(
            router_cmd::GET_SAS,
            &[
                tlv(router_attr::HOST_ADDR, &host),
                tlv(99, b"future"),
                tlv(router_attr::PEER_ADDR, &peer),
                tlv(router_attr::SPI, &spi.to_ne_bytes()),
            ],
        )
    }

    #[test]
    fn decodes_sas() {
        let d = [
            sa_msg([10, 0, 0, 3], [198, 51, 100, 7], 0x2000),
            sa_msg([10, 0, 0, 1], [203, 0, 113, 3], 0x1001),
            sa_msg([10, 0, 0, 1], [203, 0, 113, 3], 0x1000),
            sa_msg([10, 0, 0, 1], [192, 0, 2, 1], u32::MAX),
        ];
        assert_eq!(d[0][0], RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 3)));
        assert!(matches!(d[0][1], RouterAttr::Other(_)));
        assert_eq!(
            d[0][2],
            RouterAttr::PeerAddr(Ipv4Addr::new(198, 51, 100, 7))
        );
        assert_eq!(d[0][3], RouterAttr::Spi(0x2000));
        let s = Sas::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_sas(&s),
            "10.0.0.1 peer 192.0.2.1 spi 0xffffffff\n\
             10.0.0.1 peer 203.0.113.3 spi 0x1000\n\
             10.0.0.1 peer 203.0.113.3 spi 0x1001\n\
             10.0.0.3 peer 198.51.100.7 spi 0x2000\n"
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"sas": [
                {"host": "10.0.0.1", "peer": "192.0.2.1", "spi": u32::MAX},
                {"host": "10.0.0.1", "peer": "203.0.113.3", "spi": 4096},
                {"host": "10.0.0.1", "peer": "203.0.113.3", "spi": 4097},
                {"host": "10.0.0.3", "peer": "198.51.100.7", "spi": 8192},
            ]})
        );
        assert!(serde_json::to_string(&s)
            .unwrap()
            .starts_with(r#"{"sas":[{"host":"10.0.0.1","peer":"192.0.2.1","spi":4294967295},"#));
    }

    #[test]
    fn empty_and_bad_sa_dumps() {
        let s = Sas::default();
        assert_eq!(render_sas(&s), "(no SAs)\n");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"sas":[]}"#);
        let mut partial = sa_msg([10, 0, 0, 1], [203, 0, 113, 3], 0x1000);
        partial.retain(|a| !matches!(a, RouterAttr::PeerAddr(_)));
        assert_eq!(
            Sas::from_dump([&partial[..]]).unwrap_err(),
            "sa message without PEER_ADDR"
        );
        let only_spi = [RouterAttr::Spi(0x1000)];
        assert_eq!(
            Sas::from_dump([&only_spi[..]]).unwrap_err(),
            "sa message without HOST_ADDR, PEER_ADDR"
        );
        use netlink_packet_core::ParseableParametrized;
        use netlink_packet_generic::GenlHeader;
        let h = GenlHeader {
            cmd: 10,
            version: 1,
        };
        // PEER_ADDR is 4 bytes, SPI a u32.
        for buf in [
            tlv(router_attr::PEER_ADDR, &[203, 0, 113]),
            tlv(router_attr::SPI, &1u64.to_ne_bytes()),
            tlv(router_attr::SPI, &[1, 0]),
        ] {
            assert!(
                Msg::<RouterAttr>::parse_with_param(&buf, h).is_err(),
                "{buf:?}"
            );
        }
    }

    fn bl_msg(host: [u8; 4], peer: Option<[u8; 4]>, spi: Option<u32>) -> Vec<RouterAttr> {
        let mut a = vec![tlv(router_attr::HOST_ADDR, &host)];
        if let Some(p) = peer {
            a.push(tlv(router_attr::PEER_ADDR, &p));
        }
        a.push(tlv(99, b"future"));
        if let Some(s) = spi {
            a.push(tlv(router_attr::SPI, &s.to_ne_bytes()));
        }
        parse(router_cmd::GET_BLACKLIST, &a)
    }

    #[test]
    fn decodes_blacklist() {
        let d = [
            bl_msg([10, 0, 0, 3], None, Some(0x2000)),
            bl_msg([10, 0, 0, 1], Some([203, 0, 113, 66]), None),
            bl_msg([10, 0, 0, 1], Some([192, 0, 2, 9]), Some(0x1000)),
            bl_msg([10, 0, 0, 1], None, Some(0x1001)),
        ];
        assert_eq!(d[0][2], RouterAttr::Spi(0x2000));
        assert_eq!(
            d[1][1],
            RouterAttr::PeerAddr(Ipv4Addr::new(203, 0, 113, 66))
        );
        let b = Blacklist::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_blacklist(&b),
            "10.0.0.1 peer any spi 0x1001\n\
             10.0.0.1 peer 192.0.2.9 spi 0x1000\n\
             10.0.0.1 peer 203.0.113.66 spi any\n\
             10.0.0.3 peer any spi 0x2000\n"
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"blacklist": [
                {"host": "10.0.0.1", "peer": null, "spi": 4097},
                {"host": "10.0.0.1", "peer": "192.0.2.9", "spi": 4096},
                {"host": "10.0.0.1", "peer": "203.0.113.66", "spi": null},
                {"host": "10.0.0.3", "peer": null, "spi": 8192},
            ]})
        );
        assert!(serde_json::to_string(&b)
            .unwrap()
            .starts_with(r#"{"blacklist":[{"host":"10.0.0.1","peer":null,"spi":4097},"#));
    }

    #[test]
    fn empty_and_bad_blacklist_dumps() {
        let b = Blacklist::default();
        assert_eq!(render_blacklist(&b), "(no blacklist entries)\n");
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"blacklist":[]}"#);
        let neither = bl_msg([10, 0, 0, 1], None, None);
        assert_eq!(
            Blacklist::from_dump([&neither[..]]).unwrap_err(),
            "blacklist message without PEER_ADDR or SPI"
        );
        let no_host = [RouterAttr::Spi(0x1000)];
        assert_eq!(
            Blacklist::from_dump([&no_host[..]]).unwrap_err(),
            "blacklist message without HOST_ADDR"
        );
        assert_eq!(blacklist_match(None, None), "peer any spi any");
    }

    #[test]
    fn empty_and_bad_host_dumps() {
        let h = Hosts::default();
        assert_eq!(render_hosts(&h), "(no hosts)\n");
        assert_eq!(serde_json::to_string(&h).unwrap(), r#"{"hosts":[]}"#);
        let mut partial = host_msg([10, 0, 0, 1], false, [1, 2, 3, 4, 5]);
        partial.retain(|a| !matches!(a, RouterAttr::HostSpis(_) | RouterAttr::HostSpoofed(_)));
        let e = Hosts::from_dump([&partial[..]]).unwrap_err();
        assert_eq!(e, "host message without HOST_SPIS, HOST_SPOOFED");
        let no_addr = [RouterAttr::HostRevoked];
        let e = Hosts::from_dump([&no_addr[..]]).unwrap_err();
        assert!(
            e.starts_with("host message without HOST_ADDR, HOST_PORTS"),
            "{e}"
        );
    }

    #[test]
    fn host_stats_keep_kernel_order() {
        let d: Vec<_> = [
            ("tx_translated", 40u64),
            ("pap_requests", 2),
            ("sptt_full", 0),
        ]
        .iter()
        .map(|(name, v)| {
            parse_host(
                host_cmd::GET_STATS,
                &[
                    tlv(host_attr::STAT_NAME, format!("{name}\0").as_bytes()),
                    tlv(host_attr::PAD, &[]),
                    tlv(host_attr::STAT_VALUE, &v.to_ne_bytes()),
                    tlv(99, b"future"),
                ],
            )
        })
        .collect();
        assert_eq!(d[0][0], HostAttr::StatName("tx_translated".into()));
        assert_eq!(d[0][2], HostAttr::StatValue(40));
        let s = Stats::from_dump(d.iter().map(|v| &v[..]), host_stat).unwrap();
        assert_eq!(
            render_stats(&s, true),
            "tx_translated: 40\npap_requests: 2\nsptt_full: 0\n"
        );
        assert_eq!(
            render_stats(&s, false),
            "tx_translated: 40\npap_requests: 2\n"
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"stats":{"tx_translated":40,"pap_requests":2,"sptt_full":0}}"#
        );
        let half = [HostAttr::StatValue(1)];
        let e = Stats::from_dump([&half[..]], host_stat).unwrap_err();
        assert_eq!(e, "stats message without STAT_NAME or STAT_VALUE");
        // The router's stat attributes mean nothing in a host dump.
        let router = [RouterAttr::StatName("x".into()), RouterAttr::StatValue(1)];
        assert!(Stats::from_dump([&router[..]], |_: &RouterAttr| None).is_err());
    }

    fn host_block(
        kind: u8,
        lowest: u32,
        count: u32,
        expires: Option<u32>,
        used: Option<u32>,
    ) -> Vec<HostAttr> {
        let mut a = vec![
            tlv(host_attr::BLOCK_KIND, &[kind]),
            tlv(host_attr::BLOCK_LOWEST, &lowest.to_ne_bytes()),
            tlv(host_attr::BLOCK_COUNT, &count.to_ne_bytes()),
        ];
        if let Some(e) = expires {
            a.push(tlv(host_attr::BLOCK_EXPIRES, &e.to_ne_bytes()));
        }
        if let Some(u) = used {
            a.push(tlv(host_attr::BLOCK_USED, &u.to_ne_bytes()));
        }
        a.push(tlv(99, b"future"));
        parse_host(host_cmd::GET_BLOCKS, &a)
    }

    #[test]
    fn decodes_host_blocks() {
        let d = [
            host_block(block_kind::SPIS, 0x1000, 256, Some(1790), None),
            host_block(block_kind::PORTS, 20064, 64, None, Some(0)),
            host_block(block_kind::PORTS, 20000, 64, Some(287), Some(3)),
        ];
        assert_eq!(d[2][0], HostAttr::BlockKind(1));
        assert_eq!(d[2][3], HostAttr::BlockExpires(287));
        assert_eq!(d[2][4], HostAttr::BlockUsed(3));
        assert!(matches!(d[2][5], HostAttr::Other(_)));
        let b = HostBlocks::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_host_blocks(&b),
            "ports 20000-20063 used 3 expires 287s\n\
             ports 20064-20127 used 0 expires never\n\
             spis 0x1000-0x10ff expires 1790s\n"
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"blocks": [
                {"kind": "ports", "lowest": 20000, "count": 64, "expires": 287, "used": 3},
                {"kind": "ports", "lowest": 20064, "count": 64, "expires": null, "used": 0},
                {"kind": "spis", "lowest": 4096, "count": 256, "expires": 1790, "used": null},
            ]})
        );
        assert!(serde_json::to_string(&b).unwrap().starts_with(
            r#"{"blocks":[{"kind":"ports","lowest":20000,"count":64,"expires":287,"used":3},"#
        ));
    }

    #[test]
    fn empty_odd_and_bad_host_blocks() {
        let b = HostBlocks::default();
        assert_eq!(render_host_blocks(&b), "(no blocks)\n");
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"blocks":[]}"#);
        let d = [host_block(9, 5, 1, Some(0), None)];
        let b = HostBlocks::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(render_host_blocks(&b), "kind 9 5-5 expires 0s\n");
        let partial = [HostAttr::BlockKind(1), HostAttr::BlockUsed(1)];
        assert_eq!(
            HostBlocks::from_dump([&partial[..]]).unwrap_err(),
            "block message without BLOCK_LOWEST, BLOCK_COUNT"
        );
    }

    fn translation(
        proto: u8,
        local: u16,
        unique: u16,
        idle: u32,
        state: Option<u8>,
    ) -> Vec<HostAttr> {
        let mut a = vec![
            tlv(host_attr::PROTO, &[proto]),
            tlv(host_attr::LOCAL_PORT, &local.to_ne_bytes()),
            tlv(host_attr::UNIQUE_PORT, &unique.to_ne_bytes()),
            tlv(host_attr::IDLE, &idle.to_ne_bytes()),
        ];
        if let Some(s) = state {
            a.push(tlv(host_attr::FLOW_STATE, &[s]));
        }
        a.push(tlv(99, b"future"));
        parse_host(host_cmd::GET_SPTT, &a)
    }

    #[test]
    fn decodes_translations() {
        let d = [
            translation(17, 51000, 20002, 120, Some(0)),
            translation(6, 40312, 20001, 3, Some(flow_state::FIN_OUT)),
            translation(6, 40100, 20000, 0, None),
            translation(
                6,
                40400,
                20003,
                7439,
                Some(flow_state::FIN_OUT | flow_state::FIN_IN | flow_state::RST),
            ),
        ];
        assert_eq!(d[1][0], HostAttr::Proto(6));
        assert_eq!(d[1][1], HostAttr::LocalPort(40312));
        assert_eq!(d[1][2], HostAttr::UniquePort(20001));
        assert_eq!(d[1][3], HostAttr::Idle(3));
        assert_eq!(d[1][4], HostAttr::FlowState(1));
        let t = Translations::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_translations(&t),
            "tcp 40100 -> 20000 idle 0s\n\
             tcp 40312 -> 20001 idle 3s fin-out\n\
             tcp 40400 -> 20003 idle 7439s fin-out,fin-in,rst\n\
             udp 51000 -> 20002 idle 120s\n"
        );
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"translations": [
                {"proto": "tcp", "local_port": 40100, "unique_port": 20000, "idle": 0, "state": []},
                {"proto": "tcp", "local_port": 40312, "unique_port": 20001, "idle": 3,
                 "state": ["fin-out"]},
                {"proto": "tcp", "local_port": 40400, "unique_port": 20003, "idle": 7439,
                 "state": ["fin-out", "fin-in", "rst"]},
                {"proto": "udp", "local_port": 51000, "unique_port": 20002, "idle": 120,
                 "state": []},
            ]})
        );
        assert!(serde_json::to_string(&t).unwrap().starts_with(
            r#"{"translations":[{"proto":"tcp","local_port":40100,"unique_port":20000,"idle":0,"state":[]},"#
        ));
    }

    #[test]
    fn decodes_icmp_identifier_translations() {
        // The kernel sends them after the port translations, FLOW_STATE 0.
        let d = [
            translation(17, 51000, 20002, 120, Some(0)),
            translation(1, 4660, 20005, 5, Some(0)),
        ];
        let t = Translations::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_translations(&t),
            "icmp 4660 -> 20005 idle 5s\n\
             udp 51000 -> 20002 idle 120s\n"
        );
        assert_eq!(
            serde_json::to_value(&t.translations[0]).unwrap(),
            json!({"proto": "icmp", "local_port": 4660, "unique_port": 20005, "idle": 5,
                   "state": []})
        );
        assert_eq!(proto_name(1), "icmp");
    }

    #[test]
    fn empty_odd_and_bad_translations() {
        let t = Translations::default();
        assert_eq!(render_translations(&t), "(no translations)\n");
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"translations":[]}"#);
        // Unknown protocol and state bits are shown, not refused.
        let d = [translation(132, 1, 2, 3, Some(0x80 | flow_state::RST))];
        let t = Translations::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_translations(&t),
            "proto 132 1 -> 2 idle 3s rst,0x80\n"
        );
        assert_eq!(t.translations[0].state, ["rst", "0x80"]);
        let partial = [HostAttr::Proto(6), HostAttr::UniquePort(2)];
        assert_eq!(
            Translations::from_dump([&partial[..]]).unwrap_err(),
            "translation message without LOCAL_PORT, IDLE"
        );
        assert_eq!(proto_name(17), "udp");
        assert_eq!(flow_state_names(0), Vec::<String>::new());
    }

    #[test]
    fn wrong_host_attribute_lengths_are_errors() {
        use netlink_packet_core::ParseableParametrized;
        use netlink_packet_generic::GenlHeader;
        let h = GenlHeader { cmd: 6, version: 1 };
        for buf in [
            // u16 ports with 4 bytes, u8 PROTO and FLOW_STATE with 2, u32 IDLE with 2.
            tlv(host_attr::LOCAL_PORT, &1u32.to_ne_bytes()),
            tlv(host_attr::UNIQUE_PORT, &[1]),
            tlv(host_attr::PROTO, &[6, 0]),
            tlv(host_attr::FLOW_STATE, &[1, 0]),
            tlv(host_attr::IDLE, &[1, 0]),
            tlv(host_attr::BLOCK_USED, &1u64.to_ne_bytes()),
        ] {
            assert!(
                Msg::<HostAttr>::parse_with_param(&buf, h).is_err(),
                "{buf:?}"
            );
        }
    }
}
