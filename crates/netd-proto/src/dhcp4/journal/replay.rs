//! Rebuilding the table of bound leases from a snapshot and its journals,
//! and when to fold the journal into a new snapshot.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::codec::Change;
use crate::dhcp4::lease_file::LeaseRecord;
use crate::dhcp4::leases::ClientKey;

/// The journal is folded into a new snapshot once it holds more records
/// than the table has leases, and at least this many: below it, rewriting
/// the snapshot would cost more than the replay it saves.
pub const MIN_COMPACTION: usize = 4096;

/// True when a journal of `journal_records` should be folded into a
/// snapshot of a table of `leases`.
pub fn should_compact(journal_records: usize, leases: usize) -> bool {
    journal_records > leases.max(MIN_COMPACTION)
}

/// Bound leases by address, one per client, as the server's table keeps
/// them: a `Put` replaces whatever held its address and whatever address
/// its client held before; a `Remove` ends the lease on its address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayTable {
    by_addr: HashMap<Ipv4Addr, LeaseRecord>,
    by_client: HashMap<ClientKey, Ipv4Addr>,
}

impl ReplayTable {
    pub fn new() -> ReplayTable {
        ReplayTable::default()
    }

    /// A table holding `records`, applied in order as `Put`s.
    pub fn from_records(records: impl IntoIterator<Item = LeaseRecord>) -> ReplayTable {
        let mut t = ReplayTable::new();
        for r in records {
            t.apply(Change::Put(r));
        }
        t
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Put(r) => {
                self.remove(r.addr);
                let key = key_of(&r);
                if let Some(old) = self.by_client.get(&key).copied() {
                    self.remove(old);
                }
                self.by_client.insert(key, r.addr);
                self.by_addr.insert(r.addr, r);
            }
            Change::Remove(addr) => self.remove(addr),
        }
    }

    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    pub fn get(&self, addr: Ipv4Addr) -> Option<&LeaseRecord> {
        self.by_addr.get(&addr)
    }

    /// The leases, those ending first first (infinite ones last), then by
    /// address: a stable order for the server to load.
    pub fn into_records(self) -> Vec<LeaseRecord> {
        let mut v: Vec<LeaseRecord> = self.by_addr.into_values().collect();
        v.sort_by_key(|r| (r.expires == 0, r.expires, r.addr));
        v
    }

    fn remove(&mut self, addr: Ipv4Addr) {
        if let Some(old) = self.by_addr.remove(&addr) {
            self.by_client.remove(&key_of(&old));
        }
    }
}

fn key_of(r: &LeaseRecord) -> ClientKey {
    ClientKey::new(r.client_id.as_deref(), r.mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(addr: u8, client: u8) -> LeaseRecord {
        LeaseRecord {
            expires: 100 + u64::from(addr),
            mac: [2, 0, 0, 0, 0, client],
            addr: Ipv4Addr::new(10, 0, 0, addr),
            hostname: None,
            client_id: None,
        }
    }

    #[test]
    fn a_put_takes_the_address_and_moves_the_client() {
        let mut t = ReplayTable::from_records([rec(5, 1), rec(6, 2)]);
        t.apply(Change::Put(rec(7, 1)));
        assert!(
            t.get(Ipv4Addr::new(10, 0, 0, 5)).is_none(),
            "client 1 moved"
        );
        t.apply(Change::Put(rec(6, 3)));
        assert_eq!(t.len(), 2, "client 2 lost .6 to client 3");
        t.apply(Change::Remove(Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(t.into_records(), vec![rec(6, 3)]);
    }

    #[test]
    fn compaction_waits_for_the_journal_to_outgrow_the_table() {
        assert!(!should_compact(MIN_COMPACTION, 0));
        assert!(should_compact(MIN_COMPACTION + 1, 10));
        assert!(!should_compact(50_000, 50_000));
        assert!(should_compact(50_001, 50_000));
    }
}
