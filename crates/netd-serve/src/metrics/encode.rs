//! A [`Status`] in Prometheus's text format, through `prometheus-client`:
//! a [`Collector`] that takes one status per scrape, so the endpoint shows
//! exactly what `status` and SIGUSR1 show.
//!
//! Names: `nspawn_netd_SERVICE_COUNTER_total` for every counter a service's
//! `Stats` declares, `nspawn_netd_SERVICE_GAUGE` for its gauges (leases and
//! offers held, pool size, free addresses, cache entries and bytes),
//! `nspawn_netd_dns_upstream_*{upstream="IP#PORT"}` per upstream, and the
//! histograms `nspawn_netd_dhcp4_reply_latency_seconds` and
//! `nspawn_netd_dns_upstream_latency_seconds`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::stats::HistogramSnapshot;
use crate::status::{Counters, Sources, Status};

/// The gauges among the services' values; every other value is a counter.
const GAUGES: [&str; 7] = [
    "leases",
    "pool_size",
    "free",
    "cache_entries",
    "cache_bytes",
    "last_sent_ms",
    "next_due_ms",
];

/// A per-upstream metric: name, help, type, and its value.
type PerUpstream = (
    &'static str,
    &'static str,
    MetricType,
    fn(&crate::status::UpstreamStatus) -> u64,
);

/// Reads a status from `sources` on every scrape.
#[derive(Debug)]
pub struct StatusCollector {
    sources: Arc<Sources>,
}

/// A registry holding the status collector, under `nspawn_netd_`.
pub fn registry(sources: Arc<Sources>) -> Registry {
    let mut registry = Registry::with_prefix("nspawn_netd");
    registry.register_collector(Box::new(StatusCollector { sources }));
    registry
}

/// The `Content-Type` of what [`render`] makes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The whole registry in Prometheus's text format (0.0.4).
pub fn render(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, registry)?;
    Ok(out)
}

impl Collector for StatusCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self
            .sources
            .status(SystemTime::now(), Instant::now(), &[], None);
        encode_status(&status, &mut encoder)
    }
}

/// Every value of `s`.
pub fn encode_status(s: &Status, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
    let uptime = s.uptime_secs;
    e.encode_descriptor(
        "uptime_seconds",
        "Seconds since the daemon started",
        None,
        MetricType::Gauge,
    )?
    .encode_gauge(&uptime)?;
    if let Some(d) = &s.dhcp4 {
        counters(e, "dhcp4", &d.counters)?;
        histogram(
            e,
            "dhcp4_reply_latency_seconds",
            "From a DHCPv4 request's arrival to its reply's sending (an ACK includes its lease-file write)",
            &d.reply_latency,
        )?;
    }
    if let Some(d) = &s.dns {
        counters(e, "dns", &d.counters)?;
        let per_upstream: [PerUpstream; 3] = [
            (
                "dns_upstream_answers",
                "Answers from this upstream",
                MetricType::Counter,
                |u| u.answers,
            ),
            (
                "dns_upstream_timeouts",
                "Attempts at this upstream that timed out",
                MetricType::Counter,
                |u| u.timeouts,
            ),
            (
                "dns_upstream_in_use",
                "1 for the upstream a forwarded query tries first now",
                MetricType::Gauge,
                |u| u64::from(u.in_use),
            ),
        ];
        for (name, help, kind, get) in per_upstream {
            let mut m = e.encode_descriptor(name, help, None, kind)?;
            for u in &d.upstreams {
                let labels = [(
                    "upstream",
                    format!("{}#{}", u.address.ip(), u.address.port()),
                )];
                let mut f = m.encode_family(&labels)?;
                match kind {
                    MetricType::Counter => {
                        f.encode_counter::<NoLabelSet, u64, u64>(&get(u), None)?
                    }
                    _ => f.encode_gauge(&get(u))?,
                }
            }
        }
        histogram(
            e,
            "dns_upstream_latency_seconds",
            "Round trip of each answered upstream attempt",
            &d.upstream_latency,
        )?;
    }
    if let Some(r) = &s.ra {
        counters(e, "ra", &r.counters)?;
    }
    if let Some(c) = &s.dhcp6 {
        counters(e, "dhcp6", c)?;
    }
    Ok(())
}

fn counters(
    e: &mut DescriptorEncoder,
    service: &str,
    values: &Counters,
) -> Result<(), std::fmt::Error> {
    for (name, v) in values {
        if let Some(stem) = name.strip_suffix("_ms") {
            // A time as Unix milliseconds: seconds, as Prometheus has them.
            let metric = format!("{service}_{stem}_timestamp_seconds");
            let help = format!("{service}: {stem} (Unix time; 0: never)");
            e.encode_descriptor(&metric, &help, None, MetricType::Gauge)?
                .encode_gauge(&(*v as f64 / 1000.0))?;
            continue;
        }
        let metric = format!("{service}_{name}");
        let kind = if GAUGES.contains(&name.as_str()) {
            MetricType::Gauge
        } else {
            MetricType::Counter
        };
        let help = format!("{service}: {}", name.replace('_', " "));
        let mut m = e.encode_descriptor(&metric, &help, None, kind)?;
        match kind {
            MetricType::Counter => m.encode_counter::<NoLabelSet, u64, u64>(v, None)?,
            _ => m.encode_gauge(v)?,
        }
    }
    Ok(())
}

fn histogram(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    h: &HistogramSnapshot,
) -> Result<(), std::fmt::Error> {
    // The encoder adds the buckets up itself: hand it each bucket's own
    // count.
    let mut below = 0;
    let buckets: Vec<(f64, u64)> = h
        .buckets
        .iter()
        .map(|(bound, cumulative)| {
            let own = cumulative - below;
            below = *cumulative;
            (*bound, own)
        })
        .collect();
    e.encode_descriptor(name, help, None, MetricType::Histogram)?
        .encode_histogram::<NoLabelSet>(h.sum, h.count, &buckets, None)
}
