// SPDX-License-Identifier: GPL-2.0

//! The writer side's storage: host slots and their blocks, the sorted
//! block lists, the allocation hints and the writer's state.

use super::super::config::{Range, SPI_FIRST_ALLOCATABLE};
use super::{AllocError, Kind, Quota, Settings, Shared, Slot, LOW_PORT_LIMIT, NO_EXPIRY};
use super::{PORT_BLOCKS_PER_HOST, SPI_BLOCKS_PER_HOST};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum State {
    #[default]
    Free,
    Active,
    Retiring,
}

/// A block in a host slot. `when`: expiry when active ([`NO_EXPIRY`]: none),
/// retirement stamp when retiring ([`PENDING`]: SPI not unpublished yet).
/// `pin`: end of a pin ([`AllocTable::pin`]), 0: none.
///
/// [`PENDING`]: super::PENDING
/// [`AllocTable::pin`]: super::AllocTable::pin
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Block {
    pub(super) lowest: u32,
    pub(super) count: u32,
    pub(super) when: u64,
    pub(super) pin: u64,
    pub(super) state: State,
}

impl Block {
    pub(super) const FREE: Block = Block {
        lowest: 0,
        count: 0,
        when: 0,
        pin: 0,
        state: State::Free,
    };

    pub(super) fn last(&self) -> u32 {
        self.lowest.saturating_add(self.count.saturating_sub(1))
    }
}

/// A host slot (writer-side; fields private). Storage starts as
/// [`HostSlot::EMPTY`].
#[derive(Debug, Clone, Copy)]
pub struct HostSlot {
    pub(super) addr: u32,
    pub(super) revoked: bool,
    pub(super) custom_quota: bool,
    /// The administrator set something else for the host (its delivery
    /// method) that its slot keeps while it holds nothing.
    pub(super) kept: bool,
    pub(super) quota: Quota,
    pub(super) held: [u32; 2],
    pub(super) ports: [Block; PORT_BLOCKS_PER_HOST],
    pub(super) spis: [Block; SPI_BLOCKS_PER_HOST],
}

impl HostSlot {
    /// An unused slot.
    pub const EMPTY: HostSlot = HostSlot {
        addr: 0,
        revoked: false,
        custom_quota: false,
        kept: false,
        quota: Quota { ports: 0, spis: 0 },
        held: [0; 2],
        ports: [Block::FREE; PORT_BLOCKS_PER_HOST],
        spis: [Block::FREE; SPI_BLOCKS_PER_HOST],
    };

    pub(super) fn blocks(&self, kind: Kind) -> &[Block] {
        match kind {
            Kind::Port => &self.ports,
            Kind::Spi => &self.spis,
        }
    }

    pub(super) fn blocks_mut(&mut self, kind: Kind) -> &mut [Block] {
        match kind {
            Kind::Port => &mut self.ports,
            Kind::Spi => &mut self.spis,
        }
    }

    pub(super) fn held_mut(&mut self, kind: Kind) -> &mut u32 {
        match kind {
            Kind::Port => &mut self.held[0],
            Kind::Spi => &mut self.held[1],
        }
    }

    pub(super) fn held(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Port => self.held[0],
            Kind::Spi => self.held[1],
        }
    }

    pub(super) fn idle(&self) -> bool {
        !self.revoked
            && !self.custom_quota
            && !self.kept
            && self
                .ports
                .iter()
                .chain(self.spis.iter())
                .all(|b| b.state == State::Free)
    }
}

impl Default for HostSlot {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// An entry of a sorted block list (writer-side; fields private).
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockRef {
    pub(super) lowest: u32,
    pub(super) last: u32,
    pub(super) slot: Slot,
    pub(super) index: u8,
}

/// "Every value in `base..next` is taken" (active or retiring).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Hint {
    pub(super) base: u64,
    pub(super) next: u64,
}

impl Hint {
    fn at(base: u64) -> Self {
        Self { base, next: base }
    }
    pub(super) fn taken(&mut self, lo: u64, hi: u64) {
        if lo <= self.next && hi >= self.next {
            self.next = hi + 1;
        }
    }
    pub(super) fn freed(&mut self, lo: u64, hi: u64) {
        if hi >= self.base && lo < self.next {
            self.next = lo.max(self.base);
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PerKind<T> {
    pub(super) port: T,
    pub(super) spi: T,
}

impl<T> PerKind<T> {
    pub(super) fn get(&self, kind: Kind) -> &T {
        match kind {
            Kind::Port => &self.port,
            Kind::Spi => &self.spi,
        }
    }
    pub(super) fn get_mut(&mut self, kind: Kind) -> &mut T {
        match kind {
            Kind::Port => &mut self.port,
            Kind::Spi => &mut self.spi,
        }
    }
}

/// Writer-side state besides the slices (fields private).
#[derive(Debug, Clone)]
pub struct WriterState {
    pub(super) settings: Settings,
    pub(super) ports: Option<Range<u16>>,
    pub(super) spis: Option<Range<u32>>,
    /// Stamp of retirements and flips made now; the next token.
    pub(super) epoch: u64,
    /// Highest finished grace token.
    pub(super) done: u64,
    /// Epoch of the last SPI buffer flip.
    pub(super) flip: u64,
    pub(super) spi_dirty: bool,
    pub(super) len: PerKind<usize>,
    /// Ports: low side, high side. SPIs: one.
    pub(super) port_hints: [Hint; 2],
    pub(super) spi_hints: [Hint; 1],
    pub(super) active: PerKind<u32>,
    pub(super) retiring: PerKind<u32>,
    pub(super) held: PerKind<u64>,
    pub(super) hosts_used: u32,
}

impl WriterState {
    /// A fresh state, no pools configured.
    pub const fn new(settings: Settings) -> Self {
        Self {
            settings,
            ports: None,
            spis: None,
            epoch: 1,
            done: 0,
            flip: 0,
            spi_dirty: false,
            len: PerKind { port: 0, spi: 0 },
            port_hints: [Hint { base: 0, next: 0 }; 2],
            spi_hints: [Hint { base: 0, next: 0 }],
            active: PerKind { port: 0, spi: 0 },
            retiring: PerKind { port: 0, spi: 0 },
            held: PerKind { port: 0, spi: 0 },
            hosts_used: 0,
        }
    }

    pub(super) fn hints_mut(&mut self, kind: Kind) -> &mut [Hint] {
        match kind {
            Kind::Port => &mut self.port_hints,
            Kind::Spi => &mut self.spi_hints,
        }
    }

    pub(super) fn hints(&self, kind: Kind) -> &[Hint] {
        match kind {
            Kind::Port => &self.port_hints,
            Kind::Spi => &self.spi_hints,
        }
    }

    pub(super) fn reset_hints(&mut self) {
        let (lo, hi) = port_bounds(self.ports);
        self.port_hints = [Hint::at(lo), Hint::at(hi)];
        self.spi_hints = [Hint::at(spi_window(self.spis).map_or(0, |w| w.0))];
    }
}

impl Default for WriterState {
    fn default() -> Self {
        Self::new(Settings::DEFAULT)
    }
}

pub(super) fn slot_index(slot: Slot) -> Option<usize> {
    usize::from(slot).checked_sub(1)
}

/// `(low side start, high side start)` of the port pool, for the hints.
fn port_bounds(pool: Option<Range<u16>>) -> (u64, u64) {
    match pool {
        None => (0, 0),
        Some(p) => {
            let lo = u64::from(p.min.max(1));
            (lo, lo.max(u64::from(LOW_PORT_LIMIT)))
        }
    }
}

pub(super) fn port_window(pool: Option<Range<u16>>, below: bool) -> Result<(u64, u64), AllocError> {
    let p = pool.ok_or(AllocError::NotConfigured)?;
    let (lo, hi) = (u64::from(p.min.max(1)), u64::from(p.max));
    let limit = u64::from(LOW_PORT_LIMIT);
    let (lo, hi) = if below {
        (lo, hi.min(limit - 1))
    } else {
        (lo.max(limit), hi)
    };
    if lo > hi {
        return Err(AllocError::PoolSideEmpty);
    }
    Ok((lo, hi))
}

pub(super) fn spi_window(pool: Option<Range<u32>>) -> Option<(u64, u64)> {
    let p = pool?;
    let lo = u64::from(p.min.max(SPI_FIRST_ALLOCATABLE));
    let hi = u64::from(p.max);
    (lo <= hi).then_some((lo, hi))
}

/// A lease expiry that does not end before the block's pin (0: none).
pub(super) fn pinned_expiry(expires: u64, pin: u64) -> u64 {
    if expires == NO_EXPIRY {
        expires
    } else {
        expires.max(pin)
    }
}

pub(super) fn expiry(lease: u32, now: u64) -> u64 {
    if lease == 0 {
        NO_EXPIRY
    } else {
        now.saturating_add(u64::from(lease)).min(NO_EXPIRY - 1)
    }
}

pub(super) fn release_if_idle(
    hosts: &mut [HostSlot],
    shared: &Shared<'_>,
    st: &mut WriterState,
    slot: Slot,
) {
    let Some(h) = slot_index(slot).and_then(|i| hosts.get_mut(i)) else {
        return;
    };
    if h.addr != 0 && h.idle() {
        *h = HostSlot::EMPTY;
        shared.set_host(slot, 0);
        st.hosts_used = st.hosts_used.saturating_sub(1);
    }
}
