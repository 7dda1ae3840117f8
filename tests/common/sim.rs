//! The devlink simulator (tests/kmod/README.md) and the kernel, for the
//! real-kernel tests that run in the VM test bed (tests/kernel.rs,
//! tests/kernel_vtable.rs, tests/oracle_vm.rs; included with `#[path]`).

#![allow(dead_code)]

use std::io;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

pub const SIM: &str = "/sys/kernel/debug/devlink_sim";

/// Whether the real-kernel tests run here: `OVN_VIF_RS_KERNEL_TESTS=1`
/// (the VM test bed sets it); elsewhere they return at once.
pub fn enabled() -> bool {
    std::env::var_os("OVN_VIF_RS_KERNEL_TESTS").is_some_and(|v| v == "1")
}

/// The simulator is one shared kernel object (and, for the vtable tests,
/// the provider one global): one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds [`SERIAL`] for the calling test (a test that failed holding it
/// does not fail the others).
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The start of a real-kernel test: `None` outside the VM test bed (the
/// test returns), else [`serial`]'s guard, held for the test.
pub fn vm_test() -> Option<MutexGuard<'static, ()>> {
    enabled().then(serial)
}

/// Writes `what` to a sysfs/debugfs file; the error names both.
pub fn try_write(path: impl AsRef<Path>, what: &str) -> io::Result<()> {
    let p = path.as_ref();
    std::fs::write(p, what)
        .map_err(|e| io::Error::new(e.kind(), format!("{} <- {what:?}: {e}", p.display())))
}

/// [`try_write`], panicking on an error.
pub fn write(path: impl AsRef<Path>, what: &str) {
    try_write(path, what).unwrap_or_else(|e| panic!("{e}"));
}

/// Device `id`, new and empty (deleted first if it exists).
pub fn sim_fresh_device(id: u32) {
    sim_del_device(id);
    write(format!("{SIM}/new_device"), &id.to_string());
}

pub fn sim_del_device(id: u32) {
    if Path::new(&format!("{SIM}/{id}")).exists() {
        write(format!("{SIM}/del_device"), &id.to_string());
    }
}

/// Adds ports to device `id` (a `port_add` line, e.g. `vf controller=1
/// pf=0 vf=3 external=1`).
pub fn sim_add(id: u32, line: &str) {
    write(format!("{SIM}/{id}/port_add"), line);
}

pub fn sim_del(id: u32, index: u32) {
    write(format!("{SIM}/{id}/port_del"), &index.to_string());
}

/// One line of the simulator's `ports` file: the kernel's truth, read from
/// the module's own structures (not through our parser).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPort {
    pub index: u32,
    pub flavour: String,
    pub controller: u32,
    pub pf: u32,
    pub num: u32,
    pub netdev: String,
    pub hw_addr: String,
}

/// The port of `flavour` (`pf`, `vf`, `sf`, ...) numbered `num` in `ports`.
#[track_caller]
pub fn sim_port<'a>(ports: &'a [SimPort], flavour: &str, num: u32) -> &'a SimPort {
    ports
        .iter()
        .find(|q| q.flavour == flavour && q.num == num)
        .unwrap_or_else(|| panic!("no {flavour} {num} in {ports:?}"))
}

/// Device `id`'s ports, from its `ports` file.
pub fn sim_ports(id: u32) -> Vec<SimPort> {
    let text = std::fs::read_to_string(format!("{SIM}/{id}/ports")).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 8, "ports line {l:?}");
            SimPort {
                index: f[0].parse().unwrap(),
                flavour: f[1].to_owned(),
                controller: f[2].trim_start_matches('c').parse().unwrap(),
                pf: f[3].trim_start_matches("pf").parse().unwrap(),
                num: f[4].parse().unwrap(),
                netdev: f[6].to_owned(),
                hw_addr: f[7].to_owned(),
            }
        })
        .collect()
}

/// A netdev's ifindex, from sysfs (None once it is gone).
pub fn ifindex_of(netdev: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/sys/class/net/{netdev}/ifindex"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
