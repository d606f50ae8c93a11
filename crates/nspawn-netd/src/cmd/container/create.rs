//! `container create`: checks, bootstrap with progress, rootfs setup,
//! `.nspawn` file; on failure or Ctrl-C everything made is removed.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};
use clap::Args;
use netd_container::distro::{BootstrapPlan, BootstrapRequest, Distro, Variant};
use netd_container::rootfs::{self, RootfsConfig};
use netd_container::runner::{self, RunError};
use netd_container::sys::{self, Signal};
use netd_container::{cleanup, name, nspawn_file};

use super::{Dirs, find_in_path, require_root};

mod password;
mod view;

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The machine name (also its hostname and DNS name).
    pub name: String,
    #[arg(long, default_value = "debian", value_parser = clap::value_parser!(Distro))]
    pub distro: Distro,
    /// The release (default: bookworm for debian, noble for ubuntu).
    #[arg(long)]
    pub suite: Option<String>,
    /// The archive to download from (default: the bootstrap tool's own).
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// debootstrap's package set: `default` (Priority important: the
    /// tools an operator expects) or `minbase` (a smaller image, about half
    /// the download). Either way with dbus-broker, systemd-container,
    /// iproute2 and ping.
    #[arg(long, default_value = "default", value_parser = clap::value_parser!(Variant))]
    pub variant: Variant,
    /// Put the rootfs here and link /var/lib/machines/NAME to it.
    #[arg(long, value_name = "PATH")]
    pub directory: Option<PathBuf>,
    /// The bridge the container joins (written to its .nspawn file).
    #[arg(long, default_value = netd_bridge::defaults::BRIDGE)]
    pub bridge: String,
    /// The DNS server the container uses: nspawn-netd's address on the bridge.
    #[arg(long, value_name = "ADDR", default_value = netd_bridge::defaults::IPV4_ADDR)]
    pub dns: Vec<IpAddr>,
    /// Set root's password from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "root_password_prompt")]
    pub root_password_file: Option<PathBuf>,
    /// Ask for root's password (not echoed).
    #[arg(long)]
    pub root_password_prompt: bool,
    /// Overwrite an existing .nspawn file.
    #[arg(long)]
    pub force: bool,
    /// Where the bootstrap's full log goes.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

/// Signals that stop a `create` cleanly (everything made is removed).
const STOP_SIGNALS: [Signal; 3] = [Signal::Int, Signal::Term, Signal::Hup];

/// Set by [`STOP_SIGNALS`] while `create` runs.
fn interrupted() -> anyhow::Result<&'static AtomicBool> {
    sys::flag_on_signals(&STOP_SIGNALS).context("installing signal handlers")
}

/// What has been made so far, removed again unless [`Made::keep`] is called.
#[derive(Debug, Default)]
struct Made {
    rootfs: Option<PathBuf>,
    link: Option<PathBuf>,
    nspawn_file: Option<PathBuf>,
}

impl Made {
    fn rollback(&mut self) {
        if let Some(link) = self.link.take() {
            let _ = std::fs::remove_file(&link);
        }
        if let Some(root) = self.rootfs.take() {
            eprintln!("removing {}", root.display());
            if let Err(e) = cleanup::remove_rootfs(&root) {
                eprintln!("nspawn-netd: could not remove {}: {e}", root.display());
            }
        }
        if let Some(file) = self.nspawn_file.take() {
            let _ = std::fs::remove_file(&file);
        }
    }
}

pub(super) fn run(dirs: &Dirs, args: CreateArgs) -> anyhow::Result<()> {
    name::validate_machine_name(&args.name)?;
    let request = BootstrapRequest {
        distro: args.distro,
        suite: args.suite.clone(),
        mirror: args.mirror.clone(),
        variant: args.variant,
    };
    let link = dirs.machines_dir.join(&args.name);
    let rootfs = match &args.directory {
        // Absolute, so that the link in the machines directory works.
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("--directory {}", dir.display()))?
        }
        None => link.clone(),
    };
    let plan = BootstrapPlan::new(&request, &rootfs)?;
    require_root("container create")?;
    if std::fs::symlink_metadata(&link).is_ok() {
        bail!(
            "{} already exists: pick another name or remove it first",
            link.display()
        );
    }
    if args.directory.is_some() && std::fs::symlink_metadata(&rootfs).is_ok() {
        bail!("--directory {} already exists", rootfs.display());
    }
    let (tool, package) = args.distro.tool();
    if find_in_path(tool).is_none() {
        bail!("{tool} is not installed; it comes in the {package} package");
    }
    let nspawn_path = dirs.nspawn_file(&args.name);
    let keep_nspawn = nspawn_path.exists() && !args.force;
    let password = password::read(&args)?;
    let log = args
        .log_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/var/log/nspawn-netd/create-{}.log", args.name)));

    interrupted()?;
    let mut made = Made::default();
    let result = create(
        dirs,
        &args,
        &plan,
        &rootfs,
        &link,
        keep_nspawn,
        password,
        &log,
        &mut made,
    );
    if let Err(err) = result {
        if let Some(RunError::Failed { tail, .. }) = err.downcast_ref::<RunError>() {
            eprintln!("--- last lines of {} ---", log.display());
            for line in tail {
                eprintln!("{line}");
            }
            eprintln!("---");
        }
        made.rollback();
        if interrupted()?.load(Ordering::SeqCst) {
            eprintln!("nspawn-netd: interrupted; nothing of {} is left", args.name);
            std::process::exit(130);
        }
        return Err(err);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn create(
    dirs: &Dirs,
    args: &CreateArgs,
    plan: &BootstrapPlan,
    rootfs: &Path,
    link: &Path,
    keep_nspawn: bool,
    password: Option<String>,
    log: &Path,
    made: &mut Made,
) -> anyhow::Result<()> {
    let start = Instant::now();
    if keep_nspawn {
        eprintln!(
            "keeping the existing {} (--force replaces it)",
            dirs.nspawn_file(&args.name).display()
        );
    } else {
        let path = dirs.nspawn_file(&args.name);
        std::fs::create_dir_all(&dirs.nspawn_dir)
            .with_context(|| format!("creating {}", dirs.nspawn_dir.display()))?;
        made.nspawn_file = Some(path.clone());
        std::fs::write(&path, nspawn_file::render(&args.bridge))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(parent) = rootfs.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    made.rootfs = Some(rootfs.to_owned());
    if !plan.creates_target() {
        std::fs::create_dir(rootfs).with_context(|| format!("creating {}", rootfs.display()))?;
    }
    eprintln!(
        "bootstrapping {} with {}; full log: {}",
        args.name,
        plan.program,
        log.display()
    );
    let mut view = view::View::for_stdout();
    let result = runner::run_bootstrap(plan, log, interrupted()?, |p, elapsed| {
        view.report(p, elapsed)
    });
    view.finish();
    result?;
    check_interrupted()?;

    let hash = password.as_deref().map(password::hash).transpose()?;
    let config = RootfsConfig {
        name: args.name.clone(),
        dns: args.dns.clone(),
        root_password_hash: hash,
        today: days_since_epoch(),
    };
    let report = rootfs::configure(rootfs, &config)
        .with_context(|| format!("setting up {}", rootfs.display()))?;
    check_interrupted()?;
    if rootfs != link {
        std::fs::create_dir_all(&dirs.machines_dir)
            .with_context(|| format!("creating {}", dirs.machines_dir.display()))?;
        made.link = Some(link.to_owned());
        std::os::unix::fs::symlink(rootfs, link)
            .with_context(|| format!("linking {} to {}", link.display(), rootfs.display()))?;
    }
    check_interrupted()?;

    println!(
        "created {} in {:.0}s: {} on bridge {}, systemd-networkd enabled ({} host0 network file), DNS {}",
        args.name,
        start.elapsed().as_secs_f64(),
        rootfs.display(),
        args.bridge,
        if report.stock_host0_network {
            "the distribution's"
        } else {
            "our"
        },
        args.dns
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    if !report.root_password_set {
        println!(
            "root's password is as the distribution left it; get a shell with: nspawn-netd container shell {} (or machinectl shell {})",
            args.name, args.name
        );
    }
    println!("start it with: nspawn-netd container start {}", args.name);
    *made = Made::default();
    Ok(())
}

fn check_interrupted() -> anyhow::Result<()> {
    if interrupted()?.load(Ordering::SeqCst) {
        return Err(RunError::Cancelled.into());
    }
    Ok(())
}

fn days_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}
