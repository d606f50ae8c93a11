use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::*;
use crate::dns::query::Query;
use netd_testkit::dns_messages::query_bytes;
use netd_testkit::dns_messages::{a, reply, soa};

fn answer(name: &str, ttl: u32) -> Prepared {
    let up = reply(
        9,
        name,
        RecordType::A,
        ResponseCode::NoError,
        vec![a(name, ttl, [10, 0, 0, 1])],
        vec![],
    );
    Prepared::from_reply(&up).unwrap()
}

fn key(name: &str) -> Vec<u8> {
    Query::parse(&query_bytes(1, name, 1, None))
        .unwrap()
        .key()
        .to_vec()
}

#[test]
fn ttl_counts_down_with_injected_time_and_the_entry_expires() {
    let mut c = Cache::new(10, true);
    let t0 = Instant::now();
    assert!(c.insert(&key("a.test"), &answer("a.test.", 30), t0));
    let hit = c
        .get(&key("A.TEST"), t0 + Duration::from_millis(10_900))
        .unwrap();
    assert_eq!(hit.elapsed, 10);
    assert!(
        c.get(&key("a.test"), t0 + Duration::from_secs(29))
            .is_some()
    );
    assert!(
        c.get(&key("a.test"), t0 + Duration::from_secs(30))
            .is_none()
    );
    assert_eq!(c.len(), 0, "an expired entry is removed when met");
}

#[test]
fn negative_entries_follow_no_negcache() {
    let nx = reply(
        1,
        "n.test.",
        RecordType::A,
        ResponseCode::NXDomain,
        vec![],
        vec![soa("test.", 300, 5)],
    );
    let p = Prepared::from_reply(&nx).unwrap();
    let t0 = Instant::now();
    let mut c = Cache::new(10, true);
    assert!(c.insert(&key("n.test"), &p, t0));
    assert!(c.get(&key("n.test"), t0 + Duration::from_secs(4)).is_some());
    assert!(c.get(&key("n.test"), t0 + Duration::from_secs(5)).is_none());
    let mut off = Cache::new(10, false);
    assert!(!off.insert(&key("n.test"), &p, t0));
    assert!(off.insert(&key("a.test"), &answer("a.test.", 30), t0));
}

#[test]
fn the_size_bound_evicts_the_oldest_and_zero_disables() {
    let t0 = Instant::now();
    let mut c = Cache::new(3, true);
    for n in 0..3 {
        let name = format!("h{n}.test");
        assert!(c.insert(&key(&name), &answer(&format!("{name}."), 60), t0));
    }
    // Re-inserting an existing key does not evict anything.
    assert!(c.insert(&key("h0.test"), &answer("h0.test.", 60), t0));
    assert_eq!(c.len(), 3);
    assert!(c.insert(&key("h3.test"), &answer("h3.test.", 60), t0));
    assert_eq!(c.len(), 3);
    assert!(
        c.get(&key("h1.test"), t0).is_none(),
        "oldest live entry evicted"
    );
    for n in [0, 2, 3] {
        assert!(c.get(&key(&format!("h{n}.test")), t0).is_some());
    }
    for n in 4..100 {
        let name = format!("h{n}.test");
        c.insert(&key(&name), &answer(&format!("{name}."), 60), t0);
        assert!(c.len() <= 3);
    }
    let mut none = Cache::new(0, true);
    assert!(!none.insert(&key("a.test"), &answer("a.test.", 60), t0));
}

#[test]
fn keys_differ_by_type_and_dnssec_bits() {
    let k_a = Query::parse(&query_bytes(1, "a.test", 1, None))
        .unwrap()
        .key()
        .to_vec();
    let k_aaaa = Query::parse(&query_bytes(1, "a.test", 28, None))
        .unwrap()
        .key()
        .to_vec();
    let mut do_q = query_bytes(1, "a.test", 1, Some(1232));
    let n = do_q.len();
    do_q[n - 4] = 0x80; // DO bit in the OPT TTL
    let k_do = Query::parse(&do_q).unwrap().key().to_vec();
    assert_ne!(k_a, k_aaaa);
    assert_ne!(k_a, k_do);
}

#[test]
fn bytes_follow_insertions_replacements_evictions_and_expiry() {
    let mut c = Cache::new(2, true);
    let t0 = Instant::now();
    assert_eq!(c.bytes(), 0);
    assert!(c.insert(&key("a.test"), &answer("a.test.", 30), t0));
    let one = c.bytes();
    assert!(one > key("a.test").len(), "{one}");
    // Replacing the same key keeps one entry's worth.
    assert!(c.insert(&key("a.test"), &answer("a.test.", 60), t0));
    assert_eq!(c.bytes(), one);
    assert!(c.insert(&key("b.test"), &answer("b.test.", 30), t0));
    assert_eq!(c.bytes(), 2 * one);
    // A third evicts the oldest.
    assert!(c.insert(&key("c.test"), &answer("c.test.", 30), t0));
    assert_eq!((c.len(), c.bytes()), (2, 2 * one));
    // An expired entry met by a lookup goes.
    assert!(
        c.get(&key("b.test"), t0 + Duration::from_secs(31))
            .is_none()
    );
    assert_eq!(c.bytes(), one);
    c.clear();
    assert_eq!(c.bytes(), 0);
}
