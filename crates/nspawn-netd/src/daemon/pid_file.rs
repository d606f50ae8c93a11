//! `--pid-file`: written (crash-safe, never through a planted link) once
//! every socket is bound and before privileges are dropped, so it can live
//! in a root-owned directory such as /run. Removed on exit by whoever can:
//! the daemon itself when it kept its privileges, else the privileged
//! helper, which outlives it by a moment.

use std::path::{Path, PathBuf};

use netd_serve::atomic_file;

#[derive(Debug)]
pub(crate) struct PidFile {
    path: PathBuf,
    /// Whether this process removes it on exit.
    remove: bool,
}

impl PidFile {
    pub(crate) fn create(path: &Path) -> std::io::Result<PidFile> {
        atomic_file::replace(path, format!("{}\n", std::process::id()).as_bytes())?;
        Ok(PidFile {
            path: path.to_owned(),
            remove: true,
        })
    }

    /// The privileged helper removes it: this process will not be allowed to.
    pub(crate) fn leave_to_helper(&mut self) {
        self.remove = false;
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
