//! Every system call of this crate that needs `unsafe`, each behind a safe
//! function whose `SAFETY:` comment says why it is sound. Nothing outside
//! this module writes `unsafe` (the crate denies it elsewhere).
//!
//! - [`async_fd`]: registering the nf_tables notification socket with tokio;
//! - [`set_recv_timeout`]: `SO_RCVTIMEO`, which netlink-sys does not offer;
//! - [`if_nametoindex`]: an interface's index by name, for resolved;
//! - [`effective_uid`]: who owns what this process creates, for the state
//!   directory's check.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_sys::Socket;
use tokio::io::unix::AsyncFd;

/// Registers `socket` with the tokio reactor of the calling task.
pub(crate) fn async_fd(socket: Socket) -> std::io::Result<AsyncFd<Socket>> {
    // SAFETY: the netlink Socket owns its descriptor and returns the same
    // one from as_raw_fd for its whole life; the AsyncFd takes the Socket
    // by value, so nothing else can close or replace the descriptor while
    // it is registered, and it is deregistered before the Socket closes it.
    unsafe { AsyncFd::register(socket) }.map_err(|e| e.into_parts().1)
}

/// Sets `SO_RCVTIMEO` on `socket`: a blocking receive fails with
/// `EAGAIN` after `timeout` instead of waiting for ever.
pub(crate) fn set_recv_timeout(socket: &Socket, timeout: Duration) -> std::io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: the descriptor is open (the Socket is borrowed for the call),
    // and the option value points at a timeval that lives across the call,
    // with its exact size as the length.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The index of the interface `name` in the calling thread's network
/// namespace; `None` when there is none (or the name holds a NUL).
pub(crate) fn if_nametoindex(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call;
    // if_nametoindex only reads it.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (idx != 0).then_some(idx)
}

/// The effective user ID of this process.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no argument, touches no memory of ours and
    // cannot fail (POSIX).
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_index_and_nonsense_has_none() {
        assert!(if_nametoindex("lo").is_some());
        assert_eq!(if_nametoindex("no-such-if-xyz"), None);
        assert_eq!(if_nametoindex("a\0b"), None);
    }
}
