//! The lease journal's reader and start-up recovery on arbitrary files: a
//! snapshot, two journal slots and the dnsmasq-format lease file to import
//! (framed: `tag & 3` picks the file, 0 snapshot, 1 and 2 the slots, 3 the
//! lease file). Checksums are recomputed unless `tag & 4`, so the fuzzer
//! gets past them to the records. Never a panic; a slot's good records
//! encode back to its bytes; recovery run again on what it left finds the
//! same leases; the server loads them with its invariants holding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netd_proto::dhcp4::Server;
use netd_proto::dhcp4::journal::{decode_journal, encode_change, journal_header};
use netd_proto::dhcp4::lease_file;
use netd_serve::dhcp4::journal;
use nspawn_netd_fuzz::journal::{MemSlots, MemSnapshot, fix_checksums};
use nspawn_netd_fuzz::{dhcp4_config, epoch, frames};

fuzz_target!(|data: &[u8]| {
    let mut files: [Vec<u8>; 4] = Default::default();
    let mut raw = [false; 4];
    for f in frames(data) {
        let i = usize::from(f.tag & 3);
        files[i] = f.body.to_vec();
        raw[i] = f.tag & 4 != 0;
    }
    for i in 0..3 {
        if !raw[i] {
            fix_checksums(&mut files[i]);
        }
    }
    for slot in &files[1..3] {
        let read = decode_journal(slot);
        if let Some(generation) = read.generation {
            let mut again = journal_header(generation).to_vec();
            for c in &read.changes {
                encode_change(generation, c, &mut again);
            }
            assert_eq!(again[..], slot[..read.valid_len]);
        }
    }
    let text = String::from_utf8_lossy(&files[3]).into_owned();
    let import = move || Ok(lease_file::parse(&text).0);
    let snapshot = MemSnapshot::new((!files[0].is_empty()).then(|| files[0].clone()));
    let slots = MemSlots::new([files[1].clone(), files[2].clone()]);
    let Ok(opened) = journal::open(slots.clone(), &snapshot, import.clone()) else {
        return;
    };
    let records = opened.records;
    // What recovery left behind recovers to the same leases.
    let again = journal::open(slots.clone(), &snapshot, import).expect("a second recovery");
    assert_eq!(again.records, records);
    let server = Server::new(dhcp4_config(), epoch(), records);
    server
        .check_invariants()
        .expect("the recovered table is consistent");
});
