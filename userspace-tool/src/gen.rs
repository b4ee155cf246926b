// SPDX-License-Identifier: GPL-2.0

//! The manual pages and shell completions of `dnatctl`, generated from its
//! clap definitions (`args/cli.rs`, `follow.rs`, `spi.rs`, `ca/cli.rs`).
//!
//! One page per command and subcommand, in section 8 (`dnatctl.8`,
//! `dnatctl-router.8`, `dnatctl-router-set.8`, ...; hidden commands and
//! options are left out), and the bash and zsh completions (which, as
//! clap_complete makes them, also complete the hidden testing options). The files are
//! checked in under `Documentation/man/` and `Documentation/completions/`,
//! from where `make install` installs them. The test below fails when they
//! differ from what the definitions generate; with `DNATCTL_REGENERATE=1`
//! (`make gen`) it writes them instead, and removes generated files that
//! no longer have a command. Test code only: `clap_mangen` and
//! `clap_complete` are dev-dependencies, and `dnatctl` carries none of it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{roman, Roff};

use crate::args::Cli;

/// The man page directory, relative to `Documentation/`.
pub const MAN_DIR: &str = "man";
/// The completions directory, relative to `Documentation/`.
pub const COMPLETIONS_DIR: &str = "completions";

/// Every generated file: its path relative to `Documentation/`, its bytes.
pub fn files() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = BTreeMap::new();
    pages(&cmd, &mut out);
    for (shell, name) in [(Shell::Bash, "dnatctl.bash"), (Shell::Zsh, "dnatctl.zsh")] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "dnatctl", &mut buf);
        out.insert(Path::new(COMPLETIONS_DIR).join(name), buf);
    }
    out
}

/// The pages of `cmd` and of its visible subcommands, recursively.
fn pages(cmd: &clap::Command, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let man = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .source(format!("dnatctl {}", env!("CARGO_PKG_VERSION")))
        .manual("dnat");
    out.insert(Path::new(MAN_DIR).join(man.get_filename()), page(&man, cmd));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, out);
    }
}

/// One page: clap_mangen's title, synopsis, options and subcommands; the
/// name line, the description (`about` or `long_about`, then `after_help`,
/// laid out as `--help` shows them) and the references here.
fn page(man: &clap_mangen::Man, cmd: &clap::Command) -> Vec<u8> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let mut out = Vec::new();
    man.render_title(&mut out).expect("rendering into memory");
    let mut roff = Roff::new();
    roff.control("SH", ["NAME"]);
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let about = about.strip_prefix("dnatctl: ").unwrap_or(&about);
    roff.text([roman(format!("{name} - {about}"))]);
    section(&mut out, &roff);
    let mut b = Vec::new();
    man.render_synopsis_section(&mut b)
        .expect("rendering into memory");
    out.extend(strip_preamble(&b));
    let mut roff = Roff::new();
    roff.control("SH", ["DESCRIPTION"]);
    if let Some(text) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        text_block(&mut roff, &text.to_string());
    }
    if let Some(text) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        roff.control("PP", []);
        text_block(&mut roff, &text.to_string());
    }
    section(&mut out, &roff);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        let mut b = Vec::new();
        man.render_options_section(&mut b)
            .expect("rendering into memory");
        out.extend(strip_preamble(&b));
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        let mut b = Vec::new();
        man.render_subcommands_section(&mut b)
            .expect("rendering into memory");
        out.extend(strip_preamble(&b));
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    match name.rsplit_once('-') {
        Some((parent, _)) => roff.text([roman(format!("{parent}(8)"))]),
        None => roff.text([roman(
            "modprobe(8); the systemd units dnat-router.service, dnat-host.service, \
             dnat-follow.service and dnat-ca.service; Documentation/networking/dnat.rst \
             (\"Installing and running as services\") and userspace-tool/README.md in \
             the dnat sources",
        )]),
    };
    section(&mut out, &roff);
    out
}

/// Appends `roff` to `out`, without the preamble every rendering starts with.
fn section(out: &mut Vec<u8>, roff: &Roff) {
    let mut b = Vec::new();
    roff.to_writer(&mut b).expect("rendering into memory");
    out.extend(strip_preamble(&b));
}

/// `b` without the two-line apostrophe preamble of `roff`, which the title
/// (the first section written) carries already.
fn strip_preamble(b: &[u8]) -> &[u8] {
    let mut rest = b;
    for _ in 0..2 {
        if rest.starts_with(b".ie ") || rest.starts_with(b".el ") {
            let end = rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(rest.len(), |i| i + 1);
            rest = &rest[end..];
        }
    }
    rest
}

/// `text` as roff paragraphs: one per block of lines between blank lines,
/// filled, except blocks with an indented line (tables of words, exit
/// codes) and examples, which keep their lines as `--help` prints them.
fn text_block(roff: &mut Roff, text: &str) {
    for (i, block) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        let lines: Vec<&str> = block.lines().collect();
        let laid_out = block.starts_with("Example") || lines.iter().any(|l| l.starts_with(' '));
        if laid_out {
            roff.control("nf", []);
        }
        for line in lines {
            roff.text([roman(line)]);
        }
        if laid_out {
            roff.control("fi", []);
        }
    }
}

/// Whether `name` in `dir` (relative to `Documentation/`) is of the kind
/// this module generates, so that a stale one is reported and removed.
fn generated_name(dir: &Path, name: &str) -> bool {
    if dir == Path::new(MAN_DIR) {
        name.starts_with("dnatctl") && name.ends_with(".8")
    } else {
        dir == Path::new(COMPLETIONS_DIR)
    }
}

/// The generated files found under `docs` (relative paths).
fn found(docs: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in [MAN_DIR, COMPLETIONS_DIR] {
        let Ok(entries) = fs::read_dir(docs.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if generated_name(Path::new(dir), &name) {
                v.push(Path::new(dir).join(name));
            }
        }
    }
    v.sort();
    v
}

/// What differs between `want` and the files under `docs`, one line each;
/// empty when they match.
pub fn compare(docs: &Path, want: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, bytes) in want {
        match fs::read(docs.join(path)) {
            Err(e) => problems.push(format!("{}: missing ({e})", path.display())),
            Ok(have) if have != *bytes => {
                let have = String::from_utf8_lossy(&have);
                let gen = String::from_utf8_lossy(bytes);
                let (n, a, b) = have
                    .lines()
                    .map(Some)
                    .chain(std::iter::repeat(None))
                    .zip(gen.lines().map(Some).chain(std::iter::repeat(None)))
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
                    .map(|(i, (a, b))| (i + 1, a, b))
                    .unwrap_or((0, None, None));
                problems.push(format!(
                    "{}: differs from line {n}: checked in {:?}, generated {:?}",
                    path.display(),
                    a.unwrap_or("(end)"),
                    b.unwrap_or("(end)")
                ));
            }
            Ok(_) => {}
        }
    }
    for path in found(docs) {
        if !want.contains_key(&path) {
            problems.push(format!(
                "{}: stale (no command generates it)",
                path.display()
            ));
        }
    }
    problems
}

/// Writes `want` under `docs` and removes the stale generated files.
pub fn write(docs: &Path, want: &BTreeMap<PathBuf, Vec<u8>>) -> std::io::Result<()> {
    for path in found(docs) {
        if !want.contains_key(&path) {
            fs::remove_file(docs.join(path))?;
        }
    }
    for (path, bytes) in want {
        let p = docs.join(path);
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir)?;
        }
        if fs::read(&p).ok().as_ref() != Some(bytes) {
            fs::write(&p, bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> PathBuf {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        crate_dir.parent().unwrap().join("Documentation")
    }

    /// The drift check (`make host-test`), or with `DNATCTL_REGENERATE=1`
    /// the generator (`make gen`).
    #[test]
    fn checked_in_man_pages_and_completions_are_current() {
        let want = files();
        if std::env::var_os("DNATCTL_REGENERATE").is_some() {
            write(&docs(), &want).expect("writing the generated files");
            eprintln!("generated {} files under {}", want.len(), docs().display());
            return;
        }
        let problems = compare(&docs(), &want);
        assert!(
            problems.is_empty(),
            "the man pages and completions under Documentation/ are not what the clap \
             definitions generate:\n  {}\nRun `make gen` and commit the result.",
            problems.join("\n  ")
        );
    }

    #[test]
    fn compare_finds_changed_missing_and_stale_files() {
        let dir = std::env::temp_dir().join(format!("dnatctl-gen-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut want = BTreeMap::new();
        want.insert(Path::new(MAN_DIR).join("dnatctl.8"), b"a\nb\n".to_vec());
        want.insert(
            Path::new(COMPLETIONS_DIR).join("dnatctl.bash"),
            b"x\n".to_vec(),
        );
        write(&dir, &want).unwrap();
        assert_eq!(compare(&dir, &want), Vec::<String>::new());

        fs::write(dir.join(MAN_DIR).join("dnatctl.8"), "a\nc\n").unwrap();
        fs::write(dir.join(MAN_DIR).join("dnatctl-gone.8"), "old\n").unwrap();
        fs::write(dir.join(MAN_DIR).join("README"), "not generated\n").unwrap();
        fs::remove_file(dir.join(COMPLETIONS_DIR).join("dnatctl.bash")).unwrap();
        let p = compare(&dir, &want);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("completions/dnatctl.bash: missing"),
            "{p:?}"
        );
        assert_eq!(
            p[1],
            "man/dnatctl.8: differs from line 2: checked in \"c\", generated \"b\""
        );
        assert_eq!(p[2], "man/dnatctl-gone.8: stale (no command generates it)");

        write(&dir, &want).unwrap();
        assert_eq!(compare(&dir, &want), Vec::<String>::new());
        assert!(!dir.join(MAN_DIR).join("dnatctl-gone.8").exists());
        assert!(dir.join(MAN_DIR).join("README").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_visible_command_has_a_page_and_hidden_ones_none() {
        let f = files();
        for page in [
            "dnatctl.8",
            "dnatctl-router.8",
            "dnatctl-router-set.8",
            "dnatctl-router-sa-validate.8",
            "dnatctl-host-follow.8",
            "dnatctl-host-spi-alloc.8",
            "dnatctl-pap-request-ports.8",
            "dnatctl-ca-serve.8",
            "dnatctl-cert-request.8",
        ] {
            assert!(f.contains_key(&Path::new(MAN_DIR).join(page)), "{page}");
        }
        assert!(!f.contains_key(&Path::new(MAN_DIR).join("dnatctl-help.8")));
        let text = |p: &str| String::from_utf8(f[Path::new(p)].clone()).unwrap();
        let set = text("man/dnatctl-router-set.8");
        assert!(set.contains(".TH dnatctl-router-set 8"), "{set}");
        assert!(set.contains("spis MIN\\-MAX"), "{set}");
        // Testing aids stay out of the pages (clap_complete completes
        // hidden options too, as clap means it to).
        for (path, bytes) in f.iter().filter(|(p, _)| p.starts_with(MAN_DIR)) {
            let s = String::from_utf8_lossy(bytes);
            for hidden in ["dry\\-run", "raw\\-csr"] {
                assert!(!s.contains(hidden), "{}: {hidden}", path.display());
            }
        }
        assert!(text("man/dnatctl-host-follow.8").contains("\\-\\-interval"));
        let bash = text("completions/dnatctl.bash");
        assert!(bash.contains("complete -F _dnatctl"), "{bash}");
        assert!(text("completions/dnatctl.zsh").starts_with("#compdef dnatctl"));
    }
}
