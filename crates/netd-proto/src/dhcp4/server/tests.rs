//! Packet transcripts through the server, with injected time.

use std::net::Ipv4Addr;
use std::time::Duration;

use dhcproto::v4::{DhcpOption, MessageType, OptionCode};

use crate::dhcp4::config::LeaseTime;
use crate::dhcp4::lease_file::LeaseRecord;
use crate::dhcp4::reply::{BOOTP_MIN_LEN, Destination, Reply};
use crate::dhcp4::server::{LeaseChange, Server};
use crate::dhcp4::testkit::*;

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 26, last)
}

fn server() -> Server {
    Server::new(config(), at(0), vec![])
}

fn msg_type(reply: &Reply) -> MessageType {
    decode(&reply.bytes).opts().msg_type().unwrap()
}

/// DISCOVER then REQUEST: the address the client ends up with.
fn bind(s: &mut Server, mac: [u8; 6], now: u64) -> Ipv4Addr {
    let offer = s.handle(at(now), &discover(mac).bytes()).expect("an offer");
    assert_eq!(msg_type(&offer), MessageType::Offer);
    let ack = s
        .handle(at(now), &select(mac, offer.yiaddr).bytes())
        .expect("an ack");
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(ack.yiaddr, offer.yiaddr);
    s.check_invariants().unwrap();
    ack.yiaddr
}

fn events(s: &mut Server) -> Vec<LeaseChange> {
    std::iter::from_fn(|| s.poll_event())
        .map(|e| e.change)
        .collect()
}

#[test]
fn discover_gets_an_offer_with_the_network_options() {
    let mut s = server();
    let offer = s.handle(at(0), &discover(mac(1)).bytes()).unwrap();
    let m = decode(&offer.bytes);
    assert!((20..=100).contains(&m.yiaddr().octets()[3]));
    assert_eq!(m.xid(), 0x1234_5678);
    assert_eq!(&m.chaddr()[..6], &mac(1));
    let o = m.opts();
    assert_eq!(
        o.get(OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(
        o.get(OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert_eq!(
        o.get(OptionCode::Router),
        Some(&DhcpOption::Router(vec![SERVER]))
    );
    assert_eq!(
        o.get(OptionCode::DomainNameServer),
        Some(&DhcpOption::DomainNameServer(vec![SERVER]))
    );
    assert_eq!(
        o.get(OptionCode::BroadcastAddr),
        Some(&DhcpOption::BroadcastAddr(ip(255)))
    );
    assert_eq!(
        o.get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(3600))
    );
    assert_eq!(o.get(OptionCode::Renewal), Some(&DhcpOption::Renewal(1800)));
    assert_eq!(
        o.get(OptionCode::Rebinding),
        Some(&DhcpOption::Rebinding(3150))
    );
    assert!(o.get(OptionCode::DomainName).is_none());
    assert!(o.get(OptionCode::InterfaceMtu).is_none());
    // An offer is not a lease: nothing to persist yet.
    assert!(s.poll_event().is_none());
    assert!(s.records().is_empty());
}

#[test]
fn replies_are_padded_to_the_bootp_minimum() {
    let mut s = server();
    let offer = s
        .handle(at(0), &discover(mac(1)).prl(&[1]).bytes())
        .unwrap();
    assert_eq!(offer.bytes.len(), BOOTP_MIN_LEN);
    assert_eq!(*offer.bytes.last().unwrap(), 0);
}

#[test]
fn the_parameter_request_list_sets_order_and_choice() {
    let mut c = config();
    c.domain = Some("lan".into());
    c.mtu = Some(1400);
    let mut s = Server::new(c, at(0), vec![]);
    let offer = s
        .handle(at(0), &discover(mac(1)).prl(&[6, 119, 3, 15]).bytes())
        .unwrap();
    // Type, server id, lease times; then as asked; then the mask (always).
    assert_eq!(
        option_order(&offer.bytes),
        vec![53, 54, 51, 58, 59, 6, 119, 3, 15, 1]
    );
    let o = decode(&offer.bytes);
    assert_eq!(
        o.opts().get(OptionCode::DomainName),
        Some(&DhcpOption::DomainName("lan".into()))
    );
    // Without a list: every configured option, MTU included.
    let all = s.handle(at(0), &discover(mac(2)).bytes()).unwrap();
    assert_eq!(
        option_order(&all.bytes),
        vec![53, 54, 51, 58, 59, 1, 3, 6, 15, 26, 28, 119]
    );
}

#[test]
fn empty_dns_list_leaves_option_6_out() {
    let mut c = config();
    c.dns_servers.clear();
    let mut s = Server::new(c, at(0), vec![]);
    let offer = s
        .handle(at(0), &discover(mac(1)).prl(&[1, 3, 6]).bytes())
        .unwrap();
    assert_eq!(option_order(&offer.bytes), vec![53, 54, 51, 58, 59, 1, 3]);
}

#[test]
fn infinite_leases_carry_no_t1_t2_and_never_expire() {
    let mut c = config();
    c.ranges[0].lease_time = LeaseTime::Infinite;
    let mut s = Server::new(c, at(0), vec![]);
    let addr = bind(&mut s, mac(1), 0);
    let ack = s.handle(at(5), &renew(mac(1), addr).bytes()).unwrap();
    assert_eq!(option_order(&ack.bytes)[..3], [53, 54, 51]);
    assert!(!option_order(&ack.bytes).contains(&58));
    assert_eq!(s.records()[0].expires, 0);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn request_in_selecting_binds_and_emits_added() {
    let mut s = server();
    let addr = bind(&mut s, mac(1), 0);
    assert_eq!(events(&mut s), vec![LeaseChange::Added]);
    let rec = &s.records()[0];
    assert_eq!((rec.addr, rec.mac), (addr, mac(1)));
    assert_eq!(rec.expires, 1_800_003_600);
}

#[test]
fn acks_wait_for_durability_offers_and_naks_do_not() {
    let mut s = server();
    let offer = s.handle(at(0), &discover(mac(1)).bytes()).unwrap();
    assert!(!offer.needs_commit);
    let ack = s
        .handle(at(0), &select(mac(1), offer.yiaddr).bytes())
        .unwrap();
    assert!(ack.needs_commit);
    let nak = s
        .handle(at(0), &reboot(mac(2), offer.yiaddr).bytes())
        .unwrap();
    assert!(!nak.needs_commit);
}

#[test]
fn another_servers_id_silently_forgets_the_offer() {
    let mut s = server();
    let offer = s.handle(at(0), &discover(mac(1)).bytes()).unwrap();
    let other = Ipv4Addr::new(192, 168, 26, 2);
    let req = dhcproto_request(mac(1), offer.yiaddr).server_id(other);
    assert!(s.handle(at(1), &req.bytes()).is_none());
    assert!(s.lease_by_addr(offer.yiaddr).is_none());
    s.check_invariants().unwrap();
}

fn dhcproto_request(mac: [u8; 6], addr: Ipv4Addr) -> Packet {
    Packet::new(MessageType::Request, mac).requested(addr)
}

#[test]
fn init_reboot_acks_the_clients_own_address_and_naks_others() {
    let mut s = server();
    let a = bind(&mut s, mac(1), 0);
    let b = bind(&mut s, mac(2), 0);
    let ack = s.handle(at(10), &reboot(mac(1), a).bytes()).unwrap();
    assert_eq!(msg_type(&ack), MessageType::Ack);
    // Someone else's address.
    let nak = s.handle(at(10), &reboot(mac(1), b).bytes()).unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
    assert_eq!(nak.dest, Destination::Broadcast);
    assert_eq!(nak.yiaddr, Ipv4Addr::UNSPECIFIED);
    // A free address, but the client holds another one.
    let free = (20..=100).map(ip).find(|x| *x != a && *x != b).unwrap();
    let nak = s.handle(at(10), &reboot(mac(1), free).bytes()).unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
    // Another subnet (the client moved).
    let nak = s
        .handle(at(10), &reboot(mac(3), Ipv4Addr::new(10, 1, 2, 3)).bytes())
        .unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
    // Our subnet but outside the range, and the server's own address.
    for addr in [ip(150), SERVER, ip(255)] {
        let nak = s.handle(at(10), &reboot(mac(3), addr).bytes()).unwrap();
        assert_eq!(msg_type(&nak), MessageType::Nak, "{addr}");
    }
    assert_eq!(s.stats().naks, 6);
    s.check_invariants().unwrap();
}

#[test]
fn init_reboot_with_a_free_address_in_range_is_acked() {
    // The lease file was lost: the client keeps its address if nobody has it.
    let mut s = server();
    let ack = s.handle(at(0), &reboot(mac(1), ip(42)).bytes()).unwrap();
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(ack.yiaddr, ip(42));
}

#[test]
fn non_authoritative_server_stays_silent_for_strangers() {
    let mut c = config();
    c.authoritative = false;
    let mut s = Server::new(c, at(0), vec![]);
    assert!(s.handle(at(0), &reboot(mac(1), ip(150)).bytes()).is_none());
}

#[test]
fn renewing_extends_the_lease_and_replies_to_ciaddr() {
    let mut s = server();
    let addr = bind(&mut s, mac(1), 0);
    events(&mut s);
    let ack = s.handle(at(1800), &renew(mac(1), addr).bytes()).unwrap();
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(ack.dest, Destination::Unicast(addr));
    assert_eq!(decode(&ack.bytes).ciaddr(), addr);
    assert_eq!(events(&mut s), vec![LeaseChange::Renewed]);
    assert_eq!(s.records()[0].expires, 1_800_005_400);
    // Renewing an address that belongs to someone else is refused.
    let other = bind(&mut s, mac(2), 0);
    let nak = s.handle(at(1800), &renew(mac(1), other).bytes()).unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
}

#[test]
fn a_returning_client_keeps_its_address() {
    let mut s = server();
    let first = bind(&mut s, mac(1), 0);
    for n in 2..30 {
        bind(&mut s, mac(n), 0);
    }
    assert_eq!(bind(&mut s, mac(1), 100), first);
    // With a client identifier the key is the identifier, not the MAC.
    let id = DhcpOption::ClientIdentifier(vec![0xff, 1, 2, 3]);
    let offer = s
        .handle(at(0), &discover(mac(40)).opt(id.clone()).bytes())
        .unwrap();
    s.handle(
        at(0),
        &select(mac(40), offer.yiaddr).opt(id.clone()).bytes(),
    )
    .unwrap();
    let again = s.handle(at(5), &discover(mac(41)).opt(id).bytes()).unwrap();
    assert_eq!(again.yiaddr, offer.yiaddr);
    assert_eq!(
        s.records().last().unwrap().client_id,
        Some(vec![0xff, 1, 2, 3])
    );
    // The export, formatted straight from the table, holds the same lines
    // as the records do, in some order.
    let mut fast: Vec<String> = s.lease_file_text().lines().map(str::to_owned).collect();
    let mut slow: Vec<String> = crate::dhcp4::lease_file::format(&s.records())
        .lines()
        .map(str::to_owned)
        .collect();
    fast.sort();
    slow.sort();
    assert_eq!(fast, slow);
    assert!(fast.len() >= 30, "{}", fast.len());
}

#[test]
fn a_new_client_gets_a_stable_address_from_its_identity() {
    let a = bind(&mut server(), mac(7), 0);
    let b = bind(&mut server(), mac(7), 99);
    assert_eq!(a, b);
    let c = bind(&mut server(), mac(8), 0);
    assert_ne!(a, c, "two MACs hash to different addresses here");
}

#[test]
fn the_address_survives_a_restart_through_the_records() {
    let mut s = server();
    let addr = bind(&mut s, mac(5), 0);
    let records = s.records();
    // A fresh server, as after a restart, loaded from the persisted records.
    let mut s2 = Server::new(config(), at(60), records);
    s2.check_invariants().unwrap();
    // Another client hashing anywhere never gets it.
    for n in 100..180 {
        if let Some(o) = s2.handle(at(60), &discover(mac(n)).bytes()) {
            assert_ne!(o.yiaddr, addr);
        }
    }
    let offer = s2.handle(at(60), &discover(mac(5)).bytes()).unwrap();
    assert_eq!(offer.yiaddr, addr);
}

#[test]
fn loading_drops_expired_foreign_and_duplicate_leases() {
    let rec = |last, m, expires| LeaseRecord {
        expires,
        mac: mac(m),
        addr: ip(last),
        hostname: None,
        client_id: None,
    };
    let t = 1_800_000_000;
    let loaded = vec![
        rec(30, 1, t + 100),
        rec(31, 2, t - 1),    // expired
        rec(30, 3, t + 100),  // address taken
        rec(32, 1, t + 100),  // client has one
        rec(150, 4, t + 100), // outside the range
        rec(10, 5, t + 100),  // reserved for another MAC
        rec(33, 6, 0),        // infinite
    ];
    let s = Server::new(config(), at(0), loaded);
    let addrs: Vec<u8> = s.records().iter().map(|r| r.addr.octets()[3]).collect();
    assert_eq!(addrs, vec![30, 33]);
    s.check_invariants().unwrap();
}

#[test]
fn a_reservation_wins_over_the_pool_and_carries_its_name() {
    let reserved_mac = [0x52, 0x54, 0, 0, 0, 0x99];
    let mut s = server();
    // Another client asking for the reserved address is refused.
    let nak = s.handle(at(0), &reboot(mac(1), ip(10)).bytes()).unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
    let o = s
        .handle(at(0), &discover(mac(1)).requested(ip(10)).bytes())
        .unwrap();
    assert_ne!(o.yiaddr, ip(10));
    // The owner gets it, with the reservation's hostname.
    let addr = bind(&mut s, reserved_mac, 0);
    assert_eq!(addr, ip(10));
    assert_eq!(s.records().last().unwrap().hostname.as_deref(), Some("db"));
    // And is NAKed when it asks for anything else.
    let nak = s
        .handle(at(0), &reboot(reserved_mac, ip(50)).bytes())
        .unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
}

#[test]
fn hostname_from_option_12_or_81_is_kept_and_published() {
    let mut s = server();
    let offer = s.handle(at(0), &discover(mac(1)).bytes()).unwrap();
    let req = select(mac(1), offer.yiaddr).opt(DhcpOption::Hostname("web_1.example".into()));
    s.handle(at(0), &req.bytes()).unwrap();
    let fqdn = dhcproto::v4::fqdn::ClientFQDN::new(
        dhcproto::v4::fqdn::FqdnFlags::new(0x01),
        "cache.lan.".parse().unwrap(),
    );
    let offer = s.handle(at(1), &discover(mac(2)).bytes()).unwrap();
    let req = select(mac(2), offer.yiaddr).opt(DhcpOption::ClientFQDN(fqdn));
    s.handle(at(1), &req.bytes()).unwrap();
    // The same option in DNS wire format (E bit).
    let fqdn = dhcproto::v4::fqdn::ClientFQDN::new(
        dhcproto::v4::fqdn::FqdnFlags::new(0x05),
        "proxy.lan.".parse().unwrap(),
    );
    let offer = s.handle(at(1), &discover(mac(3)).bytes()).unwrap();
    let req = select(mac(3), offer.yiaddr).opt(DhcpOption::ClientFQDN(fqdn));
    s.handle(at(1), &req.bytes()).unwrap();
    let names: Vec<String> = s.names().into_iter().map(|n| n.hostname).collect();
    assert_eq!(names, vec!["web-1", "cache", "proxy"]);
    // A renewal without a name keeps it.
    let addr = s.records()[0].addr;
    s.handle(at(2), &renew(mac(1), addr).bytes()).unwrap();
    let names: Vec<String> = s.names().into_iter().map(|n| n.hostname).collect();
    assert_eq!(
        names,
        vec!["cache", "proxy", "web-1"],
        "renewed lease is now the newest"
    );
}

#[test]
fn release_frees_the_address() {
    let mut s = server();
    let addr = bind(&mut s, mac(1), 0);
    events(&mut s);
    // Not from the holder: ignored.
    assert!(s.handle(at(1), &release(mac(2), addr).bytes()).is_none());
    assert!(s.lease_by_addr(addr).is_some());
    assert!(s.handle(at(1), &release(mac(1), addr).bytes()).is_none());
    assert!(s.lease_by_addr(addr).is_none());
    assert_eq!(events(&mut s), vec![LeaseChange::Released]);
    assert!(s.records().is_empty());
}

#[test]
fn a_declined_address_is_held_back_for_decline_hold() {
    let mut s = server();
    let addr = bind(&mut s, mac(1), 0);
    events(&mut s);
    assert!(s.handle(at(1), &decline(mac(1), addr).bytes()).is_none());
    assert_eq!(events(&mut s), vec![LeaseChange::Declined]);
    // The same client is offered something else, and nobody gets it.
    let offer = s.handle(at(2), &discover(mac(1)).bytes()).unwrap();
    assert_ne!(offer.yiaddr, addr);
    let nak = s.handle(at(2), &reboot(mac(3), addr).bytes()).unwrap();
    assert_eq!(msg_type(&nak), MessageType::Nak);
    s.check_invariants().unwrap();
    // After the hold it is free again.
    s.handle_timeout(at(1 + 600));
    let ack = s.handle(at(700), &reboot(mac(3), addr).bytes()).unwrap();
    assert_eq!(msg_type(&ack), MessageType::Ack);
}

#[test]
fn leases_and_offers_expire_through_handle_timeout() {
    let mut s = server();
    let addr = bind(&mut s, mac(1), 0);
    let offered = s.handle(at(100), &discover(mac(2)).bytes()).unwrap().yiaddr;
    events(&mut s);
    assert_eq!(s.poll_timeout(), Some(at(100) + Duration::from_secs(60)));
    s.handle_timeout(at(160));
    assert!(s.lease_by_addr(offered).is_none());
    assert!(
        s.poll_event().is_none(),
        "an offer ending is not a lease event"
    );
    assert_eq!(s.poll_timeout(), Some(at(3600)));
    s.handle_timeout(at(3599));
    assert!(s.lease_by_addr(addr).is_some());
    s.handle_timeout(at(3600));
    assert!(s.lease_by_addr(addr).is_none());
    assert_eq!(events(&mut s), vec![LeaseChange::Expired]);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn an_offer_reserves_the_address_for_a_minute() {
    let mut c = config();
    c.ranges[0].start = ip(20);
    c.ranges[0].end = ip(20);
    let mut s = Server::new(c, at(0), vec![]);
    assert_eq!(
        s.handle(at(0), &discover(mac(1)).bytes()).unwrap().yiaddr,
        ip(20)
    );
    assert!(s.handle(at(30), &discover(mac(2)).bytes()).is_none());
    assert_eq!(s.stats().exhausted, 1);
    s.handle_timeout(at(60));
    assert_eq!(
        s.handle(at(61), &discover(mac(2)).bytes()).unwrap().yiaddr,
        ip(20)
    );
}

#[test]
fn a_full_pool_and_the_lease_max_stop_offers() {
    let mut c = config();
    c.ranges[0].end = ip(24); // .20-.24: five addresses
    let mut s = Server::new(c.clone(), at(0), vec![]);
    let mut seen: Vec<Ipv4Addr> = (1..=5).map(|n| bind(&mut s, mac(n), 0)).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "no address given twice");
    assert!(s.handle(at(0), &discover(mac(6)).bytes()).is_none());
    let mut s = Server::new(c, at(0), vec![]).with_lease_max(2);
    bind(&mut s, mac(1), 0);
    bind(&mut s, mac(2), 0);
    assert!(s.handle(at(0), &discover(mac(3)).bytes()).is_none());
    // Existing clients still renew.
    let a = s.records()[0].addr;
    let ack = s.handle(at(1), &renew(mac(1), a).bytes()).unwrap();
    assert_eq!(msg_type(&ack), MessageType::Ack);
}

#[test]
fn inform_gets_options_but_no_lease() {
    let mut s = server();
    let inform = Packet::new(MessageType::Inform, mac(1)).ciaddr(ip(77));
    let ack = s.handle(at(0), &inform.bytes()).unwrap();
    let m = decode(&ack.bytes);
    assert_eq!(m.opts().msg_type(), Some(MessageType::Ack));
    assert_eq!(m.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.ciaddr(), ip(77));
    assert!(m.opts().get(OptionCode::AddressLeaseTime).is_none());
    assert!(m.opts().get(OptionCode::Router).is_some());
    assert_eq!(ack.dest, Destination::Unicast(ip(77)));
    assert!(!ack.needs_commit);
    assert!(s.records().is_empty());
}

#[test]
fn reply_destination_follows_rfc2131_4_1() {
    let mut s = server();
    let plain = s.handle(at(0), &discover(mac(1)).bytes()).unwrap();
    assert_eq!(
        plain.dest,
        Destination::UnicastNoArp {
            addr: plain.yiaddr,
            chaddr: mac(1)
        }
    );
    let bcast = s
        .handle(at(0), &discover(mac(1)).broadcast().bytes())
        .unwrap();
    assert_eq!(bcast.dest, Destination::Broadcast);
    assert!(decode(&bcast.bytes).flags().broadcast());
    let relay = ip(2);
    let relayed = s
        .handle(at(0), &discover(mac(1)).giaddr(relay).bytes())
        .unwrap();
    assert_eq!(relayed.dest, Destination::Relay(relay));
    assert_eq!(decode(&relayed.bytes).giaddr(), relay);
    let nak = s
        .handle(at(0), &reboot(mac(1), ip(200)).giaddr(relay).bytes())
        .unwrap();
    assert_eq!(nak.dest, Destination::Relay(relay));
    // The relay's option 82 comes back, last. Spliced in by hand: dhcproto
    // would encode an unknown option 82 twice.
    let info = vec![1, 3, b'e', b't', b'h'];
    let mut tagged = discover(mac(1)).giaddr(relay).bytes();
    assert_eq!(tagged.pop(), Some(255));
    tagged.extend([82, 5]);
    tagged.extend(&info);
    tagged.push(255);
    let reply = s.handle(at(0), &tagged).unwrap();
    assert_eq!(*option_order(&reply.bytes).last().unwrap(), 82);
    assert_eq!(option_value(&reply.bytes, 82), Some(&info[..]));
    // Relayed from a subnet we do not serve: dropped.
    let far = discover(mac(1)).giaddr(Ipv4Addr::new(10, 9, 9, 1));
    assert!(s.handle(at(0), &far.bytes()).is_none());
}

#[test]
fn garbage_and_truncated_packets_are_dropped_and_counted() {
    let mut s = server();
    let good = discover(mac(1)).bytes();
    let mut dropped = 0;
    for len in 0..good.len() {
        if s.handle(at(0), &good[..len]).is_none() {
            dropped += 1;
        }
    }
    assert!(dropped >= 240);
    // Deterministic pseudo-random garbage (xorshift), with a valid header
    // prefix sometimes, so option parsing gets exercised too.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..2000 {
        let len = (round * 7) % 600;
        let mut buf: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        if round % 2 == 0 && len > 240 {
            buf[..240].copy_from_slice(&good[..240]);
        }
        let _ = s.handle(at(0), &buf);
    }
    // A BOOTREPLY and a non-Ethernet request.
    let mut reply = good.clone();
    reply[0] = 2;
    assert!(s.handle(at(0), &reply).is_none());
    let mut token_ring = good.clone();
    token_ring[1] = 6;
    assert!(s.handle(at(0), &token_ring).is_none());
    let mut long_hw = good.clone();
    long_hw[2] = 16;
    assert!(s.handle(at(0), &long_hw).is_none());
    assert!(s.stats().malformed >= 243);
    s.check_invariants().unwrap();
}

#[test]
fn a_reserved_host_that_changes_client_identifier_keeps_its_address() {
    // Found by the end-to-end test: the wire client (no option 61) and then
    // udhcpc (option 61) on the same MAC.
    let reserved_mac = [0x52, 0x54, 0, 0, 0, 0x99];
    let mut s = server();
    assert_eq!(bind(&mut s, reserved_mac, 0), ip(10));
    events(&mut s);
    let id = DhcpOption::ClientIdentifier(vec![1, 0x52, 0x54, 0, 0, 0, 0x99]);
    let offer = s
        .handle(at(5), &discover(reserved_mac).opt(id.clone()).bytes())
        .unwrap();
    assert_eq!(offer.yiaddr, ip(10));
    s.check_invariants().unwrap();
    let ack = s
        .handle(at(5), &select(reserved_mac, ip(10)).opt(id).bytes())
        .unwrap();
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(
        events(&mut s),
        vec![LeaseChange::Released, LeaseChange::Added]
    );
    assert_eq!(s.records().len(), 1);
    s.check_invariants().unwrap();
}
