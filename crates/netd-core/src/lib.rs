//! nspawn-netd's protocol cores and their tokio shells.
//!
//! Each protocol lives in its own module and is split in two:
//! a **sans-IO core** (pure state machines fed bytes and time, returning
//! replies and events; no socket, clock or file inside) and a thin **shell**
//! (tokio tasks that own the sockets, read the clock and write files).
//!
//! - [`dhcp4`]: the DHCPv4 server, its lease table and the lease file.
//! - [`dns`]: the DNS forwarder, its cache and local names.
//! - [`ra`]: IPv6 Router Advertisements.
//! - [`dhcp6`]: stateless DHCPv6 (DNS information only).
//! - [`names`]: the local name table that DHCP and neighbour discovery fill
//!   and DNS answers from.
//! - [`neighbours`]: the kernel neighbour table, for `ra-names`.
//! - [`iface`]: what the shells read about a network interface.
//!
//! This crate does not parse command lines or configuration files, install
//! signal handlers, or set up bridges and firewalls: the `nspawn-netd` binary
//! and `netd-bridge` do that.

pub mod dhcp4;
pub mod dhcp6;
pub mod dns;
pub mod iface;
pub mod names;
pub mod neighbours;
pub mod ra;
