//! The command-line parser's value parsers: each option value is parsed
//! once, here, into the type the services take. The message is the reason
//! alone; the parser adds the option and value, and a file's line is added
//! by [`super::check_file_values`].

use std::path::PathBuf;

use netd_proto::dhcp4::Reservation;
use netd_proto::dns::config::{AddressRule, ServerSpec};

use super::dhcp_option::DhcpOptionSpec;
use super::dhcp_range::DhcpRange;
use super::ipv6_range::RaParam;

pub fn dhcp_range(s: &str) -> Result<DhcpRange, String> {
    super::dhcp_range::parse_dhcp_range(s).map_err(|e| e.reason)
}

pub fn dhcp_option(s: &str) -> Result<DhcpOptionSpec, String> {
    super::dhcp_option::parse_dhcp_option(s, false).map_err(|e| e.reason)
}

pub fn dhcp_option_force(s: &str) -> Result<DhcpOptionSpec, String> {
    super::dhcp_option::parse_dhcp_option(s, true).map_err(|e| e.reason)
}

pub fn dhcp_host(s: &str) -> Result<Reservation, String> {
    super::dhcp_host::parse_dhcp_host(s).map_err(|e| e.reason)
}

pub fn server(s: &str) -> Result<ServerSpec, String> {
    super::dns_values::parse_server(s).map_err(|e| e.reason().to_owned())
}

pub fn address(s: &str) -> Result<AddressRule, String> {
    super::dns_values::parse_address(s).map_err(|e| e.reason().to_owned())
}

pub fn ra_param(s: &str) -> Result<RaParam, String> {
    super::ipv6_range::parse_ra_param(s).map_err(|e| e.reason)
}

/// A path, where an empty value is allowed (and means "none").
pub fn any_path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

/// `--max-cache-ttl` seconds; 0 means no cap, as in dnsmasq.
pub fn max_cache_ttl(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Ok(if v == 0 { u32::MAX } else { v })
}

/// `--min-cache-ttl` seconds; above an hour it is an hour, as in dnsmasq.
pub fn min_cache_ttl(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Ok(v.min(netd_proto::dns::MAX_MIN_CACHE_TTL))
}

/// `--dns-forward-max`: at least 1.
pub fn forward_max(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 would forward no query at all".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number")),
    }
}
