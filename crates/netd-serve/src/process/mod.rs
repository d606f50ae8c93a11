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
pub mod script;

pub use daemonize::{Startup, daemonize};
pub use helper::{Helper, HelperConfig};
pub use privileges::{Capability, Credentials, drop_privileges};
pub use script::{ScriptCall, ScriptRunner};

use std::io;

/// Fails unless the process runs one thread.
/// Reads one request of the helper's and the script runner's framing (a
/// kind byte, a big-endian u32 length, the body) from `stream`; `None`
/// when the daemon's end closed.
fn read_request(stream: &mut impl io::Read, max: u32) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match stream.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len > max {
        return Err(io::Error::other("request too large"));
    }
    let mut body = vec![0u8; len as usize];
    stream.read_exact(&mut body)?;
    Ok(Some((head[0], body)))
}

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

/// Makes the allocator return freed memory: one arena for all threads, and
/// large buffers (a snapshot, the lease-file text) in mappings of their
/// own that go back to the kernel when freed. Call before other threads
/// exist. False where the allocator refused.
pub fn keep_heap_small() -> bool {
    crate::sys::memory::keep_heap_small()
}

/// Raises the soft limit on open files to the hard limit, as far as the
/// kernel allows (`fs.nr_open`), and returns (before, after). The default
/// soft limit of 1,024 is small for a server; the hard one is what the
/// administrator granted (systemd's `LimitNOFILE=`).
pub fn raise_open_files_limit() -> io::Result<(u64, u64)> {
    let (soft, hard) = crate::sys::process::nofile_limits()?;
    if soft >= hard {
        return Ok((soft, soft));
    }
    match crate::sys::process::set_nofile_limit(hard, hard) {
        Ok(()) => Ok((soft, hard)),
        // An infinite hard limit is above fs.nr_open: take what the kernel
        // allows at most.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or(e)?;
            let target = nr_open.min(hard);
            crate::sys::process::set_nofile_limit(target, hard)?;
            Ok((soft, target))
        }
        Err(e) => Err(e),
    }
}

/// The soft limit on open files now.
pub fn open_files_limit() -> io::Result<u64> {
    Ok(crate::sys::process::nofile_limits()?.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_open_files_limit_is_raised_to_the_hard_limit() {
        let (_, hard) = crate::sys::process::nofile_limits().unwrap();
        let (before, after) = super::raise_open_files_limit().unwrap();
        assert!(after >= before);
        assert_eq!(super::open_files_limit().unwrap(), after);
        assert!(after <= hard, "never above the hard limit");
        assert_eq!(super::raise_open_files_limit().unwrap(), (after, after));
    }
}
