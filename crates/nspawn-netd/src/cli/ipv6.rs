//! IPv6 options: router advertisements and stateless DHCPv6.

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct Ipv6Args {}
