//! Starts the IPv6 services: router advertisements for the IPv6
//! `--dhcp-range`s (or `--enable-ra`), the stateless DHCPv6 server for
//! `ra-stateless`/`slaac`, and the neighbour watcher for `ra-names`.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use anyhow::{Context, bail};
use ipnetwork::Ipv6Network;
use netd_proto::dhcp4::LeaseTime;
use netd_proto::dhcp6::{Dhcp6Config, Dhcp6Server, server::IRT_DEFAULT};
use netd_proto::ra::{AdvMtu, AdvertPrefix, Lifetime, RaConfig, RaTiming};
use netd_serve::dhcp6::Dhcp6Shell;
use netd_serve::iface::InterfaceInfo;
use netd_serve::neighbours::NeighbourWatcher;
use netd_serve::ra::RaSender;
use tokio::sync::Notify;

use super::Daemon;
use crate::cli::Ipv6Args;
use crate::dhcp_range::DhcpRange;
use crate::ipv6_range::{Ipv6Mode, Ipv6Range, PrefixSpec, parse_ipv6_range, parse_ra_param};

/// What the IPv6 options resolve to on the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ipv6Plan {
    pub(crate) ra: RaConfig,
    pub(crate) dhcp6: Option<Dhcp6Config>,
    pub(crate) ra_names: bool,
}

pub(super) async fn start(daemon: &mut Daemon) -> anyhow::Result<()> {
    let v6: Vec<&str> = daemon
        .ranges
        .iter()
        .filter_map(|r| match r {
            DhcpRange::V6(s) => Some(s.as_str()),
            DhcpRange::V4(_) => None,
        })
        .collect();
    let Some(plan) = plan(
        &v6,
        &daemon.args.ipv6,
        &daemon.iface,
        &daemon.dns_addresses(),
        daemon.args.common.domain.as_deref(),
    )?
    else {
        return Ok(());
    };
    tracing::debug!(?plan, "IPv6 configuration");
    let ifname = daemon.iface.name.clone();
    let wake = Arc::new(Notify::new());
    if let Some(config) = plan.dhcp6 {
        let server = Dhcp6Server::new(config).context("--domain")?;
        let shell = Dhcp6Shell::bind(&ifname, daemon.iface.index, server)
            .with_context(|| format!("binding DHCPv6 port 547 on {ifname}"))?;
        let cancel = daemon.cancel.clone();
        daemon
            .tasks
            .spawn(async move { shell.run(cancel).await.context("stateless DHCPv6") });
    }
    if plan.ra_names {
        let watcher = NeighbourWatcher {
            ifname: ifname.clone(),
            ifindex: daemon.iface.index,
            prefixes: plan.ra.prefixes.iter().map(|p| p.network).collect(),
            names: daemon.names.clone(),
            wake: wake.clone(),
        };
        let cancel = daemon.cancel.clone();
        daemon
            .tasks
            .spawn(async move { watcher.run(cancel).await.context("ra-names") });
    }
    let sender = RaSender {
        ifname,
        config: plan.ra,
        on_solicit: plan.ra_names.then_some(wake),
    };
    let cancel = daemon.cancel.clone();
    daemon.tasks.spawn(async move {
        sender.run(cancel).await;
        Ok(())
    });
    Ok(())
}

/// Resolves the IPv6 options; `None` when nothing IPv6 is asked for.
pub(crate) fn plan(
    ranges: &[&str],
    args: &Ipv6Args,
    iface: &InterfaceInfo,
    dns_addresses: &[IpAddr],
    domain: Option<&str>,
) -> anyhow::Result<Option<Ipv6Plan>> {
    let mut ranges = ranges
        .iter()
        .map(|r| parse_ipv6_range(r))
        .collect::<Result<Vec<_>, _>>()?;
    if ranges.is_empty() {
        if !args.enable_ra {
            if !args.ra_param.is_empty() {
                bail!(
                    "--ra-param is given but nothing enables router advertisements (--enable-ra or an IPv6 --dhcp-range)"
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
        ranges.push(Ipv6Range {
            prefix: PrefixSpec::Constructor {
                iface: iface.name.clone(),
                len: 64,
            },
            mode: Ipv6Mode::RaOnly,
            ra_names: false,
            lease: None,
        });
    }
    let mut prefixes: Vec<AdvertPrefix> = Vec::new();
    for r in &ranges {
        let lifetime = match r.lease {
            Some(LeaseTime::Infinite) => Lifetime::INFINITY,
            Some(LeaseTime::Finite(d)) => Lifetime::from_duration(d),
            // dnsmasq advertises infinite lifetimes when none is given.
            None => Lifetime::INFINITY,
        };
        for network in resolve_prefix(&r.prefix, iface)? {
            if prefixes.iter().any(|p| p.network == network) {
                bail!("--dhcp-range: prefix {network} is given twice");
            }
            prefixes.push(AdvertPrefix {
                network,
                autonomous: true,
                valid_lifetime: lifetime,
                preferred_lifetime: lifetime,
            });
        }
    }
    let stateless = ranges.iter().any(|r| r.mode.dhcpv6());
    let mut ra = RaConfig::new(prefixes);
    ra.other_config = stateless;
    for p in &args.ra_param {
        let p = parse_ra_param(p)?;
        if p.iface != iface.name && p.iface != "*" {
            bail!(
                "--ra-param={}: interface {} is not the served one ({})",
                p.iface,
                p.iface,
                iface.name
            );
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
        bail!("--domain={d} is not a valid DNS name");
    }
    let dhcp6 = stateless.then(|| Dhcp6Config {
        server_duid: Dhcp6Config::duid_ll(iface.mac.unwrap_or_default().octets()),
        dns_servers: ra.dns_servers.clone(),
        search_domains: ra.search_domains.clone(),
        information_refresh_time: match ranges.iter().find_map(|r| r.lease) {
            Some(LeaseTime::Finite(d)) => u32::try_from(d.as_secs()).unwrap_or(IRT_DEFAULT),
            _ => IRT_DEFAULT,
        },
    });
    Ok(Some(Ipv6Plan {
        ra,
        dhcp6,
        ra_names: ranges.iter().any(|r| r.ra_names),
    }))
}

fn resolve_prefix(spec: &PrefixSpec, iface: &InterfaceInfo) -> anyhow::Result<Vec<Ipv6Network>> {
    match spec {
        PrefixSpec::Fixed(net) => Ok(vec![*net]),
        PrefixSpec::Constructor { iface: name, len } => {
            if *name != iface.name {
                bail!(
                    "constructor:{name} names another interface than the served one ({})",
                    iface.name
                );
            }
            let nets: Vec<Ipv6Network> = iface
                .global_ipv6()
                .filter(|n| n.prefix() == *len)
                .filter_map(|n| Ipv6Network::new(n.network(), *len).ok())
                .collect();
            if nets.is_empty() {
                bail!(
                    "constructor:{name}: {name} has no global IPv6 address with a /{len} prefix to advertise"
                );
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn nat0() -> InterfaceInfo {
        InterfaceInfo {
            name: "nat0".into(),
            index: 3,
            mac: Some(netd_proto::MacAddr([2, 0, 0, 0, 0, 1])),
            mtu: Some(1500),
            ipv4: vec!["192.168.26.1/24".parse().unwrap()],
            ipv6: vec!["fd23::1/64".parse().unwrap(), "fe80::1/64".parse().unwrap()],
        }
    }

    fn dns() -> Vec<IpAddr> {
        vec!["192.168.26.1".parse().unwrap(), "fd23::1".parse().unwrap()]
    }

    #[test]
    fn the_seed_range_gives_stateless_ra_with_dhcpv6_and_names() {
        let p = plan(
            &["fd23::/64,ra-stateless,ra-names"],
            &Ipv6Args::default(),
            &nat0(),
            &dns(),
            Some("lan"),
        )
        .unwrap()
        .unwrap();
        assert!(p.ra_names && p.ra.other_config && !p.ra.managed);
        assert_eq!(p.ra.prefixes[0].network, "fd23::/64".parse().unwrap());
        assert!(p.ra.prefixes[0].autonomous);
        assert_eq!(p.ra.prefixes[0].valid_lifetime, Lifetime::INFINITY);
        assert_eq!(p.ra.dns_servers, ["fd23::1".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(p.ra.search_domains, ["lan"]);
        assert_eq!(p.ra.router_lifetime, 1800);
        let d = p.dhcp6.unwrap();
        assert_eq!(d.dns_servers, p.ra.dns_servers);
        assert_eq!(d.server_duid, Dhcp6Config::duid_ll([2, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn constructor_enable_ra_and_ra_param() {
        let p = plan(
            &["::,constructor:nat0,ra-only"],
            &Ipv6Args::default(),
            &nat0(),
            &[],
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.ra.prefixes[0].network, "fd23::/64".parse().unwrap());
        assert!(p.dhcp6.is_none() && !p.ra.other_config && p.ra.dns_servers.is_empty());
        let args = Ipv6Args {
            enable_ra: true,
            ra_param: vec!["nat0,high,60,1200".into()],
        };
        let p = plan(&[], &args, &nat0(), &dns(), None).unwrap().unwrap();
        assert_eq!(p.ra.prefixes.len(), 1);
        assert_eq!(p.ra.timing.max_interval, Duration::from_secs(60));
        assert_eq!(p.ra.router_lifetime, 1200);
        assert!(
            plan(&[], &Ipv6Args::default(), &nat0(), &dns(), None)
                .unwrap()
                .is_none()
        );
        let mut v4_only = nat0();
        v4_only.ipv6.retain(|n| n.ip().is_unicast_link_local());
        let args = Ipv6Args {
            enable_ra: true,
            ra_param: vec![],
        };
        assert!(plan(&[], &args, &v4_only, &dns(), None).unwrap().is_none());
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let mut bare = nat0();
        bare.ipv6.retain(|n| n.ip().is_unicast_link_local());
        let e = plan(
            &["::,constructor:nat0,ra-only"],
            &Ipv6Args::default(),
            &bare,
            &[],
            None,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("no global IPv6 address"), "{e:#}");
        let e = plan(
            &["::,constructor:eth0,ra-only"],
            &Ipv6Args::default(),
            &nat0(),
            &[],
            None,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("eth0"), "{e:#}");
        let args = Ipv6Args {
            enable_ra: false,
            ra_param: vec!["eth1,60".into()],
        };
        let e = plan(&["fd23::,ra-only"], &args, &nat0(), &[], None).unwrap_err();
        assert!(format!("{e:#}").contains("eth1"), "{e:#}");
        let e = plan(
            &["fd23::,ra-only", "fd23::/64,ra-stateless"],
            &Ipv6Args::default(),
            &nat0(),
            &[],
            None,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("twice"), "{e:#}");
    }
}
