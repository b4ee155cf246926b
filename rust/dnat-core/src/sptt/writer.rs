// SPDX-License-Identifier: GPL-2.0

//! The writer: the held port blocks, creating and removing entries,
//! expiry, and the walk of every entry.

use core::sync::atomic::Ordering;

use super::super::pap::PortBlock;
use super::map::{age, at, bit, last_port, scan, word_mask};
use super::{Entry, Proto, Sptt, SpttError, Timeouts, MAX_BLOCKS, NO_BLOCK};

impl Sptt<'_> {
    pub(super) fn is_used(&self, proto: Proto, port: u16) -> bool {
        let (w, b) = bit(port);
        self.used.get(proto).get(w).is_some_and(|x| x & b != 0)
    }

    fn set_used(&mut self, proto: Proto, port: u16, on: bool) {
        let (w, b) = bit(port);
        if let Some(x) = self.used.get_mut(proto).get_mut(w) {
            if on {
                *x |= b;
            } else {
                *x &= !b;
            }
        }
    }

    /// Replaces the pool with `blocks` (any order; valid and disjoint),
    /// e.g. after a grant, a renewal, the invalidation of a block or of
    /// everything (`&[]`). Removes the entries whose unique port is no
    /// longer held and returns how many. On error nothing changes.
    /// Cost: O(blocks * words) plus one removal per entry removed.
    pub fn set_blocks(&mut self, blocks: &[PortBlock]) -> Result<usize, SpttError> {
        if blocks.len() > MAX_BLOCKS {
            return Err(SpttError::TooManyBlocks);
        }
        let mut new = [NO_BLOCK; MAX_BLOCKS];
        for (d, b) in new.iter_mut().zip(blocks) {
            b.check().map_err(|_| SpttError::BadBlock)?;
            *d = *b;
        }
        let new = new.get_mut(..blocks.len()).unwrap_or(&mut []);
        // Insertion sort: at most 16 blocks, and no panicking path for the
        // kernel build (core's slice sorts bring in ones objtool flags).
        for i in 1..new.len() {
            let mut j = i;
            while j > 0 && new.get(j - 1).map(|b| b.lowest) > new.get(j).map(|b| b.lowest) {
                new.swap(j - 1, j);
                j -= 1;
            }
        }
        for w in new.windows(2) {
            if let [a, b] = w {
                if u32::from(a.lowest) + u32::from(a.count) > u32::from(b.lowest) {
                    return Err(SpttError::OverlappingBlocks);
                }
            }
        }
        let new: &[PortBlock] = new;
        let removed = self.remove_where(|e| !new.iter().any(|b| b.contains(e.unique)));
        // Publish the new held bitmap: every word under an old or a new
        // block gets the new blocks' bits.
        let old = self.st.blocks;
        let nold = self.st.nblocks;
        for b in old.iter().take(nold).chain(new) {
            let (lo, hi) = (b.lowest, last_port(b));
            for i in usize::from(lo >> 6)..=usize::from(hi >> 6) {
                let v = new
                    .iter()
                    .fold(0, |m, n| m | word_mask(i, n.lowest, last_port(n)));
                if let Some(w) = self.sh.held.get(i) {
                    w.store(v, Ordering::Release);
                }
            }
        }
        self.st.blocks = [NO_BLOCK; MAX_BLOCKS];
        for (d, b) in self.st.blocks.iter_mut().zip(new) {
            *d = *b;
        }
        self.st.nblocks = new.len();
        self.st.held_ports = new.iter().map(|b| u32::from(b.count)).sum();
        Ok(removed)
    }

    /// The first free held port of `proto` at or after `from`.
    fn free_from(&self, proto: Proto, from: u32) -> Option<u16> {
        let used = self.used.get(proto);
        self.blocks().iter().find_map(|b| {
            let lo = u32::from(b.lowest).max(from);
            scan(used, lo, last_port(b), false)
        })
    }

    /// The unique port of `eph` in `proto`, creating the entry (used at
    /// `now`) if there is none: call it under the writer lock after a
    /// lookup miss. If another CPU created it meanwhile, that entry is
    /// returned. A new entry maps `eph` to itself when `eph` is held and
    /// free, else to the first free held port in round-robin order (see
    /// Documentation/networking/dnat.rst, "The SPTT"). Errors:
    /// [`SpttError::ZeroPort`], [`SpttError::NoFreePort`].
    pub fn create(&mut self, proto: Proto, eph: u16, now: u32) -> Result<u16, SpttError> {
        if eph == 0 {
            return Err(SpttError::ZeroPort);
        }
        let t = *self.sh.t.get(proto);
        let u = at(t.out, eph).load(Ordering::Relaxed);
        if u != 0 {
            return Ok(u);
        }
        let u = if self.sh.held(eph) && !self.is_used(proto, eph) {
            eph
        } else {
            let from = *self.st.next.get(proto);
            let u = self
                .free_from(proto, from)
                .or_else(|| self.free_from(proto, 0))
                .ok_or(SpttError::NoFreePort)?;
            *self.st.next.get_mut(proto) = u32::from(u) + 1;
            u
        };
        at(t.state, u).store(0, Ordering::Relaxed);
        at(t.last_use, u).store(now, Ordering::Relaxed);
        if proto == Proto::Tcp {
            // No remote end yet: no inbound RST closes the entry before
            // the host sends.
            at(self.sh.tcp_peer, u).store(0, Ordering::Relaxed);
        }
        at(t.back, u).store(eph, Ordering::Release);
        at(t.out, eph).store(u, Ordering::Release);
        self.set_used(proto, u, true);
        let n = self.st.entries.get_mut(proto);
        *n = n.saturating_add(1);
        Ok(u)
    }

    /// Removes the entry of unique port `unique` (clears `out` first, then
    /// `back`) and returns its ephemeral port.
    pub fn remove(&mut self, proto: Proto, unique: u16) -> Option<u16> {
        let t = *self.sh.t.get(proto);
        let eph = at(t.back, unique).load(Ordering::Relaxed);
        if eph != 0 {
            let out = at(t.out, eph);
            if out.load(Ordering::Relaxed) == unique {
                out.store(0, Ordering::Release);
            }
            at(t.back, unique).store(0, Ordering::Release);
        }
        if self.is_used(proto, unique) {
            self.set_used(proto, unique, false);
            let n = self.st.entries.get_mut(proto);
            *n = n.saturating_sub(1);
        }
        (eph != 0).then_some(eph)
    }

    /// Removes every entry (of both protocols, inside the current blocks)
    /// for which `f` is true; returns how many.
    fn remove_where(&mut self, mut f: impl FnMut(&Entry) -> bool) -> usize {
        let mut n = 0;
        for proto in Proto::ALL {
            for bi in 0..self.st.nblocks {
                let Some(b) = self.st.blocks.get(bi).copied() else {
                    break;
                };
                let hi = last_port(&b);
                let mut from = u32::from(b.lowest);
                while let Some(u) = scan(self.used.get(proto), from, hi, true) {
                    let gone = self.sh.entry(proto, u).is_none_or(|e| f(&e));
                    if gone {
                        self.remove(proto, u);
                        n += 1;
                    }
                    from = u32::from(u) + 1;
                }
            }
        }
        n
    }

    /// Removes the entries idle for longer than their timeout at `now`
    /// ([`Timeouts::for_entry`]: closing TCP entries after `tcp_closing`);
    /// their unique ports become free. Returns how many. Cost: the used
    /// bitmap words inside the blocks plus one check per entry.
    pub fn expire(&mut self, now: u32, timeouts: &Timeouts) -> usize {
        self.remove_where(|e| age(now, e.last_use) > timeouts.for_entry(e.proto, e.state))
    }

    /// Removes every entry; returns how many. The blocks stay.
    pub fn remove_all(&mut self) -> usize {
        self.remove_where(|_| true)
    }

    /// The first entry at or after `cursor`, with the cursor to resume
    /// from (multi-part netlink dumps). Cursors are `proto index * 65536 +
    /// unique port`, 0 is the start; a table changed between parts may
    /// make a dump skip or repeat entries, as netlink dumps do. Cost: the
    /// used bitmap words between the two cursors.
    pub fn next_entry(&self, cursor: u32) -> Option<(Entry, u32)> {
        let mut c = cursor;
        loop {
            let proto = Proto::from_index((c >> 16) as usize)?;
            let base = (proto.index() as u32) << 16;
            match scan(self.used.get(proto), c & 0xffff, u16::MAX, true) {
                Some(u) => {
                    let pos = base | u32::from(u);
                    if let Some(e) = self.sh.entry(proto, u) {
                        return Some((e, pos + 1));
                    }
                    c = pos + 1;
                }
                None => c = base + (1 << 16),
            }
        }
    }

    /// Calls `f` for every entry, TCP then UDP, by unique port.
    pub fn for_each(&self, mut f: impl FnMut(Entry)) {
        let mut c = 0;
        while let Some((e, next)) = self.next_entry(c) {
            f(e);
            c = next;
        }
    }
}
