//! Hostnames a client may not take: one a live lease holds (until its
//! holder is gone), a reservation's, a hosts file's.

use std::net::Ipv4Addr;

use dhcproto::v4::DhcpOption;

use crate::dhcp4::name_claims::RECHECK;
use crate::dhcp4::server::{LeaseChange, Server};
use crate::dhcp4::testkit::*;

/// DISCOVER and REQUEST with `hostname`; the address bound.
fn bind(s: &mut Server, secs: u64, n: u8, hostname: &str) -> Ipv4Addr {
    let name = || DhcpOption::Hostname(hostname.into());
    let offer = s
        .handle(at(secs), &discover(mac(n)).opt(name()).bytes())
        .expect("an offer");
    let ack = s
        .handle(at(secs), &select(mac(n), offer.yiaddr).opt(name()).bytes())
        .expect("an ack");
    assert_eq!(ack.yiaddr, offer.yiaddr);
    ack.yiaddr
}

fn server() -> Server {
    Server::new(config(), at(0), vec![])
}

fn name_of(s: &Server, addr: Ipv4Addr) -> Option<String> {
    s.lease_by_addr(addr).and_then(|l| l.hostname.clone())
}

#[test]
fn a_second_client_does_not_take_a_live_name_until_its_holder_is_silent() {
    let mut s = server();
    let a = bind(&mut s, 0, 1, "web");
    let b = bind(&mut s, 1, 2, "web");
    assert_eq!(name_of(&s, a).as_deref(), Some("web"));
    assert_eq!(name_of(&s, b), None, "the address, not the name");
    let published: Vec<_> = s
        .names()
        .into_iter()
        .map(|n| (n.hostname, n.addr))
        .collect();
    assert_eq!(published, [("web".to_owned(), a)]);
    // Renewals neither take it nor probe again while the probe is out.
    let probe = s
        .poll_name_probe(at(1))
        .expect("the holder is to be probed");
    assert_eq!((probe.holder_addr, probe.holder_mac), (a, mac(1)));
    bind(&mut s, 2, 2, "web");
    assert_eq!(s.poll_name_probe(at(2)), None);
    // The holder answers ARP: nothing moves...
    assert!(!s.name_probe_result(at(3), &probe, true));
    assert_eq!(name_of(&s, b), None);
    while s.poll_event().is_some() {}
    // ...and it is probed again later, without the client asking; silent
    // now, the name moves.
    assert_eq!(s.poll_name_probe(at(4)), None);
    let probe = s.poll_name_probe(at(3) + RECHECK).expect("probed again");
    assert!(s.name_probe_result(at(14), &probe, false));
    assert_eq!(name_of(&s, a), None);
    assert_eq!(name_of(&s, b).as_deref(), Some("web"));
    // Both changes go to the journal.
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    let last_two: Vec<_> = events[events.len() - 2..]
        .iter()
        .map(|e| (e.change, e.record.addr, e.record.hostname.clone()))
        .collect();
    assert_eq!(
        last_two,
        [
            (LeaseChange::Renewed, a, None),
            (LeaseChange::Renewed, b, Some("web".to_owned()))
        ]
    );
    s.check_invariants().unwrap();
}

#[test]
fn a_name_whose_lease_ended_goes_to_the_next_client_at_once() {
    let mut s = server();
    let a = bind(&mut s, 0, 1, "web");
    assert!(s.handle(at(1), &release(mac(1), a).bytes()).is_none());
    let b = bind(&mut s, 2, 2, "web");
    assert_eq!(name_of(&s, b).as_deref(), Some("web"));
    assert_eq!(s.poll_name_probe(at(3)), None);
}

#[test]
fn reserved_and_protected_names_are_not_given_to_other_clients() {
    // config() reserves 192.168.26.10 and "db" for 52:54:00:00:00:99.
    let mut s = server();
    s.set_protected_names(["printer.lan".to_owned()]);
    let x = bind(&mut s, 0, 1, "db");
    let y = bind(&mut s, 0, 2, "printer");
    let z = bind(&mut s, 0, 3, "web");
    assert_eq!(
        [name_of(&s, x), name_of(&s, y), name_of(&s, z)],
        [None, None, Some("web".to_owned())]
    );
    assert_eq!(s.poll_name_probe(at(3)), None);
}
