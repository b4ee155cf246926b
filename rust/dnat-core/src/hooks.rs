// SPDX-License-Identifier: GPL-2.0

//! IPv4 netfilter hook points (`enum nf_inet_hooks`) and their names.

/// Number of IPv4 hook points.
pub const NUM_HOOKS: usize = 5;

/// `NF_INET_PRE_ROUTING`.
pub const PRE_ROUTING: u32 = 0;
/// `NF_INET_LOCAL_IN`.
pub const LOCAL_IN: u32 = 1;
/// `NF_INET_FORWARD`.
pub const FORWARD: u32 = 2;
/// `NF_INET_LOCAL_OUT`.
pub const LOCAL_OUT: u32 = 3;
/// `NF_INET_POST_ROUTING`.
pub const POST_ROUTING: u32 = 4;

const NAMES: [&str; NUM_HOOKS] = ["prerouting", "input", "forward", "output", "postrouting"];

/// The counter slot of a hook, or `None` for a number that is not a hook.
pub fn index(hook: u32) -> Option<usize> {
    let i = usize::try_from(hook).ok()?;
    (i < NUM_HOOKS).then_some(i)
}

/// The name of a hook as `nft` spells it, or `None`.
pub fn name(hook: u32) -> Option<&'static str> {
    index(hook).map(|i| NAMES[i])
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
    }
}
