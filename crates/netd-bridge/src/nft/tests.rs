//! Encodings checked against what nft 1.0.6 sends for the same ruleset
//! (captured from `nft --debug=mnl -f` in a scratch network namespace; its
//! `--debug=netlink` rendering is in the comments). `nft-capture/` holds
//! nft's whole batch for the table of `nat0` in each inbound policy.

use netlink_packet_core::Emitable;

use super::batch::{self, Batch};
use super::expr::{self, Expr};
use super::rules::{Ruleset, saddr_match};
use crate::config::Inbound;
use netlink_packet_netfilter::nftables::{MetaKey, Operator};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn enc(e: &Expr) -> String {
    let mut buf = vec![0; e.buffer_len()];
    e.emit(&mut buf);
    hex(&buf)
}

fn ruleset(bridge: &str, v4: &str, v6: &str) -> Ruleset {
    Ruleset {
        bridge: bridge.into(),
        ipv4: v4.parse().unwrap(),
        ipv6: Some(v6.parse().unwrap()),
        inbound: Inbound::Drop,
    }
}

// [ meta load iifname => reg 1 ]
const META_IIFNAME: &str =
    "24000180090001006d657461000000001400028008000200000000060800010000000001";
// [ meta load oifname => reg 1 ]
const META_OIFNAME: &str =
    "24000180090001006d657461000000001400028008000200000000070800010000000001";
// [ meta load l4proto => reg 1 ]
const META_L4PROTO: &str =
    "24000180090001006d657461000000001400028008000200000000100800010000000001";
// [ meta load nfproto => reg 1 ]
const META_NFPROTO: &str =
    "24000180090001006d6574610000000014000280080002000000000f0800010000000001";
// [ cmp eq reg 1 0x3074616e 0x00000000 0x00000000 0x00000000 ]  ("nat0")
const CMP_EQ_NAT0: &str = "3800018008000100636d70002c0002800800010000000001080002000000000018000380140001006e617430000000000000000000000000";
// [ cmp neq reg 1 0x3074616e 0x00000000 0x00000000 0x00000000 ]
const CMP_NEQ_NAT0: &str = "3800018008000100636d70002c0002800800010000000001080002000000000118000380140001006e617430000000000000000000000000";
// [ cmp eq reg 1 0x00000011 ]  (udp)
const CMP_UDP: &str =
    "2c00018008000100636d700020000280080001000000000108000200000000000c0003800500010011000000";
// [ payload load 2b @ transport header + 2 => reg 1 ]
const PAYLOAD_DPORT: &str = "340001800c0001007061796c6f616400240002800800010000000001080002000000000208000300000000020800040000000002";
// [ cmp eq reg 1 0x00004300 ]  (port 67)
const CMP_PORT_67: &str =
    "2c00018008000100636d700020000280080001000000000108000200000000000c0003800600010000430000";
// [ immediate reg 0 accept ]
const ACCEPT: &str = "300001800e000100696d6d6564696174650000001c0002800800010000000000100002800c0002800800010000000001";
// [ ct load state => reg 1 ]
const CT_STATE: &str = "2000018007000100637400001400028008000200000000000800010000000001";
// [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
const BITWISE_EST_REL: &str = "440001800c0001006269747769736500340002800800010000000001080002000000000108000300000000040c00048008000100060000000c0005800800010000000000";
// [ cmp neq reg 1 0x00000000 ]
const CMP_NEQ_ZERO: &str =
    "2c00018008000100636d700020000280080001000000000108000200000000010c0003800800010000000000";
// [ masq ]
const MASQ: &str = "14000180090001006d6173710000000004000280";
// [ immediate reg 0 drop ]
const DROP: &str = "300001800e000100696d6d6564696174650000001c0002800800010000000000100002800c0002800800010000000000";

#[test]
fn each_expression_encodes_as_nft_does() {
    assert_eq!(enc(&expr::meta(MetaKey::Iifname)), META_IIFNAME);
    assert_eq!(enc(&expr::meta(MetaKey::Oifname)), META_OIFNAME);
    assert_eq!(enc(&expr::meta(MetaKey::L4Proto)), META_L4PROTO);
    assert_eq!(enc(&expr::meta(MetaKey::Nfproto)), META_NFPROTO);
    let nat0 = expr::ifname_bytes("nat0");
    assert_eq!(enc(&expr::cmp(Operator::Equal, &nat0)), CMP_EQ_NAT0);
    assert_eq!(enc(&expr::cmp(Operator::NotEqual, &nat0)), CMP_NEQ_NAT0);
    assert_eq!(enc(&expr::cmp(Operator::Equal, &[17])), CMP_UDP);
    assert_eq!(
        enc(&expr::payload(expr::NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)),
        PAYLOAD_DPORT
    );
    assert_eq!(
        enc(&expr::cmp(Operator::Equal, &67u16.to_be_bytes())),
        CMP_PORT_67
    );
    assert_eq!(enc(&expr::verdict(expr::NF_ACCEPT)), ACCEPT);
    assert_eq!(enc(&expr::verdict(expr::NF_DROP)), DROP);
    assert_eq!(enc(&expr::ct(expr::NFT_CT_STATE)), CT_STATE);
    assert_eq!(
        enc(&expr::bitwise(&6u32.to_ne_bytes(), &[0; 4])),
        BITWISE_EST_REL
    );
    assert_eq!(enc(&expr::cmp(Operator::NotEqual, &[0; 4])), CMP_NEQ_ZERO);
    assert_eq!(enc(&expr::masquerade()), MASQ);
}

#[test]
fn prefix_matches_encode_as_nft_does() {
    // ip saddr 192.168.26.0/24: a 3-byte load and compare.
    let v4: Vec<String> = saddr_match("192.168.26.0/24".parse().unwrap())
        .iter()
        .map(enc)
        .collect();
    assert_eq!(
        v4,
        [
            META_NFPROTO,
            "2c00018008000100636d700020000280080001000000000108000200000000000c0003800500010002000000",
            "340001800c0001007061796c6f6164002400028008000100000000010800020000000001080003000000000c0800040000000003",
            "2c00018008000100636d700020000280080001000000000108000200000000000c00038007000100c0a81a00",
        ]
    );
    // ip6 saddr fd23::/64: an 8-byte load and compare.
    let v6: Vec<String> = saddr_match("fd23::/64".parse().unwrap())
        .iter()
        .map(enc)
        .collect();
    assert_eq!(
        v6[1],
        "2c00018008000100636d700020000280080001000000000108000200000000000c000380050001000a000000"
    );
    assert_eq!(
        v6[2],
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000080800040000000008"
    );
    assert_eq!(
        v6[3],
        "3000018008000100636d70002400028008000100000000010800020000000000100003800c000100fd23000000000000"
    );
    // ip saddr 10.20.16.0/20: full load, mask, compare.
    let odd: Vec<String> = saddr_match("10.20.16.0/20".parse().unwrap())
        .iter()
        .map(enc)
        .collect();
    assert_eq!(
        odd[2],
        "340001800c0001007061796c6f6164002400028008000100000000010800020000000001080003000000000c0800040000000004"
    );
    assert_eq!(
        odd[3],
        "440001800c0001006269747769736500340002800800010000000001080002000000000108000300000000040c00048008000100fffff0000c0005800800010000000000"
    );
    assert_eq!(
        odd[4],
        "2c00018008000100636d700020000280080001000000000108000200000000000c000380080001000a141000"
    );
    // ip6 saddr fd23:0:0:10::/60: 16-byte load, mask, compare.
    let odd6: Vec<String> = saddr_match("fd23:0:0:10::/60".parse().unwrap())
        .iter()
        .map(enc)
        .collect();
    assert_eq!(
        odd6[2],
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000080800040000000010"
    );
    assert_eq!(
        odd6[3],
        "5c0001800c00010062697477697365004c0002800800010000000001080002000000000108000300000000101800048014000100fffffffffffffff00000000000000000180005801400010000000000000000000000000000000000"
    );
    assert_eq!(
        odd6[4],
        "3800018008000100636d70002c000280080001000000000108000200000000001800038014000100fd230000000000100000000000000000"
    );
}

#[test]
fn whole_rules_encode_as_nft_does() {
    let r = ruleset("nat0", "192.168.26.0/24", "fd23::/64").rules();
    let rule = |i: usize| r[i].exprs.iter().map(enc).collect::<Vec<_>>();
    // iifname "nat0" udp dport 67 accept
    assert_eq!(r[0].chain, "input");
    assert_eq!(
        rule(0),
        [
            META_IIFNAME,
            CMP_EQ_NAT0,
            META_L4PROTO,
            CMP_UDP,
            PAYLOAD_DPORT,
            CMP_PORT_67,
            ACCEPT
        ]
    );
    // oifname "nat0" ct state established,related accept
    assert_eq!(r[6].chain, "forward");
    assert_eq!(
        rule(6),
        [
            META_OIFNAME,
            CMP_EQ_NAT0,
            CT_STATE,
            BITWISE_EST_REL,
            CMP_NEQ_ZERO,
            ACCEPT
        ]
    );
    // oifname "nat0" drop
    assert_eq!(r[7].chain, "forward");
    assert_eq!(rule(7), [META_OIFNAME, CMP_EQ_NAT0, DROP]);
    // ... oifname != "nat0" masquerade
    assert_eq!(r[8].chain, "postrouting");
    assert_eq!(rule(8)[4..], [META_OIFNAME, CMP_NEQ_NAT0, MASQ]);
    assert_eq!(r.len(), 10);
}

#[test]
fn allowing_inbound_replaces_the_reply_accept_and_the_drop_with_one_accept() {
    let mut rs = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
    rs.inbound = Inbound::Allow;
    let r = rs.rules();
    let forward: Vec<Vec<String>> = r
        .iter()
        .filter(|r| r.chain == "forward")
        .map(|r| r.exprs.iter().map(enc).collect())
        .collect();
    // iifname "nat0" accept; oifname "nat0" accept
    assert_eq!(
        forward,
        [
            [META_IIFNAME, CMP_EQ_NAT0, ACCEPT],
            [META_OIFNAME, CMP_EQ_NAT0, ACCEPT]
        ]
    );
    assert_eq!(r.len(), 9);
    let drop = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
    assert_ne!(
        rs.fingerprint(),
        drop.fingerprint(),
        "a changed policy re-applies"
    );
}

/// The batch as nft sent it for the same ruleset, message by message
/// (table without its comment; sequence numbers from 0 as nft's).
#[test]
fn table_chain_and_rule_messages_match_nft() {
    let rs = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
    let b = batch::replace_table(&rs, 0);
    let msgs = split(&b);
    // batch begin: type NFNL_MSG_BATCH_BEGIN, res_id NFNL_SUBSYS_NFTABLES.
    assert_eq!(hex(&msgs[0])[..8], *"14000000");
    assert_eq!(hex(&msgs[0])[8..12], *"1000");
    assert_eq!(hex(&msgs[0])[32..], *"0000000a");
    // NEWTABLE body (after nlmsghdr): family inet, name, flags 0.
    assert_eq!(
        hex(&msgs[1][16..]),
        "01000000150001006e737061776e5f6e6574645f6e617430000000000800020000000000"
    );
    // NEWCHAIN input: table, name, type filter, policy accept, hook input prio 0.
    assert_eq!(hex(&msgs[4][16..]), nft_chain_input());
    // NEWCHAIN postrouting: type nat, hook postrouting prio 100.
    assert_eq!(
        hex(&msgs[6][16..]),
        "01000000150001006e737061776e5f6e6574645f6e6174300000000010000300706f7374726f7574696e6700080007006e61740008000500000000011400048008000100000000040800020000000064"
    );
    // Flags of a rule message: REQUEST|ACK|CREATE|APPEND.
    let flags = u16::from_le_bytes([msgs[7][6], msgs[7][7]]);
    assert_eq!(flags, 0x0c05);
    // batch end is last.
    assert_eq!(
        u16::from_le_bytes([msgs.last().unwrap()[4], msgs.last().unwrap()[5]]),
        0x11
    );
    assert_eq!(msgs.len(), 1 + 3 + 3 + 10 + 1);
}

/// Whole `NEWRULE` bodies (nfgenmsg and attributes) as nft sent them.
#[test]
fn rule_messages_match_nft_byte_for_byte() {
    let rs = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
    let b = batch::replace_table(&rs, 0);
    let msgs = split(&b);
    // iifname "nat0" udp dport 67 accept
    let udp67 = [
        "01000000150001006e737061776e5f6e6574645f6e617430000000000a000200696e7075740000004001048024000180090001006d657461",
        "0000000014000280080002000000000608000100000000013800018008000100636d70002c0002800800010000000001",
        "080002000000000018000380140001006e61743000000000000000000000000024000180090001006d65746100000000",
        "14000280080002000000001008000100000000012c00018008000100636d700020000280080001000000000108000200",
        "000000000c0003800500010011000000340001800c0001007061796c6f61640024000280080001000000000108000200",
        "00000002080003000000000208000400000000022c00018008000100636d700020000280080001000000000108000200",
        "000000000c0003800600010000430000300001800e000100696d6d6564696174650000001c0002800800010000000000",
        "100002800c0002800800010000000001",
    ]
    .concat();
    assert_eq!(hex(&msgs[7][16..]), udp67);
    // ip6 saddr fd23::/64 oifname != "nat0" masquerade
    let nat66 = [
        "01000000150001006e737061776e5f6e6574645f6e6174300000000010000200706f7374726f7574696e6700280104802400018009000100",
        "6d6574610000000014000280080002000000000f08000100000000012c00018008000100636d70002000028008000100",
        "0000000108000200000000000c000380050001000a000000340001800c0001007061796c6f6164002400028008000100",
        "000000010800020000000001080003000000000808000400000000083000018008000100636d70002400028008000100",
        "000000010800020000000000100003800c000100fd2300000000000024000180090001006d6574610000000014000280",
        "080002000000000708000100000000013800018008000100636d70002c00028008000100000000010800020000000001",
        "18000380140001006e61743000000000000000000000000014000180090001006d6173710000000004000280",
    ]
    .concat();
    assert_eq!(hex(&msgs[16][16..]), nat66);
}

fn nft_chain_input() -> &'static str {
    "01000000150001006e737061776e5f6e6574645f6e617430000000000a000300696e7075740000000b000700\
66696c746572000008000500000000011400048008000100000000010800020000000000"
}

fn split(b: &Batch) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = &b.bytes[..];
    while !rest.is_empty() {
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        out.push(rest[..len].to_vec());
        rest = &rest[(len + 3) & !3..];
    }
    out
}

#[test]
fn the_table_comment_is_an_nftnl_comment_tlv_and_tracks_the_config() {
    let a = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
    let b = ruleset("nat0", "192.168.27.0/24", "fd23::/64");
    assert_ne!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.fingerprint(), a.clone().fingerprint());
    let c = batch::table_comment(&a);
    let ud = batch::comment_userdata(&c);
    assert_eq!(ud[0], 0);
    assert_eq!(ud[1] as usize, c.len() + 1);
    assert_eq!(*ud.last().unwrap(), 0);
}

#[test]
fn without_ipv6_there_is_no_nat66_rule() {
    let mut rs = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
    rs.ipv6 = None;
    assert_eq!(rs.rules().len(), 9);
}

/// nft's batch from a capture file: (nlmsg type, body) per message.
fn nft_capture(text: &str) -> Vec<(u16, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (kind, body) = l.split_once(' ').unwrap();
            (kind.parse().unwrap(), body.to_string())
        })
        .collect()
}

/// Our batch minus what nft does not send: the create-and-delete that
/// makes the replacement work whether the table exists or not, and the
/// table comment (nft's table has none).
fn ours_as_nft_sends_it(rs: &Ruleset) -> Vec<(u16, String)> {
    let msgs = split(&batch::replace_table(rs, 0));
    msgs.iter()
        .enumerate()
        .filter(|(i, _)| !(2..=3).contains(i))
        .map(|(_, m)| (u16::from_le_bytes([m[4], m[5]]), hex(&m[16..])))
        .collect()
}

#[test]
fn the_whole_table_matches_nfts_batch_byte_for_byte_in_each_policy() {
    for (inbound, capture) in [
        (
            Inbound::Drop,
            include_str!("nft-capture/nat0-inbound-drop.hex"),
        ),
        (
            Inbound::Allow,
            include_str!("nft-capture/nat0-inbound-allow.hex"),
        ),
    ] {
        let mut rs = ruleset("nat0", "192.168.26.0/24", "fd23::/64");
        rs.inbound = inbound;
        let nft = nft_capture(capture);
        let ours = ours_as_nft_sends_it(&rs);
        assert_eq!(ours.len(), nft.len(), "{inbound:?}");
        for (i, (o, n)) in ours.iter().zip(&nft).enumerate() {
            assert_eq!(o, n, "{inbound:?}: message {i} differs");
        }
    }
}

#[test]
fn each_bridge_has_its_own_table_name_that_nft_parses_unquoted() {
    use super::{is_ours, table_name};
    assert_eq!(table_name("nat0"), "nspawn_netd_nat0");
    assert_eq!(table_name("br-lan.7"), "nspawn_netd_br-lan.7");
    assert_ne!(table_name("nat0"), table_name("nat1"));
    // Characters nft only takes quoted are replaced, and a hash of the
    // real name keeps look-alike bridges apart.
    let odd = table_name("br@x");
    assert!(odd.starts_with("nspawn_netd_br_x_"), "{odd}");
    assert_ne!(odd, table_name("br_x"));
    assert_ne!(odd, table_name("br+x"));
    assert!(
        odd.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    );
    // The longest interface name (15 bytes) fits nf_tables' limit.
    let long = table_name("@@@@@@@@@@@@@@@");
    assert!(long.len() < super::rules::NFT_NAME_MAXLEN, "{long}");
    assert!(is_ours("inet", &table_name("nat0")));
    assert!(!is_ours("ip", &table_name("nat0")));
    assert!(!is_ours("inet", "filter"));
}
