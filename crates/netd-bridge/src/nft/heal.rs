//! Self-healing: listens to nf_tables change notifications
//! (`NFNLGRP_NFTABLES`) and, after any transaction not made by this
//! process, checks that the bridge's table is still whole and puts it back
//! if not — a firewall reload or `nft flush ruleset` removes it. Only this
//! bridge's table is checked and written: the watcher of another bridge's
//! `up` in the same namespace is just another process here.
//!
//! [`notify`](super::notify) reads the notifications transaction by
//! transaction: ours are ignored so a repair does not trigger another, the
//! others name the process that made them. When something keeps removing
//! the table, [`backoff`](super::backoff) spaces the repairs out, and the
//! culprit is logged once per backoff step rather than once per removal.

use std::time::Instant;

use netlink_sys::{Socket, protocols::NETLINK_NETFILTER};
use tokio::io::unix::AsyncFd;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::backoff::{Backoff, MAX_DELAY, MIN_DELAY};
use super::notify::{Notifications, Transaction, is_this_process};
use super::{NfSocket, Ruleset};
use crate::Error;

/// `NFNLGRP_NFTABLES`: the multicast group of nf_tables changes.
const NFNLGRP_NFTABLES: u32 = 7;

/// Subscribes to nf_tables notifications. Done before the first apply so
/// that no change between apply and watch goes unseen.
pub fn subscribe() -> Result<AsyncFd<Socket>, Error> {
    let io = |e| Error::Netlink("subscribing to nf_tables notifications".into(), e);
    let mut s = Socket::new(NETLINK_NETFILTER).map_err(io)?;
    s.bind_auto().map_err(io)?;
    s.add_membership(NFNLGRP_NFTABLES).map_err(io)?;
    s.set_non_blocking(true).map_err(io)?;
    crate::sys::async_fd(s).map_err(io)
}

/// Keeps the bridge's table whole until `cancel`: checks it at once, then
/// after every foreign change, repairing on the [`Backoff`] schedule.
pub async fn watch(
    fd: AsyncFd<Socket>,
    ruleset: Ruleset,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let mut healer = Healer::new(ruleset);
    let mut notifications = Notifications::new(is_this_process, &healer.table);
    info!(table = %healer.table, "watching nf_tables for changes to our table");
    healer.check().await;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let due = healer.due.map(tokio::time::Instant::from_std);
        let mut guard = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = sleep_until(due), if due.is_some() => {
                healer.due = None;
                healer.repair(Instant::now()).await;
                continue;
            }
            g = fd.readable() => g.map_err(|e| Error::Netlink("waiting for nf_tables notifications".into(), e))?,
        };
        let mut changed = false;
        loop {
            match guard.try_io(|s| s.get_ref().recv(&mut &mut buf[..], 0)) {
                Ok(Ok(n)) => {
                    for t in notifications.feed(&buf[..n]) {
                        changed = true;
                        healer.noticed(t);
                    }
                }
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    debug!("nf_tables notifications overflowed; checking the table");
                    changed = true;
                }
                Ok(Err(e)) => {
                    return Err(Error::Netlink("reading nf_tables notifications".into(), e));
                }
                Err(_would_block) => break,
            }
        }
        // While a repair is scheduled, changes only name the culprit: the
        // repair checks the table when it is due.
        if changed && healer.due.is_none() {
            healer.check().await;
        }
    }
}

async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// One table's repairs: the schedule, and who has been changing the
/// ruleset since the last report.
#[derive(Debug)]
struct Healer {
    ruleset: Ruleset,
    table: String,
    backoff: Backoff,
    /// When a postponed repair is due.
    due: Option<Instant>,
    /// The last other process seen changing our table (else the ruleset),
    /// and how many of its transactions touched our table since the last
    /// report.
    culprit: Option<String>,
    culprit_touched: bool,
    foreign_changes: u32,
}

/// What one look at the table found and did.
enum Outcome {
    Whole,
    /// Not whole, and left so (only looking).
    Broken,
    /// Not whole, and replaced.
    Repaired,
}

impl Healer {
    fn new(ruleset: Ruleset) -> Healer {
        Healer {
            table: ruleset.table_name(),
            ruleset,
            backoff: Backoff::default(),
            due: None,
            culprit: None,
            culprit_touched: false,
            foreign_changes: 0,
        }
    }

    /// Another process's transaction: one that touched our table names
    /// the culprit; any other does only while none did.
    fn noticed(&mut self, t: Transaction) {
        let who = t.who.describe();
        debug!(table = %self.table, touched_ours = t.touched, "nf_tables changed by {who}");
        if t.touched {
            self.foreign_changes += 1;
            self.culprit = Some(who);
            self.culprit_touched = true;
        } else if !self.culprit_touched {
            self.culprit = Some(who);
        }
    }

    /// Starts counting afresh after a report.
    fn reported(&mut self) {
        self.foreign_changes = 0;
        self.culprit_touched = false;
    }

    /// Checks the table; if it is broken, repairs it now or schedules the
    /// repair, as the backoff says (logging who keeps breaking it, once per
    /// step).
    async fn check(&mut self) {
        let now = Instant::now();
        match self.inspect(false).await {
            Ok(Outcome::Broken | Outcome::Repaired) => {}
            Ok(Outcome::Whole) => {
                debug!(table = %self.table, "nf_tables changed; our table is whole");
                return;
            }
            Err(e) => {
                warn!(table = %self.table, "reading our nf_tables table failed: {e}");
                self.due = Some(now + MIN_DELAY);
                return;
            }
        }
        let delay = self.backoff.on_broken(now);
        if delay.is_zero() {
            self.repair(now).await;
            return;
        }
        warn!(
            table = %self.table,
            "our table keeps being removed or changed, last by {} ({} time(s) since the last repair); \
             after {} repairs in a row, backing off: next repair in {}s (delays double up to {}s)",
            self.culprit.as_deref().unwrap_or("an unknown process"),
            self.foreign_changes,
            self.backoff.streak(),
            delay.as_secs(),
            MAX_DELAY.as_secs(),
        );
        self.reported();
        self.due = Some(now + delay);
    }

    /// Puts the table back now (unless it is whole again by now) and
    /// records the attempt. A failure schedules another attempt. Called
    /// at once for a free repair, and when a postponed one is due.
    async fn repair(&mut self, now: Instant) {
        let outcome = self.inspect(true).await;
        if !matches!(outcome, Ok(Outcome::Whole | Outcome::Broken)) {
            self.backoff.on_repaired(now);
        }
        match outcome {
            Ok(Outcome::Repaired) => {
                info!(
                    table = %self.table,
                    "our nf_tables table was removed or changed (last change by {}); restored it",
                    self.culprit.as_deref().unwrap_or("an unknown process")
                );
                self.reported();
            }
            Ok(Outcome::Whole | Outcome::Broken) => {
                debug!(table = %self.table, "our table is whole again")
            }
            Err(e) => {
                let retry = self.backoff.on_broken(now).max(MIN_DELAY);
                warn!(
                    table = %self.table,
                    "restoring our nf_tables table failed: {e}; trying again in {}s",
                    retry.as_secs()
                );
                self.due = Some(now + retry);
            }
        }
    }

    /// Looks at the table on a blocking thread; with `repair`, replaces it
    /// when it is not whole.
    async fn inspect(&self, repair: bool) -> Result<Outcome, Error> {
        let ruleset = self.ruleset.clone();
        tokio::task::spawn_blocking(move || {
            let mut sock = NfSocket::open()?;
            if super::intact(&mut sock, &ruleset)? {
                return Ok(Outcome::Whole);
            }
            if !repair {
                return Ok(Outcome::Broken);
            }
            super::apply(&mut sock, &ruleset)?;
            Ok(Outcome::Repaired)
        })
        .await
        .map_err(|e| Error::Netlink("nf_tables repair task".into(), std::io::Error::other(e)))?
    }
}
