//! nf_tables expressions, one function each, built from
//! `netlink-packet-netfilter`'s attribute types where it has them (meta, cmp,
//! payload, bitwise, immediate) and from raw attributes where it does not
//! (ct, masq). Constants are those of `linux/netfilter/nf_tables.h`.

use netlink_packet_core::DefaultNla;
use netlink_packet_netfilter::nftables::{
    Bitwise, Cmp, DataAttribute, ExpressionAttribute, Expressions, Immediate, ListAttribute, Meta,
    MetaKey, Operator, Payload, Register, Verdict, VerdictAttribute,
};

/// One expression of a rule, as it sits in `NFTA_RULE_EXPRESSIONS`.
pub type Expr = ListAttribute<ExpressionAttribute>;

/// `NFT_PAYLOAD_NETWORK_HEADER`.
pub(crate) const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
/// `NFT_PAYLOAD_TRANSPORT_HEADER`.
pub(crate) const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
/// `NF_ACCEPT`: the verdict code of `accept`.
pub(crate) const NF_ACCEPT: u32 = 1;
/// `NF_DROP`: the verdict code of `drop`.
pub(crate) const NF_DROP: u32 = 0;

/// `NFTA_CT_DREG`.
const NFTA_CT_DREG: u16 = 1;
/// `NFTA_CT_KEY`.
const NFTA_CT_KEY: u16 = 2;
/// `NFT_CT_STATE`.
pub(crate) const NFT_CT_STATE: u32 = 0;
/// `NF_CT_STATE_BIT(IP_CT_ESTABLISHED)`.
pub(crate) const NF_CT_STATE_ESTABLISHED: u32 = 1 << 1;
/// `NF_CT_STATE_BIT(IP_CT_RELATED)`.
pub(crate) const NF_CT_STATE_RELATED: u32 = 1 << 2;

/// The interface-name registers hold `IFNAMSIZ` bytes.
pub(crate) const IFNAMSIZ: usize = 16;

/// `meta load KEY => reg 1`.
pub fn meta(key: MetaKey) -> Expr {
    Expressions::Meta(vec![
        Meta::Key(key),
        Meta::DestinationRegister(Register::Reg1),
    ])
    .into()
}

/// `cmp OP reg 1 DATA`.
pub fn cmp(op: Operator, data: &[u8]) -> Expr {
    Expressions::Cmp(vec![
        Cmp::SourceRegister(Register::Reg1),
        Cmp::Op(op),
        Cmp::Data(DataAttribute::Value(data.to_vec())),
    ])
    .into()
}

/// `payload load LEN b @ BASE + OFFSET => reg 1`.
pub fn payload(base: u32, offset: u32, len: u32) -> Expr {
    Expressions::Payload(vec![
        Payload::DestinationRegister(Register::Reg1),
        Payload::Base(base),
        Payload::Offset(offset),
        Payload::Len(len),
    ])
    .into()
}

/// `bitwise reg 1 = (reg 1 & MASK) ^ XOR`; `mask` and `xor` have the same length.
pub fn bitwise(mask: &[u8], xor: &[u8]) -> Expr {
    debug_assert_eq!(mask.len(), xor.len());
    Expressions::Bitwise(vec![
        Bitwise::SourceRegister(Register::Reg1),
        Bitwise::DestinationRegister(Register::Reg1),
        Bitwise::Length(mask.len() as u32),
        Bitwise::Mask(DataAttribute::Value(mask.to_vec())),
        Bitwise::Xor(DataAttribute::Value(xor.to_vec())),
    ])
    .into()
}

/// `immediate reg 0 CODE`: the rule's verdict (`NF_ACCEPT`, `NF_DROP`).
pub fn verdict(code: u32) -> Expr {
    Expressions::Immediate(vec![
        Immediate::DestinationRegister(Register::Verdict),
        Immediate::Data(DataAttribute::Verdict(vec![VerdictAttribute::Code(
            Verdict::Other(code),
        )])),
    ])
    .into()
}

/// `ct load KEY => reg 1`.
pub fn ct(key: u32) -> Expr {
    Expressions::Other {
        expression_type: "ct".into(),
        attributes: vec![
            DefaultNla::new(NFTA_CT_KEY, key.to_be_bytes().to_vec()),
            DefaultNla::new(
                NFTA_CT_DREG,
                u32::from(Register::Reg1).to_be_bytes().to_vec(),
            ),
        ],
    }
    .into()
}

/// `masq`: source NAT to the outgoing interface's address.
pub fn masquerade() -> Expr {
    Expressions::Other {
        expression_type: "masq".into(),
        attributes: vec![],
    }
    .into()
}

/// An interface name as the iifname/oifname registers hold it: NUL-padded
/// to `IFNAMSIZ`.
pub fn ifname_bytes(name: &str) -> [u8; IFNAMSIZ] {
    let mut out = [0u8; IFNAMSIZ];
    let n = name.len().min(IFNAMSIZ - 1);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}
