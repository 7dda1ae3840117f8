//! The provider's sources: the kernel (devlink + rtnetlink) in production,
//! or a snapshot file (`OVN_VIF_RS_SNAPSHOT`) for offline use and for hosts
//! without devlink.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use std::os::fd::RawFd;

use crate::kernel::KernelSource;
use crate::netlink::socket::Transport;
use crate::os::FileWatch;
use crate::provider::Source;
use crate::snapshot;
use crate::table::Table;

/// Environment variable naming a snapshot file to serve instead of the kernel.
pub const ENV_SNAPSHOT: &str = "OVN_VIF_RS_SNAPSHOT";

/// A snapshot file; re-read when it is rewritten or replaced.
///
/// An inotify watch on the file's directory ([`FileWatch`]) is the
/// source's descriptor ([`Source::fds`]): rewriting the file wakes a host
/// poll loop, like a kernel event does for the kernel source, and a drain
/// costs one non-blocking `read` when nothing happened.  Without inotify,
/// a drain compares the modification time and size (one `stat`).  Writers
/// should replace the file atomically (write a temporary file, then
/// rename): a drain may otherwise see a half-written file.  This source is
/// for tests and diagnosis, not for production hot paths.
pub struct SnapshotSource {
    path: PathBuf,
    seen: Option<(SystemTime, u64)>,
    watch: Option<FileWatch>,
}

impl SnapshotSource {
    pub fn new(path: impl Into<PathBuf>) -> SnapshotSource {
        let path = path.into();
        // Before the first read, so no change after it goes unnoticed.
        let watch = match FileWatch::new(&path) {
            Ok(w) => Some(w),
            Err(e) => {
                log::debug!(
                    "{}: no inotify watch ({e}); polling its modification time",
                    path.display()
                );
                None
            }
        };
        SnapshotSource {
            path,
            seen: None,
            watch,
        }
    }

    /// Wraps an I/O error with the file's path, keeping its kind (which
    /// `init` turns into the errno OVN logs).
    fn err(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
    }

    fn stamp(&self) -> io::Result<(SystemTime, u64)> {
        let md = std::fs::metadata(&self.path).map_err(|e| self.err(e))?;
        Ok((md.modified().map_err(|e| self.err(e))?, md.len()))
    }

    fn read(&mut self) -> io::Result<Table> {
        let stamp = self.stamp()?;
        let text = std::fs::read_to_string(&self.path).map_err(|e| self.err(e))?;
        let table =
            snapshot::parse(&text, crate::table::LinkPolicy::TrustDevlink).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", self.path.display()),
                )
            })?;
        self.seen = Some(stamp);
        Ok(table)
    }
}

impl Source for SnapshotSource {
    fn load(&mut self) -> io::Result<Table> {
        self.read()
    }

    fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        let event = match &self.watch {
            Some(w) => match w.drain() {
                Ok(hit) => Some(hit),
                Err(e) => {
                    log::warn!(
                        "{}: inotify failed ({e}); polling instead",
                        self.path.display()
                    );
                    self.watch = None;
                    None
                }
            },
            None => None,
        };
        match event {
            Some(false) => return Ok(false),
            // An event for the file: re-read even if mtime and size look
            // the same (a rewrite within the clock's granularity).
            Some(true) => {}
            None => {
                if Some(self.stamp()?) == self.seen {
                    return Ok(false);
                }
            }
        }
        let fresh = self.read()?;
        // Swapped whole: a lookup never sees a half-read file.  Changed
        // when some request gets another answer (Table::decisions).
        Ok(table.replace_with(fresh))
    }

    fn fds(&self) -> Vec<RawFd> {
        self.watch.iter().map(FileWatch::fd).collect()
    }

    fn describe(&self) -> String {
        format!("snapshot file {}", self.path.display())
    }
}

/// A source opened, and loaded, when it can be: `init` never fails because
/// the kernel has no devlink (yet) or the snapshot file is missing.  Until
/// `open` and a first `load` succeed, the source is not
/// [`healthy`](Source::healthy), has no descriptors, and each `drain` (which
/// the provider calls on its retry back-off) tries again and, on success,
/// replaces the table with the first full load.
pub struct Reopening {
    open: Opener,
    inner: Option<Box<dyn Source>>,
    loaded: bool,
}

/// How [`Reopening`] opens its source.
pub type Opener = Box<dyn FnMut() -> io::Result<Box<dyn Source>> + Send>;

impl Reopening {
    pub fn new(open: impl FnMut() -> io::Result<Box<dyn Source>> + Send + 'static) -> Reopening {
        Reopening {
            open: Box::new(open),
            inner: None,
            loaded: false,
        }
    }

    fn inner(&mut self) -> io::Result<&mut Box<dyn Source>> {
        if self.inner.is_none() {
            self.inner = Some((self.open)()?);
        }
        // Just set if it was not.
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("source not open"))
    }
}

impl Source for Reopening {
    fn load(&mut self) -> io::Result<Table> {
        let table = self.inner()?.load()?;
        self.loaded = true;
        Ok(table)
    }

    fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        if !self.loaded {
            *table = self.load()?;
            return Ok(true);
        }
        self.inner()?.drain(table)
    }

    fn recheck_unsettled(&mut self, table: &mut Table) -> bool {
        match (&mut self.inner, self.loaded) {
            (Some(s), true) => s.recheck_unsettled(table),
            _ => false,
        }
    }

    fn fds(&self) -> Vec<RawFd> {
        match (&self.inner, self.loaded) {
            (Some(s), true) => s.fds(),
            _ => Vec::new(),
        }
    }

    fn settle_timer_ms(&self) -> Option<u64> {
        match (&self.inner, self.loaded) {
            (Some(s), true) => s.settle_timer_ms(),
            _ => None,
        }
    }

    fn healthy(&self) -> bool {
        self.loaded && self.inner.as_ref().is_some_and(|s| s.healthy())
    }

    fn describe(&self) -> String {
        match &self.inner {
            Some(s) => s.describe(),
            None => "none open yet".to_owned(),
        }
    }
}

/// The source the provider uses when loaded by ovn-controller.
pub fn open_default() -> io::Result<Box<dyn Source>> {
    #[cfg(feature = "test-support")]
    if let Some(r) = test_support::open() {
        return r;
    }
    if let Some(path) = std::env::var_os(ENV_SNAPSHOT) {
        return Ok(Box::new(SnapshotSource::new(path)));
    }
    open_kernel()
}

fn open_kernel() -> io::Result<Box<dyn Source>> {
    Ok(Box::new(KernelSource::open()?))
}

/// The kernel: devlink ports (dump + `config` multicast group) joined with
/// rtnetlink links (renames, MACs, udev settling).
impl<T: Transport + Send> Source for KernelSource<T> {
    fn load(&mut self) -> io::Result<Table> {
        KernelSource::load(self)
    }

    fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        KernelSource::drain(self, table)
    }

    fn recheck_unsettled(&mut self, table: &mut Table) -> bool {
        KernelSource::recheck_unsettled(self, table)
    }

    /// The monitors, and udev's database watch only while a link waits
    /// for udev: any write there (disks, USB, ...) would otherwise wake
    /// ovn-controller for nothing.  Events the watch queues meanwhile are
    /// drained (and ignored) by the next drain.
    fn fds(&self) -> Vec<RawFd> {
        let mut v = self.monitor_fds().to_vec();
        if self.waits_for_udev() {
            v.extend(self.udev_fd());
        }
        v
    }

    fn healthy(&self) -> bool {
        !self.needs_resync()
    }

    fn settle_timer_ms(&self) -> Option<u64> {
        // Rounded up: a timer that fires before the timeout would find
        // nothing to give up on.
        let d = self.settle_timer()?;
        Some(u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
    }

    fn describe(&self) -> String {
        let s = self.stats();
        format!(
            "kernel (devlink + rtnetlink; {} events, {} resyncs, {} parse errors)",
            s.events(),
            s.resyncs,
            s.parse_errors
        )
    }
}

/// Test hook (feature `test-support`, never in the shipped library): a
/// source opener that [`open_default`] calls instead of opening the kernel
/// or a snapshot, so tests can drive `init` (and any later re-open) through
/// the exported vtable onto a fake kernel.
#[cfg(feature = "test-support")]
pub mod test_support {
    use super::Source;
    use std::io;
    use std::sync::Mutex;

    /// Called on every [`super::open_default`] while set.
    pub type Opener = Box<dyn FnMut() -> io::Result<Box<dyn Source>> + Send>;

    static OPENER: Mutex<Option<Opener>> = Mutex::new(None);

    /// Sets (`Some`) or clears (`None`) the opener.
    pub fn set_opener(opener: Option<Opener>) {
        *OPENER.lock().unwrap_or_else(|e| e.into_inner()) = opener;
    }

    pub(super) fn open() -> Option<io::Result<Box<dyn Source>>> {
        let mut g = OPENER.lock().unwrap_or_else(|e| e.into_inner());
        g.as_mut().map(|f| f())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The snapshot source has a descriptor (its inotify watch), stays
    /// quiet when nothing happened, and re-reads a rewrite even when the
    /// file's modification time and size come out the same.
    #[test]
    fn snapshot_rewrite_with_the_same_stamp_is_noticed() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("ports.snap");
        let line = |name: &str| {
            format!(
                "port pci/0000:03:00.0/1 flavour pcipf pfnum 0 hw_addr 02:00:00:00:00:10 \
                 netdev {name} ifindex 11\n"
            )
        };
        std::fs::write(&file, line("pf0hpf"))?;
        let mut s = SnapshotSource::new(&file);
        assert_eq!(s.fds().len(), 1);
        let mut t = s.load()?;
        assert!(!s.drain(&mut t)?, "nothing happened");

        let mtime = std::fs::metadata(&file)?.modified()?;
        std::fs::write(&file, line("pf0xyz"))?;
        std::fs::File::options()
            .write(true)
            .open(&file)?
            .set_modified(mtime)?;
        assert!(s.drain(&mut t)?, "same size and mtime, new content");
        assert_eq!(t.entries()[0].name, Some("pf0xyz"));
        assert!(!s.drain(&mut t)?);
        std::fs::remove_dir_all(&dir)
    }
}
