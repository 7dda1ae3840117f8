//! The provider through its exported C vtable (`vif_plug_provider_classes[0]`,
//! called in-process with OVS-layout smaps, as ovn-controller calls it) on
//! the provider's own kernel source, against the real kernel devlink code of
//! the VM test bed (tests/kmod's devlink_sim).  No snapshot.
//!
//! - Always (host too): the in-process accessors of the provider's state
//!   (`unixctl::show_loaded`, `unixctl::table_text`) agree, on a snapshot.
//! - With `OVN_VIF_RS_KERNEL_TESTS=1` (in the VM, as root, devlink_sim
//!   loaded: `scripts/vm/run.sh --kmod -- env OVN_VIF_RS_KERNEL_TESTS=1
//!   <this test binary> --test-threads=1`; scripts/test-stages/vm.sh does):
//!   - a PF's `hw_addr` changed with `devlink port function set`: the new
//!     pf-mac plugs the PF and its VFs, the old one is declined, no restart;
//!   - a udev rule renames new representors by `ATTR{phys_port_name}`: the
//!     provider only ever hands out the final name;
//!   - a device without `pcipf` ports (a ConnectX-6 in switchdev mode): VFs
//!     resolve through the uplink's MAC, a PF request is refused with
//!     `pf-has-no-representor`, nothing is plugged wrongly, and a second,
//!     normal device keeps working;
//!   - 1,000 add/remove/rename cycles of VFs, SFs and now and then a PF:
//!     after every cycle every port of the kernel resolves through the
//!     vtable to its netdev, every function removed earlier is declined,
//!     and the provider's table (its `show` text) equals a fresh dump's.
//!
//! The provider is a process-wide singleton (like ovn-controller's), so the
//! tests take one lock and init/destroy it each.

use std::collections::{BTreeMap, BTreeSet};

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ovn_vif_rs::ffi::types::vif_plug_class;
use ovn_vif_rs::ffi::unixctl;
use ovn_vif_rs::kernel::KernelSource;
use ovn_vif_rs::netlink::socket::{nlmsg_error, NetlinkSocket, Transport, RECV_BUF_LEN};
use ovn_vif_rs::netlink::wire::{self, MsgBuilder, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
use ovn_vif_rs::rtnl::parse::{IFLA_IFNAME, RTM_NEWLINK};

use ovn_vif_rs::testing::ovs::{class, create};
// A fixed seed, so a failure replays.
use ovn_vif_rs::testing::Rng;

#[path = "common/sim.rs"]
mod sim;
use sim::{
    ifindex_of, serial, sim_add, sim_del, sim_del_device, sim_fresh_device, sim_port, sim_ports,
    vm_test, write, SimPort,
};

// ---------------------------------------------------------------------------
// The vtable, as ovn-controller drives it.

/// The provider between `init` and `destroy` (dropped = destroyed, also
/// when a check panics).
struct Loaded;

impl Loaded {
    /// `init` on the kernel source (or on `snapshot`).
    fn init(snapshot: Option<&str>) -> Loaded {
        match snapshot {
            Some(p) => std::env::set_var(ovn_vif_rs::sources::ENV_SNAPSHOT, p),
            None => std::env::remove_var(ovn_vif_rs::sources::ENV_SNAPSHOT),
        }
        let init = class().init.expect("init");
        // SAFETY: plain call of the library's own entry point.
        let rc = unsafe { init() };
        assert_eq!(rc, 0, "init failed with errno {rc}");
        Loaded
    }

    /// `run` (what ovn-controller with ovn-patch calls every iteration):
    /// drains every pending kernel event.
    fn run(&self) -> bool {
        let run = class().run.expect("run");
        // SAFETY: `run` ignores its class argument; the pointer is the
        // library's own class.
        unsafe { run(class() as *const vif_plug_class as *mut vif_plug_class) }
    }

    /// One CREATE `prepare` for `lport` with `req`'s options; on true the
    /// name is copied and `ctx_destroy` frees it, as OVN does.
    fn prepare(&self, lport: &str, req: &Req) -> Option<String> {
        create(lport, &req.options())
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let destroy = class().destroy.expect("destroy");
        // SAFETY: plain call of the library's own entry point.
        unsafe { destroy() };
    }
}

/// A Logical_Switch_Port's plug request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Req {
    Pf(String),
    Vf(String, u32),
    Sf(String, u32),
}

impl Req {
    /// The Port_Binding options OVN hands to prepare (its own keys too).
    fn options(&self) -> Vec<(String, String)> {
        let mac = match self {
            Req::Pf(m) | Req::Vf(m, _) | Req::Sf(m, _) => m,
        };
        let mut v = vec![
            ("requested-chassis".to_owned(), "dpu0".to_owned()),
            ("vif-plug-type".to_owned(), "representor".to_owned()),
            ("vif-plug:representor:pf-mac".to_owned(), mac.clone()),
        ];
        match self {
            Req::Pf(_) => {}
            Req::Vf(_, n) => v.push(("vif-plug:representor:vf-num".to_owned(), n.to_string())),
            Req::Sf(_, n) => v.push(("vif-plug:representor:sf-num".to_owned(), n.to_string())),
        }
        v
    }

    /// A stable lport name for the request.
    fn lport(&self) -> String {
        match self {
            Req::Pf(m) => format!("lsp-pf-{m}"),
            Req::Vf(m, n) => format!("lsp-vf{n}-{m}"),
            Req::Sf(m, n) => format!("lsp-sf{n}-{m}"),
        }
    }

    /// The arguments of `vif-plug-representor/lookup` for the request.
    fn lookup_args(&self) -> Vec<String> {
        self.options()
            .into_iter()
            .filter(|(k, _)| k.starts_with("vif-plug:representor:"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The simulator (tests/kmod/README.md) and the kernel.

const ZERO_MAC: &str = "00:00:00:00:00:00";

/// What each request must resolve to on device `ports` (PF MACs unique in
/// the whole kernel): a PCI_PF with a MAC plugs its netdev, a VF/SF plugs
/// its netdev when its PF (same controller and pf number) has a MAC.
fn expected(ports: &[SimPort]) -> BTreeMap<Req, String> {
    let pf_mac: BTreeMap<(u32, u32), &str> = ports
        .iter()
        .filter(|p| p.flavour == "pf" && p.hw_addr != ZERO_MAC)
        .map(|p| ((p.controller, p.pf), p.hw_addr.as_str()))
        .collect();
    let mut want = BTreeMap::new();
    for p in ports {
        let Some(mac) = pf_mac.get(&(p.controller, p.pf)) else {
            continue;
        };
        let req = match p.flavour.as_str() {
            "pf" => Req::Pf(mac.to_string()),
            "vf" => Req::Vf(mac.to_string(), p.num),
            "sf" => Req::Sf(mac.to_string(), p.num),
            _ => continue,
        };
        want.insert(req, p.netdev.clone());
    }
    want
}

/// Waits (up to 20 s) until udev, when it runs, has finished with every
/// netdev of `ports` (its database file exists: the provider's settled
/// rule, src/rtnl/settled.rs).
fn wait_udev_done(ports: &[SimPort]) {
    if !Path::new("/run/udev/control").exists() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    for p in ports {
        let db = format!(
            "/run/udev/data/n{}",
            ifindex_of(&p.netdev).expect("ifindex")
        );
        while !Path::new(&db).exists() {
            assert!(Instant::now() < deadline, "udev never finished with {p:?}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn udev_settle() {
    let st = Command::new("udevadm")
        .args(["settle", "--timeout=30"])
        .status();
    assert!(st.is_ok_and(|s| s.success()), "udevadm settle failed");
}

/// Renames netdev `ifindex` to `new` with one RTM_NEWLINK (what `ip link
/// set name` sends; an `ip` exec costs ~230 ms under TCG).
fn rename(rt: &mut NetlinkSocket, ifindex: u32, new: &str) {
    let mut ifinfo = [0u8; 16];
    ifinfo[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    let msg = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0)
        .raw(&ifinfo)
        .str(IFLA_IFNAME, new)
        .finish();
    rt.send(&msg).unwrap();
    let mut buf = vec![0u8; RECV_BUF_LEN];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rt.recv(&mut buf) {
            Ok(n) => {
                for m in wire::messages(&buf[..n]) {
                    let m = m.unwrap();
                    if m.ty == NLMSG_ERROR {
                        nlmsg_error(&m).unwrap_or_else(|e| panic!("rename to {new}: {e}"));
                        return;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no ack for the rename to {new}");
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("rename to {new}: {e}"),
        }
    }
}

/// Calls prepare (no `run`: a stock ovn-controller) until it plugs or 15 s
/// pass; returns the names handed out: none after 15 s, else the one the
/// first plug gave (a host plugs the first name it gets).
fn prepare_until_plugged(p: &Loaded, req: &Req) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen: Vec<String> = Vec::new();
    loop {
        if let Some(n) = p.prepare(&req.lport(), req) {
            seen.push(n);
            return seen;
        }
        if Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Calls prepare (no `run`) until it declines or 15 s pass; true if it
/// declined.
fn prepare_until_declined(p: &Loaded, req: &Req) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while p.prepare(&req.lport(), req).is_some() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

// ---------------------------------------------------------------------------
// Host: the accessors the VM tests rely on.

/// `show_loaded` is the provider's `show`, and its table part is exactly
/// `table_text` of the same table: comparing it with `table_text` of a
/// fresh dump compares the tables.
#[test]
fn show_loaded_renders_the_table_as_table_text_does() {
    let _g = serial();
    assert_eq!(unixctl::show_loaded(), None, "nothing loaded yet");
    let snap = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dpu.snapshot");
    let p = Loaded::init(Some(snap));
    let shown = unixctl::show_loaded().expect("loaded");
    let text = std::fs::read_to_string(snap).unwrap();
    let table =
        ovn_vif_rs::snapshot::parse(&text, ovn_vif_rs::table::LinkPolicy::TrustDevlink).unwrap();
    let part = unixctl::table_text(&table);
    assert!(part.contains("ports (7):"), "{part}");
    assert!(
        shown.ends_with(&part),
        "show:\n{shown}\ntable_text:\n{part}"
    );
    let vf3 = Req::Vf("00:53:00:00:10:00".into(), 3);
    assert_eq!(p.prepare("lsp", &vf3).as_deref(), Some("c1pf0vf3"));
    drop(p);
    assert_eq!(unixctl::show_loaded(), None, "destroyed");
}

// ---------------------------------------------------------------------------
// VM: 1. a PF's hw_addr changes.

#[test]
fn vm_pf_hw_addr_change_moves_its_functions_to_the_new_mac() {
    let Some(_g) = vm_test() else { return };
    const ID: u32 = 11;
    const OLD: &str = "00:53:00:0b:10:00";
    const NEW: &str = "00:53:00:0b:10:99";
    sim_fresh_device(ID);
    sim_add(ID, "physical pf=0");
    sim_add(ID, &format!("pf controller=1 pf=0 external=1 mac={OLD}"));
    sim_add(ID, "vf controller=1 pf=0 vf=0 external=1 count=2");
    sim_add(ID, "sf controller=1 pf=0 sf=5 external=1");
    udev_settle();
    let p = Loaded::init(None);
    let ports = sim_ports(ID);
    let name_of = |flavour: &str, num: u32| sim_port(&ports, flavour, num).netdev.clone();
    let (pf, vf1, sf5) = (name_of("pf", 0), name_of("vf", 1), name_of("sf", 5));
    let pf_index = ports.iter().find(|q| q.flavour == "pf").unwrap().index;
    assert_eq!(p.prepare("pf", &Req::Pf(OLD.into())), Some(pf.clone()));
    assert_eq!(p.prepare("vf1", &Req::Vf(OLD.into(), 1)), Some(vf1.clone()));
    assert_eq!(p.prepare("new-vf1", &Req::Vf(NEW.into(), 1)), None);

    let st = Command::new("devlink")
        .args(["port", "function", "set"])
        .arg(format!("platform/devlink_sim.{ID}/{pf_index}"))
        .args(["hw_addr", NEW])
        .status()
        .unwrap();
    assert!(st.success(), "devlink port function set: {st}");
    let now = sim_ports(ID);
    assert_eq!(
        now.iter().find(|q| q.index == pf_index).unwrap().hw_addr,
        NEW,
        "the simulator took the new hw_addr"
    );

    // A stock host (no run): the miss on the new MAC drains the event.
    assert_eq!(
        prepare_until_plugged(&p, &Req::Vf(NEW.into(), 1)),
        vec![vf1.clone()],
        "VF 1 under the new pf-mac"
    );
    // The PF is still handed to lport "pf" (one function, one lport): the
    // operator updates that LSP's pf-mac.
    assert_eq!(p.prepare("new-pf", &Req::Pf(NEW.into())), None);
    assert_eq!(p.prepare("pf", &Req::Pf(NEW.into())), Some(pf));
    assert_eq!(p.prepare("new-sf5", &Req::Sf(NEW.into(), 5)), Some(sf5));
    assert_eq!(p.prepare("old-vf1", &Req::Vf(OLD.into(), 1)), None);
    assert_eq!(p.prepare("old-pf", &Req::Pf(OLD.into())), None);
    assert_eq!(p.prepare("old-sf5", &Req::Sf(OLD.into(), 5)), None);
    let why = unixctl::lookup_loaded(&Req::Vf(OLD.into(), 1).lookup_args());
    assert!(
        why.as_ref().is_err_and(|s| s.contains("no-pf")),
        "the old MAC is refused as unknown: {why:?}"
    );
    drop(p);
    sim_del_device(ID);
}

// ---------------------------------------------------------------------------
// VM: 2. udev renames new representors.

const UDEV_RULE: &str = "/run/udev/rules.d/70-ovn-vif-rs-test.rules";

/// Removes the test's udev rule (also when a check fails).
struct RuleFile;

impl Drop for RuleFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(UDEV_RULE);
        let _ = Command::new("udevadm")
            .args(["control", "--reload"])
            .status();
    }
}

#[test]
fn vm_udev_rule_rename_hands_out_only_the_final_name() {
    let Some(_g) = vm_test() else { return };
    if !Path::new("/run/udev/control").exists() {
        panic!("udevd is not running in the guest: this test needs it");
    }
    const ID: u32 = 12;
    const MAC: &str = "00:53:00:0c:10:00";
    sim_fresh_device(ID);
    sim_add(ID, &format!("pf controller=3 pf=0 external=1 mac={MAC}"));
    udev_settle();
    // Representors of controller 3 (this test's only) get u<phys_port_name>.
    std::fs::create_dir_all("/run/udev/rules.d").unwrap();
    let _rule = RuleFile;
    write(
        UDEV_RULE,
        "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{phys_port_name}==\"c3pf0[vs]f*\", \
         NAME=\"u$attr{phys_port_name}\"\n",
    );
    let st = Command::new("udevadm")
        .args(["control", "--reload"])
        .status();
    assert!(st.is_ok_and(|s| s.success()), "udevadm control --reload");
    let p = Loaded::init(None);

    let cases = [
        (
            Req::Vf(MAC.into(), 0),
            "vf controller=3 pf=0 vf=0 external=1",
        ),
        (
            Req::Vf(MAC.into(), 7),
            "vf controller=3 pf=0 vf=7 external=1",
        ),
        (
            Req::Sf(MAC.into(), 2),
            "sf controller=3 pf=0 sf=2 external=1",
        ),
    ];
    for (req, line) in &cases {
        assert_eq!(
            p.prepare(&req.lport(), req),
            None,
            "{req:?} before its port"
        );
        sim_add(ID, line);
        let handed_out = prepare_until_plugged(&p, req);
        let want = match req {
            Req::Vf(_, n) => format!("uc3pf0vf{n}"),
            Req::Sf(_, n) => format!("uc3pf0sf{n}"),
            Req::Pf(_) => unreachable!(),
        };
        assert_eq!(
            handed_out,
            vec![want.clone()],
            "{req:?}: only the final name"
        );
        assert_eq!(
            sim_ports(ID).pop().unwrap().netdev,
            want,
            "the kernel has the name udev gave"
        );
    }
    drop(p);
    sim_del_device(ID);
}

// ---------------------------------------------------------------------------
// VM: 3. a device with no pcipf port.

#[test]
fn vm_device_without_pcipf_refuses_pf_requests_and_keeps_others_working() {
    let Some(_g) = vm_test() else { return };
    const CX6: u32 = 13;
    const NORMAL: u32 = 14;
    const UPLINK_MAC: &str = "00:53:00:0d:20:00";
    const NORMAL_MAC: &str = "00:53:00:0e:10:00";
    // Like a ConnectX-6 in switchdev mode: uplink + VFs, no PCI_PF port.
    sim_fresh_device(CX6);
    sim_add(CX6, "physical pf=0");
    sim_add(CX6, "vf controller=0 pf=0 vf=0 external=0 count=3");
    let uplink = sim_ports(CX6)
        .into_iter()
        .find(|q| q.flavour == "physical")
        .unwrap()
        .netdev;
    let st = Command::new("ip")
        .args(["link", "set", "dev", &uplink, "address", UPLINK_MAC])
        .status()
        .unwrap();
    assert!(st.success(), "ip link set address: {st}");
    // A normal device alongside, whose VF numbers overlap the CX-6's.
    sim_fresh_device(NORMAL);
    sim_add(NORMAL, "physical pf=0");
    sim_add(
        NORMAL,
        &format!("pf controller=1 pf=0 external=1 mac={NORMAL_MAC}"),
    );
    sim_add(NORMAL, "vf controller=1 pf=0 vf=0 external=1 count=3");
    udev_settle();
    let p = Loaded::init(None);
    let cx6 = sim_ports(CX6);
    let normal = sim_ports(NORMAL);
    let netdev =
        |ports: &[SimPort], flavour: &str, num: u32| sim_port(ports, flavour, num).netdev.clone();

    let pf_req = Req::Pf(UPLINK_MAC.into());
    assert_eq!(
        p.prepare("cx6-pf", &pf_req),
        None,
        "no PF representor to plug"
    );
    let why = unixctl::lookup_loaded(&pf_req.lookup_args());
    assert!(
        why.as_ref()
            .is_err_and(|s| s.contains("pf-has-no-representor")),
        "refusal code: {why:?}"
    );
    assert!(
        why.as_ref()
            .is_err_and(|s| s.contains("has no PCI_PF representor port") && s.contains(&uplink)),
        "refusal names the uplink it found: {why:?}"
    );
    // Its VFs resolve through the uplink's MAC, to its own VFs.
    for n in 0..3 {
        assert_eq!(
            p.prepare("cx6-vf", &Req::Vf(UPLINK_MAC.into(), n)),
            Some(netdev(&cx6, "vf", n)),
            "CX-6 VF {n}"
        );
    }
    assert_eq!(p.prepare("cx6-vf9", &Req::Vf(UPLINK_MAC.into(), 9)), None);
    assert_eq!(p.prepare("cx6-sf0", &Req::Sf(UPLINK_MAC.into(), 0)), None);
    // The normal device is unaffected.
    assert_eq!(
        p.prepare("n-pf", &Req::Pf(NORMAL_MAC.into())),
        Some(netdev(&normal, "pf", 0))
    );
    for n in 0..3 {
        assert_eq!(
            p.prepare("n-vf", &Req::Vf(NORMAL_MAC.into(), n)),
            Some(netdev(&normal, "vf", n)),
            "normal VF {n}"
        );
    }
    // A VF added at run time to each device lands on the right one.
    sim_add(CX6, "vf controller=0 pf=0 vf=5 external=0");
    sim_add(NORMAL, "vf controller=1 pf=0 vf=5 external=1");
    let cx6_vf5 = prepare_until_plugged(&p, &Req::Vf(UPLINK_MAC.into(), 5));
    let normal_vf5 = prepare_until_plugged(&p, &Req::Vf(NORMAL_MAC.into(), 5));
    assert_eq!(cx6_vf5, vec![netdev(&sim_ports(CX6), "vf", 5)]);
    assert_eq!(normal_vf5, vec![netdev(&sim_ports(NORMAL), "vf", 5)]);
    // The uplink going away leaves the CX-6's VFs without a PF MAC.
    let uplink_index = cx6.iter().find(|q| q.flavour == "physical").unwrap().index;
    sim_del(CX6, uplink_index);
    assert!(
        prepare_until_declined(&p, &Req::Vf(UPLINK_MAC.into(), 0)),
        "CX-6 VF 0 declined once its uplink is gone"
    );
    assert_eq!(
        p.prepare("n-vf0", &Req::Vf(NORMAL_MAC.into(), 0)),
        Some(netdev(&normal, "vf", 0))
    );
    drop(p);
    sim_del_device(CX6);
    sim_del_device(NORMAL);
}

// ---------------------------------------------------------------------------
// VM: 4. 1,000 add/remove/rename cycles.

/// The lines of `text` in its "ports" section that name a port of `dev`.
fn port_lines<'a>(text: &'a str, dev: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.starts_with("ports ("))
        .filter(|l| l.trim_start().starts_with(dev))
        .collect()
}

/// The lines of `text` in its "PFs by MAC" section about `dev`.
fn pf_lines<'a>(text: &'a str, dev: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.starts_with("PFs by MAC"))
        .take_while(|l| !l.starts_with("ports ("))
        .filter(|l| l.trim_start().starts_with(dev))
        .collect()
}

#[test]
fn vm_1000_add_remove_rename_cycles_keep_the_table_equal_to_the_kernel() {
    let Some(_g) = vm_test() else { return };
    const ID: u32 = 15;
    const CYCLES: usize = 1000;
    // `show` names ports `platform/devlink_sim.15/3` and PFs
    // `platform/devlink_sim.15 c1pf0`.
    let dev = format!("platform/devlink_sim.{ID}/");
    let dev_pf = format!("platform/devlink_sim.{ID} ");
    // PF MACs: 00:53:00:0f:<pf>:<generation>, a new one each time a PF is
    // added back.
    let pf_mac = |pf: u32, gen: u32| format!("00:53:00:0f:{pf:02x}:{:02x}", gen % 256);
    sim_fresh_device(ID);
    sim_add(ID, "physical pf=0");
    sim_add(ID, "physical pf=1");
    let mut pf_gen = [0u32; 2];
    for pf in 0..2u32 {
        sim_add(
            ID,
            &format!("pf controller=1 pf={pf} external=1 mac={}", pf_mac(pf, 0)),
        );
    }
    sim_add(ID, "vf controller=1 pf=0 vf=0 external=1 count=4");
    sim_add(ID, "sf controller=1 pf=1 sf=0 external=1 count=2");
    udev_settle();
    let p = Loaded::init(None);
    let mut rt = NetlinkSocket::route(&[], None).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Every request that ever resolved: those not expected now must be
    // declined.
    let mut ever: BTreeSet<Req> = BTreeSet::new();
    let mut ops: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut checks, mut lookups, mut table_checks, mut waits) = (0usize, 0usize, 0usize, 0usize);
    let started = Instant::now();
    let mut serial_name = 0u32;

    for cycle in 0..CYCLES {
        let ports = sim_ports(ID);
        let functions: Vec<&SimPort> = ports
            .iter()
            .filter(|q| q.flavour == "vf" || q.flavour == "sf")
            .collect();
        let roll = rng.below(100);
        let op = if roll < 4 {
            // A PF goes away, or comes back with a new MAC.
            let pf = rng.below(2) as u32;
            match ports.iter().find(|q| q.flavour == "pf" && q.pf == pf) {
                Some(q) => {
                    sim_del(ID, q.index);
                    "remove-pf"
                }
                None => {
                    pf_gen[pf as usize] += 1;
                    let mac = pf_mac(pf, pf_gen[pf as usize]);
                    sim_add(ID, &format!("pf controller=1 pf={pf} external=1 mac={mac}"));
                    "add-pf"
                }
            }
        } else if roll < 40 || functions.len() < 4 {
            // A VF or an SF under either PF, kernel name or an explicit one.
            let pf = rng.below(2);
            let kind = if rng.below(2) == 0 { "vf" } else { "sf" };
            let taken: BTreeSet<u32> = functions
                .iter()
                .filter(|q| q.flavour == kind && u64::from(q.pf) == pf)
                .map(|q| q.num)
                .collect();
            let num = (0..64).find(|n| !taken.contains(n)).unwrap();
            serial_name += 1;
            let name = if rng.below(2) == 0 {
                String::new()
            } else {
                format!(" name=cy{serial_name}")
            };
            sim_add(
                ID,
                &format!("{kind} controller=1 pf={pf} {kind}={num} external=1{name}"),
            );
            if kind == "vf" {
                "add-vf"
            } else {
                "add-sf"
            }
        } else if roll < 70 && functions.len() > 2 {
            let q = functions[rng.below(functions.len() as u64) as usize];
            sim_del(ID, q.index);
            if q.flavour == "vf" {
                "remove-vf"
            } else {
                "remove-sf"
            }
        } else {
            // Rename any port with a netdev (PFs and uplinks too).
            let q = &ports[rng.below(ports.len() as u64) as usize];
            serial_name += 1;
            rename(
                &mut rt,
                ifindex_of(&q.netdev).expect("ifindex"),
                &format!("rn{serial_name}"),
            );
            "rename"
        };
        *ops.entry(op).or_default() += 1;

        // The check: the kernel's state now, after udev finished with it.
        let ports = sim_ports(ID);
        wait_udev_done(&ports);
        let want = expected(&ports);
        ever.extend(want.keys().cloned());
        // Like ovn-controller with ovn-patch: run, then prepare.
        p.run();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut late = Vec::new();
            for req in &ever {
                lookups += 1;
                let got = p.prepare(&req.lport(), req);
                match (want.get(req), got) {
                    (Some(w), Some(g)) => {
                        assert_eq!(
                            &g, w,
                            "cycle {cycle} ({op}): {req:?} plugged the wrong netdev"
                        )
                    }
                    (None, Some(g)) => panic!(
                        "cycle {cycle} ({op}): {req:?} is gone from the kernel but plugged {g}"
                    ),
                    (Some(w), None) => late.push((req.clone(), w.clone())),
                    (None, None) => {}
                }
            }
            if late.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "cycle {cycle} ({op}): still declined after 5 s: {late:?}\n{}",
                unixctl::show_loaded().unwrap_or_default()
            );
            waits += 1;
            std::thread::sleep(Duration::from_millis(10));
            p.run();
        }
        checks += 1;
        // The whole table, every 10th cycle and at the end: the provider's
        // `show` equals a fresh dump rendered the same way.
        if cycle % 10 == 9 || cycle + 1 == CYCLES {
            let fresh = KernelSource::open().unwrap().load().unwrap();
            let fresh_text = unixctl::table_text(&fresh);
            let shown = unixctl::show_loaded().unwrap();
            assert_eq!(
                port_lines(&shown, &dev),
                port_lines(&fresh_text, &dev),
                "cycle {cycle} ({op}): ports differ from a fresh dump"
            );
            assert_eq!(
                pf_lines(&shown, &dev_pf),
                pf_lines(&fresh_text, &dev_pf),
                "cycle {cycle} ({op}): PFs by MAC differ from a fresh dump"
            );
            assert_eq!(
                port_lines(&shown, &dev).len(),
                sim_ports(ID).len(),
                "cycle {cycle}: one show line per kernel port"
            );
            table_checks += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "cycles: {CYCLES} in {secs:.1} s; {checks} checks ({lookups} prepare calls, \
         {table_checks} whole-table comparisons, {waits} waits for a late plug); \
         {} requests ever resolved; operations {ops:?}",
        ever.len()
    );
    for kind in [
        "add-vf",
        "add-sf",
        "remove-vf",
        "remove-sf",
        "rename",
        "add-pf",
        "remove-pf",
    ] {
        assert!(
            ops.get(kind).is_some_and(|&n| n > 0),
            "no {kind} in {ops:?}"
        );
    }
    drop(p);
    sim_del_device(ID);
}
