//! The kernel's neighbour table on the served interface, for `ra-names`:
//! [`netlink`] reads neighbour messages into the core's events, [`watch`]
//! subscribes, dumps, probes and publishes into the name table.

pub mod netlink;
pub(crate) mod watch;

pub use watch::NeighbourWatcher;
