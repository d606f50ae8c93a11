//! Packet transcripts of the stateless server.

use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode, Status};
use dhcproto::{Decodable, Decoder};

use crate::dhcp6::server::{Dhcp6Config, Dhcp6Server};

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

fn server(domains: &[&str]) -> Dhcp6Server {
    Dhcp6Server::new(Dhcp6Config {
        server_duid: Dhcp6Config::duid_ll(MAC),
        dns_servers: vec!["fd23::1".parse().unwrap()],
        search_domains: domains.iter().map(|d| d.to_string()).collect(),
        information_refresh_time: 86_400,
    })
    .unwrap()
}

/// An Information-Request as `dhclient -6 -S` sends it: xid 0x123456,
/// Client Identifier (DUID-LLT), Option Request (23, 24), Elapsed Time 0.
#[rustfmt::skip]
const INFO_REQUEST: [u8; 36] = [
    11, 0x12, 0x34, 0x56,
    0, 1, 0, 14, 0, 1, 0, 1, 0x2c, 0x5a, 0x1b, 0x2a, 0x02, 0, 0, 0, 0, 0x09,
    0, 6, 0, 4, 0, 23, 0, 24,
    0, 8, 0, 2, 0, 0,
];

#[rustfmt::skip]
const CLIENT_ID: [u8; 14] = [0, 1, 0, 1, 0x2c, 0x5a, 0x1b, 0x2a, 0x02, 0, 0, 0, 0, 0x09];

#[test]
fn information_request_gets_dns_search_list_and_refresh_time() {
    let mut s = server(&["lan"]);
    let reply = s.handle(&INFO_REQUEST).expect("a reply");
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[7u8, 0x12, 0x34, 0x56][..],
        // Client Identifier, echoed
        &[0, 1, 0, 14], &CLIENT_ID,
        // Server Identifier: DUID-LL, Ethernet, 02:00:00:00:00:01
        &[0, 2, 0, 10, 0, 3, 0, 1, 0x02, 0, 0, 0, 0, 0x01],
        // DNS servers: fd23::1
        &[0, 23, 0, 16, 0xfd, 0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        // Domain search list: lan.
        &[0, 24, 0, 5, 3, b'l', b'a', b'n', 0],
        // Information Refresh Time 86400
        &[0, 32, 0, 4, 0, 1, 0x51, 0x80],
    ]
    .concat();
    assert_eq!(reply, want);
    assert_eq!(s.stats.replies, 1);
}

#[test]
fn without_a_domain_there_is_no_search_list_and_irt_has_a_floor() {
    let mut s = Dhcp6Server::new(Dhcp6Config {
        server_duid: Dhcp6Config::duid_ll(MAC),
        dns_servers: vec![],
        search_domains: vec![],
        information_refresh_time: 60,
    })
    .unwrap();
    let reply = Message::decode(&mut Decoder::new(&s.handle(&INFO_REQUEST).unwrap())).unwrap();
    assert_eq!(reply.msg_type(), MessageType::Reply);
    assert!(reply.opts().get(OptionCode::DomainSearchList).is_none());
    assert!(reply.opts().get(OptionCode::DomainNameServers).is_none());
    // The decoder keeps option 32 as raw bytes: 600 s.
    let irt = reply.opts().get(OptionCode::InformationRefreshTime);
    match irt {
        Some(DhcpOption::Unknown(u)) => assert_eq!(u.data(), [0, 0, 2, 88]),
        Some(DhcpOption::InformationRefreshTime(t)) => assert_eq!(*t, 600),
        other => panic!("{other:?}"),
    }
}

#[test]
fn solicit_gets_an_advertise_with_only_no_addrs_avail() {
    let mut s = server(&[]);
    let mut solicit = INFO_REQUEST.to_vec();
    solicit[0] = 1;
    // IA_NA, IAID 1, T1 0, T2 0
    solicit.extend_from_slice(&[0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    let adv = Message::decode(&mut Decoder::new(&s.handle(&solicit).unwrap())).unwrap();
    assert_eq!(adv.msg_type(), MessageType::Advertise);
    assert_eq!(adv.xid(), [0x12, 0x34, 0x56]);
    let codes: Vec<OptionCode> = adv.opts().iter().map(OptionCode::from).collect();
    assert_eq!(
        codes,
        [
            OptionCode::ClientId,
            OptionCode::ServerId,
            OptionCode::StatusCode
        ]
    );
    match adv.opts().get(OptionCode::StatusCode) {
        Some(DhcpOption::StatusCode(sc)) => assert_eq!(sc.status, Status::NoAddrsAvail),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_and_foreign_messages_are_dropped_and_counted() {
    let mut s = server(&[]);
    // Undecodable.
    assert_eq!(s.handle(&[11, 0, 0]), None);
    assert_eq!(s.handle(&[11, 0, 0, 0, 0, 1, 0, 200]), None);
    assert_eq!(s.handle(&[11, 0, 0, 0, 0, 1]), None);
    // Information-Request carrying an IA_NA.
    let mut with_ia = INFO_REQUEST.to_vec();
    with_ia.extend_from_slice(&[0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(s.handle(&with_ia), None);
    // Solicit without a Client Identifier.
    assert_eq!(s.handle(&[1, 0, 0, 1, 0, 8, 0, 2, 0, 0]), None);
    assert_eq!(s.stats.malformed, 5);
    // For another server.
    let mut other = INFO_REQUEST.to_vec();
    other.extend_from_slice(&[0, 2, 0, 10, 0, 3, 0, 1, 9, 9, 9, 9, 9, 9]);
    assert_eq!(s.handle(&other), None);
    // Stateful messages a stateless server does not answer.
    let mut request = INFO_REQUEST.to_vec();
    request[0] = 3;
    assert_eq!(s.handle(&request), None);
    assert_eq!(s.stats.ignored, 2);
    assert_eq!(s.stats.replies, 0);
}

#[test]
fn a_bad_search_domain_is_a_config_error_naming_it() {
    let e = Dhcp6Server::new(Dhcp6Config {
        server_duid: Dhcp6Config::duid_ll(MAC),
        dns_servers: vec![],
        search_domains: vec!["a..b".into()],
        information_refresh_time: 600,
    })
    .unwrap_err();
    assert!(e.to_string().contains("a..b"), "{e}");
}

/// dhcproto's decoder subtracts 2 from a Status Code option's length (and
/// 4 from Vendor Class's) without checking it first: in a debug build a
/// client sending such an option panicked the server. Options the server
/// does not read are skipped whatever their length.
#[test]
fn short_options_the_server_does_not_read_are_skipped_not_a_panic() {
    let mut s = server(&[]);
    for code in [13u8, 16, 17, 7, 8, 20, 5, 26] {
        for len in 0u8..4 {
            // The short option first, then the usual ones.
            let mut msg = INFO_REQUEST[..4].to_vec();
            msg.extend_from_slice(&[0, code, 0, len]);
            msg.extend(std::iter::repeat_n(0u8, usize::from(len)));
            msg.extend_from_slice(&INFO_REQUEST[4..]);
            let reply = s.handle(&msg);
            assert!(reply.is_some(), "option {code} length {len}");
        }
    }
    assert_eq!(s.stats.malformed, 0);
}

/// A Status Code of length 0 followed by more options: the old decoder
/// read the status from the next option's header, then underflowed.
#[test]
fn a_status_code_of_length_zero_does_not_swallow_the_next_option() {
    let mut s = server(&[]);
    #[rustfmt::skip]
    let msg = [
        11, 0, 0, 1,
        0, 13, 0, 0,
        0, 1, 0, 14, 0, 1, 0, 1, 0x2c, 0x5a, 0x1b, 0x2a, 0x02, 0, 0, 0, 0, 0x09,
    ];
    let reply = Message::decode(&mut Decoder::new(&s.handle(&msg).unwrap())).unwrap();
    match reply.opts().get(OptionCode::ClientId) {
        Some(DhcpOption::ClientId(id)) => assert_eq!(id, &CLIENT_ID),
        other => panic!("the Client Identifier is not echoed: {other:?}"),
    }
}

/// RFC 8415 11.1: a DUID is a 2-octet type and 1 to 128 octets more. A
/// Client Identifier outside that is not a client we can answer.
#[test]
fn a_client_identifier_of_a_bad_length_is_malformed() {
    let mut s = server(&[]);
    for len in [0usize, 1, 2, 131] {
        let mut msg = vec![1, 0, 0, 1, 0, 1, 0, len as u8];
        msg.extend(std::iter::repeat_n(7u8, len));
        assert_eq!(s.handle(&msg), None, "length {len}");
    }
    assert_eq!(s.stats.malformed, 4);
}
