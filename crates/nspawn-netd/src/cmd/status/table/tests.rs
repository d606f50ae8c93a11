use std::net::Ipv4Addr;

use netd_serve::stats::Histogram;
use netd_serve::status::{
    CacheStatus, Dhcp4Status, DnsStatus, LeaseStatus, RaStatus, Status, UpstreamStatus,
};

use super::*;

fn sample() -> Status {
    Status {
        interface: "nat0".into(),
        version: "0.1.0".into(),
        time: 1_000_000,
        uptime_secs: 3725,
        dhcp4: Some(Dhcp4Status {
            pool_size: 81,
            free: 80,
            leases: vec![LeaseStatus {
                mac: "52:54:00:12:34:56".into(),
                ip: Ipv4Addr::new(192, 168, 26, 20),
                name: Some("web".into()),
                expires: Some(1_000_000 + 43_140),
                arp: Some(true),
            }],
            counters: [("nak".to_string(), 2)].into_iter().collect(),
            reply_latency: Histogram::default().snapshot(),
        }),
        dns: Some(DnsStatus {
            cache: CacheStatus {
                entries: 3,
                bytes: 2048,
                hits: 5,
                misses: 3,
                insertions: 3,
                evictions: 0,
            },
            upstreams: vec![UpstreamStatus {
                address: "203.0.113.2:53".parse().unwrap(),
                in_use: true,
                answers: 3,
                timeouts: 1,
                failing: 0,
                latency_ms: Some(1.25),
            }],
            counters: [("malformed".to_string(), 1)].into_iter().collect(),
            upstream_latency: Histogram::default().snapshot(),
        }),
        ra: Some(RaStatus {
            prefixes: vec!["fd23::/64".into()],
            last_sent_ms: Some(999_990_000),
            next_due_ms: Some(1_000_120_000),
            counters: Default::default(),
        }),
        dhcp6: None,
    }
}

#[test]
fn the_status_table_shows_leases_pool_cache_upstreams_ra_and_counters() {
    let t = status(&sample());
    for want in [
        "nspawn-netd 0.1.0 on nat0, up 1h 02m",
        "DHCPv4: 1 leases, pool 81, 80 free",
        "52:54:00:12:34:56  192.168.26.20  web   in 11h 59m  yes",
        "DNS cache: 3 entries, 2.0 KiB, 5 hits, 3 misses",
        "203.0.113.2#53  yes     3        1         0        1.2 ms",
        "Router advertisements: fd23::/64; last sent 10 s ago, next due in 120 s",
        "dhcp4: nak 2",
        "dns: malformed 1",
    ] {
        assert!(t.contains(want), "{want:?} not in:\n{t}");
    }
}

#[test]
fn an_empty_lease_list_says_so_and_times_read_for_people() {
    assert_eq!(leases(&[], 0), "no leases\n");
    assert_eq!(human(45), "45 s");
    assert_eq!(human(3725), "1h 02m");
    assert_eq!(human(90_000), "1d 01h");
    assert_eq!(expiry(None, 5), "never");
    assert_eq!(expiry(Some(4), 5), "expired");
}
