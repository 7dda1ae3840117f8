//! `Provider::run` reports exactly the changes that can change a decision
//! since it last returned (src/table.rs, "Decisions"), including those a
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
use ovn_vif_rs::kernel::testing::{FakeKernel, Role};
use ovn_vif_rs::kernel::KernelOptions;
use ovn_vif_rs::port::{DevlinkPort, PortFunction};
use ovn_vif_rs::rtnl::parse::LinkInfo;
use ovn_vif_rs::sources::Kernel;

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
    let next = Arc::new(Mutex::new(None));
    let source = Queued {
        initial: PF.to_string(),
        next: Arc::clone(&next),
    };
    (Provider::new(Box::new(source), || 0).expect("load"), next)
}

fn vf3_request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("vif-plug-type", "representor"),
        ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
        ("vif-plug:representor:vf-num", "3"),
    ]
}

#[test]
fn run_reports_a_change_drained_by_prepare() {
    let (mut p, next) = provider();
    assert!(!p.run(), "nothing pending, nothing to report");

    // VF 3 appears; the miss path of the next prepare drains it.
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    let name = p.prepare_create("lsp1", vf3_request(), None, |n| n.to_string());
    assert_eq!(name.as_deref(), Some("pf0vf3"));

    // The table changed since the last run: run must say so once, although
    // its own drain finds nothing new.
    assert!(
        p.run(),
        "a change drained by prepare must be reported by run"
    );
    assert!(!p.run(), "reported once");
}

#[test]
fn run_reports_its_own_drain_once() {
    let (mut p, next) = provider();
    assert!(!p.run());
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    assert!(p.run());
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
    assert!(p.run());
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
    let p = Provider::new(Box::new(Kernel(src)), clock).expect("load");
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
    assert!(p.run(), "a new VF with its netdev can plug a waiting lport");
    assert!(!p.run(), "reported once");

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
    k.overflow(Role::DevlinkMon);
    assert!(!p.run(), "a resync that changes no answer");
    // Lost events hiding a rename: the resync finds it.
    k.overflow(Role::RtnlMon);
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
    assert!(p.run(), "the prepare drained a new VF");
    assert!(!p.run());
}

/// The source becoming unavailable (a resync that fails) and available
/// again are changes: names are withdrawn, then handed out again.
#[test]
fn run_reports_an_outage_and_its_end() {
    let (mut p, k) = kernel_provider("outage");
    k.link_new(&info(12, "pf0vf3", None));
    k.port_new(&vf_port(3, 12, "pf0vf3"));
    assert!(p.run());
    // Lost events, and the resync's dump fails: an outage.
    k.overflow(Role::DevlinkMon);
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
