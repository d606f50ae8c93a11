//! A received DHCPv6 client message, read without trusting it: the header
//! and a walk over the option TLVs that checks every length against the
//! buffer and never panics (RFC 8415 8 and 21.1).
//!
//! Read here rather than with dhcproto's decoder, which subtracts from
//! option lengths before checking them (a Status Code option shorter than
//! 2 bytes overflowed and panicked a debug build) and reads some options
//! past their stated length. dhcproto still encodes every reply.
//!
//! Only what the stateless server decides on is interpreted (the message
//! type, the transaction ID, the Client and Server Identifiers, whether an
//! IA option is present); every other option is skipped, whatever its
//! length.

use std::fmt;

/// RFC 8415 7.3 message types the server reads.
pub const SOLICIT: u8 = 1;
pub const INFORMATION_REQUEST: u8 = 11;

/// RFC 8415 21 option codes the server reads.
pub const OPTION_CLIENTID: u16 = 1;
pub const OPTION_SERVERID: u16 = 2;
pub const OPTION_IA_NA: u16 = 3;
pub const OPTION_IA_TA: u16 = 4;
pub const OPTION_IA_PD: u16 = 25;

/// RFC 8415 11.1: a DUID is a 2-octet type followed by 1 to 128 octets.
pub const DUID_MIN_LEN: usize = 3;
pub const DUID_MAX_LEN: usize = 130;

/// The message type and transaction ID (RFC 8415 8).
const HEADER_LEN: usize = 4;
/// An option's code and length.
const OPTION_HEADER_LEN: usize = 4;

/// Why a message was dropped before the server looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than the 4-byte header.
    Short(usize),
    /// Bytes left after the last option that do not hold an option header.
    TruncatedOptionHeader,
    /// An option whose length runs past the end of the message.
    OptionPastEnd { code: u16, len: usize },
    /// A Client or Server Identifier that cannot be a DUID.
    BadDuid { code: u16, len: usize },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Short(n) => write!(f, "{n} bytes, shorter than a DHCPv6 header"),
            Malformed::TruncatedOptionHeader => f.write_str("truncated option header"),
            Malformed::OptionPastEnd { code, len } => {
                write!(
                    f,
                    "option {code} (length {len}) runs past the end of the message"
                )
            }
            Malformed::BadDuid { code, len } => {
                write!(f, "option {code} of length {len} is not a DUID")
            }
        }
    }
}

/// A client message: its header and its top-level options, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessage<'a> {
    pub msg_type: u8,
    pub xid: [u8; 3],
    options: Vec<(u16, &'a [u8])>,
}

impl<'a> ClientMessage<'a> {
    /// Reads `datagram`: the header, then options that must end exactly
    /// with the message (a truncated option is not quietly dropped, which
    /// would answer a damaged message as if it had fewer options).
    pub fn parse(datagram: &'a [u8]) -> Result<ClientMessage<'a>, Malformed> {
        let (header, mut rest) = datagram
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(Malformed::Short(datagram.len()))?;
        let [msg_type, x0, x1, x2] = *header;
        let mut options = Vec::new();
        while !rest.is_empty() {
            let (head, tail) = rest
                .split_first_chunk::<OPTION_HEADER_LEN>()
                .ok_or(Malformed::TruncatedOptionHeader)?;
            let code = u16::from_be_bytes([head[0], head[1]]);
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            if tail.len() < len {
                return Err(Malformed::OptionPastEnd { code, len });
            }
            let (value, tail) = tail.split_at(len);
            if matches!(code, OPTION_CLIENTID | OPTION_SERVERID)
                && !(DUID_MIN_LEN..=DUID_MAX_LEN).contains(&len)
            {
                return Err(Malformed::BadDuid { code, len });
            }
            options.push((code, value));
            rest = tail;
        }
        Ok(ClientMessage {
            msg_type,
            xid: [x0, x1, x2],
            options,
        })
    }

    /// The value of the first option `code`.
    pub fn option(&self, code: u16) -> Option<&'a [u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| *v)
    }

    pub fn has(&self, code: u16) -> bool {
        self.options.iter().any(|(c, _)| *c == code)
    }

    /// The transaction ID as a number, for logs.
    pub fn xid_num(&self) -> u32 {
        u32::from_be_bytes([0, self.xid[0], self.xid[1], self.xid[2]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_options_are_read_and_bounded() {
        let msg = [11, 1, 2, 3, 0, 8, 0, 2, 0, 0, 0, 1, 0, 3, 9, 9, 9];
        let m = ClientMessage::parse(&msg).unwrap();
        assert_eq!((m.msg_type, m.xid, m.xid_num()), (11, [1, 2, 3], 0x010203));
        assert_eq!(m.option(8), Some(&[0, 0][..]));
        assert_eq!(m.option(OPTION_CLIENTID), Some(&[9, 9, 9][..]));
        assert!(!m.has(OPTION_SERVERID));
        assert_eq!(ClientMessage::parse(&[11, 0, 0]), Err(Malformed::Short(3)));
        assert_eq!(
            ClientMessage::parse(&[11, 0, 0, 0, 0, 8]),
            Err(Malformed::TruncatedOptionHeader)
        );
        assert_eq!(
            ClientMessage::parse(&[11, 0, 0, 0, 0, 8, 0, 3, 0]),
            Err(Malformed::OptionPastEnd { code: 8, len: 3 })
        );
        assert_eq!(
            ClientMessage::parse(&[11, 0, 0, 0, 0, 2, 0, 0]),
            Err(Malformed::BadDuid { code: 2, len: 0 })
        );
    }
}
