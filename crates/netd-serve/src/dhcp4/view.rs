//! The bound leases, for readers outside the DHCPv4 shell's task
//! (`status`, `leases`). Asked for, not pushed: the shell builds the list
//! only when a reader asks ([`LeaseView::fetch`]), between two packets, so
//! serving costs nothing while no one asks and an answer is never stale.

use std::sync::Arc;

use netd_proto::dhcp4::LeaseRecord;
use tokio::sync::{mpsc, oneshot};

/// What a reader sends: where to put the list.
pub(crate) type LeaseRequest = oneshot::Sender<Arc<Vec<LeaseRecord>>>;

/// Readers waiting at once at most; more wait for room.
const QUEUE: usize = 8;

#[derive(Debug, Clone)]
pub struct LeaseView {
    requests: mpsc::Sender<LeaseRequest>,
}

impl LeaseView {
    /// A view and the receiving end its shell answers.
    pub(crate) fn new() -> (LeaseView, mpsc::Receiver<LeaseRequest>) {
        let (requests, rx) = mpsc::channel(QUEUE);
        (LeaseView { requests }, rx)
    }

    /// The bound leases now, oldest first; `None` once the shell stopped.
    pub async fn fetch(&self) -> Option<Arc<Vec<LeaseRecord>>> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(tx).await.ok()?;
        rx.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reader_gets_what_the_shell_answers_and_none_once_it_stopped() {
        let (view, mut requests) = LeaseView::new();
        let shell = tokio::spawn(async move {
            let reader = requests.recv().await.unwrap();
            let _ = reader.send(Arc::new(Vec::new()));
            // Then the shell stops: its receiver goes.
        });
        assert_eq!(view.fetch().await.map(|l| l.len()), Some(0));
        shell.await.unwrap();
        assert_eq!(view.fetch().await, None);
    }
}
