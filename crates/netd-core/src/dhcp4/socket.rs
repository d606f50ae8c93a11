//! The server's UDP socket: `0.0.0.0:67` bound to one interface, and the
//! RFC 2131 §4.1 delivery of replies, including the ARP entry that lets a
//! unicast reach a client which does not have its address yet.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tracing::debug;

use super::reply::{CLIENT_PORT, Destination, SERVER_PORT};

/// A datagram as received.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub len: usize,
    pub from: SocketAddrV4,
    /// The interface it arrived on (IP_PKTINFO), when the kernel said.
    pub ifindex: Option<u32>,
}

#[derive(Debug)]
pub struct Dhcp4Socket {
    udp: UdpSocket,
    /// For SO_BINDTODEVICE's peers: the ARP ioctl names the device.
    ifname: String,
}

impl Dhcp4Socket {
    /// Binds `0.0.0.0:67` on `ifname` with SO_REUSEADDR, SO_BINDTODEVICE,
    /// SO_BROADCAST and IP_PKTINFO. Must run inside a tokio runtime.
    pub fn bind(ifname: &str) -> io::Result<Dhcp4Socket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        socket.bind_device(Some(ifname.as_bytes()))?;
        socket.set_broadcast(true)?;
        set_pktinfo(&socket)?;
        socket.set_nonblocking(true)?;
        socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, SERVER_PORT)).into())?;
        let udp = UdpSocket::from_std(socket.into())?;
        Ok(Dhcp4Socket {
            udp,
            ifname: ifname.to_owned(),
        })
    }

    /// Receives one datagram into `buf`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        self.udp
            .async_io(Interest::READABLE, || recvmsg_pktinfo(&self.udp, buf))
            .await
    }

    /// Sends `bytes` where `dest` says (RFC 2131 §4.1).
    pub async fn send(&self, bytes: &[u8], dest: Destination) -> io::Result<()> {
        let to = match dest {
            Destination::Relay(giaddr) => SocketAddrV4::new(giaddr, SERVER_PORT),
            Destination::Unicast(ciaddr) => SocketAddrV4::new(ciaddr, CLIENT_PORT),
            Destination::Broadcast => SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT),
            Destination::UnicastNoArp { addr, chaddr } => {
                match set_arp_entry(&self.udp, &self.ifname, addr, chaddr) {
                    Ok(()) => SocketAddrV4::new(addr, CLIENT_PORT),
                    Err(e) => {
                        debug!(%addr, "cannot add the ARP entry ({e}); broadcasting instead");
                        SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
                    }
                }
            }
        };
        self.udp.send_to(bytes, to).await.map(|_| ())
    }
}

fn set_pktinfo(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid fd and a c_int option value of the right size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One non-blocking recvmsg(2), reading the IP_PKTINFO control message.
fn recvmsg_pktinfo(udp: &UdpSocket, buf: &mut [u8]) -> io::Result<Received> {
    // SAFETY: plain-old-data structs, zero is a valid value for each.
    let mut from: libc::sockaddr_in = unsafe { zeroed() };
    let mut control = [0u64; 8]; // 64 bytes, aligned for cmsghdr
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 8]>() as _;
    // SAFETY: every pointer in msg points at a live buffer of the given size.
    let n = unsafe { libc::recvmsg(udp.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut ifindex = None;
    // SAFETY: the kernel filled msg_control with msg_controllen bytes of
    // cmsgs; the CMSG_* macros walk them within that length.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::IPPROTO_IP && (*cmsg).cmsg_type == libc::IP_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::in_pktinfo);
                ifindex = u32::try_from(info.ipi_ifindex).ok();
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(Received {
        len: n as usize,
        from: SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(from.sin_addr.s_addr)),
            u16::from_be(from.sin_port),
        ),
        ifindex,
    })
}

/// SIOCSARP: `addr` is at `mac` on `ifname` (a complete entry), so that a
/// unicast to a client without an address yet needs no ARP reply from it.
fn set_arp_entry(udp: &UdpSocket, ifname: &str, addr: Ipv4Addr, mac: [u8; 6]) -> io::Result<()> {
    // SAFETY: arpreq is plain old data; zero is a valid value.
    let mut req: libc::arpreq = unsafe { zeroed() };
    // SAFETY: arp_pa is a sockaddr large enough for a sockaddr_in.
    let pa = unsafe { &mut *(&mut req.arp_pa as *mut libc::sockaddr).cast::<libc::sockaddr_in>() };
    pa.sin_family = libc::AF_INET as libc::sa_family_t;
    pa.sin_addr.s_addr = u32::from(addr).to_be();
    req.arp_ha.sa_family = libc::ARPHRD_ETHER;
    for (dst, src) in req.arp_ha.sa_data.iter_mut().zip(mac) {
        *dst = src as libc::c_char;
    }
    req.arp_flags = libc::ATF_COM;
    for (dst, src) in req
        .arp_dev
        .iter_mut()
        .zip(ifname.bytes().take(libc::IFNAMSIZ - 1))
    {
        *dst = src as libc::c_char;
    }
    // SAFETY: SIOCSARP reads a filled arpreq; the fd is a live socket.
    let rc = unsafe { libc::ioctl(udp.as_raw_fd(), libc::SIOCSARP, &req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
