//! Watching the running daemon, end to end: `status` and `leases` over the
//! control socket (JSON and tables, answers under load, who may ask), the
//! metrics endpoint as curl sees it, logs that stay bounded under a
//! DISCOVER flood, and the completion script and manual page.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use netd_testkit::lab::{CONTROL_DIR_ENV, Lab, Netns, netd_bin};
use netd_testkit::nsd::Nsd;

mod control;
mod floods;
mod metrics;
mod shell;
mod status;

/// nsd serving `e2e.test` at 203.0.113.2 in the lab's internet namespace,
/// named by the host's resolv.conf.
fn upstream(lab: &mut Lab) -> Nsd {
    let inet = lab.internet();
    let zone = "$ORIGIN e2e.test.\n$TTL 300\n\
                @ IN SOA ns admin 1 3600 600 86400 30\n\
                @ IN NS ns\nns IN A 203.0.113.2\nwww IN A 198.51.100.1\n";
    let nsd = Nsd::start(
        &inet,
        lab.dir(),
        "203.0.113.2",
        "e2e.test",
        zone,
        "www.e2e.test",
        None,
    );
    lab.host().set_resolv_conf("nameserver 203.0.113.2\n");
    nsd
}

/// The daemon's usual arguments in the lab: nat0, a range, files in the
/// lab dir.
fn daemon_args(dir: &Path) -> Vec<String> {
    vec![
        "--interface=nat0".into(),
        "--dhcp-range=192.168.26.20,192.168.26.100,12h".into(),
        "--no-hosts".into(),
        format!("--dhcp-leasefile={}", dir.join("leases").display()),
    ]
}

/// `nspawn-netd ARGS` as a person would run it, with the lab's control
/// directory.
fn netd_cmd(lab: &Lab, args: &[&str]) -> Output {
    Command::new(netd_bin())
        .args(args)
        .env(CONTROL_DIR_ENV, lab.dir())
        .stdin(Stdio::null())
        .output()
        .expect("running nspawn-netd")
}

fn text(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `status --json` of the lab's daemon, parsed.
fn status_json(lab: &Lab) -> serde_json::Value {
    let out = netd_cmd(lab, &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

/// `dig @192.168.26.1 NAME +short` from `ns`.
fn dig(ns: &Netns, name: &str) -> String {
    let out = ns.run(&[
        "dig",
        "+tries=1",
        "+timeout=2",
        "+short",
        "@192.168.26.1",
        name,
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
