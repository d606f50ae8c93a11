//! The process model dnsmasq's callers rely on, end to end: the daemon
//! forks and its parent returns only once it serves (or with its error and
//! dnsmasq's exit code); it serves without root, with only the capabilities
//! it uses, while the lease file in a root-only directory is still written
//! crash-safe; `--test` checks a configuration; SIGUSR1 logs statistics and
//! SIGUSR2 reopens the log file, and neither stops it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, netd_bin, read_or_empty, wait_until};

use crate::callers::Proc;

mod unit_sandbox;

/// CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12) and CAP_NET_RAW (13).
const KEPT_CAPS: u64 = (1 << 10) | (1 << 12) | (1 << 13);

/// The files of one forked daemon: a root-only directory for leases, the
/// pid file and the log file.
struct Files {
    private: PathBuf,
    pid: PathBuf,
    log: PathBuf,
}

impl Files {
    fn new(lab: &Lab) -> Files {
        let private = lab.dir().join("root-only");
        std::fs::create_dir_all(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        Files {
            pid: lab.dir().join("netd.pid"),
            log: lab.dir().join("netd.log"),
            private,
        }
    }

    fn leases(&self) -> PathBuf {
        self.private.join("leases")
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--interface=nat0".into(),
            "--dhcp-range=192.168.26.20,192.168.26.100,12h".into(),
            "--no-resolv".into(),
            "--server=192.0.2.53".into(),
            format!("--dhcp-leasefile={}", self.leases().display()),
            format!("--pid-file={}", self.pid.display()),
            format!("--log-facility={}", self.log.display()),
            format!("--control-dir={}", self.private.display()),
        ]
    }
}

/// Runs `nspawn-netd ARGS` in the lab's host namespace, as a shell would.
fn netd(lab: &Lab, args: &[String]) -> Output {
    let bin = netd_bin();
    let mut argv: Vec<&str> = vec![bin.to_str().unwrap()];
    argv.extend(args.iter().map(String::as_str));
    lab.host().run(&argv)
}

fn text(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn cap_eff(p: Proc) -> u64 {
    let hex = p.status_field("CapEff:").unwrap_or_default();
    u64::from_str_radix(&hex, 16).unwrap_or(u64::MAX)
}

#[test]
fn it_forks_serves_without_root_and_writes_leases_through_its_helper() {
    let mut lab = Lab::new();
    let files = Files::new(&lab);
    let out = netd(&lab, &files.args());
    assert!(out.status.success(), "{}", text(&out));
    // The parent returned only once the pid file names a running daemon.
    let daemon = Proc::from_pid_file(&files.pid).expect("a pid file once the parent returned");
    assert!(
        daemon.is_running() && daemon.is_in(lab.host()),
        "{daemon:?}"
    );
    let uids = daemon.uids();
    assert!(
        uids.len() == 4 && uids.iter().all(|u| *u != 0),
        "kept root: {uids:?}"
    );
    assert_eq!(
        cap_eff(daemon),
        KEPT_CAPS,
        "capabilities: {:?}",
        daemon.status_field("CapEff:")
    );

    let c = lab.container("c1");
    let lease = Client::Udhcpc
        .obtain(&c, lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", read_or_empty(&files.log)));
    let exported = wait_until(Duration::from_secs(3), || {
        read_or_empty(&files.leases()).contains(&lease.addr.to_string())
    });
    assert!(
        exported,
        "the lease is not in {}:\n{}",
        files.leases().display(),
        read_or_empty(&files.leases())
    );
    let owner = std::fs::metadata(files.leases()).map(|m| MetadataExt::uid(&m));
    assert_eq!(owner.ok(), Some(0), "the helper (root) wrote it");
    // The journal the daemon appends to without root: opened by root
    // before the switch, private to root, and holding the lease.
    let journal = files.private.join("leases.journal-0");
    let meta = std::fs::metadata(&journal).expect("the journal slot");
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o600));
    let bytes = std::fs::read(&journal).unwrap();
    assert!(
        bytes.windows(4).any(|w| w == lease.addr.octets()),
        "the lease is not in the journal"
    );

    // SIGTERM: it stops, and its helper removes the pid file.
    // SAFETY: kill(2) on the daemon the pid file names, in our namespace.
    unsafe { libc::kill(daemon.0, libc::SIGTERM) };
    assert!(wait_until(Duration::from_secs(5), || !daemon.is_running()));
    assert!(
        wait_until(Duration::from_secs(2), || !files.pid.exists()),
        "the pid file is left"
    );
}

#[test]
fn a_failing_daemon_reports_its_error_and_dnsmasqs_exit_code_to_the_parent() {
    let lab = Lab::new();
    let files = Files::new(&lab);
    let with = |change: &dyn Fn(&mut Vec<String>)| {
        let mut args = files.args();
        change(&mut args);
        netd(&lab, &args)
    };
    // 1: a range outside the interface's subnet (found only in the child).
    let out = with(&|a| a[1] = "--dhcp-range=10.1.2.3,10.1.2.9".into());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--dhcp-range=10.1.2.3,10.1.2.9") && err.contains("192.168.26.1/24"),
        "{err}"
    );
    // 2: no such interface.
    let out = with(&|a| a[0] = "--interface=nope0".into());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nope0"),
        "{}",
        text(&out)
    );
    // 3: a lease file that cannot be written.
    let out = with(&|a| a[4] = "--dhcp-leasefile=/proc/version/leases".into());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lease file"),
        "{}",
        text(&out)
    );
    // 1 again, from the parser, before any fork: an unknown option.
    let out = with(&|a| a.push("--no-such-option".into()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!files.pid.exists(), "no daemon ran");
}

#[test]
fn test_checks_the_configuration_and_names_the_file_and_line() {
    let lab = Lab::new();
    let good = lab.dir().join("good.conf");
    std::fs::write(
        &good,
        "interface=nat0\ndhcp-range=192.168.26.20,192.168.26.100,12h\nuser=nobody\n",
    )
    .unwrap();
    let out = netd(
        &lab,
        &[format!("--conf-file={}", good.display()), "--test".into()],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("syntax check OK."),
        "{}",
        text(&out)
    );
    let bad = lab.dir().join("bad.conf");
    std::fs::write(
        &bad,
        "interface=nat0\n# ranges\ndhcp-range=192.168.26.20,oops\n",
    )
    .unwrap();
    let out = netd(
        &lab,
        &[format!("--conf-file={}", bad.display()), "--test".into()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3", bad.display())) && err.contains("oops"),
        "{err}"
    );
}

/// Waits until `path` holds `needle`.
fn wait_for(path: &Path, needle: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        read_or_empty(path).contains(needle)
    })
}

#[test]
fn usr1_logs_statistics_and_usr2_reopens_the_log_and_neither_stops_it() {
    let lab = Lab::new();
    let files = Files::new(&lab);
    let out = netd(&lab, &files.args());
    assert!(out.status.success(), "{}", text(&out));
    let daemon = Proc::from_pid_file(&files.pid).expect("a pid file");
    // SAFETY: kill(2) on the daemon the pid file names, in our namespace.
    unsafe { libc::kill(daemon.0, libc::SIGUSR1) };
    for line in [
        "cache size",
        "queries forwarded",
        "server 192.0.2.53#53",
        "DHCP leases in use 0 of pool 81",
    ] {
        assert!(
            wait_for(&files.log, line),
            "no {line:?} in the log:\n{}",
            read_or_empty(&files.log)
        );
    }
    // As logrotate does it (dnsmasq's documented way): move the file,
    // create a new one owned as the old one (the daemon gave it to its
    // user at start), then SIGUSR2.
    let owner = std::fs::metadata(&files.log).unwrap();
    let (uid, gid) = (MetadataExt::uid(&owner), MetadataExt::gid(&owner));
    assert_ne!(uid, 0, "the log file was not given to the service user");
    let rotated = lab.dir().join("netd.log.1");
    std::fs::rename(&files.log, &rotated).unwrap();
    std::fs::write(&files.log, "").unwrap();
    std::os::unix::fs::chown(&files.log, Some(uid), Some(gid)).unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(daemon.0, libc::SIGUSR2) };
    assert!(wait_for(&files.log, "log file reopened"), "no new log file");
    // SAFETY: as above.
    unsafe { libc::kill(daemon.0, libc::SIGUSR1) };
    assert!(
        wait_for(&files.log, "cache size"),
        "{}",
        read_or_empty(&files.log)
    );
    assert!(daemon.is_running(), "a signal stopped it");
    assert!(
        !read_or_empty(&files.log).contains('\u{1b}'),
        "escape codes in a log file"
    );
}
