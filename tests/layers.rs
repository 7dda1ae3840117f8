//! The import rules of CONTRIBUTING.md ("Layers"), checked on the source:
//! every module of src/ names (`crate::X` outside comments) only the
//! crate modules its layer may use, and the CLI (src/main.rs or cli/)
//! never uses `ffi` nor `unsafe`.  In the library, `unsafe` outside `ffi`
//! and `os` is refused by the compiler (`#![deny(unsafe_code)]` in
//! src/lib.rs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Pure logic, no I/O but logging's stderr.
const LOGIC: &[&str] = &[
    "port",
    "table",
    "lookup",
    "options",
    "snapshot",
    "claims",
    "fasthash",
    "ratelimit",
    "outage",
    "logging",
];
/// Netlink and udev: where the kernel's table comes from.
const NETLINK: &[&str] = &["netlink", "devlink", "rtnl", "kernel", "smartnic"];

/// What module `m` may import, or `None` for "anything" (`ffi`, and the
/// test support `testing`, which is never in the shipped library).  Any
/// module may use `testing` (its tests do).
fn allowed(m: &str) -> Option<BTreeSet<&'static str>> {
    let mut a: BTreeSet<&'static str> = BTreeSet::from(["testing"]);
    match m {
        "os" => {}
        m if LOGIC.contains(&m) => a.extend(LOGIC),
        // The shared netlink code serves the two families; each family
        // uses it and not the other family (issue 13).
        "netlink" => a.extend(LOGIC),
        "devlink" | "rtnl" => {
            a.extend(LOGIC);
            a.insert("netlink");
        }
        m if NETLINK.contains(&m) => {
            a.extend(LOGIC);
            a.extend(NETLINK);
            a.insert("os");
        }
        "provider" => {
            a.extend(LOGIC);
            a.insert("os");
        }
        "sources" => {
            a.extend(LOGIC);
            a.extend(NETLINK);
            a.extend(["os", "provider"]);
        }
        // What `show`, `lookup` and the CLI print about a provider.
        "report" => {
            a.extend(LOGIC);
            a.extend(NETLINK);
            a.extend(["os", "provider", "sources"]);
        }
        "state" => {
            a.extend(LOGIC);
            a.insert("provider");
        }
        "ffi" | "testing" => return None,
        other => panic!("src/{other}: a new module: give it a layer here and in CONTRIBUTING.md"),
    }
    Some(a)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("readable directory").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension() == Some(std::ffi::OsStr::new("rs")) {
            out.push(p);
        }
    }
}

/// The crate modules `file` names as `PREFIX::NAME` in code (not in
/// comments).
fn uses(file: &Path, prefix: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).expect("readable source");
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `my_crate::`
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

/// Whether `file` has the word `unsafe` in code (not in comments).
fn has_unsafe(file: &Path) -> bool {
    let text = std::fs::read_to_string(file).expect("readable source");
    text.lines().any(|line| {
        line.split("//")
            .next()
            .unwrap_or_default()
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == "unsafe")
    })
}

#[test]
fn modules_import_only_their_layers() {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src/");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" {
            continue;
        }
        if top == "main" {
            continue; // the CLI: below
        }
        seen.insert(top.clone());
        let Some(ok) = allowed(&top) else { continue };
        for m in uses(f, "crate::") {
            if m != top && !ok.contains(m.as_str()) {
                bad.push(format!(
                    "src/{}: {top} may not use crate::{m}",
                    rel.display()
                ));
            }
        }
    }
    // The CLI (src/main.rs, or a cli/ crate): any public module but the
    // C boundary, and no `unsafe` of its own.
    let mut cli = vec![src.join("main.rs")];
    let cli_crate = Path::new(ROOT).join("cli/src");
    if cli_crate.is_dir() {
        rust_files(&cli_crate, &mut cli);
    }
    for f in cli.iter().filter(|f| f.exists()) {
        if uses(f, "ovn_vif_rs::").contains("ffi") {
            bad.push(format!("{}: the CLI uses ovn_vif_rs::ffi", f.display()));
        }
        if has_unsafe(f) {
            bad.push(format!("{}: unsafe in the CLI", f.display()));
        }
    }
    assert!(bad.is_empty(), "layer violations:\n{}", bad.join("\n"));
    // The rules above cover what is there.
    for m in [
        "ffi", "os", "state", "provider", "sources", "kernel", "logging", "netlink", "devlink",
        "rtnl", "report",
    ] {
        assert!(seen.contains(m), "src/{m} not found");
    }
}

/// The checker sees what it must: a use in code counts, a mention in a
/// comment does not.
#[test]
fn uses_reads_code_not_comments() {
    let dir = std::env::temp_dir().join(format!("ovn-vif-rs-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let f = dir.join("m.rs");
    std::fs::write(
        &f,
        "//! see crate::ffi\nuse crate::os::FileWatch; // not crate::state\n\
         fn f() { crate::table::x(); other_crate::provider::y(); }\n",
    )
    .expect("write");
    let got: Vec<String> = uses(&f, "crate::").into_iter().collect();
    assert_eq!(got, ["os", "table"]);
    assert!(!has_unsafe(&f));
    std::fs::write(
        &f,
        "// unsafe in a comment\nfn g() { let _ = unsafe { h() }; }\n",
    )
    .expect("write");
    assert!(has_unsafe(&f));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
