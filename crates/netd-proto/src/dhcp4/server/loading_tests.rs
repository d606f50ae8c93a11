//! What the server accepts from the lease file and from clients that it
//! must be able to write back and read again.

use std::net::Ipv4Addr;

use crate::dhcp4::lease_file::{self, LeaseRecord, MAX_EXPIRY};
use crate::dhcp4::server::Server;
use crate::dhcp4::testkit::*;

fn rec(last: u8, expires: u64) -> LeaseRecord {
    LeaseRecord {
        expires,
        mac: mac(last),
        addr: Ipv4Addr::new(192, 168, 26, last),
        hostname: Some("web".into()),
        client_id: None,
    }
}

/// An expiry no `SystemTime` can hold panicked at start-up (adding it to
/// the epoch overflowed). A record built by hand, past the lease file's
/// own check, is dropped, and the far-future one that fits is kept.
#[test]
fn an_expiry_past_any_representable_time_is_dropped_not_a_panic() {
    let loaded = vec![
        rec(30, u64::MAX),
        rec(31, 1 << 63),
        rec(32, i64::MAX as u64),
        rec(33, MAX_EXPIRY),
    ];
    let s = Server::new(config(), at(0), loaded);
    let kept: Vec<(u8, u64)> = s
        .records()
        .iter()
        .map(|r| (r.addr.octets()[3], r.expires))
        .collect();
    assert_eq!(kept, [(33, MAX_EXPIRY)]);
    s.check_invariants().unwrap();
}

/// A record's hostname reaches DNS: a record built by hand is sanitised
/// like the lease file's lines and the clients' options.
#[test]
fn loaded_hostnames_are_sanitised() {
    let mut r = rec(30, 0);
    r.hostname = Some("evil name.example\n".into());
    let mut bare = rec(31, 0);
    bare.hostname = Some("..".into());
    let s = Server::new(config(), at(0), vec![r, bare]);
    let names: Vec<Option<String>> = s.records().into_iter().map(|r| r.hostname).collect();
    assert_eq!(names, [Some("evil-name".to_string()), None]);
}

/// A client identifier longer than one option (RFC 3396 concatenation)
/// would be written to the lease file and refused when read back: the
/// request is refused instead.
#[test]
fn a_client_id_longer_than_255_bytes_is_malformed() {
    // A message of type `t` with `extra` options and option 61 split in
    // chunks of `chunks` bytes.
    let packet = |t: u8, extra: &[u8], chunks: &[usize]| {
        let mut b = discover(mac(1)).bytes();
        b.truncate(240);
        b.extend_from_slice(&[53, 1, t]);
        b.extend_from_slice(extra);
        for &n in chunks {
            b.extend_from_slice(&[61, n as u8]);
            b.extend(std::iter::repeat_n(0xab, n));
        }
        b.push(255);
        b
    };
    let mut s = Server::new(config(), at(0), vec![]);
    assert!(s.handle(at(0), &packet(1, &[], &[200, 56])).is_none());
    assert_eq!(s.stats().malformed, 1);
    // The longest that is accepted is written and read back whole.
    let offer = s.handle(at(0), &packet(1, &[], &[200, 55])).unwrap();
    let [a, b, c, d] = offer.yiaddr.octets();
    let [e, f, g, h] = SERVER.octets();
    let select = packet(3, &[50, 4, a, b, c, d, 54, 4, e, f, g, h], &[200, 55]);
    assert!(s.handle(at(0), &select).is_some());
    let written = lease_file::format(&s.records());
    let (back, errors) = lease_file::parse(&written);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(back[0].client_id.as_ref().map(Vec::len), Some(255));
}
