//! A simulated disk for the journal's crash tests. Every write step
//! (append, sync, truncate; a snapshot replacement's temporary file, its
//! rename, the directory sync) counts as one step. At the chosen step the
//! process "dies": that step is carried out partly (an append writes a
//! prefix of its bytes) and every later call fails. [`SimDisk::after_crash`]
//! then gives what a machine that lost power at that moment could find:
//! each slot as last synced plus a prefix of the writes after that, the
//! last of them perhaps torn and followed by garbage or zeros, and the
//! snapshot old or new if its rename was not yet synced.

use std::io;
use std::sync::{Arc, Mutex};

use super::files::{Slots, SnapshotFile};

#[derive(Debug, Clone)]
enum Pending {
    Append(Vec<u8>),
    Truncate(usize),
}

#[derive(Debug, Clone, Default)]
struct SimFile {
    durable: Vec<u8>,
    pending: Vec<Pending>,
}

fn apply(bytes: &mut Vec<u8>, op: &Pending) {
    match op {
        Pending::Append(b) => bytes.extend_from_slice(b),
        Pending::Truncate(len) => bytes.truncate(*len),
    }
}

impl SimFile {
    fn current(&self) -> Vec<u8> {
        let mut b = self.durable.clone();
        for op in &self.pending {
            apply(&mut b, op);
        }
        b
    }
}

#[derive(Debug, Default)]
struct Disk {
    slots: [SimFile; 2],
    snapshot: Option<Vec<u8>>,
    /// A renamed snapshot whose directory was not synced yet: after a
    /// crash, either this or `snapshot`.
    snapshot_unsynced: Option<Vec<u8>>,
    steps: usize,
    crash_at: Option<usize>,
    crashed: bool,
}

/// Choices for what a crash leaves, drawn by the test.
#[derive(Debug, Clone, Copy)]
pub(super) struct CrashView {
    /// Per slot: how many unsynced writes survive (modulo their count + 1).
    pub kept: [usize; 2],
    /// Per slot: how much of the next unsynced append survives (a
    /// fraction in 1/256ths), and what follows it.
    pub torn: [(u8, Tail); 2],
    /// Whether an unsynced snapshot rename survived.
    pub renamed: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Tail {
    Nothing,
    Zeros(u8),
    Garbage(u8, u64),
}

#[derive(Debug, Clone, Default)]
pub(super) struct SimDisk(Arc<Mutex<Disk>>);

impl SimDisk {
    pub(super) fn crashing_at(step: Option<usize>) -> SimDisk {
        let d = SimDisk::default();
        d.lock().crash_at = step;
        d
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Disk> {
        self.0.lock().unwrap()
    }

    /// Write steps taken so far.
    pub(super) fn steps(&self) -> usize {
        self.lock().steps
    }

    pub(super) fn crashed(&self) -> bool {
        self.lock().crashed
    }

    /// Counts a step; `Ok(true)` when this one is where the process dies.
    fn step(&self) -> io::Result<bool> {
        let mut d = self.lock();
        if d.crashed {
            return Err(io::Error::other("crashed"));
        }
        let now = d.steps;
        d.steps += 1;
        if d.crash_at == Some(now) {
            d.crashed = true;
            return Ok(true);
        }
        Ok(false)
    }

    /// The disk a restarted machine finds, with no crash scheduled.
    pub(super) fn after_crash(&self, view: CrashView) -> SimDisk {
        let d = self.lock();
        let mut slots: [SimFile; 2] = Default::default();
        for (i, f) in d.slots.iter().enumerate() {
            let mut bytes = f.durable.clone();
            let kept = view.kept[i] % (f.pending.len() + 1);
            for op in &f.pending[..kept] {
                apply(&mut bytes, op);
            }
            if let Some(Pending::Append(next)) = f.pending.get(kept) {
                let (frac, tail) = view.torn[i];
                bytes.extend_from_slice(&next[..next.len() * usize::from(frac) / 256]);
                match tail {
                    Tail::Nothing => {}
                    Tail::Zeros(n) => bytes.extend(std::iter::repeat_n(0, n.into())),
                    Tail::Garbage(n, seed) => {
                        let mut x = seed | 1;
                        bytes.extend((0..n).map(|_| {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            x as u8
                        }));
                    }
                }
            }
            slots[i].durable = bytes;
        }
        let snapshot = match (&d.snapshot_unsynced, view.renamed) {
            (Some(new), true) => Some(new.clone()),
            _ => d.snapshot.clone(),
        };
        SimDisk(Arc::new(Mutex::new(Disk {
            slots,
            snapshot,
            ..Disk::default()
        })))
    }
}

impl Slots for SimDisk {
    fn read(&mut self, slot: usize) -> io::Result<Vec<u8>> {
        let d = self.lock();
        if d.crashed {
            return Err(io::Error::other("crashed"));
        }
        Ok(d.slots[slot].current())
    }

    fn append(&mut self, slot: usize, bytes: &[u8]) -> io::Result<()> {
        let dies = self.step()?;
        let mut d = self.lock();
        if dies {
            // Part of the write reached the page cache before the end.
            let part = bytes[..bytes.len() / 2].to_vec();
            d.slots[slot].pending.push(Pending::Append(part));
            return Err(io::Error::other("crashed"));
        }
        d.slots[slot].pending.push(Pending::Append(bytes.to_vec()));
        Ok(())
    }

    fn sync(&mut self, slot: usize) -> io::Result<()> {
        if self.step()? {
            return Err(io::Error::other("crashed"));
        }
        let mut d = self.lock();
        let f = &mut d.slots[slot];
        f.durable = f.current();
        f.pending.clear();
        Ok(())
    }

    fn truncate(&mut self, slot: usize, len: u64) -> io::Result<()> {
        if self.step()? {
            return Err(io::Error::other("crashed"));
        }
        self.lock().slots[slot]
            .pending
            .push(Pending::Truncate(len as usize));
        Ok(())
    }

    fn set_end(&mut self, slot: usize, len: u64) {
        // Past the end recovery found there may only be zeros (a torn
        // append of nothing but zeros); the next append overwrites them,
        // as a real slot's in-place write does.
        let mut d = self.lock();
        let f = &mut d.slots[slot];
        assert!(f.pending.is_empty(), "set_end is for start-up");
        let len = len as usize;
        assert!(f.durable[len..].iter().all(|&b| b == 0));
        f.durable.truncate(len);
    }
}

impl SnapshotFile for SimDisk {
    fn read(&self) -> io::Result<Option<Vec<u8>>> {
        let d = self.lock();
        Ok(d.snapshot_unsynced.clone().or_else(|| d.snapshot.clone()))
    }

    fn replace(&self, bytes: &[u8]) -> io::Result<()> {
        // The temporary file, written and synced: invisible until renamed.
        if self.step()? {
            return Err(io::Error::other("crashed"));
        }
        // The rename: visible, not yet durable.
        if self.step()? {
            return Err(io::Error::other("crashed"));
        }
        self.lock().snapshot_unsynced = Some(bytes.to_vec());
        // The directory sync.
        if self.step()? {
            return Err(io::Error::other("crashed"));
        }
        let mut d = self.lock();
        d.snapshot = d.snapshot_unsynced.take();
        Ok(())
    }
}
