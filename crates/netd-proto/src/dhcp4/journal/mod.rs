//! The lease journal's on-disk format and its replay, as pure code: bytes
//! in, records out, and back. No file is opened here; the shell in
//! `netd-serve` (`dhcp4::journal`) owns the files and the order of writes.
//!
//! Three files beside the lease file: a snapshot (the whole table at one
//! moment, tagged with a generation number) and two journal slots, each a
//! header with its generation followed by framed records. A journal of
//! generation `g` holds the changes made after snapshot `g`; recovery reads
//! the snapshot (generation `s`) and replays, in generation order, every
//! journal whose generation is at least `s`. ARCHITECTURE.md ("The lease
//! journal") gives the write order that makes every crash point safe.
//!
//! A record is framed as `len: u32 LE | crc: u32 LE | payload[len]`, the
//! CRC-32C covering the file's generation, the length bytes and the
//! payload (so a stale record of an older generation never passes). A reader accepts a
//! record only when its length is plausible and its checksum matches, so a
//! torn last record (a crash during an append) is detected and dropped,
//! never mis-read.

mod codec;
mod crc;
mod replay;

pub use codec::{
    Change, JOURNAL_HEADER_LEN, JournalRead, MAX_GENERATION, SnapshotError, SnapshotRead, Torn,
    TornReason, decode_journal, decode_snapshot, encode_change, encode_snapshot, journal_header,
};
pub use crc::crc32c;
pub use replay::{MIN_COMPACTION, ReplayTable, should_compact};

#[cfg(test)]
mod proptests;
