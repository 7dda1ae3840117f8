//! The CLI's one definition (clap derive): what it parses, its `--help`
//! text ([`help_text`]), its man page and its shell completions
//! (src/gen.rs, `ovn-vif-rs-gen`) all come from here.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Args, CommandFactory, Parser, Subcommand};

/// The program's name (the binary, the man page, the completions).
pub const NAME: &str = "ovn-vif-rs";

/// The top-level usage line (`usage: ...` in `--help`).
pub const USAGE: &str = "ovn-vif-rs [--snapshot FILE] COMMAND [ARGS]";

/// Prefix of every subcommand's usage (stripped in the command list).
const PREFIX: &str = "ovn-vif-rs [--snapshot FILE] ";

/// The man page's NAME line and the first line of `ovn-vif-rs help`.
const ABOUT: &str = "show what the OVN representor VIF plug provider sees and would plug";

/// `--help`'s description, the man page's DESCRIPTION (one paragraph per
/// blank line).
const LONG_ABOUT: &str = "\
Shows what the OVN representor VIF plug provider (vif-plug-type=representor)
sees on this host and what it would plug, with the same table and lookup
code as the provider library.  Reads the kernel (devlink + rtnetlink; needs
root and a kernel with devlink), or a snapshot file.";

/// After the options in `--help` (the man page has these as sections of
/// their own: src/man-extra.roff).
const AFTER_HELP: &str = "\
Logical_Switch_Port options (see README):
  vif-plug:representor:pf-mac=MAC   the host PF's MAC (required)
  vif-plug:representor:vf-num=N     a VF of that PF (0..65535)
  vif-plug:representor:sf-num=N     an SF of that PF (0..4294967295)

exit status: 0 ok / plugged, 1 not plugged, 2 usage or environment error";

/// The commands' long descriptions (`ovn-vif-rs help COMMAND`, the man
/// page's COMMANDS); a blank line separates paragraphs.
const DUMP_ABOUT: &str = "\
Prints every devlink port the provider indexes, with the PF MACs it derives.
The text output is also the snapshot format read by --snapshot; lines
starting with '#' are comments, and the trailing '# PFs by MAC' comment
lists what each pf-mac resolves to, with its VF and SF counts.

With --json the same ports and PFs are printed as one JSON object,
{\"ports\":[...],\"pfs\":[...]}.";

const LOOKUP_ABOUT: &str = "\
The decision for one Logical_Switch_Port's options, on one line:
'lookup: PLUG NETDEV — FUNCTION: DEVLINK-PORT', or
'lookup: NO (REASON) — EXPLANATION', where REASON is one of no-pf,
ambiguous-pf-mac, pf-has-no-representor, function-not-present, no-netdev,
name-not-settled and events-pending (kernel notifications queued but not
read yet), and the explanation says what was found instead (for example a
VF of the same number under another controller).  ovn-appctl's
vif-plug-representor/lookup answers with the same line, without the
'lookup: ' prefix.

Exit status 1 when nothing would be plugged; 2 when the options do not
parse.";

const RESOLVE_ABOUT: &str = "\
The decision for each line 'LPORT KEY=VALUE ...' of FILE (keys as in the
Logical_Switch_Port options, '#' starts a comment), one line per port as
for lookup, with the LPORT instead of 'lookup' (malformed options give
'NO (bad-options)'), then a summary line 'N plugged, M not plugged'.  A FILE
of '-' reads standard input.

Exit status 1 when any line is not plugged.";

const MONITOR_ABOUT: &str = "\
Prints table changes (ports and links that appear, change or go away,
prefixed with '+' and '-') as they happen, until interrupted.";

#[derive(Parser, Debug)]
#[command(
    name = NAME,
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    override_usage = USAGE,
    after_help = AFTER_HELP,
    subcommand_required = true,
    disable_help_subcommand = true,
    subcommand_value_name = "COMMAND",
    subcommand_help_heading = "COMMANDS",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// read FILE (ovn-vif-rs dump output) instead of the kernel; also
    /// OVN_VIF_RS_SNAPSHOT=FILE
    #[arg(long, global = true, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// this text
    #[arg(short = 'h', long, global = true, action = ArgAction::Help)]
    help: Option<bool>,

    /// the version
    #[arg(short = 'V', long, action = ArgAction::Version)]
    version: Option<bool>,

    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// every devlink port the provider indexes, with the PF MACs it derives
    /// (text is also the snapshot format)
    #[command(
        override_usage = "ovn-vif-rs [--snapshot FILE] dump [--json]",
        long_about = DUMP_ABOUT
    )]
    Dump {
        /// one JSON object {"ports":[...],"pfs":[...]} instead of text
        #[arg(long)]
        json: bool,
    },
    /// the decision for one Logical_Switch_Port's options; exit status 1
    /// when nothing would be plugged
    #[command(
        override_usage = "ovn-vif-rs [--snapshot FILE] lookup --pf-mac MAC [--vf-num N | --sf-num N]",
        long_about = LOOKUP_ABOUT
    )]
    Lookup(LookupArgs),
    /// the decision for each line 'LPORT KEY=VALUE ...' of FILE (keys as in
    /// the LSP options); '-' reads stdin
    #[command(
        override_usage = "ovn-vif-rs [--snapshot FILE] resolve FILE",
        long_about = RESOLVE_ABOUT
    )]
    Resolve {
        /// one 'LPORT KEY=VALUE ...' per line ('#' starts a comment); '-'
        /// is standard input
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// print table changes as they happen, until interrupted
    #[command(
        override_usage = "ovn-vif-rs [--snapshot FILE] monitor",
        long_about = MONITOR_ABOUT
    )]
    Monitor,
    /// this text (or a command's, with COMMAND)
    #[command(override_usage = "ovn-vif-rs help [COMMAND]")]
    Help {
        /// the command to describe
        #[arg(value_name = "COMMAND", num_args = 0.., trailing_var_arg = true)]
        command: Vec<OsString>,
    },
}

/// `lookup`'s flags: the Logical_Switch_Port options, taken as given (the
/// library's option parser judges them, as for a real LSP: a repeated
/// flag is a repeated option).
#[derive(Args, Debug)]
pub struct LookupArgs {
    /// the host PF's MAC (vif-plug:representor:pf-mac; required)
    #[arg(long, value_name = "MAC", action = ArgAction::Append, allow_hyphen_values = true)]
    pub pf_mac: Vec<String>,
    /// a VF of that PF, 0..65535 (vif-plug:representor:vf-num)
    #[arg(long, value_name = "N", action = ArgAction::Append, allow_hyphen_values = true)]
    pub vf_num: Vec<String>,
    /// an SF of that PF, 0..4294967295 (vif-plug:representor:sf-num)
    #[arg(long, value_name = "N", action = ArgAction::Append, allow_hyphen_values = true)]
    pub sf_num: Vec<String>,
}

/// The clap command with the `--help` text below in place of clap's own
/// layout (the options and commands it lists are the definition's).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    let help = help_text(&cmd);
    cmd.override_help(help)
}

/// The usage of `sc` without the program name and global options:
/// `dump [--json]`.
pub fn short_usage(sc: &clap::Command) -> String {
    let full = sc.clone().render_usage().to_string();
    let full = full.trim_start_matches("Usage:").trim();
    full.strip_prefix(PREFIX)
        .or_else(|| full.strip_prefix("ovn-vif-rs "))
        .unwrap_or(full)
        .to_owned()
}

/// How an option is written: `--snapshot FILE`, `-h, --help`.
pub fn arg_spec(a: &Arg) -> String {
    let mut s = String::new();
    if let Some(c) = a.get_short() {
        let _ = write!(s, "-{c}");
    }
    if let Some(l) = a.get_long() {
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(s, "--{l}");
    }
    if a.get_action().takes_values() {
        for v in a.get_value_names().unwrap_or_default() {
            let _ = write!(s, " {v}");
        }
    }
    s
}

const COL: usize = 25;
const WIDTH: usize = 78;

/// `  TERM   text...`, text wrapped at [`WIDTH`] and indented to [`COL`]
/// (on the next line when TERM is too long).
fn item(o: &mut String, term: &str, text: &str) {
    let mut line = format!("  {term}");
    if line.len() + 1 > COL {
        o.push_str(&line);
        o.push('\n');
        line.clear();
    }
    for w in text.split_whitespace() {
        let at = line.len().max(COL);
        if at > COL && at + 1 + w.len() > WIDTH {
            o.push_str(line.trim_end());
            o.push('\n');
            line.clear();
        }
        if line.len() < COL {
            line.push_str(&" ".repeat(COL - line.len()));
        } else {
            line.push(' ');
        }
        line.push_str(w);
    }
    o.push_str(line.trim_end());
    o.push('\n');
}

/// `ovn-vif-rs --help` (and `-h`, `help`), from the built command `cmd`:
/// usage, description, each command's usage and summary, the options,
/// then the LSP options and exit status.
pub fn help_text(cmd: &clap::Command) -> String {
    let mut o = format!("usage: {USAGE}\n\n");
    if let Some(a) = cmd.get_long_about() {
        let _ = writeln!(o, "{a}\n");
    }
    o.push_str("commands:\n");
    for sc in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = sc.get_about().map(|a| a.to_string()).unwrap_or_default();
        item(&mut o, &short_usage(sc), &about);
    }
    o.push_str("\noptions:\n");
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        item(&mut o, &arg_spec(a), &help);
    }
    if let Some(a) = cmd.get_after_help() {
        let _ = writeln!(o, "\n{a}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn help_lists_each_command_with_its_usage() {
        let h = help_text(&command());
        assert!(h.starts_with("usage: ovn-vif-rs [--snapshot FILE] COMMAND [ARGS]\n"));
        for want in [
            "\n  dump [--json]          every devlink port the provider indexes, with the PF\n",
            "\n  lookup --pf-mac MAC [--vf-num N | --sf-num N]\n                         the decision",
            "\n  resolve FILE           the decision for each line",
            "\n  monitor                print table changes",
            "\n  help [COMMAND]         this text",
            "\n  --snapshot FILE        read FILE (ovn-vif-rs dump output) instead of the\n                         kernel; also OVN_VIF_RS_SNAPSHOT=FILE\n",
            "\n  -h, --help ",
            "\n  -V, --version ",
        ] {
            assert!(h.contains(want), "{want:?} in:\n{h}");
        }
        assert!(h.lines().all(|l| l.len() <= WIDTH), "{h}");
    }
}
