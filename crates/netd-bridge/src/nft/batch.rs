//! Netlink framing of nf_tables requests: the batch that replaces our table
//! in one transaction (`NFNL_MSG_BATCH_BEGIN` … `NFNL_MSG_BATCH_END`), the
//! batch that deletes it, and dump requests. Pure: bytes out, no socket.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, Hook, NfTablesMessage, RuleAttribute, RuleMessage,
    TableAttribute, TableFlags, TableMessage,
};
use netlink_packet_netfilter::none::ControlMessage;
use netlink_packet_netfilter::{NetfilterHeader, NetfilterMessage, NetfilterProtoFamily};

use super::expr::NF_ACCEPT;
use super::rules::{BaseChain, Rule, Ruleset};

/// `NFNL_SUBSYS_NFTABLES`: the batch begin message names the subsystem in
/// its `res_id`.
const NFNL_SUBSYS_NFTABLES: u16 = 10;

/// A sequence of netlink messages sent in one `sendmsg`, with the
/// sequence numbers of those that expect an acknowledgement.
#[derive(Debug, Default)]
pub struct Batch {
    pub bytes: Vec<u8>,
    /// Sequence numbers of the messages sent with `NLM_F_ACK`, with what
    /// each did, to name the one the kernel refused.
    pub acked: Vec<(u32, String)>,
    next_seq: u32,
}

impl Batch {
    pub fn new(first_seq: u32) -> Batch {
        Batch {
            next_seq: first_seq,
            ..Batch::default()
        }
    }

    fn push(&mut self, flags: u16, inner: NetfilterMessage) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(inner));
        msg.finalize();
        let start = self.bytes.len();
        self.bytes.resize(start + msg.buffer_len(), 0);
        msg.serialize(&mut self.bytes[start..]);
    }

    fn control(&mut self, msg: ControlMessage) {
        let header = NetfilterHeader::new(NetfilterProtoFamily::Unspec, 0, NFNL_SUBSYS_NFTABLES);
        let nf = NetfilterMessage::new(header, msg);
        self.push(NLM_F_REQUEST, nf);
    }

    /// Adds an nf_tables message for the `inet` family, acknowledged.
    fn inet(&mut self, flags: u16, msg: NfTablesMessage, what: String) {
        let header = NetfilterHeader::new(NetfilterProtoFamily::Inet, 0, 0);
        self.acked.push((self.next_seq, what));
        self.push(
            flags | NLM_F_REQUEST | NLM_F_ACK,
            NetfilterMessage::new(header, msg),
        );
    }

    /// The sequence number the next message would get.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }
}

fn table_msg(table: &str, flags: bool) -> TableMessage {
    let mut attributes = vec![TableAttribute::Name(table.into())];
    if flags {
        attributes.push(TableAttribute::Flags(TableFlags::empty()));
    }
    TableMessage { attributes }
}

/// `NFTNL_UDATA_TABLE_COMMENT`: the type of a table comment in the
/// type-length-value user data nft reads.
const NFTNL_UDATA_TABLE_COMMENT: u8 = 0;

/// The table's comment: says who owns it and fingerprints its contents,
/// so an unchanged table is recognised and left alone.
pub fn table_comment(ruleset: &Ruleset) -> String {
    format!("managed by nspawn-netd {:016x}", ruleset.fingerprint())
}

/// The comment as table user data (one TLV, NUL-terminated string).
pub fn comment_userdata(comment: &str) -> Vec<u8> {
    let mut v = vec![NFTNL_UDATA_TABLE_COMMENT, (comment.len() + 1) as u8];
    v.extend_from_slice(comment.as_bytes());
    v.push(0);
    v
}

/// The table's `NEWTABLE` message body; without a comment exactly as nft
/// sends `table inet NAME`.
pub fn new_table(table: &str, comment: Option<&str>) -> NfTablesMessage {
    let mut msg = table_msg(table, true);
    if let Some(c) = comment {
        msg.attributes
            .push(TableAttribute::UserData(comment_userdata(c)));
    }
    NfTablesMessage::NewTable(msg)
}

/// One base chain's `NEWCHAIN` message body.
pub fn new_chain(table: &str, chain: &BaseChain) -> NfTablesMessage {
    NfTablesMessage::NewChain(ChainMessage {
        attributes: vec![
            ChainAttribute::Table(table.into()),
            ChainAttribute::Name(chain.name.into()),
            ChainAttribute::Type(chain.kind.into()),
            ChainAttribute::Policy(NF_ACCEPT),
            ChainAttribute::Hook(vec![
                Hook::Number(chain.hook.into()),
                Hook::Priority(chain.priority as u32),
            ]),
        ],
    })
}

/// One rule's `NEWRULE` message body.
pub fn new_rule(table: &str, rule: &Rule) -> NfTablesMessage {
    NfTablesMessage::NewRule(RuleMessage {
        attributes: vec![
            RuleAttribute::Table(table.into()),
            RuleAttribute::Chain(rule.chain.into()),
            RuleAttribute::Expressions(rule.exprs.clone()),
        ],
    })
}

/// The transaction that makes the bridge's table exactly `ruleset`,
/// whether it existed or not: create it (a no-op when it exists), delete
/// it, create it again with its chains and rules. The kernel applies all
/// or nothing. No other table is named.
pub fn replace_table(ruleset: &Ruleset, first_seq: u32) -> Batch {
    let table = ruleset.table_name();
    let mut b = Batch::new(first_seq);
    b.control(ControlMessage::BatchBegin);
    b.inet(0, new_table(&table, None), "create table".into());
    b.inet(
        0,
        NfTablesMessage::DeleteTable(table_msg(&table, false)),
        "delete old table".into(),
    );
    let comment = table_comment(ruleset);
    b.inet(0, new_table(&table, Some(&comment)), "create table".into());
    for chain in ruleset.chains() {
        b.inet(
            NLM_F_CREATE,
            new_chain(&table, &chain),
            format!("create chain {}", chain.name),
        );
    }
    for (i, rule) in ruleset.rules().iter().enumerate() {
        b.inet(
            NLM_F_CREATE | NLM_F_APPEND,
            new_rule(&table, rule),
            format!("add rule {} to chain {}", i + 1, rule.chain),
        );
    }
    b.control(ControlMessage::BatchEnd);
    b
}

/// The transaction that deletes the table `table` (it must exist).
pub fn delete_table(table: &str, first_seq: u32) -> Batch {
    let mut b = Batch::new(first_seq);
    b.control(ControlMessage::BatchBegin);
    b.inet(
        0,
        NfTablesMessage::DeleteTable(table_msg(table, false)),
        "delete table".into(),
    );
    b.control(ControlMessage::BatchEnd);
    b
}

/// A dump request (`GETTABLE`, `GETCHAIN`, `GETRULE`) over every family, or
/// over `inet` only when `ours_only` (the message names the table).
pub fn dump_request(msg: NfTablesMessage, ours_only: bool, seq: u32) -> Vec<u8> {
    let family = if ours_only {
        NetfilterProtoFamily::Inet
    } else {
        NetfilterProtoFamily::Unspec
    };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let nf = NetfilterMessage::new(NetfilterHeader::new(family, 0, 0), msg);
    let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(nf));
    m.finalize();
    let mut out = vec![0; m.buffer_len()];
    m.serialize(&mut out);
    out
}

/// `GETRULE` for the table `table` only.
pub fn get_rules_of(table: &str) -> NfTablesMessage {
    NfTablesMessage::GetRule(RuleMessage {
        attributes: vec![RuleAttribute::Table(table.into())],
    })
}
