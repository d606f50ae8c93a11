//! SIGUSR1's statistics, logged as dnsmasq logs them: the cache (size,
//! insertions, evictions, hits, misses), queries forwarded and answered
//! locally, each upstream with its answers, timeouts and latency, leases in
//! use against the pool, and DHCP and RA messages by type.

use std::sync::Arc;

use netd_serve::dns::Shared;
use netd_serve::stats::{Dhcp4Stats, Dhcp6Stats, DnsStats, RaStats};
use tracing::info;

/// The services' statistics, as the daemon holds them.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) dhcp4: Option<Arc<Dhcp4Stats>>,
    pub(crate) dns: Option<(Arc<DnsStats>, Arc<Shared>)>,
    pub(crate) ra: Option<Arc<RaStats>>,
    pub(crate) dhcp6: Option<Arc<Dhcp6Stats>>,
}

fn line(values: &[(&'static str, u64)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    /// Logs every line at info level.
    pub(crate) fn log(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        info!("statistics at time {now}");
        if let Some((stats, shared)) = &self.dns {
            let s = stats.snapshot();
            let get = |k: &str| s.iter().find(|(n, _)| *n == k).map_or(0, |(_, v)| *v);
            let queries = get("queries");
            let hits = get("cache_hits");
            info!(
                "cache size {}, {} cache insertions, {} evictions, {hits} hits, {} misses",
                get("cache_entries"),
                get("cache_insertions"),
                get("cache_evictions"),
                queries.saturating_sub(
                    hits + get("answered_locally") + get("refused") + get("malformed")
                )
            );
            info!(
                "queries forwarded {}, queries answered locally {}, refused {}, upstream failures {}",
                get("forwarded"),
                get("answered_locally"),
                get("refused"),
                get("upstream_failures")
            );
            info!(
                "cache bytes {}, answers too big to keep {}, late replies that found a live entry {}",
                get("cache_bytes"),
                get("cache_too_big"),
                get("cache_kept_live")
            );
            info!(
                "forwarded queries dropped at dns-forward-max {}, over a client's share {}, merged with one in flight {}; TCP connections closed for room {}; upstreams refused as our own address {}",
                get("dropped"),
                get("source_limited"),
                get("merged"),
                get("tcp_evicted"),
                get("upstream_loops")
            );
            for u in shared.upstreams().report() {
                let latency = u
                    .srtt
                    .map_or("-".to_owned(), |d| format!("{}ms", d.as_millis()));
                info!(
                    "server {}#{}: answers {}, timeouts {}, failing {}, avg. latency {latency}",
                    u.addr.ip(),
                    u.addr.port(),
                    u.answers,
                    u.timeouts,
                    u.failing
                );
            }
        }
        if let Some(d) = &self.dhcp4 {
            let s = d.snapshot();
            let get = |k: &str| s.iter().find(|(n, _)| *n == k).map_or(0, |(_, v)| *v);
            info!(
                "DHCP leases in use {} of pool {}",
                get("leases"),
                get("pool_size")
            );
            info!("DHCP {}", line(&s));
        }
        if let Some(r) = &self.ra {
            info!("router advertisements: {}", line(&r.snapshot()));
        }
        if let Some(d) = &self.dhcp6 {
            info!("DHCPv6: {}", line(&d.snapshot()));
        }
    }
}
