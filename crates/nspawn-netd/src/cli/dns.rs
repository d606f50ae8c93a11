//! DNS forwarder options.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct DnsArgs {
    /// The DNS port; 0 turns DNS off (and DHCP then advertises no DNS server).
    #[arg(short = 'p', long, value_name = "PORT", default_value_t = 53)]
    pub port: u16,
}

impl Default for DnsArgs {
    fn default() -> Self {
        DnsArgs { port: 53 }
    }
}
