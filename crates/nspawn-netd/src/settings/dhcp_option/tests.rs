use std::net::{Ipv4Addr, Ipv6Addr};

use netd_proto::dhcp4::{OptionValue, Tag, TagMatch};
use netd_proto::dhcp6::Option6Value;

use super::*;

fn v4(s: &str) -> Dhcp4Option {
    match parse_dhcp_option(s, false).unwrap() {
        DhcpOptionSpec::V4(o) => o,
        other => panic!("{other:?}"),
    }
}

fn reason(s: &str) -> String {
    let e = parse_dhcp_option(s, false).unwrap_err();
    assert!(
        e.to_string().starts_with(&format!("--dhcp-option={s}: ")),
        "{e}"
    );
    e.reason
}

#[test]
fn names_and_numbers_give_the_same_option() {
    assert_eq!(v4("option:router,10.0.0.1"), v4("3,10.0.0.1"));
    let o = v4("option:dns-server,10.0.0.1,0.0.0.0");
    assert_eq!(o.code, 6);
    assert_eq!(
        o.value,
        OptionValue::Addresses(vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::UNSPECIFIED])
    );
    assert_eq!(v4("option:mtu,1400").value, OptionValue::U16(1400));
    assert_eq!(v4("option:MTU,1400").code, 26);
    assert_eq!(v4("option:T1,100").code, 58);
}

#[test]
fn every_name_of_the_table_parses_to_its_code() {
    for &(code, name, kind) in table::V4 {
        let sample = match kind {
            Kind::Addrs => "10.0.0.1",
            Kind::Text | Kind::Bytes => "x",
            Kind::U8 | Kind::U16 | Kind::U32 | Kind::I32 | Kind::Bool => "1",
            Kind::Domains | Kind::Sip => "example.org",
            Kind::Routes => "10.0.0.0/8,10.0.0.1",
            Kind::Addrs6 => unreachable!(),
            Kind::Refused(_) => {
                assert!(parse_dhcp_option(&format!("option:{name},1"), false).is_err());
                continue;
            }
        };
        assert_eq!(v4(&format!("option:{name},{sample}")).code, code, "{name}");
    }
}

#[test]
fn a_bare_option_is_empty() {
    assert_eq!(v4("3").value, OptionValue::Empty);
    assert_eq!(v4("option:router").value, OptionValue::Empty);
    assert_eq!(v4("option:router,").value, OptionValue::Empty);
}

#[test]
fn force_is_recorded_and_named_in_errors() {
    match parse_dhcp_option("43,ANDROID_METERED", true).unwrap() {
        DhcpOptionSpec::V4(o) => {
            assert!(o.force);
            assert_eq!(o.code, 43);
            assert_eq!(o.value, OptionValue::Text("ANDROID_METERED".into()));
        }
        other => panic!("{other:?}"),
    }
    let e = parse_dhcp_option("option:bogus,1", true).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--dhcp-option-force=option:bogus,1: "),
        "{e}"
    );
}

#[test]
fn typed_values() {
    assert_eq!(
        v4("119,example.org,lab.example.org").value,
        OptionValue::Domains(vec!["example.org".into(), "lab.example.org".into()])
    );
    assert_eq!(
        v4("121,10.0.0.0/8,192.168.1.1,192.168.2.3,0.0.0.0").value,
        OptionValue::Routes(vec![
            ("10.0.0.0/8".parse().unwrap(), Ipv4Addr::new(192, 168, 1, 1)),
            ("192.168.2.3/32".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
        ])
    );
    assert_eq!(v4("19,1").value, OptionValue::Bool(true));
    assert_eq!(
        v4("option:time-offset,-3600").value,
        OptionValue::I32(-3600)
    );
    assert_eq!(
        v4("option:domain-name,\"a,b\"").value,
        OptionValue::Text("a,b".into())
    );
    assert_eq!(
        v4("option:sip-server,1.2.3.4").value,
        OptionValue::SipAddresses(vec![Ipv4Addr::new(1, 2, 3, 4)])
    );
}

#[test]
fn unnamed_numbers_take_the_value_as_it_looks() {
    assert_eq!(
        v4("252,10.0.0.1").value,
        OptionValue::Addresses(vec![Ipv4Addr::new(10, 0, 0, 1)])
    );
    assert_eq!(v4("252,01:ff").value, OptionValue::Bytes(vec![1, 255]));
    assert_eq!(v4("252,7").value, OptionValue::U8(7));
    assert_eq!(v4("252,700").value, OptionValue::U16(700));
    assert_eq!(
        v4("252,hello world").value,
        OptionValue::Text("hello world".into())
    );
}

#[test]
fn tags_in_front() {
    let o = v4("tag:green,tag:!red,net:blue,option:router,10.0.0.1");
    assert_eq!(
        o.tags,
        vec![
            TagMatch::Is(Tag("green".into())),
            TagMatch::Not(Tag("red".into())),
            TagMatch::Is(Tag("blue".into())),
        ]
    );
    assert_eq!(o.code, 3);
}

#[test]
fn option6_names_numbers_and_the_servers_address() {
    match parse_dhcp_option("option6:dns-server,[::],[fd00::53]", true).unwrap() {
        DhcpOptionSpec::V6 { option, force } => {
            assert!(force);
            assert_eq!(option.code, 23);
            assert_eq!(
                option.value,
                Option6Value::Addresses(vec![Ipv6Addr::UNSPECIFIED, "fd00::53".parse().unwrap()])
            );
        }
        other => panic!("{other:?}"),
    }
    match parse_dhcp_option("option6:24,example.org", false).unwrap() {
        DhcpOptionSpec::V6 { option, .. } => {
            assert_eq!(
                option.value,
                Option6Value::Domains(vec!["example.org".into()])
            );
        }
        other => panic!("{other:?}"),
    }
    for &(_, name, kind) in table::V6 {
        let sample = match kind {
            Kind::Addrs6 => "[fd00::1]",
            Kind::Domains => "example.org",
            Kind::Text => "x",
            Kind::U32 => "600",
            _ => {
                assert!(parse_dhcp_option(&format!("option6:{name},1"), false).is_err());
                continue;
            }
        };
        parse_dhcp_option(&format!("option6:{name},{sample}"), false).unwrap();
    }
}

#[test]
fn errors_name_the_problem() {
    assert!(reason("option:nonsense,1").contains("nonsense"));
    assert!(reason("option6:nonsense,1").contains("nonsense"));
    assert!(reason("300,1").contains("300"));
    assert!(reason("encap:175,1,1").contains("encap:"));
    assert!(reason("vendor:PXEClient,1,1").contains("vendor:"));
    assert!(reason("vi-encap:1,1,1").contains("vi-encap:"));
    assert!(reason("set:x,3").contains("set:"));
    assert!(reason("option:router,10.0.0.300").contains("10.0.0.300"));
    assert!(reason("option:mtu,70000").contains("70000"));
    assert!(reason("option:mtu,1,2").contains("one value"));
    assert!(reason("option:ip-forward-enable,maybe").contains("maybe"));
    assert!(reason("121,10.0.0.0/8").contains("pairs"));
    assert!(reason("121,10.0.0.0/33,1.1.1.1").contains("10.0.0.0/33"));
    assert!(reason("119,bad..name").contains("bad..name"));
    assert!(reason("53,1").contains("53"));
    assert!(reason("option:rapid-commit").contains("--dhcp-rapid-commit"));
    assert!(reason("option:server-ip-address,1.2.3.4").contains("siaddr"));
    assert!(reason("tag:,3").contains("tag name"));
    assert!(reason("tag:x").contains("no option"));
    assert!(reason("option6:dns-server,10.0.0.1").contains("IPv6"));
    assert!(reason("tag:x,option6:dns-server,[::]").contains("tags"));
}
