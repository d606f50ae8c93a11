//! Answers the forwarder gives itself: A/AAAA/PTR records for local names,
//! and the reverse-name helpers behind PTR lookups and `bogus-priv`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;

use super::query::Query;
use super::wire::{self, HEADER_LEN, flags, rtype};

/// Starts a locally made reply: the query's header and question, `rc`, no
/// records yet. AA is set: the forwarder is the authority for local names.
pub(crate) fn begin(query: &Query, query_msg: &[u8], rc: u8, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&query_msg[..query.question_end]);
    let fl =
        flags::QR | flags::AA | flags::RA | (query.flags & (flags::RD | flags::CD)) | u16::from(rc);
    wire::put_u16(out, 2, fl);
    for at in [6, 8, 10] {
        wire::put_u16(out, at, 0);
    }
}

/// Appends an answer record owned by the question name (pointer to offset
/// 12) with `rdata`.
fn push_answer(out: &mut Vec<u8>, rtype: u16, ttl: u32, rdata: &[u8]) {
    out.extend_from_slice(&[0xc0, HEADER_LEN as u8]);
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&wire::CLASS_IN.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    let an = wire::u16_at(out, 6).unwrap_or(0);
    wire::put_u16(out, 6, an + 1);
}

/// Appends the A/AAAA records among `addrs` that the query's type asks for,
/// with `ttl` (`--local-ttl`).
pub(crate) fn push_addrs(query: &Query, addrs: &[IpAddr], ttl: u32, out: &mut Vec<u8>) {
    for a in addrs {
        match a {
            IpAddr::V4(v4) if matches!(query.qtype, rtype::A | rtype::ANY) => {
                push_answer(out, rtype::A, ttl, &v4.octets());
            }
            IpAddr::V6(v6) if matches!(query.qtype, rtype::AAAA | rtype::ANY) => {
                push_answer(out, rtype::AAAA, ttl, &v6.octets());
            }
            _ => {}
        }
    }
}

/// Appends a PTR record pointing at `name` (dotted text).
pub(crate) fn push_ptr(name: &str, ttl: u32, out: &mut Vec<u8>) {
    let mut rdata = [0u8; 256];
    let mut n = 0;
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let len = label.len().min(63);
        if n + 1 + len >= rdata.len() {
            break;
        }
        rdata[n] = len as u8;
        rdata[n + 1..n + 1 + len].copy_from_slice(&label.as_bytes()[..len]);
        n += 1 + len;
    }
    rdata[n] = 0;
    push_answer(out, rtype::PTR, ttl, &rdata[..n + 1]);
}

/// Finishes a local reply: TC if it exceeds `limit`, then our OPT record
/// if the client sent EDNS.
pub(crate) fn finish(query: &Query, limit: usize, out: &mut Vec<u8>) {
    let opt = if query.edns.is_some() {
        wire::OPT_LEN
    } else {
        0
    };
    if out.len() + opt > limit {
        out.truncate(query.question_end);
        let fl = wire::u16_at(out, 2).unwrap_or(0) | flags::TC;
        wire::put_u16(out, 2, fl);
        wire::put_u16(out, 6, 0);
    }
    if query.edns.is_some() {
        wire::push_opt(out, query.dnssec_ok());
        wire::put_u16(out, 10, 1);
    }
}

/// A reverse name (`4.3.2.1.in-addr.arpa`, nibbles under `ip6.arpa`) read as
/// the network it names: a full address gives a /32 or /128, a shorter name
/// the prefix it covers.
pub(crate) fn reverse_network(name: &str) -> Option<IpNetwork> {
    if let Some(rest) = name.strip_suffix(".in-addr.arpa") {
        let mut octets = [0u8; 4];
        let mut n = 0;
        for l in rest.rsplit('.') {
            if n == 4 || (l.len() > 1 && l.starts_with('0')) {
                return None;
            }
            octets[n] = l.parse().ok()?;
            n += 1;
        }
        let prefix = (n * 8) as u8;
        IpNetwork::new(IpAddr::V4(Ipv4Addr::from(octets)), prefix).ok()
    } else if let Some(rest) = name.strip_suffix(".ip6.arpa") {
        let mut bits: u128 = 0;
        let mut n = 0;
        for l in rest.rsplit('.') {
            if n == 32 || l.len() != 1 {
                return None;
            }
            let nibble = u128::from(u8::from_str_radix(l, 16).ok()?);
            bits |= nibble << (124 - 4 * n);
            n += 1;
        }
        let prefix = (n * 4) as u8;
        IpNetwork::new(IpAddr::V6(Ipv6Addr::from(bits)), prefix).ok()
    } else {
        None
    }
}

/// The address a full reverse name stands for.
pub(crate) fn reverse_addr(name: &str) -> Option<IpAddr> {
    let net = reverse_network(name)?;
    (net.prefix() == if net.is_ipv4() { 32 } else { 128 }).then(|| net.ip())
}

/// Ranges whose reverse lookups `bogus-priv` keeps local: RFC 1918, loopback,
/// link-local, shared address space (RFC 6598), "this network", ULA (RFC
/// 4193), IPv6 loopback and link-local.
const PRIVATE: [(&str, u8); 10] = [
    ("10.0.0.0", 8),
    ("172.16.0.0", 12),
    ("192.168.0.0", 16),
    ("127.0.0.0", 8),
    ("169.254.0.0", 16),
    ("100.64.0.0", 10),
    ("0.0.0.0", 8),
    ("fc00::", 7),
    ("fe80::", 10),
    ("::1", 128),
];

/// Whether a reverse name lies inside a private range.
pub(crate) fn is_private_reverse(name: &str) -> bool {
    let Some(net) = reverse_network(name) else {
        return false;
    };
    PRIVATE.iter().any(|(ip, len)| {
        let ip: IpAddr = ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        IpNetwork::new(ip, *len).is_ok_and(|p| net.prefix() >= p.prefix() && p.contains(net.ip()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_read_as_addresses_and_prefixes() {
        assert_eq!(
            reverse_addr("20.26.168.192.in-addr.arpa"),
            Some("192.168.26.20".parse().unwrap())
        );
        let v6 = format!("2.{}3.2.d.f.ip6.arpa", "0.".repeat(27));
        let v6 = v6.as_str();
        assert_eq!(reverse_addr(v6), Some("fd23::2".parse().unwrap()));
        assert_eq!(reverse_addr("168.192.in-addr.arpa"), None);
        assert!(is_private_reverse("168.192.in-addr.arpa"));
        assert!(is_private_reverse("5.0.0.10.in-addr.arpa"));
        assert!(is_private_reverse(v6));
        assert!(!is_private_reverse("192.in-addr.arpa"));
        assert!(!is_private_reverse("2.113.0.203.in-addr.arpa"));
        assert!(!is_private_reverse("300.0.0.10.in-addr.arpa"));
        assert!(!is_private_reverse("www.example.com"));
    }
}
