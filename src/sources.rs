//! The provider's sources: the kernel (devlink + rtnetlink) in production,
//! or a snapshot file (`OVN_VIF_RS_SNAPSHOT`) for offline use and for hosts
//! without devlink.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use std::os::fd::RawFd;

use crate::devlink::socket::{NetlinkSocket, Transport};
use crate::kernel::KernelSource;
use crate::provider::Source;
use crate::snapshot;
use crate::table::Table;

/// Environment variable naming a snapshot file to serve instead of the kernel.
pub const ENV_SNAPSHOT: &str = "OVN_VIF_RS_SNAPSHOT";

/// A snapshot file; re-read when its modification time or size changes
/// (one `stat` per drain — this source is for tests and diagnosis, not for
/// production hot paths).
pub struct SnapshotSource {
    path: PathBuf,
    seen: Option<(SystemTime, u64)>,
}

impl SnapshotSource {
    pub fn new(path: impl Into<PathBuf>) -> SnapshotSource {
        SnapshotSource {
            path: path.into(),
            seen: None,
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
        let table = snapshot::parse(&text, false).map_err(|e| {
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
        if Some(self.stamp()?) == self.seen {
            return Ok(false);
        }
        let fresh = self.read()?;
        let changed = fresh.canonical() != table.canonical();
        // Swapped whole: a lookup never sees a half-read file.
        *table = fresh;
        Ok(changed)
    }

    fn describe(&self) -> String {
        format!("snapshot file {}", self.path.display())
    }
}

/// The source the provider uses when loaded by ovn-controller.
pub fn open_default() -> io::Result<Box<dyn Source>> {
    if let Some(path) = std::env::var_os(ENV_SNAPSHOT) {
        return Ok(Box::new(SnapshotSource::new(path)));
    }
    open_kernel()
}

fn open_kernel() -> io::Result<Box<dyn Source>> {
    Ok(Box::new(Kernel(KernelSource::open()?)))
}

/// The kernel: devlink ports (dump + `config` multicast group) joined with
/// rtnetlink links (renames, MACs, udev settling).
pub struct Kernel<T: Transport = NetlinkSocket>(pub KernelSource<T>);

impl<T: Transport + Send> Source for Kernel<T> {
    fn load(&mut self) -> io::Result<Table> {
        self.0.load()
    }

    fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        self.0.drain(table)
    }

    fn recheck_unsettled(&mut self, table: &mut Table) -> bool {
        self.0.recheck_unsettled(table)
    }

    fn fds(&self) -> Vec<RawFd> {
        self.0.fds().to_vec()
    }

    fn describe(&self) -> String {
        let s = self.0.stats();
        format!(
            "kernel (devlink + rtnetlink; {} events, {} resyncs, {} parse errors)",
            s.events(),
            s.resyncs,
            s.parse_errors
        )
    }
}
