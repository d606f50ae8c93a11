//! `nspawn-netd up`: bridge, addresses, forwarding, NAT — then the daemon on
//! the bridge, in the foreground, while our nf_tables table is kept whole.
//!
//! - `up`: set up the network, run the daemon (DHCPv4, DNS, and RA with
//!   stateless DHCPv6 when IPv6 is on) and repair our table whenever
//!   something removes it, until SIGTERM/SIGINT.
//! - `up --no-daemon`: set up the network and exit.
//! - `up --no-daemon --keep-in-foreground`: set up the network, then stay
//!   in the foreground repairing the table (for hosts whose DHCP/DNS comes
//!   from elsewhere), until SIGTERM/SIGINT.
//!
//! The bridge's forward chain drops new connections from outside into the
//! bridge (replies and related traffic still come back); `--allow-inbound`
//! accepts them, for hosts that route to their containers.
//!
//! On exit the network stays as it is unless `--teardown-on-exit`.
//! `--no-daemon` and `--keep-in-foreground` are the daemon's own
//! dnsmasq-compatible flags, read here with the meanings above.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use ipnetwork::{Ipv4Network, Ipv6Network};
use netd_bridge::defaults;
use netd_bridge::nft::heal;
use netd_bridge::state::DEFAULT_STATE_DIR;
use netd_bridge::sysctl::Sysctls;
use netd_bridge::{BridgeConfig, Host, Inbound};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::cli::DaemonArgs;

/// The bridge and where to record what was changed; shared by `up`,
/// `down` and `doctor`.
#[derive(Debug, Clone, Args)]
pub struct BridgeArgs {
    /// Name of the container bridge.
    #[arg(long, value_name = "NAME", default_value = defaults::BRIDGE)]
    pub bridge: String,
    /// The bridge's IPv4 address and the containers' prefix.
    #[arg(long, value_name = "ADDR/LEN", default_value = defaults::IPV4)]
    pub ipv4: Ipv4Network,
    /// The bridge's IPv6 address and the containers' prefix.
    #[arg(long, value_name = "ADDR/LEN", default_value = defaults::IPV6)]
    pub ipv6: Ipv6Network,
    /// No IPv6: no address, no IPv6 forwarding, no NAT66, no RA.
    #[arg(long)]
    pub no_ipv6: bool,
    /// Where `up` records what it changed, for `down` to undo.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}

impl BridgeArgs {
    pub fn config(&self) -> BridgeConfig {
        BridgeConfig {
            name: self.bridge.clone(),
            ipv4: self.ipv4,
            ipv6: (!self.no_ipv6).then_some(self.ipv6),
            inbound: Inbound::default(),
        }
    }

    pub fn host(&self) -> Host {
        Host {
            sysctls: Sysctls::default(),
            state_dir: self.state_dir.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub bridge: BridgeArgs,
    /// On exit, undo everything `up` did (as `nspawn-netd down` would).
    #[arg(long)]
    pub teardown_on_exit: bool,
    /// Accept new connections from outside into the bridge, for hosts that
    /// route to their containers or forward ports to them. By default they
    /// are dropped: containers reach out and get their replies, nothing
    /// connects in.
    #[arg(long)]
    pub allow_inbound: bool,
    /// The daemon's options. `--interface` defaults to the bridge, the
    /// DHCPv4 range to .20-.100 of its subnet (12h leases) and, with IPv6, the IPv6
    /// range to `PREFIX/LEN,ra-stateless,ra-names`.
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

impl UpArgs {
    /// The bridge as `up` sets it up, inbound policy included.
    pub fn config(&self) -> BridgeConfig {
        BridgeConfig {
            inbound: if self.allow_inbound {
                Inbound::Allow
            } else {
                Inbound::Drop
            },
            ..self.bridge.config()
        }
    }
}

/// Fills in the daemon options `up` can derive from the bridge.
pub fn daemon_args(bridge: &BridgeConfig, mut args: DaemonArgs) -> anyhow::Result<DaemonArgs> {
    let c = &mut args.common;
    if c.interface.is_empty() {
        c.interface.push(bridge.name.clone());
    }
    let has_v4 = c.dhcp_range.iter().any(|r| !r.contains(':'));
    let has_v6 = c.dhcp_range.iter().any(|r| r.contains(':'));
    if !has_v4 {
        let net = bridge.ipv4;
        let (first, last) = (defaults::POOL_FIRST_HOST, defaults::POOL_LAST_HOST);
        if net.size() <= last + 1 {
            bail!(
                "--ipv4={net} is too small for the default DHCP range .{first}-.{last}; give --dhcp-range"
            );
        }
        let base = u32::from(net.network());
        let start = std::net::Ipv4Addr::from(base + first);
        let end = std::net::Ipv4Addr::from(base + last);
        c.dhcp_range
            .push(format!("{start},{end},{}", defaults::LEASE));
    }
    if let Some(v6) = bridge.ipv6
        && !has_v6
    {
        c.dhcp_range.push(format!(
            "{}/{},ra-stateless,ra-names",
            v6.network(),
            v6.prefix()
        ));
    }
    Ok(args)
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let cfg = args.config();
    let host = args.bridge.host();
    let no_daemon = args.daemon.common.no_daemon;
    let stay = !no_daemon || args.daemon.common.keep_in_foreground;
    let daemon = if no_daemon {
        None
    } else {
        Some(daemon_args(&cfg, args.daemon.clone())?)
    };
    // Subscribed before the table is installed: no change goes unseen.
    let notifications = if stay {
        Some(heal::subscribe().context("watching nf_tables")?)
    } else {
        None
    };
    let report = netd_bridge::up(&cfg, &host, args.daemon.common.domain.as_deref())
        .await
        .with_context(|| format!("setting up {}", cfg.name))?;
    for note in &report.notes {
        warn!("{note}");
    }
    if report.changes.is_empty() {
        info!(bridge = %cfg.name, "network already set up; nothing changed");
    }
    match cfg.inbound {
        Inbound::Drop => info!(
            bridge = %cfg.name,
            "new connections from outside into the bridge are dropped (--allow-inbound accepts them)"
        ),
        Inbound::Allow => info!(
            bridge = %cfg.name,
            "new connections from outside into the bridge are accepted (--allow-inbound)"
        ),
    }
    let Some(notifications) = notifications else {
        return Ok(());
    };
    let mark = netd_bridge::state::WatcherMark::create(&host.state_dir, &cfg.name)?;

    let cancel = CancellationToken::new();
    let healer = tokio::spawn(heal::watch(notifications, cfg.ruleset(), cancel.clone()));
    let result = match daemon {
        Some(args) => crate::daemon::run(args).await,
        None => {
            info!(bridge = %cfg.name, "nspawn-netd ready (network only, keeping nf_tables whole)");
            wait_for_stop().await
        }
    };
    cancel.cancel();
    match healer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!("the nf_tables watcher stopped: {e}"),
        Err(e) => warn!("the nf_tables watcher failed: {e}"),
    }
    drop(mark);
    if args.teardown_on_exit {
        super::down::report(netd_bridge::down(&cfg.name, &host).await)?;
    }
    result
}

async fn wait_for_stop() -> anyhow::Result<()> {
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: stopping"),
        _ = int.recv() => info!("SIGINT: stopping"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_defaults_come_from_the_bridge() {
        let cfg = BridgeConfig::default_nat0();
        let args = daemon_args(&cfg, DaemonArgs::default()).unwrap();
        assert_eq!(args.common.interface, ["nat0"]);
        assert_eq!(
            args.common.dhcp_range,
            [
                "192.168.26.20,192.168.26.100,12h",
                "fd23::/64,ra-stateless,ra-names"
            ]
        );
    }

    #[test]
    fn given_daemon_options_win() {
        let mut cfg = BridgeConfig::default_nat0();
        cfg.ipv6 = None;
        let mut given = DaemonArgs::default();
        given.common.interface.push("br9".into());
        given.common.dhcp_range.push("192.168.26.50-60".into());
        let args = daemon_args(&cfg, given).unwrap();
        assert_eq!(args.common.interface, ["br9"]);
        assert_eq!(args.common.dhcp_range, ["192.168.26.50-60"]);
    }

    #[test]
    fn settings_come_from_flags_and_the_config_file() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("netd.toml");
        std::fs::write(
            &file,
            "bridge = \"br7\"\nipv4 = \"10.77.0.1/24\"\nno-ipv6 = true\n\
             teardown-on-exit = true\nallow-inbound = true\ndomain = \"box\"\n",
        )
        .unwrap();
        let argv = [
            "nspawn-netd",
            "up",
            "--config",
            file.to_str().unwrap(),
            "--state-dir",
            "/tmp/s",
        ];
        let argv =
            crate::config_file::expand_config_args(argv.iter().map(Into::into).collect()).unwrap();
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        let Some(crate::cli::Command::Up(up)) = cli.command else {
            panic!("not up");
        };
        let cfg = up.config();
        assert_eq!(cfg.name, "br7");
        assert_eq!(cfg.inbound, Inbound::Allow);
        assert_eq!(cfg.ipv4.to_string(), "10.77.0.1/24");
        assert_eq!(cfg.ipv6, None);
        assert!(up.teardown_on_exit);
        assert_eq!(up.bridge.state_dir, std::path::Path::new("/tmp/s"));
        assert_eq!(up.daemon.common.domain.as_deref(), Some("box"));
        let d = daemon_args(&cfg, up.daemon).unwrap();
        assert_eq!(d.common.interface, ["br7"]);
        assert_eq!(d.common.dhcp_range, ["10.77.0.20,10.77.0.100,12h"]);
    }

    #[test]
    fn no_daemon_and_keep_in_foreground_are_the_daemon_flags() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "nspawn-netd",
            "up",
            "--no-daemon",
            "--keep-in-foreground",
        ])
        .unwrap();
        let Some(crate::cli::Command::Up(up)) = cli.command else {
            panic!("not up");
        };
        assert!(up.daemon.common.no_daemon && up.daemon.common.keep_in_foreground);
        assert_eq!(up.config(), BridgeConfig::default_nat0());
        assert_eq!(
            up.config().inbound,
            Inbound::Drop,
            "inbound is dropped by default"
        );
    }

    #[test]
    fn a_small_subnet_needs_an_explicit_range() {
        let mut cfg = BridgeConfig::default_nat0();
        cfg.ipv4 = "10.0.0.1/28".parse().unwrap();
        assert!(daemon_args(&cfg, DaemonArgs::default()).is_err());
    }
}
