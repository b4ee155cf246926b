// SPDX-License-Identifier: GPL-2.0

//! The command line: clap for the command words, and `ip`-style
//! "key value" lists for the settings of `set`.
//!
//! Checked here: the syntax (addresses parse, ranges are `MIN-MAX`) and
//! every number against its limit, from `limit.rs` (those of dnat-core,
//! which the kernel applies), as the help texts give them: out of range is
//! a usage error. The rest is for the kernel to judge: whether a range is
//! inverted, an interface exists, an address is unicast, the number given
//! for a name (`unowned 7`) is one it knows.
//!
//! `cli.rs` has the clap definitions, `help.rs` their long help texts,
//! `settings.rs` the settings of `set`, `options.rs` the other word lists,
//! `words.rs` the values of single words.

mod cli;
mod help;
mod options;
mod settings;
mod words;

pub use cli::{
    Cli, HostBlacklist, HostCmd, HostRelease, HostRequest, HostSa, HostSaArgs, Object,
    PapBlacklist, PapCmd, PapRelease, PapRequest, RouterBlacklist, RouterCmd, RouterSa, SaArgs,
    StatsArgs,
};
pub use options::{BlacklistWords, Delivery, PapOptions, QuotaWords};
pub use settings::{HostSettings, RouterSettings};
pub use words::{addr_arg, lladdr, lladdr_text, own_quota};

#[cfg(test)]
mod tests;
