//! Integration tests of the operator CLI (`ovn-vif-rs`, cli/src/main.rs), run
//! as a separate process on snapshot files: `dump` (text round trip, JSON),
//! `lookup` (exit 0/1/2 and the reason for every kind of miss), `resolve`
//! (per-line decisions, summary, exit status), usage errors, and the
//! kernel source on a machine without devlink (a message and exit 2, never
//! a panic).  The CLI against a real kernel is covered by scripts/dpu-demo.
//!
//! Also the clap front end (`--help`, `help COMMAND`, a bad flag's exit
//! status and message) and what `ovn-vif-rs-gen` writes from the same
//! definition (the man page, the shell completions).
//!
//! Snapshots (the library's, ../tests/data): tests/data/dpu.snapshot
//! (BlueField-like: DPU-local c0pf0 and host c1pf0 with VFs and an SF) and
//! tests/data/cli/*.snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ovn-vif-rs");
const GEN: &str = env!("CARGO_BIN_EXE_ovn-vif-rs-gen");

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(rel)
        .display()
        .to_string()
}

/// A scratch directory unique to one test.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The CLI's result, with `OVN_VIF_RS_SNAPSHOT` cleared so the caller's
/// environment never changes what a test reads.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn finish(args: &[&str], out: Output) -> Run {
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !r.stderr.contains("panicked"),
        "ovn-vif-rs {args:?} panicked:\n{}",
        r.stderr
    );
    assert!(
        out.status.code().is_some(),
        "ovn-vif-rs {args:?} killed by a signal"
    );
    r
}

fn cli(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("OVN_VIF_RS_SNAPSHOT")
        .output()
        .expect("runs ovn-vif-rs");
    finish(args, out)
}

fn cli_stdin(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("OVN_VIF_RS_SNAPSHOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs ovn-vif-rs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    finish(args, child.wait_with_output().unwrap())
}

/// `ovn-vif-rs --snapshot SNAP ARGS...`
fn on(snap: &str, args: &[&str]) -> Run {
    let path = data(snap);
    let mut all = vec!["--snapshot", path.as_str()];
    all.extend_from_slice(args);
    cli(&all)
}

fn lookup(snap: &str, args: &[&str]) -> Run {
    let mut all = vec!["lookup"];
    all.extend_from_slice(args);
    on(snap, &all)
}

const DPU: &str = "dpu.snapshot";
const HOST_PF: &str = "00:53:00:00:10:00"; // c1pf0 in dpu.snapshot
const LOCAL_PF: &str = "02:00:00:00:00:10"; // c0pf0 in dpu.snapshot

#[track_caller]
fn assert_miss(r: &Run, code: &str, needles: &[&str]) {
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let line = r.stdout.trim_end();
    assert_eq!(line.lines().count(), 1, "one decision line: {line}");
    assert!(
        line.starts_with(&format!("lookup: NO ({code}) — ")),
        "want reason {code}: {line}"
    );
    for n in needles {
        assert!(line.contains(n), "want {n:?} in: {line}");
    }
    assert_eq!(r.stderr, "", "a miss is not an error");
}

// ---------------------------------------------------------------- dump

#[test]
fn dump_text_round_trips() {
    for snap in [
        DPU,
        "cli/unsettled.snapshot",
        "cli/ambiguous.snapshot",
        "cli/cx6.snapshot",
    ] {
        let first = on(snap, &["dump"]);
        assert_eq!(first.code, 0, "{snap}: {}", first.stderr);
        assert!(first.stdout.starts_with("# ovn-vif-rs snapshot v1\n"));
        assert!(first.stdout.contains("# PFs by MAC"), "{snap}");
        let dir = scratch(&format!("roundtrip-{}", snap.replace('/', "-")));
        let saved = dir.join("dump.txt");
        std::fs::write(&saved, &first.stdout).unwrap();
        let again = cli(&["--snapshot", saved.to_str().unwrap(), "dump"]);
        assert_eq!(again.code, 0, "{snap}: {}", again.stderr);
        assert_eq!(first.stdout, again.stdout, "{snap}: dump of a dump differs");
    }
}

#[test]
fn dump_text_lists_every_port_and_the_pf_macs() {
    let r = on(DPU, &["dump"]);
    assert_eq!(r.code, 0);
    let ports = r.stdout.lines().filter(|l| l.starts_with("port ")).count();
    assert_eq!(ports, 7);
    assert!(r.stdout.contains(
        "#   pci/0000:03:00.0 c1pf0 (00:53:00:00:10:00, from port-function) — 2 VFs, 1 SFs"
    ));
    assert!(r.stdout.contains(
        "#   pci/0000:03:00.0 c0pf0 (02:00:00:00:00:10, from port-function) — 1 VFs, 0 SFs"
    ));
    // Environment variable instead of --snapshot.
    let env = Command::new(BIN)
        .arg("dump")
        .env("OVN_VIF_RS_SNAPSHOT", data(DPU))
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(0));
    assert_eq!(String::from_utf8(env.stdout).unwrap(), r.stdout);
}

#[test]
fn dump_json_is_valid_json() {
    for snap in [
        DPU,
        "cli/unsettled.snapshot",
        "cli/ambiguous.snapshot",
        "cli/cx6.snapshot",
    ] {
        let r = on(snap, &["dump", "--json"]);
        assert_eq!(r.code, 0, "{snap}: {}", r.stderr);
        let v = json::parse(&r.stdout).unwrap_or_else(|e| panic!("{snap}: {e}\n{}", r.stdout));
        let json::Value::Object(top) = v else {
            panic!("{snap}: not an object")
        };
        let keys: Vec<&str> = top.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["ports", "pfs"], "{snap}");
        let json::Value::Array(ports) = &top[0].1 else {
            panic!("ports is not an array")
        };
        let text_ports = on(snap, &["dump"])
            .stdout
            .lines()
            .filter(|l| l.starts_with("port "))
            .count();
        assert_eq!(ports.len(), text_ports, "{snap}: same ports as the text");
    }
    let r = on(DPU, &["dump", "--json"]);
    assert!(r
        .stdout
        .contains(r#""netdev":"c1pf0vf3","ifindex":14,"settled":true"#));
    assert!(r
        .stdout
        .contains(r#""mac":"00:53:00:00:10:00","mac_source":"port-function","vfs":2,"sfs":1"#));
    let u = on("cli/unsettled.snapshot", &["dump", "--json"]);
    assert!(u
        .stdout
        .contains(r#""netdev":"eth7","ifindex":14,"settled":false"#));
}

// ---------------------------------------------------------------- lookup

#[test]
fn lookup_plugs_pf_vf_and_sf() {
    for (args, want) in [
        (vec!["--pf-mac", HOST_PF, "--vf-num", "3"], "lookup: PLUG c1pf0vf3 — VF 3 of PF 00:53:00:00:10:00: pci/0000:03:00.0/4 pcivf c1pf0vf3 netdev c1pf0vf3 (ifindex 14)"),
        (vec!["--pf-mac", HOST_PF, "--sf-num", "8"], "lookup: PLUG c1pf0sf8 — SF 8 of PF 00:53:00:00:10:00: pci/0000:03:00.0/5 pcisf c1pf0sf8 netdev c1pf0sf8 (ifindex 15)"),
        (vec!["--pf-mac", HOST_PF], "lookup: PLUG c1pf0 — PF of PF 00:53:00:00:10:00:"),
        // The DPU-local PF's own VF 3 is a different netdev from c1pf0vf3.
        (vec!["--pf-mac", "02:00:00:00:00:10", "--vf-num", "3"], "lookup: PLUG pf0vf3 —"),
        (vec!["--pf-mac", "00:53:00:00:10:00", "--vf-num", "0"], "lookup: PLUG c1pf0vf0 —"),
    ] {
        let r = lookup(DPU, &args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with(want), "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1);
    }
    let near = lookup(DPU, &["--pf-mac", "02:00:00:00:00:1A"]);
    assert_eq!(
        near.code, 1,
        "an unknown (upper-case) MAC is a miss, not a parse error"
    );
}

#[test]
fn lookup_miss_no_pf_with_that_mac() {
    let r = lookup(DPU, &["--pf-mac", "00:53:00:00:99:00", "--vf-num", "0"]);
    assert_miss(
        &r,
        "no-pf",
        &[
            "no PF with MAC 00:53:00:00:99:00",
            "known PFs: pci/0000:03:00.0 c0pf0 = 02:00:00:00:00:10, pci/0000:03:00.0 c1pf0 = 00:53:00:00:10:00",
        ],
    );
}

#[test]
fn lookup_miss_names_the_vf_under_the_other_controller() {
    // c0pf0 (the DPU's own PF) has no VF 0; the host PF c1pf0 has one.
    let r = lookup(DPU, &["--pf-mac", LOCAL_PF, "--vf-num", "0"]);
    assert_miss(
        &r,
        "function-not-present",
        &[
            "PF pci/0000:03:00.0 c0pf0 (02:00:00:00:00:10, from port-function) has no VF 0",
            "found VF 0 under controller 1 instead: pci/0000:03:00.0/3 pcivf c1pf0vf0",
            "belongs to a different PF",
        ],
    );
}

#[test]
fn lookup_miss_function_not_present() {
    let r = lookup(DPU, &["--pf-mac", HOST_PF, "--vf-num", "9"]);
    assert_miss(
        &r,
        "function-not-present",
        &["c1pf0 (00:53:00:00:10:00, from port-function) has no VF 9 (it has 2 VF and 1 SF representors)"],
    );
    assert!(
        !r.stdout.contains("instead"),
        "nothing elsewhere: {}",
        r.stdout
    );
    let sf = lookup(DPU, &["--pf-mac", HOST_PF, "--sf-num", "2"]);
    assert_miss(&sf, "function-not-present", &["has no SF 2"]);
}

#[test]
fn lookup_miss_name_not_settled() {
    let r = lookup(
        "cli/unsettled.snapshot",
        &["--pf-mac", HOST_PF, "--vf-num", "3"],
    );
    assert_miss(
        &r,
        "name-not-settled",
        &["VF 3 of PF 00:53:00:00:10:00 is devlink port pci/0000:03:00.0/4, netdev eth7 (ifindex 14), which udev has not finished naming"],
    );
    // Its settled sibling plugs.
    let ok = lookup(
        "cli/unsettled.snapshot",
        &["--pf-mac", HOST_PF, "--vf-num", "0"],
    );
    assert_eq!(ok.code, 0, "{}", ok.stdout);
}

#[test]
fn lookup_miss_ambiguous_pf_mac() {
    let r = lookup(
        "cli/ambiguous.snapshot",
        &["--pf-mac", HOST_PF, "--vf-num", "0"],
    );
    assert_miss(
        &r,
        "ambiguous-pf-mac",
        &[
            "PF MAC 00:53:00:00:10:00 is carried by 2 PFs",
            "pci/0000:03:00.0 c1pf0",
            "pci/0000:04:00.0 c1pf0",
            "refusing to guess",
        ],
    );
    // The other device's second PF is unique and plugs.
    let ok = lookup("cli/ambiguous.snapshot", &["--pf-mac", "00:53:00:00:11:00"]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(ok.stdout.starts_with("lookup: PLUG d1pf1 —"));
}

#[test]
fn lookup_on_a_connectx6_uplink_pf() {
    let snap = "cli/cx6.snapshot";
    let mac = "00:53:00:00:20:00";
    assert_miss(
        &lookup(snap, &["--pf-mac", mac]),
        "pf-has-no-representor",
        &[
            "from uplink-netdev",
            "only vf-num/sf-num requests can resolve",
        ],
    );
    let vf0 = lookup(snap, &["--pf-mac", mac, "--vf-num", "0"]);
    assert_eq!(vf0.code, 0, "{}", vf0.stdout);
    assert!(vf0.stdout.starts_with("lookup: PLUG enp5s0f0npf0vf0 —"));
    assert_miss(
        &lookup(snap, &["--pf-mac", mac, "--vf-num", "1"]),
        "no-netdev",
        &["devlink port pci/0000:05:00.0/2, which has no netdev yet"],
    );
}

#[test]
fn lookup_bad_options_are_usage_errors() {
    for (args, needle) in [
        (
            vec![],
            "required option vif-plug:representor:pf-mac is missing",
        ),
        (vec!["--vf-num", "3"], "pf-mac is missing"),
        (vec!["--pf-mac", "zz"], "pf-mac=\"zz\" is not usable"),
        (vec!["--pf-mac", "01:00:5e:00:00:01"], "multicast"),
        (
            vec!["--pf-mac", HOST_PF, "--vf-num", "65539"],
            "out of range 0..=65535",
        ),
        (
            vec!["--pf-mac", HOST_PF, "--vf-num", "1x"],
            "only decimal digits",
        ),
        (
            vec!["--pf-mac", HOST_PF, "--vf-num", "1", "--sf-num", "1"],
            "mutually exclusive",
        ),
        (
            vec!["--pf-mac", HOST_PF, "--vf-num"],
            "--vf-num needs a value",
        ),
        (
            vec!["--pf-mac", HOST_PF, "--bogus", "1"],
            "lookup: unexpected \"--bogus\"",
        ),
    ] {
        let r = lookup(DPU, &args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        assert!(
            r.stderr.starts_with("ovn-vif-rs: "),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(needle),
            "{args:?}: want {needle:?} in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("\nusage: ovn-vif-rs"),
            "{args:?}: usage shown"
        );
    }
}

// ---------------------------------------------------------------- resolve

#[test]
fn resolve_all_plugged_exits_0() {
    let r = on(DPU, &["resolve", &data("cli/lsps.txt")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert!(lines[0].starts_with("vm1: PLUG c1pf0vf3 — VF 3 of PF 00:53:00:00:10:00"));
    assert!(
        lines[1].starts_with("vm2: PLUG c1pf0sf8 — SF 8 of PF"),
        "comment stripped"
    );
    assert!(lines[2].starts_with("host: PLUG c1pf0 — PF of PF"));
    assert_eq!(lines[3], "3 plugged, 0 not plugged");
}

#[test]
fn resolve_mixed_exits_1_with_a_reason_per_line() {
    let r = on(DPU, &["resolve", &data("cli/lsps-mixed.txt")]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let want = [
        "ok: PLUG c1pf0vf0 —",
        "nopf: NO (no-pf) — no PF with MAC 00:53:00:00:99:00",
        "wrongc: NO (function-not-present) — PF pci/0000:03:00.0 c0pf0",
        "novf: NO (function-not-present) — PF pci/0000:03:00.0 c1pf0",
        "typo: NO (bad-options) — unknown option \"vif-plug:representor:vf_num\"",
        "1 plugged, 4 not plugged",
    ];
    assert_eq!(lines.len(), want.len(), "{}", r.stdout);
    for (l, w) in lines.iter().zip(want) {
        assert!(l.starts_with(w), "want {w:?}, got {l:?}");
    }
    assert!(lines[2].contains("found VF 0 under controller 1 instead"));
    assert_eq!(r.stderr, "");
}

#[test]
fn resolve_reads_stdin_and_the_demo_list() {
    let text = std::fs::read_to_string(data("cli/lsps.txt")).unwrap();
    let path = data(DPU);
    let r = cli_stdin(&["--snapshot", &path, "resolve", "-"], &text);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.ends_with("3 plugged, 0 not plugged\n"));
    // The demo's list against this smaller DPU: summary counts every line.
    let demo = on(DPU, &["resolve", &data("demo-lsps.txt")]);
    assert_eq!(demo.code, 1);
    assert!(
        demo.stdout.ends_with("2 plugged, 11 not plugged\n"),
        "{}",
        demo.stdout
    );
    // Empty input: nothing to refuse.
    let empty = cli_stdin(&["--snapshot", &path, "resolve", "-"], "# nothing\n\n");
    assert_eq!(empty.code, 0);
    assert_eq!(empty.stdout, "0 plugged, 0 not plugged\n");
}

#[test]
fn resolve_missing_file_exits_2() {
    let r = on(DPU, &["resolve", "/nonexistent/lsps.txt"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("/nonexistent/lsps.txt: No such file"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
}

// ---------------------------------------------------------------- usage, environment

#[test]
fn help_exits_0_on_stdout() {
    for a in ["--help", "-h", "help"] {
        let r = cli(&[a]);
        assert_eq!(r.code, 0, "{a}");
        assert!(r
            .stdout
            .starts_with("usage: ovn-vif-rs [--snapshot FILE] COMMAND [ARGS]"));
        for cmd in [
            "dump [--json]",
            "lookup --pf-mac MAC",
            "resolve FILE",
            "monitor",
        ] {
            assert!(r.stdout.contains(cmd), "{a}: {cmd}");
        }
        assert!(r
            .stdout
            .contains("exit status: 0 ok / plugged, 1 not plugged, 2 usage"));
        assert_eq!(r.stderr, "");
    }
}

#[test]
fn usage_errors_exit_2() {
    let snap = data(DPU);
    for (args, needle) in [
        (vec![], "a command is required"),
        (vec!["frobnicate"], "unknown command \"frobnicate\""),
        (vec!["--snapshot"], "--snapshot needs a FILE"),
        (vec!["--snapshot", &snap], "a command is required"),
        (
            vec!["--snapshot", &snap, "dump", "--yaml"],
            "dump: unexpected",
        ),
        (
            vec!["--snapshot", &snap, "dump", "--json", "x"],
            "dump: unexpected",
        ),
        (
            vec!["--snapshot", &snap, "resolve"],
            "resolve needs one FILE",
        ),
        (
            vec!["--snapshot", &snap, "resolve", "a", "b"],
            "resolve needs one FILE",
        ),
        (
            vec!["--snapshot", &snap, "monitor", "x"],
            "monitor: unexpected",
        ),
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        assert!(
            r.stderr.starts_with(&format!("ovn-vif-rs: {needle}")) || r.stderr.contains(needle),
            "{args:?}: want {needle:?} in {}",
            r.stderr
        );
        assert!(r.stderr.contains("\nusage: ovn-vif-rs"), "{args:?}");
    }
}

#[test]
fn unreadable_or_broken_snapshot_exits_2() {
    let r = cli(&["--snapshot", "/nonexistent/dump.txt", "dump"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/dump.txt"), "{}", r.stderr);
    assert!(!r.stderr.contains("usage:"), "not a usage error");
    let dir = scratch("broken");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "# fine\nport pci/x/1 flavour bogus\n").unwrap();
    let r = cli(&[
        "--snapshot",
        bad.to_str().unwrap(),
        "lookup",
        "--pf-mac",
        HOST_PF,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("line 2: unknown flavour \"bogus\""),
        "{}",
        r.stderr
    );
}

/// Without `--snapshot` the CLI reads the kernel.  On a kernel without
/// devlink (this project's CI machine: the message names devlink) or
/// without root it must say so and exit 2; on a DPU, as root, it succeeds
/// (and `monitor` keeps running: stopped after a few seconds).  Never a
/// panic.
#[test]
fn kernel_source_without_devlink_is_a_clear_error() {
    for args in [
        vec!["dump"],
        vec!["dump", "--json"],
        vec!["lookup", "--pf-mac", HOST_PF, "--vf-num", "3"],
        vec!["resolve", "-"],
        vec!["monitor"],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .env_remove("OVN_VIF_RS_SNAPSHOT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut still_running = false;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                assert_eq!(args, ["monitor"], "{args:?} hangs");
                let _ = child.kill();
                still_running = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        if still_running {
            continue; // monitoring a real devlink kernel
        }
        let r = finish(&args, out);
        if r.code == 0 || r.code == 1 {
            continue; // a kernel with devlink, run as root
        }
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        assert_eq!(
            r.stderr.lines().count(),
            1,
            "{args:?}: one line: {}",
            r.stderr
        );
        let line = r.stderr.trim_end();
        assert!(
            line.starts_with("ovn-vif-rs: cannot open the representor source: ")
                || line.starts_with("ovn-vif-rs: cannot read "),
            "{args:?}: {line}"
        );
        assert!(
            line.contains("(or use --snapshot FILE)") || line.contains("(run as root)"),
            "{args:?}: a hint: {line}"
        );
        if line.contains("not found") {
            assert!(
                line.contains("this kernel has no devlink") && line.contains("CONFIG_NET_DEVLINK"),
                "{args:?}: names the missing devlink: {line}"
            );
        }
    }
}

// ---------------------------------------------------------------- monitor

#[test]
fn monitor_on_a_snapshot_prints_changes() {
    let dir = scratch("monitor");
    let snap = dir.join("live.txt");
    let base = std::fs::read_to_string(data(DPU)).unwrap();
    std::fs::write(&snap, &base).unwrap();
    let mut child = Command::new(BIN)
        .args(["--snapshot", snap.to_str().unwrap(), "monitor"])
        .env_remove("OVN_VIF_RS_SNAPSHOT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(20));
    let mut seen = Vec::new();
    let mut got_add = false;
    if let Ok(l) = &first {
        // Replace the file atomically with one more VF.
        let tmp = dir.join("live.tmp");
        std::fs::write(
            &tmp,
            format!("{base}port pci/0000:03:00.0/7 flavour pcivf controller 1 pfnum 0 vfnum 5 external netdev c1pf0vf5 ifindex 17\n"),
        )
        .unwrap();
        std::fs::rename(&tmp, &snap).unwrap();
        seen.push(l.clone());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(l) => {
                    got_add |= l.contains("+ port pci/0000:03:00.0/7 flavour pcivf");
                    seen.push(l);
                    if got_add {
                        break;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => break,
            }
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let first = first.unwrap_or_else(|e| panic!("no first line ({e:?}); stderr: {stderr}"));
    assert!(
        first.starts_with("# monitoring ") && first.contains("(7 ports); Ctrl-C to stop"),
        "{first}"
    );
    assert!(
        got_add,
        "no '+ port' line for the new VF: {seen:?}\n{stderr}"
    );
}

// ---------------------------------------------------------------- clap: help, bad flags

#[test]
fn command_help_and_version() {
    for args in [
        &["help", "lookup"][..],
        &["lookup", "--help"],
        &["lookup", "-h"],
    ] {
        let r = cli(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{args:?}");
        assert!(
            r.stdout.contains(
                "Usage: ovn-vif-rs [--snapshot FILE] lookup --pf-mac MAC [--vf-num N | --sf-num N]"
            ),
            "{args:?}: {}",
            r.stdout
        );
        for flag in [
            "--pf-mac <MAC>",
            "--vf-num <N>",
            "--sf-num <N>",
            "--snapshot <FILE>",
        ] {
            assert!(r.stdout.contains(flag), "{args:?}: {flag} in {}", r.stdout);
        }
    }
    let long = cli(&["help", "lookup"]).stdout;
    assert!(long.contains("REASON is one of no-pf,"), "{long}");
    let dump = cli(&["dump", "--help"]);
    assert_eq!(dump.code, 0);
    assert!(dump.stdout.contains("--json"), "{}", dump.stdout);
    // `help` with an unknown command: the top-level text, as before.
    let top = cli(&["help", "frobnicate"]);
    assert_eq!(top.code, 0);
    assert_eq!(top.stdout, cli(&["--help"]).stdout);
    let v = cli(&["--version"]);
    assert_eq!(
        (v.code, v.stdout.as_str(), v.stderr.as_str()),
        (
            0,
            concat!("ovn-vif-rs ", env!("CARGO_PKG_VERSION"), "\n"),
            ""
        )
    );
}

#[test]
fn bad_flags_exit_2_with_one_line_and_the_usage() {
    let snap = data(DPU);
    for (args, first) in [
        (vec!["--bogus"], "ovn-vif-rs: unexpected \"--bogus\""),
        (vec!["--bogus", "dump"], "ovn-vif-rs: dump: unexpected \"--bogus\""),
        (
            vec!["--snapshot", &snap, "dump", "--yaml"],
            "ovn-vif-rs: dump: unexpected \"--yaml\"",
        ),
        (
            vec!["--snapshot", &snap, "monitor", "-x"],
            "ovn-vif-rs: monitor: unexpected \"-x\"",
        ),
        (
            vec!["dmup"],
            "ovn-vif-rs: unknown command \"dmup\" (did you mean \"dump\"?)",
        ),
        (vec!["lookup", "--pf-mac"], "ovn-vif-rs: --pf-mac needs a value"),
        (
            vec!["lookup", "--pf-mac", HOST_PF, "--pf-mac", HOST_PF],
            "ovn-vif-rs: lookup: option vif-plug:representor:pf-mac given more than once",
        ),
        // A value that looks like a flag is the option's value, judged by
        // the library's parser (as the LSP option would be).
        (
            vec!["lookup", "--pf-mac", HOST_PF, "--vf-num", "-1"],
            "ovn-vif-rs: lookup: vif-plug:representor:vf-num=\"-1\" is invalid: only decimal digits are allowed",
        ),
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        let (line, rest) = r.stderr.split_once('\n').unwrap_or((&r.stderr, ""));
        assert_eq!(line, first, "{args:?}");
        assert!(
            rest.starts_with("\nusage: ovn-vif-rs [--snapshot FILE] COMMAND [ARGS]\n"),
            "{args:?}: the usage follows: {rest}"
        );
    }
}

// ---------------------------------------------------------------- ovn-vif-rs-gen

/// The commands `--help` lists (first word of each entry).
fn help_commands() -> Vec<String> {
    let help = cli(&["--help"]).stdout;
    let list = help
        .split("commands:\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or("")
        .to_owned();
    let cmds: Vec<String> = list
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert_eq!(cmds, ["dump", "lookup", "resolve", "monitor", "help"]);
    cmds
}

#[test]
fn man_page_is_generated_from_the_definition() {
    let out = Command::new(GEN)
        .arg("man")
        .env("SOURCE_DATE_EPOCH", "1764547200")
        .output()
        .unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(man.len() > 4000, "{} bytes", man.len());
    assert!(
        man.contains("\n.TH OVN-VIF-RS 1 2025-12-01 \"ovn-vif-rs 0.1.0\" \"User Commands\"\n"),
        "the date comes from SOURCE_DATE_EPOCH:\n{man}"
    );
    let sections: Vec<&str> = man.lines().filter_map(|l| l.strip_prefix(".SH ")).collect();
    assert_eq!(
        sections,
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "COMMANDS",
            "OPTIONS",
            "LOGICAL_SWITCH_PORT OPTIONS",
            "ENVIRONMENT",
            "EXIT STATUS",
            "EXAMPLES",
            "FILES",
            "SEE ALSO",
            "NOTES",
        ]
    );
    let commands = man
        .split("\n.SH COMMANDS\n")
        .nth(1)
        .and_then(|s| s.split("\n.SH ").next())
        .unwrap();
    for c in help_commands() {
        assert!(
            commands.contains(&format!(".TP\n\\fB{c}\\fR")),
            "COMMANDS has no entry for {c}:\n{commands}"
        );
        assert!(
            man.contains(&format!(
                "\\fBovn\\-vif\\-rs\\fR [\\fB\\-\\-snapshot\\fR \\fIFILE\\fR] \\fB{c}\\fR"
            )) || c == "help",
            "SYNOPSIS has no line for {c}"
        );
    }
    // Each command's own options, under it.
    for flag in ["json", "pf\\-mac", "vf\\-num", "sf\\-num"] {
        assert!(
            commands.contains(&format!("\\fB\\-\\-{flag}\\fR")),
            "--{flag} in COMMANDS"
        );
    }
}

#[test]
fn completions_are_generated_and_complete() {
    let bash = gen(&["completions", "bash"]);
    assert!(bash.contains("complete -F _ovn-vif-rs"), "{bash}");
    for w in [
        "dump",
        "lookup",
        "resolve",
        "monitor",
        "--pf-mac",
        "--snapshot",
    ] {
        assert!(bash.contains(w), "bash completion lacks {w}");
    }
    assert!(gen(&["completions", "zsh"]).starts_with("#compdef ovn-vif-rs"));
    assert!(gen(&["completions", "fish"]).contains("complete -c ovn-vif-rs"));
    // `all DIR`: the same files, where debian/rules picks them up.
    let dir = scratch("gen-all");
    let st = Command::new(GEN)
        .arg("all")
        .arg(&dir)
        .env("SOURCE_DATE_EPOCH", "0")
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("bash/ovn-vif-rs")).unwrap(),
        bash
    );
    for f in ["ovn-vif-rs.1", "zsh/_ovn-vif-rs", "fish/ovn-vif-rs.fish"] {
        assert!(std::fs::metadata(dir.join(f)).unwrap().len() > 100, "{f}");
    }
    // bash itself completes a command and a flag with it.
    let Ok(probe) = Command::new("bash").arg("--version").output() else {
        return; // no bash on this machine
    };
    assert!(probe.status.success());
    let complete = |line: &str| {
        let script = format!(
            "source {}; COMP_WORDS=({line}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _ovn-vif-rs ovn-vif-rs \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[@]}}\"",
            dir.join("bash/ovn-vif-rs").display()
        );
        let out = Command::new("bash")
            .args(["--norc", "-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(complete("ovn-vif-rs loo"), "lookup");
    assert_eq!(complete("ovn-vif-rs lookup --pf"), "--pf-mac");
}

/// A minimal JSON checker (RFC 8259 grammar), enough to prove `dump --json`
/// is well-formed without a dependency.
mod json {
    #[derive(Debug)]
    pub enum Value {
        Null,
        Bool(#[allow(dead_code)] bool),
        Number(#[allow(dead_code)] String),
        Str(#[allow(dead_code)] String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    pub fn parse(s: &str) -> Result<Value, String> {
        let mut p = P {
            b: s.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(format!("trailing data at byte {}", p.i));
        }
        Ok(v)
    }

    struct P<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl P<'_> {
        fn ws(&mut self) {
            while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn err<T>(&self, what: &str) -> Result<T, String> {
            Err(format!("{what} at byte {}", self.i))
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                self.err(&format!("expected {:?}", c as char))
            }
        }
        fn lit(&mut self, w: &str, v: Value) -> Result<Value, String> {
            if self.b[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                Ok(v)
            } else {
                self.err("bad literal")
            }
        }
        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            match self.b.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut m = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Object(m));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        m.push((k, self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Value::Object(m));
                            }
                            _ => return self.err("expected , or }"),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Array(a));
                    }
                    loop {
                        a.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Value::Array(a));
                            }
                            _ => return self.err("expected , or ]"),
                        }
                    }
                }
                Some(b'"') => Ok(Value::Str(self.string()?)),
                Some(b't') => self.lit("true", Value::Bool(true)),
                Some(b'f') => self.lit("false", Value::Bool(false)),
                Some(b'n') => self.lit("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => self.err("expected a value"),
            }
        }
        fn number(&mut self) -> Result<Value, String> {
            let start = self.i;
            if self.b[self.i] == b'-' {
                self.i += 1;
            }
            let digits = |p: &mut Self| {
                let s = p.i;
                while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                    p.i += 1;
                }
                p.i - s
            };
            let int_start = self.i;
            let n = digits(self);
            if n == 0 || (n > 1 && self.b[int_start] == b'0') {
                return self.err("bad integer part");
            }
            if self.b.get(self.i) == Some(&b'.') {
                self.i += 1;
                if digits(self) == 0 {
                    return self.err("bad fraction");
                }
            }
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if digits(self) == 0 {
                    return self.err("bad exponent");
                }
            }
            Ok(Value::Number(
                String::from_utf8(self.b[start..self.i].to_vec()).unwrap(),
            ))
        }
        fn string(&mut self) -> Result<String, String> {
            if self.b.get(self.i) != Some(&b'"') {
                return self.err("expected a string");
            }
            self.i += 1;
            let mut out = Vec::new();
            loop {
                match self.b.get(self.i) {
                    None => return self.err("unterminated string"),
                    Some(b'"') => {
                        self.i += 1;
                        return String::from_utf8(out).or_else(|_| self.err("bad UTF-8"));
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        match self.b.get(self.i) {
                            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                                out.push(self.b[self.i]);
                                self.i += 1;
                            }
                            Some(b'u') => {
                                let hex = self.b.get(self.i + 1..self.i + 5);
                                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                    return self.err("bad \\u escape");
                                }
                                self.i += 5;
                            }
                            _ => return self.err("bad escape"),
                        }
                    }
                    Some(&c) if c < 0x20 => return self.err("control character in string"),
                    Some(&c) => {
                        out.push(c);
                        self.i += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn checker_rejects_what_it_should() {
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "\"a\nb\"",
            "nul",
            "{} x",
            "{'a':1}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        for good in [
            "{}",
            "[]",
            "[1,-2.5e3,null,true,\"\\u00e9\\n\"]",
            " {\"a\" : [ {} ] } \n",
        ] {
            assert!(parse(good).is_ok(), "{good:?}");
        }
    }
}

/// `ovn-vif-rs-gen ARGS`: exit status 0, stdout.
fn gen(args: &[&str]) -> String {
    let out = Command::new(GEN)
        .args(args)
        .output()
        .expect("runs ovn-vif-rs-gen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ovn-vif-rs-gen {args:?}: {stderr}");
    assert_eq!(stderr, "", "ovn-vif-rs-gen {args:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The man page `ovn-vif-rs-gen man` writes (shipped in the Debian
/// package) names every command, option and environment variable that
/// `--help` does.
#[test]
fn man_page_covers_the_usage_text() {
    let help = cli(&["--help"]).stdout;
    let man = gen(&["man"]);
    // troff source to plain words: \- is a hyphen, \fB..\fP are fonts.
    let man = man
        .replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fP", "")
        .replace("\\fR", "")
        .replace("\\&", "");
    let mut words: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || "[]|'=,()".contains(c))
        .filter(|w| {
            w.starts_with("--") || w.starts_with("vif-plug:") || w.starts_with("OVN_VIF_RS_")
        })
        .collect();
    // The commands: first word of each line indented by two under "commands:".
    let cmds = help
        .split("commands:")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or("");
    for l in cmds.lines() {
        if let Some(rest) = l.strip_prefix("  ") {
            if !rest.starts_with(' ') {
                words.extend(rest.split_whitespace().next());
            }
        }
    }
    assert!(words.len() >= 12, "{words:?}");
    for w in words {
        let w = w.trim_end_matches(['.', ':']);
        assert!(
            man.contains(w),
            "the man page does not mention {w:?} (from --help)"
        );
    }
    assert!(man.contains(".SH EXIT STATUS"));
}
