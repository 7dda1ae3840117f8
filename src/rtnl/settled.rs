//! When is a netdev's name final ("settled")?
//!
//! A new netdev is first registered with a kernel name (`eth5`); udev may
//! then rename it (`enp3s0f0npf0vf3`, or what a `.link` file says).  A
//! provider that plugs the first name into OVS breaks when udev renames it,
//! so the table only hands out settled names.  The rule:
//!
//! 1. **udev is running** (`/run/udev/control` exists): a netdev is settled
//!    once udev has finished processing it, i.e. once its database file
//!    `/run/udev/data/n<ifindex>` exists.  udev writes that file at the end of
//!    the event, after any rename, so the name rtnetlink reports next (the
//!    rename arrives as `RTM_NEWLINK`) is final.
//! 2. **udev is not running**: nobody will rename it; settled immediately.
//! 3. **Never wait forever**: a link that stays unsettled for
//!    [`SETTLE_TIMEOUT`] (udev running but never writing the file, e.g. a
//!    rule that ignores the device) is declared settled with a warning.
//!
//! A full dump (load, resync) lists `/run/udev/data` *before* dumping links:
//! udev writes the file after any rename, so a link whose file existed
//! before the dump was dumped with its final name; a file that appears
//! later is picked up by the recheck.
//!
//! The check is two `stat`s; it runs when a link event arrives and, for links
//! still unsettled, again on the provider's miss path
//! (`KernelSource::recheck_unsettled`), never on the hit path.
//!
//! The root (`/run/udev`) is injectable for tests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// See rule 3 in the module documentation.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct UdevProbe {
    root: PathBuf,
    timeout: Duration,
}

impl Default for UdevProbe {
    fn default() -> Self {
        UdevProbe::new("/run/udev")
    }
}

impl UdevProbe {
    pub fn new(root: impl Into<PathBuf>) -> UdevProbe {
        UdevProbe {
            root: root.into(),
            timeout: SETTLE_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> UdevProbe {
        self.timeout = timeout;
        self
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Rule 1's precondition: udev's control socket exists.
    pub fn udev_running(&self) -> bool {
        self.root.join("control").exists()
    }

    /// Rules 1 and 2 (no timeout).
    pub fn is_settled(&self, ifindex: u32) -> bool {
        !self.udev_running() || self.root.join(format!("data/n{ifindex}")).exists()
    }

    /// The netdevs udev has finished with, read in one directory listing
    /// (used before a full dump: see `KernelSource::load`).
    pub fn snapshot(&self) -> UdevSnapshot {
        if !self.udev_running() {
            return UdevSnapshot::NotRunning;
        }
        let mut done = std::collections::HashSet::new();
        if let Ok(dir) = std::fs::read_dir(self.root.join("data")) {
            for e in dir.flatten() {
                let name = e.file_name();
                let Some(n) = name.to_str().and_then(|n| n.strip_prefix('n')) else {
                    continue;
                };
                if let Ok(i) = n.parse::<u32>() {
                    done.insert(i);
                }
            }
        }
        UdevSnapshot::Done(done)
    }

    /// Rules 1–3: `since` is when the link was first seen unsettled.
    pub fn is_settled_since(&self, ifindex: u32, since: Instant, now: Instant) -> bool {
        self.is_settled(ifindex) || self.timed_out(ifindex, since, now)
    }

    /// Rules 1–3 against a [`UdevSnapshot`] taken once for many links (two
    /// `stat`s per link add up when udev lags behind thousands of new
    /// representors).
    pub fn is_settled_in(
        &self,
        snap: &UdevSnapshot,
        ifindex: u32,
        since: Instant,
        now: Instant,
    ) -> bool {
        snap.is_settled(ifindex) || self.timed_out(ifindex, since, now)
    }

    /// Rule 3: waited long enough (logs why the name is taken anyway).
    fn timed_out(&self, ifindex: u32, since: Instant, now: Instant) -> bool {
        if now.saturating_duration_since(since) >= self.timeout {
            log::warn!(
                "netdev ifindex {ifindex}: udev is running but has not processed it after {:?} \
                 (no {}/data/n{ifindex}); using its current name",
                self.timeout,
                self.root.display()
            );
            return true;
        }
        false
    }
}

/// What [`UdevProbe::snapshot`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UdevSnapshot {
    /// udev is not running: everything is settled (rule 2).
    NotRunning,
    /// The ifindexes with a udev database file (rule 1).
    Done(std::collections::HashSet<u32>),
}

impl UdevSnapshot {
    pub fn is_settled(&self, ifindex: u32) -> bool {
        match self {
            UdevSnapshot::NotRunning => true,
            UdevSnapshot::Done(s) => s.contains(&ifindex),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule() {
        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-udev-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let p = UdevProbe::new(&dir);
        // No control socket: udev not running, settled at once.
        assert!(!p.udev_running());
        assert!(p.is_settled(7));
        std::fs::write(dir.join("control"), b"").unwrap();
        assert!(p.udev_running());
        assert!(!p.is_settled(7));
        std::fs::write(dir.join("data/n7"), b"").unwrap();
        assert!(p.is_settled(7));
        assert!(!p.is_settled(8));
        let t0 = Instant::now();
        assert!(!p.is_settled_since(8, t0, t0 + Duration::from_secs(1)));
        assert!(p.is_settled_since(8, t0, t0 + SETTLE_TIMEOUT));
        let snap = p.snapshot();
        assert!(snap.is_settled(7) && !snap.is_settled(8));
        std::fs::remove_file(dir.join("control")).unwrap();
        assert_eq!(p.snapshot(), UdevSnapshot::NotRunning);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
