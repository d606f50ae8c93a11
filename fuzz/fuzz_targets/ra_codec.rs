//! The RA and RS codec on arbitrary bytes: never a panic, and whatever
//! parses emits bytes of the announced length that parse back to the same.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use netd_proto::ra::wire::{RouterAdvert, RouterAdvertRepr, RouterSolicitRepr};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = RouterAdvert::new_checked(data)
        && let Ok(repr) = RouterAdvertRepr::parse(&packet)
    {
        let bytes = repr.emit();
        assert_eq!(bytes.len(), repr.buffer_len());
        let packet = RouterAdvert::new_checked(&bytes[..]).expect("an emitted RA checks");
        let again = RouterAdvertRepr::parse(&packet).expect("an emitted RA parses");
        assert_eq!(again, repr);
    }
    let link_local = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    for source in [link_local, Ipv6Addr::UNSPECIFIED] {
        for hop_limit in [255, 64] {
            if let Ok(rs) = RouterSolicitRepr::parse(data, source, hop_limit) {
                let bytes = rs.emit();
                assert_eq!(bytes.len(), rs.buffer_len());
                let again = RouterSolicitRepr::parse(&bytes, source, hop_limit);
                assert_eq!(again, Ok(rs));
            }
        }
    }
});
