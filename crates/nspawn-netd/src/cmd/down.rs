//! `nspawn-netd down`: undoes what `up` recorded for the bridge — our
//! nf_tables table, the bridge if `up` created it (else the addresses it
//! added), the sysctls it changed — and nothing else. Keeps going past a
//! failure and reports every one.

use anyhow::bail;
use clap::Args;
use netd_bridge::DownReport;

use super::up::BridgeArgs;

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub bridge: BridgeArgs,
}

pub async fn run(args: DownArgs) -> anyhow::Result<()> {
    let host = args.bridge.host();
    let bridge = &args.bridge.bridge;
    if let Some(pid) = netd_bridge::state::running_watcher(&host.state_dir, bridge) {
        bail!(
            "nspawn-netd up (pid {pid}) is running for {bridge} and would put the table back; \
             stop it first (up --teardown-on-exit undoes everything when it stops)"
        );
    }
    report(netd_bridge::down(bridge, &host).await)
}

/// Prints what was undone and fails naming every step that could not be.
pub fn report(r: DownReport) -> anyhow::Result<()> {
    for u in &r.undone {
        tracing::info!("down: {u}");
    }
    if r.failures.is_empty() {
        return Ok(());
    }
    for f in &r.failures {
        tracing::error!("down: {f}");
    }
    let all: Vec<String> = r.failures.iter().map(|f| f.to_string()).collect();
    bail!(
        "teardown incomplete ({} failure(s)): {}",
        all.len(),
        all.join("; ")
    )
}
