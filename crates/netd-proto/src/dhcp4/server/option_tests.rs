//! Configured options, tags, rapid commit and ignored client identifiers,
//! checked on the reply bytes.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, MessageType};

use crate::dhcp4::config::Dhcp4Config;
use crate::dhcp4::option_spec::{Dhcp4Option, OptionValue};
use crate::dhcp4::server::{LeaseChange, Server};
use crate::dhcp4::tags::{Tag, TagMatch};
use crate::dhcp4::testkit::*;

fn opt(code: u8, value: OptionValue) -> Dhcp4Option {
    Dhcp4Option {
        code,
        value,
        force: false,
        tags: Vec::new(),
    }
}

fn with(options: Vec<Dhcp4Option>) -> Dhcp4Config {
    let mut c = config();
    c.options = options;
    c
}

fn offer(c: Dhcp4Config, prl: Option<&[u8]>) -> Vec<u8> {
    offer_to(c, mac(1), prl)
}

fn offer_to(c: Dhcp4Config, who: [u8; 6], prl: Option<&[u8]>) -> Vec<u8> {
    let mut s = Server::new(c, at(0), vec![]);
    let mut p = discover(who);
    if let Some(prl) = prl {
        p = p.prl(prl);
    }
    s.handle(at(0), &p.bytes()).expect("an offer").bytes
}

const ALL: &[u8] = &[1, 2, 3, 6, 15, 19, 23, 26, 28, 42, 119, 120, 121, 252];

#[test]
fn each_value_type_on_the_wire() {
    let c = with(vec![
        opt(2, OptionValue::I32(-7200)),
        opt(
            42,
            OptionValue::Addresses(vec![Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(9, 9, 9, 9)]),
        ),
        opt(15, OptionValue::Text("example.org".into())),
        opt(19, OptionValue::Bool(true)),
        opt(23, OptionValue::U8(64)),
        opt(26, OptionValue::U16(1400)),
        opt(
            119,
            OptionValue::Domains(vec!["a.example.org".into(), "b.example.org".into()]),
        ),
        opt(120, OptionValue::SipNames(vec!["sip.lan".into()])),
        opt(252, OptionValue::Bytes(vec![0xde, 0xad])),
    ]);
    let b = offer(c, Some(ALL));
    assert_eq!(option_value(&b, 2).unwrap(), (-7200i32).to_be_bytes());
    // 0.0.0.0 is the server's own address.
    assert_eq!(option_value(&b, 42).unwrap(), [192, 168, 26, 1, 9, 9, 9, 9]);
    assert_eq!(option_value(&b, 15).unwrap(), b"example.org");
    assert_eq!(option_value(&b, 19).unwrap(), [1]);
    assert_eq!(option_value(&b, 23).unwrap(), [64]);
    assert_eq!(option_value(&b, 26).unwrap(), [5, 120]);
    assert_eq!(
        option_value(&b, 119).unwrap(),
        b"\x01a\x07example\x03org\x00\x01b\xc0\x02"
    );
    assert_eq!(option_value(&b, 120).unwrap(), b"\x00\x03sip\x03lan\x00");
    assert_eq!(option_value(&b, 252).unwrap(), [0xde, 0xad]);
    // And a client's decoder reads them as meant.
    let m = decode(&b);
    assert_eq!(
        m.opts().get(dhcproto::v4::OptionCode::InterfaceMtu),
        Some(&DhcpOption::InterfaceMtu(1400))
    );
}

#[test]
fn configured_options_replace_the_defaults() {
    let dns = Ipv4Addr::new(1, 1, 1, 1);
    let c = with(vec![
        opt(6, OptionValue::Addresses(vec![dns])),
        opt(
            3,
            OptionValue::Addresses(vec![Ipv4Addr::new(192, 168, 26, 254)]),
        ),
    ]);
    let b = offer(c, Some(&[3, 6]));
    assert_eq!(option_value(&b, 6).unwrap(), dns.octets());
    assert_eq!(option_value(&b, 3).unwrap(), [192, 168, 26, 254]);
    assert_eq!(option_order(&b).iter().filter(|&&c| c == 6).count(), 1);
}

#[test]
fn a_bare_router_sends_no_router() {
    let b = offer(with(vec![opt(3, OptionValue::Empty)]), Some(&[1, 3, 6]));
    assert_eq!(option_value(&b, 3), None);
    assert!(option_value(&b, 6).is_some());
    // Without a request list too.
    let b = offer(with(vec![opt(3, OptionValue::Empty)]), None);
    assert_eq!(option_value(&b, 3), None);
}

#[test]
fn plain_options_go_when_asked_forced_ones_always() {
    let mut forced = opt(43, OptionValue::Text("ANDROID_METERED".into()));
    forced.force = true;
    let plain = opt(42, OptionValue::Addresses(vec![Ipv4Addr::new(10, 0, 0, 5)]));
    let c = with(vec![forced, plain]);
    let b = offer(c.clone(), Some(&[1, 3]));
    assert_eq!(option_value(&b, 43).unwrap(), b"ANDROID_METERED");
    assert_eq!(option_value(&b, 42), None);
    // Asked: in the client's order, the forced one after.
    let b = offer(c.clone(), Some(&[42, 3]));
    assert_eq!(option_order(&b), vec![53, 54, 51, 58, 59, 42, 3, 1, 43]);
    // No request list: everything.
    let b = offer(c, None);
    assert!(option_value(&b, 42).is_some() && option_value(&b, 43).is_some());
}

#[test]
fn classless_routes_leave_the_router_out_when_sent() {
    let routes = OptionValue::Routes(vec![
        (
            "10.1.0.0/16".parse().unwrap(),
            Ipv4Addr::new(192, 168, 26, 2),
        ),
        ("0.0.0.0/0".parse().unwrap(), Ipv4Addr::new(192, 168, 26, 1)),
    ]);
    let c = with(vec![opt(121, routes)]);
    let b = offer(c.clone(), Some(&[1, 3, 121]));
    assert_eq!(
        option_value(&b, 121).unwrap(),
        [16, 10, 1, 192, 168, 26, 2, 0, 192, 168, 26, 1]
    );
    assert_eq!(option_value(&b, 3), None);
    // A client that does not ask for 121 still gets its router.
    let b = offer(c, Some(&[1, 3]));
    assert_eq!(option_value(&b, 3).unwrap(), [192, 168, 26, 1]);
    assert_eq!(option_value(&b, 121), None);
}

#[test]
fn configured_t1_t2_replace_ours() {
    let c = with(vec![
        opt(58, OptionValue::U32(100)),
        opt(59, OptionValue::U32(200)),
    ]);
    let b = offer(c, Some(&[1, 58, 59]));
    assert_eq!(option_value(&b, 58).unwrap(), 100u32.to_be_bytes());
    assert_eq!(option_value(&b, 59).unwrap(), 200u32.to_be_bytes());
    assert_eq!(option_order(&b), vec![53, 54, 51, 58, 59, 1]);
}

#[test]
fn an_option_past_255_bytes_is_split() {
    let c = with(vec![opt(252, OptionValue::Bytes(vec![7; 300]))]);
    let b = offer(c, Some(&[252]));
    let order = option_order(&b);
    assert_eq!(order.iter().filter(|&&c| c == 252).count(), 2);
    assert_eq!(option_value(&b, 252).unwrap().len(), 255);
}

fn tagged(code: u8, last: u8, tags: Vec<TagMatch>) -> Dhcp4Option {
    Dhcp4Option {
        code,
        value: OptionValue::Addresses(vec![Ipv4Addr::new(10, 0, 0, last)]),
        force: false,
        tags,
    }
}

fn tag(s: &str) -> Tag {
    Tag(s.into())
}

#[test]
fn tagged_options_need_all_their_tags() {
    let options = vec![
        tagged(42, 1, vec![TagMatch::Is(tag("lan"))]),
        tagged(
            42,
            2,
            vec![TagMatch::Is(tag("lan")), TagMatch::Is(tag("db"))],
        ),
        tagged(
            44,
            3,
            vec![TagMatch::Is(tag("lan")), TagMatch::Not(tag("db"))],
        ),
        tagged(45, 4, vec![TagMatch::Is(tag("other"))]),
    ];
    // The range sets nothing: no tagged option applies.
    let b = offer(with(options.clone()), Some(&[42, 44, 45]));
    assert_eq!(option_value(&b, 42), None);
    // The range sets lan.
    let mut c = with(options);
    c.ranges[0].tags = vec![tag("lan")];
    let b = offer(c.clone(), Some(&[42, 44, 45]));
    assert_eq!(option_value(&b, 42).unwrap(), [10, 0, 0, 1]);
    assert_eq!(option_value(&b, 44).unwrap(), [10, 0, 0, 3]);
    assert_eq!(option_value(&b, 45), None);
    // The reservation adds db: the more specific 42 wins, 44 is out.
    c.reservations[0].tags = vec![tag("db")];
    let b = offer_to(c, c_reserved(), Some(&[42, 44, 45]));
    assert_eq!(option_value(&b, 42).unwrap(), [10, 0, 0, 2]);
    assert_eq!(option_value(&b, 44), None);
}

fn c_reserved() -> [u8; 6] {
    config().reservations[0].macs[0].octets
}

#[test]
fn rapid_commit_acks_a_discover_that_asks_for_it() {
    let mut c = config();
    c.rapid_commit = true;
    let mut s = Server::new(c, at(0), vec![]);
    let p = discover(mac(1)).opt(DhcpOption::RapidCommit);
    let ack = s.handle(at(0), &p.bytes()).unwrap();
    assert_eq!(ack.msg_type, MessageType::Ack);
    assert!(ack.needs_commit);
    assert_eq!(option_value(&ack.bytes, 80), Some(&[][..]));
    assert_eq!(
        std::iter::from_fn(|| s.poll_event())
            .map(|e| e.change)
            .collect::<Vec<_>>(),
        vec![LeaseChange::Added]
    );
    assert!(s.lease_by_addr(ack.yiaddr).is_some());
    s.check_invariants().unwrap();
    // Without option 80 in the DISCOVER: the usual OFFER, no option 80.
    let offer = s.handle(at(1), &discover(mac(2)).bytes()).unwrap();
    assert_eq!(offer.msg_type, MessageType::Offer);
    assert_eq!(option_value(&offer.bytes, 80), None);
}

#[test]
fn rapid_commit_is_off_unless_configured() {
    let mut s = Server::new(config(), at(0), vec![]);
    let p = discover(mac(1)).opt(DhcpOption::RapidCommit);
    let offer = s.handle(at(0), &p.bytes()).unwrap();
    assert_eq!(offer.msg_type, MessageType::Offer);
    assert_eq!(option_value(&offer.bytes, 80), None);
}

#[test]
fn ignoring_client_ids_keys_leases_by_mac() {
    let run = |ignore: bool| {
        let mut c = config();
        c.ignore_client_id = ignore;
        let mut s = Server::new(c, at(0), vec![]);
        let first = discover(mac(1)).opt(DhcpOption::ClientIdentifier(b"\x01one".to_vec()));
        let a = s.handle(at(0), &first.bytes()).unwrap().yiaddr;
        s.handle(at(0), &select(mac(1), a).bytes()).unwrap();
        // The same MAC, another client id (a cloned VM).
        let second = Packet::new(MessageType::Request, mac(1))
            .server_id(SERVER)
            .requested(a)
            .opt(DhcpOption::ClientIdentifier(b"\x01two".to_vec()));
        let reply = s.handle(at(1), &second.bytes()).unwrap();
        s.check_invariants().unwrap();
        (reply.msg_type, s.records())
    };
    let (t, records) = run(true);
    assert_eq!(t, MessageType::Ack);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].client_id, None);
    // Keyed by client id, the address belongs to the first one.
    let (t, _) = run(false);
    assert_eq!(t, MessageType::Nak);
}
