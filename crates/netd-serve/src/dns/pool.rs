//! The sockets upstream queries leave from, kept as dnsmasq keeps them
//! rather than one bound, connected and closed per query.
//!
//! Each address family has [`SLOTS`] slots. A query takes a slot at
//! random; the socket there, bound to a random port, serves it unless it
//! has served [`MAX_USES`] queries or is older than [`MAX_AGE`], in which
//! case a new socket on a new random port takes the slot (the old one
//! closes once its last query is done). So a query's port is one of up to
//! 64 random ports that change at least every second, and under light
//! load nearly every query has a port of its own, as before.
//!
//! Replies are read by one task per socket and handed to the query waiting
//! for the (server, ID) pair, so a reply from any other address or with any
//! other ID reaches no one; the query itself then checks the question
//! ([`netd_proto::dns::resolver::Forward::matches`]). IDs are random and
//! unique per socket and server among the queries in flight.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::RngExt;
use tokio::net::UdpSocket;
use tokio::sync::{Notify, mpsc};
use tracing::debug;

/// Sockets per address family.
pub(crate) const SLOTS: usize = 64;
/// Queries a socket serves before its slot gets a new one.
pub(crate) const MAX_USES: u32 = 100;
/// Age past which a socket takes no new query.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);
/// Lowest source port picked (below are the well-known ports).
const MIN_PORT: u16 = 1024;
/// The largest upstream reply read over UDP: we advertise 1232 bytes, and
/// 4096 leaves room for servers that ignore it.
const MAX_REPLY: usize = 4096;
/// Datagrams that may queue for one query (forged ones among them).
const QUEUE: usize = 4;

type Waiting = HashMap<(SocketAddr, u16), mpsc::Sender<Vec<u8>>>;

/// One pooled socket and the queries waiting on it.
#[derive(Debug)]
struct PoolSocket {
    socket: UdpSocket,
    waiting: Mutex<Waiting>,
    born: Instant,
    uses: AtomicU32,
    /// Out of its slot: the reader stops once no query waits.
    retired: AtomicBool,
    /// Wakes the reader when it may stop.
    done: Notify,
}

/// A query's registration on a socket; unregisters on drop.
#[derive(Debug)]
pub(crate) struct Ticket {
    socket: Arc<PoolSocket>,
    upstream: SocketAddr,
    pub(crate) id: u16,
    replies: mpsc::Receiver<Vec<u8>>,
}

#[derive(Debug, Default)]
pub(crate) struct UpstreamPool {
    v4: Mutex<Vec<Option<Arc<PoolSocket>>>>,
    v6: Mutex<Vec<Option<Arc<PoolSocket>>>>,
}

impl UpstreamPool {
    fn slots(&self, upstream: SocketAddr) -> MutexGuard<'_, Vec<Option<Arc<PoolSocket>>>> {
        let m = match upstream {
            SocketAddr::V4(_) => &self.v4,
            SocketAddr::V6(_) => &self.v6,
        };
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a query to `upstream` on a socket of the pool, with a
    /// random ID free on that socket for that server. Must run inside the
    /// runtime (a new socket gets its reader task).
    pub(crate) fn register(&self, upstream: SocketAddr) -> io::Result<Ticket> {
        let socket = self.pick(upstream)?;
        let (tx, replies) = mpsc::channel(QUEUE);
        let mut rng = rand::rng();
        let id = {
            let mut waiting = socket.waiting();
            let mut id: u16 = rng.random();
            while waiting.contains_key(&(upstream, id)) {
                id = rng.random();
            }
            waiting.insert((upstream, id), tx);
            id
        };
        Ok(Ticket {
            socket,
            upstream,
            id,
            replies,
        })
    }

    fn pick(&self, upstream: SocketAddr) -> io::Result<Arc<PoolSocket>> {
        let mut slots = self.slots(upstream);
        if slots.is_empty() {
            slots.resize(SLOTS, None);
        }
        let i = rand::rng().random_range(0..SLOTS);
        let now = Instant::now();
        if let Some(s) = &slots[i]
            && s.uses.load(Ordering::Relaxed) < MAX_USES
            && now.duration_since(s.born) < MAX_AGE
        {
            s.uses.fetch_add(1, Ordering::Relaxed);
            return Ok(s.clone());
        }
        if let Some(old) = slots[i].take() {
            old.retire();
        }
        let socket = Arc::new(PoolSocket {
            socket: UdpSocket::from_std(random_port_socket(upstream.ip())?)?,
            waiting: Mutex::new(HashMap::new()),
            born: now,
            uses: AtomicU32::new(1),
            retired: AtomicBool::new(false),
            done: Notify::new(),
        });
        tokio::spawn(read_replies(socket.clone()));
        slots[i] = Some(socket.clone());
        Ok(socket)
    }
}

impl PoolSocket {
    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        if self.waiting().is_empty() {
            self.done.notify_one();
        }
    }

    fn finished(&self) -> bool {
        self.retired.load(Ordering::Acquire) && self.waiting().is_empty()
    }
}

impl Ticket {
    /// Sends `query` (built with [`Ticket::id`]) to the server.
    pub(crate) async fn send(&self, query: &[u8]) -> io::Result<()> {
        self.socket.socket.send_to(query, self.upstream).await?;
        Ok(())
    }

    /// The next datagram from the server with this ticket's ID; `None`
    /// when the socket's reader stopped.
    pub(crate) async fn next_reply(&mut self) -> Option<Vec<u8>> {
        self.replies.recv().await
    }

    /// The local port the query leaves from.
    #[cfg(test)]
    pub(crate) fn port(&self) -> u16 {
        self.socket.socket.local_addr().map_or(0, |a| a.port())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let empty = {
            let mut waiting = self.socket.waiting();
            waiting.remove(&(self.upstream, self.id));
            waiting.is_empty()
        };
        if empty && self.socket.retired.load(Ordering::Acquire) {
            self.socket.done.notify_one();
        }
    }
}

/// Reads replies and hands each to the query waiting for its server and
/// ID, until the socket is retired and no query waits.
async fn read_replies(s: Arc<PoolSocket>) {
    let mut buf = vec![0u8; MAX_REPLY];
    loop {
        if s.finished() {
            return;
        }
        let got = tokio::select! {
            r = s.socket.recv_from(&mut buf) => r,
            _ = s.done.notified() => continue,
        };
        let (n, from) = match got {
            Ok(got) => got,
            Err(e) => {
                // An ICMP error from an earlier send; the query times out.
                debug!(error = %e, "upstream socket receive error");
                continue;
            }
        };
        let Some(id) = buf.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            continue;
        };
        let tx = s.waiting().get(&(from, id)).cloned();
        match tx {
            Some(tx) => {
                let _ = tx.try_send(buf[..n].to_vec());
            }
            None => debug!(%from, id, len = n, "dropped an upstream datagram no query waits for"),
        }
    }
}

/// A UDP socket bound to a random port of the wildcard address of
/// `upstream`'s family. Not connected: it serves every upstream, and
/// replies are matched to the server asked by their source address.
fn random_port_socket(upstream: IpAddr) -> io::Result<std::net::UdpSocket> {
    let ip = match upstream {
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
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free port")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[tokio::test]
    async fn a_query_gets_only_its_servers_reply_with_its_id() {
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let pool = UpstreamPool::default();
        let mut t = pool.register(upstream.local_addr().unwrap()).unwrap();
        assert!(t.port() >= MIN_PORT);
        t.send(b"query").await.unwrap();
        let mut buf = [0u8; 16];
        let (_, from) = upstream.recv_from(&mut buf).await.unwrap();
        assert_eq!(from.port(), t.port());
        let [hi, lo] = t.id.to_be_bytes();
        other.send_to(&[hi, lo, 9], from).await.unwrap(); // another server
        upstream.send_to(&[hi ^ 1, lo, 8], from).await.unwrap(); // another ID
        upstream.send_to(&[hi, lo, 7], from).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(1), t.next_reply())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, [hi, lo, 7]);
    }

    #[tokio::test]
    async fn queries_spread_over_random_ports_with_ids_unique_per_socket() {
        let upstream: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let pool = UpstreamPool::default();
        let tickets: Vec<Ticket> = (0..300).map(|_| pool.register(upstream).unwrap()).collect();
        let ports: HashSet<u16> = tickets.iter().map(Ticket::port).collect();
        assert!(ports.len() > 16, "{} ports for 300 queries", ports.len());
        let pairs: HashSet<(u16, u16)> = tickets.iter().map(|t| (t.port(), t.id)).collect();
        assert_eq!(
            pairs.len(),
            tickets.len(),
            "no two queries share port and ID"
        );
    }
}
