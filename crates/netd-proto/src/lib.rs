//! nspawn-netd's protocol cores: DHCPv4, DNS, IPv6 Router Advertisements,
//! stateless DHCPv6 and the neighbour table, as sans-IO state machines.
//!
//! Every core is fed bytes and time and returns the bytes to send, events
//! (a lease changed) and when it next wants to be woken. Nothing here opens
//! a socket, reads a clock, touches a file or draws a random number: time
//! and randomness are arguments. Cargo enforces that: this crate depends on
//! no async runtime, socket, libc, netlink or inotify crate. The tokio
//! shells that own sockets, clocks and files are in `netd-serve`.
//!
//! - [`dhcp4`]: the DHCPv4 server, its lease table, group commit and
//!   dnsmasq's lease-file format.
//! - [`dns`]: the DNS decision (answer, forward, refuse), the cache of wire
//!   answers, hosts files and upstream selection.
//! - [`ra`]: the RA/RS codec and the advertisement scheduler.
//! - [`dhcp6`]: stateless DHCPv6 (DNS information only).
//! - [`names`]: the local name table that DHCP, hosts files and neighbour
//!   discovery fill and DNS answers from.
//! - [`neighbours`]: the neighbour table behind `ra-names`.
//! - [`MacAddr`]: an Ethernet address, written `aa:bb:cc:dd:ee:ff`.
//!
//! This crate does not parse command lines or configuration files: the
//! `nspawn-netd` binary turns options into the typed configurations here.

pub mod dhcp4;
pub mod dhcp6;
pub mod dns;
mod mac;
pub mod names;
pub mod neighbours;
pub mod ra;

pub use mac::{MacAddr, MacParseError};
