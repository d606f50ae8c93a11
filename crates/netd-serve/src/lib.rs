//! nspawn-netd's tokio shells: the sockets, clocks, files and kernel
//! interfaces around the sans-IO cores of `netd-proto`.
//!
//! Each service (DHCPv4, DNS, RA, DHCPv6, the neighbour watcher) feeds its
//! core with received bytes and the time, and carries out what the core
//! decides: send these bytes, write these leases, wake me then. No protocol
//! decision is taken here.
//!
//! - [`dhcp4`]: port 67 on the interface, the lease file, group commit.
//! - [`dns`]: UDP and TCP service, upstream exchanges, the resolv.conf
//!   watcher.
//! - [`ra`]: the raw ICMPv6 socket and the advertisement task.
//! - [`dhcp6`]: port 547 on the interface.
//! - [`neighbours`]: the kernel's neighbour table, for `ra-names`.
//! - [`iface`]: what a service reads about its interface (rtnetlink).
//! - [`control`]: the control socket `status` and `leases` ask;
//!   [`metrics`]: the opt-in Prometheus endpoint; both report the one
//!   [`status`] snapshot of every service's [`stats`].
//! - [`service`]: the shape every service follows (plan, bind, run), the
//!   context they share; [`settings`], [`stats`], [`transient`] and
//!   [`ratelimit`]: where options came from, the counters and histograms,
//!   the failure policy, warnings at a rate limit.
//!
//! Every `unsafe` system call is in one private module, `sys`, behind a safe
//! function with a `SAFETY:` comment; the rest of the crate may not write
//! `unsafe`.
//!
//! This crate does not parse command lines or configuration files, install
//! signal handlers, or set up bridges and firewalls.

#![deny(unsafe_code)]

pub mod atomic_file;
pub mod control;
pub mod dhcp4;
pub(crate) mod dhcp6;
pub mod dns;
mod error;
pub mod iface;
pub mod metrics;
pub mod neighbours;
pub mod process;
pub mod ra;
pub(crate) mod ratelimit;
pub mod service;
pub mod settings;
pub mod stats;
pub mod status;
mod sys;
pub(crate) mod transient;

pub use error::ServeError;
