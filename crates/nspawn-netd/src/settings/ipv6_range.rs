//! IPv6 `--dhcp-range` values and `--ra-param`.
//!
//! Accepted ranges (dnsmasq's syntax, plus the `PREFIX/LEN` form):
//! - `fd23::/64,ra-stateless,ra-names`, `fd23::,ra-stateless,ra-names`,
//!   `fd23::,ra-only,64,12h`;
//! - `::,constructor:nat0,ra-stateless`: the prefix is taken from the
//!   interface's global addresses of that length (64 unless given).
//!
//! Modes: `ra-only` (RA, no DHCPv6), `ra-stateless` (RA with O=1 and the
//! stateless DHCPv6 server), `slaac` (the same: nspawn-netd has no
//! stateful DHCPv6, so only the SLAAC half of dnsmasq's `slaac` applies);
//! `ra-names` adds the containers' IPv6 addresses to DNS. Stateful ranges
//! (an end address), tags and the other modes are errors naming them.

use std::net::Ipv6Addr;
use std::time::Duration;

use ipnetwork::Ipv6Network;
use netd_proto::dhcp4::LeaseTime;
use netd_proto::ra::RouterPreference;
use thiserror::Error;

use super::dhcp_range::parse_lease_time;
pub use netd_serve::ra::{Ipv6Mode, Ipv6Range, PrefixSpec, RaParam};

#[derive(Debug, Error, PartialEq, Eq)]
#[error("{option}={value}: {reason}")]
pub struct Ipv6OptionError {
    pub option: &'static str,
    pub value: String,
    pub reason: String,
}

pub fn parse_ipv6_range(value: &str) -> Result<Ipv6Range, Ipv6OptionError> {
    let err = |reason: String| Ipv6OptionError {
        option: "--dhcp-range",
        value: value.to_owned(),
        reason,
    };
    let fields: Vec<&str> = value.split(',').map(str::trim).collect();
    let (first, rest) = fields.split_first().ok_or_else(|| err("empty".into()))?;
    let (start, slash_len) = parse_start(first).map_err(&err)?;
    let m = parse_modifiers(rest, slash_len).map_err(&err)?;
    let mode = m.mode.ok_or_else(|| {
        err("give ra-only, ra-stateless or slaac (stateful DHCPv6 is not supported)".into())
    })?;
    let prefix = prefix_spec(start, m.constructor, m.len.unwrap_or(64)).map_err(&err)?;
    Ok(Ipv6Range {
        prefix,
        mode,
        ra_names: m.ra_names,
        lease: m.lease,
    })
}

/// `ADDR` or `ADDR/LEN`.
fn parse_start(first: &str) -> Result<(Ipv6Addr, Option<u8>), String> {
    let (start, len) = match first.split_once('/') {
        Some((a, l)) => {
            let len = l
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= 128)
                .ok_or_else(|| format!("{l:?} is not a prefix length"))?;
            (a, Some(len))
        }
        None => (first, None),
    };
    let start = start
        .parse()
        .map_err(|_| format!("{start:?} is not an IPv6 address"))?;
    Ok((start, len))
}

/// What the fields after the start address say.
#[derive(Debug, Default)]
struct Modifiers {
    mode: Option<Ipv6Mode>,
    ra_names: bool,
    constructor: Option<String>,
    len: Option<u8>,
    lease: Option<LeaseTime>,
}

fn parse_modifiers(rest: &[&str], slash_len: Option<u8>) -> Result<Modifiers, String> {
    let mut m = Modifiers {
        len: slash_len,
        ..Modifiers::default()
    };
    for f in rest {
        let mut set_mode = |new| match m.mode.replace(new) {
            Some(old) if old != new => Err(format!("{f} conflicts with an earlier mode")),
            _ => Ok(()),
        };
        match *f {
            "ra-only" => set_mode(Ipv6Mode::RaOnly)?,
            "ra-stateless" => set_mode(Ipv6Mode::RaStateless)?,
            "slaac" => set_mode(Ipv6Mode::Slaac)?,
            "ra-names" => m.ra_names = true,
            f if f.starts_with("constructor:") => {
                m.constructor = Some(f["constructor:".len()..].to_owned());
            }
            f if f.starts_with("tag:") || f.starts_with("set:") => {
                return Err(format!("tags ({f}) are not supported"));
            }
            "ra-advrouter" | "off-link" | "static" | "proxy" => {
                return Err(format!("mode {f} is not supported"));
            }
            f if f.parse::<Ipv6Addr>().is_ok() => {
                return Err(format!(
                    "stateful DHCPv6 address ranges (end {f}) are not supported; use ra-stateless"
                ));
            }
            f if f.bytes().all(|b| b.is_ascii_digit()) && m.len.is_none() && m.lease.is_none() => {
                // dnsmasq: a bare number is the prefix length if <= 128.
                match f.parse::<u8>() {
                    Ok(l) if l <= 128 => m.len = Some(l),
                    _ => m.lease = Some(parse_lease_time(f)?),
                }
            }
            f => {
                m.lease = Some(parse_lease_time(f).map_err(|_| format!("{f:?} is not supported"))?)
            }
        }
    }
    Ok(m)
}

/// The advertised prefix: from `constructor:IFACE`, or `start/len`.
fn prefix_spec(
    start: Ipv6Addr,
    constructor: Option<String>,
    len: u8,
) -> Result<PrefixSpec, String> {
    match constructor {
        Some(iface) => {
            if !start.is_unspecified() {
                return Err(format!(
                    "with constructor:, give :: as the start address (got {start})"
                ));
            }
            Ok(PrefixSpec::Constructor { iface, len })
        }
        None => {
            if start.is_unspecified() || start.is_multicast() || start.is_unicast_link_local() {
                return Err(format!("{start} cannot be advertised as a prefix"));
            }
            let net = Ipv6Network::new(start, len).map_err(|e| e.to_string())?;
            Ok(PrefixSpec::Fixed(
                Ipv6Network::new(net.network(), len).map_err(|e| e.to_string())?,
            ))
        }
    }
}

/// MaxRtrAdvInterval when `--ra-param` gives 0 (dnsmasq's default).
const DEFAULT_RA_INTERVAL: u32 = 600;

pub fn parse_ra_param(value: &str) -> Result<RaParam, Ipv6OptionError> {
    let err = |reason: String| Ipv6OptionError {
        option: "--ra-param",
        value: value.to_owned(),
        reason,
    };
    let fields: Vec<&str> = value.split(',').map(str::trim).collect();
    let (iface, mut rest) = match fields.split_first() {
        Some((i, r)) if !i.is_empty() => (i.to_string(), r),
        _ => return Err(err("expected IF,[high|low,]INTERVAL[,LIFETIME]".into())),
    };
    let mut mtu = None;
    if let Some(m) = rest.first().and_then(|f| f.strip_prefix("mtu:")) {
        mtu = Some(match m {
            "off" => None,
            n => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1280)
                    .ok_or_else(|| {
                        err(format!(
                            "mtu:{n} is not supported (a number >= 1280 or off)"
                        ))
                    })?,
            ),
        });
        rest = &rest[1..];
    }
    let mut preference = None;
    match rest.first() {
        Some(&"high") => preference = Some(RouterPreference::High),
        Some(&"low") => preference = Some(RouterPreference::Low),
        _ => {}
    }
    if preference.is_some() {
        rest = &rest[1..];
    }
    let number = |f: &str, what: &str, range: std::ops::RangeInclusive<u32>| {
        f.parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                err(format!(
                    "{what} {f:?} must be a number of seconds in {range:?}"
                ))
            })
    };
    // An interval of 0 is the default (libvirt writes `*,0,0` for an
    // isolated network: default interval, router lifetime 0).
    let interval = |f: &str| match f {
        "0" => Ok(DEFAULT_RA_INTERVAL),
        f => number(f, "interval", 4..=1800),
    };
    let (interval, lifetime) = match rest {
        [i] => (interval(i)?, None),
        [i, l] => (
            interval(i)?,
            Some(number(l, "router lifetime", 0..=9000)? as u16),
        ),
        _ => return Err(err("expected IF,[high|low,]INTERVAL[,LIFETIME]".into())),
    };
    Ok(RaParam {
        iface,
        mtu,
        preference,
        interval: Duration::from_secs(interval.into()),
        router_lifetime: lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(s: &str) -> Ipv6Network {
        s.parse().unwrap()
    }

    #[test]
    fn the_seed_form_and_dnsmasq_forms() {
        let r = parse_ipv6_range("fd23::/64,ra-stateless,ra-names").unwrap();
        assert_eq!(r.prefix, PrefixSpec::Fixed(fixed("fd23::/64")));
        assert_eq!(r.mode, Ipv6Mode::RaStateless);
        assert!(r.ra_names && r.mode.dhcpv6());
        assert_eq!(parse_ipv6_range("fd23::,ra-stateless,ra-names").unwrap(), r);
        let r = parse_ipv6_range("::,constructor:nat0,ra-stateless").unwrap();
        assert_eq!(
            r.prefix,
            PrefixSpec::Constructor {
                iface: "nat0".into(),
                len: 64
            }
        );
        assert!(!r.ra_names);
        let r = parse_ipv6_range("fd23:0:0:5::7,ra-only,64,12h").unwrap();
        assert_eq!(r.prefix, PrefixSpec::Fixed(fixed("fd23:0:0:5::/64")));
        assert_eq!(r.mode, Ipv6Mode::RaOnly);
        assert!(!r.mode.dhcpv6());
        assert_eq!(
            r.lease,
            Some(LeaseTime::Finite(Duration::from_secs(43_200)))
        );
        let r = parse_ipv6_range("fd23::,slaac,1d").unwrap();
        assert_eq!(r.mode, Ipv6Mode::Slaac);
        assert_eq!(
            r.lease,
            Some(LeaseTime::Finite(Duration::from_secs(86_400)))
        );
    }

    #[test]
    fn unsupported_things_are_named() {
        for (value, needle) in [
            ("fd23::10,fd23::ff,12h", "stateful"),
            ("fd23::,ra-advrouter", "ra-advrouter"),
            ("fd23::,off-link,ra-only", "off-link"),
            ("tag:x,fd23::,ra-only", "\"tag:x\""),
            ("fd23::,ra-names", "ra-only, ra-stateless or slaac"),
            ("fd23::,ra-only,bogus", "bogus"),
            ("fd23::,ra-only,slaac", "conflicts"),
            ("fe80::,ra-only", "cannot be advertised"),
            ("fd23::1,constructor:nat0,ra-only", "::"),
            ("fd23::/129,ra-only", "prefix length"),
        ] {
            let e = parse_ipv6_range(value).unwrap_err().to_string();
            assert!(e.contains(value) && e.contains(needle), "{value}: {e}");
        }
    }

    #[test]
    fn ra_param_forms() {
        let p = parse_ra_param("nat0,60").unwrap();
        assert_eq!(p.interval, Duration::from_secs(60));
        assert_eq!((p.preference, p.router_lifetime, p.mtu), (None, None, None));
        let p = parse_ra_param("nat0,mtu:1400,high,30,1200").unwrap();
        assert_eq!(p.mtu, Some(Some(1400)));
        assert_eq!(p.preference, Some(RouterPreference::High));
        assert_eq!(p.router_lifetime, Some(1200));
        assert_eq!(
            parse_ra_param("nat0,mtu:off,low,10,0").unwrap().mtu,
            Some(None)
        );
        // libvirt's isolated networks: the default interval, no default
        // router.
        let p = parse_ra_param("*,0,0").unwrap();
        assert_eq!(p.iface, "*");
        assert_eq!(p.interval, Duration::from_secs(600));
        assert_eq!(p.router_lifetime, Some(0));
        for bad in [
            "nat0",
            "nat0,2",
            "nat0,60,99999",
            "nat0,mtu:eth0,60",
            ",60",
            "nat0,60,1,2",
        ] {
            let e = parse_ra_param(bad).unwrap_err().to_string();
            assert!(e.contains("--ra-param") && e.contains(bad), "{e}");
        }
    }
}
