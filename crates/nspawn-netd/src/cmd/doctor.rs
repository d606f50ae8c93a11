//! `nspawn-netd doctor`: explains what would keep containers on the bridge
//! from getting addresses, DNS or internet, each with the command that
//! fixes it, and which inbound policy the bridge's table enforces; `--json`
//! for programs. Exits non-zero when it finds an error.

use anyhow::bail;
use clap::Args;
use netd_bridge::doctor::{self, OurTable, Severity};
use netd_bridge::sysctl::Sysctls;

use super::up::BridgeArgs;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub bridge: BridgeArgs,
    /// Print the findings as JSON: `{"bridge": NAME, "inbound": "drop"|"allow"|null,
    /// "findings": [{id, severity, message, fix}]}` (severity `error`, `warning` or `info`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let cfg = args.bridge.config();
    let facts = doctor::gather(&cfg, &Sysctls::default()).await;
    let findings = doctor::diagnose(&cfg, &facts);
    if args.json {
        let inbound = match facts.our_table {
            Some(OurTable::Whole(inbound)) => Some(inbound.as_str()),
            _ => None,
        };
        let doc =
            serde_json::json!({ "bridge": cfg.name, "inbound": inbound, "findings": findings });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", doctor::render_human(&cfg, &findings));
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if errors > 0 {
        bail!("{errors} problem(s) found");
    }
    Ok(())
}
