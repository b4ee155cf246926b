// SPDX-License-Identifier: GPL-2.0

//! The reader side: the packet path's lookups, its TCP state tracking and
//! the entries as dumps see them.

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

use super::map::{at, bit, touch, PerProto, Tables};
use super::{
    peer_key, Entry, HeldMap, Layout, PeerMap, Proto, Segment, SpttError, TimeMap, PEER_SYN_SENT,
    PEER_VALID, PORT_SPACE, STATE_FIN_IN, STATE_FIN_OUT, STATE_RST, TCP_ACK, TCP_FIN, TCP_RST,
    TCP_SYN,
};

/// The reader-side table: lock-free lookups for the packet path. Cheap to
/// copy (a few references).
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    pub(super) t: PerProto<Tables<'a>>,
    pub(super) held: &'a HeldMap,
    /// TCP: the value an inbound RST must carry, by unique port.
    tcp_rst: &'a TimeMap,
    /// TCP: the remote end ([`peer_key`] and flags), by unique port.
    pub(super) tcp_peer: &'a PeerMap,
}

impl core::fmt::Debug for Shared<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// Splits `s` into two arrays of `N`.
fn halves<T, const N: usize>(s: &[T]) -> Option<(&[T; N], &[T; N])> {
    let (a, b) = s.split_at_checked(N)?;
    Some((a.try_into().ok()?, b.try_into().ok()?))
}

impl<'a> Shared<'a> {
    /// Views caller-provided storage with the lengths of [`Layout`]:
    /// `ports` [`Layout::PORTS_LEN`], `times` [`Layout::TIMES_LEN`],
    /// `states` [`Layout::STATES_LEN`], `held` [`Layout::HELD_LEN`],
    /// `peers` [`Layout::PEERS_LEN`]. All of it starts zeroed. Cheap:
    /// checks lengths only.
    pub fn new(
        ports: &'a [AtomicU16],
        times: &'a [AtomicU32],
        states: &'a [AtomicU8],
        held: &'a [AtomicU64],
        peers: &'a [AtomicU64],
    ) -> Result<Self, SpttError> {
        let bad = SpttError::BadLayout;
        if ports.len() != Layout::PORTS_LEN
            || times.len() != Layout::TIMES_LEN
            || states.len() != Layout::STATES_LEN
        {
            return Err(bad);
        }
        let (tcp, udp) = ports.split_at_checked(2 * PORT_SPACE).ok_or(bad)?;
        let (tcp_out, tcp_back) = halves::<_, PORT_SPACE>(tcp).ok_or(bad)?;
        let (udp_out, udp_back) = halves::<_, PORT_SPACE>(udp).ok_or(bad)?;
        let (times, tcp_rst) = times.split_at_checked(2 * PORT_SPACE).ok_or(bad)?;
        let (tcp_time, udp_time) = halves::<_, PORT_SPACE>(times).ok_or(bad)?;
        let (tcp_state, udp_state) = halves::<_, PORT_SPACE>(states).ok_or(bad)?;
        Ok(Self {
            t: PerProto {
                tcp: Tables {
                    out: tcp_out,
                    back: tcp_back,
                    last_use: tcp_time,
                    state: tcp_state,
                },
                udp: Tables {
                    out: udp_out,
                    back: udp_back,
                    last_use: udp_time,
                    state: udp_state,
                },
            },
            held: held.try_into().map_err(|_| bad)?,
            tcp_rst: tcp_rst.try_into().map_err(|_| bad)?,
            tcp_peer: peers.try_into().map_err(|_| bad)?,
        })
    }

    /// Outbound: the unique port of the stack's port `eph`, and marks the
    /// entry used at `now`. Two acquire loads, at most one relaxed store.
    /// `None`: no entry (or one being made or removed): create one under
    /// the writer lock.
    #[inline]
    pub fn lookup_out(&self, proto: Proto, eph: u16, now: u32) -> Option<u16> {
        let t = self.t.get(proto);
        let u = at(t.out, eph).load(Ordering::Acquire);
        if u == 0 || at(t.back, u).load(Ordering::Acquire) != eph {
            return None;
        }
        touch(at(t.last_use, u), now);
        Some(u)
    }

    /// Inbound: the stack's port behind the unique port `unique`, and marks
    /// the entry used at `now`. Two acquire loads, at most one relaxed
    /// store. `None`: no entry: deliver the packet unchanged.
    #[inline]
    pub fn lookup_in(&self, proto: Proto, unique: u16, now: u32) -> Option<u16> {
        let t = self.t.get(proto);
        let e = at(t.back, unique).load(Ordering::Acquire);
        if e == 0 || at(t.out, e).load(Ordering::Acquire) != unique {
            return None;
        }
        touch(at(t.last_use, unique), now);
        Some(e)
    }

    /// [`Shared::lookup_out`] without marking the entry used: for the
    /// packet that an ICMP error quotes, since an error must not keep a
    /// translation alive (RFC 5508 REQ-6). Two acquire loads, no store.
    #[inline]
    pub fn peek_out(&self, proto: Proto, eph: u16) -> Option<u16> {
        let t = self.t.get(proto);
        let u = at(t.out, eph).load(Ordering::Acquire);
        (u != 0 && at(t.back, u).load(Ordering::Acquire) == eph).then_some(u)
    }

    /// [`Shared::lookup_in`] without marking the entry used (see
    /// [`Shared::peek_out`]). Two acquire loads, no store.
    #[inline]
    pub fn peek_in(&self, proto: Proto, unique: u16) -> Option<u16> {
        let t = self.t.get(proto);
        let e = at(t.back, unique).load(Ordering::Acquire);
        (e != 0 && at(t.out, e).load(Ordering::Acquire) == unique).then_some(e)
    }

    /// Records TCP segment `seg` of the entry of unique port `unique`, sent
    /// (`outbound`) or received. Call it for every TCP segment after the
    /// lookup.
    ///
    /// FIN sets [`STATE_FIN_OUT`] or [`STATE_FIN_IN`], RST sets
    /// [`STATE_RST`]; a SYN without FIN or RST clears the state (a new
    /// connection on this port); an outbound segment without RST clears
    /// [`STATE_RST`] (the stack did not accept the RST). Ports without an
    /// entry are ignored.
    ///
    /// Blind resets (RFC 5961 section 3.2): an inbound RST counts only if
    /// it comes from the remote end of the last segment the host sent with
    /// ACK (or SYN) on this port and its sequence number is exactly the
    /// acknowledgement number the host sent last (or, while the host's SYN
    /// is unanswered, it acknowledges that SYN). Any other RST is ignored
    /// here, whatever its other flags: the packet is delivered and the
    /// host's stack answers it with a challenge ACK, but the entry does not
    /// become closing, so a sweep of forged RSTs over the public ports does
    /// not end idle translations. Each outbound segment with ACK or SYN
    /// records its remote end and number (a load of each, a store when
    /// they changed); a segment without FIN, SYN, RST or (outbound) ACK
    /// costs one byte load.
    #[inline]
    pub fn note_tcp(&self, unique: u16, seg: &Segment, outbound: bool, now: u32) {
        let t = &self.t.tcp;
        let flags = seg.flags;
        if outbound {
            self.note_sent(unique, seg);
        } else if flags & TCP_RST != 0 && !self.rst_acceptable(unique, seg) {
            return;
        }
        let st = at(t.state, unique);
        let s = st.load(Ordering::Relaxed);
        if flags & (TCP_FIN | TCP_SYN | TCP_RST) == 0 {
            if outbound && s & STATE_RST != 0 {
                st.fetch_and(!STATE_RST, Ordering::Relaxed);
            }
            return;
        }
        if at(t.back, unique).load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut add = 0;
        if flags & TCP_RST != 0 {
            add |= STATE_RST;
        }
        if flags & TCP_FIN != 0 {
            add |= if outbound {
                STATE_FIN_OUT
            } else {
                STATE_FIN_IN
            };
        }
        if add == 0 {
            // A SYN alone: a connection starts (again) on this mapping.
            if s != 0 {
                st.store(0, Ordering::Relaxed);
            }
        } else if s & add != add {
            st.fetch_or(add, Ordering::Relaxed);
        }
        touch(at(t.last_use, unique), now);
    }

    /// Records the remote end of outbound segment `seg` and the value an
    /// inbound RST must then carry: the acknowledgement number of a segment
    /// with ACK; for a SYN without ACK, its sequence number + 1 (which the
    /// RST must acknowledge). Segments with RST or without either flag
    /// change nothing.
    #[inline]
    fn note_sent(&self, unique: u16, seg: &Segment) {
        let (peer, want) = match seg.flags & (TCP_SYN | TCP_ACK | TCP_RST) {
            f if f & TCP_RST != 0 => return,
            TCP_SYN => (PEER_SYN_SENT, seg.seq.wrapping_add(1)),
            f if f & TCP_ACK != 0 => (0, seg.ack),
            _ => return,
        };
        let peer = peer | PEER_VALID | peer_key(seg.peer, seg.peer_port);
        let p = at(self.tcp_peer, unique);
        if p.load(Ordering::Relaxed) != peer {
            p.store(peer, Ordering::Relaxed);
        }
        let r = at(self.tcp_rst, unique);
        if r.load(Ordering::Relaxed) != want {
            r.store(want, Ordering::Relaxed);
        }
    }

    /// Whether inbound RST `seg` may close the entry of `unique`: from the
    /// recorded remote end, with the sequence number the host acknowledged
    /// last (or acknowledging the host's unanswered SYN).
    #[inline]
    fn rst_acceptable(&self, unique: u16, seg: &Segment) -> bool {
        let p = at(self.tcp_peer, unique).load(Ordering::Relaxed);
        let want = at(self.tcp_rst, unique).load(Ordering::Relaxed);
        let key = PEER_VALID | peer_key(seg.peer, seg.peer_port);
        if p & !PEER_SYN_SENT != key {
            return false;
        }
        if p & PEER_SYN_SENT != 0 {
            seg.flags & TCP_ACK != 0 && seg.ack == want
        } else {
            seg.seq == want
        }
    }

    /// Whether `port` is in the granted pool (one relaxed load). An inbound
    /// packet to a held port without an entry is delivered unchanged.
    #[inline]
    pub fn held(&self, port: u16) -> bool {
        let (w, b) = bit(port);
        self.held
            .get(w)
            .is_some_and(|x| x.load(Ordering::Relaxed) & b != 0)
    }

    /// The entry of unique port `unique`, if complete (lock-free; under the
    /// writer lock always consistent).
    pub fn entry(&self, proto: Proto, unique: u16) -> Option<Entry> {
        let t = self.t.get(proto);
        let eph = at(t.back, unique).load(Ordering::Acquire);
        if eph == 0 || at(t.out, eph).load(Ordering::Acquire) != unique {
            return None;
        }
        Some(Entry {
            proto,
            eph,
            unique,
            last_use: at(t.last_use, unique).load(Ordering::Relaxed),
            state: at(t.state, unique).load(Ordering::Relaxed),
        })
    }
}
