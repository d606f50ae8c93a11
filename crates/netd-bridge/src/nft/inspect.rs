//! A read-only view of the whole ruleset for the doctor: every base chain
//! with its hook and policy, and the rules that drop or reject in forward
//! chains. Tables made by iptables-nft show up here like any other.
//!
//! Each query is a dump over the socket, then a pure reading of the
//! answer (`*_in`), which the fuzz targets feed arbitrary messages.

use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, DataAttribute, ExpressionAttribute, Expressions, Hook,
    HookNumber, Immediate, ListAttribute, NfTablesMessage, RuleAttribute, RuleMessage,
    TableAttribute, TableMessage, VerdictAttribute,
};
use netlink_packet_netfilter::{NetfilterMessage, NetfilterMessageInner, NetfilterProtoFamily};
use serde::Serialize;

use super::NfSocket;
use super::batch::dump_request;
use super::expr::NF_DROP;
use crate::Error;

/// A base chain somewhere in the ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseChainInfo {
    /// nft's family name: `ip`, `ip6`, `inet`, `bridge`, …
    pub family: String,
    pub table: String,
    pub chain: String,
    /// The netfilter hook number (`2` is forward).
    pub hook: u32,
    /// `accept` or `drop`.
    pub policy: String,
}

/// A rule that ends in `drop` or `reject` in some base chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropRule {
    pub family: String,
    pub table: String,
    pub chain: String,
    pub handle: u64,
}

/// `NF_INET_FORWARD`.
pub const HOOK_FORWARD: u32 = 2;

pub fn family_name(f: NetfilterProtoFamily) -> String {
    match f {
        NetfilterProtoFamily::Inet => "inet".into(),
        NetfilterProtoFamily::IPv4 => "ip".into(),
        NetfilterProtoFamily::IPv6 => "ip6".into(),
        NetfilterProtoFamily::ARP => "arp".into(),
        NetfilterProtoFamily::Bridge => "bridge".into(),
        NetfilterProtoFamily::NetDev => "netdev".into(),
        other => format!("family{}", u8::from(other)),
    }
}

/// True when the table `inet TABLE` exists.
pub fn table_exists(sock: &mut NfSocket, table: &str) -> Result<bool, Error> {
    Ok(table_userdata(sock, table)?.is_some())
}

/// The user data of the table `inet TABLE` (empty when it has none);
/// `None` when the table does not exist.
pub fn table_userdata(sock: &mut NfSocket, table: &str) -> Result<Option<Vec<u8>>, Error> {
    let get = NfTablesMessage::GetTable(TableMessage { attributes: vec![] });
    let msgs = sock.dump(|seq| dump_request(get, true, seq))?;
    Ok(table_userdata_in(msgs, table))
}

/// [`table_userdata`] from the messages of a table dump.
pub fn table_userdata_in(msgs: Vec<NetfilterMessage>, table: &str) -> Option<Vec<u8>> {
    for m in msgs {
        let NetfilterMessageInner::NfTables(NfTablesMessage::NewTable(t)) = m.inner else {
            continue;
        };
        if !t
            .attributes
            .iter()
            .any(|a| matches!(a, TableAttribute::Name(n) if n == table))
        {
            continue;
        }
        let data = t.attributes.into_iter().find_map(|a| match a {
            TableAttribute::UserData(d) => Some(d),
            _ => None,
        });
        return Some(data.unwrap_or_default());
    }
    None
}

/// Every base chain of every family.
pub fn base_chains(sock: &mut NfSocket) -> Result<Vec<BaseChainInfo>, Error> {
    let get = NfTablesMessage::GetChain(ChainMessage { attributes: vec![] });
    let msgs = sock.dump(|seq| dump_request(get, false, seq))?;
    Ok(base_chains_in(msgs))
}

/// [`base_chains`] from the messages of a chain dump.
pub fn base_chains_in(msgs: Vec<NetfilterMessage>) -> Vec<BaseChainInfo> {
    let mut out = Vec::new();
    for m in msgs {
        let family = family_name(m.header.family);
        let NetfilterMessageInner::NfTables(NfTablesMessage::NewChain(c)) = m.inner else {
            continue;
        };
        let (mut table, mut chain, mut hook, mut policy) = (None, None, None, None);
        for a in c.attributes {
            match a {
                ChainAttribute::Table(t) => table = Some(t),
                ChainAttribute::Name(n) => chain = Some(n),
                ChainAttribute::Policy(p) => policy = Some(p),
                ChainAttribute::Hook(hs) => {
                    for h in hs {
                        if let Hook::Number(n) = h {
                            hook = Some(hook_number(n));
                        }
                    }
                }
                _ => {}
            }
        }
        if let (Some(table), Some(chain), Some(hook)) = (table, chain, hook) {
            out.push(BaseChainInfo {
                family,
                table,
                chain,
                hook,
                policy: if policy == Some(NF_DROP) {
                    "drop"
                } else {
                    "accept"
                }
                .into(),
            });
        }
    }
    out
}

fn hook_number(n: HookNumber) -> u32 {
    u32::from(n)
}

/// Rules ending in `drop` or `reject` in the given chains.
pub fn drop_rules(sock: &mut NfSocket, chains: &[BaseChainInfo]) -> Result<Vec<DropRule>, Error> {
    let get = NfTablesMessage::GetRule(RuleMessage { attributes: vec![] });
    let msgs = sock.dump(|seq| dump_request(get, false, seq))?;
    Ok(drop_rules_in(msgs, chains))
}

/// [`drop_rules`] from the messages of a rule dump.
pub fn drop_rules_in(msgs: Vec<NetfilterMessage>, chains: &[BaseChainInfo]) -> Vec<DropRule> {
    let mut out = Vec::new();
    for m in msgs {
        let family = family_name(m.header.family);
        let NetfilterMessageInner::NfTables(NfTablesMessage::NewRule(r)) = m.inner else {
            continue;
        };
        let (mut table, mut chain, mut handle, mut drops) = (None, None, 0, false);
        for a in r.attributes {
            match a {
                RuleAttribute::Table(t) => table = Some(t),
                RuleAttribute::Chain(c) => chain = Some(c),
                RuleAttribute::Handle(h) => handle = h,
                RuleAttribute::Expressions(exprs) => drops = exprs.iter().any(is_drop),
                _ => {}
            }
        }
        let (Some(table), Some(chain)) = (table, chain) else {
            continue;
        };
        let watched = chains
            .iter()
            .any(|c| c.family == family && c.table == table && c.chain == chain);
        if drops && watched {
            out.push(DropRule {
                family,
                table,
                chain,
                handle,
            });
        }
    }
    out
}

fn is_drop(e: &ListAttribute<ExpressionAttribute>) -> bool {
    let ListAttribute::Element(attrs) = e else {
        return false;
    };
    attrs.iter().any(|a| match a {
        ExpressionAttribute::Name(n) => n == "reject",
        ExpressionAttribute::Data(Expressions::Immediate(imm)) => imm.iter().any(|i| {
            matches!(i, Immediate::Data(DataAttribute::Verdict(v))
                if v.iter().any(|va| matches!(va, VerdictAttribute::Code(c) if u32::from(*c) == NF_DROP)))
        }),
        _ => false,
    })
}
