use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn host_records_with_names_addresses_and_ttl() {
    assert_eq!(
        host_record("Laptop,laptop.lan.,192.168.0.5,fd00::5,300").unwrap(),
        RecordSpec::Host {
            names: vec!["laptop".into(), "laptop.lan".into()],
            addrs: vec![ip("192.168.0.5"), ip("fd00::5")],
            ttl: Some(300),
        }
    );
    assert_eq!(
        host_record("gw,,fd00::1").unwrap(),
        RecordSpec::Host {
            names: vec!["gw".into()],
            addrs: vec![ip("fd00::1")],
            ttl: None,
        }
    );
    for bad in [
        "name",
        "1.2.3.4",
        "a,1.2.3.4,1.2.3.5",
        "a,1.2.3.4,x",
        "a b,1.2.3.4",
    ] {
        assert!(host_record(bad).is_err(), "{bad}");
    }
}

#[test]
fn cnames_txt_srv_ptr_mx() {
    assert_eq!(
        cname("www,ftp,files.lan,60").unwrap(),
        RecordSpec::Cname {
            aliases: vec!["www".into(), "ftp".into()],
            target: "files.lan".into(),
            ttl: Some(60),
        }
    );
    assert!(cname("alone").is_err());
    assert!(cname("a,a").is_err());
    assert_eq!(
        txt_record(r#"info.lan,"v=spf1, -all",plain,"say \"hi\"""#).unwrap(),
        RecordSpec::Txt {
            name: "info.lan".into(),
            texts: vec![
                b"v=spf1, -all".to_vec(),
                b"plain".to_vec(),
                b"say \"hi\"".to_vec()
            ],
        }
    );
    let RecordSpec::Txt { texts, .. } = txt_record(&format!("t,{}", "x".repeat(300))).unwrap()
    else {
        panic!()
    };
    assert_eq!(texts.iter().map(Vec::len).collect::<Vec<_>>(), [255, 45]);
    assert!(txt_record("t,\"open").is_err());
    assert_eq!(
        srv_host("_ldap._tcp.lan,files.lan,389,10,5").unwrap(),
        RecordSpec::Srv {
            name: "_ldap._tcp.lan".into(),
            target: Some(SrvTarget {
                host: "files.lan".into(),
                port: 389,
                priority: 10,
                weight: 5
            }),
        }
    );
    let RecordSpec::Srv { target, .. } = srv_host("_x._udp,t").unwrap() else {
        panic!()
    };
    assert_eq!(
        target.map(|t| (t.port, t.priority, t.weight)),
        Some((1, 0, 0))
    );
    assert_eq!(
        srv_host("_x._udp.lan").unwrap(),
        RecordSpec::Srv {
            name: "_x._udp.lan".into(),
            target: None
        }
    );
    assert!(srv_host("_x._udp,t,99999").is_err());
    assert_eq!(
        ptr_record("_http._tcp.lan,web._http._tcp.lan").unwrap(),
        RecordSpec::Ptr {
            name: "_http._tcp.lan".into(),
            target: Some("web._http._tcp.lan".into()),
        }
    );
    let mx = |host: &str, preference| RecordSpec::Mx {
        name: "lan".into(),
        host: host.into(),
        preference,
    };
    assert_eq!(mx_host("lan").unwrap(), mx("", 1));
    assert_eq!(mx_host("lan,mail.lan").unwrap(), mx("mail.lan", 1));
    assert_eq!(mx_host("lan,5").unwrap(), mx("", 5));
    assert_eq!(mx_host("lan,mail.lan,20").unwrap(), mx("mail.lan", 20));
    assert!(mx_host("lan,mail,x").is_err());
}

#[test]
fn interface_names_rev_servers_and_domains() {
    assert_eq!(
        interface_name("_gateway.incus,incusbr0").unwrap(),
        InterfaceName {
            name: "_gateway.incus".into(),
            interface: "incusbr0".into(),
            family: None
        }
    );
    assert_eq!(interface_name("gw,br0/6").unwrap().family, Some(Family::V6));
    assert!(interface_name("gw,br0/5").is_err());
    assert!(interface_name("gw").is_err());
    assert_eq!(
        rev_server("10.1.2.0/24,10.0.0.1#1053").unwrap(),
        ServerSpec::Domains(
            vec!["2.1.10.in-addr.arpa".into()],
            RouteTarget::Servers(vec!["10.0.0.1:1053".parse().unwrap()])
        )
    );
    assert_eq!(
        rev_server("fd00:1::/32,fd00::53").unwrap(),
        ServerSpec::Domains(
            vec!["1.0.0.0.0.0.d.f.ip6.arpa".into()],
            RouteTarget::Servers(vec!["[fd00::53]:53".parse().unwrap()])
        )
    );
    assert_eq!(
        rev_server("10.1.2.3,10.0.0.1").unwrap(),
        ServerSpec::Domains(
            vec!["3.2.1.10.in-addr.arpa".into()],
            RouteTarget::Servers(vec!["10.0.0.1:53".parse().unwrap()])
        )
    );
    assert!(rev_server("10.1.0.0/20,10.0.0.1").is_err());
    assert!(domain("lan,192.168.0.0/24,local").is_err());
    assert_eq!(domain("lan").unwrap(), "lan");
}
