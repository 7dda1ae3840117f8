//! The provider's clock: `CLOCK_MONOTONIC_COARSE` in milliseconds.

use rustix::time::{clock_getres, clock_gettime, ClockId};

/// Milliseconds of `CLOCK_MONOTONIC_COARSE`: served from the vDSO without
/// entering the kernel on Linux (unlike `Instant::now()` on clocksources the
/// vDSO cannot read, e.g. some VMs), with jiffy resolution — plenty for the
/// provider's 100 ms freshness rule.
pub fn coarse_monotonic_ms() -> u64 {
    let ts = clock_gettime(ClockId::MonotonicCoarse);
    let ms = u64::try_from(ts.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1000)
        .saturating_add(u64::try_from(ts.tv_nsec).unwrap_or(0) / 1_000_000);
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

/// The resolution of [`coarse_monotonic_ms`] in whole ms, rounded up
/// (a jiffy: 1 to 10 ms).  A timer computed from the coarse clock is
/// lengthened by it: the coarse clock lags the real one by up to that
/// much, so a timer for exactly the computed delay can fire before the
/// deadline is due by the coarse clock, and the host loops once for
/// nothing.
pub fn coarse_resolution_ms() -> u64 {
    static RES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *RES.get_or_init(|| {
        let ts = clock_getres(ClockId::MonotonicCoarse);
        let ns = u64::try_from(ts.tv_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(ts.tv_nsec).unwrap_or(0));
        ns.div_ceil(1_000_000).clamp(1, 1_000)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_resolution_is_a_few_ms() {
        let r = coarse_resolution_ms();
        assert!((1..=1_000).contains(&r), "{r}");
    }

    #[test]
    fn clock_moves_forward() {
        let a = coarse_monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = coarse_monotonic_ms();
        assert!(a > 0 && b >= a + 20, "{a} -> {b}");
    }

    /// The same clock as libc's `CLOCK_MONOTONIC_COARSE` (rustix reads it
    /// through the vDSO itself).
    #[test]
    fn agrees_with_libc() {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let before = coarse_monotonic_ms();
        // SAFETY: `ts` is a valid, writable timespec.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) },
            0
        );
        let after = coarse_monotonic_ms();
        let libc_ms = ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000;
        assert!(
            before <= libc_ms && libc_ms <= after,
            "{before} {libc_ms} {after}"
        );
    }
}
