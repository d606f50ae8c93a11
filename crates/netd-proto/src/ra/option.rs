//! Neighbor Discovery options (RFC 4861 section 4.6, RFC 8106): the ones a
//! router puts in its advertisements, and a walker over an option area that
//! stops at the first malformed option instead of looping on it.

use std::net::Ipv6Addr;
use std::time::Duration;

use super::WireError;

/// Source Link-Layer Address (RFC 4861 4.6.1).
pub const NDP_OPT_SOURCE_LL_ADDR: u8 = 1;
/// Prefix Information (RFC 4861 4.6.2).
pub const NDP_OPT_PREFIX_INFORMATION: u8 = 3;
/// MTU (RFC 4861 4.6.4).
pub const NDP_OPT_MTU: u8 = 5;
/// Recursive DNS Server (RFC 8106 5.1).
pub const NDP_OPT_RDNSS: u8 = 25;
/// DNS Search List (RFC 8106 5.2).
pub const NDP_OPT_DNSSL: u8 = 31;

const PREFIX_FLAG_ON_LINK: u8 = 0x80;
const PREFIX_FLAG_AUTONOMOUS: u8 = 0x40;

/// One raw option: its type and its body (the bytes after type and length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    pub kind: u8,
    pub data: &'a [u8],
}

/// Walks an option area. Yields an error (and then nothing more) on an
/// option of length zero or one running past the end, as RFC 4861 requires
/// the whole message be discarded then.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> OptionIter<'a> {
    pub fn new(area: &'a [u8]) -> Self {
        OptionIter {
            rest: area,
            failed: false,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<RawOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let fail = |this: &mut Self, e| {
            this.failed = true;
            Some(Err(e))
        };
        if self.rest.len() < 2 {
            return fail(self, WireError::Truncated);
        }
        let len = usize::from(self.rest[1]) * 8;
        if len == 0 {
            return fail(self, WireError::ZeroLengthOption);
        }
        if len > self.rest.len() {
            return fail(self, WireError::Truncated);
        }
        let opt = RawOption {
            kind: self.rest[0],
            data: &self.rest[2..len],
        };
        self.rest = &self.rest[len..];
        Some(Ok(opt))
    }
}

/// Prefix Information: a prefix, whether it is on-link (L) and usable for
/// SLAAC (A), and its lifetimes (`None` = infinity, 0xffffffff on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixInformation {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub on_link: bool,
    pub autonomous: bool,
    pub valid_lifetime: Lifetime,
    pub preferred_lifetime: Lifetime,
}

/// A lifetime in whole seconds; `u32::MAX` means infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lifetime(pub u32);

impl Lifetime {
    pub const INFINITY: Lifetime = Lifetime(u32::MAX);

    pub fn from_duration(d: Duration) -> Lifetime {
        Lifetime(u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
    }
}

/// Recursive DNS Server option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecursiveDnsServers {
    pub lifetime: Lifetime,
    pub servers: Vec<Ipv6Addr>,
}

/// DNS Search List option; names without trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSearchList {
    pub lifetime: Lifetime,
    pub domains: Vec<String>,
}

pub(super) fn parse_prefix(data: &[u8]) -> Result<PrefixInformation, WireError> {
    // 30 bytes of body: the option is 4 units of 8 bytes.
    if data.len() != 30 {
        return Err(WireError::BadOption(NDP_OPT_PREFIX_INFORMATION));
    }
    let prefix_len = data[0];
    if prefix_len > 128 {
        return Err(WireError::BadOption(NDP_OPT_PREFIX_INFORMATION));
    }
    let mut prefix = [0u8; 16];
    prefix.copy_from_slice(&data[14..30]);
    Ok(PrefixInformation {
        prefix: Ipv6Addr::from(prefix),
        prefix_len,
        on_link: data[1] & PREFIX_FLAG_ON_LINK != 0,
        autonomous: data[1] & PREFIX_FLAG_AUTONOMOUS != 0,
        valid_lifetime: Lifetime(be32(&data[2..6])),
        preferred_lifetime: Lifetime(be32(&data[6..10])),
    })
}

pub(super) fn emit_prefix(p: &PrefixInformation, out: &mut Vec<u8>) {
    out.extend_from_slice(&[NDP_OPT_PREFIX_INFORMATION, 4, p.prefix_len]);
    let mut flags = 0;
    if p.on_link {
        flags |= PREFIX_FLAG_ON_LINK;
    }
    if p.autonomous {
        flags |= PREFIX_FLAG_AUTONOMOUS;
    }
    out.push(flags);
    out.extend_from_slice(&p.valid_lifetime.0.to_be_bytes());
    out.extend_from_slice(&p.preferred_lifetime.0.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&p.prefix.octets());
}

pub(super) fn parse_rdnss(data: &[u8]) -> Result<RecursiveDnsServers, WireError> {
    // RFC 8106: length at least 3 units, i.e. one address.
    if data.len() < 22 || !(data.len() - 6).is_multiple_of(16) {
        return Err(WireError::BadOption(NDP_OPT_RDNSS));
    }
    let servers = data[6..]
        .chunks_exact(16)
        .map(|c| {
            let mut a = [0u8; 16];
            a.copy_from_slice(c);
            Ipv6Addr::from(a)
        })
        .collect();
    Ok(RecursiveDnsServers {
        lifetime: Lifetime(be32(&data[2..6])),
        servers,
    })
}

pub(super) fn emit_rdnss(r: &RecursiveDnsServers, out: &mut Vec<u8>) {
    let units = 1 + 2 * r.servers.len();
    out.extend_from_slice(&[NDP_OPT_RDNSS, units as u8, 0, 0]);
    out.extend_from_slice(&r.lifetime.0.to_be_bytes());
    for s in &r.servers {
        out.extend_from_slice(&s.octets());
    }
}

pub(super) fn parse_dnssl(data: &[u8]) -> Result<DnsSearchList, WireError> {
    let bad = WireError::BadOption(NDP_OPT_DNSSL);
    if data.len() < 14 {
        return Err(bad);
    }
    let mut domains = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut rest = &data[6..];
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        if len == 0 {
            if labels.is_empty() {
                // Padding: only zeros may follow.
                if tail.iter().any(|&b| b != 0) {
                    return Err(bad);
                }
                break;
            }
            domains.push(labels.join("."));
            labels.clear();
            rest = tail;
            continue;
        }
        if len > 63 || len > tail.len() {
            return Err(bad);
        }
        // A label must survive the dotted text form it is kept in: printable
        // ASCII, no `.` (which would split it when emitted again).
        let label = &tail[..len];
        if !label.iter().all(|&b| b.is_ascii_graphic() && b != b'.') {
            return Err(bad);
        }
        labels.push(String::from_utf8_lossy(label).into_owned());
        rest = &tail[len..];
    }
    // RFC 8106 5.2: at least one domain name.
    if !labels.is_empty() || domains.is_empty() {
        return Err(bad);
    }
    Ok(DnsSearchList {
        lifetime: Lifetime(be32(&data[2..6])),
        domains,
    })
}

/// Encoded length of a DNSSL option, padded to 8 bytes.
pub(super) fn dnssl_len(d: &DnsSearchList) -> usize {
    let names: usize = d.domains.iter().map(|n| encoded_name_len(n)).sum();
    (8 + names).div_ceil(8) * 8
}

pub(super) fn emit_dnssl(d: &DnsSearchList, out: &mut Vec<u8>) {
    let len = dnssl_len(d);
    let start = out.len();
    out.extend_from_slice(&[NDP_OPT_DNSSL, (len / 8) as u8, 0, 0]);
    out.extend_from_slice(&d.lifetime.0.to_be_bytes());
    for name in &d.domains {
        for label in name.split('.').filter(|l| !l.is_empty()) {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }
    out.resize(start + len, 0);
}

fn encoded_name_len(name: &str) -> usize {
    name.split('.')
        .filter(|l| !l.is_empty())
        .map(|l| 1 + l.len())
        .sum::<usize>()
        + 1
}

/// Whether `name` can go into a DNSSL option: labels of 1..=63 bytes,
/// at most 253 bytes in all.
pub fn valid_search_domain(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    !name.is_empty() && name.len() <= 253 && name.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}

pub(super) fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_length_option_ends_the_walk_with_an_error() {
        let area = [1, 1, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0];
        let got: Vec<_> = OptionIter::new(&area).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert_eq!(got[1], Err(WireError::ZeroLengthOption));
    }

    #[test]
    fn an_option_past_the_end_is_truncated() {
        let area = [1, 2, 0, 0, 0, 0, 0, 0];
        let got: Vec<_> = OptionIter::new(&area).collect();
        assert_eq!(got, vec![Err(WireError::Truncated)]);
        let got: Vec<_> = OptionIter::new(&[1]).collect();
        assert_eq!(got, vec![Err(WireError::Truncated)]);
    }

    #[test]
    fn dnssl_round_trip_and_padding() {
        let d = DnsSearchList {
            lifetime: Lifetime(1800),
            domains: vec!["lan".into(), "example.org".into()],
        };
        let mut out = Vec::new();
        emit_dnssl(&d, &mut out);
        assert_eq!(out.len() % 8, 0);
        assert_eq!(out.len(), dnssl_len(&d));
        assert_eq!(parse_dnssl(&out[2..]).unwrap(), d);
    }

    #[test]
    fn dnssl_rejects_a_label_running_past_the_end() {
        let body = [0, 0, 0, 0, 0, 0, 9, b'a', b'b', 0, 0, 0, 0, 0];
        assert!(parse_dnssl(&body).is_err());
    }

    /// Found by the `ra_codec` fuzz target: a label holding a `.` was
    /// joined into the text form, then split in two when emitted again, so
    /// parse -> emit -> parse gave another name. Such labels, and labels
    /// with control characters or spaces, are refused.
    #[test]
    fn dnssl_refuses_labels_that_do_not_survive_the_text_form() {
        for label in [&b"a.b"[..], b"x\x01", b"a b", b"\0", b"tab\t", b"\xc3\xa9"] {
            let mut body = vec![0, 0, 0, 0, 0, 0, label.len() as u8];
            body.extend_from_slice(label);
            body.push(0);
            body.resize(14.max(body.len().div_ceil(8) * 8 + 6), 0);
            assert!(parse_dnssl(&body).is_err(), "{label:?}");
        }
        let body = [0, 0, 0, 0, 0, 0, 3, b'l', b'-', b'n', 0, 0, 0, 0];
        assert_eq!(parse_dnssl(&body).unwrap().domains, ["l-n"]);
    }
}
