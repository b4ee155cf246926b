// SPDX-License-Identifier: GPL-2.0

//! Log lines: a level and a message, with a prefix chosen for where the
//! stream goes.
//!
//! - [`Style::Journal`]: the stream is systemd's journal (`JOURNAL_STREAM`
//!   names it), which stamps every line itself; the prefix is the syslog
//!   priority in the form of sd-daemon(3), `<4>`, which the journal takes
//!   as the line's priority and strips.
//! - [`Style::Stamped`]: anywhere else, for the daemons (`host follow`,
//!   `ca serve`): the time, UTC, ISO 8601 with milliseconds, and the
//!   level's name: `2026-12-06T06:35:15.123Z warning: host module absent,
//!   retrying in 5 s`.
//! - [`Style::Bare`]: the message alone, for the error line of a command
//!   run by hand, which is read at once ([`error`]).

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use time::OffsetDateTime;

/// A syslog severity (the ones dnatctl uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `LOG_ERR`: the daemon or the command failed.
    Error = 3,
    /// `LOG_WARNING`: something was refused or failed and is retried.
    Warning = 4,
    /// `LOG_NOTICE`: a change of state worth seeing (start, stop,
    /// recovery, revocation).
    Notice = 5,
    /// `LOG_INFO`: the daemon's ordinary work.
    Info = 6,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Info => "info",
        }
    }
}

/// How lines are prefixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Journal,
    Stamped,
    Bare,
}

impl Style {
    /// `Journal` if `stream` is the journal's, else `otherwise`.
    pub fn of(stream: impl AsFd, otherwise: Style) -> Style {
        Self::choose(
            std::env::var_os("JOURNAL_STREAM").as_deref(),
            identity(stream),
            otherwise,
        )
    }

    /// `Journal` if `journal_stream` (`JOURNAL_STREAM`: `DEVICE:INODE` in
    /// decimal, as systemd sets it for a service whose standard output or
    /// error is connected to the journal) is the stream's `id`, else
    /// `otherwise`. A stream redirected elsewhere by the service keeps
    /// the variable but not the identity, and so gets `otherwise`.
    pub fn choose(
        journal_stream: Option<&OsStr>,
        id: Option<(u64, u64)>,
        otherwise: Style,
    ) -> Style {
        let named = journal_stream
            .and_then(OsStr::to_str)
            .and_then(|s| s.split_once(':'))
            .and_then(|(d, i)| Some((d.parse::<u64>().ok()?, i.parse::<u64>().ok()?)));
        match (named, id) {
            (Some(n), Some(id)) if n == id => Style::Journal,
            _ => otherwise,
        }
    }
}

/// The device and inode of the file behind `stream`.
fn identity(stream: impl AsFd) -> Option<(u64, u64)> {
    let m = File::from(stream.as_fd().try_clone_to_owned().ok()?)
        .metadata()
        .ok()?;
    Some((m.dev(), m.ino()))
}

/// `msg` at `level` in `style`, at `now`; every line of a message of
/// several gets the prefix. No newline at the end.
pub fn format(style: Style, level: Level, msg: &str, now: OffsetDateTime) -> String {
    let prefix = match style {
        Style::Journal => format!("<{}>", level as u8),
        Style::Stamped => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {}: ",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
            now.millisecond(),
            level.name()
        ),
        Style::Bare => String::new(),
    };
    let lines: Vec<String> = msg.lines().map(|l| format!("{prefix}{l}")).collect();
    if lines.is_empty() {
        prefix
    } else {
        lines.join("\n")
    }
}

/// [`format()`] now.
pub fn line(style: Style, level: Level, msg: &str) -> String {
    format(style, level, msg, OffsetDateTime::now_utc())
}

/// Prints a command's error line on standard error: as it is, or with the
/// error priority when standard error is the journal (a command run by a
/// unit, such as `dnatctl router set` by dnat-router.service).
pub fn error(msg: &str) {
    let style = Style::of(std::io::stderr(), Style::Bare);
    eprintln!("{}", line(style, Level::Error, msg));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_796_539_715_123_456_789).unwrap();
        assert_eq!(
            format(Style::Stamped, Level::Warning, "host module absent", t),
            "2026-12-06T06:48:35.123Z warning: host module absent"
        );
        assert_eq!(
            format(Style::Journal, Level::Info, "validate 203.0.113.3", t),
            "<6>validate 203.0.113.3"
        );
        assert_eq!(
            format(Style::Journal, Level::Error, "a\nb", t),
            "<3>a\n<3>b"
        );
        assert_eq!(
            format(Style::Bare, Level::Error, "dnatctl: x", t),
            "dnatctl: x"
        );
        assert_eq!(format(Style::Journal, Level::Notice, "", t), "<5>");
    }

    #[test]
    fn journal_only_when_the_stream_is_the_one_named() {
        let id = Some((25, 4242));
        let js = |s: &str| Some(OsStr::new(s).to_owned());
        for (var, id, want) in [
            (js("25:4242"), id, Style::Journal),
            (js("25:4243"), id, Style::Stamped),
            (js("26:4242"), id, Style::Stamped),
            (js("25:4242"), None, Style::Stamped),
            (js("254242"), id, Style::Stamped),
            (js("x:4242"), id, Style::Stamped),
            (None, id, Style::Stamped),
        ] {
            assert_eq!(
                Style::choose(var.as_deref(), id, Style::Stamped),
                want,
                "{var:?} {id:?}"
            );
        }
        assert_eq!(
            Style::choose(js("1:2").as_deref(), None, Style::Bare),
            Style::Bare
        );
    }

    #[test]
    fn identifies_a_real_stream() {
        let f = tempfile_for_test();
        let m = f.metadata().unwrap();
        assert_eq!(identity(&f), Some((m.dev(), m.ino())));
        let named = format!("{}:{}", m.dev(), m.ino());
        assert_eq!(
            Style::choose(Some(OsStr::new(&named)), identity(&f), Style::Bare),
            Style::Journal
        );
        // Standard error is not this file.
        assert_eq!(
            Style::choose(
                Some(OsStr::new(&named)),
                identity(std::io::stderr()),
                Style::Bare
            ),
            Style::Bare
        );
    }

    fn tempfile_for_test() -> File {
        let p = std::env::temp_dir().join(format!("dnatctl-log-test-{}", std::process::id()));
        let f = File::create(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        f
    }
}
