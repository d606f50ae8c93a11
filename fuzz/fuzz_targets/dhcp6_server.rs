//! The stateless DHCPv6 server on arbitrary bytes: never a panic, and a
//! reply reads back with our own reader, for the same transaction, from
//! this server.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netd_proto::dhcp6::wire::{ClientMessage, OPTION_SERVERID};
use netd_proto::dhcp6::{Dhcp6Config, Dhcp6Server};

fuzz_target!(|data: &[u8]| {
    let duid = Dhcp6Config::duid_ll([0x02, 0, 0, 0, 0, 0x01]);
    let mut server = Dhcp6Server::new(Dhcp6Config {
        server_duid: duid.clone(),
        dns_servers: vec!["fd23::1".parse().expect("an address")],
        search_domains: vec!["lan".into(), "example.test".into()],
        information_refresh_time: 86_400,
    })
    .expect("a valid configuration");
    let Some(reply) = server.handle(data) else {
        return;
    };
    let m = ClientMessage::parse(&reply).expect("our reply reads back");
    assert_eq!(m.xid[..], data[1..4]);
    assert_eq!(m.option(OPTION_SERVERID), Some(duid.as_slice()));
});
