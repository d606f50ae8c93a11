//! Upstream replies: the first frame is a client's query, every later one
//! an upstream's reply to it. Each reply goes through `Forward::matches`
//! and `Resolver::complete` (which caches it), then the query is asked
//! again, so cached answers are rendered too. Never a panic, and every
//! answer to the client carries its ID within TCP's limit.
//!
//! Frame tags: the first frame's bit 0: TCP; later frames' tags: seconds
//! that pass before the reply.
#![no_main]

use std::net::IpAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netd_proto::dns::resolver::{Decision, MAX_TCP_MESSAGE};
use nspawn_netd_fuzz::dns::{CLIENT, resolver, transport};
use nspawn_netd_fuzz::frames;

/// The ID the forwarded query went upstream with.
const UPSTREAM_ID: u16 = 0xbeef;

fuzz_target!(|data: &[u8]| {
    let mut frames = frames(data);
    let Some(first) = frames.next() else {
        return;
    };
    let query = first.body;
    let tcp = transport(first.tag);
    let mut r = resolver();
    let mut now = std::time::Instant::now();
    let mut out = Vec::new();
    let Decision::Forward(fwd) = r.handle_query(query, IpAddr::V4(CLIENT), tcp, now, &mut out)
    else {
        return;
    };
    let mut sent = Vec::new();
    fwd.upstream_query(UPSTREAM_ID, &mut sent);
    assert!(!fwd.matches(UPSTREAM_ID, &sent), "a query is not a reply");
    for reply in frames {
        now += Duration::from_secs(u64::from(reply.tag));
        let _ = fwd.matches(UPSTREAM_ID, reply.body);
        out.clear();
        r.complete(&fwd, Some(reply.body), now, &mut out);
        assert!(out.len() >= 12 && out.len() <= MAX_TCP_MESSAGE);
        assert_eq!(out[..2], query[..2]);
        out.clear();
        if let Decision::Reply = r.handle_query(query, IpAddr::V4(CLIENT), tcp, now, &mut out) {
            assert!(out.len() >= 12 && out.len() <= MAX_TCP_MESSAGE);
            assert_eq!(out[..2], query[..2]);
        }
    }
});
