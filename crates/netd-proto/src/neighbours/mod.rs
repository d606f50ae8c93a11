//! The kernel's neighbour table on the served interface, as the source of
//! containers' IPv6 addresses for `ra-names`: a container's global
//! addresses in the advertised prefixes, found by its MAC, whatever way it
//! formed them (EUI-64, stable privacy, temporary).
//!
//! - [`table`]: the sans-IO table fed with neighbour events. The netlink
//!   watcher that feeds it and publishes into [`crate::names::LocalNames`],
//!   and the prober that makes hosts show up in the table, are `netd-serve`'s.
//! - [`probe`]: the echo requests that verify an address, and their replies.
//!
//! Addresses enter the table when the kernel holds a link-layer address for
//! them (reachable, stale, delay, probe), and are published only once they
//! answered our own unicast probe with its nonce: a forged neighbour
//! solicitation never reaches DNS. An EUI-64 guess from a MAC is never
//! published as such either, it is only probed.

pub mod probe;
pub(crate) mod table;

pub use table::{Changed, NeighbourEvent, NeighbourTable, eui64_address};
