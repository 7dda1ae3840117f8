//! Small libc wrappers that need `unsafe`, kept here so the rest of the
//! crate stays safe.

/// Milliseconds of `CLOCK_MONOTONIC_COARSE`: served from the vDSO without
/// entering the kernel on Linux (unlike `Instant::now()` on clocksources the
/// vDSO cannot read, e.g. some VMs), with jiffy resolution — plenty for the
/// provider's 100 ms freshness rule.
pub fn coarse_monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return 0;
    }
    let ms = (ts.tv_sec as u64).saturating_mul(1000) + (ts.tv_nsec as u64) / 1_000_000;
    #[cfg(feature = "test-support")]
    let ms = ms.saturating_add(test_support::offset_ms());
    ms
}

/// Test hook (feature `test-support`, never in the shipped library): an
/// offset added to [`coarse_monotonic_ms`], so tests move the provider's
/// clock forward (freshness rule, back-offs) without sleeping.
#[cfg(feature = "test-support")]
pub mod test_support {
    use std::sync::atomic::{AtomicU64, Ordering};

    static OFFSET_MS: AtomicU64 = AtomicU64::new(0);

    /// Moves the clock `ms` forward (it never goes back).
    pub fn advance_ms(ms: u64) {
        OFFSET_MS.fetch_add(ms, Ordering::Relaxed);
    }

    pub(super) fn offset_ms() -> u64 {
        OFFSET_MS.load(Ordering::Relaxed)
    }
}

/// Copies `s` into a `malloc`ed NUL-terminated string (NULL if out of
/// memory), to be released with [`free_cstring`].  An interior NUL (never
/// in a netdev name) truncates.
pub fn malloc_cstring(s: &str) -> *mut libc::c_char {
    let bytes = s.as_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    // SAFETY: malloc with a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(len + 1) }.cast::<u8>();
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `p` has room for len + 1 bytes and does not overlap `bytes`.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, len);
        *p.add(len) = 0;
    }
    p.cast()
}

/// Copies a NUL-padded netdev name into a `malloc`ed buffer of
/// `IFNAMSIZ` bytes (NULL if out of memory): a fixed-size copy, no length
/// scan.  Released with [`free_cstring`].
#[inline]
pub fn malloc_ifname(name: &[u8; crate::table::IFNAMSIZ]) -> *mut libc::c_char {
    // SAFETY: malloc with a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(name.len()) }.cast::<[u8; crate::table::IFNAMSIZ]>();
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `p` is a fresh allocation of IFNAMSIZ bytes (malloc's
    // alignment suits a byte array); `name` ends with at least one NUL
    // (a name is at most IFNAMSIZ - 1 bytes), so the copy is a C string.
    unsafe { p.write(*name) };
    p.cast()
}

/// Releases a string from [`malloc_cstring`] or [`malloc_ifname`] (NULL
/// is fine).
///
/// # Safety
/// `p` is NULL or came from one of those and was not freed yet.
pub unsafe fn free_cstring(p: *mut libc::c_char) {
    // SAFETY: per the contract, `p` is NULL or a live malloc allocation.
    unsafe { libc::free(p.cast()) }
}

/// Waits until one of `fds` is readable or `timeout_ms` passes (for the
/// CLI's `monitor`; the provider itself never blocks).  Returns whether any
/// descriptor is readable.
pub fn poll_readable(fds: &[std::os::fd::RawFd], timeout_ms: i32) -> bool {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd structs that
    // poll may write `revents` into.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
    rc > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_moves_forward() {
        let a = coarse_monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = coarse_monotonic_ms();
        assert!(a > 0 && b >= a + 20, "{a} -> {b}");
    }

    #[test]
    fn cstring_round_trip() {
        let p = malloc_cstring("eth5");
        // SAFETY: p is a fresh NUL-terminated allocation.
        let s = unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned();
        assert_eq!(s, "eth5");
        // SAFETY: p came from malloc_cstring.
        unsafe { free_cstring(p) };
        let name = crate::table::NetdevName::new("c1pf0vf15");
        assert!(name.is_some());
        let p = malloc_ifname(name.unwrap_or_default().as_c_bytes());
        // SAFETY: p is a fresh NUL-terminated allocation.
        let s = unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(s.to_bytes(), b"c1pf0vf15");
        // SAFETY: p came from malloc_ifname.
        unsafe { free_cstring(p) };
    }
}
