//! The oracle's real-kernel slice (tests/oracle.rs runs thousands of
//! histories on the fake kernel): seeded histories of what the real kernel
//! can do, on the devlink simulator (tests/kmod) in the VM, checked through
//! the exported vtable after every call like the fake-kernel oracle.
//!
//! Events: VFs and SFs added (kernel name or an explicit one) and removed,
//! a udev rule renaming some new representors (`o<phys_port_name>`), PF
//! MACs changed with `devlink port function set` (collisions included),
//! renames by an administrator, bursts of MTU changes on the uplink (link
//! notifications), lports unplugged and plugged again; once their fixes are
//! marked in tests/common/oracle_fixed.rs also bursts beyond the drain bound
//! (2), representors joining and leaving a bridge (AF_BRIDGE RTM_DELLINK, 5)
//! and an lport with bad options on a host without `run` (1).  udev is
//! whatever the guest runs.  Hosts with and without `run`.
//!
//! Checks, after every vtable call:
//! - a name handed out is the current name of the requested function's
//!   netdev (the simulator's `ports` file) and udev has finished with it
//!   (`/run/udev/data/n<ifindex>` without `ID_RENAMING`), else the request
//!   is declined;
//! - no spin: a descriptor registered with the poll loop that was readable
//!   before the call, was not read by it and is readable after it (the
//!   provider's sockets are wrapped to count reads; events that arrive
//!   during the call are not the call's fault);
//! - progress: every request the kernel resolves is plugged within 5 s.
//!
//! Runs with `OVN_VIF_RS_KERNEL_TESTS=1` in the VM (as root, devlink_sim
//! loaded): `scripts/vm/run.sh --kmod -- tests/vm/kernel-tests-guest.sh
//! <this test binary>`.  `OVN_VIF_RS_ORACLE_VM_STEPS` (default 40) steps
//! per history.

use std::collections::{BTreeMap, BTreeSet};

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ovn_vif_rs::ffi::poll::test_support as poll_hook;
use ovn_vif_rs::ffi::types::vif_plug_class;
use ovn_vif_rs::kernel::{Channel, KernelOptions, KernelSource};
use ovn_vif_rs::netlink::socket::{nlmsg_error, NetlinkSocket, Transport, RECV_BUF_LEN};
use ovn_vif_rs::netlink::wire::{self, MsgBuilder, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
use ovn_vif_rs::os::clock::test_support as clock_hook;
use ovn_vif_rs::rtnl::parse::{IFLA_IFNAME, RTM_NEWLINK};
use ovn_vif_rs::sources::test_support as source_hook;

#[path = "common/oracle_fixed.rs"]
mod oracle_fixed;
use oracle_fixed::fixed;
use ovn_vif_rs::testing::ovs::{self, class};
use ovn_vif_rs::testing::Rng;

#[path = "common/sim.rs"]
mod sim;
use sim::{enabled, ifindex_of, kernel_release, sim_ports, try_write, SimPort, SIM};

const ID: u32 = 21;
const MACS: [&str; 3] = [
    "00:53:00:15:10:00",
    "00:53:00:15:11:00",
    "00:53:00:15:12:00",
];
const BRIDGE: &str = "obr0";
const UDEV_RULE: &str = "/run/udev/rules.d/70-ovn-vif-rs-oracle.rules";
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
/// The drain bound the provider runs with here
/// (`KernelOptions::max_datagrams_per_drain`), small so that real bursts
/// exceed it.
const DRAIN_BOUND: u64 = 1024;

// ---------------------------------------------------------------------------
// The simulator and the kernel.

fn udev_running() -> bool {
    Path::new("/run/udev/control").exists()
}

/// udev has finished with `ifindex` (its database file, without
/// `ID_RENAMING`), or udev is not running.
fn udev_done(ifindex: u32) -> bool {
    if !udev_running() {
        return true;
    }
    match std::fs::read(format!("/run/udev/data/n{ifindex}")) {
        Ok(db) => !db.split(|&b| b == b'\n').any(|l| l == b"E:ID_RENAMING=1"),
        Err(_) => false,
    }
}

/// Waits (up to 20 s) until udev has handled every uevent the kernel sent,
/// so nothing renames or writes the database while the host iterates.
/// `udevadm settle` compares the kernel's uevent sequence number with
/// udevd's: it also covers an event udevd has not received yet, which
/// `/run/udev/queue` alone does not (seen in the VM: a database write
/// during an iteration made the udev watch readable again after a drain).
fn udev_idle() {
    if udev_running() {
        let st = Command::new("udevadm")
            .args(["settle", "--timeout=20"])
            .status();
        assert!(st.is_ok_and(|s| s.success()), "udevadm settle failed");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while Path::new("/run/udev/queue").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One rtnetlink request with an ack (`ip link set` without an exec).
fn link_set(
    rt: &mut NetlinkSocket,
    ifindex: u32,
    attrs: impl FnOnce(&mut MsgBuilder),
) -> io::Result<()> {
    let mut ifinfo = [0u8; 16];
    ifinfo[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    let mut b = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0);
    b.raw(&ifinfo);
    attrs(&mut b);
    rt.send(&b.finish())?;
    let mut buf = vec![0u8; RECV_BUF_LEN];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rt.recv(&mut buf) {
            Ok(n) => {
                for m in wire::messages(&buf[..n]).flatten() {
                    if m.ty == NLMSG_ERROR {
                        return nlmsg_error(&m).map(|_| ());
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "no ack"));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
}

// ---------------------------------------------------------------------------
// The provider's sockets, wrapped to count reads.

struct Counted {
    inner: NetlinkSocket,
    reads: Arc<AtomicU64>,
}

impl Transport for Counted {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.inner.send(msg)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.recv(buf)
    }
    fn raw_fd(&self) -> RawFd {
        self.inner.raw_fd()
    }
}

/// Reads per monitor descriptor (filled by the opener).
type ReadCounts = Arc<std::sync::Mutex<BTreeMap<RawFd, Arc<AtomicU64>>>>;

fn opener(counts: ReadCounts) -> source_hook::Opener {
    Box::new(move || {
        let c = counts.clone();
        let src = KernelSource::open_wrapped(
            KernelOptions {
                max_datagrams_per_drain: DRAIN_BOUND as usize,
                ..KernelOptions::default()
            },
            move |s, ch| {
                let reads = Arc::new(AtomicU64::new(0));
                if matches!(ch, Channel::DevlinkMon | Channel::RtnlMon) {
                    c.lock().unwrap().insert(s.raw_fd(), reads.clone());
                }
                Counted { inner: s, reads }
            },
        )?;
        Ok(Box::new(src) as Box<dyn ovn_vif_rs::provider::Source>)
    })
}

fn readable(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no timeout.
    unsafe { libc::poll(&mut p, 1, 0) == 1 && p.revents & libc::POLLIN != 0 }
}

// ---------------------------------------------------------------------------
// Requests and the truth.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Req {
    Pf(usize),
    Vf(usize, u32),
    Sf(usize, u32),
    Bad,
}

impl Req {
    fn options(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("requested-chassis".to_owned(), "dpu0".to_owned()),
            ("vif-plug-type".to_owned(), "representor".to_owned()),
        ];
        let mac = |m: usize| ("vif-plug:representor:pf-mac".to_owned(), MACS[m].to_owned());
        match self {
            Req::Pf(m) => v.push(mac(*m)),
            Req::Vf(m, n) => {
                v.push(mac(*m));
                v.push(("vif-plug:representor:vf-num".into(), n.to_string()));
            }
            Req::Sf(m, n) => {
                v.push(mac(*m));
                v.push(("vif-plug:representor:sf-num".into(), n.to_string()));
            }
            Req::Bad => {
                v.push(mac(0));
                v.push(("vif-plug:representor:vf-num".into(), "1x".into()));
            }
        }
        v
    }
}

/// The kernel's answer for `req` now: `Ok(Some(name))` a netdev udev has
/// finished with, `Ok(None)` nothing (must decline), `Err(name)` a netdev
/// udev has not finished with (must decline).
fn truth(ports: &[SimPort], req: &Req) -> Result<Option<String>, String> {
    let (m, flavour, num) = match req {
        Req::Pf(m) => (*m, "pf", 0),
        Req::Vf(m, n) => (*m, "vf", *n),
        Req::Sf(m, n) => (*m, "sf", *n),
        Req::Bad => return Ok(None),
    };
    let pfs: Vec<&SimPort> = ports
        .iter()
        .filter(|p| p.flavour == "pf" && p.hw_addr == MACS[m])
        .collect();
    let [pf] = pfs[..] else {
        return Ok(None);
    };
    let p = if flavour == "pf" {
        pf
    } else {
        match ports.iter().find(|p| {
            p.flavour == flavour && p.controller == pf.controller && p.pf == pf.pf && p.num == num
        }) {
            Some(p) => p,
            None => return Ok(None),
        }
    };
    match ifindex_of(&p.netdev) {
        Some(i) if udev_done(i) => Ok(Some(p.netdev.clone())),
        _ => Err(p.netdev.clone()),
    }
}

// ---------------------------------------------------------------------------
// A history.

struct Lport {
    name: String,
    req: Req,
    active: bool,
    got: Option<String>,
}

struct Host {
    run: bool,
    lports: Vec<Lport>,
    counts: ReadCounts,
    rng: Rng,
    calls: u64,
    plugged: u64,
}

impl Host {
    fn counts(&self) -> BTreeMap<RawFd, u64> {
        self.counts
            .lock()
            .unwrap()
            .iter()
            .map(|(fd, c)| (*fd, c.load(Ordering::Relaxed)))
            .collect()
    }

    /// Runs one vtable call and checks it registered no undrained,
    /// readable descriptor.  `known`: descriptors seen registered before
    /// (the udev watch's fd is only known once registered).
    fn call<R>(
        &mut self,
        what: &str,
        known: &mut BTreeSet<RawFd>,
        f: impl FnOnce() -> R,
    ) -> (R, Vec<String>) {
        let mut watch: BTreeSet<RawFd> = self.counts.lock().unwrap().keys().copied().collect();
        watch.extend(known.iter().copied());
        let before: BTreeSet<RawFd> = watch.iter().copied().filter(|&fd| readable(fd)).collect();
        let reads = self.counts();
        let r = f();
        self.calls += 1;
        let mut v = Vec::new();
        for fd in poll_hook::take() {
            known.insert(fd);
            let read = self.counts().get(&fd) != reads.get(&fd);
            if before.contains(&fd) && !read && readable(fd) {
                v.push(format!(
                    "[no-spin] {what} registered fd {fd} with the poll loop: readable before \
                     the call, not read by it, readable after"
                ));
            }
        }
        (r, v)
    }

    fn prepare(l: &Lport) -> Option<String> {
        ovs::create(&l.name, &l.req.options())
    }

    fn remove(name: &str) -> bool {
        ovs::remove(name)
    }

    /// One main-loop iteration, checked.
    fn iteration(&mut self, known: &mut BTreeSet<RawFd>) -> Vec<String> {
        clock_hook::advance_ms(ovn_vif_rs::provider::STALE_AFTER_MS);
        let mut v = Vec::new();
        if self.run {
            let run = class().run.expect("run");
            // SAFETY: `run` ignores its class argument.
            let ((), e) = self.call("run", known, || unsafe {
                run(class() as *const vif_plug_class as *mut vif_plug_class);
            });
            v.extend(e);
        }
        let mut order: Vec<usize> = (0..self.lports.len()).collect();
        for k in (1..order.len()).rev() {
            order.swap(k, self.rng.below(k as u64 + 1) as usize);
        }
        for i in order {
            if !self.lports[i].active {
                continue;
            }
            let name = self.lports[i].name.clone();
            let (got, e) = {
                let l = &self.lports[i];
                let l = Lport {
                    name: l.name.clone(),
                    req: l.req.clone(),
                    active: true,
                    got: None,
                };
                self.call(&format!("prepare({name})"), known, move || {
                    Host::prepare(&l)
                })
            };
            v.extend(e);
            if let Some(n) = &got {
                self.plugged += 1;
                // The truth as of now (udev idle, nothing else changes).
                let ports = sim_ports(ID);
                match truth(&ports, &self.lports[i].req) {
                    Ok(Some(w)) if &w == n => {}
                    t => v.push(format!(
                        "[names] prepare({name}) {:?} handed out {n}; the kernel says {t:?} \
                         (Err: udev not finished with it)",
                        self.lports[i].req
                    )),
                }
            }
            self.lports[i].got = got;
        }
        v
    }

    fn missing(&self) -> Vec<String> {
        let ports = sim_ports(ID);
        self.lports
            .iter()
            .filter(|l| l.active)
            .filter_map(|l| match truth(&ports, &l.req) {
                Ok(Some(w)) if l.got.as_deref() != Some(&w) => Some(format!(
                    "{} {:?}: {w} not plugged (got {:?})",
                    l.name, l.req, l.got
                )),
                _ => None,
            })
            .collect()
    }
}

struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let destroy = class().destroy.expect("destroy");
        // SAFETY: plain call of the library's own entry point.
        unsafe { destroy() };
        source_hook::set_opener(None);
        poll_hook::arm(false);
        let _ = std::fs::remove_file(UDEV_RULE);
        let _ = Command::new("udevadm")
            .args(["control", "--reload"])
            .status();
        if Path::new(&format!("/sys/class/net/{BRIDGE}")).exists() {
            let _ = Command::new("ip").args(["link", "del", BRIDGE]).status();
        }
        if Path::new(&format!("{SIM}/{ID}")).exists() {
            let _ = try_write(format!("{SIM}/del_device"), &ID.to_string());
        }
    }
}

fn history(seed: u64, run: bool, steps: u64) {
    let mut rng = Rng(seed);
    if Path::new(&format!("{SIM}/{ID}")).exists() {
        try_write(format!("{SIM}/del_device"), &ID.to_string()).unwrap();
    }
    try_write(format!("{SIM}/new_device"), &ID.to_string()).unwrap();
    let _cleanup = Cleanup;
    let add = |line: &str| try_write(format!("{SIM}/{ID}/port_add"), line);
    add("physical pf=0").unwrap();
    for (pf, mac) in MACS.iter().enumerate().take(2) {
        add(&format!("pf controller=1 pf={pf} external=1 mac={mac}")).unwrap();
    }
    add("vf controller=1 pf=0 vf=0 external=1 count=2").unwrap();
    // udev renames PF 1's new VFs and SFs (as a site's rule would).
    if udev_running() {
        std::fs::create_dir_all("/run/udev/rules.d").unwrap();
        try_write(
            UDEV_RULE,
            "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{phys_port_name}==\"c1pf1[vs]f*\", \
             NAME=\"o$attr{phys_port_name}\"\n",
        )
        .unwrap();
        let st = Command::new("udevadm")
            .args(["control", "--reload"])
            .status();
        assert!(st.is_ok_and(|s| s.success()), "udevadm control --reload");
    }
    let bridge = fixed(5)
        && Command::new("ip")
            .args(["link", "add", "name", BRIDGE, "type", "bridge"])
            .status()
            .is_ok_and(|s| s.success());
    udev_idle();

    let counts: ReadCounts = Default::default();
    source_hook::set_opener(Some(opener(counts.clone())));
    poll_hook::arm(true);
    let init = class().init.expect("init");
    // SAFETY: plain call of the library's own entry point.
    assert_eq!(unsafe { init() }, 0, "init");

    let mut lports = Vec::new();
    for m in 0..3 {
        lports.push((format!("o-m{m}-pf"), Req::Pf(m)));
        for n in 0..3 {
            lports.push((format!("o-m{m}-vf{n}"), Req::Vf(m, n)));
        }
        lports.push((format!("o-m{m}-sf0"), Req::Sf(m, 0)));
    }
    if run || fixed(1) {
        lports.push(("o-bad".into(), Req::Bad));
    }
    let mut host = Host {
        run,
        lports: lports
            .into_iter()
            .map(|(name, req)| Lport {
                name,
                req,
                active: true,
                got: None,
            })
            .collect(),
        counts,
        rng: Rng(seed ^ 1),
        calls: 0,
        plugged: 0,
    };
    let mut rt = NetlinkSocket::route(&[], None).unwrap();
    let mut known = BTreeSet::new();
    let mut trace: Vec<String> = Vec::new();
    let mut renames = 0u32;
    let mut ops: BTreeMap<String, u32> = BTreeMap::new();

    for step in 0..steps {
        let ports = sim_ports(ID);
        let functions: Vec<&SimPort> = ports
            .iter()
            .filter(|p| p.flavour == "vf" || p.flavour == "sf")
            .collect();
        let r = rng.below(100);
        let op: String = if r < 30 || functions.len() < 2 {
            let pf = rng.below(2) as u32;
            let kind = if rng.below(4) == 0 { "sf" } else { "vf" };
            let taken: BTreeSet<u32> = functions
                .iter()
                .filter(|p| p.flavour == kind && p.pf == pf)
                .map(|p| p.num)
                .collect();
            let num = (0..3).find(|n| !taken.contains(n));
            match num {
                Some(num) => {
                    renames += 1;
                    let name = if rng.below(3) == 0 {
                        format!(" name=on{renames}")
                    } else {
                        String::new()
                    };
                    add(&format!(
                        "{kind} controller=1 pf={pf} {kind}={num} external=1{name}"
                    ))
                    .unwrap();
                    format!("add {kind} pf{pf} {num}{name}")
                }
                None => "idle".into(),
            }
        } else if r < 55 {
            let p = functions[rng.below(functions.len() as u64) as usize];
            try_write(format!("{SIM}/{ID}/port_del"), &p.index.to_string()).unwrap();
            format!("del {} pf{} {} ({})", p.flavour, p.pf, p.num, p.netdev)
        } else if r < 63 {
            let pfs: Vec<&SimPort> = ports.iter().filter(|p| p.flavour == "pf").collect();
            let p = pfs[rng.below(pfs.len() as u64) as usize];
            let m = MACS[rng.below(3) as usize];
            let st = Command::new("devlink")
                .args(["port", "function", "set"])
                .arg(format!("platform/devlink_sim.{ID}/{}", p.index))
                .args(["hw_addr", m])
                .status()
                .unwrap();
            assert!(st.success(), "devlink port function set: {st}");
            format!("hw_addr of pf{} := {m}", p.pf)
        } else if r < 73 {
            let p = &ports[rng.below(ports.len() as u64) as usize];
            renames += 1;
            let to = format!("or{renames}");
            match ifindex_of(&p.netdev) {
                Some(i) => {
                    link_set(&mut rt, i, |b| {
                        b.str(IFLA_IFNAME, &to);
                    })
                    .unwrap();
                    format!("rename {} -> {to}", p.netdev)
                }
                None => "idle".into(),
            }
        } else if r < 83 {
            let n = if fixed(2) && rng.below(2) == 0 {
                DRAIN_BOUND + 1 + rng.below(200)
            } else {
                1 + rng.below(300)
            };
            let uplink = ports.iter().find(|p| p.flavour == "physical").unwrap();
            let i = ifindex_of(&uplink.netdev).unwrap();
            for k in 0..n {
                let mtu = if k % 2 == 0 { 1400 } else { 1500 };
                link_set(&mut rt, i, |b| {
                    b.u32(IFLA_MTU, mtu);
                })
                .unwrap();
            }
            format!("burst of {n} MTU changes on {}", uplink.netdev)
        } else if r < 90 && bridge {
            let p = &ports[rng.below(ports.len() as u64) as usize];
            let br = ifindex_of(BRIDGE).unwrap();
            match ifindex_of(&p.netdev) {
                Some(i) => {
                    link_set(&mut rt, i, |b| {
                        b.u32(IFLA_MASTER, br);
                    })
                    .unwrap();
                    link_set(&mut rt, i, |b| {
                        b.u32(IFLA_MASTER, 0);
                    })
                    .unwrap();
                    format!("{} joins and leaves {BRIDGE}", p.netdev)
                }
                None => "idle".into(),
            }
        } else {
            let i = rng.below(host.lports.len() as u64) as usize;
            let l = &mut host.lports[i];
            if l.active {
                assert!(Host::remove(&l.name), "REMOVE of {} refused", l.name);
                l.active = false;
                l.got = None;
                format!("unplug {}", l.name)
            } else {
                l.active = true;
                format!("replug {}", l.name)
            }
        };
        *ops.entry(op.split(' ').next().unwrap_or("").to_owned())
            .or_default() += 1;
        trace.push(format!("{step}: {op}"));
        udev_idle();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v = host.iteration(&mut known);
            if !v.is_empty() {
                panic!(
                    "oracle (real kernel {}, seed {seed:#x}, run: {run}): {}\nlast steps:\n{}",
                    kernel_release(),
                    v.join("\n"),
                    trace[trace.len().saturating_sub(8)..].join("\n")
                );
            }
            let missing = host.missing();
            if missing.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "oracle (real kernel, seed {seed:#x}, run: {run}): [progress] still declined \
                 after 5 s: {missing:?}\nlast steps:\n{}",
                trace[trace.len().saturating_sub(8)..].join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    eprintln!(
        "oracle on {}: seed {seed:#x}, run: {run}: {steps} steps, {} vtable calls, {} names \
         handed out, all checked; operations {ops:?}",
        kernel_release(),
        host.calls,
        host.plugged
    );
    assert!(host.plugged > 0, "vacuous history");
}

/// Two histories, a host with `run` and one without.
#[test]
fn vm_oracle_histories_on_the_real_kernel() {
    if !enabled() {
        return;
    }
    let steps = std::env::var("OVN_VIF_RS_ORACLE_VM_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    history(0x0ac1_e0f0_0001, true, steps);
    history(0x0ac1_e0f0_0002, false, steps);
}
