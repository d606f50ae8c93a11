//! One `recvmsg(2)` that also reads the control messages the shells ask
//! for: `IP_PKTINFO` (which interface a DHCPv4 request came in on) and
//! `IPV6_HOPLIMIT` (Neighbor Discovery is valid only with hop limit 255).

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::addr::RawAddr;

/// A datagram as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecvMsg {
    pub(crate) len: usize,
    /// The sender; `None` only for an address family we do not read.
    pub(crate) from: Option<SocketAddr>,
    /// `IP_PKTINFO`'s interface index, when the socket asked for it.
    pub(crate) ifindex: Option<u32>,
    /// `IPV6_HOPLIMIT`, when the socket asked for it.
    pub(crate) hop_limit: Option<u8>,
}

/// Receives one datagram into `buf` without blocking (`MSG_DONTWAIT`).
pub(crate) fn recv_msg(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMsg> {
    let mut from = RawAddr::zeroed();
    // 64 bytes, aligned for cmsghdr: room for IP_PKTINFO or IPV6_HOPLIMIT.
    let mut control = [MaybeUninit::<u64>::uninit(); 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    msg.msg_name = (&raw mut from.storage).cast();
    msg.msg_namelen = from.len;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    // SAFETY: every pointer in `msg` points at a live buffer of the length
    // given beside it, and they outlive the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    from.len = msg.msg_namelen;
    let mut got = RecvMsg {
        len: n as usize,
        from: from.get(),
        ifindex: None,
        hop_limit: None,
    };
    // SAFETY: the kernel wrote `msg_controllen` bytes of control messages
    // into `control`; CMSG_FIRSTHDR/CMSG_NXTHDR stay within that length and
    // return null past it, and each payload is read unaligned at its size.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            match (c.cmsg_level, c.cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>());
                    got.ifindex = u32::try_from(info.ipi_ifindex).ok();
                }
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                    let v = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                    got.hop_limit = u8::try_from(v).ok();
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(got)
}
