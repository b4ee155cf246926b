// SPDX-License-Identifier: GPL-2.0

//! Taking blocks back: invalidations, pins, revocation, renewals and
//! lease expiry. A retired block waits for a grace period before reuse.

use core::net::Ipv4Addr;

use super::dump::info;
use super::state::{expiry, pinned_expiry, slot_index, HostSlot, State};
use super::{
    AllocError, AllocTable, BlockInfo, Grant, Kind, Slot, NO_EXPIRY, PENDING, PORT_BLOCKS_PER_HOST,
    SPI_BLOCKS_PER_HOST,
};

impl AllocTable<'_> {
    /// Retires the active block `index` of `slot`: unpublishes it now (ports)
    /// or at the next publication (SPIs).
    fn retire(&mut self, slot: Slot, kind: Kind, index: usize) -> Option<BlockInfo> {
        let h = self.hosts.get_mut(slot_index(slot)?)?;
        let b = h.blocks_mut(kind).get_mut(index)?;
        if b.state != State::Active {
            return None;
        }
        b.state = State::Retiring;
        b.when = match kind {
            Kind::Port => self.st.epoch,
            Kind::Spi => PENDING,
        };
        let b = *b;
        let held = h.held_mut(kind);
        *held = held.saturating_sub(b.count);
        let i = info(h, slot, kind, &b);
        let a = self.st.active.get_mut(kind);
        *a = a.saturating_sub(1);
        let held = self.st.held.get_mut(kind);
        *held = held.saturating_sub(u64::from(b.count));
        *self.st.retiring.get_mut(kind) += 1;
        match kind {
            Kind::Port => {
                for p in b.lowest..=b.last() {
                    self.shared.set_port(p, 0);
                }
            }
            Kind::Spi => self.st.spi_dirty = true,
        }
        Some(BlockInfo {
            expires: None,
            retiring: true,
            ..i
        })
    }

    /// Retires every active block of `kind` for which `pred(host, block)`.
    pub(super) fn retire_where(
        &mut self,
        kind: Kind,
        mut pred: impl FnMut(&HostSlot, &BlockInfo) -> bool,
        on_retire: &mut impl FnMut(&BlockInfo),
    ) -> usize {
        let mut n = 0;
        for hi in 0..self.hosts.len() {
            let Some(h) = self.hosts.get(hi) else { break };
            if h.addr == 0 || h.blocks(kind).iter().all(|b| b.state != State::Active) {
                continue;
            }
            let slot = u16::try_from(hi + 1).unwrap_or(0);
            for bi in 0..h.blocks(kind).len() {
                let Some(h) = self.hosts.get(hi) else { break };
                let hit = h
                    .blocks(kind)
                    .get(bi)
                    .is_some_and(|b| b.state == State::Active && pred(h, &info(h, slot, kind, b)));
                if hit {
                    if let Some(i) = self.retire(slot, kind, bi) {
                        on_retire(&i);
                        n += 1;
                    }
                }
            }
        }
        n
    }

    /// The active block of `kind` holding `value`: (slot, index).
    fn locate(&self, kind: Kind, value: u32) -> Option<(Slot, usize)> {
        let list = self.list(kind);
        let i = list.partition_point(|e| e.last < value);
        let e = list.get(i)?;
        if e.lowest > value {
            return None;
        }
        let b = self
            .hosts
            .get(slot_index(e.slot)?)?
            .blocks(kind)
            .get(usize::from(e.index))?;
        (b.state == State::Active).then_some((e.slot, usize::from(e.index)))
    }

    fn check_owner(&self, slot: Slot, by: Option<Ipv4Addr>) -> Result<(), AllocError> {
        match by {
            Some(a) if self.shared.find_host(u32::from(a)) != Some(slot) => {
                Err(AllocError::NotOwner)
            }
            _ => Ok(()),
        }
    }

    fn invalidate_value(
        &mut self,
        by: Option<Ipv4Addr>,
        kind: Kind,
        value: u32,
        exact: Option<Option<u32>>,
    ) -> Result<BlockInfo, AllocError> {
        let (slot, index) = self.locate(kind, value).ok_or(AllocError::NotAllocated)?;
        if let Some(count) = exact {
            let b = slot_index(slot)
                .and_then(|i| self.hosts.get(i))
                .and_then(|h| h.blocks(kind).get(index))
                .ok_or(AllocError::NotAllocated)?;
            if b.lowest != value || count.is_some_and(|c| c != b.count) {
                return Err(AllocError::NotAllocated);
            }
        }
        self.check_owner(slot, by)?;
        let pinned = slot_index(slot)
            .and_then(|i| self.hosts.get(i))
            .and_then(|h| h.blocks(kind).get(index))
            .is_some_and(|b| b.pin != 0);
        if pinned && by.is_some() {
            return Err(AllocError::Pinned);
        }
        let i = self
            .retire(slot, kind, index)
            .ok_or(AllocError::NotAllocated)?;
        self.try_publish();
        Ok(i)
    }

    /// Pins the block of `kind` that `host` holds and that contains
    /// `lowest..lowest + count` for `secs` seconds from `now` (0: unpins;
    /// the lease stays as the pin made it): until then the host cannot give
    /// it back ([`AllocError::Pinned`]) and its lease does not end before
    /// the pin. The host's own invalidate-all (it gives up everything), the
    /// administrator's invalidations, revocation and resets still retire
    /// it (the CA then revokes the certificate). Used for blocks named in a
    /// certificate.
    pub fn pin(
        &mut self,
        host: Ipv4Addr,
        kind: Kind,
        lowest: u32,
        count: u32,
        secs: u32,
        now: u64,
    ) -> Result<BlockInfo, AllocError> {
        let (slot, index) = self.locate(kind, lowest).ok_or(AllocError::NotAllocated)?;
        self.check_owner(slot, Some(host))?;
        let h = slot_index(slot)
            .and_then(|i| self.hosts.get_mut(i))
            .ok_or(AllocError::NotAllocated)?;
        let b = h
            .blocks_mut(kind)
            .get_mut(index)
            .ok_or(AllocError::NotAllocated)?;
        let end = u64::from(lowest) + u64::from(count);
        if count == 0 || end > u64::from(b.last()) + 1 {
            return Err(AllocError::NotAllocated);
        }
        b.pin = if secs == 0 {
            0
        } else {
            now.saturating_add(u64::from(secs)).min(NO_EXPIRY - 1)
        };
        if b.when != NO_EXPIRY && b.pin > b.when {
            b.when = b.pin;
        }
        let b = *b;
        Ok(info(h, slot, kind, &b))
    }

    /// Retires the block holding `port`. `by`: the host asking (must own
    /// it), `None` for the administrator.
    pub fn invalidate_port(
        &mut self,
        by: Option<Ipv4Addr>,
        port: u16,
    ) -> Result<BlockInfo, AllocError> {
        self.invalidate_value(by, Kind::Port, u32::from(port), None)
    }

    /// Retires the block holding `spi`.
    pub fn invalidate_spi(
        &mut self,
        by: Option<Ipv4Addr>,
        spi: u32,
    ) -> Result<BlockInfo, AllocError> {
        self.invalidate_value(by, Kind::Spi, spi, None)
    }

    /// Retires the block starting at `lowest` (and of `count` values, if
    /// given).
    pub fn invalidate_block(
        &mut self,
        by: Option<Ipv4Addr>,
        kind: Kind,
        lowest: u32,
        count: Option<u32>,
    ) -> Result<BlockInfo, AllocError> {
        self.invalidate_value(by, kind, lowest, Some(count))
    }

    /// Retires every block of `addr` of `scope` (`None`: ports and SPIs);
    /// the host keeps its slot policy (quota, revocation).
    pub fn invalidate_host(
        &mut self,
        addr: Ipv4Addr,
        scope: Option<Kind>,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> Result<usize, AllocError> {
        let slot = self.find_host(addr).ok_or(AllocError::UnknownHost)?;
        let n = self.retire_host(slot, scope, &mut on_retire);
        self.try_publish();
        Ok(n)
    }

    /// Retires `slot`'s blocks of `scope`, pinned ones too.
    fn retire_host(
        &mut self,
        slot: Slot,
        scope: Option<Kind>,
        on_retire: &mut impl FnMut(&BlockInfo),
    ) -> usize {
        let mut n = 0;
        for kind in Kind::ALL {
            if !kind.matches(scope) {
                continue;
            }
            for bi in 0..PORT_BLOCKS_PER_HOST.max(SPI_BLOCKS_PER_HOST) {
                if let Some(i) = self.retire(slot, kind, bi) {
                    on_retire(&i);
                    n += 1;
                }
            }
        }
        n
    }

    /// Revokes `addr`: retires all its blocks and refuses it everything
    /// until [`AllocTable::readmit_host`]. An unknown host gets a slot so
    /// that the refusal sticks.
    pub fn revoke_host(
        &mut self,
        addr: Ipv4Addr,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> Result<usize, AllocError> {
        let slot = self.admit(addr)?;
        if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
            h.revoked = true;
        }
        let n = self.retire_host(slot, None, &mut on_retire);
        self.try_publish();
        Ok(n)
    }

    /// Lifts a revocation.
    pub fn readmit_host(&mut self, addr: Ipv4Addr) -> Result<(), AllocError> {
        let slot = self.find_host(addr).ok_or(AllocError::UnknownHost)?;
        if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
            h.revoked = false;
        }
        self.release_if_idle(slot);
        Ok(())
    }

    /// Retires every block of `scope` (`None`: everything) of every host,
    /// as on a router reset. Revocations and quotas stay.
    pub fn invalidate_all(
        &mut self,
        scope: Option<Kind>,
        mut on_retire: impl FnMut(&BlockInfo),
    ) -> usize {
        let mut n = 0;
        for kind in Kind::ALL {
            if kind.matches(scope) {
                n += self.retire_where(kind, |_, _| true, &mut on_retire);
            }
        }
        self.try_publish();
        n
    }

    /// Renews the lease of `by`'s block of `kind` starting at `lowest` (and
    /// of `count` values, if given): expiry becomes `now + lease_for(lease)`.
    pub fn renew(
        &mut self,
        by: Ipv4Addr,
        kind: Kind,
        lowest: u32,
        count: Option<u32>,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let Some((slot, index)) = self.locate(kind, lowest) else {
            return match (kind, count) {
                (Kind::Spi, Some(count)) => self.regrant(by, lowest, count, lease, now),
                _ => Err(AllocError::NotAllocated),
            };
        };
        self.check_owner(slot, Some(by))?;
        let lease = self.st.settings.lease_for(lease);
        let expires = expiry(lease, now);
        let b = slot_index(slot)
            .and_then(|i| self.hosts.get_mut(i))
            .and_then(|h| h.blocks_mut(kind).get_mut(index))
            .ok_or(AllocError::NotAllocated)?;
        if b.lowest != lowest || count.is_some_and(|c| c != b.count) {
            return Err(AllocError::NotAllocated);
        }
        b.when = pinned_expiry(expires, b.pin);
        Ok(Grant {
            slot,
            lowest,
            count: b.count,
            lease,
            expires: (b.when != NO_EXPIRY).then_some(b.when),
        })
    }

    /// A renewal of an SPI block nobody holds (the router restarted and
    /// the host asks for its old block back, so that its SAs keep their
    /// SPIs): granted to `by` exactly as it was if all of it is free and in
    /// the pool, else [`AllocError::NotAllocated`], as before.
    fn regrant(
        &mut self,
        by: Ipv4Addr,
        lowest: u32,
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let pool = self.st.spis.ok_or(AllocError::NotAllocated)?;
        let last = u64::from(lowest) + u64::from(count);
        if count == 0 || lowest < pool.min || last > u64::from(pool.max) + 1 {
            return Err(AllocError::NotAllocated);
        }
        let window = (u64::from(lowest), last - 1);
        // All of it or nothing: a grant cut to the quota would not be the
        // block asked back.
        let (quota, held) = match self.find_host(by).and_then(slot_index) {
            Some(i) => self
                .hosts
                .get(i)
                .map_or((0, 0), |h| (self.quota_of(h).spis, h.held(Kind::Spi))),
            None => (self.st.settings.default_quota.spis, 0),
        };
        if count > quota.saturating_sub(held) {
            return Err(AllocError::OverQuota);
        }
        match self.search(Kind::Spi, window, u64::from(count)).0 {
            Some((lo, n)) if lo == u64::from(lowest) && n == u64::from(count) => {}
            _ => return Err(AllocError::NotAllocated),
        }
        let g = self.request(by, Kind::Spi, window, count, lease, now)?;
        if g.lowest != lowest || g.count != count {
            // Not expected after the search; never hand out a different
            // block under the old name.
            let _ = self.invalidate_block(None, Kind::Spi, g.lowest, Some(g.count));
            return Err(AllocError::NotAllocated);
        }
        Ok(g)
    }

    /// Renews every active block of `by`; returns how many.
    pub fn renew_host(&mut self, by: Ipv4Addr, lease: u32, now: u64) -> Result<usize, AllocError> {
        let slot = self.find_host(by).ok_or(AllocError::UnknownHost)?;
        let expires = expiry(self.st.settings.lease_for(lease), now);
        let h = slot_index(slot)
            .and_then(|i| self.hosts.get_mut(i))
            .ok_or(AllocError::UnknownHost)?;
        let mut n = 0;
        for b in h.ports.iter_mut().chain(h.spis.iter_mut()) {
            if b.state == State::Active {
                b.when = pinned_expiry(expires, b.pin);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Retires every block whose lease expired at `now` (O(blocks)); calls
    /// `on_retire` for each, returns how many.
    pub fn expire(&mut self, now: u64, mut on_retire: impl FnMut(&BlockInfo)) -> usize {
        for h in self.hosts.iter_mut().filter(|h| h.addr != 0) {
            for b in h.ports.iter_mut().chain(h.spis.iter_mut()) {
                if b.pin != 0 && b.pin <= now {
                    b.pin = 0;
                }
            }
        }
        let mut n = 0;
        for kind in Kind::ALL {
            n += self.retire_where(
                kind,
                |_, b| b.pinned.is_none() && b.expires.is_some_and(|e| e <= now),
                &mut on_retire,
            );
        }
        self.try_publish();
        n
    }

    /// The earliest lease expiry of an active block.
    pub fn next_expiry(&self) -> Option<u64> {
        let active = self
            .hosts
            .iter()
            .filter(|h| h.addr != 0)
            .flat_map(|h| h.ports.iter().chain(h.spis.iter()))
            .filter(|b| b.state == State::Active);
        // The end of a pin counts too: `expire` clears it then.
        active
            .flat_map(|b| [b.when, if b.pin == 0 { NO_EXPIRY } else { b.pin }])
            .filter(|&w| w != NO_EXPIRY)
            .min()
    }
}
