//! The lease-file reader on arbitrary text: never a panic; what it reads
//! is written and read back the same; the server starts from it with its
//! invariants holding (as after a restart).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netd_proto::dhcp4::{Server, lease_file};
use nspawn_netd_fuzz::{dhcp4_config, epoch};

fuzz_target!(|data: &[u8]| {
    // The lease store reads the file as UTF-8 text.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (records, _errors) = lease_file::parse(text);
    let written = lease_file::format(&records);
    let (again, errors) = lease_file::parse(&written);
    assert!(errors.is_empty(), "{errors:?} in {written:?}");
    assert_eq!(again, records);
    let server = Server::new(dhcp4_config(), epoch(), records);
    server
        .check_invariants()
        .expect("the loaded table is consistent");
});
