//! The daemon: resolves the options against the interface, binds every
//! socket, says it is ready, then runs until SIGTERM or SIGINT.
//!
//! Each service (DHCPv4, DNS, RA, DHCPv6) has a `start` function in its own
//! file that binds its sockets and spawns its tasks into [`Daemon::tasks`];
//! nothing is ready until every `start` has returned.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use netd_proto::names::LocalNames;
use netd_serve::iface::{InterfaceInfo, interface_info};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::cli::DaemonArgs;
use crate::dhcp_range::{DhcpRange, parse_dhcp_range};

mod dhcp4;
mod dns;
mod notify;
mod pid_file;
mod ra;

/// How long tasks get to finish after SIGTERM before they are abandoned.
const DRAIN: Duration = Duration::from_secs(3);

/// What the services share.
#[derive(Debug)]
pub struct Daemon {
    pub args: DaemonArgs,
    /// The served interface as it was at start.
    pub iface: InterfaceInfo,
    /// Parsed `--dhcp-range` values, IPv4 and IPv6.
    pub ranges: Vec<DhcpRange>,
    /// Cancelled on SIGTERM/SIGINT: every task stops.
    pub cancel: CancellationToken,
    /// Every long-running task; the daemon stops when one fails.
    pub tasks: JoinSet<anyhow::Result<()>>,
    /// Local names: DHCP and neighbour discovery write, DNS reads.
    pub names: Arc<LocalNames>,
    /// Sent on SIGHUP: services re-read what they read from files.
    pub reload: broadcast::Sender<()>,
}

impl Daemon {
    /// The addresses DNS answers on and DHCP/RA advertise: the interface's
    /// own addresses (link-local IPv6 excluded) plus `--listen-address`.
    pub fn dns_addresses(&self) -> Vec<IpAddr> {
        if self.args.dns.port == 0 {
            return Vec::new();
        }
        let mut addrs: Vec<IpAddr> = self.iface.ipv4.iter().map(|n| IpAddr::V4(n.ip())).collect();
        addrs.extend(self.iface.global_ipv6().map(|n| IpAddr::V6(n.ip())));
        for a in &self.args.common.listen_address {
            if !addrs.contains(a) && !a.is_loopback() {
                addrs.push(*a);
            }
        }
        addrs
    }
}

pub async fn run(args: DaemonArgs) -> anyhow::Result<()> {
    let iface_name = match args.common.interface.as_slice() {
        [one] => one.clone(),
        [] => bail!(
            "--interface is required: name the bridge to serve (e.g. --interface={})",
            netd_bridge::defaults::BRIDGE
        ),
        many => bail!(
            "serving more than one interface ({}) is not supported; run one nspawn-netd per bridge",
            many.join(", ")
        ),
    };
    if args.common.except_interface.contains(&iface_name) {
        bail!("--interface={iface_name} is also given as --except-interface");
    }
    let iface = interface_info(&iface_name)
        .await
        .with_context(|| format!("--interface={iface_name}"))?;
    let ranges = args
        .common
        .dhcp_range
        .iter()
        .map(|r| parse_dhcp_range(r))
        .collect::<Result<Vec<_>, _>>()?;
    // Handlers first: a SIGTERM right after "ready" must stop us cleanly.
    let signals = Signals::install()?;
    let (reload, _) = broadcast::channel(4);
    let mut daemon = Daemon {
        names: LocalNames::new(args.common.domain.as_deref()),
        args,
        iface,
        ranges,
        cancel: CancellationToken::new(),
        tasks: JoinSet::new(),
        reload,
    };

    dns::start(&mut daemon).await.context("starting DNS")?;
    dhcp4::start(&mut daemon).await.context("starting DHCPv4")?;
    ra::start(&mut daemon)
        .await
        .context("starting IPv6 router advertisements")?;

    if daemon.tasks.is_empty() {
        bail!("nothing to serve: give a --dhcp-range");
    }
    let _pid_file = match &daemon.args.common.pid_file {
        Some(path) => Some(pid_file::PidFile::create(path)?),
        None => None,
    };
    notify::ready();
    info!(interface = %daemon.iface.name, "nspawn-netd ready");
    wait(&mut daemon, signals).await
}

/// The signals the daemon acts on.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("installing SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing SIGINT handler")?,
            hup: signal(SignalKind::hangup()).context("installing SIGHUP handler")?,
        })
    }
}

/// Runs until a signal or a failed task, then drains.
async fn wait(daemon: &mut Daemon, signals: Signals) -> anyhow::Result<()> {
    let Signals {
        mut term,
        mut int,
        mut hup,
    } = signals;
    let mut failure = None;
    loop {
        tokio::select! {
            _ = term.recv() => { info!("SIGTERM: stopping"); break; }
            _ = int.recv() => { info!("SIGINT: stopping"); break; }
            _ = hup.recv() => {
                info!("SIGHUP: reloading");
                let _ = daemon.reload.send(());
            }
            Some(done) = daemon.tasks.join_next() => {
                match done {
                    Ok(Ok(())) => continue,
                    Ok(Err(e)) => { error!("{e:#}"); failure = Some(e); }
                    Err(e) => { error!("a task panicked: {e}"); failure = Some(anyhow::anyhow!("a task panicked: {e}")); }
                }
                break;
            }
        }
    }
    notify::stopping();
    daemon.cancel.cancel();
    let drained = tokio::time::timeout(DRAIN, async {
        while let Some(done) = daemon.tasks.join_next().await {
            if let Ok(Err(e)) = done {
                warn!("while stopping: {e:#}");
            }
        }
    })
    .await;
    if drained.is_err() {
        warn!("tasks still running after {DRAIN:?}; abandoning them");
        daemon.tasks.abort_all();
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
