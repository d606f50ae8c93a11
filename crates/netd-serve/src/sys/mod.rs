//! Every system call of this crate that needs `unsafe`, each behind a safe
//! function whose `SAFETY:` comments say why it is sound. Nothing outside
//! this module writes `unsafe` (the crate denies it elsewhere).
//!
//! - [`addr`], socket addresses in the kernel's form;
//! - [`msg`], `recvmsg` with `IP_PKTINFO` and `IPV6_HOPLIMIT`;
//! - [`mmsg`], batched `recvmmsg`/`sendmmsg` for DNS;
//! - [`sockopt`], the socket options socket2 lacks (`IP_PKTINFO`,
//!   `IPV6_RECVHOPLIMIT`, the ICMPv6 type filter);
//! - [`arp`], `SIOCSARP`; [`packet`], ARP over a packet socket;
//! - [`process`], fork, sessions, users, groups and capabilities;
//! - [`memory`], the allocator's retention of freed memory;
//! - [`async_fd`], registering a socket with tokio.

#![allow(unsafe_code)]

pub(crate) mod addr;
pub(crate) mod arp;
pub(crate) mod memory;
pub(crate) mod mmsg;
pub(crate) mod msg;
pub(crate) mod packet;
pub(crate) mod process;
pub(crate) mod sockopt;

/// Registers `socket` with the tokio reactor.
pub(crate) fn async_fd(
    socket: socket2::Socket,
) -> std::io::Result<tokio::io::unix::AsyncFd<socket2::Socket>> {
    // SAFETY: the Socket owns its fd, and the AsyncFd takes the Socket by
    // value: nothing else can close or replace the fd while it is
    // registered, and it is deregistered before the Socket closes it.
    unsafe { tokio::io::unix::AsyncFd::register(socket) }.map_err(|e| e.into_parts().1)
}
