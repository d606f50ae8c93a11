//! Debian's `lxc-net` (package `lxc`), unchanged, in a lab host namespace:
//! `lxc-net start` makes `lxcbr0`, its nftables table and its dnsmasq;
//! a container on `lxcbr0` gets a lease and resolves through it;
//! `lxc-net stop` kills dnsmasq and removes the bridge.
//!
//! lxc-net reads `/etc/default/lxc` (which sources `/etc/default/lxc-net`),
//! writes `/run/lxc` (pid file, `network_up`) and `/var/lib/misc` (the
//! lease file), and runs `dnsmasq` from `$PATH` with `-u`: all of that
//! happens in a private mount namespace ([`CallerFs`] plus the two files
//! below), with the binary under test as `/usr/sbin/dnsmasq`. Its firewall
//! (`nft`, since `nft list ruleset` works) and sysctls land in the lab's
//! host namespace only.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, netd_bin, read_or_empty, wait_until};
use netd_testkit::private_mounts::PrivateMounts;

use super::command_lines::{LXC_NET, render};
use super::{CallerFs, Proc, dig, dnsmasq, user_exists, user_name};

const LXC_NET_SCRIPT: &str = "/usr/libexec/lxc/lxc-net";
const BRIDGE: &str = "lxcbr0";
const BRIDGE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 1);
/// A name only the private `/etc/hosts` knows.
const HOSTS_NAME: &str = "lxcpeer";
const HOSTS_ADDR: &str = "10.0.3.99";
const CLIENT_NAME: &str = "lxcclient";

/// One lxc-net installation: a lab host namespace without a bridge, and
/// the private files lxc-net and its dnsmasq read and write there.
#[derive(Debug)]
pub struct LxcNet {
    pub lab: Lab,
    fs: CallerFs,
    mounts: PrivateMounts,
    log: PathBuf,
}

impl LxcNet {
    /// Prepares lxc-net with `binary` as its dnsmasq.
    pub fn new(binary: &Path) -> LxcNet {
        assert!(
            Path::new(LXC_NET_SCRIPT).exists(),
            "{LXC_NET_SCRIPT} is missing: install the lxc package (see .ci/run)"
        );
        let lab = Lab::without_bridge();
        let fs = CallerFs::new(lab.dir());
        // Debian's own setting (every other one is the script's default),
        // whatever this machine's /etc/default/lxc-net says.
        let default = lab.dir().join("default-lxc-net");
        fs::write(&default, "USE_LXC_BRIDGE=\"true\"\n").expect("writing lxc-net's settings");
        let hosts = lab.dir().join("hosts");
        fs::write(
            &hosts,
            format!("127.0.0.1 localhost\n{HOSTS_ADDR} {HOSTS_NAME}\n"),
        )
        .expect("writing the hosts file");
        let mounts = fs
            .mounts(binary)
            .bind(&default, "/etc/default/lxc-net")
            .bind(&hosts, "/etc/hosts");
        let log = lab.dir().join("lxc-net.log");
        LxcNet {
            lab,
            fs,
            mounts,
            log,
        }
    }

    /// `lxc-net ACTION` (start, stop), to its end.
    pub fn lxc_net(&self, action: &str) -> ExitStatus {
        self.mounts.run(
            self.lab.host(),
            &[LXC_NET_SCRIPT, action],
            &self.log,
            Duration::from_secs(30),
        )
    }

    pub fn log_text(&self) -> String {
        read_or_empty(&self.log)
    }

    pub fn pid_file(&self) -> PathBuf {
        self.fs.path("/run/lxc/dnsmasq.pid")
    }

    pub fn leases(&self) -> String {
        read_or_empty(&self.fs.path("/var/lib/misc/dnsmasq.lxcbr0.leases"))
    }

    pub fn bridge_exists(&self) -> bool {
        self.lab
            .host()
            .run(&["ip", "link", "show", "dev", BRIDGE])
            .status
            .success()
    }
}

/// The user lxc-net picks for `-u`: the first of these that exists.
fn lxc_net_user() -> &'static str {
    ["lxc-dnsmasq", "dnsmasq", "nobody"]
        .into_iter()
        .find(|u| user_exists(u))
        .expect("not even nobody exists")
}

/// The whole lxc-net life cycle with `binary` as dnsmasq.
pub fn run_with(binary: &Path) {
    let mut net = LxcNet::new(binary);
    let status = net.lxc_net("start");
    assert!(
        status.success(),
        "lxc-net start: {status}\n{}",
        net.log_text()
    );

    // The pid file names our daemon, running in the lab's host namespace
    // as lxc-net's unprivileged user, with lxc-net's argv.
    let daemon = Proc::from_pid_file(&net.pid_file())
        .unwrap_or_else(|| panic!("no pid in {:?}\n{}", net.pid_file(), net.log_text()));
    assert!(daemon.is_running(), "pid {} is not running", daemon.0);
    assert!(
        daemon.is_in(net.lab.host()),
        "pid {} is elsewhere",
        daemon.0
    );
    let uids = daemon.uids();
    let user = user_name(uids[1]).unwrap_or_else(|| uids[1].to_string());
    eprintln!(
        "lxc-net's dnsmasq (pid {}) runs as uid {uids:?} ({user})",
        daemon.0
    );
    assert!(
        uids.len() == 4 && uids.iter().all(|u| *u != 0),
        "dnsmasq kept root: {uids:?}"
    );
    assert_eq!(user, lxc_net_user());
    assert_eq!(
        daemon.cmdline(),
        render(LXC_NET, &[("DNSMASQ_USER", lxc_net_user())]),
        "lxc-net's command line differs from the recorded one"
    );

    // A container on lxcbr0 gets a lease, which the lease file records.
    let client = net.lab.container_on(BRIDGE, "lx");
    let run = Run {
        hostname: Some(CLIENT_NAME),
        ..Run::default()
    };
    let lease = Client::Udhcpc
        .obtain(&client, net.lab.dir(), &run)
        .unwrap_or_else(|e| panic!("{e}\nlxc-net log:\n{}", net.log_text()));
    let [a, b, c, d] = lease.addr.octets();
    assert!(
        [a, b, c] == [10, 0, 3] && (2..=254).contains(&d),
        "{lease:?}"
    );
    assert_eq!(lease.routers, [BRIDGE_ADDR], "{lease:?}");
    assert_eq!(lease.dns, [BRIDGE_ADDR], "{lease:?}");
    let mac = client.mac_string("host0");
    // The dnsmasq-format file may trail the lease by a second.
    wait_until(Duration::from_secs(3), || net.leases().contains(&mac));
    let leases = net.leases();
    assert!(
        leases.lines().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.len() == 5 && f[1] == mac && f[2] == lease.addr.to_string() && f[3] == CLIENT_NAME
        }),
        "no lease line for {mac} {} {CLIENT_NAME} in:\n{leases}",
        lease.addr
    );

    // DNS on 10.0.3.1 answers from the private /etc/hosts and from leases.
    let server = BRIDGE_ADDR.to_string();
    assert_eq!(dig(&client, &server, HOSTS_NAME), HOSTS_ADDR);
    assert_eq!(dig(&client, &server, CLIENT_NAME), lease.addr.to_string());

    // Stop, as after the containers stopped (a bridge with ports is kept).
    net.lab.unplug(&client);
    let status = net.lxc_net("stop");
    assert!(
        status.success(),
        "lxc-net stop: {status}\n{}",
        net.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(5), || !daemon.is_running()),
        "dnsmasq {} survived lxc-net stop",
        daemon.0
    );
    let left: Vec<String> = net
        .lab
        .host()
        .run_ok(&["ip", "netns", "pids", &net.lab.host().name])
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .map(Proc)
        .filter(|p| p.is_running() && p.name() == "dnsmasq")
        .map(|p| p.0.to_string())
        .collect();
    assert!(left.is_empty(), "dnsmasq still running: {left:?}");
    assert!(!net.bridge_exists(), "lxc-net stop left {BRIDGE}");
    assert!(!net.pid_file().exists(), "lxc-net stop left the pid file");
}

#[test]
fn lxc_net_runs_dnsmasq_for_a_container() {
    run_with(&dnsmasq());
}

/// lxc-net starts dnsmasq without `--keep-in-foreground` (it waits for the
/// start to return, then reads the pid file), with `-u` and with
/// `--dhcp-no-override`.
#[test]
fn lxc_net_runs_nspawn_netd_for_a_container() {
    run_with(&netd_bin());
}
