//! `doctor`: finds what keeps containers on the bridge from getting
//! addresses, DNS or internet, and says how to fix each. [`gather`] reads
//! the host (netlink, `/proc`); [`diagnose`] is pure: facts in, findings out.
//!
//! It reads only nf_tables (iptables-nft rules included); rules loaded with
//! the legacy iptables backend are not seen.

pub mod checks;
pub mod ports;

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
