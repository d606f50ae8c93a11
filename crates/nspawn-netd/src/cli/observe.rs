//! Options about watching the running daemon: its control socket (what
//! `nspawn-netd status` and `leases` read) and its metrics endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::settings::values;

/// The environment variable that sets `--control-dir`, for the daemon and
/// for `status` and `leases` alike.
pub const CONTROL_DIR_ENV: &str = "NSPAWN_NETD_CONTROL_DIR";

#[derive(Debug, Clone, Default, Args)]
pub struct ObserveArgs {
    /// Where the control socket goes: DIR/IFACE.sock, which `nspawn-netd
    /// status` and `leases` read (default /run/nspawn-netd). An empty value
    /// means no control socket.
    #[arg(long, value_name = "DIR", env = CONTROL_DIR_ENV, value_parser = values::any_path)]
    pub control_dir: Option<PathBuf>,
    /// Members of GROUP may read the control socket too (mode 0660 instead
    /// of 0600, root's only).
    #[arg(long, value_name = "GROUP")]
    pub control_group: Option<String>,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics. Off unless
    /// given; give a loopback or management address, not the bridge's,
    /// unless the containers may read them.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
}
