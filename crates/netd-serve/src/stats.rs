//! One `Stats` value per service: counters the service's tasks bump and
//! gauges they set, read by the daemon (SIGUSR1's log lines) without
//! stopping the service. Relaxed atomics: each value is independent, and a
//! report a packet stale is fine.

use std::sync::atomic::{AtomicU64, Ordering};

/// Declares a stats struct of `AtomicU64` fields with `snapshot()`, which
/// lists them by name in declaration order.
macro_rules! stats {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default)]
        pub struct $name {
            $($(#[$fm])* pub $field: std::sync::atomic::AtomicU64,)*
        }

        impl $name {
            /// Every value, by name.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field.load(std::sync::atomic::Ordering::Relaxed)),)*]
            }
        }
    };
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Sets a gauge.
pub fn set(gauge: &AtomicU64, v: u64) {
    gauge.store(v, Ordering::Relaxed);
}

stats! {
    /// DHCPv4: messages by type, answers, and the lease table.
    Dhcp4Stats {
        discover, request, decline, release, inform,
        offer, ack, nak,
        /// DISCOVERs that found no free address.
        exhausted,
        /// Packets that were not a usable DHCP request.
        malformed,
        /// Receive or send errors (transient; the service goes on).
        io_errors,
        /// Lease-file writes completed, and failed.
        writes, write_failures,
        /// Gauges: leases held, and the pool's size.
        leases, pool_size,
    }
}

stats! {
    /// DNS: queries, how they were answered, the cache.
    DnsStats {
        queries, answered_locally, cache_hits, forwarded, refused, malformed,
        /// Forwarded queries that got no upstream answer (SERVFAIL).
        upstream_failures,
        /// Misses dropped because `--dns-forward-max` were in flight (or
        /// too many waited for one question), and because their client
        /// had its share in flight.
        dropped, source_limited,
        /// Misses that waited for an identical query's upstream exchange.
        merged,
        /// TCP connections closed to make room for a new one.
        tcp_evicted,
        /// Upstreams refused because they are one of our own addresses.
        upstream_loops,
        io_errors,
        /// Gauges: cache entries and their bytes, insertions and evictions
        /// so far, answers too big to keep, replies that found a live entry.
        cache_entries, cache_bytes, cache_insertions, cache_evictions,
        cache_too_big, cache_kept_live,
    }
}

stats! {
    /// Router advertisements.
    RaStats {
        sent, solicits, solicited, dropped, io_errors,
    }
}

stats! {
    /// Stateless DHCPv6.
    Dhcp6Stats {
        replies, advertises, malformed, ignored, io_errors,
    }
}
