//! Option values by type.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnetwork::Ipv4Network;
use netd_proto::dhcp4::OptionValue;
use netd_proto::dhcp4::option_spec::encode_domains;
use netd_proto::dhcp6::Option6Value;

use super::table::Kind;

/// Splits at commas outside double quotes (quotes kept).
pub(super) fn split_fields(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// The fields joined back into text, without the quotes around parts.
fn text(fields: &[&str]) -> String {
    fields.join(",").replace('"', "")
}

fn is_empty(fields: &[&str]) -> bool {
    fields.is_empty() || fields == [""]
}

pub(super) fn v4(code: u8, kind: Option<Kind>, fields: &[&str]) -> Result<OptionValue, String> {
    if is_empty(fields) {
        return Ok(OptionValue::Empty);
    }
    let Some(kind) = kind else {
        return Ok(guess_v4(fields));
    };
    let one = || -> Result<&str, String> {
        match fields {
            [one] => Ok(one),
            _ => Err(format!("option {code} takes one value")),
        }
    };
    Ok(match kind {
        Kind::Addrs => OptionValue::Addresses(addrs(fields)?),
        Kind::Text => OptionValue::Text(text(fields)),
        Kind::U8 => OptionValue::U8(number(one()?)?),
        Kind::U16 => OptionValue::U16(number(one()?)?),
        Kind::U32 => OptionValue::U32(number(one()?)?),
        Kind::I32 => OptionValue::I32(number(one()?)?),
        Kind::Bool => OptionValue::Bool(boolean(one()?)?),
        Kind::Domains => OptionValue::Domains(domains(fields)?),
        Kind::Routes => OptionValue::Routes(routes(fields)?),
        Kind::Sip => match addrs(fields) {
            Ok(a) => OptionValue::SipAddresses(a),
            Err(_) => OptionValue::SipNames(domains(fields)?),
        },
        Kind::Bytes => match fields {
            [one] => hex(one).map_or_else(|| OptionValue::Text(text(fields)), OptionValue::Bytes),
            _ => OptionValue::Text(text(fields)),
        },
        Kind::Addrs6 | Kind::Refused(_) => {
            return Err(format!("option {code} is not a DHCPv4 option"));
        }
    })
}

/// A numbered option dnsmasq has no name for: addresses, hex bytes, a
/// number (as few bytes as hold it), or text.
fn guess_v4(fields: &[&str]) -> OptionValue {
    if let Ok(a) = addrs(fields) {
        return OptionValue::Addresses(a);
    }
    if let [one] = fields {
        if one.contains(':')
            && let Some(b) = hex(one)
        {
            return OptionValue::Bytes(b);
        }
        if let Ok(n) = one.parse::<u32>() {
            return match (u8::try_from(n), u16::try_from(n)) {
                (Ok(n), _) => OptionValue::U8(n),
                (_, Ok(n)) => OptionValue::U16(n),
                _ => OptionValue::U32(n),
            };
        }
    }
    OptionValue::Text(text(fields))
}

pub(super) fn v6(code: u16, kind: Option<Kind>, fields: &[&str]) -> Result<Option6Value, String> {
    if is_empty(fields) {
        return Ok(Option6Value::Empty);
    }
    Ok(match kind {
        Some(Kind::Addrs6) => Option6Value::Addresses(addrs6(fields)?),
        Some(Kind::Domains) => Option6Value::Domains(domains(fields)?),
        Some(Kind::Text) => Option6Value::Text(text(fields)),
        Some(Kind::U32) => match fields {
            [one] => Option6Value::U32(number(one)?),
            _ => return Err(format!("option6:{code} takes one value")),
        },
        Some(Kind::Refused(why)) => return Err(format!("option6:{code}: {why}")),
        Some(_) => return Err(format!("option6:{code} is not supported")),
        None => match addrs6(fields) {
            Ok(a) => Option6Value::Addresses(a),
            Err(_) => match fields {
                [one] if one.contains(':') => {
                    hex(one).map_or_else(|| Option6Value::Text(text(fields)), Option6Value::Bytes)
                }
                _ => Option6Value::Text(text(fields)),
            },
        },
    })
}

fn addrs(fields: &[&str]) -> Result<Vec<Ipv4Addr>, String> {
    fields
        .iter()
        .map(|f| {
            f.parse()
                .map_err(|_| format!("{f:?} is not an IPv4 address"))
        })
        .collect()
}

fn addrs6(fields: &[&str]) -> Result<Vec<Ipv6Addr>, String> {
    fields
        .iter()
        .map(|f| {
            let bare = f
                .strip_prefix('[')
                .and_then(|f| f.strip_suffix(']'))
                .unwrap_or(f);
            bare.parse()
                .map_err(|_| format!("{f:?} is not an IPv6 address"))
        })
        .collect()
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not a number this option can hold"))
}

fn boolean(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (0 or 1)")),
    }
}

fn domains(fields: &[&str]) -> Result<Vec<String>, String> {
    let names: Vec<String> = fields.iter().map(|f| f.replace('"', "")).collect();
    for n in &names {
        let ok = !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok || encode_domains(std::slice::from_ref(n), false).is_err() {
            return Err(format!("{n:?} is not a domain name"));
        }
    }
    Ok(names)
}

/// `NET/LEN,ROUTER` pairs; a destination without `/LEN` is one host.
fn routes(fields: &[&str]) -> Result<Vec<(Ipv4Network, Ipv4Addr)>, String> {
    if !fields.len().is_multiple_of(2) {
        return Err("expected pairs of destination (NET/LEN) and router".into());
    }
    fields
        .chunks(2)
        .map(|pair| {
            let (dest, router) = (pair[0], pair[1]);
            let net: Ipv4Network = dest
                .parse()
                .map_err(|_| format!("{dest:?} is not a destination NET/LEN"))?;
            let net = Ipv4Network::new(net.network(), net.prefix())
                .map_err(|e| format!("{dest}: {e}"))?;
            let router: Ipv4Addr = router
                .parse()
                .map_err(|_| format!("{router:?} is not a router address"))?;
            Ok((net, router))
        })
        .collect()
}

/// `01:02:ff`: bytes in hex, separated by colons.
fn hex(s: &str) -> Option<Vec<u8>> {
    s.split(':')
        .map(|b| {
            (1..=2)
                .contains(&b.len())
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect()
}
