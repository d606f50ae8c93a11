//! The neighbour watcher's tokio shell: subscribes to the kernel's
//! neighbour notifications (RTNLGRP_NEIGH), dumps the current table, keeps a
//! [`NeighbourTable`] and publishes it into [`LocalNames`] on every change.
//!
//! Hosts only appear in the kernel's table when they talk to this one, so
//! the watcher also probes: an ICMPv6 echo request to ff02::1 from the
//! router's address in the prefix (every host answers from its own address
//! there, resolving ours first, which enters its address into our table),
//! and, in the slow rounds, a unicast echo request to the EUI-64 guess of
//! every MAC seen without an address (which enters the table only if it
//! answers). Probes go out a
//! second after every router advertisement (hosts form their addresses from
//! it and finish duplicate address detection within about two seconds),
//! then at growing intervals, then every minute.
//!
//! Every address the kernel reports is then verified by a unicast echo
//! request carrying a fresh nonce, sent at once; it is published when the
//! reply carries the nonce back ([`netd_proto::neighbours::probe`]).

use std::io;
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ipnetwork::Ipv6Network;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::{MulticastGroup, new_multicast_connection};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use netd_proto::MacAddr;
use netd_proto::names::LocalNames;
use netd_proto::neighbours::NeighbourTable;
use netd_proto::neighbours::probe::{ECHO_REPLY, echo_reply_nonce, echo_request};

use super::netlink::event_from_message;
use crate::iface::interface_info;
use crate::ra::icmp_socket::{IcmpSocket, Received};

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Delays between probe rounds after start, a router advertisement or a new
/// host; then [`PROBE_EVERY`].
const PROBE_BURST: [Duration; 9] = [
    Duration::from_secs(1),
    Duration::from_secs(1),
    Duration::from_secs(1),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(5),
    Duration::from_secs(8),
    Duration::from_secs(13),
];
const PROBE_EVERY: Duration = Duration::from_secs(60);
/// Verification probes sent at once per second at most (a container that
/// floods forged solicitations gets the rest verified in the next rounds).
const VERIFY_PER_SECOND: u32 = 64;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("opening the netlink socket for neighbour events: {0}")]
    Netlink(#[from] io::Error),
    #[error("dumping the neighbour table: {0}")]
    Dump(#[from] rtnetlink::Error),
}

/// Watches the neighbours of one interface for `ra-names`.
#[derive(Debug)]
pub struct NeighbourWatcher {
    pub ifname: String,
    pub ifindex: u32,
    /// The advertised prefixes: only addresses in them are published.
    pub prefixes: Vec<Ipv6Network>,
    pub names: Arc<LocalNames>,
    /// Notified when a router advertisement goes out or a host solicits
    /// one: probe soon.
    pub wake: Arc<Notify>,
}

impl NeighbourWatcher {
    pub async fn run(self, cancel: CancellationToken) -> Result<(), WatchError> {
        let (conn, handle, mut messages) = new_multicast_connection(&[MulticastGroup::Neigh])?;
        let conn = tokio::spawn(conn);
        // Subscribed first, dumped second: nothing falls in between.
        let mut table = self.dump(&handle).await?;
        let mut prober = Prober::default();
        for addr in table.unverified() {
            prober.verify(&self, &mut table, addr).await;
        }
        info!(interface = %self.ifname, "watching neighbours for ra-names");
        let mut buf = vec![0u8; 256];
        let mut burst = 0;
        let mut next_probe = Instant::now() + PROBE_BURST[0];
        let result = loop {
            tokio::select! {
                _ = cancel.cancelled() => break Ok(()),
                _ = self.wake.notified() => {
                    burst = 0;
                    next_probe = next_probe.min(Instant::now() + PROBE_BURST[0]);
                }
                got = recv(prober.socket.as_ref(), &mut buf) => match got {
                    Ok(r) => {
                        let Some(nonce) = echo_reply_nonce(&buf[..r.len]) else { continue };
                        let from = *r.source.ip();
                        if table.echo_reply(from, nonce) {
                            debug!(interface = %self.ifname, addr = %from, "neighbour verified");
                            self.publish(&table);
                        } else if table.unknown_in_prefix(from) {
                            // Our probe makes the kernel resolve it; the
                            // entry then comes as an event, to verify.
                            prober.resolve(&self, from).await;
                        }
                    }
                    Err(e) => {
                        debug!(interface = %self.ifname, "neighbour probe socket: {e}");
                        prober.socket = None;
                    }
                },
                _ = sleep_until(next_probe) => {
                    if burst >= PROBE_BURST.len() {
                        // Re-read the whole table now and then, in case a
                        // notification was lost (netlink drops them when
                        // its socket buffer overflows).
                        match self.dump(&handle).await {
                            Ok(fresh) => if table.resync(fresh) {
                                debug!(interface = %self.ifname, "neighbour table resynchronised");
                                self.publish(&table);
                            },
                            Err(e) => debug!(interface = %self.ifname, "re-reading the neighbour table: {e}"),
                        }
                    }
                    // EUI-64 guesses only in the slow rounds: a unicast
                    // probe of an address still in duplicate address
                    // detection fails its neighbour resolution, and the
                    // kernel then drops what it forwards to that address
                    // for seconds (a container's first replies from the
                    // internet).
                    let guesses = burst >= PROBE_BURST.len();
                    prober.round(&self, &mut table, guesses).await;
                    burst += 1;
                    next_probe = Instant::now() + PROBE_BURST.get(burst).copied().unwrap_or(PROBE_EVERY);
                }
                got = messages.next() => {
                    let Some((msg, _)) = got else {
                        break Err(WatchError::Netlink(io::Error::other("the netlink connection closed")));
                    };
                    let (event, deleted) = match msg.payload {
                        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNeighbour(m)) => (m, false),
                        NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelNeighbour(m)) => (m, true),
                        _ => continue,
                    };
                    let Some(ev) = event_from_message(&event, deleted, self.ifindex) else { continue };
                    debug!(interface = %self.ifname, ?ev, "neighbour");
                    let changed = table.apply(ev);
                    if changed.names {
                        self.publish(&table);
                    }
                    if let Some(addr) = changed.verify {
                        prober.verify(&self, &mut table, addr).await;
                    }
                    if changed.new_mac {
                        burst = 0;
                        next_probe = next_probe.min(Instant::now() + PROBE_BURST[0]);
                    }
                }
            }
        };
        conn.abort();
        result
    }

    /// The interface's neighbours as the kernel has them now.
    async fn dump(&self, handle: &rtnetlink::Handle) -> Result<NeighbourTable, WatchError> {
        let mut table = NeighbourTable::new(self.prefixes.clone());
        let mut dump = handle.neighbours().get().execute();
        while let Some(msg) = dump.next().await {
            if let Some(ev) = event_from_message(&msg?, false, self.ifindex) {
                table.apply(ev);
            }
        }
        Ok(table)
    }

    fn publish(&self, table: &NeighbourTable) {
        let names = table.names();
        for (mac, addrs) in &names {
            debug!(interface = %self.ifname, mac = %MacAddr(*mac), ?addrs, "ra-names neighbour");
        }
        debug!(interface = %self.ifname, hosts = names.len(), "publishing neighbour addresses");
        self.names.set_neighbours(names);
    }

    /// A socket to probe from: bound to our address in the prefix,
    /// receiving echo replies.
    async fn probe_socket(&self) -> Option<IcmpSocket> {
        let info = interface_info(&self.ifname).await.ok()?;
        let Some(source) = info
            .global_ipv6()
            .map(|n| n.ip())
            .find(|a| self.prefixes.iter().any(|p| p.contains(*a)))
        else {
            debug!(interface = %self.ifname, "no address of ours in the prefix to probe from");
            return None;
        };
        match IcmpSocket::open(&info.name, info.index, source, &[ECHO_REPLY]) {
            Ok(s) => Some(s),
            Err(e) => {
                debug!(interface = %self.ifname, %source, "cannot probe neighbours: {e}");
                None
            }
        }
    }
}

/// The probing side of the watcher: one socket kept open, and the rate of
/// verification probes.
#[derive(Debug, Default)]
struct Prober {
    socket: Option<IcmpSocket>,
    seq: u16,
    window: Option<(Instant, u32)>,
}

impl Prober {
    async fn send(&mut self, watcher: &NeighbourWatcher, dest: Ipv6Addr, nonce: u64) -> bool {
        if self.socket.is_none() {
            self.socket = watcher.probe_socket().await;
        }
        let Some(socket) = &self.socket else {
            return false;
        };
        self.seq = self.seq.wrapping_add(1);
        match socket.send_to(&echo_request(self.seq, nonce), dest).await {
            Ok(()) => true,
            Err(e) => {
                debug!(interface = %watcher.ifname, %dest, "probe: {e}");
                false
            }
        }
    }

    /// Verifies `addr` now, unless this second's verifications are spent.
    async fn verify(
        &mut self,
        watcher: &NeighbourWatcher,
        table: &mut NeighbourTable,
        addr: Ipv6Addr,
    ) {
        if !self.spend() {
            return;
        }
        let nonce = rand::random();
        if self.send(watcher, addr, nonce).await {
            table.probe_sent(addr, nonce);
        }
    }

    /// Makes the kernel resolve `addr` (an untracked probe), within the
    /// same rate as verifications.
    async fn resolve(&mut self, watcher: &NeighbourWatcher, addr: Ipv6Addr) {
        if self.spend() {
            self.send(watcher, addr, rand::random()).await;
        }
    }

    /// Takes one from this second's probes; false when they are spent.
    fn spend(&mut self) -> bool {
        let now = Instant::now();
        let (start, count) = self.window.get_or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(1) {
            (*start, *count) = (now, 0);
        }
        if *count >= VERIFY_PER_SECOND {
            return false;
        }
        *count += 1;
        true
    }

    /// One probe round; failures are logged, never fatal.
    async fn round(
        &mut self,
        watcher: &NeighbourWatcher,
        table: &mut NeighbourTable,
        guesses: bool,
    ) {
        // Replies to these only bring hosts into the kernel's table; their
        // nonces verify nothing (every host sees the multicast one).
        let mut sent = 0;
        let guesses = if guesses {
            table.eui64_guesses()
        } else {
            Vec::new()
        };
        for dest in std::iter::once(ALL_NODES).chain(guesses) {
            sent += usize::from(self.send(watcher, dest, rand::random()).await);
        }
        for addr in table.unverified() {
            self.verify(watcher, table, addr).await;
        }
        debug!(interface = %watcher.ifname, probes = sent, "probed neighbours");
    }
}

/// The next message on `socket`; never, without one.
async fn recv(socket: Option<&IcmpSocket>, buf: &mut [u8]) -> io::Result<Received> {
    match socket {
        Some(s) => s.recv(buf).await,
        None => std::future::pending().await,
    }
}
