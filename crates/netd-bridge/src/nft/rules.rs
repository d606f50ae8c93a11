//! Our table for one bridge, `inet nspawn_netd_BR`, as data: its three base
//! chains and their rules, computed from the bridge's name and subnets.
//! Pure: no socket. Each bridge has a table of its own, so `up` on two
//! bridges keeps two tables that never touch each other.
//!
//! ```text
//! table inet nspawn_netd_BR {
//!   chain input { type filter hook input priority filter; policy accept;
//!     iifname BR udp dport 67 accept; iifname BR udp dport 53 accept
//!     iifname BR tcp dport 53 accept; iifname BR udp dport 547 accept
//!     iifname BR meta l4proto ipv6-icmp accept }
//!   chain forward { type filter hook forward priority filter; policy accept;
//!     iifname BR accept
//!     oifname BR ct state established,related accept; oifname BR drop
//!     # or, with --allow-inbound (Inbound::Allow): oifname BR accept
//!   }
//!   chain postrouting { type nat hook postrouting priority srcnat; policy accept;
//!     ip saddr V4NET oifname != BR masquerade
//!     ip6 saddr V6NET oifname != BR masquerade }
//! }
//! ```
//! The input rules only matter where another table's input chain would drop
//! these services; an accept here cannot override a drop elsewhere (the
//! doctor reports those). The forward chain's last rule is the inbound
//! policy: a new connection from another interface into the bridge is
//! dropped, unless `up --allow-inbound` asked for it to be accepted.
//! Traffic between two ports of the bridge is switched, not forwarded, and
//! never meets this chain.

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

use crate::config::Inbound;
use netlink_packet_netfilter::nftables::{InetHookNumber, MetaKey, Operator};

use super::expr::{
    Expr, NF_ACCEPT, NF_CT_STATE_ESTABLISHED, NF_CT_STATE_RELATED, NF_DROP, NFT_CT_STATE,
    NFT_PAYLOAD_NETWORK_HEADER, NFT_PAYLOAD_TRANSPORT_HEADER, bitwise, cmp, ct, ifname_bytes,
    masquerade, meta, payload, verdict,
};

/// What the name of every table nspawn-netd owns starts with.
pub const TABLE_PREFIX: &str = "nspawn_netd_";

/// `NFT_NAME_MAXLEN`: an nf_tables name holds at most this many bytes,
/// its terminating NUL included.
pub const NFT_NAME_MAXLEN: usize = 256;

/// The name of `bridge`'s table: `nspawn_netd_BR`. A bridge name is at
/// most 15 bytes (`IFNAMSIZ`), so the table name fits nf_tables' limit
/// with room to spare. Interface names may hold characters nft's parser
/// only takes quoted (`@`, `+`, `:`…); those become `_` and a hash of the
/// real name is appended, so `nft list table inet NAME` works unquoted and
/// two bridges never share a table.
pub fn table_name(bridge: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
    if bridge.bytes().all(plain) {
        return format!("{TABLE_PREFIX}{bridge}");
    }
    let cleaned: String = bridge
        .bytes()
        .map(|b| if plain(b) { char::from(b) } else { '_' })
        .collect();
    let hash = crate::config::bridge_mac(bridge)
        .iter()
        .skip(2)
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    format!("{TABLE_PREFIX}{cleaned}_{hash}")
}

/// `NFPROTO_IPV4`, `NFPROTO_IPV6` as `meta nfproto` loads them.
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
/// IP protocol numbers as `meta l4proto` loads them.
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

/// Ports the daemon serves on the bridge.
const BOOTPS_PORT: u16 = 67;
const DOMAIN_PORT: u16 = 53;
const DHCPV6_SERVER_PORT: u16 = 547;

/// A base chain of our table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseChain {
    pub name: &'static str,
    /// `filter` or `nat`.
    pub kind: &'static str,
    pub hook: InetHookNumber,
    /// `NF_IP_PRI_FILTER` (0) or `NF_IP_PRI_NAT_SRC` (100).
    pub priority: i32,
}

/// One rule: the chain it goes in and its expressions in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub chain: &'static str,
    pub exprs: Vec<Expr>,
}

/// What our table must hold for one bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruleset {
    pub bridge: String,
    pub ipv4: Ipv4Network,
    /// `None` when IPv6 is off: no NAT66 rule.
    pub ipv6: Option<Ipv6Network>,
    /// The forward chain's answer to new connections into the bridge.
    pub inbound: Inbound,
}

impl Ruleset {
    /// This bridge's table name.
    pub fn table_name(&self) -> String {
        table_name(&self.bridge)
    }

    pub fn chains(&self) -> Vec<BaseChain> {
        vec![
            BaseChain {
                name: "input",
                kind: "filter",
                hook: InetHookNumber::LocalIn,
                priority: 0,
            },
            BaseChain {
                name: "forward",
                kind: "filter",
                hook: InetHookNumber::Forward,
                priority: 0,
            },
            BaseChain {
                name: "postrouting",
                kind: "nat",
                hook: InetHookNumber::PostRouting,
                priority: 100,
            },
        ]
    }

    /// A 64-bit FNV-1a hash of the encoded chains and rules: equal
    /// fingerprints, equal tables.
    pub fn fingerprint(&self) -> u64 {
        use netlink_packet_core::Emitable;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |m: &netlink_packet_netfilter::nftables::NfTablesMessage| {
            let mut buf = vec![0; m.buffer_len()];
            m.emit(&mut buf);
            for b in buf {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        let table = self.table_name();
        for c in self.chains() {
            feed(&super::batch::new_chain(&table, &c));
        }
        for r in self.rules() {
            feed(&super::batch::new_rule(&table, &r));
        }
        h
    }

    pub fn rules(&self) -> Vec<Rule> {
        let br = ifname_bytes(&self.bridge);
        let iif = || vec![meta(MetaKey::Iifname), cmp(Operator::Equal, &br)];
        let port = |proto: u8, port: u16| {
            let mut e = iif();
            e.push(meta(MetaKey::L4Proto));
            e.push(cmp(Operator::Equal, &[proto]));
            e.push(payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
            e.push(cmp(Operator::Equal, &port.to_be_bytes()));
            e.push(verdict(NF_ACCEPT));
            Rule {
                chain: "input",
                exprs: e,
            }
        };
        let mut rules = vec![
            port(IPPROTO_UDP, BOOTPS_PORT),
            port(IPPROTO_UDP, DOMAIN_PORT),
            port(IPPROTO_TCP, DOMAIN_PORT),
            port(IPPROTO_UDP, DHCPV6_SERVER_PORT),
        ];
        let mut icmp6 = iif();
        icmp6.extend([
            meta(MetaKey::L4Proto),
            cmp(Operator::Equal, &[IPPROTO_ICMPV6]),
            verdict(NF_ACCEPT),
        ]);
        rules.push(Rule {
            chain: "input",
            exprs: icmp6,
        });
        let mut from_bridge = iif();
        from_bridge.push(verdict(NF_ACCEPT));
        rules.push(Rule {
            chain: "forward",
            exprs: from_bridge,
        });
        rules.extend(inbound_rules(self.inbound, &br));
        rules.push(masquerade_rule(IpNetwork::V4(self.ipv4), &br));
        if let Some(v6) = self.ipv6 {
            rules.push(masquerade_rule(IpNetwork::V6(v6), &br));
        }
        rules
    }
}

/// The forward rules for traffic into the bridge. `Drop`: `oifname BR ct
/// state established,related accept; oifname BR drop`. `Allow`: `oifname
/// BR accept`.
fn inbound_rules(inbound: Inbound, br: &[u8]) -> Vec<Rule> {
    let oif = || vec![meta(MetaKey::Oifname), cmp(Operator::Equal, br)];
    let rule = |exprs| Rule {
        chain: "forward",
        exprs,
    };
    match inbound {
        Inbound::Drop => {
            let state = (NF_CT_STATE_ESTABLISHED | NF_CT_STATE_RELATED).to_ne_bytes();
            let mut replies = oif();
            replies.extend([
                ct(NFT_CT_STATE),
                bitwise(&state, &[0; 4]),
                cmp(Operator::NotEqual, &[0; 4]),
                verdict(NF_ACCEPT),
            ]);
            let mut rest = oif();
            rest.push(verdict(NF_DROP));
            vec![rule(replies), rule(rest)]
        }
        Inbound::Allow => {
            let mut all = oif();
            all.push(verdict(NF_ACCEPT));
            vec![rule(all)]
        }
    }
}

/// `ip[6] saddr NET oifname != BR masquerade`.
fn masquerade_rule(net: IpNetwork, br: &[u8]) -> Rule {
    let mut exprs = saddr_match(net);
    exprs.extend([
        meta(MetaKey::Oifname),
        cmp(Operator::NotEqual, br),
        masquerade(),
    ]);
    Rule {
        chain: "postrouting",
        exprs,
    }
}

/// `ip saddr NET` / `ip6 saddr NET` the way nft encodes it: the family
/// check, then a prefix on a byte boundary as a shorter load, any other
/// prefix as a full load, a mask and a compare.
pub fn saddr_match(net: IpNetwork) -> Vec<Expr> {
    let (nfproto, offset, addr): (u8, u32, Vec<u8>) = match net {
        IpNetwork::V4(n) => (NFPROTO_IPV4, 12, n.network().octets().to_vec()),
        IpNetwork::V6(n) => (NFPROTO_IPV6, 8, n.network().octets().to_vec()),
    };
    let mut exprs = vec![meta(MetaKey::Nfproto), cmp(Operator::Equal, &[nfproto])];
    let prefix = usize::from(net.prefix());
    if prefix == 0 {
        return exprs;
    }
    if prefix % 8 == 0 {
        let n = prefix / 8;
        exprs.push(payload(NFT_PAYLOAD_NETWORK_HEADER, offset, n as u32));
        exprs.push(cmp(Operator::Equal, &addr[..n]));
    } else {
        let mask: Vec<u8> = (0..addr.len())
            .map(|i| {
                let bits = prefix.saturating_sub(i * 8).min(8);
                (0xffu16 << (8 - bits)) as u8
            })
            .collect();
        exprs.push(payload(
            NFT_PAYLOAD_NETWORK_HEADER,
            offset,
            addr.len() as u32,
        ));
        exprs.push(bitwise(&mask, &vec![0; addr.len()]));
        exprs.push(cmp(Operator::Equal, &addr));
    }
    exprs
}
