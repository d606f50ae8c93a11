//! The tokio shell around the DNS core: UDP and TCP service on sockets the
//! caller bound, upstream exchanges on fresh randomly bound sockets, and the
//! resolv.conf watcher. It owns the clock and the random source; every
//! decision is the core's.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Semaphore;

use netd_proto::dns::resolver::Resolver;
use netd_proto::dns::upstream::Upstreams;

mod forward;
pub(crate) mod resolv_conf;
pub mod service;
mod tcp;
mod udp;
mod watch;

pub use service::{DnsBound, DnsPlan, DnsSettings, plan};
pub use tcp::{TcpLimits, serve_tcp};
pub use udp::serve_udp;
pub use watch::{ResolvSource, reload_resolv, watch_resolv_conf};

use crate::stats::{self, DnsStats};

/// How many forwarded queries may wait for upstreams at once (dnsmasq's
/// `dns-forward-max` is 150); beyond it, new misses are dropped and the
/// client retries.
pub const MAX_IN_FLIGHT: usize = 1024;

/// What every task of the DNS service shares.
#[derive(Debug)]
pub struct Shared {
    /// The decision core and its cache; held only for one decision, never
    /// across an await.
    pub resolver: Mutex<Resolver>,
    /// The upstream selector; the watcher swaps its list.
    pub upstreams: Mutex<Upstreams>,
    /// Bounds forwarded queries in flight.
    pub in_flight: Semaphore,
    pub stats: Arc<DnsStats>,
}

impl Shared {
    pub fn new(resolver: Resolver, upstreams: Upstreams) -> Shared {
        Shared {
            resolver: Mutex::new(resolver),
            upstreams: Mutex::new(upstreams),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            stats: Arc::new(DnsStats::default()),
        }
    }

    /// Copies the core's counters into [`Shared::stats`]; called with the
    /// resolver's lock held, once per batch.
    pub fn publish(&self, r: &Resolver) {
        let (st, s) = (&self.stats, &r.stats);
        let (entries, insertions, evictions) = r.cache_counters();
        for (gauge, v) in [
            (&st.queries, s.queries),
            (&st.answered_locally, s.local),
            (&st.cache_hits, s.cache_hits),
            (&st.forwarded, s.forwarded),
            (&st.refused, s.refused),
            (&st.malformed, s.malformed),
            (&st.cache_entries, entries as u64),
            (&st.cache_bytes, r.cache_bytes() as u64),
            (&st.cache_insertions, insertions),
            (&st.cache_evictions, evictions),
        ] {
            stats::set(gauge, v);
        }
    }

    pub fn resolver(&self) -> MutexGuard<'_, Resolver> {
        self.resolver.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn upstreams(&self) -> MutexGuard<'_, Upstreams> {
        self.upstreams.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
