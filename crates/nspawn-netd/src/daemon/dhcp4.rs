//! Starts the DHCPv4 server: resolves `--dhcp-range`/`--dhcp-host` against
//! the interface's subnet into a [`Dhcp4Config`], loads the lease file,
//! binds the socket and spawns the shell.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use ipnetwork::Ipv4Network;
use netd_proto::dhcp4::{Dhcp4Config, LeaseTime, Server, server};
use netd_serve::dhcp4::{Dhcp4Shell, Dhcp4Socket, LeaseStore};
use netd_serve::iface::InterfaceInfo;
use tracing::{info, warn};

use super::Daemon;
use crate::dhcp_host::parse_dhcp_host;
use crate::dhcp_range::{DhcpRange, Ipv4Range};

/// How long a DECLINEd address stays out of the pool (dnsmasq: 10 minutes).
const DECLINE_HOLD: Duration = Duration::from_secs(600);

pub(super) async fn start(daemon: &mut Daemon) -> anyhow::Result<()> {
    let Some(config) = config(daemon)? else {
        return Ok(());
    };
    tracing::debug!(?config, "DHCPv4 configuration");
    let path = daemon.args.dhcp4.lease_file();
    let store = LeaseStore::new(&path);
    let loaded = store
        .load()
        .with_context(|| format!("reading the lease file {}", path.display()))?;
    for e in &loaded.errors {
        warn!("lease file {}: {e}; line skipped", path.display());
    }
    if !loaded.errors.is_empty() {
        // The rewrite below drops the unreadable lines; keep them.
        let kept = keep_damaged_copy(&path)?;
        warn!(
            "lease file {}: the original, with its unreadable lines, is kept as {}",
            path.display(),
            kept.display()
        );
    }
    let lease_max = daemon
        .args
        .dhcp4
        .dhcp_lease_max
        .unwrap_or(server::DEFAULT_LEASE_MAX);
    let (pool_start, pool_end) = (config.pool_start, config.pool_end);
    let server = Server::new(config, SystemTime::now(), loaded.records).with_lease_max(lease_max);
    // Rewrite at once: drops what did not load, and proves the file writable
    // before the daemon says it is ready.
    store
        .write(&server.records())
        .with_context(|| format!("writing the lease file {}", path.display()))?;
    let iface = daemon.iface.name.clone();
    let socket = Dhcp4Socket::bind(&iface).with_context(|| {
        format!(
            "binding UDP port 67 on {iface} (is another DHCP server, such as dnsmasq, running?)"
        )
    })?;
    info!(
        interface = %iface,
        range = %format_args!("{pool_start}-{pool_end}"),
        leases = server.records().len(),
        lease_file = %path.display(),
        "DHCPv4 server listening"
    );
    let shell = Dhcp4Shell::new(
        server,
        socket,
        store,
        daemon.names.clone(),
        iface,
        daemon.iface.index,
    );
    let cancel = daemon.cancel.clone();
    daemon.tasks.spawn(async move {
        shell.run(cancel).await;
        Ok(())
    });
    Ok(())
}

/// The DHCPv4 configuration, or `None` when no IPv4 range is given.
pub(super) fn config(daemon: &Daemon) -> anyhow::Result<Option<Dhcp4Config>> {
    let ranges: Vec<&Ipv4Range> = daemon
        .ranges
        .iter()
        .filter_map(|r| match r {
            DhcpRange::V4(r) => Some(r),
            DhcpRange::V6(_) => None,
        })
        .collect();
    let range = match ranges.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => bail!("more than one IPv4 --dhcp-range is not supported"),
    };
    let dns: Vec<Ipv4Addr> = daemon
        .dns_addresses()
        .into_iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
        .collect();
    let reservations = daemon
        .args
        .dhcp4
        .dhcp_host
        .iter()
        .map(|h| parse_dhcp_host(h))
        .collect::<Result<Vec<_>, _>>()?;
    let config = resolve(
        range,
        &daemon.iface,
        dns,
        daemon.args.common.domain.clone(),
        reservations,
    )?;
    Ok(Some(config))
}

/// Places `range` in the interface's subnet and checks it fits.
pub(super) fn resolve(
    range: &Ipv4Range,
    iface: &InterfaceInfo,
    dns_servers: Vec<Ipv4Addr>,
    domain: Option<String>,
    reservations: Vec<netd_proto::dhcp4::Reservation>,
) -> anyhow::Result<Dhcp4Config> {
    let net = iface
        .ipv4
        .iter()
        .find(|n| n.contains(range.start))
        .copied()
        .with_context(|| {
            format!(
                "--dhcp-range {}-{} is not inside any IPv4 subnet of {} ({})",
                range.start,
                range.end,
                iface.name,
                list(&iface.ipv4)
            )
        })?;
    let subnet = match range.netmask {
        Some(mask) => {
            Ipv4Network::with_netmask(net.ip(), mask).with_context(|| format!("netmask {mask}"))?
        }
        None => net,
    };
    let subnet = Ipv4Network::new(subnet.network(), subnet.prefix())?;
    if !subnet.contains(range.end) {
        bail!("--dhcp-range end {} is outside {subnet}", range.end);
    }
    for (what, a) in [("start", range.start), ("end", range.end)] {
        if a == subnet.network() || a == subnet.broadcast() {
            bail!("--dhcp-range {what} {a} is the network or broadcast address of {subnet}");
        }
    }
    for r in &reservations {
        if !subnet.contains(r.addr) {
            bail!("--dhcp-host address {} is outside {subnet}", r.addr);
        }
    }
    Ok(Dhcp4Config {
        server_addr: net.ip(),
        subnet,
        pool_start: range.start,
        pool_end: range.end,
        lease_time: range.lease.unwrap_or(LeaseTime::DEFAULT),
        router: Some(net.ip()),
        dns_servers,
        domain,
        mtu: None,
        reservations,
        authoritative: true,
        decline_hold: DECLINE_HOLD,
    })
}

/// Copies the lease file to `PATH.damaged-<unix time>` before it is
/// rewritten without its unreadable lines.
fn keep_damaged_copy(path: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".damaged-{secs}"));
    let copy = std::path::PathBuf::from(name);
    std::fs::copy(path, &copy)
        .with_context(|| format!("keeping a copy of the lease file as {}", copy.display()))?;
    Ok(copy)
}

fn list(nets: &[Ipv4Network]) -> String {
    if nets.is_empty() {
        return "it has no IPv4 address".into();
    }
    nets.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp_range::parse_dhcp_range;

    fn nat0() -> InterfaceInfo {
        InterfaceInfo {
            name: "nat0".into(),
            index: 3,
            mac: None,
            mtu: Some(1500),
            ipv4: vec!["192.168.26.1/24".parse().unwrap()],
            ipv6: vec![],
        }
    }

    fn range(s: &str) -> Ipv4Range {
        match parse_dhcp_range(s).unwrap() {
            DhcpRange::V4(r) => r,
            DhcpRange::V6(_) => unreachable!(),
        }
    }

    #[test]
    fn the_short_range_lands_in_the_interface_subnet() {
        let c = resolve(&range("192.168.26.20-100"), &nat0(), vec![], None, vec![]).unwrap();
        assert_eq!(c.server_addr, Ipv4Addr::new(192, 168, 26, 1));
        assert_eq!(c.subnet.to_string(), "192.168.26.0/24");
        assert_eq!(c.router, Some(c.server_addr));
        assert_eq!(c.lease_time, LeaseTime::DEFAULT);
    }

    #[test]
    fn a_range_outside_the_interface_is_refused_with_its_addresses() {
        let e = resolve(&range("10.0.0.2-9"), &nat0(), vec![], None, vec![]).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("192.168.26.1/24") && msg.contains("nat0"),
            "{msg}"
        );
        assert!(resolve(&range("192.168.26.0-9"), &nat0(), vec![], None, vec![]).is_err());
    }
}
