//! [`FileWatch`]: inotify on a file's directory, for the snapshot source
//! (its file) and the kernel source (udev's database directory).

use std::ffi::OsStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;

/// Watches one file for replacement and rewrites (inotify on its directory,
/// so `mv new file` is seen as well as in-place writes).  The descriptor is
/// non-blocking; [`FileWatch::drain`] consumes what is pending.
#[derive(Debug)]
pub struct FileWatch {
    fd: OwnedFd,
    name: Vec<u8>,
}

/// Events that mean "the file may have new content" (not IN_MODIFY: a
/// writer in the middle of its writes has not finished the file).
const MASK: WatchFlags = WatchFlags::CLOSE_WRITE
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::DELETE)
    .union(WatchFlags::ATTRIB);

/// Room for a read of pending events: at least one record of the longest
/// name (16 + NAME_MAX + 1 bytes), and many of the usual short ones.
const BUF: usize = 4096;

impl FileWatch {
    /// Starts watching `path` (which need not exist yet; its directory
    /// must).
    pub fn new(path: &Path) -> io::Result<FileWatch> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?
            .as_bytes()
            .to_vec();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.as_os_str(),
            _ => OsStr::new("."),
        };
        if dir.as_bytes().contains(&0) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"));
        }
        let fd = inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC)?;
        inotify::add_watch(&fd, dir, MASK)?;
        Ok(FileWatch { fd, name })
    }

    /// Watches every file of directory `dir` (any file created, replaced
    /// or removed there is a hit): udev's database, `/run/udev/data`.
    pub fn directory(dir: &Path) -> io::Result<FileWatch> {
        let mut w = FileWatch::new(&dir.join("x"))?;
        w.name.clear();
        Ok(w)
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Consumes every pending event without blocking.  `Ok(true)` if one
    /// concerned the file, or events were lost (queue overflow, watch
    /// removed): the caller should re-read it.
    pub fn drain(&self) -> io::Result<bool> {
        let mut hit = false;
        // Not zeroed: a drain runs on every miss, and clearing 4 KiB cost
        // more than everything else a miss does; the reader only looks at
        // the bytes the kernel wrote.
        let mut buf = [MaybeUninit::<u8>::uninit(); BUF];
        let mut events = inotify::Reader::new(&self.fd, &mut buf);
        loop {
            match events.next() {
                Ok(e) => hit |= self.concerns(e.events(), e.file_name().map(|n| n.to_bytes())),
                Err(Errno::AGAIN) => return Ok(hit),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether an event (its mask and the name in the directory) means the
    /// watched file may have changed.
    fn concerns(&self, mask: ReadFlags, name: Option<&[u8]>) -> bool {
        mask.intersects(ReadFlags::QUEUE_OVERFLOW | ReadFlags::IGNORED)
            || self.name.is_empty()
            || name == Some(&self.name[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::poll_readable;

    #[test]
    fn watch_sees_rewrite_and_rename_but_not_other_files() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("ports.snap");
        std::fs::write(&file, "a\n")?;
        let w = FileWatch::new(&file)?;
        assert!(!poll_readable(&[w.fd()], 0));
        assert!(!w.drain()?);

        std::fs::write(dir.join("other"), "x")?;
        assert!(poll_readable(&[w.fd()], 1000));
        assert!(!w.drain()?, "another file in the directory");
        assert!(!poll_readable(&[w.fd()], 0), "drained");

        std::fs::write(&file, "b\n")?;
        assert!(poll_readable(&[w.fd()], 1000));
        assert!(w.drain()?);

        std::fs::write(dir.join("new"), "c\n")?;
        std::fs::rename(dir.join("new"), &file)?;
        assert!(w.drain()?, "replaced by rename");
        assert!(!w.drain()?);

        // Many events at once (more than one read's worth): all consumed.
        for i in 0..300 {
            std::fs::write(dir.join(format!("other-file-with-a-long-name-{i:04}")), "x")?;
        }
        assert!(!w.drain()?, "only other files");
        assert!(!poll_readable(&[w.fd()], 0), "drained");
        std::fs::remove_dir_all(&dir)
    }

    #[test]
    fn a_directory_watch_sees_every_file() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-dirwatch-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let w = FileWatch::directory(&dir)?;
        assert!(!w.drain()?);
        std::fs::write(dir.join("n7"), "x")?;
        assert!(w.drain()?);
        assert!(!w.drain()?);
        std::fs::remove_file(dir.join("n7"))?;
        assert!(w.drain()?);
        // The directory goes away: the watch is removed (IN_IGNORED, the
        // only event now), a hit: re-read.
        std::fs::remove_dir(&dir)?;
        assert!(w.drain()?);
        Ok(())
    }

    #[test]
    fn bad_paths_are_errors() {
        assert!(FileWatch::new(Path::new("/")).is_err(), "no file name");
        assert!(FileWatch::new(Path::new("/no/such/dir/file")).is_err());
        assert!(FileWatch::new(Path::new("/tmp/a\0b/file")).is_err());
    }
}
