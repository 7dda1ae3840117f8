//! One function, one lport (src/claims.rs), and what the provider logs
//! about untrusted names and options, through the exported C vtable
//! (`vif_plug_provider_classes[0]`, called in-process with OVS-layout
//! smaps as ovn-controller calls it) on a snapshot source
//! (tests/data/dpu.snapshot).
//!
//! The provider is a process-wide singleton, so everything runs in one test
//! (in order), with a capturing logger installed before `init`.

use std::sync::Mutex;

use ovn_vif_rs::testing::ovs::{class, create, remove, remove_iface};

const MAC: &str = "00:53:00:00:10:00";

// ---------------------------------------------------------------------------
// A logger that keeps every line.

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        LINES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{}|{}", r.level(), r.args()));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

/// The lines logged since the last call.
fn take_lines() -> Vec<String> {
    std::mem::take(&mut *LINES.lock().unwrap_or_else(|e| e.into_inner()))
}

// ---------------------------------------------------------------------------
// The vtable, as ovn-controller drives it.

fn options(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v = vec![
        ("requested-chassis".to_owned(), "dpu0".to_owned()),
        ("vif-plug-type".to_owned(), "representor".to_owned()),
        ("vif-plug:representor:pf-mac".to_owned(), MAC.to_owned()),
    ];
    v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    v
}

fn vf(n: u32) -> Vec<(String, String)> {
    options(&[("vif-plug:representor:vf-num", &n.to_string())])
}

// ---------------------------------------------------------------------------

#[test]
fn one_function_one_lport_and_safe_logs_through_the_vtable() {
    log::set_logger(&CAPTURE).expect("no other logger in this test binary");
    log::set_max_level(log::LevelFilter::Debug);
    let snap = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dpu.snapshot");
    std::env::set_var(ovn_vif_rs::sources::ENV_SNAPSHOT, snap);
    let init = class().init.expect("init");
    // SAFETY: plain call of the library's own entry point.
    assert_eq!(unsafe { init() }, 0);

    two_lports_never_share_a_function();
    the_holder_keeps_it_until_its_remove();
    a_holder_that_stops_asking_loses_it_on_the_third_contending_ask();
    a_holder_that_moves_frees_its_old_function();
    a_replug_keeps_the_new_function_through_the_old_interfaces_remove();
    a_misspelt_prefix_refuses_instead_of_plugging_the_pf();
    names_and_options_are_logged_escaped_and_capped();
    smart_nic_warnings_are_rate_limited_and_escaped();

    let destroy = class().destroy.expect("destroy");
    // SAFETY: plain call of the library's own entry point.
    unsafe { destroy() };
}

/// Issue 12 item 3: LSP A and LSP B with the same pf-mac and vf-num.  On
/// 7c4cb1c both got `c1pf0vf3`, and ovn-controller rewrote the Interface's
/// iface-id between them on every iteration.
fn two_lports_never_share_a_function() {
    take_lines();
    assert_eq!(create("lsp-a", &vf(3)).as_deref(), Some("c1pf0vf3"));
    // Every iteration asks both (A first: its Interface is walked before
    // the Port_Bindings), many times over: B never gets it.
    for round in 0..20 {
        assert_eq!(
            create("lsp-a", &vf(3)).as_deref(),
            Some("c1pf0vf3"),
            "round {round}"
        );
        assert_eq!(create("lsp-b", &vf(3)), None, "round {round}");
    }
    // And in the other order within an iteration, too.
    for round in 0..20 {
        assert_eq!(create("lsp-b", &vf(3)), None, "round {round}");
        assert_eq!(
            create("lsp-a", &vf(3)).as_deref(),
            Some("c1pf0vf3"),
            "round {round}"
        );
    }
    // Other functions are unaffected.
    assert_eq!(create("lsp-c", &vf(0)).as_deref(), Some("c1pf0vf0"));
    // B's refusal was logged once at info level, naming both lports and
    // the function; the repeats at debug level only.
    let lines = take_lines();
    let infos: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("INFO|") && l.contains("function-claimed"))
        .collect();
    assert_eq!(infos.len(), 1, "{lines:#?}");
    let l = infos[0];
    assert!(l.contains("lport lsp-b"), "{l}");
    assert!(l.contains("lport lsp-a"), "{l}");
    assert!(l.contains("c1pf0vf3"), "{l}");
    assert!(l.contains("pci/0000:03:00.0"), "{l}");
}

/// The holder keeps it until its REMOVE; then the other lport gets it, and
/// the old holder asking again is the one refused.
fn the_holder_keeps_it_until_its_remove() {
    assert_eq!(create("lsp-a", &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert_eq!(create("lsp-b", &vf(3)), None);
    assert!(remove("lsp-a"));
    assert_eq!(create("lsp-b", &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert_eq!(create("lsp-a", &vf(3)), None);
    assert_eq!(create("lsp-b", &vf(3)).as_deref(), Some("c1pf0vf3"));
}

/// A holder whose plug request was withdrawn gets no REMOVE from stock OVN
/// (issue 312): it just stops asking.  A contender that asked three times
/// without one ask from the holder in between takes it over, on the third.
fn a_holder_that_stops_asking_loses_it_on_the_third_contending_ask() {
    // B holds VF 3 (above).  A contends while B still asks: never.
    for _ in 0..5 {
        assert_eq!(create("lsp-a", &vf(3)), None);
        assert_eq!(create("lsp-a", &vf(3)), None);
        assert_eq!(create("lsp-b", &vf(3)).as_deref(), Some("c1pf0vf3"));
    }
    // B stops asking.
    take_lines();
    assert_eq!(create("lsp-a", &vf(3)), None);
    assert_eq!(create("lsp-a", &vf(3)), None);
    assert_eq!(create("lsp-a", &vf(3)).as_deref(), Some("c1pf0vf3"));
    let lines = take_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("lport lsp-a: takes") && l.contains("from lport lsp-b")),
        "{lines:#?}"
    );
    // Now B is the contender.
    assert_eq!(create("lsp-b", &vf(3)), None);
    assert_eq!(create("lsp-a", &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert!(remove("lsp-a"));
    assert!(remove("lsp-b"));
    assert!(remove("lsp-c"));
}

/// An lport that asks for another function gives the old one up.
fn a_holder_that_moves_frees_its_old_function() {
    assert_eq!(create("lsp-a", &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert_eq!(create("lsp-a", &vf(0)).as_deref(), Some("c1pf0vf0"));
    assert_eq!(create("lsp-b", &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert_eq!(create("lsp-b", &vf(0)), None);
    assert!(remove("lsp-a"));
    assert!(remove("lsp-b"));
}

/// ovn-patch 0005: a changed plug target is a CREATE for the new netdev,
/// then a REMOVE of the lport's old Interface; on c6b4950 that REMOVE
/// freed the function just handed to the lport.
fn a_replug_keeps_the_new_function_through_the_old_interfaces_remove() {
    assert_eq!(create("lsp-a", &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert_eq!(create("lsp-a", &vf(0)).as_deref(), Some("c1pf0vf0"));
    assert!(remove_iface("lsp-a", Some("c1pf0vf3")));
    assert_eq!(create("lsp-b", &vf(0)), None);
    assert_eq!(create("lsp-a", &vf(0)).as_deref(), Some("c1pf0vf0"));
    // The REMOVE of its current Interface frees it.
    assert!(remove_iface("lsp-a", Some("c1pf0vf0")));
    assert_eq!(create("lsp-b", &vf(0)).as_deref(), Some("c1pf0vf0"));
    assert!(remove("lsp-b"));
}

/// Issue 12 item 11: a near miss of the `vif-plug:representor:` prefix was
/// ignored, so the PF's representor (`c1pf0`) was plugged instead of VF 3.
fn a_misspelt_prefix_refuses_instead_of_plugging_the_pf() {
    assert_eq!(create("lsp-pf", &options(&[])).as_deref(), Some("c1pf0"));
    assert!(remove("lsp-pf"));
    take_lines();
    for key in [
        "vif-plug:representor-vf-num",
        "vif-plug:Representor:vf-num",
        "VIF-PLUG:REPRESENTOR:VF-NUM",
        "vif_plug:representor:vf-num",
    ] {
        assert_eq!(create("lsp-typo", &options(&[(key, "3")])), None, "{key}");
    }
    let lines = take_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("lport lsp-typo") && l.contains("misspelling")),
        "{lines:#?}"
    );
}

/// Issue 12 item 9: names and option values are logged with control
/// characters escaped and their length capped.
fn names_and_options_are_logged_escaped_and_capped() {
    take_lines();
    let forged = "lsp-x\n2026-12-01T00:00:00.000Z|00001|vif_plug_representor|INFO|forged";
    assert_eq!(create(forged, &vf(999)), None);
    let big = "9".repeat(1 << 20);
    assert_eq!(
        create(
            "lsp-big",
            &options(&[("vif-plug:representor:vf-num", &big)])
        ),
        None
    );
    let safe = |lines: &[String]| {
        for l in lines {
            assert!(!l.contains('\n'), "a newline reached the log: {l:?}");
            assert!(l.len() < 2048, "a {}-byte line", l.len());
        }
    };
    let lines = take_lines();
    assert!(lines.len() >= 2, "{lines:#?}");
    safe(&lines);
    assert!(
        lines.iter().any(|l| l.contains("lport lsp-x\\n2026")),
        "{lines:#?}"
    );
    // A long name: kept as its first bytes and a digest, shown capped.
    let long = format!("lsp-{}", "n".repeat(100_000));
    assert_eq!(create(&long, &vf(3)).as_deref(), Some("c1pf0vf3"));
    assert_eq!(create(&long, &vf(3)).as_deref(), Some("c1pf0vf3"));
    // Same first bytes, another name: another lport.
    let long2 = format!("{long}x");
    assert_eq!(create(&long2, &vf(3)), None);
    let lines = take_lines();
    safe(&lines);
    assert!(
        lines.iter().any(|l| l.contains("function-claimed")),
        "{lines:#?}"
    );
    assert!(remove(&long));
}

/// Issue 12 item 9: a malformed `smart_nic/pf/config` was warned about on
/// every read (once a second per uplink for as long as it stays so), with
/// the netdev name raw.
fn smart_nic_warnings_are_rate_limited_and_escaped() {
    use ovn_vif_rs::smartnic::SmartNicReader;
    take_lines();
    let dir = std::env::temp_dir().join(format!("ovn-vif-rs-sysfs-rl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let netdev = "p0\nINFO|forged";
    let d = dir.join("class/net").join(netdev).join("smart_nic/pf");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config"), "MAC        : \x1b[2Jjunk\n").unwrap();
    let r = SmartNicReader::new(&dir);
    for _ in 0..100 {
        assert_eq!(r.read_pf_mac(netdev), None);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let lines = take_lines();
    let warns: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("ovn-vif-rs-sysfs-rl-"))
        .collect();
    assert!(!warns.is_empty() && warns.len() <= 5, "{lines:#?}");
    for l in &warns {
        assert!(!l.contains('\n') && !l.contains('\x1b'), "{l:?}");
    }
}
