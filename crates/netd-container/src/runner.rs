//! Runs the bootstrap tool: its output goes line by line to a log file and
//! through a [`ProgressTracker`]; a cancellation flag (set by the caller's
//! SIGINT handler) stops it. The tool runs in its own process group so that
//! it and its children (dpkg, wget) are stopped together, by us.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::distro::BootstrapPlan;
use crate::progress::{Progress, ProgressTracker};

/// Lines of the log kept to show when the tool fails.
pub const TAIL_LINES: usize = 25;
/// How long the tool gets to clean up after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);
/// How often the cancellation flag is looked at.
const POLL: Duration = Duration::from_millis(100);

/// The bootstrap did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("log file {path}: {source}")]
    Log { path: PathBuf, source: io::Error },
    #[error("{program} failed ({status}); full log: {log}")]
    Failed {
        program: String,
        status: ExitStatus,
        log: PathBuf,
        /// The last lines of its output.
        tail: Vec<String>,
    },
    #[error("interrupted")]
    Cancelled,
}

/// Runs `plan`, writing all output to `log` and calling `report` with each
/// notable [`Progress`] and the time since the start.
pub fn run_bootstrap(
    plan: &BootstrapPlan,
    log: &Path,
    cancel: &AtomicBool,
    mut report: impl FnMut(&Progress, Duration),
) -> Result<(), RunError> {
    let log_err = |source| RunError::Log {
        path: log.to_owned(),
        source,
    };
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent).map_err(log_err)?;
    }
    let mut log_file = File::create(log).map_err(log_err)?;
    writeln!(log_file, "$ {} {}", plan.program, shell_words(&plan.args)).map_err(log_err)?;

    let start = Instant::now();
    let mut child = Command::new(&plan.program)
        .args(&plan.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .env("LC_ALL", "C.UTF-8")
        .spawn()
        .map_err(|source| RunError::Spawn {
            program: plan.program.clone(),
            source,
        })?;
    let (tx, rx) = mpsc::channel::<String>();
    let readers = [
        child.stdout.take().map(|s| forward_lines(s, tx.clone())),
        child.stderr.take().map(|s| forward_lines(s, tx.clone())),
    ];
    drop(tx);

    let mut tracker = ProgressTracker::default();
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    let mut cancelled = false;
    loop {
        if cancel.load(Ordering::SeqCst) && !cancelled {
            cancelled = true;
            terminate_group(&mut child);
        }
        match rx.recv_timeout(POLL) {
            Ok(line) => {
                writeln!(log_file, "{line}").map_err(log_err)?;
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                let progress = tracker.line(&line);
                tail.push_back(line);
                if !matches!(progress, Progress::Other | Progress::Item) {
                    report(&progress, start.elapsed());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for reader in readers.into_iter().flatten() {
        let _ = reader.join();
    }
    let status = child.wait().map_err(log_err)?;
    let _ = writeln!(
        log_file,
        "# {} after {:.1}s",
        status,
        start.elapsed().as_secs_f64()
    );
    if cancelled {
        return Err(RunError::Cancelled);
    }
    if !status.success() {
        return Err(RunError::Failed {
            program: plan.program.clone(),
            status,
            log: log.to_owned(),
            tail: tail.into(),
        });
    }
    Ok(())
}

fn forward_lines(
    stream: impl Read + Send + 'static,
    tx: mpsc::Sender<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf).trim_end().to_owned())
                    .is_err()
            {
                break;
            }
            buf.clear();
        }
    })
}

/// SIGTERM to the tool's process group, SIGKILL after [`TERM_GRACE`].
fn terminate_group(child: &mut std::process::Child) {
    let pgid = child.id() as libc::pid_t;
    // SAFETY: plain syscalls on the process group we created.
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let deadline = Instant::now() + TERM_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(POLL);
    }
    // Whatever is left of the group (the tool may have exited and left
    // children behind).
    // SAFETY: as above.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
}

fn shell_words(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
