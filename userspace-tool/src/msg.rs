// SPDX-License-Identifier: GPL-2.0

//! The messages of the `dnat_router` and `dnat_host` generic netlink
//! families: a command and a list of attributes.
//!
//! All numbers come from [`dnat_core::uapi`]. Attributes this tool does not
//! know (and `PAD`) are kept as [`DefaultNla`] and ignored by the callers, so
//! that newer modules can add attributes.

use std::ffi::CStr;
use std::fmt::Debug;
use std::net::Ipv4Addr;

use dnat_core::uapi::{self, host_attr, router_attr};
use netlink_packet_core::{
    parse_u16, parse_u32, parse_u64, parse_u8, DecodeError, DefaultNla, Emitable, ErrorContext,
    Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

/// The attribute set of one family.
pub trait Attr: Nla + Debug + Sized + for<'a> Parseable<NlaBuffer<&'a [u8]>> {
    /// Name of the generic netlink family.
    const FAMILY: &'static CStr;
}

/// The name of `A`'s family as a `str`.
pub fn family_name<A: Attr>() -> &'static str {
    // The uapi names are ASCII.
    A::FAMILY.to_str().unwrap_or_default()
}

/// A message of a dnat family: command and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg<A> {
    /// `router_cmd::*` or `host_cmd::*`.
    pub cmd: u8,
    /// The attributes, in order.
    pub attrs: Vec<A>,
}

impl<A> Msg<A> {
    /// A message without attributes.
    pub fn new(cmd: u8) -> Self {
        Self {
            cmd,
            attrs: Vec::new(),
        }
    }
}

impl<A: Attr> GenlFamily for Msg<A> {
    fn family_name() -> &'static str {
        family_name::<A>()
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        uapi::FAMILY_VERSION
    }
}

impl<A: Attr> Emitable for Msg<A> {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl<A: Attr> ParseableParametrized<[u8], GenlHeader> for Msg<A> {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(buf)
            .map(|nla| nla.and_then(|nla| A::parse(&nla)))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("invalid {} attributes", family_name::<A>()))?;
        Ok(Self {
            cmd: header.cmd,
            attrs,
        })
    }
}

/// A NUL-terminated string attribute: everything before the first NUL.
/// Interface names are bytes to the kernel; invalid UTF-8 is replaced.
fn parse_cstring(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

/// Copies `bytes` to the front of `buffer`. `Nla::emit_value` gets a
/// buffer of `value_len()` bytes, which is what each caller writes; a
/// shorter one is left alone rather than panicking.
fn put(buffer: &mut [u8], bytes: &[u8]) {
    if let Some(b) = buffer.get_mut(..bytes.len()) {
        b.copy_from_slice(bytes);
    }
}

fn emit_cstring(buffer: &mut [u8], s: &str) {
    put(buffer, s.as_bytes());
    put(buffer.get_mut(s.len()..).unwrap_or_default(), &[0]);
}

/// An IPv4 address attribute: 4 bytes in network byte order.
fn parse_addr(payload: &[u8]) -> Result<Ipv4Addr, DecodeError> {
    let octets: [u8; 4] = payload
        .try_into()
        .map_err(|_| DecodeError::invalid_number(4, payload.len()))?;
    Ok(Ipv4Addr::from(octets))
}

/// A binary attribute of exactly `N` bytes.
fn parse_binary<const N: usize>(payload: &[u8]) -> Result<[u8; N], DecodeError> {
    payload
        .try_into()
        .map_err(|_| DecodeError::invalid_number(N, payload.len()))
}

/// A flag attribute: no payload.
fn parse_flag(payload: &[u8]) -> Result<(), DecodeError> {
    if payload.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::invalid_number(0, payload.len()))
    }
}

/// Attributes of the `dnat_router` family (`router_attr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterAttr {
    LanIfname(String),
    WanIfname(String),
    LanIfindex(u32),
    WanIfindex(u32),
    PublicAddr(Ipv4Addr),
    PortMin(u16),
    PortMax(u16),
    SpiMin(u32),
    SpiMax(u32),
    Hook(u32),
    Packets(u64),
    /// A host's LAN address, in block dumps.
    HostAddr(Ipv4Addr),
    /// Flag (no payload): the host is revoked, in block dumps.
    HostRevoked,
    /// `block_kind`, in block dumps.
    BlockKind(u8),
    BlockLowest(u32),
    BlockCount(u32),
    /// Seconds left on the lease; absent: no expiry.
    BlockExpires(u32),
    /// A PAP counter's name, in PAP stats dumps.
    StatName(String),
    /// Its value.
    StatValue(u64),
    /// Ports a host holds, in host dumps.
    HostPorts(u32),
    /// SPIs a host holds, in host dumps.
    HostSpis(u32),
    /// Packets delivered to a host from the Internet, in host dumps.
    HostInPackets(u64),
    /// Packets a host sent to the Internet, in host dumps.
    HostOutPackets(u64),
    /// Packets a host sent from ports it does not own, in host dumps.
    HostSpoofed(u64),
    /// `unowned` value: what happens to inbound packets nobody owns (a setting).
    Unowned(u8),
    /// Most ports a host may hold: the default (a setting), a host's own
    /// in `SET_QUOTA`, the one in effect for a host in host dumps.
    QuotaPorts(u32),
    /// Most SPIs a host may hold: as for `QuotaPorts`.
    QuotaSpis(u32),
    /// An SA peer's external address: in SA and blacklist requests and
    /// dumps.
    PeerAddr(Ipv4Addr),
    /// An SPI: in SA and blacklist requests and dumps.
    Spi(u32),
    /// `sa_policy` value: whether inbound ESP/AH needs a validated SA (a
    /// setting).
    SaPolicy(u8),
    /// Inbound ESP/AH for a host dropped by the SA checks, in host dumps.
    HostSaDropped(u64),
    /// Seconds a block stays bound: `PIN_BLOCK` input, seconds left in
    /// block dumps.
    PinSecs(u32),
    /// Flag (no payload): the host has its own quota (`SET_QUOTA`), in
    /// host dumps.
    QuotaOwn,
    /// `hook_counters` value: count packets at every hook point (a
    /// setting).
    HookCounters(u8),
    /// `pap_rate` value: port and SPI requests a second per host (0: no
    /// limit).
    PapRate(u32),
    /// `pap_auth_mode` value: whether PAP must be authenticated (a
    /// setting).
    PapAuth(u8),
    /// Flag (no payload): the host authenticates its PAP, in host dumps.
    HostAuth,
    /// Bytes of the packets of `HostInPackets`, in host dumps.
    HostInBytes(u64),
    /// Bytes of the packets of `HostOutPackets`, in host dumps.
    HostOutBytes(u64),
    /// `router_event` value: what an event reports.
    EventType(u8),
    /// A name explaining an event.
    EventReason(String),
    /// A number of an event: drops a second, events lost.
    EventCount(u64),
    /// Events of the type suppressed by their rate limit before this one.
    EventSuppressed(u32),
    /// The router epoch, in reset events.
    Epoch(u32),
    /// `delivery` value: how the router delivers to a host, in
    /// `SET_DELIVERY` and host dumps.
    Delivery(u8),
    /// A host's Ethernet address: to bind in `SET_DELIVERY`, the bound
    /// one in host dumps.
    Lladdr([u8; 6]),
    /// `PAD` and attributes this tool does not know.
    Other(DefaultNla),
}

impl Nla for RouterAttr {
    fn value_len(&self) -> usize {
        use RouterAttr::*;
        match self {
            LanIfname(s) | WanIfname(s) | StatName(s) | EventReason(s) => s.len() + 1,
            LanIfindex(_) | WanIfindex(_) | SpiMin(_) | SpiMax(_) | Hook(_) | QuotaPorts(_)
            | QuotaSpis(_) | Spi(_) | PinSecs(_) | PapRate(_) => 4,
            EventSuppressed(_) | Epoch(_) => 4,
            BlockLowest(_) | BlockCount(_) | BlockExpires(_) | HostPorts(_) | HostSpis(_) => 4,
            PublicAddr(_) | HostAddr(_) | PeerAddr(_) => 4,
            PortMin(_) | PortMax(_) => 2,
            BlockKind(_) | Unowned(_) | SaPolicy(_) | HookCounters(_) | PapAuth(_)
            | EventType(_) | Delivery(_) => 1,
            Lladdr(_) => 6,
            HostRevoked | QuotaOwn | HostAuth => 0,
            Packets(_) | StatValue(_) | HostInPackets(_) | HostOutPackets(_) | HostSpoofed(_)
            | HostSaDropped(_) | HostInBytes(_) | HostOutBytes(_) | EventCount(_) => 8,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use RouterAttr::*;
        match self {
            LanIfname(_) => router_attr::LAN_IFNAME,
            WanIfname(_) => router_attr::WAN_IFNAME,
            LanIfindex(_) => router_attr::LAN_IFINDEX,
            WanIfindex(_) => router_attr::WAN_IFINDEX,
            PublicAddr(_) => router_attr::PUBLIC_ADDR,
            PortMin(_) => router_attr::PORT_MIN,
            PortMax(_) => router_attr::PORT_MAX,
            SpiMin(_) => router_attr::SPI_MIN,
            SpiMax(_) => router_attr::SPI_MAX,
            Hook(_) => router_attr::HOOK,
            Packets(_) => router_attr::PACKETS,
            HostAddr(_) => router_attr::HOST_ADDR,
            HostRevoked => router_attr::HOST_REVOKED,
            BlockKind(_) => router_attr::BLOCK_KIND,
            BlockLowest(_) => router_attr::BLOCK_LOWEST,
            BlockCount(_) => router_attr::BLOCK_COUNT,
            BlockExpires(_) => router_attr::BLOCK_EXPIRES,
            StatName(_) => router_attr::STAT_NAME,
            StatValue(_) => router_attr::STAT_VALUE,
            HostPorts(_) => router_attr::HOST_PORTS,
            HostSpis(_) => router_attr::HOST_SPIS,
            HostInPackets(_) => router_attr::HOST_IN_PACKETS,
            HostOutPackets(_) => router_attr::HOST_OUT_PACKETS,
            HostSpoofed(_) => router_attr::HOST_SPOOFED,
            Unowned(_) => router_attr::UNOWNED,
            QuotaPorts(_) => router_attr::QUOTA_PORTS,
            QuotaSpis(_) => router_attr::QUOTA_SPIS,
            PeerAddr(_) => router_attr::PEER_ADDR,
            Spi(_) => router_attr::SPI,
            SaPolicy(_) => router_attr::SA_POLICY,
            HostSaDropped(_) => router_attr::HOST_SA_DROPPED,
            PinSecs(_) => router_attr::PIN_SECS,
            PapRate(_) => router_attr::PAP_RATE,
            PapAuth(_) => router_attr::PAP_AUTH,
            HostAuth => router_attr::HOST_AUTH,
            HostInBytes(_) => router_attr::HOST_IN_BYTES,
            HostOutBytes(_) => router_attr::HOST_OUT_BYTES,
            QuotaOwn => router_attr::QUOTA_OWN,
            HookCounters(_) => router_attr::HOOK_COUNTERS,
            EventType(_) => router_attr::EVENT_TYPE,
            EventReason(_) => router_attr::EVENT_REASON,
            EventCount(_) => router_attr::EVENT_COUNT,
            EventSuppressed(_) => router_attr::EVENT_SUPPRESSED,
            Epoch(_) => router_attr::EPOCH,
            Delivery(_) => router_attr::DELIVERY,
            Lladdr(_) => router_attr::LLADDR,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use RouterAttr::*;
        match self {
            LanIfname(s) | WanIfname(s) | StatName(s) | EventReason(s) => emit_cstring(buffer, s),
            LanIfindex(v) | WanIfindex(v) | SpiMin(v) | SpiMax(v) | Hook(v) | QuotaPorts(v)
            | QuotaSpis(v) | BlockLowest(v) | BlockCount(v) | BlockExpires(v) | HostPorts(v)
            | HostSpis(v) | Spi(v) | PinSecs(v) | PapRate(v) | EventSuppressed(v) | Epoch(v) => {
                put(buffer, &v.to_ne_bytes())
            }
            PublicAddr(a) | HostAddr(a) | PeerAddr(a) => put(buffer, &a.octets()),
            PortMin(v) | PortMax(v) => put(buffer, &v.to_ne_bytes()),
            BlockKind(v) | Unowned(v) | SaPolicy(v) | HookCounters(v) | PapAuth(v)
            | EventType(v) | Delivery(v) => put(buffer, &[*v]),
            Lladdr(m) => put(buffer, m),
            HostRevoked | QuotaOwn | HostAuth => {}
            Packets(v) | StatValue(v) | HostInPackets(v) | HostOutPackets(v) | HostSpoofed(v)
            | HostSaDropped(v) | HostInBytes(v) | HostOutBytes(v) | EventCount(v) => {
                put(buffer, &v.to_ne_bytes())
            }
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for RouterAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let kind = buf.kind();
        let ctx = || format!("invalid dnat_router attribute {kind}");
        Ok(match kind {
            router_attr::LAN_IFNAME => Self::LanIfname(parse_cstring(v)),
            router_attr::WAN_IFNAME => Self::WanIfname(parse_cstring(v)),
            router_attr::LAN_IFINDEX => Self::LanIfindex(parse_u32(v).with_context(ctx)?),
            router_attr::WAN_IFINDEX => Self::WanIfindex(parse_u32(v).with_context(ctx)?),
            router_attr::PUBLIC_ADDR => Self::PublicAddr(parse_addr(v).with_context(ctx)?),
            router_attr::PORT_MIN => Self::PortMin(parse_u16(v).with_context(ctx)?),
            router_attr::PORT_MAX => Self::PortMax(parse_u16(v).with_context(ctx)?),
            router_attr::SPI_MIN => Self::SpiMin(parse_u32(v).with_context(ctx)?),
            router_attr::SPI_MAX => Self::SpiMax(parse_u32(v).with_context(ctx)?),
            router_attr::HOOK => Self::Hook(parse_u32(v).with_context(ctx)?),
            router_attr::PACKETS => Self::Packets(parse_u64(v).with_context(ctx)?),
            router_attr::HOST_ADDR => Self::HostAddr(parse_addr(v).with_context(ctx)?),
            router_attr::HOST_REVOKED => {
                parse_flag(v).with_context(ctx)?;
                Self::HostRevoked
            }
            router_attr::BLOCK_KIND => Self::BlockKind(parse_u8(v).with_context(ctx)?),
            router_attr::BLOCK_LOWEST => Self::BlockLowest(parse_u32(v).with_context(ctx)?),
            router_attr::BLOCK_COUNT => Self::BlockCount(parse_u32(v).with_context(ctx)?),
            router_attr::BLOCK_EXPIRES => Self::BlockExpires(parse_u32(v).with_context(ctx)?),
            router_attr::STAT_NAME => Self::StatName(parse_cstring(v)),
            router_attr::STAT_VALUE => Self::StatValue(parse_u64(v).with_context(ctx)?),
            router_attr::HOST_PORTS => Self::HostPorts(parse_u32(v).with_context(ctx)?),
            router_attr::HOST_SPIS => Self::HostSpis(parse_u32(v).with_context(ctx)?),
            router_attr::HOST_IN_PACKETS => Self::HostInPackets(parse_u64(v).with_context(ctx)?),
            router_attr::HOST_OUT_PACKETS => Self::HostOutPackets(parse_u64(v).with_context(ctx)?),
            router_attr::HOST_SPOOFED => Self::HostSpoofed(parse_u64(v).with_context(ctx)?),
            router_attr::UNOWNED => Self::Unowned(parse_u8(v).with_context(ctx)?),
            router_attr::QUOTA_PORTS => Self::QuotaPorts(parse_u32(v).with_context(ctx)?),
            router_attr::QUOTA_SPIS => Self::QuotaSpis(parse_u32(v).with_context(ctx)?),
            router_attr::PEER_ADDR => Self::PeerAddr(parse_addr(v).with_context(ctx)?),
            router_attr::SPI => Self::Spi(parse_u32(v).with_context(ctx)?),
            router_attr::SA_POLICY => Self::SaPolicy(parse_u8(v).with_context(ctx)?),
            router_attr::HOST_SA_DROPPED => Self::HostSaDropped(parse_u64(v).with_context(ctx)?),
            router_attr::PIN_SECS => Self::PinSecs(parse_u32(v).with_context(ctx)?),
            router_attr::PAP_RATE => Self::PapRate(parse_u32(v).with_context(ctx)?),
            router_attr::QUOTA_OWN => {
                parse_flag(v).with_context(ctx)?;
                Self::QuotaOwn
            }
            router_attr::HOOK_COUNTERS => Self::HookCounters(parse_u8(v).with_context(ctx)?),
            router_attr::PAP_AUTH => Self::PapAuth(parse_u8(v).with_context(ctx)?),
            router_attr::HOST_AUTH => {
                parse_flag(v).with_context(ctx)?;
                Self::HostAuth
            }
            router_attr::HOST_IN_BYTES => Self::HostInBytes(parse_u64(v).with_context(ctx)?),
            router_attr::HOST_OUT_BYTES => Self::HostOutBytes(parse_u64(v).with_context(ctx)?),
            router_attr::EVENT_TYPE => Self::EventType(parse_u8(v).with_context(ctx)?),
            router_attr::EVENT_REASON => Self::EventReason(parse_cstring(v)),
            router_attr::EVENT_COUNT => Self::EventCount(parse_u64(v).with_context(ctx)?),
            router_attr::EVENT_SUPPRESSED => Self::EventSuppressed(parse_u32(v).with_context(ctx)?),
            router_attr::EPOCH => Self::Epoch(parse_u32(v).with_context(ctx)?),
            router_attr::DELIVERY => Self::Delivery(parse_u8(v).with_context(ctx)?),
            router_attr::LLADDR => Self::Lladdr(parse_binary(v).with_context(ctx)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

impl Attr for RouterAttr {
    const FAMILY: &'static CStr = uapi::ROUTER_FAMILY;
}

/// Attributes of the `dnat_host` family (`host_attr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAttr {
    RouterAddr(Ipv4Addr),
    PublicAddr(Ipv4Addr),
    Hook(u32),
    Packets(u64),
    /// The interface towards the router.
    LanIfname(String),
    /// Its index when it was set (read-only).
    LanIfindex(u32),
    /// `host_mode`.
    Mode(u8),
    /// Idle timeout of TCP translations, seconds.
    TcpTimeout(u32),
    /// Idle timeout of UDP translations, seconds.
    UdpTimeout(u32),
    /// Ports asked for per PAP request.
    PortBlock(u32),
    /// The router epoch last seen (output only).
    Epoch(u32),
    /// A counter's name, in stats dumps.
    StatName(String),
    /// Its value.
    StatValue(u64),
    /// `block_kind`: in block dumps, `REQUEST` and `RELEASE`.
    BlockKind(u8),
    BlockLowest(u32),
    BlockCount(u32),
    /// Seconds left on the lease; absent: never.
    BlockExpires(u32),
    /// Ports of the block in use by translations (port blocks only).
    BlockUsed(u32),
    /// IP protocol of a translation (`IPPROTO_TCP`, `IPPROTO_UDP`).
    Proto(u8),
    /// The stack's own (ephemeral) port of a translation.
    LocalPort(u16),
    /// The granted port it is translated to.
    UniquePort(u16),
    /// Seconds since the translation was last used.
    Idle(u32),
    /// `flow_state` bits.
    FlowState(u8),
    /// An SA peer's external address: in SA and blacklist requests.
    PeerAddr(Ipv4Addr),
    /// An SPI: in SA and blacklist requests and SA dumps.
    Spi(u32),
    /// `sa_state` of a recorded validation, in SA dumps.
    SaState(u8),
    /// `hook_counters` value: count packets at every hook point (a
    /// setting).
    HookCounters(u8),
    /// `host_event` value: what an event reports.
    EventType(u8),
    /// A name explaining an event.
    EventReason(String),
    /// A number of an event: events lost.
    EventCount(u64),
    /// Delivery method: 0 IP-in-IP, 1 direct (a setting).
    Delivery(u8),
    /// The router's link-layer address (output only).
    RouterLladdr([u8; 6]),
    /// `PAD` and attributes this tool does not know.
    Other(DefaultNla),
}

impl Nla for HostAttr {
    fn value_len(&self) -> usize {
        use HostAttr::*;
        match self {
            LanIfname(s) | StatName(s) | EventReason(s) => s.len() + 1,
            RouterAddr(_) | PublicAddr(_) | PeerAddr(_) => 4,
            Hook(_) | LanIfindex(_) | TcpTimeout(_) | UdpTimeout(_) | PortBlock(_) | Epoch(_)
            | BlockLowest(_) | BlockCount(_) | BlockExpires(_) | BlockUsed(_) | Idle(_)
            | Spi(_) => 4,
            LocalPort(_) | UniquePort(_) => 2,
            Mode(_) | BlockKind(_) | Proto(_) | FlowState(_) | SaState(_) | HookCounters(_)
            | EventType(_) | Delivery(_) => 1,
            Packets(_) | StatValue(_) | EventCount(_) => 8,
            RouterLladdr(_) => 6,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use HostAttr::*;
        match self {
            RouterAddr(_) => host_attr::ROUTER_ADDR,
            PublicAddr(_) => host_attr::PUBLIC_ADDR,
            Hook(_) => host_attr::HOOK,
            Packets(_) => host_attr::PACKETS,
            LanIfname(_) => host_attr::LAN_IFNAME,
            LanIfindex(_) => host_attr::LAN_IFINDEX,
            Mode(_) => host_attr::MODE,
            TcpTimeout(_) => host_attr::TCP_TIMEOUT,
            UdpTimeout(_) => host_attr::UDP_TIMEOUT,
            PortBlock(_) => host_attr::PORT_BLOCK,
            Epoch(_) => host_attr::EPOCH,
            StatName(_) => host_attr::STAT_NAME,
            StatValue(_) => host_attr::STAT_VALUE,
            BlockKind(_) => host_attr::BLOCK_KIND,
            BlockLowest(_) => host_attr::BLOCK_LOWEST,
            BlockCount(_) => host_attr::BLOCK_COUNT,
            BlockExpires(_) => host_attr::BLOCK_EXPIRES,
            BlockUsed(_) => host_attr::BLOCK_USED,
            Proto(_) => host_attr::PROTO,
            LocalPort(_) => host_attr::LOCAL_PORT,
            UniquePort(_) => host_attr::UNIQUE_PORT,
            Idle(_) => host_attr::IDLE,
            FlowState(_) => host_attr::FLOW_STATE,
            PeerAddr(_) => host_attr::PEER_ADDR,
            Spi(_) => host_attr::SPI,
            SaState(_) => host_attr::SA_STATE,
            HookCounters(_) => host_attr::HOOK_COUNTERS,
            EventType(_) => host_attr::EVENT_TYPE,
            EventReason(_) => host_attr::EVENT_REASON,
            EventCount(_) => host_attr::EVENT_COUNT,
            Delivery(_) => host_attr::DELIVERY,
            RouterLladdr(_) => host_attr::ROUTER_LLADDR,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use HostAttr::*;
        match self {
            LanIfname(s) | StatName(s) | EventReason(s) => emit_cstring(buffer, s),
            RouterAddr(a) | PublicAddr(a) | PeerAddr(a) => put(buffer, &a.octets()),
            Hook(v) | LanIfindex(v) | TcpTimeout(v) | UdpTimeout(v) | PortBlock(v) | Epoch(v)
            | BlockLowest(v) | BlockCount(v) | BlockExpires(v) | BlockUsed(v) | Idle(v)
            | Spi(v) => put(buffer, &v.to_ne_bytes()),
            LocalPort(v) | UniquePort(v) => put(buffer, &v.to_ne_bytes()),
            Mode(v) | BlockKind(v) | Proto(v) | FlowState(v) | SaState(v) | HookCounters(v)
            | EventType(v) | Delivery(v) => put(buffer, &[*v]),
            Packets(v) | StatValue(v) | EventCount(v) => put(buffer, &v.to_ne_bytes()),
            RouterLladdr(m) => put(buffer, m),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for HostAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let kind = buf.kind();
        let ctx = || format!("invalid dnat_host attribute {kind}");
        Ok(match kind {
            host_attr::ROUTER_ADDR => Self::RouterAddr(parse_addr(v).with_context(ctx)?),
            host_attr::PUBLIC_ADDR => Self::PublicAddr(parse_addr(v).with_context(ctx)?),
            host_attr::HOOK => Self::Hook(parse_u32(v).with_context(ctx)?),
            host_attr::PACKETS => Self::Packets(parse_u64(v).with_context(ctx)?),
            host_attr::LAN_IFNAME => Self::LanIfname(parse_cstring(v)),
            host_attr::LAN_IFINDEX => Self::LanIfindex(parse_u32(v).with_context(ctx)?),
            host_attr::MODE => Self::Mode(parse_u8(v).with_context(ctx)?),
            host_attr::TCP_TIMEOUT => Self::TcpTimeout(parse_u32(v).with_context(ctx)?),
            host_attr::UDP_TIMEOUT => Self::UdpTimeout(parse_u32(v).with_context(ctx)?),
            host_attr::PORT_BLOCK => Self::PortBlock(parse_u32(v).with_context(ctx)?),
            host_attr::EPOCH => Self::Epoch(parse_u32(v).with_context(ctx)?),
            host_attr::STAT_NAME => Self::StatName(parse_cstring(v)),
            host_attr::STAT_VALUE => Self::StatValue(parse_u64(v).with_context(ctx)?),
            host_attr::BLOCK_KIND => Self::BlockKind(parse_u8(v).with_context(ctx)?),
            host_attr::BLOCK_LOWEST => Self::BlockLowest(parse_u32(v).with_context(ctx)?),
            host_attr::BLOCK_COUNT => Self::BlockCount(parse_u32(v).with_context(ctx)?),
            host_attr::BLOCK_EXPIRES => Self::BlockExpires(parse_u32(v).with_context(ctx)?),
            host_attr::BLOCK_USED => Self::BlockUsed(parse_u32(v).with_context(ctx)?),
            host_attr::PROTO => Self::Proto(parse_u8(v).with_context(ctx)?),
            host_attr::LOCAL_PORT => Self::LocalPort(parse_u16(v).with_context(ctx)?),
            host_attr::UNIQUE_PORT => Self::UniquePort(parse_u16(v).with_context(ctx)?),
            host_attr::IDLE => Self::Idle(parse_u32(v).with_context(ctx)?),
            host_attr::FLOW_STATE => Self::FlowState(parse_u8(v).with_context(ctx)?),
            host_attr::PEER_ADDR => Self::PeerAddr(parse_addr(v).with_context(ctx)?),
            host_attr::SPI => Self::Spi(parse_u32(v).with_context(ctx)?),
            host_attr::SA_STATE => Self::SaState(parse_u8(v).with_context(ctx)?),
            host_attr::HOOK_COUNTERS => Self::HookCounters(parse_u8(v).with_context(ctx)?),
            host_attr::EVENT_TYPE => Self::EventType(parse_u8(v).with_context(ctx)?),
            host_attr::EVENT_REASON => Self::EventReason(parse_cstring(v)),
            host_attr::EVENT_COUNT => Self::EventCount(parse_u64(v).with_context(ctx)?),
            host_attr::DELIVERY => Self::Delivery(parse_u8(v).with_context(ctx)?),
            host_attr::ROUTER_LLADDR => Self::RouterLladdr(parse_binary(v).with_context(ctx)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

impl Attr for HostAttr {
    const FAMILY: &'static CStr = uapi::HOST_FAMILY;
}

/// `CTRL_ATTR_FAMILY_ID` of the generic netlink controller.
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME`: the family's name, NUL-terminated.
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// `CTRL_ATTR_MCAST_GROUPS`: a nest of the family's multicast groups, each
/// a nest (typed by its index, from 1) of the two below.
pub const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
/// `CTRL_ATTR_MCAST_GRP_NAME`: a group's name.
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
/// `CTRL_ATTR_MCAST_GRP_ID`: the group's number.
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
/// `NLA_F_NESTED`.
const NLA_F_NESTED: u16 = 0x8000;

/// An attribute of the controller's (`nlctrl`) `CTRL_CMD_GETFAMILY` reply
/// and of its `NEWFAMILY`/`DELFAMILY` notifications, of which the tool
/// reads only the family id, its name and the multicast groups. The rest
/// (version, operations, policies) stays undecoded: the
/// `GenlCtrl` decoder of netlink-packet-generic 0.5 panics on a policy
/// nest with an attribute shorter than its header and refuses a reply with
/// an attribute it does not know, so one odd attribute would keep the tool
/// from finding its family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtrlAttr {
    FamilyId(u16),
    FamilyName(String),
    /// The multicast groups: name and number. A group without either is
    /// left out.
    McastGroups(Vec<(String, u32)>),
    Other(DefaultNla),
}

/// One attribute (header, payload, padding) of type `kind`.
fn nla_bytes(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(value);
    v.resize((len + 3) & !3, 0);
    v
}

/// The payload of `CTRL_ATTR_MCAST_GROUPS` for `groups`.
fn mcast_groups_bytes(groups: &[(String, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, id)) in groups.iter().enumerate() {
        let mut name_nul = name.as_bytes().to_vec();
        name_nul.push(0);
        let mut inner = nla_bytes(CTRL_ATTR_MCAST_GRP_NAME, &name_nul);
        inner.extend(nla_bytes(CTRL_ATTR_MCAST_GRP_ID, &id.to_ne_bytes()));
        let index = u16::try_from(i + 1).unwrap_or(u16::MAX);
        out.extend(nla_bytes(index | NLA_F_NESTED, &inner));
    }
    out
}

/// The groups of a `CTRL_ATTR_MCAST_GROUPS` payload.
fn parse_mcast_groups(payload: &[u8]) -> Result<Vec<(String, u32)>, DecodeError> {
    let mut out = Vec::new();
    for grp in NlasIterator::new(payload) {
        let grp = grp?;
        let (mut name, mut id) = (None, None);
        for a in NlasIterator::new(grp.value()) {
            let a = a?;
            match a.kind() {
                CTRL_ATTR_MCAST_GRP_NAME => name = Some(parse_cstring(a.value())),
                CTRL_ATTR_MCAST_GRP_ID => id = Some(parse_u32(a.value())?),
                _ => {}
            }
        }
        if let (Some(n), Some(i)) = (name, id) {
            out.push((n, i));
        }
    }
    Ok(out)
}

impl Nla for CtrlAttr {
    fn value_len(&self) -> usize {
        match self {
            CtrlAttr::FamilyId(_) => 2,
            CtrlAttr::FamilyName(n) => n.len() + 1,
            CtrlAttr::McastGroups(g) => mcast_groups_bytes(g).len(),
            CtrlAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            CtrlAttr::FamilyId(_) => CTRL_ATTR_FAMILY_ID,
            CtrlAttr::FamilyName(_) => CTRL_ATTR_FAMILY_NAME,
            CtrlAttr::McastGroups(_) => CTRL_ATTR_MCAST_GROUPS,
            CtrlAttr::Other(nla) => nla.kind(),
        }
    }

    fn is_nested(&self) -> bool {
        matches!(self, CtrlAttr::McastGroups(_))
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            CtrlAttr::FamilyId(v) => put(buffer, &v.to_ne_bytes()),
            CtrlAttr::FamilyName(n) => emit_cstring(buffer, n),
            CtrlAttr::McastGroups(g) => put(buffer, &mcast_groups_bytes(g)),
            CtrlAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for CtrlAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        Ok(match buf.kind() {
            CTRL_ATTR_FAMILY_ID => Self::FamilyId(
                parse_u16(buf.value()).context("invalid nlctrl attribute CTRL_ATTR_FAMILY_ID")?,
            ),
            CTRL_ATTR_FAMILY_NAME => Self::FamilyName(parse_cstring(buf.value())),
            CTRL_ATTR_MCAST_GROUPS => Self::McastGroups(
                parse_mcast_groups(buf.value())
                    .context("invalid nlctrl attribute CTRL_ATTR_MCAST_GROUPS")?,
            ),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

impl Attr for CtrlAttr {
    const FAMILY: &'static CStr = c"nlctrl";
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnat_core::uapi::{host_cmd, router_cmd};

    #[test]
    fn family_names_come_from_uapi() {
        assert_eq!(family_name::<RouterAttr>(), "dnat_router");
        assert_eq!(family_name::<HostAttr>(), "dnat_host");
        assert_eq!(Msg::<RouterAttr>::new(router_cmd::GET_CONFIG).version(), 1);
    }

    #[test]
    fn emits_padded_attributes() {
        let msg = Msg {
            cmd: router_cmd::SET_CONFIG,
            attrs: vec![RouterAttr::LanIfname("eth0".into()), RouterAttr::PortMin(7)],
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        let mut want = vec![9, 0, 1, 0];
        want.extend_from_slice(b"eth0\0\0\0\0");
        want.extend_from_slice(&[6, 0, 6, 0]);
        want.extend_from_slice(&7u16.to_ne_bytes());
        want.extend_from_slice(&[0, 0]);
        assert_eq!(buf, want);
    }

    #[test]
    fn unknown_and_pad_attributes_are_kept_as_other() {
        // PAD (empty), then an attribute from the future.
        let mut buf = vec![4, 0, 12, 0];
        buf.extend_from_slice(&[8, 0, 99, 0, 1, 2, 3, 4]);
        buf.extend_from_slice(&[8, 0, 5, 0, 203, 0, 113, 30]);
        let msg =
            Msg::<RouterAttr>::parse_with_param(&buf, GenlHeader { cmd: 1, version: 1 }).unwrap();
        assert!(matches!(msg.attrs[0], RouterAttr::Other(_)));
        assert!(matches!(msg.attrs[1], RouterAttr::Other(_)));
        assert_eq!(
            msg.attrs[2],
            RouterAttr::PublicAddr(Ipv4Addr::new(203, 0, 113, 30))
        );
    }

    #[test]
    fn host_and_unowned_attributes_round_trip() {
        let attrs = vec![
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 3)),
            RouterAttr::HostRevoked,
            RouterAttr::HostPorts(16),
            RouterAttr::HostSpis(256),
            RouterAttr::HostInPackets(1234),
            RouterAttr::HostOutPackets(u64::MAX),
            RouterAttr::HostSpoofed(3),
            RouterAttr::Unowned(uapi::unowned::DROP),
        ];
        let msg = Msg {
            cmd: router_cmd::GET_HOSTS,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        let mut want = vec![8, 0, 13, 0, 10, 0, 0, 3, 4, 0, 14, 0];
        want.extend_from_slice(&[8, 0, 21, 0]);
        want.extend_from_slice(&16u32.to_ne_bytes());
        want.extend_from_slice(&[8, 0, 22, 0]);
        want.extend_from_slice(&256u32.to_ne_bytes());
        want.extend_from_slice(&[12, 0, 23, 0]);
        want.extend_from_slice(&1234u64.to_ne_bytes());
        want.extend_from_slice(&[12, 0, 24, 0]);
        want.extend_from_slice(&u64::MAX.to_ne_bytes());
        want.extend_from_slice(&[12, 0, 25, 0]);
        want.extend_from_slice(&3u64.to_ne_bytes());
        // A u8: length 5, padded to 8.
        want.extend_from_slice(&[5, 0, 26, 0, 1, 0, 0, 0]);
        assert_eq!(buf, want);
        let back = Msg::<RouterAttr>::parse_with_param(
            &buf,
            GenlHeader {
                cmd: router_cmd::GET_HOSTS,
                version: 1,
            },
        )
        .unwrap();
        assert_eq!(back.attrs, attrs);
    }

    #[test]
    fn host_byte_counters_round_trip() {
        let attrs = vec![
            RouterAttr::HostInBytes(28 * 5),
            RouterAttr::HostOutBytes(u64::MAX),
        ];
        let msg = Msg {
            cmd: router_cmd::GET_HOSTS,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        // HOST_IN_BYTES 39, HOST_OUT_BYTES 40 (u64).
        let mut want = vec![12, 0, 39, 0];
        want.extend_from_slice(&140u64.to_ne_bytes());
        want.extend_from_slice(&[12, 0, 40, 0]);
        want.extend_from_slice(&u64::MAX.to_ne_bytes());
        assert_eq!(buf, want);
        let back = Msg::<RouterAttr>::parse_with_param(
            &buf,
            GenlHeader {
                cmd: router_cmd::GET_HOSTS,
                version: 1,
            },
        )
        .unwrap();
        assert_eq!(back.attrs, attrs);
        // A u32 where a u64 belongs is an error, not a value.
        let mut short = vec![8, 0, 39, 0];
        short.extend_from_slice(&1u32.to_ne_bytes());
        assert!(Msg::<RouterAttr>::parse_with_param(
            &short,
            GenlHeader {
                cmd: router_cmd::GET_HOSTS,
                version: 1,
            },
        )
        .is_err());
    }

    #[test]
    fn sa_attributes_round_trip() {
        let attrs = vec![
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::PeerAddr(Ipv4Addr::new(203, 0, 113, 3)),
            RouterAttr::Spi(0x1000),
            RouterAttr::SaPolicy(uapi::sa_policy::PERMISSIVE),
            RouterAttr::HostSaDropped(5),
        ];
        let msg = Msg {
            cmd: router_cmd::GET_SAS,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        // HOST_ADDR 13, PEER_ADDR 29 (network byte order), SPI 30 (u32),
        // SA_POLICY 31 (u8, padded), HOST_SA_DROPPED 32 (u64).
        let mut want = vec![8, 0, 13, 0, 10, 0, 0, 1, 8, 0, 29, 0, 203, 0, 113, 3];
        want.extend_from_slice(&[8, 0, 30, 0]);
        want.extend_from_slice(&0x1000u32.to_ne_bytes());
        want.extend_from_slice(&[5, 0, 31, 0, 1, 0, 0, 0]);
        want.extend_from_slice(&[12, 0, 32, 0]);
        want.extend_from_slice(&5u64.to_ne_bytes());
        assert_eq!(buf, want);
        let back = Msg::<RouterAttr>::parse_with_param(
            &buf,
            GenlHeader {
                cmd: router_cmd::GET_SAS,
                version: 1,
            },
        )
        .unwrap();
        assert_eq!(back.attrs, attrs);
        assert_eq!(
            (
                uapi::router_attr::PEER_ADDR,
                uapi::router_attr::SPI,
                uapi::router_attr::SA_POLICY,
                uapi::router_attr::HOST_SA_DROPPED
            ),
            (29, 30, 31, 32)
        );
    }

    #[test]
    fn delivery_attributes_round_trip() {
        let attrs = vec![
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::Delivery(uapi::delivery::DIRECT),
            RouterAttr::Lladdr([0x02, 0, 0, 0, 0xab, 0xff]),
        ];
        let msg = Msg {
            cmd: router_cmd::SET_DELIVERY,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        // DELIVERY 46 (u8, padded), LLADDR 47 (6 bytes, padded).
        let want = vec![
            8, 0, 13, 0, 10, 0, 0, 1, 5, 0, 46, 0, 1, 0, 0, 0, 10, 0, 47, 0, 2, 0, 0, 0, 0xab,
            0xff, 0, 0,
        ];
        assert_eq!(buf, want);
        let h = GenlHeader {
            cmd: router_cmd::GET_HOSTS,
            version: 1,
        };
        let back = Msg::<RouterAttr>::parse_with_param(&buf, h).unwrap();
        assert_eq!(back.attrs, attrs);
        assert_eq!((router_cmd::SET_DELIVERY, uapi::delivery::IPIP), (19, 0));
        // LLADDR is exactly 6 bytes.
        for buf in [
            &[8, 0, 47, 0, 1, 2, 3, 4][..],
            &[11, 0, 47, 0, 1, 2, 3, 4, 5, 6, 7, 0][..],
        ] {
            assert!(
                Msg::<RouterAttr>::parse_with_param(buf, h).is_err(),
                "{buf:?}"
            );
        }
    }

    #[test]
    fn quota_attributes_round_trip() {
        let attrs = vec![
            RouterAttr::HostAddr(Ipv4Addr::new(10, 0, 0, 1)),
            RouterAttr::QuotaPorts(100),
            RouterAttr::QuotaSpis(u32::MAX),
            RouterAttr::QuotaOwn,
        ];
        let msg = Msg {
            cmd: router_cmd::GET_HOSTS,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        // QUOTA_PORTS 27 and QUOTA_SPIS 28 (u32), QUOTA_OWN 34 (flag).
        let mut want = vec![8, 0, 13, 0, 10, 0, 0, 1, 8, 0, 27, 0];
        want.extend_from_slice(&100u32.to_ne_bytes());
        want.extend_from_slice(&[8, 0, 28, 0]);
        want.extend_from_slice(&u32::MAX.to_ne_bytes());
        want.extend_from_slice(&[4, 0, 34, 0]);
        assert_eq!(buf, want);
        let h = GenlHeader {
            cmd: router_cmd::GET_HOSTS,
            version: 1,
        };
        let back = Msg::<RouterAttr>::parse_with_param(&buf, h).unwrap();
        assert_eq!(back.attrs, attrs);
        assert_eq!(
            (router_cmd::SET_QUOTA, uapi::router_attr::QUOTA_OWN),
            (17, 34)
        );
        // QUOTA_OWN is a flag: no payload.
        for buf in [
            &[5, 0, 34, 0, 1, 0, 0, 0][..],
            &[8, 0, 34, 0, 1, 0, 0, 0][..],
        ] {
            assert!(
                Msg::<RouterAttr>::parse_with_param(buf, h).is_err(),
                "{buf:?}"
            );
        }
    }

    #[test]
    fn wrong_length_is_an_error() {
        let h = GenlHeader { cmd: 6, version: 1 };
        // UNOWNED and SA_POLICY are u8s, HOST_PORTS a u32, HOST_SPOOFED a u64.
        for buf in [
            &[8, 0, 26, 0, 1, 0, 0, 0][..],
            &[6, 0, 31, 0, 1, 0, 0, 0][..],
            &[6, 0, 21, 0, 1, 0, 0, 0][..],
            &[8, 0, 25, 0, 1, 0, 0, 0][..],
        ] {
            assert!(
                Msg::<RouterAttr>::parse_with_param(buf, h).is_err(),
                "{buf:?}"
            );
        }
        // PORT_MIN with 4 bytes instead of 2.
        let buf = [8, 0, 6, 0, 1, 0, 0, 0];
        let e = Msg::<RouterAttr>::parse_with_param(&buf, GenlHeader { cmd: 1, version: 1 });
        assert!(e.is_err());
        // Truncated attribute header.
        let buf = [8, 0, 6];
        let e = Msg::<HostAttr>::parse_with_param(&buf, GenlHeader { cmd: 1, version: 1 });
        assert!(e.is_err());
    }

    #[test]
    fn host_attributes_round_trip() {
        let attrs = vec![
            HostAttr::RouterAddr(Ipv4Addr::new(10, 0, 0, 7)),
            HostAttr::LanIfname("eth0".into()),
            HostAttr::LanIfindex(2),
            HostAttr::Mode(uapi::host_mode::NATIVE),
            HostAttr::TcpTimeout(7440),
            HostAttr::UdpTimeout(180),
            HostAttr::PortBlock(64),
            HostAttr::Epoch(0x5eed0001),
            HostAttr::StatName("x".into()),
            HostAttr::StatValue(u64::MAX),
            HostAttr::BlockKind(uapi::block_kind::SPIS),
            HostAttr::BlockLowest(0x1000),
            HostAttr::BlockCount(256),
            HostAttr::BlockExpires(287),
            HostAttr::BlockUsed(3),
            HostAttr::Proto(6),
            HostAttr::LocalPort(40312),
            HostAttr::UniquePort(20001),
            HostAttr::Idle(3),
            HostAttr::FlowState(uapi::flow_state::RST),
        ];
        let msg = Msg {
            cmd: host_cmd::GET_CONFIG,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        let u32a = |kind: u8, v: u32| {
            let mut a = vec![8, 0, kind, 0];
            a.extend_from_slice(&v.to_ne_bytes());
            a
        };
        let u16a = |kind: u8, v: u16| {
            let mut a = vec![6, 0, kind, 0];
            a.extend_from_slice(&v.to_ne_bytes());
            a.extend_from_slice(&[0, 0]);
            a
        };
        let mut want = vec![8, 0, 1, 0, 10, 0, 0, 7];
        want.extend_from_slice(&[9, 0, 6, 0]);
        want.extend_from_slice(b"eth0\0\0\0\0");
        want.extend(u32a(7, 2));
        want.extend_from_slice(&[5, 0, 8, 0, 1, 0, 0, 0]);
        want.extend(u32a(9, 7440));
        want.extend(u32a(10, 180));
        want.extend(u32a(11, 64));
        want.extend(u32a(12, 0x5eed0001));
        want.extend_from_slice(&[6, 0, 13, 0, b'x', 0, 0, 0]);
        want.extend_from_slice(&[12, 0, 14, 0]);
        want.extend_from_slice(&u64::MAX.to_ne_bytes());
        want.extend_from_slice(&[5, 0, 15, 0, 2, 0, 0, 0]);
        want.extend(u32a(16, 0x1000));
        want.extend(u32a(17, 256));
        want.extend(u32a(18, 287));
        want.extend(u32a(19, 3));
        want.extend_from_slice(&[5, 0, 20, 0, 6, 0, 0, 0]);
        want.extend(u16a(21, 40312));
        want.extend(u16a(22, 20001));
        want.extend(u32a(23, 3));
        want.extend_from_slice(&[5, 0, 24, 0, 4, 0, 0, 0]);
        assert_eq!(buf, want);
        let back = Msg::<HostAttr>::parse_with_param(
            &buf,
            GenlHeader {
                cmd: host_cmd::GET_CONFIG,
                version: 1,
            },
        )
        .unwrap();
        assert_eq!(back.attrs, attrs);
    }

    #[test]
    fn host_sa_attributes_round_trip() {
        let attrs = vec![
            HostAttr::PeerAddr(Ipv4Addr::new(203, 0, 113, 3)),
            HostAttr::Spi(0x1000),
        ];
        let msg = Msg {
            cmd: host_cmd::SA_VALIDATE,
            attrs: attrs.clone(),
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        // PEER_ADDR 25 (network byte order), SPI 26 (u32).
        let mut want = vec![8, 0, 25, 0, 203, 0, 113, 3, 8, 0, 26, 0];
        want.extend_from_slice(&0x1000u32.to_ne_bytes());
        assert_eq!(buf, want);
        let back = Msg::<HostAttr>::parse_with_param(
            &buf,
            GenlHeader {
                cmd: host_cmd::SA_VALIDATE,
                version: 1,
            },
        )
        .unwrap();
        assert_eq!(back.attrs, attrs);
        assert_eq!((host_attr::PEER_ADDR, host_attr::SPI), (25, 26));
        // Both are 4 bytes.
        let h = GenlHeader { cmd: 9, version: 1 };
        for buf in [
            &[6, 0, 25, 0, 1, 2, 0, 0][..],
            &[5, 0, 26, 0, 1, 0, 0, 0][..],
        ] {
            assert!(
                Msg::<HostAttr>::parse_with_param(buf, h).is_err(),
                "{buf:?}"
            );
        }
    }

    #[test]
    fn unknown_host_attributes_are_kept_as_other() {
        // PAD, an attribute from the future, then a known one.
        let mut buf = vec![4, 0, 5, 0];
        buf.extend_from_slice(&[8, 0, 200, 0, 1, 2, 3, 4]);
        buf.extend_from_slice(&[5, 0, 8, 0, 1, 0, 0, 0]);
        let msg =
            Msg::<HostAttr>::parse_with_param(&buf, GenlHeader { cmd: 1, version: 1 }).unwrap();
        assert!(matches!(msg.attrs[0], HostAttr::Other(_)));
        assert!(matches!(msg.attrs[1], HostAttr::Other(_)));
        assert_eq!(msg.attrs[2], HostAttr::Mode(1));
        // MODE is a u8, TCP_TIMEOUT a u32, EPOCH a u32.
        let h = GenlHeader { cmd: 1, version: 1 };
        for buf in [
            &[8, 0, 8, 0, 1, 0, 0, 0][..],
            &[6, 0, 9, 0, 1, 0, 0, 0][..],
            &[12, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0][..],
        ] {
            assert!(
                Msg::<HostAttr>::parse_with_param(buf, h).is_err(),
                "{buf:?}"
            );
        }
    }
}
