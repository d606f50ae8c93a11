//! `up` and `down`: observe, plan, apply each step and record it, so that
//! `down` undoes exactly what `up` did and nothing else. Teardown keeps
//! going past a failure and reports every one.

use std::path::PathBuf;

use tracing::info;

use crate::config::BridgeConfig;
use crate::link::Links;
use crate::nft::{self, NfSocket};
use crate::plan::{LinkOp, plan_link};
use crate::state::{self, SavedState};
use crate::sysctl::{Sysctls, is_per_interface, plan_sysctls};
use crate::{Error, resolved};

/// Where the host's settings live: the sysctl tree and the state directory.
#[derive(Debug, Clone)]
pub struct Host {
    pub sysctls: Sysctls,
    /// Where `up` records what it changed (`/run/nspawn-netd`).
    pub state_dir: PathBuf,
}

/// What `up` did and what it found but left alone.
#[derive(Debug, Default)]
pub struct UpReport {
    pub changes: Vec<String>,
    pub notes: Vec<String>,
}

/// Sets the host up for `cfg`: bridge, addresses, sysctls, our nf_tables
/// table, and (where it runs) systemd-resolved. Idempotent. Each step
/// records what it changed before the next one starts.
pub async fn up(
    cfg: &BridgeConfig,
    host: &Host,
    dns_domain: Option<&str>,
) -> Result<UpReport, Error> {
    let mut report = UpReport::default();
    let links = Links::connect()?;
    let mut st = state::load(&host.state_dir, &cfg.name)?.unwrap_or_else(|| SavedState {
        bridge: cfg.name.clone(),
        ..SavedState::default()
    });
    set_up_bridge(&links, cfg, host, &mut st, &mut report).await?;
    set_sysctls(&links, cfg, host, &mut st, &mut report).await?;
    install_table(cfg, host, &mut st, &mut report).await?;
    register_dns(cfg, dns_domain, host, &mut st, &mut report).await?;
    for c in &report.changes {
        info!("up: {c}");
    }
    Ok(report)
}

/// Step 1: the bridge, its addresses, and up — only what is missing.
async fn set_up_bridge(
    links: &Links,
    cfg: &BridgeConfig,
    host: &Host,
    st: &mut SavedState,
    report: &mut UpReport,
) -> Result<(), Error> {
    let observed = links.observe(&cfg.name).await?;
    let plan = plan_link(cfg, observed.as_ref()).map_err(|e| Error::Conflict(e.to_string()))?;
    report.notes.extend(plan.notes);
    let mut index = observed.as_ref().map(|o| o.index);
    for op in &plan.ops {
        index = Some(links.apply(&cfg.name, index, op).await?);
        match op {
            LinkOp::CreateBridge { .. } => st.created_bridge = true,
            LinkOp::AddAddress(net) if !st.created_bridge => st.added_addresses.push(*net),
            LinkOp::SetUp if !st.created_bridge => st.brought_up = true,
            _ => {}
        }
        state::save(&host.state_dir, st)?;
        report.changes.push(describe(&cfg.name, op));
    }
    Ok(())
}

/// Step 2: `accept_ra=2` on RA uplinks, then forwarding on.
async fn set_sysctls(
    links: &Links,
    cfg: &BridgeConfig,
    host: &Host,
    st: &mut SavedState,
    report: &mut UpReport,
) -> Result<(), Error> {
    let ipv6 = cfg.ipv6.is_some();
    let ra_ifaces = if ipv6 {
        links.ra_default_route_ifaces().await?
    } else {
        Vec::new()
    };
    let mut ifaces = host.sysctls.interfaces("ipv4");
    for i in host.sysctls.interfaces("ipv6") {
        if !ifaces.contains(&i) {
            ifaces.push(i);
        }
    }
    for change in plan_sysctls(ipv6, &ra_ifaces, &ifaces, |k| host.sysctls.read(k)) {
        host.sysctls.write(&change.key, &change.new)?;
        report.changes.push(format!(
            "sysctl {} = {} (was {})",
            change.key, change.new, change.old
        ));
        st.record_sysctl(change);
        state::save(&host.state_dir, st)?;
    }
    Ok(())
}

/// Step 3: our nf_tables table, unless it is already exactly right.
async fn install_table(
    cfg: &BridgeConfig,
    host: &Host,
    st: &mut SavedState,
    report: &mut UpReport,
) -> Result<(), Error> {
    let ruleset = cfg.ruleset();
    let table = ruleset.table_name();
    let applied =
        tokio::task::spawn_blocking(move || nft::ensure(&mut NfSocket::open()?, &ruleset))
            .await
            .map_err(|e| Error::Netlink("nf_tables task".into(), std::io::Error::other(e)))??;
    if applied {
        report
            .changes
            .push(format!("nf_tables table inet {table} installed"));
    }
    if !st.table {
        st.table = true;
        state::save(&host.state_dir, st)?;
    }
    Ok(())
}

/// Step 4: the containers' domain with systemd-resolved, where it runs.
/// Not being able to is a note, not a failure.
async fn register_dns(
    cfg: &BridgeConfig,
    dns_domain: Option<&str>,
    host: &Host,
    st: &mut SavedState,
    report: &mut UpReport,
) -> Result<(), Error> {
    match resolved::register(cfg, dns_domain).await {
        Ok(resolved::Outcome::Registered) => {
            st.resolved = true;
            state::save(&host.state_dir, st)?;
            report
                .changes
                .push("registered the bridge's DNS with systemd-resolved".into());
        }
        Ok(resolved::Outcome::Skipped(why)) => report.notes.push(why),
        Err(e) => report.notes.push(format!("systemd-resolved: {e}")),
    }
    Ok(())
}

fn describe(name: &str, op: &LinkOp) -> String {
    match op {
        LinkOp::CreateBridge { mac, .. } => {
            format!(
                "created bridge {name} with MAC {}",
                netd_proto::MacAddr(*mac)
            )
        }
        LinkOp::AddAddress(net) => format!("added {net} to {name}"),
        LinkOp::SetUp => format!("set {name} up"),
    }
}

/// What `down` undid and what it could not.
#[derive(Debug, Default)]
pub struct DownReport {
    pub undone: Vec<String>,
    pub failures: Vec<Error>,
}

/// Undoes what `up` recorded for `bridge`, in reverse order. Our table is
/// deleted whether recorded or not (it is ours by name). Every step runs
/// even when an earlier one failed; the state file goes only when all
/// succeeded, so a second `down` can finish the job.
pub async fn down(bridge: &str, host: &Host) -> DownReport {
    let mut r = DownReport::default();
    let st = match state::load(&host.state_dir, bridge) {
        Ok(s) => s,
        Err(e) => {
            r.failures.push(e);
            None
        }
    };
    delete_table(bridge, &mut r).await;
    let Some(st) = st else {
        r.undone.push(format!(
            "no record of {bridge} under {}: nothing else to undo",
            host.state_dir.display()
        ));
        return r;
    };
    if st.resolved {
        revert_dns(bridge, &mut r).await;
    }
    restore_sysctls(&st, host, &mut r);
    undo_bridge(&st, &mut r).await;
    if r.failures.is_empty()
        && let Err(e) = state::remove(&host.state_dir, bridge)
    {
        r.failures.push(e);
    }
    r
}

/// Deletes this bridge's table (and no other).
async fn delete_table(bridge: &str, r: &mut DownReport) {
    let table = nft::table_name(bridge);
    let name = table.clone();
    match tokio::task::spawn_blocking(move || nft::delete(&mut NfSocket::open()?, &name)).await {
        Ok(Ok(true)) => r
            .undone
            .push(format!("deleted nf_tables table inet {table}")),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => r.failures.push(e),
        Err(e) => r.failures.push(Error::Netlink(
            "nf_tables task".into(),
            std::io::Error::other(e),
        )),
    }
}

async fn revert_dns(bridge: &str, r: &mut DownReport) {
    match resolved::revert(bridge).await {
        Ok(()) => r
            .undone
            .push("reverted the systemd-resolved registration".into()),
        Err(e) => r.failures.push(e),
    }
}

/// Puts every recorded sysctl back, last changed first. A per-interface
/// key whose interface is gone is not a failure.
fn restore_sysctls(st: &SavedState, host: &Host, r: &mut DownReport) {
    for change in st.sysctls.iter().rev() {
        match host.sysctls.write(&change.key, &change.old) {
            Ok(()) => r
                .undone
                .push(format!("sysctl {} = {} (restored)", change.key, change.old)),
            Err(Error::Sysctl { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound
                    && is_per_interface(&change.key) =>
            {
                r.undone
                    .push(format!("sysctl {}: its interface is gone", change.key))
            }
            Err(e) => r.failures.push(e),
        }
    }
}

/// Deletes the bridge if `up` created it; else removes the addresses it
/// added and sets it down if `up` set it up.
async fn undo_bridge(st: &SavedState, r: &mut DownReport) {
    let bridge = &st.bridge;
    let links = match Links::connect() {
        Ok(l) => l,
        Err(e) => return r.failures.push(e),
    };
    if st.created_bridge {
        match links.delete(bridge).await {
            Ok(true) => r.undone.push(format!("deleted bridge {bridge}")),
            Ok(false) => r.undone.push(format!("bridge {bridge} was already gone")),
            Err(e) => r.failures.push(e),
        }
        return;
    }
    for net in st.added_addresses.iter().rev() {
        match links.remove_address(bridge, *net).await {
            Ok(_) => r.undone.push(format!("removed {net} from {bridge}")),
            Err(e) => r.failures.push(e),
        }
    }
    if st.brought_up {
        match links.set_down(bridge).await {
            Ok(()) => r.undone.push(format!("set {bridge} down")),
            Err(e) => r.failures.push(e),
        }
    }
}
