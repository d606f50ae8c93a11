//! The UDP service on one bound socket: a hit or a local answer is sent
//! from this task straight away; a miss is handed to its own task.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::{Shared, forward};
use crate::dns::resolver::{Decision, Forward, Transport};

/// The largest query we read; anything longer is truncated and FORMERR'd.
const MAX_QUERY: usize = 4096;

/// Serves queries on `socket` until `cancel`.
pub async fn serve_udp(
    socket: Arc<UdpSocket>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) -> io::Result<()> {
    let mut buf = vec![0u8; MAX_QUERY];
    let mut out = Vec::with_capacity(MAX_QUERY);
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        let (n, src) = tokio::select! {
            biased;
            r = socket.recv_from(&mut buf) => match r {
                Ok(got) => got,
                Err(e) => {
                    // ICMP errors from earlier sends surface here; not fatal.
                    debug!(error = %e, "DNS UDP receive error");
                    continue;
                }
            },
            _ = &mut cancelled => return Ok(()),
        };
        let decision = shared.resolver().handle_query(
            &buf[..n],
            src.ip(),
            Transport::Udp,
            Instant::now(),
            &mut out,
        );
        match decision {
            Decision::Reply => send(&socket, &out, src).await,
            Decision::Drop => debug!(%src, len = n, "dropped a DNS message"),
            Decision::Forward(fwd) => {
                let Ok(permit) = shared.in_flight.try_acquire() else {
                    debug!(%src, "too many queries in flight; dropped one");
                    continue;
                };
                permit.forget();
                let (socket, shared) = (socket.clone(), shared.clone());
                tokio::spawn(async move {
                    forward_and_reply(&socket, &shared, &fwd, src).await;
                    shared.in_flight.add_permits(1);
                });
            }
        }
    }
}

async fn forward_and_reply(socket: &UdpSocket, shared: &Shared, fwd: &Forward, src: SocketAddr) {
    let reply = forward::resolve(shared, fwd).await;
    let mut out = Vec::with_capacity(reply.as_ref().map_or(64, Vec::len) + 16);
    shared
        .resolver()
        .complete(fwd, reply.as_deref(), Instant::now(), &mut out);
    send(socket, &out, src).await;
}

async fn send(socket: &UdpSocket, msg: &[u8], to: SocketAddr) {
    if let Err(e) = socket.send_to(msg, to).await {
        debug!(%to, error = %e, "DNS UDP send failed");
    }
}
