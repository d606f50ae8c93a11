//! Logs under a flood: thousands of DISCOVERs on a full pool write a
//! bounded number of warning lines (the first, then a count), with no
//! terminal escape codes in the file; `--log-dhcp` keeps one line per
//! packet.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dhcproto::Encodable;
use dhcproto::v4::MessageType;
use netd_testkit::dhcp_wire;
use netd_testkit::lab::{Lab, in_netns, netd_bin, read_or_empty, wait_until};

use super::{netd_cmd, status_json, text};

/// A forked daemon (as dnsmasq's callers run it: no RUST_LOG, a log file)
/// with a pool of one address.
fn start_forked(lab: &Lab, extra: &[&str]) -> (PathBuf, PathBuf) {
    let log = lab.dir().join(format!("flood-{}.log", extra.len()));
    let pid = lab.dir().join(format!("flood-{}.pid", extra.len()));
    let mut args = vec![
        "--interface=nat0".to_owned(),
        "--dhcp-range=192.168.26.20,192.168.26.20,12h".into(),
        "--port=0".into(),
        format!("--dhcp-leasefile={}", lab.dir().join("leases").display()),
        format!("--log-facility={}", log.display()),
        format!("--pid-file={}", pid.display()),
        format!("--control-dir={}", lab.dir().display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let bin = netd_bin();
    let mut argv: Vec<&str> = vec![bin.to_str().unwrap()];
    argv.extend(args.iter().map(String::as_str));
    let out = lab.host().run(&argv);
    assert!(out.status.success(), "{}", text(&out));
    (log, pid)
}

/// Takes the one address, then sends `n` DISCOVERs from other MACs, as
/// fast as the socket goes; returns how long the flood took.
fn flood(lab: &mut Lab, n: u16) -> Duration {
    let c = lab.container("fl");
    in_netns(&c, move || {
        let sock = dhcp_wire::client_socket("host0");
        // As a real client would, ask again when a busy machine answers
        // late: the same MAC gets the same address.
        assert!(
            (0..3)
                .any(|try_| dhcp_wire::acquire(&sock, dhcp_wire::mac(0), 100 + try_ * 2).is_some()),
            "the one address"
        );
        let dst = std::net::SocketAddrV4::new(std::net::Ipv4Addr::BROADCAST, 67);
        let start = Instant::now();
        for i in 1..=n {
            let msg = dhcp_wire::request(MessageType::Discover, dhcp_wire::mac(i), u32::from(i));
            let bytes = msg.to_vec().unwrap();
            // A full socket buffer drops a datagram; the flood goes on.
            let _ = sock.send_to(&bytes, dst);
        }
        start.elapsed()
    })
}

fn lines_with(path: &Path, needle: &str) -> usize {
    read_or_empty(path)
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

fn stop(pid: &Path) {
    if let Some(p) = std::fs::read_to_string(pid)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    {
        // SAFETY: kill(2) on the daemon our pid file names, in the lab.
        unsafe { libc::kill(p, libc::SIGTERM) };
        let _ = wait_until(Duration::from_secs(5), || !pid.exists());
    }
}

#[test]
fn a_discover_flood_on_a_full_pool_logs_a_bounded_number_of_lines() {
    let mut lab = Lab::new();
    let (log, pid) = start_forked(&lab, &[]);
    let took = flood(&mut lab, 5000);
    // Every DISCOVER the daemon read was counted.
    let counted = || {
        status_json(&lab)["dhcp4"]["counters"]["exhausted"]
            .as_u64()
            .unwrap()
    };
    assert!(
        wait_until(Duration::from_secs(5), || counted() >= 1000),
        "{} exhausted: {}",
        counted(),
        read_or_empty(&log)
    );
    let exhausted = counted();
    // The first in full, the rest counted: one summary after the window.
    assert!(
        wait_until(Duration::from_secs(15), || {
            read_or_empty(&log).contains("no address available: ")
        }),
        "no summary line:\n{}",
        read_or_empty(&log)
    );
    let warned = lines_with(&log, "no address available");
    eprintln!("{exhausted} DISCOVERs refused in {took:?}: {warned} log lines");
    assert!(warned <= 3, "{warned} lines:\n{}", read_or_empty(&log));
    let text = read_or_empty(&log);
    assert!(
        text.contains("no address available for 02:6e:6e:00:00:01"),
        "{text}"
    );
    let summary = text
        .lines()
        .find(|l| l.contains("no address available: "))
        .unwrap();
    assert!(summary.contains("more in the last 10 s"), "{summary}");
    assert!(!text.contains('\u{1b}'), "escape codes in a log file");
    stop(&pid);
}

#[test]
fn log_dhcp_keeps_a_line_per_refused_discover() {
    let mut lab = Lab::new();
    let (log, pid) = start_forked(&lab, &["--log-dhcp"]);
    flood(&mut lab, 40);
    let exhausted = || {
        status_json(&lab)["dhcp4"]["counters"]["exhausted"]
            .as_u64()
            .unwrap()
    };
    assert!(wait_until(Duration::from_secs(5), || exhausted() >= 30));
    let per_packet = lines_with(&log, "no address available for");
    assert!(
        per_packet as u64 >= exhausted(),
        "{per_packet} lines for {} refusals:\n{}",
        exhausted(),
        read_or_empty(&log)
    );
    let out = netd_cmd(&lab, &["status"]);
    assert!(out.status.success(), "{}", text(&out));
    stop(&pid);
}
