//! Local DNS data options in dnsmasq's syntax: `--host-record`, `--cname`,
//! `--txt-record`, `--srv-host`, `--ptr-record`, `--mx-host`,
//! `--interface-name`, `--rev-server`. Each parser returns the reason alone;
//! the command-line parser adds the option, value and file line.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netd_proto::dns::config::{RouteTarget, ServerSpec};
use netd_proto::dns::records::check_name;
use netd_proto::dns::{RecordSpec, SrvTarget};
use netd_serve::dns::{Family, InterfaceName};

use super::dns_values::parse_upstream;

/// A name as the records keep it: lower-case, no trailing dot, valid.
fn name(s: &str) -> Result<String, String> {
    let n = s.trim().trim_end_matches('.').to_ascii_lowercase();
    if n.is_empty() {
        return Err("empty name".into());
    }
    check_name(&n).map_err(|e| e.to_string())?;
    Ok(n)
}

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a valid {what}"))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `NAME[,NAME...],[IPv4],[IPv6][,TTL]`.
pub fn host_record(s: &str) -> Result<RecordSpec, String> {
    let mut fields: Vec<&str> = s.split(',').map(str::trim).collect();
    let ttl = match fields.last() {
        Some(last) if fields.len() > 2 && is_number(last) => {
            let t = number::<u32>(last, "TTL")?;
            fields.pop();
            Some(t)
        }
        _ => None,
    };
    let (mut names, mut addrs) = (Vec::new(), Vec::<IpAddr>::new());
    for f in fields.into_iter().filter(|f| !f.is_empty()) {
        match f.parse::<IpAddr>() {
            Ok(a) if addrs.iter().any(|b| b.is_ipv4() == a.is_ipv4()) => {
                return Err(format!("a second {} address, {a}", family(a)));
            }
            Ok(a) => addrs.push(a),
            Err(_) if !addrs.is_empty() => {
                return Err(format!("{f:?} comes after the addresses: not a TTL"));
            }
            Err(_) => names.push(name(f)?),
        }
    }
    if names.is_empty() {
        return Err("no name given".into());
    }
    if addrs.is_empty() {
        return Err("no IPv4 or IPv6 address given".into());
    }
    Ok(RecordSpec::Host { names, addrs, ttl })
}

fn family(a: IpAddr) -> &'static str {
    if a.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// `ALIAS[,ALIAS...],TARGET[,TTL]`.
pub fn cname(s: &str) -> Result<RecordSpec, String> {
    let mut fields: Vec<&str> = s.split(',').map(str::trim).collect();
    let ttl = match fields.last() {
        Some(last) if is_number(last) => {
            let t = number::<u32>(last, "TTL")?;
            fields.pop();
            Some(t)
        }
        _ => None,
    };
    if fields.len() < 2 {
        return Err("expected ALIAS[,ALIAS...],TARGET[,TTL]".into());
    }
    let target = name(fields.pop().unwrap_or_default())?;
    let aliases = fields
        .into_iter()
        .map(name)
        .collect::<Result<Vec<_>, _>>()?;
    if aliases.contains(&target) {
        return Err(format!("{target} would be an alias of itself"));
    }
    Ok(RecordSpec::Cname {
        aliases,
        target,
        ttl,
    })
}

/// `NAME[,TEXT...]`: texts split at commas outside double quotes, quotes
/// removed, `\"` and `\\` unescaped; longer than 255 bytes, split in chunks.
pub fn txt_record(s: &str) -> Result<RecordSpec, String> {
    let (owner, rest) = match s.split_once(',') {
        Some((n, r)) => (n, Some(r)),
        None => (s, None),
    };
    let mut texts = Vec::new();
    if let Some(rest) = rest {
        let (mut cur, mut quoted, mut escaped) = (Vec::new(), false, false);
        for b in rest.bytes() {
            match b {
                _ if escaped => {
                    cur.push(b);
                    escaped = false;
                }
                b'\\' => escaped = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => texts.push(std::mem::take(&mut cur)),
                _ => cur.push(b),
            }
        }
        if quoted {
            return Err("a double quote is not closed".into());
        }
        texts.push(cur);
    }
    let texts: Vec<Vec<u8>> = texts
        .into_iter()
        .flat_map(|t| {
            if t.is_empty() {
                vec![t]
            } else {
                t.chunks(255).map(<[u8]>::to_vec).collect()
            }
        })
        .collect();
    Ok(RecordSpec::Txt {
        name: name(owner)?,
        texts: if texts.is_empty() {
            vec![Vec::new()]
        } else {
            texts
        },
    })
}

/// `_service._prot.[domain],[target[,port[,priority[,weight]]]]`. A name
/// without a domain gets `--domain`'s, when the settings are put together.
pub fn srv_host(s: &str) -> Result<RecordSpec, String> {
    let fields: Vec<&str> = s.split(',').map(str::trim).collect();
    if fields.len() > 5 {
        return Err("expected NAME,[TARGET[,PORT[,PRIORITY[,WEIGHT]]]]".into());
    }
    let owner = name(fields[0])?;
    let target = match fields.get(1).filter(|t| !t.is_empty()) {
        None => None,
        Some(host) => Some(SrvTarget {
            host: name(host)?,
            port: fields.get(2).map_or(Ok(1), |p| number(p, "port"))?,
            priority: fields.get(3).map_or(Ok(0), |p| number(p, "priority"))?,
            weight: fields.get(4).map_or(Ok(0), |p| number(p, "weight"))?,
        }),
    };
    Ok(RecordSpec::Srv {
        name: owner,
        target,
    })
}

/// `NAME[,TARGET]`.
pub fn ptr_record(s: &str) -> Result<RecordSpec, String> {
    let (owner, target) = match s.split_once(',') {
        Some((n, t)) => (n, Some(name(t)?)),
        None => (s, None),
    };
    Ok(RecordSpec::Ptr {
        name: name(owner)?,
        target,
    })
}

/// `NAME[[,HOST][,PREFERENCE]]`; no host: `--mx-target` or this host's
/// name, filled in when the settings are put together (an empty host
/// here). The preference defaults to 1.
pub fn mx_host(s: &str) -> Result<RecordSpec, String> {
    let fields: Vec<&str> = s.split(',').map(str::trim).collect();
    let owner = name(fields[0])?;
    let (host, pref) = match &fields[1..] {
        [] => (String::new(), None),
        [p] if is_number(p) => (String::new(), Some(*p)),
        [h] => (name(h)?, None),
        [h, p] => (name(h)?, Some(*p)),
        _ => return Err("expected NAME[,HOST][,PREFERENCE]".into()),
    };
    Ok(RecordSpec::Mx {
        name: owner,
        host,
        preference: pref.map_or(Ok(1), |p| number(p, "preference"))?,
    })
}

/// `--mx-target=HOST`.
pub fn mx_target(s: &str) -> Result<String, String> {
    name(s)
}

/// `NAME,INTERFACE[/4|/6]`.
pub fn interface_name(s: &str) -> Result<InterfaceName, String> {
    let (n, iface) = s.split_once(',').ok_or("expected NAME,INTERFACE[/4|/6]")?;
    let (iface, family) = match iface.trim().rsplit_once('/') {
        Some((i, "4")) => (i, Some(Family::V4)),
        Some((i, "6")) => (i, Some(Family::V6)),
        Some((_, f)) => return Err(format!("/{f}: only /4 or /6 may follow the interface")),
        None => (iface.trim(), None),
    };
    if iface.is_empty() || iface.len() > 15 || iface.contains(['/', ' ', ',']) {
        return Err(format!("{iface:?} is not an interface name"));
    }
    Ok(InterfaceName {
        name: name(n)?,
        interface: iface.to_owned(),
        family,
    })
}

/// `SUBNET[/LEN][,SERVER[#PORT]]`: `--server=/REVERSE-ZONE/SERVER`.
pub fn rev_server(s: &str) -> Result<ServerSpec, String> {
    let (net, server) = match s.split_once(',') {
        Some((n, srv)) => (n.trim(), Some(srv.trim())),
        None => (s.trim(), None),
    };
    let net: IpNetwork = net
        .parse()
        .map_err(|_| format!("{net:?} is not an address or subnet"))?;
    let zone = reverse_zone(net)?;
    let target = match server.filter(|s| !s.is_empty()) {
        Some(srv) => RouteTarget::Servers(vec![parse_upstream(srv)?]),
        None => RouteTarget::Local,
    };
    Ok(ServerSpec::Domains(vec![zone], target))
}

/// The reverse zone of a prefix; only whole octets (IPv4) or nibbles
/// (IPv6) name a zone.
fn reverse_zone(net: IpNetwork) -> Result<String, String> {
    let len = usize::from(net.prefix());
    match net.ip() {
        IpAddr::V4(v4) => {
            if len == 0 || len % 8 != 0 {
                return Err(format!(
                    "/{len}: only /8, /16, /24 or /32 name an in-addr.arpa zone"
                ));
            }
            let octets = v4.octets();
            let labels: Vec<String> = octets[..len / 8].iter().rev().map(u8::to_string).collect();
            Ok(format!("{}.in-addr.arpa", labels.join(".")))
        }
        IpAddr::V6(v6) => {
            if len == 0 || len % 4 != 0 {
                return Err(format!(
                    "/{len}: only a multiple of 4 names an ip6.arpa zone"
                ));
            }
            let hex = format!("{:032x}", u128::from(v6));
            let labels: Vec<String> = hex[..len / 4].chars().rev().map(String::from).collect();
            Ok(format!("{}.ip6.arpa", labels.join(".")))
        }
    }
}

/// Fills in what depends on other options: an `--srv-host` name of two
/// `_` labels gets `domain`; an `--mx-host` with no host gets `mx_default`
/// (`--mx-target`, else this host's name).
pub fn complete(spec: &mut RecordSpec, domain: Option<&str>, mx_default: Option<&str>) {
    match spec {
        RecordSpec::Srv { name, .. } => {
            let labels: Vec<&str> = name.split('.').collect();
            if let (true, Some(d)) = (
                labels.len() == 2 && labels.iter().all(|l| l.starts_with('_')),
                domain,
            ) {
                *name = format!("{name}.{}", d.trim_end_matches('.').to_ascii_lowercase());
            }
        }
        RecordSpec::Mx { host, .. } if host.is_empty() => {
            if let Some(h) = mx_default {
                *host = h.trim_end_matches('.').to_ascii_lowercase();
            }
        }
        _ => {}
    }
}

/// `--domain`: one domain. dnsmasq's `DOMAIN,SUBNET[,local]` and
/// `DOMAIN,INTERFACE` forms (a domain per subnet) are not supported.
pub fn domain(s: &str) -> Result<String, String> {
    if s.contains(',') {
        return Err(
            "a domain per address range or interface (DOMAIN,SUBNET[,local]) is not supported; \
             give the domain alone"
                .into(),
        );
    }
    let d = s.trim().trim_end_matches('.');
    if d.is_empty() {
        return Err("empty domain".into());
    }
    check_name(d).map_err(|e| e.to_string())?;
    Ok(s.trim().to_owned())
}

#[cfg(test)]
mod tests;
