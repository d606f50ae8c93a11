//! The kernel's neighbour table on the served interface, as the source of
//! containers' IPv6 addresses for `ra-names`: a container's global
//! addresses in the advertised prefixes, found by its MAC, whatever way it
//! formed them (EUI-64, stable privacy, temporary).
//!
//! - [`table`]: the sans-IO table fed with neighbour events. The netlink
//!   watcher that feeds it and publishes into [`crate::names::LocalNames`],
//!   and the prober that makes hosts show up in the table, are `netd-serve`'s.
//!
//! Addresses enter only when the kernel has seen them answer (reachable,
//! stale, delay, probe): an EUI-64 guess from a MAC is never published as
//! such, it is only probed, and published if it answers.

pub(crate) mod table;

pub use table::{NeighbourEvent, NeighbourTable, eui64_address};
