// SPDX-License-Identifier: GPL-2.0

//! The command line as a whole, like `ip` and `wg` take it: the global
//! options (`-j`/`--json`) and `-h`/`--help` are options wherever they
//! stand, also among the words of `set`, `quota`, `blacklist` and `pap`
//! (`--` ends the options: what follows is words); `-h` or `--help` among
//! the words after `--` asks for the help too, never a value.
//!
//! And the one format of every error, on standard error:
//!
//! ```text
//! dnatctl: router set: pap-rate: "1001" is out of range (0 to 1000)
//! Try 'dnatctl router set --help' for more information.
//! ```
//!
//! `dnatctl: CONTEXT: REASON`, where CONTEXT is the command words for a
//! usage error (clap's own, the word parsers', a bad line of a file of
//! `setconf`, which adds `FILE:LINE`), followed by the `Try` line, exit 2;
//! for the others it is what the tool was doing (`setting the dnat_router
//! configuration: Invalid argument (errno 22): ...`), exit 1, 3 or 4.

use std::error::Error as _;
use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::args::Cli;
use crate::nl::{exit, Error};

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
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            return Ok(Parsed::Help(e))
        }
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

/// The text of a usage error of command `words` (empty for none):
/// `dnatctl: WORDS: REASON`, then the `Try` line.
pub fn usage_lines(words: &str, reason: &str) -> String {
    let (cmd, help) = match words {
        "" => (String::new(), "dnatctl --help".to_owned()),
        w => (format!("{w}: "), format!("dnatctl {w} --help")),
    };
    format!("dnatctl: {cmd}{reason}\nTry '{help}' for more information.")
}

/// The text of an error of the command whose words are `words`: a usage
/// error as [`usage_lines`] puts it (a file's error of `setconf` names
/// the command too), the others as `dnatctl: WHAT: REASON`.
pub fn error_text(e: &Error, words: &str) -> String {
    match e {
        Error::Usage { cmd, msg } => usage_lines(cmd, msg),
        Error::Conf { .. } if e.exit_code() == exit::USAGE => usage_lines(words, &e.to_string()),
        Error::Conf { .. } => format!("dnatctl: {words}: {e}"),
        _ => format!("dnatctl: {e}"),
    }
}

/// The reason of a clap error, on one line, as the word parsers give
/// theirs: `COUNT: "0" is out of range (1 to 255)`, `unexpected
/// argument '--frob' found (tip: ...)`.
pub fn clap_reason(e: &clap::Error) -> String {
    let ctx = |k| e.get(k).map(ToString::to_string);
    let arg = ctx(ContextKind::InvalidArg).map(|a| arg_name(&a));
    match (e.kind(), arg, ctx(ContextKind::InvalidValue)) {
        (ErrorKind::ValueValidation, Some(arg), Some(value)) => {
            let why = e.source().map(ToString::to_string).unwrap_or_default();
            return if why.starts_with("is ") {
                format!("{arg}: \"{value}\" {why}")
            } else {
                format!("{arg}: \"{value}\": {why}")
            };
        }
        (ErrorKind::InvalidValue, Some(arg), Some(value)) => {
            if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
                return format!("{arg}: \"{value}\" is not {}", one_of(valid));
            }
        }
        _ => {}
    }
    // clap's own message: its first paragraph without "error: ", and its
    // tips, each on one line.
    let text = e.render().to_string();
    let mut paragraphs = text.split("\n\n");
    let head = paragraphs.next().unwrap_or_default();
    let mut reason = one_line(head.strip_prefix("error: ").unwrap_or(head));
    for tip in paragraphs.filter_map(|p| p.trim().strip_prefix("tip: ")) {
        reason.push_str(&format!(" (tip: {})", one_line(tip)));
    }
    reason
}

/// An argument as clap names it in errors (`<COUNT>`, `--interval
/// <SECONDS>`), as the word parsers name theirs: `COUNT`, `--interval`.
fn arg_name(a: &str) -> String {
    if a.starts_with('-') {
        return a.split_whitespace().next().unwrap_or(a).to_owned();
    }
    a.trim_end_matches("...")
        .trim_matches(|c| matches!(c, '<' | '>' | '[' | ']'))
        .to_owned()
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(v: &[String]) -> String {
    match v {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `s` with its lines and their indentation folded into single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
pub mod tests {
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
    pub const WORD_LISTS: [(&str, &str); 16] = [
        ("router set", "pap-rate 5 quota-ports 64"),
        ("router quota 10.0.0.2", "ports 64 spis 16"),
        (
            "router delivery 10.0.0.2",
            "direct lladdr 02:00:00:00:00:01",
        ),
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

    /// The text main prints for a line clap refuses.
    fn clap_text(line: &str) -> String {
        match parse(&argv(line)) {
            Err(e) => usage_lines(&command_words(&argv(line)).join(" "), &clap_reason(&e)),
            r => panic!("{line}: {r:?}"),
        }
    }

    /// Checks that `text` is a usage error of command `words`, in the one
    /// format: two lines, `dnatctl: WORDS: REASON` and the `Try` line.
    pub fn assert_usage_format(text: &str, words: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let (head, help) = match words {
            "" => ("dnatctl: ".to_owned(), "dnatctl --help".to_owned()),
            w => (format!("dnatctl: {w}: "), format!("dnatctl {w} --help")),
        };
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with(&head), "{words}: {text}");
        assert!(lines[0].len() > head.len(), "{text}");
        assert!(!text.contains("error:"), "{text}");
        assert_eq!(lines[1], format!("Try '{help}' for more information."));
    }

    /// Every kind of error clap finds is printed in the one format,
    /// with the command words the line got to.
    #[test]
    fn clap_errors_in_the_one_format() {
        for (line, words, reason) in [
            ("--frob", "", "unexpected argument '--frob' found"),
            (
                "--frob router show",
                "router show",
                "unexpected argument '--frob' found",
            ),
            (
                "router sett pap-rate 5",
                "router",
                "unrecognized subcommand 'sett' (tip: some similar subcommands exist: \
                 'setconf', 'stats', 'set')",
            ),
            ("switch show", "", "unrecognized subcommand 'switch'"),
            (
                "router quota",
                "router quota",
                "the following required arguments were not provided: <ADDR>",
            ),
            (
                "router revoke 10.0.0",
                "router revoke",
                "ADDR: \"10.0.0\" is not an IPv4 address (like 203.0.113.30)",
            ),
            (
                "router revoke 10.0.0.3 10.0.0.4",
                "router revoke",
                "unexpected argument '10.0.0.4' found",
            ),
            (
                "pap request ports 256 -j",
                "pap request ports",
                "COUNT: \"256\" is out of range (1 to 255)",
            ),
            (
                "host release spis 0x 16",
                "host release spis",
                "LOWEST: \"0x\" is not an SPI (256 to 4294967295, decimal or 0x hex)",
            ),
            (
                "router sa validate 10.0.0.1 203.0.113.3 255",
                "router sa validate",
                "SPI: \"255\" is out of range (256 to 4294967295)",
            ),
            (
                "host follow --interval 0",
                "host follow",
                "--interval: \"0\" is out of range (1 to 86400)",
            ),
            (
                "host spi alloc 203.0.113.3 --proto gre",
                "host spi alloc",
                "--proto: \"gre\" is not esp or ah",
            ),
            (
                "host spi alloc 203.0.113.3 --reqid -1",
                "host spi alloc",
                "--reqid: \"-1\" is not a number (0 to 4294967295)",
            ),
            (
                "pap release ports -5 16",
                "pap release ports",
                "LOWEST: \"-5\" is not a port number (1 to 65535)",
            ),
            (
                "router stats --output x.prom",
                "router stats",
                "the following required arguments were not provided: --prometheus",
            ),
            (
                "ca serve --dir d --listen 10.0.0.7 --max-validity 59",
                "ca serve",
                "--max-validity: \"59\" is out of range (60 to 4294967295)",
            ),
            (
                "router set pap-rate 5 -x",
                "router set",
                "unexpected argument '-x' found (tip: to pass '-x' as a value, use '-- -x')",
            ),
        ] {
            let text = clap_text(line);
            assert_usage_format(&text, words);
            assert_eq!(
                text.lines().next().unwrap(),
                match words {
                    "" => format!("dnatctl: {reason}"),
                    w => format!("dnatctl: {w}: {reason}"),
                },
                "{line}"
            );
        }
    }

    /// The errors of the commands, after clap: usage errors as clap's,
    /// a file's errors with the command words, the others as they were.
    #[test]
    fn errors_of_the_commands_in_the_one_format() {
        let usage = Error::Usage {
            cmd: "router quota",
            msg: "ports: \"0\" is out of range (1 to 4294967295)".into(),
        };
        let text = error_text(&usage, "router quota");
        assert_usage_format(&text, "router quota");
        assert_eq!(exit::USAGE, 2);
        let file = Error::Conf {
            at: "router.conf:6".into(),
            msg: "spis: \"1\" is out of range (256 to 4294967295)".into(),
            code: exit::USAGE,
        };
        let text = error_text(&file, "router setconf");
        assert_usage_format(&text, "router setconf");
        assert!(
            text.starts_with("dnatctl: router setconf: router.conf:6: spis: \"1\" is out of range")
        );
        let midway = Error::Conf {
            at: "router.conf:812".into(),
            msg: "setting the quota of host 10.1.1.44 ...: the host table is full".into(),
            code: exit::REFUSED,
        };
        assert_eq!(
            error_text(&midway, "router setconf"),
            "dnatctl: router setconf: router.conf:812: setting the quota of host 10.1.1.44 \
             ...: the host table is full"
        );
        let kernel = Error::Kernel {
            what: "setting the dnat_router configuration".into(),
            errno: 22,
            extack: Some("inverted SPI range: minimum above maximum".into()),
        };
        assert_eq!(
            error_text(&kernel, "router set"),
            "dnatctl: setting the dnat_router configuration: Invalid argument (errno 22): \
             inverted SPI range: minimum above maximum"
        );
        assert_eq!(kernel.exit_code(), exit::REFUSED);
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
