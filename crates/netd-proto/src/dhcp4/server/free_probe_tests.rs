//! Pool addresses ARP-probed free ahead of demand: a new client is offered
//! one of them, and one that answered is never offered.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use crate::MacAddr;
use crate::dhcp4::free_probes::{FRESH_FOR, READY};
use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;
use crate::dhcp4::warning::Warning;

fn server() -> Server {
    Server::new(config(), at(0), vec![])
}

/// Probes until none is wanted; `in_use` answers, the rest are silent.
fn probe_all(s: &mut Server, secs: u64, in_use: Option<Ipv4Addr>) -> Vec<Ipv4Addr> {
    let mut free = Vec::new();
    while let Some(a) = s.poll_free_probe(at(secs)) {
        if Some(a) == in_use {
            s.free_probe_result(at(secs), a, Some([2, 0, 0, 0, 0, 0x77]));
        } else {
            s.free_probe_result(at(secs), a, None);
            free.push(a);
        }
    }
    free
}

#[test]
fn a_new_client_is_offered_an_address_probed_free() {
    let mut s = server();
    let free = probe_all(&mut s, 0, None);
    assert_eq!(free.len(), READY);
    let offer = s.handle(at(1), &discover(mac(1)).bytes()).unwrap();
    assert_eq!(offer.yiaddr, free[0], "the oldest verified one");
    let offer2 = s.handle(at(1), &discover(mac(2)).bytes()).unwrap();
    assert_eq!(offer2.yiaddr, free[1]);
    // The first client asking again gets its offer again.
    assert_eq!(
        s.handle(at(1), &discover(mac(1)).bytes()).unwrap().yiaddr,
        free[0]
    );
    // Once stale, they are dropped and probed for anew.
    let later = FRESH_FOR.as_secs() + 1;
    assert_eq!(probe_all(&mut s, later, None).len(), READY);
    s.check_invariants().unwrap();
}

#[test]
fn an_address_that_answers_is_never_offered_and_is_warned_about() {
    let mut s = server();
    let first = s.poll_free_probe(at(0)).unwrap();
    s.free_probe_result(at(0), first, Some([2, 0, 0, 0, 0, 0x77]));
    assert_eq!(
        s.poll_warning(),
        Some(Warning::InUse {
            addr: first,
            mac: MacAddr([2, 0, 0, 0, 0, 0x77])
        })
    );
    probe_all(&mut s, 0, None);
    let mut offered = HashSet::new();
    for n in 1..=60 {
        let o = s.handle(at(1), &discover(mac(n)).bytes()).unwrap();
        assert!(offered.insert(o.yiaddr));
    }
    assert!(!offered.contains(&first), "{first} answered ARP");
    // Even asked for by name.
    let o = s
        .handle(at(1), &discover(mac(99)).requested(first).bytes())
        .unwrap();
    assert_ne!(o.yiaddr, first);
}
