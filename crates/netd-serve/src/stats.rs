//! One `Stats` value per service: counters the service's tasks bump, gauges
//! they set and latency histograms they record into, read by the daemon
//! (SIGUSR1's log lines, `status`, the metrics endpoint: all through
//! [`crate::status`]) without stopping the service. Relaxed atomics: each
//! value is independent, and a report a packet stale is fine.

use std::sync::atomic::{AtomicU64, Ordering};

mod histogram;

pub use histogram::{BOUNDS, Histogram, HistogramSnapshot};

/// Declares a stats struct of `AtomicU64` fields, and optionally
/// [`Histogram`] fields, with `snapshot()` (the numbers by name, in
/// declaration order) and `histograms()`.
macro_rules! stats {
    ($(#[$m:meta])* $name:ident {
        $($(#[$fm:meta])* $field:ident),* $(,)?
    } $(histograms { $($(#[$hm:meta])* $h:ident),* $(,)? })?) => {
        $(#[$m])*
        #[derive(Debug, Default)]
        pub struct $name {
            $($(#[$fm])* pub $field: std::sync::atomic::AtomicU64,)*
            $($($(#[$hm])* pub $h: Histogram,)*)?
        }

        impl $name {
            /// Every counter and gauge, by name.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field.load(std::sync::atomic::Ordering::Relaxed)),)*]
            }

            /// Every histogram, by name.
            pub fn histograms(&self) -> Vec<(&'static str, HistogramSnapshot)> {
                vec![$($((stringify!($h), self.$h.snapshot()),)*)?]
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

/// Reads a value.
pub fn get(value: &AtomicU64) -> u64 {
    value.load(Ordering::Relaxed)
}

/// A point in time as a gauge: milliseconds since the Unix epoch (0:
/// never).
pub fn unix_millis(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
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
        /// Gauges: leases and offers held, the pool's size, and the
        /// dynamic addresses no lease, offer or decline hold takes.
        leases, pool_size, free,
    }
    histograms {
        /// From a request's arrival to its reply's sending; an ACK waits
        /// for the lease file, so this includes the write.
        reply_latency,
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
    histograms {
        /// One upstream attempt's round trip, for every attempt answered.
        upstream_latency,
    }
}

stats! {
    /// Router advertisements.
    RaStats {
        sent, solicits, solicited, dropped, io_errors,
        /// Gauges: when the last RA went out and when the next is due
        /// (milliseconds since the Unix epoch; 0: none yet).
        last_sent_ms, next_due_ms,
    }
}

stats! {
    /// Stateless DHCPv6.
    Dhcp6Stats {
        replies, advertises, malformed, ignored, io_errors,
    }
}
