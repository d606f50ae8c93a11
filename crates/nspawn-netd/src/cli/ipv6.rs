//! IPv6 options: router advertisements and stateless DHCPv6. The IPv6
//! `--dhcp-range` forms are read by [`crate::settings::ipv6_range`].

use clap::Args;

use crate::settings::ipv6_range::RaParam;
use crate::settings::values;

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
    #[arg(long, value_name = "IF,[high|low,]INTERVAL[,LIFETIME]", value_parser = values::ra_param)]
    pub ra_param: Vec<RaParam>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("nspawn-netd").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn daemon_ipv6_options_parse() {
        let cli = parse(&[
            "--interface=nat0",
            "--dhcp-range=fd23::/64,ra-stateless,ra-names",
            "--enable-ra",
            "--ra-param=nat0,high,60",
        ]);
        assert!(cli.daemon.ipv6.enable_ra);
        assert_eq!(
            cli.daemon.ipv6.ra_param,
            [crate::settings::values::ra_param("nat0,high,60").unwrap()]
        );
        assert_eq!(
            cli.daemon.common.dhcp_range,
            [crate::settings::values::dhcp_range("fd23::/64,ra-stateless,ra-names").unwrap()]
        );
    }

    #[test]
    fn the_ra_subcommand_parses_and_builds_its_config() {
        let cli = parse(&[
            "ra",
            "--prefix",
            "fd23::/64",
            "--rdnss",
            "fd23::1",
            "--domain",
            "lan",
        ]);
        let Some(Command::Ra(args)) = cli.command else {
            panic!("not the ra subcommand");
        };
        assert_eq!(args.interface, "nat0");
        let config = crate::cmd::ra::config(&args).unwrap();
        assert_eq!(config.prefixes[0].network, "fd23::/64".parse().unwrap());
        assert!(config.prefixes[0].autonomous);
        assert_eq!(config.router_lifetime, 1800);
        assert_eq!(config.search_domains, ["lan"]);
        assert!(
            Cli::try_parse_from(["nspawn-netd", "ra"]).is_err(),
            "--prefix is required"
        );
        let bad = parse(&["ra", "--prefix", "fd23::/64", "--domain", "a..b"]);
        let Some(Command::Ra(args)) = bad.command else {
            unreachable!()
        };
        assert!(
            crate::cmd::ra::config(&args)
                .unwrap_err()
                .to_string()
                .contains("a..b")
        );
    }
}
