//! `SIOCSARP`: an ARP entry written by hand, so that a DHCP reply can be
//! unicast to a client that does not have its address yet (RFC 2131 §4.1)
//! without waiting for an ARP reply it cannot send.

use std::io;
use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::os::fd::RawFd;

/// `addr` is at `mac` on `ifname` (a complete entry). `fd` is any socket of
/// the right namespace. Needs `CAP_NET_ADMIN`.
pub(crate) fn set_arp_entry(
    fd: RawFd,
    ifname: &str,
    addr: Ipv4Addr,
    mac: [u8; 6],
) -> io::Result<()> {
    // SAFETY: arpreq is plain data; all-zero is a valid value.
    let mut req: libc::arpreq = unsafe { MaybeUninit::zeroed().assume_init() };
    let pa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: arp_pa is a sockaddr, as large as a sockaddr_in; an unaligned
    // write needs no alignment.
    unsafe { std::ptr::write_unaligned((&raw mut req.arp_pa).cast::<libc::sockaddr_in>(), pa) };
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
    // SAFETY: SIOCSARP reads one filled arpreq, which outlives the call.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCSARP, &req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
