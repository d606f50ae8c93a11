//! Property test of the server and its lease table: random sequences of
//! client messages, time passing and restarts over a small pool shared by
//! more clients than it has addresses.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, MessageType};
use proptest::prelude::*;

use crate::dhcp4::leases::{ClientKey, LeaseState};
use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;

#[derive(Debug, Clone)]
enum Op {
    Discover(u8),
    /// REQUEST in SELECTING for what was last offered to the client.
    Select(u8),
    /// INIT-REBOOT asking for .(20 + n).
    Reboot(u8, u8),
    Renew(u8),
    Release(u8),
    Decline(u8),
    /// Time passes by this many seconds, then timeouts are handled.
    Wait(u32),
    /// A new server from the persisted records, as after a restart.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    // Client 9 owns the reservation in testkit's config.
    let client = 0u8..10;
    prop_oneof![
        3 => client.clone().prop_map(Op::Discover),
        3 => client.clone().prop_map(Op::Select),
        1 => (client.clone(), 0u8..12).prop_map(|(c, a)| Op::Reboot(c, a)),
        2 => client.clone().prop_map(Op::Renew),
        1 => client.clone().prop_map(Op::Release),
        1 => client.prop_map(Op::Decline),
        1 => (1u32..5000).prop_map(Op::Wait),
        1 => Just(Op::Restart),
    ]
}

/// Clients 0..=8 are ordinary (even ones send a client identifier); 9
/// holds the reservation for .10.
fn client_mac(c: u8) -> [u8; 6] {
    if c == 9 {
        [0x52, 0x54, 0, 0, 0, 0x99]
    } else {
        mac(c)
    }
}

fn packet(p: Packet, c: u8) -> Vec<u8> {
    if c.is_multiple_of(2) && c != 9 {
        p.opt(DhcpOption::ClientIdentifier(vec![0xff, c])).bytes()
    } else {
        p.bytes()
    }
}

fn key(c: u8) -> ClientKey {
    if c.is_multiple_of(2) && c != 9 {
        ClientKey::ClientId(vec![0xff, c])
    } else {
        ClientKey::Mac(client_mac(c))
    }
}

fn small_config() -> crate::dhcp4::Dhcp4Config {
    let mut c = config();
    c.ranges[0].end = Ipv4Addr::new(192, 168, 26, 27); // 8 dynamic addresses
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_and_returning_clients_keep_their_address(ops in prop::collection::vec(op(), 1..60)) {
        let mut now = 0u64;
        let mut server = Server::new(small_config(), at(now), vec![]);
        let mut offered: HashMap<u8, Ipv4Addr> = HashMap::new();
        for op in ops {
            match op {
                Op::Discover(c) => {
                    let bound = server
                        .lease_by_client(&key(c))
                        .filter(|l| l.state == LeaseState::Bound)
                        .map(|l| l.addr);
                    let reply = server.handle(at(now), &packet(discover(client_mac(c)), c));
                    if let Some(r) = &reply {
                        offered.insert(c, r.yiaddr);
                    }
                    // A client holding a lease is offered that same address.
                    if let Some(addr) = bound {
                        prop_assert_eq!(reply.map(|r| r.yiaddr), Some(addr));
                    }
                }
                Op::Select(c) => {
                    if let Some(addr) = offered.get(&c) {
                        let reply = server.handle(at(now), &packet(select(client_mac(c), *addr), c));
                        if let Some(r) = reply
                            && r.msg_type == MessageType::Ack {
                                let held = server.lease_by_addr(*addr).map(|l| l.key.clone());
                                prop_assert_eq!(held, Some(key(c)));
                            }
                    }
                }
                Op::Reboot(c, n) => {
                    let addr = Ipv4Addr::new(192, 168, 26, 20 + n);
                    let before = server.lease_by_addr(addr).map(|l| l.key.clone());
                    let reply = server.handle(at(now), &packet(reboot(client_mac(c), addr), c));
                    if let (Some(other), Some(r)) = (before, reply) {
                        // Never someone else's address.
                        if other != key(c) {
                            prop_assert_eq!(r.msg_type, MessageType::Nak);
                        }
                    }
                }
                Op::Renew(c) => {
                    if let Some(l) = server.lease_by_client(&key(c)).filter(|l| l.state == LeaseState::Bound) {
                        let addr = l.addr;
                        let r = server.handle(at(now), &packet(renew(client_mac(c), addr), c));
                        prop_assert_eq!(r.map(|r| (r.msg_type, r.yiaddr)), Some((MessageType::Ack, addr)));
                    }
                }
                Op::Release(c) => {
                    if let Some(addr) = server.lease_by_client(&key(c)).map(|l| l.addr) {
                        server.handle(at(now), &packet(release(client_mac(c), addr), c));
                        prop_assert!(server.lease_by_addr(addr).is_none());
                    }
                }
                Op::Decline(c) => {
                    if let Some(addr) = server.lease_by_client(&key(c)).map(|l| l.addr) {
                        server.handle(at(now), &packet(decline(client_mac(c), addr), c));
                        prop_assert!(server.lease_by_addr(addr).is_none());
                    }
                }
                Op::Wait(secs) => {
                    now += u64::from(secs);
                    server.handle_timeout(at(now));
                }
                Op::Restart => {
                    let before: Vec<_> = server.records();
                    server = Server::new(small_config(), at(now), before.clone());
                    // Every unexpired lease comes back (nothing here expired
                    // without handle_timeout having run at `now`).
                    prop_assert_eq!(server.records().len(), before.len());
                }
            }
            while server.poll_event().is_some() {}
            if let Err(e) = server.check_invariants() {
                return Err(TestCaseError::fail(e.to_string()));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes, half of them behind a valid request header so the
    /// option walk is exercised: never a panic, the table stays sound.
    #[test]
    fn any_bytes_are_answered_or_dropped_never_a_panic(
        mut bytes in prop::collection::vec(any::<u8>(), 0..700),
        valid_header in any::<bool>(),
        msg_type in 1u8..9,
    ) {
        let mut server = Server::new(small_config(), at(0), vec![]);
        if valid_header && bytes.len() >= 243 {
            let header = discover(mac(1)).bytes();
            bytes[..240].copy_from_slice(&header[..240]);
            bytes[240..243].copy_from_slice(&[53, 1, msg_type]);
        }
        let _ = server.handle(at(0), &bytes);
        server.handle_timeout(at(100));
        if let Err(e) = server.check_invariants() {
            return Err(TestCaseError::fail(e.to_string()));
        }
    }
}
