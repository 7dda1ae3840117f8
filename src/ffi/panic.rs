//! The panic boundary: no Rust panic ever unwinds into ovn-controller.
//!
//! Every `extern "C"` entry point runs its body through [`boundary`], which
//! catches a panic, logs it with the entry point's name, counts it, and
//! returns the entry point's safe failure value (false / an errno / nothing).
//! Since Rust 1.81 a panic reaching an `extern "C"` frame aborts the process:
//! without this, one bad input would take ovn-controller down.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

static PANICS: AtomicU64 = AtomicU64::new(0);

/// Number of panics caught since the library was loaded.
pub fn caught_panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Runs `f`; on panic logs, counts and returns `on_panic`.
///
/// `AssertUnwindSafe` is sound here because state that a panic may leave
/// half-updated lives behind the provider's mutex, and a poisoned mutex is
/// handled explicitly (the provider reloads its table from the kernel).
pub fn boundary<T>(entry: &'static str, on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            PANICS.fetch_add(1, Ordering::Relaxed);
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            // Logging itself must not panic back out of the boundary.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                log::error!(
                    "internal error in {entry}: {msg}; returning a safe failure \
                     (please report this bug)"
                )
            }));
            on_panic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_the_safe_value() {
        let before = caught_panics();
        let r = boundary("test", false, || -> bool { panic!("boom {}", 1) });
        assert!(!r);
        // Other tests may panic concurrently: the counter only grows.
        assert!(caught_panics() > before);
        assert_eq!(boundary("test", -1, || 7), 7);
    }
}
