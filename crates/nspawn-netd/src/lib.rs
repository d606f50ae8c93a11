//! The `nspawn-netd` command line.
//!
//! Without a subcommand it is the daemon (DHCPv4, DNS, RA, DHCPv6 on one
//! interface), configured by dnsmasq's options on the command line, in
//! dnsmasq-style files or in a TOML file (`--config`). Run as `dnsmasq`
//! (a link, or a bind mount over `/usr/sbin/dnsmasq`) it behaves as
//! dnsmasq toward its callers: `--version`, `/etc/dnsmasq.conf`, forking,
//! exit codes. Subcommands do the other jobs.
//!
//! This crate parses ([`settings`]), validates and wires things together;
//! the protocols live in `netd-proto`, their shells in `netd-serve`, host
//! network setup in `netd-bridge`, container bootstrap in `netd-container`.
//!
//! No `unsafe` here: system calls go through the safe wrappers of
//! `netd-serve` and `netd-container` (their `sys` modules).

#![deny(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

pub mod cli;
pub mod cmd;
pub mod daemon;
pub mod exit;
pub mod logging;
pub mod settings;
pub mod signals;

use cli::Command;
use exit::{Code, Failure};
use settings::{Identity, SettingsError};

/// The dnsmasq version callers are told they run (libvirt wants
/// `Dnsmasq version X.Y`, LXD the third word).
pub const DNSMASQ_VERSION: &str = "2.90";

/// Parses the process's arguments and runs what they ask for.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let identity = Identity::of(argv.first().map(OsString::as_os_str));
    match run(argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}: {f}", identity.name());
            ExitCode::from(f.code as u8)
        }
    }
}

fn run(argv: Vec<OsString>) -> Result<(), Failure> {
    let mut loaded = match settings::load(argv) {
        Ok(l) => l,
        Err(SettingsError::Display(text)) => {
            print!("{text}");
            return Ok(());
        }
        Err(e) => return Err(Failure::new(Code::Config, e)),
    };
    let identity = loaded.identity;
    if loaded.cli.version {
        print!("{}", version_text(identity));
        return Ok(());
    }
    match loaded.cli.command.take() {
        None => {
            let settings = loaded
                .daemon_settings(&loaded.cli.daemon)
                .map_err(|e| Failure::new(Code::Config, e))?;
            if loaded.cli.daemon.common.test {
                println!("{}: syntax check OK.", identity.name());
                return Ok(());
            }
            daemon::run(settings, identity)
        }
        Some(Command::Up(args)) => {
            let settings = loaded
                .daemon_settings(&args.daemon)
                .map_err(|e| Failure::new(Code::Config, e))?;
            logging::init_stderr();
            runtime()?.block_on(cmd::up::run(*args, settings))?;
            Ok(())
        }
        Some(Command::Down(args)) => {
            logging::init_stderr();
            runtime()?.block_on(cmd::down::run(args))?;
            Ok(())
        }
        Some(Command::Doctor(args)) => {
            logging::init_stderr();
            runtime()?.block_on(cmd::doctor::run(args))?;
            Ok(())
        }
        Some(Command::Ra(args)) => Ok(cmd::ra::run(args)?),
        Some(Command::Container(args)) => Ok(cmd::container::run(args)?),
        Some(Command::Status(args)) => Ok(cmd::status::status(args)?),
        Some(Command::Leases(args)) => Ok(cmd::status::leases(args)?),
        Some(Command::Completions(args)) => Ok(cmd::shell::completions(args)?),
        Some(Command::Man(args)) => Ok(cmd::shell::man(args)?),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other(anyhow::anyhow!("starting the runtime: {e}")))
}

/// `--version`: dnsmasq's first line when run as `dnsmasq`, naming what
/// really runs; our own otherwise.
pub fn version_text(identity: Identity) -> String {
    let ours = env!("CARGO_PKG_VERSION");
    match identity {
        Identity::Dnsmasq => format!(
            "Dnsmasq version {DNSMASQ_VERSION} (nspawn-netd {ours}, a drop-in replacement)\n\
             Compile time options: IPv6 GNU-getopt no-DBus no-UBus no-i18n no-IDN DHCP DHCPv6 \
             no-Lua TFTP-off no-conntrack ipset-off nftset-off auth-off no-DNSSEC loop-detect inotify dumpfile-off\n"
        ),
        Identity::NspawnNetd => format!("nspawn-netd {ours}\n"),
    }
}
