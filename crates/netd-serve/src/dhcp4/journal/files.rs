//! The journal's files as the write steps the journal takes: append to a
//! slot, sync it, truncate it, replace the snapshot. [`Slots`] and
//! [`SnapshotFile`] are traits so the property tests can stop the process
//! between any two steps (and tear the one in progress); [`FileSlots`] and
//! [`SnapshotOnDisk`] are the real files.
//!
//! The slots are opened once, before the daemon gives up root: the daemon
//! writes and syncs through its descriptors and needs no right on the
//! directory. A slot grows in zero-filled chunks ([`CHUNK`]) and records
//! are written in place (`pwrite`) into those zeros, so a commit's
//! `fdatasync` writes the data and a cache flush but no inode: the file's
//! size and blocks change once per chunk, not once per commit. A reader
//! takes zeros to the end of the file for unused space. The snapshot is
//! replaced whole (temporary, fsync, rename, directory fsync) through a
//! [`FileWriter`]: the privileged helper when the daemon runs without root.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::atomic_file::FileWriter;

/// The two journal slots.
pub trait Slots: Send + std::fmt::Debug {
    /// The whole content of `slot`.
    fn read(&mut self, slot: usize) -> io::Result<Vec<u8>>;
    /// Writes `bytes` at the end of `slot`.
    fn append(&mut self, slot: usize, bytes: &[u8]) -> io::Result<()>;
    /// Makes what was written to `slot`, and its length, durable
    /// (`fdatasync`).
    fn sync(&mut self, slot: usize) -> io::Result<()>;
    /// Cuts `slot` to `len` bytes (not durable before [`Slots::sync`]).
    fn truncate(&mut self, slot: usize, len: u64) -> io::Result<()>;
    /// Where `slot`'s records end, as recovery found it: the next append
    /// goes there. Writes nothing.
    fn set_end(&mut self, slot: usize, len: u64);
}

/// The snapshot file.
pub trait SnapshotFile: Send + Sync + std::fmt::Debug {
    /// Its content, or `None` when there is none.
    fn read(&self) -> io::Result<Option<Vec<u8>>>;
    /// Replaces it crash-safely: afterwards it is the old content or the
    /// new, never a mix; once this returns `Ok`, the new one is durable.
    fn replace(&self, bytes: &[u8]) -> io::Result<()>;
}

/// Where the journal lives, beside the lease file `PATH`:
/// `PATH.snapshot`, `PATH.journal-0` and `PATH.journal-1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPaths {
    pub snapshot: PathBuf,
    pub slots: [PathBuf; 2],
}

impl JournalPaths {
    pub fn beside(lease_file: &Path) -> JournalPaths {
        let with = |suffix: &str| {
            let mut s = lease_file.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        JournalPaths {
            snapshot: with(".snapshot"),
            slots: [with(".journal-0"), with(".journal-1")],
        }
    }
}

/// A slot grows by this much at a time, zero-filled.
pub const CHUNK: u64 = 1 << 20;

/// The two slot files, open for writing.
#[derive(Debug)]
pub struct FileSlots {
    files: [File; 2],
    /// Where each slot's records end: the next append goes there.
    end: [u64; 2],
    /// Each slot's size: zeros from `end` to here.
    size: [u64; 2],
}

impl FileSlots {
    /// Opens (creating, mode 0600) both slots. Never through a symbolic
    /// link: a link planted where a slot belongs is refused.
    pub fn open(paths: &JournalPaths) -> io::Result<FileSlots> {
        let open = |p: &Path| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(p)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
        };
        let files = [open(&paths.slots[0])?, open(&paths.slots[1])?];
        let size = [files[0].metadata()?.len(), files[1].metadata()?.len()];
        Ok(FileSlots {
            files,
            end: size,
            size,
        })
    }
}

impl Slots for FileSlots {
    fn read(&mut self, slot: usize) -> io::Result<Vec<u8>> {
        let f = &mut self.files[slot];
        f.seek(SeekFrom::Start(0))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn append(&mut self, slot: usize, bytes: &[u8]) -> io::Result<()> {
        let end = self.end[slot];
        let need = end + bytes.len() as u64;
        if need > self.size[slot] {
            let size = need.div_ceil(CHUNK) * CHUNK;
            let zeros = vec![0u8; (size - self.size[slot]) as usize];
            self.files[slot].write_all_at(&zeros, self.size[slot])?;
            self.size[slot] = size;
        }
        self.files[slot].write_all_at(bytes, end)?;
        self.end[slot] = need;
        Ok(())
    }

    fn sync(&mut self, slot: usize) -> io::Result<()> {
        self.files[slot].sync_data()
    }

    fn truncate(&mut self, slot: usize, len: u64) -> io::Result<()> {
        self.files[slot].set_len(len)?;
        self.size[slot] = len;
        self.end[slot] = len;
        Ok(())
    }

    fn set_end(&mut self, slot: usize, len: u64) {
        self.end[slot] = len;
    }
}

/// The snapshot file, replaced through `writer`.
#[derive(Debug, Clone)]
pub struct SnapshotOnDisk {
    path: PathBuf,
    writer: Arc<dyn FileWriter>,
}

impl SnapshotOnDisk {
    pub fn new(path: PathBuf, writer: Arc<dyn FileWriter>) -> SnapshotOnDisk {
        SnapshotOnDisk { path, writer }
    }
}

impl SnapshotFile for SnapshotOnDisk {
    fn read(&self) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn replace(&self, bytes: &[u8]) -> io::Result<()> {
        self.writer.replace(&self.path, bytes)
    }
}
