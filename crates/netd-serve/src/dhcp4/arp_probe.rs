//! ARP probes for the DHCP core: is the lease that holds a name another
//! client asks for still in use ([`NameProbe`]: an ARP message from its
//! address at the lease's MAC), and is a pool address free (no answer at
//! all)? A task owns a packet socket, sends a few requests for the address
//! and waits. One probe at a time, in order; the result goes back to the
//! DHCP shell, which hands it to the core.

use std::io::Read;
use std::net::Ipv4Addr;
use std::time::Duration;

use socket2::Socket;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};
use tracing::debug;

use netd_proto::dhcp4::NameProbe;
use netd_proto::dhcp4::arp;

use crate::iface::interface_info;
use crate::sys;

/// Requests sent per probe, this far apart; the holder is silent when
/// nothing came back [`ANSWER_WAIT`] after the first.
const REQUESTS: u32 = 3;
const REQUEST_GAP: Duration = Duration::from_millis(300);
const ANSWER_WAIT: Duration = Duration::from_secs(1);
/// Probes waiting at most (the core queues no more than this either).
const QUEUE: usize = 64;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Does the name's holder still answer, at its lease's MAC?
    Name(NameProbe),
    /// Does anyone answer for this pool address?
    Free(Ipv4Addr),
}

/// A probe and the MAC that answered it (`None`: silence).
pub(crate) type Outcome = (Probe, Option<[u8; 6]>);

/// The shell's handle: probes in (names before free addresses: a client
/// waits for a name's probe), results out.
#[derive(Debug)]
pub(crate) struct ArpProber {
    names: mpsc::Sender<Probe>,
    free: mpsc::Sender<Probe>,
    pub(crate) results: mpsc::Receiver<Outcome>,
}

/// The socket and who we are on the link, opened while privileged.
#[derive(Debug)]
pub(crate) struct ArpSocket {
    fd: AsyncFd<Socket>,
    ifname: String,
    ifindex: u32,
    /// The interface's MAC when last read: a bridge without a fixed one
    /// takes its ports' lowest, so it changes as containers come and go,
    /// and it is read again before each probe.
    mac: [u8; 6],
    ip: Ipv4Addr,
}

impl ArpSocket {
    /// Opens the socket on interface `ifname` (`ifindex`), asking as `ip`
    /// at `mac`.
    pub(crate) fn open(
        ifname: &str,
        ifindex: u32,
        mac: [u8; 6],
        ip: Ipv4Addr,
    ) -> std::io::Result<ArpSocket> {
        let fd = sys::async_fd(sys::packet::arp_socket(ifindex)?)?;
        Ok(ArpSocket {
            fd,
            ifname: ifname.to_owned(),
            ifindex,
            mac,
            ip,
        })
    }

    /// Who answers for `target` (only `want`, when given).
    async fn probe(&mut self, target: Ipv4Addr, want: Option<[u8; 6]>) -> Option<[u8; 6]> {
        if let Ok(info) = interface_info(&self.ifname).await
            && let Some(mac) = info.mac
        {
            self.mac = mac.0;
        }
        let request = arp::request(self.mac, self.ip, target);
        let deadline = Instant::now() + ANSWER_WAIT;
        let mut buf = [0u8; 64];
        for n in 0..REQUESTS {
            if let Err(e) = sys::packet::send_broadcast(self.fd.get_ref(), self.ifindex, &request) {
                debug!(%target, "ARP request: {e}");
            }
            let next = (Instant::now() + REQUEST_GAP).min(deadline);
            let until = if n + 1 == REQUESTS { deadline } else { next };
            loop {
                let got = timeout_at(
                    until,
                    self.fd
                        .async_io(Interest::READABLE, |s| (&*s).read(&mut buf)),
                )
                .await;
                match got {
                    Err(_) => break,
                    Ok(Err(e)) => {
                        debug!(%target, "ARP receive: {e}");
                        break;
                    }
                    Ok(Ok(len)) => {
                        if let Some((mac, ip)) = arp::sender(&buf[..len])
                            && ip == target
                            && want.is_none_or(|w| w == mac)
                        {
                            return Some(mac);
                        }
                    }
                }
            }
        }
        None
    }
}

impl ArpProber {
    /// Starts the probing task on `socket`.
    pub(crate) fn spawn(mut socket: ArpSocket) -> ArpProber {
        let (names, mut name_rx) = mpsc::channel::<Probe>(QUEUE);
        let (free, mut free_rx) = mpsc::channel::<Probe>(QUEUE);
        let (result_tx, results) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            loop {
                let probe = tokio::select! {
                    biased;
                    Some(p) = name_rx.recv() => p,
                    Some(p) = free_rx.recv() => p,
                    else => return,
                };
                let answer = match &probe {
                    Probe::Name(p) => socket.probe(p.holder_addr, Some(p.holder_mac)).await,
                    Probe::Free(addr) => socket.probe(*addr, None).await,
                };
                debug!(?probe, answered = answer.is_some(), "ARP probe");
                if result_tx.send((probe, answer)).await.is_err() {
                    return;
                }
            }
        });
        ArpProber {
            names,
            free,
            results,
        }
    }

    /// Queues `probe`; gives it back when the queue is full.
    pub(crate) fn start(&self, probe: Probe) -> Result<(), Probe> {
        let queue = match probe {
            Probe::Name(_) => &self.names,
            Probe::Free(_) => &self.free,
        };
        queue.try_send(probe).map_err(|e| match e {
            mpsc::error::TrySendError::Full(p) | mpsc::error::TrySendError::Closed(p) => p,
        })
    }
}
