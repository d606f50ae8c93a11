//! `--dhcp-range` values. IPv4 ranges are parsed here; IPv6 forms
//! (anything with a `:`) by [`super::ipv6_range`].
//!
//! Accepted IPv4 forms:
//! - `192.168.26.20-100`: start address, end's last octet (same /24 prefix);
//! - `192.168.26.20-192.168.26.100`;
//! - dnsmasq's `START,END[,NETMASK[,BROADCAST]][,LEASE]`, LEASE being `12h`,
//!   `45m`, `30s`, `1d`, `2w`, a number of seconds, or `infinite`;
//! - `ADDR,static[,NETMASK][,LEASE]`: ADDR's subnet, reservations only;
//! - any of these after `set:TAG,` (several allowed): requests served from
//!   the range carry the tag. `tag:TAG` (a range only for tagged requests)
//!   is not supported.

use std::net::Ipv4Addr;

use netd_proto::dhcp4::{LeaseTime, Tag};
pub use netd_serve::dhcp4::Ipv4Range;
use netd_serve::ra::Ipv6Range;
use thiserror::Error;

pub use netd_proto::dhcp4::MIN_LEASE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhcpRange {
    V4(Ipv4Range),
    V6(Ipv6Range),
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("--dhcp-range={value}: {reason}")]
pub struct RangeError {
    pub value: String,
    pub reason: String,
}

pub fn parse_dhcp_range(value: &str) -> Result<DhcpRange, RangeError> {
    let err = |reason: String| RangeError {
        value: value.to_owned(),
        reason,
    };
    let tagged = ["tag:", "set:", "net:"]
        .iter()
        .any(|p| value.starts_with(p));
    if value.contains(':') && !tagged {
        return super::ipv6_range::parse_ipv6_range(value)
            .map(DhcpRange::V6)
            .map_err(|e| err(e.reason));
    }
    let mut fields: Vec<&str> = value.split(',').map(str::trim).collect();
    let mut tags = Vec::new();
    while let Some(first) = fields.first() {
        if let Some(t) = first
            .strip_prefix("set:")
            .or_else(|| first.strip_prefix("net:"))
        {
            if t.is_empty() || t.starts_with('!') || t.contains(char::is_whitespace) {
                return Err(err(format!("{t:?} is not a tag name")));
            }
            tags.push(Tag(t.to_owned()));
            fields.remove(0);
        } else {
            break;
        }
    }
    if let Some(f) = fields.iter().find(|f| f.starts_with("tag:")) {
        return Err(err(format!(
            "{f}: ranges chosen by tag are not supported (set:TAG is)"
        )));
    }
    match fields.first() {
        None => return Err(err("no range after the tags".into())),
        Some(f) if f.contains(':') => {
            return Err(err("tags on IPv6 ranges are not supported".into()));
        }
        Some(_) => {}
    }
    if fields.len() == 1 {
        let (start, end) = parse_dash_form(fields[0]).map_err(err)?;
        return Ok(DhcpRange::V4(Ipv4Range {
            start,
            end,
            netmask: None,
            lease: None,
            tags,
            static_only: false,
        }));
    }
    let start: Ipv4Addr = fields[0]
        .parse()
        .map_err(|_| err(format!("{:?} is not an IPv4 address", fields[0])))?;
    let (end, static_only) = match fields[1] {
        "static" => (start, true),
        "proxy" => {
            return Err(err(format!("mode {:?} is not supported", fields[1])));
        }
        f => (
            f.parse()
                .map_err(|_| err(format!("{f:?} is not an IPv4 address")))?,
            false,
        ),
    };
    let mut rest = &fields[2..];
    let mut lease = None;
    if let Some(last) = rest.last()
        && last.parse::<Ipv4Addr>().is_err()
    {
        lease = Some(parse_lease_time(last).map_err(err)?);
        rest = &rest[..rest.len() - 1];
    }
    let netmask = match rest {
        [] => None,
        [mask] | [mask, _] => {
            let m: Ipv4Addr = mask
                .parse()
                .map_err(|_| err(format!("{mask:?} is not a netmask")))?;
            let bits = u32::from(m);
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                return Err(err(format!("{mask} is not a contiguous netmask")));
            }
            Some(m)
        }
        _ => return Err(err("too many fields".into())),
    };
    check_order(start, end).map_err(err)?;
    Ok(DhcpRange::V4(Ipv4Range {
        start,
        end,
        netmask,
        lease,
        tags,
        static_only,
    }))
}

fn parse_dash_form(s: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| "expected START-END or START,END[,NETMASK][,LEASE]".to_owned())?;
    let start: Ipv4Addr = a
        .parse()
        .map_err(|_| format!("{a:?} is not an IPv4 address"))?;
    let end = if b.contains('.') {
        b.parse()
            .map_err(|_| format!("{b:?} is not an IPv4 address"))?
    } else {
        let last: u8 = b
            .parse()
            .map_err(|_| format!("{b:?} is neither an address nor a last octet"))?;
        let o = start.octets();
        Ipv4Addr::new(o[0], o[1], o[2], last)
    };
    check_order(start, end)?;
    Ok((start, end))
}

fn check_order(start: Ipv4Addr, end: Ipv4Addr) -> Result<(), String> {
    if u32::from(start) > u32::from(end) {
        return Err(format!("the range starts ({start}) after it ends ({end})"));
    }
    Ok(())
}

/// `12h`, `45m`, `30s`, `1d`, `2w`, `3600`, `infinite`; below two minutes is
/// raised to two minutes, as dnsmasq does.
/// `12h`, `45m`, `30s`, `1d`, `2w`, seconds, or `infinite`.
pub fn parse_lease_time(s: &str) -> Result<LeaseTime, String> {
    netd_proto::dhcp4::parse_lease_time(s)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn v4(s: &str) -> Ipv4Range {
        match parse_dhcp_range(s).unwrap() {
            DhcpRange::V4(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn short_form_takes_the_end_octet_in_the_start_prefix() {
        let r = v4("192.168.26.20-100");
        assert_eq!(r.start, Ipv4Addr::new(192, 168, 26, 20));
        assert_eq!(r.end, Ipv4Addr::new(192, 168, 26, 100));
        assert_eq!(r.lease, None);
    }

    #[test]
    fn dnsmasq_form_with_lease_and_netmask() {
        let r = v4("192.168.26.20,192.168.26.100,12h");
        assert_eq!(r.end, Ipv4Addr::new(192, 168, 26, 100));
        assert_eq!(
            r.lease,
            Some(LeaseTime::Finite(Duration::from_secs(43_200)))
        );
        let r = v4("10.0.0.2,10.0.0.9,255.255.255.0,infinite");
        assert_eq!(r.netmask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(r.lease, Some(LeaseTime::Infinite));
        let r = v4("10.0.0.2,10.0.0.9,255.255.255.0,10.0.0.255");
        assert_eq!(r.lease, None);
    }

    #[test]
    fn set_tags_go_with_the_range() {
        let r = v4("set:lan,set:green,10.0.0.2,10.0.0.9,1h");
        assert_eq!(r.tags, vec![Tag("lan".into()), Tag("green".into())]);
        assert_eq!(r.start, Ipv4Addr::new(10, 0, 0, 2));
        assert!(v4("10.0.0.2-9").tags.is_empty());
        let e = parse_dhcp_range("set:v6,fd23::/64,ra-stateless").unwrap_err();
        assert!(e.reason.contains("IPv6"), "{e}");
    }

    #[test]
    fn a_static_range_names_its_subnet_only() {
        let r = v4("192.168.122.0,static,255.255.255.0,1h");
        assert!(r.static_only);
        assert_eq!((r.start, r.end), (Ipv4Addr::new(192, 168, 122, 0), r.start));
        assert_eq!(r.netmask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert!(!v4("10.0.0.2,10.0.0.9").static_only);
    }

    #[test]
    fn lease_times() {
        let secs = |s| match parse_lease_time(s).unwrap() {
            LeaseTime::Finite(d) => d.as_secs(),
            LeaseTime::Infinite => u64::MAX,
        };
        assert_eq!(secs("45m"), 2700);
        assert_eq!(secs("3600"), 3600);
        assert_eq!(secs("1d"), 86_400);
        assert_eq!(secs("30s"), 120);
        assert_eq!(secs("infinite"), u64::MAX);
        assert!(parse_lease_time("12x").is_err());
        assert!(parse_lease_time("h").is_err());
    }

    #[test]
    fn ipv6_forms_are_passed_on_and_errors_name_the_value() {
        assert!(matches!(
            parse_dhcp_range("fd23::/64,ra-stateless,ra-names").unwrap(),
            DhcpRange::V6(r) if r.ra_names
        ));
        let e = parse_dhcp_range("fd23::/64,ra-bogus").unwrap_err();
        assert!(e.to_string().contains("ra-bogus"), "{e}");
        let e = parse_dhcp_range("192.168.26.100-20").unwrap_err();
        assert!(e.to_string().contains("192.168.26.100-20"), "{e}");
        let e = parse_dhcp_range("tag:x,1.2.3.4,1.2.3.5").unwrap_err();
        assert!(e.reason.contains("tag:x"), "{e}");
        assert!(parse_dhcp_range("set:,1.2.3.4,1.2.3.5").is_err());
        // Found by fuzzing: tags and nothing else.
        let e = parse_dhcp_range("set:a:b").unwrap_err();
        assert!(e.reason.contains("no range"), "{e}");
        assert!(parse_dhcp_range("1.2.3.4,proxy").is_err());
        assert!(parse_dhcp_range("1.2.3.4,1.2.3.5,255.0.255.0").is_err());
    }
}
