//! The nf_tables change notifications (`NFNLGRP_NFTABLES`), read
//! transaction by transaction: the kernel sends one message per object a
//! transaction added or deleted (`NEWTABLE`, `DELRULE`, …), then a
//! `NEWGEN` naming the process that made it (`NFTA_GEN_PROC_PID`,
//! `NFTA_GEN_PROC_NAME`). Pure: bytes in, transactions out.
//!
//! The kernel puts the *thread* id there (`task_pid_nr(current)`): our own
//! repairs run on tokio's blocking threads, so "ours" means any thread of
//! this process ([`is_this_process`]), not just its pid.

use netlink_packet_core::NetlinkPayload;
use netlink_packet_netfilter::nftables::{
    ChainAttribute, GenAttribute, NfTablesMessage, RuleAttribute, TableAttribute,
};
use netlink_packet_netfilter::{NetfilterMessageInner, NetfilterProtoFamily};

use super::socket::split_messages;

/// The process behind a transaction, as its `NEWGEN` names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Foreign {
    /// `NFTA_GEN_PROC_PID`, else the netlink port id of the socket that
    /// sent the transaction (a process's first netlink socket gets its
    /// pid as port id).
    pub pid: Option<u32>,
    /// `NFTA_GEN_PROC_NAME`: the process's `comm` when it made the change.
    pub name: Option<String>,
}

impl Foreign {
    /// `pid 1234 (nft)`: the name from `/proc/PID/comm` while the process
    /// lives, else the one the notification carried.
    pub fn describe(&self) -> String {
        let comm = self.pid.and_then(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .ok()
                .map(|c| c.trim().to_string())
        });
        match (self.pid, comm.or_else(|| self.name.clone())) {
            (Some(pid), Some(name)) => format!("pid {pid} ({name})"),
            (Some(pid), None) => format!("pid {pid}"),
            (None, Some(name)) => name,
            (None, None) => "an unknown process".into(),
        }
    }
}

/// A finished transaction of another process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub who: Foreign,
    /// It added or deleted something in our table (or the table itself).
    pub touched: bool,
}

/// True when `pid` (a thread id, as `NFTA_GEN_PROC_PID` carries it) is a
/// thread of this process.
pub fn is_this_process(pid: u32) -> bool {
    pid == std::process::id() || std::path::Path::new(&format!("/proc/self/task/{pid}")).exists()
}

/// Follows the notifications across datagrams for one table.
#[derive(Debug)]
pub struct Notifications {
    /// Whether a transaction's pid is ours ([`is_this_process`]).
    is_own: fn(u32) -> bool,
    table: String,
    /// The transaction under way has touched our table so far.
    touched: bool,
}

impl Notifications {
    /// Reads for the table `inet TABLE`, ignoring the transactions whose
    /// pid `is_own` says are ours.
    pub fn new(is_own: fn(u32) -> bool, table: &str) -> Notifications {
        Notifications {
            is_own,
            table: table.to_string(),
            touched: false,
        }
    }

    /// Feeds one datagram; returns the other processes' transactions it
    /// completed, in order. Messages that do not parse are skipped.
    pub fn feed(&mut self, datagram: &[u8]) -> Vec<Transaction> {
        let mut out = Vec::new();
        for m in split_messages(datagram) {
            let port = m.header.port_number;
            let NetlinkPayload::InnerMessage(nf) = m.payload else {
                continue;
            };
            let family = nf.header.family;
            let NetfilterMessageInner::NfTables(msg) = nf.inner else {
                continue;
            };
            let NfTablesMessage::NewGen(g) = msg else {
                if family == NetfilterProtoFamily::Inet
                    && table_of(&msg).is_some_and(|t| t == self.table)
                {
                    self.touched = true;
                }
                continue;
            };
            let touched = std::mem::take(&mut self.touched);
            let mut who = Foreign::default();
            for a in g.attributes {
                match a {
                    GenAttribute::ProcPid(p) => who.pid = Some(p),
                    GenAttribute::ProcName(n) => who.name = Some(n),
                    _ => {}
                }
            }
            if who.pid.is_none() && port != 0 {
                who.pid = Some(port);
            }
            if !who.pid.is_some_and(self.is_own) {
                out.push(Transaction { who, touched });
            }
        }
        out
    }
}

/// The table a table, chain or rule notification is about.
fn table_of(msg: &NfTablesMessage) -> Option<&str> {
    match msg {
        NfTablesMessage::NewTable(t) | NfTablesMessage::DeleteTable(t) => {
            t.attributes.iter().find_map(|a| match a {
                TableAttribute::Name(n) => Some(n.as_str()),
                _ => None,
            })
        }
        NfTablesMessage::NewChain(c) | NfTablesMessage::DeleteChain(c) => {
            c.attributes.iter().find_map(|a| match a {
                ChainAttribute::Table(n) => Some(n.as_str()),
                _ => None,
            })
        }
        NfTablesMessage::NewRule(r) | NfTablesMessage::DeleteRule(r) => {
            r.attributes.iter().find_map(|a| match a {
                RuleAttribute::Table(n) => Some(n.as_str()),
                _ => None,
            })
        }
        _ => None,
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

    /// `NFPROTO_INET`, the family of our table's notifications (`NEWGEN`
    /// comes with `AF_UNSPEC`).
    const INET: u8 = 1;

    /// A notification as the kernel sends it: nlmsghdr (with the sender's
    /// port id), nfgenmsg (family, version, resource id), attributes.
    fn notification(msg_type: u8, family: u8, attrs: &[Vec<u8>], port: u32) -> Vec<u8> {
        let body: Vec<u8> = [family, 0, 0, 7]
            .into_iter()
            .chain(attrs.iter().flatten().copied())
            .collect();
        let mut v = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&((10u16 << 8) | u16::from(msg_type)).to_ne_bytes());
        v.extend_from_slice(&[0; 6]); // flags, sequence number
        v.extend_from_slice(&port.to_ne_bytes());
        v.extend(body);
        v
    }

    /// `NFT_MSG_NEWGEN` with `NFTA_GEN_ID`, `NFTA_GEN_PROC_PID`, `NFTA_GEN_PROC_NAME`.
    fn newgen(pid: u32) -> Vec<u8> {
        notification(
            15,
            0,
            &[
                nla(1, &7u32.to_be_bytes()),
                nla(2, &pid.to_be_bytes()),
                nla(3, b"nft\0"),
            ],
            0,
        )
    }

    fn reader() -> Notifications {
        Notifications::new(|pid| pid == 1000, "nspawn_netd_nat0")
    }

    /// `NFT_MSG_DELTABLE` of `inet NAME`.
    fn deltable(name: &str) -> Vec<u8> {
        notification(2, INET, &[nla(1, format!("{name}\0").as_bytes())], 0)
    }

    #[test]
    fn a_transaction_of_another_process_names_it() {
        let t = reader().feed(&newgen(4242));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].who.pid, Some(4242));
        assert_eq!(t[0].who.name.as_deref(), Some("nft"));
        assert!(!t[0].touched);
    }

    #[test]
    fn our_own_transactions_are_ignored() {
        assert_eq!(reader().feed(&newgen(1000)), []);
    }

    #[test]
    fn only_the_end_of_a_transaction_counts_and_garbage_is_dropped() {
        let mut r = reader();
        // NEWTABLE of someone else: the NEWGEN that ends it will follow.
        let newtable = notification(0, INET, &[nla(1, b"filter\0")], 0);
        assert_eq!(r.feed(&newtable), []);
        assert_eq!(r.feed(&[0xff; 7]), []);
        let t = r.feed(&newgen(5));
        assert_eq!(t.len(), 1);
        assert!(!t[0].touched, "it made another table");
    }

    #[test]
    fn a_transaction_that_deletes_our_table_is_marked_even_across_datagrams() {
        let mut r = reader();
        assert_eq!(r.feed(&deltable("other")), []);
        // Same name, another family: not ours.
        let ip = notification(2, 2, &[nla(1, b"nspawn_netd_nat0\0")], 0);
        assert_eq!(r.feed(&ip), []);
        assert!(!r.feed(&newgen(4))[0].touched);
        assert_eq!(r.feed(&deltable("nspawn_netd_nat0")), []);
        let t = r.feed(&newgen(5));
        assert!(t[0].touched);
        // The next transaction starts clean.
        let mut both = deltable("nspawn_netd_nat1");
        both.extend(newgen(6));
        let t = r.feed(&both);
        assert_eq!((t[0].who.pid, t[0].touched), (Some(6), false));
    }

    #[test]
    fn without_a_pid_attribute_the_port_id_names_the_sender() {
        let bare = notification(15, 0, &[nla(1, &7u32.to_be_bytes())], 777);
        assert_eq!(
            reader().feed(&bare),
            [Transaction {
                who: Foreign {
                    pid: Some(777),
                    name: None
                },
                touched: false
            }]
        );
        // Our own port id: ours.
        let ours = notification(15, 0, &[nla(1, &7u32.to_be_bytes())], 1000);
        assert_eq!(reader().feed(&ours), []);
    }

    #[test]
    fn every_thread_of_this_process_is_ours() {
        assert!(is_this_process(std::process::id()));
        // The kernel names a transaction by the thread that sent it.
        let (tid, ours) = std::thread::spawn(|| {
            let link = std::fs::read_link("/proc/thread-self").unwrap();
            let tid: u32 = link.file_name().unwrap().to_str().unwrap().parse().unwrap();
            (tid, is_this_process(tid))
        })
        .join()
        .unwrap();
        assert_ne!(tid, std::process::id());
        assert!(ours, "thread {tid}");
        assert!(!is_this_process(u32::MAX));
    }

    #[test]
    fn the_culprit_is_described_by_its_comm_or_the_notifications_name() {
        let me = Foreign {
            pid: Some(std::process::id()),
            name: Some("stale".into()),
        };
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(
            me.describe(),
            format!("pid {} ({})", std::process::id(), comm.trim())
        );
        let gone = Foreign {
            pid: Some(u32::MAX),
            name: Some("nft".into()),
        };
        assert_eq!(gone.describe(), format!("pid {} (nft)", u32::MAX));
        assert_eq!(Foreign::default().describe(), "an unknown process");
    }
}
