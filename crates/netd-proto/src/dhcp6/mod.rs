//! Stateless DHCPv6 (RFC 8415 6.1): DNS information for hosts that ignore
//! the RDNSS/DNSSL options of Router Advertisements.
//!
//! - [`server`]: the sans-IO server: bytes in, reply bytes out;
//! - [`option_spec`]: configured options (`option6:`) and their payloads;
//! - [`wire`]: the bounds-checked reader of client messages (dhcproto
//!   encodes the replies only).
//!
//! The UDP socket on port 547 is `netd-serve`'s.
//!
//! It assigns no addresses and delegates no prefixes: a Solicit gets an
//! Advertise carrying only the status NoAddrsAvail (RFC 8415 18.3.9), other
//! stateful messages are dropped.

pub mod option_spec;
pub mod server;
pub mod wire;

pub use option_spec::{Dhcp6Option, Option6Value};
pub use server::{Dhcp6Config, Dhcp6Server, Dhcp6Stats};
