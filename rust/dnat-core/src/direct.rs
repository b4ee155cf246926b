// SPDX-License-Identifier: GPL-2.0

//! Direct delivery on the LAN segment: per host slot, how the router
//! delivers to the host (IP-in-IP, or the unchanged packet to its
//! link-layer address) and the Ethernet address its untunnelled packets
//! must come from; an index from that address back to the slot, for the
//! packets (ESP, AH) whose ownership no port proves.
//!
//! Readers are lock-free (one relaxed load per slot word, a few per index
//! probe); writers are serialised by the caller (the router's table
//! lock). Documentation/networking/dnat.rst, "Delivery methods".

use core::sync::atomic::{AtomicU16, AtomicU64, Ordering::Relaxed};

/// An Ethernet address.
pub type Lladdr = [u8; 6];

/// How the router delivers to a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// IP-in-IP (the default): the host's untunnelled packets with the
    /// public source are refused.
    Ipip,
    /// Direct, once bound: until the host's next accepted PAP message on
    /// the LAN device binds its Ethernet source, delivered by IP-in-IP.
    Learn,
    /// Direct, to and from this Ethernet address on the LAN device.
    Bound(Lladdr),
}

const DIRECT: u64 = 1 << 63;
const BOUND: u64 = 1 << 62;
const MAC_MASK: u64 = (1 << 48) - 1;

impl Binding {
    fn word(self) -> u64 {
        match self {
            Binding::Ipip => 0,
            Binding::Learn => DIRECT,
            Binding::Bound(m) => DIRECT | BOUND | mac_word(m),
        }
    }

    fn from_word(w: u64) -> Self {
        match (w & DIRECT != 0, w & BOUND != 0) {
            (false, _) => Binding::Ipip,
            (true, false) => Binding::Learn,
            (true, true) => Binding::Bound(word_mac(w)),
        }
    }

    /// Whether the host is in direct mode (bound or not).
    pub fn is_direct(self) -> bool {
        self != Binding::Ipip
    }

    /// The bound address, if any.
    pub fn lladdr(self) -> Option<Lladdr> {
        match self {
            Binding::Bound(m) => Some(m),
            Binding::Ipip | Binding::Learn => None,
        }
    }
}

fn mac_word(m: Lladdr) -> u64 {
    m.iter().fold(0, |w, &b| (w << 8) | u64::from(b))
}

fn word_mac(w: u64) -> Lladdr {
    let b = (w & MAC_MASK).to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// Whether `m` may be bound: a unicast address that is not all zeroes.
pub fn is_unicast(m: Lladdr) -> bool {
    m[0] & 1 == 0 && m != [0; 6]
}

/// Why a binding was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindError {
    /// No such slot.
    Slot,
    /// A multicast, broadcast or all-zero address.
    Lladdr,
    /// Another host is bound to that address.
    InUse,
    /// The index has no free entry in the address's probe window.
    Full,
}

/// Entries an address may be found in, from its home position.
const PROBE: usize = 16;
/// Index entries the modules use: twice their 256 host slots.
pub const INDEX: usize = 512;

/// The bindings of `N` slots (slot 0 unused) and their index of `I`
/// entries (a power of two, at least [`PROBE`]).
///
/// # Invariants
///
/// An index entry holds 0 or a slot below `N`. A bound slot is found by
/// [`Direct::slot_of`]: some entry among the `PROBE` from its address's
/// home position holds it. Entries that no longer match their slot's
/// binding are stale and skipped; writers reuse them.
pub struct Direct<const N: usize, const I: usize> {
    slots: [AtomicU64; N],
    index: [AtomicU16; I],
}

impl<const N: usize, const I: usize> Direct<N, I> {
    /// Every host on IP-in-IP.
    pub const fn new() -> Self {
        const { assert!(I.is_power_of_two() && I >= PROBE) };
        Self {
            slots: [const { AtomicU64::new(0) }; N],
            index: [const { AtomicU16::new(0) }; I],
        }
    }

    /// The binding of `slot` (IP-in-IP for a slot out of range).
    pub fn get(&self, slot: u16) -> Binding {
        self.slots
            .get(usize::from(slot))
            .map_or(Binding::Ipip, |w| Binding::from_word(w.load(Relaxed)))
    }

    fn home(m: Lladdr) -> usize {
        // Not keyed: only bindings the administrator or an authenticated
        // host made are indexed, so only hosts the router trusts could
        // crowd an address's window (its binding is then refused, Full).
        let w = mac_word(m).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (w >> 40) as usize & (I - 1)
    }

    fn live(&self, pos: usize, e: u16) -> bool {
        e != 0
            && self
                .get(e)
                .lladdr()
                .is_some_and(|m| Self::within(Self::home(m), pos))
    }

    fn within(home: usize, pos: usize) -> bool {
        (pos.wrapping_sub(home) & (I - 1)) < PROBE
    }

    /// The slot bound to `m`, if any.
    pub fn slot_of(&self, m: Lladdr) -> Option<u16> {
        let home = Self::home(m);
        (0..PROBE).find_map(|k| {
            let e = self.index.get((home + k) & (I - 1))?.load(Relaxed);
            (e != 0 && self.get(e) == Binding::Bound(m)).then_some(e)
        })
    }

    /// Sets the binding of `slot`. Writers are serialised by the caller.
    /// On error nothing changed.
    pub fn set(&self, slot: u16, b: Binding) -> Result<(), BindError> {
        let word = self.slots.get(usize::from(slot)).filter(|_| slot != 0);
        let word = word.ok_or(BindError::Slot)?;
        if let Binding::Bound(m) = b {
            if !is_unicast(m) {
                return Err(BindError::Lladdr);
            }
            match self.slot_of(m) {
                Some(s) if s != slot => return Err(BindError::InUse),
                Some(_) => {}
                None => self.insert(slot, m)?,
            }
        }
        word.store(b.word(), Relaxed);
        Ok(())
    }

    fn insert(&self, slot: u16, m: Lladdr) -> Result<(), BindError> {
        let home = Self::home(m);
        let window = || (0..PROBE).map(move |k| (home + k) & (I - 1));
        let holds = |p: usize, f: &dyn Fn(u16) -> bool| {
            self.index.get(p).is_some_and(|e| f(e.load(Relaxed)))
        };
        // An entry of the slot already in the window serves (a rebind then
        // takes no second one); else the first free or stale one.
        let free = window()
            .find(|&p| holds(p, &|e| e == slot))
            .or_else(|| window().find(|&p| holds(p, &|e| !self.live(p, e))));
        let e = free
            .and_then(|p| self.index.get(p))
            .ok_or(BindError::Full)?;
        e.store(slot, Relaxed);
        Ok(())
    }

    /// Every slot back on IP-in-IP. The modules do not call it: like a
    /// host's own quota, its delivery method outlives a new configuration
    /// and a reset.
    pub fn clear(&self) {
        for w in &self.slots {
            w.store(0, Relaxed);
        }
        for e in &self.index {
            e.store(0, Relaxed);
        }
    }
}

impl<const N: usize, const I: usize> Default for Direct<N, I> {
    fn default() -> Self {
        Self::new()
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn parse_lladdr(s: &str) -> Option<Lladdr> {
    let mut m = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut m {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

#[cfg(test)]
#[path = "direct/tests.rs"]
mod tests;
