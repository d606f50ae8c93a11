//! A [`Status`] as the log lines SIGUSR1 writes, in dnsmasq's manner: the
//! cache (size, bytes, insertions, evictions, hits, misses), queries
//! forwarded and answered locally, each upstream with its answers,
//! timeouts and latency, leases in use against the pool, RA state, and
//! each service's counters.

use super::{Counters, Status};

fn line(values: &Counters) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How long until or since `ms` (Unix milliseconds), from `now` (Unix
/// seconds): `in 12 s`, `3 s ago`, `never`.
pub fn relative(ms: Option<u64>, now: u64) -> String {
    let Some(ms) = ms else {
        return "never".into();
    };
    let now_ms = now.saturating_mul(1000);
    if ms > now_ms {
        format!("in {} s", (ms - now_ms).div_ceil(1000))
    } else {
        format!("{} s ago", (now_ms - ms) / 1000)
    }
}

/// Every line, in order.
pub fn lines(s: &Status) -> Vec<String> {
    let mut out = vec![format!(
        "statistics at time {}: {} {} on {}, up {} s",
        s.time, "nspawn-netd", s.version, s.interface, s.uptime_secs
    )];
    if let Some(d) = &s.dns {
        let c = &d.cache;
        out.push(format!(
            "cache size {}, {} bytes, {} cache insertions, {} evictions, {} hits, {} misses",
            c.entries, c.bytes, c.insertions, c.evictions, c.hits, c.misses
        ));
        let get = |k: &str| d.counters.get(k).copied().unwrap_or(0);
        out.push(format!(
            "queries forwarded {}, queries answered locally {}, refused {}, upstream failures {}, malformed {}",
            get("forwarded"),
            get("answered_locally"),
            get("refused"),
            get("upstream_failures"),
            get("malformed"),
        ));
        out.push(format!(
            "cache bytes {}, answers too big to keep {}, late replies that found a live entry {}",
            c.bytes,
            get("cache_too_big"),
            get("cache_kept_live")
        ));
        out.push(format!(
            "forwarded queries dropped at dns-forward-max {}, over a client's share {}, merged with one in flight {}; TCP connections closed for room {}; upstreams refused as our own address {}",
            get("dropped"),
            get("source_limited"),
            get("merged"),
            get("tcp_evicted"),
            get("upstream_loops")
        ));
        for u in &d.upstreams {
            let latency = u
                .latency_ms
                .map_or("-".to_owned(), |ms| format!("{ms:.1}ms"));
            out.push(format!(
                "server {}#{}: answers {}, timeouts {}, failing {}, avg. latency {latency}{}",
                u.address.ip(),
                u.address.port(),
                u.answers,
                u.timeouts,
                u.failing,
                if u.in_use { ", in use" } else { "" }
            ));
        }
    }
    if let Some(d) = &s.dhcp4 {
        let held = d.counters.get("leases").copied().unwrap_or(0);
        out.push(format!(
            "DHCP leases in use {held} of pool {}, {} free",
            d.pool_size, d.free
        ));
        out.push(format!("DHCP {}", line(&d.counters)));
    }
    if let Some(r) = &s.ra {
        out.push(format!(
            "router advertisements for {}: last sent {}, next due {}; {}",
            r.prefixes.join(" "),
            relative(r.last_sent_ms, s.time),
            relative(r.next_due_ms, s.time),
            line(&r.counters)
        ));
    }
    if let Some(c) = &s.dhcp6 {
        out.push(format!("DHCPv6: {}", line(c)));
    }
    out
}
