//! Options that concern the whole daemon.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

use crate::settings::dhcp_range::DhcpRange;
use crate::settings::values;

#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// Read dnsmasq-style options (`option=value` a line) from FILE; they
    /// take effect where this option stands. Without a value, or with
    /// /dev/null, nothing is read (and, run as `dnsmasq`, neither is
    /// /etc/dnsmasq.conf).
    #[arg(short = 'C', long, value_name = "FILE", value_parser = values::any_path)]
    pub conf_file: Vec<PathBuf>,
    /// Read every file of DIR as with --conf-file, in name order:
    /// `DIR[,.EXT...]` skips names ending in .EXT, `DIR,*.EXT[,...]` reads
    /// only those.
    #[arg(short = '7', long, value_name = "DIR[,.EXT|,*.EXT]")]
    pub conf_dir: Vec<String>,
    /// The interface to serve (the container bridge, e.g. nat0). Without
    /// it, the interface that holds --listen-address is served.
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
    #[arg(short = 'F', long, value_name = "RANGE", value_parser = values::dhcp_range)]
    pub dhcp_range: Vec<DhcpRange>,
    /// The DNS domain of the containers: `NAME.DOMAIN` resolves, and DHCP
    /// hands it out as domain name and search list.
    #[arg(short = 's', long, value_name = "DOMAIN", value_parser = crate::settings::dns_records::domain)]
    pub domain: Option<String>,
    /// Write the daemon's pid here once it is ready. An empty value means
    /// no pid file.
    #[arg(short = 'x', long, value_name = "PATH", value_parser = values::any_path)]
    pub pid_file: Option<PathBuf>,
    /// Accepted for dnsmasq compatibility: nspawn-netd always binds the
    /// served interface's addresses, never a wildcard.
    #[arg(short = 'z', long)]
    pub bind_interfaces: bool,
    /// Accepted for dnsmasq compatibility (see --bind-interfaces).
    #[arg(long)]
    pub bind_dynamic: bool,
    /// Stay in the foreground instead of forking (for systemd's
    /// Type=notify, or a supervisor).
    #[arg(short = 'k', long)]
    pub keep_in_foreground: bool,
    /// Stay in the foreground and log to stderr (debugging).
    #[arg(short = 'd', long)]
    pub no_daemon: bool,
    /// After binding, serve as this user (default nobody; `root` keeps
    /// root). Only the capabilities still needed are kept.
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// After binding, serve with this group (default: the user's group).
    #[arg(short = 'g', long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Check the whole configuration, print whether it is good, and exit
    /// (0 good, 1 bad). No interface is touched.
    #[arg(long)]
    pub test: bool,
    /// Where logs go: a file (absolute path), `-` for stderr, or a syslog
    /// facility (default: stderr in the foreground, syslog when forked).
    #[arg(short = '8', long, value_name = "FACILITY|FILE|-")]
    pub log_facility: Option<String>,
    /// Accepted for dnsmasq compatibility: logging never blocks serving.
    #[arg(long, value_name = "LINES", num_args = 0..=1, default_missing_value = "5")]
    pub log_async: Option<u32>,
    /// Log every DHCP exchange (the DHCP parts at debug level).
    #[arg(long)]
    pub log_dhcp: bool,
    /// Log every DNS query (the DNS part at debug level).
    #[arg(short = 'q', long)]
    pub log_queries: bool,
    /// Do not log routine DHCPv4 events (leases granted, renewed, released).
    #[arg(long)]
    pub quiet_dhcp: bool,
    /// Do not log routine DHCPv6 events.
    #[arg(long)]
    pub quiet_dhcp6: bool,
    /// Do not log routine router advertisement events.
    #[arg(long)]
    pub quiet_ra: bool,
    /// Clear the DNS cache when the resolv file changes or on SIGHUP.
    /// Already true: nspawn-netd clears it on SIGHUP; accepted for dnsmasq
    /// compatibility.
    #[arg(long)]
    pub clear_on_reload: bool,
    /// Answer DNS only from hosts on the served interface's subnets.
    /// Already true: nspawn-netd never answers others.
    #[arg(long)]
    pub local_service: bool,
}
