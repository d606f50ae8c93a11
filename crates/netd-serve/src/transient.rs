//! The failure policy every service shares: a receive or send error that
//! can pass (an ICMP error surfacing on a UDP socket, a full buffer, a
//! client gone) is counted and logged at a rate limit
//! ([`crate::ratelimit`]), with the number of others since; the service
//! goes on. An error that cannot pass ends the service with a
//! [`crate::ServeError`], and so the daemon.

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use tracing::warn;

use crate::ratelimit::{Admit, RateLimit};
use crate::stats;

/// Counts transient errors of one service and logs them at a rate limit.
#[derive(Debug)]
pub(crate) struct TransientErrors {
    service: &'static str,
    interface: String,
    limit: RateLimit,
}

impl TransientErrors {
    pub(crate) fn new(service: &'static str, interface: &str) -> TransientErrors {
        TransientErrors {
            service,
            interface: interface.to_owned(),
            limit: RateLimit::default(),
        }
    }

    /// Counts `err` in `counter` and logs it unless one was logged less
    /// than [`crate::ratelimit::WINDOW`] ago.
    pub(crate) fn note(&mut self, counter: &AtomicU64, what: &str, err: &dyn std::fmt::Display) {
        stats::add(counter, 1);
        match self.limit.admit(Instant::now()) {
            Admit::Count => {}
            Admit::Log { suppressed: 0 } => {
                warn!(service = self.service, interface = %self.interface, "{what}: {err}")
            }
            Admit::Log { suppressed } => {
                warn!(service = self.service, interface = %self.interface, "{what}: {err} ({suppressed} more since the last report)")
            }
        }
    }
}
