// SPDX-License-Identifier: GPL-2.0

//! The host's PAP client: which PAP messages a host sends to the router to
//! obtain, keep and give back its ports and SPIs, and what the router's
//! messages do to what it holds.
//!
//! [`Client`] is a pure state machine driven by the caller's clock (seconds,
//! a `u32` that may wrap; a step backwards counts as no time). It never
//! reads a clock, never sends and never allocates; every call is bounded by
//! the fixed tables ([`MAX_BLOCKS`], [`MAX_SA_RECORDS`], [`MAX_SA_NOTICES`]).
//!
//! - [`Client::poll`] with the time and the held ports in use, again until
//!   `None`: each [`Action::Send`] goes to the router, an
//!   [`Action::Changed`] (leases that ran out) updates the caller's tables.
//! - [`Client::receive`] takes a message from the router (decoded with
//!   `Direction::ToHost`, its source checked) and returns an [`Event`].
//! - [`Client::request_ports`], [`Client::release_ports`],
//!   [`Client::release_all`] and the like change what is held;
//!   [`Client::validate`], [`Client::invalidate`], [`Client::blacklist_add`]
//!   and [`Client::blacklist_remove`] queue SA notices (34/x, 35/x) or
//!   refuse them with a [`SaNoticeError`].
//!
//! One transaction is outstanding at a time (the router caches one reply
//! per host), retransmitted after [`RETRANSMIT`] seconds. Leases count from
//! a transaction's first transmission and are renewed at half-life. A new
//! router epoch drops everything held; the SPI blocks of recorded
//! validations are then asked back. Which SAs exist, which peers to
//! blacklist, and the translations, are the caller's.
//!
//! Every rule, with its reason: Documentation/networking/dnat.rst, "The PAP
//! client"; the protocol: Documentation/networking/dnat-pap.rst; the router
//! side: `pap_server.rs`.

use core::net::Ipv4Addr;

use super::config::{is_unicast, SPI_FIRST_ALLOCATABLE};
use super::pap::{
    self, scope, Acked, Direction, Message, PortBlock, PortClass, Reason, SpiBlock, Trailer,
    MAX_LEN,
};

/// Most port blocks, and most SPI blocks, held at once (the router's
/// per-host limit too).
pub const MAX_BLOCKS: usize = 16;
/// Release notices waiting for their turn; more are dropped (counted
/// [`Stat::NoticesDropped`]) and the router frees those blocks at the end
/// of their lease.
pub const MAX_NOTICES: usize = 8;
/// SA notices (34/x, 35/x) waiting for their turn; more are refused
/// ([`SaNoticeError::QueueFull`]).
pub const MAX_SA_NOTICES: usize = 16;
/// SA validations recorded for re-validation after the router forgot
/// them; a validation of a new pair beyond that is refused
/// ([`SaNoticeError::RecordsFull`]).
pub const MAX_SA_RECORDS: usize = 64;
/// Most blacklist entries recorded (as many as the router keeps per host).
pub const MAX_BLACKLIST: usize = 16;
/// Seconds to wait for a reply after the first, second, ... transmission of
/// a transaction (before the +-25 % jitter).
pub const RETRANSMIT: [u32; 5] = [1, 2, 4, 8, 16];
/// Transmissions of a transaction before it is given up.
pub const MAX_TRANSMISSIONS: u8 = RETRANSMIT.len() as u8;
/// Seconds before asking again after the first refusal of a request.
pub const REFUSAL_DELAY_MIN: u32 = 16;
/// Longest wait before asking again after refusals in a row.
pub const REFUSAL_DELAY_MAX: u32 = 256;
/// Seconds before retrying a renewal refused for a passing reason.
pub const RENEW_RETRY: u32 = 16;
/// Seconds a host without SPI blocks to ask back waits, after a router
/// restart, before it requests SPIs: the hosts whose SAs use SPIs get
/// their old blocks back first (first fit would hand them out again).
pub const RECLAIM_GRACE: u32 = 3;
/// A given-up request or renewal started again within this many seconds
/// of its first transmission keeps its xid (and start time); later it
/// becomes a new transaction.
pub const XID_REUSE_MAX: u32 = 64;

/// Seed used when the caller passes 0 (xorshift32 needs a nonzero state).
const DEFAULT_SEED: u32 = 0x9e37_79b9;
/// A clock step of this many seconds or more is taken as a step backwards.
const BACKWARDS: u32 = 1 << 31;

/// The client's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Ports asked for per request, 1 to 255 (e.g. 32).
    pub port_block: u8,
    /// Which port range to ask from (code 0: 1-9999, code 1: 10000+).
    pub port_class: PortClass,
    /// SPIs asked for per request (e.g. 256); at least 1 if `want_spis`.
    pub spi_block: u16,
    /// Lease asked for, seconds; 0: the router's default.
    pub lease: u32,
    /// Ask for another port block when fewer held ports than this are free.
    pub low_water: u16,
    /// Most port blocks to ask for, 1 to [`MAX_BLOCKS`].
    pub max_port_blocks: usize,
    /// Keep one SPI block.
    pub want_spis: bool,
    /// Give back everything a previous run left before the first request.
    pub flush_on_start: bool,
}

impl Config {
    /// 32 ports above 10000 at a time, up to 4 blocks, another block when
    /// fewer than 8 are free; 256 SPIs; the router's default lease; flush
    /// on start.
    pub const DEFAULT: Config = Config {
        port_block: 32,
        port_class: PortClass::High,
        spi_block: 256,
        lease: 0,
        low_water: 8,
        max_port_blocks: 4,
        want_spis: true,
        flush_on_start: true,
    };

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.port_block == 0 {
            return Err(ConfigError::ZeroPortBlock);
        }
        if self.want_spis && self.spi_block == 0 {
            return Err(ConfigError::ZeroSpiBlock);
        }
        if self.max_port_blocks == 0 || self.max_port_blocks > MAX_BLOCKS {
            return Err(ConfigError::MaxPortBlocks);
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a [`Config`] is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// `port_block` is 0.
    ZeroPortBlock,
    /// `spi_block` is 0 while `want_spis` is set.
    ZeroSpiBlock,
    /// `max_port_blocks` is 0 or above [`MAX_BLOCKS`].
    MaxPortBlocks,
}

impl ConfigError {
    /// A message for logs and netlink extended acks.
    pub const fn message(self) -> &'static str {
        match self {
            Self::ZeroPortBlock => "the port block size must be at least 1",
            Self::ZeroSpiBlock => "the SPI block size must be at least 1",
            Self::MaxPortBlocks => "the number of port blocks must be 1 to 16",
        }
    }
}

/// What the client counts, one counter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Stat {
    /// PAP messages handed to the caller to send.
    Sent,
    /// Request transactions started (ports, SPIs).
    Requests,
    /// Renewal transactions started.
    Renewals,
    /// Release notice transactions started.
    Notices,
    /// Retransmissions (included in `Sent`).
    Retransmits,
    /// Transactions given up without a reply.
    GivenUp,
    /// Blocks granted.
    Granted,
    /// Leases renewed.
    Renewed,
    /// SPI blocks got back after a router restart (renewal of a lost
    /// block that the new router still had free).
    Reclaimed,
    /// Releases acknowledged as done.
    Released,
    /// Refused with reason `unspecified` (failure response or refusal).
    RefusedUnspecified,
    /// Refused with `no_space`.
    RefusedNoSpace,
    /// Refused with `over_quota`.
    RefusedOverQuota,
    /// Refused with `rate_limited`.
    RefusedRateLimited,
    /// Refused with `not_configured`.
    RefusedNotConfigured,
    /// Refused with `revoked`.
    RefusedRevoked,
    /// Refused with `not_owned`.
    RefusedNotOwned,
    /// Refused with `pinned` (a release of a certified block).
    RefusedPinned,
    /// Refused with `unauthenticated` (a session answers these itself,
    /// `pap_session.rs`; a sealed one would land here).
    RefusedUnauthenticated,
    /// Invalidations (32/2, 32/3, 33/2, 33/3, 36/0) received from the router.
    Invalidations,
    /// Router restarts noticed (a new epoch).
    EpochChanges,
    /// Blocks dropped at the end of their lease.
    Expired,
    /// Held blocks dropped because a new grant overlapped them.
    Overlaps,
    /// Grants given back at once: no room to hold them.
    Surplus,
    /// Release notices not sent: the queue was full.
    NoticesDropped,
    /// SA notice transactions started (34/0, 35/0, 34/1, 35/1).
    SaNoticesSent,
    /// SA notices the router acknowledged as applied (36/1).
    SaNoticesApplied,
    /// SA notices the router refused (36/2; also counted by reason).
    SaNoticesRefused,
    /// SA notices forgotten without an answer: given up, their SPI block
    /// went, or the router restarted.
    SaNoticesDropped,
    /// A transaction could not be encoded (never expected) and was dropped.
    Unsendable,
    /// Ignored: not a valid message.
    IgnoredInvalid,
    /// Ignored: a message to the router.
    IgnoredNotForHost,
    /// Ignored: a reply matching no outstanding transaction.
    IgnoredUnmatched,
    /// Ignored: a reply with the right xid but not the expected answer.
    IgnoredWrongReply,
}

impl Stat {
    /// Number of counters.
    pub const COUNT: usize = 34;

    /// Every counter, in index order.
    pub const ALL: [Stat; Self::COUNT] = [
        Stat::Sent,
        Stat::Requests,
        Stat::Renewals,
        Stat::Notices,
        Stat::Retransmits,
        Stat::GivenUp,
        Stat::Granted,
        Stat::Renewed,
        Stat::Reclaimed,
        Stat::Released,
        Stat::RefusedUnspecified,
        Stat::RefusedNoSpace,
        Stat::RefusedOverQuota,
        Stat::RefusedRateLimited,
        Stat::RefusedNotConfigured,
        Stat::RefusedRevoked,
        Stat::RefusedNotOwned,
        Stat::RefusedPinned,
        Stat::RefusedUnauthenticated,
        Stat::Invalidations,
        Stat::EpochChanges,
        Stat::Expired,
        Stat::Overlaps,
        Stat::Surplus,
        Stat::NoticesDropped,
        Stat::SaNoticesSent,
        Stat::SaNoticesApplied,
        Stat::SaNoticesRefused,
        Stat::SaNoticesDropped,
        Stat::Unsendable,
        Stat::IgnoredInvalid,
        Stat::IgnoredNotForHost,
        Stat::IgnoredUnmatched,
        Stat::IgnoredWrongReply,
    ];

    /// The counter's slot.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The counter of refusals with reason `r`.
    pub const fn refused(r: Reason) -> Stat {
        match r {
            Reason::Unspecified => Stat::RefusedUnspecified,
            Reason::NoSpace => Stat::RefusedNoSpace,
            Reason::OverQuota => Stat::RefusedOverQuota,
            Reason::RateLimited => Stat::RefusedRateLimited,
            Reason::NotConfigured => Stat::RefusedNotConfigured,
            Reason::Revoked => Stat::RefusedRevoked,
            Reason::NotOwned => Stat::RefusedNotOwned,
            Reason::Pinned => Stat::RefusedPinned,
            Reason::Unauthenticated => Stat::RefusedUnauthenticated,
        }
    }

    /// The counter's name in dumps.
    pub const fn name(self) -> &'static str {
        match self {
            Stat::Sent => "sent",
            Stat::Requests => "requests",
            Stat::Renewals => "renewals",
            Stat::Notices => "notices",
            Stat::Retransmits => "retransmits",
            Stat::GivenUp => "given_up",
            Stat::Granted => "granted",
            Stat::Renewed => "renewed",
            Stat::Reclaimed => "reclaimed",
            Stat::Released => "released",
            Stat::RefusedUnspecified => "refused_unspecified",
            Stat::RefusedNoSpace => "refused_no_space",
            Stat::RefusedOverQuota => "refused_over_quota",
            Stat::RefusedRateLimited => "refused_rate_limited",
            Stat::RefusedNotConfigured => "refused_not_configured",
            Stat::RefusedRevoked => "refused_revoked",
            Stat::RefusedNotOwned => "refused_not_owned",
            Stat::RefusedPinned => "refused_pinned",
            Stat::RefusedUnauthenticated => "refused_unauthenticated",
            Stat::Invalidations => "invalidations",
            Stat::EpochChanges => "epoch_changes",
            Stat::Expired => "expired",
            Stat::Overlaps => "overlaps",
            Stat::Surplus => "surplus",
            Stat::NoticesDropped => "notices_dropped",
            Stat::SaNoticesSent => "sa_notices_sent",
            Stat::SaNoticesApplied => "sa_notices_applied",
            Stat::SaNoticesRefused => "sa_notices_refused",
            Stat::SaNoticesDropped => "sa_notices_dropped",
            Stat::Unsendable => "unsendable",
            Stat::IgnoredInvalid => "ignored_invalid",
            Stat::IgnoredNotForHost => "ignored_not_for_host",
            Stat::IgnoredUnmatched => "ignored_unmatched",
            Stat::IgnoredWrongReply => "ignored_wrong_reply",
        }
    }
}

/// Why [`Client::receive`] did not act on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// The message does not validate (`Message::validate`).
    Invalid,
    /// A message to the router (decoded with the wrong direction).
    NotForHost,
    /// A reply whose xid matches no outstanding transaction (a duplicate, a
    /// late reply, somebody else's), or a base-format reply with no request
    /// of its type outstanding.
    Unmatched,
    /// A reply with the xid of the outstanding transaction that is not its
    /// answer (another type, another block, another acknowledged notice).
    WrongReply,
}

impl Ignored {
    /// Its counter.
    pub const fn stat(self) -> Stat {
        match self {
            Self::Invalid => Stat::IgnoredInvalid,
            Self::NotForHost => Stat::IgnoredNotForHost,
            Self::Unmatched => Stat::IgnoredUnmatched,
            Self::WrongReply => Stat::IgnoredWrongReply,
        }
    }
}

/// What changed in what the client holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    /// The set of held ports changed (grant, release, invalidation, expiry).
    pub ports: bool,
    /// The set of held SPIs changed.
    pub spis: bool,
    /// The router dropped the host's SA validations and blacklist entries
    /// (invalidate-all with the SA scope bit, or a restart). The client
    /// re-sends the validations and blacklist entries it recorded.
    pub sas: bool,
    /// The router restarted (new epoch): everything held before is gone.
    pub epoch: bool,
}

impl Changes {
    /// Nothing changed.
    pub const NONE: Changes = Changes {
        ports: false,
        spis: false,
        sas: false,
        epoch: false,
    };

    /// Whether anything changed.
    pub const fn any(&self) -> bool {
        self.ports || self.spis || self.sas || self.epoch
    }
}

/// What a message from the router did ([`Client::receive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Accepted; nothing the caller mirrors changed (a renewal, an
    /// acknowledgement, an invalidation of something not held).
    Nothing,
    /// Accepted; held resources changed.
    Changed(Changes),
    /// Accepted; the router refused a request, renewal or release notice,
    /// and nothing changed (a refusal that drops a block is `Changed`).
    Refused(Reason),
    /// Accepted; the router acknowledged an SA notice: applied (`Ok`) or
    /// refused. (Reported as `Changed` instead if the acknowledgement
    /// carried a new epoch.)
    SaNotice {
        /// Which notice.
        kind: SaNoticeKind,
        /// Its address (`None`: a blacklist entry for any address).
        addr: Option<Ipv4Addr>,
        /// Its SPI (`None`: a blacklist entry for any SPI).
        spi: Option<u32>,
        /// Applied, or why not.
        result: Result<(), Reason>,
    },
    /// Not acted on.
    Ignored(Ignored),
}

/// What an SA notice asks of the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaNoticeKind {
    /// 34/0: an SA with the peer `addr` on the inbound `spi` exists.
    Validate,
    /// 35/0: that SA ended.
    Invalidate,
    /// 34/1: drop ESP/AH for this host from `addr` and/or with `spi`.
    BlacklistAdd,
    /// 35/1: remove exactly that blacklist entry.
    BlacklistRemove,
}

impl SaNoticeKind {
    /// A name for logs and dumps.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Invalidate => "invalidate",
            Self::BlacklistAdd => "blacklist_add",
            Self::BlacklistRemove => "blacklist_remove",
        }
    }

    /// The acknowledgement that answers it.
    pub const fn acked(self) -> Acked {
        match self {
            Self::Validate => Acked::SaValidate,
            Self::Invalidate => Acked::SaInvalidate,
            Self::BlacklistAdd => Acked::BlacklistAdd,
            Self::BlacklistRemove => Acked::BlacklistRemove,
        }
    }
}

/// An SA notice, as [`Client::sa_notices`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaNotice {
    /// Which notice.
    pub kind: SaNoticeKind,
    /// The peer's address; always set for validations and invalidations,
    /// `None` for a blacklist entry for any address.
    pub addr: Option<Ipv4Addr>,
    /// The SPI; always set for validations and invalidations, `None` for a
    /// blacklist entry for any SPI.
    pub spi: Option<u32>,
}

/// Why an SA notice was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaNoticeError {
    /// [`Client::release_all`] stopped the client.
    Stopped,
    /// The address is not unicast, an SPI is below 256, or a blacklist
    /// entry has neither address nor SPI.
    Invalid,
    /// The SPI is not in a held SPI block (for a blacklist entry without
    /// SPI: no block at all is held).
    NotHeld,
    /// [`MAX_SA_NOTICES`] notices are queued.
    QueueFull,
    /// A validation of a new pair while [`MAX_SA_RECORDS`] are recorded.
    RecordsFull,
}

impl SaNoticeError {
    /// A positive errno for netlink replies.
    pub const fn errno(self) -> i32 {
        match self {
            Self::Stopped => 107,    // ENOTCONN
            Self::Invalid => 22,     // EINVAL
            Self::NotHeld => 1,      // EPERM
            Self::QueueFull => 16,   // EBUSY
            Self::RecordsFull => 28, // ENOSPC
        }
    }

    /// A message for logs and netlink extended acks.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Stopped => "the PAP client is stopped",
            Self::Invalid => "not a unicast address, an SPI below 256, or an empty blacklist entry",
            Self::NotHeld => "the SPI is not in an SPI block the host holds",
            Self::QueueFull => "too many SA notices are waiting",
            Self::RecordsFull => "too many SA validations are recorded",
        }
    }
}

/// Where a recorded validation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaRecordState {
    /// Queued or sent, not acknowledged yet.
    Pending,
    /// Acknowledged as applied.
    Validated,
    /// The router forgot it (restart, invalidate-all with the SA bit) or
    /// its notice was given up: validated again when possible.
    Stale,
}

/// A recorded SA validation ([`Client::sa_records`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaRecord {
    /// The peer's external address.
    pub addr: Ipv4Addr,
    /// The SA's inbound SPI.
    pub spi: u32,
    /// Where it stands.
    pub state: SaRecordState,
}

/// A PAP message to send to the router: the message and its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Out {
    msg: Message,
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl Out {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.msg
    }

    /// Its encoding: the ICMP-format payload to send.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// What [`Client::poll`] asks the caller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send this message to the router.
    Send(Out),
    /// Leases ran out: these held resources changed.
    Changed(Changes),
}

/// A held block, as dumps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<B> {
    /// The block, as granted.
    pub block: B,
    /// The lease last granted, seconds; 0: no expiry.
    pub lease: u32,
    /// When the block is dropped, on the caller's clock; `None`: never.
    pub expires_at: Option<u32>,
    /// When it is (next) renewed, on the caller's clock.
    pub renew_at: Option<u32>,
}

impl<B> Held<B> {
    /// Seconds from `now` (the caller's clock) to the end of the lease.
    pub fn expires_in(&self, now: u32) -> Option<u32> {
        self.expires_at.map(|e| {
            let d = e.wrapping_sub(now);
            if d >= BACKWARDS {
                0
            } else {
                d
            }
        })
    }
}

/// A block of ports or SPIs, as a half-open range of values.
trait Span: Copy + PartialEq {
    fn range(&self) -> (u64, u64);
    fn size(&self) -> u32;
}

impl Span for PortBlock {
    fn range(&self) -> (u64, u64) {
        let lo = u64::from(self.lowest);
        (lo, lo.saturating_add(u64::from(self.count)))
    }
    fn size(&self) -> u32 {
        u32::from(self.count)
    }
}

impl Span for SpiBlock {
    fn range(&self) -> (u64, u64) {
        let lo = u64::from(self.lowest);
        (lo, lo.saturating_add(u64::from(self.count)))
    }
    fn size(&self) -> u32 {
        u32::from(self.count)
    }
}

fn overlaps<B: Span>(b: &B, lo: u64, hi: u64) -> bool {
    let (blo, bhi) = b.range();
    blo < hi && lo < bhi
}

/// A lease on the client's monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lease {
    secs: u32,
    expires: Option<u64>,
    renew_at: Option<u64>,
}

impl Lease {
    /// A lease of `secs` (0: none) counted from `start`; renewed at half.
    fn new(start: u64, secs: u32) -> Self {
        if secs == 0 {
            return Self {
                secs,
                expires: None,
                renew_at: None,
            };
        }
        Self {
            secs,
            expires: Some(start.saturating_add(u64::from(secs))),
            renew_at: Some(start.saturating_add(u64::from((secs / 2).max(1)))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry<B> {
    block: B,
    lease: Lease,
    /// The router refused to take it back (pinned): not given back again
    /// for being unused ([`Client::release_unused_ports`]).
    kept: bool,
}

impl<B> Entry<B> {
    /// A block the router refused to take back (pinned): held again, its
    /// lease unknown until the renewal due at `t`.
    fn readopted(block: B, t: u64) -> Self {
        Self {
            block,
            lease: Lease {
                secs: 0,
                expires: None,
                renew_at: Some(t),
            },
            kept: true,
        }
    }
}

type Table<B> = [Option<Entry<B>>; MAX_BLOCKS];

fn held<B: Span>(t: &Table<B>) -> impl Iterator<Item = &Entry<B>> + '_ {
    t.iter().flatten()
}

fn blocks<B: Span>(t: &Table<B>) -> usize {
    held(t).count()
}

fn find_mut<B: Span>(t: &mut Table<B>, b: B) -> Option<&mut Entry<B>> {
    t.iter_mut().flatten().find(|e| e.block == b)
}

/// Removes the entries for which `f` holds; returns how many.
fn remove_where<B: Span>(t: &mut Table<B>, mut f: impl FnMut(&Entry<B>) -> bool) -> u32 {
    let mut n = 0u32;
    for slot in t.iter_mut() {
        if slot.as_ref().is_some_and(&mut f) {
            *slot = None;
            n = n.saturating_add(1);
        }
    }
    n
}

fn insert<B: Span>(t: &mut Table<B>, e: Entry<B>) -> bool {
    match t.iter_mut().find(|s| s.is_none()) {
        Some(slot) => {
            *slot = Some(e);
            true
        }
        None => false,
    }
}

/// Ports or SPIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Ports,
    Spis,
}

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    RequestPorts(u8),
    RequestSpis(u16),
    RenewPorts(PortBlock),
    RenewSpis(SpiBlock),
    /// A renewal of an SPI block lost in a router restart, to get it back.
    ReclaimSpis(SpiBlock),
    ReleasePorts(PortBlock),
    ReleaseSpis(SpiBlock),
    ReleaseAll,
    SaValidate(Ipv4Addr, u32),
    SaInvalidate(Ipv4Addr, u32),
    BlacklistAdd(Option<Ipv4Addr>, Option<u32>),
    BlacklistRemove(Option<Ipv4Addr>, Option<u32>),
}

/// What an SA notice is about: an SA (`false`) or a blacklist entry
/// (`true`), its address and SPI.
type Subject = (bool, Option<Ipv4Addr>, Option<u32>);

impl Op {
    const fn is_request(self) -> bool {
        matches!(self, Op::RequestPorts(_) | Op::RequestSpis(_))
    }

    const fn is_notice(self) -> bool {
        matches!(
            self,
            Op::ReleasePorts(_) | Op::ReleaseSpis(_) | Op::ReleaseAll
        )
    }

    const fn is_sa(self) -> bool {
        matches!(
            self,
            Op::SaValidate(..)
                | Op::SaInvalidate(..)
                | Op::BlacklistAdd(..)
                | Op::BlacklistRemove(..)
        )
    }

    const fn acked(self) -> Option<Acked> {
        match self {
            Op::ReleasePorts(_) => Some(Acked::PortBlockInvalidate),
            Op::ReleaseSpis(_) => Some(Acked::SpiBlockInvalidate),
            Op::ReleaseAll => Some(Acked::InvalidateAll),
            _ => match self.sa_notice() {
                Some(n) => Some(n.kind.acked()),
                None => None,
            },
        }
    }

    /// The SA notice this transaction sends.
    const fn sa_notice(self) -> Option<SaNotice> {
        let (kind, addr, spi) = match self {
            Op::SaValidate(a, s) => (SaNoticeKind::Validate, Some(a), Some(s)),
            Op::SaInvalidate(a, s) => (SaNoticeKind::Invalidate, Some(a), Some(s)),
            Op::BlacklistAdd(a, s) => (SaNoticeKind::BlacklistAdd, a, s),
            Op::BlacklistRemove(a, s) => (SaNoticeKind::BlacklistRemove, a, s),
            _ => return None,
        };
        Some(SaNotice { kind, addr, spi })
    }

    /// The SA or blacklist entry an SA notice is about.
    fn subject(self) -> Option<Subject> {
        let n = self.sa_notice()?;
        let blacklist = matches!(
            n.kind,
            SaNoticeKind::BlacklistAdd | SaNoticeKind::BlacklistRemove
        );
        Some((blacklist, n.addr, n.spi))
    }

    /// Whether `msg` (a reply with this transaction's xid, or without
    /// trailer) is the answer this transaction expects.
    fn answered_by(self, msg: &Message) -> bool {
        match (self, msg) {
            (Op::RequestPorts(_), Message::PortResponse { .. }) => true,
            (Op::RequestSpis(_), Message::SpiResponse { .. }) => true,
            (Op::RenewPorts(b), Message::PortResponse { result, .. }) => match result {
                Ok(g) => *g == b,
                Err(_) => true,
            },
            (Op::RenewSpis(b) | Op::ReclaimSpis(b), Message::SpiResponse { result, .. }) => {
                match result {
                    Ok(g) => *g == b,
                    Err(_) => true,
                }
            }
            (op, Message::Ack { acked, .. }) => op.acked() == Some(*acked),
            _ => false,
        }
    }

    /// The message of this transaction.
    fn message(self, xid: u32, epoch: u32, lease: u32, class: PortClass) -> Message {
        let t = |lease| Trailer { xid, epoch, lease };
        let dir = Direction::ToRouter;
        match self {
            Op::RequestPorts(count) => Message::PortRequest {
                class,
                count,
                ext: Some(t(lease)),
            },
            Op::RequestSpis(count) => Message::SpiRequest {
                count,
                ext: Some(t(lease)),
            },
            Op::RenewPorts(block) => Message::PortRenew {
                block,
                ext: t(lease),
            },
            Op::RenewSpis(block) | Op::ReclaimSpis(block) => Message::SpiRenew {
                block,
                ext: t(lease),
            },
            Op::ReleasePorts(block) => Message::PortBlockInvalidate {
                dir,
                block,
                ext: Some(t(0)),
            },
            Op::ReleaseSpis(block) => Message::SpiBlockInvalidate {
                dir,
                block,
                ext: Some(t(0)),
            },
            Op::ReleaseAll => Message::InvalidateAll {
                dir,
                scope: scope::ALL,
                ext: Some(t(0)),
            },
            Op::SaValidate(addr, spi) => Message::SaValidate {
                addr,
                spi,
                ext: Some(t(0)),
            },
            Op::SaInvalidate(addr, spi) => Message::SaInvalidate {
                addr,
                spi,
                ext: Some(t(0)),
            },
            Op::BlacklistAdd(addr, spi) => Message::BlacklistAdd {
                addr,
                spi,
                ext: Some(t(0)),
            },
            Op::BlacklistRemove(addr, spi) => Message::BlacklistRemove {
                addr,
                spi,
                ext: Some(t(0)),
            },
        }
    }
}

/// Takes the oldest entry out of a queue.
fn q_pop<const N: usize>(q: &mut [Option<Op>; N]) -> Option<Op> {
    let first = q.first().copied().flatten()?;
    q.rotate_left(1);
    if let Some(last) = q.last_mut() {
        *last = None;
    }
    Some(first)
}

/// Appends `op` to a queue; `false` if it is full.
fn q_push<const N: usize>(q: &mut [Option<Op>; N], op: Op) -> bool {
    match q.iter_mut().find(|n| n.is_none()) {
        Some(slot) => {
            *slot = Some(op);
            true
        }
        None => false,
    }
}

/// Keeps the entries of a queue for which `keep` holds, in order; returns
/// how many went.
fn q_retain<const N: usize>(q: &mut [Option<Op>; N], mut keep: impl FnMut(Op) -> bool) -> u64 {
    let mut kept = [None; N];
    let mut slots = kept.iter_mut();
    let mut gone = 0u64;
    for op in q.iter().flatten() {
        if keep(*op) {
            if let Some(s) = slots.next() {
                *s = Some(*op);
            }
        } else {
            gone = gone.saturating_add(1);
        }
    }
    *q = kept;
    gone
}

/// Whether `spi` is in a block of `t`.
fn holds(t: &Table<SpiBlock>, spi: u32) -> bool {
    held(t).any(|e| e.block.contains(spi))
}

/// A transaction: its xid, when it was first sent, when it is due again,
/// and which wait of [`RETRANSMIT`] follows its next transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Txn {
    op: Op,
    xid: u32,
    started: u64,
    next: u64,
    step: u8,
    sent: u8,
}

/// The state of asking for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Want {
    /// Count asked for next.
    ask: u16,
    /// Do not ask before this time.
    hold_until: u64,
    /// Wait after the next refusal.
    delay: u32,
    /// Do not ask at all (`over_quota`, `revoked`).
    stuck: Option<Reason>,
}

impl Want {
    const fn new(ask: u16) -> Self {
        Self {
            ask,
            hold_until: 0,
            delay: REFUSAL_DELAY_MIN,
            stuck: None,
        }
    }
}

/// The host's PAP client. See the module documentation and
/// Documentation/networking/dnat.rst, "The PAP client".
#[derive(Debug, Clone)]
pub struct Client {
    cfg: Config,
    rng: u32,
    /// The caller's clock at the last call, `None` before the first.
    last_now: Option<u32>,
    /// The client's monotonic clock, seconds since the first call.
    mono: u64,
    /// `ports_in_use` of the last poll.
    in_use: u32,
    epoch: u32,
    ports: Table<PortBlock>,
    spis: Table<SpiBlock>,
    txn: Option<Txn>,
    /// The last request or renewal given up, until it is answered late,
    /// started again or superseded.
    given_up: Option<Txn>,
    /// Release notices not started yet, oldest first.
    notices: [Option<Op>; MAX_NOTICES],
    /// SA notices not started yet, oldest first.
    sa_queue: [Option<Op>; MAX_SA_NOTICES],
    /// Recorded SA validations.
    records: [Option<SaRecord>; MAX_SA_RECORDS],
    /// SPI blocks lost in a router restart that recorded SAs use: asked
    /// back (a renewal) before anything new.
    reclaim: [Option<SpiBlock>; MAX_BLOCKS],
    /// Blacklist entries added (and not removed), re-sent when the router
    /// forgets them.
    blacklist: [Option<(Option<Ipv4Addr>, Option<u32>)>; MAX_BLACKLIST],
    /// The router forgot the blacklist: re-send it once a block is held,
    /// from entry `bl_next` on (the SA queue may fill up on the way).
    bl_resend: bool,
    bl_next: usize,
    silent: bool,
    stopped: bool,
    want_ports: Want,
    want_spis: Want,
    /// Requests asked for by [`Client::request_ports`] and
    /// [`Client::request_spis`], until answered.
    asked_ports: Option<u8>,
    asked_spis: Option<u16>,
    last_refusal: Option<Reason>,
    stats: [u64; Stat::COUNT],
}

impl Client {
    /// A client that holds nothing yet. `seed`: a random value for the
    /// xids (0 is replaced by a constant).
    pub fn new(cfg: Config, seed: u32) -> Result<Client, ConfigError> {
        cfg.validate()?;
        let mut c = Client {
            cfg,
            rng: if seed == 0 { DEFAULT_SEED } else { seed },
            last_now: None,
            mono: 0,
            in_use: 0,
            epoch: 0,
            ports: [None; MAX_BLOCKS],
            spis: [None; MAX_BLOCKS],
            txn: None,
            given_up: None,
            notices: [None; MAX_NOTICES],
            sa_queue: [None; MAX_SA_NOTICES],
            records: [None; MAX_SA_RECORDS],
            reclaim: [None; MAX_BLOCKS],
            blacklist: [None; MAX_BLACKLIST],
            bl_resend: false,
            bl_next: 0,
            silent: false,
            stopped: false,
            want_ports: Want::new(u16::from(cfg.port_block)),
            want_spis: Want::new(cfg.spi_block),
            asked_ports: None,
            asked_spis: None,
            last_refusal: None,
            stats: [0; Stat::COUNT],
        };
        if cfg.flush_on_start {
            c.queue_notice(Op::ReleaseAll);
        }
        Ok(c)
    }

    // ----- Driving -----

    /// Advances the client to `now` (seconds, the caller's clock) and
    /// returns the next thing to do, `None` when nothing is due: call it
    /// again until `None`. `ports_in_use`: how many held ports the host
    /// uses (for [`Config::low_water`]).
    pub fn poll(&mut self, now: u32, ports_in_use: u32) -> Option<Action> {
        let t = self.advance(now);
        self.in_use = ports_in_use;
        let ch = self.expire(t);
        if ch.any() {
            return Some(Action::Changed(ch));
        }
        // Every round either returns or ends a transaction; a few rounds
        // cover a give-up followed by the start of the next transaction.
        for _ in 0..4 {
            if let Some(txn) = self.txn {
                if txn.next > t {
                    return None;
                }
                if usize::from(txn.step) >= RETRANSMIT.len() {
                    self.give_up(txn);
                    continue;
                }
            } else {
                let op = self.next_op(t)?;
                self.start(op, t);
            }
            if let Some(out) = self.transmit(t) {
                return Some(Action::Send(out));
            }
        }
        None
    }

    /// Handles `msg`, a message from the router (decoded with
    /// `Direction::ToHost`, from the router's address), received at `now`.
    pub fn receive(&mut self, msg: &Message, now: u32) -> Event {
        let t = self.advance(now);
        if msg.validate().is_err() {
            return self.ignore(Ignored::Invalid);
        }
        if msg.direction() != Direction::ToHost {
            return self.ignore(Ignored::NotForHost);
        }
        let is_reply = matches!(
            msg,
            Message::PortResponse { .. } | Message::SpiResponse { .. } | Message::Ack { .. }
        );
        let matched = if is_reply {
            match self.match_reply(msg) {
                Ok(txn) => Some(txn),
                Err(why) => return self.ignore(why),
            }
        } else {
            None
        };
        self.silent = false;
        let mut ch = match msg.ext() {
            Some(e) => self.see_epoch(e.epoch, t),
            None => Changes::NONE,
        };
        let (refused, sa) = match matched {
            Some(txn) => (self.apply_reply(txn, msg, t, &mut ch), txn.op.sa_notice()),
            None => {
                self.apply_invalidation(msg, &mut ch);
                (None, None)
            }
        };
        if ch.any() {
            Event::Changed(ch)
        } else if let Some(n) = sa {
            Event::SaNotice {
                kind: n.kind,
                addr: n.addr,
                spi: n.spi,
                result: refused.map_or(Ok(()), Err),
            }
        } else if let Some(r) = refused {
            Event::Refused(r)
        } else {
            Event::Nothing
        }
    }

    /// Gives back `block`, a held port block: it is dropped at once (the
    /// caller has stopped using it) and a release (32/3) is queued. `false`
    /// if the block is not held exactly so.
    pub fn release_ports(&mut self, block: PortBlock) -> bool {
        if remove_where(&mut self.ports, |e| e.block == block) == 0 {
            return false;
        }
        self.unstick_quota(Res::Ports);
        self.prune();
        self.queue_notice(Op::ReleasePorts(block));
        true
    }

    /// As [`Client::release_ports`], for a block the caller found unused:
    /// `false` for a block the router refused to take back before (it is
    /// pinned: asking again would only be refused again).
    pub fn release_unused_ports(&mut self, block: PortBlock) -> bool {
        if held(&self.ports).any(|e| e.block == block && e.kept) {
            return false;
        }
        self.release_ports(block)
    }

    /// Gives back `block`, a held SPI block (33/3), as
    /// [`Client::release_ports`].
    pub fn release_spis(&mut self, block: SpiBlock) -> bool {
        if remove_where(&mut self.spis, |e| e.block == block) == 0 {
            return false;
        }
        self.unstick_quota(Res::Spis);
        self.prune();
        self.spis_changed();
        self.queue_notice(Op::ReleaseSpis(block));
        true
    }

    /// Queues a validation (34/0): the host established an SA with the peer
    /// `addr` whose inbound SPI is `spi`, in a held SPI block. The pair is
    /// recorded (`Pending`) and validated again whenever the router forgets
    /// it. See Documentation/networking/dnat.rst, "The PAP client", "SA
    /// notices".
    pub fn validate(&mut self, addr: Ipv4Addr, spi: u32) -> Result<(), SaNoticeError> {
        self.check_notice(Some(addr), Some(spi))?;
        if !self.owns_spi(spi) {
            return Err(SaNoticeError::NotHeld);
        }
        let slot = match self.record_index(addr, spi) {
            Some(i) => i,
            None => self
                .records
                .iter()
                .position(Option::is_none)
                .ok_or(SaNoticeError::RecordsFull)?,
        };
        self.queue_sa(Op::SaValidate(addr, spi))?;
        if let Some(r) = self.records.get_mut(slot) {
            *r = Some(SaRecord {
                addr,
                spi,
                state: SaRecordState::Pending,
            });
        }
        Ok(())
    }

    /// Queues an invalidation (35/0): that SA ended. Its record goes at
    /// once, even when the SPI is not held any more (then nothing is sent
    /// and the answer is [`SaNoticeError::NotHeld`]: the router forgot the
    /// SA with the block).
    pub fn invalidate(&mut self, addr: Ipv4Addr, spi: u32) -> Result<(), SaNoticeError> {
        self.check_notice(Some(addr), Some(spi))?;
        if !self.owns_spi(spi) {
            self.forget_record(addr, spi);
            return Err(SaNoticeError::NotHeld);
        }
        self.queue_sa(Op::SaInvalidate(addr, spi))?;
        self.forget_record(addr, spi);
        Ok(())
    }

    /// Queues a blacklist addition (34/1): the router is to drop ESP/AH for
    /// this host from `addr` (`None`: any address) with `spi` (`None`: any
    /// SPI), not both `None`. An SPI must be in a held SPI block; without
    /// one, some block must be held (the router keeps a blacklist only for
    /// a host holding a block). Recorded (at most [`MAX_BLACKLIST`]) and
    /// sent again when the router forgets it ([`Changes::sas`]).
    pub fn blacklist_add(
        &mut self,
        addr: Option<Ipv4Addr>,
        spi: Option<u32>,
    ) -> Result<(), SaNoticeError> {
        self.check_notice(addr, spi)?;
        let backed = match spi {
            Some(s) => self.owns_spi(s),
            None => blocks(&self.ports) > 0 || blocks(&self.spis) > 0,
        };
        if !backed {
            return Err(SaNoticeError::NotHeld);
        }
        self.queue_sa(Op::BlacklistAdd(addr, spi))?;
        let entry = Some((addr, spi));
        if !self.blacklist.contains(&entry) {
            if let Some(slot) = self.blacklist.iter_mut().find(|e| e.is_none()) {
                *slot = entry;
            }
        }
        Ok(())
    }

    /// Queues a blacklist removal (35/1) of exactly that entry.
    pub fn blacklist_remove(
        &mut self,
        addr: Option<Ipv4Addr>,
        spi: Option<u32>,
    ) -> Result<(), SaNoticeError> {
        self.check_notice(addr, spi)?;
        self.queue_sa(Op::BlacklistRemove(addr, spi))?;
        for e in self.blacklist.iter_mut() {
            if *e == Some((addr, spi)) {
                *e = None;
            }
        }
        Ok(())
    }

    /// Asks for a block of `count` ports now (an administrator's request),
    /// whatever [`Config::low_water`] and [`Config::max_port_blocks`] say,
    /// lifting a refusal hold on ports. It is the next request sent, and is
    /// retransmitted and retried like the others until the router answers
    /// (a refusal is not retried). `false` if the client is stopped,
    /// `count` is 0, [`MAX_BLOCKS`] port blocks are held, or such a request
    /// is already pending.
    pub fn request_ports(&mut self, count: u8) -> bool {
        if self.stopped
            || count == 0
            || blocks(&self.ports) >= MAX_BLOCKS
            || self.asked_ports.is_some()
        {
            return false;
        }
        self.asked_ports = Some(count);
        self.want_ports = Want::new(u16::from(self.cfg.port_block));
        true
    }

    /// Asks for a block of `count` SPIs now, as [`Client::request_ports`]
    /// (whatever [`Config::want_spis`] says).
    pub fn request_spis(&mut self, count: u16) -> bool {
        if self.stopped
            || count == 0
            || blocks(&self.spis) >= MAX_BLOCKS
            || self.asked_spis.is_some()
        {
            return false;
        }
        self.asked_spis = Some(count);
        self.want_spis = Want::new(self.cfg.spi_block);
        true
    }

    /// Deconfiguration: drops everything, forgets every transaction, queues
    /// one invalidate-all (36/0, scope 0x07) and stops asking for anything.
    /// Returns what was dropped.
    pub fn release_all(&mut self) -> Changes {
        let ch = Changes {
            ports: blocks(&self.ports) > 0,
            spis: blocks(&self.spis) > 0,
            sas: false,
            epoch: false,
        };
        self.ports = [None; MAX_BLOCKS];
        self.spis = [None; MAX_BLOCKS];
        self.txn = None;
        self.given_up = None;
        self.notices = [None; MAX_NOTICES];
        self.sa_queue = [None; MAX_SA_NOTICES];
        self.records = [None; MAX_SA_RECORDS];
        self.asked_ports = None;
        self.asked_spis = None;
        self.stopped = true;
        self.queue_notice(Op::ReleaseAll);
        ch
    }

    /// Lifts every refusal hold (`over_quota`, `revoked`, back-off) and
    /// restores the configured counts: for an administrator who knows that
    /// the router would now grant.
    pub fn retry_now(&mut self) {
        self.want_ports = Want::new(u16::from(self.cfg.port_block));
        self.want_spis = Want::new(self.cfg.spi_block);
    }

    /// The router may have taken blocks back (an invalidation the host
    /// cannot trust, `pap_session.rs`): every held block is renewed now,
    /// and the authenticated answers decide what stays.
    pub fn check_holdings(&mut self) {
        let t = self.mono;
        for e in self.ports.iter_mut().flatten() {
            e.lease.renew_at = Some(t);
        }
        for e in self.spis.iter_mut().flatten() {
            e.lease.renew_at = Some(t);
        }
    }

    /// Sends the transaction in flight again at the next [`Client::poll`],
    /// with a fresh retransmission schedule (a key was installed, or the
    /// router asked for a new one).
    pub fn resend_now(&mut self) {
        let t = self.mono;
        if let Some(txn) = self.txn.as_mut() {
            txn.next = t;
            txn.step = 0;
        }
    }

    // ----- Accessors -----

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The router epoch last seen, 0 before any.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The held port blocks.
    pub fn port_blocks(&self) -> impl Iterator<Item = Held<PortBlock>> + '_ {
        held(&self.ports).map(move |e| self.show(e))
    }

    /// The held SPI blocks.
    pub fn spi_blocks(&self) -> impl Iterator<Item = Held<SpiBlock>> + '_ {
        held(&self.spis).map(move |e| self.show(e))
    }

    /// Number of held ports.
    pub fn ports_held(&self) -> u32 {
        held(&self.ports).fold(0u32, |n, e| n.saturating_add(e.block.size()))
    }

    /// Whether `port` is in a held block.
    pub fn owns_port(&self, port: u16) -> bool {
        held(&self.ports).any(|e| e.block.contains(port))
    }

    /// Whether `spi` is in a held block.
    pub fn owns_spi(&self, spi: u32) -> bool {
        holds(&self.spis, spi)
    }

    /// The recorded SA validations.
    pub fn sa_records(&self) -> impl Iterator<Item = SaRecord> + '_ {
        self.records.iter().flatten().copied()
    }

    /// The SA notices waiting for their turn, oldest first (the one being
    /// sent is [`Client::outstanding`]).
    pub fn sa_notices(&self) -> impl Iterator<Item = SaNotice> + '_ {
        self.sa_queue
            .iter()
            .flatten()
            .filter_map(|op| op.sa_notice())
    }

    /// Counter `s`.
    pub fn stat(&self, s: Stat) -> u64 {
        self.stats.get(s.index()).copied().unwrap_or(0)
    }

    /// The outstanding transaction's message, as last sent (or about to be
    /// sent).
    pub fn outstanding(&self) -> Option<Message> {
        self.txn.map(|t| self.message(&t))
    }

    /// The last refusal of the router.
    pub fn last_refusal(&self) -> Option<Reason> {
        self.last_refusal
    }

    /// Whether [`Client::release_all`] stopped the client.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether no transaction is outstanding or queued (after
    /// [`Client::release_all`]: the invalidate-all is done or given up).
    pub fn is_idle(&self) -> bool {
        self.txn.is_none()
            && self.notices.iter().all(|n| n.is_none())
            && self.sa_queue.iter().all(|n| n.is_none())
    }

    /// Seconds from the last `now` until [`Client::poll`] has something to
    /// do (a transmission, a renewal, a lease end, the end of a hold), as
    /// far as the client knows (a change of `ports_in_use` may need a poll
    /// sooner); `None` if nothing is scheduled. Polling earlier is harmless.
    pub fn next_timeout(&self) -> Option<u32> {
        let t = self.mono;
        let mut best: Option<u64> = None;
        let mut at = |x: u64| best = Some(best.map_or(x, |b| b.min(x)));
        for x in held(&self.ports).filter_map(|e| e.lease.expires) {
            at(x);
        }
        for x in held(&self.spis).filter_map(|e| e.lease.expires) {
            at(x);
        }
        match self.txn {
            Some(txn) => at(txn.next),
            None => {
                if self.notices.iter().any(|n| n.is_some()) {
                    at(t);
                }
                if !self.stopped && (self.asked_ports.is_some() || self.asked_spis.is_some()) {
                    at(t);
                }
                if !self.stopped && (self.sa_queue.iter().any(|n| n.is_some()) || self.stale_due())
                {
                    at(t);
                }
                if !self.stopped {
                    for r in held(&self.ports).filter_map(|e| e.lease.renew_at) {
                        at(r);
                    }
                    for r in held(&self.spis).filter_map(|e| e.lease.renew_at) {
                        at(r);
                    }
                    if self.needs_ports() && self.want_ports.stuck.is_none() {
                        at(self.want_ports.hold_until.max(t));
                    }
                    if self.needs_spis() && self.want_spis.stuck.is_none() {
                        at(self.want_spis.hold_until.max(t));
                    }
                }
            }
        }
        best.map(|b| u32::try_from(b.saturating_sub(t)).unwrap_or(u32::MAX))
    }

    // ----- Internals -----

    fn bump(&mut self, s: Stat) {
        self.bump_by(s, 1);
    }

    fn bump_by(&mut self, s: Stat, n: u64) {
        if let Some(c) = self.stats.get_mut(s.index()) {
            *c = c.saturating_add(n);
        }
    }

    fn ignore(&mut self, why: Ignored) -> Event {
        self.bump(why.stat());
        Event::Ignored(why)
    }

    fn rand(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// `secs` +-25 % (in whole seconds).
    fn jittered(&mut self, secs: u32) -> u32 {
        let q = secs / 4;
        if q == 0 {
            return secs;
        }
        let span = q.saturating_mul(2).saturating_add(1);
        let r = self.rand().checked_rem(span).unwrap_or(0);
        secs.saturating_sub(q).saturating_add(r)
    }

    fn advance(&mut self, now: u32) -> u64 {
        if let Some(last) = self.last_now {
            let d = now.wrapping_sub(last);
            if d < BACKWARDS {
                self.mono = self.mono.saturating_add(u64::from(d));
            }
        }
        self.last_now = Some(now);
        self.mono
    }

    /// A monotonic time on the caller's clock.
    fn caller_time(&self, t: u64) -> u32 {
        let d = u32::try_from(t.saturating_sub(self.mono)).unwrap_or(u32::MAX);
        self.last_now.unwrap_or(0).wrapping_add(d)
    }

    fn show<B: Span>(&self, e: &Entry<B>) -> Held<B> {
        Held {
            block: e.block,
            lease: e.lease.secs,
            expires_at: e.lease.expires.map(|x| self.caller_time(x)),
            renew_at: e.lease.renew_at.map(|x| self.caller_time(x)),
        }
    }

    fn message(&self, txn: &Txn) -> Message {
        let lease = if txn.op.is_notice() || txn.op.is_sa() {
            0
        } else {
            self.cfg.lease
        };
        txn.op
            .message(txn.xid, self.epoch, lease, self.cfg.port_class)
    }

    fn want(&mut self, r: Res) -> &mut Want {
        match r {
            Res::Ports => &mut self.want_ports,
            Res::Spis => &mut self.want_spis,
        }
    }

    fn queue_notice(&mut self, op: Op) {
        if !q_push(&mut self.notices, op) {
            self.bump(Stat::NoticesDropped);
        }
    }

    /// Forgets queued and outstanding releases for which `f` holds.
    fn drop_releases(&mut self, mut f: impl FnMut(Op) -> bool) {
        q_retain(&mut self.notices, |op| !f(op));
        if self.txn.is_some_and(|t| t.op.is_notice() && f(t.op)) {
            self.txn = None;
        }
    }

    /// Checks the client and the arguments of an SA notice.
    fn check_notice(&self, addr: Option<Ipv4Addr>, spi: Option<u32>) -> Result<(), SaNoticeError> {
        if self.stopped {
            return Err(SaNoticeError::Stopped);
        }
        if (addr.is_none() && spi.is_none())
            || addr.is_some_and(|a| !is_unicast(a))
            || spi.is_some_and(|s| s < SPI_FIRST_ALLOCATABLE)
        {
            return Err(SaNoticeError::Invalid);
        }
        Ok(())
    }

    /// The last queued SA notice about `subject`.
    fn last_queued(&self, subject: Subject) -> Option<Op> {
        self.sa_queue
            .iter()
            .rev()
            .flatten()
            .find(|op| op.subject() == Some(subject))
            .copied()
    }

    /// Queues SA notice `op`, unless the last one queued about the same
    /// subject is identical.
    fn queue_sa(&mut self, op: Op) -> Result<(), SaNoticeError> {
        if let Some(subject) = op.subject() {
            if self.last_queued(subject) == Some(op) {
                return Ok(());
            }
        }
        if q_push(&mut self.sa_queue, op) {
            Ok(())
        } else {
            Err(SaNoticeError::QueueFull)
        }
    }

    /// Whether a validation of the pair is queued.
    fn validation_queued(&self, addr: Ipv4Addr, spi: u32) -> bool {
        self.sa_queue
            .iter()
            .flatten()
            .any(|op| *op == Op::SaValidate(addr, spi))
    }

    fn record_index(&self, addr: Ipv4Addr, spi: u32) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.is_some_and(|r| r.addr == addr && r.spi == spi))
    }

    fn forget_record(&mut self, addr: Ipv4Addr, spi: u32) {
        for r in self.records.iter_mut() {
            if r.is_some_and(|r| r.addr == addr && r.spi == spi) {
                *r = None;
            }
        }
    }

    /// The router forgot every validation and blacklist entry.
    fn records_stale(&mut self) {
        for r in self.records.iter_mut().flatten() {
            r.state = SaRecordState::Stale;
        }
        self.bl_resend = self.blacklist.iter().any(Option::is_some);
        self.bl_next = 0;
    }

    /// Queues the recorded blacklist entries again once a block backs
    /// them; an entry whose SPI is not held any more is forgotten.
    fn requeue_blacklist(&mut self) {
        if !self.bl_resend || (blocks(&self.ports) == 0 && blocks(&self.spis) == 0) {
            return;
        }
        for i in self.bl_next..self.blacklist.len() {
            let Some(Some((a, s))) = self.blacklist.get(i).copied() else {
                continue;
            };
            if !s.is_none_or(|s| holds(&self.spis, s)) {
                if let Some(e) = self.blacklist.get_mut(i) {
                    *e = None;
                }
            } else if !q_push(&mut self.sa_queue, Op::BlacklistAdd(a, s)) {
                // The queue is full: go on from here at the next poll.
                self.bl_next = i;
                return;
            }
        }
        self.bl_resend = false;
        self.bl_next = 0;
    }

    /// Whether a stale record can be validated again now.
    fn stale_due(&self) -> bool {
        self.records
            .iter()
            .flatten()
            .any(|r| r.state == SaRecordState::Stale && holds(&self.spis, r.spi))
    }

    /// Queues a validation for each stale record whose SPI is held, at
    /// most `max`, while the queue has room.
    fn requeue_stale(&mut self, max: usize) {
        if self.stopped {
            return;
        }
        let mut left = max;
        for i in 0..self.records.len() {
            if left == 0 {
                return;
            }
            let Some(r) = self.records.get(i).copied().flatten() else {
                continue;
            };
            if r.state != SaRecordState::Stale || !holds(&self.spis, r.spi) {
                continue;
            }
            if !self.validation_queued(r.addr, r.spi)
                && !q_push(&mut self.sa_queue, Op::SaValidate(r.addr, r.spi))
            {
                return;
            }
            if let Some(Some(r)) = self.records.get_mut(i) {
                r.state = SaRecordState::Pending;
            }
            left = left.saturating_sub(1);
        }
    }

    /// The router answered SA notice `op` (`applied` or refused).
    fn sa_answered(&mut self, op: Op, applied: bool) {
        match op {
            // A validation queued behind this one decides.
            Op::SaValidate(a, s) if !self.validation_queued(a, s) => {
                let i = self.record_index(a, s);
                let Some(slot) = i.and_then(|i| self.records.get_mut(i)) else {
                    return;
                };
                match slot.map(|r| r.state) {
                    // Forgotten by the router since it was sent (or
                    // invalidated): it is sent again (or not at all).
                    Some(SaRecordState::Stale) | None => {}
                    Some(_) if applied => {
                        if let Some(r) = slot {
                            r.state = SaRecordState::Validated;
                        }
                    }
                    Some(_) => *slot = None,
                }
            }
            Op::SaInvalidate(a, s) if !self.validation_queued(a, s) => self.forget_record(a, s),
            _ => {}
        }
    }

    /// SA notice `op` was given up.
    fn sa_given_up(&mut self, op: Op) {
        self.bump(Stat::SaNoticesDropped);
        if let Op::SaValidate(a, s) = op {
            if self.validation_queued(a, s) {
                return;
            }
            if let Some(Some(r)) = self
                .record_index(a, s)
                .and_then(|i| self.records.get_mut(i))
            {
                r.state = SaRecordState::Stale;
            }
        }
    }

    /// The held SPI blocks changed (not by a restart): records and queued
    /// SA notices on SPIs no longer held go.
    fn spis_changed(&mut self) {
        let spis = &self.spis;
        // Stale records stay (flagged) until the SPI comes back or the
        // caller invalidates them: their SA lost its SPI in a router
        // restart and gets no traffic.
        for r in self.records.iter_mut() {
            if r.is_some_and(|r| r.state != SaRecordState::Stale && !holds(spis, r.spi)) {
                *r = None;
            }
        }
        let gone = q_retain(&mut self.sa_queue, |op| {
            let spi = match op {
                Op::SaValidate(_, s) | Op::SaInvalidate(_, s) => Some(s),
                Op::BlacklistAdd(_, s) | Op::BlacklistRemove(_, s) => s,
                _ => None,
            };
            spi.is_none_or(|s| holds(spis, s))
        });
        self.bump_by(Stat::SaNoticesDropped, gone);
    }

    /// Forgets renewals of blocks no longer held.
    fn prune(&mut self) {
        let gone = |c: &Client, txn: Option<Txn>| match txn.map(|t| t.op) {
            Some(Op::RenewPorts(b)) => !held(&c.ports).any(|e| e.block == b),
            Some(Op::RenewSpis(b)) => !held(&c.spis).any(|e| e.block == b),
            _ => false,
        };
        if gone(self, self.txn) {
            self.txn = None;
        }
        if gone(self, self.given_up) {
            self.given_up = None;
        }
    }

    fn unstick_quota(&mut self, r: Res) {
        let w = self.want(r);
        if w.stuck == Some(Reason::OverQuota) {
            w.stuck = None;
        }
    }

    /// Drops the blocks whose lease ended at `t`.
    fn expire(&mut self, t: u64) -> Changes {
        let ended = |l: &Lease| l.expires.is_some_and(|x| x <= t);
        let np = remove_where(&mut self.ports, |e| ended(&e.lease));
        let ns = remove_where(&mut self.spis, |e| ended(&e.lease));
        self.bump_by(Stat::Expired, u64::from(np.saturating_add(ns)));
        if np > 0 {
            self.unstick_quota(Res::Ports);
        }
        if ns > 0 {
            self.unstick_quota(Res::Spis);
            self.spis_changed();
        }
        self.prune();
        Changes {
            ports: np > 0,
            spis: ns > 0,
            ..Changes::NONE
        }
    }

    fn needs_ports(&self) -> bool {
        let n = blocks(&self.ports);
        if n == 0 {
            return true;
        }
        if n >= self.cfg.max_port_blocks {
            return false;
        }
        let free = self.ports_held().saturating_sub(self.in_use);
        free < u32::from(self.cfg.low_water)
    }

    fn needs_spis(&self) -> bool {
        self.cfg.want_spis && blocks(&self.spis) == 0
    }

    fn may_ask(w: &Want, t: u64) -> bool {
        w.stuck.is_none() && w.hold_until <= t
    }

    /// The next transaction to start at `t`, if any.
    fn next_op(&mut self, t: u64) -> Option<Op> {
        if let Some(op) = q_pop(&mut self.notices) {
            return Some(op);
        }
        if self.stopped {
            return None;
        }
        let due = |r: Option<u64>| r.filter(|&x| x <= t);
        let port = held(&self.ports)
            .filter_map(|e| due(e.lease.renew_at).map(|x| (x, e.block)))
            .min_by_key(|&(x, _)| x);
        let spi = held(&self.spis)
            .filter_map(|e| due(e.lease.renew_at).map(|x| (x, e.block)))
            .min_by_key(|&(x, _)| x);
        match (port, spi) {
            (Some((p, b)), Some((s, _))) if p <= s => return Some(Op::RenewPorts(b)),
            (Some((_, b)), None) => return Some(Op::RenewPorts(b)),
            (_, Some((_, b))) => return Some(Op::RenewSpis(b)),
            (None, None) => {}
        }
        if blocks(&self.spis) < MAX_BLOCKS {
            if let Some(b) = self.reclaim.iter_mut().find_map(Option::take) {
                return Some(Op::ReclaimSpis(b));
            }
        }
        if !self.silent {
            self.requeue_stale(MAX_SA_RECORDS);
            self.requeue_blacklist();
        }
        if let Some(op) = q_pop(&mut self.sa_queue) {
            return Some(op);
        }
        if let Some(n) = self.asked_ports {
            if blocks(&self.ports) < MAX_BLOCKS {
                return Some(Op::RequestPorts(n));
            }
            self.asked_ports = None;
        }
        if let Some(n) = self.asked_spis {
            if blocks(&self.spis) < MAX_BLOCKS {
                return Some(Op::RequestSpis(n));
            }
            self.asked_spis = None;
        }
        if self.needs_ports() && Self::may_ask(&self.want_ports, t) {
            let count = u8::try_from(self.want_ports.ask)
                .unwrap_or(self.cfg.port_block)
                .max(1);
            return Some(Op::RequestPorts(count));
        }
        if self.needs_spis() && Self::may_ask(&self.want_spis, t) {
            return Some(Op::RequestSpis(self.want_spis.ask.max(1)));
        }
        // A silent router is probed by whatever is due; by a stale
        // validation (one at a time) only when nothing else is.
        self.requeue_stale(1);
        q_pop(&mut self.sa_queue)
    }

    fn start(&mut self, op: Op, t: u64) {
        let (xid, started, sent) = match self.given_up {
            Some(g) if g.op == op && t.saturating_sub(g.started) < u64::from(XID_REUSE_MAX) => {
                self.given_up = None;
                (g.xid, g.started, g.sent)
            }
            _ => (self.rand(), t, 0),
        };
        let step = if self.silent {
            MAX_TRANSMISSIONS.saturating_sub(1)
        } else {
            0
        };
        self.txn = Some(Txn {
            op,
            xid,
            started,
            next: t,
            step,
            sent,
        });
        self.bump(match op {
            Op::RequestPorts(_) | Op::RequestSpis(_) => Stat::Requests,
            Op::RenewPorts(_) | Op::RenewSpis(_) | Op::ReclaimSpis(_) => Stat::Renewals,
            Op::ReleasePorts(_) | Op::ReleaseSpis(_) | Op::ReleaseAll => Stat::Notices,
            Op::SaValidate(..)
            | Op::SaInvalidate(..)
            | Op::BlacklistAdd(..)
            | Op::BlacklistRemove(..) => Stat::SaNoticesSent,
        });
    }

    /// Sends the outstanding transaction (again) and schedules the next
    /// transmission.
    fn transmit(&mut self, t: u64) -> Option<Out> {
        let mut txn = self.txn?;
        let msg = self.message(&txn);
        let mut bytes = [0u8; MAX_LEN];
        let len = match pap::encode(&msg, &mut bytes)
            .ok()
            .and_then(|n| u8::try_from(n).ok())
        {
            Some(n) => n,
            None => {
                self.txn = None;
                self.bump(Stat::Unsendable);
                return None;
            }
        };
        self.bump(Stat::Sent);
        if txn.sent > 0 {
            self.bump(Stat::Retransmits);
        }
        let last = RETRANSMIT.len().saturating_sub(1);
        let wait = RETRANSMIT
            .get(usize::from(txn.step).min(last))
            .copied()
            .unwrap_or(1);
        txn.next = t.saturating_add(u64::from(self.jittered(wait).max(1)));
        txn.step = txn.step.saturating_add(1);
        txn.sent = txn.sent.saturating_add(1);
        self.txn = Some(txn);
        Some(Out { msg, len, bytes })
    }

    fn give_up(&mut self, txn: Txn) {
        self.txn = None;
        self.silent = true;
        self.bump(Stat::GivenUp);
        if let Op::ReclaimSpis(b) = txn.op {
            // Asked back again when the router answers again.
            if let Some(slot) = self.reclaim.iter_mut().find(|r| r.is_none()) {
                *slot = Some(b);
            }
        } else if txn.op.is_sa() {
            self.sa_given_up(txn.op);
        } else if !txn.op.is_notice() {
            self.given_up = Some(txn);
        }
    }

    /// The transaction `msg` (a reply) answers, taken out.
    fn match_reply(&mut self, msg: &Message) -> Result<Txn, Ignored> {
        let xid = msg.ext().map(|e| e.xid);
        let mut wrong = false;
        for late in [false, true] {
            let Some(txn) = (if late { self.given_up } else { self.txn }) else {
                continue;
            };
            match xid {
                Some(x) if x != txn.xid => continue,
                None if !txn.op.is_request() => continue,
                _ => {}
            }
            if txn.op.answered_by(msg) {
                if late {
                    self.given_up = None;
                } else {
                    self.txn = None;
                }
                return Ok(txn);
            }
            wrong |= xid.is_some();
        }
        Err(if wrong {
            Ignored::WrongReply
        } else {
            Ignored::Unmatched
        })
    }

    /// Notes the epoch of an accepted router message; a new one (not the
    /// first) means the router restarted.
    fn see_epoch(&mut self, epoch: u32, t: u64) -> Changes {
        if epoch == 0 || epoch == self.epoch {
            return Changes::NONE;
        }
        let first = self.epoch == 0;
        self.epoch = epoch;
        if first {
            return Changes::NONE;
        }
        self.bump(Stat::EpochChanges);
        let ch = Changes {
            ports: blocks(&self.ports) > 0,
            spis: blocks(&self.spis) > 0,
            sas: true,
            epoch: true,
        };
        // SPI blocks that recorded SAs use: asked back first, so that the
        // SAs keep their SPIs if the new router still has them free.
        self.reclaim = [None; MAX_BLOCKS];
        let mut k = 0;
        for b in held(&self.spis).map(|e| e.block) {
            let used = self.records.iter().flatten().any(|r| b.contains(r.spi));
            if let (true, Some(slot)) = (used, self.reclaim.get_mut(k)) {
                *slot = Some(b);
                k += 1;
            }
        }
        self.ports = [None; MAX_BLOCKS];
        self.spis = [None; MAX_BLOCKS];
        self.notices = [None; MAX_NOTICES];
        // The new router knows none of the SAs: the records wait for SPIs
        // (the blacklist is re-sent too), queued notices go.
        self.records_stale();
        let mut gone = q_retain(&mut self.sa_queue, |_| false);
        if self.txn.is_some_and(|t| t.op.is_sa()) {
            gone = gone.saturating_add(1);
        }
        self.bump_by(Stat::SaNoticesDropped, gone);
        self.given_up = None;
        self.txn = match self.txn {
            // The new router has no reply cache to protect, and a new xid
            // keeps a late reply of the old router from matching.
            Some(txn) if txn.op.is_request() => Some(Txn {
                xid: self.rand(),
                started: t,
                next: t,
                step: 0,
                sent: 0,
                ..txn
            }),
            _ => None,
        };
        self.retry_now();
        if k == 0 {
            self.want_spis.hold_until = t.saturating_add(u64::from(RECLAIM_GRACE));
        }
        self.last_refusal = None;
        ch
    }

    /// Applies `msg`, the answer to `txn`; returns the refusal, if any.
    fn apply_reply(&mut self, txn: Txn, msg: &Message, t: u64, ch: &mut Changes) -> Option<Reason> {
        let lease = msg.ext().map_or(0, |e| e.lease);
        match txn.op {
            Op::RequestPorts(n) if self.asked_ports == Some(n) => self.asked_ports = None,
            Op::RequestSpis(n) if self.asked_spis == Some(n) => self.asked_spis = None,
            _ => {}
        }
        let refused = match (txn.op, *msg) {
            (Op::RequestPorts(_), Message::PortResponse { result, .. }) => match result {
                Ok(b) => {
                    self.granted_ports(b, Lease::new(txn.started, lease), ch);
                    None
                }
                Err(r) => Some(r),
            },
            (Op::RequestSpis(_), Message::SpiResponse { result, .. }) => match result {
                Ok(b) => {
                    self.granted_spis(b, Lease::new(txn.started, lease), ch);
                    None
                }
                Err(r) => Some(r),
            },
            (Op::RenewPorts(b), Message::PortResponse { result, .. }) => match result {
                Ok(_) => {
                    self.bump(Stat::Renewed);
                    if let Some(e) = find_mut(&mut self.ports, b) {
                        e.lease = Lease::new(txn.started, lease);
                    }
                    None
                }
                Err(r) => Some(r),
            },
            (Op::ReclaimSpis(_), Message::SpiResponse { result, .. }) => match result {
                Ok(b) => {
                    self.bump(Stat::Reclaimed);
                    self.granted_spis(b, Lease::new(txn.started, lease), ch);
                    None
                }
                Err(r) => Some(r),
            },
            (Op::RenewSpis(b), Message::SpiResponse { result, .. }) => match result {
                Ok(_) => {
                    self.bump(Stat::Renewed);
                    if let Some(e) = find_mut(&mut self.spis, b) {
                        e.lease = Lease::new(txn.started, lease);
                    }
                    None
                }
                Err(r) => Some(r),
            },
            (op, Message::Ack { result, .. }) if op.is_sa() => {
                self.bump(if result.is_ok() {
                    Stat::SaNoticesApplied
                } else {
                    Stat::SaNoticesRefused
                });
                self.sa_answered(op, result.is_ok());
                result.err()
            }
            (_, Message::Ack { result, .. }) => match result {
                Ok(()) => {
                    self.bump(Stat::Released);
                    None
                }
                Err(r) => Some(r),
            },
            _ => None,
        };
        let r = refused?;
        self.bump(Stat::refused(r));
        self.last_refusal = Some(r);
        match txn.op {
            Op::RequestPorts(_) => self.request_refused(Res::Ports, r, t),
            Op::RequestSpis(_) => self.request_refused(Res::Spis, r, t),
            Op::RenewPorts(b) => {
                if matches!(r, Reason::NotOwned | Reason::Revoked) {
                    if remove_where(&mut self.ports, |e| e.block == b) > 0 {
                        ch.ports = true;
                        self.unstick_quota(Res::Ports);
                    }
                } else if let Some(e) = find_mut(&mut self.ports, b) {
                    e.lease.renew_at = Some(t.saturating_add(u64::from(RENEW_RETRY)));
                }
                self.renewal_refused(r);
            }
            Op::RenewSpis(b) => {
                if matches!(r, Reason::NotOwned | Reason::Revoked) {
                    if remove_where(&mut self.spis, |e| e.block == b) > 0 {
                        ch.spis = true;
                        self.unstick_quota(Res::Spis);
                        self.spis_changed();
                    }
                } else if let Some(e) = find_mut(&mut self.spis, b) {
                    e.lease.renew_at = Some(t.saturating_add(u64::from(RENEW_RETRY)));
                }
                self.renewal_refused(r);
            }
            // A certified block cannot be given back: the router keeps it
            // for this host, so the host takes it back too and renews it
            // at once (the renewal brings its lease).
            Op::ReleasePorts(b) if r == Reason::Pinned => {
                if insert(&mut self.ports, Entry::readopted(b, t)) {
                    ch.ports = true;
                }
            }
            Op::ReleaseSpis(b) if r == Reason::Pinned => {
                if insert(&mut self.spis, Entry::readopted(b, t)) {
                    ch.spis = true;
                }
            }
            // Not given back: the records stay stale and a new block is
            // requested as usual.
            Op::ReclaimSpis(_)
            | Op::ReleasePorts(_)
            | Op::ReleaseSpis(_)
            | Op::ReleaseAll
            | Op::SaValidate(..)
            | Op::SaInvalidate(..)
            | Op::BlacklistAdd(..)
            | Op::BlacklistRemove(..) => {}
        }
        Some(r)
    }

    fn renewal_refused(&mut self, r: Reason) {
        if r == Reason::Revoked {
            self.want_ports.stuck = Some(r);
            self.want_spis.stuck = Some(r);
        }
    }

    fn request_refused(&mut self, res: Res, r: Reason, t: u64) {
        match r {
            Reason::OverQuota => self.want(res).stuck = Some(r),
            Reason::Revoked => {
                self.want_ports.stuck = Some(r);
                self.want_spis.stuck = Some(r);
            }
            _ => {
                let w = self.want(res);
                if r == Reason::NoSpace {
                    w.ask = (w.ask / 2).max(1);
                }
                w.hold_until = t.saturating_add(u64::from(w.delay));
                w.delay = w.delay.saturating_mul(2).min(REFUSAL_DELAY_MAX);
            }
        }
    }

    fn granted_ports(&mut self, b: PortBlock, lease: Lease, ch: &mut Changes) {
        self.bump(Stat::Granted);
        self.want_ports = Want::new(u16::from(self.cfg.port_block));
        let (lo, hi) = b.range();
        let n = remove_where(&mut self.ports, |e| overlaps(&e.block, lo, hi));
        self.bump_by(Stat::Overlaps, u64::from(n));
        self.prune();
        if insert(
            &mut self.ports,
            Entry {
                block: b,
                lease,
                kept: false,
            },
        ) {
            ch.ports = true;
        } else {
            ch.ports |= n > 0;
            self.bump(Stat::Surplus);
            self.queue_notice(Op::ReleasePorts(b));
        }
    }

    fn granted_spis(&mut self, b: SpiBlock, lease: Lease, ch: &mut Changes) {
        self.bump(Stat::Granted);
        self.want_spis = Want::new(self.cfg.spi_block);
        let (lo, hi) = b.range();
        let n = remove_where(&mut self.spis, |e| overlaps(&e.block, lo, hi));
        self.bump_by(Stat::Overlaps, u64::from(n));
        self.prune();
        if insert(
            &mut self.spis,
            Entry {
                block: b,
                lease,
                kept: false,
            },
        ) {
            ch.spis = true;
        } else {
            ch.spis |= n > 0;
            self.bump(Stat::Surplus);
            self.queue_notice(Op::ReleaseSpis(b));
        }
        // Also where SPIs are re-acquired after a restart (stale records
        // stay, flagged, until their SPI is held again or invalidated).
        self.spis_changed();
    }

    /// Applies a router invalidation (unsolicited, xid 0).
    fn apply_invalidation(&mut self, msg: &Message, ch: &mut Changes) {
        self.bump(Stat::Invalidations);
        match *msg {
            Message::PortInvalidate { port, .. } => {
                let lo = u64::from(port);
                self.drop_blocks(Res::Ports, lo, lo.saturating_add(1), ch);
            }
            Message::PortBlockInvalidate { block, .. } => {
                let (lo, hi) = block.range();
                self.drop_blocks(Res::Ports, lo, hi, ch);
            }
            Message::SpiInvalidate { spi, .. } => {
                let lo = u64::from(spi);
                self.drop_blocks(Res::Spis, lo, lo.saturating_add(1), ch);
            }
            Message::SpiBlockInvalidate { block, .. } => {
                let (lo, hi) = block.range();
                self.drop_blocks(Res::Spis, lo, hi, ch);
            }
            Message::InvalidateAll { scope: s, .. } => {
                if s & scope::PORTS != 0 {
                    self.drop_blocks(Res::Ports, 0, u64::MAX, ch);
                }
                if s & scope::SPIS != 0 {
                    self.drop_blocks(Res::Spis, 0, u64::MAX, ch);
                }
                if s & scope::SA != 0 {
                    ch.sas = true;
                    self.records_stale();
                }
            }
            _ => {}
        }
    }

    /// Drops every held block of `res` overlapping `lo..hi`, and the
    /// releases of such blocks not yet acknowledged.
    fn drop_blocks(&mut self, res: Res, lo: u64, hi: u64, ch: &mut Changes) {
        let n = match res {
            Res::Ports => remove_where(&mut self.ports, |e| overlaps(&e.block, lo, hi)),
            Res::Spis => remove_where(&mut self.spis, |e| overlaps(&e.block, lo, hi)),
        };
        self.drop_releases(|op| match (res, op) {
            (Res::Ports, Op::ReleasePorts(b)) => overlaps(&b, lo, hi),
            (Res::Spis, Op::ReleaseSpis(b)) => overlaps(&b, lo, hi),
            _ => false,
        });
        self.prune();
        if n > 0 {
            match res {
                Res::Ports => ch.ports = true,
                Res::Spis => {
                    ch.spis = true;
                    self.spis_changed();
                }
            }
            self.unstick_quota(res);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_table::{AllocTable, Kind, Quota, Settings};
    use crate::config::Range;
    use crate::pap::{decode, encode};
    use crate::pap_server::{serve, serve_with_sa, CachedReply};
    use crate::sa_table::{Lan, SaLayout, SaShared, SaTable, Seed};
    use crate::store::{AllocStore, RouterStore, SaStore};
    use std::vec;
    use std::vec::Vec;

    const H1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const H2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
    const EPOCH: u32 = 0x5eed_0001;
    const LEASE: u32 = 60;

    const SEED: Seed = Seed([1, 2]);
    /// The router's LAN prefix (H1 and H2 are inside).
    const LAN: Lan = Lan {
        addr: Ipv4Addr::new(10, 0, 0, 7),
        mask: Ipv4Addr::new(255, 255, 255, 0),
    };

    /// The router's tables (as in `pap_server`'s tests).
    struct Store(RouterStore);

    impl Store {
        fn new(settings: Settings) -> Self {
            let mut s = Self(RouterStore {
                alloc: AllocStore::new(8, settings),
                sa: SaStore::new(
                    SaLayout {
                        buckets: 256,
                        hosts: 8,
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
        fn sa(&self) -> SaShared<'_> {
            self.0.sa.shared()
        }
    }

    /// The router as `router/server.rs` runs it: reply cache, then
    /// `serve_with_sa`.
    struct Router {
        s: Store,
        epoch: u32,
        cache: CachedReply,
        /// Messages answered from the reply cache.
        replayed: usize,
    }

    impl Router {
        fn new() -> Self {
            Self::with(Settings {
                default_lease: LEASE,
                ..Settings::DEFAULT
            })
        }

        fn with(settings: Settings) -> Self {
            Self {
                s: Store::new(settings),
                epoch: EPOCH,
                cache: CachedReply::EMPTY,
                replayed: 0,
            }
        }

        fn grace(&mut self) {
            while let Some(tok) = self.s.t().start_grace() {
                self.s.t().finish_grace(tok);
            }
            let (_, mut sa) = self.s.both();
            while let Some(tok) = sa.start_grace() {
                sa.finish_grace(tok);
            }
        }

        /// Serves `bytes` from H1 at `now`; the encoded reply, if any.
        fn handle(&mut self, bytes: &[u8], now: u64) -> Option<Vec<u8>> {
            let msg = decode(bytes, Direction::ToRouter).expect("the client sends valid PAP");
            if self.s.t().find_host(H1).is_some() {
                if let Some(b) = self.cache.replay(&msg) {
                    self.replayed += 1;
                    return Some(b.to_vec());
                }
            } else {
                self.cache = CachedReply::EMPTY;
            }
            let (reply, _) = {
                let (mut t, mut sa) = self.s.both();
                serve_with_sa(&mut t, &mut sa, LAN, H1, &msg, now, self.epoch)
            };
            self.grace();
            let mut out = [0u8; MAX_LEN];
            let n = encode(&reply?, &mut out).unwrap();
            self.cache.remember(&msg, &out[..n]);
            Some(out[..n].to_vec())
        }

        /// A restart: everything dropped, a new epoch; the broadcast.
        fn restart(&mut self, epoch: u32) -> Message {
            self.s.t().invalidate_all(None, |_| {});
            self.s.both().1.clear();
            self.grace();
            self.epoch = epoch;
            self.cache = CachedReply::EMPTY;
            self.unsolicited_all()
        }

        fn unsolicited_all(&self) -> Message {
            Message::InvalidateAll {
                dir: Direction::ToHost,
                scope: scope::ALL,
                ext: Some(self.unsolicited()),
            }
        }

        fn unsolicited(&self) -> Trailer {
            Trailer {
                xid: 0,
                epoch: self.epoch,
                lease: 0,
            }
        }

        fn host_ports(&mut self) -> u32 {
            self.s.t().host(H1).map_or(0, |h| h.ports)
        }

        fn host_spis(&mut self) -> u32 {
            self.s.t().host(H1).map_or(0, |h| h.spis)
        }

        /// Whether the router delivers ESP from `addr` on `spi` to H1.
        fn validated(&mut self, addr: Ipv4Addr, spi: u32) -> bool {
            let h1 = self.s.t().find_host(H1);
            h1.is_some() && self.s.sa().lookup(addr, spi) == h1
        }

        /// Whether H1's blacklist drops ESP from `addr` on `spi`.
        fn blacklisted(&mut self, addr: Ipv4Addr, spi: u32) -> bool {
            match self.s.t().find_host(H1) {
                Some(h1) => self.s.sa().blacklisted(addr, spi, h1),
                None => false,
            }
        }

        /// H1's SAs at the router.
        fn sas(&mut self) -> usize {
            match self.s.t().find_host(H1) {
                Some(h1) => usize::from(self.s.both().1.host_counts(h1).0),
                None => 0,
            }
        }
    }

    /// A client, a router and the LAN between them (same clock).
    struct Net {
        c: Client,
        r: Router,
        now: u32,
        in_use: u32,
        /// Client messages lost: the next n, or all while `down`.
        lose_requests: usize,
        down: bool,
        /// Router replies lost (the router did serve the message).
        lose_replies: usize,
        /// Every message the client sent, with the time.
        sent: Vec<(u32, Message)>,
        events: Vec<Event>,
        changes: Vec<Changes>,
    }

    fn cfg() -> Config {
        Config {
            flush_on_start: false,
            ..Config::DEFAULT
        }
    }

    impl Net {
        fn new(c: Config) -> Self {
            Self::start_at(c, 1000)
        }

        fn start_at(c: Config, now: u32) -> Self {
            Self {
                c: Client::new(c, 0x1234_5678).unwrap(),
                r: Router::new(),
                now,
                in_use: 0,
                lose_requests: 0,
                down: false,
                lose_replies: 0,
                sent: Vec::new(),
                events: Vec::new(),
                changes: Vec::new(),
            }
        }

        /// Polls until nothing is left, delivering at once.
        fn tick(&mut self) {
            for _ in 0..64 {
                match self.c.poll(self.now, self.in_use) {
                    None => return,
                    Some(Action::Changed(ch)) => self.changes.push(ch),
                    Some(Action::Send(out)) => {
                        let m = decode(out.bytes(), Direction::ToRouter).unwrap();
                        assert_eq!(&m, out.message());
                        self.sent.push((self.now, m));
                        if self.down {
                            continue;
                        }
                        if self.lose_requests > 0 {
                            self.lose_requests -= 1;
                            continue;
                        }
                        let Some(reply) = self.r.handle(out.bytes(), u64::from(self.now)) else {
                            continue;
                        };
                        if self.lose_replies > 0 {
                            self.lose_replies -= 1;
                            continue;
                        }
                        self.deliver(&decode(&reply, Direction::ToHost).unwrap());
                    }
                }
            }
            panic!("poll does not settle");
        }

        fn deliver(&mut self, m: &Message) -> Event {
            let ev = self.c.receive(m, self.now);
            self.events.push(ev);
            if let Event::Changed(ch) = ev {
                self.changes.push(ch);
            }
            ev
        }

        /// `secs` seconds, one tick each.
        fn run(&mut self, secs: u32) {
            for _ in 0..secs {
                self.now = self.now.wrapping_add(1);
                self.tick();
            }
        }

        fn ports(&self) -> Vec<Held<PortBlock>> {
            self.c.port_blocks().collect()
        }

        fn spis(&self) -> Vec<Held<SpiBlock>> {
            self.c.spi_blocks().collect()
        }

        fn count(&self, f: impl Fn(&Message) -> bool) -> usize {
            self.sent.iter().filter(|(_, m)| f(m)).count()
        }
    }

    fn is_port_request(m: &Message) -> bool {
        matches!(m, Message::PortRequest { .. })
    }

    fn xid(m: &Message) -> u32 {
        m.ext().unwrap().xid
    }

    fn pb(lowest: u16, count: u8) -> PortBlock {
        PortBlock { lowest, count }
    }

    #[test]
    fn request_grant_renew_expiry() {
        let mut n = Net::new(cfg());
        n.tick();
        // Ports first, then SPIs, each granted at once.
        assert!(is_port_request(&n.sent[0].1));
        match n.sent[0].1 {
            Message::PortRequest {
                class: PortClass::High,
                count: 32,
                ext: Some(e),
            } => assert_eq!((e.epoch, e.lease), (0, 0)),
            ref m => panic!("{m:?}"),
        }
        assert!(matches!(
            n.sent[1].1,
            Message::SpiRequest {
                count: 256,
                ext: Some(Trailer { epoch: EPOCH, .. })
            }
        ));
        assert_eq!(n.c.epoch(), EPOCH);
        let p = n.ports();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].block, pb(20000, 32));
        assert_eq!(
            (p[0].lease, p[0].expires_at, p[0].renew_at),
            (LEASE, Some(1060), Some(1030))
        );
        assert_eq!(p[0].expires_in(1001), Some(59));
        let s = n.spis();
        assert_eq!(
            (s[0].block.lowest, s[0].block.count, s[0].expires_at),
            (0x1000, 256, Some(1060))
        );
        assert!(n.c.owns_port(20031) && !n.c.owns_port(20032));
        assert!(n.c.owns_spi(0x1000) && !n.c.owns_spi(0x1100));
        assert_eq!(n.c.stat(Stat::Granted), 2);
        assert_eq!(n.changes.len(), 2);
        assert_eq!(n.c.next_timeout(), Some(30));

        // Renewal at half the lease, with the block as granted.
        n.run(29);
        assert_eq!(n.sent.len(), 2);
        n.run(1);
        assert_eq!(n.sent.len(), 4);
        assert!(matches!(n.sent[2].1, Message::PortRenew { block, .. } if block == pb(20000, 32)));
        assert!(matches!(n.sent[3].1, Message::SpiRenew { .. }));
        assert_eq!(n.c.stat(Stat::Renewed), 2);
        assert_eq!(n.ports()[0].expires_at, Some(1090));
        assert_eq!(n.spis()[0].expires_at, Some(1090));
        assert_eq!(n.changes.len(), 2, "a renewal changes no table");

        // The router goes away: renewals are retried until the lease ends,
        // then the blocks are dropped, the router drops them too.
        n.down = true;
        n.run(59);
        assert_eq!(n.ports().len(), 1);
        assert!(n.count(|m| matches!(m, Message::PortRenew { .. })) > 3);
        n.run(1);
        assert!(n.ports().is_empty() && n.spis().is_empty());
        assert_eq!(n.c.stat(Stat::Expired), 2);
        assert_eq!(
            n.changes.last(),
            Some(&Changes {
                ports: true,
                spis: true,
                ..Changes::NONE
            })
        );
        n.r.s.t().expire(u64::from(n.now), |_| {});
        assert_eq!((n.r.host_ports(), n.r.host_spis()), (0, 0));

        // It comes back: found again within one silent interval.
        n.down = false;
        n.run(21);
        assert_eq!(n.ports().len(), 1);
        assert_eq!(n.spis().len(), 1);
    }

    #[test]
    fn lost_reply_is_retransmitted_with_the_same_xid_and_granted_once() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.lose_replies = 1;
        n.tick();
        assert!(n.ports().is_empty());
        assert_eq!(n.r.host_ports(), 32);
        n.run(1);
        assert_eq!(n.sent.len(), 2);
        assert_eq!(xid(&n.sent[0].1), xid(&n.sent[1].1));
        assert_eq!(n.ports().len(), 1);
        // The router answered from its reply cache: still one block.
        assert_eq!(n.r.host_ports(), 32);
        assert_eq!(n.c.stat(Stat::Retransmits), 1);
        // The lease counts from the first transmission.
        assert_eq!(n.ports()[0].expires_at, Some(1000 + LEASE));
        // A late duplicate of that reply matches nothing.
        let dup = Message::PortResponse {
            result: Ok(pb(20000, 32)),
            ext: Some(Trailer {
                xid: xid(&n.sent[0].1),
                epoch: EPOCH,
                lease: LEASE,
            }),
        };
        assert_eq!(n.deliver(&dup), Event::Ignored(Ignored::Unmatched));
        assert_eq!(n.c.stat(Stat::Granted), 1);
    }

    #[test]
    fn backoff_then_silent_router_is_still_found() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.down = true;
        n.tick();
        n.run(200);
        let times: Vec<u32> = n.sent.iter().map(|(t, _)| *t).collect();
        let gaps: Vec<u32> = times.windows(2).map(|w| w[1] - w[0]).collect();
        // 1, 2, 4 +-1, 8 +-2, then 16 +-4 (the last wait of the first
        // transaction, then one transmission per silent transaction).
        assert_eq!(&gaps[..2], &[1, 2]);
        assert!((3..=5).contains(&gaps[2]), "{gaps:?}");
        assert!((6..=10).contains(&gaps[3]), "{gaps:?}");
        assert!(gaps[4..].iter().all(|g| (12..=20).contains(g)), "{gaps:?}");
        assert!(gaps.len() > 10);
        // The same transaction for up to XID_REUSE_MAX seconds, then a
        // new one.
        let x0 = xid(&n.sent[0].1);
        for (t, m) in &n.sent {
            assert_eq!(xid(m) == x0, *t < 1000 + XID_REUSE_MAX, "{t}");
        }
        assert!(n.c.stat(Stat::GivenUp) >= 2);
        assert_eq!(
            n.c.outstanding().map(|m| xid(&m)),
            Some(xid(&n.sent.last().unwrap().1))
        );
        n.down = false;
        n.run(20);
        assert_eq!(n.ports().len(), 1);
        assert_eq!(n.r.host_ports(), 32);
        // A fresh lease.
        assert!(n.ports()[0].expires_in(n.now).unwrap() > LEASE - 21);
        // Heard from the router: the back-off starts at 1 s again.
        let before = n.sent.len();
        n.in_use = 30;
        n.down = true;
        n.run(4);
        assert_eq!(n.sent.len() - before, 3, "{:?}", &n.sent[before..]);
    }

    #[test]
    fn router_restart_broadcast_then_request_again() {
        let mut n = Net::new(cfg());
        n.tick();
        assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
        let b = n.r.restart(0x77c1_0002);
        let ev = n.deliver(&b);
        assert_eq!(
            ev,
            Event::Changed(Changes {
                ports: true,
                spis: true,
                sas: true,
                epoch: true
            })
        );
        assert!(n.ports().is_empty() && n.spis().is_empty());
        assert_eq!(n.c.epoch(), 0x77c1_0002);
        assert_eq!(n.c.stat(Stat::EpochChanges), 1);
        // Ports at once; SPIs after the grace left to hosts that ask their
        // old SPI blocks back.
        n.run(1);
        assert_eq!((n.ports().len(), n.spis().len()), (1, 0));
        n.run(RECLAIM_GRACE);
        assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
        assert_eq!(n.sent[2].1.ext().unwrap().epoch, 0x77c1_0002);
        // The same broadcast again changes nothing more.
        assert!(matches!(
            n.deliver(&b),
            Event::Changed(Changes {
                epoch: false,
                ports: true,
                ..
            })
        ));
    }

    #[test]
    fn missed_restart_is_noticed_in_the_next_reply() {
        let mut n = Net::new(cfg());
        n.tick();
        let _ = n.r.restart(0x77c1_0002); // broadcast lost
        n.run(30);
        // The renewal is refused (not_owned) with the new epoch: the client
        // drops everything and asks again at once (SPIs after the grace).
        n.run(RECLAIM_GRACE);
        assert_eq!(n.c.stat(Stat::EpochChanges), 1);
        assert!(n
            .events
            .iter()
            .any(|e| matches!(e, Event::Changed(Changes { epoch: true, .. }))));
        assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
        assert_eq!(n.c.epoch(), 0x77c1_0002);
        assert_eq!((n.r.host_ports(), n.r.host_spis()), (32, 256));
    }

    #[test]
    fn restart_while_a_request_is_outstanding_rekeys_it() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.tick();
        n.in_use = 30;
        n.lose_requests = 1;
        n.run(1);
        let first = n.c.outstanding().unwrap();
        assert!(is_port_request(&first));
        let b = n.r.restart(0x77c1_0002);
        n.deliver(&b);
        let again = n.c.outstanding().unwrap();
        assert!(is_port_request(&again));
        assert_ne!(xid(&first), xid(&again));
        // Sent at the next poll, without waiting for the back-off.
        n.in_use = 0;
        n.tick();
        assert_eq!(n.ports().len(), 1);
        assert_eq!(n.r.host_ports(), 32);
    }

    #[test]
    fn low_water_asks_for_more_up_to_the_maximum() {
        let mut n = Net::new(Config {
            port_block: 16,
            low_water: 8,
            max_port_blocks: 3,
            want_spis: false,
            ..cfg()
        });
        n.tick();
        assert_eq!(n.c.ports_held(), 16);
        n.in_use = 8;
        n.run(5);
        assert_eq!(n.c.ports_held(), 16, "8 free is not below 8");
        n.in_use = 9;
        n.run(1);
        assert_eq!(n.c.ports_held(), 32);
        n.run(5);
        assert_eq!(n.c.ports_held(), 32);
        n.in_use = 30;
        n.run(1);
        assert_eq!(n.c.ports_held(), 48);
        n.in_use = 48;
        n.run(20);
        assert_eq!(n.c.ports_held(), 48, "at most 3 blocks");
        assert_eq!(n.count(is_port_request), 3);
        assert_eq!(n.r.host_ports(), 48);
    }

    #[test]
    fn over_quota_stops_asking_until_a_block_is_given_back() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.r.s
            .t()
            .set_quota(H1, Some(Quota { ports: 32, spis: 0 }))
            .unwrap();
        n.tick();
        n.in_use = 30;
        n.run(1);
        assert_eq!(n.events.last(), Some(&Event::Refused(Reason::OverQuota)));
        assert_eq!(n.c.last_refusal(), Some(Reason::OverQuota));
        n.run(600);
        assert_eq!(n.count(is_port_request), 2, "no hammering");
        assert_eq!(n.c.stat(Stat::RefusedOverQuota), 1);
        assert_eq!(n.ports().len(), 1, "renewed meanwhile");
        // Giving the block back lifts the hold; with nothing held the
        // client asks again, after the release.
        let b = n.ports()[0].block;
        assert!(n.c.release_ports(b));
        assert!(!n.c.release_ports(b));
        n.in_use = 0;
        n.run(1);
        let tail: Vec<_> = n.sent.iter().rev().take(2).map(|(_, m)| *m).collect();
        assert!(is_port_request(&tail[0]));
        assert!(matches!(tail[1], Message::PortBlockInvalidate { block, .. } if block == b));
        assert_eq!(n.c.stat(Stat::Released), 1);
        assert_eq!(n.ports().len(), 1);
        assert_eq!(n.r.host_ports(), 32);
    }

    #[test]
    fn no_space_backs_off_and_asks_for_less() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        // Another host holds all but 10 ports... then all of them.
        for _ in 0..3 {
            serve(
                &mut n.r.s.t(),
                H2,
                &Message::PortRequest {
                    class: PortClass::High,
                    count: 30,
                    ext: None,
                },
                1000,
                EPOCH,
            );
        }
        serve(
            &mut n.r.s.t(),
            H2,
            &Message::PortRequest {
                class: PortClass::High,
                count: 10,
                ext: None,
            },
            1000,
            EPOCH,
        );
        n.tick();
        assert_eq!(n.events.last(), Some(&Event::Refused(Reason::NoSpace)));
        n.run(200);
        let asks: Vec<(u32, u8)> = n
            .sent
            .iter()
            .filter_map(|(t, m)| match m {
                Message::PortRequest { count, .. } => Some((*t, *count)),
                _ => None,
            })
            .collect();
        assert_eq!(
            asks,
            vec![(1000, 32), (1016, 16), (1048, 8), (1112, 4)],
            "16, 32, 64 s apart, half the count each time"
        );
        assert!(n.ports().is_empty());
    }

    #[test]
    fn revoked_host_stops_asking() {
        let mut n = Net::new(cfg());
        n.tick();
        n.r.s.t().revoke_host(H1, |_| {}).unwrap();
        n.r.grace();
        let m = n.r.unsolicited_all();
        assert!(matches!(
            n.deliver(&m),
            Event::Changed(Changes {
                ports: true,
                spis: true,
                sas: true,
                epoch: false
            })
        ));
        n.run(600);
        assert_eq!(n.count(is_port_request), 2);
        assert_eq!(n.c.stat(Stat::RefusedRevoked), 1);
        assert!(n.ports().is_empty());
        n.r.s.t().readmit_host(H1).unwrap();
        n.c.retry_now();
        n.run(1);
        assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
    }

    #[test]
    fn router_invalidations_drop_what_they_name() {
        let mut n = Net::new(Config {
            port_block: 16,
            low_water: 20,
            max_port_blocks: 2,
            ..cfg()
        });
        n.tick();
        assert_eq!(n.c.ports_held(), 32);
        let ext = Some(n.r.unsolicited());
        // One port: the router retires the whole block, so does the host.
        n.r.s.t().invalidate_port(None, 20005).unwrap();
        let m = Message::PortInvalidate {
            dir: Direction::ToHost,
            port: 20005,
            ext,
        };
        assert!(matches!(
            n.deliver(&m),
            Event::Changed(Changes {
                ports: true,
                spis: false,
                ..
            })
        ));
        assert_eq!(n.ports().len(), 1);
        assert!(!n.c.owns_port(20000) && n.c.owns_port(20016));
        assert_eq!(n.r.host_ports(), 16);
        // Something not held: nothing happens.
        assert_eq!(n.deliver(&m), Event::Nothing);
        // A block.
        let m = Message::PortBlockInvalidate {
            dir: Direction::ToHost,
            block: pb(20016, 16),
            ext,
        };
        assert!(matches!(
            n.deliver(&m),
            Event::Changed(Changes { ports: true, .. })
        ));
        assert!(n.ports().is_empty());
        // An SPI block, and an SPI.
        let s = n.spis()[0].block;
        let m = Message::SpiInvalidate {
            dir: Direction::ToHost,
            spi: s.lowest + 7,
            ext,
        };
        assert!(matches!(
            n.deliver(&m),
            Event::Changed(Changes {
                spis: true,
                ports: false,
                ..
            })
        ));
        assert!(n.spis().is_empty());
        n.r.s.t().invalidate_all(None, |_| {});
        n.r.grace();
        n.run(1);
        assert_eq!((n.c.ports_held(), n.spis().len()), (32, 1));
        let s = n.spis()[0].block;
        let m = Message::SpiBlockInvalidate {
            dir: Direction::ToHost,
            block: s,
            ext,
        };
        assert!(matches!(
            n.deliver(&m),
            Event::Changed(Changes { spis: true, .. })
        ));
        assert!(n.spis().is_empty() && n.c.ports_held() == 32);
        assert_eq!(n.c.stat(Stat::Invalidations), 5);
        // Base-format invalidations (no trailer) are applied too.
        let m = Message::InvalidateAll {
            dir: Direction::ToHost,
            scope: scope::PORTS,
            ext: None,
        };
        assert_eq!(
            n.deliver(&m),
            Event::Changed(Changes {
                ports: true,
                ..Changes::NONE
            })
        );
    }

    #[test]
    fn the_blacklist_is_resent_even_behind_many_validations() {
        let mut n = Net::new(cfg());
        n.tick();
        for i in 0..20 {
            n.c.validate(PEER, 0x1000 + i).unwrap();
            n.tick();
        }
        n.c.blacklist_add(Some(ATTACKER), None).unwrap();
        n.tick();
        assert!(n.r.blacklisted(ATTACKER, 0x1000));
        let b = n.r.restart(EPOCH + 1);
        n.deliver(&b);
        // More stale validations than the SA queue holds: the blacklist
        // entry waits its turn instead of being forgotten.
        for _ in 0..5 {
            n.tick();
        }
        assert!(n.r.validated(PEER, 0x1000 + 19));
        assert!(n.r.blacklisted(ATTACKER, 0x1000));
    }

    #[test]
    fn a_pinned_block_the_router_keeps_is_held_again() {
        let mut n = Net::new(cfg());
        n.tick();
        let b = n.ports()[0].block;
        // The router's CA pinned the block (a certificate names it).
        n.r.s
            .t()
            .pin(
                H1,
                crate::alloc_table::Kind::Port,
                u32::from(b.lowest),
                u32::from(b.count),
                600,
                u64::from(n.now),
            )
            .unwrap();
        assert!(n.c.release_ports(b));
        assert!(n.ports().is_empty());
        let from = n.sent.len();
        n.tick();
        let sent = n.sent_since(from);
        // Refused (pinned): held again and renewed at once.
        assert_eq!(n.c.stat(Stat::RefusedPinned), 1);
        assert!(matches!(sent[0], Message::PortBlockInvalidate { .. }));
        assert!(matches!(sent[1], Message::PortRenew { block, .. } if block == b));
        assert_eq!(n.ports()[0].block, b);
        assert!(n.ports()[0].expires_at.is_some());
        assert_eq!(n.r.host_ports(), u32::from(b.count));
        // Not given back again for being unused (it would only be refused).
        assert!(!n.c.release_unused_ports(b));
        assert_eq!(n.ports()[0].block, b);
    }

    #[test]
    fn invalidation_forgets_a_pending_release_of_that_block() {
        let mut n = Net::new(Config {
            want_spis: false,
            port_block: 16,
            low_water: 20,
            max_port_blocks: 2,
            ..cfg()
        });
        n.tick();
        n.down = true;
        assert!(n.c.release_ports(pb(20000, 16)));
        n.tick();
        assert!(matches!(
            n.c.outstanding(),
            Some(Message::PortBlockInvalidate { .. })
        ));
        let m = Message::PortBlockInvalidate {
            dir: Direction::ToHost,
            block: pb(20000, 16),
            ext: Some(n.r.unsolicited()),
        };
        assert_eq!(n.deliver(&m), Event::Nothing);
        assert!(!matches!(
            n.c.outstanding(),
            Some(Message::PortBlockInvalidate { .. })
        ));
    }

    #[test]
    fn unsolicited_duplicate_and_foreign_replies_are_ignored() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.tick();
        let granted = n.c.stat(Stat::Granted);
        let t = |xid, epoch| {
            Some(Trailer {
                xid,
                epoch,
                lease: 0,
            })
        };
        // A grant nobody asked for.
        let m = Message::PortResponse {
            result: Ok(pb(20040, 8)),
            ext: t(0xdead, EPOCH),
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Unmatched));
        // Not even with another epoch: no spurious restart.
        let m = Message::PortResponse {
            result: Ok(pb(20040, 8)),
            ext: t(0xdead, 0x0bad),
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Unmatched));
        assert_eq!(n.c.epoch(), EPOCH);
        // A base-format grant with no request outstanding.
        let m = Message::PortResponse {
            result: Ok(pb(20040, 8)),
            ext: None,
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Unmatched));
        // The right xid, the wrong answer: the request stays outstanding.
        n.in_use = 30;
        n.lose_requests = 1;
        n.run(1);
        let req = n.c.outstanding().unwrap();
        let m = Message::SpiResponse {
            result: Err(Reason::NoSpace),
            ext: t(xid(&req), EPOCH),
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::WrongReply));
        let m = Message::Ack {
            acked: Acked::PortBlockInvalidate,
            result: Ok(()),
            ext: Trailer {
                xid: xid(&req),
                epoch: EPOCH,
                lease: 0,
            },
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::WrongReply));
        assert_eq!(n.c.outstanding(), Some(req));
        // Messages to the router, invalid messages.
        assert_eq!(n.deliver(&req), Event::Ignored(Ignored::NotForHost));
        let m = Message::PortResponse {
            result: Ok(pb(0, 8)),
            ext: t(xid(&req), EPOCH),
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Invalid));
        let m = Message::InvalidateAll {
            dir: Direction::ToHost,
            scope: scope::ALL,
            ext: t(xid(&req), EPOCH),
        };
        assert_eq!(n.deliver(&m), Event::Ignored(Ignored::Invalid));
        assert_eq!(n.c.stat(Stat::Granted), granted);
        assert_eq!(n.ports().len(), 1);
        assert_eq!(n.c.stat(Stat::IgnoredUnmatched), 3);
        assert_eq!(n.c.stat(Stat::IgnoredWrongReply), 2);
        // The real answer still works.
        n.run(2);
        assert_eq!(n.ports().len(), 2);
    }

    #[test]
    fn base_format_router_reply_is_matched_by_type() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.down = true;
        n.tick();
        let m = Message::PortResponse {
            result: Ok(pb(30000, 32)),
            ext: None,
        };
        assert!(matches!(n.deliver(&m), Event::Changed(_)));
        let p = n.ports();
        assert_eq!(
            (p[0].block, p[0].lease, p[0].expires_at),
            (pb(30000, 32), 0, None)
        );
        assert_eq!(n.c.epoch(), 0);
        assert_eq!(n.c.outstanding(), None);
        n.run(10_000);
        assert_eq!(n.sent.len(), 1, "no lease, nothing to renew");
    }

    #[test]
    fn release_all_sends_one_invalidate_all_and_stops() {
        let mut n = Net::new(cfg());
        n.tick();
        let ch = n.c.release_all();
        assert_eq!(
            ch,
            Changes {
                ports: true,
                spis: true,
                ..Changes::NONE
            }
        );
        assert!(n.c.is_stopped() && !n.c.is_idle());
        assert!(n.ports().is_empty() && n.spis().is_empty());
        n.tick();
        match n.sent.last().unwrap().1 {
            Message::InvalidateAll {
                dir: Direction::ToRouter,
                scope: scope::ALL,
                ext: Some(e),
            } => {
                assert_ne!(e.xid, 0);
                assert_eq!((e.epoch, e.lease), (EPOCH, 0));
            }
            ref m => panic!("{m:?}"),
        }
        assert!(n.c.is_idle());
        assert_eq!(n.c.stat(Stat::Released), 1);
        assert_eq!((n.r.host_ports(), n.r.host_spis()), (0, 0));
        let sent = n.sent.len();
        n.run(1000);
        assert_eq!(n.sent.len(), sent);
    }

    #[test]
    fn release_all_is_given_up_after_five_transmissions() {
        let mut n = Net::new(cfg());
        n.tick();
        n.down = true;
        n.c.release_all();
        n.run(100);
        assert_eq!(n.sent.len(), 2 + usize::from(MAX_TRANSMISSIONS));
        assert!(n.c.is_idle());
        assert_eq!(n.c.stat(Stat::GivenUp), 1);
    }

    #[test]
    fn flush_on_start_comes_first() {
        let mut n = Net::new(Config {
            flush_on_start: true,
            ..Config::DEFAULT
        });
        n.tick();
        assert!(matches!(
            n.sent[0].1,
            Message::InvalidateAll {
                scope: scope::ALL,
                ..
            }
        ));
        // The router does not know the host yet: refused, and that is fine.
        assert_eq!(n.events[0], Event::Refused(Reason::NotOwned));
        assert!(is_port_request(&n.sent[1].1));
        assert_eq!((n.ports().len(), n.spis().len()), (1, 1));

        // Without a router: requests wait until the flush is given up.
        let mut n = Net::new(Config {
            flush_on_start: true,
            ..Config::DEFAULT
        });
        n.down = true;
        n.run(60);
        let first_request = n.sent.iter().position(|(_, m)| is_port_request(m));
        assert_eq!(first_request, Some(usize::from(MAX_TRANSMISSIONS)));
    }

    #[test]
    fn renewal_refused_not_owned_drops_the_block() {
        let mut n = Net::new(Config {
            want_spis: false,
            ..cfg()
        });
        n.tick();
        // The router retires the block without telling (e.g. a pool change).
        n.r.s
            .t()
            .invalidate_block(None, Kind::Port, 20000, Some(32))
            .unwrap();
        n.r.grace();
        n.run(30);
        assert!(n
            .events
            .iter()
            .any(|e| matches!(e, Event::Changed(Changes { ports: true, .. }))));
        assert_eq!(n.c.stat(Stat::RefusedNotOwned), 1);
        // ... and a new one was requested at once.
        assert_eq!(n.ports().len(), 1);
        assert_eq!(n.r.host_ports(), 32);
    }

    #[test]
    fn clock_wraps_and_goes_backwards() {
        let mut n = Net::start_at(
            Config {
                want_spis: false,
                ..cfg()
            },
            u32::MAX - 10,
        );
        // The router's clock is u64; keep it consistent in the test only
        // until the wrap by not letting it expire anything.
        n.tick();
        let p = n.ports()[0];
        assert_eq!(p.expires_at, Some((u32::MAX - 10).wrapping_add(LEASE)));
        assert_eq!(p.expires_in(u32::MAX - 10), Some(LEASE));
        n.run(40); // across the wrap: renewed at half the lease
        assert_eq!(n.c.stat(Stat::Renewed), 1);
        let p = n.ports()[0];
        assert_eq!(p.expires_at, Some((u32::MAX - 10).wrapping_add(30 + LEASE)));
        // Backwards by an hour: time stands still, nothing expires early,
        // nothing is sent.
        let sent = n.sent.len();
        n.now = n.now.wrapping_sub(3600);
        n.tick();
        assert_eq!(n.sent.len(), sent);
        assert_eq!(n.ports().len(), 1);
        assert_eq!(p.expires_in(n.now.wrapping_add(3600 + 100)), Some(0));
    }

    #[test]
    fn requests_on_demand() {
        let mut n = Net::new(Config {
            max_port_blocks: 1,
            ..cfg()
        });
        n.tick();
        assert_eq!((n.ports().len(), n.spis().len()), (1, 1));
        assert!(n.c.request_ports(8));
        assert!(!n.c.request_ports(8), "one at a time");
        assert!(!n.c.request_spis(0));
        assert!(n.c.request_spis(16));
        assert_eq!(n.c.next_timeout(), Some(0));
        n.tick();
        assert_eq!(n.c.ports_held(), 40, "beyond max_port_blocks");
        let s: Vec<u16> = n.spis().iter().map(|h| h.block.count).collect();
        assert_eq!(s, vec![256, 16]);
        // Refused: not retried.
        n.r.s
            .t()
            .set_quota(H1, Some(Quota { ports: 40, spis: 0 }))
            .unwrap();
        assert!(n.c.request_ports(8));
        n.run(100);
        assert_eq!(n.count(is_port_request), 3);
        assert_eq!(n.c.stat(Stat::RefusedOverQuota), 1);
        n.c.release_all();
        assert!(!n.c.request_ports(8));
    }

    #[test]
    fn config_is_validated() {
        assert!(Client::new(Config::DEFAULT, 0).is_ok());
        let bad = |c: Config| Client::new(c, 1).unwrap_err();
        assert_eq!(
            bad(Config {
                port_block: 0,
                ..Config::DEFAULT
            }),
            ConfigError::ZeroPortBlock
        );
        assert_eq!(
            bad(Config {
                spi_block: 0,
                ..Config::DEFAULT
            }),
            ConfigError::ZeroSpiBlock
        );
        assert!(Client::new(
            Config {
                spi_block: 0,
                want_spis: false,
                ..Config::DEFAULT
            },
            1
        )
        .is_ok());
        for m in [0, MAX_BLOCKS + 1] {
            assert_eq!(
                bad(Config {
                    max_port_blocks: m,
                    ..Config::DEFAULT
                }),
                ConfigError::MaxPortBlocks
            );
        }
    }

    #[test]
    fn xids_are_nonzero_and_do_not_repeat_soon() {
        let mut c = Client::new(cfg(), 0).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100_000 {
            let x = c.rand();
            assert_ne!(x, 0);
            assert!(seen.insert(x));
        }
    }

    #[test]
    fn stat_names_are_unique_and_indexed() {
        for (i, s) in Stat::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert!(Stat::ALL.iter().filter(|o| o.name() == s.name()).count() == 1);
        }
        for r in Reason::ALL {
            assert!(Stat::refused(r).name().ends_with(r.name()));
        }
    }

    // ----- SA notices -----

    const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);
    const PEER2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 4);
    const PEER3: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 5);
    const ATTACKER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

    fn rec(addr: Ipv4Addr, spi: u32, state: SaRecordState) -> SaRecord {
        SaRecord { addr, spi, state }
    }

    fn sa_ev(kind: SaNoticeKind, addr: Ipv4Addr, spi: u32, result: Result<(), Reason>) -> Event {
        Event::SaNotice {
            kind,
            addr: Some(addr),
            spi: Some(spi),
            result,
        }
    }

    fn is_sa_message(m: &Message) -> bool {
        matches!(
            m,
            Message::SaValidate { .. }
                | Message::SaInvalidate { .. }
                | Message::BlacklistAdd { .. }
                | Message::BlacklistRemove { .. }
        )
    }

    fn is_validation(m: &Message, a: Ipv4Addr, s: u32) -> bool {
        matches!(*m, Message::SaValidate { addr, spi, .. } if addr == a && spi == s)
    }

    impl Net {
        fn records(&self) -> Vec<SaRecord> {
            self.c.sa_records().collect()
        }

        fn states(&self) -> Vec<SaRecordState> {
            self.c.sa_records().map(|r| r.state).collect()
        }

        /// The messages sent from index `from` on.
        fn sent_since(&self, from: usize) -> Vec<Message> {
            self.sent[from..].iter().map(|(_, m)| *m).collect()
        }
    }

    #[test]
    fn validation_is_applied_recorded_and_invalidated() {
        let mut n = Net::new(cfg());
        n.tick();
        let spi = n.spis()[0].block.lowest;
        assert_eq!(spi, 0x1000);
        assert_eq!(n.c.validate(PEER, spi), Ok(()));
        assert_eq!(
            n.c.sa_notices().collect::<Vec<_>>(),
            vec![SaNotice {
                kind: SaNoticeKind::Validate,
                addr: Some(PEER),
                spi: Some(spi),
            }]
        );
        assert_eq!(n.records(), vec![rec(PEER, spi, SaRecordState::Pending)]);
        assert_eq!(n.c.next_timeout(), Some(0));
        assert!(!n.c.is_idle());
        let from = n.sent.len();
        n.tick();
        let sent = n.sent_since(from);
        assert_eq!(sent.len(), 1);
        match sent[0] {
            Message::SaValidate {
                addr,
                spi: s,
                ext: Some(e),
            } => assert_eq!((addr, s, e.epoch, e.lease), (PEER, spi, EPOCH, 0)),
            ref m => panic!("{m:?}"),
        }
        assert_eq!(
            n.events.last(),
            Some(&sa_ev(SaNoticeKind::Validate, PEER, spi, Ok(())))
        );
        assert!(n.r.validated(PEER, spi));
        assert!(!n.r.validated(PEER2, spi));
        assert_eq!(n.records(), vec![rec(PEER, spi, SaRecordState::Validated)]);
        assert_eq!(n.c.sa_notices().count(), 0);
        assert!(n.c.is_idle());
        assert_eq!(
            (
                n.c.stat(Stat::SaNoticesSent),
                n.c.stat(Stat::SaNoticesApplied)
            ),
            (1, 1)
        );
        assert_eq!((n.c.stat(Stat::Notices), n.c.stat(Stat::Released)), (0, 0));

        // The SA ends: the record goes at once, the router drops the SA.
        assert_eq!(n.c.invalidate(PEER, spi), Ok(()));
        assert!(n.records().is_empty());
        n.tick();
        assert!(matches!(
            n.sent.last().unwrap().1,
            Message::SaInvalidate {
                addr: PEER,
                spi: 0x1000,
                ext: Some(_)
            }
        ));
        assert_eq!(
            n.events.last(),
            Some(&sa_ev(SaNoticeKind::Invalidate, PEER, spi, Ok(())))
        );
        assert!(!n.r.validated(PEER, spi));
        assert_eq!(n.r.sas(), 0);
        // Invalidating it again is "done" at the router.
        n.c.invalidate(PEER, spi).unwrap();
        n.tick();
        assert_eq!(
            n.events.last(),
            Some(&sa_ev(SaNoticeKind::Invalidate, PEER, spi, Ok(())))
        );
        assert_eq!(
            (
                n.c.stat(Stat::SaNoticesSent),
                n.c.stat(Stat::SaNoticesApplied)
            ),
            (3, 3)
        );
    }

    #[test]
    fn sa_notices_refused_locally() {
        use SaNoticeError::*;
        let mut n = Net::new(cfg());
        // Nothing held yet.
        assert_eq!(n.c.validate(PEER, 0x1000), Err(NotHeld));
        assert_eq!(n.c.blacklist_add(Some(ATTACKER), None), Err(NotHeld));
        n.tick();
        assert_eq!(
            n.c.validate(PEER, 0x1100),
            Err(NotHeld),
            "not in 0x1000-0x10ff"
        );
        assert_eq!(n.c.validate(PEER, 0x0fff), Err(NotHeld));
        assert_eq!(n.c.validate(PEER, 255), Err(Invalid));
        for a in [
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(224, 0, 0, 1),
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(240, 0, 0, 1),
        ] {
            assert_eq!(n.c.validate(a, 0x1000), Err(Invalid), "{a}");
            assert_eq!(n.c.blacklist_add(Some(a), None), Err(Invalid), "{a}");
        }
        assert_eq!(n.c.blacklist_add(None, None), Err(Invalid));
        assert_eq!(n.c.blacklist_remove(None, None), Err(Invalid));
        assert_eq!(n.c.blacklist_remove(None, Some(7)), Err(Invalid));
        assert_eq!(
            n.c.blacklist_add(Some(ATTACKER), Some(0x1100)),
            Err(NotHeld)
        );
        assert_eq!(n.c.invalidate(PEER, 0x1100), Err(NotHeld));
        assert_eq!(n.c.sa_notices().count(), 0);
        assert!(n.records().is_empty());
        let sent = n.sent.len();
        n.run(5);
        assert_eq!(n.sent.len(), sent, "nothing sent");
        n.c.release_all();
        assert_eq!(n.c.validate(PEER, 0x1000), Err(Stopped));
        assert_eq!(n.c.blacklist_remove(Some(ATTACKER), None), Err(Stopped));
        for e in [Stopped, Invalid, NotHeld, QueueFull, RecordsFull] {
            assert!(e.errno() > 0 && !e.message().is_empty());
        }
    }

    #[test]
    fn router_refusals_surface_in_the_event() {
        let mut n = Net::new(cfg());
        n.tick();
        // A peer inside the router's LAN prefix.
        let lan_peer = Ipv4Addr::new(10, 0, 0, 9);
        n.c.validate(lan_peer, 0x1000).unwrap();
        n.tick();
        assert_eq!(
            n.events.last(),
            Some(&sa_ev(
                SaNoticeKind::Validate,
                lan_peer,
                0x1000,
                Err(Reason::Unspecified)
            ))
        );
        assert!(n.records().is_empty(), "a refused validation is not kept");
        assert_eq!(n.c.stat(Stat::SaNoticesRefused), 1);
        assert_eq!(n.c.stat(Stat::RefusedUnspecified), 1);
        assert_eq!(n.c.last_refusal(), Some(Reason::Unspecified));
        // The router retires the SPI block without telling: `not_owned`.
        n.r.s
            .t()
            .invalidate_block(None, Kind::Spi, 0x1000, Some(256))
            .unwrap();
        n.r.grace();
        n.c.validate(PEER, 0x1001).unwrap();
        n.tick();
        assert_eq!(
            n.events.last(),
            Some(&sa_ev(
                SaNoticeKind::Validate,
                PEER,
                0x1001,
                Err(Reason::NotOwned)
            ))
        );
        assert!(n.records().is_empty());
        assert_eq!(n.c.stat(Stat::SaNoticesRefused), 2);
        assert_eq!(n.spis().len(), 1, "the block goes at its renewal");
    }

    #[test]
    fn lost_ack_is_retransmitted_with_the_same_xid_and_answered_from_the_cache() {
        let mut n = Net::new(cfg());
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.lose_replies = 1;
        let from = n.sent.len();
        n.tick();
        assert!(n.r.validated(PEER, 0x1000), "applied, the ack lost");
        assert_eq!(n.states(), vec![SaRecordState::Pending]);
        n.run(1);
        let sent = n.sent_since(from);
        assert_eq!(sent.len(), 2);
        assert!(sent.iter().all(|m| is_validation(m, PEER, 0x1000)));
        assert_eq!(xid(&sent[0]), xid(&sent[1]));
        assert_eq!(n.r.replayed, 1);
        assert_eq!(
            n.events.last(),
            Some(&sa_ev(SaNoticeKind::Validate, PEER, 0x1000, Ok(())))
        );
        assert_eq!(n.states(), vec![SaRecordState::Validated]);
        assert_eq!(n.c.stat(Stat::Retransmits), 1);
        assert_eq!(
            (
                n.c.stat(Stat::SaNoticesSent),
                n.c.stat(Stat::SaNoticesApplied)
            ),
            (1, 1)
        );
        // A late duplicate of the ack matches nothing.
        let dup = Message::Ack {
            acked: Acked::SaValidate,
            result: Ok(()),
            ext: Trailer {
                xid: xid(&sent[0]),
                epoch: EPOCH,
                lease: 0,
            },
        };
        assert_eq!(n.deliver(&dup), Event::Ignored(Ignored::Unmatched));
        // An ack naming another notice, with the outstanding xid, is not
        // the answer.
        n.c.validate(PEER2, 0x1000).unwrap();
        n.down = true;
        n.tick();
        let out = n.c.outstanding().unwrap();
        let wrong = Message::Ack {
            acked: Acked::SaInvalidate,
            result: Ok(()),
            ext: out.ext().unwrap(),
        };
        assert_eq!(n.deliver(&wrong), Event::Ignored(Ignored::WrongReply));
        assert_eq!(n.c.outstanding(), Some(out));
    }

    #[test]
    fn sa_notices_come_after_releases_and_renewals_before_requests_one_at_a_time() {
        let mut n = Net::new(cfg());
        n.tick();
        // Fewer than low_water ports free: a port request is due; SPIs are
        // asked for; SA notices are queued.
        n.in_use = 30;
        n.c.validate(PEER, 0x1000).unwrap();
        n.c.blacklist_add(Some(ATTACKER), None).unwrap();
        assert!(n.c.request_spis(16));
        n.c.validate(PEER2, 0x1001).unwrap();
        let from = n.sent.len();
        n.down = true;
        n.tick();
        // One transaction at a time: the validation is alone on the wire
        // (same xid) until it is given up.
        assert_eq!(n.sent_since(from).len(), 1);
        assert!(is_validation(&n.sent_since(from)[0], PEER, 0x1000));
        n.run(40);
        let sent = n.sent_since(from);
        assert_eq!(&sent[..5], &[sent[0]; 5], "{sent:?}");
        assert!(!is_validation(&sent[5], PEER, 0x1000));
        assert!(n.c.stat(Stat::SaNoticesDropped) >= 1);
        // The router comes back: everything gets through.
        n.down = false;
        n.run(40);
        assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1001));
        assert!(n.r.blacklisted(ATTACKER, 0x1000));
        assert_eq!(n.ports().len(), 2);

        // The order, the router up.
        let mut n = Net::new(cfg());
        n.tick();
        n.in_use = 30;
        n.c.validate(PEER, 0x1000).unwrap();
        n.c.blacklist_add(Some(ATTACKER), None).unwrap();
        assert!(n.c.request_spis(16));
        n.now += LEASE / 2; // both renewals due
                            // A release queued last still goes first.
        n.c.release_spis(n.spis()[0].block);
        let from = n.sent.len();
        n.tick();
        let kinds: Vec<(u8, u8)> = n.sent_since(from).iter().map(|m| m.type_code()).collect();
        assert_eq!(
            kinds,
            vec![
                (33, 3), // the release
                (32, 4), // the renewal (the SPI block is gone)
                (34, 1), // the blacklist entry (the validation went with the block)
                (33, 0), // the requested SPIs
                (32, 1), // the port request (the requested SPIs are held)
            ]
        );
        assert_eq!(n.c.stat(Stat::SaNoticesDropped), 1);
    }

    #[test]
    fn router_restart_revalidates_after_the_spis_are_granted_again() {
        let mut n = Net::new(cfg());
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.c.validate(PEER2, 0x1010).unwrap();
        n.c.blacklist_add(Some(ATTACKER), None).unwrap();
        n.tick();
        assert_eq!(n.r.sas(), 2);
        assert!(n.r.blacklisted(ATTACKER, 0x1000));
        // A notice still queued when the router restarts goes.
        n.c.validate(PEER3, 0x1020).unwrap();
        let old = n.spis()[0].block;
        let b = n.r.restart(EPOCH + 1);
        n.now += 1;
        assert_eq!(
            n.deliver(&b),
            Event::Changed(Changes {
                ports: true,
                spis: true,
                sas: true,
                epoch: true,
            })
        );
        assert_eq!(
            n.records(),
            vec![
                rec(PEER, 0x1000, SaRecordState::Stale),
                rec(PEER2, 0x1010, SaRecordState::Stale),
                rec(PEER3, 0x1020, SaRecordState::Stale),
            ]
        );
        assert_eq!(n.c.sa_notices().count(), 0);
        assert_eq!(n.c.stat(Stat::SaNoticesDropped), 1);
        assert_eq!(n.r.sas(), 0);
        // The old SPI block first (a renewal: the new router still has it
        // free and grants it back), the validations in record order, the
        // blacklist entry, then ports.
        let from = n.sent.len();
        n.tick();
        let sent = n.sent_since(from);
        assert_eq!(sent.len(), 6, "{sent:?}");
        assert!(matches!(sent[0], Message::SpiRenew { block, .. } if block == old));
        assert!(is_validation(&sent[1], PEER, 0x1000));
        assert!(is_validation(&sent[2], PEER2, 0x1010));
        assert!(is_validation(&sent[3], PEER3, 0x1020));
        assert!(
            matches!(sent[4], Message::BlacklistAdd { addr: Some(a), spi: None, .. } if a == ATTACKER)
        );
        assert!(is_port_request(&sent[5]));
        assert_eq!(n.spis()[0].block, old);
        assert_eq!(n.c.stat(Stat::Reclaimed), 1);
        assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1010));
        assert!(n.r.validated(PEER3, 0x1020));
        assert!(n.states().iter().all(|&s| s == SaRecordState::Validated));
        // The blacklist entry was sent again once a block backed it.
        assert!(n.r.blacklisted(ATTACKER, 0x1000));
        assert_eq!(n.c.stat(Stat::SaNoticesSent), 7);
        // Removed, it is not sent after the next restart.
        n.c.blacklist_remove(Some(ATTACKER), None).unwrap();
        n.tick();
        assert!(!n.r.blacklisted(ATTACKER, 0x1000));

        // Again, but this time another host gets those SPIs first: the
        // renewal is refused, the host gets another block, and the records
        // stay stale (flagged: their SAs get no traffic) until invalidated.
        let b = n.r.restart(EPOCH + 2);
        n.r.s
            .t()
            .request_spis(H2, 256, 0, u64::from(n.now))
            .unwrap();
        n.deliver(&b);
        let from = n.sent.len();
        n.tick();
        assert_eq!(n.spis()[0].block.lowest, 0x1100);
        assert_eq!(n.c.stat(Stat::Reclaimed), 1);
        assert!(n.states().iter().all(|&s| s == SaRecordState::Stale));
        assert_eq!(n.records().len(), 3);
        assert!(!n.sent_since(from).iter().any(is_sa_message));
        n.c.invalidate(PEER, 0x1000).unwrap_err();
    }

    #[test]
    fn restart_noticed_in_an_ack_keeps_the_record_for_later() {
        let mut n = Net::new(cfg());
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.tick();
        // The router restarts; the broadcast is lost; the next notice's
        // ack (refused: the SPI is nobody's) carries the new epoch.
        n.r.restart(EPOCH + 1);
        n.c.validate(PEER2, 0x1001).unwrap();
        let from = n.sent.len();
        let ev = n.events.len();
        n.tick();
        assert_eq!(
            n.events[ev],
            Event::Changed(Changes {
                ports: true,
                spis: true,
                sas: true,
                epoch: true,
            }),
            "the ack's refusal is not the event"
        );
        assert_eq!(n.c.stat(Stat::SaNoticesRefused), 1);
        let sent = n.sent_since(from);
        assert!(is_validation(&sent[0], PEER2, 0x1001));
        assert!(matches!(sent[1], Message::SpiRenew { .. }));
        assert!(is_validation(&sent[2], PEER, 0x1000));
        assert!(is_validation(&sent[3], PEER2, 0x1001));
        assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1001));
        assert_eq!(
            n.states(),
            vec![SaRecordState::Validated, SaRecordState::Validated]
        );
    }

    #[test]
    fn sa_scope_invalidate_all_revalidates_at_once() {
        let mut n = Net::new(cfg());
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.tick();
        // The administrator flushes H1's SAs at the router.
        let h1 = n.r.s.t().find_host(H1).unwrap();
        n.r.s.both().1.remove_host(h1);
        assert!(!n.r.validated(PEER, 0x1000));
        let m = Message::InvalidateAll {
            dir: Direction::ToHost,
            scope: scope::SA,
            ext: Some(n.r.unsolicited()),
        };
        assert_eq!(
            n.deliver(&m),
            Event::Changed(Changes {
                sas: true,
                ..Changes::NONE
            })
        );
        assert_eq!(n.states(), vec![SaRecordState::Stale]);
        assert_eq!(n.c.next_timeout(), Some(0));
        n.tick();
        assert!(n.r.validated(PEER, 0x1000));
        assert_eq!(n.states(), vec![SaRecordState::Validated]);
        // A flush racing with a validation: the ack of the validation sent
        // before the flush does not count, it is sent again.
        n.c.validate(PEER2, 0x1001).unwrap();
        n.lose_replies = 1;
        n.tick();
        n.r.s.both().1.remove_host(h1);
        n.deliver(&m);
        n.run(1); // the retransmission's cached ack, then both again
        assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1001));
        assert_eq!(
            n.states(),
            vec![SaRecordState::Validated, SaRecordState::Validated]
        );
    }

    #[test]
    fn losing_an_spi_block_drops_its_records_and_notices() {
        let mut n = Net::new(cfg());
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.tick();
        n.c.validate(PEER2, 0x1001).unwrap();
        n.c.blacklist_add(Some(ATTACKER), Some(0x1002)).unwrap();
        n.c.blacklist_add(Some(ATTACKER), None).unwrap();
        n.c.blacklist_remove(None, Some(0x1003)).unwrap();
        // The router takes the block back.
        let m = Message::SpiBlockInvalidate {
            dir: Direction::ToHost,
            block: n.spis()[0].block,
            ext: Some(n.r.unsolicited()),
        };
        assert!(matches!(
            n.deliver(&m),
            Event::Changed(Changes { spis: true, .. })
        ));
        assert!(n.records().is_empty());
        assert_eq!(
            n.c.sa_notices().collect::<Vec<_>>(),
            vec![SaNotice {
                kind: SaNoticeKind::BlacklistAdd,
                addr: Some(ATTACKER),
                spi: None,
            }]
        );
        assert_eq!(n.c.stat(Stat::SaNoticesDropped), 3);
        // Granted again (the same SPIs): nothing to validate.
        n.r.s
            .t()
            .invalidate_block(None, Kind::Spi, 0x1000, Some(256))
            .unwrap();
        n.r.grace();
        let from = n.sent.len();
        n.tick();
        let sent = n.sent_since(from);
        assert_eq!(sent.len(), 2);
        assert!(matches!(sent[0], Message::BlacklistAdd { spi: None, .. }));
        assert!(matches!(sent[1], Message::SpiRequest { .. }));
        assert!(n.records().is_empty());
        // Expiry drops them too.
        n.c.validate(PEER, 0x1000).unwrap();
        n.tick();
        n.down = true;
        n.run(LEASE);
        assert!(n.spis().is_empty());
        assert!(n.records().is_empty());
    }

    #[test]
    fn given_up_validation_probes_a_silent_router_when_nothing_else_is_due() {
        let mut n = Net::new(cfg());
        n.r = Router::with(Settings {
            default_lease: 600,
            ..Settings::DEFAULT
        });
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.down = true;
        n.run(20);
        let validations = |n: &Net| -> Vec<u32> {
            n.sent
                .iter()
                .filter(|(_, m)| is_validation(m, PEER, 0x1000))
                .map(|(t, _)| *t)
                .collect()
        };
        assert_eq!(validations(&n).len(), usize::from(MAX_TRANSMISSIONS));
        n.run(20);
        assert_eq!(n.c.stat(Stat::GivenUp), 1);
        assert!(n.c.stat(Stat::SaNoticesDropped) >= 1);
        // Given up: stale, and sent again once per silent interval (no
        // renewal or request is due to find the router).
        n.run(60);
        let v = validations(&n);
        assert!(v.len() > usize::from(MAX_TRANSMISSIONS) + 2, "{v:?}");
        let probes = &v[usize::from(MAX_TRANSMISSIONS) - 1..];
        assert!(
            probes
                .windows(2)
                .all(|w| (12..=20).contains(&(w[1] - w[0]))),
            "{v:?}"
        );
        assert!(n.r.sas() == 0);
        n.down = false;
        n.run(20);
        assert!(n.r.validated(PEER, 0x1000));
        assert_eq!(n.states(), vec![SaRecordState::Validated]);
        let sent = n.sent.len();
        n.run(20);
        assert_eq!(n.sent.len(), sent, "quiet again");
    }

    #[test]
    fn stale_validation_does_not_hold_up_requests_while_the_router_is_silent() {
        let mut n = Net::new(cfg());
        n.r = Router::with(Settings {
            default_lease: 600,
            ..Settings::DEFAULT
        });
        n.tick();
        n.c.validate(PEER, 0x1000).unwrap();
        n.c.validate(PEER2, 0x1000).unwrap();
        n.down = true;
        n.run(40); // the first given up: stale, the router deemed silent
        n.run(20); // the second too
                   // (One of them is probing the router.)
        assert!(n.states().contains(&SaRecordState::Stale));
        assert!(!n.states().contains(&SaRecordState::Validated));
        n.in_use = 30; // a port request is due
        let from = n.sent.len();
        n.run(64);
        let sent = n.sent_since(from);
        assert!(sent.len() >= 3, "{sent:?}");
        assert!(sent.iter().all(is_port_request), "{sent:?}");
        n.down = false;
        n.run(40);
        assert!(n.r.validated(PEER, 0x1000) && n.r.validated(PEER2, 0x1000));
        assert_eq!(n.ports().len(), 2);
    }

    #[test]
    fn sa_queue_full_duplicates_and_records_full() {
        use SaNoticeKind::*;
        let mut n = Net::new(cfg());
        n.tick();
        assert_eq!(n.c.validate(PEER, 0x1000), Ok(()));
        assert_eq!(n.c.validate(PEER, 0x1000), Ok(()), "deduplicated");
        assert_eq!(n.c.sa_notices().count(), 1);
        // In order, nothing cancelled.
        n.c.invalidate(PEER, 0x1000).unwrap();
        n.c.invalidate(PEER, 0x1000).unwrap();
        n.c.validate(PEER, 0x1000).unwrap();
        let kinds: Vec<_> = n.c.sa_notices().map(|x| x.kind).collect();
        assert_eq!(kinds, vec![Validate, Invalidate, Validate]);
        for i in 0..MAX_SA_NOTICES as u32 - 3 {
            assert_eq!(n.c.validate(PEER2, 0x1010 + i), Ok(()));
        }
        assert_eq!(n.c.validate(PEER2, 0x10f0), Err(SaNoticeError::QueueFull));
        assert_eq!(
            n.c.blacklist_add(Some(ATTACKER), None),
            Err(SaNoticeError::QueueFull)
        );
        assert_eq!(n.c.validate(PEER2, 0x101c), Ok(()), "the last again");
        assert_eq!(n.records().len(), 14);
        let from = n.sent.len();
        n.tick();
        let sent = n.sent_since(from);
        assert_eq!(sent.len(), MAX_SA_NOTICES);
        assert!(is_validation(&sent[0], PEER, 0x1000));
        assert!(matches!(sent[1], Message::SaInvalidate { .. }));
        assert!(is_validation(&sent[2], PEER, 0x1000));
        assert!(n.r.validated(PEER, 0x1000));
        assert_eq!(n.r.sas(), 14);
        assert!(n.states().iter().all(|&s| s == SaRecordState::Validated));
        // Fill the records.
        for i in 0..(MAX_SA_RECORDS - 14) as u32 {
            assert_eq!(n.c.validate(PEER3, 0x1020 + i), Ok(()));
            if i % 8 == 7 {
                n.tick();
            }
        }
        n.tick();
        assert_eq!(n.records().len(), MAX_SA_RECORDS);
        assert_eq!(n.r.sas(), MAX_SA_RECORDS);
        assert_eq!(n.c.validate(PEER3, 0x10f0), Err(SaNoticeError::RecordsFull));
        assert_eq!(n.c.validate(PEER3, 0x1020), Ok(()), "a recorded pair");
        // An invalidation makes room.
        n.c.invalidate(PEER3, 0x1021).unwrap();
        assert_eq!(n.c.validate(PEER3, 0x10f0), Ok(()));
        n.tick();
        assert_eq!(n.r.sas(), MAX_SA_RECORDS);
    }

    #[test]
    fn blacklist_add_and_remove() {
        let mut n = Net::new(cfg());
        n.tick();
        n.c.blacklist_add(Some(ATTACKER), None).unwrap();
        n.c.blacklist_add(None, Some(0x1001)).unwrap();
        n.tick();
        assert!(n.r.blacklisted(ATTACKER, 0x1000));
        assert!(n.r.blacklisted(PEER, 0x1001));
        assert!(!n.r.blacklisted(PEER, 0x1000));
        let evs: Vec<Event> = n.events[n.events.len() - 2..].to_vec();
        assert_eq!(
            evs,
            vec![
                Event::SaNotice {
                    kind: SaNoticeKind::BlacklistAdd,
                    addr: Some(ATTACKER),
                    spi: None,
                    result: Ok(()),
                },
                Event::SaNotice {
                    kind: SaNoticeKind::BlacklistAdd,
                    addr: None,
                    spi: Some(0x1001),
                    result: Ok(()),
                },
            ]
        );
        // The kinds match the wire's acknowledgements.
        for (_, m) in n.sent.iter().filter(|(_, m)| is_sa_message(m)) {
            let (ty, code) = m.type_code();
            assert_eq!(m.acked_as(), Acked::from_type_code(ty, code));
        }
        n.c.blacklist_remove(Some(ATTACKER), None).unwrap();
        n.tick();
        assert!(!n.r.blacklisted(ATTACKER, 0x1000));
        assert!(n.r.blacklisted(PEER, 0x1001));
        assert!(n.records().is_empty(), "blacklists are not recorded");
        assert_eq!(n.c.stat(Stat::SaNoticesApplied), 3);
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn port_block(&mut self, c: &Client) -> PortBlock {
            match (self.below(3), c.port_blocks().next()) {
                (0, Some(h)) => h.block,
                (1, _) => pb(self.next() as u16, self.next() as u8),
                _ => pb(20000 + self.below(100) as u16, self.below(40) as u8),
            }
        }

        fn spi_block(&mut self, c: &Client) -> SpiBlock {
            match (self.below(3), c.spi_blocks().next()) {
                (0, Some(h)) => h.block,
                (1, _) => SpiBlock {
                    lowest: self.next() as u32,
                    count: self.next() as u16,
                },
                _ => SpiBlock {
                    lowest: 0x1000 + self.below(0x1000) as u32,
                    count: self.below(300) as u16,
                },
            }
        }

        fn reason(&mut self) -> Reason {
            Reason::ALL[self.below(7) as usize]
        }

        /// A router-to-host message, often one the client is waiting for.
        fn router_message(&mut self, c: &Client) -> Message {
            let out = c.outstanding();
            let xid = match (self.below(4), out) {
                (0 | 1, Some(m)) => m.ext().map_or(0, |e| e.xid),
                (2, _) => 0,
                _ => self.next() as u32,
            };
            let epoch = match self.below(8) {
                0 => self.next() as u32,
                1 => 0,
                _ => c.epoch().max(EPOCH),
            };
            let lease = match self.below(3) {
                0 => 0,
                _ => self.below(200) as u32,
            };
            let t = Trailer { xid, epoch, lease };
            let ext = (self.below(10) != 0).then_some(t);
            let result = |rng: &mut Self| {
                if rng.below(3) == 0 {
                    Err(rng.reason())
                } else {
                    Ok(())
                }
            };
            let dir = if self.below(30) == 0 {
                Direction::ToRouter
            } else {
                Direction::ToHost
            };
            match self.below(9) {
                0 | 1 => Message::PortResponse {
                    result: result(self).map(|()| self.port_block(c)),
                    ext,
                },
                2 => Message::SpiResponse {
                    result: result(self).map(|()| self.spi_block(c)),
                    ext,
                },
                3 => Message::PortInvalidate {
                    dir,
                    port: 20000 + self.below(100) as u16,
                    ext,
                },
                4 => Message::PortBlockInvalidate {
                    dir,
                    block: self.port_block(c),
                    ext,
                },
                5 => Message::SpiInvalidate {
                    dir,
                    spi: 0x1000 + self.below(0x1000) as u32,
                    ext,
                },
                6 => Message::SpiBlockInvalidate {
                    dir,
                    block: self.spi_block(c),
                    ext,
                },
                7 => Message::InvalidateAll {
                    dir,
                    scope: self.below(9) as u8,
                    ext,
                },
                _ => {
                    let acked = match out.and_then(|m| m.acked_as()) {
                        Some(a) if self.below(2) == 0 => a,
                        _ => Acked::from_type_code(32 + self.below(5) as u8, self.below(4) as u8)
                            .unwrap_or(Acked::InvalidateAll),
                    };
                    Message::Ack {
                        acked,
                        result: result(self),
                        ext: t,
                    }
                }
            }
        }
    }

    /// Random router messages (decoded from random, checksummed bytes,
    /// often carrying the outstanding xid, the current epoch, a held
    /// block) and random clock steps never panic and keep the tables sane.
    #[test]
    fn mini_fuzz() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0usize;
        let mut events = std::collections::BTreeMap::new();
        for round in 0..40u32 {
            let mut c = Client::new(
                Config {
                    port_block: 1 + rng.below(255) as u8,
                    low_water: rng.below(64) as u16,
                    max_port_blocks: 1 + rng.below(MAX_BLOCKS as u64) as usize,
                    lease: rng.below(3) as u32 * 30,
                    flush_on_start: round % 2 == 0,
                    ..Config::DEFAULT
                },
                rng.next() as u32,
            )
            .unwrap();
            let mut now = rng.next() as u32;
            for _ in 0..5_000 {
                match rng.below(8) {
                    0 => now = now.wrapping_add(rng.below(100) as u32),
                    1 => now = now.wrapping_sub(rng.below(10) as u32),
                    2 if rng.below(50) == 0 => now = rng.next() as u32,
                    3 if rng.below(200) == 0 => {
                        c.release_all();
                    }
                    4 => {
                        let first = c.port_blocks().next();
                        if let Some(h) = first {
                            assert!(c.release_ports(h.block));
                        }
                    }
                    5 if rng.below(20) == 0 => {
                        let _ = c.request_ports(rng.next() as u8);
                        let _ = c.request_spis(rng.next() as u16);
                    }
                    6 | 7 => {
                        let spi = match (rng.below(3), c.spi_blocks().next()) {
                            (0 | 1, Some(h)) => {
                                let i = rng.below(u64::from(h.block.count.max(1))) as u32;
                                h.block.lowest.wrapping_add(i)
                            }
                            _ => rng.below(0x2000) as u32,
                        };
                        let addr = match rng.below(8) {
                            0 => Ipv4Addr::from(rng.next() as u32),
                            r => Ipv4Addr::new(198, 51, 100, r as u8),
                        };
                        let a = (rng.below(4) != 0).then_some(addr);
                        let s = (rng.below(4) != 0).then_some(spi);
                        let _ = match rng.below(6) {
                            0 | 1 => c.validate(addr, spi),
                            2 => c.invalidate(addr, spi),
                            3 => c.blacklist_add(a, s),
                            4 => c.blacklist_remove(a, s),
                            _ => {
                                let first = c.spi_blocks().next();
                                if let Some(h) = first {
                                    assert!(c.release_spis(h.block));
                                }
                                Ok(())
                            }
                        };
                    }
                    _ => {}
                }
                for _ in 0..16 {
                    match c.poll(now, rng.below(600) as u32) {
                        None => break,
                        Some(Action::Send(o)) => {
                            assert_eq!(decode(o.bytes(), Direction::ToRouter), Ok(*o.message()));
                        }
                        Some(Action::Changed(_)) => {}
                    }
                }
                // A router message: structured random words, then fixed up.
                let ty = 32 + rng.below(5) as u8;
                let code = rng.below(5) as u8;
                let len = [8usize, 12, 20, 24][rng.below(4) as usize];
                let mut b = [0u8; MAX_LEN];
                for w in b.chunks_exact_mut(4) {
                    let v = match rng.below(4) {
                        0 => rng.next() as u32,
                        1 => rng.below(300) as u32,
                        2 => (20000 + rng.below(100) as u32) << 16 | (rng.below(64) as u32) << 8,
                        _ => 0x1000 + rng.below(0x1000) as u32,
                    };
                    w.copy_from_slice(&v.to_be_bytes());
                }
                b[0] = ty;
                b[1] = code;
                if len >= 20 && rng.below(2) == 0 {
                    let tr = len - crate::pap::TRAILER_LEN;
                    let xid = match (rng.below(3), c.outstanding()) {
                        (0, Some(m)) => m.ext().map_or(0, |e| e.xid),
                        (1, _) => 0,
                        _ => rng.next() as u32,
                    };
                    let epoch = if rng.below(4) == 0 {
                        rng.next() as u32
                    } else {
                        c.epoch().max(1)
                    };
                    b[tr..tr + 4].copy_from_slice(&xid.to_be_bytes());
                    b[tr + 4..tr + 8].copy_from_slice(&epoch.to_be_bytes());
                    let lease = rng.below(100) as u32;
                    b[tr + 8..tr + 12].copy_from_slice(&lease.to_be_bytes());
                }
                b[2] = 0;
                b[3] = 0;
                let ck = crate::checksum::checksum(&b[..len]);
                b[2..4].copy_from_slice(&ck.to_be_bytes());
                if let Ok(m) = decode(&b[..len], Direction::ToHost) {
                    accepted += 1;
                    let _ = c.receive(&m, now);
                }
                // And a structured Message that need not be valid: the
                // client ignores it as invalid exactly when the codec
                // would refuse it.
                let m = rng.router_message(&c);
                let mut out = [0u8; MAX_LEN];
                match encode(&m, &mut out) {
                    Ok(n) => {
                        assert_eq!(decode(&out[..n], m.direction()), Ok(m));
                        accepted += 1;
                        let ev = c.receive(&m, now);
                        assert_ne!(ev, Event::Ignored(Ignored::Invalid));
                        assert_eq!(
                            ev == Event::Ignored(Ignored::NotForHost),
                            m.direction() == Direction::ToRouter
                        );
                        *events.entry(std::format!("{ev:?}")).or_insert(0usize) += 1;
                    }
                    Err(_) => {
                        assert_eq!(c.receive(&m, now), Event::Ignored(Ignored::Invalid));
                    }
                }
                // Invariants.
                let ports: Vec<_> = c.port_blocks().collect();
                assert!(ports.len() <= MAX_BLOCKS);
                for (i, a) in ports.iter().enumerate() {
                    for b in &ports[i + 1..] {
                        let (lo, hi) = b.block.range();
                        assert!(!overlaps(&a.block, lo, hi), "{a:?} {b:?}");
                    }
                }
                let _ = c.next_timeout();
                let _ = c.spi_blocks().count();
                // Only stale records (waiting for SPIs after a restart) and
                // blacklist removals may name SPIs not held.
                for r in c.sa_records() {
                    assert!(
                        r.state == SaRecordState::Stale || c.owns_spi(r.spi),
                        "{r:?}"
                    );
                }
                for x in c.sa_notices() {
                    if matches!(x.kind, SaNoticeKind::Validate | SaNoticeKind::Invalidate) {
                        assert!(c.owns_spi(x.spi.unwrap_or(0)), "{x:?}");
                    }
                }
                assert!(c.sa_notices().count() <= MAX_SA_NOTICES);
            }
        }
        assert!(accepted > 50_000, "{accepted}");
        // Every kind of outcome was reached.
        for want in [
            "Changed",
            "Refused",
            "Nothing",
            "Unmatched",
            "WrongReply",
            "SaNotice { kind: Validate",
            "SaNotice { kind: Blacklist",
        ] {
            assert!(
                events.keys().any(|k| k.contains(want)),
                "{want}: {events:?}"
            );
        }
    }
}
