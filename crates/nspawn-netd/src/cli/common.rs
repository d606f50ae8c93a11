//! Options that concern the whole daemon.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// Read dnsmasq-style options (`option=value` a line) from FILE; they
    /// take effect where this option stands.
    #[arg(short = 'C', long, value_name = "FILE")]
    pub conf_file: Vec<PathBuf>,
    /// The interface to serve (the container bridge, e.g. nat0).
    #[arg(short = 'i', long, value_name = "IFACE")]
    pub interface: Vec<String>,
    /// An interface never to serve (accepted for dnsmasq compatibility:
    /// nspawn-netd only ever serves --interface).
    #[arg(short = 'I', long, value_name = "IFACE")]
    pub except_interface: Vec<String>,
    /// An address of the served interface to answer DNS on (the interface's
    /// own addresses are always used).
    #[arg(short = 'a', long, value_name = "ADDR")]
    pub listen_address: Vec<IpAddr>,
    /// DHCP range: `START-END` (`192.168.26.20-100`: the end's last octet in
    /// the interface's subnet) or dnsmasq's `START,END[,NETMASK][,LEASE]`;
    /// IPv6 forms (`fd23::/64,ra-stateless,ra-names`) configure RA.
    #[arg(short = 'F', long, value_name = "RANGE")]
    pub dhcp_range: Vec<String>,
    /// The DNS domain of the containers: `NAME.DOMAIN` resolves, and DHCP
    /// hands it out as domain name and search list.
    #[arg(short = 's', long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Write the daemon's pid here once it is ready; removed on exit.
    #[arg(short = 'x', long, value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    /// Accepted for dnsmasq compatibility: nspawn-netd always binds the
    /// served interface's addresses, never a wildcard.
    #[arg(short = 'z', long)]
    pub bind_interfaces: bool,
    /// Accepted for dnsmasq compatibility (see --bind-interfaces).
    #[arg(long)]
    pub bind_dynamic: bool,
    /// Stay in the foreground (nspawn-netd always does).
    #[arg(short = 'k', long)]
    pub keep_in_foreground: bool,
    /// Stay in the foreground (nspawn-netd always does).
    #[arg(short = 'd', long)]
    pub no_daemon: bool,
    /// Log every DHCP exchange (the DHCP parts at debug level).
    #[arg(long)]
    pub log_dhcp: bool,
    /// Log every DNS query (the DNS part at debug level).
    #[arg(short = 'q', long)]
    pub log_queries: bool,
}
