// SPDX-License-Identifier: GPL-2.0

//! The Prometheus text exposition format (version 0.0.4), which
//! node_exporter's textfile collector reads: per metric family a `# HELP`
//! and a `# TYPE` line, then its samples, with help texts and label values
//! escaped. And the atomic write of a `.prom` file: a temporary file in the
//! same directory, renamed over it, so that a reader never sees half of one.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Only goes up (a restart or a new client starts it at 0 again).
    Counter,
    /// Goes up and down.
    Gauge,
    /// A value whose meaning this tool does not know.
    Untyped,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
            Type::Untyped => "untyped",
        }
    }
}

/// One sample: its labels (name, value) and its value.
pub type Sample = (Vec<(&'static str, String)>, u64);

/// A metric family: its name, help and type, and its samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub kind: Type,
    pub samples: Vec<Sample>,
}

impl Family {
    /// A family without samples yet.
    pub fn new(name: String, kind: Type, help: impl Into<String>) -> Self {
        Self {
            name,
            help: help.into(),
            kind,
            samples: Vec::new(),
        }
    }

    /// The family with one sample without labels.
    pub fn single(name: String, kind: Type, help: impl Into<String>, value: u64) -> Self {
        let mut f = Self::new(name, kind, help);
        f.samples.push((Vec::new(), value));
        f
    }
}

/// `s` as a metric name: every character other than `[a-zA-Z0-9_:]`
/// becomes `_`, and a leading digit gets a `_` before it.
pub fn metric_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// A help text as `# HELP` takes it: `\` and line feeds escaped.
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A label value as it goes between double quotes: `\`, `"` and line
/// feeds escaped.
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The families in the text format, in the order given; a family without
/// samples is left out (a textfile collector has nothing to export for
/// it).
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families.iter().filter(|f| !f.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.name());
        for (labels, value) in &f.samples {
            out.push_str(&f.name);
            if !labels.is_empty() {
                let l: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = write!(out, "{{{}}}", l.join(","));
            }
            let _ = writeln!(out, " {value}");
        }
    }
    out
}

/// The temporary file `write_atomic` writes `path` through: in the same
/// directory (a rename does not cross file systems), hidden and not ending
/// in `.prom`, so that the textfile collector, which reads `*.prom`, never
/// reads it.
fn temporary(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let tmp = format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(tmp))
}

/// Writes `text` to `path` atomically: into a temporary file of the same
/// directory (mode 0644, so that a collector running as another user can
/// read it), synced, then renamed over `path`. On an error `path` is left
/// as it was and the temporary file is removed.
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let tmp = temporary(path)?;
    // Left over by a process that had our pid and was killed mid-write.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let r = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.set_permissions(Permissions::from_mode(0o644))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_valid() {
        assert_eq!(
            metric_name("dnat_router_in_delivered_total"),
            "dnat_router_in_delivered_total"
        );
        assert_eq!(metric_name("a-b.c:d"), "a_b_c:d");
        assert_eq!(metric_name("4x"), "_4x");
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("é"), "_");
    }

    #[test]
    fn renders_families_with_escapes() {
        let mut hosts = Family::new(
            "x_host_bytes_total".into(),
            Type::Counter,
            "Bytes \\ per\nhost.",
        );
        hosts.samples.push((vec![("host", "10.0.0.1".into())], 640));
        hosts.samples.push((
            vec![("host", "a\"b\\c\nd".into()), ("dir", "in".into())],
            u64::MAX,
        ));
        let families = [
            Family::single("x_granted_total".into(), Type::Counter, "Granted.", 0),
            Family::new("x_empty".into(), Type::Gauge, "Never shown."),
            hosts,
            Family::single("x_odd".into(), Type::Untyped, "Unknown.", 7),
            Family::single("x_table_bytes".into(), Type::Gauge, "Memory.", 1024),
        ];
        assert_eq!(
            render(&families),
            "# HELP x_granted_total Granted.\n\
             # TYPE x_granted_total counter\n\
             x_granted_total 0\n\
             # HELP x_host_bytes_total Bytes \\\\ per\\nhost.\n\
             # TYPE x_host_bytes_total counter\n\
             x_host_bytes_total{host=\"10.0.0.1\"} 640\n\
             x_host_bytes_total{host=\"a\\\"b\\\\c\\nd\",dir=\"in\"} 18446744073709551615\n\
             # HELP x_odd Unknown.\n\
             # TYPE x_odd untyped\n\
             x_odd 7\n\
             # HELP x_table_bytes Memory.\n\
             # TYPE x_table_bytes gauge\n\
             x_table_bytes 1024\n"
        );
        assert_eq!(render(&[]), "");
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = std::env::temp_dir().join(format!("dnatctl-prom-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        let path = dir.join("dnat.prom");
        write_atomic(&path, "a 1\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a 1\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        // A stale temporary file of our pid is replaced, not an error.
        let tmp = temporary(&path).unwrap();
        assert_eq!(
            tmp.file_name().unwrap().to_string_lossy(),
            format!(".dnat.prom.{}.tmp", std::process::id())
        );
        fs::write(&tmp, "stale").unwrap();
        write_atomic(&path, "a 2\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a 2\n");
        // Only the file is left: no temporary file.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["dnat.prom"]);
        // A directory that does not exist: an error, nothing written.
        let e = write_atomic(&dir.join("no/such.prom"), "x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        // A path without a file name.
        let e = write_atomic(Path::new("/"), "x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        // A rename onto a directory fails and leaves no temporary file.
        let sub = dir.join("sub.prom");
        fs::create_dir(sub.join("x").parent().unwrap()).unwrap();
        fs::write(sub.join("x"), "").unwrap();
        assert!(write_atomic(&sub, "x").is_err());
        assert!(!temporary(&sub).unwrap().exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
