//! Every option value parser on arbitrary text: never a panic. The first
//! byte picks the parser, the rest is the value. A `--dhcp-option` that
//! parses is also encoded, as a reply would carry it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nspawn_netd::settings::dhcp_option::{DhcpOptionSpec, parse_dhcp_option};
use nspawn_netd::settings::{dhcp_host, dhcp_range, dns_values, ipv6_range, values};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 11 {
        0 => drop(values::dhcp_range(s)),
        1 => drop(values::dhcp_host(s)),
        2 => drop(values::server(s)),
        3 => drop(values::address(s)),
        4 => drop(values::ra_param(s)),
        5 => drop(values::any_path(s)),
        6 => drop(ipv6_range::parse_ipv6_range(s)),
        7 => drop(dhcp_range::parse_lease_time(s)),
        8 => drop(dns_values::parse_upstream(s)),
        10 => match parse_dhcp_option(s, which & 0x80 != 0) {
            Ok(DhcpOptionSpec::V4(o)) => drop(o.value.payload([10, 0, 0, 1].into())),
            Ok(DhcpOptionSpec::V6 { option, .. }) => {
                drop(option.value.payload(std::net::Ipv6Addr::LOCALHOST))
            }
            Err(_) => {}
        },
        _ => drop(dhcp_host::parse_mac(s)),
    }
});
