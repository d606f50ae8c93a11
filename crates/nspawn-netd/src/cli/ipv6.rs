//! IPv6 options: router advertisements and stateless DHCPv6. The IPv6
//! `--dhcp-range` forms are read by [`crate::ipv6_range`].

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct Ipv6Args {
    /// Send router advertisements (dnsmasq's --enable-ra). IPv6
    /// --dhcp-range modes imply it; given alone, the interface's own global
    /// /64 prefixes are advertised for SLAAC (as ra-only).
    #[arg(long)]
    pub enable_ra: bool,
    /// Router advertisement timing: `IF,[mtu:N|mtu:off,][high|low,]INTERVAL[,LIFETIME]`,
    /// INTERVAL the longest time between RAs (4-1800 s, default 600),
    /// LIFETIME the router lifetime (default 1800 s, 0 = not a default router).
    #[arg(long, value_name = "IF,[high|low,]INTERVAL[,LIFETIME]")]
    pub ra_param: Vec<String>,
}
