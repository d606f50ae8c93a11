//! What to advertise, and the Router Advertisement built from it. The parts
//! that can change while running (the interface's MAC and MTU) are passed in
//! for every RA; the rest is fixed configuration.

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use super::option::{DnsSearchList, Lifetime, PrefixInformation, RecursiveDnsServers};
use super::scheduler::RaTiming;
use super::wire::{RouterAdvertRepr, RouterPreference};

/// The hop limit advertised to hosts (Linux's default).
pub const ADV_CUR_HOP_LIMIT: u8 = 64;

/// One advertised prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertPrefix {
    pub network: Ipv6Network,
    /// The A flag: hosts may form addresses in it by SLAAC (off for
    /// `ra-only`-less stateful forms, which nspawn-netd does not serve).
    pub autonomous: bool,
    pub valid_lifetime: Lifetime,
    pub preferred_lifetime: Lifetime,
}

/// What the MTU option says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdvMtu {
    /// The interface's MTU, read for every RA.
    #[default]
    Interface,
    Fixed(u32),
    /// No MTU option.
    Off,
}

/// The RA configuration of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaConfig {
    pub prefixes: Vec<AdvertPrefix>,
    /// The M flag (addresses by DHCPv6); always false: nspawn-netd has no
    /// stateful DHCPv6, but the field keeps the codec's full range visible.
    pub managed: bool,
    /// The O flag: set when the stateless DHCPv6 server runs (`ra-stateless`).
    pub other_config: bool,
    pub preference: RouterPreference,
    /// Seconds hosts keep this router as default (dnsmasq: 1800).
    pub router_lifetime: u16,
    pub timing: RaTiming,
    pub mtu: AdvMtu,
    /// RDNSS: DNS servers on this link (empty: no RDNSS option).
    pub dns_servers: Vec<Ipv6Addr>,
    /// DNSSL: search domains (empty: no DNSSL option).
    pub search_domains: Vec<String>,
}

impl RaConfig {
    /// dnsmasq's defaults for the given prefixes: router lifetime 1800 s,
    /// MaxRtrAdvInterval 600 s.
    pub fn new(prefixes: Vec<AdvertPrefix>) -> Self {
        RaConfig {
            prefixes,
            managed: false,
            other_config: false,
            preference: RouterPreference::Medium,
            router_lifetime: 1800,
            timing: RaTiming::DEFAULT,
            mtu: AdvMtu::Interface,
            dns_servers: Vec::new(),
            search_domains: Vec::new(),
        }
    }

    /// The RA to send now, given the interface's current MAC and MTU.
    /// `final_ra` withdraws the router (lifetime 0).
    pub fn advert(
        &self,
        mac: Option<[u8; 6]>,
        iface_mtu: Option<u32>,
        final_ra: bool,
    ) -> RouterAdvertRepr {
        let mtu = match self.mtu {
            AdvMtu::Interface => iface_mtu,
            AdvMtu::Fixed(m) => Some(m),
            AdvMtu::Off => None,
        };
        // RFC 8106 5.1: the DNS options' lifetime should be at least
        // MaxRtrAdvInterval; dnsmasq and RFC 8106 use 3 x it, capped by the
        // router lifetime so clients drop DNS with the router.
        let dns_lifetime = Lifetime(
            (self.timing.max_interval.as_secs() * 3)
                .min(u64::from(self.router_lifetime).max(self.timing.max_interval.as_secs()))
                as u32,
        );
        RouterAdvertRepr {
            cur_hop_limit: ADV_CUR_HOP_LIMIT,
            managed: self.managed,
            other_config: self.other_config,
            preference: self.preference,
            router_lifetime: if final_ra { 0 } else { self.router_lifetime },
            reachable_time: 0,
            retrans_time: 0,
            source_lladdr: mac,
            mtu,
            prefixes: self
                .prefixes
                .iter()
                .map(|p| PrefixInformation {
                    prefix: p.network.network(),
                    prefix_len: p.network.prefix(),
                    on_link: true,
                    autonomous: p.autonomous,
                    valid_lifetime: p.valid_lifetime,
                    preferred_lifetime: p.preferred_lifetime,
                })
                .collect(),
            rdnss: if self.dns_servers.is_empty() {
                Vec::new()
            } else {
                vec![RecursiveDnsServers {
                    lifetime: dns_lifetime,
                    servers: self.dns_servers.clone(),
                }]
            },
            dnssl: if self.search_domains.is_empty() {
                Vec::new()
            } else {
                vec![DnsSearchList {
                    lifetime: dns_lifetime,
                    domains: self.search_domains.clone(),
                }]
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_advert_and_the_final_one() {
        let mut c = RaConfig::new(vec![AdvertPrefix {
            network: "fd23::/64".parse().unwrap(),
            autonomous: true,
            valid_lifetime: Lifetime(86_400),
            preferred_lifetime: Lifetime(86_400),
        }]);
        c.other_config = true;
        c.dns_servers = vec!["fd23::1".parse().unwrap()];
        c.search_domains = vec!["lan".into()];
        let ra = c.advert(Some([2, 0, 0, 0, 0, 1]), Some(1500), false);
        assert_eq!(ra.router_lifetime, 1800);
        assert!(ra.other_config && !ra.managed);
        assert_eq!(ra.prefixes[0].prefix, "fd23::".parse::<Ipv6Addr>().unwrap());
        assert!(ra.prefixes[0].on_link && ra.prefixes[0].autonomous);
        assert_eq!(ra.rdnss[0].lifetime, Lifetime(1800));
        assert_eq!(ra.dnssl[0].domains, ["lan"]);
        assert_eq!(ra.mtu, Some(1500));
        let last = c.advert(Some([2, 0, 0, 0, 0, 1]), Some(1500), true);
        assert_eq!(last.router_lifetime, 0);
        assert_eq!(last.prefixes, ra.prefixes);
        c.dns_servers.clear();
        c.search_domains.clear();
        c.mtu = AdvMtu::Off;
        let bare = c.advert(None, Some(1500), false);
        assert_eq!(bare.mtu, None);
        c.mtu = AdvMtu::Fixed(1400);
        assert_eq!(c.advert(None, Some(1500), false).mtu, Some(1400));
        assert!(bare.rdnss.is_empty() && bare.dnssl.is_empty() && bare.source_lladdr.is_none());
    }
}
