// SPDX-License-Identifier: GPL-2.0

//! Grace periods: the proof that readers are done with what was
//! unpublished, the reuse it allows, and the publication of the SPI
//! blocks.

use core::sync::atomic::Ordering;

use super::shared::index_spis;
use super::state::{release_if_idle, slot_index, Block, State};
use super::{AllocTable, GraceToken, Kind, PENDING, SPI_BUF_SHIFT, SPI_LEN_MASK};

impl AllocTable<'_> {
    /// Whether something waits for a grace period (retiring blocks, an SPI
    /// publication).
    pub fn needs_grace(&self) -> bool {
        self.st.retiring.port > 0 || self.st.retiring.spi > 0 || self.st.spi_dirty
    }

    /// Starts a grace period: returns the token to hand to
    /// [`AllocTable::finish_grace`] once an RCU grace period has elapsed
    /// *after this call*, or `None` if nothing waits.
    pub fn start_grace(&mut self) -> Option<GraceToken> {
        if !self.needs_grace() {
            return None;
        }
        let t = self.st.epoch;
        self.st.epoch += 1;
        Some(GraceToken(t))
    }

    /// Ends a grace period: frees every resource unpublished before the
    /// token was taken, releases idle host slots, and publishes pending SPI
    /// changes. Returns how many blocks were freed.
    pub fn finish_grace(&mut self, token: GraceToken) -> usize {
        let t = token.0.min(self.st.epoch.saturating_sub(1));
        self.st.done = self.st.done.max(t);
        let mut n = 0;
        for kind in Kind::ALL {
            if *self.st.retiring.get(kind) > 0 {
                n += self.reclaim(kind);
            }
        }
        self.try_publish();
        n
    }

    fn reclaim(&mut self, kind: Kind) -> usize {
        let done = self.st.done;
        let len = *self.st.len.get(kind);
        let list = match kind {
            Kind::Port => &mut *self.port_list,
            Kind::Spi => &mut *self.spi_list,
        };
        let mut kept = 0;
        let mut freed = 0;
        for r in 0..len {
            let Some(e) = list.get(r).copied() else { break };
            let b = slot_index(e.slot)
                .and_then(|i| self.hosts.get_mut(i))
                .and_then(|h| h.blocks_mut(kind).get_mut(usize::from(e.index)));
            match b {
                Some(b) if b.state == State::Retiring && b.when <= done => {
                    *b = Block::FREE;
                    freed += 1;
                    let hints = match kind {
                        Kind::Port => &mut self.st.port_hints[..],
                        Kind::Spi => &mut self.st.spi_hints[..],
                    };
                    for h in hints {
                        h.freed(u64::from(e.lowest), u64::from(e.last));
                    }
                    let rt = self.st.retiring.get_mut(kind);
                    *rt = rt.saturating_sub(1);
                    release_if_idle(self.hosts, &self.shared, self.st, e.slot);
                }
                _ => {
                    if let Some(d) = list.get_mut(kept) {
                        *d = e;
                    }
                    kept += 1;
                }
            }
        }
        *self.st.len.get_mut(kind) = kept;
        freed
    }

    /// Publishes the active SPI blocks into the inactive buffer and flips,
    /// if something changed and the inactive buffer is no longer read.
    pub(super) fn try_publish(&mut self) {
        if !self.st.spi_dirty || self.st.flip > self.st.done {
            return;
        }
        let w = self.shared.spi_ctl.load(Ordering::Relaxed);
        let next = (w >> SPI_BUF_SHIFT) ^ 1;
        let buf = if next == 0 {
            self.shared.spi[0]
        } else {
            self.shared.spi[1]
        };
        let epoch = self.st.epoch;
        let mut n = 0usize;
        let len = self.st.len.spi;
        for e in self.spi_list.iter().take(len) {
            let b = slot_index(e.slot)
                .and_then(|i| self.hosts.get_mut(i))
                .and_then(|h| h.spis.get_mut(usize::from(e.index)));
            match b {
                Some(b) if b.state == State::Active => {
                    if let Some(d) = buf.get(n) {
                        d.lowest.store(e.lowest, Ordering::Relaxed);
                        d.last.store(e.last, Ordering::Relaxed);
                        d.slot.store(u32::from(e.slot), Ordering::Relaxed);
                        n += 1;
                    }
                }
                Some(b) if b.state == State::Retiring && b.when == PENDING => b.when = epoch,
                _ => {}
            }
        }
        let dir = if next == 0 {
            self.shared.spi_dir[0]
        } else {
            self.shared.spi_dir[1]
        };
        index_spis(buf.get(..n).unwrap_or_default(), dir);
        let n = (n as u32) & SPI_LEN_MASK;
        self.shared
            .spi_ctl
            .store((next << SPI_BUF_SHIFT) | n, Ordering::Release);
        self.st.flip = epoch;
        self.st.spi_dirty = false;
    }
}
