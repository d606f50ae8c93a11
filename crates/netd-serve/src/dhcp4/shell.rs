//! The tokio shell around the DHCPv4 core: it owns the socket, the clock and
//! the lease file, feeds the [`Server`] and carries out what it decides.
//!
//! Durability with group commit ([`CommitQueue`]): an ACK that grants or
//! extends a lease is held until a lease-file write that includes it has
//! completed. One write runs at a time, on a blocking thread; ACKs decided
//! while it runs wait for the next write, which then covers all of them at
//! once. So a burst of N requests costs about two fsync rounds, not N, and an
//! ACK never leaves before its lease is on disk. A failed write drops the
//! held ACKs (the clients retransmit) and is retried a second later.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, debug_span, info, warn};

use netd_proto::MacAddr;
use netd_proto::dhcp4::commit::CommitQueue;
use netd_proto::dhcp4::reply::Reply;
use netd_proto::dhcp4::server::{LeaseChange, Server};
use netd_proto::dhcp4::{DECLINED, NO_ADDRESS_AVAILABLE, Warning};
use netd_proto::names::LocalNames;

use super::lease_store::LeaseStore;
use super::socket::{Dhcp4Socket, Received};
use super::view::LeaseView;
use crate::ratelimit::{self, Admit, RateLimit};
use crate::stats::{self, Dhcp4Stats};
use crate::transient::TransientErrors;

/// An ACK waiting for the lease file, with when its request arrived.
type Held = (Reply, Instant);

/// Wait between a failed lease-file write and the next try.
const WRITE_RETRY: Duration = Duration::from_secs(1);
/// Longest sleep before looking at the wall clock again, so a clock step
/// does not leave a lease unexpired for long.
const MAX_TIMER: Duration = Duration::from_secs(60);
/// Larger than any DHCP message we accept (RFC 2131: 576 by default).
const RECV_BUF: usize = 4096;

#[derive(Debug)]
pub struct Dhcp4Shell {
    server: Server,
    socket: Dhcp4Socket,
    store: LeaseStore,
    /// Where the leases' hostnames are published for DNS.
    names: Arc<LocalNames>,
    iface: String,
    /// Packets that arrive on another interface (IP_PKTINFO) are dropped.
    ifindex: u32,
    stats: Arc<Dhcp4Stats>,
    errors: TransientErrors,
    /// Where the bound leases are published for `status` and the metrics.
    view: Arc<LeaseView>,
    /// The core's warnings, one rate limit per kind.
    no_address: RateLimit,
    declined: RateLimit,
    /// Leases, offers and decline holds when `free` was last computed.
    held_at_last_free: Option<usize>,
}

impl Dhcp4Shell {
    pub fn new(
        server: Server,
        socket: Dhcp4Socket,
        store: LeaseStore,
        names: Arc<LocalNames>,
        iface: String,
        ifindex: u32,
        stats: Arc<Dhcp4Stats>,
    ) -> Dhcp4Shell {
        let view = Arc::new(LeaseView::default());
        view.publish(Arc::new(server.records()));
        Dhcp4Shell {
            errors: TransientErrors::new("dhcp4", &iface),
            view,
            no_address: RateLimit::default(),
            declined: RateLimit::default(),
            held_at_last_free: None,
            server,
            socket,
            store,
            names,
            iface,
            ifindex,
            stats,
        }
    }

    /// Where the bound leases are published.
    pub fn leases(&self) -> Arc<LeaseView> {
        self.view.clone()
    }

    /// Serves until `cancel`, then finishes the write in flight and makes
    /// the last changes durable.
    pub async fn run(mut self, cancel: CancellationToken) {
        let span = debug_span!("dhcp4", interface = %self.iface);
        self.names.set_dhcp(self.server.names());
        let mut buf = vec![0u8; RECV_BUF];
        let mut queue = CommitQueue::<Held>::default();
        // The lease-file write in flight, if any.
        let mut writer: Option<JoinHandle<io::Result<()>>> = None;
        let mut retry_at = Instant::now();
        loop {
            // Timeouts are handled here, on every turn, rather than only when
            // the timer branch wins: under a steady stream of packets the
            // biased select below would never reach the timer.
            let now = SystemTime::now();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
                self.publish_stats();
            }
            self.flush_warnings(Instant::now().into_std());
            if self.drain_events() {
                queue.changed();
            }
            if queue.should_start() {
                writer = Some(self.start_write());
                queue.started();
            }
            let timer = self.timer();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                done = async { writer.as_mut().expect("guarded").await }, if writer.is_some() => {
                    writer = None;
                    // A writer that panicked counts as a failed write.
                    match done.unwrap_or_else(|e| Err(io::Error::other(e))) {
                        Ok(()) => {
                            stats::add(&self.stats.writes, 1);
                            self.send_all(queue.succeeded()).instrument(span.clone()).await
                        }
                        Err(e) => {
                            stats::add(&self.stats.write_failures, 1);
                            let dropped = queue.failed();
                            warn!(interface = %self.iface, path = %self.store.path().display(), "writing the lease file failed: {e}; {dropped} ACKs not sent; retrying");
                            retry_at = Instant::now() + WRITE_RETRY;
                        }
                    }
                }
                _ = sleep_until(retry_at), if queue.is_backing_off() => queue.retry_now(),
                received = self.socket.recv(&mut buf) => {
                    let arrived = Instant::now();
                    let now = span.in_scope(|| self.on_packet(received, &buf, arrived, &mut queue));
                    self.publish_stats();
                    self.log_warnings(arrived.into_std());
                    if let Some(reply) = now {
                        self.send(&reply).instrument(span.clone()).await;
                        self.stats.reply_latency.observe(arrived.elapsed());
                    }
                }
                // Only wakes the loop; its top handles what is due.
                _ = sleep(timer) => {}
            }
        }
        self.finish(writer, queue).instrument(span).await;
    }

    /// Runs one received packet through the core. Returns the reply to send
    /// now; ACKs that must wait for the lease file go to `queue`.
    fn on_packet(
        &mut self,
        received: io::Result<Received>,
        buf: &[u8],
        arrived: Instant,
        queue: &mut CommitQueue<Held>,
    ) -> Option<Reply> {
        let r = match received {
            Ok(r) => r,
            Err(e) => {
                self.errors.note(&self.stats.io_errors, "receiving", &e);
                return None;
            }
        };
        if r.ifindex.is_some_and(|i| i != self.ifindex) {
            debug!(ifindex = ?r.ifindex, "packet from another interface; dropped");
            return None;
        }
        debug!(from = %r.from, len = r.len, "received");
        let reply = self.server.handle(SystemTime::now(), &buf[..r.len])?;
        if reply.needs_commit {
            queue.hold((reply, arrived));
            None
        } else {
            Some(reply)
        }
    }

    /// Publishes the hostnames and writes a snapshot of the bound leases on
    /// a blocking thread. Both happen once per batch of changes, not once
    /// per change, so a busy table is not re-sorted for every packet.
    fn start_write(&self) -> JoinHandle<io::Result<()>> {
        self.names.set_dhcp(self.server.names());
        let records = Arc::new(self.server.records());
        self.view.publish(records.clone());
        let store = self.store.clone();
        debug!(leases = records.len(), "writing the lease file");
        tokio::task::spawn_blocking(move || store.write(&records))
    }

    /// On shutdown: the write in flight completes (its ACKs go out), and
    /// whatever changed after it is written once more.
    async fn finish(
        &mut self,
        writer: Option<JoinHandle<io::Result<()>>>,
        mut queue: CommitQueue<Held>,
    ) {
        if let Some(w) = writer {
            match w.await {
                Ok(Ok(())) => self.send_all(queue.succeeded()).await,
                _ => {
                    queue.failed();
                }
            }
        }
        let (dirty, acks) = queue.take_remaining();
        if dirty {
            match self.start_write().await {
                Ok(Ok(())) => self.send_all(acks).await,
                Ok(Err(e)) => warn!("writing the lease file on shutdown failed: {e}"),
                Err(e) => warn!("lease-file writer failed on shutdown: {e}"),
            }
        }
    }

    /// Copies the core's counters and the table's size into the shared
    /// stats.
    fn publish_stats(&mut self) {
        let s = self.server.stats();
        let st = &self.stats;
        for (gauge, v) in [
            (&st.discover, s.discovers),
            (&st.request, s.requests),
            (&st.decline, s.declines),
            (&st.release, s.releases),
            (&st.inform, s.informs),
            (&st.offer, s.offers),
            (&st.ack, s.acks),
            (&st.nak, s.naks),
            (&st.exhausted, s.exhausted),
            (&st.malformed, s.malformed),
            (&st.leases, self.server.lease_count() as u64),
        ] {
            stats::set(gauge, v);
        }
        // Free addresses cost a walk of the table: only when it changed
        // size (a flood on a full pool changes nothing).
        let held = self.server.held_count();
        if self.held_at_last_free != Some(held) {
            self.held_at_last_free = Some(held);
            stats::set(&st.free, self.server.free_addresses());
        }
    }

    /// Logs the core's warnings at a rate limit per kind: the first of a
    /// window in full, with the client's MAC (and address), the rest
    /// counted for the summary line.
    fn log_warnings(&mut self, now: std::time::Instant) {
        while let Some(w) = self.server.poll_warning() {
            let limit = match w {
                Warning::NoAddressAvailable { .. } => &mut self.no_address,
                Warning::Declined { .. } => &mut self.declined,
            };
            let Admit::Log { suppressed } = limit.admit(now) else {
                continue;
            };
            let iface = &self.iface;
            if suppressed > 0 {
                warn!(service = "dhcp4", interface = %iface, "{}", ratelimit::summary(w.kind(), suppressed));
            }
            match w {
                Warning::NoAddressAvailable { mac } => {
                    warn!(service = "dhcp4", interface = %iface, %mac, "{w}")
                }
                Warning::Declined { addr, mac } => {
                    warn!(service = "dhcp4", interface = %iface, %mac, ip = %addr, "{w}")
                }
            }
        }
    }

    /// The summary lines of floods that stopped.
    fn flush_warnings(&mut self, now: std::time::Instant) {
        for (limit, kind) in [
            (&mut self.no_address, NO_ADDRESS_AVAILABLE),
            (&mut self.declined, DECLINED),
        ] {
            if let Some(n) = limit.flush(now) {
                warn!(service = "dhcp4", interface = %self.iface, "{}", ratelimit::summary(kind, n));
            }
        }
    }

    /// How long until the core's next timeout, or a warning summary due.
    fn timer(&self) -> Duration {
        let core = match self.server.poll_timeout() {
            Some(t) => t
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .min(MAX_TIMER),
            None => MAX_TIMER,
        };
        [self.no_address.deadline(), self.declined.deadline()]
            .into_iter()
            .flatten()
            .map(|t| t.saturating_duration_since(std::time::Instant::now()))
            .fold(core, Duration::min)
    }

    /// Logs the lease events; true when the table changed.
    fn drain_events(&mut self) -> bool {
        let mut changed = false;
        while let Some(event) = self.server.poll_event() {
            changed = true;
            let r = &event.record;
            let mac = MacAddr(r.mac);
            let name = r.hostname.as_deref().unwrap_or("*");
            match event.change {
                LeaseChange::Added => {
                    info!(service = "dhcp4", interface = %self.iface, ip = %r.addr, %mac, name, "lease granted")
                }
                LeaseChange::Renewed => {
                    debug!(service = "dhcp4", interface = %self.iface, ip = %r.addr, %mac, name, "lease renewed")
                }
                LeaseChange::Released => {
                    info!(service = "dhcp4", interface = %self.iface, ip = %r.addr, %mac, name, "lease released")
                }
                LeaseChange::Declined => {
                    info!(service = "dhcp4", interface = %self.iface, ip = %r.addr, %mac, name, "lease declined")
                }
                LeaseChange::Expired => {
                    info!(service = "dhcp4", interface = %self.iface, ip = %r.addr, %mac, name, "lease expired")
                }
            }
        }
        changed
    }

    /// Sends ACKs the lease file made durable, recording how long each
    /// took from its request's arrival.
    async fn send_all(&mut self, replies: Vec<Held>) {
        for (reply, arrived) in &replies {
            self.send(reply).await;
            self.stats.reply_latency.observe(arrived.elapsed());
        }
    }

    async fn send(&mut self, reply: &Reply) {
        if let Err(e) = self.socket.send(&reply.bytes, reply.dest).await {
            let what = format!("sending {:?} to {:?}", reply.msg_type, reply.dest);
            self.errors.note(&self.stats.io_errors, &what, &e);
        }
    }
}
