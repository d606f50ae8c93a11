//! The forwarder's configuration and the parsers for dnsmasq's `--server`
//! and `--address` values.

use std::net::{IpAddr, SocketAddr};

use ipnetwork::IpNetwork;

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
    /// `--cache-size` (entries; 0 disables).
    pub cache_size: usize,
    /// False with `--no-negcache`.
    pub negcache: bool,
    /// `--address` rules.
    pub addresses: Vec<AddressRule>,
    /// `--server=/domain/...` rules.
    pub routes: Vec<DomainRoute>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            client_nets: Vec::new(),
            domain: None,
            domain_needed: true,
            bogus_priv: true,
            cache_size: 10_000,
            negcache: true,
            addresses: Vec::new(),
            routes: Vec::new(),
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsConfigError {
    #[error("--server={0}: {1}")]
    Server(String, String),
    #[error("--address={0}: {1}")]
    Address(String, String),
}

/// Parses `IP[#PORT]`.
pub fn parse_upstream(s: &str) -> Result<SocketAddr, String> {
    if s.contains('@') {
        return Err(
            "binding upstream queries to an interface or source address (@) is not supported"
                .into(),
        );
    }
    let (ip, port) = match s.split_once('#') {
        Some((ip, port)) => (
            ip,
            port.parse::<u16>()
                .map_err(|_| format!("{port:?} is not a port number"))?,
        ),
        None => (s, DNS_PORT),
    };
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("{ip:?} is not an IP address"))?;
    if port == 0 {
        return Err("port 0".into());
    }
    Ok(SocketAddr::new(ip, port))
}

/// Splits `/a/b/REST` into (["a","b"], REST).
fn split_domains(s: &str) -> Option<(Vec<String>, &str)> {
    let rest = s.strip_prefix('/')?;
    let (domains, tail) = rest.rsplit_once('/')?;
    let domains = domains
        .split('/')
        .map(|d| d.trim_matches('.').to_ascii_lowercase())
        .collect();
    Some((domains, tail))
}

pub fn parse_server(s: &str) -> Result<ServerSpec, DnsConfigError> {
    let err = |m: String| DnsConfigError::Server(s.into(), m);
    match split_domains(s) {
        None if s.starts_with('/') => Err(err("expected /DOMAIN/[IP[#PORT]]".into())),
        None => parse_upstream(s).map(ServerSpec::Upstream).map_err(err),
        Some((domains, tail)) => {
            let target = match tail {
                "" => RouteTarget::Local,
                "#" => RouteTarget::Default,
                t => RouteTarget::Servers(vec![parse_upstream(t).map_err(err)?]),
            };
            Ok(ServerSpec::Domains(domains, target))
        }
    }
}

pub fn parse_address(s: &str) -> Result<AddressRule, DnsConfigError> {
    let err = |m: &str| DnsConfigError::Address(s.into(), m.into());
    let (domains, tail) = split_domains(s).ok_or_else(|| err("expected /DOMAIN/[IP]"))?;
    if domains.iter().any(String::is_empty) {
        return Err(err("an empty domain would match every name"));
    }
    let answer = match tail {
        "" => AddressAnswer::NxDomain,
        "#" => AddressAnswer::Unspecified,
        ip => AddressAnswer::Addr(ip.parse().map_err(|_| err("not an IP address"))?),
    };
    Ok(AddressRule { domains, answer })
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
    fn server_values_parse_like_dnsmasq() {
        assert_eq!(
            parse_server("203.0.113.2").unwrap(),
            ServerSpec::Upstream("203.0.113.2:53".parse().unwrap())
        );
        assert_eq!(
            parse_server("2001:db8::1#5353").unwrap(),
            ServerSpec::Upstream("[2001:db8::1]:5353".parse().unwrap())
        );
        assert_eq!(
            parse_server("/corp/Lab./10.0.0.1").unwrap(),
            ServerSpec::Domains(
                vec!["corp".into(), "lab".into()],
                RouteTarget::Servers(vec!["10.0.0.1:53".parse().unwrap()])
            )
        );
        assert_eq!(
            parse_server("/local/").unwrap(),
            ServerSpec::Domains(vec!["local".into()], RouteTarget::Local)
        );
        let e = parse_server("10.0.0.1@eth0").unwrap_err().to_string();
        assert!(e.contains("--server=10.0.0.1@eth0"), "{e}");
        assert!(parse_server("nonsense").is_err());
    }

    #[test]
    fn address_values_and_domain_matching() {
        let r = parse_address("/ads.example/#").unwrap();
        assert_eq!(r.answer, AddressAnswer::Unspecified);
        let r = parse_address("/x.test/10.1.2.3").unwrap();
        assert_eq!(r.answer, AddressAnswer::Addr("10.1.2.3".parse().unwrap()));
        assert!(parse_address("//1.2.3.4").is_err());
        assert!(in_domain("a.x.test", "x.test"));
        assert!(in_domain("x.test", "x.test"));
        assert!(!in_domain("ax.test", "x.test"));
    }
}
