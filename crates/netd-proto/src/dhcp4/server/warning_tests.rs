//! What the server queues for the shell to warn about, and what it says
//! about free addresses.

use std::net::Ipv4Addr;

use crate::MacAddr;
use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;
use crate::dhcp4::warning::{MAX_QUEUED, Warning};

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 26, last)
}

fn one_address_server() -> Server {
    let mut c = config();
    c.ranges[0].start = ip(20);
    c.ranges[0].end = ip(20);
    Server::new(c, at(0), vec![])
}

#[test]
fn a_discover_flood_on_a_full_pool_queues_a_bounded_number_of_warnings() {
    let mut s = one_address_server();
    assert!(s.handle(at(0), &discover(mac(0)).bytes()).is_some());
    assert_eq!(s.free_addresses(), 0);
    for n in 1..=200u8 {
        assert!(s.handle(at(1), &discover(mac(n)).bytes()).is_none());
    }
    assert_eq!(s.stats().exhausted, 200);
    let warnings: Vec<Warning> = std::iter::from_fn(|| s.poll_warning()).collect();
    assert_eq!(warnings.len(), MAX_QUEUED, "bounded, the rest only counted");
    assert_eq!(
        warnings[0],
        Warning::NoAddressAvailable {
            mac: MacAddr(mac(1))
        }
    );
    assert_eq!(warnings[0].kind(), "no address available");
    // Drained: the next packet queues one again.
    assert!(s.handle(at(2), &discover(mac(201)).bytes()).is_none());
    assert!(s.poll_warning().is_some());
    assert!(s.poll_warning().is_none());
}

#[test]
fn a_decline_is_a_warning_and_holds_its_address() {
    let mut s = server();
    let before = s.free_addresses();
    let offer = s.handle(at(0), &discover(mac(1)).bytes()).unwrap();
    s.handle(at(0), &select(mac(1), offer.yiaddr).bytes())
        .unwrap();
    assert_eq!(s.free_addresses(), before - 1);
    assert!(
        s.handle(at(1), &decline(mac(1), offer.yiaddr).bytes())
            .is_none()
    );
    assert_eq!(
        s.poll_warning(),
        Some(Warning::Declined {
            addr: offer.yiaddr,
            mac: MacAddr(mac(1))
        })
    );
    assert_eq!(s.free_addresses(), before - 1, "held back, not free");
    s.handle_timeout(at(1 + 600));
    assert_eq!(s.free_addresses(), before);
}

fn server() -> Server {
    Server::new(config(), at(0), vec![])
}

#[test]
fn free_addresses_leave_out_the_server_and_reservations() {
    // .20-.100 is 81 addresses; the reservation .10 is outside the range.
    assert_eq!(server().free_addresses(), 81);
    let mut c = config();
    c.ranges[0].start = ip(1); // includes the server's .1 and the reserved .10
    c.ranges[0].end = ip(30);
    assert_eq!(Server::new(c, at(0), vec![]).free_addresses(), 28);
}
