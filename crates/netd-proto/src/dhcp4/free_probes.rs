//! Addresses probed free ahead of demand. Before an address goes to a new
//! client, something should check that no host on the link already uses
//! it (a container with an address set by hand inside the pool). dnsmasq
//! pings each address before offering it, which delays every new client
//! by about three seconds. Here the shell ARP-probes a few pool addresses
//! in the background ([`super::Server::poll_free_probe`]); a new client is
//! offered one of those at once, and an address that answers is held back
//! like a declined one.

use std::collections::{HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use super::leases::ClientKey;

/// How many verified addresses to keep ready.
pub const READY: usize = 8;
/// A verified address is offered for this long after its probe; later it
/// is probed again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);
/// Probes out at once.
const IN_FLIGHT: usize = 2;

#[derive(Debug, Default)]
pub(crate) struct FreeProbes {
    /// Oldest first.
    verified: VecDeque<(Ipv4Addr, SystemTime)>,
    in_flight: HashSet<Ipv4Addr>,
    /// Draws candidates from the pool's own pick, with made-up keys.
    counter: u64,
}

impl FreeProbes {
    fn drop_stale(&mut self, now: SystemTime) {
        while let Some((_, at)) = self.verified.front()
            && now.duration_since(*at).unwrap_or_default() >= FRESH_FOR
        {
            self.verified.pop_front();
        }
    }

    /// The next address to probe, if more are wanted: `pick` is the pool's
    /// choice for a key (it skips taken, held and reserved addresses).
    pub(crate) fn next_candidate(
        &mut self,
        now: SystemTime,
        pick: impl Fn(&ClientKey) -> Option<Ipv4Addr>,
    ) -> Option<Ipv4Addr> {
        self.drop_stale(now);
        if self.verified.len() + self.in_flight.len() >= READY || self.in_flight.len() >= IN_FLIGHT
        {
            return None;
        }
        // A few tries: a pick may land on one already verified or probed.
        for _ in 0..4 {
            self.counter = self.counter.wrapping_add(1);
            let key = ClientKey::ClientId(self.counter.to_be_bytes().to_vec());
            let addr = pick(&key)?;
            if !self.in_flight.contains(&addr) && !self.verified.iter().any(|(a, _)| *a == addr) {
                self.in_flight.insert(addr);
                return Some(addr);
            }
        }
        None
    }

    /// `addr`'s probe ended; `free` when nothing answered.
    pub(crate) fn probed(&mut self, addr: Ipv4Addr, free: bool, now: SystemTime) {
        if self.in_flight.remove(&addr) && free {
            self.verified.push_back((addr, now));
        }
    }

    /// `addr`'s probe was never sent.
    pub(crate) fn dropped(&mut self, addr: Ipv4Addr) {
        self.in_flight.remove(&addr);
    }

    /// The fresh verified addresses, oldest first.
    pub(crate) fn fresh(&mut self, now: SystemTime) -> Vec<Ipv4Addr> {
        self.drop_stale(now);
        self.verified.iter().map(|(a, _)| *a).collect()
    }

    /// Whether no verified address is known (fresh or not).
    pub(crate) fn fresh_is_empty(&self) -> bool {
        self.verified.is_empty()
    }

    /// `addr` is taken (offered, or found in use).
    pub(crate) fn remove(&mut self, addr: Ipv4Addr) {
        self.verified.retain(|(a, _)| *a != addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// A pool of .20-.29 picking by the key's last byte.
    fn pick(key: &ClientKey) -> Option<Ipv4Addr> {
        let b = key.bytes();
        Some(Ipv4Addr::new(10, 0, 0, 20 + b[b.len() - 1] % 10))
    }

    #[test]
    fn keeps_a_few_ready_probing_two_at_a_time() {
        let mut f = FreeProbes::default();
        let a = f.next_candidate(at(0), pick).unwrap();
        let b = f.next_candidate(at(0), pick).unwrap();
        assert_ne!(a, b);
        assert_eq!(f.next_candidate(at(0), pick), None, "two in flight");
        f.probed(a, true, at(1));
        f.probed(b, false, at(1));
        assert_eq!(f.fresh(at(1)), [a], "the one that answered is not kept");
        let mut n = 1;
        while let Some(c) = f.next_candidate(at(2), pick) {
            f.probed(c, true, at(2));
            n += 1;
        }
        assert_eq!(n, READY);
        assert_eq!(f.fresh(at(2)).len(), READY);
        f.remove(a);
        assert_eq!(f.fresh(at(2)).len(), READY - 1);
        assert!(f.next_candidate(at(2), pick).is_some(), "one more wanted");
    }

    #[test]
    fn verified_addresses_go_stale() {
        let mut f = FreeProbes::default();
        let a = f.next_candidate(at(0), pick).unwrap();
        f.probed(a, true, at(0));
        assert_eq!(f.fresh(at(0) + FRESH_FOR - Duration::from_secs(1)), [a]);
        assert!(f.fresh(at(0) + FRESH_FOR).is_empty());
        // A result for an address never asked for is ignored.
        f.probed(Ipv4Addr::new(10, 0, 0, 99), true, at(0));
        assert!(f.fresh(at(0)).is_empty());
    }
}
