//! dnsmasq's lease file on disk: imported once when there is no journal
//! yet, then rewritten whole in the background for the tools that read it,
//! crash-safe ([`crate::atomic_file`]): the file is always either the old
//! or the new table, never half of one. The write goes through a
//! [`FileWriter`]: this process, or the privileged helper when the daemon
//! runs as an unprivileged user. The leases' truth is the journal
//! (`super::journal`); this file is its export.
//!
//! Blocking I/O: the shell runs [`LeaseStore::write`] on a blocking thread.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::atomic_file::{Direct, FileWriter};

use netd_proto::dhcp4::lease_file::{self, LeaseRecord, LineError};

#[derive(Debug, Clone)]
pub struct LeaseStore {
    path: PathBuf,
    writer: Arc<dyn FileWriter>,
}

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<LeaseRecord>,
    /// Lines that could not be read; they were skipped.
    pub errors: Vec<LineError>,
}

impl LeaseStore {
    /// A store that writes in this process.
    pub fn new(path: impl Into<PathBuf>) -> LeaseStore {
        LeaseStore::with_writer(path, Arc::new(Direct))
    }

    pub fn with_writer(path: impl Into<PathBuf>, writer: Arc<dyn FileWriter>) -> LeaseStore {
        LeaseStore {
            path: path.into(),
            writer,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the file's directory if missing, so that the journal can
    /// be opened there and a later write cannot fail for that.
    pub fn prepare_dir(&self) -> io::Result<()> {
        match self.dir() {
            Some(dir) => fs::create_dir_all(dir),
            None => Ok(()),
        }
    }

    /// Reads the file; a missing file is an empty table.
    pub fn load(&self) -> io::Result<Loaded> {
        self.prepare_dir()?;
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
        self.write_text(&lease_file::format(records))
    }

    /// Replaces the file with `text` (already in the file's format),
    /// durably.
    pub fn write_text(&self, text: &str) -> io::Result<()> {
        self.writer.replace(&self.path, text.as_bytes())
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
