//! Batched datagram I/O (`recvmmsg`/`sendmmsg`): under load, one system
//! call moves many queries in and many replies out, and the kernel's
//! per-call costs (entry, socket lock, waking the reader) are shared.
//!
//! All buffers are allocated once per socket; a batch reuses them.

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;

use super::addr::RawAddr;
use std::os::fd::RawFd;

/// Datagrams per system call.
pub(crate) const BATCH: usize = 32;

/// Receive slots: `BATCH` buffers of `size` bytes and their sources.
pub(crate) struct RecvBatch {
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
    pub(crate) fn new(size: usize) -> RecvBatch {
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
    pub(crate) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
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
    pub(crate) fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
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
pub(crate) struct SendBatch {
    pub(crate) bufs: Vec<Vec<u8>>,
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
    pub(crate) fn new(capacity: usize) -> SendBatch {
        SendBatch {
            bufs: (0..BATCH).map(|_| Vec::with_capacity(capacity)).collect(),
            addrs: [RawAddr::zeroed(); BATCH],
            count: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The next free buffer, cleared; call [`SendBatch::commit`] to queue it.
    pub(crate) fn next_buf(&mut self) -> &mut Vec<u8> {
        let b = &mut self.bufs[self.count];
        b.clear();
        b
    }

    pub(crate) fn commit(&mut self, to: SocketAddr) {
        self.addrs[self.count].set(to);
        self.count += 1;
    }

    pub(crate) fn clear(&mut self) {
        self.count = 0;
    }

    /// The `i`th queued reply and its destination.
    pub(crate) fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        if i >= self.count {
            return None;
        }
        Some((self.bufs[i].as_slice(), self.addrs[i].get()?))
    }

    /// Sends queued replies from `from` on (non-blocking); returns how many
    /// went out.
    pub(crate) fn send(&mut self, fd: RawFd, from: usize) -> io::Result<usize> {
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
