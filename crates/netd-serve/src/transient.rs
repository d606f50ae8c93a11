//! The failure policy every service shares: a receive or send error that
//! can pass (an ICMP error surfacing on a UDP socket, a full buffer, a
//! client gone) is counted and logged at most once per [`LOG_EVERY`], with
//! the number of others since; the service goes on. An error that cannot
//! pass ends the service with a [`crate::ServeError`], and so the daemon.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use tracing::warn;

use crate::stats;

/// At most one log line per service and kind of error this often.
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counts transient errors of one service and logs them at a rate limit.
#[derive(Debug)]
pub(crate) struct TransientErrors {
    service: &'static str,
    interface: String,
    last_log: Option<Instant>,
    suppressed: u64,
}

impl TransientErrors {
    pub(crate) fn new(service: &'static str, interface: &str) -> TransientErrors {
        TransientErrors {
            service,
            interface: interface.to_owned(),
            last_log: None,
            suppressed: 0,
        }
    }

    /// Counts `err` in `counter` and logs it unless one was logged less
    /// than [`LOG_EVERY`] ago.
    pub(crate) fn note(&mut self, counter: &AtomicU64, what: &str, err: &dyn std::fmt::Display) {
        stats::add(counter, 1);
        let now = Instant::now();
        if self
            .last_log
            .is_some_and(|t| now.duration_since(t) < LOG_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        if self.suppressed > 0 {
            warn!(service = self.service, interface = %self.interface, "{what}: {err} ({} more since the last report)", self.suppressed);
        } else {
            warn!(service = self.service, interface = %self.interface, "{what}: {err}");
        }
        self.last_log = Some(now);
        self.suppressed = 0;
    }
}
