//! Who may ask: the control socket is root's (0600), or a group's (0660)
//! with `--control-group`; the daemon answers on it after dropping to its
//! service user; a second daemon for the same interface is refused; the
//! socket goes when the daemon does.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use std::time::Duration;

use netd_serve::control::socket_path;
use netd_testkit::lab::{CONTROL_DIR_ENV, Lab, netd_bin, wait_until};

use super::{daemon_args, netd_cmd, status_json, text};

#[test]
fn the_socket_is_roots_or_a_groups_and_a_stranger_is_told_no() {
    let mut lab = Lab::new();
    let args = daemon_args(lab.dir());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let daemon = lab.start_daemon(&argv);
    let path = socket_path(lab.dir(), "nat0");
    let meta = std::fs::metadata(&path).expect("the control socket");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), 0);
    // The daemon serves as nobody, and still answers.
    assert_eq!(status_json(&lab)["interface"], "nat0");
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(netd_bin())
        .arg("status")
        .env(CONTROL_DIR_ENV, lab.dir())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("permission denied"),
        "{}",
        text(&out)
    );
    daemon.stop();
    assert!(
        wait_until(Duration::from_secs(3), || !path.exists()),
        "the socket is left behind"
    );

    let mut argv = argv.clone();
    argv.push("--control-group=nogroup");
    let _daemon = lab.start_daemon(&argv);
    let meta = std::fs::metadata(&path).expect("the control socket");
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(meta.gid(), 65534, "nogroup");
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--init-groups"])
        .arg(netd_bin())
        .args(["leases", "--json"])
        .env(CONTROL_DIR_ENV, lab.dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "a member may ask: {}", text(&out));
}

#[test]
fn a_second_daemon_for_the_interface_is_refused_and_a_stale_socket_taken_over() {
    let mut lab = Lab::new();
    let args = daemon_args(lab.dir());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = lab.start_daemon(&argv);
    // DNS on another port, no DHCP: only the control socket collides.
    let out = lab.host().run(&[
        netd_bin().to_str().unwrap(),
        "--keep-in-foreground",
        "--interface=nat0",
        "--port=5353",
        &format!("--control-dir={}", lab.dir().display()),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another nspawn-netd already serves nat0"),
        "{}",
        text(&out)
    );
    assert_eq!(
        status_json(&lab)["interface"],
        "nat0",
        "the first one kept its socket"
    );
    first.stop();
    // A socket no one answers on any more (a daemon killed before its
    // helper could clean up): the next daemon takes it over.
    let path = socket_path(lab.dir(), "nat0");
    assert!(wait_until(Duration::from_secs(3), || !path.exists()));
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let _second = lab.start_daemon(&argv);
    let out = netd_cmd(&lab, &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn status_without_a_daemon_says_so() {
    let lab = Lab::new();
    let out = netd_cmd(&lab, &["status", "--interface", "nat9"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no nspawn-netd answers") && err.contains("nat9.sock"),
        "{err}"
    );
}
