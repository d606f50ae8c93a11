//! `container create`: every check first, then the steps, one function
//! each: the `.nspawn` file, the bootstrap (with progress), the rootfs set
//! up for a networked first boot, the link into the machines directory. On
//! failure or Ctrl-C everything made so far is removed.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};
use clap::Args;
use netd_container::distro::{BootstrapPlan, BootstrapRequest, Distro, Variant};
use netd_container::rootfs::{self, RootfsConfig, RootfsReport};
use netd_container::runner::{self, RunError};
use netd_container::sys::{self, Signal};
use netd_container::{cleanup, inputs, name, nspawn_file};

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
    #[arg(long, value_parser = suite)]
    pub suite: Option<String>,
    /// The archive to download from (default: the bootstrap tool's own).
    #[arg(long, value_name = "URL", value_parser = mirror)]
    pub mirror: Option<String>,
    /// debootstrap's package set: `default` (Priority important: the
    /// tools an operator expects) or `minbase` (a smaller image: about a
    /// quarter fewer packages). Either way with dbus-broker,
    /// systemd-container, iproute2 and ping.
    #[arg(long, default_value = "default", value_parser = clap::value_parser!(Variant))]
    pub variant: Variant,
    /// Put the rootfs here and link /var/lib/machines/NAME to it.
    #[arg(long, value_name = "PATH")]
    pub directory: Option<PathBuf>,
    /// The bridge the container joins (written to its .nspawn file).
    #[arg(long, default_value = netd_bridge::defaults::BRIDGE, value_parser = bridge)]
    pub bridge: String,
    /// The DNS server the container uses (default: the bridge's IPv4
    /// address, where nspawn-netd answers; 192.168.26.1 while there is no
    /// bridge).
    #[arg(long, value_name = "ADDR")]
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

/// `--suite`, checked by clap (see [`inputs`]).
fn suite(v: &str) -> Result<String, inputs::InvalidInput> {
    inputs::validate_suite(v).map(|()| v.to_owned())
}

/// `--mirror`, checked by clap.
fn mirror(v: &str) -> Result<String, inputs::InvalidInput> {
    inputs::validate_mirror(v).map(|()| v.to_owned())
}

/// `--bridge`, checked by clap.
fn bridge(v: &str) -> Result<String, inputs::InvalidInput> {
    inputs::validate_bridge(v).map(|()| v.to_owned())
}

/// Signals that stop a `create` cleanly (everything made is removed).
const STOP_SIGNALS: [Signal; 3] = [Signal::Int, Signal::Term, Signal::Hup];

pub(super) fn run(dirs: &Dirs, args: CreateArgs) -> anyhow::Result<()> {
    let job = Job::plan(dirs, &args)?;
    require_root("container create")?;
    job.check_nothing_in_the_way()?;
    let password = password::read(&args)?;
    let dns = dns_servers(&args.dns, &bridge_ipv4(&args.bridge));
    let interrupted = sys::flag_on_signals(&STOP_SIGNALS).context("installing signal handlers")?;
    let mut made = Made::default();
    let Err(err) = job.carry_out(password, &dns, interrupted, &mut made) else {
        return Ok(());
    };
    if let Some(RunError::Failed { tail, .. }) = err.downcast_ref::<RunError>() {
        eprintln!("--- last lines of {} ---", job.log.display());
        for line in tail {
            eprintln!("{line}");
        }
        eprintln!("---");
    }
    made.rollback();
    if interrupted.load(Ordering::SeqCst) {
        eprintln!("nspawn-netd: interrupted; nothing of {} is left", args.name);
        std::process::exit(130);
    }
    Err(err)
}

/// What `create` will do, worked out before anything is made.
#[derive(Debug)]
struct Job<'a> {
    dirs: &'a Dirs,
    args: &'a CreateArgs,
    plan: BootstrapPlan,
    /// Where the rootfs goes (`--directory`, else in the machines directory).
    rootfs: PathBuf,
    /// `MACHINES_DIR/NAME`: the rootfs itself, or a link to it.
    link: PathBuf,
    nspawn_file: PathBuf,
    /// An existing `.nspawn` file is kept unless `--force`.
    keep_nspawn: bool,
    log: PathBuf,
}

impl<'a> Job<'a> {
    /// Checks the request and works out paths and the bootstrap command;
    /// reads nothing but the file system.
    fn plan(dirs: &'a Dirs, args: &'a CreateArgs) -> anyhow::Result<Job<'a>> {
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
            Some(dir) => std::path::absolute(dir)
                .with_context(|| format!("--directory {}", dir.display()))?,
            None => link.clone(),
        };
        let plan = BootstrapPlan::new(&request, &rootfs)?;
        let nspawn_file = dirs.nspawn_file(&args.name);
        let log = args.log_file.clone().unwrap_or_else(|| {
            PathBuf::from(format!("/var/log/nspawn-netd/create-{}.log", args.name))
        });
        Ok(Job {
            dirs,
            args,
            plan,
            rootfs,
            link,
            keep_nspawn: nspawn_file.exists() && !args.force,
            nspawn_file,
            log,
        })
    }

    /// Refuses to overwrite a machine or directory, and names the package
    /// of a missing bootstrap tool.
    fn check_nothing_in_the_way(&self) -> anyhow::Result<()> {
        if std::fs::symlink_metadata(&self.link).is_ok() {
            bail!(
                "{} already exists: pick another name or remove it first",
                self.link.display()
            );
        }
        if self.args.directory.is_some() && std::fs::symlink_metadata(&self.rootfs).is_ok() {
            bail!("--directory {} already exists", self.rootfs.display());
        }
        let (tool, package) = self.args.distro.tool();
        if find_in_path(tool).is_none() {
            bail!("{tool} is not installed; it comes in the {package} package");
        }
        Ok(())
    }

    /// The steps in order, recording in `made` what to remove on failure;
    /// `interrupted` is looked at between steps (and during the bootstrap).
    fn carry_out(
        &self,
        password: Option<String>,
        dns: &[IpAddr],
        interrupted: &AtomicBool,
        made: &mut Made,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        let stopped = || -> anyhow::Result<()> {
            if interrupted.load(Ordering::SeqCst) {
                return Err(RunError::Cancelled.into());
            }
            Ok(())
        };
        self.write_nspawn_file(made)?;
        self.bootstrap(interrupted, made)?;
        stopped()?;
        let report = self.configure_rootfs(password, dns)?;
        stopped()?;
        self.link_into_machines_dir(made)?;
        stopped()?;
        self.print_summary(start, &report, dns);
        *made = Made::default();
        Ok(())
    }

    /// `/etc/systemd/nspawn/NAME.nspawn` with the bridge, unless one is
    /// kept.
    fn write_nspawn_file(&self, made: &mut Made) -> anyhow::Result<()> {
        let path = &self.nspawn_file;
        if self.keep_nspawn {
            eprintln!(
                "keeping the existing {} (--force replaces it)",
                path.display()
            );
            return Ok(());
        }
        std::fs::create_dir_all(&self.dirs.nspawn_dir)
            .with_context(|| format!("creating {}", self.dirs.nspawn_dir.display()))?;
        made.nspawn_file = Some(path.clone());
        std::fs::write(path, nspawn_file::render(&self.args.bridge))
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Runs debootstrap or pacstrap into the rootfs, showing its progress.
    fn bootstrap(&self, interrupted: &AtomicBool, made: &mut Made) -> anyhow::Result<()> {
        let rootfs = &self.rootfs;
        if let Some(parent) = rootfs.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        made.rootfs = Some(rootfs.clone());
        if !self.plan.creates_target() {
            std::fs::create_dir(rootfs)
                .with_context(|| format!("creating {}", rootfs.display()))?;
        }
        eprintln!(
            "bootstrapping {} with {}; full log: {}",
            self.args.name,
            self.plan.program,
            self.log.display()
        );
        let mut view = view::View::for_stdout();
        let result = runner::run_bootstrap(&self.plan, &self.log, interrupted, |p, elapsed| {
            view.report(p, elapsed)
        });
        view.finish();
        Ok(result?)
    }

    /// Networking, hostname, resolv.conf, ping and root's password inside
    /// the rootfs.
    fn configure_rootfs(
        &self,
        password: Option<String>,
        dns: &[IpAddr],
    ) -> anyhow::Result<RootfsReport> {
        let config = RootfsConfig {
            name: self.args.name.clone(),
            dns: dns.to_vec(),
            root_password_hash: password.as_deref().map(password::hash).transpose()?,
            today: days_since_epoch(),
        };
        rootfs::configure(&self.rootfs, &config)
            .with_context(|| format!("setting up {}", self.rootfs.display()))
    }

    /// With `--directory`, `MACHINES_DIR/NAME` links to the rootfs, so that
    /// machinectl and nspawn find it.
    fn link_into_machines_dir(&self, made: &mut Made) -> anyhow::Result<()> {
        if self.rootfs == self.link {
            return Ok(());
        }
        let machines_dir = &self.dirs.machines_dir;
        std::fs::create_dir_all(machines_dir)
            .with_context(|| format!("creating {}", machines_dir.display()))?;
        made.link = Some(self.link.clone());
        std::os::unix::fs::symlink(&self.rootfs, &self.link).with_context(|| {
            format!(
                "linking {} to {}",
                self.link.display(),
                self.rootfs.display()
            )
        })
    }

    fn print_summary(&self, start: Instant, report: &RootfsReport, dns: &[IpAddr]) {
        let name = &self.args.name;
        println!(
            "created {name} in {:.0}s: {} on bridge {}, systemd-networkd enabled ({} host0 network file), DNS {}",
            start.elapsed().as_secs_f64(),
            self.rootfs.display(),
            self.args.bridge,
            if report.stock_host0_network {
                "the distribution's"
            } else {
                "our"
            },
            dns.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        );
        if !report.root_password_set {
            println!(
                "root's password is as the distribution left it; get a shell with: nspawn-netd container shell {name} (or machinectl shell {name})"
            );
        }
        println!("start it with: nspawn-netd container start {name}");
    }
}

/// What has been made so far, removed again by [`Made::rollback`].
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

/// The DNS servers for the container's resolv.conf: `--dns` when given;
/// else the bridge's IPv4 address, where nspawn-netd answers DNS (`up
/// --ipv4` may have given it another than the default; the first is the
/// primary one); else, with no bridge (or none with IPv4) yet, the address
/// `up` gives it by default.
fn dns_servers(explicit: &[IpAddr], bridge_ipv4: &[Ipv4Addr]) -> Vec<IpAddr> {
    if !explicit.is_empty() {
        return explicit.to_vec();
    }
    let default = || {
        netd_bridge::defaults::IPV4_ADDR
            .parse()
            .expect("the default address parses")
    };
    vec![
        bridge_ipv4
            .first()
            .copied()
            .map_or_else(default, IpAddr::V4),
    ]
}

/// `bridge`'s IPv4 addresses, read over netlink; none when it does not
/// exist (or cannot be read, which is said).
fn bridge_ipv4(bridge: &str) -> Vec<Ipv4Addr> {
    let read = async {
        match netd_serve::iface::interface_info(bridge).await {
            Ok(info) => Ok(info.ipv4.iter().map(|n| n.ip()).collect()),
            Err(netd_serve::iface::IfaceError::NotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(anyhow::Error::from(e)),
        }
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(read));
    result.unwrap_or_else(|e| {
        eprintln!(
            "nspawn-netd: {e:#}; the DNS server defaults to {}",
            netd_bridge::defaults::IPV4_ADDR
        );
        Vec::new()
    })
}

fn days_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn dns_is_the_bridges_address_unless_given() {
        let bridge = [Ipv4Addr::new(10, 33, 0, 1), Ipv4Addr::new(10, 34, 0, 1)];
        // --dns wins.
        assert_eq!(
            dns_servers(&[ip("10.7.0.1"), ip("fd00::53")], &bridge),
            [ip("10.7.0.1"), ip("fd00::53")]
        );
        // The bridge's primary address, as `up --ipv4 10.33.0.1/24` made it.
        assert_eq!(dns_servers(&[], &bridge), [ip("10.33.0.1")]);
        // No bridge (or no IPv4 on it) yet: the recipe's default.
        assert_eq!(
            dns_servers(&[], &[]),
            [ip(netd_bridge::defaults::IPV4_ADDR)]
        );
    }

    #[test]
    fn a_missing_bridge_has_no_addresses() {
        assert!(bridge_ipv4("no-such-br0").is_empty());
    }
}

#[cfg(test)]
mod input_tests {
    use clap::Parser;

    use super::CreateArgs;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(flatten)]
        args: CreateArgs,
    }

    #[test]
    fn a_bridge_suite_or_mirror_that_would_change_a_file_or_command_is_refused() {
        for bad in [
            ("--bridge", "--bridge=nat0\n[Exec]"),
            ("--suite", "--suite=-x"),
            ("--mirror", "--mirror=http://a b"),
        ] {
            let e = Wrap::try_parse_from(["x", "web", bad.1]).unwrap_err();
            assert!(e.to_string().contains(bad.0), "{e}");
        }
        assert!(Wrap::try_parse_from(["x", "web", "--bridge", "br-lab"]).is_ok());
    }
}
