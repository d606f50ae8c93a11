//! Removing a rootfs safely, for rollback and `container remove`: whatever
//! is still mounted below it (a killed debootstrap leaves `/proc`, `/sys`,
//! `/dev/pts` mounted in the target) is unmounted first, and the removal
//! never crosses into another file system, so a mount that could not be
//! undone is never emptied.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::sys;

/// The mount points at or below `dir` in a `/proc/self/mountinfo` text,
/// deepest first (the order to unmount them in).
pub fn mounts_under(mountinfo: &str, dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_octal(field)))
        .filter(|mount| mount.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found.dedup();
    found
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a rootfs was not (fully) removed.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("{path} is still mounted and could not be unmounted: {source}")]
    Busy { path: PathBuf, source: io::Error },
    #[error("{path} lies on another file system than the rootfs; left in place")]
    OtherFileSystem { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("refusing to remove {0}: it is the root directory")]
    Root(PathBuf),
}

/// Unmounts everything below `dir`, then deletes `dir` and its contents
/// without leaving its file system. A missing `dir` is not an error.
pub fn remove_rootfs(dir: &Path) -> Result<(), RemoveError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| RemoveError::Io { path, source }
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    if !meta.is_dir() {
        return std::fs::remove_file(dir).map_err(io_err(dir));
    }
    let dir = dir.canonicalize().map_err(io_err(dir))?;
    refuse_root(&dir)?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(io_err(Path::new("/proc/self/mountinfo")))?;
    for mount in mounts_under(&mountinfo, &dir) {
        if mount == dir {
            continue; // the rootfs itself being a mount point is fine
        }
        if let Err(source) = sys::detach_unmount(&mount) {
            return Err(RemoveError::Busy {
                path: mount,
                source,
            });
        }
    }
    remove_tree(&dir, meta.dev())
}

/// A canonical path that must never be removed wholesale.
fn refuse_root(dir: &Path) -> Result<(), RemoveError> {
    if dir.parent().is_none() {
        return Err(RemoveError::Root(dir.to_owned()));
    }
    Ok(())
}

fn remove_tree(path: &Path, dev: u64) -> Result<(), RemoveError> {
    let io_err = |source| RemoveError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(io_err)?;
    if meta.dev() != dev {
        return Err(RemoveError::OtherFileSystem {
            path: path.to_owned(),
        });
    }
    if !meta.is_dir() {
        return std::fs::remove_file(path).map_err(io_err);
    }
    let mut first_error = None;
    for entry in std::fs::read_dir(path).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        if let Err(e) = remove_tree(&entry.path(), dev) {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    std::fs::remove_dir(path).map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:5 / /var/lib/machines/web/proc rw - proc proc rw
31 22 0:6 / /var/lib/machines/web/dev/pts rw - devpts devpts rw
32 22 0:7 / /var/lib/machines/web2/proc rw - proc proc rw
33 22 0:8 / /var/lib/machines/web/a\\040b rw - tmpfs tmpfs rw
34 22 0:9 / /var/lib/machines/web rw - tmpfs tmpfs rw
";

    #[test]
    fn finds_mounts_below_deepest_first_and_unescapes() {
        let got = mounts_under(MOUNTINFO, Path::new("/var/lib/machines/web"));
        assert_eq!(got[0], Path::new("/var/lib/machines/web/dev/pts"));
        assert_eq!(got.last().unwrap(), Path::new("/var/lib/machines/web"));
        assert!(got.contains(&PathBuf::from("/var/lib/machines/web/a b")));
        assert!(!got.iter().any(|p| p.starts_with("/var/lib/machines/web2")));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn removes_a_tree_without_following_symlinks() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), "x").unwrap();
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("rootfs");
        std::fs::create_dir_all(root.join("etc/deep")).unwrap();
        std::fs::write(root.join("etc/deep/f"), "y").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("etc/link")).unwrap();
        remove_rootfs(&root).unwrap();
        assert!(!root.exists());
        assert!(outside.path().join("keep").exists());
        remove_rootfs(&root).unwrap(); // already gone: fine
    }

    #[test]
    fn never_the_root_directory() {
        // The guard alone: a regression must not get to delete anything.
        assert!(matches!(
            refuse_root(Path::new("/")),
            Err(RemoveError::Root(_))
        ));
        assert!(refuse_root(Path::new("/var/lib/machines/web")).is_ok());
    }
}
