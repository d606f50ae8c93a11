//! Writing into a rootfs without ever leaving it: symlinks inside the
//! rootfs are resolved against the rootfs (an absolute link such as
//! `/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf` must not
//! reach the host's file), and a file is replaced by renaming a new one over
//! it, so an existing symlink is replaced, not followed.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Symlinks followed before giving up, as the kernel's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// `rel` (a path inside the rootfs, absolute or not) with every symlink
/// resolved inside `root`. Components that do not exist are kept as they
/// are. `..` never climbs above `root`.
pub fn resolve_in(root: &Path, rel: &Path) -> io::Result<PathBuf> {
    let mut done = PathBuf::new(); // relative to root, symlink-free
    let mut todo: Vec<OsString> = components(rel);
    todo.reverse();
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        let candidate = done.join(&part);
        match std::fs::symlink_metadata(root.join(&candidate)) {
            Ok(meta) if meta.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_SYMLINKS {
                    return Err(io::Error::other(format!(
                        "too many symlinks resolving {} in {}",
                        rel.display(),
                        root.display()
                    )));
                }
                let target = std::fs::read_link(root.join(&candidate))?;
                if target.is_absolute() {
                    done = PathBuf::new();
                }
                let mut parts = components(&target);
                parts.reverse();
                todo.extend(parts);
            }
            _ => done = candidate,
        }
    }
    Ok(root.join(done))
}

fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// Writes `contents` to `rel` inside `root` with `mode`, creating parent
/// directories. An existing file keeps its owner and group; whatever was at
/// the path (file or symlink) is replaced atomically.
pub fn write_in(root: &Path, rel: &Path, contents: &[u8], mode: u32) -> io::Result<PathBuf> {
    let name = rel
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{}: not a file path", rel.display())))?;
    let parent = resolve_in(root, rel.parent().unwrap_or(Path::new("")))?;
    std::fs::create_dir_all(&parent)?;
    let path = parent.join(name);
    let owner = std::fs::symlink_metadata(&path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map(|m| (m.uid(), m.gid()));
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".nspawn-netd-new");
    let tmp = parent.join(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(contents)?;
        // The umask may have narrowed `mode`.
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_and_relative_links_stay_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("usr/bin")).unwrap();
        symlink("usr/bin", r.join("bin")).unwrap();
        symlink("/usr/bin/real", r.join("usr/bin/abs")).unwrap();
        symlink("../../../../../etc", r.join("usr/bin/up")).unwrap();
        assert_eq!(
            resolve_in(r, Path::new("/bin/ping")).unwrap(),
            r.join("usr/bin/ping")
        );
        assert_eq!(
            resolve_in(r, Path::new("bin/abs")).unwrap(),
            r.join("usr/bin/real")
        );
        assert_eq!(
            resolve_in(r, Path::new("usr/bin/up/passwd")).unwrap(),
            r.join("etc/passwd")
        );
        symlink("loop", r.join("loop")).unwrap();
        assert!(resolve_in(r, Path::new("loop/x")).is_err());
    }

    #[test]
    fn writing_replaces_a_symlink_instead_of_following_it() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        symlink(&victim, root.path().join("etc/resolv.conf")).unwrap();
        let path = write_in(
            root.path(),
            Path::new("etc/resolv.conf"),
            b"nameserver 192.168.26.1\n",
            0o644,
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(
            !std::fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "nameserver 192.168.26.1\n"
        );
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o644);
    }
}
