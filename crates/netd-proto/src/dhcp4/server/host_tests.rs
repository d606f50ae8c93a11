//! `--dhcp-host` entries through the server: wildcards, client
//! identifiers, `id:*`, `ignore`, and entries replaced at run time.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, MessageType};

use crate::dhcp4::hosts::{MacPattern, Reservation};
use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 26, last)
}

fn server_with(hosts: Vec<Reservation>) -> Server {
    let mut c = config();
    c.reservations = hosts;
    Server::new(c, at(0), vec![])
}

fn offer(s: &mut Server, p: Packet) -> Option<Ipv4Addr> {
    s.handle(at(0), &p.bytes()).map(|r| r.yiaddr)
}

fn ack(s: &mut Server, p: Packet) -> MessageType {
    let r = s.handle(at(0), &p.bytes()).expect("a reply");
    decode(&r.bytes).opts().msg_type().unwrap()
}

#[test]
fn a_wildcard_mac_reserves_for_every_matching_client() {
    let mut s = server_with(vec![Reservation {
        macs: vec![MacPattern {
            hw_type: Some(1),
            octets: [0x52, 0x54, 0, 0x12, 0x34, 0],
            wildcards: 1 << 5,
        }],
        addr: Some(ip(9)),
        ..Default::default()
    }]);
    assert_eq!(offer(&mut s, discover(mac(1))), Some(ip(9)));
    assert_eq!(ack(&mut s, select(mac(1), ip(9))), MessageType::Ack);
    // A second matching client cannot have it while the first holds it.
    assert_eq!(offer(&mut s, discover(mac(2))), None);
    // A client that does not match is refused the address.
    assert_eq!(
        ack(&mut s, reboot([2, 0, 0, 0, 0, 1], ip(9))),
        MessageType::Nak
    );
    s.check_invariants().unwrap();
}

#[test]
fn a_client_id_entry_matches_whatever_the_mac() {
    let mut s = server_with(vec![Reservation {
        client_id: Some(vec![1, 0xaa, 0xbb]),
        addr: Some(ip(7)),
        hostname: Some("pxe".into()),
        ..Default::default()
    }]);
    let id = DhcpOption::ClientIdentifier(vec![1, 0xaa, 0xbb]);
    assert_eq!(offer(&mut s, discover(mac(3)).opt(id.clone())), Some(ip(7)));
    assert_eq!(
        ack(&mut s, select(mac(3), ip(7)).opt(id.clone())),
        MessageType::Ack
    );
    assert_eq!(s.records()[0].hostname.as_deref(), Some("pxe"));
    // Without the identifier the same MAC is a stranger.
    assert_ne!(offer(&mut s, discover(mac(3))), Some(ip(7)));
}

#[test]
fn id_star_files_the_lease_under_the_mac() {
    let mut s = server_with(vec![Reservation {
        ignore_client_id: true,
        ..Reservation::for_mac(mac(4), ip(8))
    }]);
    let first = DhcpOption::ClientIdentifier(vec![0, 1, 2]);
    assert_eq!(
        ack(&mut s, select(mac(4), ip(8)).opt(first)),
        MessageType::Ack
    );
    // The next boot stage sends another identifier: the same lease.
    let second = DhcpOption::ClientIdentifier(vec![9, 9]);
    assert_eq!(
        ack(&mut s, reboot(mac(4), ip(8)).opt(second)),
        MessageType::Ack
    );
    let records = s.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].client_id, None);
}

#[test]
fn an_ignored_client_gets_no_answer_at_all() {
    let mut s = server_with(vec![Reservation {
        macs: vec![MacPattern::exact(mac(5))],
        ignore: true,
        ..Default::default()
    }]);
    assert_eq!(offer(&mut s, discover(mac(5))), None);
    assert!(s.handle(at(0), &reboot(mac(5), ip(30)).bytes()).is_none());
    assert!(offer(&mut s, discover(mac(6))).is_some());
}

#[test]
fn an_entry_without_an_address_still_names_the_client_and_sets_its_lease() {
    let mut s = server_with(vec![Reservation {
        macs: vec![MacPattern::exact(mac(5))],
        hostname: Some("named".into()),
        lease_time: Some(crate::dhcp4::LeaseTime::Infinite),
        ..Default::default()
    }]);
    let a = offer(&mut s, discover(mac(5))).unwrap();
    assert!((20..=100).contains(&a.octets()[3]));
    assert_eq!(ack(&mut s, select(mac(5), a)), MessageType::Ack);
    let r = &s.records()[0];
    assert_eq!(r.hostname.as_deref(), Some("named"));
    assert_eq!(r.expires, 0, "infinite");
}

#[test]
fn a_moved_entry_applies_at_the_next_request() {
    let mut s = server_with(vec![Reservation::for_mac(mac(1), ip(9))]);
    assert_eq!(ack(&mut s, select(mac(1), ip(9))), MessageType::Ack);
    s.set_reservations(vec![Reservation::for_mac(mac(1), ip(11))]);
    // The renewal of the old address is refused; the new one is offered.
    assert_eq!(ack(&mut s, renew(mac(1), ip(9))), MessageType::Nak);
    assert_eq!(offer(&mut s, discover(mac(1))), Some(ip(11)));
    assert_eq!(ack(&mut s, select(mac(1), ip(11))), MessageType::Ack);
    s.check_invariants().unwrap();
    assert_eq!(s.reservations()[0].addr, Some(ip(11)));
}

#[test]
fn with_dhcp_ignore_clid_an_identifier_picks_no_entry() {
    let mut c = config();
    c.ignore_client_id = true;
    c.reservations = vec![Reservation {
        client_id: Some(vec![1, 0xaa, 0xbb]),
        addr: Some(ip(7)),
        ..Default::default()
    }];
    let mut s = Server::new(c, at(0), vec![]);
    let id = DhcpOption::ClientIdentifier(vec![1, 0xaa, 0xbb]);
    assert_ne!(offer(&mut s, discover(mac(3)).opt(id)), Some(ip(7)));
}
