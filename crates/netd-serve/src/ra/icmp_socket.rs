//! A raw ICMPv6 socket on one interface: bound to it (SO_BINDTODEVICE) and
//! to one of its addresses, hop limit 255, an ICMPv6 type filter, the IP hop
//! limit of each received packet reported. The kernel computes and checks
//! the ICMPv6 checksum (RFC 3542 3.1).

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::sys;

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
        sys::sockopt::set_icmp6_filter(s.as_raw_fd(), pass)?;
        sys::sockopt::set_int(
            s.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVHOPLIMIT,
            1,
        )?;
        let fd = sys::async_fd(s)?;
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
            .async_io(Interest::READABLE, |s| {
                let got = sys::msg::recv_msg(s.as_raw_fd(), buf)?;
                let Some(SocketAddr::V6(source)) = got.from else {
                    return Err(io::Error::other("an ICMPv6 packet without an IPv6 source"));
                };
                Ok(Received {
                    len: got.len,
                    source,
                    hop_limit: got.hop_limit,
                })
            })
            .await
    }
}
