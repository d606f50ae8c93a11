//! Self-healing: listens to nf_tables change notifications
//! (`NFNLGRP_NFTABLES`) and, after any transaction not made by this
//! process, checks that our table is still whole and puts it back if not —
//! a firewall reload or `nft flush ruleset` removes it.
//!
//! Every nf_tables transaction ends with a `NEWGEN` notification carrying
//! the pid of the process that made it; ours are ignored so a repair does
//! not trigger another.

use netlink_packet_netfilter::NetfilterMessageInner;
use netlink_packet_netfilter::nftables::{GenAttribute, NfTablesMessage};
use netlink_sys::{Socket, protocols::NETLINK_NETFILTER};
use tokio::io::unix::AsyncFd;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::socket::split_messages;
use super::{NfSocket, Ruleset};
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
    crate::sys::async_fd(s).map_err(io)
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
        table = %ruleset.table_name(),
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
                    return Err(Error::Netlink("reading nf_tables notifications".into(), e));
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
    let table = ruleset.table_name();
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
                %table,
                "our nf_tables table was removed or changed; restored it"
            )
        }
        Ok(Ok(false)) => debug!(%table, "nf_tables changed; our table is whole"),
        Ok(Err(e)) => warn!("restoring our nf_tables table failed: {e}"),
        Err(e) => warn!("the nf_tables repair task failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize((v.len() + 3) & !3, 0);
        v
    }

    /// A notification as the kernel sends it: nlmsghdr, nfgenmsg, attributes.
    fn notification(msg_type: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = [0u8, 0, 0, 7]
            .into_iter()
            .chain(attrs.iter().flatten().copied())
            .collect();
        let mut v = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&((10u16 << 8) | u16::from(msg_type)).to_ne_bytes());
        v.extend_from_slice(&[0; 10]);
        v.extend(body);
        v
    }

    /// `NFT_MSG_NEWGEN` with `NFTA_GEN_ID`, `NFTA_GEN_PROC_PID`, `NFTA_GEN_PROC_NAME`.
    fn newgen(pid: u32) -> Vec<u8> {
        notification(
            15,
            &[
                nla(1, &7u32.to_be_bytes()),
                nla(2, &pid.to_be_bytes()),
                nla(3, b"nft\0"),
            ],
        )
    }

    #[test]
    fn a_transaction_of_another_process_asks_for_a_check() {
        assert_eq!(judge(&newgen(4242), 1000), Verdict::Check);
    }

    #[test]
    fn our_own_transactions_are_ignored() {
        assert_eq!(judge(&newgen(1000), 1000), Verdict::Nothing);
    }

    #[test]
    fn only_the_end_of_a_transaction_counts_and_garbage_is_dropped() {
        // NEWTABLE of someone else: the NEWGEN that ends it will follow.
        let newtable = notification(0, &[nla(1, b"filter\0")]);
        assert_eq!(judge(&newtable, 1000), Verdict::Nothing);
        assert_eq!(judge(&[0xff; 7], 1000), Verdict::Nothing);
        let mut both = newtable.clone();
        both.extend(newgen(5));
        assert_eq!(judge(&both, 1000), Verdict::Check);
    }
}
