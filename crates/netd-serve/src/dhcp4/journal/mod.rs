//! The lease journal: each group commit appends the changed leases to the
//! active slot and syncs it once (`fdatasync`), so a commit costs
//! O(changes), not O(leases). Once the journal outgrows the table, the
//! next commit also starts the other slot (generation + 1), and the table
//! as it stood then is written as snapshot generation + 1, off the ACK
//! path. Start-up replays the snapshot and the slots of its generation or
//! later; a torn last record is dropped with a message.
//!
//! The write order that keeps every crash point safe, for a switch from
//! slot A (generation g, following snapshot g) to slot B:
//!
//! 1. B is cut to nothing, gets the header of g + 1, and is synced. A
//!    crash before the sync leaves B empty, headless, or with an older
//!    generation than the snapshot's: ignored either way.
//! 2. Later commits go to B. Recovery now replays snapshot g, then A, then
//!    B: every acknowledged change is there.
//! 3. Snapshot g + 1 (the table at the switch, which is snapshot g plus all
//!    of A) replaces snapshot g atomically. From then on A is older than
//!    the snapshot and ignored; recovery replays snapshot g + 1 and B.
//! 4. Only after 3 may a later switch reuse A.
//!
//! The byte formats and the replay rules are `netd_proto::dhcp4::journal`.

mod files;

pub use files::{CHUNK, FileSlots, JournalPaths, Slots, SnapshotFile, SnapshotOnDisk};

use std::io;
use std::mem;

use netd_proto::dhcp4::journal::{
    self as format, Change, JOURNAL_HEADER_LEN, ReplayTable, decode_journal, decode_snapshot,
    encode_change, encode_snapshot, journal_header,
};
use netd_proto::dhcp4::lease_file::LeaseRecord;

/// The active slot and what is known about it.
#[derive(Debug)]
pub struct LeaseJournal<S: Slots> {
    slots: S,
    active: usize,
    generation: u64,
    /// Bytes of the active slot known durable: its header and whole
    /// records.
    durable_len: u64,
    /// Records in the active slot.
    records: usize,
    /// Changes whose append or sync failed; the next commit writes them
    /// first. They were never acknowledged.
    retry: Vec<Change>,
    /// A failed append may have left part of a record past `durable_len`:
    /// the next commit cuts it off before appending.
    tail_suspect: bool,
    buf: Vec<u8>,
}

/// What start-up found.
#[derive(Debug)]
pub struct Opened<S: Slots> {
    pub journal: LeaseJournal<S>,
    /// The bound leases to load.
    pub records: Vec<LeaseRecord>,
    /// Torn records dropped, damaged files: one line each, for the log.
    pub warnings: Vec<String>,
    /// The snapshot was rewritten (journal records folded in, or a first
    /// snapshot made).
    pub folded: bool,
}

/// Recovers the table from `snapshot` and `slots` and leaves the journal
/// ready to append. Without a snapshot, the table starts from `import`
/// (the dnsmasq-format lease file of an earlier version, or of dnsmasq).
/// Whenever the slots hold records, or anything is odd, the table is
/// folded into a new snapshot and both slots start afresh, before any
/// lease is acknowledged.
pub fn open<S: Slots>(
    mut slots: S,
    snapshot: &dyn SnapshotFile,
    import: impl FnOnce() -> io::Result<Vec<LeaseRecord>>,
) -> io::Result<Opened<S>> {
    let mut warnings = Vec::new();
    let (snapshot_gen, base, snapshot_ok) = match snapshot.read()? {
        Some(bytes) => match decode_snapshot(&bytes) {
            Ok(read) => {
                if let Some(d) = read.damaged {
                    warnings.push(format!(
                        "lease snapshot: damaged ({d}); {} leases read",
                        read.records.len()
                    ));
                }
                let ok = read.damaged.is_none();
                (read.generation, read.records, ok)
            }
            Err(e) => {
                warnings.push(format!("lease snapshot: {e}; ignored"));
                (0, import()?, false)
            }
        },
        None => (0, import()?, false),
    };
    let mut table = ReplayTable::from_records(base);
    let mut reads = [
        decode_journal(&slots.read(0)?),
        decode_journal(&slots.read(1)?),
    ];
    let mut live: Vec<usize> = (0..2)
        .filter(|&i| reads[i].generation.is_some_and(|g| g >= snapshot_gen))
        .collect();
    live.sort_by_key(|&i| reads[i].generation);
    let mut clean = snapshot_ok && live.len() == 1;
    for &i in &live {
        let read = &mut reads[i];
        if let Some(t) = read.torn {
            warnings.push(format!("lease journal slot {i}: torn record dropped: {t}"));
        }
        clean &=
            read.generation == Some(snapshot_gen) && read.changes.is_empty() && read.torn.is_none();
        for c in mem::take(&mut read.changes) {
            table.apply(c);
        }
    }
    let records = table.into_records();
    if clean {
        let active = live[0];
        let end = reads[active].valid_len as u64;
        slots.set_end(active, end);
        let journal = LeaseJournal::new(slots, active, snapshot_gen, end);
        return Ok(Opened {
            journal,
            records,
            warnings,
            folded: false,
        });
    }
    let newest = reads.iter().filter_map(|r| r.generation).max().unwrap_or(0);
    let generation = newest.max(snapshot_gen) + 1;
    snapshot.replace(&encode_snapshot(generation, &records))?;
    slots.truncate(0, 0)?;
    slots.append(0, &journal_header(generation))?;
    slots.sync(0)?;
    slots.truncate(1, 0)?;
    slots.sync(1)?;
    Ok(Opened {
        journal: LeaseJournal::new(slots, 0, generation, JOURNAL_HEADER_LEN as u64),
        records,
        warnings,
        folded: true,
    })
}

impl<S: Slots> LeaseJournal<S> {
    fn new(slots: S, active: usize, generation: u64, durable_len: u64) -> LeaseJournal<S> {
        LeaseJournal {
            slots,
            active,
            generation,
            durable_len,
            records: 0,
            retry: Vec::new(),
            tail_suspect: false,
            buf: Vec::new(),
        }
    }

    /// Appends `changes` (after any that failed before) and syncs once.
    /// `Ok` means all of them are durable.
    pub fn commit(&mut self, changes: Vec<Change>) -> io::Result<()> {
        let mut all = mem::take(&mut self.retry);
        all.extend(changes);
        if all.is_empty() {
            return Ok(());
        }
        let result = self.append_and_sync(&all);
        match result {
            Ok(()) => self.records += all.len(),
            Err(_) => {
                self.retry = all;
                self.tail_suspect = true;
            }
        }
        result
    }

    fn append_and_sync(&mut self, changes: &[Change]) -> io::Result<()> {
        if self.tail_suspect {
            self.slots.truncate(self.active, self.durable_len)?;
            self.tail_suspect = false;
        }
        self.buf.clear();
        for c in changes {
            encode_change(self.generation, c, &mut self.buf);
        }
        self.slots.append(self.active, &self.buf)?;
        self.slots.sync(self.active)?;
        self.durable_len += self.buf.len() as u64;
        if self.buf.capacity() > 1 << 16 {
            self.buf = Vec::new();
        }
        Ok(())
    }

    /// Starts the other slot with the next generation, and returns it.
    /// The table as it stands now must then be written as that
    /// generation's snapshot ([`write_snapshot`]), and that write must
    /// succeed before the next switch.
    pub fn switch(&mut self) -> io::Result<u64> {
        let next = 1 - self.active;
        let generation = self.generation + 1;
        self.slots.truncate(next, 0)?;
        self.slots.append(next, &journal_header(generation))?;
        self.slots.sync(next)?;
        self.active = next;
        self.generation = generation;
        self.durable_len = JOURNAL_HEADER_LEN as u64;
        self.records = 0;
        // Failed changes not yet written go to the new slot: they are in
        // the table the snapshot is taken from, and in the new slot they
        // also survive a crash before that snapshot is written.
        self.tail_suspect = false;
        Ok(generation)
    }

    /// Records in the active slot.
    pub fn records(&self) -> usize {
        self.records
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// True when the journal has outgrown a table of `leases`.
    pub fn should_compact(&self, leases: usize) -> bool {
        format::should_compact(self.records, leases)
    }
}

/// Writes `records` as snapshot `generation`, crash-safely.
pub fn write_snapshot(
    snapshot: &dyn SnapshotFile,
    generation: u64,
    records: &[LeaseRecord],
) -> io::Result<()> {
    snapshot.replace(&encode_snapshot(generation, records))
}

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
