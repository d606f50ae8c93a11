//! When to send Router Advertisements (RFC 4861 6.2.4, 6.2.6), sans-IO: the
//! caller passes the time and a uniformly random `u32` into every call that
//! may schedule something, and sends a multicast RA whenever
//! [`Scheduler::handle_timeout`] says so.
//!
//! The schedule follows dnsmasq's: during the first minute RAs go out every
//! 5–20 s (the first [`MAX_INITIAL_RTR_ADVERTISEMENTS`] at most
//! [`MAX_INITIAL_RTR_ADVERT_INTERVAL`] apart), then every
//! [MinRtrAdvInterval, MaxRtrAdvInterval] (450–600 s by default). A Router
//! Solicitation is answered after a random delay of at most
//! [`MAX_RA_DELAY_TIME`], never sooner than [`MIN_DELAY_BETWEEN_RAS`] after
//! the previous RA, and not at all when the next scheduled RA comes first.
//! The final RA (router lifetime 0) is the shell's job on shutdown.

use std::time::{Duration, Instant};

/// RFC 4861 10: how many of the first RAs are sent at short intervals.
pub const MAX_INITIAL_RTR_ADVERTISEMENTS: u32 = 3;
/// RFC 4861 10: the longest interval between those first RAs.
pub const MAX_INITIAL_RTR_ADVERT_INTERVAL: Duration = Duration::from_secs(16);
/// RFC 4861 10: the shortest time between two multicast RAs.
pub const MIN_DELAY_BETWEEN_RAS: Duration = Duration::from_secs(3);
/// RFC 4861 10: the longest random delay before answering a solicitation.
pub const MAX_RA_DELAY_TIME: Duration = Duration::from_millis(500);
/// dnsmasq's "short period" after start, with its interval range.
const SHORT_PERIOD: Duration = Duration::from_secs(60);
const SHORT_PERIOD_INTERVAL: (Duration, Duration) =
    (Duration::from_secs(5), Duration::from_secs(20));

/// The unsolicited interval range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaTiming {
    /// MinRtrAdvInterval.
    pub min_interval: Duration,
    /// MaxRtrAdvInterval.
    pub max_interval: Duration,
}

impl RaTiming {
    /// dnsmasq's default: MaxRtrAdvInterval 600 s.
    pub const DEFAULT: RaTiming = RaTiming::from_max(Duration::from_secs(600));

    /// MinRtrAdvInterval = 3/4 of MaxRtrAdvInterval, as dnsmasq sets it.
    pub const fn from_max(max_interval: Duration) -> RaTiming {
        RaTiming {
            min_interval: Duration::from_millis(max_interval.as_millis() as u64 * 3 / 4),
            max_interval,
        }
    }
}

/// Why an RA is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Unsolicited,
    Solicited,
}

/// The RA schedule of one interface.
#[derive(Debug, Clone)]
pub struct Scheduler {
    timing: RaTiming,
    /// Start of the short period (dnsmasq's faster first minute).
    started: Instant,
    /// How many RAs went out, for the initial burst.
    sent: u32,
    /// When the last multicast RA went out, for the rate limit.
    last_sent: Option<Instant>,
    next_unsolicited: Instant,
    /// A pending answer to a solicitation.
    solicited_at: Option<Instant>,
}

impl Scheduler {
    /// A schedule whose first RA is due at `now`.
    pub fn new(now: Instant, timing: RaTiming) -> Self {
        Scheduler {
            timing,
            started: now,
            sent: 0,
            last_sent: None,
            next_unsolicited: now,
            solicited_at: None,
        }
    }

    /// When [`Self::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Instant {
        match self.solicited_at {
            Some(s) => s.min(self.next_unsolicited),
            None => self.next_unsolicited,
        }
    }

    /// Says whether an RA is due at `now`; if so, the caller sends it and the
    /// next one is scheduled using `random`.
    pub fn handle_timeout(&mut self, now: Instant, random: u32) -> Option<Trigger> {
        let trigger = if now >= self.next_unsolicited {
            Trigger::Unsolicited
        } else if self.solicited_at.is_some_and(|s| now >= s) {
            Trigger::Solicited
        } else {
            return None;
        };
        self.sent = self.sent.saturating_add(1);
        self.last_sent = Some(now);
        self.solicited_at = None;
        self.next_unsolicited = now + self.interval(now, random);
        Some(trigger)
    }

    /// A valid Router Solicitation arrived at `now`.
    pub fn handle_solicit(&mut self, now: Instant, random: u32) {
        if self.solicited_at.is_some() {
            return;
        }
        let mut at = now + pick(Duration::ZERO, MAX_RA_DELAY_TIME, random);
        if let Some(last) = self.last_sent {
            at = at.max(last + MIN_DELAY_BETWEEN_RAS);
        }
        if at < self.next_unsolicited {
            self.solicited_at = Some(at);
        }
    }

    /// The interval until the next unsolicited RA after one sent at `now`.
    fn interval(&self, now: Instant, random: u32) -> Duration {
        let (mut lo, mut hi) = if now.duration_since(self.started) < SHORT_PERIOD {
            SHORT_PERIOD_INTERVAL
        } else {
            (self.timing.min_interval, self.timing.max_interval)
        };
        hi = hi.min(self.timing.max_interval);
        if self.sent < MAX_INITIAL_RTR_ADVERTISEMENTS {
            hi = hi.min(MAX_INITIAL_RTR_ADVERT_INTERVAL);
        }
        lo = lo.min(hi);
        pick(lo, hi, random)
    }
}

/// A duration in `[lo, hi]`, placed by `random` (uniform over `u32`).
fn pick(lo: Duration, hi: Duration, random: u32) -> Duration {
    let span = (hi - lo).as_micros() as u64;
    lo + Duration::from_micros(span * u64::from(random) / u64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Runs the schedule for `until`, feeding `random` values in turn, and
    /// returns when unsolicited RAs were sent (seconds since start).
    fn run(timing: RaTiming, until: Duration, randoms: &[u32]) -> Vec<f64> {
        let t0 = Instant::now();
        let mut s = Scheduler::new(t0, timing);
        let mut sent = Vec::new();
        let mut i = 0;
        loop {
            let now = s.poll_timeout();
            if now > t0 + until {
                return sent;
            }
            let r = randoms[i % randoms.len()];
            i += 1;
            assert_eq!(s.handle_timeout(now, r), Some(Trigger::Unsolicited));
            sent.push(now.duration_since(t0).as_secs_f64());
        }
    }

    #[test]
    fn first_ra_at_once_then_a_short_burst_then_long_intervals() {
        // Longest intervals everywhere: shows every upper bound.
        let sent = run(RaTiming::DEFAULT, secs(2000), &[u32::MAX]);
        assert_eq!(&sent[..3], &[0.0, 16.0, 32.0], "burst at most 16 s apart");
        assert_eq!(sent[3], 52.0, "then 20 s during the first minute");
        assert_eq!(
            sent[4], 72.0,
            "the RA sent at 52 s still used the short period"
        );
        assert_eq!(sent[5], 672.0, "then MaxRtrAdvInterval");
        // Shortest intervals: the lower bounds.
        let sent = run(RaTiming::DEFAULT, secs(1000), &[0]);
        assert_eq!(&sent[..4], &[0.0, 5.0, 10.0, 15.0]);
        let after = sent.iter().position(|&t| t >= 60.0).unwrap();
        assert_eq!(sent[after + 1] - sent[after], 450.0);
    }

    #[test]
    fn intervals_stay_in_range_for_any_randomness() {
        let randoms: Vec<u32> = (0..97u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        let timing = RaTiming::from_max(secs(60));
        let sent = run(timing, secs(5000), &randoms);
        for w in sent.windows(2) {
            let gap = w[1] - w[0];
            if w[0] >= 60.0 {
                assert!((45.0..=60.0).contains(&gap), "{gap} after {}", w[0]);
            } else {
                assert!((5.0..=20.0).contains(&gap), "{gap} after {}", w[0]);
            }
        }
    }

    #[test]
    fn a_small_max_interval_caps_the_short_period() {
        let sent = run(RaTiming::from_max(secs(4)), secs(100), &[u32::MAX]);
        assert!(sent.windows(2).all(|w| w[1] - w[0] == 4.0), "{sent:?}");
    }

    #[test]
    fn solicitation_answered_within_half_a_second_but_not_within_3_s_of_the_last() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(t0, RaTiming::DEFAULT);
        assert_eq!(s.handle_timeout(t0, 0), Some(Trigger::Unsolicited));
        // Next unsolicited at t0+5 s. An RS at 1 s: rate-limited to 3 s.
        s.handle_solicit(t0 + secs(1), 0);
        assert_eq!(s.poll_timeout(), t0 + secs(3));
        assert_eq!(s.handle_timeout(t0 + secs(2), 0), None);
        assert_eq!(s.handle_timeout(t0 + secs(3), 0), Some(Trigger::Solicited));
        // A second RS while none is pending: random delay up to 0.5 s, but
        // still 3 s after the solicited one.
        s.handle_solicit(t0 + secs(4), u32::MAX);
        assert_eq!(s.poll_timeout(), t0 + secs(6));
        assert_eq!(s.handle_timeout(t0 + secs(6), 0), Some(Trigger::Solicited));
        // Long after: the delay is the random one, at most 0.5 s.
        let at = t0 + secs(7);
        s.handle_solicit(at, u32::MAX);
        assert_eq!(s.poll_timeout(), t0 + secs(9), "3 s after the one at 6 s");
        s.solicited_at = None;
        s.last_sent = Some(t0);
        s.handle_solicit(at, u32::MAX / 2);
        let delay = s.poll_timeout() - at;
        assert!(
            delay <= MAX_RA_DELAY_TIME && delay >= Duration::from_millis(249),
            "{delay:?}"
        );
    }

    #[test]
    fn solicitations_coalesce_and_yield_to_a_sooner_unsolicited_ra() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(t0, RaTiming::DEFAULT);
        s.handle_timeout(t0, 0); // next unsolicited at 5 s
        s.handle_solicit(t0 + secs(4), 0); // would be 4 s: pending
        let pending = s.poll_timeout();
        assert_eq!(pending, t0 + secs(4));
        s.handle_solicit(t0 + secs(4) + Duration::from_millis(100), 0);
        assert_eq!(s.poll_timeout(), pending, "a second RS changes nothing");
        let mut s = Scheduler::new(t0, RaTiming::DEFAULT);
        s.handle_timeout(t0, 0);
        s.handle_solicit(t0 + Duration::from_millis(4900), u32::MAX);
        assert_eq!(s.poll_timeout(), t0 + secs(5), "the scheduled RA answers");
        assert_eq!(
            s.handle_timeout(t0 + secs(5), 0),
            Some(Trigger::Unsolicited)
        );
    }
}
