//! Which netlink messages may be handed to netlink-packet-netfilter's
//! decoder. Pure: bytes in, yes or no.
//!
//! The decoder reads some nested attributes without checking their length
//! (`NlaBuffer::new` instead of `new_checked`): the data of `cmp`,
//! `bitwise` and `immediate` expressions, and set and set-element data. A
//! short one panics it. The kernel never sends such a message, but nothing
//! that parses bytes here may panic on any input (found by the `nft_reply`
//! fuzz target), so a message is decoded only when:
//!
//! - it belongs to a subsystem this crate reads (nfnetlink control
//!   messages and nf_tables) or is a netlink control message (done,
//!   error);
//! - it is not a set or set-element message (no table of ours has sets,
//!   and nothing here reads other tables' sets);
//! - in a rule message, every attribute the decoder reads unchecked holds a
//!   whole attribute header.
//!
//! The walk mirrors the decoder's own (`NlasIterator`): an attribute that
//! does not fit stops the walk, and the decoder then returns an error
//! rather than panicking.

/// `struct nlmsghdr`: length, type, flags, sequence, port.
const NLMSG_HDRLEN: usize = 16;
/// `struct nfgenmsg`: family, version, resource id.
const NFGENMSG_LEN: usize = 4;
/// Netlink's own message types (`NLMSG_NOOP` .. `NLMSG_OVERRUN`) are below
/// this; the core crate decodes them itself.
const NLMSG_MIN_TYPE: u16 = 0x10;
const NFNL_SUBSYS_NONE: u16 = 0;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// `NFT_MSG_NEWRULE`, `GETRULE`, `DELRULE`.
const RULE_MESSAGES: [u16; 3] = [6, 7, 8];
/// `NFT_MSG_NEWSET` to `NFT_MSG_DELSETELEM`.
const SET_MESSAGES: std::ops::RangeInclusive<u16> = 9..=14;
/// `NLA_TYPE_MASK`: the attribute type without the nested and byte-order
/// flags.
const NLA_TYPE_MASK: u16 = 0x3fff;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;

/// The attributes of an expression's data that the decoder reads as one
/// nested attribute without checking it, by expression name.
fn unchecked_kinds(name: &[u8]) -> &'static [u16] {
    match name {
        b"cmp" => &[3],           // NFTA_CMP_DATA
        b"bitwise" => &[4, 5, 7], // NFTA_BITWISE_MASK, _XOR, _DATA
        b"immediate" => &[2],     // NFTA_IMMEDIATE_DATA
        _ => &[],
    }
}

/// Whether `msg` (one whole netlink message, header included) may be given
/// to `NetlinkMessage::<NetfilterMessage>::deserialize`.
pub fn decodable(msg: &[u8]) -> bool {
    let Some(&[t0, t1]) = msg.get(4..6) else {
        // Too short for a header: the decoder refuses it itself.
        return true;
    };
    let msg_type = u16::from_ne_bytes([t0, t1]);
    if msg_type < NLMSG_MIN_TYPE {
        return true;
    }
    let (subsys, kind) = (msg_type >> 8, msg_type & 0xff);
    match subsys {
        NFNL_SUBSYS_NONE => true,
        NFNL_SUBSYS_NFTABLES if SET_MESSAGES.contains(&kind) => false,
        NFNL_SUBSYS_NFTABLES if RULE_MESSAGES.contains(&kind) => {
            let attrs = msg.get(NLMSG_HDRLEN + NFGENMSG_LEN..).unwrap_or_default();
            rule_is_safe(attrs)
        }
        NFNL_SUBSYS_NFTABLES => true,
        _ => false,
    }
}

/// A rule's attributes: each expression list checked.
fn rule_is_safe(attrs: &[u8]) -> bool {
    nlas(attrs)
        .filter(|(kind, _)| *kind == NFTA_RULE_EXPRESSIONS)
        .all(|(_, list)| {
            nlas(list)
                .filter(|(kind, _)| *kind == NFTA_LIST_ELEM)
                .all(|(_, expr)| expression_is_safe(expr))
        })
}

/// One expression: a name, then its data. The decoder picks the data's
/// parser by the name just before it; taking the last name seen checks at
/// least every attribute it reads unchecked.
fn expression_is_safe(expr: &[u8]) -> bool {
    let mut name: &[u8] = &[];
    for (kind, value) in nlas(expr) {
        match kind {
            NFTA_EXPR_NAME => name = trim_nuls(value),
            NFTA_EXPR_DATA => {
                let kinds = unchecked_kinds(name);
                if !nlas(value)
                    .filter(|(k, _)| kinds.contains(k))
                    .all(|(_, v)| holds_one_attribute(v))
                {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// `value` starts with an attribute header whose length fits in it.
fn holds_one_attribute(value: &[u8]) -> bool {
    match value {
        [l0, l1, _, _, ..] => {
            let len = usize::from(u16::from_ne_bytes([*l0, *l1]));
            (4..=value.len()).contains(&len)
        }
        _ => false,
    }
}

fn trim_nuls(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., 0] = s {
        s = rest;
    }
    s
}

/// The attributes of `buf` as (type without flags, value), walked as the
/// decoder walks them: an attribute that does not fit ends the walk.
fn nlas(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let rest = buf.get(pos..)?;
        let [l0, l1, k0, k1, ..] = *rest else {
            pos = buf.len();
            return None;
        };
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        if len < 4 || len > rest.len() {
            pos = buf.len();
            return None;
        }
        pos += (len + 3) & !3;
        let kind = u16::from_ne_bytes([k0, k1]) & NLA_TYPE_MASK;
        Some((kind, &rest[4..len]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BridgeConfig;
    use crate::nft::batch;
    use crate::nft::socket::split_messages;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize((v.len() + 3) & !3, 0);
        v
    }

    /// `NFT_MSG_NEWRULE` of `inet` with one expression `name` whose data
    /// holds attribute `kind` with `value`.
    fn rule_with(name: &str, kind: u16, value: &[u8]) -> Vec<u8> {
        let expr = [
            nla(NFTA_EXPR_NAME, format!("{name}\0").as_bytes()),
            nla(NFTA_EXPR_DATA | 0x8000, &nla(kind | 0x8000, value)),
        ]
        .concat();
        let exprs = nla(
            NFTA_RULE_EXPRESSIONS | 0x8000,
            &nla(NFTA_LIST_ELEM | 0x8000, &expr),
        );
        let body = [&[1u8, 0, 0, 0][..], &nla(1, b"nspawn_netd_nat0\0"), &exprs].concat();
        let mut m = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&((10u16 << 8) | 6).to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend(body);
        m
    }

    /// Found by the fuzzer: an `immediate` (or `cmp`, `bitwise`) data
    /// attribute too short to hold the attribute the decoder reads from it
    /// unchecked panicked `split_messages`. It is now skipped.
    #[test]
    fn expression_data_too_short_for_an_attribute_is_skipped_not_a_panic() {
        for (name, kind) in [("immediate", 2), ("cmp", 3), ("bitwise", 4), ("bitwise", 7)] {
            for value in [&[][..], &[1, 0], &[3, 0, 1, 0], &[255, 0, 2, 0, 8, 0, 1, 0]] {
                let msg = rule_with(name, kind, value);
                assert!(!decodable(&msg), "{name} {kind} {value:?}");
                assert!(split_messages(&msg).is_empty());
            }
            // A whole attribute inside is decoded as before.
            let ok = rule_with(name, kind, &nla(1, &[0, 0, 0, 1]));
            assert!(decodable(&ok));
            assert_eq!(split_messages(&ok).len(), 1);
        }
        // Other expressions' data is not read that way.
        assert!(decodable(&rule_with("meta", 2, &[1, 0])));
    }

    #[test]
    fn every_message_of_our_own_transaction_is_decodable() {
        let mut cfg = BridgeConfig::default_nat0();
        for inbound in [crate::Inbound::Drop, crate::Inbound::Allow] {
            cfg.inbound = inbound;
            let b = batch::replace_table(&cfg.ruleset(), 1);
            let decoded = split_messages(&b.bytes);
            // Batch begin and end, three table messages, chains and rules.
            let want = 2 + 3 + cfg.ruleset().chains().len() + cfg.ruleset().rules().len();
            assert_eq!(decoded.len(), want);
        }
    }

    #[test]
    fn sets_and_other_subsystems_are_not_decoded() {
        let mut set = rule_with("cmp", 3, &nla(1, &[0, 0, 0, 1]));
        set[4] = 12; // NFT_MSG_NEWSETELEM
        assert!(!decodable(&set));
        set[5] = 1; // conntrack
        assert!(!decodable(&set));
        assert!(decodable(&[0; 4]));
    }
}
