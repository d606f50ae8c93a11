//! The command lines of [`command_lines`](super::command_lines), run as
//! their callers run them: on a bridge named as the caller names it, with
//! the directories and files the caller makes first, in the foreground when
//! the caller keeps dnsmasq there (NetworkManager, Incus, LXD) and forking
//! when it lets dnsmasq daemonize and reads the pid file (lxc-net). A
//! container on the bridge must get a lease from the pool, recorded in the
//! caller's lease file; SIGTERM must stop the server. Where the caller
//! keeps a hosts directory (Incus, LXD), an instance's static entry there
//! gives a second container its address and its name in the caller's DNS
//! domain, beside the gateway's `--interface-name`; an entry written while
//! the server runs is read after SIGHUP (Incus) or by itself (LXD's
//! `--dhcp-hostsdir`). Where the caller
//! serves IPv6 (Incus, LXD: `ra-stateless`, and Incus's
//! `option6:dns-server`), the container forms a SLAAC address and a
//! stateless DHCPv6 exchange gives it the bridge's address for DNS.
//!
//! Debian's own service runs too, with one file in its configuration
//! directory naming the bridge and a range.
//!
//! The callers' definitions are in [`callers`].
//!
//! libvirt's command line is not run here: libvirtd runs it itself
//! (`libvirt/`).

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

mod callers;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, netd_bin, read_or_empty, wait_until};

use super::ipv6::{dhcp6_name_servers, slaac_address};
use super::{CallerFs, NOT_YET, Proc, dig, dnsmasq, wait_for_dhcp_socket, without_not_yet};
pub(super) use callers::{
    DEBIAN_CONF_DIR, LAB_CONF_DIR, debian_service, guide, incus, lxc_net, lxd, network_manager,
    network_manager_with_options,
};

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
    /// An instance's `dhcp-host` file in the caller's hosts directory.
    static_entry: Option<StaticEntry>,
    /// An entry written while the server runs, and how the caller makes
    /// the server read it.
    late_entry: Option<(StaticEntry, Reload)>,
    /// Names the caller's DNS answers on the bridge's IPv4 address.
    names: Vec<DnsName>,
    /// The DNS servers the container must be given, when not the bridge's
    /// address.
    dns_servers: Option<&'static [Ipv4Addr]>,
}

/// One instance NIC's static DHCP entry, as Incus and LXD write it
/// (`UpdateStaticEntry()`): a file per NIC in the hosts directory, named
/// `INSTANCE.NIC` in the default project, holding `MAC[,IPV4][,[IPV6]],NAME`
/// and a newline (the name when DNS is managed).
#[derive(Debug, Clone, Copy)]
struct StaticEntry {
    path: &'static str,
    mac: &'static str,
    addr: Ipv4Addr,
    name: &'static str,
}

/// A name the caller's DNS answers, the address it must have, and the
/// option of the caller's line that gives it.
#[derive(Debug, Clone, Copy)]
struct DnsName {
    name: &'static str,
    addr: &'static str,
    from: &'static str,
}

/// How a running server learns of a new file in the hosts directory.
#[derive(Debug, Clone, Copy)]
enum Reload {
    /// The caller sends SIGHUP (Incus, `--dhcp-hostsfile` naming a
    /// directory).
    Sighup,
    /// The server watches the directory (`--dhcp-hostsdir`, as LXD
    /// passes it): nothing is sent.
    Watched,
}

impl StaticEntry {
    fn line(&self) -> String {
        format!("{},{},{}\n", self.mac, self.addr, self.name)
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
    if let Some(entry) = &rec.static_entry {
        fs.write(entry.path, &entry.line());
    }
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
    if let Some(servers) = rec.dns_servers {
        assert_eq!(lease.dns, servers, "{}: {lease:?}", rec.caller);
    }
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

    // The instance with a static entry gets its address, and its name in
    // the caller's domain; so does one whose entry comes while the server
    // runs.
    let instance_gets = |lab: &mut Lab, entry: &StaticEntry, short: &str| {
        let instance = lab.container_on(rec.bridge, short);
        instance.run_ok(&["ip", "link", "set", "host0", "address", entry.mac]);
        let lease = Client::Udhcpc
            .obtain(&instance, lab.dir(), &Run::default())
            .unwrap_or_else(|e| {
                panic!("{}: {e}\nserver log:\n{}", rec.caller, read_or_empty(&log))
            });
        assert_eq!(lease.addr, entry.addr, "{}: {lease:?}", rec.caller);
    };
    if let Some(entry) = &rec.static_entry {
        instance_gets(&mut lab, entry, "s");
    }
    if let Some((mut entry, reload)) = rec.late_entry {
        // Incus and LXD give a new instance an address no lease holds: the
        // first container's, from the pool, may be the one chosen here.
        if entry.addr == lease.addr {
            entry.addr = Ipv4Addr::from(u32::from(entry.addr) + 1);
        }
        fs.write(entry.path, &entry.line());
        if let Reload::Sighup = reload {
            let pid = match &started {
                Started::Foreground(child) => child.id() as i32,
                Started::Forked(daemon) => daemon.0,
            };
            // SAFETY: kill(2) on the server this test started.
            unsafe { libc::kill(pid, libc::SIGHUP) };
        }
        // The instance boots before it asks: the caller writes the entry,
        // then starts it. (dnsmasq reads the file at once; nspawn-netd
        // gathers a directory's changes for 100 ms first.)
        std::thread::sleep(Duration::from_secs(1));
        instance_gets(&mut lab, &entry, "t");
    }
    let server = rec.v4.split('/').next().expect("an address");
    for DnsName { name, addr, from } in &rec.names {
        assert_eq!(
            dig(&client, server, name),
            *addr,
            "{}: {name} (from {from}) at {server}",
            rec.caller
        );
    }

    // IPv6: the router advertisements give the container an address in
    // the bridge's prefix, stateless DHCPv6 the bridge's address for DNS.
    if let Some(v6) = rec.v6 {
        let (prefix, server) = (
            format!("{}:", v6.split("::").next().expect("a ::")),
            v6.split('/').next().expect("an address"),
        );
        let slaac = slaac_address(&client, &prefix);
        assert!(
            slaac.is_some(),
            "{}: no SLAAC address in {prefix}:/64:\n{}\nserver log:\n{}",
            rec.caller,
            client.run_ok(&["ip", "-6", "addr", "show", "dev", "host0"]),
            read_or_empty(&log)
        );
        let servers = dhcp6_name_servers(&client, lab.dir()).unwrap_or_else(|env| {
            panic!(
                "{}: no DHCPv6 DNS servers; dhclient's environment:\n{env}\nserver log:\n{}",
                rec.caller,
                read_or_empty(&log)
            )
        });
        assert_eq!(servers, server, "{}: DHCPv6 DNS servers", rec.caller);
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
fn network_manager_shared_mode_with_every_optional_argument_serves_a_client() {
    serve_a_client(network_manager_with_options(), &dnsmasq());
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

#[test]
fn debian_service_command_line_serves_a_client() {
    serve_a_client(debian_service(), &dnsmasq());
}

#[test]
fn guide_configuration_serves_a_client() {
    serve_a_client(guide(), &dnsmasq());
}

// The nspawn-netd variants. A line runs without the options nspawn-netd
// does not take yet ([`super::NOT_YET`], empty today), and so without what
// those options give; the `full` tests run the whole lines.

/// `rec` with its argv less [`super::NOT_YET`], and without the checks of
/// what the options left out would have given (so a check comes back by
/// itself when its option leaves `NOT_YET`).
fn available(mut rec: Recorded) -> Recorded {
    let given = |opt: &str| {
        rec.argv
            .iter()
            .any(|w| w == opt || w.starts_with(&format!("{opt}=")))
    };
    let stripped = |opt: &str| NOT_YET.contains(&opt) && given(opt);
    if stripped("--dhcp-hostsfile") || stripped("--dhcp-hostsdir") {
        rec.static_entry = None;
        rec.late_entry = None;
    }
    rec.names.retain(|n| !stripped(n.from));
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

#[test]
fn incus_full_bridge_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(incus(), &netd_bin());
}

#[test]
fn lxd_full_bridge_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(lxd(), &netd_bin());
}

#[test]
fn network_manager_shared_mode_with_every_optional_argument_serves_a_client_from_nspawn_netd() {
    serve_a_client(network_manager_with_options(), &netd_bin());
}

#[test]
fn debian_service_command_line_serves_a_client_from_nspawn_netd() {
    serve_a_client(debian_service(), &netd_bin());
}

#[test]
fn guide_configuration_serves_a_client_from_nspawn_netd() {
    serve_a_client(guide(), &netd_bin());
}
