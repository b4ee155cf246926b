// SPDX-License-Identifier: GPL-2.0

//! Admission, quotas, requests and grants: first fit in the pools, below
//! or above 10000 for ports.

use core::net::Ipv4Addr;

use super::super::config::is_unicast;
use super::state::{
    expiry, port_window, release_if_idle, slot_index, spi_window, Block, BlockRef, HostSlot, State,
};
use super::{AllocError, AllocTable, Grant, Kind, Quota, Slot, NO_EXPIRY};

impl AllocTable<'_> {
    pub(super) fn quota_of(&self, h: &HostSlot) -> Quota {
        if h.custom_quota {
            h.quota
        } else {
            self.st.settings.default_quota
        }
    }

    /// The slot of `addr`, given one if it has none.
    pub fn admit(&mut self, addr: Ipv4Addr) -> Result<Slot, AllocError> {
        if !is_unicast(addr) {
            return Err(AllocError::BadHost);
        }
        let a = u32::from(addr);
        if let Some(s) = self.shared.find_host(a) {
            return Ok(s);
        }
        if self.st.hosts_used as usize >= self.hosts.len() {
            return Err(AllocError::HostTableFull);
        }
        let i = self
            .hosts
            .iter()
            .position(|h| h.addr == 0)
            .ok_or(AllocError::HostTableFull)?;
        let slot = u16::try_from(i + 1).map_err(|_| AllocError::HostTableFull)?;
        let h = self.hosts.get_mut(i).ok_or(AllocError::HostTableFull)?;
        *h = HostSlot {
            addr: a,
            ..HostSlot::EMPTY
        };
        self.shared.set_host(slot, a);
        self.st.hosts_used += 1;
        Ok(slot)
    }

    /// Frees `slot` if it holds nothing and carries no policy (revocation,
    /// own quota). Safe without a grace period: its last block was freed
    /// only after one.
    pub(super) fn release_if_idle(&mut self, slot: Slot) {
        release_if_idle(self.hosts, &self.shared, self.st, slot);
    }

    /// Sets (`Some`) or clears (`None`: back to the default) `addr`'s own
    /// quota. Lowering a quota below what the host holds takes nothing
    /// back; its next requests fail until it is under the quota.
    pub fn set_quota(&mut self, addr: Ipv4Addr, quota: Option<Quota>) -> Result<(), AllocError> {
        match quota {
            Some(q) => {
                let slot = self.admit(addr)?;
                if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
                    h.quota = q;
                    h.custom_quota = true;
                }
            }
            None => {
                let Some(slot) = self.find_host(addr) else {
                    return Ok(());
                };
                if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
                    h.custom_quota = false;
                    h.quota = Quota::default();
                }
                self.release_if_idle(slot);
            }
        }
        Ok(())
    }

    /// Keeps `addr`'s slot while it holds nothing (`keep`: given one if
    /// it has none), or lets it go again once idle: a slot for what the
    /// administrator sets per host besides the quota (the delivery
    /// method). The slot, if the host has one.
    pub fn keep(&mut self, addr: Ipv4Addr, keep: bool) -> Result<Option<Slot>, AllocError> {
        let slot = if keep {
            self.admit(addr)?
        } else {
            let Some(slot) = self.find_host(addr) else {
                return Ok(None);
            };
            slot
        };
        if let Some(h) = slot_index(slot).and_then(|i| self.hosts.get_mut(i)) {
            h.kept = keep;
        }
        if !keep {
            self.release_if_idle(slot);
        }
        Ok(self.find_host(addr))
    }

    /// Grants `addr` up to `count` ports from the pool's side below 10000
    /// (`below_10000`, PAP code 0) or from 10000 up (code 1). `lease`:
    /// requested seconds, 0 for the default; `now`: the caller's clock.
    pub fn request_ports(
        &mut self,
        addr: Ipv4Addr,
        count: u32,
        below_10000: bool,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        if count == 0 {
            return Err(AllocError::ZeroCount);
        }
        let w = port_window(self.st.ports, below_10000)?;
        self.request(addr, Kind::Port, w, count, lease, now)
    }

    /// Grants `addr` up to `count` SPIs from the SPI pool.
    pub fn request_spis(
        &mut self,
        addr: Ipv4Addr,
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        if count == 0 {
            return Err(AllocError::ZeroCount);
        }
        let w = spi_window(self.st.spis).ok_or(AllocError::NotConfigured)?;
        self.request(addr, Kind::Spi, w, count, lease, now)
    }

    pub(super) fn request(
        &mut self,
        addr: Ipv4Addr,
        kind: Kind,
        window: (u64, u64),
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let existing = self.find_host(addr);
        let slot = match existing {
            Some(s) => s,
            None => self.admit(addr)?,
        };
        let r = self.grant(slot, kind, window, count, lease, now);
        if r.is_err() && existing.is_none() {
            self.release_if_idle(slot);
        }
        self.try_publish();
        r
    }

    fn grant(
        &mut self,
        slot: Slot,
        kind: Kind,
        window: (u64, u64),
        count: u32,
        lease: u32,
        now: u64,
    ) -> Result<Grant, AllocError> {
        let hi = slot_index(slot).ok_or(AllocError::UnknownHost)?;
        let h = self.hosts.get(hi).ok_or(AllocError::UnknownHost)?;
        if h.revoked {
            return Err(AllocError::Revoked);
        }
        let remaining = self.quota_of(h).of(kind).saturating_sub(h.held(kind));
        if remaining == 0 {
            return Err(AllocError::OverQuota);
        }
        let want = u64::from(count.min(remaining));
        let Some(index) = h.blocks(kind).iter().position(|b| b.state == State::Free) else {
            return Err(
                if h.blocks(kind).iter().any(|b| b.state == State::Retiring) {
                    AllocError::ReclaimPending
                } else {
                    AllocError::TooManyBlocks
                },
            );
        };
        let (found, first_free) = self.search(kind, window, want);
        for hint in self.st.hints_mut(kind) {
            if hint.base == window.0 {
                hint.next = hint.next.max(first_free);
            }
        }
        let Some((lo, n)) = found else {
            return Err(if self.retiring_in(kind, window) {
                AllocError::ReclaimPending
            } else {
                AllocError::NoSpace
            });
        };
        let (Ok(lowest), Ok(count), Ok(index)) =
            (u32::try_from(lo), u32::try_from(n), u8::try_from(index))
        else {
            return Err(AllocError::NoSpace);
        };
        let last = lowest.saturating_add(count.saturating_sub(1));
        self.insert(
            kind,
            BlockRef {
                lowest,
                last,
                slot,
                index,
            },
        )?;
        let lease = self.st.settings.lease_for(lease);
        let expires = expiry(lease, now);
        let h = self.hosts.get_mut(hi).ok_or(AllocError::UnknownHost)?;
        if let Some(b) = h.blocks_mut(kind).get_mut(usize::from(index)) {
            *b = Block {
                lowest,
                count,
                when: expires,
                pin: 0,
                state: State::Active,
            };
        }
        *h.held_mut(kind) += count;
        *self.st.active.get_mut(kind) += 1;
        *self.st.held.get_mut(kind) += u64::from(count);
        for hint in self.st.hints_mut(kind) {
            hint.taken(u64::from(lowest), u64::from(last));
        }
        match kind {
            Kind::Port => {
                for p in lowest..=last {
                    self.shared.set_port(p, slot);
                }
            }
            Kind::Spi => self.st.spi_dirty = true,
        }
        Ok(Grant {
            slot,
            lowest,
            count,
            lease,
            expires: (expires != NO_EXPIRY).then_some(expires),
        })
    }

    pub(super) fn list(&self, kind: Kind) -> &[BlockRef] {
        let l = match kind {
            Kind::Port => &*self.port_list,
            Kind::Spi => &*self.spi_list,
        };
        l.get(..*self.st.len.get(kind)).unwrap_or(&[])
    }

    /// First fit of `want` values in `lo..=hi`, else the largest free run;
    /// and the first free value at or above the start of the search (all
    /// of `lo..first_free` is taken).
    pub(super) fn search(
        &self,
        kind: Kind,
        (lo, hi): (u64, u64),
        want: u64,
    ) -> (Option<(u64, u64)>, u64) {
        let list = self.list(kind);
        let mut cur = lo;
        for h in self.st.hints(kind) {
            if h.base <= lo {
                cur = cur.max(h.next);
            }
        }
        let start = list.partition_point(|e| u64::from(e.last) < cur);
        let mut best = (0u64, 0u64);
        let mut first_free = None;
        let mut consider = |at: u64, len: u64, best: &mut (u64, u64)| {
            if first_free.is_none() {
                first_free = Some(at);
            }
            if len > best.1 {
                *best = (at, len);
            }
            len >= want
        };
        for e in list.get(start..).unwrap_or(&[]) {
            if cur > hi {
                break;
            }
            let (elo, ehi) = (u64::from(e.lowest), u64::from(e.last));
            if elo > hi {
                break;
            }
            if elo > cur && consider(cur, elo - cur, &mut best) {
                return (Some((cur, want)), first_free.unwrap_or(cur));
            }
            cur = cur.max(ehi + 1);
        }
        if cur <= hi && consider(cur, hi - cur + 1, &mut best) {
            return (Some((cur, want)), first_free.unwrap_or(cur));
        }
        let ff = first_free.unwrap_or(hi + 1);
        ((best.1 > 0).then_some(best), ff)
    }

    /// Whether a retiring block of `kind` lies in `lo..=hi`.
    fn retiring_in(&self, kind: Kind, (lo, hi): (u64, u64)) -> bool {
        if *self.st.retiring.get(kind) == 0 {
            return false;
        }
        let list = self.list(kind);
        let start = list.partition_point(|e| u64::from(e.last) < lo);
        list.get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|e| u64::from(e.lowest) <= hi)
            .any(|e| {
                slot_index(e.slot)
                    .and_then(|i| self.hosts.get(i))
                    .and_then(|h| h.blocks(kind).get(usize::from(e.index)))
                    .is_some_and(|b| b.state == State::Retiring)
            })
    }

    fn insert(&mut self, kind: Kind, r: BlockRef) -> Result<(), AllocError> {
        let len = *self.st.len.get(kind);
        let list = match kind {
            Kind::Port => &mut *self.port_list,
            Kind::Spi => &mut *self.spi_list,
        };
        if len >= list.len() {
            return Err(AllocError::NoSpace);
        }
        let pos = list
            .get(..len)
            .map_or(len, |l| l.partition_point(|e| e.lowest < r.lowest));
        list.copy_within(pos..len, pos + 1);
        if let Some(e) = list.get_mut(pos) {
            *e = r;
        }
        *self.st.len.get_mut(kind) = len + 1;
        Ok(())
    }
}
