// SPDX-License-Identifier: GPL-2.0

//! The PAP client's counters, and why it ignores a message.

use super::super::pap::Reason;

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

/// Why [`Client::receive`](super::Client::receive) did not act on a message.
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
