//! The neighbour table, sans-IO: the shell turns netlink messages into
//! [`NeighbourEvent`]s; the table keeps the live ones and says which IPv6
//! addresses each MAC has in the advertised prefixes.
//!
//! An address the kernel reports is only a candidate: anyone on the link can
//! make the kernel note an address under any MAC with one forged neighbour
//! solicitation. It is published once it has answered our own unicast echo
//! request with the nonce that request carried ([`super::probe`]); a new
//! address, or a known one under another MAC, asks for that probe.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};

use ipnetwork::Ipv6Network;

/// A neighbour entry appeared, changed or went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeighbourEvent {
    /// The kernel holds a link-layer address for it.
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
    /// A candidate to verify now with a unicast probe.
    pub verify: Option<Ipv6Addr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    mac: [u8; 6],
    /// Answered our probe while the kernel held it under `mac`.
    verified: bool,
}

/// A unicast probe in flight: the nonce it carried and the MAC the kernel
/// held the address under when it went out.
#[derive(Debug, Clone, Copy)]
struct Probe {
    nonce: u64,
    mac: [u8; 6],
}

/// Live neighbours of one interface.
#[derive(Debug, Clone)]
pub struct NeighbourTable {
    /// Only addresses in these are published.
    prefixes: Vec<Ipv6Network>,
    entries: HashMap<IpAddr, Entry>,
    probes: HashMap<Ipv6Addr, Probe>,
}

impl NeighbourTable {
    pub fn new(prefixes: Vec<Ipv6Network>) -> Self {
        NeighbourTable {
            prefixes,
            entries: HashMap::new(),
            probes: HashMap::new(),
        }
    }

    fn in_prefix(&self, addr: &IpAddr) -> bool {
        match addr {
            IpAddr::V6(a) => self.prefixes.iter().any(|p| p.contains(*a)),
            IpAddr::V4(_) => false,
        }
    }

    fn published(&self, addr: &IpAddr) -> bool {
        self.entries.get(addr).is_some_and(|e| e.verified) && self.in_prefix(addr)
    }

    pub fn apply(&mut self, event: NeighbourEvent) -> Changed {
        match event {
            NeighbourEvent::Present { addr, mac } => {
                if self.entries.get(&addr).is_some_and(|e| e.mac == mac) {
                    return Changed::default();
                }
                let new_mac = !self.entries.values().any(|e| e.mac == mac);
                let was_published = self.published(&addr);
                self.entries.insert(
                    addr,
                    Entry {
                        mac,
                        verified: false,
                    },
                );
                let verify = match addr {
                    IpAddr::V6(a) if self.in_prefix(&addr) => Some(a),
                    _ => None,
                };
                Changed {
                    names: was_published,
                    new_mac,
                    verify,
                }
            }
            NeighbourEvent::Gone { addr } => {
                let was_published = self.published(&addr);
                self.entries.remove(&addr);
                if let IpAddr::V6(a) = addr {
                    self.probes.remove(&a);
                }
                Changed {
                    names: was_published,
                    ..Changed::default()
                }
            }
        }
    }

    /// A unicast probe carrying `nonce` went to `addr`. Only the last probe
    /// of an address counts.
    pub fn probe_sent(&mut self, addr: Ipv6Addr, nonce: u64) {
        if let Some(e) = self.entries.get(&IpAddr::V6(addr)) {
            self.probes.insert(addr, Probe { nonce, mac: e.mac });
        }
    }

    /// An echo reply from `from` carried `nonce`. Returns whether the
    /// published addresses changed: the reply verified a candidate still
    /// held under the MAC its probe went to.
    pub fn echo_reply(&mut self, from: Ipv6Addr, nonce: u64) -> bool {
        let Some(probe) = self.probes.get(&from).copied() else {
            return false;
        };
        if probe.nonce != nonce {
            return false;
        }
        self.probes.remove(&from);
        let addr = IpAddr::V6(from);
        let in_prefix = self.in_prefix(&addr);
        match self.entries.get_mut(&addr) {
            Some(e) if e.mac == probe.mac && !e.verified => {
                e.verified = true;
                in_prefix
            }
            _ => false,
        }
    }

    /// Takes `fresh` (a new dump of the kernel's table) as the entries,
    /// keeping what was verified under the same MAC. Returns whether the
    /// published addresses changed.
    pub fn resync(&mut self, fresh: NeighbourTable) -> bool {
        let before = self.names();
        let mut entries = fresh.entries;
        for (addr, e) in &mut entries {
            e.verified = self
                .entries
                .get(addr)
                .is_some_and(|old| old.verified && old.mac == e.mac);
        }
        self.entries = entries;
        self.probes.retain(|a, p| {
            self.entries
                .get(&IpAddr::V6(*a))
                .is_some_and(|e| e.mac == p.mac)
        });
        self.names() != before
    }

    /// Whether `addr` answered from the prefix without the kernel holding
    /// it: a host that already knew our address answers a multicast probe
    /// without soliciting us, so only a probe of ours brings it into the
    /// kernel's table (and from there to [`Self::apply`]).
    pub fn unknown_in_prefix(&self, addr: Ipv6Addr) -> bool {
        let addr = IpAddr::V6(addr);
        self.in_prefix(&addr) && !self.entries.contains_key(&addr)
    }

    /// Candidates in the prefixes not verified yet (to probe again).
    pub fn unverified(&self) -> Vec<Ipv6Addr> {
        let mut out: Vec<Ipv6Addr> = self
            .entries
            .iter()
            .filter(|(a, e)| !e.verified && self.in_prefix(a))
            .filter_map(|(a, _)| match a {
                IpAddr::V6(a) => Some(*a),
                IpAddr::V4(_) => None,
            })
            .collect();
        out.sort();
        out
    }

    /// For [`crate::names::LocalNames::set_neighbours`]: each MAC's
    /// verified addresses in the prefixes, sorted.
    pub fn names(&self) -> HashMap<[u8; 6], Vec<Ipv6Addr>> {
        let mut out: HashMap<[u8; 6], BTreeSet<Ipv6Addr>> = HashMap::new();
        for (addr, e) in &self.entries {
            if let IpAddr::V6(a) = addr
                && self.published(addr)
            {
                out.entry(e.mac).or_default().insert(*a);
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
            .filter(|(a, _)| self.in_prefix(a))
            .map(|(_, e)| e.mac)
            .collect();
        let macs: BTreeSet<[u8; 6]> = self
            .entries
            .values()
            .map(|e| e.mac)
            .filter(|m| !with_address.contains(m))
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

    /// Present, probed and verified: what the shell does for an address
    /// that answers.
    fn verified(t: &mut NeighbourTable, addr: IpAddr, mac: [u8; 6], nonce: u64) -> Changed {
        let c = t.apply(NeighbourEvent::Present { addr, mac });
        if let Some(a) = c.verify {
            t.probe_sent(a, nonce);
            assert!(t.echo_reply(a, nonce), "{a} verified");
        }
        c
    }

    #[test]
    fn only_verified_addresses_in_the_prefix_are_published_by_mac() {
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
                new_mac: true,
                verify: None,
            }
        );
        let c = t.apply(NeighbourEvent::Present {
            addr: stable,
            mac: MAC_A,
        });
        let IpAddr::V6(stable6) = stable else {
            unreachable!()
        };
        assert_eq!(
            c,
            Changed {
                names: false,
                new_mac: false,
                verify: Some(stable6),
            }
        );
        assert!(t.names().is_empty(), "a candidate is not published");
        assert_eq!(t.unverified(), [stable6]);
        t.probe_sent(stable6, 42);
        assert!(!t.echo_reply(stable6, 41), "the wrong nonce");
        assert!(!t.echo_reply(v6_6("fd23::1234"), 42), "the wrong address");
        assert!(t.echo_reply(stable6, 42));
        assert!(!t.echo_reply(stable6, 42), "once");
        assert!(t.unverified().is_empty());
        verified(&mut t, v6("2001:db8::5"), MAC_A, 1);
        verified(&mut t, "192.168.26.20".parse().unwrap(), MAC_B, 2);
        let names = t.names();
        assert_eq!(names.len(), 1);
        assert_eq!(names[&MAC_A], [stable6]);
        // The same entry again changes nothing; its removal does.
        assert_eq!(
            t.apply(NeighbourEvent::Present {
                addr: stable,
                mac: MAC_A
            }),
            Changed::default()
        );
        assert!(t.apply(NeighbourEvent::Gone { addr: stable }).names);
        assert!(t.names().is_empty());
        assert!(!t.apply(NeighbourEvent::Gone { addr: stable }).names);
    }

    fn v6_6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn a_forged_entry_under_a_leases_mac_is_never_published() {
        let mut t = table();
        let real = v6("fd23::a");
        let forged = v6_6("fd23::dead:beef");
        verified(&mut t, real, MAC_A, 1);
        // A neighbour solicitation with a forged source and MAC_A: the
        // probe goes to MAC_A, which does not own the address and drops it.
        let c = t.apply(NeighbourEvent::Present {
            addr: IpAddr::V6(forged),
            mac: MAC_A,
        });
        assert_eq!(c.verify, Some(forged));
        t.probe_sent(forged, 77);
        // A blind reply with a guessed nonce does nothing.
        assert!(!t.echo_reply(forged, 78));
        assert_eq!(t.names()[&MAC_A], [v6_6("fd23::a")]);
        // The kernel gives up on it.
        assert!(
            !t.apply(NeighbourEvent::Gone {
                addr: IpAddr::V6(forged)
            })
            .names
        );
        assert!(!t.echo_reply(forged, 77), "no probe left");
    }

    #[test]
    fn a_verified_address_under_another_mac_is_withdrawn_and_verified_again() {
        let mut t = table();
        let a = v6("fd23::a");
        verified(&mut t, a, MAC_A, 1);
        let c = t.apply(NeighbourEvent::Present {
            addr: a,
            mac: MAC_B,
        });
        assert!(c.names, "withdrawn at once");
        assert!(t.names().is_empty());
        // A reply to the probe that went out under MAC_A does not verify it
        // under MAC_B.
        let IpAddr::V6(a6) = a else { unreachable!() };
        t.apply(NeighbourEvent::Present {
            addr: a,
            mac: MAC_A,
        });
        t.probe_sent(a6, 5);
        t.apply(NeighbourEvent::Present {
            addr: a,
            mac: MAC_B,
        });
        assert!(!t.echo_reply(a6, 5), "the MAC changed since");
        t.probe_sent(a6, 6);
        assert!(t.echo_reply(a6, 6));
        assert_eq!(t.names()[&MAC_B], [a6]);
    }

    #[test]
    fn an_answer_from_an_unknown_address_in_the_prefix_asks_for_a_probe() {
        let mut t = table();
        assert!(t.unknown_in_prefix(v6_6("fd23::7")));
        assert!(!t.unknown_in_prefix(v6_6("2001:db8::7")), "outside");
        t.apply(NeighbourEvent::Present {
            addr: v6("fd23::7"),
            mac: MAC_A,
        });
        assert!(!t.unknown_in_prefix(v6_6("fd23::7")), "the kernel holds it");
        // Its answer to a probe whose nonce it was never sent verifies
        // nothing.
        assert!(!t.echo_reply(v6_6("fd23::7"), 3));
        assert!(t.names().is_empty());
    }

    #[test]
    fn a_resync_keeps_what_was_verified_under_the_same_mac() {
        let mut t = table();
        verified(&mut t, v6("fd23::a"), MAC_A, 1);
        verified(&mut t, v6("fd23::b"), MAC_B, 2);
        let mut fresh = table();
        for (addr, mac) in [("fd23::a", MAC_A), ("fd23::b", MAC_A), ("fd23::c", MAC_B)] {
            fresh.apply(NeighbourEvent::Present {
                addr: v6(addr),
                mac,
            });
        }
        assert!(t.resync(fresh));
        let names = t.names();
        assert_eq!(names[&MAC_A], [v6_6("fd23::a")]);
        assert!(!names.contains_key(&MAC_B));
        assert_eq!(t.unverified(), [v6_6("fd23::b"), v6_6("fd23::c")]);
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
        // A guess is not published until it answers our probe.
        assert!(!t.names().contains_key(&MAC_A));
        verified(&mut t, v6("fd23::11:22ff:fe33:4455"), MAC_A, 9);
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
        verified(&mut t, stable, MAC_A, 1);
        verified(&mut t, v6("fd23::99"), MAC_B, 2);
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
