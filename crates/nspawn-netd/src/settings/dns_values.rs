//! `--server` and `--address` values, dnsmasq's syntax, parsed into the
//! forwarder's types.

use std::net::{IpAddr, SocketAddr};

use netd_proto::dns::config::{AddressAnswer, AddressRule, DNS_PORT, RouteTarget, ServerSpec};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsConfigError {
    #[error("--server={0}: {1}")]
    Server(String, String),
    #[error("--address={0}: {1}")]
    Address(String, String),
}

impl DnsConfigError {
    /// What is wrong, without the option and value.
    pub fn reason(&self) -> &str {
        match self {
            DnsConfigError::Server(_, r) | DnsConfigError::Address(_, r) => r,
        }
    }
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
    fn address_values_parse_like_dnsmasq() {
        let r = parse_address("/ads.example/#").unwrap();
        assert_eq!(r.answer, AddressAnswer::Unspecified);
        let r = parse_address("/x.test/10.1.2.3").unwrap();
        assert_eq!(r.answer, AddressAnswer::Addr("10.1.2.3".parse().unwrap()));
        assert!(parse_address("//1.2.3.4").is_err());
    }
}
