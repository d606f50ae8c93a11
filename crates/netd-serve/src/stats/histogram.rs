//! A latency histogram of fixed buckets, recorded with a few relaxed atomic
//! additions (no lock, no allocation), read as a [`HistogramSnapshot`]
//! in Prometheus's shape: cumulative counts per upper bound, the sum and
//! the count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Upper bounds of the buckets, in seconds: 100 µs to 5 s, about three
/// per decade. A DHCP reply (with its fsync) and an upstream's answer both
/// fall inside.
pub const BOUNDS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// [`BOUNDS`] in nanoseconds, for the comparison on the recording path.
const BOUNDS_NS: [u64; 15] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
];

#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last is +Inf.
    buckets: [AtomicU64; BOUNDS.len() + 1],
    sum_ns: AtomicU64,
}

/// What a histogram held at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramSnapshot {
    /// `(upper bound in seconds, observations at or below it)`,
    /// cumulative, in increasing order; +Inf is [`HistogramSnapshot::count`].
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    /// Every observation added up, in seconds.
    pub sum: f64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BOUNDS_NS
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(BOUNDS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut buckets = Vec::with_capacity(BOUNDS.len());
        for (i, bound) in BOUNDS.iter().enumerate() {
            running += self.buckets[i].load(Ordering::Relaxed);
            buckets.push((*bound, running));
        }
        let count = running + self.buckets[BOUNDS.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            buckets,
            count,
            sum: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

impl HistogramSnapshot {
    /// The mean observation, once there is one.
    pub fn mean(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_secs_f64(self.sum / self.count as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_agree_in_both_units() {
        for (s, ns) in BOUNDS.iter().zip(BOUNDS_NS) {
            assert_eq!((s * 1e9).round() as u64, ns);
        }
    }

    #[test]
    fn observations_land_in_cumulative_buckets_with_sum_and_count() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(80)); // <= 100 µs
        h.observe(Duration::from_micros(100)); // on the bound: same bucket
        h.observe(Duration::from_millis(3)); // <= 5 ms
        h.observe(Duration::from_secs(9)); // +Inf
        let s = h.snapshot();
        assert_eq!(s.count, 4);
        assert_eq!(s.buckets[0], (0.0001, 2));
        assert_eq!(s.buckets[4], (0.0025, 2));
        assert_eq!(s.buckets[5], (0.005, 3));
        assert_eq!(s.buckets.last(), Some(&(5.0, 3)));
        assert!((s.sum - 9.00318).abs() < 1e-9, "{}", s.sum);
        assert!(s.mean().is_some());
        assert_eq!(Histogram::default().snapshot().mean(), None);
    }
}
