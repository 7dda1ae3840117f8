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
}
