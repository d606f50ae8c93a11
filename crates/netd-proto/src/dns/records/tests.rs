//! Local records and CHAOS names through the whole decision core: query
//! bytes in, reply bytes out, decoded with hickory-proto and checked.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, RecordType};

use super::{RecordSpec, SrvTarget};
use crate::dns::config::{DomainRoute, RouteTarget};
use crate::dns::resolver::{Decision, Resolver, Transport};
use crate::dns::{DnsConfig, Hosts};
use crate::names::{DhcpName, LocalNames};
use netd_testkit::dns_messages::{parse, query_bytes};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 26, 50));

fn specs() -> Vec<RecordSpec> {
    vec![
        RecordSpec::Host {
            names: vec!["files.lan".into(), "files".into()],
            addrs: vec!["192.168.26.5".parse().unwrap(), "fd23::5".parse().unwrap()],
            ttl: Some(300),
        },
        RecordSpec::Host {
            names: vec!["files.lan".into()],
            addrs: vec!["192.168.26.6".parse().unwrap()],
            ttl: None,
        },
        RecordSpec::Host {
            names: vec!["down.lan".into()],
            addrs: vec![],
            ttl: None,
        },
        RecordSpec::Cname {
            aliases: vec!["www.lan".into(), "ftp.lan".into()],
            target: "files.lan".into(),
            ttl: Some(60),
        },
        RecordSpec::Cname {
            aliases: vec!["site.lan".into()],
            target: "www.lan".into(),
            ttl: None,
        },
        RecordSpec::Cname {
            aliases: vec!["app.lan".into()],
            target: "web.lan".into(),
            ttl: None,
        },
        RecordSpec::Txt {
            name: "info.lan".into(),
            texts: vec![b"v=spf1 -all".to_vec(), b"second, with comma".to_vec()],
        },
        RecordSpec::Srv {
            name: "_ldap._tcp.lan".into(),
            target: Some(SrvTarget {
                host: "files.lan".into(),
                port: 389,
                priority: 10,
                weight: 5,
            }),
        },
        RecordSpec::Ptr {
            name: "_http._tcp.dns-sd.lan".into(),
            target: Some("web._http._tcp.lan".into()),
        },
        RecordSpec::Mx {
            name: "lan".into(),
            host: "files.lan".into(),
            preference: 20,
        },
    ]
}

fn resolver_with(f: impl FnOnce(&mut DnsConfig)) -> Resolver {
    let names = LocalNames::new(Some("lan"));
    names.set_dhcp(vec![DhcpName {
        hostname: "web".into(),
        addr: Ipv4Addr::new(192, 168, 26, 20),
        mac: [2, 0, 0, 0, 0, 1],
    }]);
    let mut config = DnsConfig {
        client_nets: vec!["192.168.26.0/24".parse().unwrap()],
        records: specs(),
        local_ttl: 7,
        hostname: Some("gateway".into()),
        ..DnsConfig::default()
    };
    f(&mut config);
    Resolver::new(config, names, Hosts::default())
}

fn ask_class(r: &mut Resolver, name: &str, qtype: RecordType, class: u16) -> Option<Message> {
    let mut q = query_bytes(0x77, name, u16::from(qtype), None);
    let at = q.len() - 2;
    q[at..].copy_from_slice(&class.to_be_bytes());
    let mut out = Vec::new();
    match r.handle_query(&q, CLIENT, Transport::Udp, Instant::now(), &mut out) {
        Decision::Reply => Some(parse(&out)),
        _ => None,
    }
}

fn ask(r: &mut Resolver, name: &str, qtype: RecordType) -> Option<Message> {
    ask_class(r, name, qtype, 1)
}

/// (owner, TTL, data) of each answer, owners without the trailing dot.
fn answers(m: &Message) -> Vec<(String, u32, RData)> {
    m.answers
        .iter()
        .map(|r| {
            let owner = r.name.to_ascii();
            (
                owner.trim_end_matches('.').to_owned(),
                r.ttl,
                r.data.clone(),
            )
        })
        .collect()
}

fn ip(s: &str) -> RData {
    match s.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => RData::A(v4.into()),
        IpAddr::V6(v6) => RData::AAAA(v6.into()),
    }
}

#[test]
fn host_record_answers_a_aaaa_and_ptr_to_its_first_name() {
    let mut r = resolver_with(|_| {});
    let m = ask(&mut r, "files.lan", RecordType::A).unwrap();
    assert!(m.metadata.authoritative);
    assert_eq!(
        answers(&m),
        [
            ("files.lan".into(), 300, ip("192.168.26.5")),
            ("files.lan".into(), 7, ip("192.168.26.6")),
        ]
    );
    let m = ask(&mut r, "FILES", RecordType::AAAA).unwrap();
    assert_eq!(answers(&m), [("files".into(), 300, ip("fd23::5"))]);
    let m = ask(&mut r, "5.26.168.192.in-addr.arpa", RecordType::PTR).unwrap();
    let [(_, ttl, RData::PTR(target))] = &answers(&m)[..] else {
        panic!("{m:?}")
    };
    assert_eq!((*ttl, target.0.to_ascii().as_str()), (300, "files.lan."));
    let v6 = format!("5.{}3.2.d.f.ip6.arpa", "0.".repeat(27));
    let m = ask(&mut r, &v6, RecordType::PTR).unwrap();
    assert_eq!(m.answers.len(), 1);
    // A type the host lacks: NODATA, not forwarded.
    let m = ask(&mut r, "files.lan", RecordType::MX).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    // An interface with no address: the name exists, empty.
    let m = ask(&mut r, "down.lan", RecordType::A).unwrap();
    assert_eq!(
        (m.metadata.response_code, m.answers.len()),
        (ResponseCode::NoError, 0)
    );
}

#[test]
fn cname_comes_with_its_local_target_records_and_chains() {
    let mut r = resolver_with(|_| {});
    let m = ask(&mut r, "www.lan", RecordType::A).unwrap();
    let got = answers(&m);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].0, "www.lan");
    assert_eq!(got[0].1, 60);
    let RData::CNAME(c) = &got[0].2 else {
        panic!("{got:?}")
    };
    assert_eq!(c.0.to_ascii(), "files.lan.");
    assert_eq!(got[1], ("files.lan".into(), 300, ip("192.168.26.5")));
    // Two links: site → www → files.
    let m = ask(&mut r, "site.lan", RecordType::A).unwrap();
    let kinds: Vec<RecordType> = m.answers.iter().map(|a| a.record_type()).collect();
    assert_eq!(
        kinds,
        [
            RecordType::CNAME,
            RecordType::CNAME,
            RecordType::A,
            RecordType::A
        ]
    );
    // To a DHCP name.
    let m = ask(&mut r, "app.lan", RecordType::A).unwrap();
    assert_eq!(answers(&m)[1], ("web.lan".into(), 7, ip("192.168.26.20")));
    // Asked for the CNAME itself: only it.
    let m = ask(&mut r, "ftp.lan", RecordType::CNAME).unwrap();
    assert_eq!(m.answers.len(), 1);
}

#[test]
fn txt_srv_ptr_and_mx_records() {
    let mut r = resolver_with(|_| {});
    let m = ask(&mut r, "info.lan", RecordType::TXT).unwrap();
    let [(_, 7, RData::TXT(t))] = &answers(&m)[..] else {
        panic!("{m:?}")
    };
    let strings: Vec<&[u8]> = t.txt_data.iter().map(|s| &s[..]).collect();
    assert_eq!(strings, [&b"v=spf1 -all"[..], &b"second, with comma"[..]]);
    let m = ask(&mut r, "_ldap._tcp.lan", RecordType::SRV).unwrap();
    let [(_, _, RData::SRV(s))] = &answers(&m)[..] else {
        panic!("{m:?}")
    };
    assert_eq!(
        (s.priority, s.weight, s.port, s.target.to_ascii().as_str()),
        (10, 5, 389, "files.lan.")
    );
    let m = ask(&mut r, "_http._tcp.dns-sd.lan", RecordType::PTR).unwrap();
    let [(_, _, RData::PTR(p))] = &answers(&m)[..] else {
        panic!("{m:?}")
    };
    assert_eq!(p.0.to_ascii(), "web._http._tcp.lan.");
    let m = ask(&mut r, "lan", RecordType::MX).unwrap();
    let [(_, _, RData::MX(mx))] = &answers(&m)[..] else {
        panic!("{m:?}")
    };
    assert_eq!(
        (mx.preference, mx.exchange.to_ascii().as_str()),
        (20, "files.lan.")
    );
    // A TXT name asked for A: NODATA, never forwarded (as dnsmasq).
    let m = ask(&mut r, "info.lan", RecordType::A).unwrap();
    assert_eq!(
        (m.metadata.response_code, m.answers.len()),
        (ResponseCode::NoError, 0)
    );
}

#[test]
fn local_domain_answers_its_records_and_nxdomain_for_the_rest() {
    let mut r = resolver_with(|c| {
        c.routes = vec![DomainRoute {
            domain: "lan".into(),
            target: RouteTarget::Local,
        }];
    });
    let m = ask(&mut r, "files.lan", RecordType::A).unwrap();
    assert_eq!(m.answers.len(), 2);
    let m = ask(&mut r, "nothing.lan", RecordType::A).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    // Other types at a TXT name: the name exists, NODATA.
    let m = ask(&mut r, "info.lan", RecordType::A).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

#[test]
fn local_ttl_applies_to_leases_and_records_without_their_own() {
    let mut r = resolver_with(|c| c.local_ttl = 600);
    let m = ask(&mut r, "web.lan", RecordType::A).unwrap();
    assert_eq!(answers(&m), [("web.lan".into(), 600, ip("192.168.26.20"))]);
    let m = ask(&mut r, "info.lan", RecordType::TXT).unwrap();
    assert_eq!(m.answers[0].ttl, 600);
    let m = ask(&mut r, "files.lan", RecordType::A).unwrap();
    assert_eq!(m.answers[0].ttl, 300, "its own TTL wins");
}

fn chaos_text(r: &mut Resolver, name: &str) -> Option<Vec<String>> {
    let m = ask_class(r, name, RecordType::TXT, 3)?;
    let rec = m.answers.first()?;
    assert_eq!(rec.dns_class, DNSClass::CH);
    let RData::TXT(t) = &rec.data else {
        panic!("{m:?}")
    };
    Some(
        t.txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
    )
}

#[test]
fn chaos_names_report_version_and_real_counters() {
    let mut r = resolver_with(|c| c.cache.entries = 150);
    assert_eq!(
        chaos_text(&mut r, "version.bind").unwrap(),
        [format!("nspawn-netd-{}", env!("CARGO_PKG_VERSION"))]
    );
    assert_eq!(chaos_text(&mut r, "hostname.bind").unwrap(), ["gateway"]);
    assert_eq!(chaos_text(&mut r, "cachesize.bind").unwrap(), ["150"]);
    assert_eq!(chaos_text(&mut r, "misses.bind").unwrap(), ["0"]);
    assert!(ask(&mut r, "upstream.example", RecordType::A).is_none());
    assert!(ask(&mut r, "other.example", RecordType::A).is_none());
    assert_eq!(chaos_text(&mut r, "misses.bind").unwrap(), ["2"]);
    assert_eq!(chaos_text(&mut r, "hits.bind").unwrap(), ["0"]);
    assert_eq!(chaos_text(&mut r, "insertions.bind").unwrap(), ["0"]);
    r.set_upstream_report(vec![crate::dns::upstream::UpstreamReport {
        addr: "10.0.0.1:53".parse().unwrap(),
        srtt: None,
        answers: 4,
        timeouts: 1,
        failing: 0,
    }]);
    assert_eq!(
        chaos_text(&mut r, "servers.bind").unwrap(),
        ["10.0.0.1#53 5 1"]
    );
    // Not one of ours: NOTIMP, never forwarded.
    let m = ask_class(&mut r, "nothing.bind", RecordType::TXT, 3).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NotImp);
}

#[test]
fn no_ident_turns_chaos_names_off() {
    let mut r = resolver_with(|c| c.no_ident = true);
    let m = ask_class(&mut r, "version.bind", RecordType::TXT, 3).unwrap();
    assert_eq!(
        (m.metadata.response_code, m.answers.len()),
        (ResponseCode::NotImp, 0)
    );
}

#[test]
fn cname_loops_end_after_a_bounded_chain() {
    let mut r = resolver_with(|c| {
        c.records.push(RecordSpec::Cname {
            aliases: vec!["a.loop".into()],
            target: "b.loop".into(),
            ttl: None,
        });
        c.records.push(RecordSpec::Cname {
            aliases: vec!["b.loop".into()],
            target: "a.loop".into(),
            ttl: None,
        });
    });
    let m = ask(&mut r, "a.loop", RecordType::A).unwrap();
    assert_eq!(m.answers.len(), super::MAX_CHAIN);
    assert!(
        m.answers
            .iter()
            .all(|a| a.record_type() == RecordType::CNAME)
    );
}
