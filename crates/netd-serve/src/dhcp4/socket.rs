//! The server's UDP socket: `0.0.0.0:67` bound to one interface, and the
//! RFC 2131 §4.1 delivery of replies, including the ARP entry that lets a
//! unicast reach a client which does not have its address yet.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tracing::debug;

use netd_proto::dhcp4::reply::{CLIENT_PORT, Destination, SERVER_PORT};

use crate::sys;

/// The receive buffer asked for (the kernel doubles it for its own
/// bookkeeping).
const RECV_BUFFER: i32 = 4 << 20;

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
        sys::sockopt::set_int(socket.as_raw_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
        // Room for a burst (containers booting together, a busy relay)
        // while the loop is held up: about a second of 4,000 DORAs. Above
        // the default limit only with CAP_NET_ADMIN; best effort.
        let fd = socket.as_raw_fd();
        if sys::sockopt::set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RECV_BUFFER).is_err() {
            let _ = socket.set_recv_buffer_size(RECV_BUFFER as usize);
        }
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
            .async_io(Interest::READABLE, || self.recv_now(buf))
            .await
    }

    /// The next packet if one is queued, else `WouldBlock`: for taking a
    /// burst in one turn of the loop.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        self.udp.try_io(Interest::READABLE, || self.recv_now(buf))
    }

    fn recv_now(&self, buf: &mut [u8]) -> io::Result<Received> {
        let got = sys::msg::recv_msg(self.udp.as_raw_fd(), buf)?;
        let from = match got.from {
            Some(SocketAddr::V4(a)) => a,
            _ => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
        };
        Ok(Received {
            len: got.len,
            from,
            ifindex: got.ifindex,
        })
    }

    /// Sends `bytes` where `dest` says (RFC 2131 §4.1).
    pub async fn send(&self, bytes: &[u8], dest: Destination) -> io::Result<()> {
        let to = match dest {
            Destination::Relay(giaddr) => SocketAddrV4::new(giaddr, SERVER_PORT),
            Destination::Unicast(ciaddr) => SocketAddrV4::new(ciaddr, CLIENT_PORT),
            Destination::Broadcast => SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT),
            Destination::UnicastNoArp { addr, chaddr } => {
                match sys::arp::set_arp_entry(self.udp.as_raw_fd(), &self.ifname, addr, chaddr) {
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
