//! The options field of a received message, read without trusting it: a
//! walk over code/length/value triples that checks every length against
//! the buffer, joins split options (RFC 3396), and never panics.

use std::borrow::Cow;
use std::fmt;

const PAD: u8 = 0;
const END: u8 = 255;

/// Why a packet was dropped before the server looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// Too short, bad magic cookie, or options running past the end.
    Undecodable(String),
    /// A BOOTREPLY, or an unknown opcode: not for a server.
    NotRequest,
    /// Only Ethernet (htype 1, hlen 6) is served.
    NotEthernet { htype: u8, hlen: u8 },
    /// No option 53, or a type a client never sends.
    BadMessageType,
    /// An option the server reads has the wrong length.
    BadOption(u8),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Undecodable(e) => write!(f, "undecodable: {e}"),
            Malformed::NotRequest => f.write_str("not a BOOTREQUEST"),
            Malformed::NotEthernet { htype, hlen } => {
                write!(f, "not Ethernet (htype {htype}, hlen {hlen})")
            }
            Malformed::BadMessageType => f.write_str("no usable DHCP message type"),
            Malformed::BadOption(code) => write!(f, "option {code} has a bad length"),
        }
    }
}

/// The options of one message, by code, in the order first seen.
#[derive(Debug, Default)]
pub(crate) struct Options<'a> {
    entries: Vec<(u8, Cow<'a, [u8]>)>,
}

impl<'a> Options<'a> {
    /// Reads `field` (the bytes after the magic cookie). A missing End is
    /// tolerated, as most servers do; an option running past the buffer
    /// is not.
    pub(crate) fn parse(field: &'a [u8]) -> Result<Options<'a>, Malformed> {
        let mut opts = Options::default();
        let mut rest = field;
        while let Some((&code, tail)) = rest.split_first() {
            match code {
                PAD => rest = tail,
                END => break,
                _ => {
                    let Some((&len, tail)) = tail.split_first() else {
                        return Err(Malformed::Undecodable(format!(
                            "option {code} has no length"
                        )));
                    };
                    let len = usize::from(len);
                    if tail.len() < len {
                        return Err(Malformed::Undecodable(format!(
                            "option {code} runs past the end"
                        )));
                    }
                    let (value, tail) = tail.split_at(len);
                    opts.push(code, value);
                    rest = tail;
                }
            }
        }
        Ok(opts)
    }

    fn push(&mut self, code: u8, value: &'a [u8]) {
        match self.entries.iter_mut().find(|(c, _)| *c == code) {
            // RFC 3396: a repeated option is one long option, concatenated.
            Some((_, existing)) => existing.to_mut().extend_from_slice(value),
            None => self.entries.push((code, Cow::Borrowed(value))),
        }
    }

    pub(crate) fn get(&self, code: u8) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_joined_and_bounded() {
        let field = [53, 1, 3, 0, 12, 2, b'a', b'b', 12, 1, b'c', 255, 99];
        let o = Options::parse(&field).unwrap();
        assert_eq!(o.get(53), Some(&[3][..]));
        assert_eq!(o.get(12), Some(&b"abc"[..]));
        assert_eq!(o.get(99), None);
        assert!(Options::parse(&[53, 4, 1]).is_err());
        assert!(Options::parse(&[53]).is_err());
        assert!(Options::parse(&[53, 1, 1]).is_ok(), "End may be missing");
    }
}
