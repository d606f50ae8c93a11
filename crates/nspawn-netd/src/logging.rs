//! Logging: `RUST_LOG` when set, else `info`, raised to `debug` for DHCP or
//! DNS by dnsmasq's `--log-dhcp` and `--log-queries`; routine lease events
//! lowered by `--quiet-dhcp`, `--quiet-dhcp6`, `--quiet-ra`.
//!
//! Where to ([`LogTarget`]): stderr (colour only on a terminal), a file
//! (reopened on SIGUSR2, after logrotate moved it) or syslog (`/dev/log`,
//! as dnsmasq logs when it forks; lines dropped when no syslog daemon
//! listens, as dnsmasq's are).
//!
//! Under systemd, stderr is the journal (`JOURNAL_STREAM` names it): the
//! daemon then logs to the journal natively ([`journal`]), each event's
//! fields (`MAC`, `IP`, `NAME`, `SERVICE`, `INTERFACE`...) as journal
//! fields; when the journal's socket cannot be opened, plain lines without
//! a timestamp of their own (the journal stamps them).

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

mod journal;

use crate::settings::{LogSettings, LogTarget, syslog_facility};

/// What the daemon keeps of its logging: the file to reopen on SIGUSR2.
#[derive(Debug, Clone, Default)]
pub struct LogHandle {
    file: Option<Arc<Reopenable>>,
}

impl LogHandle {
    /// Reopens the log file (SIGUSR2); nothing for stderr and syslog.
    pub fn reopen(&self) -> io::Result<()> {
        match &self.file {
            Some(f) => f.reopen(),
            None => Ok(()),
        }
    }

    /// The open log file, to hand to the service user before the switch.
    pub fn file(&self) -> Option<File> {
        let f = self.file.as_ref()?;
        let guard = f.file.lock().unwrap_or_else(|e| e.into_inner());
        guard.try_clone().ok()
    }
}

fn filter(log: &LogSettings) -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let mut add = |d: &str| {
        filter = std::mem::take(&mut filter).add_directive(d.parse().expect("static directive"));
    };
    if log.log_dhcp {
        for d in [
            "netd_serve::dhcp4=debug",
            "netd_proto::dhcp4=debug",
            "netd_serve::dhcp6=debug",
            "netd_proto::dhcp6=debug",
        ] {
            add(d);
        }
    } else if log.quiet_dhcp {
        add("netd_serve::dhcp4::shell=warn");
    }
    if log.quiet_dhcp6 && !log.log_dhcp {
        add("netd_serve::dhcp6=warn");
    }
    if log.quiet_ra {
        add("netd_serve::ra=warn");
    }
    if log.log_queries {
        add("netd_serve::dns=debug");
        add("netd_proto::dns=debug");
    }
    filter
}

/// Installs the global subscriber. Safe to call once; later calls do
/// nothing.
pub fn init(log: &LogSettings) -> io::Result<LogHandle> {
    let filter = filter(log);
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match &log.target {
        LogTarget::Stderr if journal::stderr_is_journal() => {
            match tracing_journald::layer() {
                Ok(layer) => {
                    let _ = tracing_subscriber::registry()
                        .with(self::filter(log))
                        .with(layer.with_field_prefix(None))
                        .try_init();
                }
                Err(_) => {
                    let _ = builder
                        .with_ansi(false)
                        .without_time()
                        .with_writer(io::stderr)
                        .try_init();
                }
            }
            Ok(LogHandle::default())
        }
        LogTarget::Stderr => {
            let _ = builder
                .with_ansi(io::stderr().is_terminal())
                .with_writer(io::stderr)
                .try_init();
            Ok(LogHandle::default())
        }
        LogTarget::File(path) => {
            let file = Arc::new(Reopenable::open(path)?);
            let _ = builder
                .with_ansi(false)
                .with_writer(file.clone())
                .try_init();
            Ok(LogHandle { file: Some(file) })
        }
        LogTarget::Syslog(facility) => {
            let code = syslog_facility(facility).unwrap_or(3);
            let _ = builder
                .with_ansi(false)
                .without_time()
                .with_target(false)
                .with_level(false)
                .with_writer(Syslog::new(code))
                .try_init();
            Ok(LogHandle::default())
        }
    }
}

/// A log file that can be reopened at the same path.
#[derive(Debug)]
struct Reopenable {
    path: PathBuf,
    file: Mutex<File>,
}

impl Reopenable {
    fn open(path: &Path) -> io::Result<Reopenable> {
        Ok(Reopenable {
            path: path.to_owned(),
            file: Mutex::new(append(path)?),
        })
    }

    fn reopen(&self) -> io::Result<()> {
        let fresh = append(&self.path)?;
        *self.file.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Write for &Reopenable {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// RFC 3164 datagrams to `/dev/log`: `<PRI>nspawn-netd[PID]: message`.
struct Syslog {
    facility: u8,
    ident: String,
    socket: Option<UnixDatagram>,
}

impl Syslog {
    fn new(facility: u8) -> Syslog {
        let socket = UnixDatagram::unbound()
            .and_then(|s| s.connect("/dev/log").map(|()| s))
            .ok();
        let name = std::env::args_os()
            .next()
            .and_then(|a| {
                Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "nspawn-netd".into());
        Syslog {
            facility,
            ident: name,
            socket,
        }
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = SyslogLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        SyslogLine {
            syslog: self,
            severity: 6,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        let severity = match *meta.level() {
            tracing::Level::ERROR => 3,
            tracing::Level::WARN => 4,
            tracing::Level::INFO => 6,
            _ => 7,
        };
        SyslogLine {
            syslog: self,
            severity,
            buf: Vec::new(),
        }
    }
}

/// One event, sent as one datagram when dropped.
struct SyslogLine<'a> {
    syslog: &'a Syslog,
    severity: u8,
    buf: Vec<u8>,
}

impl Write for SyslogLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine<'_> {
    fn drop(&mut self) {
        let Some(socket) = &self.syslog.socket else {
            return;
        };
        let text = String::from_utf8_lossy(&self.buf);
        let pri = u16::from(self.syslog.facility) * 8 + u16::from(self.severity);
        let msg = format!(
            "<{pri}>{}[{}]: {}",
            self.syslog.ident,
            std::process::id(),
            text.trim_end()
        );
        let _ = socket.send(msg.as_bytes());
    }
}

/// For the subcommands: stderr, `info` unless `RUST_LOG` says otherwise.
pub fn init_stderr() {
    let log = LogSettings {
        target: LogTarget::Stderr,
        log_dhcp: false,
        log_queries: false,
        quiet_dhcp: false,
        quiet_dhcp6: false,
        quiet_ra: false,
    };
    let _ = init(&log);
}
