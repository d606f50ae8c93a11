use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};

use super::*;
use crate::dns::config::{AddressRule, DomainRoute};
use crate::names::DhcpName;
use netd_testkit::dns_messages::query_bytes;
use netd_testkit::dns_messages::{a, parse, reply, soa};

pub(super) const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 26, 50));
const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2));

pub(super) fn resolver() -> Resolver {
    let names = LocalNames::new(Some("lan"));
    names.set_dhcp(vec![DhcpName {
        hostname: "web".into(),
        addr: Ipv4Addr::new(192, 168, 26, 20),
        mac: [2, 0, 0, 0, 0, 1],
    }]);
    let mut hosts = Hosts::default();
    hosts.add_file("hosts", "10.9.9.9 printer.example\n");
    let config = DnsConfig {
        client_nets: vec!["192.168.26.0/24".parse().unwrap()],
        domain: Some("lan".into()),
        addresses: vec![AddressRule {
            domains: vec!["blocked.test".into()],
            answer: AddressAnswer::Unspecified,
        }],
        routes: vec![DomainRoute {
            domain: "corp".into(),
            target: RouteTarget::Servers(vec!["10.1.1.1:53".parse().unwrap()]),
        }],
        // Configured records are looked at before the cache: the cache-hit
        // test below counts allocations with some present.
        records: vec![crate::dns::RecordSpec::Txt {
            name: "info.example.test".into(),
            texts: vec![b"x".to_vec()],
        }],
        ..DnsConfig::default()
    };
    Resolver::new(config, names, hosts)
}

pub(super) fn ask(
    r: &mut Resolver,
    src: IpAddr,
    name: &str,
    qtype: u16,
    out: &mut Vec<u8>,
) -> Decision {
    let q = query_bytes(0x4242, name, qtype, Some(1232));
    r.handle_query(&q, src, Transport::Udp, Instant::now(), out)
}

#[test]
fn sources_outside_the_bridge_are_refused_loopback_is_not() {
    let mut r = resolver();
    let mut out = Vec::new();
    assert!(matches!(
        ask(&mut r, STRANGER, "www.example.test", 1, &mut out),
        Decision::Reply
    ));
    let m = parse(&out);
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert_eq!(m.metadata.id, 0x4242);
    assert!(matches!(
        ask(
            &mut r,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            "www.example.test",
            1,
            &mut out
        ),
        Decision::Forward(_)
    ));
    assert_eq!(r.stats.refused, 1);
}

#[test]
fn dhcp_names_answer_a_and_ptr_with_and_without_domain() {
    let mut r = resolver();
    let mut out = Vec::new();
    for name in ["web", "WEB.lan"] {
        assert!(matches!(
            ask(&mut r, CLIENT, name, 1, &mut out),
            Decision::Reply
        ));
        let m = parse(&out);
        assert!(m.metadata.authoritative);
        assert!(
            matches!(m.answers[0].data, RData::A(ref a) if a.0 == Ipv4Addr::new(192, 168, 26, 20))
        );
    }
    assert!(matches!(
        ask(&mut r, CLIENT, "20.26.168.192.in-addr.arpa", 12, &mut out),
        Decision::Reply
    ));
    let m = parse(&out);
    assert!(matches!(&m.answers[0].data, RData::PTR(p) if p.0.to_string() == "web.lan."));
    // A local name without the asked type: NODATA, not forwarded.
    assert!(matches!(
        ask(&mut r, CLIENT, "web", 28, &mut out),
        Decision::Reply
    ));
    let m = parse(&out);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    // A name under --domain that nobody holds: NXDOMAIN.
    assert!(matches!(
        ask(&mut r, CLIENT, "gone.lan", 1, &mut out),
        Decision::Reply
    ));
    assert_eq!(parse(&out).metadata.response_code, ResponseCode::NXDomain);
    // Hosts file and --address.
    assert!(matches!(
        ask(&mut r, CLIENT, "printer.example", 1, &mut out),
        Decision::Reply
    ));
    assert_eq!(parse(&out).answers.len(), 1);
    assert!(matches!(
        ask(&mut r, CLIENT, "ads.blocked.test", 28, &mut out),
        Decision::Reply
    ));
    assert!(matches!(&parse(&out).answers[0].data, RData::AAAA(a) if a.0.is_unspecified()));
}

#[test]
fn domain_needed_and_bogus_priv_keep_queries_local() {
    let mut r = resolver();
    let mut out = Vec::new();
    assert!(matches!(
        ask(&mut r, CLIENT, "intranet", 1, &mut out),
        Decision::Reply
    ));
    assert_eq!(parse(&out).metadata.response_code, ResponseCode::NXDomain);
    assert!(matches!(
        ask(&mut r, CLIENT, "5.0.0.10.in-addr.arpa", 12, &mut out),
        Decision::Reply
    ));
    assert_eq!(parse(&out).metadata.response_code, ResponseCode::NXDomain);
    // A public reverse name and a TLD's NS go upstream.
    assert!(matches!(
        ask(&mut r, CLIENT, "2.113.0.203.in-addr.arpa", 12, &mut out),
        Decision::Forward(_)
    ));
    assert!(matches!(
        ask(&mut r, CLIENT, "com", 2, &mut out),
        Decision::Forward(_)
    ));
    // A --server=/corp/ route overrides and names its servers.
    match ask(&mut r, CLIENT, "git.corp", 1, &mut out) {
        Decision::Forward(f) => assert_eq!(f.servers, Some(vec!["10.1.1.1:53".parse().unwrap()])),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.stats.forwarded, 3);
}

#[test]
fn a_forwarded_answer_is_cached_and_a_hit_allocates_nothing() {
    let mut r = resolver();
    let mut out = Vec::with_capacity(4096);
    let Decision::Forward(fwd) = ask(&mut r, CLIENT, "www.example.test", 1, &mut out) else {
        panic!("expected a forward");
    };
    let mut up_q = Vec::new();
    fwd.upstream_query(0x9999, &mut up_q);
    let sent = parse(&up_q);
    assert_eq!(sent.metadata.id, 0x9999);
    assert_eq!(sent.edns.as_ref().unwrap().max_payload(), 1232);
    let up = reply(
        0x9999,
        "www.example.test.",
        RecordType::A,
        ResponseCode::NoError,
        vec![a("www.example.test.", 300, [192, 0, 2, 7])],
        vec![],
    );
    assert!(fwd.matches(0x9999, &up));
    let t0 = Instant::now();
    r.complete(&fwd, Some(&up), t0, &mut out);
    let m = parse(&out);
    assert_eq!(m.metadata.id, 0x4242);
    assert_eq!(m.answers[0].ttl, 300);

    let q = query_bytes(0x0777, "www.EXAMPLE.test", 1, Some(1232));
    let later = t0 + Duration::from_secs(100);
    // Warm the name table snapshot and buffers once, then count.
    r.handle_query(&q, CLIENT, Transport::Udp, later, &mut out);
    let (d, allocs) = allocations(|| r.handle_query(&q, CLIENT, Transport::Udp, later, &mut out));
    assert!(matches!(d, Decision::Reply));
    assert_eq!(allocs, 0, "a cache hit must not allocate");
    let m = parse(&out);
    assert_eq!(m.metadata.id, 0x0777);
    assert_eq!(m.queries[0].name().to_string(), "www.EXAMPLE.test.");
    assert_eq!(m.answers[0].ttl, 200);
    assert_eq!(r.stats.cache_hits, 2);
    // Past the TTL the cache no longer answers.
    let expired = t0 + Duration::from_secs(300);
    assert!(matches!(
        r.handle_query(&q, CLIENT, Transport::Udp, expired, &mut out),
        Decision::Forward(_)
    ));
}

#[test]
fn negative_answers_are_cached_and_no_reply_means_servfail() {
    let mut r = resolver();
    let mut out = Vec::new();
    let Decision::Forward(fwd) = ask(&mut r, CLIENT, "nope.example.test", 1, &mut out) else {
        panic!()
    };
    let nx = reply(
        5,
        "nope.example.test.",
        RecordType::A,
        ResponseCode::NXDomain,
        vec![],
        vec![soa("example.test.", 600, 30)],
    );
    let t0 = Instant::now();
    r.complete(&fwd, Some(&nx), t0, &mut out);
    assert_eq!(parse(&out).metadata.response_code, ResponseCode::NXDomain);
    let q = query_bytes(1, "nope.example.test", 1, None);
    assert!(matches!(
        r.handle_query(
            &q,
            CLIENT,
            Transport::Udp,
            t0 + Duration::from_secs(29),
            &mut out
        ),
        Decision::Reply
    ));
    assert_eq!(parse(&out).metadata.response_code, ResponseCode::NXDomain);
    assert!(matches!(
        r.handle_query(
            &q,
            CLIENT,
            Transport::Udp,
            t0 + Duration::from_secs(30),
            &mut out
        ),
        Decision::Forward(_)
    ));
    r.complete(&fwd, None, t0, &mut out);
    assert_eq!(parse(&out).metadata.response_code, ResponseCode::ServFail);
}

#[test]
fn replies_that_do_not_match_the_question_are_rejected() {
    let mut r = resolver();
    let mut out = Vec::new();
    let Decision::Forward(fwd) = ask(&mut r, CLIENT, "www.example.test", 1, &mut out) else {
        panic!()
    };
    let good = |id, name: &str, t| reply(id, name, t, ResponseCode::NoError, vec![], vec![]);
    assert!(fwd.matches(7, &good(7, "WWW.example.TEST.", RecordType::A)));
    assert!(
        !fwd.matches(7, &good(8, "www.example.test.", RecordType::A)),
        "wrong ID"
    );
    assert!(
        !fwd.matches(7, &good(7, "www.example.tesu.", RecordType::A)),
        "wrong name"
    );
    assert!(
        !fwd.matches(7, &good(7, "www.example.test.", RecordType::AAAA)),
        "wrong type"
    );
    let mut not_response = good(7, "www.example.test.", RecordType::A);
    not_response[2] &= 0x7f;
    assert!(!fwd.matches(7, &not_response), "a query is not a reply");
    assert!(!fwd.matches(7, &[0, 7]));
}

#[test]
fn malformed_queries_get_formerr_or_nothing() {
    let mut r = resolver();
    let mut out = Vec::new();
    let d = r.handle_query(&[1, 2, 3], CLIENT, Transport::Udp, Instant::now(), &mut out);
    assert!(matches!(d, Decision::Drop));
    let mut q = query_bytes(0x55, "a.test", 1, None);
    q.truncate(q.len() - 2);
    let d = r.handle_query(&q, CLIENT, Transport::Udp, Instant::now(), &mut out);
    assert!(matches!(d, Decision::Reply));
    let m = parse(&out);
    assert_eq!(
        (m.metadata.id, m.metadata.response_code),
        (0x55, ResponseCode::FormErr)
    );
    assert_eq!(r.stats.malformed, 2);
}

proptest::proptest! {
    /// Any bytes, as a query or as an upstream reply: never a panic, and a
    /// reply we send always parses.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let mut r = resolver();
        let mut out = Vec::new();
        if let Decision::Reply = r.handle_query(&bytes, CLIENT, Transport::Udp, Instant::now(), &mut out) {
            proptest::prop_assert!(out.len() >= 12);
        }
        let Decision::Forward(fwd) = ask(&mut r, CLIENT, "www.example.test", 1, &mut out) else {
            panic!("expected a forward");
        };
        let _ = fwd.matches(1, &bytes);
        r.complete(&fwd, Some(&bytes), Instant::now(), &mut out);
        proptest::prop_assert!(out.len() >= 12);
    }

    /// A valid reply with its tail cut anywhere: never a panic.
    #[test]
    fn truncated_replies_never_panic(cut in 0usize..200) {
        let up = reply(7, "www.example.test.", RecordType::A, ResponseCode::NoError,
            vec![a("www.example.test.", 60, [1, 2, 3, 4])], vec![soa("example.test.", 60, 60)]);
        let mut r = resolver();
        let mut out = Vec::new();
        let Decision::Forward(fwd) = ask(&mut r, CLIENT, "www.example.test", 1, &mut out) else {
            panic!("expected a forward");
        };
        r.complete(&fwd, Some(&up[..cut.min(up.len())]), Instant::now(), &mut out);
    }
}

/// Counts heap allocations made by the current thread, so a test can show
/// that a code path allocates nothing.
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds GlobalAlloc's contract.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(|c| c.get());
    let r = f();
    (r, ALLOCATIONS.with(|c| c.get()) - before)
}
