//! One forwarded query's trip upstream: each candidate in turn, a fresh
//! socket on a random port with a random ID per attempt, replies accepted
//! only from the server asked with the ID and question sent; TCP when a
//! TCP client's answer came back truncated.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::RngExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tracing::debug;

use super::Shared;
use netd_proto::dns::resolver::{Forward, Transport};
use netd_proto::dns::wire::{self, flags, rcode};

/// The whole of one TCP exchange with an upstream.
const TCP_TIMEOUT: Duration = Duration::from_secs(3);
/// Lowest source port picked (below are the well-known ports).
const MIN_PORT: u16 = 1024;

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
        let id: u16 = rand::rng().random();
        fwd.upstream_query(id, &mut query);
        let started = Instant::now();
        let reply = match udp_exchange(addr, &query, id, fwd, timeout).await {
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

/// A UDP socket bound to a random port of the wildcard address of
/// `upstream`'s family, connected to `upstream` so the kernel drops
/// datagrams from anyone else.
fn random_port_socket(upstream: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let ip = match upstream.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let mut rng = rand::rng();
    let mut last = None;
    for _ in 0..16 {
        let port = rng.random_range(MIN_PORT..=u16::MAX);
        match std::net::UdpSocket::bind(SocketAddr::new(ip, port)) {
            Ok(s) => {
                s.set_nonblocking(true)?;
                s.connect(upstream)?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free port")))
}

async fn udp_exchange(
    upstream: SocketAddr,
    query: &[u8],
    id: u16,
    fwd: &Forward,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let socket = UdpSocket::from_std(random_port_socket(upstream)?)?;
    socket.send(query).await?;
    let deadline = tokio::time::Instant::now() + timeout;
    // We advertise 1232 bytes; 4096 leaves room for servers that ignore it.
    let mut buf = vec![0u8; 4096];
    loop {
        let got = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await;
        let (n, from) = match got {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer")),
            Ok(r) => r?,
        };
        let reply = &buf[..n];
        if from == upstream && fwd.matches(id, reply) {
            buf.truncate(n);
            return Ok(buf);
        }
        debug!(upstream = %upstream, %from, len = n, "dropped a reply that does not match the query");
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
