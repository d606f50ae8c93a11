//! [`MacAddr`]: the one way an Ethernet address is parsed and printed.

use std::fmt;
use std::str::FromStr;

/// An Ethernet (EUI-48) address. `Display` writes `aa:bb:cc:dd:ee:ff`, the
/// form of dnsmasq's lease file, `ip neigh` and the logs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl TryFrom<&[u8]> for MacAddr {
    type Error = MacParseError;

    /// Six bytes, as netlink reports an Ethernet address.
    fn try_from(b: &[u8]) -> Result<MacAddr, MacParseError> {
        <[u8; 6]>::try_from(b)
            .map(MacAddr)
            .map_err(|_| MacParseError(format!("{} bytes", b.len())))
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(b: [u8; 6]) -> MacAddr {
        MacAddr(b)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why text is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MAC address (six hex octets separated by ':' or '-')")]
pub struct MacParseError(pub String);

impl FromStr for MacAddr {
    type Err = MacParseError;

    /// Six hexadecimal octets of one or two digits, separated by `:` or `-`.
    fn from_str(s: &str) -> Result<MacAddr, MacParseError> {
        let err = || MacParseError(s.to_owned());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for b in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.is_empty() || part.len() > 2 {
                return Err(err());
            }
            *b = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_both_separators() {
        let m = MacAddr([0x02, 0xab, 0, 1, 0x10, 0xff]);
        assert_eq!(m.to_string(), "02:ab:00:01:10:ff");
        assert_eq!("02:ab:00:01:10:ff".parse::<MacAddr>(), Ok(m));
        assert_eq!("02-AB-0-1-10-FF".parse::<MacAddr>(), Ok(m));
    }

    #[test]
    fn rejects_what_is_not_six_octets() {
        for bad in [
            "",
            "02:ab:00:01:10",
            "02:ab:00:01:10:ff:00",
            "02:ab:00:01:10:fg",
            "002:ab:00:01:10:ff",
            "02::00:01:10:ff",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
