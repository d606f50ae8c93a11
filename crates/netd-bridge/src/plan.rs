//! The bridge plan: from what the kernel has (observed) to the operations
//! that make it what the configuration asks, and nothing more. Pure: the
//! caller observes and applies.

use crate::config::BridgeConfig;
use ipnetwork::IpNetwork;
use netd_proto::MacAddr;

/// What exists under the bridge's name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedLink {
    pub index: u32,
    /// `IFLA_INFO_KIND` (`bridge`, `veth`, …); `None` for a plain device.
    pub kind: Option<String>,
    pub mac: Vec<u8>,
    /// `IFLA_MTU`, when the kernel reported it.
    pub mtu: Option<u32>,
    /// `IFF_UP` is set.
    pub up: bool,
    /// Its addresses (link-local IPv6 included).
    pub addresses: Vec<IpNetwork>,
}

/// One change to the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOp {
    /// Create the bridge with this MAC (it is brought up by `SetUp`).
    CreateBridge {
        name: String,
        mac: [u8; 6],
    },
    AddAddress(IpNetwork),
    SetUp,
}

/// The operations, plus what we found but leave alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkPlan {
    pub ops: Vec<LinkOp>,
    /// Differences reported, not changed (a foreign MAC, extra addresses).
    pub notes: Vec<String>,
}

/// The interface exists and is not a bridge: we do not replace it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name} exists and is a {kind} device, not a bridge; remove it or choose another --bridge name"
)]
pub struct NotABridge {
    pub name: String,
    pub kind: String,
}

pub fn plan_link(
    cfg: &BridgeConfig,
    observed: Option<&ObservedLink>,
) -> Result<LinkPlan, NotABridge> {
    let wanted: Vec<IpNetwork> = std::iter::once(IpNetwork::V4(cfg.ipv4))
        .chain(cfg.ipv6.map(IpNetwork::V6))
        .collect();
    let Some(link) = observed else {
        let mut ops = vec![LinkOp::CreateBridge {
            name: cfg.name.clone(),
            mac: cfg.mac(),
        }];
        ops.extend(wanted.into_iter().map(LinkOp::AddAddress));
        ops.push(LinkOp::SetUp);
        return Ok(LinkPlan { ops, notes: vec![] });
    };
    if link.kind.as_deref() != Some("bridge") {
        return Err(NotABridge {
            name: cfg.name.clone(),
            kind: link.kind.clone().unwrap_or_else(|| "plain".into()),
        });
    }
    let mut plan = LinkPlan::default();
    if link.mac != cfg.mac() {
        plan.notes.push(format!(
            "{} has MAC {} (not the derived {}); left as it is",
            cfg.name,
            fmt_mac(&link.mac),
            MacAddr(cfg.mac())
        ));
    }
    for want in &wanted {
        let same_ip = |a: &IpNetwork| a.ip() == want.ip();
        match link.addresses.iter().find(|a| same_ip(a)) {
            Some(have) if have.prefix() == want.prefix() => {}
            Some(have) => plan.notes.push(format!(
                "{} has {have}, configured {want}; left as it is",
                cfg.name
            )),
            None => plan.ops.push(LinkOp::AddAddress(*want)),
        }
    }
    for have in &link.addresses {
        let link_local = matches!(have, IpNetwork::V6(n) if n.ip().is_unicast_link_local());
        if !link_local && !wanted.iter().any(|w| w.ip() == have.ip()) {
            plan.notes
                .push(format!("{} also has {have}; left as it is", cfg.name));
        }
    }
    if !link.up {
        plan.ops.push(LinkOp::SetUp);
    }
    Ok(plan)
}

/// A link-layer address as netlink gives it: `aa:bb:cc:dd:ee:ff` when it is
/// an Ethernet address, else its length.
pub fn fmt_mac(mac: &[u8]) -> String {
    MacAddr::try_from(mac).map_or_else(|_| format!("({} bytes)", mac.len()), |m| m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BridgeConfig {
        BridgeConfig::default_nat0()
    }

    #[test]
    fn nothing_there_creates_addresses_and_brings_up() {
        let plan = plan_link(&cfg(), None).unwrap();
        assert_eq!(
            plan.ops,
            [
                LinkOp::CreateBridge {
                    name: "nat0".into(),
                    mac: cfg().mac()
                },
                LinkOp::AddAddress("192.168.26.1/24".parse().unwrap()),
                LinkOp::AddAddress("fd23::1/64".parse().unwrap()),
                LinkOp::SetUp,
            ]
        );
    }

    #[test]
    fn a_complete_bridge_needs_nothing() {
        let link = ObservedLink {
            index: 4,
            kind: Some("bridge".into()),
            mac: cfg().mac().to_vec(),
            mtu: None,
            up: true,
            addresses: vec![
                "192.168.26.1/24".parse().unwrap(),
                "fd23::1/64".parse().unwrap(),
                "fe80::1/64".parse().unwrap(),
            ],
        };
        let plan = plan_link(&cfg(), Some(&link)).unwrap();
        assert_eq!(plan, LinkPlan::default());
    }

    #[test]
    fn a_partial_bridge_gets_only_the_difference_and_foreign_state_is_reported() {
        let link = ObservedLink {
            index: 4,
            kind: Some("bridge".into()),
            mac: vec![2, 0, 0, 0, 0, 1],
            mtu: None,
            up: false,
            addresses: vec![
                "192.168.26.1/16".parse().unwrap(),
                "10.9.9.9/8".parse().unwrap(),
            ],
        };
        let plan = plan_link(&cfg(), Some(&link)).unwrap();
        assert_eq!(
            plan.ops,
            [
                LinkOp::AddAddress("fd23::1/64".parse().unwrap()),
                LinkOp::SetUp
            ]
        );
        assert_eq!(plan.notes.len(), 3, "{:?}", plan.notes);
    }

    #[test]
    fn without_ipv6_no_ipv6_address_is_added() {
        let mut c = cfg();
        c.ipv6 = None;
        let plan = plan_link(&c, None).unwrap();
        assert!(
            !plan
                .ops
                .iter()
                .any(|op| matches!(op, LinkOp::AddAddress(IpNetwork::V6(_))))
        );
    }

    #[test]
    fn a_non_bridge_under_the_name_is_refused_not_replaced() {
        let link = ObservedLink {
            kind: Some("veth".into()),
            ..ObservedLink::default()
        };
        let err = plan_link(&cfg(), Some(&link)).unwrap_err();
        assert!(err.to_string().contains("veth"), "{err}");
    }
}
