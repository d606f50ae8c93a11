//! The signals the daemon and the foreground subcommands act on, installed
//! in one place before any service starts, so a signal right after
//! "ready" is never lost or fatal.
//!
//! - SIGTERM, SIGINT: stop (after a bounded drain);
//! - SIGHUP: re-read hosts files and the resolv file, clear the cache;
//! - SIGUSR1: log statistics, as dnsmasq does;
//! - SIGUSR2: reopen the log file (after logrotate moved it).

use anyhow::Context;
use tokio::signal::unix::{Signal as Stream, SignalKind, signal};

/// What a received signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Interrupt,
    Reload,
    Statistics,
    ReopenLog,
}

#[derive(Debug)]
pub struct Signals {
    term: Stream,
    int: Stream,
    hup: Stream,
    usr1: Stream,
    usr2: Stream,
}

impl Signals {
    /// Installs the handlers. Must run inside the tokio runtime.
    pub fn install() -> anyhow::Result<Signals> {
        let on = |kind: SignalKind, name: &str| {
            signal(kind).with_context(|| format!("installing the {name} handler"))
        };
        Ok(Signals {
            term: on(SignalKind::terminate(), "SIGTERM")?,
            int: on(SignalKind::interrupt(), "SIGINT")?,
            hup: on(SignalKind::hangup(), "SIGHUP")?,
            usr1: on(SignalKind::user_defined1(), "SIGUSR1")?,
            usr2: on(SignalKind::user_defined2(), "SIGUSR2")?,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Terminate,
            _ = self.int.recv() => Signal::Interrupt,
            _ = self.hup.recv() => Signal::Reload,
            _ = self.usr1.recv() => Signal::Statistics,
            _ = self.usr2.recv() => Signal::ReopenLog,
        }
    }

    /// Waits for SIGTERM or SIGINT, ignoring the others.
    pub async fn stop(&mut self) -> Signal {
        loop {
            match self.next().await {
                s @ (Signal::Terminate | Signal::Interrupt) => return s,
                _ => continue,
            }
        }
    }
}
