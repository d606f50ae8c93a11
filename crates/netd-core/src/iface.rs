//! What the shells read about a network interface: index, MAC, MTU and
//! addresses, from the kernel of the calling thread's network namespace
//! (`getifaddrs` and `SIOCGIFMTU`, no sysfs, which may belong to another
//! namespace).

use std::ffi::{CStr, CString};
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnetwork::{Ipv4Network, Ipv6Network};

/// An interface as the kernel reports it now. Re-read it when it matters
/// (a bridge's MAC changes as ports join unless it was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    pub index: u32,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    pub ipv4: Vec<Ipv4Network>,
    pub ipv6: Vec<Ipv6Network>,
}

impl InterfaceInfo {
    /// The first IPv4 address and its subnet.
    pub fn primary_ipv4(&self) -> Option<Ipv4Network> {
        self.ipv4.first().copied()
    }

    /// The link-local IPv6 address (fe80::/10), the source of RAs.
    pub fn link_local_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6
            .iter()
            .map(|n| n.ip())
            .find(|a| a.segments()[0] & 0xffc0 == 0xfe80)
    }

    /// IPv6 addresses that are not link-local.
    pub fn global_ipv6(&self) -> impl Iterator<Item = Ipv6Network> + '_ {
        self.ipv6
            .iter()
            .copied()
            .filter(|n| n.ip().segments()[0] & 0xffc0 != 0xfe80)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IfaceError {
    #[error("interface name {0:?} is not valid")]
    BadName(String),
    #[error("no interface named {0:?} in this network namespace")]
    NotFound(String),
    #[error("reading the interfaces of this network namespace: {0}")]
    Os(#[from] std::io::Error),
}

/// Reads `name` from the kernel.
pub fn interface_info(name: &str) -> Result<InterfaceInfo, IfaceError> {
    let cname = CString::new(name).map_err(|_| IfaceError::BadName(name.to_owned()))?;
    // SAFETY: cname is a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if index == 0 {
        return Err(IfaceError::NotFound(name.to_owned()));
    }
    let mut info = InterfaceInfo {
        name: name.to_owned(),
        index,
        mac: None,
        mtu: read_mtu(&cname).ok(),
        ipv4: Vec::new(),
        ipv6: Vec::new(),
    };
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        if unsafe { CStr::from_ptr(ifa.ifa_name) } != cname.as_c_str() {
            continue;
        }
        // SAFETY: ifa_addr is non-null and its family says which sockaddr it is.
        unsafe { add_address(&mut info, ifa) };
    }
    // SAFETY: `head` came from getifaddrs.
    unsafe { libc::freeifaddrs(head) };
    Ok(info)
}

/// # Safety
/// `ifa.ifa_addr` must be non-null; `ifa_netmask` null or of the same family.
unsafe fn add_address(info: &mut InterfaceInfo, ifa: &libc::ifaddrs) {
    // SAFETY: by the caller's contract.
    let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
    match family {
        libc::AF_INET => {
            // SAFETY: family says sockaddr_in.
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            let addr = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            let prefix = if ifa.ifa_netmask.is_null() {
                32
            } else {
                // SAFETY: netmask has the address's family.
                let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in) };
                u32::from_be(m.sin_addr.s_addr).count_ones() as u8
            };
            if let Ok(net) = Ipv4Network::new(addr, prefix) {
                info.ipv4.push(net);
            }
        }
        libc::AF_INET6 => {
            // SAFETY: family says sockaddr_in6.
            let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
            let addr = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let prefix = if ifa.ifa_netmask.is_null() {
                128
            } else {
                // SAFETY: netmask has the address's family.
                let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in6) };
                u128::from_be_bytes(m.sin6_addr.s6_addr).count_ones() as u8
            };
            if let Ok(net) = Ipv6Network::new(addr, prefix) {
                info.ipv6.push(net);
            }
        }
        libc::AF_PACKET => {
            // SAFETY: family says sockaddr_ll.
            let sll = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
            if sll.sll_halen == 6 {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&sll.sll_addr[..6]);
                info.mac = Some(mac);
            }
        }
        _ => {}
    }
}

fn read_mtu(name: &CStr) -> std::io::Result<u32> {
    // SAFETY: plain socket(2); the fd is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.to_bytes();
    for (dst, src) in req
        .ifr_name
        .iter_mut()
        .zip(bytes.iter().take(libc::IFNAMSIZ - 1))
    {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFMTU reads the name and writes ifru_mtu.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCGIFMTU, &mut req) };
    let err = std::io::Error::last_os_error();
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    if rc < 0 {
        return Err(err);
    }
    // SAFETY: the kernel filled the mtu member.
    Ok(unsafe { req.ifr_ifru.ifru_mtu } as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_found_with_its_address() {
        let lo = interface_info("lo").unwrap();
        assert!(lo.index > 0);
        assert!(lo.ipv4.iter().any(|n| n.ip() == Ipv4Addr::LOCALHOST));
        assert!(lo.mtu.unwrap_or(0) > 0);
    }

    #[test]
    fn a_missing_interface_is_named_in_the_error() {
        let err = interface_info("no-such-if0").unwrap_err();
        assert!(err.to_string().contains("no-such-if0"));
    }
}
