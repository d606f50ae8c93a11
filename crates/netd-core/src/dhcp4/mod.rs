//! The DHCPv4 server.
//!
//! The sans-IO core: [`server::Server`] (RFC 2131 state machine) over
//! [`leases::LeaseTable`] and [`pool::Pool`], decoding with
//! [`request`] and encoding with [`reply`] and [`options`]; the lease-file
//! codec [`lease_file`]. The tokio shell around it — socket, clock, lease
//! file on disk, name publishing — lives in [`shell`], [`socket`] and
//! [`lease_store`]. [`config`] holds what the server is told.

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
