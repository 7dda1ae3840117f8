//! The provider's wakeup and outage rules over the fake kernel
//! (`testing::FakeKernel`), with a fake clock:
//! - never hand the poll loop a descriptor that is readable and undrained
//!   (a declined `prepare` for bad options would spin ovn-controller);
//! - udev's database watch only while a link waits for udev;
//! - a failed resynchronisation closes the hit path, declines, and is
//!   retried on a back-off (a timer, not the descriptors);
//! - no devlink (or a failed first load) is not an `init` failure and not a
//!   warning: the provider starts empty and picks the kernel up later.

use std::cell::Cell;
use std::sync::Mutex;
use std::time::Duration;

use ovn_vif_rs::options::OPT_PREFIX;
use ovn_vif_rs::port::{DevlinkPort, Flavour, Mac, NetdevRef, PortFunction};
use ovn_vif_rs::provider::{Provider, Source, Wakeup};
use ovn_vif_rs::rtnl::parse::LinkInfo;
use ovn_vif_rs::sources::Reopening;
use ovn_vif_rs::testing::port_id as id;
use ovn_vif_rs::testing::{Channel, FakeKernel, FakeRoots as Dirs};

thread_local! {
    static NOW: Cell<u64> = const { Cell::new(1_000_000) };
}

fn now() -> u64 {
    NOW.with(Cell::get)
}

fn advance(ms: u64) {
    NOW.with(|c| c.set(c.get() + ms));
}

/// Log lines (level, text) of every test in this binary.
static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        let mut l = LINES.lock().unwrap_or_else(|e| e.into_inner());
        l.push((r.level(), r.args().to_string()));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

fn capture_logs() {
    if log::set_logger(&CAPTURE).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

fn lines_with(needle: &str) -> Vec<(log::Level, String)> {
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(_, t)| t.contains(needle))
        .cloned()
        .collect()
}

const PF_MAC: Mac = Mac([0x00, 0x53, 0x00, 0x00, 0x10, 0x00]);

fn link(ifindex: u32, name: &str) -> LinkInfo {
    LinkInfo {
        ifindex,
        name: name.into(),
        mac: Some(Mac([0, 0x53, 0, 1, 0, ifindex as u8])),
    }
}

fn port(index: u32, flavour: Flavour, vf: Option<u16>, ifindex: u32, name: &str) -> DevlinkPort {
    DevlinkPort {
        id: id(index),
        flavour,
        controller: 1,
        external: true,
        number: None,
        pfnum: Some(0),
        vfnum: vf,
        sfnum: None,
        netdev: Some(NetdevRef {
            ifindex,
            name: name.into(),
        }),
        function: (flavour == Flavour::PciPf).then_some(PortFunction {
            hw_addr: Some(PF_MAC),
            state: None,
            opstate: None,
        }),
    }
}

fn vf(v: u16) -> DevlinkPort {
    port(
        100 + u32::from(v),
        Flavour::PciVf,
        Some(v),
        100 + u32::from(v),
        &format!("c1pf0vf{v}"),
    )
}

/// Host PF c1pf0 and VFs 0..vfs.
fn populate(k: &FakeKernel, vfs: u16) {
    let mut s = k.state();
    let pf = port(1, Flavour::PciPf, None, 5, "c1pf0");
    s.links.insert(5, link(5, "c1pf0"));
    s.ports.insert(pf.id.clone(), pf);
    for v in 0..vfs {
        let p = vf(v);
        let i = 100 + u32::from(v);
        s.links.insert(i, link(i, &format!("c1pf0vf{v}")));
        s.ports.insert(p.id.clone(), p);
    }
}

/// Roots with an empty udev database, udev not running.
fn dirs(tag: &str) -> Dirs {
    Dirs::new(&format!("wk-{tag}")).with_udev_data()
}

fn provider(k: &FakeKernel, d: &Dirs) -> Provider {
    let src = k.source(d.opts()).unwrap();
    Provider::new(Box::new(src), now).unwrap()
}

fn opts(vf: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("{OPT_PREFIX}pf-mac"),
            "00:53:00:00:10:00".to_owned(),
        ),
        (format!("{OPT_PREFIX}vf-num"), vf.to_owned()),
    ]
}

/// `prepare` for CREATE as the vtable calls it (full path), and what the
/// vtable would then register with the poll loop after a decline.
fn prepare(p: &mut Provider, lport: &str, vf: &str) -> Result<String, Wakeup> {
    let before = p.stats().drains;
    match p.prepare_create(lport, opts(vf), None, str::to_owned) {
        Some(name) => Ok(name),
        None => Err(p.wakeup(before)),
    }
}

fn monitors_pending(k: &FakeKernel) -> usize {
    k.pending(Channel::DevlinkMon) + k.pending(Channel::RtnlMon)
}

/// The spin of issue 12 item 1: a port declined for bad options returns
/// before any drain, so its descriptors (readable: an event is pending)
/// must not be registered.  A port declined after a drain may register
/// them: nothing is pending on any of them then.
#[test]
fn a_declined_prepare_never_hands_over_an_undrained_descriptor() {
    let d = dirs("spin");
    let k = FakeKernel::new();
    populate(&k, 2);
    let mut p = provider(&k, &d);
    k.add_port_61(&vf(5));
    k.link_new(&link(105, "c1pf0vf5"));
    assert!(monitors_pending(&k) > 0);

    for bad in ["1x", "65536", "-1", ""] {
        assert_eq!(
            prepare(&mut p, "lp-bad", bad),
            Err(Wakeup::Nothing),
            "{bad}"
        );
        assert!(monitors_pending(&k) > 0, "not drained, so not registered");
    }

    // A miss drains: its descriptors have nothing pending.
    match prepare(&mut p, "lp-absent", "9") {
        Err(Wakeup::Readable(fds)) => assert_eq!(fds.len(), 2, "the two monitors"),
        other => panic!("{other:?}"),
    }
    assert_eq!(monitors_pending(&k), 0);
    assert_eq!(prepare(&mut p, "lp-vf5", "5").as_deref(), Ok("c1pf0vf5"));

    // The stock-host hit path: once a drain is due (100 ms), a hit also
    // drains; a decline right after a due drain registers drained fds only.
    k.port_del(&vf(5).id);
    advance(100);
    match prepare(&mut p, "lp-vf5", "5") {
        Err(Wakeup::Readable(_)) => assert_eq!(monitors_pending(&k), 0),
        other => panic!("{other:?}"),
    }
}

/// `run` drains, then registers: nothing pending on what it hands over.
#[test]
fn run_hands_over_drained_descriptors() {
    let d = dirs("run");
    let k = FakeKernel::new();
    populate(&k, 1);
    let mut p = provider(&k, &d);
    // A new VF with its netdev's link, and VF 0's representor renamed (a
    // change `run` reports).
    k.link_new(&link(103, "c1pf0vf3"));
    k.add_port_61(&vf(3));
    k.link_new(&link(100, "vm0"));
    let before = p.stats().drains;
    assert!(p.run());
    assert_eq!(p.wakeup(before), Wakeup::Readable(p.fds()));
    assert_eq!(monitors_pending(&k), 0);
}

/// Issue 12 item 10: udev's database watch wakes the loop only while some
/// link waits for udev.
#[test]
fn udev_watch_is_registered_only_while_a_link_waits_for_udev() {
    let d = dirs("udev");
    // udev "runs": its control socket answers a connect.
    d.udev_running();
    let k = FakeKernel::new();
    populate(&k, 1);
    // Every link of the first dump is settled (udev wrote its file).
    for i in [5, 100] {
        d.udev_done(i);
    }
    let mut src = k.source(d.opts()).unwrap();
    let mut t = src.load().unwrap();
    assert_eq!(src.fds().len(), 2, "no link waits: the monitors only");

    // A new VF whose netdev udev has not finished with.
    k.add_port_61(&vf(4));
    k.link_new(&link(104, "eth9"));
    src.drain(&mut t).unwrap();
    assert_eq!(src.fds().len(), 3, "a link waits: udev's watch too");

    d.udev_done(104);
    src.drain(&mut t).unwrap();
    assert!(
        t.entry_by_id(&vf(4).id).unwrap().settled,
        "settled by the watch's event"
    );
    assert_eq!(src.fds().len(), 2);
}

/// The fake kernel's netdevs c1pf0vfN (ifindex 100 + N) as
/// `if_nametoindex` would see them after VF 3's netdev was deleted.
fn vf3_deleted(name: &str) -> Option<u32> {
    let n: u32 = name.strip_prefix("c1pf0vf")?.parse().ok()?;
    (n != 3).then_some(100 + n)
}

/// Issue 12 item 8: after lost events, a failed resynchronisation means
/// the table may serve a deleted or renamed netdev: the hit path closes,
/// every CREATE is declined (a holder too, unless its netdev is still the
/// one it was given: not here, VF 3's netdev was deleted), REMOVE is
/// allowed, and the resync is retried on a back-off (a timer; the
/// descriptors are not registered).
#[test]
fn a_failed_resync_declines_and_is_retried_on_a_back_off() {
    capture_logs();
    let d = dirs("resync");
    let k = FakeKernel::new();
    populate(&k, 4);
    let mut p = provider(&k, &d);
    p.set_ifindex_of(vf3_deleted);
    p.run();
    assert_eq!(prepare(&mut p, "lp3", "3").as_deref(), Ok("c1pf0vf3"));

    // Events lost, and the resync's port dump fails.
    k.overflow(Channel::DevlinkMon);
    k.state().fail_port_dump = Some(libc::EBUSY);
    k.state().ports.remove(&vf(3).id);
    k.link_del_lost(103);
    let dumps = k.state().port_dumps;
    let before = p.stats().drains;
    p.run();
    assert_eq!(k.state().port_dumps, dumps + 1);
    assert!(p.outage().is_some(), "{}", p.state_text());
    assert_eq!(p.wakeup(before), Wakeup::Timer(1_000));
    // The table still has VF 3, but it is not served: not through the
    // hit path, not through the full path.
    let req = ovn_vif_rs::options::parse(opts("3")).unwrap();
    assert!(p.prepare_hit("lp3", &req, |_| ()).is_none());
    assert_eq!(prepare(&mut p, "lp3", "3"), Err(Wakeup::Timer(1_000)));
    assert!(p.prepare_remove("lp3", None));
    assert!(
        p.state_text().starts_with("degraded: "),
        "{}",
        p.state_text()
    );

    // Not before the back-off step: no dump.
    advance(999);
    p.run();
    assert_eq!(prepare(&mut p, "lp1", "1"), Err(Wakeup::Timer(1)));
    assert_eq!(k.state().port_dumps, dumps + 1);

    // Due: the retry fails again (the dump fails): 2 s next.
    k.state().fail_port_dump = Some(libc::EBUSY);
    advance(1);
    let before = p.stats().drains;
    p.run();
    assert_eq!(k.state().port_dumps, dumps + 2);
    assert_eq!(p.wakeup(before), Wakeup::Timer(2_000));

    // Due again, and the dump works: served at once, without VF 3 (whose
    // delete was the lost event).
    advance(2_000);
    let before = p.stats().drains;
    assert!(p.run());
    assert!(p.outage().is_none());
    assert_eq!(p.wakeup(before), Wakeup::Readable(p.fds()));
    assert_eq!(prepare(&mut p, "lp1", "1").as_deref(), Ok("c1pf0vf1"));
    assert!(prepare(&mut p, "lp3", "3").is_err());
    assert_eq!(p.state_text(), "serving");

    let warned = lines_with("representor source unavailable");
    assert!(
        warned.iter().any(|(l, _)| *l == log::Level::Warn),
        "{warned:?}"
    );
    assert!(!lines_with("available again after 2 failed attempts").is_empty());
}

/// Issue 12 item 12 and issue 14: without devlink (or with a failed first
/// load) the provider starts anyway, empty, says so at info level (never
/// a warning), declines cleanly, allows REMOVE, and plugs as soon as the
/// kernel can be read.
#[test]
fn no_devlink_starts_empty_and_picks_the_kernel_up_later() {
    capture_logs();
    let d = dirs("nodevlink");
    let k = FakeKernel::without_devlink();
    populate(&k, 2);
    let (k2, o) = (k.clone(), d.opts());
    let open = move || -> std::io::Result<Box<dyn Source>> { Ok(Box::new(k2.source(o.clone())?)) };
    let mut p = Provider::start(Box::new(Reopening::new(open)), now);
    let o = p.outage().expect("an outage");
    assert!(o.nothing_to_plug());
    assert!(o.last_error().contains("no devlink"), "{}", o.last_error());
    assert!(p
        .state_text()
        .starts_with("nothing to plug: this kernel has no devlink"));
    assert!(p.fds().is_empty());
    // Nobody asked for a representor yet: no wakeups of our own (a host
    // without devlink and without representor ports never wakes for us).
    let before = p.stats().drains;
    assert!(!p.run());
    assert_eq!(p.wakeup(before), Wakeup::Nothing);
    assert_eq!(prepare(&mut p, "lp1", "1"), Err(Wakeup::Timer(1_000)));
    assert!(p.prepare_remove("lp1", None));
    assert!(!p.run());

    // Retries back off; still nothing.
    advance(1_000);
    let before = p.stats().drains;
    assert!(!p.run());
    assert_eq!(p.wakeup(before), Wakeup::Timer(2_000));

    // devlink appears (module loaded): picked up at the next step.
    let family = FakeKernel::new().state().family.clone();
    k.state().family = family;
    advance(2_000);
    assert!(p.run());
    assert_eq!(p.state_text(), "serving");
    assert_eq!(prepare(&mut p, "lp1", "1").as_deref(), Ok("c1pf0vf1"));
    assert_eq!(p.fds().len(), 2);

    let said: Vec<_> = lines_with("representor source")
        .into_iter()
        .filter(|(_, t)| t.contains("no devlink"))
        .collect();
    assert!(!said.is_empty());
    assert!(
        said.iter()
            .all(|(l, _)| *l == log::Level::Info || *l == log::Level::Debug),
        "{said:?}"
    );
    assert_eq!(
        said.iter().filter(|(l, _)| *l == log::Level::Info).count(),
        1,
        "once at info level, repeats at debug: {said:?}"
    );
}

/// A first dump that fails (the kernel has devlink) is not permanent
/// either: the next step loads it.
#[test]
fn a_failed_first_load_is_retried() {
    let d = dirs("firstload");
    let k = FakeKernel::new();
    populate(&k, 2);
    k.state().fail_port_dump = Some(libc::ENOMEM);
    let (k2, o) = (k.clone(), d.opts());
    let open = move || -> std::io::Result<Box<dyn Source>> { Ok(Box::new(k2.source(o.clone())?)) };
    let mut p = Provider::start(Box::new(Reopening::new(open)), now);
    assert!(p.outage().is_some_and(|o| !o.nothing_to_plug()));
    assert!(prepare(&mut p, "lp0", "0").is_err());
    advance(1_000);
    assert_eq!(prepare(&mut p, "lp0", "0").as_deref(), Ok("c1pf0vf0"));
}

/// udev running but never finishing with a new representor (a stuck rule;
/// a container whose /run/udev/control is left by an exited udevd).  The
/// provider gives up after SETTLE_TIMEOUT and then plugs it, but on
/// c6b4950 the declined prepare registered only descriptors that nothing
/// makes readable, and no timer for the give-up: on a host whose loop has
/// no other wakeups, the port waited for ever.  Now the wakeup carries a
/// timer at the settle timeout, and at that moment the port plugs.
#[test]
fn a_port_waiting_for_udev_is_woken_at_the_settle_timeout() {
    use std::sync::{Arc, Mutex as M};
    use std::time::Instant;
    let d = dirs("settle");
    d.udev_running();
    let k = FakeKernel::new();
    populate(&k, 1);
    for i in [5, 100] {
        d.udev_done(i);
    }
    let t0 = Instant::now();
    let kclock = Arc::new(M::new(t0));
    let mut ks = k.source(d.opts()).unwrap();
    let c = kclock.clone();
    ks.set_clock(move || *c.lock().unwrap());
    let mut p = Provider::new(Box::new(ks), now).unwrap();
    k.add_port_61(&vf(4));
    k.link_new(&link(104, "c1pf0vf4"));
    let ms = match prepare(&mut p, "lp4", "4") {
        Err(Wakeup::ReadableUntil(fds, ms)) => {
            assert_eq!(fds, p.fds());
            ms
        }
        other => panic!("no timer for the settle timeout: {other:?}"),
    };
    assert_eq!(ms, 30_000, "SETTLE_TIMEOUT after the link was first seen");
    // A moment before the timer: still waiting, and the timer is what is
    // left of the timeout.
    *kclock.lock().unwrap() = t0 + Duration::from_millis(ms - 1_000);
    advance(ms - 1_000);
    assert_eq!(
        prepare(&mut p, "lp4", "4").map_err(|w| match w {
            Wakeup::ReadableUntil(_, ms) => ms,
            other => panic!("{other:?}"),
        }),
        Err(1_000)
    );
    // When the timer fires, with no event at all: the port plugs.
    *kclock.lock().unwrap() = t0 + Duration::from_millis(ms);
    advance(1_000);
    assert_eq!(prepare(&mut p, "lp4", "4").as_deref(), Ok("c1pf0vf4"));
    // Nothing waits for udev any more: no timer.
    assert_eq!(p.wakeup(0), Wakeup::Readable(p.fds()));
}

/// On a host that never calls `run` (stock OVN), a *new* plug (the
/// full path, not a hit) within STALE_AFTER_MS of the last drain
/// was answered from the table without draining on c6b4950: a function
/// deleted (and its name free for the next netdev) in that window was
/// handed out.  The full path now always drains first.
#[test]
fn a_new_plug_on_a_stock_host_never_gets_a_deleted_functions_name() {
    let d = dirs("stale");
    let k = FakeKernel::new();
    populate(&k, 2);
    let mut p = provider(&k, &d);
    advance(100);
    // Some other port's prepare drains (the loop is busy).
    assert_eq!(prepare(&mut p, "lp1", "1").as_deref(), Ok("c1pf0vf1"));
    // VF 0 is removed, with its representor.
    k.port_del(&vf(0).id);
    k.link_del(100);
    advance(50);
    // 50 ms later a new lport asks for VF 0.
    assert_eq!(
        prepare(&mut p, "lp-new", "0").ok(),
        None,
        "a deleted function's netdev name handed out to a new lport"
    );
}
