// SPDX-License-Identifier: GPL-2.0

//! The router's PAP server logic: what a decoded PAP message from a host
//! does to the allocation tables, and the reply it gets.
//!
//! The kernel module parses the packet, checks where it came from, takes
//! the table lock and calls [`serve_with_sa`] (or [`serve`], the same
//! without an SA table, which refuses 34/x and 35/x with `unspecified` and
//! counts them `unsupported`); it sends the reply returned and counts the
//! [`Stat`]. Everything here is independent of the kernel. Replies echo the
//! request's xid and carry the router epoch and the granted lease in the
//! extension trailer; a base-format request gets a base-format reply, a
//! base-format notice none. [`reason`] and [`sa_reason`] give the PAP
//! reason of a table error.
//!
//! The SA table may only hold what the allocation table backs: an SA, or a
//! blacklist entry naming an SPI, only while the SPI is in an active block
//! of its host; a blacklist only while its host holds a block. The rule is
//! kept where blocks are retired: by [`serve_with_sa`] for what hosts
//! release (32/2, 32/3, 33/2, 33/3, 36/0, whose SA bit clears the host's
//! SAs and blacklist), by the caller for everything the allocation table
//! retires otherwise (lease expiry, revocation, reset, a pool change, an
//! administrator's invalidation): it passes [`forget_block`] as the
//! `on_retire` callback, then calls [`forget_idle`] under the same lock (a
//! reset may call `SaTable::clear` instead).
//!
//! Rules and refusals of 34/x and 35/x: Documentation/networking/dnat-pap.rst,
//! "SA validation and blacklists in the router"; what removes SA state:
//! Documentation/networking/dnat.rst, "What removes entries".

use core::net::Ipv4Addr;

use super::alloc_table::{AllocError, AllocTable, BlockInfo, HostInfo, Kind, Slot};
use super::pap::{scope, Acked, Message, PortBlock, PortClass, Reason, SpiBlock, Trailer, MAX_LEN};
use super::sa_table::{Lan, SaError, SaTable};
use super::stat::counter_enum;

counter_enum! {
    /// What the server counts, one counter each (the name is the one
    /// `dnatctl router stats` shows).
    pub enum Stat in Stats {
        /// A request was granted (fully or partly).
        Granted = "granted",
        /// A request or renewal was refused (failure response).
        Refused = "refused",
        /// A host gave back ports or SPIs.
        Released = "released",
        /// A release or invalidate-all was refused (not the host's).
        ReleaseRefused = "release_refused",
        /// A lease was renewed.
        Renewed = "renewed",
        /// A message the router does not serve yet.
        Unsupported = "unsupported",
        /// A reply was sent.
        Replied = "replied",
        /// A reply could not be sent (no route, no memory).
        SendFailed = "send_failed",
        /// PAP arrived on another interface than the LAN interface.
        WrongInterface = "dropped_wrong_interface",
        /// PAP arrived fragmented.
        Fragment = "dropped_fragment",
        /// PAP not addressed to the router's LAN address.
        NotForRouter = "dropped_not_for_router",
        /// Source outside the LAN prefix, or not unicast.
        BadSource = "dropped_bad_source",
        /// The router is not configured (no LAN address, no tables).
        NotConfigured = "dropped_not_configured",
        /// Invalidate-all messages sent (broadcast to the LAN, or to a revoked
        /// host).
        InvalidateAllSent = "invalidate_all_sent",
        /// A retransmitted message (same transaction id as the host's last)
        /// answered with the cached reply, nothing done again.
        Retransmitted = "retransmitted",
        /// An SA was validated (34/0 applied).
        SaValidated = "sa_validated",
        /// An SA was invalidated (35/0 applied, or nothing to remove).
        SaInvalidated = "sa_invalidated",
        /// An SA validation or invalidation was refused.
        SaRefused = "sa_refused",
        /// A blacklist entry was added (34/1 applied).
        BlacklistAdded = "blacklist_added",
        /// A blacklist entry was removed (35/1 applied, or nothing to remove).
        BlacklistRemoved = "blacklist_removed",
        /// A blacklist addition or removal was refused.
        BlacklistRefused = "blacklist_refused",
        /// A port or SPI request was refused because its host is over the
        /// request rate limit (`PAP_RATE`).
        RateLimited = "rate_limited",
        /// A key was granted (36/3, `pap_auth.rs`).
        KeyGranted = "key_granted",
        /// A key request over the router's grant rate, dropped.
        KeyRateLimited = "dropped_key_rate_limited",
        /// A message without auth block where one is required, refused
        /// (`unauthenticated`).
        AuthMissing = "auth_missing",
        /// A message sealed with a key that is neither the host's nor a fresh
        /// grant for it, refused (`unauthenticated`).
        AuthUnknownKey = "auth_unknown_key",
        /// A message whose MAC is wrong, refused (`unauthenticated`).
        AuthBadMac = "auth_bad_mac",
        /// A sealed message whose sequence number was used already, dropped.
        AuthReplayed = "dropped_auth_replayed",
        /// A direct-mode host's link-layer address was bound from its
        /// authenticated message (`direct.rs`).
        LladdrBound = "lladdr_bound",
        /// A link-layer address that could not be bound (another host's,
        /// not unicast, no room in the index): the host stays unbound.
        LladdrRefused = "lladdr_refused",
    }
}

/// The last reply sent to one host, kept so that a retransmitted request
/// (same transaction id: its reply was lost) gets the same answer instead
/// of a second grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedReply {
    xid: u32,
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl CachedReply {
    /// Nothing cached.
    pub const EMPTY: CachedReply = CachedReply {
        xid: 0,
        len: 0,
        bytes: [0; MAX_LEN],
    };

    /// The cached reply to `msg` if `msg` repeats the transaction it
    /// answered (base messages, without a transaction id, never match).
    pub fn replay(&self, msg: &Message) -> Option<&[u8]> {
        let xid = msg.ext()?.xid;
        if xid == 0 || xid != self.xid {
            return None;
        }
        self.bytes.get(..usize::from(self.len))
    }

    /// Remembers `reply` (encoded) as the answer to `msg`.
    pub fn remember(&mut self, msg: &Message, reply: &[u8]) {
        let Some(xid) = msg.ext().map(|e| e.xid).filter(|&x| x != 0) else {
            return;
        };
        if let (Some(dst), Ok(len)) = (self.bytes.get_mut(..reply.len()), u8::try_from(reply.len()))
        {
            dst.copy_from_slice(reply);
            self.xid = xid;
            self.len = len;
        }
    }
}

/// One host's budget of port and SPI requests: a token bucket that gains
/// `rate` requests a second (whole seconds of the router's clock) and
/// holds at most `rate`; a host not seen yet starts with a full one.
/// Renewals, releases and SA messages do not draw from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBucket {
    tokens: u32,
    last: u64,
}

impl RateBucket {
    /// A full bucket (for any rate: `take` caps the tokens at the rate).
    pub const FULL: RateBucket = RateBucket {
        tokens: u32::MAX,
        last: 0,
    };

    /// Takes one request at `now` (seconds) under a limit of `rate`
    /// requests a second (0: no limit). `false`: over the limit, nothing
    /// taken.
    pub fn take(&mut self, now: u64, rate: u32) -> bool {
        if rate == 0 {
            return true;
        }
        let gained = now
            .saturating_sub(self.last)
            .saturating_mul(u64::from(rate));
        let tokens = u64::from(self.tokens)
            .saturating_add(gained)
            .min(u64::from(rate));
        self.tokens = u32::try_from(tokens).unwrap_or(rate);
        self.last = self.last.max(now);
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// The refusal of `msg` for `why`: a failure response to a request or a
/// renewal, a "refused" acknowledgement to a notice with the trailer;
/// `None` for a base notice (never answered).
pub fn refusal(msg: &Message, epoch: u32, why: Reason) -> Option<Message> {
    let ext = msg.ext();
    match *msg {
        Message::PortRequest { .. } | Message::PortRenew { .. } => Some(Message::PortResponse {
            result: Err(why),
            ext: reply_ext(ext, epoch, 0),
        }),
        Message::SpiRequest { .. } | Message::SpiRenew { .. } => Some(Message::SpiResponse {
            result: Err(why),
            ext: reply_ext(ext, epoch, 0),
        }),
        _ => ack(msg.acked_as()?, ext, epoch, Err(why)),
    }
}

/// The refusal (`rate_limited`) of `msg` when it is a port or SPI request,
/// which is what a request rate limit applies to; `None` for any other
/// message.
pub fn rate_limited(msg: &Message, epoch: u32) -> Option<Message> {
    match *msg {
        Message::PortRequest { ext, .. } => Some(Message::PortResponse {
            result: Err(Reason::RateLimited),
            ext: reply_ext(ext, epoch, 0),
        }),
        Message::SpiRequest { ext, .. } => Some(Message::SpiResponse {
            result: Err(Reason::RateLimited),
            ext: reply_ext(ext, epoch, 0),
        }),
        _ => None,
    }
}

/// The PAP failure reason for a table error.
pub fn reason(e: AllocError) -> Reason {
    match e {
        AllocError::NoSpace
        | AllocError::PoolSideEmpty
        | AllocError::TooManyBlocks
        | AllocError::HostTableFull
        | AllocError::ReclaimPending => Reason::NoSpace,
        AllocError::OverQuota => Reason::OverQuota,
        AllocError::NotConfigured => Reason::NotConfigured,
        AllocError::Revoked => Reason::Revoked,
        AllocError::Pinned => Reason::Pinned,
        AllocError::NotOwner | AllocError::NotAllocated | AllocError::UnknownHost => {
            Reason::NotOwned
        }
        _ => Reason::Unspecified,
    }
}

/// The PAP refusal reason for an SA-table error.
pub fn sa_reason(e: SaError) -> Reason {
    match e {
        SaError::TableFull => Reason::NoSpace,
        SaError::HostLimit => Reason::OverQuota,
        SaError::NotOwned => Reason::NotOwned,
        _ => Reason::Unspecified,
    }
}

/// Whether the host in `slot` holds `spi` in an active block now (the
/// writer-side truth; the published SPI index lags by a grace period).
/// O(blocks per host).
pub fn owns_spi(t: &AllocTable<'_>, slot: Slot, spi: u32) -> bool {
    t.host_blocks(slot)
        .any(|(_, b)| b.kind == Kind::Spi && !b.retiring && b.lowest <= spi && spi <= b.last())
}

/// Removes what the SA table holds for the SPIs of the retired block `b`
/// (its host's SAs and blacklist entries naming them; nothing for ports).
/// Pass it as (part of) the `on_retire` callback of every allocation-table
/// call that retires blocks outside [`serve_with_sa`]; returns how many
/// entries went.
pub fn forget_block(sa: &mut SaTable<'_>, b: &BlockInfo) -> usize {
    match b.kind {
        Kind::Spi => sa.remove_spis(b.slot, b.lowest, b.count),
        Kind::Port => 0,
    }
}

/// Whether the host in `slot` may keep SA-table state: it has the slot,
/// is not revoked and holds an active block.
fn backed(h: Option<HostInfo>) -> bool {
    h.is_some_and(|h| !h.revoked && h.port_blocks + h.spi_blocks > 0)
}

fn forget_if_idle(sa: &mut SaTable<'_>, t: &AllocTable<'_>, slot: Slot) -> usize {
    if sa.host_counts(slot) == (0, 0) || backed(t.host_info(slot)) {
        return 0;
    }
    sa.remove_host(slot)
}

/// Removes the SAs and blacklist of every host that has no slot any more,
/// is revoked or holds no active block. Call it, under the tables' lock,
/// after allocation-table calls that retire blocks outside
/// [`serve_with_sa`] (after [`forget_block`] ran for each block).
/// O(host slots) for hosts without SA state, O(blocks per host) for the
/// others, plus a scan of the SA buckets for each host that loses SAs.
pub fn forget_idle(sa: &mut SaTable<'_>, t: &AllocTable<'_>) -> usize {
    let mut n = 0;
    for s in 1..=sa.hosts() {
        if let Ok(slot) = Slot::try_from(s) {
            n += forget_if_idle(sa, t, slot);
        }
    }
    n
}

/// The host's slot if it may change its SA state: known, not revoked.
fn sa_host(t: &AllocTable<'_>, host: Ipv4Addr) -> Result<HostInfo, Reason> {
    let h = t.host(host).ok_or(Reason::NotOwned)?;
    if h.revoked {
        return Err(Reason::Revoked);
    }
    Ok(h)
}

/// Applied or "nothing to do" (an absent entry) is done; anything else is
/// refused.
fn done_if_absent(r: Result<(), SaError>) -> Result<(), Reason> {
    match r {
        Ok(()) | Err(SaError::NotFound) => Ok(()),
        Err(e) => Err(sa_reason(e)),
    }
}

fn counted(r: Result<(), Reason>, ok: Stat, refused: Stat) -> (Result<(), Reason>, Stat) {
    let stat = if r.is_ok() { ok } else { refused };
    (r, stat)
}

fn reply_ext(req: Option<Trailer>, epoch: u32, lease: u32) -> Option<Trailer> {
    req.map(|t| Trailer {
        xid: t.xid,
        epoch,
        lease,
    })
}

fn port_block(lowest: u32, count: u32) -> Option<PortBlock> {
    Some(PortBlock {
        lowest: u16::try_from(lowest).ok()?,
        count: u8::try_from(count).ok()?,
    })
}

fn spi_block(lowest: u32, count: u32) -> Option<SpiBlock> {
    Some(SpiBlock {
        lowest,
        count: u16::try_from(count).ok()?,
    })
}

fn ack(
    acked: Acked,
    req: Option<Trailer>,
    epoch: u32,
    result: Result<(), Reason>,
) -> Option<Message> {
    let ext = reply_ext(req, epoch, 0)?;
    Some(Message::Ack { acked, result, ext })
}

fn sa_of<'x, 'a>(sa: &'x mut Option<(&mut SaTable<'a>, Lan)>) -> Option<&'x mut SaTable<'a>> {
    sa.as_mut().map(|(s, _)| &mut **s)
}

/// After a host released block `r`: the SA table forgets the block's SPIs,
/// and the host's blacklist if it holds no block any more.
fn retired(
    sa: Option<&mut SaTable<'_>>,
    t: &AllocTable<'_>,
    r: Result<BlockInfo, AllocError>,
) -> Result<(), AllocError> {
    let b = r?;
    if let Some(sa) = sa {
        forget_block(sa, &b);
        forget_if_idle(sa, t, b.slot);
    }
    Ok(())
}

/// The notice a 34/x or 35/x message is acknowledged as.
fn acked_of(msg: &Message) -> Acked {
    match msg {
        Message::SaInvalidate { .. } => Acked::SaInvalidate,
        Message::BlacklistAdd { .. } => Acked::BlacklistAdd,
        Message::BlacklistRemove { .. } => Acked::BlacklistRemove,
        _ => Acked::SaValidate,
    }
}

/// Applies a 34/x or 35/x message from `host` to the SA table.
fn sa_notice(
    t: &AllocTable<'_>,
    sa: &mut SaTable<'_>,
    lan: Lan,
    host: Ipv4Addr,
    msg: &Message,
) -> (Acked, Result<(), Reason>, Stat) {
    let owns = |s: Slot, v: u32| owns_spi(t, s, v);
    let h = sa_host(t, host);
    match *msg {
        Message::SaValidate { addr, spi, .. } => {
            let r = h.and_then(|h| {
                sa.validate(h.slot, addr, spi, Some(lan), owns)
                    .map(|_| ())
                    .map_err(sa_reason)
            });
            let (r, stat) = counted(r, Stat::SaValidated, Stat::SaRefused);
            (Acked::SaValidate, r, stat)
        }
        Message::SaInvalidate { addr, spi, .. } => {
            let r = h.and_then(|h| {
                if !owns(h.slot, spi) {
                    return Err(Reason::NotOwned);
                }
                done_if_absent(sa.invalidate(h.slot, addr, spi))
            });
            let (r, stat) = counted(r, Stat::SaInvalidated, Stat::SaRefused);
            (Acked::SaInvalidate, r, stat)
        }
        Message::BlacklistAdd { addr, spi, .. } => {
            let r = h.and_then(|h| {
                if !backed(Some(h)) {
                    return Err(Reason::NotOwned);
                }
                sa.blacklist_add(h.slot, addr, spi, Some(lan), owns)
                    .map(|_| ())
                    .map_err(sa_reason)
            });
            let (r, stat) = counted(r, Stat::BlacklistAdded, Stat::BlacklistRefused);
            (Acked::BlacklistAdd, r, stat)
        }
        Message::BlacklistRemove { addr, spi, .. } => {
            let r = h.and_then(|h| done_if_absent(sa.blacklist_remove(h.slot, addr, spi)));
            let (r, stat) = counted(r, Stat::BlacklistRemoved, Stat::BlacklistRefused);
            (Acked::BlacklistRemove, r, stat)
        }
        _ => (acked_of(msg), Err(Reason::Unspecified), Stat::Unsupported),
    }
}

fn released(r: Result<(), AllocError>) -> (Result<(), Reason>, Stat) {
    match r {
        Ok(()) => (Ok(()), Stat::Released),
        Err(e) => (Err(reason(e)), Stat::ReleaseRefused),
    }
}

/// Serves `msg`, decoded from a packet that `host` sent to the router, at
/// time `now` (seconds, the table's clock), in router epoch `epoch`, on
/// the allocation table `t` and the SA table `sa` (both under the caller's
/// lock); `lan` is the router's LAN prefix (SA peers and blacklisted
/// sources must lie outside it). Returns the reply to send back (if any)
/// and what to count.
pub fn serve_with_sa(
    t: &mut AllocTable<'_>,
    sa: &mut SaTable<'_>,
    lan: Lan,
    host: Ipv4Addr,
    msg: &Message,
    now: u64,
    epoch: u32,
) -> (Option<Message>, Stat) {
    serve_on(t, Some((sa, lan)), host, msg, now, epoch)
}

/// [`serve_with_sa`] for a router without an SA table: SA validations and
/// blacklist changes (34/x, 35/x) are counted as `unsupported` and, with
/// the trailer, refused (reason `unspecified`); everything else is served
/// alike.
pub fn serve(
    t: &mut AllocTable<'_>,
    host: Ipv4Addr,
    msg: &Message,
    now: u64,
    epoch: u32,
) -> (Option<Message>, Stat) {
    serve_on(t, None, host, msg, now, epoch)
}

fn serve_on(
    t: &mut AllocTable<'_>,
    mut sa: Option<(&mut SaTable<'_>, Lan)>,
    host: Ipv4Addr,
    msg: &Message,
    now: u64,
    epoch: u32,
) -> (Option<Message>, Stat) {
    match *msg {
        Message::PortRequest { class, count, ext } => {
            let lease = ext.map_or(0, |e| e.lease);
            let low = class == PortClass::Low;
            let (result, lease, stat) =
                match t.request_ports(host, u32::from(count), low, lease, now) {
                    // A grant never exceeds the u8 count asked for, so the
                    // conversion holds; if it did not, give the block back.
                    Ok(g) => match port_block(g.lowest, g.count) {
                        Some(b) => (Ok(b), g.lease, Stat::Granted),
                        None => {
                            let _ =
                                t.invalidate_block(Some(host), Kind::Port, g.lowest, Some(g.count));
                            (Err(Reason::Unspecified), 0, Stat::Refused)
                        }
                    },
                    Err(e) => (Err(reason(e)), 0, Stat::Refused),
                };
            (
                Some(Message::PortResponse {
                    result,
                    ext: reply_ext(ext, epoch, lease),
                }),
                stat,
            )
        }
        Message::SpiRequest { count, ext } => {
            let lease = ext.map_or(0, |e| e.lease);
            let (result, lease, stat) = match t.request_spis(host, u32::from(count), lease, now) {
                Ok(g) => match spi_block(g.lowest, g.count) {
                    Some(b) => (Ok(b), g.lease, Stat::Granted),
                    None => {
                        let _ = t.invalidate_block(Some(host), Kind::Spi, g.lowest, Some(g.count));
                        (Err(Reason::Unspecified), 0, Stat::Refused)
                    }
                },
                Err(e) => (Err(reason(e)), 0, Stat::Refused),
            };
            (
                Some(Message::SpiResponse {
                    result,
                    ext: reply_ext(ext, epoch, lease),
                }),
                stat,
            )
        }
        Message::PortRenew { block, ext } => {
            let r = t.renew(
                host,
                Kind::Port,
                u32::from(block.lowest),
                Some(u32::from(block.count)),
                ext.lease,
                now,
            );
            let (result, lease, stat) = match r {
                Ok(g) => (Ok(block), g.lease, Stat::Renewed),
                Err(e) => (Err(reason(e)), 0, Stat::Refused),
            };
            (
                Some(Message::PortResponse {
                    result,
                    ext: reply_ext(Some(ext), epoch, lease),
                }),
                stat,
            )
        }
        Message::SpiRenew { block, ext } => {
            let r = t.renew(
                host,
                Kind::Spi,
                block.lowest,
                Some(u32::from(block.count)),
                ext.lease,
                now,
            );
            let (result, lease, stat) = match r {
                Ok(g) => (Ok(block), g.lease, Stat::Renewed),
                Err(e) => (Err(reason(e)), 0, Stat::Refused),
            };
            (
                Some(Message::SpiResponse {
                    result,
                    ext: reply_ext(Some(ext), epoch, lease),
                }),
                stat,
            )
        }
        Message::PortInvalidate { port, ext, .. } => {
            let r = t.invalidate_port(Some(host), port);
            let (result, stat) = released(retired(sa_of(&mut sa), t, r));
            (ack(Acked::PortInvalidate, ext, epoch, result), stat)
        }
        Message::PortBlockInvalidate { block, ext, .. } => {
            let r = t.invalidate_block(
                Some(host),
                Kind::Port,
                u32::from(block.lowest),
                Some(u32::from(block.count)),
            );
            let (result, stat) = released(retired(sa_of(&mut sa), t, r));
            (ack(Acked::PortBlockInvalidate, ext, epoch, result), stat)
        }
        Message::SpiInvalidate { spi, ext, .. } => {
            let r = t.invalidate_spi(Some(host), spi);
            let (result, stat) = released(retired(sa_of(&mut sa), t, r));
            (ack(Acked::SpiInvalidate, ext, epoch, result), stat)
        }
        Message::SpiBlockInvalidate { block, ext, .. } => {
            let r = t.invalidate_block(
                Some(host),
                Kind::Spi,
                block.lowest,
                Some(u32::from(block.count)),
            );
            let (result, stat) = released(retired(sa_of(&mut sa), t, r));
            (ack(Acked::SpiBlockInvalidate, ext, epoch, result), stat)
        }
        Message::InvalidateAll { scope: s, ext, .. } => {
            let kinds = match (s & scope::PORTS != 0, s & scope::SPIS != 0) {
                (true, true) => Some(None),
                (true, false) => Some(Some(Kind::Port)),
                (false, true) => Some(Some(Kind::Spi)),
                (false, false) => None,
            };
            let r = match kinds {
                Some(k) => t
                    .invalidate_host(host, k, |b| {
                        if let Some(sa) = sa_of(&mut sa) {
                            forget_block(sa, b);
                        }
                    })
                    .map(|_| ()),
                None => Ok(()),
            };
            if let (Some(slot), Some(sa)) = (t.find_host(host), sa_of(&mut sa)) {
                if s & scope::SA != 0 {
                    sa.remove_host(slot);
                }
                forget_if_idle(sa, t, slot);
            }
            let (result, stat) = released(r);
            (ack(Acked::InvalidateAll, ext, epoch, result), stat)
        }
        Message::SaValidate { ext, .. }
        | Message::SaInvalidate { ext, .. }
        | Message::BlacklistAdd { ext, .. }
        | Message::BlacklistRemove { ext, .. } => {
            let (acked, result, stat) = match sa {
                Some((sa, lan)) => sa_notice(t, sa, lan, host, msg),
                None => (acked_of(msg), Err(Reason::Unspecified), Stat::Unsupported),
            };
            (ack(acked, ext, epoch, result), stat)
        }
        // Router-to-host messages never decode as `ToRouter`.
        Message::PortResponse { .. } | Message::SpiResponse { .. } | Message::Ack { .. } => {
            (None, Stat::Unsupported)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_table::Settings;
    use crate::config::Range;
    use crate::pap::Direction;
    use crate::sa_table::{DropReason, SaLayout, SaShared, Seed, Verdict};
    use crate::store::{AllocStore, RouterStore, SaStore};

    #[test]
    fn rate_bucket() {
        let mut b = RateBucket::FULL;
        // No limit: always.
        assert!((0..100).all(|_| b.take(5, 0)));
        // 2 a second: a full bucket at first, then 2 more each second.
        let mut b = RateBucket::FULL;
        assert_eq!(
            [b.take(10, 2), b.take(10, 2), b.take(10, 2)],
            [true, true, false]
        );
        assert!(!b.take(10, 2));
        assert!(b.take(11, 2) && b.take(11, 2) && !b.take(11, 2));
        // A long pause fills it to the limit, not beyond.
        assert_eq!((0..4).filter(|_| b.take(100, 2)).count(), 2);
        // A clock that went back neither fills it nor breaks it.
        assert!(!b.take(50, 2));
        assert!(b.take(101, 2));
        // Limit 1, and a huge gap.
        let mut b = RateBucket::FULL;
        assert!(b.take(0, 1) && !b.take(0, 1) && b.take(u64::MAX, 1) && !b.take(u64::MAX, 1));
    }

    #[test]
    fn rate_limited_replies() {
        let ext = Some(Trailer {
            xid: 7,
            epoch: 0,
            lease: 0,
        });
        let port = Message::PortRequest {
            class: PortClass::High,
            count: 4,
            ext,
        };
        match rate_limited(&port, 9) {
            Some(Message::PortResponse { result, ext }) => {
                assert_eq!(result, Err(Reason::RateLimited));
                assert_eq!(ext.map(|e| (e.xid, e.epoch, e.lease)), Some((7, 9, 0)));
            }
            other => panic!("{other:?}"),
        }
        let spi = Message::SpiRequest {
            count: 16,
            ext: None,
        };
        assert!(matches!(
            rate_limited(&spi, 9),
            Some(Message::SpiResponse {
                result: Err(Reason::RateLimited),
                ext: None
            })
        ));
        let renew = Message::PortRenew {
            block: PortBlock {
                lowest: 20000,
                count: 4,
            },
            ext: Trailer {
                xid: 8,
                epoch: 0,
                lease: 0,
            },
        };
        assert_eq!(rate_limited(&renew, 9), None);
    }

    const HOSTS: usize = 8;
    const SEED: Seed = Seed([1, 2]);

    struct Store(RouterStore);

    impl Store {
        fn new() -> Self {
            let mut s = Self(RouterStore {
                alloc: AllocStore::new(HOSTS, Settings::DEFAULT),
                sa: SaStore::new(
                    SaLayout {
                        buckets: 64,
                        hosts: HOSTS,
                    },
                    SEED,
                ),
            });
            let ports = Some(Range {
                min: 20000,
                max: 20099,
            });
            let spis = Some(Range {
                min: 0x1000,
                max: 0x1fff,
            });
            s.t().set_pools(ports, spis, |_| {});
            s
        }

        fn t(&mut self) -> AllocTable<'_> {
            self.both().0
        }

        /// Both writer views, as the kernel builds them under its lock.
        fn both(&mut self) -> (AllocTable<'_>, SaTable<'_>) {
            self.0.both()
        }

        /// The packet path's view of the SA table.
        fn r(&self) -> SaShared<'_> {
            self.0.sa.shared()
        }

        fn slot(&mut self, host: Ipv4Addr) -> Slot {
            self.t().find_host(host).unwrap()
        }
    }

    const LAN: Lan = Lan {
        addr: Ipv4Addr::new(10, 0, 0, 7),
        mask: Ipv4Addr::new(255, 255, 255, 0),
    };

    /// [`serve_with_sa`] as the kernel calls it.
    fn sv(s: &mut Store, host: Ipv4Addr, msg: &Message, now: u64) -> (Option<Message>, Stat) {
        let (mut t, mut sa) = s.both();
        serve_with_sa(&mut t, &mut sa, LAN, host, msg, now, EPOCH)
    }

    const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
    const EPOCH: u32 = 0x5eed;

    fn ext(xid: u32, lease: u32) -> Option<Trailer> {
        Some(Trailer {
            xid,
            epoch: 0,
            lease,
        })
    }

    fn port_req(count: u8, xid: u32) -> Message {
        Message::PortRequest {
            class: PortClass::High,
            count,
            ext: ext(xid, 0),
        }
    }

    fn granted_ports(m: Option<Message>) -> PortBlock {
        match m {
            Some(Message::PortResponse { result: Ok(b), .. }) => b,
            other => panic!("not a grant: {other:?}"),
        }
    }

    #[test]
    fn two_hosts_get_disjoint_port_blocks_and_replies_echo_xid() {
        let mut s = Store::new();
        let (r1, st1) = sv(&mut s, H1, &port_req(16, 7), 100);
        let (r2, st2) = sv(&mut s, H2, &port_req(16, 8), 100);
        assert_eq!((st1, st2), (Stat::Granted, Stat::Granted));
        let (b1, b2) = (granted_ports(r1), granted_ports(r2));
        assert_eq!((b1.lowest, b1.count), (20000, 16));
        assert_eq!((b2.lowest, b2.count), (20016, 16));
        match r1 {
            Some(Message::PortResponse { ext: Some(e), .. }) => {
                assert_eq!((e.xid, e.epoch, e.lease), (7, EPOCH, 3600));
            }
            other => panic!("{other:?}"),
        }
        // Replies encode, and decode as router-to-host messages.
        let mut buf = [0u8; crate::pap::MAX_LEN];
        let n = crate::pap::encode(&r2.unwrap(), &mut buf).unwrap();
        assert_eq!(
            crate::pap::decode(&buf[..n], Direction::ToHost).unwrap(),
            r2.unwrap()
        );
    }

    #[test]
    fn partial_grant_then_no_space() {
        let mut s = Store::new();
        let mut got = 0u32;
        for i in 0..6 {
            let (r, st) = sv(&mut s, H1, &port_req(32, i + 1), 1);
            match r {
                Some(Message::PortResponse { result: Ok(b), .. }) => {
                    assert_eq!(st, Stat::Granted);
                    got += u32::from(b.count);
                }
                Some(Message::PortResponse {
                    result: Err(why), ..
                }) => {
                    assert_eq!((st, why), (Stat::Refused, Reason::NoSpace));
                }
                other => panic!("{other:?}"),
            }
        }
        // The pool has 100 ports: 32 + 32 + 32 + a partial 4, then nothing.
        assert_eq!(got, 100);
    }

    #[test]
    fn base_request_gets_base_reply() {
        let mut s = Store::new();
        let m = Message::SpiRequest {
            count: 256,
            ext: None,
        };
        match sv(&mut s, H1, &m, 5) {
            (
                Some(Message::SpiResponse {
                    result: Ok(b),
                    ext: None,
                }),
                Stat::Granted,
            ) => {
                assert_eq!((b.lowest, b.count), (0x1000, 256));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn release_only_own_blocks() {
        let mut s = Store::new();
        let b = granted_ports(sv(&mut s, H1, &port_req(16, 1), 1).0);
        let inval = Message::PortBlockInvalidate {
            dir: Direction::ToRouter,
            block: b,
            ext: ext(9, 0),
        };
        match sv(&mut s, H2, &inval, 2) {
            (
                Some(Message::Ack {
                    result: Err(Reason::NotOwned),
                    ext,
                    ..
                }),
                Stat::ReleaseRefused,
            ) => {
                assert_eq!(ext.xid, 9)
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            sv(&mut s, H1, &inval, 2),
            (Some(Message::Ack { result: Ok(()), .. }), Stat::Released)
        ));
    }

    #[test]
    fn renew_and_invalidate_all() {
        let mut s = Store::new();
        let b = granted_ports(sv(&mut s, H1, &port_req(8, 1), 1).0);
        let renew = Message::PortRenew {
            block: b,
            ext: Trailer {
                xid: 2,
                epoch: EPOCH,
                lease: 60,
            },
        };
        match sv(&mut s, H1, &renew, 10) {
            (
                Some(Message::PortResponse {
                    result: Ok(rb),
                    ext: Some(e),
                }),
                Stat::Renewed,
            ) => {
                assert_eq!((rb, e.lease), (b, 60));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sv(&mut s, H2, &renew, 10).1, Stat::Refused);
        let all = Message::InvalidateAll {
            dir: Direction::ToRouter,
            scope: scope::ALL,
            ext: ext(3, 0),
        };
        assert_eq!(sv(&mut s, H1, &all, 11).1, Stat::Released);
        assert!(s.t().host(H1).is_none_or(|h| h.ports == 0));
    }

    const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);
    const PEER2: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
    const ATTACKER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);
    const H3: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);

    fn spi_req(count: u16, xid: u32) -> Message {
        Message::SpiRequest {
            count,
            ext: ext(xid, 0),
        }
    }

    fn granted_spis(m: Option<Message>) -> SpiBlock {
        match m {
            Some(Message::SpiResponse { result: Ok(b), .. }) => b,
            other => panic!("not a grant: {other:?}"),
        }
    }

    /// Trailer with `xid`, or none (base format) for xid 0.
    fn tr(xid: u32) -> Option<Trailer> {
        (xid != 0).then(|| ext(xid, 0)).flatten()
    }

    fn validate(addr: Ipv4Addr, spi: u32, xid: u32) -> Message {
        Message::SaValidate {
            addr,
            spi,
            ext: tr(xid),
        }
    }

    fn invalidate(addr: Ipv4Addr, spi: u32, xid: u32) -> Message {
        Message::SaInvalidate {
            addr,
            spi,
            ext: tr(xid),
        }
    }

    fn bl_add(addr: Option<Ipv4Addr>, spi: Option<u32>, xid: u32) -> Message {
        Message::BlacklistAdd {
            addr,
            spi,
            ext: tr(xid),
        }
    }

    fn bl_remove(addr: Option<Ipv4Addr>, spi: Option<u32>, xid: u32) -> Message {
        Message::BlacklistRemove {
            addr,
            spi,
            ext: tr(xid),
        }
    }

    /// The acknowledgement's result and the stat, checking that it names
    /// `acked` and carries the trailer a reply must.
    fn acked(r: (Option<Message>, Stat), acked: Acked, xid: u32) -> (Result<(), Reason>, Stat) {
        match r.0 {
            Some(Message::Ack {
                acked: a,
                result,
                ext,
            }) => {
                assert_eq!(a, acked);
                assert_eq!((ext.xid, ext.epoch, ext.lease), (xid, EPOCH, 0));
                (result, r.1)
            }
            other => panic!("not an acknowledgement: {other:?}"),
        }
    }

    const NV: Verdict = Verdict::Drop(DropReason::NotValidated);
    const BL: Verdict = Verdict::Drop(DropReason::Blacklisted);

    /// H1 holds SPIs 0x1000..=0x100f, H2 0x1010..=0x101f.
    fn two_hosts_with_spis() -> Store {
        let mut s = Store::new();
        let b1 = granted_spis(sv(&mut s, H1, &spi_req(16, 1), 1).0);
        let b2 = granted_spis(sv(&mut s, H2, &spi_req(16, 2), 1).0);
        assert_eq!((b1.lowest, b2.lowest), (0x1000, 0x1010));
        s
    }

    #[test]
    fn sa_validate_and_invalidate() {
        let mut s = two_hosts_with_spis();
        let h1 = s.slot(H1);
        let r = sv(&mut s, H1, &validate(PEER, 0x1000, 5), 2);
        assert_eq!(acked(r, Acked::SaValidate, 5), (Ok(()), Stat::SaValidated));
        // The acknowledgement encodes, and decodes as a router message.
        let mut buf = [0u8; MAX_LEN];
        let n = crate::pap::encode(&r.0.unwrap(), &mut buf).unwrap();
        assert_eq!(
            crate::pap::decode(&buf[..n], Direction::ToHost).unwrap(),
            r.0.unwrap()
        );
        assert_eq!(s.r().check(PEER, 0x1000, h1), Verdict::Deliver);
        assert_eq!(s.r().check(ATTACKER, 0x1000, h1), NV);
        assert_eq!(s.r().check(PEER, 0x1001, h1), NV);
        // Validating again is done again.
        let r = sv(&mut s, H1, &validate(PEER, 0x1000, 6), 2);
        assert_eq!(acked(r, Acked::SaValidate, 6), (Ok(()), Stat::SaValidated));
        // Another host's SPI, a LAN address, an unknown host: refused.
        let r = sv(&mut s, H1, &validate(PEER, 0x1010, 7), 2);
        assert_eq!(
            acked(r, Acked::SaValidate, 7),
            (Err(Reason::NotOwned), Stat::SaRefused)
        );
        let r = sv(
            &mut s,
            H1,
            &validate(Ipv4Addr::new(10, 0, 0, 3), 0x1001, 8),
            2,
        );
        assert_eq!(
            acked(r, Acked::SaValidate, 8),
            (Err(Reason::Unspecified), Stat::SaRefused)
        );
        let r = sv(&mut s, H3, &validate(PEER, 0x1000, 9), 2);
        assert_eq!(
            acked(r, Acked::SaValidate, 9),
            (Err(Reason::NotOwned), Stat::SaRefused)
        );
        assert!(s.t().find_host(H3).is_none());
        // Base format: applied or refused, never answered.
        assert_eq!(
            sv(&mut s, H1, &validate(PEER2, 0x1001, 0), 2),
            (None, Stat::SaValidated)
        );
        assert_eq!(s.r().check(PEER2, 0x1001, h1), Verdict::Deliver);
        assert_eq!(
            sv(&mut s, H1, &validate(PEER2, 0x1011, 0), 2),
            (None, Stat::SaRefused)
        );
        assert_eq!(s.both().1.host_counts(h1), (2, 0));
        // Invalidation: done, also when there is nothing to remove; the
        // SPI must be the host's.
        let r = sv(&mut s, H1, &invalidate(PEER, 0x1000, 10), 3);
        assert_eq!(
            acked(r, Acked::SaInvalidate, 10),
            (Ok(()), Stat::SaInvalidated)
        );
        assert_eq!(s.r().check(PEER, 0x1000, h1), NV);
        let r = sv(&mut s, H1, &invalidate(PEER, 0x1000, 11), 3);
        assert_eq!(
            acked(r, Acked::SaInvalidate, 11),
            (Ok(()), Stat::SaInvalidated)
        );
        let r = sv(&mut s, H2, &invalidate(PEER2, 0x1001, 12), 3);
        assert_eq!(
            acked(r, Acked::SaInvalidate, 12),
            (Err(Reason::NotOwned), Stat::SaRefused)
        );
        assert_eq!(s.r().check(PEER2, 0x1001, h1), Verdict::Deliver);
        let r = sv(&mut s, H3, &invalidate(PEER2, 0x1001, 13), 3);
        assert_eq!(
            acked(r, Acked::SaInvalidate, 13),
            (Err(Reason::NotOwned), Stat::SaRefused)
        );
        assert_eq!(
            sv(&mut s, H1, &invalidate(PEER2, 0x1001, 0), 3),
            (None, Stat::SaInvalidated)
        );
        assert_eq!(s.both().1.stats().entries, 0);
    }

    #[test]
    fn sa_refusals_limit_full_revoked() {
        let mut s = two_hosts_with_spis();
        s.both().1.set_host_limit(2);
        for (i, spi) in [0x1000u32, 0x1001].into_iter().enumerate() {
            let r = sv(&mut s, H1, &validate(PEER, spi, 20 + i as u32), 2);
            assert_eq!(r.1, Stat::SaValidated);
        }
        let r = sv(&mut s, H1, &validate(PEER, 0x1002, 30), 2);
        assert_eq!(
            acked(r, Acked::SaValidate, 30),
            (Err(Reason::OverQuota), Stat::SaRefused)
        );
        // The table holds half its 64 buckets.
        s.both().1.set_host_limit(100);
        let mut ok = 2;
        let mut refused = None;
        for i in 0..40u32 {
            let peer = Ipv4Addr::from(u32::from(PEER2) + i);
            let r = sv(&mut s, H2, &validate(peer, 0x1010, 100 + i), 2);
            match acked(r, Acked::SaValidate, 100 + i) {
                (Ok(()), _) => ok += 1,
                (Err(why), st) => {
                    assert_eq!(st, Stat::SaRefused);
                    refused = Some(why);
                    break;
                }
            }
        }
        assert_eq!((ok, refused), (32, Some(Reason::NoSpace)));
        // Revocation (the kernel's netlink path): everything of H1 goes,
        // and H1 is refused from then on.
        {
            let (mut t, mut sa) = s.both();
            t.revoke_host(H1, |b| {
                forget_block(&mut sa, b);
            })
            .unwrap();
            forget_idle(&mut sa, &t);
        }
        let h1 = s.slot(H1);
        assert_eq!(s.both().1.host_counts(h1), (0, 0));
        assert_eq!(s.r().check(PEER, 0x1000, h1), NV);
        let r = sv(&mut s, H1, &validate(PEER, 0x1000, 40), 2);
        assert_eq!(
            acked(r, Acked::SaValidate, 40),
            (Err(Reason::Revoked), Stat::SaRefused)
        );
        let r = sv(&mut s, H1, &invalidate(PEER, 0x1000, 41), 2);
        assert_eq!(
            acked(r, Acked::SaInvalidate, 41),
            (Err(Reason::Revoked), Stat::SaRefused)
        );
        let r = sv(&mut s, H1, &bl_add(Some(ATTACKER), None, 42), 2);
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 42),
            (Err(Reason::Revoked), Stat::BlacklistRefused)
        );
        let r = sv(&mut s, H1, &bl_remove(Some(ATTACKER), None, 43), 2);
        assert_eq!(
            acked(r, Acked::BlacklistRemove, 43),
            (Err(Reason::Revoked), Stat::BlacklistRefused)
        );
    }

    #[test]
    fn blacklist_add_and_remove() {
        let mut s = two_hosts_with_spis();
        let (h1, h2) = (s.slot(H1), s.slot(H2));
        sv(&mut s, H1, &validate(ATTACKER, 0x1000, 1), 2);
        sv(&mut s, H1, &validate(PEER, 0x1001, 2), 2);
        sv(&mut s, H2, &validate(ATTACKER, 0x1010, 3), 2);
        assert_eq!(s.r().check(ATTACKER, 0x1000, h1), Verdict::Deliver);
        // Address only: the host drops everything from the attacker; the
        // other host is not affected.
        let r = sv(&mut s, H1, &bl_add(Some(ATTACKER), None, 4), 2);
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 4),
            (Ok(()), Stat::BlacklistAdded)
        );
        assert_eq!(s.r().check(ATTACKER, 0x1000, h1), BL);
        assert_eq!(s.r().check(PEER, 0x1001, h1), Verdict::Deliver);
        assert_eq!(s.r().check(ATTACKER, 0x1010, h2), Verdict::Deliver);
        // SPI only, base format.
        assert_eq!(
            sv(&mut s, H1, &bl_add(None, Some(0x1001), 0), 2),
            (None, Stat::BlacklistAdded)
        );
        assert_eq!(s.r().check(PEER, 0x1001, h1), BL);
        // Refusals: another host's SPI, a LAN address.
        let r = sv(&mut s, H1, &bl_add(None, Some(0x1010), 5), 2);
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 5),
            (Err(Reason::NotOwned), Stat::BlacklistRefused)
        );
        let r = sv(
            &mut s,
            H1,
            &bl_add(Some(Ipv4Addr::new(10, 0, 0, 3)), None, 6),
            2,
        );
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 6),
            (Err(Reason::Unspecified), Stat::BlacklistRefused)
        );
        // Removal, exact; an absent entry is done.
        let r = sv(&mut s, H1, &bl_remove(Some(ATTACKER), None, 7), 2);
        assert_eq!(
            acked(r, Acked::BlacklistRemove, 7),
            (Ok(()), Stat::BlacklistRemoved)
        );
        assert_eq!(s.r().check(ATTACKER, 0x1000, h1), Verdict::Deliver);
        let r = sv(&mut s, H1, &bl_remove(Some(ATTACKER), None, 8), 2);
        assert_eq!(
            acked(r, Acked::BlacklistRemove, 8),
            (Ok(()), Stat::BlacklistRemoved)
        );
        assert_eq!(s.r().check(PEER, 0x1001, h1), BL);
        // The per-host limit.
        for i in 0..15u32 {
            let a = Ipv4Addr::from(u32::from(PEER2) + i);
            assert_eq!(
                sv(&mut s, H1, &bl_add(Some(a), None, 0), 2).1,
                Stat::BlacklistAdded
            );
        }
        let r = sv(&mut s, H1, &bl_add(Some(ATTACKER), None, 9), 2);
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 9),
            (Err(Reason::OverQuota), Stat::BlacklistRefused)
        );
        // An unknown host, and a host holding no block (its last one is
        // retiring), are refused.
        let r = sv(&mut s, H3, &bl_add(Some(ATTACKER), None, 10), 2);
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 10),
            (Err(Reason::NotOwned), Stat::BlacklistRefused)
        );
        let r = sv(&mut s, H3, &bl_remove(Some(ATTACKER), None, 11), 2);
        assert_eq!(
            acked(r, Acked::BlacklistRemove, 11),
            (Err(Reason::NotOwned), Stat::BlacklistRefused)
        );
        let all = Message::InvalidateAll {
            dir: Direction::ToRouter,
            scope: scope::SPIS,
            ext: ext(12, 0),
        };
        assert_eq!(sv(&mut s, H2, &all, 3).1, Stat::Released);
        assert!(s.t().find_host(H2).is_some());
        let r = sv(&mut s, H2, &bl_add(Some(ATTACKER), None, 13), 3);
        assert_eq!(
            acked(r, Acked::BlacklistAdd, 13),
            (Err(Reason::NotOwned), Stat::BlacklistRefused)
        );
    }

    #[test]
    fn released_blocks_take_their_sa_state_along() {
        let mut s = Store::new();
        let a = granted_spis(sv(&mut s, H1, &spi_req(16, 1), 1).0);
        let b = granted_spis(sv(&mut s, H1, &spi_req(16, 2), 1).0);
        let p = granted_ports(sv(&mut s, H1, &port_req(8, 3), 1).0);
        let h1 = s.slot(H1);
        let setup = |s: &mut Store| {
            for m in [
                validate(PEER, a.lowest, 0),
                validate(PEER, b.lowest, 0),
                bl_add(None, Some(a.lowest + 1), 0),
                bl_add(Some(ATTACKER), None, 0),
            ] {
                let st = sv(s, H1, &m, 2).1;
                assert!(
                    matches!(st, Stat::SaValidated | Stat::BlacklistAdded),
                    "{st:?}"
                );
            }
        };
        setup(&mut s);
        assert_eq!(s.both().1.host_counts(h1), (2, 2));
        // Block a goes: its SA and the entry naming its SPI.
        let inval = Message::SpiBlockInvalidate {
            dir: Direction::ToRouter,
            block: a,
            ext: ext(4, 0),
        };
        assert_eq!(sv(&mut s, H1, &inval, 3).1, Stat::Released);
        assert_eq!(s.both().1.host_counts(h1), (1, 1));
        assert_eq!(s.r().check(PEER, a.lowest, h1), NV);
        assert_eq!(s.r().check(PEER, b.lowest, h1), Verdict::Deliver);
        // One SPI of block b: the whole block goes, with its SA.
        let one = Message::SpiInvalidate {
            dir: Direction::ToRouter,
            spi: b.lowest + 3,
            ext: None,
        };
        assert_eq!(sv(&mut s, H1, &one, 3), (None, Stat::Released));
        assert_eq!(s.both().1.host_counts(h1), (0, 1));
        // The port block is the host's last: its blacklist goes too.
        assert!(s.r().blacklisted(ATTACKER, 0x9999, h1));
        let inval = Message::PortBlockInvalidate {
            dir: Direction::ToRouter,
            block: p,
            ext: None,
        };
        assert_eq!(sv(&mut s, H1, &inval, 3).1, Stat::Released);
        assert_eq!(s.both().1.host_counts(h1), (0, 0));
        assert!(!s.r().blacklisted(ATTACKER, 0x9999, h1));
        // After the grace periods the slot is free, and nothing of it is
        // left in the SA table.
        let (mut t, mut sa) = s.both();
        while let Some(tok) = t.start_grace() {
            t.finish_grace(tok);
        }
        assert!(t.find_host(H1).is_none(), "slot freed");
        let tok = sa.start_grace().unwrap();
        sa.finish_grace(tok);
        assert_eq!(
            sa.stats(),
            crate::sa_table::SaStats {
                max_entries: 32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn invalidate_all_scopes() {
        let mut s = Store::new();
        let a = granted_spis(sv(&mut s, H1, &spi_req(16, 1), 1).0);
        granted_ports(sv(&mut s, H1, &port_req(8, 2), 1).0);
        let h1 = s.slot(H1);
        let setup = |s: &mut Store| {
            sv(s, H1, &validate(PEER, a.lowest, 0), 2);
            sv(s, H1, &bl_add(Some(ATTACKER), None, 0), 2);
            sv(s, H1, &bl_add(None, Some(a.lowest), 0), 2);
        };
        let all = |sc: u8, xid: u32| Message::InvalidateAll {
            dir: Direction::ToRouter,
            scope: sc,
            ext: ext(xid, 0),
        };
        setup(&mut s);
        assert_eq!(s.both().1.host_counts(h1), (1, 2));
        // The SA bit alone: SA state goes, blocks stay.
        let r = sv(&mut s, H1, &all(scope::SA, 3), 2);
        assert_eq!(acked(r, Acked::InvalidateAll, 3), (Ok(()), Stat::Released));
        assert_eq!(s.both().1.host_counts(h1), (0, 0));
        let info = s.t().host(H1).unwrap();
        assert_eq!((info.port_blocks, info.spi_blocks), (1, 1));
        // SPIs: the SA and the SPI entry go, the address entry stays (the
        // host still holds ports).
        setup(&mut s);
        assert_eq!(sv(&mut s, H1, &all(scope::SPIS, 4), 2).1, Stat::Released);
        assert_eq!(s.both().1.host_counts(h1), (0, 1));
        // Ports: the host holds nothing now; the blacklist goes.
        assert_eq!(sv(&mut s, H1, &all(scope::PORTS, 5), 2).1, Stat::Released);
        assert_eq!(s.both().1.host_counts(h1), (0, 0));
    }

    #[test]
    fn glue_forgets_expired_and_reset() {
        let mut s = two_hosts_with_spis();
        let (h1, h2) = (s.slot(H1), s.slot(H2));
        sv(&mut s, H1, &validate(PEER, 0x1000, 0), 2);
        sv(&mut s, H1, &bl_add(Some(ATTACKER), None, 0), 2);
        sv(&mut s, H2, &validate(PEER, 0x1010, 0), 2);
        sv(&mut s, H2, &bl_add(Some(ATTACKER), None, 0), 2);
        // H2 renews; H1's lease (3600 s from time 1) runs out.
        let renew = Message::SpiRenew {
            block: SpiBlock {
                lowest: 0x1010,
                count: 16,
            },
            ext: Trailer {
                xid: 9,
                epoch: EPOCH,
                lease: 0,
            },
        };
        assert_eq!(sv(&mut s, H2, &renew, 1000).1, Stat::Renewed);
        {
            let (mut t, mut sa) = s.both();
            let mut gone = 0;
            assert_eq!(
                t.expire(3601, |b| {
                    gone += forget_block(&mut sa, b);
                }),
                1
            );
            assert_eq!(gone, 1);
            assert_eq!(forget_idle(&mut sa, &t), 1);
            assert_eq!(forget_idle(&mut sa, &t), 0);
        }
        assert_eq!(s.r().check(PEER, 0x1000, h1), NV);
        assert!(!s.r().blacklisted(ATTACKER, 0x1000, h1));
        assert_eq!(s.r().check(PEER, 0x1010, h2), Verdict::Deliver);
        assert!(s.r().blacklisted(ATTACKER, 0x1010, h2));
        // A router reset.
        {
            let (mut t, mut sa) = s.both();
            t.invalidate_all(None, |_| {});
            assert_eq!(sa.clear(), 2);
        }
        assert_eq!(s.r().check(PEER, 0x1010, h2), NV);
        assert_eq!(s.both().1.stats().blacklist, 0);
        assert_eq!(sa_reason(SaError::BadSpi), Reason::Unspecified);
    }

    #[test]
    fn without_sa_table_sa_messages_are_unsupported() {
        let mut s = two_hosts_with_spis();
        for (m, a) in [
            (validate(PEER, 0x1000, 4), Acked::SaValidate),
            (invalidate(PEER, 0x1000, 4), Acked::SaInvalidate),
            (bl_add(Some(PEER), None, 4), Acked::BlacklistAdd),
            (bl_remove(Some(PEER), None, 4), Acked::BlacklistRemove),
        ] {
            let r = serve(&mut s.t(), H1, &m, 1, EPOCH);
            assert_eq!(
                acked(r, a, 4),
                (Err(Reason::Unspecified), Stat::Unsupported)
            );
        }
        let base = validate(PEER, 0x1000, 0);
        assert_eq!(
            serve(&mut s.t(), H1, &base, 1, EPOCH),
            (None, Stat::Unsupported)
        );
        assert_eq!(s.both().1.stats().entries, 0);
        // Releases work alike.
        let one = Message::SpiInvalidate {
            dir: Direction::ToRouter,
            spi: 0x1000,
            ext: None,
        };
        assert_eq!(
            serve(&mut s.t(), H1, &one, 1, EPOCH),
            (None, Stat::Released)
        );
    }

    #[test]
    fn retransmissions_replay_the_cached_reply() {
        let mut c = CachedReply::EMPTY;
        let req = port_req(16, 42);
        assert_eq!(c.replay(&req), None);
        c.remember(&req, &[1, 2, 3]);
        assert_eq!(c.replay(&req), Some(&[1u8, 2, 3][..]));
        assert_eq!(c.replay(&port_req(16, 43)), None);
        let base = Message::PortRequest {
            class: PortClass::High,
            count: 16,
            ext: None,
        };
        assert_eq!(c.replay(&base), None);
        c.remember(&base, &[9]);
        assert_eq!(c.replay(&req), Some(&[1u8, 2, 3][..]));
    }

    #[test]
    fn stat_names_are_unique_and_indexed() {
        for (i, s) in Stat::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert!(Stat::ALL.iter().filter(|o| o.name() == s.name()).count() == 1);
        }
    }
}
