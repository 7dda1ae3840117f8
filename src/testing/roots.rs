//! Temporary udev and sysfs roots for a [`crate::kernel::KernelSource`]
//! under test (its `udev_root` and `sysfs_root`): udev running or not, its
//! database entries, a SmartNIC's `smart_nic/pf/config`.

use std::cell::RefCell;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::Duration;

use crate::kernel::KernelOptions;

/// A directory under the system's temp dir, removed on drop, holding
/// `sys/class/net/` and (once [`FakeRoots::with_udev_data`] or
/// [`FakeRoots::udev_running`]) `udev/data/`.
pub struct FakeRoots {
    pub root: PathBuf,
    /// udev's control socket, listened on while "udev runs".
    udev: RefCell<Option<UnixListener>>,
}

impl FakeRoots {
    /// Fresh roots named after `tag` and this process; no `udev/` at all
    /// (as in a container without udev).
    pub fn new(tag: &str) -> FakeRoots {
        let root = std::env::temp_dir().join(format!("ovn-vif-rs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sys/class/net")).expect("create the fake sysfs");
        FakeRoots {
            root,
            udev: RefCell::new(None),
        }
    }

    /// With an empty `udev/data/` (udev not running: no control socket).
    pub fn with_udev_data(self) -> FakeRoots {
        std::fs::create_dir_all(self.root.join("udev/data")).expect("create udev/data");
        self
    }

    /// Source options on these roots: no receive buffer size, settledness
    /// rechecked at every drain.
    pub fn opts(&self) -> KernelOptions {
        KernelOptions {
            rcvbuf: None,
            udev_root: self.root.join("udev"),
            sysfs_root: self.root.join("sys"),
            recheck_interval: Duration::ZERO,
            ..KernelOptions::default()
        }
    }

    /// udev runs from now on: its control socket is listened on (the
    /// provider probes it with a connect; a plain file would read as a
    /// stale socket, udev not running).
    pub fn udev_running(&self) {
        std::fs::create_dir_all(self.root.join("udev/data")).expect("create udev/data");
        let l = UnixListener::bind(self.root.join("udev/control")).expect("bind udev/control");
        *self.udev.borrow_mut() = Some(l);
    }

    /// Whether [`FakeRoots::udev_running`] was called.
    pub fn udev_runs(&self) -> bool {
        self.udev.borrow().is_some()
    }

    /// udev finished with netdev `ifindex`: its database file, final (no
    /// `ID_RENAMING`).
    pub fn udev_done(&self, ifindex: u32) {
        std::fs::write(self.root.join(format!("udev/data/n{ifindex}")), b"I:1\n")
            .expect("write a udev database entry");
    }

    /// `netdev`'s `smart_nic/pf/config` says `text`.
    pub fn smartnic(&self, netdev: &str, text: &str) {
        let d = self
            .root
            .join(format!("sys/class/net/{netdev}/smart_nic/pf"));
        std::fs::create_dir_all(&d).expect("create smart_nic/pf");
        std::fs::write(d.join("config"), text).expect("write smart_nic/pf/config");
    }
}

impl Drop for FakeRoots {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
