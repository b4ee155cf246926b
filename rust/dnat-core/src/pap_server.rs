// SPDX-License-Identifier: GPL-2.0

//! The router's PAP server logic: what a decoded PAP message from a host
//! does to the allocation tables, and the reply it gets.
//!
//! The kernel module parses the packet, checks where it came from, takes
//! the table lock and calls [`serve`]; it sends the reply [`serve`] returns
//! and counts the [`Stat`]. Everything here is independent of the kernel.
//!
//! Replies echo the request's transaction id and carry the router epoch
//! and the granted lease in the extension trailer; a request without the
//! trailer (a base-protocol host) gets a base reply. Messages of the
//! IPsec/DoS work item (SA validate/invalidate, blacklist) are not served
//! yet: they are counted as `unsupported` and, when they carry a trailer,
//! refused with an acknowledgement (reason `unspecified`).

use core::net::Ipv4Addr;

use super::alloc_table::{AllocError, AllocTable, Kind};
use super::pap::{scope, Acked, Message, PortBlock, PortClass, Reason, SpiBlock, Trailer, MAX_LEN};

/// What the server counts, one counter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Stat {
    /// A request was granted (fully or partly).
    Granted,
    /// A request or renewal was refused (failure response).
    Refused,
    /// A host gave back ports or SPIs.
    Released,
    /// A release or invalidate-all was refused (not the host's).
    ReleaseRefused,
    /// A lease was renewed.
    Renewed,
    /// A message the router does not serve yet.
    Unsupported,
    /// A reply was sent.
    Replied,
    /// A reply could not be sent (no route, no memory).
    SendFailed,
    /// PAP arrived on another interface than the LAN interface.
    WrongInterface,
    /// PAP arrived fragmented.
    Fragment,
    /// PAP not addressed to the router's LAN address.
    NotForRouter,
    /// Source outside the LAN prefix, or not unicast.
    BadSource,
    /// The router is not configured (no LAN address, no tables).
    NotConfigured,
    /// Invalidate-all messages sent (broadcast to the LAN, or to a revoked
    /// host).
    InvalidateAllSent,
    /// A retransmitted message (same transaction id as the host's last)
    /// answered with the cached reply, nothing done again.
    Retransmitted,
}

impl Stat {
    /// Number of counters.
    pub const COUNT: usize = 15;

    /// Every counter, in index order.
    pub const ALL: [Stat; Self::COUNT] = [
        Stat::Granted,
        Stat::Refused,
        Stat::Released,
        Stat::ReleaseRefused,
        Stat::Renewed,
        Stat::Unsupported,
        Stat::Replied,
        Stat::SendFailed,
        Stat::WrongInterface,
        Stat::Fragment,
        Stat::NotForRouter,
        Stat::BadSource,
        Stat::NotConfigured,
        Stat::InvalidateAllSent,
        Stat::Retransmitted,
    ];

    /// The counter's slot.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The counter's name as shown by `dnatctl router stats`.
    pub const fn name(self) -> &'static str {
        match self {
            Stat::Granted => "granted",
            Stat::Refused => "refused",
            Stat::Released => "released",
            Stat::ReleaseRefused => "release_refused",
            Stat::Renewed => "renewed",
            Stat::Unsupported => "unsupported",
            Stat::Replied => "replied",
            Stat::SendFailed => "send_failed",
            Stat::WrongInterface => "dropped_wrong_interface",
            Stat::Fragment => "dropped_fragment",
            Stat::NotForRouter => "dropped_not_for_router",
            Stat::BadSource => "dropped_bad_source",
            Stat::NotConfigured => "dropped_not_configured",
            Stat::InvalidateAllSent => "invalidate_all_sent",
            Stat::Retransmitted => "retransmitted",
        }
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
        AllocError::NotOwner | AllocError::NotAllocated | AllocError::UnknownHost => {
            Reason::NotOwned
        }
        _ => Reason::Unspecified,
    }
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

fn released(r: Result<(), AllocError>) -> (Result<(), Reason>, Stat) {
    match r {
        Ok(()) => (Ok(()), Stat::Released),
        Err(e) => (Err(reason(e)), Stat::ReleaseRefused),
    }
}

/// Serves `msg`, decoded from a packet that `host` sent to the router, at
/// time `now` (seconds, the table's clock), in router epoch `epoch`.
/// Returns the reply to send back (if any) and what to count.
pub fn serve(
    t: &mut AllocTable<'_>,
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
            let (result, stat) = released(t.invalidate_port(Some(host), port).map(|_| ()));
            (ack(Acked::PortInvalidate, ext, epoch, result), stat)
        }
        Message::PortBlockInvalidate { block, ext, .. } => {
            let r = t.invalidate_block(
                Some(host),
                Kind::Port,
                u32::from(block.lowest),
                Some(u32::from(block.count)),
            );
            let (result, stat) = released(r.map(|_| ()));
            (ack(Acked::PortBlockInvalidate, ext, epoch, result), stat)
        }
        Message::SpiInvalidate { spi, ext, .. } => {
            let (result, stat) = released(t.invalidate_spi(Some(host), spi).map(|_| ()));
            (ack(Acked::SpiInvalidate, ext, epoch, result), stat)
        }
        Message::SpiBlockInvalidate { block, ext, .. } => {
            let r = t.invalidate_block(
                Some(host),
                Kind::Spi,
                block.lowest,
                Some(u32::from(block.count)),
            );
            let (result, stat) = released(r.map(|_| ()));
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
                Some(k) => t.invalidate_host(host, k, |_| {}).map(|_| ()),
                None => Ok(()),
            };
            let (result, stat) = released(r);
            (ack(Acked::InvalidateAll, ext, epoch, result), stat)
        }
        Message::SaValidate { ext, .. } => (
            ack(Acked::SaValidate, ext, epoch, Err(Reason::Unspecified)),
            Stat::Unsupported,
        ),
        Message::SaInvalidate { ext, .. } => (
            ack(Acked::SaInvalidate, ext, epoch, Err(Reason::Unspecified)),
            Stat::Unsupported,
        ),
        Message::BlacklistAdd { ext, .. } => (
            ack(Acked::BlacklistAdd, ext, epoch, Err(Reason::Unspecified)),
            Stat::Unsupported,
        ),
        Message::BlacklistRemove { ext, .. } => (
            ack(Acked::BlacklistRemove, ext, epoch, Err(Reason::Unspecified)),
            Stat::Unsupported,
        ),
        // Router-to-host messages never decode as `ToRouter`.
        Message::PortResponse { .. } | Message::SpiResponse { .. } | Message::Ack { .. } => {
            (None, Stat::Unsupported)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_table::{BlockRef, HostSlot, Layout, Settings, Shared, SpiEntry, WriterState};
    use crate::config::Range;
    use crate::pap::Direction;
    use core::sync::atomic::{AtomicU16, AtomicU32};
    use std::vec;
    use std::vec::Vec;

    struct Store {
        ports: Vec<AtomicU16>,
        addrs: Vec<AtomicU32>,
        spi: Vec<SpiEntry>,
        ctl: AtomicU32,
        hosts: Vec<HostSlot>,
        pl: Vec<BlockRef>,
        sl: Vec<BlockRef>,
        st: WriterState,
    }

    impl Store {
        fn new() -> Self {
            let l = Layout { hosts: 8 };
            let mut s = Self {
                ports: (0..l.port_map_len()).map(|_| AtomicU16::new(0)).collect(),
                addrs: (0..l.host_addrs_len()).map(|_| AtomicU32::new(0)).collect(),
                spi: (0..l.spi_index_len())
                    .map(|_| SpiEntry::default())
                    .collect(),
                ctl: AtomicU32::new(0),
                hosts: vec![HostSlot::EMPTY; l.host_slots_len()],
                pl: vec![BlockRef::default(); l.port_list_len()],
                sl: vec![BlockRef::default(); l.spi_list_len()],
                st: WriterState::new(Settings::DEFAULT),
            };
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
            let sh = Shared::new(&self.ports, &self.addrs, &self.spi, &self.ctl).unwrap();
            AllocTable::new(
                sh,
                &mut self.hosts,
                &mut self.pl,
                &mut self.sl,
                &mut self.st,
            )
            .unwrap()
        }
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
        let (r1, st1) = serve(&mut s.t(), H1, &port_req(16, 7), 100, EPOCH);
        let (r2, st2) = serve(&mut s.t(), H2, &port_req(16, 8), 100, EPOCH);
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
            let (r, st) = serve(&mut s.t(), H1, &port_req(32, i + 1), 1, EPOCH);
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
        match serve(&mut s.t(), H1, &m, 5, EPOCH) {
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
        let b = granted_ports(serve(&mut s.t(), H1, &port_req(16, 1), 1, EPOCH).0);
        let inval = Message::PortBlockInvalidate {
            dir: Direction::ToRouter,
            block: b,
            ext: ext(9, 0),
        };
        match serve(&mut s.t(), H2, &inval, 2, EPOCH) {
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
            serve(&mut s.t(), H1, &inval, 2, EPOCH),
            (Some(Message::Ack { result: Ok(()), .. }), Stat::Released)
        ));
    }

    #[test]
    fn renew_and_invalidate_all() {
        let mut s = Store::new();
        let b = granted_ports(serve(&mut s.t(), H1, &port_req(8, 1), 1, EPOCH).0);
        let renew = Message::PortRenew {
            block: b,
            ext: Trailer {
                xid: 2,
                epoch: EPOCH,
                lease: 60,
            },
        };
        match serve(&mut s.t(), H1, &renew, 10, EPOCH) {
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
        assert_eq!(serve(&mut s.t(), H2, &renew, 10, EPOCH).1, Stat::Refused);
        let all = Message::InvalidateAll {
            dir: Direction::ToRouter,
            scope: scope::ALL,
            ext: ext(3, 0),
        };
        assert_eq!(serve(&mut s.t(), H1, &all, 11, EPOCH).1, Stat::Released);
        assert!(s.t().host(H1).is_none_or(|h| h.ports == 0));
    }

    #[test]
    fn sa_messages_are_refused_as_unsupported() {
        let mut s = Store::new();
        let m = Message::SaValidate {
            addr: Ipv4Addr::new(203, 0, 113, 3),
            spi: 0x1000,
            ext: ext(4, 0),
        };
        assert!(matches!(
            serve(&mut s.t(), H1, &m, 1, EPOCH),
            (
                Some(Message::Ack {
                    result: Err(Reason::Unspecified),
                    ..
                }),
                Stat::Unsupported
            )
        ));
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
