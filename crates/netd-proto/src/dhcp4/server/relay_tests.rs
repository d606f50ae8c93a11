//! Several ranges: a second subnet on the interface, and subnets reached
//! through relay agents, chosen by giaddr.

use std::net::Ipv4Addr;
use std::time::Duration;

use dhcproto::v4::MessageType;

use crate::dhcp4::config::{Dhcp4Config, Dhcp4Range, LeaseTime};
use crate::dhcp4::option_spec::{Dhcp4Option, OptionValue};
use crate::dhcp4::reply::Destination;
use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;
use crate::dhcp4::{Tag, TagMatch, Warning};

const RELAY: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const SECOND: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 1);

/// nat0's range, a relayed 10.77.0.0/24 (.50-.60, 2 h, tagged), and a
/// second subnet on the interface, 172.20.0.0/24 (.10-.12).
fn config_with_ranges() -> Dhcp4Config {
    let mut c = config();
    c.ranges.push(Dhcp4Range {
        lease_time: LeaseTime::Finite(Duration::from_secs(7200)),
        tags: vec![Tag("far".into())],
        local: None,
        ..Dhcp4Range::on_link(
            "10.77.0.0/24".parse().unwrap(),
            SERVER,
            Ipv4Addr::new(10, 77, 0, 50),
            Ipv4Addr::new(10, 77, 0, 60),
        )
    });
    c.ranges.push(Dhcp4Range::on_link(
        "172.20.0.0/24".parse().unwrap(),
        SECOND,
        Ipv4Addr::new(172, 20, 0, 10),
        Ipv4Addr::new(172, 20, 0, 12),
    ));
    c
}

fn u32_opt(bytes: &[u8], code: u8) -> Option<u32> {
    option_value(bytes, code).map(|v| u32::from_be_bytes(v.try_into().unwrap()))
}

fn addr_opt(bytes: &[u8], code: u8) -> Option<Ipv4Addr> {
    option_value(bytes, code).map(|v| Ipv4Addr::from(<[u8; 4]>::try_from(v).unwrap()))
}

#[test]
fn a_relayed_request_is_served_from_the_relays_subnet_through_the_relay() {
    let mut s = Server::new(config_with_ranges(), at(0), vec![]);
    let offer = s
        .handle(at(0), &discover(mac(1)).giaddr(RELAY).bytes())
        .unwrap();
    let a = offer.yiaddr;
    assert!(
        (50..=60).contains(&a.octets()[3]) && a.octets()[..3] == [10, 77, 0],
        "{a}"
    );
    assert_eq!(offer.dest, Destination::Relay(RELAY));
    // The relay is the router; the server identifier is the primary address.
    assert_eq!(addr_opt(&offer.bytes, 3), Some(RELAY));
    assert_eq!(addr_opt(&offer.bytes, 54), Some(SERVER));
    assert_eq!(
        addr_opt(&offer.bytes, 1),
        Some(Ipv4Addr::new(255, 255, 255, 0))
    );
    assert_eq!(
        addr_opt(&offer.bytes, 28),
        Some(Ipv4Addr::new(10, 77, 0, 255))
    );
    assert_eq!(u32_opt(&offer.bytes, 51), Some(7200));
    let ack = s
        .handle(at(0), &select(mac(1), a).giaddr(RELAY).bytes())
        .unwrap();
    assert_eq!((ack.msg_type, ack.yiaddr), (MessageType::Ack, a));
    let event = s.poll_event().unwrap();
    assert_eq!(event.request.unwrap().relay, Some(RELAY));
    // RENEWING: unicast straight to us from its address, no giaddr.
    let renewed = s.handle(at(100), &renew(mac(1), a).bytes()).unwrap();
    assert_eq!((renewed.msg_type, renewed.yiaddr), (MessageType::Ack, a));
    assert_eq!(u32_opt(&renewed.bytes, 51), Some(7200));
    s.check_invariants().unwrap();
}

#[test]
fn a_relayed_range_carries_its_tags() {
    let mut c = config_with_ranges();
    c.options = vec![Dhcp4Option {
        code: 26,
        value: OptionValue::U16(1400),
        force: false,
        tags: vec![TagMatch::Is(Tag("far".into()))],
    }];
    let mut s = Server::new(c, at(0), vec![]);
    let far = s
        .handle(at(0), &discover(mac(1)).giaddr(RELAY).prl(&[26]).bytes())
        .unwrap();
    assert_eq!(
        option_value(&far.bytes, 26),
        Some(&1400u16.to_be_bytes()[..])
    );
    let near = s
        .handle(at(0), &discover(mac(2)).prl(&[26]).bytes())
        .unwrap();
    assert_eq!(option_value(&near.bytes, 26), None);
}

#[test]
fn a_relay_on_a_subnet_no_range_serves_gets_nothing_and_a_warning() {
    let mut s = Server::new(config_with_ranges(), at(0), vec![]);
    let stray = Ipv4Addr::new(10, 99, 0, 1);
    assert!(
        s.handle(at(0), &discover(mac(1)).giaddr(stray).bytes())
            .is_none()
    );
    assert_eq!(
        s.poll_warning(),
        Some(Warning::NoRange {
            relay: stray,
            mac: crate::MacAddr(mac(1))
        })
    );
}

#[test]
fn an_address_of_another_network_is_refused() {
    let mut s = Server::new(config_with_ranges(), at(0), vec![]);
    // On the link, asking for a relayed subnet's address: NAK.
    let nak = s
        .handle(at(0), &reboot(mac(1), Ipv4Addr::new(10, 77, 0, 55)).bytes())
        .unwrap();
    assert_eq!(nak.msg_type, MessageType::Nak);
    // Through the relay, asking for one of nat0's: NAK, sent to the relay.
    let nak = s
        .handle(
            at(0),
            &reboot(mac(2), Ipv4Addr::new(192, 168, 26, 30))
                .giaddr(RELAY)
                .bytes(),
        )
        .unwrap();
    assert_eq!(nak.msg_type, MessageType::Nak);
    assert_eq!(nak.dest, Destination::Relay(RELAY));
}

#[test]
fn a_client_that_moves_behind_a_relay_gets_an_address_there() {
    let mut s = Server::new(config_with_ranges(), at(0), vec![]);
    let near = s.handle(at(0), &discover(mac(1)).bytes()).unwrap().yiaddr;
    s.handle(at(0), &select(mac(1), near).bytes()).unwrap();
    let far = s
        .handle(at(10), &discover(mac(1)).giaddr(RELAY).bytes())
        .unwrap()
        .yiaddr;
    assert_eq!(far.octets()[..3], [10, 77, 0]);
    let ack = s
        .handle(at(10), &select(mac(1), far).giaddr(RELAY).bytes())
        .unwrap();
    assert_eq!((ack.msg_type, ack.yiaddr), (MessageType::Ack, far));
    assert!(s.lease_by_addr(near).is_none());
    s.check_invariants().unwrap();
}

#[test]
fn link_clients_spill_into_the_second_subnet_when_the_first_is_full() {
    let mut c = config_with_ranges();
    c.ranges[0].start = Ipv4Addr::new(192, 168, 26, 20);
    c.ranges[0].end = Ipv4Addr::new(192, 168, 26, 21);
    let mut s = Server::new(c, at(0), vec![]);
    let mut got = Vec::new();
    for n in 1..=5 {
        let offer = s.handle(at(0), &discover(mac(n)).bytes()).unwrap();
        let ack = s.handle(at(0), &select(mac(n), offer.yiaddr).bytes());
        let ack = ack.unwrap();
        assert_eq!(ack.msg_type, MessageType::Ack, "client {n}");
        if ack.yiaddr.octets()[0] == 172 {
            // That subnet's clients see our address there.
            assert_eq!(addr_opt(&ack.bytes, 54), Some(SECOND));
            assert_eq!(addr_opt(&ack.bytes, 3), Some(SECOND));
        }
        got.push(ack.yiaddr);
    }
    got.sort();
    assert_eq!(
        got[..2],
        [Ipv4Addr::new(172, 20, 0, 10), Ipv4Addr::new(172, 20, 0, 11)]
    );
    assert_eq!(got[2].octets()[0], 172);
    assert_eq!(
        got[3..],
        [
            Ipv4Addr::new(192, 168, 26, 20),
            Ipv4Addr::new(192, 168, 26, 21)
        ]
    );
    assert!(s.handle(at(0), &discover(mac(9)).bytes()).is_none());
    // A REQUEST naming the second address of ours as server is ours.
    let renewed = s
        .handle(
            at(5),
            &Packet::new(MessageType::Request, mac(1))
                .server_id(SECOND)
                .requested(s.records()[0].addr)
                .bytes(),
        )
        .map(|r| r.msg_type);
    assert!(renewed.is_some());
    // The relayed range is not the link's: its addresses stayed free.
    assert_eq!(s.free_addresses(), 11);
    s.check_invariants().unwrap();
}

#[test]
fn leases_of_every_range_come_back_after_a_restart() {
    let mut s = Server::new(config_with_ranges(), at(0), vec![]);
    for (n, relay) in [(1, None), (2, Some(RELAY))] {
        let mut d = discover(mac(n));
        if let Some(r) = relay {
            d = d.giaddr(r);
        }
        let a = s.handle(at(0), &d.bytes()).unwrap().yiaddr;
        let mut r = select(mac(n), a);
        if let Some(g) = relay {
            r = r.giaddr(g);
        }
        s.handle(at(0), &r.bytes()).unwrap();
    }
    let records = s.records();
    let again = Server::new(config_with_ranges(), at(1), records.clone());
    assert_eq!(again.records(), records);
    // Without the relayed range, its lease is dropped at load.
    let again = Server::new(config(), at(1), records);
    assert_eq!(again.records().len(), 1);
}
