//! DNS messages for tests, built with hickory-proto, an encoder independent
//! of ours: upstream replies, records, and queries as a stub resolver sends
//! them.

use std::net::Ipv4Addr;
use std::str::FromStr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

pub fn a(owner: &str, ttl: u32, ip: [u8; 4]) -> Record {
    Record::from_rdata(name(owner), ttl, RData::A(A(Ipv4Addr::from(ip))))
}

pub fn txt(owner: &str, ttl: u32, text: &str) -> Record {
    Record::from_rdata(
        name(owner),
        ttl,
        RData::TXT(TXT::new(vec![text.to_owned()])),
    )
}

pub fn soa(zone: &str, ttl: u32, minimum: u32) -> Record {
    let rdata = SOA::new(
        name("ns.test."),
        name("admin.test."),
        1,
        3600,
        600,
        86400,
        minimum,
    );
    Record::from_rdata(name(zone), ttl, RData::SOA(rdata))
}

/// An upstream's reply to `qname`/`qtype` with `id`.
pub fn reply(
    id: u16,
    qname: &str,
    qtype: RecordType,
    rcode: ResponseCode,
    answers: Vec<Record>,
    authorities: Vec<Record>,
) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Response, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.metadata.recursion_available = true;
    m.metadata.response_code = rcode;
    m.add_query(Query::query(name(qname), qtype));
    m.answers = answers;
    m.authorities = authorities;
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    m.set_edns(edns);
    m.to_vec().unwrap()
}

/// Parses a reply we produced, to check it with an independent decoder.
pub fn parse(msg: &[u8]) -> Message {
    Message::from_vec(msg).unwrap()
}

/// The header's recursion-desired bit.
const RD: u16 = 0x0100;

/// A query as a stub resolver sends it, built by hand.
pub fn query_bytes(id: u16, name: &str, qtype: u16, edns: Option<u16>) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&RD.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    if let Some(size) = edns {
        m.extend_from_slice(&[0, 0, 41]);
        m.extend_from_slice(&size.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    m
}
