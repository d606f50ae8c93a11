//! dnsmasq's way of going into the background: the process forks, the child
//! starts a new session and forks again, and the grandchild becomes the
//! daemon. The original process waits on a pipe and exits only when the
//! daemon reports: 0 once it serves (sockets bound, pid file written,
//! privileges dropped), or the daemon's own exit code after printing its
//! error. Callers such as lxc-net and libvirt wait for exactly this.
//!
//! The report is one line: `OK`, or `ERR <code> <message>`. A daemon that
//! dies without reporting closes the pipe; the parent then exits 5.

use std::io::{self, BufRead, BufReader, PipeWriter, Write};

use super::require_one_thread;
use crate::sys::process as sys;

/// Exit code when the daemon died before it could say why.
const DIED: i32 = 5;

/// The daemon's end of the start-up report.
#[derive(Debug)]
pub struct Startup {
    pipe: Option<PipeWriter>,
}

impl Startup {
    /// In front (`-k`, `-d`): nobody waits for a report.
    pub fn foreground() -> Startup {
        Startup { pipe: None }
    }

    /// Whether a parent waits (the process forked).
    pub fn forked(&self) -> bool {
        self.pipe.is_some()
    }

    /// The daemon serves: the parent exits 0.
    pub fn ready(&mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(b"OK\n");
        }
    }

    /// Start-up failed: the parent prints `message` and exits with `code`.
    pub fn failed(&mut self, code: i32, message: &str) {
        if let Some(mut p) = self.pipe.take() {
            let one_line = message.replace('\n', " ");
            let _ = p.write_all(format!("ERR {code} {one_line}\n").as_bytes());
        }
    }
}

/// Forks into the background. Returns in the daemon; the original process
/// never returns from here: it exits with the daemon's report.
pub fn daemonize() -> io::Result<Startup> {
    require_one_thread("fork into the background")?;
    let (reader, writer) = io::pipe()?;
    match sys::fork()? {
        Some(child) => {
            drop(writer);
            let code = wait_for_report(reader);
            let _ = sys::wait(child);
            std::process::exit(code);
        }
        None => {
            drop(reader);
            sys::setsid()?;
            if sys::fork()?.is_some() {
                // The session leader leaves; its child can never regain a
                // controlling terminal.
                sys::exit_now(0);
            }
            std::env::set_current_dir("/")?;
            Ok(Startup { pipe: Some(writer) })
        }
    }
}

/// Reads the daemon's report and prints its error; returns the exit code.
fn wait_for_report(reader: io::PipeReader) -> i32 {
    let mut line = String::new();
    if BufReader::new(reader).read_line(&mut line).unwrap_or(0) == 0 {
        eprintln!("the daemon exited during start-up without saying why");
        return DIED;
    }
    let line = line.trim_end();
    if line == "OK" {
        return 0;
    }
    let rest = line.strip_prefix("ERR ").unwrap_or(line);
    let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
    eprintln!("{message}");
    code.parse().unwrap_or(DIED)
}
