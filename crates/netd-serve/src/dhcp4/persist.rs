//! What the DHCPv4 shell writes, and when, as three kinds of background
//! job on blocking threads, at most one of each at a time:
//!
//! - a **commit**: the changed leases appended to the journal and synced
//!   once (group commit: the ACKs held for them leave when it succeeds);
//!   when the journal has outgrown the table, the same job then switches
//!   journal slots;
//! - a **snapshot** after such a switch: the table as it stood at the
//!   switch, written whole (through the privileged helper when the daemon
//!   runs without root), off the ACK path;
//! - an **export**: dnsmasq's lease file rewritten for the tools that read
//!   it, at most once per [`EXPORT_INTERVAL`] while leases change, and once
//!   more on a clean stop so that it is then exact.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netd_proto::dhcp4::journal::Change;
use netd_proto::dhcp4::lease_file::LeaseRecord;
use tokio::task::{JoinError, JoinHandle, spawn_blocking};
use tokio::time::Instant;

use super::journal::{self, FileSlots, LeaseJournal, SnapshotFile};
use super::lease_store::LeaseStore;

/// Longest wait between a lease change and the dnsmasq-format file
/// showing it, while the export keeps up.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(1);

/// What a commit job did.
#[derive(Debug)]
pub struct Committed {
    pub result: io::Result<()>,
    /// The switch to the next journal slot, when one was asked for: its
    /// generation and the table to write as its snapshot.
    pub switched: Option<(io::Result<u64>, Vec<LeaseRecord>)>,
}

#[derive(Debug)]
pub struct Persistence {
    /// `None` with `--leasefile-ro`: no file is written, and a commit
    /// completes at once (the lease-change script keeps the leases).
    journal: Option<Arc<Mutex<LeaseJournal<FileSlots>>>>,
    snapshot: Option<Arc<dyn SnapshotFile>>,
    export: Option<LeaseStore>,
    /// Changes not yet handed to a commit job.
    pending: Vec<Change>,
    /// Records in the active journal slot, as of the last commit.
    journal_records: usize,
    /// A switch happened and its snapshot is not yet durable: no new
    /// switch until it is.
    snapshot_due: Option<(u64, Arc<Vec<LeaseRecord>>)>,
    pub commit_job: Option<JoinHandle<Committed>>,
    pub snapshot_job: Option<JoinHandle<io::Result<()>>>,
    /// Gives back the text's buffer with the result, for the next export.
    pub export_job: Option<JoinHandle<(io::Result<()>, String)>>,
    /// The last export's buffer, kept: a fresh one each second for a
    /// large table (megabytes) cost page faults on every export.
    export_buf: String,
    /// The dnsmasq-format file is behind the table.
    export_dirty: bool,
    pub next_export: Instant,
    pub snapshot_retry_at: Option<Instant>,
}

impl Persistence {
    pub fn new(
        journal: LeaseJournal<FileSlots>,
        snapshot: Arc<dyn SnapshotFile>,
        export: LeaseStore,
    ) -> Persistence {
        Persistence {
            journal_records: journal.records(),
            journal: Some(Arc::new(Mutex::new(journal))),
            snapshot: Some(snapshot),
            export: Some(export),
            pending: Vec::new(),
            snapshot_due: None,
            commit_job: None,
            snapshot_job: None,
            export_job: None,
            export_buf: String::new(),
            // The first export runs at once: the file may be older than
            // the journal.
            export_dirty: true,
            next_export: Instant::now(),
            snapshot_retry_at: None,
        }
    }

    /// `--leasefile-ro`: no journal, snapshot or lease file at all.
    pub fn without_files() -> Persistence {
        Persistence {
            journal_records: 0,
            journal: None,
            snapshot: None,
            export: None,
            pending: Vec::new(),
            snapshot_due: None,
            commit_job: None,
            snapshot_job: None,
            export_job: None,
            export_buf: String::new(),
            export_dirty: false,
            next_export: Instant::now(),
            snapshot_retry_at: None,
        }
    }

    pub fn export_path(&self) -> &std::path::Path {
        self.export
            .as_ref()
            .map_or(std::path::Path::new(""), LeaseStore::path)
    }

    /// A change to journal with the next commit.
    pub fn push(&mut self, change: Change) {
        self.pending.push(change);
        self.export_dirty = self.export.is_some();
    }

    /// The table changed in a way the journal need not record (an
    /// expiry): only the dnsmasq-format file must catch up.
    pub fn touch(&mut self) {
        self.export_dirty = self.export.is_some();
    }

    /// Whether the next commit should also switch slots, given a table of
    /// `leases`: the journal outgrew it and the last switch's snapshot is
    /// durable.
    pub fn wants_switch(&self, leases: usize) -> bool {
        self.journal.is_some()
            && self.snapshot_due.is_none()
            && self.snapshot_job.is_none()
            && netd_proto::dhcp4::journal::should_compact(self.journal_records, leases)
    }

    /// Starts a commit of the pending changes; with `table`, a switch
    /// after it, whose snapshot will be `table`.
    pub fn start_commit(&mut self, table: Option<Vec<LeaseRecord>>) {
        let changes = std::mem::take(&mut self.pending);
        let Some(journal) = self.journal.clone() else {
            self.commit_job = Some(tokio::spawn(async {
                Committed {
                    result: Ok(()),
                    switched: None,
                }
            }));
            return;
        };
        self.commit_job = Some(spawn_blocking(move || {
            let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
            let result = j.commit(changes);
            let switched = match (&result, table) {
                (Ok(()), Some(t)) => Some((j.switch(), t)),
                _ => None,
            };
            Committed { result, switched }
        }));
    }

    /// A commit job ended: note the journal's size and any switch, and
    /// start the switch's snapshot. Returns the commit's result.
    pub fn commit_done(&mut self, done: Result<Committed, JoinError>) -> CommitOutcome {
        self.commit_job = None;
        let done = done.unwrap_or_else(|e| Committed {
            result: Err(io::Error::other(format!("the journal writer failed: {e}"))),
            switched: None,
        });
        self.journal_records = self
            .journal
            .as_ref()
            .and_then(|j| j.lock().ok().map(|j| j.records()))
            .unwrap_or(0);
        let mut switch_error = None;
        if let Some((switched, table)) = done.switched {
            match switched {
                Ok(generation) => {
                    self.snapshot_due = Some((generation, Arc::new(table)));
                    self.start_snapshot();
                }
                Err(e) => switch_error = Some(e),
            }
        }
        CommitOutcome {
            result: done.result,
            switch_error,
        }
    }

    fn start_snapshot(&mut self) {
        let Some((generation, table)) = self.snapshot_due.clone() else {
            return;
        };
        let Some(snapshot) = self.snapshot.clone() else {
            return;
        };
        self.snapshot_retry_at = None;
        self.snapshot_job = Some(spawn_blocking(move || {
            journal::write_snapshot(&*snapshot, generation, &table)
        }));
    }

    /// A snapshot job ended; a failed one is tried again later.
    pub fn snapshot_done(&mut self, done: Result<io::Result<()>, JoinError>) -> io::Result<()> {
        self.snapshot_job = None;
        let result = done.unwrap_or_else(|e| Err(io::Error::other(e)));
        match &result {
            Ok(()) => self.snapshot_due = None,
            Err(_) => self.snapshot_retry_at = Some(Instant::now() + Duration::from_secs(1)),
        }
        result
    }

    /// Time to try the failed snapshot again.
    pub fn retry_snapshot(&mut self) {
        self.start_snapshot();
    }

    /// True when the dnsmasq-format file should be rewritten now.
    pub fn export_ready(&self, now: Instant) -> bool {
        self.export_dirty && self.export_job.is_none() && now >= self.next_export
    }

    /// True when an export is waiting only for its interval.
    pub fn export_waiting(&self) -> bool {
        self.export_dirty && self.export_job.is_none()
    }

    /// Rewrites the dnsmasq-format file with `text`.
    pub fn start_export(&mut self, fill: impl FnOnce(&mut String)) {
        self.export_dirty = false;
        self.next_export = Instant::now() + EXPORT_INTERVAL;
        let Some(store) = self.export.clone() else {
            return;
        };
        let mut text = std::mem::take(&mut self.export_buf);
        text.clear();
        fill(&mut text);
        self.export_job = Some(spawn_blocking(move || {
            let result = store.write_text(&text);
            (result, text)
        }));
    }

    /// An export job ended; a failed one is tried again at the next
    /// interval.
    pub fn export_done(
        &mut self,
        done: Result<(io::Result<()>, String), JoinError>,
    ) -> io::Result<()> {
        self.export_job = None;
        let result = match done {
            Ok((result, buf)) => {
                self.export_buf = buf;
                result
            }
            Err(e) => Err(io::Error::other(e)),
        };
        if result.is_err() {
            self.export_dirty = true;
        }
        result
    }
}

/// A commit's result, and a failed slot switch (the commit itself may
/// still have succeeded: its ACKs may leave).
#[derive(Debug)]
pub struct CommitOutcome {
    pub result: io::Result<()>,
    pub switch_error: Option<io::Error>,
}
