//! The tokio shell around the DNS core: UDP and TCP service on sockets the
//! caller bound, upstream exchanges on fresh randomly bound sockets, and the
//! resolv.conf watcher. It owns the clock and the random source; every
//! decision is the core's.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::Semaphore;

use netd_proto::dns::resolver::Resolver;
use netd_proto::dns::upstream::Upstreams;

mod forward;
pub mod resolv_conf;
mod tcp;
mod udp;
mod watch;

pub use tcp::{TcpLimits, serve_tcp};
pub use udp::serve_udp;
pub use watch::{ResolvSource, reload_resolv, watch_resolv_conf};

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
}

impl Shared {
    pub fn new(resolver: Resolver, upstreams: Upstreams) -> Shared {
        Shared {
            resolver: Mutex::new(resolver),
            upstreams: Mutex::new(upstreams),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
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
