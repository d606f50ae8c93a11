//! A real `nspawn-netd container create` of Debian bookworm (debootstrap
//! from the archive this machine's apt uses), made once per test run and
//! shared by the tests that need a rootfs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use super::{Dirs, text};
use netd_testkit::lab::require_root;

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
    // Off a terminal: one line per phase, with times and counts.
    assert!(
        b.output.contains("packages retrieved)") && b.output.contains("] done (installing"),
        "no phase summary:\n{}",
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
    // What create adds, and what only debootstrap's default variant (not
    // minbase) brings: an operator's usual tools.
    for package in [
        "dbus-broker",
        "systemd-container",
        "systemd-sysv",
        "iproute2",
        "iputils-ping",
        "less",
        "nano",
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
