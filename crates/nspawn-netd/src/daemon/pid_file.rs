//! `--pid-file`: written once the daemon is ready, removed when it exits.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(Debug)]
pub(crate) struct PidFile(PathBuf);

impl PidFile {
    pub(crate) fn create(path: &Path) -> anyhow::Result<PidFile> {
        let tmp = path.with_extension("pid.tmp");
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("writing pid file {}", tmp.display()))?;
        writeln!(f, "{}", std::process::id())
            .and_then(|_| f.sync_all())
            .with_context(|| format!("writing pid file {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("writing pid file {}", path.display()))?;
        Ok(PidFile(path.to_owned()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
