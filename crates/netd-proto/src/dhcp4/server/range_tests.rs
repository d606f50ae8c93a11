//! Range modes: a static-only range serves reservations alone.

use std::net::Ipv4Addr;

use dhcproto::v4::MessageType;

use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;

fn static_server() -> Server {
    let mut c = config();
    c.ranges[0].static_only = true;
    Server::new(c, at(0), vec![])
}

#[test]
fn a_static_range_gives_reserved_hosts_their_address_and_no_one_else_any() {
    let mut s = static_server();
    // config() reserves 192.168.26.10 for 52:54:00:00:00:99.
    let (reserved_mac, reserved_addr) =
        ([0x52, 0x54, 0, 0, 0, 0x99], Ipv4Addr::new(192, 168, 26, 10));
    assert_eq!(config().reservations[0].addr, Some(reserved_addr));
    let offer = s.handle(at(0), &discover(reserved_mac).bytes()).unwrap();
    assert_eq!(offer.yiaddr, reserved_addr);
    let ack = s
        .handle(at(0), &select(reserved_mac, reserved_addr).bytes())
        .unwrap();
    assert_eq!(ack.msg_type, MessageType::Ack);
    // A stranger gets no offer, and is refused an address of the old pool.
    assert!(s.handle(at(0), &discover(mac(1)).bytes()).is_none());
    assert_eq!(s.stats().exhausted, 1);
    let nak = s
        .handle(
            at(0),
            &reboot(mac(1), Ipv4Addr::new(192, 168, 26, 50)).bytes(),
        )
        .unwrap();
    assert_eq!(nak.msg_type, MessageType::Nak);
    assert_eq!(s.free_addresses(), 0);
    s.check_invariants().unwrap();
}

#[test]
fn the_same_configuration_with_a_pool_serves_strangers() {
    let mut s = Server::new(config(), at(0), vec![]);
    assert!(s.handle(at(0), &discover(mac(1)).bytes()).is_some());
    assert!(s.free_addresses() > 0);
}
