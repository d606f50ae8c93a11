//! The resolver the DNS targets run: local names from a lease and a hosts
//! file, an `--address` rule, `--server=/domain/` routes, a small cache.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netd_proto::dns::config::{AddressAnswer, AddressRule, DomainRoute, RouteTarget};
use netd_proto::dns::{DnsConfig, Hosts, RecordSpec, Resolver, Transport};
use netd_proto::names::{DhcpName, LocalNames};

pub const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 50);

/// A client, loopback, a stranger (refused), a client's IPv6 address.
pub const SOURCES: [IpAddr; 4] = [
    IpAddr::V4(CLIENT),
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2)),
    IpAddr::V6(Ipv6Addr::new(0xfd23, 0, 0, 0, 0, 0, 0, 0x50)),
];

/// Bit 0 of a frame's tag: TCP, else UDP.
pub fn transport(tag: u8) -> Transport {
    if tag & 1 == 1 {
        Transport::Tcp
    } else {
        Transport::Udp
    }
}

pub fn resolver() -> Resolver {
    let names = LocalNames::new(Some("lan"));
    names.set_dhcp(vec![DhcpName {
        hostname: "web".into(),
        addr: Ipv4Addr::new(192, 168, 26, 20),
        mac: [2, 0, 0, 0, 0, 1],
    }]);
    let mut hosts = Hosts::default();
    hosts.add_file(
        "hosts",
        "10.9.9.9 printer.example\nfd23::9 printer.example\n",
    );
    let config = DnsConfig {
        client_nets: vec![
            "192.168.26.0/24".parse().expect("a network"),
            "fd23::/64".parse().expect("a network"),
        ],
        domain: Some("lan".into()),
        cache: netd_proto::dns::cache::CacheLimits::for_entries(64, true),
        addresses: vec![
            AddressRule {
                domains: vec!["blocked.test".into()],
                answer: AddressAnswer::Unspecified,
            },
            AddressRule {
                domains: vec!["gone.test".into()],
                answer: AddressAnswer::NxDomain,
            },
        ],
        routes: vec![
            DomainRoute {
                domain: "corp".into(),
                target: RouteTarget::Servers(vec!["10.1.1.1:53".parse().expect("an address")]),
            },
            DomainRoute {
                domain: "local.test".into(),
                target: RouteTarget::Local,
            },
        ],
        records: vec![
            RecordSpec::Host {
                names: vec!["files.lan".into()],
                addrs: vec!["192.168.26.5".parse().expect("an address")],
                ttl: Some(60),
            },
            RecordSpec::Cname {
                aliases: vec!["www.lan".into()],
                target: "files.lan".into(),
                ttl: None,
            },
            RecordSpec::Cname {
                aliases: vec!["loop.lan".into()],
                target: "loop.lan".into(),
                ttl: None,
            },
            RecordSpec::Txt {
                name: "info.lan".into(),
                texts: vec![b"text".to_vec()],
            },
        ],
        ..DnsConfig::default()
    };
    Resolver::new(config, names, hosts)
}
