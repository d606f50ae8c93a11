//! Replacing a file crash-safely, as the lease store and the pid file need
//! it: [`replace`] is `netd_bridge::atomic_file::replace` (temporary file
//! created `O_EXCL|O_NOFOLLOW`, fsync, rename, fsync of the directory),
//! the workspace's one implementation.
//!
//! [`FileWriter`] is how the lease store writes: [`Direct`] here, or through
//! the privileged helper once the daemon runs as an unprivileged user
//! (`crate::process`).

use std::io;
use std::path::Path;

pub use netd_bridge::atomic_file::replace;

/// Writes whole files crash-safely.
pub trait FileWriter: Send + Sync + std::fmt::Debug {
    fn replace(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;

    /// The control socket is bound: whoever removes files when the daemon
    /// is gone removes that very socket then, and no other a later daemon
    /// made at the same path. Nothing to do when writing in this process.
    fn control_socket_bound(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Direct;

impl FileWriter for Direct {
    fn replace(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        replace(path, bytes)
    }
}
