//! Which addresses may be handed out, and to whom: the dynamic range minus
//! the server's own, network and broadcast addresses, plus the static
//! reservations, which win over the range.
//!
//! A new client's address is derived from its identity (a hash, no random
//! source), probing forward when that one is taken, so that the same client
//! tends to get the same address even when its lease was lost.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use super::config::{Dhcp4Config, Reservation};
use super::hosts::{HostQuery, Hosts};
use super::leases::{ClientKey, LeaseTable};

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    /// The dynamic range, inclusive, as host-order integers.
    start: u32,
    end: u32,
    /// False for a static-only range: no address is dynamic.
    dynamic: bool,
    server: Ipv4Addr,
    network: Ipv4Addr,
    broadcast: Ipv4Addr,
    /// Addresses of host entries: never given to a client that does not
    /// match the entry.
    reserved: HashSet<Ipv4Addr>,
    hosts: Hosts,
}

impl Pool {
    pub(crate) fn new(config: &Dhcp4Config) -> Pool {
        let (a, b) = (u32::from(config.pool_start), u32::from(config.pool_end));
        Pool {
            start: a.min(b),
            end: a.max(b),
            dynamic: !config.static_only,
            server: config.server_addr,
            network: config.subnet.network(),
            broadcast: config.subnet.broadcast(),
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

    /// Never handed to anyone: the server's own, network and broadcast.
    fn is_special(&self, addr: Ipv4Addr) -> bool {
        addr == self.server || addr == self.network || addr == self.broadcast
    }

    fn in_range(&self, addr: Ipv4Addr) -> bool {
        self.dynamic && (self.start..=self.end).contains(&u32::from(addr))
    }

    /// An address of the range that any client may get: not special, not
    /// reserved.
    pub(crate) fn is_dynamic(&self, addr: Ipv4Addr) -> bool {
        self.in_range(addr) && !self.is_special(addr) && !self.reserved.contains(&addr)
    }

    /// How many addresses are dynamic ([`Pool::is_dynamic`]).
    pub(crate) fn dynamic_size(&self) -> u64 {
        if !self.dynamic {
            return 0;
        }
        let range = u64::from(self.end - self.start) + 1;
        let special = [self.server, self.network, self.broadcast];
        let mut excluded = special
            .iter()
            .enumerate()
            .filter(|(i, a)| self.in_range(**a) && !special[..*i].contains(a))
            .count() as u64;
        excluded += self
            .reserved
            .iter()
            .filter(|a| self.in_range(**a) && !self.is_special(**a))
            .count() as u64;
        range - excluded
    }

    /// May `q`'s client hold `addr` at all (ignoring who holds it now)? Its
    /// own reservation, or a dynamic address reserved for no one.
    pub(crate) fn allows(&self, addr: Ipv4Addr, q: &HostQuery<'_>) -> bool {
        if self.is_special(addr) {
            return false;
        }
        if self.reserved.contains(&addr) {
            self.reserved_addr(q) == Some(addr)
        } else {
            self.in_range(addr)
        }
    }

    /// The dynamic address for a new client: hashed from its key; when
    /// that one is taken, further addresses drawn from the same hash
    /// (so a block of taken addresses costs no long walk: at 15 % of a
    /// /14 taken in one block, a linear probe read thousands of entries per
    /// DISCOVER); after [`PROBES`] of those, the next free one in order.
    /// `None` when every dynamic address is taken.
    pub(crate) fn pick(&self, key: &ClientKey, leases: &LeaseTable) -> Option<Ipv4Addr> {
        if !self.dynamic {
            return None;
        }
        let size = u64::from(self.end - self.start) + 1;
        let at = |i: u64| Ipv4Addr::from(self.start + (i % size) as u32);
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
    use crate::dhcp4::LeaseTime;
    use crate::dhcp4::leases::{Lease, LeaseState};

    fn config(start: u8, end: u8) -> Dhcp4Config {
        Dhcp4Config {
            server_addr: Ipv4Addr::new(10, 0, 0, 1),
            subnet: "10.0.0.0/24".parse().unwrap(),
            pool_start: Ipv4Addr::new(10, 0, 0, start),
            pool_end: Ipv4Addr::new(10, 0, 0, end),
            static_only: false,
            lease_time: LeaseTime::DEFAULT,
            router: None,
            dns_servers: vec![],
            domain: None,
            mtu: None,
            options: Vec::new(),
            tags: Vec::new(),
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
        let first = pool.pick(&key, &table).unwrap();
        assert_eq!(pool.pick(&key, &table), Some(first));
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
        let second = pool.pick(&key, &table).unwrap();
        assert_ne!(second, first);
        table.decline(second, SystemTime::UNIX_EPOCH);
        assert_eq!(pool.pick(&key, &table), None);
    }

    #[test]
    fn a_block_of_taken_addresses_is_stepped_over_not_walked() {
        // A /16 pool whose first half is taken: a new client's pick reads
        // a handful of entries, not thousands.
        let mut c = config(0, 4);
        c.subnet = "10.0.0.0/16".parse().unwrap();
        c.pool_start = Ipv4Addr::new(10, 0, 0, 10);
        c.pool_end = Ipv4Addr::new(10, 0, 255, 250);
        let pool = Pool::new(&c);
        let mut table = LeaseTable::new();
        for i in 0..32_000u32 {
            let n = i.to_be_bytes();
            table.insert(Lease {
                addr: Ipv4Addr::from(u32::from(c.pool_start) + i),
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
            let a = pool.pick(&key, &table).unwrap();
            assert!(!table.is_taken(a));
            assert_eq!(pool.pick(&key, &table), Some(a), "stable");
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
