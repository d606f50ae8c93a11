//! The doctor's checks, one function each: facts in, the findings of that
//! one concern out. [`ALL`] is the order the findings are reported in.

use std::net::IpAddr;

use super::{Facts, Finding, OurTable, Severity};
use crate::config::{BridgeConfig, Inbound};
use crate::nft::{self, inspect::HOOK_FORWARD};
use crate::sysctl::{accept_ra_key, forwarding_keys};

/// One check of the host.
pub type Check = fn(&BridgeConfig, &Facts) -> Vec<Finding>;

/// Every check, in report order: the bridge, the sysctls, the firewalls,
/// our table, the service ports; then the inbound policy in force.
pub const ALL: &[Check] = &[
    bridge_exists,
    bridge_up,
    bridge_address,
    forwarding,
    rp_filter,
    accept_ra_trap,
    firewalld,
    forward_drop_policy,
    forward_drop_rules,
    iptables_legacy,
    our_table,
    port_conflicts,
    inbound_policy,
];

fn sysctl<'a>(facts: &'a Facts, key: &str) -> Option<&'a str> {
    facts
        .sysctls
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_deref())
}

/// The bridge exists and is a bridge.
pub fn bridge_exists(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    match &facts.bridge {
        None => vec![Finding {
            id: "bridge-missing",
            severity: Severity::Error,
            message: format!("there is no interface {br}"),
            fix: format!("nspawn-netd up --bridge {br} --no-daemon"),
        }],
        Some(link) if link.kind.as_deref() != Some("bridge") => vec![Finding {
            id: "bridge-not-a-bridge",
            severity: Severity::Error,
            message: format!("{br} exists but is not a bridge"),
            fix: format!("ip link delete {br}   # then: nspawn-netd up --bridge {br}"),
        }],
        Some(_) => vec![],
    }
}

/// The bridge (when it is one) is up.
pub fn bridge_up(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    match &facts.bridge {
        Some(link) if link.kind.as_deref() == Some("bridge") && !link.up => vec![Finding {
            id: "bridge-down",
            severity: Severity::Error,
            message: format!("{br} is down"),
            fix: format!("ip link set {br} up"),
        }],
        _ => vec![],
    }
}

/// The bridge (when it is one) holds its IPv4 address: the containers'
/// gateway, DNS and DHCP server.
pub fn bridge_address(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    match &facts.bridge {
        Some(link)
            if link.kind.as_deref() == Some("bridge")
                && !link
                    .addresses
                    .iter()
                    .any(|a| a.ip() == IpAddr::V4(cfg.ipv4.ip())) =>
        {
            vec![Finding {
                id: "bridge-address-missing",
                severity: Severity::Error,
                message: format!("{br} does not have {}", cfg.ipv4),
                fix: format!("ip address add {} dev {br}", cfg.ipv4),
            }]
        }
        _ => vec![],
    }
}

/// `conf/all/forwarding` is on for each family in use.
pub fn forwarding(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    forwarding_keys(cfg.ipv6.is_some())
        .iter()
        .filter(|k| k.contains("/all/") && sysctl(facts, k) != Some("1"))
        .map(|key| Finding {
            id: "forwarding-off",
            severity: Severity::Error,
            message: format!(
                "{} is {}: the host does not route the containers' traffic",
                key.replace('/', "."),
                sysctl(facts, key).unwrap_or("unreadable")
            ),
            fix: format!("sysctl -w {}=1", key.replace('/', ".")),
        })
        .collect()
}

/// Strict reverse-path filtering (1) on the bridge: the effective value is
/// the larger of `all` and the bridge's own.
pub fn rp_filter(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    let rp = |k: &str| {
        sysctl(facts, k)
            .and_then(|v| v.parse::<u8>().ok())
            .unwrap_or(0)
    };
    let rp_key = format!("net/ipv4/conf/{br}/rp_filter");
    if rp("net/ipv4/conf/all/rp_filter").max(rp(&rp_key)) != 1 {
        return vec![];
    }
    vec![Finding {
        id: "rp-filter-strict",
        severity: Severity::Warning,
        message: format!(
            "strict reverse-path filtering applies to {br} (rp_filter=1): asymmetric container traffic is dropped"
        ),
        fix: format!("sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{br}.rp_filter=2"),
    }]
}

/// IPv6 forwarding on while an uplink with an RA-learned default route
/// still has `accept_ra=1`: the kernel stops listening to its router.
pub fn accept_ra_trap(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    if cfg.ipv6.is_none() || sysctl(facts, "net/ipv6/conf/all/forwarding") != Some("1") {
        return vec![];
    }
    facts
        .ra_uplinks
        .iter()
        .filter(|(_, accept_ra)| accept_ra.as_deref() == Some("1"))
        .map(|(iface, _)| Finding {
            id: "accept-ra-trap",
            severity: Severity::Error,
            message: format!(
                "IPv6 forwarding is on and {iface} has accept_ra=1: the kernel ignores its router advertisements and its RA-learned default route will expire"
            ),
            fix: format!("sysctl -w {}=2", accept_ra_key(iface).replace('/', ".")),
        })
        .collect()
}

/// firewalld runs: its reloads and zones fight other tables.
pub fn firewalld(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    if !facts.firewalld {
        return vec![];
    }
    vec![Finding {
        id: "firewalld",
        severity: Severity::Warning,
        message: "firewalld is running: its reloads remove other tables' rules and its zones may drop forwarded traffic".into(),
        fix: format!(
            "firewall-cmd --permanent --zone=trusted --add-interface={} && firewall-cmd --reload",
            cfg.name
        ),
    }]
}

/// A forward base chain of another table whose policy is drop: our
/// accepts cannot override it.
pub fn forward_drop_policy(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    facts
        .base_chains
        .iter()
        .filter(|c| c.hook == HOOK_FORWARD && c.policy == "drop" && !nft::is_ours(&c.family, &c.table))
        .map(|c| Finding {
            id: "forward-drop-policy",
            severity: Severity::Error,
            message: format!(
                "the forward chain {} {} {} drops by default; an accept in our table cannot override another table's drop, so traffic to and from {br} is dropped",
                c.family, c.table, c.chain
            ),
            fix: if c.family == "ip" && c.table == "filter" {
                format!(
                    "iptables -I FORWARD -i {br} -j ACCEPT && iptables -I FORWARD -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
                )
            } else {
                format!(
                    "nft insert rule {} {} {} iifname \"{br}\" accept && nft insert rule {} {} {} oifname \"{br}\" ct state established,related accept",
                    c.family, c.table, c.chain, c.family, c.table, c.chain
                )
            },
        })
        .collect()
}

/// Drop or reject rules in other tables' forward chains: they may match
/// the bridge's traffic.
pub fn forward_drop_rules(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    facts
        .drop_rules
        .iter()
        .filter(|r| !nft::is_ours(&r.family, &r.table))
        .map(|r| Finding {
            id: "forward-drop-rule",
            severity: Severity::Warning,
            message: format!(
                "rule {} in the forward chain {} {} {} drops or rejects packets; check that it does not match {}'s traffic",
                r.handle, r.family, r.table, r.chain, cfg.name
            ),
            fix: format!(
                "nft -a list chain {} {} {}   # then: nft delete rule {} {} {} handle {}",
                r.family, r.table, r.chain, r.family, r.table, r.chain, r.handle
            ),
        })
        .collect()
}

/// Tables of the legacy iptables backend, which nf_tables does not show.
pub fn iptables_legacy(_cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    if facts.legacy_tables.is_empty() {
        return vec![];
    }
    vec![Finding {
        id: "iptables-legacy",
        severity: Severity::Warning,
        message: format!(
            "legacy iptables tables are loaded ({}); their rules are not visible here and a FORWARD drop there overrides our accepts",
            facts.legacy_tables.join(", ")
        ),
        fix: "iptables-legacy -S FORWARD; ip6tables-legacy -S FORWARD   # look for -P FORWARD DROP or DROP rules".into(),
    }]
}

/// Our table is there and whole (or the ruleset could not be read).
pub fn our_table(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    match (&facts.nft_error, facts.our_table) {
        (Some(e), _) => vec![Finding {
            id: "nftables-unreadable",
            severity: Severity::Warning,
            message: format!("could not read the nf_tables ruleset: {e}"),
            fix: "run nspawn-netd doctor as root".into(),
        }],
        (None, Some(OurTable::MissingOrAltered) | None) => vec![Finding {
            id: "our-table-missing",
            severity: Severity::Error,
            message: format!(
                "the table inet {} is missing or altered: no NAT for the containers",
                nft::table_name(br)
            ),
            fix: format!("nspawn-netd up --bridge {br} --no-daemon"),
        }],
        (None, Some(OurTable::Whole(_))) => vec![],
    }
}

/// Another program listens on DNS, DHCP or DHCPv6 where the daemon must.
pub fn port_conflicts(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    let ours: Vec<IpAddr> = std::iter::once(IpAddr::V4(cfg.ipv4.ip()))
        .chain(cfg.ipv6.map(|n| IpAddr::V6(n.ip())))
        .collect();
    let mut out = Vec::new();
    for l in &facts.listeners {
        let is_ours = l
            .process
            .as_deref()
            .is_some_and(|p| p.ends_with("/nspawn-netd"));
        if is_ours || !(l.addr.is_unspecified() || ours.contains(&l.addr)) {
            continue;
        }
        let who = l
            .process
            .clone()
            .unwrap_or_else(|| "an unknown process".into());
        let what = match l.port {
            53 => "DNS",
            67 => "DHCP",
            _ => "DHCPv6",
        };
        out.push(Finding {
            id: "port-conflict",
            severity: Severity::Error,
            message: format!(
                "{who} already listens on {}/{} port {} ({what}): nspawn-netd cannot serve {br}",
                l.addr, l.proto, l.port
            ),
            fix: match &l.process {
                Some(p) => format!(
                    "kill {}   # or make it bind elsewhere (dnsmasq: --except-interface={br} --bind-interfaces)",
                    p.split('/').next().unwrap_or(p)
                ),
                None => format!("ss -lunpt 'sport = :{}'   # find and stop it", l.port),
            },
        });
    }
    out
}

/// Which inbound policy the bridge's whole table enforces, and what it
/// means: not a problem either way, but nobody should have to read the
/// rules to know whether the containers are reachable from outside.
pub fn inbound_policy(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let br = &cfg.name;
    let rs = cfg.ruleset();
    let nets = match rs.ipv6 {
        Some(v6) => format!("{} and {v6}", rs.ipv4),
        None => rs.ipv4.to_string(),
    };
    match facts.our_table {
        Some(OurTable::Whole(Inbound::Drop)) => vec![Finding {
            id: "inbound-dropped",
            severity: Severity::Info,
            message: format!(
                "new connections from outside into {br} are dropped (the default): containers reach out through NAT and get their replies, and this host and the containers on {br} reach them, but other hosts (even ones that route {nets} here), port forwards (DNAT) and containers on other bridges cannot connect to them"
            ),
            fix: format!(
                "nspawn-netd up --bridge {br} --allow-inbound   # if you route to the containers or forward ports to them"
            ),
        }],
        Some(OurTable::Whole(Inbound::Allow)) => vec![Finding {
            id: "inbound-allowed",
            severity: Severity::Info,
            message: format!(
                "new connections into {br} are accepted (up --allow-inbound): any host that can route to {nets} reaches every listening port of every container; only the containers' own firewalls (or another table's rules) stand in the way"
            ),
            fix: format!(
                "nspawn-netd up --bridge {br}   # without --allow-inbound: drop new connections from outside"
            ),
        }],
        _ => vec![],
    }
}
