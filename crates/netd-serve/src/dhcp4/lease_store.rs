//! The lease file on disk: loaded once at start, then rewritten whole after
//! changes, crash-safe: a temporary file in the same directory, written and
//! fsynced, renamed over the old one, and the directory fsynced, so the file
//! is always either the old or the new table, never half of one.
//!
//! Blocking I/O: the shell runs [`LeaseStore::write`] on a blocking thread.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use netd_proto::dhcp4::lease_file::{self, LeaseRecord, LineError};

#[derive(Debug, Clone)]
pub struct LeaseStore {
    path: PathBuf,
}

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<LeaseRecord>,
    /// Lines that could not be read; they were skipped.
    pub errors: Vec<LineError>,
}

impl LeaseStore {
    pub fn new(path: impl Into<PathBuf>) -> LeaseStore {
        LeaseStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file; a missing file is an empty table. Its directory is
    /// created if missing, so that a later write cannot fail for that.
    pub fn load(&self) -> io::Result<Loaded> {
        if let Some(dir) = self.dir() {
            fs::create_dir_all(dir)?;
        }
        let text = match fs::read(&self.path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(e),
        };
        let (records, errors) = lease_file::parse(&text);
        Ok(Loaded { records, errors })
    }

    /// Replaces the file with `records`, durably.
    pub fn write(&self, records: &[LeaseRecord]) -> io::Result<()> {
        let dir = self.dir().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let name = self.path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "lease file path has no file name",
            )
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".tmp");
        let tmp = dir.join(tmp_name);
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(lease_file::format(records).as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn dir(&self) -> Option<&Path> {
        self.path.parent().filter(|p| !p.as_os_str().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn rec(last: u8) -> LeaseRecord {
        LeaseRecord {
            expires: 1_900_000_000,
            mac: [2, 0, 0, 0, 0, last],
            addr: Ipv4Addr::new(192, 168, 26, last),
            hostname: None,
            client_id: None,
        }
    }

    #[test]
    fn writes_replace_the_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let store = LeaseStore::new(dir.path().join("sub/dir/leases"));
        assert!(store.load().unwrap().records.is_empty());
        store.write(&[rec(20), rec(21)]).unwrap();
        store.write(&[rec(22)]).unwrap();
        assert_eq!(store.load().unwrap().records, vec![rec(22)]);
        let names: Vec<_> = fs::read_dir(dir.path().join("sub/dir"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["leases"]);
    }

    #[test]
    fn bad_lines_come_back_with_their_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leases");
        fs::write(&path, format!("{}oops\n", lease_file::format(&[rec(20)]))).unwrap();
        let loaded = LeaseStore::new(&path).load().unwrap();
        assert_eq!(loaded.records, vec![rec(20)]);
        assert_eq!(loaded.errors[0].line, 2);
    }
}
