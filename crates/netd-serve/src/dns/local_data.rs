//! What the local records need from the system, read before [`super::plan`]:
//! the addresses of `--interface-name` interfaces and the host's name (for
//! `hostname.bind` and `--mx-host` without a host).

use std::collections::HashMap;
use std::net::IpAddr;

use netd_proto::dns::RecordSpec;
use tracing::warn;

use crate::iface::{InterfaceInfo, interface_info};
use crate::settings::Sourced;

/// `--interface-name=NAME,INTERFACE[/4|/6]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceName {
    /// Lower-case, no trailing dot.
    pub name: String,
    pub interface: String,
    /// `/4` or `/6`: only that family's addresses.
    pub family: Option<Family>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// Reads each `--interface-name` interface other than `served` (whose
/// addresses are known already); one that does not exist has none, and the
/// name answers with no records, as in dnsmasq.
pub async fn read_interfaces(
    names: &[Sourced<InterfaceName>],
    served: &InterfaceInfo,
) -> HashMap<String, Vec<IpAddr>> {
    let mut out = HashMap::new();
    out.insert(served.name.clone(), served.addresses().collect());
    for n in names {
        let ifname = &n.value.interface;
        if out.contains_key(ifname) {
            continue;
        }
        let addrs = match interface_info(ifname).await {
            Ok(info) => info.addresses().collect(),
            Err(e) => {
                warn!("{}: {e}; {} has no address", n.describe(), n.value.name);
                Vec::new()
            }
        };
        out.insert(ifname.clone(), addrs);
    }
    out
}

/// The host's name (`/proc/sys/kernel/hostname`), if readable.
pub fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// `--interface-name` values as host records with the addresses found.
/// IPv6 link-local addresses are left out: a client cannot use one without
/// knowing the link.
pub(crate) fn interface_records(
    names: &[Sourced<InterfaceName>],
    addrs: &HashMap<String, Vec<IpAddr>>,
) -> Vec<RecordSpec> {
    names
        .iter()
        .map(|n| {
            let n = &n.value;
            let addrs = addrs
                .get(&n.interface)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|a| match a {
                    IpAddr::V4(_) => n.family != Some(Family::V6),
                    IpAddr::V6(v6) => {
                        n.family != Some(Family::V4) && (v6.segments()[0] & 0xffc0) != 0xfe80
                    }
                })
                .copied()
                .collect();
            RecordSpec::Host {
                names: vec![n.name.clone()],
                addrs,
                ttl: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Origin;

    #[test]
    fn interface_names_take_the_family_asked_for_and_no_link_local() {
        let names: Vec<_> = [None, Some(Family::V4), Some(Family::V6)]
            .into_iter()
            .map(|family| {
                Sourced::new(
                    InterfaceName {
                        name: "gw.lan".into(),
                        interface: "br0".into(),
                        family,
                    },
                    "interface-name",
                    "gw.lan,br0",
                    Origin::CommandLine,
                )
            })
            .collect();
        let addrs = HashMap::from([(
            "br0".to_owned(),
            ["10.0.0.1", "fe80::1", "fd00::1"]
                .map(|a| a.parse().unwrap())
                .to_vec(),
        )]);
        let recs = interface_records(&names, &addrs);
        let got: Vec<Vec<IpAddr>> = recs
            .into_iter()
            .map(|r| match r {
                RecordSpec::Host { addrs, .. } => addrs,
                other => panic!("{other:?}"),
            })
            .collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            got,
            [
                vec![ip("10.0.0.1"), ip("fd00::1")],
                vec![ip("10.0.0.1")],
                vec![ip("fd00::1")]
            ]
        );
    }
}
