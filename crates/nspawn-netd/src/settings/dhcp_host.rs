//! `--dhcp-host`: a static host entry. The grammar lives with the DHCPv4
//! core ([`netd_proto::dhcp4::host_spec`]), so the daemon reads hosts files
//! with the same parser when they change; here it is only given the
//! option's name for its messages.

use netd_proto::MacAddr;
use netd_proto::dhcp4::Reservation;
use netd_proto::dhcp4::host_spec::parse_host_spec;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("--dhcp-host={value}: {reason}")]
pub struct HostError {
    pub value: String,
    pub reason: String,
}

pub fn parse_dhcp_host(value: &str) -> Result<Reservation, HostError> {
    parse_host_spec(value).map_err(|reason| HostError {
        value: value.to_owned(),
        reason,
    })
}

/// `aa:bb:cc:dd:ee:ff` or with dashes.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    s.parse::<MacAddr>().ok().map(MacAddr::octets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_option_and_value() {
        let e = parse_dhcp_host("52:54:00:12:34:56,[fd00::5]").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("--dhcp-host=52:54:00:12:34:56,[fd00::5]: "),
            "{text}"
        );
        assert!(text.contains("stateful DHCPv6"), "{text}");
        assert!(parse_dhcp_host("52:54:00:12:34:56,192.168.26.5,web").is_ok());
    }
}
