//! The DNS query parser on arbitrary bytes: never a panic, and what it
//! accepts has its question inside the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netd_proto::dns::query::Query;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = Query::parse(data) else {
        return;
    };
    assert!(q.question_end <= data.len());
    assert!(!q.key().is_empty());
    let mut buf = [0u8; 256];
    if let Some(name) = q.name_text(&mut buf) {
        assert!(name.len() <= 255);
    }
});
