//! One forwarded query's trip upstream: admitted within the limits
//! ([`super::limits`]), merged with identical queries in flight
//! ([`super::merge`]), then each candidate server in turn from a pooled
//! random-port socket with a random ID per attempt ([`super::pool`]),
//! replies accepted only from the server asked with the ID and question
//! sent; TCP when a TCP client's answer came back truncated.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::RngExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

use super::Shared;
use super::limits::{ExchangeSlot, SourceSlot};
use super::merge::{self, Role};
use crate::stats;
use netd_proto::dns::resolver::{Forward, Transport};
use netd_proto::dns::wire::{self, flags, rcode};

/// The whole of one TCP exchange with an upstream.
const TCP_TIMEOUT: Duration = Duration::from_secs(3);

/// A forwarded query let in: its place in its source's share, and either
/// an upstream exchange of its own or a place among a leader's waiters.
#[derive(Debug)]
pub(super) struct Admitted {
    _source: SourceSlot,
    role: Admission,
}

#[derive(Debug)]
enum Admission {
    Lead(merge::Leader, ExchangeSlot),
    Follow(tokio::sync::watch::Receiver<Option<merge::Outcome>>),
}

/// Lets `fwd` from `source` in, or counts why not and returns `None`.
pub(super) fn admit(shared: &Shared, fwd: &Forward, source: IpAddr) -> Option<Admitted> {
    let Some(slot) = shared.limits.source(source) else {
        stats::add(&shared.stats.source_limited, 1);
        debug!(%source, "this client has its share of forwarded queries in flight; dropped one");
        return None;
    };
    let role = match shared.in_flight.join(fwd.transport, fwd.query.key()) {
        Role::Lead(leader) => {
            let Some(exchange) = shared.limits.exchange() else {
                stats::add(&shared.stats.dropped, 1);
                debug!(%source, "dns-forward-max queries in flight; dropped one");
                return None;
            };
            Admission::Lead(leader, exchange)
        }
        Role::Follow(rx) => {
            stats::add(&shared.stats.merged, 1);
            Admission::Follow(rx)
        }
        Role::Full => {
            stats::add(&shared.stats.dropped, 1);
            return None;
        }
    };
    Some(Admitted {
        _source: slot,
        role,
    })
}

/// Asks upstream (or waits for the identical query that does) and writes
/// the reply to `fwd` into `out`.
pub(super) async fn answer(shared: &Shared, fwd: &Forward, admitted: Admitted, out: &mut Vec<u8>) {
    match admitted.role {
        Admission::Lead(leader, exchange) => {
            let reply = resolve(shared, fwd).await;
            drop(exchange);
            if reply.is_none() {
                stats::add(&shared.stats.upstream_failures, 1);
            }
            // For servers.bind; read before the resolver's lock is taken.
            let report = shared.upstreams().report();
            let prepared = {
                let mut r = shared.resolver();
                r.set_upstream_report(report);
                let p = r.prepare(reply.as_deref());
                r.finish(fwd, p.as_ref(), Some(Instant::now()), out);
                shared.publish(&r);
                p
            };
            leader.finish(Arc::new(prepared));
        }
        Admission::Follow(rx) => {
            let outcome = merge::wait(rx).await;
            let prepared = outcome.as_deref().and_then(Option::as_ref);
            shared.resolver().finish(fwd, prepared, None, out);
        }
    }
}

/// The upstream's reply to `fwd`, or `None` when no upstream gave one.
pub(super) async fn resolve(shared: &Shared, fwd: &Forward) -> Option<Vec<u8>> {
    let candidates = match &fwd.servers {
        Some(s) => s.clone(),
        None => shared.upstreams().candidates(Instant::now()),
    };
    let mut query = Vec::with_capacity(fwd.question.len() + wire::OPT_LEN);
    let mut fallback = None;
    for addr in candidates {
        let timeout = shared.upstreams().attempt_timeout(addr);
        let started = Instant::now();
        let reply = match udp_exchange(shared, addr, &mut query, fwd, timeout).await {
            Ok(reply) => reply,
            Err(e) => {
                debug!(upstream = %addr, error = %e, "upstream attempt failed");
                shared.upstreams().timed_out(addr, Instant::now());
                continue;
            }
        };
        let rtt = started.elapsed();
        shared.upstreams().answered(addr, rtt);
        shared.stats.upstream_latency.observe(rtt);
        let fl = wire::u16_at(&reply, 2).unwrap_or(0);
        let reply = if fl & flags::TC != 0 && fwd.transport == Transport::Tcp {
            let id: u16 = rand::rng().random();
            fwd.upstream_query(id, &mut query);
            match tokio::time::timeout(TCP_TIMEOUT, tcp_exchange(addr, &query, id, fwd)).await {
                Ok(Ok(full)) => full,
                Ok(Err(e)) => {
                    debug!(upstream = %addr, error = %e, "TCP retry failed");
                    reply
                }
                Err(_) => reply,
            }
        } else {
            reply
        };
        let rc = (fl & flags::RCODE_MASK) as u8;
        if rc == rcode::SERVFAIL || rc == rcode::REFUSED {
            debug!(upstream = %addr, rc, "upstream declined; trying the next");
            fallback = Some(reply);
            continue;
        }
        return Some(reply);
    }
    fallback
}

async fn udp_exchange(
    shared: &Shared,
    upstream: SocketAddr,
    query: &mut Vec<u8>,
    fwd: &Forward,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let mut ticket = shared.pool.register(upstream)?;
    fwd.upstream_query(ticket.id, query);
    ticket.send(query).await?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let reply = match tokio::time::timeout_at(deadline, ticket.next_reply()).await {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer")),
            Ok(None) => return Err(io::Error::other("upstream socket closed")),
            Ok(Some(r)) => r,
        };
        if fwd.matches(ticket.id, &reply) {
            return Ok(reply);
        }
        debug!(upstream = %upstream, len = reply.len(), "dropped a reply that does not match the question");
    }
}

async fn tcp_exchange(
    upstream: SocketAddr,
    query: &[u8],
    id: u16,
    fwd: &Forward,
) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(upstream).await?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let len = stream.read_u16().await? as usize;
    let mut reply = vec![0u8; len];
    stream.read_exact(&mut reply).await?;
    if !fwd.matches(id, &reply) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "TCP reply does not match the query",
        ));
    }
    Ok(reply)
}
