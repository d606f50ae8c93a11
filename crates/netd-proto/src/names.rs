//! The local name table: the names DNS answers itself for the bridge's
//! clients. DHCPv4 leases give `name -> IPv4`, the neighbour table gives
//! `MAC -> IPv6 addresses`, joined through the lease's MAC (`ra-names`).
//!
//! Writers replace their whole part ([`LocalNames::set_dhcp`],
//! [`LocalNames::set_neighbours`]); readers take a cheap snapshot
//! ([`LocalNames::snapshot`]) that never blocks a writer and needs no lock on
//! the DNS hot path.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

/// One DHCPv4 lease that carries a hostname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpName {
    /// The client's hostname as it asked for it (a single label).
    pub hostname: String,
    pub addr: Ipv4Addr,
    pub mac: [u8; 6],
}

/// Names and their addresses, lower-cased, without trailing dot: the one
/// name table type, for local names and for hosts files alike
/// ([`crate::dns::Hosts`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NameTable {
    forward: HashMap<String, Vec<IpAddr>>,
    reverse: HashMap<IpAddr, String>,
}

impl NameTable {
    /// Adds `name -> addr` (once); the first name added for an address
    /// answers its PTR.
    pub fn add(&mut self, name: &str, addr: IpAddr) {
        let addrs = self.forward.entry(name.to_owned()).or_default();
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
        self.reverse.entry(addr).or_insert_with(|| name.to_owned());
    }

    /// Addresses of `name` (lower-case, no trailing dot), if it is local.
    pub fn lookup(&self, name: &str) -> Option<&[IpAddr]> {
        self.forward.get(name).map(Vec::as_slice)
    }

    /// The name an address belongs to, for PTR answers.
    pub fn reverse(&self, addr: &IpAddr) -> Option<&str> {
        self.reverse.get(addr).map(String::as_str)
    }

    /// Adds `NAME.domain` for every single-label name (`--expand-hosts`),
    /// with the same addresses; a PTR that named a single label names
    /// `NAME.domain` instead, as dnsmasq answers.
    pub fn expand_single_labels(&mut self, domain: &str) {
        for name in self.reverse.values_mut() {
            if !name.contains('.') {
                *name = format!("{name}.{domain}");
            }
        }
        let short: Vec<(String, Vec<IpAddr>)> = self
            .forward
            .iter()
            .filter(|(n, _)| !n.contains('.'))
            .map(|(n, a)| (format!("{n}.{domain}"), a.clone()))
            .collect();
        for (name, addrs) in short {
            for a in addrs {
                self.add(&name, a);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.forward.len()
    }

    /// Every name, lower-case.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.forward.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.forward.is_empty()
    }
}

#[derive(Debug, Default)]
struct Sources {
    dhcp: Vec<DhcpName>,
    neighbours: HashMap<[u8; 6], Vec<Ipv6Addr>>,
}

/// The shared, swappable name table.
#[derive(Debug)]
pub struct LocalNames {
    /// The domain appended to bare hostnames (`--domain`), lower-case.
    domain: Option<String>,
    sources: Mutex<Sources>,
    table: ArcSwap<NameTable>,
    /// Names DHCP clients may not take (hosts files, local records), with
    /// a generation that changes on every [`LocalNames::set_protected`].
    protected: ArcSwap<(u64, Vec<String>)>,
}

impl LocalNames {
    pub fn new(domain: Option<&str>) -> Arc<Self> {
        Arc::new(LocalNames {
            domain: domain.map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
            sources: Mutex::new(Sources::default()),
            table: ArcSwap::from_pointee(NameTable::default()),
            protected: ArcSwap::from_pointee((0, Vec::new())),
        })
    }

    /// Replaces the names no DHCP client may take.
    pub fn set_protected(&self, names: Vec<String>) {
        let generation = self.protected.load().0 + 1;
        self.protected.store(Arc::new((generation, names)));
    }

    /// The protected names and their generation (0: never set).
    pub fn protected(&self) -> Arc<(u64, Vec<String>)> {
        self.protected.load_full()
    }

    /// Replace the DHCPv4 part. When two leases carry the same name, the one
    /// later in `leases` wins (give them oldest first, newest last).
    pub fn set_dhcp(&self, leases: Vec<DhcpName>) {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        sources.dhcp = leases;
        self.rebuild(&sources);
    }

    /// Replace the IPv6 neighbour part: the global IPv6 addresses seen for
    /// each MAC on the interface.
    pub fn set_neighbours(&self, neighbours: HashMap<[u8; 6], Vec<Ipv6Addr>>) {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        sources.neighbours = neighbours;
        self.rebuild(&sources);
    }

    pub fn snapshot(&self) -> Arc<NameTable> {
        self.table.load_full()
    }

    fn rebuild(&self, sources: &Sources) {
        // Latest lease wins a duplicate name: keep the index of the last one.
        let mut by_name: HashMap<String, &DhcpName> = HashMap::new();
        for lease in &sources.dhcp {
            by_name.insert(lease.hostname.to_ascii_lowercase(), lease);
        }
        let mut table = NameTable::default();
        for (name, lease) in by_name {
            let mut addrs = vec![IpAddr::V4(lease.addr)];
            if let Some(v6) = sources.neighbours.get(&lease.mac) {
                addrs.extend(v6.iter().copied().map(IpAddr::V6));
            }
            // The FQDN first: it is the canonical name PTR answers with.
            if let Some(d) = &self.domain {
                let fqdn = format!("{name}.{d}");
                for addr in &addrs {
                    table.add(&fqdn, *addr);
                }
            }
            for addr in &addrs {
                table.add(&name, *addr);
            }
        }
        self.table.store(Arc::new(table));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(name: &str, last: u8, mac: u8) -> DhcpName {
        DhcpName {
            hostname: name.into(),
            addr: Ipv4Addr::new(192, 168, 26, last),
            mac: [2, 0, 0, 0, 0, mac],
        }
    }

    #[test]
    fn names_with_and_without_domain_and_reverse() {
        let names = LocalNames::new(Some("Lan."));
        names.set_dhcp(vec![lease("Web", 20, 1)]);
        let t = names.snapshot();
        let want = [IpAddr::V4(Ipv4Addr::new(192, 168, 26, 20))];
        assert_eq!(t.lookup("web"), Some(&want[..]));
        assert_eq!(t.lookup("web.lan"), Some(&want[..]));
        assert_eq!(t.reverse(&want[0]), Some("web.lan"));
        assert_eq!(t.lookup("db"), None);
    }

    #[test]
    fn newest_lease_takes_a_duplicate_name_and_neighbours_join_by_mac() {
        let names = LocalNames::new(None);
        names.set_dhcp(vec![lease("web", 20, 1), lease("web", 21, 2)]);
        let v6: Ipv6Addr = "fd23::2".parse().unwrap();
        names.set_neighbours(HashMap::from([([2, 0, 0, 0, 0, 2], vec![v6])]));
        let t = names.snapshot();
        assert_eq!(
            t.lookup("web"),
            Some(&[IpAddr::V4(Ipv4Addr::new(192, 168, 26, 21)), IpAddr::V6(v6)][..])
        );
        assert_eq!(t.reverse(&IpAddr::V6(v6)), Some("web"));
        assert_eq!(
            t.reverse(&IpAddr::V4(Ipv4Addr::new(192, 168, 26, 20))),
            None
        );
    }
}
