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
use std::net::Ipv4Addr;
use std::sync::Arc;

use netd_serve::atomic_file::Direct;
use netd_serve::dhcp4::Ipv4Range;
use netd_serve::process::Startup;
use netd_serve::ra::{Ipv6Mode, Ipv6Range, PrefixSpec};
use netd_serve::settings::Sourced;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::cli::DaemonArgs;
use crate::logging::LogHandle;
use crate::settings::DaemonSettings;
use crate::settings::dhcp_range::parse_lease_time;
use crate::signals::Signals;

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

/// Fills in the daemon settings `up` can derive from the bridge: the
/// interface, a DHCPv4 range of .20-.100 and, with IPv6, a stateless range
/// with ra-names. Given options win.
pub fn fill_from_bridge(
    bridge: &BridgeConfig,
    settings: &mut DaemonSettings,
) -> anyhow::Result<()> {
    if settings.interface.is_none() {
        settings.interface = Some(bridge.name.clone());
    }
    if settings.dhcp4.ranges.is_empty() {
        let net = bridge.ipv4;
        let (first, last) = (defaults::POOL_FIRST_HOST, defaults::POOL_LAST_HOST);
        if net.size() <= last + 1 {
            bail!(
                "--ipv4={net} is too small for the default DHCP range .{first}-.{last}; give --dhcp-range"
            );
        }
        let base = u32::from(net.network());
        let range = Ipv4Range {
            start: Ipv4Addr::from(base + first),
            end: Ipv4Addr::from(base + last),
            netmask: None,
            lease: Some(parse_lease_time(defaults::LEASE).map_err(anyhow::Error::msg)?),
            tags: Vec::new(),
            static_only: false,
        };
        let text = format!("{},{},{}", range.start, range.end, defaults::LEASE);
        settings
            .dhcp4
            .ranges
            .push(Sourced::default_of(range, "dhcp-range", text, "up"));
    }
    if let Some(v6) = bridge.ipv6
        && settings.ipv6.ranges.is_empty()
    {
        let prefix = Ipv6Network::new(v6.network(), v6.prefix())?;
        let range = Ipv6Range {
            prefix: PrefixSpec::Fixed(prefix),
            mode: Ipv6Mode::RaStateless,
            ra_names: true,
            lease: None,
        };
        let text = format!("{prefix},ra-stateless,ra-names");
        settings
            .ipv6
            .ranges
            .push(Sourced::default_of(range, "dhcp-range", text, "up"));
    }
    // `up` runs the daemon in its own process, in front, as root: it
    // repairs the firewall and may tear the network down on exit.
    settings.process.user = None;
    Ok(())
}

pub async fn run(args: UpArgs, mut settings: DaemonSettings) -> anyhow::Result<()> {
    let cfg = args.config();
    let host = args.bridge.host();
    let no_daemon = args.daemon.common.no_daemon;
    let stay = !no_daemon || args.daemon.common.keep_in_foreground;
    let daemon = if no_daemon {
        None
    } else {
        // Its runner is forked before any thread exists, which `up`'s
        // runtime already has: refused before the network is touched.
        if settings.dhcp4.script.is_some() {
            anyhow::bail!("--dhcp-script is not supported with up; run the daemon itself");
        }
        fill_from_bridge(&cfg, &mut settings)?;
        Some(settings)
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
        Some(settings) => crate::daemon::serve(
            settings,
            &mut Startup::foreground(),
            None,
            Arc::new(Direct),
            None,
            LogHandle::default(),
        )
        .await
        .map_err(|f| f.error),
        None => {
            info!(bridge = %cfg.name, "nspawn-netd ready (network only, keeping nf_tables whole)");
            Signals::install()?.stop().await;
            Ok(())
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

#[cfg(test)]
mod tests;
