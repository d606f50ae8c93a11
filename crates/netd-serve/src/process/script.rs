//! The lease-change script runner (`--dhcp-script`): a process forked
//! with the privileged helper, before the daemon gives up root, that runs
//! the script as the user that started the daemon, as dnsmasq does. It
//! takes only two requests over a socket pair, and the script's path is
//! fixed at fork:
//!
//! - `R` + arguments and environment: run the script once, wait for it
//!   (at most [`SCRIPT_TIMEOUT`], then kill it) and answer how it ended,
//!   with what it printed;
//! - `I`: run `SCRIPT init` and answer what it printed on stdout (the
//!   leases, in lease-file format, for `--leasefile-ro`).
//!
//! One script runs at a time, in the order asked. A request is a kind
//! byte, a 4-byte big-endian length and the bytes; an answer is `0` (the
//! script succeeded) or `1` (it failed, was killed or could not start), a
//! 4-byte length and the text. The daemon queues its requests in a task of
//! its own, so no DHCP reply waits for a script.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::require_one_thread;
use crate::sys::process as sys;

/// How long one run of the script may take before it is killed.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// What is kept of a script's output (an `init` may print many leases).
const MAX_OUTPUT: usize = 16 << 20;
const MAX_REQUEST: u32 = 1 << 20;
const RUN: u8 = b'R';
const INIT: u8 = b'I';

/// One run's arguments (after the script's path) and added environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptCall {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOutcome {
    pub success: bool,
    /// "exited with status 1", "killed after 30 s", ...; empty on success.
    pub status: String,
    /// stdout then stderr, as the script printed them.
    pub output: Vec<u8>,
}

/// Runs `script` with `call`, stdin on /dev/null, killing it after
/// `timeout`.
pub fn run_script(script: &Path, call: &ScriptCall, timeout: Duration) -> ScriptOutcome {
    let spawned = Command::new(script)
        .args(&call.args)
        .envs(call.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return ScriptOutcome {
                success: false,
                status: format!("could not start: {e}"),
                output: Vec::new(),
            };
        }
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(MAX_OUTPUT as u64).read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // A killed script's children may hold the pipes open: do not wait for
    // them then.
    let mut output = Vec::new();
    if status.is_some() {
        output = stdout.join().unwrap_or_default();
        output.extend(stderr.join().unwrap_or_default());
    }
    match status {
        Some(s) if s.success() => ScriptOutcome {
            success: true,
            status: String::new(),
            output,
        },
        Some(s) => ScriptOutcome {
            success: false,
            status: format!("ended with {s}"),
            output,
        },
        None => ScriptOutcome {
            success: false,
            status: format!("killed after {} s", timeout.as_secs()),
            output,
        },
    }
}

/// The daemon's end of the runner.
#[derive(Debug)]
pub struct ScriptRunner {
    stream: UnixStream,
    pub script: PathBuf,
}

impl ScriptRunner {
    /// Forks the runner. Must run while the process has one thread.
    pub fn spawn(script: PathBuf) -> io::Result<ScriptRunner> {
        require_one_thread("start the script runner")?;
        let (ours, theirs) = UnixStream::pair()?;
        match sys::fork()? {
            Some(_) => {
                drop(theirs);
                Ok(ScriptRunner {
                    stream: ours,
                    script,
                })
            }
            None => {
                drop(ours);
                let _ = sys::stdio_to_dev_null();
                let _ = sys::dup2(theirs.as_raw_fd(), 3);
                let _ = sys::close_from(4);
                let code = match serve(sys::adopt_stream(3), &script) {
                    Ok(()) => 0,
                    Err(_) => 1,
                };
                sys::exit_now(code)
            }
        }
    }

    /// `SCRIPT init`, blocking: what it printed, or why it failed.
    pub fn init(&mut self) -> io::Result<Vec<u8>> {
        let (ok, text) = exchange(&mut self.stream, INIT, &[])?;
        if ok {
            Ok(text)
        } else {
            Err(io::Error::other(
                String::from_utf8_lossy(&text).into_owned(),
            ))
        }
    }

    /// Runs one call, blocking.
    pub fn run(&mut self, call: &ScriptCall) -> io::Result<(bool, String)> {
        let (ok, text) = exchange(&mut self.stream, RUN, &encode(call))?;
        Ok((ok, String::from_utf8_lossy(&text).into_owned()))
    }
}

fn exchange(stream: &mut UnixStream, kind: u8, body: &[u8]) -> io::Result<(bool, Vec<u8>)> {
    let len = u32::try_from(body.len()).map_err(|_| io::Error::other("request too large"))?;
    let mut request = vec![kind];
    request.extend_from_slice(&len.to_be_bytes());
    request.extend_from_slice(body);
    stream.write_all(&request)?;
    let mut head = [0u8; 5];
    stream.read_exact(&mut head)?;
    let n = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut text = vec![0u8; n.min(MAX_OUTPUT + 4096)];
    stream.read_exact(&mut text)?;
    Ok((head[0] == 0, text))
}

/// Strings as a count, then each as a 4-byte length and its bytes.
fn encode(call: &ScriptCall) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |s: &str| {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    put(&call.args.len().to_string());
    for a in &call.args {
        put(a);
    }
    for (k, v) in &call.env {
        put(k);
        put(v);
    }
    out
}

fn decode(mut b: &[u8]) -> Option<ScriptCall> {
    let mut next = || -> Option<String> {
        let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
        let s = String::from_utf8(b.get(4..4 + n)?.to_vec()).ok()?;
        b = &b[4 + n..];
        Some(s)
    };
    let count: usize = next()?.parse().ok()?;
    let mut call = ScriptCall::default();
    for _ in 0..count {
        call.args.push(next()?);
    }
    while let Some(k) = next() {
        call.env.push((k, next()?));
    }
    Some(call)
}

/// The runner's loop: one request at a time until the daemon's end closes.
fn serve(mut stream: UnixStream, script: &Path) -> io::Result<()> {
    loop {
        let Some((kind, body)) = super::read_request(&mut stream, MAX_REQUEST)? else {
            return Ok(());
        };
        let (ok, text) = match kind {
            INIT => {
                let call = ScriptCall {
                    args: vec!["init".into()],
                    env: Vec::new(),
                };
                let o = run_script(script, &call, SCRIPT_TIMEOUT);
                if o.success {
                    (true, o.output)
                } else {
                    (false, o.status.into_bytes())
                }
            }
            RUN => match decode(&body) {
                Some(call) => {
                    let o = run_script(script, &call, SCRIPT_TIMEOUT);
                    let mut text = o.status.into_bytes();
                    if !o.output.is_empty() {
                        if !text.is_empty() {
                            text.extend_from_slice(b"; ");
                        }
                        text.extend_from_slice(&o.output[..o.output.len().min(4096)]);
                    }
                    (o.success, text)
                }
                None => (false, b"malformed request".to_vec()),
            },
            other => (false, format!("unknown request {other}").into_bytes()),
        };
        let mut answer = vec![u8::from(!ok)];
        answer.extend_from_slice(&(text.len() as u32).to_be_bytes());
        answer.extend_from_slice(&text);
        stream.write_all(&answer)?;
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("script");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn a_call_round_trips_through_the_wire_form() {
        let call = ScriptCall {
            args: vec!["add".into(), "52:54:00:00:00:01".into(), String::new()],
            env: vec![("DNSMASQ_TAGS".into(), "a b".into())],
        };
        assert_eq!(decode(&encode(&call)), Some(call));
        assert_eq!(decode(&[0, 0, 0, 9]), None);
    }

    #[test]
    fn arguments_and_environment_reach_the_script_and_failures_say_how() {
        let dir = tempfile::tempdir().unwrap();
        let s = script(dir.path(), "echo \"$1 $2 $DNSMASQ_X\"; exit 3");
        let call = ScriptCall {
            args: vec!["add".into(), "mac".into()],
            env: vec![("DNSMASQ_X".into(), "y".into())],
        };
        let o = run_script(&s, &call, Duration::from_secs(5));
        assert!(!o.success);
        assert!(o.status.contains('3'), "{}", o.status);
        assert_eq!(o.output, b"add mac y\n");
        let missing = run_script(&dir.path().join("none"), &call, Duration::from_secs(5));
        assert!(missing.status.starts_with("could not start"), "{missing:?}");
    }

    #[test]
    fn a_hanging_script_is_killed_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let s = script(dir.path(), "exec sleep 30");
        let started = Instant::now();
        let o = run_script(&s, &ScriptCall::default(), Duration::from_millis(200));
        assert!(!o.success);
        assert!(o.status.contains("killed"), "{}", o.status);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
