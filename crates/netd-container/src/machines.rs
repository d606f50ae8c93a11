//! The machines in a machines directory (`/var/lib/machines`): their
//! rootfs, distribution and bridge, and whether one is running.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::name::validate_machine_name;
use crate::nspawn_file;
use crate::rootfs::files::resolve_in;
use crate::sys;

/// One machine found in the machines directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    /// The rootfs (a symlink in the machines directory already followed).
    pub root: PathBuf,
    /// `PRETTY_NAME` from its os-release, else `ID`.
    pub os: Option<String>,
    /// `Bridge=` from its `.nspawn` file.
    pub bridge: Option<String>,
}

/// `PRETTY_NAME` (or `ID`) from an os-release text.
pub fn os_name(os_release: &str) -> Option<String> {
    let value = |key: &str| {
        os_release.lines().find_map(|l| {
            let v = l.trim().strip_prefix(key)?.strip_prefix('=')?;
            Some(v.trim_matches(|c| c == '"' || c == '\'').to_owned())
        })
    };
    value("PRETTY_NAME").or_else(|| value("ID"))
}

/// Directory trees in `machines_dir` whose name is a valid machine name
/// (images and lock files are skipped), sorted by name.
pub fn list(machines_dir: &Path, nspawn_dir: &Path) -> io::Result<Vec<Machine>> {
    let entries = match std::fs::read_dir(machines_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if validate_machine_name(&name).is_err() || !entry.path().is_dir() {
            continue;
        }
        out.push(machine(machines_dir, nspawn_dir, &name));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What is known of machine `name` (it need not exist).
pub fn machine(machines_dir: &Path, nspawn_dir: &Path, name: &str) -> Machine {
    let link = machines_dir.join(name);
    let root = link.canonicalize().unwrap_or(link);
    let os = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|rel| {
            let path = resolve_in(&root, Path::new(rel)).ok()?;
            os_name(&std::fs::read_to_string(path).ok()?)
        });
    let bridge = std::fs::read_to_string(nspawn_dir.join(format!("{name}.nspawn")))
        .ok()
        .and_then(|t| nspawn_file::bridge(&t));
    Machine {
        name: name.to_owned(),
        root,
        os,
        bridge,
    }
}

/// Whether a `systemd-nspawn` (or machined) is running the machine whose
/// rootfs is `root`: nspawn holds a lock on
/// `/run/systemd/nspawn/locks/inode-DEV:INO` for the directory's inode for
/// as long as the container runs, whatever path it was started with.
pub fn is_running(root: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(root) else {
        return false;
    };
    let lock = PathBuf::from(format!(
        "/run/systemd/nspawn/locks/inode-{}:{}",
        meta.dev(),
        meta.ino()
    ));
    is_locked(&lock)
}

/// Whether someone holds a lock on `path`, either kind systemd uses
/// (open-file-description record locks; BSD `flock` in older versions).
fn is_locked(path: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    else {
        return false;
    };
    if sys::ofd_write_lock_held(&file).unwrap_or(false) {
        return true;
    }
    // std's file locks are flock(2); one we get is released at once.
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(std::fs::TryLockError::WouldBlock) => true,
        Err(std::fs::TryLockError::Error(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_names() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(
            os_name(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_name("ID=arch\n").as_deref(), Some("arch"));
        assert_eq!(os_name("NAME=x\n"), None);
    }

    #[test]
    fn lists_trees_with_their_os_and_bridge() {
        let m = tempfile::tempdir().unwrap();
        let n = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(m.path().join("web/etc")).unwrap();
        std::fs::write(m.path().join("web/etc/os-release"), "ID=debian\n").unwrap();
        std::fs::create_dir_all(elsewhere.path().join("usr/lib")).unwrap();
        std::fs::write(
            elsewhere.path().join("usr/lib/os-release"),
            "PRETTY_NAME='Arch Linux'\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), m.path().join("arch")).unwrap();
        std::fs::write(m.path().join(".#web.lck"), "").unwrap();
        std::fs::write(m.path().join("img.raw"), "").unwrap();
        std::fs::write(n.path().join("web.nspawn"), nspawn_file::render("nat0")).unwrap();

        let list = list(m.path(), n.path()).unwrap();
        let summary: Vec<(&str, Option<&str>, Option<&str>)> = list
            .iter()
            .map(|m| (m.name.as_str(), m.os.as_deref(), m.bridge.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("arch", Some("Arch Linux"), None),
                ("web", Some("debian"), Some("nat0"))
            ]
        );
        assert_eq!(list[0].root, elsewhere.path().canonicalize().unwrap());
        assert!(!is_running(&list[1].root));
    }

    #[test]
    fn a_held_lock_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let holder = std::fs::File::create(&path).unwrap();
        assert!(!is_locked(&path));
        holder.lock().unwrap();
        assert!(is_locked(&path));
    }
}
