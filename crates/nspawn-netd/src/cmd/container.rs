//! `nspawn-netd container create|list|start|stop|shell|remove`: containers
//! that boot straight onto the bridge nspawn-netd serves.
//!
//! The work inside the rootfs is `netd-container`'s; this module checks the
//! user's request, talks to the user, and starts and stops containers
//! through `machinectl` where systemd-machined runs, through
//! `systemd-nspawn` directly otherwise.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

mod create;
mod lifecycle;
mod list;
mod remove;

pub use create::CreateArgs;
pub use list::ListArgs;

#[derive(Debug, Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    pub command: ContainerCommand,
    #[command(flatten)]
    pub dirs: Dirs,
}

/// Where machines, their settings and their run state live. Overridable so
/// that tests never touch the host's own.
#[derive(Debug, Clone, Args)]
pub struct Dirs {
    /// The machines directory (systemd's tools look for machines here).
    #[arg(
        long,
        global = true,
        hide = true,
        env = "NSPAWN_NETD_MACHINES_DIR",
        default_value = "/var/lib/machines"
    )]
    pub machines_dir: PathBuf,
    /// Where `.nspawn` settings files go.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "NSPAWN_NETD_NSPAWN_DIR",
        default_value = "/etc/systemd/nspawn"
    )]
    pub nspawn_dir: PathBuf,
    /// Pid and console-log files of containers started without machined.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "NSPAWN_NETD_RUN_DIR",
        default_value = "/run/nspawn-netd/containers"
    )]
    pub run_dir: PathBuf,
}

impl Dirs {
    fn nspawn_file(&self, name: &str) -> PathBuf {
        self.nspawn_dir.join(format!("{name}.nspawn"))
    }
    fn pid_file(&self, name: &str) -> PathBuf {
        self.run_dir.join(format!("{name}.pid"))
    }
    fn console_log(&self, name: &str) -> PathBuf {
        self.run_dir.join(format!("{name}.console.log"))
    }
}

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Bootstrap a new container, networked on the bridge from its first boot.
    Create(CreateArgs),
    /// The machines, with distribution, bridge, state and leased address.
    List(ListArgs),
    /// Boot a container in the background.
    Start(NameArgs),
    /// Shut a container down cleanly.
    Stop(StopArgs),
    /// A root shell (or COMMAND) inside a running container.
    Shell(ShellArgs),
    /// Delete a container's rootfs and `.nspawn` file.
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct NameArgs {
    pub name: String,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    pub name: String,
    /// Seconds to wait for a clean shutdown before killing it.
    #[arg(long, default_value_t = 90)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    pub name: String,
    /// Run this instead of a login shell.
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub name: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn run(args: ContainerArgs) -> anyhow::Result<()> {
    let dirs = &args.dirs;
    match args.command {
        ContainerCommand::Create(a) => create::run(dirs, a),
        ContainerCommand::List(a) => list::run(dirs, a),
        ContainerCommand::Start(a) => lifecycle::start(dirs, &a.name),
        ContainerCommand::Stop(a) => lifecycle::stop(dirs, &a.name, a.timeout),
        ContainerCommand::Shell(a) => lifecycle::shell(dirs, &a.name, &a.command),
        ContainerCommand::Remove(a) => remove::run(dirs, &a.name, a.yes),
    }
}

fn require_root(what: &str) -> anyhow::Result<()> {
    if !netd_container::sys::is_root() {
        bail!("{what} needs root (run it with sudo)");
    }
    Ok(())
}

/// The rootfs of an existing machine `name`, or a clear error.
fn existing_machine(dirs: &Dirs, name: &str) -> anyhow::Result<netd_container::machines::Machine> {
    netd_container::name::validate_machine_name(name)?;
    let link = dirs.machines_dir.join(name);
    if !link.is_dir() {
        bail!("no machine {name} in {}", dirs.machines_dir.display());
    }
    Ok(netd_container::machines::machine(
        &dirs.machines_dir,
        &dirs.nspawn_dir,
        name,
    ))
}

/// Whether systemd-machined can manage containers here: PID 1 is systemd
/// (`/run/systemd/system` exists, as `sd_booted()` checks) and
/// `machinectl` is installed.
fn machined_available() -> bool {
    Path::new("/run/systemd/system").is_dir() && find_in_path("machinectl").is_some()
}

/// `program`'s path when it is an executable in `PATH`.
fn find_in_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Asks a yes/no question on stderr, reads the answer from stdin.
fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
