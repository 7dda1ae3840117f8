//! A blocking wait for readable descriptors (the CLI's `monitor`, tests).
//! The provider never blocks: in a host it registers its descriptors with
//! the host's poll loop instead (src/ffi/poll.rs).

use std::os::fd::RawFd;

/// Waits until one of `fds` is readable or `timeout_ms` passes (negative:
/// no timeout).  Returns whether any descriptor has something to report:
/// readable, or an error or hangup its next read returns; false on a
/// timeout or a failed wait (e.g. interrupted by a signal).  A negative
/// number is skipped.
pub fn poll_readable(fds: &[RawFd], timeout_ms: i32) -> bool {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // libc, not rustix: rustix's poll takes borrowed descriptors, and the
    // callers hold raw numbers (Source::fds); poll(2) is sound for any
    // number, open or not.
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd structs that
    // poll may write `revents` into.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
    rc > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn readable_only_with_data() -> std::io::Result<()> {
        let (mut a, b) = UnixStream::pair()?;
        assert!(!poll_readable(&[b.as_raw_fd()], 0));
        assert!(!poll_readable(&[], 0));
        a.write_all(b"x")?;
        assert!(poll_readable(&[b.as_raw_fd()], 1000));
        assert!(poll_readable(&[a.as_raw_fd(), b.as_raw_fd()], 0));
        // A negative number is skipped (poll(2)).
        assert!(!poll_readable(&[-1], 0));
        assert!(poll_readable(&[-1, b.as_raw_fd()], 0));
        Ok(())
    }
}
