//! The journal against crashes: random commits and compactions, the
//! process stopped at every write step, the disk left in each state a
//! power cut could leave; recovery always gives the acknowledged table
//! (plus, at most, a prefix of the commit that was under way).

use std::net::Ipv4Addr;
use std::sync::Arc;

use netd_proto::dhcp4::journal::{Change, ReplayTable};
use netd_proto::dhcp4::lease_file::LeaseRecord;
use proptest::prelude::*;

use super::sim::{CrashView, SimDisk, Tail};
use super::*;
use crate::atomic_file::Direct;

fn rec(addr: u8, client: u8, expires: u64) -> LeaseRecord {
    LeaseRecord {
        expires,
        mac: [2, 0, 0, 0, 0, client],
        addr: Ipv4Addr::new(10, 0, 0, addr),
        hostname: client.is_multiple_of(3).then(|| format!("c{client}")),
        client_id: client.is_multiple_of(4).then(|| vec![1, client]),
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// One group commit.
    Commit(Vec<Change>),
    /// A group commit that also switches slots (the journal outgrew the
    /// table), when no snapshot is still to be written.
    Compact(Vec<Change>),
    /// The snapshot of the last switch is written, off the ACK path.
    Snapshot,
    /// A clean stop and a start: the journal is read back and folded.
    Restart,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (1u8..12, 1u8..9, 1u64..1000).prop_map(|(a, c, e)| Change::Put(rec(a, c, e))),
        1 => (1u8..12).prop_map(|a| Change::Remove(Ipv4Addr::new(10, 0, 0, a))),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let changes = || proptest::collection::vec(change(), 1..5);
    prop_oneof![
        5 => changes().prop_map(Step::Commit),
        2 => changes().prop_map(Step::Compact),
        2 => Just(Step::Snapshot),
        1 => Just(Step::Restart),
    ]
}

fn tail() -> impl Strategy<Value = Tail> {
    prop_oneof![
        Just(Tail::Nothing),
        any::<u8>().prop_map(Tail::Zeros),
        (any::<u8>(), any::<u64>()).prop_map(|(n, s)| Tail::Garbage(n, s)),
    ]
}

fn view() -> impl Strategy<Value = CrashView> {
    (
        any::<[usize; 2]>(),
        (any::<u8>(), tail()),
        (any::<u8>(), tail()),
        any::<bool>(),
    )
        .prop_map(|(kept, t0, t1, renamed)| CrashView {
            kept,
            torn: [t0, t1],
            renamed,
        })
}

/// What the run had acknowledged when it stopped, and the changes of the
/// commit it was in the middle of.
struct Outcome {
    acked: ReplayTable,
    in_flight: Vec<Change>,
}

fn run(disk: &SimDisk, steps: &[Step]) -> Outcome {
    let mut acked = ReplayTable::new();
    let Ok(opened) = open(disk.clone(), disk, || Ok(Vec::new())) else {
        return Outcome {
            acked,
            in_flight: Vec::new(),
        };
    };
    let mut journal = opened.journal;
    let mut to_write: Option<(u64, Vec<LeaseRecord>)> = None;
    for step in steps {
        match step {
            Step::Commit(changes) | Step::Compact(changes) => {
                if journal.commit(changes.clone()).is_err() {
                    return Outcome {
                        acked,
                        in_flight: changes.clone(),
                    };
                }
                for c in changes {
                    acked.apply(c.clone());
                }
                if matches!(step, Step::Compact(_)) && to_write.is_none() {
                    match journal.switch() {
                        Ok(g) => to_write = Some((g, acked.clone().into_records())),
                        Err(_) => break,
                    }
                }
            }
            Step::Snapshot => {
                if let Some((g, records)) = to_write.take()
                    && write_snapshot(disk, g, &records).is_err()
                {
                    break;
                }
            }
            Step::Restart => {
                drop(journal);
                to_write = None;
                match open(disk.clone(), disk, || unreachable!("a snapshot exists")) {
                    Ok(o) => journal = o.journal,
                    Err(_) => break,
                }
            }
        }
    }
    Outcome {
        acked,
        in_flight: Vec::new(),
    }
}

/// Recovers from `disk` and checks the table against `outcome`; then
/// commits once more and checks a second recovery sees that too.
fn check_recovery(disk: &SimDisk, outcome: &Outcome) -> Result<(), TestCaseError> {
    let opened = open(disk.clone(), disk, || Ok(Vec::new()))
        .map_err(|e| TestCaseError::fail(format!("recovery failed: {e}")))?;
    let got = ReplayTable::from_records(opened.records);
    let mut want = outcome.acked.clone();
    let mut matched = got == want;
    for c in &outcome.in_flight {
        want.apply(c.clone());
        matched |= got == want;
    }
    prop_assert!(
        matched,
        "recovered {:?}\nacknowledged {:?}\nin flight {:?}",
        got,
        outcome.acked,
        outcome.in_flight
    );
    let mut journal = opened.journal;
    let extra = Change::Put(rec(99, 99, 5));
    journal.commit(vec![extra.clone()]).unwrap();
    let again = open(disk.clone(), disk, || Ok(Vec::new())).unwrap();
    let mut want = got;
    want.apply(extra);
    prop_assert_eq!(ReplayTable::from_records(again.records), want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_crash_at_any_write_step_keeps_every_acknowledged_lease(
        steps in proptest::collection::vec(step(), 1..25),
        views in proptest::collection::vec(view(), 3),
    ) {
        let total = {
            let disk = SimDisk::crashing_at(None);
            run(&disk, &steps);
            disk.steps()
        };
        for at in 0..=total {
            let disk = SimDisk::crashing_at(Some(at));
            let outcome = run(&disk, &steps);
            prop_assert_eq!(disk.crashed(), at < total);
            for v in &views {
                check_recovery(&disk.after_crash(*v), &outcome)?;
            }
        }
    }
}

#[test]
fn a_restart_goes_on_appending_and_writes_nothing_but_a_first_snapshot() {
    let disk = SimDisk::crashing_at(None);
    let opened = open(disk.clone(), &disk, || Ok(vec![rec(1, 1, 10)])).unwrap();
    assert!(opened.folded, "a first start writes the first snapshot");
    assert_eq!(opened.records, vec![rec(1, 1, 10)]);
    let steps = disk.steps();
    let again = open(disk.clone(), &disk, || {
        panic!("no import once a snapshot exists")
    })
    .unwrap();
    assert!(!again.folded);
    assert_eq!(disk.steps(), steps, "nothing written");
    let mut journal = again.journal;
    journal.commit(vec![Change::Put(rec(2, 2, 20))]).unwrap();
    let steps = disk.steps();
    let third = open(disk.clone(), &disk, || unreachable!()).unwrap();
    assert!(!third.folded, "the journal goes on where it ended");
    assert_eq!(disk.steps(), steps, "nothing written");
    assert_eq!(third.records, vec![rec(1, 1, 10), rec(2, 2, 20)]);
    assert_eq!(third.journal.records(), 1);
}

#[test]
fn on_real_files_a_torn_tail_is_dropped_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let paths = JournalPaths::beside(&dir.path().join("leases"));
    let snapshot = SnapshotOnDisk::new(paths.snapshot.clone(), Arc::new(Direct));
    let opened = open(FileSlots::open(&paths).unwrap(), &snapshot, || Ok(vec![])).unwrap();
    let mut journal = opened.journal;
    journal
        .commit(vec![Change::Put(rec(1, 1, 10)), Change::Put(rec(2, 2, 20))])
        .unwrap();
    drop(journal);
    // A crash in the middle of the second record's write: its last bytes
    // never left the preallocated zeros.
    let active = &paths.slots[0];
    let mut bytes = std::fs::read(active).unwrap();
    assert_eq!(bytes.len() as u64, CHUNK, "the slot grows by whole chunks");
    let end = decode_journal(&bytes).valid_len;
    bytes[end - 5..end].fill(0);
    std::fs::write(active, &bytes).unwrap();
    let again = open(
        FileSlots::open(&paths).unwrap(),
        &snapshot,
        || unreachable!(),
    )
    .unwrap();
    assert_eq!(again.records, vec![rec(1, 1, 10)]);
    assert_eq!(again.warnings.len(), 1, "{:?}", again.warnings);
    assert!(
        again.warnings[0].contains("torn record dropped"),
        "{:?}",
        again.warnings
    );
    let mut journal = again.journal;
    journal.commit(vec![Change::Put(rec(3, 3, 30))]).unwrap();
    drop(journal);
    let third = open(
        FileSlots::open(&paths).unwrap(),
        &snapshot,
        || unreachable!(),
    )
    .unwrap();
    assert!(
        third.warnings.is_empty(),
        "the torn tail was cut: {:?}",
        third.warnings
    );
    assert_eq!(third.records, vec![rec(1, 1, 10), rec(3, 3, 30)]);
}

/// Found by the `lease_journal` fuzz target: a slot whose header (with a
/// valid checksum) claims generation 2^64 - 1 made start-up compute the
/// next generation past the largest number, a panic. Such a header cannot
/// come from our writes (one generation per compaction); the slot is
/// ignored like any headerless one, and the leases of the snapshot load.
#[test]
fn a_journal_slot_claiming_the_last_generation_is_ignored_not_an_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let paths = JournalPaths::beside(&dir.path().join("leases"));
    let snapshot = SnapshotOnDisk::new(paths.snapshot.clone(), Arc::new(Direct));
    let opened = open(FileSlots::open(&paths).unwrap(), &snapshot, || {
        Ok(vec![rec(1, 1, 10)])
    })
    .unwrap();
    drop(opened);
    let mut slot = journal_header(u64::MAX).to_vec();
    encode_change(u64::MAX, &Change::Put(rec(2, 2, 20)), &mut slot);
    std::fs::write(&paths.slots[1], &slot).unwrap();
    let again = open(
        FileSlots::open(&paths).unwrap(),
        &snapshot,
        || unreachable!(),
    )
    .unwrap();
    assert_eq!(again.records, vec![rec(1, 1, 10)]);
    let mut journal = again.journal;
    journal.switch().unwrap();
}
