//! Just enough of the DNS wire format (RFC 1035, RFC 6891) for the hot path:
//! header fields, a zero-copy view of a query, a record walker that finds
//! TTL fields, and the EDNS0 OPT record. Nothing here allocates.
//!
//! Every accessor is bounds-checked and returns `None` on malformed input;
//! nothing panics on any byte string.

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// The longest name in wire form (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The UDP payload size this forwarder advertises in EDNS0 (the DNS flag
/// day 2020 value: fits an IPv6 minimum MTU without fragmentation).
pub const EDNS_UDP_PAYLOAD: u16 = 1232;
/// The largest reply to a client that sent no EDNS0 (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_PAYLOAD: usize = 512;

/// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2).
pub mod flags {
    pub const QR: u16 = 0x8000;
    pub const OPCODE_MASK: u16 = 0x7800;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
    pub const RA: u16 = 0x0080;
    pub const AD: u16 = 0x0020;
    pub const CD: u16 = 0x0010;
    pub const RCODE_MASK: u16 = 0x000f;
}

/// Response codes (RFC 1035 §4.1.1).
pub mod rcode {
    pub const NOERROR: u8 = 0;
    pub const FORMERR: u8 = 1;
    pub const SERVFAIL: u8 = 2;
    pub const NXDOMAIN: u8 = 3;
    pub const NOTIMP: u8 = 4;
    pub const REFUSED: u8 = 5;
}

/// Record types this module treats specially.
pub mod rtype {
    pub const A: u16 = 1;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const OPT: u16 = 41;
    pub const ANY: u16 = 255;
}

pub const CLASS_IN: u16 = 1;

/// The DO bit in the OPT record's TTL field (RFC 3225).
const EDNS_DO: u32 = 0x0000_8000;

pub fn u16_at(msg: &[u8], off: usize) -> Option<u16> {
    let b = msg.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

pub fn u32_at(msg: &[u8], off: usize) -> Option<u32> {
    let b = msg.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub fn put_u16(msg: &mut [u8], off: usize, v: u16) {
    if let Some(b) = msg.get_mut(off..off + 2) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

pub fn put_u32(msg: &mut [u8], off: usize, v: u32) {
    if let Some(b) = msg.get_mut(off..off + 4) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

/// The header's section counts: question, answer, authority, additional.
pub fn counts(msg: &[u8]) -> Option<[u16; 4]> {
    Some([
        u16_at(msg, 4)?,
        u16_at(msg, 6)?,
        u16_at(msg, 8)?,
        u16_at(msg, 10)?,
    ])
}

/// Skips a possibly compressed name at `off`; returns the offset after it.
pub fn skip_name(msg: &[u8], mut off: usize) -> Option<usize> {
    let mut total = 0usize;
    loop {
        let len = *msg.get(off)? as usize;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(off + 1),
            0x00 => {
                total += len + 1;
                if total > MAX_NAME_LEN {
                    return None;
                }
                off += 1 + len;
            }
            0xc0 => {
                msg.get(off + 1)?;
                return Some(off + 2);
            }
            _ => return None,
        }
    }
}

/// Compares two names case-insensitively, following compression pointers in
/// both messages (`a` in `ma` at `ao`, `b` in `mb` at `bo`).
pub fn names_equal(ma: &[u8], ao: usize, mb: &[u8], bo: usize) -> bool {
    let (mut ao, mut bo) = (ao, bo);
    // A name has at most 128 labels; bounding the hops stops pointer loops.
    for _ in 0..256 {
        let Some(a) = resolve_label(ma, &mut ao) else {
            return false;
        };
        let Some(b) = resolve_label(mb, &mut bo) else {
            return false;
        };
        if !a.eq_ignore_ascii_case(b) {
            return false;
        }
        if a.is_empty() {
            return true;
        }
    }
    false
}

/// Reads the label at `*off` (following pointers), advancing `*off`.
fn resolve_label<'m>(msg: &'m [u8], off: &mut usize) -> Option<&'m [u8]> {
    for _ in 0..64 {
        let len = *msg.get(*off)? as usize;
        match len & 0xc0 {
            0x00 => {
                let label = msg.get(*off + 1..*off + 1 + len)?;
                *off += 1 + len;
                return Some(label);
            }
            0xc0 => {
                let ptr = (u16_at(msg, *off)? & 0x3fff) as usize;
                if ptr >= *off {
                    return None; // pointers must point backwards
                }
                *off = ptr;
            }
            _ => return None,
        }
    }
    None
}

/// One resource record as found by [`walk_records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef {
    /// The record's bytes, owner name to the end of RDATA.
    pub span: (usize, usize),
    pub rtype: u16,
    pub class: u16,
    /// Offset of the 32-bit TTL field.
    pub ttl_at: usize,
    /// Where RDATA starts.
    pub rdata_at: usize,
    /// 0 answer, 1 authority, 2 additional.
    pub section: u8,
}

/// Offset just past the question section, if the message has exactly the
/// questions its header claims.
pub fn question_end(msg: &[u8]) -> Option<usize> {
    if msg.len() < HEADER_LEN {
        return None;
    }
    let qd = u16_at(msg, 4)?;
    let mut off = HEADER_LEN;
    for _ in 0..qd {
        off = skip_name(msg, off)? + 4;
        if off > msg.len() {
            return None;
        }
    }
    Some(off)
}

/// Calls `f` for every record after the question section. Returns the offset
/// after the last record, or `None` when the message is malformed.
pub fn walk_records(msg: &[u8], mut f: impl FnMut(RecordRef)) -> Option<usize> {
    let [_, an, ns, ar] = counts(msg)?;
    let mut off = question_end(msg)?;
    for (section, n) in [(0u8, an), (1, ns), (2, ar)] {
        for _ in 0..n {
            let start = off;
            let after_name = skip_name(msg, off)?;
            let rtype = u16_at(msg, after_name)?;
            let class = u16_at(msg, after_name + 2)?;
            let rdlen = u16_at(msg, after_name + 8)? as usize;
            let rdata_at = after_name + 10;
            let end = rdata_at + rdlen;
            if end > msg.len() {
                return None;
            }
            f(RecordRef {
                span: (start, end),
                rtype,
                class,
                ttl_at: after_name + 4,
                rdata_at,
                section,
            });
            off = end;
        }
    }
    Some(off)
}

/// The client's EDNS0 parameters (RFC 6891).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    pub udp_payload: u16,
    pub dnssec_ok: bool,
    pub version: u8,
}

impl Edns {
    pub fn from_opt(msg: &[u8], rec: &RecordRef) -> Option<Edns> {
        let ttl = u32_at(msg, rec.ttl_at)?;
        Some(Edns {
            udp_payload: rec.class,
            dnssec_ok: ttl & EDNS_DO != 0,
            version: (ttl >> 16) as u8,
        })
    }

    /// The largest reply this client accepts over UDP.
    pub fn reply_limit(edns: Option<Edns>) -> usize {
        match edns {
            Some(e) => (e.udp_payload.clamp(512, EDNS_UDP_PAYLOAD)) as usize,
            None => CLASSIC_UDP_PAYLOAD,
        }
    }
}

/// Appends our OPT record (root name, type OPT, our payload size, DO as
/// given) to `out`; the caller increments ARCOUNT.
pub fn push_opt(out: &mut Vec<u8>, dnssec_ok: bool) {
    out.push(0);
    out.extend_from_slice(&rtype::OPT.to_be_bytes());
    out.extend_from_slice(&EDNS_UDP_PAYLOAD.to_be_bytes());
    let ttl = if dnssec_ok { EDNS_DO } else { 0 };
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
}

/// Length of the OPT record [`push_opt`] writes.
pub const OPT_LEN: usize = 11;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_name_handles_labels_pointers_and_garbage() {
        let msg = b"\x03www\x07example\x03com\x00\xc0\x04";
        assert_eq!(skip_name(msg, 0), Some(17));
        assert_eq!(skip_name(msg, 17), Some(19));
        assert_eq!(skip_name(b"\x05ab", 0), None);
        assert_eq!(skip_name(b"\x40", 0), None);
        assert_eq!(skip_name(b"", 0), None);
    }

    #[test]
    fn names_compare_case_insensitively_through_pointers() {
        let a = b"\x03WWW\x07example\x03com\x00";
        let b = b"\x07Example\x03COM\x00\x03www\xc0\x00";
        assert!(names_equal(a, 0, b, 13));
        assert!(!names_equal(a, 0, b, 0));
        // A pointer to itself is a loop, not a match.
        let looped = b"\xc0\x00";
        assert!(!names_equal(looped, 0, looped, 0));
    }

    /// Found by the `dns_forward` fuzz target: a reply of 6 to 11 bytes
    /// claiming no question had its question end past its own end, and
    /// storing it sliced out of bounds.
    #[test]
    fn a_message_shorter_than_a_header_has_no_question_end() {
        for len in 0..HEADER_LEN {
            let msg = vec![0u8; len];
            assert_eq!(question_end(&msg), None, "{len} bytes");
            assert_eq!(walk_records(&msg, |_| {}), None);
            assert!(crate::dns::answer::Prepared::from_reply(&msg).is_none());
        }
        assert_eq!(question_end(&[0u8; HEADER_LEN]), Some(HEADER_LEN));
    }
}
