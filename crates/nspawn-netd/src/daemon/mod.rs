//! The daemon, in dnsmasq's process model:
//!
//! 1. [`run`], before any thread exists: fork into the background unless
//!    `-k`/`-d` (the parent waits for the daemon's report and exits with
//!    its code), set up logging, fork the privileged helper when the
//!    daemon will drop root, and start a current-thread runtime.
//! 2. [`serve`]: signal handlers first; the open files limit raised to
//!    the hard limit; the interface; every service's plan (pure) and bind
//!    (every socket, the lease file, then the control socket and the
//!    metrics endpoint that report on them); the pid file;
//!    the switch to the service user with only the capabilities still
//!    used; then "ready" (sd_notify, the parent's report, a log line).
//! 3. Serve until SIGTERM/SIGINT or a failed task, then a bounded drain.
//!    SIGHUP reloads, SIGUSR1 logs statistics, SIGUSR2 reopens the log.
//!
//! Every service has the shape of `netd_serve::service`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::anyhow;
use netd_serve::atomic_file::{Direct, FileWriter};
use netd_serve::dhcp4::journal::JournalPaths;
use netd_serve::iface::{InterfaceInfo, interface_holding, interface_info};
use netd_serve::process::{
    self, Capability, Credentials, Helper, HelperConfig, ScriptRunner, Startup,
};
use netd_serve::service::{self, Context, Tasks};
use netd_serve::status::{Dhcp4Source, RaSource, Sources};
use netd_serve::{control, dhcp4, dns, metrics, ra};
use tracing::{error, info, warn};

use crate::exit::{Code, Failure};
use crate::logging::{self, LogHandle};
use crate::settings::{DaemonSettings, Identity, RunMode};
use crate::signals::{Signal, Signals};

mod notify;
mod pid_file;
mod report;

/// How long tasks get to finish after SIGTERM before they are abandoned.
const DRAIN: Duration = Duration::from_secs(3);

/// The capabilities the daemon keeps after the switch to its user.
const KEEP: [Capability; 3] = [
    Capability::NetAdmin,
    Capability::NetRaw,
    Capability::NetBindService,
];

/// Runs the daemon to the end. Must be called before any thread exists.
pub fn run(settings: DaemonSettings, identity: Identity) -> Result<(), Failure> {
    let mut startup = match settings.process.mode {
        RunMode::Fork => {
            process::daemonize().map_err(|e| Failure::other(anyhow!("forking: {e}")))?
        }
        RunMode::Foreground | RunMode::Debug => Startup::foreground(),
    };
    let result = start(settings, &mut startup);
    if let Err(f) = &result
        && startup.forked()
    {
        // The parent prints it: the daemon's own copy would show it twice.
        startup.failed(f.code as i32, &format!("{}: {f}", identity.name()));
        let _ = process::detach_stdio();
    }
    result
}

fn start(settings: DaemonSettings, startup: &mut Startup) -> Result<(), Failure> {
    let log = logging::init(&settings.log)
        .map_err(|e| Failure::file(anyhow!("opening the log file: {e}")))?;
    let credentials = service_user(&settings)?;
    let writer: Arc<dyn FileWriter> = match &credentials {
        Some(_) => Arc::new(
            Helper::spawn(HelperConfig {
                lease_file: settings.dhcp4.lease_file.clone(),
                snapshot: JournalPaths::beside(&settings.dhcp4.lease_file).snapshot,
                pid_file: settings.process.pid_file.clone(),
                control_socket: settings
                    .interface
                    .as_deref()
                    .zip(settings.control.dir.as_deref())
                    .map(|(i, d)| control::socket_path(d, i)),
            })
            .map_err(|e| Failure::other(anyhow!("starting the privileged helper: {e}")))?,
        ),
        None => Arc::new(Direct),
    };
    let script =
        match &settings.dhcp4.script {
            Some(path) => Some(ScriptRunner::spawn(path.clone()).map_err(|e| {
                Failure::other(anyhow!("starting the runner of --dhcp-script: {e}"))
            })?),
            None => None,
        };
    if !process::keep_heap_small() {
        warn!("the allocator refused its settings; freed memory may stay in the process");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other(anyhow!("starting the runtime: {e}")))?;
    runtime.block_on(serve(settings, startup, credentials, writer, script, log))
}

/// The user to switch to after binding, or `None` to stay as we are (not
/// root, or `-u root`).
fn service_user(settings: &DaemonSettings) -> Result<Option<Credentials>, Failure> {
    let Some(user) = &settings.process.user else {
        return Ok(None);
    };
    if !process::privileges::is_root() || user == "root" {
        return Ok(None);
    }
    Credentials::lookup(user, settings.process.group.as_deref())
        .map(Some)
        .map_err(|e| Failure::config(format!("-u {user}: {e}")))
}

/// Binds everything, drops privileges, says it is ready and serves until
/// stopped. `up` calls this too, with its own runtime.
pub async fn serve(
    settings: DaemonSettings,
    startup: &mut Startup,
    credentials: Option<Credentials>,
    writer: Arc<dyn FileWriter>,
    script: Option<ScriptRunner>,
    log: LogHandle,
) -> Result<(), Failure> {
    let started = SystemTime::now();
    // Handlers first: a signal right after "ready" must be handled.
    let mut signals = Signals::install().map_err(Failure::other)?;
    // Before any socket: every limit DNS keeps to is checked against this.
    match process::raise_open_files_limit() {
        Ok((before, after)) if after > before => {
            info!("open files limit raised from {before} to {after}");
        }
        Ok(_) => {}
        Err(e) => warn!("raising the open files limit: {e}"),
    }
    let iface = served_interface(&settings).await?;
    let dns_addresses =
        service::dns_addresses(&iface, &settings.listen_addresses, settings.dns.port);
    let ctx = Context::new(iface, dns_addresses, settings.domain.clone());

    // What local records need from the system, read once here so that
    // planning stays pure.
    let mut dns_settings = settings.dns.clone();
    dns_settings.interface_addrs =
        dns::read_interfaces(&dns_settings.interface_names, &ctx.iface).await;
    dns_settings.hostname = dns::hostname();
    let dns_plan = dns::plan(&dns_settings, &ctx)?;
    let dhcp4_plan = dhcp4::plan(&settings.dhcp4, &ctx)?;
    let ipv6_plan = ra::plan(&settings.ipv6, &ctx)?;
    let control_plan = control::plan(&settings.control, &ctx)?;
    let metrics_plan = metrics::plan(&settings.metrics, &ctx)?;
    if dns_plan.is_none() && dhcp4_plan.is_none() && ipv6_plan.is_none() {
        return Err(Failure::config(
            "nothing to serve: give a --dhcp-range or a DNS --port",
        ));
    }
    let dns = dns_plan.map(|p| p.bind(&ctx)).transpose()?;
    let dhcp4 = dhcp4_plan
        .map(|p| p.with_script(script).bind(&ctx, writer.clone()))
        .transpose()?;
    let ipv6 = ipv6_plan.map(|p| p.bind(&ctx)).transpose()?;
    // What status, the metrics and SIGUSR1 report: every bound service.
    let sources = Sources {
        interface: ctx.iface.name.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started,
        dhcp4: dhcp4.as_ref().map(|b| Dhcp4Source {
            stats: b.stats(),
            leases: b.leases(),
        }),
        dns: dns.as_ref().map(|b| b.shared()),
        ra: ipv6.as_ref().map(|b| RaSource {
            stats: b.ra_stats(),
            prefixes: b.prefixes(),
        }),
        dhcp6: ipv6
            .as_ref()
            .filter(|b| b.has_dhcp6())
            .map(|b| b.dhcp6_stats()),
    };
    // Bound as root, like every other socket: the control directory under
    // /run is root's.
    let control = match control_plan {
        Some(p) => p.bind_or_warn(sources.clone(), &ctx)?,
        None => None,
    };
    if control.is_some()
        && let Err(e) = writer.control_socket_bound()
    {
        warn!("the control socket will be left behind on exit: {e}");
    }
    let metrics = metrics_plan
        .map(|p| p.bind(sources.clone(), &ctx))
        .transpose()?;

    let mut pid_file =
        match &settings.process.pid_file {
            Some(path) => Some(pid_file::PidFile::create(path).map_err(|e| {
                Failure::file(anyhow!("writing the pid file {}: {e}", path.display()))
            })?),
            None => None,
        };
    if let Some(creds) = &credentials {
        if let Some(file) = log.file() {
            process::privileges::give_file(&file, creds).map_err(|e| {
                Failure::file(anyhow!("giving the log file to {}: {e}", creds.user))
            })?;
        }
        process::drop_privileges(creds, &KEEP)
            .map_err(|e| Failure::other(anyhow!("switching to user {}: {e}", creds.user)))?;
        if let Some(p) = &mut pid_file {
            p.leave_to_helper();
        }
        info!(user = %creds.user, uid = creds.uid, gid = creds.gid, "serving without root");
    }

    let mut tasks = Tasks::new();
    if let Some(b) = dns {
        b.run(&mut tasks, &ctx);
    }
    if let Some(b) = dhcp4 {
        b.run(&mut tasks, &ctx);
    }
    if let Some(b) = ipv6 {
        b.run(&mut tasks, &ctx);
    }
    if let Some(b) = control {
        b.run(&mut tasks, &ctx);
    }
    if let Some(b) = metrics {
        b.run(&mut tasks, &ctx);
    }

    notify::ready();
    info!(interface = %ctx.iface.name, "nspawn-netd ready");
    if startup.forked() {
        startup.ready();
        let _ = process::detach_stdio();
    }
    let result = wait(&ctx, &mut tasks, &mut signals, &sources, &log).await;
    drop(pid_file);
    result
}

/// `--interface`, or the interface holding `--listen-address`.
async fn served_interface(settings: &DaemonSettings) -> Result<InterfaceInfo, Failure> {
    let name = match &settings.interface {
        Some(name) => name.clone(),
        None => {
            let mut found = None;
            for a in &settings.listen_addresses {
                if let Some(name) = interface_holding(*a).await.map_err(Failure::network)? {
                    found = Some(name);
                    break;
                }
            }
            found.ok_or_else(|| {
                Failure::config(format!(
                    "--interface is required: name the bridge to serve (e.g. --interface={}), \
                     or give a --listen-address that one of its addresses is",
                    netd_bridge::defaults::BRIDGE
                ))
            })?
        }
    };
    interface_info(&name)
        .await
        .map_err(|e| Failure::network(anyhow!("--interface={name}: {e}")))
}

/// Runs until a signal or a failed task, then drains.
async fn wait(
    ctx: &Context,
    tasks: &mut Tasks,
    signals: &mut Signals,
    sources: &Sources,
    log: &LogHandle,
) -> Result<(), Failure> {
    let mut failure = None;
    loop {
        tokio::select! {
            signal = signals.next() => match signal {
                Signal::Terminate => { info!("SIGTERM: stopping"); break; }
                Signal::Interrupt => { info!("SIGINT: stopping"); break; }
                Signal::Reload => {
                    info!("SIGHUP: reloading");
                    let _ = ctx.reload.send(());
                }
                Signal::Statistics => report::log(sources),
                Signal::ReopenLog => match log.reopen() {
                    Ok(()) => info!("SIGUSR2: log file reopened"),
                    Err(e) => warn!("SIGUSR2: reopening the log file: {e}"),
                },
            },
            Some(done) = tasks.join_next() => {
                match done {
                    Ok(Ok(())) => continue,
                    Ok(Err(e)) => { error!("{e}"); failure = Some(Failure::from(e)); }
                    Err(e) => {
                        error!("a task panicked: {e}");
                        failure = Some(Failure::new(Code::Other, anyhow!("a task panicked: {e}")));
                    }
                }
                break;
            }
        }
    }
    notify::stopping();
    ctx.cancel.cancel();
    let drained = tokio::time::timeout(DRAIN, async {
        while let Some(done) = tasks.join_next().await {
            if let Ok(Err(e)) = done {
                warn!("while stopping: {e}");
            }
        }
    })
    .await;
    if drained.is_err() {
        warn!("tasks still running after {DRAIN:?}; abandoning them");
        tasks.abort_all();
    }
    match failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}
