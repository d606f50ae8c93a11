//! DHCPv4 options.

use std::path::PathBuf;

use clap::Args;
use netd_proto::dhcp4::Reservation;

use crate::settings::dhcp_option::DhcpOptionSpec;
use crate::settings::values;

/// dnsmasq's default lease file is its own; ours sits beside it.
pub const DEFAULT_LEASE_FILE: &str = "/var/lib/misc/nspawn-netd.leases";

#[derive(Debug, Clone, Default, Args)]
pub struct Dhcp4Args {
    /// A static host entry: `[MAC]...[,id:ID|*][,set:TAG][,IP][,NAME][,LEASE][,ignore]`.
    #[arg(short = 'G', long, value_name = "[MAC]...[,id:ID][,set:TAG][,IP][,NAME][,LEASE][,ignore]", value_parser = values::dhcp_host)]
    pub dhcp_host: Vec<Reservation>,
    /// A file of `--dhcp-host` values, one a line (or a directory of such
    /// files), re-read on SIGHUP.
    #[arg(long, value_name = "FILE|DIR")]
    pub dhcp_hostsfile: Vec<PathBuf>,
    /// A directory of `--dhcp-host` files, re-read when it changes
    /// (inotify) and on SIGHUP.
    #[arg(long, value_name = "DIR")]
    pub dhcp_hostsdir: Vec<PathBuf>,
    /// A file of `--dhcp-option` values, one a line (or a directory of
    /// such files), re-read on SIGHUP.
    #[arg(long, value_name = "FILE|DIR")]
    pub dhcp_optsfile: Vec<PathBuf>,
    /// A directory of `--dhcp-option` files, re-read when it changes
    /// (inotify) and on SIGHUP.
    #[arg(long, value_name = "DIR")]
    pub dhcp_optsdir: Vec<PathBuf>,
    /// Where leases are kept, in dnsmasq's lease-file format.
    #[arg(
        short = 'l',
        long,
        visible_alias = "dhcp-lease-file",
        value_name = "PATH"
    )]
    pub dhcp_leasefile: Option<PathBuf>,
    /// NAK requests for addresses that are not ours or not the client's.
    /// nspawn-netd is authoritative on its subnet by default; accepted for
    /// dnsmasq compatibility.
    #[arg(short = 'K', long)]
    pub dhcp_authoritative: bool,
    /// Run on lease changes: `add|old|del MAC IP [HOSTNAME]` with
    /// dnsmasq's `DNSMASQ_*` environment, as the user that started the
    /// daemon, one at a time.
    #[arg(short = '6', long, value_name = "PATH")]
    pub dhcp_script: Option<PathBuf>,
    /// Write no lease file: leases come from `SCRIPT init` at start and
    /// every change goes to the script.
    #[arg(short = '9', long)]
    pub leasefile_ro: bool,
    /// Upper bound on leases held at once (dnsmasq's default: 1000).
    #[arg(short = 'X', long, value_name = "N")]
    pub dhcp_lease_max: Option<usize>,
    /// Accepted for dnsmasq compatibility: nspawn-netd never puts options
    /// into the file and server-name fields, so there is nothing to turn
    /// off.
    #[arg(long)]
    pub dhcp_no_override: bool,
    /// An option to send when the client asks for it:
    /// `[tag:TAG,...]NUM|option:NAME|option6:NAME[,VALUE...]`; no value
    /// sends nothing (e.g. `--dhcp-option=3`: no router).
    #[arg(short = 'O', long, value_name = "[tag:TAG,]OPTION[,VALUE]", value_parser = values::dhcp_option)]
    pub dhcp_option: Vec<DhcpOptionSpec>,
    /// An option to send whether or not the client asks for it.
    #[arg(long, value_name = "[tag:TAG,]OPTION[,VALUE]", value_parser = values::dhcp_option_force)]
    pub dhcp_option_force: Vec<DhcpOptionSpec>,
    /// Answer a DISCOVER carrying the rapid-commit option with an ACK
    /// (RFC 4039).
    #[arg(long)]
    pub dhcp_rapid_commit: bool,
    /// Key leases by MAC address alone, ignoring client identifiers.
    #[arg(long)]
    pub dhcp_ignore_clid: bool,
    /// Accepted for dnsmasq compatibility: nspawn-netd never pings an
    /// address before offering it.
    #[arg(long)]
    pub no_ping: bool,
}

impl Dhcp4Args {
    pub fn lease_file(&self) -> PathBuf {
        self.dhcp_leasefile
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LEASE_FILE))
    }
}
