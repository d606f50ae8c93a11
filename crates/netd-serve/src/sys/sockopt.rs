//! The socket options socket2 does not offer.

use std::io;
use std::os::fd::RawFd;

/// `ICMP6_FILTER` from `<netinet/icmp6.h>` (level `IPPROTO_ICMPV6`).
const ICMP6_FILTER: libc::c_int = 1;

/// `setsockopt(fd, level, name, &value, sizeof(int))`.
pub(crate) fn set_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    set_raw(fd, level, name, &value.to_ne_bytes())
}

/// Lets only the ICMPv6 types in `pass` through (Linux's `struct
/// icmp6_filter`: eight 32-bit words, a set bit blocks that type).
pub(crate) fn set_icmp6_filter(fd: RawFd, pass: &[u8]) -> io::Result<()> {
    let mut filter = [u32::MAX; 8];
    for &t in pass {
        filter[usize::from(t >> 5)] &= !(1u32 << (t & 31));
    }
    let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
    set_raw(fd, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &bytes)
}

fn set_raw(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &[u8]) -> io::Result<()> {
    // SAFETY: `value` is a live buffer of exactly the length passed; the
    // kernel copies it and keeps no pointer.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
