//! The systemd unit in `config/`: its sandbox rates as systemd's "OK" and
//! the daemon serves inside exactly its capability bounding set and with
//! no new privileges, as systemd would run it.

use std::path::PathBuf;
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, netd_bin, read_or_empty, wait_until};

use super::{Files, text};
use crate::callers::Proc;

fn unit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/nspawn-netd.service")
}

/// The values of `key=` in the unit's `[Service]` section.
fn unit_values(key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(unit()).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_units_sandbox_rates_ok_in_systemd_analyze_security() {
    // Exposure 0–10, printed ×10 for --threshold: "OK" is below 3.0.
    let out = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=29"])
        .arg(unit())
        .output()
        .expect("systemd-analyze (systemd) is installed");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn the_daemon_serves_inside_the_units_capability_bounding_set() {
    let caps = unit_values("CapabilityBoundingSet");
    assert_eq!(caps.len(), 1, "one CapabilityBoundingSet= line: {caps:?}");
    let bounding: Vec<String> = caps[0]
        .split_whitespace()
        .map(|c| format!("+{}", c.trim_start_matches("CAP_").to_lowercase()))
        .collect();
    assert_eq!(unit_values("NoNewPrivileges"), ["yes"]);

    let mut lab = Lab::new();
    let files = Files::new(&lab);
    let bin = netd_bin();
    let bounding_set = format!("--bounding-set=-all,{}", bounding.join(","));
    let mut argv = vec![
        "setpriv",
        bounding_set.as_str(),
        "--no-new-privs",
        bin.to_str().unwrap(),
    ];
    let args = files.args();
    argv.extend(args.iter().map(String::as_str));
    let out = lab.host().run(&argv);
    assert!(out.status.success(), "{}", text(&out));
    let daemon = Proc::from_pid_file(&files.pid).expect("a pid file once the parent returned");
    let bnd = daemon.status_field("CapBnd:").unwrap_or_default();
    let bnd = u64::from_str_radix(&bnd, 16).unwrap_or(u64::MAX);
    assert_eq!(bnd.count_ones() as usize, bounding.len(), "CapBnd {bnd:x}");

    let c = lab.container("c1");
    let lease = Client::Udhcpc
        .obtain(&c, lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", read_or_empty(&files.log)));
    // The helper, root inside the same bounding set, still writes the
    // lease file.
    assert!(
        wait_until(Duration::from_secs(3), || {
            read_or_empty(&files.leases()).contains(&lease.addr.to_string())
        }),
        "the lease is not in {}:\n{}\nlog:\n{}",
        files.leases().display(),
        read_or_empty(&files.leases()),
        read_or_empty(&files.log)
    );
    // SAFETY: kill(2) on the daemon the pid file names, in our namespace.
    unsafe { libc::kill(daemon.0, libc::SIGTERM) };
    assert!(wait_until(Duration::from_secs(5), || !daemon.is_running()));
}
