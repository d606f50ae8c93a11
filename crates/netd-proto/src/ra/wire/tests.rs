//! Codec tests: the bytes of a reference RA, round trips, malformed RS.

use std::net::Ipv6Addr;

use crate::ra::WireError;
use crate::ra::option::{DnsSearchList, Lifetime, PrefixInformation, RecursiveDnsServers};
use crate::ra::wire::{RouterAdvert, RouterAdvertRepr, RouterPreference, RouterSolicitRepr};

const LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

fn reference() -> RouterAdvertRepr {
    RouterAdvertRepr {
        cur_hop_limit: 64,
        other_config: true,
        router_lifetime: 1800,
        source_lladdr: Some([0x02, 0, 0, 0, 0, 0x01]),
        mtu: Some(1500),
        prefixes: vec![PrefixInformation {
            prefix: "fd23::".parse().unwrap(),
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: Lifetime(86_400),
            preferred_lifetime: Lifetime(86_400),
        }],
        rdnss: vec![RecursiveDnsServers {
            lifetime: Lifetime(1800),
            servers: vec!["fd23::1".parse().unwrap()],
        }],
        dnssl: vec![DnsSearchList {
            lifetime: Lifetime(1800),
            domains: vec!["lan".into()],
        }],
        ..Default::default()
    }
}

/// The reference RA, laid out by hand from RFC 4861 4.2/4.6 and RFC 8106 5.
#[rustfmt::skip]
const REFERENCE_BYTES: [u8; 104] = [
    // type 134, code 0, checksum 0, hop limit 64, flags O, lifetime 1800
    0x86, 0x00, 0x00, 0x00, 0x40, 0x40, 0x07, 0x08,
    // reachable time 0, retrans timer 0
    0, 0, 0, 0, 0, 0, 0, 0,
    // source link-layer address 02:00:00:00:00:01
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    // MTU 1500
    0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
    // prefix information: /64, L+A, valid 86400, preferred 86400, fd23::
    0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80,
    0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x00, 0x00,
    0xfd, 0x23, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0,
    // RDNSS, 3 units, lifetime 1800, fd23::1
    0x19, 0x03, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
    0xfd, 0x23, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1,
    // DNSSL, 2 units, lifetime 1800, "lan", padding
    0x1f, 0x02, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
    0x03, b'l', b'a', b'n', 0x00, 0x00, 0x00, 0x00,
];

#[test]
fn the_reference_ra_has_the_known_bytes() {
    let repr = reference();
    assert_eq!(repr.buffer_len(), REFERENCE_BYTES.len());
    assert_eq!(repr.emit(), REFERENCE_BYTES);
}

#[test]
fn the_reference_bytes_parse_to_the_reference_ra() {
    let view = RouterAdvert::new_checked(&REFERENCE_BYTES[..]).unwrap();
    assert_eq!(view.router_lifetime(), 1800);
    assert_eq!(view.cur_hop_limit(), 64);
    assert_eq!(RouterAdvertRepr::parse(&view).unwrap(), reference());
}

#[test]
fn round_trips_flags_preference_and_many_options() {
    let mut repr = reference();
    repr.managed = true;
    repr.preference = RouterPreference::High;
    repr.router_lifetime = 0;
    repr.reachable_time = 30_000;
    repr.retrans_time = 1000;
    repr.prefixes.push(PrefixInformation {
        prefix: "2001:db8:1::".parse().unwrap(),
        prefix_len: 64,
        on_link: true,
        autonomous: false,
        valid_lifetime: Lifetime::INFINITY,
        preferred_lifetime: Lifetime(0),
    });
    repr.rdnss[0].servers.push("fd23::53".parse().unwrap());
    repr.dnssl[0].domains.push("containers.example.org".into());
    let bytes = repr.emit();
    assert_eq!(bytes.len(), repr.buffer_len());
    let view = RouterAdvert::new_checked(&bytes[..]).unwrap();
    assert_eq!(RouterAdvertRepr::parse(&view).unwrap(), repr);
    // Empty DNS options are not emitted at all.
    let mut empty = reference();
    empty.rdnss[0].servers.clear();
    empty.dnssl[0].domains.clear();
    assert_eq!(empty.emit().len(), empty.buffer_len());
    assert_eq!(empty.buffer_len(), REFERENCE_BYTES.len() - 40);
    for pref in [RouterPreference::Low, RouterPreference::Medium] {
        repr.preference = pref;
        let bytes = repr.emit();
        let got = RouterAdvertRepr::parse(&RouterAdvert::new_checked(&bytes[..]).unwrap());
        assert_eq!(got.unwrap().preference, pref);
    }
}

#[test]
fn a_truncated_ra_is_refused_and_unknown_options_are_skipped() {
    assert_eq!(
        RouterAdvert::new_checked(&REFERENCE_BYTES[..15]).unwrap_err(),
        WireError::Truncated
    );
    let mut bytes = REFERENCE_BYTES.to_vec();
    bytes.extend_from_slice(&[200, 1, 1, 2, 3, 4, 5, 6]);
    let view = RouterAdvert::new_checked(&bytes[..]).unwrap();
    assert_eq!(RouterAdvertRepr::parse(&view).unwrap(), reference());
    // Every prefix of the message either parses or errors: none panics.
    for n in 0..bytes.len() {
        if let Ok(v) = RouterAdvert::new_checked(&bytes[..n]) {
            let _ = RouterAdvertRepr::parse(&v);
        }
    }
}

#[test]
fn rs_round_trip() {
    let rs = RouterSolicitRepr {
        source_lladdr: Some([2, 0, 0, 0, 0, 9]),
    };
    let bytes = rs.emit();
    assert_eq!(bytes.len(), rs.buffer_len());
    assert_eq!(RouterSolicitRepr::parse(&bytes, LL, 255).unwrap(), rs);
    let bare = RouterSolicitRepr {
        source_lladdr: None,
    };
    let got = RouterSolicitRepr::parse(&bare.emit(), Ipv6Addr::UNSPECIFIED, 255);
    assert_eq!(got.unwrap(), bare);
}

#[test]
fn malformed_rs_are_rejected() {
    let good = RouterSolicitRepr {
        source_lladdr: Some([2, 0, 0, 0, 0, 9]),
    }
    .emit();
    let parse = |b: &[u8], hop| RouterSolicitRepr::parse(b, LL, hop);
    assert_eq!(parse(&good, 64), Err(WireError::BadHopLimit(64)));
    assert_eq!(parse(&good[..7], 255), Err(WireError::Truncated));
    let mut bad_code = good.clone();
    bad_code[1] = 1;
    assert_eq!(parse(&bad_code, 255), Err(WireError::BadCode(1)));
    let mut not_rs = good.clone();
    not_rs[0] = 134;
    assert_eq!(parse(&not_rs, 255), Err(WireError::NotThisMessage(134)));
    // A zero-length option must be refused (and not loop).
    let mut zero = good.clone();
    zero[9] = 0;
    assert_eq!(parse(&zero, 255), Err(WireError::ZeroLengthOption));
    let mut zero_after = good.clone();
    zero_after.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(parse(&zero_after, 255), Err(WireError::ZeroLengthOption));
    // An option longer than the message.
    let mut long = good.clone();
    long[9] = 2;
    assert_eq!(parse(&long, 255), Err(WireError::Truncated));
    // A link-layer address from the unspecified source.
    assert_eq!(
        RouterSolicitRepr::parse(&good, Ipv6Addr::UNSPECIFIED, 255),
        Err(WireError::LinkLayerFromUnspecified)
    );
    // A link-layer option of the wrong size.
    let mut odd = vec![133, 0, 0, 0, 0, 0, 0, 0];
    odd.extend_from_slice(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(parse(&odd, 255), Err(WireError::BadOption(1)));
}

mod properties {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn lifetime() -> impl Strategy<Value = Lifetime> {
        any::<u32>().prop_map(Lifetime)
    }

    fn prefix() -> impl Strategy<Value = PrefixInformation> {
        (
            any::<u128>(),
            0u8..=128,
            any::<bool>(),
            any::<bool>(),
            lifetime(),
            lifetime(),
        )
            .prop_map(|(p, len, l, a, v, pr)| PrefixInformation {
                prefix: Ipv6Addr::from(p),
                prefix_len: len,
                on_link: l,
                autonomous: a,
                valid_lifetime: v,
                preferred_lifetime: pr,
            })
    }

    fn domain() -> impl Strategy<Value = String> {
        vec("[a-z0-9]{1,12}", 1..4).prop_map(|labels| labels.join("."))
    }

    fn advert() -> impl Strategy<Value = RouterAdvertRepr> {
        (
            (
                any::<u8>(),
                any::<bool>(),
                any::<bool>(),
                0u8..3,
                any::<u16>(),
            ),
            (
                any::<u32>(),
                any::<u32>(),
                any::<Option<[u8; 6]>>(),
                any::<Option<u32>>(),
            ),
            vec(prefix(), 0..4),
            vec((lifetime(), vec(any::<u128>(), 1..4)), 0..2),
            vec((lifetime(), vec(domain(), 1..4)), 0..2),
        )
            .prop_map(
                |((hop, m, o, pref, life), (reach, retrans, ll, mtu), prefixes, rdnss, dnssl)| {
                    RouterAdvertRepr {
                        cur_hop_limit: hop,
                        managed: m,
                        other_config: o,
                        preference: [
                            RouterPreference::Low,
                            RouterPreference::Medium,
                            RouterPreference::High,
                        ][usize::from(pref)],
                        router_lifetime: life,
                        reachable_time: reach,
                        retrans_time: retrans,
                        source_lladdr: ll,
                        mtu,
                        prefixes,
                        rdnss: rdnss
                            .into_iter()
                            .map(|(lifetime, s)| RecursiveDnsServers {
                                lifetime,
                                servers: s.into_iter().map(Ipv6Addr::from).collect(),
                            })
                            .collect(),
                        dnssl: dnssl
                            .into_iter()
                            .map(|(lifetime, domains)| DnsSearchList { lifetime, domains })
                            .collect(),
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn emit_then_parse_is_identity(repr in advert()) {
            let bytes = repr.emit();
            prop_assert_eq!(bytes.len(), repr.buffer_len());
            let view = RouterAdvert::new_checked(&bytes[..]).unwrap();
            prop_assert_eq!(RouterAdvertRepr::parse(&view).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..160), hop in any::<u8>()) {
            let _ = RouterSolicitRepr::parse(&bytes, LL, hop);
            let mut ra = bytes.clone();
            if ra.len() >= 2 {
                ra[0] = 134;
                ra[1] = 0;
            }
            if let Ok(view) = RouterAdvert::new_checked(&ra[..])
                && let Ok(repr) = RouterAdvertRepr::parse(&view)
            {
                // Whatever parsed re-parses the same after emit.
                let again = repr.emit();
                let v2 = RouterAdvert::new_checked(&again[..]).unwrap();
                prop_assert_eq!(RouterAdvertRepr::parse(&v2).unwrap(), repr);
            }
        }
    }
}
