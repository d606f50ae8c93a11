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
}

/// Writes in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Direct;

impl FileWriter for Direct {
    fn replace(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        replace(path, bytes)
    }
}
