//! Upstream selection: which servers a forwarded query tries, in what order,
//! and how long each attempt may take.
//!
//! Servers that answer are preferred by smoothed round-trip time; a server
//! that times out is passed over (backing off exponentially, up to a minute)
//! until its back-off ends or every other server has failed too. With
//! `--strict-order`, the configured order is kept. Time is passed in.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The longest a single attempt waits: failover happens well within 1 s.
pub const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
/// The shortest, so a fast server's jitter does not cause spurious retries.
pub const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(150);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
struct Upstream {
    addr: SocketAddr,
    /// Smoothed RTT (RFC 6298 style, α = 1/8); `None` until it answers.
    srtt: Option<Duration>,
    /// Timeouts in a row.
    failures: u32,
    /// Not tried first before this instant (after a timeout).
    backoff_until: Option<Instant>,
    /// Answers and timeouts so far, for the statistics.
    answers: u64,
    timeouts: u64,
}

/// One upstream as the statistics show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamReport {
    pub addr: SocketAddr,
    /// Smoothed round-trip time, once it has answered.
    pub srtt: Option<Duration>,
    pub answers: u64,
    pub timeouts: u64,
    /// Timeouts in a row now.
    pub failing: u32,
}

#[derive(Debug, Clone)]
pub struct Upstreams {
    servers: Vec<Upstream>,
    strict_order: bool,
}

impl Upstreams {
    pub fn new(addrs: &[SocketAddr], strict_order: bool) -> Upstreams {
        let mut u = Upstreams {
            servers: Vec::new(),
            strict_order,
        };
        u.replace(addrs);
        u
    }

    /// Replaces the server list, keeping what is known about servers that
    /// stay. Returns whether the list changed. Queries in flight keep their
    /// own copy of their candidates and are not affected.
    pub fn replace(&mut self, addrs: &[SocketAddr]) -> bool {
        let old: Vec<SocketAddr> = self.servers.iter().map(|s| s.addr).collect();
        if old == addrs {
            return false;
        }
        let mut servers = Vec::with_capacity(addrs.len());
        for a in addrs {
            if servers.iter().any(|s: &Upstream| s.addr == *a) {
                continue;
            }
            let known = self.servers.iter().find(|s| s.addr == *a).cloned();
            servers.push(known.unwrap_or(Upstream {
                addr: *a,
                srtt: None,
                failures: 0,
                backoff_until: None,
                answers: 0,
                timeouts: 0,
            }));
        }
        self.servers = servers;
        true
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(|s| s.addr).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Every server with its counters, in configured order.
    pub fn report(&self) -> Vec<UpstreamReport> {
        self.servers
            .iter()
            .map(|s| UpstreamReport {
                addr: s.addr,
                srtt: s.srtt,
                answers: s.answers,
                timeouts: s.timeouts,
                failing: s.failures,
            })
            .collect()
    }

    /// The order in which to try the default servers at `now`.
    pub fn candidates(&self, now: Instant) -> Vec<SocketAddr> {
        let mut order: Vec<&Upstream> = self.servers.iter().collect();
        let backing_off = |s: &Upstream| s.backoff_until.is_some_and(|t| t > now);
        if self.strict_order {
            // Configured order; a server in back-off still comes in its
            // place only after the others.
            order.sort_by_key(|s| backing_off(s));
        } else {
            // Healthy first, by RTT (unknown RTT after known ones, in
            // configured order); then those backing off, soonest first.
            order.sort_by_key(|s| {
                (
                    backing_off(s),
                    s.backoff_until.filter(|_| backing_off(s)),
                    s.srtt.unwrap_or(MAX_ATTEMPT_TIMEOUT),
                )
            });
        }
        order.into_iter().map(|s| s.addr).collect()
    }

    /// How long one attempt at `addr` may wait for its answer.
    pub fn attempt_timeout(&self, addr: SocketAddr) -> Duration {
        match self
            .servers
            .iter()
            .find(|s| s.addr == addr)
            .and_then(|s| s.srtt)
        {
            Some(srtt) => (srtt * 4).clamp(MIN_ATTEMPT_TIMEOUT, MAX_ATTEMPT_TIMEOUT),
            None => MAX_ATTEMPT_TIMEOUT,
        }
    }

    pub fn answered(&mut self, addr: SocketAddr, rtt: Duration) {
        if let Some(s) = self.servers.iter_mut().find(|s| s.addr == addr) {
            s.srtt = Some(match s.srtt {
                Some(old) => (old * 7 + rtt) / 8,
                None => rtt,
            });
            s.failures = 0;
            s.backoff_until = None;
            s.answers += 1;
        }
    }

    pub fn timed_out(&mut self, addr: SocketAddr, now: Instant) {
        if let Some(s) = self.servers.iter_mut().find(|s| s.addr == addr) {
            s.failures = s.failures.saturating_add(1);
            s.timeouts += 1;
            let backoff = Duration::from_secs(1 << s.failures.min(6)).min(MAX_BACKOFF);
            s.backoff_until = Some(now + backoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> [SocketAddr; 3] {
        [
            "10.0.0.1:53".parse().unwrap(),
            "10.0.0.2:53".parse().unwrap(),
            "10.0.0.3:53".parse().unwrap(),
        ]
    }

    #[test]
    fn a_silent_server_is_passed_over_until_its_backoff_ends() {
        let [a, b, c] = addrs();
        let mut u = Upstreams::new(&[a, b, c], false);
        let t0 = Instant::now();
        assert_eq!(u.candidates(t0), [a, b, c]);
        u.timed_out(a, t0);
        assert_eq!(u.candidates(t0), [b, c, a]);
        u.answered(b, Duration::from_millis(5));
        assert_eq!(u.attempt_timeout(b), MIN_ATTEMPT_TIMEOUT);
        assert_eq!(u.attempt_timeout(c), MAX_ATTEMPT_TIMEOUT);
        assert!(MAX_ATTEMPT_TIMEOUT < Duration::from_secs(1));
        // After the back-off, a comes back, behind the server that answers.
        assert_eq!(u.candidates(t0 + Duration::from_secs(3)), [b, a, c]);
    }

    #[test]
    fn faster_servers_first_unless_strict_order() {
        let [a, b, c] = addrs();
        let mut u = Upstreams::new(&[a, b, c], false);
        u.answered(a, Duration::from_millis(40));
        u.answered(c, Duration::from_millis(4));
        assert_eq!(u.candidates(Instant::now()), [c, a, b]);
        let mut s = Upstreams::new(&[a, b, c], true);
        s.answered(c, Duration::from_millis(4));
        let now = Instant::now();
        assert_eq!(s.candidates(now), [a, b, c]);
        s.timed_out(a, now);
        assert_eq!(s.candidates(now), [b, c, a]);
    }

    #[test]
    fn replacing_keeps_what_is_known_of_remaining_servers() {
        let [a, b, c] = addrs();
        let mut u = Upstreams::new(&[a, b], false);
        u.answered(b, Duration::from_millis(3));
        assert!(u.replace(&[c, b]));
        assert!(!u.replace(&[c, b]));
        assert_eq!(u.candidates(Instant::now()), [b, c]);
    }
}
