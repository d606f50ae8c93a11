//! The neighbour table, sans-IO: the shell turns netlink messages into
//! [`NeighbourEvent`]s; the table keeps the live ones and says which IPv6
//! addresses each MAC has in the advertised prefixes.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};

use ipnetwork::Ipv6Network;

/// A neighbour entry appeared, changed or went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeighbourEvent {
    /// The address answered recently enough to be trusted.
    Present { addr: IpAddr, mac: [u8; 6] },
    /// Deleted, failed or still unresolved.
    Gone { addr: IpAddr },
}

/// The modified EUI-64 address of `mac` in a /64 `prefix` (RFC 4291 2.5.1):
/// what a host forms with `addr_gen_mode=0`.
pub fn eui64_address(prefix: &Ipv6Network, mac: [u8; 6]) -> Option<Ipv6Addr> {
    if prefix.prefix() != 64 {
        return None;
    }
    let mut b = prefix.network().octets();
    b[8..16].copy_from_slice(&[
        mac[0] ^ 0x02,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ]);
    Some(Ipv6Addr::from(b))
}

/// What an event changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changed {
    /// The published addresses changed.
    pub names: bool,
    /// A MAC not seen before showed up (a new host: worth probing for).
    pub new_mac: bool,
}

/// Live neighbours of one interface.
#[derive(Debug, Clone)]
pub struct NeighbourTable {
    /// Only addresses in these are published.
    prefixes: Vec<Ipv6Network>,
    entries: HashMap<IpAddr, [u8; 6]>,
}

impl NeighbourTable {
    pub fn new(prefixes: Vec<Ipv6Network>) -> Self {
        NeighbourTable {
            prefixes,
            entries: HashMap::new(),
        }
    }

    fn published(&self, addr: &IpAddr) -> bool {
        match addr {
            IpAddr::V6(a) => self.prefixes.iter().any(|p| p.contains(*a)),
            IpAddr::V4(_) => false,
        }
    }

    pub fn apply(&mut self, event: NeighbourEvent) -> Changed {
        match event {
            NeighbourEvent::Present { addr, mac } => {
                let new_mac = !self.entries.values().any(|m| *m == mac);
                let old = self.entries.insert(addr, mac);
                Changed {
                    names: old != Some(mac) && self.published(&addr),
                    new_mac,
                }
            }
            NeighbourEvent::Gone { addr } => Changed {
                names: self.entries.remove(&addr).is_some() && self.published(&addr),
                new_mac: false,
            },
        }
    }

    /// For [`crate::names::LocalNames::set_neighbours`]: each MAC's
    /// addresses in the prefixes, sorted.
    pub fn names(&self) -> HashMap<[u8; 6], Vec<Ipv6Addr>> {
        let mut out: HashMap<[u8; 6], BTreeSet<Ipv6Addr>> = HashMap::new();
        for (addr, mac) in &self.entries {
            if let IpAddr::V6(a) = addr
                && self.published(addr)
            {
                out.entry(*mac).or_default().insert(*a);
            }
        }
        out.into_iter()
            .map(|(m, a)| (m, a.into_iter().collect()))
            .collect()
    }

    /// EUI-64 guesses to probe: for every MAC seen (IPv4 or IPv6) that has
    /// no address in a prefix yet.
    pub fn eui64_guesses(&self) -> Vec<Ipv6Addr> {
        let with_address: BTreeSet<[u8; 6]> = self
            .entries
            .iter()
            .filter(|(a, _)| self.published(a))
            .map(|(_, m)| *m)
            .collect();
        let macs: BTreeSet<[u8; 6]> = self
            .entries
            .values()
            .filter(|m| !with_address.contains(*m))
            .copied()
            .collect();
        macs.iter()
            .flat_map(|m| self.prefixes.iter().filter_map(|p| eui64_address(p, *m)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC_A: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const MAC_B: [u8; 6] = [0x0a, 0, 0, 0, 0, 0x0b];

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    fn table() -> NeighbourTable {
        NeighbourTable::new(vec!["fd23::/64".parse().unwrap()])
    }

    #[test]
    fn eui64_flips_the_universal_local_bit() {
        let p: Ipv6Network = "fd23::/64".parse().unwrap();
        assert_eq!(
            eui64_address(&p, MAC_A),
            Some("fd23::11:22ff:fe33:4455".parse().unwrap())
        );
        assert_eq!(eui64_address(&"fd23::/56".parse().unwrap(), MAC_A), None);
    }

    #[test]
    fn only_addresses_in_the_prefix_are_published_by_mac() {
        let mut t = table();
        let stable = v6("fd23::8c1:5f3e:9a70:2b4d");
        let c = t.apply(NeighbourEvent::Present {
            addr: v6("fe80::1"),
            mac: MAC_A,
        });
        assert_eq!(
            c,
            Changed {
                names: false,
                new_mac: true
            }
        );
        let c = t.apply(NeighbourEvent::Present {
            addr: stable,
            mac: MAC_A,
        });
        assert_eq!(
            c,
            Changed {
                names: true,
                new_mac: false
            }
        );
        t.apply(NeighbourEvent::Present {
            addr: v6("2001:db8::5"),
            mac: MAC_A,
        });
        t.apply(NeighbourEvent::Present {
            addr: "192.168.26.20".parse().unwrap(),
            mac: MAC_B,
        });
        let names = t.names();
        assert_eq!(names.len(), 1);
        assert_eq!(
            names[&MAC_A],
            [stable.to_string().parse::<Ipv6Addr>().unwrap()]
        );
        // The same entry again changes nothing; its removal does.
        assert!(
            !t.apply(NeighbourEvent::Present {
                addr: stable,
                mac: MAC_A
            })
            .names
        );
        assert!(t.apply(NeighbourEvent::Gone { addr: stable }).names);
        assert!(t.names().is_empty());
        assert!(!t.apply(NeighbourEvent::Gone { addr: stable }).names);
    }

    #[test]
    fn eui64_guesses_only_for_macs_without_an_address() {
        let mut t = table();
        t.apply(NeighbourEvent::Present {
            addr: "192.168.26.20".parse().unwrap(),
            mac: MAC_A,
        });
        t.apply(NeighbourEvent::Present {
            addr: v6("fe80::8"),
            mac: MAC_B,
        });
        t.apply(NeighbourEvent::Present {
            addr: v6("fd23::77"),
            mac: MAC_B,
        });
        assert_eq!(
            t.eui64_guesses(),
            ["fd23::11:22ff:fe33:4455".parse::<Ipv6Addr>().unwrap()]
        );
        // A guess is not published until the kernel reports it answering.
        assert!(!t.names().contains_key(&MAC_A));
        t.apply(NeighbourEvent::Present {
            addr: v6("fd23::11:22ff:fe33:4455"),
            mac: MAC_A,
        });
        assert!(t.names().contains_key(&MAC_A));
        assert!(t.eui64_guesses().is_empty());
    }

    #[test]
    fn the_name_table_answers_a_stable_privacy_address_of_a_lease() {
        use crate::names::{DhcpName, LocalNames};
        let names = LocalNames::new(Some("lan"));
        names.set_dhcp(vec![DhcpName {
            hostname: "web".into(),
            addr: "192.168.26.20".parse().unwrap(),
            mac: MAC_A,
        }]);
        let mut t = table();
        let stable = v6("fd23::8c1:5f3e:9a70:2b4d");
        t.apply(NeighbourEvent::Present {
            addr: stable,
            mac: MAC_A,
        });
        t.apply(NeighbourEvent::Present {
            addr: v6("fd23::99"),
            mac: MAC_B,
        });
        names.set_neighbours(t.names());
        let snap = names.snapshot();
        let want = ["192.168.26.20".parse().unwrap(), stable];
        assert_eq!(snap.lookup("web.lan"), Some(&want[..]));
        assert_eq!(snap.reverse(&stable), Some("web.lan"));
        assert_eq!(snap.reverse(&v6("fd23::99")), None, "no lease, no name");
        t.apply(NeighbourEvent::Gone { addr: stable });
        names.set_neighbours(t.names());
        assert_eq!(names.snapshot().lookup("web").map(<[IpAddr]>::len), Some(1));
    }
}
