//! IPv6 Router Advertisements (RFC 4861, RFC 8106): what nspawn-netd sends
//! so that containers configure themselves by SLAAC, find their default
//! router and learn the DNS server.
//!
//! - [`wire`] and [`option`]: the RA/RS codec (sans-IO).
//! - [`scheduler`]: when to send (sans-IO, time and randomness passed in).
//! - [`advert`]: the configuration and the RA built from it.
//!
//! The raw ICMPv6 socket and the task that sends are `netd-serve`'s.
//!
//! This module does not assign addresses (no stateful DHCPv6), does not
//! route, and does not configure the interface: it advertises what is on it.

pub mod advert;
pub mod option;
pub mod scheduler;
pub mod wire;

pub use advert::{AdvMtu, AdvertPrefix, RaConfig};
pub use option::{DnsSearchList, Lifetime, PrefixInformation, RecursiveDnsServers};
pub use scheduler::{RaTiming, Scheduler};
pub use wire::{RouterAdvert, RouterAdvertRepr, RouterPreference, RouterSolicitRepr};

/// Why bytes are not a valid Neighbor Discovery message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    #[error("message or option truncated")]
    Truncated,
    #[error("an option has length zero")]
    ZeroLengthOption,
    #[error("ICMPv6 type {0} is not the expected message")]
    NotThisMessage(u8),
    #[error("ICMPv6 code {0} is not 0")]
    BadCode(u8),
    #[error("IP hop limit {0} is not 255 (the message was routed)")]
    BadHopLimit(u8),
    #[error("malformed option of type {0}")]
    BadOption(u8),
    #[error("source link-layer address option from the unspecified address")]
    LinkLayerFromUnspecified,
}
