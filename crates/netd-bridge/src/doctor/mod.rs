//! `doctor`: finds what keeps containers on the bridge from getting
//! addresses, DNS or internet, and says how to fix each. [`gather`] reads
//! the host (netlink, `/proc`); [`diagnose`] is pure: facts in, findings out.
//!
//! It reads only nf_tables (iptables-nft rules included); rules loaded with
//! the legacy iptables backend are not seen.

pub mod ports;

use std::net::IpAddr;

use serde::Serialize;

use crate::config::BridgeConfig;
use crate::link::Links;
use crate::nft::inspect::{BaseChainInfo, DropRule, HOOK_FORWARD};
use crate::nft::{self, NfSocket};
use crate::plan::ObservedLink;
use crate::sysctl::{Sysctls, accept_ra_key, forwarding_keys};
use ports::Listener;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Containers will not work as expected.
    Error,
    /// Might break things, depending on traffic.
    Warning,
}

/// One problem, explained, with the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `forward-drop-policy`.
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
}

/// What the doctor looked at.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub bridge: Option<ObservedLink>,
    /// Sysctl key → value for the forwarding keys and `rp_filter`.
    pub sysctls: Vec<(String, Option<String>)>,
    /// Interfaces with an RA-learned default route and their `accept_ra`.
    pub ra_uplinks: Vec<(String, Option<String>)>,
    pub firewalld: bool,
    pub base_chains: Vec<BaseChainInfo>,
    pub drop_rules: Vec<DropRule>,
    /// Our table: `Some(true)` whole, `Some(false)` missing or altered.
    pub our_table_intact: Option<bool>,
    /// Why the ruleset could not be read, if it could not.
    pub nft_error: Option<String>,
    /// Tables of the legacy iptables backend (`/proc/net/ip{,6}_tables_names`),
    /// whose rules nf_tables does not show.
    pub legacy_tables: Vec<String>,
    pub listeners: Vec<Listener>,
}

fn sysctl<'a>(facts: &'a Facts, key: &str) -> Option<&'a str> {
    facts
        .sysctls
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_deref())
}

/// Turns facts into findings.
pub fn diagnose(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    let br = &cfg.name;
    match &facts.bridge {
        None => out.push(Finding {
            id: "bridge-missing",
            severity: Severity::Error,
            message: format!("there is no interface {br}"),
            fix: format!("nspawn-netd up --bridge {br} --no-daemon"),
        }),
        Some(link) if link.kind.as_deref() != Some("bridge") => out.push(Finding {
            id: "bridge-not-a-bridge",
            severity: Severity::Error,
            message: format!("{br} exists but is not a bridge"),
            fix: format!("ip link delete {br}   # then: nspawn-netd up --bridge {br}"),
        }),
        Some(link) => {
            if !link.up {
                out.push(Finding {
                    id: "bridge-down",
                    severity: Severity::Error,
                    message: format!("{br} is down"),
                    fix: format!("ip link set {br} up"),
                });
            }
            if !link
                .addresses
                .iter()
                .any(|a| a.ip() == IpAddr::V4(cfg.ipv4.ip()))
            {
                out.push(Finding {
                    id: "bridge-address-missing",
                    severity: Severity::Error,
                    message: format!("{br} does not have {}", cfg.ipv4),
                    fix: format!("ip address add {} dev {br}", cfg.ipv4),
                });
            }
        }
    }
    for key in forwarding_keys(cfg.ipv6.is_some())
        .iter()
        .filter(|k| k.contains("/all/"))
    {
        if sysctl(facts, key) != Some("1") {
            out.push(Finding {
                id: "forwarding-off",
                severity: Severity::Error,
                message: format!(
                    "{} is {}: the host does not route the containers' traffic",
                    key.replace('/', "."),
                    sysctl(facts, key).unwrap_or("unreadable")
                ),
                fix: format!("sysctl -w {}=1", key.replace('/', ".")),
            });
        }
    }
    let rp = |k: &str| {
        sysctl(facts, k)
            .and_then(|v| v.parse::<u8>().ok())
            .unwrap_or(0)
    };
    let rp_key = format!("net/ipv4/conf/{br}/rp_filter");
    if rp("net/ipv4/conf/all/rp_filter").max(rp(&rp_key)) == 1 {
        out.push(Finding {
            id: "rp-filter-strict",
            severity: Severity::Warning,
            message: format!("strict reverse-path filtering applies to {br} (rp_filter=1): asymmetric container traffic is dropped"),
            fix: format!("sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{br}.rp_filter=2"),
        });
    }
    if cfg.ipv6.is_some() && sysctl(facts, "net/ipv6/conf/all/forwarding") == Some("1") {
        for (iface, accept_ra) in &facts.ra_uplinks {
            if accept_ra.as_deref() == Some("1") {
                out.push(Finding {
                    id: "accept-ra-trap",
                    severity: Severity::Error,
                    message: format!("IPv6 forwarding is on and {iface} has accept_ra=1: the kernel ignores its router advertisements and its RA-learned default route will expire"),
                    fix: format!("sysctl -w {}=2", accept_ra_key(iface).replace('/', ".")),
                });
            }
        }
    }
    if facts.firewalld {
        out.push(Finding {
            id: "firewalld",
            severity: Severity::Warning,
            message: "firewalld is running: its reloads remove other tables' rules and its zones may drop forwarded traffic".into(),
            fix: format!("firewall-cmd --permanent --zone=trusted --add-interface={br} && firewall-cmd --reload"),
        });
    }
    for c in &facts.base_chains {
        if c.hook == HOOK_FORWARD && c.policy == "drop" && c.table != nft::TABLE_NAME {
            out.push(Finding {
                id: "forward-drop-policy",
                severity: Severity::Error,
                message: format!("the forward chain {} {} {} drops by default; an accept in our table cannot override another table's drop, so traffic to and from {br} is dropped", c.family, c.table, c.chain),
                fix: if c.family == "ip" && c.table == "filter" {
                    format!("iptables -I FORWARD -i {br} -j ACCEPT && iptables -I FORWARD -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
                } else {
                    format!("nft insert rule {} {} {} iifname \"{br}\" accept && nft insert rule {} {} {} oifname \"{br}\" ct state established,related accept", c.family, c.table, c.chain, c.family, c.table, c.chain)
                },
            });
        }
    }
    for r in &facts.drop_rules {
        if r.table == nft::TABLE_NAME {
            continue;
        }
        out.push(Finding {
            id: "forward-drop-rule",
            severity: Severity::Warning,
            message: format!("rule {} in the forward chain {} {} {} drops or rejects packets; check that it does not match {br}'s traffic", r.handle, r.family, r.table, r.chain),
            fix: format!("nft -a list chain {} {} {}   # then: nft delete rule {} {} {} handle {}", r.family, r.table, r.chain, r.family, r.table, r.chain, r.handle),
        });
    }
    if !facts.legacy_tables.is_empty() {
        out.push(Finding {
            id: "iptables-legacy",
            severity: Severity::Warning,
            message: format!(
                "legacy iptables tables are loaded ({}); their rules are not visible here and a FORWARD drop there overrides our accepts",
                facts.legacy_tables.join(", ")
            ),
            fix: "iptables-legacy -S FORWARD; ip6tables-legacy -S FORWARD   # look for -P FORWARD DROP or DROP rules".into(),
        });
    }
    match (&facts.nft_error, facts.our_table_intact) {
        (Some(e), _) => out.push(Finding {
            id: "nftables-unreadable",
            severity: Severity::Warning,
            message: format!("could not read the nf_tables ruleset: {e}"),
            fix: "run nspawn-netd doctor as root".into(),
        }),
        (None, Some(false)) | (None, None) => out.push(Finding {
            id: "our-table-missing",
            severity: Severity::Error,
            message: format!(
                "the table inet {} is missing or altered: no NAT for the containers",
                nft::TABLE_NAME
            ),
            fix: format!("nspawn-netd up --bridge {br} --no-daemon"),
        }),
        (None, Some(true)) => {}
    }
    let ours: Vec<IpAddr> = std::iter::once(IpAddr::V4(cfg.ipv4.ip()))
        .chain(cfg.ipv6.map(|n| IpAddr::V6(n.ip())))
        .collect();
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
            message: format!("{who} already listens on {}/{} port {} ({what}): nspawn-netd cannot serve {br}", l.addr, l.proto, l.port),
            fix: match &l.process {
                Some(p) => format!("kill {}   # or make it bind elsewhere (dnsmasq: --except-interface={br} --bind-interfaces)", p.split('/').next().unwrap_or(p)),
                None => format!("ss -lunpt 'sport = :{}'   # find and stop it", l.port),
            },
        });
    }
    out
}

/// Reads the facts from the calling thread's network namespace.
pub async fn gather(cfg: &BridgeConfig, sysctls: &Sysctls) -> Facts {
    let mut facts = Facts::default();
    if let Ok(links) = Links::connect() {
        facts.bridge = links.observe(&cfg.name).await.ok().flatten();
        if let Ok(ifaces) = links.ra_default_route_ifaces().await {
            facts.ra_uplinks = ifaces
                .into_iter()
                .map(|i| {
                    let v = sysctls.read(&accept_ra_key(&i));
                    (i, v)
                })
                .collect();
        }
    }
    let mut keys = forwarding_keys(true);
    keys.push("net/ipv4/conf/all/rp_filter".into());
    keys.push(format!("net/ipv4/conf/{}/rp_filter", cfg.name));
    facts.sysctls = keys
        .into_iter()
        .map(|k| {
            let v = sysctls.read(&k);
            (k, v)
        })
        .collect();
    facts.firewalld = process_running("firewalld");
    let ruleset = cfg.ruleset();
    let nft_facts = tokio::task::spawn_blocking(move || -> Result<_, crate::Error> {
        let mut sock = NfSocket::open()?;
        let chains = nft::inspect::base_chains(&mut sock)?;
        let forward: Vec<_> = chains
            .iter()
            .filter(|c| c.hook == HOOK_FORWARD)
            .cloned()
            .collect();
        let drops = nft::inspect::drop_rules(&mut sock, &forward)?;
        let intact = nft::intact(&mut sock, &ruleset)?;
        Ok((chains, drops, intact))
    })
    .await;
    match nft_facts {
        Ok(Ok((chains, drops, intact))) => {
            facts.base_chains = chains;
            facts.drop_rules = drops;
            facts.our_table_intact = Some(intact);
        }
        Ok(Err(e)) => facts.nft_error = Some(e.to_string()),
        Err(e) => facts.nft_error = Some(e.to_string()),
    }
    facts.listeners = ports::listeners(&[53, 67, 547], &[53]);
    facts.legacy_tables = legacy_tables();
    facts
}

/// `ip:filter`, `ip6:nat`, … for every table loaded by the legacy iptables
/// backend in this namespace.
fn legacy_tables() -> Vec<String> {
    let mut out = Vec::new();
    for (family, file) in [
        ("ip", "/proc/net/ip_tables_names"),
        ("ip6", "/proc/net/ip6_tables_names"),
    ] {
        if let Ok(text) = std::fs::read_to_string(file) {
            out.extend(text.split_whitespace().map(|t| format!("{family}:{t}")));
        }
    }
    out
}

/// True when a process whose `comm` is `name` runs.
fn process_running(name: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten()
        .any(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

/// The findings for a person: one block each, or a line saying all is well.
pub fn render_human(cfg: &BridgeConfig, findings: &[Finding]) -> String {
    if findings.is_empty() {
        return format!("{}: no problems found\n", cfg.name);
    }
    let mut s = String::new();
    for f in findings {
        let tag = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        s.push_str(&format!(
            "{tag} [{}]: {}\n    fix: {}\n",
            f.id, f.message, f.fix
        ));
    }
    s
}

#[cfg(test)]
mod tests;
