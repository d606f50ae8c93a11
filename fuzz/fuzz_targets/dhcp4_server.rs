//! The DHCPv4 server on a framed sequence of arbitrary packets, time
//! passing and restarts from the lease file: never a panic, and the lease
//! table's invariants hold after every step.
//!
//! Frame tags: `tag % 4` 0 or 1: a packet; 2: `tag` minutes pass and
//! timeouts run; 3: a restart from the records written as lease-file text.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netd_proto::dhcp4::Server;
use netd_proto::dhcp4::lease_file;
use nspawn_netd_fuzz::{dhcp4_config, epoch, frames};

fuzz_target!(|data: &[u8]| {
    let config = dhcp4_config();
    let mut now = epoch();
    let mut server = Server::new(config.clone(), now, Vec::new());
    for f in frames(data) {
        match f.tag % 4 {
            0 | 1 => {
                let _ = server.handle(now, f.body);
            }
            2 => {
                now += Duration::from_secs(u64::from(f.tag) * 60);
                server.handle_timeout(now);
            }
            _ => {
                let text = lease_file::format(&server.records());
                let (records, errors) = lease_file::parse(&text);
                assert!(errors.is_empty(), "{errors:?} in {text:?}");
                let before = records.len();
                server = Server::new(config.clone(), now, records);
                assert!(server.records().len() <= before);
            }
        }
        while server.poll_event().is_some() {}
        if let Err(e) = server.check_invariants() {
            panic!("{e:?} after {f:?}");
        }
    }
});
