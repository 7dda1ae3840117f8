//! Host benchmarks of the provider's hot paths (issue 8), with baselines
//! measured in the same run.  `harness = false`: a plain program that prints
//! figures; it asserts nothing about time.
//!
//! ```sh
//! cargo bench --bench hotpath                 # everything (ns, syscalls, instructions, memory)
//! cargo bench --bench hotpath -- --quick      # fewer ports/iterations, no callgrind
//! scripts/bench                               # the same, plus the machine's description
//! ```
//!
//! What is measured (see BENCHMARKS.md for the figures):
//! - `prepare` through the exported C vtable (`vif_plug_provider_classes[0]`)
//!   with real `#[repr(C)]` ctx structs and smaps in OVS's hmap layout, at
//!   1,024 / 16,384 / 65,536 indexed ports, "run seen" mode (hits never
//!   drain): median / p99 ns per call, bulk mean, syscalls per call (strace
//!   -c on a child process, N calls minus 0 calls), instructions per call
//!   (callgrind, collection toggled on the measured loop only);
//! - prepare + ctx_destroy (OVN's per-iteration cycle: malloc + free of the
//!   name); the "no run" host (drains at most once per 100 ms);
//! - the miss path and `run` with nothing pending (snapshot source), and
//!   `KernelSource::drain` with nothing pending on real netlink sockets;
//! - parsing + indexing a devlink dump (ports per second);
//! - memory per indexed port (a counting global allocator);
//! - baselines: a naive linear scan, the C reference's algorithm (ovn-vif:
//!   PF by MAC = linear scan, VF by hash of (PF MAC, VF num)) and its
//!   per-prepare cost of two non-blocking netlink receives returning EAGAIN.
//!
//! `unsafe` here is confined to what a benchmark of a C ABI needs: calling
//! the exported function pointers and the counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::ffi::CString;
use std::hint::black_box;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use ovn_vif_rs::devlink::attrs::DEVLINK_CMD_NEW;
use ovn_vif_rs::devlink::parse::{emit_port_message, parse_port_dump_payload, PortEvent};
use ovn_vif_rs::fasthash::FastMap;
use ovn_vif_rs::ffi::types::{
    smap_node, vif_plug_class, vif_plug_port_ctx_in, vif_plug_port_ctx_out,
};
use ovn_vif_rs::kernel::testing::{FakeKernel, FakeTransport, Role};
use ovn_vif_rs::kernel::{KernelOptions, KernelSource};
use ovn_vif_rs::lookup;
use ovn_vif_rs::netlink::socket::{NetlinkSocket, Transport};
use ovn_vif_rs::netlink::wire::{self, NLM_F_MULTI};
use ovn_vif_rs::options::{Function, Request};
use ovn_vif_rs::port::{DevHandle, DevlinkPort, Flavour, Mac, NetdevRef, PortFunction, PortId};
use ovn_vif_rs::rtnl::parse::{LinkInfo, RTNLGRP_LINK};
use ovn_vif_rs::snapshot;
use ovn_vif_rs::table::Table;

#[path = "../tests/common/ovs_abi.rs"]
mod ovs_abi;
use ovs_abi::{build_smap, class, ctx_in, new_ctx_out, OwnedSmap};

// ---------------------------------------------------------------------------
// Counting allocator (memory per indexed port).

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged and only
// keeps counters on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` was allocated by `System` with `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `p` was allocated by `System` with `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------
// Generated BlueField-like layouts.

/// Ports per devlink device in generated layouts (a BlueField-3 exposes
/// thousands of functions per device).
const PORTS_PER_DEV: usize = 8192;

fn pf_mac(dev: usize, controller: u32, pf: u16) -> Mac {
    Mac([0x00, 0x53, dev as u8, controller as u8, pf as u8, 0x00])
}

/// `n` devlink ports: per device 2 uplinks, 4 PCI_PF ports (controller 0 =
/// DPU-local, controller 1 = host, pf0/pf1), the rest VFs and SFs spread
/// over the 4 PFs.  Every port has a netdev; PF MACs are unique.
fn gen_ports(n: usize) -> Vec<DevlinkPort> {
    let devs = n.div_ceil(PORTS_PER_DEV).max(1);
    let mut out = Vec::with_capacity(n);
    let mut ifindex = 10u32;
    for d in 0..devs {
        let per_dev = if d + 1 == devs {
            n - PORTS_PER_DEV * (devs - 1)
        } else {
            PORTS_PER_DEV
        };
        let handle = DevHandle::new("pci", &format!("0000:{:02x}:00.0", 3 + d));
        let mut index = 0u32;
        let mut push = |out: &mut Vec<DevlinkPort>, mut p: DevlinkPort| {
            index += 1;
            ifindex += 1;
            p.id = PortId {
                handle: handle.clone(),
                index,
            };
            let name = format!("d{d}{}", p.phys_port_name());
            p.netdev = Some(NetdevRef { ifindex, name });
            out.push(p);
        };
        let blank = DevlinkPort {
            id: PortId {
                handle: handle.clone(),
                index: 0,
            },
            flavour: Flavour::Physical,
            controller: 0,
            external: false,
            number: None,
            pfnum: None,
            vfnum: None,
            sfnum: None,
            netdev: None,
            function: None,
        };
        for pf in 0..2u32 {
            push(
                &mut out,
                DevlinkPort {
                    number: Some(pf),
                    ..blank.clone()
                },
            );
        }
        let pfs: [(u32, u16); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];
        for &(c, pf) in &pfs {
            push(
                &mut out,
                DevlinkPort {
                    flavour: Flavour::PciPf,
                    controller: c,
                    external: c == 1,
                    pfnum: Some(pf),
                    function: Some(PortFunction {
                        hw_addr: Some(pf_mac(d, c, pf)),
                        ..PortFunction::default()
                    }),
                    ..blank.clone()
                },
            );
        }
        let rest = per_dev.saturating_sub(6);
        for i in 0..rest {
            let (c, pf) = pfs[i % 4];
            let k = i / 4;
            let (vfnum, sfnum, flavour) = if k % 2 == 0 {
                (Some((k / 2) as u16), None, Flavour::PciVf)
            } else {
                (None, Some((k / 2) as u32), Flavour::PciSf)
            };
            push(
                &mut out,
                DevlinkPort {
                    flavour,
                    controller: c,
                    external: c == 1 && flavour == Flavour::PciVf,
                    pfnum: Some(pf),
                    vfnum,
                    sfnum,
                    ..blank.clone()
                },
            );
        }
    }
    out
}

fn snapshot_text(ports: &[DevlinkPort]) -> String {
    let mut s = String::with_capacity(ports.len() * 110);
    for p in ports {
        s.push_str(&snapshot::port_line(p));
        s.push('\n');
    }
    s
}

/// The request that names `p` (PF ports: only those with a MAC).
fn request_of(p: &DevlinkPort, dev_of: &HashMap<String, usize>) -> Option<Request> {
    let d = dev_of[&*p.id.handle.dev];
    let pf = p.pfnum?;
    let function = match p.flavour {
        Flavour::PciPf => Function::Pf,
        Flavour::PciVf => Function::Vf(p.vfnum?),
        Flavour::PciSf => Function::Sf(p.sfnum?),
        _ => return None,
    };
    Some(Request {
        pf_mac: pf_mac(d, p.controller, pf),
        function,
    })
}

fn dev_numbers(ports: &[DevlinkPort]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for p in ports {
        let n = m.len();
        m.entry(p.id.handle.dev.to_string()).or_insert(n);
    }
    m
}

/// A small deterministic shuffle (ovn-controller walks its lports in hash
/// order, i.e. effectively at random over the table).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (seed >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

/// The VF requests of a layout, shuffled (what the lookup baselines and the
/// vtable hit path resolve).
fn vf_requests(ports: &[DevlinkPort]) -> Vec<Request> {
    let devs = dev_numbers(ports);
    let mut v: Vec<Request> = ports
        .iter()
        .filter(|p| p.flavour == Flavour::PciVf)
        .filter_map(|p| request_of(p, &devs))
        .collect();
    shuffle(&mut v, 42);
    v
}

// ---------------------------------------------------------------------------
// OVS smaps and OVN ctx structs, built in Rust in OVS's layout.

/// The options an LSP carries for `req` (OVN's own keys included, as the
/// Port_Binding options clone has them).
fn lsp_options(req: &Request) -> Vec<(String, String)> {
    let mut v = vec![
        ("requested-chassis".to_owned(), "dpu0".to_owned()),
        ("vif-plug-type".to_owned(), "representor".to_owned()),
        (
            "vif-plug:representor:pf-mac".to_owned(),
            req.pf_mac.to_string(),
        ),
        ("vif-plug-mtu-request".to_owned(), "9000".to_owned()),
    ];
    match req.function {
        Function::Pf => {}
        Function::Vf(n) => v.push(("vif-plug:representor:vf-num".to_owned(), n.to_string())),
        Function::Sf(n) => v.push(("vif-plug:representor:sf-num".to_owned(), n.to_string())),
    }
    v
}

/// The ctx_in structs of many lports, with everything they point at.
struct Lports {
    #[allow(dead_code)]
    smaps: Vec<OwnedSmap>,
    #[allow(dead_code)]
    names: Vec<CString>,
    ctx: Vec<vif_plug_port_ctx_in>,
}

fn build_lports(reqs: &[Request]) -> Lports {
    build_lports_named(reqs, "lsp")
}

fn build_lports_named(reqs: &[Request], prefix: &str) -> Lports {
    let mut smaps = Vec::with_capacity(reqs.len());
    let mut names = Vec::with_capacity(reqs.len());
    let mut ctx = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        let m = build_smap(&lsp_options(r));
        let name = CString::new(format!("{prefix}-{i:05}")).unwrap();
        ctx.push(ctx_in(&name, &m));
        smaps.push(m);
        names.push(name);
    }
    Lports { smaps, names, ctx }
}

/// The provider loaded through the vtable from a snapshot of `ports`.
struct Loaded {
    path: PathBuf,
}

impl Loaded {
    fn new(ports: &[DevlinkPort], tag: &str) -> Loaded {
        let path = std::env::temp_dir().join(format!(
            "ovn-vif-rs-bench-{}-{tag}-{}.snapshot",
            std::process::id(),
            ports.len()
        ));
        std::fs::write(&path, snapshot_text(ports)).expect("writing the snapshot");
        std::env::set_var(ovn_vif_rs::sources::ENV_SNAPSHOT, &path);
        let init = class().init.unwrap();
        // SAFETY: plain call of the library's own entry point.
        let rc = unsafe { init() };
        assert_eq!(rc, 0, "init failed");
        Loaded { path }
    }

    fn run(&self) -> bool {
        let run = class().run.unwrap();
        // SAFETY: `run` ignores its class argument; the pointer is the
        // library's own class.
        unsafe { run(class() as *const vif_plug_class as *mut vif_plug_class) }
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let destroy = class().destroy.unwrap();
        // SAFETY: plain call of the library's own entry point.
        unsafe { destroy() };
        let _ = std::fs::remove_file(&self.path);
    }
}

fn prepare(ctx: &vif_plug_port_ctx_in, out: &mut vif_plug_port_ctx_out) -> bool {
    let f = class().vif_plug_port_prepare.unwrap();
    // SAFETY: `ctx` points at live strings and smaps (owned by `Lports`),
    // `out` is a valid ctx_out whose name is NULL or from an earlier prepare.
    unsafe { f(ctx, out) }
}

fn ctx_destroy(ctx: &vif_plug_port_ctx_in, out: &mut vif_plug_port_ctx_out) {
    let f = class().vif_plug_port_ctx_destroy.unwrap();
    // SAFETY: as in `prepare`; frees the name prepare stored.
    unsafe { f(ctx, out) }
}

// ---------------------------------------------------------------------------
// Baselines.

/// Naive: one flat list of ports, every request scans it (PF by MAC, then
/// the function by PF key and number).
struct Naive {
    ports: Vec<(Flavour, u32, u32, u16, u32, Mac, String)>,
}

impl Naive {
    fn new(ports: &[DevlinkPort]) -> Naive {
        let devs = dev_numbers(ports);
        Naive {
            ports: ports
                .iter()
                .map(|p| {
                    (
                        p.flavour,
                        devs[&*p.id.handle.dev] as u32,
                        p.controller,
                        p.pfnum.unwrap_or(u16::MAX),
                        p.vfnum.map(u32::from).or(p.sfnum).unwrap_or(u32::MAX),
                        p.function_mac().unwrap_or(Mac::ZERO),
                        p.netdev
                            .as_ref()
                            .map(|n| n.name.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }

    fn lookup(&self, r: &Request) -> Option<&str> {
        let pf = self
            .ports
            .iter()
            .find(|p| p.0 == Flavour::PciPf && p.5 == r.pf_mac)?;
        let (fl, n) = match r.function {
            Function::Pf => return Some(&pf.6),
            Function::Vf(n) => (Flavour::PciVf, n as u32),
            Function::Sf(n) => (Flavour::PciSf, n),
        };
        self.ports
            .iter()
            .find(|p| p.0 == fl && p.1 == pf.1 && p.2 == pf.2 && p.3 == pf.3 && p.4 == n)
            .map(|p| p.6.as_str())
    }
}

/// The C reference's algorithm (ovn-vif vif-plug-representor.c): PHYSICAL
/// and PCI_PF nodes in `bus_dev_table`, walked linearly for a PF by MAC
/// (first match wins); VFs in `mac_fn_table` hashed by (PF MAC, VF num),
/// controller ignored.  SFs unsupported.  Names stay in the table (no copy).
struct CRef {
    bus_dev: Vec<(Flavour, Mac, String)>,
    mac_fn: FastMap<(u64, u16), String>,
}

impl CRef {
    fn new(ports: &[DevlinkPort]) -> CRef {
        let mut bus_dev = Vec::new();
        let mut pf_macs = HashMap::new();
        for p in ports {
            let name = p
                .netdev
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            match p.flavour {
                Flavour::Physical => bus_dev.push((p.flavour, Mac::ZERO, name)),
                Flavour::PciPf => {
                    let mac = p.function_mac().unwrap_or(Mac::ZERO);
                    pf_macs.insert((p.id.handle.clone(), p.controller, p.pfnum), mac);
                    bus_dev.push((p.flavour, mac, name));
                }
                _ => {}
            }
        }
        let mut mac_fn = FastMap::default();
        for p in ports {
            if p.flavour != Flavour::PciVf {
                continue;
            }
            // Controller ignored: c0pf0vf3 and c1pf0vf3 collide on pfnum, and
            // the C code keys the VF by whichever PF (bus, dev, pfnum) it finds.
            // Here each PF MAC is distinct, so key by the PF of the same
            // controller to keep the lookups comparable.
            let mac = pf_macs
                .get(&(p.id.handle.clone(), p.controller, p.pfnum))
                .copied()
                .unwrap_or(Mac::ZERO);
            let name = p
                .netdev
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            mac_fn.insert((mac.as_u64(), p.vfnum.unwrap_or(0)), name);
        }
        CRef { bus_dev, mac_fn }
    }

    fn lookup(&self, r: &Request) -> Option<&str> {
        match r.function {
            Function::Vf(n) => self.mac_fn.get(&(r.pf_mac.as_u64(), n)).map(|s| s.as_str()),
            Function::Pf => self
                .bus_dev
                .iter()
                .find(|p| p.0 == Flavour::PciPf && p.1 == r.pf_mac)
                .map(|p| p.2.as_str()),
            Function::Sf(_) => None,
        }
    }
}

/// The C reference's per-prepare `run()`: a non-blocking receive on the
/// devlink monitor and one on the udev monitor, both EAGAIN when idle.
/// Measured on two real NETLINK_ROUTE sockets (this host has no devlink).
struct CRefRecv {
    a: NetlinkSocket,
    b: NetlinkSocket,
    buf: Vec<u8>,
}

impl CRefRecv {
    fn new() -> io::Result<CRefRecv> {
        Ok(CRefRecv {
            a: NetlinkSocket::route(&[], None)?,
            b: NetlinkSocket::route(&[], None)?,
            buf: vec![0u8; 4096],
        })
    }

    fn poll_twice(&mut self) -> usize {
        let mut n = 0;
        for s in [&mut self.a, &mut self.b] {
            match s.recv(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => n += 1,
                _ => {}
            }
        }
        n
    }
}

// ---------------------------------------------------------------------------
// A kernel source over real netlink sockets where this host allows it.

/// devlink requests go to the fake kernel (this host has no devlink); the
/// two monitors and the rtnetlink request socket are real sockets, so an
/// idle drain costs exactly what it costs in production: one `recvmsg`
/// returning EAGAIN per monitor.  The devlink monitor is a generic netlink
/// socket that cannot join devlink's group here (no such family), which
/// makes no difference to an idle receive.
enum Hybrid {
    Fake(FakeTransport),
    Real(NetlinkSocket),
}

impl Transport for Hybrid {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        match self {
            Hybrid::Fake(t) => t.send(msg),
            Hybrid::Real(t) => t.send(msg),
        }
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Hybrid::Fake(t) => t.recv(buf),
            Hybrid::Real(t) => t.recv(buf),
        }
    }
    fn raw_fd(&self) -> RawFd {
        match self {
            Hybrid::Fake(t) => t.raw_fd(),
            Hybrid::Real(t) => t.raw_fd(),
        }
    }
}

fn hybrid_source(ports: &[DevlinkPort]) -> io::Result<(KernelSource<Hybrid>, Table)> {
    let k = FakeKernel::new();
    {
        let mut s = k.state();
        for p in ports {
            s.ports.insert(p.id.clone(), p.clone());
        }
    }
    let mut src = KernelSource::with_transports(
        Hybrid::Fake(k.transport(Role::DevlinkReq)),
        Hybrid::Real(NetlinkSocket::generic(&[], None)?),
        Hybrid::Real(NetlinkSocket::route(&[], None)?),
        Hybrid::Real(NetlinkSocket::route(&[RTNLGRP_LINK], None)?),
        KernelOptions::default(),
    )?;
    let table = src.load()?;
    Ok((src, table))
}

// ---------------------------------------------------------------------------
// Timing.

struct Timing {
    median: f64,
    p99: f64,
    mean: f64,
}

/// Times `calls` calls of `f` one by one (minus the timer's own median cost)
/// for median / p99, then once more in bulk for an overhead-free mean.
fn time_calls(calls: usize, mut f: impl FnMut(usize)) -> Timing {
    let floor = timer_floor();
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        let t = Instant::now();
        f(i);
        samples.push(t.elapsed().as_nanos() as f64 - floor);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let t = Instant::now();
    for i in 0..calls {
        f(i);
    }
    let mean = t.elapsed().as_nanos() as f64 / calls as f64;
    Timing {
        median: samples[samples.len() / 2].max(0.0),
        p99: samples[samples.len() * 99 / 100].max(0.0),
        mean,
    }
}

fn timer_floor() -> f64 {
    let mut v: Vec<u128> = (0..2001)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos()
        })
        .collect();
    v.sort();
    v[v.len() / 2] as f64
}

/// The loop callgrind collects (`--toggle-collect=*measured_loop*`).
#[inline(never)]
fn measured_loop(calls: usize, f: &mut dyn FnMut(usize)) {
    for i in 0..calls {
        f(i);
    }
}

// ---------------------------------------------------------------------------
// Child processes: one workload, N calls, for strace / callgrind.

/// The workloads a child can run; `setup` returns the per-call closure.
fn child(what: &str, ports: usize, calls: usize) {
    let layout = gen_ports(ports);
    match what {
        "hit" | "cycle" | "hit-norun" | "hit-pending" | "miss" | "run" => {
            let reqs = if what == "miss" {
                // VF numbers no PF has: a refusal, drained once per call.
                vec![Request {
                    pf_mac: pf_mac(0, 1, 0),
                    function: Function::Vf(60000),
                }]
            } else {
                vf_requests(&layout)
            };
            let lp = build_lports(&reqs);
            let loaded = Loaded::new(&layout, what);
            if what != "hit-norun" {
                loaded.run();
            }
            // Other lports still pending (refused): the provider's refused
            // map is not empty, so every hit looks its lport up there.
            let pending = build_lports_named(
                &[Request {
                    pf_mac: pf_mac(0, 1, 0),
                    function: Function::Vf(60001),
                }],
                "pending",
            );
            if what == "hit-pending" {
                let mut o = new_ctx_out();
                assert!(!prepare(&pending.ctx[0], &mut o));
            }
            let mut outs: Vec<_> = lp.ctx.iter().map(|_| new_ctx_out()).collect();
            // Warm-up: first prepare of each lport (allocates its name).
            for (c, o) in lp.ctx.iter().zip(outs.iter_mut()) {
                prepare(c, o);
            }
            let n = lp.ctx.len();
            let mut work: Box<dyn FnMut(usize)> = match what {
                "run" => Box::new(|_| {
                    black_box(loaded.run());
                }),
                "cycle" => Box::new(|i| {
                    let c = &lp.ctx[i % n];
                    let mut o = new_ctx_out();
                    black_box(prepare(c, &mut o));
                    ctx_destroy(c, &mut o);
                }),
                _ => Box::new(|i| {
                    black_box(prepare(&lp.ctx[i % n], &mut outs[i % n]));
                }),
            };
            measured_loop(calls, &mut *work);
            drop(work);
            for (c, o) in lp.ctx.iter().zip(outs.iter_mut()) {
                ctx_destroy(c, o);
            }
            drop(loaded);
        }
        "floor" => {
            // The OVN-data floor of section_prepare, for callgrind.
            let lp = build_lports(&vf_requests(&layout));
            let n = lp.ctx.len();
            measured_loop(calls, &mut |i| {
                black_box(touch_options(&lp.ctx[i % n]));
            });
        }
        "lookup" | "hit-lookup" | "cref-lookup" | "naive-lookup" => {
            let reqs = vf_requests(&layout);
            let n = reqs.len();
            match what {
                "hit-lookup" => {
                    let t = snapshot::parse(&snapshot_text(&layout), false).unwrap();
                    measured_loop(calls, &mut |i| {
                        black_box(lookup::hit(&t, &reqs[i % n]).is_some());
                    });
                }
                "lookup" => {
                    let t = snapshot::parse(&snapshot_text(&layout), false).unwrap();
                    measured_loop(calls, &mut |i| {
                        black_box(lookup::lookup(&t, &reqs[i % n]).is_ok());
                    });
                }
                "cref-lookup" => {
                    let c = CRef::new(&layout);
                    measured_loop(calls, &mut |i| {
                        black_box(c.lookup(&reqs[i % n]));
                    });
                }
                _ => {
                    let nv = Naive::new(&layout);
                    measured_loop(calls, &mut |i| {
                        black_box(nv.lookup(&reqs[i % n]));
                    });
                }
            }
        }
        "kdrain" => {
            let (mut src, mut table) = hybrid_source(&layout).expect("kernel source");
            measured_loop(calls, &mut |_| {
                black_box(src.drain(&mut table).ok());
            });
        }
        "kevent" => {
            // A kernel event on a 4,096-port table (fake kernel): 6.1's add
            // sequence for one VF (PORT_NEW notset, PORT_NEW eth) and its
            // RTM_NEWLINK, then one drain; `calls` VFs in turn.
            let k = FakeKernel::new();
            {
                let mut s = k.state();
                for p in &layout {
                    s.ports.insert(p.id.clone(), p.clone());
                    if let Some(nd) = &p.netdev {
                        s.links.insert(
                            nd.ifindex,
                            LinkInfo {
                                ifindex: nd.ifindex,
                                name: nd.name.clone(),
                                mac: None,
                            },
                        );
                    }
                }
            }
            let mut src = k.source(KernelOptions::default()).expect("fake source");
            let mut table = src.load().expect("load");
            let template = layout
                .iter()
                .find(|p| p.flavour == Flavour::PciVf)
                .cloned()
                .unwrap();
            let events: Vec<DevlinkPort> = (0..calls)
                .map(|i| {
                    let mut p = template.clone();
                    p.id.index = 100_000 + i as u32;
                    p.vfnum = Some(60000 + i as u16);
                    p.netdev = Some(NetdevRef {
                        ifindex: 1_000_000 + i as u32,
                        name: format!("new{i}"),
                    });
                    p
                })
                .collect();
            measured_loop(calls, &mut |i| {
                let p = &events[i];
                k.add_port_61(p);
                let nd = p.netdev.as_ref().unwrap();
                k.link_new(&LinkInfo {
                    ifindex: nd.ifindex,
                    name: nd.name.clone(),
                    mac: None,
                });
                black_box(src.drain(&mut table).ok());
            });
        }
        "cref-recv" => {
            let mut r = CRefRecv::new().expect("netlink sockets");
            measured_loop(calls, &mut |_| {
                black_box(r.poll_twice());
            });
        }
        other => panic!("unknown child workload {other}"),
    }
}

/// Syscalls per call: strace -f -c of a child doing `calls` calls minus one
/// doing none (same setup).  `None` without strace.
fn syscalls_per_call(what: &str, ports: usize, calls: usize) -> Option<f64> {
    let total = |n: usize| -> Option<u64> {
        let out = std::env::temp_dir().join(format!(
            "ovn-vif-rs-bench-strace-{}-{what}-{n}.txt",
            std::process::id()
        ));
        let st = Command::new("strace")
            .args(["-f", "-c", "-o"])
            .arg(&out)
            .arg(std::env::current_exe().ok()?)
            .args(["child", what, &ports.to_string(), &n.to_string()])
            .env("OVN_VIF_RS_LOG", "off")
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
        let text = std::fs::read_to_string(&out).ok()?;
        let _ = std::fs::remove_file(&out);
        // "100.00    0.000123           1       123         4 total"
        let line = text
            .lines()
            .rev()
            .find(|l| l.trim_end().ends_with("total"))?;
        let cols: Vec<&str> = line.split_whitespace().collect();
        // columns: % time, seconds, usecs/call, calls, [errors], syscall
        cols.get(3)?.parse().ok()
    };
    let a = total(0)?;
    let b = total(calls)?;
    Some((b as f64 - a as f64) / calls as f64)
}

/// Instructions per call from callgrind, collecting only `measured_loop`.
fn instructions_per_call(what: &str, ports: usize, calls: usize) -> Option<f64> {
    callgrind_per_call(what, ports, calls, false).map(|(ir, _)| ir)
}

/// (instructions, L1 data read misses) per call from callgrind, collecting
/// only `measured_loop`; misses need `--cache-sim=yes` (callgrind's model
/// of this machine's L1d: 48 KB, 12-way, 64-byte lines), else NaN.
fn callgrind_per_call(
    what: &str,
    ports: usize,
    calls: usize,
    cache_sim: bool,
) -> Option<(f64, f64)> {
    let out = std::env::temp_dir().join(format!(
        "ovn-vif-rs-bench-cg-{}-{what}-{ports}.out",
        std::process::id()
    ));
    let st = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*measured_loop*",
            if cache_sim {
                "--cache-sim=yes"
            } else {
                "--cache-sim=no"
            },
        ])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().ok()?)
        .args(["child", what, &ports.to_string(), &calls.to_string()])
        .env("OVN_VIF_RS_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    let events: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("events:"))?
        .split_whitespace()
        .collect();
    let totals: Vec<u64> = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })?
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let get = |name: &str| {
        events
            .iter()
            .position(|e| *e == name)
            .and_then(|i| totals.get(i))
            .map(|&v| v as f64 / calls as f64)
    };
    Some((get("Ir")?, get("D1mr").unwrap_or(f64::NAN)))
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.prec$}"))
}

// ---------------------------------------------------------------------------
// Sections.

struct Opts {
    sizes: Vec<usize>,
    calls: usize,
    strace: bool,
    callgrind: bool,
}

/// (ports, vtable prepare median ns, cached median ns, instr/call,
/// OVN-data floor median ns).
type PrepareRow = (usize, f64, f64, Option<f64>, f64);

thread_local! {
    /// (ports, vtable prepare median ns, cached median ns, instr/call,
    /// OVN-data floor median ns).
    static PREPARE: std::cell::RefCell<Vec<PrepareRow>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// What any provider pays to read an lport's options, without deciding
/// anything: walk the smap and measure every key and value (as smap_get of
/// each key would touch them), plus the lport name.  On thousands of
/// shuffled lports this is mostly cache misses on OVN's data.
fn touch_options(ctx: &vif_plug_port_ctx_in) -> usize {
    // SAFETY: lport_name is a NUL-terminated string owned by `Lports`.
    let mut n = unsafe { std::ffi::CStr::from_ptr(ctx.lport_name) }
        .to_bytes()
        .len();
    let h = &ctx.lport_options.map;
    for b in 0..=h.mask {
        // SAFETY: the bench's smaps have mask + 1 bucket pointers.
        let mut node = unsafe { *h.buckets.add(b) };
        while !node.is_null() {
            let sn = node.cast::<smap_node>();
            // SAFETY: every node is the first member of a live smap_node
            // whose key and value are NUL-terminated strings.
            unsafe {
                n += std::ffi::CStr::from_ptr((*sn).key).to_bytes().len();
                n += std::ffi::CStr::from_ptr((*sn).value).to_bytes().len();
                node = (*node).next;
            }
        }
    }
    n
}

fn section_prepare(o: &Opts) {
    println!("\n## prepare through the C vtable (run seen: hits never drain)\n");
    println!(
        "| ports | lports | prepare median ns | p99 ns | bulk mean ns | OVN-data floor median ns | one lport (cached) median ns \
         | syscalls/call | instr/call | prepare+ctx_destroy median ns | p99 ns | instr/call \
         | no-run host median ns | syscalls per 1M calls |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut misses = Vec::new();
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let reqs = vf_requests(&layout);
        let lp = build_lports(&reqs);
        let nl = lp.ctx.len();
        let mut outs: Vec<_> = lp.ctx.iter().map(|_| new_ctx_out()).collect();
        let (hit, hot, cycle, norun, indexed, floor);
        {
            let loaded = Loaded::new(&layout, "prep");
            // No run yet: the stock-OVN host (a drain per 100 ms at most).
            for (c, o) in lp.ctx.iter().zip(outs.iter_mut()) {
                assert!(prepare(c, o), "generated request did not resolve");
            }
            norun = time_calls(o.calls, |i| {
                black_box(prepare(&lp.ctx[i % nl], &mut outs[i % nl]));
            });
            loaded.run();
            hit = time_calls(o.calls, |i| {
                black_box(prepare(&lp.ctx[i % nl], &mut outs[i % nl]));
            });
            floor = time_calls(o.calls, |i| {
                black_box(touch_options(&lp.ctx[i % nl]));
            });
            // The same lport over and over: everything in cache, the
            // provider's own cost without the misses on OVN's data.
            hot = time_calls(o.calls, |_| {
                black_box(prepare(&lp.ctx[0], &mut outs[0]));
            });
            cycle = time_calls(o.calls, |i| {
                let c = &lp.ctx[i % nl];
                let mut out = new_ctx_out();
                black_box(prepare(c, &mut out));
                ctx_destroy(c, &mut out);
            });
            indexed = snapshot::parse(&snapshot_text(&layout), false)
                .map(|t| t.len())
                .unwrap_or(0);
            for (c, out) in lp.ctx.iter().zip(outs.iter_mut()) {
                ctx_destroy(c, out);
            }
        }
        let sc_calls = 100_000;
        let sys_hit = o
            .strace
            .then(|| syscalls_per_call("hit", n, sc_calls))
            .flatten();
        let sys_norun = o
            .strace
            .then(|| syscalls_per_call("hit-norun", n, sc_calls))
            .flatten();
        let ir_hit = o
            .callgrind
            .then(|| instructions_per_call("hit", n, 20_000))
            .flatten();
        let ir_cycle = o
            .callgrind
            .then(|| instructions_per_call("cycle", n, 20_000))
            .flatten();
        println!(
            "| {indexed} | {nl} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {:.0} | {:.0} | {} | {:.0} | {} |",
            hit.median,
            hit.p99,
            hit.mean,
            floor.median,
            hot.median,
            fmt_opt(sys_hit, 4),
            fmt_opt(ir_hit, 0),
            cycle.median,
            cycle.p99,
            fmt_opt(ir_cycle, 0),
            norun.median,
            fmt_opt(sys_norun.map(|v| v * 1e6), 0),
        );
        if o.callgrind {
            let hit = callgrind_per_call("hit", n, 20_000, true);
            let floor = callgrind_per_call("floor", n, 20_000, true);
            misses.push((n, hit, floor));
        }
        PREPARE.with(|p| {
            p.borrow_mut()
                .push((n, hit.median, hot.median, ir_hit, floor.median));
        });
    }
    if misses.is_empty() {
        return;
    }
    println!(
        "\nL1 data read misses per call (callgrind --cache-sim=yes, 20,000 calls of the \
         shuffled walk; its model: 48 KB 12-way L1d):\n"
    );
    println!("| ports | hit instr/call | hit D1 misses/call | OVN-data floor instr/call | floor D1 misses/call |");
    println!("|---|---|---|---|---|");
    for (n, hit, floor) in misses {
        println!(
            "| {n} | {} | {} | {} | {} |",
            fmt_opt(hit.map(|h| h.0), 0),
            fmt_opt(hit.map(|h| h.1), 1),
            fmt_opt(floor.map(|h| h.0), 0),
            fmt_opt(floor.map(|h| h.1), 1),
        );
    }
}

/// prepare as ovn-controller really calls it.  `build_port_ctx()` in
/// OVN's controller/vif-plug.c builds a fresh ctx_in for every call:
/// `xstrdup()` of the lport name and `smap_clone()` of the Port_Binding's
/// options, then prepare.  So prepare reads OVN data that was written a
/// moment before (in cache); the misses on the Port_Binding's own options,
/// cold in a walk over thousands of lports, are the clone's, which is OVN's
/// cost and timed apart here.  Same layouts, requests and walk as
/// `section_prepare`, run seen.
fn section_as_ovn_calls(o: &Opts) {
    println!(
        "\n## prepare as ovn-controller calls it (a fresh ctx_in per call: \
         xstrdup(lport) + smap_clone(Port_Binding options), as build_port_ctx() does)\n"
    );
    println!(
        "| ports | lports | prepare median ns | p99 ns | OVN's build_port_ctx median ns \
         | build + prepare + ctx_destroy + free median ns |"
    );
    println!("|---|---|---|---|---|---|");
    let tf = timer_floor();
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let reqs = vf_requests(&layout);
        // The Port_Binding rows: options and names as the IDL holds them.
        let pbs: Vec<(String, Vec<(String, String)>)> = reqs
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("lsp-{i:05}"), lsp_options(r)))
            .collect();
        let nl = pbs.len();
        let loaded = Loaded::new(&layout, "asovn");
        loaded.run();
        let (mut prep, mut build, mut whole) = (
            Vec::with_capacity(o.calls),
            Vec::with_capacity(o.calls),
            Vec::with_capacity(o.calls),
        );
        for i in 0..o.calls {
            let (name, opts) = &pbs[i % nl];
            let t0 = Instant::now();
            // build_port_ctx(): xstrdup + smap_clone.
            let name = black_box(CString::new(name.as_str()).unwrap());
            let clone = build_smap(opts);
            let ctx = ctx_in(&name, &clone);
            let mut out = new_ctx_out();
            let t1 = Instant::now();
            let ok = black_box(prepare(&ctx, &mut out));
            let t2 = Instant::now();
            assert!(ok, "generated request did not resolve");
            ctx_destroy(&ctx, &mut out);
            drop(clone);
            drop(name);
            let t3 = Instant::now();
            build.push((t1 - t0).as_nanos() as f64 - tf);
            prep.push((t2 - t1).as_nanos() as f64 - tf);
            whole.push((t3 - t0).as_nanos() as f64 - tf);
        }
        drop(loaded);
        let pct = |v: &mut Vec<f64>, q: usize| {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[v.len() * q / 100].max(0.0)
        };
        println!(
            "| {n} | {nl} | {:.0} | {:.0} | {:.0} | {:.0} |",
            pct(&mut prep, 50),
            pct(&mut prep, 99),
            pct(&mut build, 50),
            pct(&mut whole, 50),
        );
    }
}

fn section_pending(o: &Opts) {
    if !o.callgrind {
        return;
    }
    let n = o.sizes[0];
    let none = instructions_per_call("hit", n, 20_000);
    let pending = instructions_per_call("hit-pending", n, 20_000);
    println!(
        "\nHit while another lport is pending (the refused map is not empty), {n} ports: \
         {} instr/call (none pending: {}).",
        fmt_opt(pending, 0),
        fmt_opt(none, 0)
    );
}

fn section_baselines(o: &Opts, cref_recv_ns: f64) {
    println!("\n## lookup alone vs baselines (VF requests, shuffled)\n");
    println!(
        "| ports | ours lookup median ns | mean ns | instr | ours hit index (lookup::hit) mean ns | instr \
         | C-ref algorithm mean ns | instr \
         | naive scan mean ns | instr | naive / ours (ns) | C-ref prepare (lookup + 2 recv + OVN-data floor) / ours vtable prepare (ns medians) | ours vtable prepare instr |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let reqs = vf_requests(&layout);
        let nr = reqs.len();
        let table = snapshot::parse(&snapshot_text(&layout), false).unwrap();
        let cref = CRef::new(&layout);
        let naive = Naive::new(&layout);
        for r in reqs.iter().take(64) {
            let ours = lookup::lookup(&table, r).map(|f| f.name.to_owned()).ok();
            assert_eq!(ours.as_deref(), cref.lookup(r), "C-ref disagrees on {r}");
            assert_eq!(ours.as_deref(), naive.lookup(r), "naive disagrees on {r}");
            let hit = lookup::hit(&table, r).map(|(_, n)| n.to_text());
            assert_eq!(ours, hit, "the hit index disagrees on {r}");
        }
        let ours = time_calls(o.calls, |i| {
            black_box(lookup::lookup(&table, &reqs[i % nr]).is_ok());
        });
        let hit = time_calls(o.calls, |i| {
            black_box(lookup::hit(&table, &reqs[i % nr]).is_some());
        });
        let c = time_calls(o.calls, |i| {
            black_box(cref.lookup(&reqs[i % nr]));
        });
        let naive_calls = (o.calls * 1024 / n).clamp(200, o.calls);
        let nv = time_calls(naive_calls, |i| {
            black_box(naive.lookup(&reqs[i % nr]));
        });
        // Our full vtable prepare for the same requests, from the section
        // above (for the last ratios).
        // The C reference reads the same smaps (smap_get), so its prepare
        // pays the OVN-data floor too.
        let (vt_median, vt_ir, floor) = PREPARE.with(|p| {
            p.borrow()
                .iter()
                .find(|r| r.0 == n)
                .map_or((f64::NAN, None, 0.0), |r| (r.1, r.3, r.4))
        });
        let ir = |w| {
            o.callgrind
                .then(|| {
                    instructions_per_call(w, n, if w == "naive-lookup" { 200 } else { 20_000 })
                })
                .flatten()
        };
        let cref_ir = ir("cref-lookup");
        println!(
            "| {} | {:.0} | {:.0} | {} | {:.0} | {} | {:.0} | {} | {:.0} | {} | {:.0}x | {:.2}x | {} |",
            table.len(),
            ours.median,
            ours.mean,
            fmt_opt(ir("lookup"), 0),
            hit.mean,
            fmt_opt(ir("hit-lookup"), 0),
            c.mean,
            fmt_opt(cref_ir, 0),
            nv.mean,
            fmt_opt(ir("naive-lookup"), 0),
            nv.mean / ours.mean,
            (c.median + cref_recv_ns + floor) / vt_median,
            fmt_opt(vt_ir, 0),
        );
    }
    // The C reference's PF-only request: a linear scan of bus_dev_table.
    let n = *o.sizes.last().unwrap();
    let layout = gen_ports(n);
    let devs = dev_numbers(&layout);
    let last_pf = layout
        .iter()
        .rev()
        .find(|p| p.flavour == Flavour::PciPf)
        .and_then(|p| request_of(p, &devs))
        .unwrap();
    let table = snapshot::parse(&snapshot_text(&layout), false).unwrap();
    let cref = CRef::new(&layout);
    let ours = time_calls(o.calls, |_| {
        black_box(lookup::lookup(&table, &last_pf).is_ok());
    });
    let c = time_calls(o.calls, |_| {
        black_box(cref.lookup(&last_pf));
    });
    println!(
        "\nPF request (last PF of {n} ports; the C reference scans {} PHYSICAL/PCI_PF nodes): \
         ours {:.0} ns, C-ref algorithm {:.0} ns",
        cref.bus_dev.len(),
        ours.mean,
        c.mean
    );
}

fn section_idle(o: &Opts) -> f64 {
    println!("\n## nothing pending: miss path, run, kernel drain, the C reference's recv pair\n");
    println!("| what | median ns | p99 ns | mean ns | syscalls/call | instr/call |");
    println!("|---|---|---|---|---|---|");
    let n = 1024;
    let layout = gen_ports(n);
    let calls = o.calls.min(20_000);
    let row = |name: &str, t: &Timing, what: &str| {
        let sc = o
            .strace
            .then(|| syscalls_per_call(what, n, 20_000))
            .flatten();
        let ir = o
            .callgrind
            .then(|| instructions_per_call(what, n, 2_000))
            .flatten();
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {} | {} |",
            t.median,
            t.p99,
            t.mean,
            fmt_opt(sc, 3),
            fmt_opt(ir, 0)
        );
    };
    {
        let miss = [Request {
            pf_mac: pf_mac(0, 1, 0),
            function: Function::Vf(60000),
        }];
        let lp = build_lports(&miss);
        let loaded = Loaded::new(&layout, "idle");
        loaded.run();
        let mut out = new_ctx_out();
        let t = time_calls(calls, |_| {
            black_box(prepare(&lp.ctx[0], &mut out));
        });
        row(
            "prepare miss (snapshot source: drain = 1 inotify read)",
            &t,
            "miss",
        );
        let t = time_calls(calls, |_| {
            black_box(loaded.run());
        });
        row("run, nothing pending (snapshot source)", &t, "run");
    }
    let (mut src, mut table) = hybrid_source(&layout).expect("kernel source");
    let t = time_calls(calls, |_| {
        black_box(src.drain(&mut table).ok());
    });
    row(
        "KernelSource::drain, nothing pending (real netlink monitors)",
        &t,
        "kdrain",
    );
    let mut r = CRefRecv::new().expect("netlink sockets");
    assert_eq!(r.poll_twice(), 2, "expected two EAGAIN receives");
    let recv = time_calls(calls, |_| {
        black_box(r.poll_twice());
    });
    let t = &recv;
    row(
        "C reference per prepare: 2 x recv(MSG_DONTWAIT) = EAGAIN (NETLINK_ROUTE)",
        t,
        "cref-recv",
    );
    let m = std::sync::Mutex::new(0u64);
    let t = time_calls(calls, |_| {
        *black_box(&m).lock().unwrap() += 1;
    });
    println!(
        "\nFor scale: an uncontended std Mutex lock + unlock (the provider's state lock, \
         taken once per prepare): median {:.0} ns, bulk mean {:.1} ns.",
        t.median, t.mean
    );
    recv.median
}

/// A kernel-like dump of `ports` as datagrams (≤ 32 KiB each, like the
/// kernel's dump skbs), each message `DEVLINK_CMD_NEW` + `NLM_F_MULTI`.
fn dump_datagrams(ports: &[DevlinkPort], family: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for p in ports {
        let m = emit_port_message(family, NLM_F_MULTI, 7, DEVLINK_CMD_NEW, p);
        if cur.len() + m.len() > 32 * 1024 {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(&m);
    }
    out.push(cur);
    out
}

fn parse_dump(dgrams: &[Vec<u8>], family: u16) -> Vec<DevlinkPort> {
    let mut v = Vec::new();
    for d in dgrams {
        for m in wire::messages(d) {
            let m = m.expect("valid message");
            if m.ty != family {
                continue;
            }
            if let Ok(Some(PortEvent::New(p))) = parse_port_dump_payload(m.payload) {
                v.push(p);
            }
        }
    }
    v
}

fn section_dump(o: &Opts) {
    println!("\n## parsing + indexing a devlink dump\n");
    let n = 4096;
    let family = 0x15;
    let layout = gen_ports(n);
    let dgrams = dump_datagrams(&layout, family);
    let bytes: usize = dgrams.iter().map(Vec::len).sum();
    let reps = if o.calls < 100_000 { 5 } else { 20 };
    let mut best_parse = f64::MAX;
    let mut best_index = f64::MAX;
    let mut best_load = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let ports = black_box(parse_dump(&dgrams, family));
        let tp = t.elapsed().as_secs_f64();
        assert_eq!(ports.len(), n);
        let t = Instant::now();
        let mut table = Table::new(false);
        for p in ports {
            table.upsert_port(p);
        }
        black_box(&table);
        let ti = t.elapsed().as_secs_f64();
        best_parse = best_parse.min(tp);
        best_index = best_index.min(ti);
        // The whole KernelSource::load over the fake kernel (includes the
        // fake's emission of every message, so a lower bound on speed).
        let t = Instant::now();
        let (_src, table) = hybrid_source(&layout).expect("kernel source");
        best_load = best_load.min(t.elapsed().as_secs_f64());
        assert_eq!(table.len(), n);
    }
    println!(
        "{n} ports, {} datagrams, {bytes} bytes; best of {reps}:\n\
         - parse only: {:.2} ms = {:.2} M ports/s\n\
         - index only (Table::upsert_port): {:.2} ms = {:.2} M ports/s\n\
         - parse + index: {:.2} ms = {:.2} M ports/s\n\
         - KernelSource::load (fake devlink incl. its emit, real rtnetlink link dump): {:.2} ms = {:.2} M ports/s",
        dgrams.len(),
        best_parse * 1e3,
        n as f64 / best_parse / 1e6,
        best_index * 1e3,
        n as f64 / best_index / 1e6,
        (best_parse + best_index) * 1e3,
        n as f64 / (best_parse + best_index) / 1e6,
        best_load * 1e3,
        n as f64 / best_load / 1e6,
    );
}

fn section_events(o: &Opts) {
    if !o.callgrind {
        return;
    }
    println!("\n## applying a kernel event (fake kernel: 6.1's PORT_NEW notset + PORT_NEW eth + RTM_NEWLINK for a new VF, one drain)\n");
    for n in [4096, 65536] {
        println!(
            "- {n} ports: {} instructions per event (callgrind)",
            fmt_opt(instructions_per_call("kevent", n, 50), 0)
        );
    }
}

fn section_memory(o: &Opts) {
    println!("\n## memory per indexed port (counting allocator, live bytes)\n");
    println!("| ports | ours: Table bytes | per port | C-ref algorithm in Rust: per port | naive list: per port |");
    println!("|---|---|---|---|---|");
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let text = snapshot_text(&layout);
        let before = live();
        let table = snapshot::parse(&text, false).unwrap();
        let ours = live() - before;
        let before = live();
        let cref = CRef::new(&layout);
        let c = live() - before;
        let before = live();
        let naive = Naive::new(&layout);
        let nv = live() - before;
        println!(
            "| {} | {ours} | {:.0} | {:.0} | {:.0} |",
            table.len(),
            ours as f64 / table.len() as f64,
            c as f64 / n as f64,
            nv as f64 / n as f64
        );
        drop((table, cref, naive));
    }
}

// ---------------------------------------------------------------------------
// In the VM (tests/vm/bench-guest.sh): the real kernel's devlink with
// devlink_sim ports.

fn median_ms(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2] * 1e3
}

fn time_process(reps: usize, argv: &[&str]) -> Option<(f64, f64)> {
    let mut v = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let st = Command::new(argv[0])
            .args(&argv[1..])
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
        v.push(t.elapsed().as_secs_f64());
    }
    let best = v.iter().cloned().fold(f64::MAX, f64::min) * 1e3;
    Some((median_ms(&mut v), best))
}

/// `vm-dump REPS [CLI]`: full dumps of the kernel's devlink ports (and
/// links) through `KernelSource::load`, against `devlink -j port show` of
/// the same ports in the same run.
fn vm_dump(reps: usize, cli: Option<&str>) {
    let mut src = KernelSource::open().expect("opening the kernel source (devlink)");
    let mut v = Vec::new();
    let mut ports = 0;
    for _ in 0..reps {
        let t = Instant::now();
        let table = src.load().expect("dump");
        v.push(t.elapsed().as_secs_f64());
        ports = table.len();
    }
    let best = v.iter().cloned().fold(f64::MAX, f64::min) * 1e3;
    let ours = median_ms(&mut v);
    println!(
        "| KernelSource::load (devlink port dump + rtnetlink link dump + parse + index), in process \
         | {ports} | {ours:.1} | {best:.1} | {:.0} |",
        ports as f64 / (ours / 1e3)
    );
    let dl = time_process(reps, &["devlink", "-j", "port", "show"]);
    if let Some((m, b)) = dl {
        println!(
            "| `devlink -j port show` (process) | {ports} | {m:.1} | {b:.1} | {:.0} |",
            ports as f64 / (m / 1e3)
        );
    }
    let cl = cli.and_then(|c| time_process(reps, &[c, "dump", "--json"]));
    if let Some((m, b)) = cl {
        println!(
            "| `ovn-vif-rs dump --json` (process) | {ports} | {m:.1} | {b:.1} | {:.0} |",
            ports as f64 / (m / 1e3)
        );
    }
    println!();
    if let Some((m, _)) = dl {
        println!(
            "ratio devlink -j port show / KernelSource::load (medians): {:.1}x",
            m / ours
        );
        if let Some((c, _)) = cl {
            println!(
                "ratio devlink -j port show / ovn-vif-rs dump --json (medians): {:.1}x",
                m / c
            );
        }
    }
}

/// `vm-latency REPS PF_MAC DEBUGFS_DIR`: add a VF through the simulator's
/// debugfs and poll `prepare` (through the vtable, kernel source) until it
/// resolves; in the run-seen mode (run + prepare per poll, as a patched
/// ovn-controller's loop) and the no-run mode (prepare only).
fn vm_latency(reps: usize, mac: &str, dbg: &str) {
    std::env::remove_var(ovn_vif_rs::sources::ENV_SNAPSHOT);
    let mac = ovn_vif_rs::options::parse_mac(mac).expect("PF MAC");
    println!(
        "| mode | rep | debugfs write ms | write -> resolves ms | polls | in run+prepare ms |"
    );
    println!("|---|---|---|---|---|---|");
    let mut summary = Vec::new();
    for (mode, with_run) in [("run seen", true), ("no run", false)] {
        let init = class().init.unwrap();
        // SAFETY: plain call of the library's own entry point.
        assert_eq!(unsafe { init() }, 0, "init (kernel source) failed");
        let run = || {
            let f = class().run.unwrap();
            // SAFETY: `run` ignores its class argument.
            unsafe { f(class() as *const vif_plug_class as *mut vif_plug_class) }
        };
        if with_run {
            run();
        }
        // The 4,096 netdevs were created while udevd was stopped, so udev
        // never wrote their database files: the provider holds them as
        // "not settled" until its 30 s settle timeout, and every miss
        // re-stats them all.  Wait that out (one miss after it declares
        // them settled) so the figures are the steady state's.
        let settle = std::env::var("BENCH_SETTLE_WAIT_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(31u64);
        if settle > 0 {
            std::thread::sleep(std::time::Duration::from_secs(settle));
            let lp = build_lports(&[Request {
                pf_mac: mac,
                function: Function::Vf(65535),
            }]);
            let mut out = new_ctx_out();
            let t = Instant::now();
            prepare(&lp.ctx[0], &mut out);
            println!(
                "| {mode} | settle | (first miss after the settle timeout: {:.1} ms) |  |  |  |",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        let mut lat = Vec::new();
        for k in 0..reps {
            let vf = 60000 + k as u16 + if with_run { 0 } else { 1000 };
            let req = Request {
                pf_mac: mac,
                function: Function::Vf(vf),
            };
            let lp = build_lports(&[req]);
            let mut out = new_ctx_out();
            assert!(!prepare(&lp.ctx[0], &mut out), "VF {vf} exists already");
            let line = format!("vf controller=1 pf=0 vf={vf} external=1");
            let t0 = Instant::now();
            std::fs::write(format!("{dbg}/port_add"), &line).expect("debugfs port_add");
            let t1 = Instant::now();
            let mut polls = 0u64;
            let mut inside = 0f64;
            loop {
                polls += 1;
                let tp = Instant::now();
                if with_run {
                    run();
                }
                let ok = prepare(&lp.ctx[0], &mut out);
                inside += tp.elapsed().as_secs_f64();
                if ok {
                    break;
                }
                if t1.elapsed().as_secs() > 60 {
                    println!("| {mode} | {k} | VF {vf} not visible after 60 s |  |  |");
                    break;
                }
            }
            let t2 = Instant::now();
            ctx_destroy(&lp.ctx[0], &mut out);
            let w = (t1 - t0).as_secs_f64() * 1e3;
            let l = (t2 - t1).as_secs_f64() * 1e3;
            lat.push(l / 1e3);
            println!(
                "| {mode} | {k} | {w:.2} | {l:.3} | {polls} | {:.3} |",
                inside * 1e3
            );
        }
        summary.push((mode, median_ms(&mut lat), lat[lat.len() * 9 / 10] * 1e3));
        let destroy = class().destroy.unwrap();
        // SAFETY: plain call of the library's own entry point.
        unsafe { destroy() };
    }
    println!();
    for (mode, m, p90) in summary {
        println!("{mode}: kernel event -> visible to lookup: median {m:.3} ms, p90 {p90:.3} ms");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("vm-dump") => {
            vm_dump(args[1].parse().unwrap(), args.get(2).map(String::as_str));
            return;
        }
        Some("vm-latency") => {
            vm_latency(args[1].parse().unwrap(), &args[2], &args[3]);
            return;
        }
        _ => {}
    }
    if args.first().map(String::as_str) == Some("child") {
        let what = &args[1];
        let ports: usize = args[2].parse().unwrap();
        let calls: usize = args[3].parse().unwrap();
        child(what, ports, calls);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let no_tools = args.iter().any(|a| a == "--no-tools");
    // --prepare-only [--sizes=N,M]: only the vtable prepare table (for
    // iterating on the hit path).
    let prepare_only = args.iter().any(|a| a == "--prepare-only");
    let sizes: Option<Vec<usize>> = args
        .iter()
        .find_map(|a| a.strip_prefix("--sizes="))
        .map(|v| {
            v.split(',')
                .map(|n| n.parse().expect("--sizes=N,M"))
                .collect()
        });
    let o = Opts {
        sizes: sizes.unwrap_or_else(|| {
            if quick {
                vec![1024, 16384]
            } else {
                vec![1024, 16384, 65536]
            }
        }),
        calls: if quick { 50_000 } else { 400_000 },
        strace: !no_tools && have("strace"),
        callgrind: !no_tools && !quick && have("valgrind"),
    };
    std::env::set_var("OVN_VIF_RS_LOG", "warn");
    println!("# ovn-vif-rs host benchmarks (benches/hotpath.rs)");
    println!(
        "calls per timing: {}; strace: {}; callgrind: {}; timer floor {:.0} ns (subtracted from per-call samples)",
        o.calls,
        o.strace,
        o.callgrind,
        timer_floor()
    );
    let t0 = Instant::now();
    if prepare_only {
        section_prepare(&o);
        section_as_ovn_calls(&o);
        return;
    }
    let recv_ns = section_idle(&o);
    section_prepare(&o);
    section_as_ovn_calls(&o);
    section_pending(&o);
    section_baselines(&o, recv_ns);
    section_dump(&o);
    section_events(&o);
    section_memory(&o);
    println!(
        "\n(total {:.1} s; allocations counted: {})",
        t0.elapsed().as_secs_f64(),
        ALLOCS.load(Ordering::Relaxed)
    );
}
