//! CHAOS-class TXT names under `bind.` (`version.bind`, `hostname.bind`
//! and the cache counters), as dnsmasq answers them unless `--no-ident`.
//! `dig +short chaos txt version.bind` says `nspawn-netd-VERSION`.

use std::fmt::Write as _;

use super::cache::CacheCounters;
use super::upstream::UpstreamReport;

/// The DNS class CHAOS (RFC 1035 §3.2.4).
pub const CLASS_CH: u16 = 3;

/// What the `*.bind` names report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counters<'a> {
    /// `--cache-size`.
    pub cache_size: usize,
    pub cache: CacheCounters,
    /// Answered from the cache.
    pub hits: u64,
    /// Not in the cache: sent upstream.
    pub misses: u64,
    pub servers: &'a [UpstreamReport],
    /// The host's name, as `hostname.bind` reports it.
    pub hostname: Option<&'a str>,
}

/// The text strings of `name`'s TXT record, or `None` when `name` is not
/// one of ours.
pub(crate) fn answer(name: &str, c: &Counters<'_>) -> Option<Vec<String>> {
    let one = |s: String| Some(vec![s]);
    match name {
        "version.bind" => one(format!("nspawn-netd-{}", env!("CARGO_PKG_VERSION"))),
        "hostname.bind" => one(c.hostname?.to_owned()),
        "cachesize.bind" => one(c.cache_size.to_string()),
        "insertions.bind" => one(c.cache.insertions.to_string()),
        "evictions.bind" => one(c.cache.evictions.to_string()),
        "misses.bind" => one(c.misses.to_string()),
        "hits.bind" => one(c.hits.to_string()),
        "servers.bind" if c.servers.is_empty() => one(String::new()),
        "servers.bind" => Some(
            c.servers
                .iter()
                .map(|s| {
                    // dnsmasq's form: address#port, queries sent, failures.
                    let mut t = String::new();
                    let _ = write!(
                        t,
                        "{}#{} {} {}",
                        s.addr.ip(),
                        s.addr.port(),
                        s.answers + s.timeouts,
                        s.timeouts
                    );
                    t
                })
                .collect(),
        ),
        _ => None,
    }
}
