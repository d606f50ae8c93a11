//! Host-side name resolution of containers: registers the bridge's DNS
//! server and a routing domain for the containers' domain with
//! systemd-resolved over D-Bus (`SetLinkDNS`, `SetLinkDomains`,
//! `SetLinkDefaultRoute`), so `ping NAME.DOMAIN` works on the host;
//! `RevertLink` undoes it. Skipped, with a message, where resolved does not
//! run, and in any network namespace but the init process's: resolved sees
//! only the links of its own namespace, and an interface index from
//! another one would name some other link there. [`registration`] is the
//! pure decision of what to send.

use std::net::IpAddr;
use std::path::Path;

use crate::Error;
use crate::config::BridgeConfig;

/// resolved's varlink socket: present while resolved runs.
const RESOLVED_SOCKET: &str = "/run/systemd/resolve/io.systemd.Resolve";
const RESOLVE1_NAME: &str = "org.freedesktop.resolve1";
const RESOLVE1_PATH: &str = "/org/freedesktop/resolve1";
const RESOLVE1_MANAGER: &str = "org.freedesktop.resolve1.Manager";

/// What to tell resolved about the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub ifname: String,
    /// The bridge's addresses, where the daemon answers DNS.
    pub dns: Vec<IpAddr>,
    /// `(domain, routing_only)`: only queries under the domain go to the
    /// bridge's server.
    pub domains: Vec<(String, bool)>,
    /// Always false: the containers' server must not become the host's
    /// default resolver.
    pub default_route: bool,
}

/// What to register, or why nothing: without a domain there is nothing to
/// route to the containers' server (and giving resolved a link DNS server
/// without one would send every host query there).
pub fn registration(cfg: &BridgeConfig, domain: Option<&str>) -> Result<Registration, String> {
    let domain = domain
        .map(|d| d.trim_matches('.'))
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            "no --domain given: not registering the bridge with systemd-resolved".to_string()
        })?;
    let mut dns = vec![IpAddr::V4(cfg.ipv4.ip())];
    if let Some(v6) = cfg.ipv6 {
        dns.push(IpAddr::V6(v6.ip()));
    }
    Ok(Registration {
        ifname: cfg.name.clone(),
        dns,
        domains: vec![(domain.to_string(), true)],
        default_route: false,
    })
}

/// The `a(iay)` argument of `SetLinkDNS`: address family and bytes.
pub fn dns_argument(dns: &[IpAddr]) -> Vec<(i32, Vec<u8>)> {
    dns.iter()
        .map(|a| match a {
            IpAddr::V4(v4) => (libc::AF_INET, v4.octets().to_vec()),
            IpAddr::V6(v6) => (libc::AF_INET6, v6.octets().to_vec()),
        })
        .collect()
}

/// `SetLinkDNS(i ifindex, a(iay) addresses)`.
type SetLinkDnsArgs = (i32, Vec<(i32, Vec<u8>)>);
/// `SetLinkDomains(i ifindex, a(sb) domains)`.
type SetLinkDomainsArgs = (i32, Vec<(String, bool)>);
/// `SetLinkDefaultRoute(i ifindex, b enable)`.
type SetLinkDefaultRouteArgs = (i32, bool);
/// `RevertLink(i ifindex)`.
type RevertLinkArgs = (i32,);

/// How registering went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Registered,
    /// Not done, and why (resolved absent, no domain).
    Skipped(String),
}

fn resolved_runs() -> bool {
    Path::new(RESOLVED_SOCKET).exists()
}

/// Whether this process shares the init process's network namespace;
/// `None` when that cannot be read.
fn in_init_netns() -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let ours = std::fs::metadata("/proc/self/ns/net").ok()?;
    let init = std::fs::metadata("/proc/1/ns/net").ok()?;
    Some(ours.dev() == init.dev() && ours.ino() == init.ino())
}

/// Why not to talk to resolved at all, if there is a reason.
fn reason_to_skip() -> Option<String> {
    if in_init_netns() != Some(true) {
        return Some(
            "not in the host's network namespace: systemd-resolved there cannot see this bridge; not registering".into(),
        );
    }
    if !resolved_runs() {
        return Some(
            "systemd-resolved is not running: skipped registering the containers' domain".into(),
        );
    }
    None
}

fn ifindex(name: &str) -> Result<i32, Error> {
    crate::sys::if_nametoindex(name)
        .map(|idx| idx as i32)
        .ok_or_else(|| Error::Conflict(format!("no interface {name}")))
}

fn dbus_err(what: &str) -> impl FnOnce(zbus::Error) -> Error + '_ {
    move |e| Error::Netlink(format!("systemd-resolved {what}"), std::io::Error::other(e))
}

async fn call<B>(conn: &zbus::Connection, method: &str, body: &B) -> Result<(), Error>
where
    B: serde::Serialize + zbus::DynamicType,
{
    conn.call_method(
        Some(RESOLVE1_NAME),
        RESOLVE1_PATH,
        Some(RESOLVE1_MANAGER),
        method,
        body,
    )
    .await
    .map_err(dbus_err(method))?;
    Ok(())
}

/// Registers the bridge with resolved when it runs and a domain is set.
pub async fn register(cfg: &BridgeConfig, domain: Option<&str>) -> Result<Outcome, Error> {
    let reg = match registration(cfg, domain) {
        Ok(r) => r,
        Err(why) => return Ok(Outcome::Skipped(why)),
    };
    if let Some(why) = reason_to_skip() {
        return Ok(Outcome::Skipped(why));
    }
    let idx = ifindex(&reg.ifname)?;
    let conn = zbus::Connection::system()
        .await
        .map_err(dbus_err("connect"))?;
    send_registration(&conn, idx, &reg).await?;
    Ok(Outcome::Registered)
}

/// Tells resolve1 on `conn` about link `ifindex`: its DNS servers, its
/// routing-only domains, and that it is not a default route.
pub async fn send_registration(
    conn: &zbus::Connection,
    ifindex: i32,
    reg: &Registration,
) -> Result<(), Error> {
    let dns: SetLinkDnsArgs = (ifindex, dns_argument(&reg.dns));
    call(conn, "SetLinkDNS", &dns).await?;
    let domains: SetLinkDomainsArgs = (ifindex, reg.domains.clone());
    call(conn, "SetLinkDomains", &domains).await?;
    let default_route: SetLinkDefaultRouteArgs = (ifindex, reg.default_route);
    call(conn, "SetLinkDefaultRoute", &default_route).await
}

/// Asks resolve1 on `conn` to forget what it was told about `ifindex`.
pub async fn send_revert(conn: &zbus::Connection, ifindex: i32) -> Result<(), Error> {
    let args: RevertLinkArgs = (ifindex,);
    call(conn, "RevertLink", &args).await
}

/// Drops everything we told resolved about the bridge.
pub async fn revert(bridge: &str) -> Result<(), Error> {
    if reason_to_skip().is_some() {
        return Ok(());
    }
    let Ok(idx) = ifindex(bridge) else {
        return Ok(()); // the link is gone, and resolved forgot it with it
    };
    let conn = zbus::Connection::system()
        .await
        .map_err(dbus_err("connect"))?;
    send_revert(&conn, idx).await
}

#[cfg(test)]
mod bus_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_both_addresses_and_a_routing_only_domain() {
        let r = registration(&BridgeConfig::default_nat0(), Some("containers.")).unwrap();
        assert_eq!(
            r.dns,
            [
                "192.168.26.1".parse::<IpAddr>().unwrap(),
                "fd23::1".parse().unwrap()
            ]
        );
        assert_eq!(r.domains, [("containers".to_string(), true)]);
        assert!(!r.default_route);
        let arg = dns_argument(&r.dns);
        assert_eq!(arg[0], (libc::AF_INET, vec![192, 168, 26, 1]));
        assert_eq!(arg[1].0, libc::AF_INET6);
        assert_eq!(arg[1].1.len(), 16);
    }

    #[test]
    fn the_bodies_have_resolveds_signatures() {
        use zbus::Type;
        let sig = |s: &zbus::Signature| s.to_string();
        assert_eq!(sig(SetLinkDnsArgs::SIGNATURE), "(ia(iay))");
        assert_eq!(sig(SetLinkDomainsArgs::SIGNATURE), "(ia(sb))");
        assert_eq!(sig(SetLinkDefaultRouteArgs::SIGNATURE), "(ib)");
        assert_eq!(sig(RevertLinkArgs::SIGNATURE), "(i)");
    }

    #[test]
    fn without_a_domain_nothing_is_registered() {
        let err = registration(&BridgeConfig::default_nat0(), None).unwrap_err();
        assert!(err.contains("--domain"), "{err}");
    }

    #[test]
    fn without_ipv6_only_the_ipv4_server_is_given() {
        let mut cfg = BridgeConfig::default_nat0();
        cfg.ipv6 = None;
        let r = registration(&cfg, Some("c")).unwrap();
        assert_eq!(r.dns.len(), 1);
    }
}
