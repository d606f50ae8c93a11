//! A raw ICMPv6 socket on one interface: bound to it (SO_BINDTODEVICE) and
//! to one of its addresses, hop limit 255, an ICMPv6 type filter, the IP hop
//! limit of each received packet reported. The kernel computes and checks
//! the ICMPv6 checksum (RFC 3542 3.1).

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// `ICMP6_FILTER` from `<netinet/icmp6.h>` (level `IPPROTO_ICMPV6`).
const ICMP6_FILTER: libc::c_int = 1;

/// One received ICMPv6 message.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) len: usize,
    pub(crate) source: SocketAddrV6,
    /// The IP hop limit; ND messages are valid only with 255.
    pub(crate) hop_limit: Option<u8>,
}

#[derive(Debug)]
pub(crate) struct IcmpSocket {
    fd: AsyncFd<Socket>,
    ifindex: u32,
}

impl IcmpSocket {
    /// Opens the socket on `ifname`, bound to `source`, receiving only the
    /// ICMPv6 types in `pass`.
    pub(crate) fn open(
        ifname: &str,
        ifindex: u32,
        source: Ipv6Addr,
        pass: &[u8],
    ) -> io::Result<IcmpSocket> {
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        s.set_nonblocking(true)?;
        s.bind_device(Some(ifname.as_bytes()))?;
        let scope = if source.is_unicast_link_local() {
            ifindex
        } else {
            0
        };
        s.bind(&SockAddr::from(SocketAddrV6::new(source, 0, 0, scope)))?;
        s.set_multicast_hops_v6(255)?;
        s.set_unicast_hops_v6(255)?;
        s.set_multicast_if_v6(ifindex)?;
        s.set_multicast_loop_v6(false)?;
        set_filter(&s, pass)?;
        set_int(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
        // SAFETY: the Socket owns its fd, which nothing else closes or
        // replaces while the AsyncFd holds it.
        let fd = unsafe { AsyncFd::register(s)? };
        Ok(IcmpSocket { fd, ifindex })
    }

    pub(crate) fn join(&self, group: Ipv6Addr) -> io::Result<()> {
        self.fd.get_ref().join_multicast_v6(&group, self.ifindex)
    }

    /// Sends `msg` to `dest` on the interface.
    pub(crate) async fn send_to(&self, msg: &[u8], dest: Ipv6Addr) -> io::Result<()> {
        let scope = if dest.is_multicast() || dest.is_unicast_link_local() {
            self.ifindex
        } else {
            0
        };
        let to = SockAddr::from(SocketAddrV6::new(dest, 0, 0, scope));
        self.fd
            .async_io(Interest::WRITABLE, |s| s.send_to(msg, &to))
            .await
            .map(|_| ())
    }

    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        self.fd
            .async_io(Interest::READABLE, |s| recv_with_hop_limit(s, buf))
            .await
    }
}

fn set_int(s: &Socket, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> io::Result<()> {
    // SAFETY: passes a valid c_int of the right size.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&v as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Linux's `struct icmp6_filter`: a set bit blocks that type.
fn set_filter(s: &Socket, pass: &[u8]) -> io::Result<()> {
    let mut filter = [u32::MAX; 8];
    for &t in pass {
        filter[usize::from(t >> 5)] &= !(1u32 << (t & 31));
    }
    // SAFETY: passes the 32-byte filter array.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_ICMPV6,
            ICMP6_FILTER,
            filter.as_ptr().cast(),
            size_of_val(&filter) as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn recv_with_hop_limit(s: &Socket, buf: &mut [u8]) -> io::Result<Received> {
    // SAFETY: all-zero is a valid sockaddr_in6 and msghdr.
    let mut from: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
    let mut control = [MaybeUninit::<u64>::uninit(); 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_in6).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    // SAFETY: every pointer in msg is valid for the lengths given.
    let n = unsafe { libc::recvmsg(s.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut hop_limit = None;
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            if c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_HOPLIMIT {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                hop_limit = u8::try_from(v).ok();
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let source = SocketAddrV6::new(
        Ipv6Addr::from(from.sin6_addr.s6_addr),
        u16::from_be(from.sin6_port),
        from.sin6_flowinfo,
        from.sin6_scope_id,
    );
    Ok(Received {
        len: n as usize,
        source,
        hop_limit,
    })
}
