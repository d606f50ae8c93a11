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
    let mut c = Cache::new(CacheLimits::for_entries(10, true));
    let t0 = Instant::now();
    assert_eq!(
        c.insert(&key("a.test"), &answer("a.test.", 30), t0),
        Inserted::Stored
    );
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
    let mut c = Cache::new(CacheLimits::for_entries(10, true));
    assert_eq!(c.insert(&key("n.test"), &p, t0), Inserted::Stored);
    assert!(c.get(&key("n.test"), t0 + Duration::from_secs(4)).is_some());
    assert!(c.get(&key("n.test"), t0 + Duration::from_secs(5)).is_none());
    let mut off = Cache::new(CacheLimits::for_entries(10, false));
    assert_ne!(off.insert(&key("n.test"), &p, t0), Inserted::Stored);
    assert_eq!(
        off.insert(&key("a.test"), &answer("a.test.", 30), t0),
        Inserted::Stored
    );
}

#[test]
fn the_size_bound_evicts_the_oldest_and_zero_disables() {
    let t0 = Instant::now();
    let mut c = Cache::new(CacheLimits::for_entries(3, true));
    for n in 0..3 {
        let name = format!("h{n}.test");
        assert_eq!(
            c.insert(&key(&name), &answer(&format!("{name}."), 60), t0),
            Inserted::Stored
        );
    }
    // A reply for a key with a live entry leaves it be, evicting nothing.
    assert_eq!(
        c.insert(&key("h0.test"), &answer("h0.test.", 60), t0),
        Inserted::KeptLive
    );
    assert_eq!(c.len(), 3);
    assert_eq!(
        c.insert(&key("h3.test"), &answer("h3.test.", 60), t0),
        Inserted::Stored
    );
    assert_eq!(c.len(), 3);
    assert!(
        c.get(&key("h0.test"), t0).is_none(),
        "oldest live entry evicted"
    );
    for n in [1, 2, 3] {
        assert!(c.get(&key(&format!("h{n}.test")), t0).is_some());
    }
    for n in 4..100 {
        let name = format!("h{n}.test");
        c.insert(&key(&name), &answer(&format!("{name}."), 60), t0);
        assert!(c.len() <= 3);
    }
    let mut none = Cache::new(CacheLimits::for_entries(0, true));
    assert_ne!(
        none.insert(&key("a.test"), &answer("a.test.", 60), t0),
        Inserted::Stored
    );
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

fn answer_with(name: &str, ttl: u32, records: usize) -> Prepared {
    let answers = (0..records)
        .map(|i| a(name, ttl, [10, 0, (i / 250) as u8, (i % 250) as u8]))
        .collect();
    let up = reply(
        9,
        name,
        RecordType::A,
        ResponseCode::NoError,
        answers,
        vec![],
    );
    Prepared::from_reply(&up).unwrap()
}

#[test]
fn a_late_reply_never_replaces_a_live_entry_but_replaces_an_expired_one() {
    let t0 = Instant::now();
    let mut c = Cache::new(CacheLimits::for_entries(10, true));
    let k = key("a.test");
    assert_eq!(c.insert(&k, &answer("a.test.", 30), t0), Inserted::Stored);
    let forged = answer_with("a.test.", 3000, 2);
    let later = t0 + Duration::from_secs(10);
    assert_eq!(c.insert(&k, &forged, later), Inserted::KeptLive);
    let hit = c.get(&k, later).unwrap();
    assert_eq!(hit.ttl_at.len(), 1, "the first answer stands");
    assert_eq!(c.counters().kept_live, 1);
    let expired = t0 + Duration::from_secs(30);
    assert_eq!(c.insert(&k, &forged, expired), Inserted::Stored);
    assert_eq!(c.get(&k, expired).unwrap().ttl_at.len(), 2);
    assert_eq!(c.len(), 1);
}

#[test]
fn the_byte_budget_bounds_the_cache_and_big_answers_are_not_kept() {
    let t0 = Instant::now();
    let limits = CacheLimits {
        bytes: 4000,
        ..CacheLimits::for_entries(1000, true)
    };
    let mut c = Cache::new(limits);
    // About 16 bytes an A record: 100 records are well over 1 KiB.
    for n in 0..50 {
        let name = format!("big{n}.test");
        let p = answer_with(&format!("{name}."), 60, 60);
        assert_eq!(c.insert(&key(&name), &p, t0), Inserted::Stored);
        assert!(c.bytes() <= 4000, "{} bytes", c.bytes());
    }
    assert!(c.len() < 10, "{} entries in 4000 bytes", c.len());
    assert!(c.counters().evictions > 40);
    // Over the longest answer kept: refused, and nothing evicted for it.
    let mut c = Cache::new(CacheLimits::for_entries(1000, true));
    let huge = answer_with("huge.test.", 60, 400);
    assert!(huge.msg.len() > MAX_CACHED_ANSWER);
    assert_eq!(
        c.insert(&key("a.test"), &answer("a.test.", 60), t0),
        Inserted::Stored
    );
    assert_eq!(c.insert(&key("huge.test"), &huge, t0), Inserted::TooBig);
    assert_eq!(c.len(), 1);
    assert_eq!(c.counters().too_big, 1);
    // Removing and clearing give the bytes back.
    c.clear();
    assert_eq!(c.bytes(), 0);
}
