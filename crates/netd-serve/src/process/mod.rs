//! The process model dnsmasq's callers expect, and least privilege:
//!
//! - [`daemonize`]: fork into the background; the parent returns to its
//!   caller only once the daemon serves, or with the daemon's error and
//!   exit code.
//! - [`helper`]: before dropping privileges, fork a small helper that
//!   keeps them for the only writes that need them (the lease file in a
//!   root-owned directory), answers those narrow requests over a socket,
//!   and removes the pid file when the daemon is gone.
//! - [`privileges`]: become the service user, keeping only the
//!   capabilities still used.
//!
//! All three run while the process has one thread; each checks.

pub(crate) mod daemonize;
pub(crate) mod helper;
pub mod privileges;

pub use daemonize::{Startup, daemonize};
pub use helper::{Helper, HelperConfig};
pub use privileges::{Capability, Credentials, drop_privileges};

use std::io;

/// Fails unless the process runs one thread.
fn require_one_thread(what: &str) -> io::Result<()> {
    match crate::sys::process::thread_count()? {
        1 => Ok(()),
        n => Err(io::Error::other(format!(
            "cannot {what} safely: the process runs {n} threads"
        ))),
    }
}

/// Points standard input, output and error at /dev/null (a daemon keeps
/// no terminal).
pub fn detach_stdio() -> io::Result<()> {
    crate::sys::process::stdio_to_dev_null()
}
