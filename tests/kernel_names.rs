//! Which names the kernel source hands out (issue 12, items 2, 5 and 13),
//! against the fake kernel:
//!
//! - a name is handed out only if it is the link's current name as of
//!   everything the kernel has queued, and udev has finished with it: a
//!   burst of queued notifications between a netdev's first name and
//!   udev's rename never lets the first name out, with or without udev;
//! - a drain that stops at its bound leaves the table behind, and a behind
//!   table hands out no name (hit index and lookup alike);
//! - giving up on udev (the settle timeout) and running without udev are
//!   logged, naming the link / once;
//! - a Linux bridge's `AF_BRIDGE` link messages (a port leaving a bridge)
//!   are not deletions (real captured bytes);
//! - a removed function's old name, reused by another function's new
//!   netdev, goes to the new function's request only.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ovn_vif_rs::kernel::{KernelSource, DISCARD_BOUND, MAX_DATAGRAMS_PER_DRAIN};
use ovn_vif_rs::lookup::{self, Refusal};
use ovn_vif_rs::options::{Function, Request};
use ovn_vif_rs::port::Mac;
use ovn_vif_rs::provider::Provider;
use ovn_vif_rs::report;
use ovn_vif_rs::rtnl::parse::{emit_dellink_family, emit_newlink, LinkInfo, AF_BRIDGE};
use ovn_vif_rs::rtnl::settled::SETTLE_TIMEOUT;
use ovn_vif_rs::table::Table;
use ovn_vif_rs::testing::port_id as id;
use ovn_vif_rs::testing::{Channel, FakeKernel, FakeRoots as Dirs, FakeTransport};

#[path = "common/bluefield.rs"]
mod bluefield;
use bluefield::{host_pf, host_vf as vf_port, uplink, MAC_PF};

// ---- a log capture: the give-ups and the no-udev note are log lines ----

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let line = format!("{}|{}", r.level(), r.args());
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).expect("the only logger of this test binary");
        log::set_max_level(log::LevelFilter::Info);
        c
    })
}

/// Captured lines containing every one of `words` (tests run in parallel:
/// each looks for words only it logs, e.g. its own netdev names or paths).
fn logged(words: &[&str]) -> Vec<String> {
    capture()
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|l| words.iter().all(|w| l.contains(w)))
        .cloned()
        .collect()
}

// ---- a BlueField-like layout: uplink p0, host PF c1pf0, VFs ----

/// Roots named `names-<tag>`; `udev`: udev runs (its control socket is
/// listened on).  Without, there is no `/run/udev` at all (a container).
fn dirs(tag: &str, udev: bool) -> Dirs {
    let d = Dirs::new(&format!("names-{tag}"));
    if udev {
        d.udev_running();
    }
    d
}

fn info(ifindex: u32, name: &str) -> LinkInfo {
    LinkInfo {
        ifindex,
        name: name.into(),
        mac: Some(Mac([0, 0x53, 0, 1, (ifindex >> 8) as u8, ifindex as u8])),
    }
}

/// Uplink p0 (ifindex 4) and host PF c1pf0 (ifindex 5, MAC `MAC_PF`),
/// both already named by udev when `dirs` has udev.
fn populate(k: &FakeKernel, dirs: &Dirs) {
    populate_at(k, dirs, 4, 5);
}

fn populate_at(k: &FakeKernel, dirs: &Dirs, uplink_ifindex: u32, pf: u32) {
    let physical = uplink(uplink_ifindex);
    let pcipf = host_pf(pf);
    let mut s = k.state();
    s.links.insert(uplink_ifindex, info(uplink_ifindex, "p0"));
    s.links.insert(pf, info(pf, "c1pf0"));
    s.ports.insert(physical.id.clone(), physical);
    s.ports.insert(pcipf.id.clone(), pcipf);
    drop(s);
    if dirs.udev_runs() {
        dirs.udev_done(uplink_ifindex);
        dirs.udev_done(pf);
    }
}

fn vf(n: u16) -> Request {
    Request {
        pf_mac: MAC_PF,
        function: Function::Vf(n),
    }
}

/// What the provider would plug for `req`, through the full lookup and the
/// hit index; the two must agree.
fn plugs(t: &Table, req: &Request) -> Result<String, Refusal> {
    let full = lookup::lookup(t, req).map(|f| f.name.to_owned());
    let hit = lookup::hit(t, req).map(|(_, n)| n.to_text());
    assert_eq!(hit.as_ref(), full.as_ref().ok(), "hit index vs lookup");
    full
}

/// Queues `n` link notifications of an unrelated netdev (a flapping
/// uplink of another device, say): the kind of burst that sits between a
/// netdev's first name and udev's rename.
fn burst(k: &FakeKernel, n: usize) {
    let b = emit_newlink(&info(900, "other0"), 0, 0);
    for _ in 0..n {
        k.push(Channel::RtnlMon, Ok(b.clone()));
    }
}

/// A new VF 2 whose netdev the kernel registers as `eth5` (ifindex 102),
/// `between` notifications, then udev's rename to `c1pf0vf2`.
fn new_vf_renamed_after(k: &FakeKernel, between: usize) {
    k.add_port_61(&vf_port(2, 102, "eth5"));
    k.link_new(&info(102, "eth5"));
    burst(k, between);
    k.link_new(&info(102, "c1pf0vf2"));
}

fn source(k: &FakeKernel, d: &Dirs) -> KernelSource<FakeTransport> {
    capture();
    k.source(d.opts()).unwrap()
}

/// A fake kernel holding [`populate`]'s layout (named by udev if `d` has
/// udev).
fn kernel(d: &Dirs) -> FakeKernel {
    let k = FakeKernel::new();
    populate(&k, d);
    k
}

/// VF 0 with netdev `name` (ifindex 100), there before the source loads.
fn vf0_present(k: &FakeKernel, name: &str) {
    k.state().links.insert(100, info(100, name));
    k.state().ports.insert(id(100), vf_port(0, 100, name));
}

/// The common start: roots [`dirs`]`(tag, udev)`, [`kernel`], a source
/// opened on it and the table it loaded.  Keep the roots alive (bind them
/// to `_d`, not `_`): dropping them removes the directories.
fn loaded(tag: &str, udev: bool) -> (Dirs, FakeKernel, KernelSource<FakeTransport>, Table) {
    let d = dirs(tag, udev);
    let k = kernel(&d);
    let mut src = source(&k, &d);
    let t = src.load().unwrap();
    (d, k, src, t)
}

// ---- item 2: a pre-rename name is never handed out ----

/// udev renamed the netdev and wrote its database before we read the
/// first name's RTM_NEWLINK; more than 1,024 datagrams (the old per-drain
/// bound) sit between that and the rename.  The first name must not come
/// out of the drain as settled: the drain reads to EAGAIN.
#[test]
fn a_burst_between_first_name_and_rename_does_not_hand_out_the_first_name() {
    let (d, k, mut src, mut t) = loaded("burst-udev", true);
    new_vf_renamed_after(&k, 1100);
    d.udev_done(102);
    src.drain(&mut t).unwrap();
    assert_eq!(plugs(&t, &vf(2)), Ok("c1pf0vf2".to_owned()));
    assert!(!t.behind());
    t.check().unwrap();
}

/// The same without udev (a container without /run/udev): names are taken
/// as the kernel gives them, but only once nothing is queued.
#[test]
fn without_udev_a_burst_before_the_rename_does_not_hand_out_the_first_name() {
    let (_d, k, mut src, mut t) = loaded("burst-noudev", false);
    new_vf_renamed_after(&k, 1100);
    src.drain(&mut t).unwrap();
    assert_eq!(plugs(&t, &vf(2)), Ok("c1pf0vf2".to_owned()));
}

/// A drain that stops at its bound leaves the table behind: no name at
/// all, not even an already plugged one, neither from the hit index nor
/// from the lookup, until a drain reaches EAGAIN.  Checked with and
/// without udev.
#[test]
fn a_drain_stopped_at_the_bound_hands_out_no_name_until_caught_up() {
    for with_udev in [true, false] {
        let d = dirs(&format!("bound-{with_udev}"), with_udev);
        let k = kernel(&d);
        vf0_present(&k, "c1pf0vf0");
        if with_udev {
            d.udev_done(100);
        }
        let mut src = source(&k, &d);
        let mut t = src.load().unwrap();
        assert_eq!(plugs(&t, &vf(0)), Ok("c1pf0vf0".to_owned()));

        new_vf_renamed_after(&k, MAX_DATAGRAMS_PER_DRAIN + 10);
        if with_udev {
            d.udev_done(102);
        }
        src.drain(&mut t).unwrap();
        assert!(t.behind(), "udev={with_udev}: stopped at the bound");
        assert_eq!(plugs(&t, &vf(2)), Err(Refusal::EventsPending));
        assert_eq!(
            plugs(&t, &vf(0)),
            Err(Refusal::EventsPending),
            "udev={with_udev}: a plugged name could be stale too"
        );
        assert_eq!(src.stats().behind_drains, 1);

        src.drain(&mut t).unwrap();
        assert!(!t.behind(), "udev={with_udev}: drained to EAGAIN");
        assert_eq!(plugs(&t, &vf(2)), Ok("c1pf0vf2".to_owned()));
        assert_eq!(plugs(&t, &vf(0)), Ok("c1pf0vf0".to_owned()));
        t.check().unwrap();
    }
}

/// The provider's miss path drains again: a behind table catches up
/// within the calls that need it (and a refusal says why meanwhile).
#[test]
fn the_provider_catches_up_on_a_miss() {
    static NOW_MS: AtomicU64 = AtomicU64::new(0);
    let d = dirs("bound-provider", true);
    let k = kernel(&d);
    let src = source(&k, &d);
    let mut p = Provider::new(Box::new(src), || NOW_MS.load(Ordering::Relaxed)).unwrap();
    p.run();
    new_vf_renamed_after(&k, MAX_DATAGRAMS_PER_DRAIN + 10);
    d.udev_done(102);
    p.run();
    assert!(p.table().behind());
    let explained = report::decision(p.table(), &vf(2)).unwrap_err();
    assert!(explained.contains("events-pending"), "{explained}");
    let got = p.prepare_create("g2", Vec::<(&str, &str)>::new(), Some(vf(2)), str::to_owned);
    assert_eq!(got.as_deref(), Some("c1pf0vf2"));
    assert!(!p.table().behind());
}

/// Rule 3 (udev runs but never finishes with the netdev): after
/// SETTLE_TIMEOUT the name is handed out, and the give-up is logged naming
/// the link — on the recheck path and in a full dump (resync) alike.  The
/// clock is stepped, nothing sleeps.
#[test]
fn the_settle_timeout_gives_up_with_a_log_line_naming_the_link() {
    let d = dirs("timeout", true);
    let k = kernel(&d);
    let mut src = source(&k, &d);
    let t0 = Instant::now();
    let now = Arc::new(Mutex::new(t0));
    let clock = now.clone();
    src.set_clock(move || *clock.lock().unwrap());
    let set = |dt: Duration| *now.lock().unwrap() = t0 + dt;
    let mut t = src.load().unwrap();

    k.add_port_61(&vf_port(2, 102, "tmoa5"));
    k.link_new(&info(102, "tmoa5"));
    src.drain(&mut t).unwrap();
    assert!(matches!(plugs(&t, &vf(2)), Err(Refusal::NotSettled { .. })));
    set(SETTLE_TIMEOUT - Duration::from_millis(1));
    src.recheck_unsettled(&mut t);
    assert!(matches!(plugs(&t, &vf(2)), Err(Refusal::NotSettled { .. })));
    assert!(logged(&["tmoa5"]).is_empty());
    set(SETTLE_TIMEOUT);
    // A name becoming plug-ready is an appearance: no answer given before
    // changed, so nothing to report (src/table/mod.rs, "Decisions").
    assert!(!src.recheck_unsettled(&mut t));
    assert_eq!(plugs(&t, &vf(2)), Ok("tmoa5".to_owned()));
    let lines = logged(&["WARN", "tmoa5", "ifindex 102", "giving up on udev"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(src.stats().settle_timeouts, 1);

    // A link still waiting when a resync rebuilds the table: the dump's
    // give-up is logged too (it was silent).
    k.add_port_61(&vf_port(3, 103, "tmob6"));
    k.link_new(&info(103, "tmob6"));
    set(SETTLE_TIMEOUT + Duration::from_secs(1));
    src.drain(&mut t).unwrap();
    assert!(matches!(plugs(&t, &vf(3)), Err(Refusal::NotSettled { .. })));
    set(2 * SETTLE_TIMEOUT + Duration::from_secs(1));
    k.overflow(Channel::RtnlMon);
    src.drain(&mut t).unwrap();
    assert_eq!(src.stats().resyncs, 1);
    assert_eq!(plugs(&t, &vf(3)), Ok("tmob6".to_owned()));
    let lines = logged(&["WARN", "tmob6", "ifindex 103", "giving up on udev"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(src.stats().settle_timeouts, 2);
}

/// No udev at all (a container without /run/udev): names are taken as the
/// kernel gives them, and that is said once, not per event.
#[test]
fn without_udev_names_are_taken_as_given_and_that_is_logged_once() {
    let (d, k, mut src, mut t) = loaded("noudev-log", false);
    for v in 0..3u16 {
        let ifindex = 110 + u32::from(v);
        let name = format!("eth{ifindex}");
        k.add_port_61(&vf_port(v, ifindex, &name));
        k.link_new(&info(ifindex, &name));
        src.drain(&mut t).unwrap();
        assert_eq!(plugs(&t, &vf(v)), Ok(name));
    }
    let control = d.root.join("udev/control");
    let lines = logged(&[
        "udev is not running",
        &control.display().to_string(),
        "as the kernel gives them",
    ]);
    assert_eq!(lines.len(), 1, "{lines:?}");
}

// ---- item 5: a bridge port's AF_BRIDGE messages are not link state ----

fn capture_bytes(i: usize) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlink/capture-bridge-6.18")
        .join(format!("capture-bridge-{i:03}-rtnl-mon.bin"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Real bytes (Linux 6.18, see capture.py there): veth d0 (ifindex 3)
/// joins bridge br0 and leaves it — which sends an RTM_DELLINK with
/// ifi_family AF_BRIDGE for d0 (datagram 9) — and is deleted (datagram 12,
/// AF_UNSPEC).  Here d0 is VF 3's representor: it stays plugged until the
/// real deletion.
#[test]
fn a_port_leaving_a_bridge_is_not_deleted_captured() {
    let d = dirs("bridge-capture", false);
    let k = FakeKernel::new();
    // Clear of the captured ifindexes (d1 2, d0 3, br0 4).
    populate_at(&k, &d, 40, 50);
    let mut src = source(&k, &d);
    let mut t = src.load().unwrap();
    k.add_port_61(&vf_port(3, 3, "d0"));
    for i in 0..=11 {
        k.push(Channel::RtnlMon, Ok(capture_bytes(i)));
        src.drain(&mut t).unwrap();
        if i >= 1 {
            // d0 exists from datagram 1 on.
            assert_eq!(plugs(&t, &vf(3)), Ok("d0".to_owned()), "after datagram {i}");
        }
    }
    assert!(t.link(3).is_some(), "d0 left the bridge; it still exists");
    k.push(Channel::RtnlMon, Ok(capture_bytes(12)));
    src.drain(&mut t).unwrap();
    assert!(t.link(3).is_none(), "the AF_UNSPEC RTM_DELLINK deletes");
    assert!(plugs(&t, &vf(3)).is_err());
    assert_eq!(src.stats().parse_errors, 0);
    t.check().unwrap();
}

/// The same with udev and a renamed representor, and an AF_BRIDGE
/// RTM_NEWLINK that would otherwise overwrite the link's state: the name,
/// the settledness and the hit index stay.
#[test]
fn a_port_leaving_a_bridge_keeps_its_settled_name() {
    let (d, k, mut src, mut t) = loaded("bridge", true);
    k.add_port_61(&vf_port(4, 104, "eth7"));
    k.link_new(&info(104, "eth7"));
    k.link_new(&info(104, "c1pf0vf4"));
    d.udev_done(104);
    src.drain(&mut t).unwrap();
    src.recheck_unsettled(&mut t);
    assert_eq!(plugs(&t, &vf(4)), Ok("c1pf0vf4".to_owned()));
    // Without IFLA_ADDRESS: applied as link state it would change the link.
    let view = LinkInfo {
        mac: None,
        ..info(104, "c1pf0vf4")
    };
    let mut bridge_new = emit_newlink(&view, 0, 0);
    bridge_new[16] = AF_BRIDGE; // ifinfomsg.ifi_family, after the nlmsghdr
    k.push(Channel::RtnlMon, Ok(bridge_new));
    k.push(
        Channel::RtnlMon,
        Ok(emit_dellink_family(AF_BRIDGE, 104, "c1pf0vf4")),
    );
    let gen = t.generation();
    src.drain(&mut t).unwrap();
    assert_eq!(t.generation(), gen, "nothing changed");
    assert_eq!(plugs(&t, &vf(4)), Ok("c1pf0vf4".to_owned()));
    assert!(t.link(104).is_some_and(|l| l.settled));
}

// ---- item 13: a removed function's name goes to its new owner only ----

/// VF 0 is `eth5` and plugged for lport g0; VF 0 is removed; VF 6 comes
/// up and the kernel names its netdev `eth5` again.  g0 is declined
/// (function-not-present) on the hit path and the full path; g6 gets
/// `eth5`.  Checked on a provider over the fake kernel, as ovn-controller
/// drives it (run, then prepare).
#[test]
fn a_removed_functions_name_reused_by_another_function() {
    static NOW_MS: AtomicU64 = AtomicU64::new(0);
    let d = dirs("reuse", false);
    let k = kernel(&d);
    vf0_present(&k, "eth5");
    let src = source(&k, &d);
    let mut p = Provider::new(Box::new(src), || NOW_MS.load(Ordering::Relaxed)).unwrap();
    let none = Vec::<(&str, &str)>::new;
    p.run();
    let g0 = p.prepare_create("g0", none(), Some(vf(0)), str::to_owned);
    assert_eq!(g0.as_deref(), Some("eth5"));
    assert_eq!(
        p.prepare_hit("g0", &vf(0), |n| n.to_text()),
        Some("eth5".to_owned())
    );

    k.remove_port_61(&id(100));
    k.link_del(100);
    k.add_port_61(&vf_port(6, 106, "eth5"));
    k.link_new(&info(106, "eth5"));
    p.run();

    assert_eq!(p.prepare_hit("g0", &vf(0), |n| n.to_text()), None);
    assert_eq!(
        p.prepare_create("g0", none(), Some(vf(0)), str::to_owned),
        None
    );
    let why = report::decision(p.table(), &vf(0)).unwrap_err();
    assert!(why.contains("function-not-present"), "{why}");
    assert_eq!(
        p.prepare_create("g6", none(), Some(vf(6)), str::to_owned)
            .as_deref(),
        Some("eth5")
    );
    assert_eq!(
        p.prepare_hit("g6", &vf(6), |n| n.to_text()),
        Some("eth5".to_owned())
    );
    // Nothing in the table points at the old netdev any more.
    assert!(p.table().link(100).is_none());
    assert!(p.table().entry_by_ifindex(100).is_none());
    p.table().check().unwrap();
}

/// The same with the removal's devlink events and the new netdev's events
/// applied in separate drains (what a host sees when the two sockets are
/// read at different times): at no point is g0 given a name.
#[test]
fn a_removed_functions_name_is_never_seen_for_it_between_drains() {
    let d = dirs("reuse-steps", false);
    let k = kernel(&d);
    vf0_present(&k, "eth5");
    let mut src = source(&k, &d);
    let mut t = src.load().unwrap();
    assert_eq!(plugs(&t, &vf(0)), Ok("eth5".to_owned()));
    // The netdev goes first (unregister_netdev), the port after.
    k.link_del(100);
    src.drain(&mut t).unwrap();
    assert!(plugs(&t, &vf(0)).is_err(), "netdev gone: no name for VF 0");
    k.link_new(&info(106, "eth5"));
    src.drain(&mut t).unwrap();
    assert!(plugs(&t, &vf(0)).is_err(), "eth5 is another netdev now");
    k.remove_port_61(&id(100));
    k.add_port_61(&vf_port(6, 106, "eth5"));
    src.drain(&mut t).unwrap();
    assert!(matches!(plugs(&t, &vf(0)), Err(Refusal::NoFunction { .. })));
    assert_eq!(plugs(&t, &vf(6)), Ok("eth5".to_owned()));
    t.check().unwrap();
}

// ---- lost events: no name until a resync completed ----

/// Events were lost (ENOBUFS) and the resync's dump keeps failing: the
/// table missed a rename, so it hands out no name until a resync succeeds.
#[test]
fn after_lost_events_no_name_until_a_resync_completed() {
    let d = dirs("lost", false);
    let k = kernel(&d);
    vf0_present(&k, "c1pf0vf0");
    let mut src = source(&k, &d);
    let mut t = src.load().unwrap();
    assert_eq!(plugs(&t, &vf(0)), Ok("c1pf0vf0".to_owned()));
    // Renamed; the notification is lost in an overflow.
    k.state().links.insert(100, info(100, "lostvf0"));
    k.overflow(Channel::RtnlMon);
    k.state().interrupt_link_dumps = 100;
    assert!(src.drain(&mut t).is_err(), "the resync's dump fails");
    assert_eq!(plugs(&t, &vf(0)), Err(Refusal::EventsPending));
    k.state().interrupt_link_dumps = 0;
    src.drain(&mut t).unwrap();
    assert_eq!(plugs(&t, &vf(0)), Ok("lostvf0".to_owned()));
}

/// A resync discards what was queued before its dump; when more is queued
/// than it discards (DISCARD_BOUND), the rest — older than the dump — must
/// not be applied over it: here an old first name over udev's rename.
#[test]
fn a_resync_that_could_not_discard_everything_is_redone() {
    let (_d, k, mut src, mut t) = loaded("discard", false);
    k.add_port_61(&vf_port(2, 102, "eth5"));
    burst(&k, DISCARD_BOUND);
    k.link_new(&info(102, "eth5"));
    k.state().links.insert(102, info(102, "c1pf0vf2"));
    // The rename's notification is lost: ENOBUFS comes first.
    k.overflow_keeping_queued(Channel::RtnlMon);
    let _ = src.drain(&mut t);
    assert_ne!(plugs(&t, &vf(2)), Ok("eth5".to_owned()));
    // Until everything queued is read, however many drains that takes:
    // the old name never comes back.
    while k.state().queued(Channel::RtnlMon) > 0 {
        src.drain(&mut t).unwrap();
        assert_ne!(plugs(&t, &vf(2)), Ok("eth5".to_owned()));
    }
    src.drain(&mut t).unwrap();
    assert_eq!(plugs(&t, &vf(2)), Ok("c1pf0vf2".to_owned()));
    t.check().unwrap();
}
