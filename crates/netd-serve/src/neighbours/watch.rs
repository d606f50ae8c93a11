//! The neighbour watcher's tokio shell: subscribes to the kernel's
//! neighbour notifications (RTNLGRP_NEIGH), dumps the current table, keeps a
//! [`NeighbourTable`] and publishes it into [`LocalNames`] on every change.
//!
//! Hosts only appear in the kernel's table when they talk to this one, so
//! the watcher also probes: an ICMPv6 echo request to ff02::1 from the
//! router's address in the prefix (every host answers from its own address
//! there, resolving ours first, which enters its address into our table),
//! and a unicast echo request to the EUI-64 guess of every MAC seen without
//! an address (which enters the table only if it answers). Probes go out
//! shortly after start and after a new host shows up, then every minute.

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

use super::netlink::event_from_message;
use crate::iface::interface_info;
use crate::ra::icmp_socket::IcmpSocket;

/// ICMPv6 Echo Request (RFC 4443 4.1).
const ICMPV6_ECHO_REQUEST: u8 = 128;
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Delays between probes after start or a new host; then [`PROBE_EVERY`].
const PROBE_BURST: [Duration; 5] = [
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(20),
];
const PROBE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("opening the netlink socket for neighbour events: {0}")]
    Netlink(#[from] std::io::Error),
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
    /// Notified when a host solicits a router: probe soon.
    pub wake: Arc<Notify>,
}

impl NeighbourWatcher {
    pub async fn run(self, cancel: CancellationToken) -> Result<(), WatchError> {
        let (conn, handle, mut messages) = new_multicast_connection(&[MulticastGroup::Neigh])?;
        let conn = tokio::spawn(conn);
        // Subscribed first, dumped second: nothing falls in between.
        let mut table = self.dump(&handle).await?;
        self.publish(&table);
        info!(interface = %self.ifname, "watching neighbours for ra-names");
        let mut burst = 0;
        let mut next_probe = Instant::now() + PROBE_BURST[0];
        let result = loop {
            tokio::select! {
                _ = cancel.cancelled() => break Ok(()),
                _ = self.wake.notified() => {
                    burst = 0;
                    next_probe = next_probe.min(Instant::now() + PROBE_BURST[0]);
                }
                _ = sleep_until(next_probe) => {
                    if burst >= PROBE_BURST.len() {
                        // Re-read the whole table now and then, in case a
                        // notification was lost (netlink drops them when
                        // its socket buffer overflows).
                        match self.dump(&handle).await {
                            Ok(fresh) => {
                                if fresh.names() != table.names() {
                                    debug!(interface = %self.ifname, "neighbour table resynchronised");
                                    table = fresh;
                                    self.publish(&table);
                                } else {
                                    table = fresh;
                                }
                            }
                            Err(e) => debug!(interface = %self.ifname, "re-reading the neighbour table: {e}"),
                        }
                    }
                    self.probe(&table).await;
                    burst += 1;
                    next_probe = Instant::now() + PROBE_BURST.get(burst).copied().unwrap_or(PROBE_EVERY);
                }
                got = messages.next() => {
                    let Some((msg, _)) = got else {
                        break Err(WatchError::Netlink(std::io::Error::other("the netlink connection closed")));
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

    /// One probe round; failures are logged, never fatal.
    async fn probe(&self, table: &NeighbourTable) {
        let Ok(info) = interface_info(&self.ifname).await else {
            return;
        };
        let Some(source) = info
            .global_ipv6()
            .map(|n| n.ip())
            .find(|a| self.prefixes.iter().any(|p| p.contains(*a)))
        else {
            debug!(interface = %self.ifname, "no address of ours in the prefix to probe from");
            return;
        };
        let socket = match IcmpSocket::open(&info.name, info.index, source, &[]) {
            Ok(s) => s,
            Err(e) => {
                debug!(interface = %self.ifname, %source, "cannot probe neighbours: {e}");
                return;
            }
        };
        let mut targets = vec![ALL_NODES];
        targets.extend(table.eui64_guesses());
        for (seq, dest) in targets.iter().enumerate() {
            let echo = echo_request(seq as u16);
            if let Err(e) = socket.send_to(&echo, *dest).await {
                debug!(interface = %self.ifname, %dest, "probe: {e}");
            }
        }
        debug!(interface = %self.ifname, probes = targets.len(), "probed neighbours");
    }
}

/// An Echo Request; the kernel fills in the checksum.
fn echo_request(seq: u16) -> Vec<u8> {
    let mut m = vec![ICMPV6_ECHO_REQUEST, 0, 0, 0, 0x6e, 0x64];
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"nspawn-netd ra-names");
    m
}
