//! The TCP service on one listener (RFC 7766): length-prefixed messages,
//! answered in order, an idle timeout, and a cap on open connections.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::{Shared, forward};
use crate::stats;
use crate::transient::TransientErrors;
use netd_proto::dns::resolver::{Decision, Transport};

#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Open connections at most; more are closed at once.
    pub max_connections: usize,
    /// A connection with no complete query for this long is closed.
    pub idle: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 64,
            idle: Duration::from_secs(10),
        }
    }
}

pub async fn serve_tcp(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: TcpLimits,
    cancel: CancellationToken,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
                Ok(got) => got,
                Err(e) => {
                    errors.note(&shared.stats.io_errors, "accepting a DNS TCP connection", &e);
                    // EMFILE and friends do not pass by themselves at once.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            debug!(%peer, "DNS TCP connection limit reached; closing");
            continue;
        };
        let (shared, cancel) = (shared.clone(), cancel.clone());
        tokio::spawn(async move {
            tokio::select! {
                r = connection(stream, peer, &shared, limits.idle) => {
                    if let Err(e) = r {
                        debug!(%peer, error = %e, "DNS TCP connection ended");
                    }
                }
                _ = cancel.cancelled() => {}
            }
            drop(slot);
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    idle: Duration,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(1024);
    loop {
        let msg = match tokio::time::timeout(idle, read_message(&mut stream)).await {
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
            Decision::Forward(fwd) => {
                let reply = forward::resolve(shared, &fwd).await;
                if reply.is_none() {
                    stats::add(&shared.stats.upstream_failures, 1);
                }
                let mut r = shared.resolver();
                r.complete(&fwd, reply.as_deref(), Instant::now(), &mut out);
                shared.publish(&r);
            }
        }
        let mut framed = Vec::with_capacity(out.len() + 2);
        framed.extend_from_slice(&(out.len() as u16).to_be_bytes());
        framed.extend_from_slice(&out);
        stream.write_all(&framed).await?;
    }
}

async fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let len = stream.read_u16().await? as usize;
    let mut msg = vec![0u8; len];
    stream.read_exact(&mut msg).await?;
    Ok(msg)
}
