//! Random changes, random cuts and random corruption: a reader returns the
//! records written before the damage, never one that was not written.

use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;
use crate::dhcp4::lease_file::LeaseRecord;

fn record() -> impl Strategy<Value = LeaseRecord> {
    (
        any::<u64>(),
        any::<[u8; 6]>(),
        any::<u32>(),
        proptest::option::of("[a-z0-9-]{1,63}"),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..40)),
    )
        .prop_map(|(expires, mac, addr, hostname, client_id)| LeaseRecord {
            expires,
            mac,
            addr: Ipv4Addr::from(addr),
            hostname,
            client_id,
        })
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => record().prop_map(Change::Put),
        1 => any::<u32>().prop_map(|a| Change::Remove(Ipv4Addr::from(a))),
    ]
}

/// The journal bytes and where each record ends.
fn encode(generation: u64, changes: &[Change]) -> (Vec<u8>, Vec<usize>) {
    let mut out = journal_header(generation).to_vec();
    let mut ends = Vec::new();
    for c in changes {
        encode_change(generation, c, &mut out);
        ends.push(out.len());
    }
    (out, ends)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let read = decode_journal(&bytes);
        prop_assert!(read.valid_len <= bytes.len());
        let _ = decode_snapshot(&bytes);
        let mut framed = journal_header(1).to_vec();
        framed.extend_from_slice(&bytes);
        let _ = decode_journal(&framed);
    }

    #[test]
    fn a_cut_anywhere_keeps_exactly_the_whole_records(
        generation in 0..=MAX_GENERATION,
        changes in proptest::collection::vec(change(), 0..20),
        cut in any::<prop::sample::Index>(),
    ) {
        let (bytes, ends) = encode(generation, &changes);
        let at = JOURNAL_HEADER_LEN + cut.index(bytes.len() - JOURNAL_HEADER_LEN + 1);
        let whole = ends.iter().filter(|&&e| e <= at).count();
        let read = decode_journal(&bytes[..at]);
        prop_assert_eq!(read.generation, Some(generation));
        prop_assert_eq!(&read.changes[..], &changes[..whole]);
        prop_assert_eq!(read.torn.is_some(), at != read.valid_len);
    }

    #[test]
    fn garbage_after_the_last_record_is_never_read_as_one(
        changes in proptest::collection::vec(change(), 1..10),
        cut in any::<prop::sample::Index>(),
        garbage in proptest::collection::vec(any::<u8>(), 1..80),
    ) {
        // A torn append: part of a record, then whatever the disk held.
        let (bytes, ends) = encode(1, &changes);
        let at = JOURNAL_HEADER_LEN + cut.index(bytes.len() - JOURNAL_HEADER_LEN);
        let whole = ends.iter().filter(|&&e| e <= at).count();
        let mut damaged = bytes[..at].to_vec();
        damaged.extend_from_slice(&garbage);
        let read = decode_journal(&damaged);
        prop_assert!(read.changes.len() >= whole);
        prop_assert_eq!(&read.changes[..whole], &changes[..whole]);
        // Whatever else was accepted passed a 32-bit checksum over random
        // bytes: it must at least be a record a writer could have framed.
        for extra in &read.changes[whole..] {
            let mut again = Vec::new();
            encode_change(1, extra, &mut again);
            prop_assert!(damaged[JOURNAL_HEADER_LEN..].windows(again.len()).any(|w| w == &again[..]));
        }
    }

    #[test]
    fn a_snapshot_round_trips(generation in 0..=MAX_GENERATION, records in proptest::collection::vec(record(), 0..30)) {
        let read = decode_snapshot(&encode_snapshot(generation, &records)).unwrap();
        prop_assert_eq!(read.generation, generation);
        prop_assert_eq!(read.records, records);
        prop_assert_eq!(read.damaged, None);
    }

    #[test]
    fn replay_keeps_one_lease_per_address_and_per_client(changes in proptest::collection::vec(change(), 0..60)) {
        let mut t = ReplayTable::new();
        for c in changes {
            t.apply(c);
        }
        let records = t.into_records();
        let mut addrs: Vec<_> = records.iter().map(|r| r.addr).collect();
        addrs.sort();
        addrs.dedup();
        prop_assert_eq!(addrs.len(), records.len());
        let mut keys: Vec<_> = records
            .iter()
            .map(|r| crate::dhcp4::ClientKey::new(r.client_id.as_deref(), r.mac))
            .collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), records.len());
    }
}
