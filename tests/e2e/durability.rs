//! kill -9 under load: a relay-agent load asks for new leases while the
//! daemon is killed at a random moment, round after round. Before each
//! restart the lease journal is recovered (from a copy, as the daemon
//! will) and every lease the load got an ACK for must be in it, at its
//! address, lasting at least as long as the ACK said; no address was ever
//! ACKed to two clients; and after a clean stop the dnsmasq-format file
//! holds exactly the recovered table.
//!
//! `DURABILITY_ROUNDS` sets the number of kills (default 3, which CI
//! runs); `DURABILITY_SEED` repeats a run (the seed is printed).

mod relay_load;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use netd_proto::dhcp4::lease_file::{self, LeaseRecord};
use netd_serve::atomic_file::Direct;
use netd_serve::dhcp4::journal::{self, FileSlots, JournalPaths, SnapshotOnDisk};
use netd_testkit::lab::Lab;

use relay_load::Ack;

const RELAY: Ipv4Addr = Ipv4Addr::new(10, 50, 0, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 50, 0, 1);

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the daemon will find when it starts on `lease_file`: the journal
/// recovered from copies of its files, so the originals stay untouched.
fn recover(lease_file: &Path, scratch: &Path) -> Vec<LeaseRecord> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let from = JournalPaths::beside(lease_file);
    let copy = JournalPaths::beside(&scratch.join("leases"));
    for (a, b) in [
        (&from.snapshot, &copy.snapshot),
        (&from.slots[0], &copy.slots[0]),
        (&from.slots[1], &copy.slots[1]),
    ] {
        if a.exists() {
            std::fs::copy(a, b).unwrap();
        }
    }
    let snapshot = SnapshotOnDisk::new(copy.snapshot.clone(), Arc::new(Direct));
    let opened = journal::open(FileSlots::open(&copy).unwrap(), &snapshot, || Ok(vec![]))
        .expect("recovering the journal");
    for w in &opened.warnings {
        println!("recovery: {w}");
    }
    opened.records
}

/// Every ACKed lease (the last ACK of each client) is in `records`.
fn check_acked(acks: &[Ack], records: &[LeaseRecord]) {
    let mut last: HashMap<[u8; 6], Ack> = HashMap::new();
    for a in acks {
        last.insert(a.mac, *a);
    }
    let by_mac: HashMap<[u8; 6], &LeaseRecord> = records.iter().map(|r| (r.mac, r)).collect();
    let mut lost = Vec::new();
    for a in last.values() {
        match by_mac.get(&a.mac) {
            // The server's expiry is taken before the ACK leaves, in whole
            // seconds; the client's after it arrives.
            Some(r) if r.addr == a.addr && r.expires + 2 >= a.ends_no_earlier_than => {}
            other => lost.push((a, other.map(|r| (r.addr, r.expires)))),
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged leases lost, e.g. {:?}",
        lost.len(),
        last.len(),
        &lost[..lost.len().min(5)]
    );
}

/// No address was ever ACKed to two clients.
fn check_no_address_twice(acks: &[Ack]) {
    let mut holder: HashMap<Ipv4Addr, [u8; 6]> = HashMap::new();
    for a in acks {
        let first = *holder.entry(a.addr).or_insert(a.mac);
        assert_eq!(first, a.mac, "{} was ACKed to two clients", a.addr);
    }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_lease() {
    let rounds = env_or("DURABILITY_ROUNDS", 3);
    let seed = env_or(
        "DURABILITY_SEED",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            .into(),
    );
    println!("DURABILITY_SEED={seed}");
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut lab = Lab::with_bridge("nat0", "10.50.0.1/16");
    let load_ns = lab.container("load");
    load_ns.add_host0_addr("10.50.0.2/16");
    let lease_file = lab.dir().join("leases");
    let scratch = lab.dir().join("recovered");
    let args = [
        "--interface=nat0".to_owned(),
        "--port=0".to_owned(),
        "--dhcp-range=10.50.0.20,10.50.255.250,12h".to_owned(),
        "--dhcp-lease-max=100000".to_owned(),
        format!("--dhcp-leasefile={}", lease_file.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut acks: Vec<Ack> = Vec::new();
    for round in 0..rounds {
        let daemon = lab.start_daemon(&args);
        let stop = Arc::new(AtomicBool::new(false));
        let load = relay_load::start(&load_ns, RELAY, SERVER, next(), stop.clone());
        std::thread::sleep(Duration::from_millis(200 + next() % 800));
        daemon.signal(libc::SIGKILL);
        // The load goes on a moment against the dead server.
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::Relaxed);
        let got = load.join().expect("the load thread");
        drop(daemon);
        println!("round {round}: {} ACKs before the kill", got.len());
        assert!(!got.is_empty(), "round {round}: the load got no ACK at all");
        acks.extend(got);
        check_no_address_twice(&acks);
        check_acked(&acks, &recover(&lease_file, &scratch));
    }
    // A last start, then a clean stop: the dnsmasq-format file is exact.
    let daemon = lab.start_daemon(&args);
    assert!(daemon.stop().success());
    let recovered = recover(&lease_file, &scratch);
    check_acked(&acks, &recovered);
    let (exported, bad) = lease_file::parse(&std::fs::read_to_string(&lease_file).unwrap());
    assert!(bad.is_empty(), "{bad:?}");
    let key = |r: &LeaseRecord| (r.addr, r.mac, r.expires);
    let mut a: Vec<_> = exported.iter().map(key).collect();
    let mut b: Vec<_> = recovered.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(
        a.len(),
        b.len(),
        "the exported file and the journal differ in size"
    );
    assert!(a == b, "the exported file differs from the journal");
    println!(
        "{} ACKs over {rounds} kill -9 rounds, {} leases recovered, none lost",
        acks.len(),
        recovered.len()
    );
}
