//! The lease table: who holds which address until when.
//!
//! Three views kept in step: by address, by client, and an expiry set
//! ordered by time. Offers live here too, briefly, so that an address offered
//! to one client is not offered to another while the first one decides.
//! Declined addresses sit in a separate hold list. The table knows nothing of
//! the pool or the wire; the server decides, the table records.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::time::SystemTime;

use super::hosts::HostQuery;

/// The longest client identifier kept: one option's worth (RFC 2132 9.14).
/// A longer one (RFC 3396 concatenation) is refused when received, so every
/// lease written to the lease file can be read back.
pub const MAX_CLIENT_ID_LEN: usize = 255;

/// Who a lease belongs to: the client identifier (option 61) when the client
/// sends one, else its hardware address (RFC 2131 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    ClientId(Vec<u8>),
    Mac([u8; 6]),
}

impl ClientKey {
    pub fn new(client_id: Option<&[u8]>, mac: [u8; 6]) -> ClientKey {
        match client_id {
            Some(id) if !id.is_empty() => ClientKey::ClientId(id.to_vec()),
            _ => ClientKey::Mac(mac),
        }
    }

    /// The bytes the stable address is hashed from.
    pub fn bytes(&self) -> &[u8] {
        match self {
            ClientKey::ClientId(id) => id,
            ClientKey::Mac(mac) => mac,
        }
    }
}

/// Whether the client has accepted the address yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// OFFERed, not yet REQUESTed: held for a short while, never persisted.
    Offered,
    /// ACKed: the client uses the address; persisted.
    Bound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub addr: Ipv4Addr,
    pub key: ClientKey,
    pub mac: [u8; 6],
    /// The sanitised hostname the client gave (or its reservation's name);
    /// published in DNS.
    pub hostname: Option<String>,
    /// `None`: an infinite lease.
    pub expires: Option<SystemTime>,
    pub state: LeaseState,
    /// Increases with every bind, so names can be published oldest first.
    pub seq: u64,
}

impl Lease {
    /// What the lease's client shows of itself to the host entries.
    pub fn host_query(&self) -> HostQuery<'_> {
        HostQuery {
            mac: &self.mac,
            client_id: match &self.key {
                ClientKey::ClientId(id) => Some(id),
                ClientKey::Mac(_) => None,
            },
            hostname: self.hostname.as_deref(),
        }
    }
}

/// Why `check_invariants` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lease table invariant broken: {0}")]
pub struct InvariantError(pub String);

#[derive(Debug, Default, Clone)]
pub(crate) struct LeaseTable {
    by_addr: HashMap<Ipv4Addr, Lease>,
    by_client: HashMap<ClientKey, Ipv4Addr>,
    /// Every finite lease and offer, by the time it ends.
    expiry: BTreeSet<(SystemTime, Ipv4Addr)>,
    /// DECLINEd addresses and when they may be used again.
    declined: HashMap<Ipv4Addr, SystemTime>,
    decline_expiry: BTreeSet<(SystemTime, Ipv4Addr)>,
    next_seq: u64,
}

impl LeaseTable {
    pub(crate) fn new() -> LeaseTable {
        LeaseTable::default()
    }

    /// Room for `n` more leases without rehashing (a large table loaded
    /// at start).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.by_addr.reserve(n);
        self.by_client.reserve(n);
    }

    /// Leases and offers held, not counting declined addresses.
    pub(crate) fn len(&self) -> usize {
        self.by_addr.len()
    }

    pub(crate) fn by_addr(&self, addr: Ipv4Addr) -> Option<&Lease> {
        self.by_addr.get(&addr)
    }

    pub(crate) fn by_client(&self, key: &ClientKey) -> Option<&Lease> {
        self.by_client.get(key).and_then(|a| self.by_addr.get(a))
    }

    /// True when the address is held by a lease, an offer or a decline.
    pub(crate) fn is_taken(&self, addr: Ipv4Addr) -> bool {
        self.by_addr.contains_key(&addr) || self.declined.contains_key(&addr)
    }

    pub(crate) fn is_declined(&self, addr: Ipv4Addr) -> bool {
        self.declined.contains_key(&addr)
    }

    /// Addresses held back after a DECLINE.
    pub(crate) fn declined_count(&self) -> usize {
        self.declined.len()
    }

    /// Every address a lease, an offer or a decline hold takes, once each.
    pub(crate) fn taken(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.by_addr.keys().copied().chain(
            self.declined
                .keys()
                .copied()
                .filter(|a| !self.by_addr.contains_key(a)),
        )
    }

    /// Records `lease`, replacing whatever this client held before and
    /// giving it a fresh sequence number. The caller has checked that no
    /// other client holds the address.
    pub(crate) fn insert(&mut self, mut lease: Lease) {
        if let Some(old) = self.by_client.get(&lease.key).copied() {
            self.remove(old);
        }
        if let Some(other) = self.by_addr.get(&lease.addr) {
            // A caller bug, never a client's doing: tests stop on it, a
            // running server says so loudly and keeps the newer lease.
            debug_assert_eq!(other.key, lease.key, "address given twice");
            if other.key != lease.key {
                tracing::error!(
                    addr = %lease.addr,
                    holder = ?other.key,
                    newcomer = ?lease.key,
                    "lease table: address already held by another client; the older lease is dropped"
                );
            }
            self.remove(lease.addr);
        }
        self.next_seq += 1;
        lease.seq = self.next_seq;
        if let Some(t) = lease.expires {
            self.expiry.insert((t, lease.addr));
        }
        self.by_client.insert(lease.key.clone(), lease.addr);
        self.by_addr.insert(lease.addr, lease);
    }

    pub(crate) fn remove(&mut self, addr: Ipv4Addr) -> Option<Lease> {
        let lease = self.by_addr.remove(&addr)?;
        self.by_client.remove(&lease.key);
        if let Some(t) = lease.expires {
            self.expiry.remove(&(t, addr));
        }
        Some(lease)
    }

    /// Keeps `addr` out of use until `until`.
    pub(crate) fn decline(&mut self, addr: Ipv4Addr, until: SystemTime) {
        self.remove(addr);
        if let Some(old) = self.declined.insert(addr, until) {
            self.decline_expiry.remove(&(old, addr));
        }
        self.decline_expiry.insert((until, addr));
    }

    /// The earliest time something in the table ends.
    pub(crate) fn next_expiry(&self) -> Option<SystemTime> {
        let lease = self.expiry.first().map(|(t, _)| *t);
        let decline = self.decline_expiry.first().map(|(t, _)| *t);
        match (lease, decline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes and returns every lease and offer that ended at or before
    /// `now`, and lifts the decline holds that ended.
    pub(crate) fn expire(&mut self, now: SystemTime) -> Vec<Lease> {
        while let Some(&(t, addr)) = self.decline_expiry.first() {
            if t > now {
                break;
            }
            self.decline_expiry.pop_first();
            self.declined.remove(&addr);
        }
        let mut gone = Vec::new();
        while let Some(&(t, addr)) = self.expiry.first() {
            if t > now {
                break;
            }
            if let Some(lease) = self.remove(addr) {
                gone.push(lease);
            }
        }
        gone
    }

    /// Bound leases, in no particular order.
    pub(crate) fn bound_unordered(&self) -> impl Iterator<Item = &Lease> {
        self.by_addr
            .values()
            .filter(|l| l.state == LeaseState::Bound)
    }

    /// Bound leases, oldest bind first.
    pub(crate) fn bound(&self) -> Vec<&Lease> {
        let mut leases: Vec<&Lease> = self
            .by_addr
            .values()
            .filter(|l| l.state == LeaseState::Bound)
            .collect();
        leases.sort_by_key(|l| l.seq);
        leases
    }

    /// Checks that the three views agree and that every held address passes
    /// `allowed` (in the pool or reserved for its holder). For tests.
    pub(crate) fn check_invariants(
        &self,
        allowed: impl Fn(&Lease) -> bool,
    ) -> Result<(), InvariantError> {
        let fail = |m: String| Err(InvariantError(m));
        if self.by_addr.len() != self.by_client.len() {
            return fail(format!(
                "{} addresses held by {} clients: an address or a client is counted twice",
                self.by_addr.len(),
                self.by_client.len()
            ));
        }
        for (key, addr) in &self.by_client {
            match self.by_addr.get(addr) {
                Some(l) if &l.key == key => {}
                _ => return fail(format!("client {key:?} points at {addr}, which is not its")),
            }
        }
        let mut finite = 0;
        for (addr, lease) in &self.by_addr {
            if lease.addr != *addr {
                return fail(format!("lease for {} filed under {addr}", lease.addr));
            }
            if self.declined.contains_key(addr) {
                return fail(format!("{addr} is both leased and declined"));
            }
            if !allowed(lease) {
                return fail(format!(
                    "{addr} is outside the pool and not reserved for its holder"
                ));
            }
            if let Some(t) = lease.expires {
                finite += 1;
                if !self.expiry.contains(&(t, *addr)) {
                    return fail(format!("{addr} is missing from the expiry set"));
                }
            }
        }
        if finite != self.expiry.len() {
            return fail(format!(
                "expiry set has {} entries for {finite} finite leases",
                self.expiry.len()
            ));
        }
        if self.declined.len() != self.decline_expiry.len() {
            return fail("decline hold list and its expiry set disagree".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn lease(last: u8, client: u8, secs: u64) -> Lease {
        Lease {
            addr: Ipv4Addr::new(10, 0, 0, last),
            key: ClientKey::Mac([2, 0, 0, 0, 0, client]),
            mac: [2, 0, 0, 0, 0, client],
            hostname: None,
            expires: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            state: LeaseState::Bound,
            seq: 0,
        }
    }

    #[test]
    fn a_client_moving_address_frees_the_old_one() {
        let mut t = LeaseTable::new();
        t.insert(lease(5, 1, 100));
        t.insert(lease(6, 1, 200));
        assert!(t.by_addr(Ipv4Addr::new(10, 0, 0, 5)).is_none());
        assert_eq!(t.len(), 1);
        t.check_invariants(|_| true).unwrap();
    }

    #[test]
    fn expiry_returns_what_ended_and_lifts_decline_holds() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let mut t = LeaseTable::new();
        t.insert(lease(5, 1, 100));
        t.insert(lease(6, 2, 300));
        t.decline(Ipv4Addr::new(10, 0, 0, 7), at(150));
        assert_eq!(t.next_expiry(), Some(at(100)));
        let gone = t.expire(at(200));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].addr, Ipv4Addr::new(10, 0, 0, 5));
        assert!(!t.is_taken(Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(t.next_expiry(), Some(at(300)));
        t.check_invariants(|_| true).unwrap();
    }

    #[test]
    fn bound_leases_come_oldest_first() {
        let mut t = LeaseTable::new();
        t.insert(lease(9, 1, 100));
        t.insert(lease(3, 2, 100));
        t.insert(lease(9, 1, 500)); // renewal: now the newest
        let order: Vec<u8> = t.bound().iter().map(|l| l.addr.octets()[3]).collect();
        assert_eq!(order, vec![3, 9]);
    }
}
