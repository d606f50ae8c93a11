//! The addresses nspawn-netd leased to a machine, for `container list`.
//!
//! [`lease_for`] is the lookup; [`parse`] is a minimal reader of the lease
//! file (dnsmasq's format) with the same records as
//! `netd_core::dhcp4::lease_file`.
// To be replaced by `netd_core::dhcp4::lease_file::{parse, LeaseRecord}`
// once that module is in the tree; `lease_for` stays.

use std::net::Ipv4Addr;

/// One line of the lease file: `<expiry-epoch> <mac> <ip> <hostname|*> <client-id|*>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    /// Unix time (seconds) the lease ends; 0 = never.
    pub expires: u64,
    pub mac: [u8; 6],
    pub addr: Ipv4Addr,
    pub hostname: Option<String>,
    pub client_id: Option<Vec<u8>>,
}

/// The readable IPv4 lease lines of `text`; others (DHCPv6 `duid` lines
/// and IPv6 leases, damaged lines) are skipped: a listing shows what it can.
pub fn parse(text: &str) -> Vec<LeaseRecord> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<LeaseRecord> {
    let mut f = line.split_ascii_whitespace();
    let expires = f.next()?.parse().ok()?;
    let mac_text = f.next()?;
    let addr = f.next()?.parse().ok()?;
    let hostname = f.next().filter(|h| *h != "*").map(str::to_owned);
    let client_id = match f.next() {
        None | Some("*") => None,
        Some(hex) => Some(hex_bytes(hex)?),
    };
    let mac: [u8; 6] = hex_bytes(mac_text)?.try_into().ok()?;
    Some(LeaseRecord {
        expires,
        mac,
        addr,
        hostname,
        client_id,
    })
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    text.split(':')
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

/// The lease of the machine whose hostname is `name` (case-insensitive)
/// that is still valid at `now` (Unix seconds), the one ending last when
/// there are several.
pub fn lease_for<'a>(records: &'a [LeaseRecord], name: &str, now: u64) -> Option<&'a LeaseRecord> {
    records
        .iter()
        .filter(|r| {
            r.hostname
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(name))
        })
        .filter(|r| r.expires == 0 || r.expires > now)
        .max_by_key(|r| if r.expires == 0 { u64::MAX } else { r.expires })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
1700000100 52:54:00:aa:bb:01 192.168.26.20 web 01:52:54:00:aa:bb:01
1700000050 52:54:00:aa:bb:02 192.168.26.21 Web *
1600000000 52:54:00:aa:bb:03 192.168.26.22 db *
0 52:54:00:aa:bb:04 192.168.26.23 db *
1700000100 52:54:00:aa:bb:05 192.168.26.24 * *
duid 00:01:00:01:2c:00:00:00:52:54:00:aa:bb:01
1700000100 1234 fd23::20 web 00:01
garbage
";

    #[test]
    fn reads_ipv4_leases_and_skips_the_rest() {
        let records = parse(FILE);
        assert_eq!(records.len(), 5);
        assert_eq!(records[0].mac, [0x52, 0x54, 0, 0xaa, 0xbb, 1]);
        assert_eq!(
            records[0].client_id.as_deref(),
            Some(&[1, 0x52, 0x54, 0, 0xaa, 0xbb, 1][..])
        );
        assert_eq!(records[4].hostname, None);
    }

    #[test]
    fn the_current_lease_of_a_name() {
        let records = parse(FILE);
        let now = 1_700_000_000;
        assert_eq!(
            lease_for(&records, "WEB", now).unwrap().addr,
            Ipv4Addr::new(192, 168, 26, 20)
        );
        // The expired one is ignored, the infinite one wins.
        assert_eq!(
            lease_for(&records, "db", now).unwrap().addr,
            Ipv4Addr::new(192, 168, 26, 23)
        );
        assert_eq!(lease_for(&records, "web", 1_800_000_000), None);
        assert_eq!(lease_for(&records, "mail", now), None);
    }
}
