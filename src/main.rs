//! `ovn-vif-rs`: the operator's view of what the representor provider sees
//! and decides, using the same table and lookup code as the library.

use std::io::{self, Write};
use std::process::ExitCode;

use ovn_vif_rs::logging::untrusted;
use ovn_vif_rs::lookup::{self, describe_pf};
use ovn_vif_rs::options::{self, Request};
use ovn_vif_rs::provider::Source;
use ovn_vif_rs::snapshot;
use ovn_vif_rs::sources::{self, SnapshotSource};
use ovn_vif_rs::table::{Entry, Table};

const USAGE: &str = "\
usage: ovn-vif-rs [--snapshot FILE] COMMAND [ARGS]

Shows what the OVN representor VIF plug provider (vif-plug-type=representor)
sees on this host and what it would plug.  Reads the kernel (devlink +
rtnetlink; needs root and a kernel with devlink), or a snapshot file.

commands:
  dump [--json]          every devlink port the provider indexes, with the
                         PF MACs it derives (text is also the snapshot format)
  lookup --pf-mac MAC [--vf-num N | --sf-num N]
                         the decision for one Logical_Switch_Port's options;
                         exit status 1 when nothing would be plugged
  resolve FILE           the decision for each line 'LPORT KEY=VALUE ...' of
                         FILE (keys as in the LSP options); '-' reads stdin
  monitor                print table changes as they happen, until interrupted
  help                   this text

options:
  --snapshot FILE        read FILE (ovn-vif-rs dump output) instead of the
                         kernel; also OVN_VIF_RS_SNAPSHOT=FILE

Logical_Switch_Port options (see README):
  vif-plug:representor:pf-mac=MAC   the host PF's MAC (required)
  vif-plug:representor:vf-num=N     a VF of that PF (0..65535)
  vif-plug:representor:sf-num=N     an SF of that PF (0..4294967295)

exit status: 0 ok / plugged, 1 not plugged, 2 usage or environment error
";

enum Fail {
    Usage(String),
    Env(String),
    Miss,
}

fn main() -> ExitCode {
    ovn_vif_rs::logging::init_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Miss) => ExitCode::from(1),
        Err(Fail::Usage(m)) => {
            eprintln!("ovn-vif-rs: {m}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Fail::Env(m)) => {
            eprintln!("ovn-vif-rs: {m}");
            ExitCode::from(2)
        }
    }
}

fn open(snapshot: Option<String>) -> Result<Box<dyn Source>, Fail> {
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

fn run(mut args: Vec<String>) -> Result<(), Fail> {
    let mut snap = std::env::var(sources::ENV_SNAPSHOT).ok();
    if let Some(i) = args.iter().position(|a| a == "--snapshot") {
        if i + 1 >= args.len() {
            return Err(Fail::Usage("--snapshot needs a FILE".into()));
        }
        snap = Some(args.remove(i + 1));
        args.remove(i);
    }
    let Some(cmd) = args.first().cloned() else {
        return Err(Fail::Usage("a command is required".into()));
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        "dump" => {
            let json = match rest {
                [] => false,
                [j] if j == "--json" => true,
                _ => return Err(Fail::Usage(format!("dump: unexpected {rest:?}"))),
            };
            let table = load(&mut *open(snap)?)?;
            let out = if json {
                dump_json(&table)
            } else {
                dump_text(&table)
            };
            print!("{out}");
            Ok(())
        }
        "lookup" => {
            let req = parse_lookup_args(rest)?;
            let table = load(&mut *open(snap)?)?;
            decide(&table, "lookup", &req)
        }
        "resolve" => {
            let [file] = rest else {
                return Err(Fail::Usage("resolve needs one FILE".into()));
            };
            let text = if file == "-" {
                io::read_to_string(io::stdin()).map_err(|e| Fail::Env(format!("stdin: {e}")))?
            } else {
                std::fs::read_to_string(file).map_err(|e| Fail::Env(format!("{file}: {e}")))?
            };
            let table = load(&mut *open(snap)?)?;
            resolve(&table, &text)
        }
        "monitor" => {
            if !rest.is_empty() {
                return Err(Fail::Usage(format!("monitor: unexpected {rest:?}")));
            }
            monitor(&mut *open(snap)?)
        }
        other => Err(Fail::Usage(format!("unknown command {other:?}"))),
    }
}

fn parse_lookup_args(rest: &[String]) -> Result<Request, Fail> {
    let mut opts: Vec<(String, String)> = Vec::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let key = match a.as_str() {
            "--pf-mac" => options::OPT_PF_MAC,
            "--vf-num" => options::OPT_VF_NUM,
            "--sf-num" => options::OPT_SF_NUM,
            other => {
                return Err(Fail::Usage(format!(
                    "lookup: unexpected \"{}\"",
                    untrusted(other)
                )))
            }
        };
        let v = it
            .next()
            .ok_or_else(|| Fail::Usage(format!("{a} needs a value")))?;
        opts.push((key.to_owned(), v.clone()));
    }
    options::parse(opts).map_err(|e| Fail::Usage(format!("lookup: {e}")))
}

/// Prints the decision; `Err(Miss)` when nothing would be plugged.
fn decide(table: &Table, lport: &str, req: &Request) -> Result<(), Fail> {
    let lport = untrusted(lport);
    match lookup::lookup(table, req) {
        Ok(f) => {
            println!(
                "{lport}: PLUG {} — {req}: {}",
                f.name,
                lookup::describe_port(&f.entry)
            );
            Ok(())
        }
        Err(r) => {
            println!(
                "{lport}: NO ({}) — {}",
                r.code(),
                lookup::explain(table, req, &r)
            );
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
                println!("{}: NO (bad-options) — {e}", untrusted(lport));
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

fn dump_text(table: &Table) -> String {
    let mut out = snapshot::emit(table);
    out.push_str("# PFs by MAC (what pf-mac resolves to):\n");
    for (k, _) in table.pf_macs() {
        let (vfs, sfs) = table.children_of(&k);
        out.push_str(&format!(
            "#   {} — {vfs} VFs, {sfs} SFs\n",
            describe_pf(table, &k)
        ));
    }
    out
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_entry(e: &Entry) -> String {
    let p = &e.port;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "null".into());
    format!(
        "{{\"port\":{},\"flavour\":{},\"controller\":{},\"external\":{},\"pfnum\":{},\"vfnum\":{},\"sfnum\":{},\"number\":{},\"hw_addr\":{},\"netdev\":{},\"ifindex\":{},\"settled\":{}}}",
        json_str(&p.id.to_string()),
        json_str(p.flavour.name()),
        p.controller,
        p.external,
        opt(p.pfnum.map(|n| n.to_string())),
        opt(p.vfnum.map(|n| n.to_string())),
        opt(p.sfnum.map(|n| n.to_string())),
        opt(p.number.map(|n| n.to_string())),
        opt(p.function.as_ref().and_then(|f| f.hw_addr).map(|m| json_str(&m.to_string()))),
        opt(e.name.map(json_str)),
        opt(e.ifindex().map(|n| n.to_string())),
        e.settled
    )
}

fn dump_json(table: &Table) -> String {
    let ports: Vec<String> = table.entries().iter().map(json_entry).collect();
    let pfs: Vec<String> = table
        .pf_macs()
        .into_iter()
        .map(|(k, m)| {
            let (vfs, sfs) = table.children_of(&k);
            format!(
                "{{\"device\":{},\"controller\":{},\"pfnum\":{},\"mac\":{},\"mac_source\":{},\"vfs\":{vfs},\"sfs\":{sfs}}}",
                json_str(&table.dev_handle(k.dev).to_string()),
                k.controller,
                k.pfnum,
                json_str(&m.mac.to_string()),
                json_str(m.source.name())
            )
        })
        .collect();
    format!(
        "{{\"ports\":[{}],\"pfs\":[{}]}}\n",
        ports.join(","),
        pfs.join(",")
    )
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
