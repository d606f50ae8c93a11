//! Upstream answers as stored and as sent: [`Prepared::from_reply`] turns a
//! validated upstream reply into the form the cache keeps (OPT record
//! removed, TTL offsets found, how long it may be cached), and [`render`]
//! writes the reply for one client from that form: its ID, its question
//! spelling, TTLs counted down, our OPT record, TC when it does not fit.

use super::query::Query;
use super::wire::{self, HEADER_LEN, OPT_LEN, flags, rcode, rtype};

/// An upstream reply in stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Header (ID zeroed), question, records; no OPT record.
    pub msg: Vec<u8>,
    /// Offsets of every TTL field in `msg`.
    pub ttl_at: Vec<u16>,
    /// How long the answer may be cached, or `None` when it must not be.
    pub cache_for: Option<u32>,
    /// The answer is negative (NXDOMAIN or NODATA, RFC 2308).
    pub negative: bool,
}

impl Prepared {
    /// Returns `None` when `reply` is malformed.
    pub(crate) fn from_reply(reply: &[u8]) -> Option<Prepared> {
        let qend = wire::question_end(reply)?;
        let mut msg = Vec::with_capacity(reply.len());
        msg.extend_from_slice(&reply[..qend]);
        wire::put_u16(&mut msg, 0, 0);
        let mut ttl_at = Vec::new();
        let mut kept = [0u16; 3];
        let mut after_opt = false;
        let mut soa: Option<(usize, u32)> = None;
        let mut min_ttl = u32::MAX;
        wire::walk_records(reply, |r| {
            if after_opt || (r.rtype == rtype::OPT && r.section == 2) {
                // Records after OPT are additional data only; dropping them
                // keeps compression pointers valid.
                after_opt = true;
                return;
            }
            let at = msg.len() + (r.ttl_at - r.span.0);
            msg.extend_from_slice(&reply[r.span.0..r.span.1]);
            kept[r.section as usize] += 1;
            ttl_at.push(at as u16);
            let ttl = wire::u32_at(reply, r.ttl_at).unwrap_or(0);
            if r.section < 2 {
                min_ttl = min_ttl.min(ttl);
            }
            if r.section == 1 && r.rtype == rtype::SOA && soa.is_none() {
                // SOA MINIMUM is the last 4 bytes of its RDATA.
                let minimum = r.span.1.checked_sub(4).and_then(|o| wire::u32_at(reply, o));
                soa = minimum.map(|m| (at, ttl.min(m)));
            }
        })?;
        if msg.len() > usize::from(u16::MAX) {
            return None;
        }
        wire::put_u16(&mut msg, 6, kept[0]);
        wire::put_u16(&mut msg, 8, kept[1]);
        wire::put_u16(&mut msg, 10, kept[2]);
        let fl = wire::u16_at(reply, 2)?;
        let rc = (fl & flags::RCODE_MASK) as u8;
        let negative = rc == rcode::NXDOMAIN || (rc == rcode::NOERROR && kept[0] == 0);
        let cache_for = if fl & flags::TC != 0 || !(rc == rcode::NOERROR || negative) {
            None
        } else if negative {
            // RFC 2308 §5: negative TTL = min(SOA TTL, SOA MINIMUM); no SOA,
            // no caching.
            soa.map(|(at, ttl)| {
                wire::put_u32(&mut msg, at, ttl);
                ttl
            })
        } else {
            Some(min_ttl)
        };
        Some(Prepared {
            msg,
            ttl_at,
            cache_for: cache_for.filter(|t| *t > 0),
            negative,
        })
    }
}

impl Prepared {
    /// Applies `--max-cache-ttl` and `--min-cache-ttl`: every TTL field
    /// above `ttls.max` is lowered to it, and a cacheable answer's TTLs
    /// below `ttls.min` are raised to it, so what clients are told matches
    /// how long it is kept. An answer that must not be cached (TTL 0 among
    /// them) keeps its TTLs under the floor.
    pub(crate) fn clamp_ttls(&mut self, ttls: TtlLimits) {
        let floor = if self.cache_for.is_some() {
            ttls.min
        } else {
            0
        };
        for &at in &self.ttl_at {
            let at = usize::from(at);
            if let Some(ttl) = wire::u32_at(&self.msg, at) {
                wire::put_u32(&mut self.msg, at, ttls.clamp(ttl, floor));
            }
        }
        self.cache_for = self.cache_for.map(|t| ttls.clamp(t, floor));
    }
}

/// `--min-cache-ttl` and `--max-cache-ttl`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlLimits {
    /// Shorter TTLs are raised to this when cached (dnsmasq allows at
    /// most [`MAX_MIN_CACHE_TTL`]).
    pub min: u32,
    /// Longer TTLs are lowered to this; `u32::MAX`: no cap.
    pub max: u32,
}

/// dnsmasq's ceiling for `--min-cache-ttl`: one hour.
pub const MAX_MIN_CACHE_TTL: u32 = 3600;
/// The default `--max-cache-ttl`: one day, as Unbound's `cache-max-ttl`.
/// dnsmasq has no cap, so an upstream's TTL of 2^32-1 (136 years) would
/// keep a wrong or forged answer for good; real zones rarely ask for more
/// than a day, and re-asking once a day costs nothing.
pub(crate) const DEFAULT_MAX_CACHE_TTL: u32 = 86_400;

impl Default for TtlLimits {
    fn default() -> Self {
        TtlLimits {
            min: 0,
            max: DEFAULT_MAX_CACHE_TTL,
        }
    }
}

impl TtlLimits {
    fn clamp(self, ttl: u32, floor: u32) -> u32 {
        ttl.min(self.max).max(floor.min(self.max))
    }
}

/// Writes to `out` the reply to `query` (whose bytes are `query_msg`) from
/// `stored`, with every TTL at `ttl_at` lowered by `elapsed` seconds, an
/// OPT record if the client sent one, and TC with no records when the reply
/// would exceed `limit` bytes.
pub(crate) fn render(
    query: &Query,
    query_msg: &[u8],
    stored: &[u8],
    ttl_at: &[u16],
    elapsed: u32,
    limit: usize,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(stored);
    wire::put_u16(out, 0, query.id);
    let fl = wire::u16_at(stored, 2).unwrap_or(0);
    let fl = (fl & !(flags::RD | flags::AA)) | (query.flags & flags::RD) | flags::QR | flags::RA;
    wire::put_u16(out, 2, fl);
    // The client's spelling of the name (it may use 0x20 case randomisation).
    let q = HEADER_LEN..query.question_end;
    if stored.get(q.clone()).map(<[u8]>::len) == Some(q.len()) {
        out[q.clone()].copy_from_slice(&query_msg[q]);
    }
    if elapsed > 0 {
        for &at in ttl_at {
            let at = usize::from(at);
            if let Some(ttl) = wire::u32_at(out, at) {
                wire::put_u32(out, at, ttl.saturating_sub(elapsed));
            }
        }
    }
    let opt_len = if query.edns.is_some() { OPT_LEN } else { 0 };
    if out.len() + opt_len > limit {
        out.truncate(query.question_end.min(out.len()));
        wire::put_u16(out, 2, fl | flags::TC);
        for at in [6, 8, 10] {
            wire::put_u16(out, at, 0);
        }
    }
    if query.edns.is_some() {
        wire::push_opt(out, query.dnssec_ok());
        let ar = wire::u16_at(out, 10).unwrap_or(0);
        wire::put_u16(out, 10, ar.saturating_add(1));
    }
}

/// Writes a reply with no records and `rc` (REFUSED, NXDOMAIN, NODATA,
/// SERVFAIL) to `query`.
pub(crate) fn render_empty(query: &Query, query_msg: &[u8], rc: u8, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&query_msg[..query.question_end]);
    let fl = flags::QR | flags::RA | (query.flags & (flags::RD | flags::CD)) | u16::from(rc);
    wire::put_u16(out, 2, fl);
    for at in [6, 8, 10] {
        wire::put_u16(out, at, 0);
    }
    if query.edns.is_some() {
        wire::push_opt(out, query.dnssec_ok());
        wire::put_u16(out, 10, 1);
    }
}

/// The reply to a message that is not a valid query: header only.
pub(crate) fn render_header_only(id: u16, query_flags: u16, rc: u8, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    let fl = flags::QR | (query_flags & (flags::OPCODE_MASK | flags::RD)) | u16::from(rc);
    out.extend_from_slice(&fl.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
}

#[cfg(test)]
mod tests;
