//! The command line. Daemon options keep dnsmasq's long names (and the short
//! letters dnsmasq gives them) so that a dnsmasq command line works with
//! `nspawn-netd` in its place; an option nspawn-netd does not support is
//! rejected by name. Options are grouped by the part of the daemon they
//! configure, one file a group.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod common;
mod dhcp4;
mod dns;
mod ipv6;
mod observe;

pub use common::CommonArgs;
pub use dhcp4::{DEFAULT_LEASE_FILE, Dhcp4Args};
pub use dns::DnsArgs;
pub use ipv6::Ipv6Args;
pub use observe::{CONTROL_DIR_ENV, ObserveArgs};

#[derive(Debug, Parser)]
#[command(
    name = "nspawn-netd",
    about = "DHCP, DNS and IPv6 router advertisements for a systemd-nspawn container bridge",
    args_conflicts_with_subcommands = true,
    args_override_self = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// Print the version and exit (run as `dnsmasq`, in dnsmasq's form).
    #[arg(short = 'v', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up the bridge, forwarding and NAT, then run the daemon on it.
    Up(Box<crate::cmd::up::UpArgs>),
    /// Undo what `up` did, and nothing else.
    Down(crate::cmd::down::DownArgs),
    /// Find and explain what would break the containers' network.
    Doctor(crate::cmd::doctor::DoctorArgs),
    /// Send IPv6 router advertisements only (no DHCP, no DNS).
    Ra(crate::cmd::ra::RaArgs),
    /// Create, list, start, stop, enter and remove containers on the bridge.
    Container(crate::cmd::container::ContainerArgs),
    /// Show the running daemon: leases, pool, DNS cache, upstreams, RA,
    /// counters.
    Status(crate::cmd::status::StatusArgs),
    /// Show the running daemon's leases.
    Leases(crate::cmd::status::StatusArgs),
    /// Print a shell completion script (bash, zsh or fish).
    Completions(crate::cmd::shell::CompletionsArgs),
    /// Print the manual page (roff), for man(1).
    Man(crate::cmd::shell::ManArgs),
}

/// The daemon's options.
#[derive(Debug, Clone, Default, Args)]
pub struct DaemonArgs {
    /// Read options from a TOML file whose keys are the long option names
    /// (`interface = "nat0"`, `dhcp-range = ["192.168.26.20-100"]`). Its
    /// options take effect where `--config` stands: later ones override them.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub dhcp4: Dhcp4Args,
    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub ipv6: Ipv6Args,
    #[command(flatten)]
    pub observe: ObserveArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("nspawn-netd").chain(args.iter().copied()))
    }

    #[test]
    fn the_seed_dnsmasq_command_line_parses() {
        let cli = parse(&[
            "--interface=nat0",
            "--except-interface=lo",
            "--dhcp-range=192.168.26.20,192.168.26.100,12h",
            "--listen-address=192.168.26.1",
            "--port=53",
            "--pid-file=/run/nat0-netd.pid",
        ])
        .unwrap();
        let c = &cli.daemon.common;
        assert_eq!(c.interface, ["nat0"]);
        assert_eq!(c.except_interface, ["lo"]);
        assert_eq!(
            c.dhcp_range,
            [crate::settings::values::dhcp_range("192.168.26.20,192.168.26.100,12h").unwrap()]
        );
        assert_eq!(
            c.listen_address,
            ["192.168.26.1".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(cli.daemon.dns.port, 53);
        assert_eq!(
            c.pid_file.as_deref(),
            Some(std::path::Path::new("/run/nat0-netd.pid"))
        );
    }

    #[test]
    fn the_short_form_parses_with_spaces() {
        let cli = parse(&["--interface", "nat0", "--dhcp-range", "192.168.26.20-100"]).unwrap();
        assert_eq!(cli.daemon.common.interface, ["nat0"]);
        assert_eq!(
            cli.daemon.common.dhcp_range,
            [crate::settings::values::dhcp_range("192.168.26.20-100").unwrap()]
        );
    }

    #[test]
    fn an_unsupported_option_is_an_error_naming_it() {
        let err = parse(&["--interface=nat0", "--dhcp-luascript=/bin/true"]).unwrap_err();
        assert!(err.to_string().contains("--dhcp-luascript"), "{err}");
    }

    #[test]
    fn a_later_single_option_overrides_an_earlier_one() {
        let cli = parse(&["--port=5353", "--port=53"]).unwrap();
        assert_eq!(cli.daemon.dns.port, 53);
    }
}
