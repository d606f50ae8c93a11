//! dnsmasq's `--dhcp-host` value, and a line of a `--dhcp-hostsfile`:
//! `[HWADDR]...[,id:CLIENT-ID|*][,set:TAG][,IPv4][,NAME][,LEASE][,ignore]`.
//! Each field is told by its form, so the order is free, as in dnsmasq.
//!
//! - HWADDR: `aa:bb:cc:dd:ee:ff` (or with `-`), any octet `*`, optionally
//!   preceded by a hardware type, `1-aa:bb:..`; several may be given;
//! - `id:01:02:03` (hex octets separated by `:`) or `id:TEXT`; `id:*`
//!   ignores the client's identifier;
//! - `set:TAG` (or the older `net:TAG`) tags the client's requests;
//! - NAME may carry a domain (`web.lab.example`): the service checks it is
//!   the `--domain` and keeps the first label;
//! - LEASE: `12h`, `45m`, `3600`, `infinite`;
//! - `ignore`: never answer this client.
//!
//! Not supported, and said so: `tag:TAG` filters, `[IPv6]` addresses
//! (there is no stateful DHCPv6).

use std::net::Ipv4Addr;

use super::config::parse_lease_time;
use super::hosts::{MacPattern, Reservation};
use super::tags::Tag;

/// Parses one value; the error is the reason alone (the caller names the
/// option, file and line).
pub fn parse_host_spec(value: &str) -> Result<Reservation, String> {
    let mut r = Reservation::default();
    let mut any_field = false;
    for field in value.split(',').map(str::trim) {
        if field.is_empty() {
            continue;
        }
        any_field = true;
        let lower = field.to_ascii_lowercase();
        if let Some(id) = strip_prefix_ci(field, "id:") {
            if id == "*" {
                r.ignore_client_id = true;
            } else if r.client_id.replace(parse_client_id(id)?).is_some() {
                return Err("more than one id: is not supported".into());
            }
        } else if let Some(tag) =
            strip_prefix_ci(field, "set:").or_else(|| strip_prefix_ci(field, "net:"))
        {
            if tag.is_empty() {
                return Err(format!("{field:?}: the tag is empty"));
            }
            r.tags.push(Tag(tag.to_owned()));
        } else if lower.starts_with("tag:") {
            return Err(format!(
                "{field:?}: tag: filters on --dhcp-host are not supported"
            ));
        } else if field.starts_with('[') {
            return Err(format!(
                "{field:?}: IPv6 addresses need stateful DHCPv6, which nspawn-netd does not have yet"
            ));
        } else if lower == "ignore" {
            r.ignore = true;
        } else if let Ok(a) = field.parse::<Ipv4Addr>() {
            if r.addr.replace(a).is_some() {
                return Err("more than one IPv4 address".into());
            }
        } else if let Some(m) = parse_mac_pattern(field)? {
            r.macs.push(m);
        } else if lower == "infinite" || field.starts_with(|c: char| c.is_ascii_digit()) {
            if r.lease_time.replace(parse_lease_time(field)?).is_some() {
                return Err("more than one lease time".into());
            }
        } else if is_domain_name(field) {
            if r.hostname.replace(field.to_owned()).is_some() {
                return Err("more than one name".into());
            }
        } else {
            return Err(format!(
                "{field:?} is not a MAC address, id:, set:, an IPv4 address, a name, a lease time or ignore"
            ));
        }
    }
    if !any_field {
        return Err("empty".into());
    }
    if r.macs.is_empty() && r.client_id.is_none() && r.hostname.is_none() {
        return Err("no MAC address, id: or name says which client this is".into());
    }
    Ok(r)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `01:02:0a` as bytes, else the text itself.
fn parse_client_id(id: &str) -> Result<Vec<u8>, String> {
    if id.is_empty() {
        return Err("id: is empty".into());
    }
    let hex: Option<Vec<u8>> = if id.contains(':') {
        id.split(':')
            .map(|p| {
                (1..=2)
                    .contains(&p.len())
                    .then(|| u8::from_str_radix(p, 16).ok())
                    .flatten()
            })
            .collect()
    } else {
        None
    };
    Ok(hex.unwrap_or_else(|| id.as_bytes().to_vec()))
}

/// A hardware address with optional `*` octets and `TYPE-` prefix.
/// `Ok(None)` when the field does not look like one at all; an error when
/// it looks like one but is malformed.
pub fn parse_mac_pattern(field: &str) -> Result<Option<MacPattern>, String> {
    let looks_like = field.contains(':') || field.matches('-').count() >= 5;
    if !looks_like {
        return Ok(None);
    }
    let bad = || format!("{field:?} is not a MAC address (aa:bb:cc:dd:ee:ff, * for any octet)");
    // `1-aa:bb:..` (type then colons) or `1-aa-bb-..` (seven groups).
    let (hw_type, rest) = match field.split_once('-') {
        Some((t, rest)) if field.contains(':') && t.len() <= 2 && !t.contains(':') => {
            (Some(t), rest)
        }
        Some((t, rest)) if !field.contains(':') && field.split('-').count() == 7 => (Some(t), rest),
        _ => (None, field),
    };
    let hw_type = match hw_type {
        Some(t) => Some(u8::from_str_radix(t, 16).map_err(|_| bad())?),
        None => None,
    };
    let mut p = MacPattern {
        hw_type,
        ..MacPattern::default()
    };
    let mut parts = rest.split([':', '-']);
    for i in 0..6 {
        let part = parts.next().ok_or_else(bad)?;
        if part == "*" {
            p.wildcards |= 1 << i;
        } else if (1..=2).contains(&part.len()) {
            p.octets[i] = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        } else {
            return Err(bad());
        }
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Some(p))
}

/// A host name, possibly with its domain: labels of letters, digits and
/// hyphens, none starting or ending with `-`.
pub fn is_domain_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::dhcp4::LeaseTime;

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    #[test]
    fn mac_ip_name_lease_in_any_order() {
        let r = parse_host_spec("52:54:00:12:34:56,192.168.26.5,web,1h").unwrap();
        assert_eq!(r.macs, vec![MacPattern::exact(MAC)]);
        assert_eq!(r.addr, Some(Ipv4Addr::new(192, 168, 26, 5)));
        assert_eq!(r.hostname.as_deref(), Some("web"));
        assert_eq!(
            r.lease_time,
            Some(LeaseTime::Finite(Duration::from_secs(3600)))
        );
        let r2 = parse_host_spec("infinite,web,192.168.26.5,52-54-00-12-34-56").unwrap();
        assert_eq!(r2.macs, r.macs);
        assert_eq!(r2.lease_time, Some(LeaseTime::Infinite));
    }

    #[test]
    fn several_macs_wildcards_and_hardware_types() {
        let r = parse_host_spec("52:54:00:12:34:56,52:54:00:*:*:01,1-aa:bb:cc:dd:ee:ff,10.0.0.2")
            .unwrap();
        assert_eq!(r.macs.len(), 3);
        assert_eq!(r.macs[1].wildcards, 0b0001_1000);
        assert_eq!(r.macs[1].octets[5], 1);
        assert_eq!(r.macs[2].hw_type, Some(1));
        assert_eq!(r.macs[2].octets, [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        let dashed = parse_host_spec("06-00-20-e0-3b-13-af,10.0.0.3").unwrap();
        assert_eq!(dashed.macs[0].hw_type, Some(6));
        assert_eq!(dashed.macs[0].octets, [0, 0x20, 0xe0, 0x3b, 0x13, 0xaf]);
    }

    #[test]
    fn client_ids_hex_text_and_star() {
        let r = parse_host_spec("id:01:52:54:00:12:34:56,10.0.0.4").unwrap();
        assert_eq!(r.client_id, Some(vec![1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert!(r.macs.is_empty());
        let r = parse_host_spec("id:marjorie,10.0.0.5").unwrap();
        assert_eq!(r.client_id.as_deref(), Some(&b"marjorie"[..]));
        let r = parse_host_spec("52:54:00:12:34:56,id:*,10.0.0.6").unwrap();
        assert!(r.ignore_client_id);
        assert_eq!(r.client_id, None);
    }

    #[test]
    fn tags_ignore_and_names_alone() {
        let r = parse_host_spec("52:54:00:12:34:56,set:red,net:blue,ignore").unwrap();
        assert_eq!(r.tags, vec![Tag("red".into()), Tag("blue".into())]);
        assert!(r.ignore);
        assert_eq!(r.addr, None);
        let r = parse_host_spec("lap,192.168.0.199").unwrap();
        assert_eq!(r.hostname.as_deref(), Some("lap"));
        assert!(r.macs.is_empty());
        let r = parse_host_spec("52:54:00:12:34:56,web.lab.example").unwrap();
        assert_eq!(r.hostname.as_deref(), Some("web.lab.example"));
    }

    #[test]
    fn errors_name_the_field() {
        for (value, needle) in [
            ("192.168.26.5", "which client"),
            ("", "empty"),
            ("52:54:00:12:34,10.0.0.1", "\"52:54:00:12:34\""),
            ("52:54:00:12:34:zz,10.0.0.1", "52:54:00:12:34:zz"),
            ("52:54:00:12:34:56,tag:red,10.0.0.1", "tag:"),
            ("52:54:00:12:34:56,[fd00::5]", "stateful DHCPv6"),
            ("52:54:00:12:34:56,10.0.0.1,10.0.0.2", "more than one IPv4"),
            ("52:54:00:12:34:56,we_b", "we_b"),
            ("52:54:00:12:34:56,12x", "12x"),
            ("52:54:00:12:34:56,id:", "id: is empty"),
            ("52:54:00:12:34:56,set:", "tag is empty"),
            ("52:54:00:12:34:56,a,b", "more than one name"),
        ] {
            let e = parse_host_spec(value).unwrap_err();
            assert!(e.contains(needle), "{value}: {e}");
        }
    }
}
