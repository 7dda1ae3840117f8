//! `ovn-vif-rs-gen`: writes the man page and the shell completions of
//! `ovn-vif-rs` from its clap definition (src/args.rs), for packaging
//! (debian/rules) and for users who install from source.
//!
//! ```text
//! ovn-vif-rs-gen man                   ovn-vif-rs.1 on stdout
//! ovn-vif-rs-gen completions SHELL     SHELL's completion script on stdout
//! ovn-vif-rs-gen all DIR               DIR/ovn-vif-rs.1, DIR/bash/ovn-vif-rs,
//!                                      DIR/zsh/_ovn-vif-rs, DIR/fish/ovn-vif-rs.fish
//! ```
//!
//! The man page: clap_mangen's title, NAME, DESCRIPTION and OPTIONS; a
//! SYNOPSIS and a COMMANDS section (each command's usage, description and
//! options, clap_mangen's) built here from the same definition; then the
//! hand-written sections of src/man-extra.roff (Logical_Switch_Port
//! options, environment, exit status, examples, files, see also, notes).

#![forbid(unsafe_code)]

#[allow(dead_code)] // the parser's fields and helpers serve src/main.rs
mod args;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clap_complete::Shell;

#[derive(Parser)]
#[command(
    name = "ovn-vif-rs-gen",
    about = "write ovn-vif-rs's man page and shell completions"
)]
struct Gen {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// the man page (roff) on stdout
    Man,
    /// a completion script on stdout
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// the man page and the bash, zsh and fish completions into DIR
    All { dir: PathBuf },
}

fn main() -> ExitCode {
    let r = match Gen::parse().what {
        What::Man => man().and_then(|m| io::stdout().write_all(&m)),
        What::Completions { shell } => io::stdout().write_all(&completions(shell)),
        What::All { dir } => all(&dir),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ovn-vif-rs-gen: {e}");
            ExitCode::from(1)
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn all(dir: &Path) -> io::Result<()> {
    write(&dir.join("ovn-vif-rs.1"), &man()?)?;
    write(&dir.join("bash/ovn-vif-rs"), &completions(Shell::Bash))?;
    write(&dir.join("zsh/_ovn-vif-rs"), &completions(Shell::Zsh))?;
    write(&dir.join("fish/ovn-vif-rs.fish"), &completions(Shell::Fish))?;
    Ok(())
}

fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut args::command(), args::NAME, &mut out);
    out
}

/// `text` as roff text: backslashes and hyphens escaped, and a line
/// that would start with a control character protected.
fn esc(text: &str) -> String {
    let s = text
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('—', "\\(em");
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
}

/// A usage line in roff: placeholders (FILE, MAC, N, COMMAND, ARGS)
/// italic, brackets and bars roman, the rest bold.
fn usage_roff(usage: &str) -> String {
    let mut out = Vec::new();
    for word in usage.split_whitespace() {
        let core = word.trim_start_matches('[').trim_end_matches(']');
        let lead = &word[..word.len() - word.trim_start_matches('[').len()];
        let trail = &word[word.trim_end_matches(']').len()..];
        let body = if core.is_empty() || core == "|" {
            esc(core)
        } else if core.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            format!("\\fI{}\\fR", esc(core))
        } else {
            format!("\\fB{}\\fR", esc(core))
        };
        out.push(format!("{lead}{body}{trail}"));
    }
    out.join(" ")
}

fn full_usage(sc: &clap::Command) -> String {
    let u = sc.clone().render_usage().to_string();
    u.trim_start_matches("Usage:").trim().to_owned()
}

/// Paragraphs (blank-line separated) of `text`, each after `sep`.
fn paragraphs(o: &mut String, text: &str, sep: &str) {
    for (i, p) in text.split("\n\n").enumerate() {
        if i > 0 {
            o.push_str(sep);
            o.push('\n');
        }
        for l in p.lines() {
            o.push_str(&esc(l.trim()));
            o.push('\n');
        }
    }
}

/// The page's date, YYYY-MM-DD: SOURCE_DATE_EPOCH's (reproducible
/// builds; dpkg-buildpackage sets it from debian/changelog), else today's.
fn date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    civil(secs / 86_400)
}

/// Days since 1970-01-01 as a proleptic Gregorian date (H. Hinnant's
/// civil_from_days).
fn civil(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn man() -> io::Result<Vec<u8>> {
    let cmd = args::command();
    let version = env!("CARGO_PKG_VERSION");
    let page = clap_mangen::Man::new(cmd.clone())
        .title("OVN-VIF-RS")
        .section("1")
        .date(date())
        .source(format!("ovn-vif-rs {version}"))
        .manual("User Commands");
    let mut out = Vec::new();
    out.extend_from_slice(
        b".\\\" ovn-vif-rs(1), written by ovn-vif-rs-gen (cli/src/gen.rs) from the CLI's\n\
          .\\\" clap definition (cli/src/args.rs) and cli/src/man-extra.roff.\n\
          .\\\" SPDX-License-Identifier: Apache-2.0\n",
    );
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;

    let mut o = String::from(".SH SYNOPSIS\n");
    let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    for (i, sc) in subs.iter().enumerate() {
        if i > 0 {
            o.push_str(".br\n");
        }
        o.push_str(&usage_roff(&full_usage(sc)));
        o.push('\n');
    }
    out.extend_from_slice(o.as_bytes());

    page.render_description_section(&mut out)?;

    let mut o = String::from(".SH COMMANDS\n");
    for sc in &subs {
        o.push_str(".TP\n");
        o.push_str(&usage_roff(&args::short_usage(sc)));
        o.push('\n');
        let about = sc
            .get_long_about()
            .or_else(|| sc.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        paragraphs(&mut o, &about, ".IP");
        // Its own options (not --snapshot or --help, which every command
        // takes), as clap_mangen renders options, indented under it.
        let own = (*sc).clone().mut_args(|a| match a.get_id().as_str() {
            "snapshot" | "help" => a.hide(true),
            _ => a,
        });
        if own.get_arguments().any(|a| !a.is_hide_set()) {
            let mut opts = Vec::new();
            clap_mangen::Man::new(own).render_options_section(&mut opts)?;
            let opts = String::from_utf8_lossy(&opts);
            o.push_str(".RS\n");
            for l in opts.lines().filter(|l| !l.starts_with(".SH ")) {
                o.push_str(l);
                o.push('\n');
            }
            o.push_str(".RE\n");
        }
    }
    out.extend_from_slice(o.as_bytes());

    page.render_options_section(&mut out)?;
    out.extend_from_slice(include_bytes!("man-extra.roff"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), "1970-01-01");
        assert_eq!(super::civil(11_016), "2000-02-29");
        assert_eq!(super::civil(20_423), "2025-12-01");
        assert_eq!(super::civil(20_513), "2026-03-01");
    }

    #[test]
    fn roff_escapes() {
        assert_eq!(super::esc("a-b \\ c — d"), "a\\-b \\e c \\(em d");
        assert_eq!(super::esc("'quoted"), "\\&'quoted");
        assert_eq!(super::esc(".dot"), "\\&.dot");
        assert_eq!(
            super::usage_roff("x [--snapshot FILE] dump [--a N | --b N]"),
            "\\fBx\\fR [\\fB\\-\\-snapshot\\fR \\fIFILE\\fR] \\fBdump\\fR \
             [\\fB\\-\\-a\\fR \\fIN\\fR | \\fB\\-\\-b\\fR \\fIN\\fR]"
        );
    }
}
