//! `nspawn-netd container`: here create with a fake bootstrap tool (checks,
//! rollback on failure and on Ctrl-C, `--directory`, list, remove); in
//! `bookworm` a real debootstrap of Debian bookworm from this machine's apt
//! mirror (cached for the run); in `boot` that container booted in the lab.
//!
//! Every command runs with its machines, `.nspawn` and run directories
//! under a scratch directory, never the host's `/var/lib/machines` or
//! `/etc/systemd/nspawn`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use netd_testkit::lab::{Lab, require_root, wait_until};

mod bookworm;
mod boot;

pub use bookworm::{Bookworm, bookworm};

/// Scratch directories standing in for the host's.
#[derive(Debug)]
pub struct Dirs {
    pub base: PathBuf,
}

impl Dirs {
    /// A fresh scratch tree under `parent`.
    pub fn new(parent: &Path, tag: &str) -> Dirs {
        let base = parent.join(tag);
        let _ = netd_container::cleanup::remove_rootfs(&base);
        std::fs::create_dir_all(&base).unwrap();
        Dirs { base }
    }
    pub fn machines(&self) -> PathBuf {
        self.base.join("machines")
    }
    pub fn nspawn(&self) -> PathBuf {
        self.base.join("nspawn")
    }
    pub fn run(&self) -> PathBuf {
        self.base.join("run")
    }
    /// `nspawn-netd container ARGS` with these directories.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nspawn-netd"));
        self.env(&mut c);
        c.arg("container").args(args).stdin(Stdio::null());
        c
    }
    /// Sets the directory overrides on any command (e.g. `nsenter … nspawn-netd`).
    pub fn env(&self, c: &mut Command) {
        c.env("NSPAWN_NETD_MACHINES_DIR", self.machines())
            .env("NSPAWN_NETD_NSPAWN_DIR", self.nspawn())
            .env("NSPAWN_NETD_RUN_DIR", self.run());
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A scratch directory removed on drop (unmounting anything a test left).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("nn-{}-{tag}", std::process::id()));
        let _ = netd_container::cleanup::remove_rootfs(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = netd_container::cleanup::remove_rootfs(&self.0) {
            eprintln!("leaving {}: {e}", self.0.display());
        }
    }
}

/// Sets `$T` to the target directory from debootstrap's arguments
/// (options, then SUITE TARGET [MIRROR]).
const FIND_TARGET: &str = r#"S=; T=
for a in "$@"; do
  case "$a" in
    -*) ;;
    *) if [ -z "$S" ]; then S="$a"; elif [ -z "$T" ]; then T="$a"; fi ;;
  esac
done"#;

/// A directory with a fake `debootstrap` (the shell script `body`, which
/// finds the target directory in `$T`), to be put first in PATH.
fn fake_tool(scratch: &Path, body: &str) -> String {
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let tool = bin.join("debootstrap");
    std::fs::write(&tool, format!("#!/bin/sh\n{FIND_TARGET}\n{body}\n")).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    netd_container::cleanup::mounts_under(&info, dir)
}

#[test]
fn create_checks_first_and_makes_nothing_on_bad_input() {
    require_root();
    let scratch = Scratch::new("ct-checks");
    let dirs = Dirs::new(&scratch.0, "d");
    let refused = |args: &[&str], path: &str, needle: &str| {
        let out = dirs.cmd(args).env("PATH", path).output().unwrap();
        assert!(!out.status.success(), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{needle:?} not in {}", text(&out));
    };
    let path = std::env::var("PATH").unwrap();
    refused(&["create", "bad_name"], &path, "'_'");
    refused(&["create", ".host"], &path, ".host");
    refused(
        &["create", "web", "--distro", "arch", "--suite", "x"],
        &path,
        "--suite",
    );
    refused(
        &["create", "web", "--mirror", "deb.example"],
        &path,
        "--mirror",
    );
    refused(
        &["create", "web", "--distro", "arch", "--variant", "minbase"],
        &path,
        "--variant",
    );
    refused(&["create", "web", "--variant", "tiny"], &path, "minbase");
    // No debootstrap in PATH: the message names the package.
    let empty = scratch.0.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    refused(
        &["create", "web"],
        empty.to_str().unwrap(),
        "debootstrap package",
    );
    assert!(!dirs.machines().exists() && !dirs.nspawn().exists());
    // An existing machine is never overwritten.
    std::fs::create_dir_all(dirs.machines().join("web")).unwrap();
    refused(&["create", "web"], &path, "already exists");
    assert_eq!(
        std::fs::read_dir(dirs.machines().join("web"))
            .unwrap()
            .count(),
        0
    );
    assert!(!dirs.nspawn().exists());
}

#[test]
fn a_failing_bootstrap_is_rolled_back_and_its_last_lines_shown() {
    require_root();
    let scratch = Scratch::new("ct-fail");
    let dirs = Dirs::new(&scratch.0, "d");
    // Like debootstrap killed half-way: a target with files and a file
    // system still mounted in it, then an error.
    let path = fake_tool(
        &scratch.0,
        r#"mkdir -p "$T/etc" "$T/proc" && echo x > "$T/etc/file"
mount -t tmpfs fake-proc "$T/proc" || exit 9
echo "I: Retrieving Release"
echo "I: Retrieving adduser 3.134"
echo "E: Couldn't download package libfoo (ver 1.0 arch amd64)" >&2
exit 1"#,
    );
    let log = scratch.0.join("create.log");
    let target = scratch.0.join("elsewhere/web");
    let out = dirs
        .cmd(&[
            "create",
            "web",
            "--directory",
            target.to_str().unwrap(),
            "--log-file",
            log.to_str().unwrap(),
        ])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("E: Couldn't download package libfoo"),
        "{}",
        text(&out)
    );
    assert!(err.contains("last lines of"), "{}", text(&out));
    assert!(err.contains(log.to_str().unwrap()), "{}", text(&out));
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("I: Retrieving adduser 3.134"),
        "{log_text}"
    );
    assert!(!target.exists(), "the rootfs is left");
    assert!(std::fs::symlink_metadata(dirs.machines().join("web")).is_err());
    assert!(
        !dirs.nspawn().join("web.nspawn").exists(),
        "the .nspawn file is left"
    );
    assert_eq!(mounts_under(&scratch.0), Vec::<PathBuf>::new());
}

#[test]
fn ctrl_c_stops_the_bootstrap_and_removes_what_it_made() {
    require_root();
    let scratch = Scratch::new("ct-int");
    let dirs = Dirs::new(&scratch.0, "d");
    let tool_pid = scratch.0.join("tool.pid");
    let path = fake_tool(
        &scratch.0,
        &format!(
            r#"echo $$ > {pid}
mkdir -p "$T/etc"
echo "I: Retrieving adduser 3.134"
exec sleep 120"#,
            pid = tool_pid.display()
        ),
    );
    let log = scratch.0.join("create.log");
    let mut child = dirs
        .cmd(&["create", "web", "--log-file", log.to_str().unwrap()])
        .env("PATH", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("Retrieving adduser"))
    });
    assert!(started, "the fake tool never ran");
    assert!(dirs.machines().join("web/etc").is_dir());
    assert!(dirs.nspawn().join("web.nspawn").is_file());
    // SAFETY: kill(2) on our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t0 = Instant::now();
    let out = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "create did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted"),
        "{}",
        text(&out)
    );
    assert!(!dirs.machines().join("web").exists(), "the rootfs is left");
    assert!(
        !dirs.nspawn().join("web.nspawn").exists(),
        "the .nspawn file is left"
    );
    let pid: i32 = std::fs::read_to_string(&tool_pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the tool is still running"
    );
}

/// A fake bootstrap making a tiny rootfs with what `create` changes: no
/// network needed.
const TINY_ROOTFS: &str = r#"mkdir -p "$T/usr/lib/systemd/system" "$T/usr/bin" "$T/etc"
printf '[Install]\nWantedBy=multi-user.target\n' > "$T/usr/lib/systemd/system/systemd-networkd.service"
printf 'root:*:19000:0:99999:7:::\n' > "$T/etc/shadow"
printf 'PRETTY_NAME="Fake Linux"\n' > "$T/etc/os-release"
: > "$T/usr/bin/ping"
echo "I: Base system installed successfully.""#;

#[test]
fn dns_defaults_to_the_bridges_own_address() {
    require_root();
    let scratch = Scratch::new("ct-dns");
    let dirs = Dirs::new(&scratch.0, "d");
    let path = fake_tool(&scratch.0, TINY_ROOTFS);
    // The bridge as `up --ipv4 10.33.0.1/24` leaves it, in the lab's host.
    let lab = Lab::without_bridge();
    let host = lab.host();
    host.run_ok(&["ip", "link", "add", "nat0", "type", "bridge"]);
    host.run_ok(&["ip", "addr", "add", "10.33.0.1/24", "dev", "nat0"]);
    let resolv_conf_of = |name: &str, extra: &[&str]| {
        let mut c = host.cmd(env!("CARGO_BIN_EXE_nspawn-netd"));
        dirs.env(&mut c);
        let log = scratch.0.join(format!("{name}.log"));
        let out = c
            .args(["container", "create", name, "--log-file"])
            .arg(&log)
            .args(extra)
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        std::fs::read_to_string(dirs.machines().join(name).join("etc/resolv.conf")).unwrap()
    };
    let conf = resolv_conf_of("web", &[]);
    assert!(conf.contains("\nnameserver 10.33.0.1\n"), "{conf}");
    // No such bridge yet: the address `up` gives it by default.
    let conf = resolv_conf_of("web2", &["--bridge", "nat9"]);
    assert!(conf.contains("\nnameserver 192.168.26.1\n"), "{conf}");
    // --dns wins over the bridge.
    let conf = resolv_conf_of("web3", &["--dns", "10.7.0.1"]);
    assert!(
        conf.contains("\nnameserver 10.7.0.1\n") && !conf.contains("10.33.0.1"),
        "{conf}"
    );
}

#[test]
fn create_elsewhere_links_it_and_remove_takes_it_all_away() {
    require_root();
    let scratch = Scratch::new("ct-dir");
    let dirs = Dirs::new(&scratch.0, "d");
    let path = fake_tool(&scratch.0, TINY_ROOTFS);
    let target = scratch.0.join("big-disk/web");
    let out = dirs
        .cmd(&[
            "create",
            "web",
            "--directory",
            target.to_str().unwrap(),
            "--bridge",
            "br7",
            "--dns",
            "10.7.0.1",
        ])
        .args(["--log-file", scratch.0.join("log").to_str().unwrap()])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("container shell web"),
        "{}",
        text(&out)
    );
    // debootstrap's default variant, with what the network setup needs.
    let argv = std::fs::read_to_string(scratch.0.join("log")).unwrap();
    let argv = argv.lines().next().unwrap();
    assert!(!argv.contains("--variant"), "{argv}");
    assert!(
        argv.contains(
            " --include=dbus-broker,systemd-container,systemd-sysv,iproute2,iputils-ping "
        ),
        "{argv}"
    );
    let link = dirs.machines().join("web");
    assert_eq!(std::fs::read_link(&link).unwrap(), target);
    assert_eq!(
        std::fs::read_to_string(target.join("etc/hostname")).unwrap(),
        "web\n"
    );
    assert!(
        std::fs::read_to_string(target.join("etc/resolv.conf"))
            .unwrap()
            .contains("nameserver 10.7.0.1\n")
    );
    assert!(
        target
            .join("etc/systemd/network/80-container-host0.network")
            .is_file()
    );
    assert!(
        target
            .join("etc/systemd/system/multi-user.target.wants/systemd-networkd.service")
            .is_symlink()
    );

    let out = dirs.cmd(&["list"]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_else(|| panic!("{}", text(&out)));
    assert!(
        row.contains("stopped") && row.contains("Fake Linux") && row.contains("br7"),
        "{row}"
    );

    // An existing .nspawn file is kept unless --force.
    std::fs::write(
        dirs.nspawn().join("web2.nspawn"),
        "[Network]\nBridge=mine\n",
    )
    .unwrap();
    let out = dirs
        .cmd(&["create", "web2", "--variant", "minbase"])
        .args(["--log-file", scratch.0.join("log2").to_str().unwrap()])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let log2 = std::fs::read_to_string(scratch.0.join("log2")).unwrap();
    assert!(
        log2.starts_with("$ debootstrap --variant=minbase --include="),
        "{log2}"
    );
    assert_eq!(
        std::fs::read_to_string(dirs.nspawn().join("web2.nspawn")).unwrap(),
        "[Network]\nBridge=mine\n"
    );

    // remove asks first; "no" keeps everything.
    let mut child = dirs
        .cmd(&["remove", "web"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success() && target.is_dir(), "{}", text(&out));
    let out = dirs.cmd(&["remove", "--yes", "web"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!target.exists() && std::fs::symlink_metadata(&link).is_err());
    assert!(!dirs.nspawn().join("web.nspawn").exists());
    assert!(
        scratch.0.join("big-disk").is_dir(),
        "remove went above the rootfs"
    );
    let out = dirs.cmd(&["remove", "--yes", "web"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no machine web"),
        "{}",
        text(&out)
    );
}
