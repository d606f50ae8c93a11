//! What the fuzz targets share: a framing that splits one input into
//! several messages, and the configurations the cores run with.
//!
//! A framed input is a sequence of `[tag][length: u16, big-endian][body]`;
//! a length past the end takes what is left. Seeds use the same framing
//! (`examples/make_seeds.rs`), so libFuzzer starts from real exchanges.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use netd_proto::dhcp4::{Dhcp4Config, Dhcp4Range, LeaseTime, Reservation};

pub mod dns;
pub mod journal;

/// One frame of a framed input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub tag: u8,
    pub body: &'a [u8],
}

/// The frames of `data`, in order.
pub fn frames(mut data: &[u8]) -> impl Iterator<Item = Frame<'_>> {
    std::iter::from_fn(move || {
        let (&tag, rest) = data.split_first()?;
        let (len, rest) = match rest {
            [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
            _ => (rest.len(), &[][..]),
        };
        let (body, rest) = rest.split_at(len.min(rest.len()));
        data = rest;
        Some(Frame { tag, body })
    })
}

/// Writes `frames` in the framing [`frames`] reads.
pub fn frame(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

pub const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 1);

/// A small pool (.20 to .29), so that a few clients exhaust it, and one
/// reservation inside the subnet.
pub fn dhcp4_config() -> Dhcp4Config {
    Dhcp4Config {
        server_addr: SERVER,
        ranges: vec![
            Dhcp4Range {
                lease_time: LeaseTime::Finite(Duration::from_secs(3600)),
                ..Dhcp4Range::on_link(
                    "192.168.26.0/24".parse().expect("a subnet"),
                    SERVER,
                    Ipv4Addr::new(192, 168, 26, 20),
                    Ipv4Addr::new(192, 168, 26, 29),
                )
            },
            // A second subnet on the link, and one behind relays (any
            // giaddr in 10/8).
            Dhcp4Range::on_link(
                "172.20.0.0/24".parse().expect("a subnet"),
                Ipv4Addr::new(172, 20, 0, 1),
                Ipv4Addr::new(172, 20, 0, 10),
                Ipv4Addr::new(172, 20, 0, 12),
            ),
            Dhcp4Range {
                local: None,
                ..Dhcp4Range::on_link(
                    "10.0.0.0/8".parse().expect("a subnet"),
                    SERVER,
                    Ipv4Addr::new(10, 0, 0, 20),
                    Ipv4Addr::new(10, 0, 0, 29),
                )
            },
        ],
        dns_servers: vec![SERVER],
        domain: Some("lan".into()),
        mtu: Some(1400),
        options: Vec::new(),
        rapid_commit: false,
        ignore_client_id: false,
        reservations: vec![Reservation {
            hostname: Some("db".into()),
            lease_time: Some(LeaseTime::Infinite),
            ..Reservation::for_mac([0x52, 0x54, 0, 0, 0, 0x99], Ipv4Addr::new(192, 168, 26, 10))
        }],
        authoritative: true,
        decline_hold: Duration::from_secs(600),
    }
}

/// A fixed wall-clock start, as the unit tests use.
pub fn epoch() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_short_tail_is_kept() {
        let mut data = Vec::new();
        frame(&mut data, 1, b"abc");
        frame(&mut data, 2, b"");
        data.extend_from_slice(&[3, 0, 9, b'x']);
        let got: Vec<Frame<'_>> = frames(&data).collect();
        assert_eq!(
            got,
            [
                Frame {
                    tag: 1,
                    body: b"abc"
                },
                Frame { tag: 2, body: b"" },
                Frame { tag: 3, body: b"x" },
            ]
        );
        assert_eq!(frames(&[7]).next(), Some(Frame { tag: 7, body: b"" }));
    }
}
