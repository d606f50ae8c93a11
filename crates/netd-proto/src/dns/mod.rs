//! The DNS forwarder for the bridge's clients: local names, a cache of wire
//! answers, and forwarding to upstreams with failover.
//!
//! The sans-IO part decides and formats: [`resolver::Resolver`] turns a
//! query into a reply, a forward, or nothing; [`cache::Cache`] stores wire
//! answers whose ID and TTLs are patched per hit; [`upstream::Upstreams`]
//! orders upstreams. The tokio shell in `netd-serve` owns the sockets, the
//! clock, the random IDs and ports, and the resolv.conf watcher.
//!
//! It does not do recursion, DNSSEC validation, zone transfers, or DNS over
//! TLS/HTTPS; DNSSEC records pass through and are cached like any other.

pub(crate) mod answer;
pub mod cache;
pub mod chaos;
pub mod config;
pub(crate) mod hosts;
pub(crate) mod local;
pub mod query;
pub mod records;
pub mod resolver;
pub mod upstream;
pub mod wire;

pub use answer::{MAX_MIN_CACHE_TTL, Prepared, TtlLimits};
pub use cache::{CacheCounters, CacheLimits, Inserted};
pub use config::DnsConfig;
pub use hosts::Hosts;
pub use records::{LocalRecords, RecordSpec, SrvTarget};
pub use resolver::{Decision, Forward, Resolver, Transport};
pub use upstream::Upstreams;
