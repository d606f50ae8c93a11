//! The resolver's decision on a framed sequence of arbitrary queries from
//! several sources, over UDP and TCP, with time passing: never a panic, and
//! every reply is a DNS message for the query's ID within TCP's limit.
//!
//! Frame tags: bit 0: TCP; bits 1-2: the source (a client, loopback, a
//! stranger, a client's IPv6 address); bits 3-7: seconds that pass first.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netd_proto::dns::resolver::{Decision, MAX_TCP_MESSAGE};
use nspawn_netd_fuzz::dns::{SOURCES, resolver, transport};
use nspawn_netd_fuzz::frames;

fuzz_target!(|data: &[u8]| {
    let mut r = resolver();
    let mut now = std::time::Instant::now();
    let mut out = Vec::new();
    for f in frames(data) {
        now += Duration::from_secs(u64::from(f.tag >> 3));
        let source = SOURCES[usize::from(f.tag >> 1) & 3];
        out.clear();
        match r.handle_query(f.body, source, transport(f.tag), now, &mut out) {
            Decision::Reply => {
                assert!(out.len() >= 12 && out.len() <= MAX_TCP_MESSAGE);
                if f.body.len() >= 2 {
                    assert_eq!(out[..2], f.body[..2]);
                }
            }
            Decision::Forward(fwd) => {
                // No upstream answered: SERVFAIL for the client.
                r.complete(&fwd, None, now, &mut out);
                assert_eq!(out[..2], f.body[..2]);
            }
            Decision::Drop => {}
        }
    }
});
