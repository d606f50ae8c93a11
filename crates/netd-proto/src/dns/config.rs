//! The forwarder's configuration. The binary parses dnsmasq's `--server`
//! and `--address` values into these types.

use std::net::{IpAddr, SocketAddr};

use ipnetwork::IpNetwork;

use super::answer::TtlLimits;
use super::cache::CacheLimits;
use super::records::RecordSpec;

/// The standard DNS port.
pub const DNS_PORT: u16 = 53;

/// What the decision core needs to know; built by the binary.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Sources allowed to query (the bridge's subnets); loopback always is.
    pub client_nets: Vec<IpNetwork>,
    /// `--domain`, lower-case: names under it are answered locally only.
    pub domain: Option<String>,
    /// Never forward single-label A/AAAA queries (dnsmasq `domain-needed`).
    pub domain_needed: bool,
    /// Never forward reverse lookups of private ranges (`bogus-priv`).
    pub bogus_priv: bool,
    /// `--cache-size`, its byte budget, and `--no-negcache`.
    pub cache: CacheLimits,
    /// `--min-cache-ttl` and `--max-cache-ttl`.
    pub ttls: TtlLimits,
    /// `--address` rules.
    pub addresses: Vec<AddressRule>,
    /// `--server=/domain/...` rules.
    pub routes: Vec<DomainRoute>,
    /// `--host-record`, `--cname`, `--txt-record`, `--srv-host`,
    /// `--ptr-record`, `--mx-host`, and `--interface-name` with the
    /// interface's addresses.
    pub records: Vec<RecordSpec>,
    /// `--local-ttl`: the TTL of locally answered records (default 0:
    /// names follow leases, so clients should not keep them).
    pub local_ttl: u32,
    /// `--no-ident`: no CHAOS TXT answers for `*.bind`.
    pub no_ident: bool,
    /// The host's name, for `hostname.bind`.
    pub hostname: Option<String>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            client_nets: Vec::new(),
            domain: None,
            domain_needed: true,
            bogus_priv: true,
            cache: CacheLimits::for_entries(10_000, true),
            ttls: TtlLimits::default(),
            addresses: Vec::new(),
            routes: Vec::new(),
            records: Vec::new(),
            local_ttl: 0,
            no_ident: false,
            hostname: None,
        }
    }
}

/// `--address=/DOMAIN/.../[IP]`: the domains and everything below them
/// answer locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRule {
    pub domains: Vec<String>,
    pub answer: AddressAnswer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressAnswer {
    /// No address given: NXDOMAIN.
    NxDomain,
    /// `#`: 0.0.0.0 for A and :: for AAAA.
    Unspecified,
    /// This address for its family's type; NODATA for the other types.
    Addr(IpAddr),
}

/// Where queries for a domain go (`--server=/DOMAIN/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRoute {
    pub domain: String,
    pub target: RouteTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// `--server=/d/`: answered from local data only (NXDOMAIN otherwise).
    Local,
    /// `--server=/d/#`: the normal upstreams.
    Default,
    /// These upstreams, in order.
    Servers(Vec<SocketAddr>),
}

/// One `--server` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSpec {
    /// `IP[#PORT]`: a normal upstream.
    Upstream(SocketAddr),
    /// `/DOMAIN/.../TARGET`.
    Domains(Vec<String>, RouteTarget),
}

/// Merges `/domain/` specs into routes; several upstreams for one domain
/// accumulate in order.
pub fn routes_from(specs: &[ServerSpec]) -> Vec<DomainRoute> {
    let mut routes: Vec<DomainRoute> = Vec::new();
    for spec in specs {
        let ServerSpec::Domains(domains, target) = spec else {
            continue;
        };
        for d in domains {
            match routes.iter_mut().find(|r| &r.domain == d) {
                Some(DomainRoute {
                    target: RouteTarget::Servers(have),
                    ..
                }) if matches!(target, RouteTarget::Servers(_)) => {
                    if let RouteTarget::Servers(more) = target {
                        have.extend(more);
                    }
                }
                Some(r) => r.target = target.clone(),
                None => routes.push(DomainRoute {
                    domain: d.clone(),
                    target: target.clone(),
                }),
            }
        }
    }
    routes
}

/// `name` equals `domain` or lies below it. The empty domain matches all.
pub fn in_domain(name: &str, domain: &str) -> bool {
    domain.is_empty()
        || name == domain
        || (name.len() > domain.len()
            && name.ends_with(domain)
            && name.as_bytes()[name.len() - domain.len() - 1] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_matching() {
        assert!(in_domain("a.x.test", "x.test"));
        assert!(in_domain("x.test", "x.test"));
        assert!(!in_domain("ax.test", "x.test"));
    }
}
