//! The privileged helper, forked before the daemon gives up root. It keeps
//! the privileges that whole-file rewrites need (a crash-safe rewrite
//! creates and renames files in a directory such as `/var/lib/misc`, which
//! only root may write) and accepts only these requests from the daemon,
//! over a socket pair:
//!
//! - `W` + the lease file's new content: replace the configured
//!   dnsmasq-format lease file;
//! - `S` + a snapshot: replace the lease journal's snapshot beside it;
//! - `C`, empty: the daemon bound its control socket (at the path fixed at
//!   fork); the helper notes which file that is, to remove that one only.
//!
//! The paths are fixed when the helper starts, never sent. The journal's
//! appends need no helper: the daemon opened its slots before giving up
//! root and writes through those descriptors.
//!
//! Each request is a kind byte, a 4-byte big-endian length and the bytes;
//! the answer is `0` (done) or `1` + a 4-byte length + the error text.
//! When the daemon's end closes (it exited, or was killed with -9), the
//! helper removes the pid file and the control socket it noted, if there
//! are any (the service user may not delete in their root-owned
//! directories), and exits.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::require_one_thread;
use crate::atomic_file::{self, FileWriter};
use crate::sys::process as sys;

/// Requests larger than this are refused: a lease file of 50,000 leases is
/// about 4 MB, its snapshot about 2 MB.
const MAX_REQUEST: u32 = 64 << 20;
const WRITE_LEASES: u8 = b'W';
const WRITE_SNAPSHOT: u8 = b'S';
const CONTROL_BOUND: u8 = b'C';

/// What the helper may touch, fixed at fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperConfig {
    pub lease_file: PathBuf,
    /// The journal's snapshot (`JournalPaths::beside(lease_file)`).
    pub snapshot: PathBuf,
    pub pid_file: Option<PathBuf>,
    /// The control socket, when its path is known before the fork.
    pub control_socket: Option<PathBuf>,
}

/// The daemon's end.
#[derive(Debug)]
pub struct Helper {
    stream: Mutex<UnixStream>,
    lease_file: PathBuf,
    snapshot: PathBuf,
}

impl Helper {
    /// Forks the helper. Must run while the process has one thread.
    pub fn spawn(config: HelperConfig) -> io::Result<Helper> {
        require_one_thread("start the privileged helper")?;
        let (ours, theirs) = UnixStream::pair()?;
        match sys::fork()? {
            Some(_) => {
                drop(theirs);
                Ok(Helper {
                    stream: Mutex::new(ours),
                    lease_file: config.lease_file,
                    snapshot: config.snapshot,
                })
            }
            None => {
                drop(ours);
                // Keep only our end of the pair, and no terminal or pipe of
                // whoever started the daemon: a caller that reads the
                // daemon's output until it closes must not wait for us.
                let _ = sys::stdio_to_dev_null();
                let _ = sys::dup2(theirs.as_raw_fd(), 3);
                let _ = sys::close_from(4);
                let mut noted = None;
                let code = match serve(sys::adopt_stream(3), &config, &mut noted) {
                    Ok(()) => 0,
                    Err(_) => 1,
                };
                if let Some(pid_file) = &config.pid_file {
                    let _ = std::fs::remove_file(pid_file);
                }
                if let Some(socket) = &config.control_socket
                    && noted.is_some()
                    && file_id(socket) == noted
                {
                    let _ = std::fs::remove_file(socket);
                }
                sys::exit_now(code)
            }
        }
    }
}

/// The file at `path` as (device, inode), if there is one.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// The helper's loop: one request at a time until the daemon's end closes.
fn serve(
    mut stream: UnixStream,
    config: &HelperConfig,
    noted: &mut Option<(u64, u64)>,
) -> io::Result<()> {
    loop {
        let Some((kind, body)) = super::read_request(&mut stream, MAX_REQUEST)? else {
            return Ok(());
        };
        let result = match kind {
            WRITE_LEASES => atomic_file::replace(&config.lease_file, &body),
            CONTROL_BOUND => {
                *noted = config.control_socket.as_deref().and_then(file_id);
                Ok(())
            }
            WRITE_SNAPSHOT => atomic_file::replace(&config.snapshot, &body),
            other => Err(io::Error::other(format!("unknown request {other}"))),
        };
        match result {
            Ok(()) => stream.write_all(&[0])?,
            Err(e) => {
                let text = e.to_string();
                let mut answer = vec![1];
                answer.extend_from_slice(&(text.len() as u32).to_be_bytes());
                answer.extend_from_slice(text.as_bytes());
                stream.write_all(&answer)?;
            }
        }
    }
}

impl FileWriter for Helper {
    /// Asks the helper to replace the lease file or the snapshot: only the
    /// two files the helper was started with can be written.
    fn replace(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let kind = if path == self.lease_file {
            WRITE_LEASES
        } else if path == self.snapshot {
            WRITE_SNAPSHOT
        } else {
            return Err(io::Error::other(format!(
                "the privileged helper writes only {} and {}",
                self.lease_file.display(),
                self.snapshot.display()
            )));
        };
        self.request(kind, bytes)
    }

    /// Tells the helper the control socket now exists, so it removes that
    /// file when the daemon is gone.
    fn control_socket_bound(&self) -> io::Result<()> {
        self.request(CONTROL_BOUND, &[])
    }
}

impl Helper {
    /// Sends one request and reads its answer.
    fn request(&self, kind: u8, bytes: &[u8]) -> io::Result<()> {
        let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("request too large"))?;
        let mut stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = Vec::with_capacity(5 + bytes.len());
        request.push(kind);
        request.extend_from_slice(&len.to_be_bytes());
        request.extend_from_slice(bytes);
        stream.write_all(&request)?;
        let mut status = [0u8; 1];
        stream.read_exact(&mut status)?;
        if status[0] == 0 {
            return Ok(());
        }
        let mut n = [0u8; 4];
        stream.read_exact(&mut n)?;
        let mut text = vec![0u8; u32::from_be_bytes(n).min(4096) as usize];
        stream.read_exact(&mut text)?;
        Err(io::Error::other(format!(
            "the privileged helper: {}",
            String::from_utf8_lossy(&text)
        )))
    }
}
