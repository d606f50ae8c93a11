//! Host network setup for nspawn-netd: the container bridge (`nat0`), its
//! addresses, forwarding and `accept_ra` sysctls, and NAT44/NAT66, the
//! accepts the bridge needs and its inbound policy in one nf_tables table
//! per bridge (`inet nspawn_netd_nat0`), spoken over netlink (rtnetlink for
//! links, `NETLINK_NETFILTER` for nf_tables). No `ip`, `sysctl`, `nft` or
//! `iptables` binary is run.
//!
//! Every change is planned from what exists (the plans are pure and
//! unit-tested), applied step by step and recorded under a state directory
//! so that [`setup::down`] undoes exactly what [`setup::up`] did.
//! [`nft::heal`] puts the table back when a firewall reload removes it,
//! backing off when something keeps removing it; [`doctor`] explains what
//! would break the containers' network.
//!
//! What this crate does not do: serve DHCP, DNS or RA (that is the daemon),
//! touch other tables or chains, or remove a bridge it did not create.
//!
//! Every `unsafe` system call is in one private module, `sys`, behind a safe
//! function with a `SAFETY:` comment; the rest of the crate may not write
//! `unsafe`.

#![deny(unsafe_code)]

mod error;
mod sys;

pub mod atomic_file;
pub mod config;
pub mod defaults;
pub mod doctor;
pub mod link;
pub mod nft;
pub mod plan;
pub mod resolved;
pub mod setup;
pub mod state;
pub mod sysctl;

pub use config::{BridgeConfig, Inbound};
pub use error::Error;
pub use setup::{DownReport, Host, UpReport, down, up};
