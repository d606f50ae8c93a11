//! The daemon's state at one moment, read from every service's statistics
//! ([`Sources::status`]) into one [`Status`] value: `status` and `leases`
//! send it over the control socket, the metrics endpoint encodes it,
//! SIGUSR1 logs it ([`lines`]). One source, so the three always agree.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ipnetwork::Ipv6Network;
use netd_proto::MacAddr;
use netd_proto::dhcp4::LeaseRecord;

use crate::dhcp4::LeaseView;
use crate::dns::Shared;
use crate::stats::{Dhcp4Stats, Dhcp6Stats, RaStats};

pub mod lines;
pub mod model;

pub use model::{
    CacheStatus, Counters, Dhcp4Status, DnsStatus, LeaseStatus, Leases, RaStatus, Status,
    UpstreamStatus,
};

/// Where each service's values are read from; filled in by the daemon from
/// what each service's `Bound` hands out.
#[derive(Debug, Clone)]
pub struct Sources {
    pub interface: String,
    pub version: String,
    pub started: SystemTime,
    pub dhcp4: Option<Dhcp4Source>,
    pub dns: Option<Arc<Shared>>,
    pub ra: Option<RaSource>,
    pub dhcp6: Option<Arc<Dhcp6Stats>>,
}

#[derive(Debug, Clone)]
pub struct Dhcp4Source {
    pub stats: Arc<Dhcp4Stats>,
    /// Where to ask the shell for its bound leases ([`Sources::leases`]).
    pub leases: LeaseView,
}

#[derive(Debug, Clone)]
pub struct RaSource {
    pub stats: Arc<RaStats>,
    pub prefixes: Vec<Ipv6Network>,
}

fn counters(values: Vec<(&'static str, u64)>) -> Counters {
    values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn value(values: &Counters, key: &str) -> u64 {
    values.get(key).copied().unwrap_or(0)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Sources {
    /// The DHCPv4 shell's bound leases now (asked of its task); empty
    /// without DHCPv4.
    pub async fn leases(&self) -> Vec<LeaseRecord> {
        match &self.dhcp4 {
            Some(d) => d
                .leases
                .fetch()
                .await
                .map(|l| l.as_ref().clone())
                .unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Reads every value. `now` is the wall clock, `mono` the monotonic
    /// one (which upstream is in use); `leases` the bound leases
    /// ([`Sources::leases`]; empty where only counts are wanted);
    /// `neighbours`, when given, are the interface's answering neighbours
    /// (MAC, address), against which each lease's `arp` is set.
    pub fn status(
        &self,
        now: SystemTime,
        mono: Instant,
        leases: &[LeaseRecord],
        neighbours: Option<&[(MacAddr, IpAddr)]>,
    ) -> Status {
        Status {
            interface: self.interface.clone(),
            version: self.version.clone(),
            time: secs(now),
            uptime_secs: now.duration_since(self.started).map_or(0, |d| d.as_secs()),
            dhcp4: self.dhcp4.as_ref().map(|d| dhcp4(d, leases, neighbours)),
            dns: self.dns.as_ref().map(|s| dns(s, mono)),
            ra: self.ra.as_ref().map(|r| {
                let c = counters(r.stats.snapshot());
                let ms = |k: &str| Some(value(&c, k)).filter(|v| *v > 0);
                RaStatus {
                    prefixes: r.prefixes.iter().map(ToString::to_string).collect(),
                    last_sent_ms: ms("last_sent_ms"),
                    next_due_ms: ms("next_due_ms"),
                    counters: c,
                }
            }),
            dhcp6: self.dhcp6.as_ref().map(|s| counters(s.snapshot())),
        }
    }
}

fn dhcp4(
    d: &Dhcp4Source,
    leases: &[LeaseRecord],
    neighbours: Option<&[(MacAddr, IpAddr)]>,
) -> Dhcp4Status {
    let c = counters(d.stats.snapshot());
    let leases = leases
        .iter()
        .map(|r| LeaseStatus {
            mac: MacAddr(r.mac).to_string(),
            ip: r.addr,
            name: r.hostname.clone(),
            expires: (r.expires != 0).then_some(r.expires),
            arp: neighbours.map(|n| n.contains(&(MacAddr(r.mac), IpAddr::V4(r.addr)))),
        })
        .collect();
    Dhcp4Status {
        pool_size: value(&c, "pool_size"),
        free: value(&c, "free"),
        leases,
        counters: c,
        reply_latency: d.stats.reply_latency.snapshot(),
    }
}

fn dns(shared: &Shared, mono: Instant) -> DnsStatus {
    let c = counters(shared.stats.snapshot());
    let (report, first) = {
        let u = shared.upstreams();
        (u.report(), u.candidates(mono).first().copied())
    };
    let hits = value(&c, "cache_hits");
    let misses = value(&c, "queries").saturating_sub(
        hits + value(&c, "answered_locally") + value(&c, "refused") + value(&c, "malformed"),
    );
    DnsStatus {
        cache: CacheStatus {
            entries: value(&c, "cache_entries"),
            bytes: value(&c, "cache_bytes"),
            hits,
            misses,
            insertions: value(&c, "cache_insertions"),
            evictions: value(&c, "cache_evictions"),
        },
        upstreams: report
            .into_iter()
            .map(|u| UpstreamStatus {
                address: u.addr,
                in_use: Some(u.addr) == first,
                answers: u.answers,
                timeouts: u.timeouts,
                failing: u.failing,
                latency_ms: u.srtt.map(|d| d.as_secs_f64() * 1000.0),
            })
            .collect(),
        counters: c,
        upstream_latency: shared.stats.upstream_latency.snapshot(),
    }
}

#[cfg(test)]
mod tests;
