//! The text of the networking files placed in the rootfs. Pure.

use std::net::IpAddr;

/// Where distributions ship systemd's own `host0` network file; when it
/// exists the rootfs needs no file of ours.
pub const STOCK_HOST0_NETWORK: &[&str] = &[
    "usr/lib/systemd/network/80-container-host0.network",
    "lib/systemd/network/80-container-host0.network",
];

/// Where ours goes when the distribution ships none.
pub const HOST0_NETWORK: &str = "etc/systemd/network/80-container-host0.network";

/// `host0` (the container side of `--network-bridge`) by DHCPv4, and IPv6
/// by router advertisements, as systemd's stock file does.
pub fn host0_network() -> String {
    "# Written by nspawn-netd container create: the container's link to the\n\
     # bridge is configured by DHCP (IPv4) and router advertisements (IPv6).\n\
     [Match]\n\
     Virtualization=container\n\
     Name=host0\n\
     \n\
     [Network]\n\
     DHCP=yes\n\
     LinkLocalAddressing=yes\n\
     IPv6AcceptRA=yes\n"
        .to_owned()
}

/// `/etc/resolv.conf` sending every query to the bridge's DNS forwarder.
pub fn resolv_conf(dns: &[IpAddr]) -> String {
    let mut text =
        String::from("# Written by nspawn-netd container create: nspawn-netd on the bridge.\n");
    for addr in dns {
        text.push_str(&format!("nameserver {addr}\n"));
    }
    text
}

/// `/etc/hostname`: the machine name, which its DHCP client sends, so the
/// bridge's DNS knows the container by it.
pub fn hostname(name: &str) -> String {
    format!("{name}\n")
}

/// `/etc/hosts` for a rootfs that has none (debootstrap writes none):
/// loopback names and the machine's own name, as Debian's installer does.
pub fn hosts(name: &str) -> String {
    format!(
        "127.0.0.1\tlocalhost\n\
         127.0.1.1\t{name}\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        let dns: Vec<IpAddr> = vec!["192.168.26.1".parse().unwrap(), "fd23::1".parse().unwrap()];
        let r = resolv_conf(&dns);
        let lines: Vec<&str> = r.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, ["nameserver 192.168.26.1", "nameserver fd23::1"]);
        assert_eq!(hostname("web"), "web\n");
        assert!(hosts("web").contains("127.0.1.1\tweb\n"));
        let n = host0_network();
        assert!(
            n.contains("Name=host0\n") && n.contains("DHCP=yes\n"),
            "{n}"
        );
    }
}
