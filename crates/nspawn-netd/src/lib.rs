//! The `nspawn-netd` command line.
//!
//! Without a subcommand it is the daemon (DHCPv4, DNS, RA, DHCPv6 on one
//! interface), configured by dnsmasq's long options, by the same options in a
//! TOML file (`--config`), or both. Subcommands do the other jobs.
//!
//! This crate parses, validates and wires things together; the protocols live
//! in `netd-core`, host network setup in `netd-bridge`, container bootstrap in
//! `netd-container`.

use std::process::ExitCode;

use clap::Parser;

pub mod cli;
pub mod cmd;
pub mod config_file;
pub mod daemon;
pub mod dhcp_host;
pub mod dhcp_range;
pub mod ipv6_range;
pub mod logging;

use cli::{Cli, Command};

/// Parses the process's arguments and runs what they ask for.
pub fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let argv = match config_file::expand_config_args(argv) {
        Ok(argv) => argv,
        Err(err) => {
            eprintln!("nspawn-netd: {err:#}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(argv);
    let result = match cli.command {
        None => run_daemon(cli.daemon),
        Some(command) => run_command(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("nspawn-netd: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_daemon(args: cli::DaemonArgs) -> anyhow::Result<()> {
    logging::init(&args.common);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(daemon::run(args))
}

fn run_command(command: Command) -> anyhow::Result<()> {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match command {
        Command::Up(args) => {
            logging::init(&args.daemon.common);
            runtime()?.block_on(cmd::up::run(*args))
        }
        Command::Down(args) => {
            logging::init(&cli::CommonArgs::default());
            runtime()?.block_on(cmd::down::run(args))
        }
        Command::Doctor(args) => {
            logging::init(&cli::CommonArgs::default());
            runtime()?.block_on(cmd::doctor::run(args))
        }
        Command::Ra(args) => cmd::ra::run(args),
        Command::Container(args) => cmd::container::run(args),
    }
}
