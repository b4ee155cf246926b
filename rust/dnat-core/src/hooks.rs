// SPDX-License-Identifier: GPL-2.0

//! IPv4 netfilter hook points (`enum nf_inet_hooks`), their names, and
//! the per-hook packet counters.

use super::stat::counter_enum;

counter_enum! {
    /// An IPv4 hook point, in `enum nf_inet_hooks` order, with its name as
    /// `nft` spells it.
    pub enum Hook in HookPackets {
        /// `NF_INET_PRE_ROUTING`.
        PreRouting = "prerouting",
        /// `NF_INET_LOCAL_IN`.
        LocalIn = "input",
        /// `NF_INET_FORWARD`.
        Forward = "forward",
        /// `NF_INET_LOCAL_OUT`.
        LocalOut = "output",
        /// `NF_INET_POST_ROUTING`.
        PostRouting = "postrouting",
    }
}

/// Number of IPv4 hook points.
pub const NUM_HOOKS: usize = Hook::COUNT;

/// `NF_INET_PRE_ROUTING`.
pub const PRE_ROUTING: u32 = Hook::PreRouting as u32;
/// `NF_INET_LOCAL_IN`.
pub const LOCAL_IN: u32 = Hook::LocalIn as u32;
/// `NF_INET_FORWARD`.
pub const FORWARD: u32 = Hook::Forward as u32;
/// `NF_INET_LOCAL_OUT`.
pub const LOCAL_OUT: u32 = Hook::LocalOut as u32;
/// `NF_INET_POST_ROUTING`.
pub const POST_ROUTING: u32 = Hook::PostRouting as u32;

/// The hook point of number `hook`, or `None` for a number that is not a
/// hook.
pub fn of(hook: u32) -> Option<Hook> {
    Hook::ALL.get(usize::try_from(hook).ok()?).copied()
}

/// The counter slot of a hook, or `None` for a number that is not a hook.
pub fn index(hook: u32) -> Option<usize> {
    of(hook).map(Hook::index)
}

/// The name of a hook as `nft` spells it, or `None`.
pub fn name(hook: u32) -> Option<&'static str> {
    of(hook).map(Hook::name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indexes() {
        assert_eq!(name(PRE_ROUTING), Some("prerouting"));
        assert_eq!(name(POST_ROUTING), Some("postrouting"));
        assert_eq!(index(FORWARD), Some(2));
        assert_eq!(index(5), None);
        assert_eq!(name(u32::MAX), None);
        assert_eq!(of(LOCAL_OUT), Some(Hook::LocalOut));
        assert_eq!(PRE_ROUTING, 0);
        assert_eq!(POST_ROUTING, 4);
        assert_eq!(NUM_HOOKS, 5);
    }
}
