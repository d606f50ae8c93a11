//! dnsmasq's lease-file format, as a pure codec: text in, records out, and
//! back. One lease a line: `<expiry-epoch> <mac> <ip> <hostname|*> <client-id|*>`.
//!
//! This module reads and writes no file (the shell's lease store does). Every
//! field is bounds-checked (an expiry up to [`MAX_EXPIRY`], a client id up
//! to one option's 255 bytes) and a hostname is sanitised as a client's is;
//! dropping expired leases or leases outside the pool is the caller's
//! business.

use std::net::{IpAddr, Ipv4Addr};

use super::leases::MAX_CLIENT_ID_LEN;
use super::request::sanitise_hostname;

/// The latest expiry a line may give: 9999-12-31T23:59:59Z. Any later
/// one is a damaged or hostile file (no `SystemTime` holds 2^63 seconds).
pub const MAX_EXPIRY: u64 = 253_402_300_799;

/// One line of dnsmasq's lease file: `<expiry-epoch> <mac> <ip> <hostname|*> <client-id|*>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    /// Unix time (seconds) the lease ends; 0 = never (dnsmasq's infinite leases).
    pub expires: u64,
    pub mac: [u8; 6],
    pub addr: Ipv4Addr,
    pub hostname: Option<String>,
    /// The client identifier (option 61) bytes, written as colon-separated hex.
    pub client_id: Option<Vec<u8>>,
}

/// A line that could not be read; Display is "line N: message".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LineError {
    /// 1-based, as an editor shows it.
    pub line: usize,
    pub message: String,
}

/// Every good line, and an error for each bad one (the rest still loads).
/// DHCPv6 lines (`duid ...` and IPv6 leases) are skipped without error.
pub fn parse(text: &str) -> (Vec<LeaseRecord>, Vec<LineError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(message) => errors.push(LineError {
                line: index + 1,
                message,
            }),
        }
    }
    (records, errors)
}

/// The file text for `records`, one line each, in order.
pub fn format(records: &[LeaseRecord]) -> String {
    let mut out = String::with_capacity(records.len() * 64);
    for r in records {
        write_line(
            &mut out,
            r.expires,
            &r.mac,
            r.addr,
            r.hostname.as_deref(),
            r.client_id.as_deref(),
        );
    }
    out
}

/// Appends one lease's line to `out`, allocating nothing else: the export
/// of a large table formats every lease once a second.
pub fn write_line(
    out: &mut String,
    expires: u64,
    mac: &[u8; 6],
    addr: Ipv4Addr,
    hostname: Option<&str>,
    client_id: Option<&[u8]>,
) {
    push_decimal(out, expires);
    out.push(' ');
    push_hex_colon(out, mac);
    out.push(' ');
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(out, u64::from(octet));
    }
    out.push(' ');
    // A name with whitespace would split the line; the server only keeps
    // DNS labels, but a record may come from elsewhere.
    match hostname {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => out.push_str(h),
        _ => out.push('*'),
    }
    out.push(' ');
    match client_id {
        Some(id) if !id.is_empty() => push_hex_colon(out, id),
        _ => out.push('*'),
    }
    out.push('\n');
}

/// `Ok(None)` for lines that are not IPv4 leases but are no error either.
fn parse_line(line: &str) -> Result<Option<LeaseRecord>, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields.first() {
        None => return Ok(None),
        Some(&"duid") => return Ok(None),
        Some(_) => {}
    }
    let [expires, mac, addr, hostname, client_id] = fields[..] else {
        return Err(format!(
            "expected 5 fields (expiry mac ip hostname client-id), found {}",
            fields.len()
        ));
    };
    let addr = match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => a,
        Ok(IpAddr::V6(_)) => return Ok(None),
        Err(_) => return Err(format!("{addr:?} is not an IP address")),
    };
    let expires = expires
        .parse::<u64>()
        .ok()
        .filter(|&t| t <= MAX_EXPIRY)
        .ok_or_else(|| format!("expiry {expires:?} is not a Unix time up to {MAX_EXPIRY}"))?;
    let mac = parse_hex_colon(mac)
        .and_then(|b| <[u8; 6]>::try_from(b).ok())
        .ok_or_else(|| format!("{mac:?} is not an Ethernet MAC address"))?;
    // The name is published in DNS: it gets the same sanitising as a
    // client's option, whatever a hand edit put in the file.
    let hostname = match hostname {
        "*" => None,
        h => sanitise_hostname(h),
    };
    let client_id = if client_id == "*" {
        None
    } else {
        let id = parse_hex_colon(client_id)
            .ok_or_else(|| format!("client id {client_id:?} is not colon-separated hex"))?;
        if id.len() > MAX_CLIENT_ID_LEN {
            return Err(format!(
                "client id of {} bytes is longer than {MAX_CLIENT_ID_LEN}",
                id.len()
            ));
        }
        Some(id)
    };
    Ok(Some(LeaseRecord {
        expires,
        mac,
        addr,
        hostname,
        client_id,
    }))
}

/// `n` in decimal, without going through `fmt` (the export formats every
/// lease's expiry and address once a second).
fn push_decimal(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// `bytes` as lower-case hex pairs joined by `:`, appended a chunk at a
/// time rather than a character at a time.
fn push_hex_colon(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const CHUNK: usize = 64;
    let mut buf = [0u8; 3 * CHUNK];
    for (c, chunk) in bytes.chunks(CHUNK).enumerate() {
        let mut n = 0;
        for (i, b) in chunk.iter().enumerate() {
            if c > 0 || i > 0 {
                buf[n] = b':';
                n += 1;
            }
            buf[n] = HEX[usize::from(b >> 4)];
            buf[n + 1] = HEX[usize::from(b & 0xf)];
            n += 2;
        }
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

fn parse_hex_colon(s: &str) -> Option<Vec<u8>> {
    s.split(':')
        .map(|part| {
            if part.is_empty() || part.len() > 2 {
                return None;
            }
            u8::from_str_radix(part, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(last: u8) -> LeaseRecord {
        LeaseRecord {
            expires: 1_800_000_000 + u64::from(last),
            mac: [0x52, 0x54, 0, 0x12, 0x34, last],
            addr: Ipv4Addr::new(192, 168, 26, last),
            hostname: Some(format!("host{last}")),
            client_id: Some(vec![1, 0x52, 0x54, 0, 0x12, 0x34, last]),
        }
    }

    #[test]
    fn round_trip_keeps_every_field_and_the_order() {
        let mut bare = record(21);
        bare.hostname = None;
        bare.client_id = None;
        bare.expires = 0;
        let records = vec![record(40), bare, record(20)];
        let text = format(&records);
        assert_eq!(
            text.lines().next().unwrap(),
            "1800000040 52:54:00:12:34:28 192.168.26.40 host40 01:52:54:00:12:34:28"
        );
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "0 52:54:00:12:34:15 192.168.26.21 * *"
        );
        let (back, errors) = parse(&text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(back, records);
    }

    #[test]
    fn the_hand_formatting_matches_fmt() {
        for n in [0, 1, 9, 10, 255, 1_800_000_000, u64::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        // Identifiers longer than one chunk keep their separators.
        for len in [0, 1, 63, 64, 65, 200, 255] {
            let id: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut out = String::new();
            push_hex_colon(&mut out, &id);
            let want: Vec<String> = id.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(out, want.join(":"), "{len} bytes");
        }
        let mut out = String::new();
        write_line(
            &mut out,
            7,
            &[0xab; 6],
            Ipv4Addr::new(10, 0, 255, 1),
            None,
            None,
        );
        assert_eq!(out, "7 ab:ab:ab:ab:ab:ab 10.0.255.1 * *\n");
    }

    #[test]
    fn reads_a_file_written_by_dnsmasq() {
        let text = "1764000000 52:54:00:aa:bb:cc 192.168.26.57 web 01:52:54:00:aa:bb:cc\n\
                    duid 00:01:00:01:2c:4d:5e:6f:52:54:00:00:00:01\n\
                    1764000000 1234567 fd23::57 web 00:01:00:01:2c:4d:5e:6f\n\
                    1764000100 52:54:00:aa:bb:cd 192.168.26.58 * *\n";
        let (records, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].hostname.as_deref(), Some("web"));
        assert_eq!(records[1].addr, Ipv4Addr::new(192, 168, 26, 58));
        assert_eq!(records[1].client_id, None);
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_the_rest_loads() {
        let good = format(&[record(30)]);
        let text = format!(
            "{good}garbage\n\n1764000000 52:54:00:aa:bb 192.168.26.5 * *\n\
             soon 52:54:00:aa:bb:cc 192.168.26.5 * *\n\
             1764000000 52:54:00:aa:bb:cc 192.168.26.500 * *\n\
             1764000000 52:54:00:aa:bb:cc 192.168.26.5 * 01:zz\n{good}"
        );
        let (records, errors) = parse(&text);
        assert_eq!(records, vec![record(30), record(30)]);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 5, 6, 7]);
        assert!(
            errors[0]
                .to_string()
                .starts_with("line 2: expected 5 fields")
        );
        assert!(errors[1].message.contains("MAC"), "{}", errors[1]);
        assert!(errors[2].message.contains("Unix time"), "{}", errors[2]);
        assert!(errors[4].message.contains("client id"), "{}", errors[4]);
    }

    /// An expiry above 2^63 seconds used to load, then panicked at
    /// start-up when the server turned it into a `SystemTime`.
    #[test]
    fn an_expiry_past_any_representable_time_is_a_bad_line() {
        for expiry in [
            "18446744073709551615",
            "9223372036854775808",
            "253402300800",
            "99999999999999999999999",
        ] {
            let text = format!("{expiry} 52:54:00:aa:bb:cc 192.168.26.5 * *\n");
            let (records, errors) = parse(&text);
            assert!(records.is_empty(), "{expiry}: {records:?}");
            assert_eq!(errors.len(), 1, "{expiry}");
            assert!(errors[0].message.contains("expiry"), "{}", errors[0]);
        }
        let (records, errors) = parse("253402300799 52:54:00:aa:bb:cc 192.168.26.5 * *\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records[0].expires, MAX_EXPIRY);
    }

    /// A hostname read back is published in DNS like one from a client:
    /// it goes through the same sanitising, whatever a hand edit put there.
    #[test]
    fn hostnames_read_back_are_sanitised_as_from_a_client() {
        let text = "1764000000 52:54:00:aa:bb:01 192.168.26.5 web.evil.test *\n\
                    1764000000 52:54:00:aa:bb:02 192.168.26.6 My_Box$ *\n\
                    1764000000 52:54:00:aa:bb:03 192.168.26.7 --- *\n\
                    1764000000 52:54:00:aa:bb:04 192.168.26.8 \u{1b}[31mred *\n";
        let (records, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<Option<&str>> = records.iter().map(|r| r.hostname.as_deref()).collect();
        assert_eq!(names, [Some("web"), Some("My-Box"), None, Some("31mred")]);
        let long = format!(
            "1764000000 52:54:00:aa:bb:05 192.168.26.9 {} *",
            "a".repeat(300)
        );
        assert_eq!(
            parse(&long).0[0].hostname.as_deref().map(str::len),
            Some(63)
        );
    }

    /// The client identifier is an option's value: at most 255 bytes, as
    /// the request reader accepts.
    #[test]
    fn a_client_id_longer_than_an_option_is_a_bad_line() {
        let id = |n: usize| vec!["ab"; n].join(":");
        let line = |n| format!("1764000000 52:54:00:aa:bb:cc 192.168.26.5 * {}\n", id(n));
        assert!(parse(&line(255)).1.is_empty());
        let (records, errors) = parse(&line(256));
        assert!(records.is_empty());
        assert!(errors[0].message.contains("client id"), "{}", errors[0]);
    }
}
