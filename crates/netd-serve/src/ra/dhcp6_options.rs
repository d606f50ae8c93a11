//! `--dhcp-option=option6:...`: what the configured DHCPv6 options change.
//! DNS servers (23) and the search list (24) replace what the RA and the
//! stateless DHCPv6 server announce, as in dnsmasq; the information refresh
//! time (32) replaces the default. Other DHCPv6 options are refused by
//! name rather than left unsent.

use std::net::Ipv6Addr;

use netd_proto::dhcp6::{Dhcp6Option, Option6Value};
use netd_proto::ra::RaConfig;

use crate::ServeError;
use crate::settings::Sourced;

const DNS_SERVERS: u16 = 23;
const DOMAIN_SEARCH: u16 = 24;
const INFORMATION_REFRESH_TIME: u16 = 32;

/// Lays `options` over `ra`'s DNS servers and search list and over `irt`;
/// `own` is this server's address, what `[::]` stands for.
pub(crate) fn apply(
    options: &[Sourced<Dhcp6Option>],
    ra: &mut RaConfig,
    irt: &mut Option<u32>,
    own: Option<Ipv6Addr>,
) -> Result<(), ServeError> {
    for o in options {
        let bad = |m: &str| ServeError::config(format!("{}: {m}", o.describe()));
        match (o.value.code, &o.value.value) {
            (DNS_SERVERS, Option6Value::Empty) => ra.dns_servers.clear(),
            (DNS_SERVERS, Option6Value::Addresses(list)) => {
                ra.dns_servers = list
                    .iter()
                    .map(|a| match (a.is_unspecified(), own) {
                        (false, _) => Ok(*a),
                        (true, Some(own)) => Ok(own),
                        (true, None) => Err(bad(
                            "[::] stands for this server's address, and the interface has no global IPv6 address",
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            (DOMAIN_SEARCH, Option6Value::Empty) => ra.search_domains.clear(),
            (DOMAIN_SEARCH, Option6Value::Domains(names)) => {
                let names: Vec<String> = names
                    .iter()
                    .map(|n| n.trim_end_matches('.').to_owned())
                    .collect();
                if let Some(n) = names
                    .iter()
                    .find(|n| !netd_proto::ra::option::valid_search_domain(n))
                {
                    return Err(bad(&format!("{n} is not a valid DNS name")));
                }
                ra.search_domains = names;
            }
            (INFORMATION_REFRESH_TIME, Option6Value::U32(secs)) => *irt = Some(*secs),
            (INFORMATION_REFRESH_TIME, Option6Value::Empty) => *irt = None,
            (code, _) => {
                return Err(bad(&format!(
                    "DHCPv6 option {code} is not served (dns-server, domain-search and information-refresh-time are)"
                )));
            }
        }
    }
    Ok(())
}
