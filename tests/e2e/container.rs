//! `nspawn-netd container`: create with a fake bootstrap tool (checks,
//! rollback on failure and on Ctrl-C), a real debootstrap of Debian
//! bookworm from this machine's apt mirror (cached for the run), and in
//! `boot` the container booted in the lab.
//!
//! Every command runs with its machines, `.nspawn` and run directories
//! under a scratch directory, never the host's `/var/lib/machines` or
//! `/etc/systemd/nspawn`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::lab::{require_root, wait_until};

mod boot;

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

/// A directory with a fake `debootstrap` (the shell script `body`), to be
/// put first in PATH.
fn fake_tool(scratch: &Path, body: &str) -> String {
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let tool = bin.join("debootstrap");
    std::fs::write(&tool, format!("#!/bin/sh\n{body}\n")).unwrap();
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
        r#"T="$5"
mkdir -p "$T/etc" "$T/proc" && echo x > "$T/etc/file"
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
mkdir -p "$5/etc"
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

#[test]
fn create_elsewhere_links_it_and_remove_takes_it_all_away() {
    require_root();
    let scratch = Scratch::new("ct-dir");
    let dirs = Dirs::new(&scratch.0, "d");
    // A tiny rootfs with what `create` changes: no network needed.
    let path = fake_tool(
        &scratch.0,
        r#"T="$5"
mkdir -p "$T/usr/lib/systemd/system" "$T/usr/bin" "$T/etc"
printf '[Install]\nWantedBy=multi-user.target\n' > "$T/usr/lib/systemd/system/systemd-networkd.service"
printf 'root:*:19000:0:99999:7:::\n' > "$T/etc/shadow"
printf 'PRETTY_NAME="Fake Linux"\n' > "$T/etc/os-release"
: > "$T/usr/bin/ping"
echo "I: Base system installed successfully.""#,
    );
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
        .cmd(&["create", "web2"])
        .args(["--log-file", scratch.0.join("log2").to_str().unwrap()])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
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

/// The archive this machine's apt uses for Debian, from
/// `/etc/apt/sources.list.d/*.sources` (deb822) or `/etc/apt/sources.list`:
/// the URI of the first `deb` entry whose suites include a plain release
/// (not `-security` or `-updates`).
pub fn apt_mirror() -> String {
    let plain = |suite: &str| !suite.contains('-') && !suite.contains('/');
    let mut texts = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut files: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "sources"))
        {
            texts.push(std::fs::read_to_string(f).unwrap_or_default());
        }
    }
    for text in &texts {
        for stanza in text.split("\n\n") {
            let field = |name: &str| {
                stanza.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_owned())
                })
            };
            let enabled = field("Enabled").is_none_or(|v| v != "no");
            let deb = field("Types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
            let suites = field("Suites").unwrap_or_default();
            if enabled
                && deb
                && suites.split_whitespace().any(plain)
                && let Some(uri) =
                    field("URIs").and_then(|u| u.split_whitespace().next().map(str::to_owned))
            {
                return uri;
            }
        }
    }
    let list = std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    for line in list.lines() {
        let Some(rest) = line.trim().strip_prefix("deb ") else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('[') {
            Some(options) => options.split_once(']').map_or("", |(_, r)| r),
            None => rest,
        };
        let mut words = rest.split_whitespace();
        if let (Some(uri), Some(suite)) = (words.next(), words.next())
            && plain(suite)
        {
            return uri.to_owned();
        }
    }
    panic!("no Debian archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list");
}

/// The bookworm rootfs made once per test run by a real
/// `nspawn-netd container create` and shared by the tests that need one.
#[derive(Debug)]
pub struct Bookworm {
    pub dirs: Dirs,
    pub name: &'static str,
    pub seconds: f64,
    pub output: String,
}

/// Where this run's cache lives, removed when the test process exits.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("container-e2e-{}", std::process::id()))
}

extern "C" fn remove_cache_at_exit() {
    let _ = netd_container::cleanup::remove_rootfs(&cache_dir());
}

/// Removes caches left by runs whose process is gone.
fn remove_stale_caches() {
    let Ok(entries) = std::fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("container-e2e-")
            .and_then(|p| p.parse::<u32>().ok())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = netd_container::cleanup::remove_rootfs(&entry.path());
        }
    }
}

pub fn bookworm() -> &'static Bookworm {
    static CACHE: OnceLock<Result<Bookworm, String>> = OnceLock::new();
    let cached = CACHE.get_or_init(|| {
        require_root();
        remove_stale_caches();
        let base = cache_dir();
        std::fs::create_dir_all(&base).unwrap();
        // SAFETY: registers a plain function; it runs once at exit.
        unsafe { libc::atexit(remove_cache_at_exit) };
        let dirs = Dirs::new(&base, "d");
        let mirror = apt_mirror();
        let password = base.join("root-password");
        std::fs::write(&password, "e2e secret\n").unwrap();
        let log = base.join("create.log");
        let name = "e2e-bookworm";
        let t0 = Instant::now();
        let out = dirs
            .cmd(&[
                "create",
                name,
                "--distro",
                "debian",
                "--suite",
                "bookworm",
                "--mirror",
                &mirror,
                "--root-password-file",
                password.to_str().unwrap(),
                "--log-file",
                log.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let seconds = t0.elapsed().as_secs_f64();
        let output = text(&out);
        eprintln!(
            "container create (debootstrap bookworm from {mirror}) took {seconds:.1}s\n{output}"
        );
        if !out.status.success() {
            return Err(format!(
                "container create failed after {seconds:.1}s:\n{output}"
            ));
        }
        Ok(Bookworm {
            dirs,
            name,
            seconds,
            output,
        })
    });
    match cached {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn debootstrap_bookworm_makes_a_networked_rootfs() {
    let b = bookworm();
    let root = b.dirs.machines().join(b.name);
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    assert!(
        b.output.contains("retrieving packages"),
        "no progress shown:\n{}",
        b.output
    );
    assert!(
        b.output.contains("installing packages"),
        "no progress shown:\n{}",
        b.output
    );
    assert_eq!(read("etc/hostname"), format!("{}\n", b.name));
    assert!(read("etc/resolv.conf").contains("\nnameserver 192.168.26.1\n"));
    assert_eq!(
        std::fs::read_to_string(b.dirs.nspawn().join(format!("{}.nspawn", b.name))).unwrap(),
        netd_container::nspawn_file::render("nat0")
    );
    let wants = root.join("etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
    let target = std::fs::read_link(&wants).unwrap();
    assert!(
        root.join(target.strip_prefix("/").unwrap()).is_file(),
        "{}",
        target.display()
    );
    assert!(
        root.join("usr/lib/systemd/network/80-container-host0.network")
            .is_file()
    );
    for package in [
        "dbus-broker",
        "systemd-container",
        "systemd-sysv",
        "iputils-ping",
    ] {
        assert!(
            read("var/lib/dpkg/status").contains(&format!("Package: {package}\n")),
            "{package} is not installed"
        );
    }
    // The root password verifies with an independent SHA-512 crypt.
    let shadow = read("etc/shadow");
    let hash = shadow
        .lines()
        .find_map(|l| l.strip_prefix("root:"))
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts[1], "6", "{hash}");
    let salt = parts[parts.len() - 2];
    let out = Command::new("openssl")
        .args(["passwd", "-6", "-salt", salt, "e2e secret"])
        .output()
        .unwrap();
    let want = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(want, format!("$6${salt}${}", parts[parts.len() - 1]));
    // ping keeps (or got) cap_net_raw+ep.
    let caps = netd_container::rootfs::capability::read_caps(&root.join("usr/bin/ping")).unwrap();
    assert_eq!(
        caps.as_deref(),
        Some(&netd_container::rootfs::capability::vfs_cap_data(&[13])[..])
    );

    let out = b
        .dirs
        .cmd(&["list", "--json", "--lease-file", "/nonexistent"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == b.name)
        .unwrap();
    assert_eq!(me["os"], "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(me["bridge"], "nat0");
    eprintln!(
        "debootstrap of bookworm through container create: {:.1}s",
        b.seconds
    );
}
