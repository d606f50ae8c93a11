//! libvirt's virtual network, end to end: `virsh net-define` and
//! `net-start` of a NAT network on `virbr0` with (or without) a domain, a
//! DHCP range, a
//! DHCP reservation and a DNS host make libvirtd write its dnsmasq config
//! ([`LIBVIRT_NAT_CONF`], checked word for word) and start dnsmasq with
//! [`LIBVIRT_NETWORK`]'s argv; guests on `virbr0` get their addresses (the
//! reserved one, and one from the range), resolve names through it,
//! and appear in `virsh net-dhcp-leases`, which reads what libvirt's lease
//! helper wrote when dnsmasq ran it as `--dhcp-script`; `net-update
//! --live` (after a restart of libvirtd, which must find the daemon again)
//! adds a reservation and a DNS host, which libvirt writes to the hosts
//! files before it sends dnsmasq SIGHUP; `net-destroy` stops dnsmasq and
//! removes the bridge.
//!
//! How libvirtd runs without touching the machine: [`daemon`].
//!
//! What libvirt 9.0's lease helper takes from the daemon, for a
//! `--dhcp-script` to give it: the action (`add`, `old`, `del`), the MAC
//! and the address as arguments, then the hostname if there is one; the
//! environment the daemon was started with (libvirt puts the bridge in
//! `VIR_BRIDGE_NAME`, which names the `.status` file, else
//! `DNSMASQ_INTERFACE` does) plus `DNSMASQ_LEASE_EXPIRES`,
//! `DNSMASQ_CLIENT_ID`, `DNSMASQ_SUPPLIED_HOSTNAME`, `DNSMASQ_OLD_HOSTNAME`
//! and, for DHCPv6, `DNSMASQ_IAID`, `DNSMASQ_MAC` and
//! `DNSMASQ_SERVER_DUID` (the names its binaries hold). With `--leasefile-ro` the
//! daemon also runs it as `init` at start and reads the leases it prints,
//! in the lease-file format, since no lease file of its own is kept.

mod daemon;
mod isolated;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{netd_bin, read_or_empty, wait_until};

use super::command_lines::{
    LIBVIRT_NAT_ADDNHOSTS, LIBVIRT_NAT_CONF, LIBVIRT_NAT_HOSTSFILE, LIBVIRT_NAT_NO_DOMAIN_CONF,
    LIBVIRT_NETWORK, render,
};
use super::{Proc, dig, dnsmasq};
use daemon::Libvirtd;

/// The network's name, which names its files.
pub const NETWORK: &str = "lab";
const BRIDGE: &str = "virbr0";
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 168, 122, 1);
const RANGE: (Ipv4Addr, Ipv4Addr) = (
    Ipv4Addr::new(192, 168, 122, 100),
    Ipv4Addr::new(192, 168, 122, 199),
);
/// The `<dhcp><host>` reservation.
const RESERVED_MAC: &str = "52:54:00:6c:76:01";
const RESERVED_NAME: &str = "guest";
const RESERVED_ADDR: &str = "192.168.122.77";
/// The `<dns><host>` entry.
const DNS_HOST_NAME: &str = "peer";
const DNS_HOST_ADDR: &str = "192.168.122.50";
const DOMAIN: &str = "lab.test";
/// The hostname the unreserved guest sends (option 12).
const OTHER_NAME: &str = "other";
/// What `net-update --live` adds to the running network.
const LATE_HOST_XML: &str = "<host mac='52:54:00:6c:76:02' name='late' ip='192.168.122.78'/>";
const LATE_MAC: &str = "52:54:00:6c:76:02";
const LATE_NAME: &str = "late";
const LATE_ADDR: &str = "192.168.122.78";
const LATE_DNS_XML: &str = "<host ip='192.168.122.51'><hostname>peer2</hostname></host>";
const LATE_DNS_NAME: &str = "peer2";
const LATE_DNS_ADDR: &str = "192.168.122.51";

/// The network's `<domain>`, which the second variant leaves out.
const DOMAIN_XML: &str = "  <domain name='lab.test'/>\n";

/// The network as `virsh net-define` reads it: NAT, STP off and no
/// forwarding delay (so a port forwards at once), a local domain.
const NETWORK_XML: &str = "\
<network>
  <name>lab</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='off' delay='0'/>
  <domain name='lab.test'/>
  <dns>
    <host ip='192.168.122.50'>
      <hostname>peer</hostname>
    </host>
  </dns>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.100' end='192.168.122.199'/>
      <host mac='52:54:00:6c:76:01' name='guest' ip='192.168.122.77'/>
    </dhcp>
  </ip>
</network>
";

/// With or without the network's `<domain>`: libvirt's file has
/// `domain=` and `expand-hosts` only with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    With,
    Without,
}

impl Domain {
    /// The names DNS must answer for `name`: in the domain and bare, or
    /// bare only.
    fn names(self, name: &str) -> Vec<String> {
        match self {
            Domain::With => vec![format!("{name}.{DOMAIN}"), name.to_owned()],
            Domain::Without => vec![name.to_owned()],
        }
    }
}

/// The whole life of the network with `binary` as dnsmasq.
fn run_with(binary: &Path, domain: Domain) {
    let mut lv = Libvirtd::start(binary);
    let (xml, conf) = match domain {
        Domain::With => (NETWORK_XML.to_owned(), LIBVIRT_NAT_CONF),
        Domain::Without => (
            NETWORK_XML.replace(DOMAIN_XML, ""),
            LIBVIRT_NAT_NO_DOMAIN_CONF,
        ),
    };
    lv.define_and_start(NETWORK, &xml);

    // libvirt wrote the files recorded in command_lines/libvirt.rs.
    assert_eq!(lv.dnsmasq_file(&format!("{NETWORK}.conf")), conf);
    assert_eq!(
        lv.dnsmasq_file(&format!("{NETWORK}.hostsfile")),
        LIBVIRT_NAT_HOSTSFILE
    );
    assert_eq!(
        lv.dnsmasq_file(&format!("{NETWORK}.addnhosts")),
        LIBVIRT_NAT_ADDNHOSTS
    );

    // The daemon libvirt started forked and wrote the pid file the config
    // names; it runs in the lab with libvirt's argv.
    let pid_file = lv.fs.path(&format!("/run/libvirt/network/{NETWORK}.pid"));
    let daemon = Proc::from_pid_file(&pid_file)
        .unwrap_or_else(|| panic!("no pid in {pid_file:?}\n{}", lv.log_text()));
    assert!(daemon.is_running(), "pid {} is not running", daemon.0);
    assert!(daemon.is_in(lv.lab.host()), "pid {} is elsewhere", daemon.0);
    assert_eq!(
        daemon.cmdline(),
        render(LIBVIRT_NETWORK, &[("NETWORK", NETWORK)]),
        "libvirt's command line differs from the recorded one"
    );

    // The reserved guest gets its address; the gateway is router and DNS.
    let guest = lv.lab.container_on(BRIDGE, "g");
    guest.run_ok(&["ip", "link", "set", "host0", "address", RESERVED_MAC]);
    let lease = Client::Udhcpc
        .obtain(&guest, lv.lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\nlibvirtd's log:\n{}", lv.log_text()));
    assert_eq!(lease.addr.to_string(), RESERVED_ADDR, "{lease:?}");
    assert_eq!(lease.routers, [GATEWAY], "{lease:?}");
    assert_eq!(lease.dns, [GATEWAY], "{lease:?}");
    let want_domain = (domain == Domain::With).then_some(DOMAIN);
    assert_eq!(lease.domain.as_deref(), want_domain, "{lease:?}");

    // An unreserved guest gets one from the range.
    let other = lv.lab.container_on(BRIDGE, "o");
    let run = Run {
        hostname: Some(OTHER_NAME),
        ..Run::default()
    };
    let other_lease = Client::Udhcpc
        .obtain(&other, lv.lab.dir(), &run)
        .unwrap_or_else(|e| panic!("{e}\nlibvirtd's log:\n{}", lv.log_text()));
    let a = u32::from(other_lease.addr);
    assert!(
        (u32::from(RANGE.0)..=u32::from(RANGE.1)).contains(&a),
        "{other_lease:?} outside {RANGE:?}"
    );

    // DNS on the gateway: the reservation's name and the DHCP client's
    // (from leases), the <dns><host> (addn-hosts), bare and, with a
    // domain, in it (expand-hosts).
    let gw = GATEWAY.to_string();
    let other_addr = other_lease.addr.to_string();
    for (bare, want) in [
        (RESERVED_NAME, RESERVED_ADDR),
        (OTHER_NAME, other_addr.as_str()),
        (DNS_HOST_NAME, DNS_HOST_ADDR),
    ] {
        for name in domain.names(bare) {
            assert_eq!(dig(&other, &gw, &name), want, "{name} at {gw}");
        }
    }

    // net-dhcp-leases lists both guests: libvirt's lease helper ran.
    let other_mac = other.mac_string("host0");
    let expected = [
        (RESERVED_MAC, format!("{RESERVED_ADDR}/24"), RESERVED_NAME),
        (other_mac.as_str(), format!("{other_addr}/24"), OTHER_NAME),
    ];
    let listed = |text: &str| {
        expected.iter().all(|(mac, addr, name)| {
            text.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.contains(mac) && f.contains(&addr.as_str()) && f.contains(name)
            })
        })
    };
    // The helper runs after the ACK is sent.
    wait_until(Duration::from_secs(5), || {
        listed(&lv.virsh_ok(&["net-dhcp-leases", NETWORK]))
    });
    let leases = lv.virsh_ok(&["net-dhcp-leases", NETWORK]);
    assert!(
        listed(&leases),
        "net-dhcp-leases misses {expected:?}:\n{leases}\nstatus file:\n{}",
        read_or_empty(
            &lv.fs
                .path(&format!("/var/lib/libvirt/dnsmasq/{BRIDGE}.status"))
        )
    );

    // A restarted libvirtd finds the running daemon again (through the pid
    // file, checking that the pid runs /usr/sbin/dnsmasq) and keeps it.
    lv.restart();
    let active = lv.virsh_ok(&["net-list", "--name"]);
    assert!(active.lines().any(|l| l.trim() == NETWORK), "{active}");
    assert!(
        daemon.is_running(),
        "dnsmasq {} ended with libvirtd",
        daemon.0
    );

    // Live updates: libvirt rewrites the hosts files and sends the same
    // daemon SIGHUP, which rereads them.
    for (section, xml) in [("ip-dhcp-host", LATE_HOST_XML), ("dns-host", LATE_DNS_XML)] {
        lv.virsh_ok(&["net-update", NETWORK, "add", section, xml, "--live"]);
    }
    let hostsfile = lv.dnsmasq_file(&format!("{NETWORK}.hostsfile"));
    assert!(
        hostsfile.contains(&format!("{LATE_MAC},{LATE_ADDR},{LATE_NAME}")),
        "{hostsfile}"
    );
    assert_eq!(
        Proc::from_pid_file(&pid_file).map(|p| p.0),
        Some(daemon.0),
        "after libvirtd's restart and net-update the pid file names another daemon"
    );
    let late = lv.lab.container_on(BRIDGE, "l");
    late.run_ok(&["ip", "link", "set", "host0", "address", LATE_MAC]);
    let lease = Client::Udhcpc
        .obtain(&late, lv.lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\nlibvirtd's log:\n{}", lv.log_text()));
    assert_eq!(lease.addr.to_string(), LATE_ADDR, "{lease:?}");
    for (bare, want) in [(LATE_NAME, LATE_ADDR), (LATE_DNS_NAME, LATE_DNS_ADDR)] {
        for name in domain.names(bare) {
            assert_eq!(dig(&late, &gw, &name), want, "{name} at {gw}");
        }
    }

    // net-destroy stops the daemon and removes the bridge.
    lv.virsh_ok(&["net-destroy", NETWORK]);
    assert!(
        wait_until(Duration::from_secs(5), || !daemon.is_running()),
        "dnsmasq {} survived net-destroy",
        daemon.0
    );
    let bridge = lv.lab.host().run(&["ip", "link", "show", "dev", BRIDGE]);
    assert!(!bridge.status.success(), "net-destroy left {BRIDGE}");
    assert!(lv.is_running(), "libvirtd ended:\n{}", lv.log_text());
}

#[test]
fn libvirt_network_runs_dnsmasq_for_guests() {
    run_with(&dnsmasq(), Domain::With);
}

#[test]
fn libvirt_network_without_a_domain_runs_dnsmasq_for_guests() {
    run_with(&dnsmasq(), Domain::Without);
}

#[test]
fn libvirt_network_runs_nspawn_netd_for_guests() {
    run_with(&netd_bin(), Domain::With);
}

#[test]
fn libvirt_network_without_a_domain_runs_nspawn_netd_for_guests() {
    run_with(&netd_bin(), Domain::Without);
}
