//! `nspawn-netd up`/`down`/`doctor` in a lab without a bridge: the host
//! namespace gets its bridge, forwarding and NAT from `up`, containers reach
//! the "internet" namespace through it (which has no route back to the
//! containers, so only masqueraded traffic can answer), and `down` leaves
//! the namespace exactly as it found it.

use std::path::PathBuf;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use netd_testkit::lab::{Lab, Netns, wait_until};

mod firewall;

/// Runs `nspawn-netd ARGS --state-dir LAB/state` in the host namespace.
fn netd(lab: &Lab, args: &[&str]) -> Output {
    let state = state_dir(lab);
    lab.host()
        .cmd(env!("CARGO_BIN_EXE_nspawn-netd"))
        .args(args)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("running nspawn-netd")
}

fn netd_ok(lab: &Lab, args: &[&str]) -> String {
    let out = netd(lab, args);
    assert!(
        out.status.success(),
        "nspawn-netd {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn state_dir(lab: &Lab) -> PathBuf {
    lab.dir().join("state")
}

/// Everything `up` may touch in the host namespace.
#[derive(Debug, PartialEq)]
struct Snapshot {
    addresses: Value,
    sysctls: Vec<(String, String)>,
    ruleset: Value,
}

const SYSCTLS: &[&str] = &[
    "net/ipv4/conf/all/forwarding",
    "net/ipv4/conf/default/forwarding",
    "net/ipv4/conf/uplink/forwarding",
    "net/ipv4/conf/lo/forwarding",
    "net/ipv6/conf/all/forwarding",
    "net/ipv6/conf/default/forwarding",
    "net/ipv6/conf/uplink/forwarding",
    "net/ipv6/conf/uplink/accept_ra",
    "net/ipv4/conf/all/rp_filter",
];

fn snapshot(host: &Netns) -> Snapshot {
    let sysctls = SYSCTLS
        .iter()
        .map(|k| {
            let v = host.run_ok(&["cat", &format!("/proc/sys/{k}")]);
            (k.to_string(), v.trim().to_string())
        })
        .collect();
    let mut addresses: Value = serde_json::from_str(&host.run_ok(&["ip", "-j", "addr"])).unwrap();
    // Duplicate address detection of the kernel's link-local addresses
    // finishes whenever it does; `tentative` is its progress, not ours.
    for link in addresses.as_array_mut().unwrap() {
        for a in link["addr_info"].as_array_mut().into_iter().flatten() {
            a.as_object_mut().unwrap().remove("tentative");
        }
    }
    Snapshot {
        addresses,
        sysctls,
        ruleset: serde_json::from_str(&host.run_ok(&["nft", "-j", "list", "ruleset"])).unwrap(),
    }
}

/// The name of `bridge`'s table.
fn table(bridge: &str) -> String {
    format!("nspawn_netd_{bridge}")
}

/// The rules of `bridge`'s table as nft prints them, one a line.
fn our_rules_text(host: &Netns, bridge: &str) -> String {
    host.run_ok(&["nft", "list", "table", "inet", &table(bridge)])
}

fn sysctl(host: &Netns, key: &str) -> String {
    host.run_ok(&["cat", &format!("/proc/sys/{key}")])
        .trim()
        .to_string()
}

#[test]
fn up_creates_everything_twice_changes_nothing_and_down_restores_all() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let before = snapshot(&host);

    netd_ok(&lab, &["up", "--no-daemon"]);
    let link: Value =
        serde_json::from_str(&host.run_ok(&["ip", "-d", "-j", "addr", "show", "nat0"])).unwrap();
    let link = &link[0];
    assert_eq!(link["linkinfo"]["info_kind"], "bridge", "{link}");
    let mac = netd_bridge::config::bridge_mac("nat0")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(link["address"], mac.as_str());
    assert!(link["flags"].as_array().unwrap().contains(&"UP".into()));
    let addrs: Vec<String> = link["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect();
    assert!(addrs.contains(&"192.168.26.1/24".to_string()), "{addrs:?}");
    assert!(addrs.contains(&"fd23::1/64".to_string()), "{addrs:?}");
    for key in [
        "net/ipv4/conf/all/forwarding",
        "net/ipv4/conf/default/forwarding",
        "net/ipv6/conf/all/forwarding",
        "net/ipv6/conf/default/forwarding",
    ] {
        assert_eq!(sysctl(&host, key), "1", "{key}");
    }
    let rules = our_rules_text(&host, "nat0");
    for line in [
        "type filter hook input priority filter; policy accept;",
        "iifname \"nat0\" udp dport 67 accept",
        "iifname \"nat0\" udp dport 53 accept",
        "iifname \"nat0\" tcp dport 53 accept",
        "iifname \"nat0\" udp dport 547 accept",
        "iifname \"nat0\" meta l4proto ipv6-icmp accept",
        "type filter hook forward priority filter; policy accept;",
        "iifname \"nat0\" accept",
        "oifname \"nat0\" ct state established,related accept",
        "oifname \"nat0\" drop",
        "type nat hook postrouting priority srcnat; policy accept;",
        "ip saddr 192.168.26.0/24 oifname != \"nat0\" masquerade",
        "ip6 saddr fd23::/64 oifname != \"nat0\" masquerade",
    ] {
        assert!(rules.contains(line), "missing {line:?} in\n{rules}");
    }
    let json = host.run_ok(&["nft", "-j", "list", "ruleset"]);
    assert!(json.contains("\"masquerade\""), "{json}");

    let after_first = snapshot(&host);
    let state_first = std::fs::read_to_string(state_dir(&lab).join("nat0.json")).unwrap();
    let second = netd(&lab, &["up", "--no-daemon"]);
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("nothing changed"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // Equal including rule handles: the table was not even re-created.
    assert_eq!(snapshot(&host), after_first);
    assert_eq!(
        std::fs::read_to_string(state_dir(&lab).join("nat0.json")).unwrap(),
        state_first
    );

    netd_ok(&lab, &["down"]);
    assert_eq!(snapshot(&host), before);
    assert!(!state_dir(&lab).join("nat0.json").exists());
}

#[test]
fn down_leaves_a_bridge_it_did_not_create_as_it_was() {
    let mut lab = Lab::new(); // nat0 with 192.168.26.1/24, no IPv6
    lab.internet();
    let host = lab.host().clone();
    // Forwarding on for one interface only: turning `all` on and off again
    // would lose that unless down puts it back.
    host.run_ok(&["sysctl", "-qw", "net.ipv4.conf.uplink.forwarding=1"]);
    let before = snapshot(&host);
    netd_ok(&lab, &["up", "--no-daemon"]);
    let addrs = host.run_ok(&["ip", "addr", "show", "nat0"]);
    assert!(addrs.contains("fd23::1/64"), "{addrs}");
    netd_ok(&lab, &["down"]);
    assert_eq!(snapshot(&host), before);
}

/// Starts tcpdump in `ns` on its `eth0` for one packet matching `filter`;
/// returns its output file and the process.
fn capture(lab: &Lab, ns: &Netns, filter: &str, tag: &str) -> (PathBuf, Child) {
    let out = lab.dir().join(format!("capture-{tag}"));
    let err = lab.dir().join(format!("capture-{tag}.err"));
    let child = ns
        .cmd("tcpdump")
        .args(["-i", "eth0", "-n", "-l", "-c", "1", "-Q", "in", filter])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("starting tcpdump");
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&err).is_ok_and(|t| t.contains("listening on"))
        }),
        "tcpdump in {} did not start: {}",
        ns.name,
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    (out, child)
}

/// The source address of the captured packet (`IP SRC > DST: …`); stops
/// the capture.
fn captured_source((path, mut tcpdump): (PathBuf, Child)) -> String {
    wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&path).is_ok_and(|s| s.contains(" > "))
    });
    let _ = tcpdump.kill();
    let _ = tcpdump.wait();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.split_whitespace()
        .skip_while(|w| *w != "IP" && *w != "IP6")
        .nth(1)
        .unwrap_or_else(|| panic!("no packet captured: {text:?}"))
        .to_string()
}

#[test]
fn a_container_reaches_the_internet_through_nat_on_v4_and_v6() {
    let mut lab = Lab::without_bridge();
    let inet = lab.internet();
    netd_ok(&lab, &["up", "--no-daemon"]);
    let c = lab.container("nat");
    c.add_host0_addr("192.168.26.50/24");
    c.add_host0_addr("fd23::50/64");
    c.run_ok(&["ip", "route", "add", "default", "via", "192.168.26.1"]);
    c.run_ok(&["ip", "-6", "route", "add", "default", "via", "fd23::1"]);

    // The pings succeed although the internet side has no route to the
    // containers, and it sees the host's uplink address, not the container's.
    let v4 = capture(&lab, &inet, "icmp[icmptype] == icmp-echo", "v4");
    c.run_ok(&["ping", "-c", "1", "-W", "5", "203.0.113.2"]);
    assert_eq!(captured_source(v4), "203.0.113.1");
    let v6 = capture(&lab, &inet, "icmp6 and ip6[40] == 128", "v6");
    c.run_ok(&["ping", "-6", "-c", "1", "-W", "5", "2001:db8:1::2"]);
    assert_eq!(captured_source(v6), "2001:db8:1::1");

    netd_ok(&lab, &["down"]);
    // Without our table and forwarding the container is cut off again.
    let out = c.run(&["ping", "-c", "1", "-W", "1", "203.0.113.2"]);
    assert!(!out.status.success(), "still reachable after down");
}

fn table_whole(host: &Netns, bridge: &str) -> bool {
    let out = host.run(&["nft", "list", "table", "inet", &table(bridge)]);
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("masquerade")
}

/// Three removals in a row are each repaired at once; a fourth within the
/// quiet period would wait (`firewall::a_program_that_keeps_removing_the_table_is_backed_off`).
#[test]
fn a_flushed_ruleset_is_restored_within_a_second_while_up_runs() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let state = state_dir(&lab);
    let state = state.to_str().unwrap();
    let daemon = lab.start_daemon(&[
        "up",
        "--no-daemon",
        "--keep-in-foreground",
        "--state-dir",
        state,
    ]);
    assert!(table_whole(&host, "nat0"));
    for (i, breakage) in [
        vec!["nft", "flush", "ruleset"],
        vec!["nft", "delete", "table", "inet", "nspawn_netd_nat0"],
        vec![
            "nft",
            "flush",
            "chain",
            "inet",
            "nspawn_netd_nat0",
            "postrouting",
        ],
    ]
    .iter()
    .enumerate()
    {
        host.run_ok(breakage);
        let broke = Instant::now();
        assert!(
            wait_until(Duration::from_secs(3), || table_whole(&host, "nat0")),
            "not restored after {breakage:?}:\n{}",
            daemon.log_text()
        );
        let took = broke.elapsed();
        eprintln!("restored after {breakage:?} in {took:?}");
        assert!(
            took < Duration::from_secs(1),
            "restoring after {breakage:?} took {took:?}"
        );
        // The log line follows the repair by a moment.
        let logged = wait_until(Duration::from_secs(2), || {
            daemon.log_text().matches("restored it").count() > i
        });
        assert!(logged, "the repair was not logged:\n{}", daemon.log_text());
    }
    assert!(daemon.stop().success());
    netd_ok(&lab, &["down"]);
    assert!(
        !host
            .run(&["nft", "list", "table", "inet", &table("nat0")])
            .status
            .success()
    );
}

fn doctor_json(lab: &Lab) -> (bool, Vec<Value>) {
    let out = netd(lab, &["doctor", "--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json printed no JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.success(),
        doc["findings"].as_array().unwrap().clone(),
    )
}

fn ids(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn doctor_reports_a_forward_drop_policy_and_a_port_53_conflict() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let (ok, findings) = doctor_json(&lab);
    assert!(!ok);
    assert!(ids(&findings).contains(&"bridge-missing".to_string()));

    netd_ok(&lab, &["up", "--no-daemon"]);
    let (ok, findings) = doctor_json(&lab);
    assert!(ok, "{findings:?}");
    assert!(
        !findings.iter().any(|f| f["severity"] == "error"),
        "{findings:?}"
    );

    host.run_ok(&["nft", "add", "table", "ip", "filter"]);
    host.run_ok(&[
        "nft",
        "add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }",
    ]);
    // Another DNS server on the bridge's address, as a leftover dnsmasq would be.
    let mut squatter = host.spawn(&[
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--pid-file=",
        "--bind-interfaces",
        "--listen-address=192.168.26.1",
        "--port=53",
    ]);
    assert!(wait_until(Duration::from_secs(10), || {
        !host
            .run_ok(&["ss", "-H", "-lun", "sport = :53"])
            .trim()
            .is_empty()
    }));

    let (ok, findings) = doctor_json(&lab);
    assert!(!ok, "doctor must fail on errors");
    let found = ids(&findings);
    assert!(
        found.contains(&"forward-drop-policy".to_string()),
        "{findings:?}"
    );
    let port = findings
        .iter()
        .find(|f| f["id"] == "port-conflict")
        .unwrap_or_else(|| panic!("no port conflict in {findings:?}"));
    let msg = port["message"].as_str().unwrap();
    assert!(msg.contains("192.168.26.1/udp port 53"), "{msg}");
    assert!(msg.contains("/dnsmasq"), "{msg}");
    let drop = findings
        .iter()
        .find(|f| f["id"] == "forward-drop-policy")
        .unwrap();
    assert!(
        drop["fix"]
            .as_str()
            .unwrap()
            .contains("iptables -I FORWARD -i nat0")
    );

    let human = netd(&lab, &["doctor"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("[forward-drop-policy]") && text.contains("[port-conflict]"),
        "{text}"
    );
    assert!(text.contains("fix:"), "{text}");

    let _ = squatter.kill();
    let _ = squatter.wait();
    host.run_ok(&["nft", "delete", "table", "ip", "filter"]);
    netd_ok(&lab, &["down"]);
}

/// A udhcpc script that applies the lease with `ip` and records it.
fn udhcpc_script(lab: &Lab) -> PathBuf {
    let path = lab.dir().join("udhcpc.sh");
    let lease = lab.dir().join("udhcpc.lease");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             case \"$1\" in\n\
             bound|renew)\n\
               ip addr add \"$ip/$mask\" dev \"$interface\"\n\
               ip route replace default via \"$router\"\n\
               echo \"ip=$ip router=$router dns=$dns\" > {}\n;;\n\
             esac\n",
            lease.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// `up` alone: the container gets an IPv4 lease, a SLAAC address from the
/// RA, its DHCP name in DNS, and reaches the internet namespace on both
/// families through NAT.
#[test]
fn up_alone_gives_a_container_addresses_dns_and_internet_on_v4_and_v6() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let state = state_dir(&lab);
    let state = state.to_str().unwrap().to_string();
    // Leases in the lab, never in the machine's /var/lib/misc.
    let leases = format!("--dhcp-leasefile={}", lab.dir().join("leases").display());
    let daemon = lab.start_daemon(&["up", "--state-dir", &state, &leases]);
    let c = lab.container("dhcp");
    c.run_ok(&["sysctl", "-qw", "net.ipv6.conf.host0.accept_ra=1"]);
    let script = udhcpc_script(&lab);
    let out = c.run(&[
        "udhcpc",
        "-i",
        "host0",
        "-f",
        "-q",
        "-n",
        "-t",
        "5",
        "-T",
        "2",
        "-x",
        "hostname:alpha",
        "-s",
        script.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "udhcpc got no lease:\n{}\ndaemon log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log_text()
    );
    let lease = std::fs::read_to_string(lab.dir().join("udhcpc.lease")).unwrap();
    assert!(lease.contains("router=192.168.26.1"), "{lease}");
    assert!(lease.contains("dns=192.168.26.1"), "{lease}");
    let leased = lease
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ip="))
        .unwrap()
        .to_string();
    c.run_ok(&["ping", "-c", "1", "-W", "5", "203.0.113.2"]);

    // DNS on the bridge knows the container by its DHCP name.
    let answer = c.run_ok(&["dig", "@192.168.26.1", "+short", "+time=2", "alpha", "A"]);
    assert_eq!(answer.trim(), leased, "{}", daemon.log_text());

    // IPv6: a SLAAC address and a default route from the RA, then NAT66.
    let slaac = wait_until(Duration::from_secs(20), || {
        let a = c.run_ok(&[
            "ip", "-6", "-o", "addr", "show", "dev", "host0", "scope", "global",
        ]);
        a.contains("fd23::") && !a.contains("tentative")
    });
    assert!(
        slaac,
        "no SLAAC address:\n{}\n{}",
        c.run_ok(&["ip", "-6", "addr", "show", "dev", "host0"]),
        daemon.log_text()
    );
    assert!(wait_until(Duration::from_secs(10), || {
        c.run_ok(&["ip", "-6", "route", "show", "default"])
            .contains("dev host0")
    }));
    c.run_ok(&["ping", "-6", "-c", "1", "-W", "5", "2001:db8:1::2"]);

    assert!(daemon.stop().success());
    netd_ok(&lab, &["down"]);
}

#[test]
fn an_uplink_with_an_ra_default_route_gets_accept_ra_2_and_back() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    host.run_ok(&["sysctl", "-qw", "net.ipv6.conf.uplink.accept_ra=1"]);
    host.run_ok(&[
        "ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "uplink", "proto", "ra",
    ]);
    let before = snapshot(&host);
    netd_ok(&lab, &["up", "--no-daemon"]);
    assert_eq!(sysctl(&host, "net/ipv6/conf/uplink/accept_ra"), "2");
    assert_eq!(sysctl(&host, "net/ipv6/conf/all/forwarding"), "1");
    netd_ok(&lab, &["down"]);
    assert_eq!(snapshot(&host), before);
    assert_eq!(sysctl(&host, "net/ipv6/conf/uplink/accept_ra"), "1");
}

#[test]
fn teardown_on_exit_undoes_everything_and_down_waits_for_up_to_stop() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let before = snapshot(&host);
    let state = state_dir(&lab);
    let state = state.to_str().unwrap().to_string();
    let daemon = lab.start_daemon(&[
        "up",
        "--no-daemon",
        "--keep-in-foreground",
        "--teardown-on-exit",
        "--state-dir",
        &state,
    ]);
    assert!(table_whole(&host, "nat0"));
    // A down under a running up would be undone by its watcher: refused.
    let refused = netd(&lab, &["down"]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains(&format!("pid {}", daemon.pid)), "{why}");
    assert!(table_whole(&host, "nat0"));
    let log = daemon.log.clone();
    assert!(daemon.stop().success());
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("deleted bridge nat0"), "{log}");
    assert_eq!(snapshot(&host), before);
}

#[test]
fn settings_come_from_a_config_file() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let before = snapshot(&host);
    let file = lab.dir().join("up.toml");
    std::fs::write(
        &file,
        "bridge = \"nat7\"\nipv4 = \"10.77.0.1/24\"\nno-ipv6 = true\ndomain = \"box\"\n",
    )
    .unwrap();
    let up = netd(
        &lab,
        &["up", "--no-daemon", "--config", file.to_str().unwrap()],
    );
    assert!(up.status.success());
    // A domain is set, but the lab is not the host's network namespace:
    // the host's systemd-resolved must not be told about this bridge.
    let log = String::from_utf8_lossy(&up.stderr);
    assert!(log.contains("not in the host's network namespace"), "{log}");
    let addrs = host.run_ok(&["ip", "addr", "show", "nat7"]);
    assert!(addrs.contains("inet 10.77.0.1/24"), "{addrs}");
    assert!(!addrs.contains("fd23::1"), "{addrs}");
    assert_eq!(sysctl(&host, "net/ipv6/conf/all/forwarding"), "0");
    let rules = our_rules_text(&host, "nat7");
    assert!(
        rules.contains("ip saddr 10.77.0.0/24 oifname != \"nat7\" masquerade"),
        "{rules}"
    );
    assert!(!rules.contains("ip6 saddr"), "{rules}");
    netd_ok(&lab, &["down", "--bridge", "nat7"]);
    assert_eq!(snapshot(&host), before);
}
