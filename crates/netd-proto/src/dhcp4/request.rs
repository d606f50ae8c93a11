//! A received BOOTREQUEST, checked: the fields the server decides on,
//! already validated, so the server never meets a half-formed message.
//!
//! Read here rather than with dhcproto's decoder, which asserts on some
//! malformed options (e.g. a short option 81) and would panic on hostile
//! input in a debug build; dhcproto still encodes every reply.

use std::net::Ipv4Addr;

use dhcproto::v4::MessageType;

use super::hosts::HostQuery;
use super::leases::{ClientKey, MAX_CLIENT_ID_LEN};
use super::reply::MAGIC_COOKIE;
use super::wire::{Malformed, Options};
use crate::MacAddr;

const BOOTREQUEST: u8 = 1;
const HTYPE_ETHERNET: u8 = 1;
/// The fixed header (236 bytes) and the magic cookie.
pub(crate) const OPTIONS_OFFSET: usize = 240;
const OPT_HOSTNAME: u8 = 12;
const OPT_REQUESTED_ADDRESS: u8 = 50;
const OPT_MESSAGE_TYPE: u8 = 53;
const OPT_SERVER_IDENTIFIER: u8 = 54;
const OPT_PARAMETER_REQUEST_LIST: u8 = 55;
const OPT_CLIENT_IDENTIFIER: u8 = 61;
const OPT_RAPID_COMMIT: u8 = 80;
const OPT_CLIENT_FQDN: u8 = 81;
const OPT_RELAY_AGENT_INFORMATION: u8 = 82;

/// The client's part of the exchange.
#[derive(Debug, Clone)]
pub struct Request {
    pub msg_type: MessageType,
    pub xid: u32,
    pub broadcast_flag: bool,
    pub ciaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 6],
    pub key: ClientKey,
    pub client_id: Option<Vec<u8>>,
    /// Option 50.
    pub requested_addr: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 55, in the client's order.
    pub prl: Option<Vec<u8>>,
    /// Option 12, else option 81's first label, sanitised to a DNS label.
    pub hostname: Option<String>,
    /// Option 82 from a relay agent, echoed verbatim in the reply (RFC 3046
    /// §2.2).
    pub relay_agent_info: Option<Vec<u8>>,
    /// Option 80 (RFC 4039): the client takes an ACK to its DISCOVER.
    pub rapid_commit: bool,
}

impl Request {
    /// What the client shows of itself to the host entries.
    pub fn host_query(&self) -> HostQuery<'_> {
        HostQuery {
            mac: &self.chaddr,
            client_id: self.client_id.as_deref(),
            hostname: self.hostname.as_deref(),
        }
    }

    pub fn parse(packet: &[u8]) -> Result<Request, Malformed> {
        if packet.len() < OPTIONS_OFFSET {
            return Err(Malformed::Undecodable(format!(
                "{} bytes, shorter than a BOOTP header",
                packet.len()
            )));
        }
        if packet[0] != BOOTREQUEST {
            return Err(Malformed::NotRequest);
        }
        let (htype, hlen) = (packet[1], packet[2]);
        if htype != HTYPE_ETHERNET || hlen != 6 {
            return Err(Malformed::NotEthernet { htype, hlen });
        }
        if packet[236..240] != MAGIC_COOKIE {
            return Err(Malformed::Undecodable("bad magic cookie".into()));
        }
        let opts = Options::parse(&packet[OPTIONS_OFFSET..])?;
        let msg_type = match opts.get(OPT_MESSAGE_TYPE) {
            Some(&[t]) => match MessageType::from(t) {
                t @ (MessageType::Discover
                | MessageType::Request
                | MessageType::Decline
                | MessageType::Release
                | MessageType::Inform) => t,
                _ => return Err(Malformed::BadMessageType),
            },
            _ => return Err(Malformed::BadMessageType),
        };
        let addr_at =
            |at: usize| Ipv4Addr::new(packet[at], packet[at + 1], packet[at + 2], packet[at + 3]);
        let mut chaddr = [0u8; 6];
        chaddr.copy_from_slice(&packet[28..34]);
        let client_id = match opts.get(OPT_CLIENT_IDENTIFIER) {
            Some(id) if id.len() > MAX_CLIENT_ID_LEN => {
                return Err(Malformed::BadOption(OPT_CLIENT_IDENTIFIER));
            }
            Some(id) if !id.is_empty() => Some(id.to_vec()),
            _ => None,
        };
        let addr_opt = |code| match opts.get(code) {
            Some(&[a, b, c, d]) => Ok(Some(Ipv4Addr::new(a, b, c, d))),
            Some(_) => Err(Malformed::BadOption(code)),
            None => Ok(None),
        };
        let hostname = match (opts.get(OPT_HOSTNAME), opts.get(OPT_CLIENT_FQDN)) {
            (Some(h), _) => sanitise_hostname(&String::from_utf8_lossy(h)),
            (None, Some(fqdn)) => fqdn_first_label(fqdn),
            (None, None) => None,
        };
        Ok(Request {
            msg_type,
            xid: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            broadcast_flag: packet[10] & 0x80 != 0,
            ciaddr: addr_at(12),
            giaddr: addr_at(24),
            chaddr,
            key: ClientKey::new(client_id.as_deref(), chaddr),
            client_id,
            requested_addr: addr_opt(OPT_REQUESTED_ADDRESS)?,
            server_id: addr_opt(OPT_SERVER_IDENTIFIER)?,
            prl: opts.get(OPT_PARAMETER_REQUEST_LIST).map(<[u8]>::to_vec),
            hostname,
            relay_agent_info: opts.get(OPT_RELAY_AGENT_INFORMATION).map(<[u8]>::to_vec),
            rapid_commit: opts.get(OPT_RAPID_COMMIT).is_some(),
        })
    }

    /// The client's hardware address.
    pub fn mac(&self) -> MacAddr {
        MacAddr(self.chaddr)
    }
}

/// Option 81 (RFC 4702): flags, two obsolete rcodes, then the name, in
/// DNS wire format when the E bit is set, else ASCII. Only its first label
/// is kept.
fn fqdn_first_label(data: &[u8]) -> Option<String> {
    let (&flags, rest) = data.split_first()?;
    let name = rest.get(2..)?;
    if flags & 0x04 != 0 {
        let (&len, labels) = name.split_first()?;
        let label = labels.get(..usize::from(len))?;
        sanitise_hostname(&String::from_utf8_lossy(label))
    } else {
        sanitise_hostname(&String::from_utf8_lossy(name))
    }
}

/// The first label of `name`, reduced to a DNS label: letters, digits and
/// hyphens (`_` and spaces become hyphens), no hyphen at either end, at
/// most 63 bytes. `None` when nothing is left.
pub(crate) fn sanitise_hostname(name: &str) -> Option<String> {
    let first = name.split('.').next().unwrap_or("");
    let label: String = first
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' => Some(c),
            '_' | ' ' => Some('-'),
            _ => None,
        })
        .take(63)
        .collect();
    let label = label.trim_matches('-');
    (!label.is_empty()).then(|| label.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_become_single_dns_labels() {
        assert_eq!(sanitise_hostname("web.lan").as_deref(), Some("web"));
        assert_eq!(sanitise_hostname("My_Box 2").as_deref(), Some("My-Box-2"));
        assert_eq!(sanitise_hostname("-é-").as_deref(), None);
        assert_eq!(sanitise_hostname("").as_deref(), None);
        assert_eq!(sanitise_hostname(&"a".repeat(80)).unwrap().len(), 63);
    }
}
