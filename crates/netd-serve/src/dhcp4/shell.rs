//! The tokio shell around the DHCPv4 core: it owns the socket, the clock and
//! the lease files, feeds the [`Server`] and carries out what it decides.
//!
//! Durability with group commit ([`CommitQueue`]): an ACK that grants or
//! extends a lease is held until a journal commit that includes its lease
//! has been synced. One commit runs at a time, on a blocking thread; ACKs
//! decided while it runs wait for the next, which then covers all of them
//! at once. A commit appends only the changed leases, so it costs
//! O(changes), not O(leases), and an ACK never leaves before its lease is
//! on disk. A failed commit drops the held ACKs (the clients retransmit)
//! and is retried a second later. Snapshots and the dnsmasq-format file
//! are written off this path ([`Persistence`]).

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, debug_span, info, warn};

use netd_proto::MacAddr;
use netd_proto::dhcp4::commit::CommitQueue;
use netd_proto::dhcp4::journal::Change;
use netd_proto::dhcp4::reply::Reply;
use netd_proto::dhcp4::server::{LeaseChange, Server};
use netd_proto::dhcp4::{DECLINED, IN_USE, NO_ADDRESS_AVAILABLE, NO_RANGE, Warning};
use netd_proto::names::LocalNames;
use tokio::sync::{broadcast, mpsc};

use super::arp_probe::{ArpProber, Outcome, Probe};
use super::hosts::Update;
use super::persist::Persistence;
use super::script::ScriptQueue;
use super::socket::{Dhcp4Socket, Received};
use super::view::{LeaseRequest, LeaseView};
use crate::ratelimit::{self, Admit, RateLimit};
use crate::stats::{self, Dhcp4Stats};
use crate::transient::TransientErrors;

/// An ACK waiting for the journal, with when its request arrived.
type Held = (Reply, Instant);

/// Wait between a failed journal commit and the next try.
const WRITE_RETRY: Duration = Duration::from_secs(1);
/// Least time between the starts of two commits: ACKs decided meanwhile
/// share the next one. Each commit costs an `fdatasync` (on a virtual disk,
/// a few exits to the host), so under load fewer, larger commits save most
/// of the CPU; a client waits a few milliseconds more for its ACK.
const COMMIT_GATHER: Duration = Duration::from_millis(10);
/// Longest sleep before looking at the wall clock again, so a clock step
/// does not leave a lease unexpired for long.
const MAX_TIMER: Duration = Duration::from_secs(60);
/// Below this many leases, offers and holds the free count is exact after
/// every change; above, it is recomputed at most every [`FREE_EVERY`].
const FREE_EXACT_BELOW: usize = 2048;
const FREE_EVERY: Duration = Duration::from_secs(1);
/// How often the pool addresses probed free are topped up.
const PROBE_TICK: Duration = Duration::from_secs(1);
/// Larger than any DHCP message we accept (RFC 2131: 576 by default).
const RECV_BUF: usize = 4096;
/// Most packets handled in one turn of the loop before it looks at its
/// timers, commits and probes again.
const BURST: usize = 16;

#[derive(Debug)]
pub struct Dhcp4Shell {
    server: Server,
    socket: Dhcp4Socket,
    persist: Persistence,
    /// Where the leases' hostnames are published for DNS.
    names: Arc<LocalNames>,
    /// A lease with a hostname changed since the names were published.
    names_dirty: bool,
    iface: String,
    /// Packets that arrive on another interface (IP_PKTINFO) are dropped.
    ifindex: u32,
    stats: Arc<Dhcp4Stats>,
    errors: TransientErrors,
    /// Readers asking for the bound leases (`status`, `leases`).
    view: LeaseView,
    lease_requests: mpsc::Receiver<LeaseRequest>,
    /// The core's warnings, one rate limit per kind.
    no_address: RateLimit,
    declined: RateLimit,
    in_use: RateLimit,
    no_range: RateLimit,
    /// Leases, offers and decline holds when `free` was last computed.
    held_at_last_free: Option<usize>,
    /// When `free` was last computed.
    free_computed_at: Option<Instant>,
    /// Probes whether a name's holder still answers ARP; without it a held
    /// name moves only when its lease ends.
    arp: Option<ArpProber>,
    /// The generation of the protected names the core has.
    protected_generation: u64,
    /// Host entries re-read from files (SIGHUP, inotify).
    hosts: Option<mpsc::Receiver<Update>>,
    /// `--dhcp-script`'s queue.
    script: Option<ScriptQueue>,
    /// SIGHUP: the script hears `old` for every lease, as in dnsmasq.
    reload: Option<broadcast::Receiver<()>>,
}

impl Dhcp4Shell {
    pub fn new(
        server: Server,
        socket: Dhcp4Socket,
        persist: Persistence,
        names: Arc<LocalNames>,
        iface: String,
        ifindex: u32,
        stats: Arc<Dhcp4Stats>,
    ) -> Dhcp4Shell {
        let (view, lease_requests) = LeaseView::new();
        Dhcp4Shell {
            errors: TransientErrors::new("dhcp4", &iface),
            view,
            lease_requests,
            no_address: RateLimit::default(),
            declined: RateLimit::default(),
            in_use: RateLimit::default(),
            no_range: RateLimit::default(),
            held_at_last_free: None,
            free_computed_at: None,
            arp: None,
            protected_generation: 0,
            hosts: None,
            script: None,
            reload: None,
            server,
            socket,
            persist,
            names,
            names_dirty: false,
            iface,
            ifindex,
            stats,
        }
    }

    /// Hands the core the names hosts files and local records hold, when
    /// they changed (one atomic load when they did not).
    fn follow_protected_names(&mut self) {
        let protected = self.names.protected();
        if protected.0 != self.protected_generation {
            self.protected_generation = protected.0;
            self.server.set_protected_names(protected.1.iter().cloned());
        }
    }

    /// Probes names' holders with `arp`.
    pub(crate) fn with_arp(mut self, arp: ArpProber) -> Dhcp4Shell {
        self.arp = Some(arp);
        self
    }

    /// Takes the host entries sent on `hosts` from now on.
    pub(crate) fn with_hosts(mut self, hosts: mpsc::Receiver<Update>) -> Dhcp4Shell {
        self.hosts = Some(hosts);
        self
    }

    /// Queues lease events for `--dhcp-script` from now on.
    pub(crate) fn with_script(mut self, queue: ScriptQueue) -> Dhcp4Shell {
        self.script = Some(queue);
        self
    }

    /// Tells the script about every lease on each SIGHUP.
    pub(crate) fn with_reload(mut self, reload: broadcast::Receiver<()>) -> Dhcp4Shell {
        self.reload = Some(reload);
        self
    }

    /// The bound leases, oldest first.
    pub(crate) fn records(&self) -> Vec<netd_proto::dhcp4::LeaseRecord> {
        self.server.records()
    }

    /// Where readers ask for the bound leases.
    pub fn leases(&self) -> LeaseView {
        self.view.clone()
    }

    /// Serves until `cancel`, then finishes the commit in flight, makes the
    /// last changes durable and leaves the dnsmasq-format file exact.
    pub async fn run(mut self, cancel: CancellationToken) {
        let span = debug_span!("dhcp4", interface = %self.iface);
        self.names.set_dhcp(self.server.names());
        let mut buf = vec![0u8; RECV_BUF];
        let mut queue = CommitQueue::<Held>::default();
        let mut retry_at = Instant::now();
        let mut next_commit = Instant::now();
        let mut next_probe_tick = Instant::now();
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
            self.follow_protected_names();
            if Instant::now() >= next_probe_tick {
                self.start_probes();
                // A free count left stale by a burst catches up here.
                self.publish_stats();
                next_probe_tick = Instant::now() + PROBE_TICK;
            }
            if self.drain_events() {
                queue.changed();
            }
            let commit_wanted = queue.should_start() && self.persist.commit_job.is_none();
            if commit_wanted && Instant::now() >= next_commit {
                self.start_commit();
                queue.started();
                next_commit = Instant::now() + COMMIT_GATHER;
            }
            let commit_waiting = queue.should_start() && self.persist.commit_job.is_none();
            if self.persist.export_ready(Instant::now()) {
                self.persist
                    .start_export(|out| self.server.write_lease_file_text(out));
            }
            let timer = self.timer();
            let export_waiting = self.persist.export_waiting();
            let next_export = self.persist.next_export;
            let snapshot_retry = self
                .persist
                .snapshot_retry_at
                .filter(|_| self.persist.snapshot_job.is_none());
            let Persistence {
                commit_job,
                snapshot_job,
                export_job,
                ..
            } = &mut self.persist;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(reader) = self.lease_requests.recv() => {
                    let _ = reader.send(Arc::new(self.server.records()));
                }
                Some(()) = async {
                    match self.reload.as_mut() {
                        Some(rx) => match rx.recv().await {
                            Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => Some(()),
                            Err(broadcast::error::RecvError::Closed) => None,
                        },
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(q) = &mut self.script {
                        for r in self.server.records() {
                            q.reloaded(&r);
                        }
                    }
                }
                Some(entries) = async {
                    match self.hosts.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    // Applies at each client's next request.
                    self.server.set_reservations(entries.hosts);
                    self.server.set_options(entries.options);
                    self.publish_stats_free();
                }
                done = async { commit_job.as_mut().expect("guarded").await }, if commit_job.is_some() => {
                    let outcome = self.persist.commit_done(done);
                    if let Some(e) = outcome.switch_error {
                        warn!(interface = %self.iface, "starting the next lease journal slot failed: {e}; trying again later");
                    }
                    match outcome.result {
                        Ok(()) => {
                            stats::add(&self.stats.writes, 1);
                            self.send_all(queue.succeeded()).instrument(span.clone()).await
                        }
                        Err(e) => {
                            stats::add(&self.stats.write_failures, 1);
                            let dropped = queue.failed();
                            warn!(interface = %self.iface, "appending to the lease journal failed: {e}; {dropped} ACKs not sent; retrying");
                            retry_at = Instant::now() + WRITE_RETRY;
                        }
                    }
                }
                done = async { snapshot_job.as_mut().expect("guarded").await }, if snapshot_job.is_some() => {
                    if let Err(e) = self.persist.snapshot_done(done) {
                        warn!(interface = %self.iface, "writing the lease snapshot failed: {e}; retrying");
                    }
                }
                done = async { export_job.as_mut().expect("guarded").await }, if export_job.is_some() => {
                    if let Err(e) = self.persist.export_done(done) {
                        warn!(interface = %self.iface, path = %self.persist.export_path().display(), "writing the lease file failed: {e}; retrying");
                    }
                }
                _ = sleep_until(retry_at), if queue.is_backing_off() => queue.retry_now(),
                _ = sleep_until(snapshot_retry.unwrap_or_else(Instant::now)), if snapshot_retry.is_some() => {
                    self.persist.retry_snapshot()
                }
                _ = sleep_until(next_export), if export_waiting => {}
                _ = sleep_until(next_commit), if commit_waiting => {}
                Some((probe, answer)) = recv_probe_result(self.arp.as_mut()) => {
                    self.on_probe_result(probe, answer);
                }
                received = self.socket.recv(&mut buf) => {
                    // A burst is taken in one turn: the loop's bookkeeping
                    // and the wake-up are paid once for up to BURST packets.
                    let mut received = received;
                    let mut left = BURST;
                    loop {
                        let arrived = Instant::now();
                        let now = span.in_scope(|| self.on_packet(received, &buf, arrived, &mut queue));
                        if let Some(reply) = now {
                            self.send(&reply).instrument(span.clone()).await;
                            self.stats.reply_latency.observe(arrived.elapsed());
                        }
                        left -= 1;
                        if left == 0 {
                            break;
                        }
                        received = match self.socket.try_recv(&mut buf) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            other => other,
                        };
                    }
                    self.publish_stats();
                    self.log_warnings(std::time::Instant::now());
                    self.start_name_probes();
                }
                // Only wakes the loop; its top handles what is due.
                _ = sleep(timer) => {}
            }
        }
        self.finish(queue).instrument(span).await;
    }

    /// Hands the core's probes to the prober: name holders, and pool
    /// addresses to verify free. A name probe it cannot take is answered as
    /// if the holder were there (the claim waits); without a prober no
    /// address is probed free.
    fn start_probes(&mut self) {
        self.start_name_probes();
        let now = SystemTime::now();
        let Some(arp) = &self.arp else { return };
        while let Some(addr) = self.server.poll_free_probe(now) {
            if arp.start(Probe::Free(addr)).is_err() {
                self.server.free_probe_dropped(addr);
                break;
            }
        }
    }

    /// The name probes alone (cheap: after every packet).
    fn start_name_probes(&mut self) {
        let now = SystemTime::now();
        while let Some(probe) = self.server.poll_name_probe(now) {
            let refused = match &self.arp {
                Some(arp) => arp.start(Probe::Name(probe)).err(),
                None => Some(Probe::Name(probe)),
            };
            if let Some(Probe::Name(p)) = refused {
                self.server.name_probe_result(now, &p, true);
            }
        }
    }

    fn on_probe_result(&mut self, probe: Probe, answer: Option<[u8; 6]>) {
        let now = SystemTime::now();
        match probe {
            Probe::Name(p) => {
                if self.server.name_probe_result(now, &p, answer.is_some()) {
                    self.names_dirty = true;
                }
            }
            Probe::Free(addr) => self.server.free_probe_result(now, addr, answer),
        }
        self.log_warnings(std::time::Instant::now());
        self.start_probes();
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

    /// Publishes the hostnames if a named lease changed, and starts a
    /// commit of the changes; when the journal has outgrown the table, the
    /// commit also switches slots and the table is taken for the snapshot.
    fn start_commit(&mut self) {
        if std::mem::take(&mut self.names_dirty) {
            self.names.set_dhcp(self.server.names());
        }
        let table = self
            .persist
            .wants_switch(self.server.lease_count())
            .then(|| self.server.records());
        self.persist.start_commit(table);
    }

    /// On shutdown: the commit in flight completes (its ACKs go out), what
    /// changed after it is committed too, the snapshot in flight finishes,
    /// and the dnsmasq-format file is rewritten from the final table.
    async fn finish(&mut self, mut queue: CommitQueue<Held>) {
        if let Some(job) = self.persist.commit_job.take() {
            let outcome = self.persist.commit_done(job.await);
            match outcome.result {
                Ok(()) => self.send_all(queue.succeeded()).await,
                Err(_) => {
                    queue.failed();
                }
            }
        }
        self.drain_events();
        let (_, acks) = queue.take_remaining();
        self.persist.start_commit(None);
        if let Some(job) = self.persist.commit_job.take() {
            match self.persist.commit_done(job.await).result {
                Ok(()) => self.send_all(acks).await,
                Err(e) => warn!("committing the last lease changes on shutdown failed: {e}"),
            }
        }
        if let Some(job) = self.persist.snapshot_job.take() {
            let _ = self.persist.snapshot_done(job.await);
        }
        if let Some(job) = self.persist.export_job.take() {
            let _ = self.persist.export_done(job.await);
        }
        self.persist
            .start_export(|out| self.server.write_lease_file_text(out));
        if let Some(job) = self.persist.export_job.take()
            && let Err(e) = self.persist.export_done(job.await)
        {
            warn!("writing the lease file on shutdown failed: {e}");
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
        // size (a flood on a full pool changes nothing), and for a large
        // table at most once a second (at 50,000 leases a walk per new
        // lease was most of the daemon's CPU).
        let held = self.server.held_count();
        let due = held < FREE_EXACT_BELOW
            || self
                .free_computed_at
                .is_none_or(|t| t.elapsed() >= FREE_EVERY);
        if self.held_at_last_free != Some(held) && due {
            self.held_at_last_free = Some(held);
            self.free_computed_at = Some(Instant::now());
            stats::set(&st.free, self.server.free_addresses());
        }
    }

    /// Recomputes the free addresses (the reserved ones changed).
    fn publish_stats_free(&mut self) {
        self.held_at_last_free = None;
        self.publish_stats();
    }

    /// Logs the core's warnings at a rate limit per kind: the first of a
    /// window in full, with the client's MAC (and address), the rest
    /// counted for the summary line.
    fn log_warnings(&mut self, now: std::time::Instant) {
        while let Some(w) = self.server.poll_warning() {
            let limit = match w {
                Warning::NoAddressAvailable { .. } => &mut self.no_address,
                Warning::Declined { .. } => &mut self.declined,
                Warning::InUse { .. } => &mut self.in_use,
                Warning::NoRange { .. } => &mut self.no_range,
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
                Warning::Declined { addr, mac } | Warning::InUse { addr, mac } => {
                    warn!(service = "dhcp4", interface = %iface, %mac, ip = %addr, "{w}")
                }
                Warning::NoRange { relay, mac } => {
                    warn!(service = "dhcp4", interface = %iface, %mac, relay = %relay, "{w}")
                }
            }
        }
    }

    /// The summary lines of floods that stopped.
    fn flush_warnings(&mut self, now: std::time::Instant) {
        for (limit, kind) in [
            (&mut self.no_address, NO_ADDRESS_AVAILABLE),
            (&mut self.declined, DECLINED),
            (&mut self.in_use, IN_USE),
            (&mut self.no_range, NO_RANGE),
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
        let core = core.min(PROBE_TICK);
        [
            self.no_address.deadline(),
            self.declined.deadline(),
            self.in_use.deadline(),
            self.no_range.deadline(),
        ]
        .into_iter()
        .flatten()
        .map(|t| t.saturating_duration_since(std::time::Instant::now()))
        .fold(core, Duration::min)
    }

    /// Logs the lease events and hands them to the journal; true when
    /// one must be journaled (an expiry need not: a lease read back after
    /// its end is dropped at load).
    fn drain_events(&mut self) -> bool {
        let mut changed = false;
        while let Some(event) = self.server.poll_event() {
            if let Some(q) = &mut self.script {
                q.lease_event(&event);
            }
            let r = &event.record;
            self.names_dirty |= r.hostname.is_some();
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
            match event.change {
                LeaseChange::Added | LeaseChange::Renewed => {
                    self.persist.push(Change::Put(event.record));
                    changed = true;
                }
                LeaseChange::Released | LeaseChange::Declined => {
                    self.persist.push(Change::Remove(event.record.addr));
                    changed = true;
                }
                LeaseChange::Expired => self.persist.touch(),
            }
        }
        changed
    }

    /// Sends ACKs the journal made durable, recording how long each took
    /// from its request's arrival.
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

/// The next probe result; never, without a prober.
async fn recv_probe_result(arp: Option<&mut ArpProber>) -> Option<Outcome> {
    match arp {
        Some(a) => a.results.recv().await,
        None => std::future::pending().await,
    }
}
