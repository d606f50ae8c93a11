//! Self-healing: listens to nf_tables change notifications
//! (`NFNLGRP_NFTABLES`) and, after any transaction not made by this
//! process, checks that our table is still whole and puts it back if not —
//! a firewall reload or `nft flush ruleset` removes it.
//!
//! Every nf_tables transaction ends with a `NEWGEN` notification carrying
//! the pid of the process that made it; ours are ignored so a repair does
//! not trigger another.

use std::os::fd::AsRawFd;

use netlink_packet_netfilter::NetfilterMessageInner;
use netlink_packet_netfilter::nftables::{GenAttribute, NfTablesMessage};
use netlink_sys::{Socket, protocols::NETLINK_NETFILTER};
use tokio::io::unix::AsyncFd;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::socket::split_messages;
use super::{NfSocket, Ruleset, TABLE_NAME};
use crate::Error;

/// `NFNLGRP_NFTABLES`: the multicast group of nf_tables changes.
const NFNLGRP_NFTABLES: u32 = 7;

/// What one batch of notifications asks of the watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Only our own changes, or nothing of interest.
    Nothing,
    /// Another process changed the ruleset, or notifications were lost:
    /// check our table.
    Check,
}

/// Decides from the notifications in one datagram; `own_pid` is this
/// process's pid.
pub fn judge(datagram: &[u8], own_pid: u32) -> Verdict {
    for m in split_messages(datagram) {
        let netlink_packet_core::NetlinkPayload::InnerMessage(nf) = m.payload else {
            continue;
        };
        if let NetfilterMessageInner::NfTables(NfTablesMessage::NewGen(g)) = nf.inner {
            let pid = g.attributes.iter().find_map(|a| match a {
                GenAttribute::ProcPid(p) => Some(*p),
                _ => None,
            });
            if pid != Some(own_pid) {
                return Verdict::Check;
            }
        }
    }
    Verdict::Nothing
}

/// Subscribes to nf_tables notifications. Done before the first apply so
/// that no change between apply and watch goes unseen.
pub fn subscribe() -> Result<AsyncFd<Socket>, Error> {
    let io = |e| Error::Netlink("subscribing to nf_tables notifications".into(), e);
    let mut s = Socket::new(NETLINK_NETFILTER).map_err(io)?;
    s.bind_auto().map_err(io)?;
    s.add_membership(NFNLGRP_NFTABLES).map_err(io)?;
    s.set_non_blocking(true).map_err(io)?;
    // SAFETY: the netlink socket owns its descriptor for its whole life and
    // always returns the same one from as_raw_fd; the AsyncFd owns the socket.
    unsafe { AsyncFd::register(s) }.map_err(|e| io(std::io::Error::other(e.to_string())))
}

/// Keeps our table whole until `cancel`: checks it at once, then after
/// every foreign change.
pub async fn watch(
    fd: AsyncFd<Socket>,
    ruleset: Ruleset,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let own_pid = std::process::id();
    info!(
        table = TABLE_NAME,
        "watching nf_tables for changes to our table"
    );
    repair_if_needed(&ruleset).await;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut guard = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            g = fd.readable() => g.map_err(|e| Error::Netlink("waiting for nf_tables notifications".into(), e))?,
        };
        let mut verdict = Verdict::Nothing;
        loop {
            match guard.try_io(|s| s.get_ref().recv(&mut &mut buf[..], 0)) {
                Ok(Ok(n)) => {
                    if judge(&buf[..n], own_pid) == Verdict::Check {
                        verdict = Verdict::Check;
                    }
                }
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    debug!("nf_tables notifications overflowed; checking the table");
                    verdict = Verdict::Check;
                }
                Ok(Err(e)) => {
                    return Err(Error::Netlink(
                        format!("reading nf_tables notifications (fd {})", fd.as_raw_fd()),
                        e,
                    ));
                }
                Err(_would_block) => break,
            }
        }
        if verdict == Verdict::Check {
            repair_if_needed(&ruleset).await;
        }
    }
}

/// Repairs our table when it is not whole. A failure is logged, not
/// returned: the next notification tries again.
async fn repair_if_needed(ruleset: &Ruleset) {
    let ruleset = ruleset.clone();
    let repaired = tokio::task::spawn_blocking(move || -> Result<bool, Error> {
        let mut sock = NfSocket::open()?;
        if super::intact(&mut sock, &ruleset)? {
            return Ok(false);
        }
        super::apply(&mut sock, &ruleset)?;
        Ok(true)
    })
    .await;
    match repaired {
        Ok(Ok(true)) => {
            info!(
                table = TABLE_NAME,
                "our nf_tables table was removed or changed; restored it"
            )
        }
        Ok(Ok(false)) => debug!(table = TABLE_NAME, "nf_tables changed; our table is whole"),
        Ok(Err(e)) => warn!("restoring our nf_tables table failed: {e}"),
        Err(e) => warn!("the nf_tables repair task failed: {e}"),
    }
}
