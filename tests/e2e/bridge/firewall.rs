//! The firewall `up` installs, seen from outside: one table per bridge
//! (two `up`s in one namespace keep both), the inbound policy (new
//! connections from the internet namespace into the bridge are dropped by
//! default and accepted with `--allow-inbound`), and the watcher backing
//! off from a program that keeps removing its table.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use netd_testkit::lab::{Daemon, Lab, Netns, in_netns, wait_until};

use super::{netd, netd_ok, snapshot, state_dir, table, table_whole};

/// The tables of the `inet` family in `ns`.
fn inet_tables(ns: &Netns) -> Vec<String> {
    ns.run_ok(&["nft", "list", "tables", "inet"])
        .lines()
        .filter_map(|l| l.strip_prefix("table inet "))
        .map(str::to_string)
        .collect()
}

/// `nspawn-netd up --no-daemon --keep-in-foreground EXTRA` in the lab's
/// host namespace, once it is ready.
fn keep_up(lab: &mut Lab, extra: &[&str]) -> Daemon {
    let state = state_dir(lab).to_str().unwrap().to_string();
    let mut args = vec![
        "up",
        "--no-daemon",
        "--keep-in-foreground",
        "--state-dir",
        &state,
    ];
    args.extend_from_slice(extra);
    lab.start_daemon(&args)
}

#[test]
fn two_bridges_in_one_namespace_keep_their_own_tables() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let before = snapshot(&host);
    let nat0 = keep_up(&mut lab, &[]);
    let nat1 = keep_up(
        &mut lab,
        &[
            "--bridge",
            "nat1",
            "--ipv4",
            "192.168.27.1/24",
            "--ipv6",
            "fd24::1/64",
        ],
    );
    let mut tables = inet_tables(&host);
    tables.sort();
    assert_eq!(tables, [table("nat0"), table("nat1")]);

    // Each watcher sees the other's transactions as foreign: they must
    // check, find their own table whole, and leave the other's alone.
    host.run_ok(&["nft", "flush", "ruleset"]);
    assert!(
        wait_until(Duration::from_secs(2), || {
            table_whole(&host, "nat0") && table_whole(&host, "nat1")
        }),
        "not both restored:\n{}\n{}",
        nat0.log_text(),
        nat1.log_text()
    );
    std::thread::sleep(Duration::from_secs(3));
    for (bridge, d) in [("nat0", &nat0), ("nat1", &nat1)] {
        assert!(table_whole(&host, bridge), "{bridge}:\n{}", d.log_text());
        let log = d.log_text();
        assert_eq!(log.matches("restored it").count(), 1, "{bridge}:\n{log}");
        assert!(!log.contains("backing off"), "{bridge}:\n{log}");
        assert!(log.contains("(nft)"), "the flush names nft:\n{log}");
    }
    let rules = host.run_ok(&["nft", "list", "table", "inet", &table("nat1")]);
    assert!(rules.contains("ip saddr 192.168.27.0/24 oifname != \"nat1\" masquerade"));
    assert!(!rules.contains("nat0"), "{rules}");

    assert!(nat0.stop().success());
    assert!(nat1.stop().success());
    // down removes its own table and nothing of the other bridge's.
    netd_ok(&lab, &["down"]);
    assert_eq!(inet_tables(&host), [table("nat1")]);
    assert!(table_whole(&host, "nat1"));
    netd_ok(&lab, &["down", "--bridge", "nat1"]);
    assert_eq!(inet_tables(&host), Vec::<String>::new());
    assert_eq!(snapshot(&host), before);
}

/// Opens a TCP connection from `from` to `to` within two seconds.
fn connect(from: &Netns, to: SocketAddr) -> std::io::Result<()> {
    in_netns(from, move || {
        TcpStream::connect_timeout(&to, Duration::from_secs(2)).map(drop)
    })
}

/// A listener on `addr` inside `ns`; the kernel completes handshakes into
/// its backlog without anyone calling accept.
fn listen(ns: &Netns, addr: &str) -> TcpListener {
    let addr: SocketAddr = addr.parse().unwrap();
    in_netns(ns, move || {
        TcpListener::bind(addr).expect("binding the listener")
    })
}

fn doctor_doc(lab: &Lab) -> Value {
    let out = netd(lab, &["doctor", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn finding_ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn new_inbound_connections_are_dropped_unless_allowed() {
    let mut lab = Lab::without_bridge();
    let inet = lab.internet();
    netd_ok(&lab, &["up", "--no-daemon"]);
    let c = lab.container("in");
    c.add_host0_addr("192.168.26.50/24");
    c.add_host0_addr("fd23::50/64");
    c.run_ok(&["ip", "route", "add", "default", "via", "192.168.26.1"]);
    c.run_ok(&["ip", "-6", "route", "add", "default", "via", "fd23::1"]);
    // The internet side routes the containers' prefixes to the host, as a
    // LAN router pointed at it would: only the firewall stands between.
    inet.run_ok(&[
        "ip",
        "route",
        "add",
        "192.168.26.0/24",
        "via",
        "203.0.113.1",
    ]);
    inet.run_ok(&[
        "ip",
        "-6",
        "route",
        "add",
        "fd23::/64",
        "via",
        "2001:db8:1::1",
    ]);
    let _v4 = listen(&c, "192.168.26.50:8080");
    let _v6 = listen(&c, "[fd23::50]:8080");
    let _out = listen(&inet, "203.0.113.2:8081");
    let v4: SocketAddr = "192.168.26.50:8080".parse().unwrap();
    let v6: SocketAddr = "[fd23::50]:8080".parse().unwrap();

    // Default: out and back works, in does not (the SYN is dropped, so the
    // connect times out rather than being refused).
    connect(&c, "203.0.113.2:8081".parse().unwrap()).expect("a container connects out");
    for to in [v4, v6] {
        let err = connect(&inet, to).expect_err("a new inbound connection got through");
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{to}: {err}");
    }
    let doc = doctor_doc(&lab);
    assert_eq!(doc["inbound"], "drop", "{doc}");
    assert!(
        finding_ids(&doc).contains(&"inbound-dropped".to_string()),
        "{doc}"
    );

    // --allow-inbound: the same connections are accepted.
    netd_ok(&lab, &["up", "--no-daemon", "--allow-inbound"]);
    let rules = lab
        .host()
        .run_ok(&["nft", "list", "table", "inet", &table("nat0")]);
    assert!(rules.contains("oifname \"nat0\" accept"), "{rules}");
    assert!(!rules.contains("drop"), "{rules}");
    for to in [v4, v6] {
        connect(&inet, to).unwrap_or_else(|e| panic!("{to} with --allow-inbound: {e}"));
    }
    connect(&c, "203.0.113.2:8081".parse().unwrap()).expect("a container connects out");
    let doc = doctor_doc(&lab);
    assert_eq!(doc["inbound"], "allow", "{doc}");
    assert!(
        finding_ids(&doc).contains(&"inbound-allowed".to_string()),
        "{doc}"
    );

    // And back: without the option, dropped again.
    netd_ok(&lab, &["up", "--no-daemon"]);
    let err = connect(&inet, v4).expect_err("dropped again");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    netd_ok(&lab, &["down"]);
}

#[test]
fn a_program_that_keeps_removing_the_table_is_backed_off_and_named() {
    let mut lab = Lab::without_bridge();
    lab.internet();
    let host = lab.host().clone();
    let daemon = keep_up(&mut lab, &[]);
    let fight = Duration::from_secs(6);
    // Deletes our table whenever it exists, every 50 ms, for 6 s.
    let script = format!(
        "end=$(($(date +%s) + {})); while [ $(date +%s) -lt $end ]; do \
         nft delete table inet {} 2>/dev/null; sleep 0.05; done",
        fight.as_secs(),
        table("nat0")
    );
    let started = Instant::now();
    host.run_ok(&["sh", "-c", &script]);
    let fought = started.elapsed();
    let log = daemon.log_text();
    let repairs = log.matches("restored it").count();
    let steps = log.matches("backing off").count();
    eprintln!("{repairs} repairs and {steps} backoff steps in {fought:?}");
    // Without backoff this would be a repair every 50 ms (over 100). With
    // it: three at once, then after 1, 2, 4 s (the 8 s one falls after the
    // fight): at most about seven, and one warning per step.
    assert!((3..=8).contains(&repairs), "{repairs} repairs:\n{log}");
    assert!((1..=5).contains(&steps), "{steps} steps:\n{log}");
    assert!(steps <= repairs, "{log}");
    let warning = log
        .lines()
        .find(|l| l.contains("backing off"))
        .unwrap_or_else(|| panic!("no backoff warning:\n{log}"));
    assert!(
        warning.contains("(sh)") || warning.contains("(nft)"),
        "{warning}"
    );
    assert!(warning.contains("next repair in 1s"), "{warning}");
    // Once the fight stops, the pending repair puts the table back within
    // its delay (at most 8 s here).
    assert!(
        wait_until(Duration::from_secs(12), || table_whole(&host, "nat0")),
        "not restored after the fight:\n{}",
        daemon.log_text()
    );
    assert!(daemon.stop().success());
    netd_ok(&lab, &["down"]);
}
