//! The answer cache: wire bytes keyed by (type, class, DNSSEC bits,
//! lower-case name), each with the offsets of its TTL fields, so a hit is a
//! copy plus a few patched integers ([`super::answer::render`]).
//!
//! Bounded twice: by entry count (`--cache-size`) and by the bytes the
//! entries take ([`CacheLimits::bytes`]), so answers of up to 64 KiB over
//! TCP cannot grow it past its budget; an answer over
//! [`CacheLimits::max_answer`] bytes is not kept at all. When full, the
//! oldest insertion goes first (expired entries are dropped whenever they
//! are met). A reply never replaces a live entry: the first answer stands
//! until it expires, so a late or forged reply cannot overwrite it. Time is
//! passed in.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::answer::Prepared;

/// The byte budget per `--cache-size` entry: 10,000 entries may take 4 MB.
/// Typical answers (a few records) take 150 to 300 bytes with their key and
/// bookkeeping, so the entry count is the bound that normally applies.
pub(crate) const BYTES_PER_ENTRY: usize = 400;
/// Answers longer than this are forwarded every time rather than cached:
/// every answer that fits a UDP reply fits (we advertise 1232 bytes, and
/// servers that ignore it send up to 4096); the 64 KiB ones only TCP
/// carries are rare and would crowd out hundreds of others.
pub(crate) const MAX_CACHED_ANSWER: usize = 4096;
/// What an entry costs beyond its bytes: the map slot, the entry, the
/// eviction queue's slot and the allocator's headers, estimated.
const ENTRY_OVERHEAD: usize = 96;

/// How big the cache may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Entries at most (`--cache-size`); 0 disables caching.
    pub entries: usize,
    /// Bytes the entries may take, as [`Cache::bytes`] counts them.
    pub bytes: usize,
    /// Longest answer kept.
    pub max_answer: usize,
    /// Negative answers are kept (false with `--no-negcache`).
    pub negative: bool,
}

impl CacheLimits {
    /// `entries` with the default byte budget and answer size limit.
    pub fn for_entries(entries: usize, negative: bool) -> CacheLimits {
        CacheLimits {
            entries,
            bytes: entries.saturating_mul(BYTES_PER_ENTRY),
            max_answer: MAX_CACHED_ANSWER,
            negative,
        }
    }
}

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

/// What [`Cache::insert`] did with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Stored,
    /// TTL 0, TC, SERVFAIL, a negative answer under `--no-negcache`, or
    /// caching off.
    NotCacheable,
    /// Longer than [`CacheLimits::max_answer`], or than the whole budget.
    TooBig,
    /// A live entry for the key exists and is kept.
    KeptLive,
}

/// The cache's counters, for the statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounters {
    pub entries: u64,
    pub bytes: u64,
    /// Answers stored, and live entries evicted to make room, so far.
    pub insertions: u64,
    pub evictions: u64,
    /// Answers not stored for their size, and replies that found a live
    /// entry in their place.
    pub too_big: u64,
    pub kept_live: u64,
}

#[derive(Debug)]
pub(crate) struct Cache {
    map: HashMap<Box<[u8]>, Entry>,
    /// Keys in insertion order with their generation; a stale generation
    /// means the key was replaced or removed since.
    order: VecDeque<(Box<[u8]>, u64)>,
    limits: CacheLimits,
    /// What the entries take now, as [`cost`] counts it.
    bytes: usize,
    generation: u64,
    counters: CacheCounters,
}

/// The bytes an entry takes: its key twice (map and queue), its message
/// and TTL offsets, and the bookkeeping around them.
fn cost(key_len: usize, msg_len: usize, ttls: usize) -> usize {
    2 * key_len + msg_len + 2 * ttls + ENTRY_OVERHEAD
}

impl Cache {
    pub(crate) fn new(limits: CacheLimits) -> Cache {
        Cache {
            map: HashMap::with_capacity(limits.entries.min(1 << 12)),
            order: VecDeque::new(),
            limits,
            bytes: 0,
            generation: 0,
            counters: CacheCounters::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    /// The bytes the entries take now (never above the budget).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn counters(&self) -> CacheCounters {
        CacheCounters {
            entries: self.map.len() as u64,
            bytes: self.bytes as u64,
            ..self.counters
        }
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

    /// Stores `answer` under `key` if it may be cached, fits, and no live
    /// entry holds the key.
    pub(crate) fn insert(&mut self, key: &[u8], answer: &Prepared, now: Instant) -> Inserted {
        let Some(ttl) = answer.cache_for else {
            return Inserted::NotCacheable;
        };
        if self.limits.entries == 0 || (answer.negative && !self.limits.negative) {
            return Inserted::NotCacheable;
        }
        let need = cost(key.len(), answer.msg.len(), answer.ttl_at.len());
        if answer.msg.len() > self.limits.max_answer || need > self.limits.bytes {
            self.counters.too_big += 1;
            return Inserted::TooBig;
        }
        match self.map.get(key) {
            Some(e) if now < e.expires => {
                self.counters.kept_live += 1;
                return Inserted::KeptLive;
            }
            Some(_) => self.remove(key),
            None => {}
        }
        while self.map.len() >= self.limits.entries || self.bytes + need > self.limits.bytes {
            if !self.evict_oldest() {
                break;
            }
        }
        self.generation += 1;
        let entry = Entry {
            msg: answer.msg.as_slice().into(),
            ttl_at: answer.ttl_at.as_slice().into(),
            inserted: now,
            expires: now + Duration::from_secs(u64::from(ttl)),
            generation: self.generation,
        };
        self.map.insert(key.into(), entry);
        self.bytes += need;
        self.counters.insertions += 1;
        self.order.push_back((key.into(), self.generation));
        if self.order.len() > 2 * self.map.len().max(16) {
            let map = &self.map;
            self.order
                .retain(|(k, g)| map.get(k).is_some_and(|e| e.generation == *g));
        }
        Inserted::Stored
    }

    fn remove(&mut self, key: &[u8]) {
        if let Some(e) = self.map.remove(key) {
            self.bytes -= cost(key.len(), e.msg.len(), e.ttl_at.len());
        }
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
                self.counters.evictions += 1;
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;
