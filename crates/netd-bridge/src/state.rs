//! What `up` changed, saved under the state directory
//! (`/run/nspawn-netd/BRIDGE.json` by default) so `down` can undo exactly
//! that. Written after every step, crash-safe ([`crate::atomic_file`]:
//! a temporary created `O_EXCL|O_NOFOLLOW`, fsync, rename).
//!
//! `down` acts on what the file says as root, so nothing in it is trusted
//! blindly: the directory must be ours (a real directory owned by this
//! process's user that no one else may write), the file is not read
//! through a link, and a file naming another bridge, a sysctl `up` never
//! writes or a value that is not a plain number is refused.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sysctl::{SysctlChange, is_plain_value, is_written_by_up};
use crate::{atomic_file, sys};

/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/run/nspawn-netd";

/// Everything `up` changed on the host, accumulated across runs: a second
/// `up` adds only what it changed itself, so the values recorded before
/// the first one survive.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SavedState {
    pub bridge: String,
    /// We created the bridge: `down` deletes it (and its addresses with it).
    pub created_bridge: bool,
    /// Addresses we added to a bridge we did not create.
    pub added_addresses: Vec<IpNetwork>,
    /// We set a bridge we did not create up.
    pub brought_up: bool,
    /// Sysctls we changed, in the order we changed them.
    pub sysctls: Vec<SysctlChange>,
    /// We created our nf_tables table.
    pub table: bool,
    /// We registered the bridge with systemd-resolved.
    pub resolved: bool,
}

impl SavedState {
    /// Records a sysctl change unless the key is already recorded (its
    /// earliest old value is the one to restore).
    pub fn record_sysctl(&mut self, change: SysctlChange) {
        if !self.sysctls.iter().any(|c| c.key == change.key) {
            self.sysctls.push(change);
        }
    }

    /// Why a state read back for `bridge` cannot be acted on, if it cannot.
    pub fn check(&self, bridge: &str) -> Result<(), String> {
        if self.bridge != bridge {
            return Err(format!(
                "it records bridge {:?}, not {bridge:?}",
                self.bridge
            ));
        }
        for c in &self.sysctls {
            if !is_written_by_up(&c.key) {
                return Err(format!("sysctl key {:?} is not one `up` writes", c.key));
            }
            if !is_plain_value(&c.old) || !is_plain_value(&c.new) {
                return Err(format!(
                    "sysctl {} values {:?} -> {:?} are not plain numbers",
                    c.key, c.old, c.new
                ));
            }
        }
        Ok(())
    }
}

pub fn state_path(dir: &Path, bridge: &str) -> PathBuf {
    dir.join(format!("{bridge}.json"))
}

/// Loads the state of `bridge`; `None` when there is none. A state that
/// fails [`SavedState::check`] is an error.
pub fn load(dir: &Path, bridge: &str) -> Result<Option<SavedState>, Error> {
    let path = state_path(dir, bridge);
    let err = |message: String| Error::State {
        path: path.clone(),
        message,
    };
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e.to_string())),
        Ok(meta) => check_owned(&meta).map_err(err)?,
    }
    let text = match read_no_follow(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e.to_string())),
    };
    let state: SavedState = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    state.check(bridge).map_err(err)?;
    Ok(Some(state))
}

pub fn save(dir: &Path, state: &SavedState) -> Result<(), Error> {
    let path = state_path(dir, &state.bridge);
    let err = |message: String| Error::State {
        path: path.clone(),
        message,
    };
    owned_dir(dir).map_err(err)?;
    let text = serde_json::to_string_pretty(state).expect("state serializes");
    atomic_file::replace(&path, text.as_bytes()).map_err(|e| err(e.to_string()))
}

/// Creates `dir` (mode 0755) if missing, then checks that it is ours.
fn owned_dir(dir: &Path) -> Result<(), String> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|e| e.to_string())?;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    check_owned(&meta)
}

/// A real directory (not a link), owned by this process's user, that no
/// one else may write to.
fn check_owned(meta: &std::fs::Metadata) -> Result<(), String> {
    if !meta.file_type().is_dir() {
        return Err("the state directory is not a directory (a link?)".into());
    }
    let uid = sys::effective_uid();
    if meta.uid() != uid {
        return Err(format!(
            "the state directory belongs to uid {}, not to this process's uid {uid}",
            meta.uid()
        ));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(format!(
            "the state directory is writable by others (mode {:o})",
            meta.permissions().mode() & 0o7777
        ));
    }
    Ok(())
}

fn read_no_follow(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?
        .read_to_string(&mut text)?;
    Ok(text)
}

pub fn remove(dir: &Path, bridge: &str) -> Result<(), Error> {
    let path = state_path(dir, bridge);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::State {
            path,
            message: e.to_string(),
        }),
    }
}

/// Marks a foreground `up` that keeps the table whole, so `down` can
/// refuse to run under it (the watcher would put the table straight back).
/// The file `BRIDGE.up.pid` holds its pid; it is removed on drop.
#[derive(Debug)]
pub struct WatcherMark {
    path: PathBuf,
}

impl WatcherMark {
    pub fn create(dir: &Path, bridge: &str) -> Result<WatcherMark, Error> {
        let path = dir.join(format!("{bridge}.up.pid"));
        owned_dir(dir)
            .and_then(|()| {
                atomic_file::replace(&path, format!("{}\n", std::process::id()).as_bytes())
                    .map_err(|e| e.to_string())
            })
            .map_err(|message| Error::State {
                path: path.clone(),
                message,
            })?;
        Ok(WatcherMark { path })
    }
}

impl Drop for WatcherMark {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The pid of a running foreground `up` for `bridge`, if any (a stale mark
/// of a process that is gone does not count).
pub fn running_watcher(dir: &Path, bridge: &str) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join(format!("{bridge}.up.pid"))).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (comm.trim() == "nspawn-netd" && pid != std::process::id()).then_some(pid)
}

#[cfg(test)]
mod tests;
