//! What `up` changed, saved under the state directory
//! (`/run/nspawn-netd/BRIDGE.json` by default) so `down` can undo exactly
//! that. Written after every step, crash-safe (temp file, fsync, rename).

use std::io::Write;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sysctl::SysctlChange;

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
}

pub fn state_path(dir: &Path, bridge: &str) -> PathBuf {
    dir.join(format!("{bridge}.json"))
}

/// Loads the state of `bridge`; `None` when there is none.
pub fn load(dir: &Path, bridge: &str) -> Result<Option<SavedState>, Error> {
    let path = state_path(dir, bridge);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::State {
                path,
                message: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::State {
            path,
            message: e.to_string(),
        })
}

pub fn save(dir: &Path, state: &SavedState) -> Result<(), Error> {
    let path = state_path(dir, &state.bridge);
    let err = |e: std::io::Error| Error::State {
        path: path.clone(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(state).expect("state serializes");
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}

pub fn remove(dir: &Path, bridge: &str) -> Result<(), Error> {
    let path = state_path(dir, bridge);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
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
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, format!("{}\n", std::process::id())))
            .map_err(|e| Error::State {
                path: path.clone(),
                message: e.to_string(),
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
mod tests {
    use super::*;

    #[test]
    fn a_watcher_mark_names_this_process_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let mark = WatcherMark::create(dir.path(), "nat0").unwrap();
        let text = std::fs::read_to_string(dir.path().join("nat0.up.pid")).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        // This test process is not nspawn-netd: not a running watcher.
        assert_eq!(running_watcher(dir.path(), "nat0"), None);
        drop(mark);
        assert!(!dir.path().join("nat0.up.pid").exists());
    }

    #[test]
    fn round_trips_and_keeps_the_first_old_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedState {
            bridge: "nat0".into(),
            created_bridge: true,
            ..SavedState::default()
        };
        s.record_sysctl(SysctlChange {
            key: "net/ipv4/conf/all/forwarding".into(),
            old: "0".into(),
            new: "1".into(),
        });
        s.record_sysctl(SysctlChange {
            key: "net/ipv4/conf/all/forwarding".into(),
            old: "1".into(),
            new: "1".into(),
        });
        save(dir.path(), &s).unwrap();
        let back = load(dir.path(), "nat0").unwrap().unwrap();
        assert_eq!(back, s);
        assert_eq!(back.sysctls.len(), 1);
        assert_eq!(back.sysctls[0].old, "0");
        remove(dir.path(), "nat0").unwrap();
        assert!(load(dir.path(), "nat0").unwrap().is_none());
    }
}
