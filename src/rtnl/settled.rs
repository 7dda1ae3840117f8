//! When is a netdev's name final ("settled")?
//!
//! A new netdev is first registered with a kernel name (`eth5`); udev may
//! then rename it (`enp3s0f0npf0vf3`, or what a `.link` file says).  A
//! provider that plugs the first name into OVS breaks when udev renames it,
//! so the table only hands out settled names.  The rule:
//!
//! 1. **udev is running** (something listens on `/run/udev/control`): a
//!    netdev is settled once udev has finished processing it, i.e. once its
//!    database file `/run/udev/data/n<ifindex>` exists and does not say
//!    `E:ID_RENAMING=1` (see `db_final`).  udev writes that file at the
//!    end of the event, after any rename, so the rename's `RTM_NEWLINK` is
//!    queued before the file is seen.
//!
//!    The socket file alone proves nothing: `udevadm control --exit` or a
//!    crashed udevd leaves it behind, and trusting it made every new netdev
//!    wait out rule 3.  So the probe `connect()`s to it (a stream connect;
//!    udevd listens with `SOCK_SEQPACKET`): no file (`ENOENT`, `ENOTDIR`) or nobody
//!    listening (`ECONNREFUSED`, also what a non-socket file gives) means
//!    not running; a connection, or `EPROTOTYPE` (the answer of a live
//!    udevd to a stream connect), means running; any other error (`EACCES`,
//!    `EAGAIN`, ...) is taken as running, which rule 3 still bounds.  The
//!    answer is kept for [`LIVENESS_TTL`], so a burst of link events or a
//!    recheck over many links costs one connect, and nothing is probed while
//!    no link is waiting (the probe never runs on the hit path).  A udevd
//!    that starts or exits is therefore noticed within that TTL.  (Seen in
//!    the Debian 12 VM guest: `EPROTOTYPE` from a live systemd-udevd,
//!    `ECONNREFUSED` after `udevadm control --exit`; `tests/e2e` prints it.)
//! 2. **udev is not running** (no control socket, e.g. a container without
//!    `/run/udev`, or a stale one): nobody here will rename it; settled
//!    immediately — names are taken as the kernel gives them, which is
//!    logged once (per change of that state) at info level.
//! 3. **Never wait forever**: a link that stays unsettled for
//!    [`SETTLE_TIMEOUT`] (udev running but never writing the file, e.g. a
//!    rule that ignores the device) is declared settled; the kernel source
//!    logs that give-up as a warning naming the link
//!    (`KernelSource::give_up_on_udev`) and counts it.
//!
//! "Settled" is about udev only.  Whether the name is *current* — no
//! queued rename or delete not applied yet — is the kernel source's part:
//! udev's database file does not carry the name, so the verdict read here
//! holds for the name the link has once every event queued before the
//! read is applied, and a table behind the kernel hands out no name at all
//! (see "Which names are handed out" in `crate::kernel`).  This holds for
//! all three rules: with udev absent, a name is final only once nothing is
//! queued.
//!
//! A full dump (load, resync) lists `/run/udev/data` *before* dumping links:
//! udev writes the file after any rename, so a link whose file existed
//! before the dump was dumped with its final name; a file that appears
//! later is picked up by the recheck (woken by the inotify watch on
//! `/run/udev/data`, see `KernelSource::udev_fd`).
//!
//! The check is the (cached) liveness probe plus one read of that file; it runs when a
//! link event arrives and, for links still unsettled, again on the
//! provider's miss path or after the inotify watch fired
//! (`KernelSource::recheck_unsettled`), never on the hit path.
//!
//! The root (`/run/udev`) is injectable for tests.

use std::cell::Cell;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// See rule 3 in the module documentation.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an answer of the udev liveness probe (rule 1) is reused.
pub const LIVENESS_TTL: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
pub struct UdevProbe {
    root: PathBuf,
    timeout: Duration,
    liveness_ttl: Duration,
    /// The last liveness answer and when it was taken.
    liveness: Cell<Option<(Instant, Liveness)>>,
    /// The not-running state last logged (reset when udev runs): one line
    /// per episode, not one per probe.
    logged: Cell<Option<Liveness>>,
}

/// What a connect to udev's control socket says (rule 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// No socket file.
    Absent,
    /// A file nobody listens on (udevd exited or crashed).
    Stale,
    /// udevd listens (or we cannot tell: assumed running).
    Running,
}

impl Liveness {
    /// Classifies the result of a stream `connect()` to the control socket.
    pub fn of_connect(r: &io::Result<UnixStream>) -> Liveness {
        let Err(e) = r else {
            return Liveness::Running;
        };
        match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ENOTDIR) => Liveness::Absent,
            Some(libc::ECONNREFUSED) => Liveness::Stale,
            // EPROTOTYPE: a live udevd (SOCK_SEQPACKET); the rest: can't
            // tell, so wait for udev (rule 3 bounds it).
            _ => Liveness::Running,
        }
    }
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
            liveness_ttl: LIVENESS_TTL,
            liveness: Cell::new(None),
            logged: Cell::new(None),
        }
    }

    /// Reuse a liveness answer this long (`Duration::ZERO`: probe every
    /// time; for tests).
    pub fn with_liveness_ttl(mut self, ttl: Duration) -> UdevProbe {
        self.liveness_ttl = ttl;
        self
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

    /// Rule 1's precondition: something listens on udev's control socket.
    pub fn udev_running(&self) -> bool {
        self.liveness() == Liveness::Running
    }

    /// The liveness answer, probed at most once per TTL.
    pub fn liveness(&self) -> Liveness {
        let now = Instant::now();
        if let Some((at, l)) = self.liveness.get() {
            if now.saturating_duration_since(at) < self.liveness_ttl {
                return l;
            }
        }
        let path = self.root.join("control");
        let l = Liveness::of_connect(&UnixStream::connect(&path));
        match l {
            Liveness::Running => self.logged.set(None),
            _ if self.logged.get() == Some(l) => {}
            Liveness::Stale => {
                self.logged.set(Some(l));
                log::info!(
                    "udev control socket is stale; treating udev as not running ({}: nobody \
                     listens): netdev names are taken as the kernel gives them",
                    path.display()
                );
            }
            Liveness::Absent => {
                self.logged.set(Some(l));
                log::info!(
                    "udev is not running ({}: no such socket, e.g. a container without \
                     /run/udev): netdev names are taken as the kernel gives them, once no \
                     notification is pending",
                    path.display()
                );
            }
        }
        self.liveness.set(Some((now, l)));
        l
    }

    /// Rules 1 and 2 (no timeout).
    pub fn is_settled(&self, ifindex: u32) -> bool {
        !self.udev_running() || db_final(&self.root.join(format!("data/n{ifindex}")))
    }

    /// The netdevs udev has finished with, read in one directory listing
    /// (used before a full dump: see `KernelSource::load`).
    pub fn snapshot(&self) -> UdevSnapshot {
        self.snapshot_where(|_| true)
    }

    /// [`snapshot`](Self::snapshot) for the ifindexes `want` accepts only:
    /// a listed file is also read (for `ID_RENAMING`, see `db_final`), so
    /// a recheck of a few links does not read every netdev's file.
    pub fn snapshot_where(&self, want: impl Fn(u32) -> bool) -> UdevSnapshot {
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
                    if want(i) && db_final(&e.path()) {
                        done.insert(i);
                    }
                }
            }
        }
        UdevSnapshot::Done(done)
    }

    /// Rule 3: a link first seen unsettled at `since` has waited long
    /// enough at `now`.  Pure: the caller logs the give-up, naming the
    /// link.
    pub fn timed_out(&self, since: Instant, now: Instant) -> bool {
        now.saturating_duration_since(since) >= self.timeout
    }
}

/// Rule 1's "udev has finished": the netdev's database file exists and
/// does not say `E:ID_RENAMING=1`.  systemd-udevd (v248+, Debian 12's 252
/// included) saves the database with that property *before* it renames a
/// netdev (so that its readers never see the rename before the file) and
/// drops it when it handles the rename's "move" event; the file alone
/// appears while the kernel still has the first name (seen in the VM: the
/// provider handed out `eth1` that a udev rule was renaming).
fn db_final(path: &Path) -> bool {
    match std::fs::read(path) {
        Ok(db) => !db.split(|&b| b == b'\n').any(|l| l == b"E:ID_RENAMING=1"),
        Err(_) => false,
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
    use std::os::unix::net::{UnixDatagram, UnixListener};

    fn tmp(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ovn-vif-rs-udev-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        dir
    }

    #[test]
    fn rule() {
        let dir = tmp("rule");
        let p = UdevProbe::new(&dir).with_liveness_ttl(Duration::ZERO);
        // No control socket: udev not running, settled at once.
        assert!(!p.udev_running());
        assert!(p.is_settled(7));
        let live = UnixListener::bind(dir.join("control")).unwrap();
        assert!(p.udev_running());
        assert!(!p.is_settled(7));
        std::fs::write(dir.join("data/n7"), b"").unwrap();
        assert!(p.is_settled(7));
        assert!(!p.is_settled(8));
        let t0 = Instant::now();
        assert!(!p.timed_out(t0, t0 + Duration::from_secs(1)));
        assert!(p.timed_out(t0, t0 + SETTLE_TIMEOUT));
        let snap = p.snapshot();
        assert!(snap.is_settled(7) && !snap.is_settled(8));
        assert!(!p.snapshot_where(|i| i != 7).is_settled(7), "not wanted");
        drop(live);
        std::fs::remove_file(dir.join("control")).unwrap();
        assert_eq!(p.snapshot(), UdevSnapshot::NotRunning);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// udev saves the database with ID_RENAMING before it renames a
    /// netdev: that file does not settle it; the rewrite after the "move"
    /// event does.
    #[test]
    fn a_database_saved_before_a_rename_does_not_settle() {
        let dir = tmp("renaming");
        let p = UdevProbe::new(&dir).with_liveness_ttl(Duration::ZERO);
        let _live = UnixListener::bind(dir.join("control")).unwrap();
        let db = dir.join("data/n9");
        std::fs::write(&db, b"I:1795\nE:ID_RENAMING=1\nE:ID_NET_DRIVER=x\n").unwrap();
        assert!(!p.is_settled(9), "renaming");
        assert!(!p.snapshot().is_settled(9), "renaming, in a snapshot");
        std::fs::write(&db, b"I:1795\nE:ID_NET_DRIVER=x\nE:ID_RENAMING_NOT=1\n").unwrap();
        assert!(p.is_settled(9), "renamed");
        assert!(p.snapshot().is_settled(9), "renamed, in a snapshot");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Rule 1's liveness probe, one case per kind of `control`.
    #[test]
    fn liveness() {
        let dir = tmp("live");
        let control = dir.join("control");
        let p = UdevProbe::new(&dir).with_liveness_ttl(Duration::ZERO);

        // No file.
        assert_eq!(p.liveness(), Liveness::Absent);
        assert!(p.is_settled(7));

        // A stale socket: udevd gone, the file stays (what
        // `udevadm control --exit` leaves behind).
        drop(UnixListener::bind(&control).unwrap());
        assert!(control.exists());
        assert_eq!(p.liveness(), Liveness::Stale);
        assert!(!p.udev_running());
        assert!(p.is_settled(7), "stale socket: nobody will rename it");
        assert_eq!(p.snapshot(), UdevSnapshot::NotRunning);
        std::fs::remove_file(&control).unwrap();

        // A live stream listener (connect succeeds).
        let l = UnixListener::bind(&control).unwrap();
        assert_eq!(p.liveness(), Liveness::Running);
        assert!(!p.is_settled(7));
        drop(l);
        std::fs::remove_file(&control).unwrap();

        // A live socket of another type: the stream connect fails with
        // EPROTOTYPE, as with udevd's SOCK_SEQPACKET socket.
        let d = UnixDatagram::bind(&control).unwrap();
        let r = UnixStream::connect(&control);
        assert_eq!(
            r.as_ref().err().and_then(|e| e.raw_os_error()),
            Some(libc::EPROTOTYPE)
        );
        assert_eq!(p.liveness(), Liveness::Running);
        drop(d);
        std::fs::remove_file(&control).unwrap();

        // A regular file named control (ECONNREFUSED): not a udevd.
        std::fs::write(&control, b"").unwrap();
        assert_eq!(p.liveness(), Liveness::Stale);
        assert!(p.is_settled(7));

        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The answer is reused within the TTL: a burst of checks costs one
    /// connect (observed here as the answer not following the file).
    #[test]
    fn liveness_is_cached() {
        let dir = tmp("ttl");
        let p = UdevProbe::new(&dir).with_liveness_ttl(Duration::from_secs(3600));
        assert_eq!(p.liveness(), Liveness::Absent);
        let _l = UnixListener::bind(dir.join("control")).unwrap();
        assert_eq!(p.liveness(), Liveness::Absent, "cached");
        let q = UdevProbe::new(&dir).with_liveness_ttl(Duration::ZERO);
        assert_eq!(q.liveness(), Liveness::Running);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_errors_mean_running() {
        let e = |n| Err(io::Error::from_raw_os_error(n));
        assert_eq!(Liveness::of_connect(&e(libc::ENOENT)), Liveness::Absent);
        assert_eq!(
            Liveness::of_connect(&e(libc::ECONNREFUSED)),
            Liveness::Stale
        );
        for n in [libc::EPROTOTYPE, libc::EACCES, libc::EAGAIN] {
            assert_eq!(Liveness::of_connect(&e(n)), Liveness::Running, "errno {n}");
        }
    }
}
