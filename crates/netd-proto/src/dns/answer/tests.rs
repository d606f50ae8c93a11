use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};

use super::*;
use netd_testkit::dns_messages::query_bytes;
use netd_testkit::dns_messages::{a, parse, reply, soa, txt};

#[test]
fn a_reply_is_stored_without_opt_and_rendered_with_id_case_ttl_and_edns() {
    let up = reply(
        0x1234,
        "www.example.test.",
        RecordType::A,
        ResponseCode::NoError,
        vec![
            a("www.example.test.", 300, [192, 0, 2, 1]),
            a("www.example.test.", 120, [192, 0, 2, 2]),
        ],
        vec![],
    );
    let p = Prepared::from_reply(&up).unwrap();
    assert_eq!(p.cache_for, Some(120));
    assert!(!p.negative);
    assert_eq!(p.ttl_at.len(), 2);
    assert_eq!(wire::u16_at(&p.msg, 10), Some(0), "OPT removed");

    let qmsg = query_bytes(0xbeef, "WwW.ExAmple.test", 1, Some(4096));
    let q = Query::parse(&qmsg).unwrap();
    let mut out = Vec::new();
    render(&q, &qmsg, &p.msg, &p.ttl_at, 100, 1232, &mut out);
    let m = parse(&out);
    assert_eq!(m.metadata.id, 0xbeef);
    assert!(m.metadata.recursion_desired && m.metadata.recursion_available);
    assert_eq!(m.queries[0].name().to_string(), "WwW.ExAmple.test.");
    let ttls: Vec<u32> = m.answers.iter().map(|r| r.ttl).collect();
    assert_eq!(ttls, [200, 20]);
    assert_eq!(m.edns.as_ref().unwrap().max_payload(), 1232);

    // TTLs never wrap below zero.
    render(&q, &qmsg, &p.msg, &p.ttl_at, 1000, 1232, &mut out);
    assert!(parse(&out).answers.iter().all(|r| r.ttl == 0));
}

#[test]
fn negative_answers_cache_for_the_soa_minimum_and_without_soa_not_at_all() {
    let nx = reply(
        1,
        "nope.example.test.",
        RecordType::A,
        ResponseCode::NXDomain,
        vec![],
        vec![soa("example.test.", 3600, 60)],
    );
    let p = Prepared::from_reply(&nx).unwrap();
    assert!(p.negative);
    assert_eq!(p.cache_for, Some(60));
    let qmsg = query_bytes(2, "nope.example.test", 1, None);
    let q = Query::parse(&qmsg).unwrap();
    let mut out = Vec::new();
    render(&q, &qmsg, &p.msg, &p.ttl_at, 0, 512, &mut out);
    let m = parse(&out);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        m.authorities[0].ttl, 60,
        "SOA TTL lowered to the negative TTL"
    );
    assert!(m.edns.is_none(), "no OPT to a client that sent none");

    let nodata = reply(
        1,
        "x.test.",
        RecordType::AAAA,
        ResponseCode::NoError,
        vec![],
        vec![soa("test.", 30, 900)],
    );
    let p = Prepared::from_reply(&nodata).unwrap();
    assert!(p.negative);
    assert_eq!(p.cache_for, Some(30));

    let bare = reply(
        1,
        "x.test.",
        RecordType::A,
        ResponseCode::NXDomain,
        vec![],
        vec![],
    );
    assert_eq!(Prepared::from_reply(&bare).unwrap().cache_for, None);
    let fail = reply(
        1,
        "x.test.",
        RecordType::A,
        ResponseCode::ServFail,
        vec![],
        vec![],
    );
    assert_eq!(Prepared::from_reply(&fail).unwrap().cache_for, None);
}

#[test]
fn an_answer_too_big_for_the_client_is_truncated_with_tc() {
    let big: Vec<_> = (0..20)
        .map(|i| txt("big.test.", 60, &format!("{i:02}-{}", "x".repeat(40))))
        .collect();
    let up = reply(
        1,
        "big.test.",
        RecordType::TXT,
        ResponseCode::NoError,
        big,
        vec![],
    );
    assert!(up.len() > 512);
    let p = Prepared::from_reply(&up).unwrap();
    let qmsg = query_bytes(3, "big.test", 16, None);
    let q = Query::parse(&qmsg).unwrap();
    let mut out = Vec::new();
    render(&q, &qmsg, &p.msg, &p.ttl_at, 0, 512, &mut out);
    let m = parse(&out);
    assert!(m.metadata.truncation);
    assert!(m.answers.is_empty());
    assert_eq!(m.queries.len(), 1);
    // The same answer fits a TCP client.
    render(&q, &qmsg, &p.msg, &p.ttl_at, 0, 65535, &mut out);
    let m = parse(&out);
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 20);
    assert!(matches!(m.answers[0].data, RData::TXT(_)));
}

#[test]
fn a_truncated_or_malformed_reply_is_never_cached() {
    let mut up = reply(
        1,
        "a.test.",
        RecordType::A,
        ResponseCode::NoError,
        vec![a("a.test.", 60, [1, 2, 3, 4])],
        vec![],
    );
    up[2] |= 0x02; // TC
    assert_eq!(Prepared::from_reply(&up).unwrap().cache_for, None);
    for cut in 0..up.len() - 11 {
        // Cut inside the answer or the OPT record: either malformed or
        // (cut exactly at a record boundary) not what the header claims.
        if let Some(p) = Prepared::from_reply(&up[..cut]) {
            assert!(p.msg.len() <= cut);
        }
    }
}
