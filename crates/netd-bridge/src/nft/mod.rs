//! nf_tables over netlink: one table per bridge, `inet nspawn_netd_BR`
//! (NAT44/NAT66, the accepts the bridge needs, and the inbound policy),
//! replaced whole in one transaction, checked, deleted — each by its own
//! name, so one bridge's `up`, watcher and `down` never touch another's; a read-only view of other tables' base chains for the
//! doctor; and the watcher that puts our table back when someone removes
//! it. No `nft` binary, no libnftnl.

pub mod backoff;
pub mod batch;
pub mod expr;
pub mod heal;
pub mod inspect;
pub mod notify;
pub mod precheck;
pub mod rules;
pub mod socket;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use netlink_packet_netfilter::nftables::{NfTablesMessage, RuleAttribute};
use netlink_packet_netfilter::{NetfilterMessage, NetfilterMessageInner};

pub use rules::{Ruleset, TABLE_PREFIX, table_name};
pub use socket::NfSocket;

use crate::Error;

/// True for a table of ours (of any bridge): `family` as nft names it
/// (`inet`), and the table's name.
pub fn is_ours(family: &str, table: &str) -> bool {
    family == "inet" && table.starts_with(TABLE_PREFIX)
}

/// Makes the bridge's table exactly `ruleset` in one transaction.
pub fn apply(sock: &mut NfSocket, ruleset: &Ruleset) -> Result<(), Error> {
    sock.transact(|seq| batch::replace_table(ruleset, seq))
}

/// Applies `ruleset` unless the bridge's table is already exactly that (so a second
/// `up` does not even renumber the rules). Returns whether it applied.
pub fn ensure(sock: &mut NfSocket, ruleset: &Ruleset) -> Result<bool, Error> {
    if intact(sock, ruleset)? {
        return Ok(false);
    }
    apply(sock, ruleset)?;
    Ok(true)
}

/// Deletes the table `table`. `Ok(false)` when it was not there.
pub fn delete(sock: &mut NfSocket, table: &str) -> Result<bool, Error> {
    match sock.transact(|seq| batch::delete_table(table, seq)) {
        Ok(()) => Ok(true),
        Err(Error::Nftables { source, .. }) if source.raw_os_error() == Some(libc::ENOENT) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// How many rules each chain of the table `table` holds; `None` when the
/// table does not exist.
pub fn rule_counts(
    sock: &mut NfSocket,
    table: &str,
) -> Result<Option<BTreeMap<String, usize>>, Error> {
    let answer = sock.dump(|seq| batch::dump_request(batch::get_rules_of(table), true, seq));
    let msgs = match answer {
        Ok(m) => m,
        Err(Error::Nftables { source, .. }) if source.raw_os_error() == Some(libc::ENOENT) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let counts = rule_counts_in(msgs, table);
    // A table with chains but no rules shows up as no rules at all: ask
    // for the table itself to tell "empty" from "absent".
    if counts.is_empty() && !inspect::table_exists(sock, table)? {
        return Ok(None);
    }
    Ok(Some(counts))
}

/// How many rules of the table `table` each chain holds, from the messages
/// of a rule dump.
pub fn rule_counts_in(msgs: Vec<NetfilterMessage>, table: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for m in msgs {
        if let NetfilterMessageInner::NfTables(NfTablesMessage::NewRule(rule)) = m.inner {
            let mut rule_table = None;
            let mut chain = None;
            for a in rule.attributes {
                match a {
                    RuleAttribute::Table(t) => rule_table = Some(t),
                    RuleAttribute::Chain(c) => chain = Some(c),
                    _ => {}
                }
            }
            if rule_table.as_deref() == Some(table)
                && let Some(c) = chain
            {
                *counts.entry(c).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// True when the bridge's table carries `ruleset`'s fingerprint and holds
/// the number of rules per chain it asks for (a rule deleted by hand shows).
pub fn intact(sock: &mut NfSocket, ruleset: &Ruleset) -> Result<bool, Error> {
    let table = ruleset.table_name();
    let comment = batch::comment_userdata(&batch::table_comment(ruleset));
    if inspect::table_userdata(sock, &table)?.as_deref() != Some(comment.as_slice()) {
        return Ok(false);
    }
    let Some(counts) = rule_counts(sock, &table)? else {
        return Ok(false);
    };
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for r in ruleset.rules() {
        *want.entry(r.chain.to_string()).or_insert(0) += 1;
    }
    Ok(counts == want)
}
