// SPDX-License-Identifier: GPL-2.0

//! The host's data path.
//!
//! - Outbound, `POST_ROUTING` (after routing, so it also sees what XFRM
//!   produced): a packet from the shared public address to a destination
//!   outside the LAN gets its TCP/UDP source port translated to a granted
//!   port through the SPTT (in translate mode), its ICMP query identifier,
//!   or the port or identifier its ICMP error quotes, translated likewise
//!   (both modes), then an outer IPv4 header host -> router, protocol 4,
//!   and goes to the router. ESP/AH are tunnelled untouched. LAN
//!   destinations are never translated or tunnelled.
//! - Inbound, `PRE_ROUTING` after defragmentation: IP-in-IP from the
//!   router's LAN address to ours loses its outer header, the TCP/UDP
//!   destination port, an ICMP reply's identifier or what an ICMP error
//!   quotes is translated back, and the stack goes on with the inner
//!   packet (ESP/AH on to XFRM). IP-in-IP from anyone else, or with a
//!   malformed inner packet, is dropped and counted, as are ICMP replies
//!   nothing asked for.
//!
//! Lookups are lock-free loads; the first packet of a flow takes the SPTT
//! writer lock to claim a port. Nothing is allocated per packet.

use core::net::Ipv4Addr;

use crate::common::atomic::Relaxed;

use crate::common::packet::ipv4_header;
use crate::dnat_core::config::is_unicast;
use crate::dnat_core::icmp::{self as icmp_xlat, About, IdError, QuoteSkip};
use crate::dnat_core::ipv4::{self, icmp, proto, Header};
use crate::dnat_core::sptt::Segment;
use crate::dnat_core::stat::HostStat;
use crate::ffi::netfilter::{HookState, NetHook, Verdict};
use crate::ffi::pernet::Pernet;
use crate::ffi::rcu::monotonic_seconds;
use crate::ffi::skb::{PortField, SkBuff};
use crate::host::state::HostNet;

/// TTL of the outer header towards the router (one LAN hop).
const OUTER_TTL: u8 = 64;

impl HostStat {
    /// The counter of an inbound error left unchanged for `why`.
    const fn quote_skip(why: QuoteSkip) -> Self {
        match why {
            QuoteSkip::NotError => HostStat::InQuoteNotError,
            QuoteSkip::Truncated => HostStat::InQuoteTruncated,
            QuoteSkip::BadQuote => HostStat::InQuoteBadQuote,
            QuoteSkip::NotOurs => HostStat::InQuoteNotOurs,
            QuoteSkip::Fragment => HostStat::InQuoteFragment,
            QuoteSkip::AboutError => HostStat::InQuoteAboutError,
            QuoteSkip::NoPort => HostStat::InQuoteNoPort,
            QuoteSkip::NoMapping => HostStat::InQuoteNoMapping,
        }
    }
}

/// Bytes of a TCP/UDP header the data path reads: ports, and the TCP
/// sequence and acknowledgement numbers and flags (bytes 4 to 13).
const L4_PEEK: usize = 14;

/// The ports of the transport header after `h`, and what the SPTT needs of
/// a TCP segment (zero flags and numbers for UDP); its remote end is the
/// destination of an `outbound` packet, else the source.
fn ports(skb: &SkBuff<'_>, h: &Header, outbound: bool) -> Option<(u16, u16, Segment)> {
    let want = if h.protocol == proto::TCP { L4_PEEK } else { 4 };
    let mut b = [0u8; L4_PEEK];
    let buf = b.get_mut(..want)?;
    if h.total_len.saturating_sub(h.header_len) < want {
        return None;
    }
    skb.copy_from_network(h.header_len, buf).ok()?;
    let (sport, dport) = (
        u16::from_be_bytes([b[0], b[1]]),
        u16::from_be_bytes([b[2], b[3]]),
    );
    let (peer, peer_port) = if outbound {
        (h.dst, dport)
    } else {
        (h.src, sport)
    };
    let seg = Segment {
        flags: b[13],
        seq: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ack: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        peer,
        peer_port,
    };
    Some((sport, dport, seg))
}

/// Seconds on the clock the SPTT and the PAP client use.
pub fn now() -> u32 {
    monotonic_seconds() as u32
}

/// An outbound packet `h` from the public address, in `POST_ROUTING`.
pub fn outbound(st: &HostNet, mut skb: SkBuff<'_>, hs: &HookState, h: &Header) -> Verdict {
    let lan_addr = Ipv4Addr::from(st.lan_addr.load(Relaxed));
    let router = Ipv4Addr::from(st.router.load(Relaxed));
    let lan = st.lan_ifindex.load(Relaxed);
    if st.active.load(Relaxed) == 0 || lan_addr.is_unspecified() || router.is_unspecified() {
        // Without the LAN prefix nothing tells LAN from Internet: the
        // public address is not used until the host is set up.
        st.data.bump(HostStat::OutNotReady);
        return Verdict::Drop;
    }
    let mask = Ipv4Addr::from(st.lan_mask.load(Relaxed));
    if !is_unicast(h.dst) || ipv4::in_prefix(h.dst, lan_addr, mask) {
        st.data.bump(HostStat::OutLan);
        return Verdict::Accept;
    }
    if skb.xfrm_pending() {
        // XFRM transforms it first; the ESP/AH result comes back here.
        return Verdict::Accept;
    }
    match h.protocol {
        proto::TCP | proto::UDP => {
            if st.native.load(Relaxed) == 0 {
                if let Err(s) = translate_out(st, &mut skb, hs, h) {
                    st.data.bump(s);
                    return Verdict::Drop;
                }
            }
        }
        proto::ESP | proto::AH => {}
        proto::ICMP => {
            // Both modes: the stack's ICMP identifiers are not taken from
            // the port range (see `icmp_out`).
            if let Err(s) = icmp_out(st, &mut skb, hs, h) {
                st.data.bump(s);
                return Verdict::Drop;
            }
        }
        _ => {
            st.data.bump(HostStat::OutProtocol);
            return Verdict::Drop;
        }
    }
    if st.direct.load(Relaxed) != 0 {
        // Direct delivery: as it is, to the router's link-layer address
        // (the default route's gateway).
        st.data.bump(HostStat::OutDirect);
        return Verdict::Accept;
    }
    // In place: the packet goes on through the rest of this output path
    // (once, as it would have without the module), to the router.
    if skb
        .ipip_encap_in_place(hs.net(), &st.route, lan_addr, router, lan, OUTER_TTL)
        .is_err()
    {
        st.data.bump(HostStat::OutFailed);
        return Verdict::Drop;
    }
    st.data.bump(HostStat::OutTunnelled);
    st.data.add(HostStat::OutTunnelledBytes, h.total_len as u64);
    Verdict::Accept
}

fn translate_out(
    st: &HostNet,
    skb: &mut SkBuff<'_>,
    hs: &HookState,
    h: &Header,
) -> Result<(), HostStat> {
    if h.is_fragment {
        return Err(HostStat::OutFragment);
    }
    // Allocated by the configuration that made the host active.
    let sptt = st.sptt.get().ok_or(HostStat::OutNotReady)?;
    let (sport, _, seg) = ports(skb, h, true).ok_or(HostStat::OutFailed)?;
    let t = now();
    let (unique, created) = sptt.out(h.protocol, sport, t).ok_or_else(|| {
        // Out of ports: the PAP client asks for more at once.
        Pernet::<HostNet>::kick(hs.net(), 0);
        HostStat::OutNoPort
    })?;
    if created {
        st.data.bump(HostStat::OutNewFlow);
        if sptt.low() {
            Pernet::<HostNet>::kick(hs.net(), 0);
        }
    }
    if unique != sport {
        skb.set_l4_port(h.header_len, h.protocol, PortField::Src, unique)
            .map_err(|_| HostStat::OutFailed)?;
        st.data.bump(HostStat::OutTranslated);
    }
    if h.protocol == proto::TCP {
        sptt.note_tcp(unique, &seg, true, t);
    }
    Ok(())
}

/// Bytes of an ICMP error that a quote rewrite may touch: the error's
/// header, a quoted IPv4 header with the most options and the 20 bytes of
/// a TCP header up to its checksum.
const QUOTE_WINDOW: usize = icmp::HEADER_LEN + ipv4::MAX_HEADER_LEN + 20;

/// The ICMP type and, for a query, the identifier of the ICMP message
/// after `h` (whose network header is the packet's).
fn icmp_head(skb: &SkBuff<'_>, h: &Header) -> Option<(u8, Option<u16>)> {
    let mut b = [0u8; icmp::HEADER_LEN];
    let n = h.total_len.saturating_sub(h.header_len).min(b.len());
    let head = b.get_mut(..n)?;
    skb.copy_from_network(h.header_len, head).ok()?;
    let t = *head.first()?;
    Some((t, icmp_xlat::query_id(head).ok()))
}

/// Sets the identifier of the ICMP query after `h` to `new` (checksum
/// fixed).
fn set_icmp_id(skb: &mut SkBuff<'_>, h: &Header, new: u16) -> bool {
    let at = h.header_len;
    let r = skb.with_network_mut(at + icmp::HEADER_LEN, |b| {
        b.get_mut(at..)
            .is_some_and(|m| icmp_xlat::rewrite_id(m, new).is_ok())
    });
    r == Ok(true)
}

/// Translates what the ICMP error after `h` quotes (`about`) with `map`;
/// `None` if the packet could not be made writable.
fn rewrite_quote(
    skb: &mut SkBuff<'_>,
    h: &Header,
    public: Ipv4Addr,
    about: About,
    map: impl FnOnce(icmp_xlat::Quoted, u16) -> Option<u16>,
) -> Option<Result<icmp_xlat::Rewritten, QuoteSkip>> {
    let at = h.header_len;
    let n = h.total_len.saturating_sub(at).min(QUOTE_WINDOW);
    skb.with_network_mut(at + n, |b| {
        b.get_mut(at..)
            .map(|m| icmp_xlat::rewrite_quote(m, public, about, map))
    })
    .ok()
    .flatten()
}

/// Outbound ICMP from the public address (translate and native mode
/// alike: Linux takes ping identifiers from a per-namespace counter, not
/// from the port range): a query request gets a granted identifier (a
/// held port's number); an error the stack sends about a packet it
/// received (destination unreachable, time exceeded, parameter problem)
/// gets the port or identifier it quotes translated to the granted one,
/// which the router checks. Replies, source quench, redirect and other
/// types are dropped (`out_protocol`): the router refuses them.
fn icmp_out(
    st: &HostNet,
    skb: &mut SkBuff<'_>,
    hs: &HookState,
    h: &Header,
) -> Result<(), HostStat> {
    if h.is_fragment {
        return Err(HostStat::OutFragment);
    }
    let sptt = st.sptt.get().ok_or(HostStat::OutNotReady)?;
    let (t, id) = icmp_head(skb, h).ok_or(HostStat::OutFailed)?;
    if skb.checksum_partial() {
        // Not made by Linux for ICMP; an incremental update would be
        // wrong.
        return Err(HostStat::OutFailed);
    }
    match (icmp::class(t), id) {
        (icmp::Class::Request, Some(id)) => {
            let (unique, created) = sptt.id_out(id, now()).map_err(|e| {
                if e == IdError::NoFreeId {
                    // Out of ports: the PAP client asks for more at once.
                    Pernet::<HostNet>::kick(hs.net(), 0);
                }
                HostStat::OutNoPort
            })?;
            if created {
                st.data.bump(HostStat::OutIcmpNew);
            }
            if unique != id {
                if !set_icmp_id(skb, h, unique) {
                    return Err(HostStat::OutFailed);
                }
                st.data.bump(HostStat::OutIcmpTranslated);
            }
            Ok(())
        }
        (icmp::Class::Error, _)
            if matches!(
                t,
                icmp::DEST_UNREACH | icmp::TIME_EXCEEDED | icmp::PARAMETER_PROBLEM
            ) =>
        {
            let public = Ipv4Addr::from(st.public.load(Relaxed));
            let ports = st.native.load(Relaxed) == 0;
            let map = |q, v| sptt.quote_out(q, v, ports);
            match rewrite_quote(skb, h, public, About::Received, map) {
                Some(Ok(r)) => {
                    if r.new != r.old {
                        st.data.bump(HostStat::OutIcmpTranslated);
                    }
                    Ok(())
                }
                // Nothing translated that port (a packet to a held port
                // that had no translation): the wire's port is the
                // stack's, the router checks it.
                Some(Err(QuoteSkip::NoMapping)) => Ok(()),
                Some(Err(_)) => Err(HostStat::OutIcmpQuote),
                None => Err(HostStat::OutFailed),
            }
        }
        _ => Err(HostStat::OutProtocol),
    }
}

/// Inbound ICMP to the public address, decapsulated (network header at
/// `h`): a query reply gets the stack's identifier back, or is dropped
/// when nothing asked for it (`Err`); an error gets the port or identifier
/// it quotes translated back (or is left unchanged, counted by reason).
/// Other types go on unchanged.
fn icmp_in(st: &HostNet, skb: &mut SkBuff<'_>, h: &Header) -> Result<(), HostStat> {
    let Some(sptt) = st.sptt.get() else {
        return Ok(());
    };
    let Some((t, id)) = icmp_head(skb, h) else {
        return Ok(());
    };
    let class = icmp::class(t);
    if !matches!(class, icmp::Class::Reply | icmp::Class::Error) {
        return Ok(());
    }
    if skb.checksum_partial() {
        return Err(HostStat::InFailed);
    }
    if let (icmp::Class::Reply, Some(id)) = (class, id) {
        let local = sptt.id_back(id, now()).ok_or(HostStat::InIcmpUnsolicited)?;
        if local != id {
            if !set_icmp_id(skb, h, local) {
                return Err(HostStat::InFailed);
            }
            st.data.bump(HostStat::InIcmpTranslated);
        }
        return Ok(());
    }
    if class != icmp::Class::Error {
        // A truncated reply: the stack drops it.
        return Ok(());
    }
    let public = Ipv4Addr::from(st.public.load(Relaxed));
    let ports = st.native.load(Relaxed) == 0;
    let map = |q, v| sptt.quote_in(q, v, ports);
    match rewrite_quote(skb, h, public, About::Sent, map) {
        Some(Ok(r)) => {
            if r.new != r.old {
                st.data.bump(HostStat::InIcmpTranslated);
            }
            Ok(())
        }
        Some(Err(why)) => {
            // Delivered unchanged: the stack finds no socket, or (ESP,
            // AH) finds the SA by its SPI itself.
            st.data.bump(HostStat::quote_skip(why));
            Ok(())
        }
        None => Err(HostStat::InFailed),
    }
}

/// An IP-in-IP packet `h` to our LAN address, in `PRE_ROUTING`.
pub fn inbound(st: &HostNet, mut skb: SkBuff<'_>, h: &Header) -> Verdict {
    let router = Ipv4Addr::from(st.router.load(Relaxed));
    if h.src != router {
        st.data.bump(HostStat::InBadSource);
        return Verdict::Drop;
    }
    let mut ib = [0u8; 60];
    let inner_len = h.total_len.saturating_sub(h.header_len);
    let first = ib.get_mut(..ipv4::HEADER_LEN);
    if h.is_fragment || first.is_none_or(|b| skb.copy_from_network(h.header_len, b).is_err()) {
        st.data.bump(HostStat::InMalformed);
        return Verdict::Drop;
    }
    let ihl = usize::from(ib[0] & 0x0f) * 4;
    if ihl > ipv4::HEADER_LEN
        && ib
            .get_mut(..ihl)
            .is_none_or(|b| skb.copy_from_network(h.header_len, b).is_err())
    {
        st.data.bump(HostStat::InMalformed);
        return Verdict::Drop;
    }
    let public = Ipv4Addr::from(st.public.load(Relaxed));
    let inner = match Header::parse(&ib, inner_len) {
        Ok(i) if i.dst == public => i,
        _ => {
            st.data.bump(HostStat::InMalformed);
            return Verdict::Drop;
        }
    };
    if skb
        .ipip_decap(h.header_len, inner.header_len, inner.total_len)
        .is_err()
    {
        st.data.bump(HostStat::InFailed);
        return Verdict::Drop;
    }
    deliver(st, skb, &inner)
}

/// A packet `h` to the public address that was not tunnelled: sent by the
/// router directly (direct delivery, which the router may use whatever
/// the host's own setting) if it comes from the router's link-layer
/// address, translated back and delivered like a decapsulated one. From
/// any other address it is dropped in direct delivery, and left alone
/// otherwise (not the module's business, as before direct delivery).
pub fn direct_inbound(st: &HostNet, skb: SkBuff<'_>, h: &Header) -> Verdict {
    let router = st.router_lladdr();
    if router.is_none() || skb.eth_src() != router {
        if st.direct.load(Relaxed) == 0 {
            return Verdict::Accept;
        }
        st.data.bump(HostStat::InDirectLladdr);
        return Verdict::Drop;
    }
    st.data.bump(HostStat::InDirect);
    deliver(st, skb, h)
}

/// Delivers `inner`, the packet to the public address the router sent
/// (decapsulated, or sent directly): its TCP/UDP destination port, an
/// ICMP reply's identifier or what an ICMP error quotes translated back.
fn deliver(st: &HostNet, mut skb: SkBuff<'_>, inner: &Header) -> Verdict {
    let tcp_udp = inner.protocol == proto::TCP || inner.protocol == proto::UDP;
    let sptt = st.sptt.get().filter(|_| st.native.load(Relaxed) == 0);
    if let Some(sptt) = sptt.filter(|_| tcp_udp && !inner.is_fragment) {
        // The inner packet now starts at the network header.
        let Some((_, dport, seg)) = ports(&skb, inner, false) else {
            st.data.bump(HostStat::InMalformed);
            return Verdict::Drop;
        };
        let t = now();
        if let Some(local) = sptt.back(inner.protocol, dport, t) {
            if local != dport {
                if skb
                    .set_l4_port(inner.header_len, inner.protocol, PortField::Dst, local)
                    .is_err()
                {
                    st.data.bump(HostStat::InFailed);
                    return Verdict::Drop;
                }
                st.data.bump(HostStat::InTranslated);
            }
            if inner.protocol == proto::TCP {
                sptt.note_tcp(dport, &seg, false, t);
            }
        }
    }
    if inner.protocol == proto::ICMP && !inner.is_fragment {
        if let Err(s) = icmp_in(st, &mut skb, inner) {
            st.data.bump(s);
            return Verdict::Drop;
        }
    }
    st.data.bump(HostStat::InDelivered);
    st.data
        .add(HostStat::InDeliveredBytes, inner.total_len as u64);
    Verdict::Accept
}

/// `PRE_ROUTING`: counts; takes PAP from the router and tunnelled packets
/// to our LAN address.
pub struct PreRouting;

impl NetHook for PreRouting {
    fn hook(skb: SkBuff<'_>, state: &HookState) -> Verdict {
        let Some(st) = Pernet::<HostNet>::get(state.net()) else {
            return Verdict::Accept;
        };
        st.counters.count(state.hook());
        if st.active.load(Relaxed) == 0 {
            return Verdict::Accept;
        }
        let lan = st.lan_ifindex.load(Relaxed);
        if state.in_ifindex() != Some(lan) {
            return Verdict::Accept;
        }
        let Some(h) = ipv4_header(&skb) else {
            return Verdict::Accept;
        };
        let lan_addr = Ipv4Addr::from(st.lan_addr.load(Relaxed));
        if h.protocol == proto::ICMP {
            if let Some(v) = st.pap.receive(st, state.net(), &skb, &h) {
                return v;
            }
        }
        match h.protocol {
            proto::IPIP if h.dst == lan_addr => inbound(st, skb, &h),
            _ if u32::from(h.dst) == st.public.load(Relaxed) => direct_inbound(st, skb, &h),
            _ => Verdict::Accept,
        }
    }
}

/// `POST_ROUTING`: counts; tunnels what the host sends from the public
/// address to the Internet.
pub struct PostRouting;

impl NetHook for PostRouting {
    fn hook(skb: SkBuff<'_>, state: &HookState) -> Verdict {
        let Some(st) = Pernet::<HostNet>::get(state.net()) else {
            return Verdict::Accept;
        };
        st.counters.count(state.hook());
        let public = st.public.load(Relaxed);
        if public == 0 {
            return Verdict::Accept;
        }
        let Some(h) = ipv4_header(&skb) else {
            return Verdict::Accept;
        };
        if u32::from(h.src) != public {
            return Verdict::Accept;
        }
        outbound(st, skb, state, &h)
    }
}
