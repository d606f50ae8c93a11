//! The bound leases as the DHCPv4 shell last published them, for readers
//! outside its task (`status`, `leases`, the metrics). The shell publishes
//! once per batch of changes, the same snapshot it writes to the lease
//! file; a reader takes an `Arc` and never blocks the shell for longer
//! than a pointer copy.

use std::sync::{Arc, RwLock};

use netd_proto::dhcp4::LeaseRecord;

#[derive(Debug, Default)]
pub struct LeaseView {
    leases: RwLock<Arc<Vec<LeaseRecord>>>,
}

impl LeaseView {
    pub fn publish(&self, leases: Arc<Vec<LeaseRecord>>) {
        *self.leases.write().unwrap_or_else(|e| e.into_inner()) = leases;
    }

    /// The bound leases, oldest first, as of the last publication.
    pub fn get(&self) -> Arc<Vec<LeaseRecord>> {
        self.leases
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
