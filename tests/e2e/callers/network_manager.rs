//! NetworkManager 1.42.4 itself in shared mode, in a lab host namespace: a
//! bridge connection `nm-bridge` with `ipv4.method=shared` makes
//! NetworkManager start dnsmasq with [`NETWORK_MANAGER_SHARED`]'s argv; a
//! container on the bridge gets a lease; deleting the bridge makes
//! NetworkManager stop dnsmasq.
//!
//! NetworkManager is unpacked, not installed (installed, it would manage
//! the machine's own interfaces): `.ci/run` extracts Debian's
//! `network-manager` and `libndp0` under [`nm_root`]. In a private mount
//! namespace ([`CallerFs`]: `/run` and `/var/lib` are lab directories) a
//! private system bus (`dbus-daemon`, allow-all policy) is started first,
//! then NetworkManager with its own configuration: the keyfile plugin only,
//! reading one keyfile from the lab, and no default connections.

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, netd_bin, read_or_empty, wait_until};

use super::recorded::network_manager;
use super::{CallerFs, Proc, dnsmasq, wait_for_dhcp_socket};

const BRIDGE: &str = "nm-bridge";
/// Set to the directory Debian's `network-manager` and `libndp0` were
/// extracted into (`dpkg -x`); `.ci/run` uses the default.
const NM_ROOT_ENV: &str = "NSPAWN_NETD_NM_ROOT";
const NM_ROOT_DEFAULT: &str = "/var/cache/nspawn-netd-tests/network-manager";

/// The system bus: on the standard path, anyone may own and call anything.
const DBUS_CONF: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"#;

/// NetworkManager's own settings: connections from one lab directory, no
/// default connections, and nothing done to the machine's resolv.conf or
/// hostname (the namespace shares the machine's `/etc` and UTS namespace).
const NM_CONF: &str = "\
[main]
plugins=keyfile
no-auto-default=*
dns=none
rc-manager=unmanaged
hostname-mode=none
systemd-resolved=false
[keyfile]
path=/run/nm-connections
";

/// The connection: a bridge shared over IPv4 (STP off, so a port forwards
/// at once), no IPv6.
const SHARED_KEYFILE: &str = "\
[connection]
id=shared
type=bridge
interface-name=nm-bridge
[bridge]
stp=false
[ipv4]
method=shared
[ipv6]
method=disabled
";

/// Where NetworkManager was unpacked.
fn nm_root() -> PathBuf {
    let root = std::env::var_os(NM_ROOT_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(NM_ROOT_DEFAULT));
    assert!(
        root.join("usr/sbin/NetworkManager").exists(),
        "no NetworkManager under {}: extract Debian's network-manager and libndp0 there \
         (see .ci/run), or set {NM_ROOT_ENV}",
        root.display()
    );
    root
}

/// The multiarch library directory under `root` holding libndp.
fn lib_dir(root: &Path) -> PathBuf {
    fs::read_dir(root.join("usr/lib"))
        .expect("reading the unpacked usr/lib")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|d| d.join("libndp.so.0").exists())
        .unwrap_or_else(|| panic!("no libndp.so.0 under {}/usr/lib/*", root.display()))
}

/// NetworkManager's shared mode with `binary` as dnsmasq.
pub fn run_with(binary: &Path) {
    let root = nm_root();
    let mut lab = Lab::without_bridge();
    let fs = CallerFs::new(lab.dir());
    fs.mkdir("/run/dbus");
    let keyfile = fs.write("/run/nm-connections/shared.nmconnection", SHARED_KEYFILE);
    // NetworkManager ignores a keyfile others may read.
    fs::set_permissions(&keyfile, fs::Permissions::from_mode(0o600)).expect("chmod keyfile");
    let (dbus_conf, nm_conf) = (lab.dir().join("dbus.conf"), lab.dir().join("nm.conf"));
    fs::write(&dbus_conf, DBUS_CONF).expect("writing the bus config");
    fs::write(&nm_conf, NM_CONF).expect("writing NetworkManager's config");
    let script = format!(
        "dbus-daemon --config-file='{}' --fork && \
         LD_LIBRARY_PATH='{}' exec '{}' --debug --config='{}'",
        dbus_conf.display(),
        lib_dir(&root).display(),
        root.join("usr/sbin/NetworkManager").display(),
        nm_conf.display()
    );
    let log = lab.dir().join("NetworkManager.log");
    let host = lab.host().clone();
    let mut nm = fs.mounts(binary).spawn(&host, &["sh", "-c", &script], &log);
    // NetworkManager activates the connection within seconds; a busy
    // machine may take longer. The daemon writes its pid file once bound.
    let pid_file = fs.path("/run/nm-dnsmasq-nm-bridge.pid");
    wait_until(Duration::from_secs(30), || {
        Proc::from_pid_file(&pid_file).is_some() || !matches!(nm.try_wait(), Ok(None))
    });
    assert!(
        wait_for_dhcp_socket(&host, &mut nm),
        "NetworkManager's dnsmasq does not serve DHCP:\n{}",
        read_or_empty(&log)
    );

    // The daemon runs NetworkManager's argv and wrote its pid file.
    let daemon = Proc::from_pid_file(&pid_file)
        .unwrap_or_else(|| panic!("no pid in {pid_file:?}\n{}", read_or_empty(&log)));
    assert!(daemon.is_running() && daemon.is_in(&host), "{daemon:?}");
    assert_eq!(
        daemon.cmdline(),
        network_manager().argv,
        "NetworkManager's command line differs from the recorded one"
    );

    // A container on the bridge gets a lease, in NetworkManager's file.
    let client = lab.container_on(BRIDGE, "c");
    let lease = Client::Udhcpc
        .obtain(&client, lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\nNetworkManager's log:\n{}", read_or_empty(&log)));
    let [a, b, c, d] = lease.addr.octets();
    assert!(
        [a, b, c] == [10, 42, 0] && (10..=254).contains(&d),
        "{lease:?}"
    );
    let gateway = Ipv4Addr::new(10, 42, 0, 1);
    assert_eq!(lease.routers, [gateway], "{lease:?}");
    assert_eq!(lease.dns, [gateway], "{lease:?}");
    let mac = client.mac_string("host0");
    let leases_path = fs.path("/var/lib/NetworkManager/dnsmasq-nm-bridge.leases");
    wait_until(Duration::from_secs(3), || {
        read_or_empty(&leases_path).contains(&mac)
    });
    let leases = read_or_empty(&leases_path);
    assert!(
        leases.contains(&mac) && leases.contains(&lease.addr.to_string()),
        "no lease for {mac} in:\n{leases}"
    );

    // The bridge gone, NetworkManager stops the daemon.
    host.run_ok(&["ip", "link", "del", BRIDGE]);
    assert!(
        wait_until(Duration::from_secs(10), || !daemon.is_running()),
        "dnsmasq {} survived its device:\n{}",
        daemon.0,
        read_or_empty(&log)
    );
    assert!(
        matches!(nm.try_wait(), Ok(None)),
        "NetworkManager ended:\n{}",
        read_or_empty(&log)
    );
    let _ = nm.kill();
    let _ = nm.wait();
}

#[test]
fn network_manager_shared_mode_runs_dnsmasq_for_a_container() {
    run_with(&dnsmasq());
}

#[test]
fn network_manager_shared_mode_runs_nspawn_netd_for_a_container() {
    run_with(&netd_bin());
}
