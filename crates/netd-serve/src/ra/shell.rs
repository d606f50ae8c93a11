//! The RA sender's tokio shell: opens the raw ICMPv6 socket once the
//! interface has a usable link-local address, runs the [`Scheduler`], answers
//! Router Solicitations, re-reads the interface's MAC and MTU for every RA,
//! and sends a final RA with router lifetime 0 when cancelled.

use std::io;
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use netd_proto::MacAddr;
use netd_proto::ra::advert::RaConfig;
use netd_proto::ra::scheduler::{Scheduler, Trigger};
use netd_proto::ra::wire::{ICMPV6_ROUTER_SOLICIT, RouterSolicitRepr};

use super::icmp_socket::IcmpSocket;
use crate::iface::{InterfaceInfo, interface_info};
use crate::stats::{self, RaStats};

/// ff02::1, where RAs go.
pub(crate) const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ff02::2, where Router Solicitations go.
pub(crate) const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// How often to look again for a usable link-local address.
const WAIT_RETRY: Duration = Duration::from_secs(1);

/// The RA sender of one interface.
#[derive(Debug)]
pub struct RaSender {
    pub ifname: String,
    pub config: RaConfig,
    /// Notified on every valid Router Solicitation (a new host on the link)
    /// and after every advertisement sent (hosts form addresses from it),
    /// e.g. to look for those addresses soon.
    pub on_advertise: Option<Arc<Notify>>,
    pub stats: Arc<RaStats>,
}

impl RaSender {
    /// Runs until `cancel`; never fails: socket errors are logged and the
    /// socket reopened.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let Some((socket, info)) = self.open(&cancel).await else {
                return;
            };
            match self.serve(&socket, &info, &cancel).await {
                Ok(()) => {
                    let snapshot = self.stats.snapshot();
                    info!(interface = %self.ifname, ?snapshot, "router advertisements stopped");
                    return;
                }
                Err(e) => {
                    stats::add(&self.stats.io_errors, 1);
                    warn!(interface = %self.ifname, "router advertisement socket failed, reopening: {e}");
                    sleep(WAIT_RETRY).await;
                }
            }
        }
    }

    /// Waits until the interface has a link-local address the socket can
    /// bind (not tentative), logging why it waits.
    async fn open(&self, cancel: &CancellationToken) -> Option<(IcmpSocket, InterfaceInfo)> {
        let mut last_reason = String::new();
        loop {
            let reason = match interface_info(&self.ifname).await {
                Err(e) => e.to_string(),
                Ok(info) => match info.link_local_ipv6() {
                    None => format!(
                        "{} has no IPv6 link-local address yet (link down, no carrier or IPv6 disabled)",
                        self.ifname
                    ),
                    Some(ll) => {
                        match IcmpSocket::open(&info.name, info.index, ll, &[ICMPV6_ROUTER_SOLICIT])
                            .and_then(|s| s.join(ALL_ROUTERS).map(|()| s))
                        {
                            Ok(s) => {
                                info!(interface = %self.ifname, source = %ll, "sending router advertisements");
                                return Some((s, info));
                            }
                            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => format!(
                                "link-local {ll} on {} is not usable yet (duplicate address detection in progress or no carrier)",
                                self.ifname
                            ),
                            Err(e) => format!("opening the ICMPv6 socket on {}: {e}", self.ifname),
                        }
                    }
                },
            };
            if reason != last_reason {
                info!(interface = %self.ifname, "waiting to send router advertisements: {reason}");
                last_reason = reason;
            }
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = sleep(WAIT_RETRY) => {}
            }
        }
    }

    async fn serve(
        &self,
        socket: &IcmpSocket,
        info: &InterfaceInfo,
        cancel: &CancellationToken,
    ) -> io::Result<()> {
        let mut scheduler = Scheduler::new(Instant::now().into_std(), self.config.timing);
        let mut buf = vec![0u8; 1500];
        loop {
            self.publish_next_due(&scheduler);
            tokio::select! {
                _ = cancel.cancelled() => {
                    self.send(socket, info, true).await?;
                    info!(interface = %self.ifname, "sent the final router advertisement (router lifetime 0)");
                    return Ok(());
                }
                _ = sleep_until(Instant::from_std(scheduler.poll_timeout())) => {
                    if let Some(trigger) = scheduler.handle_timeout(Instant::now().into_std(), rand::random()) {
                        debug!(interface = %self.ifname, ?trigger, "router advertisement due");
                        self.send(socket, info, false).await?;
                        if trigger == Trigger::Solicited { stats::add(&self.stats.solicited, 1); }
                        if let Some(n) = &self.on_advertise { n.notify_one(); }
                    }
                }
                got = socket.recv(&mut buf) => {
                    let got = got?;
                    let bytes = &buf[..got.len];
                    match RouterSolicitRepr::parse(bytes, *got.source.ip(), got.hop_limit.unwrap_or(0)) {
                        Ok(rs) => {
                            debug!(interface = %self.ifname, from = %got.source.ip(), lladdr = ?rs.source_lladdr.map(MacAddr), "router solicitation");
                            stats::add(&self.stats.solicits, 1);
                            scheduler.handle_solicit(Instant::now().into_std(), rand::random());
                            if let Some(n) = &self.on_advertise { n.notify_one(); }
                        }
                        Err(e) => {
                            stats::add(&self.stats.dropped, 1);
                            debug!(interface = %self.ifname, from = %got.source.ip(), "dropping router solicitation: {e}");
                        }
                    }
                }
            }
        }
    }

    /// The scheduler's next RA as wall-clock time, for `status`.
    fn publish_next_due(&self, scheduler: &Scheduler) {
        let wait = scheduler
            .poll_timeout()
            .saturating_duration_since(Instant::now().into_std());
        stats::set(
            &self.stats.next_due_ms,
            stats::unix_millis(SystemTime::now() + wait),
        );
    }

    async fn send(
        &self,
        socket: &IcmpSocket,
        info: &InterfaceInfo,
        final_ra: bool,
    ) -> io::Result<()> {
        // A bridge's MAC changes as ports come and go: read it every time.
        let now = interface_info(&self.ifname)
            .await
            .unwrap_or_else(|_| info.clone());
        let ra = self
            .config
            .advert(now.mac.or(info.mac).map(MacAddr::octets), now.mtu, final_ra);
        socket.send_to(&ra.emit(), ALL_NODES).await?;
        stats::add(&self.stats.sent, 1);
        stats::set(
            &self.stats.last_sent_ms,
            stats::unix_millis(SystemTime::now()),
        );
        debug!(
            interface = %self.ifname,
            router_lifetime = ra.router_lifetime,
            mac = %ra.source_lladdr.map_or_else(|| "none".to_owned(), |m| MacAddr(m).to_string()),
            "sent router advertisement"
        );
        Ok(())
    }
}
