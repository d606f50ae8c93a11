//! The IPv6 services in the shape every service has: [`plan`] (pure: the
//! IPv6 `--dhcp-range`s, `--enable-ra` and `--ra-param` against the
//! interface's prefixes), [`Ipv6Plan::bind`] (the DHCPv6 socket),
//! [`Ipv6Bound::run`] (the RA sender, the DHCPv6 server, the neighbour
//! watcher for `ra-names`).
//!
//! The RA socket is the exception to "every socket before readiness": it
//! needs a usable link-local address, which a new bridge only has after
//! duplicate address detection, so the sender opens it as soon as there is
//! one (and reopens it if it fails).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use ipnetwork::Ipv6Network;
use netd_proto::dhcp4::LeaseTime;
use netd_proto::dhcp6::{Dhcp6Config, Dhcp6Option, Dhcp6Server, server::IRT_DEFAULT};
use netd_proto::ra::{AdvMtu, AdvertPrefix, Lifetime, RaConfig, RaTiming, RouterPreference};
use tokio::sync::Notify;

use super::RaSender;
use crate::ServeError;
use crate::dhcp6::Dhcp6Shell;
use crate::iface::InterfaceInfo;
use crate::neighbours::NeighbourWatcher;
use crate::service::{Context, Tasks};
use crate::settings::Sourced;
use crate::stats::{Dhcp6Stats, RaStats};

/// Where the advertised prefix comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixSpec {
    Fixed(Ipv6Network),
    /// `constructor:IFACE`: the interface's global prefixes of this length.
    Constructor {
        iface: String,
        len: u8,
    },
}

/// What an IPv6 range serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Mode {
    RaOnly,
    RaStateless,
    Slaac,
}

impl Ipv6Mode {
    /// Whether the stateless DHCPv6 server runs (and the RA sets O=1).
    pub fn dhcpv6(self) -> bool {
        matches!(self, Ipv6Mode::RaStateless | Ipv6Mode::Slaac)
    }
}

/// One IPv6 `--dhcp-range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Range {
    pub prefix: PrefixSpec,
    pub mode: Ipv6Mode,
    pub ra_names: bool,
    /// The prefixes' valid and preferred lifetime.
    pub lease: Option<LeaseTime>,
}

/// `--ra-param=IF,[mtu:N|mtu:off,][high|low,]INTERVAL[,LIFETIME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaParam {
    pub iface: String,
    /// `Some(None)`: no MTU option; `Some(Some(n))`: advertise n.
    pub mtu: Option<Option<u32>>,
    pub preference: Option<RouterPreference>,
    /// MaxRtrAdvInterval.
    pub interval: Duration,
    pub router_lifetime: Option<u16>,
}

/// What the options say about IPv6.
#[derive(Debug, Clone, Default)]
pub struct Ipv6Settings {
    pub ranges: Vec<Sourced<Ipv6Range>>,
    pub enable_ra: bool,
    pub ra_params: Vec<Sourced<RaParam>>,
    /// `--dhcp-option=option6:...`.
    pub dhcp6_options: Vec<Sourced<Dhcp6Option>>,
}

/// What the IPv6 options resolve to on the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Plan {
    pub ra: RaConfig,
    pub dhcp6: Option<Dhcp6Config>,
    pub ra_names: bool,
}

/// Resolves the IPv6 options; `None` when nothing IPv6 is asked for.
pub fn plan(settings: &Ipv6Settings, ctx: &Context) -> Result<Option<Ipv6Plan>, ServeError> {
    let (iface, dns_addresses, domain) =
        (&ctx.iface, &ctx.dns_addresses[..], ctx.domain.as_deref());
    let mut ranges: Vec<Sourced<Ipv6Range>> = settings.ranges.clone();
    if ranges.is_empty() {
        if !settings.enable_ra {
            if let Some(p) = settings.ra_params.first() {
                return Err(ServeError::config(format!(
                    "{}: nothing enables router advertisements (--enable-ra or an IPv6 --dhcp-range)",
                    p.describe()
                )));
            }
            if let Some(o) = settings.dhcp6_options.first() {
                // dnsmasq accepts these without IPv6 service too; say so
                // rather than drop them unseen.
                tracing::warn!(
                    "{}: no IPv6 --dhcp-range and no --enable-ra: nothing announces it",
                    o.describe()
                );
            }
            return Ok(None);
        }
        if !iface.global_ipv6().any(|n| n.prefix() == 64) {
            // dnsmasq sends nothing for --enable-ra without an IPv6 range.
            tracing::warn!(
                interface = %iface.name,
                "--enable-ra: no IPv6 --dhcp-range and no global /64 on the interface; not advertising"
            );
            return Ok(None);
        }
        let implied = Ipv6Range {
            prefix: PrefixSpec::Constructor {
                iface: iface.name.clone(),
                len: 64,
            },
            mode: Ipv6Mode::RaOnly,
            ra_names: false,
            lease: None,
        };
        ranges.push(Sourced::default_of(
            implied,
            "dhcp-range",
            "::,constructor,ra-only",
            "--enable-ra",
        ));
    }
    let mut prefixes: Vec<AdvertPrefix> = Vec::new();
    for sourced in &ranges {
        let r = &sourced.value;
        let lifetime = match r.lease {
            Some(LeaseTime::Infinite) => Lifetime::INFINITY,
            Some(LeaseTime::Finite(d)) => Lifetime::from_duration(d),
            // dnsmasq advertises infinite lifetimes when none is given.
            None => Lifetime::INFINITY,
        };
        let prefixes_of = resolve_prefix(&r.prefix, iface)
            .map_err(|m| ServeError::config(format!("{}: {m}", sourced.describe())))?;
        for network in prefixes_of {
            if prefixes.iter().any(|p| p.network == network) {
                return Err(ServeError::config(format!(
                    "{}: prefix {network} is given twice",
                    sourced.describe()
                )));
            }
            prefixes.push(AdvertPrefix {
                network,
                autonomous: true,
                valid_lifetime: lifetime,
                preferred_lifetime: lifetime,
            });
        }
    }
    let stateless = ranges.iter().any(|r| r.value.mode.dhcpv6());
    let mut ra = RaConfig::new(prefixes);
    ra.other_config = stateless;
    for sourced in &settings.ra_params {
        let p = &sourced.value;
        if p.iface != iface.name && p.iface != "*" {
            return Err(ServeError::config(format!(
                "{}: interface {} is not the served one ({})",
                sourced.describe(),
                p.iface,
                iface.name
            )));
        }
        ra.timing = RaTiming::from_max(p.interval);
        // dnsmasq: the router lifetime defaults to 3 x the interval.
        ra.router_lifetime = p
            .router_lifetime
            .unwrap_or_else(|| (p.interval.as_secs() * 3).min(9000) as u16);
        if let Some(pref) = p.preference {
            ra.preference = pref;
        }
        if let Some(mtu) = p.mtu {
            ra.mtu = mtu.map_or(AdvMtu::Off, AdvMtu::Fixed);
        }
    }
    let dns = dns_server(dns_addresses, &ra.prefixes);
    ra.dns_servers = dns.into_iter().collect();
    ra.search_domains = domain
        .map(|d| d.trim_end_matches('.').to_owned())
        .filter(|d| !d.is_empty())
        .into_iter()
        .collect();
    if let Some(d) = ra.search_domains.first()
        && !netd_proto::ra::option::valid_search_domain(d)
    {
        return Err(ServeError::config(format!(
            "--domain={d} is not a valid DNS name"
        )));
    }
    let own = iface
        .global_ipv6()
        .map(|n| n.ip())
        .find(|a| ra.prefixes.iter().any(|p| p.network.contains(*a)));
    let mut irt = None;
    super::dhcp6_options::apply(&settings.dhcp6_options, &mut ra, &mut irt, own)?;
    let dhcp6 = stateless.then(|| Dhcp6Config {
        server_duid: Dhcp6Config::duid_ll(iface.mac.unwrap_or_default().octets()),
        dns_servers: ra.dns_servers.clone(),
        search_domains: ra.search_domains.clone(),
        information_refresh_time: match (irt, ranges.iter().find_map(|r| r.value.lease)) {
            (Some(secs), _) => secs,
            (None, Some(LeaseTime::Finite(d))) => u32::try_from(d.as_secs()).unwrap_or(IRT_DEFAULT),
            _ => IRT_DEFAULT,
        },
    });
    Ok(Some(Ipv6Plan {
        ra,
        dhcp6,
        ra_names: ranges.iter().any(|r| r.value.ra_names),
    }))
}

fn resolve_prefix(spec: &PrefixSpec, iface: &InterfaceInfo) -> Result<Vec<Ipv6Network>, String> {
    match spec {
        PrefixSpec::Fixed(net) => Ok(vec![*net]),
        PrefixSpec::Constructor { iface: name, len } => {
            if *name != iface.name {
                return Err(format!(
                    "constructor:{name} names another interface than the served one ({})",
                    iface.name
                ));
            }
            let nets: Vec<Ipv6Network> = iface
                .global_ipv6()
                .filter(|n| n.prefix() == *len)
                .filter_map(|n| Ipv6Network::new(n.network(), *len).ok())
                .collect();
            if nets.is_empty() {
                return Err(format!(
                    "constructor:{name}: {name} has no global IPv6 address with a /{len} prefix to advertise"
                ));
            }
            Ok(nets)
        }
    }
}

/// The DNS server to advertise: one global IPv6 address DNS listens on,
/// preferring one inside an advertised prefix.
fn dns_server(dns_addresses: &[IpAddr], prefixes: &[AdvertPrefix]) -> Option<Ipv6Addr> {
    let v6: Vec<Ipv6Addr> = dns_addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) if !a.is_unicast_link_local() && !a.is_loopback() => Some(*a),
            _ => None,
        })
        .collect();
    v6.iter()
        .find(|a| prefixes.iter().any(|p| p.network.contains(**a)))
        .or(v6.first())
        .copied()
}

/// The DHCPv6 socket bound; the RA sender and the neighbour watcher ready.
#[derive(Debug)]
pub struct Ipv6Bound {
    plan: Ipv6Plan,
    dhcp6: Option<Dhcp6Shell>,
    ra_stats: Arc<RaStats>,
    dhcp6_stats: Arc<Dhcp6Stats>,
}

impl Ipv6Plan {
    pub fn bind(self, ctx: &Context) -> Result<Ipv6Bound, ServeError> {
        tracing::debug!(plan = ?self, "IPv6 configuration");
        let dhcp6_stats = Arc::new(Dhcp6Stats::default());
        let dhcp6 = match &self.dhcp6 {
            None => None,
            Some(config) => {
                let server = Dhcp6Server::new(config.clone())
                    .map_err(|e| ServeError::config(format!("--domain: {e}")))?;
                let ifname = &ctx.iface.name;
                Some(
                    Dhcp6Shell::bind(ifname, ctx.iface.index, server, dhcp6_stats.clone())
                        .map_err(ServeError::network(format!(
                            "binding DHCPv6 port 547 on {ifname}"
                        )))?,
                )
            }
        };
        Ok(Ipv6Bound {
            plan: self,
            dhcp6,
            ra_stats: Arc::new(RaStats::default()),
            dhcp6_stats,
        })
    }
}

impl Ipv6Bound {
    pub fn ra_stats(&self) -> Arc<RaStats> {
        self.ra_stats.clone()
    }

    pub fn dhcp6_stats(&self) -> Arc<Dhcp6Stats> {
        self.dhcp6_stats.clone()
    }

    /// Whether the stateless DHCPv6 server runs beside the RA sender.
    pub fn has_dhcp6(&self) -> bool {
        self.dhcp6.is_some()
    }

    /// The advertised prefixes.
    pub fn prefixes(&self) -> Vec<Ipv6Network> {
        self.plan.ra.prefixes.iter().map(|p| p.network).collect()
    }

    pub fn run(self, tasks: &mut Tasks, ctx: &Context) {
        let ifname = ctx.iface.name.clone();
        let wake = Arc::new(Notify::new());
        if let Some(shell) = self.dhcp6 {
            let cancel = ctx.cancel.clone();
            tasks.spawn(async move {
                shell
                    .run(cancel)
                    .await
                    .map_err(|e| ServeError::Fatal(format!("stateless DHCPv6: {e}")))
            });
        }
        if self.plan.ra_names {
            let watcher = NeighbourWatcher {
                ifname: ifname.clone(),
                ifindex: ctx.iface.index,
                prefixes: self.plan.ra.prefixes.iter().map(|p| p.network).collect(),
                names: ctx.names.clone(),
                wake: wake.clone(),
            };
            let cancel = ctx.cancel.clone();
            tasks.spawn(async move {
                watcher
                    .run(cancel)
                    .await
                    .map_err(|e| ServeError::Fatal(format!("ra-names: {e}")))
            });
        }
        let sender = RaSender {
            ifname,
            config: self.plan.ra,
            on_advertise: self.plan.ra_names.then_some(wake),
            stats: self.ra_stats,
        };
        let cancel = ctx.cancel.clone();
        tasks.spawn(async move {
            sender.run(cancel).await;
            Ok(())
        });
    }
}
