//! Token-bucket rate limiting for log lines, OVS style
//! (`VLOG_RATE_LIMIT_INIT(rate, burst)`: `rate` lines per minute on average,
//! bursts of up to `burst`), plus a count of what was suppressed so the next
//! line can say so.  Time comes from the caller (milliseconds), so this is
//! pure and testable.

#[derive(Debug, Clone)]
pub struct RateLimit {
    per_minute: u64,
    burst: u64,
    /// Tokens scaled by 60_000 (one token = 60_000 units) to stay integral.
    units: u64,
    last_ms: Option<u64>,
    suppressed: u64,
}

const UNIT: u64 = 60_000;

impl RateLimit {
    pub const fn new(per_minute: u64, burst: u64) -> RateLimit {
        RateLimit {
            per_minute,
            burst,
            units: burst * UNIT,
            last_ms: None,
            suppressed: 0,
        }
    }

    /// Whether a line may be logged at `now_ms`.  When it may, returns how
    /// many were suppressed since the last allowed one.
    pub fn allow(&mut self, now_ms: u64) -> Option<u64> {
        if let Some(last) = self.last_ms {
            let elapsed = now_ms.saturating_sub(last);
            self.units =
                (self.units + elapsed.saturating_mul(self.per_minute)).min(self.burst * UNIT);
        }
        self.last_ms = Some(now_ms);
        if self.units >= UNIT {
            self.units -= UNIT;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

/// A [`RateLimit`] for one warning site that has no clock of its own (a
/// `static` per site), timed by the monotonic clock.
pub struct SiteLimit {
    inner: std::sync::Mutex<RateLimit>,
}

impl SiteLimit {
    pub const fn new(per_minute: u64, burst: u64) -> SiteLimit {
        SiteLimit {
            inner: std::sync::Mutex::new(RateLimit::new(per_minute, burst)),
        }
    }

    /// As [`RateLimit::allow`], now.
    pub fn allow(&self) -> Option<u64> {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let now = START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64;
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allow(now)
    }
}

/// ` [N similar lines suppressed]` when N > 0, for the line a limiter let
/// through.
pub fn suppressed_note(n: u64) -> String {
    if n > 0 {
        format!(" [{n} similar lines suppressed]")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let mut rl = RateLimit::new(6, 3); // one token per 10 s
        assert_eq!(rl.allow(0), Some(0));
        assert_eq!(rl.allow(0), Some(0));
        assert_eq!(rl.allow(0), Some(0));
        assert_eq!(rl.allow(1), None);
        assert_eq!(rl.allow(9_000), None);
        assert_eq!(rl.allow(10_001), Some(2), "reports what it suppressed");
        assert_eq!(rl.allow(10_002), None);
        // A long pause refills only up to the burst.
        for _ in 0..3 {
            assert!(rl.allow(1_000_000).is_some());
        }
        assert_eq!(rl.allow(1_000_000), None);
    }

    #[test]
    fn a_site_limit_lets_the_burst_through_then_holds() {
        static SITE: SiteLimit = SiteLimit::new(1, 2);
        assert_eq!(SITE.allow(), Some(0));
        assert_eq!(SITE.allow(), Some(0));
        // A minute's token is not back within this test.
        assert_eq!(SITE.allow(), None);
        assert_eq!(SITE.allow(), None);
        assert_eq!(suppressed_note(0), "");
        assert_eq!(suppressed_note(2), " [2 similar lines suppressed]");
    }
}
