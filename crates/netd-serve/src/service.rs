//! What every service shares, and the one shape each follows:
//!
//! 1. `plan(&Settings, &Context) -> Result<Option<Plan>, ServeError>` is
//!    pure: the options (typed, with where each was given) against the
//!    interface. `None` when the service is not asked for. Unit-tested.
//! 2. `Plan::bind(…) -> Result<Bound, ServeError>` opens every socket and
//!    file the service needs, before the daemon says it is ready.
//! 3. `Bound::run(self, &mut Tasks, &Context)` spawns the service's tasks;
//!    they stop when [`Context::cancel`] is cancelled.
//!
//! Each `Bound` hands out one `Stats` value ([`crate::stats`]) the daemon
//! reads. The failure policy is the same everywhere: transient receive and
//! send errors are counted and logged at a rate limit
//! ([`crate::transient`]); a task that cannot go on returns a
//! [`ServeError`], which ends the daemon with one clear message. Log lines
//! carry `interface=` and, where there is one, `service=`.

use std::net::IpAddr;
use std::sync::Arc;

use netd_proto::names::LocalNames;
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::ServeError;
use crate::iface::InterfaceInfo;

/// Every long-running task; the daemon stops when one returns an error.
pub type Tasks = JoinSet<Result<(), ServeError>>;

/// What the services of one interface share.
#[derive(Debug, Clone)]
pub struct Context {
    /// The served interface as it was at start.
    pub iface: InterfaceInfo,
    /// The addresses DNS answers on (empty when DNS is off), which DHCP
    /// and RA advertise.
    pub dns_addresses: Vec<IpAddr>,
    /// `--domain`.
    pub domain: Option<String>,
    /// Local names: DHCP and neighbour discovery write, DNS reads.
    pub names: Arc<LocalNames>,
    /// Sent on SIGHUP: services re-read what they read from files.
    pub reload: broadcast::Sender<()>,
    /// Cancelled on SIGTERM/SIGINT: every task stops.
    pub cancel: CancellationToken,
}

impl Context {
    pub fn new(
        iface: InterfaceInfo,
        dns_addresses: Vec<IpAddr>,
        domain: Option<String>,
    ) -> Context {
        let (reload, _) = broadcast::channel(4);
        Context {
            names: LocalNames::new(domain.as_deref()),
            iface,
            dns_addresses,
            domain,
            reload,
            cancel: CancellationToken::new(),
        }
    }
}

/// The addresses DNS answers on: the interface's own addresses (link-local
/// IPv6 excluded) plus `listen`, without loopback; none when `port` is 0.
pub fn dns_addresses(iface: &InterfaceInfo, listen: &[IpAddr], port: u16) -> Vec<IpAddr> {
    if port == 0 {
        return Vec::new();
    }
    let mut addrs: Vec<IpAddr> = iface.ipv4.iter().map(|n| IpAddr::V4(n.ip())).collect();
    addrs.extend(iface.global_ipv6().map(|n| IpAddr::V6(n.ip())));
    for a in listen {
        if !addrs.contains(a) && !a.is_loopback() {
            addrs.push(*a);
        }
    }
    addrs
}
