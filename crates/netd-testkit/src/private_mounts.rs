//! Running a program in one of the lab's network namespaces *and* in a
//! private mount namespace of its own, with files and directories of the
//! test bind-mounted over the machine's paths.
//!
//! This is how the real callers of dnsmasq (lxc-net, Incus, LXD,
//! NetworkManager) are run unchanged: each writes to fixed paths such as
//! `/run/lxc` or `/var/lib/misc` and executes `/usr/sbin/dnsmasq`, so the
//! test gives those paths lab directories and puts the binary under test
//! over `/usr/sbin/dnsmasq`, in a mount namespace no other process sees.
//!
//! Order of entry: `ip netns exec NS` first (it opens `/run/netns/NS`, binds
//! `/etc/netns/NS/resolv.conf` over `/etc/resolv.conf` and mounts the
//! namespace's `/sys`), then `unshare --mount` with every mount private, then
//! the bind mounts, then `exec` of the program. Entering the network
//! namespace first is what lets a lab directory stand in for the whole of
//! `/run`, which would otherwise hide `/run/netns`.
//!
//! Nothing is ever created on the machine's file systems: every mount point
//! must already exist, seen through the mounts listed before it (a path under
//! an earlier bind mount is looked up in that mount's lab source). Processes
//! a command leaves behind (daemons) keep the mount namespace alive; the
//! lab's `Drop` kills them, and the namespace goes with the last of them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::lab::Netns;

#[derive(Debug, Clone)]
enum Mount {
    /// `mount --bind source target`.
    Bind { source: PathBuf, target: PathBuf },
    /// An empty tmpfs over `target`.
    Tmpfs { target: PathBuf },
}

/// A list of mounts made, in order, in a fresh private mount namespace
/// before a program runs.
#[derive(Debug, Clone, Default)]
pub struct PrivateMounts {
    mounts: Vec<Mount>,
}

impl PrivateMounts {
    pub fn new() -> PrivateMounts {
        PrivateMounts::default()
    }

    /// Binds `source` (a lab file or directory) over `target`. Panics unless
    /// both exist and are of the same kind, so no mount point is ever made.
    pub fn bind(mut self, source: impl AsRef<Path>, target: impl AsRef<Path>) -> PrivateMounts {
        let (source, target) = (source.as_ref(), target.as_ref());
        let seen = self.as_seen(target);
        let (src_meta, dst_meta) = (fs::metadata(source), seen.as_ref().map(fs::metadata));
        match (src_meta, dst_meta) {
            (Ok(s), Some(Ok(t))) if s.is_dir() == t.is_dir() => {}
            (s, t) => panic!(
                "bind {} over {}: both must exist and be of the same kind \
                 (source: {s:?}, target as seen through earlier mounts {seen:?}: {t:?})",
                source.display(),
                target.display()
            ),
        }
        self.mounts.push(Mount::Bind {
            source: source.to_owned(),
            target: target.to_owned(),
        });
        self
    }

    /// Mounts an empty tmpfs over the existing directory `target`.
    pub fn tmpfs(mut self, target: impl AsRef<Path>) -> PrivateMounts {
        let target = target.as_ref();
        let seen = self.as_seen(target);
        assert!(
            seen.as_ref().is_some_and(|p| p.is_dir()),
            "tmpfs over {}: it must be an existing directory (seen as {seen:?})",
            target.display()
        );
        self.mounts.push(Mount::Tmpfs {
            target: target.to_owned(),
        });
        self
    }

    /// Where `path` lives for the test process, given the mounts so far:
    /// under a bind mount, in its lab source; under a tmpfs, nowhere.
    fn as_seen(&self, path: &Path) -> Option<PathBuf> {
        for mount in self.mounts.iter().rev() {
            match mount {
                Mount::Bind { source, target } => {
                    if let Ok(rest) = path.strip_prefix(target) {
                        return Some(if rest.as_os_str().is_empty() {
                            source.clone()
                        } else {
                            source.join(rest)
                        });
                    }
                }
                Mount::Tmpfs { target } => {
                    if path != target && path.starts_with(target) {
                        return None;
                    }
                }
            }
        }
        Some(path.to_owned())
    }

    /// The shell script that makes the mounts and then `exec`s its
    /// arguments. `set -e`: a failed mount stops everything before the
    /// program runs.
    fn script(&self) -> String {
        let mut s = String::from("set -e\nmount --make-rprivate /\n");
        for mount in &self.mounts {
            match mount {
                Mount::Bind { source, target } => s.push_str(&format!(
                    "mount --bind {} {}\n",
                    quote(source),
                    quote(target)
                )),
                Mount::Tmpfs { target } => s.push_str(&format!(
                    "mount -t tmpfs -o mode=0755 tmpfs {}\n",
                    quote(target)
                )),
            }
        }
        s.push_str("exec \"$@\"\n");
        s
    }

    /// `argv` in `ns` and in a new private mount namespace with these mounts.
    pub fn command(&self, ns: &Netns, argv: &[&str]) -> Command {
        let mut c = ns.cmd("unshare");
        c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(self.script())
            .arg("private-mounts")
            .args(argv)
            .stdin(Stdio::null());
        c
    }

    /// Runs `argv` to its end, its output appended to `log`; panics if it
    /// has not ended within `timeout` (after killing it). Output goes to a
    /// file, not a pipe, so a daemon the command leaves running cannot hold
    /// the caller up.
    pub fn run(&self, ns: &Netns, argv: &[&str], log: &Path, timeout: Duration) -> ExitStatus {
        let mut child = self.spawn(ns, argv, log);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the command") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{argv:?} in {} did not end within {timeout:?}; its log:\n{}",
                    ns.name,
                    fs::read_to_string(log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts `argv`, its output appended to `log`; the caller owns it. The
    /// child's pid is the program's: `ip netns exec`, `unshare` and the
    /// shell each `exec` the next.
    pub fn spawn(&self, ns: &Netns, argv: &[&str], log: &Path) -> Child {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("opening {}: {e}", log.display()));
        let err = out.try_clone().expect("cloning the log handle");
        self.command(ns, argv)
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {argv:?} in {}: {e}", ns.name))
    }
}

/// Single-quotes `path` for `sh`.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_under_an_earlier_bind_is_looked_up_in_its_source() {
        let dir = std::env::temp_dir().join(format!("pm-test-{}", std::process::id()));
        fs::create_dir_all(dir.join("run/lxc")).unwrap();
        let m = PrivateMounts::new().bind(dir.join("run"), "/run");
        assert_eq!(m.as_seen(Path::new("/run/lxc")), Some(dir.join("run/lxc")));
        assert_eq!(m.as_seen(Path::new("/run")), Some(dir.join("run")));
        assert_eq!(
            m.as_seen(Path::new("/etc/hosts")),
            Some("/etc/hosts".into())
        );
        let m = m.bind(dir.join("run/lxc"), "/run/lxc");
        assert!(m.script().contains("mount --bind"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    #[should_panic(expected = "both must exist")]
    fn a_missing_mount_point_is_refused_rather_than_created() {
        let _ = PrivateMounts::new().bind("/", "/nonexistent/mount/point");
    }

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(quote(Path::new("/tmp/it's")), r"'/tmp/it'\''s'");
    }
}
