//! `--max-cache-ttl` and `--min-cache-ttl` as clients see them: on the
//! forwarded answer and on every later hit.

use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use netd_testkit::dns_messages::query_bytes;
use netd_testkit::dns_messages::{a, parse, reply};

use super::tests::{CLIENT, ask, resolver};
use super::*;
use crate::dns::answer::TtlLimits;

/// Forwards `name`, completes it with an A answer of `ttl`, and returns the
/// TTL the client is told.
fn forwarded_ttl(r: &mut Resolver, name: &str, ttl: u32, now: Instant) -> u32 {
    let mut out = Vec::new();
    let Decision::Forward(fwd) = ask(r, CLIENT, name, 1, &mut out) else {
        panic!("expected a forward for {name}");
    };
    let up = reply(
        7,
        &format!("{name}."),
        RecordType::A,
        ResponseCode::NoError,
        vec![a(&format!("{name}."), ttl, [192, 0, 2, 9])],
        vec![],
    );
    r.complete(&fwd, Some(&up), now, &mut out);
    parse(&out).answers[0].ttl
}

#[test]
fn ttls_are_capped_by_max_cache_ttl_and_raised_by_min_cache_ttl() {
    let t0 = Instant::now();
    let mut r = resolver();
    assert_eq!(
        forwarded_ttl(&mut r, "forever.example.test", u32::MAX, t0),
        86_400
    );
    let mut out = Vec::new();
    let day = Duration::from_secs(86_400);
    assert!(matches!(
        ask_at(
            &mut r,
            "forever.example.test",
            t0 + day - Duration::from_secs(1),
            &mut out
        ),
        Decision::Reply
    ));
    assert_eq!(parse(&out).answers[0].ttl, 1);
    assert!(
        matches!(
            ask_at(&mut r, "forever.example.test", t0 + day, &mut out),
            Decision::Forward(_)
        ),
        "kept no longer than the cap"
    );

    let config = DnsConfig {
        client_nets: vec!["192.168.26.0/24".parse().unwrap()],
        ttls: TtlLimits { min: 60, max: 600 },
        ..DnsConfig::default()
    };
    let mut r = Resolver::new(config, LocalNames::new(None), Hosts::default());
    assert_eq!(forwarded_ttl(&mut r, "long.example.test", 7200, t0), 600);
    assert_eq!(forwarded_ttl(&mut r, "brief.example.test", 5, t0), 60);
    assert!(matches!(
        ask_at(
            &mut r,
            "brief.example.test",
            t0 + Duration::from_secs(59),
            &mut out
        ),
        Decision::Reply
    ));
    // TTL 0 means "do not cache": the floor does not apply to it.
    assert_eq!(forwarded_ttl(&mut r, "zero.example.test", 0, t0), 0);
    assert!(matches!(
        ask_at(&mut r, "zero.example.test", t0, &mut out),
        Decision::Forward(_)
    ));
}

fn ask_at(r: &mut Resolver, name: &str, now: Instant, out: &mut Vec<u8>) -> Decision {
    let q = query_bytes(0x0101, name, 1, None);
    r.handle_query(&q, CLIENT, Transport::Udp, now, out)
}
