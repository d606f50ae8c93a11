//! Logging what repeats at a rate limit: the first occurrence in full, the
//! next ones within [`WINDOW`] only counted, then one line that says how
//! many there were ("no address available: 31,204 more in the last 10 s").
//! A flood of one condition costs a line per window, not a line per packet.
//!
//! [`RateLimit`] is pure (time is an argument), so the policy is tested
//! without a clock; the shells hold one per kind of message and call
//! [`RateLimit::flush`] from their timers so a count is never held back
//! for long after a flood stops.

use std::time::{Duration, Instant};

/// How long after a logged line the same kind is only counted.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// What to do with one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Log it. `suppressed` of the same kind were counted and not logged
    /// since the last line (say so first).
    Log { suppressed: u64 },
    /// Only count it.
    Count,
}

/// The rate limit of one kind of message.
#[derive(Debug, Default, Clone)]
pub(crate) struct RateLimit {
    /// When the last line of this kind was logged.
    last: Option<Instant>,
    /// Occurrences counted, not logged, since then.
    suppressed: u64,
}

impl RateLimit {
    /// One occurrence at `now`.
    pub(crate) fn admit(&mut self, now: Instant) -> Admit {
        if self
            .last
            .is_some_and(|t| now.saturating_duration_since(t) < WINDOW)
        {
            self.suppressed += 1;
            return Admit::Count;
        }
        self.last = Some(now);
        Admit::Log {
            suppressed: std::mem::take(&mut self.suppressed),
        }
    }

    /// The count of occurrences not logged, once their window has ended;
    /// the caller logs it as a summary line. `None` while the window runs
    /// or when there is nothing to say.
    pub(crate) fn flush(&mut self, now: Instant) -> Option<u64> {
        let ended = self
            .last
            .is_some_and(|t| now.saturating_duration_since(t) >= WINDOW);
        if !ended || self.suppressed == 0 {
            return None;
        }
        // The summary is a line: the next window starts with it.
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }

    /// When [`RateLimit::flush`] next has something to say.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        (self.suppressed > 0).then(|| self.last.map(|t| t + WINDOW))?
    }
}

/// `31204` as `31,204`, as the summary lines print counts.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The summary line of `n` suppressed occurrences of `kind`.
pub(crate) fn summary(kind: &str, n: u64) -> String {
    format!(
        "{kind}: {} more in the last {} s",
        thousands(n),
        WINDOW.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_logs_one_line_per_window_and_a_count() {
        let t0 = Instant::now();
        let mut r = RateLimit::default();
        assert_eq!(r.admit(t0), Admit::Log { suppressed: 0 });
        let mut counted = 0;
        for ms in 1..10_000u64 {
            if r.admit(t0 + Duration::from_millis(ms)) == Admit::Count {
                counted += 1;
            }
        }
        assert_eq!(counted, 9_999);
        assert_eq!(r.flush(t0 + Duration::from_millis(9_999)), None);
        assert_eq!(r.deadline(), Some(t0 + WINDOW));
        // The flood goes on past the window: the next occurrence is logged
        // with the count of those before it.
        assert_eq!(r.admit(t0 + WINDOW), Admit::Log { suppressed: 9_999 });
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn a_flood_that_stops_is_summed_up_by_flush() {
        let t0 = Instant::now();
        let mut r = RateLimit::default();
        r.admit(t0);
        for s in 1..5 {
            r.admit(t0 + Duration::from_secs(s));
        }
        assert_eq!(r.flush(t0 + Duration::from_secs(9)), None);
        assert_eq!(r.flush(t0 + WINDOW), Some(4));
        assert_eq!(r.flush(t0 + WINDOW * 3), None, "said once");
        // The summary opened a window: the next occurrence is counted.
        assert_eq!(r.admit(t0 + WINDOW + Duration::from_secs(1)), Admit::Count);
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(31_204), "31,204");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(
            summary("no address available", 31_204),
            "no address available: 31,204 more in the last 10 s"
        );
    }
}
