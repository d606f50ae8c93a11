//! The tokio shell around the DNS core: UDP and TCP service on sockets the
//! caller bound, upstream exchanges from a pool of random-port sockets
//! within limits per client and in all, identical questions merged, and the
//! resolv.conf watcher. It owns the clock and the random source; every
//! decision about a query is the core's.

use std::sync::{Arc, Mutex, MutexGuard};

use netd_proto::dns::resolver::Resolver;
use netd_proto::dns::upstream::Upstreams;

mod forward;
mod limits;
pub mod local_data;
mod merge;
mod pool;
pub(crate) mod resolv_conf;
pub mod service;
mod tcp;
mod tcp_slots;
mod udp;
mod watch;

pub use limits::DEFAULT_FORWARD_MAX;
pub use local_data::{Family, InterfaceName, hostname, read_interfaces};
pub use service::{DnsBound, DnsPlan, DnsSettings, HostsFiles, plan};
pub use tcp::serve_tcp;
pub use tcp_slots::TcpLimits;
pub use udp::serve_udp;
pub use watch::{ResolvSource, reload_resolv, watch_resolv_conf};

use crate::stats::{self, DnsStats};

/// What every task of the DNS service shares.
#[derive(Debug)]
pub struct Shared {
    /// The decision core and its cache; held only for one decision, never
    /// across an await.
    pub resolver: Mutex<Resolver>,
    /// The upstream selector; the watcher swaps its list.
    pub upstreams: Mutex<Upstreams>,
    /// Bounds forwarded queries in flight, in all and per client.
    pub(crate) limits: Arc<limits::ForwardLimits>,
    /// Questions being asked upstream, and the queries waiting for them.
    pub(crate) in_flight: Arc<merge::InFlight>,
    /// The sockets upstream queries leave from.
    pub(crate) pool: pool::UpstreamPool,
    pub stats: Arc<DnsStats>,
}

impl Shared {
    /// `forward_max`: `--dns-forward-max`.
    pub fn new(resolver: Resolver, upstreams: Upstreams, forward_max: usize) -> Shared {
        Shared {
            resolver: Mutex::new(resolver),
            upstreams: Mutex::new(upstreams),
            limits: Arc::new(limits::ForwardLimits::new(forward_max)),
            in_flight: Arc::default(),
            pool: pool::UpstreamPool::default(),
            stats: Arc::new(DnsStats::default()),
        }
    }

    /// Copies the core's counters into [`Shared::stats`]; called with the
    /// resolver's lock held, once per batch.
    pub fn publish(&self, r: &Resolver) {
        let (st, s) = (&self.stats, &r.stats);
        let c = r.cache_counters();
        for (gauge, v) in [
            (&st.queries, s.queries),
            (&st.answered_locally, s.local),
            (&st.cache_hits, s.cache_hits),
            (&st.forwarded, s.forwarded),
            (&st.refused, s.refused),
            (&st.malformed, s.malformed),
            (&st.cache_entries, c.entries),
            (&st.cache_bytes, c.bytes),
            (&st.cache_insertions, c.insertions),
            (&st.cache_evictions, c.evictions),
            (&st.cache_too_big, c.too_big),
            (&st.cache_kept_live, c.kept_live),
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
