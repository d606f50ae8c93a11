//! One upstream exchange per question in flight: the first query for a
//! question (its cache key, and the transport, since a UDP answer may be
//! truncated where a TCP client needs it whole) asks upstream; identical
//! queries that arrive meanwhile wait for its answer, each rendered with
//! its own ID and spelling. Besides saving upstream work, this leaves an
//! off-path spoofer one exchange to race per question instead of one per
//! copy of the query. At most [`MAX_WAITERS`] wait per question.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use netd_proto::dns::Prepared;
use netd_proto::dns::resolver::Transport;
use tokio::sync::watch;

/// Queries that may wait for one question's exchange.
pub(crate) const MAX_WAITERS: usize = 32;
/// A waiting query gives up after this long (the exchange it waits for
/// ends well before, after every upstream's attempt).
const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// What the exchange brought: the answer in stored form, or none (SERVFAIL).
pub(crate) type Outcome = Arc<Option<Prepared>>;

/// Questions in flight by transport, each keyed by its cache key.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    map: Mutex<[HashMap<Box<[u8]>, Question>; 2]>,
}

fn slot(transport: Transport) -> usize {
    match transport {
        Transport::Udp => 0,
        Transport::Tcp => 1,
    }
}

#[derive(Debug)]
struct Question {
    rx: watch::Receiver<Option<Outcome>>,
    waiters: usize,
}

/// What a forwarded query does.
#[derive(Debug)]
pub(crate) enum Role {
    /// Ask upstream, then [`Leader::finish`].
    Lead(Leader),
    /// Wait for the query that asks ([`wait`]).
    Follow(watch::Receiver<Option<Outcome>>),
    /// Too many wait already: drop it.
    Full,
}

/// The query that asks upstream for its question. Dropping it without
/// [`Leader::finish`] (cancelled) lets the waiters go with SERVFAIL.
#[derive(Debug)]
pub(crate) struct Leader {
    table: Arc<InFlight>,
    key: Option<(Transport, Box<[u8]>)>,
    tx: watch::Sender<Option<Outcome>>,
}

impl InFlight {
    fn map(&self) -> MutexGuard<'_, [HashMap<Box<[u8]>, Question>; 2]> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Leads the exchange for `key`, or waits for the one in flight.
    pub(crate) fn join(self: &Arc<Self>, transport: Transport, key: &[u8]) -> Role {
        let mut maps = self.map();
        let map = &mut maps[slot(transport)];
        if let Some(q) = map.get_mut(key) {
            if q.waiters >= MAX_WAITERS {
                return Role::Full;
            }
            q.waiters += 1;
            return Role::Follow(q.rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        let key: Box<[u8]> = key.into();
        map.insert(key.clone(), Question { rx, waiters: 0 });
        Role::Lead(Leader {
            table: self.clone(),
            key: Some((transport, key)),
            tx,
        })
    }

    /// Questions in flight now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().iter().map(HashMap::len).sum()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Leader {
    /// Hands the outcome to every waiter; later queries for the question
    /// start afresh (and usually find the answer in the cache).
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.leave();
        let _ = self.tx.send(Some(outcome));
    }

    fn leave(&mut self) {
        if let Some((transport, key)) = self.key.take() {
            self.table.map()[slot(transport)].remove(&key);
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.leave();
    }
}

/// The leader's outcome; `None` when it was cancelled or took too long.
pub(crate) async fn wait(mut rx: watch::Receiver<Option<Outcome>>) -> Option<Outcome> {
    let got = tokio::time::timeout(WAIT_LIMIT, rx.wait_for(Option::is_some)).await;
    match got {
        Ok(Ok(v)) => v.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn identical_questions_wait_for_the_first_and_a_cancelled_leader_frees_them() {
        let table = Arc::new(InFlight::default());
        let Role::Lead(leader) = table.join(Transport::Udp, b"key") else {
            panic!("the first query leads");
        };
        let Role::Follow(rx) = table.join(Transport::Udp, b"key") else {
            panic!("the second waits");
        };
        assert!(
            matches!(table.join(Transport::Tcp, b"key"), Role::Lead(_)),
            "a TCP query does not wait for a UDP answer that may be truncated"
        );
        assert!(matches!(
            table.join(Transport::Udp, b"other"),
            Role::Lead(_)
        ));
        let waiter = tokio::spawn(wait(rx));
        leader.finish(Arc::new(None));
        let got = waiter.await.unwrap().expect("an outcome");
        assert!(got.is_none(), "the leader's SERVFAIL");
        assert!(
            table.is_empty(),
            "finished and dropped leaders leave no entry"
        );

        let Role::Lead(leader) = table.join(Transport::Udp, b"key") else {
            panic!("after the finish, a new exchange");
        };
        let followers: Vec<_> = (0..MAX_WAITERS)
            .map(|_| match table.join(Transport::Udp, b"key") {
                Role::Follow(rx) => rx,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(matches!(table.join(Transport::Udp, b"key"), Role::Full));
        drop(leader);
        for rx in followers {
            assert!(wait(rx).await.is_none(), "cancelled: no outcome");
        }
        assert!(table.is_empty());
    }
}
