//! `--dhcp-host=MAC,IP[,NAME][,LEASE]`: a static reservation. As in dnsmasq,
//! each field's kind is told by its form, so the order after the MAC is free.

use std::net::Ipv4Addr;

use netd_proto::MacAddr;
use netd_proto::dhcp4::Reservation;
use thiserror::Error;

use super::dhcp_range::parse_lease_time;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("--dhcp-host={value}: {reason}")]
pub struct HostError {
    pub value: String,
    pub reason: String,
}

pub fn parse_dhcp_host(value: &str) -> Result<Reservation, HostError> {
    let err = |reason: String| HostError {
        value: value.to_owned(),
        reason,
    };
    let mut mac = None;
    let mut addr = None;
    let mut hostname = None;
    let mut lease_time = None;
    for field in value.split(',').map(str::trim) {
        if let Some(m) = parse_mac(field) {
            if mac.replace(m).is_some() {
                return Err(err("more than one MAC address is not supported".into()));
            }
        } else if let Ok(a) = field.parse::<Ipv4Addr>() {
            if addr.replace(a).is_some() {
                return Err(err("more than one IPv4 address".into()));
            }
        } else if field.contains(':') || field.starts_with('[') || field == "ignore" {
            return Err(err(format!(
                "{field:?} is not supported (only MAC,IP[,NAME][,LEASE])"
            )));
        } else if field.eq_ignore_ascii_case("infinite")
            || field.starts_with(|c: char| c.is_ascii_digit())
        {
            lease_time = Some(parse_lease_time(field).map_err(err)?);
        } else if is_hostname(field) {
            hostname = Some(field.to_owned());
        } else {
            return Err(err(format!(
                "{field:?} is not a MAC, an IPv4 address, a name or a lease time"
            )));
        }
    }
    Ok(Reservation {
        mac: mac.ok_or_else(|| err("a MAC address is required".into()))?,
        addr: addr.ok_or_else(|| err("an IPv4 address is required".into()))?,
        hostname,
        lease_time,
        tags: Vec::new(),
    })
}

/// `aa:bb:cc:dd:ee:ff` or with dashes.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    s.parse::<MacAddr>().ok().map(MacAddr::octets)
}

/// One DNS label: letters, digits, hyphens; not starting or ending with `-`.
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use netd_proto::dhcp4::LeaseTime;
    use std::time::Duration;

    #[test]
    fn mac_ip_name_lease_in_any_order() {
        let r = parse_dhcp_host("52:54:00:12:34:56,192.168.26.5,web,1h").unwrap();
        assert_eq!(r.mac, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(r.addr, Ipv4Addr::new(192, 168, 26, 5));
        assert_eq!(r.hostname.as_deref(), Some("web"));
        assert_eq!(
            r.lease_time,
            Some(LeaseTime::Finite(Duration::from_secs(3600)))
        );
        let r2 = parse_dhcp_host("web,52-54-00-12-34-56,192.168.26.5").unwrap();
        assert_eq!(r2.mac, r.mac);
    }

    #[test]
    fn missing_or_unsupported_parts_are_named() {
        assert!(
            parse_dhcp_host("192.168.26.5,web")
                .unwrap_err()
                .reason
                .contains("MAC")
        );
        assert!(
            parse_dhcp_host("52:54:00:12:34:56,web")
                .unwrap_err()
                .reason
                .contains("IPv4")
        );
        let e = parse_dhcp_host("id:01:02,192.168.26.5").unwrap_err();
        assert!(e.to_string().contains("id:01:02"), "{e}");
        assert!(parse_dhcp_host("52:54:00:12:34:56,192.168.26.5,we_b").is_err());
    }
}
