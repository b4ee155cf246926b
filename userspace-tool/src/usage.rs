// SPDX-License-Identifier: GPL-2.0

//! The command line as a whole, like `ip` and `wg` take it: the global
//! options (`-j`/`--json`) and `-h`/`--help` are options wherever they
//! stand, also among the words of `set`, `quota`, `blacklist` and `pap`
//! (`--` ends the options: what follows is words); `-h` or `--help` among
//! the words after `--` asks for the help too, never a value.

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use crate::args::Cli;

/// What the command line says.
#[derive(Debug)]
pub enum Parsed {
    /// A command to run.
    Run(Cli),
    /// Help or version (exit 0), or the help where a command is missing
    /// (exit 2): clap prints it.
    Help(clap::Error),
}

/// Parses `argv` (with the program name first).
pub fn parse(argv: &[OsString]) -> Result<Parsed, clap::Error> {
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) if e.exit_code() == 0 => return Ok(Parsed::Help(e)),
        Err(e) => return Err(e),
    };
    if !cli.wants_help() {
        return Ok(Parsed::Run(cli));
    }
    let words = command_words(argv);
    let again = argv
        .iter()
        .take(1)
        .cloned()
        .chain(words.iter().map(OsString::from))
        .chain([OsString::from("--help")]);
    match Cli::try_parse_from(again) {
        Err(e) => Ok(Parsed::Help(e)),
        Ok(_) => unreachable!("--help always ends the parse"),
    }
}

/// The command words of `argv`: the subcommands named, in order
/// (`["router", "set"]`), by their names (not their aliases). They end
/// at the first word that names no subcommand, or at `--`. The options
/// that take a value are all on commands without subcommands (a test
/// checks it), so no option's value is taken for a command word.
pub fn command_words(argv: &[OsString]) -> Vec<String> {
    let root = Cli::command();
    let mut cmd = &root;
    let mut words = Vec::new();
    for a in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        if a == "--" {
            break;
        }
        if a.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(a.as_ref()) {
            Some(sub) => {
                words.push(sub.get_name().to_owned());
                cmd = sub;
            }
            None => break,
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    pub fn argv(s: &str) -> Vec<OsString> {
        std::iter::once("dnatctl")
            .chain(s.split_whitespace())
            .map(OsString::from)
            .collect()
    }

    /// Every command with a word list: the line up to the words, and
    /// words it takes.
    pub const WORD_LISTS: [(&str, &str); 15] = [
        ("router set", "pap-rate 5 quota-ports 64"),
        ("router quota 10.0.0.2", "ports 64 spis 16"),
        (
            "router blacklist add 10.0.0.1",
            "peer 203.0.113.66 spi 0x1000",
        ),
        ("router blacklist del 10.0.0.1", "spi 0x1000"),
        ("host set", "tcp-timeout 600 mode native"),
        ("host blacklist add", "peer 203.0.113.66 spi 0x1000"),
        ("host blacklist del", "peer 203.0.113.66"),
        ("pap request ports 16", "router 10.0.0.7 lease 60 low"),
        ("pap request spis 256", "lease 60 router 10.0.0.7"),
        ("pap release ports 20000 16", "router 10.0.0.7"),
        ("pap release spis 0x1000 256", "router 10.0.0.7"),
        ("pap validate 203.0.113.3 0x1000", "router 10.0.0.7"),
        ("pap invalidate 203.0.113.3 0x1000", "router 10.0.0.7"),
        ("pap blacklist add", "peer 203.0.113.66 router 10.0.0.7"),
        ("pap blacklist del", "spi 0x1000 router 10.0.0.7"),
    ];

    /// The commands of [`WORD_LISTS`] are those whose last argument is a
    /// list of words (in the order of the command tree).
    #[test]
    fn word_lists_are_all_listed() {
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            let words = cmd.get_positionals().any(|a| {
                matches!(
                    a.get_value_names().map(|v| v[0].as_str()),
                    Some("WORD" | "KEY VALUE")
                )
            });
            if words {
                out.push(path.trim().to_owned());
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut found = Vec::new();
        walk(&Cli::command(), "", &mut found);
        let listed: Vec<String> = WORD_LISTS
            .iter()
            .map(|(line, _)| command_words(&argv(line)).join(" "))
            .collect();
        assert_eq!(found, listed);
    }

    /// The words of a parsed line, and its `--json`.
    fn words_and_json(line: &str) -> (Vec<String>, bool) {
        match parse(&argv(line)) {
            Ok(Parsed::Run(cli)) => (cli.words().expect(line).to_vec(), cli.json),
            r => panic!("{line}: {r:?}"),
        }
    }

    /// `-j` and `--json` are the global option wherever they stand in the
    /// line of every command with words: before, among and after the
    /// words, between the command words and the arguments before them.
    #[test]
    fn json_anywhere_in_every_word_list() {
        for (head, words) in WORD_LISTS {
            let line: Vec<&str> = head.split(' ').chain(words.split(' ')).collect();
            let want: Vec<String> = words.split(' ').map(str::to_owned).collect();
            assert_eq!(words_and_json(&line.join(" ")), (want.clone(), false));
            for flag in ["-j", "--json"] {
                for at in 0..=line.len() {
                    let mut l = line.clone();
                    l.insert(at, flag);
                    let l = l.join(" ");
                    assert_eq!(words_and_json(&l), (want.clone(), true), "{l}");
                }
            }
        }
    }

    /// `-h` and `--help` anywhere in the line of every command with words
    /// (before the words, among them, after `--`) print that command's
    /// help, and are never a value.
    #[test]
    fn help_anywhere_in_every_word_list() {
        for (head, words) in WORD_LISTS {
            let cmd = command_words(&argv(head)).join(" ");
            let line: Vec<&str> = head.split(' ').chain(words.split(' ')).collect();
            let n = cmd.split(' ').count();
            for flag in ["-h", "--help"] {
                for at in n..=line.len() {
                    for dashes in [false, true] {
                        // After --, among the words (what follows -- is
                        // words, where the arguments before them are
                        // expected too).
                        let first = head.split(' ').count();
                        if dashes && at < first {
                            continue;
                        }
                        let mut l = line.clone();
                        l.insert(at, flag);
                        if dashes {
                            l.insert(first, "--");
                        }
                        let l = l.join(" ");
                        match parse(&argv(&l)) {
                            Ok(Parsed::Help(e)) => {
                                assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{l}");
                                assert_eq!(e.exit_code(), 0, "{l}");
                                let help = e.to_string();
                                assert!(
                                    help.contains(&format!("Usage: dnatctl {cmd} ")),
                                    "{l}: {help}"
                                );
                            }
                            r => panic!("{l}: {r:?}"),
                        }
                    }
                }
            }
        }
    }

    /// A negative number is a word (for the word parser to refuse), not an
    /// unknown option.
    #[test]
    fn negative_numbers_are_words() {
        for (line, words) in [
            ("router set pap-rate -1 -j", "pap-rate -1"),
            ("router quota 10.0.0.1 ports -5", "ports -5"),
            ("pap request ports 16 lease -1", "lease -1"),
        ] {
            let (w, _) = words_and_json(line);
            assert_eq!(w.join(" "), words, "{line}");
        }
    }

    #[test]
    fn command_words_of_a_line() {
        for (line, want) in [
            ("", ""),
            ("-j", ""),
            ("router", "router"),
            ("-j router set pap-rate 5 -j", "router set"),
            ("router --json set -- lan x", "router set"),
            ("router sett pap-rate 5", "router"),
            ("host translations -j", "host sptt"),
            ("router quota 10.0.0.1 ports 64", "router quota"),
            (
                "router blacklist add 10.0.0.1 peer 1.2.3.4",
                "router blacklist add",
            ),
            (
                "pap request ports 16 router 10.0.0.7 --native",
                "pap request ports",
            ),
            ("host stats --output show", "host stats"),
            ("-- router set", ""),
        ] {
            assert_eq!(command_words(&argv(line)).join(" "), want, "{line:?}");
        }
    }

    /// Every option that takes a value is on a command without
    /// subcommands (what [`command_words`] relies on).
    #[test]
    fn options_with_values_only_on_leaf_commands() {
        fn walk(cmd: &clap::Command, path: &str) {
            if cmd.has_subcommands() {
                for a in cmd.get_arguments() {
                    assert!(
                        a.is_positional() || !a.get_action().takes_values(),
                        "{path}: --{:?} takes a value",
                        a.get_long()
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        let mut root = Cli::command();
        root.build();
        walk(&root, "dnatctl");
    }

    #[test]
    fn help_among_the_words_after_the_options_end() {
        for line in [
            "router set -- --help",
            "router set lan -- -h",
            "router quota 10.0.0.1 -- ports --help",
            "pap validate 203.0.113.3 0x1000 -- -h",
        ] {
            match parse(&argv(line)) {
                Ok(Parsed::Help(e)) => {
                    assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{line}");
                    let help = e.to_string();
                    let words = command_words(&argv(line)).join(" ");
                    assert!(
                        help.contains(&format!("Usage: dnatctl {words} ")),
                        "{line}: {help}"
                    );
                }
                r => panic!("{line}: {r:?}"),
            }
        }
    }
}
