//! The answer cache: wire bytes keyed by (type, class, DNSSEC bits,
//! lower-case name), each with the offsets of its TTL fields, so a hit is a
//! copy plus a few patched integers ([`super::answer::render`]).
//!
//! Bounded by entry count; when full, the oldest insertion goes first
//! (expired entries are dropped whenever they are met). Time is passed in.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::answer::Prepared;

#[derive(Debug)]
struct Entry {
    /// Stored reply: header (ID zero), question, records, no OPT.
    msg: Box<[u8]>,
    /// TTL field offsets in `msg`; their values are as at `inserted`.
    ttl_at: Box<[u16]>,
    inserted: Instant,
    expires: Instant,
    /// Matches the eviction queue's record of this entry.
    generation: u64,
}

/// A cache hit: the stored reply and how many seconds to take off its TTLs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<'c> {
    pub msg: &'c [u8],
    pub ttl_at: &'c [u16],
    pub elapsed: u32,
}

#[derive(Debug)]
pub(crate) struct Cache {
    map: HashMap<Box<[u8]>, Entry>,
    /// Keys in insertion order with their generation; a stale generation
    /// means the key was replaced or removed since.
    order: VecDeque<(Box<[u8]>, u64)>,
    capacity: usize,
    /// `--no-negcache` clears this.
    negative: bool,
    generation: u64,
    /// Answers stored and entries evicted for room, for the statistics.
    insertions: u64,
    evictions: u64,
    /// Bytes the live entries hold (keys, replies, TTL offsets).
    bytes: usize,
}

/// What one entry costs, as [`Cache::bytes`] counts it.
fn entry_bytes(key: &[u8], e: &Entry) -> usize {
    key.len() + e.msg.len() + e.ttl_at.len() * 2
}

impl Cache {
    /// A cache of at most `capacity` entries (0 disables caching).
    pub(crate) fn new(capacity: usize, negative: bool) -> Cache {
        Cache {
            map: HashMap::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::new(),
            capacity,
            negative,
            generation: 0,
            insertions: 0,
            evictions: 0,
            bytes: 0,
        }
    }

    /// Bytes the live entries hold: their keys, stored replies and TTL
    /// offsets (not the maps' own overhead).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    fn remove(&mut self, key: &[u8]) {
        if let Some(e) = self.map.remove(key) {
            self.bytes -= entry_bytes(key, &e);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Answers stored, and live entries evicted to make room, so far.
    pub(crate) fn counters(&self) -> (u64, u64) {
        (self.insertions, self.evictions)
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// The live entry for `key`; an expired one is removed.
    pub(crate) fn get(&mut self, key: &[u8], now: Instant) -> Option<Hit<'_>> {
        let expired = match self.map.get(key) {
            None => return None,
            Some(e) => now >= e.expires,
        };
        if expired {
            self.remove(key);
            return None;
        }
        let e = self.map.get(key)?;
        let elapsed = now.saturating_duration_since(e.inserted).as_secs();
        Some(Hit {
            msg: &e.msg,
            ttl_at: &e.ttl_at,
            elapsed: u32::try_from(elapsed).unwrap_or(u32::MAX),
        })
    }

    /// Stores `answer` under `key` if it is cacheable. Returns whether it was
    /// stored.
    pub(crate) fn insert(&mut self, key: &[u8], answer: &Prepared, now: Instant) -> bool {
        let Some(ttl) = answer.cache_for else {
            return false;
        };
        if self.capacity == 0 || (answer.negative && !self.negative) {
            return false;
        }
        if !self.map.contains_key(key) {
            while self.map.len() >= self.capacity {
                if !self.evict_oldest() {
                    break;
                }
            }
        }
        self.generation += 1;
        let entry = Entry {
            msg: answer.msg.clone().into_boxed_slice(),
            ttl_at: answer.ttl_at.clone().into_boxed_slice(),
            inserted: now,
            expires: now + Duration::from_secs(u64::from(ttl)),
            generation: self.generation,
        };
        self.bytes += entry_bytes(key, &entry);
        if let Some(old) = self.map.insert(key.into(), entry) {
            self.bytes -= entry_bytes(key, &old);
        }
        self.insertions += 1;
        self.order.push_back((key.into(), self.generation));
        if self.order.len() > 2 * self.capacity.max(16) {
            let map = &self.map;
            self.order
                .retain(|(k, g)| map.get(k).is_some_and(|e| e.generation == *g));
        }
        true
    }

    /// Removes the oldest live entry; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((key, generation)) = self.order.pop_front() {
            if self
                .map
                .get(&key)
                .is_some_and(|e| e.generation == generation)
            {
                self.remove(&key);
                self.evictions += 1;
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;
