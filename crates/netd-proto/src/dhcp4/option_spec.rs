//! Options the user configures (`--dhcp-option`, `--dhcp-option-force`),
//! typed, and their encoding into option payloads.
//!
//! The binary parses the text; this module only turns a typed value into
//! bytes: address lists where `0.0.0.0` stands for the server's own address,
//! RFC 3397 domain lists with compression, RFC 3442 classless routes.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use super::tags::TagMatch;

/// One configured DHCPv4 option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp4Option {
    pub code: u8,
    pub value: OptionValue,
    /// `--dhcp-option-force`: sent even when the client's parameter request
    /// list does not ask for it.
    pub force: bool,
    /// Sent only to requests whose tags satisfy all of these.
    pub tags: Vec<TagMatch>,
}

/// A typed option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// No value (`--dhcp-option=3`): the option is not sent at all, and
    /// our default for it (router, DNS server, domain) is dropped too.
    Empty,
    /// Addresses; `0.0.0.0` is the server's own address.
    Addresses(Vec<Ipv4Addr>),
    /// Text, sent as is (no terminating NUL).
    Text(String),
    U8(u8),
    U16(u16),
    U32(u32),
    I32(i32),
    Bool(bool),
    /// Domain names in RFC 1035 wire form, compressed (RFC 3397): 119.
    Domains(Vec<String>),
    /// RFC 3442 classless routes (121): destination and router
    /// (`0.0.0.0`: on the link, as RFC 3442 says).
    Routes(Vec<(Ipv4Network, Ipv4Addr)>),
    /// RFC 3361 SIP servers (120) by name.
    SipNames(Vec<String>),
    /// RFC 3361 SIP servers (120) by address.
    SipAddresses(Vec<Ipv4Addr>),
    /// Bytes given in hex (`01:02:0a`).
    Bytes(Vec<u8>),
}

/// Why a value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{0:?} is not a valid domain name")]
    BadName(String),
}

impl OptionValue {
    /// The option's payload, or `None` when nothing is sent.
    /// `server` replaces `0.0.0.0` in address lists.
    pub fn payload(&self, server: Ipv4Addr) -> Option<Vec<u8>> {
        let addrs = |list: &[Ipv4Addr]| {
            list.iter()
                .flat_map(|a| if a.is_unspecified() { server } else { *a }.octets())
                .collect::<Vec<u8>>()
        };
        Some(match self {
            OptionValue::Empty => return None,
            OptionValue::Addresses(list) => addrs(list),
            OptionValue::Text(s) => s.as_bytes().to_vec(),
            OptionValue::U8(n) => vec![*n],
            OptionValue::U16(n) => n.to_be_bytes().to_vec(),
            OptionValue::U32(n) => n.to_be_bytes().to_vec(),
            OptionValue::I32(n) => n.to_be_bytes().to_vec(),
            OptionValue::Bool(b) => vec![u8::from(*b)],
            // Names were checked when parsed; a bad one encodes as nothing.
            OptionValue::Domains(names) => encode_domains(names, true).ok()?,
            OptionValue::Routes(routes) => encode_routes(routes),
            OptionValue::SipNames(names) => {
                let mut out = vec![0];
                out.extend(encode_domains(names, true).ok()?);
                out
            }
            OptionValue::SipAddresses(list) => {
                let mut out = vec![1];
                out.extend(addrs(list));
                out
            }
            OptionValue::Bytes(b) => b.clone(),
        })
    }
}

/// Names in RFC 1035 form. With `compress` (RFC 3397, DHCPv4), a suffix
/// already written is replaced by a pointer (an offset from the start of
/// the option's data); DHCPv6 forbids compression (RFC 8415 §10).
pub fn encode_domains(names: &[String], compress: bool) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names {
        let trimmed = name.trim_end_matches('.');
        let labels: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('.').collect()
        };
        if labels.iter().any(|l| l.is_empty() || l.len() > 63) || trimmed.len() > 253 {
            return Err(EncodeError::BadName(name.clone()));
        }
        let mut pointer = None;
        for i in 0..labels.len() {
            let suffix = labels[i..].join(".").to_ascii_lowercase();
            if let Some(&at) = seen.get(&suffix) {
                pointer = Some(at);
                break;
            }
            if compress && out.len() < 0x3fff {
                seen.insert(suffix, out.len());
            }
            out.push(labels[i].len() as u8);
            out.extend_from_slice(labels[i].as_bytes());
        }
        match pointer {
            Some(at) => out.extend_from_slice(&(0xc000 | at as u16).to_be_bytes()),
            None => out.push(0),
        }
    }
    Ok(out)
}

/// RFC 3442: each route as the prefix length, the significant octets of
/// the destination, and the router.
pub fn encode_routes(routes: &[(Ipv4Network, Ipv4Addr)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (net, router) in routes {
        let width = net.prefix();
        out.push(width);
        let significant = usize::from(width).div_ceil(8);
        out.extend_from_slice(&net.network().octets()[..significant]);
        out.extend_from_slice(&router.octets());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    #[test]
    fn zero_address_is_the_servers() {
        let v = OptionValue::Addresses(vec![Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(9, 9, 9, 9)]);
        assert_eq!(v.payload(SERVER).unwrap(), [10, 0, 0, 1, 9, 9, 9, 9]);
    }

    #[test]
    fn numbers_booleans_and_text() {
        assert_eq!(OptionValue::U16(1400).payload(SERVER).unwrap(), [5, 120]);
        assert_eq!(OptionValue::U8(64).payload(SERVER).unwrap(), [64]);
        assert_eq!(
            OptionValue::U32(7200).payload(SERVER).unwrap(),
            [0, 0, 0x1c, 0x20]
        );
        assert_eq!(
            OptionValue::I32(-3600).payload(SERVER).unwrap(),
            (-3600i32).to_be_bytes()
        );
        assert_eq!(OptionValue::Bool(true).payload(SERVER).unwrap(), [1]);
        assert_eq!(
            OptionValue::Text("ab".into()).payload(SERVER).unwrap(),
            *b"ab"
        );
    }

    #[test]
    fn empty_is_nothing() {
        assert_eq!(OptionValue::Empty.payload(SERVER), None);
    }

    #[test]
    fn domain_lists_are_compressed_as_rfc_3397_shows() {
        // RFC 3397 §3's example: eng.apple.com and marketing.apple.com.
        let names = [
            "eng.apple.com".to_owned(),
            "marketing.apple.com.".to_owned(),
        ];
        let got = encode_domains(&names, true).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(b"\x03eng\x05apple\x03com\x00");
        want.extend_from_slice(b"\x09marketing\xc0\x04");
        assert_eq!(got, want);
        let plain = encode_domains(&names, false).unwrap();
        assert_eq!(&plain[15..], b"\x09marketing\x05apple\x03com\x00");
        assert!(encode_domains(&["a..b".into()], true).is_err());
    }

    #[test]
    fn classless_routes_carry_only_significant_octets() {
        let routes = vec![
            ("10.0.0.0/8".parse().unwrap(), Ipv4Addr::new(192, 168, 1, 1)),
            (
                "0.0.0.0/0".parse().unwrap(),
                Ipv4Addr::new(192, 168, 1, 254),
            ),
            ("172.16.32.0/20".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
        ];
        assert_eq!(
            encode_routes(&routes),
            [
                8, 10, 192, 168, 1, 1, //
                0, 192, 168, 1, 254, //
                20, 172, 16, 32, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn sip_servers_say_which_form() {
        let v = OptionValue::SipAddresses(vec![Ipv4Addr::new(1, 2, 3, 4)]);
        assert_eq!(v.payload(SERVER).unwrap(), [1, 1, 2, 3, 4]);
        let v = OptionValue::SipNames(vec!["sip.example".into()]);
        assert_eq!(v.payload(SERVER).unwrap(), *b"\x00\x03sip\x07example\x00");
    }
}
