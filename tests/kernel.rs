//! Real-kernel tests of the kernel source.
//!
//! - Always: an rtnetlink dump on this host, and `KernelSource::open` either
//!   working or failing with a clear "no devlink" error.
//! - With `OVN_VIF_RS_KERNEL_TESTS=1` (inside the VM test bed, as root, with
//!   tests/kmod's devlink_sim loaded: `scripts/vm/run.sh --kmod -- env
//!   OVN_VIF_RS_KERNEL_TESTS=1 <this test binary> --test-threads=1`): the
//!   BlueField layout of tests/vm/bluefield-layout.sh, runtime add/remove,
//!   rename with `ip link set name`, an ENOBUFS storm on a tiny receive
//!   buffer, a representor joining and leaving a Linux bridge.
//! - With `OVN_VIF_RS_CAPTURE_DIR=<dir>` as well: writes every datagram
//!   received during an add / rename / delete cycle to `<dir>` (capture
//!   mode; the files become fixtures).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ovn_vif_rs::kernel::{dump_links, CaptureSink, KernelOptions, KernelSource, Tap};
use ovn_vif_rs::netlink::socket::{NetlinkSocket, Transport, RECV_BUF_LEN};
use ovn_vif_rs::port::{DevlinkPort, Flavour, Mac};
use ovn_vif_rs::table::Table;

#[path = "common/sim.rs"]
mod sim;
use sim::{
    kernel_release, sim_add, sim_del, sim_fresh_device, sim_port, sim_ports, vm_test, write, SIM,
};

#[test]
fn rtnetlink_dump_on_this_host() {
    let mut s = match NetlinkSocket::route(&[], None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped: no rtnetlink socket ({e})");
            return;
        }
    };
    let mut buf = vec![0u8; RECV_BUF_LEN];
    let d = dump_links(&mut s, &mut buf, 42).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert!(
        d.items.iter().any(|l| l.name == "lo"),
        "no lo in {:?}",
        d.items
    );
    // Nothing pending afterwards: a non-blocking recv says WouldBlock.
    let e = s.recv(&mut buf).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
}

#[test]
fn open_works_or_says_no_devlink() {
    match KernelSource::open() {
        Ok(src) => {
            assert!(src.monitor_fds().iter().all(|&fd| fd >= 0));
        }
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
            assert!(e.to_string().contains("no devlink"), "{e}");
        }
    }
}

// ---- inside the VM ----

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sh(cmd: &str) {
    let st = Command::new("bash").arg("-c").arg(cmd).status().unwrap();
    assert!(st.success(), "{cmd}: {st}");
}

fn sim_ports_of(t: &Table, id: u32) -> Vec<DevlinkPort> {
    let dev = format!("devlink_sim.{id}");
    t.entries()
        .into_iter()
        .filter(|e| &*e.port.id.handle.bus == "platform" && *e.port.id.handle.dev == *dev)
        .map(|e| e.port.clone())
        .collect()
}

fn udev_settle() {
    let _ = Command::new("udevadm")
        .args(["settle", "--timeout=10"])
        .status();
}

/// Drains (and rechecks) until `cond` holds, for up to 15 s.
fn drain_until<T: Transport>(
    src: &mut KernelSource<T>,
    t: &mut Table,
    what: &str,
    cond: impl Fn(&Table) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        src.drain(t).unwrap();
        src.recheck_unsettled(t);
        if cond(t) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; stats {:?}",
            src.stats()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// After udev settled: the table equals a fresh dump.
fn assert_equals_fresh<T: Transport>(src: &mut KernelSource<T>, t: &mut Table) {
    // udev may still be writing database files (settledness is part of the
    // comparison): retry while it is busy, up to a minute.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        udev_settle();
        src.drain(t).unwrap();
        src.recheck_unsettled(t);
        let fresh = KernelSource::open().unwrap().load().unwrap();
        if t.canonical() == fresh.canonical() || Instant::now() > deadline {
            assert_eq!(t.canonical(), fresh.canonical());
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn vm_initial_dump_of_the_bluefield_layout() {
    let Some(_g) = vm_test() else { return };
    sh(&format!(
        "{}/tests/vm/bluefield-layout.sh 0 >/dev/null",
        repo().display()
    ));
    udev_settle();
    let mut src = KernelSource::open().unwrap();
    let t = src.load().unwrap();
    let ports = sim_ports_of(&t, 0);
    let count = |f: Flavour| ports.iter().filter(|p| p.flavour == f).count();
    assert_eq!(ports.len(), 17);
    assert_eq!(count(Flavour::Physical), 2);
    assert_eq!(count(Flavour::PciPf), 3);
    assert_eq!(count(Flavour::PciVf), 8);
    assert_eq!(count(Flavour::PciSf), 4);
    let c1pf0 = ports.iter().find(|p| p.id.index == 3).unwrap();
    assert_eq!(
        (c1pf0.controller, c1pf0.pfnum, c1pf0.external),
        (1, Some(0), true)
    );
    assert_eq!(c1pf0.function_mac(), Some(Mac([0, 0x53, 0, 0, 0x10, 0])));
    let vf3 = ports.iter().find(|p| p.id.index == 8).unwrap();
    assert_eq!(
        (vf3.pfnum, vf3.vfnum, vf3.controller),
        (Some(0), Some(3), 1)
    );
    let sf1 = ports.iter().find(|p| p.id.index == 14).unwrap();
    assert_eq!(sf1.sfnum, Some(1));
    // Every port has a netdev; names agree with the simulator and rtnetlink.
    let sim: BTreeMap<u32, String> = sim_ports(0)
        .into_iter()
        .map(|p| (p.index, p.netdev))
        .collect();
    for p in &ports {
        let nd = p.netdev.as_ref().expect("netdev");
        let e = t.entry_by_id(&p.id).unwrap();
        assert_eq!(e.name, Some(sim[&p.id.index].as_str()), "{:?}", p.id);
        assert_eq!(t.link(nd.ifindex).unwrap().name, sim[&p.id.index]);
        assert!(e.settled, "{:?} not settled after udevadm settle", p.id);
    }
    assert_eq!(src.stats().parse_errors, 0);
    t.check().unwrap();
}

#[test]
fn vm_runtime_add_and_remove() {
    let Some(_g) = vm_test() else { return };
    sim_fresh_device(1);
    sim_add(1, "pf controller=1 pf=0 external=1 mac=00:53:00:00:30:00");
    let mut src = KernelSource::open().unwrap();
    let mut t = src.load().unwrap();
    sim_add(1, "vf controller=1 pf=0 vf=20 external=1");
    drain_until(&mut src, &mut t, "VF 20 with a settled netdev", |t| {
        sim_ports_of(t, 1).iter().any(|p| {
            p.vfnum == Some(20) && p.netdev.is_some() && t.entry_by_id(&p.id).unwrap().settled
        })
    });
    let index = sim_port(&sim_ports(1), "vf", 20).index;
    assert_equals_fresh(&mut src, &mut t);
    sim_del(1, index);
    drain_until(&mut src, &mut t, "VF 20 gone", |t| {
        !sim_ports_of(t, 1).iter().any(|p| p.vfnum == Some(20))
    });
    assert_equals_fresh(&mut src, &mut t);
    write(format!("{SIM}/del_device"), "1");
    drain_until(&mut src, &mut t, "device 1 gone", |t| {
        sim_ports_of(t, 1).is_empty()
    });
}

#[test]
fn vm_rename_with_ip_link() {
    let Some(_g) = vm_test() else { return };
    sim_fresh_device(2);
    sim_add(2, "vf controller=1 pf=0 vf=1 external=1");
    udev_settle();
    let mut src = KernelSource::open().unwrap();
    let mut t = src.load().unwrap();
    let port = sim_ports_of(&t, 2).pop().unwrap();
    let old = t.entry_by_id(&port.id).unwrap().name.unwrap().to_string();
    sh(&format!(
        "ip link set dev {old} down && ip link set dev {old} name vifrs-renamed"
    ));
    drain_until(&mut src, &mut t, "the new name", |t| {
        t.entry_by_id(&port.id).unwrap().name == Some("vifrs-renamed")
    });
    if kernel_release().starts_with("6.1.") {
        assert_eq!(
            src.stats().port_events,
            0,
            "6.1 sends no devlink event on rename"
        );
    }
    sh(&format!("ip link set dev vifrs-renamed name {old}"));
    drain_until(&mut src, &mut t, "the old name back", |t| {
        t.entry_by_id(&port.id).unwrap().name == Some(old.as_str())
    });
    assert_equals_fresh(&mut src, &mut t);
    write(format!("{SIM}/del_device"), "2");
}

#[test]
fn vm_enobufs_storm_then_equal_to_a_fresh_dump() {
    let Some(_g) = vm_test() else { return };
    sim_fresh_device(3);
    let opts = KernelOptions {
        rcvbuf: Some(256),
        ..KernelOptions::default()
    };
    let mut src = KernelSource::open_with(opts).unwrap();
    let mut t = src.load().unwrap();
    // 64 VFs added and 32 removed without draining: far more than a tiny
    // receive buffer holds.
    sim_add(3, "vf controller=1 pf=0 vf=0 external=1 count=64");
    for i in 0..32 {
        sim_del(3, i);
    }
    udev_settle();
    let deadline = Instant::now() + Duration::from_secs(30);
    while src.drain(&mut t).unwrap() {
        assert!(Instant::now() < deadline);
    }
    let st = src.stats();
    eprintln!("storm: {st:?}");
    assert!(st.overflows >= 1 && st.resyncs >= 1, "{st:?}");
    assert_eq!(sim_ports_of(&t, 3).len(), 32);
    assert_equals_fresh(&mut src, &mut t);
    write(format!("{SIM}/del_device"), "3");
}

/// Capture mode: raw datagrams of a dump, an add, a rename and a delete.
#[test]
fn vm_capture() {
    let Some(dir) = std::env::var_os("OVN_VIF_RS_CAPTURE_DIR") else {
        return;
    };
    let Some(_g) = vm_test() else { return };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    sim_fresh_device(4);
    sim_add(4, "physical pf=0");
    sim_add(4, "pf controller=1 pf=0 external=1 mac=00:53:00:00:10:00");
    udev_settle();
    let sink: CaptureSink = Arc::default();
    let s2 = sink.clone();
    let mut src = KernelSource::open_wrapped(KernelOptions::default(), move |s, c| {
        Tap::new(s, c, s2.clone())
    })
    .unwrap();
    let mut t = src.load().unwrap();
    let mut phases: Vec<(&str, usize)> = vec![("dump", 0)];
    let mark = |phases: &mut Vec<(&'static str, usize)>, name: &'static str| {
        phases.push((name, sink.lock().unwrap().len()));
    };
    mark(&mut phases, "add");
    sim_add(4, "vf controller=1 pf=0 vf=3 external=1");
    sim_add(4, "sf controller=1 pf=0 sf=8 external=1");
    udev_settle();
    drain_until(&mut src, &mut t, "VF and SF", |t| {
        sim_ports_of(t, 4)
            .iter()
            .filter(|p| p.netdev.is_some())
            .count()
            == 4
    });
    mark(&mut phases, "rename");
    let vf = sim_ports_of(&t, 4)
        .into_iter()
        .find(|p| p.vfnum == Some(3))
        .unwrap();
    let name = t.entry_by_id(&vf.id).unwrap().name.unwrap().to_string();
    sh(&format!(
        "ip link set dev {name} down && ip link set dev {name} name vifrs-cap0"
    ));
    drain_until(&mut src, &mut t, "rename", |t| {
        t.entry_by_id(&vf.id).unwrap().name == Some("vifrs-cap0")
    });
    mark(&mut phases, "del");
    sim_del(4, vf.id.index);
    drain_until(&mut src, &mut t, "VF gone", |t| {
        t.entry_by_id(&vf.id).is_none()
    });
    std::thread::sleep(Duration::from_millis(200));
    src.drain(&mut t).unwrap();
    phases.push(("end", sink.lock().unwrap().len()));
    let all = sink.lock().unwrap().clone();
    for w in phases.windows(2) {
        let (phase, from) = w[0];
        let to = w[1].1;
        for (i, (ch, d)) in all[from..to].iter().enumerate() {
            let p = dir.join(format!("capture-{phase}-{i:03}-{}.bin", ch.name()));
            std::fs::write(&p, d).unwrap();
        }
    }
    write(format!("{SIM}/del_device"), "4");
}

#[test]
fn vm_smartnic_sysfs_fallback() {
    let Some(_g) = vm_test() else { return };
    sim_fresh_device(5);
    sim_add(5, "physical pf=0");
    sim_add(5, "pf controller=0 pf=0 external=0");
    sim_add(5, "pf controller=1 pf=0 external=1 mac=00:53:00:00:50:00");
    sim_add(5, "vf controller=1 pf=0 vf=0 external=1");
    // Like a BlueField: the PF ports report a zero hw_addr, the uplink has
    // smart_nic/pf/config.
    write(format!("{SIM}/5/no_pf_hw_addr"), "1");
    udev_settle();
    let mut src = KernelSource::open().unwrap();
    let t = src.load().unwrap();
    let mac = Mac([0, 0x53, 0, 0, 0x50, 0]);
    let ports = sim_ports_of(&t, 5);
    assert!(ports
        .iter()
        .filter(|p| p.flavour == Flavour::PciPf)
        .all(|p| p.function_mac().is_none()));
    let Some(ovn_vif_rs::table::PfSet::One(k)) = t.pfs_with_mac(mac) else {
        panic!("host PF MAC not indexed: {:?}", t.pf_macs());
    };
    assert_eq!((k.controller, k.pfnum), (1, 0));
    assert_eq!(
        t.pf_mac(k).unwrap().source,
        ovn_vif_rs::table::MacSource::SmartNicSysfs
    );
    assert_eq!(t.children_of(k), (1, 0));
    write(format!("{SIM}/del_device"), "5");
}

/// A representor that joins and leaves a Linux bridge stays plugged: the
/// bridge's RTM_DELLINK with ifi_family AF_BRIDGE (seen here on the wire)
/// is not the netdev's deletion.
#[test]
fn vm_a_representor_leaving_a_bridge_stays_plugged() {
    let Some(_g) = vm_test() else { return };
    sim_fresh_device(6);
    sim_add(6, "pf controller=1 pf=0 external=1 mac=00:53:00:00:60:00");
    sim_add(6, "vf controller=1 pf=0 vf=2 external=1");
    udev_settle();
    let sink = CaptureSink::default();
    let mut src = KernelSource::open_wrapped(KernelOptions::default(), |s, ch| {
        Tap::new(s, ch, sink.clone())
    })
    .unwrap();
    let mut t = src.load().unwrap();
    let req = ovn_vif_rs::options::Request {
        pf_mac: Mac([0, 0x53, 0, 0, 0x60, 0]),
        function: ovn_vif_rs::options::Function::Vf(2),
    };
    drain_until(&mut src, &mut t, "VF 2 plugged", |t| {
        ovn_vif_rs::lookup::lookup(t, &req).is_ok()
    });
    let found = ovn_vif_rs::lookup::lookup(&t, &req).unwrap();
    let (name, ifindex) = (found.name.to_owned(), found.entry.ifindex().unwrap());
    sh(&format!(
        "ip link add vifrs-br0 type bridge && ip link set dev {name} master vifrs-br0 && \
         ip link set dev {name} nomaster"
    ));
    // Until the bridge's RTM_DELLINK (AF_BRIDGE) for the representor has
    // been read and applied.
    let bridge_dellink = |sink: &CaptureSink| {
        sink.lock().unwrap().iter().any(|(ch, d)| {
            *ch == ovn_vif_rs::kernel::Channel::RtnlMon
                && d.len() >= 24
                && u16::from_ne_bytes([d[4], d[5]]) == 17 // RTM_DELLINK
                && d[16] == 7 // AF_BRIDGE
                && i32::from_ne_bytes([d[20], d[21], d[22], d[23]]) == ifindex as i32
        })
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !bridge_dellink(&sink) {
        src.drain(&mut t).unwrap();
        assert!(Instant::now() < deadline, "no AF_BRIDGE RTM_DELLINK seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    src.drain(&mut t).unwrap();
    assert!(t.link(ifindex).is_some(), "the netdev still exists");
    assert_eq!(
        ovn_vif_rs::lookup::lookup(&t, &req).map(|f| f.name.to_owned()),
        Ok(name.clone()),
        "still plugged after leaving the bridge"
    );
    sh("ip link del vifrs-br0");
    assert_equals_fresh(&mut src, &mut t);
    write(format!("{SIM}/del_device"), "6");
}
