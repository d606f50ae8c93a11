//! Group commit of the lease file, as a small state machine the shell
//! drives: which ACKs wait for which write, and when to start the next one.
//!
//! An ACK decided while no write runs waits for the next write; one decided
//! while a write runs waits for the write after it (the running one may have
//! snapshotted the table before the ACK's lease was in it). At most one write
//! runs at a time and each covers every change before it began, so N ACKs in
//! a burst cost about two writes. Nothing here does I/O.

use super::reply::Reply;

/// `T` is what waits: the [`Reply`], or the reply with whatever the shell
/// keeps beside it (when it was received).
#[derive(Debug)]
pub struct CommitQueue<T = Reply> {
    /// ACKs decided since the running write (if any) began.
    held: Vec<T>,
    /// ACKs the running write will make durable; `None`: no write runs.
    in_flight: Option<Vec<T>>,
    /// The table changed since the running write began.
    dirty: bool,
    /// A write failed; wait for [`CommitQueue::retry_now`] before the next.
    backing_off: bool,
}

impl<T> Default for CommitQueue<T> {
    fn default() -> Self {
        CommitQueue {
            held: Vec::new(),
            in_flight: None,
            dirty: false,
            backing_off: false,
        }
    }
}

impl<T> CommitQueue<T> {
    /// An ACK that may only leave once the table that holds it is on disk.
    pub fn hold(&mut self, ack: T) {
        self.held.push(ack);
        self.dirty = true;
    }

    /// The lease table changed (a release, an expiry...): it must be written.
    pub fn changed(&mut self) {
        self.dirty = true;
    }

    /// True when a write should start now: the caller snapshots the table,
    /// starts the write and calls [`CommitQueue::started`].
    pub fn should_start(&self) -> bool {
        self.in_flight.is_none() && self.dirty && !self.backing_off
    }

    /// A write of the current table has begun.
    pub fn started(&mut self) {
        self.in_flight = Some(std::mem::take(&mut self.held));
        self.dirty = false;
    }

    /// The running write succeeded: its ACKs may be sent.
    pub fn succeeded(&mut self) -> Vec<T> {
        self.in_flight.take().unwrap_or_default()
    }

    /// The running write failed: its ACKs are dropped (the clients will ask
    /// again), the table stays dirty, and the next write waits for a retry.
    /// Returns how many ACKs were dropped.
    pub fn failed(&mut self) -> usize {
        let dropped = self.in_flight.take().map_or(0, |a| a.len());
        self.dirty = true;
        self.backing_off = true;
        dropped
    }

    pub fn is_backing_off(&self) -> bool {
        self.backing_off
    }

    pub fn retry_now(&mut self) {
        self.backing_off = false;
    }

    /// On shutdown: whatever is still held, for one last write.
    pub fn take_remaining(&mut self) -> (bool, Vec<T>) {
        let dirty = std::mem::take(&mut self.dirty) || !self.held.is_empty();
        (dirty, std::mem::take(&mut self.held))
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use dhcproto::v4::MessageType;

    use super::*;
    use crate::dhcp4::reply::Destination;

    fn ack(n: u8) -> Reply {
        Reply {
            bytes: vec![n],
            dest: Destination::Broadcast,
            msg_type: MessageType::Ack,
            yiaddr: Ipv4Addr::new(10, 0, 0, n),
            needs_commit: true,
        }
    }

    fn ids(replies: &[Reply]) -> Vec<u8> {
        replies.iter().map(|r| r.bytes[0]).collect()
    }

    #[test]
    fn acks_during_a_write_wait_for_the_next_one_and_share_it() {
        let mut q = CommitQueue::default();
        assert!(!q.should_start());
        q.hold(ack(1));
        assert!(q.should_start());
        q.started();
        // Decided while write 1 runs: not covered by it.
        q.hold(ack(2));
        q.hold(ack(3));
        assert!(!q.should_start(), "one write at a time");
        assert_eq!(ids(&q.succeeded()), vec![1]);
        assert!(q.should_start());
        q.started();
        assert_eq!(ids(&q.succeeded()), vec![2, 3], "one write for both");
        assert!(!q.should_start());
    }

    #[test]
    fn a_failed_write_drops_its_acks_and_backs_off() {
        let mut q = CommitQueue::default();
        q.hold(ack(1));
        q.started();
        q.hold(ack(2));
        assert_eq!(q.failed(), 1);
        assert!(!q.should_start());
        q.retry_now();
        assert!(q.should_start());
        q.started();
        assert_eq!(ids(&q.succeeded()), vec![2]);
    }

    #[test]
    fn changes_without_acks_are_written_too() {
        let mut q = CommitQueue::default();
        q.changed();
        assert!(q.should_start());
        q.started();
        assert!(q.succeeded().is_empty());
        q.hold(ack(4));
        assert_eq!(q.take_remaining(), (true, vec![ack(4)]));
    }
}
