//! The DHCPv4 server.
//!
//! The sans-IO core — no socket, clock or file inside:
//! - [`server::Server`]: the RFC 2131 state machine, `handle(now, bytes)`
//!   returning a [`Reply`], lease events, `poll_timeout`/`handle_timeout`;
//! - [`leases`]: the lease table (by address, by client, expiry set);
//! - [`hosts`]: `--dhcp-host` entries and which one a client matches;
//! - [`pool`]: which ranges serve a request (the link's subnets, or the
//!   relay agent's), which addresses may go to whom, and the stable pick;
//! - [`option_spec`] and [`tags`]: configured options, typed, and the tags
//!   that choose them;
//! - [`wire`] and [`request`]: reading a received message without trusting
//!   it; [`reply`] and [`options`]: the encoded answer and its destination;
//! - [`lease_file`]: dnsmasq's lease-file format as a pure codec;
//! - [`journal`]: the lease journal's record format, replay and
//!   compaction policy;
//! - [`commit`]: which ACKs wait for which journal write (group commit);
//! - [`warning`]: what the server would warn about, queued for the shell to
//!   log at a rate limit;
//! - [`name_claims`]: who may publish a hostname, and the ARP probes of a
//!   name's holder that decide when it may move; [`free_probes`]: pool
//!   addresses ARP-probed free ahead of demand; [`arp`]: their codec.
//!
//! [`config`] holds what the server is told. The socket, the lease file and
//! the clock are the shell's, in `netd-serve`.
//!
//! [`host_spec`] reads a `--dhcp-host` value (or a hosts-file line), so
//! the daemon can re-read hosts files.
//!
//! Not here: parsing `--dhcp-range` (the binary does), BOOTP-only
//! clients, DHCP over non-Ethernet links.

pub mod arp;
pub mod commit;
pub(crate) mod config;
pub mod free_probes;
pub mod host_spec;
pub mod hosts;
pub mod journal;
pub mod lease_file;
pub mod leases;
pub mod name_claims;
pub mod option_spec;
pub(crate) mod options;
pub(crate) mod pool;
pub mod reply;
pub mod request;
pub mod server;
pub mod tags;
pub(crate) mod warning;
pub(crate) mod wire;

pub use config::{Dhcp4Config, Dhcp4Range, LeaseTime, MIN_LEASE, parse_lease_time};
pub use hosts::{HostQuery, MacPattern, Reservation};
pub use lease_file::{LeaseRecord, LineError};
pub use leases::ClientKey;
pub use name_claims::NameProbe;
pub use option_spec::{Dhcp4Option, OptionValue};
pub use reply::{Destination, Reply};
pub use server::{LeaseChange, LeaseEvent, RequestInfo, Server};
pub use tags::{Tag, TagMatch};
pub use warning::{DECLINED, IN_USE, NO_ADDRESS_AVAILABLE, NO_RANGE, Warning};

#[cfg(test)]
mod testkit;
