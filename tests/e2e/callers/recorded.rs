//! The command lines of [`command_lines`](super::command_lines), run as
//! their callers run them: on a bridge named as the caller names it, with
//! the directories and files the caller makes first, in the foreground when
//! the caller keeps dnsmasq there (NetworkManager, Incus, LXD) and forking
//! when it lets dnsmasq daemonize and reads the pid file (lxc-net). A
//! container on the bridge must get a lease from the pool, recorded in the
//! caller's lease file; SIGTERM must stop the server.
//!
//! libvirt's and Debian's service command lines are not run here: libvirt's
//! needs its lease helper (`/usr/lib/libvirt/libvirt_leaseshelper`, not
//! installed), Debian's service serves no DHCP until `/etc/dnsmasq.conf`
//! says so.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, netd_bin, read_or_empty, wait_until};

use super::command_lines::{
    INCUS_BRIDGE, LXC_NET, LXD_BRIDGE, NETWORK_MANAGER_SHARED, NETWORK_MANAGER_SHARED_CONF_DIR,
    render,
};
use super::{CallerFs, Proc, dnsmasq, user_exists, wait_for_dhcp_socket, without_not_yet};

/// One caller's command line and the world it expects.
#[derive(Debug)]
pub(super) struct Recorded {
    pub(super) caller: &'static str,
    pub(super) argv: Vec<String>,
    bridge: &'static str,
    v4: &'static str,
    v6: Option<&'static str>,
    pool: (Ipv4Addr, Ipv4Addr),
    /// The lease file, as the caller names it.
    lease_file: &'static str,
    /// For a caller that lets dnsmasq fork: the pid file it reads.
    pid_file: Option<&'static str>,
    /// What the caller makes before it starts dnsmasq.
    pub(super) prepare: fn(&CallerFs),
}

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
pub(super) fn network_manager() -> Recorded {
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
    }
}

/// `incusbr0` as `incus admin init` makes it (with one fixed choice of the
/// random subnets), on a machine without an `incus` user.
pub(super) fn incus() -> Recorded {
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
    }
}

/// `lxdbr0` as `lxd init` makes it, on a machine without an `lxd` user.
pub(super) fn lxd() -> Recorded {
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
    }
}

/// lxc-net's command line alone, on the `lxcbr0` lxc-net would have made.
pub(super) fn lxc_net() -> Recorded {
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
    }
}

/// The server started from a recorded command line.
enum Started {
    Foreground(Child),
    Forked(Proc),
}

/// Runs `rec` with `binary` as dnsmasq; a container on the bridge gets a
/// lease from the pool, which the caller's lease file records; SIGTERM
/// stops the server.
fn serve_a_client(rec: Recorded, binary: &Path) {
    let mut lab = Lab::with_bridge(rec.bridge, rec.v4);
    if let Some(v6) = rec.v6 {
        lab.host()
            .run_ok(&["ip", "-6", "addr", "add", v6, "dev", rec.bridge, "nodad"]);
    }
    let fs = CallerFs::new(lab.dir());
    (rec.prepare)(&fs);
    let mounts = fs.mounts(binary);
    let log = lab.dir().join(format!("{}.log", rec.caller));
    let argv: Vec<&str> = rec.argv.iter().map(String::as_str).collect();
    let host = lab.host().clone();
    let started = match rec.pid_file {
        None => {
            let mut child = mounts.spawn(&host, &argv, &log);
            assert!(
                wait_for_dhcp_socket(&host, &mut child),
                "{}: {argv:?} did not start serving DHCP:\n{}",
                rec.caller,
                read_or_empty(&log)
            );
            Started::Foreground(child)
        }
        Some(pid_file) => {
            let status = mounts.run(&host, &argv, &log, Duration::from_secs(10));
            assert!(
                status.success(),
                "{}: {argv:?}: {status}\n{}",
                rec.caller,
                read_or_empty(&log)
            );
            let daemon = Proc::from_pid_file(&fs.path(pid_file))
                .unwrap_or_else(|| panic!("{}: no pid in {pid_file}", rec.caller));
            assert!(daemon.is_running() && daemon.is_in(&host), "{daemon:?}");
            Started::Forked(daemon)
        }
    };

    let client = lab.container_on(rec.bridge, "c");
    let lease = Client::Udhcpc
        .obtain(&client, lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{}: {e}\nserver log:\n{}", rec.caller, read_or_empty(&log)));
    let a = u32::from(lease.addr);
    assert!(
        (u32::from(rec.pool.0)..=u32::from(rec.pool.1)).contains(&a),
        "{}: {lease:?} outside {:?}",
        rec.caller,
        rec.pool
    );
    let mac = client.mac_string("host0");
    // The dnsmasq-format file may trail the lease by a second (nspawn-netd
    // writes it in the background; the journal is what makes a lease durable).
    let has_lease = |text: &str| {
        text.lines()
            .any(|l| l.contains(&mac) && l.contains(&lease.addr.to_string()))
    };
    wait_until(Duration::from_secs(3), || {
        has_lease(&read_or_empty(&fs.path(rec.lease_file)))
    });
    let leases = read_or_empty(&fs.path(rec.lease_file));
    assert!(
        has_lease(&leases),
        "{}: no lease for {mac} in {}:\n{leases}",
        rec.caller,
        rec.lease_file
    );

    // `--interface-name NAME,BRIDGE` (Incus, LXD): NAME answers with the
    // bridge's address.
    if let Some(i) = rec.argv.iter().position(|a| a == "--interface-name") {
        let name = rec.argv[i + 1].split(',').next().unwrap_or_default();
        let server = rec.v4.split('/').next().unwrap_or_default();
        let at = format!("@{server}");
        let out = client.run(&["dig", "+short", "+tries=2", "+timeout=2", &at, name, "A"]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            server,
            "{}: {name}\n{}",
            rec.caller,
            read_or_empty(&log)
        );
    }

    match started {
        Started::Foreground(mut child) => {
            let daemon = Proc(child.id() as i32);
            // SAFETY: kill(2) on the child we started.
            unsafe { libc::kill(daemon.0, libc::SIGTERM) };
            assert!(
                wait_until(Duration::from_secs(5), || matches!(
                    child.try_wait(),
                    Ok(Some(_))
                )),
                "{}: still running 5 s after SIGTERM",
                rec.caller
            );
        }
        Started::Forked(daemon) => {
            // SAFETY: kill(2) on the daemon the pid file names, which was
            // checked to be in our namespace.
            unsafe { libc::kill(daemon.0, libc::SIGTERM) };
            assert!(
                wait_until(Duration::from_secs(5), || !daemon.is_running()),
                "{}: still running 5 s after SIGTERM",
                rec.caller
            );
        }
    }
}

#[test]
fn network_manager_shared_mode_command_line_serves_a_client() {
    serve_a_client(network_manager(), &dnsmasq());
}

#[test]
fn incus_bridge_command_line_serves_a_client() {
    serve_a_client(incus(), &dnsmasq());
}

#[test]
fn lxd_bridge_command_line_serves_a_client() {
    serve_a_client(lxd(), &dnsmasq());
}

#[test]
fn lxc_net_command_line_serves_a_client() {
    serve_a_client(lxc_net(), &dnsmasq());
}

// The nspawn-netd variants. Incus's and LXD's lines run without the
// options nspawn-netd does not take yet ([`super::NOT_YET`]).

/// `rec` with its argv less [`super::NOT_YET`].
fn available(mut rec: Recorded) -> Recorded {
    rec.argv = without_not_yet(rec.argv);
    rec
}

#[test]
fn network_manager_shared_mode_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(network_manager(), &netd_bin());
}

#[test]
fn incus_bridge_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(available(incus()), &netd_bin());
}

#[test]
fn lxd_bridge_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(available(lxd()), &netd_bin());
}

#[test]
fn lxc_net_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(lxc_net(), &netd_bin());
}
