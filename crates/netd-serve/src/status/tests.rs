//! A status read from live `Stats` values, and its log lines.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use netd_proto::MacAddr;
use netd_proto::dhcp4::LeaseRecord;
use netd_proto::dns::{DnsConfig, Hosts, Resolver, Upstreams};
use netd_proto::names::LocalNames;

use super::*;
use crate::dhcp4::LeaseView;
use crate::stats::{self, Dhcp4Stats, RaStats};

fn lease(last: u8, name: Option<&str>, expires: u64) -> LeaseRecord {
    LeaseRecord {
        expires,
        mac: [2, 0, 0, 0, 0, last],
        addr: Ipv4Addr::new(192, 168, 26, last),
        hostname: name.map(str::to_owned),
        client_id: None,
    }
}

fn records() -> Vec<LeaseRecord> {
    vec![lease(20, Some("web"), 1_900_000_000), lease(21, None, 0)]
}

fn sources() -> (Sources, Arc<Dhcp4Stats>) {
    let stats = Arc::new(Dhcp4Stats::default());
    stats::set(&stats.pool_size, 81);
    stats::set(&stats.free, 79);
    stats::set(&stats.leases, 2);
    stats::add(&stats.nak, 3);
    stats.reply_latency.observe(Duration::from_millis(2));
    let (view, _requests) = LeaseView::new();
    let upstream: SocketAddr = "192.0.2.53:53".parse().unwrap();
    let resolver = Resolver::new(
        DnsConfig::default(),
        LocalNames::new(None),
        Hosts::default(),
    );
    let shared = Arc::new(Shared::new(
        resolver,
        Upstreams::new(&[upstream], false),
        150,
    ));
    shared
        .upstreams()
        .answered(upstream, Duration::from_millis(8));
    let ra = Arc::new(RaStats::default());
    stats::set(&ra.last_sent_ms, 1_800_000_000_000);
    stats::set(&ra.next_due_ms, 1_800_000_300_000);
    let sources = Sources {
        interface: "nat0".into(),
        version: "0.1.0".into(),
        started: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 - 60),
        dhcp4: Some(Dhcp4Source {
            stats: stats.clone(),
            leases: view,
        }),
        dns: Some(shared),
        ra: Some(RaSource {
            stats: ra,
            prefixes: vec!["fd23::/64".parse().unwrap()],
        }),
        dhcp6: None,
    };
    (sources, stats)
}

fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

#[test]
fn the_status_reads_every_service_and_marks_arp_known_clients() {
    let (sources, _) = sources();
    let neighbours = [(
        MacAddr([2, 0, 0, 0, 0, 20]),
        IpAddr::V4(Ipv4Addr::new(192, 168, 26, 20)),
    )];
    let s = sources.status(at(), Instant::now(), &records(), Some(&neighbours));
    assert_eq!((s.interface.as_str(), s.uptime_secs), ("nat0", 60));
    let d = s.dhcp4.as_ref().unwrap();
    assert_eq!((d.pool_size, d.free), (81, 79));
    assert_eq!(d.counters["nak"], 3);
    assert_eq!(d.reply_latency.count, 1);
    assert_eq!(d.leases.len(), 2);
    assert_eq!(d.leases[0].mac, "02:00:00:00:00:14");
    assert_eq!(d.leases[0].name.as_deref(), Some("web"));
    assert_eq!(d.leases[0].arp, Some(true));
    assert_eq!(d.leases[1].arp, Some(false));
    assert_eq!(d.leases[1].expires, None, "0 in the file is never");
    let dns = s.dns.as_ref().unwrap();
    assert_eq!(dns.upstreams.len(), 1);
    assert!(dns.upstreams[0].in_use);
    assert_eq!(dns.upstreams[0].latency_ms, Some(8.0));
    let ra = s.ra.as_ref().unwrap();
    assert_eq!(ra.prefixes, ["fd23::/64"]);
    assert_eq!(ra.last_sent_ms, Some(1_800_000_000_000));
    // Without a neighbour lookup, nothing is claimed.
    let s = sources.status(at(), Instant::now(), &records(), None);
    assert_eq!(s.dhcp4.unwrap().leases[0].arp, None);
}

#[test]
fn json_round_trips_and_the_lease_part_stands_alone() {
    let (sources, _) = sources();
    let s = sources.status(at(), Instant::now(), &records(), None);
    let text = serde_json::to_string(&s).unwrap();
    let back: Status = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    let leases = s.leases();
    assert_eq!(leases.leases.len(), 2);
    assert_eq!(leases.interface, "nat0");
}

#[test]
fn the_log_lines_show_the_same_values() {
    let (sources, stats) = sources();
    stats::set(&stats.free, 77);
    let lines = lines::lines(&sources.status(at(), Instant::now(), &records(), None));
    let all = lines.join("\n");
    for want in [
        "DHCP leases in use 2 of pool 81, 77 free",
        "nak 3",
        "server 192.0.2.53#53: answers 1, timeouts 0, failing 0, avg. latency 8.0ms, in use",
        "cache size 0, 0 bytes",
        "router advertisements for fd23::/64: last sent 0 s ago, next due in 300 s",
    ] {
        assert!(all.contains(want), "{want:?} not in:\n{all}");
    }
}

#[test]
fn relative_times_read_both_ways() {
    assert_eq!(lines::relative(None, 10), "never");
    assert_eq!(lines::relative(Some(12_500), 10), "in 3 s");
    assert_eq!(lines::relative(Some(7_000), 10), "3 s ago");
}
