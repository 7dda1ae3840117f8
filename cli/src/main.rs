//! `ovn-vif-rs`: the operator's view of what the representor provider sees
//! and decides, using the same table and lookup code as the library, and
//! its report text (`ovn_vif_rs::report`, shared with ovn-appctl).
//!
//! Arguments: clap, defined in src/args.rs (which also gives the man page
//! and completions, src/gen.rs).  Exit status: 0 ok / plugged, 1 not
//! plugged, 2 usage or environment error; usage errors keep this tool's
//! one-line messages (`ovn-vif-rs: lookup: unexpected "--bogus"`) and are
//! followed by the `--help` text.

#![forbid(unsafe_code)]

mod args;
mod json;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::{ContextKind, ErrorKind};
use clap::FromArgMatches;
use ovn_vif_rs::logging::untrusted;
use ovn_vif_rs::options::{self, Request};
use ovn_vif_rs::provider::Source;
use ovn_vif_rs::report;
use ovn_vif_rs::snapshot;
use ovn_vif_rs::sources::{self, SnapshotSource};
use ovn_vif_rs::table::Table;

use args::{Cli, Cmd, LookupArgs};

enum Fail {
    Usage(String),
    Env(String),
    Miss,
}

fn main() -> ExitCode {
    ovn_vif_rs::logging::init_default();
    let mut cmd = args::command();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let cli = match cmd.try_get_matches_from_mut(&argv) {
        Ok(m) => Cli::from_arg_matches(&m).map_err(|e| usage_error(&cmd, &argv, &e)),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            _ => Err(usage_error(&cmd, &argv, &e)),
        },
    };
    match cli.and_then(|c| run(&mut cmd, c)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Miss) => ExitCode::from(1),
        // (write!, not eprint!: a closed stderr is no reason to panic.)
        Err(Fail::Usage(m)) => {
            let _ = write!(io::stderr(), "ovn-vif-rs: {m}\n\n{}", help(&mut cmd));
            ExitCode::from(2)
        }
        Err(Fail::Env(m)) => {
            let _ = writeln!(io::stderr(), "ovn-vif-rs: {m}");
            ExitCode::from(2)
        }
    }
}

/// The top-level `--help` text.
fn help(cmd: &mut clap::Command) -> String {
    cmd.render_help().to_string()
}

/// The subcommand named on the command line, if any: the first word that
/// is not an option or the value of `--snapshot`.
fn subcommand_of<'c>(cmd: &'c clap::Command, argv: &[OsString]) -> Option<&'c str> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_str()?;
        if a == "--snapshot" {
            it.next();
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        return cmd.find_subcommand(a).map(|s| s.get_name());
    }
    None
}

/// clap's parse error as this tool's one-line message.
fn usage_error(cmd: &clap::Command, argv: &[OsString], e: &clap::Error) -> Fail {
    let ctx = |k| e.get(k).map(|v| v.to_string()).unwrap_or_default();
    let sub = subcommand_of(cmd, argv);
    let msg = match (e.kind(), sub) {
        (ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand, _) => {
            "a command is required".to_owned()
        }
        (ErrorKind::InvalidSubcommand, _) => {
            let mut m = format!(
                "unknown command \"{}\"",
                untrusted(&ctx(ContextKind::InvalidSubcommand))
            );
            let hint = ctx(ContextKind::SuggestedSubcommand);
            if !hint.is_empty() {
                m.push_str(&format!(" (did you mean \"{hint}\"?)"));
            }
            m
        }
        (ErrorKind::UnknownArgument | ErrorKind::MissingRequiredArgument, Some("resolve")) => {
            "resolve needs one FILE".to_owned()
        }
        (ErrorKind::UnknownArgument, s) => {
            let what = format!(
                "unexpected \"{}\"",
                untrusted(&ctx(ContextKind::InvalidArg))
            );
            match s {
                Some(s) => format!("{s}: {what}"),
                None => what,
            }
        }
        (ErrorKind::InvalidValue, _) if ctx(ContextKind::InvalidValue).is_empty() => {
            // "--snapshot <FILE>": a flag given without its value.
            let arg = ctx(ContextKind::InvalidArg);
            let flag = arg.split_whitespace().next().unwrap_or("");
            let what = if arg.contains("<FILE>") {
                "a FILE"
            } else {
                "a value"
            };
            format!("{flag} needs {what}")
        }
        _ => {
            // Anything else: clap's own first line, without "error: ".
            let r = e.render().to_string();
            let first = r.lines().next().unwrap_or("bad arguments");
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
    };
    Fail::Usage(msg)
}

fn open(snapshot: Option<PathBuf>) -> Result<Box<dyn Source>, Fail> {
    let r = match snapshot {
        Some(f) => Ok(Box::new(SnapshotSource::new(f)) as Box<dyn Source>),
        None => sources::open_default(),
    };
    r.map_err(|e| {
        let hint = match e.kind() {
            io::ErrorKind::PermissionDenied => " (run as root)",
            io::ErrorKind::NotFound => " (or use --snapshot FILE)",
            _ => "",
        };
        Fail::Env(format!("cannot open the representor source: {e}{hint}"))
    })
}

fn load(src: &mut dyn Source) -> Result<Table, Fail> {
    src.load()
        .map_err(|e| Fail::Env(format!("cannot read {}: {e}", src.describe())))
}

fn run(cmd: &mut clap::Command, cli: Cli) -> Result<(), Fail> {
    // --snapshot, else the environment (not clap's `env`: an empty or
    // non-UTF-8 value is a file name like any other).
    let snap = cli
        .snapshot
        .or_else(|| std::env::var_os(sources::ENV_SNAPSHOT).map(PathBuf::from));
    match cli.command {
        Cmd::Help { command } => {
            let sub = command
                .first()
                .and_then(|c| c.to_str())
                .and_then(|c| cmd.find_subcommand_mut(c));
            let text = match sub {
                Some(sc) => sc.render_long_help().to_string(),
                None => help(cmd),
            };
            print!("{text}");
            Ok(())
        }
        Cmd::Dump { json } => {
            let table = load(&mut *open(snap)?)?;
            let out = if json {
                json::dump(&table).map_err(|e| Fail::Env(format!("JSON: {e}")))?
            } else {
                dump_text(&table)
            };
            print!("{out}");
            Ok(())
        }
        Cmd::Lookup(a) => {
            let req = lookup_request(a)?;
            let table = load(&mut *open(snap)?)?;
            decide(&table, "lookup", &req)
        }
        Cmd::Resolve { file } => {
            let text = if file == Path::new("-") {
                io::read_to_string(io::stdin()).map_err(|e| Fail::Env(format!("stdin: {e}")))?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| Fail::Env(format!("{}: {e}", file.display())))?
            };
            let table = load(&mut *open(snap)?)?;
            resolve(&table, &text)
        }
        Cmd::Monitor => monitor(&mut *open(snap)?),
    }
}

/// `lookup`'s flags as the LSP options they stand for, judged by the
/// library's parser (a bad value is a usage error).
fn lookup_request(a: LookupArgs) -> Result<Request, Fail> {
    let opts = (a.pf_mac.into_iter().map(|v| (options::OPT_PF_MAC, v)))
        .chain(a.vf_num.into_iter().map(|v| (options::OPT_VF_NUM, v)))
        .chain(a.sf_num.into_iter().map(|v| (options::OPT_SF_NUM, v)));
    options::parse(opts).map_err(|e| Fail::Usage(format!("lookup: {e}")))
}

/// Prints the decision; `Err(Miss)` when nothing would be plugged.
fn decide(table: &Table, lport: &str, req: &Request) -> Result<(), Fail> {
    let lport = untrusted(lport);
    match report::decision(table, req) {
        Ok(line) => {
            println!("{lport}: {line}");
            Ok(())
        }
        Err(line) => {
            println!("{lport}: {line}");
            Err(Fail::Miss)
        }
    }
}

fn resolve(table: &Table, text: &str) -> Result<(), Fail> {
    let (mut plugged, mut refused) = (0, 0);
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_ascii_whitespace();
        let Some(lport) = words.next() else {
            continue;
        };
        let pairs: Vec<(&str, &str)> = words
            .map(|w| w.split_once('=').unwrap_or((w, "")))
            .collect();
        let ok = match options::parse(pairs.iter().copied()) {
            Ok(req) => decide(table, lport, &req).is_ok(),
            Err(e) => {
                println!("{}: {}", untrusted(lport), report::bad_options(&e));
                false
            }
        };
        if ok {
            plugged += 1;
        } else {
            refused += 1;
        }
    }
    println!("{plugged} plugged, {refused} not plugged");
    if refused > 0 {
        Err(Fail::Miss)
    } else {
        Ok(())
    }
}

/// The snapshot, then the "PFs by MAC" report as comments.
fn dump_text(table: &Table) -> String {
    let mut out = snapshot::emit(table);
    for l in report::pfs(table).lines() {
        out.push_str("# ");
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Streams changes: waits on the source's descriptors, drains, and prints
/// the ports and links that appeared, changed or went away.
fn monitor(src: &mut dyn Source) -> Result<(), Fail> {
    let mut table = load(src)?;
    let fds = src.fds();
    println!(
        "# monitoring {} ({} ports); Ctrl-C to stop",
        src.describe(),
        table.len()
    );
    let mut before = table.canonical();
    loop {
        if fds.is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(200));
        } else {
            ovn_vif_rs::os::poll_readable(&fds, 1000);
        }
        // drain's `true` means "a decision may have changed"; the monitor
        // shows every change of the ports and links, so it compares.
        if let Err(e) = src.drain(&mut table) {
            return Err(Fail::Env(format!("reading events: {e}")));
        }
        let after = table.canonical();
        if after == before {
            continue;
        }
        let stamp = ovn_vif_rs::os::clock::coarse_monotonic_ms();
        let old: Vec<String> = before
            .ports
            .iter()
            .map(snapshot::port_line)
            .chain(before.links.iter().map(snapshot::link_line))
            .collect();
        let new: Vec<String> = after
            .ports
            .iter()
            .map(snapshot::port_line)
            .chain(after.links.iter().map(snapshot::link_line))
            .collect();
        let mut out = io::stdout().lock();
        for l in old.iter().filter(|l| !new.contains(l)) {
            let _ = writeln!(out, "[{stamp}] - {l}");
        }
        for l in new.iter().filter(|l| !old.contains(l)) {
            let _ = writeln!(out, "[{stamp}] + {l}");
        }
        let _ = out.flush();
        before = after;
    }
}
