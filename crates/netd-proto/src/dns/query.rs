//! A parsed client query: header fields, the question, EDNS0, and the cache
//! key, all held inline (no heap) so a cache hit needs no allocation.

use super::wire::{self, Edns, HEADER_LEN, MAX_NAME_LEN, flags, rtype};

/// Key bytes before the name: type (2), class (2), DNSSEC bits (1).
const KEY_PREFIX: usize = 5;
const KEY_CAP: usize = KEY_PREFIX + MAX_NAME_LEN;
/// Key bit: the client set DO (it wants RRSIGs, a different answer).
const KEY_DO: u8 = 1;
/// Key bit: the client set CD (validation disabled upstream).
const KEY_CD: u8 = 2;

/// Why a message is not a query we answer normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Too short to hold a header, or a response: dropped without reply.
    Drop,
    /// Broken after a readable header: answered FORMERR with this ID.
    FormErr { id: u16, flags: u16 },
    /// An opcode or transfer type this forwarder does not do: NOTIMP.
    NotImp { id: u16, flags: u16 },
}

/// A client's query, validated.
#[derive(Clone)]
pub struct Query {
    pub id: u16,
    pub flags: u16,
    pub qtype: u16,
    pub qclass: u16,
    /// `msg[..question_end]` is the header and the question.
    pub question_end: usize,
    pub edns: Option<Edns>,
    /// type, class, DNSSEC bits, then the name in lower-case wire form.
    key: [u8; KEY_CAP],
    key_len: u16,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 256];
        f.debug_struct("Query")
            .field("id", &self.id)
            .field("name", &self.name_text(&mut buf).unwrap_or("<binary>"))
            .field("qtype", &self.qtype)
            .field("qclass", &self.qclass)
            .field("edns", &self.edns)
            .finish()
    }
}

impl Query {
    pub fn parse(msg: &[u8]) -> Result<Query, QueryError> {
        let (Some(id), Some(fl)) = (wire::u16_at(msg, 0), wire::u16_at(msg, 2)) else {
            return Err(QueryError::Drop);
        };
        if msg.len() < HEADER_LEN || fl & flags::QR != 0 {
            return Err(QueryError::Drop);
        }
        let formerr = QueryError::FormErr { id, flags: fl };
        if fl & flags::OPCODE_MASK != 0 {
            return Err(QueryError::NotImp { id, flags: fl });
        }
        if wire::u16_at(msg, 4) != Some(1) {
            return Err(formerr);
        }
        let mut key = [0u8; KEY_CAP];
        let mut k = KEY_PREFIX;
        let mut off = HEADER_LEN;
        loop {
            let len = *msg.get(off).ok_or(formerr)? as usize;
            if len & 0xc0 != 0 {
                // Compressed question names are never sent by real clients.
                return Err(formerr);
            }
            if k + 1 + len > KEY_CAP {
                return Err(formerr);
            }
            let label = msg.get(off..off + 1 + len).ok_or(formerr)?;
            for (dst, src) in key[k..k + 1 + len].iter_mut().zip(label) {
                *dst = src.to_ascii_lowercase();
            }
            k += 1 + len;
            off += 1 + len;
            if len == 0 {
                break;
            }
        }
        let qtype = wire::u16_at(msg, off).ok_or(formerr)?;
        let qclass = wire::u16_at(msg, off + 2).ok_or(formerr)?;
        let question_end = off + 4;
        if matches!(qtype, 251 | 252) || qtype == rtype::OPT {
            return Err(QueryError::NotImp { id, flags: fl });
        }
        let mut edns = None;
        let mut opts = 0;
        wire::walk_records(msg, |r| {
            if r.rtype == rtype::OPT && r.section == 2 {
                opts += 1;
                edns = Edns::from_opt(msg, &r);
            }
        })
        .ok_or(formerr)?;
        if opts > 1 {
            return Err(formerr);
        }
        key[0..2].copy_from_slice(&qtype.to_be_bytes());
        key[2..4].copy_from_slice(&qclass.to_be_bytes());
        let mut bits = 0;
        if edns.is_some_and(|e| e.dnssec_ok) {
            bits |= KEY_DO;
        }
        if fl & flags::CD != 0 {
            bits |= KEY_CD;
        }
        key[4] = bits;
        Ok(Query {
            id,
            flags: fl,
            qtype,
            qclass,
            question_end,
            edns,
            key,
            key_len: k as u16,
        })
    }

    /// The cache key: (type, class, DNSSEC bits, lower-case name).
    pub fn key(&self) -> &[u8] {
        &self.key[..self.key_len as usize]
    }

    /// The question name in lower-case wire form.
    pub fn name_wire(&self) -> &[u8] {
        &self.key[KEY_PREFIX..self.key_len as usize]
    }

    pub fn dnssec_ok(&self) -> bool {
        self.edns.is_some_and(|e| e.dnssec_ok)
    }

    /// The name as lower-case dotted text without the trailing dot, written
    /// into `buf`; `None` for the root or for labels holding bytes that are
    /// not letters, digits, `-` or `_` (such names are never local).
    pub fn name_text<'b>(&self, buf: &'b mut [u8; 256]) -> Option<&'b str> {
        let wire = self.name_wire();
        let mut off = 0;
        let mut n = 0;
        while let Some(&len) = wire.get(off) {
            let len = len as usize;
            if len == 0 {
                break;
            }
            if n > 0 {
                buf[n] = b'.';
                n += 1;
            }
            let label = &wire[off + 1..off + 1 + len];
            if !label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            {
                return None;
            }
            buf[n..n + len].copy_from_slice(label);
            n += len;
            off += 1 + len;
        }
        if n == 0 {
            return None;
        }
        std::str::from_utf8(&buf[..n]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netd_testkit::dns_messages::query_bytes;

    /// A query as a stub resolver sends it.

    #[test]
    fn a_query_parses_with_its_key_text_and_edns() {
        let q = Query::parse(&query_bytes(7, "WWW.Example.com", 28, Some(4096))).unwrap();
        assert_eq!(q.id, 7);
        assert_eq!(q.qtype, 28);
        assert_eq!(q.edns.unwrap().udp_payload, 4096);
        let mut buf = [0; 256];
        assert_eq!(q.name_text(&mut buf), Some("www.example.com"));
        assert_eq!(&q.key()[..5], &[0, 28, 0, 1, 0]);
        assert_eq!(q.name_wire(), b"\x03www\x07example\x03com\x00");
    }

    #[test]
    fn broken_queries_are_dropped_or_formerr_never_panic() {
        assert_eq!(Query::parse(b"\x00\x01").unwrap_err(), QueryError::Drop);
        let mut m = query_bytes(9, "a.b", 1, None);
        m[2] |= 0x80; // a response
        assert_eq!(Query::parse(&m).unwrap_err(), QueryError::Drop);
        let m = query_bytes(9, "a.b", 1, None);
        for cut in 12..m.len() {
            assert!(matches!(
                Query::parse(&m[..cut]),
                Err(QueryError::FormErr { id: 9, .. })
            ));
        }
        let mut axfr = query_bytes(9, "a.b", 252, None);
        axfr[0] = 0;
        assert!(matches!(
            Query::parse(&axfr),
            Err(QueryError::NotImp { .. })
        ));
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let _ = Query::parse(&junk);
        }
    }
}
