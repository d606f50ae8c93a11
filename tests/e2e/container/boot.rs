//! The bootstrapped bookworm container booted in the lab: `container start`
//! (systemd-nspawn under `nsenter --net` into the lab's host namespace;
//! `ip netns exec` would hide the cgroup mount nspawn needs), a DHCP lease
//! from the bridge's server, DNS through 192.168.26.1 to the lab's upstream
//! zone, a ping through NAT to the internet namespace, its name resolving
//! from another container, then `container stop` and nothing left behind.
//!
//! The scenario runs against nspawn-netd and, as the oracle, dnsmasq. With
//! nspawn-netd, `nspawn-netd up` alone makes the bridge, forwarding, NAT and
//! runs the daemon: what a new user does. For dnsmasq the lab makes the
//! bridge and the test a masquerade, as a user would by hand.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Bookworm, bookworm, text};
use netd_testkit::lab::{Lab, Netns, wait_until};
use netd_testkit::nsd::Nsd;

/// One boot at a time: nspawn locks the rootfs while it runs.
static BOOT: Mutex<()> = Mutex::new(());

const UPSTREAM_ZONE: &str = "upstream.test";
const UPSTREAM_NAME: &str = "www.upstream.test";
const UPSTREAM_ADDR: &str = "203.0.113.80";

#[derive(Debug, Clone, Copy)]
enum Server {
    NspawnNetd,
    Dnsmasq,
}

#[test]
fn booted_container_is_networked_by_nspawn_netd() {
    boot_scenario(Server::NspawnNetd);
}

#[test]
fn booted_container_is_networked_by_dnsmasq_oracle() {
    boot_scenario(Server::Dnsmasq);
}

/// nsd serving `upstream.test` on 203.0.113.2 in the internet namespace.
fn start_nsd(lab: &Lab, inet: &Netns) -> Nsd {
    let zone = format!(
        "$ORIGIN {UPSTREAM_ZONE}.\n$TTL 300\n\
         @ IN SOA ns hostmaster 1 3600 600 86400 300\n\
         @ IN NS ns\nns IN A 203.0.113.2\nwww IN A {UPSTREAM_ADDR}\n"
    );
    Nsd::start(
        inet,
        lab.dir(),
        "203.0.113.2",
        UPSTREAM_ZONE,
        &zone,
        UPSTREAM_NAME,
        None,
    )
}

/// Forwarding and a masquerade from the bridge's subnet out of `uplink`.
fn add_nat(host: &Netns, lab: &Lab) {
    host.run_ok(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    let rules = lab.dir().join("nat.nft");
    std::fs::write(
        &rules,
        "table ip e2e_nat {\n  chain postrouting {\n    type nat hook postrouting priority srcnat;\n\
         \x20   oifname \"uplink\" ip saddr 192.168.26.0/24 masquerade\n  }\n}\n",
    )
    .unwrap();
    host.run_ok(&["nft", "-f", rules.to_str().unwrap()]);
}

/// The booted container; killed (its whole PID namespace) on drop if the
/// test did not stop it.
struct Booted<'a> {
    b: &'a Bookworm,
    nspawn: i32,
}

impl Booted<'_> {
    fn shell(&self, argv: &[&str]) -> Output {
        let mut args = vec!["shell", self.b.name, "--"];
        args.extend_from_slice(argv);
        self.b.dirs.cmd(&args).output().unwrap()
    }

    fn shell_ok(&self, argv: &[&str]) -> String {
        let out = self.shell(argv);
        assert!(
            out.status.success(),
            "{argv:?} in the container: {}",
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Booted<'_> {
    fn drop(&mut self) {
        if !alive(self.nspawn) {
            return;
        }
        for child in children(self.nspawn) {
            // SAFETY: kill(2) on the container's init: ends its PID namespace.
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
        // SAFETY: kill(2) on the nspawn this test started.
        unsafe { libc::kill(self.nspawn, libc::SIGKILL) };
        wait_until(Duration::from_secs(10), || !alive(self.nspawn));
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| !r.starts_with('Z')))
}

fn children(pid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                s.rsplit(") ").next().and_then(|r| r.split(' ').nth(1)) == Some(&pid.to_string())
            })
        })
        .collect()
}

fn boot_scenario(server: Server) {
    let b = bookworm();
    let _one_boot = BOOT.lock().unwrap_or_else(|e| e.into_inner());
    let t0 = Instant::now();
    let mut lab = match server {
        Server::NspawnNetd => Lab::without_bridge(),
        Server::Dnsmasq => Lab::new(),
    };
    let host = lab.host().clone();
    let inet = lab.internet();
    let mut nsd = start_nsd(&lab, &inet);
    // The forwarder's upstream, as the host's resolv.conf would name it.
    host.set_resolv_conf("nameserver 203.0.113.2\n");

    let lease_file = lab.dir().join("leases");
    let lease_arg = format!("--dhcp-leasefile={}", lease_file.display());
    let state_arg = format!("--state-dir={}", lab.dir().join("state").display());
    let mut dnsmasq = None;
    let _daemon = match server {
        // Bridge, addresses, forwarding, NAT44/NAT66 and the daemon.
        Server::NspawnNetd => Some(lab.start_daemon(&["up", &state_arg, &lease_arg])),
        Server::Dnsmasq => {
            add_nat(&host, &lab);
            dnsmasq = Some(
                host.cmd("dnsmasq")
                    .args([
                        "--keep-in-foreground",
                        "--conf-file=/dev/null",
                        "--interface=nat0",
                        "--bind-interfaces",
                    ])
                    .args([
                        "--dhcp-range=192.168.26.20,192.168.26.100,1h",
                        &lease_arg,
                        "--log-facility=-",
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            None
        }
    };

    // Boot through `container start` inside the host namespace.
    let t_boot = Instant::now();
    let mut start = Command::new("nsenter");
    start
        .arg(format!("--net=/run/netns/{}", host.name))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_nspawn-netd"));
    b.dirs.env(&mut start);
    let out = start
        .args(["container", "start", b.name])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "container start: {}", text(&out));
    let pid_file = b.dirs.run().join(format!("{}.pid", b.name));
    let nspawn: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let booted = Booted { b, nspawn };
    let console = b.dirs.run().join(format!("{}.console.log", b.name));
    let console_text = || std::fs::read_to_string(&console).unwrap_or_default();

    // systemd-networkd in the container gets a lease in the range.
    let mut addr = None;
    let leased = wait_until(Duration::from_secs(90), || {
        let out = booted.shell(&["hostname", "-I"]);
        addr = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find(|a| a.starts_with("192.168.26."))
            .map(str::to_owned);
        if addr.is_none() {
            std::thread::sleep(Duration::from_millis(300));
        }
        addr.is_some()
    });
    assert!(
        leased,
        "no lease after 90 s ({server:?}); console:\n{}",
        console_text()
    );
    let addr = addr.unwrap();
    let lease_secs = t_boot.elapsed().as_secs_f64();
    let last: u8 = addr.rsplit('.').next().unwrap().parse().unwrap();
    assert!((20..=100).contains(&last), "{addr} is outside the range");
    let leases = std::fs::read_to_string(&lease_file).unwrap_or_default();
    assert!(
        leases
            .lines()
            .any(|l| l.contains(&format!(" {addr} {} ", b.name))),
        "{addr} {} not in the lease file:\n{leases}",
        b.name
    );

    // An operator's tools work inside: `ip a` lists the interface nspawn
    // made, systemctl reaches systemd over D-Bus.
    let ip_a = booted.shell_ok(&["ip", "a"]);
    assert!(ip_a.contains("host0"), "ip a in the container:\n{ip_a}");
    let networkd = booted.shell_ok(&["systemctl", "is-active", "systemd-networkd"]);
    assert_eq!(networkd.trim(), "active");

    // DNS inside the container goes to 192.168.26.1 (its only nameserver).
    assert!(
        booted
            .shell_ok(&["cat", "/etc/resolv.conf"])
            .contains("nameserver 192.168.26.1\n")
    );
    let got = booted.shell_ok(&["getent", "hosts", UPSTREAM_NAME]);
    assert!(
        got.starts_with(UPSTREAM_ADDR),
        "getent hosts {UPSTREAM_NAME}: {got:?}"
    );
    // A ping through NAT reaches the internet namespace.
    booted.shell_ok(&["ping", "-c", "1", "-W", "3", "203.0.113.2"]);

    // Another container on the bridge resolves its name.
    let peer = lab.container("peer");
    peer.add_host0_addr("192.168.26.250/24");
    let answer = peer.run_ok(&[
        "dig",
        "+short",
        "+time=2",
        "+tries=2",
        "@192.168.26.1",
        b.name,
    ]);
    assert_eq!(answer.trim(), addr, "dig {} from another container", b.name);

    // The listing, run where the bridge is, shows it running with its
    // address; with `up`'s IPv6 also its SLAAC address, from the bridge's
    // neighbour table (the daemon's ra-names probes put it there).
    let list_me = || {
        let mut list = Command::new("nsenter");
        list.arg(format!("--net=/run/netns/{}", host.name))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_nspawn-netd"));
        b.dirs.env(&mut list);
        let out = list
            .args(["container", "list", "--json", "--lease-file"])
            .arg(&lease_file)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let list: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == b.name)
            .cloned()
            .unwrap()
    };
    let mut me = list_me();
    assert_eq!(
        (me["state"].as_str(), me["ipv4"].as_str()),
        (Some("running"), Some(addr.as_str()))
    );
    if let Server::NspawnNetd = server {
        let has_ipv6 = |me: &serde_json::Value| {
            me["ipv6"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|a| a.as_str().is_some_and(|a| a.starts_with("fd23:")))
            })
        };
        let listed = wait_until(Duration::from_secs(60), || {
            me = list_me();
            has_ipv6(&me) || {
                std::thread::sleep(Duration::from_millis(500));
                false
            }
        });
        assert!(listed, "no IPv6 address listed: {me}");
    }
    let refused = b.dirs.cmd(&["remove", "--yes", b.name]).output().unwrap();
    assert!(
        !refused.status.success(),
        "remove of a running container: {}",
        text(&refused)
    );

    // Stop cleanly and leave nothing behind.
    let leader = children(nspawn);
    let t_stop = Instant::now();
    let out = b
        .dirs
        .cmd(&["stop", b.name, "--timeout", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "container stop: {}\nconsole:\n{}",
        text(&out),
        console_text()
    );
    let stop_secs = t_stop.elapsed().as_secs_f64();
    assert!(!alive(nspawn), "systemd-nspawn is still running");
    assert!(
        leader.iter().all(|p| !alive(*p)),
        "the container's init is still running"
    );
    assert!(
        console_text().contains("has been shut down"),
        "{}",
        console_text()
    );
    let root = b.dirs.machines().join(b.name);
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        netd_container::cleanup::mounts_under(&mountinfo, &root).is_empty(),
        "mounts left under the rootfs"
    );
    assert!(
        netd_container::cleanup::mounts_under(
            &mountinfo,
            Path::new("/run/systemd/nspawn/propagate")
        )
        .is_empty(),
        "nspawn's propagation mount is left"
    );
    let links = host.run_ok(&["ip", "-o", "link", "show"]);
    assert!(!links.contains("vb-"), "nspawn's veth is left:\n{links}");
    assert!(!pid_file.exists());
    let list = b.dirs.cmd(&["list", "--json"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("\"stopped\""),
        "{}",
        text(&list)
    );

    nsd.stop();
    if let Some(child) = dnsmasq.as_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    eprintln!(
        "{server:?}: address {lease_secs:.1}s after `container start` began, stop took {stop_secs:.1}s, scenario {:.1}s",
        t0.elapsed().as_secs_f64()
    );
}
