//! Framing and encoding of journal and snapshot records.

use std::net::Ipv4Addr;

use super::crc::crc32c;
use crate::dhcp4::lease_file::LeaseRecord;

const JOURNAL_MAGIC: &[u8; 4] = b"NNJ1";
const SNAPSHOT_MAGIC: &[u8; 4] = b"NNS1";
/// Magic, generation, checksum.
pub const JOURNAL_HEADER_LEN: usize = 4 + 8 + 4;
/// Magic, generation, record count, checksum.
const SNAPSHOT_HEADER_LEN: usize = 4 + 8 + 8 + 4;
/// The largest generation a header may carry. One generation is used per
/// compaction, so no real file comes near it; a header past it (damage
/// with a matching checksum, or a planted file) is no header at all, and
/// the generations recovery and later switches compute after the newest
/// one cannot overflow.
pub const MAX_GENERATION: u64 = i64::MAX as u64;
/// Length and checksum in front of every record.
const FRAME_LEN: usize = 8;
/// The largest payload an encoder makes: tag, expiry, MAC, address, and a
/// hostname and client id of at most 255 bytes each with their lengths.
const MAX_PAYLOAD: usize = 1 + 8 + 6 + 4 + 1 + 255 + 1 + 255;

const PUT: u8 = b'P';
const REMOVE: u8 = b'R';

/// One change to the table of bound leases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The lease on `record.addr` is now this one (granted or renewed).
    Put(LeaseRecord),
    /// The lease on this address ended (released or declined).
    Remove(Ipv4Addr),
}

/// Where and why reading stopped before the end of the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Torn {
    /// Offset of the first byte not accepted.
    pub offset: usize,
    /// Bytes from there to the end, dropped.
    pub discarded: usize,
    pub reason: TornReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TornReason {
    /// Fewer bytes than a header or a record frame.
    Short,
    /// A length of zero or larger than any record.
    Length(u32),
    /// Fewer bytes than the length says.
    Truncated,
    /// The checksum does not match.
    Checksum,
    /// The checksum matched but the payload is not a record.
    Payload,
}

impl std::fmt::Display for Torn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.reason {
            TornReason::Short => "an incomplete header".to_owned(),
            TornReason::Length(n) => format!("an impossible length {n}"),
            TornReason::Truncated => "a record shorter than its length".to_owned(),
            TornReason::Checksum => "a checksum mismatch".to_owned(),
            TornReason::Payload => "an unreadable record".to_owned(),
        };
        write!(
            f,
            "{why} at byte {}; {} bytes dropped",
            self.offset, self.discarded
        )
    }
}

/// What a journal slot holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JournalRead {
    /// `None`: no valid header (an empty or never-finished slot).
    pub generation: Option<u64>,
    pub changes: Vec<Change>,
    /// Bytes up to the end of the last good record.
    pub valid_len: usize,
    /// A torn or damaged tail, if the bytes did not end on a record.
    pub torn: Option<Torn>,
}

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRead {
    pub generation: u64,
    pub records: Vec<LeaseRecord>,
    /// Set when fewer records than the header announces could be read.
    pub damaged: Option<Torn>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a lease snapshot (bad header)")]
    BadHeader,
}

/// A journal slot's header for `generation`.
pub fn journal_header(generation: u64) -> [u8; JOURNAL_HEADER_LEN] {
    let mut h = [0u8; JOURNAL_HEADER_LEN];
    h[..4].copy_from_slice(JOURNAL_MAGIC);
    h[4..12].copy_from_slice(&generation.to_le_bytes());
    let crc = crc32c(&[&h[..12]]);
    h[12..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Appends `change`, framed for a file of `generation`, to `out`. The
/// checksum covers the generation too, so a record left over from an
/// older generation of the same slot can never pass as a current one.
pub fn encode_change(generation: u64, change: &Change, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_LEN]);
    match change {
        Change::Put(r) => {
            out.push(PUT);
            out.extend_from_slice(&r.expires.to_le_bytes());
            out.extend_from_slice(&r.mac);
            out.extend_from_slice(&r.addr.octets());
            // Longer values cannot come from a DHCP message (a label is at
            // most 63 bytes, an option at most 255); they are dropped
            // rather than cut.
            for field in [
                short(r.hostname.as_deref().map(str::as_bytes)),
                short(r.client_id.as_deref()),
            ] {
                out.push(field.len() as u8);
                out.extend_from_slice(field);
            }
        }
        Change::Remove(addr) => {
            out.push(REMOVE);
            out.extend_from_slice(&addr.octets());
        }
    }
    let len = (out.len() - start - FRAME_LEN) as u32;
    let len_bytes = len.to_le_bytes();
    let crc = crc32c(&[
        &generation.to_le_bytes(),
        &len_bytes,
        &out[start + FRAME_LEN..],
    ]);
    out[start..start + 4].copy_from_slice(&len_bytes);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn short(b: Option<&[u8]>) -> &[u8] {
    b.filter(|b| b.len() <= 255).unwrap_or(&[])
}

/// A snapshot of `records` for `generation`.
pub fn encode_snapshot(generation: u64, records: &[LeaseRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SNAPSHOT_HEADER_LEN + records.len() * 48);
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&(records.len() as u64).to_le_bytes());
    let crc = crc32c(&[&out[..20]]);
    out.extend_from_slice(&crc.to_le_bytes());
    for r in records {
        encode_change(generation, &Change::Put(r.clone()), &mut out);
    }
    out
}

/// Reads a journal slot: its header, then records until the first one that
/// is incomplete or fails its checksum.
pub fn decode_journal(bytes: &[u8]) -> JournalRead {
    let Some(generation) = read_header(bytes, JOURNAL_MAGIC, JOURNAL_HEADER_LEN) else {
        return JournalRead {
            torn: (!bytes.is_empty()).then_some(Torn {
                offset: 0,
                discarded: bytes.len(),
                reason: TornReason::Short,
            }),
            ..JournalRead::default()
        };
    };
    let (changes, valid_len, torn) =
        read_records(bytes, generation, JOURNAL_HEADER_LEN, usize::MAX);
    JournalRead {
        generation: Some(generation),
        changes,
        valid_len,
        torn,
    }
}

/// Reads a snapshot; every record must be a lease.
pub fn decode_snapshot(bytes: &[u8]) -> Result<SnapshotRead, SnapshotError> {
    let generation =
        read_header(bytes, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_LEN).ok_or(SnapshotError::BadHeader)?;
    let count = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let (changes, valid_len, mut damaged) = read_records(
        bytes,
        generation,
        SNAPSHOT_HEADER_LEN,
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    let mut records = Vec::with_capacity(changes.len());
    for c in changes {
        match c {
            Change::Put(r) => records.push(r),
            Change::Remove(_) => {
                damaged.get_or_insert(Torn {
                    offset: valid_len,
                    discarded: bytes.len() - valid_len,
                    reason: TornReason::Payload,
                });
            }
        }
    }
    if damaged.is_none() && (records.len() as u64) < count {
        damaged = Some(Torn {
            offset: valid_len,
            discarded: 0,
            reason: TornReason::Truncated,
        });
    }
    Ok(SnapshotRead {
        generation,
        records,
        damaged,
    })
}

/// The generation in a `magic` header of `len` bytes whose checksum (the
/// last four bytes) matches.
fn read_header(bytes: &[u8], magic: &[u8; 4], len: usize) -> Option<u64> {
    let header = bytes.get(..len)?;
    let (body, crc) = header.split_at(len - 4);
    if &body[..4] != magic || crc32c(&[body]).to_le_bytes() != crc {
        return None;
    }
    Some(u64::from_le_bytes(body[4..12].try_into().ok()?)).filter(|&g| g <= MAX_GENERATION)
}

/// Records from `offset` on, at most `max`: the good ones, where they end,
/// and why reading stopped early (if it did).
fn read_records(
    bytes: &[u8],
    generation: u64,
    mut offset: usize,
    max: usize,
) -> (Vec<Change>, usize, Option<Torn>) {
    let mut changes = Vec::new();
    while offset < bytes.len() && changes.len() < max {
        let stop = |reason| Torn {
            offset,
            discarded: bytes.len() - offset,
            reason,
        };
        let Some(frame) = bytes.get(offset..offset + FRAME_LEN) else {
            if bytes[offset..].iter().all(|&b| b == 0) {
                return (changes, offset, None);
            }
            return (changes, offset, Some(stop(TornReason::Short)));
        };
        let len_bytes: [u8; 4] = frame[..4].try_into().expect("4 bytes");
        let len = u32::from_le_bytes(len_bytes);
        if len == 0 && bytes[offset..].iter().all(|&b| b == 0) {
            // Zeros to the end: space set aside for records, not yet used.
            return (changes, offset, None);
        }
        if len == 0 || len as usize > MAX_PAYLOAD {
            return (changes, offset, Some(stop(TornReason::Length(len))));
        }
        let start = offset + FRAME_LEN;
        let Some(payload) = bytes.get(start..start + len as usize) else {
            return (changes, offset, Some(stop(TornReason::Truncated)));
        };
        if crc32c(&[&generation.to_le_bytes(), &len_bytes, payload]).to_le_bytes() != frame[4..8] {
            return (changes, offset, Some(stop(TornReason::Checksum)));
        }
        let Some(change) = decode_payload(payload) else {
            return (changes, offset, Some(stop(TornReason::Payload)));
        };
        changes.push(change);
        offset = start + len as usize;
    }
    (changes, offset, None)
}

fn decode_payload(p: &[u8]) -> Option<Change> {
    let (&tag, rest) = p.split_first()?;
    match tag {
        REMOVE => {
            let octets: [u8; 4] = rest.try_into().ok()?;
            Some(Change::Remove(Ipv4Addr::from(octets)))
        }
        PUT => {
            let expires = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
            let mac: [u8; 6] = rest.get(8..14)?.try_into().ok()?;
            let octets: [u8; 4] = rest.get(14..18)?.try_into().ok()?;
            let mut rest = rest.get(18..)?;
            let mut field = || -> Option<Option<Vec<u8>>> {
                let (&n, tail) = rest.split_first()?;
                let value = tail.get(..n as usize)?;
                rest = &tail[n as usize..];
                Some((n > 0).then(|| value.to_vec()))
            };
            let hostname = field()?;
            let client_id = field()?;
            if !rest.is_empty() {
                return None;
            }
            let hostname = match hostname {
                Some(h) => Some(String::from_utf8(h).ok()?),
                None => None,
            };
            Some(Change::Put(LeaseRecord {
                expires,
                mac,
                addr: Ipv4Addr::from(octets),
                hostname,
                client_id,
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(n: u8) -> LeaseRecord {
        LeaseRecord {
            expires: 1_900_000_000 + u64::from(n),
            mac: [2, 0, 0, 0, 1, n],
            addr: Ipv4Addr::new(10, 0, 0, n),
            hostname: n.is_multiple_of(2).then(|| format!("host{n}")),
            client_id: n.is_multiple_of(3).then(|| vec![1, 2, 0, 0, 0, 1, n]),
        }
    }

    fn journal(changes: &[Change]) -> Vec<u8> {
        let mut out = journal_header(7).to_vec();
        for c in changes {
            encode_change(7, c, &mut out);
        }
        out
    }

    #[test]
    fn a_journal_round_trips() {
        let changes = vec![
            Change::Put(rec(1)),
            Change::Remove(Ipv4Addr::new(10, 0, 0, 1)),
            Change::Put(rec(2)),
            Change::Put(rec(3)),
        ];
        let bytes = journal(&changes);
        let read = decode_journal(&bytes);
        assert_eq!(read.generation, Some(7));
        assert_eq!(read.changes, changes);
        assert_eq!(read.valid_len, bytes.len());
        assert_eq!(read.torn, None);
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_reported() {
        let bytes = journal(&[Change::Put(rec(1)), Change::Put(rec(2))]);
        let whole_first = decode_journal(&journal(&[Change::Put(rec(1))])).valid_len;
        for cut in whole_first + 1..bytes.len() {
            let read = decode_journal(&bytes[..cut]);
            assert_eq!(read.changes, vec![Change::Put(rec(1))], "cut at {cut}");
            let torn = read.torn.expect("torn");
            assert_eq!(torn.offset, whole_first);
            assert_eq!(torn.discarded, cut - whole_first);
        }
        // Zeros to the end are space set aside, not damage; a record torn
        // into them is.
        let mut zeros = journal(&[Change::Put(rec(1))]);
        zeros.extend_from_slice(&[0; 64]);
        let read = decode_journal(&zeros);
        assert_eq!((read.changes.len(), read.torn), (1, None));
        let mut torn_into_zeros = journal(&[Change::Put(rec(1)), Change::Put(rec(2))]);
        let cut = torn_into_zeros.len() - 7;
        torn_into_zeros[cut..].fill(0);
        torn_into_zeros.extend_from_slice(&[0; 64]);
        let read = decode_journal(&torn_into_zeros);
        assert_eq!(read.changes.len(), 1);
        assert_eq!(read.torn.unwrap().reason, TornReason::Checksum);
        // Zeros, then something: damage.
        zeros.push(1);
        assert_eq!(
            decode_journal(&zeros).torn.unwrap().reason,
            TornReason::Length(0)
        );
    }

    #[test]
    fn a_header_past_the_last_generation_is_no_header() {
        let mut slot = journal_header(MAX_GENERATION + 1).to_vec();
        encode_change(MAX_GENERATION + 1, &Change::Put(rec(1)), &mut slot);
        assert_eq!(decode_journal(&slot).generation, None);
        let snapshot = encode_snapshot(u64::MAX, &[rec(1)]);
        assert_eq!(decode_snapshot(&snapshot), Err(SnapshotError::BadHeader));
        let last = decode_journal(&journal_header(MAX_GENERATION));
        assert_eq!(last.generation, Some(MAX_GENERATION));
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let bytes = journal(&[Change::Put(rec(4))]);
        for i in JOURNAL_HEADER_LEN + 4..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            let read = decode_journal(&bad);
            assert!(read.changes.is_empty(), "byte {i}");
            assert_eq!(read.torn.unwrap().reason, TornReason::Checksum);
        }
    }

    #[test]
    fn a_record_of_an_older_generation_is_not_read_as_current() {
        // A slot reused for generation 8 whose truncation was lost: its old
        // records of generation 7 follow the new header.
        let mut bytes = journal_header(8).to_vec();
        encode_change(8, &Change::Put(rec(1)), &mut bytes);
        let good = bytes.len();
        encode_change(7, &Change::Put(rec(2)), &mut bytes);
        let read = decode_journal(&bytes);
        assert_eq!(read.changes, vec![Change::Put(rec(1))]);
        assert_eq!(read.valid_len, good);
        assert_eq!(read.torn.unwrap().reason, TornReason::Checksum);
    }

    #[test]
    fn a_bad_or_missing_header_means_no_journal() {
        assert_eq!(decode_journal(&[]), JournalRead::default());
        let mut bytes = journal(&[Change::Put(rec(1))]);
        bytes[5] ^= 1;
        let read = decode_journal(&bytes);
        assert_eq!(read.generation, None);
        assert!(read.changes.is_empty());
        assert_eq!(read.torn.unwrap().discarded, bytes.len());
    }

    #[test]
    fn a_snapshot_round_trips_and_a_short_one_is_flagged() {
        let records: Vec<_> = (1..=5).map(rec).collect();
        let bytes = encode_snapshot(3, &records);
        let read = decode_snapshot(&bytes).unwrap();
        assert_eq!(
            (read.generation, &read.records, read.damaged),
            (3, &records, None)
        );
        let short = decode_snapshot(&bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(short.records, records[..4]);
        assert!(short.damaged.is_some());
        assert_eq!(decode_snapshot(b"NNS1"), Err(SnapshotError::BadHeader));
    }
}
