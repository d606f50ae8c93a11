//! Each caller's [`Recorded`]: its command line rendered with the values
//! its defaults give, the bridge and addresses it would have made, and the
//! files it writes before starting dnsmasq.

use std::net::Ipv4Addr;
use std::path::Path;

use super::super::command_lines::{
    DEBIAN_DNSMASQ_SERVICE, INCUS_BRIDGE, LXC_NET, LXD_BRIDGE, NETWORK_MANAGER_SHARED,
    NETWORK_MANAGER_SHARED_CONF_DIR, network_manager_shared_with_all_options, render,
};
use super::super::user_exists;
use super::{DnsName, Recorded, Reload, StaticEntry};

/// The first of `names` that exists, as Incus, LXD and lxc-net choose.
fn first_user(names: &[&'static str]) -> &'static str {
    names
        .iter()
        .copied()
        .find(|n| user_exists(n))
        .expect("a user to run as")
}

/// The first of `names` that `/etc/group` knows.
fn first_group(names: &[&'static str]) -> &'static str {
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    names
        .iter()
        .copied()
        .find(|n| groups.lines().any(|l| l.split(':').next() == Some(*n)))
        .expect("a group to run as")
}

/// NetworkManager's shared mode on the bridge `nm-bridge` (the name a
/// bridge connection gets by default) with 10.42.0.1/24, the first shared
/// address. `--conf-dir` only if the machine has the directory, as
/// NetworkManager decides.
pub(in crate::callers) fn network_manager() -> Recorded {
    let mut argv = render(
        NETWORK_MANAGER_SHARED,
        &[
            ("IFACE", "nm-bridge"),
            ("LISTEN_ADDRESS", "10.42.0.1"),
            ("DHCP_FIRST", "10.42.0.10"),
            ("DHCP_LAST", "10.42.0.254"),
        ],
    );
    if Path::new("/etc/NetworkManager/dnsmasq-shared.d").is_dir() {
        argv.push(NETWORK_MANAGER_SHARED_CONF_DIR.to_owned());
    }
    Recorded {
        caller: "NetworkManager",
        argv,
        bridge: "nm-bridge",
        v4: "10.42.0.1/24",
        v6: None,
        pool: (Ipv4Addr::new(10, 42, 0, 10), Ipv4Addr::new(10, 42, 0, 254)),
        lease_file: "/var/lib/NetworkManager/dnsmasq-nm-bridge.leases",
        pid_file: None,
        prepare: |fs| {
            fs.mkdir("/var/lib/NetworkManager");
        },
        static_entry: None,
        late_entry: None,
        names: Vec::new(),
        dns_servers: None,
    }
}

/// The DNS servers of [`network_manager_with_options`]'s shared config.
const NM_DNS_SERVERS: [Ipv4Addr; 2] = [
    Ipv4Addr::new(192, 0, 2, 53),
    Ipv4Addr::new(198, 51, 100, 53),
];

/// NetworkManager's shared mode with every optional argument in place
/// (`NETWORK_MANAGER_SHARED_OPTIONAL`): the log options, a router, two DNS
/// servers and a search list from the shared config, option 43 for a
/// metered connection. The container must be given those DNS servers.
pub(in crate::callers) fn network_manager_with_options() -> Recorded {
    Recorded {
        caller: "NetworkManager, every optional argument",
        argv: render(
            &network_manager_shared_with_all_options(),
            &[
                ("IFACE", "nm-bridge"),
                ("LISTEN_ADDRESS", "10.42.0.1"),
                ("DHCP_FIRST", "10.42.0.10"),
                ("DHCP_LAST", "10.42.0.254"),
                ("DNS_SERVERS", "192.0.2.53,198.51.100.53"),
                ("SEARCH_DOMAINS", "example.com,example.org"),
            ],
        ),
        dns_servers: Some(&NM_DNS_SERVERS),
        ..network_manager()
    }
}

/// `incusbr0` as `incus admin init` makes it (with one fixed choice of the
/// random subnets), on a machine without an `incus` user.
pub(in crate::callers) fn incus() -> Recorded {
    Recorded {
        caller: "Incus",
        argv: render(
            INCUS_BRIDGE,
            &[
                ("BRIDGE", "incusbr0"),
                ("IPV4_ADDRESS", "10.213.37.1"),
                ("DHCP_FIRST", "10.213.37.2"),
                ("DHCP_LAST", "10.213.37.254"),
                ("IPV6_ADDRESS", "fd42:5cd4:95b6:7f3e::1"),
                ("UNPRIV_USER", first_user(&["incus", "nobody"])),
                ("UNPRIV_GROUP", first_group(&["incus", "nogroup"])),
            ],
        ),
        bridge: "incusbr0",
        v4: "10.213.37.1/24",
        v6: Some("fd42:5cd4:95b6:7f3e::1/64"),
        pool: (
            Ipv4Addr::new(10, 213, 37, 2),
            Ipv4Addr::new(10, 213, 37, 254),
        ),
        lease_file: "/var/lib/incus/networks/incusbr0/dnsmasq.leases",
        pid_file: None,
        prepare: |fs| {
            fs.mkdir("/var/lib/incus/networks/incusbr0/dnsmasq.hosts");
            fs.write("/var/lib/incus/networks/incusbr0/dnsmasq.raw", "\n");
        },
        // Instance `c1`'s NIC `eth0` with `ipv4.address` set; Incus's MAC
        // prefix.
        static_entry: Some(StaticEntry {
            path: "/var/lib/incus/networks/incusbr0/dnsmasq.hosts/c1.eth0",
            mac: "10:66:6a:4c:2e:01",
            addr: Ipv4Addr::new(10, 213, 37, 50),
            name: "c1",
        }),
        // Instance `c2` started later: Incus writes its file and sends
        // SIGHUP.
        late_entry: Some((
            StaticEntry {
                path: "/var/lib/incus/networks/incusbr0/dnsmasq.hosts/c2.eth0",
                mac: "10:66:6a:4c:2e:02",
                addr: Ipv4Addr::new(10, 213, 37, 51),
                name: "c2",
            },
            Reload::Sighup,
        )),
        names: vec![
            DnsName {
                name: "c1.incus",
                addr: "10.213.37.50",
                from: "--dhcp-hostsfile",
            },
            DnsName {
                name: "_gateway.incus",
                addr: "10.213.37.1",
                from: "--interface-name",
            },
        ],
        dns_servers: None,
    }
}

/// `lxdbr0` as `lxd init` makes it, on a machine without an `lxd` user.
pub(in crate::callers) fn lxd() -> Recorded {
    Recorded {
        caller: "LXD",
        argv: render(
            LXD_BRIDGE,
            &[
                ("BRIDGE", "lxdbr0"),
                ("IPV4_ADDRESS", "10.158.91.1"),
                ("DHCP_FIRST", "10.158.91.2"),
                ("DHCP_LAST", "10.158.91.254"),
                ("IPV6_ADDRESS", "fd42:a1b2:c3d4:e5f6::1"),
                ("UNPRIV_USER", first_user(&["lxd", "nobody"])),
                ("UNPRIV_GROUP", first_group(&["lxd", "nogroup"])),
            ],
        ),
        bridge: "lxdbr0",
        v4: "10.158.91.1/24",
        v6: Some("fd42:a1b2:c3d4:e5f6::1/64"),
        pool: (
            Ipv4Addr::new(10, 158, 91, 2),
            Ipv4Addr::new(10, 158, 91, 254),
        ),
        lease_file: "/var/lib/lxd/networks/lxdbr0/dnsmasq.leases",
        pid_file: None,
        prepare: |fs| {
            fs.mkdir("/var/lib/lxd/networks/lxdbr0/dnsmasq.hosts");
            fs.write("/var/lib/lxd/networks/lxdbr0/dnsmasq.raw", "\n");
        },
        // Instance `c1`'s NIC `eth0` with `ipv4.address` set; LXD's MAC
        // prefix.
        static_entry: Some(StaticEntry {
            path: "/var/lib/lxd/networks/lxdbr0/dnsmasq.hosts/c1.eth0",
            mac: "00:16:3e:4c:2e:01",
            addr: Ipv4Addr::new(10, 158, 91, 50),
            name: "c1",
        }),
        // Instance `c2` started later: dnsmasq reads a new file in a
        // --dhcp-hostsdir by itself.
        late_entry: Some((
            StaticEntry {
                path: "/var/lib/lxd/networks/lxdbr0/dnsmasq.hosts/c2.eth0",
                mac: "00:16:3e:4c:2e:02",
                addr: Ipv4Addr::new(10, 158, 91, 51),
                name: "c2",
            },
            Reload::Watched,
        )),
        names: vec![
            DnsName {
                name: "c1.lxd",
                addr: "10.158.91.50",
                from: "--dhcp-hostsdir",
            },
            DnsName {
                name: "_gateway.lxd",
                addr: "10.158.91.1",
                from: "--interface-name",
            },
        ],
        dns_servers: None,
    }
}

/// lxc-net's command line alone, on the `lxcbr0` lxc-net would have made.
pub(in crate::callers) fn lxc_net() -> Recorded {
    Recorded {
        caller: "lxc-net",
        argv: render(
            LXC_NET,
            &[(
                "DNSMASQ_USER",
                first_user(&["lxc-dnsmasq", "dnsmasq", "nobody"]),
            )],
        ),
        bridge: "lxcbr0",
        v4: "10.0.3.1/24",
        v6: None,
        pool: (Ipv4Addr::new(10, 0, 3, 2), Ipv4Addr::new(10, 0, 3, 254)),
        lease_file: "/var/lib/misc/dnsmasq.lxcbr0.leases",
        pid_file: Some("/run/lxc/dnsmasq.pid"),
        prepare: |fs| {
            fs.mkdir("/run/lxc");
            fs.mkdir("/var/lib/misc");
        },
        static_entry: None,
        late_entry: None,
        names: Vec::new(),
        dns_servers: None,
    }
}

/// Debian's configuration directory, which only the `dnsmasq` package
/// creates: a lab directory under `/var/lib` stands in for it.
pub(in crate::callers) const DEBIAN_CONF_DIR: &str = "/etc/dnsmasq.d";
pub(in crate::callers) const LAB_CONF_DIR: &str = "/var/lib/dnsmasq.d";

/// Debian's `dnsmasq.service` with one file in its configuration
/// directory, as an administrator writes it for a bridge `br0`: the
/// interface and a range, nothing else, so the lease file is dnsmasq's
/// default.
pub(in crate::callers) fn debian_service() -> Recorded {
    Recorded {
        caller: "Debian dnsmasq.service",
        argv: DEBIAN_DNSMASQ_SERVICE
            .iter()
            .map(|w| w.replace(DEBIAN_CONF_DIR, LAB_CONF_DIR))
            .collect(),
        bridge: "br0",
        v4: "10.77.0.1/24",
        v6: None,
        pool: (Ipv4Addr::new(10, 77, 0, 50), Ipv4Addr::new(10, 77, 0, 150)),
        lease_file: "/var/lib/misc/dnsmasq.leases",
        pid_file: Some("/run/dnsmasq/dnsmasq.pid"),
        prepare: |fs| {
            // The unit's RuntimeDirectory, and dnsmasq's home.
            fs.mkdir("/run/dnsmasq");
            fs.mkdir("/var/lib/misc");
            fs.write(
                &format!("{LAB_CONF_DIR}/br0.conf"),
                "interface=br0\ndhcp-range=10.77.0.50,10.77.0.150,12h\n",
            );
        },
        static_entry: None,
        late_entry: None,
        names: Vec::new(),
        dns_servers: None,
    }
}

/// The configuration commonly written by hand for a systemd-nspawn NAT
/// bridge, as this repository ships it (`config/dnsmasq-nat0.conf`): dnsmasq
/// forks and writes the pid file the file names.
pub(in crate::callers) fn guide() -> Recorded {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dnsmasq-nat0.conf");
    Recorded {
        caller: "the guide's configuration",
        argv: vec!["dnsmasq".into(), format!("--conf-file={}", conf.display())],
        bridge: "nat0",
        v4: "192.168.26.1/24",
        v6: None,
        pool: (
            Ipv4Addr::new(192, 168, 26, 20),
            Ipv4Addr::new(192, 168, 26, 100),
        ),
        lease_file: "/var/lib/misc/nspawn-netd.leases",
        pid_file: Some("/run/nat0-netd.pid"),
        prepare: |fs| {
            fs.mkdir("/var/lib/misc");
        },
        static_entry: None,
        late_entry: None,
        names: Vec::new(),
        dns_servers: None,
    }
}
