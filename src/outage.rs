//! When the provider's table cannot be trusted, and when to try again.
//!
//! An *outage* is any time the representor table is not known to match the
//! source: the source could not be opened (a kernel without devlink, a
//! missing snapshot file), its first load failed, events were lost and the
//! resynchronisation that follows failed, or reloading after a caught panic
//! failed.  During an outage the provider plugs nothing (every CREATE is
//! declined, REMOVE stays allowed) and retries on a back-off: 1 s, doubling
//! up to 60 s.  See `Provider`'s module docs for why declining is the safe
//! choice.
//!
//! Pure bookkeeping on a millisecond clock (no I/O), so it is tested with a
//! fake clock.

use std::io;

/// First retry delay.
pub const FIRST_RETRY_MS: u64 = 1_000;
/// Longest retry delay.
pub const MAX_RETRY_MS: u64 = 60_000;

/// One outage: since when, why, and when to try again.
#[derive(Debug, Clone)]
pub struct Outage {
    since_ms: u64,
    retry_at_ms: u64,
    delay_ms: u64,
    attempts: u64,
    last_error: String,
    kind: io::ErrorKind,
    /// A port was declined because of this outage.
    wanted: bool,
}

impl Outage {
    /// An outage that starts at `now` because of `e` (the first attempt,
    /// already failed); the next attempt is due [`FIRST_RETRY_MS`] later.
    pub fn new(now: u64, e: &io::Error) -> Outage {
        Outage {
            since_ms: now,
            retry_at_ms: now.saturating_add(FIRST_RETRY_MS),
            delay_ms: FIRST_RETRY_MS,
            attempts: 1,
            last_error: e.to_string(),
            kind: e.kind(),
            wanted: false,
        }
    }

    /// A port was declined because of this outage: someone waits for the
    /// source (see [`Outage::needs_timer`]).
    pub fn note_declined(&mut self) {
        self.wanted = true;
    }

    /// Whether the retry deserves a timer of its own (a wakeup of the
    /// host): always for a failure, but for "nothing to plug" only once a
    /// port asked for a representor.  A host without devlink and without
    /// representor ports (OVN's own testsuite, say) then never wakes up
    /// for us; its retries ride on wakeups that happen anyway.
    pub fn needs_timer(&self) -> bool {
        self.wanted || !self.nothing_to_plug()
    }

    /// Another attempt failed at `now` with `e`: doubles the delay (up to
    /// [`MAX_RETRY_MS`]).  Returns whether the reason changed (worth a log
    /// line at the outage's level; a repeat is a debug line).
    pub fn failed_again(&mut self, now: u64, e: &io::Error) -> bool {
        self.attempts += 1;
        self.delay_ms = self.delay_ms.saturating_mul(2).min(MAX_RETRY_MS);
        self.retry_at_ms = now.saturating_add(self.delay_ms);
        let text = e.to_string();
        let changed = text != self.last_error;
        self.last_error = text;
        self.kind = e.kind();
        changed
    }

    /// Whether the next attempt is due at `now`.
    pub fn due(&self, now: u64) -> bool {
        now >= self.retry_at_ms
    }

    /// Milliseconds until the next attempt (0 when due).
    pub fn retry_in_ms(&self, now: u64) -> u64 {
        self.retry_at_ms.saturating_sub(now)
    }

    pub fn since_ms(&self) -> u64 {
        self.since_ms
    }

    /// Attempts so far, the first one included.
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    pub fn last_error(&self) -> &str {
        &self.last_error
    }

    /// Nothing to plug rather than something broken: no devlink in this
    /// kernel, or no snapshot file (yet).  Logged at info level, not as a
    /// warning: a host without representors is not misconfigured (and
    /// OVN's testsuite fails on any unexpected warning).
    pub fn nothing_to_plug(&self) -> bool {
        self.kind == io::ErrorKind::NotFound
    }

    /// One line for `show`: what is wrong and when the next attempt is.
    pub fn describe(&self, now: u64) -> String {
        let what = if self.nothing_to_plug() {
            "nothing to plug"
        } else {
            "degraded"
        };
        format!(
            "{what}: {}; declining every port; {} attempts in {} s, next in {} s",
            self.last_error,
            self.attempts,
            now.saturating_sub(self.since_ms) / 1000,
            self.retry_in_ms(now).div_ceil(1000)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_doubling_up_to_the_cap() {
        let e = io::Error::new(io::ErrorKind::NotFound, "this kernel has no devlink");
        let mut o = Outage::new(10_000, &e);
        assert!(o.nothing_to_plug());
        assert!(!o.needs_timer(), "nobody waits");
        o.note_declined();
        assert!(o.needs_timer());
        assert!(!o.due(10_999));
        assert!(o.due(11_000));
        assert_eq!(o.retry_in_ms(10_500), 500);
        let mut now = 11_000;
        let mut delays = Vec::new();
        for _ in 0..9 {
            assert!(!o.failed_again(now, &e), "same reason");
            delays.push(o.retry_in_ms(now));
            now += o.retry_in_ms(now);
        }
        assert_eq!(
            delays,
            [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]
        );
        assert_eq!(o.attempts(), 10);
        let other = io::Error::other("resync: EBUSY");
        assert!(o.failed_again(now, &other), "a new reason");
        assert!(!o.nothing_to_plug());
        let s = o.describe(now + 1);
        assert!(s.starts_with("degraded: resync: EBUSY;"), "{s}");
        assert!(s.ends_with("11 attempts in 303 s, next in 60 s"), "{s}");
    }
}
