//! `nspawn-netd status` and `nspawn-netd leases`: ask the running daemon
//! of `--interface` over its control socket (`--control-dir`, as the daemon
//! was given it) and print a table ([`table`]) or, with `--json`, the
//! daemon's JSON as it sent it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use netd_serve::control::client;
use netd_serve::control::protocol::Request;
use netd_serve::control::{DEFAULT_DIR, socket_path};
use netd_serve::status::{Leases, Status};

use crate::cli::CONTROL_DIR_ENV;

pub mod table;

/// How long to wait for the daemon's answer.
const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The interface whose daemon to ask (one daemon serves one interface).
    #[arg(short = 'i', long, value_name = "IFACE", default_value = netd_bridge::defaults::BRIDGE)]
    pub interface: String,
    /// Where the daemon's control socket is: the daemon's --control-dir.
    #[arg(long, value_name = "DIR", env = CONTROL_DIR_ENV, default_value = DEFAULT_DIR)]
    pub control_dir: PathBuf,
    /// Print JSON for programs: the daemon's answer as it sent it.
    #[arg(long)]
    pub json: bool,
}

impl StatusArgs {
    fn socket(&self) -> PathBuf {
        socket_path(&self.control_dir, &self.interface)
    }
}

pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let (status, text): (Status, String) =
        client::ask_for(&args.socket(), Request::Status, TIMEOUT)?;
    if args.json {
        println!("{}", text.trim_end());
    } else {
        print!("{}", table::status(&status));
    }
    Ok(())
}

pub fn leases(args: StatusArgs) -> anyhow::Result<()> {
    let (leases, text): (Leases, String) =
        client::ask_for(&args.socket(), Request::Leases, TIMEOUT)?;
    if args.json {
        println!("{}", text.trim_end());
    } else {
        print!("{}", table::leases(&leases.leases, leases.time));
    }
    Ok(())
}
