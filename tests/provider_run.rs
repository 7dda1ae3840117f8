//! `Provider::run` reports exactly the changes that can change a decision
//! since it last returned (src/table/mod.rs, "Decisions"), including those a
//! `prepare` drained in between: OVN with ovn-patch 0008 reconsiders a
//! plugged lport only when its database rows change or `run` returns
//! true, so a change swallowed by a `prepare` would leave a plugged lport
//! on a stale decision, and a change reported for nothing costs a full
//! pass over every plugged lport.

mod common;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{pf, vf, D0};
use ovn_vif_rs::kernel::KernelOptions;
use ovn_vif_rs::port::{DevlinkPort, PortFunction};
use ovn_vif_rs::rtnl::parse::LinkInfo;
use ovn_vif_rs::testing::{Channel, FakeKernel};

use ovn_vif_rs::provider::{Provider, Source};
use ovn_vif_rs::snapshot;
use ovn_vif_rs::table::{LinkPolicy, Table};

const PF: &str = "port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external \
                  hw_addr 00:53:00:00:10:00 netdev pf0hpf ifindex 11\n";
const VF3: &str = "port pci/0000:03:00.0/3 flavour pcivf controller 1 pfnum 0 vfnum 3 \
                   external netdev pf0vf3 ifindex 12\n";

fn table(text: &str) -> Table {
    snapshot::parse(text, LinkPolicy::TrustDevlink).expect("snapshot")
}

/// A source whose next drain swaps in whatever table the test queued.
struct Queued {
    initial: String,
    next: Arc<Mutex<Option<Table>>>,
}

impl Source for Queued {
    fn load(&mut self) -> io::Result<Table> {
        Ok(table(&self.initial))
    }

    fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        match self.next.lock().unwrap().take() {
            Some(t) => Ok(table.replace_with(t)),
            None => Ok(false),
        }
    }

    fn describe(&self) -> String {
        "queued test tables".into()
    }
}

fn provider() -> (Provider, Arc<Mutex<Option<Table>>>) {
    provider_with(PF)
}

fn provider_with(initial: &str) -> (Provider, Arc<Mutex<Option<Table>>>) {
    let next = Arc::new(Mutex::new(None));
    let source = Queued {
        initial: initial.to_string(),
        next: Arc::clone(&next),
    };
    (Provider::new(Box::new(source), || 0).expect("load"), next)
}

fn vf_request(n: u16) -> Vec<(&'static str, String)> {
    vec![
        ("vif-plug-type", "representor".into()),
        ("vif-plug:representor:pf-mac", "00:53:00:00:10:00".into()),
        ("vif-plug:representor:vf-num", n.to_string()),
    ]
}

fn vf3_request() -> Vec<(&'static str, String)> {
    vf_request(3)
}

#[test]
fn run_reports_a_change_drained_by_prepare() {
    let (mut p, next) = provider_with(&format!("{PF}{VF3}"));
    assert!(!p.run(), "nothing pending, nothing to report");
    let name = p.prepare_create("lsp1", vf3_request(), None, |n| n.to_string());
    assert_eq!(name.as_deref(), Some("pf0vf3"));

    // VF 3 is renamed; the miss path of another lport's prepare drains it.
    *next.lock().unwrap() = Some(table(&format!("{PF}{}", VF3.replace("pf0vf3", "vm1"))));
    assert!(p
        .prepare_create("lsp2", vf_request(4), None, |n| n.to_string())
        .is_none());

    // The table changed since the last run: run must say so once, although
    // its own drain finds nothing new.
    assert!(
        p.run(),
        "a change drained by prepare must be reported by run"
    );
    assert!(!p.run(), "reported once");
}

/// A new function only turns a refusal into an answer: no plugged lport's
/// answer changes, and OVN asks a declined lport again anyway (stock OVN:
/// every lport, every iteration; 0008: every declined one), so `run`
/// reports nothing, whether `run` or a `prepare` drained it.
#[test]
fn run_does_not_report_a_new_function() {
    let (mut p, next) = provider();
    assert!(!p.run());
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    assert!(!p.run(), "drained by run");
    let (mut p, next) = provider();
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    let name = p.prepare_create("lsp1", vf3_request(), None, |n| n.to_string());
    assert_eq!(name.as_deref(), Some("pf0vf3"), "the waiting lport plugs");
    assert!(!p.run(), "drained by prepare");
}

#[test]
fn run_reports_its_own_drain_once() {
    let (mut p, next) = provider_with(&format!("{PF}{VF3}"));
    assert!(!p.run());
    *next.lock().unwrap() = Some(table(PF));
    assert!(p.run(), "VF 3 gone");
    assert!(!p.run());
}

#[test]
fn run_does_not_report_a_drain_that_changed_nothing() {
    let (mut p, next) = provider();
    assert!(!p.run());
    // The same table again, e.g. a resync that found what was known.
    *next.lock().unwrap() = Some(table(PF));
    assert!(p
        .prepare_create("lsp1", vf3_request(), None, |n| n.to_string())
        .is_none());
    assert!(!p.run(), "an unchanged table is no change");
}

#[test]
fn run_reports_a_reload() {
    let (mut p, _next) = provider();
    assert!(!p.run());
    p.reload().expect("reload");
    assert!(p.run(), "a reload may change anything");
    assert!(!p.run());
}

#[test]
fn run_does_not_report_a_drain_that_changed_no_answer() {
    let (mut p, next) = provider();
    assert!(!p.run());
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    assert!(!p.run(), "a new function");
    // A link no port shows changes the table, not an answer.
    let extra = "link ifindex 99 name eth99 mac 00:53:00:00:99:99\n";
    let t = table(&format!("{PF}{VF3}{extra}"));
    assert_ne!(t.canonical(), p.table().canonical());
    *next.lock().unwrap() = Some(t);
    assert!(!p.run(), "a link no port shows is no change");
    // Nor does VF 3's function state.
    let flapped = VF3.replace(" external ", " external state 1 opstate 1 ");
    let t = table(&format!("{PF}{flapped}{extra}"));
    assert_ne!(t.canonical(), p.table().canonical());
    *next.lock().unwrap() = Some(t);
    assert!(!p.run(), "a port function state change is no change");
    // A rename is.
    let renamed = flapped.replace("pf0vf3", "vm1");
    *next.lock().unwrap() = Some(table(&format!("{PF}{renamed}{extra}")));
    assert!(p.run(), "a rename changes the answer");
    assert!(!p.run());
}

// ---- the kernel source, through the fake kernel ----

const PF_MAC: &str = "00:53:00:00:10:00";

fn info(ifindex: u32, name: &str, mac: Option<&str>) -> LinkInfo {
    LinkInfo {
        ifindex,
        name: name.to_owned(),
        mac: mac.map(common::mac),
    }
}

fn kernel_opts(tag: &str) -> KernelOptions {
    // Neither directory exists: no udev (names final as they come), no
    // smart_nic files.
    let root = PathBuf::from(format!(
        "/nonexistent/ovn-vif-rs-provider-run-{tag}-{}",
        std::process::id()
    ));
    KernelOptions {
        rcvbuf: None,
        udev_root: root.join("udev"),
        sysfs_root: root.join("sys"),
        ..KernelOptions::default()
    }
}

static CLOCK_MS: AtomicU64 = AtomicU64::new(0);

fn clock() -> u64 {
    CLOCK_MS.load(Ordering::Relaxed)
}

/// A provider over the fake kernel with PF 0 (MAC 00:53:00:00:10:00) and
/// its representor `pf0hpf` (ifindex 11).
fn kernel_provider(tag: &str) -> (Provider, FakeKernel) {
    let k = FakeKernel::new();
    let pf0 = pf(D0, 2, 0, 0, PF_MAC, 11, "pf0hpf");
    k.state().ports.insert(pf0.id.clone(), pf0);
    k.state().links.insert(11, info(11, "pf0hpf", None));
    let src = k.source(kernel_opts(tag)).expect("fake kernel source");
    let p = Provider::new(Box::new(src), clock).expect("load");
    (p, k)
}

fn vf_port(vfnum: u16, ifindex: u32, name: &str) -> DevlinkPort {
    vf(D0, 10 + u32::from(vfnum), 0, 0, vfnum, ifindex, name)
}

/// Each kind of kernel event, one `run` each: `run` says "changed" for
/// exactly the ones that can change an answer.
#[test]
fn run_reports_kernel_events_that_can_change_an_answer_and_no_other() {
    let (mut p, k) = kernel_provider("events");
    assert!(!p.run(), "nothing pending");

    k.link_new(&info(500, "eth500", Some("00:53:00:00:50:00")));
    assert!(!p.run(), "a link no port shows");
    k.link_new(&info(500, "eth500b", Some("00:53:00:00:50:00")));
    assert!(!p.run(), "that link renamed");
    k.link_del(500);
    assert!(!p.run(), "that link gone");

    // A new VF, in 6.1's order: port (notset), link, port (eth).
    let mut bare = vf_port(3, 12, "eth12");
    bare.netdev = None;
    k.port_new(&bare);
    assert!(!p.run(), "a function without a netdev plugs nothing yet");
    k.link_new(&info(12, "eth12", None));
    k.port_new(&vf_port(3, 12, "eth12"));
    assert!(
        !p.run(),
        "a new VF with its netdev: an appearance (a waiting lport is asked anyway)"
    );

    k.link_new(&info(12, "eth12", Some("00:53:00:00:12:00")));
    assert!(!p.run(), "the VF netdev's MAC is no PF MAC");
    let mut flap = vf_port(3, 12, "eth12");
    flap.function = Some(PortFunction {
        hw_addr: Some(common::mac("00:53:00:00:12:34")),
        state: Some(1),
        opstate: Some(1),
    });
    k.port_new(&flap);
    assert!(!p.run(), "VF function hw_addr and state");
    flap.function = Some(PortFunction {
        hw_addr: Some(common::mac("00:53:00:00:12:34")),
        state: Some(0),
        opstate: Some(0),
    });
    k.port_new(&flap);
    assert!(!p.run(), "VF function state flap");

    k.link_new(&info(12, "c0pf0vf3", Some("00:53:00:00:12:00")));
    assert!(p.run(), "the representor renamed");

    k.port_new(&pf(D0, 2, 0, 0, "00:53:00:00:10:01", 11, "pf0hpf"));
    assert!(
        p.run(),
        "the PF MAC changed: every VF's request resolves elsewhere"
    );

    // Lost events: the resync finds what the table already shows.
    k.overflow(Channel::DevlinkMon);
    assert!(!p.run(), "a resync that changes no answer");
    // Lost events hiding a rename: the resync finds it.
    k.overflow(Channel::RtnlMon);
    k.state().links.insert(12, info(12, "vm1", None));
    assert!(p.run(), "a resync that finds a rename");

    // The VF goes (6.1: port notset, then PORT_DEL, then the link).
    k.remove_port_61(&vf_port(3, 12, "vm1").id);
    assert!(p.run(), "a function gone");
    k.link_del(12);
    assert!(!p.run(), "its netdev's link, after its port");
}

/// A change drained by `prepare`'s miss path is reported by the next
/// `run` (kernel source); a drain that changed no answer is not.
#[test]
fn run_reports_what_a_prepare_drained_from_the_kernel() {
    let (mut p, k) = kernel_provider("prepare");
    assert!(!p.run());
    k.link_new(&info(500, "eth500", None));
    let vf0 = [
        ("vif-plug-type", "representor"),
        ("vif-plug:representor:pf-mac", PF_MAC),
        ("vif-plug:representor:vf-num", "0"),
    ];
    assert!(p
        .prepare_create("lsp0", vf0.to_vec(), None, |n| n.to_string())
        .is_none());
    assert!(!p.run(), "the prepare drained a link no port shows");
    k.link_new(&info(13, "pf0vf0", None));
    k.port_new(&vf_port(0, 13, "pf0vf0"));
    assert_eq!(
        p.prepare_create("lsp0", vf0.to_vec(), None, |n| n.to_string())
            .as_deref(),
        Some("pf0vf0")
    );
    assert!(!p.run(), "the prepare drained a new VF: an appearance");
    // VF 0 renamed, drained by the miss of lsp1's prepare (VF 1 absent).
    k.link_new(&info(13, "vm0", None));
    let vf1 = [
        ("vif-plug-type", "representor"),
        ("vif-plug:representor:pf-mac", PF_MAC),
        ("vif-plug:representor:vf-num", "1"),
    ];
    assert!(p
        .prepare_create("lsp1", vf1.to_vec(), None, |n| n.to_string())
        .is_none());
    assert!(p.run(), "the prepare drained a rename");
    assert!(!p.run());
}

/// The source becoming unavailable (a resync that fails) and available
/// again are changes: names are withdrawn, then handed out again.
#[test]
fn run_reports_an_outage_and_its_end() {
    let (mut p, k) = kernel_provider("outage");
    k.link_new(&info(12, "pf0vf3", None));
    k.port_new(&vf_port(3, 12, "pf0vf3"));
    assert!(!p.run(), "a new VF: an appearance");
    // Lost events, and the resync's dump fails: an outage.
    k.overflow(Channel::DevlinkMon);
    k.state().per_datagram = 1;
    k.state().fail_port_dump = Some(libc::EIO);
    assert!(p.run(), "the source became unavailable");
    assert!(!p.run(), "still unavailable, no retry due");
    // The retry is due after the first back-off step (1 s) and succeeds.
    CLOCK_MS.fetch_add(60_000, Ordering::Relaxed);
    assert!(p.run(), "available again");
    assert!(!p.run());
}

// ---- one function, one lport, on a host with ovn-patch 0008 ----

/// One main-loop iteration of OVN with ovn-patch 0003 + 0008: `run`, then
/// prepare for every declined lport, and for the plugged ones only when
/// `run` reported a change.  Returns the answers given this iteration.
fn iteration_0008(
    p: &mut Provider,
    lports: &mut [(&'static str, Option<String>, bool)],
) -> Vec<(&'static str, Option<String>)> {
    let full = p.run();
    let mut asked = Vec::new();
    for (name, plugged, active) in lports.iter_mut() {
        if !*active || (plugged.is_some() && !full) {
            continue;
        }
        let got = p.prepare_create(name, vf3_request(), None, |n| n.to_string());
        asked.push((*name, got.clone()));
        *plugged = got;
    }
    asked
}

/// Two lports ask for VF 3.  The holder, plugged, is asked by OVN with
/// 0008 only after a reported change; the contender, declined, every
/// iteration.  The holder must keep its function: the contender's
/// refusal is reported, so the holder is asked in the next iteration and
/// the contender never takes over.
#[test]
fn a_plugged_holder_keeps_its_function_against_a_contender_under_0008() {
    let (mut p, next) = provider();
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    let mut lports = [("lsp1", None, true), ("lsp2", None, false)];
    iteration_0008(&mut p, &mut lports);
    assert_eq!(lports[0].1.as_deref(), Some("pf0vf3"));
    // Idle: nothing asked.
    assert!(iteration_0008(&mut p, &mut lports).is_empty());
    // The contender appears.
    lports[1].2 = true;
    for i in 0..20 {
        let asked = iteration_0008(&mut p, &mut lports);
        assert!(
            asked.contains(&("lsp2", None)),
            "iteration {i}: the contender is refused: {asked:?}"
        );
        assert_eq!(lports[0].1.as_deref(), Some("pf0vf3"), "iteration {i}");
    }
    // The contender goes (its LSP deleted: no REMOVE for a declined
    // lport): the next iterations ask nobody.
    lports[1].2 = false;
    iteration_0008(&mut p, &mut lports);
    assert!(iteration_0008(&mut p, &mut lports).is_empty());
}

/// A holder that stopped asking (deleted without a REMOVE) is taken over
/// after `claims::TAKEOVER_ASKS` full iterations, and the takeover is
/// reported.
#[test]
fn a_holder_that_stopped_asking_is_taken_over_under_0008() {
    let (mut p, next) = provider();
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    let mut lports = [("lsp1", None, true), ("lsp2", None, true)];
    iteration_0008(&mut p, &mut lports);
    let holder = if lports[0].1.is_some() { 0 } else { 1 };
    assert_eq!(lports[holder].1.as_deref(), Some("pf0vf3"));
    assert_eq!(lports[1 - holder].1, None);
    lports[holder].2 = false;
    let mut took = None;
    for i in 0..10 {
        iteration_0008(&mut p, &mut lports);
        if lports[1 - holder].1.is_some() {
            took = Some(i);
            break;
        }
    }
    // The contender's asks: one in the first iteration, then one per
    // iteration until it took over.
    assert_eq!(
        took.map(|i| 1 + i + 1),
        Some(ovn_vif_rs::claims::TAKEOVER_ASKS as usize),
        "taken over on its TAKEOVER_ASKS-th ask"
    );
    assert!(p.run(), "the takeover is reported");
}

/// Issue 15's goal at the provider's end: on a host with 0008, 64 plugged
/// VFs and one lport waiting for VF 64, the VF's arrival costs one
/// `prepare` (the waiting lport's), not a pass over the plugged ones; its
/// removal is reported, so its lport is asked again and declined.
#[test]
fn a_new_vf_costs_one_prepare_under_0008() {
    const PLUGGED: u16 = 64;
    let (mut p, k) = kernel_provider("one-prepare");
    for n in 0..PLUGGED {
        let ifindex = 100 + u32::from(n);
        k.link_new(&info(ifindex, &format!("pf0vf{n}"), None));
        k.port_new(&vf_port(n, ifindex, &format!("pf0vf{n}")));
    }
    let mut lports: Vec<(String, u16, Option<String>)> = (0..=PLUGGED)
        .map(|n| (format!("lsp{n}"), n, None))
        .collect();
    // One iteration of OVN with 0008; returns the prepares it made.
    let iteration = |p: &mut Provider, lports: &mut [(String, u16, Option<String>)]| {
        let full = p.run();
        let mut asked = 0;
        for (lsp, n, plugged) in lports.iter_mut() {
            if plugged.is_some() && !full {
                continue;
            }
            asked += 1;
            *plugged = p.prepare_create(lsp, vf_request(*n), None, |s| s.to_string());
        }
        asked
    };
    assert_eq!(iteration(&mut p, &mut lports), usize::from(PLUGGED) + 1);
    assert!(lports[..usize::from(PLUGGED)].iter().all(|l| l.2.is_some()));
    assert_eq!(
        lports[usize::from(PLUGGED)].2,
        None,
        "VF 64 does not exist yet"
    );
    assert_eq!(
        iteration(&mut p, &mut lports),
        1,
        "idle: the waiting lport only"
    );

    let ifindex = 100 + u32::from(PLUGGED);
    k.link_new(&info(ifindex, "pf0vf64", None));
    k.port_new(&vf_port(PLUGGED, ifindex, "pf0vf64"));
    assert_eq!(iteration(&mut p, &mut lports), 1, "the new VF: one prepare");
    assert_eq!(lports[usize::from(PLUGGED)].2.as_deref(), Some("pf0vf64"));
    assert_eq!(iteration(&mut p, &mut lports), 0, "then nothing");

    k.remove_port_61(&vf_port(PLUGGED, ifindex, "pf0vf64").id);
    k.link_del(ifindex);
    assert_eq!(
        iteration(&mut p, &mut lports),
        usize::from(PLUGGED) + 1,
        "a function gone: reported, every plugged lport asked"
    );
    assert_eq!(lports[usize::from(PLUGGED)].2, None, "declined: unplugged");
}

// ---- random kernel histories on a host with ovn-patch 0008 ----

/// splitmix64: seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

const PF_MACS: [&str; 2] = [PF_MAC, "00:53:00:00:10:01"];

/// An lport of the random histories: name, index of its PF MAC, VF number
/// (`None`: the PF itself), the name it is plugged with.
type RandomLport = (String, usize, Option<u16>, Option<String>);

/// One main-loop iteration of OVN with ovn-patch 0003 + 0008 for the random
/// histories: `run`, then prepare for every declined lport, and for the
/// plugged ones only when `run` reported a change (a changed answer is a
/// replug: CREATE, then REMOVE of the old Interface; a decline unplugs,
/// 0007).  Returns whether `run` reported a change.
fn iteration_0008_random(p: &mut Provider, lports: &mut [RandomLport], macs: &[&str]) -> bool {
    let reported = p.run();
    for (lsp, m, n, plugged) in lports.iter_mut() {
        if plugged.is_some() && !reported {
            continue;
        }
        let mut opts = vec![
            ("vif-plug-type".to_string(), "representor".to_string()),
            (
                "vif-plug:representor:pf-mac".to_string(),
                macs[*m].to_string(),
            ),
        ];
        if let Some(n) = n {
            opts.push(("vif-plug:representor:vf-num".into(), n.to_string()));
        }
        let got = p.prepare_create(lsp, opts, None, |s| s.to_string());
        if let Some(old) = plugged.as_deref() {
            if got.as_deref() != Some(old) {
                p.prepare_remove(lsp, Some(old));
            }
        }
        *plugged = got;
    }
    reported
}
const VFS: u16 = 5;

/// The netdev the fake kernel's true state plugs for VF `n` (or the PF's
/// representor for `None`) of the PF with MAC `mac`.
fn truth(k: &FakeKernel, mac: &str, n: Option<u16>) -> Option<String> {
    let s = k.state();
    let pf = s
        .ports
        .values()
        .find(|p| p.vfnum.is_none() && p.pfnum == Some(0))?;
    let pf_mac = pf.function.as_ref()?.hw_addr?;
    if pf_mac != common::mac(mac) {
        return None;
    }
    let port = match n {
        None => pf,
        Some(n) => s.ports.values().find(|p| p.vfnum == Some(n))?,
    };
    let ifindex = port.netdev.as_ref()?.ifindex;
    s.links.get(&ifindex).map(|l| l.name.clone())
}

/// Random kernel events (VFs added and removed in 6.1's order, renames,
/// netdevs re-created under the same name, PF MAC changes, VF netdev MACs
/// and function states, links no port shows, lost notifications) against
/// a model of OVN with 0003 + 0008: each iteration calls `run`, asks every
/// declined lport, and asks the plugged ones only when `run` reported a
/// change (a changed answer is a replug: CREATE, then REMOVE of the old
/// Interface; a decline unplugs, 0007).  After every iteration each lport
/// whose request the true state resolves is plugged with that netdev, and
/// no other lport is plugged: a change `run` failed to report would leave
/// a plugged lport on a stale name, one it reported for nothing shows up
/// in the count of full passes (printed).
#[test]
fn random_histories_on_a_0008_host_never_leave_a_stale_plug() {
    let histories = std::env::var("OVN_VIF_RS_RUN_HISTORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200u64);
    let (mut iterations, mut full, mut events) = (0u64, 0u64, 0u64);
    for seed in 0..histories {
        let mut r = Rng(seed);
        let (mut p, k) = kernel_provider(&format!("random-{seed}"));
        // lports: (name, pf-mac index, VF number or the PF, plugged name)
        let mut lports: Vec<RandomLport> = (0..VFS)
            .map(|n| (format!("lsp-vf{n}"), (n % 2) as usize, Some(n), None))
            .collect();
        lports.push(("lsp-pf".into(), 0, None, None));
        let mut next_ifindex = 1000u32;
        let mut pf_mac = 0usize;
        for step in 0..40 {
            let what = r.below(11);
            events += 1;
            let n = r.below(u64::from(VFS)) as u16;
            let existing = k
                .state()
                .ports
                .values()
                .find(|p| p.vfnum == Some(n))
                .cloned();
            match (what, existing) {
                (0..=2, None) => {
                    next_ifindex += 1;
                    let name = format!("eth{next_ifindex}");
                    k.link_new(&info(next_ifindex, &name, None));
                    k.add_port_61(&vf_port(n, next_ifindex, &name));
                }
                (3, Some(p)) => {
                    let i = p.netdev.as_ref().map(|nd| nd.ifindex);
                    k.remove_port_61(&p.id);
                    if let Some(i) = i {
                        k.link_del(i);
                    }
                }
                (4, Some(p)) => {
                    if let Some(nd) = &p.netdev {
                        k.link_new(&info(nd.ifindex, &format!("vm{step}r{n}"), None));
                    }
                }
                (5, Some(p)) => {
                    // The same name on a new netdev.
                    if let Some(nd) = p.netdev.clone() {
                        let name = k.state().links.get(&nd.ifindex).map(|l| l.name.clone());
                        let name = name.unwrap_or(nd.name.clone());
                        k.remove_port_61(&p.id);
                        k.link_del(nd.ifindex);
                        next_ifindex += 1;
                        k.link_new(&info(next_ifindex, &name, None));
                        k.add_port_61(&vf_port(n, next_ifindex, &name));
                    }
                }
                (6, Some(p)) => {
                    let mut q = p.clone();
                    q.function = Some(PortFunction {
                        hw_addr: Some(common::mac("00:53:00:00:77:00")),
                        state: Some(r.below(2) as u8),
                        opstate: Some(r.below(2) as u8),
                    });
                    k.port_new(&q);
                    if let Some(nd) = &p.netdev {
                        let name = k.state().links.get(&nd.ifindex).map(|l| l.name.clone());
                        if let Some(name) = name {
                            let m = format!("00:53:00:00:66:{:02x}", r.below(256));
                            k.link_new(&info(nd.ifindex, &name, Some(&m)));
                        }
                    }
                }
                (7, _) => {
                    pf_mac = 1 - pf_mac;
                    k.port_new(&pf(D0, 2, 0, 0, PF_MACS[pf_mac], 11, "pf0hpf"));
                }
                (8, _) => {
                    let i = 500 + r.below(3) as u32;
                    if r.below(2) == 0 {
                        k.link_new(&info(i, &format!("other{step}"), None));
                    } else {
                        k.link_del(i);
                    }
                }
                (9, _) => k.overflow(if r.below(2) == 0 {
                    Channel::DevlinkMon
                } else {
                    Channel::RtnlMon
                }),
                _ => {}
            }
            // One or two host iterations.
            for _ in 0..1 + r.below(2) {
                iterations += 1;
                let reported = iteration_0008_random(&mut p, &mut lports, &PF_MACS);
                full += u64::from(reported);
                for (lsp, m, n, plugged) in &lports {
                    assert_eq!(
                        plugged.as_deref(),
                        truth(&k, PF_MACS[*m], *n).as_deref(),
                        "seed {seed} step {step} (event {what}): {lsp}"
                    );
                }
            }
        }
    }
    println!(
        "{histories} histories: {events} kernel events, {iterations} iterations, \
         {full} with a reported change"
    );
}

// ---- the same, with PF MAC collisions, an uplink PF, name moves, contests ----

/// The MACs PFs take in [`random_histories_with_collisions_uplinks_and_contests`]:
/// PF 0 of controller 0 starts with the first, PF 0 of controller 1 with
/// the second, device 1's uplink (no PCI_PF port: its netdev MAC is the PF
/// MAC) with the third; each may take any of them.
const MACS3: [&str; 3] = [PF_MAC, "00:53:00:00:10:01", "00:53:00:00:10:02"];

/// (device, controller, first devlink port index of its VFs).
const GROUPS: [(&str, u32, u32); 3] = [(D0, 0, 10), (D0, 1, 30), (common::D1, 0, 10)];

fn group_vf(g: usize, n: u16, ifindex: u32, name: &str) -> DevlinkPort {
    let (dev, controller, base) = GROUPS[g];
    vf(dev, base + u32::from(n), controller, 0, n, ifindex, name)
}

/// What the fake kernel's true state plugs for (PF MAC, VF `n` or the PF
/// itself), by the documented rules (src/table/mod.rs): the PFs with that
/// MAC are the PCI_PF ports reporting it and, on a device without any
/// PCI_PF port, the uplinks whose netdev has it; exactly one, or nothing.
fn truth3(k: &FakeKernel, mac: &str, n: Option<u16>) -> Option<String> {
    resolve3(k, mac, n).1.map(|(_, name)| name)
}

/// [`truth3`] with the number of PFs carrying `mac` and the device of the
/// netdev it plugs.
fn resolve3(
    k: &FakeKernel,
    mac: &str,
    n: Option<u16>,
) -> (usize, Option<(ovn_vif_rs::port::DevHandle, String)>) {
    use ovn_vif_rs::port::Flavour;
    let s = k.state();
    let mac = common::mac(mac);
    let mut pfs = Vec::new();
    for p in s.ports.values() {
        let fn_mac = p.function.as_ref().and_then(|f| f.hw_addr);
        if p.flavour == Flavour::PciPf && fn_mac == Some(mac) {
            pfs.push((p.id.handle.clone(), p.controller, Some(p)));
        }
    }
    for p in s.ports.values() {
        let has_pcipf = s
            .ports
            .values()
            .any(|q| q.flavour == Flavour::PciPf && q.id.handle == p.id.handle);
        let link_mac = p
            .netdev
            .as_ref()
            .and_then(|nd| s.links.get(&nd.ifindex))
            .and_then(|l| l.mac);
        if p.flavour == Flavour::Physical && !has_pcipf && link_mac == Some(mac) {
            pfs.push((p.id.handle.clone(), 0, None));
        }
    }
    let [(handle, controller, pf_port)] = pfs.as_slice() else {
        return (pfs.len(), None);
    };
    let port = match n {
        None => *pf_port,
        Some(n) => s.ports.values().find(|p| {
            p.flavour == Flavour::PciVf
                && p.id.handle == *handle
                && p.controller == *controller
                && p.pfnum == Some(0)
                && p.vfnum == Some(n)
        }),
    };
    let name = port
        .and_then(|p| p.netdev.as_ref())
        .and_then(|nd| s.links.get(&nd.ifindex))
        .map(|l| (handle.clone(), l.name.clone()));
    (1, name)
}

/// Like [`random_histories_on_a_0008_host_never_leave_a_stale_plug`], over
/// what that one leaves out: two controllers' PFs and an uplink-derived PF
/// (a device without PCI_PF ports) whose MACs collide and move between
/// them, the device gaining and losing a PCI_PF port (the uplink MAC stops
/// and starts counting), netdev names swapped between VFs or moved from a
/// deleted VF to a new one, VFs on every PF, and two lports asking for the
/// same function (a contest, which `run` must report so the holder keeps
/// it).  After every iteration: every plugged lport is plugged with what
/// the true state resolves its request to, and no netdev is plugged for
/// two lports; after two more idle iterations, every request the true
/// state resolves is plugged (for exactly one of the lports asking).
#[test]
fn random_histories_with_collisions_uplinks_and_contests() {
    use common::{handle, physical, D1};
    let histories = std::env::var("OVN_VIF_RS_RUN_HISTORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200u64);
    let (mut iterations, mut full, mut events) = (0u64, 0u64, 0u64);
    // Iterations with a MAC on two PFs, with a plug through the uplink PF,
    // with a contest (both lports of one function asking, one declined).
    let (mut ambiguous, mut via_uplink, mut contested) = (0u64, 0u64, 0u64);
    for seed in 0..histories {
        let mut r = Rng(seed ^ 0x5eed_0008);
        let k = FakeKernel::new();
        {
            let mut s = k.state();
            for p in [
                pf(D0, 2, 0, 0, MACS3[0], 11, "pf0hpf"),
                pf(D0, 3, 1, 0, MACS3[1], 21, "c1pf0hpf"),
                physical(D1, 0, 0, 31, "p1"),
            ] {
                s.ports.insert(p.id.clone(), p);
            }
            s.links.insert(11, info(11, "pf0hpf", None));
            s.links.insert(21, info(21, "c1pf0hpf", None));
            s.links.insert(31, info(31, "p1", Some(MACS3[2])));
        }
        let src = k
            .source(kernel_opts(&format!("random3-{seed}")))
            .expect("fake kernel source");
        let mut p = Provider::new(Box::new(src), clock).expect("load");
        // (name, MAC index, VF number or the PF, plugged name)
        let mut lports: Vec<RandomLport> = Vec::new();
        for m in 0..MACS3.len() {
            for n in 0..VFS {
                lports.push((format!("lsp-m{m}-vf{n}"), m, Some(n), None));
            }
            lports.push((format!("lsp-m{m}-pf"), m, None, None));
        }
        lports.push(("lsp-m0-vf1-dup".into(), 0, Some(1), None));
        lports.push(("lsp-m2-vf0-dup".into(), 2, Some(0), None));
        let mut next_ifindex = 1000u32;
        let find = |k: &FakeKernel, g: usize, n: u16| {
            let id = group_vf(g, n, 0, "").id;
            k.state().ports.get(&id).cloned()
        };
        let name_of = |k: &FakeKernel, p: &DevlinkPort| {
            let i = p.netdev.as_ref()?.ifindex;
            k.state().links.get(&i).map(|l| (i, l.name.clone()))
        };
        for step in 0..40 {
            let what = r.below(16);
            events += 1;
            let g = r.below(GROUPS.len() as u64) as usize;
            let n = r.below(u64::from(VFS)) as u16;
            let existing = find(&k, g, n);
            match (what, existing) {
                (0..=2, None) => {
                    next_ifindex += 1;
                    let name = format!("eth{next_ifindex}");
                    k.link_new(&info(next_ifindex, &name, None));
                    k.add_port_61(&group_vf(g, n, next_ifindex, &name));
                }
                (3, Some(p)) => {
                    let i = p.netdev.as_ref().map(|nd| nd.ifindex);
                    k.remove_port_61(&p.id);
                    if let Some(i) = i {
                        k.link_del(i);
                    }
                }
                (4, Some(p)) => {
                    if let Some(nd) = &p.netdev {
                        k.link_new(&info(nd.ifindex, &format!("vm{step}r{n}"), None));
                    }
                }
                (5, Some(p)) => {
                    // The same name on a new netdev.
                    if let Some((i, name)) = name_of(&k, &p) {
                        k.remove_port_61(&p.id);
                        k.link_del(i);
                        next_ifindex += 1;
                        k.link_new(&info(next_ifindex, &name, None));
                        k.add_port_61(&group_vf(g, n, next_ifindex, &name));
                    }
                }
                (6, Some(p)) => {
                    let mut q = p.clone();
                    q.function = Some(PortFunction {
                        hw_addr: Some(common::mac("00:53:00:00:77:00")),
                        state: Some(r.below(2) as u8),
                        opstate: Some(r.below(2) as u8),
                    });
                    k.port_new(&q);
                }
                (7, _) => {
                    let m = MACS3[r.below(3) as usize];
                    k.port_new(&pf(D0, 2, 0, 0, m, 11, "pf0hpf"));
                }
                (8, _) => {
                    // Controller 1's PF: another MAC (maybe PF 0's), or
                    // gone, or back.
                    let c1 = pf(D0, 3, 1, 0, MACS3[r.below(3) as usize], 21, "c1pf0hpf");
                    let present = k.state().ports.contains_key(&c1.id);
                    match (present, r.below(3)) {
                        (true, 0) => {
                            k.remove_port_61(&c1.id);
                            k.link_del(21);
                        }
                        (false, _) => {
                            k.link_new(&info(21, "c1pf0hpf", None));
                            k.add_port_61(&c1);
                        }
                        (true, _) => k.port_new(&c1),
                    }
                }
                (9, _) => {
                    // Device 1's uplink MAC: any of the three, or none.
                    let m = match r.below(4) {
                        3 => None,
                        i => Some(MACS3[i as usize]),
                    };
                    let name = k.state().links.get(&31).map(|l| l.name.clone());
                    k.link_new(&info(31, &name.unwrap_or("p1".into()), m));
                }
                (10, _) => {
                    // Device 1 gains or loses a PCI_PF port (no MAC): its
                    // uplink stops or starts being a PF MAC.
                    let d1pf = pf(D1, 5, 0, 0, "", 41, "p1pf0hpf");
                    if k.state().ports.contains_key(&d1pf.id) {
                        k.remove_port_61(&d1pf.id);
                        k.link_del(41);
                    } else {
                        k.link_new(&info(41, "p1pf0hpf", None));
                        k.add_port_61(&d1pf);
                    }
                }
                (11, Some(p)) => {
                    // Two VFs swap their netdev names.
                    let other = find(&k, r.below(3) as usize, r.below(u64::from(VFS)) as u16);
                    let (a, b) = (name_of(&k, &p), other.and_then(|o| name_of(&k, &o)));
                    if let (Some((ia, na)), Some((ib, nb))) = (a, b) {
                        k.link_new(&info(ia, &format!("tmp{step}"), None));
                        k.link_new(&info(ib, &na, None));
                        k.link_new(&info(ia, &nb, None));
                    }
                }
                (12, Some(p)) => {
                    // The name moves: this VF goes, another comes with its
                    // name on a new netdev.
                    let (g2, n2) = (r.below(3) as usize, r.below(u64::from(VFS)) as u16);
                    if let (Some((i, name)), None) = (name_of(&k, &p), find(&k, g2, n2)) {
                        k.remove_port_61(&p.id);
                        k.link_del(i);
                        next_ifindex += 1;
                        k.link_new(&info(next_ifindex, &name, None));
                        k.add_port_61(&group_vf(g2, n2, next_ifindex, &name));
                    }
                }
                (13, _) => k.overflow(if r.below(2) == 0 {
                    Channel::DevlinkMon
                } else {
                    Channel::RtnlMon
                }),
                _ => {}
            }
            // One or two host iterations; then two idle ones for liveness.
            let busy = 1 + r.below(2);
            for it in 0..busy + 2 {
                iterations += 1;
                let reported = iteration_0008_random(&mut p, &mut lports, &MACS3);
                full += u64::from(reported);
                let ctx = format!("seed {seed} step {step} (event {what}) iteration {it}");
                let mut names = std::collections::BTreeMap::new();
                for (lsp, m, n, plugged) in &lports {
                    let Some(name) = plugged else {
                        continue;
                    };
                    assert_eq!(
                        Some(name),
                        truth3(&k, MACS3[*m], *n).as_ref(),
                        "{ctx}: {lsp} holds a stale plug"
                    );
                    if let Some(other) = names.insert(name.clone(), lsp.clone()) {
                        panic!("{ctx}: {name} plugged for {other} and {lsp}");
                    }
                }
                ambiguous += u64::from(MACS3.iter().any(|m| resolve3(&k, m, None).0 > 1));
                via_uplink += u64::from(lports.iter().any(|(_, m, n, plugged)| {
                    plugged.is_some()
                        && resolve3(&k, MACS3[*m], *n)
                            .1
                            .is_some_and(|(h, _)| h == handle(D1))
                }));
                contested += u64::from(lports.iter().filter(|l| l.0.ends_with("-dup")).any(
                    |(dup, m, n, plugged)| {
                        let holder = &dup[..dup.len() - 4];
                        let other = lports.iter().find(|l| l.0 == holder);
                        truth3(&k, MACS3[*m], *n).is_some()
                            && other.is_some_and(|o| o.3.is_some() != plugged.is_some())
                    },
                ));
                if it + 1 == busy + 2 {
                    for (lsp, m, n, _) in &lports {
                        if let Some(want) = truth3(&k, MACS3[*m], *n) {
                            assert!(names.contains_key(&want), "{ctx}: {lsp}: {want} unplugged");
                        }
                    }
                }
            }
        }
    }
    println!(
        "{histories} histories: {events} kernel events, {iterations} iterations, \
         {full} with a reported change; {ambiguous} with a PF MAC on two PFs, \
         {via_uplink} with a plug through the uplink PF, {contested} with a contest"
    );
    // The histories reach what they are for (a handful may not).
    if histories >= 50 {
        assert!(ambiguous > 0 && via_uplink > 0 && contested > 0);
    }
}

// ---- a holder answered from its grant during an outage ----

static GRANT_CLOCK_MS: AtomicU64 = AtomicU64::new(0);

fn grant_clock() -> u64 {
    GRANT_CLOCK_MS.load(Ordering::Relaxed)
}

/// Whether VF 3's netdev `pf0vf3` (ifindex 12) is gone from the kernel.
static VF3_NETDEV_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `if_nametoindex` as the fake kernel's netdevs would answer it.
fn vf3_ifindex(name: &str) -> Option<u32> {
    (name == "pf0vf3" && !VF3_NETDEV_GONE.load(Ordering::Relaxed)).then_some(12)
}

/// During an outage a plugged holder is answered from its grant (the name
/// it was given, if that still is the same netdev: src/provider.rs, "When
/// the source is unavailable"), which the provider checks against the
/// kernel only when asked; the table, not readable, changes nothing.  On a
/// host with 0008 the holder is asked at the outage's start (reported),
/// then only when `run` reports again: each failed retry (one per back-off
/// step) must, or a netdev deleted during the outage stays plugged until
/// the source comes back, however long that takes.
#[test]
fn a_holder_answered_from_its_grant_is_asked_again_at_each_retry_under_0008() {
    let k = FakeKernel::new();
    let pf0 = pf(D0, 2, 0, 0, PF_MAC, 11, "pf0hpf");
    k.state().ports.insert(pf0.id.clone(), pf0);
    k.state().links.insert(11, info(11, "pf0hpf", None));
    let src = k.source(kernel_opts("outage-grant")).expect("source");
    let mut p = Provider::new(Box::new(src), grant_clock).expect("load");
    p.set_ifindex_of(vf3_ifindex);
    k.link_new(&info(12, "pf0vf3", None));
    k.port_new(&vf_port(3, 12, "pf0vf3"));
    let mut lports = [("lsp1", None, true)];
    iteration_0008(&mut p, &mut lports);
    assert_eq!(lports[0].1.as_deref(), Some("pf0vf3"));

    // Lost events, and every resync's dump fails: an outage.
    k.overflow(Channel::DevlinkMon);
    k.state().per_datagram = 1;
    k.state().fail_port_dump = Some(libc::EIO);
    let asked = iteration_0008(&mut p, &mut lports);
    assert!(p.outage().is_some());
    assert_eq!(
        asked,
        [("lsp1", Some("pf0vf3".to_owned()))],
        "reported: the holder is asked and keeps its netdev"
    );
    assert!(
        iteration_0008(&mut p, &mut lports).is_empty(),
        "no retry due: nothing to ask"
    );

    // VF 3's netdev is deleted while the source cannot be read; the next
    // retry fails too.
    VF3_NETDEV_GONE.store(true, Ordering::Relaxed);
    k.state().ports.remove(&vf_port(3, 12, "pf0vf3").id);
    k.link_del_lost(12);
    k.state().fail_port_dump = Some(libc::EIO);
    GRANT_CLOCK_MS.fetch_add(1_000, Ordering::Relaxed);
    let asked = iteration_0008(&mut p, &mut lports);
    assert!(p.outage().is_some(), "the retry failed");
    assert_eq!(
        asked,
        [("lsp1", None)],
        "the failed retry is reported: the holder is asked, declined, unplugged"
    );
    // The source comes back: VF 3 is gone.
    GRANT_CLOCK_MS.fetch_add(2_000, Ordering::Relaxed);
    assert_eq!(iteration_0008(&mut p, &mut lports), [("lsp1", None)]);
    assert!(p.outage().is_none());
}

// ---- a holder answered from its grant while the table is behind ----

static BEHIND_CLOCK_MS: AtomicU64 = AtomicU64::new(0);

fn behind_clock() -> u64 {
    BEHIND_CLOCK_MS.load(Ordering::Relaxed)
}

/// The ifindex the kernel's netdev `pf0vf3` has now (0: none).
static PF0VF3_IFINDEX: AtomicU64 = AtomicU64::new(12);

fn pf0vf3_ifindex(name: &str) -> Option<u32> {
    let i = PF0VF3_IFINDEX.load(Ordering::Relaxed) as u32;
    (name == "pf0vf3" && i != 0).then_some(i)
}

/// While the table is behind (a storm of events, read a bounded number
/// per drain), a holder is answered from its grant.  When the table has
/// already lost its function (VF 3 deleted) but the netdev still has its
/// name, that answer rests on the kernel's name alone, which no table
/// answer tracks: the netdev deleted and its name given to another
/// function's new netdev (VF 5) change no answer the table counts (an
/// appearance), yet the holder's answer is now a decline, and plugging
/// the name would plug VF 5.  Under 0008 the holder must be asked again
/// once the table applied such changes, not only when it catches up.
#[test]
fn a_holder_answered_from_its_grant_while_behind_is_asked_again_under_0008() {
    let k = FakeKernel::new();
    let pf0 = pf(D0, 2, 0, 0, PF_MAC, 11, "pf0hpf");
    k.state().ports.insert(pf0.id.clone(), pf0);
    k.state().links.insert(11, info(11, "pf0hpf", None));
    let opts = KernelOptions {
        max_datagrams_per_drain: 2,
        ..kernel_opts("behind-grant")
    };
    let src = k.source(opts).expect("source");
    let mut p = Provider::new(Box::new(src), behind_clock).expect("load");
    p.set_ifindex_of(pf0vf3_ifindex);
    k.link_new(&info(12, "pf0vf3", None));
    k.port_new(&vf_port(3, 12, "pf0vf3"));
    let mut lports = [("lsp1", None, true)];
    iteration_0008(&mut p, &mut lports);
    assert_eq!(lports[0].1.as_deref(), Some("pf0vf3"));
    assert!(!p.table().behind());

    // A storm: links nobody shows, more than a drain reads.
    let mut filler = 0;
    let mut storm = |k: &FakeKernel, n: usize| {
        for _ in 0..n {
            filler += 1;
            k.link_new(&info(500 + filler, &format!("other{filler}"), None));
        }
    };
    // VF 3's port goes first; its netdev lives on for a moment.
    storm(&k, 10);
    k.remove_port_61(&vf_port(3, 12, "pf0vf3").id);
    let asked = iteration_0008(&mut p, &mut lports);
    assert!(p.table().behind());
    assert_eq!(
        asked,
        [("lsp1", Some("pf0vf3".to_owned()))],
        "behind, and VF 3 gone from the table: the holder keeps its netdev"
    );
    // Then the netdev goes and VF 5 comes with a netdev named pf0vf3.
    k.link_del(12);
    k.link_new(&info(14, "pf0vf3", None));
    k.add_port_61(&vf_port(5, 14, "pf0vf3"));
    PF0VF3_IFINDEX.store(14, Ordering::Relaxed);
    for i in 0..8 {
        storm(&k, 3);
        iteration_0008(&mut p, &mut lports);
        assert!(p.table().behind(), "iteration {i}: the storm goes on");
    }
    assert!(
        p.table().entry_by_id(&vf_port(5, 14, "").id).is_some(),
        "VF 5 applied"
    );
    assert_eq!(
        lports[0].1, None,
        "pf0vf3 is VF 5's netdev now: lsp1 (VF 3) must not hold it"
    );
}
