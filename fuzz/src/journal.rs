//! The lease journal's files in memory, for the `lease_journal` target.

use std::io;
use std::sync::{Arc, Mutex};

use netd_proto::dhcp4::journal::crc32c;
use netd_serve::dhcp4::journal::{Slots, SnapshotFile};

/// Two journal slots, shared by every clone (recovery takes its slots by
/// value; the target reads them afterwards).
#[derive(Debug, Clone)]
pub struct MemSlots(Arc<Mutex<[Vec<u8>; 2]>>);

impl MemSlots {
    pub fn new(slots: [Vec<u8>; 2]) -> MemSlots {
        MemSlots(Arc::new(Mutex::new(slots)))
    }

    fn with<T>(&self, slot: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> io::Result<T> {
        let mut slots = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = slots
            .get_mut(slot)
            .ok_or_else(|| io::Error::other(format!("no slot {slot}")))?;
        Ok(f(bytes))
    }
}

impl Slots for MemSlots {
    fn read(&mut self, slot: usize) -> io::Result<Vec<u8>> {
        self.with(slot, |b| b.clone())
    }

    fn append(&mut self, slot: usize, bytes: &[u8]) -> io::Result<()> {
        self.with(slot, |b| b.extend_from_slice(bytes))
    }

    fn sync(&mut self, slot: usize) -> io::Result<()> {
        self.with(slot, |_| ())
    }

    fn truncate(&mut self, slot: usize, len: u64) -> io::Result<()> {
        self.with(slot, |b| {
            b.truncate(usize::try_from(len).unwrap_or(usize::MAX))
        })
    }

    fn set_end(&mut self, slot: usize, len: u64) {
        // The next append goes there: what follows the records is dropped.
        let _ = self.truncate(slot, len);
    }
}

/// The snapshot file.
#[derive(Debug, Default)]
pub struct MemSnapshot(Mutex<Option<Vec<u8>>>);

impl MemSnapshot {
    pub fn new(bytes: Option<Vec<u8>>) -> MemSnapshot {
        MemSnapshot(Mutex::new(bytes))
    }
}

impl SnapshotFile for MemSnapshot {
    fn read(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn replace(&self, bytes: &[u8]) -> io::Result<()> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes.to_vec());
        Ok(())
    }
}

/// Recomputes the header's and every record's checksum of a journal slot
/// (`NNJ1`, 16-byte header) or a snapshot (`NNS1`, 24-byte header), as
/// the writer would have: the fuzzer then mutates what the checksums
/// cover instead of being stopped by them. Records are `len: u32 LE | crc:
/// u32 LE | payload`, the checksum over the generation, the length bytes
/// and the payload.
pub fn fix_checksums(bytes: &mut [u8]) {
    let header_len = match bytes.get(..4) {
        Some(b"NNJ1") => 16,
        Some(b"NNS1") => 24,
        _ => return,
    };
    if bytes.len() < header_len {
        return;
    }
    let crc = crc32c(&[&bytes[..header_len - 4]]).to_le_bytes();
    let mut generation = [0u8; 8];
    generation.copy_from_slice(&bytes[4..12]);
    bytes[header_len - 4..header_len].copy_from_slice(&crc);
    let mut at = header_len;
    while let Some(frame) = bytes.get(at..at + 8) {
        let len_bytes = [frame[0], frame[1], frame[2], frame[3]];
        let len = u32::from_le_bytes(len_bytes) as usize;
        let start = at + 8;
        let Some(payload) = bytes.get(start..start.saturating_add(len)) else {
            return;
        };
        let crc = crc32c(&[&generation, &len_bytes, payload]).to_le_bytes();
        bytes[at + 4..at + 8].copy_from_slice(&crc);
        at = start + len;
        if len == 0 {
            return;
        }
    }
}
