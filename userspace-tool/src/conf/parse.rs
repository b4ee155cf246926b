// SPDX-License-Identifier: GPL-2.0

//! Reading a configuration file, line by line: blank lines and lines whose
//! first non-blank character is `#` are skipped; `[Section]` or `[Section
//! ARG]` starts a section; `key = value` sets a key of the section (the
//! first `=` splits; blanks around the key and the value go). Each section
//! and each key is given once. The values are read by the parsers of `set`
//! (`args/settings.rs`). An error names its line.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use dnat_core::config::is_unicast;

use super::{HostConf, HostEntry, RouterConf};
use crate::args::{HostSettings, RouterSettings};

/// What is wrong with a file, and on which line (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    /// `None`: the file as a whole.
    pub line: Option<usize>,
    pub msg: String,
}

impl ConfError {
    pub fn at(line: usize, msg: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            msg: msg.into(),
        }
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(n) => write!(f, "{n}: {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

/// Where the sections and keys of a file are: its line numbers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lines {
    /// Section (`"Router"`, `"Host 10.0.0.1"`, `"Host"`) to its header's
    /// line.
    sections: BTreeMap<String, usize>,
    /// (section, key) to the key's line.
    keys: BTreeMap<(String, String), usize>,
}

impl Lines {
    /// The line of section `name`'s header.
    pub fn section(&self, name: &str) -> Option<usize> {
        self.sections.get(name).copied()
    }

    /// The line of `key` in section `name`, or else of the section's
    /// header.
    pub fn key(&self, name: &str, key: &str) -> Option<usize> {
        self.keys
            .get(&(name.to_owned(), key.to_owned()))
            .copied()
            .or_else(|| self.section(name))
    }

    fn has(&self, name: &str, key: &str) -> bool {
        self.keys.contains_key(&(name.to_owned(), key.to_owned()))
    }

    fn keys_of(&self, name: &str) -> usize {
        self.keys.keys().filter(|(s, _)| s == name).count()
    }
}

/// One line of a file.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Skip,
    /// `[NAME]` or `[NAME ARG]`.
    Section(&'a str, Option<&'a str>),
    /// `key = value`.
    Pair(&'a str, &'a str),
}

fn line(text: &str) -> Result<Line<'_>, String> {
    let t = text.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(Line::Skip);
    }
    if let Some(inner) = t.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("\"{t}\": a section header ends with ]"))?
            .trim();
        return Ok(match inner.split_once(char::is_whitespace) {
            Some((name, arg)) => Line::Section(name, Some(arg.trim())),
            None => Line::Section(inner, None),
        });
    }
    let (key, value) = t
        .split_once('=')
        .ok_or_else(|| format!("\"{t}\" is neither [Section] nor key = value"))?;
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err(format!("\"{t}\": no key before ="));
    }
    if value.is_empty() {
        return Err(format!("{key}: no value after ="));
    }
    Ok(Line::Pair(key, value))
}

/// The sections of a file and the keys read so far, for the checks that
/// each is given once.
struct Reader {
    lines: Lines,
    /// The section the keys go to, and its keys.
    current: Option<(String, &'static [&'static str])>,
}

impl Reader {
    fn new() -> Self {
        Self {
            lines: Lines::default(),
            current: None,
        }
    }

    /// Starts section `name` (with `keys`) on line `n`.
    fn start(
        &mut self,
        n: usize,
        name: String,
        keys: &'static [&'static str],
    ) -> Result<(), String> {
        if let Some(first) = self.lines.section(&name) {
            return Err(format!("[{name}] given twice (first on line {first})"));
        }
        self.lines.sections.insert(name.clone(), n);
        self.current = Some((name, keys));
        Ok(())
    }

    /// Records `key` on line `n` in the current section, which `first`
    /// names when there is none.
    fn key(&mut self, n: usize, key: &str, first: &str) -> Result<(), String> {
        let Some((name, keys)) = &self.current else {
            return Err(format!(
                "{key}: a setting outside a section ({first} comes first)"
            ));
        };
        let Some(&key) = keys.iter().find(|k| **k == key) else {
            return Err(format!(
                "unknown key \"{key}\" in [{name}]; expected {}",
                keys.join(", ")
            ));
        };
        let k = (name.clone(), key.to_owned());
        if let Some(first) = self.lines.keys.get(&k) {
            return Err(format!(
                "{key} given twice in [{name}] (first on line {first})"
            ));
        }
        self.lines.keys.insert(k, n);
        Ok(())
    }
}

/// The lines of `text`, numbered from 1.
fn numbered(text: &str) -> impl Iterator<Item = (usize, Result<Line<'_>, String>)> {
    text.lines().enumerate().map(|(i, t)| (i + 1, line(t)))
}

/// Reads a router's file: `[Router]` and `[Host ADDR]` sections.
pub fn router(text: &str) -> Result<(RouterConf, Lines), ConfError> {
    let mut conf = RouterConf::default();
    let mut r = Reader::new();
    // The section the keys go to: [Router] (None) or [Host ADDR].
    let mut host = None;
    let first = "[Router] or [Host ADDR]";
    for (n, l) in numbered(text) {
        let err = |msg: String| ConfError::at(n, msg);
        match l.map_err(err)? {
            Line::Skip => {}
            Line::Section("Router", None) => {
                r.start(n, "Router".into(), &RouterSettings::KEYS)
                    .map_err(err)?;
                host = None;
            }
            Line::Section("Router", Some(a)) => {
                return Err(err(format!("[Router {a}]: [Router] takes no argument")))
            }
            Line::Section("Host", Some(a)) => {
                let addr: Ipv4Addr = a.parse().map_err(|_| {
                    err(format!(
                        "[Host {a}]: \"{a}\" is not an IPv4 address (like 10.0.0.1)"
                    ))
                })?;
                if !is_unicast(addr) {
                    return Err(err(format!("[Host {a}]: not a unicast address")));
                }
                r.start(n, format!("Host {addr}"), &HostEntry::KEYS)
                    .map_err(err)?;
                conf.hosts.insert(addr, HostEntry::default());
                host = Some(addr);
            }
            Line::Section("Host", None) => {
                return Err(err(
                    "[Host] without an address: a router's file has [Host ADDR] (and [Host] \
                     is a host's file, for dnatctl host setconf)"
                        .into(),
                ))
            }
            Line::Section(name, _) => {
                return Err(err(format!(
                    "unknown section [{name}]; a router's file has {first}"
                )))
            }
            Line::Pair(key, value) => {
                r.key(n, key, first).map_err(err)?;
                match host {
                    None => conf.settings.set(key, value),
                    Some(addr) => conf.hosts.entry(addr).or_default().set(key, value),
                }
                .map_err(err)?;
            }
        }
    }
    for addr in conf.hosts.keys() {
        let name = format!("Host {addr}");
        if r.lines.keys_of(&name) == 0 {
            let n = r.lines.section(&name).unwrap_or_default();
            return Err(ConfError::at(
                n,
                format!("[{name}] sets nothing; give quota-ports, quota-spis, revoked or delivery"),
            ));
        }
        if r.lines.has(&name, "lladdr") && !r.lines.has(&name, "delivery") {
            return Err(ConfError {
                line: r.lines.key(&name, "lladdr"),
                msg: "lladdr needs delivery = direct in the same section".into(),
            });
        }
    }
    Ok((conf, r.lines))
}

/// Reads a host's file: a `[Host]` section.
pub fn host(text: &str) -> Result<(HostConf, Lines), ConfError> {
    let mut conf = HostConf::default();
    let mut r = Reader::new();
    for (n, l) in numbered(text) {
        let err = |msg: String| ConfError::at(n, msg);
        match l.map_err(err)? {
            Line::Skip => {}
            Line::Section("Host", None) => r
                .start(n, "Host".into(), &HostSettings::KEYS)
                .map_err(err)?,
            Line::Section("Host", Some(a)) => {
                return Err(err(format!(
                    "[Host {a}] is a router's section (dnatctl router setconf); a host's file \
                     has [Host]"
                )))
            }
            Line::Section("Router", _) => {
                return Err(err(
                    "[Router] is a router's section (dnatctl router setconf); a host's file \
                     has [Host]"
                        .into(),
                ))
            }
            Line::Section(name, _) => {
                return Err(err(format!(
                    "unknown section [{name}]; a host's file has [Host]"
                )))
            }
            Line::Pair(key, value) => {
                r.key(n, key, "[Host]").map_err(err)?;
                conf.settings.set(key, value).map_err(err)?;
            }
        }
    }
    Ok((conf, r.lines))
}
