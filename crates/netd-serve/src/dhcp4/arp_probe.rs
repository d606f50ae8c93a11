//! ARP probes of a name's holder ([`NameProbe`]): is the lease that holds
//! a name another client asks for still in use? A task owns a packet
//! socket, sends a few requests for the holder's address and waits for an
//! ARP message from it at the lease's MAC. One probe at a time, in order;
//! the result goes back to the DHCP shell, which hands it to the core.

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

use crate::sys;

/// Requests sent per probe, this far apart; the holder is silent when
/// nothing came back [`ANSWER_WAIT`] after the first.
const REQUESTS: u32 = 3;
const REQUEST_GAP: Duration = Duration::from_millis(300);
const ANSWER_WAIT: Duration = Duration::from_secs(1);
/// Probes waiting at most (the core queues no more than this either).
const QUEUE: usize = 64;

/// The shell's handle: probes in, results out.
#[derive(Debug)]
pub(crate) struct ArpProber {
    tx: mpsc::Sender<NameProbe>,
    pub(crate) results: mpsc::Receiver<(NameProbe, bool)>,
}

/// The socket and who we are on the link, opened while privileged.
#[derive(Debug)]
pub(crate) struct ArpSocket {
    fd: AsyncFd<Socket>,
    ifindex: u32,
    mac: [u8; 6],
    ip: Ipv4Addr,
}

impl ArpSocket {
    /// Opens the socket on `ifindex`, asking as `ip` at `mac`.
    pub(crate) fn open(ifindex: u32, mac: [u8; 6], ip: Ipv4Addr) -> std::io::Result<ArpSocket> {
        let fd = sys::async_fd(sys::packet::arp_socket(ifindex)?)?;
        Ok(ArpSocket {
            fd,
            ifindex,
            mac,
            ip,
        })
    }

    /// Whether `target` answers at `mac`.
    async fn probe(&self, target: Ipv4Addr, mac: [u8; 6]) -> bool {
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
                        if arp::sender(&buf[..len]) == Some((mac, target)) {
                            return true;
                        }
                    }
                }
            }
        }
        false
    }
}

impl ArpProber {
    /// Starts the probing task on `socket`.
    pub(crate) fn spawn(socket: ArpSocket) -> ArpProber {
        let (tx, mut rx) = mpsc::channel::<NameProbe>(QUEUE);
        let (result_tx, results) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            while let Some(probe) = rx.recv().await {
                let answered = socket.probe(probe.holder_addr, probe.holder_mac).await;
                debug!(name = %probe.name, holder = %probe.holder_addr, answered, "probed a name's holder");
                if result_tx.send((probe, answered)).await.is_err() {
                    return;
                }
            }
        });
        ArpProber { tx, results }
    }

    /// Queues `probe`; gives it back when the queue is full.
    pub(crate) fn start(&self, probe: NameProbe) -> Result<(), NameProbe> {
        self.tx.try_send(probe).map_err(|e| match e {
            mpsc::error::TrySendError::Full(p) | mpsc::error::TrySendError::Closed(p) => p,
        })
    }
}
