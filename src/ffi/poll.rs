//! Wakeups: the provider's descriptors in the host's poll loop.  (The
//! descriptors themselves come from the sources: netlink sockets, and the
//! inotify watches of `crate::os::watch`.)
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

use std::os::fd::RawFd;

use super::shim;

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
}
