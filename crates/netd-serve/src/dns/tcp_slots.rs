//! Who may hold a DNS TCP connection: at most [`TcpLimits::max_connections`]
//! in all and [`TcpLimits::per_source`] from one client address. A new
//! connection over either limit does not wait or get refused: the
//! longest-idle connection (of that client, when it is the client's limit)
//! is closed to make room. A connection waiting for an upstream answer is
//! not idle and is never closed for room; only when every candidate is
//! waiting is the new connection refused. So connections held open and
//! silent, however many, cannot keep anyone else out.
//!
//! Also here: the backoff after a failed `accept` (EMFILE and the like do
//! not pass at once, and retrying at once would spin).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections from one client address at most.
    pub per_source: usize,
    /// A connection with no complete query for this long is closed.
    pub idle: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 64,
            per_source: 16,
            idle: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
struct Conn {
    peer: IpAddr,
    /// When it last finished a query (or opened).
    last_active: Instant,
    /// Waiting for an upstream answer.
    busy: bool,
    close: CancellationToken,
}

/// What to do for a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    Free,
    Evict(u64),
    Refuse,
}

/// The open connections.
#[derive(Debug)]
pub(super) struct Slots {
    limits: TcpLimits,
    state: Mutex<(u64, HashMap<u64, Conn>)>,
}

/// A connection's place; gives it back on drop.
#[derive(Debug)]
pub(super) struct Slot {
    slots: Arc<Slots>,
    pub(super) id: u64,
    /// Cancelled when the connection is closed for room.
    pub(super) close: CancellationToken,
}

impl Slots {
    pub(super) fn new(limits: TcpLimits) -> Arc<Slots> {
        Arc::new(Slots {
            limits,
            state: Mutex::new((0, HashMap::new())),
        })
    }

    fn state(&self) -> MutexGuard<'_, (u64, HashMap<u64, Conn>)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a connection from `peer`; `evicted` is set when one was
    /// closed for it. `None`: every candidate is busy.
    pub(super) fn admit(
        self: &Arc<Self>,
        peer: IpAddr,
        now: Instant,
        evicted: &mut bool,
    ) -> Option<Slot> {
        let mut st = self.state();
        match room(&st.1, &self.limits, peer) {
            Room::Refuse => return None,
            Room::Evict(id) => {
                if let Some(c) = st.1.remove(&id) {
                    c.close.cancel();
                }
                *evicted = true;
            }
            Room::Free => {}
        }
        st.0 += 1;
        let id = st.0;
        let close = CancellationToken::new();
        st.1.insert(
            id,
            Conn {
                peer,
                last_active: now,
                busy: false,
                close: close.clone(),
            },
        );
        Some(Slot {
            slots: self.clone(),
            id,
            close,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state().1.len()
    }
}

impl Slot {
    /// Marks the connection waiting for upstream (`busy`), or done with a
    /// query at `now`.
    pub(super) fn set_busy(&self, busy: bool, now: Instant) {
        if let Some(c) = self.slots.state().1.get_mut(&self.id) {
            c.busy = busy;
            c.last_active = now;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.state().1.remove(&self.id);
    }
}

/// Pure: room for a connection from `peer`.
fn room(conns: &HashMap<u64, Conn>, limits: &TcpLimits, peer: IpAddr) -> Room {
    let longest_idle = |of_peer: bool| {
        conns
            .iter()
            .filter(|(_, c)| !c.busy && (!of_peer || c.peer == peer))
            .min_by_key(|(id, c)| (c.last_active, **id))
            .map_or(Room::Refuse, |(id, _)| Room::Evict(*id))
    };
    if conns.values().filter(|c| c.peer == peer).count() >= limits.per_source {
        longest_idle(true)
    } else if conns.len() >= limits.max_connections {
        longest_idle(false)
    } else {
        Room::Free
    }
}

/// The wait after a failed `accept`: 10 ms, doubling to 1 s while failures
/// go on, back to 10 ms after a success.
#[derive(Debug)]
pub(super) struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    pub(super) const FIRST: Duration = Duration::from_millis(10);
    pub(super) const MAX: Duration = Duration::from_secs(1);

    pub(super) fn new() -> AcceptBackoff {
        AcceptBackoff { next: Self::FIRST }
    }

    /// How long to wait after this failure.
    pub(super) fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }

    pub(super) fn succeeded(&mut self) {
        self.next = Self::FIRST;
    }
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 26, 50));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 26, 51));

    #[test]
    fn a_full_table_closes_the_longest_idle_connection_not_the_new_one() {
        let slots = Slots::new(TcpLimits {
            max_connections: 4,
            per_source: 3,
            idle: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut evicted = false;
        let a: Vec<Slot> = (0..3)
            .map(|i| slots.admit(A, at(i), &mut evicted).unwrap())
            .collect();
        assert!(!evicted);
        // A's fourth: A's own longest-idle (the first) goes.
        a[1].set_busy(false, at(5));
        let a4 = slots.admit(A, at(6), &mut evicted).unwrap();
        assert!(evicted && a[0].close.is_cancelled());
        assert!(!a[1].close.is_cancelled() && !a[2].close.is_cancelled());
        // B's first fits (3 of 4 open: A holds its 3).
        evicted = false;
        let b1 = slots.admit(B, at(7), &mut evicted).unwrap();
        assert!(!evicted);
        // B's second: the table is full; the longest idle overall is A's
        // third (active at 2), not B's.
        let b2 = slots.admit(B, at(8), &mut evicted).unwrap();
        assert!(evicted && a[2].close.is_cancelled() && !b1.close.is_cancelled());
        // Busy connections are never closed for room.
        a[1].set_busy(true, at(9));
        a4.set_busy(true, at(9));
        b1.set_busy(true, at(9));
        drop(a);
        assert_eq!(slots.len(), 3, "closed slots are given back on drop");
        let b3 = slots.admit(B, at(10), &mut evicted).unwrap();
        b2.set_busy(true, at(10));
        b3.set_busy(true, at(10));
        evicted = false;
        assert!(slots.admit(A, at(11), &mut evicted).is_none(), "all busy");
        assert!(!evicted);
    }

    #[test]
    fn accept_failures_back_off_exponentially_up_to_a_second() {
        let mut b = AcceptBackoff::new();
        let waits: Vec<u128> = (0..9).map(|_| b.failed().as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.succeeded();
        assert_eq!(b.failed(), AcceptBackoff::FIRST);
    }
}
