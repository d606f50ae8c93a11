//! Real callers of dnsmasq, run unchanged with a chosen binary bind-mounted
//! over `/usr/sbin/dnsmasq`: today dnsmasq itself (the reference), later
//! nspawn-netd. Each scenario is a function of the binary
//! (`run_with(binary: &Path)`); its nspawn-netd test is `#[ignore]`d with
//! the reason, and is switched on by removing the attribute.
//!
//! - [`lxc_net`]: Debian's `lxc-net start`/`stop` in a lab host namespace
//!   without a bridge (lxc-net makes `lxcbr0` itself).
//! - [`recorded`]: the command lines the callers' sources build
//!   ([`command_lines`]) run on a bridge named as each caller names it.
//!
//! Every caller writes to fixed paths under `/run` and `/var/lib`; a
//! [`CallerFs`] gives both lab directories in the caller's private mount
//! namespace, so nothing of the machine's is written and the test reads the
//! caller's files (pid file, lease file) from the lab directory.

pub mod command_lines;
mod lxc_net;
mod recorded;
mod syntax;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use netd_testkit::lab::{Netns, wait_until};
use netd_testkit::private_mounts::PrivateMounts;

/// The reference: Debian's dnsmasq (`dnsmasq-base`).
pub fn dnsmasq() -> PathBuf {
    let p = PathBuf::from("/usr/sbin/dnsmasq");
    assert!(p.exists(), "dnsmasq-base is not installed (see .ci/run)");
    p
}

/// Lab directories standing in for `/run` and `/var/lib` in a caller's
/// private mount namespace.
#[derive(Debug)]
pub struct CallerFs {
    run: PathBuf,
    var_lib: PathBuf,
}

impl CallerFs {
    /// Makes `run/` and `var-lib/` under `dir` (the lab's directory).
    pub fn new(dir: &Path) -> CallerFs {
        let fs = CallerFs {
            run: dir.join("run"),
            var_lib: dir.join("var-lib"),
        };
        for d in [&fs.run, &fs.var_lib] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        fs
    }

    /// Where the caller's `path` (under `/run` or `/var/lib`) is for the
    /// test.
    pub fn path(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if let Ok(rest) = path.strip_prefix("/run") {
            self.run.join(rest)
        } else if let Ok(rest) = path.strip_prefix("/var/lib") {
            self.var_lib.join(rest)
        } else {
            panic!("{} is neither under /run nor /var/lib", path.display())
        }
    }

    /// Makes the caller's directory `path` (as the caller's installer or
    /// the caller itself would before starting dnsmasq).
    pub fn mkdir(&self, path: &str) -> PathBuf {
        let p = self.path(path);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }

    /// Writes the caller's file `path`.
    pub fn write(&self, path: &str, text: &str) -> PathBuf {
        let p = self.path(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("the file's directory");
        }
        fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }

    /// The lab's `/run` and `/var/lib`, and `binary` as `/usr/sbin/dnsmasq`.
    pub fn mounts(&self, binary: &Path) -> PrivateMounts {
        PrivateMounts::new()
            .bind(&self.run, "/run")
            .bind(&self.var_lib, "/var/lib")
            .bind(binary, "/usr/sbin/dnsmasq")
    }
}

/// A process's `/proc` facts, for pids a caller's daemon wrote.
#[derive(Debug, Clone, Copy)]
pub struct Proc(pub i32);

impl Proc {
    /// Reads the pid in `path` (a pid file), if there is one.
    pub fn from_pid_file(path: &Path) -> Option<Proc> {
        fs::read_to_string(path).ok()?.trim().parse().ok().map(Proc)
    }

    pub fn status_field(&self, field: &str) -> Option<String> {
        let text = fs::read_to_string(format!("/proc/{}/status", self.0)).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(field))
            .map(|v| v.trim().to_owned())
    }

    /// Running: it exists and is not a zombie waiting to be reaped.
    pub fn is_running(&self) -> bool {
        self.status_field("State:")
            .is_some_and(|s| !s.starts_with('Z') && !s.starts_with('X'))
    }

    /// Real, effective, saved and filesystem uid.
    pub fn uids(&self) -> Vec<u32> {
        self.status_field("Uid:")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|u| u.parse().ok())
            .collect()
    }

    pub fn name(&self) -> String {
        self.status_field("Name:").unwrap_or_default()
    }

    /// Its argv, as `/proc/PID/cmdline` has it.
    pub fn cmdline(&self) -> Vec<String> {
        fs::read(format!("/proc/{}/cmdline", self.0))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    }

    /// Is it in `ns`'s network namespace (and so not in the machine's)?
    pub fn is_in(&self, ns: &Netns) -> bool {
        let link = fs::read_link(format!("/proc/{}/ns/net", self.0));
        let ours = fs::metadata(Path::new("/run/netns").join(&ns.name)).map(|m| m.ino());
        match (link, ours) {
            (Ok(link), Ok(ino)) => link.to_string_lossy() == format!("net:[{ino}]"),
            _ => false,
        }
    }
}

/// The user name of `uid` in the machine's `/etc/passwd`.
pub fn user_name(uid: u32) -> Option<String> {
    fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&uid.to_string().as_str()))
        .map(|f| f[0].to_owned())
}

/// Does `/etc/passwd` know `name` (as `getent passwd NAME` would, on a
/// machine without other user databases)?
pub fn user_exists(name: &str) -> bool {
    fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(':').next() == Some(name))
}

/// `dig +short` for `name`'s A record at `server`, from `ns`.
pub fn dig(ns: &Netns, server: &str, name: &str) -> String {
    let at = format!("@{server}");
    let out = ns.run(&["dig", "+short", "+time=2", "+tries=2", &at, name, "A"]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// True once something listens on UDP port 67 in `ns`, false if `child`
/// ends first or 10 s pass: a foreground server is ready for DHCP.
pub fn wait_for_dhcp_socket(ns: &Netns, child: &mut Child) -> bool {
    let mut ready = false;
    wait_until(Duration::from_secs(10), || {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        ready = !ns.run_ok(&["ss", "-Hlnu", "sport = :67"]).trim().is_empty();
        ready
    });
    ready
}

/// Options of dnsmasq's DHCP and DNS configuration surface that nspawn-netd
/// does not take yet (the issue that adds them is open): the nspawn-netd
/// variants run the callers' lines without them until it lands, and the
/// full lines stay recorded in `command_lines.rs`.
pub const NOT_YET: &[&str] = &["--dhcp-hostsfile", "--dhcp-hostsdir", "--interface-name"];

/// `argv` without the options in [`NOT_YET`], in either of their forms
/// (`--opt=value`, `--opt value`).
pub fn without_not_yet(argv: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut words = argv.into_iter().peekable();
    while let Some(w) = words.next() {
        let name = w.split('=').next().unwrap_or_default();
        if !NOT_YET.contains(&name) {
            out.push(w);
            continue;
        }
        if !w.contains('=') && words.peek().is_some_and(|n| !n.starts_with('-')) {
            words.next();
        }
    }
    out
}
