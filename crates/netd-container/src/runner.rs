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
use crate::sys::{self, Signal};

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
/// [`Progress`] but `Other`, and the time since the start.
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
                if progress != Progress::Other {
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
    // The group was made with the child as its leader: its id is the pid.
    let pgid = child.id();
    let _ = sys::signal_process_group(pgid, Signal::Term);
    let deadline = Instant::now() + TERM_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(POLL);
    }
    // Whatever is left of the group (the tool may have exited and left
    // children behind).
    let _ = sys::signal_process_group(pgid, Signal::Kill);
}

fn shell_words(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::Distro;
    use crate::progress::Phase;

    fn sh(script: &str) -> BootstrapPlan {
        BootstrapPlan {
            distro: Distro::Debian,
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    }

    #[test]
    fn output_is_logged_and_phases_reported() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sub/log");
        let mut seen = Vec::new();
        let plan = sh(
            "echo 'I: Retrieving adduser 3.134'; echo 'W: odd' >&2; echo 'I: Base system installed successfully.'",
        );
        run_bootstrap(&plan, &log, &AtomicBool::new(false), |p, _| {
            seen.push(p.clone())
        })
        .unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
        // stdout and stderr are read apart: only stdout's order is kept.
        let done = seen.iter().position(|p| {
            matches!(
                p,
                Progress::PhaseChanged {
                    phase: Phase::Done,
                    ..
                }
            )
        });
        let retrieving = seen.iter().position(|p| {
            matches!(
                p,
                Progress::PhaseChanged {
                    phase: Phase::Retrieving,
                    ..
                }
            )
        });
        assert!(retrieving.unwrap() < done.unwrap(), "{seen:?}");
        assert!(
            seen.contains(&Progress::Message("W: odd".into())),
            "{seen:?}"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with("$ /bin/sh -c "), "{text}");
        assert!(
            text.contains("I: Retrieving adduser 3.134\n") && text.contains("W: odd\n"),
            "{text}"
        );
    }

    #[test]
    fn a_failure_carries_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let plan = sh("i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); done; exit 3");
        match run_bootstrap(&plan, &log, &AtomicBool::new(false), |_, _| {}) {
            Err(RunError::Failed { status, tail, .. }) => {
                assert_eq!(status.code(), Some(3));
                assert_eq!(tail.len(), TAIL_LINES);
                assert_eq!(tail.last().map(String::as_str), Some("line 39"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cancelling_stops_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let pid_file = dir.path().join("grandchild");
        // The tool's own child must go too.
        let plan = sh(&format!(
            "sleep 60 & echo $! > {}; wait",
            pid_file.display()
        ));
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                while !pid_file.exists() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                cancel.store(true, Ordering::SeqCst);
            });
            run_bootstrap(&plan, &log, &cancel, |_, _| {})
        });
        assert!(matches!(result, Err(RunError::Cancelled)), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(30));
        // SIGKILL was sent to the group; its delivery takes a moment.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat =
            || std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(stat().is_empty() || stat().contains(") Z ")) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let stat = stat();
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "the tool's child survived: {stat}"
        );
    }

    #[test]
    fn a_missing_tool_is_a_spawn_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut plan = sh("");
        plan.program = "/nonexistent/debootstrap".into();
        let err = run_bootstrap(
            &plan,
            &dir.path().join("log"),
            &AtomicBool::new(false),
            |_, _| {},
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/debootstrap"),
            "{err}"
        );
    }
}
