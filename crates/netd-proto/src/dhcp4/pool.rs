//! Which addresses may be handed out, and to whom: the dynamic ranges minus
//! the server's own, network and broadcast addresses, plus the static
//! reservations, which win over the ranges.
//!
//! A request is served from the ranges of its network ([`Via`]): those of
//! the subnets on the interface, or, through a relay agent, those of the
//! relay's subnet.
//!
//! A new client's address is derived from its identity (a hash, no random
//! source), probing forward when that one is taken, so that the same client
//! tends to get the same address even when its lease was lost.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use super::config::{Dhcp4Config, Dhcp4Range, Reservation};
use super::hosts::{HostQuery, Hosts};
use super::leases::{ClientKey, LeaseTable};

/// The network a request comes from, which chooses the ranges that serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// Straight from the interface: the ranges of its subnets.
    Link,
    /// From a subnet reached through a relay agent: the ranges whose
    /// subnet holds this address (the relay's giaddr, or the address a
    /// relayed client renews from when it unicasts to us directly).
    Subnet(Ipv4Addr),
}

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    ranges: Vec<Dhcp4Range>,
    /// The server's addresses: the primary one and each subnet's.
    own: Vec<Ipv4Addr>,
    /// The server's own addresses and every range's network and broadcast
    /// addresses: never handed to anyone.
    special: Vec<Ipv4Addr>,
    /// Addresses of host entries: never given to a client that does not
    /// match the entry.
    reserved: HashSet<Ipv4Addr>,
    hosts: Hosts,
}

impl Pool {
    pub(crate) fn new(config: &Dhcp4Config) -> Pool {
        let mut own = vec![config.server_addr];
        own.extend(config.ranges.iter().filter_map(|r| r.local));
        own.sort_unstable();
        own.dedup();
        let mut special = own.clone();
        for r in &config.ranges {
            special.extend([r.subnet.network(), r.subnet.broadcast()]);
        }
        special.sort_unstable();
        special.dedup();
        Pool {
            ranges: config.ranges.clone(),
            own,
            special,
            reserved: config.reservations.iter().filter_map(|r| r.addr).collect(),
            hosts: Hosts::new(config.reservations.clone()),
        }
    }

    /// The host entry `q`'s client matches.
    pub(crate) fn reservation(&self, q: &HostQuery<'_>) -> Option<&Reservation> {
        self.hosts.find(q)
    }

    /// The address `q`'s client is given by its host entry.
    pub(crate) fn reserved_addr(&self, q: &HostQuery<'_>) -> Option<Ipv4Addr> {
        self.reservation(q).and_then(|r| r.addr)
    }

    pub(crate) fn hosts(&self) -> &[Reservation] {
        self.hosts.entries()
    }

    /// Whether any range serves requests that come `via`.
    pub(crate) fn serves(&self, via: Via) -> bool {
        self.ranges.iter().any(|r| reaches(r, via))
    }

    /// The range whose subnet holds `addr`, if any.
    pub(crate) fn range_of(&self, addr: Ipv4Addr) -> Option<&Dhcp4Range> {
        self.ranges.iter().find(|r| r.subnet.contains(addr))
    }

    /// The first range serving requests that come `via`.
    pub(crate) fn first_range(&self, via: Via) -> Option<&Dhcp4Range> {
        self.ranges.iter().find(|r| reaches(r, via))
    }

    /// Whether `addr` is on a subnet of the network `via`.
    pub(crate) fn on_network(&self, addr: Ipv4Addr, via: Via) -> bool {
        self.ranges
            .iter()
            .any(|r| reaches(r, via) && r.subnet.contains(addr))
    }

    /// One of the server's own addresses (a server identifier of ours).
    pub(crate) fn is_own(&self, addr: Ipv4Addr) -> bool {
        self.own.contains(&addr)
    }

    /// Never handed to anyone: the server's own, network and broadcast.
    fn is_special(&self, addr: Ipv4Addr) -> bool {
        self.special.binary_search(&addr).is_ok()
    }

    fn in_range(&self, addr: Ipv4Addr) -> bool {
        self.ranges.iter().any(|r| in_pool(r, addr))
    }

    /// An address of a range that any client may get: not special, not
    /// reserved.
    pub(crate) fn is_dynamic(&self, addr: Ipv4Addr) -> bool {
        self.in_range(addr) && !self.is_special(addr) && !self.reserved.contains(&addr)
    }

    /// How many addresses are dynamic ([`Pool::is_dynamic`]).
    pub(crate) fn dynamic_size(&self) -> u64 {
        let mut spans: Vec<(u32, u32)> = self
            .ranges
            .iter()
            .filter(|r| !r.static_only)
            .map(bounds)
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let total: u64 = merged.iter().map(|(a, b)| u64::from(b - a) + 1).sum();
        let excluded = self
            .special
            .iter()
            .chain(self.reserved.iter().filter(|a| !self.is_special(**a)))
            .filter(|a| self.in_range(**a))
            .count() as u64;
        total - excluded
    }

    /// May `q`'s client hold `addr` at all (ignoring who holds it now)? Its
    /// own reservation on a served subnet, or a dynamic address reserved
    /// for no one.
    pub(crate) fn allows(&self, addr: Ipv4Addr, q: &HostQuery<'_>) -> bool {
        if self.is_special(addr) {
            return false;
        }
        if self.reserved.contains(&addr) {
            self.reserved_addr(q) == Some(addr) && self.range_of(addr).is_some()
        } else {
            self.in_range(addr)
        }
    }

    /// The dynamic address for a new client of the network `via`: from
    /// the first of its ranges with one free, hashed from the client's key;
    /// when that one is taken, further addresses drawn from the same hash
    /// (so a block of taken addresses costs no long walk: at 15 % of a /14
    /// taken in one block, a linear probe read thousands of entries per
    /// DISCOVER); after [`PROBES`] of those, the next free one in order.
    /// `None` when every dynamic address is taken.
    pub(crate) fn pick(&self, key: &ClientKey, leases: &LeaseTable, via: Via) -> Option<Ipv4Addr> {
        self.ranges
            .iter()
            .filter(|r| reaches(r, via) && !r.static_only)
            .find_map(|r| self.pick_in(r, key, leases))
    }

    fn pick_in(&self, r: &Dhcp4Range, key: &ClientKey, leases: &LeaseTable) -> Option<Ipv4Addr> {
        let (start, end) = bounds(r);
        let size = u64::from(end - start) + 1;
        let at = |i: u64| Ipv4Addr::from(start + (i % size) as u32);
        let free =
            |a: Ipv4Addr| !self.is_special(a) && !self.reserved.contains(&a) && !leases.is_taken(a);
        let first = fnv1a(key.bytes());
        let mut x = first;
        for _ in 0..PROBES {
            if free(at(x)) {
                return Some(at(x));
            }
            x = splitmix64(x);
        }
        (0..size).map(|i| at(first % size + i)).find(|&a| free(a))
    }
}

/// Whether requests that come `via` are served from `r`.
fn reaches(r: &Dhcp4Range, via: Via) -> bool {
    match via {
        Via::Link => r.local.is_some(),
        Via::Subnet(a) => r.subnet.contains(a),
    }
}

/// `r`'s dynamic pool, inclusive, as host-order integers.
fn bounds(r: &Dhcp4Range) -> (u32, u32) {
    let (a, b) = (u32::from(r.start), u32::from(r.end));
    (a.min(b), a.max(b))
}

fn in_pool(r: &Dhcp4Range, addr: Ipv4Addr) -> bool {
    let (a, b) = bounds(r);
    !r.static_only && (a..=b).contains(&u32::from(addr))
}

/// Hashed tries before the ordered walk.
const PROBES: usize = 16;

/// The next value of a SplitMix64 sequence: a fixed, well-mixed step.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits: stable across versions and platforms, unlike std's
/// randomly keyed hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::dhcp4::leases::{Lease, LeaseState};

    fn config(start: u8, end: u8) -> Dhcp4Config {
        let server = Ipv4Addr::new(10, 0, 0, 1);
        Dhcp4Config {
            server_addr: server,
            ranges: vec![Dhcp4Range::on_link(
                "10.0.0.0/24".parse().unwrap(),
                server,
                Ipv4Addr::new(10, 0, 0, start),
                Ipv4Addr::new(10, 0, 0, end),
            )],
            dns_servers: vec![],
            domain: None,
            mtu: None,
            options: Vec::new(),
            rapid_commit: false,
            ignore_client_id: false,
            reservations: vec![Reservation::for_mac([9; 6], Ipv4Addr::new(10, 0, 0, 3))],
            authoritative: true,
            decline_hold: Duration::from_secs(600),
        }
    }

    #[test]
    fn the_pick_is_stable_and_skips_special_reserved_and_taken() {
        // .0 network, .1 server, .3 reserved: only .2 and .4 are dynamic.
        let pool = Pool::new(&config(0, 4));
        let key = ClientKey::Mac([2, 0, 0, 0, 0, 1]);
        let mut table = LeaseTable::new();
        let first = pool.pick(&key, &table, Via::Link).unwrap();
        assert_eq!(pool.pick(&key, &table, Via::Link), Some(first));
        assert!([2, 4].contains(&first.octets()[3]));
        table.insert(Lease {
            addr: first,
            key: ClientKey::Mac([7; 6]),
            mac: [7; 6],
            hostname: None,
            expires: Some(SystemTime::UNIX_EPOCH),
            state: LeaseState::Bound,
            seq: 0,
        });
        let second = pool.pick(&key, &table, Via::Link).unwrap();
        assert_ne!(second, first);
        table.decline(second, SystemTime::UNIX_EPOCH);
        assert_eq!(pool.pick(&key, &table, Via::Link), None);
    }

    #[test]
    fn a_block_of_taken_addresses_is_stepped_over_not_walked() {
        // A /16 pool whose first half is taken: a new client's pick reads
        // a handful of entries, not thousands.
        let mut c = config(0, 4);
        c.ranges[0].subnet = "10.0.0.0/16".parse().unwrap();
        c.ranges[0].start = Ipv4Addr::new(10, 0, 0, 10);
        c.ranges[0].end = Ipv4Addr::new(10, 0, 255, 250);
        let start = c.ranges[0].start;
        let pool = Pool::new(&c);
        let mut table = LeaseTable::new();
        for i in 0..32_000u32 {
            let n = i.to_be_bytes();
            table.insert(Lease {
                addr: Ipv4Addr::from(u32::from(start) + i),
                key: ClientKey::Mac([4, 0, n[0], n[1], n[2], n[3]]),
                mac: [4, 0, n[0], n[1], n[2], n[3]],
                hostname: None,
                expires: None,
                state: LeaseState::Bound,
                seq: 0,
            });
        }
        // A linear walk sends every client whose hash falls in the block to
        // the first free address after it (about half of them here); the
        // hashed tries spread them out.
        let mut picks = HashSet::new();
        for n in 0..2000u16 {
            let key = ClientKey::Mac([2, 0, 0, 0, (n >> 8) as u8, n as u8]);
            let a = pool.pick(&key, &table, Via::Link).unwrap();
            assert!(!table.is_taken(a));
            assert_eq!(pool.pick(&key, &table, Via::Link), Some(a), "stable");
            picks.insert(a);
        }
        assert!(picks.len() > 1900, "{} distinct picks", picks.len());
    }

    #[test]
    fn the_dynamic_size_leaves_out_special_and_reserved_addresses() {
        // .0 to .4: network, server and reserved .3 out: .2 and .4 left.
        let pool = Pool::new(&config(0, 4));
        assert_eq!(pool.dynamic_size(), 2);
        assert!(pool.is_dynamic(Ipv4Addr::new(10, 0, 0, 2)));
        assert!(!pool.is_dynamic(Ipv4Addr::new(10, 0, 0, 3)));
        assert_eq!(Pool::new(&config(20, 100)).dynamic_size(), 81);
    }

    #[test]
    fn reservations_belong_to_their_mac_only() {
        let pool = Pool::new(&config(2, 10));
        let reserved = Ipv4Addr::new(10, 0, 0, 3);
        let q = |mac: &'static [u8; 6]| HostQuery {
            mac,
            client_id: None,
            hostname: None,
        };
        assert!(pool.allows(reserved, &q(&[9; 6])));
        assert!(!pool.allows(reserved, &q(&[8; 6])));
        assert!(!pool.allows(Ipv4Addr::new(10, 0, 0, 1), &q(&[8; 6])));
        assert!(!pool.allows(Ipv4Addr::new(10, 0, 0, 11), &q(&[8; 6])));
        assert!(pool.allows(Ipv4Addr::new(10, 0, 0, 10), &q(&[8; 6])));
    }
}
