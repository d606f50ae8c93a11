//! `doctor`: finds what keeps containers on the bridge from getting
//! addresses, DNS or internet, and says how to fix each. [`gather`] reads
//! the host (netlink, `/proc`); [`diagnose`] is pure: facts in, findings out.
//!
//! Besides problems it reports, as `info`, which inbound policy the
//! bridge's table enforces, so nobody has to read the rules to know
//! whether the containers can be reached from outside.
//!
//! It reads only nf_tables (iptables-nft rules included); rules loaded with
//! the legacy iptables backend are not seen.

pub mod checks;
pub mod ports;

use serde::Serialize;

use crate::config::{BridgeConfig, Inbound};
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
    /// Not a problem: how things are set up, and how to change it.
    Info,
}

/// One problem (or one fact worth knowing), explained, with the command
/// that fixes (or changes) it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `forward-drop-policy`.
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
}

/// The bridge's nf_tables table, compared with what `up` makes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OurTable {
    /// Exactly what `up` makes, with this inbound policy.
    Whole(Inbound),
    /// Missing, or not what `up` would make for this bridge in either
    /// policy (a rule removed, other addresses).
    MissingOrAltered,
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
    /// The bridge's table as found; `None` when the ruleset could not be
    /// read (`nft_error` says why).
    pub our_table: Option<OurTable>,
    /// Why the ruleset could not be read, if it could not.
    pub nft_error: Option<String>,
    /// Tables of the legacy iptables backend (`/proc/net/ip{,6}_tables_names`),
    /// whose rules nf_tables does not show.
    pub legacy_tables: Vec<String>,
    pub listeners: Vec<Listener>,
}

/// Turns facts into findings: every check of [`checks::ALL`], in order.
pub fn diagnose(cfg: &BridgeConfig, facts: &Facts) -> Vec<Finding> {
    checks::ALL
        .iter()
        .flat_map(|check| check(cfg, facts))
        .collect()
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
    let cfg = cfg.clone();
    let nft_facts = tokio::task::spawn_blocking(move || -> Result<_, crate::Error> {
        let mut sock = NfSocket::open()?;
        let chains = nft::inspect::base_chains(&mut sock)?;
        let forward: Vec<_> = chains
            .iter()
            .filter(|c| c.hook == HOOK_FORWARD)
            .cloned()
            .collect();
        let drops = nft::inspect::drop_rules(&mut sock, &forward)?;
        let table = our_table(&mut sock, &cfg)?;
        Ok((chains, drops, table))
    })
    .await;
    match nft_facts {
        Ok(Ok((chains, drops, table))) => {
            facts.base_chains = chains;
            facts.drop_rules = drops;
            facts.our_table = Some(table);
        }
        Ok(Err(e)) => facts.nft_error = Some(e.to_string()),
        Err(e) => facts.nft_error = Some(e.to_string()),
    }
    facts.listeners = ports::listeners(&[53, 67, 547], &[53]);
    facts.legacy_tables = legacy_tables();
    facts
}

/// The bridge's table: whole in one of the two inbound policies, or not.
fn our_table(sock: &mut NfSocket, cfg: &BridgeConfig) -> Result<OurTable, crate::Error> {
    for inbound in [Inbound::Drop, Inbound::Allow] {
        let ruleset = BridgeConfig {
            inbound,
            ..cfg.clone()
        }
        .ruleset();
        if nft::intact(sock, &ruleset)? {
            return Ok(OurTable::Whole(inbound));
        }
    }
    Ok(OurTable::MissingOrAltered)
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

/// The findings for a person: one block each, and a line saying all is
/// well when none is a problem.
pub fn render_human(cfg: &BridgeConfig, findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let (tag, fix) = match f.severity {
            Severity::Error => ("error", "fix"),
            Severity::Warning => ("warning", "fix"),
            Severity::Info => ("info", "to change"),
        };
        s.push_str(&format!(
            "{tag} [{}]: {}\n    {fix}: {}\n",
            f.id, f.message, f.fix
        ));
    }
    if findings.iter().all(|f| f.severity == Severity::Info) {
        s.push_str(&format!("{}: no problems found\n", cfg.name));
    }
    s
}

#[cfg(test)]
mod tests;
