//! Wakeups: the provider's descriptors in the host's poll loop, and a
//! file watch (inotify) that gives the snapshot source such a descriptor.
//!
//! ovn-controller sleeps in `poll_block()` until one of the descriptors or
//! timers registered during the main-loop iteration fires.  Each `run`
//! (called once per iteration by an ovn-controller with ovn-patch) drains
//! the source and then registers its descriptors with
//! `poll_fd_wait_at(fd, POLLIN, "vif-plug-representor")` ([`wait_readable`]),
//! so a kernel event (or a rewrite of the snapshot file) wakes the loop
//! right away instead of at the next unrelated wakeup.  A descriptor must be
//! drained by the next `run`, or the loop would spin: sources drain
//! everything readable in `drain`.
//!
//! Never a descriptor that is readable and not drained: the loop would
//! return at once, every time, and ovn-controller would spin at 100% CPU
//! (see `Provider::wakeup`).  While the source is unavailable (not open,
//! or a resynchronisation failed) no descriptor is registered at all, only
//! a timer for the next retry ([`wait_timer`], `poll_timer_wait_at`).
//!
//! `poll_fd_wait_at` and `poll_timer_wait_at` are weak references of the C
//! shim; in a host without them (no OVS poll loop) nothing is registered.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The shim's functions: internal (not exported, kept out of the header).
/// cbindgen:ignore
mod shim {
    use std::os::raw::{c_char, c_int, c_short};
    extern "C" {
        pub fn ovn_vif_rs_shim_poll_available() -> bool;
        pub fn ovn_vif_rs_shim_poll_fd_wait(fd: c_int, events: c_short, at: *const c_char) -> bool;
        pub fn ovn_vif_rs_shim_poll_timer_wait(msec: i64, at: *const c_char) -> bool;
    }
}

/// What `poll_block()`'s "wakeup due to [POLLIN] on fd N (...) at WHERE"
/// debug line names.  Static: OVS keeps the pointer until poll_block().
const WHERE: &std::ffi::CStr = c"vif-plug-representor";

/// Whether the host has an OVS poll loop to register with.
pub fn available() -> bool {
    // SAFETY: tests a weak reference for NULL; no arguments.
    unsafe { shim::ovn_vif_rs_shim_poll_available() }
}

/// Asks the host's poll loop to wake up when any of `fds` is readable.
/// Returns how many were registered (0 without an OVS poll loop).
pub fn wait_readable(fds: &[RawFd]) -> usize {
    #[cfg(feature = "test-support")]
    test_support::record(fds);
    let mut n = 0;
    for &fd in fds {
        if fd < 0 {
            continue;
        }
        // SAFETY: poll_fd_wait_at only records (fd, events, where) for the
        // next poll_block(); `fd` is open (owned by the provider, which is
        // alive under the state lock) and WHERE is a static string.
        if unsafe { shim::ovn_vif_rs_shim_poll_fd_wait(fd, libc::POLLIN, WHERE.as_ptr()) } {
            n += 1;
        }
    }
    n
}

/// Test hook (feature `test-support`, never in the shipped library): while
/// armed, records every descriptor [`wait_readable`] was asked to register,
/// so an in-process test (no OVS poll loop) can check that none of them is
/// readable after the call, i.e. that a host's poll loop would not spin.
#[cfg(feature = "test-support")]
pub mod test_support {
    use std::os::fd::RawFd;
    use std::sync::Mutex;

    /// `None`: not armed, nothing recorded.
    static RECORD: Mutex<Option<Vec<RawFd>>> = Mutex::new(None);

    /// Arms (`true`, clearing the record) or disarms the recorder.
    pub fn arm(on: bool) {
        *RECORD.lock().unwrap_or_else(|e| e.into_inner()) = on.then(Vec::new);
    }

    /// The descriptors asked for since the last call (or arming).
    pub fn take() -> Vec<RawFd> {
        let mut g = RECORD.lock().unwrap_or_else(|e| e.into_inner());
        g.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(super) fn record(fds: &[RawFd]) {
        if let Some(v) = RECORD.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            v.extend(fds.iter().copied().filter(|&fd| fd >= 0));
        }
    }
}

/// Asks the host's poll loop to wake up after at most `ms` milliseconds
/// (`poll_timer_wait_at`), e.g. to retry opening or resynchronising the
/// source on a back-off.  Returns false without an OVS poll loop.
pub fn wait_timer(ms: u64) -> bool {
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    // SAFETY: poll_timer_wait_at only records (deadline, where) for the
    // next poll_block(); WHERE is a static string.
    unsafe { shim::ovn_vif_rs_shim_poll_timer_wait(ms, WHERE.as_ptr()) }
}

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
const MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_DELETE
    | libc::IN_ATTRIB;

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
        let dir = CString::new(dir.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
        // SAFETY: plain syscall; the result is checked.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `fd` is an inotify descriptor, `dir` a NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), dir.as_ptr(), MASK) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
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
        // more than everything else a miss does; only the `n` bytes the
        // kernel wrote are ever read.
        let mut buf = std::mem::MaybeUninit::<[u8; 4096]>::uninit();
        loop {
            // SAFETY: the kernel writes at most 4096 bytes into `buf`, which
            // is that large; an uninitialised destination is fine for read(2).
            let n = unsafe { libc::read(self.fd(), buf.as_mut_ptr().cast(), 4096) };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(hit),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(e),
                };
            }
            if n == 0 {
                return Ok(hit);
            }
            // SAFETY: read(2) returned n > 0, so the first n bytes of `buf`
            // (n <= 4096) are initialised by the kernel.
            let got = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n as usize) };
            hit |= self.scan(got);
        }
    }

    /// Walks `struct inotify_event { int wd; u32 mask, cookie, len; char
    /// name[len]; }` records (bounds-checked, native endianness).
    fn scan(&self, mut b: &[u8]) -> bool {
        let mut hit = false;
        let word = |b: &[u8], at: usize| -> u32 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&b[at..at + 4]);
            u32::from_ne_bytes(w)
        };
        while b.len() >= 16 {
            let mask = word(b, 4);
            let len = word(b, 12) as usize;
            let Some(name) = b.get(16..16 + len) else {
                return true; // truncated record: be safe, re-read
            };
            let name = name.split(|&c| c == 0).next().unwrap_or_default();
            if mask & (libc::IN_Q_OVERFLOW | libc::IN_IGNORED) != 0
                || self.name.is_empty()
                || name == self.name
            {
                hit = true;
            }
            b = &b[16 + len..];
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` binaries have no OVS poll loop: nothing is registered.
    #[test]
    fn no_poll_loop_in_a_plain_process() {
        assert!(!available());
        assert_eq!(wait_readable(&[0, 1, -1]), 0);
        assert!(!wait_timer(1000));
    }

    fn readable(fd: RawFd, ms: i32) -> bool {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, ms) == 1 }
    }

    #[test]
    fn watch_sees_rewrite_and_rename_but_not_other_files() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("ports.snap");
        std::fs::write(&file, "a\n")?;
        let w = FileWatch::new(&file)?;
        assert!(!readable(w.fd(), 0));
        assert!(!w.drain()?);

        std::fs::write(dir.join("other"), "x")?;
        assert!(readable(w.fd(), 1000));
        assert!(!w.drain()?, "another file in the directory");
        assert!(!readable(w.fd(), 0), "drained");

        std::fs::write(&file, "b\n")?;
        assert!(readable(w.fd(), 1000));
        assert!(w.drain()?);

        std::fs::write(dir.join("new"), "c\n")?;
        std::fs::rename(dir.join("new"), &file)?;
        assert!(w.drain()?, "replaced by rename");
        assert!(!w.drain()?);
        std::fs::remove_dir_all(&dir)
    }
}
