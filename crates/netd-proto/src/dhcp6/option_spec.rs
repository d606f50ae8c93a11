//! DHCPv6 options the user configures (`--dhcp-option=option6:...`), typed,
//! and their payloads. Names are never compressed (RFC 8415 §10).

use std::net::Ipv6Addr;

use crate::dhcp4::option_spec::encode_domains;

/// One configured DHCPv6 option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp6Option {
    pub code: u16,
    pub value: Option6Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Option6Value {
    /// No value: the option (and our default for it) is not sent.
    Empty,
    /// Addresses; `::` (written `[::]`) is the server's own address.
    Addresses(Vec<Ipv6Addr>),
    /// Domain names in RFC 1035 form, uncompressed.
    Domains(Vec<String>),
    Text(String),
    U32(u32),
    Bytes(Vec<u8>),
}

impl Option6Value {
    /// The payload, or `None` when nothing is sent; `server` replaces `::`.
    pub fn payload(&self, server: Ipv6Addr) -> Option<Vec<u8>> {
        Some(match self {
            Option6Value::Empty => return None,
            Option6Value::Addresses(list) => list
                .iter()
                .flat_map(|a| if a.is_unspecified() { server } else { *a }.octets())
                .collect(),
            Option6Value::Domains(names) => encode_domains(names, false).ok()?,
            Option6Value::Text(s) => s.as_bytes().to_vec(),
            Option6Value::U32(n) => n.to_be_bytes().to_vec(),
            Option6Value::Bytes(b) => b.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_is_the_server_and_names_are_not_compressed() {
        let server: Ipv6Addr = "fd00::1".parse().unwrap();
        let v = Option6Value::Addresses(vec![Ipv6Addr::UNSPECIFIED]);
        assert_eq!(v.payload(server).unwrap(), server.octets());
        let v = Option6Value::Domains(vec!["a.b".into(), "c.b".into()]);
        assert_eq!(v.payload(server).unwrap(), b"\x01a\x01b\x00\x01c\x01b\x00");
        assert_eq!(Option6Value::Empty.payload(server), None);
    }
}
