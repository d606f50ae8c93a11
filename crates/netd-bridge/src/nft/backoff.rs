//! When to repair our table: at once after an occasional removal (a
//! firewall reload, an `nft flush ruleset`), later and later when
//! something keeps removing it, so two programs that each want the
//! ruleset their way do not spin the CPU and flood the logs fighting.
//!
//! A *fight* is a run of repairs each found broken again within the quiet
//! period of the one before. Its first [`FREE_REPAIRS`] repairs are
//! immediate; after that each waits twice as long as the one before, from
//! [`MIN_DELAY`] up to [`MAX_DELAY`]. The table staying whole for the quiet
//! period ([`QUIET`], or twice the last delay if longer) ends the fight.
//!
//! Pure: the caller passes the time and does the repairing.

use std::time::{Duration, Instant};

/// Repairs in a row done at once before backing off: a reload may take
/// the table more than once.
pub const FREE_REPAIRS: u32 = 3;
/// The first delay once backing off.
pub const MIN_DELAY: Duration = Duration::from_secs(1);
/// The longest delay: the table is never left missing for longer.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// How long the table must stay whole after a repair to end a fight.
pub const QUIET: Duration = Duration::from_secs(30);

/// The repair schedule of one table.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    /// Repairs in the current fight.
    streak: u32,
    /// When the last repair was done.
    last_repair: Option<Instant>,
}

/// The delay before repair number `n` (from 1) of a fight.
pub fn delay_for(n: u32) -> Duration {
    if n <= FREE_REPAIRS {
        return Duration::ZERO;
    }
    let doublings = (n - FREE_REPAIRS - 1).min(16);
    (MIN_DELAY * (1u32 << doublings)).min(MAX_DELAY)
}

impl Backoff {
    /// The table was found broken at `now`: how long to wait before
    /// repairing it. Ends the current fight if the table had stayed whole
    /// long enough.
    pub fn on_broken(&mut self, now: Instant) -> Duration {
        let fighting = self
            .last_repair
            .is_some_and(|t| now.saturating_duration_since(t) < self.quiet_period());
        if !fighting {
            self.streak = 0;
        }
        delay_for(self.streak + 1)
    }

    /// The table was repaired at `now`.
    pub fn on_repaired(&mut self, now: Instant) {
        self.streak += 1;
        self.last_repair = Some(now);
    }

    /// Repairs in the current fight so far.
    pub fn streak(&self) -> u32 {
        self.streak
    }

    /// How long the table must stay whole to end the fight: twice the last
    /// delay, and at least [`QUIET`].
    fn quiet_period(&self) -> Duration {
        QUIET.max(delay_for(self.streak) * 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delays_double_from_one_second_to_a_minute_after_the_free_repairs() {
        let delays: Vec<u64> = (1..=12).map(|n| delay_for(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay_for(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn occasional_removals_are_repaired_at_once() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        for i in 0..10 {
            // Each removal comes long after the last repair: never a fight.
            let now = t0 + secs(i * 31);
            assert_eq!(b.on_broken(now), Duration::ZERO, "removal {i}");
            b.on_repaired(now);
            assert_eq!(b.streak(), 1);
        }
    }

    #[test]
    fn a_program_that_keeps_removing_the_table_is_backed_off_and_capped() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        let mut now = t0;
        let mut waited = Vec::new();
        for _ in 0..12 {
            // Removed again 100 ms after each repair.
            now += Duration::from_millis(100);
            let d = b.on_broken(now);
            waited.push(d.as_secs());
            now += d;
            b.on_repaired(now);
        }
        assert_eq!(waited, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn staying_whole_for_the_quiet_period_ends_the_fight() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        let mut now = t0;
        for _ in 0..6 {
            now += b.on_broken(now);
            b.on_repaired(now);
        }
        // The last delay was 4 s: 29 s of peace is not enough…
        assert_eq!(b.on_broken(now + secs(29)), secs(8));
        // …30 s is.
        assert_eq!(b.on_broken(now + secs(30)), Duration::ZERO);
        b.on_repaired(now + secs(30));
        assert_eq!(b.streak(), 1);
    }

    #[test]
    fn at_the_cap_the_quiet_period_is_two_delays() {
        let mut b = Backoff::default();
        let mut now = Instant::now();
        for _ in 0..11 {
            now += b.on_broken(now);
            b.on_repaired(now);
        }
        // Removed 90 s after a 60 s wait: still the same fight.
        assert_eq!(b.on_broken(now + secs(90)), MAX_DELAY);
        assert_eq!(b.on_broken(now + secs(120)), Duration::ZERO);
    }
}
