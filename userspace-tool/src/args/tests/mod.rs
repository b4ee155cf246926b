// SPDX-License-Identifier: GPL-2.0

//! Tests of the command line, by concern. `args` splits a line into words,
//! `cli` is clap's parse of a whole command line.

mod commands;
mod help;
mod host_commands;
mod limits;
mod options;
mod pap_commands;
mod settings;

use clap::Parser;

use super::*;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn cli(s: &str) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("dnatctl").chain(s.split_whitespace()))
}
