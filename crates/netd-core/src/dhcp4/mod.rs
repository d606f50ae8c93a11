//! The DHCPv4 server.
//!
//! [`config`] holds what the server is told; the sans-IO server, the lease
//! table, the lease file codec and the tokio shell live beside it.

pub mod config;

pub use config::{Dhcp4Config, LeaseTime, Reservation};
