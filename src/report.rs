//! The operator-facing text of the provider's reports, rendered once for
//! both front ends: the CLI (`ovn-vif-rs dump`, `lookup`, `resolve`;
//! cli/) and ovn-appctl (`vif-plug-representor/show` and `/lookup`;
//! src/ffi/unixctl.rs only hands these strings to unixctl).  Safe Rust, no
//! I/O.
//!
//! One style: a subject, then [`SEP`] (` — `), then the detail.
//!
//! - a decision ([`decision`]): `PLUG <netdev> — <request>: <devlink port>`
//!   or `NO (<reason code>) — <explanation>`; options that do not parse are
//!   `NO (bad-options) — <error>` ([`bad_options`]).  The CLI prefixes the
//!   lport (`vm1: PLUG ...`, `lookup: NO ...`); ovn-appctl replies with
//!   the line as is.
//! - a table ([`table`]): "PFs by MAC" ([`pfs`]; one line per PF:
//!   `  <PF> — <n> VFs, <m> SFs`) and "ports" ([`ports`]; one row per
//!   devlink port).  `dump` appends [`pfs`] to the snapshot as comments
//!   (`# ` before each line).
//! - the provider's state ([`show`]): state, source, freshness, counters,
//!   then [`table`].
//!
//! JSON (`ovn-vif-rs dump --json`) is the CLI's business (serde, in the
//! CLI crate): the library, and so the cdylib, links no serializer.

use std::fmt::Write as _;

use crate::lookup::{self, describe_pf};
use crate::options::{OptionError, Request};
use crate::provider::Provider;
use crate::table::Table;

/// Between a line's subject and its detail.
pub const SEP: &str = " — ";

/// The reason code of options that do not parse (the lookup's own codes
/// are [`lookup::Refusal::code`]).
pub const BAD_OPTIONS: &str = "bad-options";

/// The decision for `req` on `table`: `Ok("PLUG <netdev> — <req>: <port>")`
/// when a netdev would be plugged, `Err("NO (<code>) — <why>")` otherwise.
/// No trailing newline.
pub fn decision(table: &Table, req: &Request) -> Result<String, String> {
    match lookup::lookup(table, req) {
        Ok(f) => Ok(format!(
            "PLUG {}{SEP}{req}: {}",
            f.name,
            lookup::describe_port(&f.entry)
        )),
        Err(r) => Err(format!(
            "NO ({}){SEP}{}",
            r.code(),
            lookup::explain(table, req, &r)
        )),
    }
}

/// The refusal line for options that do not parse:
/// `NO (bad-options) — <error>`.
pub fn bad_options(e: &OptionError) -> String {
    format!("NO ({BAD_OPTIONS}){SEP}{e}")
}

/// "PFs by MAC": what each `pf-mac` resolves to, with the MAC's source and
/// the PF's VF and SF counts.
pub fn pfs(t: &Table) -> String {
    let mut o = String::new();
    let pfs = t.pf_macs();
    let _ = writeln!(o, "PFs by MAC ({}):", pfs.len());
    for (k, _) in &pfs {
        let (vfs, sfs) = t.children_of(k);
        let _ = writeln!(o, "  {}{SEP}{vfs} VFs, {sfs} SFs", describe_pf(t, k));
    }
    o
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// "ports": one row per devlink port (flavour, controller, PF number, VF/SF
/// number, function MAC, netdev, ifindex, whether its name is settled).
pub fn ports(t: &Table) -> String {
    let mut o = String::new();
    let entries = t.entries();
    let _ = writeln!(o, "ports ({}):", entries.len());
    let _ = writeln!(
        o,
        "  {:<24} {:<8} {:>4} {:>3} {:>6} {:<17} {:<15} {:>7} {:<7}",
        "PORT", "FLAVOUR", "CTRL", "PF", "VF/SF", "FUNCTION-MAC", "NETDEV", "IFINDEX", "SETTLED"
    );
    for e in entries {
        let port = &e.port;
        let function = match (port.vfnum, port.sfnum) {
            (Some(v), _) => format!("vf{v}"),
            (None, Some(s)) => format!("sf{s}"),
            (None, None) => "-".to_owned(),
        };
        let ctrl = format!(
            "{}{}",
            port.controller,
            if port.external { "e" } else { "" }
        );
        let _ = writeln!(
            o,
            "  {:<24} {:<8} {:>4} {:>3} {:>6} {:<17} {:<15} {:>7} {:<7}",
            port.id.to_string(),
            port.flavour.name(),
            ctrl,
            opt(port.pf_number()),
            function,
            opt(port.function.as_ref().and_then(|f| f.hw_addr)),
            e.name.unwrap_or("-"),
            opt(e.ifindex()),
            yes_no(e.settled),
        );
    }
    let _ = writeln!(o, "(CTRL: controller number, \"e\" = external)");
    o
}

/// The table part of [`show`]: [`pfs`] then [`ports`].
pub fn table(t: &Table) -> String {
    pfs(t) + &ports(t)
}

/// `vif-plug-representor/show` of `p`; `caught_panics` is the process's
/// count of panics stopped at the C boundary (kept by src/ffi).
pub fn show(p: &Provider, caught_panics: u64) -> String {
    let s = p.stats();
    let mut o = String::new();
    let _ = writeln!(o, "state: {}", p.state_text());
    let _ = writeln!(o, "source: {}", p.source().describe());
    let _ = writeln!(
        o,
        "freshness: {}",
        if p.run_seen() {
            "drained by run() every main-loop iteration; woken by the source's events"
        } else {
            "run() never called (stock host): prepare drains at most every 100 ms"
        }
    );
    let _ = writeln!(
        o,
        "stats: prepares={} hits={} refusals={} removes={} runs={} drains={} \
         drain_errors={} caught_panics={} claims={} claim_refusals={} contenders={} \
         pending={}",
        s.prepares,
        s.hits,
        s.refusals,
        s.removes,
        s.runs,
        s.drains,
        s.drain_errors,
        caught_panics,
        p.claims().len(),
        s.claim_refusals,
        p.claims().contests(),
        p.pending()
    );
    let _ = writeln!(o, "wakeup descriptors: {}", p.fds().len());
    o.push_str(&table(p.table()));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options;
    use crate::snapshot;

    /// tests/data/SNAP as the snapshot source reads it.
    fn table_of(snap: &str) -> Table {
        let path = format!("{}/tests/data/{snap}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        snapshot::parse(&text, crate::table::LinkPolicy::TrustDevlink)
            .unwrap_or_else(|e| panic!("{snap}: {e}"))
    }

    fn req(pairs: &[(&str, &str)]) -> Request {
        match options::parse(pairs.iter().copied()) {
            Ok(r) => r,
            Err(e) => panic!("{pairs:?}: {e}"),
        }
    }

    const MAC: (&str, &str) = (options::OPT_PF_MAC, "00:53:00:00:10:00");

    #[test]
    fn decision_lines_have_one_shape() {
        let t = table_of("dpu.snapshot");
        assert_eq!(
            decision(&t, &req(&[MAC, (options::OPT_VF_NUM, "3")])),
            Ok("PLUG c1pf0vf3 — VF 3 of PF 00:53:00:00:10:00: \
                pci/0000:03:00.0/4 pcivf c1pf0vf3 netdev c1pf0vf3 (ifindex 14)"
                .to_owned())
        );
        assert_eq!(
            decision(&t, &req(&[MAC, (options::OPT_VF_NUM, "9")])),
            Err("NO (function-not-present) — PF pci/0000:03:00.0 c1pf0 \
                 (00:53:00:00:10:00, from port-function) has no VF 9 \
                 (it has 2 VF and 1 SF representors)"
                .to_owned())
        );
        let e = options::parse([(options::OPT_VF_NUM, "1x")]).unwrap_err();
        assert_eq!(
            bad_options(&e),
            format!("NO (bad-options) — {e}"),
            "the same shape as a refusal"
        );
    }

    #[test]
    fn table_lists_pfs_then_ports() {
        let t = table_of("dpu.snapshot");
        assert_eq!(
            pfs(&t),
            "PFs by MAC (2):\n\
             \x20 pci/0000:03:00.0 c0pf0 (02:00:00:00:00:10, from port-function) — 1 VFs, 0 SFs\n\
             \x20 pci/0000:03:00.0 c1pf0 (00:53:00:00:10:00, from port-function) — 2 VFs, 1 SFs\n"
        );
        let p = ports(&t);
        assert!(p.starts_with("ports (7):\n  PORT "), "{p}");
        assert!(
            p.contains(
                "  pci/0000:03:00.0/4       pcivf      1e   0    vf3 -                 \
                 c1pf0vf3             14 yes    \n"
            ),
            "{p}"
        );
        assert!(p.ends_with("(CTRL: controller number, \"e\" = external)\n"));
        assert_eq!(table(&t), pfs(&t) + &p);
    }
}
