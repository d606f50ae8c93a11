//! The DHCPv4 server.
//!
//! The sans-IO core — no socket, clock or file inside:
//! - [`server::Server`]: the RFC 2131 state machine, `handle(now, bytes)`
//!   returning a [`Reply`], lease events, `poll_timeout`/`handle_timeout`;
//! - [`leases`]: the lease table (by address, by client, expiry set);
//! - [`pool`]: which addresses may go to whom, and the stable pick;
//! - [`wire`] and [`request`]: reading a received message without trusting
//!   it; [`reply`] and [`options`]: the encoded answer and its destination;
//! - [`lease_file`]: dnsmasq's lease-file format as a pure codec;
//! - [`commit`]: which ACKs wait for which lease-file write (group commit).
//!
//! The tokio shell: [`socket`] (port 67, ARP entries), [`lease_store`] (the
//! crash-safe file) and [`shell`] (the task that ties them to the core and
//! publishes hostnames). [`config`] holds what the server is told.
//!
//! Not here: parsing `--dhcp-range`/`--dhcp-host` (the binary does), relays'
//! subnets other than the served one, BOOTP-only clients, DHCP over
//! non-Ethernet links.

pub mod commit;
pub mod config;
pub mod lease_file;
pub mod lease_store;
pub mod leases;
pub mod options;
pub mod pool;
pub mod reply;
pub mod request;
pub mod server;
pub mod shell;
pub mod socket;
pub mod wire;

pub use config::{Dhcp4Config, LeaseTime, Reservation};
pub use lease_file::{LeaseRecord, LineError};
pub use lease_store::LeaseStore;
pub use leases::ClientKey;
pub use reply::{Destination, Reply};
pub use server::{LeaseChange, LeaseEvent, Server};
pub use shell::Dhcp4Shell;
pub use socket::Dhcp4Socket;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod testkit;
