//! The TCP service on one listener (RFC 7766): length-prefixed messages,
//! answered in order, an idle timeout, and room made for new connections
//! by closing the longest-idle ones ([`super::tcp_slots`]).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::tcp_slots::{AcceptBackoff, Slot, Slots, TcpLimits};
use super::{Shared, forward};
use crate::stats;
use crate::transient::TransientErrors;
use netd_proto::dns::resolver::{Decision, Transport};

pub async fn serve_tcp(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: TcpLimits,
    cancel: CancellationToken,
) -> io::Result<()> {
    let slots = Slots::new(limits);
    let mut backoff = AcceptBackoff::new();
    let mut errors = TransientErrors::new(
        "dns",
        &listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    loop {
        let (stream, peer) = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = listener.accept() => match r {
                Ok(got) => {
                    backoff.succeeded();
                    got
                }
                Err(e) => {
                    errors.note(&shared.stats.io_errors, "accepting a DNS TCP connection", &e);
                    // EMFILE and friends do not pass at once: wait longer
                    // each time rather than spin.
                    let wait = backoff.failed();
                    tokio::select! {
                        _ = cancel.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
            },
        };
        let mut evicted = false;
        let slot = slots.admit(peer.ip(), Instant::now(), &mut evicted);
        if evicted {
            stats::add(&shared.stats.tcp_evicted, 1);
            debug!(%peer, "DNS TCP connections full; closed the longest-idle one");
        }
        let Some(slot) = slot else {
            debug!(%peer, "every DNS TCP connection is waiting upstream; closing the new one");
            continue;
        };
        let (shared, cancel) = (shared.clone(), cancel.clone());
        tokio::spawn(async move {
            tokio::select! {
                r = connection(stream, peer, &shared, &slot, limits) => {
                    if let Err(e) = r {
                        debug!(%peer, error = %e, "DNS TCP connection ended");
                    }
                }
                _ = slot.close.cancelled() => {}
                _ = cancel.cancelled() => {}
            }
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    slot: &Slot,
    limits: TcpLimits,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(1024);
    loop {
        let msg = match tokio::time::timeout(limits.idle, read_message(&mut stream)).await {
            Err(_) => return Ok(()), // idle
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(r) => r?,
        };
        let decision = {
            let mut r = shared.resolver();
            let d = r.handle_query(&msg, peer.ip(), Transport::Tcp, Instant::now(), &mut out);
            shared.publish(&r);
            d
        };
        match decision {
            Decision::Reply => {}
            Decision::Drop => return Ok(()),
            Decision::Forward(fwd) => match forward::admit(shared, &fwd, peer.ip()) {
                Some(admitted) => {
                    slot.set_busy(true, Instant::now());
                    forward::answer(shared, &fwd, admitted, &mut out).await;
                }
                None => {
                    // Over the limits: a TCP client gets an answer rather
                    // than silence, and may ask again.
                    let mut r = shared.resolver();
                    r.finish(&fwd, None, None, &mut out);
                    debug!(%peer, "forward limits reached; answered SERVFAIL");
                }
            },
        }
        let mut framed = Vec::with_capacity(out.len() + 2);
        framed.extend_from_slice(&(out.len() as u16).to_be_bytes());
        framed.extend_from_slice(&out);
        stream.write_all(&framed).await?;
        slot.set_busy(false, Instant::now());
    }
}

async fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let len = stream.read_u16().await? as usize;
    let mut msg = vec![0u8; len];
    stream.read_exact(&mut msg).await?;
    Ok(msg)
}
