//! The UDP service on one bound socket: hits and local answers are sent
//! from this task, in batches; a miss admitted within the forward limits
//! is handed to its own task.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::{Shared, forward};
use crate::sys::mmsg::{self, RecvBatch, SendBatch};
use crate::transient::TransientErrors;
use netd_proto::dns::resolver::{Decision, Forward, Transport};
use netd_proto::dns::wire::EDNS_UDP_PAYLOAD;

/// The largest query we read; anything longer is truncated and FORMERR'd.
const MAX_QUERY: usize = 4096;

/// Serves queries on `socket` until `cancel`. Queries are read and replies
/// sent in batches ([`mmsg`]); a batch is decided under one lock and one
/// clock reading.
pub async fn serve_udp(
    socket: Arc<UdpSocket>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    let mut queries = RecvBatch::new(MAX_QUERY);
    let mut replies = SendBatch::new(usize::from(EDNS_UDP_PAYLOAD));
    let mut forwards: Vec<(Box<Forward>, SocketAddr)> = Vec::with_capacity(mmsg::BATCH);
    let mut errors = TransientErrors::new(
        "dns",
        &socket
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        tokio::select! {
            biased;
            r = socket.readable() => r?,
            _ = &mut cancelled => return Ok(()),
        }
        let n = match socket.try_io(Interest::READABLE, || queries.recv(fd)) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                // ICMP errors from earlier sends surface here; not fatal.
                errors.note(&shared.stats.io_errors, "receiving DNS queries", &e);
                continue;
            }
        };
        {
            let mut resolver = shared.resolver();
            let now = Instant::now();
            for i in 0..n {
                let Some((msg, src)) = queries.get(i) else {
                    continue;
                };
                match resolver.handle_query(msg, src.ip(), Transport::Udp, now, replies.next_buf())
                {
                    Decision::Reply => replies.commit(src),
                    Decision::Drop => debug!(%src, len = msg.len(), "dropped a DNS message"),
                    Decision::Forward(fwd) => forwards.push((fwd, src)),
                }
            }
            shared.publish(&resolver);
        }
        for (fwd, src) in forwards.drain(..) {
            let Some(admitted) = forward::admit(&shared, &fwd, src.ip()) else {
                continue;
            };
            let (socket, shared) = (socket.clone(), shared.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                forward::answer(&shared, &fwd, admitted, &mut out).await;
                send(&socket, &out, src).await;
            });
        }
        let mut sent = 0;
        while sent < replies.len() {
            match socket.try_io(Interest::WRITABLE, || replies.send(fd, sent)) {
                Ok(k) => sent += k.max(1),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => socket.writable().await?,
                Err(e) => {
                    if let Some((_, to)) = replies.get(sent) {
                        errors.note(
                            &shared.stats.io_errors,
                            &format!("sending a DNS reply to {to}"),
                            &e,
                        );
                    }
                    sent += 1;
                }
            }
        }
        replies.clear();
    }
}

async fn send(socket: &UdpSocket, msg: &[u8], to: SocketAddr) {
    if let Err(e) = socket.send_to(msg, to).await {
        debug!(%to, error = %e, "DNS UDP send failed");
    }
}
