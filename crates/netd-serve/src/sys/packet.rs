//! A datagram packet socket for ARP (`AF_PACKET`, `SOCK_DGRAM`,
//! `ETH_P_ARP`): the kernel adds and strips the Ethernet header, the socket
//! sees only ARP on one interface. Needs `CAP_NET_RAW`.

use std::io;
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};

/// `ETH_P_ARP` in network byte order, as `sll_protocol` and the socket's
/// protocol want it.
fn arp_protocol() -> u16 {
    (libc::ETH_P_ARP as u16).to_be()
}

/// A `sockaddr_ll` for interface `ifindex`, to the Ethernet broadcast
/// address when `broadcast`.
fn link_addr(ifindex: u32, broadcast: bool) -> io::Result<libc::sockaddr_ll> {
    let mut addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: arp_protocol(),
        sll_ifindex: i32::try_from(ifindex).map_err(|_| io::Error::other("interface index"))?,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    if broadcast {
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    }
    Ok(addr)
}

/// An ARP socket bound to interface `ifindex`, non-blocking.
pub(crate) fn arp_socket(ifindex: u32) -> io::Result<Socket> {
    let s = Socket::new(
        Domain::PACKET,
        Type::DGRAM,
        Some(Protocol::from(i32::from(arp_protocol()))),
    )?;
    s.set_nonblocking(true)?;
    let addr = link_addr(ifindex, false)?;
    // SAFETY: `addr` is a filled sockaddr_ll that outlives the call, and the
    // length passed is its size; bind(2) only reads it.
    let rc = unsafe {
        libc::bind(
            s.as_raw_fd(),
            (&raw const addr).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(s)
}

/// Sends one ARP message to the Ethernet broadcast address on `ifindex`.
pub(crate) fn send_broadcast(socket: &Socket, ifindex: u32, msg: &[u8]) -> io::Result<()> {
    let addr = link_addr(ifindex, true)?;
    // SAFETY: `msg` is valid for `msg.len()` bytes and `addr` is a filled
    // sockaddr_ll of the size passed; sendto(2) only reads both.
    let rc = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&raw const addr).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
