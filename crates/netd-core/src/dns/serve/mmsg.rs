//! Batched datagram I/O (`recvmmsg`/`sendmmsg`): under load, one system
//! call moves many queries in and many replies out, and the kernel's
//! per-call costs (entry, socket lock, waking the reader) are shared.
//!
//! All buffers are allocated once per socket; a batch reuses them.

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Datagrams per system call.
pub(super) const BATCH: usize = 32;

/// A socket address in the form the kernel reads and writes.
#[derive(Clone, Copy)]
struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawAddr {
    fn zeroed() -> RawAddr {
        // SAFETY: sockaddr_storage is plain data; all-zero is valid.
        RawAddr {
            storage: unsafe { MaybeUninit::zeroed().assume_init() },
            len: size_of::<libc::sockaddr_storage>() as libc::socklen_t,
        }
    }

    fn set(&mut self, addr: SocketAddr) {
        *self = RawAddr::zeroed();
        match addr {
            SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from(*a.ip()).to_be(),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and aligned for
                // sockaddr_in.
                unsafe { std::ptr::write((&raw mut self.storage).cast(), sin) };
                self.len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: as above, for sockaddr_in6.
                unsafe { std::ptr::write((&raw mut self.storage).cast(), sin6) };
                self.len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
    }

    fn get(&self) -> Option<SocketAddr> {
        match i32::from(self.storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the kernel wrote a sockaddr_in for AF_INET.
                let sin: libc::sockaddr_in =
                    unsafe { std::ptr::read((&raw const self.storage).cast()) };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the kernel wrote a sockaddr_in6 for AF_INET6.
                let sin6: libc::sockaddr_in6 =
                    unsafe { std::ptr::read((&raw const self.storage).cast()) };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// Receive slots: `BATCH` buffers of `size` bytes and their sources.
pub(super) struct RecvBatch {
    bufs: Vec<u8>,
    size: usize,
    addrs: [RawAddr; BATCH],
    lens: [usize; BATCH],
    count: usize,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("count", &self.count)
            .finish()
    }
}

impl RecvBatch {
    pub(super) fn new(size: usize) -> RecvBatch {
        RecvBatch {
            bufs: vec![0; size * BATCH],
            size,
            addrs: [RawAddr::zeroed(); BATCH],
            lens: [0; BATCH],
            count: 0,
        }
    }

    /// Reads the datagrams waiting on `fd` (non-blocking), up to `BATCH`.
    /// `WouldBlock` when there are none.
    pub(super) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let mut iovs: [MaybeUninit<libc::iovec>; BATCH] = [const { MaybeUninit::uninit() }; BATCH];
        let mut hdrs: [MaybeUninit<libc::mmsghdr>; BATCH] =
            [const { MaybeUninit::uninit() }; BATCH];
        let base = self.bufs.as_mut_ptr();
        for i in 0..BATCH {
            self.addrs[i] = RawAddr::zeroed();
            let iov = iovs[i].write(libc::iovec {
                // SAFETY: i * size is within bufs (BATCH * size long).
                iov_base: unsafe { base.add(i * self.size) }.cast(),
                iov_len: self.size,
            });
            // SAFETY: msghdr is plain data; zero is a valid start.
            let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
            msg.msg_name = (&raw mut self.addrs[i].storage).cast();
            msg.msg_namelen = self.addrs[i].len;
            msg.msg_iov = iov;
            msg.msg_iovlen = 1;
            hdrs[i].write(libc::mmsghdr {
                msg_hdr: msg,
                msg_len: 0,
            });
        }
        // SAFETY: every header points at live buffers of the stated sizes,
        // which outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr().cast(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            self.count = 0;
            return Err(io::Error::last_os_error());
        }
        self.count = n as usize;
        for (i, h) in hdrs.iter().enumerate().take(self.count) {
            // SAFETY: initialised above; the kernel filled the first n.
            let h = unsafe { h.assume_init_ref() };
            self.lens[i] = (h.msg_len as usize).min(self.size);
            self.addrs[i].len = h.msg_hdr.msg_namelen;
        }
        Ok(self.count)
    }

    /// The `i`th datagram of the last batch and its source.
    pub(super) fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        if i >= self.count {
            return None;
        }
        let start = i * self.size;
        Some((
            &self.bufs[start..start + self.lens[i]],
            self.addrs[i].get()?,
        ))
    }
}

/// Reply slots: each a reusable buffer and a destination.
pub(super) struct SendBatch {
    pub(super) bufs: Vec<Vec<u8>>,
    addrs: [RawAddr; BATCH],
    count: usize,
}

impl std::fmt::Debug for SendBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendBatch")
            .field("count", &self.count)
            .finish()
    }
}

impl SendBatch {
    pub(super) fn new(capacity: usize) -> SendBatch {
        SendBatch {
            bufs: (0..BATCH).map(|_| Vec::with_capacity(capacity)).collect(),
            addrs: [RawAddr::zeroed(); BATCH],
            count: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }

    /// The next free buffer, cleared; call [`SendBatch::commit`] to queue it.
    pub(super) fn next_buf(&mut self) -> &mut Vec<u8> {
        let b = &mut self.bufs[self.count];
        b.clear();
        b
    }

    pub(super) fn commit(&mut self, to: SocketAddr) {
        self.addrs[self.count].set(to);
        self.count += 1;
    }

    pub(super) fn clear(&mut self) {
        self.count = 0;
    }

    /// The `i`th queued reply and its destination.
    pub(super) fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        if i >= self.count {
            return None;
        }
        Some((self.bufs[i].as_slice(), self.addrs[i].get()?))
    }

    /// Sends queued replies from `from` on (non-blocking); returns how many
    /// went out.
    pub(super) fn send(&mut self, fd: RawFd, from: usize) -> io::Result<usize> {
        let n = self.count.saturating_sub(from);
        if n == 0 {
            return Ok(0);
        }
        let mut iovs: [MaybeUninit<libc::iovec>; BATCH] = [const { MaybeUninit::uninit() }; BATCH];
        let mut hdrs: [MaybeUninit<libc::mmsghdr>; BATCH] =
            [const { MaybeUninit::uninit() }; BATCH];
        for (k, i) in (from..self.count).enumerate() {
            let iov = iovs[k].write(libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.bufs[i].len(),
            });
            // SAFETY: msghdr is plain data; zero is a valid start.
            let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
            msg.msg_name = (&raw mut self.addrs[i].storage).cast();
            msg.msg_namelen = self.addrs[i].len;
            msg.msg_iov = iov;
            msg.msg_iovlen = 1;
            hdrs[k].write(libc::mmsghdr {
                msg_hdr: msg,
                msg_len: 0,
            });
        }
        // SAFETY: the first n headers are initialised and point at live
        // buffers that outlive the call.
        let sent = unsafe {
            libc::sendmmsg(
                fd,
                hdrs.as_mut_ptr().cast(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(sent as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_the_kernel_form() {
        for a in ["192.168.26.50:40000", "[fd23::2]:53"] {
            let a: SocketAddr = a.parse().unwrap();
            let mut raw = RawAddr::zeroed();
            raw.set(a);
            assert_eq!(raw.get(), Some(a));
        }
    }

    #[test]
    fn a_batch_moves_datagrams_over_loopback() {
        use std::os::fd::AsRawFd;
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..3u8 {
            client
                .send_to(&[i; 5], server.local_addr().unwrap())
                .unwrap();
        }
        let mut rb = RecvBatch::new(512);
        assert_eq!(rb.recv(server.as_raw_fd()).unwrap(), 3);
        let (d, from) = rb.get(2).unwrap();
        assert_eq!((d, from), (&[2u8; 5][..], client.local_addr().unwrap()));
        let mut sb = SendBatch::new(64);
        for i in 0..3 {
            sb.next_buf().extend_from_slice(&[i + 10; 3]);
            sb.commit(from);
        }
        assert_eq!(sb.send(server.as_raw_fd(), 1).unwrap(), 2);
        let mut buf = [0u8; 16];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[11; 3]);
        assert!(
            rb.recv(server.as_raw_fd())
                .is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock)
        );
    }
}
