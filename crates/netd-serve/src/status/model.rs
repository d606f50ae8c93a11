//! What `status` shows, as data: one [`Status`] taken at one moment from
//! every service's statistics. The control socket sends it as JSON, the
//! metrics endpoint encodes it, SIGUSR1 logs it ([`super::lines`]): the
//! same values everywhere.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::stats::HistogramSnapshot;

/// A service's counters and gauges by name, as its `Stats` declares them.
pub type Counters = BTreeMap<String, u64>;

/// The whole daemon at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub interface: String,
    pub version: String,
    /// When this was taken, in seconds since the Unix epoch.
    pub time: u64,
    pub uptime_secs: u64,
    /// Each service, when it runs.
    pub dhcp4: Option<Dhcp4Status>,
    pub dns: Option<DnsStatus>,
    pub ra: Option<RaStatus>,
    pub dhcp6: Option<Counters>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dhcp4Status {
    /// Addresses of the range, and those no lease, offer or decline hold
    /// takes.
    pub pool_size: u64,
    pub free: u64,
    pub leases: Vec<LeaseStatus>,
    pub counters: Counters,
    pub reply_latency: HistogramSnapshot,
}

/// One bound lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseStatus {
    /// `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    pub ip: Ipv4Addr,
    pub name: Option<String>,
    /// Seconds since the Unix epoch; `None`: never.
    pub expires: Option<u64>,
    /// Whether the kernel's neighbour table (ARP) holds this MAC at this
    /// address, answering; `None` when it was not looked up.
    pub arp: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsStatus {
    pub cache: CacheStatus,
    /// In configured order.
    pub upstreams: Vec<UpstreamStatus>,
    pub counters: Counters,
    pub upstream_latency: HistogramSnapshot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStatus {
    pub entries: u64,
    pub bytes: u64,
    pub hits: u64,
    /// Queries neither answered from the cache nor locally, nor refused
    /// or malformed: those that went (or would have gone) upstream.
    pub misses: u64,
    pub insertions: u64,
    pub evictions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamStatus {
    pub address: SocketAddr,
    /// The one a forwarded query tries first now.
    pub in_use: bool,
    pub answers: u64,
    pub timeouts: u64,
    /// Timeouts in a row now.
    pub failing: u32,
    /// Smoothed round-trip time, once it has answered.
    pub latency_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaStatus {
    pub prefixes: Vec<String>,
    /// Milliseconds since the Unix epoch; `None`: not yet.
    pub last_sent_ms: Option<u64>,
    pub next_due_ms: Option<u64>,
    pub counters: Counters,
}

/// `leases`: the lease part alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leases {
    pub interface: String,
    pub time: u64,
    pub leases: Vec<LeaseStatus>,
}

impl Status {
    /// The lease part alone (empty without DHCPv4).
    pub fn leases(&self) -> Leases {
        Leases {
            interface: self.interface.clone(),
            time: self.time,
            leases: self
                .dhcp4
                .as_ref()
                .map(|d| d.leases.clone())
                .unwrap_or_default(),
        }
    }
}
