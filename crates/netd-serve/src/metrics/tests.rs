//! The text format of a status, and the plan's refusals.

use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;

use super::encode::{encode_status, render};
use crate::stats::Histogram;
use crate::status::{CacheStatus, Counters, Dhcp4Status, DnsStatus, Status, UpstreamStatus};

#[derive(Debug)]
struct Fixed(Status);

impl Collector for Fixed {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        encode_status(&self.0, &mut e)
    }
}

fn counters(pairs: &[(&str, u64)]) -> Counters {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn status() -> Status {
    let latency = Histogram::default();
    latency.observe(Duration::from_millis(3));
    latency.observe(Duration::from_millis(30));
    Status {
        interface: "nat0".into(),
        version: "0.1.0".into(),
        time: 1_800_000_000,
        uptime_secs: 42,
        dhcp4: Some(Dhcp4Status {
            pool_size: 81,
            free: 80,
            leases: vec![],
            counters: counters(&[("ack", 1), ("leases", 1), ("free", 80), ("pool_size", 81)]),
            reply_latency: latency.snapshot(),
        }),
        dns: Some(DnsStatus {
            cache: CacheStatus {
                entries: 1,
                bytes: 90,
                hits: 2,
                misses: 1,
                insertions: 1,
                evictions: 0,
            },
            upstreams: vec![UpstreamStatus {
                address: "203.0.113.2:53".parse().unwrap(),
                in_use: true,
                answers: 1,
                timeouts: 0,
                failing: 0,
                latency_ms: Some(1.5),
            }],
            counters: counters(&[("queries", 3), ("cache_hits", 2), ("cache_bytes", 90)]),
            upstream_latency: Histogram::default().snapshot(),
        }),
        ra: None,
        dhcp6: None,
    }
}

fn text() -> String {
    let mut registry = Registry::with_prefix("nspawn_netd");
    registry.register_collector(Box::new(Fixed(status())));
    render(&registry).unwrap()
}

#[test]
fn counters_gauges_and_histograms_are_named_and_typed() {
    let t = text();
    for want in [
        "# TYPE nspawn_netd_dhcp4_ack_total counter\nnspawn_netd_dhcp4_ack_total 1\n",
        "# TYPE nspawn_netd_dhcp4_free gauge\nnspawn_netd_dhcp4_free 80\n",
        "# TYPE nspawn_netd_dhcp4_leases gauge\nnspawn_netd_dhcp4_leases 1\n",
        "nspawn_netd_dns_queries_total 3\n",
        "nspawn_netd_dns_cache_bytes 90\n",
        "nspawn_netd_dns_upstream_answers_total{upstream=\"203.0.113.2#53\"} 1\n",
        "nspawn_netd_dns_upstream_in_use{upstream=\"203.0.113.2#53\"} 1\n",
        "# TYPE nspawn_netd_dhcp4_reply_latency_seconds histogram\n",
        "nspawn_netd_dhcp4_reply_latency_seconds_bucket{le=\"0.005\"} 1\n",
        "nspawn_netd_dhcp4_reply_latency_seconds_bucket{le=\"0.05\"} 2\n",
        "nspawn_netd_dhcp4_reply_latency_seconds_bucket{le=\"+Inf\"} 2\n",
        "nspawn_netd_dhcp4_reply_latency_seconds_count 2\n",
        "nspawn_netd_dns_upstream_latency_seconds_count 0\n",
        "nspawn_netd_uptime_seconds 42\n",
    ] {
        assert!(t.contains(want), "{want:?} not in:\n{t}");
    }
    assert!(
        !t.contains("# EOF"),
        "Prometheus's format, not OpenMetrics'"
    );
}
