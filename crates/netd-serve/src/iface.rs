//! What the shells read about a network interface: index, MAC, MTU and
//! addresses, from the kernel of the current network namespace over
//! rtnetlink (the one way interface state is read, shared with
//! `netd-bridge`, whose [`Links::observe`] does the reading). No sysfs,
//! which may belong to another namespace.

use std::net::{IpAddr, Ipv6Addr};

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use netd_bridge::link::Links;
use netd_bridge::plan::ObservedLink;
use netd_proto::MacAddr;

/// An interface as the kernel reports it now. Re-read it when it matters
/// (a bridge's MAC changes as ports join unless it was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    pub index: u32,
    pub mac: Option<MacAddr>,
    pub mtu: Option<u32>,
    pub ipv4: Vec<Ipv4Network>,
    pub ipv6: Vec<Ipv6Network>,
}

impl InterfaceInfo {
    /// Builds the view from what rtnetlink observed.
    pub fn from_observed(name: &str, link: &ObservedLink) -> InterfaceInfo {
        let mut info = InterfaceInfo {
            name: name.to_owned(),
            index: link.index,
            mac: <[u8; 6]>::try_from(&link.mac[..]).ok().map(MacAddr),
            mtu: link.mtu,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        for net in &link.addresses {
            match net {
                IpNetwork::V4(n) => info.ipv4.push(*n),
                IpNetwork::V6(n) => info.ipv6.push(*n),
            }
        }
        info
    }

    /// The link-local IPv6 address (fe80::/10), the source of RAs.
    pub fn link_local_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6
            .iter()
            .map(|n| n.ip())
            .find(|a| a.segments()[0] & 0xffc0 == 0xfe80)
    }

    /// IPv6 addresses that are not link-local.
    pub fn global_ipv6(&self) -> impl Iterator<Item = Ipv6Network> + '_ {
        self.ipv6
            .iter()
            .copied()
            .filter(|n| n.ip().segments()[0] & 0xffc0 != 0xfe80)
    }

    /// Every address, IPv4 first.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let v4 = self.ipv4.iter().map(|n| IpAddr::V4(n.ip()));
        v4.chain(self.ipv6.iter().map(|n| IpAddr::V6(n.ip())))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IfaceError {
    #[error("no interface named {0:?} in this network namespace")]
    NotFound(String),
    #[error("reading interface {name:?}: {source}")]
    Netlink {
        name: String,
        #[source]
        source: netd_bridge::Error,
    },
}

/// Reads `name` from the kernel. Must run inside a tokio runtime.
pub async fn interface_info(name: &str) -> Result<InterfaceInfo, IfaceError> {
    let netlink = |source| IfaceError::Netlink {
        name: name.to_owned(),
        source,
    };
    let links = Links::connect().map_err(netlink)?;
    match links.observe(name).await.map_err(netlink)? {
        Some(link) => Ok(InterfaceInfo::from_observed(name, &link)),
        None => Err(IfaceError::NotFound(name.to_owned())),
    }
}

/// The name of the interface that holds `addr`, if any: how the daemon
/// finds the interface to serve when only `--listen-address` is given
/// (NetworkManager's shared mode passes no `--interface`).
pub async fn interface_holding(addr: IpAddr) -> Result<Option<String>, IfaceError> {
    use futures::TryStreamExt;
    use netlink_packet_route::address::AddressAttribute;
    use netlink_packet_route::link::LinkAttribute;
    let netlink = |e: std::io::Error| IfaceError::Netlink {
        name: addr.to_string(),
        source: netd_bridge::Error::Netlink("opening an rtnetlink socket".into(), e),
    };
    let (conn, handle, _) = rtnetlink::new_connection().map_err(netlink)?;
    let conn = tokio::spawn(conn);
    let found = async {
        let mut addrs = handle.address().get().execute();
        while let Some(msg) = addrs.try_next().await.ok().flatten() {
            let holds = msg.attributes.iter().any(|a| {
                matches!(a, AddressAttribute::Local(ip) | AddressAttribute::Address(ip) if *ip == addr)
            });
            if !holds {
                continue;
            }
            let mut links = handle.link().get().match_index(msg.header.index).execute();
            if let Some(link) = links.try_next().await.ok().flatten() {
                return link.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                });
            }
        }
        None
    }
    .await;
    conn.abort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[tokio::test]
    async fn loopback_is_found_with_its_address() {
        let lo = interface_info("lo").await.unwrap();
        assert!(lo.index > 0);
        assert!(lo.ipv4.iter().any(|n| n.ip() == Ipv4Addr::LOCALHOST));
        assert!(lo.mtu.unwrap_or(0) > 0);
    }

    #[tokio::test]
    async fn loopback_holds_127_0_0_1() {
        let name = interface_holding(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("lo"));
        let none = interface_holding("192.0.2.254".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(none, None);
    }

    #[tokio::test]
    async fn a_missing_interface_is_named_in_the_error() {
        let err = interface_info("no-such-if0").await.unwrap_err();
        assert!(err.to_string().contains("no-such-if0"));
    }
}
